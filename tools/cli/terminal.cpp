// SPDX-License-Identifier: BSL-1.0
#include "terminal.hpp"

#include <cstddef>

namespace genesys_cli {

namespace {

/// A UTF-8 sequence at the start of a string: its length (0 when it is not valid UTF-8) and code point.
struct utf8_sequence {
    std::size_t length = 0;
    char32_t code_point = 0;
};

/// What a lead byte says: the sequence's length (0: not a lead byte), its payload bits, and the
/// smallest code point that length may encode (anything below is an overlong form).
struct lead_byte {
    std::size_t length;
    char32_t bits;
    char32_t smallest;
};

constexpr lead_byte classify(unsigned char b)
{
    if (b >= 0xc2 && b <= 0xdf)
        return {2, b & 0x1fu, 0x80};
    if (b >= 0xe0 && b <= 0xef)
        return {3, b & 0x0fu, 0x800};
    if (b >= 0xf0 && b <= 0xf4)
        return {4, b & 0x07u, 0x10000};
    return {0, 0, 0};
}

/// Decodes the sequence at the start of `s` (not empty), refusing overlong forms, surrogates,
/// code points over U+10FFFF and truncated sequences.
utf8_sequence decode_utf8(std::string_view s)
{
    const auto first = static_cast<unsigned char>(s[0]);
    if (first < 0x80)
        return {1, first};
    const lead_byte lead = classify(first);
    if (lead.length == 0 || s.size() < lead.length)
        return {};
    char32_t code_point = lead.bits;
    for (std::size_t i = 1; i < lead.length; ++i) {
        const auto next = static_cast<unsigned char>(s[i]);
        if ((next & 0xc0u) != 0x80u)
            return {};
        code_point = (code_point << 6) | (next & 0x3fu);
    }
    if (code_point < lead.smallest || code_point > 0x10ffff || (code_point >= 0xd800 && code_point <= 0xdfff))
        return {};
    return {lead.length, code_point};
}

/// C0, DEL and C1 controls, and the invisible characters that reorder or hide text (bidi
/// embeddings, overrides and isolates, zero-width characters, line and paragraph separators,
/// the byte-order mark): all shown as escapes, so what is printed reads as what was sent.
bool is_control(char32_t c)
{
    return c < 0x20 || (c >= 0x7f && c <= 0x9f) || (c >= 0x200b && c <= 0x200f) ||
           (c >= 0x2028 && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || c == 0xfeff;
}

void append_hex(std::string& out, std::string_view prefix, unsigned value, int digits)
{
    constexpr char hex[] = "0123456789abcdef";
    out += prefix;
    for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4)
        out += hex[(value >> shift) & 0xfu];
}

enum class style { text, json };

std::string make_safe(std::string_view in, style how)
{
    std::string out;
    out.reserve(in.size());
    while (!in.empty()) {
        const utf8_sequence seq = decode_utf8(in);
        if (seq.length == 0) { // not UTF-8: one byte at a time
            if (how == style::json)
                out += "\\ufffd";
            else
                append_hex(out, "\\x", static_cast<unsigned char>(in[0]), 2);
            in.remove_prefix(1);
            continue;
        }
        if (is_control(seq.code_point)) {
            const auto value = static_cast<unsigned>(seq.code_point);
            if (how == style::json)
                append_hex(out, "\\u", value, 4);
            else if (value < 0x80)
                append_hex(out, "\\x", value, 2);
            else
                append_hex(out, "\\u", value, 4);
        } else {
            out.append(in.substr(0, seq.length));
        }
        in.remove_prefix(seq.length);
    }
    return out;
}

} // namespace

std::string terminal_text(std::string_view text) { return make_safe(text, style::text); }

std::string terminal_json(std::string_view serialized) { return make_safe(serialized, style::json); }

} // namespace genesys_cli
