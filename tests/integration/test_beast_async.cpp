// SPDX-License-Identifier: BSL-1.0
// Tests of <genesys/transport/beast_async.hpp> against the emulator, run in-process on loopback
// (http and https, the certificate made at test time): the pool and its limit, faults, reconnects,
// cancellation, lifetimes (for ASan/LSan) and several threads (for TSan).

#include <genesys/genesys.hpp>
#include <genesys/transport/beast.hpp>
#include <genesys/transport/beast_async.hpp>

#if __has_include(<genesys/async.hpp>)
#include <genesys/async.hpp>
#define GENESYS_TEST_HAS_ASYNC_API 1
#endif

// clang 14 cannot compile a coroutine with -fsanitize=function (part of -fsanitize=undefined):
// "Cannot represent a difference across sections". The use_awaitable case is then left to the
// g++ and ThreadSanitizer builds.
#if defined(__clang__) && __clang_major__ < 15
#if __has_feature(undefined_behavior_sanitizer)
#define GENESYS_TEST_NO_COROUTINES 1
#endif
#endif

#include "../heap_scan.hpp"
#include "adapters_tls.hpp"
#include "emulator.hpp"
#include "loopback_server.hpp"
#include "server.hpp"

#include <doctest/doctest.h>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#if !defined(GENESYS_TEST_NO_COROUTINES)
#include <boost/asio/co_spawn.hpp>
#endif
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#if !defined(GENESYS_TEST_NO_COROUTINES)
#include <boost/asio/use_awaitable.hpp>
#endif
#include <boost/asio/use_future.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace seed = genesys_emulator::seed;
using boost::system::error_code;
using genesys::http_method;
using genesys::http_request;
using genesys::http_response;
using namespace std::chrono_literals;

// ---- the emulator, in-process ------------------------------------------------------------------

/// The test certificate (127.0.0.1 and localhost), its key, and one for another host, as files.
struct tls_files {
    genesys_adapters_test::test_identity id = genesys_adapters_test::make_identity("IP:127.0.0.1,DNS:localhost");
    genesys_adapters_test::temp_pem cert{id.cert_pem};
    genesys_adapters_test::temp_pem key{id.key_pem};
    genesys_adapters_test::test_identity other_id = genesys_adapters_test::make_identity("DNS:other.example");
    genesys_adapters_test::temp_pem other_cert{other_id.cert_pem};
    genesys_adapters_test::temp_pem other_key{other_id.key_pem};

    static const tls_files& get()
    {
        static const tls_files instance;
        return instance;
    }
};

genesys_emulator::options service_options()
{
    genesys_emulator::options o;
    o.rate_limit = 1'000'000; // thousands of calls with one token: not the per-token limit under test
    return o;
}

/// The emulator's service and its HTTP(S) server on a thread; stopped and joined at the end.
class emulator {
public:
    explicit emulator(bool tls, bool other_host_cert = false) : tls_(tls), other_(other_host_cert) { start(0); }
    ~emulator() { stop(); }
    emulator(const emulator&) = delete;
    emulator& operator=(const emulator&) = delete;

    /// Stops the server (every open connection is closed) and starts a new one on the same port,
    /// with the same service (its counters go on).
    void restart()
    {
        const auto port = server_->port();
        stop();
        start(port);
    }

    std::string url(std::string_view target = "/api/v2/tokens/me") const
    {
        return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(server_->port()) +
               std::string(target);
    }

    /// Connections accepted and API requests seen since the service started.
    std::int64_t connections() { return stat("connections"); }
    std::int64_t requests() { return stat("requests"); }

    genesys::beast_async_options client_options(std::size_t max_connections = 8) const
    {
        genesys::beast_async_options o;
        o.max_connections = max_connections;
        o.timeout = 10s;
        if (tls_)
            o.ca_file = tls_files::get().cert.path.string();
        return o;
    }

private:
    std::int64_t stat(const char* name)
    {
        auto r = svc_.handle({http_method::get, "/__emulator/stats", {}, {}});
        return boost::json::parse(r.response.body).at(name).as_int64();
    }

    void start(unsigned short port)
    {
        genesys_emulator::server_options o;
        o.port = port;
        if (tls_) {
            const auto& f = tls_files::get();
            o.tls_cert = (other_ ? f.other_cert : f.cert).path.string();
            o.tls_key = (other_ ? f.other_key : f.key).path.string();
        }
        server_ = std::make_unique<genesys_emulator::server>(svc_, o);
        runner_ = std::thread([s = server_.get()] { s->run(); });
    }

    void stop()
    {
        if (runner_.joinable()) {
            server_->stop();
            runner_.join();
        }
    }

    bool tls_;
    bool other_;
    genesys_emulator::service svc_{service_options()};
    std::unique_ptr<genesys_emulator::server> server_;
    std::thread runner_;
};

http_request get_me(const emulator& emu, std::string fault = {})
{
    http_request r{http_method::get, emu.url(), {{"Authorization", "Bearer " + std::string(seed::admin_token)}}, {}};
    if (!fault.empty())
        r.headers.add("X-Emulator-Fault", std::move(fault));
    return r;
}

/// A `GET /api/v2/tokens/me` answer for the admin token: 200, the seeded organization, a correlation id.
void check_me(const error_code& ec, const http_response& r)
{
    REQUIRE_MESSAGE(!ec, ec.message());
    REQUIRE(r.status == 200);
    const auto body = boost::json::parse(r.body).as_object();
    CHECK(body.at("organization").at("name").as_string() == seed::org_name);
    CHECK(r.headers.get("ININ-Correlation-Id").has_value());
}

using clock_type = std::chrono::steady_clock;

std::chrono::milliseconds since(clock_type::time_point t0)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t0);
}

/// One send, run to completion on a fresh io_context.
std::pair<error_code, http_response> send_one(genesys::beast_async_options o, const http_request& req)
{
    asio::io_context ioc;
    genesys::beast_async_transport t(ioc, std::move(o));
    std::optional<std::pair<error_code, http_response>> out;
    t.async_send(req, [&](error_code ec, http_response r) { out.emplace(ec, std::move(r)); });
    ioc.run();
    REQUIRE(out.has_value());
    return std::move(*out);
}

static_assert(genesys::async_transport<genesys::beast_async_transport>);
static_assert(std::is_copy_constructible_v<genesys::beast_async_transport>);
static_assert(std::is_nothrow_move_constructible_v<genesys::beast_async_transport>);

} // namespace

// ---- the pool ----------------------------------------------------------------------------------

TEST_CASE("beast_async_transport: 1000 concurrent sends, all answered, never more than max_connections connections")
{
    for (const bool tls : {false, true}) {
        CAPTURE(tls);
        emulator emu(tls);
        asio::io_context ioc;
        genesys::beast_async_transport t(ioc, emu.client_options(8));
        constexpr int n = 1000;
        int answered = 0;
        std::set<std::string> correlation_ids;
        std::size_t most_open = 0;
        const auto request = get_me(emu);
        for (int i = 0; i < n; ++i) {
            t.async_send(request, [&](error_code ec, http_response r) {
                ++answered;
                most_open = std::max(most_open, t.open_connections());
                check_me(ec, r);
                correlation_ids.insert(std::string(r.headers.get("ININ-Correlation-Id").value_or("")));
            });
        }
        CHECK(answered == 0); // never inline
        CHECK(t.open_connections() == 8);
        CHECK(t.queued_requests() == n - 8);
        ioc.run();
        CHECK(answered == n);
        CHECK(correlation_ids.size() == n); // every answer its own: none lost, none delivered twice
        CHECK(emu.requests() == n);         // nothing sent twice
        CHECK(emu.connections() == 8);      // the server saw exactly the pool's 8 connections, each reused
        CHECK(most_open <= 8);
        CHECK(t.open_connections() == 8);
        CHECK(t.idle_connections() == 8);
        CHECK(t.queued_requests() == 0);
    }
}

TEST_CASE("beast_async_transport: a host's requests wait for its connections, another host has its own pool")
{
    emulator a(false), b(false);
    asio::io_context ioc;
    genesys::beast_async_transport t(ioc, a.client_options(2));
    int done = 0;
    for (int i = 0; i < 20; ++i) {
        t.async_send(get_me(a), [&](error_code ec, http_response r) { check_me(ec, r), ++done; });
        t.async_send(get_me(b), [&](error_code ec, http_response r) { check_me(ec, r), ++done; });
    }
    CHECK(t.open_connections() == 4);
    ioc.run();
    CHECK(done == 40);
    CHECK(a.connections() == 2);
    CHECK(b.connections() == 2);
}

// ---- faults ------------------------------------------------------------------------------------

TEST_CASE("beast_async_transport: delay over the timeout, close-mid and rate-limited, over http and https")
{
    for (const bool tls : {false, true}) {
        CAPTURE(tls);
        emulator emu(tls);
        auto o = emu.client_options();
        o.timeout = 300ms;

        SUBCASE("a delay past the timeout is boost::beast::error::timeout, a transient failure")
        {
            const auto t0 = clock_type::now();
            auto [ec, r] = send_one(o, get_me(emu, "delay;ms=3000"));
            CHECK(ec == boost::beast::error::timeout);
            CHECK(genesys::detail::is_transient_network_error(ec));
            CHECK(r.status == 0);
            CHECK(since(t0) >= 280ms);
            CHECK(since(t0) < 2000ms);
        }
        SUBCASE("each request on a reused connection has a timeout of its own")
        {
            asio::io_context ioc;
            genesys::beast_async_transport t(ioc, o);
            auto once = [&](http_request req) {
                std::optional<std::pair<error_code, http_response>> out;
                t.async_send(req, [&](error_code ec, http_response r) { out.emplace(ec, std::move(r)); });
                ioc.restart();
                ioc.run();
                REQUIRE(out.has_value());
                return std::move(*out);
            };
            auto [ec1, r1] = once(get_me(emu));
            check_me(ec1, r1);
            std::this_thread::sleep_for(400ms); // the first request's deadline is past
            auto [ec2, r2] = once(get_me(emu, "delay;ms=100"));
            check_me(ec2, r2); // a delay under the timeout is only a delay
            const auto t0 = clock_type::now();
            auto [ec3, r3] = once(get_me(emu, "delay;ms=3000"));
            CHECK(ec3 == boost::beast::error::timeout);
            CHECK(since(t0) >= 280ms);
            CHECK(since(t0) < 2000ms);
            CHECK(emu.connections() == 1);
        }
        SUBCASE("close-mid is a network error, not a response and not a timeout")
        {
            auto [ec, r] = send_one(o, get_me(emu, "close-mid"));
            CHECK(ec);
            CHECK(ec != boost::beast::error::timeout);
            CHECK(ec != asio::error::operation_aborted);
            CHECK(genesys::detail::is_transient_network_error(ec));
            CHECK(r.status == 0);
            CHECK(emu.requests() == 1); // part of the answer came: not sent again
        }
        SUBCASE("rate-limited is a 429 response with Retry-After")
        {
            auto [ec, r] = send_one(o, get_me(emu, "rate-limited;ms=2000"));
            REQUIRE_FALSE(ec);
            CHECK(r.status == 429);
            CHECK(r.headers.get("Retry-After") == "2");
            CHECK(r.body.find("too.many.requests") != std::string::npos);
        }
    }
}

TEST_CASE("beast_async_transport: invalid requests fail before anything is sent, never inline")
{
    emulator emu(false);
    asio::io_context ioc;
    genesys::beast_async_transport t(ioc, emu.client_options());
    std::vector<error_code> results;
    auto record = [&](error_code ec, const http_response&) { results.push_back(ec); };
    t.async_send({http_method::get, "ftp://127.0.0.1/x", {}, {}}, record);
    auto framing = get_me(emu);
    framing.headers.add("Content-Length", "0");
    t.async_send(framing, record);
    auto crlf = get_me(emu);
    crlf.headers.add("X-Bad", "a\r\nInjected: 1");
    t.async_send(crlf, record);
    CHECK(results.empty());
    ioc.run();
    REQUIRE(results.size() == 3);
    for (const auto& ec : results)
        CHECK(ec == boost::system::errc::invalid_argument);
    CHECK(emu.connections() == 0);
}

// ---- reconnecting ------------------------------------------------------------------------------

TEST_CASE("beast_async_transport: a kept-alive connection the server closed while idle is replaced")
{
    for (const bool tls : {false, true}) {
        CAPTURE(tls);
        emulator emu(tls);
        asio::io_context ioc;
        genesys::beast_async_transport t(ioc, emu.client_options(1));
        auto once = [&](const http_request& req) {
            std::optional<std::pair<error_code, http_response>> out;
            t.async_send(req, [&](error_code ec, http_response r) { out.emplace(ec, std::move(r)); });
            ioc.restart();
            ioc.run();
            REQUIRE(out.has_value());
            return std::move(*out);
        };
        auto [ec1, r1] = once(get_me(emu));
        check_me(ec1, r1);
        CHECK(t.idle_connections() == 1);

        emu.restart(); // closes every open connection, ours included, and listens again
        std::this_thread::sleep_for(50ms);
        auto [ec2, r2] = once(get_me(emu));
        check_me(ec2, r2);
        CHECK(emu.connections() == 2);
        CHECK(emu.requests() == 2);
        CHECK(t.open_connections() == 1);

        // A POST is never sent twice, so a connection handed back even a moment ago is checked
        // before a POST reuses it: the server's close is found, and the POST goes out once, on a
        // new connection (answered 401: no client credentials).
        emu.restart();
        std::this_thread::sleep_for(50ms);
        const http_request post{http_method::post, emu.url("/oauth/token"),
                                {{"Content-Type", "application/x-www-form-urlencoded"}}, "grant_type=client_credentials"};
        const auto [ec3, r3] = once(post);
        const error_code post_ec = ec3; // (clang 14: a structured binding cannot be captured)
        REQUIRE_MESSAGE(!post_ec, post_ec.message());
        CHECK(r3.status == 401);
        CHECK(emu.connections() == 3);
        CHECK(emu.requests() == 3);
    }
}

TEST_CASE("beast_async_transport: a reused connection dropped before any answer is retried once, on a fresh one")
{
    emulator emu(false);
    asio::io_context ioc;
    genesys::beast_async_transport t(ioc, emu.client_options(1));
    auto once = [&](http_request req) {
        std::optional<std::pair<error_code, http_response>> out;
        t.async_send(req, [&](error_code ec, http_response r) { out.emplace(ec, std::move(r)); });
        ioc.restart();
        ioc.run();
        REQUIRE(out.has_value());
        return std::move(*out);
    };
    auto [ec1, r1] = once(get_me(emu));
    check_me(ec1, r1);

    // The kept-alive connection is closed with no answer: sent once more on a new connection,
    // where the same happens, and that failure is returned as is.
    auto [ec2, r2] = once(get_me(emu, "close-before"));
    CHECK(ec2 == boost::beast::http::error::end_of_stream);
    CHECK(emu.requests() == 3);
    CHECK(emu.connections() == 2);

    // The next request connects again and succeeds.
    auto [ec3, r3] = once(get_me(emu));
    check_me(ec3, r3);
    CHECK(emu.connections() == 3);

    // A POST (not idempotent) that may have been received is not sent again.
    http_request post{http_method::post, emu.url("/oauth/token"),
                      {{"Content-Type", "application/x-www-form-urlencoded"}, {"X-Emulator-Fault", "close-before"}},
                      "grant_type=client_credentials"};
    auto [ec4, r4] = once(post);
    CHECK(ec4 == boost::beast::http::error::end_of_stream);
    CHECK(emu.requests() == 5);
    CHECK(emu.connections() == 3);
}

// ---- cancellation ------------------------------------------------------------------------------

TEST_CASE("beast_async_transport: cancelling a queued send takes it out of the queue")
{
    emulator emu(false);
    asio::io_context ioc;
    genesys::beast_async_transport t(ioc, emu.client_options(1));
    asio::cancellation_signal signal;
    std::vector<std::string> order;
    error_code queued_ec;
    t.async_send(get_me(emu, "delay;ms=400"), [&](error_code ec, http_response r) {
        check_me(ec, r);
        order.push_back("first");
    });
    t.async_send(get_me(emu), asio::bind_cancellation_slot(signal.slot(), [&](error_code ec, http_response r) {
                     queued_ec = ec;
                     CHECK(r.status == 0);
                     order.push_back("queued");
                 }));
    CHECK(t.queued_requests() == 1);
    CHECK(signal.slot().has_handler());
    asio::post(ioc, [&] { signal.emit(asio::cancellation_type::terminal); });
    ioc.run();
    CHECK(queued_ec == asio::error::operation_aborted);
    CHECK(order == std::vector<std::string>{"queued", "first"}); // at once, not after the first
    CHECK_FALSE(signal.slot().has_handler());                  // the slot is cleared on completion
    CHECK(emu.requests() == 1);                                  // never sent

    // The connection in use was not disturbed: the next send reuses it.
    std::optional<error_code> next;
    t.async_send(get_me(emu), [&](error_code ec, http_response r) { check_me(ec, r), next = ec; });
    ioc.restart();
    ioc.run();
    CHECK(next.has_value());
    CHECK(emu.connections() == 1);
}

TEST_CASE("beast_async_transport: cancelling a send in progress closes its connection")
{
    for (const bool tls : {false, true}) {
        CAPTURE(tls);
        emulator emu(tls);
        asio::io_context ioc;
        genesys::beast_async_transport t(ioc, emu.client_options(1));
        asio::cancellation_signal signal;
        std::optional<error_code> result;
        const auto t0 = clock_type::now();
        t.async_send(get_me(emu, "delay;ms=3000"),
                     asio::bind_cancellation_slot(signal.slot(), [&](error_code ec, http_response) { result = ec; }));
        asio::steady_timer timer(ioc, 300ms);
        timer.async_wait([&](error_code) {
            // A partial or total cancellation cannot stop a send under way; terminal can.
            signal.emit(asio::cancellation_type::partial);
            signal.emit(asio::cancellation_type::terminal);
        });
        ioc.run();
        REQUIRE(result.has_value());
        CHECK(*result == asio::error::operation_aborted);
        CHECK(since(t0) < 2000ms);
        CHECK_FALSE(signal.slot().has_handler());
        CHECK(emu.requests() == 1);
        CHECK(t.open_connections() == 0); // closed, not back in the pool

        std::optional<error_code> next;
        t.async_send(get_me(emu), [&](error_code ec, http_response r) { check_me(ec, r), next = ec; });
        ioc.restart();
        ioc.run();
        CHECK(next.has_value());
        CHECK(emu.connections() == 2); // a new connection: the cancelled one was not reused
        signal.emit(asio::cancellation_type::terminal); // after completion: nothing happens
    }
}

// ---- lifetimes ---------------------------------------------------------------------------------

TEST_CASE("beast_async_transport: destroying or moving the transport with sends in flight")
{
    emulator emu(false);
    asio::io_context ioc;
    int ok = 0;
    auto count = [&](error_code ec, http_response r) { check_me(ec, r), ++ok; };
    {
        auto t = std::make_unique<genesys::beast_async_transport>(ioc, emu.client_options(2));
        for (int i = 0; i < 10; ++i)
            t->async_send(get_me(emu, i % 2 ? "delay;ms=20" : ""), count);
        ioc.run_for(5ms); // some under way, some queued

        genesys::beast_async_transport moved(std::move(*t));
        for (int i = 0; i < 10; ++i)
            moved.async_send(get_me(emu), count);
        std::optional<error_code> from_moved;
        t->async_send(get_me(emu), [&](error_code ec, http_response) { from_moved = ec; });
        t.reset();
        genesys::beast_async_transport copy = moved; // shares the pool
        CHECK(copy.open_connections() == moved.open_connections());
        ioc.run_for(1ms);
        // moved and copy end here: 20 sends are still in flight.
        ioc.restart();
        ioc.run();
        REQUIRE(from_moved.has_value());
        CHECK(*from_moved == boost::system::errc::operation_not_permitted);
    }
    ioc.restart();
    ioc.run();
    CHECK(ok == 20);
    CHECK(emu.connections() == 2);
}

TEST_CASE("beast_async_transport: destroying the io_context with sends in flight destroys their handlers")
{
    emulator emu(false);
    auto ioc = std::make_unique<asio::io_context>();
    auto token = std::make_shared<int>(0); // held by every handler
    std::atomic<int> called{0};
    {
        genesys::beast_async_transport t(*ioc, emu.client_options(2));
        for (int i = 0; i < 20; ++i)
            t.async_send(get_me(emu, "delay;ms=5000"), [token, &called](error_code, http_response) { ++called; });
        ioc->run_for(200ms); // two requests on the wire (in their delay), the others queued
        CHECK(t.queued_requests() == 18);
        CHECK(emu.requests() == 2);
    }
    CHECK(token.use_count() == 21);
    ioc.reset();
    CHECK(token.use_count() == 1); // every handler destroyed: no operation or pool left behind
    CHECK(called == 0);
}

// ---- TLS ---------------------------------------------------------------------------------------

TEST_CASE("beast_async_transport: TLS verification failures are asio.ssl codes, never retried")
{
    SUBCASE("a certificate no trusted CA signed")
    {
        emulator emu(true);
        auto o = emu.client_options();
        o.ca_file.clear(); // the system's trust store, which does not know the test certificate
        auto [ec, r] = send_one(o, get_me(emu));
        CHECK(std::string_view(ec.category().name()) == "asio.ssl");
        CHECK_FALSE(genesys::detail::is_transient_network_error(ec));
        CHECK(emu.requests() == 0);
    }
    SUBCASE("a trusted certificate for another host")
    {
        emulator emu(true, /*other_host_cert=*/true);
        auto o = emu.client_options();
        o.ca_file = tls_files::get().other_cert.path.string();
        auto [ec, r] = send_one(o, get_me(emu));
        CHECK(std::string_view(ec.category().name()) == "asio.ssl");
        CHECK_FALSE(genesys::detail::is_transient_network_error(ec));
        CHECK(emu.requests() == 0);
        o.verify_peer = false; // and the same server is fine unverified
        auto [ec2, r2] = send_one(o, get_me(emu));
        check_me(ec2, r2);
    }
}

// ---- threads -----------------------------------------------------------------------------------

TEST_CASE("beast_async_transport: four threads run the io_context and start sends, some cancelled")
{
    for (const bool tls : {false, true}) {
        CAPTURE(tls);
        emulator emu(tls);
        asio::io_context ioc;
        genesys::beast_async_transport t(ioc.get_executor(), emu.client_options(4));
        constexpr int per_thread = 150;
        std::atomic<int> ok{0}, aborted{0}, other{0};
        std::atomic<std::size_t> most_open{0};
        const auto request = get_me(emu);
        auto work = asio::make_work_guard(ioc);
        std::vector<std::thread> runners, senders;
        for (int th = 0; th < 4; ++th)
            runners.emplace_back([&] { ioc.run(); });
        for (int th = 0; th < 4; ++th) {
            senders.emplace_back([&, th] {
                for (int i = 0; i < per_thread; ++i) {
                    // Every 7th send is cancelled on its own strand, where its handler runs.
                    auto strand = asio::make_strand(ioc);
                    auto signal = std::make_shared<asio::cancellation_signal>();
                    auto handler = asio::bind_executor(
                        strand, asio::bind_cancellation_slot(signal->slot(), [&, signal](error_code ec, http_response r) {
                            if (!ec && r.status == 200)
                                ++ok;
                            else if (ec == asio::error::operation_aborted)
                                ++aborted;
                            else
                                ++other;
                            const auto open = t.open_connections();
                            auto seen = most_open.load();
                            while (open > seen && !most_open.compare_exchange_weak(seen, open)) {
                            }
                        }));
                    t.async_send(request, std::move(handler));
                    if ((i + th) % 7 == 0)
                        asio::post(strand, [signal] { signal->emit(asio::cancellation_type::terminal); });
                }
            });
        }
        for (auto& th : senders)
            th.join();
        work.reset();
        for (auto& th : runners)
            th.join();
        CHECK(ok + aborted + other == 4 * per_thread);
        CHECK(other == 0);
        CHECK(ok >= 4 * per_thread - 4 * per_thread / 7 - 4);
        CHECK(most_open <= 4);
        CHECK(t.open_connections() <= 4);
        CHECK(t.queued_requests() == 0);
    }
}

TEST_CASE("beast_async_transport: on a thread_pool's executor and on a strand of a four-thread io_context")
{
    // The connections' strands: made on the io_context's own executor type (the fast case), on
    // any other executor as is (a thread_pool's here), and, on an executor that already
    // serializes (a strand), that strand itself. Each run by several threads, under TSan.
    emulator emu(false);
    const auto request = get_me(emu);
    constexpr int sends = 200;
    SUBCASE("a thread_pool's executor, four threads")
    {
        asio::thread_pool pool(4);
        std::atomic<int> ok{0}, other{0};
        {
            genesys::beast_async_transport t(pool.get_executor(), emu.client_options(4));
            std::vector<std::thread> senders;
            for (int th = 0; th < 2; ++th)
                senders.emplace_back([&] {
                    for (int i = 0; i < sends / 2; ++i)
                        t.async_send(request, [&](error_code ec, http_response r) {
                            if (!ec && r.status == 200)
                                ++ok;
                            else
                                ++other;
                        });
                });
            for (auto& th : senders)
                th.join();
        }
        pool.join(); // returns once every send completed: each keeps the pool's work
        CHECK(ok == sends);
        CHECK(other == 0);
    }
    SUBCASE("a strand of an io_context run by four threads")
    {
        asio::io_context ioc;
        auto strand = asio::make_strand(ioc);
        genesys::beast_async_transport t(strand, emu.client_options(4));
        std::atomic<int> ok{0}, other{0}, off_strand{0};
        int on_strand_count = 0; // only touched on the strand
        std::vector<std::thread> senders;
        for (int th = 0; th < 2; ++th)
            senders.emplace_back([&] {
                for (int i = 0; i < sends / 2; ++i)
                    t.async_send(request, [&](error_code ec, http_response r) {
                        if (!strand.running_in_this_thread())
                            ++off_strand;
                        ++on_strand_count;
                        if (!ec && r.status == 200)
                            ++ok;
                        else
                            ++other;
                    });
            });
        for (auto& th : senders)
            th.join();
        std::vector<std::thread> runners;
        for (int th = 0; th < 4; ++th)
            runners.emplace_back([&] { ioc.run(); });
        for (auto& th : runners)
            th.join();
        CHECK(ok == sends);
        CHECK(other == 0);
        CHECK(off_strand == 0);
        CHECK(on_strand_count == sends);
        CHECK(t.open_connections() <= 4);
    }
}

// ---- completion tokens -------------------------------------------------------------------------

TEST_CASE("beast_async_transport: completion tokens: future, awaitable, deferred, as_tuple, bind_executor")
{
    emulator emu(false);
    asio::io_context ioc;
    genesys::beast_async_transport t(ioc, emu.client_options(2));
    const auto request = get_me(emu);

    SUBCASE("use_future")
    {
        std::future<http_response> f = t.async_send(request, asio::use_future);
        ioc.run();
        auto r = f.get();
        check_me({}, r);
        // (Not a failure through use_future here: its exception is made on Asio's system thread
        // and ThreadSanitizer cannot see libstdc++'s exception_ptr synchronisation.)
    }
    SUBCASE("use_awaitable")
    {
#if defined(GENESYS_TEST_NO_COROUTINES)
        MESSAGE("use_awaitable not tested: clang 14 cannot compile coroutines under -fsanitize=function");
#else
        int done = 0;
        asio::co_spawn(
            ioc,
            [&]() -> asio::awaitable<void> {
                for (int i = 0; i < 3; ++i) {
                    auto [ec, r] = co_await t.async_send(request, asio::as_tuple(asio::use_awaitable));
                    check_me(ec, r);
                    ++done;
                }
                http_response r = co_await t.async_send(request, asio::use_awaitable);
                check_me({}, r);
                ++done;
            },
            asio::detached);
        ioc.run();
        CHECK(done == 4);
        CHECK(emu.connections() == 1);
#endif
    }
    SUBCASE("deferred: nothing is sent before it is started; the request is kept")
    {
        auto op = [&] {
            auto temporary = request;
            return t.async_send(temporary, asio::deferred);
        }();
        ioc.run();
        CHECK(emu.requests() == 0);
        std::optional<error_code> result;
        std::move(op)([&](error_code ec, http_response r) { check_me(ec, r), result = ec; });
        ioc.restart();
        ioc.run();
        CHECK(result.has_value());
        CHECK(emu.requests() == 1);
    }
    SUBCASE("bind_executor: the handler runs on its strand, another thread running the io_context")
    {
        asio::thread_pool other(1);
        auto strand = asio::make_strand(other);
        std::promise<bool> on_strand;
        t.async_send(request, asio::bind_executor(strand, [&](error_code ec, http_response r) {
                         check_me(ec, r);
                         on_strand.set_value(strand.running_in_this_thread());
                     }));
        ioc.run();
        auto f = on_strand.get_future();
        REQUIRE(f.wait_for(5s) == std::future_status::ready);
        CHECK(f.get());
        other.join();
    }
    SUBCASE("any_completion_handler: the erased handler keeps its strand; an early failure is posted too")
    {
        // Its executor (any_completion_executor) cannot be required blocking.never: the
        // completion goes through the io_context's executor to the strand.
        using erased = asio::any_completion_handler<void(error_code, http_response)>;
        auto strand = asio::make_strand(ioc);
        int calls = 0;
        std::vector<bool> on_strand;
        auto handler = [&](bool expect_ok) {
            return erased(asio::bind_executor(strand, [&, expect_ok](error_code ec, http_response r) {
                ++calls;
                on_strand.push_back(strand.running_in_this_thread());
                if (expect_ok)
                    check_me(ec, r);
                else
                    CHECK(ec == boost::system::errc::invalid_argument);
            }));
        };
        t.async_send(request, handler(true));
        auto bad = request;
        bad.url = "ftp://example.com/"; // rejected before anything is sent
        t.async_send(bad, handler(false));
        CHECK(calls == 0); // never inline
        ioc.run();
        CHECK(calls == 2);
        CHECK(on_strand == std::vector<bool>{true, true});
    }
}

// ---- through the asynchronous API --------------------------------------------------------------

#if defined(GENESYS_TEST_HAS_ASYNC_API)
TEST_CASE("beast_async_transport: 1000 concurrent async_get_tokens_me through async_tokens_api")
{
    emulator emu(false);
    asio::io_context ioc;
    genesys::async_tokens_api<genesys::beast_async_transport> api{
        genesys::beast_async_transport(ioc, emu.client_options(8)),
        genesys::client_config{.base_url = emu.url(""), .access_token = std::string(seed::admin_token)}};
    int ok = 0;
    for (int i = 0; i < 1000; ++i) {
        api.async_get_tokens_me([&](auto result) {
            REQUIRE_MESSAGE(result.has_value(), result.error().message);
            CHECK(result->status == 200);
            CHECK(result->data.organization.value_or(genesys::named_entity{}).name == seed::org_name);
            ++ok;
        });
    }
    ioc.run();
    CHECK(ok == 1000);
    CHECK(emu.requests() == 1000);
    CHECK(emu.connections() <= 8);
}
#endif

// ---- idle TLS connections closed politely -------------------------------------------------------

namespace {

using genesys_adapters_test::ok;

/// One send on `t`, run to completion on `ioc` (restarted).
std::pair<error_code, http_response> send_on(asio::io_context& ioc, genesys::beast_async_transport& t,
                                              const http_request& req)
{
    std::optional<std::pair<error_code, http_response>> out;
    t.async_send(req, [&](error_code ec, http_response r) { out.emplace(ec, std::move(r)); });
    ioc.restart();
    ioc.run();
    REQUIRE(out.has_value());
    return std::move(*out);
}

} // namespace

TEST_CASE("beast_async_transport: an idle TLS connection the server closed with close_notify is not used for a POST")
{
    const auto id = genesys_adapters_test::make_identity("IP:127.0.0.1");
    const genesys_adapters_test::temp_pem ca(id.cert_pem);
    genesys_adapters_test::loopback_server server(
        {genesys_adapters_test::reply_then_close_notify(ok("one")), genesys_adapters_test::reply(ok("two"))},
        genesys_adapters_test::server_context(id));
    asio::io_context ioc;
    genesys::beast_async_options o;
    o.max_connections = 1;
    o.timeout = 5s;
    o.ca_file = ca.path.string();
    genesys::beast_async_transport t(ioc, o);

    const auto first = send_on(ioc, t, {http_method::get, server.url("/1", true), {}, {}});
    REQUIRE_MESSAGE(!first.first, first.first.message());
    CHECK(first.second.body == "one");
    REQUIRE(server.wait_for_closes(1)); // close_notify, then the TCP close, both sent
    CHECK(t.idle_connections() == 1);   // the transport has not looked yet

    // A POST (every OAuth token request) is never resent once it may have reached the server:
    // it succeeds only if the connection the server closed is not written to.
    const auto post = send_on(ioc, t,
                              {http_method::post, server.url("/oauth/token", true),
                               {{"Content-Type", "application/x-www-form-urlencoded"}},
                               "grant_type=client_credentials"});
    const http_response& r2 = post.second;
    REQUIRE_MESSAGE(!post.first, (post.first.message() + ": " + r2.body));
    CHECK(r2.body == "two");
    CHECK(server.accepts() == 2);
    CHECK(server.requests().size() == 2);
}

TEST_CASE("beast_async_transport: a server that never answers: the TLS handshake ends at connect_timeout, the "
          "response at timeout")
{
    // One deadline short, the other far (past the server's own 20 s life): the step the text
    // names and the code say which deadline ended the wait, and that one did.
    for (const bool tls : {false, true}) {
        CAPTURE(tls);
        genesys_adapters_test::loopback_server silent({genesys_adapters_test::hang()});
        genesys::beast_async_options o;
        o.connect_timeout = tls ? 200ms : 60s;
        o.timeout = tls ? 60s : 200ms;
        const auto [ec, r] = send_one(o, {http_method::get, silent.url("/api/v2/tokens/me", tls), {}, {}});
        CHECK(ec == boost::beast::error::timeout);
        CHECK(r.body.rfind(tls ? "TLS handshake with 127.0.0.1:" : "read response from 127.0.0.1:", 0) == 0);
        CHECK(r.body.find("closed due to a timeout") != std::string::npos);
        CHECK(silent.accepts() == 1);
    }
}

// ---- resolution: bounded by cancellation and deadlines ------------------------------------------

namespace {

/// A resolver the test holds: every resolve waits until the test answers it.
struct held_resolver {
    using done_fn = std::function<void(error_code, std::vector<asio::ip::tcp::endpoint>)>;

    std::mutex mutex;
    std::vector<done_fn> pending;
    std::vector<std::string> hosts;

    std::size_t waiting()
    {
        std::lock_guard lock(mutex);
        return pending.size();
    }

    /// Answers every resolve waiting with `endpoints`, outside the lock.
    void answer(std::vector<asio::ip::tcp::endpoint> endpoints)
    {
        std::vector<done_fn> now;
        {
            std::lock_guard lock(mutex);
            now.swap(pending);
        }
        for (auto& done : now)
            done({}, endpoints);
    }

    /// Makes `t` (and its copies) resolve through this resolver.
    static std::shared_ptr<held_resolver> install(genesys::beast_async_transport& t)
    {
        auto r = std::make_shared<held_resolver>();
        genesys::detail::beast_async_test_access::set_resolver(
            t, [r](const std::string& host, std::uint16_t, done_fn done) {
                std::lock_guard lock(r->mutex);
                r->hosts.push_back(host);
                r->pending.push_back(std::move(done));
            });
        return r;
    }
};

/// Runs `ioc` until `done()` is true; bounded (5 s), so a send that never completes fails the test.
template <class Done>
void run_until(asio::io_context& ioc, Done done)
{
    ioc.restart();
    for (int i = 0; i < 500 && !done(); ++i)
        ioc.run_for(10ms);
}

std::vector<asio::ip::tcp::endpoint> loopback_endpoint(std::uint16_t port)
{
    return {asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port)};
}

} // namespace

TEST_CASE("beast_async_transport: cancellation and deadlines end the wait for the resolver at once, "
          "its late answer is dropped")
{
    genesys_adapters_test::loopback_server server({genesys_adapters_test::reply(ok("resolved"))});
    const std::string url = "http://slow-resolver.test:" + std::to_string(server.port()) + "/api/v2/tokens/me";
    const http_request req{http_method::get, url, {}, {}};
    asio::io_context ioc;
    genesys::beast_async_options o;
    o.timeout = 60s;
    o.connect_timeout = 60s;
    std::optional<std::pair<error_code, http_response>> out;
    auto record = [&](error_code ec, http_response r) { out.emplace(ec, std::move(r)); };
    std::shared_ptr<held_resolver> resolver;
    std::optional<genesys::beast_async_transport> t;

    SUBCASE("terminal cancellation")
    {
        t.emplace(ioc, o);
        resolver = held_resolver::install(*t);
        asio::cancellation_signal signal;
        t->async_send(req, asio::bind_cancellation_slot(signal.slot(), record));
        run_until(ioc, [&] { return resolver->waiting() == 1; });
        REQUIRE(resolver->waiting() == 1);
        signal.emit(asio::cancellation_type::terminal);
        run_until(ioc, [&] { return out.has_value(); });
        REQUIRE(out.has_value()); // before the resolver answered
        CHECK(out->first == asio::error::operation_aborted);
        CHECK_FALSE(signal.slot().has_handler());
    }
    SUBCASE("connect_timeout")
    {
        o.connect_timeout = 100ms;
        t.emplace(ioc, o);
        resolver = held_resolver::install(*t);
        t->async_send(req, record);
        run_until(ioc, [&] { return out.has_value(); });
        REQUIRE(out.has_value()); // before the resolver answered
        CHECK(out->first == boost::beast::error::timeout);
        CHECK(out->second.body.find("resolve slow-resolver.test:") == 0);
    }
    SUBCASE("timeout")
    {
        o.timeout = 100ms;
        t.emplace(ioc, o);
        resolver = held_resolver::install(*t);
        t->async_send(req, record);
        run_until(ioc, [&] { return out.has_value(); });
        REQUIRE(out.has_value());
        CHECK(out->first == boost::beast::error::timeout);
    }
    REQUIRE(out.has_value());
    CHECK(out->second.status == 0);
    CHECK(resolver->waiting() == 1); // still unanswered when the send completed
    CHECK(t->open_connections() == 0);

    // The late answer is dropped: nothing connects, nothing completes twice.
    resolver->answer(loopback_endpoint(server.port()));
    out.reset();
    ioc.restart();
    ioc.run();
    CHECK_FALSE(out.has_value());
    CHECK(server.accepts() == 0);

    // The transport goes on: the next send resolves (answered at once) and is answered.
    t->async_send(req, record);
    run_until(ioc, [&] { return resolver->waiting() == 1; });
    resolver->answer(loopback_endpoint(server.port()));
    run_until(ioc, [&] { return out.has_value(); });
    REQUIRE(out.has_value());
    REQUIRE_MESSAGE(!out->first, out->first.message());
    CHECK(out->second.body == "resolved");
    CHECK(resolver->hosts == std::vector<std::string>{"slow-resolver.test", "slow-resolver.test"});
}

#if defined(GENESYS_TEST_HAS_ASYNC_API)
TEST_CASE("beast_async_transport: an async_tokens_api call_timeout ends a call waiting for the resolver")
{
    asio::io_context ioc;
    genesys::beast_async_options o;
    o.timeout = 60s;
    o.connect_timeout = 60s;
    genesys::beast_async_transport t(ioc, o);
    auto resolver = held_resolver::install(t);
    genesys::client_config cfg;
    cfg.base_url = "http://slow-resolver.test:9";
    cfg.access_token = "test-token";
    cfg.call_timeout = 300ms;
    cfg.allow_insecure_http = true; // a host name that is not loopback, never resolved for real
    genesys::async_tokens_api<genesys::beast_async_transport> api{t, cfg};
    std::optional<error_code> failed;
    bool done = false;
    api.async_get_tokens_me([&](auto r) {
        done = true;
        if (!r)
            failed = r.error().code;
    });
    run_until(ioc, [&] { return done; });
    REQUIRE(done); // before the resolver answered
    CHECK(resolver->waiting() == 1);
    REQUIRE(failed.has_value());
    CHECK(*failed == genesys::errc::deadline_exceeded);
    resolver->answer({}); // late, and empty: dropped
    ioc.restart();
    ioc.run();
}
#endif

// ---- the stack's own words about a failure ------------------------------------------------------

TEST_CASE("beast_async_transport: a failure's response body holds the text beast_transport keeps for it")
{
    genesys::beast_options o;
    o.timeout = 5s;
    std::string url;
    std::optional<genesys_adapters_test::refusing_port> refusing;
    std::optional<genesys_adapters_test::loopback_server> untrusted;
    const auto id = genesys_adapters_test::make_identity("IP:127.0.0.1");
    std::string expected_part;
    SUBCASE("a refused connection")
    {
        refusing.emplace();
        url = refusing->url("/x");
        expected_part = "connect to 127.0.0.1:" + std::to_string(refusing->port()) + ": ";
    }
    SUBCASE("a certificate no trusted CA signed: OpenSSL's verification result")
    {
        untrusted.emplace(std::vector<genesys_adapters_test::step>{}, genesys_adapters_test::server_context(id));
        url = untrusted->url("/x", true);
        expected_part = "certificate: self-signed certificate";
    }
    SUBCASE("an invalid URL")
    {
        url = "ftp://127.0.0.1/x";
        expected_part = "invalid URL";
    }
    const http_request req{http_method::get, url, {}, {}};
    auto [ec, r] = send_one(o, req);
    REQUIRE(ec);
    CHECK(r.status == 0);
    CHECK(r.headers.empty());
    CHECK(r.body.find(expected_part) != std::string::npos);
    genesys::beast_transport blocking{o};
    const auto b = blocking.send(req);
    REQUIRE_FALSE(b.has_value());
    CHECK(b.error() == ec);
    CHECK(r.body == blocking.last_error_message()); // the same words as the blocking transport's
}

// ---- secrets -------------------------------------------------------------------------------------

TEST_CASE("beast_async_transport: a sent token is nowhere in the process's memory once the transport and "
          "io_context are gone" *
          doctest::skip(heap_scan::unsupported))
{
    for (const bool tls : {false, true}) {
        CAPTURE(tls);
        namespace test = genesys_adapters_test;
        test::forgetful_server server(ok("fine"), tls ? test::server_context(test::make_identity("IP:127.0.0.1")) : nullptr);
        heap_scan::secret s;
        {
            asio::io_context ioc;
            genesys::beast_async_options o;
            o.verify_peer = false;
            genesys::beast_async_transport t(ioc, o);
            http_request req;
            req.url = server.url("/api/v2/tokens/me");
            std::string value; // no temporary copy of the token
            value.reserve(s.token.size() + 8);
            value.append("Bearer ").append(s.token);
            req.headers.add("Authorization", std::move(value));
            CHECK(heap_scan::contains(s.needle)); // the scan finds it while the caller holds it
            int answered = 0;
            auto count = [&](error_code ec, const http_response& r) { answered += !ec && r.body == "fine"; };
            for (int i = 0; i < 3; ++i) // three connections
                t.async_send(req, count);
            ioc.run();
            t.async_send(req, count); // and one of them reused
            ioc.restart();
            ioc.run();
            CHECK(answered == 4);
            genesys::detail::wipe(req.headers.begin()->value); // the caller's own copy
        }
        genesys::detail::wipe(s.token);
        CHECK_FALSE(heap_scan::contains(s.needle));
    }
}
