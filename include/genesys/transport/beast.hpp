// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_TRANSPORT_BEAST_HPP
#define GENESYS_TRANSPORT_BEAST_HPP

/// @file
/// `beast_transport`: a synchronous HTTP/1.1 transport over Boost.Beast, with TLS (OpenSSL) and keep-alive.
///
/// Not included by `<genesys/genesys.hpp>`: include it yourself, and link OpenSSL
/// (`-lssl -lcrypto`, or `OpenSSL::SSL`) and threads (`-pthread`). Boost.System is header-only.

#include <genesys/http.hpp>
#include <genesys/transport.hpp>
#include <genesys/transport/beast_options.hpp>
#include <genesys/transport/detail/beast_session.hpp>

#include <boost/system/errc.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <memory>
#include <string_view>
#include <utility>

namespace genesys {

/** A synchronous HTTP/1.1 transport over Boost.Beast, for `http://` and `https://` URLs.

    `send` blocks the calling thread; no thread is started. It keeps the connection open when
    the response allows it and reuses it for the next request to the same scheme, host and port.
    Before it is reused, an idle connection is checked without blocking: one the server closed,
    or on which anything arrived unasked (a TLS `close_notify` included), is replaced by a new
    one. When a reused connection still turns out to have been closed by the server (the write
    fails, or the response ends before its first byte with end of stream or a reset), it
    reconnects once and resends: for any method when the write failed, only for GET, HEAD, PUT
    and DELETE otherwise. The copy of the request it writes (a token in its fields included) is
    zeroed before it is freed.

    With `beast_options::proxy` (or `proxy_from_environment`), it goes through an HTTP proxy: an
    https URL through a `CONNECT` tunnel (with `Proxy-Authorization: Basic` when credentials are
    set), then the TLS handshake with the URL's host inside it; a plain http URL in absolute form.
    `no_proxy` hosts, and loopback hosts unless `proxy_loopback`, are reached directly. The kept
    connection (the tunnel included) serves the next request to the same scheme, host and port.
    By default no proxy is used and the proxy environment variables are ignored.

    Every network failure is an `error_code`, never an exception or a made-up status; after one the
    connection is closed. A timeout is `boost::beast::error::timeout`, which compares equal to
    `boost::beast::condition::timeout` (not to `boost::system::errc::timed_out`). `https` verifies
    the certificate and host name by default (see `beast_options`).

    Move-only and not thread-safe: use one per thread.

    @code
    genesys::tokens_api api{genesys::beast_transport{{.timeout = std::chrono::seconds(5)}}, {.access_token = token}};
    std::cout << (api.verify_token() ? "valid\n" : "not valid\n");
    @endcode
*/
class beast_transport {
public:
    /** Makes a transport. Nothing is connected (nor the TLS context made) before the first `send`;
        a client certificate (`beast_options::client_certificate`) is loaded and checked now, and
        so are the proxy settings (the environment read, when `proxy_from_environment`).

        @throws invalid_argument_error when the client certificate is unusable: the message names
        the file (or `cert_pem`/`key_pem`) and the reason, never the passphrase nor the key; or
        when the proxy URL is not a usable `http://` URL, or its credentials cannot be sent: the
        message names the URL without its credentials.
    */
    explicit beast_transport(beast_options options = {})
        : session_(std::make_unique<detail::beast_session>(std::move(options)))
    {
    }

    /// Takes over the other transport's connection; the moved-from one can only be assigned or destroyed.
    beast_transport(beast_transport&&) noexcept = default;
    /// Closes this transport's connection and takes over the other's.
    beast_transport& operator=(beast_transport&&) noexcept = default;
    beast_transport(const beast_transport&) = delete;
    beast_transport& operator=(const beast_transport&) = delete;
    /// Closes the connection, if any.
    ~beast_transport() = default;

    /** Sends a request and reads the whole response.

        @param request Sent exactly: its method, target, fields and body, plus `Host` and
        `Content-Length` (when there is a body, and always for PUT, POST and PATCH).
        @return The response, any status; its headers are those of the final response only (a
        chunked body's trailer fields are dropped). Or the error: it fails with `errc::invalid_argument` for a bad URL or header field, a field the transport
        owns (`Host`, `Content-Length`, `Transfer-Encoding`, `Trailer`, `Connection`,
        `Keep-Alive`, `Proxy-Connection`, `TE`, `Upgrade`, `Expect`) or one too long for Beast
        (nothing is sent); with the `boost::asio`, `boost::asio::ssl` or `boost::beast` code of a
        network failure; with `errc::message_size`
        for a body over `max_response_bytes` or a head over `max_header_size`; and with
        `errc::operation_not_permitted` on a moved-from transport. Through a proxy: with
        `errc::proxy_authentication_required` when the proxy answers 407 (or 401 to a `CONNECT`),
        with `errc::proxy_tunnel_failed` when it refuses the `CONNECT` otherwise; the text of
        `last_error_message()` names the proxy as `http://host:port`, never its credentials.

        What a failure compares equal to tells whether trying again can help: a TLS failure
        (certificate or host name verification included) is of the `"asio.ssl"` category, an
        oversized response `errc::message_size`, an invalid request `errc::invalid_argument`, an
        operation that never completed `errc::operation_canceled`; refused and reset connections
        compare equal to `errc::connection_refused` and `errc::connection_reset`, a closed one is
        `boost::beast::http::error::end_of_stream` (or `boost::asio::error::eof`), and a timeout
        `boost::beast::error::timeout`: none of these four compares equal to one of the former.
    */
    boost::system::result<http_response> send(const http_request& request)
    {
        if (!session_)
            return boost::system::errc::make_error_code(boost::system::errc::operation_not_permitted);
        return session_->send(request);
    }

    /// @return What the last failed `send` was doing, e.g. `"connect to 127.0.0.1:1: Connection
    /// refused"`, or through a proxy `"the proxy http://127.0.0.1:3128 refused the credentials
    /// (407 Proxy Authentication Required)"`; empty after a success.
    std::string_view last_error_message() const noexcept
    {
        return session_ ? session_->last_error_message() : std::string_view{};
    }

    /// True while a kept-alive connection is open.
    bool connected() const noexcept { return session_ && session_->is_open(); }

    /// Closes the kept-alive connection, if any; the next `send` connects anew.
    void close() noexcept
    {
        if (session_)
            session_->close(true, std::chrono::steady_clock::time_point::max());
    }

private:
    std::unique_ptr<detail::beast_session> session_;
};

static_assert(transport<beast_transport>);
static_assert(transport_with_error_detail<beast_transport>);

} // namespace genesys

#endif
