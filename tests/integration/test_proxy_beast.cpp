// SPDX-License-Identifier: BSL-1.0
// beast_transport and beast_async_transport through a real proxy (tinyproxy, started by the test
// on a loopback port with Basic authentication) in front of the emulator.

#include <genesys/transport/beast.hpp>

#include "../heap_scan.hpp"
#include "adapters_tls.hpp"
#include "loopback_server.hpp"
#include "adapters_support.hpp"
#include "proxy_checks.hpp"
#include "proxy_process.hpp"

#include <genesys/async_tokens_api.hpp>
#include <genesys/genesys.hpp>
#include <genesys/transport/beast_async.hpp>

#include <doctest/doctest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>

#include <chrono>
#include <cstdlib>
#include <functional>
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
genesys::beast_options via(std::string proxy_url)
{
    return proxytest::via<genesys::beast_options>(std::move(proxy_url));
}

enum class adapter { beast, beast_async };
constexpr adapter both[] = {adapter::beast, adapter::beast_async};

const char* name(adapter a) { return a == adapter::beast ? "beast_transport" : "beast_async_transport"; }

genesys::beast_options with_right_credentials(std::string proxy_url)
{
    return with_credentials(via(std::move(proxy_url)), proxy_process::user, proxy_process::password);
}

/// One send's result: the error and the transport's text about it, or the response.
struct outcome {
    boost::system::error_code ec;
    genesys::http_response response;
    std::string message; ///< `last_error_message()`, or the async failure's body
};

/// `n` sends of `request`, one after the other, through one transport of kind `a`.
std::vector<outcome> send_n(adapter a, const genesys::beast_options& o, const genesys::http_request& request,
                            int n = 1)
{
    std::vector<outcome> out;
    if (a == adapter::beast) {
        genesys::beast_transport t{o};
        for (int i = 0; i < n; ++i) {
            outcome one;
            auto r = t.send(request);
            if (r)
                one.response = std::move(*r);
            else
                one.ec = r.error();
            one.message = std::string(t.last_error_message());
            out.push_back(std::move(one));
        }
        return out;
    }
    boost::asio::io_context ioc;
    genesys::beast_async_transport t{ioc, o};
    std::function<void()> next = [&] {
        t.async_send(request, [&](boost::system::error_code ec, genesys::http_response r) {
            outcome one;
            one.ec = ec;
            if (ec)
                one.message = std::move(r.body);
            else
                one.response = std::move(r);
            out.push_back(std::move(one));
            if (static_cast<int>(out.size()) < n)
                next();
        });
    };
    next();
    ioc.run();
    REQUIRE(static_cast<int>(out.size()) == n);
    return out;
}

outcome send_once(adapter a, const genesys::beast_options& o, const genesys::http_request& request)
{
    return send_n(a, o, request, 1).front();
}

/// `get_tokens_me` through the client (`tokens_api` or `async_tokens_api`) with retries: the error, if any.
std::optional<genesys::error> call_with_retries(adapter a, const genesys::beast_options& o, std::string base_url,
                                                int attempts = 3)
{
    genesys::client_config cfg{.base_url = std::move(base_url), .access_token = std::string(agent_token)};
    cfg.retry = quick_retries(attempts);
    if (a == adapter::beast) {
        genesys::tokens_api<genesys::beast_transport> api{genesys::beast_transport(o), cfg};
        auto r = api.try_get_tokens_me();
        return r ? std::nullopt : std::optional<genesys::error>(r.error());
    }
    boost::asio::io_context ioc;
    genesys::async_tokens_api<genesys::beast_async_transport> api{genesys::beast_async_transport(ioc, o), cfg};
    std::optional<genesys::error> out;
    bool done = false;
    api.async_get_tokens_me([&](auto r) {
        done = true;
        if (!r)
            out = r.error();
    });
    ioc.run();
    REQUIRE(done);
    return out;
}

using genesys_adapters_test::env_guard;

/// What the constructor of a transport of kind `a` threw (empty when it did not).
std::string construction_error(adapter a, const genesys::beast_options& o)
{
    try {
        if (a == adapter::beast) {
            genesys::beast_transport t{o};
        } else {
            boost::asio::io_context ioc;
            genesys::beast_async_transport t{ioc, o};
        }
    } catch (const genesys::invalid_argument_error& e) {
        CHECK(e.code() == genesys::condition::invalid_argument);
        return e.what();
    }
    return {};
}

} // namespace

// ---- the tunnel and absolute form, with credentials as settings or in the URL --------------------

TEST_CASE("beast proxy: https through a CONNECT tunnel with credentials as settings, kept alive through it")
{
    proxy_process proxy;
    auto& emu = emulator(true);
    for (adapter a : both) {
        CAPTURE(name(a));
        const std::size_t before = connects(proxy, emu);
        // Three calls on one transport: one CONNECT, the tunnel (and the TLS session in it) reused.
        for (const auto& o : send_n(a, with_right_credentials(proxy.url()), tokens_me(emu), 3)) {
            REQUIRE_MESSAGE(!o.ec, o.message);
            CHECK(o.response.status == 200);
        }
        CHECK(connects(proxy, emu) - before == 1);
    }
    check_log_clean(proxy);
}

TEST_CASE("beast proxy: credentials inside the URL, and the settings taking precedence over them")
{
    proxy_process proxy;
    auto& emu = emulator(true);
    const std::string wrong_url = "http://" + std::string(proxy_process::user) + ":" + std::string(wrong_password) +
                                  "@127.0.0.1:" + std::to_string(proxy.port());
    const std::string user_url =
        "http://" + std::string(proxy_process::user) + "@127.0.0.1:" + std::to_string(proxy.port());
    auto user_in_url = via(user_url);
    user_in_url.proxy_password = std::string(proxy_process::password);
    const genesys::beast_options accepted[] = {
        via(proxy.url_with_credentials()),
        with_right_credentials(wrong_url), // wrong in the URL, right as settings: the settings win
        user_in_url,                       // the user in the URL, the password as a setting
    };
    for (adapter a : both) {
        CAPTURE(name(a));
        for (const auto& o : accepted) {
            const auto r = send_once(a, o, tokens_me(emu));
            REQUIRE_MESSAGE(!r.ec, r.message);
            CHECK(r.response.status == 200);
            CHECK(r.message.empty());
        }
    }
    CHECK(connects(proxy, emu) == 6);
    check_log_clean(proxy);
}

TEST_CASE("beast proxy: plain http is sent to the proxy in absolute form")
{
    proxy_process proxy;
    auto& emu = emulator(false);
    for (adapter a : both) {
        CAPTURE(name(a));
        const std::size_t before = absolute_requests(proxy, emu);
        const auto r = send_once(a, with_right_credentials(proxy.url()), tokens_me(emu));
        REQUIRE_MESSAGE(!r.ec, r.message);
        CHECK(r.response.status == 200);
        CHECK(absolute_requests(proxy, emu) - before == 1);
    }
    CHECK(connects(proxy, emu) == 0);
    // The token went to the emulator through the proxy in the request (plain http), but the proxy
    // does not log request fields.
    check_log_clean(proxy);
}

TEST_CASE("beast proxy: the TLS handshake in the tunnel is with the URL's host: its SNI, its name checked")
{
    namespace ga = genesys_adapters_test;
    proxy_process proxy;
    const auto id = ga::make_identity("DNS:localhost"); // the name only: not 127.0.0.1, the proxy's address
    const ga::temp_pem ca(id.cert_pem);
    for (adapter a : both) {
        CAPTURE(name(a));
        ga::loopback_server server({ga::reply(ga::ok("one"))}, ga::server_context(id));
        auto o = with_right_credentials(proxy.url());
        o.ca_file = ca.path.string();
        const auto r = send_once(a, o, tokens_me("https://localhost:" + std::to_string(server.port())));
        REQUIRE_MESSAGE(!r.ec, r.message);
        CHECK(r.response.body == "one");
        CHECK(server.server_names() == std::vector<std::string>{"localhost"});
        CHECK(proxy.requests_containing("CONNECT localhost:" + std::to_string(server.port()) + " ") == 1);

        // The same server reached as 127.0.0.1: its certificate does not name that address.
        const auto refused = send_once(a, o, tokens_me("https://127.0.0.1:" + std::to_string(server.port())));
        REQUIRE(refused.ec);
        CHECK(std::string_view(refused.ec.category().name()) == "asio.ssl");
        INFO(refused.message);
        CHECK(contains(refused.message, "TLS handshake with 127.0.0.1:" + std::to_string(server.port()) +
                                            " through the proxy " + proxy.url()));
    }
    check_log_clean(proxy);
}

// ---- 407: a clear error naming the proxy, not retried ---------------------------------------------

TEST_CASE("beast proxy: no credentials: the proxy's 407 is proxy_authentication_required, not retried")
{
    proxy_process proxy;
    auto& emu = emulator(true);
    for (adapter a : both) {
        CAPTURE(name(a));
        const std::size_t start = connects(proxy, emu);
        const auto r = send_once(a, via(proxy.url()), tokens_me(emu));
        REQUIRE(r.ec);
        CHECK(r.ec == genesys::errc::proxy_authentication_required);
        CHECK(r.ec == genesys::condition::network);
        CHECK(r.response.status == 0);
        check_names_proxy(r.message, proxy);
        CHECK(contains(r.message, "asked for credentials and none were set"));
        CHECK(contains(r.message, "407"));
        CHECK(connects(proxy, emu) - start == 1);

        // Through the client with three attempts: one CONNECT, no retry.
        const auto e = call_with_retries(a, via(proxy.url()), emu.base_url(), 3);
        REQUIRE(e);
        CHECK(e->code == genesys::errc::proxy_authentication_required);
        CHECK(e->kind == genesys::error_kind::network);
        CHECK(e->attempts == 1);
        check_names_proxy(e->message, proxy);
        CHECK(connects(proxy, emu) - start == 2);
    }
    check_log_clean(proxy);
}

TEST_CASE("beast proxy: wrong credentials (settings or URL) are refused, named, never retried nor shown")
{
    proxy_process proxy;
    auto& emu = emulator(true);
    const std::string wrong_url = "http://" + std::string(proxy_process::user) + ":" + std::string(wrong_password) +
                                  "@127.0.0.1:" + std::to_string(proxy.port());
    for (adapter a : both) {
        CAPTURE(name(a));
        for (const auto& o : {with_credentials(via(proxy.url()), proxy_process::user, wrong_password), via(wrong_url)}) {
            const std::size_t start = connects(proxy, emu);
            const auto r = send_once(a, o, tokens_me(emu));
            REQUIRE(r.ec);
            CHECK(r.ec == genesys::errc::proxy_authentication_required);
            check_names_proxy(r.message, proxy);
            CHECK(contains(r.message, "refused the credentials"));
            CHECK(connects(proxy, emu) - start == 1);

            const auto e = call_with_retries(a, o, emu.base_url(), 3);
            REQUIRE(e);
            CHECK(e->code == genesys::errc::proxy_authentication_required);
            CHECK(e->attempts == 1);
            check_names_proxy(e->message, proxy);
            CHECK(connects(proxy, emu) - start == 2);
        }
    }
    check_log_clean(proxy);
}

TEST_CASE("beast proxy: plain http without credentials: the proxy's 407 response is the proxy error")
{
    proxy_process proxy;
    auto& emu = emulator(false);
    for (adapter a : both) {
        CAPTURE(name(a));
        const std::size_t start = absolute_requests(proxy, emu);
        const auto r = send_once(a, via(proxy.url()), tokens_me(emu));
        REQUIRE(r.ec); // not an http_response with status 407
        CHECK(r.ec == genesys::errc::proxy_authentication_required);
        check_names_proxy(r.message, proxy);
        CHECK(absolute_requests(proxy, emu) - start == 1);

        const auto e = call_with_retries(a, via(proxy.url()), emu.base_url(), 3);
        REQUIRE(e);
        CHECK(e->code == genesys::errc::proxy_authentication_required);
        CHECK(e->status == 0); // a network error, not an API error with status 407
        CHECK(absolute_requests(proxy, emu) - start == 2);
    }
    check_log_clean(proxy);
}

TEST_CASE("beast proxy: a CONNECT the proxy cannot complete is proxy_tunnel_failed, retried")
{
    proxy_process proxy;
    // Nothing listens there: tinyproxy answers the CONNECT with an error status.
    const int closed = testproc::free_loopback_port();
    const std::string base = "https://127.0.0.1:" + std::to_string(closed);
    const std::string connect_line = "CONNECT 127.0.0.1:" + std::to_string(closed) + " ";
    for (adapter a : both) {
        CAPTURE(name(a));
        const std::size_t start = proxy.requests_containing(connect_line);
        const auto r = send_once(a, with_right_credentials(proxy.url()), tokens_me(base));
        REQUIRE(r.ec);
        CHECK(r.ec == genesys::errc::proxy_tunnel_failed);
        CHECK(r.ec == genesys::condition::network);
        check_names_proxy(r.message, proxy);
        CHECK(contains(r.message, "127.0.0.1:" + std::to_string(closed)));
        CHECK(proxy.requests_containing(connect_line) - start == 1);

        const auto e = call_with_retries(a, with_right_credentials(proxy.url()), base, 3);
        REQUIRE(e);
        CHECK(e->code == genesys::errc::proxy_tunnel_failed);
        CHECK(e->attempts == 3);
        CHECK(proxy.requests_containing(connect_line) - start == 1 + 3);
    }
    check_log_clean(proxy);
}

// ---- who goes through the proxy: no_proxy, loopback, the environment -------------------------------

TEST_CASE("beast proxy: no_proxy hosts are reached directly")
{
    proxy_process proxy;
    auto& emu = emulator(true);
    for (adapter a : both) {
        CAPTURE(name(a));
        for (const char* list : {"127.0.0.1", " example.invalid , 127.0.0.1 ", "*"}) {
            CAPTURE(list);
            auto o = with_right_credentials(proxy.url());
            o.no_proxy = list;
            const auto r = send_once(a, o, tokens_me(emu));
            REQUIRE_MESSAGE(!r.ec, r.message);
            CHECK(r.response.status == 200);
        }
        CHECK(all_requests(proxy) == 0);
    }
    // A list that does not name the host: through the proxy.
    for (adapter a : both) {
        CAPTURE(name(a));
        auto o = with_right_credentials(proxy.url());
        o.no_proxy = "example.invalid,10.0.0.1";
        const std::size_t before = connects(proxy, emu);
        const auto r = send_once(a, o, tokens_me(emu));
        REQUIRE_MESSAGE(!r.ec, r.message);
        CHECK(connects(proxy, emu) - before == 1);
    }
}

TEST_CASE("beast proxy: proxy_loopback false (the default): a loopback URL goes direct")
{
    proxy_process proxy;
    auto& emu = emulator(true);
    CHECK_FALSE(genesys::beast_options{}.proxy_loopback);
    for (adapter a : both) {
        CAPTURE(name(a));
        auto o = with_right_credentials(proxy.url());
        o.proxy_loopback = false;
        for (const std::string& base : {emu.base_url(), "https://localhost:" + std::to_string(emu.port())}) {
            const auto r = send_once(a, o, tokens_me(base));
            REQUIRE_MESSAGE(!r.ec, r.message);
            CHECK(r.response.status == 200);
        }
    }
    CHECK(all_requests(proxy) == 0);
}

TEST_CASE("beast proxy: HTTPS_PROXY and NO_PROXY from the environment only with proxy_from_environment")
{
    proxy_process proxy;
    auto& emu = emulator(true);
    env_guard env;
    env.clear_proxies().set("HTTPS_PROXY", proxy.url_with_credentials());
    CHECK_FALSE(genesys::beast_options{}.proxy_from_environment);

    for (adapter a : both) {
        CAPTURE(name(a));
        auto o = via("");
        o.proxy_from_environment = true;
        {
            const std::size_t before = connects(proxy, emu);
            const auto r = send_once(a, o, tokens_me(emu));
            REQUIRE_MESSAGE(!r.ec, r.message);
            CHECK(connects(proxy, emu) - before == 1);
        }
        {
            // The variable's wrong password: the error names the proxy, never the password.
            env.set("HTTPS_PROXY", "http://" + std::string(proxy_process::user) + ":" + std::string(wrong_password) +
                                       "@127.0.0.1:" + std::to_string(proxy.port()));
            const auto r = send_once(a, o, tokens_me(emu));
            REQUIRE(r.ec);
            CHECK(r.ec == genesys::errc::proxy_authentication_required);
            check_names_proxy(r.message, proxy);
            // Credentials as settings win over those in the variable.
            const auto s = send_once(a, with_credentials(o, proxy_process::user, proxy_process::password),
                                     tokens_me(emu));
            REQUIRE_MESSAGE(!s.ec, s.message);
            env.set("HTTPS_PROXY", proxy.url_with_credentials());
        }
        {
            env.set("NO_PROXY", "127.0.0.1");
            const std::size_t before = all_requests(proxy);
            const auto r = send_once(a, o, tokens_me(emu));
            REQUIRE_MESSAGE(!r.ec, r.message);
            CHECK(all_requests(proxy) == before);
            env.unset("NO_PROXY");
        }
        {
            // http_proxy is not read for an https URL.
            env.unset("HTTPS_PROXY").set("http_proxy", proxy.url_with_credentials());
            const std::size_t before = all_requests(proxy);
            const auto r = send_once(a, o, tokens_me(emu));
            REQUIRE_MESSAGE(!r.ec, r.message);
            CHECK(all_requests(proxy) == before);
            env.unset("http_proxy").set("HTTPS_PROXY", proxy.url_with_credentials());
        }
        {
            o.proxy_from_environment = false; // the default: the variables are ignored
            const std::size_t before = all_requests(proxy);
            const auto r = send_once(a, o, tokens_me(emu));
            REQUIRE_MESSAGE(!r.ec, r.message);
            CHECK(all_requests(proxy) == before);
        }
    }
    check_log_clean(proxy);
}

// ---- settings refused when the transport is made ---------------------------------------------------

TEST_CASE("beast proxy: bad proxy settings are refused at construction, without the password")
{
    const std::string secret = "S3cret-in-url-5a1b";
    struct bad_case {
        const char* what;
        genesys::beast_options options;
        const char* expected;
    };
    std::vector<bad_case> cases;
    {
        genesys::beast_options o;
        o.proxy = "https://u:" + secret + "@proxy.example:3128";
        cases.push_back({"TLS to the proxy", o, "https://proxy.example:3128"});
    }
    {
        genesys::beast_options o;
        o.proxy = "socks5h://u:" + secret + "@proxy.example:1080";
        cases.push_back({"SOCKS", o, "socks5h://proxy.example:1080"});
    }
    {
        genesys::beast_options o;
        o.proxy = "http://u:" + secret + "@proxy example:3128";
        cases.push_back({"a URL that does not parse", o, "proxy"});
    }
    {
        genesys::beast_options o;
        o.proxy = "http://u:" + secret + "@proxy.example:3128\r\nX-Injected: 1";
        cases.push_back({"CR/LF in the URL", o, "control character"});
    }
    {
        genesys::beast_options o;
        o.proxy = "http://proxy.example:3128";
        o.proxy_password = secret;
        cases.push_back({"a password without a user name", o, "proxy_password"});
    }
    {
        genesys::beast_options o;
        o.proxy = "http://proxy.example:3128";
        o.proxy_username = "do:main";
        o.proxy_password = secret;
        cases.push_back({"a colon in the user name", o, "proxy_username"});
    }
    for (adapter a : both) {
        CAPTURE(name(a));
        for (const auto& c : cases) {
            CAPTURE(c.what);
            const std::string message = construction_error(a, c.options);
            CAPTURE(message);
            CHECK(contains(message, name(a)));
            CHECK(contains(message, c.expected));
            CHECK_FALSE(contains(message, secret));
        }
        genesys::beast_options o;
        o.proxy = "http://user@proxy.example:3128";
        CHECK(construction_error(a, o).empty());
        o.proxy = "proxy.example:3128";
        CHECK(construction_error(a, o).empty());
    }
}

// ---- the wait for the proxy's answer: deadlines and cancellation -------------------------------------

TEST_CASE("beast proxy: connect_timeout ends the wait for an answer to CONNECT, and no request field goes to the proxy")
{
    namespace ga = genesys_adapters_test;
    for (adapter a : both) {
        CAPTURE(name(a));
        ga::loopback_server silent({ga::hang()}); // accepts, reads the CONNECT, never answers
        auto o = with_right_credentials(silent.url(""));
        o.connect_timeout = 300ms;
        o.timeout = 20'000ms;
        const auto t0 = std::chrono::steady_clock::now();
        const auto r = send_once(a, o, tokens_me("https://api.example.invalid:8443"));
        const auto took = std::chrono::steady_clock::now() - t0;
        REQUIRE(r.ec);
        CHECK(r.ec == boost::beast::error::timeout);
        CHECK(took < 5s); // the connect_timeout, not the 20 s timeout
        CHECK(contains(r.message, "CONNECT"));
        CHECK(contains(r.message, silent.url("")));
        const auto requests = silent.requests();
        REQUIRE(requests.size() == 1);
        INFO(requests.front());
        CHECK(requests.front().starts_with("CONNECT api.example.invalid:8443 HTTP/1.1\r\n"));
        CHECK(contains(requests.front(), "Proxy-Authorization: Basic "));
        CHECK_FALSE(contains(requests.front(), agent_token)); // the request's own fields stay in the tunnel
        CHECK_FALSE(contains(requests.front(), "Authorization: Bearer"));
        CHECK_FALSE(contains(requests.front(), "Accept"));
    }
}

TEST_CASE("beast proxy: cancelling a send waiting for the proxy's answer to CONNECT ends it at once")
{
    namespace ga = genesys_adapters_test;
    namespace asio = boost::asio;
    ga::loopback_server silent({ga::hang()});
    auto o = with_right_credentials(silent.url(""));
    o.connect_timeout = 20'000ms;
    o.timeout = 20'000ms;
    asio::io_context ioc;
    genesys::beast_async_transport t{ioc, o};
    asio::cancellation_signal signal;
    std::optional<boost::system::error_code> result;
    std::string text;
    t.async_send(tokens_me("https://api.example.invalid:8443"),
                 asio::bind_cancellation_slot(signal.slot(), [&](boost::system::error_code ec, genesys::http_response r) {
                     result = ec;
                     text = r.body;
                 }));
    // Once the proxy has the CONNECT (polled, bounded), cancel.
    asio::steady_timer timer(ioc);
    int polls = 0;
    std::function<void()> poll = [&] {
        timer.expires_after(10ms);
        timer.async_wait([&](boost::system::error_code) {
            if (silent.requests().empty() && ++polls < 1000)
                return poll();
            signal.emit(asio::cancellation_type::terminal);
        });
    };
    poll();
    const auto t0 = std::chrono::steady_clock::now();
    ioc.run();
    REQUIRE(result.has_value());
    CHECK(*result == asio::error::operation_aborted);
    CHECK(std::chrono::steady_clock::now() - t0 < 10s);
    CHECK(silent.requests().size() == 1);
    CHECK(t.open_connections() == 0);
    CHECK_FALSE(contains(text, proxy_process::password));
}

// ---- the proxy password does not outlive the transport -------------------------------------------

TEST_CASE("beast proxy: the proxy password is nowhere in the process's memory once the transport is gone" *
          doctest::skip(heap_scan::unsupported))
{
    namespace ga = genesys_adapters_test;
    for (adapter a : both) {
        CAPTURE(name(a));
        for (const bool in_url : {false, true}) {
            CAPTURE(in_url);
            // A fake proxy for a plain http URL (absolute form): it answers every request itself.
            ga::loopback_server fake_proxy({ga::reply(ga::ok("fine")), ga::reply(ga::ok("fine"))});
            heap_scan::secret s; // the password: 700 random characters
            {
                genesys::beast_options o;
                o.proxy_loopback = true;
                o.proxy_username = "user";
                if (in_url) {
                    o.proxy.reserve(s.token.size() + 64); // no temporary copy of the password
                    o.proxy.append("http://:").append(s.token).append("@127.0.0.1:").append(
                        std::to_string(fake_proxy.port()));
                } else {
                    o.proxy = fake_proxy.url("");
                    o.proxy_password.reserve(s.token.size());
                    o.proxy_password.append(s.token);
                }
                CHECK(heap_scan::contains(s.needle)); // the scan finds it while the options hold it
                const genesys::http_request request{genesys::http_method::get, "http://127.0.0.1:9/api/v2/tokens/me",
                                                    {}, {}};
                if (a == adapter::beast) {
                    genesys::beast_transport t{std::move(o)};
                    for (int i = 0; i < 2; ++i) {
                        auto r = t.send(request);
                        REQUIRE_MESSAGE(r.has_value(), t.last_error_message());
                        CHECK(r->body == "fine");
                    }
                } else {
                    boost::asio::io_context ioc;
                    genesys::beast_async_transport t{ioc, std::move(o)};
                    int answered = 0;
                    for (int i = 0; i < 2; ++i) {
                        t.async_send(request, [&](boost::system::error_code ec, genesys::http_response r) {
                            answered += !ec && r.body == "fine";
                        });
                        ioc.restart();
                        ioc.run();
                    }
                    CHECK(answered == 2);
                }
                const auto requests = fake_proxy.requests();
                REQUIRE(requests.size() == 2);
                CHECK(requests.front().starts_with("GET http://127.0.0.1:9/api/v2/tokens/me HTTP/1.1\r\n"));
                CHECK(contains(requests.front(), "Proxy-Authorization: Basic "));
            }
            genesys::detail::wipe(s.token);
            CHECK_FALSE(heap_scan::contains(s.needle));
        }
    }
}
