// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_MODELS_ENTITIES_HPP
#define GENESYS_MODELS_ENTITIES_HPP

/// @file
/// The small reference models shared by the others: `entity`, `named_entity`,
/// `domain_entity_ref` and `role_division`.


#include <optional>
#include <string>

namespace genesys {

/// A reference to an object by id (`Entity`).
struct entity {
    std::optional<std::string> id{}; ///< The object's id.

    /// Compares every field.
    friend bool operator==(const entity&, const entity&) = default;
};

/// A reference to an object by id, with its name (`NamedEntity`).
struct named_entity {
    std::optional<std::string> id{};   ///< The object's id.
    std::optional<std::string> name{}; ///< The object's name.

    /// Compares every field.
    friend bool operator==(const named_entity&, const named_entity&) = default;
};

/// A reference to a domain object with its URI (`DomainEntityRef`).
struct domain_entity_ref {
    std::optional<std::string> id{};       ///< The object's id.
    std::optional<std::string> name{};     ///< The object's name.
    std::optional<std::string> self_uri{}; ///< The object's API path, e.g. `/api/v2/users/{id}`; JSON key `selfUri`.

    /// Compares every field.
    friend bool operator==(const domain_entity_ref&, const domain_entity_ref&) = default;
};

/** A role granted in a division (`RoleDivision`).

    Both fields are required by the platform: they are always written, and read
    as empty strings if a response leaves them out (or sends a value that cannot
    be read as a string).
*/
struct role_division {
    std::string role_id{};     ///< The role's id; JSON key `roleId`.
    std::string division_id{}; ///< The division's id; JSON key `divisionId`.

    /// Compares every field.
    friend bool operator==(const role_division&, const role_division&) = default;
};

} // namespace genesys

#endif
