// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DETAIL_BASE64_HPP
#define GENESYS_DETAIL_BASE64_HPP

// Base64 and base64url (RFC 4648), for the Basic credential, SAML assertions and PKCE.

#include <string>
#include <string_view>

namespace genesys {

namespace detail {

inline std::string base64_encode(std::string_view in, bool url_alphabet = false, bool pad = true)
{
    const char* alphabet = url_alphabet ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                                        : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                     static_cast<unsigned char>(in[i + 2]);
        out += {alphabet[(v >> 18) & 63], alphabet[(v >> 12) & 63], alphabet[(v >> 6) & 63], alphabet[v & 63]};
    }
    if (i + 1 == in.size()) {
        unsigned v = static_cast<unsigned char>(in[i]) << 16;
        out += {alphabet[(v >> 18) & 63], alphabet[(v >> 12) & 63]};
        if (pad)
            out += "==";
    } else if (i + 2 == in.size()) {
        unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
        out += {alphabet[(v >> 18) & 63], alphabet[(v >> 12) & 63], alphabet[(v >> 6) & 63]};
        if (pad)
            out += '=';
    }
    return out;
}

/// True when every character of `s` belongs to the base64 or base64url alphabet (with padding).
constexpr bool is_base64_text(std::string_view s) noexcept
{
    for (char c : s)
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
              c == '-' || c == '_' || c == '='))
            return false;
    return true;
}

} // namespace detail

} // namespace genesys

#endif
