// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DETAIL_MODEL_FIELDS_HPP
#define GENESYS_DETAIL_MODEL_FIELDS_HPP

// The JSON shape of every model: its platform name and its fields as `{json key, member}` pairs,
// in the order the platform documents them. <genesys/detail/json_codec.hpp> walks these tables;
// the model headers themselves stay plain structs, so that a program that only uses the models
// (the compiled mode's public headers) does not parse the tables.

#include <genesys/detail/model_traits.hpp>
#include <genesys/models/entities.hpp>
#include <genesys/models/error_body.hpp>
#include <genesys/models/idle_token_timeout.hpp>
#include <genesys/models/oauth_error_body.hpp>
#include <genesys/models/oauth_token.hpp>
#include <genesys/models/org_oauth_client.hpp>
#include <genesys/models/token_info.hpp>

#include <tuple>

namespace genesys::detail {

// <genesys/models/entities.hpp>

template <>
struct model_traits<entity> {
    static constexpr std::string_view name = "Entity";
    static constexpr auto fields = std::tuple{field("id", &entity::id)};
};

template <>
struct model_traits<named_entity> {
    static constexpr std::string_view name = "NamedEntity";
    static constexpr auto fields = std::tuple{field("id", &named_entity::id), field("name", &named_entity::name)};
};

template <>
struct model_traits<domain_entity_ref> {
    static constexpr std::string_view name = "DomainEntityRef";
    static constexpr auto fields = std::tuple{field("id", &domain_entity_ref::id),
                                              field("name", &domain_entity_ref::name),
                                              field("selfUri", &domain_entity_ref::self_uri)};
};

template <>
struct model_traits<role_division> {
    static constexpr std::string_view name = "RoleDivision";
    static constexpr auto fields =
        std::tuple{field("roleId", &role_division::role_id), field("divisionId", &role_division::division_id)};
};

// <genesys/models/org_oauth_client.hpp>

template <>
struct model_traits<org_oauth_client> {
    using T = org_oauth_client;
    static constexpr std::string_view name = "OrgOAuthClient";
    static constexpr auto fields = std::tuple{
        field("id", &T::id),
        field("name", &T::name),
        field("dateCreated", &T::date_created),
        field("dateModified", &T::date_modified),
        field("createdBy", &T::created_by),
        field("modifiedBy", &T::modified_by),
        field("authorizedGrantType", &T::authorized_grant_type),
        field("scope", &T::scope),
        field("roleDivisions", &T::role_divisions),
        field("state", &T::state),
        field("dateToDelete", &T::date_to_delete),
        field("organization", &T::organization),
    };
};

// <genesys/models/token_info.hpp>

template <>
struct model_traits<token_info_cloned_user> {
    static constexpr std::string_view name = "TokenInfoClonedUser";
    static constexpr auto fields = std::tuple{field("id", &token_info_cloned_user::id),
                                              field("organization", &token_info_cloned_user::organization)};
};

template <>
struct model_traits<token_info> {
    using T = token_info;
    static constexpr std::string_view name = "TokenInfo";
    static constexpr auto fields = std::tuple{
        field("organization", &T::organization),
        field("homeOrganization", &T::home_organization),
        field("authorizedScope", &T::authorized_scope),
        field("clonedUser", &T::cloned_user),
        field("dateTokenIdles", &T::date_token_idles),
        field("OAuthClient", &T::oauth_client),
    };
};

// <genesys/models/idle_token_timeout.hpp>

template <>
struct model_traits<inactivity_timeout_group_bundle> {
    using T = inactivity_timeout_group_bundle;
    static constexpr std::string_view name = "InactivityTimeoutGroupBundle";
    static constexpr auto fields = std::tuple{
        field("priority", &T::priority),
        field("timeoutSeconds", &T::timeout_seconds),
        field("inactivityTimeoutUnit", &T::inactivity_timeout_unit),
        field("groups", &T::groups),
    };
};

template <>
struct model_traits<idle_token_timeout> {
    using T = idle_token_timeout;
    static constexpr std::string_view name = "IdleTokenTimeout";
    static constexpr auto fields = std::tuple{
        field("idleTokenTimeoutSeconds", &T::idle_token_timeout_seconds),
        field("enableIdleTokenTimeout", &T::enable_idle_token_timeout),
        field("inactivityTimeoutUnit", &T::inactivity_timeout_unit),
        field("inactivityTimeoutGroupsEnabled", &T::inactivity_timeout_groups_enabled),
        field("inactivityTimeoutGroupBundles", &T::inactivity_timeout_group_bundles),
    };
};

// <genesys/models/error_body.hpp>

template <>
struct model_traits<error_detail> {
    using T = error_detail;
    static constexpr std::string_view name = "Detail";
    static constexpr auto fields = std::tuple{
        field("errorCode", &T::error_code),
        field("fieldName", &T::field_name),
        field("entityId", &T::entity_id),
        field("entityName", &T::entity_name),
    };
};

template <>
struct model_traits<error_limit> {
    static constexpr std::string_view name = "Limit";
    static constexpr auto fields = std::tuple{field("key", &error_limit::key),
                                              field("namespace", &error_limit::namespace_),
                                              field("value", &error_limit::value)};
};

template <>
struct model_traits<error_body> {
    using T = error_body;
    static constexpr std::string_view name = "ErrorBody";
    static constexpr auto fields = std::tuple{
        field("message", &T::message),
        field("code", &T::code),
        field("status", &T::status),
        field("entityId", &T::entity_id),
        field("entityName", &T::entity_name),
        field("messageWithParams", &T::message_with_params),
        field("messageParams", &T::message_params),
        field("contextId", &T::context_id),
        field("details", &T::details),
        field("errors", &T::errors),
        field("limit", &T::limit),
    };
};

// <genesys/models/oauth_error_body.hpp>

template <>
struct model_traits<oauth_error_body> {
    static constexpr std::string_view name = "OAuth error";
    static constexpr auto fields = std::tuple{field("error", &oauth_error_body::error),
                                              field("description", &oauth_error_body::description),
                                              field("error_description", &oauth_error_body::error_description)};
};

// <genesys/models/oauth_token.hpp>

template <>
struct model_traits<oauth_token> {
    static constexpr std::string_view name = "OAuth token response";
    static constexpr auto fields = std::tuple{
        field("access_token", &oauth_token::access_token), field("token_type", &oauth_token::token_type),
        field("expires_in", &oauth_token::expires_in), field("refresh_token", &oauth_token::refresh_token)};
};

} // namespace genesys::detail

#endif
