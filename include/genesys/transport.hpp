// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_TRANSPORT_HPP
#define GENESYS_TRANSPORT_HPP

/// @file
/// The `genesys::transport` concept: what the library needs from an HTTP stack.

#include <genesys/http.hpp>

#include <boost/system/result.hpp>

#include <concepts>
#include <string_view>
#include <type_traits>

namespace genesys {

namespace detail {

template <class R>
concept transport_send_result = std::same_as<std::remove_cvref_t<R>, http_response> ||
                                std::same_as<std::remove_cvref_t<R>, boost::system::result<http_response>>;

} // namespace detail

/** A type that sends one HTTP request and returns its response.

    `t.send(request)` sends `request` as given (method, absolute URL with its query, headers,
    body; the transport adds only the framing fields such as `Host` and `Content-Length`) and
    returns the whole response, either as `http_response` (a network failure is then thrown) or
    as `boost::system::result<http_response>` (a network failure is an `error_code`). A thrown
    `boost::system::system_error` or `std::system_error` is reported with its code, any other
    exception as `errc::transport_exception` (not retried); `std::bad_alloc` propagates to the
    caller. `request` is valid only during the call. An HTTP error status is a normal response
    at this layer: the library turns it into an `api_error`. The response's headers are those
    of the final response only (never a chunked body's trailer fields). The library checks
    `client_config::max_response_bytes` on the body it is given: a transport should bound what
    it reads itself.

    Whether a network failure is retried depends on its code: one that compares equal to
    `boost::system::errc::invalid_argument`, `message_size`, `operation_canceled`,
    `protocol_error`, `protocol_not_supported`, `not_enough_memory`, `permission_denied`,
    `operation_not_permitted` (a moved-from transport), `value_too_large` or
    `address_family_not_supported`, or that belongs to Asio's `asio.ssl` category, would fail
    the same way again and is not retried (a TLS verification failure, a body over the
    transport's limit, a cancelled send). Report transient failures (refused, reset, timed out)
    with codes that do not.

    The library calls `send` on the thread making the call; a transport gets concurrent calls
    only when its client is used from several threads at once (`token_validator` serializes its
    sends).

    @code
    struct my_transport {
        genesys::http_response send(const genesys::http_request& req);
    };
    static_assert(genesys::transport<my_transport>);
    @endcode
*/
template <class T>
concept transport = std::move_constructible<T> && requires(T& t, const http_request& request) {
    { t.send(request) } -> detail::transport_send_result;
};

/** A transport that can say more about its last network failure than its `error_code` does.

    Optional: when a transport has `last_error_message()`, the library appends it to the
    message of a network error (e.g. libcurl's "Failed to connect to 127.0.0.1 port 1").
*/
template <class T>
concept transport_with_error_detail = transport<T> && requires(const T& t) {
    { t.last_error_message() } -> std::convertible_to<std::string_view>;
};

/** A transport whose send under way can be aborted from another thread.

    Optional: `genesys::threaded_transport` calls `t.cancel()` when an asynchronous send is
    cancelled, so that the blocking transfer stops instead of running to its end. `cancel()`:

    - may be called from any thread while another thread is in `t.send(request)`, and returns
      without waiting for that send;
    - makes the send under way fail soon with a code that compares equal to
      `boost::system::errc::operation_canceled` (it may also complete normally if it was about
      to), after which the transport is usable again;
    - has no effect on a send that starts after it: a cancel aimed at one send never aborts the
      next; when no send is under way it does nothing;
    - does not throw, and does not block.

    `genesys::curl_transport` is one.

    @code
    struct my_transport {
        genesys::http_response send(const genesys::http_request& req);
        void cancel() noexcept; // aborts the send under way, if any
    };
    static_assert(genesys::cancellable_transport<my_transport>);
    @endcode
*/
template <class T>
concept cancellable_transport = transport<T> && requires(T& t) { t.cancel(); };

} // namespace genesys

#endif
