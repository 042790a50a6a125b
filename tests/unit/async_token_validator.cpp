// SPDX-License-Identifier: BSL-1.0
// <genesys/async_token_validator.hpp>: token_validator::async_validate over the async fake
// transport: the handler rules, every kind of completion token, one API call for a thousand
// handlers (and for blocking callers sharing the flight), cancellation of one waiter, and
// lifetimes.
#include <genesys/async_token_validator.hpp>
#include <genesys/testing/async_fake_transport.hpp>

#include "fixtures.hpp"
#include "forgetful_async_transport.hpp"
#include "heap_scan.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace asio = boost::asio;
using genesys::error_kind;
using genesys::http_request;
using genesys::http_response;
using genesys::testing::async_fake_transport;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view valid_body =
    R"({"organization":{"id":"org-1","name":"Acme"},"authorizedScope":["users:readonly"],"OAuthClient":{"id":"client-1","name":"Desktop"}})";

genesys::token_validator_config config() { return {.base_url = "https://api.mypurecloud.com"}; }

using validator = genesys::token_validator<async_fake_transport>;

void poll(asio::io_context& ioc)
{
    ioc.restart();
    ioc.poll();
}

} // namespace

TEST_CASE("async_validate: never inline, once, on the handler's executor, a hit is posted too")
{
    asio::io_context ioc;
    async_fake_transport fake{ioc.get_executor()};
    fake.respond_by_default(fixtures::json_response(200, valid_body));
    validator v{fake, config()};
    auto strand = asio::make_strand(ioc);

    int calls = 0;
    bool on_strand = false;
    v.async_validate("tok-1", asio::bind_executor(strand, [&](genesys::result<genesys::validated_token> r) {
                         ++calls;
                         on_strand = strand.running_in_this_thread() && r && r->info().organization->id == "org-1";
                     }));
    // An any_completion_handler: Asio 1.26 cannot post to its type-erased executor directly (this
    // did not compile once); it joins the same flight and keeps the same rules.
    using erased = asio::any_completion_handler<void(genesys::result<genesys::validated_token>)>;
    int erased_calls = 0;
    bool erased_on_strand = false;
    v.async_validate("tok-1", erased(asio::bind_executor(strand, [&](genesys::result<genesys::validated_token> r) {
                         ++erased_calls;
                         erased_on_strand = strand.running_in_this_thread() && r.has_value();
                     })));
    int bad = 0;
    v.async_validate("", [&](auto r) { bad += !r && r.error().kind == error_kind::invalid_argument; });
    CHECK(calls == 0);
    CHECK(erased_calls == 0);
    CHECK(bad == 0);
    ioc.run();
    CHECK(calls == 1);
    CHECK(on_strand);
    CHECK(erased_calls == 1);
    CHECK(erased_on_strand);
    CHECK(bad == 1);
    CHECK(fake.request_count() == 1);
    CHECK(fake.last_request()->headers.get("Authorization") == "Bearer tok-1");
    CHECK(fake.last_request()->url == "https://api.mypurecloud.com/api/v2/tokens/me?preserveIdleTTL=true");

    int hits = 0;
    v.async_validate("tok-1", [&](auto r) { hits += r.has_value(); });
    v.async_validate("tok-1", erased([&](auto r) { hits += r.has_value(); }));
    CHECK(hits == 0); // from the cache, and still not inline
    poll(ioc);
    CHECK(hits == 2);
    CHECK(fake.request_count() == 1);
    CHECK(v.stats().hits == 2);
}

TEST_CASE("async_validate: a handler bound to a strand of any_io_executor (make_strand(socket.get_executor()))")
{
    // Asio 1.26's executor_work_guard does not compile for such a strand: the work the operation
    // keeps on the handler's executor is tracked on the strand's inner executor instead.
    asio::io_context ioc;
    const auto strand = asio::make_strand(asio::any_io_executor(ioc.get_executor()));
    async_fake_transport fake{strand}; // the transport's own executor such a strand too
    fake.respond_by_default(fixtures::json_response(200, valid_body));
    validator v{fake, config()};
    int calls = 0;
    bool on_strand = false;
    v.async_validate("tok-strand", asio::bind_executor(strand, [&](genesys::result<genesys::validated_token> r) {
                         ++calls;
                         on_strand = strand.running_in_this_thread() && r.has_value();
                     }));
    CHECK(calls == 0);
    ioc.run();
    CHECK(calls == 1);
    CHECK(on_strand);
    CHECK(fake.request_count() == 1);
}

TEST_CASE("async_validate: future, coroutine and deferred, the token is copied at initiation")
{
    asio::io_context ioc;
    async_fake_transport fake{ioc.get_executor()};
    fake.respond_by_default(fixtures::json_response(200, valid_body));
    validator v{fake, config()};

    auto op = [&] {
        std::string token = "tok-deferred";
        auto d = v.async_validate(token, asio::deferred);
        token.assign(token.size(), 'X'); // the operation has its own copy
        return d;
    }();
    std::optional<bool> deferred_ok;
    std::move(op)([&](genesys::result<genesys::validated_token> r) { deferred_ok = r.has_value(); });

    std::optional<std::string> org;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            auto r = co_await v.async_validate("tok-co", asio::use_awaitable);
            org = r.value().info().organization->id.value_or("");
        },
        asio::detached);
    ioc.run();
    CHECK(deferred_ok == true);
    CHECK(org == "org-1");
    const auto reqs = fake.requests();
    REQUIRE(reqs.size() == 2);
    CHECK(reqs[0].headers.get("Authorization") == "Bearer tok-deferred");

    std::thread runner;
    auto fut = v.async_validate("tok-future", asio::use_future);
    ioc.restart();
    runner = std::thread([&] { ioc.run(); });
    auto r = fut.get();
    runner.join();
    CHECK(r.has_value());
}

TEST_CASE("async_validate: the default completion token is deferred, as async_tokens_api's")
{
    asio::io_context ioc;
    async_fake_transport fake{ioc.get_executor()};
    fake.respond_by_default(fixtures::json_response(200, valid_body));
    validator v{fake, config()};

    // No completion token: a deferred operation, as async_tokens_api's operations give; nothing
    // is sent until it is launched.
    auto op = [&] {
        std::string token = "tok-default";
        auto d = v.async_validate(token);
        token.assign(token.size(), 'X');
        return d;
    }();
    static_assert(asio::is_deferred<decltype(op)>::value);
    ioc.run();
    CHECK(fake.request_count() == 0);
    std::optional<bool> ok;
    std::move(op)([&](genesys::result<genesys::validated_token> r) { ok = r.has_value(); });
    CHECK_FALSE(ok);
    ioc.restart();
    ioc.run();
    CHECK(ok == true);
    REQUIRE(fake.request_count() == 1);
    CHECK(fake.last_request()->headers.get("Authorization") == "Bearer tok-default");

    std::optional<std::string> org;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            auto r = co_await v.async_validate("tok-co-default");
            org = r.value().info().organization->id.value_or("");
        },
        asio::detached);
    ioc.restart();
    ioc.run();
    CHECK(org == "org-1");
}

TEST_CASE("async_validate: a thousand handlers asking for one new token share one API call")
{
    asio::io_context ioc;
    async_fake_transport fake{ioc.get_executor()};
    fake.manual().respond_by_default(fixtures::json_response(200, valid_body));
    validator v{fake, config()};
    int ok = 0, calls = 0;
    for (int i = 0; i < 1000; ++i)
        v.async_validate("new-token", [&](auto r) {
            ++calls;
            ok += r.has_value();
        });
    poll(ioc);
    CHECK(fake.waiting() == 1);
    CHECK(calls == 0);
    CHECK(fake.complete_next());
    poll(ioc);
    CHECK(calls == 1000);
    CHECK(ok == 1000);
    CHECK(fake.request_count() == 1);
    const auto s = v.stats();
    CHECK(s.misses == 1);
    CHECK(s.coalesced == 999);
}

TEST_CASE("async_validate: a 401 and a policy refusal, as for validate")
{
    asio::io_context ioc;
    async_fake_transport fake{ioc.get_executor()};
    fake.respond(fixtures::json_response(401, R"({"message":"no","code":"authentication.required","status":401})"));
    fake.respond(fixtures::json_response(200, valid_body));
    genesys::token_validator_options o;
    o.required_scopes = {"analytics"};
    validator v{fake, config(), o};
    std::optional<genesys::result<genesys::validated_token>> a, b;
    v.async_validate("revoked", [&](auto r) { a.emplace(std::move(r)); });
    v.async_validate("other", [&](auto r) { b.emplace(std::move(r)); });
    ioc.run();
    REQUIRE(a);
    REQUIRE_FALSE(*a);
    CHECK(a->error().status == 401);
    CHECK(a->error().kind == error_kind::api);
    REQUIRE(b);
    REQUIRE_FALSE(*b);
    CHECK(b->error().kind == error_kind::policy);
    CHECK_THROWS_AS(b->value(), genesys::policy_error);
}

TEST_CASE("async_validate: the policy is applied for each handler of a flight, and counted for each")
{
    asio::io_context ioc;
    async_fake_transport fake{ioc.get_executor()};
    fake.manual().respond_by_default(fixtures::json_response(200, valid_body));
    genesys::token_validator_options o;
    o.required_scopes = {"analytics"};
    validator v{fake, config(), o};
    int refused = 0;
    for (int i = 0; i < 3; ++i)
        v.async_validate("shared-token", [&](auto r) { refused += !r && r.error().kind == error_kind::policy; });
    poll(ioc);
    REQUIRE(fake.complete_next());
    poll(ioc);
    CHECK(refused == 3);
    CHECK(fake.request_count() == 1);
    CHECK(v.stats().policy_rejections == 3); // as three blocking callers would count
}

TEST_CASE("async_validate: cancelling one waiter ends it alone, the call goes on for the others")
{
    asio::io_context ioc;
    async_fake_transport fake{ioc.get_executor()};
    fake.manual().respond_by_default(fixtures::json_response(200, valid_body));
    validator v{fake, config()};
    asio::cancellation_signal leader_signal, follower_signal;
    std::optional<genesys::result<genesys::validated_token>> leader, follower, other;
    v.async_validate("tok", asio::bind_cancellation_slot(leader_signal.slot(), [&](auto r) { leader.emplace(std::move(r)); }));
    v.async_validate("tok", asio::bind_cancellation_slot(follower_signal.slot(), [&](auto r) { follower.emplace(std::move(r)); }));
    v.async_validate("tok", [&](auto r) { other.emplace(std::move(r)); });
    poll(ioc);
    leader_signal.emit(asio::cancellation_type::terminal);
    follower_signal.emit(asio::cancellation_type::terminal);
    poll(ioc);
    REQUIRE(leader);
    REQUIRE(follower);
    CHECK_FALSE(other);
    CHECK(leader->error().code == asio::error::operation_aborted);
    CHECK(follower->error().code == asio::error::operation_aborted);
    CHECK(fake.complete_next());
    poll(ioc);
    REQUIRE(other);
    CHECK(other->has_value());
    CHECK(fake.request_count() == 1);
    // The answer was cached for the next one.
    std::optional<bool> next;
    v.async_validate("tok", [&](auto r) { next = r.has_value(); });
    poll(ioc);
    CHECK(next == true);
    CHECK(fake.request_count() == 1);
}

namespace {

/// A transport with both faces: blocking sends through a gate, asynchronous ones through the
/// async fake; both counted in the fake's log.
struct dual_transport {
    async_fake_transport async;
    using executor_type = async_fake_transport::executor_type;
    executor_type get_executor() const { return async.get_executor(); }
    template <class CompletionToken>
    auto async_send(const http_request& r, CompletionToken&& t)
    {
        return async.async_send(r, std::forward<CompletionToken>(t));
    }
    boost::system::result<http_response> send(const http_request& r) { return async.queue().send(r); }
};

} // namespace

TEST_CASE("async_validate and validate share one flight: blocking callers wait for the handler's call")
{
    asio::io_context ioc;
    dual_transport t{async_fake_transport{ioc.get_executor()}};
    t.async.manual().respond_by_default(fixtures::json_response(200, valid_body));
    genesys::token_validator<dual_transport> v{t, config()};
    std::optional<bool> async_ok;
    v.async_validate("shared", [&](auto r) { async_ok = r.has_value(); });
    poll(ioc);
    REQUIRE(t.async.waiting() == 1);

    std::atomic<int> sync_ok{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
        threads.emplace_back([&] { sync_ok += v.validate("shared").has_value(); });
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (v.stats().coalesced < 4 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(1ms);
    CHECK(v.stats().coalesced == 4);
    CHECK(t.async.complete_next());
    poll(ioc);
    for (auto& th : threads)
        th.join();
    CHECK(async_ok == true);
    CHECK(sync_ok == 4);
    CHECK(t.async.request_count() == 1);
}

TEST_CASE("async_validate and validate: a blocking validate joining a flight whose io_context does not run gives up")
{
    asio::io_context ioc; // not run until the blocking caller is back
    dual_transport t{async_fake_transport{ioc.get_executor()}};
    t.async.respond_by_default(fixtures::json_response(200, valid_body));
    auto c = config();
    genesys::token_validator_options o;
    bool by_option = false;
    SUBCASE("bounded by call_timeout (wait_timeout left at 0)")
    {
        c.call_timeout = 100ms;
    }
    SUBCASE("bounded by wait_timeout")
    {
        o.wait_timeout = 50ms;
        by_option = true;
    }
    genesys::token_validator<dual_transport> v{t, c, o};
    std::optional<bool> async_ok;
    v.async_validate("shared", [&](auto r) { async_ok = r.has_value(); });

    std::atomic<bool> returned{false};
    std::optional<genesys::result<genesys::validated_token>> blocked;
    std::thread caller([&] {
        blocked.emplace(v.validate("shared"));
        returned = true;
    });
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!returned && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(1ms);
    CHECK(returned);
    if (!returned)
        poll(ioc); // the flight ends, and releases it
    caller.join();
    REQUIRE(blocked);
    REQUIRE_FALSE(*blocked);
    CHECK(blocked->error().kind == error_kind::network);
    CHECK(blocked->error().code == genesys::errc::deadline_exceeded);
    CHECK(blocked->error().message.find("another validation") != std::string::npos);
    CHECK(v.stats().coalesced == 1);
    if (!by_option)
        return; // (the async call's own call_timeout has passed too)

    poll(ioc); // the flight goes on, and its answer is cached
    CHECK(async_ok == true);
    CHECK(v.validate("shared").has_value());
    CHECK(t.async.request_count() == 1);
}

TEST_CASE("async_validate: forget or clear during a check: its handler gets the answer, the cache does not (2 threads)")
{
    asio::io_context ioc;
    auto work = asio::make_work_guard(ioc);
    async_fake_transport fake{ioc.get_executor()};
    fake.manual().respond_by_default(fixtures::json_response(200, valid_body));
    validator v{fake, config()};
    std::vector<std::thread> io;
    for (int i = 0; i < 2; ++i)
        io.emplace_back([&] { ioc.run(); });
    std::atomic<int> answered{0}, ok{0};
    const auto validate = [&] {
        v.async_validate("tok", [&](genesys::result<genesys::validated_token> r) {
            ok += r.has_value();
            ++answered;
        });
    };
    const auto until = [](auto done) { // bounded: false after 10 s
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (!done() && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(1ms);
        return done();
    };

    validate();
    CHECK(until([&] { return fake.waiting() == 1; }));
    SUBCASE("forget")
    {
        v.forget("tok");
    }
    SUBCASE("clear")
    {
        v.clear();
    }
    CHECK(fake.complete_next());
    CHECK(until([&] { return answered == 1; }));
    CHECK(ok == 1); // the handler gets the answer fetched before the revocation

    validate(); // not cached: asked again
    CHECK(until([&] { return fake.waiting() == 1 || answered == 2; }));
    CHECK(fake.request_count() == 2);
    (void)fake.complete_next();
    CHECK(until([&] { return answered == 2; }));

    validate(); // that answer, fetched after the revocation, is cached
    CHECK(until([&] { return answered == 3; }));
    CHECK(fake.request_count() == 2);
    CHECK(ok == 3);
    auto fut = v.async_validate("tok", asio::use_future); // a hit again, through a future
    const bool ready = fut.wait_for(10s) == std::future_status::ready;
    CHECK(ready);
    if (ready)
        CHECK(fut.get().has_value());
    CHECK(fake.request_count() == 2);
    work.reset();
    for (auto& th : io)
        th.join();
}

TEST_CASE("async_validate: after forget, a validation during the revoked check makes its own call")
{
    asio::io_context ioc;
    async_fake_transport fake{ioc.get_executor()};
    fake.manual().respond_by_default(fixtures::json_response(200, valid_body));
    validator v{fake, config()};
    std::optional<bool> a, b, c, d;
    v.async_validate("tok", [&](auto r) { a = r.has_value(); });
    poll(ioc);
    REQUIRE(fake.waiting() == 1);
    v.forget("tok");
    v.async_validate("tok", [&](auto r) { b = r.has_value(); });
    poll(ioc);
    CHECK(fake.waiting() == 2); // not joined to the revoked check
    CHECK(v.stats().misses == 2);
    CHECK(v.stats().coalesced == 0);

    CHECK(fake.complete_next()); // the revoked check ends: answers its handler, stores nothing
    poll(ioc);
    CHECK(a == true);
    CHECK_FALSE(b);
    v.async_validate("tok", [&](auto r) { c = r.has_value(); }); // joins the current check
    poll(ioc);
    CHECK_FALSE(c);
    CHECK(v.stats().coalesced == 1);

    CHECK(fake.complete_next());
    poll(ioc);
    CHECK(b == true);
    CHECK(c == true);
    v.async_validate("tok", [&](auto r) { d = r.has_value(); }); // cached
    poll(ioc);
    CHECK(d == true);
    CHECK(fake.request_count() == 2);
}

TEST_CASE("async_validate: a refused validation is counted as refused, never as a miss or an error")
{
    asio::io_context ioc;
    async_fake_transport fake{ioc.get_executor()};
    validator v{fake, config()};
    int refused = 0;
    v.async_validate("has space", [&](auto r) { refused += !r && r.error().kind == error_kind::invalid_argument; });
    v.async_validate("", [&](auto r) { refused += !r && r.error().kind == error_kind::invalid_argument; });
    ioc.run();
    CHECK(refused == 2);
    const auto s = v.stats();
    CHECK(s.refused == 2);
    CHECK(s.misses == 0);
    CHECK(s.errors == 0);
    CHECK(fake.request_count() == 0);
}

TEST_CASE("async_validate: destroying the validator or the io_context with validations in flight")
{
    SUBCASE("the validator: its validations complete")
    {
        asio::io_context ioc;
        async_fake_transport fake{ioc.get_executor()};
        fake.complete_after(5ms).respond_by_default(fixtures::json_response(200, valid_body));
        int ok = 0;
        {
            validator v{fake, config()};
            for (int i = 0; i < 10; ++i)
                v.async_validate("tok-" + std::to_string(i % 3), [&](auto r) { ok += r.has_value(); });
        }
        ioc.run();
        CHECK(ok == 10);
    }
    SUBCASE("the io_context: nothing leaks, nothing runs, and blocked callers are released")
    {
        int ran = 0;
        asio::io_context* ioc = new asio::io_context;
        dual_transport t{async_fake_transport{ioc->get_executor()}};
        t.async.complete_after(1h).respond_by_default(fixtures::json_response(200, valid_body));
        genesys::token_validator<dual_transport> v{t, config()};
        for (int i = 0; i < 5; ++i)
            v.async_validate("tok", [&](auto) { ++ran; });
        poll(*ioc);
        std::optional<genesys::result<genesys::validated_token>> blocked;
        std::thread waiter([&] { blocked.emplace(v.validate("tok")); });
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (v.stats().coalesced < 5 && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(1ms);
        delete ioc; // the call is abandoned: the blocked caller gets an error, not a hang
        waiter.join();
        CHECK(ran == 0);
        REQUIRE(blocked);
        REQUIRE_FALSE(*blocked);
        CHECK(blocked->error().code == asio::error::operation_aborted);
    }
}

TEST_CASE("async_validate: four threads run one io_context over many tokens (TSan)")
{
    asio::io_context ioc;
    async_fake_transport fake{ioc.get_executor()};
    fake.complete_after(1ms).respond_by_default(fixtures::json_response(200, valid_body));
    genesys::token_validator_options o;
    o.max_entries = 16;
    validator v{fake, config(), o};
    std::atomic<int> ok{0}, calls{0};
    auto work = asio::make_work_guard(ioc);
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
        threads.emplace_back([&] { ioc.run(); });
    for (int i = 0; i < 2000; ++i)
        v.async_validate("tok-" + std::to_string(i % 50), [&](auto r) {
            ok += r.has_value();
            ++calls;
        });
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (calls < 2000 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(1ms);
    work.reset();
    for (auto& t : threads)
        t.join();
    CHECK(calls == 2000);
    CHECK(ok == 2000);
    CHECK(v.stats().entries <= 16);
}

namespace {

using fixtures::forgetful_async_transport;

} // namespace

TEST_CASE("async_validate: after a check, the token is nowhere in the process's heap" *
          doctest::skip(heap_scan::unsupported))
{
    asio::io_context ioc;
    genesys::token_validator<forgetful_async_transport> v{
        forgetful_async_transport{ioc.get_executor(), std::string(valid_body)}, config()};
    heap_scan::secret s;
    CHECK(heap_scan::contains(s.needle));
    int ok = 0;
    v.async_validate(s.token, [&](auto r) { ok += r.has_value(); });
    ioc.run();
    v.async_validate(s.token, [&](auto r) { ok += r.has_value(); }); // a hit
    ioc.restart();
    ioc.run();
    CHECK(ok == 2);
    genesys::detail::wipe(s.token);
    CHECK_FALSE(heap_scan::contains(s.needle));
}

TEST_CASE("async_validate: a remembered 429 answers without an API call, as for validate")
{
    asio::io_context ioc;
    async_fake_transport fake{ioc.get_executor()};
    auto too_many = fixtures::json_response(429, fixtures::rate_limit_body);
    too_many.headers.set("Retry-After", "30");
    fake.respond(too_many);
    validator v{fake, config()};
    std::vector<genesys::result<genesys::validated_token>> answers;
    for (int i = 0; i < 3; ++i) {
        v.async_validate("tok", [&](auto r) { answers.push_back(std::move(r)); });
        ioc.restart();
        ioc.run();
    }
    REQUIRE(answers.size() == 3);
    for (const auto& r : answers) {
        REQUIRE_FALSE(r);
        CHECK(r.error().code == genesys::condition::rate_limited);
    }
    CHECK(fake.request_count() == 1);
    CHECK(v.stats().rate_limited == 2);
}

TEST_CASE("async_validate: max_concurrent_checks queues the checks beyond it, and joined handlers take no room")
{
    asio::io_context ioc;
    async_fake_transport fake{ioc.get_executor()};
    fake.manual().respond_by_default(fixtures::json_response(200, valid_body));
    genesys::token_validator_options o;
    o.max_concurrent_checks = 2;
    o.wait_timeout = 10min; // (never reached: the test completes the sends)
    validator v{fake, config(), o};
    int ok = 0;
    for (int i = 0; i < 5; ++i)
        v.async_validate("tok-" + std::to_string(i), [&](auto r) { ok += r.has_value(); });
    for (int i = 0; i < 10; ++i) // joining the first two checks
        v.async_validate("tok-" + std::to_string(i % 2), [&](auto r) { ok += r.has_value(); });
    poll(ioc);
    CHECK(fake.waiting() == 2);
    CHECK(v.stats().checks_in_flight == 2);
    CHECK(v.stats().coalesced == 10);
    for (int round = 0; round < 10 && fake.waiting() > 0; ++round) {
        CHECK(fake.complete_next());
        poll(ioc);
        CHECK(v.stats().checks_in_flight <= 2);
    }
    CHECK(fake.complete_next() == false);
    CHECK(ok == 15);
    CHECK(fake.request_count() == 5);
    CHECK(v.stats().checks_in_flight == 0);
    CHECK(v.stats().overloaded == 0);
}

TEST_CASE("async_validate: a check that finds no room within wait_timeout fails as overloaded, with its waiters")
{
    asio::io_context ioc;
    async_fake_transport fake{ioc.get_executor()};
    fake.manual().respond_by_default(fixtures::json_response(200, valid_body));
    genesys::token_validator_options o;
    o.max_concurrent_checks = 1;
    o.wait_timeout = 20ms;
    validator v{fake, config(), o};
    std::optional<genesys::result<genesys::validated_token>> held, queued, joined;
    v.async_validate("held", [&](auto r) { held.emplace(std::move(r)); });
    v.async_validate("queued", [&](auto r) { queued.emplace(std::move(r)); });
    v.async_validate("queued", [&](auto r) { joined.emplace(std::move(r)); });
    const auto deadline = std::chrono::steady_clock::now() + 10s; // bounded
    while (!(queued && joined) && std::chrono::steady_clock::now() < deadline) {
        ioc.restart();
        ioc.run_one_for(10ms);
    }
    REQUIRE(queued);
    REQUIRE(joined);
    CHECK(queued->error().code == genesys::errc::validator_overloaded);
    CHECK(joined->error().code == genesys::errc::validator_overloaded);
    CHECK_FALSE(held);
    CHECK(fake.request_count() == 1);
    CHECK(v.stats().overloaded == 1);
    CHECK(fake.complete_next());
    poll(ioc);
    REQUIRE(held);
    CHECK(held->has_value());
    CHECK(v.stats().checks_in_flight == 0);
}

TEST_CASE("async_validate: a check queued for room ends with its io_context, and nothing leaks")
{
    auto* ioc = new asio::io_context;
    async_fake_transport fake{ioc->get_executor()};
    fake.complete_after(1h).respond_by_default(fixtures::json_response(200, valid_body));
    genesys::token_validator_options o;
    o.max_concurrent_checks = 1;
    o.wait_timeout = 10min;
    validator v{fake, config(), o};
    int ran = 0;
    v.async_validate("held", [&](auto) { ++ran; });
    v.async_validate("queued", [&](auto) { ++ran; });
    poll(*ioc);
    CHECK(v.stats().checks_in_flight == 1);
    CHECK(fake.request_count() == 1);
    delete ioc; // both abandoned: the held check's room is given back, the queued one never starts
    CHECK(ran == 0);
    CHECK(v.stats().checks_in_flight == 0);
    CHECK(fake.request_count() == 1);
}

TEST_CASE("async_validate: refresh_ahead completes with the cached answer and re-checks in the background")
{
    asio::io_context ioc;
    async_fake_transport fake{ioc.get_executor()};
    fake.manual().respond_by_default(fixtures::json_response(200, valid_body));
    auto now = std::make_shared<std::chrono::system_clock::time_point>(std::chrono::system_clock::now());
    genesys::token_validator_options o;
    o.refresh_ahead = 10s;
    o.clock = [now] { return *now; };
    validator v{fake, config(), o};
    std::optional<genesys::result<genesys::validated_token>> first, second, third;
    v.async_validate("tok", [&](auto r) { first.emplace(std::move(r)); });
    poll(ioc);
    CHECK(fake.complete_next());
    poll(ioc);
    REQUIRE(first);
    REQUIRE(*first);
    *now += 55s;
    v.async_validate("tok", [&](auto r) { second.emplace(std::move(r)); });
    poll(ioc);
    REQUIRE(second); // at once, from the cache, while the re-check waits at the fake
    REQUIRE(*second);
    CHECK((*second)->fetched_at() == (*first)->fetched_at());
    CHECK(fake.waiting() == 1);
    CHECK(v.stats().checks_in_flight == 1);
    CHECK(fake.complete_next());
    poll(ioc);
    CHECK(v.stats().checks_in_flight == 0);
    v.async_validate("tok", [&](auto r) { third.emplace(std::move(r)); });
    poll(ioc);
    REQUIRE(third);
    REQUIRE(*third);
    CHECK((*third)->fetched_at() == *now); // the re-check's answer
    CHECK(fake.request_count() == 2);
    CHECK(v.stats().refreshes == 1);
}

TEST_CASE("async_validate: max_concurrent_checks and refresh_ahead with four threads on one io_context (TSan)")
{
    asio::io_context ioc;
    async_fake_transport fake{ioc.get_executor()};
    fake.complete_after(1ms).respond_by_default(fixtures::json_response(200, valid_body));
    auto ms = std::make_shared<std::atomic<std::int64_t>>(0);
    const auto start = std::chrono::system_clock::now();
    genesys::token_validator_options o;
    o.max_entries = 64;
    o.max_concurrent_checks = 3;
    o.wait_timeout = 10min;
    o.refresh_ahead = 20s;
    o.clock = [ms, start] { return start + std::chrono::milliseconds(ms->load()); };
    validator v{fake, config(), o};
    std::atomic<int> ok{0}, calls{0};
    auto work = asio::make_work_guard(ioc);
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
        threads.emplace_back([&] { ioc.run(); });
    for (int i = 0; i < 2000; ++i) {
        v.async_validate("tok-" + std::to_string(i % 200), [&](auto r) {
            ok += r.has_value();
            ++calls;
        });
        if (i % 20 == 0)
            *ms += 3000;
    }
    const auto deadline = std::chrono::steady_clock::now() + 30s; // bounded
    while (calls < 2000 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(1ms);
    while (v.stats().checks_in_flight > 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(1ms); // the last background re-checks
    work.reset();
    for (auto& t : threads)
        t.join();
    CHECK(calls == 2000);
    CHECK(ok == 2000);
    CHECK(v.stats().checks_in_flight == 0);
    CHECK(v.stats().overloaded == 0);
}
