// SPDX-License-Identifier: BSL-1.0
// Tests of <genesys/transport/threaded.hpp>: a blocking transport (curl) run on a thread pool,
// against the emulator over loopback; and transports that throw or fail, without a network.

// clang before 17 cannot compile coroutines (Asio's, and ours) with -fsanitize=function (part of
// -fsanitize=undefined): "Cannot represent a difference across sections", llvm/llvm-project#49689.
// That one check is turned off for this file; the rest of UBSan and ASan still apply.
#if defined(__clang__) && __clang_major__ < 17
#pragma clang attribute push(__attribute__((no_sanitize("function"))), apply_to = function)
#endif

#include <genesys/testing/async_fake_transport.hpp>
#include <genesys/transport/curl.hpp>
#include <genesys/transport/threaded.hpp>

#include "../heap_scan.hpp"
#include "emulator_process.hpp"

#include <doctest/doctest.h>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/system/system_error.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace errc = boost::system::errc;
using genesys::http_method;
using genesys::http_request;
using genesys::http_response;
using clock_type = std::chrono::steady_clock;

constexpr std::string_view admin_token = "emulator-admin-token-7c1f";
constexpr std::string_view org_name = "Acme Contact Centre";

genesys::curl_options test_options()
{
    return {.connect_timeout = 5'000ms, .timeout = 10'000ms, .no_proxy = "*"};
}

http_request request_to(const testproc::emulator_process& emu, std::string path,
                        std::string_view token = admin_token, std::string fault = {})
{
    http_request req{http_method::get, emu.base_url() + path,
                     {{"Authorization", "Bearer " + std::string(token)}, {"Accept", "application/json"}},
                     {}};
    if (!fault.empty())
        req.headers.add("X-Emulator-Fault", std::move(fault));
    return req;
}

http_request get_me(const testproc::emulator_process& emu, std::string fault = {})
{
    return request_to(emu, "/api/v2/tokens/me", admin_token, std::move(fault));
}

/// What the test transports tell the test: how many were made, how many sends ran and where.
struct probe {
    std::atomic<int> made{0};
    std::atomic<int> sends_started{0};
    std::atomic<int> sends_ended{0};
    std::atomic<int> sends_off_pool{0}; // sends that did not run on a pool thread
    std::optional<asio::thread_pool::executor_type> pool;
};

/// curl, counted; cancellable as curl is.
struct probed_curl {
    std::shared_ptr<probe> p;
    genesys::curl_transport inner{test_options()};

    boost::system::result<http_response> send(const http_request& req)
    {
        ++p->sends_started;
        if (p->pool && !p->pool->running_in_this_thread())
            ++p->sends_off_pool;
        auto r = inner.send(req);
        ++p->sends_ended;
        return r;
    }
    void cancel() noexcept { inner.cancel(); }
};

/// curl, counted, without cancel(): a cancelled send runs to its end.
struct uncancellable_curl {
    std::shared_ptr<probe> p;
    genesys::curl_transport inner{test_options()};

    boost::system::result<http_response> send(const http_request& req)
    {
        ++p->sends_started;
        auto r = inner.send(req);
        ++p->sends_ended;
        return r;
    }
};

static_assert(genesys::cancellable_transport<probed_curl>);
static_assert(!genesys::cancellable_transport<uncancellable_curl>);
static_assert(genesys::async_transport<genesys::threaded_transport<genesys::curl_transport>>);
static_assert(genesys::async_transport<genesys::threaded_transport<uncancellable_curl>>);
static_assert(std::is_nothrow_move_constructible_v<genesys::threaded_transport<genesys::curl_transport>>);
static_assert(!std::is_copy_constructible_v<genesys::threaded_transport<genesys::curl_transport>>);

template <class Transport>
genesys::threaded_transport<Transport> make_threaded(asio::io_context& ioc, asio::thread_pool& pool,
                                                     const std::shared_ptr<probe>& p, std::size_t max)
{
    p->pool = pool.get_executor();
    return {ioc.get_executor(), pool.get_executor(),
            [p] {
                ++p->made;
                return Transport{p};
            },
            max};
}

bool is_org_body(const http_response& res)
{
    return res.status == 200 && res.body.find(org_name) != std::string::npos;
}

} // namespace

TEST_CASE("threaded_transport: a send runs on the pool and completes on the caller's executor")
{
    auto& emu = testproc::shared_emulator(false);
    asio::io_context ioc;
    asio::thread_pool pool(2);
    auto p = std::make_shared<probe>();
    auto t = make_threaded<probed_curl>(ioc, pool, p, 2);
    CHECK(t.get_executor() == asio::any_io_executor(ioc.get_executor()));
    CHECK(t.max_transports() == 2);
    CHECK(t.transport_count() == 0);

    const auto main_thread = std::this_thread::get_id();
    bool invoked = false, on_ioc = false, on_main = false;
    boost::system::error_code ec = asio::error::would_block;
    http_response res;
    {
        // The request is copied: it may go before the send ends.
        const http_request req = get_me(emu);
        t.async_send(req, [&](boost::system::error_code e, http_response r) {
            invoked = true;
            on_ioc = ioc.get_executor().running_in_this_thread();
            on_main = std::this_thread::get_id() == main_thread;
            ec = e;
            res = std::move(r);
        });
    }
    CHECK_FALSE(invoked); // never from inside async_send
    ioc.run();            // returns only once the handler ran: its work is tracked
    REQUIRE(invoked);
    CHECK(on_ioc);
    CHECK(on_main);
    CHECK_FALSE(ec);
    CHECK(is_org_body(res));
    CHECK(res.headers.get("ININ-Correlation-Id").has_value());
    CHECK(p->sends_started == 1);
    CHECK(p->sends_off_pool == 0); // the blocking send ran on a pool thread
    CHECK(p->made == 1);
    CHECK(t.transport_count() == 1);

    SUBCASE("a handler bound to a strand of another io_context runs there")
    {
        asio::io_context other;
        auto strand = asio::make_strand(other);
        bool in_strand = false, ok = false;
        t.async_send(get_me(emu), asio::bind_executor(strand, [&](boost::system::error_code e, http_response r) {
                         in_strand = strand.running_in_this_thread();
                         ok = !e && is_org_body(r);
                     }));
        std::thread runner([&] { other.run(); }); // returns only after the handler: work is tracked
        // The completion is posted to the I/O executor first, then dispatched to the strand.
        ioc.restart();
        ioc.run();
        runner.join();
        CHECK(in_strand);
        CHECK(ok);
        CHECK(p->made == 1); // the idle transport was used again
    }
}

TEST_CASE("threaded_transport: every completion token works")
{
    auto& emu = testproc::shared_emulator(false);
    asio::io_context ioc;
    asio::thread_pool pool(2);
    auto p = std::make_shared<probe>();
    auto t = make_threaded<probed_curl>(ioc, pool, p, 2);

    SUBCASE("use_future")
    {
        auto work = asio::make_work_guard(ioc);
        std::thread runner([&] { ioc.run(); });
        std::future<http_response> f = t.async_send(get_me(emu), asio::use_future);
        REQUIRE(f.wait_for(10s) == std::future_status::ready);
        CHECK(is_org_body(f.get()));
        // (A failure would be the future's exception: not tested here, an exception object shared
        // by two threads through libstdc++'s uninstrumented reference count is a ThreadSanitizer
        // false positive.)
        work.reset();
        runner.join();
    }
    SUBCASE("use_awaitable, as_tuple and deferred")
    {
        int steps = 0;
        asio::co_spawn(
            ioc,
            [&]() -> asio::awaitable<void> {
                http_response a = co_await t.async_send(get_me(emu), asio::use_awaitable);
                CHECK(is_org_body(a));
                ++steps;
                CHECK(ioc.get_executor().running_in_this_thread());
                auto [ec, b] = co_await t.async_send(get_me(emu), asio::as_tuple(asio::use_awaitable));
                CHECK_FALSE(ec);
                CHECK(is_org_body(b));
                ++steps;
                auto op = t.async_send(get_me(emu), asio::deferred); // nothing is sent yet
                CHECK(p->sends_started == 2);
                http_response c = co_await std::move(op)(asio::use_awaitable);
                CHECK(is_org_body(c));
                ++steps;
            },
            asio::detached);
        ioc.run();
        CHECK(steps == 3);
        CHECK(p->sends_started == 3);
    }
    SUBCASE("any_completion_handler: the erased handler keeps its strand, runs once, not inline")
    {
        // Its executor (any_completion_executor) cannot be required blocking.never: the
        // completion goes through the io_context's executor to the strand.
        auto strand = asio::make_strand(ioc);
        int calls = 0;
        bool on_strand = false;
        t.async_send(get_me(emu), asio::any_completion_handler<void(boost::system::error_code, http_response)>(
                                      asio::bind_executor(strand, [&](boost::system::error_code ec, http_response r) {
                                          ++calls;
                                          on_strand = strand.running_in_this_thread();
                                          CHECK_FALSE(ec);
                                          CHECK(is_org_body(r));
                                      })));
        CHECK(calls == 0);
        ioc.run();
        CHECK(calls == 1);
        CHECK(on_strand);
    }
}

TEST_CASE("threaded_transport: 200 sends from 4 threads on a pool of 4, at most 4 transports")
{
    auto& emu = testproc::shared_emulator(false);
    asio::io_context ioc;
    asio::thread_pool pool(4);
    auto p = std::make_shared<probe>();
    auto t = make_threaded<probed_curl>(ioc, pool, p, 4);

    // Three kinds of request, each with a response of its own: the org (200), the timeout
    // settings (200) and an unknown token (401). Each handler checks it got its own.
    constexpr int per_thread = 50, threads = 4, total = per_thread * threads;
    std::atomic<int> completed{0}, correct{0}, off_ioc{0};
    std::atomic<std::size_t> most_transports{0};
    auto work = asio::make_work_guard(ioc);
    std::vector<std::thread> senders;
    for (int n = 0; n < threads; ++n) {
        senders.emplace_back([&, n] {
            for (int i = 0; i < per_thread; ++i) {
                const int kind = (n * per_thread + i) % 3;
                http_request req = kind == 0   ? get_me(emu)
                                   : kind == 1 ? request_to(emu, "/api/v2/tokens/timeout")
                                               : request_to(emu, "/api/v2/tokens/me", "no-such-token");
                t.async_send(req, [&, kind](boost::system::error_code ec, http_response res) {
                    if (!ioc.get_executor().running_in_this_thread())
                        ++off_ioc;
                    const bool ok = !ec && (kind == 0   ? is_org_body(res)
                                            : kind == 1 ? res.status == 200 &&
                                                              res.body.find("idleTokenTimeoutSeconds") != std::string::npos
                                                        : res.status == 401);
                    if (ok)
                        ++correct;
                    std::size_t seen = t.transport_count(), prev = most_transports.load();
                    while (seen > prev && !most_transports.compare_exchange_weak(prev, seen)) {
                    }
                    ++completed;
                });
            }
        });
    }
    for (auto& s : senders)
        s.join();
    work.reset();
    ioc.run();
    CHECK(completed == total);
    CHECK(correct == total);
    CHECK(off_ioc == 0);
    CHECK(p->sends_started == total);
    CHECK(p->sends_off_pool == 0);
    CHECK(p->made >= 1);
    CHECK(p->made <= 4);
    CHECK(most_transports <= 4);
    CHECK(t.transport_count() == static_cast<std::size_t>(p->made.load()));
}

TEST_CASE("threaded_transport: cancelling a send blocked on the server aborts the curl transfer")
{
    auto& emu = testproc::shared_emulator(false);
    asio::io_context ioc;
    asio::thread_pool pool(2);
    auto p = std::make_shared<probe>();
    // One transport: the next send can start only once the cancelled transfer has really ended.
    auto t = make_threaded<probed_curl>(ioc, pool, p, 1);

    asio::cancellation_signal signal;
    const auto start = clock_type::now();
    std::optional<boost::system::error_code> a_ec, b_ec;
    http_response b_res;
    clock_type::time_point a_at{}, b_at{};
    t.async_send(get_me(emu, "delay;ms=5000"),
                 asio::bind_cancellation_slot(signal.slot(), [&](boost::system::error_code ec, http_response) {
                     a_ec = ec;
                     a_at = clock_type::now();
                 }));
    asio::steady_timer timer(ioc, 300ms);
    timer.async_wait([&](boost::system::error_code) {
        CHECK(p->sends_started == 1); // the request is on the server, waiting
        signal.emit(asio::cancellation_type::terminal);
        t.async_send(get_me(emu), [&](boost::system::error_code ec, http_response res) {
            b_ec = ec;
            b_res = std::move(res);
            b_at = clock_type::now();
        });
    });
    ioc.run();
    REQUIRE(a_ec.has_value());
    CHECK(*a_ec == asio::error::operation_aborted);
    CHECK(a_at - start < 1500ms); // at once, not when the server answers (5 s)
    REQUIRE(b_ec.has_value());
    CHECK_FALSE(*b_ec);
    CHECK(is_org_body(b_res));
    CHECK(b_at - start < 3s); // the transport came back well before the 5 s delay ended
    CHECK(p->made == 1);      // and it was the same transport, usable again
    CHECK(p->sends_started == 2);
    CHECK_FALSE(signal.slot().has_handler()); // the slot is cleared once the handler ran
}

TEST_CASE("threaded_transport: a transport without cancel() completes at once when cancelled, its send runs on")
{
    auto& emu = testproc::shared_emulator(false);
    asio::io_context ioc;
    asio::thread_pool pool(2);
    auto p = std::make_shared<probe>();
    auto t = make_threaded<uncancellable_curl>(ioc, pool, p, 1);

    asio::cancellation_signal signal;
    const auto start = clock_type::now();
    std::optional<boost::system::error_code> a_ec, b_ec;
    clock_type::time_point a_at{}, b_at{};
    t.async_send(get_me(emu, "delay;ms=800"),
                 asio::bind_cancellation_slot(signal.slot(), [&](boost::system::error_code ec, http_response) {
                     a_ec = ec;
                     a_at = clock_type::now();
                 }));
    asio::steady_timer timer(ioc, 100ms);
    timer.async_wait([&](boost::system::error_code) {
        signal.emit(asio::cancellation_type::terminal);
        t.async_send(get_me(emu), [&](boost::system::error_code ec, http_response) {
            b_ec = ec;
            b_at = clock_type::now();
        });
    });
    ioc.run();
    REQUIRE(a_ec.has_value());
    CHECK(*a_ec == asio::error::operation_aborted);
    CHECK(a_at - start < 600ms);
    REQUIRE(b_ec.has_value());
    CHECK_FALSE(*b_ec);
    CHECK(b_at - start >= 800ms); // the one transport was busy until the server answered
    CHECK(p->sends_ended == 2);
}

TEST_CASE("threaded_transport: cancelling a send waiting for a transport, partial cancellation is ignored")
{
    auto& emu = testproc::shared_emulator(false);
    asio::io_context ioc;
    asio::thread_pool pool(2);
    auto p = std::make_shared<probe>();
    auto t = make_threaded<probed_curl>(ioc, pool, p, 1);

    asio::cancellation_signal a_signal, b_signal;
    const auto start = clock_type::now();
    std::optional<boost::system::error_code> a_ec, b_ec;
    http_response a_res;
    clock_type::time_point b_at{};
    t.async_send(get_me(emu, "delay;ms=600"),
                 asio::bind_cancellation_slot(a_signal.slot(), [&](boost::system::error_code ec, http_response res) {
                     a_ec = ec;
                     a_res = std::move(res);
                 }));
    t.async_send(get_me(emu), // waits: the only transport is A's
                 asio::bind_cancellation_slot(b_signal.slot(), [&](boost::system::error_code ec, http_response) {
                     b_ec = ec;
                     b_at = clock_type::now();
                 }));
    asio::steady_timer timer(ioc, 100ms);
    timer.async_wait([&](boost::system::error_code) {
        a_signal.emit(asio::cancellation_type::partial); // not terminal: A goes on
        b_signal.emit(asio::cancellation_type::terminal);
    });
    ioc.run();
    REQUIRE(b_ec.has_value());
    CHECK(*b_ec == asio::error::operation_aborted);
    CHECK(b_at - start < 500ms);
    REQUIRE(a_ec.has_value());
    CHECK_FALSE(*a_ec);
    CHECK(is_org_body(a_res));
    pool.join();
    CHECK(p->sends_started == 1); // B never reached the transport
    CHECK(p->made == 1);
}

TEST_CASE("threaded_transport: a cancel aimed at one send does not abort the next on the same curl handle")
{
    auto& emu = testproc::shared_emulator(false);
    asio::io_context ioc;
    asio::thread_pool pool(1);
    auto p = std::make_shared<probe>();
    auto t = make_threaded<probed_curl>(ioc, pool, p, 1);

    asio::cancellation_signal signal;
    std::optional<boost::system::error_code> a_ec, b_ec;
    http_response b_res;
    t.async_send(get_me(emu), asio::bind_cancellation_slot(signal.slot(), [&](boost::system::error_code ec, http_response) {
                     a_ec = ec;
                     // A is over: its slot is cleared, so this emit reaches nothing; B must not be aborted.
                     CHECK_FALSE(signal.slot().has_handler());
                     signal.emit(asio::cancellation_type::terminal);
                     t.async_send(get_me(emu, "delay;ms=300"), [&](boost::system::error_code e, http_response r) {
                         b_ec = e;
                         b_res = std::move(r);
                     });
                 }));
    ioc.run();
    REQUIRE(a_ec.has_value());
    CHECK_FALSE(*a_ec);
    REQUIRE(b_ec.has_value());
    CHECK_FALSE(*b_ec);
    CHECK(is_org_body(b_res));
    CHECK(p->made == 1);
}

namespace {

/// A transport whose send throws what `thrower` throws.
struct throwing_transport {
    std::function<void()> thrower;
    http_response send(const http_request&)
    {
        thrower();
        return {200, {}, "unreachable"};
    }
};

/// A transport whose send returns `code`.
struct failing_transport {
    boost::system::error_code code;
    int* sends;
    boost::system::result<http_response> send(const http_request&)
    {
        ++*sends;
        return code;
    }
};

/// Runs one send through a threaded transport over `factory`, and returns its error code.
template <class Transport>
boost::system::error_code one_send(std::function<Transport()> factory, std::size_t* count_after = nullptr)
{
    asio::io_context ioc;
    asio::thread_pool pool(1);
    genesys::threaded_transport<Transport> t{ioc.get_executor(), pool.get_executor(), std::move(factory), 1};
    std::optional<boost::system::error_code> result;
    bool on_ioc = false;
    t.async_send({http_method::get, "http://127.0.0.1:1/", {}, {}},
                 [&](boost::system::error_code ec, http_response) {
                     result = ec;
                     on_ioc = ioc.get_executor().running_in_this_thread();
                 });
    ioc.run();
    pool.join();
    CHECK(on_ioc);
    if (count_after)
        *count_after = t.transport_count();
    REQUIRE(result.has_value());
    return *result;
}

} // namespace

TEST_CASE("threaded_transport: failures of the transport and of the factory become error codes")
{
    using T = throwing_transport;
    auto throwing = [](std::function<void()> f) { return std::function<T()>([f] { return T{f}; }); };

    CHECK(one_send(throwing([] { throw std::runtime_error("boom"); })) ==
          genesys::make_error_code(genesys::errc::transport_exception));
    CHECK(one_send(throwing([] { throw 42; })) == genesys::make_error_code(genesys::errc::transport_exception));
    CHECK(one_send(throwing([] {
              throw boost::system::system_error(errc::make_error_code(errc::connection_reset));
          })) == errc::make_error_code(errc::connection_reset));
    CHECK(one_send(throwing([] { throw std::system_error(std::make_error_code(std::errc::timed_out)); })) ==
          errc::timed_out);
    CHECK(one_send(throwing([] { throw std::bad_alloc(); })) == errc::not_enough_memory);

    int sends = 0;
    const auto refused = errc::make_error_code(errc::connection_refused);
    std::size_t count = 0;
    CHECK(one_send(std::function<failing_transport()>([&] { return failing_transport{refused, &sends}; }), &count) ==
          refused);
    CHECK(sends == 1);
    CHECK(count == 1); // a transport that failed is kept

    // The factory fails: the send fails the same way, and the slot is given back.
    CHECK(one_send(std::function<failing_transport()>([]() -> failing_transport {
              throw std::runtime_error("cannot make one");
          }),
                   &count) == genesys::make_error_code(genesys::errc::transport_exception));
    CHECK(count == 0);
}

TEST_CASE("threaded_transport: construction is checked, a moved-from transport fails its sends")
{
    asio::io_context ioc;
    asio::thread_pool pool(1);
    using T = failing_transport;
    auto factory = [] { return T{}; };
    CHECK_THROWS_AS((genesys::threaded_transport<T>{ioc.get_executor(), pool.get_executor(), factory, 0}),
                    std::invalid_argument);
    CHECK_THROWS_AS((genesys::threaded_transport<T>{ioc.get_executor(), pool.get_executor(), {}, 1}),
                    std::invalid_argument);
    CHECK_THROWS_AS((genesys::threaded_transport<T>{asio::any_io_executor{}, pool.get_executor(), factory, 1}),
                    std::invalid_argument);
    CHECK_THROWS_AS((genesys::threaded_transport<T>{ioc.get_executor(), asio::any_io_executor{}, factory, 1}),
                    std::invalid_argument);

    genesys::threaded_transport<T> a{ioc.get_executor(), pool.get_executor(), factory, 3};
    genesys::threaded_transport<T> b{std::move(a)};
    CHECK(b.max_transports() == 3);
    CHECK(a.max_transports() == 0); // NOLINT(bugprone-use-after-move): documented state
    std::optional<boost::system::error_code> result;
    a.async_send({http_method::get, "http://127.0.0.1:1/", {}, {}},
                 [&](boost::system::error_code ec, http_response) { result = ec; });
    CHECK_FALSE(result.has_value()); // not inline
    ioc.run();
    REQUIRE(result.has_value());
    CHECK(*result == errc::operation_not_permitted);
}

TEST_CASE("threaded_transport: destroying it with sends in flight delivers them")
{
    auto& emu = testproc::shared_emulator(false);
    asio::io_context ioc;
    asio::thread_pool pool(2);
    auto p = std::make_shared<probe>();
    int ok = 0, called = 0;
    {
        auto t = make_threaded<probed_curl>(ioc, pool, p, 2);
        for (int i = 0; i < 5; ++i) // two run, three wait for a transport
            t.async_send(get_me(emu, "delay;ms=100"), [&](boost::system::error_code ec, http_response res) {
                ++called;
                if (!ec && is_org_body(res))
                    ++ok;
            });
    } // destroyed here, before anything ran
    ioc.run();
    CHECK(called == 5);
    CHECK(ok == 5);
    pool.join();
    CHECK(p->sends_ended == 5);
}

TEST_CASE("threaded_transport: destroying the io_context with sends in flight destroys their handlers")
{
    auto& emu = testproc::shared_emulator(false);
    asio::thread_pool pool(2);
    auto p = std::make_shared<probe>();
    auto alive = std::make_shared<int>(0); // every handler holds a copy: all must be released
    std::atomic<int> invoked{0};
    bool transport_first = false;
    SUBCASE("the io_context first") {}
    SUBCASE("the threaded_transport first") { transport_first = true; }
    {
        auto ioc = std::make_unique<asio::io_context>();
        std::optional<genesys::threaded_transport<probed_curl>> t{make_threaded<probed_curl>(*ioc, pool, p, 1)};
        auto handler = [&invoked, alive](boost::system::error_code, http_response) { ++invoked; };
        t->async_send(get_me(emu, "delay;ms=400"), handler);                               // runs
        t->async_send(get_me(emu), asio::bind_executor(asio::make_strand(*ioc), handler)); // waits
        asio::cancellation_signal signal;
        t->async_send(get_me(emu), asio::bind_cancellation_slot(signal.slot(), handler)); // waits
        asio::co_spawn(
            *ioc,
            [&t, &emu, &invoked, alive]() -> asio::awaitable<void> {
                co_await t->async_send(get_me(emu), asio::use_awaitable); // waits
                ++invoked;
            },
            asio::detached);
        ioc->run_for(50ms); // the coroutine starts; nothing completes
        CHECK(invoked == 0);
        if (transport_first)
            t.reset();
        ioc.reset(); // the handlers are destroyed, never invoked
        t.reset();
    }
    pool.join(); // the running send ends there and its result is dropped
    CHECK(invoked == 0);
    CHECK(p->sends_started == 1); // the waiting sends never started
    CHECK(p->sends_ended == 1);
    CHECK(alive.use_count() == 1);
}

TEST_CASE("threaded_transport: destroying the pool with sends queued on it aborts them")
{
    auto& emu = testproc::shared_emulator(false);
    asio::io_context ioc;
    auto p = std::make_shared<probe>();
    std::optional<boost::system::error_code> ec;
    {
        asio::thread_pool pool(1);
        pool.stop(); // nothing posted to it runs any more
        auto t = make_threaded<probed_curl>(ioc, pool, p, 1);
        t.async_send(get_me(emu), [&](boost::system::error_code e, http_response) { ec = e; });
    } // the pool is destroyed with the send queued
    ioc.run();
    REQUIRE(ec.has_value());
    CHECK(*ec == asio::error::operation_aborted);
    CHECK(p->sends_started == 0);
}

// ---- the transport's own words about a failure --------------------------------------------------

namespace {

/// Fails every send with a code and says why, as a blocking transport with error detail does.
struct explaining_transport {
    boost::system::result<http_response> send(const http_request&)
    {
        return errc::make_error_code(errc::connection_refused);
    }
    std::string_view last_error_message() const noexcept { return "connect to 127.0.0.1:1: Connection refused"; }
};
static_assert(genesys::transport_with_error_detail<explaining_transport>);

/// Throws what it is given.
struct throwing_with_text {
    boost::system::result<http_response> send(const http_request&) { throw std::runtime_error("the stack says no"); }
};

template <class Transport>
std::pair<boost::system::error_code, http_response> send_once(std::function<Transport()> factory)
{
    asio::io_context ioc;
    asio::thread_pool pool(1);
    genesys::threaded_transport<Transport> t{ioc.get_executor(), pool.get_executor(), std::move(factory), 1};
    std::optional<std::pair<boost::system::error_code, http_response>> out;
    t.async_send({http_method::get, "http://127.0.0.1:1/", {}, {}},
                 [&](boost::system::error_code ec, http_response r) { out.emplace(ec, std::move(r)); });
    ioc.run();
    pool.join();
    REQUIRE(out.has_value());
    return std::move(*out);
}

} // namespace

TEST_CASE("threaded_transport: a failure keeps the transport's own text, in the response's body")
{
    auto [ec, r] = send_once(std::function<explaining_transport()>([] { return explaining_transport{}; }));
    CHECK(ec == errc::connection_refused);
    CHECK(r.status == 0);
    CHECK(r.body == "connect to 127.0.0.1:1: Connection refused");

    auto [ec2, r2] = send_once(std::function<throwing_with_text()>([] { return throwing_with_text{}; }));
    CHECK(ec2 == genesys::make_error_code(genesys::errc::transport_exception));
    CHECK(r2.body == "the stack says no");
}

// ---- secrets -------------------------------------------------------------------------------------

namespace {

/// Answers 200 and keeps nothing of the request.
struct forgetful_transport {
    boost::system::result<http_response> send(const http_request&) { return http_response{200, {}, "fine"}; }
};

} // namespace

TEST_CASE("threaded_transport: a sent token is nowhere in the process's memory once the send is done" *
          doctest::skip(heap_scan::unsupported))
{
    heap_scan::secret s;
    {
        asio::io_context ioc;
        asio::thread_pool pool(2);
        genesys::threaded_transport<forgetful_transport> t{ioc.get_executor(), pool.get_executor(), 2};
        http_request req;
        req.url = "https://api.mypurecloud.com/api/v2/tokens/me";
        std::string value; // no temporary copy of the token
        value.reserve(s.token.size() + 8);
        value.append("Bearer ").append(s.token);
        req.headers.add("Authorization", std::move(value));
        CHECK(heap_scan::contains(s.needle)); // the scan finds it while the caller holds it
        int answered = 0;
        for (int i = 0; i < 3; ++i) // one of them waits for a transport
            t.async_send(req, [&](boost::system::error_code ec, http_response r) {
                answered += !ec && r.body == "fine";
            });
        ioc.run();
        pool.join();
        CHECK(answered == 3);
        genesys::detail::wipe(req.headers.begin()->value); // the caller's own copy
    }
    genesys::detail::wipe(s.token);
    CHECK_FALSE(heap_scan::contains(s.needle));
}

// ---- the async fake's manual mode ----------------------------------------------------------------

TEST_CASE("async_fake_transport: a send waiting in manual mode keeps the io_context's work")
{
    asio::io_context ioc;
    genesys::testing::async_fake_transport fake{ioc.get_executor()};
    fake.manual().respond(200, "late");
    const http_request req{http_method::get, "https://api.mypurecloud.com/api/v2/tokens/me", {}, {}};
    std::optional<std::pair<boost::system::error_code, int>> out;
    auto record = [&](boost::system::error_code ec, http_response r) { out.emplace(ec, r.status); };

    SUBCASE("run() returns only once complete_next() answered it")
    {
        fake.async_send(req, record);
        REQUIRE(fake.waiting() == 1);
        std::thread completer([&] {
            std::this_thread::sleep_for(50ms); // run() is waiting by then (a slow start only hides a failure)
            CHECK(fake.complete_next());
        });
        ioc.run();
        completer.join();
        REQUIRE(out.has_value());
        CHECK_FALSE(out->first);
        CHECK(out->second == 200);
    }
    SUBCASE("and once it was cancelled")
    {
        asio::cancellation_signal signal;
        fake.async_send(req, asio::bind_cancellation_slot(signal.slot(), record));
        std::thread canceller([&] {
            std::this_thread::sleep_for(50ms);
            asio::post(ioc, [&] { signal.emit(asio::cancellation_type::terminal); });
        });
        ioc.run();
        canceller.join();
        REQUIRE(out.has_value());
        CHECK(out->first == asio::error::operation_aborted);
        CHECK(fake.waiting() == 0);
    }
    SUBCASE("reset() drops it, and its work")
    {
        fake.async_send(req, record);
        fake.reset();
        ioc.run(); // returns: nothing waits any more
        CHECK_FALSE(out.has_value());
    }
}

#if defined(__clang__) && __clang_major__ < 17
#pragma clang attribute pop
#endif
