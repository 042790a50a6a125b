#ifndef GENESYS_DETAIL_IMPL_VALIDATOR_CACHE_IPP
#define GENESYS_DETAIL_IMPL_VALIDATOR_CACHE_IPP

#include <genesys/date_time.hpp>
#include <genesys/detail/failure.hpp>
#include <genesys/detail/validator_cache.hpp>
#include <genesys/error_code.hpp>

#include <algorithm>
#include <ostream>
#include <string>
#include <utility>

namespace genesys {

GENESYS_DECL std::ostream& operator<<(std::ostream& os, const validated_token& v)
{
    const token_info& i = v.info();
    os << "validated_token{organization " << (i.organization ? i.organization->id.value_or("?") : "?")
       << ", client " << (i.oauth_client ? i.oauth_client->id.value_or("?") : "?") << ", trusted until "
       << format_date_time(std::chrono::time_point_cast<std::chrono::milliseconds>(v.trusted_until()))
       << (v.stale() ? ", stale" : "") << '}';
    return os;
}

namespace detail {

GENESYS_DECL validator_cache::validator_cache(token_validator_options o)
    : opts_(std::move(o)), key_(process_key()), shards_(shard_count)
{
    // The shards' capacities add up to max_entries exactly (some are 0 below 16 entries).
    for (std::size_t i = 0; i < shard_count; ++i)
        shards_[i].capacity = opts_.max_entries / shard_count + (i < opts_.max_entries % shard_count ? 1 : 0);
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
    bool bad = false; // no early exit: the loop vectorizes (it runs on every validation)
    for (const char c : token)
        bad |= static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
    return bad ? "the token contains a space or a control character" : std::string_view{};
}

GENESYS_DECL validator_cache::lookup validator_cache::begin(const hash128& key)
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

GENESYS_DECL result<validated_token> validator_cache::finish(const hash128& key,
                                                             const std::shared_ptr<validator_flight>& f,
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

GENESYS_DECL result<validated_token> validator_cache::wait(validator_flight& f)
{
    std::unique_lock lock(f.mutex);
    f.done_cv.wait(lock, [&] { return f.outcome.has_value(); });
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
    f.waiters.push_back(std::move(w));
    return true;
}

GENESYS_DECL bool validator_cache::withdraw(validator_flight& f, const flight_waiter* w)
{
    std::lock_guard lock(f.mutex);
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
    lock.unlock();
}

GENESYS_DECL void validator_cache::clear()
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

GENESYS_DECL token_validator_stats validator_cache::stats() const
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

GENESYS_DECL result<validated_token> validator_cache::apply_policy(result<validated_token>&& r) const
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

GENESYS_DECL const siphash_key& validator_cache::process_key()
{
    static const siphash_key k = siphash_key::random();
    return k;
}

GENESYS_DECL std::shared_ptr<const validator_entry> validator_cache::find_fresh(shard& s, const hash128& key,
                                                                                time_point t) const
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
    return e;
}

GENESYS_DECL result<validated_token> validator_cache::answer_from(std::shared_ptr<const validator_entry> e) const
{
    if (e->rejected)
        return *e->rejected;
    return apply_policy(result<validated_token>(validated_token(std::move(e), false)));
}

GENESYS_DECL std::shared_ptr<const validator_entry> validator_cache::store(shard& s, const hash128& key,
                                                                           std::shared_ptr<const validator_entry> e)
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

GENESYS_DECL std::shared_ptr<const validator_entry> validator_cache::erase(shard& s, const hash128& key)
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
