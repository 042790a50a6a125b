// SPDX-License-Identifier: BSL-1.0
// Performs every operation of the Tokens API and prints each request and its result.
// The server is genesys::testing::fake_transport, primed with the answers the platform gives.

#include <genesys/genesys.hpp>
#include <genesys/testing/fake_transport.hpp>

#include <iostream>
#include <string>

namespace {

/// Wraps a transport and prints what crosses it, with the Authorization header redacted.
template <genesys::transport Inner>
struct printing_transport {
    Inner inner;

    boost::system::result<genesys::http_response> send(const genesys::http_request& req)
    {
        std::cout << "  > " << genesys::to_string(req.method) << ' ' << req.url << '\n';
        genesys::http_headers shown = req.headers; // lookups ignore case
        if (shown.contains("Authorization"))
            shown.set("Authorization", "Bearer [REDACTED]");
        for (const auto& h : shown)
            std::cout << "  > " << h.name << ": " << h.value << '\n';
        if (!req.body.empty())
            std::cout << "  > " << req.body << '\n';
        auto res = inner.send(req);
        if (res)
            std::cout << "  < " << res->status << ' ' << res->headers.get("ININ-Correlation-Id").value_or("") << ' '
                      << res->body.substr(0, 120) << (res->body.size() > 120 ? "..." : "") << '\n';
        else
            std::cout << "  < network error: " << res.error().message() << '\n';
        return res;
    }
};

genesys::http_response answer(int status, std::string body, std::string correlation_id)
{
    return {status,
            {{"Content-Type", "application/json"}, {"ININ-Correlation-Id", std::move(correlation_id)}},
            std::move(body)};
}

void step(const char* title) { std::cout << '\n' << title << '\n'; }

} // namespace

int main()
{
    genesys::testing::fake_transport server;
    server.respond(answer(200, "", "corr-head"))
        .respond(answer(200,
                        R"({"organization":{"id":"6f0b3c4e","name":"Acme Contact Centre"},)"
                        R"("homeOrganization":{"id":"6f0b3c4e","name":"Acme Contact Centre"},)"
                        R"("authorizedScope":["users:readonly","oauth:token:delete"],)"
                        R"("dateTokenIdles":"2026-11-27T22:15:30.250Z",)"
                        R"("OAuthClient":{"id":"9c2e4f61","name":"Agent Desktop","authorizedGrantType":"CLIENT-CREDENTIALS"}})",
                        "corr-me"))
        .respond(answer(200, R"({"idleTokenTimeoutSeconds":900,"enableIdleTokenTimeout":true})", "corr-get-timeout"))
        .respond(answer(200, R"({"idleTokenTimeoutSeconds":1800,"enableIdleTokenTimeout":true})", "corr-put-timeout"))
        .respond(answer(204, "", "corr-revoke"))
        .respond(answer(429,
                        R"({"message":"Rate limit exceeded the maximum. Retry the request in [42] seconds",)"
                        R"("code":"too.many.requests.retry.after","status":429,"contextId":"corr-429"})",
                        "corr-429"))
        .respond(answer(200, "", "corr-logout"))
        .respond(answer(401, R"({"message":"Invalid token","code":"authentication.required","status":401})",
                        "corr-after-logout"));

    genesys::client_config config{.base_url = genesys::api_base_url(genesys::region::eu_west_1),
                                  .access_token = "demo-access-token-not-a-real-one"};
    genesys::tokens_api api{printing_transport<genesys::testing::fake_transport>{server}, config};

    step("headTokensMe: is the token valid?");
    const bool valid = api.verify_token();
    std::cout << "  = " << (valid ? "valid" : "not valid") << '\n';

    step("getTokensMe (preserveIdleTTL=true): what is this token?");
    auto me = api.try_get_tokens_me(true);
    const genesys::token_info& info = me.value().data;
    std::cout << "  = organization " << info.organization->name.value_or("?") << ", client "
              << info.oauth_client->name << " (" << info.oauth_client->authorized_grant_type << "), "
              << info.authorized_scope->size() << " scopes, idles at "
              << genesys::format_date_time(*info.date_token_idles) << ", correlation id " << me->correlation_id()
              << '\n';

    step("getTokensTimeout");
    auto timeout = api.get_tokens_timeout();
    std::cout << "  = idle timeout " << timeout.idle_token_timeout_seconds.value_or(0) << " s\n";

    step("putTokensTimeout: 30 minutes");
    genesys::idle_token_timeout wanted;
    wanted.enable_idle_token_timeout = true;
    wanted.idle_token_timeout_seconds = 1800;
    const genesys::idle_token_timeout stored = api.put_tokens_timeout(wanted);
    std::cout << "  = stored " << stored.idle_token_timeout_seconds.value_or(0) << " s\n";

    step("deleteToken: revoke every token of another user");
    api.delete_token("0d6f2a31-5b7c-4e8d-9f10-1a2b3c4d5e6f");
    std::cout << "  = revoked\n";

    step("deleteToken with a hostile id: rejected before anything is sent");
    auto rejected = api.try_delete_token("..");
    std::cout << "  = " << rejected.error() << '\n';

    step("deleteToken while rate limited: a typed error keeps status, code and correlation id");
    try {
        api.delete_token("0d6f2a31-5b7c-4e8d-9f10-1a2b3c4d5e6f");
    } catch (const genesys::api_error& e) {
        std::cout << "  = api_error " << e.status() << ' ' << e.body()->code.value_or("") << ' ' << e.correlation_id()
                  << '\n';
    }

    step("deleteTokensMe: log out");
    api.delete_tokens_me();
    std::cout << "  = logged out\n";

    step("headTokensMe after logout");
    const bool still_valid = api.verify_token();
    std::cout << "  = " << (still_valid ? "valid" : "not valid") << '\n';

    std::cout << "\n" << server.request_count() << " requests sent, " << server.pending() << " answers left\n";
    return server.pending() == 0 ? 0 : 1;
}
