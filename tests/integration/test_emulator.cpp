// SPDX-License-Identifier: BSL-1.0
// Tests of the Tokens API emulator (tools/emulator), driven in-process: the library's own
// tokens_api and oauth_client talk to genesys_emulator::service through a transport that hands
// each request straight to service::handle. Control endpoints (/__emulator/...) are called
// directly. Expected behaviour follows /work/shared/reference/platform-facts.md.

#include "emulator.hpp"

#include <genesys/genesys.hpp>

#include <doctest/doctest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

namespace emu = genesys_emulator;
using genesys::http_method;

constexpr std::string_view base = "http://localhost:8080"; // loopback: plain http is allowed

/// The request target (path and query) of an absolute URL.
std::string target_of(std::string_view url)
{
    auto scheme = url.find("://");
    if (scheme == std::string_view::npos)
        return std::string(url);
    auto slash = url.find('/', scheme + 3);
    return slash == std::string_view::npos ? std::string("/") : std::string(url.substr(slash));
}

/// What the in-process transport saw last; shared by copies of the transport.
struct transport_log {
    std::string last_target;
    emu::fault_mode last_fault = emu::fault_mode::none;
    int last_delay_ms = 0;
    int sent = 0;
};

/// Hands each request to the emulator in-process and records the reply's transport fault.
struct in_process_transport {
    emu::service* svc;
    std::shared_ptr<transport_log> log;

    explicit in_process_transport(emu::service& s) : svc(&s), log(std::make_shared<transport_log>()) {}

    genesys::http_response send(const genesys::http_request& r)
    {
        genesys::http_request inner = r;
        inner.url = target_of(r.url);
        emu::reply rep = svc->handle(inner);
        log->last_target = inner.url;
        log->last_fault = rep.transport_fault;
        log->last_delay_ms = rep.delay_ms;
        ++log->sent;
        return std::move(rep.response);
    }
};
static_assert(genesys::transport<in_process_transport>);

using api_t = genesys::tokens_api<in_process_transport>;
using oauth_t = genesys::oauth_client<in_process_transport>;

api_t make_api(emu::service& svc, std::string_view token, genesys::http_headers extra = {})
{
    genesys::client_config cfg;
    cfg.base_url = std::string(base);
    cfg.access_token = std::string(token);
    cfg.default_headers = std::move(extra);
    return api_t{in_process_transport{svc}, std::move(cfg)};
}

oauth_t make_oauth(emu::service& svc, std::string_view id, std::string_view secret)
{
    genesys::oauth_config cfg;
    cfg.login_url = std::string(base);
    cfg.client_id = std::string(id);
    cfg.client_secret = std::string(secret);
    return oauth_t{in_process_transport{svc}, std::move(cfg)};
}

emu::reply raw(emu::service& svc, http_method m, std::string target, genesys::http_headers headers = {},
               std::string body = {})
{
    return svc.handle(genesys::http_request{m, std::move(target), std::move(headers), std::move(body)});
}

emu::reply control(emu::service& svc, http_method m, std::string path, std::string body = {})
{
    return raw(svc, m, std::move(path), {{"Content-Type", "application/json"}}, std::move(body));
}

boost::json::object json_object(const std::string& body)
{
    boost::system::error_code ec;
    auto jv = boost::json::parse(body, ec);
    REQUIRE_MESSAGE(!ec, "not JSON: " << body);
    REQUIRE_MESSAGE(jv.is_object(), "not a JSON object: " << body);
    return jv.as_object();
}

std::string header(const genesys::http_headers& h, std::string_view name)
{
    auto v = h.get(name);
    return v ? std::string(*v) : std::string("<absent>");
}

std::int64_t to_int(const std::string& s)
{
    REQUIRE_MESSAGE(!s.empty(), "empty number");
    REQUIRE_MESSAGE(std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }),
                    "not delta-seconds: " << s);
    return std::stoll(s);
}

void advance(emu::service& svc, std::int64_t seconds)
{
    auto r = control(svc, http_method::post, "/__emulator/clock",
                     R"({"advanceSeconds":)" + std::to_string(seconds) + "}");
    REQUIRE(r.response.status == 200);
}

genesys::date_time emulator_now(emu::service& svc)
{
    auto r = control(svc, http_method::post, "/__emulator/clock", R"({"advanceSeconds":0})");
    REQUIRE(r.response.status == 200);
    auto o = json_object(r.response.body);
    REQUIRE(o.contains("now"));
    auto t = genesys::parse_date_time(o.at("now").as_string());
    REQUIRE(t);
    return *t;
}

std::string issue_token(emu::service& svc, std::string_view user, std::string_view client)
{
    boost::json::object req{{"client", client}};
    if (!user.empty())
        req["user"] = user;
    auto r = control(svc, http_method::post, "/__emulator/tokens", boost::json::serialize(req));
    REQUIRE(r.response.status == 200);
    auto o = json_object(r.response.body);
    REQUIRE(o.contains("access_token"));
    return std::string(o.at("access_token").as_string());
}

boost::json::object stats(emu::service& svc)
{
    auto r = control(svc, http_method::get, "/__emulator/stats");
    REQUIRE(r.response.status == 200);
    return json_object(r.response.body);
}

std::int64_t stat(emu::service& svc, std::string_view key)
{
    auto o = stats(svc);
    REQUIRE(o.contains(key));
    return o.at(key).to_number<std::int64_t>();
}

void schedule_fault(emu::service& svc, std::string body)
{
    auto r = control(svc, http_method::post, "/__emulator/faults", std::move(body));
    REQUIRE(r.response.status == 204);
}

std::int64_t seconds_between(genesys::date_time from, genesys::date_time to)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count();
}

bool looks_like_uuid(std::string_view s)
{
    if (s.size() != 36)
        return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash != (s[i] == '-'))
            return false;
        if (!dash && !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    }
    return true;
}

/// The error of a failed call.
template <class T>
genesys::error failure_of(const genesys::result<T>& r)
{
    REQUIRE_MESSAGE(!r.has_value(), "the call succeeded but was expected to fail");
    return r.error();
}

/// An api error with the platform's ErrorBody: status, code, contextId == ININ-Correlation-Id.
void check_api_error(const genesys::error& e, int status, std::string_view code)
{
    INFO("error: " << e.message << " body: " << e.raw_body);
    CHECK(e.kind == genesys::error_kind::api);
    CHECK(e.status == status);
    REQUIRE(e.body.has_value());
    CHECK(e.body->code.value_or("<none>") == std::string(code));
    CHECK(e.body->status.value_or(-1) == status);
    CHECK(e.body->message.has_value());
    CHECK(looks_like_uuid(e.correlation_id));
    CHECK(e.body->context_id.value_or("<none>") == e.correlation_id);
    CHECK(header(e.headers, "ININ-Correlation-Id") == e.correlation_id);
}

/// A raw emulator reply carrying the platform's ErrorBody.
void check_error_reply(const genesys::http_response& res, int status, std::string_view code)
{
    INFO("body: " << res.body);
    CHECK(res.status == status);
    CHECK(header(res.headers, "Content-Type").starts_with("application/json"));
    auto o = json_object(res.body);
    REQUIRE(o.contains("code"));
    CHECK(std::string(o.at("code").as_string()) == std::string(code));
    REQUIRE(o.contains("status"));
    CHECK(o.at("status").to_number<int>() == status);
    CHECK(o.contains("message"));
    REQUIRE(o.contains("contextId"));
    CHECK(std::string(o.at("contextId").as_string()) == header(res.headers, "ININ-Correlation-Id"));
}

/// The OAuth error body: {"error", "description", "error_description"}.
void check_oauth_error_reply(const genesys::http_response& res, int status, std::string_view error)
{
    INFO("body: " << res.body);
    CHECK(res.status == status);
    CHECK(header(res.headers, "Content-Type").starts_with("application/json"));
    auto o = json_object(res.body);
    CHECK(o.size() == 3);
    REQUIRE(o.contains("error"));
    CHECK(std::string(o.at("error").as_string()) == std::string(error));
    REQUIRE(o.contains("description"));
    REQUIRE(o.contains("error_description"));
    CHECK(o.at("description").is_string());
    CHECK(o.at("description") == o.at("error_description"));
    CHECK(looks_like_uuid(header(res.headers, "ININ-Correlation-Id")));
}

std::vector<std::string> sorted(std::vector<std::string> v)
{
    std::sort(v.begin(), v.end());
    return v;
}

std::string basic(std::string_view id, std::string_view secret)
{
    return "Basic " + genesys::detail::base64_encode(std::string(id) + ":" + std::string(secret));
}

genesys::http_headers bearer(std::string_view token)
{
    return {{"Authorization", "Bearer " + std::string(token)}};
}

/// A seed of its own: a second organization with the idle timeout off, a user whose id needs
/// percent-encoding, a client-credentials client and an authorization-code client with a secret.
constexpr std::string_view custom_seed = R"({
  "organizations": [
    {"id": "org-globex", "name": "Globex Corporation",
     "idleTokenTimeout": {"idleTokenTimeoutSeconds": 600, "enableIdleTokenTimeout": false}}
  ],
  "users": [
    {"id": "u-boss", "name": "Hank Scorpio", "organization": "org-globex",
     "permissions": ["oauth:token:delete"]},
    {"id": "team/lead 01?#%", "name": "Odd Id", "organization": "org-globex", "permissions": []}
  ],
  "clients": [
    {"id": "globex-app", "secret": "globex-secret", "name": "Globex Backend",
     "organization": "org-globex", "authorizedGrantType": "CLIENT-CREDENTIALS",
     "scope": ["oauth"], "permissions": ["directory:organization:admin"]},
    {"id": "globex-web", "secret": "web-secret", "name": "Globex Web",
     "organization": "org-globex", "authorizedGrantType": "CODE", "scope": ["users"]}
  ],
  "tokens": [
    {"token": "globex-boss-token", "user": "u-boss", "client": "globex-web"},
    {"token": "globex-odd-token", "user": "team/lead 01?#%", "client": "globex-web"}
  ]
})";

emu::options custom_options()
{
    emu::options o;
    o.seed_json = std::string(custom_seed);
    return o;
}

} // namespace

// ---------------------------------------------------------------------------------------------
// getTokensMe and the headers of every response
// ---------------------------------------------------------------------------------------------

TEST_CASE("emulator: getTokensMe describes a seed user's token")
{
    emu::service svc;
    auto api = make_api(svc, emu::seed::admin_token);
    const auto before = emulator_now(svc);

    auto r = api.try_get_tokens_me();
    REQUIRE(r.has_value());
    CHECK(r->status == 200);
    CHECK(api.transport().log->last_target == "/api/v2/tokens/me");
    const genesys::token_info& info = r->data;

    REQUIRE(info.organization);
    CHECK(info.organization->id.value_or("") == emu::seed::org_id);
    CHECK(info.organization->name.value_or("") == emu::seed::org_name);
    REQUIRE(info.home_organization);
    CHECK(*info.home_organization == *info.organization);
    CHECK_FALSE(info.cloned_user);

    // The seed token was issued to client-desktop, scope ["users", "oauth"] (order is not meaningful).
    REQUIRE(info.authorized_scope);
    CHECK(sorted(*info.authorized_scope) == std::vector<std::string>{"oauth", "users"});

    REQUIRE(info.oauth_client);
    const auto& oc = *info.oauth_client;
    CHECK(oc.id.value_or("") == "client-desktop");
    CHECK(oc.name == "Agent Desktop");
    CHECK(oc.authorized_grant_type == "CODE");
    CHECK(oc.state.value_or("") == "active");
    REQUIRE(oc.scope);
    CHECK(sorted(*oc.scope) == std::vector<std::string>{"oauth", "users"});
    REQUIRE(oc.organization);
    CHECK(oc.organization->id.value_or("") == emu::seed::org_id);
    CHECK(oc.organization->name.value_or("") == emu::seed::org_name);
    CHECK(oc.date_created.has_value());

    // The seed org has the idle timeout enabled at 900 s, and this call reset the idle timer.
    REQUIRE(info.date_token_idles);
    const auto ms = seconds_between(before, *info.date_token_idles);
    CHECK(ms >= 899'000);
    CHECK(ms <= 901'000);

    // Headers of an authenticated response.
    CHECK(looks_like_uuid(std::string(r->correlation_id())));
    CHECK(header(r->headers, "inin-ratelimit-count") == "1");
    CHECK(header(r->headers, "inin-ratelimit-allowed") == "300");
    const auto reset = to_int(header(r->headers, "inin-ratelimit-reset"));
    CHECK(reset >= 1);
    CHECK(reset <= 60);

    auto again = api.try_get_tokens_me();
    REQUIRE(again.has_value());
    CHECK(header(again->headers, "inin-ratelimit-count") == "2");
    CHECK(again->correlation_id() != r->correlation_id());
}

TEST_CASE("emulator: the agent token is its own user's token in the same organization")
{
    emu::service svc;
    auto admin = make_api(svc, emu::seed::admin_token);
    auto agent = make_api(svc, emu::seed::agent_token);
    CHECK(agent.verify_token());
    auto info = agent.get_tokens_me();
    REQUIRE(info.organization);
    CHECK(info.organization->id.value_or("") == emu::seed::org_id);
    // Revoking the admin's tokens leaves the agent's alone (the tokens are distinct).
    admin.delete_token(emu::seed::admin_user_id);
    CHECK_FALSE(admin.verify_token());
    CHECK(agent.verify_token());
}

TEST_CASE("emulator: every response carries a fresh ININ-Correlation-Id, equal to contextId on errors")
{
    emu::service svc;
    auto api = make_api(svc, emu::seed::admin_token);
    auto unknown = make_api(svc, "no-such-token");
    std::set<std::string> seen;
    auto note = [&](std::string id) {
        CHECK(looks_like_uuid(id));
        CHECK_MESSAGE(seen.insert(id).second, "correlation id repeated: " << id);
    };

    auto ok = api.try_get_tokens_me();
    REQUIRE(ok.has_value());
    note(std::string(ok->correlation_id()));
    auto head = api.try_head_tokens_me();
    REQUIRE(head.has_value());
    note(std::string(head->correlation_id()));
    auto timeout = api.try_get_tokens_timeout();
    REQUIRE(timeout.has_value());
    note(std::string(timeout->correlation_id()));

    auto e401 = failure_of(unknown.try_get_tokens_me());
    check_api_error(e401, 401, "bad.credentials");
    note(e401.correlation_id);

    auto e404 = failure_of(api.try_delete_token("no-such-user"));
    check_api_error(e404, 404, "not.found");
    note(e404.correlation_id);

    auto not_found = raw(svc, http_method::get, "/api/v2/nothing/here", bearer(emu::seed::admin_token));
    check_error_reply(not_found.response, 404, "not.found");
    note(header(not_found.response.headers, "ININ-Correlation-Id"));

    auto ctl = control(svc, http_method::get, "/__emulator/stats");
    note(header(ctl.response.headers, "ININ-Correlation-Id"));

    auto token = make_oauth(svc, emu::seed::service_client_id, emu::seed::service_client_secret).try_client_credentials();
    REQUIRE(token.has_value());
    note(std::string(token->correlation_id()));

    CHECK(seen.size() == 8);
}

TEST_CASE("emulator: missing or unknown credentials are 401")
{
    emu::service svc;

    SUBCASE("no Authorization header: authentication.required, with the rate-limit headers")
    {
        auto r = raw(svc, http_method::get, "/api/v2/tokens/me", {{"Accept", "application/json"}});
        check_error_reply(r.response, 401, "authentication.required");
        CHECK(r.response.headers.contains("inin-ratelimit-count"));
    }
    SUBCASE("a Basic Authorization header is not a bearer token")
    {
        auto r = raw(svc, http_method::get, "/api/v2/tokens/me",
                     {{"Authorization", basic(emu::seed::service_client_id, emu::seed::service_client_secret)}});
        check_error_reply(r.response, 401, "authentication.required");
    }
    SUBCASE("the bearer scheme is case-insensitive")
    {
        auto r = raw(svc, http_method::get, "/api/v2/tokens/me",
                     {{"Authorization", "bearer " + std::string(emu::seed::admin_token)}});
        CHECK(r.response.status == 200);
    }
    SUBCASE("an unknown token: bad.credentials on every operation; verify_token is false")
    {
        auto api = make_api(svc, "no-such-token");
        CHECK_FALSE(api.verify_token());
        auto e = failure_of(api.try_get_tokens_me());
        check_api_error(e, 401, "bad.credentials");
        CHECK(e.body->message.value_or("") == "Invalid login credentials.");
        CHECK(e.headers.contains("inin-ratelimit-count"));
        check_api_error(failure_of(api.try_get_tokens_timeout()), 401, "bad.credentials");
        check_api_error(failure_of(api.try_delete_tokens_me()), 401, "bad.credentials");
        check_api_error(failure_of(api.try_delete_token(emu::seed::agent_user_id)), 401, "bad.credentials");
        genesys::idle_token_timeout t;
        t.enable_idle_token_timeout = false;
        check_api_error(failure_of(api.try_put_tokens_timeout(t)), 401, "bad.credentials");
        // Nothing was changed by the rejected calls.
        CHECK(make_api(svc, emu::seed::agent_token).verify_token());
        CHECK(make_api(svc, emu::seed::admin_token).get_tokens_timeout().enable_idle_token_timeout == true);
    }
}

// ---------------------------------------------------------------------------------------------
// Idle timeout and preserveIdleTTL
// ---------------------------------------------------------------------------------------------

TEST_CASE("emulator: preserveIdleTTL=true keeps dateTokenIdles, unset or false moves it")
{
    emu::service svc;
    auto api = make_api(svc, emu::seed::admin_token);
    const auto first = api.get_tokens_me();
    REQUIRE(first.date_token_idles);

    advance(svc, 60);
    const auto kept = api.get_tokens_me(true);
    CHECK(api.transport().log->last_target == "/api/v2/tokens/me?preserveIdleTTL=true");
    REQUIRE(kept.date_token_idles);
    CHECK(*kept.date_token_idles == *first.date_token_idles);

    const auto moved_false = api.get_tokens_me(false);
    CHECK(api.transport().log->last_target == "/api/v2/tokens/me?preserveIdleTTL=false");
    REQUIRE(moved_false.date_token_idles);
    const auto d1 = seconds_between(*first.date_token_idles, *moved_false.date_token_idles);
    CHECK(d1 >= 60'000);
    CHECK(d1 <= 61'000);

    advance(svc, 120);
    const auto moved_unset = api.get_tokens_me();
    CHECK(api.transport().log->last_target == "/api/v2/tokens/me");
    REQUIRE(moved_unset.date_token_idles);
    const auto d2 = seconds_between(*moved_false.date_token_idles, *moved_unset.date_token_idles);
    CHECK(d2 >= 120'000);
    CHECK(d2 <= 121'000);

    // And the new value is what a preserving call reports afterwards.
    advance(svc, 30);
    CHECK(api.get_tokens_me(true).date_token_idles == moved_unset.date_token_idles);
}

TEST_CASE("emulator: a token idles out after the organization's idle timeout")
{
    emu::service svc;
    auto admin = make_api(svc, emu::seed::admin_token);
    auto agent = make_api(svc, emu::seed::agent_token);
    const auto info = admin.get_tokens_me();
    REQUIRE(info.date_token_idles);

    SUBCASE("preserving calls do not keep it alive")
    {
        advance(svc, 890);
        auto still = admin.get_tokens_me(true);
        CHECK(still.date_token_idles == info.date_token_idles);
        advance(svc, 20); // 910 s after the last resetting call
        CHECK_FALSE(admin.verify_token());
        check_api_error(failure_of(admin.try_get_tokens_me()), 401, "bad.credentials");
        check_api_error(failure_of(admin.try_get_tokens_me(true)), 401, "bad.credentials");
        check_api_error(failure_of(admin.try_get_tokens_timeout()), 401, "bad.credentials");
        // The agent's seed token was never used: it idled out too.
        CHECK_FALSE(agent.verify_token());
    }
    SUBCASE("any resetting call keeps it alive")
    {
        advance(svc, 800);
        CHECK(admin.get_tokens_timeout().idle_token_timeout_seconds == 900);
        advance(svc, 800);
        CHECK(admin.verify_token()); // 1600 s since issue, 800 s since the last call
        advance(svc, 800);
        CHECK(admin.get_tokens_me().organization.has_value());
        advance(svc, 899);
        CHECK(admin.get_tokens_me(true).organization.has_value());
        CHECK_FALSE(agent.verify_token()); // unused for 3299 s
    }
}

TEST_CASE("emulator: with the idle timeout disabled tokens do not idle, but still expire")
{
    emu::service svc;
    auto admin = make_api(svc, emu::seed::admin_token);
    auto agent = make_api(svc, emu::seed::agent_token);

    genesys::idle_token_timeout off;
    off.enable_idle_token_timeout = false;
    const auto stored = admin.put_tokens_timeout(off);
    CHECK(stored.enable_idle_token_timeout == false);
    CHECK(stored.idle_token_timeout_seconds == 900);

    advance(svc, 5000);
    const auto info = admin.get_tokens_me();
    CHECK_FALSE(info.date_token_idles.has_value());
    CHECK(info.organization.has_value());
    CHECK(agent.verify_token());

    // Access tokens live 86399 s from issue.
    advance(svc, 86399 - 5000 - 10);
    CHECK(admin.verify_token());
    advance(svc, 20);
    CHECK_FALSE(admin.verify_token());
    check_api_error(failure_of(agent.try_get_tokens_me()), 401, "bad.credentials");
}

// ---------------------------------------------------------------------------------------------
// Revoking tokens
// ---------------------------------------------------------------------------------------------

TEST_CASE("emulator: deleteTokensMe revokes only the token used")
{
    emu::service svc;
    auto admin = make_api(svc, emu::seed::admin_token);
    auto second_admin = make_api(svc, issue_token(svc, emu::seed::admin_user_id, "client-desktop"));
    auto agent = make_api(svc, emu::seed::agent_token);
    CHECK(stat(svc, "liveTokens") == 3);

    auto r = admin.try_delete_tokens_me();
    REQUIRE(r.has_value());
    CHECK(r->status == 200);
    CHECK(looks_like_uuid(std::string(r->correlation_id())));

    CHECK_FALSE(admin.verify_token());
    check_api_error(failure_of(admin.try_get_tokens_me()), 401, "bad.credentials");
    check_api_error(failure_of(admin.try_delete_tokens_me()), 401, "bad.credentials");
    CHECK(second_admin.verify_token());
    CHECK(agent.verify_token());
    CHECK(stat(svc, "liveTokens") == 2);
}

TEST_CASE("emulator: deleteToken revokes every token of that user")
{
    emu::service svc;
    auto admin = make_api(svc, emu::seed::admin_token);
    auto agent = make_api(svc, emu::seed::agent_token);
    auto agent2 = make_api(svc, issue_token(svc, emu::seed::agent_user_id, "client-desktop"));
    auto service_token = make_oauth(svc, emu::seed::service_client_id, emu::seed::service_client_secret)
                             .client_credentials()
                             .access_token;
    auto service_api = make_api(svc, service_token);
    CHECK(agent.verify_token());
    CHECK(agent2.verify_token());

    auto r = admin.try_delete_token(emu::seed::agent_user_id);
    REQUIRE(r.has_value());
    CHECK(r->status == 204);
    CHECK(admin.transport().log->last_target == "/api/v2/tokens/" + std::string(emu::seed::agent_user_id));

    CHECK_FALSE(agent.verify_token());
    CHECK_FALSE(agent2.verify_token());
    check_api_error(failure_of(agent2.try_get_tokens_me()), 401, "bad.credentials");
    CHECK(admin.verify_token());
    CHECK(service_api.verify_token());
}

TEST_CASE("emulator: deleteToken with a client-credentials token that holds oauth:token:delete")
{
    emu::service svc;
    auto service_token = make_oauth(svc, emu::seed::service_client_id, emu::seed::service_client_secret)
                             .client_credentials()
                             .access_token;
    auto service_api = make_api(svc, service_token);
    service_api.delete_token(emu::seed::admin_user_id);
    CHECK_FALSE(make_api(svc, emu::seed::admin_token).verify_token());
    CHECK(make_api(svc, emu::seed::agent_token).verify_token());
    CHECK(service_api.verify_token());
}

TEST_CASE("emulator: deleteToken needs oauth:token:delete")
{
    emu::service svc;
    auto agent = make_api(svc, emu::seed::agent_token);
    auto admin = make_api(svc, emu::seed::admin_token);

    auto e = failure_of(agent.try_delete_token(emu::seed::admin_user_id));
    check_api_error(e, 403, "missing.any.permissions");
    CHECK(e.body->message.value_or("").find("oauth:token:delete") != std::string::npos);
    CHECK(header(e.headers, "inin-ratelimit-allowed") == "300");
    CHECK(admin.verify_token());
    CHECK(agent.verify_token());

    // A client-credentials token without the permission is refused the same way.
    auto readonly = make_api(svc, make_oauth(svc, emu::seed::readonly_client_id, emu::seed::readonly_client_secret)
                                      .client_credentials()
                                      .access_token);
    check_api_error(failure_of(readonly.try_delete_token(emu::seed::agent_user_id)), 403, "missing.any.permissions");
    CHECK(agent.verify_token());

    // The throwing form throws api_error.
    CHECK_THROWS_AS(agent.delete_token(emu::seed::admin_user_id), genesys::api_error);
}

TEST_CASE("emulator: deleteToken of an unknown user is 404 and revokes nothing")
{
    emu::service svc;
    auto admin = make_api(svc, emu::seed::admin_token);
    const auto live = stat(svc, "liveTokens");
    auto e = failure_of(admin.try_delete_token("00000000-0000-4000-8000-000000000000"));
    check_api_error(e, 404, "not.found");
    CHECK(stat(svc, "liveTokens") == live);
    CHECK(admin.verify_token());
}

TEST_CASE("emulator: deleteToken decodes percent-encoded user ids")
{
    SUBCASE("an id that needs encoding, sent by the library")
    {
        emu::service svc(custom_options());
        auto boss = make_api(svc, "globex-boss-token");
        auto odd = make_api(svc, "globex-odd-token");
        CHECK(odd.verify_token());
        auto r = boss.try_delete_token("team/lead 01?#%");
        REQUIRE(r.has_value());
        CHECK(r->status == 204);
        CHECK(boss.transport().log->last_target == "/api/v2/tokens/team%2Flead%2001%3F%23%25");
        CHECK_FALSE(odd.verify_token());
        CHECK(boss.verify_token());
    }
    SUBCASE("an unreserved character sent percent-encoded")
    {
        emu::service svc;
        std::string id(emu::seed::agent_user_id);
        REQUIRE(id.front() == '0');
        auto r = raw(svc, http_method::delete_, "/api/v2/tokens/%30" + id.substr(1), bearer(emu::seed::admin_token));
        CHECK(r.response.status == 204);
        CHECK_FALSE(make_api(svc, emu::seed::agent_token).verify_token());
    }
}

// ---------------------------------------------------------------------------------------------
// Idle-token timeout settings
// ---------------------------------------------------------------------------------------------

TEST_CASE("emulator: getTokensTimeout returns the organization's settings to any token")
{
    emu::service svc;
    auto r = make_api(svc, emu::seed::agent_token).try_get_tokens_timeout();
    REQUIRE(r.has_value());
    CHECK(r->status == 200);
    CHECK(r->data.idle_token_timeout_seconds == 900);
    CHECK(r->data.enable_idle_token_timeout == true);
    CHECK(header(r->headers, "inin-ratelimit-count") == "1");
}

TEST_CASE("emulator: putTokensTimeout needs directory:organization:admin")
{
    emu::service svc;
    genesys::idle_token_timeout wanted;
    wanted.idle_token_timeout_seconds = 3600;

    auto agent = make_api(svc, emu::seed::agent_token);
    auto e = failure_of(agent.try_put_tokens_timeout(wanted));
    check_api_error(e, 403, "missing.any.permissions");
    CHECK(e.body->message.value_or("").find("directory:organization:admin") != std::string::npos);

    auto readonly = make_api(svc, make_oauth(svc, emu::seed::readonly_client_id, emu::seed::readonly_client_secret)
                                      .client_credentials()
                                      .access_token);
    check_api_error(failure_of(readonly.try_put_tokens_timeout(wanted)), 403, "missing.any.permissions");

    CHECK(agent.get_tokens_timeout().idle_token_timeout_seconds == 900);

    // The service client holds the permission.
    auto service_api = make_api(svc, make_oauth(svc, emu::seed::service_client_id, emu::seed::service_client_secret)
                                         .client_credentials()
                                         .access_token);
    CHECK(service_api.put_tokens_timeout(wanted).idle_token_timeout_seconds == 3600);
    CHECK(agent.get_tokens_timeout().idle_token_timeout_seconds == 3600);
}

TEST_CASE("emulator: putTokensTimeout with a non-JSON Content-Type is 415")
{
    emu::service svc;
    const std::string body = R"({"idleTokenTimeoutSeconds":3600})";

    SUBCASE("text/plain")
    {
        auto h = bearer(emu::seed::admin_token);
        h.add("Content-Type", "text/plain");
        auto r = raw(svc, http_method::put, "/api/v2/tokens/timeout", h, body);
        check_error_reply(r.response, 415, "unsupported.media.type");
    }
    SUBCASE("form-encoded")
    {
        auto h = bearer(emu::seed::admin_token);
        h.add("Content-Type", "application/x-www-form-urlencoded");
        auto r = raw(svc, http_method::put, "/api/v2/tokens/timeout", h, body);
        check_error_reply(r.response, 415, "unsupported.media.type");
    }
    SUBCASE("no Content-Type at all")
    {
        auto r = raw(svc, http_method::put, "/api/v2/tokens/timeout", bearer(emu::seed::admin_token), body);
        check_error_reply(r.response, 415, "unsupported.media.type");
    }
    CHECK(make_api(svc, emu::seed::admin_token).get_tokens_timeout().idle_token_timeout_seconds == 900);
}

TEST_CASE("emulator: putTokensTimeout accepts a JSON Content-Type with parameters")
{
    emu::service svc;
    auto h = bearer(emu::seed::admin_token);
    h.add("Content-Type", "application/json; charset=utf-8");
    auto r = raw(svc, http_method::put, "/api/v2/tokens/timeout", h, R"({"idleTokenTimeoutSeconds":1200})");
    CHECK(r.response.status == 200);
    CHECK(make_api(svc, emu::seed::admin_token).get_tokens_timeout().idle_token_timeout_seconds == 1200);
}

TEST_CASE("emulator: media types are matched case-insensitively (RFC 9110 8.3.1)")
{
    emu::service svc;
    auto h = bearer(emu::seed::admin_token);
    h.add("Content-Type", "Application/JSON");
    auto r = raw(svc, http_method::put, "/api/v2/tokens/timeout", h, R"({"idleTokenTimeoutSeconds":1200})");
    CHECK_MESSAGE(r.response.status == 200, "PUT with Content-Type Application/JSON: " << r.response.body);

    auto o = raw(svc, http_method::post, "/oauth/token",
                 {{"Authorization", basic(emu::seed::service_client_id, emu::seed::service_client_secret)},
                  {"Content-Type", "Application/X-WWW-Form-Urlencoded"}},
                 "grant_type=client_credentials");
    CHECK_MESSAGE(o.response.status == 200,
                  "POST /oauth/token with Content-Type Application/X-WWW-Form-Urlencoded: " << o.response.body);
}

TEST_CASE("emulator: putTokensTimeout with a malformed body is 400 bad.request")
{
    emu::service svc;
    auto h = bearer(emu::seed::admin_token);
    h.add("Content-Type", "application/json");
    for (std::string body : {std::string("{not json"), std::string(R"({"idleTokenTimeoutSeconds":"an hour"})"),
                             std::string(R"({"enableIdleTokenTimeout":"yes"})"), std::string("[900]"),
                             std::string("")}) {
        INFO("body: " << body);
        auto r = raw(svc, http_method::put, "/api/v2/tokens/timeout", h, body);
        check_error_reply(r.response, 400, "bad.request");
        CHECK(r.response.headers.contains("inin-ratelimit-count"));
    }
    const auto t = make_api(svc, emu::seed::admin_token).get_tokens_timeout();
    CHECK(t.idle_token_timeout_seconds == 900);
    CHECK(t.enable_idle_token_timeout == true);
}

TEST_CASE("emulator: putTokensTimeout rejects out-of-range seconds with 400 invalid.value")
{
    emu::service svc;
    auto admin = make_api(svc, emu::seed::admin_token);
    // Below the minimum the client refuses to send; the emulator refuses what another client sends.
    auto h = bearer(emu::seed::admin_token);
    h.add("Content-Type", "application/json");
    for (std::string bad : {"0", "-1", "299", "28801", "172800"}) {
        INFO("seconds: " << bad);
        auto r = raw(svc, http_method::put, "/api/v2/tokens/timeout", h,
                     R"({"enableIdleTokenTimeout":false,"idleTokenTimeoutSeconds":)" + bad + "}");
        check_error_reply(r.response, 400, "invalid.value");
    }
    genesys::idle_token_timeout over;
    over.idle_token_timeout_seconds = 28801; // 8 hours and a second: the platform's maximum is 8 hours
    over.enable_idle_token_timeout = false;
    check_api_error(failure_of(admin.try_put_tokens_timeout(over)), 400, "invalid.value");
    // Nothing of a rejected PUT is stored, not even its valid fields.
    auto now = admin.get_tokens_timeout();
    CHECK(now.idle_token_timeout_seconds == 900);
    CHECK(now.enable_idle_token_timeout == true);

    for (std::int64_t good : {std::int64_t{300}, std::int64_t{28800}}) {
        genesys::idle_token_timeout t;
        t.idle_token_timeout_seconds = good;
        CHECK(admin.put_tokens_timeout(t).idle_token_timeout_seconds == good);
        CHECK(admin.get_tokens_timeout().idle_token_timeout_seconds == good);
    }
}

TEST_CASE("emulator: putTokensTimeout takes the definition's units, Minutes and Hours, and no others")
{
    emu::service svc;
    auto admin = make_api(svc, emu::seed::admin_token);
    for (std::string unit : {"minutes", "hours", "MINUTES", "Seconds", ""}) {
        INFO("unit: " << unit);
        genesys::idle_token_timeout t;
        t.inactivity_timeout_unit = unit;
        check_api_error(failure_of(admin.try_put_tokens_timeout(t)), 400, "bad.request");
        genesys::idle_token_timeout in_bundle;
        in_bundle.inactivity_timeout_group_bundles =
            std::vector<genesys::inactivity_timeout_group_bundle>{{1, 600, unit, {"g-1"}}};
        check_api_error(failure_of(admin.try_put_tokens_timeout(in_bundle)), 400, "bad.request");
    }
    CHECK_FALSE(admin.get_tokens_timeout().inactivity_timeout_unit.has_value()); // nothing stored
    for (std::string unit : {"Minutes", "Hours"}) {
        genesys::idle_token_timeout t;
        t.inactivity_timeout_unit = unit;
        CHECK(admin.put_tokens_timeout(t).inactivity_timeout_unit == unit);
    }
}

TEST_CASE("emulator: a valid putTokensTimeout is stored, returned and applied")
{
    emu::service svc;
    auto admin = make_api(svc, emu::seed::admin_token);

    genesys::idle_token_timeout wanted;
    wanted.idle_token_timeout_seconds = 1800;
    wanted.enable_idle_token_timeout = true;
    wanted.inactivity_timeout_unit = "Minutes";
    wanted.inactivity_timeout_groups_enabled = true;
    wanted.inactivity_timeout_group_bundles =
        std::vector<genesys::inactivity_timeout_group_bundle>{{1, 600, "Hours", {"g-1", "g-2"}}};

    auto r = admin.try_put_tokens_timeout(wanted);
    REQUIRE(r.has_value());
    CHECK(r->status == 200);
    CHECK(r->data == wanted);
    CHECK(admin.get_tokens_timeout() == wanted);

    // A partial PUT changes only what it names.
    genesys::idle_token_timeout partial;
    partial.enable_idle_token_timeout = false;
    auto stored = admin.put_tokens_timeout(partial);
    CHECK(stored.enable_idle_token_timeout == false);
    CHECK(stored.idle_token_timeout_seconds == 1800);
    CHECK(stored.inactivity_timeout_unit == wanted.inactivity_timeout_unit);
    CHECK(admin.get_tokens_timeout() == stored);

    // The new timeout is what the idle timer uses.
    partial.enable_idle_token_timeout = true;
    admin.put_tokens_timeout(partial);
    const auto now = emulator_now(svc);
    const auto info = admin.get_tokens_me();
    REQUIRE(info.date_token_idles);
    const auto ms = seconds_between(now, *info.date_token_idles);
    CHECK(ms >= 1799'000);
    CHECK(ms <= 1801'000);
    advance(svc, 1700);
    CHECK(admin.verify_token()); // would have idled out at 900 s
}

// ---------------------------------------------------------------------------------------------
// Rate limit
// ---------------------------------------------------------------------------------------------

TEST_CASE("emulator: the rate limit answers 429 with Retry-After, per token")
{
    emu::service svc;
    auto cfg = control(svc, http_method::post, "/__emulator/config", R"({"rateLimit":2,"rateWindowSeconds":60})");
    REQUIRE(cfg.response.status == 204);
    auto admin = make_api(svc, emu::seed::admin_token);
    auto agent = make_api(svc, emu::seed::agent_token);

    auto first = admin.try_get_tokens_me();
    REQUIRE(first.has_value());
    CHECK(header(first->headers, "inin-ratelimit-count") == "1");
    CHECK(header(first->headers, "inin-ratelimit-allowed") == "2");
    auto second = admin.try_get_tokens_timeout();
    REQUIRE(second.has_value());
    CHECK(header(second->headers, "inin-ratelimit-count") == "2");

    advance(svc, 5);
    auto e = failure_of(admin.try_get_tokens_me());
    check_api_error(e, 429, "too.many.requests.retry.after");
    const std::string retry_after = header(e.headers, "Retry-After");
    const auto seconds = to_int(retry_after);
    CHECK(seconds >= 1);
    CHECK(seconds <= 55);
    CHECK(seconds >= 50);
    CHECK(e.body->message.value_or("") ==
          "Rate limit exceeded the maximum. Retry the request in [" + retry_after + "] seconds");
    CHECK(header(e.headers, "inin-ratelimit-allowed") == "2");
    CHECK(header(e.headers, "inin-ratelimit-reset") == retry_after);

    // The platform's 429 body: exactly these keys, details and errors empty.
    auto body = json_object(e.raw_body);
    std::set<std::string> keys;
    for (const auto& kv : body)
        keys.insert(std::string(kv.key()));
    CHECK(keys == std::set<std::string>{"message", "code", "status", "contextId", "details", "errors"});
    CHECK(body.at("details").as_array().empty());
    CHECK(body.at("errors").as_array().empty());

    // Every operation is limited, also the HEAD behind verify_token (429 is not "invalid").
    check_api_error(failure_of(admin.try_get_tokens_timeout()), 429, "too.many.requests.retry.after");
    auto v = admin.try_verify_token();
    REQUIRE_FALSE(v.has_value());
    CHECK(v.error().status == 429);

    // Per token: the agent is not limited by the admin's use.
    CHECK(agent.get_tokens_me().organization.has_value());
    CHECK(agent.get_tokens_me().organization.has_value());
    check_api_error(failure_of(agent.try_get_tokens_me()), 429, "too.many.requests.retry.after");

    // Past the window (60 s after the first call), calls go through again.
    advance(svc, 56);
    auto later = admin.try_get_tokens_me();
    REQUIRE(later.has_value());
    CHECK(header(later->headers, "inin-ratelimit-count") == "1");
    CHECK(header(later->headers, "inin-ratelimit-allowed") == "2");
}

TEST_CASE("emulator: waiting the Retry-After of a rate-limit 429 is enough")
{
    // Retry-After is "the minimum time the user agent is asked to wait" (RFC 9110 10.2.3): a
    // client that waits exactly that long must get through, so the emulator must round up.
    emu::service svc;
    REQUIRE(control(svc, http_method::post, "/__emulator/config", R"({"rateLimit":1,"rateWindowSeconds":60})")
                .response.status == 204);
    auto admin = make_api(svc, emu::seed::admin_token);
    REQUIRE(admin.try_get_tokens_me().has_value());
    advance(svc, 10);
    auto e = failure_of(admin.try_get_tokens_me());
    check_api_error(e, 429, "too.many.requests.retry.after");
    const std::string retry_after = header(e.headers, "Retry-After");
    INFO("Retry-After: " << retry_after << ", 10 s (plus the test's own run time) after the window opened");
    CHECK(retry_after == "50");
    CHECK(header(e.headers, "inin-ratelimit-reset") == "50");
    advance(svc, to_int(retry_after));
    auto later = admin.try_get_tokens_me();
    CHECK_MESSAGE(later.has_value(), "still limited after waiting Retry-After: " << header(later.error().headers, "Retry-After"));
}

TEST_CASE("emulator: a 429 leaves the token's idle timer alone")
{
    emu::service svc;
    REQUIRE(control(svc, http_method::post, "/__emulator/config", R"({"rateLimit":1})").response.status == 204);
    auto admin = make_api(svc, emu::seed::admin_token);
    const auto first = admin.get_tokens_me();
    advance(svc, 30);
    check_api_error(failure_of(admin.try_get_tokens_me()), 429, "too.many.requests.retry.after");
    advance(svc, 31);
    CHECK(admin.get_tokens_me(true).date_token_idles == first.date_token_idles);
}

// ---------------------------------------------------------------------------------------------
// OAuth client credentials
// ---------------------------------------------------------------------------------------------

TEST_CASE("emulator: client credentials issue a bearer token that works for the Tokens API")
{
    emu::service svc;
    auto login = make_oauth(svc, emu::seed::service_client_id, emu::seed::service_client_secret);
    auto r = login.try_client_credentials();
    REQUIRE(r.has_value());
    CHECK(r->status == 200);
    CHECK(login.transport().log->last_target == "/oauth/token");
    CHECK_FALSE(r->data.access_token.empty());
    CHECK(r->data.token_type == "bearer");
    CHECK(r->data.expires_in == std::optional<std::int64_t>(86399));
    CHECK_FALSE(r->data.refresh_token.has_value());

    auto second = login.client_credentials();
    CHECK(second.access_token != r->data.access_token);

    auto api = make_api(svc, r->data.access_token);
    CHECK(api.verify_token());
    const auto info = api.get_tokens_me();
    REQUIRE(info.organization);
    CHECK(info.organization->id.value_or("") == emu::seed::org_id);
    CHECK(info.organization->name.value_or("") == emu::seed::org_name);
    REQUIRE(info.authorized_scope);
    CHECK(sorted(*info.authorized_scope) == std::vector<std::string>{"oauth", "organization"});
    REQUIRE(info.oauth_client);
    CHECK(info.oauth_client->id.value_or("") == emu::seed::service_client_id);
    CHECK(info.oauth_client->name == "Token Service");
    CHECK(info.oauth_client->authorized_grant_type == "CLIENT-CREDENTIALS");
    CHECK(info.oauth_client->state.value_or("") == "active");

    // The token expires 86399 s after issue.
    genesys::idle_token_timeout off;
    off.enable_idle_token_timeout = false;
    api.put_tokens_timeout(off);
    advance(svc, 86390);
    CHECK(api.verify_token());
    advance(svc, 20);
    CHECK_FALSE(api.verify_token());
}

TEST_CASE("emulator: a wrong client secret is 401 invalid_client")
{
    emu::service svc;
    auto login = make_oauth(svc, emu::seed::service_client_id, "not-the-secret");
    auto e = failure_of(login.try_client_credentials());
    CHECK(e.kind == genesys::error_kind::api);
    CHECK(e.status == 401);
    REQUIRE(e.body);
    CHECK(e.body->code.value_or("") == "invalid_client");
    CHECK(e.body->message.value_or("") == "authentication failed");
    CHECK(looks_like_uuid(e.correlation_id));
    auto body = json_object(e.raw_body);
    CHECK(body == boost::json::object{{"error", "invalid_client"},
                                      {"description", "authentication failed"},
                                      {"error_description", "authentication failed"}});
    try {
        login.client_credentials();
        FAIL("no exception");
    } catch (const genesys::api_error& ex) {
        CHECK(ex.status() == 401);
        REQUIRE(ex.body());
        CHECK(ex.body()->code.value_or("") == "invalid_client");
    }
    CHECK(stat(svc, "liveTokens") == 2);
}

TEST_CASE("emulator: unknown clients and clients without a secret are invalid_client")
{
    emu::service svc;
    SUBCASE("unknown client id")
    {
        auto e = failure_of(make_oauth(svc, "client-nobody", "whatever").try_client_credentials());
        CHECK(e.status == 401);
        REQUIRE(e.body);
        CHECK(e.body->code.value_or("") == "invalid_client");
    }
    SUBCASE("client-desktop (authorization code, no secret)")
    {
        auto e = failure_of(make_oauth(svc, "client-desktop", "guess").try_client_credentials());
        CHECK(e.status == 401);
        REQUIRE(e.body);
        CHECK(e.body->code.value_or("") == "invalid_client");
    }
    SUBCASE("an empty secret in the Basic header")
    {
        auto r = raw(svc, http_method::post, "/oauth/token",
                     {{"Authorization", basic("client-desktop", "")},
                      {"Content-Type", "application/x-www-form-urlencoded"}},
                     "grant_type=client_credentials");
        check_oauth_error_reply(r.response, 401, "invalid_client");
    }
    SUBCASE("no Authorization header")
    {
        auto r = raw(svc, http_method::post, "/oauth/token", {{"Content-Type", "application/x-www-form-urlencoded"}},
                     "grant_type=client_credentials");
        check_oauth_error_reply(r.response, 401, "invalid_client");
    }
    CHECK(stat(svc, "liveTokens") == 2);
}

TEST_CASE("emulator: a client without the client-credentials grant is unauthorized_client")
{
    emu::service svc(custom_options());
    auto e = failure_of(make_oauth(svc, "globex-web", "web-secret").try_client_credentials());
    CHECK(e.status == 400);
    REQUIRE(e.body);
    CHECK(e.body->code.value_or("") == "unauthorized_client");
    auto raw_reply = raw(svc, http_method::post, "/oauth/token",
                         {{"Authorization", basic("globex-web", "web-secret")},
                          {"Content-Type", "application/x-www-form-urlencoded"}},
                         "grant_type=client_credentials");
    check_oauth_error_reply(raw_reply.response, 400, "unauthorized_client");
}

TEST_CASE("emulator: malformed token requests are 400 with the OAuth error shape")
{
    emu::service svc;
    const std::string auth = basic(emu::seed::service_client_id, emu::seed::service_client_secret);

    SUBCASE("wrong grant_type")
    {
        auto r = raw(svc, http_method::post, "/oauth/token",
                     {{"Authorization", auth}, {"Content-Type", "application/x-www-form-urlencoded"}},
                     "grant_type=password&username=a&password=b");
        check_oauth_error_reply(r.response, 400, "unsupported_grant_type");
    }
    SUBCASE("JSON instead of a form")
    {
        auto r = raw(svc, http_method::post, "/oauth/token",
                     {{"Authorization", auth}, {"Content-Type", "application/json"}},
                     R"({"grant_type":"client_credentials"})");
        check_oauth_error_reply(r.response, 400, "invalid_request");
    }
    SUBCASE("no Content-Type")
    {
        auto r = raw(svc, http_method::post, "/oauth/token", {{"Authorization", auth}}, "grant_type=client_credentials");
        check_oauth_error_reply(r.response, 400, "invalid_request");
    }
    SUBCASE("a form with a charset parameter and a percent-encoded grant type is fine")
    {
        auto r = raw(svc, http_method::post, "/oauth/token",
                     {{"Authorization", auth}, {"Content-Type", "application/x-www-form-urlencoded; charset=UTF-8"}},
                     "grant_type=client%5Fcredentials");
        CHECK(r.response.status == 200);
        auto o = json_object(r.response.body);
        CHECK(o.at("token_type") == "bearer");
    }
    SUBCASE("GET is not the token endpoint: 405, Allow: POST")
    {
        auto r = raw(svc, http_method::get, "/oauth/token", {{"Authorization", auth}});
        check_error_reply(r.response, 405, "method.not.allowed");
        CHECK(header(r.response.headers, "Allow") == "POST");
    }
}

// ---------------------------------------------------------------------------------------------
// Faults
// ---------------------------------------------------------------------------------------------

TEST_CASE("emulator: parse_fault")
{
    SUBCASE("accepted")
    {
        auto d = emu::parse_fault("delay;ms=50");
        REQUIRE(d);
        CHECK(d->mode == emu::fault_mode::delay);
        CHECK(d->ms == 50);
        CHECK(d->count == 1);

        auto c = emu::parse_fault("close-before");
        REQUIRE(c);
        CHECK(c->mode == emu::fault_mode::close_before);
        CHECK(c->ms == 0);
        CHECK(c->count == 1);

        auto r = emu::parse_fault("rate_limited;count=3");
        REQUIRE(r.has_value());
        CHECK(r->mode == emu::fault_mode::rate_limited);
        CHECK(r->count == 3);

        auto both = emu::parse_fault("rate-limited;count=2;ms=4000");
        REQUIRE(both);
        CHECK(both->count == 2);
        CHECK(both->ms == 4000);

        const std::pair<std::string_view, emu::fault_mode> names[] = {
            {"none", emu::fault_mode::none},
            {"close-mid", emu::fault_mode::close_mid},
            {"close_mid", emu::fault_mode::close_mid},
            {"truncate", emu::fault_mode::truncate},
            {"invalid-json", emu::fault_mode::invalid_json},
            {"wrong-content-type", emu::fault_mode::wrong_content_type},
            {"server-error", emu::fault_mode::server_error},
            {"server_error", emu::fault_mode::server_error},
        };
        for (const auto& entry : names) {
            const std::string_view text = entry.first;
            const emu::fault_mode mode = entry.second;
            INFO(text);
            auto f = emu::parse_fault(text);
            REQUIRE(f);
            CHECK(f->mode == mode);
        }
    }
    SUBCASE("rejected")
    {
        for (std::string_view text : {"", "explode", "delay2", ";ms=5", "delay;ms", "delay;ms=", "delay;ms=abc",
                                      "delay;seconds=5", "delay;MS=5", "rate_limited;count=3;colour=red",
                                      "delay;ms=99999999999"}) {
            INFO("'" << text << "'");
            CHECK_FALSE(emu::parse_fault(text).has_value());
        }
    }
    SUBCASE("a number with trailing junk is not a number")
    {
        CHECK_FALSE(emu::parse_fault("delay;ms=50abc").has_value());
        CHECK_FALSE(emu::parse_fault("rate_limited;count=2x").has_value());
    }
}

TEST_CASE("emulator: a scheduled fault applies to the next `count` API requests, then service resumes")
{
    emu::service svc;
    auto api = make_api(svc, emu::seed::admin_token);
    schedule_fault(svc, R"({"mode":"server-error","count":2})");

    // Control requests are neither faulted nor counted against the schedule.
    auto ctl = control(svc, http_method::get, "/__emulator/stats");
    CHECK(ctl.response.status == 200);
    CHECK(stat(svc, "requests") == 0);

    auto e1 = failure_of(api.try_get_tokens_me());
    check_api_error(e1, 503, "service.unavailable");
    CHECK(control(svc, http_method::post, "/__emulator/clock", R"({"advanceSeconds":1})").response.status == 200);
    auto e2 = failure_of(api.try_get_tokens_timeout());
    check_api_error(e2, 503, "service.unavailable");
    CHECK(api.get_tokens_me().organization.has_value());
    CHECK(api.verify_token());
    CHECK(stat(svc, "requests") == 4);
}

TEST_CASE("emulator: scheduled faults run in order and DELETE /__emulator/faults clears them")
{
    emu::service svc;
    auto api = make_api(svc, emu::seed::admin_token);
    schedule_fault(svc, R"({"mode":"server-error"})");
    schedule_fault(svc, R"({"mode":"rate-limited","ms":2000})");
    schedule_fault(svc, R"({"mode":"server-error","count":5})");

    check_api_error(failure_of(api.try_get_tokens_me()), 503, "service.unavailable");
    auto e = failure_of(api.try_get_tokens_me());
    check_api_error(e, 429, "too.many.requests.retry.after");
    CHECK(header(e.headers, "Retry-After") == "2");

    auto cleared = control(svc, http_method::delete_, "/__emulator/faults");
    CHECK(cleared.response.status == 204);
    CHECK(api.get_tokens_me().organization.has_value());
}

TEST_CASE("emulator: POST /__emulator/faults rejects unknown modes")
{
    emu::service svc;
    auto r = control(svc, http_method::post, "/__emulator/faults", R"({"mode":"meteor-strike"})");
    check_error_reply(r.response, 400, "bad.request");
    auto none = control(svc, http_method::post, "/__emulator/faults", R"({})");
    check_error_reply(none.response, 400, "bad.request");
    auto junk = control(svc, http_method::post, "/__emulator/faults", "not json");
    check_error_reply(junk.response, 400, "bad.request");
    CHECK(make_api(svc, emu::seed::admin_token).verify_token());
}

TEST_CASE("emulator: a scheduled fault with count 0 applies to no request")
{
    // "a fault for the next `count` API requests": zero requests, or a 400 for a useless schedule.
    emu::service svc;
    auto api = make_api(svc, emu::seed::admin_token);
    auto r = control(svc, http_method::post, "/__emulator/faults", R"({"mode":"server-error","count":0})");
    CHECK((r.response.status == 204 || r.response.status == 400));
    auto next = api.try_get_tokens_me();
    CHECK_MESSAGE(next.has_value(), "a count=0 fault was applied: HTTP " << next.error().status);
}

TEST_CASE("emulator: POST /__emulator/faults honours parameters written in the mode string")
{
    // parse_fault documents `mode[;ms=N][;count=N]`; the control body's "mode" goes through it.
    emu::service svc;
    auto api = make_api(svc, emu::seed::admin_token);
    schedule_fault(svc, R"({"mode":"server-error;count=2"})");
    check_api_error(failure_of(api.try_get_tokens_me()), 503, "service.unavailable");
    auto second = api.try_get_tokens_me();
    CHECK_MESSAGE(!second.has_value(), "the second request of a count=2 fault was served normally");
    control(svc, http_method::delete_, "/__emulator/faults");

    schedule_fault(svc, R"({"mode":"delay;ms=75"})");
    CHECK(api.get_tokens_me().organization.has_value());
    CHECK(api.transport().log->last_fault == emu::fault_mode::delay);
    CHECK(api.transport().log->last_delay_ms == 75);
}

TEST_CASE("emulator: the X-Emulator-Fault header applies to its request only")
{
    emu::service svc;
    auto faulty = make_api(svc, emu::seed::admin_token, {{"X-Emulator-Fault", "server-error"}});
    auto plain = make_api(svc, emu::seed::admin_token);

    check_api_error(failure_of(faulty.try_get_tokens_me()), 503, "service.unavailable");
    check_api_error(failure_of(faulty.try_get_tokens_me()), 503, "service.unavailable");
    CHECK(plain.get_tokens_me().organization.has_value());

    SUBCASE("a header does not consume a scheduled fault")
    {
        schedule_fault(svc, R"({"mode":"rate-limited"})");
        check_api_error(failure_of(faulty.try_get_tokens_me()), 503, "service.unavailable");
        check_api_error(failure_of(plain.try_get_tokens_me()), 429, "too.many.requests.retry.after");
        CHECK(plain.verify_token());
    }
    SUBCASE("an unknown header value is 400 bad.request")
    {
        auto bad = make_api(svc, emu::seed::admin_token, {{"X-Emulator-Fault", "gremlins"}});
        check_api_error(failure_of(bad.try_get_tokens_me()), 400, "bad.request");
        CHECK(plain.verify_token());
    }
    SUBCASE("the header applies to the token endpoint too")
    {
        auto r = raw(svc, http_method::post, "/oauth/token",
                     {{"Authorization", basic(emu::seed::service_client_id, emu::seed::service_client_secret)},
                      {"Content-Type", "application/x-www-form-urlencoded"},
                      {"X-Emulator-Fault", "server-error"}},
                     "grant_type=client_credentials");
        check_error_reply(r.response, 503, "service.unavailable");
        CHECK(stat(svc, "liveTokens") == 2);
    }
    SUBCASE("control requests ignore the header")
    {
        auto r = raw(svc, http_method::get, "/__emulator/stats",
                     {{"Content-Type", "application/json"}, {"X-Emulator-Fault", "server-error"}});
        CHECK(r.response.status == 200);
        CHECK(r.transport_fault == emu::fault_mode::none);
    }
}

TEST_CASE("emulator: invalid-json and wrong-content-type faults are 200s the library cannot decode")
{
    emu::service svc;
    for (std::string_view mode : {"invalid-json", "wrong-content-type"}) {
        INFO(mode);
        auto api = make_api(svc, emu::seed::admin_token, {{"X-Emulator-Fault", std::string(mode)}});
        auto r = api.try_get_tokens_me();
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().kind == genesys::error_kind::decode);
        CHECK(r.error().code == genesys::errc::decode_failed);
        CHECK(r.error().status == 200);
        CHECK(looks_like_uuid(r.error().correlation_id));
        CHECK_FALSE(r.error().raw_body.empty());
        CHECK_THROWS_AS(api.get_tokens_me(), genesys::decode_error);
        CHECK_THROWS_AS(api.get_tokens_timeout(), genesys::decode_error);
    }
    auto html = raw(svc, http_method::get, "/api/v2/tokens/me",
                    {{"Authorization", "Bearer " + std::string(emu::seed::admin_token)},
                     {"X-Emulator-Fault", "wrong-content-type"}});
    CHECK(html.response.status == 200);
    CHECK(header(html.response.headers, "Content-Type") == "text/html");

    schedule_fault(svc, R"({"mode":"invalid-json"})");
    auto login = make_oauth(svc, emu::seed::service_client_id, emu::seed::service_client_secret);
    CHECK_THROWS_AS(login.client_credentials(), genesys::decode_error);
    CHECK(login.client_credentials().expires_in == 86399);
}

TEST_CASE("emulator: a rate-limited fault is the platform's 429")
{
    emu::service svc;
    auto api = make_api(svc, emu::seed::admin_token, {{"X-Emulator-Fault", "rate-limited;ms=2500"}});
    auto e = failure_of(api.try_get_tokens_me());
    check_api_error(e, 429, "too.many.requests.retry.after");
    CHECK(header(e.headers, "Retry-After") == "3");
    CHECK(e.body->message.value_or("") == "Rate limit exceeded the maximum. Retry the request in [3] seconds");
    CHECK(e.body->details.has_value());
    CHECK(e.body->errors.has_value());

    auto dflt = make_api(svc, emu::seed::admin_token, {{"X-Emulator-Fault", "rate-limited"}});
    auto e2 = failure_of(dflt.try_delete_tokens_me());
    check_api_error(e2, 429, "too.many.requests.retry.after");
    CHECK(to_int(header(e2.headers, "Retry-After")) >= 1);
    // The faulted DELETE did nothing.
    CHECK(make_api(svc, emu::seed::admin_token).verify_token());
}

TEST_CASE("emulator: transport faults come back with the normal response")
{
    emu::service svc;
    const std::pair<std::string_view, emu::fault_mode> cases[] = {
        {"delay;ms=50", emu::fault_mode::delay},
        {"close-before", emu::fault_mode::close_before},
        {"close-mid", emu::fault_mode::close_mid},
        {"truncate", emu::fault_mode::truncate},
    };
    for (const auto& entry : cases) {
        const std::string_view spec = entry.first;
        const emu::fault_mode mode = entry.second;
        INFO(spec);
        auto api = make_api(svc, emu::seed::admin_token, {{"X-Emulator-Fault", std::string(spec)}});
        auto r = api.try_get_tokens_me();
        REQUIRE(r.has_value());
        CHECK(r->status == 200);
        CHECK(r->data.organization.has_value());
        CHECK(api.transport().log->last_fault == mode);
        CHECK(api.transport().log->last_delay_ms == (mode == emu::fault_mode::delay ? 50 : 0));
    }

    // Scheduled, with the ms from the control body.
    schedule_fault(svc, R"({"mode":"delay","ms":120})");
    auto api = make_api(svc, emu::seed::admin_token);
    auto t = api.try_get_tokens_timeout();
    REQUIRE(t.has_value());
    CHECK(t->data.idle_token_timeout_seconds == 900);
    CHECK(api.transport().log->last_fault == emu::fault_mode::delay);
    CHECK(api.transport().log->last_delay_ms == 120);
    // And the next request is normal again.
    CHECK(api.verify_token());
    CHECK(api.transport().log->last_fault == emu::fault_mode::none);

    // An error response can be faulted too.
    auto r = raw(svc, http_method::get, "/api/v2/tokens/me", {{"X-Emulator-Fault", "truncate"}});
    CHECK(r.transport_fault == emu::fault_mode::truncate);
    check_error_reply(r.response, 401, "authentication.required");
}

TEST_CASE("emulator: a run fault applies to every API request but not to control requests")
{
    emu::options o;
    o.run_fault = emu::parse_fault("server-error");
    REQUIRE(o.run_fault);
    emu::service svc(o);
    auto api = make_api(svc, emu::seed::admin_token);
    for (int i = 0; i < 3; ++i)
        check_api_error(failure_of(api.try_get_tokens_me()), 503, "service.unavailable");
    CHECK(make_oauth(svc, emu::seed::service_client_id, emu::seed::service_client_secret)
              .try_client_credentials()
              .error()
              .status == 503);

    auto token = issue_token(svc, emu::seed::agent_user_id, "client-desktop");
    CHECK_FALSE(token.empty());
    CHECK(stat(svc, "requests") == 4);
    CHECK(stat(svc, "liveTokens") == 3);

    // A header fault wins over the run fault.
    auto delayed = make_api(svc, emu::seed::admin_token, {{"X-Emulator-Fault", "delay;ms=5"}});
    CHECK(delayed.get_tokens_me().organization.has_value());
    CHECK(delayed.transport().log->last_fault == emu::fault_mode::delay);
}

// ---------------------------------------------------------------------------------------------
// Stats, reset, unknown controls
// ---------------------------------------------------------------------------------------------

TEST_CASE("emulator: GET /__emulator/stats counts API requests")
{
    emu::service svc;
    auto s = stats(svc);
    CHECK(s.at("requests").to_number<std::int64_t>() == 0);
    CHECK(s.at("connections").to_number<std::int64_t>() == 0);
    CHECK(s.at("liveTokens").to_number<std::int64_t>() == 2);

    auto api = make_api(svc, emu::seed::admin_token);
    api.get_tokens_me();
    CHECK(api.verify_token());
    CHECK_FALSE(make_api(svc, "bogus").verify_token()); // failures count too
    raw(svc, http_method::get, "/nowhere");
    CHECK(stat(svc, "requests") == 4);

    make_oauth(svc, emu::seed::service_client_id, emu::seed::service_client_secret).client_credentials();
    CHECK(stat(svc, "requests") == 5);
    CHECK(stat(svc, "liveTokens") == 3);

    svc.on_connection();
    svc.on_connection();
    CHECK(stat(svc, "connections") == 2);
}

TEST_CASE("emulator: POST /__emulator/reset restores the seed")
{
    emu::service svc;
    auto admin = make_api(svc, emu::seed::admin_token);
    const auto issued = issue_token(svc, emu::seed::agent_user_id, "client-desktop");
    genesys::idle_token_timeout t;
    t.idle_token_timeout_seconds = 7200;
    admin.put_tokens_timeout(t);
    admin.delete_tokens_me();
    REQUIRE_FALSE(admin.verify_token());
    schedule_fault(svc, R"({"mode":"server-error","count":10})");
    advance(svc, 100000);

    auto r = control(svc, http_method::post, "/__emulator/reset");
    CHECK(r.response.status == 204);

    CHECK(stat(svc, "requests") == 0);
    CHECK(stat(svc, "liveTokens") == 2);
    // The revoked seed token works again; the fault schedule and the clock offset are gone.
    CHECK(admin.verify_token());
    CHECK(admin.get_tokens_timeout().idle_token_timeout_seconds == 900);
    CHECK_FALSE(make_api(svc, issued).verify_token());
    const auto drift = seconds_between(genesys::date_time(std::chrono::time_point_cast<std::chrono::milliseconds>(
                                           std::chrono::system_clock::now())),
                                       emulator_now(svc));
    CHECK(drift > -5'000);
    CHECK(drift < 5'000);
}

TEST_CASE("emulator: reset of a custom seed restores that seed")
{
    emu::service svc(custom_options());
    auto boss = make_api(svc, "globex-boss-token");
    boss.delete_tokens_me();
    REQUIRE_FALSE(boss.verify_token());
    REQUIRE(control(svc, http_method::post, "/__emulator/reset").response.status == 204);
    CHECK(boss.verify_token());
    CHECK_FALSE(make_api(svc, emu::seed::admin_token).verify_token());
}

TEST_CASE("emulator: control endpoint errors")
{
    emu::service svc;
    check_error_reply(control(svc, http_method::get, "/__emulator/nothing").response, 404, "not.found");
    check_error_reply(control(svc, http_method::get, "/__emulator/reset").response, 404, "not.found");
    check_error_reply(control(svc, http_method::post, "/__emulator/clock", "[1]").response, 400, "bad.request");
    check_error_reply(
        control(svc, http_method::post, "/__emulator/tokens", R"({"user":"nobody","client":"client-desktop"})").response,
        400, "bad.request");
    check_error_reply(control(svc, http_method::post, "/__emulator/tokens", R"({"client":"no-client"})").response, 400,
                      "bad.request");
    CHECK(stat(svc, "liveTokens") == 2);
    CHECK(stat(svc, "requests") == 0);
}

TEST_CASE("emulator: POST /__emulator/tokens issues a client token without a user")
{
    emu::service svc;
    auto api = make_api(svc, issue_token(svc, "", emu::seed::readonly_client_id));
    auto info = api.get_tokens_me();
    REQUIRE(info.oauth_client);
    CHECK(info.oauth_client->name == "Read-only Reporter");
    REQUIRE(info.authorized_scope);
    CHECK(*info.authorized_scope == std::vector<std::string>{"users:readonly"});
}

// ---------------------------------------------------------------------------------------------
// Unknown resources
// ---------------------------------------------------------------------------------------------

TEST_CASE("emulator: unknown paths are 404 not.found, wrong methods on a known path are 405 with Allow")
{
    emu::service svc;
    const auto auth = bearer(emu::seed::admin_token);
    check_error_reply(raw(svc, http_method::get, "/api/v2/tokens", auth).response, 404, "not.found");
    check_error_reply(raw(svc, http_method::get, "/api/v2/tokens/", auth).response, 404, "not.found");
    check_error_reply(raw(svc, http_method::get, "/api/v2/tokens/me/extra", auth).response, 404, "not.found");
    check_error_reply(raw(svc, http_method::get, "/api/v2/nothing", auth).response, 404, "not.found");
    struct case_t {
        http_method method;
        std::string path, allow;
    };
    const std::string user_path = "/api/v2/tokens/" + std::string(emu::seed::agent_user_id);
    for (const auto& c : {case_t{http_method::post, "/api/v2/tokens/me", "GET, HEAD, DELETE"},
                          case_t{http_method::patch, "/api/v2/tokens/me", "GET, HEAD, DELETE"},
                          case_t{http_method::delete_, "/api/v2/tokens/timeout", "GET, PUT"},
                          case_t{http_method::post, "/api/v2/tokens/timeout?x=1", "GET, PUT"},
                          case_t{http_method::get, user_path, "DELETE"},
                          case_t{http_method::put, "/oauth/token", "POST"}}) {
        INFO(genesys::to_string(c.method) << " " << c.path);
        for (const auto& headers : {auth, genesys::http_headers{}}) { // with or without a token
            auto r = raw(svc, c.method, c.path, headers);
            check_error_reply(r.response, 405, "method.not.allowed");
            CHECK(header(r.response.headers, "Allow") == c.allow);
            CHECK(r.response.headers.contains("inin-ratelimit-count"));
        }
    }
    // None of these revoked anything.
    CHECK(make_api(svc, emu::seed::agent_token).verify_token());
}

// ---------------------------------------------------------------------------------------------
// A custom seed
// ---------------------------------------------------------------------------------------------

TEST_CASE("emulator: a custom seed is honoured")
{
    emu::service svc(custom_options());

    CHECK(stat(svc, "liveTokens") == 2);
    CHECK_FALSE(make_api(svc, emu::seed::admin_token).verify_token());
    CHECK(make_oauth(svc, emu::seed::service_client_id, emu::seed::service_client_secret)
              .try_client_credentials()
              .error()
              .status == 401);

    auto boss = make_api(svc, "globex-boss-token");
    auto info = boss.get_tokens_me();
    REQUIRE(info.organization);
    CHECK(info.organization->id.value_or("") == "org-globex");
    CHECK(info.organization->name.value_or("") == "Globex Corporation");
    CHECK(info.home_organization == info.organization);
    CHECK_FALSE(info.date_token_idles.has_value()); // idle timeout disabled in this seed
    REQUIRE(info.oauth_client);
    CHECK(info.oauth_client->id.value_or("") == "globex-web");
    CHECK(info.oauth_client->name == "Globex Web");
    CHECK(info.oauth_client->authorized_grant_type == "CODE");
    REQUIRE(info.authorized_scope);
    CHECK(*info.authorized_scope == std::vector<std::string>{"users"});

    const auto timeout = boss.get_tokens_timeout();
    CHECK(timeout.idle_token_timeout_seconds == 600);
    CHECK(timeout.enable_idle_token_timeout == false);

    // The seed's permissions: the boss may revoke but not change the timeout.
    check_api_error(failure_of(boss.try_put_tokens_timeout(timeout)), 403, "missing.any.permissions");
    check_api_error(failure_of(boss.try_delete_token(emu::seed::agent_user_id)), 404, "not.found");

    // The seed's client-credentials client.
    auto app_token = make_oauth(svc, "globex-app", "globex-secret").client_credentials();
    auto app = make_api(svc, app_token.access_token);
    auto app_info = app.get_tokens_me();
    REQUIRE(app_info.oauth_client);
    CHECK(app_info.oauth_client->name == "Globex Backend");
    CHECK(app_info.oauth_client->authorized_grant_type == "CLIENT-CREDENTIALS");
    genesys::idle_token_timeout on;
    on.enable_idle_token_timeout = true;
    CHECK(app.put_tokens_timeout(on).enable_idle_token_timeout == true);
    check_api_error(failure_of(app.try_delete_token("u-boss")), 403, "missing.any.permissions");

    // With the idle timeout now on (600 s), the boss's token idles out.
    advance(svc, 601);
    CHECK_FALSE(boss.verify_token());
}

// ---------------------------------------------------------------------------------------------
// The rate-limit headers on every response
// ---------------------------------------------------------------------------------------------

namespace {

void check_limit_headers(const genesys::http_headers& h, std::string_view what)
{
    INFO(what);
    for (auto name : {"inin-ratelimit-count", "inin-ratelimit-allowed", "inin-ratelimit-reset"})
        REQUIRE_MESSAGE(h.contains(name), name << " is missing");
    const auto count = to_int(header(h, "inin-ratelimit-count"));
    const auto allowed = to_int(header(h, "inin-ratelimit-allowed"));
    const auto reset = to_int(header(h, "inin-ratelimit-reset"));
    CHECK(allowed == 300);
    CHECK(count <= allowed);
    CHECK(reset >= 1);
    CHECK(reset <= 60);
    CHECK(looks_like_uuid(header(h, "ININ-Correlation-Id")));
}

} // namespace

TEST_CASE("emulator: every kind of response carries the inin-ratelimit-* headers and a correlation id")
{
    emu::service svc;
    const auto admin = bearer(emu::seed::admin_token);
    const auto agent = bearer(emu::seed::agent_token);
    const genesys::http_headers form{{"Content-Type", "application/x-www-form-urlencoded"}};
    auto with = [](genesys::http_headers h, std::string name, std::string value) {
        h.add(std::move(name), std::move(value));
        return h;
    };

    check_limit_headers(raw(svc, http_method::get, "/api/v2/tokens/me", admin).response.headers, "200");
    check_limit_headers(raw(svc, http_method::head, "/api/v2/tokens/me", admin).response.headers, "HEAD 200");
    check_limit_headers(raw(svc, http_method::get, "/api/v2/tokens/me").response.headers, "401 no token");
    check_limit_headers(raw(svc, http_method::get, "/api/v2/tokens/me", bearer("nope")).response.headers,
                        "401 unknown token");
    check_limit_headers(raw(svc, http_method::delete_, "/api/v2/tokens/x", agent).response.headers, "403");
    check_limit_headers(raw(svc, http_method::delete_, "/api/v2/tokens/x", admin).response.headers, "404 user");
    check_limit_headers(raw(svc, http_method::get, "/api/v2/elsewhere", admin).response.headers, "404 path");
    check_limit_headers(raw(svc, http_method::get, "/api/v2/elsewhere").response.headers, "404 path, no token");
    check_limit_headers(raw(svc, http_method::post, "/api/v2/tokens/me", admin).response.headers, "405");
    check_limit_headers(raw(svc, http_method::put, "/api/v2/tokens/timeout", with(admin, "Content-Type", "text/plain"))
                            .response.headers,
                        "415");
    check_limit_headers(
        raw(svc, http_method::get, "/api/v2/tokens/me", with(admin, "X-Emulator-Fault", "server-error")).response.headers,
        "503 fault");
    check_limit_headers(
        raw(svc, http_method::get, "/api/v2/tokens/me", with(admin, "X-Emulator-Fault", "rate-limited")).response.headers,
        "429 fault");
    check_limit_headers(
        raw(svc, http_method::get, "/api/v2/tokens/me", with(admin, "X-Emulator-Fault", "nonsense")).response.headers,
        "400 fault header");
    const auto ok_login = with(form, "Authorization", basic(emu::seed::service_client_id, emu::seed::service_client_secret));
    check_limit_headers(raw(svc, http_method::post, "/oauth/token", ok_login, "grant_type=client_credentials").response.headers,
                        "OAuth 200");
    check_limit_headers(raw(svc, http_method::post, "/oauth/token", with(form, "Authorization", basic("x", "y")),
                            "grant_type=client_credentials")
                            .response.headers,
                        "OAuth 401");
    check_limit_headers(raw(svc, http_method::post, "/oauth/token", ok_login, "grant_type=password").response.headers,
                        "OAuth 400");
    check_limit_headers(control(svc, http_method::get, "/__emulator/stats").response.headers, "control 200");
    check_limit_headers(control(svc, http_method::get, "/__emulator/nothing").response.headers, "control 404");

    // A token's own count goes on across kinds of answers (its 403s count too).
    control(svc, http_method::post, "/__emulator/reset");
    for (int i = 1; i <= 3; ++i) {
        auto r = raw(svc, http_method::delete_, "/api/v2/tokens/x", agent);
        CHECK(r.response.status == 403);
        CHECK(to_int(header(r.response.headers, "inin-ratelimit-count")) == i);
    }
}

// ---------------------------------------------------------------------------------------------
// The authorize step and the other grants, in-process
// ---------------------------------------------------------------------------------------------

namespace {

emu::reply authorize_reply(emu::service& svc, boost::json::object body)
{
    return control(svc, http_method::post, "/__emulator/authorize", boost::json::serialize(body));
}

boost::json::object authorize_body(std::string_view challenge)
{
    return {{"client_id", emu::seed::desktop_client_id},
            {"redirect_uri", emu::seed::desktop_redirect_uri},
            {"code_challenge", challenge},
            {"code_challenge_method", "S256"},
            {"user", emu::seed::agent_user_id},
            {"state", "xyz 1"}};
}

emu::reply token_request(emu::service& svc, std::string form, std::string auth = {})
{
    genesys::http_headers h{{"Content-Type", "application/x-www-form-urlencoded"}};
    if (!auth.empty())
        h.add("Authorization", std::move(auth));
    return raw(svc, http_method::post, "/oauth/token", std::move(h), std::move(form));
}

} // namespace

TEST_CASE("emulator: POST /__emulator/authorize issues a one-time code, and checks what it is given")
{
    emu::service svc;
    const std::string verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"; // RFC 7636 appendix B
    const std::string challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    auto ok = authorize_reply(svc, authorize_body(challenge));
    REQUIRE(ok.response.status == 200);
    auto o = json_object(ok.response.body);
    const std::string code(o.at("code").as_string());
    CHECK(code.size() >= 32);
    CHECK(std::string(o.at("redirect").as_string()) == std::string(emu::seed::desktop_redirect_uri) + "?code=" + code + "&state=xyz%201");

    SUBCASE("refusals")
    {
        auto refuse = [&](const char* key, std::optional<std::string> v) {
            auto body = authorize_body(challenge);
            if (!v)
                body.erase(key);
            else
                body[key] = *v;
            INFO(key);
            check_error_reply(authorize_reply(svc, body).response, 400, "bad.request");
        };
        refuse("client_id", "no-such-client");
        refuse("client_id", std::string(emu::seed::service_client_id)); // not an authorization-code client
        refuse("redirect_uri", "https://evil.example/cb");
        refuse("redirect_uri", std::nullopt);
        refuse("user", "nobody");
        refuse("user", std::nullopt);
        refuse("code_challenge_method", "plain");
        refuse("code_challenge", std::nullopt); // a public client must use PKCE
        refuse("code_challenge", "short");
        check_error_reply(control(svc, http_method::get, "/__emulator/authorize").response, 404, "not.found");
    }
    SUBCASE("the code is redeemed once, by the verifier, within ten minutes")
    {
        const std::string form = "grant_type=authorization_code&client_id=client-desktop&code=" + code +
                                 "&redirect_uri=http%3A%2F%2Flocalhost%3A8085%2Fcallback&code_verifier=" + verifier;
        auto r = token_request(svc, form);
        REQUIRE(r.response.status == 200);
        auto t = json_object(r.response.body);
        CHECK(t.at("token_type") == "bearer");
        CHECK(t.contains("refresh_token"));
        check_oauth_error_reply(token_request(svc, form).response, 400, "invalid_grant");

        auto late = json_object(authorize_reply(svc, authorize_body(challenge)).response.body);
        advance(svc, 601);
        check_oauth_error_reply(token_request(svc, "grant_type=authorization_code&client_id=client-desktop&code=" +
                                                       std::string(late.at("code").as_string()) +
                                                       "&redirect_uri=http%3A%2F%2Flocalhost%3A8085%2Fcallback"
                                                       "&code_verifier=" +
                                                       verifier)
                                    .response,
                                400, "invalid_grant");
    }
    SUBCASE("a missing verifier, and a public client's id naming a client with a secret")
    {
        check_oauth_error_reply(token_request(svc, "grant_type=authorization_code&client_id=client-desktop&code=" + code +
                                                       "&redirect_uri=http%3A%2F%2Flocalhost%3A8085%2Fcallback")
                                    .response,
                                400, "invalid_grant");
        check_oauth_error_reply(token_request(svc, "grant_type=client_credentials&client_id=client-service").response,
                                401, "invalid_client");
    }
    SUBCASE("reset forgets codes")
    {
        control(svc, http_method::post, "/__emulator/reset");
        check_oauth_error_reply(token_request(svc, "grant_type=authorization_code&client_id=client-desktop&code=" + code +
                                                       "&redirect_uri=http%3A%2F%2Flocalhost%3A8085%2Fcallback"
                                                       "&code_verifier=" +
                                                       verifier)
                                    .response,
                                400, "invalid_grant");
    }
}

TEST_CASE("emulator: a confidential authorization-code client authenticates with Basic, PKCE is then optional")
{
    emu::service svc(custom_options());
    auto code_of = [&](boost::json::object body) {
        auto r = authorize_reply(svc, std::move(body));
        REQUIRE_MESSAGE(r.response.status == 200, r.response.body);
        return std::string(json_object(r.response.body).at("code").as_string());
    };
    const auto code = code_of({{"client_id", "globex-web"}, {"redirect_uri", "https://globex.example/cb"}, {"user", "u-boss"}});
    const std::string form = "grant_type=authorization_code&code=" + code + "&redirect_uri=https%3A%2F%2Fglobex.example%2Fcb";
    check_oauth_error_reply(token_request(svc, form + "&client_id=globex-web").response, 401, "invalid_client");
    check_oauth_error_reply(token_request(svc, form, basic("globex-web", "wrong")).response, 401, "invalid_client");
    auto r = token_request(svc, form, basic("globex-web", "web-secret"));
    REQUIRE_MESSAGE(r.response.status == 200, r.response.body);
    auto t = json_object(r.response.body);
    auto api = make_api(svc, std::string(t.at("access_token").as_string()));
    CHECK(api.get_tokens_me().oauth_client->id.value_or("") == "globex-web");

    // deleteToken of the user revokes its refresh tokens too.
    CHECK(make_api(svc, "globex-boss-token").try_delete_token("u-boss").has_value());
    CHECK_FALSE(api.verify_token());
    check_oauth_error_reply(token_request(svc,
                                          "grant_type=refresh_token&refresh_token=" +
                                              std::string(t.at("refresh_token").as_string()),
                                          basic("globex-web", "web-secret"))
                                .response,
                            400, "invalid_grant");
}

namespace {

/// The indented lines under the entry of `describe_seed` output whose line starts with
/// `"  " + head` (two spaces: an entry; four: its facts), joined; empty when there is no such entry.
std::string seed_entry(const std::string& text, std::string_view head)
{
    std::string out;
    bool in = false;
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto end = text.find('\n', pos);
        if (end == std::string::npos)
            end = text.size();
        const std::string_view line(text.data() + pos, end - pos);
        pos = end + 1;
        if (line.starts_with("    ")) {
            if (in)
                out.append(line.substr(4)).push_back('\n');
        } else if (in) {
            break;
        } else {
            in = line.starts_with("  ") && line.substr(2).starts_with(head);
            if (in)
                out.append(line.substr(2)).push_back('\n');
        }
    }
    return out;
}

bool has(std::string_view haystack, std::string_view needle) { return haystack.find(needle) != std::string_view::npos; }

} // namespace

TEST_CASE("emulator: describe_seed lists the built-in organization, users, clients with their secrets, and tokens")
{
    const std::string text = emu::describe_seed(emu::default_seed());
    INFO(text);

    const auto acme = seed_entry(text, "Acme Contact Centre (" + std::string(emu::seed::org_id) + ")");
    CHECK(has(acme, "idle-token timeout: 900 s"));

    const auto ada = seed_entry(text, "Ada Admin (" + std::string(emu::seed::admin_user_id) + ")");
    CHECK(has(ada, "organization: Acme Contact Centre"));
    CHECK(has(ada, "permissions: oauth:token:delete, directory:organization:admin"));
    const auto alan = seed_entry(text, "Alan Agent (" + std::string(emu::seed::agent_user_id) + ")");
    CHECK(has(alan, "permissions: none"));

    const auto service = seed_entry(text, std::string(emu::seed::service_client_id) + ": Token Service");
    CHECK(has(service, "grant: client credentials"));
    CHECK(has(service, "secret: " + std::string(emu::seed::service_client_secret)));
    CHECK(has(service, "scope: oauth, organization"));
    CHECK(has(service, "permissions: oauth:token:delete, directory:organization:admin"));
    const auto readonly = seed_entry(text, std::string(emu::seed::readonly_client_id) + ": Read-only Reporter");
    CHECK(has(readonly, "grant: client credentials"));
    CHECK(has(readonly, "secret: " + std::string(emu::seed::readonly_client_secret)));
    CHECK(has(readonly, "scope: users:readonly"));
    CHECK(has(readonly, "permissions: none"));
    const auto desktop = seed_entry(text, std::string(emu::seed::desktop_client_id) + ": Agent Desktop");
    CHECK(has(desktop, "grant: authorization code, PKCE (S256) required"));
    CHECK(has(desktop, "secret: none (public: client_id in the token request's form)"));
    CHECK(has(desktop, "redirect URIs: " + std::string(emu::seed::desktop_redirect_uri)));
    CHECK(has(desktop, "scope: users, oauth"));
    const auto saml = seed_entry(text, std::string(emu::seed::saml_client_id) + ": SSO Bridge");
    CHECK(has(saml, "grant: SAML2 bearer"));
    CHECK(has(saml, "secret: " + std::string(emu::seed::saml_client_secret)));

    const auto admin = seed_entry(text, emu::seed::admin_token);
    CHECK(has(admin, "user: Ada Admin, through client-desktop"));
    CHECK(has(admin, "may: read and revoke itself, read the idle-token timeout"));
    CHECK(has(admin, "revoke every token of a user (oauth:token:delete)"));
    CHECK(has(admin, "set the idle-token timeout (directory:organization:admin)"));
    const auto agent = seed_entry(text, emu::seed::agent_token);
    CHECK(has(agent, "user: Alan Agent, through client-desktop"));
    CHECK(has(agent, "may: read and revoke itself, read the idle-token timeout"));
    CHECK_FALSE(has(agent, "oauth:token:delete"));

    // Whatever the seed gains later: every id, secret, redirect URI and token is there.
    const auto seed = boost::json::parse(emu::default_seed()).as_object();
    for (const auto* list : {"organizations", "users", "clients", "tokens"})
        for (const auto& item : seed.at(list).as_array())
            for (const auto* key : {"id", "secret", "token"})
                if (const auto* v = item.as_object().if_contains(key))
                    CHECK_MESSAGE(has(text, v->as_string().c_str()), list << " " << key << " " << v->as_string().c_str());
}

TEST_CASE("emulator: describe_seed describes a custom seed, and refuses what is not one")
{
    const std::string text = emu::describe_seed(custom_seed);
    INFO(text);
    CHECK(has(seed_entry(text, "Globex Corporation (org-globex)"), "idle-token timeout: off"));
    const auto web = seed_entry(text, "globex-web: Globex Web");
    CHECK(has(web, "grant: authorization code"));
    CHECK(has(web, "secret: web-secret"));
    CHECK(has(web, "redirect URIs: any"));
    CHECK(has(web, "permissions: none"));
    const auto app = seed_entry(text, "globex-app: Globex Backend");
    CHECK(has(app, "permissions: directory:organization:admin"));
    const auto boss = seed_entry(text, "globex-boss-token");
    CHECK(has(boss, "user: Hank Scorpio, through globex-web"));
    CHECK(has(boss, "revoke every token of a user (oauth:token:delete)"));
    CHECK_FALSE(has(boss, "directory:organization:admin"));

    CHECK_THROWS(emu::describe_seed("not json"));
    CHECK_THROWS(emu::describe_seed("[]"));
}
