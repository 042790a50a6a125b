// SPDX-License-Identifier: BSL-1.0
// <genesys/detail/url.hpp>: the one URL splitter, used by the base-URL check and the Beast adapters.
#include <genesys/detail/url.hpp>

#include <doctest/doctest.h>

#include <optional>
#include <string_view>

using genesys::detail::parse_port;
using genesys::detail::split_url;
using genesys::detail::url_parts;

TEST_CASE("detail/url: split_url gives scheme, host, port and the rest as views")
{
    url_parts p;
    REQUIRE(split_url("HTTPS://Api.Example.com:8443/gw/api?x=1#f", p).empty());
    CHECK(p.tls);
    CHECK(p.host == "Api.Example.com");
    REQUIRE(p.port);
    CHECK(*p.port == "8443");
    CHECK(p.rest == "/gw/api?x=1#f");

    REQUIRE(split_url("http://127.0.0.1", p).empty());
    CHECK_FALSE(p.tls);
    CHECK(p.host == "127.0.0.1");
    CHECK_FALSE(p.port); // an earlier split's port does not linger
    CHECK(p.rest.empty());

    REQUIRE(split_url("http://[::1]:80?q", p).empty());
    CHECK(p.host == "[::1]");
    CHECK(*p.port == "80");
    CHECK(p.rest == "?q");

    REQUIRE(split_url("http://host:/", p).empty()); // an empty port is there, for the caller to judge
    REQUIRE(p.port);
    CHECK(p.port->empty());
}

TEST_CASE("detail/url: split_url says why it cannot split")
{
    url_parts p;
    CHECK(split_url("ftp://host", p) == "must start with https:// or http://");
    CHECK(split_url("https:/host", p) == "must start with https:// or http://");
    CHECK(split_url("https://user:pw@host/", p) == "must not contain user-info (user:password@host)");
    CHECK(split_url("https://[::1/", p) == "has an unterminated IPv6 address");
    CHECK(split_url("https://[::1]x/", p) == "has an invalid port");
}

TEST_CASE("detail/url: parse_port accepts 1 to 65535 in at most five digits")
{
    CHECK(parse_port("1") == std::optional<std::uint16_t>(1));
    CHECK(parse_port("65535") == std::optional<std::uint16_t>(65535));
    CHECK(parse_port("00080") == std::optional<std::uint16_t>(80));
    CHECK_FALSE(parse_port(""));
    CHECK_FALSE(parse_port("0"));
    CHECK_FALSE(parse_port("65536"));
    CHECK_FALSE(parse_port("000080"));
    CHECK_FALSE(parse_port("8o"));
    CHECK_FALSE(parse_port("-1"));
}
