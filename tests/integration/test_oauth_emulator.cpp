// OAuth over real HTTP and HTTPS against the emulator, through both adapters: a token source
// obtains a real token, uses it, loses it to revocation and to expiry, and gets a new one; the
// login host's errors arrive typed; threads with their own connections share one login.

#include "emulator_process.hpp"
#include "emulator.hpp"

#include <genesys/transport/beast.hpp>
#include <genesys/transport/curl.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace seed = genesys_emulator::seed;
using namespace std::chrono_literals;
using genesys::http_method;

namespace {

/// Counts the requests sent through the transport it wraps.
template <class Inner>
struct counting_transport {
    Inner inner;
    std::shared_ptr<std::atomic<int>> sent = std::make_shared<std::atomic<int>>(0);

    boost::system::result<genesys::http_response> send(const genesys::http_request& req)
    {
        ++*sent;
        return inner.send(req);
    }
};

template <bool Tls>
std::string ca_file()
{
    return Tls ? testproc::tls_material::get().cert : std::string();
}

template <bool Tls>
struct via_curl {
    static constexpr bool tls = Tls;
    using transport = genesys::curl_transport;
    static transport make()
    {
        genesys::curl_options o;
        o.ca_file = ca_file<Tls>();
        o.timeout = 5s;
        return transport(o);
    }
};

template <bool Tls>
struct via_beast {
    static constexpr bool tls = Tls;
    using transport = genesys::beast_transport;
    static transport make()
    {
        genesys::beast_options o;
        o.ca_file = ca_file<Tls>();
        o.timeout = 5s;
        return transport(o);
    }
};

genesys::oauth_config service_login(testproc::emulator_process& emu, std::string secret = std::string(seed::service_client_secret))
{
    return {.login_url = genesys::login_url_for(emu.base_url()),
            .client_id = std::string(seed::service_client_id),
            .client_secret = std::move(secret)};
}

} // namespace

#define OAUTH_SETUPS via_curl<false>, via_curl<true>, via_beast<false>, via_beast<true>

TEST_CASE_TEMPLATE("OAuth over HTTP: a token source obtains, uses, revokes and refreshes a real token", V, OAUTH_SETUPS)
{
    auto& emu = testproc::shared_emulator(V::tls);
    counting_transport<typename V::transport> login{V::make()};
    const auto logins = login.sent;
    auto source = genesys::make_client_credentials_source(genesys::oauth_client{std::move(login), service_login(emu)});
    genesys::tokens_api api{V::make(), {.base_url = emu.base_url(), .token_source = source}};

    // Obtained on the first call, and used.
    CHECK(*logins == 0);
    auto me = api.get_tokens_me();
    REQUIRE(me.oauth_client.has_value());
    CHECK(me.oauth_client->id == std::string(seed::service_client_id));
    CHECK(*logins == 1);
    const std::string first = source->token();
    CHECK(first.size() >= 32);
    REQUIRE(source->expires_at().has_value());
    CHECK(*source->expires_at() - std::chrono::steady_clock::now() > 86000s);
    CHECK(api.verify_token());
    CHECK(*logins == 1);

    // Revoked: the server no longer takes it, and the source dropped it.
    api.delete_tokens_me();
    CHECK_FALSE(source->has_fresh_token());
    genesys::tokens_api with_first{V::make(), {.base_url = emu.base_url(), .access_token = first}};
    CHECK_FALSE(with_first.verify_token());
    CHECK(api.verify_token()); // a new token
    CHECK(*logins == 2);
    const std::string second = source->token();
    CHECK(second != first);

    // Expired on the server (its clock moves a day; ours does not): the 401 brings a refresh and one retry.
    emu.control(http_method::post, "/__emulator/clock", R"({"advanceSeconds":86400})");
    genesys::tokens_api with_second{V::make(), {.base_url = emu.base_url(), .access_token = second}};
    CHECK_FALSE(with_second.verify_token());
    auto again = api.try_get_tokens_me();
    REQUIRE(again.has_value());
    CHECK(again->data.oauth_client->id == std::string(seed::service_client_id));
    CHECK(*logins == 3);
    const std::string third = source->token();
    CHECK(third != second);
    CHECK(third != first);
}

TEST_CASE_TEMPLATE("OAuth over HTTP: the login host's refusals are typed errors, and never show the secret", V,
                   OAUTH_SETUPS)
{
    auto& emu = testproc::shared_emulator(V::tls);
    const std::string wrong_secret = "not-the-secret-7f3a9c";
    genesys::oauth_client wrong{V::make(), service_login(emu, wrong_secret)};
    auto refused = wrong.try_client_credentials();
    REQUIRE(refused.has_error());
    const genesys::error e = refused.error();
    CHECK(e.kind == genesys::error_kind::api);
    CHECK(e.status == 401);
    CHECK(e.body->code == "invalid_client");
    CHECK(e.message.starts_with("requestToken failed: HTTP 401 invalid_client: authentication failed"));
    CHECK(e.message.find(wrong_secret) == std::string::npos);
    const auto oauth = genesys::oauth_error_of(e);
    REQUIRE(oauth.has_value());
    CHECK(oauth->error == "invalid_client");
    CHECK(oauth->description == "authentication failed");
    CHECK(oauth->error_description == "authentication failed");

    // The emulator grants client credentials only: the refresh grant is refused as the platform would.
    genesys::oauth_client service{V::make(), service_login(emu)};
    auto unsupported = service.try_refresh_token("some-refresh-token");
    REQUIRE(unsupported.has_error());
    CHECK(unsupported.error().status == 400);
    CHECK(unsupported.error().body->code == "unsupported_grant_type");

    // Through a token source, the API call fails with the login error; nothing reaches the API.
    auto source = genesys::make_client_credentials_source(genesys::oauth_client{V::make(), service_login(emu, wrong_secret)});
    counting_transport<typename V::transport> api_transport{V::make()};
    const auto api_requests = api_transport.sent;
    genesys::tokens_api api{std::move(api_transport), {.base_url = emu.base_url(), .token_source = source}};
    try {
        api.get_tokens_me();
        FAIL("no exception");
    } catch (const genesys::api_error& ex) {
        CHECK(ex.status() == 401);
        CHECK(ex.operation() == "requestToken");
        CHECK(genesys::oauth_error_of(ex)->error == "invalid_client");
        CHECK(std::string(ex.what()).find(wrong_secret) == std::string::npos);
        CHECK(std::string(ex.what()).starts_with("getTokensMe could not get a token"));
    }
    CHECK(*api_requests == 0);
    CHECK(source->fetch_count() == 1);
}

TEST_CASE("OAuth over HTTP: eight threads, each with its own connection, share one token source and one login")
{
    auto& emu = testproc::shared_emulator(false);
    counting_transport<genesys::curl_transport> login{via_curl<false>::make()};
    const auto logins = login.sent;
    auto source = genesys::make_client_credentials_source(genesys::oauth_client{std::move(login), service_login(emu)});
    const auto live_before = emu.stats().at("liveTokens").as_int64();

    constexpr int threads = 8;
    std::latch start(threads);
    std::atomic<int> ok{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&] {
            genesys::tokens_api api{via_curl<false>::make(), {.base_url = emu.base_url(), .token_source = source}};
            start.arrive_and_wait();
            for (int i = 0; i < 3; ++i)
                ok += api.try_get_tokens_me().has_value();
        });
    for (auto& th : pool)
        th.join();

    CHECK(ok == threads * 3);
    CHECK(*logins == 1);
    CHECK(emu.stats().at("liveTokens").as_int64() - live_before == 1);
}
