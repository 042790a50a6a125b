// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_ROUTES_HPP
#define GENESYS_ROUTES_HPP

/// @file
/// The Tokens resource as a table of `constexpr` route descriptors.

#include <genesys/detail/percent_encode.hpp>
#include <genesys/http.hpp>
#include <genesys/models/idle_token_timeout.hpp>
#include <genesys/models/token_info.hpp>

#include <array>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>

namespace genesys {

namespace detail {

// Called only from constant evaluation: a call there is not a constant expression, so a
// malformed route fails to compile and the function's name says why.
inline void path_template_must_start_with_slash() {}
inline void path_template_has_unbalanced_braces() {}
inline void path_template_has_empty_parameter_name() {}
inline void path_template_parameter_name_is_not_an_identifier() {}
inline void path_template_parameter_must_be_a_whole_segment() {}
inline void path_template_parameter_count_does_not_match_route() {}
inline void static_list_capacity_exceeded() {}

constexpr bool is_identifier_char(char c) noexcept
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/// Why `value` cannot be a path segment, or an empty view when it can.
constexpr std::string_view path_segment_problem(std::string_view value) noexcept
{
    if (value.empty())
        return "must not be empty";
    if (value == "." || value == "..")
        return "must not be \".\" or \"..\" (a dot-segment would address another resource)";
    if (value.size() > 1024)
        return "is longer than 1024 bytes";
    return {};
}

} // namespace detail

/// A fixed-capacity list usable in constant expressions (a route's permissions, statuses, query names).
template <class T, std::size_t Capacity>
class static_list {
public:
    /// Constructs an empty list.
    constexpr static_list() noexcept = default;

    /// Constructs from `items`; more than `Capacity` of them is a compile-time error.
    constexpr static_list(std::initializer_list<T> items)
    {
        if (items.size() > Capacity)
            detail::static_list_capacity_exceeded();
        for (const T& item : items)
            items_[size_++] = item;
    }

    /// The first element.
    constexpr const T* begin() const noexcept { return items_.data(); }
    /// Past the last element.
    constexpr const T* end() const noexcept { return items_.data() + size_; }
    /// The number of elements.
    constexpr std::size_t size() const noexcept { return size_; }
    /// True when there are no elements.
    constexpr bool empty() const noexcept { return size_ == 0; }
    /// Element `i`; `i` must be less than `size()`.
    constexpr const T& operator[](std::size_t i) const noexcept { return items_[i]; }

    /// True when an element equals `value`.
    constexpr bool contains(const T& value) const noexcept
    {
        for (const T& item : *this)
            if (item == value)
                return true;
        return false;
    }

private:
    std::array<T, Capacity> items_{};
    std::size_t size_ = 0;
};

/** A path such as `/api/v2/tokens/{userId}`, checked when it is compiled.

    The template must start with `/`; each `{name}` must be a whole segment with an
    identifier for a name; braces must balance; and the number of parameters must be
    `N`. Anything else is a compile-time error naming the problem.
*/
template <std::size_t N>
class path_template {
public:
    /// Checks and keeps the string literal `text`; a malformed template does not compile.
    template <std::size_t M>
    consteval path_template(const char (&text)[M]) : text_(text, M - 1)
    {
        std::string_view s = text_;
        if (s.empty() || s.front() != '/')
            detail::path_template_must_start_with_slash();
        std::size_t count = 0;
        for (std::size_t i = 0; i < s.size(); ++i) {
            if (s[i] == '}')
                detail::path_template_has_unbalanced_braces();
            if (s[i] != '{')
                continue;
            auto close = s.find('}', i + 1);
            auto reopen = s.find('{', i + 1);
            if (close == std::string_view::npos || reopen < close)
                detail::path_template_has_unbalanced_braces();
            if (close == i + 1)
                detail::path_template_has_empty_parameter_name();
            for (std::size_t k = i + 1; k < close; ++k)
                if (!detail::is_identifier_char(s[k]))
                    detail::path_template_parameter_name_is_not_an_identifier();
            if (s[i - 1] != '/' || (close + 1 < s.size() && s[close + 1] != '/'))
                detail::path_template_parameter_must_be_a_whole_segment();
            if (count < N)
                names_[count] = s.substr(i + 1, close - i - 1);
            ++count;
            i = close;
        }
        if (count != N)
            detail::path_template_parameter_count_does_not_match_route();
    }

    /// The template as written.
    constexpr std::string_view text() const noexcept { return text_; }
    /// The number of `{parameters}`.
    static constexpr std::size_t param_count() noexcept { return N; }
    /// The name of parameter `i`, e.g. `"userId"`.
    constexpr std::string_view param_name(std::size_t i) const noexcept { return names_[i]; }

    /** Appends the path with each parameter replaced by its value, percent-encoded as one segment.

        @param out What the path is appended to.
        @param values One per parameter, in order: passing more or fewer is a compile-time error.
        They are not checked here; see `detail::path_segment_problem`.
    */
    template <class... Values>
    void append_to(std::string& out, const Values&... values) const
    {
        static_assert(sizeof...(Values) == N, "every path parameter needs exactly one value");
        const std::array<std::string_view, N> vals{std::string_view(values)...};
        std::string_view rest = text_;
        for (std::size_t next = 0;; ++next) {
            const auto open = rest.find('{');
            out.append(rest.substr(0, open));
            if (open == std::string_view::npos)
                return;
            detail::append_percent_encoded(out, vals[next]);
            rest.remove_prefix(rest.find('}', open) + 1);
        }
    }

private:
    std::string_view text_;
    std::array<std::string_view, N> names_{};
};

/** One operation of the API: everything needed to call it, as a constant.

    @tparam Response the model of a 2xx body, or `void` when there is none.
    @tparam NParams the number of `{parameters}` in the path.
    @tparam Request the model of the request body, or `void`.
*/
template <class Response, std::size_t NParams = 0, class Request = void>
struct route {
    using response_type = Response; ///< The model of a 2xx body, or `void`.
    using request_type = Request;   ///< The model of the request body, or `void`.

    /// The HTTP method.
    http_method method;
    /// The path below the API base URL, e.g. `/api/v2/tokens/{userId}`.
    path_template<NParams> path;
    /// The platform's operationId, e.g. `"deleteToken"`; it names the operation in errors.
    std::string_view operation_id;
    /// Permissions of which ANY one is required; empty when none are.
    static_list<std::string_view, 4> permissions;
    /// The documented success statuses; empty means any 2xx (the spec's "default" response).
    /// Documentation only: the client takes any 2xx as a success, as the official SDKs do, so a
    /// platform that answers 200 where the spec says 204 does not break a call.
    static_list<int, 4> success;
    /// The names of the optional query parameters.
    static_list<std::string_view, 4> query;

    /// True when `status` is a documented success of this route.
    constexpr bool is_documented_success(int status) const noexcept
    {
        return success.empty() ? (status >= 200 && status < 300) : success.contains(status);
    }
};

/// The shape of any route, for scanning the whole table.
struct route_summary {
    std::string_view operation_id; ///< The platform's operationId, e.g. `"deleteToken"`.
    http_method method;            ///< The HTTP method.
    std::string_view path;         ///< The path template as written.
    std::size_t param_count;       ///< The number of `{parameters}` in the path.
};

/// The shape of `r`, for `routes::table`.
template <class Response, std::size_t NParams, class Request>
constexpr route_summary summary(const route<Response, NParams, Request>& r) noexcept
{
    return {r.operation_id, r.method, r.path.text(), NParams};
}

/// The routes of the Tokens resource.
namespace routes {

/// `deleteToken`: delete all auth tokens of the user `{userId}`.
inline constexpr route<void, 1> delete_token{
    http_method::delete_, "/api/v2/tokens/{userId}", "deleteToken", {"oauth:token:delete"}, {204}, {}};

/// `deleteTokensMe`: delete the token used to make the request.
inline constexpr route<void> delete_tokens_me{
    http_method::delete_, "/api/v2/tokens/me", "deleteTokensMe", {}, {200}, {}};

/// `getTokensMe`: information about the current token.
inline constexpr route<token_info> get_tokens_me{
    http_method::get, "/api/v2/tokens/me", "getTokensMe", {}, {200}, {"preserveIdleTTL"}};

/// `headTokensMe`: verify the current token (any 2xx: valid; 401: not valid).
inline constexpr route<void> head_tokens_me{http_method::head, "/api/v2/tokens/me", "headTokensMe", {}, {}, {}};

/// `getTokensTimeout`: the organization's idle-token timeout.
inline constexpr route<idle_token_timeout> get_tokens_timeout{
    http_method::get, "/api/v2/tokens/timeout", "getTokensTimeout", {}, {200}, {}};

/// `putTokensTimeout`: update the organization's idle-token timeout.
inline constexpr route<idle_token_timeout, 0, idle_token_timeout> put_tokens_timeout{
    http_method::put, "/api/v2/tokens/timeout", "putTokensTimeout", {"directory:organization:admin"}, {200}, {}};

/// Every route of the resource.
inline constexpr std::array<route_summary, 6> table{
    summary(delete_token),   summary(delete_tokens_me),   summary(get_tokens_me),
    summary(head_tokens_me), summary(get_tokens_timeout), summary(put_tokens_timeout),
};

} // namespace routes

namespace detail {

/// The route other than `self` that an expanded `path` would address instead, if any
/// (`DELETE /api/v2/tokens/me` is `deleteTokensMe`, not `deleteToken` of a user called "me").
constexpr const route_summary* shadowing_route(std::string_view self, http_method method, std::string_view path) noexcept
{
    for (const auto& r : routes::table)
        if (r.operation_id != self && r.method == method && r.param_count == 0 && r.path == path)
            return &r;
    return nullptr;
}

} // namespace detail
} // namespace genesys

#endif
