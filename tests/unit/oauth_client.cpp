// SPDX-License-Identifier: BSL-1.0
// <genesys/oauth_client.hpp>: the OAuth client: every grant's request as the login host takes it,
// token responses and OAuth errors, retry opt-in, limits and URL checks.
#include <genesys/oauth_client.hpp>

#include "fixtures.hpp"

#include <stdexcept>
#include <string>
#include <vector>

using genesys::testing::fake_transport;

namespace {

const std::string secret = "svc-secret-0123456789";

genesys::oauth_config config(std::string login_url = "https://login.mypurecloud.ie")
{
    return {.login_url = std::move(login_url), .client_id = "svc-client", .client_secret = secret};
}

std::string token_json(std::string_view token, int expires_in = 86399)
{
    return R"({"access_token":")" + std::string(token) + R"(","token_type":"bearer","expires_in":)" +
           std::to_string(expires_in) + "}";
}

} // namespace

TEST_CASE("client credentials: the request exactly as the platform takes it, the token decoded")
{
    fake_transport fake;
    fake.respond(200, R"({"access_token":"tok-1","token_type":"bearer","expires_in":86399,"extra":[1]})",
                 {{"ININ-Correlation-Id", "c-1"}});
    genesys::oauth_client login{fake, config()};
    auto r = login.try_client_credentials();
    REQUIRE(r.has_value());
    CHECK(r->status == 200);
    CHECK(r->correlation_id() == "c-1");
    CHECK(r->data == genesys::oauth_token{"tok-1", "bearer", 86399, std::nullopt});

    const auto req = *fake.last_request();
    CHECK(req.method == genesys::http_method::post);
    CHECK(req.url == "https://login.mypurecloud.ie/oauth/token");
    CHECK(req.body == "grant_type=client_credentials");
    CHECK(req.headers.get("Authorization") == "Basic " + genesys::base64_encode("svc-client:" + secret));
    CHECK(req.headers.get("Content-Type") == "application/x-www-form-urlencoded");
    CHECK(req.headers.get("Accept") == "application/json");
    CHECK(req.headers.get("User-Agent") == genesys::default_user_agent);

    fake.respond(200, token_json("tok-2", 60));
    CHECK(login.client_credentials().access_token == "tok-2");

    genesys::oauth_client no_secret{fake, {.login_url = "https://login.mypurecloud.ie", .client_id = "svc-client"}};
    auto rejected = no_secret.try_client_credentials();
    REQUIRE(rejected.has_error());
    CHECK(rejected.error().kind == genesys::error_kind::invalid_argument);
    CHECK(fake.request_count() == 2);
}

TEST_CASE("refresh token: every form value percent-encoded, a public client sends client_id in the form")
{
    fake_transport fake;
    fake.respond(200, R"({"access_token":"a2","token_type":"bearer","expires_in":3600,"refresh_token":"r2"})");
    genesys::oauth_client login{fake, config()};
    const auto token = login.refresh_token("r1/+= &%~x");
    CHECK(token.refresh_token == "r2");
    auto req = *fake.last_request();
    CHECK(req.body == "grant_type=refresh_token&refresh_token=r1%2F%2B%3D%20%26%25~x");
    CHECK(req.headers.get("Authorization") == "Basic " + genesys::base64_encode("svc-client:" + secret));

    genesys::oauth_client public_client{fake, {.login_url = "https://login.mypurecloud.ie", .client_id = "pub id"}};
    fake.respond(200, token_json("a3"));
    CHECK(public_client.refresh_token("r2").access_token == "a3");
    req = *fake.last_request();
    CHECK_FALSE(req.headers.contains("Authorization"));
    CHECK(req.body == "grant_type=refresh_token&refresh_token=r2&client_id=pub%20id");

    CHECK_THROWS_AS(login.refresh_token(""), genesys::invalid_argument_error);
    CHECK(fake.request_count() == 2);
}

TEST_CASE("authorization code: with a PKCE verifier, with a secret, and the checks before sending")
{
    fake_transport fake;
    const std::string verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    genesys::oauth_client pkce{fake, {.login_url = "https://login.mypurecloud.ie", .client_id = "spa"}};
    fake.respond(200, R"({"access_token":"a1","token_type":"bearer","expires_in":3600,"refresh_token":"r1"})");
    const auto token = pkce.authorization_code("code/1", "https://app.example.com/cb?x=1", verifier);
    CHECK(token.access_token == "a1");
    CHECK(token.refresh_token == "r1");
    auto req = *fake.last_request();
    CHECK_FALSE(req.headers.contains("Authorization"));
    CHECK(req.body == "grant_type=authorization_code&code=code%2F1&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb%3Fx%3D1"
                      "&code_verifier=" +
                          verifier + "&client_id=spa");

    genesys::oauth_client confidential{fake, config()};
    fake.respond(200, token_json("a2"));
    CHECK(confidential.authorization_code("c2", "https://app/cb").access_token == "a2");
    req = *fake.last_request();
    CHECK(req.body == "grant_type=authorization_code&code=c2&redirect_uri=https%3A%2F%2Fapp%2Fcb");
    CHECK(req.headers.get("Authorization") == "Basic " + genesys::base64_encode("svc-client:" + secret));

    // Rejected before sending: nothing more goes out.
    CHECK_THROWS_AS(pkce.authorization_code("c", "https://app/cb"), genesys::invalid_argument_error); // no secret, no verifier
    CHECK_THROWS_AS(pkce.authorization_code("c", "https://app/cb", "short"), genesys::invalid_argument_error);
    CHECK_THROWS_AS(pkce.authorization_code("c", "https://app/cb", verifier + "!"), genesys::invalid_argument_error);
    CHECK_THROWS_AS(pkce.authorization_code("", "https://app/cb", verifier), genesys::invalid_argument_error);
    CHECK_THROWS_AS(pkce.authorization_code("c", "", verifier), genesys::invalid_argument_error);
    CHECK(fake.request_count() == 2);
}

TEST_CASE("saml2 bearer: the RFC 7522 grant type, orgName and the base64-encoded assertion")
{
    fake_transport fake;
    genesys::oauth_client login{fake, config()};
    const std::string xml = R"(<saml:Assertion ID="a&b">x</saml:Assertion>)";
    const std::string encoded = genesys::base64_encode(xml);
    fake.respond(200, token_json("a1"));
    CHECK(login.saml2_bearer("Acme Org", encoded).access_token == "a1");
    const auto req = *fake.last_request();
    CHECK(req.body == "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Asaml2-bearer&orgName=Acme%20Org&assertion=" +
                          genesys::detail::percent_encode(encoded));
    CHECK(req.headers.get("Authorization") == "Basic " + genesys::base64_encode("svc-client:" + secret));

    CHECK_THROWS_AS(login.saml2_bearer("Acme", xml), genesys::invalid_argument_error); // not encoded
    CHECK_THROWS_AS(login.saml2_bearer("", encoded), genesys::invalid_argument_error);
    CHECK_THROWS_AS(login.saml2_bearer("Acme", ""), genesys::invalid_argument_error);
    genesys::oauth_client public_client{fake, {.login_url = "https://login.mypurecloud.ie", .client_id = "pub"}};
    CHECK_THROWS_AS(public_client.saml2_bearer("Acme", encoded), genesys::invalid_argument_error);
    CHECK(fake.request_count() == 1);
}

TEST_CASE("token responses: what is decoded and what is a decode error")
{
    fake_transport fake;
    genesys::oauth_config cfg = config();
    cfg.max_response_bytes = 200;
    cfg.max_json_depth = 4;
    genesys::oauth_client login{fake, cfg};

    fake.respond(200, R"({"access_token":"a","token_type":"bearer"})"); // expires_in is optional
    auto ok = login.try_client_credentials();
    REQUIRE(ok.has_value());
    CHECK_FALSE(ok->data.expires_in.has_value());

    struct bad_case {
        std::string body;
        genesys::errc code;
    };
    const bad_case cases[] = {
        {R"({"token_type":"bearer","expires_in":60})", genesys::errc::decode_failed},         // no access_token
        {R"({"access_token":"","token_type":"bearer"})", genesys::errc::decode_failed},       // empty
        {R"({"access_token":"tok-secret-1","expires_in":"soon"})", genesys::errc::decode_failed}, // wrong type
        {R"({"access_token":"tok-secret-1","x":[[[[[1]]]]]})", genesys::errc::decode_failed},  // too deep
        {"not json tok-secret-1", genesys::errc::decode_failed},
        {R"({"access_token":"tok-secret-1","pad":")" + std::string(300, 'p') + "\"}", genesys::errc::response_too_large},
    };
    for (const auto& c : cases) {
        CAPTURE(c.body);
        fake.respond(200, c.body);
        auto r = login.try_client_credentials();
        REQUIRE(r.has_error());
        CHECK(r.error().kind == genesys::error_kind::decode);
        CHECK(r.error().code == c.code);
        CHECK(r.error().status == 200);
        CHECK(r.error().raw_body.empty()); // a body that may hold a token is not kept
        CHECK(r.error().message.find("tok-secret-1") == std::string::npos);
    }
}

TEST_CASE("OAuth error bodies: an api_error with the HTTP status, the OAuth error typed and readable")
{
    fake_transport fake;
    genesys::oauth_client login{fake, config()};

    fake.respond(400, R"({"error":"invalid_grant","description":"refresh token expired","error_description":"refresh token expired"})",
                 {{"ININ-Correlation-Id", "corr-9"}});
    auto r = login.try_refresh_token("r-old");
    REQUIRE(r.has_error());
    const genesys::error e = r.error();
    CHECK(e.kind == genesys::error_kind::api);
    CHECK(e.status == 400);
    CHECK(e.operation == "requestToken");
    CHECK(e.correlation_id == "corr-9");
    REQUIRE(e.body.has_value());
    CHECK(e.body->code == "invalid_grant");
    CHECK(e.body->message == "refresh token expired");
    CHECK(e.body->status == 400);
    CHECK(e.message == "requestToken failed: the login host answered HTTP 400 invalid_grant: refresh token expired "
                       "(correlation id: corr-9)");
    CHECK(e.code == genesys::login_status_code(400));
    const auto oauth = genesys::oauth_error_of(e);
    REQUIRE(oauth.has_value());
    CHECK(*oauth == genesys::oauth_error_body{"invalid_grant", "refresh token expired", "refresh token expired"});

    // Only `description`, as older login hosts send it.
    fake.respond(401, R"({"error":"invalid_client","description":"authentication failed"})");
    try {
        login.client_credentials();
        FAIL("no exception");
    } catch (const genesys::api_error& ex) {
        CHECK(ex.status() == 401);
        CHECK(ex.body()->code == "invalid_client");
        CHECK(ex.body()->message == "authentication failed");
        REQUIRE(genesys::oauth_error_of(ex).has_value());
        CHECK(genesys::oauth_error_of(ex)->description == "authentication failed");
        CHECK_FALSE(genesys::oauth_error_of(ex)->error_description.has_value());
    }

    // A platform ErrorBody (a gateway in front of the login host) stays an ErrorBody.
    fake.respond(503, R"({"message":"The service is currently unavailable.","code":"service.unavailable","status":503})");
    auto platform = login.try_client_credentials();
    REQUIRE(platform.has_error());
    CHECK(platform.error().body->code == "service.unavailable");
    CHECK_FALSE(genesys::oauth_error_of(platform.error()).has_value());

    // Not JSON at all: the status and the raw body, no parsed body.
    fake.respond(502, "<html>Bad gateway</html>");
    auto html = login.try_client_credentials();
    REQUIRE(html.has_error());
    CHECK(html.error().status == 502);
    CHECK_FALSE(html.error().body.has_value());
    CHECK(html.error().raw_body == "<html>Bad gateway</html>");

    // An error of another operation is not an OAuth error.
    genesys::error other = e;
    other.operation = "getTokensMe";
    CHECK_FALSE(genesys::oauth_error_of(other).has_value());
}

TEST_CASE("token requests are not retried unless the caller opts in")
{
    fake_transport fake;
    genesys::oauth_config cfg = config();
    cfg.retry = genesys::retry_policy::standard(3);
    std::vector<std::chrono::milliseconds> slept;
    cfg.retry.sleep = [&](std::chrono::milliseconds d) { slept.push_back(d); };

    {
        genesys::oauth_client login{fake, cfg};
        fake.respond(503).respond(200, token_json("a1"));
        auto r = login.try_client_credentials();
        REQUIRE(r.has_error());
        CHECK(r.error().status == 503);
        CHECK(r.error().attempts == 1);
        CHECK(fake.request_count() == 1);
        CHECK(slept.empty());
        fake.reset();
    }
    cfg.retry_token_requests = true;
    genesys::oauth_client login{fake, cfg};
    fake.respond(429, R"({"error":"too_many_requests"})", {{"Retry-After", "2"}}).respond(200, token_json("a1"));
    CHECK(login.client_credentials().access_token == "a1");
    CHECK(fake.request_count() == 2);
    CHECK(slept == std::vector<std::chrono::milliseconds>{std::chrono::seconds(2)});

    // A 401 is an answer, not a transient failure: never retried.
    fake.respond(401, R"({"error":"invalid_client"})");
    auto r = login.try_client_credentials();
    REQUIRE(r.has_error());
    CHECK(r.error().status == 401);
    CHECK(fake.request_count() == 3);

    // Retried to the end: the last error, annotated with the attempts.
    fake.fail(boost::system::errc::make_error_code(boost::system::errc::connection_reset))
        .respond(503)
        .respond(503);
    auto exhausted = login.try_client_credentials();
    REQUIRE(exhausted.has_error());
    CHECK(exhausted.error().attempts == 3);
    CHECK(exhausted.error().message.find("(gave up after 3 attempts: max_attempts is 3)") != std::string::npos);
}

TEST_CASE("login_url: checked like base_url, http only to loopback unless allowed")
{
    fake_transport fake;
    for (std::string bad : {"login.mypurecloud.com", "http://login.example.com", "https://user:pw@login.example.com",
                            "https://login.example.com/?q=1", ""}) {
        CAPTURE(bad);
        const auto checked = genesys::check(config(bad));
        REQUIRE(checked.has_value());
        CHECK(checked->kind == genesys::error_kind::invalid_argument);
        CHECK(checked->message.find("login_url") != std::string::npos);
        CHECK_THROWS_AS(genesys::oauth_client(fake, config(bad)), genesys::invalid_argument_error);
    }
    CHECK(fake.request_count() == 0);

    fake.respond_by_default({200, {}, token_json("a")});
    genesys::oauth_client loopback{fake, config("http://127.0.0.1:9000/")};
    CHECK(loopback.client_credentials().access_token == "a");
    CHECK(fake.last_request()->url == "http://127.0.0.1:9000/oauth/token");

    genesys::oauth_config insecure = config("http://login.internal.example:8080/prefix");
    insecure.allow_insecure_http = true;
    genesys::oauth_client allowed{fake, insecure};
    CHECK(allowed.client_credentials().access_token == "a");
    CHECK(fake.last_request()->url == "http://login.internal.example:8080/prefix/oauth/token");

    // The other checks of the configuration: see "a bad oauth_config fails where it is made".
    CHECK(fake.request_count() == 2);
}

TEST_CASE("a network failure is a network_error, over-large error bodies are not parsed")
{
    fake_transport fake;
    genesys::oauth_config cfg = config();
    cfg.max_response_bytes = 64;
    genesys::oauth_client login{fake, cfg};
    fake.fail(boost::system::errc::make_error_code(boost::system::errc::connection_refused));
    CHECK_THROWS_AS(login.client_credentials(), genesys::network_error);

    fake.respond(400, R"({"error":"invalid_request","error_description":")" + std::string(100, 'x') + "\"}");
    auto r = login.try_client_credentials();
    REQUIRE(r.has_error());
    CHECK(r.error().status == 400);
    CHECK_FALSE(r.error().body.has_value());
    CHECK(r.error().message.find("over the limit") != std::string::npos);
}

TEST_CASE("a 429 on the token request is retried under the retry policy, without retry_token_requests")
{
    fake_transport fake;
    genesys::oauth_config cfg = config();
    cfg.retry = genesys::retry_policy::standard(3);
    std::vector<std::chrono::milliseconds> slept;
    cfg.retry.sleep = [&](std::chrono::milliseconds d) { slept.push_back(d); };
    std::vector<std::string> decisions;
    cfg.logger = [&](const genesys::log_event& e) { decisions.emplace_back(e.retry); };
    genesys::oauth_client login{fake, cfg};

    // Refused before it was processed: retried as an API call's 429 is, Retry-After honoured.
    fake.respond(429, R"({"error":"too_many_requests"})", {{"Retry-After", "2"}}).respond(200, token_json("a1"));
    CHECK(login.client_credentials().access_token == "a1");
    CHECK(fake.request_count() == 2);
    CHECK(slept == std::vector<std::chrono::milliseconds>{std::chrono::seconds(2)});
    CHECK(decisions == std::vector<std::string>{"retrying in 2 s", ""});

    // The same limits: the attempts run out with the 429, saying so.
    fake.reset();
    fake.respond_by_default({429, {{"Retry-After", "1"}}, R"({"error":"too_many_requests"})"});
    auto r = login.try_client_credentials();
    REQUIRE(r.has_error());
    CHECK(r.error().status == 429);
    CHECK(r.error().attempts == 3);
    CHECK(r.error().message.find("gave up after 3 attempts: max_attempts is 3") != std::string::npos);
    CHECK(fake.request_count() == 3);

    // Anything the login host may have processed (a 503) is still not retried without the opt-in.
    fake.reset();
    fake.respond(503).respond(200, token_json("a2"));
    auto unavailable = login.try_client_credentials();
    REQUIRE(unavailable.has_error());
    CHECK(unavailable.error().status == 503);
    CHECK(fake.request_count() == 1);
}

TEST_CASE("a refused login says it was the login, and classifies as login_failed")
{
    fake_transport fake;
    genesys::oauth_client login{fake, config()};
    fake.respond(401, R"({"error":"invalid_client","error_description":"authentication failed"})");
    auto r = login.try_client_credentials();
    REQUIRE(r.has_error());
    CHECK(r.error().message == "requestToken failed: the login host answered HTTP 401 invalid_client: "
                               "authentication failed");
    CHECK(r.error().code == genesys::condition::login_failed);
    CHECK(r.error().code != genesys::condition::unauthorized);
    CHECK(r.error().status == 401);

    fake.respond(429, R"({"error":"too_many_requests"})");
    auto limited = login.try_client_credentials();
    CHECK(limited.error().code == genesys::condition::rate_limited);
    CHECK(limited.error().code != genesys::condition::login_failed);
    fake.respond(503);
    CHECK(login.try_client_credentials().error().code == genesys::condition::server_error);
    CHECK(login.try_refresh_token("").error().code == genesys::condition::invalid_argument);
}

TEST_CASE("a bad oauth_config fails where it is made, check() returns the same error")
{
    fake_transport fake;
    struct bad_config {
        genesys::oauth_config cfg;
        std::string reason;
    };
    genesys::oauth_config bad_agent = config();
    bad_agent.user_agent = "agent\r\nX-Injected: 1";
    genesys::oauth_config bad_retry = config();
    bad_retry.retry.max_attempts = 0;
    const bad_config bad[] = {
        {config("login.mypurecloud.com"), "login_url"},
        {config("http://login.example.com"), "login_url"},
        {{.login_url = "https://login.mypurecloud.com", .client_id = "", .client_secret = secret}, "client_id"},
        {{.login_url = "https://login.mypurecloud.com", .client_id = "a:b", .client_secret = secret}, "':'"},
        {bad_agent, "User-Agent"},
        {bad_retry, "max_attempts"},
    };
    for (const auto& b : bad) {
        CAPTURE(b.reason);
        const std::optional<genesys::error> checked = genesys::check(b.cfg);
        REQUIRE(checked.has_value());
        CHECK(checked->kind == genesys::error_kind::invalid_argument);
        CHECK(checked->code == genesys::condition::invalid_argument);
        CHECK(checked->message.find(b.reason) != std::string::npos);
        CHECK(checked->message.find(secret) == std::string::npos);
        try {
            genesys::oauth_client login{fake, b.cfg};
            FAIL("no exception");
        } catch (const genesys::invalid_argument_error& e) {
            CHECK(e.info().message == checked->message);
            CHECK(e.operation() == checked->operation);
        }
    }
    CHECK(fake.request_count() == 0);

    // A public client (no secret) is a valid configuration; the grants that need a secret say so.
    genesys::oauth_config pub{.login_url = "https://login.mypurecloud.com", .client_id = "spa"};
    CHECK_FALSE(genesys::check(pub).has_value());
    genesys::oauth_client public_client{fake, pub};
    CHECK(public_client.try_client_credentials().error().kind == genesys::error_kind::invalid_argument);
    CHECK_FALSE(genesys::check(config()).has_value());
}
