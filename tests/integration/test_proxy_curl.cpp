// SPDX-License-Identifier: BSL-1.0
// curl_transport through a real proxy (tinyproxy, started by the test on a loopback port with
// Basic authentication) in front of the emulator.

#include <genesys/transport/curl.hpp>

#include "adapters_support.hpp"
#include "proxy_checks.hpp"
#include "proxy_process.hpp"

#include <genesys/genesys.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
using testproc::proxy_process;
using namespace proxytest;

/// Options through `proxy_url` for the emulator on 127.0.0.1 (proxytest::via).
genesys::curl_options via(std::string proxy_url)
{
    return proxytest::via<genesys::curl_options>(std::move(proxy_url));
}

/// `get_tokens_me` through the client with retries: the error, if any.
std::optional<genesys::error> call_with_retries(genesys::curl_options o, const testproc::emulator_process& emu,
                                                int attempts = 3)
{
    genesys::client_config cfg{.base_url = emu.base_url(), .access_token = std::string(agent_token)};
    cfg.retry = quick_retries(attempts);
    genesys::tokens_api<genesys::curl_transport> api{genesys::curl_transport(std::move(o)), cfg};
    auto r = api.try_get_tokens_me();
    return r ? std::nullopt : std::optional<genesys::error>(r.error());
}

using genesys_adapters_test::env_guard;

/// What the constructor threw (empty when it did not).
std::string construction_error(const genesys::curl_options& o)
{
    try {
        genesys::curl_transport t{o};
    } catch (const genesys::invalid_argument_error& e) {
        CHECK(e.code() == genesys::condition::invalid_argument);
        return e.what();
    }
    return {};
}

} // namespace

// ---- the tunnel and absolute form, with credentials as settings or in the URL --------------------

TEST_CASE("curl_transport proxy: https through a CONNECT tunnel with credentials as settings")
{
    proxy_process proxy;
    auto& emu = emulator(true);
    genesys::curl_transport t{with_credentials(via(proxy.url()), proxy_process::user, proxy_process::password)};
    auto r = t.send(tokens_me(emu));
    REQUIRE_MESSAGE(r.has_value(), t.last_error_message());
    CHECK(r->status == 200);
    CHECK(connects(proxy, emu) >= 1);
    // The tunnel stays open: a second call goes through it, no new CONNECT.
    const std::size_t before = connects(proxy, emu);
    r = t.send(tokens_me(emu));
    REQUIRE_MESSAGE(r.has_value(), t.last_error_message());
    CHECK(r->status == 200);
    CHECK(connects(proxy, emu) == before);
    check_log_clean(proxy);
}

TEST_CASE("curl_transport proxy: credentials inside the URL, and the settings taking precedence over them")
{
    proxy_process proxy;
    auto& emu = emulator(true);
    {
        genesys::curl_transport t{via(proxy.url_with_credentials())};
        auto r = t.send(tokens_me(emu));
        REQUIRE_MESSAGE(r.has_value(), t.last_error_message());
        CHECK(r->status == 200);
        CHECK(t.last_error_message().empty());
    }
    {
        // Wrong credentials in the URL, the right ones as settings: the settings win.
        const std::string wrong_url = "http://" + std::string(proxy_process::user) + ":" +
                                      std::string(wrong_password) + "@127.0.0.1:" + std::to_string(proxy.port());
        genesys::curl_transport t{with_credentials(via(wrong_url), proxy_process::user, proxy_process::password)};
        auto r = t.send(tokens_me(emu));
        REQUIRE_MESSAGE(r.has_value(), t.last_error_message());
        CHECK(r->status == 200);
    }
    {
        // The user in the URL, the password as a setting.
        const std::string user_url =
            "http://" + std::string(proxy_process::user) + "@127.0.0.1:" + std::to_string(proxy.port());
        auto o = via(user_url);
        o.proxy_password = std::string(proxy_process::password);
        genesys::curl_transport t{o};
        auto r = t.send(tokens_me(emu));
        REQUIRE_MESSAGE(r.has_value(), t.last_error_message());
        CHECK(r->status == 200);
    }
    CHECK(connects(proxy, emu) >= 3);
    check_log_clean(proxy);
}

TEST_CASE("curl_transport proxy: plain http is sent to the proxy in absolute form")
{
    proxy_process proxy;
    auto& emu = emulator(false);
    genesys::curl_transport t{with_credentials(via(proxy.url()), proxy_process::user, proxy_process::password)};
    auto r = t.send(tokens_me(emu));
    REQUIRE_MESSAGE(r.has_value(), t.last_error_message());
    CHECK(r->status == 200);
    CHECK(absolute_requests(proxy, emu) >= 1);
    CHECK(connects(proxy, emu) == 0);
    check_log_clean(proxy);
}

// ---- 407: a clear error naming the proxy, not retried ---------------------------------------------

TEST_CASE("curl_transport proxy: no credentials: the proxy's 407 is proxy_authentication_required, not retried")
{
    proxy_process proxy;
    auto& emu = emulator(true);
    genesys::curl_transport t{via(proxy.url())};
    auto r = t.send(tokens_me(emu));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == genesys::errc::proxy_authentication_required);
    CHECK(r.error() == genesys::condition::network);
    check_names_proxy(t.last_error_message(), proxy);
    CHECK(contains(t.last_error_message(), "asked for credentials and none were set"));
    CHECK(contains(t.last_error_message(), "407"));
    CHECK(connects(proxy, emu) == 1);

    // Through the client with three attempts: one CONNECT, no retry.
    const auto e = call_with_retries(via(proxy.url()), emu, 3);
    REQUIRE(e);
    CHECK(e->code == genesys::errc::proxy_authentication_required);
    CHECK(e->kind == genesys::error_kind::network);
    check_names_proxy(e->message, proxy);
    CHECK(connects(proxy, emu) == 2);
    check_log_clean(proxy);
}

TEST_CASE("curl_transport proxy: wrong credentials (settings or URL) are refused, named, never retried nor shown")
{
    proxy_process proxy;
    auto& emu = emulator(true);
    const std::string wrong_url = "http://" + std::string(proxy_process::user) + ":" + std::string(wrong_password) +
                                  "@127.0.0.1:" + std::to_string(proxy.port());
    for (const auto& o : {with_credentials(via(proxy.url()), proxy_process::user, wrong_password), via(wrong_url)}) {
        const std::size_t start = connects(proxy, emu);
        genesys::curl_transport t{o};
        auto r = t.send(tokens_me(emu));
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == genesys::errc::proxy_authentication_required);
        check_names_proxy(t.last_error_message(), proxy);
        CHECK(contains(t.last_error_message(), "refused the credentials"));
        // One send: the CONNECTs of libcurl's negotiation (without credentials, then Basic).
        const std::size_t one_send = connects(proxy, emu) - start;
        CHECK(one_send >= 1);
        CHECK(one_send <= 2);

        // Through the client with three attempts: the CONNECTs of one send, no more.
        const auto e = call_with_retries(o, emu, 3);
        REQUIRE(e);
        CHECK(e->code == genesys::errc::proxy_authentication_required);
        check_names_proxy(e->message, proxy);
        CHECK(connects(proxy, emu) - start == 2 * one_send);
    }
    check_log_clean(proxy);
}

TEST_CASE("curl_transport proxy: plain http without credentials: the proxy's 407 response is the proxy error")
{
    proxy_process proxy;
    auto& emu = emulator(false);
    genesys::curl_transport t{via(proxy.url())};
    auto r = t.send(tokens_me(emu));
    REQUIRE_FALSE(r.has_value()); // not an http_response with status 407
    CHECK(r.error() == genesys::errc::proxy_authentication_required);
    check_names_proxy(t.last_error_message(), proxy);
    CHECK(absolute_requests(proxy, emu) == 1);

    const auto e = call_with_retries(via(proxy.url()), emu, 3);
    REQUIRE(e);
    CHECK(e->code == genesys::errc::proxy_authentication_required);
    CHECK(e->status == 0); // a network error, not an API error with status 407
    CHECK(absolute_requests(proxy, emu) == 2);
    check_log_clean(proxy);
}

TEST_CASE("curl_transport proxy: plain http with wrong credentials: tinyproxy's 401 cannot be told from the server's")
{
    // tinyproxy 1.11 answers wrong credentials with 401 Unauthorized, not 407: to a CONNECT that
    // is the proxy's refusal (see above), but a 401 to a plain-http request may be the server's own
    // answer, so it is returned as the response.
    proxy_process proxy;
    auto& emu = emulator(false);
    genesys::curl_transport t{with_credentials(via(proxy.url()), proxy_process::user, wrong_password)};
    auto r = t.send(tokens_me(emu));
    if (r) {
        CHECK(r->status == 401);
        CHECK_FALSE(contains(r->body, wrong_password));
    } else {
        CHECK(r.error() == genesys::errc::proxy_authentication_required);
        check_names_proxy(t.last_error_message(), proxy);
    }
    CHECK(absolute_requests(proxy, emu) >= 1);
    check_log_clean(proxy);
}

TEST_CASE("curl_transport proxy: a CONNECT the proxy cannot complete is proxy_tunnel_failed, retried")
{
    proxy_process proxy;
    // Nothing listens there: tinyproxy answers the CONNECT with 500.
    const int closed = testproc::free_loopback_port();
    const std::string url = "https://127.0.0.1:" + std::to_string(closed) + "/api/v2/tokens/me";
    const auto o = with_credentials(via(proxy.url()), proxy_process::user, proxy_process::password);
    genesys::curl_transport t{o};
    auto r = t.send({genesys::http_method::get, url, {{"Authorization", "Bearer " + std::string(agent_token)}}, {}});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == genesys::errc::proxy_tunnel_failed);
    CHECK(r.error() == genesys::condition::network);
    check_names_proxy(t.last_error_message(), proxy);
    CHECK(contains(t.last_error_message(), "127.0.0.1:" + std::to_string(closed)));
    // One send: the CONNECTs of libcurl's negotiation (without credentials, then Basic).
    const std::string connect_line = "CONNECT 127.0.0.1:" + std::to_string(closed) + " ";
    const std::size_t one_send = proxy.requests_containing(connect_line);
    CHECK(one_send >= 1);
    CHECK(one_send <= 2);

    genesys::client_config cfg{.base_url = "https://127.0.0.1:" + std::to_string(closed),
                               .access_token = std::string(agent_token)};
    cfg.retry = quick_retries(3);
    genesys::tokens_api<genesys::curl_transport> api{genesys::curl_transport(o), cfg};
    auto call = api.try_get_tokens_me();
    REQUIRE_FALSE(call.has_value());
    CHECK(call.error().code == genesys::errc::proxy_tunnel_failed);
    const std::size_t retried = proxy.requests_containing(connect_line) - one_send;
    CHECK(retried >= 3); // three attempts
    CHECK(retried <= 3 * one_send);
    check_log_clean(proxy);
}

// ---- who goes through the proxy: no_proxy, loopback, the environment -------------------------------

TEST_CASE("curl_transport proxy: no_proxy hosts are reached directly")
{
    proxy_process proxy;
    auto& emu = emulator(true);
    for (const char* list : {"127.0.0.1", " example.invalid , 127.0.0.1 ", "*"}) {
        CAPTURE(list);
        auto o = with_credentials(via(proxy.url()), proxy_process::user, proxy_process::password);
        o.no_proxy = list;
        genesys::curl_transport t{o};
        auto r = t.send(tokens_me(emu));
        REQUIRE_MESSAGE(r.has_value(), t.last_error_message());
        CHECK(r->status == 200);
    }
    CHECK(all_requests(proxy) == 0);
    // A list that does not name the host: through the proxy.
    auto o = with_credentials(via(proxy.url()), proxy_process::user, proxy_process::password);
    o.no_proxy = "example.invalid,10.0.0.1";
    genesys::curl_transport t{o};
    auto r = t.send(tokens_me(emu));
    REQUIRE_MESSAGE(r.has_value(), t.last_error_message());
    CHECK(connects(proxy, emu) >= 1);
}

TEST_CASE("curl_transport proxy: proxy_loopback false (the default): a loopback URL goes direct")
{
    proxy_process proxy;
    auto& emu = emulator(true);
    auto o = with_credentials(via(proxy.url()), proxy_process::user, proxy_process::password);
    o.proxy_loopback = false;
    CHECK_FALSE(genesys::curl_options{}.proxy_loopback);
    genesys::curl_transport t{o};
    auto r = t.send(tokens_me(emu));
    REQUIRE_MESSAGE(r.has_value(), t.last_error_message());
    CHECK(r->status == 200);
    CHECK(all_requests(proxy) == 0);
}

TEST_CASE("curl_transport proxy: HTTPS_PROXY and NO_PROXY from the environment, unless proxy_from_environment is false")
{
    proxy_process proxy;
    auto& emu = emulator(true);
    env_guard env;
    env.clear_proxies().set("HTTPS_PROXY", proxy.url_with_credentials());
    CHECK(genesys::curl_options{}.proxy_from_environment);

    auto o = via("");
    o.proxy_from_environment = true;
    {
        genesys::curl_transport t{o};
        auto r = t.send(tokens_me(emu));
        REQUIRE_MESSAGE(r.has_value(), t.last_error_message());
        CHECK(connects(proxy, emu) >= 1);
    }
    {
        // Credentials as settings win over those in the variable.
        env.set("HTTPS_PROXY", "http://" + std::string(proxy_process::user) + ":" + std::string(wrong_password) +
                                   "@127.0.0.1:" + std::to_string(proxy.port()));
        const std::size_t before = connects(proxy, emu);
        genesys::curl_transport t{with_credentials(o, proxy_process::user, proxy_process::password)};
        auto r = t.send(tokens_me(emu));
        REQUIRE_MESSAGE(r.has_value(), t.last_error_message());
        CHECK(connects(proxy, emu) > before);
    }
    {
        // The variable's wrong password: the error names the proxy, never the password.
        genesys::curl_transport t{o};
        auto r = t.send(tokens_me(emu));
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == genesys::errc::proxy_authentication_required);
        check_names_proxy(t.last_error_message(), proxy);
        env.set("HTTPS_PROXY", proxy.url_with_credentials());
    }
    {
        env.set("NO_PROXY", "127.0.0.1");
        const std::size_t before = all_requests(proxy);
        genesys::curl_transport t{o};
        auto r = t.send(tokens_me(emu));
        REQUIRE_MESSAGE(r.has_value(), t.last_error_message());
        CHECK(all_requests(proxy) == before);
        env.unset("NO_PROXY");
    }
    {
        // Variables libcurl cannot use: its message quotes them, without their user information.
        genesys::curl_transport t{o};
        for (const char* bad : {"http://user:se cret-1@pro xy:1", "ftp://user:secret-2@127.0.0.1:1"}) {
            env.set("HTTPS_PROXY", bad);
            auto r = t.send(tokens_me(emu));
            REQUIRE_FALSE(r.has_value());
            const std::string message(t.last_error_message());
            CAPTURE(message);
            CHECK_FALSE(message.empty());
            CHECK_FALSE(contains(message, "secret-"));
            CHECK_FALSE(contains(message, "cret-1"));
            CHECK_FALSE(contains(message, "user"));
        }
        env.set("HTTPS_PROXY", proxy.url_with_credentials());
    }
    {
        o.proxy_from_environment = false;
        const std::size_t before = all_requests(proxy);
        genesys::curl_transport t{o};
        auto r = t.send(tokens_me(emu));
        REQUIRE_MESSAGE(r.has_value(), t.last_error_message());
        CHECK(all_requests(proxy) == before);
    }
    check_log_clean(proxy);
}

// ---- settings refused when the transport is made; what messages may say ----------------------------

TEST_CASE("curl_transport proxy: bad proxy settings are refused at construction, without the password")
{
    const std::string secret = "S3cret-in-url-5a1b";
    struct bad_case {
        const char* what;
        genesys::curl_options options;
        const char* expected;
    };
    std::vector<bad_case> cases;
    auto base = [] { return genesys::curl_options{}; };
    {
        auto o = base();
        o.proxy = "http://u:" + secret + "@proxy.example:3128\r\nX-Injected: 1";
        cases.push_back({"CR/LF in the URL", o, "control character"});
    }
    {
        auto o = base();
        o.proxy = "ftp://u:" + secret + "@proxy.example:21";
        cases.push_back({"a scheme libcurl does not take for a proxy", o, "ftp://proxy.example:21"});
    }
    {
        auto o = base();
        o.proxy = "http://u:" + secret + "@proxy example:3128";
        cases.push_back({"a URL that does not parse", o, "proxy"});
    }
    {
        auto o = base();
        o.proxy = "http://proxy.example:3128";
        o.proxy_username = "do:main";
        o.proxy_password = secret;
        cases.push_back({"a colon in the user name", o, "proxy_username"});
    }
    {
        auto o = base();
        o.proxy = "http://proxy.example:3128";
        o.proxy_username = "user";
        o.proxy_password = secret + "\n";
        cases.push_back({"a control character in the password", o, "proxy_password"});
    }
    {
        auto o = base();
        o.proxy = "http://proxy.example:3128";
        o.proxy_password = secret;
        cases.push_back({"a password without a user name", o, "proxy_password"});
    }
    {
        auto o = base();
        o.no_proxy = "localhost\r\n";
        cases.push_back({"CR/LF in no_proxy", o, "no_proxy"});
    }
    for (const auto& c : cases) {
        CAPTURE(c.what);
        const std::string message = construction_error(c.options);
        CAPTURE(message);
        CHECK_FALSE(message.empty());
        CHECK(contains(message, c.expected));
        CHECK_FALSE(contains(message, secret));
    }

    // Accepted: a user name without a password (an empty one, as libcurl), socks and scheme-less URLs.
    for (const char* url : {"http://user@proxy.example:3128", "socks5h://proxy.example:1080", "proxy.example:3128",
                            "https://proxy.example", "http://[::1]:3128"}) {
        CAPTURE(url);
        auto o = base();
        o.proxy = url;
        CHECK(construction_error(o).empty());
    }
    auto o = base();
    o.proxy = "http://proxy.example:3128";
    o.proxy_username = "DOMAIN\\user";
    CHECK(construction_error(o).empty());
}

TEST_CASE("curl_transport proxy: how a proxy is named in messages (no user information, no path)")
{
    using genesys::detail::curl_proxy_display;
    CHECK(curl_proxy_display("http://127.0.0.1:4711") == "http://127.0.0.1:4711");
    CHECK(curl_proxy_display("http://user:pa%40ss@127.0.0.1:4711") == "http://127.0.0.1:4711");
    CHECK(curl_proxy_display("http://user:pa%40ss@127.0.0.1:4711/some/path?q=1") == "http://127.0.0.1:4711");
    CHECK(curl_proxy_display("user:secret@proxy.example:8080") == "http://proxy.example:8080");
    CHECK(curl_proxy_display("proxy.example") == "http://proxy.example");
    CHECK(curl_proxy_display("socks5h://u:p@[::1]:1080") == "socks5h://[::1]:1080");
    CHECK(curl_proxy_display("HTTP://User:Secret@Proxy.Example:3128") == "http://Proxy.Example:3128");
    // Not a URL libcurl parses: the user information is cut out of the text all the same.
    const std::string odd = curl_proxy_display("http://user:se cret@pro xy:1");
    CHECK_FALSE(contains(odd, "se cret"));
    CHECK_FALSE(contains(odd, "user"));
    CHECK_FALSE(contains(curl_proxy_display("user:se cret@pro xy:1"), "se cret"));
    CHECK_FALSE(contains(curl_proxy_display("a:b@c:d@host:1"), "b@c"));

    using genesys::detail::curl_redact_userinfo;
    CHECK(curl_redact_userinfo("Unsupported proxy scheme for 'ftp://u:pw@proxy:21'") ==
          "Unsupported proxy scheme for 'ftp://proxy:21'");
    CHECK(curl_redact_userinfo("see http://a:b@h:1/x and https://c@d/") == "see http://h:1/x and https://d/");
    CHECK(curl_redact_userinfo("no URL here") == "no URL here");
    CHECK(curl_redact_userinfo("mail me at a@b") == "mail me at a@b");
}
