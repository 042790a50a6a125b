// SPDX-License-Identifier: BSL-1.0
// <genesys/transport/beast.hpp>: the codes of the Beast adapters' failures (Asio's, Beast's,
// OpenSSL's through Asio) classify with one comparison, as `genesys::condition::network` and
// `timeout`. No I/O.
#include <genesys/transport/beast.hpp>

#include <genesys/error_code.hpp>

#include <doctest/doctest.h>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

TEST_CASE("beast_transport: its failures' codes are condition::network, its timeouts condition::timeout too")
{
    using genesys::condition;
    namespace asio = boost::asio;
    const boost::system::error_code network[] = {
        asio::error::connection_refused,           // system
        asio::error::connection_reset,             // system
        asio::error::host_not_found,               // asio.netdb
        asio::error::service_not_found,            // asio.addrinfo
        asio::error::eof,                          // asio.misc
        asio::ssl::error::stream_truncated,        // asio.ssl.stream
        {0x0A000086, asio::error::get_ssl_category()}, // asio.ssl: certificate verify failed
        boost::beast::http::error::partial_message, // beast.http
    };
    for (const auto& ec : network) {
        CAPTURE(ec.to_string());
        CHECK(ec == condition::network);
        CHECK(ec != condition::timeout);
        CHECK(ec != condition::server_error);
    }
    const boost::system::error_code timeouts[] = {boost::beast::error::timeout, asio::error::timed_out};
    for (const auto& ec : timeouts) {
        CAPTURE(ec.to_string());
        CHECK(ec == condition::timeout);
        CHECK(ec == condition::network);
    }
    // A cancelled operation is nothing to act on.
    const boost::system::error_code aborted = asio::error::operation_aborted;
    CHECK(aborted != condition::network);
    CHECK(aborted != condition::timeout);
}
