// SPDX-License-Identifier: BSL-1.0
// What an outside review found in the core, one test per finding: each failed before its fix.

#include "fixtures.hpp"

#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

using genesys::testing::fake_transport;
using namespace std::chrono;
using namespace std::chrono_literals;

namespace {

genesys::http_response ok_info() { return fixtures::json_response(200, fixtures::token_info_2018_json); }

/// A grant that always answers with `token` and `expires_in`, counting its calls.
struct fixed_grant {
    std::shared_ptr<std::atomic<int>> calls = std::make_shared<std::atomic<int>>(0);
    std::string token;
    std::optional<std::int64_t> expires_in;

    genesys::token_source::fetch_function fn() const
    {
        return [calls = calls, t = token, e = expires_in]() -> genesys::result<genesys::api_response<genesys::oauth_token>> {
            ++*calls;
            return genesys::api_response<genesys::oauth_token>{{200, {}}, {t, "bearer", e, {}}};
        };
    }
};

} // namespace

// ---- critical: an assigned or copied client behaves exactly like a new one ------------------------

TEST_CASE("hardening: a client assigned over another sends its own token, headers and host")
{
    fake_transport fake;
    fake.respond_by_default(ok_info());
    genesys::client_config first{.base_url = "https://api.mypurecloud.com", .access_token = "old-token-1234567890"};
    first.default_headers.add("X-Old", "1");
    genesys::tokens_api api{fake, first};
    (void)api.try_get_tokens_me(); // the slot now keeps this client's headers

    genesys::client_config second{.base_url = "https://api.mypurecloud.ie", .access_token = "new-token-0987654321"};
    second.default_headers.add("X-New", "2");

    SUBCASE("move assignment") { api = genesys::tokens_api{fake, second}; }
    SUBCASE("copy assignment")
    {
        const genesys::tokens_api other{fake, second};
        api = other;
    }
    REQUIRE(api.try_get_tokens_me().has_value());
    const auto req = *fake.last_request();
    CHECK(req.url == "https://api.mypurecloud.ie/api/v2/tokens/me");
    CHECK(req.headers.get("Authorization") == "Bearer new-token-0987654321");
    CHECK(req.headers.get("X-New") == "2");
    CHECK_FALSE(req.headers.contains("X-Old"));
}

TEST_CASE("hardening: a copy of a used client, then reassigned, keeps nothing of the old one")
{
    fake_transport fake;
    fake.respond_by_default(ok_info());
    genesys::tokens_api api{fake, {.access_token = "old-token-1234567890"}};
    (void)api.try_verify_token();
    auto copy = api; // copies the slot's state too, before the fix
    copy = genesys::tokens_api{fake, {.base_url = "https://api.usw2.pure.cloud", .access_token = "new-token-0987654321"}};
    (void)copy.try_verify_token();
    CHECK(fake.last_request()->headers.get("Authorization") == "Bearer new-token-0987654321");
    CHECK(fake.last_request()->url.starts_with("https://api.usw2.pure.cloud/"));
}

// ---- major: redact before cutting -----------------------------------------------------------------

TEST_CASE("hardening: a token straddling the 300-byte cut of a message never leaks in part")
{
    const std::string token = "LEAKY-TOKEN-0123456789abcdefghij";
    for (std::size_t prefix : {280u, 290u, 295u, 299u}) {
        CAPTURE(prefix);
        fake_transport fake;
        const std::string message = std::string(prefix, 'm') + token + " tail";
        fake.respond(fixtures::json_response(403, R"({"message":")" + message + R"(","code":"forbidden"})"));
        genesys::tokens_api api{fake, {.access_token = token}};
        auto r = api.try_get_tokens_me();
        REQUIRE_FALSE(r.has_value());
        const std::string text = r.error().message;
        CHECK(text.find("LEAKY-TOKEN") == std::string::npos);
        CHECK(text.find("0123456789abc") == std::string::npos);
    }
}

TEST_CASE("hardening: a transport's error text is redacted before the log line cuts it")
{
    const std::string token = "LEAKY-TOKEN-0123456789abcdefghij";
    struct talkative {
        std::string text;
        boost::system::result<genesys::http_response> send(const genesys::http_request&)
        {
            return boost::system::errc::make_error_code(boost::system::errc::connection_refused);
        }
        std::string_view last_error_message() const noexcept { return text; }
    };
    std::string logged;
    genesys::client_config cfg{.access_token = token};
    cfg.logger = [&](const genesys::log_event& e) { logged = std::string(e.error); };
    genesys::tokens_api api{talkative{std::string(290, 'x') + token}, cfg};
    auto r = api.try_verify_token();
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message.find("LEAKY-TOKEN") == std::string::npos);
    REQUIRE_FALSE(logged.empty());
    CHECK(logged.find("LEAKY-TOKEN") == std::string::npos);
    CHECK(logged.find("[REDACTED]") != std::string::npos);
}

TEST_CASE("hardening: one-line text is cut at a UTF-8 boundary and marked only when cut")
{
    std::string out;
    genesys::detail::append_one_line(out, std::string(300, 'a'), {});
    CHECK(out == std::string(300, 'a')); // nothing cut: no "..."

    out.clear();
    genesys::detail::append_one_line(out, std::string(299, 'a') + "\xC3\xA9" + "b", {}); // U+00E9 at 299..300
    CHECK(out == std::string(299, 'a') + "...");

    out.clear();
    genesys::detail::append_one_line(out, std::string(298, 'a') + "\xE2\x82\xAC" + "b", {}); // U+20AC at 298..300
    CHECK(out == std::string(298, 'a') + "...");
}

// ---- major: verify_token says "not valid" only for the API's own 401 ------------------------------

TEST_CASE("hardening: a refused login of the token source is an error of verify_token, not 'not valid'")
{
    fake_transport api_side;
    fake_transport login_side;
    login_side.respond_by_default(fixtures::json_response(
        401, R"({"error":"invalid_client","description":"client not found","error_description":"client not found"})"));
    auto source = genesys::make_client_credentials_source(genesys::oauth_client{
        login_side,
        {.login_url = "https://login.mypurecloud.com", .client_id = "svc", .client_secret = "svc-secret-0123456789"}});
    genesys::tokens_api api{api_side, {.token_source = source}};
    auto r = api.try_verify_token();
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == genesys::error_kind::api);
    CHECK(r.error().status == 401);
    CHECK(r.error().operation == "requestToken");
    CHECK(api_side.request_count() == 0);
    CHECK_THROWS_AS(api.verify_token(), genesys::api_error);

    // The API's own 401 is still the answer "not valid".
    fake_transport plain;
    plain.respond(401);
    genesys::tokens_api direct{plain, {.access_token = std::string(fixtures::secret_token)}};
    auto verdict = direct.try_verify_token();
    REQUIRE(verdict.has_value());
    CHECK_FALSE(verdict->data);
}

// ---- minor: retrying ------------------------------------------------------------------------------

namespace {

struct virtual_clock {
    steady_clock::time_point now{};
    std::vector<steady_clock::time_point> attempt_starts;

    genesys::retry_policy policy(int attempts)
    {
        auto p = genesys::retry_policy::standard(attempts);
        p.clock = [this] { return now; };
        p.wall_clock = [] { return system_clock::time_point{}; };
        p.sleep = [this](milliseconds d) { now += d; };
        p.random = [] { return 1.0; };
        return p;
    }
};

/// Every send takes `duration` of virtual time and answers 503.
struct slow_503 {
    virtual_clock* clock;
    milliseconds duration;
    genesys::http_response send(const genesys::http_request&)
    {
        clock->attempt_starts.push_back(clock->now);
        clock->now += duration;
        return {503, {}, {}};
    }
};

} // namespace

TEST_CASE("hardening: max_elapsed counts the attempts' time and no attempt starts at or past it")
{
    virtual_clock clock;
    auto policy = clock.policy(10);
    policy.initial_backoff = 1000ms;
    policy.max_backoff = 1000ms;
    policy.max_elapsed = 30s;
    genesys::client_config cfg{.access_token = std::string(fixtures::secret_token)};
    cfg.retry = policy;
    // Attempts take 14 s: 0-14, wait 1, 15-29, wait 1 would start the third at exactly 30 s.
    genesys::tokens_api api{slow_503{&clock, 14s}, cfg};
    auto r = api.try_verify_token();
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().attempts == 2);
    for (auto t : clock.attempt_starts)
        CHECK(t - steady_clock::time_point{} < policy.max_elapsed);
}

TEST_CASE("hardening: failures that would fail again are not retried")
{
    namespace errc = boost::system::errc;
    const boost::system::error_code deterministic[] = {
        errc::make_error_code(errc::invalid_argument),   errc::make_error_code(errc::message_size),
        errc::make_error_code(errc::operation_canceled), errc::make_error_code(errc::protocol_error),
        errc::make_error_code(errc::protocol_not_supported), errc::make_error_code(errc::operation_not_permitted),
        make_error_code(genesys::errc::transport_exception)};
    for (const auto& ec : deterministic) {
        CAPTURE(ec.message());
        virtual_clock clock;
        fake_transport fake;
        fake.fail(ec).respond(ok_info());
        genesys::client_config cfg{.access_token = std::string(fixtures::secret_token)};
        cfg.retry = clock.policy(4);
        genesys::tokens_api api{fake, cfg};
        auto r = api.try_get_tokens_me();
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == ec);
        CHECK(fake.request_count() == 1);
    }
    // A transient one still is.
    virtual_clock clock;
    fake_transport fake;
    fake.fail(errc::make_error_code(errc::connection_reset)).respond(ok_info());
    genesys::client_config cfg{.access_token = std::string(fixtures::secret_token)};
    cfg.retry = clock.policy(4);
    genesys::tokens_api api{fake, cfg};
    CHECK(api.try_get_tokens_me().has_value());
    CHECK(fake.request_count() == 2);
}

TEST_CASE("hardening: an OpenSSL error (Asio's asio.ssl category) is not retried")
{
    struct ssl_like_category final : boost::system::error_category {
        const char* name() const noexcept override { return "asio.ssl"; }
        std::string message(int) const override { return "certificate verify failed"; }
    };
    static const ssl_like_category category;
    CHECK_FALSE(genesys::detail::is_transient_network_error({0x0A000086, category}));
    CHECK(genesys::detail::is_transient_network_error(boost::system::errc::make_error_code(boost::system::errc::timed_out)));
}

TEST_CASE("hardening: a retry policy with negative or NaN values is rejected before sending")
{
    auto bad = [](auto change) {
        genesys::retry_policy p = genesys::retry_policy::standard();
        change(p);
        return p;
    };
    const genesys::retry_policy policies[] = {
        bad([](auto& p) { p.max_attempts = 0; }),
        bad([](auto& p) { p.max_elapsed = -1ms; }),
        bad([](auto& p) { p.max_wait = -5s; }),
        bad([](auto& p) { p.initial_backoff = -1ms; }),
        bad([](auto& p) { p.max_backoff = -1ms; }),
        bad([](auto& p) { p.backoff_multiplier = std::numeric_limits<double>::quiet_NaN(); }),
        bad([](auto& p) { p.backoff_multiplier = -2.0; }),
        bad([](auto& p) { p.backoff_multiplier = std::numeric_limits<double>::infinity(); }),
        bad([](auto& p) { p.retry_statuses = {42}; }),
    };
    for (const auto& p : policies) {
        fake_transport fake;
        fake.respond_by_default(ok_info());
        genesys::client_config cfg{.access_token = std::string(fixtures::secret_token)};
        cfg.retry = p;
        const auto r = genesys::check(cfg);
        REQUIRE(r.has_value());
        CHECK(r->kind == genesys::error_kind::invalid_argument);
        CHECK(r->message.find("retry") != std::string::npos);
        CHECK_THROWS_AS(genesys::tokens_api(fake, cfg), genesys::invalid_argument_error);

        // The OAuth client checks its policy too: it retries a 429 with it.
        genesys::oauth_config oc{.login_url = "https://login.mypurecloud.com", .client_id = "svc",
                                 .client_secret = "svc-secret-0123456789"};
        oc.retry = p;
        CHECK(genesys::check(oc).has_value());
        CHECK_THROWS_AS(genesys::oauth_client(fake, oc), genesys::invalid_argument_error);
        CHECK(fake.request_count() == 0);
    }
}

TEST_CASE("hardening: a random source returning NaN gives a bounded backoff")
{
    auto p = genesys::retry_policy::standard();
    p.random = [] { return std::numeric_limits<double>::quiet_NaN(); };
    auto wait = genesys::detail::decide_retry(p, 2, {true, std::nullopt, {}}, 0ms).wait;
    REQUIRE(wait);
    CHECK(*wait >= 250ms);
    CHECK(*wait <= 500ms);
}

// ---- minor: framing headers -----------------------------------------------------------------------

TEST_CASE("hardening: default_headers may not set framing or hop-by-hop fields")
{
    for (const char* name : {"Content-Length", "transfer-encoding", "Connection", "Expect", "TE", "Upgrade", "Host",
                             "Keep-Alive", "Trailer"}) {
        CAPTURE(name);
        fake_transport fake;
        genesys::client_config cfg{.access_token = std::string(fixtures::secret_token)};
        cfg.default_headers.add(name, "1");
        const auto r = genesys::check(cfg);
        REQUIRE(r.has_value());
        CHECK(r->kind == genesys::error_kind::invalid_argument);
        CHECK(r->message.find(name) != std::string::npos);
        CHECK_THROWS_AS(genesys::tokens_api(fake, cfg), genesys::invalid_argument_error);
        CHECK(fake.request_count() == 0);
    }
}

// ---- minor: the token source -----------------------------------------------------------------------

TEST_CASE("hardening: wait_timeout = milliseconds::max() waits for the refresh instead of failing at once")
{
    std::atomic<bool> release{false};
    std::atomic<int> calls{0};
    genesys::token_source source(
        [&]() -> genesys::result<genesys::api_response<genesys::oauth_token>> {
            ++calls;
            while (!release)
                std::this_thread::sleep_for(1ms);
            return genesys::api_response<genesys::oauth_token>{{200, {}}, {"T-fresh-token", "bearer", 3600, {}}};
        },
        {.wait_timeout = milliseconds::max()});
    std::thread first([&] { (void)source.try_token(); });
    while (calls == 0)
        std::this_thread::sleep_for(1ms);
    genesys::result<std::string> waited = std::string();
    std::atomic<bool> second_done{false};
    std::thread second([&] {
        waited = source.try_token();
        second_done = true;
    });
    const auto give_up = steady_clock::now() + 5s;
    while (source.waiting() == 0 && !second_done && steady_clock::now() < give_up)
        std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(20ms); // a waiter that overflowed its deadline would have left by now
    CHECK_FALSE(second_done.load());
    release = true;
    first.join();
    second.join();
    REQUIRE(waited.has_value());
    CHECK(*waited == "T-fresh-token");
    CHECK(calls == 1);
}

TEST_CASE("hardening: a malformed token from a grant is an error and is not cached")
{
    for (std::string bad : std::vector<std::string>{"has space-0123456789", "ctl\x01-0123456789", "nonascii-\xC3\xA9-01"}) {
        fixed_grant grant{.token = bad, .expires_in = 3600};
        genesys::token_source source(grant.fn());
        auto r = source.try_token();
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().kind == genesys::error_kind::decode);
        CHECK(r.error().message.find(bad) == std::string::npos);
        CHECK_FALSE(source.has_fresh_token());
        (void)source.try_token();
        CHECK(*grant.calls == 2); // asked again: nothing was cached
    }
}

TEST_CASE("hardening: expires_in of 0 or less does not make every call a grant call")
{
    for (std::int64_t e : {std::int64_t{0}, std::int64_t{-5}}) {
        fixed_grant grant{.token = "T-zero-lifetime-token", .expires_in = e};
        genesys::token_source source(grant.fn());
        for (int i = 0; i < 5; ++i)
            REQUIRE(source.try_token().has_value());
        CHECK(*grant.calls == 1);
        source.invalidate("T-zero-lifetime-token"); // a 401 still drops it
        REQUIRE(source.try_token().has_value());
        CHECK(*grant.calls == 2);
    }
}

// ---- minor: transports that throw anything ----------------------------------------------------------

TEST_CASE("hardening: a transport throwing a non-std::exception is a network error of the try_ form")
{
    struct throws_int {
        genesys::http_response send(const genesys::http_request&) { throw 42; }
    };
    genesys::tokens_api api{throws_int{}, {.access_token = std::string(fixtures::secret_token)}};
    genesys::result<genesys::api_response<genesys::token_info>> r = genesys::error{};
    CHECK_NOTHROW(r = api.try_get_tokens_me());
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == genesys::error_kind::network);
    CHECK(r.error().code == genesys::errc::transport_exception);
    CHECK_THROWS_AS(api.get_tokens_me(), genesys::network_error);
}

// ---- minor: API shape ----------------------------------------------------------------------------------

TEST_CASE("hardening: correlation_id() of a temporary result outlives it")
{
    fake_transport fake;
    fake.respond(fixtures::json_response(200, fixtures::token_info_2018_json, "corr-outlives-the-result-0123456789"));
    genesys::tokens_api api{fake, {.access_token = std::string(fixtures::secret_token)}};
    static_assert(std::is_same_v<decltype(api.try_get_tokens_me()->correlation_id()), std::string>);
    auto id = api.try_get_tokens_me()->correlation_id(); // the result is gone after this line
    CHECK(id == "corr-outlives-the-result-0123456789");
}

TEST_CASE("hardening: http_headers::set keeps the first field's place and removes the others")
{
    genesys::http_headers h{{"A", "1"}, {"x-dup", "first"}, {"B", "2"}, {"X-Dup", "second"}, {"C", "3"}, {"X-DUP", "third"}};
    h.set("X-Dup", "new");
    const genesys::http_headers expected{{"A", "1"}, {"x-dup", "new"}, {"B", "2"}, {"C", "3"}};
    CHECK(h == expected);
    h.set("D", "4");
    CHECK(h.size() == 5);
    CHECK(h.get("d") == "4");
}

TEST_CASE("hardening: any 2xx is a success, route::success only documents the spec's statuses")
{
    fake_transport fake;
    fake.respond(202);
    genesys::tokens_api api{fake, {.access_token = std::string(fixtures::secret_token)}};
    CHECK_FALSE(genesys::routes::delete_token.is_documented_success(202));
    auto r = api.try_delete_token("user-1");
    REQUIRE(r.has_value());
    CHECK(r->status == 202);
}

// ---- the OAuth client's logger ------------------------------------------------------------------------

TEST_CASE("hardening: the OAuth client reports each attempt to its logger, the credential redacted")
{
    fake_transport fake;
    fake.respond(fixtures::json_response(200, R"({"access_token":"issued-token-0123456789","token_type":"bearer","expires_in":60})"));
    std::vector<std::string> lines;
    std::vector<std::string> authorization;
    genesys::oauth_config cfg{.login_url = "https://login.mypurecloud.com", .client_id = "svc",
                              .client_secret = "svc-secret-0123456789"};
    cfg.logger = [&](const genesys::log_event& e) {
        lines.push_back(genesys::to_string(e));
        authorization.emplace_back(e.request_headers.get("Authorization").value_or(""));
    };
    genesys::oauth_client login{fake, cfg};
    REQUIRE(login.try_client_credentials().has_value());
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].find("requestToken POST https://login.mypurecloud.com/oauth/token -> 200") == 0);
    CHECK(authorization[0] == "[REDACTED]");
    CHECK(lines[0].find("svc-secret") == std::string::npos);
    CHECK(lines[0].find("issued-token") == std::string::npos);
}
