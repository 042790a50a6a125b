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
#include <genesys/shared_token_cache.hpp>
#include <genesys/token_validator_metrics.hpp>
#include <genesys/token_validator_options.hpp>
#include <genesys/token_validator_stats.hpp>
#include <genesys/validated_token.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
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

namespace genesys::detail {

inline constexpr std::string_view validate_operation = "validateToken";

/// Waits for a flight's outcome as a completion handler (the asynchronous form).
class flight_waiter {
public:
    /// Called once, with the final answer (policy applied), under no lock; must not throw.
    virtual void deliver(result<validated_token> r) noexcept = 0;

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
    /// The asynchronous waiters, in the order they joined: the first apart (most flights have
    /// one: no vector to allocate for it).
    std::shared_ptr<flight_waiter> first_waiter;
    std::vector<std::shared_ptr<flight_waiter>> waiters;
    /// With a shared cache (`token_validator_options::shared_cache`): the token's key there
    /// (set by the leader before its lookup: the fleet's revocation of it revokes this flight),
    /// and the fleet's lock on this check when this instance holds it (handed back by `finish`).
    /// Under `mutex`.
    std::optional<shared_token_key> shared_key;
    std::string shared_lock;
};

/// A check waiting for room under `max_concurrent_checks` without blocking (the asynchronous
/// form). The limiter holds it weakly: its owner keeps it alive while it waits.
class check_ticket {
public:
    /// Called once, under no lock, when room passed to this ticket: the check now holds it and
    /// must `release` it when done. Must not throw.
    virtual void granted() noexcept = 0;

protected:
    ~check_ticket() = default;

private:
    friend class check_limiter;
    bool granted_ = false; // under the limiter's mutex
};

/** Bounds the checks in flight (`max_concurrent_checks`, 0: no bound, only counted). Room passes
    first come, first served, to blocking and asynchronous checks alike. Thread-safe.

    The checks holding room and the tickets queued are one atomic word, so that taking room
    while no one waits, and giving it back while no one waits (every shared-cache hit does both),
    is one compare-and-swap each, without the mutex. The queue itself, and each change of the
    queued count with it, is under the mutex: a release that finds someone queued takes the slow
    path and passes its room on. */
class check_limiter {
public:
    explicit check_limiter(std::size_t max) noexcept : max_(max) {}

    /// Takes room at once if there is some, and no one waits for it.
    GENESYS_DECL bool try_acquire();

    /// Blocks until room passes to this check, at most `timeout`; false past it (no room taken).
    GENESYS_DECL bool acquire(std::chrono::milliseconds timeout);

    /// Takes room at once for `t` (true: the caller calls `t->granted()` or gives the room
    /// back), or queues `t` (false): `t->granted()` is called when room passes to it, unless
    /// `withdraw` took it out first.
    GENESYS_DECL bool acquire_or_queue(const std::shared_ptr<check_ticket>& t);

    /// Takes a queued ticket out; false when room already passed to it (it must release it).
    GENESYS_DECL bool withdraw(const check_ticket* t);

    /// Gives back one check's room: to the first ticket still alive in the queue, else frees it.
    GENESYS_DECL void release() noexcept;

    /// The checks holding room now.
    std::size_t in_flight() const noexcept
    {
        return static_cast<std::size_t>(state_.load(std::memory_order_relaxed) & in_flight_mask);
    }

    std::size_t max() const noexcept { return max_; }

private:
    struct blocked_ticket; // a blocking `acquire`'s place in the queue

    /// Queues `t` (under `mutex_`), unless room can be taken at once. @return true: room taken.
    GENESYS_DECL bool take_or_queue(const std::weak_ptr<check_ticket>& t);
    /// Takes `t` out of the queue (under `mutex_`), if it is there.
    GENESYS_DECL void unqueue(const check_ticket* t);

    static constexpr std::uint64_t in_flight_mask = 0xffffffffu;
    static constexpr std::uint64_t one_queued = std::uint64_t{1} << 32;

    std::mutex mutex_;
    std::condition_variable room_cv_;
    const std::size_t max_;
    /// The checks holding room (low 32 bits) and the tickets in `queue_` (high 32 bits, changed
    /// only under `mutex_`, with the queue).
    std::atomic<std::uint64_t> state_{0};
    std::deque<std::weak_ptr<check_ticket>> queue_; // under mutex_
};

/// One check's room under a `check_limiter`, given back when destroyed (or by `reset`).
class check_room {
public:
    check_room() = default;
    explicit check_room(check_limiter& l) noexcept : limiter_(&l) {}
    check_room(check_room&& o) noexcept : limiter_(std::exchange(o.limiter_, nullptr)) {}
    check_room& operator=(check_room&&) = delete;
    ~check_room() { reset(); }
    void reset() noexcept
    {
        if (auto* l = std::exchange(limiter_, nullptr))
            l->release();
    }

private:
    check_limiter* limiter_ = nullptr;
};

/// The cache and the single flights. Thread-safe.
class validator_cache {
public:
    using clock = std::chrono::system_clock;
    using time_point = clock::time_point;

    explicit GENESYS_DECL validator_cache(token_validator_options o);

    const token_validator_options& options() const noexcept { return opts_; }

    GENESYS_DECL time_point now() const;

    /// The cache's key of `token`: its keyed hash, SipHash-2-4-128 under a key random per process.
    hash128 key_of(std::string_view token) const noexcept { return siphash128(key_, token); }

    /// Why `token` cannot be checked (empty, too long, or not fit for a Bearer header), or empty.
    static GENESYS_DECL std::string_view token_problem(std::string_view token) noexcept;

    /** The common hit, on its own short path: `key`'s entry if it is a valid token's, trusted at
        `now()`, accepted by the policy, and not due for its `refresh_ahead` re-check; counted
        as a hit and marked used. Otherwise nullptr, and nothing counted or marked: `begin`
        then decides (a negative hit, a policy refusal, a refresh, a miss). */
    GENESYS_DECL std::shared_ptr<const validator_entry> plain_hit(const hash128& key) const;

    /// What a validation found before any API call.
    struct lookup {
        std::optional<result<validated_token>> answer;  ///< a hit (policy applied)
        std::shared_ptr<validator_flight> flight;        ///< the call to wait for, or to make
        bool leader = false;                             ///< this validation makes the call
        /// `answer` is a hit in the `refresh_ahead` window, and this validation re-checks the
        /// token through `flight` (a leader), holding room under `max_concurrent_checks` already.
        bool refresh = false;
    };

    /// A hit, or the flight to join, or a new flight this caller must complete with `finish`.
    GENESYS_DECL lookup begin(const hash128& key);

    /** Ends `key`'s flight with what the API answered: caches it (a 2xx, a 401) unless `forget`
        or `clear` revoked the flight meanwhile, falls back to a stale entry if allowed, wakes
        the blocked waiters and hands the answer to each asynchronous one, the policy applied
        for each (and counted for each, as for blocking callers). Returns the answer without the
        policy: a blocking leader applies it with `apply_policy`; an asynchronous leader is one
        of the waiters. `took`: how long the API call took, for the metrics (none: no call). */
    GENESYS_DECL result<validated_token> finish(const hash128& key, const std::shared_ptr<validator_flight>& f,
                                                result<api_response<token_info>>&& fetched,
                                                std::optional<std::chrono::nanoseconds> took = std::nullopt);

    /// The shared cache (`token_validator_options::shared_cache`), or null.
    shared_token_cache* shared() const noexcept { return opts_.shared_cache.get(); }

    /// Names `f`'s token in the shared cache (its leader does, before asking it): `finish`
    /// shares what `f` fetched under `sk`, and a revocation of `sk` revokes `f`.
    GENESYS_DECL void set_shared_key(validator_flight& f, const shared_token_key& sk);

    /// Hands `f` the fleet's lock on its check (`shared_lookup::lock`): `finish` gives it back,
    /// with the answer (`shared_token_cache::store`) or without (`release`).
    GENESYS_DECL void set_shared_lock(validator_flight& f, std::string lock);

    /** Ends `key`'s flight with the fleet's answer `a` (no API call), as `finish` ends it with
        the API's: a valid answer trusted until the earliest of `a.expires_at`, its `fetched_at`
        plus `max_age`, and its `dateTokenIdles`; a 401 kept until the earlier of `a.expires_at`
        and its `fetched_at` plus `negative_ttl`; a 429 remembered until `a.expires_at` (at most
        its `fetched_at` plus `rate_limit_ttl_max`). Returns the answer without the policy, or
        nothing, the flight going on, when under this validator's lifetimes `a` holds no more
        (the caller then checks the token). `sk`: the token's shared key (the flight's). */
    GENESYS_DECL std::optional<result<validated_token>> finish_shared(const hash128& key,
                                                                      const std::shared_ptr<validator_flight>& f,
                                                                      const shared_token_key& sk, shared_answer&& a);

    /** What a leader does with the shared cache's answer `found` to its lookup of `sk`, for the
        blocking and the asynchronous validator alike: ends `key`'s flight from the fleet's
        answer (`finish_shared`) and gives back the fleet's lock if it took one, returning the
        answer without the policy; or, when the fleet has no answer this validator can use,
        hands the lock (if any) to the flight and returns nothing: the caller checks the token. */
    GENESYS_DECL std::optional<result<validated_token>> settle_lookup(const hash128& key,
                                                                      const std::shared_ptr<validator_flight>& f,
                                                                      const shared_token_key& sk,
                                                                      shared_lookup&& found);

    /// Forgets the entry of the token whose shared key is `sk`, and revokes its check under way
    /// (a revocation the fleet published). Scans every shard: revocations are rare.
    GENESYS_DECL void forget_shared(const shared_token_key& sk);

    /// Blocks until `f` has its outcome, at most `timeout`; returns it, policy applied, or past
    /// `timeout` a `network` error with `errc::deadline_exceeded` (`f` goes on).
    GENESYS_DECL result<validated_token> wait(validator_flight& f, std::chrono::milliseconds timeout);

    /// Counts a validation refused before any lookup (`stats().refused`).
    void count_refused() noexcept { refused_.fetch_add(1, std::memory_order_relaxed); }

    /// The bound on checks in flight (`max_concurrent_checks`).
    check_limiter& limiter() noexcept { return limiter_; }

    /// The error of a check that found no room within `waited` (`errc::validator_overloaded`).
    GENESYS_DECL error overloaded_error(std::chrono::milliseconds waited) const;

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

    /// `stats()` and the API calls' durations.
    GENESYS_DECL token_validator_metrics metrics() const;

    /// Applies the policy to a positive answer (an error passes through).
    GENESYS_DECL result<validated_token> apply_policy(result<validated_token>&& r) const;

private:
    static constexpr std::size_t shard_count = 16;

    /// The top bit of each byte: `unfit_bytes(w) & unfit_mask` is nonzero exactly when a byte of
    /// `w` is a space, a control character or DEL (SWAR: in `w - 0x21 * ones`, a borrow only
    /// flags a byte above one already below 0x21, so the test is exact as a whole; likewise for
    /// the bytes equal to 0x7f). The mask can be applied once to the OR of many words.
    /// (Tried: this test inside the hash's loop, one pass over the token, cost more instructions
    /// than a loop of its own.)
    static constexpr std::uint64_t unfit_mask = 0x8080808080808080ULL;
    static std::uint64_t unfit_bytes(std::uint64_t w) noexcept
    {
        constexpr std::uint64_t ones = 0x0101010101010101ULL;
        const std::uint64_t d = w ^ (ones * 0x7f);
        return ((w - ones * 0x21) & ~w) | ((d - ones) & ~d);
    }

    struct slot {
        hash128 key{}; // here too, so that evicting reads no entry
        std::shared_ptr<const validator_entry> entry;
        mutable std::atomic<bool> referenced{false};
        mutable std::atomic<bool> refreshing{false}; // a refresh_ahead re-check was claimed
        // A remembered 429 (rate_limit_ttl_max): no API call for this key until `limited_until`.
        // Read only on a miss, under the shard's exclusive lock; a hit never looks at it.
        std::shared_ptr<const error> limited;
        time_point limited_until{};
        slot() = default;
        slot(slot&& o) noexcept
            : key(o.key), entry(std::move(o.entry)), referenced(o.referenced.load()),
              refreshing(o.refreshing.load()), limited(std::move(o.limited)),
              limited_until(o.limited_until)
        {
        }
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
        /// The node of the last flight ended, empty: the next one goes in it (a miss allocates
        /// its flight, not a node as well).
        decltype(flights)::node_type spare_flight;
        mutable std::atomic<std::uint64_t> hits{0}, negative_hits{0}, stale_hits{0}, misses{0}, coalesced{0},
            evictions{0}, errors{0}, policy_rejections{0}, rate_limited{0}, refreshes{0};
    };

    static GENESYS_DECL const siphash_key& process_key();

    shard& shard_of(const hash128& key) const noexcept { return shards_[(key.hi >> 32) % shard_count]; }

    /// `sl`'s entry (trusted at `t`) is due for its `refresh_ahead` re-check, and none was claimed.
    GENESYS_DECL bool refresh_due(const slot& sl, time_point t) const noexcept;

    /// A trusted entry (valid or 401) for `key` at `t`, marked used; with the shard locked.
    /// `refresh` (if given) is set when this caller claimed the entry's `refresh_ahead` re-check.
    GENESYS_DECL std::shared_ptr<const validator_entry> find_fresh(shard& s, const hash128& key, time_point t,
                                                                   bool* refresh = nullptr) const;

    /// Maps `key`, which has no flight, to a new one (in `s.spare_flight` when there is one);
    /// with the shard locked. @return the flight.
    GENESYS_DECL static std::shared_ptr<validator_flight> add_flight(shard& s, const hash128& key);

    /// Registers a `refresh_ahead` re-check of `key` (its room taken), or gives it up.
    GENESYS_DECL lookup start_refresh(shard& s, const hash128& key, result<validated_token> answer);

    /// An expired valid entry still within `stale_if_error`, when `err` allows it.
    GENESYS_DECL std::shared_ptr<const validator_entry> stale_entry(shard& s, const hash128& key, time_point t,
                                                                    const error& err) const;

    GENESYS_DECL result<validated_token> answer_from(std::shared_ptr<const validator_entry> e) const;

    /// The answer for `key` while a 429 for it is remembered (a stale entry, else that 429 with
    /// the seconds left as its `Retry-After`), counted; nothing when none is. With `s` locked.
    GENESYS_DECL std::optional<result<validated_token>> rate_limited_answer(shard& s, const hash128& key,
                                                                            time_point t) const;

    /// How long the 429 `err` is remembered from `t`: its `Retry-After` (1 s without one),
    /// capped by `rate_limit_ttl_max`; 0 or less: not at all.
    GENESYS_DECL std::chrono::milliseconds rate_limit_wait(const error& err, time_point t) const;

    /// Remembers the 429 `err` for `key` until `until` (default: `t` + `rate_limit_wait`),
    /// keeping `key`'s entry, or putting a placeholder in when it has none. With `s` locked;
    /// returns what the placeholder evicted, for the caller to free after unlocking.
    GENESYS_DECL std::shared_ptr<const validator_entry> remember_rate_limit(shard& s, const hash128& key,
                                                                            time_point t, const error& err,
                                                                            std::optional<time_point> until = {});

    /// What `finish` and `finish_shared` share: caches the answer (`keep`, `failure`) unless the
    /// flight was revoked, ends the flight, hands the answer to its waiters. `fleet_limit`: a 429
    /// the fleet remembers, until then. `revoked`: the flight was revoked; `held_valid`: the
    /// cache held a valid answer for `key` (trusted or not) that this one replaced.
    GENESYS_DECL result<validated_token> end_flight(const hash128& key, const std::shared_ptr<validator_flight>& f,
                                                    time_point t, std::shared_ptr<const validator_entry> keep,
                                                    std::optional<error> failure,
                                                    std::optional<time_point> fleet_limit, bool& revoked,
                                                    bool& held_valid);

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

    /// Counts an API call's duration under its status and error type (the miss path only).
    GENESYS_DECL void record_call(int status, const error* failure, std::chrono::nanoseconds took);

    token_validator_options opts_;
    siphash_key key_;
    mutable std::vector<shard> shards_;
    std::size_t capacity_ = 0;          // max_entries
    std::atomic<std::size_t> size_{0};  // entries held, all shards; never above capacity_
    std::atomic<std::uint64_t> refused_{0};
    std::atomic<std::uint64_t> overloaded_{0};
    mutable check_limiter limiter_; // (a hit may take room for its refresh_ahead re-check)
    mutable std::mutex calls_mutex_;
    std::vector<api_call_durations> calls_; // ordered by status, then error type
};

} // namespace genesys::detail

#if !defined(GENESYS_TOKENS_SEPARATE_COMPILATION)
#include <genesys/detail/impl/validator_cache.ipp>
#endif

#endif
