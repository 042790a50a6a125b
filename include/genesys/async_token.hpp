// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_ASYNC_TOKEN_HPP
#define GENESYS_ASYNC_TOKEN_HPP

/// @file
/// `async_token`: waiting for a `token_source`'s token without blocking a thread (Boost.Asio;
/// CMake target `genesys::tokens_async`).

#include <genesys/detail/async_post.hpp>
#include <genesys/detail/failure.hpp>
#include <genesys/detail/handler_work.hpp>
#include <genesys/result.hpp>
#include <genesys/token_source.hpp>

#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
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
    handler_work<handler_executor> work_;
    Executor io_ex_;
    std::mutex setup_; // `start` against `complete` on another thread
    std::optional<boost::asio::steady_timer> timer_;
    boost::asio::cancellation_slot slot_;
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

} // namespace genesys

#endif
