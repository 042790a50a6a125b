// SPDX-License-Identifier: BSL-1.0
// <genesys/async_tokens_api.hpp> on its own: the asynchronous client, with its default
// completion token, and its per-call options (call_options: copied at initiation, sent on every
// attempt, checked before sending), through any_async_tokens_api too. Its behaviour in full (every
// completion token, cancellation, deadlines, retries, lifetimes) is tested in async.cpp, through
// the umbrella <genesys/async.hpp>.
#include <genesys/async_tokens_api.hpp>

#include <genesys/any_async_transport.hpp>
#include <genesys/testing/async_fake_transport.hpp>

#include "fixtures.hpp"

#include <boost/asio/deferred.hpp>
#include <boost/asio/io_context.hpp>
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace asio = boost::asio;

TEST_CASE("async_tokens_api: a call with the default completion token is deferred until launched")
{
    asio::io_context ioc;
    genesys::testing::async_fake_transport fake{ioc.get_executor()};
    fake.respond(fixtures::json_response(200, fixtures::token_info_json));
    genesys::async_tokens_api api{fake, genesys::client_config{.access_token = "test-token"}};

    auto op = api.async_get_tokens_me(true);
    static_assert(asio::is_deferred<decltype(op)>::value);
    ioc.run();
    CHECK(fake.request_count() == 0);
    std::optional<genesys::result<genesys::api_response<genesys::token_info>>> got;
    std::move(op)([&](auto r) { got.emplace(std::move(r)); });
    CHECK_FALSE(got); // never inline
    ioc.restart();
    ioc.run();
    REQUIRE(got);
    REQUIRE(got->has_value());
    CHECK((*got)->data.organization.has_value());
    REQUIRE(fake.request_count() == 1);
    CHECK(fake.last_request()->url == "https://api.mypurecloud.com/api/v2/tokens/me?preserveIdleTTL=true");
}

namespace {

/// A string literal still cannot be `preserve_idle_ttl`, and options are no completion token.
template <class Api, class... Args>
concept can_async_get_tokens_me =
    requires(Api& api, Args&&... args) { api.async_get_tokens_me(std::forward<Args>(args)...); };
using async_api_type = genesys::async_tokens_api<genesys::testing::async_fake_transport>;
static_assert(can_async_get_tokens_me<async_api_type, bool, genesys::call_options&>);
static_assert(can_async_get_tokens_me<async_api_type, std::nullopt_t, const genesys::call_options&,
                                      std::function<void(genesys::result<genesys::api_response<genesys::token_info>>)>>);
static_assert(!can_async_get_tokens_me<async_api_type, genesys::call_options&>);
static_assert(!can_async_get_tokens_me<async_api_type, const char(&)[6]>);
static_assert(!can_async_get_tokens_me<async_api_type, const char(&)[6], const genesys::call_options&>);
static_assert(!can_async_get_tokens_me<async_api_type, int>);
static_assert(can_async_get_tokens_me<async_api_type, std::optional<bool>&>);
static_assert(can_async_get_tokens_me<async_api_type>);

} // namespace

TEST_CASE("async_tokens_api: call_options are copied when the call is initiated, and sent by every operation")
{
    asio::io_context ioc;
    genesys::testing::async_fake_transport fake{ioc.get_executor()};
    fake.respond_by_default(fixtures::json_response(200, "{}"));
    genesys::client_config cfg{.access_token = "test-token"};
    cfg.default_headers = {{"X-Team", "blue"}};
    genesys::async_tokens_api api{fake, std::move(cfg)};

    int done = 0;
    auto count = [&](auto r) { done += r.has_value() ? 1 : 0; };
    auto deferred = [&] {
        // The caller's options (and the strings they own) are gone before anything runs.
        auto options = std::make_unique<genesys::call_options>(
            genesys::call_options{.headers = {{"X-Request-Purpose", std::string("audit-") + "copy"}, {"x-team", "red"}}});
        api.async_delete_token("u-1", *options, count);
        api.async_delete_tokens_me(*options, count);
        api.async_get_tokens_me(true, *options, count);
        api.async_get_tokens_me(std::nullopt, *options, count);
        api.async_head_tokens_me(*options, count);
        api.async_verify_token(*options, count);
        api.async_get_tokens_timeout(*options, count);
        api.async_put_tokens_timeout({.idle_token_timeout_seconds = 900}, *options, count);
        auto op = api.async_head_tokens_me(*options); // the default token: launched later
        static_assert(asio::is_deferred<decltype(op)>::value);
        auto& value = options->headers.begin()->value; // a call that kept a view of it reads "xxx..."
        std::fill(value.begin(), value.end(), 'x');
        options.reset();
        return op;
    }();
    CHECK(done == 0); // never inline
    std::move(deferred)(count);
    ioc.run();
    CHECK(done == 9);
    const auto reqs = fake.requests();
    REQUIRE(reqs.size() == 9);
    for (const auto& req : reqs) {
        CAPTURE(req.url);
        CHECK(req.headers.get("X-Request-Purpose") == "audit-copy");
        CHECK(req.headers.get("X-Team") == "red");
        CHECK(req.headers.size() == 6);
    }

    // A call without options sends the configuration's headers only.
    api.async_head_tokens_me(count);
    ioc.restart();
    ioc.run();
    CHECK(fake.last_request()->headers.get("X-Team") == "blue");
    CHECK_FALSE(fake.last_request()->headers.get("X-Request-Purpose").has_value());
}

TEST_CASE("async_tokens_api: call_options go with every retry and the resend after a 401, not to the login host")
{
    asio::io_context ioc;
    genesys::testing::async_fake_transport fake{ioc.get_executor()};
    genesys::testing::async_fake_transport login{ioc.get_executor()};
    login.respond(fixtures::json_response(200, R"({"access_token":"T1","expires_in":3600})"))
        .respond(fixtures::json_response(200, R"({"access_token":"T2","expires_in":3600})"));
    genesys::oauth_config oc{.login_url = "https://login.example.com", .client_id = "id", .client_secret = "s3cret-value"};
    auto source = genesys::make_client_credentials_source(genesys::oauth_client{login, oc});
    genesys::client_config cfg{.token_source = source};
    cfg.retry = genesys::retry_policy::standard(3);
    cfg.retry.initial_backoff = std::chrono::milliseconds(1);
    genesys::async_tokens_api api{fake, std::move(cfg)};
    fake.respond(503).respond(401).respond(fixtures::json_response(200, fixtures::token_info_json));

    std::optional<genesys::result<genesys::api_response<genesys::token_info>>> got;
    api.async_get_tokens_me(false, {.headers = {{"X-Trace", "t-3"}}}, [&](auto r) { got.emplace(std::move(r)); });
    ioc.run();
    REQUIRE(got);
    REQUIRE(got->has_value());
    const auto reqs = fake.requests();
    REQUIRE(reqs.size() == 3);
    CHECK(reqs[1].headers.get("Authorization") == "Bearer T1");
    CHECK(reqs[2].headers.get("Authorization") == "Bearer T2");
    for (const auto& req : reqs)
        CHECK(req.headers.get("X-Trace") == "t-3");
    const auto logins = login.requests();
    REQUIRE(logins.size() == 2);
    for (const auto& req : logins)
        CHECK_FALSE(req.headers.get("X-Trace").has_value());
}

TEST_CASE("async_tokens_api: a bad per-call header is an invalid_argument error, not inline, nothing sent")
{
    asio::io_context ioc;
    genesys::testing::async_fake_transport fake{ioc.get_executor()};
    fake.respond_by_default(fixtures::json_response(200, fixtures::token_info_json));
    genesys::async_tokens_api api{fake, genesys::client_config{.access_token = "test-token"}};

    for (const genesys::http_header& bad : {genesys::http_header{"X-Split", "per-call-value\r\nX-Evil: 1"},
                                            genesys::http_header{"Content-Length", "per-call-value"},
                                            genesys::http_header{"Authorization", "Bearer per-call-value"}}) {
        CAPTURE(bad.name);
        std::optional<genesys::result<genesys::api_response<bool>>> got;
        api.async_verify_token({.headers = {bad}}, [&](auto r) { got.emplace(std::move(r)); });
        CHECK_FALSE(got);
        ioc.restart();
        ioc.run();
        REQUIRE(got);
        REQUIRE(got->has_error());
        CHECK(got->error().kind == genesys::error_kind::invalid_argument);
        CHECK(got->error().operation == "headTokensMe");
        CHECK(got->error().message.find(bad.name) != std::string::npos);
        CHECK(got->error().message.find("per-call-value") == std::string::npos);
    }
    CHECK(fake.request_count() == 0);
}

TEST_CASE("any_async_tokens_api: call_options are forwarded through the erased transport")
{
    asio::io_context ioc;
    genesys::testing::async_fake_transport fake{ioc.get_executor()};
    fake.respond(fixtures::json_response(200, fixtures::token_info_json));
    genesys::any_async_tokens_api api{fake, {.access_token = "test-token"}};
    std::optional<genesys::result<genesys::api_response<genesys::token_info>>> got;
    api.async_get_tokens_me(std::nullopt, {.headers = {{"X-Trace", "t-4"}}}, [&](auto r) { got.emplace(std::move(r)); });
    ioc.run();
    REQUIRE(got);
    CHECK(got->has_value());
    CHECK(fake.last_request()->headers.get("X-Trace") == "t-4");
}
