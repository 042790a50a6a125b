// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_TOKEN_VALIDATOR_OPTIONS_HPP
#define GENESYS_TOKEN_VALIDATOR_OPTIONS_HPP

/// @file
/// `token_validator_options`: the cache, its lifetimes and the policy of a `token_validator`.

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace genesys {

/** How a `token_validator` caches and what it requires of a token.

    Checked when the validator is made (`genesys::check(config, options)` says it without
    throwing): `max_age`, `negative_ttl` and `stale_if_error` must be from 0 to 24 hours,
    `wait_timeout` at most 24 hours, an `organization_id` or `home_organization_id` that is set
    must not be empty, nor may an entry of `required_scopes` or `allowed_client_ids` (no token
    would match it).

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
    /// At most this many tokens are remembered (valid and invalid together); a token is kept
    /// while there is room, and once there is none the least recently used go first (CLOCK,
    /// from the fullest shard). 0: nothing is remembered.
    std::size_t max_entries = 10000;
    /** The longest a blocking `validate` waits for the API call another validation of the same
        token started (a blocking one, or an `async_validate`, whose io_context must run for the
        call to end). Past it, that `validate` returns a `network` error with
        `errc::deadline_exceeded`; the call goes on for the others. Zero or less (the default):
        the configuration's `call_timeout`, or 30 s when that is zero. */
    std::chrono::milliseconds wait_timeout{0};
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
};

} // namespace genesys

#endif
