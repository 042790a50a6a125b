// SPDX-License-Identifier: BSL-1.0
// <genesys/transport/detail/beast_url.hpp>: the Beast adapters' view of a URL (scheme, host,
// port, target) and the Host field made from it. No I/O.
#include <genesys/transport/detail/beast_url.hpp>

#include <doctest/doctest.h>

#include <boost/system/errc.hpp>

TEST_CASE("beast_url: parse_beast_url splits scheme, host, port and target")
{
    using genesys::detail::parse_beast_url;

    auto u = parse_beast_url("http://example.com/api/v2/tokens/me");
    REQUIRE(u.has_value());
    CHECK_FALSE(u->tls);
    CHECK(u->host == "example.com");
    CHECK(u->port == 80);
    CHECK(u->target == "/api/v2/tokens/me");
    CHECK_FALSE(u->ip_literal);

    u = parse_beast_url("HTTPS://API.MyPureCloud.com");
    REQUIRE(u.has_value());
    CHECK(u->tls);
    CHECK(u->host == "api.mypurecloud.com");
    CHECK(u->port == 443);
    CHECK(u->target == "/");

    u = parse_beast_url("https://h.example:8443/a/b?preserveIdleTTL=true&x=%20#fragment");
    REQUIRE(u.has_value());
    CHECK(u->port == 8443);
    CHECK(u->target == "/a/b?preserveIdleTTL=true&x=%20");

    u = parse_beast_url("http://h?x=1");
    REQUIRE(u.has_value());
    CHECK(u->target == "/?x=1");

    u = parse_beast_url("http://h:/x");
    REQUIRE(u.has_value());
    CHECK(u->port == 80);

    u = parse_beast_url("http://127.0.0.1:8080/x");
    REQUIRE(u.has_value());
    CHECK(u->ip_literal);
    CHECK(u->host == "127.0.0.1");
    CHECK(u->port == 8080);

    u = parse_beast_url("http://[::1]:8443/p?q=1");
    REQUIRE(u.has_value());
    CHECK(u->ip_literal);
    CHECK(u->host == "::1");
    CHECK(u->port == 8443);
    CHECK(u->target == "/p?q=1");

    u = parse_beast_url("https://[2001:DB8::1]");
    REQUIRE(u.has_value());
    CHECK(u->host == "2001:db8::1");
    CHECK(u->port == 443);
    CHECK(u->target == "/");

    u = parse_beast_url("http://localhost:65535");
    REQUIRE(u.has_value());
    CHECK(u->port == 65535);
    CHECK_FALSE(u->ip_literal);
}

TEST_CASE("beast_url: parse_beast_url rejects what it cannot send")
{
    using genesys::detail::parse_beast_url;
    const char* bad[] = {
        "",
        "example.com/path",
        "//example.com/",
        "ftp://example.com/",
        "http:/example.com/",
        "http://",
        "http:///path",
        "http://:80/",
        "http://user@example.com/",
        "https://user:secret@example.com/",
        "http://example.com:0/",
        "http://example.com:65536/",
        "http://example.com:123456/",
        "http://example.com:8a/",
        "http://example.com:-1/",
        "http://exa mple.com/",
        "http://example.com/pa th",
        "http://example.com/a\r\nX-Injected: 1",
        "http://example.com/caf\xc3\xa9",
        "http://[::1/",
        "http://[::1]x/",
        "http://[]/",
        "http://[not-an-address]/",
        "http://[fe80::1%25eth0]/",
        "http://::1/",
    };
    for (const char* url : bad) {
        CAPTURE(url);
        auto r = parse_beast_url(url);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == boost::system::errc::invalid_argument);
    }
}

TEST_CASE("beast_url: the Host field omits the default port and brackets an IPv6 literal")
{
    using genesys::detail::beast_host_field;
    using genesys::detail::parse_beast_url;
    CHECK(beast_host_field(*parse_beast_url("https://api.mypurecloud.com/x")) == "api.mypurecloud.com");
    CHECK(beast_host_field(*parse_beast_url("http://h:80/")) == "h");
    CHECK(beast_host_field(*parse_beast_url("http://h:443/")) == "h:443");
    CHECK(beast_host_field(*parse_beast_url("https://h:8443/")) == "h:8443");
    CHECK(beast_host_field(*parse_beast_url("http://[::1]/")) == "[::1]");
    CHECK(beast_host_field(*parse_beast_url("https://[::1]:8443/")) == "[::1]:8443");
}
