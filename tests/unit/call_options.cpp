// SPDX-License-Identifier: BSL-1.0
// <genesys/call_options.hpp>: what one call sets for itself alone: its extra headers, checked as
// default_headers are, sent on every attempt of the call and on no other request, logged by the
// same allow-list.
#include <genesys/call_options.hpp>

#include "fixtures.hpp"

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

// Named, not anonymous: the core suite is compiled in unity batches.
namespace call_options_test {

using genesys::call_options;
using genesys::testing::fake_transport;

genesys::client_config options_config()
{
    genesys::client_config cfg;
    cfg.access_token = std::string(fixtures::secret_token);
    return cfg;
}

/// How many fields of `headers` are named `name`, in any case.
std::size_t count_named(const genesys::http_headers& headers, std::string_view name)
{
    std::size_t n = 0;
    for (const auto& h : headers)
        n += genesys::detail::iequals(h.name, name) ? 1 : 0;
    return n;
}

std::string token_json(std::string_view token)
{
    return R"({"access_token":")" + std::string(token) + R"(","token_type":"bearer","expires_in":3600})";
}

std::string lower(std::string s)
{
    for (char& c : s)
        c = genesys::detail::ascii_lower(c);
    return s;
}

/// A value that must never appear in an error message.
constexpr std::string_view hidden_value = "PER-CALL-VALUE-7d41c9";

// A string literal still cannot be preserveIdleTTL, with or without options.
template <class Api, class... Args>
concept can_get_tokens_me = requires(Api& api, Args&&... args) { api.get_tokens_me(std::forward<Args>(args)...); };
template <class Api, class... Args>
concept can_try_get_tokens_me =
    requires(Api& api, Args&&... args) { api.try_get_tokens_me(std::forward<Args>(args)...); };
using api_type = genesys::tokens_api<fake_transport>;
static_assert(can_get_tokens_me<api_type, bool, const call_options&>);
static_assert(can_get_tokens_me<api_type, std::nullopt_t, call_options&>);
static_assert(can_try_get_tokens_me<api_type, std::optional<bool>, call_options>);
static_assert(!can_get_tokens_me<api_type, const char(&)[6]>);
static_assert(!can_get_tokens_me<api_type, const char(&)[6], const call_options&>);
static_assert(!can_try_get_tokens_me<api_type, const char(&)[6], call_options&>);
static_assert(!can_get_tokens_me<api_type, int, call_options>);
static_assert(!can_get_tokens_me<api_type, call_options&>); // the options come after preserveIdleTTL

} // namespace call_options_test

using namespace call_options_test;

TEST_CASE("call_options: every operation, in both forms, sends the call's headers, and only that call")
{
    fake_transport fake;
    fake.respond_by_default(fixtures::json_response(200, "{}"));
    auto cfg = options_config();
    cfg.default_headers = {{"X-Team", "blue"}, {"X-Kept", "k"}};
    genesys::tokens_api api{fake, std::move(cfg)};
    const call_options options{.headers = {{"X-Request-Purpose", "audit"}, {"x-team", "red"}}};

    // The fourteen forms (verify_token's included), each with the options.
    (void)api.try_delete_token("u-1", options);
    api.delete_token("u-1", options);
    (void)api.try_delete_tokens_me(options);
    api.delete_tokens_me(options);
    (void)api.try_get_tokens_me(true, options);
    (void)api.get_tokens_me(std::nullopt, options);
    (void)api.try_head_tokens_me(options);
    api.head_tokens_me(options);
    (void)api.try_verify_token(options);
    (void)api.verify_token(options);
    (void)api.try_get_tokens_timeout(options);
    (void)api.get_tokens_timeout(options);
    (void)api.try_put_tokens_timeout({.idle_token_timeout_seconds = 900}, options);
    (void)api.put_tokens_timeout({.idle_token_timeout_seconds = 900}, options);

    const auto reqs = fake.requests();
    REQUIRE(reqs.size() == 14);
    for (const auto& req : reqs) {
        CAPTURE(req.url);
        const auto& h = req.headers;
        CHECK(h.get("X-Request-Purpose") == "audit");
        CHECK(h.get("X-Team") == "red"); // replaces the default header of that name, in any case
        CHECK(count_named(h, "X-Team") == 1);
        CHECK(h.get("X-Kept") == "k");
        CHECK(h.get("Authorization") == "Bearer " + std::string(fixtures::secret_token));
        CHECK(h.size() == 7); // the four the client sends, the two defaults, the one added
    }

    // The next call without options sends the configuration's headers only: nothing is kept.
    REQUIRE(api.try_get_tokens_me().has_value());
    const auto after = *fake.last_request();
    CHECK_FALSE(after.headers.get("X-Request-Purpose").has_value());
    CHECK(after.headers.get("X-Team") == "blue");
    CHECK(after.headers.size() == 6);

    SUBCASE("a copy of the client, and a call that overrides a header the client always sends")
    {
        auto copy = api;
        REQUIRE(copy.try_get_tokens_me(std::nullopt, {.headers = {{"accept", "application/vnd.test+json"}}}).has_value());
        const auto req = *fake.last_request();
        CHECK(req.headers.get("Accept") == "application/vnd.test+json");
        CHECK(count_named(req.headers, "Accept") == 1);
        REQUIRE(copy.try_get_tokens_me().has_value());
        CHECK(fake.last_request()->headers.get("Accept") == "application/json");
    }
}

TEST_CASE("call_options: the headers go with every retry of the call")
{
    fake_transport fake;
    fake.respond(503).respond(503).respond(200);
    auto cfg = options_config();
    cfg.retry = genesys::retry_policy::standard(3);
    cfg.retry.sleep = [](std::chrono::milliseconds) {};
    genesys::tokens_api api{fake, std::move(cfg)};

    auto r = api.try_head_tokens_me({.headers = {{"X-Trace", "t-1"}}});
    REQUIRE(r.has_value());
    const auto reqs = fake.requests();
    REQUIRE(reqs.size() == 3);
    for (const auto& req : reqs)
        CHECK(req.headers.get("X-Trace") == "t-1");
}

TEST_CASE("call_options: through a token source, the resend after a 401 has them, the login request does not")
{
    fake_transport login, api_fake;
    const genesys::oauth_config oc{.login_url = "https://login.mypurecloud.com",
                                   .client_id = "svc",
                                   .client_secret = "svc-secret-0123456789"};
    auto source = genesys::make_client_credentials_source(genesys::oauth_client{login, oc});
    genesys::tokens_api api{api_fake, {.token_source = source}};
    login.respond(200, token_json("T1")).respond(200, token_json("T2"));
    api_fake.respond(401, R"({"code":"bad.credentials","status":401})")
        .respond(fixtures::json_response(200, fixtures::token_info_json));

    auto r = api.try_get_tokens_me(false, {.headers = {{"X-Trace", "t-2"}}});
    REQUIRE(r.has_value());
    const auto reqs = api_fake.requests();
    REQUIRE(reqs.size() == 2);
    CHECK(reqs[0].headers.get("Authorization") == "Bearer T1");
    CHECK(reqs[1].headers.get("Authorization") == "Bearer T2");
    for (const auto& req : reqs)
        CHECK(req.headers.get("X-Trace") == "t-2");
    const auto logins = login.requests();
    REQUIRE(logins.size() == 2);
    for (const auto& req : logins)
        CHECK_FALSE(req.headers.get("X-Trace").has_value());
}

TEST_CASE("call_options: a header default_headers would refuse fails the call before anything is sent")
{
    struct bad_case {
        std::string name;
        std::string value;
        std::string_view why;
    };
    const std::string v(hidden_value);
    const bad_case cases[] = {
        {"X-Injected", v + "\r\nX-Evil: 1", "control character"},
        {"X-Lf", v + "\n", "control character"},
        {"X-Nul", v + std::string(1, '\0'), "control character"},
        {"Content-Length", v, "Content-Length"},
        {"Transfer-Encoding", v, "Transfer-Encoding"},
        {"host", v, "must not set host"},
        {"Connection", v, "Connection"},
        {"Expect", v, "Expect"},
        {"Authorization", "Bearer " + v, "Authorization"},
        {"authorization", "Bearer " + v, "Authorization"},
        {"Bad Name", v, "not a valid HTTP token"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.name);
        fake_transport fake;
        fake.respond_by_default(fixtures::json_response(200, fixtures::token_info_json));
        genesys::tokens_api api{fake, options_config()};
        // A good header besides the bad one changes nothing.
        const call_options options{.headers = {{"X-Fine", "ok"}, {c.name, c.value}}};

        auto r = api.try_get_tokens_me(std::nullopt, options);
        REQUIRE(r.has_error());
        const auto& e = r.error();
        CHECK(e.kind == genesys::error_kind::invalid_argument);
        CHECK(e.code == genesys::errc::invalid_argument);
        CHECK(e.operation == "getTokensMe");
        CHECK(lower(e.message).find(lower(c.name)) != std::string::npos); // names the header
        CHECK(e.message.find(c.why) != std::string::npos);
        CHECK(e.message.find(hidden_value) == std::string::npos);
        CHECK(e.message.find(fixtures::secret_token) == std::string::npos);
        CHECK_THROWS_AS(api.put_tokens_timeout({.idle_token_timeout_seconds = 900}, options),
                        genesys::invalid_argument_error);
        CHECK_THROWS_AS((void)api.verify_token(options), genesys::invalid_argument_error);
        CHECK(fake.request_count() == 0);
        // The client is as it was.
        REQUIRE(api.try_get_tokens_me().has_value());
        CHECK(fake.request_count() == 1);
    }
}

TEST_CASE("call_options: log events show a per-call header's value only when the allow-list names it")
{
    fake_transport fake;
    fake.respond(200);
    std::vector<genesys::http_headers> logged;
    auto cfg = options_config();
    cfg.default_headers = {{"X-Default-Hidden", "default-value"}};
    cfg.logged_headers = {"x-shown"};
    cfg.logger = [&](const genesys::log_event& e) { logged.push_back(e.request_headers); };
    genesys::tokens_api api{fake, std::move(cfg)};

    REQUIRE(api.try_head_tokens_me({.headers = {{"X-Shown", "visible"},
                                                {"X-Hidden", std::string(hidden_value)},
                                                {"User-Agent", "per-call-agent"}}})
                .has_value());
    REQUIRE(logged.size() == 1);
    const auto& h = logged[0];
    CHECK(h.get("X-Shown") == "visible");                   // on the configuration's list
    CHECK(h.get("User-Agent") == "per-call-agent");         // on default_logged_headers
    CHECK(h.get("X-Hidden") == "[REDACTED]");               // on neither: as a default header is
    CHECK(h.get("X-Default-Hidden") == "[REDACTED]");
    CHECK(h.get("Authorization") == "[REDACTED]");
    for (const auto& f : h)
        CHECK(f.value.find(hidden_value) == std::string::npos);
    // Sent as given, all the same.
    CHECK(fake.last_request()->headers.get("X-Hidden") == hidden_value);
}
