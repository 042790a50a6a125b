#ifndef GENESYS_MODELS_OAUTH_ERROR_BODY_HPP
#define GENESYS_MODELS_OAUTH_ERROR_BODY_HPP

/// @file
/// `oauth_error_body`: the body of the login host's refusals.

#include <genesys/detail/model_traits.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <tuple>

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

namespace detail {

template <>
struct model_traits<oauth_error_body> {
    static constexpr std::string_view name = "OAuth error";
    static constexpr auto fields = std::tuple{field("error", &oauth_error_body::error),
                                              field("description", &oauth_error_body::description),
                                              field("error_description", &oauth_error_body::error_description)};
};

} // namespace detail
} // namespace genesys

#endif
