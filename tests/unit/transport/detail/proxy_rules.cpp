// SPDX-License-Identifier: BSL-1.0
// <genesys/transport/detail/proxy_rules.hpp>: the proxy URL split and checked (credentials
// percent-decoded, never in a message), no_proxy matched as libcurl does, the environment
// variables read, and the loopback rule. No I/O.
#include <genesys/transport/detail/proxy_rules.hpp>

#include <genesys/detail/base64.hpp>
#include <genesys/error.hpp>

#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <string_view>

namespace {

using genesys::detail::no_proxy_matches;
using genesys::detail::parse_proxy_url;
using genesys::detail::proxy_endpoint;
using genesys::detail::proxy_rules;
using genesys::detail::proxy_settings;

std::string basic(std::string_view user_colon_password)
{
    return "Basic " + genesys::detail::base64_encode(user_colon_password);
}

/// What `proxy_rules` throws for `s` (empty when it does not throw).
std::string construction_error(const proxy_settings& s, genesys::detail::proxy_getenv_fn env = &genesys::detail::proxy_getenv)
{
    try {
        proxy_rules r(s, "beast_transport", env);
    } catch (const genesys::invalid_argument_error& e) {
        CHECK(e.code() == genesys::condition::invalid_argument);
        return e.what();
    }
    return {};
}

// A fake environment for the tests (a function pointer: no capture).
const char* fake_env(const char* name)
{
    struct var {
        const char* name;
        const char* value;
    };
    static const var vars[] = {
        {"https_proxy", ""}, // empty: skipped
        {"HTTPS_PROXY", "http://secure-proxy:3128"},
        {"HTTP_PROXY", "http://must-not-be-read:1"}, // uppercase: never read for http URLs
        {"all_proxy", "http://all-proxy:8080"},
        {"NO_PROXY", "internal.example, 10.0.0.1"},
    };
    for (const auto& v : vars)
        if (std::strcmp(v.name, name) == 0)
            return v.value;
    return nullptr;
}

const char* empty_env(const char*) { return nullptr; }

} // namespace

TEST_CASE("proxy_rules: parse_proxy_url splits host and port, decodes the credentials")
{
    proxy_endpoint p;
    REQUIRE(parse_proxy_url("http://proxy.example:3128", "", "", p).empty());
    CHECK(p.host == "proxy.example");
    CHECK(p.port == 3128);
    CHECK_FALSE(p.ip_literal);
    CHECK(p.display == "http://proxy.example:3128");
    CHECK(p.authorization.empty());

    // Percent-decoded user-info; the display never holds it.
    REQUIRE(parse_proxy_url("HTTP://us%40er:p%3Ass%2Fw@127.0.0.1:8080/", "", "", p).empty());
    CHECK(p.host == "127.0.0.1");
    CHECK(p.ip_literal);
    CHECK(p.display == "http://127.0.0.1:8080");
    CHECK(p.authorization == basic("us@er:p:ss/w"));

    // No scheme: http, as libcurl; no port: 1080, as libcurl.
    REQUIRE(parse_proxy_url("Proxy.Example", "", "", p).empty());
    CHECK(p.host == "proxy.example");
    CHECK(p.port == 1080);
    CHECK(p.authorization.empty());

    REQUIRE(parse_proxy_url("http://[::1]:3128", "", "", p).empty());
    CHECK(p.host == "::1");
    CHECK(p.ip_literal);
    CHECK(p.display == "http://[::1]:3128");

    // The settings take precedence over the URL's credentials.
    REQUIRE(parse_proxy_url("http://url-user:url-pass@proxy:1", "set-user", "set-pass", p).empty());
    CHECK(p.authorization == basic("set-user:set-pass"));
    REQUIRE(parse_proxy_url("http://proxy:1", "user", "", p).empty());
    CHECK(p.authorization == basic("user:"));
    // Each setting replaces its part only.
    REQUIRE(parse_proxy_url("http://url-user@proxy:1", "", "set-pass", p).empty());
    CHECK(p.authorization == basic("url-user:set-pass"));
    REQUIRE(parse_proxy_url("http://url-user:url-pass@proxy:1", "set-user", "", p).empty());
    CHECK(p.authorization == basic("set-user:url-pass"));
    REQUIRE(parse_proxy_url("http://proxy:1", "DOMAIN\\user", "pw", p).empty());
    CHECK(p.authorization == basic("DOMAIN\\user:pw"));
}

TEST_CASE("proxy_rules: an unusable proxy URL is refused, never quoting its password")
{
    const std::string_view bad[] = {
        "https://user:Secr3t-Pa55word@proxy:443", // no TLS to the proxy
        "socks5://user:Secr3t-Pa55word@proxy:1080",
        "http://user:Secr3t-Pa55word@proxy:99999",
        "http://user:Secr3t-Pa55word@proxy:3128/path",
        "http://user:Secr3t%zzPa55word@proxy:3128",
        "http://user:Secr3t-Pa55word@:3128",
        "http://user:Secr3t-Pa55word@pro xy:3128",
        "http://user:Secr3t/Pa55word@proxy:3128", // an unencoded '/' in the password
        "http://user:Secr3t-Pa55word@[::1:3128",
    };
    for (std::string_view url : bad) {
        CAPTURE(url);
        proxy_endpoint p;
        const std::string why = parse_proxy_url(url, "", "", p);
        CHECK_FALSE(why.empty());
        CHECK(why.find("Secr3t") == std::string::npos);
        CHECK(why.find("Pa55word") == std::string::npos);

        const std::string thrown = construction_error({.proxy = url});
        CHECK(thrown.find("beast_transport") != std::string::npos);
        CHECK(thrown.find("proxy") != std::string::npos);
        CHECK(thrown.find("Pa55word") == std::string::npos);
    }
    // Settings Basic cannot carry, or that could not be sent, are refused without being quoted.
    struct bad_setting {
        proxy_settings s;
        std::string_view expected;
    };
    const bad_setting settings[] = {
        {{.proxy = "http://proxy:3128", .username = "do:main", .password = "Secr3t-Pa55word"}, "proxy_username"},
        {{.proxy = "http://proxy:3128", .username = "user", .password = "Secr3t-Pa55word\n"}, "proxy_password"},
        {{.proxy = "http://proxy:3128", .password = "Secr3t-Pa55word"}, "proxy_password"},
        {{.proxy = "http://u:Secr3t-Pa55word@proxy:3128\r\nX-Injected: 1"}, "control character"},
        {{.proxy = "http://proxy:3128", .no_proxy = "localhost\r\n"}, "no_proxy"},
    };
    for (const auto& b : settings) {
        const std::string thrown = construction_error(b.s);
        CAPTURE(thrown);
        CHECK(thrown.find(b.expected) != std::string::npos);
        CHECK(thrown.find("Pa55word") == std::string::npos);
    }
    // The password given as a setting is not quoted either.
    const std::string thrown =
        construction_error({.proxy = "ftp://proxy-host:21", .username = "u", .password = "Secr3t-Pa55word"});
    CHECK(thrown.find("ftp://proxy-host:21") != std::string::npos);
    CHECK(thrown.find("Pa55word") == std::string::npos);
}

TEST_CASE("proxy_rules: no_proxy matches as libcurl's list does")
{
    CHECK(no_proxy_matches("*", "anything.example"));
    CHECK(no_proxy_matches("a.example, *", "anything.example"));
    CHECK(no_proxy_matches("example.com", "example.com"));
    CHECK(no_proxy_matches("example.com", "api.example.com"));
    CHECK(no_proxy_matches(".example.com", "api.example.com"));
    CHECK(no_proxy_matches(".example.com", "example.com"));
    CHECK_FALSE(no_proxy_matches("example.com", "badexample.com"));
    CHECK_FALSE(no_proxy_matches("api.example.com", "example.com"));
    CHECK(no_proxy_matches("  other.example ,\tEXAMPLE.com  ", "Api.Example.COM"));
    CHECK(no_proxy_matches("example.com.", "api.example.com"));
    CHECK(no_proxy_matches("example.com", "api.example.com."));
    CHECK(no_proxy_matches("127.0.0.1", "127.0.0.1"));
    CHECK_FALSE(no_proxy_matches("0.0.1", "127.0.0.1")); // an address is never a suffix match
    CHECK_FALSE(no_proxy_matches("127.0.0.1", "127.0.0.10"));
    CHECK(no_proxy_matches("[::1]", "::1"));
    CHECK(no_proxy_matches("::1", "[::1]"));
    CHECK_FALSE(no_proxy_matches("", "example.com"));
    CHECK_FALSE(no_proxy_matches(",, ,", "example.com"));
    CHECK_FALSE(no_proxy_matches("example.com", ""));
}

TEST_CASE("proxy_rules: loopback hosts never go through the proxy unless proxy_loopback")
{
    using genesys::detail::is_loopback_proxy_target;
    for (std::string_view h : {"localhost", "LOCALHOST", "api.localhost", "localhost.", "127.0.0.1", "127.1.2.3",
                               "::1", "[::1]", "::ffff:127.0.0.1"})
        CHECK_MESSAGE(is_loopback_proxy_target(h), h);
    for (std::string_view h : {"example.com", "128.0.0.1", "::2", "localhost.example.com", "10.0.0.1"})
        CHECK_MESSAGE(!is_loopback_proxy_target(h), h);

    const proxy_rules plain({.proxy = "http://proxy:3128"}, "t", &empty_env);
    CHECK(plain.for_url(true, "127.0.0.1") == nullptr);
    CHECK(plain.for_url(false, "localhost") == nullptr);
    REQUIRE(plain.for_url(true, "api.example.com") != nullptr);
    CHECK(plain.for_url(true, "api.example.com")->display == "http://proxy:3128");
    CHECK(plain.for_url(false, "api.example.com") != nullptr);

    const proxy_rules loopback({.proxy = "http://proxy:3128", .no_proxy = "localhost", .loopback = true}, "t",
                               &empty_env);
    CHECK(loopback.for_url(true, "127.0.0.1") != nullptr);
    CHECK(loopback.for_url(true, "localhost") == nullptr); // no_proxy still applies
}

TEST_CASE("proxy_rules: the environment is read only when asked, with libcurl's variables")
{
    // Not asked: nothing read.
    const proxy_rules ignored({}, "t", &fake_env);
    CHECK_FALSE(ignored.any());
    CHECK(ignored.for_url(true, "api.example.com") == nullptr);

    const proxy_rules env({.from_environment = true}, "t", &fake_env);
    REQUIRE(env.for_url(true, "api.example.com") != nullptr);
    CHECK(env.for_url(true, "api.example.com")->display == "http://secure-proxy:3128"); // HTTPS_PROXY
    REQUIRE(env.for_url(false, "api.example.com") != nullptr);
    CHECK(env.for_url(false, "api.example.com")->display == "http://all-proxy:8080"); // not HTTP_PROXY
    CHECK(env.no_proxy() == "internal.example, 10.0.0.1");
    CHECK(env.for_url(true, "db.internal.example") == nullptr);
    CHECK(env.for_url(true, "10.0.0.1") == nullptr);

    // The setting wins over the environment, and so does a no_proxy set.
    const proxy_rules set({.proxy = "http://mine:1", .no_proxy = "other", .from_environment = true}, "t", &fake_env);
    CHECK(set.for_url(false, "api.example.com")->display == "http://mine:1");
    CHECK(set.for_url(true, "db.internal.example") != nullptr);
    CHECK(set.no_proxy() == "other");

    // The credentials settings apply to the environment's proxy too.
    const proxy_rules creds({.username = "u", .password = "p", .from_environment = true}, "t", &fake_env);
    CHECK(creds.for_url(true, "api.example.com")->authorization == basic("u:p"));
}

TEST_CASE("proxy_rules: a bad proxy from the environment names the variable")
{
    const auto env = [](const char* name) -> const char* {
        return std::strcmp(name, "HTTPS_PROXY") == 0 ? "socks5://user:Secr3t-Pa55word@proxy:1080" : nullptr;
    };
    const std::string thrown = construction_error({.from_environment = true}, +env);
    CHECK(thrown.find("HTTPS_PROXY") != std::string::npos);
    CHECK(thrown.find("socks5://proxy:1080") != std::string::npos);
    CHECK(thrown.find("Pa55word") == std::string::npos);
}
