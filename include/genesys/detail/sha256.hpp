// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DETAIL_SHA256_HPP
#define GENESYS_DETAIL_SHA256_HPP

// SHA-256 (FIPS 180-4), for the PKCE S256 code challenge and for the HMAC-SHA-256 of the fleet
// cache (detail/hmac.hpp). Dependency-free: the core library does not link OpenSSL.
//
// Whole 64-byte blocks are compressed straight from the input; only a partial tail is buffered.
// On x86-64 with GCC or Clang, the compression uses the SHA extensions (SHA-NI) when CPUID
// reports them with SSE4.1, detected once at run time; the functions using them are compiled with
// a target attribute, so the rest of the build needs no -msha. With GCC, where AVX is usable
// too, the same code is compiled a second time for it (VEX encodings: three-operand forms, fewer
// moves): measured with GCC 12, 55 ns a block instead of 65, as Clang 14 compiles the SSE form;
// Clang 14's AVX form took 65, so Clang keeps to the SSE one. Elsewhere, and on CPUs without
// them, a portable compression runs. None is constant-time with respect to the message length.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define GENESYS_DETAIL_SHA256_SHANI 1
#if !defined(__clang__)
#define GENESYS_DETAIL_SHA256_SHANI_AVX 1
#endif
#include <cpuid.h>
#include <immintrin.h>
#endif

namespace genesys::detail {

namespace sha256_impl {

inline constexpr std::uint32_t k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

constexpr std::uint32_t rotr(std::uint32_t x, int n) noexcept { return (x >> n) | (x << (32 - n)); }

/// Compresses `blocks` 64-byte blocks at `p` into `state`, in portable C++.
inline void compress_portable(std::uint32_t (&state)[8], const unsigned char* p, std::size_t blocks) noexcept
{
    for (; blocks != 0; --blocks, p += 64) {
        std::uint32_t w[64];
        for (std::size_t i = 0; i < 16; ++i)
            w[i] = (std::uint32_t{p[i * 4]} << 24) | (std::uint32_t{p[i * 4 + 1]} << 16) |
                   (std::uint32_t{p[i * 4 + 2]} << 8) | std::uint32_t{p[i * 4 + 3]};
        for (std::size_t i = 16; i < 64; ++i) {
            const std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
            const std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        std::uint32_t a = state[0], b = state[1], c = state[2], d = state[3], e = state[4], f = state[5],
                      g = state[6], h = state[7];
        for (std::size_t i = 0; i < 64; ++i) {
            const std::uint32_t s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
            const std::uint32_t ch = (e & f) ^ (~e & g);
            const std::uint32_t t1 = h + s1 + ch + k[i] + w[i];
            const std::uint32_t s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
            const std::uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
            const std::uint32_t t2 = s0 + maj;
            h = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        state[0] += a;
        state[1] += b;
        state[2] += c;
        state[3] += d;
        state[4] += e;
        state[5] += f;
        state[6] += g;
        state[7] += h;
    }
}

#ifdef GENESYS_DETAIL_SHA256_SHANI

/// Whether this CPU has the SHA extensions and SSE4.1 (CPUID leaf 7 EBX bit 29, leaf 1 ECX bit
/// 19). Asked once; thread-safe.
inline bool shani_available() noexcept
{
    static const bool available = [] {
        unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
        if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0)
            return false;
        const bool sse41 = (ecx & (1u << 19)) != 0;
        if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) == 0)
            return false;
        return sse41 && (ebx & (1u << 29)) != 0;
    }();
    return available;
}

/// Whether the SHA-NI compression may use AVX encodings too: shani_available(), and CPUID
/// reports AVX and OSXSAVE, and the operating system saves the XMM and YMM state (XCR0 bits 1
/// and 2; without them AVX instructions fault). Asked once; thread-safe.
inline bool shani_avx_available() noexcept
{
    static const bool available = [] {
        if (!shani_available())
            return false;
        unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
        if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0)
            return false;
        const bool osxsave = (ecx & (1u << 27)) != 0;
        const bool avx = (ecx & (1u << 28)) != 0;
        if (!osxsave || !avx)
            return false;
        unsigned xcr0_low = 0, xcr0_high = 0;
        __asm__("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
        return (xcr0_low & 6u) == 6u;
    }();
    return available;
}

/// Four rounds (group `I` of 16) of the SHA-NI compression, with the message schedule kept in
/// `m[I % 4]` (the words of this group) and the three vectors ahead of it.
template <int I>
__attribute__((target("sha,sse4.1"), always_inline)) inline void shani_rounds(__m128i& state0, __m128i& state1,
                                                                              __m128i (&m)[4]) noexcept
{
    __m128i msg = _mm_add_epi32(m[I % 4], _mm_loadu_si128(reinterpret_cast<const __m128i*>(&k[4 * I])));
    state1 = _mm_sha256rnds2_epu32(state1, state0, msg);
    if constexpr (I >= 3 && I <= 14) {
        // Completes the words of group I + 1: W[t] += W[t - 7]; then sigma1 of W[t - 2].
        const __m128i tmp = _mm_alignr_epi8(m[I % 4], m[(I + 3) % 4], 4);
        m[(I + 1) % 4] = _mm_sha256msg2_epu32(_mm_add_epi32(m[(I + 1) % 4], tmp), m[I % 4]);
    }
    msg = _mm_shuffle_epi32(msg, 0x0E);
    state0 = _mm_sha256rnds2_epu32(state0, state1, msg);
    if constexpr (I >= 1 && I <= 12)
        m[(I + 3) % 4] = _mm_sha256msg1_epu32(m[(I + 3) % 4], m[I % 4]);
}

template <int... I>
__attribute__((target("sha,sse4.1"), always_inline)) inline void
shani_all_rounds(__m128i& state0, __m128i& state1, __m128i (&m)[4], std::integer_sequence<int, I...>) noexcept
{
    (shani_rounds<I>(state0, state1, m), ...);
}

/// The SHA-NI compression, inlined into compress_shani and compress_shani_avx (each compiles it
/// for its own target).
__attribute__((target("sha,sse4.1"), always_inline)) inline void
compress_shani_body(std::uint32_t (&state)[8], const unsigned char* p, std::size_t blocks) noexcept
{
    const __m128i byte_swap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
    // The state as the instructions want it: ABEF and CDGH.
    __m128i tmp = _mm_loadu_si128(reinterpret_cast<const __m128i*>(&state[0]));
    __m128i state1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(&state[4]));
    tmp = _mm_shuffle_epi32(tmp, 0xB1);              // CDAB
    state1 = _mm_shuffle_epi32(state1, 0x1B);        // EFGH
    __m128i state0 = _mm_alignr_epi8(tmp, state1, 8); // ABEF
    state1 = _mm_blend_epi16(state1, tmp, 0xF0);     // CDGH

    for (; blocks != 0; --blocks, p += 64) {
        const __m128i abef = state0;
        const __m128i cdgh = state1;
        __m128i m[4];
        for (int i = 0; i < 4; ++i)
            m[i] = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i)), byte_swap);
        shani_all_rounds(state0, state1, m, std::make_integer_sequence<int, 16>{});
        state0 = _mm_add_epi32(state0, abef);
        state1 = _mm_add_epi32(state1, cdgh);
    }

    tmp = _mm_shuffle_epi32(state0, 0x1B);       // FEBA
    state1 = _mm_shuffle_epi32(state1, 0xB1);    // DCHG
    state0 = _mm_blend_epi16(tmp, state1, 0xF0); // DCBA
    state1 = _mm_alignr_epi8(state1, tmp, 8);    // HGFE
    _mm_storeu_si128(reinterpret_cast<__m128i*>(&state[0]), state0);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(&state[4]), state1);
}

/// Compresses `blocks` 64-byte blocks at `p` into `state` with the SHA extensions. Call only
/// when shani_available().
__attribute__((target("sha,sse4.1"))) inline void compress_shani(std::uint32_t (&state)[8], const unsigned char* p,
                                                                 std::size_t blocks) noexcept
{
    compress_shani_body(state, p, blocks);
}

#ifdef GENESYS_DETAIL_SHA256_SHANI_AVX
/// compress_shani with AVX encodings. Call only when shani_avx_available().
__attribute__((target("sha,avx"))) inline void compress_shani_avx(std::uint32_t (&state)[8], const unsigned char* p,
                                                                  std::size_t blocks) noexcept
{
    compress_shani_body(state, p, blocks);
}
#endif

#endif // GENESYS_DETAIL_SHA256_SHANI

} // namespace sha256_impl

/// Whether sha256 compresses with the SHA extensions on this CPU (always false off x86-64 or
/// without GCC/Clang).
inline bool sha256_accelerated() noexcept
{
#ifdef GENESYS_DETAIL_SHA256_SHANI
    return sha256_impl::shani_available();
#else
    return false;
#endif
}

/** A streaming SHA-256. `Accelerate = false` keeps to the portable compression (for the tests
    that compare both); use the `sha256` alias.

    A plain value: copying it forks the hash (hmac.hpp copies prepared states), and it holds no
    pointer, so it may be wiped with memset-like code.
*/
template <bool Accelerate>
class basic_sha256 {
public:
    using digest_type = std::array<unsigned char, 32>;

    /// Appends `data` to the message. @return `*this`.
    basic_sha256& update(std::string_view data) noexcept
    {
        std::size_t n = data.size();
        if (n == 0)
            return *this;
        auto p = reinterpret_cast<const unsigned char*>(data.data());
        bytes_ += n;
        if (fill_ != 0) {
            const std::size_t take = n < 64 - fill_ ? n : 64 - fill_;
            std::memcpy(block_ + fill_, p, take);
            fill_ += take;
            p += take;
            n -= take;
            if (fill_ < 64)
                return *this;
            compress(block_, 1);
            fill_ = 0;
        }
        if (n >= 64) {
            const std::size_t blocks = n / 64;
            compress(p, blocks);
            p += blocks * 64;
            n -= blocks * 64;
        }
        if (n != 0) {
            std::memcpy(block_, p, n);
            fill_ = n;
        }
        return *this;
    }

    /// Pads, processes the last block(s) and returns the digest. The object is spent afterwards.
    digest_type finish() noexcept
    {
        const std::uint64_t bits = bytes_ * 8;
        block_[fill_++] = 0x80;
        if (fill_ > 56) {
            while (fill_ < 64)
                block_[fill_++] = 0;
            compress(block_, 1);
            fill_ = 0;
        }
        while (fill_ < 56)
            block_[fill_++] = 0;
        for (int i = 7; i >= 0; --i)
            block_[fill_++] = static_cast<unsigned char>(bits >> (i * 8));
        compress(block_, 1);
        digest_type out{};
        for (std::size_t i = 0; i < 8; ++i)
            for (std::size_t j = 0; j < 4; ++j)
                out[i * 4 + j] = static_cast<unsigned char>(state_[i] >> (24 - 8 * j));
        return out;
    }

private:
    void compress(const unsigned char* p, std::size_t blocks) noexcept
    {
#ifdef GENESYS_DETAIL_SHA256_SHANI
        if constexpr (Accelerate) {
#ifdef GENESYS_DETAIL_SHA256_SHANI_AVX
            if (sha256_impl::shani_avx_available()) {
                sha256_impl::compress_shani_avx(state_, p, blocks);
                return;
            }
#endif
            if (sha256_impl::shani_available()) {
                sha256_impl::compress_shani(state_, p, blocks);
                return;
            }
        }
#endif
        sha256_impl::compress_portable(state_, p, blocks);
    }

    std::uint32_t state_[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                               0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    unsigned char block_[64] = {};
    std::size_t fill_ = 0;
    std::uint64_t bytes_ = 0;
};

/// SHA-256, with the SHA-NI compression where the CPU has it.
using sha256 = basic_sha256<true>;

/// SHA-256 with the portable compression only (for tests comparing both paths).
using sha256_portable = basic_sha256<false>;

/// The SHA-256 digest of `data`.
inline sha256::digest_type sha256_digest(std::string_view data) noexcept { return sha256().update(data).finish(); }

} // namespace genesys::detail

#endif
