// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_TOKEN_VALIDATOR_OPTIONS_HPP
#define GENESYS_TOKEN_VALIDATOR_OPTIONS_HPP

/// @file
/// `token_validator_options`: the cache, its lifetimes and the policy of a `token_validator`.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace genesys {

class shared_token_cache; // <genesys/shared_token_cache.hpp>

/** How a `token_validator` caches and what it requires of a token.

    Checked when the validator is made (`genesys::check(config, options)` says it without
    throwing): `max_age`, `negative_ttl`, `stale_if_error` and `rate_limit_ttl_max` must be
    from 0 to 24 hours, `refresh_ahead` 0 (off) or less than `max_age`, `wait_timeout` at most
    24 hours, an `organization_id` or `home_organization_id` that is set must not be empty, nor
    may an entry of `required_scopes` or `allowed_client_ids` (no token would match it).

    @code
    genesys::token_validator_options o;
    o.organization_id = "6f0b3c4e-8d2a-4a51-9c3e-2f1d0b7a9e55"; // only this organization's tokens
    o.required_scopes = {"users:readonly"};
    @endcode
*/
struct token_validator_options {
    /// A valid token is trusted this long after it was checked, or until its `dateTokenIdles`
    /// if that comes first.
    std::chrono::seconds max_age{60};
    /// An invalid token (the API's 401) is remembered this long; 0: not at all.
    std::chrono::seconds negative_ttl{10};
    /// When the API cannot be reached, answers 5xx or 429, a valid token whose trust ran out
    /// (`max_age`) less than this long ago is still accepted (`validated_token::stale()`), unless
    /// its `dateTokenIdles` has passed: an idle token is never served stale. Off by default.
    std::chrono::seconds stale_if_error{0};
    /** A 429 for a token is remembered until its `Retry-After` (seconds or an HTTP date), at
        most this long; without a `Retry-After` (or with one that does not parse), for 1 s (or
        this, if shorter). Until then, validations of that token make no API call: they answer
        from the expired entry under `stale_if_error` (`validated_token::stale()`), else with
        that 429 (`error_kind::api`, status 429, `condition::rate_limited`, its headers kept but
        `Retry-After`, which says the seconds left). Counted in `stats().rate_limited`. A valid
        answer or a 401 ends it; so do `forget` and `clear`. 0: a 429 is not remembered. */
    std::chrono::seconds rate_limit_ttl_max{60};
    /** Refresh ahead: the first validation that hits a valid entry less than this long before
        its trust ends (by `max_age`; not one that ends at the token's `dateTokenIdles`, which a
        check cannot move) re-checks the token while the others keep hitting the entry: a
        blocking `validate` makes the call itself and returns its answer (the cached one if the
        call fails other than with a 401); an `async_validate` completes with the cached answer
        and leaves the call running on the transport's executor. One re-check per entry (a failed
        one is not retried before the entry expires); it takes room under
        `max_concurrent_checks`, and is skipped when there is none. Counted in
        `stats().refreshes`. 0 (the default): off; else less than `max_age`. */
    std::chrono::seconds refresh_ahead{0};
    /// At most this many tokens are remembered (valid and invalid together); a token is kept
    /// while there is room, and once there is none the least recently used go first (CLOCK,
    /// from the fullest shard). 0: nothing is remembered.
    std::size_t max_entries = 10000;
    /** The longest a blocking `validate` waits for the API call another validation of the same
        token started (a blocking one, or an `async_validate`, whose io_context must run for the
        call to end). Past it, that `validate` returns a `network` error with
        `errc::deadline_exceeded`; the call goes on for the others. Also the longest a check
        waits for room under `max_concurrent_checks`. Zero or less (the default): the
        configuration's `call_timeout`, or 30 s when that is zero. */
    std::chrono::milliseconds wait_timeout{0};
    /** At most this many checks (API calls, each with its retries) in flight at once per
        validator (and its copies), blocking and asynchronous together; 0: no bound. Validations
        that join a check already under way for their token take no room. A check beyond the
        bound waits, first come first served, for `wait_timeout` (the same bound, defaults
        applied; an asynchronous one on a timer of the transport's executor, also ended by the
        io_context's end); past it, it and every validation waiting for it fail with a `network`
        error of code `errc::validator_overloaded` (answer 503), or get the expired entry under
        `stale_if_error`. A spray of distinct bogus tokens then costs at most this many sockets
        and API calls at a time. */
    std::size_t max_concurrent_checks = 64;
    /// Sent as `preserveIdleTTL`: true, checking a token does not extend its life.
    bool preserve_idle_ttl = true;
    /// Required organization id (`token_info::organization`), if set.
    std::optional<std::string> organization_id{};
    /// Required home organization id (`token_info::home_organization`), if set.
    std::optional<std::string> home_organization_id{};
    /// Every one of these must be in the token's `authorizedScope`.
    std::vector<std::string> required_scopes{};
    /// If not empty, the token's OAuth client id must be one of these.
    std::vector<std::string> allowed_client_ids{};
    /// The wall clock (`dateTokenIdles` is wall-clock time); for tests. Empty: `system_clock::now`.
    std::function<std::chrono::system_clock::time_point()> clock{};
    /** A second level of the cache, shared by a fleet of validators (e.g.
        `genesys::redis_shared_cache`, <genesys/redis/shared_cache.hpp>). Empty (the default):
        none. When set, a check this validator would make (a miss of its own cache, with room
        under `max_concurrent_checks`) first asks it: its answer (a valid token, a 401, a 429) ends
        the check without an API call, under this validator's own lifetimes (`max_age`,
        `negative_ttl`, `rate_limit_ttl_max`) and policy; no answer (or none within the wait a
        blocking `validate` allows, `wait_timeout`'s bound): the API is called, and a 200, a 401
        (when `negative_ttl` > 0) or a 429 (when `rate_limit_ttl_max` > 0) is shared, unless the
        token was revoked meanwhile. `forget` revokes the token fleet-wide, and the fleet's
        revocations drop this validator's entries. It never makes a validation fail. */
    std::shared_ptr<shared_token_cache> shared_cache{};
};

} // namespace genesys

#endif
