// SPDX-License-Identifier: BSL-1.0
// A recognisable token and client secret go through every error path; nothing the library
// produces may contain them: messages, raw bodies, parsed bodies, exceptions, log lines.

#include "fixtures.hpp"

#include <stdexcept>
#include <string>
#include <vector>

using genesys::testing::fake_transport;

namespace {

const std::string token = "tkn-RECOGNISABLE-5ecret-0123456789";
const std::string client_secret = "cs-RECOGNISABLE-5ecret-9876543210";

struct collector {
    std::vector<std::string> texts;

    void add(const genesys::error& e)
    {
        texts.push_back(e.message);
        texts.push_back(e.raw_body);
        texts.push_back(e.correlation_id);
        if (e.body) {
            texts.push_back(e.body->message.value_or(""));
            texts.push_back(boost::json::serialize(boost::json::value_from(*e.body)));
        }
        std::ostringstream os;
        os << e;
        texts.push_back(os.str());
        try {
            genesys::throw_exception_from_error(e);
        } catch (const std::exception& ex) {
            texts.emplace_back(ex.what());
        }
    }

    template <class T>
    void add(const genesys::result<T>& r)
    {
        REQUIRE(r.has_error());
        add(r.error());
    }
};

/// Echoes what it was sent, the way a careless proxy or server might.
struct echo_transport {
    fake_transport inner;
    bool throw_with_token = false;

    genesys::http_response send(const genesys::http_request& req)
    {
        if (throw_with_token)
            throw std::runtime_error("could not send " + std::string(req.headers.get("Authorization").value_or("")));
        auto r = inner.send(req);
        if (!r)
            throw boost::system::system_error(r.error());
        r->body += std::string(req.headers.get("Authorization").value_or(""));
        return std::move(*r);
    }
};

} // namespace

TEST_CASE("the access token never appears in anything the library produces")
{
    collector out;
    fake_transport fake;
    std::vector<std::string> log_lines;
    genesys::client_config cfg{.access_token = token};
    cfg.logger = [&](const genesys::log_event& e) {
        log_lines.push_back(genesys::to_string(e));
        for (const auto& h : e.request_headers)
            log_lines.push_back(h.name + ": " + h.value);
    };
    genesys::tokens_api api{echo_transport{fake}, cfg};

    const std::string echo_error = R"({"message":"token )" + token + R"( rejected","code":"bad.credentials","status":401,"messageParams":{"t":")" + token + R"("}})";
    for (int status : {400, 401, 403, 404, 408, 409, 413, 415, 429, 500, 503, 504}) {
        fake.respond(status, echo_error, {{"ININ-Correlation-Id", "c"}});
        out.add(api.try_get_tokens_me());
        fake.respond(status, "plain text " + token);
        out.add(api.try_delete_token("u-1"));
    }
    fake.respond(200, R"({"organization":")" + token + R"("})");
    out.add(api.try_get_tokens_me()); // decode failure
    fake.respond(200, "not json " + token);
    out.add(api.try_get_tokens_timeout());
    fake.fail(boost::system::errc::make_error_code(boost::system::errc::connection_reset));
    out.add(api.try_head_tokens_me()); // network failure
    api.transport().throw_with_token = true;
    out.add(api.try_verify_token()); // a transport whose exception quotes the header
    api.transport().throw_with_token = false;
    out.add(api.try_delete_token("..")); // validation failure

    // A bad configuration: the error check() returns, and the exception the constructor throws.
    const auto add_config_error = [&](const genesys::client_config& cfg) {
        out.add(check(cfg).value());
        try {
            genesys::tokens_api bad{fake, cfg};
            FAIL("no exception");
        } catch (const genesys::exception& ex) {
            out.add(ex.info());
            out.texts.emplace_back(ex.what());
        }
    };
    for (std::string bad_token : {token + "\r\n", token + " x", std::string()})
        add_config_error({.access_token = bad_token});
    add_config_error({.base_url = "http://example.com/" + token, .access_token = token});

    REQUIRE(out.texts.size() > 100);
    REQUIRE(log_lines.size() > 20);
    for (const auto& text : out.texts) {
        CAPTURE(text);
        CHECK(text.find(token) == std::string::npos);
    }
    for (const auto& line : log_lines) {
        CAPTURE(line);
        CHECK(line.find(token) == std::string::npos);
    }
}

TEST_CASE("the client secret never appears in anything the OAuth client produces")
{
    collector out;
    fake_transport fake;
    genesys::oauth_client login{fake, {.login_url = "https://login.mypurecloud.com", .client_id = "client-1",
                                       .client_secret = client_secret}};
    const std::string basic = genesys::detail::base64_encode("client-1:" + client_secret);
    for (int status : {400, 401, 403, 429, 500, 503}) {
        fake.respond(status, R"({"error":"invalid_client","error_description":"bad secret )" + client_secret + " " + basic + R"("})");
        out.add(login.try_client_credentials());
    }
    fake.respond(200, R"({"token_type":"bearer"})"); // no access_token
    out.add(login.try_client_credentials());
    fake.fail(boost::system::errc::make_error_code(boost::system::errc::timed_out));
    out.add(login.try_client_credentials());

    for (const auto& text : out.texts) {
        CAPTURE(text);
        CHECK(text.find(client_secret) == std::string::npos);
    }
    // The Basic credential is sent, as it must be, and only in the Authorization header.
    CHECK(fake.last_request()->headers.get("Authorization") == "Basic " + basic);
}

namespace {

/// The form's text as a server sees it: `%XX` decoded, `&` and `=` kept.
std::string percent_decoded(std::string_view form)
{
    std::string out;
    for (std::size_t i = 0; i < form.size(); ++i) {
        if (form[i] == '%' && i + 2 < form.size()) {
            out += static_cast<char>(std::stoi(std::string(form.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        } else {
            out += form[i];
        }
    }
    return out;
}

/// A login host that echoes everything it was sent, as sent and decoded, into its answers (or throws it).
struct echoing_login {
    fake_transport inner;
    bool throw_it = false;

    genesys::http_response send(const genesys::http_request& req)
    {
        std::string echo = req.body + " " + percent_decoded(req.body) + " " +
                           std::string(req.headers.get("Authorization").value_or(""));
        if (req.headers.contains("Authorization"))
            echo += " client-1:" + client_secret; // the Basic credential, decoded
        if (throw_it)
            throw std::runtime_error("could not send " + echo);
        auto r = inner.send(req);
        if (!r)
            throw boost::system::system_error(r.error());
        if (r->body == "json")
            r->body = boost::json::serialize(boost::json::object{
                {"error", "invalid_grant"}, {"error_description", echo}, {"description", echo}});
        else if (r->status >= 300 || r->body.ends_with(' '))
            r->body += echo;
        return std::move(*r);
    }
};

} // namespace

TEST_CASE("no grant's secret, nor a token source's token, appears in anything the library produces")
{
    const std::string refresh = "rt-RECOGNISABLE/5ecret+0123456789=";
    const std::string code = "code-RECOGNISABLE 5ecret&0123456789";
    const std::string verifier = "vrf-RECOGNISABLE-5ecret-0123456789-abcdefghijklmn";
    const std::string assertion = genesys::base64_encode("<saml:Assertion>RECOGNISABLE-5ecret</saml:Assertion>");
    const std::string basic = genesys::base64_encode("client-1:" + client_secret);
    const std::string source_token = "tkn-RECOGNISABLE-source-0123456789";
    std::vector<std::string> secrets{client_secret, refresh, code, verifier, assertion, basic, source_token};
    for (std::size_t i = 0, n = secrets.size(); i < n; ++i)
        if (auto encoded = genesys::detail::percent_encode(secrets[i]); encoded != secrets[i])
            secrets.push_back(encoded);

    collector out;
    fake_transport login_fake;
    echoing_login echo{login_fake};
    genesys::oauth_client login{echo, {.login_url = "https://login.mypurecloud.com", .client_id = "client-1",
                                       .client_secret = client_secret}};
    auto every_grant = [&] {
        out.add(login.try_client_credentials());
        out.add(login.try_refresh_token(refresh));
        out.add(login.try_authorization_code(code, "https://app.example.com/cb", verifier));
        out.add(login.try_saml2_bearer("Acme", assertion));
    };
    for (int status : {400, 401, 403, 429, 500, 503}) {
        for (int i = 0; i < 4; ++i)
            login_fake.respond(status, "json");
        every_grant();
        for (int i = 0; i < 4; ++i)
            login_fake.respond(status, "plain text ");
        every_grant();
    }
    for (int i = 0; i < 4; ++i)
        login_fake.respond(200, R"({"token_type":"bearer"} )"); // no access_token, and the echo after it
    every_grant();
    for (int i = 0; i < 4; ++i)
        login_fake.fail(boost::system::errc::make_error_code(boost::system::errc::timed_out));
    every_grant();
    login.transport().throw_it = true; // a transport whose exception quotes the request
    every_grant();
    login.transport().throw_it = false;
    out.add(login.try_authorization_code(code, "", verifier));        // rejected before sending
    out.add(login.try_authorization_code(code, "https://a/cb", "short")); // rejected before sending

    // A token source: its token echoed by the API, a refresh failing at the login host, logged calls.
    fake_transport api_fake, source_login;
    source_login.respond(200, R"({"access_token":")" + source_token + R"(","token_type":"bearer","expires_in":3600})");
    echoing_login source_echo{source_login};
    auto source = genesys::make_client_credentials_source(
        genesys::oauth_client{source_echo, {.login_url = "https://login.mypurecloud.com", .client_id = "client-1",
                                            .client_secret = client_secret}});
    std::vector<std::string> log_lines;
    genesys::client_config cfg{.token_source = source};
    cfg.logger = [&](const genesys::log_event& e) {
        log_lines.push_back(genesys::to_string(e));
        for (const auto& h : e.request_headers)
            log_lines.push_back(h.name + ": " + h.value);
    };
    genesys::tokens_api api{echo_transport{api_fake}, cfg};
    for (int status : {400, 403, 404, 429, 500, 503}) {
        api_fake.respond(status, R"({"message":"token )" + source_token + R"( rejected","code":"x","status":400})");
        out.add(api.try_get_tokens_me());
    }
    api_fake.respond(200, R"({"organization":")" + source_token + R"("})");
    out.add(api.try_get_tokens_me()); // decode failure
    api.transport().throw_with_token = true;
    out.add(api.try_verify_token());
    api.transport().throw_with_token = false;
    source_login.respond(401, "json"); // the refresh after the 401 fails, echoing the secret
    api_fake.respond(401, "token " + source_token + " rejected ");
    out.add(api.try_delete_token("u-1"));
    source_login.respond(200, "json"); // no access_token
    out.add(api.try_delete_token("u-1"));

    REQUIRE(out.texts.size() > 300);
    REQUIRE(log_lines.size() > 20);
    CHECK(login_fake.request_count() == 4 * 14);
    for (const auto& text : out.texts)
        for (const auto& s : secrets) {
            CAPTURE(text);
            CAPTURE(s);
            CHECK(text.find(s) == std::string::npos);
        }
    for (const auto& line : log_lines)
        for (const auto& s : secrets) {
            CAPTURE(line);
            CHECK(line.find(s) == std::string::npos);
        }
}

TEST_CASE("log events show request headers by allow-list: a secret in default_headers never reaches the logger")
{
    fake_transport fake;
    const std::string api_key = "apikey-RECOGNISABLE-5ecret-42";
    std::vector<genesys::http_headers> seen;
    std::vector<std::string> lines;
    genesys::client_config cfg{.access_token = token,
                               .default_headers = {{"X-Api-Key", api_key}, {"X-Trace", "t-1"}}};
    cfg.logger = [&](const genesys::log_event& e) {
        seen.push_back(e.request_headers);
        lines.push_back(genesys::to_string(e));
    };

    SUBCASE("by default only the standard headers keep their values")
    {
        fake.respond(200);
        genesys::tokens_api api{fake, cfg};
        REQUIRE(api.try_head_tokens_me().has_value());
        REQUIRE(seen.size() == 1);
        const auto& h = seen[0];
        CHECK(h.get("X-Api-Key") == "[REDACTED]");
        CHECK(h.get("X-Trace") == "[REDACTED]");
        CHECK(h.get("Authorization") == "[REDACTED]");
        CHECK(h.get("Accept") == "application/json");
        CHECK(h.get("User-Agent") == cfg.user_agent);
        CHECK(h.size() == fake.last_request()->headers.size()); // every header is listed, values hidden
        CHECK(fake.last_request()->headers.get("X-Api-Key") == api_key); // and sent as configured
    }
    SUBCASE("logged_headers adds names, in any case; Authorization is never shown")
    {
        cfg.logged_headers = {"x-TRACE", "authorization"};
        fake.respond(503).respond(200);
        auto policy = genesys::retry_policy::standard(2);
        policy.sleep = [](std::chrono::milliseconds) {};
        cfg.retry = policy;
        genesys::tokens_api api{fake, cfg};
        REQUIRE(api.try_get_tokens_timeout().has_error()); // 200 without a body: a decode error
        REQUIRE(seen.size() == 2);
        for (const auto& h : seen) {
            CHECK(h.get("X-Trace") == "t-1");
            CHECK(h.get("X-Api-Key") == "[REDACTED]");
            CHECK(h.get("Authorization") == "[REDACTED]");
        }
    }
    for (const auto& line : lines)
        CHECK(line.find(api_key) == std::string::npos);
}
