// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_TOKEN_VALIDATOR_STATS_HPP
#define GENESYS_TOKEN_VALIDATOR_STATS_HPP

/// @file
/// `token_validator_stats`: the counters of a `token_validator` (`stats()`).

#include <cstddef>
#include <cstdint>

namespace genesys {

/// A counter snapshot of a `token_validator` (`stats()`), each since it was made.
struct token_validator_stats {
    std::uint64_t hits = 0;          ///< answered from a valid entry
    std::uint64_t negative_hits = 0; ///< answered from a remembered 401
    std::uint64_t stale_hits = 0;    ///< answered from an expired entry under `stale_if_error`
    std::uint64_t misses = 0;        ///< checks begun: API calls made, but for those `overloaded`
    std::uint64_t coalesced = 0;     ///< validations that waited for another's API call (a blocking
                                     ///< one that gave up at `wait_timeout` included)
    std::uint64_t evictions = 0;     ///< entries dropped to stay within `max_entries`
    std::uint64_t errors = 0;        ///< API calls that failed other than with a 401 (not cached)
    std::uint64_t policy_rejections = 0; ///< valid tokens refused by the policy
    std::size_t entries = 0;         ///< entries held now
    std::uint64_t refused = 0;       ///< validations refused before any lookup, a token unfit to
                                     ///< send (nothing sent, not a miss)
    std::uint64_t rate_limited = 0;  ///< validations answered from a remembered 429 without an API
                                     ///< call (with the 429, or stale: those count in `stale_hits` too)
    std::uint64_t overloaded = 0;    ///< checks that found no room under `max_concurrent_checks` in
                                     ///< time (`errc::validator_overloaded`; no API call, not an error)
    std::size_t checks_in_flight = 0; ///< checks holding room now (under way, or waiting to send)
    std::uint64_t refreshes = 0;     ///< re-checks begun by `refresh_ahead` (not in `misses`)
};

} // namespace genesys

#endif
