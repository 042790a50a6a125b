// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DETAIL_MODEL_TRAITS_HPP
#define GENESYS_DETAIL_MODEL_TRAITS_HPP

// How a model's JSON shape is declared: its platform name and its fields as `{json key, member
// pointer}` pairs, in a `model_traits` specialization (all of them are in
// <genesys/detail/model_fields.hpp>). Nothing here parses JSON: <genesys/detail/json_codec.hpp>
// walks these tables.

#include <concepts>
#include <optional>
#include <string_view>
#include <tuple>

namespace genesys::detail {

/// One model field: its JSON key and the member that holds it.
template <class C, class M>
struct field_t {
    std::string_view key;
    M C::*member;
};

template <class C, class M>
constexpr field_t<C, M> field(std::string_view key, M C::*member) noexcept
{
    return {key, member};
}

/// Specialized by each model: `name` (the platform's model name) and `fields` (a tuple of `field_t`).
template <class T>
struct model_traits;

template <class T>
concept model = requires {
    { model_traits<T>::name } -> std::convertible_to<std::string_view>;
    model_traits<T>::fields;
};

template <class T>
inline constexpr bool is_optional_v = false;
template <class T>
inline constexpr bool is_optional_v<std::optional<T>> = true;

} // namespace genesys::detail

#endif
