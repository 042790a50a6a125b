// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DETAIL_ASYNC_POST_HPP
#define GENESYS_DETAIL_ASYNC_POST_HPP

/// How a completion reaches a handler's executor, never inline: the one place that decides it,
/// used by the asynchronous API's token wait, the validator's waiters and the Beast and threaded
/// transports.

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>

#include <type_traits>
#include <utility>

namespace genesys::detail {

/// Runs `f` on `handler_ex`, never from inside this call: posted to `io_ex`, and from there
/// dispatched to `handler_ex`, as Asio completes its own operations (Beast's `async_base`
/// convention). Dispatched, not posted: an executor that runs a function at once when asked
/// (`use_future`'s, the system executor's) runs `f` on the I/O thread, so the step that continues
/// an operation never moves to another pool's thread (where it would race the operation's deadline
/// timer, which completes on the I/O executor); a strand runs it on the strand. Outstanding work on
/// `handler_ex` is the caller's to keep.
/// @param io_ex the operation's I/O executor, whose context runs while the operation is pending.
/// @param handler_ex the handler's associated executor.
/// @param f the nullary function that calls the handler.
/// When `handler_ex` is `io_ex` (a handler without an executor of its own), `f` is posted alone:
/// dispatching to an executor from its own work runs at once, so the hop changes nothing but its
/// cost (Asio's work dispatcher, and the tracked copy of the executor it holds).
/// @throws whatever posting throws (`std::bad_alloc`).
template <class IoExecutor, class HandlerExecutor, class F>
void post_to_handler(const IoExecutor& io_ex, const HandlerExecutor& handler_ex, F&& f)
{
    if constexpr (std::is_same_v<IoExecutor, HandlerExecutor>) {
        if (io_ex == handler_ex) {
            boost::asio::post(io_ex, std::forward<F>(f));
            return;
        }
    }
    boost::asio::post(io_ex, boost::asio::bind_executor(handler_ex, std::forward<F>(f)));
}

} // namespace genesys::detail

#endif
