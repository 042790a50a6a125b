#ifndef GENESYS_MODELS_ERROR_BODY_HPP
#define GENESYS_MODELS_ERROR_BODY_HPP

/// @file
/// `error_body`: the JSON body of every platform error response (`ErrorBody`), with its parts.

#include <genesys/detail/json_codec.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace genesys {

/// One detail of an error (`Detail`).
struct error_detail {
    std::optional<std::string> error_code{};
    std::optional<std::string> field_name{};
    std::optional<std::string> entity_id{};
    std::optional<std::string> entity_name{};

    friend bool operator==(const error_detail&, const error_detail&) = default;
};

/// The limit an error ran into (`Limit`). `namespace_` is JSON key `namespace`, kept as a string.
struct error_limit {
    std::optional<std::string> key{};
    std::optional<std::string> namespace_{};
    std::optional<std::int64_t> value{};

    friend bool operator==(const error_limit&, const error_limit&) = default;
};

/** The body of a platform error response (`ErrorBody`).

    `code` is the machine-readable reason (`not.found`, `too.many.requests.retry.after`, ...);
    `context_id` equals the response's correlation id. `errors` nests further error bodies.
*/
struct error_body {
    std::optional<std::string> message{};
    std::optional<std::string> code{};
    std::optional<int> status{};
    std::optional<std::string> entity_id{};
    std::optional<std::string> entity_name{};
    std::optional<std::string> message_with_params{};
    std::optional<std::map<std::string, std::string>> message_params{};
    std::optional<std::string> context_id{};
    std::optional<std::vector<error_detail>> details{};
    std::optional<std::vector<error_body>> errors{};
    std::optional<error_limit> limit{};

    friend bool operator==(const error_body&, const error_body&) = default;
};

namespace detail {

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

} // namespace detail
} // namespace genesys

#endif
