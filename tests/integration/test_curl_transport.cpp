// SPDX-License-Identifier: BSL-1.0
// Tests of <genesys/transport/curl.hpp> against the loopback server of loopback_server.hpp (no emulator needed).

#include <genesys/transport/curl.hpp>

#include "adapters_support.hpp"
#include "adapters_tls.hpp"
#include "loopback_server.hpp"

#include <doctest/doctest.h>

#include <boost/system/errc.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace errc = boost::system::errc;

// ---- the loopback server: see loopback_server.hpp ----------------------------------------------

using genesys_adapters_test::close_at_once;
using genesys_adapters_test::garbage;
using genesys_adapters_test::hang;
using genesys_adapters_test::loopback_server;
using genesys_adapters_test::ok;
using genesys_adapters_test::parse_request;
using genesys_adapters_test::parsed_request;
using genesys_adapters_test::refusing_port;
using genesys_adapters_test::reply;
using genesys_adapters_test::reply_then_close;
using genesys_adapters_test::step;

std::vector<std::string> sorted(std::vector<std::string> v)
{
    std::sort(v.begin(), v.end());
    return v;
}

std::vector<std::string> sorted_headers(const parsed_request& r)
{
    return sorted(r.headers);
}

/// Options for tests: bounded timeouts, and no proxy from the environment for 127.0.0.1.
genesys::curl_options opts(std::chrono::milliseconds connect_timeout, std::chrono::milliseconds timeout)
{
    return {.connect_timeout = connect_timeout, .timeout = timeout, .no_proxy = "*"};
}

genesys::curl_options quick()
{
    return opts(5'000ms, 5'000ms);
}

const genesys::http_headers api_headers{{"Authorization", "Bearer secret-token-123"},
                                        {"Accept", "application/json"},
                                        {"Content-Type", "application/json"},
                                        {"User-Agent", "genesys-tokens-cpp/test"}};

} // namespace

static_assert(genesys::transport<genesys::curl_transport>);
static_assert(genesys::transport_with_error_detail<genesys::curl_transport>);
static_assert(!std::is_copy_constructible_v<genesys::curl_transport>);
static_assert(std::is_nothrow_move_constructible_v<genesys::curl_transport>);

TEST_CASE("curl_transport: one handle sends GET, HEAD, PUT, DELETE, POST, PATCH exactly, on one connection")
{
    loopback_server server(
        {reply(ok("g")), reply(ok()), reply(ok("p")), reply(ok()), reply(ok("o")), reply(ok("a")), reply(ok("g2"))});
    genesys::curl_transport t{quick()};
    const std::string host = "Host: 127.0.0.1:" + std::to_string(server.port());
    // What every request must carry: exactly its own headers, plus Host (and Content-Length).
    auto expected = [&](std::vector<std::string> extra) {
        std::vector<std::string> all{host, "Accept: application/json", "Authorization: Bearer secret-token-123",
                                     "Content-Type: application/json", "User-Agent: genesys-tokens-cpp/test"};
        all.insert(all.end(), extra.begin(), extra.end());
        return sorted(std::move(all));
    };

    using genesys::http_method;
    auto send = [&](http_method m, std::string path, std::string body) {
        auto r = t.send({m, server.url(path), api_headers, std::move(body)});
        REQUIRE_MESSAGE(r.has_value(), t.last_error_message());
        CHECK(r->status == 200);
        return *r;
    };
    CHECK(send(http_method::get, "/api/v2/tokens/me?preserveIdleTTL=true", "").body == "g");
    CHECK(send(http_method::head, "/api/v2/tokens/me", "").body.empty());
    CHECK(send(http_method::put, "/api/v2/tokens/timeout", R"({"idleSessionTimeout":3600})").body == "p");
    send(http_method::delete_, "/api/v2/tokens/u%2F1", "");
    CHECK(send(http_method::post, "/x", "post-body").body == "o");
    CHECK(send(http_method::patch, "/y", "").body == "a");
    CHECK(send(http_method::get, "/again", "").body == "g2");

    const auto raw = server.requests();
    REQUIRE(raw.size() == 7);
    std::vector<parsed_request> req;
    for (const auto& r : raw)
        req.push_back(parse_request(r));

    CHECK(req[0].line == "GET /api/v2/tokens/me?preserveIdleTTL=true HTTP/1.1");
    CHECK(sorted_headers(req[0]) == expected({}));
    CHECK(req[0].body.empty());

    CHECK(req[1].line == "HEAD /api/v2/tokens/me HTTP/1.1");
    CHECK(sorted_headers(req[1]) == expected({}));

    CHECK(req[2].line == "PUT /api/v2/tokens/timeout HTTP/1.1");
    CHECK(sorted_headers(req[2]) == expected({"Content-Length: 27"}));
    CHECK(req[2].body == R"({"idleSessionTimeout":3600})");

    CHECK(req[3].line == "DELETE /api/v2/tokens/u%2F1 HTTP/1.1");
    CHECK(sorted_headers(req[3]) == expected({}));
    CHECK(req[3].body.empty());

    CHECK(req[4].line == "POST /x HTTP/1.1");
    CHECK(sorted_headers(req[4]) == expected({"Content-Length: 9"}));
    CHECK(req[4].body == "post-body");

    // PATCH without a body still says it has none.
    CHECK(req[5].line == "PATCH /y HTTP/1.1");
    CHECK(sorted_headers(req[5]) == expected({"Content-Length: 0"}));

    // After PUT, POST and PATCH, a GET is a plain GET again.
    CHECK(req[6].line == "GET /again HTTP/1.1");
    CHECK_FALSE(req[6].has("Content-Length"));
    CHECK(req[6].body.empty());

    for (const auto& r : req)
        CHECK_FALSE(r.has("Expect"));
    CHECK(server.accepts() == 1);
    CHECK(t.last_error_message().empty());
}

TEST_CASE("curl_transport: each call's method holds only for that call (HEAD, then DELETE, GET, PUT)")
{
    // The handle keeps its options from call to call: a HEAD must not make the next call bodiless,
    // and a PUT's body must not go out with the next GET.
    loopback_server server(
        {reply(ok()), reply(ok("d")), reply(ok()), reply(ok("g")), reply(ok("p")), reply(ok()), reply(ok("g2"))});
    genesys::curl_transport t{quick()};
    using genesys::http_method;
    auto send = [&](http_method m, std::string body = {}) {
        auto r = t.send({m, server.url("/r"), api_headers, std::move(body)});
        REQUIRE_MESSAGE(r.has_value(), t.last_error_message());
        return r->body;
    };
    CHECK(send(http_method::head).empty());
    CHECK(send(http_method::delete_) == "d");
    CHECK(send(http_method::head).empty());
    CHECK(send(http_method::get) == "g");
    CHECK(send(http_method::put, "put-body") == "p");
    CHECK(send(http_method::head).empty());
    CHECK(send(http_method::get) == "g2");

    const auto raw = server.requests();
    REQUIRE(raw.size() == 7);
    const char* lines[] = {"HEAD", "DELETE", "HEAD", "GET", "PUT", "HEAD", "GET"};
    for (std::size_t i = 0; i < raw.size(); ++i) {
        const auto req = parse_request(raw[i]);
        CAPTURE(i);
        CHECK(req.line == std::string(lines[i]) + " /r HTTP/1.1");
        if (i == 4) {
            CHECK(req.body == "put-body");
        } else {
            CHECK(req.body.empty());
            CHECK_FALSE(req.has("Content-Length"));
        }
    }
    CHECK(server.accepts() == 1);
}

TEST_CASE("curl_transport: adds no Accept, Content-Type, Expect or User-Agent the request lacks")
{
    // Over libcurl's 1 MiB threshold for "Expect: 100-continue" on a POST.
    const std::string big(1'500'000, 'b');
    loopback_server server({reply(ok()), reply(ok()), reply(ok())});
    genesys::curl_transport t{quick()};

    auto r = t.send({genesys::http_method::post, server.url("/form"), {}, "a=1"});
    REQUIRE_MESSAGE(r.has_value(), t.last_error_message());
    r = t.send({genesys::http_method::post, server.url("/big"), {{"X-Empty", ""}}, big});
    REQUIRE_MESSAGE(r.has_value(), t.last_error_message());
    r = t.send({genesys::http_method::get, server.url("/a/../b/./c"), {}, ""});
    REQUIRE_MESSAGE(r.has_value(), t.last_error_message());

    const auto raw = server.requests();
    REQUIRE(raw.size() == 3);
    const auto form = parse_request(raw[0]);
    CHECK(form.line == "POST /form HTTP/1.1");
    CHECK(sorted_headers(form) == sorted({"Content-Length: 3", "Host: 127.0.0.1:" + std::to_string(server.port())}));
    CHECK(form.body == "a=1");

    const auto large = parse_request(raw[1]);
    CHECK_FALSE(large.has("Expect"));
    CHECK(std::count(large.headers.begin(), large.headers.end(), "X-Empty: ") +
              std::count(large.headers.begin(), large.headers.end(), "X-Empty:") ==
          1);
    CHECK(large.body.size() == big.size());
    CHECK(large.body == big);

    // The path is sent as given, not normalised.
    CHECK(parse_request(raw[2]).line == "GET /a/../b/./c HTTP/1.1");
}

TEST_CASE("curl_transport: sends a binary body byte for byte")
{
    loopback_server server({reply(ok())});
    genesys::curl_transport t{quick()};
    const std::string body("a\0b\r\n\0", 6);
    auto r = t.send({genesys::http_method::put, server.url("/bin"), {}, body});
    REQUIRE_MESSAGE(r.has_value(), t.last_error_message());
    const auto raw = server.requests();
    REQUIRE(raw.size() == 1);
    CHECK(parse_request(raw[0]).body == body);
    CHECK(parse_request(raw[0]).has("Content-Length"));
}

TEST_CASE("curl_transport: parses status, headers and body, 100 Continue headers are dropped")
{
    loopback_server server({reply("HTTP/1.1 100 Continue\r\nX-Interim: yes\r\n\r\n"
                                  "HTTP/1.1 404 Not Found\r\n"
                                  "Content-Type: application/json\r\n"
                                  "ININ-Correlation-Id:   c-42  \r\n"
                                  "X-Dup: 1\r\n"
                                  "X-Dup: 2\r\n"
                                  "X-Folded: first\r\n"
                                  " second\r\n"
                                  "Content-Length: 18\r\n"
                                  "\r\n"
                                  R"({"status":404,"x"})"),
                            reply("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")});
    genesys::curl_transport t{quick()};
    auto r = t.send({genesys::http_method::get, server.url("/x"), {}, ""});
    REQUIRE_MESSAGE(r.has_value(), t.last_error_message());
    CHECK(r->status == 404);
    CHECK_FALSE(r->headers.contains("X-Interim"));
    CHECK(r->headers.get("content-type") == "application/json");
    CHECK(r->headers.get(genesys::correlation_id_header) == "c-42");
    CHECK(r->headers.get("X-Folded") == "first second");
    std::vector<std::string> dups;
    for (const auto& h : r->headers)
        if (h.name == "X-Dup")
            dups.push_back(h.value);
    CHECK(dups == std::vector<std::string>{"1", "2"});
    CHECK(r->headers.size() == 6);
    CHECK(r->body == R"({"status":404,"x"})");

    r = t.send({genesys::http_method::get, server.url("/chunked"), {}, ""});
    REQUIRE_MESSAGE(r.has_value(), t.last_error_message());
    CHECK(r->status == 200);
    CHECK(r->body == "hello world");
    CHECK(r->headers.get("Transfer-Encoding") == "chunked");
    CHECK(r->headers.size() == 1);
}

TEST_CASE("curl_transport: HEAD does not wait for the body a Content-Length announces")
{
    loopback_server server({reply("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nContent-Type: application/json\r\n\r\n"),
                            reply(ok("after"))});
    genesys::curl_transport t{opts(2'000ms, 2'000ms)};
    const auto start = std::chrono::steady_clock::now();
    auto r = t.send({genesys::http_method::head, server.url("/h"), {}, ""});
    REQUIRE_MESSAGE(r.has_value(), t.last_error_message());
    CHECK(std::chrono::steady_clock::now() - start < 1'500ms);
    CHECK(r->status == 200);
    CHECK(r->headers.get("Content-Length") == "1000");
    CHECK(r->body.empty());

    // The connection is still usable: the next call reuses it.
    r = t.send({genesys::http_method::get, server.url("/g"), {}, ""});
    REQUIRE_MESSAGE(r.has_value(), t.last_error_message());
    CHECK(r->body == "after");
    CHECK(server.accepts() == 1);
}

TEST_CASE("curl_transport: keeps one connection alive across calls, and across a move")
{
    loopback_server server({reply(ok("1")), reply(ok("2")), reply(ok("3")),
                            reply_then_close(ok("4", "Connection: close\r\n")), reply(ok("5")), reply(ok("6")),
                            reply(ok("7"))});
    genesys::curl_transport t{quick()};
    for (const char* expected : {"1", "2", "3"}) {
        auto r = t.send({genesys::http_method::get, server.url("/k"), api_headers, ""});
        REQUIRE_MESSAGE(r.has_value(), t.last_error_message());
        CHECK(r->body == expected);
    }
    CHECK(server.accepts() == 1);

    genesys::curl_transport moved{std::move(t)};
    auto r = moved.send({genesys::http_method::get, server.url("/k"), {}, ""});
    REQUIRE_MESSAGE(r.has_value(), moved.last_error_message());
    CHECK(r->body == "4");
    CHECK(server.accepts() == 1);

    // The server closed that connection: the next call opens another.
    r = moved.send({genesys::http_method::get, server.url("/k"), {}, ""});
    REQUIRE_MESSAGE(r.has_value(), moved.last_error_message());
    CHECK(r->body == "5");
    CHECK(server.accepts() == 2);

    // Move assignment takes the handle with its live connection.
    genesys::curl_transport other{quick()};
    other = std::move(moved);
    r = other.send({genesys::http_method::get, server.url("/k"), {}, ""});
    REQUIRE_MESSAGE(r.has_value(), other.last_error_message());
    CHECK(r->body == "6");
    CHECK(server.accepts() == 2);

    // A moved-from transport can be assigned to (and destroyed: `t` is, at the end).
    moved = genesys::curl_transport{quick()};
    r = moved.send({genesys::http_method::get, server.url("/k"), {}, ""});
    REQUIRE_MESSAGE(r.has_value(), moved.last_error_message());
    CHECK(r->body == "7");
    CHECK(server.accepts() == 3);
}

TEST_CASE("curl_transport: a refused connection is connection_refused, with libcurl's message")
{
    refusing_port closed;
    genesys::curl_transport t{quick()};
    const std::string url = "http://127.0.0.1:" + std::to_string(closed.port()) + "/";
    auto r = t.send({genesys::http_method::get, url, api_headers, ""});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == errc::connection_refused);
    CHECK(r.error() == genesys::make_curl_error_code(CURLE_COULDNT_CONNECT));
    CHECK(&r.error().category() == &genesys::curl_category());
    CHECK_FALSE(t.last_error_message().empty());
    CHECK(t.last_error_message().find(std::to_string(closed.port())) != std::string_view::npos);
    CHECK(t.last_error_message().find("secret-token-123") == std::string_view::npos);

    // A success afterwards clears the message.
    loopback_server server({reply(ok())});
    REQUIRE(t.send({genesys::http_method::get, server.url(), {}, ""}).has_value());
    CHECK(t.last_error_message().empty());
}

TEST_CASE("curl_transport: the total timeout fires against a server that never answers")
{
    loopback_server server({hang()});
    genesys::curl_transport t{opts(2'000ms, 300ms)};
    const auto start = std::chrono::steady_clock::now();
    auto r = t.send({genesys::http_method::get, server.url("/slow"), {}, ""});
    const auto elapsed = std::chrono::steady_clock::now() - start;
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == errc::timed_out);
    CHECK(r.error() == genesys::make_curl_error_code(CURLE_OPERATION_TIMEDOUT));
    CHECK(elapsed >= 250ms);
    CHECK(elapsed < 5s);
    CHECK_FALSE(t.last_error_message().empty());
    CHECK(server.accepts() == 1);
}

static_assert(genesys::cancellable_transport<genesys::curl_transport>);

namespace {

/// Calls `t.cancel()` from another thread once `server` has accepted `connections` connections.
std::thread cancel_when_connected(genesys::curl_transport& t, const loopback_server& server, int connections)
{
    return std::thread([&t, &server, connections] {
        const auto deadline = std::chrono::steady_clock::now() + 5s;
        while (server.accepts() < connections && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(5ms);
        std::this_thread::sleep_for(50ms); // the request is sent, libcurl waits for the answer
        t.cancel();
    });
}

} // namespace

TEST_CASE("curl_transport: cancel() from another thread aborts the send under way, and only that one")
{
    loopback_server silent({hang()});
    loopback_server server({reply(ok("a")), reply(ok("b")), reply(ok("c"))});
    genesys::curl_transport t{quick()};

    // A cancel with no send under way does nothing: the next send is not aborted.
    t.cancel();
    auto r = t.send({genesys::http_method::get, server.url("/a"), {}, ""});
    REQUIRE_MESSAGE(r.has_value(), t.last_error_message());
    CHECK(r->body == "a");

    // The send under way is aborted within libcurl's progress interval, not at its 5 s timeout.
    auto start = std::chrono::steady_clock::now();
    std::thread canceller = cancel_when_connected(t, silent, 1);
    r = t.send({genesys::http_method::get, silent.url("/slow"), {}, ""});
    auto elapsed = std::chrono::steady_clock::now() - start;
    canceller.join();
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == errc::operation_canceled);
    CHECK(r.error() == genesys::make_curl_error_code(CURLE_ABORTED_BY_CALLBACK));
    CHECK(genesys_adapters_test::never_retried(r.error()));
    CHECK(t.last_error_message().find("cancelled") != std::string_view::npos);
    CHECK(elapsed < 2500ms);

    // The cancel was for that send only: the next one, on the same handle, succeeds.
    r = t.send({genesys::http_method::get, server.url("/b"), {}, ""});
    REQUIRE_MESSAGE(r.has_value(), t.last_error_message());
    CHECK(r->body == "b");
    CHECK(t.last_error_message().empty());

    // A cancel after that send ended is lost too.
    t.cancel();
    r = t.send({genesys::http_method::get, server.url("/c"), {}, ""});
    REQUIRE_MESSAGE(r.has_value(), t.last_error_message());
    CHECK(r->body == "c");
}

TEST_CASE("curl_transport: cancel() reaches a transport moved after its handle was set up")
{
    loopback_server server({reply(ok("first"))});
    loopback_server silent({hang(), hang()});
    auto original = std::make_unique<genesys::curl_transport>(quick());
    auto r = original->send({genesys::http_method::get, server.url("/"), {}, ""}); // sets the handle up
    REQUIRE_MESSAGE(r.has_value(), original->last_error_message());
    genesys::curl_transport moved{std::move(*original)};
    original.reset(); // the progress callback must not look at the old object any more

    const auto start = std::chrono::steady_clock::now();
    std::thread canceller = cancel_when_connected(moved, silent, 1);
    r = moved.send({genesys::http_method::get, silent.url("/slow"), {}, ""});
    canceller.join();
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == errc::operation_canceled);
    CHECK(std::chrono::steady_clock::now() - start < 2500ms);

    genesys::curl_transport assigned{quick()};
    assigned = std::move(moved);
    std::thread canceller2 = cancel_when_connected(assigned, silent, 2);
    r = assigned.send({genesys::http_method::get, silent.url("/slow"), {}, ""});
    canceller2.join();
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == errc::operation_canceled);
}

TEST_CASE("curl_transport: a connection closed without an answer is an error, not a status")
{
    loopback_server server({close_at_once()});
    genesys::curl_transport t{quick()};
    auto r = t.send({genesys::http_method::get, server.url("/"), {}, ""});
    REQUIRE_FALSE(r.has_value());
    CHECK((r.error() == errc::connection_aborted || r.error() == errc::connection_reset));
    CHECK_FALSE(t.last_error_message().empty());
}

TEST_CASE("curl_transport: https to a plain-http port fails with a TLS error")
{
    loopback_server server({garbage("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")});
    genesys::curl_transport t{opts(3'000ms, 3'000ms)};
    auto r = t.send({genesys::http_method::get, server.url("/", true), api_headers, ""});
    REQUIRE_FALSE(r.has_value());
    CHECK(&r.error().category() == &genesys::curl_category());
    CHECK(r.error() == errc::protocol_error);
    CHECK(r.error() != errc::timed_out);
    CHECK_FALSE(t.last_error_message().empty());
}

TEST_CASE("curl_transport: goes through the proxy option, except for no_proxy hosts")
{
    loopback_server proxy({reply(ok("via proxy"))});
    loopback_server origin({reply(ok("direct"))});
    genesys::curl_options o = quick();
    o.proxy = proxy.url("");
    o.no_proxy.clear();
    genesys::curl_transport t{o};
    auto r = t.send({genesys::http_method::get, "http://api.example.invalid/api/v2/tokens/me", {}, ""});
    REQUIRE_MESSAGE(r.has_value(), t.last_error_message());
    CHECK(r->body == "via proxy");
    const auto raw = proxy.requests();
    REQUIRE(raw.size() == 1);
    CHECK(parse_request(raw[0]).line == "GET http://api.example.invalid/api/v2/tokens/me HTTP/1.1");

    o.no_proxy = "127.0.0.1";
    genesys::curl_transport direct{o};
    r = direct.send({genesys::http_method::get, origin.url("/d"), {}, ""});
    REQUIRE_MESSAGE(r.has_value(), direct.last_error_message());
    CHECK(r->body == "direct");
    CHECK(proxy.requests().size() == 1);
    CHECK(proxy.accepts() == 1);
}

TEST_CASE("curl_transport: a 3xx is returned as is, no redirect is followed")
{
    loopback_server server(
        {reply("HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n"), reply(ok("no"))});
    genesys::curl_transport t{quick()};
    auto r = t.send({genesys::http_method::get, server.url("/start"), {}, ""});
    REQUIRE_MESSAGE(r.has_value(), t.last_error_message());
    CHECK(r->status == 302);
    CHECK(r->headers.get("Location") == "/elsewhere");
    CHECK(server.requests().size() == 1);
}

TEST_CASE("curl_transport: a body over max_response_bytes is message_size")
{
    loopback_server server({reply(ok(std::string(100, 'x'))),
                            reply("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  "40\r\n" +
                                  std::string(64, 'y') + "\r\n40\r\n" + std::string(64, 'y') + "\r\n0\r\n\r\n")});
    genesys::curl_options o = quick();
    o.max_response_bytes = 99;
    genesys::curl_transport t{o};
    auto r = t.send({genesys::http_method::get, server.url("/known-length"), {}, ""});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == errc::message_size);
    CHECK(r.error() == genesys::make_curl_error_code(CURLE_FILESIZE_EXCEEDED));
    CHECK_FALSE(t.last_error_message().empty());

    genesys::curl_transport t2{o};
    r = t2.send({genesys::http_method::get, server.url("/chunked"), {}, ""});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == errc::message_size);

    // A HEAD announcing a large body is fine: no body is read.
    loopback_server head_server({reply("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")});
    genesys::curl_transport t3{o};
    r = t3.send({genesys::http_method::head, head_server.url("/h"), {}, ""});
    REQUIRE_MESSAGE(r.has_value(), t3.last_error_message());
    CHECK(r->status == 200);
}

TEST_CASE("curl_transport: a header that could inject lines is rejected before anything is sent")
{
    loopback_server server({reply(ok())});
    genesys::curl_transport t{quick()};
    auto r = t.send({genesys::http_method::get, server.url(), {{"Authorization", "Bearer x\r\nX-Injected: 1"}}, ""});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == errc::invalid_argument);
    CHECK(t.last_error_message().find("Authorization") != std::string_view::npos);
    CHECK(t.last_error_message().find("X-Injected") == std::string_view::npos);

    r = t.send({genesys::http_method::get, server.url(), {{"Bad Name", "v"}}, ""});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == errc::invalid_argument);

    r = t.send({genesys::http_method::get, std::string("http://127.0.0.1:1/\0x", 21), {}, ""});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == errc::invalid_argument);
    CHECK(server.accepts() == 0);
}

TEST_CASE("curl_transport: only http and https URLs are fetched")
{
    genesys::curl_transport t{quick()};
    auto r = t.send({genesys::http_method::get, "file:///etc/passwd", {}, ""});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == errc::protocol_not_supported);
}

TEST_CASE("curl_transport: curl_category names and maps libcurl's codes")
{
    const auto& cat = genesys::curl_category();
    CHECK(std::string_view(cat.name()) == "libcurl");
    CHECK(&cat == &genesys::curl_category());
    CHECK(cat.message(CURLE_COULDNT_CONNECT) == curl_easy_strerror(CURLE_COULDNT_CONNECT));
    CHECK(cat.message(CURLE_OPERATION_TIMEDOUT) == curl_easy_strerror(CURLE_OPERATION_TIMEDOUT));
    CHECK(cat.message(CURLE_OPERATION_TIMEDOUT) != cat.message(CURLE_COULDNT_CONNECT));

    using genesys::make_curl_error_code;
    CHECK(make_curl_error_code(CURLE_OPERATION_TIMEDOUT).category() == cat);
    CHECK(make_curl_error_code(CURLE_OPERATION_TIMEDOUT).value() == CURLE_OPERATION_TIMEDOUT);
    CHECK(make_curl_error_code(CURLE_COULDNT_CONNECT) == errc::connection_refused);
    CHECK(make_curl_error_code(CURLE_OPERATION_TIMEDOUT) == errc::timed_out);
    CHECK(make_curl_error_code(CURLE_COULDNT_RESOLVE_HOST) == errc::host_unreachable);
    CHECK(make_curl_error_code(CURLE_SEND_ERROR) == errc::connection_reset);
    CHECK(make_curl_error_code(CURLE_RECV_ERROR) == errc::connection_reset);
    CHECK(make_curl_error_code(CURLE_GOT_NOTHING) == errc::connection_aborted);
    CHECK(make_curl_error_code(CURLE_SSL_CONNECT_ERROR) == errc::protocol_error);
    CHECK(make_curl_error_code(CURLE_PEER_FAILED_VERIFICATION) == errc::protocol_error);
    CHECK(make_curl_error_code(CURLE_OUT_OF_MEMORY) == errc::not_enough_memory);
    CHECK(make_curl_error_code(CURLE_OPERATION_TIMEDOUT) != errc::connection_refused);
    CHECK(make_curl_error_code(CURLE_COULDNT_CONNECT) != errc::timed_out);
    CHECK(make_curl_error_code(CURLE_FAILED_INIT) != errc::timed_out);
    CHECK(make_curl_error_code(CURLE_FAILED_INIT).message() == curl_easy_strerror(CURLE_FAILED_INIT));
    CHECK(make_curl_error_code(CURLE_FAILED_INIT).default_error_condition().category() == cat);
    CHECK(make_curl_error_code(CURLE_FAILED_INIT));
    // Converts to std::error_code with the same meaning.
    const std::error_code std_ec = make_curl_error_code(CURLE_OPERATION_TIMEDOUT);
    CHECK(std_ec == std::errc::timed_out);
}

TEST_CASE("curl_transport: default options are the documented ones")
{
    const genesys::curl_options o;
    CHECK(o.connect_timeout == 10s);
    CHECK(o.timeout == 16s);
    CHECK(o.verify_peer);
    CHECK(o.verify_host);
    CHECK(o.ca_file.empty());
    CHECK(o.ca_path.empty());
    CHECK(o.proxy.empty());
    CHECK(o.proxy_username.empty());
    CHECK(o.proxy_password.empty());
    CHECK(o.no_proxy.empty());
    CHECK(o.proxy_from_environment);
    CHECK_FALSE(o.proxy_loopback);
    CHECK(o.max_response_bytes == 8u * 1024 * 1024);
    CHECK(genesys::curl_transport{}.options().timeout == 16s);
}

// ---- security review: proxies, trailers, error classification, framing fields -------------------

TEST_CASE("curl_transport: a loopback URL never goes through a proxy, from the environment or the options")
{
    loopback_server proxy(std::vector<step>(4, reply(ok("via proxy"))));
    loopback_server origin(
        {reply(ok("direct 1")), reply(ok("direct 2")), reply(ok("direct 3")), reply(ok("direct 4"))});
    genesys_adapters_test::env_guard env;
    env.proxy_everything_through(proxy.url(""));

    // The environment's proxy, no no_proxy anywhere.
    genesys::curl_transport t{{.connect_timeout = 5'000ms, .timeout = 5'000ms}};
    auto r = t.send({genesys::http_method::get, origin.url("/a"), api_headers, ""});
    REQUIRE_MESSAGE(r.has_value(), t.last_error_message());
    CHECK(r->body == "direct 1");
    const std::string by_name = "http://localhost:" + std::to_string(origin.port()) + "/b";
    r = t.send({genesys::http_method::get, by_name, api_headers, ""});
    REQUIRE_MESSAGE(r.has_value(), t.last_error_message());
    CHECK(r->body == "direct 2");
    CHECK(proxy.accepts() == 0);

    // The proxy option, on one handle: a loopback URL goes direct between two that use the proxy.
    genesys::curl_transport p{{.connect_timeout = 5'000ms, .timeout = 5'000ms, .proxy = proxy.url("")}};
    r = p.send({genesys::http_method::get, "http://api.example.invalid/1", {}, ""});
    REQUIRE_MESSAGE(r.has_value(), p.last_error_message());
    CHECK(r->body == "via proxy");
    r = p.send({genesys::http_method::get, origin.url("/c"), api_headers, ""});
    REQUIRE_MESSAGE(r.has_value(), p.last_error_message());
    CHECK(r->body == "direct 3");
    r = p.send({genesys::http_method::get, "http://api.example.invalid/2", {}, ""});
    REQUIRE_MESSAGE(r.has_value(), p.last_error_message());
    CHECK(r->body == "via proxy");
    r = p.send({genesys::http_method::get, "http://[::1]:1/", {}, ""}); // direct: refused, not proxied
    REQUIRE_FALSE(r.has_value());

    const auto proxied = proxy.requests();
    REQUIRE(proxied.size() == 2);
    CHECK(parse_request(proxied[0]).line == "GET http://api.example.invalid/1 HTTP/1.1");
    CHECK(parse_request(proxied[1]).line == "GET http://api.example.invalid/2 HTTP/1.1");
    for (const auto& raw : proxied)
        CHECK(raw.find("secret-token-123") == std::string::npos);
    const auto direct = origin.requests();
    REQUIRE(direct.size() == 3);
    for (const auto& raw : direct)
        CHECK(parse_request(raw).has("Authorization"));
}

TEST_CASE("curl_transport: trailer fields of a chunked response are not response headers")
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
    genesys::curl_transport t{quick()};
    auto r = t.send({genesys::http_method::get, server.url("/trailers"), {}, ""});
    REQUIRE_MESSAGE(r.has_value(), t.last_error_message());
    CHECK(r->status == 200);
    CHECK(r->body == "hello world");
    CHECK_FALSE(r->headers.contains("Retry-After"));
    CHECK_FALSE(r->headers.contains("ININ-Correlation-Id"));
    const genesys::http_headers expected{{"Transfer-Encoding", "chunked"},
                                         {"Trailer", "Retry-After, ININ-Correlation-Id"}};
    CHECK(r->headers == expected);

    r = t.send({genesys::http_method::get, server.url("/throttled"), {}, ""});
    REQUIRE_MESSAGE(r.has_value(), t.last_error_message());
    CHECK(r->status == 429);
    CHECK(r->body == "{}");
    CHECK_FALSE(r->headers.contains("Retry-After"));
    CHECK(r->headers.get("ININ-Correlation-Id") == "from-head");
    CHECK(r->headers.size() == 3);

    r = t.send({genesys::http_method::get, server.url("/after"), {}, ""});
    REQUIRE_MESSAGE(r.has_value(), t.last_error_message());
    CHECK(r->body == "after");
    CHECK(server.accepts() == 1);
}

TEST_CASE("curl_transport: a failure a second try cannot fix compares as a never-retried condition")
{
    using genesys_adapters_test::is_tls_verification_class;
    using genesys_adapters_test::never_retried;

    // TLS: an untrusted certificate, and a trusted one for another name.
    {
        const auto id = genesys_adapters_test::make_identity("IP:127.0.0.1,DNS:localhost");
        genesys_adapters_test::tls_handshake_server server(genesys_adapters_test::server_context(id));
        genesys::curl_transport t{quick()};
        auto r = t.send({genesys::http_method::get, server.url(), api_headers, ""});
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == genesys::make_curl_error_code(CURLE_PEER_FAILED_VERIFICATION));
        CHECK(is_tls_verification_class(r.error()));
        CHECK(never_retried(r.error()));
        CHECK(server.accepts() == 1);
    }
    {
        const auto id = genesys_adapters_test::make_identity("DNS:example.com");
        const genesys_adapters_test::temp_pem ca(id.cert_pem);
        genesys_adapters_test::tls_handshake_server server(genesys_adapters_test::server_context(id));
        genesys::curl_options o = quick();
        o.ca_file = ca.path.string();
        genesys::curl_transport t{o};
        auto r = t.send({genesys::http_method::get, server.url("/", "localhost"), api_headers, ""});
        REQUIRE_FALSE(r.has_value());
        CHECK(is_tls_verification_class(r.error()));
        CHECK(never_retried(r.error()));
    }

    // A body over max_response_bytes (known length and chunked).
    {
        loopback_server server({reply(ok(std::string(100, 'x'))),
                                reply("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                      "40\r\n" +
                                      std::string(64, 'y') + "\r\n40\r\n" + std::string(64, 'y') + "\r\n0\r\n\r\n")});
        genesys::curl_options o = quick();
        o.max_response_bytes = 99;
        for (const char* target : {"/known-length", "/chunked"}) {
            CAPTURE(target);
            genesys::curl_transport t{o};
            auto r = t.send({genesys::http_method::get, server.url(target), {}, ""});
            REQUIRE_FALSE(r.has_value());
            CHECK(r.error() == errc::message_size);
            CHECK(never_retried(r.error()));
        }
    }

    // A request that cannot be sent, an unsupported scheme, a cancelled transfer.
    genesys::curl_transport t{quick()};
    auto r = t.send({genesys::http_method::get, "http://127.0.0.1:9/", {{"X-Evil", "a\r\nb"}}, ""});
    REQUIRE_FALSE(r.has_value());
    CHECK(never_retried(r.error()));
    r = t.send({genesys::http_method::get, "gopher://127.0.0.1:9/", {}, ""});
    REQUIRE_FALSE(r.has_value());
    CHECK(never_retried(r.error()));
    CHECK(genesys::make_curl_error_code(CURLE_ABORTED_BY_CALLBACK) == errc::operation_canceled);
    CHECK(never_retried(genesys::make_curl_error_code(CURLE_ABORTED_BY_CALLBACK)));
}

TEST_CASE("curl_transport: transient failures do not compare as never-retried conditions")
{
    using genesys_adapters_test::never_retried;
    refusing_port closed;
    genesys::curl_transport t{opts(5'000ms, 300ms)};
    auto r = t.send({genesys::http_method::get, "http://127.0.0.1:" + std::to_string(closed.port()) + "/", {}, ""});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == errc::connection_refused);
    CHECK_FALSE(never_retried(r.error()));

    loopback_server closing({close_at_once()});
    r = t.send({genesys::http_method::get, closing.url("/eof"), {}, ""});
    REQUIRE_FALSE(r.has_value());
    CHECK_FALSE(never_retried(r.error()));

    loopback_server silent({hang()});
    r = t.send({genesys::http_method::get, silent.url("/timeout"), {}, ""});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == errc::timed_out);
    CHECK_FALSE(never_retried(r.error()));

    for (const CURLcode code : {CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT, CURLE_COULDNT_RESOLVE_HOST,
                                CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE}) {
        CAPTURE(code);
        CHECK_FALSE(never_retried(genesys::make_curl_error_code(code)));
    }
}

TEST_CASE("curl_transport: a request with a framing or hop-by-hop field is refused before anything is sent")
{
    loopback_server server({reply(ok("fine"))});
    genesys::curl_transport t{quick()};
    for (const char* name : {"Content-Length", "transfer-encoding", "Connection", "Expect", "TE", "Upgrade", "HOST"}) {
        CAPTURE(name);
        auto r = t.send({genesys::http_method::put, server.url("/x"), {{"Authorization", "Bearer t0k3n"}, {name, "1"}},
                         "{}"});
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == errc::invalid_argument);
        CHECK(t.last_error_message().find(name) != std::string_view::npos);
        CHECK(t.last_error_message().find("t0k3n") == std::string_view::npos);
    }
    CHECK(server.accepts() == 0);

    // A field that merely contains one of those names is fine.
    auto r = t.send({genesys::http_method::get, server.url("/y"), {{"X-Connection-Id", "7"}}, ""});
    REQUIRE_MESSAGE(r.has_value(), t.last_error_message());
    CHECK(r->body == "fine");
}

TEST_CASE("curl_transport: its failures' codes are condition::network, its timeout condition::timeout too")
{
    using genesys::condition;
    for (CURLcode c : {CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_RECV_ERROR, CURLE_SSL_CONNECT_ERROR,
                       CURLE_PEER_FAILED_VERIFICATION, CURLE_GOT_NOTHING, CURLE_SEND_ERROR}) {
        const auto ec = genesys::make_curl_error_code(c);
        CAPTURE(ec.message());
        CHECK(ec == condition::network);
        CHECK(ec != condition::timeout);
    }
    CHECK(genesys::make_curl_error_code(CURLE_OPERATION_TIMEDOUT) == condition::timeout);
    CHECK(genesys::make_curl_error_code(CURLE_OPERATION_TIMEDOUT) == condition::network);
    CHECK(genesys::make_curl_error_code(CURLE_ABORTED_BY_CALLBACK) != condition::network); // cancelled
}
