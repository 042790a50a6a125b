// SPDX-License-Identifier: BSL-1.0
// <genesys/token_source.hpp>: the token source: caching, expiry with an injectable clock,
// single-flight refresh across threads with a bounded wait, and tokens_api taking its token from
// one (401 refresh and retry, deleteTokensMe dropping the token).
#include <genesys/token_source.hpp>

#include "fixtures.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using genesys::testing::fake_transport;
using namespace std::chrono_literals;

namespace {

/// A clock that moves only when the test says so.
struct manual_clock {
    std::shared_ptr<std::atomic<std::int64_t>> seconds = std::make_shared<std::atomic<std::int64_t>>(1000);

    void advance(std::chrono::seconds s) { *seconds += s.count(); }
    std::function<std::chrono::steady_clock::time_point()> fn() const
    {
        return [s = seconds] { return std::chrono::steady_clock::time_point(std::chrono::seconds(s->load())); };
    }
};

/// A grant that issues "T1", "T2", ... with `expires_in`, counting its calls.
struct counting_grant {
    std::shared_ptr<std::atomic<int>> calls = std::make_shared<std::atomic<int>>(0);
    std::optional<std::int64_t> expires_in = 3600;

    genesys::token_source::fetch_function fn() const
    {
        return [calls = calls, e = expires_in]() -> genesys::result<genesys::api_response<genesys::oauth_token>> {
            const int n = ++*calls;
            return genesys::api_response<genesys::oauth_token>{{200, {}}, {"T" + std::to_string(n), "bearer", e, {}}};
        };
    }
};

std::string token_json(std::string_view token, int expires_in = 3600)
{
    return R"({"access_token":")" + std::string(token) + R"(","token_type":"bearer","expires_in":)" +
           std::to_string(expires_in) + "}";
}

const genesys::oauth_config login_config{.login_url = "https://login.mypurecloud.com",
                                         .client_id = "svc",
                                         .client_secret = "svc-secret-0123456789"};

/// A login transport that holds every request until `ready()` is true (or 10 s pass, so a
/// broken test fails instead of hanging), then answers with `answer`.
struct gated_login {
    struct state {
        std::mutex mutex;
        std::function<bool()> ready;
        std::vector<genesys::http_response> answers;
        std::atomic<int> calls{0};
        std::atomic<bool> was_ready{false};
    };
    std::shared_ptr<state> s = std::make_shared<state>();

    genesys::http_response send(const genesys::http_request&)
    {
        const int n = s->calls++;
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        std::function<bool()> ready;
        {
            std::lock_guard lock(s->mutex);
            ready = s->ready;
        }
        while (ready && !ready() && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(1ms);
        s->was_ready = !ready || ready();
        std::lock_guard lock(s->mutex);
        return s->answers.at(std::min<std::size_t>(static_cast<std::size_t>(n), s->answers.size() - 1));
    }
};

/// An API that accepts only the tokens in `valid` (200 with a TokenInfo), 401 for the others.
struct api_accepting {
    struct state {
        std::mutex mutex;
        std::set<std::string> valid;
        std::vector<std::string> seen;
    };
    std::shared_ptr<state> s = std::make_shared<state>();

    genesys::http_response send(const genesys::http_request& req)
    {
        std::lock_guard lock(s->mutex);
        const std::string auth(req.headers.get("Authorization").value_or(""));
        s->seen.push_back(auth);
        if (s->valid.contains(auth.substr(7)))
            return {200, {}, std::string(fixtures::token_info_json)};
        return {401, {}, R"({"message":"Invalid login credentials.","code":"bad.credentials","status":401})"};
    }
};

} // namespace

TEST_CASE("token_source: fetched on first use, cached until the refresh margin, then fetched again")
{
    manual_clock clock;
    counting_grant grant;
    genesys::token_source source{grant.fn(), {.refresh_margin = 60s, .clock = clock.fn()}};
    CHECK(*grant.calls == 0); // nothing fetched before it is needed
    CHECK_FALSE(source.has_fresh_token());

    CHECK(source.token() == "T1");
    REQUIRE(source.expires_at().has_value());
    CHECK(*source.expires_at() == std::chrono::steady_clock::time_point(1000s + 3600s));
    clock.advance(3539s);
    CHECK(source.token() == "T1");
    CHECK(source.has_fresh_token());
    CHECK(*grant.calls == 1);
    clock.advance(1s); // 60 s before expiry: due
    CHECK_FALSE(source.has_fresh_token());
    CHECK(source.token() == "T2");
    CHECK(source.token() == "T2");
    CHECK(*grant.calls == 2);
    CHECK(source.fetch_count() == 2);
}

TEST_CASE("token_source: the margin is configurable, short lifetimes refresh at half-life, no lifetime, no expiry")
{
    manual_clock clock;
    SUBCASE("a five-minute margin")
    {
        counting_grant grant;
        genesys::token_source source{grant.fn(), {.refresh_margin = 300s, .clock = clock.fn()}};
        CHECK(source.token() == "T1");
        clock.advance(3299s);
        CHECK(source.token() == "T1");
        clock.advance(1s);
        CHECK(source.token() == "T2");
    }
    SUBCASE("a token living less than twice the margin is refreshed at half its lifetime, not on every call")
    {
        counting_grant grant;
        grant.expires_in = 60;
        genesys::token_source source{grant.fn(), {.refresh_margin = 60s, .clock = clock.fn()}};
        CHECK(source.token() == "T1");
        clock.advance(29s);
        CHECK(source.token() == "T1");
        clock.advance(1s);
        CHECK(source.token() == "T2");
        CHECK(source.token() == "T2");
        CHECK(*grant.calls == 2);
    }
    SUBCASE("without expires_in the token is kept until it is rejected")
    {
        counting_grant grant;
        grant.expires_in = std::nullopt;
        genesys::token_source source{grant.fn(), {.clock = clock.fn()}};
        CHECK(source.token() == "T1");
        CHECK_FALSE(source.expires_at().has_value());
        clock.advance(std::chrono::hours(24 * 365));
        CHECK(source.token() == "T1");
        source.invalidate("T1");
        CHECK(source.token() == "T2");
    }
    SUBCASE("a zero lifetime is no lifetime: kept until rejected, not a grant call per call")
    {
        counting_grant grant;
        grant.expires_in = 0;
        genesys::token_source source{grant.fn(), {.clock = clock.fn()}};
        CHECK(source.token() == "T1");
        CHECK(source.token() == "T1");
        source.invalidate("T1");
        CHECK(source.token() == "T2");
    }
}

TEST_CASE("token_source: invalidate drops only the rejected token, clear drops any")
{
    counting_grant grant;
    genesys::token_source source{grant.fn()};
    CHECK(source.token() == "T1");
    source.invalidate("T0"); // an older token: the current one stays
    CHECK(source.token() == "T1");
    source.invalidate("T1");
    CHECK_FALSE(source.has_fresh_token());
    CHECK(source.token() == "T2");
    source.clear();
    CHECK(source.token() == "T3");
    CHECK(*grant.calls == 3);
}

TEST_CASE("token_source: an initial token is used until due, then the grant")
{
    manual_clock clock;
    counting_grant grant;
    genesys::token_source source{grant.fn(), genesys::oauth_token{"I0", "bearer", 600, "r0"},
                                 {.refresh_margin = 60s, .clock = clock.fn()}};
    CHECK(source.token() == "I0");
    clock.advance(539s);
    CHECK(source.token() == "I0");
    clock.advance(1s);
    CHECK(source.token() == "T1");
    CHECK(*grant.calls == 1);
}

TEST_CASE("token_source: a failed fetch is an error for its caller, not cached, a throwing grant is an error too")
{
    int calls = 0;
    genesys::token_source source{[&]() -> genesys::result<genesys::api_response<genesys::oauth_token>> {
        ++calls;
        if (calls == 1) {
            genesys::error e;
            e.kind = genesys::error_kind::api;
            e.status = 401;
            e.operation = "requestToken";
            e.message = "requestToken failed: HTTP 401 invalid_client";
            return e;
        }
        if (calls == 2)
            throw std::runtime_error("grant exploded");
        if (calls == 3)
            return genesys::api_response<genesys::oauth_token>{{200, {}}, {"", "bearer", 60, {}}};
        return genesys::api_response<genesys::oauth_token>{{200, {}}, {"T4", "bearer", 60, {}}};
    }};
    auto first = source.try_token();
    REQUIRE(first.has_error());
    CHECK(first.error().status == 401);
    CHECK_THROWS_AS(source.token(), genesys::network_error); // the exception became an error
    auto empty = source.try_token();
    REQUIRE(empty.has_error());
    CHECK(empty.error().kind == genesys::error_kind::decode);
    CHECK(source.token() == "T4");
    CHECK(calls == 4);

    genesys::token_source no_grant{genesys::token_source::fetch_function{}};
    CHECK_THROWS_AS(no_grant.token(), genesys::invalid_argument_error);
}

TEST_CASE("token_source: 16 threads needing a token at once send one login request and share its token")
{
    gated_login login;
    auto source = genesys::make_client_credentials_source(genesys::oauth_client{login, login_config});
    std::weak_ptr<genesys::token_source> weak = source;
    login.s->answers = {{200, {}, token_json("T-shared")}};
    login.s->ready = [weak] { return weak.lock()->waiting() == 15; }; // the other 15 are all waiting

    fake_transport api_fake;
    api_fake.respond_by_default({200, {}, std::string(fixtures::token_info_json)});
    genesys::tokens_api api{api_fake, {.token_source = source}};

    constexpr int threads = 16;
    std::atomic<int> ok{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&] { ok += api.try_get_tokens_me().has_value(); });
    for (auto& th : pool)
        th.join();

    CHECK(login.s->was_ready);
    CHECK(login.s->calls == 1);
    CHECK(source->fetch_count() == 1);
    CHECK(ok == threads);
    REQUIRE(api_fake.request_count() == threads);
    for (const auto& req : api_fake.requests())
        CHECK(req.headers.get("Authorization") == "Bearer T-shared");
    CHECK(source->waiting() == 0);
}

TEST_CASE("token_source: a failed refresh is the same error on every waiting thread, and the next call tries again")
{
    gated_login login;
    auto source = genesys::make_client_credentials_source(genesys::oauth_client{login, login_config});
    std::weak_ptr<genesys::token_source> weak = source;
    login.s->answers = {{401, {{"ININ-Correlation-Id", "corr-login"}}, R"({"error":"invalid_client","error_description":"authentication failed"})"},
                        {200, {}, token_json("T-after")}};
    login.s->ready = [weak] { return weak.lock()->waiting() == 7; };

    std::mutex mutex;
    std::vector<genesys::error> errors;
    std::vector<std::thread> pool;
    for (int t = 0; t < 8; ++t)
        pool.emplace_back([&] {
            auto r = source->try_token();
            std::lock_guard lock(mutex);
            if (r.has_error())
                errors.push_back(r.error());
        });
    for (auto& th : pool)
        th.join();

    CHECK(login.s->was_ready);
    CHECK(login.s->calls == 1);
    REQUIRE(errors.size() == 8);
    for (const auto& e : errors) {
        CHECK(e.kind == genesys::error_kind::api);
        CHECK(e.status == 401);
        CHECK(e.correlation_id == "corr-login");
        CHECK(e.message == errors.front().message);
        REQUIRE(e.body.has_value());
        CHECK(e.body->code == "invalid_client");
    }
    login.s->ready = nullptr;
    CHECK(source->token() == "T-after");
    CHECK(login.s->calls == 2);
}

TEST_CASE("token_source: a caller waits at most wait_timeout for another's refresh, the refresh goes on")
{
    std::mutex mutex;
    std::condition_variable cv;
    bool release = false, fetching = false;
    genesys::token_source source{[&]() -> genesys::result<genesys::api_response<genesys::oauth_token>> {
                                     std::unique_lock lock(mutex);
                                     fetching = true;
                                     cv.notify_all();
                                     cv.wait_for(lock, 10s, [&] { return release; });
                                     return genesys::api_response<genesys::oauth_token>{{200, {}}, {"T-slow", "bearer", 3600, {}}};
                                 },
                                 {.wait_timeout = 50ms}};

    std::string fetched;
    std::thread first([&] { fetched = source.token(); });
    {
        std::unique_lock lock(mutex);
        REQUIRE(cv.wait_for(lock, 10s, [&] { return fetching; }));
    }
    const auto started = std::chrono::steady_clock::now();
    auto waited = source.try_token();
    const auto took = std::chrono::steady_clock::now() - started;
    REQUIRE(waited.has_error());
    CHECK(waited.error().kind == genesys::error_kind::network);
    CHECK(waited.error().code == boost::system::errc::timed_out);
    CHECK(waited.error().message.find("waited 50 ms") != std::string::npos);
    CHECK(took >= 50ms);
    CHECK(took < 5s);
    CHECK(source.waiting() == 0);
    {
        std::lock_guard lock(mutex);
        release = true;
    }
    cv.notify_all();
    first.join();
    CHECK(fetched == "T-slow");
    CHECK(source.token() == "T-slow");
    CHECK(source.fetch_count() == 1);
}

TEST_CASE("tokens_api through a token source: the token of the moment, per call")
{
    manual_clock clock;
    fake_transport login, api_fake;
    login.respond(200, token_json("T1", 3600)).respond(200, token_json("T2", 3600));
    auto source = genesys::make_client_credentials_source(genesys::oauth_client{login, login_config},
                                                          {.clock = clock.fn()});
    api_fake.respond_by_default({204, {}, {}});
    genesys::tokens_api api{api_fake, {.token_source = source}};
    CHECK(login.request_count() == 0);

    api.delete_token("u-1");
    api.delete_token("u-2");
    clock.advance(3600s);
    api.delete_token("u-3");
    const auto reqs = api_fake.requests();
    REQUIRE(reqs.size() == 3);
    CHECK(reqs[0].headers.get("Authorization") == "Bearer T1");
    CHECK(reqs[1].headers.get("Authorization") == "Bearer T1");
    CHECK(reqs[2].headers.get("Authorization") == "Bearer T2");
    CHECK(reqs[0].headers.begin()->name == "Authorization"); // where it always is
    CHECK(login.request_count() == 2);
}

TEST_CASE("tokens_api through a token source: a 401 refreshes once and retries once")
{
    fake_transport login, api_fake;
    auto source = genesys::make_client_credentials_source(genesys::oauth_client{login, login_config});
    genesys::tokens_api api{api_fake, {.token_source = source}};

    SUBCASE("the retry with the fresh token succeeds")
    {
        login.respond(200, token_json("T1")).respond(200, token_json("T2"));
        api_fake.respond(401, R"({"code":"bad.credentials","status":401})")
            .respond(200, std::string(fixtures::token_info_json));
        auto r = api.try_get_tokens_me();
        REQUIRE(r.has_value());
        CHECK(r->data.oauth_client->name == "Agent Desktop Integration");
        const auto reqs = api_fake.requests();
        REQUIRE(reqs.size() == 2);
        CHECK(reqs[0].headers.get("Authorization") == "Bearer T1");
        CHECK(reqs[1].headers.get("Authorization") == "Bearer T2");
        CHECK(login.request_count() == 2);
        CHECK(source->token() == "T2");
    }
    SUBCASE("a second 401 is the answer: no third login, no third request")
    {
        login.respond(200, token_json("T1")).respond(200, token_json("T2"));
        api_fake.respond(401).respond(401, R"({"code":"bad.credentials","status":401})");
        auto r = api.try_get_tokens_me();
        REQUIRE(r.has_error());
        CHECK(r.error().status == 401);
        CHECK(r.error().operation == "getTokensMe");
        CHECK(api_fake.request_count() == 2);
        CHECK(login.request_count() == 2);
        CHECK_FALSE(source->has_fresh_token()); // T2 was rejected too
    }
    SUBCASE("verify_token is false only when the fresh token is rejected as well")
    {
        login.respond(200, token_json("T1")).respond(200, token_json("T2"));
        api_fake.respond(401).respond(200);
        CHECK(api.verify_token());
        CHECK(login.request_count() == 2);
    }
    SUBCASE("other errors are not retried with a new token")
    {
        login.respond(200, token_json("T1"));
        api_fake.respond(403, R"({"code":"missing.permissions","status":403})");
        auto r = api.try_get_tokens_me();
        REQUIRE(r.has_error());
        CHECK(r.error().status == 403);
        CHECK(login.request_count() == 1);
        CHECK(source->has_fresh_token());
    }
    SUBCASE("a refresh that fails is the call's error, with the login host's details")
    {
        login.respond(200, token_json("T1"))
            .respond(401, R"({"error":"invalid_client","error_description":"authentication failed"})");
        api_fake.respond(401);
        auto r = api.try_delete_token("u-1");
        REQUIRE(r.has_error());
        CHECK(r.error().status == 401);
        CHECK(r.error().operation == "requestToken");
        CHECK(r.error().body->code == "invalid_client");
        CHECK(r.error().message.starts_with(
            "deleteToken could not get a token: requestToken failed: the login host answered HTTP 401 invalid_client"));
        CHECK(r.error().code == genesys::condition::login_failed);
        CHECK(api_fake.request_count() == 1);
    }
    SUBCASE("the retry policy still runs inside each pass")
    {
        genesys::client_config cfg{.token_source = source};
        cfg.retry = genesys::retry_policy::standard(3);
        cfg.retry.sleep = [](std::chrono::milliseconds) {};
        genesys::tokens_api retrying{api_fake, cfg};
        login.respond(200, token_json("T1"));
        api_fake.respond(503).respond(200, std::string(fixtures::token_info_json));
        CHECK(retrying.try_get_tokens_me().has_value());
        CHECK(api_fake.request_count() == 2);
        CHECK(login.request_count() == 1);
    }
}

TEST_CASE("tokens_api through a token source: delete_tokens_me drops the revoked token")
{
    fake_transport login, api_fake;
    login.respond(200, token_json("T1")).respond(200, token_json("T2")).respond(200, token_json("T3"));
    auto source = genesys::make_client_credentials_source(genesys::oauth_client{login, login_config});
    genesys::tokens_api api{api_fake, {.token_source = source}};

    api_fake.respond(200).respond(200).respond(401);
    api.delete_tokens_me(); // revokes T1
    CHECK_FALSE(source->has_fresh_token());
    CHECK(login.request_count() == 1);
    api.delete_tokens_me(); // a new token, T2, revoked in turn
    CHECK(login.request_count() == 2);

    // A 401 drops the token too, and is not retried: a fresh token would only be deleted.
    auto r = api.try_delete_tokens_me();
    REQUIRE(r.has_error());
    CHECK(r.error().status == 401);
    CHECK(login.request_count() == 3);
    CHECK(api_fake.request_count() == 3);
    CHECK_FALSE(source->has_fresh_token());
    const auto reqs = api_fake.requests();
    CHECK(reqs[0].headers.get("Authorization") == "Bearer T1");
    CHECK(reqs[1].headers.get("Authorization") == "Bearer T2");
    CHECK(reqs[2].headers.get("Authorization") == "Bearer T3");
}

TEST_CASE("tokens_api through a token source: 16 threads answered 401 share one refresh")
{
    fake_transport login;
    login.respond(200, token_json("T-old")).respond(200, token_json("T-new"));
    auto source = genesys::make_client_credentials_source(genesys::oauth_client{login, login_config});
    CHECK(source->token() == "T-old"); // every thread starts with the token the API will reject

    api_accepting api_transport;
    api_transport.s->valid = {"T-new"};
    genesys::tokens_api api{api_transport, {.token_source = source}};
    std::atomic<int> ok{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < 16; ++t)
        pool.emplace_back([&] { ok += api.try_get_tokens_me().has_value(); });
    for (auto& th : pool)
        th.join();

    CHECK(ok == 16);
    CHECK(login.request_count() == 2); // the first token and one refresh for all 16
    std::lock_guard lock(api_transport.s->mutex);
    CHECK(api_transport.s->seen.size() <= 32);
    CHECK(std::count(api_transport.s->seen.begin(), api_transport.s->seen.end(), "Bearer T-new") == 16);
}

TEST_CASE("tokens_api through a token source: the configuration and the token are checked before sending")
{
    fake_transport login, api_fake;
    auto source = genesys::make_client_credentials_source(genesys::oauth_client{login, login_config});

    // A bad configuration fails where it is made.
    try {
        genesys::tokens_api both{api_fake, {.access_token = "fixed-token", .token_source = source}};
        FAIL("no exception");
    } catch (const genesys::invalid_argument_error& e) {
        CHECK(std::string(e.what()).find("not both") != std::string::npos);
        CHECK(std::string(e.what()).find("fixed-token") == std::string::npos);
    }
    const auto bad_url = genesys::check(genesys::client_config{.base_url = "http://example.com", .token_source = source});
    REQUIRE(bad_url.has_value());
    CHECK(bad_url->message.find("http://") != std::string::npos);
    CHECK_THROWS_AS(genesys::tokens_api(api_fake, {.base_url = "http://example.com", .token_source = source}),
                    genesys::invalid_argument_error);

    auto injected = std::make_shared<genesys::token_source>(
        []() -> genesys::result<genesys::api_response<genesys::oauth_token>> {
            return genesys::api_response<genesys::oauth_token>{{200, {}}, {"tok\r\nX-Injected: 1", "bearer", 60, {}}};
        });
    genesys::tokens_api bad_token{api_fake, {.token_source = injected}};
    auto rejected = bad_token.try_get_tokens_me();
    REQUIRE(rejected.has_error());
    CHECK(rejected.error().kind == genesys::error_kind::decode); // the source refuses it: not cached
    CHECK(rejected.error().message.find("X-Injected") == std::string::npos);
    CHECK_FALSE(injected->has_fresh_token());

    CHECK(api_fake.request_count() == 0);
    CHECK(login.request_count() == 0);

    const auto cfg = genesys::client_config::for_region(genesys::region::eu_west_1, source);
    CHECK(cfg.base_url == "https://api.mypurecloud.ie");
    CHECK(cfg.token_source == source);
    CHECK(cfg.access_token.empty());
}

TEST_CASE("make_refresh_token_source: starts with the initial token, renews with the newest refresh token")
{
    manual_clock clock;
    fake_transport login;
    login.respond(200, R"({"access_token":"A2","token_type":"bearer","expires_in":600,"refresh_token":"R2"})")
        .respond(200, R"({"access_token":"A3","token_type":"bearer","expires_in":600})")
        .respond(200, R"({"access_token":"A4","token_type":"bearer","expires_in":600})");
    auto source = genesys::make_refresh_token_source(genesys::oauth_client{login, login_config},
                                                     genesys::oauth_token{"A1", "bearer", 600, "R1"},
                                                     {.refresh_margin = 60s, .clock = clock.fn()});
    CHECK(source->token() == "A1");
    CHECK(login.request_count() == 0);
    clock.advance(540s);
    CHECK(source->token() == "A2");
    CHECK(login.last_request()->body == "grant_type=refresh_token&refresh_token=R1");
    clock.advance(540s);
    CHECK(source->token() == "A3");
    CHECK(login.last_request()->body == "grant_type=refresh_token&refresh_token=R2");
    clock.advance(540s);
    CHECK(source->token() == "A4"); // no new refresh token came: the last one is used again
    CHECK(login.last_request()->body == "grant_type=refresh_token&refresh_token=R2");

    auto without = genesys::make_refresh_token_source(genesys::oauth_client{login, login_config}, genesys::oauth_token{});
    CHECK_THROWS_AS(without->token(), genesys::invalid_argument_error);
    CHECK(login.request_count() == 3);
}

TEST_CASE("token_source: a grant that runs out of memory rethrows to its caller and releases the waiters with an error")
{
    std::atomic<int> calls{0};
    std::shared_ptr<genesys::token_source> source;
    source = std::make_shared<genesys::token_source>(
        [&]() -> genesys::result<genesys::api_response<genesys::oauth_token>> {
            if (++calls == 1) {
                const auto deadline = std::chrono::steady_clock::now() + 10s;
                while (source->waiting() != 1 && std::chrono::steady_clock::now() < deadline)
                    std::this_thread::sleep_for(1ms);
                throw std::bad_alloc();
            }
            return genesys::api_response<genesys::oauth_token>{{200, {}}, {"T2", "bearer", 3600, {}}};
        });

    bool threw = false;
    std::thread fetcher([&] {
        try {
            (void)source->try_token();
        } catch (const std::bad_alloc&) {
            threw = true;
        }
    });
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (calls == 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(1ms);
    auto waited = source->try_token(); // waits for the fetch in progress
    fetcher.join();

    CHECK(threw);
    REQUIRE(waited.has_error());
    CHECK(waited.error().kind == genesys::error_kind::network);
    CHECK(waited.error().message.find("out of memory") != std::string::npos);
    CHECK(source->token() == "T2");
    CHECK(calls == 2);
}

TEST_CASE("tokens_api through a token source: a refused login is login_failed, and says it was the login")
{
    fake_transport login, api_fake;
    auto source = genesys::make_client_credentials_source(genesys::oauth_client{login, login_config});
    genesys::tokens_api api{api_fake, {.token_source = source}};

    login.respond(401, R"({"error":"invalid_client","error_description":"authentication failed"})");
    auto r = api.try_get_tokens_me();
    REQUIRE(r.has_error());
    const genesys::error e = r.error();
    CHECK(e.code == genesys::condition::login_failed);
    CHECK(e.code != genesys::condition::unauthorized); // the API did not refuse a token: none was sent
    CHECK(e.kind == genesys::error_kind::api);
    CHECK(e.operation == "requestToken");
    CHECK(e.message == "getTokensMe could not get a token: requestToken failed: the login host answered HTTP 401 "
                       "invalid_client: authentication failed");
    CHECK(api_fake.request_count() == 0);

    // The API's own 401 to a token is unauthorized, not a failed login.
    login.respond(200, token_json("T1")).respond(200, token_json("T2"));
    api_fake.respond(401).respond(401);
    auto refused = api.try_get_tokens_me();
    CHECK(refused.error().code == genesys::condition::unauthorized);
    CHECK(refused.error().code != genesys::condition::login_failed);
}

// ---------------------------------------------------------------------------------------------
// on_refresh_token: the rotated refresh tokens a service keeps to survive a restart
// ---------------------------------------------------------------------------------------------

namespace {

std::string refresh_json(std::string_view access, std::string_view refresh)
{
    return R"({"access_token":")" + std::string(access) + R"(","token_type":"bearer","expires_in":600)" +
           (refresh.empty() ? std::string() : R"(,"refresh_token":")" + std::string(refresh) + '"') + "}";
}

/// What an `on_refresh_token` saw, and whether two calls ever overlapped.
struct kept_tokens {
    struct state {
        std::mutex mutex;
        std::vector<std::string> tokens;
        std::vector<std::string> cached_then; // the source's fresh token during each call
        std::atomic<bool> inside{false};
        std::atomic<int> overlaps{0};
        std::vector<std::thread::id> threads;
        genesys::token_source* source = nullptr; // set after the source is made (no ownership cycle)
    };
    std::shared_ptr<state> s = std::make_shared<state>();

    std::function<void(std::string_view)> fn() const
    {
        return [s = s](std::string_view refresh_token) {
            if (s->inside.exchange(true))
                ++s->overlaps;
            {
                std::lock_guard lock(s->mutex);
                s->tokens.emplace_back(refresh_token);
                s->threads.push_back(std::this_thread::get_id());
                if (s->source)
                    s->cached_then.push_back(s->source->fresh_token().value_or("-"));
            }
            std::this_thread::yield();
            s->inside = false;
        };
    }
    std::vector<std::string> tokens() const
    {
        std::lock_guard lock(s->mutex);
        return s->tokens;
    }
};

} // namespace

TEST_CASE("make_refresh_token_source: on_refresh_token gets each new refresh token, in order, before its access token is used")
{
    manual_clock clock;
    fake_transport login;
    login.respond(200, refresh_json("A2", "R2"))
        .respond(200, refresh_json("A3", "R3"))
        .respond(200, refresh_json("A4", ""))   // no refresh token: nothing new
        .respond(200, refresh_json("A5", "R3")) // the same one: nothing new
        .respond(200, refresh_json("A6", "R4"));
    kept_tokens kept;
    auto source = genesys::make_refresh_token_source(
        genesys::oauth_client{login, login_config}, genesys::oauth_token{"A1", "bearer", 600, "R1"},
        {.refresh_margin = 60s, .clock = clock.fn(), .on_refresh_token = kept.fn()});
    kept.s->source = source.get();

    CHECK(source->token() == "A1");
    CHECK(kept.tokens().empty()); // not for the refresh token the source was made with
    const std::vector<std::string> expected_access{"A2", "A3", "A4", "A5", "A6"};
    for (const auto& a : expected_access) {
        clock.advance(540s);
        CHECK(source->token() == a);
    }
    CHECK(kept.tokens() == std::vector<std::string>{"R2", "R3", "R4"});
    // Called before the new access token was cached: the source had no fresh token then.
    CHECK(kept.s->cached_then == std::vector<std::string>{"-", "-", "-"});
    CHECK(login.last_request()->body == "grant_type=refresh_token&refresh_token=R3");
    CHECK(kept.s->overlaps == 0);
    for (auto id : kept.s->threads)
        CHECK(id == std::this_thread::get_id()); // the blocking grant: the caller's thread
}

TEST_CASE("make_refresh_token_source: started from a kept refresh token alone, the first call is a refresh grant")
{
    fake_transport login;
    login.respond(200, refresh_json("A1", "R1")).respond(200, refresh_json("A2", "R2"));
    kept_tokens kept;
    auto source = genesys::make_refresh_token_source(genesys::oauth_client{login, login_config},
                                                     std::string("R0-kept-from-last-run"),
                                                     {.on_refresh_token = kept.fn()});
    CHECK(login.request_count() == 0);
    CHECK(source->token() == "A1");
    CHECK(login.last_request()->body == "grant_type=refresh_token&refresh_token=R0-kept-from-last-run");
    CHECK(kept.tokens() == std::vector<std::string>{"R1"}); // the first new one, not the kept one
    source->clear();
    CHECK(source->token() == "A2");
    CHECK(login.last_request()->body == "grant_type=refresh_token&refresh_token=R1");
    CHECK(kept.tokens() == std::vector<std::string>{"R1", "R2"});

    auto empty = genesys::make_refresh_token_source(genesys::oauth_client{login, login_config}, std::string());
    auto refused = empty->try_token();
    REQUIRE(refused.has_error());
    CHECK(refused.error().kind == genesys::error_kind::invalid_argument);
    CHECK(login.request_count() == 2);
}

TEST_CASE("make_refresh_token_source: on_refresh_token is not called for a refused grant")
{
    fake_transport login;
    login.respond(400, R"({"error":"invalid_grant","error_description":"refresh token expired"})")
        .respond(200, refresh_json("A2", "R2"));
    kept_tokens kept;
    auto source = genesys::make_refresh_token_source(genesys::oauth_client{login, login_config},
                                                     std::string("R1-spent-refresh-token"),
                                                     {.on_refresh_token = kept.fn()});
    auto r = source->try_token();
    REQUIRE(r.has_error());
    CHECK(r.error().code == genesys::condition::login_failed);
    CHECK(r.error().message.find("R1-spent-refresh-token") == std::string::npos);
    CHECK(kept.tokens().empty());
    CHECK(source->token() == "A2");
    CHECK(kept.tokens() == std::vector<std::string>{"R2"});
}

TEST_CASE("make_refresh_token_source: a throwing on_refresh_token fails the fetch, the next one rotates again")
{
    fake_transport login;
    login.respond(200, refresh_json("A2", "R2-never-kept-0123"))
        .respond(200, refresh_json("A3", "R3-never-kept-4567"))
        .respond(200, refresh_json("A4", "R4-kept-89ab"));
    std::vector<std::string> seen;
    int throws = 2;
    auto source = genesys::make_refresh_token_source(
        genesys::oauth_client{login, login_config}, std::string("R1-first"),
        {.on_refresh_token = [&](std::string_view rt) {
            seen.emplace_back(rt);
            if (throws == 2) {
                --throws;
                throw std::runtime_error("disk full while writing " + std::string(rt));
            }
            if (throws == 1) {
                --throws;
                throw 42;
            }
        }});
    fake_transport api_fake;
    api_fake.respond_by_default({200, {}, std::string(fixtures::token_info_json)});
    genesys::tokens_api api{api_fake, {.token_source = source}};

    auto first = api.try_get_tokens_me();
    REQUIRE(first.has_error());
    const genesys::error e = first.error();
    CHECK(e.kind == genesys::error_kind::network);
    CHECK(e.code == genesys::errc::transport_exception);
    CHECK(e.operation == "requestToken");
    CHECK(e.message.find("on_refresh_token threw") != std::string::npos);
    CHECK(e.message.find("disk full while writing [REDACTED]") != std::string::npos);
    CHECK(e.message.find("R2-never-kept-0123") == std::string::npos);
    CHECK(e.message.find("A2") == std::string::npos);
    CHECK(api_fake.request_count() == 0); // the access token of that answer was never used
    CHECK_FALSE(source->has_fresh_token());

    auto second = source->try_token(); // the rotated refresh token is used: the old one is spent
    REQUIRE(second.has_error());
    CHECK(second.error().message.find("a non-standard exception") != std::string::npos);
    CHECK(login.last_request()->body == "grant_type=refresh_token&refresh_token=R2-never-kept-0123");

    CHECK(api.try_get_tokens_me().has_value());
    CHECK(login.last_request()->body == "grant_type=refresh_token&refresh_token=R3-never-kept-4567");
    CHECK(seen == std::vector<std::string>{"R2-never-kept-0123", "R3-never-kept-4567", "R4-kept-89ab"});
    CHECK(source->token() == "A4");
    CHECK(api_fake.last_request()->headers.get("Authorization") == "Bearer A4");
}

TEST_CASE("token_source: on_refresh_token also runs when the answer's access token is unfit (the refresh token rotated)")
{
    int calls = 0;
    std::vector<std::string> kept;
    genesys::token_source source{
        [&]() -> genesys::result<genesys::api_response<genesys::oauth_token>> {
            ++calls;
            return genesys::api_response<genesys::oauth_token>{
                {200, {}}, {calls == 1 ? "bad token" : "T2", "bearer", 60, "R" + std::to_string(calls)}};
        },
        {.on_refresh_token = [&](std::string_view rt) { kept.emplace_back(rt); }}};
    auto first = source.try_token();
    REQUIRE(first.has_error());
    CHECK(first.error().kind == genesys::error_kind::decode);
    CHECK(kept == std::vector<std::string>{"R1"});
    CHECK(source.token() == "T2");
    CHECK(kept == std::vector<std::string>{"R1", "R2"});
}

TEST_CASE("token_source: on_refresh_token is never called concurrently, and sees every rotation in order, across 8 threads")
{
    std::atomic<int> grants{0};
    kept_tokens kept;
    genesys::token_source source{[&]() -> genesys::result<genesys::api_response<genesys::oauth_token>> {
                                     const int n = ++grants;
                                     return genesys::api_response<genesys::oauth_token>{
                                         {200, {}}, {"T" + std::to_string(n), "bearer", 3600, "R" + std::to_string(n)}};
                                 },
                                 {.on_refresh_token = kept.fn()}};
    std::vector<std::thread> pool;
    for (int t = 0; t < 8; ++t)
        pool.emplace_back([&] {
            for (int i = 0; i < 50; ++i) {
                auto token = source.try_token();
                if (token)
                    source.invalidate(*token); // the next call needs a new grant
            }
        });
    for (auto& th : pool)
        th.join();

    CHECK(kept.s->overlaps == 0);
    const auto tokens = kept.tokens();
    REQUIRE(tokens.size() == static_cast<std::size_t>(grants.load()));
    CHECK(tokens.size() >= 50);
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        // Compared without building "R" + n: g++ 12 -O3 reports a false -Wstringop-overflow on it.
        CHECK(tokens[i].starts_with('R'));
        CHECK(tokens[i].substr(1) == std::to_string(i + 1));
    }
}

TEST_CASE("token_source: with an asynchronous grant, on_refresh_token runs on the completing thread, before the waiter is answered")
{
    std::mutex mutex;
    std::vector<std::thread> completions;
    std::vector<std::thread::id> completion_ids;
    std::atomic<int> grants{0};
    kept_tokens kept;
    bool throw_next = false;
    auto source = std::make_shared<genesys::token_source>(
        genesys::token_source::async_fetch_function(
            [&](std::function<void(genesys::result<genesys::api_response<genesys::oauth_token>>)> done) {
                const int n = ++grants;
                std::lock_guard lock(mutex);
                completions.emplace_back([&mutex, &completion_ids, n, done = std::move(done)] {
                    {
                        std::lock_guard lock(mutex);
                        completion_ids.push_back(std::this_thread::get_id());
                    }
                    done(genesys::api_response<genesys::oauth_token>{
                        {200, {}}, {"T" + std::to_string(n), "bearer", 3600, "R" + std::to_string(n)}});
                });
            }),
        genesys::oauth_token{"", "", {}, "R0"},
        genesys::token_source_options{.on_refresh_token = [&, f = kept.fn()](std::string_view rt) {
            f(rt);
            if (throw_next)
                throw std::runtime_error("the store is read-only");
        }});
    kept.s->source = source.get();

    CHECK(source->token() == "T1");
    source->clear();
    throw_next = true;
    auto refused = source->try_token();
    CHECK(refused.has_error()); // not REQUIRE: the completion threads are joined below
    if (refused.has_error())
        CHECK(refused.error().message.find("the store is read-only") != std::string::npos);
    CHECK_FALSE(source->has_fresh_token());
    throw_next = false;
    CHECK(source->token() == "T3");

    std::vector<std::thread> finished;
    {
        std::lock_guard lock(mutex);
        finished.swap(completions);
    }
    for (auto& th : finished)
        th.join();
    CHECK(kept.tokens() == std::vector<std::string>{"R1", "R2", "R3"});
    CHECK(kept.s->cached_then == std::vector<std::string>{"-", "-", "-"});
    REQUIRE(completion_ids.size() == 3);
    CHECK(kept.s->threads == completion_ids);
}
