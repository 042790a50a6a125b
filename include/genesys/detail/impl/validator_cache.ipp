// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DETAIL_IMPL_VALIDATOR_CACHE_IPP
#define GENESYS_DETAIL_IMPL_VALIDATOR_CACHE_IPP

#include <genesys/date_time.hpp>
#include <genesys/detail/failure.hpp>
#include <genesys/detail/validator_cache.hpp>
#include <genesys/impl/validated_token.ipp> // the compiled mode compiles it here
#include <genesys/error_code.hpp>
#include <genesys/retry_after.hpp>
#include <genesys/routes.hpp>

#if defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <cstdint>
#include <ostream>
#include <string>
#include <utility>

namespace genesys {

namespace detail {

struct check_limiter::blocked_ticket final : check_ticket {
    std::condition_variable* cv;
    explicit blocked_ticket(std::condition_variable* c) : cv(c) {}
    void granted() noexcept override { cv->notify_all(); }
};

GENESYS_DECL bool check_limiter::try_acquire()
{
    if (max_ == 0) {
        state_.fetch_add(1, std::memory_order_relaxed);
        return true;
    }
    auto s = state_.load(std::memory_order_relaxed);
    do {
        if (s >= one_queued || (s & in_flight_mask) >= max_)
            return false; // someone waits (first come, first served), or no room
    } while (!state_.compare_exchange_weak(s, s + 1, std::memory_order_relaxed));
    return true;
}

GENESYS_DECL bool check_limiter::take_or_queue(const std::weak_ptr<check_ticket>& t)
{
    // Queued first (it may throw: nothing else has changed then). No one reads the queue
    // meanwhile: a release that sees it counted waits for this lock.
    queue_.push_back(t);
    auto s = state_.load(std::memory_order_relaxed);
    for (;;) {
        const bool room = s < one_queued && (s & in_flight_mask) < max_;
        if (state_.compare_exchange_weak(s, room ? s + 1 : s + one_queued, std::memory_order_relaxed)) {
            if (room)
                queue_.pop_back();
            return room;
        }
    }
}

GENESYS_DECL void check_limiter::unqueue(const check_ticket* t)
{
    const auto it = std::find_if(queue_.begin(), queue_.end(), [&](const auto& w) { return w.lock().get() == t; });
    if (it != queue_.end()) {
        queue_.erase(it);
        state_.fetch_sub(one_queued, std::memory_order_relaxed);
    }
}

GENESYS_DECL bool check_limiter::acquire(std::chrono::milliseconds timeout)
{
    if (try_acquire())
        return true;
    auto t = std::make_shared<blocked_ticket>(&room_cv_);
    std::unique_lock lock(mutex_);
    if (take_or_queue(t)) // freed meanwhile
        return true;
    // (bounded as `validator_cache::wait` is: a bound too long for a deadline is no bound)
    constexpr std::chrono::milliseconds unbounded = std::chrono::hours(24 * 365 * 100);
    const auto done = [&] { return t->granted_; };
    if (timeout >= unbounded)
        room_cv_.wait(lock, done);
    else if (!room_cv_.wait_for(lock, std::max(timeout, std::chrono::milliseconds(0)), done)) {
        unqueue(t.get());
        return false;
    }
    return true;
}

GENESYS_DECL bool check_limiter::acquire_or_queue(const std::shared_ptr<check_ticket>& t)
{
    if (max_ == 0) {
        state_.fetch_add(1, std::memory_order_relaxed);
        return true;
    }
    std::lock_guard lock(mutex_);
    if (take_or_queue(t)) {
        t->granted_ = true; // (a `withdraw` now finds it holding room)
        return true;
    }
    return false;
}

GENESYS_DECL bool check_limiter::withdraw(const check_ticket* t)
{
    std::lock_guard lock(mutex_);
    if (t->granted_)
        return false;
    unqueue(t);
    return true;
}

GENESYS_DECL void check_limiter::release() noexcept
{
    if (max_ == 0) {
        state_.fetch_sub(1, std::memory_order_relaxed);
        return;
    }
    auto s = state_.load(std::memory_order_relaxed);
    while (s < one_queued) // no one queued: give the room back
        if (state_.compare_exchange_weak(s, s - 1, std::memory_order_relaxed))
            return;
    std::shared_ptr<check_ticket> next;
    {
        std::lock_guard lock(mutex_);
        while (!queue_.empty() && !next) {
            next = queue_.front().lock(); // a ticket whose owner is gone gets nothing
            queue_.pop_front();
            state_.fetch_sub(one_queued, std::memory_order_relaxed);
        }
        if (next)
            next->granted_ = true; // the room passes on: the count of checks holding room stays
        else
            state_.fetch_sub(1, std::memory_order_relaxed); // (withdrawn meanwhile)
    }
    if (next)
        next->granted();
}

GENESYS_DECL validator_cache::validator_cache(token_validator_options o)
    : opts_(std::move(o)), key_(process_key()), shards_(shard_count), capacity_(opts_.max_entries),
      limiter_(opts_.max_concurrent_checks)
{
}

GENESYS_DECL error validator_cache::overloaded_error(std::chrono::milliseconds waited) const
{
    return network_failure(validate_operation, make_error_code(errc::validator_overloaded),
                           std::to_string(limiter_.max()) + " checks were in flight (max_concurrent_checks); waited " +
                               std::to_string(waited.count()) + " ms for room",
                           {});
}

GENESYS_DECL std::shared_ptr<validator_flight> validator_cache::add_flight(shard& s, const hash128& key)
{
    auto f = std::make_shared<validator_flight>();
    if (s.spare_flight.empty()) {
        s.flights.emplace(key, f);
    } else {
        s.spare_flight.key() = key;
        s.spare_flight.mapped() = f;
        s.flights.insert(std::move(s.spare_flight)); // (`key` has no flight: inserted)
    }
    return f;
}

GENESYS_DECL validator_cache::lookup validator_cache::start_refresh(shard& s, const hash128& key,
                                                                   result<validated_token> answer)
{
    std::unique_lock lock(s.mutex);
    if (s.flights.count(key) != 0) { // a check of the token is under way already
        lock.unlock();
        limiter_.release();
        return {std::move(answer), {}, false};
    }
    auto f = add_flight(s, key);
    s.refreshes.fetch_add(1, std::memory_order_relaxed);
    return {std::move(answer), std::move(f), true, true};
}

GENESYS_DECL validator_cache::time_point validator_cache::now() const
{
    return opts_.clock ? opts_.clock() : clock::now();
}

GENESYS_DECL std::string_view validator_cache::token_problem(std::string_view token) noexcept
{
    if (token.empty())
        return "the token is empty";
    if (token.size() > 8192)
        return "the token is over 8192 bytes";
    // It runs on every validation: no early exit, sixteen bytes at a time where there is SSE2
    // (a byte b is unfit when min(b, 0x20) == b, unsigned, or b == 0x7f), else eight (SWAR).
    const char* p = token.data();
    const std::size_t n = token.size();
    std::size_t i = 0;
#if defined(__SSE2__) || defined(_M_X64)
    if (n >= 16) {
        const __m128i space = _mm_set1_epi8(0x20);
        const __m128i del = _mm_set1_epi8(0x7f);
        __m128i unfit = _mm_setzero_si128();
        const auto check = [&](const char* q) {
            const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
            const __m128i low = _mm_cmpeq_epi8(_mm_min_epu8(b, space), b);
            unfit = _mm_or_si128(unfit, _mm_or_si128(low, _mm_cmpeq_epi8(b, del)));
        };
        for (; i + 16 <= n; i += 16)
            check(p + i);
        if (i < n) // the tail: the last sixteen bytes, some of them read twice
            check(p + n - 16);
        return _mm_movemask_epi8(unfit) != 0 ? "the token contains a space or a control character"
                                             : std::string_view{};
    }
#endif
    std::uint64_t bad = 0;
    for (; i + 8 <= n; i += 8)
        bad |= unfit_bytes(sip::load_le(reinterpret_cast<const unsigned char*>(p + i)));
    if (i < n && n >= 8) { // the tail: the last eight bytes, some of them read twice
        bad |= unfit_bytes(sip::load_le(reinterpret_cast<const unsigned char*>(p + n - 8)));
        i = n;
    }
    bad &= unfit_mask;
    for (; i < n; ++i) { // a token shorter than eight bytes
        const auto c = static_cast<unsigned char>(p[i]);
        bad |= static_cast<std::uint64_t>((c <= 0x20) | (c == 0x7f));
    }
    return bad != 0 ? "the token contains a space or a control character" : std::string_view{};
}

GENESYS_DECL validator_cache::lookup validator_cache::begin(const hash128& key)
{
    const time_point t = now();
    shard& s = shard_of(key);
    {
        std::shared_lock lock(s.mutex);
        bool refresh = false;
        if (auto hit = find_fresh(s, key, t, &refresh)) {
            if (!refresh)
                return {answer_from(std::move(hit)), {}, false};
            lock.unlock();
            return start_refresh(s, key, answer_from(std::move(hit)));
        }
    }
    std::unique_lock lock(s.mutex);
    if (auto hit = find_fresh(s, key, t)) // filled while we waited for the lock
        return {answer_from(std::move(hit)), {}, false};
    if (auto it = s.flights.find(key); it != s.flights.end()) {
        s.coalesced.fetch_add(1, std::memory_order_relaxed);
        return {std::nullopt, it->second, false};
    }
    if (auto limited = rate_limited_answer(s, key, t)) // a 429 remembered: no API call
        return {std::move(limited), {}, false};
    auto f = add_flight(s, key);
    s.misses.fetch_add(1, std::memory_order_relaxed);
    return {std::nullopt, std::move(f), true};
}

GENESYS_DECL result<validated_token> validator_cache::finish(const hash128& key,
                                                             const std::shared_ptr<validator_flight>& f,
                                                             result<api_response<token_info>>&& fetched,
                                                             std::optional<std::chrono::nanoseconds> took)
{
    const time_point t = now();
    // With a shared cache: the token's key there, and the fleet's lock if this check holds it.
    std::optional<shared_token_key> sk;
    std::string fleet_lock;
    if (shared()) {
        std::lock_guard lock(f->mutex);
        sk = f->shared_key;
        fleet_lock = std::exchange(f->shared_lock, std::string());
    }
    // The entry is made before the shard is locked, and what it replaces or evicts is freed
    // after: the lock covers only the map and the slots.
    std::shared_ptr<const validator_entry> keep;
    std::optional<error> failure;
    std::optional<shared_answer> to_share; // what the fleet may learn of this answer
    if (fetched) {
        auto e = std::make_shared<validator_entry>(std::move(fetched->data));
        e->key = key;
        e->fetched_at = t;
        e->trusted_until = t + opts_.max_age;
        if (e->info.date_token_idles)
            e->trusted_until =
                std::min(e->trusted_until, std::chrono::time_point_cast<clock::duration>(*e->info.date_token_idles));
        e->policy_passed = policy_problem(e->info).empty(); // once: every hit reads the verdict
        e->shared_key = sk;
        if (sk && e->trusted_until > t)
            to_share = shared_answer{shared_answer_kind::valid, t, e->trusted_until, e->info};
        keep = std::move(e);
    } else {
        failure.emplace(fetched.error()); // (result::error() returns a copy)
        const bool rejected = failure->kind == error_kind::api && failure->status == 401;
        if (rejected && opts_.negative_ttl.count() > 0) {
            auto e = std::make_shared<validator_entry>();
            e->key = key;
            e->rejected = std::make_unique<const error>(*failure);
            e->fetched_at = t;
            e->trusted_until = t + opts_.negative_ttl;
            e->shared_key = sk;
            if (sk)
                to_share = shared_answer{shared_answer_kind::unauthorized, t, e->trusted_until, {}};
            keep = std::move(e);
        } else if (sk && failure->kind == error_kind::api && failure->status == 429) {
            if (const auto wait = rate_limit_wait(*failure, t); wait.count() > 0)
                to_share = shared_answer{shared_answer_kind::rate_limited, t, t + wait, {}};
        }
    }
    if (took)
        record_call(failure ? failure->status : fetched->status, failure ? &*failure : nullptr, *took);
    const bool unauthorized = failure && failure->kind == error_kind::api && failure->status == 401;
    bool revoked = false, held_valid = false;
    auto r = end_flight(key, f, t, std::move(keep), std::move(failure), std::nullopt, revoked, held_valid);
    if (sk) {
        // The fleet learns the answer unless the token was revoked meanwhile (the revocation
        // wins), and gets its lock back either way. Never a reason to fail the validation.
        try {
            auto* sc = shared();
            if (!revoked && to_share) {
                sc->store(*sk, *to_share, std::move(fleet_lock));
            } else {
                if (!revoked && unauthorized && held_valid) // a 401 not remembered, for a token held valid
                    sc->revoke(*sk);
                if (!fleet_lock.empty())
                    sc->release(*sk, std::move(fleet_lock));
            }
        } catch (...) {
        }
    }
    return r;
}

GENESYS_DECL result<validated_token> validator_cache::end_flight(const hash128& key,
                                                                 const std::shared_ptr<validator_flight>& f,
                                                                 time_point t, std::shared_ptr<const validator_entry> keep,
                                                                 std::optional<error> failure,
                                                                 std::optional<time_point> fleet_limit, bool& revoked,
                                                                 bool& held_valid)
{
    shard& s = shard_of(key);
    std::shared_ptr<const validator_entry> dropped;
    const bool rejected = failure && failure->kind == error_kind::api && failure->status == 401;
    result<validated_token> r = validated_token(nullptr, false);
    {
        std::unique_lock lock(s.mutex);
        // A flight that forget() or clear() took out of the map fetched before the revocation:
        // its answer goes to its callers, and the cache is left as the revocation made it (a
        // later flight of the same key may have filled it since).
        const auto current = s.flights.find(key);
        revoked = current == s.flights.end() || current->second != f;
        if (!revoked) {
            if (auto it = s.index.find(key); it != s.index.end())
                held_valid = !s.slots[it->second].entry->rejected;
            s.spare_flight = s.flights.extract(current);
            s.spare_flight.mapped().reset();
            if (keep && keep->trusted_until > t) {
                dropped = store(s, key, keep);
            } else if (!failure || rejected) {
                dropped = erase(s, key); // already idle, or a 401 not to remember
            }
        }
        if (!failure) {
            r = validated_token(std::move(keep), false);
        } else if (rejected) {
            r = std::move(*failure);
        } else {
            if (fleet_limit) // the fleet's remembered 429: no API call was made
                s.rate_limited.fetch_add(1, std::memory_order_relaxed);
            else if (failure->code == errc::validator_overloaded) // no API call was made
                overloaded_.fetch_add(1, std::memory_order_relaxed);
            else
                s.errors.fetch_add(1, std::memory_order_relaxed);
            if (!revoked && failure->kind == error_kind::api && failure->status == 429)
                dropped = remember_rate_limit(s, key, t, *failure, fleet_limit);
            auto stale = revoked ? nullptr : stale_entry(s, key, t, *failure);
            if (stale)
                s.stale_hits.fetch_add(1, std::memory_order_relaxed);
            r = stale ? result<validated_token>(validated_token(std::move(stale), true))
                      : result<validated_token>(std::move(*failure));
        }
    }
    dropped.reset();
    std::shared_ptr<flight_waiter> first;
    std::vector<std::shared_ptr<flight_waiter>> waiters;
    {
        std::lock_guard lock(f->mutex);
        f->outcome = r;
        first = std::move(f->first_waiter);
        waiters.swap(f->waiters);
    }
    f->done_cv.notify_all();
    if (first)
        first->deliver(apply_policy(result<validated_token>(r)));
    for (auto& w : waiters)
        w->deliver(apply_policy(result<validated_token>(r)));
    return r;
}

GENESYS_DECL void validator_cache::set_shared_key(validator_flight& f, const shared_token_key& sk)
{
    std::lock_guard lock(f.mutex);
    f.shared_key = sk;
}

GENESYS_DECL void validator_cache::set_shared_lock(validator_flight& f, std::string lock)
{
    std::lock_guard guard(f.mutex);
    f.shared_lock = std::move(lock);
}

GENESYS_DECL std::optional<result<validated_token>> validator_cache::finish_shared(
    const hash128& key, const std::shared_ptr<validator_flight>& f, const shared_token_key& sk, shared_answer&& a)
{
    const time_point t = now();
    // The fleet's 401 or 429, as an error of the API's (no response was received here).
    const auto fleet_error = [&](int status, std::optional<std::chrono::seconds> retry_after) {
        http_response res;
        res.status = status;
        if (retry_after)
            res.headers.set("Retry-After", std::to_string(retry_after->count()));
        error e = api_failure(routes::get_tokens_me.operation_id, std::move(res), {}, {});
        e.message += " (remembered by the fleet's shared cache: no API call was made)";
        return e;
    };
    std::shared_ptr<const validator_entry> keep;
    std::optional<error> failure;
    std::optional<time_point> fleet_limit;
    switch (a.kind) {
    case shared_answer_kind::valid: {
        auto e = std::make_shared<validator_entry>(std::move(a.info)); // (`a` is the caller's to drop: a fallback check does not read it)
        e->key = key;
        e->fetched_at = a.fetched_at;
        e->trusted_until = std::min(a.expires_at, a.fetched_at + opts_.max_age);
        if (e->info.date_token_idles)
            e->trusted_until =
                std::min(e->trusted_until, std::chrono::time_point_cast<clock::duration>(*e->info.date_token_idles));
        if (e->trusted_until <= t)
            return std::nullopt; // trusted no more by this validator: it checks
        e->policy_passed = policy_problem(e->info).empty();
        e->shared_key = sk;
        keep = std::move(e);
        break;
    }
    case shared_answer_kind::unauthorized: {
        const time_point until = std::min(a.expires_at, a.fetched_at + opts_.negative_ttl);
        if (until <= t)
            return std::nullopt;
        failure.emplace(fleet_error(401, std::nullopt));
        auto e = std::make_shared<validator_entry>();
        e->key = key;
        e->rejected = std::make_unique<const error>(*failure);
        e->fetched_at = a.fetched_at;
        e->trusted_until = until;
        e->shared_key = sk;
        keep = std::move(e);
        break;
    }
    case shared_answer_kind::rate_limited: {
        const time_point until = std::min(a.expires_at, a.fetched_at + opts_.rate_limit_ttl_max);
        if (until <= t)
            return std::nullopt;
        failure.emplace(fleet_error(429, std::chrono::ceil<std::chrono::seconds>(until - t)));
        fleet_limit = until;
        break;
    }
    default:
        return std::nullopt;
    }
    bool revoked = false, held_valid = false;
    return end_flight(key, f, t, std::move(keep), std::move(failure), fleet_limit, revoked, held_valid);
}

GENESYS_DECL std::optional<result<validated_token>> validator_cache::settle_lookup(
    const hash128& key, const std::shared_ptr<validator_flight>& f, const shared_token_key& sk, shared_lookup&& found)
{
    if (found.answer) {
        if (auto r = finish_shared(key, f, sk, std::move(*found.answer))) {
            if (!found.lock.empty())
                shared()->release(sk, std::move(found.lock));
            return r;
        }
    }
    if (!found.lock.empty())
        set_shared_lock(*f, std::move(found.lock));
    return std::nullopt;
}

GENESYS_DECL void validator_cache::forget_shared(const shared_token_key& sk)
{
    for (auto& s : shards_) {
        std::vector<std::shared_ptr<const validator_entry>> dropped; // freed after unlocking
        std::vector<std::shared_ptr<validator_flight>> revoked;
        std::unique_lock lock(s.mutex);
        for (auto it = s.index.begin(); it != s.index.end();) {
            const auto& e = s.slots[it->second].entry;
            if (e->shared_key && *e->shared_key == sk) {
                const hash128 k = it->first;
                ++it; // (erasing another element leaves `it` valid)
                dropped.push_back(erase(s, k));
            } else {
                ++it;
            }
        }
        for (auto it = s.flights.begin(); it != s.flights.end();) {
            bool match = false;
            {
                std::lock_guard fl(it->second->mutex);
                match = it->second->shared_key && *it->second->shared_key == sk;
            }
            if (match) {
                revoked.push_back(it->second); // its answer is not cached (finish() sees it revoked)
                it = s.flights.erase(it);
            } else {
                ++it;
            }
        }
    }
}

GENESYS_DECL result<validated_token> validator_cache::wait(validator_flight& f, std::chrono::milliseconds timeout)
{
    std::unique_lock lock(f.mutex);
    const auto done = [&] { return f.outcome.has_value(); };
    // A bound too long to represent as a steady_clock deadline (over ~100 years): no bound.
    constexpr std::chrono::milliseconds unbounded = std::chrono::hours(24 * 365 * 100);
    bool in_time = true;
    if (timeout >= unbounded)
        f.done_cv.wait(lock, done);
    else
        in_time = f.done_cv.wait_for(lock, std::max(timeout, std::chrono::milliseconds(0)), done);
    if (!in_time) {
        lock.unlock();
        return network_failure(validate_operation, make_error_code(errc::deadline_exceeded),
                               "waited " + std::to_string(timeout.count()) +
                                   " ms for the check another validation of the token started",
                               {});
    }
    result<validated_token> r = *f.outcome;
    lock.unlock();
    return apply_policy(std::move(r));
}

GENESYS_DECL bool validator_cache::join(validator_flight& f, std::shared_ptr<flight_waiter> w,
                                        std::optional<result<validated_token>>& answer)
{
    std::unique_lock lock(f.mutex);
    if (f.outcome) {
        result<validated_token> r = *f.outcome;
        lock.unlock();
        answer.emplace(apply_policy(std::move(r)));
        return false;
    }
    if (!f.first_waiter && f.waiters.empty())
        f.first_waiter = std::move(w);
    else
        f.waiters.push_back(std::move(w));
    return true;
}

GENESYS_DECL bool validator_cache::withdraw(validator_flight& f, const flight_waiter* w)
{
    std::lock_guard lock(f.mutex);
    if (f.first_waiter.get() == w) {
        f.first_waiter.reset();
        return true;
    }
    auto it = std::find_if(f.waiters.begin(), f.waiters.end(), [&](const auto& p) { return p.get() == w; });
    if (it == f.waiters.end())
        return false;
    f.waiters.erase(it);
    return true;
}

GENESYS_DECL void validator_cache::forget(const hash128& key)
{
    shard& s = shard_of(key);
    std::shared_ptr<const validator_entry> dropped;
    std::unique_lock lock(s.mutex);
    dropped = erase(s, key);
    s.flights.erase(key); // its answer is not cached (finish() sees it revoked)
    lock.unlock();
}

GENESYS_DECL void validator_cache::clear()
{
    for (auto& s : shards_) {
        std::vector<slot> dropped; // freed after unlocking
        std::unordered_map<hash128, std::shared_ptr<validator_flight>, key_hash> revoked;
        std::unique_lock lock(s.mutex);
        size_.fetch_sub(s.index.size(), std::memory_order_relaxed);
        s.index.clear();
        dropped.swap(s.slots);
        s.free.clear();
        s.hand = 0;
        revoked.swap(s.flights); // their answers are not cached (finish() sees them revoked)
    }
}

GENESYS_DECL token_validator_stats validator_cache::stats() const
{
    token_validator_stats out;
    out.refused = refused_.load(std::memory_order_relaxed);
    out.overloaded = overloaded_.load(std::memory_order_relaxed);
    out.checks_in_flight = limiter_.in_flight();
    // The bound's own count: never above max_entries, even while entries move between shards.
    out.entries = size_.load(std::memory_order_relaxed);
    for (auto& s : shards_) {
        out.hits += s.hits.load(std::memory_order_relaxed);
        out.negative_hits += s.negative_hits.load(std::memory_order_relaxed);
        out.stale_hits += s.stale_hits.load(std::memory_order_relaxed);
        out.misses += s.misses.load(std::memory_order_relaxed);
        out.coalesced += s.coalesced.load(std::memory_order_relaxed);
        out.evictions += s.evictions.load(std::memory_order_relaxed);
        out.errors += s.errors.load(std::memory_order_relaxed);
        out.policy_rejections += s.policy_rejections.load(std::memory_order_relaxed);
        out.rate_limited += s.rate_limited.load(std::memory_order_relaxed);
        out.refreshes += s.refreshes.load(std::memory_order_relaxed);
    }
    return out;
}

GENESYS_DECL token_validator_metrics validator_cache::metrics() const
{
    token_validator_metrics m;
    m.stats = stats();
    {
        std::lock_guard lock(calls_mutex_);
        m.api_calls = calls_;
    }
    if (auto* sc = shared()) {
        const shared_token_cache_stats st = sc->stats();
        const auto add = [&](const char* name, const char* help, bool counter, std::uint64_t value) {
            m.extra.push_back(metric_value{name, help, counter, value});
        };
        add("shared_cache_hits_total", "Shared-cache lookups answered by the fleet (no API call).", true, st.hits);
        add("shared_cache_misses_total", "Shared-cache lookups that found nothing usable.", true, st.misses);
        add("shared_cache_lock_waits_total", "Shared-cache lookups that waited for another instance's check.", true,
            st.lock_waits);
        add("shared_cache_lock_timeouts_total", "Shared-cache lock waits that gave up at the lock's expiry.", true,
            st.lock_timeouts);
        add("shared_cache_stores_total", "Answers written to the shared cache.", true, st.stores);
        add("shared_cache_rejected_entries_total", "Shared-cache entries ignored: bad MAC, too large, malformed.",
            true, st.rejected_entries);
        add("shared_cache_errors_total", "Shared-cache commands that failed.", true, st.errors);
        add("shared_cache_unavailable_total", "Shared-cache lookups not made: not connected, or the breaker open.",
            true, st.unavailable);
        add("shared_cache_revocations_sent_total", "Revocations published to the fleet.", true, st.revocations_sent);
        add("shared_cache_revocations_received_total", "Authentic revocations received from the fleet.", true,
            st.revocations_received);
        add("shared_cache_revocations_rejected_total", "Revocation messages that failed their MAC.", true,
            st.revocations_rejected);
        add("shared_cache_reconnects_total", "Shared-cache connections made again after a failure.", true,
            st.reconnects);
        add("shared_cache_connected", "Whether the shared cache's connection is up (1) or not (0).", false,
            st.connected ? 1 : 0);
        add("shared_cache_breaker_open", "Whether the shared cache is left unasked after failing (1) or not (0).", false,
            st.breaker_open ? 1 : 0);
    }
    return m;
}

GENESYS_DECL void validator_cache::record_call(int status, const error* failure, std::chrono::nanoseconds took)
{
    std::string type;
    if (failure) {
        if (status >= 200 && status <= 299)
            type = "decode";
        else if (status != 0)
            type = std::to_string(status);
        else
            type = failure->code == condition::timeout ? "timeout" : "network";
    }
    std::lock_guard lock(calls_mutex_);
    auto it = std::lower_bound(calls_.begin(), calls_.end(), std::pair<int, std::string_view>(status, type),
                               [](const api_call_durations& c, const std::pair<int, std::string_view>& k) {
                                   return c.status != k.first ? c.status < k.first : c.error_type < k.second;
                               });
    if (it == calls_.end() || it->status != status || it->error_type != type) {
        api_call_durations c;
        c.status = status;
        c.error_type = std::move(type);
        it = calls_.insert(it, std::move(c));
    }
    it->durations.observe(took);
}

GENESYS_DECL result<validated_token> validator_cache::apply_policy(result<validated_token>&& r) const
{
    if (!r || r->entry_->policy_passed) // (checked when the answer was stored)
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

GENESYS_DECL const siphash_key& validator_cache::process_key()
{
    static const siphash_key k = siphash_key::random();
    return k;
}

GENESYS_DECL std::shared_ptr<const validator_entry> validator_cache::find_fresh(shard& s, const hash128& key,
                                                                                time_point t, bool* refresh) const
{
    auto it = s.index.find(key);
    if (it == s.index.end())
        return nullptr;
    const slot& sl = s.slots[it->second];
    if (sl.entry->trusted_until <= t)
        return nullptr;
    if (!sl.referenced.load(std::memory_order_relaxed))
        sl.referenced.store(true, std::memory_order_relaxed);
    // Refresh ahead: once per entry (the flag is cleared when an answer replaces it), and only
    // with room for it.
    if (refresh && refresh_due(sl, t) && !sl.refreshing.exchange(true, std::memory_order_relaxed)) {
        if (limiter_.try_acquire())
            *refresh = true;
        else
            sl.refreshing.store(false, std::memory_order_relaxed); // no room: a later hit tries
    }
    (sl.entry->rejected ? s.negative_hits : s.hits).fetch_add(1, std::memory_order_relaxed);
    return sl.entry;
}

GENESYS_DECL bool validator_cache::refresh_due(const slot& sl, time_point t) const noexcept
{
    // Only a trust that max_age ends (a check cannot move dateTokenIdles).
    return opts_.refresh_ahead.count() > 0 && !sl.entry->rejected &&
           sl.entry->trusted_until - t <= opts_.refresh_ahead &&
           sl.entry->trusted_until == sl.entry->fetched_at + opts_.max_age &&
           !sl.refreshing.load(std::memory_order_relaxed);
}

GENESYS_DECL std::shared_ptr<const validator_entry> validator_cache::plain_hit(const hash128& key) const
{
    const time_point t = now();
    const shard& s = shard_of(key);
    std::shared_lock lock(s.mutex);
    const auto it = s.index.find(key);
    if (it == s.index.end())
        return nullptr;
    const slot& sl = s.slots[it->second];
    const validator_entry& e = *sl.entry;
    if (e.trusted_until <= t || e.rejected || !e.policy_passed || refresh_due(sl, t))
        return nullptr;
    if (!sl.referenced.load(std::memory_order_relaxed))
        sl.referenced.store(true, std::memory_order_relaxed);
    s.hits.fetch_add(1, std::memory_order_relaxed);
    return sl.entry;
}

GENESYS_DECL std::shared_ptr<const validator_entry> validator_cache::stale_entry(shard& s, const hash128& key,
                                                                                 time_point t, const error& err) const
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
    // Only a trust that max_age ended: a token past its dateTokenIdles is dead, not unconfirmed.
    if (e->info.date_token_idles && t >= std::chrono::time_point_cast<clock::duration>(*e->info.date_token_idles))
        return nullptr;
    return e;
}

GENESYS_DECL result<validated_token> validator_cache::answer_from(std::shared_ptr<const validator_entry> e) const
{
    if (e->rejected)
        return *e->rejected;
    return apply_policy(result<validated_token>(validated_token(std::move(e), false)));
}

GENESYS_DECL std::optional<result<validated_token>> validator_cache::rate_limited_answer(shard& s, const hash128& key,
                                                                                       time_point t) const
{
    auto it = s.index.find(key);
    if (it == s.index.end())
        return std::nullopt;
    const slot& sl = s.slots[it->second];
    if (!sl.limited || sl.limited_until <= t)
        return std::nullopt;
    s.rate_limited.fetch_add(1, std::memory_order_relaxed);
    if (auto stale = stale_entry(s, key, t, *sl.limited)) {
        s.stale_hits.fetch_add(1, std::memory_order_relaxed);
        return apply_policy(result<validated_token>(validated_token(std::move(stale), true)));
    }
    error e = *sl.limited;
    // The wait left, not the one the API asked for when it answered.
    const auto left = std::chrono::ceil<std::chrono::seconds>(sl.limited_until - t);
    e.headers.set("Retry-After", std::to_string(left.count()));
    return result<validated_token>(std::move(e));
}

GENESYS_DECL std::chrono::milliseconds validator_cache::rate_limit_wait(const error& err, time_point t) const
{
    if (opts_.rate_limit_ttl_max.count() <= 0)
        return std::chrono::milliseconds(0);
    std::chrono::milliseconds wait = std::chrono::seconds(1); // no Retry-After, or none that parses
    if (auto value = err.headers.get("Retry-After"))
        if (auto asked = parse_retry_after(*value, t))
            wait = *asked;
    return std::min<std::chrono::milliseconds>(wait, opts_.rate_limit_ttl_max);
}

GENESYS_DECL std::shared_ptr<const validator_entry> validator_cache::remember_rate_limit(shard& s, const hash128& key,
                                                                                         time_point t, const error& err,
                                                                                         std::optional<time_point> until)
{
    if (!until) {
        const auto wait = rate_limit_wait(err, t);
        if (wait.count() <= 0)
            return nullptr;
        until = t + wait;
    }
    std::shared_ptr<const validator_entry> evicted;
    auto it = s.index.find(key);
    if (it == s.index.end()) {
        // No entry to keep the mark: a placeholder, never trusted and never stale (`rejected`
        // set, trusted until the beginning of time), that counts against max_entries as any.
        auto e = std::make_shared<validator_entry>();
        e->key = key;
        e->rejected = std::make_unique<const error>(err);
        e->fetched_at = t;
        e->trusted_until = time_point::min();
        evicted = store(s, key, std::move(e));
        it = s.index.find(key);
        if (it == s.index.end())
            return evicted; // no room: not remembered
    }
    slot& sl = s.slots[it->second];
    sl.limited = std::make_shared<const error>(err);
    sl.limited_until = *until;
    return evicted;
}

GENESYS_DECL std::shared_ptr<const validator_entry> validator_cache::store(shard& s, const hash128& key,
                                                                           std::shared_ptr<const validator_entry> e)
{
    if (auto it = s.index.find(key); it != s.index.end()) {
        slot& sl = s.slots[it->second];
        std::swap(sl.entry, e);
        sl.limited.reset(); // an answer ends a remembered 429
        sl.refreshing.store(false, std::memory_order_relaxed);
        return e;
    }
    if (capacity_ == 0)
        return e;
    std::shared_ptr<const validator_entry> evicted;
    if (!reserve()) {
        // Full: the fullest shard gives up its CLOCK victim, and its room passes to `s`. Only
        // shards that can be locked at once are asked (waiting for one while holding `s` could
        // deadlock with a thread doing the same the other way round).
        shard* victim = s.index.empty() ? nullptr : &s;
        std::unique_lock<std::shared_mutex> victim_lock;
        for (auto& o : shards_) {
            if (&o == &s)
                continue;
            std::unique_lock<std::shared_mutex> l(o.mutex, std::try_to_lock);
            if (l.owns_lock() && o.index.size() > (victim ? victim->index.size() : 0)) {
                victim = &o;
                victim_lock = std::move(l); // (unlocks the previous one)
            }
        }
        if (!victim)
            return e; // every entry is in a shard busy right now: this answer is not kept
        evicted = evict(*victim);
    }
    std::size_t i;
    if (!s.free.empty()) {
        i = s.free.back();
        s.free.pop_back();
    } else {
        i = s.slots.size();
        s.slots.emplace_back();
    }
    slot& sl = s.slots[i];
    sl.key = key;
    sl.entry = std::move(e);
    sl.referenced.store(false, std::memory_order_relaxed);
    sl.refreshing.store(false, std::memory_order_relaxed);
    sl.limited.reset();
    s.index.emplace(key, i);
    return evicted;
}

GENESYS_DECL bool validator_cache::reserve() noexcept
{
    std::size_t n = size_.load(std::memory_order_relaxed);
    while (n < capacity_)
        if (size_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed))
            return true;
    return false;
}

GENESYS_DECL std::shared_ptr<const validator_entry> validator_cache::evict(shard& v)
{
    // CLOCK: the first entry not used since the hand last passed it goes. The first turn of the
    // hand clears every flag, so the second finds one.
    for (;;) {
        const std::size_t i = v.hand;
        v.hand = (v.hand + 1) % v.slots.size();
        slot& sl = v.slots[i];
        if (!sl.entry)
            continue; // in `free`
        if (sl.referenced.load(std::memory_order_relaxed)) {
            sl.referenced.store(false, std::memory_order_relaxed);
            continue;
        }
        v.index.erase(sl.key);
        v.free.push_back(i);
        sl.limited.reset();
        v.evictions.fetch_add(1, std::memory_order_relaxed);
        return std::move(sl.entry);
    }
}

GENESYS_DECL std::shared_ptr<const validator_entry> validator_cache::erase(shard& s, const hash128& key)
{
    auto it = s.index.find(key);
    if (it == s.index.end())
        return nullptr;
    slot& sl = s.slots[it->second];
    std::shared_ptr<const validator_entry> e = std::move(sl.entry);
    sl.referenced.store(false, std::memory_order_relaxed);
    sl.limited.reset();
    s.free.push_back(it->second);
    s.index.erase(it);
    size_.fetch_sub(1, std::memory_order_relaxed);
    return e;
}

GENESYS_DECL std::string validator_cache::policy_problem(const token_info& info) const
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

} // namespace detail
} // namespace genesys

#endif
