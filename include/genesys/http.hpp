// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_HTTP_HPP
#define GENESYS_HTTP_HPP

/// @file
/// The HTTP messages exchanged with a transport: methods, headers, requests and responses.

#include <genesys/detail/ascii.hpp>
#include <genesys/detail/config.hpp>

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace genesys {

/// An HTTP request method.
enum class http_method { get, head, put, post, delete_, patch };

/// The method's name as it appears on the request line, e.g. `"DELETE"`.
constexpr std::string_view to_string(http_method m) noexcept
{
    switch (m) {
    case http_method::get: return "GET";
    case http_method::head: return "HEAD";
    case http_method::put: return "PUT";
    case http_method::post: return "POST";
    case http_method::delete_: return "DELETE";
    case http_method::patch: return "PATCH";
    }
    return "GET";
}

/// True for the methods RFC 9110 defines as idempotent among these: GET, HEAD, PUT, DELETE.
constexpr bool is_idempotent(http_method m) noexcept
{
    return m == http_method::get || m == http_method::head || m == http_method::put || m == http_method::delete_;
}

/// One HTTP header field.
struct http_header {
    std::string name{};  ///< The field name, e.g. `Content-Type`.
    std::string value{}; ///< The field value, e.g. `application/json`.

    /// Compares every field.
    friend bool operator==(const http_header&, const http_header&) = default;
};

/** An ordered sequence of header fields with case-insensitive lookup.

    Order and duplicates are kept as given; lookups compare names ASCII
    case-insensitively, so `get("inin-correlation-id")` finds `ININ-Correlation-Id`.

    @code
    genesys::http_headers h{{"Content-Type", "application/json"}};
    h.set("Accept", "application/json");
    assert(h.get("content-type") == "application/json");
    @endcode
*/
class http_headers {
public:
    using value_type = http_header;                       ///< The element type.
    using container_type = std::vector<http_header>;      ///< The underlying storage.
    using iterator = container_type::iterator;             ///< Iterates the fields in order.
    using const_iterator = container_type::const_iterator; ///< Iterates the fields in order, read-only.
    using size_type = std::size_t;                         ///< A count of fields.

    /// Constructs an empty sequence.
    http_headers() = default;

    /// Constructs from a list of `{name, value}` pairs, kept in order.
    http_headers(std::initializer_list<http_header> fields) : fields_(fields) {}

    /** Copies and moves are field by field; moves do not throw.

        Declared here and compiled with the implementation (once, in the compiled mode), so that a
        unit that only passes requests and responses around does not generate them.
        @{
    */
    GENESYS_DECL http_headers(const http_headers&);
    GENESYS_DECL http_headers(http_headers&&) noexcept;
    GENESYS_DECL http_headers& operator=(const http_headers&);
    GENESYS_DECL http_headers& operator=(http_headers&&) noexcept;
    GENESYS_DECL ~http_headers();
    /// @}

    /// The first field.
    iterator begin() noexcept { return fields_.begin(); }
    /// Past the last field.
    iterator end() noexcept { return fields_.end(); }
    /// The first field.
    const_iterator begin() const noexcept { return fields_.begin(); }
    /// Past the last field.
    const_iterator end() const noexcept { return fields_.end(); }
    /// The number of fields, duplicates included.
    size_type size() const noexcept { return fields_.size(); }
    /// True when there are no fields.
    bool empty() const noexcept { return fields_.empty(); }
    /// Reserves room for `n` fields.
    void reserve(size_type n) { fields_.reserve(n); }
    /// Removes every field.
    void clear() noexcept { fields_.clear(); }

    /// The first field named `name` (any case), or `nullptr`.
    GENESYS_DECL const http_header* find(std::string_view name) const noexcept;

    /// The value of the first field named `name` (any case), if there is one.
    GENESYS_DECL std::optional<std::string_view> get(std::string_view name) const noexcept;

    /// True when a field named `name` (any case) is present.
    bool contains(std::string_view name) const noexcept { return find(name) != nullptr; }

    /// Appends a field, keeping any existing field of the same name.
    void add(std::string name, std::string value) { fields_.push_back({std::move(name), std::move(value)}); }

    /// Appends a field (sequence-container spelling of `add`).
    void push_back(http_header field) { fields_.push_back(std::move(field)); }

    /// Replaces the value of the first field named `name` and removes the others, or appends it.
    GENESYS_DECL void set(std::string_view name, std::string value);

    /// Removes every field named `name` (any case); returns how many were removed.
    GENESYS_DECL size_type erase(std::string_view name);

    /// Compares the fields in order, names case-sensitively.
    friend bool operator==(const http_headers&, const http_headers&) = default;

private:
    container_type fields_;
};

/// An HTTP request as handed to a transport. `url` is absolute and includes the query string.
struct http_request {
    http_method method = http_method::get; ///< The request method.
    std::string url{};                     ///< The absolute URL, query string included.
    http_headers headers{};                ///< The header fields to send.
    std::string body{};                    ///< The request body; empty when there is none.
};

/** An HTTP response as returned by a transport.

    An error status (4xx, 5xx) is a normal response at this layer.

    @code
    genesys::http_response r{200, {{"Content-Type", "application/json"}}, "{}"};
    @endcode
*/
struct http_response {
    int status = 0;          ///< The HTTP status code, e.g. 200.
    http_headers headers{};  ///< The response headers, in the order received.
    std::string body{};      ///< The response body as received.
};

/// The name of the header carrying the platform's correlation id.
inline constexpr std::string_view correlation_id_header = "ININ-Correlation-Id";

namespace detail {

/// True for the fields that frame a message or belong to one connection (RFC 9110 section 7.6.1,
/// RFC 9112): a transport sets them itself, and a caller's value would desynchronize the connection.
constexpr bool is_framing_header(std::string_view name) noexcept
{
    constexpr std::string_view names[] = {"Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive",
                                           "Proxy-Connection", "Expect", "TE", "Trailer", "Upgrade", "Host"};
    for (auto n : names)
        if (iequals(name, n))
            return true;
    return false;
}

/// What makes a request field unfit to send, checked by the configuration and by both adapters.
enum class header_problem {
    none,    ///< fit to send
    name,    ///< the name is not an RFC 7230 token
    value,   ///< the value holds a control character (CR, LF, NUL, ...) other than a tab
    framing, ///< the transport owns the field (`is_framing_header`)
};

/// The first problem of `h` as a request field: its name, then whether it is a framing field,
/// then its value.
constexpr header_problem request_header_problem(const http_header& h) noexcept
{
    if (!is_header_name(h.name))
        return header_problem::name;
    if (is_framing_header(h.name))
        return header_problem::framing;
    if (!is_header_value(h.value))
        return header_problem::value;
    return header_problem::none;
}

/// Whether a request goes out with a body and its `Content-Length`: always for PUT, POST and PATCH
/// (an empty one as `Content-Length: 0`), never for HEAD, and for the other methods when it has one.
constexpr bool sends_body(http_method method, std::string_view body) noexcept
{
    if (method == http_method::head)
        return false;
    return method == http_method::put || method == http_method::post || method == http_method::patch || !body.empty();
}

} // namespace detail

} // namespace genesys

#if !defined(GENESYS_TOKENS_SEPARATE_COMPILATION)
#include <genesys/impl/http.ipp>
#endif

#endif
