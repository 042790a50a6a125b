#ifndef GENESYS_DETAIL_VALIDATOR_CACHE_HPP
#define GENESYS_DETAIL_VALIDATOR_CACHE_HPP

// What `token_validator` is besides its transport, written once for its blocking and its
// asynchronous forms: the cache (sharded, bounded, CLOCK eviction, keyed by a keyed hash of the
// token), the single flight of each token's check, the expiry rules, stale-if-error, the policy
// and the counters. No I/O: the validator fetches, this decides.

#include <genesys/detail/siphash.hpp>
#include <genesys/error.hpp>
#include <genesys/error_code.hpp>
#include <genesys/detail/failure.hpp>
#include <genesys/models/token_info.hpp>
#include <genesys/result.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <ostream>
#include <optional>
#include <shared_mutex>
#include <string>
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
    /// less than this long ago is still accepted (`validated_token::stale()`). Off by default.
    std::chrono::seconds stale_if_error{0};
    /// At most this many tokens are remembered (valid and invalid together); the least
    /// recently used go first (CLOCK).
    std::size_t max_entries = 10000;
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
    std::uint64_t coalesced = 0;     ///< validations that waited for another's API call
    std::uint64_t evictions = 0;     ///< entries dropped to stay within `max_entries`
    std::uint64_t errors = 0;        ///< API calls that failed other than with a 401 (not cached)
    std::uint64_t policy_rejections = 0; ///< valid tokens refused by the policy
    std::size_t entries = 0;         ///< entries held now
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
    friend std::ostream& operator<<(std::ostream& os, const validated_token& v)
    {
        const token_info& i = v.info();
        os << "validated_token{organization " << (i.organization ? i.organization->id.value_or("?") : "?")
           << ", client " << (i.oauth_client ? i.oauth_client->id.value_or("?") : "?") << ", trusted until "
           << format_date_time(std::chrono::time_point_cast<std::chrono::milliseconds>(v.trusted_until()))
           << (v.stale() ? ", stale" : "") << '}';
        return os;
    }

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

/// One token's API call under way, and who waits for it.
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

    explicit validator_cache(token_validator_options o)
        : opts_(std::move(o)), key_(process_key()), shards_(shard_count)
    {
        // The shards' capacities add up to max_entries exactly (some are 0 below 16 entries).
        for (std::size_t i = 0; i < shard_count; ++i)
            shards_[i].capacity = opts_.max_entries / shard_count + (i < opts_.max_entries % shard_count ? 1 : 0);
    }

    const token_validator_options& options() const noexcept { return opts_; }

    time_point now() const { return opts_.clock ? opts_.clock() : clock::now(); }

    hash128 key_of(std::string_view token) const noexcept { return siphash128(key_, token); }

    /// Why `token` cannot be checked (empty, too long, or not fit for a Bearer header), or empty.
    static std::string_view token_problem(std::string_view token) noexcept
    {
        if (token.empty())
            return "the token is empty";
        if (token.size() > 8192)
            return "the token is over 8192 bytes";
        bool bad = false; // no early exit: the loop vectorizes (it runs on every validation)
        for (const char c : token)
            bad |= static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
        return bad ? "the token contains a space or a control character" : std::string_view{};
    }

    /// What a validation found before any API call.
    struct lookup {
        std::optional<result<validated_token>> answer;  ///< a hit (policy applied)
        std::shared_ptr<validator_flight> flight;        ///< the call to wait for, or to make
        bool leader = false;                             ///< this validation makes the call
    };

    /// A hit, or the flight to join, or a new flight this caller must complete with `finish`.
    lookup begin(const hash128& key)
    {
        const time_point t = now();
        shard& s = shard_of(key);
        {
            std::shared_lock lock(s.mutex);
            if (auto hit = find_fresh(s, key, t))
                return {answer_from(std::move(hit)), {}, false};
        }
        std::unique_lock lock(s.mutex);
        if (auto hit = find_fresh(s, key, t)) // filled while we waited for the lock
            return {answer_from(std::move(hit)), {}, false};
        if (auto it = s.flights.find(key); it != s.flights.end()) {
            s.coalesced.fetch_add(1, std::memory_order_relaxed);
            return {std::nullopt, it->second, false};
        }
        auto f = std::make_shared<validator_flight>();
        s.flights.emplace(key, f);
        s.misses.fetch_add(1, std::memory_order_relaxed);
        return {std::nullopt, std::move(f), true};
    }

    /** Ends `key`'s flight with what the API answered: caches it (a 2xx, a 401), falls back to
        a stale entry if allowed, wakes the blocked waiters and hands the answer to each
        asynchronous one, the policy applied for each (and counted for each, as for blocking
        callers). Returns the answer without the policy: a blocking leader applies it with
        `apply_policy`; an asynchronous leader is one of the waiters. */
    result<validated_token> finish(const hash128& key, const std::shared_ptr<validator_flight>& f,
                                   result<api_response<token_info>>&& fetched)
    {
        const time_point t = now();
        shard& s = shard_of(key);
        // The entry is made before the shard is locked, and what it replaces or evicts is freed
        // after: the lock covers only the map and the slots.
        std::shared_ptr<const validator_entry> keep, dropped;
        std::optional<error> failure;
        bool rejected = false;
        if (fetched) {
            auto e = std::make_shared<validator_entry>();
            e->key = key;
            e->info = std::move(fetched->data);
            e->fetched_at = t;
            e->trusted_until = t + opts_.max_age;
            if (e->info.date_token_idles)
                e->trusted_until =
                    std::min(e->trusted_until, std::chrono::time_point_cast<clock::duration>(*e->info.date_token_idles));
            keep = std::move(e);
        } else {
            failure.emplace(fetched.error()); // (result::error() returns a copy)
            rejected = failure->kind == error_kind::api && failure->status == 401;
            if (rejected && opts_.negative_ttl.count() > 0) {
                auto e = std::make_shared<validator_entry>();
                e->key = key;
                e->rejected = std::make_unique<const error>(*failure);
                e->fetched_at = t;
                e->trusted_until = t + opts_.negative_ttl;
                keep = std::move(e);
            }
        }
        result<validated_token> r = validated_token(nullptr, false);
        {
            std::unique_lock lock(s.mutex);
            if (keep && keep->trusted_until > t) {
                dropped = store(s, key, keep);
            } else if (!failure || rejected) {
                dropped = erase(s, key); // already idle, or a 401 not to remember
            }
            if (!failure) {
                r = validated_token(std::move(keep), false);
            } else if (rejected) {
                r = std::move(*failure);
            } else {
                s.errors.fetch_add(1, std::memory_order_relaxed);
                auto stale = stale_entry(s, key, t, *failure);
                if (stale)
                    s.stale_hits.fetch_add(1, std::memory_order_relaxed);
                r = stale ? result<validated_token>(validated_token(std::move(stale), true))
                          : result<validated_token>(std::move(*failure));
            }
            s.flights.erase(key);
        }
        dropped.reset();
        std::vector<std::shared_ptr<flight_waiter>> waiters;
        {
            std::lock_guard lock(f->mutex);
            f->outcome = r;
            waiters.swap(f->waiters);
        }
        f->done_cv.notify_all();
        for (auto& w : waiters)
            w->deliver(apply_policy(result<validated_token>(r)));
        return r;
    }

    /// Blocks until `f` has its outcome; returns it, policy applied.
    result<validated_token> wait(validator_flight& f)
    {
        std::unique_lock lock(f.mutex);
        f.done_cv.wait(lock, [&] { return f.outcome.has_value(); });
        result<validated_token> r = *f.outcome;
        lock.unlock();
        return apply_policy(std::move(r));
    }

    /// Adds an asynchronous waiter; false when the outcome is already there (then `answer` holds
    /// it, policy applied, and the caller delivers it).
    bool join(validator_flight& f, std::shared_ptr<flight_waiter> w, std::optional<result<validated_token>>& answer)
    {
        std::unique_lock lock(f.mutex);
        if (f.outcome) {
            result<validated_token> r = *f.outcome;
            lock.unlock();
            answer.emplace(apply_policy(std::move(r)));
            return false;
        }
        f.waiters.push_back(std::move(w));
        return true;
    }

    /// Takes a waiter out (it was cancelled); false when the outcome already went to it.
    bool withdraw(validator_flight& f, const flight_waiter* w)
    {
        std::lock_guard lock(f.mutex);
        auto it = std::find_if(f.waiters.begin(), f.waiters.end(), [&](const auto& p) { return p.get() == w; });
        if (it == f.waiters.end())
            return false;
        f.waiters.erase(it);
        return true;
    }

    /// Forgets one token's entry (not a check under way).
    void forget(const hash128& key)
    {
        shard& s = shard_of(key);
        std::shared_ptr<const validator_entry> dropped;
        std::unique_lock lock(s.mutex);
        dropped = erase(s, key);
        lock.unlock();
    }

    /// Forgets every entry.
    void clear()
    {
        for (auto& s : shards_) {
            std::vector<slot> dropped; // freed after unlocking
            std::unique_lock lock(s.mutex);
            s.index.clear();
            dropped.swap(s.slots);
            s.free.clear();
            s.hand = 0;
        }
    }

    token_validator_stats stats() const
    {
        token_validator_stats out;
        for (auto& s : shards_) {
            out.hits += s.hits.load(std::memory_order_relaxed);
            out.negative_hits += s.negative_hits.load(std::memory_order_relaxed);
            out.stale_hits += s.stale_hits.load(std::memory_order_relaxed);
            out.misses += s.misses.load(std::memory_order_relaxed);
            out.coalesced += s.coalesced.load(std::memory_order_relaxed);
            out.evictions += s.evictions.load(std::memory_order_relaxed);
            out.errors += s.errors.load(std::memory_order_relaxed);
            out.policy_rejections += s.policy_rejections.load(std::memory_order_relaxed);
            std::shared_lock lock(s.mutex);
            out.entries += s.index.size();
        }
        return out;
    }

    /// Applies the policy to a positive answer (an error passes through).
    result<validated_token> apply_policy(result<validated_token>&& r) const
    {
        if (!r)
            return std::move(r);
        std::string why = policy_problem(r->info());
        if (why.empty())
            return std::move(r);
        shards_[0].policy_rejections.fetch_add(1, std::memory_order_relaxed);
        error e;
        e.kind = error_kind::policy;
        e.code = make_error_code(errc::policy_mismatch);
        e.operation = std::string(validate_operation);
        e.message = std::string(validate_operation) + ": the token is valid but refused: " + why;
        return e;
    }

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

    struct shard {
        mutable std::shared_mutex mutex;
        std::unordered_map<hash128, std::size_t, key_hash> index; // key -> slot
        std::vector<slot> slots;
        std::vector<std::size_t> free; // slots emptied by forget() or an expired entry
        std::size_t capacity = 0;
        std::size_t hand = 0; // CLOCK
        std::unordered_map<hash128, std::shared_ptr<validator_flight>, key_hash> flights;
        mutable std::atomic<std::uint64_t> hits{0}, negative_hits{0}, stale_hits{0}, misses{0}, coalesced{0},
            evictions{0}, errors{0}, policy_rejections{0};
    };

    static const siphash_key& process_key()
    {
        static const siphash_key k = siphash_key::random();
        return k;
    }

    shard& shard_of(const hash128& key) noexcept { return shards_[(key.hi >> 32) % shard_count]; }

    /// A trusted entry (valid or 401) for `key` at `t`, marked used; with the shard locked.
    std::shared_ptr<const validator_entry> find_fresh(shard& s, const hash128& key, time_point t) const
    {
        auto it = s.index.find(key);
        if (it == s.index.end())
            return nullptr;
        const slot& sl = s.slots[it->second];
        if (sl.entry->trusted_until <= t)
            return nullptr;
        if (!sl.referenced.load(std::memory_order_relaxed))
            sl.referenced.store(true, std::memory_order_relaxed);
        (sl.entry->rejected ? s.negative_hits : s.hits).fetch_add(1, std::memory_order_relaxed);
        return sl.entry;
    }

    /// An expired valid entry still within `stale_if_error`, when `err` allows it.
    std::shared_ptr<const validator_entry> stale_entry(shard& s, const hash128& key, time_point t,
                                                       const error& err) const
    {
        if (opts_.stale_if_error.count() <= 0)
            return nullptr;
        const bool unreachable = err.kind == error_kind::network ||
                                 (err.kind == error_kind::api && (err.status == 429 || err.status >= 500));
        if (!unreachable)
            return nullptr;
        auto it = s.index.find(key);
        if (it == s.index.end())
            return nullptr;
        const auto& e = s.slots[it->second].entry;
        if (e->rejected || t >= e->trusted_until + opts_.stale_if_error)
            return nullptr;
        return e;
    }

    result<validated_token> answer_from(std::shared_ptr<const validator_entry> e) const
    {
        if (e->rejected)
            return *e->rejected;
        return apply_policy(result<validated_token>(validated_token(std::move(e), false)));
    }

    /// Puts `e` in, replacing `key`'s entry or a slot's by CLOCK; with the shard locked. Returns
    /// the entry replaced or evicted, for the caller to free after unlocking.
    std::shared_ptr<const validator_entry> store(shard& s, const hash128& key, std::shared_ptr<const validator_entry> e)
    {
        if (auto it = s.index.find(key); it != s.index.end()) {
            std::swap(s.slots[it->second].entry, e);
            return e;
        }
        if (s.capacity == 0)
            return e;
        std::size_t i;
        if (!s.free.empty()) {
            i = s.free.back();
            s.free.pop_back();
        } else if (s.slots.size() < s.capacity) {
            i = s.slots.size();
            s.slots.emplace_back();
        } else {
            // CLOCK: the first slot not used since the hand last passed it goes.
            while (s.slots[s.hand].referenced.load(std::memory_order_relaxed)) {
                s.slots[s.hand].referenced.store(false, std::memory_order_relaxed);
                s.hand = (s.hand + 1) % s.slots.size();
            }
            i = s.hand;
            s.hand = (s.hand + 1) % s.slots.size();
            s.index.erase(s.slots[i].key);
            s.evictions.fetch_add(1, std::memory_order_relaxed);
        }
        slot& sl = s.slots[i];
        sl.key = key;
        std::swap(sl.entry, e);
        sl.referenced.store(false, std::memory_order_relaxed);
        s.index.emplace(key, i);
        return e;
    }

    std::shared_ptr<const validator_entry> erase(shard& s, const hash128& key)
    {
        auto it = s.index.find(key);
        if (it == s.index.end())
            return nullptr;
        slot& sl = s.slots[it->second];
        std::shared_ptr<const validator_entry> e = std::move(sl.entry);
        sl.referenced.store(false, std::memory_order_relaxed);
        s.free.push_back(it->second);
        s.index.erase(it);
        return e;
    }

    std::string policy_problem(const token_info& info) const
    {
        auto id_of = [](const std::optional<named_entity>& e) -> std::string {
            return e && e->id ? *e->id : std::string("(none)");
        };
        if (opts_.organization_id && (!info.organization || info.organization->id != opts_.organization_id))
            return "its organization is " + id_of(info.organization) + ", not " + *opts_.organization_id;
        if (opts_.home_organization_id &&
            (!info.home_organization || info.home_organization->id != opts_.home_organization_id))
            return "its home organization is " + id_of(info.home_organization) + ", not " +
                   *opts_.home_organization_id;
        for (const auto& scope : opts_.required_scopes) {
            const bool has = info.authorized_scope &&
                             std::find(info.authorized_scope->begin(), info.authorized_scope->end(), scope) !=
                                 info.authorized_scope->end();
            if (!has)
                return "it lacks the scope " + scope;
        }
        if (!opts_.allowed_client_ids.empty()) {
            const std::optional<std::string> client = info.oauth_client ? info.oauth_client->id : std::nullopt;
            if (!client || std::find(opts_.allowed_client_ids.begin(), opts_.allowed_client_ids.end(), *client) ==
                               opts_.allowed_client_ids.end())
                return "its OAuth client " + client.value_or("(none)") + " is not allowed";
        }
        return {};
    }

    token_validator_options opts_;
    siphash_key key_;
    mutable std::vector<shard> shards_;
};

} // namespace detail
} // namespace genesys

#endif
