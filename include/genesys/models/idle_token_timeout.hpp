// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_MODELS_IDLE_TOKEN_TIMEOUT_HPP
#define GENESYS_MODELS_IDLE_TOKEN_TIMEOUT_HPP

/// @file
/// `idle_token_timeout`: the organization's idle-token settings (`IdleTokenTimeout`).


#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace genesys {

/** The smallest `idle_token_timeout::idle_token_timeout_seconds` the API definition allows: 5
    minutes. `put_tokens_timeout` refuses a smaller value before sending (an `invalid_argument`
    error). The largest, 8 hours (or 15 minutes in an organization with HIPAA compliance on),
    depends on the organization's setting: the platform checks it and answers 400.
*/
inline constexpr std::int64_t min_idle_token_timeout_seconds = 300;

/// A group-specific inactivity timeout (`InactivityTimeoutGroupBundle`); all but the unit are required.
struct inactivity_timeout_group_bundle {
    /// The bundle's priority among the others.
    std::int64_t priority = 0;
    /// The timeout for members of `groups`, in seconds; JSON key `timeoutSeconds`.
    std::int64_t timeout_seconds = 0;
    /// The timeout's unit: `Minutes` or `Hours` (or a newer value, kept as sent);
    /// JSON key `inactivityTimeoutUnit`.
    std::optional<std::string> inactivity_timeout_unit{};
    /// The ids of the groups it applies to.
    std::vector<std::string> groups{};

    /// Compares every field.
    friend bool operator==(const inactivity_timeout_group_bundle&, const inactivity_timeout_group_bundle&) = default;
};

/** The organization's idle-token timeout settings (`IdleTokenTimeout`).

    @code
    genesys::idle_token_timeout t;
    t.enable_idle_token_timeout = true;
    t.idle_token_timeout_seconds = 900;
    t.inactivity_timeout_unit = "Minutes";
    api.put_tokens_timeout(t);
    @endcode
*/
struct idle_token_timeout {
    /// How long a token may stay unused, in seconds: at least `min_idle_token_timeout_seconds`
    /// (300), at most 28 800 (8 hours; 900 with HIPAA compliance on); JSON key
    /// `idleTokenTimeoutSeconds`.
    std::optional<std::int64_t> idle_token_timeout_seconds{};
    /// Whether unused tokens expire; JSON key `enableIdleTokenTimeout`.
    std::optional<bool> enable_idle_token_timeout{};
    /// The timeout's unit: `Minutes` or `Hours` (or a newer value, kept as sent);
    /// JSON key `inactivityTimeoutUnit`.
    std::optional<std::string> inactivity_timeout_unit{};
    /// Whether the group-specific timeouts apply; JSON key `inactivityTimeoutGroupsEnabled`.
    std::optional<bool> inactivity_timeout_groups_enabled{};
    /// The group-specific timeouts; JSON key `inactivityTimeoutGroupBundles`.
    std::optional<std::vector<inactivity_timeout_group_bundle>> inactivity_timeout_group_bundles{};

    /// Compares every field.
    friend bool operator==(const idle_token_timeout&, const idle_token_timeout&) = default;
};

} // namespace genesys

#endif
