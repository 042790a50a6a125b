// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_SHARED_TOKEN_CACHE_HPP
#define GENESYS_SHARED_TOKEN_CACHE_HPP

/// @file
/// `shared_token_cache`: the second level of a `token_validator`'s cache, shared by the
/// instances of a fleet (`genesys::redis_shared_cache` in <genesys/redis/shared_cache.hpp> is
/// the one the library ships). This header needs no Redis: the validator only sees this interface.

#include <genesys/models/token_info.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace genesys {

/// What the fleet remembers about a token.
enum class shared_answer_kind : unsigned char {
    valid = 'V',        ///< the API's 200: `shared_answer::info` holds what it said
    unauthorized = 'U', ///< the API's 401, remembered for the validator's `negative_ttl`
    rate_limited = 'R', ///< the API's 429, remembered until its `Retry-After` (capped)
};

/// One answer of the API, as the fleet shares it.
struct shared_answer {
    /// What the API answered.
    shared_answer_kind kind = shared_answer_kind::valid;
    /// When the API answered.
    std::chrono::system_clock::time_point fetched_at{};
    /// Until when the answer holds: a valid answer's trust (`max_age`, `dateTokenIdles`), a
    /// 401's `negative_ttl`, a 429's `Retry-After` (capped by `rate_limit_ttl_max`).
    std::chrono::system_clock::time_point expires_at{};
    /// What the API said (valid answers only; empty otherwise).
    token_info info{};
};

/** The name of one token's entry in a shared cache: HMAC-SHA-256 under the fleet key of the
    API's base URL, the `preserveIdleTTL` flag and the token. Every instance holding the fleet
    key computes the same one; it reveals nothing of the token. */
struct shared_token_key {
    /// The HMAC-SHA-256 digest.
    std::array<unsigned char, 32> digest{};
    /// Two keys are equal when their digests are.
    friend bool operator==(const shared_token_key&, const shared_token_key&) = default;
};

/// What `shared_token_cache::async_lookup` found.
struct shared_lookup {
    /// The fleet's answer: the validator uses it and calls no API. Empty: check the token.
    std::optional<shared_answer> answer{};
    /// Not empty: this instance holds the fleet's lock on the token's check, and hands it back
    /// through `store` or `release`. Empty with no `answer`: check without the lock (the cache
    /// is unavailable, or the holder of the lock did not answer within the lock's time).
    std::string lock{};
};

/// Told of the revocations the fleet publishes (`shared_token_cache::add_listener`).
class shared_token_cache_listener {
public:
    /// Another instance (or this one) revoked `key`'s token: forget it. Called on the shared
    /// cache's own thread; must not block nor throw.
    virtual void on_revoked(const shared_token_key& key) noexcept = 0;
    /// Revocations may have been missed (the subscription was lost and is back): forget every
    /// token learned while it was down, or simply every token.
    virtual void on_revocations_missed() noexcept = 0;

protected:
    ~shared_token_cache_listener() = default;
};

/// The counters of a shared cache (`shared_token_cache::stats`), each since it was made.
struct shared_token_cache_stats {
    std::uint64_t hits = 0;              ///< lookups answered by the fleet (no API call)
    std::uint64_t misses = 0;            ///< lookups that found nothing usable (the caller checked)
    std::uint64_t lock_waits = 0;        ///< lookups that waited for another instance's check
    std::uint64_t lock_timeouts = 0;     ///< ... and gave up at the lock's expiry (then checked)
    std::uint64_t stores = 0;            ///< answers written
    std::uint64_t rejected_entries = 0;  ///< entries ignored: bad MAC, over the size limit, malformed
    std::uint64_t errors = 0;            ///< commands that failed (timeout, connection lost, error reply)
    std::uint64_t unavailable = 0;       ///< lookups answered "check it yourself" at once: not
                                         ///< connected, or the breaker open
    std::uint64_t revocations_sent = 0;     ///< revocations published
    std::uint64_t revocations_received = 0; ///< authentic revocations received (own included)
    std::uint64_t revocations_rejected = 0; ///< messages on the revocation channel that failed their MAC
    std::uint64_t reconnects = 0;        ///< connections made again after a failure
    bool connected = false;              ///< the command connection is up now
    bool breaker_open = false;           ///< the cache is not asked now (it kept failing)
};

/** The second level of a `token_validator`'s cache, shared by a fleet
    (`token_validator_options::shared_cache`).

    The validator asks it after a miss of its own cache, before any API call, and gives it what
    the API answered (a valid answer, a 401, a 429; never another failure). It never makes a
    validation fail: when it cannot answer in time it says "check it yourself". Implementations
    must call every handler exactly once, never inline from the call that started it, within a
    bounded time, including when they are destroyed with lookups in flight.

    Thread safety: every member may be called from any number of threads at once.
*/
class shared_token_cache {
public:
    virtual ~shared_token_cache() = default;

    /// The entry name of `token` for the API at `base_url` with the `preserveIdleTTL` flag.
    virtual shared_token_key key_of(std::string_view base_url, bool preserve_idle_ttl,
                                    std::string_view token) const = 0;

    /** Looks `key` up, and if the fleet has no answer, takes the fleet's lock on its check, or
        waits (bounded by the lock's time) for the answer of the instance holding it.
        @param key the token's entry name (`key_of`).
        @param done called once with what was found (an rvalue, for the handler to take without
        a copy), on the cache's own thread.
    */
    virtual void async_lookup(const shared_token_key& key, std::function<void(shared_lookup&&)> done) = 0;

    /// Shares `answer` for `key` (until its `expires_at`) and hands back `lock` (if not empty).
    /// A 401 replacing a valid answer is published as a revocation. Does not wait.
    virtual void store(const shared_token_key& key, const shared_answer& answer, std::string lock) = 0;

    /// Hands back `lock` without an answer (the check failed otherwise). Does not wait.
    virtual void release(const shared_token_key& key, std::string lock) = 0;

    /// Deletes `key`'s entry and publishes its revocation to every instance. Does not wait.
    virtual void revoke(const shared_token_key& key) = 0;

    /// Tells `listener` of the revocations received, while it lives (held weakly).
    virtual void add_listener(std::weak_ptr<shared_token_cache_listener> listener) = 0;

    /// The counters.
    virtual shared_token_cache_stats stats() const = 0;
};

} // namespace genesys

#endif
