// SPDX-License-Identifier: BSL-1.0
// <genesys/transport/detail/beast_proxy.hpp>: the Beast adapters' CONNECT request, what the
// proxy's answer means, the absolute-form request, and the wiping of the options' copies of the
// proxy credentials. No I/O.
#include <genesys/transport/detail/beast_proxy.hpp>

#include <genesys/detail/base64.hpp>
#include <genesys/error.hpp>

#include <doctest/doctest.h>

#include <string>

namespace {

genesys::detail::proxy_endpoint endpoint(std::string_view url, std::string_view user = {},
                                         std::string_view password = {})
{
    genesys::detail::proxy_endpoint p;
    REQUIRE(genesys::detail::parse_proxy_url(url, user, password, p).empty());
    return p;
}

genesys::detail::beast_url url_of(std::string_view url)
{
    auto u = genesys::detail::parse_beast_url(url);
    REQUIRE(u.has_value());
    return *u;
}

} // namespace

TEST_CASE("beast_proxy: the CONNECT request names the host and port, with the credential and nothing else")
{
    using genesys::detail::beast_connect_request;
    CHECK(beast_connect_request(url_of("https://api.example.com/api/v2/tokens/me"), endpoint("http://proxy:3128")) ==
          "CONNECT api.example.com:443 HTTP/1.1\r\nHost: api.example.com:443\r\n\r\n");
    CHECK(beast_connect_request(url_of("https://[::1]:8443/x"), endpoint("http://u:p@proxy:3128")) ==
          "CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\nProxy-Authorization: Basic " +
              genesys::detail::base64_encode("u:p") + "\r\n\r\n");
}

TEST_CASE("beast_proxy: the proxy's answer to CONNECT: 2xx opens the tunnel, 407 and 401 are the credentials")
{
    using genesys::detail::beast_connect_outcome;
    const auto with = endpoint("http://u:p@127.0.0.1:4711");
    const auto without = endpoint("http://127.0.0.1:4711");
    const auto target = url_of("https://api.example.com:8443/");
    std::string text = "stale";
    CHECK_FALSE(beast_connect_outcome(200, 0, with, target, text));
    CHECK(text.empty());

    CHECK(beast_connect_outcome(407, 0, with, target, text) == genesys::errc::proxy_authentication_required);
    CHECK(text == "the proxy http://127.0.0.1:4711 refused the credentials (407 Proxy Authentication Required)");
    CHECK(beast_connect_outcome(407, 0, without, target, text) == genesys::errc::proxy_authentication_required);
    CHECK(text ==
          "the proxy http://127.0.0.1:4711 asked for credentials and none were set (407 Proxy Authentication Required)");
    CHECK(beast_connect_outcome(401, 0, with, target, text) == genesys::errc::proxy_authentication_required);
    CHECK(text == "the proxy http://127.0.0.1:4711 refused the credentials (401 Unauthorized)");

    CHECK(beast_connect_outcome(502, 0, with, target, text) == genesys::errc::proxy_tunnel_failed);
    CHECK(text == "the proxy http://127.0.0.1:4711 refused the tunnel to api.example.com:8443 (502 Bad Gateway)");
    CHECK(beast_connect_outcome(403, 0, with, target, text) == genesys::errc::proxy_tunnel_failed);
    // Bytes after a 2xx head: not a tunnel the TLS handshake can use.
    CHECK(beast_connect_outcome(200, 5, with, target, text) == genesys::errc::proxy_tunnel_failed);
    CHECK(text.find("sent data after its answer") != std::string::npos);
}

TEST_CASE("beast_proxy: a plain http request to a proxy is in absolute form, with Proxy-Authorization")
{
    genesys::detail::beast_request req;
    std::string why;
    const auto target = url_of("http://api.example.com:8080/api/v2/tokens/me?x=1");
    REQUIRE_FALSE(genesys::detail::beast_build_request(
        {genesys::http_method::get, "http://api.example.com:8080/api/v2/tokens/me?x=1", {}, {}}, target, true, req,
        why));
    genesys::detail::beast_to_absolute_form(req, target, endpoint("http://u:p@proxy:3128"));
    CHECK(req.target() == "http://api.example.com:8080/api/v2/tokens/me?x=1");
    CHECK(req[boost::beast::http::field::proxy_authorization] == "Basic " + genesys::detail::base64_encode("u:p"));
    CHECK(req[boost::beast::http::field::host] == "api.example.com:8080");
}

TEST_CASE("beast_proxy: beast_load_proxy wipes the options' proxy URL and password, also when it throws")
{
    genesys::beast_options o;
    o.proxy = "http://user:url-secret-value@proxy:3128";
    o.proxy_password = "setting-secret-value";
    const auto rules = genesys::detail::beast_load_proxy(o, "beast_transport");
    CHECK(o.proxy.empty());
    CHECK(o.proxy_password.empty());
    REQUIRE(rules.for_url(true, "api.example.com") != nullptr);
    CHECK(rules.for_url(true, "api.example.com")->authorization ==
          "Basic " + genesys::detail::base64_encode("user:setting-secret-value"));

    genesys::beast_options bad;
    bad.proxy = "socks5://user:url-secret-value@proxy:1080";
    bad.proxy_password = "setting-secret-value";
    bad.client_certificate.key_passphrase = "key-passphrase-value";
    CHECK_THROWS_AS(genesys::detail::beast_load_proxy(bad, "beast_transport"), genesys::invalid_argument_error);
    CHECK(bad.proxy.empty());
    CHECK(bad.proxy_password.empty());
    CHECK(bad.client_certificate.key_passphrase.empty());
}

TEST_CASE("beast_proxy: beast_write_request in absolute form writes what beast_to_absolute_form makes of the request")
{
    using genesys::detail::beast_request;
    const std::string url_text = "http://api.example.com:8080/api/v2/tokens/me?x=1";
    const auto target = url_of(url_text);
    for (const auto& proxy : {endpoint("http://proxy:3128"), endpoint("http://u:p@proxy:3128")}) {
        for (const bool own_field : {false, true}) {
            CAPTURE(own_field);
            CAPTURE(proxy.authorization.empty());
            genesys::http_request request{
                genesys::http_method::post, url_text, {{"Authorization", "Bearer abc"}}, "a=b"};
            if (own_field) // the request's own Proxy-Authorization: replaced by the proxy's, when it has one
                request.headers.add("proxy-authorization", "Basic mine");
            beast_request built;
            std::string why;
            REQUIRE_FALSE(genesys::detail::beast_build_request(request, target, false, built, why));
            genesys::detail::beast_to_absolute_form(built, target, proxy);
            std::string expected;
            genesys::detail::beast_serialize_request(built, expected);
            std::string written;
            REQUIRE_FALSE(genesys::detail::beast_write_request(request, target, false, true, proxy.authorization,
                                                               written, why));
            CHECK(written == expected);
        }
    }
}
