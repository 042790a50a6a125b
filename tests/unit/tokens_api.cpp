// SPDX-License-Identifier: BSL-1.0
// <genesys/tokens_api.hpp>: the Tokens client: construction, the six operations, transports of both
// shapes, copies and moves.
#include <genesys/tokens_api.hpp>

#include "fixtures.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

using genesys::http_method;
using genesys::testing::fake_transport;

namespace {

/// A transport of the other shape: returns a plain http_response and throws on network failure.
struct plain_transport {
    fake_transport inner;

    genesys::http_response send(const genesys::http_request& request)
    {
        auto r = inner.send(request);
        if (!r)
            throw boost::system::system_error(r.error(), "plain_transport");
        return std::move(*r);
    }
};

static_assert(genesys::transport<plain_transport>);

template <class T>
T wrap(const fake_transport& fake)
{
    if constexpr (std::is_same_v<T, fake_transport>)
        return fake;
    else
        return T{fake};
}

template <class T>
genesys::tokens_api<T> make_api(const fake_transport& fake, genesys::client_config cfg = {})
{
    if (cfg.access_token.empty())
        cfg.access_token = std::string(fixtures::secret_token);
    return genesys::tokens_api<T>(wrap<T>(fake), std::move(cfg));
}

const std::string base = "https://api.mypurecloud.com";

void check_standard_headers(const genesys::http_request& req)
{
    CHECK(req.headers.get("Authorization") == "Bearer " + std::string(fixtures::secret_token));
    CHECK(req.headers.get("Accept") == "application/json");
    CHECK(req.headers.get("Content-Type") == "application/json");
    CHECK(req.headers.get("User-Agent") == genesys::default_user_agent);
    CHECK(req.headers.size() == 4);
}

const int documented_error_statuses[] = {400, 401, 403, 404, 408, 409, 413, 415, 429, 500, 503, 504};

std::string error_body_for(int status)
{
    return R"({"message":"Status )" + std::to_string(status) + R"( happened","code":"code.)" + std::to_string(status) +
           R"(","status":)" + std::to_string(status) + R"(,"contextId":"ctx-)" + std::to_string(status) +
           R"(","details":[],"errors":[]})";
}

} // namespace

#define TRANSPORTS fake_transport, plain_transport

TEST_CASE_TEMPLATE("every operation sends exactly the request the platform expects", T, TRANSPORTS)
{
    fake_transport fake;
    auto api = make_api<T>(fake);

    SUBCASE("deleteToken")
    {
        fake.respond(204);
        api.delete_token("3b1d9c3e-8f2a-4c51-9d3e-2f1d0b7a9e55");
        auto req = *fake.last_request();
        CHECK(req.method == http_method::delete_);
        CHECK(req.url == base + "/api/v2/tokens/3b1d9c3e-8f2a-4c51-9d3e-2f1d0b7a9e55");
        CHECK(req.body.empty());
        check_standard_headers(req);
    }
    SUBCASE("deleteTokensMe")
    {
        fake.respond(200);
        api.delete_tokens_me();
        auto req = *fake.last_request();
        CHECK(req.method == http_method::delete_);
        CHECK(req.url == base + "/api/v2/tokens/me");
        CHECK(req.body.empty());
        check_standard_headers(req);
    }
    SUBCASE("getTokensMe without preserveIdleTTL sends no query string")
    {
        fake.respond(fixtures::json_response(200, fixtures::token_info_json));
        api.get_tokens_me();
        auto req = *fake.last_request();
        CHECK(req.method == http_method::get);
        CHECK(req.url == base + "/api/v2/tokens/me");
        check_standard_headers(req);
    }
    SUBCASE("getTokensMe with preserveIdleTTL=true")
    {
        fake.respond(fixtures::json_response(200, fixtures::token_info_json));
        api.get_tokens_me(true);
        CHECK(fake.last_request()->url == base + "/api/v2/tokens/me?preserveIdleTTL=true");
    }
    SUBCASE("getTokensMe with preserveIdleTTL=false")
    {
        fake.respond(fixtures::json_response(200, fixtures::token_info_json));
        api.get_tokens_me(false);
        CHECK(fake.last_request()->url == base + "/api/v2/tokens/me?preserveIdleTTL=false");
    }
    SUBCASE("headTokensMe")
    {
        fake.respond(200);
        api.head_tokens_me();
        auto req = *fake.last_request();
        CHECK(req.method == http_method::head);
        CHECK(req.url == base + "/api/v2/tokens/me");
        CHECK(req.body.empty());
        check_standard_headers(req);
    }
    SUBCASE("getTokensTimeout")
    {
        fake.respond(fixtures::json_response(200, fixtures::idle_timeout_json));
        api.get_tokens_timeout();
        auto req = *fake.last_request();
        CHECK(req.method == http_method::get);
        CHECK(req.url == base + "/api/v2/tokens/timeout");
        check_standard_headers(req);
    }
    SUBCASE("putTokensTimeout sends the model's JSON, absent fields omitted")
    {
        fake.respond(fixtures::json_response(200, fixtures::idle_timeout_json));
        genesys::idle_token_timeout settings;
        settings.enable_idle_token_timeout = true;
        settings.idle_token_timeout_seconds = 900;
        settings.inactivity_timeout_group_bundles = {{1, 600, std::nullopt, {"g-1"}}};
        auto stored = api.put_tokens_timeout(settings);
        auto req = *fake.last_request();
        CHECK(req.method == http_method::put);
        CHECK(req.url == base + "/api/v2/tokens/timeout");
        check_standard_headers(req);
        CHECK(boost::json::parse(req.body) ==
              boost::json::parse(R"({"idleTokenTimeoutSeconds":900,"enableIdleTokenTimeout":true,)"
                                 R"("inactivityTimeoutGroupBundles":[{"priority":1,"timeoutSeconds":600,"groups":["g-1"]}]})"));
        CHECK(stored.idle_token_timeout_seconds == 900);
        CHECK(stored.inactivity_timeout_unit == "Minutes");
    }
    CHECK(fake.request_count() == 1);
}

TEST_CASE_TEMPLATE("successful calls return the data with status, headers and correlation id", T, TRANSPORTS)
{
    fake_transport fake;
    auto api = make_api<T>(fake);

    SUBCASE("getTokensMe decodes TokenInfo")
    {
        fake.respond(fixtures::json_response(200, fixtures::token_info_json, "corr-abc"));
        auto r = api.try_get_tokens_me();
        REQUIRE(r.has_value());
        CHECK(r->status == 200);
        CHECK(r->correlation_id() == "corr-abc");
        CHECK(r->headers.get("content-type") == "application/json");
        REQUIRE(r->data.oauth_client.has_value());
        CHECK(r->data.oauth_client->name == "Agent Desktop Integration");
        CHECK(r->data.organization->name == "Acme Contact Centre");
    }
    SUBCASE("the correlation id is found in any case")
    {
        fake.respond({200, {{"inin-correlation-id", "lower-corr"}}, {}});
        auto r = api.try_delete_tokens_me();
        REQUIRE(r.has_value());
        CHECK(r->correlation_id() == "lower-corr");
    }
    SUBCASE("a void operation reports the status it got")
    {
        fake.respond(204);
        auto r = api.try_delete_token("u-1");
        REQUIRE(r.has_value());
        CHECK(r->status == 204);
        CHECK(r->correlation_id().empty());
    }
    SUBCASE("getTokensTimeout decodes IdleTokenTimeout")
    {
        fake.respond(fixtures::json_response(200, fixtures::idle_timeout_json));
        auto t = api.get_tokens_timeout();
        CHECK(t.idle_token_timeout_seconds == 900);
        CHECK(t.enable_idle_token_timeout == true);
        REQUIRE(t.inactivity_timeout_group_bundles.has_value());
        CHECK(t.inactivity_timeout_group_bundles->at(0).groups == std::vector<std::string>{"g-1", "g-2"});
    }
    SUBCASE("any 2xx is a success")
    {
        fake.respond(fixtures::json_response(203, fixtures::token_info_2018_json));
        auto r = api.try_get_tokens_me();
        REQUIRE(r.has_value());
        CHECK(r->status == 203);
    }
}

TEST_CASE_TEMPLATE("verify_token: true on 2xx, false on 401, an error otherwise", T, TRANSPORTS)
{
    fake_transport fake;
    auto api = make_api<T>(fake);

    fake.respond(200).respond(204);
    CHECK(api.verify_token());
    CHECK(api.verify_token());

    fake.respond(fixtures::json_response(401, R"({"message":"bad token","code":"authentication.required","status":401})", "c-401"));
    auto r = api.try_verify_token();
    REQUIRE(r.has_value());
    CHECK_FALSE(r->data);
    CHECK(r->status == 401);
    CHECK(r->correlation_id() == "c-401");

    fake.respond(401);
    CHECK_FALSE(api.verify_token());

    fake.respond(fixtures::json_response(403, error_body_for(403)));
    CHECK_THROWS_AS(api.verify_token(), genesys::api_error);

    fake.respond(503);
    auto unavailable = api.try_verify_token();
    REQUIRE(unavailable.has_error());
    CHECK(unavailable.error().status == 503);

    fake.fail(boost::system::errc::make_error_code(boost::system::errc::connection_refused));
    CHECK_THROWS_AS(api.verify_token(), genesys::network_error);

    SUBCASE("head_tokens_me itself treats 401 as an error")
    {
        fake.respond(401);
        CHECK_THROWS_AS(api.head_tokens_me(), genesys::api_error);
    }
}

TEST_CASE_TEMPLATE("every documented error status becomes an api_error with all its details", T, TRANSPORTS)
{
    for (int status : documented_error_statuses) {
        CAPTURE(status);
        fake_transport fake;
        auto api = make_api<T>(fake);
        const std::string body = error_body_for(status);
        fake.respond(fixtures::json_response(status, body, "corr-" + std::to_string(status)));

        try {
            api.delete_token("u-1");
            FAIL("no exception");
        } catch (const genesys::api_error& e) {
            CHECK(e.status() == status);
            CHECK(e.correlation_id() == "corr-" + std::to_string(status));
            CHECK(e.raw_body() == body);
            REQUIRE(e.body().has_value());
            CHECK(e.body()->code == "code." + std::to_string(status));
            CHECK(e.body()->status == status);
            CHECK(e.body()->context_id == "ctx-" + std::to_string(status));
            CHECK(e.operation() == "deleteToken");
            CHECK(e.code() == genesys::http_status_code(status)); // the status, as a code
            CHECK(&e.code().category() == &genesys::http_status_category());
            const std::string what = e.what();
            CHECK(what.find("deleteToken") != std::string::npos);
            CHECK(what.find("HTTP " + std::to_string(status)) != std::string::npos);
            CHECK(what.find("code." + std::to_string(status)) != std::string::npos);
            CHECK(what.find("Status " + std::to_string(status) + " happened") != std::string::npos);
            CHECK(what.find("corr-" + std::to_string(status)) != std::string::npos);
        }

        fake.respond({status, {}, {}});
        auto r = api.try_get_tokens_me();
        REQUIRE(r.has_error());
        CHECK(r.error().kind == genesys::error_kind::api);
        CHECK(r.error().status == status);
        CHECK_FALSE(r.error().body.has_value());
        CHECK(r.error().raw_body.empty());
        CHECK(r.error().correlation_id.empty());
    }
}

TEST_CASE_TEMPLATE("error bodies that are not ErrorBody are kept raw", T, TRANSPORTS)
{
    fake_transport fake;
    auto api = make_api<T>(fake);

    SUBCASE("an HTML page from a proxy")
    {
        const std::string html = "<html><body>502 Bad Gateway</body></html>";
        fake.respond({502, {{"Content-Type", "text/html"}}, html});
        auto r = api.try_get_tokens_timeout();
        REQUIRE(r.has_error());
        CHECK(r.error().status == 502);
        CHECK(r.error().raw_body == html);
        CHECK_FALSE(r.error().body.has_value());
    }
    SUBCASE("JSON that is not an ErrorBody")
    {
        fake.respond(fixtures::json_response(500, R"({"unexpected":true})"));
        auto r = api.try_get_tokens_timeout();
        REQUIRE(r.has_error());
        CHECK_FALSE(r.error().body.has_value());
        CHECK(r.error().raw_body == R"({"unexpected":true})");
    }
    SUBCASE("an ErrorBody with a mistyped field keeps the fields that parse")
    {
        const std::string body = R"({"message":"m","status":"four hundred"})";
        fake.respond(fixtures::json_response(400, body));
        auto r = api.try_get_tokens_timeout();
        REQUIRE(r.has_error());
        CHECK(r.error().status == 400);
        REQUIRE(r.error().body.has_value());
        CHECK(r.error().body->message == "m");
        CHECK_FALSE(r.error().body->status.has_value());
        CHECK(r.error().raw_body == body);
    }
    SUBCASE("a message with line breaks stays on one line")
    {
        fake.respond(fixtures::json_response(400, R"({"message":"line one\r\nInjected: header","code":"bad.request"})"));
        auto r = api.try_get_tokens_timeout();
        REQUIRE(r.has_error());
        CHECK(r.error().message.find('\n') == std::string::npos);
        CHECK(r.error().message.find('\r') == std::string::npos);
        CHECK(r.error().body->message == "line one\r\nInjected: header"); // the data itself is untouched
    }
}

TEST_CASE_TEMPLATE("an ErrorBody is read as leniently as the official SDKs read it", T, TRANSPORTS)
{
    fake_transport fake;
    auto api = make_api<T>(fake);

    SUBCASE("leading whitespace")
    {
        const std::string body = " \r\n\t" + error_body_for(404);
        fake.respond(fixtures::json_response(404, body, "corr-ws"));
        auto r = api.try_delete_token("u-1");
        REQUIRE(r.has_error());
        const auto& e = r.error();
        CHECK(e.kind == genesys::error_kind::api);
        REQUIRE(e.body.has_value());
        CHECK(e.body->code == "code.404");
        CHECK(e.body->status == 404);
        CHECK(e.raw_body == body);
        CHECK(e.message.find("code.404: Status 404 happened") != std::string::npos);
    }
    SUBCASE("status beyond int32, with the other fields readable")
    {
        const std::string body = R"({"message":"too big","code":"bad.request","status":3000000000,"contextId":"c-1",)"
                                 R"("details":[{"fieldName":"f"},7],"errors":[]})";
        fake.respond(fixtures::json_response(400, body, "c-1"));
        auto r = api.try_get_tokens_me();
        REQUIRE(r.has_error());
        const auto& e = r.error();
        CHECK(e.status == 400);
        REQUIRE(e.body.has_value());
        CHECK(e.body->message == "too big");
        CHECK(e.body->code == "bad.request");
        CHECK_FALSE(e.body->status.has_value());
        CHECK(e.body->context_id == "c-1");
        REQUIRE(e.body->details.has_value());
        REQUIRE(e.body->details->size() == 1);
        CHECK((*e.body->details)[0].field_name == "f");
        CHECK(e.raw_body == body);
        CHECK(e.message.find("bad.request: too big") != std::string::npos);
    }
    SUBCASE("whitespace alone, or before something that is not an object, is not an ErrorBody")
    {
        for (std::string body : {std::string(" \n "), std::string(" [1]"), std::string(" \"x\"")}) {
            CAPTURE(body);
            fake.respond(fixtures::json_response(400, body));
            auto r = api.try_get_tokens_me();
            REQUIRE(r.has_error());
            CHECK_FALSE(r.error().body.has_value());
            CHECK(r.error().raw_body == body);
        }
    }
}

TEST_CASE_TEMPLATE("a 2xx TokenInfo with odd fields keeps the rest: a live token is never refused for one field",
                   T, TRANSPORTS)
{
    fake_transport fake;
    auto api = make_api<T>(fake);
    const std::string body =
        R"({"organization":{"id":"o-1","name":"Acme"},"homeOrganization":"Acme",)"
        R"("authorizedScope":["users:readonly",null,"oauth"],"dateTokenIdles":"2026-11-27 22:15:30",)"
        R"("OAuthClient":{"id":"c-1","name":"Desk","authorizedGrantType":"CODE","scope":["a",7],)"
        R"("dateCreated":"2023-01-01","dateModified":"tomorrow"}})";
    fake.respond(fixtures::json_response(200, body, "corr-odd"));
    auto r = api.try_get_tokens_me();
    REQUIRE_MESSAGE(r.has_value(), r.error().message);
    CHECK(r->correlation_id() == "corr-odd");
    const genesys::token_info& info = r->data;
    CHECK(info.organization == genesys::named_entity{"o-1", "Acme"});
    CHECK_FALSE(info.home_organization.has_value());
    CHECK(info.authorized_scope == std::vector<std::string>{"users:readonly", "oauth"});
    REQUIRE(info.date_token_idles.has_value());
    CHECK(genesys::format_date_time(*info.date_token_idles) == "2026-11-27T22:15:30.000Z");
    REQUIRE(info.oauth_client.has_value());
    CHECK(info.oauth_client->name == "Desk");
    CHECK(info.oauth_client->scope == std::vector<std::string>{"a", "7"});
    REQUIRE(info.oauth_client->date_created.has_value());
    CHECK(genesys::format_date_time(*info.oauth_client->date_created) == "2023-01-01T00:00:00.000Z");
    CHECK_FALSE(info.oauth_client->date_modified.has_value());

    fake.respond(fixtures::json_response(200, R"({"idleTokenTimeoutSeconds":"900","enableIdleTokenTimeout":"true"})"));
    auto t = api.try_get_tokens_timeout();
    REQUIRE_MESSAGE(t.has_value(), t.error().message);
    CHECK(t->data.idle_token_timeout_seconds == 900);
    CHECK(t->data.enable_idle_token_timeout == true);
}

TEST_CASE_TEMPLATE("putTokensTimeout below the definition's minimum of 300 s is refused before sending", T,
                   TRANSPORTS)
{
    fake_transport fake;
    fake.respond_by_default(fixtures::json_response(200, fixtures::idle_timeout_json));
    auto api = make_api<T>(fake);

    for (std::int64_t bad : {std::int64_t{299}, std::int64_t{0}, std::int64_t{-1}, INT64_MIN}) {
        CAPTURE(bad);
        genesys::idle_token_timeout settings;
        settings.enable_idle_token_timeout = true;
        settings.idle_token_timeout_seconds = bad;
        auto r = api.try_put_tokens_timeout(settings);
        REQUIRE(r.has_error());
        CHECK(r.error().kind == genesys::error_kind::invalid_argument);
        CHECK(r.error().code == genesys::errc::invalid_argument);
        CHECK(r.error().operation == "putTokensTimeout");
        CHECK(r.error().message.find("putTokensTimeout rejected before sending: idle_token_timeout_seconds is " +
                                     std::to_string(bad) + ", below the API definition's minimum of 300") !=
              std::string::npos);
        CHECK_THROWS_AS(api.put_tokens_timeout(settings), genesys::invalid_argument_error);
    }
    CHECK(fake.request_count() == 0);
    CHECK(genesys::min_idle_token_timeout_seconds == 300);

    // The minimum itself, a value far above it (the maximum depends on the organization: the
    // platform checks it), and settings without a timeout are sent.
    for (std::optional<std::int64_t> good : {std::optional<std::int64_t>(300), std::optional<std::int64_t>(86400),
                                             std::optional<std::int64_t>()}) {
        genesys::idle_token_timeout settings;
        settings.enable_idle_token_timeout = false;
        settings.idle_token_timeout_seconds = good;
        CHECK(api.try_put_tokens_timeout(settings).has_value());
    }
    CHECK(fake.request_count() == 3);
}

TEST_CASE_TEMPLATE("the platform's 429 keeps Retry-After, code and message", T, TRANSPORTS)
{
    fake_transport fake;
    auto api = make_api<T>(fake);
    fake.respond({429,
                  {{"Retry-After", "42"}, {"ININ-Correlation-Id", "corr-429"}, {"Content-Type", "application/json"}},
                  std::string(fixtures::rate_limit_body)});
    try {
        api.get_tokens_me();
        FAIL("no exception");
    } catch (const genesys::api_error& e) {
        CHECK(e.status() == 429);
        CHECK(e.headers().get("retry-after") == "42");
        CHECK(e.correlation_id() == "corr-429");
        REQUIRE(e.body().has_value());
        CHECK(e.body()->code == "too.many.requests.retry.after");
        CHECK(e.body()->message == "Rate limit exceeded the maximum. Retry the request in [42] seconds");
        CHECK(e.body()->context_id == e.correlation_id());
        CHECK(e.body()->details.has_value());
        CHECK(e.body()->details->empty());
        CHECK(e.body()->errors->empty());
    }
}

TEST_CASE_TEMPLATE("a 2xx body that is not the model is a decode_error", T, TRANSPORTS)
{
    fake_transport fake;
    auto api = make_api<T>(fake);

    struct bad_case {
        std::string body;
        std::string expect_in_message;
    };
    const bad_case cases[] = {
        {"", "body is empty"},
        {"{not json", "not valid JSON"},
        {R"([1,2,3])", "$: expected object, got array"},
        {R"("a string")", "$: expected object, got string"},
        {std::string(40, '[') + std::string(40, ']'), "nested deeper than 32 levels"}, // max_json_depth
    };
    for (const auto& c : cases) {
        CAPTURE(c.body);
        fake.respond(fixtures::json_response(200, c.body, "corr-dec"));
        auto r = api.try_get_tokens_me();
        REQUIRE(r.has_error());
        const auto& e = r.error();
        CHECK(e.kind == genesys::error_kind::decode);
        CHECK(e.code == genesys::errc::decode_failed);
        CHECK(e.status == 200);
        CHECK(e.correlation_id == "corr-dec");
        CHECK(e.raw_body == c.body);
        CHECK(e.message.find("TokenInfo") != std::string::npos);
        CHECK(e.message.find(c.expect_in_message) != std::string::npos);

        fake.respond(fixtures::json_response(200, c.body));
        CHECK_THROWS_AS(api.get_tokens_me(), genesys::decode_error);
    }
}

TEST_CASE_TEMPLATE("network failures keep the transport's error code", T, TRANSPORTS)
{
    fake_transport fake;
    auto api = make_api<T>(fake);
    const auto refused = boost::system::errc::make_error_code(boost::system::errc::connection_refused);

    fake.fail(refused);
    auto r = api.try_get_tokens_me();
    REQUIRE(r.has_error());
    CHECK(r.error().kind == genesys::error_kind::network);
    CHECK(r.error().code == refused);
    CHECK(r.error().status == 0);
    CHECK(r.error().operation == "getTokensMe");

    fake.fail(refused);
    try {
        api.delete_token("u-1");
        FAIL("no exception");
    } catch (const genesys::network_error& e) {
        CHECK(e.code() == refused);
        CHECK(std::string(e.what()).find("deleteToken failed: network error") == 0);
    }
}

namespace {
struct throwing_transport {
    int which = 0;
    genesys::http_response send(const genesys::http_request&)
    {
        if (which == 0)
            throw std::runtime_error("socket exploded");
        throw std::system_error(std::make_error_code(std::errc::timed_out), "read");
    }
};
} // namespace

TEST_CASE("exceptions from a transport become network errors")
{
    genesys::tokens_api api{throwing_transport{0}, {.access_token = std::string(fixtures::secret_token)}};
    auto r = api.try_head_tokens_me();
    REQUIRE(r.has_error());
    CHECK(r.error().kind == genesys::error_kind::network);
    CHECK(r.error().code == genesys::errc::transport_exception);
    CHECK(r.error().message.find("socket exploded") != std::string::npos);

    api.transport().which = 1;
    auto t = api.try_head_tokens_me();
    REQUIRE(t.has_error());
    CHECK(t.error().code == std::errc::timed_out);
    CHECK_THROWS_AS(api.verify_token(), genesys::network_error);
}

TEST_CASE_TEMPLATE("hostile user ids stay inside /api/v2/tokens/<one segment>", T, TRANSPORTS)
{
    fake_transport fake;
    fake.respond_by_default({204, {}, {}});
    auto api = make_api<T>(fake);
    const std::string prefix = base + "/api/v2/tokens/";

    struct encoded_case {
        std::string id;
        std::string segment;
    };
    const encoded_case cases[] = {
        {"/", "%2F"},
        {"?", "%3F"},
        {"#", "%23"},
        {"%", "%25"},
        {" ", "%20"},
        {"a\r\nX-Injected: 1", "a%0D%0AX-Injected%3A%201"},
        {std::string("nul\0byte", 8), "nul%00byte"},
        {"Ren\xC3\xA9", "Ren%C3%A9"},
        {"user/../x y?#%", "user%2F..%2Fx%20y%3F%23%25"}, // what the JS SDK sends too
        {"../../users", "..%2F..%2Fusers"},
        {"...", "..."},
        {"+=&;", "%2B%3D%26%3B"},
        {"timeout", "timeout"}, // no DELETE route lives there
        {std::string(1024, 'x'), std::string(1024, 'x')},
    };
    for (const auto& c : cases) {
        CAPTURE(c.segment);
        api.delete_token(c.id);
        const std::string url = fake.last_request()->url;
        CHECK(url == prefix + c.segment);
        const std::string tail = url.substr(prefix.size());
        CHECK(tail.find_first_of("/?# \r\n") == std::string::npos);
    }
    CHECK(fake.request_count() == std::size(cases));

    struct rejected_case {
        std::string id;
        std::string reason;
    };
    const rejected_case rejected[] = {
        {"", "userId must not be empty"},
        {".", "userId must not be \".\" or \"..\""},
        {"..", "userId must not be \".\" or \"..\""},
        {std::string(10 * 1024, 'u'), "userId is longer than 1024 bytes"},
        {"me", "userId would address deleteTokensMe"},
    };
    for (const auto& c : rejected) {
        CAPTURE(c.reason);
        auto r = api.try_delete_token(c.id);
        REQUIRE(r.has_error());
        CHECK(r.error().kind == genesys::error_kind::invalid_argument);
        CHECK(r.error().code == genesys::errc::invalid_argument);
        CHECK(r.error().message.find(c.reason) != std::string::npos);
        CHECK_THROWS_AS(api.delete_token(c.id), genesys::invalid_argument_error);
    }
    CHECK(fake.request_count() == std::size(cases)); // nothing more was sent
}

TEST_CASE_TEMPLATE("a bad configuration fails where it is made, as the error check() returns", T, TRANSPORTS)
{
    fake_transport fake;
    fake.respond_by_default({200, {}, "{}"});

    struct bad_config {
        genesys::client_config cfg;
        std::string reason;
    };
    genesys::client_config negative_timeout{.access_token = "tok"};
    negative_timeout.call_timeout = std::chrono::milliseconds(-1);
    genesys::client_config negative_attempts{.access_token = "tok"};
    negative_attempts.retry.max_attempts = -1;
    const bad_config bad[] = {
        {{.base_url = "api.mypurecloud.com", .access_token = "tok-123456789"}, "must start with https:// or http://"},
        {{.base_url = "https://user:pw@api.example.com", .access_token = "tok-123456789"}, "user-info"},
        {{.base_url = "https://api.example.com/?x=1", .access_token = "tok-123456789"}, "query or a fragment"},
        {{.base_url = "https://api.mypurecloud.com", .access_token = ""}, "access_token is empty"},
        {{.base_url = "https://api.mypurecloud.com", .access_token = "tok\r\nX-Evil: 1"}, "access_token contains"},
        {{.base_url = "https://api.mypurecloud.com", .access_token = "tok", .user_agent = "ua\n"}, "user_agent"},
        {{.base_url = "https://api.mypurecloud.com", .access_token = "tok", .default_headers = {{"Bad Name", "v"}}},
         "is not a valid HTTP token"},
        {{.base_url = "https://api.mypurecloud.com", .access_token = "tok", .default_headers = {{"X-Ok", "v\r\n"}}},
         "control character"},
        {{.base_url = "https://api.mypurecloud.com", .access_token = "tok", .default_headers = {{"authorization", "x"}}},
         "must not set Authorization"},
        {negative_timeout, "call_timeout must not be negative"},
        {negative_attempts, "max_attempts must be at least 1"},
    };
    for (const auto& b : bad) {
        CAPTURE(b.reason);
        const std::optional<genesys::error> checked = genesys::check(b.cfg);
        REQUIRE(checked.has_value());
        CHECK(checked->kind == genesys::error_kind::invalid_argument);
        CHECK(checked->code == genesys::errc::invalid_argument);
        CHECK(checked->operation == "client_config");
        CHECK(checked->message.starts_with("invalid client_config: "));
        CHECK(checked->message.find(b.reason) != std::string::npos);
        try {
            genesys::tokens_api<T> api(wrap<T>(fake), b.cfg);
            FAIL("no exception");
        } catch (const genesys::invalid_argument_error& e) {
            CHECK(e.info().message == checked->message);
            CHECK(e.operation() == "client_config");
        }
    }
    CHECK(fake.request_count() == 0);
    // The token never appears in the error.
    const auto leaked = genesys::check({.base_url = "ftp://x", .access_token = std::string(fixtures::secret_token)});
    REQUIRE(leaked.has_value());
    CHECK(leaked->message.find(fixtures::secret_token) == std::string::npos);
    // What is valid stays valid: a token source instead of a token.
    auto source = std::make_shared<genesys::token_source>(
        []() -> genesys::result<genesys::api_response<genesys::oauth_token>> { return genesys::error{}; });
    CHECK_FALSE(genesys::check(genesys::client_config{.token_source = source}).has_value());
    CHECK_FALSE(genesys::check(genesys::client_config{.access_token = "tok"}).has_value());
    CHECK_NOTHROW(genesys::tokens_api<T>(wrap<T>(fake), {.token_source = source}));
}

TEST_CASE_TEMPLATE("base URL, region, gateway prefix and default headers shape the request", T, TRANSPORTS)
{
    fake_transport fake;
    fake.respond_by_default({200, {}, {}});

    SUBCASE("a region")
    {
        auto api = make_api<T>(fake, genesys::client_config::for_region(genesys::region::eu_central_2, "tok"));
        api.delete_tokens_me();
        CHECK(fake.last_request()->url == "https://api.euc2.pure.cloud/api/v2/tokens/me");
    }
    SUBCASE("a gateway with a path prefix and a trailing slash")
    {
        auto api = make_api<T>(fake, {.base_url = "https://gw.example.com:8443/genesys/", .access_token = "tok"});
        api.delete_token("u 1");
        CHECK(fake.last_request()->url == "https://gw.example.com:8443/genesys/api/v2/tokens/u%201");
    }
    SUBCASE("default headers are added, and replace same-named defaults")
    {
        auto api = make_api<T>(fake, {.access_token = "tok",
                                      .user_agent = "my-desktop/2.1",
                                      .default_headers = {{"X-Trace", "t-1"}, {"accept", "application/json; v=2"}}});
        api.delete_tokens_me();
        auto req = *fake.last_request();
        CHECK(req.headers.get("X-Trace") == "t-1");
        CHECK(req.headers.get("Accept") == "application/json; v=2");
        CHECK(req.headers.get("User-Agent") == "my-desktop/2.1");
        CHECK(req.headers.get("Authorization") == "Bearer tok");
        CHECK(req.headers.size() == 5);
    }
}

TEST_CASE_TEMPLATE("the access token never appears in an error", T, TRANSPORTS)
{
    fake_transport fake;
    auto api = make_api<T>(fake);
    const std::string token(fixtures::secret_token);
    const std::string echo = R"({"message":"token )" + token + R"( is revoked","code":"bad.credentials","status":401})";

    fake.respond(fixtures::json_response(401, echo));
    fake.respond(fixtures::json_response(200, "{\"organization\":\"" + token + "\"}"));
    fake.fail(boost::system::errc::make_error_code(boost::system::errc::connection_reset));
    std::vector<genesys::error> errors;
    for (int i = 0; i < 3; ++i)
        errors.push_back(api.try_get_tokens_me().error());
    errors.push_back(api.try_delete_token("").error());
    errors.push_back(*genesys::check(genesys::client_config{.base_url = "ftp://x", .access_token = token}));

    for (const auto& e : errors) {
        CAPTURE(e.message);
        CHECK(e.message.find(token) == std::string::npos);
        CHECK(e.raw_body.find(token) == std::string::npos);
        if (e.body && e.body->message)
            CHECK(e.body->message->find(token) == std::string::npos);
    }
    CHECK(errors[0].body->message == "token [REDACTED] is revoked");
}

TEST_CASE("tokens_api is built from a transport and a config, CTAD works")
{
    fake_transport fake;
    genesys::tokens_api api{fake, {.access_token = "tok"}};
    static_assert(std::is_same_v<decltype(api)::transport_type, fake_transport>);
    CHECK(api.config().access_token == "tok");
    api.transport().respond(204);
    CHECK(fake.pending() == 1); // the api holds a copy that shares the fake's state
    const auto& capi = api;
    CHECK(capi.transport().pending() == 1);
}

namespace {

/// Records what it is sent; on its first send, first makes another call through `api` (a call
/// made from inside a call, as a transport or a logger might).
struct reentrant_transport {
    struct shared {
        std::vector<genesys::http_request> log;
        std::function<void()> on_first_send;
    };
    std::shared_ptr<shared> state = std::make_shared<shared>();

    genesys::http_response send(const genesys::http_request& request)
    {
        if (auto inner = std::exchange(state->on_first_send, nullptr))
            inner();
        state->log.push_back(request);
        return {request.method == http_method::head ? 200 : 204, {}, {}};
    }
};

} // namespace

TEST_CASE("a call made while another call of the same client is in flight builds its own request")
{
    reentrant_transport transport;
    auto state = transport.state;
    genesys::tokens_api api{transport, {.access_token = std::string(fixtures::secret_token)}};

    state->on_first_send = [&] { api.delete_token("inner-user"); };
    api.delete_token("outer-user");

    REQUIRE(state->log.size() == 2);
    // The inner call's request did not overwrite the outer one, which was sent after it.
    CHECK(state->log[0].url == "https://api.mypurecloud.com/api/v2/tokens/inner-user");
    CHECK(state->log[1].url == "https://api.mypurecloud.com/api/v2/tokens/outer-user");
    for (const auto& r : state->log) {
        CHECK(r.method == http_method::delete_);
        CHECK(r.headers.get("Authorization") == "Bearer " + std::string(fixtures::secret_token));
        CHECK(r.headers.size() == 4);
    }

    // Later calls reuse the client's request: the URL, method and headers are this call's only.
    CHECK(api.verify_token());
    api.delete_token("third-user");
    REQUIRE(state->log.size() == 4);
    CHECK(state->log[2].url == "https://api.mypurecloud.com/api/v2/tokens/me");
    CHECK(state->log[2].method == http_method::head);
    CHECK(state->log[3].url == "https://api.mypurecloud.com/api/v2/tokens/third-user");
    CHECK(state->log[3].headers == state->log[0].headers);
    CHECK(state->log[3].body.empty());
}

TEST_CASE("a copy of a client sends its own requests, a body does not outlive its call")
{
    fake_transport fake;
    fake.respond_by_default({204, {}, {}});
    genesys::tokens_api api{fake, {.access_token = "token-a"}};
    fake.respond(fixtures::json_response(200, fixtures::idle_timeout_json));
    api.put_tokens_timeout({.idle_token_timeout_seconds = 900});
    api.delete_token("user-1");
    auto copy = api;
    copy.delete_token("user-2");
    api.delete_token("user-3");
    const auto sent = fake.requests();
    REQUIRE(sent.size() == 4);
    CHECK(sent[0].method == http_method::put);
    CHECK(!sent[0].body.empty());
    CHECK(sent[1].url == "https://api.mypurecloud.com/api/v2/tokens/user-1");
    CHECK(sent[1].body.empty());
    CHECK(sent[2].url == "https://api.mypurecloud.com/api/v2/tokens/user-2");
    CHECK(sent[3].url == "https://api.mypurecloud.com/api/v2/tokens/user-3");
    CHECK(sent[2].headers == sent[1].headers);
    CHECK(sent[3].headers == sent[1].headers);
}

namespace {

/// A transport that counts its sends through a pointer: moving it leaves a working copy behind.
struct counting_transport {
    int* sends;
    genesys::http_response send(const genesys::http_request&)
    {
        ++*sends;
        return {200, {}, ""};
    }
};

} // namespace

TEST_CASE("a moved-from client keeps its configuration and can still be called, copies share it")
{
    int sends = 0;
    genesys::tokens_api a{counting_transport{&sends}, {.access_token = "tok-moved-0123456789"}};
    auto b = std::move(a);
    CHECK(b.try_head_tokens_me().has_value());
    // NOLINTNEXTLINE(bugprone-use-after-move): the state a move leaves is part of the contract
    CHECK(a.config().access_token == "tok-moved-0123456789");
    CHECK(a.try_head_tokens_me().has_value());
    auto c = b;
    CHECK(&c.config() == &b.config()); // one checked configuration, shared
    CHECK(c.try_head_tokens_me().has_value());
    a = std::move(c);
    CHECK(c.try_head_tokens_me().has_value());
    CHECK(sends == 4);
}
