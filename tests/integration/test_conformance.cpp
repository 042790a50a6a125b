// SPDX-License-Identifier: BSL-1.0
// One conformance suite for both transport adapters, over real HTTP and HTTPS against the
// emulator: every operation, the documented errors, the fault modes, keep-alive and TLS trust.

#include "emulator_process.hpp"
#include "emulator.hpp"

#include <genesys/transport/beast.hpp>
#include <genesys/transport/curl.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <string>

namespace seed = genesys_emulator::seed;
using namespace std::chrono_literals;
using genesys::http_method;

namespace {

struct curl_adapter {
    using transport = genesys::curl_transport;
    static transport make(const std::string& ca_file, std::chrono::milliseconds timeout = 5000ms)
    {
        genesys::curl_options o;
        o.ca_file = ca_file;
        o.timeout = timeout;
        return transport(o);
    }
};

struct beast_adapter {
    using transport = genesys::beast_transport;
    static transport make(const std::string& ca_file, std::chrono::milliseconds timeout = 5000ms)
    {
        genesys::beast_options o;
        o.ca_file = ca_file;
        o.timeout = timeout;
        return transport(o);
    }
};

template <class Adapter, bool Tls>
struct setup {
    using adapter = Adapter;
    static constexpr bool tls = Tls;

    static testproc::emulator_process& emulator() { return testproc::shared_emulator(Tls); }
    static std::string ca() { return Tls ? testproc::tls_material::get().cert : std::string(); }
    static typename Adapter::transport transport(std::chrono::milliseconds timeout = 5000ms)
    {
        return Adapter::make(ca(), timeout);
    }
    static genesys::tokens_api<typename Adapter::transport> api(testproc::emulator_process& emu,
                                                                std::string_view token,
                                                                genesys::http_headers extra = {},
                                                                std::chrono::milliseconds timeout = 5000ms)
    {
        return {transport(timeout),
                {.base_url = emu.base_url(), .access_token = std::string(token), .default_headers = std::move(extra)}};
    }
};

template <class Api>
int api_status_of(Api&& call)
{
    try {
        call();
    } catch (const genesys::api_error& e) {
        return e.status();
    }
    return 0;
}

} // namespace

#define SETUPS                                                                                                        \
    setup<curl_adapter, false>, setup<curl_adapter, true>, setup<beast_adapter, false>, setup<beast_adapter, true>

TEST_CASE_TEMPLATE("every operation works over real HTTP", S, SETUPS)
{
    auto& emu = S::emulator();
    auto admin = S::api(emu, seed::admin_token);
    auto agent = S::api(emu, seed::agent_token);

    CHECK(admin.verify_token());

    auto me = admin.try_get_tokens_me();
    REQUIRE(me.has_value());
    CHECK(me->status == 200);
    CHECK(me->correlation_id().size() == 36);
    CHECK(me->data.organization->name == std::string(seed::org_name));
    CHECK(me->data.oauth_client->name == "Agent Desktop");
    CHECK(me->data.oauth_client->authorized_grant_type == "CODE");
    REQUIRE(me->data.date_token_idles.has_value());

    SUBCASE("preserveIdleTTL keeps the idle timer; without it the timer restarts")
    {
        const auto idles = *admin.get_tokens_me(true).date_token_idles;
        emu.control(http_method::post, "/__emulator/clock", R"({"advanceSeconds":120})");
        CHECK(*admin.get_tokens_me(true).date_token_idles == idles);
        CHECK(*admin.get_tokens_me().date_token_idles >= idles + 120s);
    }
    SUBCASE("the idle timeout is read and written")
    {
        CHECK(admin.get_tokens_timeout().idle_token_timeout_seconds == 900);
        genesys::idle_token_timeout wanted;
        wanted.idle_token_timeout_seconds = 1800;
        wanted.enable_idle_token_timeout = true;
        CHECK(admin.put_tokens_timeout(wanted).idle_token_timeout_seconds == 1800);
        CHECK(agent.get_tokens_timeout().idle_token_timeout_seconds == 1800);
    }
    SUBCASE("deleteToken revokes another user's tokens")
    {
        CHECK(agent.verify_token());
        admin.delete_token(seed::agent_user_id);
        CHECK_FALSE(agent.verify_token());
        CHECK(admin.verify_token());
    }
    SUBCASE("deleteTokensMe revokes the token used")
    {
        admin.delete_tokens_me();
        CHECK_FALSE(admin.verify_token());
        CHECK(api_status_of([&] { admin.get_tokens_me(); }) == 401);
        CHECK(agent.verify_token());
    }
    SUBCASE("head_tokens_me succeeds without a body")
    {
        auto r = admin.try_head_tokens_me();
        REQUIRE(r.has_value());
        CHECK(r->status == 200);
    }
}

TEST_CASE_TEMPLATE("a client-credentials token is obtained, used and revoked", S, SETUPS)
{
    auto& emu = S::emulator();
    genesys::oauth_client login{S::transport(), {.login_url = emu.base_url(),
                                                 .client_id = std::string(seed::service_client_id),
                                                 .client_secret = std::string(seed::service_client_secret)}};
    auto token = login.client_credentials();
    CHECK(token.token_type == "bearer");
    CHECK(token.expires_in == 86399);
    CHECK(token.access_token.size() >= 32);

    auto api = S::api(emu, token.access_token);
    CHECK(api.get_tokens_me().oauth_client->id == std::string(seed::service_client_id));
    api.delete_token(seed::agent_user_id); // the service client may revoke
    api.delete_tokens_me();
    CHECK_FALSE(api.verify_token());

    genesys::oauth_client wrong{S::transport(), {.login_url = emu.base_url(),
                                                 .client_id = std::string(seed::service_client_id),
                                                 .client_secret = "not-the-secret"}};
    try {
        wrong.client_credentials();
        FAIL("no exception");
    } catch (const genesys::api_error& e) {
        CHECK(e.status() == 401);
        CHECK(e.body()->code == "invalid_client");
        CHECK(std::string(e.what()).find("not-the-secret") == std::string::npos);
    }
}

TEST_CASE_TEMPLATE("the documented errors arrive as typed errors with their details", S, SETUPS)
{
    auto& emu = S::emulator();
    auto admin = S::api(emu, seed::admin_token);
    auto agent = S::api(emu, seed::agent_token);

    auto expect = [](auto&& call, int status, std::string_view code) {
        try {
            call();
            FAIL("no exception");
        } catch (const genesys::api_error& e) {
            CHECK(e.status() == status);
            REQUIRE(e.body().has_value());
            CHECK(e.body()->code == std::string(code));
            CHECK(e.correlation_id().size() == 36);
            CHECK(e.body()->context_id == e.correlation_id());
            return e;
        }
        return genesys::api_error(genesys::error{});
    };

    auto stranger = S::api(emu, "not-a-token-anyone-issued");
    expect([&] { stranger.get_tokens_me(); }, 401, "bad.credentials");
    expect([&] { agent.delete_token(seed::admin_user_id); }, 403, "missing.any.permissions");
    expect([&] { agent.put_tokens_timeout({}); }, 403, "missing.any.permissions");
    expect([&] { admin.delete_token("no-such-user"); }, 404, "not.found");
    genesys::idle_token_timeout too_long; // below 300 s the client refuses to send
    too_long.idle_token_timeout_seconds = 28801;
    expect([&] { admin.put_tokens_timeout(too_long); }, 400, "invalid.value");

    auto wrong_type = S::api(emu, seed::admin_token, {{"Content-Type", "text/plain"}});
    expect([&] { wrong_type.put_tokens_timeout({}); }, 415, "unsupported.media.type");

    emu.control(http_method::post, "/__emulator/faults", R"({"mode":"server-error","count":1})");
    expect([&] { admin.get_tokens_me(); }, 503, "service.unavailable");

    emu.control(http_method::post, "/__emulator/config", R"({"rateLimit":2})");
    auto fresh_token = boost::json::parse(emu.control(http_method::post, "/__emulator/tokens",
                                                      R"({"user":")" + std::string(seed::agent_user_id) +
                                                          R"(","client":"client-desktop"})")
                                              .body)
                           .at("access_token")
                           .as_string();
    auto limited_api = S::api(emu, std::string(fresh_token));
    CHECK(limited_api.verify_token());
    CHECK(limited_api.verify_token());
    auto limited = expect([&] { limited_api.get_tokens_me(); }, 429, "too.many.requests.retry.after");
    CHECK(std::stoi(std::string(limited.headers().get("Retry-After").value_or("0"))) >= 1);
    CHECK(limited.headers().get("inin-ratelimit-allowed") == "2");
}

TEST_CASE_TEMPLATE("every fault mode ends in its documented error, and the next call works", S, SETUPS)
{
    auto& emu = S::emulator();
    struct fault_case {
        std::string mode;
        int ms;
        genesys::error_kind kind;
    };
    const fault_case cases[] = {
        {"invalid-json", 0, genesys::error_kind::decode},
        {"wrong-content-type", 0, genesys::error_kind::decode},
        {"close-before", 0, genesys::error_kind::network},
        {"close-mid", 0, genesys::error_kind::network},
        {"truncate", 0, genesys::error_kind::network},
        {"delay", 1500, genesys::error_kind::network}, // beyond the client's 500 ms timeout
        {"server-error", 0, genesys::error_kind::api},
        {"rate-limited", 2000, genesys::error_kind::api},
    };
    for (const auto& c : cases) {
        CAPTURE(c.mode);
        // A fresh connection each time: on a reused keep-alive connection that the server closes
        // before answering, the adapters rightly reconnect and send again.
        auto api = S::api(emu, seed::admin_token, {}, 500ms);
        emu.control(http_method::post, "/__emulator/faults",
                    R"({"mode":")" + c.mode + R"(","ms":)" + std::to_string(c.ms) + "}");
        const auto started = std::chrono::steady_clock::now();
        auto r = api.try_get_tokens_me();
        // No hang: every fault ends within the client's 500 ms timeout plus generous slack.
        CHECK(std::chrono::steady_clock::now() - started < 5s);
        REQUIRE(r.has_error());
        CHECK(r.error().kind == c.kind);
        CHECK(r.error().code);
        auto next = api.try_get_tokens_me();
        CHECK(next.has_value());
    }
}

TEST_CASE_TEMPLATE("keep-alive: many calls share one connection", S, SETUPS)
{
    auto& emu = S::emulator();
    const auto before = emu.stats().at("connections").as_int64();
    auto api = S::api(emu, seed::admin_token);
    for (int i = 0; i < 5; ++i) {
        CHECK(api.verify_token());
        CHECK(api.get_tokens_me(true).organization.has_value());
    }
    CHECK(emu.stats().at("connections").as_int64() - before == 1);
}

TEST_CASE_TEMPLATE("an untrusted certificate is refused", A, curl_adapter, beast_adapter)
{
    auto& emu = testproc::shared_emulator(true);
    genesys::tokens_api api{A::make(""), {.base_url = emu.base_url(), .access_token = std::string(seed::admin_token)}};
    auto r = api.try_verify_token();
    REQUIRE(r.has_error());
    CHECK(r.error().kind == genesys::error_kind::network);
    CHECK(r.error().status == 0);

    genesys::tokens_api trusted{A::make(testproc::tls_material::get().cert),
                                {.base_url = emu.base_url(), .access_token = std::string(seed::admin_token)}};
    CHECK(trusted.verify_token());
}

TEST_CASE("the emulator stops cleanly on SIGTERM")
{
    testproc::emulator_process emu;
    genesys::tokens_api api{curl_adapter::make(""), {.base_url = emu.base_url(), .access_token = std::string(seed::admin_token)}};
    CHECK(api.verify_token());
    CHECK(emu.stop() == 0);
    CHECK(emu.log().find("stopped") != std::string::npos);
    CHECK(api.try_verify_token().error().kind == genesys::error_kind::network);
}
