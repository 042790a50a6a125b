// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DETAIL_PERCENT_ENCODE_HPP
#define GENESYS_DETAIL_PERCENT_ENCODE_HPP

#include <cstddef>
#include <string>
#include <string_view>

namespace genesys::detail {

/// RFC 3986 `unreserved`: ALPHA / DIGIT / "-" / "." / "_" / "~".
constexpr bool is_unreserved(char c) noexcept
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

/// Appends `s` with every byte but the unreserved ones written as `%XX` (upper-case hex), so
/// the result is one path segment or one query value whatever `s` holds (`/`, `?`, `#`, `%`,
/// `+`, `=`, space, control characters, UTF-8).
inline void append_percent_encoded(std::string& out, std::string_view s)
{
    constexpr char hex[] = "0123456789ABCDEF";
    for (char c : s) {
        if (is_unreserved(c)) {
            out.push_back(c);
        } else {
            auto u = static_cast<unsigned char>(c);
            out.push_back('%');
            out.push_back(hex[u >> 4]);
            out.push_back(hex[u & 0x0f]);
        }
    }
}

inline std::string percent_encode(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    append_percent_encoded(out, s);
    return out;
}

/// Appends `name=value` to a form body, both percent-encoded (every byte but the unreserved ones).
inline void append_form_field(std::string& form, std::string_view name, std::string_view value)
{
    if (!form.empty())
        form += '&';
    append_percent_encoded(form, name);
    form += '=';
    append_percent_encoded(form, value);
}

} // namespace genesys::detail

#endif
