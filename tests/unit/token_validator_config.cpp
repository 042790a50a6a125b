// SPDX-License-Identifier: BSL-1.0
// <genesys/token_validator_config.hpp>: a validator's configuration, which has no token.
#include <genesys/token_validator_config.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <string>

TEST_CASE("token_validator_config: a region's API host, the defaults of client_config, no token")
{
    const auto c = genesys::token_validator_config::for_region(genesys::region::eu_west_1);
    CHECK(c.base_url == "https://api.mypurecloud.ie");
    const genesys::token_validator_config d;
    CHECK(d.base_url == "https://api.mypurecloud.com");
    CHECK(d.user_agent == genesys::default_user_agent);
    CHECK(d.call_timeout == std::chrono::milliseconds(0));
    CHECK(d.max_response_bytes == 4u * 1024 * 1024);
    CHECK(d.max_json_depth == 32u);
    CHECK_FALSE(d.allow_insecure_http);
    const genesys::token_validator_config e{.base_url = "http://127.0.0.1:8080", .call_timeout = std::chrono::seconds(5)};
    CHECK(e.base_url == "http://127.0.0.1:8080");
    CHECK(e.call_timeout == std::chrono::seconds(5));
}
