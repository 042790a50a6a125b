// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_MODELS_ORG_OAUTH_CLIENT_HPP
#define GENESYS_MODELS_ORG_OAUTH_CLIENT_HPP

/// @file
/// `org_oauth_client`: the OAuth client a token was issued to (`OrgOAuthClient`).

#include <genesys/date_time.hpp>
#include <genesys/models/entities.hpp>

#include <optional>
#include <string>
#include <vector>

namespace genesys {

/** The OAuth client a token was issued to (`OrgOAuthClient`).

    `authorized_grant_type` and `state` stay strings: the platform has changed
    their values over time (`CLIENT_CREDENTIALS` became `CLIENT-CREDENTIALS`), and
    an unknown value must not fail decoding. `name` and `authorized_grant_type`
    are required by the platform; a response that leaves them out (or sends a
    value that cannot be read as a string) reads as empty.
*/
struct org_oauth_client {
    /// The client id.
    std::optional<std::string> id{};
    /// The client's display name.
    std::string name{};
    /// When it was created; JSON key `dateCreated`.
    std::optional<date_time> date_created{};
    /// When it was last changed; JSON key `dateModified`.
    std::optional<date_time> date_modified{};
    /// Who created it; JSON key `createdBy`.
    std::optional<domain_entity_ref> created_by{};
    /// Who last changed it; JSON key `modifiedBy`.
    std::optional<domain_entity_ref> modified_by{};
    /// `CODE`, `TOKEN`, `SAML2-BEARER`, `PASSWORD`, `CLIENT-CREDENTIALS`, or a newer value;
    /// JSON key `authorizedGrantType`.
    std::string authorized_grant_type{};
    /// The scopes the client may request.
    std::optional<std::vector<std::string>> scope{};
    /// The roles it holds, each in a division; JSON key `roleDivisions`.
    std::optional<std::vector<role_division>> role_divisions{};
    /// `active`, `disabled`, `inactive`, or a newer value.
    std::optional<std::string> state{};
    /// When it is due to be deleted; JSON key `dateToDelete`.
    std::optional<date_time> date_to_delete{};
    /// The organization it belongs to.
    std::optional<named_entity> organization{};

    /// Compares every field.
    friend bool operator==(const org_oauth_client&, const org_oauth_client&) = default;
};

} // namespace genesys

#endif
