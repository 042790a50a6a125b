// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_ASYNC_TRANSPORT_HPP
#define GENESYS_ASYNC_TRANSPORT_HPP

/// @file
/// The `genesys::async_transport` concept: what the asynchronous API needs from an HTTP stack.
///
/// Not included by `<genesys/tokens.hpp>` nor `<genesys/genesys.hpp>` (the core has no Asio): `<genesys/async.hpp>` includes it.

#include <genesys/http.hpp>

#include <boost/system/error_code.hpp>

#include <concepts>

namespace genesys {

namespace detail {

/// The completion handler the concept is checked with: any handler of the signature must work.
struct async_send_archetype_handler {
    void operator()(boost::system::error_code, http_response) {}
};

} // namespace detail

/** A type that sends one HTTP request asynchronously, on an Asio executor.

    `t.get_executor()` returns the executor its operations run on (the default for handlers
    without an associated executor), and `t.async_send(request, token)` starts sending
    `request` and completes with `void(boost::system::error_code, http_response)`:

    - `request` stays valid until the operation completes, and is not modified;
    - an HTTP error status is a normal response (`ec` is empty); `ec` reports only failures to
      deliver the request or read the response, with the same retry classification as for
      `genesys::transport` (see there): a cancelled send is `operation_aborted`, a TLS failure
      or a body over the limit is never retried; with `ec` set, the response's `body` may hold
      the stack's own words about the failure (as `last_error_message()` of a blocking
      transport), which the library puts, secrets removed, in the error's message;
    - the completion handler is invoked exactly once, through its associated executor, and never
      from inside `async_send` itself (the library's transports post it to their I/O executor
      and dispatch it from there);
    - terminal cancellation of the handler's associated cancellation slot ends the send with
      `boost::asio::error::operation_aborted` (a transport may also honour partial and total).

    The library does not serialize sends: concurrent operations of one client have several
    `async_send`s under way at once, each started on the thread running its operation. It uses
    `get_executor()` for its timers (retry waits, `client_config::call_timeout`, token waits)
    and as the default executor of its handlers. An exception thrown by `async_send` is not
    caught.

    @code
    #include <genesys/async_transport.hpp>
    #include <boost/asio/any_io_executor.hpp>
    #include <boost/asio/async_result.hpp>

    // The shape of a transport over your own asynchronous HTTP stack.
    struct my_async_transport {
        using executor_type = boost::asio::any_io_executor;
        executor_type ex;
        executor_type get_executor() const { return ex; }

        template <class CompletionToken>
        auto async_send(const genesys::http_request& req, CompletionToken&& token)
        {
            return boost::asio::async_initiate<CompletionToken,
                                               void(boost::system::error_code, genesys::http_response)>(
                [](auto handler, my_async_transport* self, const genesys::http_request* r) {
                    self->start(std::move(handler), *r);
                },
                token, this, &req);
        }

        // Sends `req` on your stack; calls handler(ec, response) once, through its executor.
        template <class Handler>
        void start(Handler handler, const genesys::http_request& req);
    };
    static_assert(genesys::async_transport<my_async_transport>);
    @endcode
*/
template <class T>
concept async_transport = std::move_constructible<T> && requires(T& t, const http_request& request) {
    t.get_executor();
    t.async_send(request, detail::async_send_archetype_handler{});
};

} // namespace genesys

#endif
