// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DETAIL_SIPHASH_HPP
#define GENESYS_DETAIL_SIPHASH_HPP

// SipHash with a 128-bit output (Aumasson and Bernstein; the reference is veorq/SipHash): a
// keyed hash. The token validator keys its cache by SipHash-2-4-128 (the reference's default:
// the hash is the token's identity in the cache, so it keeps the full security margin rather than
// the 1-3 variant hash tables use against flooding), with a random key per process, so the cache
// holds no token and a token cannot be found from an entry, nor a collision made without the key.

#include <genesys/detail/config.hpp>

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace genesys::detail {

/// A 128-bit hash value; `lo` is its first eight bytes, little-endian.
struct hash128 {
    std::uint64_t lo = 0;
    std::uint64_t hi = 0;
    friend bool operator==(const hash128&, const hash128&) = default;
};

/// A SipHash key.
struct siphash_key {
    std::uint64_t k0 = 0;
    std::uint64_t k1 = 0;

    /// A key from the system's random source (`std::random_device`).
    static GENESYS_DECL siphash_key random();
};

namespace sip {

constexpr std::uint64_t rotl(std::uint64_t x, int b) noexcept { return (x << b) | (x >> (64 - b)); }

inline std::uint64_t load_le(const unsigned char* p) noexcept
{
    std::uint64_t v = 0;
    if constexpr (std::endian::native == std::endian::little) {
        std::memcpy(&v, p, 8); // one load
    } else {
        for (int i = 7; i >= 0; --i)
            v = (v << 8) | p[i];
    }
    return v;
}

struct state {
    std::uint64_t v0, v1, v2, v3;
    void round() noexcept
    {
        v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);
        v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;
        v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;
        v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);
    }
    template <int C>
    void compress(std::uint64_t m) noexcept
    {
        v3 ^= m;
        for (int i = 0; i < C; ++i)
            round();
        v0 ^= m;
    }
};

/// SipHash-C-D-128 of `data` under `key` (SipHash-C-D with the 128-bit output: C rounds per
/// 8-byte word, D in each of the two finalizations).
template <int C, int D>
hash128 hash128_of(const siphash_key& key, std::string_view data) noexcept
{
    state s{0x736f6d6570736575ULL ^ key.k0, 0x646f72616e646f6dULL ^ key.k1 ^ 0xee,
            0x6c7967656e657261ULL ^ key.k0, 0x7465646279746573ULL ^ key.k1};
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    const std::size_t n = data.size();
    const std::size_t whole = n & ~std::size_t(7);
    for (std::size_t i = 0; i < whole; i += 8)
        s.compress<C>(load_le(p + i));
    std::uint64_t b = std::uint64_t(n) << 56;
    if (n > whole && n >= 8) // the tail as the top bytes of the last eight: one load, no copy
        b |= load_le(p + n - 8) >> (8 * (8 - (n - whole)));
    else
        for (std::size_t i = n; i > whole; --i) // (none when n == whole: data() may be null)
            b |= std::uint64_t(p[i - 1]) << (8 * (i - 1 - whole));
    s.compress<C>(b);
    s.v2 ^= 0xee;
    for (int i = 0; i < D; ++i)
        s.round();
    hash128 out;
    out.lo = s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
    s.v1 ^= 0xdd;
    for (int i = 0; i < D; ++i)
        s.round();
    out.hi = s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
    return out;
}

} // namespace sip

/// SipHash-2-4-128 of `data` under `key`: the token validator's cache key.
inline hash128 siphash128(const siphash_key& key, std::string_view data) noexcept
{
    return sip::hash128_of<2, 4>(key, data);
}

} // namespace genesys::detail

#if !defined(GENESYS_TOKENS_SEPARATE_COMPILATION)
#include <genesys/detail/impl/siphash.ipp>
#endif

#endif
