// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_MODELS_OAUTH_ERROR_BODY_HPP
#define GENESYS_MODELS_OAUTH_ERROR_BODY_HPP

/// @file
/// `oauth_error_body`: the body of the login host's refusals.


#include <optional>
#include <string>
#include <string_view>

namespace genesys {

/// The login host's error body: `{"error": "invalid_client", "description": "...", "error_description": "..."}`.
struct oauth_error_body {
    /// The OAuth error code: `invalid_client`, `invalid_grant`, `unsupported_grant_type`, ...
    std::optional<std::string> error{};
    /// What went wrong, as the Genesys login host words it.
    std::optional<std::string> description{};
    /// The RFC 6749 description (usually the same text as `description`).
    std::optional<std::string> error_description{};

    /// Field-by-field equality.
    friend bool operator==(const oauth_error_body&, const oauth_error_body&) = default;
};

} // namespace genesys

#endif
