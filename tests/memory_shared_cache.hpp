// SPDX-License-Identifier: BSL-1.0
// An in-memory `genesys::shared_token_cache` for the validator's tests, faithful to the fleet
// protocol of the Redis one (fleet_design.md): answers with an expiry, the check's lock with a
// nonce and a lifetime, lookups waiting for the lock's holder, revocations published to every
// listener, and every handler called on its own thread, never inline. It can be made
// "unavailable" (every lookup answers "check it yourself" at once) or "silent" (lookups are
// answered only when it is destroyed). No Redis.
#ifndef GENESYS_TESTS_MEMORY_SHARED_CACHE_HPP
#define GENESYS_TESTS_MEMORY_SHARED_CACHE_HPP

#include <genesys/detail/hmac.hpp>
#include <genesys/shared_token_cache.hpp>

#include <array>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace genesys::testing {

class memory_shared_cache final : public shared_token_cache {
public:
    using sys_clock = std::chrono::system_clock;
    using steady = std::chrono::steady_clock;

    /// `clock`: the fleet's wall clock (the answers' expiry); `lock_ttl`: the lock's lifetime,
    /// in real time (a waiter gives up after it).
    explicit memory_shared_cache(std::function<sys_clock::time_point()> clock,
                                 std::chrono::milliseconds lock_ttl = std::chrono::seconds(10))
        : clock_(std::move(clock)), lock_ttl_(lock_ttl), thread_([this] { run(); })
    {
    }

    /// Answers every lookup still waiting ("check it yourself"), then stops its thread.
    ~memory_shared_cache() override
    {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }

    shared_token_key key_of(std::string_view base_url, bool preserve_idle_ttl, std::string_view token) const override
    {
        std::string msg;
        msg.append(base_url).append(preserve_idle_ttl ? "|1|" : "|0|").append(token);
        const auto d = detail::hmac_sha256("an in-memory fleet key of 32 bytes!", msg);
        detail::secure_zero(msg.data(), msg.size());
        shared_token_key k;
        for (std::size_t i = 0; i < k.digest.size(); ++i)
            k.digest[i] = d[i];
        return k;
    }

    void async_lookup(const shared_token_key& key, std::function<void(shared_lookup&&)> done) override
    {
        post([this, key, done = std::move(done)]() mutable { lookup(key, std::move(done)); });
    }

    void store(const shared_token_key& key, const shared_answer& answer, std::string lock) override
    {
        post([this, key, answer, lock = std::move(lock)] { do_store(key, answer, lock); });
    }

    void release(const shared_token_key& key, std::string lock) override
    {
        post([this, key, lock = std::move(lock)] { do_release(key, lock); });
    }

    void revoke(const shared_token_key& key) override
    {
        post([this, key] {
            entries_.erase(key.digest);
            ++st_.revocations_sent;
            revoked_.push_back(key);
            publish([&](shared_token_cache_listener& l) { l.on_revoked(key); });
            st_.revocations_received += 1;
        });
    }

    void add_listener(std::weak_ptr<shared_token_cache_listener> listener) override
    {
        std::lock_guard lock(mutex_);
        listeners_.push_back(std::move(listener));
    }

    shared_token_cache_stats stats() const override
    {
        std::lock_guard lock(mutex_);
        auto s = st_;
        s.connected = !unavailable_;
        return s;
    }

    // ---- for the tests

    /// Every lookup answers "check it yourself" at once (as a Redis that is down).
    void set_unavailable(bool on)
    {
        std::lock_guard lock(mutex_);
        unavailable_ = on;
    }

    /// Lookups are answered only when this is destroyed (as a Redis that stopped answering).
    void set_silent(bool on)
    {
        std::lock_guard lock(mutex_);
        silent_ = on;
    }

    /// Tells every listener that revocations may have been missed (the subscription came back).
    void lose_subscription()
    {
        post([this] { publish([](shared_token_cache_listener& l) { l.on_revocations_missed(); }); });
    }

    /// Runs `f` on the cache's thread with its lock held, and waits for it: what was posted
    /// before it has been handled.
    template <class F>
    auto inspect(F f)
    {
        std::promise<decltype(f())> p;
        auto fut = p.get_future();
        post([&] {
            if constexpr (std::is_void_v<decltype(f())>) {
                f();
                p.set_value();
            } else {
                p.set_value(f());
            }
        });
        return fut.get();
    }

    /// The answer held for `key`, if any (after what was posted before).
    std::optional<shared_answer> answer_of(const shared_token_key& key)
    {
        return inspect([&]() -> std::optional<shared_answer> {
            auto it = entries_.find(key.digest);
            if (it == entries_.end())
                return std::nullopt;
            return it->second;
        });
    }

    /// Whether some instance holds the lock on `key`'s check (after what was posted before).
    bool locked(const shared_token_key& key)
    {
        return inspect([&] { return locks_.count(key.digest) != 0; });
    }

    /// The keys revoked so far, oldest first (after what was posted before).
    std::vector<shared_token_key> revoked()
    {
        return inspect([&] { return revoked_; });
    }

    /// Lookups waiting now: for the lock's holder, or held by `set_silent`.
    std::size_t waiting() const
    {
        std::lock_guard lock(mutex_);
        return waiters_.size() + silenced_.size();
    }

    /// From now on, keeps each lookup's handler (and what it holds) after calling it, until
    /// `let_handlers_go` (as a cache whose thread frees a handler late). Bounded: 10 s.
    void hold_handlers()
    {
        std::lock_guard lock(linger_mutex_);
        linger_ = true;
    }

    void let_handlers_go()
    {
        {
            std::lock_guard lock(linger_mutex_);
            linger_ = false;
        }
        linger_cv_.notify_all();
    }

    /// The cache's own thread.
    std::thread::id thread_id() const { return thread_.get_id(); }

    /// Lookups made so far.
    std::size_t lookups() const
    {
        std::lock_guard lock(mutex_);
        return lookups_;
    }

private:
    using digest = std::array<unsigned char, 32>;
    struct lock_state {
        std::string nonce;
        steady::time_point until;
    };
    struct waiter {
        digest key;
        steady::time_point until;
        std::function<void(shared_lookup&&)> done;
    };

    void post(std::function<void()> task)
    {
        {
            std::lock_guard lock(mutex_);
            tasks_.push_back(std::move(task));
        }
        cv_.notify_all();
    }

    // Everything below runs on the cache's thread, with `mutex_` held (handlers are called
    // with it released).

    void lookup(const shared_token_key& key, std::function<void(shared_lookup&&)> done)
    {
        ++lookups_;
        if (unavailable_) {
            ++st_.unavailable;
            call(std::move(done), {});
            return;
        }
        if (silent_) {
            silenced_.push_back(std::move(done));
            return;
        }
        if (auto a = usable(key.digest)) {
            ++st_.hits;
            call(std::move(done), {std::move(a), {}});
            return;
        }
        auto l = locks_.find(key.digest);
        if (l == locks_.end() || l->second.until <= steady::now()) {
            ++st_.misses;
            const std::string nonce = "nonce-" + std::to_string(++nonces_);
            locks_[key.digest] = {nonce, steady::now() + lock_ttl_};
            call(std::move(done), {std::nullopt, nonce});
            return;
        }
        ++st_.lock_waits;
        waiters_.push_back({key.digest, steady::now() + lock_ttl_, std::move(done)});
    }

    std::optional<shared_answer> usable(const digest& k)
    {
        auto it = entries_.find(k);
        if (it == entries_.end())
            return std::nullopt;
        if (it->second.expires_at <= clock_()) {
            entries_.erase(it);
            return std::nullopt;
        }
        return it->second;
    }

    void do_store(const shared_token_key& key, const shared_answer& answer, const std::string& lock)
    {
        ++st_.stores;
        const auto old = usable(key.digest);
        if (answer.expires_at > clock_())
            entries_[key.digest] = answer;
        if (answer.kind == shared_answer_kind::unauthorized && old && old->kind == shared_answer_kind::valid) {
            ++st_.revocations_sent;
            revoked_.push_back(key);
            publish([&](shared_token_cache_listener& l) { l.on_revoked(key); });
            ++st_.revocations_received;
        }
        do_release(key, lock);
        // The waiters read the answer back.
        for (auto it = waiters_.begin(); it != waiters_.end();) {
            if (it->key == key.digest) {
                auto a = usable(key.digest);
                if (a)
                    ++st_.hits;
                auto done = std::move(it->done);
                it = waiters_.erase(it);
                call(std::move(done), {std::move(a), {}});
            } else {
                ++it;
            }
        }
    }

    void do_release(const shared_token_key& key, const std::string& lock)
    {
        if (lock.empty())
            return;
        auto l = locks_.find(key.digest);
        if (l != locks_.end() && l->second.nonce == lock)
            locks_.erase(l);
    }

    template <class F>
    void publish(F f)
    {
        std::vector<std::shared_ptr<shared_token_cache_listener>> live;
        for (auto& w : listeners_)
            if (auto l = w.lock())
                live.push_back(std::move(l));
        lock_.unlock();
        for (auto& l : live)
            f(*l);
        live.clear();
        lock_.lock();
    }

    void call(std::function<void(shared_lookup&&)> done, shared_lookup found)
    {
        lock_.unlock();
        done(std::move(found));
        {
            std::unique_lock l(linger_mutex_);
            linger_cv_.wait_for(l, std::chrono::seconds(10), [&] { return !linger_; });
        }
        done = nullptr;
        lock_.lock();
    }

    void run()
    {
        lock_ = std::unique_lock(mutex_);
        for (;;) {
            // Waiters past the lock's lifetime check themselves.
            const auto now = steady::now();
            for (auto it = waiters_.begin(); it != waiters_.end();) {
                if (it->until <= now) {
                    ++st_.lock_timeouts;
                    auto done = std::move(it->done);
                    it = waiters_.erase(it);
                    call(std::move(done), {});
                    it = waiters_.begin(); // (the list may have changed while unlocked)
                } else {
                    ++it;
                }
            }
            if (!tasks_.empty()) {
                auto task = std::move(tasks_.front());
                tasks_.pop_front();
                task();
                continue;
            }
            if (stopping_)
                break;
            if (waiters_.empty())
                cv_.wait(lock_);
            else
                cv_.wait_for(lock_, std::chrono::milliseconds(2));
        }
        // Destroyed: every lookup still waiting is answered.
        auto silenced = std::move(silenced_);
        auto waiters = std::move(waiters_);
        for (auto& d : silenced)
            call(std::move(d), {});
        for (auto& w : waiters)
            call(std::move(w.done), {});
        lock_.unlock();
    }

    std::function<sys_clock::time_point()> clock_;
    std::chrono::milliseconds lock_ttl_;
    mutable std::mutex mutex_;
    std::unique_lock<std::mutex> lock_; // the thread's own hold on mutex_
    std::condition_variable cv_;
    std::deque<std::function<void()>> tasks_;
    std::map<digest, shared_answer> entries_;
    std::map<digest, lock_state> locks_;
    std::vector<waiter> waiters_;
    std::vector<std::function<void(shared_lookup&&)>> silenced_;
    std::vector<std::weak_ptr<shared_token_cache_listener>> listeners_;
    std::vector<shared_token_key> revoked_;
    shared_token_cache_stats st_{};
    std::size_t lookups_ = 0;
    std::size_t nonces_ = 0;
    bool unavailable_ = false;
    bool silent_ = false;
    bool stopping_ = false;
    std::mutex linger_mutex_;
    std::condition_variable linger_cv_;
    bool linger_ = false;
    std::thread thread_; // last: started once the rest is made
};

} // namespace genesys::testing

#endif
