// SPDX-License-Identifier: BSL-1.0
// <genesys/detail/ascii.hpp>: the RFC 7230 field checks and the redaction of a secret in text.
#include <genesys/detail/ascii.hpp>

#include <doctest/doctest.h>

#include <cctype>
#include <string>

TEST_CASE("header names and values are validated as RFC 7230 says")
{
    using genesys::detail::is_header_name;
    using genesys::detail::is_header_value;
    CHECK(is_header_name("X-Custom_Header.1~"));
    CHECK_FALSE(is_header_name(""));
    CHECK_FALSE(is_header_name("Bad Name"));
    CHECK_FALSE(is_header_name("Bad:Name"));
    CHECK_FALSE(is_header_name("Bad\r\nName"));
    CHECK(is_header_value("value with spaces\tand tab"));
    CHECK_FALSE(is_header_value("a\r\nInjected: yes"));
    CHECK_FALSE(is_header_value(std::string("a\0b", 3)));
    CHECK_FALSE(is_header_value("del\x7f"));
}

TEST_CASE("redact replaces every occurrence of a secret")
{
    std::string text = "token=SECRET-TOKEN-5f0c2d1e9a7b and again SECRET-TOKEN-5f0c2d1e9a7b.";
    genesys::detail::redact(text, "SECRET-TOKEN-5f0c2d1e9a7b");
    CHECK(text == "token=[REDACTED] and again [REDACTED].");
    std::string short_secret = "abc abc";
    genesys::detail::redact(short_secret, "abc");
    CHECK(short_secret == "abc abc"); // too short to search for without mangling text
}

TEST_CASE("hex_digit_value: 0-9, a-f and A-F, nothing else")
{
    using genesys::detail::hex_digit_value;
    const std::string_view digits = "0123456789abcdef";
    for (int i = 0; i < 16; ++i) {
        CHECK(hex_digit_value(digits[static_cast<std::size_t>(i)]) == i);
        CHECK(hex_digit_value(static_cast<char>(std::toupper(digits[static_cast<std::size_t>(i)]))) == i);
    }
    for (char c : {'g', 'G', '/', ':', '@', '`', ' ', '\0', '%'})
        CHECK(hex_digit_value(c) == -1);
}
