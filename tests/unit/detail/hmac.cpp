// SPDX-License-Identifier: BSL-1.0
// <genesys/detail/hmac.hpp>: HMAC-SHA-256 for the shared cache's keys and values.
#include <genesys/detail/hmac.hpp>

#include <doctest/doctest.h>

#include <string>
#include <string_view>

namespace {

std::string unhex(std::string_view h)
{
    std::string out;
    auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
    for (std::size_t i = 0; i + 1 < h.size(); i += 2)
        out += static_cast<char>(nibble(h[i]) * 16 + nibble(h[i + 1]));
    return out;
}

std::string hmac_hex(std::string_view key, std::string_view msg)
{
    return genesys::detail::to_hex(genesys::detail::digest_bytes(genesys::detail::hmac_sha256(key, msg)));
}

} // namespace

TEST_CASE("hmac_sha256: the RFC 4231 test vectors")
{
    // Test case 1: a 20-byte key.
    CHECK(hmac_hex(std::string(20, '\x0b'), "Hi There") ==
          "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    // Test case 2: a key shorter than the output.
    CHECK(hmac_hex("Jefe", "what do ya want for nothing?") ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    // Test case 3: 50 bytes of 0xdd.
    CHECK(hmac_hex(std::string(20, '\xaa'), std::string(50, '\xdd')) ==
          "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
    // Test case 4.
    CHECK(hmac_hex(unhex("0102030405060708090a0b0c0d0e0f10111213141516171819"), std::string(50, '\xcd')) ==
          "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
    // Test case 5: the output truncated to 128 bits.
    CHECK(hmac_hex(std::string(20, '\x0c'), "Test With Truncation").substr(0, 32) ==
          "a3b6167473100ee06e0c796c2955552b");
    // Test case 6: a key larger than the block (131 bytes): hashed first.
    CHECK(hmac_hex(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First") ==
          "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    // Test case 7: a large key and a large message.
    CHECK(hmac_hex(std::string(131, '\xaa'),
                   "This is a test using a larger than block-size key and a larger than block-size data. The key "
                   "needs to be hashed before being used by the HMAC algorithm.") ==
          "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

TEST_CASE("hmac_sha256_key: a prepared key gives the same MAC every time, and its copies too")
{
    const genesys::detail::hmac_sha256_key k("Jefe");
    const auto first = k.mac("what do ya want for nothing?");
    CHECK(k.mac("what do ya want for nothing?") == first);
    genesys::detail::hmac_sha256_key copy = k;
    CHECK(copy.mac("what do ya want for nothing?") == first);
    genesys::detail::hmac_sha256_key other("another key");
    CHECK(other.mac("what do ya want for nothing?") != first);
    other = k;
    CHECK(other.mac("what do ya want for nothing?") == first);
    // A 64-byte key is used as is, a 65-byte one hashed: both differ from each other.
    CHECK(genesys::detail::hmac_sha256(std::string(64, 'k'), "m") != genesys::detail::hmac_sha256(std::string(65, 'k'), "m"));
}

TEST_CASE("hmac_sha256_key: the MAC of parts is the MAC of their concatenation, however they are cut")
{
    const genesys::detail::hmac_sha256_key key("a fleet key of at least thirty-two bytes");
    std::string message;
    for (int i = 0; message.size() < 300; ++i)
        message += "part-" + std::to_string(i) + "|";
    const auto whole = key.mac(message);
    // Cuts inside a block, on a block's edge (64), past one, empty parts, and the whole as one.
    for (std::size_t a : {0u, 1u, 3u, 63u, 64u, 65u, 127u, 200u}) {
        for (std::size_t b : {a, a + 1, std::size_t(128), std::size_t(299)}) {
            if (b < a || b > message.size())
                continue;
            const std::string_view m(message);
            CAPTURE(a);
            CAPTURE(b);
            CHECK(key.mac({m.substr(0, a), m.substr(a, b - a), m.substr(b)}) == whole);
        }
    }
    CHECK(key.mac({message}) == whole);
    CHECK(key.mac({"", message, ""}) == whole);
    CHECK(key.mac({message.substr(1)}) != whole);
}

TEST_CASE("constant_time_equal: equal bytes only")
{
    using genesys::detail::constant_time_equal;
    CHECK(constant_time_equal("", ""));
    CHECK(constant_time_equal("abc", "abc"));
    CHECK_FALSE(constant_time_equal("abc", "abd"));
    CHECK_FALSE(constant_time_equal("abc", "xbc"));
    CHECK_FALSE(constant_time_equal("abc", "ab"));
    CHECK_FALSE(constant_time_equal(std::string_view("a\0c", 3), std::string_view("a\0d", 3)));
    CHECK(constant_time_equal(std::string_view("a\0c", 3), std::string_view("a\0c", 3)));
}
