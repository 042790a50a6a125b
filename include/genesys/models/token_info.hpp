// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_MODELS_TOKEN_INFO_HPP
#define GENESYS_MODELS_TOKEN_INFO_HPP

/// @file
/// `token_info`: what `GET /api/v2/tokens/me` says about the current token (`TokenInfo`).

#include <genesys/date_time.hpp>
#include <genesys/detail/config.hpp>
#include <genesys/models/entities.hpp>
#include <genesys/models/org_oauth_client.hpp>

#include <optional>
#include <string>
#include <vector>

namespace genesys {

/// The native user a cloned user was made from, in the trustor organization (`TokenInfoClonedUser`).
struct token_info_cloned_user {
    std::optional<std::string> id{};      ///< The native user's id.
    std::optional<entity> organization{}; ///< The native user's organization.

    /// Compares every field.
    friend bool operator==(const token_info_cloned_user&, const token_info_cloned_user&) = default;
};

/** Information about the access token used for the request (`TokenInfo`).

    Every field is optional: the platform has added fields over the years, and an
    older or newer server may send fewer or more. `authorized_scope` is empty-but-present
    when the server sends `[]`, and absent when it sends nothing.

    @code
    genesys::token_info info = api.get_tokens_me();
    if (info.oauth_client)
        std::cout << info.oauth_client->name << '\n';
    @endcode
*/
struct token_info {
    /** Every field unset; copies and moves are field by field.

        Declared here and compiled with the implementation (once, in the compiled mode), so that
        a unit that only handles results does not generate the destruction of every nested
        model. Not an aggregate for that reason: set the fields by name.
        @{
    */
    GENESYS_DECL token_info() noexcept;
    GENESYS_DECL token_info(const token_info&);
    GENESYS_DECL token_info(token_info&&) noexcept;
    GENESYS_DECL token_info& operator=(const token_info&);
    GENESYS_DECL token_info& operator=(token_info&&) noexcept;
    GENESYS_DECL ~token_info();
    /// @}

    /// The organization the token acts in.
    std::optional<named_entity> organization{};
    /// The user's own organization; JSON key `homeOrganization`.
    std::optional<named_entity> home_organization{};
    /// The scopes the token was granted; JSON key `authorizedScope`.
    std::optional<std::vector<std::string>> authorized_scope{};
    /// The native user, when the token's user is a clone; JSON key `clonedUser`.
    std::optional<token_info_cloned_user> cloned_user{};
    /// When the token expires if left unused; JSON key `dateTokenIdles`.
    std::optional<date_time> date_token_idles{};
    /// JSON key `OAuthClient` (capital O).
    std::optional<org_oauth_client> oauth_client{};

    /// Compares every field.
    friend bool operator==(const token_info&, const token_info&) = default;
};

} // namespace genesys

#if !defined(GENESYS_TOKENS_SEPARATE_COMPILATION)
#include <genesys/models/impl/token_info.ipp>
#endif

#endif
