// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DETAIL_VALIDATOR_CACHE_HPP
#define GENESYS_DETAIL_VALIDATOR_CACHE_HPP

// What `token_validator` is besides its transport, written once for its blocking and its
// asynchronous forms: the cache (sharded under one bound, CLOCK eviction, keyed by a keyed hash of
// the token), the single flight of each token's check, the expiry rules, stale-if-error, the
// policy and the counters. No I/O: the validator fetches, this decides.

#include <genesys/detail/config.hpp>
#include <genesys/detail/siphash.hpp>
#include <genesys/error.hpp>
#include <genesys/models/token_info.hpp>
#include <genesys/result.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace genesys {

/** How a `token_validator` caches and what it requires of a token.

    @code
    genesys::token_validator_options o;
    o.organization_id = "6f0b3c4e-8d2a-4a51-9c3e-2f1d0b7a9e55"; // only this organization's tokens
    o.required_scopes = {"users:readonly"};
    @endcode
*/
struct token_validator_options {
    /// A valid token is trusted this long after it was checked, or until its `dateTokenIdles`
    /// if that comes first.
    std::chrono::seconds max_age{60};
    /// An invalid token (the API's 401) is remembered this long; 0: not at all.
    std::chrono::seconds negative_ttl{10};
    /// When the API cannot be reached, answers 5xx or 429, a valid token whose trust ran out
    /// (`max_age`) less than this long ago is still accepted (`validated_token::stale()`), unless
    /// its `dateTokenIdles` has passed: an idle token is never served stale. Off by default.
    std::chrono::seconds stale_if_error{0};
    /// At most this many tokens are remembered (valid and invalid together); a token is kept
    /// while there is room, and once there is none the least recently used go first (CLOCK,
    /// from the fullest shard). 0: nothing is remembered.
    std::size_t max_entries = 10000;
    /** The longest a blocking `validate` waits for the API call another validation of the same
        token started (a blocking one, or an `async_validate`, whose io_context must run for the
        call to end). Past it, that `validate` returns a `network` error with
        `errc::deadline_exceeded`; the call goes on for the others. Zero or less (the default):
        the configuration's `call_timeout`, or 30 s when that is zero. */
    std::chrono::milliseconds wait_timeout{0};
    /// Sent as `preserveIdleTTL`: true, checking a token does not extend its life.
    bool preserve_idle_ttl = true;
    /// Required organization id (`token_info::organization`), if set.
    std::optional<std::string> organization_id{};
    /// Required home organization id (`token_info::home_organization`), if set.
    std::optional<std::string> home_organization_id{};
    /// Every one of these must be in the token's `authorizedScope`.
    std::vector<std::string> required_scopes{};
    /// If not empty, the token's OAuth client id must be one of these.
    std::vector<std::string> allowed_client_ids{};
    /// The wall clock (`dateTokenIdles` is wall-clock time); for tests. Empty: `system_clock::now`.
    std::function<std::chrono::system_clock::time_point()> clock{};
};

/// A counter snapshot of a `token_validator` (`stats()`), each since it was made.
struct token_validator_stats {
    std::uint64_t hits = 0;          ///< answered from a valid entry
    std::uint64_t negative_hits = 0; ///< answered from a remembered 401
    std::uint64_t stale_hits = 0;    ///< answered from an expired entry under `stale_if_error`
    std::uint64_t misses = 0;        ///< API calls made
    std::uint64_t coalesced = 0;     ///< validations that waited for another's API call (a blocking
                                     ///< one that gave up at `wait_timeout` included)
    std::uint64_t evictions = 0;     ///< entries dropped to stay within `max_entries`
    std::uint64_t errors = 0;        ///< API calls that failed other than with a 401 (not cached)
    std::uint64_t policy_rejections = 0; ///< valid tokens refused by the policy
    std::size_t entries = 0;         ///< entries held now
    std::uint64_t refused = 0;       ///< validations refused before any lookup: a token unfit to
                                     ///< send, or a bad configuration (nothing sent, not a miss)
};

namespace detail {

/// One remembered answer: a valid token's info, or the 401 it got.
struct validator_entry {
    hash128 key;
    token_info info;
    std::unique_ptr<const error> rejected; // the API's 401 (a pointer: most entries are valid ones)
    std::chrono::system_clock::time_point fetched_at;
    std::chrono::system_clock::time_point trusted_until;
};

} // namespace detail

/** A token the validator found valid: what `GET /api/v2/tokens/me` said about it, and for how
    long the validator trusts that answer. Cheap to copy (it shares the cache's entry). */
class validated_token {
public:
    /// What the API said about the token.
    const token_info& info() const noexcept { return entry_->info; }
    /// When the API said it.
    std::chrono::system_clock::time_point fetched_at() const noexcept { return entry_->fetched_at; }
    /// Until when the answer is trusted without asking again.
    std::chrono::system_clock::time_point trusted_until() const noexcept { return entry_->trusted_until; }
    /// True when the answer's trust has run out and it was used only because the API could not
    /// be asked (`token_validator_options::stale_if_error`).
    bool stale() const noexcept { return stale_; }

    /// @private
    validated_token(std::shared_ptr<const detail::validator_entry> e, bool stale) noexcept
        : entry_(std::move(e)), stale_(stale)
    {
    }

    /// Writes the organization and OAuth client ids and the trust's end, e.g.
    /// `validated_token{organization 6f0b..., client 9c2e..., trusted until 2026-11-27T22:15:30.250Z}`.
    friend GENESYS_DECL std::ostream& operator<<(std::ostream& os, const validated_token& v);

private:
    std::shared_ptr<const detail::validator_entry> entry_;
    bool stale_ = false;
};

namespace detail {

inline constexpr std::string_view validate_operation = "validateToken";

/// Waits for a flight's outcome as a completion handler (the asynchronous form).
class flight_waiter {
public:
    /// Called once, with the final answer (policy applied), under no lock; must not throw.
    virtual void deliver(const result<validated_token>& r) noexcept = 0;

protected:
    ~flight_waiter() = default;
};

/// One token's API call under way, and who waits for it. While it is under way the cache maps its
/// key to it; `forget` and `clear` take it out of that map (they revoke what it will fetch), and
/// its answer then goes to its callers alone: a flight no longer mapped stores nothing.
struct validator_flight {
    std::mutex mutex;
    std::condition_variable done_cv;
    std::optional<result<validated_token>> outcome; // before the policy
    std::vector<std::shared_ptr<flight_waiter>> waiters;
};

/// The cache and the single flights. Thread-safe.
class validator_cache {
public:
    using clock = std::chrono::system_clock;
    using time_point = clock::time_point;

    explicit GENESYS_DECL validator_cache(token_validator_options o);

    const token_validator_options& options() const noexcept { return opts_; }

    GENESYS_DECL time_point now() const;

    hash128 key_of(std::string_view token) const noexcept { return siphash128(key_, token); }

    /// Why `token` cannot be checked (empty, too long, or not fit for a Bearer header), or empty.
    static GENESYS_DECL std::string_view token_problem(std::string_view token) noexcept;

    /// What a validation found before any API call.
    struct lookup {
        std::optional<result<validated_token>> answer;  ///< a hit (policy applied)
        std::shared_ptr<validator_flight> flight;        ///< the call to wait for, or to make
        bool leader = false;                             ///< this validation makes the call
    };

    /// A hit, or the flight to join, or a new flight this caller must complete with `finish`.
    GENESYS_DECL lookup begin(const hash128& key);

    /** Ends `key`'s flight with what the API answered: caches it (a 2xx, a 401) unless `forget`
        or `clear` revoked the flight meanwhile, falls back to a stale entry if allowed, wakes
        the blocked waiters and hands the answer to each asynchronous one, the policy applied
        for each (and counted for each, as for blocking callers). Returns the answer without the
        policy: a blocking leader applies it with `apply_policy`; an asynchronous leader is one
        of the waiters. */
    GENESYS_DECL result<validated_token> finish(const hash128& key, const std::shared_ptr<validator_flight>& f,
                                                result<api_response<token_info>>&& fetched);

    /// Blocks until `f` has its outcome, at most `timeout`; returns it, policy applied, or past
    /// `timeout` a `network` error with `errc::deadline_exceeded` (`f` goes on).
    GENESYS_DECL result<validated_token> wait(validator_flight& f, std::chrono::milliseconds timeout);

    /// Counts a validation refused before any lookup (`stats().refused`).
    void count_refused() noexcept { refused_.fetch_add(1, std::memory_order_relaxed); }

    /// Adds an asynchronous waiter; false when the outcome is already there (then `answer` holds
    /// it, policy applied, and the caller delivers it).
    GENESYS_DECL bool join(validator_flight& f, std::shared_ptr<flight_waiter> w,
                           std::optional<result<validated_token>>& answer);

    /// Takes a waiter out (it was cancelled); false when the outcome already went to it.
    GENESYS_DECL bool withdraw(validator_flight& f, const flight_waiter* w);

    /// Forgets one token's entry, and revokes its check under way (its answer is not cached).
    GENESYS_DECL void forget(const hash128& key);

    /// Forgets every entry, and revokes every check under way.
    GENESYS_DECL void clear();

    GENESYS_DECL token_validator_stats stats() const;

    /// Applies the policy to a positive answer (an error passes through).
    GENESYS_DECL result<validated_token> apply_policy(result<validated_token>&& r) const;

private:
    static constexpr std::size_t shard_count = 16;

    struct slot {
        hash128 key{}; // here too, so that evicting reads no entry
        std::shared_ptr<const validator_entry> entry;
        mutable std::atomic<bool> referenced{false};
        slot() = default;
        slot(slot&& o) noexcept : key(o.key), entry(std::move(o.entry)), referenced(o.referenced.load()) {}
    };

    struct key_hash {
        std::size_t operator()(const hash128& k) const noexcept { return static_cast<std::size_t>(k.lo); }
    };

    // The shards share one bound (`size_` against `capacity_`): an entry goes in whichever shard
    // its key falls in while there is room, and each shard's slots grow as it needs them.
    struct shard {
        mutable std::shared_mutex mutex;
        std::unordered_map<hash128, std::size_t, key_hash> index; // key -> slot
        std::vector<slot> slots; // an empty one (no entry) is in `free`
        std::vector<std::size_t> free; // slots emptied by forget(), an expired entry or an eviction
        std::size_t hand = 0; // CLOCK
        std::unordered_map<hash128, std::shared_ptr<validator_flight>, key_hash> flights;
        mutable std::atomic<std::uint64_t> hits{0}, negative_hits{0}, stale_hits{0}, misses{0}, coalesced{0},
            evictions{0}, errors{0}, policy_rejections{0};
    };

    static GENESYS_DECL const siphash_key& process_key();

    shard& shard_of(const hash128& key) noexcept { return shards_[(key.hi >> 32) % shard_count]; }

    /// A trusted entry (valid or 401) for `key` at `t`, marked used; with the shard locked.
    GENESYS_DECL std::shared_ptr<const validator_entry> find_fresh(shard& s, const hash128& key, time_point t) const;

    /// An expired valid entry still within `stale_if_error`, when `err` allows it.
    GENESYS_DECL std::shared_ptr<const validator_entry> stale_entry(shard& s, const hash128& key, time_point t,
                                                                    const error& err) const;

    GENESYS_DECL result<validated_token> answer_from(std::shared_ptr<const validator_entry> e) const;

    /// Puts `e` in, replacing `key`'s entry, taking room if there is some, else evicting by
    /// CLOCK from the fullest shard that is free (`s`, or one that can be locked at once); with
    /// `s` locked. Returns the entry replaced or evicted (or `e` itself, when every entry is in
    /// busy shards), for the caller to free after unlocking.
    GENESYS_DECL std::shared_ptr<const validator_entry> store(shard& s, const hash128& key,
                                                              std::shared_ptr<const validator_entry> e);

    /// Takes one unit of room under `capacity_`; false when the cache is full.
    GENESYS_DECL bool reserve() noexcept;

    /// Empties `v`'s CLOCK victim (`v` locked, holding an entry), keeping its room for the caller.
    GENESYS_DECL std::shared_ptr<const validator_entry> evict(shard& v);

    GENESYS_DECL std::shared_ptr<const validator_entry> erase(shard& s, const hash128& key);

    GENESYS_DECL std::string policy_problem(const token_info& info) const;

    token_validator_options opts_;
    siphash_key key_;
    mutable std::vector<shard> shards_;
    std::size_t capacity_ = 0;          // max_entries
    std::atomic<std::size_t> size_{0};  // entries held, all shards; never above capacity_
    std::atomic<std::uint64_t> refused_{0};
};

} // namespace detail
} // namespace genesys

#if !defined(GENESYS_TOKENS_SEPARATE_COMPILATION)
#include <genesys/detail/impl/validator_cache.ipp>
#endif

#endif
