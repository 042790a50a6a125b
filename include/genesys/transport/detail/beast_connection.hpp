#ifndef GENESYS_TRANSPORT_DETAIL_BEAST_CONNECTION_HPP
#define GENESYS_TRANSPORT_DETAIL_BEAST_CONNECTION_HPP

// The Boost.Beast transports' connections: a TLS-or-plain stream visited as one, deadlines, the
// classification of failures (a stale kept-alive connection, a response over a limit) and the
// check that an idle kept-alive connection may be reused.

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/system/errc.hpp>
#include <boost/system/error_code.hpp>

#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstddef>

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

/** True when an idle kept-alive connection may be reused: nothing is buffered, and a
    non-blocking peek finds nothing to read (bytes on a TLS connection are allowed: a record such
    as a session ticket may come unasked; HTTP bytes may not). End of stream or an error: false.
*/
inline bool beast_idle_connection_usable(boost::asio::ip::tcp::socket& socket,
                                         const boost::beast::flat_buffer& buffer, bool tls) noexcept
{
    if (buffer.size() != 0)
        return false;
    boost::system::error_code ec;
    char byte = 0;
    std::size_t n = 0;
#if defined(MSG_DONTWAIT) && defined(MSG_PEEK)
    // One system call: no switching the socket's blocking mode off and on around the peek.
    const auto got = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (got < 0)
        ec = boost::system::error_code(errno, boost::asio::error::get_system_category());
    else
        n = static_cast<std::size_t>(got);
#else
    socket.non_blocking(true, ec);
    if (ec)
        return false;
    n = socket.receive(boost::asio::buffer(&byte, 1), boost::asio::ip::tcp::socket::message_peek, ec);
    boost::system::error_code ignored;
    socket.non_blocking(false, ignored);
#endif
    if (ec == boost::asio::error::would_block || ec == boost::asio::error::try_again)
        return true; // nothing to read: the server has not closed it
    if (!ec && n > 0)
        return tls;
    return false; // end of stream or an error
}

} // namespace genesys::detail

#endif
