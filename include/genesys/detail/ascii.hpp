// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DETAIL_ASCII_HPP
#define GENESYS_DETAIL_ASCII_HPP

#include <cstddef>
#include <string>
#include <string_view>

namespace genesys::detail {

constexpr char ascii_lower(char c) noexcept
{
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

/// ASCII case-insensitive equality, as HTTP header names are compared.
constexpr bool iequals(std::string_view a, std::string_view b) noexcept
{
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (ascii_lower(a[i]) != ascii_lower(b[i]))
            return false;
    return true;
}

/// The value of the hexadecimal digit `c` (either case), or -1 when it is not one.
constexpr int hex_digit_value(char c) noexcept
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/// True for an RFC 7230 `tchar`, the characters allowed in a header name.
constexpr bool is_tchar(char c) noexcept
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

/// True when `name` is a non-empty RFC 7230 token.
constexpr bool is_header_name(std::string_view name) noexcept
{
    if (name.empty())
        return false;
    for (char c : name)
        if (!is_tchar(c))
            return false;
    return true;
}

/// True when `value` holds no control character (CR, LF, NUL, DEL, ...) except horizontal tab.
constexpr bool is_header_value(std::string_view value) noexcept
{
    for (char c : value) {
        auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && u != '\t') || u == 0x7f)
            return false;
    }
    return true;
}

/// Replaces every occurrence of `secret` in `text` with `[REDACTED]`.
/// Secrets shorter than 8 characters are not searched for: they would match ordinary text.
inline void redact(std::string& text, std::string_view secret)
{
    if (secret.size() < 8)
        return;
    constexpr std::string_view mark = "[REDACTED]";
    for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos + mark.size()))
        text.replace(pos, secret.size(), mark);
}

/// Overwrites `text`'s characters with zeros (through a volatile pointer, so that the writes are
/// not optimized away before the string is freed): a secret it held does not outlive it in
/// freed memory.
inline void wipe(std::string& text) noexcept
{
    volatile char* p = text.data();
    for (std::size_t i = 0; i < text.size(); ++i)
        p[i] = 0;
}

} // namespace genesys::detail

#endif
