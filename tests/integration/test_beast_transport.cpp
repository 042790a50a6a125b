// SPDX-License-Identifier: BSL-1.0
// Tests of <genesys/transport/beast.hpp> against the loopback server of loopback_server.hpp (plain and TLS).
// Self-contained: no emulator, no network beyond 127.0.0.1 / ::1.

#include <genesys/transport/beast.hpp>

#include "../heap_scan.hpp"
#include "adapters_support.hpp"
#include "adapters_tls.hpp"
#include "loopback_server.hpp"

#include <doctest/doctest.h>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/system/errc.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using namespace std::chrono_literals;

// ---- the loopback server: see loopback_server.hpp ----------------------------------------------

using genesys_adapters_test::drop;
using genesys_adapters_test::forgetful_server;
using genesys_adapters_test::garbage;
using genesys_adapters_test::hang;
using genesys_adapters_test::loopback_server;
using genesys_adapters_test::ok;
using genesys_adapters_test::refusing_port;
using genesys_adapters_test::reply;
using genesys_adapters_test::reply_then_close;
using genesys_adapters_test::reply_then_close_notify;
using genesys_adapters_test::reset_after_head;
using genesys_adapters_test::step;

// ---- a self-signed certificate, made with OpenSSL: see adapters_tls.hpp -----------------------

using genesys_adapters_test::make_identity;
using genesys_adapters_test::server_context;
using genesys_adapters_test::temp_pem;

// ---- client helpers ------------------------------------------------------------------------------

genesys::http_request make_request(genesys::http_method method, std::string url, genesys::http_headers headers = {},
                                   std::string body = {})
{
    return {method, std::move(url), std::move(headers), std::move(body)};
}

genesys::http_request get(std::string url) { return make_request(genesys::http_method::get, std::move(url)); }

/// Options with bounds that keep a broken test from hanging.
genesys::beast_options quick()
{
    return {.connect_timeout = 5000ms, .timeout = 5000ms};
}

std::string body_of(const boost::system::result<genesys::http_response>& r)
{
    return r ? r->body : "error: " + r.error().message();
}

using clock_type = std::chrono::steady_clock;

} // namespace

TEST_CASE("beast: beast_options is an aggregate with defaults")
{
    genesys::beast_options o{.timeout = 1000ms};
    CHECK(o.connect_timeout == 10'000ms);
    CHECK(o.timeout == 1000ms);
    CHECK(o.verify_peer);
    CHECK(o.ca_file.empty());
    CHECK(o.ca_path.empty());
    CHECK(o.max_response_bytes == 8u * 1024 * 1024);
    CHECK(o.keep_alive);
    static_assert(genesys::transport<genesys::beast_transport>);
    static_assert(genesys::transport_with_error_detail<genesys::beast_transport>);
    static_assert(!std::is_copy_constructible_v<genesys::beast_transport>);
    static_assert(std::is_nothrow_move_constructible_v<genesys::beast_transport>);
}

// ---- requests and responses ------------------------------------------------------------------------

TEST_CASE("beast: a bad URL or header field is an error code and nothing is sent")
{
    loopback_server server({reply(ok())});
    genesys::beast_transport t{quick()};

    for (std::string url : {std::string("ftp://127.0.0.1/"), "http://user:pw@127.0.0.1:" + std::to_string(server.port()),
                            std::string("not a url")}) {
        CAPTURE(url);
        boost::system::result<genesys::http_response> r = genesys::http_response{};
        CHECK_NOTHROW(r = t.send(get(url)));
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == boost::system::errc::invalid_argument);
        CHECK(t.last_error_message().find("invalid URL") != std::string_view::npos);
    }

    auto r = t.send(make_request(genesys::http_method::get, server.url(), {{"X-Evil", "a\r\nX-Injected: 1"}}));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == boost::system::errc::invalid_argument);
    r = t.send(make_request(genesys::http_method::get, server.url(), {{"Bad Name", "v"}}));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == boost::system::errc::invalid_argument);
    CHECK(server.accepts() == 0);
}

TEST_CASE("beast: GET sends exactly its request line and fields, the response is collected as received")
{
    loopback_server server({reply("HTTP/1.1 201 Created\r\n"
                                  "Content-Length: 5\r\n"
                                  "ININ-Correlation-Id: c-1\r\n"
                                  "Set-Cookie: a=1\r\n"
                                  "set-cookie: b=2\r\n"
                                  "X-Empty: \r\n"
                                  "\r\n"
                                  "hello")});
    genesys::beast_transport t{quick()};
    auto r = t.send(make_request(genesys::http_method::get, server.url("/api/v2/tokens/me?preserveIdleTTL=true"),
                                 {{"Authorization", "Bearer t0k3n"},
                                  {"Accept", "application/json"},
                                  {"User-Agent", "genesys-tokens-cpp/test"}}));
    REQUIRE(r.has_value());
    CHECK(r->status == 201);
    CHECK(r->body == "hello");
    const genesys::http_headers expected{{"Content-Length", "5"},
                                         {"ININ-Correlation-Id", "c-1"},
                                         {"Set-Cookie", "a=1"},
                                         {"set-cookie", "b=2"},
                                         {"X-Empty", ""}};
    CHECK(r->headers == expected);
    CHECK(t.last_error_message().empty());

    const auto requests = server.requests();
    REQUIRE(requests.size() == 1);
    CHECK(requests[0] == "GET /api/v2/tokens/me?preserveIdleTTL=true HTTP/1.1\r\n"
                         "Host: 127.0.0.1:" +
                             std::to_string(server.port()) +
                             "\r\n"
                             "Authorization: Bearer t0k3n\r\n"
                             "Accept: application/json\r\n"
                             "User-Agent: genesys-tokens-cpp/test\r\n"
                             "\r\n");
}

TEST_CASE("beast: HEAD does not wait for a body even when Content-Length is set")
{
    loopback_server server({reply("HTTP/1.1 401 Unauthorized\r\nContent-Length: 1234\r\n"
                                  "Content-Type: application/json\r\n\r\n"),
                            reply(ok("after"))});
    genesys::beast_transport t{{.connect_timeout = 3000ms, .timeout = 3000ms}};
    const auto started = clock_type::now();
    auto r = t.send(make_request(genesys::http_method::head, server.url("/api/v2/tokens/me"),
                                 {{"Authorization", "Bearer x"}}));
    REQUIRE(r.has_value());
    CHECK(clock_type::now() - started < 2s);
    CHECK(r->status == 401);
    CHECK(r->body.empty());
    CHECK(r->headers.get("content-length") == "1234");

    // The connection is still framed correctly: the next request reads its own response on it.
    auto next = t.send(get(server.url("/next")));
    CHECK(body_of(next) == "after");
    CHECK(server.accepts() == 1);

    const auto requests = server.requests();
    REQUIRE(requests.size() == 2);
    CHECK(requests[0] == "HEAD /api/v2/tokens/me HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(server.port()) +
                             "\r\nAuthorization: Bearer x\r\n\r\n");
}

TEST_CASE("beast: PUT sends its body with Content-Length")
{
    const std::string body = R"({"idleTokenTimeoutSeconds":600})";
    loopback_server server({reply(ok(body, "Content-Type: application/json\r\n")), reply(ok())});
    genesys::beast_transport t{quick()};
    auto r = t.send(make_request(genesys::http_method::put, server.url("/api/v2/tokens/timeout"),
                                 {{"Content-Type", "application/json"}}, body));
    REQUIRE(r.has_value());
    CHECK(r->status == 200);
    CHECK(r->body == body);

    auto empty = t.send(make_request(genesys::http_method::put, server.url("/empty")));
    REQUIRE(empty.has_value());

    const std::string host = "Host: 127.0.0.1:" + std::to_string(server.port()) + "\r\n";
    const auto requests = server.requests();
    REQUIRE(requests.size() == 2);
    CHECK(requests[0] == "PUT /api/v2/tokens/timeout HTTP/1.1\r\n" + host +
                             "Content-Type: application/json\r\n"
                             "Content-Length: " +
                             std::to_string(body.size()) + "\r\n\r\n" + body);
    CHECK(requests[1] == "PUT /empty HTTP/1.1\r\n" + host + "Content-Length: 0\r\n\r\n");
}

TEST_CASE("beast: DELETE without a body sends no Content-Length, 204 has no body")
{
    loopback_server server({reply("HTTP/1.1 204 No Content\r\nININ-Correlation-Id: d-1\r\n\r\n"), reply(ok("{}"))});
    genesys::beast_transport t{quick()};
    auto r = t.send(make_request(genesys::http_method::delete_, server.url("/api/v2/tokens/user%2F1"),
                                 {{"Authorization", "Bearer x"}}));
    REQUIRE(r.has_value());
    CHECK(r->status == 204);
    CHECK(r->body.empty());
    CHECK(r->headers.get("ININ-Correlation-Id") == "d-1");

    auto me = t.send(make_request(genesys::http_method::delete_, server.url("/api/v2/tokens/me")));
    CHECK(body_of(me) == "{}");
    CHECK(server.accepts() == 1);

    const auto requests = server.requests();
    REQUIRE(requests.size() == 2);
    CHECK(requests[0] == "DELETE /api/v2/tokens/user%2F1 HTTP/1.1\r\nHost: 127.0.0.1:" +
                             std::to_string(server.port()) + "\r\nAuthorization: Bearer x\r\n\r\n");
}

TEST_CASE("beast: a chunked body is assembled and 1xx interim responses are skipped")
{
    loopback_server server({reply("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"),
                            reply("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok"),
                            reply(ok("third"))});
    genesys::beast_transport t{quick()};
    auto r = t.send(get(server.url("/chunked")));
    REQUIRE(r.has_value());
    CHECK(r->body == "hello world");
    CHECK(r->headers.get("Transfer-Encoding") == "chunked");

    r = t.send(get(server.url("/interim")));
    REQUIRE(r.has_value());
    CHECK(r->status == 202);
    CHECK(r->body == "ok");

    CHECK(body_of(t.send(get(server.url("/third")))) == "third");
    CHECK(server.accepts() == 1);
}

// ---- keep-alive and reconnection -----------------------------------------------------------------

TEST_CASE("beast: keep-alive: sequential calls to one host share one connection")
{
    loopback_server server({reply(ok("1")), reply("HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n"), reply(ok("3"))});
    genesys::beast_transport t{quick()};
    CHECK_FALSE(t.connected());
    CHECK(body_of(t.send(get(server.url("/a")))) == "1");
    CHECK(t.connected());
    CHECK(body_of(t.send(make_request(genesys::http_method::head, server.url("/b")))).empty());
    CHECK(body_of(t.send(get(server.url("/c")))) == "3");
    CHECK(server.accepts() == 1);
    CHECK(server.requests().size() == 3);
    CHECK(t.connected());
}

TEST_CASE("beast: keep-alive: a connection the server closed after its response is replaced")
{
    // The server closes without saying `Connection: close`.
    loopback_server server({reply_then_close(ok("one")), reply(ok("two"))});
    genesys::beast_transport t{quick()};
    CHECK(body_of(t.send(get(server.url("/1")))) == "one");
    CHECK(body_of(t.send(get(server.url("/2")))) == "two");
    CHECK(server.accepts() == 2);
    CHECK(t.last_error_message().empty());
}

TEST_CASE("beast: keep-alive: an idle connection the server closed is noticed before anything is sent on it")
{
    loopback_server server({reply_then_close(ok("one")), reply(ok("two"))});
    genesys::beast_transport t{quick()};
    CHECK(body_of(t.send(get(server.url("/1")))) == "one");
    REQUIRE(server.wait_for_closes(1));
    // A POST is never resent after a read failure: it succeeds only if the dead connection is not used.
    auto r = t.send(make_request(genesys::http_method::post, server.url("/2"), {}, "{}"));
    CHECK(body_of(r) == "two");
    CHECK(server.accepts() == 2);
    CHECK(server.requests().size() == 2);
}

TEST_CASE("beast: keep-alive: a write that fails on a reused connection is resent once, whatever the method")
{
    // The server resets the connection after reading the head of the second request, so writing
    // its 32 MiB body fails (connection reset or broken pipe) long before it is all sent.
    loopback_server server({reply(ok("one")), reset_after_head(), reply(ok("two"))});
    genesys::beast_transport t{{.connect_timeout = 5000ms, .timeout = 10'000ms}};
    CHECK(body_of(t.send(get(server.url("/1")))) == "one");
    auto r = t.send(make_request(genesys::http_method::post, server.url("/big"), {}, std::string(32 << 20, 'p')));
    CHECK(body_of(r) == "two");
    CHECK(server.accepts() == 2);
    const auto requests = server.requests();
    REQUIRE(requests.size() == 3);
    CHECK(requests[1].starts_with("POST /big HTTP/1.1\r\n"));
    CHECK(requests[2].size() > (32u << 20));
}

TEST_CASE("beast: keep-alive: a request the server drops on a reused connection is resent once on a new one")
{
    loopback_server server({reply(ok("one")), drop(), reply(ok("two"))});
    genesys::beast_transport t{quick()};
    CHECK(body_of(t.send(get(server.url("/1")))) == "one");
    auto r = t.send(make_request(genesys::http_method::put, server.url("/2"), {}, "{}"));
    CHECK(body_of(r) == "two");
    CHECK(server.accepts() == 2);
    const auto requests = server.requests();
    REQUIRE(requests.size() == 3);
    CHECK(requests[1] == requests[2]);
    CHECK(requests[2].starts_with("PUT /2 HTTP/1.1\r\n"));
}

TEST_CASE("beast: keep-alive: a non-idempotent request whose response never started is not resent")
{
    loopback_server server({reply(ok("one")), drop(), reply(ok("two"))});
    genesys::beast_transport t{quick()};
    CHECK(body_of(t.send(get(server.url("/1")))) == "one");
    auto r = t.send(make_request(genesys::http_method::post, server.url("/2"), {}, "{}"));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == boost::beast::http::error::end_of_stream);
    CHECK(server.accepts() == 1);
    CHECK(server.requests().size() == 2);
}

TEST_CASE("beast: keep-alive: the resend happens once, its failure is returned")
{
    loopback_server server({reply(ok("one")), drop(), drop(), reply(ok("never"))});
    genesys::beast_transport t{quick()};
    CHECK(body_of(t.send(get(server.url("/1")))) == "one");
    auto r = t.send(get(server.url("/2")));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == boost::beast::http::error::end_of_stream);
    CHECK(server.accepts() == 2);
    CHECK(server.requests().size() == 3);
    CHECK_FALSE(t.connected());
}

TEST_CASE("beast: a failure on a fresh connection is returned as is, and the connection is closed")
{
    loopback_server server({drop(), reply(ok("later"))});
    genesys::beast_transport t{quick()};
    auto r = t.send(get(server.url("/1")));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == boost::beast::http::error::end_of_stream);
    CHECK(server.accepts() == 1);
    CHECK_FALSE(t.connected());
    CHECK(t.last_error_message().find("read response from 127.0.0.1:" + std::to_string(server.port())) == 0);

    CHECK(body_of(t.send(get(server.url("/2")))) == "later");
    CHECK(t.last_error_message().empty());
}

TEST_CASE("beast: Connection: close from the server makes the next call open a new connection")
{
    // The server leaves the connection open: the client must close it on its own.
    loopback_server server({reply(ok("a", "Connection: close\r\n")), reply(ok("b"))});
    genesys::beast_transport t{quick()};
    CHECK(body_of(t.send(get(server.url("/1")))) == "a");
    CHECK_FALSE(t.connected());
    CHECK(body_of(t.send(get(server.url("/2")))) == "b");
    CHECK(server.accepts() == 2);
}

TEST_CASE("beast: bytes after a complete response make the connection unusable")
{
    loopback_server server({reply(ok("a") + "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale"), reply(ok("b"))});
    genesys::beast_transport t{quick()};
    CHECK(body_of(t.send(get(server.url("/1")))) == "a");
    CHECK(body_of(t.send(get(server.url("/2")))) == "b");
    CHECK(server.accepts() == 2);
}

TEST_CASE("beast: an HTTP/1.0 response without keep-alive closes the connection")
{
    loopback_server server({reply("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\na"), reply(ok("b"))});
    genesys::beast_transport t{quick()};
    CHECK(body_of(t.send(get(server.url("/1")))) == "a");
    CHECK_FALSE(t.connected());
    CHECK(body_of(t.send(get(server.url("/2")))) == "b");
    CHECK(server.accepts() == 2);
}

TEST_CASE("beast: another host or port replaces the connection")
{
    loopback_server a({reply(ok("a1")), reply(ok("a2"))});
    loopback_server b({reply(ok("b1"))});
    genesys::beast_transport t{quick()};
    CHECK(body_of(t.send(get(a.url()))) == "a1");
    CHECK(body_of(t.send(get(b.url()))) == "b1");
    CHECK(body_of(t.send(get(a.url()))) == "a2");
    CHECK(a.accepts() == 2);
    CHECK(b.accepts() == 1);
}

TEST_CASE("beast: keep_alive = false sends Connection: close and connects for every call")
{
    loopback_server server({reply(ok("1")), reply(ok("2"))});
    genesys::beast_transport t{{.connect_timeout = 5000ms, .timeout = 5000ms, .keep_alive = false}};
    CHECK(body_of(t.send(get(server.url("/1")))) == "1");
    CHECK_FALSE(t.connected());
    CHECK(body_of(t.send(get(server.url("/2")))) == "2");
    CHECK(server.accepts() == 2);
    const auto requests = server.requests();
    REQUIRE(requests.size() == 2);
    CHECK(requests[0].ends_with("\r\nConnection: close\r\n\r\n"));
}

TEST_CASE("beast: close() and moving keep or drop the connection as documented")
{
    loopback_server server({reply(ok("1")), reply(ok("2")), reply(ok("3"))});
    genesys::beast_transport t{quick()};
    CHECK(body_of(t.send(get(server.url("/1")))) == "1");

    genesys::beast_transport moved{std::move(t)};
    CHECK(moved.connected());
    CHECK(body_of(moved.send(get(server.url("/2")))) == "2");
    CHECK(server.accepts() == 1);

    CHECK_FALSE(t.connected()); // NOLINT(bugprone-use-after-move): documented state
    auto r = t.send(get(server.url("/x")));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == boost::system::errc::operation_not_permitted);

    moved.close();
    CHECK_FALSE(moved.connected());
    CHECK(body_of(moved.send(get(server.url("/3")))) == "3");
    CHECK(server.accepts() == 2);
}

TEST_CASE("beast: a host name is resolved (localhost)")
{
    loopback_server server({reply(ok("by name"))});
    genesys::beast_transport t{quick()};
    auto r = t.send(get(server.url("/n", false, "localhost")));
    CHECK(body_of(r) == "by name");
    const auto requests = server.requests();
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].find("\r\nHost: localhost:" + std::to_string(server.port()) + "\r\n") != std::string::npos);
}

TEST_CASE("beast: an IPv6 literal URL reaches [::1]")
{
    std::optional<loopback_server> server;
    try {
        server.emplace(std::vector<step>{reply(ok("six"))}, nullptr, "::1");
    } catch (const boost::system::system_error& e) {
        MESSAGE("no IPv6 loopback here (" << e.what() << "): checking that the failure is an error code");
    }
    genesys::beast_transport t{quick()};
    if (server) {
        auto r = t.send(get(server->url("/v6", false, "[::1]")));
        CHECK(body_of(r) == "six");
        const auto requests = server->requests();
        REQUIRE(requests.size() == 1);
        CHECK(requests[0].find("\r\nHost: [::1]:" + std::to_string(server->port()) + "\r\n") != std::string::npos);
    } else {
        auto r = t.send(get("http://[::1]:9/"));
        CHECK_FALSE(r.has_value());
    }
}

// ---- failures -----------------------------------------------------------------------------------

TEST_CASE("beast: connection refused on a closed port is errc::connection_refused")
{
    refusing_port closed;
    const auto port = closed.port();
    genesys::beast_transport t{quick()};
    auto r = t.send(get(closed.url()));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == boost::system::errc::connection_refused);
    CHECK(r.error() == asio::error::connection_refused);
    CHECK(t.last_error_message().find("connect to 127.0.0.1:" + std::to_string(port)) == 0);
    CHECK_FALSE(t.connected());
}

TEST_CASE("beast: the total timeout fires against a server that never answers")
{
    loopback_server server({hang(), reply(ok("fresh"))});
    genesys::beast_transport t{{.connect_timeout = 5000ms, .timeout = 300ms}};
    const auto started = clock_type::now();
    auto r = t.send(get(server.url("/slow")));
    const auto elapsed = clock_type::now() - started;
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == boost::beast::error::timeout);
    CHECK(r.error() == boost::beast::condition::timeout);
    CHECK(r.error() != boost::system::errc::timed_out); // documented: Beast's own code, not errc
    CHECK(elapsed < 5s);
    CHECK(server.requests().size() == 1);
    CHECK_FALSE(t.connected());
    CHECK(t.last_error_message().find("timeout 300 ms") != std::string_view::npos);

    // Nothing is left over: the next call starts fresh.
    CHECK(body_of(t.send(get(server.url("/next")))) == "fresh");
    CHECK(server.accepts() == 2);
}

TEST_CASE("beast: connect_timeout bounds the TLS handshake")
{
    loopback_server server({}); // accepts, reads, never answers a ClientHello
    genesys::beast_transport t{{.connect_timeout = 300ms, .timeout = 30'000ms, .verify_peer = false}};
    const auto started = clock_type::now();
    auto r = t.send(get(server.url("/", true)));
    const auto elapsed = clock_type::now() - started;
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == boost::beast::error::timeout);
    CHECK(elapsed < 5s);
    CHECK(t.last_error_message().find("TLS handshake") == 0);
}

TEST_CASE("beast: a body larger than max_response_bytes is an error and drops the connection")
{
    loopback_server server({reply(ok(std::string(100, 'x'))),
                            reply("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  "28\r\n" +
                                  std::string(40, 'c') + "\r\n28\r\n" + std::string(40, 'c') + "\r\n0\r\n\r\n"),
                            reply(ok(std::string(64, 'y')))});
    genesys::beast_transport t{{.connect_timeout = 5000ms, .timeout = 5000ms, .max_response_bytes = 64}};
    auto r = t.send(get(server.url("/big")));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == boost::system::errc::message_size);
    CHECK(t.last_error_message().find("body limit exceeded") != std::string_view::npos);
    CHECK_FALSE(t.connected());

    r = t.send(get(server.url("/big-chunked")));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == boost::system::errc::message_size);

    r = t.send(get(server.url("/just-fits")));
    CHECK(body_of(r) == std::string(64, 'y'));
    CHECK(server.accepts() == 3);
}

TEST_CASE("beast: https to a plain HTTP port fails in the TLS handshake, not with a status")
{
    loopback_server server({garbage("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")});
    genesys::beast_transport t{quick()};
    const auto started = clock_type::now();
    auto r = t.send(get(server.url("/", true)));
    REQUIRE_FALSE(r.has_value());
    CHECK(clock_type::now() - started < 5s);
    CHECK(r.error() != boost::beast::error::timeout);
    CHECK(r.error().category() == asio::error::get_ssl_category());
    CHECK(t.last_error_message().find("TLS handshake with 127.0.0.1:" + std::to_string(server.port())) == 0);
    CHECK(server.accepts() == 1);
}

// ---- TLS --------------------------------------------------------------------------------------------

TEST_CASE("beast: https verifies the certificate by default")
{
    const auto id = make_identity("IP:127.0.0.1,DNS:localhost");
    loopback_server server({reply(ok("secret"))}, server_context(id));
    genesys::beast_transport t{quick()};
    auto r = t.send(get(server.url("/", true)));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().category() == asio::error::get_ssl_category());
    CHECK(t.last_error_message().find("self-signed certificate") != std::string_view::npos);
    CHECK(server.requests().empty());
}

TEST_CASE("beast: https with a trusted ca_file: SNI for a name, none for an address, keep-alive")
{
    const auto id = make_identity("IP:127.0.0.1,DNS:localhost");
    const temp_pem ca(id.cert_pem);
    loopback_server server({reply(ok("one")), reply(ok("two")), reply(ok("three"))}, server_context(id));
    genesys::beast_transport t{{.connect_timeout = 5000ms, .timeout = 5000ms, .ca_file = ca.path.string()}};

    auto r = t.send(get(server.url("/1", true, "localhost")));
    CHECK(body_of(r) == "one");
    r = t.send(make_request(genesys::http_method::put, server.url("/2", true, "localhost"), {}, "{}"));
    CHECK(body_of(r) == "two");
    CHECK(server.accepts() == 1);

    r = t.send(get(server.url("/3", true, "127.0.0.1")));
    CHECK(body_of(r) == "three");
    CHECK(server.accepts() == 2);
    CHECK(server.server_names() == std::vector<std::string>{"localhost", ""});

    const auto requests = server.requests();
    REQUIRE(requests.size() == 3);
    CHECK(requests[1] == "PUT /2 HTTP/1.1\r\nHost: localhost:" + std::to_string(server.port()) +
                             "\r\nContent-Length: 2\r\n\r\n{}");
}

TEST_CASE("beast: https rejects a certificate for another host name or address")
{
    const auto id = make_identity("DNS:example.com");
    const temp_pem ca(id.cert_pem);
    loopback_server server({reply(ok()), reply(ok())}, server_context(id));
    genesys::beast_transport t{{.connect_timeout = 5000ms, .timeout = 5000ms, .ca_file = ca.path.string()}};

    auto r = t.send(get(server.url("/", true, "localhost")));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().category() == asio::error::get_ssl_category());
    CHECK(t.last_error_message().find("hostname mismatch") != std::string_view::npos);

    r = t.send(get(server.url("/", true, "127.0.0.1")));
    REQUIRE_FALSE(r.has_value());
    CHECK(t.last_error_message().find("IP address mismatch") != std::string_view::npos);
    CHECK(server.requests().empty());
}

TEST_CASE("beast: verify_peer = false accepts an untrusted certificate")
{
    const auto id = make_identity("DNS:example.com");
    loopback_server server({reply(ok("insecure"))}, server_context(id));
    genesys::beast_transport t{{.connect_timeout = 5000ms, .timeout = 5000ms, .verify_peer = false}};
    CHECK(body_of(t.send(get(server.url("/", true)))) == "insecure");
}

TEST_CASE("beast: https reconnects when the server closed the idle TLS connection")
{
    const auto id = make_identity("IP:127.0.0.1");
    const temp_pem ca(id.cert_pem);
    loopback_server server({reply_then_close(ok("one")), reply(ok("two")), drop(), reply(ok("three"))},
                           server_context(id));
    genesys::beast_transport t{{.connect_timeout = 5000ms, .timeout = 5000ms, .ca_file = ca.path.string()}};
    CHECK(body_of(t.send(get(server.url("/1", true)))) == "one");
    CHECK(body_of(t.send(get(server.url("/2", true)))) == "two");
    CHECK(body_of(t.send(get(server.url("/3", true)))) == "three"); // dropped on the reused one, resent
    CHECK(server.accepts() == 3);
    CHECK(server.requests().size() == 4);
}

TEST_CASE("beast: https: an idle connection the server closed with close_notify is not used for a POST")
{
    const auto id = make_identity("IP:127.0.0.1");
    const temp_pem ca(id.cert_pem);
    loopback_server server({reply_then_close_notify(ok("one")), reply(ok("two"))}, server_context(id));
    genesys::beast_transport t{{.connect_timeout = 5000ms, .timeout = 5000ms, .ca_file = ca.path.string()}};
    CHECK(body_of(t.send(get(server.url("/1", true)))) == "one");
    REQUIRE(server.wait_for_closes(1)); // close_notify, then the TCP close, both sent
    // A POST (every OAuth token request) is never resent once it may have reached the server:
    // it succeeds only if the connection the server closed is not written to.
    auto r = t.send(make_request(genesys::http_method::post, server.url("/oauth/token", true),
                                 {{"Content-Type", "application/x-www-form-urlencoded"}},
                                 "grant_type=client_credentials"));
    CHECK(body_of(r) == "two");
    CHECK(server.accepts() == 2);
    CHECK(server.requests().size() == 2);
}

TEST_CASE("beast: a missing ca_file is an error code, not an exception")
{
    genesys::beast_transport t{{.connect_timeout = 5000ms,
                                .timeout = 5000ms,
                                .ca_file = "/nonexistent/genesys-beast-test-ca.pem"}};
    boost::system::result<genesys::http_response> r = genesys::http_response{};
    CHECK_NOTHROW(r = t.send(get("https://127.0.0.1:9/")));
    REQUIRE_FALSE(r.has_value());
    CHECK(t.last_error_message().find("ca_file") != std::string_view::npos);
}

// ---- security review: proxies, trailers, error classification, framing fields -------------------

TEST_CASE("beast: never uses a proxy, whatever the environment says")
{
    loopback_server proxy({reply(ok("via proxy"))});
    loopback_server origin({reply(ok("direct")), reply(ok("direct again"))});
    genesys_adapters_test::env_guard env;
    env.proxy_everything_through(proxy.url(""));

    genesys::beast_transport t{quick()};
    auto r = t.send(make_request(genesys::http_method::get, origin.url("/a"), {{"Authorization", "Bearer t0k3n"}}));
    CHECK(body_of(r) == "direct");
    CHECK(body_of(t.send(get(origin.url("/b", false, "localhost")))) == "direct again");
    CHECK(proxy.accepts() == 0);
    const auto requests = origin.requests();
    REQUIRE(requests.size() == 2);
    CHECK(requests[0].find("\r\nAuthorization: Bearer t0k3n\r\n") != std::string::npos);
}

TEST_CASE("beast: trailer fields of a chunked response are not response headers")
{
    loopback_server server({reply("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                                  "Trailer: Retry-After, ININ-Correlation-Id\r\n\r\n"
                                  "5\r\nhello\r\n6\r\n world\r\n0\r\n"
                                  "Retry-After: 1\r\nININ-Correlation-Id: from-trailer\r\n\r\n"),
                            reply("HTTP/1.1 429 Too Many Requests\r\nTransfer-Encoding: chunked\r\n"
                                  "ININ-Correlation-Id: from-head\r\nTrailer: Retry-After, ININ-Correlation-Id\r\n\r\n"
                                  "2\r\n{}\r\n0\r\n"
                                  "Retry-After: 1\r\nININ-Correlation-Id: from-trailer\r\n\r\n"),
                            reply(ok("after"))});
    genesys::beast_transport t{quick()};
    auto r = t.send(get(server.url("/trailers")));
    REQUIRE(r.has_value());
    CHECK(r->status == 200);
    CHECK(r->body == "hello world");
    CHECK_FALSE(r->headers.contains("Retry-After"));
    CHECK_FALSE(r->headers.contains("ININ-Correlation-Id"));
    const genesys::http_headers expected{{"Transfer-Encoding", "chunked"},
                                         {"Trailer", "Retry-After, ININ-Correlation-Id"}};
    CHECK(r->headers == expected);

    r = t.send(get(server.url("/throttled")));
    REQUIRE(r.has_value());
    CHECK(r->status == 429);
    CHECK(r->body == "{}");
    CHECK_FALSE(r->headers.contains("Retry-After"));
    CHECK(r->headers.get("ININ-Correlation-Id") == "from-head");
    CHECK(r->headers.size() == 3);

    // The connection is still framed correctly.
    CHECK(body_of(t.send(get(server.url("/after")))) == "after");
    CHECK(server.accepts() == 1);
}

TEST_CASE("beast: a failure a second try cannot fix compares as a never-retried condition")
{
    using genesys_adapters_test::is_tls_verification_class;
    using genesys_adapters_test::never_retried;

    // TLS: an untrusted certificate, and a trusted one for another name.
    {
        const auto id = make_identity("IP:127.0.0.1,DNS:localhost");
        loopback_server server({reply(ok("secret"))}, server_context(id));
        genesys::beast_transport t{quick()};
        auto r = t.send(get(server.url("/", true)));
        REQUIRE_FALSE(r.has_value());
        CHECK(is_tls_verification_class(r.error()));
        CHECK(never_retried(r.error()));
    }
    {
        const auto id = make_identity("DNS:example.com");
        const temp_pem ca(id.cert_pem);
        loopback_server server({reply(ok())}, server_context(id));
        genesys::beast_transport t{{.connect_timeout = 5000ms, .timeout = 5000ms, .ca_file = ca.path.string()}};
        auto r = t.send(get(server.url("/", true, "localhost")));
        REQUIRE_FALSE(r.has_value());
        CHECK(is_tls_verification_class(r.error()));
        CHECK(never_retried(r.error()));
    }

    // A body over max_response_bytes (known length and chunked), a head over max_header_size.
    {
        loopback_server server({reply(ok(std::string(100, 'x'))),
                                reply("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                      "28\r\n" +
                                      std::string(40, 'c') + "\r\n28\r\n" + std::string(40, 'c') + "\r\n0\r\n\r\n"),
                                reply(ok("", "X-Big: " + std::string(2000, 'h') + "\r\n"))});
        genesys::beast_transport t{
            {.connect_timeout = 5000ms, .timeout = 5000ms, .max_response_bytes = 64, .max_header_size = 1024}};
        for (const char* target : {"/big", "/big-chunked", "/big-head"}) {
            CAPTURE(target);
            auto r = t.send(get(server.url(target)));
            REQUIRE_FALSE(r.has_value());
            CHECK(r.error() == boost::system::errc::message_size);
            CHECK(never_retried(r.error()));
            CHECK(t.last_error_message().find("read response from 127.0.0.1:" + std::to_string(server.port())) == 0);
            CHECK(t.last_error_message().find("limit") != std::string_view::npos);
        }
    }

    // A request that cannot be sent.
    {
        genesys::beast_transport t{quick()};
        auto r = t.send(make_request(genesys::http_method::get, "http://127.0.0.1:9/", {{"X-Evil", "a\r\nb"}}));
        REQUIRE_FALSE(r.has_value());
        CHECK(never_retried(r.error()));
        r = t.send(
            make_request(genesys::http_method::get, "http://127.0.0.1:9/", {{"X-Long", std::string(70'000, 'v')}}));
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == boost::system::errc::invalid_argument);
        CHECK(never_retried(r.error()));
    }

    // Cancellation: an operation that never completed is reported as aborted.
    CHECK(error_code(asio::error::operation_aborted) == boost::system::errc::operation_canceled);
}

TEST_CASE("beast: transient failures do not compare as never-retried conditions")
{
    using genesys_adapters_test::never_retried;
    refusing_port closed;
    genesys::beast_transport t{{.connect_timeout = 5000ms, .timeout = 300ms}};
    auto r = t.send(get(closed.url()));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == boost::system::errc::connection_refused);
    CHECK_FALSE(never_retried(r.error()));

    loopback_server server({drop(), hang(), reset_after_head()});
    r = t.send(get(server.url("/eof")));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == boost::beast::http::error::end_of_stream);
    CHECK_FALSE(never_retried(r.error()));

    r = t.send(get(server.url("/timeout")));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == boost::beast::error::timeout);
    CHECK_FALSE(never_retried(r.error()));

    r = t.send(get(server.url("/reset")));
    REQUIRE_FALSE(r.has_value());
    CHECK_FALSE(never_retried(r.error()));
    CHECK(t.last_error_message().find("read response from") == 0);
}

TEST_CASE("beast: a request with a framing or hop-by-hop field is refused before anything is sent")
{
    loopback_server server({reply(ok("fine"))});
    genesys::beast_transport t{quick()};
    for (const char* name : {"Content-Length", "transfer-encoding", "Connection", "Expect", "TE", "Upgrade", "HOST"}) {
        CAPTURE(name);
        auto r = t.send(make_request(genesys::http_method::put, server.url("/x"),
                                     {{"Authorization", "Bearer t0k3n"}, {name, "1"}}, "{}"));
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == boost::system::errc::invalid_argument);
        CHECK(t.last_error_message().find(name) != std::string_view::npos);
        CHECK(t.last_error_message().find("t0k3n") == std::string_view::npos);
    }
    CHECK(server.accepts() == 0);

    // A field that merely contains one of those names is fine.
    CHECK(body_of(t.send(make_request(genesys::http_method::get, server.url("/y"), {{"X-Connection-Id", "7"}}))) ==
          "fine");
}

namespace {

/// A GET carrying `Bearer <token>`, built without a temporary copy of the token.
genesys::http_request bearer_get(std::string url, const std::string& token)
{
    genesys::http_request req;
    req.url = std::move(url);
    std::string value;
    value.reserve(token.size() + 8);
    value.append("Bearer ").append(token);
    req.headers.add("Authorization", std::move(value));
    return req;
}

} // namespace

TEST_CASE("beast: a sent token is nowhere in the process's memory once the call is done, freed memory included" *
          doctest::skip(heap_scan::unsupported))
{
    for (const bool tls : {false, true}) {
        CAPTURE(tls);
        forgetful_server server(ok("fine"), tls ? server_context(make_identity("IP:127.0.0.1")) : nullptr);
        heap_scan::secret s;
        {
            genesys::beast_transport t{{.connect_timeout = 5000ms, .timeout = 5000ms, .verify_peer = false}};
            auto req = bearer_get(server.url("/api/v2/tokens/me"), s.token);
            CHECK(heap_scan::contains(s.needle)); // the scan finds it while the caller holds it
            CHECK(body_of(t.send(req)) == "fine");
            CHECK(body_of(t.send(req)) == "fine"); // and on the kept-alive connection
            CHECK(server.answered() == 2);
            genesys::detail::wipe(req.headers.begin()->value); // the caller's own copy
        }
        genesys::detail::wipe(s.token);
        CHECK_FALSE(heap_scan::contains(s.needle));
    }
}
