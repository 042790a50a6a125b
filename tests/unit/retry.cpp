// SPDX-License-Identifier: BSL-1.0
// <genesys/retry.hpp>: the retry policy, driven through the Tokens client with virtual time.
#include <genesys/retry.hpp>

#include "fixtures.hpp"

#include <chrono>
#include <string>
#include <vector>

using namespace std::chrono;
using namespace std::chrono_literals;
using genesys::testing::fake_transport;

namespace {

/// Virtual time: sleeping advances both clocks instantly and records the wait.
struct virtual_time {
    steady_clock::time_point steady{};
    system_clock::time_point wall = sys_days{2026y / 11 / 27} + 12h;
    std::vector<milliseconds> waits;
    double jitter = 0.5;

    genesys::retry_policy policy(int attempts)
    {
        auto p = genesys::retry_policy::standard(attempts);
        p.clock = [this] { return steady; };
        p.wall_clock = [this] { return wall; };
        p.sleep = [this](milliseconds d) {
            waits.push_back(d);
            steady += d;
            wall += d;
        };
        p.random = [this] { return jitter; };
        return p;
    }
};

genesys::tokens_api<fake_transport> make(const fake_transport& fake, genesys::retry_policy policy)
{
    genesys::client_config cfg{.access_token = std::string(fixtures::secret_token)};
    cfg.retry = std::move(policy);
    return {fake, std::move(cfg)};
}

genesys::http_response status(int code, genesys::http_headers headers = {})
{
    return {code, std::move(headers), code == 200 ? std::string(fixtures::token_info_2018_json) : std::string()};
}

using waits = std::vector<milliseconds>;

} // namespace

TEST_CASE("retrying is off by default")
{
    fake_transport fake;
    fake.respond(503).respond(200);
    genesys::tokens_api api{fake, {.access_token = "tok-123456789"}};
    auto r = api.try_get_tokens_me();
    REQUIRE(r.has_error());
    CHECK(r.error().status == 503);
    CHECK(r.error().attempts == 1);
    CHECK(fake.request_count() == 1);
}

TEST_CASE("429 with Retry-After in seconds: waits exactly that long")
{
    virtual_time t;
    fake_transport fake;
    fake.respond(status(429, {{"Retry-After", "2"}})).respond(status(429, {{"Retry-After", "3"}})).respond(status(200));
    auto api = make(fake, t.policy(4));
    auto r = api.try_get_tokens_me();
    REQUIRE(r.has_value());
    CHECK(t.waits == waits{2000ms, 3000ms});
    CHECK(fake.request_count() == 3);
}

TEST_CASE("429 with Retry-After as an HTTP-date: waits until then")
{
    virtual_time t;
    fake_transport fake;
    fake.respond(status(429, {{"Retry-After", "Fri, 27 Nov 2026 12:00:07 GMT"}})).respond(status(200));
    auto api = make(fake, t.policy(4));
    CHECK(api.get_tokens_me().organization.has_value());
    CHECK(t.waits == waits{7000ms});
}

TEST_CASE("429 without Retry-After: exponential backoff with jitter")
{
    virtual_time t;
    t.jitter = 0.5; // equal jitter: half the backoff plus half of the rest
    fake_transport fake;
    fake.respond(status(429)).respond(status(429)).respond(status(429)).respond(status(200));
    auto api = make(fake, t.policy(4));
    CHECK(api.verify_token());
    CHECK(t.waits == waits{375ms, 750ms, 1500ms}); // backoffs 500, 1000, 2000 ms

    virtual_time low;
    low.jitter = 0.0;
    fake.respond(status(429)).respond(status(429)).respond(status(200));
    auto api2 = make(fake, low.policy(4));
    CHECK(api2.verify_token());
    CHECK(low.waits == waits{250ms, 500ms});
}

TEST_CASE("backoff is capped by max_backoff")
{
    virtual_time t;
    t.jitter = 1.0;
    auto policy = t.policy(6);
    policy.max_backoff = 1500ms;
    fake_transport fake;
    for (int i = 0; i < 5; ++i)
        fake.respond(status(502));
    fake.respond(status(200));
    auto api = make(fake, policy);
    CHECK(api.verify_token());
    CHECK(t.waits == waits{500ms, 1000ms, 1500ms, 1500ms, 1500ms});
}

TEST_CASE("a 503 burst is retried and then succeeds, the attempts are bounded")
{
    virtual_time t;
    fake_transport fake;
    fake.respond(status(503)).respond(status(503)).respond(status(504)).respond(status(200));
    auto api = make(fake, t.policy(4));
    auto r = api.try_get_tokens_me();
    REQUIRE(r.has_value());
    CHECK(r->data.organization->name == "Acme");
    CHECK(t.waits == waits{375ms, 750ms, 1500ms});
    CHECK(fake.request_count() == 4);

    virtual_time t2;
    fake_transport always;
    always.respond_by_default(status(503));
    auto api2 = make(always, t2.policy(3));
    auto failed = api2.try_delete_tokens_me();
    REQUIRE(failed.has_error());
    CHECK(failed.error().status == 503);
    CHECK(failed.error().attempts == 3);
    CHECK(failed.error().message.find("(gave up after 3 attempts: max_attempts is 3)") != std::string::npos);
    CHECK(always.request_count() == 3);
    CHECK(t2.waits.size() == 2);
}

TEST_CASE("a 429 storm that outlasts the budget stops with the 429, without sleeping past it")
{
    virtual_time t;
    auto policy = t.policy(10);
    policy.max_elapsed = 60s;
    fake_transport fake;
    fake.respond_by_default({429, {{"Retry-After", "25"}}, std::string(fixtures::rate_limit_body)});
    auto api = make(fake, policy);
    try {
        api.delete_token("u-1");
        FAIL("no exception");
    } catch (const genesys::api_error& e) {
        CHECK(e.status() == 429);
        CHECK(e.body()->code == "too.many.requests.retry.after");
        CHECK(e.info().attempts == 3);
    }
    CHECK(t.waits == waits{25s, 25s}); // a third wait would end at 75 s, past the 60 s budget
}

TEST_CASE("a Retry-After beyond max_wait stops retrying at once")
{
    virtual_time t;
    auto policy = t.policy(5);
    policy.max_wait = 30s;
    fake_transport fake;
    fake.respond({429, {{"Retry-After", "3600"}}, {}}).respond(status(200));
    auto api = make(fake, policy);
    auto r = api.try_get_tokens_me();
    REQUIRE(r.has_error());
    CHECK(r.error().status == 429);
    CHECK(t.waits.empty());
    CHECK(fake.request_count() == 1);
}

TEST_CASE("a network error, then success")
{
    virtual_time t;
    t.jitter = 0.0;
    fake_transport fake;
    fake.fail(boost::system::errc::make_error_code(boost::system::errc::connection_refused)).respond(status(200));
    auto api = make(fake, t.policy(3));
    CHECK(api.verify_token());
    CHECK(t.waits == waits{250ms});

    virtual_time t2;
    auto no_network = t2.policy(3);
    no_network.retry_network_errors = false;
    fake.fail(boost::system::errc::make_error_code(boost::system::errc::connection_refused)).respond(status(200));
    auto api2 = make(fake, no_network);
    CHECK_THROWS_AS(api2.verify_token(), genesys::network_error);
    CHECK(t2.waits.empty());
}

TEST_CASE("a proxy's 407 is not retried, a failed tunnel is")
{
    virtual_time t;
    t.jitter = 0.0;
    fake_transport fake;
    fake.fail(genesys::make_error_code(genesys::errc::proxy_authentication_required)).respond(status(200));
    auto api = make(fake, t.policy(3));
    auto r = api.try_get_tokens_me();
    REQUIRE(r.has_error());
    CHECK(r.error().code == genesys::errc::proxy_authentication_required);
    CHECK(r.error().code == genesys::condition::network);
    CHECK(fake.request_count() == 1);
    CHECK(t.waits.empty());

    virtual_time t2;
    t2.jitter = 0.0;
    fake_transport fake2;
    fake2.fail(genesys::make_error_code(genesys::errc::proxy_tunnel_failed)).respond(status(200));
    auto api2 = make(fake2, t2.policy(3));
    CHECK(api2.verify_token());
    CHECK(fake2.request_count() == 2);
    CHECK(t2.waits == waits{250ms});
}

TEST_CASE("statuses outside retry_statuses, decode errors and bad input are not retried")
{
    for (int code : {400, 401, 403, 404, 408, 409, 413, 415, 500, 501}) {
        CAPTURE(code);
        virtual_time t;
        fake_transport fake;
        fake.respond(status(code)).respond(status(200));
        auto api = make(fake, t.policy(4));
        CHECK(api.try_get_tokens_me().has_error());
        CHECK(fake.request_count() == 1);
        CHECK(t.waits.empty());
    }
    virtual_time t;
    fake_transport fake;
    fake.respond({200, {}, "not json"}).respond(status(200));
    auto api = make(fake, t.policy(4));
    CHECK(api.try_get_tokens_me().error().kind == genesys::error_kind::decode);
    CHECK(fake.request_count() == 1);
    CHECK(api.try_delete_token("..").error().kind == genesys::error_kind::invalid_argument);
    CHECK(fake.request_count() == 1);
}

TEST_CASE("the wait sequence follows the policy's own status list")
{
    virtual_time t;
    auto policy = t.policy(3);
    policy.retry_statuses = {500};
    fake_transport fake;
    fake.respond(status(500)).respond(status(200));
    auto api = make(fake, policy);
    CHECK(api.verify_token());
    CHECK(t.waits.size() == 1);
}

namespace {

/// A client whose every log line is kept: the last one says why retrying stopped.
struct logged_client {
    std::vector<std::string> lines;
    std::vector<std::string> decisions;
    genesys::tokens_api<fake_transport> api;

    logged_client(const fake_transport& fake, genesys::retry_policy policy, std::chrono::milliseconds timeout = {})
        : api(fake, config(std::move(policy), timeout))
    {
    }

    genesys::client_config config(genesys::retry_policy policy, std::chrono::milliseconds timeout)
    {
        genesys::client_config cfg{.access_token = std::string(fixtures::secret_token)};
        cfg.retry = std::move(policy);
        cfg.call_timeout = timeout;
        cfg.logger = [this](const genesys::log_event& e) {
            lines.push_back(genesys::to_string(e));
            decisions.emplace_back(e.retry);
        };
        return cfg;
    }
};

bool has(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

} // namespace

TEST_CASE("retrying says why it stopped: the attempt limit")
{
    virtual_time t;
    fake_transport fake;
    fake.respond_by_default(status(503));
    logged_client c(fake, t.policy(3));
    auto r = c.api.try_get_tokens_me();
    REQUIRE(r.has_error());
    CHECK(r.error().attempts == 3);
    CHECK(r.error().message == "getTokensMe failed: HTTP 503 (gave up after 3 attempts: max_attempts is 3)");
    REQUIRE(c.lines.size() == 3);
    CHECK(has(c.lines[0], "retrying in 375 ms"));
    CHECK(c.decisions[1] == "retrying in 750 ms");
    CHECK(c.decisions[2] == "gave up after 3 attempts: max_attempts is 3");
    CHECK(has(c.lines[2], "(attempt 3): gave up after 3 attempts: max_attempts is 3"));
}

TEST_CASE("retrying says why it stopped: a Retry-After over max_wait")
{
    virtual_time t;
    auto policy = t.policy(5);
    policy.max_wait = 30s;
    fake_transport fake;
    fake.respond({429, {{"Retry-After", "120"}}, {}});
    logged_client c(fake, policy);
    auto r = c.api.try_get_tokens_me();
    REQUIRE(r.has_error());
    CHECK(r.error().attempts == 1);
    CHECK(r.error().message == "getTokensMe failed: HTTP 429 (not retried: Retry-After 120 s exceeds max_wait 30 s)");
    REQUIRE(c.lines.size() == 1);
    CHECK(c.decisions[0] == "not retried: Retry-After 120 s exceeds max_wait 30 s");
    CHECK(has(c.lines[0], "not retried: Retry-After 120 s exceeds max_wait 30 s"));
    CHECK(t.waits.empty());
}

TEST_CASE("retrying says why it stopped: the max_elapsed budget")
{
    virtual_time t;
    auto policy = t.policy(10);
    policy.max_elapsed = 60s;
    fake_transport fake;
    fake.respond_by_default({429, {{"Retry-After", "25"}}, {}});
    logged_client c(fake, policy);
    auto r = c.api.try_delete_token("u-1");
    REQUIRE(r.has_error());
    CHECK(r.error().attempts == 3);
    const std::string why = "gave up after 3 attempts: the next wait, 25 s, would end 75 s into the call, past "
                            "max_elapsed 60 s";
    CHECK(r.error().message == "deleteToken failed: HTTP 429 (" + why + ")");
    REQUIRE(c.lines.size() == 3);
    CHECK(c.decisions[2] == why);
    CHECK(has(c.lines[2], why));
}

TEST_CASE("retrying says why it stopped: an error that is never retried, and the call's timeout")
{
    virtual_time t;
    fake_transport fake;
    fake.respond(status(503)).respond(status(404));
    logged_client c(fake, t.policy(4));
    auto r = c.api.try_get_tokens_me();
    REQUIRE(r.has_error());
    CHECK(r.error().attempts == 2);
    CHECK(r.error().message == "getTokensMe failed: HTTP 404 (gave up after 2 attempts: HTTP 404 is not in "
                               "retry_statuses)");
    REQUIRE(c.decisions.size() == 2);
    CHECK(c.decisions[1] == "gave up after 2 attempts: HTTP 404 is not in retry_statuses");

    // A first attempt that is not retried is not annotated: the policy never came into play.
    fake.respond(status(404));
    auto first = c.api.try_get_tokens_me();
    CHECK(first.error().message == "getTokensMe failed: HTTP 404");
    CHECK(c.decisions.back().empty());

    // A network failure that would fail the same way again.
    fake.fail(boost::system::errc::make_error_code(boost::system::errc::connection_refused))
        .fail(boost::system::errc::make_error_code(boost::system::errc::permission_denied));
    auto network = c.api.try_get_tokens_me();
    REQUIRE(network.has_error());
    CHECK(has(network.error().message, "(gave up after 2 attempts: this network failure is not transient)"));

    // The call's own timeout cuts the waits short.
    virtual_time t2;
    fake_transport slow;
    slow.respond_by_default({503, {{"Retry-After", "2"}}, {}});
    logged_client timed(slow, t2.policy(10), 5s);
    auto cut = timed.api.try_get_tokens_me();
    REQUIRE(cut.has_error());
    CHECK(cut.error().status == 503);
    CHECK(cut.error().attempts == 3);
    CHECK(has(cut.error().message, "(gave up after 3 attempts: the next wait, 2 s, would end past call_timeout 5 s)"));
}
