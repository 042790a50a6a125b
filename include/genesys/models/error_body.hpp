// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_MODELS_ERROR_BODY_HPP
#define GENESYS_MODELS_ERROR_BODY_HPP

/// @file
/// `error_body`: the JSON body of every platform error response (`ErrorBody`), with its parts.


#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace genesys {

/// One detail of an error (`Detail`).
struct error_detail {
    std::optional<std::string> error_code{};  ///< The machine-readable reason; JSON key `errorCode`.
    std::optional<std::string> field_name{};  ///< The request field it concerns; JSON key `fieldName`.
    std::optional<std::string> entity_id{};   ///< The id of the object it concerns; JSON key `entityId`.
    std::optional<std::string> entity_name{}; ///< The name of the object it concerns; JSON key `entityName`.

    /// Compares every field.
    friend bool operator==(const error_detail&, const error_detail&) = default;
};

/// The limit an error ran into (`Limit`). `namespace_` is JSON key `namespace`, kept as a string.
struct error_limit {
    std::optional<std::string> key{};        ///< The limit's name within its namespace.
    std::optional<std::string> namespace_{}; ///< The limit's namespace; JSON key `namespace`.
    std::optional<std::int64_t> value{};     ///< The limit's value.

    /// Compares every field.
    friend bool operator==(const error_limit&, const error_limit&) = default;
};

/** The body of a platform error response (`ErrorBody`).

    `code` is the machine-readable reason (`not.found`, `too.many.requests.retry.after`, ...);
    `context_id` equals the response's correlation id. `errors` nests further error bodies.
*/
struct error_body {
    /// A readable description of the error.
    std::optional<std::string> message{};
    /// The machine-readable reason, e.g. `not.found`.
    std::optional<std::string> code{};
    /// The HTTP status.
    std::optional<int> status{};
    /// The id of the object it concerns; JSON key `entityId`.
    std::optional<std::string> entity_id{};
    /// The name of the object it concerns; JSON key `entityName`.
    std::optional<std::string> entity_name{};
    /// `message` with `{name}` placeholders; JSON key `messageWithParams`.
    std::optional<std::string> message_with_params{};
    /// The placeholders' values; JSON key `messageParams`.
    std::optional<std::map<std::string, std::string>> message_params{};
    /// The response's correlation id; JSON key `contextId`.
    std::optional<std::string> context_id{};
    /// Further details, e.g. per field.
    std::optional<std::vector<error_detail>> details{};
    /// Nested error bodies.
    std::optional<std::vector<error_body>> errors{};
    /// The limit that was reached, if one was.
    std::optional<error_limit> limit{};

    /// Compares every field.
    friend bool operator==(const error_body&, const error_body&) = default;
};

} // namespace genesys

#endif
