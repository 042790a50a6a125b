// SPDX-License-Identifier: BSL-1.0
// <genesys/token_validator_options.hpp>: the cache and the policy of a validator; what is refused
// is tested with the validator (token_validator.cpp), which checks them.
#include <genesys/token_validator_options.hpp>

#include <doctest/doctest.h>

#include <chrono>

TEST_CASE("token_validator_options: the defaults")
{
    const genesys::token_validator_options o;
    CHECK(o.max_age == std::chrono::seconds(60));
    CHECK(o.negative_ttl == std::chrono::seconds(10));
    CHECK(o.stale_if_error == std::chrono::seconds(0));
    CHECK(o.max_entries == 10000u);
    CHECK(o.wait_timeout == std::chrono::milliseconds(0));
    CHECK(o.preserve_idle_ttl);
    CHECK_FALSE(o.organization_id);
    CHECK_FALSE(o.home_organization_id);
    CHECK(o.required_scopes.empty());
    CHECK(o.allowed_client_ids.empty());
    CHECK_FALSE(o.clock);
}
