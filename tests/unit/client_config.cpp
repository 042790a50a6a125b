// SPDX-License-Identifier: BSL-1.0
// <genesys/client_config.hpp>: the configuration, its defaults and its region constructor.
#include <genesys/client_config.hpp>

#include "fixtures.hpp"

TEST_CASE("client_config defaults and designated initializers")
{
    genesys::client_config def;
    CHECK(def.base_url == "https://api.mypurecloud.com");
    CHECK(def.access_token.empty());
    CHECK(def.default_headers.empty());

    genesys::client_config cfg{.base_url = "https://api.mypurecloud.ie", .access_token = "tok"};
    CHECK(cfg.base_url == "https://api.mypurecloud.ie");
    CHECK(cfg.access_token == "tok");

    auto regional = genesys::client_config::for_region(genesys::region::ap_south_1, "tok2");
    CHECK(regional.base_url == "https://api.aps1.pure.cloud");
    CHECK(regional.access_token == "tok2");
}

TEST_CASE("check(client_config): the error a client made from the configuration would throw, or nothing")
{
    CHECK_FALSE(genesys::check(genesys::client_config{.access_token = "tok"}).has_value());
    CHECK_FALSE(genesys::check(genesys::client_config::for_region(genesys::region::eu_west_1, "tok")).has_value());

    const auto no_token = genesys::check(genesys::client_config{});
    REQUIRE(no_token.has_value());
    CHECK(no_token->kind == genesys::error_kind::invalid_argument);
    CHECK(no_token->message == "invalid client_config: access_token is empty");

    genesys::client_config negative{.access_token = "tok"};
    negative.retry.max_elapsed = std::chrono::milliseconds(-5);
    const auto bad_retry = genesys::check(negative);
    REQUIRE(bad_retry.has_value());
    CHECK(bad_retry->message.find("must not be negative") != std::string::npos);

    const auto bad_header = genesys::check(genesys::client_config{.access_token = "tok", .default_headers = {{"X-A", "1\n"}}});
    REQUIRE(bad_header.has_value());
    CHECK(bad_header->message == "invalid client_config: default header \"X-A\" has a control character in its value");
}
