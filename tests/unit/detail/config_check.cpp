// SPDX-License-Identifier: BSL-1.0
// <genesys/detail/config_check.hpp>: the check and normalization of a base URL.
#include <genesys/detail/config_check.hpp>

#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <utility>

TEST_CASE("base URLs are checked and normalized")
{
    auto check = [](std::string_view url) {
        std::string normalized;
        auto problem = genesys::detail::base_url_problem(url, normalized);
        return std::pair{problem, normalized};
    };
    CHECK(check("https://api.mypurecloud.com").second == "https://api.mypurecloud.com");
    CHECK(check("https://api.mypurecloud.com/").second == "https://api.mypurecloud.com");
    CHECK(check("https://gw.example.com:8443/genesys/api//").second == "https://gw.example.com:8443/genesys/api");
    CHECK(check("http://127.0.0.1:8080").second == "http://127.0.0.1:8080");
    CHECK(check("HTTPS://API.EXAMPLE.COM").first.empty());
    CHECK(check("http://[::1]:9000/x").second == "http://[::1]:9000/x");

    for (std::string_view bad : {"", "api.mypurecloud.com", "ftp://host", "https://", "https:///path",
                                 "https://user:pw@host", "https://host?x=1", "https://host/#frag", "https://host:",
                                 "https://host:99999", "https://host:80a", "https://ho st", "https://host/a b",
                                 "https://host\r\nX: y", "https://[::1", "https://a:b:443", "https://a:b",
                                 "https://ho[st", "https://host]", "https://[::1]:80:90"}) {
        CAPTURE(bad);
        CHECK_FALSE(check(bad).first.empty());
    }
}
