// SPDX-License-Identifier: BSL-1.0
// <genesys/token_validator.hpp>: token_validator over the blocking fake transport, with an injected
// clock: what is cached and for how long, what never is, single flight across threads, eviction,
// the policy, and that no token reaches an error, a log line or the cache.
#include <genesys/token_validator.hpp>

#include "eventually.hpp"
#include "fixtures.hpp"
#include "heap_scan.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>
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

using fixtures::manual_clock;

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
    f.clock.advance(1s); // a 429 without Retry-After is remembered 1 s (rate_limit_ttl_max)
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
    f.clock.advance(1s); // past the remembered 429 (1 s without Retry-After)

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

TEST_CASE("token_validator: at most max_entries, CLOCK keeps a token in use")
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

TEST_CASE("token_validator: a token is refused exactly when a byte is a space, a control character or DEL")
{
    // The check reads sixteen or eight bytes at a time: every byte value at every place of a block
    // and of the tail, then every pair of neighbours (a borrow from one byte must not flag the
    // next), in a token checked eight bytes at a time and in one checked sixteen at a time.
    using genesys::detail::validator_cache;
    auto refused = [](unsigned b) { return b <= 0x20 || b == 0x7f; };
    int wrong = 0;
    for (const std::size_t len : {1, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 86})
        for (std::size_t pos = 0; pos < len; ++pos)
            for (unsigned b = 0; b < 256; ++b) {
                std::string t(len, 'a');
                t[pos] = static_cast<char>(b);
                wrong += validator_cache::token_problem(t).empty() == refused(b) ? 1 : 0;
            }
    CHECK(wrong == 0);
    for (const std::size_t len : {15, 16})
        for (std::size_t pos = 0; pos < 8; ++pos)
            for (unsigned b1 = 0; b1 < 256; ++b1)
                for (unsigned b2 = 0; b2 < 256; ++b2) {
                    std::string t(len, 'a');
                    t[pos] = static_cast<char>(b1);
                    t[pos + 1] = static_cast<char>(b2);
                    wrong += validator_cache::token_problem(t).empty() == (refused(b1) || refused(b2)) ? 1 : 0;
                }
    CHECK(wrong == 0);
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
        o.rate_limit_ttl_max = std::chrono::seconds(-1);
        throws_as_checked(config(), o, "rate_limit_ttl_max");
        o = fine;
        o.rate_limit_ttl_max = std::chrono::hours(25);
        throws_as_checked(config(), o, "rate_limit_ttl_max");
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
        o.rate_limit_ttl_max = std::chrono::hours(24);
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

namespace {

/// A 429 with `Retry-After: retry_after` (none when empty).
http_response too_many(std::string_view retry_after)
{
    auto r = fixtures::json_response(429, fixtures::rate_limit_body, "corr-429");
    if (!retry_after.empty())
        r.headers.set("Retry-After", std::string(retry_after));
    return r;
}

/// `t` as an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`).
std::string http_date(sys_clock::time_point t)
{
    const std::time_t tt = sys_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return buf;
}

} // namespace

TEST_CASE("token_validator: a 429 is remembered until its Retry-After: no API call meanwhile")
{
    fixture f;
    auto v = f.make();
    f.fake.respond(too_many("5"));
    auto r = v.validate("tok-1");
    REQUIRE_FALSE(r);
    CHECK(r.error().status == 429);
    CHECK(f.fake.request_count() == 1);

    f.clock.advance(2s);
    r = v.validate("tok-1"); // remembered: the same error, nothing sent
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == error_kind::api);
    CHECK(r.error().status == 429);
    CHECK(r.error().code == genesys::condition::rate_limited);
    CHECK(r.error().correlation_id == "corr-429");
    CHECK(r.error().headers.get("Retry-After") == "3"); // the seconds left
    CHECK(f.fake.request_count() == 1);
    CHECK(v.validate("other-token").has_value() == false); // another token is asked (the fake has
    CHECK(f.fake.request_count() == 2);                    // nothing queued: a network error)

    f.clock.advance(3s); // Retry-After has passed: asked again
    f.valid();
    REQUIRE(v.validate("tok-1"));
    CHECK(f.fake.request_count() == 3);
    REQUIRE(v.validate("tok-1")); // the answer ended the 429: a hit
    CHECK(f.fake.request_count() == 3);
    const auto s = v.stats();
    CHECK(s.rate_limited == 1);
    CHECK(s.errors == 2);
    CHECK(s.misses == 3);
    CHECK(s.hits == 1);
}

TEST_CASE("token_validator: how long a 429 is remembered")
{
    fixture f;
    SUBCASE("capped by rate_limit_ttl_max")
    {
        f.opts.rate_limit_ttl_max = 10s;
        auto v = f.make();
        f.fake.respond(too_many("3600"));
        CHECK_FALSE(v.validate("tok"));
        f.clock.advance(9s);
        auto r = v.validate("tok");
        REQUIRE_FALSE(r);
        CHECK(r.error().headers.get("Retry-After") == "1");
        CHECK(f.fake.request_count() == 1);
        f.clock.advance(1s);
        f.valid();
        CHECK(v.validate("tok"));
        CHECK(f.fake.request_count() == 2);
    }
    SUBCASE("an HTTP date")
    {
        auto v = f.make();
        f.fake.respond(too_many(http_date(f.clock.now() + 20s)));
        CHECK_FALSE(v.validate("tok"));
        f.clock.advance(19s);
        CHECK_FALSE(v.validate("tok"));
        CHECK(f.fake.request_count() == 1);
        f.clock.advance(1s);
        f.valid();
        CHECK(v.validate("tok"));
        CHECK(f.fake.request_count() == 2);
    }
    SUBCASE("no Retry-After, or one that does not parse: 1 s")
    {
        auto v = f.make();
        f.fake.respond(too_many(""));
        CHECK_FALSE(v.validate("tok"));
        f.clock.advance(999ms);
        CHECK_FALSE(v.validate("tok"));
        CHECK(f.fake.request_count() == 1);
        f.clock.advance(1ms);
        f.fake.respond(too_many("soon"));
        CHECK_FALSE(v.validate("tok"));
        CHECK(f.fake.request_count() == 2);
        f.clock.advance(999ms);
        CHECK_FALSE(v.validate("tok"));
        CHECK(f.fake.request_count() == 2);
        CHECK(v.stats().rate_limited == 2);
    }
    SUBCASE("rate_limit_ttl_max 0: not remembered")
    {
        f.opts.rate_limit_ttl_max = 0s;
        auto v = f.make();
        f.fake.respond(too_many("30"));
        CHECK_FALSE(v.validate("tok"));
        f.valid();
        CHECK(v.validate("tok"));
        CHECK(f.fake.request_count() == 2);
        CHECK(v.stats().rate_limited == 0);
    }
    SUBCASE("Retry-After: 0: not remembered")
    {
        auto v = f.make();
        f.fake.respond(too_many("0"));
        CHECK_FALSE(v.validate("tok"));
        f.valid();
        CHECK(v.validate("tok"));
        CHECK(f.fake.request_count() == 2);
    }
    SUBCASE("forget and clear end it")
    {
        auto v = f.make();
        f.fake.respond(too_many("30"));
        f.fake.respond(too_many("30"));
        CHECK_FALSE(v.validate("a"));
        CHECK_FALSE(v.validate("b"));
        v.forget("a");
        f.valid();
        CHECK(v.validate("a"));
        v.clear();
        f.valid();
        CHECK(v.validate("b"));
        CHECK(f.fake.request_count() == 4);
    }
}

TEST_CASE("token_validator: under a remembered 429, stale_if_error serves the expired entry, the policy applied")
{
    fixture f;
    f.opts.stale_if_error = 60s;
    f.opts.required_scopes = {"users:readonly"};
    auto v = f.make();
    f.valid();
    REQUIRE(v.validate("tok-1"));
    f.clock.advance(61s);
    f.fake.respond(too_many("30"));
    auto r = v.validate("tok-1");
    REQUIRE(r);
    CHECK(r->stale());
    for (int i = 0; i < 3; ++i) {
        f.clock.advance(5s);
        r = v.validate("tok-1"); // no API call: the entry, stale
        REQUIRE(r);
        CHECK(r->stale());
    }
    CHECK(f.fake.request_count() == 2);
    f.clock.advance(16s); // 61 + 31: the 429 has passed
    f.valid();
    r = v.validate("tok-1");
    REQUIRE(r);
    CHECK_FALSE(r->stale());
    CHECK(f.fake.request_count() == 3);
    const auto s = v.stats();
    CHECK(s.rate_limited == 3);
    CHECK(s.stale_hits == 4);

    // A token refused by the policy is refused from the stale entry too.
    fixture g;
    g.opts.stale_if_error = 60s;
    g.opts.required_scopes = {"admin"};
    auto w = g.make();
    g.valid();
    CHECK(w.validate("tok-1").error().kind == error_kind::policy);
    g.clock.advance(61s);
    g.fake.respond(too_many("30"));
    CHECK(w.validate("tok-1").error().kind == error_kind::policy);
    CHECK(w.validate("tok-1").error().kind == error_kind::policy);
    CHECK(g.fake.request_count() == 2);
}

TEST_CASE("token_validator: remembered 429s count against max_entries, and never hold a token")
{
    fixture f;
    f.opts.max_entries = 4;
    f.fake.respond_by_default(too_many("30"));
    auto v = f.make();
    for (int i = 0; i < 20; ++i)
        CHECK_FALSE(v.validate("bogus-" + std::to_string(i)));
    CHECK(v.stats().entries == 4);
    CHECK(v.stats().evictions == 16);
    CHECK(f.fake.request_count() == 20);
    CHECK_FALSE(v.validate("bogus-19")); // among the four kept
    CHECK(f.fake.request_count() == 20);
}

// The limiter behind max_concurrent_checks, directly: room taken and given back without its
// mutex while no one waits, passed first come, first served once someone does.
namespace {
struct limiter_test_ticket final : genesys::detail::check_ticket {
    std::atomic<int> grants{0};
    void granted() noexcept override { grants.fetch_add(1); }
};
} // namespace

TEST_CASE("check_limiter: room, the queue, passing room on and withdrawing, in order")
{
    genesys::detail::check_limiter l(2);
    REQUIRE(l.try_acquire());
    REQUIRE(l.try_acquire());
    CHECK(l.in_flight() == 2);
    CHECK_FALSE(l.try_acquire()); // full
    auto first = std::make_shared<limiter_test_ticket>();
    auto second = std::make_shared<limiter_test_ticket>();
    CHECK_FALSE(l.acquire_or_queue(first));
    CHECK_FALSE(l.acquire_or_queue(second));
    l.release(); // passes to `first`: the count stays
    CHECK(first->grants == 1);
    CHECK(second->grants == 0);
    CHECK(l.in_flight() == 2);
    CHECK_FALSE(l.withdraw(first.get())); // holds room now
    CHECK(l.withdraw(second.get()));      // still queued: taken out
    CHECK_FALSE(l.acquire(0ms));          // full, and a zero wait gives up
    l.release();
    CHECK(second->grants == 0); // withdrawn: gets nothing
    CHECK(l.in_flight() == 1);
    CHECK(l.try_acquire()); // no one queued: room at once
    auto third = std::make_shared<limiter_test_ticket>();
    CHECK_FALSE(l.acquire_or_queue(third));
    CHECK_FALSE(l.try_acquire()); // someone queued: first come, first served, even with room freed
    third.reset();                // its owner gone: the queue holds it weakly
    l.release();                  // nothing to pass on: the room is freed
    CHECK(l.in_flight() == 1);
    CHECK(l.try_acquire());
    l.release();
    l.release();
    CHECK(l.in_flight() == 0);
    CHECK(l.acquire(0ms));
    l.release();
    CHECK(l.in_flight() == 0);
}

TEST_CASE("check_limiter: four threads taking, queueing, waiting and giving back never exceed the bound (TSan)")
{
    constexpr std::size_t bound = 3;
    genesys::detail::check_limiter l(bound);
    std::atomic<int> holding{0}, most{0};
    auto hold = [&] {
        const int now = holding.fetch_add(1) + 1;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::yield();
        holding.fetch_sub(1);
        l.release();
    };
    std::vector<std::thread> threads;
    std::atomic<int> gave_up{0};
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 3000; ++i) {
                switch ((i + t) % 3) {
                case 0:
                    if (l.try_acquire())
                        hold();
                    break;
                case 1:
                    if (l.acquire(5s))
                        hold();
                    else
                        gave_up.fetch_add(1);
                    break;
                default: {
                    auto ticket = std::make_shared<limiter_test_ticket>();
                    if (!l.acquire_or_queue(ticket)) {
                        const auto until = std::chrono::steady_clock::now() + 5s;
                        while (ticket->grants == 0 && std::chrono::steady_clock::now() < until)
                            std::this_thread::yield();
                        if (ticket->grants == 0 && l.withdraw(ticket.get())) {
                            gave_up.fetch_add(1);
                            break;
                        }
                    }
                    hold();
                }
                }
            }
        });
    for (auto& t : threads)
        t.join();
    CHECK(most.load() <= static_cast<int>(bound));
    CHECK(most.load() >= 1);
    CHECK(gave_up.load() == 0); // room always came within 5 s: none was lost
    CHECK(l.in_flight() == 0);
    CHECK(l.try_acquire());
    l.release();
}

TEST_CASE("token_validator: max_concurrent_checks: beyond it a check waits for room, then fails as overloaded")
{
    manual_clock clock;
    gated_transport gate;
    gate.st->body = token_info_body(clock.now() + 1h);
    genesys::token_validator_options o;
    o.clock = clock.fn();
    o.max_concurrent_checks = 1;
    o.wait_timeout = 50ms;
    genesys::token_validator<gated_transport> v{gate, config(), o};
    using testwait::eventually; // bounded: false after 10 s

    std::optional<genesys::result<genesys::validated_token>> first, joined, other;
    std::thread holder([&] { first.emplace(v.validate("a")); });
    REQUIRE(eventually([&] { return v.stats().checks_in_flight == 1; }));
    std::thread joiner([&] { joined.emplace(v.validate("a")); }); // joins: takes no room
    REQUIRE(eventually([&] { return v.stats().coalesced == 1; }));
    std::atomic<bool> returned{false};
    std::thread spray([&] {
        other.emplace(v.validate("b"));
        returned = true;
    });
    CHECK(eventually([&] { return returned.load(); })); // not stuck behind "a"'s check
    if (!returned)
        gate.open();
    spray.join();
    REQUIRE(other);
    REQUIRE_FALSE(*other);
    CHECK(other->error().kind == error_kind::network);
    CHECK(other->error().code == genesys::errc::validator_overloaded);
    CHECK(other->error().code == genesys::condition::network);
    CHECK(other->error().message.find("max_concurrent_checks") != std::string::npos);
    {
        std::lock_guard lock(gate.st->m); // ("a"'s sender holds the gate)
        CHECK(gate.st->sends == 1);       // nothing sent for "b"
    }
    auto s = v.stats();
    CHECK(s.overloaded == 1);
    CHECK(s.errors == 0);
    CHECK(s.checks_in_flight == 1);

    gate.open();
    holder.join();
    joiner.join();
    REQUIRE(first);
    CHECK(first->has_value());
    REQUIRE(joined); // (its wait for "a"'s check is bounded by wait_timeout too)
    CHECK((joined->has_value() || joined->error().code == genesys::errc::deadline_exceeded));
    CHECK(v.stats().checks_in_flight == 0);
    CHECK(v.validate("b").has_value()); // room again: "b" is checked (its failure was not kept)
    CHECK(gate.st->sends == 2);
}

TEST_CASE("token_validator: max_concurrent_checks: a check that waits within the bound goes on")
{
    manual_clock clock;
    gated_transport gate;
    gate.st->body = token_info_body(clock.now() + 1h);
    genesys::token_validator_options o;
    o.clock = clock.fn();
    o.max_concurrent_checks = 2;
    o.wait_timeout = 10min; // (bounded by the test's own 10 s loops)
    genesys::token_validator<gated_transport> v{gate, config(), o};
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 6; ++i)
        threads.emplace_back([&, i] { ok += v.validate("tok-" + std::to_string(i)).has_value(); });
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (v.stats().misses < 6 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(1ms);
    CHECK(v.stats().checks_in_flight == 2); // four wait for room
    gate.open();
    for (auto& t : threads)
        t.join();
    CHECK(ok == 6);
    CHECK(gate.st->sends == 6);
    CHECK(v.stats().overloaded == 0);
    CHECK(v.stats().checks_in_flight == 0);
}

TEST_CASE("token_validator: an overloaded check gets the expired entry under stale_if_error")
{
    manual_clock clock;
    gated_transport gate;
    gate.st->body = token_info_body(clock.now() + 1h);
    gate.open();
    genesys::token_validator_options o;
    o.clock = clock.fn();
    o.max_concurrent_checks = 1;
    o.wait_timeout = 1ms;
    o.stale_if_error = 60s;
    genesys::token_validator<gated_transport> v{gate, config(), o};
    REQUIRE(v.validate("a"));
    clock.advance(61s);
    {
        std::lock_guard lock(gate.st->m);
        gate.st->open = false;
    }
    std::thread holder([&] { (void)v.validate("b"); });
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (v.stats().checks_in_flight < 1 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(1ms);
    auto r = v.validate("a");
    REQUIRE(r);
    CHECK(r->stale());
    CHECK(v.stats().overloaded == 1);
    gate.open();
    holder.join();
}

TEST_CASE("token_validator: metrics: one duration per API call, by status, hits and remembered answers add none")
{
    fixture f;
    auto v = f.make();
    f.valid();
    f.fake.respond(fixtures::json_response(401, unauthorized_body));
    f.fake.respond(too_many("30"));
    f.fake.fail(make_error_code(boost::system::errc::connection_refused));
    f.fake.respond(fixtures::json_response(200, "[1]")); // undecodable
    const std::string tokens[] = {"tok-valid", "tok-401", "tok-429", "tok-down", "tok-decode"};
    for (const auto& t : tokens)
        (void)v.validate(t);
    for (const auto& t : tokens) // hits, a remembered 401, a remembered 429; the rest asked again
        (void)v.validate(t);
    const auto m = v.metrics();
    CHECK(m.stats.misses == 7);
    CHECK(m.stats.rate_limited == 1);
    REQUIRE(m.api_calls.size() == 5);
    CHECK(m.api_calls[0].status == 0);
    CHECK(m.api_calls[0].error_type == "network");
    CHECK(m.api_calls[0].durations.count == 3); // tok-down, then tok-down and tok-decode (empty queue)
    CHECK(m.api_calls[1].status == 200);
    CHECK(m.api_calls[1].error_type.empty());
    CHECK(m.api_calls[1].durations.count == 1);
    CHECK(m.api_calls[2].status == 200);
    CHECK(m.api_calls[2].error_type == "decode");
    CHECK(m.api_calls[3].status == 401);
    CHECK(m.api_calls[3].error_type == "401");
    CHECK(m.api_calls[4].status == 429);
    CHECK(m.api_calls[4].error_type == "429");
    std::uint64_t calls = 0;
    for (const auto& c : m.api_calls)
        calls += c.durations.count;
    CHECK(calls == f.fake.request_count());

    std::string text;
    genesys::write_prometheus(text, m);
    CHECK(text.find("genesys_token_validator_misses_total 7\n") != std::string::npos);
    for (const auto& t : tokens)
        CHECK_MESSAGE(text.find(t) == std::string::npos, t); // no label carries a token
}

TEST_CASE("token_validator: refresh_ahead: the first hit near the end of the trust re-checks, once")
{
    fixture f;
    f.opts.refresh_ahead = 10s;
    f.fake.respond_by_default(fixtures::json_response(200, token_info_body(f.clock.now() + 1h)));
    auto v = f.make();
    auto first = v.validate("tok");
    REQUIRE(first);
    f.clock.advance(49s); // 11 s left: outside the window
    REQUIRE(v.validate("tok"));
    CHECK(f.fake.request_count() == 1);
    f.clock.advance(1s); // 10 s left: this validation re-checks
    auto refreshed = v.validate("tok");
    REQUIRE(refreshed);
    CHECK(f.fake.request_count() == 2);
    CHECK(refreshed->fetched_at() == f.clock.now());
    CHECK_FALSE(refreshed->stale());
    for (int i = 0; i < 5; ++i) // the new entry: hits
        REQUIRE(v.validate("tok"));
    f.clock.advance(50s); // the new entry's window: one more
    REQUIRE(v.validate("tok"));
    REQUIRE(v.validate("tok"));
    CHECK(f.fake.request_count() == 3);
    const auto s = v.stats();
    CHECK(s.refreshes == 2);
    CHECK(s.misses == 1);
    CHECK(s.hits == 9); // the re-checking validations hit first
}

TEST_CASE("token_validator: refresh_ahead: what a failed re-check leaves, and what it does not touch")
{
    fixture f;
    f.opts.refresh_ahead = 10s;
    SUBCASE("a network error: the cached answer, no other re-check before the entry expires")
    {
        auto v = f.make();
        f.valid();
        auto first = v.validate("tok");
        REQUIRE(first);
        f.clock.advance(55s);
        f.fake.fail(make_error_code(boost::system::errc::connection_refused));
        auto r = v.validate("tok");
        REQUIRE(r);
        CHECK_FALSE(r->stale());
        CHECK(r->fetched_at() == first->fetched_at());
        REQUIRE(v.validate("tok"));
        CHECK(f.fake.request_count() == 2);
        f.clock.advance(5s); // expired: a miss
        f.valid();
        REQUIRE(v.validate("tok"));
        CHECK(f.fake.request_count() == 3);
    }
    SUBCASE("a 401: the token was revoked; that is the answer, and it is remembered")
    {
        auto v = f.make();
        f.valid();
        REQUIRE(v.validate("tok"));
        f.clock.advance(55s);
        f.fake.respond(fixtures::json_response(401, unauthorized_body));
        auto r = v.validate("tok");
        REQUIRE_FALSE(r);
        CHECK(r.error().status == 401);
        CHECK_FALSE(v.validate("tok"));
        CHECK(f.fake.request_count() == 2);
    }
    SUBCASE("a trust that dateTokenIdles ends is not re-checked (a check cannot move it)")
    {
        auto v = f.make();
        f.valid(token_info_body(f.clock.now() + 30s));
        REQUIRE(v.validate("tok"));
        f.clock.advance(25s);
        REQUIRE(v.validate("tok"));
        REQUIRE(v.validate("tok"));
        CHECK(f.fake.request_count() == 1);
        CHECK(v.stats().refreshes == 0);
    }
    SUBCASE("refresh_ahead must be less than max_age")
    {
        f.opts.refresh_ahead = f.opts.max_age;
        CHECK(genesys::check(config(), f.opts));
        f.opts.refresh_ahead = -1s;
        CHECK(genesys::check(config(), f.opts));
        f.opts.refresh_ahead = f.opts.max_age - 1s;
        CHECK_FALSE(genesys::check(config(), f.opts));
    }
}

TEST_CASE("token_validator: refresh_ahead: the others keep hitting while one caller re-checks")
{
    manual_clock clock;
    gated_transport gate;
    gate.st->body = token_info_body(clock.now() + 1h);
    gate.open();
    genesys::token_validator_options o;
    o.clock = clock.fn();
    o.refresh_ahead = 10s;
    genesys::token_validator<gated_transport> v{gate, config(), o};
    REQUIRE(v.validate("tok"));
    {
        std::lock_guard lock(gate.st->m);
        gate.st->open = false;
    }
    clock.advance(55s);
    std::optional<genesys::result<genesys::validated_token>> refresher;
    std::thread t([&] { refresher.emplace(v.validate("tok")); });
    {
        std::unique_lock lock(gate.st->m); // bounded: 10 s
        CHECK(gate.st->cv.wait_for(lock, 10s, [&] { return gate.st->sends == 2; }));
    }
    for (int i = 0; i < 20; ++i) { // the re-check is held at the gate: these hit
        auto r = v.validate("tok");
        REQUIRE(r);
        CHECK_FALSE(r->stale());
    }
    CHECK(v.stats().coalesced == 0);
    gate.open();
    t.join();
    REQUIRE(refresher);
    REQUIRE(*refresher);
    CHECK((*refresher)->fetched_at() == clock.now());
    CHECK(gate.st->sends == 2);
}

TEST_CASE("token_validator: max_concurrent_checks and refresh_ahead under many threads (TSan)")
{
    manual_clock clock;
    fake_transport fake;
    fake.respond_by_default(fixtures::json_response(200, token_info_body(clock.now() + 1h)));
    genesys::token_validator_options o;
    o.clock = clock.fn();
    o.max_entries = 64;
    o.max_concurrent_checks = 2;
    o.wait_timeout = 10min; // (the checks are quick: none waits that long)
    o.refresh_ahead = 20s;
    genesys::token_validator<fake_transport> v{fake, config(), o};
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 6; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 300; ++i) {
                if (!v.validate("tok-" + std::to_string((i * 7 + t) % 100)))
                    ++failures;
                if (t == 0 && i % 10 == 0)
                    clock.advance(3s); // through refresh windows and expiries
                (void)v.metrics();
            }
        });
    for (auto& th : threads)
        th.join();
    CHECK(failures == 0);
    const auto s = v.stats();
    CHECK(s.checks_in_flight == 0);
    CHECK(s.overloaded == 0);
    CHECK(s.refreshes > 0);
    CHECK(s.hits + s.misses + s.coalesced == 1800);
}
