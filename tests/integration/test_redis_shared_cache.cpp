// SPDX-License-Identifier: BSL-1.0
// genesys::redis_shared_cache against redis-server processes of the test's own (loopback ports, a
// password, an ACL user, one TLS instance): the fleet protocol (GET, the lock, the wait, store,
// revocation), what an attacker writing to Redis can do (nothing but be counted), and Redis
// failing (stopped, killed and restarted): every lookup answered, within bounds.
#include <genesys/redis/shared_cache.hpp>

#include "../eventually.hpp"
#include "redis_process.hpp"

#include <genesys/detail/shared_entry.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using genesys::redis_command;
using genesys::redis_reply;
using genesys::redis_reply_kind;
using genesys::shared_answer;
using genesys::shared_answer_kind;
using genesys::shared_lookup;
using genesys::shared_token_key;

const std::string base = "https://api.mypurecloud.com";
const std::string token = "tok-7d2f-secret-token-bytes-0a9b4c";

genesys::fleet_key fleet() { return genesys::fleet_key(std::string(40, 'F') + "-fleet-key-of-the-test"); }
genesys::fleet_key other_fleet() { return genesys::fleet_key(std::string(40, 'X') + "-another-fleet-key"); }


using testwait::eventually;

/// A connection of the test's own to the same Redis, blocking (its own context).
class admin {
public:
    explicit admin(genesys::redis_options o) : c_(ioc_, std::move(o))
    {
        std::optional<boost::system::error_code> r;
        c_.async_connect([&](boost::system::error_code ec) { r = ec; });
        run([&] { return r.has_value(); });
        REQUIRE_FALSE(*r);
    }
    explicit admin(const testredis::redis_process& server) : admin(server.client_options(1s)) {}

    std::vector<redis_reply> exec(std::vector<redis_command> commands)
    {
        std::optional<std::vector<redis_reply>> out;
        boost::system::error_code error;
        c_.async_execute(commands, [&](boost::system::error_code ec, std::vector<redis_reply> r) {
            error = ec;
            out = std::move(r);
        });
        run([&] { return out.has_value(); });
        REQUIRE_FALSE(error);
        return std::move(*out);
    }
    redis_reply one(redis_command command) { return exec({std::move(command)}).at(0); }

    /// Every key in the database (SCAN).
    std::vector<std::string> keys()
    {
        std::vector<std::string> out;
        std::string cursor = "0";
        for (int i = 0; i < 1000; ++i) {
            auto r = one({"SCAN", cursor, "COUNT", "1000"});
            REQUIRE(r.kind == redis_reply_kind::array);
            cursor = r.elements.at(0).text;
            for (auto& k : r.elements.at(1).elements)
                out.push_back(k.text);
            if (cursor == "0")
                break;
        }
        return out;
    }

    /// Subscribers of the revocation channel.
    std::int64_t subscribers()
    {
        auto r = one({"PUBSUB", "NUMSUB", "genesys:tv:revoke"});
        return r.elements.at(1).integer;
    }

private:
    template <class Pred>
    void run(Pred done)
    {
        const auto deadline = clock_type::now() + 10s;
        while (!done() && clock_type::now() < deadline) {
            ioc_.restart();
            ioc_.run_for(5ms);
        }
        REQUIRE(done());
    }

    boost::asio::io_context ioc_;
    genesys::redis_connection c_;
};

/// A lookup's result, waited for (bounded) from the test's thread.
struct lookup_result {
    std::optional<shared_lookup> value;
    std::chrono::milliseconds took{};
    int calls = 0;
};

lookup_result lookup(genesys::shared_token_cache& cache, const shared_token_key& key, std::chrono::milliseconds limit = 10s)
{
    struct shared_state {
        std::mutex m;
        std::condition_variable cv;
        std::optional<shared_lookup> value;
        int calls = 0;
    };
    auto s = std::make_shared<shared_state>();
    const auto start = clock_type::now();
    cache.async_lookup(key, [s](shared_lookup r) {
        std::lock_guard lock(s->m);
        ++s->calls;
        s->value = std::move(r);
        s->cv.notify_all();
    });
    lookup_result out;
    std::unique_lock lock(s->m);
    s->cv.wait_for(lock, limit, [&] { return s->value.has_value(); });
    out.took = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - start);
    out.value = s->value;
    out.calls = s->calls;
    return out;
}

shared_answer valid_answer(std::chrono::seconds lifetime = 60s)
{
    shared_answer a;
    a.kind = shared_answer_kind::valid;
    a.fetched_at = std::chrono::system_clock::now();
    a.expires_at = a.fetched_at + lifetime;
    a.info.organization = genesys::named_entity{"org-1", "Org One"};
    a.info.authorized_scope = std::vector<std::string>{"users:readonly"};
    return a;
}

shared_answer unauthorized_answer()
{
    shared_answer a;
    a.kind = shared_answer_kind::unauthorized;
    a.fetched_at = std::chrono::system_clock::now();
    a.expires_at = a.fetched_at + 30s;
    return a;
}

std::string entry_key(const shared_token_key& k) { return genesys::detail::shared_entry_key(k.digest); }
std::string lock_key(const shared_token_key& k)
{
    return "genesys:tv:lock:" + genesys::detail::to_hex(genesys::detail::digest_bytes(k.digest));
}

/// Records what the cache tells it.
struct recorder final : genesys::shared_token_cache_listener {
    void on_revoked(const shared_token_key& key) noexcept override
    {
        std::lock_guard lock(m);
        revoked.push_back(key);
    }
    void on_revocations_missed() noexcept override { ++missed; }
    std::size_t revoked_count()
    {
        std::lock_guard lock(m);
        return revoked.size();
    }
    bool has(const shared_token_key& key)
    {
        std::lock_guard lock(m);
        for (auto& k : revoked)
            if (k == key)
                return true;
        return false;
    }
    std::mutex m;
    std::vector<shared_token_key> revoked;
    std::atomic<int> missed{0};
};

bool connected(genesys::redis_shared_cache& c) { return c.stats().connected; }

} // namespace

TEST_CASE("redis_shared_cache: a miss takes the fleet's lock, store shares the answer with its TTL, the waiter gets it")
{
    testredis::redis_process server;
    admin redis(server);
    genesys::redis_shared_cache a(server.client_options(1s), fleet());
    genesys::redis_shared_cache b(server.client_options(1s), fleet());
    REQUIRE(eventually([&] { return connected(a) && connected(b); }));

    const auto key = a.key_of(base, false, token);
    CHECK(b.key_of(base, false, token) == key); // the fleet agrees on the name
    CHECK_FALSE(a.key_of(base, true, token) == key);

    auto first = lookup(a, key);
    REQUIRE(first.value);
    CHECK_FALSE(first.value->answer);
    REQUIRE(first.value->lock.size() == 32); // 16 random bytes, hex
    CHECK(redis.one({"GET", lock_key(key)}).text == first.value->lock);
    const auto lock_ttl = redis.one({"PTTL", lock_key(key)}).integer;
    CHECK(lock_ttl > 0);
    CHECK(lock_ttl <= 3000);
    CHECK(a.stats().misses == 1);

    // b waits for a's answer...
    struct waiter {
        std::mutex m;
        std::optional<shared_lookup> value;
        int calls = 0;
    };
    auto w = std::make_shared<waiter>();
    b.async_lookup(key, [w](shared_lookup r) {
        std::lock_guard lock(w->m);
        ++w->calls;
        w->value = std::move(r);
    });
    REQUIRE(eventually([&] { return b.stats().lock_waits == 1; }));
    {
        std::lock_guard lock(w->m);
        CHECK_FALSE(w->value); // still waiting: the lock is a's
    }
    const auto answer = valid_answer();
    a.store(key, answer, first.value->lock);
    // ... and gets it, without the lock.
    REQUIRE(eventually([&] {
        std::lock_guard lock(w->m);
        return w->value.has_value();
    }));
    {
        std::lock_guard lock(w->m);
        REQUIRE(w->value->answer);
        CHECK(w->value->lock.empty());
        CHECK(w->value->answer->kind == shared_answer_kind::valid);
        CHECK(w->value->answer->info == answer.info);
        CHECK(w->calls == 1);
    }
    CHECK(b.stats().hits == 1);
    REQUIRE(eventually([&] { return a.stats().stores == 1; }));
    CHECK(redis.one({"EXISTS", lock_key(key)}).integer == 0); // handed back
    const auto ttl = redis.one({"PTTL", entry_key(key)}).integer;
    CHECK(ttl > 50'000);
    CHECK(ttl <= 60'000);

    // A hit at once for everyone now.
    auto again = lookup(a, key);
    REQUIRE(again.value);
    REQUIRE(again.value->answer);
    CHECK(again.value->lock.empty());
    CHECK(again.value->answer->info == answer.info);
    CHECK(again.calls == 1);
    CHECK(a.stats().hits == 1);
    CHECK(a.stats().errors == 0);
    CHECK(a.stats().rejected_entries == 0);
}

TEST_CASE("redis_shared_cache: a lock nobody releases delays a waiter by lock_ttl at most, a released lock is taken")
{
    testredis::redis_process server;
    admin redis(server);
    genesys::redis_shared_cache_options opts;
    opts.lock_ttl = 300ms;
    genesys::redis_shared_cache a(server.client_options(1s), fleet(), opts);
    genesys::redis_shared_cache b(server.client_options(1s), fleet(), opts);
    REQUIRE(eventually([&] { return connected(a) && connected(b); }));

    SUBCASE("a lock set by hand, without expiry: lock_timeouts, then the caller checks without the lock")
    {
        const auto key = a.key_of(base, false, token);
        REQUIRE(redis.one({"SET", lock_key(key), "held-by-a-dead-instance"}).text == "OK");
        auto r = lookup(a, key);
        REQUIRE(r.value);
        CHECK_FALSE(r.value->answer);
        CHECK(r.value->lock.empty());
        CHECK(r.took < 5s);
        CHECK(a.stats().lock_waits == 1);
        CHECK(a.stats().lock_timeouts == 1);
        CHECK(a.stats().misses == 1);
    }
    SUBCASE("the holder releases without an answer: the waiter takes the lock and checks")
    {
        genesys::redis_shared_cache_options slow = opts;
        slow.lock_ttl = 10s;
        genesys::redis_shared_cache c(server.client_options(1s), fleet(), slow);
        genesys::redis_shared_cache d(server.client_options(1s), fleet(), slow);
        REQUIRE(eventually([&] { return connected(c) && connected(d); }));
        const auto key = c.key_of(base, false, token + "-released");
        auto held = lookup(c, key);
        REQUIRE(held.value);
        REQUIRE_FALSE(held.value->lock.empty());
        std::promise<shared_lookup> p;
        auto f = p.get_future();
        d.async_lookup(key, [&p](shared_lookup r) { p.set_value(std::move(r)); });
        REQUIRE(eventually([&] { return d.stats().lock_waits == 1; }));
        c.release(key, held.value->lock);
        REQUIRE(f.wait_for(5s) == std::future_status::ready);
        auto r = f.get();
        CHECK_FALSE(r.answer);
        CHECK_FALSE(r.lock.empty());
        CHECK(r.lock != held.value->lock);
        CHECK(d.stats().lock_timeouts == 0);
        CHECK(redis.one({"GET", lock_key(key)}).text == r.lock);
    }
    SUBCASE("release with a stale nonce deletes nothing (compare-and-delete)")
    {
        const auto key = a.key_of(base, false, token + "-stale");
        auto held = lookup(a, key);
        REQUIRE_FALSE(held.value->lock.empty());
        b.release(key, "0123456789abcdef0123456789abcdef");
        b.store(key, unauthorized_answer(), "not-the-nonce");
        REQUIRE(eventually([&] { return b.stats().stores == 1; }));
        CHECK(redis.one({"GET", lock_key(key)}).text == held.value->lock);
    }
}

TEST_CASE("redis_shared_cache: every handler once and never inline, unavailable at once when Redis cannot be reached")
{
    const int port = testproc::free_loopback_port(); // nothing listens
    genesys::redis_options o;
    o.port = static_cast<std::uint16_t>(port);
    o.connect_timeout = 200ms;
    boost::asio::io_context ioc;
    {
    genesys::redis_shared_cache cache(ioc.get_executor(), o, fleet());
    const auto key = cache.key_of(base, false, token);
    int calls = 0;
    std::optional<shared_lookup> result;
    cache.async_lookup(key, [&](shared_lookup r) {
        ++calls;
        result = std::move(r);
    });
    CHECK(calls == 0); // never from inside async_lookup
    const auto deadline = clock_type::now() + 5s;
    while (!result && clock_type::now() < deadline)
        ioc.run_for(5ms);
    REQUIRE(result);
    CHECK_FALSE(result->answer);
    CHECK(result->lock.empty());
    ioc.run_for(20ms);
    CHECK(calls == 1);
    CHECK(cache.stats().unavailable == 1);
    CHECK_FALSE(cache.stats().connected);
    cache.store(key, valid_answer(), "");
    cache.revoke(key); // not published: counted
    ioc.run_for(20ms);
    CHECK(cache.stats().stores == 0);
    CHECK(cache.stats().errors == 1);
    }
    ioc.run_for(50ms); // the cache's shutdown runs on its executor
}

TEST_CASE("redis_shared_cache: revocations reach every instance, a 401 replacing a valid answer is published")
{
    testredis::redis_process server;
    admin redis(server);
    genesys::redis_shared_cache a(server.client_options(1s), fleet());
    genesys::redis_shared_cache b(server.client_options(1s), fleet());
    auto la = std::make_shared<recorder>();
    auto lb = std::make_shared<recorder>();
    a.add_listener(la);
    b.add_listener(lb);
    REQUIRE(eventually([&] { return connected(a) && connected(b) && redis.subscribers() == 2; }));

    const auto key = a.key_of(base, false, token);
    SUBCASE("revoke: DEL and PUBLISH; b's listener and a's own are told")
    {
        a.store(key, valid_answer(), "");
        REQUIRE(eventually([&] { return a.stats().stores == 1; }));
        CHECK(redis.one({"EXISTS", entry_key(key)}).integer == 1);
        a.revoke(key);
        REQUIRE(eventually([&] { return lb->has(key) && la->has(key); }));
        CHECK(redis.one({"EXISTS", entry_key(key)}).integer == 0);
        CHECK(a.stats().revocations_sent == 1);
        CHECK(b.stats().revocations_received == 1);
        CHECK(a.stats().revocations_received == 1);
        CHECK(la->missed == 0);
    }
    SUBCASE("a 401 over a valid answer publishes; a 401 over nothing does not")
    {
        a.store(key, valid_answer(), "");
        REQUIRE(eventually([&] { return a.stats().stores == 1; }));
        b.store(key, unauthorized_answer(), "");
        REQUIRE(eventually([&] { return la->has(key) && lb->has(key); }));
        CHECK(b.stats().revocations_sent == 1);
        auto r = lookup(a, key);
        REQUIRE(r.value->answer);
        CHECK(r.value->answer->kind == shared_answer_kind::unauthorized);

        const auto fresh = a.key_of(base, false, token + "-never-valid");
        b.store(fresh, unauthorized_answer(), "");
        REQUIRE(eventually([&] { return b.stats().stores == 2; }));
        std::this_thread::sleep_for(100ms);
        CHECK(b.stats().revocations_sent == 1);
        CHECK_FALSE(la->has(fresh));
    }
    SUBCASE("a 401 over an answer another version of the library wrote publishes (it may have been valid)")
    {
        std::string body(26, '\0');
        body[0] = 9; // another format version
        body[1] = 'V';
        const auto mac = genesys::detail::shared_entry_codec::value_mac(fleet(), entry_key(key), body);
        REQUIRE(redis.one({"SET", entry_key(key), body + std::string(genesys::detail::digest_bytes(mac))}).text ==
                "OK");
        b.store(key, unauthorized_answer(), "");
        REQUIRE(eventually([&] { return la->has(key) && lb->has(key); }));
        CHECK(b.stats().revocations_sent == 1);
    }
    SUBCASE("a listener destroyed is no longer called")
    {
        lb.reset();
        a.revoke(key);
        REQUIRE(eventually([&] { return la->has(key); }));
        REQUIRE(eventually([&] { return b.stats().revocations_received == 1; }));
    }
}

TEST_CASE("redis_shared_cache: forged, moved, oversized and malformed entries are ignored and counted, forged revocations too")
{
    testredis::redis_process server;
    admin redis(server);
    genesys::redis_shared_cache_options opts;
    opts.max_entry_bytes = 4096;
    genesys::redis_shared_cache a(server.client_options(1s), fleet(), opts);
    auto listener = std::make_shared<recorder>();
    a.add_listener(listener);
    REQUIRE(eventually([&] { return connected(a) && redis.subscribers() == 1; }));
    const auto key = a.key_of(base, false, token);
    const std::string name = entry_key(key);

    auto expect_rejected = [&](const std::string& value, std::uint64_t count) {
        REQUIRE(redis.one({"SET", name, value}).text == "OK");
        auto r = lookup(a, key);
        REQUIRE(r.value);
        CHECK_FALSE(r.value->answer); // ignored: the caller checks (here with the lock)
        CHECK(a.stats().rejected_entries == count);
        if (!r.value->lock.empty())
            a.release(key, r.value->lock);
        REQUIRE(eventually([&] { return redis.one({"EXISTS", lock_key(key)}).integer == 0; }));
    };
    // Under another fleet key: a forger without the key.
    expect_rejected(genesys::detail::encode_shared_entry(other_fleet(), name, valid_answer()), 1);
    // Authentic, but another token's (moved): the key is bound into the MAC.
    const auto other = entry_key(a.key_of(base, false, "another-token"));
    expect_rejected(genesys::detail::encode_shared_entry(fleet(), other, valid_answer()), 2);
    // Over the size limit.
    auto big = valid_answer();
    big.info.authorized_scope = std::vector<std::string>(500, "scope:that-is-long-enough");
    expect_rejected(genesys::detail::encode_shared_entry(fleet(), name, big), 3);
    // Authentic but not parsing (as a bug would write it): a byte after the token's info.
    {
        std::string body = genesys::detail::encode_shared_entry(fleet(), name, valid_answer());
        body.resize(body.size() - 32);
        body += '\x07';
        const auto mac = genesys::detail::shared_entry_codec::value_mac(fleet(), name, body);
        expect_rejected(body + std::string(genesys::detail::digest_bytes(mac)), 4);
    }
    // Garbage, too short for a MAC.
    expect_rejected("garbage", 5);
    // And an authentic one is a hit.
    REQUIRE(redis.one({"SET", name, genesys::detail::encode_shared_entry(fleet(), name, valid_answer())}).text == "OK");
    auto r = lookup(a, key);
    REQUIRE(r.value->answer);
    CHECK(a.stats().rejected_entries == 5);
    // An expired one is absent, not rejected.
    auto old = valid_answer();
    old.fetched_at -= 120s;
    old.expires_at = old.fetched_at + 60s;
    REQUIRE(redis.one({"SET", name, genesys::detail::encode_shared_entry(fleet(), name, old)}).text == "OK");
    auto r2 = lookup(a, key);
    CHECK_FALSE(r2.value->answer);
    CHECK(a.stats().rejected_entries == 5);
    if (!r2.value->lock.empty())
        a.release(key, r2.value->lock);
    REQUIRE(eventually([&] { return redis.one({"EXISTS", lock_key(key)}).integer == 0; }));
    // One written by another version of the library (another format version): a miss, not a fault.
    {
        std::string body(26, '\0');
        body[0] = 9;
        body[1] = 'V';
        const auto mac = genesys::detail::shared_entry_codec::value_mac(fleet(), name, body);
        REQUIRE(redis.one({"SET", name, body + std::string(genesys::detail::digest_bytes(mac))}).text == "OK");
        auto r3 = lookup(a, key);
        REQUIRE(r3.value);
        CHECK_FALSE(r3.value->answer);
        CHECK(a.stats().rejected_entries == 5);
        if (!r3.value->lock.empty())
            a.release(key, r3.value->lock);
        REQUIRE(eventually([&] { return redis.one({"EXISTS", lock_key(key)}).integer == 0; }));
    }

    // Revocations: under another fleet key, garbage, truncated: each rejected, no listener call.
    const std::string forged = genesys::detail::shared_cache_revocation(other_fleet(), key.digest);
    const std::string genuine = genesys::detail::shared_cache_revocation(fleet(), key.digest);
    CHECK(redis.one({"PUBLISH", "genesys:tv:revoke", forged}).integer == 1);
    CHECK(redis.one({"PUBLISH", "genesys:tv:revoke", "not a revocation"}).integer == 1);
    CHECK(redis.one({"PUBLISH", "genesys:tv:revoke", genuine.substr(0, 127) + "0"}).integer == 1);
    REQUIRE(eventually([&] { return a.stats().revocations_rejected == 3; }));
    CHECK(listener->revoked_count() == 0);
    CHECK(redis.one({"PUBLISH", "genesys:tv:revoke", genuine}).integer == 1);
    REQUIRE(eventually([&] { return listener->has(key); }));
    CHECK(a.stats().revocations_received == 1);
}

TEST_CASE("redis_shared_cache: Redis stopped (SIGSTOP): a lookup ends within command_timeout, then at once (breaker), and it comes back")
{
    testredis::redis_process server;
    auto o = server.client_options(1s);
    o.command_timeout = 300ms;
    o.connect_timeout = 300ms;
    genesys::redis_shared_cache a(o, fleet());
    auto listener = std::make_shared<recorder>();
    a.add_listener(listener);
    REQUIRE(eventually([&] { return connected(a); }));
    {
        admin redis(server);
        REQUIRE(eventually([&] { return redis.subscribers() == 1; }));
    }
    const auto key = a.key_of(base, false, token);

    server.pause();
    auto first = lookup(a, key);
    REQUIRE(first.value);
    CHECK_FALSE(first.value->answer);
    CHECK(first.value->lock.empty());
    CHECK(first.took < 3s); // bounded by command_timeout, give or take the machine
    CHECK(a.stats().errors >= 1);
    CHECK(a.stats().breaker_open);
    CHECK_FALSE(a.stats().connected);

    const auto unavailable = a.stats().unavailable;
    auto second = lookup(a, key);
    REQUIRE(second.value);
    CHECK_FALSE(second.value->answer);
    CHECK(a.stats().unavailable == unavailable + 1); // answered without asking Redis
    CHECK(second.took < 3s);

    std::this_thread::sleep_for(1500ms); // the subscriber's heartbeat PING times out meanwhile
    server.resume();
    REQUIRE(eventually([&] { return connected(a); }, 15s));
    CHECK_FALSE(a.stats().breaker_open);
    CHECK(a.stats().reconnects >= 1);
    auto third = lookup(a, key);
    REQUIRE(third.value);
    CHECK_FALSE(third.value->lock.empty()); // Redis answers again
    // The subscriber's heartbeat timed out too: it subscribed again, and said so.
    REQUIRE(eventually([&] { return listener->missed >= 1; }, 15s));
}

TEST_CASE("redis_shared_cache: Redis killed and restarted: reconnects, subscribes again, on_revocations_missed")
{
    testredis::redis_process server;
    genesys::redis_shared_cache_options opts;
    opts.backoff_initial = 50ms;
    opts.backoff_max = 200ms;
    genesys::redis_shared_cache a(server.client_options(1s), fleet(), opts);
    genesys::redis_shared_cache b(server.client_options(1s), fleet(), opts);
    auto la = std::make_shared<recorder>();
    auto lb = std::make_shared<recorder>();
    a.add_listener(la);
    b.add_listener(lb);
    {
        admin redis(server);
        REQUIRE(eventually([&] { return connected(a) && connected(b) && redis.subscribers() == 2; }));
    }
    CHECK(la->missed == 0); // not on the first subscription

    server.restart(); // SIGKILL, then a new (empty) server on the same port
    REQUIRE(eventually([&] { return la->missed >= 1 && lb->missed >= 1; }, 15s));
    // Each finds out its command connection is gone (the heartbeat looks every second) and connects again.
    REQUIRE(eventually([&] { return a.stats().reconnects >= 1 && b.stats().reconnects >= 1; }, 15s));
    REQUIRE(eventually([&] { return connected(a) && connected(b); }, 15s));

    // It works again, revocations included.
    const auto key = a.key_of(base, false, token);
    auto r = lookup(a, key);
    REQUIRE(r.value);
    REQUIRE_FALSE(r.value->lock.empty());
    a.store(key, valid_answer(), r.value->lock);
    REQUIRE(eventually([&] { return a.stats().stores == 1; }));
    auto hit = lookup(b, key);
    REQUIRE(hit.value->answer);
    a.revoke(key);
    REQUIRE(eventually([&] { return lb->has(key); }));
}

TEST_CASE("redis_shared_cache: runs under the least-privilege ACL user, a command outside it is refused")
{
    testredis::redis_process server;
    admin root(server);
    // Exactly the guide's (docs/fleet.md) least privilege.
    auto ok = root.one({"ACL", "SETUSER", "validator", "on", ">validator-Pa55-5d1c", "resetkeys", "~genesys:tv:*",
                        "resetchannels", "&genesys:tv:*", "-@all", "+get", "+set", "+del", "+eval", "+publish",
                        "+subscribe", "+ping"});
    REQUIRE(ok.text == "OK");
    auto o = server.client_options(1s);
    o.username = "validator";
    o.password = "validator-Pa55-5d1c";
    genesys::redis_shared_cache a(o, fleet());
    genesys::redis_shared_cache b(o, fleet());
    auto lb = std::make_shared<recorder>();
    b.add_listener(lb);
    REQUIRE(eventually([&] { return connected(a) && connected(b) && root.subscribers() == 2; }));

    const auto key = a.key_of(base, false, token);
    auto r = lookup(a, key);
    REQUIRE_FALSE(r.value->lock.empty());
    a.store(key, valid_answer(), r.value->lock); // SET PX and the EVAL compare-and-delete
    REQUIRE(eventually([&] { return a.stats().stores == 1; }));
    CHECK(root.one({"EXISTS", lock_key(key)}).integer == 0);
    CHECK(lookup(b, key).value->answer);
    b.store(key, unauthorized_answer(), ""); // SET ... GET, then PUBLISH
    REQUIRE(eventually([&] { return lb->has(key); }));
    a.revoke(key); // DEL + PUBLISH
    REQUIRE(eventually([&] { return a.stats().revocations_sent == 1 && b.stats().revocations_received == 2; }));
    CHECK(a.stats().errors == 0);
    CHECK(b.stats().errors == 0);
    // Let the heartbeats PING once.
    std::this_thread::sleep_for(1200ms);
    CHECK(a.stats().errors == 0);
    CHECK(b.stats().connected);

    // The same user, by hand: anything else is refused.
    REQUIRE(root.one({"SET", "sentinel", "1"}).text == "OK");
    admin user(o);
    auto refused = user.exec({{"FLUSHALL"}, {"GET", "other:key"}, {"KEYS", "*"}, {"CONFIG", "GET", "*"},
                              {"PUBLISH", "other-channel", "x"}});
    for (const auto& reply : refused) {
        INFO(reply.text);
        CHECK(reply.is_error());
        CHECK(reply.text.starts_with("NOPERM"));
    }
    CHECK(root.one({"EXISTS", "sentinel"}).integer == 1); // nothing flushed
}

TEST_CASE("redis_shared_cache: over TLS")
{
    testredis::redis_process server(true);
    auto o = server.client_options(1s);
    o.port = static_cast<std::uint16_t>(server.tls_port());
    o.tls = true;
    o.ca_file = server.ca_file();
    genesys::redis_shared_cache a(o, fleet());
    genesys::redis_shared_cache b(o, fleet());
    auto lb = std::make_shared<recorder>();
    b.add_listener(lb);
    REQUIRE(eventually([&] { return connected(a) && connected(b); }));
    const auto key = a.key_of(base, false, token);
    auto r = lookup(a, key);
    REQUIRE_FALSE(r.value->lock.empty());
    a.store(key, valid_answer(), r.value->lock);
    REQUIRE(eventually([&] { return a.stats().stores == 1; }));
    CHECK(lookup(b, key).value->answer);
    // b subscribes over TLS too: wait for it (the admin connection is plain).
    admin root(server);
    REQUIRE(eventually([&] { return root.subscribers() == 2; }));
    a.revoke(key);
    REQUIRE(eventually([&] { return lb->has(key); }));
}

TEST_CASE("redis_shared_cache: a scan of every key and value in Redis finds no byte of the token")
{
    testredis::redis_process server;
    admin redis(server);
    genesys::redis_shared_cache_options opts;
    opts.lock_ttl = 60s;
    genesys::redis_shared_cache a(server.client_options(1s), fleet(), opts);
    REQUIRE(eventually([&] { return connected(a); }));

    std::vector<std::string> tokens;
    for (int i = 0; i < 20; ++i)
        tokens.push_back(token + "-" + std::to_string(i));
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        for (bool preserve : {false, true}) {
            const auto key = a.key_of(base, preserve, tokens[i]);
            auto r = lookup(a, key);
            REQUIRE_FALSE(r.value->lock.empty());
            if (i % 4 == 0)
                continue; // the lock stays
            shared_answer answer = i % 4 == 1 ? valid_answer() : unauthorized_answer();
            if (i % 4 == 3) {
                answer.kind = shared_answer_kind::rate_limited;
                answer.info = {};
            }
            a.store(key, answer, r.value->lock);
        }
    }
    REQUIRE(eventually([&] { return a.stats().stores == 30; }));
    a.revoke(a.key_of(base, false, tokens[1]));
    REQUIRE(eventually([&] { return a.stats().revocations_sent == 1; }));

    const auto keys = redis.keys();
    CHECK(keys.size() == 40 - 1); // 10 locks, 30 entries, one revoked
    for (const auto& k : keys) {
        auto values = redis.exec({{"GET", k}, {"DUMP", k}});
        const std::string all = k + values.at(0).text + values.at(1).text;
        for (const auto& t : tokens) {
            CHECK(all.find(t) == std::string::npos);
            CHECK(all.find(t.substr(0, 12)) == std::string::npos); // not even its start
            CHECK(all.find(t.substr(t.size() - 12)) == std::string::npos);
        }
    }
}

TEST_CASE("redis_shared_cache: destroyed with lookups pending, each handler is called once with {} and nothing is used after")
{
    testredis::redis_process server;
    auto o = server.client_options(1s);
    o.command_timeout = 5s;

    struct probe {
        std::atomic<int>* destroyed = nullptr;
        ~probe() { ++*destroyed; }
    };
    std::atomic<int> calls{0}, empty{0}, destroyed{0};
    auto make_handler = [&] {
        auto p = std::make_shared<probe>();
        p->destroyed = &destroyed;
        return [&calls, &empty, p](shared_lookup r) { // holds the last reference to the probe
            ++calls;
            if (!r.answer && r.lock.empty())
                ++empty;
        };
    };

    SUBCASE("its own I/O thread")
    {
        {
            genesys::redis_shared_cache a(o, fleet());
            REQUIRE(eventually([&] { return connected(a); }));
            server.pause();
            const auto key = a.key_of(base, false, token);
            for (int i = 0; i < 3; ++i)
                a.async_lookup(key, make_handler());
            std::this_thread::sleep_for(50ms);
            CHECK(calls.load() == 0);
        } // the GETs are pending: Redis is stopped
        CHECK(calls.load() == 3);
        CHECK(empty.load() == 3);
        CHECK(destroyed.load() == 3);
        server.resume();
    }
    SUBCASE("the caller's executor")
    {
        boost::asio::io_context ioc;
        {
            genesys::redis_shared_cache a(ioc.get_executor(), o, fleet());
            const auto until = clock_type::now() + 10s;
            while (!connected(a) && clock_type::now() < until)
                ioc.run_for(5ms);
            REQUIRE(connected(a));
            server.pause();
            const auto key = a.key_of(base, false, token);
            for (int i = 0; i < 3; ++i)
                a.async_lookup(key, make_handler());
            ioc.run_for(50ms);
            CHECK(calls.load() == 0);
        }
        CHECK(calls.load() == 0); // never from inside the destructor
        const auto until = clock_type::now() + 5s;
        while (calls < 3 && clock_type::now() < until)
            ioc.run_for(5ms);
        CHECK(calls.load() == 3);
        CHECK(empty.load() == 3);
        ioc.run_for(50ms);
        CHECK(calls.load() == 3);
        CHECK(destroyed.load() == 3);
        server.resume();
        ioc.run_for(50ms);
    }
}

TEST_CASE("redis_shared_cache: a bad configuration throws at construction, without a secret in the message")
{
    genesys::redis_options o;
    o.password = "Secret-pa55word-8e1f";
    auto message_of = [](auto&& make) -> std::string {
        try {
            make();
        } catch (const genesys::invalid_argument_error& e) {
            return e.what();
        }
        return "(nothing thrown)";
    };
    genesys::redis_shared_cache_options bad;
    bad.lock_ttl = 0ms;
    auto m1 = message_of([&] { genesys::redis_shared_cache c(o, fleet(), bad); });
    CHECK(m1.find("lock_ttl") != std::string::npos);
    bad = {};
    bad.breaker_failures = 0;
    CHECK(message_of([&] { genesys::redis_shared_cache c(o, fleet(), bad); }).find("breaker_failures") != std::string::npos);
    bad = {};
    bad.backoff_max = 1ms;
    CHECK(message_of([&] { genesys::redis_shared_cache c(o, fleet(), bad); }).find("backoff") != std::string::npos);
    auto tls = o;
    tls.tls = true;
    tls.ca_file = "/nonexistent/ca.pem";
    const auto m2 = message_of([&] { genesys::redis_shared_cache c(tls, fleet()); });
    CHECK(m2.find("ca.pem") != std::string::npos);
    for (const auto& m : {m1, m2}) {
        CHECK(m.find("Secret-pa55word") == std::string::npos);
        CHECK(m.find("fleet-key-of-the-test") == std::string::npos);
    }
    boost::asio::io_context ioc;
    CHECK_THROWS_AS(genesys::redis_shared_cache(ioc.get_executor(), tls, fleet()), genesys::invalid_argument_error);
}

TEST_CASE("redis_shared_cache: error replies open the breaker after breaker_failures in a row, it closes on reconnect")
{
    testredis::redis_process server;
    admin redis(server);
    genesys::redis_shared_cache_options opts;
    opts.breaker_failures = 3;
    opts.backoff_initial = 2s; // long enough to see it open
    opts.backoff_max = 2s;
    genesys::redis_shared_cache a(server.client_options(1s), fleet(), opts);
    REQUIRE(eventually([&] { return connected(a); }));
    const auto key = a.key_of(base, false, token);
    // Not a string: GET answers -WRONGTYPE.
    REQUIRE(redis.one({"RPUSH", entry_key(key), "x"}).integer == 1);
    for (int i = 0; i < 3; ++i) {
        auto r = lookup(a, key);
        REQUIRE(r.value);
        CHECK_FALSE(r.value->answer);
        CHECK(r.value->lock.empty());
    }
    CHECK(a.stats().errors == 3);
    CHECK(a.stats().breaker_open);
    auto r = lookup(a, key);
    REQUIRE(r.value);
    CHECK(a.stats().unavailable == 1); // not asked
    CHECK(a.stats().errors == 3);
    REQUIRE(redis.one({"DEL", entry_key(key)}).integer == 1);
    REQUIRE(eventually([&] { return connected(a); }, 10s));
    CHECK_FALSE(a.stats().breaker_open);
    CHECK(a.stats().reconnects == 1);
    auto back = lookup(a, key);
    CHECK_FALSE(back.value->lock.empty());
}

TEST_CASE("redis_shared_cache: destroyed on its own I/O thread by a handler holding the last reference")
{
    testredis::redis_process server;
    auto cache = std::make_shared<genesys::redis_shared_cache>(server.client_options(1s), fleet());
    REQUIRE(eventually([&] { return cache->stats().connected; }));
    const auto key = cache->key_of(base, false, token);
    auto ended = std::make_shared<std::promise<void>>();
    auto f = ended->get_future();
    cache->async_lookup(key, [holder = cache, ended](shared_lookup) mutable {
        holder.reset(); // the last reference: the cache is destroyed here, on its own thread
        ended->set_value();
    });
    cache.reset();
    REQUIRE(f.wait_for(10s) == std::future_status::ready);
}

TEST_CASE("redis_shared_cache: destroyed after the caller stopped its context, then the context destroyed")
{
    // The pattern of a service's exit: stop the context, join its thread, destroy the objects. The
    // cache's shutdown never runs; nothing may crash, and nothing may be left behind (ASan's leak check).
    testredis::redis_process server;
    auto o = server.client_options(1s);
    o.command_timeout = 5s;
    int calls = 0;
    {
        boost::asio::io_context ioc;
        auto cache = std::make_shared<genesys::redis_shared_cache>(ioc.get_executor(), o, fleet());
        const auto until = clock_type::now() + 10s;
        while (!cache->stats().connected && clock_type::now() < until)
            ioc.run_for(5ms);
        REQUIRE(cache->stats().connected);
        server.pause();
        cache->async_lookup(cache->key_of(base, false, token), [&calls](shared_lookup) { ++calls; });
        ioc.run_for(20ms); // the GET is written, its reply pending
        ioc.stop();
        cache.reset();
    }
    CHECK(calls == 0); // nobody ran the context: the handler was destroyed, never called
    server.resume();
}

TEST_CASE("redis_shared_cache: a hit asked on the context's thread takes one turn of the context, never inline")
{
    testredis::redis_process server;
    boost::asio::io_context ioc;
    auto o = server.client_options(1s);
    o.command_timeout = 10s; // no deadline watchdog firing during the test
    genesys::redis_shared_cache_options so;
    so.heartbeat_interval = std::chrono::hours(1); // no PING during the test
    genesys::redis_shared_cache cache(ioc.get_executor(), o, fleet(), so);
    const auto key = cache.key_of(base, false, token);

    // Before the connection is up: unavailable, answered later, not from inside the call.
    std::optional<shared_lookup> early;
    bool early_inline = false;
    boost::asio::post(ioc, [&] {
        cache.async_lookup(key, [&](shared_lookup r) { early = std::move(r); });
        early_inline = early.has_value();
    });
    const auto deadline = clock_type::now() + 10s;
    while ((!early || !connected(cache)) && clock_type::now() < deadline)
        ioc.run_for(5ms);
    REQUIRE(early);
    CHECK_FALSE(early_inline);
    CHECK_FALSE(early->answer);
    REQUIRE(connected(cache));
    cache.store(key, valid_answer(), "");
    while (cache.stats().stores == 0 && clock_type::now() < deadline)
        ioc.run_for(5ms);
    REQUIRE(cache.stats().stores == 1);

    for (int i = 0; i < 20; ++i) {
        std::optional<shared_lookup> result;
        bool inline_call = false;
        ioc.restart();
        ioc.poll();
        boost::asio::post(ioc, [&] {
            cache.async_lookup(key, [&](shared_lookup r) { result = std::move(r); });
            inline_call = result.has_value();
        });
        // The posted call, then the read of the GET's reply, which answers: no hop to the
        // cache's strand, none to the connection's, no write completion, no timer per command.
        std::size_t handlers = 0;
        while (!result && handlers < 100)
            handlers += ioc.run_one();
        REQUIRE(result);
        CHECK_FALSE(inline_call);
        REQUIRE(result->answer);
        CHECK(result->answer->kind == shared_answer_kind::valid);
        CHECK(handlers == 2);
    }
    CHECK(cache.stats().hits == 20);
}
