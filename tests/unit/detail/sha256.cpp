// SPDX-License-Identifier: BSL-1.0
// <genesys/detail/sha256.hpp>: the SHA-256 behind PKCE's S256 challenge and the fleet cache's
// HMAC, with its SHA-NI compression checked against the portable one.
#include <genesys/detail/sha256.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>

namespace {

std::string sha256_test_hex(const genesys::detail::sha256::digest_type& d)
{
    constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char b : d) {
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

template <class Hash>
std::string sha256_test_digest_hex(std::string_view s)
{
    return sha256_test_hex(Hash().update(s).finish());
}

// One million 'a', fed in uneven pieces of 997 bytes: whole blocks straight from the input and a
// partial block carried over between calls.
template <class Hash>
std::string sha256_test_million_a()
{
    Hash h;
    const std::string chunk(997, 'a');
    std::size_t fed = 0;
    while (fed + chunk.size() <= 1000000) {
        h.update(chunk);
        fed += chunk.size();
    }
    h.update(std::string(1000000 - fed, 'a'));
    return sha256_test_hex(h.finish());
}

// A small deterministic generator (xorshift32), so that a failure can be replayed.
struct sha256_test_rng {
    std::uint32_t s = 0x9e3779b9u;
    std::uint32_t next() noexcept
    {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        return s;
    }
};

} // namespace

TEST_CASE_TEMPLATE("sha256: the FIPS 180-2 vectors and every padding boundary", Hash, genesys::detail::sha256,
                   genesys::detail::sha256_portable)
{
    CHECK(sha256_test_digest_hex<Hash>("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(sha256_test_digest_hex<Hash>("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sha256_test_digest_hex<Hash>("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    CHECK(sha256_test_digest_hex<Hash>("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
                                       "klmnopqrlmnopqrsmnopqrstnopqrstu") ==
          "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    CHECK(sha256_test_million_a<Hash>() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");

    // The one-shot helper is the accelerated hash.
    CHECK(sha256_test_hex(genesys::detail::sha256_digest("abc")) ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

    // Lengths around the 56-byte padding limit and the 64-byte block.
    const std::pair<std::size_t, std::string_view> boundaries[] = {
        {55, "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072"},
        {56, "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e"},
        {63, "75220b47218278e656f2013bb8f0c455a25eaf01e86c64924e9d48d89776d6f2"},
        {64, "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c"},
        {65, "9537c5fdf120482f7d58d25e9ed583f52c02b4e304ea814db1633ad565aed7e9"},
        {119, "000b48d4edf0fa7bee3c6236ecd2785baa5db4eeb8bb54341b029e0d9fa5fb0c"},
        {120, "13f05a0b594787f5ecd315edc96141bd3243203d1b7d4f0836f37308b276ba98"}};
    for (const auto& b : boundaries) {
        CAPTURE(b.first);
        CHECK(sha256_test_digest_hex<Hash>(std::string(b.first, 'x')) == b.second);
    }
}

TEST_CASE("sha256: the accelerated hash equals the portable one for every length 0..300 and any split")
{
    MESSAGE("SHA-NI compression in use: " << genesys::detail::sha256_accelerated());
    sha256_test_rng rng;
    for (std::size_t length = 0; length <= 300; ++length) {
        CAPTURE(length);
        std::string data(length, '\0');
        for (auto& c : data)
            c = static_cast<char>(rng.next());
        const auto expected = genesys::detail::sha256_portable().update(data).finish();
        CHECK(genesys::detail::sha256().update(data).finish() == expected);

        // Four random splits into update calls (empty pieces included), through both paths.
        for (int round = 0; round < 4; ++round) {
            CAPTURE(round);
            genesys::detail::sha256 fast;
            genesys::detail::sha256_portable slow;
            std::size_t at = 0;
            while (at < length) {
                const std::size_t piece = rng.next() % (length - at + 1);
                fast.update(std::string_view(data).substr(at, piece));
                slow.update(std::string_view(data).substr(at, piece));
                at += piece;
            }
            CHECK(fast.finish() == expected);
            CHECK(slow.finish() == expected);
        }
    }
}

#ifdef GENESYS_DETAIL_SHA256_SHANI
// Each compression this CPU can run, called directly (the hash itself uses only the best of them,
// so the SSE form is otherwise untested where AVX is there): the same states as the portable one.
TEST_CASE("sha256: every SHA-NI compression this CPU runs equals the portable one, 1 to 9 blocks at once")
{
    namespace impl = genesys::detail::sha256_impl;
    if (!impl::shani_available()) {
        MESSAGE("this CPU has no SHA extensions: only the portable compression runs");
        return;
    }
    sha256_test_rng rng;
    int forms_checked = 0;
    for (std::size_t blocks = 1; blocks <= 9; ++blocks) {
        CAPTURE(blocks);
        unsigned char data[9 * 64];
        for (auto& c : data)
            c = static_cast<unsigned char>(rng.next());
        std::uint32_t start[8];
        for (auto& w : start)
            w = rng.next();
        std::uint32_t expected[8], sse[8];
        std::copy(std::begin(start), std::end(start), expected);
        std::copy(std::begin(start), std::end(start), sse);
        impl::compress_portable(expected, data, blocks);
        impl::compress_shani(sse, data, blocks);
        CHECK(std::equal(std::begin(sse), std::end(sse), std::begin(expected)));
        forms_checked = 1;
#ifdef GENESYS_DETAIL_SHA256_SHANI_AVX
        if (impl::shani_avx_available()) {
            std::uint32_t avx[8];
            std::copy(std::begin(start), std::end(start), avx);
            impl::compress_shani_avx(avx, data, blocks);
            CHECK(std::equal(std::begin(avx), std::end(avx), std::begin(expected)));
            forms_checked = 2;
        }
#endif
    }
    MESSAGE("SHA-NI forms checked: " << forms_checked);
}
#endif

#if defined(__x86_64__) && defined(__linux__)
TEST_CASE("sha256: a CPU announcing sha_ni and sse4_1 gets the SHA-NI compression")
{
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::string line;
    bool sha_ni = false;
    bool sse41 = false;
    while (std::getline(cpuinfo, line)) {
        if (line.rfind("flags", 0) != 0)
            continue;
        std::istringstream flags(line);
        std::string flag;
        while (flags >> flag) {
            sha_ni = sha_ni || flag == "sha_ni";
            sse41 = sse41 || flag == "sse4_1";
        }
        break;
    }
    if (sha_ni && sse41)
        CHECK(genesys::detail::sha256_accelerated());
    else
        MESSAGE("this CPU has no SHA extensions: the portable compression is the only one tested");
}
#endif
