// SPDX-License-Identifier: BSL-1.0
// <genesys/oauth_config.hpp>: the login base URL of each region and of a custom API base.
#include <genesys/oauth_config.hpp>

#include "fixtures.hpp"

#include <string>

TEST_CASE("login_url_for: login.<host> for every region, a gateway or emulator is its own login base")
{
    for (const auto& r : genesys::regions) {
        CAPTURE(r.host);
        CHECK(genesys::login_url_for(genesys::api_base_url(r.host)) == genesys::login_base_url(r.host));
    }
    CHECK(genesys::login_url_for("https://API.mypurecloud.de/") == "https://login.mypurecloud.de");
    CHECK(genesys::login_url_for("https://gw.example.com/genesys") == "https://gw.example.com/genesys");
    CHECK(genesys::login_url_for("http://127.0.0.1:8080") == "http://127.0.0.1:8080");
    const auto cfg = genesys::oauth_config::for_region(genesys::region::ap_southeast_2, "id", "secret-1");
    CHECK(cfg.login_url == "https://login.mypurecloud.com.au");
    CHECK(cfg.client_id == "id");
    CHECK(cfg.client_secret == "secret-1");
}
