// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_ASYNC_HPP
#define GENESYS_ASYNC_HPP

/// @file
/// The asynchronous API on Boost.Asio: `async_tokens_api`, `async_token`, and the asynchronous
/// grants of `oauth_client`.
///
/// Every operation runs the same step machine as the blocking API (`detail::call_machine`):
/// the checks, the token, the 401-refresh-once rule, retries, the deadline, logging, errors and
/// decoding are the same; only the waiting differs (`async_send` and timers, never a blocked
/// thread). Header-only Asio: link threads (`Threads::Threads`; CMake target
/// `genesys::tokens_async`).

#include <genesys/async_transport.hpp>
#include <genesys/client_config.hpp>
#include <genesys/detail/async_post.hpp>
#include <genesys/detail/call_machine.hpp>
#include <genesys/detail/client_core.hpp>
#include <genesys/detail/outcome.hpp>
#include <genesys/error.hpp>
#include <genesys/http.hpp>
#include <genesys/models/idle_token_timeout.hpp>
#include <genesys/models/token_info.hpp>
#include <genesys/oauth.hpp>
#include <genesys/result.hpp>
#include <genesys/routes.hpp>
#include <genesys/testing/async_fake_transport.hpp>
#include <genesys/token_source.hpp>
#include <genesys/tokens_api.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace genesys {

namespace detail {

/// Waits for a token of a `token_source` as a completion handler: answered by the fetch, or
/// ended by its own wait timeout or by cancellation, whichever comes first.
template <class Handler, class Executor>
class async_token_waiter final : public token_waiter,
                                 public std::enable_shared_from_this<async_token_waiter<Handler, Executor>> {
public:
    using handler_executor = boost::asio::associated_executor_t<Handler, Executor>;

    async_token_waiter(token_source& source, Handler handler, const Executor& ex)
        : source_(source), keep_(source.weak_from_this().lock()), handler_(std::move(handler)),
          work_(boost::asio::get_associated_executor(handler_, ex)), io_ex_(ex)
    {
    }

    void start()
    {
        auto self = this->shared_from_this();
        // Once the waiter is registered (or withdrawn by its cancellation), its answer may be
        // completed on another thread at any moment: `complete` waits for this setup to end
        // before it touches the timer and the slot.
        std::lock_guard setup(setup_);
        slot_ = boost::asio::get_associated_cancellation_slot(handler_);
        if (slot_.is_connected()) {
            // `this` is alive: the slot is cleared before the handler is called. Withdrawing may
            // drop the source's reference, the last one: hold one while answering.
            slot_.assign([this](boost::asio::cancellation_type) {
                auto keep = this->shared_from_this();
                if (source_.withdraw(*this))
                    deliver(network_failure(request_token_operation,
                                            boost::system::error_code(boost::asio::error::operation_aborted),
                                            "the wait for a token was cancelled", {}));
            });
        }
        // Registered first, then timed: a timer that fired before the waiter was registered
        // answered it once, and registering answered it again. Only a wait for a fetch another
        // call started is bounded by `wait_timeout`; the caller that starts the fetch waits for
        // its outcome (bounded by the grant's own `call_timeout`, and by its cancellation).
        const bool joined = source_.wait_async(self);
        const auto timeout = source_.options().wait_timeout;
        if (joined && timeout < std::chrono::milliseconds::max() / 2) { // longer: no limit
            timer_.emplace(io_ex_, std::max(timeout, std::chrono::milliseconds(0)));
            // On the I/O executor, not the handler's: the end of a cancelled wait then never
            // outlives the io_context (withdraw and deliver may be called from any thread).
            timer_->async_wait([self = std::move(self)](boost::system::error_code ec) {
                if (!ec && self->source_.withdraw(*self))
                    self->deliver(self->source_.wait_timed_out());
            });
        }
    }

    void deliver(const result<std::string>& token) noexcept override
    {
        try {
            post_to_handler(io_ex_, work_.get_executor(),
                            [self = this->shared_from_this(), token]() mutable { self->complete(std::move(token)); });
        } catch (...) {
            // Out of memory posting the answer: nothing can deliver it.
        }
    }

private:
    void complete(result<std::string> token)
    {
        {
            std::lock_guard setup(setup_);
            // The timer goes before the handler runs: what is left of the waiter may be dropped
            // on the handler's executor after the io_context is gone.
            timer_.reset();
            if (slot_.is_connected())
                slot_.clear();
        }
        auto handler = std::move(handler_);
        auto work = std::move(work_);
        work.reset();
        std::move(handler)(std::move(token));
    }

    token_source& source_;
    std::shared_ptr<token_source> keep_; // a source held by a shared_ptr lives while we wait
    Handler handler_;
    boost::asio::executor_work_guard<handler_executor> work_;
    Executor io_ex_;
    std::mutex setup_; // `start` against `complete` on another thread
    std::optional<boost::asio::steady_timer> timer_;
    boost::asio::cancellation_slot slot_;
};

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

    template <class Self>
    void async_wait_token(Self& self);

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

/// What ends a token request: the 2xx body as an `oauth_token`, judged by the request's rules.
struct finish_token_request {
    std::optional<oauth_rules> rules;

    result<api_response<oauth_token>> operator()(outcome<http_response>&& sent, std::string_view) const
    {
        return to_oauth_token(std::move(sent), *rules);
    }
};

template <class Client>
struct async_grant_runner {
    template <class CompletionToken>
    static auto run(Client& client, outcome<token_request>&& prepared, CompletionToken&& token)
    {
        using transport_type = std::remove_reference_t<decltype(client.transport())>;
        using state = async_call_state<transport_type, finish_token_request>;
        // The client must outlive the operation (documented); no owner is kept.
        auto st = std::make_shared<state>(nullptr, client.transport_, finish_token_request{});
        if (!prepared) {
            st->rejected.emplace(std::move(prepared.failure()));
        } else {
            st->request = std::move(prepared->request);
            st->finish.rules.emplace(std::move(prepared->rules));
            st->settings = client.core_.settings(*prepared);
            st->settings.rules = &*st->finish.rules; // the rules now live in the state
        }
        return start_async_call<void(result<api_response<oauth_token>>)>(std::move(st),
                                                                         std::forward<CompletionToken>(token));
    }
};

} // namespace detail

/** Gets a token from `source` without blocking a thread.

    Completes with `void(result<std::string>)`: the cached token while it is fresh, else the
    outcome of the fetch under way or of the one this call starts with the source's asynchronous
    grant (one fetch however many callers, blocking and asynchronous alike, need a token at
    once). The errors are those of `token_source::try_token`; besides, a caller that joins a
    fetch another call started waits at most the source's `wait_timeout` (then a `network` error
    with `timed_out`; the fetch goes on), while the caller that starts the fetch waits for its
    outcome (the grant's own `call_timeout` bounds it); cancellation of the handler's slot (any
    type) ends either wait with `operation_aborted`. Each call is answered exactly once. The
    handler runs on its associated executor (else `ex`), never inline: the answer is posted to
    `ex` and dispatched from there to the handler's executor. A source with only a
    blocking grant answers with its fresh token, with the outcome of a blocking fetch already
    under way, or else with an `invalid_argument` error: its grant never runs on an I/O thread.

    @param source The token source; a source not held by a `std::shared_ptr` must outlive the call.
    A wait keeps work on the handler's executor, so `run()` does not return while it is pending;
    do not destroy that executor's context while a source that outlives it still holds a wait.
    @param ex The executor of the wait timer, and of the handler when it has none.
    @param token The completion token (default `boost::asio::deferred`).
    @return What `token` makes of the operation: nothing for a callback, a deferred operation,
    an awaitable, a future, ...
*/
template <class Executor, class CompletionToken = boost::asio::deferred_t>
auto async_token(token_source& source, const Executor& ex, CompletionToken&& token = {})
{
    return boost::asio::async_initiate<CompletionToken, void(result<std::string>)>(
        [](auto handler, token_source* src, const Executor& e) {
            using waiter = detail::async_token_waiter<std::decay_t<decltype(handler)>, Executor>;
            // The waiter with the handler's allocator (Asio's rule for an operation's state).
            auto alloc = boost::asio::get_associated_allocator(handler);
            std::allocate_shared<waiter>(alloc, *src, std::move(handler), e)->start();
        },
        token, &source, ex);
}

namespace detail {

template <class Transport, class Finish>
template <class Self>
void async_call_op<Transport, Finish>::async_wait_token(Self& self)
{
    state_type& st = *st_; // `self` holds `st_`: nothing may read it once `self` is moved
    next_step(self, [&st](auto&& handler) {
        genesys::async_token(st.machine->token_source(), st.transport->get_executor(),
                             std::forward<decltype(handler)>(handler));
    });
}

} // namespace detail

/** The Tokens resource of the Genesys Cloud Platform API, asynchronously, over any
    `genesys::async_transport`.

    Each operation of `tokens_api` has an `async_` form that takes the same arguments and a
    completion token (default `boost::asio::deferred`), returns what that token makes of the
    operation (nothing for a callback), and completes with `void(result<api_response<T>>)`: the
    same value, errors included, as the `try_` form, so `.value()` throws the same typed
    exceptions. Every Asio completion token works: a callback, `use_future`, `use_awaitable`,
    `deferred`, `as_tuple`, `bind_executor`, `experimental::parallel_group`.

    - Arguments are copied into the operation when it is initiated: a `deferred` or awaitable
      operation started later never reads a dead `string_view`. Bad input is reported (without
      sending) like any other error.
    - The handler runs on its associated executor (else `get_executor()`), exactly once, never
      from inside the initiating function.
    - The steps of a call (each send, retry wait and token wait) complete on the I/O executor
      and continue on the handler's associated executor by dispatch, so a `use_future` call
      never continues on another pool's thread; only the final completion is the handler's.
    - Retries wait on timers; `client_config::call_timeout` ends a call that takes longer (a
      timer cancels the step under way). The deadline and the steps run one at a time: on the
      handler's strand when it is bound to one, else on a strand the call makes for itself (one
      allocation, for calls with a `call_timeout` only), so a deadline needs no strand of yours,
      however many threads run the io_context. Terminal cancellation through the handler's
      cancellation slot ends the call at once with `operation_aborted`, whatever step it is in.
    - Moving or destroying the client while operations are in flight is safe: each operation
      keeps the transport and configuration it started with alive until it completes. Copies
      share one transport and configuration; a moved-from client may only be destroyed or
      assigned to.
    - A call's state is one allocation with `std::allocator`: it is made when the operation is
      initiated, before Asio turns a `deferred` or awaitable token into a handler, so the
      handler's associated allocator is not known yet. A token wait's state uses that allocator.
    - An exception (as for `try_x`: `std::bad_alloc`, or what a `retry_policy` function throws)
      leaves the initiating function or, from a later step, the executor's `run()`.

    @par Thread safety
    Operations may be started from several threads at once on one client when the transport's
    `async_send` may be called so (`threaded_transport`, `beast_async_transport` and the fake
    allow it); they run concurrently, sharing the transport. As with any Asio composed operation,
    emit a cancellation where the operation's handlers run (bind the handler to a strand and
    emit on it) when the io_context runs on several threads.

    @code
    boost::asio::co_spawn(ioc, [&]() -> boost::asio::awaitable<void> {
        auto r = co_await api.async_get_tokens_me(true, boost::asio::use_awaitable);
        if (r) std::cout << r->data.organization->name.value_or("?") << '\n';
    }, boost::asio::detached);
    @endcode
*/
template <async_transport AsyncTransport>
class async_tokens_api {
    struct shared {
        AsyncTransport transport;
        detail::client_core core;
    };

public:
    /// The transport type the client sends through.
    using transport_type = AsyncTransport;
    /// The executor operations run on by default: the transport's.
    using executor_type = decltype(std::declval<AsyncTransport&>().get_executor());

    /// Makes a client. A bad `config` is not thrown here: every operation then completes with it.
    async_tokens_api(AsyncTransport transport, client_config config)
        : shared_(std::make_shared<shared>(shared{std::move(transport), detail::client_core(std::move(config))}))
    {
    }

    /// The executor operations run on by default.
    executor_type get_executor() const { return shared_->transport.get_executor(); }
    /// The transport the client sends through.
    AsyncTransport& transport() noexcept { return shared_->transport; }
    /// The configuration the client was made with.
    const client_config& config() const noexcept { return shared_->core.config(); }

    /** `DELETE /api/v2/tokens/{userId}`: `try_delete_token`, asynchronously.

        @param user_id As for `try_delete_token`; checked and copied into the request by this
        call, so it need not outlive it.
        @param token The completion token, for the signature `void(result<api_response<void>>)`.
        @return What `token` makes of the operation: with the default, a deferred operation to
        `co_await` or to launch with a token later.
    */
    template <class CompletionToken = boost::asio::deferred_t>
    auto async_delete_token(std::string_view user_id, CompletionToken&& token = {})
    {
        return start<void>(routes::delete_token, {}, {}, std::forward<CompletionToken>(token), user_id);
    }

    /** `DELETE /api/v2/tokens/me`: `try_delete_tokens_me`, asynchronously.

        @param token The completion token, for the signature `void(result<api_response<void>>)`.
        @return What `token` makes of the operation: with the default, a deferred operation to
        `co_await` or to launch with a token later.
    */
    template <class CompletionToken = boost::asio::deferred_t>
    auto async_delete_tokens_me(CompletionToken&& token = {})
    {
        return start<void>(routes::delete_tokens_me, {}, {}, std::forward<CompletionToken>(token));
    }

    /** `async_get_tokens_me(std::nullopt, token)`.

        @param token The completion token, for the signature
        `void(result<api_response<token_info>>)`.
        @return What `token` makes of the operation: with the default, a deferred operation to
        `co_await` or to launch with a token later.
    */
    template <class CompletionToken = boost::asio::deferred_t>
        requires(!std::is_convertible_v<CompletionToken, std::optional<bool>>)
    auto async_get_tokens_me(CompletionToken&& token = {})
    {
        return async_get_tokens_me(std::nullopt, std::forward<CompletionToken>(token));
    }

    /** `GET /api/v2/tokens/me[?preserveIdleTTL=true|false]`: `try_get_tokens_me`, asynchronously.

        @param preserve_idle_ttl As for `try_get_tokens_me`.
        @param token The completion token, for the signature
        `void(result<api_response<token_info>>)`.
        @return What `token` makes of the operation: with the default, a deferred operation to
        `co_await` or to launch with a token later.
    */
    template <class CompletionToken = boost::asio::deferred_t>
    auto async_get_tokens_me(std::optional<bool> preserve_idle_ttl, CompletionToken&& token = {})
    {
        return start<token_info>(routes::get_tokens_me, detail::get_tokens_me_query(preserve_idle_ttl), {},
                                 std::forward<CompletionToken>(token));
    }

    /** `HEAD /api/v2/tokens/me`: `try_head_tokens_me`, asynchronously.

        @param token The completion token, for the signature `void(result<api_response<void>>)`.
        @return What `token` makes of the operation: with the default, a deferred operation to
        `co_await` or to launch with a token later.
    */
    template <class CompletionToken = boost::asio::deferred_t>
    auto async_head_tokens_me(CompletionToken&& token = {})
    {
        return start<void>(routes::head_tokens_me, {}, {}, std::forward<CompletionToken>(token));
    }

    /** `try_verify_token`, asynchronously: `data` is true on 2xx, false on the API's 401 to the
        `HEAD`.

        @param token The completion token, for the signature `void(result<api_response<bool>>)`.
        @return What `token` makes of the operation: with the default, a deferred operation to
        `co_await` or to launch with a token later.
    */
    template <class CompletionToken = boost::asio::deferred_t>
    auto async_verify_token(CompletionToken&& token = {})
    {
        return start_with(routes::head_tokens_me, {}, {}, detail::finish_verify_call{shared_->core.limits()},
                          std::forward<CompletionToken>(token));
    }

    /** `GET /api/v2/tokens/timeout`: `try_get_tokens_timeout`, asynchronously.

        @param token The completion token, for the signature
        `void(result<api_response<idle_token_timeout>>)`.
        @return What `token` makes of the operation: with the default, a deferred operation to
        `co_await` or to launch with a token later.
    */
    template <class CompletionToken = boost::asio::deferred_t>
    auto async_get_tokens_timeout(CompletionToken&& token = {})
    {
        return start<idle_token_timeout>(routes::get_tokens_timeout, {}, {}, std::forward<CompletionToken>(token));
    }

    /** `PUT /api/v2/tokens/timeout`: `try_put_tokens_timeout`, asynchronously.

        @param settings As for `try_put_tokens_timeout`; encoded into the request by this call, so
        it need not outlive it.
        @param token The completion token, for the signature
        `void(result<api_response<idle_token_timeout>>)`.
        @return What `token` makes of the operation: with the default, a deferred operation to
        `co_await` or to launch with a token later.
    */
    template <class CompletionToken = boost::asio::deferred_t>
    auto async_put_tokens_timeout(const idle_token_timeout& settings, CompletionToken&& token = {})
    {
        return start<idle_token_timeout>(routes::put_tokens_timeout, {}, detail::put_tokens_timeout_body(settings),
                                         std::forward<CompletionToken>(token));
    }

private:
    template <class Response, class Route, class CompletionToken, class... Params>
    auto start(const Route& route, std::string_view query, std::string body, CompletionToken&& token,
               const Params&... params)
    {
        return start_with(route, query, std::move(body),
                          detail::finish_api_call<Response>{route.operation_id, shared_->core.limits()},
                          std::forward<CompletionToken>(token), params...);
    }

    template <class Route, class Finish, class CompletionToken, class... Params>
    auto start_with(const Route& route, std::string_view query, std::string body, Finish finish,
                    CompletionToken&& token, const Params&... params)
    {
        using state = detail::async_call_state<AsyncTransport, Finish>;
        using signature = void(decltype(finish(std::declval<detail::outcome<http_response>>(), {})));
        auto st = std::make_shared<state>(shared_, shared_->transport, std::move(finish));
        if (auto rejected = shared_->core.prepare(st->request, route, query, std::move(body), params...))
            st->rejected.emplace(std::move(*rejected));
        else
            st->settings = shared_->core.settings(route);
        return detail::start_async_call<signature>(std::move(st), std::forward<CompletionToken>(token));
    }

    std::shared_ptr<shared> shared_;
};

} // namespace genesys

#endif
