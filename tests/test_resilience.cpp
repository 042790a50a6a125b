// SPDX-License-Identifier: BSL-1.0
// Limits, the http:// rule, and the logging hook.

#include "fixtures.hpp"

#include <string>
#include <vector>

using genesys::testing::fake_transport;

namespace {
std::string nested(std::size_t depth)
{
    return R"({"organization":{"id":"o"},"extension":)" + std::string(depth, '[') + std::string(depth, ']') + "}";
}
} // namespace

TEST_CASE("a response body over max_response_bytes is an error, not something to parse")
{
    fake_transport fake;
    genesys::client_config cfg{.access_token = "tok-123456789"};
    cfg.max_response_bytes = 1024;
    genesys::tokens_api api{fake, cfg};

    std::string big = R"({"organization":{"name":")" + std::string(2000, 'x') + R"("}})";
    fake.respond(200, big);
    auto r = api.try_get_tokens_me();
    REQUIRE(r.has_error());
    CHECK(r.error().kind == genesys::error_kind::decode);
    CHECK(r.error().code == genesys::errc::response_too_large);
    CHECK(r.error().message.find("over the limit of 1024") != std::string::npos);

    fake.respond(500, R"({"message":")" + std::string(2000, 'y') + R"(","code":"internal.server.error"})");
    auto e = api.try_get_tokens_me();
    REQUIRE(e.has_error());
    CHECK(e.error().kind == genesys::error_kind::api);
    CHECK(e.error().status == 500);
    CHECK_FALSE(e.error().body.has_value()); // not parsed
    CHECK(e.error().message.find("over the limit: not parsed") != std::string::npos);

    fake.respond(200, std::string(fixtures::token_info_json)); // under 1 KiB
    CHECK(api.try_get_tokens_me().has_value());
}

TEST_CASE("JSON nested deeper than max_json_depth is an error")
{
    fake_transport fake;
    genesys::tokens_api strict{fake, {.access_token = "tok-123456789"}};
    fake.respond(200, nested(40));
    auto r = strict.try_get_tokens_me();
    REQUIRE(r.has_error());
    CHECK(r.error().message.find("nested deeper than 32 levels") != std::string::npos);

    fake.respond(200, nested(20));
    CHECK(strict.try_get_tokens_me().has_value());

    genesys::client_config cfg{.access_token = "tok-123456789"};
    cfg.max_json_depth = 64;
    genesys::tokens_api lenient{fake, cfg};
    fake.respond(200, nested(40));
    CHECK(lenient.try_get_tokens_me().has_value());

    fake.respond(400, R"({"code":"bad.request","errors":)" + std::string(40, '[') + std::string(40, ']') + "}");
    auto deep_error = strict.try_get_tokens_me();
    REQUIRE(deep_error.has_error());
    CHECK(deep_error.error().status == 400);
    CHECK_FALSE(deep_error.error().body.has_value());
}

TEST_CASE("http:// only to loopback, unless insecure HTTP is allowed")
{
    fake_transport fake;
    fake.respond_by_default({200, {}, {}});
    for (const char* ok : {"http://127.0.0.1:8080", "http://127.5.6.7", "http://localhost:9", "http://LOCALHOST",
                           "http://[::1]:8443/prefix", "https://api.mypurecloud.com"}) {
        CAPTURE(ok);
        genesys::tokens_api api{fake, {.base_url = ok, .access_token = "tok-123456789"}};
        CHECK(api.try_delete_tokens_me().has_value());
    }
    for (const char* bad : {"http://api.mypurecloud.com", "http://10.0.0.1", "http://127.0.0.1.evil.example",
                            "http://localhost.evil.example", "http://128.0.0.1", "http://[::2]"}) {
        CAPTURE(bad);
        const auto r = genesys::check(genesys::client_config{.base_url = bad, .access_token = "tok-123456789"});
        REQUIRE(r.has_value());
        CHECK(r->kind == genesys::error_kind::invalid_argument);
        CHECK(r->message.find("not loopback") != std::string::npos);
        CHECK_THROWS_AS(genesys::tokens_api(fake, {.base_url = bad, .access_token = "tok-123456789"}),
                        genesys::invalid_argument_error);

        genesys::client_config allowed{.base_url = bad, .access_token = "tok-123456789"};
        allowed.allow_insecure_http = true;
        genesys::tokens_api insecure{fake, allowed};
        CHECK(insecure.try_delete_tokens_me().has_value());
    }

    const genesys::oauth_config login{.login_url = "http://login.example.com", .client_id = "id",
                                      .client_secret = "secret-123456"};
    CHECK(genesys::check(login)->message.find("not loopback") != std::string::npos);
    CHECK_THROWS_AS(genesys::oauth_client(fake, login), genesys::invalid_argument_error);
}

TEST_CASE("the logger gets one structured event per attempt, Authorization redacted")
{
    fake_transport fake;
    std::vector<genesys::log_event> events;
    std::vector<std::string> lines;
    std::vector<std::string> auth_values;
    genesys::client_config cfg{.access_token = std::string(fixtures::secret_token), .default_headers = {{"X-Trace", "t-7"}}};
    cfg.logger = [&](const genesys::log_event& e) {
        events.push_back(e);
        lines.push_back(genesys::to_string(e));
        auth_values.emplace_back(e.request_headers.get("Authorization").value_or("missing"));
    };
    auto policy = genesys::retry_policy::standard(3);
    policy.sleep = [](std::chrono::milliseconds) {};
    cfg.retry = policy;
    cfg.logged_headers = {"X-Trace"}; // not shown unless allowed
    genesys::tokens_api api{fake, cfg};

    fake.respond({503, {{"ININ-Correlation-Id", "c-1"}}, {}})
        .respond({200,
                  {{"ININ-Correlation-Id", "c-2"},
                   {"inin-ratelimit-count", "7"},
                   {"inin-ratelimit-allowed", "300"},
                   {"inin-ratelimit-reset", "42"}},
                  std::string(fixtures::token_info_2018_json)});
    api.get_tokens_me(true);

    REQUIRE(events.size() == 2);
    CHECK(events[0].attempt == 1);
    CHECK(events[0].status == 503);
    CHECK(events[0].correlation_id.empty() == false);
    CHECK(events[1].attempt == 2);
    CHECK(events[1].status == 200);
    CHECK(events[1].operation == "getTokensMe");
    CHECK(events[1].method == genesys::http_method::get);
    CHECK(events[1].request_headers.get("X-Trace") == "t-7");
    CHECK(auth_values == std::vector<std::string>{"[REDACTED]", "[REDACTED]"});
    CHECK(lines[1].find("getTokensMe GET https://api.mypurecloud.com/api/v2/tokens/me?preserveIdleTTL=true -> 200 in ") == 0);
    CHECK(lines[1].find("(attempt 2, correlation id c-2, rate limit 7/300, reset 42 s)") != std::string::npos);

    events.clear();
    lines.clear();
    fake.fail(boost::system::errc::make_error_code(boost::system::errc::connection_refused))
        .fail(boost::system::errc::make_error_code(boost::system::errc::connection_refused))
        .fail(boost::system::errc::make_error_code(boost::system::errc::connection_refused));
    CHECK_THROWS_AS(api.verify_token(), genesys::network_error);
    REQUIRE(events.size() == 3);
    CHECK(events[2].status == 0);
    CHECK(lines[2].find("-> no response") != std::string::npos);
    CHECK(lines[2].find("Connection refused") != std::string::npos);
    for (const auto& l : lines)
        CHECK(l.find(fixtures::secret_token) == std::string::npos);
}

TEST_CASE("a throwing logger does not change the call's outcome")
{
    fake_transport fake;
    genesys::client_config cfg{.access_token = "tok-123456789"};
    cfg.logger = [](const genesys::log_event&) { throw std::runtime_error("log sink down"); };
    genesys::tokens_api api{fake, cfg};
    fake.respond(200);
    CHECK(api.verify_token());
}
