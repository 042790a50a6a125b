// SPDX-License-Identifier: BSL-1.0
// <genesys/token_validator_stats.hpp>: the validator's counters; how they count is tested with
// the validator (token_validator.cpp).
#include <genesys/token_validator_stats.hpp>

#include <doctest/doctest.h>

TEST_CASE("token_validator_stats: every counter starts at zero")
{
    const genesys::token_validator_stats s;
    CHECK(s.hits + s.negative_hits + s.stale_hits + s.misses + s.coalesced + s.evictions + s.errors +
              s.policy_rejections + s.refused + s.rate_limited + s.overloaded ==
          0u);
    CHECK(s.entries == 0u);
    CHECK(s.checks_in_flight == 0u);
}
