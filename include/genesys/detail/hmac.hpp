// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DETAIL_HMAC_HPP
#define GENESYS_DETAIL_HMAC_HPP

// HMAC-SHA-256 (RFC 2104, FIPS 198-1) over detail::sha256, for the shared cache's keys and the
// MAC of its values, and a comparison of MACs whose time does not depend on where they differ.
// Dependency-free, like sha256.hpp: the core library does not link OpenSSL.

#include <genesys/detail/sha256.hpp>

#include <cstddef>
#include <cstring>
#include <string>
#include <initializer_list>
#include <string_view>

namespace genesys::detail {

/// Overwrites `size` bytes at `p` with zeros that the compiler cannot drop as dead stores before
/// a free (best effort: copies the optimizer made in registers or elsewhere are out of reach).
/// With GCC and Clang, `memset` then an empty assembly statement that takes `p` and clobbers
/// memory, so the zeros must be written (BoringSSL's `OPENSSL_cleanse`): as fast as `memset`,
/// where a byte-by-byte volatile loop cost about 3 instructions a byte (this runs on every HMAC).
/// Elsewhere, through a volatile pointer.
inline void secure_zero(void* p, std::size_t size) noexcept
{
#if defined(__GNUC__) || defined(__clang__)
    if (size == 0)
        return;
    std::memset(p, 0, size);
    __asm__ __volatile__("" : : "r"(p) : "memory");
#else
    auto* v = static_cast<volatile unsigned char*>(p);
    for (std::size_t i = 0; i < size; ++i)
        v[i] = 0;
#endif
}

/** An HMAC-SHA-256 key, prepared once: the SHA-256 states after the inner and outer padded keys,
    so that each MAC costs the message's blocks plus two (not four). The states are as secret as
    the key itself: they are zeroed when the object is destroyed or assigned over.

    Copyable; every copy wipes its own state. Thread safety: `mac` is const and may be called from
    any number of threads at once.
*/
class hmac_sha256_key {
public:
    /// A key of `key` (any length: longer than a block, 64 bytes, it is hashed first, as RFC 2104 says).
    explicit hmac_sha256_key(std::string_view key) noexcept
    {
        unsigned char block[64] = {};
        if (key.size() > 64) {
            const auto d = sha256_digest(key);
            for (std::size_t i = 0; i < d.size(); ++i)
                block[i] = d[i];
        } else {
            for (std::size_t i = 0; i < key.size(); ++i)
                block[i] = static_cast<unsigned char>(key[i]);
        }
        char pad[64];
        for (std::size_t i = 0; i < 64; ++i)
            pad[i] = static_cast<char>(block[i] ^ 0x36);
        inner_.update(std::string_view(pad, 64));
        for (std::size_t i = 0; i < 64; ++i)
            pad[i] = static_cast<char>(block[i] ^ 0x5c);
        outer_.update(std::string_view(pad, 64));
        secure_zero(pad, sizeof pad);
        secure_zero(block, sizeof block);
    }

    hmac_sha256_key(const hmac_sha256_key&) = default;
    hmac_sha256_key& operator=(const hmac_sha256_key& other) noexcept
    {
        if (this != &other) {
            wipe();
            inner_ = other.inner_;
            outer_ = other.outer_;
        }
        return *this;
    }
    ~hmac_sha256_key() { wipe(); }

    /// HMAC(key, message).
    sha256::digest_type mac(std::string_view message) const noexcept
    {
        sha256 inner = inner_;
        inner.update(message);
        return finish(inner);
    }

    /// HMAC(key, the concatenation of `parts`), without assembling it (nothing is copied: a part
    /// holding a secret leaves no copy behind but the hash state, which is wiped).
    sha256::digest_type mac(std::initializer_list<std::string_view> parts) const noexcept
    {
        sha256 inner = inner_;
        for (const auto part : parts)
            inner.update(part);
        return finish(inner);
    }

private:
    sha256::digest_type finish(sha256& inner) const noexcept
    {
        auto inner_digest = inner.finish();
        sha256 outer = outer_;
        outer.update(std::string_view(reinterpret_cast<const char*>(inner_digest.data()), inner_digest.size()));
        secure_zero(&inner, sizeof inner);
        return outer.finish();
    }

    void wipe() noexcept
    {
        secure_zero(&inner_, sizeof inner_);
        secure_zero(&outer_, sizeof outer_);
    }

    sha256 inner_{};
    sha256 outer_{};
};

/// HMAC-SHA-256 of `message` under `key` (RFC 2104 with SHA-256; RFC 4231's test vectors).
inline sha256::digest_type hmac_sha256(std::string_view key, std::string_view message) noexcept
{
    return hmac_sha256_key(key).mac(message);
}

/// True when `a` and `b` hold the same bytes. For equal sizes its time depends on the size only,
/// never on where the bytes differ (for comparing MACs); sizes are not secret and differing sizes
/// return false at once.
inline bool constant_time_equal(std::string_view a, std::string_view b) noexcept
{
    if (a.size() != b.size())
        return false;
    volatile unsigned char diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        diff = static_cast<unsigned char>(diff | (static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i])));
    return diff == 0;
}

/// The bytes of `d` as a string (for comparing and appending).
inline std::string_view digest_bytes(const sha256::digest_type& d) noexcept
{
    return {reinterpret_cast<const char*>(d.data()), d.size()};
}

/// Lower-case hexadecimal of `bytes`.
inline std::string to_hex(std::string_view bytes)
{
    constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (char c : bytes) {
        const auto b = static_cast<unsigned char>(c);
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

} // namespace genesys::detail

#endif
