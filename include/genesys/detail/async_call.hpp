// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DETAIL_ASYNC_CALL_HPP
#define GENESYS_DETAIL_ASYNC_CALL_HPP

// The asynchronous call operation: the composed operation that drives the step machine
// (`call_machine`, the same as the blocking API's) with `async_send`, timers and `async_token`,
// and what turns its outcome into an operation's result. Used by `async_tokens_api`,
// `oauth_client`'s asynchronous grants and `token_validator::async_validate`.

#include <genesys/async_token.hpp>
#include <genesys/async_transport.hpp>
#include <genesys/detail/call_machine.hpp>
#include <genesys/detail/client_core.hpp>
#include <genesys/detail/outcome.hpp>
#include <genesys/error.hpp>
#include <genesys/http.hpp>
#include <genesys/result.hpp>
#include <genesys/routes.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/system/error_code.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace genesys::detail {

/// Whether `Executor` runs one function at a time (a strand): an operation whose handler is bound
/// to one needs no strand of its own.
template <class Executor>
struct is_strand : std::false_type {};
template <class Executor>
struct is_strand<boost::asio::strand<Executor>> : std::true_type {};

/// The state of one asynchronous call, at a stable address: the request the transport reads,
/// the machine, and what turns its outcome into the operation's result.
///
/// Allocated with `std::allocator`, not the handler's associated allocator: it is made when the
/// operation is initiated with a completion token, before Asio turns the token into a handler (a
/// `deferred` or awaitable operation gets its handler later), and it is one allocation per call.
template <class Transport, class Finish>
struct async_call_state {
    using io_executor_type = std::decay_t<decltype(std::declval<Transport&>().get_executor())>;

    async_call_state(std::shared_ptr<void> owner_, Transport& transport_, Finish finish_)
        : owner(std::move(owner_)), transport(&transport_), finish(std::move(finish_))
    {
    }

    std::shared_ptr<void> owner; // keeps the client (its transport and configuration) alive
    Transport* transport;
    Finish finish;
    http_request request;
    std::optional<error> rejected; // before sending
    call_settings settings;
    std::optional<call_machine> machine;
    std::optional<boost::asio::steady_timer> retry_timer;
    std::optional<boost::asio::steady_timer> deadline_timer;
    boost::asio::cancellation_signal inner; // the step under way: the caller's cancellation and the deadline
    bool deadline_passed = false;
    // The steps and the deadline of a call with a `call_timeout` whose handler is not on a strand:
    // the deadline's timer may otherwise complete on one I/O thread while a step runs on another.
    // Type-erased, as a transport's executor usually is: a transport then sees the handlers it is
    // given bound to an executor it knows (a work guard on a `strand<any_io_executor>` does not
    // compile in Asio 1.26).
    std::optional<boost::asio::any_io_executor> strand;
};

/// The composed operation that drives a `call_machine` with `async_send`, timers and `async_token`.
template <class Transport, class Finish>
class async_call_op {
public:
    using state_type = async_call_state<Transport, Finish>;

    explicit async_call_op(std::shared_ptr<state_type> st) noexcept : st_(std::move(st)) {}

    /// Start; start again on the call's own strand; or resume after the post that keeps an
    /// immediate outcome from completing inline.
    template <class Self>
    void operator()(Self& self)
    {
        state_type& st = *st_;
        if (completing_) // resumed by our own post
            return complete(self);
        if (st.rejected)
            return suspend_to_complete(self);
        if (const auto deadline = st.settings.timeout; deadline.count() > 0) {
            // The deadline runs where the steps run, one at a time with them: on the handler's
            // strand (or a transport's executor that is one), else on a strand of the I/O
            // executor made for the call, where the call first moves.
            constexpr bool serialized = is_strand<std::decay_t<decltype(self.get_executor())>>::value ||
                                        is_strand<typename state_type::io_executor_type>::value;
            if constexpr (!serialized) {
                if (!st.strand) {
                    auto& strand = st.strand.emplace(boost::asio::make_strand(st.transport->get_executor()));
                    suspended_ = true; // resumed from the post: not inline any more
                    return boost::asio::post(strand, boost::asio::bind_executor(strand, std::move(self)));
                }
            }
            st.deadline_timer.emplace(st.transport->get_executor(), deadline);
            // Weak: the end of a cancelled wait may run after the io_context is gone, and must
            // not be what destroys the state then.
            auto on_deadline = [weak = std::weak_ptr(st_)](auto ec) {
                auto keep = weak.lock();
                if (ec || !keep)
                    return; // cancelled: the call ended first
                keep->deadline_passed = true;
                keep->inner.emit(boost::asio::cancellation_type::terminal);
            };
            if (st.strand)
                st.deadline_timer->async_wait(boost::asio::bind_executor(*st.strand, std::move(on_deadline)));
            else
                st.deadline_timer->async_wait(boost::asio::bind_executor(self.get_executor(), std::move(on_deadline)));
        }
        step(self, st.machine->start());
    }

    /// The transport's answer.
    template <class Self>
    void operator()(Self& self, boost::system::error_code ec, http_response res)
    {
        suspended_ = true;
        call_machine& m = *st_->machine;
        if (const auto ended = interrupted(self))
            return step(self, *ended);
        if (ec) // the transport's own words about the failure, if it has any, are in the body
            return step(self, m.on_response(boost::system::result<http_response>(ec), std::move(res.body)));
        step(self, m.on_response(std::move(res), {}));
    }

    /// The end of a retry wait.
    template <class Self>
    void operator()(Self& self, boost::system::error_code)
    {
        suspended_ = true;
        if (const auto ended = interrupted(self))
            return step(self, *ended);
        step(self, st_->machine->on_waited());
    }

    /// A token from the source.
    template <class Self>
    void operator()(Self& self, result<std::string> token)
    {
        suspended_ = true;
        if (const auto ended = interrupted(self))
            return step(self, *ended);
        step(self, st_->machine->on_token(std::move(token)));
    }

private:
    /// The machine's end when the deadline passed or the caller cancelled during the step.
    template <class Self>
    std::optional<call_action> interrupted(Self& self)
    {
        if (st_->deadline_passed)
            return st_->machine->abort_deadline();
        if (self.get_cancellation_state().cancelled() != boost::asio::cancellation_type::none)
            return st_->machine->abort(boost::system::error_code(boost::asio::error::operation_aborted),
                                       "the operation was cancelled");
        return std::nullopt;
    }

    /// Forwards the caller's cancellation to the step under way. Asio clears the composed
    /// operation's slot on every resumption, so this is done before each step.
    template <class Self>
    void forward_cancellation(Self& self)
    {
        auto outer = self.get_cancellation_state().slot();
        if (outer.is_connected())
            outer.assign([s = st_.get()](boost::asio::cancellation_type type) { s->inner.emit(type); });
    }

    template <class Self>
    void step(Self& self, call_action a)
    {
        state_type& st = *st_;
        call_machine& m = *st.machine;
        if (a != call_action::done)
            forward_cancellation(self);
        for (;;) {
            switch (a) {
            case call_action::get_token:
                if (auto fresh = m.token_source().fresh_token()) {
                    a = m.on_token(std::move(*fresh));
                    continue;
                }
                return async_wait_token(self);
            case call_action::send:
                return next_step(self, [&st, &m](auto&& handler) {
                    st.transport->async_send(m.request(), std::forward<decltype(handler)>(handler));
                });
            case call_action::wait:
                if (!st.retry_timer)
                    st.retry_timer.emplace(st.transport->get_executor());
                st.retry_timer->expires_after(m.wait_time());
                return next_step(self, [&st](auto&& handler) {
                    st.retry_timer->async_wait(std::forward<decltype(handler)>(handler));
                });
            case call_action::done:
                if (!suspended_)
                    return suspend_to_complete(self);
                return complete(self);
            }
        }
    }

    /// Waits for the call's token with `async_token`, as the next step.
    template <class Self>
    void async_wait_token(Self& self)
    {
        state_type& st = *st_; // `self` holds `st_`: nothing may read it once `self` is moved
        next_step(self, [&st](auto&& handler) {
            genesys::async_token(st.machine->token_source(), st.transport->get_executor(),
                                 std::forward<decltype(handler)>(handler));
        });
    }

    /// Starts the next step with `self` as its handler: cancelled through `inner`, and bound to
    /// the call's strand when it has one. `initiate` must not read `self` (it is moved).
    template <class Self, class Initiate>
    void next_step(Self& self, Initiate&& initiate)
    {
        state_type& st = *st_; // `self` holds `st_`: read nothing through it once `self` is moved
        auto handler = boost::asio::bind_cancellation_slot(st.inner.slot(), std::move(self));
        if (st.strand)
            initiate(boost::asio::bind_executor(*st.strand, std::move(handler)));
        else
            initiate(std::move(handler));
    }

    /// Nothing was waited for yet: complete from a post, never inline from the initiating call.
    template <class Self>
    void suspend_to_complete(Self& self)
    {
        suspended_ = true;
        completing_ = true;
        auto ex = st_->transport->get_executor(); // before `self` (which holds `st_`) is moved
        boost::asio::post(ex, std::move(self));
    }

    template <class Self>
    void complete(Self& self)
    {
        state_type& st = *st_;
        // The timers go before the handler runs (destroying one cancels its wait): the state may
        // outlive the io_context on the handler's executor.
        st.deadline_timer.reset();
        st.retry_timer.reset();
        auto outer = self.get_cancellation_state().slot();
        if (outer.is_connected())
            outer.clear();
        auto r = st.rejected ? decltype(st.finish(std::declval<outcome<http_response>>(), {}))(std::move(*st.rejected))
                             : st.finish(st.machine->take_outcome(), st.machine->secret());
        auto keep = std::move(st_); // the state (and the client) live until the handler has run
        if (!keep->strand)
            return self.complete(std::move(r)); // already on the handler's executor
        // The steps ran on the call's strand: the handler runs on its own executor (dispatched,
        // as Asio completes an operation from an intermediate step).
        auto ex = self.get_executor();
        boost::asio::dispatch(ex, [self = std::move(self), r = std::move(r), keep = std::move(keep)]() mutable {
            self.complete(std::move(r));
        });
    }

    std::shared_ptr<state_type> st_;
    bool suspended_ = false;  // a step was waited for: completing now is not inline
    bool completing_ = false; // posted to complete
};

/// Starts a composed call whose state `st` is ready (request prepared, or `rejected` set).
template <class Signature, class Transport, class Finish, class CompletionToken>
auto start_async_call(std::shared_ptr<async_call_state<Transport, Finish>> st, CompletionToken&& token)
{
    if (!st->rejected)
        st->machine.emplace(st->settings, st->request);
    auto ex = st->transport->get_executor();
    return boost::asio::async_compose<CompletionToken, Signature>(async_call_op<Transport, Finish>(std::move(st)),
                                                                  token, ex);
}

/// What ends a Tokens operation: the final response decoded as `Response`.
template <class Response>
struct finish_api_call {
    std::string_view operation;
    response_limits limits;

    result<api_response<Response>> operator()(outcome<http_response>&& sent, std::string_view secret) const
    {
        return to_api_response<Response>(operation, std::move(sent), secret, limits).to_result();
    }
};

/// What ends `verify_token`: `headTokensMe`'s answer as a verdict.
struct finish_verify_call {
    response_limits limits;

    result<api_response<bool>> operator()(outcome<http_response>&& sent, std::string_view secret) const
    {
        return to_verdict(
                   to_api_response<void>(routes::head_tokens_me.operation_id, std::move(sent), secret, limits))
            .to_result();
    }
};

} // namespace genesys::detail

#endif
