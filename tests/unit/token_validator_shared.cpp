// SPDX-License-Identifier: BSL-1.0
// <genesys/token_validator.hpp> with a shared cache (token_validator_options::shared_cache), over
// the blocking fake transport and an in-memory shared cache (no Redis): one API call per token for
// validators sharing it, each validator's own lifetimes and policy applied to the fleet's answers,
// 401s and 429s shared, revocations reaching every validator (forget, delete_tokens_me, a 401 for
// a token held valid), a revocation during a check, missed revocations, a cache unavailable or
// silent, and the shared cache's counters in metrics().
#include <genesys/token_validator.hpp>
#include <genesys/tokens_api.hpp>

#include "eventually.hpp"
#include "fixtures.hpp"
#include "memory_shared_cache.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using genesys::error_kind;
using genesys::http_request;
using genesys::http_response;
using genesys::testing::fake_transport;
using genesys::testing::memory_shared_cache;
using namespace std::chrono_literals;
using sys_clock = std::chrono::system_clock;

namespace {

using fixtures::manual_clock;

std::string token_info_body(sys_clock::time_point idles, std::string_view org = "org-1")
{
    std::ostringstream os;
    os << R"({"organization":{"id":")" << org
       << R"(","name":"Acme"},"authorizedScope":["users:readonly"],"dateTokenIdles":")"
       << genesys::format_date_time(std::chrono::time_point_cast<std::chrono::milliseconds>(idles))
       << R"(","OAuthClient":{"id":"client-1","name":"Desktop"}})";
    return os.str();
}

constexpr std::string_view unauthorized_body =
    R"({"message":"Authentication failed","code":"authentication.required","status":401,"contextId":"corr-401","details":[],"errors":[]})";

constexpr std::string_view base_url = "https://api.mypurecloud.com";

genesys::token_validator_config config()
{
    genesys::token_validator_config c;
    c.base_url = std::string(base_url);
    return c;
}

using testwait::eventually;

/// Holds every send until opened; counts them. Shared by its copies.
struct gated_transport {
    struct state {
        std::mutex m;
        std::condition_variable cv;
        bool open = false;
        int sends = 0;
        http_response answer;
    };
    std::shared_ptr<state> st = std::make_shared<state>();

    boost::system::result<http_response> send(const http_request&)
    {
        std::unique_lock lock(st->m);
        ++st->sends;
        st->cv.notify_all();
        st->cv.wait(lock, [&] { return st->open; });
        return st->answer;
    }
    void open()
    {
        std::lock_guard lock(st->m);
        st->open = true;
        st->cv.notify_all();
    }
    int sends()
    {
        std::lock_guard lock(st->m);
        return st->sends;
    }
};

/// Two validators (two instances of a fleet) sharing one in-memory cache, each over its own fake.
struct fleet {
    manual_clock clock;
    std::shared_ptr<memory_shared_cache> cache = std::make_shared<memory_shared_cache>(clock.fn());
    fake_transport fake1, fake2;
    genesys::token_validator_options opts;

    fleet()
    {
        opts.clock = clock.fn();
        opts.shared_cache = cache;
    }

    genesys::token_validator<fake_transport> make(fake_transport& f) { return {f, config(), opts}; }
    genesys::token_validator<fake_transport> make(fake_transport& f, genesys::token_validator_options o)
    {
        return {f, config(), std::move(o)};
    }
    void valid(fake_transport& f) { f.respond(fixtures::json_response(200, token_info_body(clock.now() + 1h))); }
    genesys::shared_token_key key(std::string_view token, bool preserve = true) const
    {
        return cache->key_of(base_url, preserve, token);
    }
    std::size_t calls() const { return fake1.request_count() + fake2.request_count(); }
};

} // namespace

TEST_CASE("shared cache: a token validated by one instance is a fleet hit for the other, no API call")
{
    fleet f;
    auto v1 = f.make(f.fake1);
    auto v2 = f.make(f.fake2);
    f.valid(f.fake1);
    auto r1 = v1.validate("tok-1");
    REQUIRE(r1);
    const auto stored = f.cache->answer_of(f.key("tok-1"));
    REQUIRE(stored);
    CHECK(stored->kind == genesys::shared_answer_kind::valid);
    CHECK(stored->fetched_at == f.clock.now());
    CHECK(stored->expires_at == f.clock.now() + 60s);
    CHECK(stored->info.organization->id == "org-1");
    CHECK_FALSE(f.cache->locked(f.key("tok-1"))); // handed back with the answer

    f.clock.advance(5s);
    auto r2 = v2.validate("tok-1");
    REQUIRE(r2);
    CHECK(r2->info().organization->id == "org-1");
    CHECK(r2->fetched_at() == r1->fetched_at()); // the fleet's answer, with its age
    CHECK(r2->trusted_until() == r1->trusted_until());
    CHECK(f.calls() == 1);
    CHECK(f.fake2.request_count() == 0);
    // Then from v2's own cache.
    CHECK(v2.validate("tok-1"));
    CHECK(f.cache->lookups() == 2);
    CHECK(v2.stats().hits == 1);
    CHECK(v2.stats().misses == 1);
}

TEST_CASE("shared cache: two instances asking for a new token at once make one API call")
{
    manual_clock clock;
    auto cache = std::make_shared<memory_shared_cache>(clock.fn());
    gated_transport g1, g2;
    g1.st->answer = g2.st->answer = fixtures::json_response(200, token_info_body(clock.now() + 1h));
    genesys::token_validator_options o;
    o.clock = clock.fn();
    o.shared_cache = cache;
    genesys::token_validator<gated_transport> v1{g1, config(), o};
    genesys::token_validator<gated_transport> v2{g2, config(), o};

    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i)
        threads.emplace_back([&, i] {
            if ((i % 2 ? v1 : v2).validate("new-token"))
                ++ok;
        });
    // One instance checks (held at its gate), the other waits for it on the fleet's lock.
    REQUIRE(eventually([&] { return g1.sends() + g2.sends() == 1 && cache->waiting() == 1; }));
    g1.open();
    g2.open();
    for (auto& t : threads)
        t.join();
    CHECK(ok == 8);
    CHECK(g1.sends() + g2.sends() == 1);
    CHECK(cache->stats().lock_waits == 1);
    CHECK(cache->stats().stores == 1);
    CHECK(v1.stats().misses + v2.stats().misses == 2);
}

TEST_CASE("shared cache: each instance applies its own lifetimes and policy to the fleet's answer")
{
    fleet f;
    auto v1 = f.make(f.fake1);
    f.valid(f.fake1);
    REQUIRE(v1.validate("tok-1"));

    SUBCASE("its policy: refused without an API call")
    {
        auto o = f.opts;
        o.organization_id = "org-2";
        auto v2 = f.make(f.fake2, o);
        auto r = v2.validate("tok-1");
        REQUIRE_FALSE(r);
        CHECK(r.error().kind == error_kind::policy);
        CHECK(f.fake2.request_count() == 0);
        CHECK(v2.stats().policy_rejections == 1);
    }
    SUBCASE("a shorter max_age: trusted for it from the fleet's fetched_at, then checked")
    {
        auto o = f.opts;
        o.max_age = 10s;
        auto v2 = f.make(f.fake2, o);
        f.clock.advance(4s);
        auto r = v2.validate("tok-1");
        REQUIRE(r);
        CHECK(r->trusted_until() == r->fetched_at() + 10s);
        CHECK(f.fake2.request_count() == 0);
        f.clock.advance(7s); // 11 s after the fleet's check: too old for v2, not for the fleet
        f.valid(f.fake2);
        auto r2 = v2.validate("tok-1");
        REQUIRE(r2);
        CHECK(r2->fetched_at() == f.clock.now());
        CHECK(f.fake2.request_count() == 1);
    }
    SUBCASE("a longer max_age: never beyond the fleet's expiry")
    {
        auto o = f.opts;
        o.max_age = 600s;
        auto v2 = f.make(f.fake2, o);
        auto r = v2.validate("tok-1");
        REQUIRE(r);
        CHECK(r->trusted_until() == r->fetched_at() + 60s);
    }
}

TEST_CASE("shared cache: a 401 is shared for negative_ttl, a 429 until its Retry-After")
{
    fleet f;
    auto v1 = f.make(f.fake1);
    auto v2 = f.make(f.fake2);

    SUBCASE("401")
    {
        f.fake1.respond(fixtures::json_response(401, std::string(unauthorized_body)));
        auto r1 = v1.validate("bad");
        REQUIRE_FALSE(r1);
        CHECK(r1.error().status == 401);
        auto stored = f.cache->answer_of(f.key("bad"));
        REQUIRE(stored);
        CHECK(stored->kind == genesys::shared_answer_kind::unauthorized);
        CHECK(stored->expires_at == f.clock.now() + 10s);

        f.clock.advance(9s);
        auto r2 = v2.validate("bad");
        REQUIRE_FALSE(r2);
        CHECK(r2.error().kind == error_kind::api);
        CHECK(r2.error().status == 401);
        CHECK(r2.error().message.find("shared cache") != std::string::npos);
        CHECK(f.fake2.request_count() == 0);
        CHECK(v2.stats().negative_hits == 0);
        CHECK_FALSE(v2.validate("bad")); // then from v2's own cache
        CHECK(v2.stats().negative_hits == 1);

        f.clock.advance(2s); // past the fleet's negative_ttl
        f.fake2.respond(fixtures::json_response(401, std::string(unauthorized_body)));
        CHECK_FALSE(v2.validate("bad"));
        CHECK(f.fake2.request_count() == 1);
    }
    SUBCASE("401 with negative_ttl 0: not shared")
    {
        auto o = f.opts;
        o.negative_ttl = 0s;
        auto v0 = f.make(f.fake1, o);
        f.fake1.respond(fixtures::json_response(401, std::string(unauthorized_body)));
        CHECK_FALSE(v0.validate("bad"));
        CHECK_FALSE(f.cache->answer_of(f.key("bad")));
        CHECK_FALSE(f.cache->locked(f.key("bad"))); // released
    }
    SUBCASE("429")
    {
        genesys::http_headers h;
        h.set("Retry-After", "5");
        f.fake1.respond(http_response{429, h, R"({"message":"slow down","status":429})"});
        auto r1 = v1.validate("busy");
        REQUIRE_FALSE(r1);
        CHECK(r1.error().status == 429);
        auto stored = f.cache->answer_of(f.key("busy"));
        REQUIRE(stored);
        CHECK(stored->kind == genesys::shared_answer_kind::rate_limited);
        CHECK(stored->expires_at == f.clock.now() + 5s);

        f.clock.advance(2s);
        auto r2 = v2.validate("busy");
        REQUIRE_FALSE(r2);
        CHECK(r2.error().status == 429);
        CHECK(r2.error().code == genesys::condition::rate_limited);
        CHECK(r2.error().headers.get("Retry-After") == "3");
        CHECK(f.fake2.request_count() == 0);
        CHECK(v2.stats().rate_limited == 1);
        // Remembered by v2 too: no lookup, no call.
        const auto lookups = f.cache->lookups();
        CHECK_FALSE(v2.validate("busy"));
        CHECK(f.cache->lookups() == lookups);

        f.clock.advance(4s);
        f.valid(f.fake2);
        CHECK(v2.validate("busy"));
        CHECK(f.fake2.request_count() == 1);
    }
    SUBCASE("429 with rate_limit_ttl_max 0: not shared")
    {
        auto o = f.opts;
        o.rate_limit_ttl_max = 0s;
        auto v0 = f.make(f.fake1, o);
        f.fake1.respond(http_response{429, {}, {}});
        CHECK_FALSE(v0.validate("busy"));
        CHECK_FALSE(f.cache->answer_of(f.key("busy")));
        CHECK_FALSE(f.cache->locked(f.key("busy")));
    }
    SUBCASE("a 5xx: not shared, the lock handed back")
    {
        f.fake1.respond(http_response{503, {}, {}});
        CHECK_FALSE(v1.validate("down"));
        CHECK_FALSE(f.cache->answer_of(f.key("down")));
        CHECK_FALSE(f.cache->locked(f.key("down")));
        CHECK(f.cache->stats().stores == 0);
    }
}

TEST_CASE("shared cache: forget on one instance makes every instance re-check")
{
    fleet f;
    auto v1 = f.make(f.fake1);
    auto v2 = f.make(f.fake2);
    f.valid(f.fake1);
    REQUIRE(v1.validate("tok-1"));
    REQUIRE(v2.validate("tok-1")); // a fleet hit, now in v2's own cache
    CHECK(v2.stats().entries == 1);
    CHECK(f.calls() == 1);

    v1.forget("tok-1");
    REQUIRE(eventually([&] { return v2.stats().entries == 0; })); // the revocation reached v2
    CHECK(v1.stats().entries == 0);
    CHECK_FALSE(f.cache->answer_of(f.key("tok-1")));
    const auto revoked = f.cache->revoked();
    REQUIRE(revoked.size() == 1);
    CHECK(revoked[0] == f.key("tok-1"));

    f.fake2.respond(fixtures::json_response(401, std::string(unauthorized_body)));
    auto r = v2.validate("tok-1");
    REQUIRE_FALSE(r);
    CHECK(r.error().status == 401);
    CHECK(f.fake2.request_count() == 1);
}

TEST_CASE("shared cache: a revocation during a check: its answer reaches its callers, nothing is stored")
{
    manual_clock clock;
    auto cache = std::make_shared<memory_shared_cache>(clock.fn());
    gated_transport g1;
    g1.st->answer = fixtures::json_response(200, token_info_body(clock.now() + 1h));
    fake_transport fake2;
    genesys::token_validator_options o;
    o.clock = clock.fn();
    o.shared_cache = cache;
    genesys::token_validator<gated_transport> v1{g1, config(), o};
    genesys::token_validator<fake_transport> v2{fake2, config(), o};
    const auto key = cache->key_of(base_url, true, "tok-1");

    std::optional<genesys::result<genesys::validated_token>> r1;
    std::thread t([&] { r1.emplace(v1.validate("tok-1")); });
    REQUIRE(eventually([&] { return g1.sends() == 1; })); // v1 checks, holding the fleet's lock
    v2.forget("tok-1");                                   // revoked by the other instance
    REQUIRE(eventually([&] { return cache->stats().revocations_received == 1; }));
    g1.open();
    t.join();
    REQUIRE(r1);
    CHECK(r1->has_value()); // its caller gets the answer
    CHECK_FALSE(cache->answer_of(key)); // the fleet does not
    CHECK_FALSE(cache->locked(key));    // its lock handed back
    CHECK(cache->stats().stores == 0);
    CHECK(v1.stats().entries == 0); // nor v1's own cache
}

TEST_CASE("shared cache: missed revocations clear every instance's cache")
{
    fleet f;
    auto v1 = f.make(f.fake1);
    f.valid(f.fake1);
    f.valid(f.fake1);
    REQUIRE(v1.validate("tok-1"));
    REQUIRE(v1.validate("tok-2"));
    CHECK(v1.stats().entries == 2);
    f.cache->lose_subscription();
    CHECK(eventually([&] { return v1.stats().entries == 0; }));
}

TEST_CASE("shared cache: unavailable, every validation is checked with the API, and right")
{
    fleet f;
    f.cache->set_unavailable(true);
    auto v1 = f.make(f.fake1);
    auto v2 = f.make(f.fake2);
    f.valid(f.fake1);
    f.fake2.respond(fixtures::json_response(401, std::string(unauthorized_body)));
    auto r1 = v1.validate("tok-1");
    REQUIRE(r1);
    CHECK(r1->info().organization->id == "org-1");
    auto r2 = v2.validate("tok-1"); // the API said 401 to v2: the fleet did not answer for it
    REQUIRE_FALSE(r2);
    CHECK(r2.error().status == 401);
    CHECK(f.calls() == 2);
    CHECK(f.cache->stats().unavailable == 2);
}

TEST_CASE("shared cache: a lookup never answered delays a blocking validate by wait_timeout at most")
{
    manual_clock clock;
    auto cache = std::make_shared<memory_shared_cache>(clock.fn());
    cache->set_silent(true);
    fake_transport fake;
    fake.respond(fixtures::json_response(200, token_info_body(clock.now() + 1h)));
    genesys::token_validator_options o;
    o.clock = clock.fn();
    o.shared_cache = cache;
    o.wait_timeout = 50ms;
    genesys::token_validator<fake_transport> v{fake, config(), o};
    auto r = v.validate("tok-1");
    REQUIRE(r);
    CHECK(r->info().organization->id == "org-1");
    CHECK(fake.request_count() == 1);
    CHECK(cache->waiting() == 1);
    CHECK(cache->answer_of(cache->key_of(base_url, true, "tok-1"))); // stored without the lock
    cache.reset(); // (the validator holds it)
}

TEST_CASE("shared cache: a 401 for a token held valid is shared, and every instance drops it")
{
    fleet f;
    auto o = f.opts;
    o.refresh_ahead = 10s;
    auto v1 = f.make(f.fake1, o);
    auto v2 = f.make(f.fake2);
    f.valid(f.fake1);
    REQUIRE(v1.validate("tok-1"));
    REQUIRE(v2.validate("tok-1")); // from the fleet
    CHECK(f.calls() == 1);

    f.clock.advance(55s); // in v1's refresh_ahead window: it re-checks; the token was revoked
    f.fake1.respond(fixtures::json_response(401, std::string(unauthorized_body)));
    auto r1 = v1.validate("tok-1");
    REQUIRE_FALSE(r1);
    CHECK(r1.error().status == 401);
    const auto stored = f.cache->answer_of(f.key("tok-1"));
    REQUIRE(stored);
    CHECK(stored->kind == genesys::shared_answer_kind::unauthorized);
    // The cache published the revocation (a 401 replacing a valid answer): v2 dropped its entry.
    REQUIRE(eventually([&] { return v2.stats().entries == 0; }));
    auto r2 = v2.validate("tok-1");
    REQUIRE_FALSE(r2);
    CHECK(r2.error().status == 401);
    CHECK(f.fake2.request_count() == 0); // the fleet's 401
}

TEST_CASE("shared cache: delete_tokens_me through a client that has it revokes the token fleet-wide")
{
    fleet f;
    auto v1 = f.make(f.fake1);
    f.valid(f.fake1);
    REQUIRE(v1.validate("tok-1"));
    CHECK(v1.stats().entries == 1);

    fake_transport api_fake;
    genesys::client_config cc;
    cc.base_url = std::string(base_url) + "/"; // the same API (normalized alike)
    cc.access_token = "tok-1";
    cc.shared_cache = f.cache;
    genesys::tokens_api api{api_fake, cc};

    SUBCASE("a 2xx: revoked under both preserveIdleTTL flags")
    {
        api_fake.respond(http_response{204, {}, {}});
        api.delete_tokens_me();
        const auto revoked = f.cache->revoked();
        REQUIRE(revoked.size() == 2);
        CHECK(revoked[0] == f.key("tok-1", true));
        CHECK(revoked[1] == f.key("tok-1", false));
        CHECK(eventually([&] { return v1.stats().entries == 0; }));
        CHECK_FALSE(f.cache->answer_of(f.key("tok-1")));
    }
    SUBCASE("a failure: nothing revoked")
    {
        api_fake.respond(http_response{500, {}, {}});
        CHECK_FALSE(api.try_delete_tokens_me().has_value());
        CHECK(f.cache->revoked().empty());
        CHECK(v1.stats().entries == 1);
    }
    SUBCASE("another operation: nothing revoked")
    {
        api_fake.respond(fixtures::json_response(200, token_info_body(f.clock.now() + 1h)));
        CHECK(api.try_get_tokens_me().has_value());
        CHECK(f.cache->revoked().empty());
    }
}

TEST_CASE("shared cache: metrics().extra holds its counters, and write_prometheus writes them")
{
    fleet f;
    auto v1 = f.make(f.fake1);
    auto v2 = f.make(f.fake2);
    f.valid(f.fake1);
    REQUIRE(v1.validate("tok-1"));
    REQUIRE(v2.validate("tok-1"));
    const auto m = v2.metrics();
    auto value = [&](std::string_view name) -> std::optional<std::uint64_t> {
        for (const auto& e : m.extra)
            if (e.name == name)
                return e.value;
        return std::nullopt;
    };
    CHECK(value("shared_cache_hits_total") == 1u);
    CHECK(value("shared_cache_misses_total") == 1u);
    CHECK(value("shared_cache_stores_total") == 1u);
    CHECK(value("shared_cache_errors_total") == 0u);
    CHECK(value("shared_cache_revocations_received_total") == 0u);
    CHECK(value("shared_cache_connected") == 1u);
    CHECK(value("shared_cache_breaker_open") == 0u);
    for (const auto& e : m.extra)
        CHECK(e.counter == (e.name.size() > 6 && e.name.substr(e.name.size() - 6) == "_total"));
    std::string out;
    genesys::write_prometheus(out, m);
    CHECK(out.find("# TYPE genesys_token_validator_shared_cache_hits_total counter\n"
                   "genesys_token_validator_shared_cache_hits_total 1\n") != std::string::npos);
    CHECK(out.find("# TYPE genesys_token_validator_shared_cache_connected gauge\n") != std::string::npos);
    CHECK(out.find("tok-1") == std::string::npos);

    // Without a shared cache: none.
    fake_transport plain;
    genesys::token_validator<fake_transport> v3{plain, config()};
    CHECK(v3.metrics().extra.empty());
}

TEST_CASE("shared cache: validators destroyed while the cache publishes revocations (TSan)")
{
    manual_clock clock;
    auto cache = std::make_shared<memory_shared_cache>(clock.fn());
    std::atomic<bool> stop{false};
    std::thread publisher([&] {
        fake_transport fake;
        genesys::token_validator_options o;
        o.clock = clock.fn();
        o.shared_cache = cache;
        genesys::token_validator<fake_transport> v{fake, config(), o};
        for (int i = 0; i < 2000 && !stop; ++i) {
            v.forget("tok-" + std::to_string(i % 7));
            if (i % 50 == 0)
                cache->lose_subscription();
        }
    });
    for (int i = 0; i < 50; ++i) {
        fake_transport fake;
        fake.respond_by_default(fixtures::json_response(200, token_info_body(clock.now() + 1h)));
        genesys::token_validator_options o;
        o.clock = clock.fn();
        o.shared_cache = cache;
        genesys::token_validator<fake_transport> v{fake, config(), o};
        (void)v.validate("tok-" + std::to_string(i % 7));
    }
    stop = true;
    publisher.join();
    CHECK(cache->stats().revocations_received > 0);
}
