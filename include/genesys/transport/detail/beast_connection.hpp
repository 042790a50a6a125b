// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_TRANSPORT_DETAIL_BEAST_CONNECTION_HPP
#define GENESYS_TRANSPORT_DETAIL_BEAST_CONNECTION_HPP

// The Boost.Beast transports' connections: a TLS-or-plain stream visited as one, deadlines, the
// classification of failures (a stale kept-alive connection, a response over a limit) and the
// check that an idle kept-alive connection may be reused, and the text kept about a failure.

#include <genesys/transport/detail/beast_url.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/system/errc.hpp>
#include <boost/system/error_code.hpp>

#include <openssl/bio.h>
#include <openssl/ssl.h>

#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace genesys::detail {

/// Runs `f` on the TLS stream when `tls` holds one, else on the plain stream: a connection is one
/// or the other.
template <class Tls, class Plain, class F>
void beast_visit_stream(Tls& tls, Plain& plain, F& f)
{
    if (tls)
        f(*tls);
    else
        f(*plain);
}

/// The code a failure is returned as: a response over `max_response_bytes` or `max_header_size` is
/// `errc::message_size` (Beast's `body_limit` and `header_limit` compare equal to no portable
/// condition, and a second try would fail the same way); any other code is returned as is.
inline boost::system::error_code beast_reported_error(const boost::system::error_code& ec) noexcept
{
    namespace http = boost::beast::http;
    if (ec == http::error::body_limit || ec == http::error::header_limit)
        return boost::system::errc::make_error_code(boost::system::errc::message_size);
    return ec;
}

/// True for the errors a server's closing of an idle keep-alive connection shows up as.
inline bool beast_stale_connection_error(const boost::system::error_code& ec) noexcept
{
    namespace asio = boost::asio;
    return ec == asio::error::eof || ec == asio::error::connection_reset || ec == asio::error::connection_aborted ||
           ec == asio::error::broken_pipe || ec == boost::beast::http::error::end_of_stream ||
           ec == asio::ssl::error::stream_truncated;
}

/// `from + d`, or no deadline (`time_point::max()`) when `d` is zero or less.
inline std::chrono::steady_clock::time_point beast_deadline_after(std::chrono::steady_clock::time_point from,
                                                                  std::chrono::milliseconds d) noexcept
{
    return d.count() > 0 ? from + d : std::chrono::steady_clock::time_point::max();
}

/** True when an idle kept-alive connection may be reused: nothing is buffered, on a TLS
    connection nothing either in OpenSSL's record layer or its input, and a non-blocking peek
    finds nothing to read on the socket. Any byte pending is unexplained, so the connection is
    not reused: on a plain connection it is the start of a response nobody asked for (a 408
    before a close), on a TLS one a record that arrived unasked, such as the server's
    `close_notify` alert (a polite close, which a peek cannot tell from a session ticket without
    reading through TLS). End of stream or an error: false as well.

    @param socket The connection's socket.
    @param buffer The connection's read buffer (what was read past the last response).
    @param ssl The connection's OpenSSL handle, or null for a plain connection.
*/
inline bool beast_idle_connection_usable(boost::asio::ip::tcp::socket& socket,
                                         const boost::beast::flat_buffer& buffer, SSL* ssl) noexcept
{
    if (buffer.size() != 0)
        return false;
    // Bytes read from the socket but not yet by HTTP: a decrypted record OpenSSL holds, or
    // ciphertext that came with the last response's records (a close_notify sent right after it).
    if (ssl != nullptr) {
        if (::SSL_has_pending(ssl) != 0)
            return false;
        if (BIO* in = ::SSL_get_rbio(ssl); in != nullptr && ::BIO_ctrl_pending(in) != 0)
            return false;
    }
    boost::system::error_code ec;
    char byte = 0;
#if defined(MSG_DONTWAIT) && defined(MSG_PEEK)
    // One system call: no switching the socket's blocking mode off and on around the peek.
    const auto got = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (got < 0)
        ec = boost::system::error_code(errno, boost::asio::error::get_system_category());
#else
    socket.non_blocking(true, ec);
    if (ec)
        return false;
    socket.receive(boost::asio::buffer(&byte, 1), boost::asio::ip::tcp::socket::message_peek, ec);
    boost::system::error_code ignored;
    socket.non_blocking(false, ignored);
#endif
    // Nothing to read: the server has not closed it. Anything else (a byte, end of stream, an
    // error): a new connection.
    return ec == boost::asio::error::would_block || ec == boost::asio::error::try_again;
}

/** The text a Beast transport keeps about a failure: what it was doing, where, the stack's own
    message for `ec` and any detail, e.g. `"TLS handshake with localhost:8443: certificate verify
    failed (SSL routines) (certificate: self-signed certificate)"`. A timeout names the limits that
    applied.

    @param what What was being done, e.g. `"connect to"`.
    @param url The request's URL (its host and port are named).
    @param ec The failure.
    @param detail More about it (OpenSSL's verification result, what failed while setting up),
    or empty.
    @param connect_timeout, timeout The options' limits, named for a timeout.
    @param proxy The proxy the connection goes through (`http://host:port`, no credentials),
    named after the host, or empty.
*/
inline std::string beast_failure_text(std::string_view what, const beast_url& url, const boost::system::error_code& ec,
                                      std::string_view detail, std::chrono::milliseconds connect_timeout,
                                      std::chrono::milliseconds timeout, std::string_view proxy = {})
{
    std::string text(what);
    text += ' ';
    const bool v6 = url.host.find(':') != std::string::npos;
    text += v6 ? "[" + url.host + "]:" : url.host + ":";
    text += std::to_string(url.port);
    if (!proxy.empty()) {
        text += " through the proxy ";
        text += proxy;
    }
    text += ": ";
    text += ec.message();
    if (!detail.empty()) {
        text += " (";
        text += detail;
        text += ')';
    }
    if (ec == boost::beast::error::timeout) {
        text += " (connect_timeout " + std::to_string(connect_timeout.count()) + " ms, timeout " +
                std::to_string(timeout.count()) + " ms)";
    }
    return text;
}

} // namespace genesys::detail

#endif
