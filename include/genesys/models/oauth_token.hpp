// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_MODELS_OAUTH_TOKEN_HPP
#define GENESYS_MODELS_OAUTH_TOKEN_HPP

/// @file
/// `oauth_token`: a token response of the login host.


#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace genesys {

/// A token response of the login host: `{"access_token": "...", "token_type": "bearer", "expires_in": 86399}`.
struct oauth_token {
    /// The token to send as `Authorization: Bearer <access_token>`.
    std::string access_token{};
    /// `bearer`.
    std::string token_type{};
    /// Lifetime in seconds from when the response was sent.
    std::optional<std::int64_t> expires_in{};
    /// Present for the authorization-code and refresh-token grants.
    std::optional<std::string> refresh_token{};

    /// Field-by-field equality.
    friend bool operator==(const oauth_token&, const oauth_token&) = default;
};

} // namespace genesys

#endif
