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
