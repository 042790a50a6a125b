// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DETAIL_SHARED_ENTRY_HPP
#define GENESYS_DETAIL_SHARED_ENTRY_HPP

// The shared (second-level, Redis) cache's entries: the key a token is stored under and the
// encoding of the answer stored there.
//
// Key:   "genesys:tv:" + hex(HMAC(fleet key, "v1|" + base URL + "|" + ("1"|"0") + "|" + token)),
//        the "1" or "0" being the preserveIdleTTL flag. Every instance sharing the fleet key
//        computes the same key; Redis never sees a token.
// Value: body + MAC, where
//        body = version (1 byte, 2) + kind (1 byte: 'V' valid, 'U' 401, 'R' 429)
//             + fetched_at + expires_at (each milliseconds since the Unix epoch, 8 bytes big-endian,
//               signed)
//             + the fingerprint of the token info's binary form (8 bytes, `binary::schema`)
//             + for 'V' only, the token's info in that binary form (<genesys/detail/binary_codec.hpp>)
//        MAC  = HMAC(fleet key, "v1|value|" + key + "|" + body), 32 bytes.
//        The key is bound into the MAC: a value copied under another key (another token's) fails.
// A value is refused, each for its own reason (the validator counts them apart), when it is
// larger than the limit (checked first: nothing else is computed), shorter than a MAC, its MAC
// does not match, it does not parse, or it has expired. A value written by another version of the
// library (another format version or fingerprint: its models have other fields) is authentic but
// unreadable here: `other_format`, read as a miss. The key does not depend on the format, so that
// revocations reach every version during a rolling upgrade.

#include <genesys/detail/binary_codec.hpp>
#include <genesys/detail/hmac.hpp>
#include <genesys/error.hpp>
#include <genesys/error_code.hpp>
#include <genesys/fleet_key.hpp>
#include <genesys/models/token_info.hpp>
#include <genesys/shared_token_cache.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace genesys::detail {

/// The prefix of every shared cache key (for a Redis ACL: `~genesys:tv:*`).
inline constexpr std::string_view shared_entry_key_prefix = "genesys:tv:";

/// The default limit of a stored value, in bytes: a token's info with a few hundred scopes fits.
inline constexpr std::size_t shared_entry_default_max_bytes = 64 * 1024;

/// The public answer types (<genesys/shared_token_cache.hpp>), named here too for the codec.
using genesys::shared_answer;
using genesys::shared_answer_kind;

/// Why a stored value was refused (or `ok`).
enum class shared_entry_status {
    ok,
    too_large, ///< over the size limit: nothing else was looked at
    bad_mac,   ///< too short to hold a MAC, or its MAC does not match (forged, moved, truncated, another key)
    malformed, ///< authentic but does not parse (a bug)
    expired,   ///< authentic and well formed, but its `expires_at` has passed
    other_format, ///< authentic, written by another version of the library (another format or
                  ///< models): a miss, not a fault
};

/// A name for counters and logs: "ok", "too_large", "bad_mac", "malformed", "expired", "other_format".
constexpr std::string_view to_string(shared_entry_status s) noexcept
{
    switch (s) {
    case shared_entry_status::ok: return "ok";
    case shared_entry_status::too_large: return "too_large";
    case shared_entry_status::bad_mac: return "bad_mac";
    case shared_entry_status::malformed: return "malformed";
    case shared_entry_status::expired: return "expired";
    case shared_entry_status::other_format: return "other_format";
    }
    return "unknown";
}

/** The digest naming `token`'s entry for the API at `base_url` with the `preserveIdleTTL` flag:
    HMAC(fleet key, "v1|" + base URL + "|" + ("1"|"0") + "|" + token).

    @throws invalid_argument_error when `base_url` contains `|` (the field separator; never in a
    valid URL, where it must be percent-encoded). The message never contains the token.
*/
inline sha256::digest_type shared_entry_digest(const fleet_key& key, std::string_view base_url, bool preserve_idle_ttl,
                                               std::string_view token)
{
    if (base_url.find('|') != std::string_view::npos) {
        error e;
        e.kind = error_kind::invalid_argument;
        e.code = make_error_code(errc::invalid_argument);
        e.operation = "shared cache";
        e.message = "shared cache: the base URL must not contain '|'";
        throw invalid_argument_error(std::move(e));
    }
    // The parts hashed in turn: the token is never copied.
    return key.mac({"v1|", base_url, preserve_idle_ttl ? "|1|" : "|0|", token});
}

/// The size of a shared cache key: the prefix and 64 hex digits.
inline constexpr std::size_t shared_entry_key_size = shared_entry_key_prefix.size() + 2 * std::tuple_size_v<sha256::digest_type>;

/// Writes the shared cache key of the entry named by `digest` to `out`
/// (`shared_entry_key_size` bytes): on the stack of every shared lookup, no allocation.
inline void shared_entry_key_to(const sha256::digest_type& digest, char* out) noexcept
{
    constexpr char digits[] = "0123456789abcdef";
    shared_entry_key_prefix.copy(out, shared_entry_key_prefix.size());
    char* p = out + shared_entry_key_prefix.size();
    for (const auto byte : digest) {
        const auto b = static_cast<unsigned char>(byte);
        *p++ = digits[b >> 4];
        *p++ = digits[b & 15];
    }
}

/// The shared cache key of the entry named by `digest`: "genesys:tv:" + hex(digest).
inline std::string shared_entry_key(const sha256::digest_type& digest)
{
    std::string out(shared_entry_key_size, '\0');
    shared_entry_key_to(digest, out.data());
    return out;
}

/** The shared cache key of `token` for the API at `base_url` with the `preserveIdleTTL` flag.

    @throws invalid_argument_error when `base_url` contains `|` (see `shared_entry_digest`).
*/
inline std::string shared_entry_key(const fleet_key& key, std::string_view base_url, bool preserve_idle_ttl,
                                    std::string_view token)
{
    return shared_entry_key(shared_entry_digest(key, base_url, preserve_idle_ttl, token));
}

namespace shared_entry_codec {

inline constexpr std::size_t header_size = 1 + 1 + 8 + 8 + 8;
inline constexpr std::size_t mac_size = 32;
inline constexpr unsigned char version = 2;
/// The fingerprint of the token info's binary form, written in every entry.
inline constexpr std::uint64_t schema = binary::schema<token_info>();

inline std::int64_t to_ms(std::chrono::system_clock::time_point t) noexcept
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

inline std::chrono::system_clock::time_point from_ms(std::int64_t ms) noexcept
{
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::milliseconds(ms)));
}

inline sha256::digest_type value_mac(const fleet_key& key, std::string_view redis_key, std::string_view body)
{
    return key.mac({"v1|value|", redis_key, "|", body});
}

} // namespace shared_entry_codec

/** The value to store under `redis_key` for `answer` (its times to the millisecond). Binary:
    store it as is (Redis strings are binary-safe). */
inline std::string encode_shared_entry(const fleet_key& key, std::string_view redis_key, const shared_answer& answer)
{
    namespace c = shared_entry_codec;
    std::string body;
    body += static_cast<char>(c::version);
    body += static_cast<char>(answer.kind);
    binary::put(body, c::to_ms(answer.fetched_at));
    binary::put(body, c::to_ms(answer.expires_at));
    binary::put_u64(body, c::schema);
    if (answer.kind == shared_answer_kind::valid)
        binary::encode(body, answer.info);
    const auto mac = c::value_mac(key, redis_key, body);
    body += digest_bytes(mac);
    return body;
}

/** Reads the value stored under `redis_key`, checking in this order: its size (at most
    `max_bytes`), its MAC (compared in constant time), its format, and that it has not expired at
    `now`. On `ok` sets `out`; otherwise leaves it unspecified (its `info` may be partly written).

    @return Why the value was refused, or `shared_entry_status::ok`.
*/
inline shared_entry_status decode_shared_entry(const fleet_key& key, std::string_view redis_key, std::string_view value,
                                               std::chrono::system_clock::time_point now, shared_answer& out,
                                               std::size_t max_bytes = shared_entry_default_max_bytes)
{
    namespace c = shared_entry_codec;
    if (value.size() > max_bytes)
        return shared_entry_status::too_large;
    if (value.size() < c::mac_size)
        return shared_entry_status::bad_mac;
    const std::string_view body = value.substr(0, value.size() - c::mac_size);
    const auto expected = c::value_mac(key, redis_key, body);
    if (!constant_time_equal(digest_bytes(expected), value.substr(body.size())))
        return shared_entry_status::bad_mac;
    if (body.empty())
        return shared_entry_status::malformed;
    if (static_cast<unsigned char>(body[0]) != c::version)
        return shared_entry_status::other_format;
    if (body.size() < c::header_size)
        return shared_entry_status::malformed;
    // After the version and the kind: fetched_at, expires_at, the models' fingerprint (present:
    // the size was checked).
    std::int64_t fetched = 0, expires = 0;
    std::uint64_t fingerprint = 0;
    binary::reader header{body.data() + 2, body.data() + body.size()};
    binary::get(header, fetched);
    binary::get(header, expires);
    binary::get_u64(header, fingerprint);
    if (fingerprint != c::schema)
        return shared_entry_status::other_format;
    const auto kind = static_cast<shared_answer_kind>(static_cast<unsigned char>(body[1]));
    if (kind != shared_answer_kind::valid && kind != shared_answer_kind::unauthorized &&
        kind != shared_answer_kind::rate_limited)
        return shared_entry_status::malformed;
    if (expires < fetched)
        return shared_entry_status::malformed;
    const std::string_view rest(header.p, header.left());
    if (kind == shared_answer_kind::valid) {
        // Decoded straight into `out.info`: its strings are the only allocations.
        if (!binary::decode(rest, out.info))
            return shared_entry_status::malformed;
    } else if (!rest.empty()) {
        return shared_entry_status::malformed;
    } else {
        out.info = token_info{};
    }
    if (c::from_ms(expires) <= now)
        return shared_entry_status::expired;
    out.kind = kind;
    out.fetched_at = c::from_ms(fetched);
    out.expires_at = c::from_ms(expires);
    return shared_entry_status::ok;
}

/// The time to live to give Redis (`SET ... PX`) for `answer` stored at `now`: the time left until
/// its `expires_at`, in whole milliseconds, at least 1 (an answer already expired should not be stored).
inline std::chrono::milliseconds shared_entry_ttl(const shared_answer& answer,
                                                  std::chrono::system_clock::time_point now) noexcept
{
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(answer.expires_at - now);
    return left.count() < 1 ? std::chrono::milliseconds(1) : left;
}

} // namespace genesys::detail

#endif
