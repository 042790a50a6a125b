// SPDX-License-Identifier: BSL-1.0
// OAuth over real HTTP and HTTPS against the emulator, through both adapters: a token source
// obtains a real token, uses it, loses it to revocation and to expiry, and gets a new one; the
// login host's errors arrive typed; threads with their own connections share one login.

#include "emulator_process.hpp"
#include "emulator.hpp"
#include "server.hpp" // the server itself, in-process, for the shutdown tests below

#include <genesys/async_oauth_client.hpp>
#include <genesys/transport/beast.hpp>
#include <genesys/transport/beast_async.hpp>
#include <genesys/transport/curl.hpp>

#include <doctest/doctest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <latch>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
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
    CHECK(e.message.starts_with(
        "requestToken failed: the login host answered HTTP 401 invalid_client: authentication failed"));
    CHECK(e.code == genesys::condition::login_failed);
    CHECK(e.message.find(wrong_secret) == std::string::npos);
    const auto oauth = genesys::oauth_error_of(e);
    REQUIRE(oauth.has_value());
    CHECK(oauth->error == "invalid_client");
    CHECK(oauth->description == "authentication failed");
    CHECK(oauth->error_description == "authentication failed");

    // A refresh token the login host never issued is invalid_grant.
    genesys::oauth_client service{V::make(), service_login(emu)};
    auto unknown = service.try_refresh_token("some-refresh-token");
    REQUIRE(unknown.has_error());
    CHECK(unknown.error().status == 400);
    CHECK(unknown.error().body->code == "invalid_grant");

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

// ---------------------------------------------------------------------------------------------
// The other grants: authorization code with PKCE, refresh token (rotating), SAML2 bearer
// ---------------------------------------------------------------------------------------------

namespace {

/// The emulator's stand-in for the browser's trip to /oauth/authorize: a one-time code.
std::string authorize(testproc::emulator_process& emu, std::string_view client, std::string_view redirect_uri,
                      std::string_view challenge, std::string_view user)
{
    boost::json::object req{{"client_id", client},
                            {"redirect_uri", redirect_uri},
                            {"code_challenge", challenge},
                            {"code_challenge_method", "S256"},
                            {"user", user}};
    auto r = emu.control(http_method::post, "/__emulator/authorize", boost::json::serialize(req));
    REQUIRE_MESSAGE(r.status == 200, r.body);
    auto o = boost::json::parse(r.body).as_object();
    REQUIRE(o.contains("code"));
    CHECK(std::string(o.at("redirect").as_string()).starts_with(std::string(redirect_uri) + "?code="));
    return std::string(o.at("code").as_string());
}

/// The seed's public client (no secret): client_id goes in the form.
genesys::oauth_client<genesys::curl_transport> desktop_login(testproc::emulator_process& emu)
{
    return {via_curl<false>::make(),
            {.login_url = genesys::login_url_for(emu.base_url()), .client_id = std::string(seed::desktop_client_id)}};
}

genesys::tokens_api<genesys::curl_transport> api_with(testproc::emulator_process& emu, std::string token)
{
    return {via_curl<false>::make(), {.base_url = emu.base_url(), .access_token = std::move(token)}};
}

void check_oauth_refusal(const genesys::error& e, int status, std::string_view code)
{
    INFO("error: " << e.message << " body: " << e.raw_body);
    CHECK(e.kind == genesys::error_kind::api);
    CHECK(e.status == status);
    const auto oauth = genesys::oauth_error_of(e);
    REQUIRE(oauth.has_value());
    CHECK(oauth->error == std::string(code));
    CHECK(oauth->error_description.has_value());
    CHECK_FALSE(e.correlation_id.empty());
}

template <class T>
genesys::error failure_of_grant(const genesys::result<T>& r)
{
    REQUIRE_MESSAGE(r.has_error(), "the grant succeeded but was expected to fail");
    return r.error();
}

std::string saml_assertion(std::string_view name_id)
{
    return genesys::base64_encode(
        R"(<saml2:Assertion xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion" Version="2.0"><saml2:Subject>)"
        R"(<saml2:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified">)" +
        std::string(name_id) + "</saml2:NameID></saml2:Subject></saml2:Assertion>");
}

} // namespace

TEST_CASE("OAuth over HTTP: authorization code with PKCE for a public client, a wrong verifier or a reused code is invalid_grant")
{
    auto& emu = testproc::shared_emulator(false);
    auto login = desktop_login(emu);
    const std::string redirect(seed::desktop_redirect_uri);
    const std::string verifier = genesys::make_code_verifier();
    const std::string code = authorize(emu, seed::desktop_client_id, redirect, genesys::code_challenge_s256(verifier),
                                       seed::admin_user_id);

    auto granted = login.try_authorization_code(code, redirect, verifier);
    REQUIRE_MESSAGE(granted.has_value(), granted.error().message);
    CHECK(granted->status == 200);
    CHECK(granted->data.token_type == "bearer");
    CHECK(granted->data.expires_in == std::optional<std::int64_t>(86399));
    REQUIRE(granted->data.refresh_token.has_value());
    CHECK(granted->data.refresh_token->size() >= 32);
    CHECK(*granted->data.refresh_token != granted->data.access_token);
    CHECK_FALSE(std::string(granted->correlation_id()).empty());

    // The token works, as the user's token through the desktop client.
    auto api = api_with(emu, granted->data.access_token);
    auto me = api.get_tokens_me();
    REQUIRE(me.oauth_client.has_value());
    CHECK(me.oauth_client->id == std::string(seed::desktop_client_id));
    CHECK(me.oauth_client->authorized_grant_type == "CODE");
    REQUIRE(me.organization.has_value());
    CHECK(me.organization->id == std::string(seed::org_id));
    // It is the admin's token: deleting the agent's tokens is allowed.
    CHECK(api.try_delete_token(seed::agent_user_id).has_value());

    // The code is used up.
    check_oauth_refusal(failure_of_grant(login.try_authorization_code(code, redirect, verifier)), 400, "invalid_grant");

    // A verifier that does not hash to the challenge is refused, and the code is then spent too.
    const std::string other_verifier = genesys::make_code_verifier();
    const std::string code2 = authorize(emu, seed::desktop_client_id, redirect, genesys::code_challenge_s256(verifier),
                                        seed::agent_user_id);
    check_oauth_refusal(failure_of_grant(login.try_authorization_code(code2, redirect, other_verifier)), 400,
                        "invalid_grant");
    check_oauth_refusal(failure_of_grant(login.try_authorization_code(code2, redirect, verifier)), 400, "invalid_grant");

    // The redirect_uri must be the one of the authorize step.
    const std::string code3 = authorize(emu, seed::desktop_client_id, redirect, genesys::code_challenge_s256(verifier),
                                        seed::agent_user_id);
    check_oauth_refusal(failure_of_grant(login.try_authorization_code(code3, redirect + "/elsewhere", verifier)), 400,
                        "invalid_grant");

    // A code never issued, and a code of another client.
    check_oauth_refusal(failure_of_grant(login.try_authorization_code("no-such-code", redirect, verifier)), 400,
                        "invalid_grant");
    const std::string code4 = authorize(emu, seed::desktop_client_id, redirect, genesys::code_challenge_s256(verifier),
                                        seed::agent_user_id);
    genesys::oauth_client service{via_curl<false>::make(), service_login(emu)};
    auto foreign = service.try_authorization_code(code4, redirect, verifier);
    REQUIRE(foreign.has_error());
    CHECK(foreign.error().status == 400); // unauthorized_client or invalid_grant, never a token
    // ... which did not spend it for its own client.
    CHECK(login.try_authorization_code(code4, redirect, verifier).has_value());
}

TEST_CASE("OAuth over HTTP: a refresh token rotates, the old one is refused, and a refresh-token source follows it")
{
    auto& emu = testproc::shared_emulator(false);
    auto login = desktop_login(emu);
    const std::string redirect(seed::desktop_redirect_uri);
    const std::string verifier = genesys::make_code_verifier(43);
    const auto first = login.authorization_code(
        authorize(emu, seed::desktop_client_id, redirect, genesys::code_challenge_s256(verifier), seed::agent_user_id),
        redirect, verifier);
    REQUIRE(first.refresh_token.has_value());

    // A refresh: a new access token and a new refresh token.
    auto refreshed = login.try_refresh_token(*first.refresh_token);
    REQUIRE_MESSAGE(refreshed.has_value(), refreshed.error().message);
    REQUIRE(refreshed->data.refresh_token.has_value());
    CHECK(*refreshed->data.refresh_token != *first.refresh_token);
    CHECK(refreshed->data.access_token != first.access_token);
    CHECK(refreshed->data.expires_in == std::optional<std::int64_t>(86399));
    auto me = api_with(emu, refreshed->data.access_token).get_tokens_me();
    REQUIRE(me.oauth_client.has_value());
    CHECK(me.oauth_client->id == std::string(seed::desktop_client_id));

    // The old refresh token is spent; the new one belongs to this client only.
    check_oauth_refusal(failure_of_grant(login.try_refresh_token(*first.refresh_token)), 400, "invalid_grant");
    genesys::oauth_client service{via_curl<false>::make(), service_login(emu)};
    CHECK(service.try_refresh_token(*refreshed->data.refresh_token).has_error());

    // A source over the grant: each renewal uses the refresh token the last one returned.
    auto source = genesys::make_refresh_token_source(desktop_login(emu), refreshed->data);
    CHECK(source->token() == refreshed->data.access_token);
    std::set<std::string> seen{first.access_token, refreshed->data.access_token};
    for (int i = 0; i < 3; ++i) {
        source->clear();
        const std::string t = source->token(); // throws if the source sent a spent refresh token
        CHECK(seen.insert(t).second);
        CHECK(api_with(emu, t).verify_token());
    }
    CHECK(source->fetch_count() == 3);
    genesys::tokens_api<genesys::curl_transport> api{via_curl<false>::make(), {.base_url = emu.base_url(), .token_source = source}};
    CHECK(api.get_tokens_me().oauth_client->id == std::string(seed::desktop_client_id));

    // The refresh token spent by the source's first renewal is refused.
    check_oauth_refusal(failure_of_grant(login.try_refresh_token(*refreshed->data.refresh_token)), 400, "invalid_grant");
}

namespace {

/// The application's store of its refresh token: one file, written whole each time, as a service
/// would keep it between runs.
struct refresh_token_file {
    std::filesystem::path path;
    std::shared_ptr<std::atomic<int>> writes = std::make_shared<std::atomic<int>>(0);

    void write(std::string_view token) const
    {
        std::ofstream out(path, std::ios::trunc);
        out << token << '\n';
        if (!out.flush())
            throw std::runtime_error("could not write " + path.string());
        ++*writes;
    }
    std::string read() const
    {
        std::ifstream in(path);
        std::string token;
        std::getline(in, token);
        return token;
    }
};

/// The spent refresh token `old` is refused to a new source started from it, as a failed login.
void check_spent(testproc::emulator_process& emu, const std::string& old)
{
    auto source = genesys::make_refresh_token_source(desktop_login(emu), old);
    auto r = source->try_token();
    REQUIRE(r.has_error());
    CHECK(r.error().code == genesys::condition::login_failed);
    check_oauth_refusal(r.error(), 400, "invalid_grant");
    CHECK(r.error().message.find(old) == std::string::npos);
    CHECK(r.error().raw_body.find(old) == std::string::npos);
}

} // namespace

TEST_CASE("OAuth over HTTP: a service keeps each rotated refresh token through on_refresh_token, restarts from it, and the spent ones are refused")
{
    auto& emu = testproc::shared_emulator(false);
    testproc::temp_dir dir;
    const refresh_token_file store{dir.path() / "refresh-token"};
    const std::string redirect(seed::desktop_redirect_uri);
    const std::string verifier = genesys::make_code_verifier();
    const auto first = desktop_login(emu).authorization_code(
        authorize(emu, seed::desktop_client_id, redirect, genesys::code_challenge_s256(verifier), seed::agent_user_id),
        redirect, verifier);
    REQUIRE(first.refresh_token.has_value());
    store.write(*first.refresh_token); // the first one is the application's to keep: it holds it
    const genesys::token_source_options keep{.on_refresh_token = [store](std::string_view rt) { store.write(rt); }};

    std::vector<std::string> spent{*first.refresh_token};
    {
        auto source = genesys::make_refresh_token_source(desktop_login(emu), first, keep);
        genesys::tokens_api api{via_curl<false>::make(), {.base_url = emu.base_url(), .token_source = source}};
        CHECK(api.get_tokens_me().oauth_client->id == std::string(seed::desktop_client_id));
        CHECK(*store.writes == 1); // the first token's access token is used: no grant yet
        for (int i = 0; i < 2; ++i) {
            source->clear();
            CHECK(api.verify_token()); // a refresh grant, whose new refresh token is kept before it is used
            const std::string kept = store.read();
            CHECK(kept.size() >= 32);
            CHECK(kept != spent.back());
            spent.push_back(kept);
        }
        CHECK(*store.writes == 3);
        CHECK(source->fetch_count() == 2);
    } // the service stops: the source, and the refresh token it held, are gone

    // The restart: a new source from the kept refresh token alone; its first call is a refresh grant.
    const std::string kept = spent.back();
    spent.pop_back();
    auto source = genesys::make_refresh_token_source(desktop_login(emu), kept, keep);
    genesys::tokens_api api{via_curl<false>::make(), {.base_url = emu.base_url(), .token_source = source}};
    const auto me = api.get_tokens_me();
    CHECK(me.oauth_client->id == std::string(seed::desktop_client_id));
    REQUIRE(me.organization.has_value());
    CHECK(me.organization->id == std::string(seed::org_id));
    CHECK(source->fetch_count() == 1);
    CHECK(*store.writes == 4);
    CHECK(store.read() != kept); // rotated by the restart's grant, and kept again

    // The ones spent before the restart, and the one it started from, are refused.
    spent.push_back(kept);
    for (const auto& old : spent)
        check_spent(emu, old);
}

TEST_CASE("OAuth over HTTP: the asynchronous refresh-token grant keeps its rotated refresh token through the same on_refresh_token, on the I/O thread")
{
    auto& emu = testproc::shared_emulator(false);
    testproc::temp_dir dir;
    const refresh_token_file store{dir.path() / "refresh-token"};
    const std::string redirect(seed::desktop_redirect_uri);
    const std::string verifier = genesys::make_code_verifier();
    const auto first = desktop_login(emu).authorization_code(
        authorize(emu, seed::desktop_client_id, redirect, genesys::code_challenge_s256(verifier), seed::agent_user_id),
        redirect, verifier);
    REQUIRE(first.refresh_token.has_value());
    store.write(*first.refresh_token);

    boost::asio::io_context ioc;
    auto work = boost::asio::make_work_guard(ioc);
    struct io_thread {
        explicit io_thread(boost::asio::io_context& c) : ioc(c), thread([this] { ioc.run(); }) {}
        io_thread(const io_thread&) = delete;
        io_thread& operator=(const io_thread&) = delete;
        boost::asio::io_context& ioc;
        std::thread thread;
        ~io_thread()
        {
            ioc.stop();
            thread.join();
        }
    };
    std::optional<io_thread> io(std::in_place, ioc);
    std::mutex mutex;
    std::vector<std::thread::id> threads;
    {
        genesys::oauth_client login{genesys::beast_async_transport{ioc},
                                    {.login_url = genesys::login_url_for(emu.base_url()),
                                     .client_id = std::string(seed::desktop_client_id)}};
        // A restart from the kept refresh token, with the asynchronous grant.
        auto source = genesys::make_refresh_token_source(
            std::move(login), store.read(), {.on_refresh_token = [&, store](std::string_view rt) {
                store.write(rt);
                std::lock_guard lock(mutex);
                threads.push_back(std::this_thread::get_id());
            }});
        const auto token = source->try_token(); // blocks this thread; the grant runs on `io`
        REQUIRE_MESSAGE(token.has_value(), token.error().message);
        CHECK(api_with(emu, *token).verify_token());
        CHECK(*store.writes == 2);
        const std::string rotated = store.read();
        CHECK(rotated != *first.refresh_token);
        check_spent(emu, *first.refresh_token);

        source->clear();
        REQUIRE(source->try_token().has_value());
        CHECK(*store.writes == 3);
        CHECK(store.read() != rotated);
        check_spent(emu, rotated);
        io.reset(); // stopped and joined
    }
    std::lock_guard lock(mutex);
    REQUIRE(threads.size() == 2);
    for (auto id : threads)
        CHECK(id != std::this_thread::get_id()); // the I/O thread, where the grant completed
}

TEST_CASE("OAuth over HTTP: the SAML2 bearer grant issues a user token for a seeded organization and user")
{
    auto& emu = testproc::shared_emulator(false);
    genesys::oauth_config cfg{.login_url = genesys::login_url_for(emu.base_url()),
                              .client_id = std::string(seed::saml_client_id),
                              .client_secret = std::string(seed::saml_client_secret)};
    genesys::oauth_client login{via_curl<false>::make(), cfg};

    auto granted = login.try_saml2_bearer(seed::org_name, saml_assertion(seed::admin_user_id));
    REQUIRE_MESSAGE(granted.has_value(), granted.error().message);
    CHECK(granted->data.token_type == "bearer");
    REQUIRE(granted->data.refresh_token.has_value());
    auto api = api_with(emu, granted->data.access_token);
    auto me = api.get_tokens_me();
    REQUIRE(me.oauth_client.has_value());
    CHECK(me.oauth_client->id == std::string(seed::saml_client_id));
    CHECK(me.oauth_client->authorized_grant_type == "SAML2-BEARER");
    CHECK(api.try_delete_token(seed::agent_user_id).has_value()); // the admin's permissions

    // Its refresh token rotates like any other.
    auto refreshed = login.try_refresh_token(*granted->data.refresh_token);
    REQUIRE_MESSAGE(refreshed.has_value(), refreshed.error().message);
    check_oauth_refusal(failure_of_grant(login.try_refresh_token(*granted->data.refresh_token)), 400, "invalid_grant");

    // Refusals.
    check_oauth_refusal(failure_of_grant(login.try_saml2_bearer("No Such Org", saml_assertion(seed::admin_user_id))),
                        400, "invalid_grant");
    check_oauth_refusal(failure_of_grant(login.try_saml2_bearer(seed::org_name, saml_assertion("nobody"))), 400,
                        "invalid_grant");
    check_oauth_refusal(failure_of_grant(login.try_saml2_bearer(seed::org_name, genesys::base64_encode("<x/>"))), 400,
                        "invalid_grant");
    cfg.client_secret = "not-the-secret";
    genesys::oauth_client wrong{via_curl<false>::make(), cfg};
    check_oauth_refusal(failure_of_grant(wrong.try_saml2_bearer(seed::org_name, saml_assertion(seed::admin_user_id))),
                        401, "invalid_client");
    genesys::oauth_client service{via_curl<false>::make(), service_login(emu)};
    check_oauth_refusal(
        failure_of_grant(service.try_saml2_bearer(seed::org_name, saml_assertion(seed::admin_user_id))), 400,
        "unauthorized_client");
}

// ---------------------------------------------------------------------------------------------
// The emulator's front end over real HTTP: header limits, 405, headers on every response
// ---------------------------------------------------------------------------------------------

namespace {

/// Sends `request` (raw bytes) on a new connection and reads one response.
boost::beast::http::response<boost::beast::http::string_body> exchange(int port, const std::string& request)
{
    namespace asio = boost::asio;
    asio::io_context ioc;
    asio::ip::tcp::socket socket(ioc);
    socket.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
    asio::write(socket, asio::buffer(request));
    boost::beast::flat_buffer buffer;
    boost::beast::http::response<boost::beast::http::string_body> res;
    boost::beast::http::read(socket, buffer, res);
    return res;
}

void check_front_end_error(const boost::beast::http::response<boost::beast::http::string_body>& res, int status,
                           std::string_view code)
{
    INFO("body: " << res.body());
    CHECK(res.result_int() == static_cast<unsigned>(status));
    CHECK(std::string(res[boost::beast::http::field::content_type]).starts_with("application/json"));
    const std::string cid(res["ININ-Correlation-Id"]);
    CHECK(cid.size() == 36);
    for (auto name : {"inin-ratelimit-count", "inin-ratelimit-allowed", "inin-ratelimit-reset"})
        CHECK_MESSAGE(res.find(name) != res.end(), name);
    auto o = boost::json::parse(res.body()).as_object();
    CHECK(o.at("status").to_number<int>() == status);
    CHECK(o.at("code").as_string() == code);
    CHECK(o.contains("message"));
    CHECK(o.at("contextId").as_string() == cid);
}

} // namespace

TEST_CASE("emulator over HTTP: a request with a 12 000-byte bearer token is answered")
{
    auto& emu = testproc::shared_emulator(false);
    const std::string long_token(12000, 'k');
    auto api = api_with(emu, long_token);
    auto r = api.try_get_tokens_me();
    REQUIRE(r.has_error());
    INFO(r.error().message);
    CHECK(r.error().kind == genesys::error_kind::api);
    CHECK(r.error().status == 401);
    CHECK(r.error().body->code == "bad.credentials");

    // A long token the emulator issued itself is served normally.
    auto res = exchange(emu.port(), "GET /api/v2/tokens/me HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                                        std::string(seed::admin_token) + "\r\nX-Padding: " + std::string(12000, 'p') +
                                        "\r\n\r\n");
    CHECK(res.result_int() == 200);
}

TEST_CASE("emulator over HTTP: a 40 KB header section is 431 with the platform's ErrorBody, then the connection closes")
{
    auto& emu = testproc::shared_emulator(false);
    genesys::http_request req{http_method::get, emu.base_url() + "/api/v2/tokens/me",
                              {{"Authorization", "Bearer " + std::string(seed::admin_token)},
                               {"X-Large", std::string(40 * 1024, 'x')}},
                              {}};
    auto transport = via_curl<false>::make();
    auto r = transport.send(req);
    REQUIRE_MESSAGE(r.has_value(), r.error().message());
    CHECK(r->status == 431);
    auto body = boost::json::parse(r->body).as_object();
    CHECK(body.at("code") == "request.header.fields.too.large");
    CHECK(body.at("status").to_number<int>() == 431);
    CHECK(body.at("contextId").as_string() == r->headers.get("ININ-Correlation-Id").value_or("<none>"));
    CHECK(r->headers.get("Connection").value_or("") == "close");
    CHECK(r->headers.contains("inin-ratelimit-count"));

    auto raw = exchange(emu.port(), "GET /api/v2/tokens/me HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Large: " +
                                        std::string(40 * 1024, 'x') + "\r\n\r\n");
    check_front_end_error(raw, 431, "request.header.fields.too.large");
    CHECK_FALSE(raw.keep_alive());
    // The emulator is still serving.
    CHECK(api_with(emu, std::string(seed::admin_token)).verify_token());
}

TEST_CASE("emulator over HTTP: OPTIONS and wrong methods are 405 with Allow, an ErrorBody and every header")
{
    auto& emu = testproc::shared_emulator(false);
    auto options = exchange(emu.port(), "OPTIONS /api/v2/tokens/me HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    check_front_end_error(options, 405, "method.not.allowed");
    CHECK(options[boost::beast::http::field::allow] == "GET, HEAD, DELETE");

    auto trace = exchange(emu.port(), "TRACE /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    check_front_end_error(trace, 405, "method.not.allowed");
    CHECK(trace[boost::beast::http::field::allow] == "POST");

    auto post_me = exchange(emu.port(), "POST /api/v2/tokens/me HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                                            std::string(seed::admin_token) + "\r\nContent-Length: 0\r\n\r\n");
    check_front_end_error(post_me, 405, "method.not.allowed");
    CHECK(post_me[boost::beast::http::field::allow] == "GET, HEAD, DELETE");

    auto get_token = exchange(emu.port(), "GET /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    check_front_end_error(get_token, 405, "method.not.allowed");
    CHECK(get_token[boost::beast::http::field::allow] == "POST");

    auto unknown = exchange(emu.port(), "OPTIONS /api/v2/nothing HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    check_front_end_error(unknown, 404, "not.found");
    auto no_auth = exchange(emu.port(), "GET /api/v2/tokens/me HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    check_front_end_error(no_auth, 401, "authentication.required");
}

// ---------------------------------------------------------------------------------------------
// Shutdown, whatever is in flight (the server in-process, and the process on SIGTERM)
// ---------------------------------------------------------------------------------------------

namespace {

/// The server on a thread of its own; stops it (if the test did not) and joins.
struct running_server {
    genesys_emulator::server srv;
    std::thread runner;

    running_server(genesys_emulator::service& svc, const genesys_emulator::server_options& o)
        : srv(svc, o), runner([this] { srv.run(); })
    {
    }
    ~running_server()
    {
        if (runner.joinable()) {
            srv.stop();
            runner.join();
        }
    }
    /// stop(), and how long until run() returned.
    std::chrono::milliseconds stop()
    {
        const auto t0 = std::chrono::steady_clock::now();
        srv.stop();
        runner.join();
        return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    }
};

std::int64_t requests_seen(genesys_emulator::service& svc)
{
    auto r = svc.handle({http_method::get, "/__emulator/stats", {}, {}});
    return boost::json::parse(r.response.body).at("requests").as_int64();
}

/// Waits until the service has seen `n` API requests (at most 5 s).
void wait_for_requests(genesys_emulator::service& svc, std::int64_t n)
{
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (requests_seen(svc) < n && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(5ms);
    REQUIRE(requests_seen(svc) >= n);
}

/// A TLS connection of its own, sending GET /api/v2/tokens/me with the admin token.
struct tls_client {
    boost::asio::io_context ioc;
    boost::asio::ssl::context ctx{boost::asio::ssl::context::tls_client};
    boost::beast::ssl_stream<boost::asio::ip::tcp::socket> stream{ioc, ctx};

    /// Opens the socket only: its descriptor is taken now (the server shares this process's).
    tls_client() { stream.next_layer().open(boost::asio::ip::tcp::v4()); }
    void connect(unsigned short port)
    {
        stream.next_layer().connect({boost::asio::ip::make_address("127.0.0.1"), port});
        stream.handshake(boost::asio::ssl::stream_base::client);
    }
    unsigned get_me()
    {
        namespace http = boost::beast::http;
        http::request<http::empty_body> req{http::verb::get, "/api/v2/tokens/me", 11};
        req.set(http::field::host, "127.0.0.1");
        req.set(http::field::authorization, "Bearer " + std::string(seed::admin_token));
        http::write(stream, req);
        boost::beast::flat_buffer buffer;
        http::response<http::string_body> res;
        http::read(stream, buffer, res);
        return res.result_int();
    }
    void close()
    {
        boost::system::error_code ignored;
        stream.next_layer().close(ignored);
    }
};

} // namespace

TEST_CASE("emulator server: stop() ends at once while a 10 s delay fault is in flight")
{
    genesys_emulator::options opts;
    opts.run_fault = genesys_emulator::parse_fault("delay;ms=10000");
    genesys_emulator::service svc(opts);
    running_server server(svc, {});
    const std::string url = "http://127.0.0.1:" + std::to_string(server.srv.port()) + "/api/v2/tokens/me";

    std::promise<bool> answered;
    std::thread client([&] {
        genesys::curl_options o;
        o.timeout = 15s;
        genesys::curl_transport t(o);
        auto r = t.send({http_method::get, url, {{"Authorization", "Bearer " + std::string(seed::admin_token)}}, {}});
        answered.set_value(r.has_value());
    });
    wait_for_requests(svc, 1);
    std::this_thread::sleep_for(50ms); // the session is in its delay now

    const auto took = server.stop();
    CHECK_MESSAGE(took < 1000ms, "run() took " << took.count() << " ms to return");
    auto outcome = answered.get_future();
    CHECK(outcome.wait_for(2s) == std::future_status::ready);
    client.join();
    CHECK_FALSE(outcome.get()); // the delayed request is cut off, not answered
}

TEST_CASE("emulator server: a connection that reuses an ended session's fd is still tracked and closed by stop()")
{
    const auto& tls = testproc::tls_material::get();
    genesys_emulator::service svc;
    std::mutex m;
    std::vector<int> opened;
    int closed_fd = -1;
    std::promise<void> first_closed;
    genesys_emulator::server_options o;
    o.tls_cert = tls.cert;
    o.tls_key = tls.key;
    o.on_session_opened = [&](int fd) {
        std::lock_guard lock(m);
        opened.push_back(fd);
    };
    o.on_session_closed = [&](int fd) {
        {
            std::lock_guard lock(m);
            if (closed_fd != -1)
                return;
            closed_fd = fd;
        }
        first_closed.set_value();
    };
    running_server server(svc, o);

    tls_client a, b; // both client sockets first: then the server's next accept gets the fd A's session frees
    a.connect(server.srv.port());
    CHECK(a.get_me() == 200);
    a.close();
    REQUIRE(first_closed.get_future().wait_for(5s) == std::future_status::ready);

    // Fill every lower free descriptor, so that the server's next accept gets the one just closed.
    std::vector<int> fillers;
    int fd = ::dup(0);
    for (; fd >= 0 && fd != closed_fd && fillers.size() < 1000; fd = ::dup(0))
        fillers.push_back(fd);
    if (fd == closed_fd)
        ::close(fd); // the last dup() took it: free it again
    else if (fd >= 0)
        fillers.push_back(fd);
    b.connect(server.srv.port());
    for (int fd : fillers)
        ::close(fd);
    CHECK(b.get_me() == 200);
    {
        std::lock_guard lock(m);
        REQUIRE(opened.size() == 2);
        CHECK_MESSAGE(opened[1] == closed_fd, "the new connection did not reuse the fd; the test proves less: "
                                                  << opened[0] << " " << closed_fd << " " << opened[1]);
    }
    CHECK(b.get_me() == 200); // still open

    // stop() closes it: the client reads the end of the stream at once, and run() returns.
    const auto took = server.stop();
    CHECK_MESSAGE(took < 1000ms, "run() took " << took.count() << " ms to return");
    boost::system::error_code ec;
    char byte = 0;
    (void)b.stream.next_layer().read_some(boost::asio::buffer(&byte, 1), ec);
    CHECK(ec); // end of stream or reset: the server closed its side
    b.close();
}

TEST_CASE("emulator server: SIGTERM stops the process at once, with a delayed request in flight")
{
    testproc::emulator_process emu(false, {"--fault", "delay;ms=10000"});
    std::thread client([&] {
        auto t = via_curl<false>::make(); // 5 s timeout
        (void)t.send({http_method::get, emu.base_url() + "/api/v2/tokens/me",
                      {{"Authorization", "Bearer " + std::string(seed::admin_token)}}, {}});
    });
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (emu.stats().at("requests").as_int64() < 1 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(5ms);
    std::this_thread::sleep_for(50ms);
    const auto t0 = std::chrono::steady_clock::now();
    const int status = emu.stop();
    const auto took = std::chrono::steady_clock::now() - t0;
    client.join();
    CHECK(status == 0);
    CHECK_MESSAGE(took < 1000ms, "the emulator took "
                                     << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                                     << " ms to exit");
}
