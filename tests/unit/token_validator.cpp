// SPDX-License-Identifier: BSL-1.0
// <genesys/token_validator.hpp>: token_validator over the blocking fake transport, with an injected
// clock: what is cached and for how long, what never is, single flight across threads, eviction,
// the policy, and that no token reaches an error, a log line or the cache.
#include <genesys/token_validator.hpp>

#include "fixtures.hpp"
#include "heap_scan.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using genesys::error_kind;
using genesys::http_method;
using genesys::http_request;
using genesys::http_response;
using genesys::testing::fake_transport;
using namespace std::chrono_literals;
using sys_clock = std::chrono::system_clock;

namespace {

/// A wall clock that moves only when the test says so; starts at 2026-11-27T22:00:00Z.
struct manual_clock {
    std::shared_ptr<std::atomic<std::int64_t>> ms =
        std::make_shared<std::atomic<std::int64_t>>(std::int64_t(1'795'816'800) * 1000);

    void advance(std::chrono::milliseconds d) { *ms += d.count(); }
    sys_clock::time_point now() const
    {
        return sys_clock::time_point(std::chrono::duration_cast<sys_clock::duration>(std::chrono::milliseconds(ms->load())));
    }
    std::function<sys_clock::time_point()> fn() const
    {
        return [c = *this] { return c.now(); };
    }
};

std::string iso(sys_clock::time_point t)
{
    return genesys::format_date_time(std::chrono::time_point_cast<std::chrono::milliseconds>(t));
}

/// A TokenInfo of organization `org`, client `client`, scopes `scopes`, idle at `idles`.
std::string token_info_body(sys_clock::time_point idles, std::string_view org = "org-1",
                            std::string_view client = "client-1", std::string_view scopes = R"("users:readonly")",
                            std::string_view home = "org-1")
{
    std::ostringstream os;
    os << R"({"organization":{"id":")" << org << R"(","name":"Acme"},"homeOrganization":{"id":")" << home
       << R"(","name":"Acme"},"authorizedScope":[)" << scopes << R"(],"dateTokenIdles":")" << iso(idles)
       << R"(","OAuthClient":{"id":")" << client << R"(","name":"Desktop"}})";
    return os.str();
}

constexpr std::string_view unauthorized_body =
    R"({"message":"Authentication failed","code":"authentication.required","status":401,"contextId":"corr-401","details":[],"errors":[]})";

genesys::token_validator_config config()
{
    genesys::token_validator_config c;
    c.base_url = "https://api.mypurecloud.com";
    return c;
}

struct fixture {
    manual_clock clock;
    fake_transport fake;
    genesys::token_validator_options opts;

    fixture() { opts.clock = clock.fn(); }

    genesys::token_validator<fake_transport> make() { return {fake, config(), opts}; }
    genesys::token_validator<fake_transport> make(const genesys::token_validator_config& c) { return {fake, c, opts}; }

    /// Answers the next check: valid, idle an hour from now.
    void valid(std::string body = {})
    {
        fake.respond(fixtures::json_response(200, body.empty() ? token_info_body(clock.now() + 1h) : body));
    }
};

} // namespace

TEST_CASE("token_validator: a valid token costs one call, then comes from the cache until max_age")
{
    fixture f;
    auto v = f.make();
    f.valid();
    auto r1 = v.validate("tok-1");
    REQUIRE(r1);
    CHECK(r1->info().organization->id == "org-1");
    CHECK(r1->fetched_at() == f.clock.now());
    CHECK(r1->trusted_until() == f.clock.now() + 60s);
    CHECK_FALSE(r1->stale());
    REQUIRE(f.fake.request_count() == 1);
    const auto req = *f.fake.last_request();
    CHECK(req.method == http_method::get);
    CHECK(req.url == "https://api.mypurecloud.com/api/v2/tokens/me?preserveIdleTTL=true");
    CHECK(req.headers.get("Authorization") == "Bearer tok-1");

    f.clock.advance(59s);
    auto r2 = v.validate("tok-1");
    REQUIRE(r2);
    CHECK(r2->fetched_at() == r1->fetched_at());
    CHECK(f.fake.request_count() == 1);

    f.clock.advance(1s); // max_age reached: asked again
    f.valid();
    REQUIRE(v.validate("tok-1"));
    CHECK(f.fake.request_count() == 2);

    const auto s = v.stats();
    CHECK(s.hits == 1);
    CHECK(s.misses == 2);
    CHECK(s.entries == 1);
    CHECK(s.errors == 0);
}

TEST_CASE("token_validator: trust ends at dateTokenIdles when that comes before max_age")
{
    fixture f;
    auto v = f.make();
    const auto idles = f.clock.now() + 10s;
    f.valid(token_info_body(idles));
    auto r = v.validate("tok-1");
    REQUIRE(r);
    CHECK(r->trusted_until() == idles);
    f.clock.advance(9s);
    REQUIRE(v.validate("tok-1"));
    CHECK(f.fake.request_count() == 1);
    f.clock.advance(1s);
    f.valid();
    REQUIRE(v.validate("tok-1"));
    CHECK(f.fake.request_count() == 2);

    // A token already idle is answered, and not remembered.
    f.valid(token_info_body(f.clock.now() - 1s));
    REQUIRE(v.validate("tok-2"));
    f.valid(token_info_body(f.clock.now() - 1s));
    REQUIRE(v.validate("tok-2"));
    CHECK(f.fake.request_count() == 4);
}

TEST_CASE("token_validator: preserveIdleTTL follows the option")
{
    fixture f;
    f.opts.preserve_idle_ttl = false;
    auto v = f.make();
    f.valid();
    REQUIRE(v.validate("tok-1"));
    CHECK(f.fake.last_request()->url == "https://api.mypurecloud.com/api/v2/tokens/me?preserveIdleTTL=false");
}

TEST_CASE("token_validator: an invalid token is the API's 401, remembered for negative_ttl")
{
    fixture f;
    f.opts.negative_ttl = 5s;
    auto v = f.make();
    f.fake.respond(fixtures::json_response(401, unauthorized_body, "corr-401"));
    auto r1 = v.validate("revoked");
    REQUIRE_FALSE(r1);
    CHECK(r1.error().kind == error_kind::api);
    CHECK(r1.error().status == 401);
    CHECK(r1.error().correlation_id == "corr-401");
    REQUIRE(r1.error().body);
    CHECK(r1.error().body->code == "authentication.required");
    CHECK_THROWS_AS(r1.value(), genesys::api_error);

    f.clock.advance(4s);
    auto r2 = v.validate("revoked");
    REQUIRE_FALSE(r2);
    CHECK(r2.error().status == 401);
    CHECK(f.fake.request_count() == 1);
    CHECK(v.stats().negative_hits == 1);

    f.clock.advance(1s);
    f.valid(); // valid again (a token cannot come back, but the cache must not know better)
    REQUIRE(v.validate("revoked"));
    CHECK(f.fake.request_count() == 2);

    // negative_ttl 0: a 401 is not remembered.
    fixture g;
    g.opts.negative_ttl = 0s;
    auto w = g.make();
    g.fake.respond(fixtures::json_response(401, unauthorized_body));
    g.fake.respond(fixtures::json_response(401, unauthorized_body));
    CHECK_FALSE(w.validate("revoked"));
    CHECK_FALSE(w.validate("revoked"));
    CHECK(g.fake.request_count() == 2);
}

TEST_CASE("token_validator: other failures are errors, never cached as invalid (fail closed)")
{
    fixture f;
    auto v = f.make();
    f.fake.fail(make_error_code(boost::system::errc::connection_refused));
    f.fake.respond(fixtures::json_response(503, R"({"message":"down","code":"service.unavailable","status":503})"));
    f.fake.respond(fixtures::json_response(429, fixtures::rate_limit_body));
    f.fake.respond(fixtures::json_response(200, R"([{"organization": 5}])")); // not an object: undecodable
    f.fake.respond(fixtures::json_response(403, R"({"message":"no","code":"forbidden","status":403})"));

    auto r = v.validate("tok-1");
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == error_kind::network);
    r = v.validate("tok-1");
    REQUIRE_FALSE(r);
    CHECK(r.error().status == 503);
    r = v.validate("tok-1");
    REQUIRE_FALSE(r);
    CHECK(r.error().status == 429);
    r = v.validate("tok-1");
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == error_kind::decode);
    r = v.validate("tok-1");
    REQUIRE_FALSE(r);
    CHECK(r.error().status == 403);

    f.valid(); // the API answers again: the token is valid, nothing remembered said otherwise
    REQUIRE(v.validate("tok-1"));
    CHECK(f.fake.request_count() == 6);
    const auto s = v.stats();
    CHECK(s.errors == 5);
    CHECK(s.negative_hits == 0);
}

TEST_CASE("token_validator: stale_if_error serves an expired valid entry while the API cannot answer")
{
    fixture f;
    f.opts.stale_if_error = 30s;
    auto v = f.make();
    f.valid();
    REQUIRE(v.validate("tok-1"));

    f.clock.advance(61s); // expired: asked again, and the API is down
    f.fake.fail(make_error_code(boost::system::errc::connection_refused));
    auto r = v.validate("tok-1");
    REQUIRE(r);
    CHECK(r->stale());
    CHECK(r->info().organization->id == "org-1");

    f.fake.respond(fixtures::json_response(429, fixtures::rate_limit_body));
    r = v.validate("tok-1");
    REQUIRE(r);
    CHECK(r->stale());

    // A 401 is an answer, not an outage: no stale entry stands in for it.
    f.fake.respond(fixtures::json_response(401, unauthorized_body));
    r = v.validate("tok-1");
    REQUIRE_FALSE(r);
    CHECK(r.error().status == 401);

    // Past the grace: the error.
    fixture g;
    g.opts.stale_if_error = 30s;
    auto w = g.make();
    g.valid();
    REQUIRE(w.validate("tok-1"));
    g.clock.advance(60s + 30s);
    g.fake.fail(make_error_code(boost::system::errc::connection_refused));
    r = w.validate("tok-1");
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == error_kind::network);
    CHECK(w.stats().stale_hits == 0);
    CHECK(v.stats().stale_hits == 2);

    // Off by default.
    fixture h;
    auto x = h.make();
    h.valid();
    REQUIRE(x.validate("tok-1"));
    h.clock.advance(61s);
    h.fake.fail(make_error_code(boost::system::errc::connection_refused));
    CHECK_FALSE(x.validate("tok-1"));
}

TEST_CASE("token_validator: the policy is checked on every validation, cached answers included")
{
    struct policy_case {
        const char* name;
        std::function<void(genesys::token_validator_options&)> set;
        std::string body_accepted, body_refused;
        std::string says;
    };
    manual_clock c;
    const auto idles = c.now() + 1h;
    const std::vector<policy_case> cases{
        {"organization", [](auto& o) { o.organization_id = "org-1"; }, token_info_body(idles),
         token_info_body(idles, "org-2"), "organization is org-2, not org-1"},
        {"home organization", [](auto& o) { o.home_organization_id = "org-1"; }, token_info_body(idles),
         token_info_body(idles, "org-1", "client-1", R"("users:readonly")", "org-9"), "home organization is org-9"},
        {"scopes", [](auto& o) { o.required_scopes = {"users:readonly", "analytics"}; },
         token_info_body(idles, "org-1", "client-1", R"("analytics","users:readonly")"), token_info_body(idles),
         "lacks the scope analytics"},
        {"client", [](auto& o) { o.allowed_client_ids = {"client-1", "client-3"}; }, token_info_body(idles),
         token_info_body(idles, "org-1", "client-2"), "OAuth client client-2 is not allowed"},
    };
    for (const auto& pc : cases) {
        CAPTURE(pc.name);
        fixture f;
        f.clock = c;
        f.opts.clock = c.fn();
        pc.set(f.opts);
        auto v = f.make();
        f.valid(pc.body_accepted);
        REQUIRE(v.validate("good"));
        f.valid(pc.body_refused);
        for (int i = 0; i < 2; ++i) { // the API's answer, then the cached one
            auto r = v.validate("other");
            REQUIRE_FALSE(r);
            CHECK(r.error().kind == error_kind::policy);
            CHECK(r.error().code == genesys::errc::policy_mismatch);
            CHECK_MESSAGE(r.error().message.find(pc.says) != std::string::npos, r.error().message);
            CHECK_THROWS_AS(r.value(), genesys::policy_error);
        }
        CHECK(f.fake.request_count() == 2);
        CHECK(v.stats().policy_rejections == 2);
        REQUIRE(v.validate("good")); // still accepted, from the cache
        CHECK(f.fake.request_count() == 2);
    }
}

TEST_CASE("token_validator: at most max_entries; CLOCK keeps a token in use")
{
    fixture f;
    f.opts.max_entries = 32;
    f.fake.respond_by_default(fixtures::json_response(200, token_info_body(f.clock.now() + 1h)));
    auto v = f.make();
    REQUIRE(v.validate("hot"));
    for (int i = 0; i < 2000; ++i) {
        REQUIRE(v.validate("cold-" + std::to_string(i)));
        REQUIRE(v.validate("hot"));
    }
    const auto s = v.stats();
    CHECK(s.entries <= 32);
    CHECK(s.entries >= 16);
    CHECK(s.evictions >= 2000 - 31);
    CHECK(s.misses == 2001); // "hot" was never evicted: one call for it in all
    CHECK(s.hits == 2000);

    // Fewer entries than shards: still at most max_entries.
    fixture g;
    g.opts.max_entries = 3;
    g.fake.respond_by_default(fixtures::json_response(200, token_info_body(g.clock.now() + 1h)));
    auto w = g.make();
    for (int i = 0; i < 100; ++i)
        REQUIRE(w.validate("t-" + std::to_string(i)));
    CHECK(w.stats().entries <= 3);

    // max_entries 0: nothing is remembered, every validation asks.
    fixture h;
    h.opts.max_entries = 0;
    h.fake.respond_by_default(fixtures::json_response(200, token_info_body(h.clock.now() + 1h)));
    auto x = h.make();
    REQUIRE(x.validate("t"));
    REQUIRE(x.validate("t"));
    CHECK(h.fake.request_count() == 2);
}

TEST_CASE("token_validator: any max_entries keeps that many tokens, and never more")
{
    // Fewer entries than shards once left most shards without room: every entry falling in one
    // of those was dropped, the cache empty or not.
    for (const std::size_t n : std::vector<std::size_t>{1, 2, 5, 15, 16, 17, 40}) {
        CAPTURE(n);
        fixture f;
        f.opts.max_entries = n;
        f.fake.respond_by_default(fixtures::json_response(200, token_info_body(f.clock.now() + 1h)));
        auto v = f.make();
        for (std::size_t i = 0; i < n; ++i)
            REQUIRE(v.validate("t-" + std::to_string(i)));
        CHECK(v.stats().entries == n);
        for (std::size_t i = 0; i < n; ++i) // each a second time: from the cache
            REQUIRE(v.validate("t-" + std::to_string(i)));
        CHECK(f.fake.request_count() == n);
        CHECK(v.stats().hits == n);
        CHECK(v.stats().evictions == 0);

        std::size_t over = 0; // past the bound: one in, one out
        for (std::size_t i = n; i < 4 * n + 20; ++i) {
            REQUIRE(v.validate("t-" + std::to_string(i)));
            over += v.stats().entries > n;
            REQUIRE(v.validate("t-" + std::to_string(i))); // the newest is kept
        }
        CHECK(over == 0);
        CHECK(v.stats().entries == n);
        CHECK(v.stats().evictions == 3 * n + 20);
        CHECK(f.fake.request_count() == 4 * n + 20);
    }
}

TEST_CASE("token_validator: stale_if_error never serves a token past its dateTokenIdles")
{
    const auto refused = make_error_code(boost::system::errc::connection_refused);
    SUBCASE("the trust ended at dateTokenIdles: the error, not the entry")
    {
        fixture f;
        f.opts.stale_if_error = 30s;
        auto v = f.make();
        f.valid(token_info_body(f.clock.now() + 10s));
        REQUIRE(v.validate("tok-1"));
        f.clock.advance(11s); // idle, well within the grace
        f.fake.fail(refused);
        auto r = v.validate("tok-1");
        REQUIRE_FALSE(r);
        CHECK(r.error().kind == error_kind::network);
        CHECK(v.stats().stale_hits == 0);
    }
    SUBCASE("max_age ended the trust: stale until the token idles, then the error")
    {
        fixture f;
        f.opts.stale_if_error = 30s;
        auto v = f.make();
        f.valid(token_info_body(f.clock.now() + 70s));
        REQUIRE(v.validate("tok-1"));
        f.clock.advance(61s); // past max_age (60 s), before dateTokenIdles
        f.fake.fail(refused);
        auto r = v.validate("tok-1");
        REQUIRE(r);
        CHECK(r->stale());
        f.clock.advance(9s); // at dateTokenIdles, still within the grace
        f.fake.fail(refused);
        r = v.validate("tok-1");
        REQUIRE_FALSE(r);
        CHECK(r.error().kind == error_kind::network);
        CHECK(v.stats().stale_hits == 1);
    }
}

TEST_CASE("token_validator: forget and clear")
{
    fixture f;
    f.fake.respond_by_default(fixtures::json_response(200, token_info_body(f.clock.now() + 1h)));
    auto v = f.make();
    REQUIRE(v.validate("a"));
    REQUIRE(v.validate("b"));
    v.forget("a");
    REQUIRE(v.validate("a"));
    REQUIRE(v.validate("b"));
    CHECK(f.fake.request_count() == 3);
    v.clear();
    CHECK(v.stats().entries == 0);
    REQUIRE(v.validate("a"));
    REQUIRE(v.validate("b"));
    CHECK(f.fake.request_count() == 5);
    v.forget("never-seen"); // nothing to forget: no effect
    CHECK(v.stats().entries == 2);
}

TEST_CASE("token_validator: a bad token is rejected before anything is sent")
{
    fixture f;
    auto v = f.make();
    for (std::string bad : {std::string(), std::string("has space"), std::string("line\r\nX-Injected: 1"),
                            std::string("tab\there"), std::string(9000, 'a')}) {
        auto r = v.validate(bad);
        REQUIRE_FALSE(r);
        CHECK(r.error().kind == error_kind::invalid_argument);
        if (bad.size() > 3)
            CHECK(r.error().message.find(bad) == std::string::npos);
    }
    CHECK(f.fake.request_count() == 0);

}

TEST_CASE("token_validator: a bad configuration throws invalid_argument_error where the validator is made")
{
    fixture f;
    // The same error, without throwing, from genesys::check.
    auto throws_as_checked = [&](const genesys::token_validator_config& c, const genesys::token_validator_options& o,
                                 std::string_view what) {
        CAPTURE(what);
        const auto problem = genesys::check(c, o);
        REQUIRE(problem);
        CHECK(problem->kind == error_kind::invalid_argument);
        CHECK(problem->message.find(what) != std::string::npos);
        try {
            genesys::token_validator<fake_transport> v{f.fake, c, o};
            FAIL("no exception");
        } catch (const genesys::invalid_argument_error& e) {
            CHECK(std::string(e.what()) == problem->message);
            // The operation is the type at fault, as for a client_config.
            CHECK((e.operation() == "token_validator_config" || e.operation() == "token_validator_options"));
            CHECK(problem->message.starts_with("invalid " + e.operation() + ": "));
            CHECK(e.code() == genesys::errc::invalid_argument);
        }
    };
    const genesys::token_validator_options fine;
    CHECK_FALSE(genesys::check(config()));
    CHECK_FALSE(genesys::check(config(), fine));
    CHECK_FALSE(genesys::check(genesys::token_validator_config::for_region(genesys::region::eu_west_1)));

    SUBCASE("the configuration")
    {
        auto insecure = config();
        insecure.base_url = "http://api.example.com";
        throws_as_checked(insecure, fine, "invalid token_validator_config: base_url uses http://");
        auto no_host = config();
        no_host.base_url = "https://";
        throws_as_checked(no_host, fine, "base_url");
        auto negative = config();
        negative.call_timeout = std::chrono::milliseconds(-1);
        throws_as_checked(negative, fine, "call_timeout");
        auto header = config();
        header.default_headers.push_back({"Authorization", "Bearer x"});
        throws_as_checked(header, fine, "Authorization");
        auto agent = config();
        agent.user_agent = "a\r\nX-Injected: 1";
        throws_as_checked(agent, fine, "user_agent");
    }
    SUBCASE("the options")
    {
        auto o = fine;
        o.max_age = std::chrono::seconds(-1);
        throws_as_checked(config(), o, "invalid token_validator_options: max_age");
        o = fine;
        o.max_age = std::chrono::hours(25);
        throws_as_checked(config(), o, "max_age");
        o = fine;
        o.max_age = std::chrono::seconds::max(); // would overflow the trust's end
        throws_as_checked(config(), o, "max_age");
        o = fine;
        o.negative_ttl = std::chrono::seconds(-10);
        throws_as_checked(config(), o, "negative_ttl");
        o = fine;
        o.stale_if_error = std::chrono::hours(48);
        throws_as_checked(config(), o, "stale_if_error");
        o = fine;
        o.wait_timeout = std::chrono::milliseconds::max();
        throws_as_checked(config(), o, "wait_timeout");
        o = fine;
        o.organization_id = "";
        throws_as_checked(config(), o, "organization_id");
        o = fine;
        o.home_organization_id = "";
        throws_as_checked(config(), o, "home_organization_id");
        o = fine;
        o.required_scopes = {"users:readonly", ""};
        throws_as_checked(config(), o, "required_scopes");
        o = fine;
        o.allowed_client_ids = {""};
        throws_as_checked(config(), o, "allowed_client_ids");
    }
    SUBCASE("the bounds themselves are fine")
    {
        auto o = fine;
        o.max_age = std::chrono::hours(24);
        o.negative_ttl = std::chrono::seconds(0);
        o.stale_if_error = std::chrono::hours(24);
        o.wait_timeout = std::chrono::milliseconds(-1); // zero or less: the default
        CHECK_FALSE(genesys::check(config(), o));
        CHECK_NOTHROW(genesys::token_validator<fake_transport>(f.fake, config(), o));
    }
    CHECK(f.fake.request_count() == 0);
}

TEST_CASE("token_validator: a refused validation is counted as refused, never as a miss or an error")
{
    fixture f;
    auto v = f.make();
    for (int i = 0; i < 3; ++i)
        CHECK(v.validate("has space").error().kind == error_kind::invalid_argument);
    CHECK(v.validate("").error().kind == error_kind::invalid_argument);
    const auto s = v.stats();
    CHECK(s.refused == 4);
    CHECK(s.misses == 0);
    CHECK(s.errors == 0);
    CHECK(s.coalesced == 0);
    CHECK(s.entries == 0);
    CHECK(f.fake.request_count() == 0);
}

TEST_CASE("token_validator: the token never reaches an error message, a raw body or a log line")
{
    const std::string token(fixtures::secret_token);
    fixture f;
    std::vector<std::string> lines;
    std::mutex m;
    auto c = config();
    c.logger = [&](const genesys::log_event& e) {
        std::lock_guard lock(m);
        lines.push_back(genesys::to_string(e));
        for (const auto& h : e.request_headers)
            lines.push_back(h.name + ": " + h.value);
    };
    auto v = f.make(c);
    // A server that echoes the token in its 401 body and in a header.
    f.fake.respond(http_response{401, {{"Content-Type", "application/json"}, {"X-Echo", "Bearer " + token}},
                                 R"({"message":"bad token )" + token + R"(","code":"authentication.required","status":401})"});
    auto r = v.validate(token);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find(token) == std::string::npos);
    CHECK(r.error().raw_body.find(token) == std::string::npos);
    REQUIRE(r.error().body);
    CHECK(r.error().body->message.value_or("").find(token) == std::string::npos);
    for (const auto& h : r.error().headers)
        CHECK_MESSAGE(h.value.find(token) == std::string::npos, h.name);
    auto again = v.validate(token); // the remembered 401
    REQUIRE_FALSE(again);
    CHECK(again.error().raw_body.find(token) == std::string::npos);
    for (const auto& h : again.error().headers)
        CHECK_MESSAGE(h.value.find(token) == std::string::npos, h.name);
    REQUIRE_FALSE(lines.empty());
    for (const auto& l : lines)
        CHECK_MESSAGE(l.find(token) == std::string::npos, l);
}

namespace {

/// A blocking transport that holds every send until released, counting sends.
struct gated_transport {
    struct state {
        std::mutex m;
        std::condition_variable cv;
        bool open = false;
        int sends = 0;
        std::string body;
    };
    std::shared_ptr<state> st = std::make_shared<state>();

    boost::system::result<http_response> send(const http_request&)
    {
        std::unique_lock lock(st->m);
        ++st->sends;
        st->cv.notify_all();
        st->cv.wait(lock, [&] { return st->open; });
        return fixtures::json_response(200, st->body);
    }
    void open()
    {
        std::lock_guard lock(st->m);
        st->open = true;
        st->cv.notify_all();
    }
};

} // namespace

TEST_CASE("token_validator: 16 threads asking for one new token share one API call")
{
    manual_clock clock;
    gated_transport gate;
    gate.st->body = token_info_body(clock.now() + 1h);
    genesys::token_validator_options o;
    o.clock = clock.fn();
    genesys::token_validator<gated_transport> v{gate, config(), o};

    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 16; ++i)
        threads.emplace_back([&] {
            if (v.validate("new-token"))
                ++ok;
        });
    // Every thread is in: one sent (held at the gate), fifteen waiting for it.
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (v.stats().coalesced < 15 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(1ms);
    CHECK(v.stats().coalesced == 15);
    gate.open();
    for (auto& t : threads)
        t.join();
    CHECK(ok == 16);
    CHECK(gate.st->sends == 1);
    CHECK(v.stats().misses == 1);
}

TEST_CASE("token_validator: forget or clear during a check: its answer reaches its caller, and is not cached")
{
    manual_clock clock;
    gated_transport gate;
    gate.st->body = token_info_body(clock.now() + 1h);
    genesys::token_validator_options o;
    o.clock = clock.fn();
    genesys::token_validator<gated_transport> v{gate, config(), o};
    const auto sent = [&](int n) { // bounded: false after 10 s
        std::unique_lock lock(gate.st->m);
        return gate.st->cv.wait_for(lock, 10s, [&] { return gate.st->sends == n; });
    };

    std::optional<genesys::result<genesys::validated_token>> first, second;
    std::thread caller([&] { first.emplace(v.validate("tok")); });
    CHECK(sent(1)); // the check is under way, held at the gate
    SUBCASE("forget")
    {
        v.forget("tok");
    }
    SUBCASE("clear")
    {
        v.clear();
    }
    SUBCASE("forget, then a validation during the check makes its own call")
    {
        v.forget("tok");
        std::thread other([&] { second.emplace(v.validate("tok")); });
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (v.stats().misses < 2 && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(1ms);
        CHECK(v.stats().misses == 2); // not joined to the revoked check
        CHECK(v.stats().coalesced == 0);
        gate.open();
        other.join();
        caller.join();
        REQUIRE(second);
        CHECK(second->has_value());
        REQUIRE(first);
        CHECK(first->has_value()); // the caller gets the answer it fetched
        REQUIRE(v.validate("tok")); // the call made after forget was cached
        CHECK(gate.st->sends == 2);
        return;
    }
    gate.open();
    caller.join();
    REQUIRE(first);
    CHECK(first->has_value()); // the caller gets the answer it fetched
    REQUIRE(v.validate("tok")); // not cached: asked again
    CHECK(gate.st->sends == 2);
    REQUIRE(v.validate("tok")); // that answer, fetched after the revocation, is cached
    CHECK(gate.st->sends == 2);
}

TEST_CASE("token_validator: concurrent validation of many tokens from many threads (TSan)")
{
    manual_clock clock;
    fake_transport fake;
    fake.respond_by_default(fixtures::json_response(200, token_info_body(clock.now() + 1h)));
    genesys::token_validator_options o;
    o.clock = clock.fn();
    o.max_entries = 64;
    o.organization_id = "org-1";
    genesys::token_validator<fake_transport> v{fake, config(), o};
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 500; ++i) {
                if (!v.validate("tok-" + std::to_string((i * 7 + t) % 100)))
                    ++failures;
                if (i % 50 == 0)
                    v.forget("tok-" + std::to_string(i % 100));
                if (i == 250 && t == 0)
                    v.clear();
                (void)v.stats();
            }
        });
    for (auto& th : threads)
        th.join();
    CHECK(failures == 0);
    const auto s = v.stats();
    CHECK(s.entries <= 64);
    CHECK(s.hits + s.misses + s.coalesced == 2000);
}

namespace {

/// Answers 200 with a TokenInfo, keeping nothing of the request.
struct forgetful_transport {
    std::string body;
    boost::system::result<http_response> send(const http_request&) { return fixtures::json_response(200, body); }
};

} // namespace

TEST_CASE("token_validator: after a check, the token is nowhere in the process's heap, freed memory included" *
          doctest::skip(heap_scan::unsupported))
{
    manual_clock clock;
    genesys::token_validator_options o;
    o.clock = clock.fn();
    genesys::token_validator<forgetful_transport> v{forgetful_transport{token_info_body(clock.now() + 1h)}, config(), o};
    heap_scan::secret s;
    CHECK(heap_scan::contains(s.needle)); // the scan finds it while the caller holds it

    REQUIRE(v.validate(s.token));
    REQUIRE(v.validate(s.token)); // and a hit
    genesys::detail::wipe(s.token); // the caller's own copy: not the validator's business
    CHECK_FALSE(heap_scan::contains(s.needle));
    CHECK(v.stats().entries == 1);
}
