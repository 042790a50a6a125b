// SPDX-License-Identifier: BSL-1.0
// <genesys/async_token_validator.hpp> with a shared cache (token_validator_options::shared_cache),
// over the async fake transport and an in-memory shared cache (no Redis): one API call for two
// instances, the lookup's answer going on on the transport's executor (at once when the cache
// answers on a thread running it, posted otherwise, the handler always posted), a cache
// unavailable, an io_context destroyed while a lookup waits, and async_delete_tokens_me revoking
// fleet-wide.
#include <genesys/async_token_validator.hpp>
#include <genesys/async_tokens_api.hpp>
#include <genesys/testing/async_fake_transport.hpp>

#include "fixtures.hpp"
#include "forgetful_async_transport.hpp"
#include "heap_scan.hpp"
#include "memory_shared_cache.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace asio = boost::asio;
using genesys::http_response;
using genesys::testing::async_fake_transport;
using genesys::testing::memory_shared_cache;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view valid_body =
    R"({"organization":{"id":"org-1","name":"Acme"},"authorizedScope":["users:readonly"],"OAuthClient":{"id":"client-1","name":"Desktop"}})";

constexpr std::string_view base_url = "https://api.mypurecloud.com";

genesys::token_validator_config config() { return {.base_url = std::string(base_url)}; }

using validator = genesys::token_validator<async_fake_transport>;

/// A shared key made of the token's first bytes (for the test caches below: no HMAC needed).
genesys::shared_token_key key_of_token(std::string_view token)
{
    genesys::shared_token_key k;
    for (std::size_t i = 0; i < token.size() && i < k.digest.size(); ++i)
        k.digest[i] = static_cast<unsigned char>(token[i]);
    return k;
}

/// Runs `ioc` (bounded) until `done()`: the shared cache answers on its own thread, so the
/// io_context may have no work for a while.
bool run_until(asio::io_context& ioc, const std::function<bool()>& done)
{
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline)
            return false;
        ioc.restart();
        ioc.run_for(2ms);
    }
    return true;
}

using fixtures::forgetful_async_transport;

/// `forgetful_async_transport` telling on which threads it (and its copies) were destroyed.
struct tracked_transport : forgetful_async_transport {
    struct record {
        std::mutex m;
        std::vector<std::thread::id> destroyed_on;
    };
    std::shared_ptr<record> rec = std::make_shared<record>();
    tracked_transport(executor_type ex, std::string body) : forgetful_async_transport{std::move(ex), std::move(body)} {}
    tracked_transport(const tracked_transport&) = default;
    tracked_transport(tracked_transport&&) = default;
    ~tracked_transport()
    {
        if (rec) {
            std::lock_guard lock(rec->m);
            rec->destroyed_on.push_back(std::this_thread::get_id());
        }
    }
};

} // namespace

TEST_CASE("async shared cache: two instances asking for a new token at once make one API call")
{
    asio::io_context ioc;
    auto cache = std::make_shared<memory_shared_cache>([] { return std::chrono::system_clock::now(); });
    async_fake_transport f1{ioc.get_executor()}, f2{ioc.get_executor()};
    f1.respond_by_default(fixtures::json_response(200, std::string(valid_body)));
    f2.respond_by_default(fixtures::json_response(200, std::string(valid_body)));
    genesys::token_validator_options o;
    o.shared_cache = cache;
    validator v1{f1, config(), o};
    validator v2{f2, config(), o};

    int ok = 0, calls = 0;
    std::thread::id handler_thread;
    for (int i = 0; i < 10; ++i)
        (i % 2 ? v1 : v2).async_validate("new-token", [&](genesys::result<genesys::validated_token> r) {
            ++calls;
            ok += r.has_value() && r->info().organization->id == "org-1";
            handler_thread = std::this_thread::get_id();
        });
    CHECK(calls == 0); // never inline
    REQUIRE(run_until(ioc, [&] { return calls == 10; }));
    CHECK(ok == 10);
    CHECK(handler_thread == std::this_thread::get_id()); // on the io_context, not the cache's thread
    CHECK(f1.request_count() + f2.request_count() == 1);
    CHECK(cache->stats().stores == 1);
    CHECK(cache->stats().hits == 1); // the other instance: the fleet's answer (waited for, or read)
    CHECK(v1.stats().checks_in_flight == 0);
    CHECK(v2.stats().checks_in_flight == 0);

    // A blocking-free hit afterwards, from each instance's own cache.
    int hits = 0;
    v1.async_validate("new-token", [&](auto r) { hits += r.has_value(); });
    v2.async_validate("new-token", [&](auto r) { hits += r.has_value(); });
    REQUIRE(run_until(ioc, [&] { return hits == 2; }));
    CHECK(f1.request_count() + f2.request_count() == 1);
}

TEST_CASE("async shared cache: unavailable, the check is made, and right")
{
    asio::io_context ioc;
    auto cache = std::make_shared<memory_shared_cache>([] { return std::chrono::system_clock::now(); });
    cache->set_unavailable(true);
    async_fake_transport fake{ioc.get_executor()};
    fake.respond(fixtures::json_response(401, R"({"message":"no","status":401})"));
    genesys::token_validator_options o;
    o.shared_cache = cache;
    validator v{fake, config(), o};
    std::optional<genesys::result<genesys::validated_token>> got;
    v.async_validate("bad", [&](auto r) { got.emplace(std::move(r)); });
    REQUIRE(run_until(ioc, [&] { return got.has_value(); }));
    REQUIRE_FALSE(*got);
    CHECK(got->error().status == 401);
    CHECK(fake.request_count() == 1);
    CHECK(cache->stats().unavailable == 1);
}

TEST_CASE("async shared cache: a fleet's answer that is a 429 ends the check without an API call")
{
    asio::io_context ioc;
    auto cache = std::make_shared<memory_shared_cache>([] { return std::chrono::system_clock::now(); });
    const auto now = std::chrono::system_clock::now();
    cache->store(cache->key_of(base_url, true, "busy"),
                 {genesys::shared_answer_kind::rate_limited, now, now + 30s, {}}, {});
    async_fake_transport fake{ioc.get_executor()};
    genesys::token_validator_options o;
    o.shared_cache = cache;
    validator v{fake, config(), o};
    std::optional<genesys::result<genesys::validated_token>> got;
    v.async_validate("busy", [&](auto r) { got.emplace(std::move(r)); });
    REQUIRE(run_until(ioc, [&] { return got.has_value(); }));
    REQUIRE_FALSE(*got);
    CHECK(got->error().status == 429);
    CHECK(got->error().code == genesys::condition::rate_limited);
    CHECK(fake.request_count() == 0);
    CHECK(v.stats().rate_limited == 1);
    CHECK(v.stats().checks_in_flight == 0);
}

TEST_CASE("async shared cache: an io_context destroyed while a lookup waits: the check ends, nothing leaks")
{
    auto cache = std::make_shared<memory_shared_cache>([] { return std::chrono::system_clock::now(); });
    cache->set_silent(true);
    genesys::token_validator_options o;
    o.shared_cache = cache;
    int ran = 0;
    auto* ioc = new asio::io_context;
    async_fake_transport fake{ioc->get_executor()};
    fake.respond_by_default(fixtures::json_response(200, std::string(valid_body)));
    std::optional<validator> v;
    v.emplace(fake, config(), o);
    for (int i = 0; i < 3; ++i)
        v->async_validate("tok", [&](auto) { ++ran; });
    ioc->restart();
    ioc->poll();
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (cache->waiting() == 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(1ms);
    REQUIRE(cache->waiting() == 1);
    CHECK(v->stats().checks_in_flight == 1);
    delete ioc; // the lookup is abandoned: its check ends, its room is given back
    CHECK(ran == 0);
    CHECK(v->stats().checks_in_flight == 0);
    v.reset();
    cache.reset(); // answers the abandoned lookup, late: dropped
}

namespace {

/// A shared cache that keeps each lookup's handler until the test answers it, on the test's
/// thread (not the io_context's: the answer is posted there), with "check it yourself".
class manual_shared_cache final : public genesys::shared_token_cache {
public:
    ~manual_shared_cache() override
    {
        for (std::size_t i = 0; i < pending_.size(); ++i) // every handler is called, once
            answer(i);
    }

    genesys::shared_token_key key_of(std::string_view, bool, std::string_view token) const override
    {
        return key_of_token(token);
    }
    void async_lookup(const genesys::shared_token_key&, std::function<void(genesys::shared_lookup&&)> done) override
    {
        std::lock_guard lock(mutex_);
        pending_.push_back(std::move(done));
    }
    void store(const genesys::shared_token_key&, const genesys::shared_answer&, std::string) override {}
    void release(const genesys::shared_token_key&, std::string) override {}
    void revoke(const genesys::shared_token_key&) override {}
    void add_listener(std::weak_ptr<genesys::shared_token_cache_listener>) override {}
    genesys::shared_token_cache_stats stats() const override { return {}; }

    std::size_t lookups() const
    {
        std::lock_guard lock(mutex_);
        return pending_.size();
    }

    /// Calls the `i`-th lookup's handler (nothing if called already).
    void answer(std::size_t i)
    {
        std::function<void(genesys::shared_lookup&&)> done;
        {
            std::lock_guard lock(mutex_);
            done = std::exchange(pending_.at(i), nullptr);
        }
        if (done)
            done(genesys::shared_lookup{});
    }

private:
    mutable std::mutex mutex_;
    std::vector<std::function<void(genesys::shared_lookup&&)>> pending_;
};

} // namespace

TEST_CASE("async shared cache: lookups answered in any order go on, those left when the io_context goes are abandoned")
{
    // The io_context's registry of the lookups waiting: five linked; the middle, last and first
    // taken out by their answers; the two left abandoned by the io_context's end.
    auto cache = std::make_shared<manual_shared_cache>();
    genesys::token_validator_options o;
    o.shared_cache = cache;
    auto* ioc = new asio::io_context;
    async_fake_transport fake{ioc->get_executor()};
    fake.respond_by_default(fixtures::json_response(200, std::string(valid_body)));
    std::optional<validator> v;
    v.emplace(fake, config(), o);
    std::vector<int> answered(5, 0);
    for (int i = 0; i < 5; ++i)
        v->async_validate("token-" + std::to_string(i), [&answered, i](auto r) { answered[i] += r ? 1 : 100; });
    ioc->restart();
    ioc->poll();
    REQUIRE(cache->lookups() == 5);
    CHECK(v->stats().checks_in_flight == 5);
    for (const std::size_t i : {2u, 4u, 0u}) // token-4 was linked last, token-0 first
        cache->answer(i);
    REQUIRE(run_until(*ioc, [&] { return answered[0] + answered[2] + answered[4] == 3; }));
    CHECK(answered == std::vector<int>{1, 0, 1, 0, 1});
    CHECK(fake.request_count() == 3); // each checked at the API ("check it yourself")
    CHECK(v->stats().checks_in_flight == 2);
    delete ioc; // token-1 and token-3 are abandoned: their checks end, their room is given back
    CHECK(v->stats().checks_in_flight == 0);
    CHECK(answered == std::vector<int>{1, 0, 1, 0, 1});
    v.reset();
    cache.reset(); // answers the abandoned lookups, late: dropped
    CHECK(answered == std::vector<int>{1, 0, 1, 0, 1});
}

TEST_CASE("async shared cache: async_delete_tokens_me through a client that has it revokes the token")
{
    asio::io_context ioc;
    auto cache = std::make_shared<memory_shared_cache>([] { return std::chrono::system_clock::now(); });
    async_fake_transport fake{ioc.get_executor()};
    fake.respond(http_response{204, {}, {}});
    genesys::client_config cc;
    cc.base_url = std::string(base_url);
    cc.access_token = "tok-1";
    cc.shared_cache = cache;
    genesys::async_tokens_api api{fake, cc};
    bool done = false;
    api.async_delete_tokens_me([&](auto r) { done = r.has_value(); });
    ioc.run();
    CHECK(done);
    const auto revoked = cache->revoked();
    REQUIRE(revoked.size() == 2);
    CHECK(revoked[0] == cache->key_of(base_url, true, "tok-1"));
    CHECK(revoked[1] == cache->key_of(base_url, false, "tok-1"));
}

TEST_CASE("async shared cache: after a check and a fleet hit, the token is nowhere in the process's heap" *
          doctest::skip(heap_scan::unsupported))
{
    asio::io_context ioc;
    auto cache = std::make_shared<memory_shared_cache>([] { return std::chrono::system_clock::now(); });
    genesys::token_validator_options o;
    o.shared_cache = cache;
    genesys::token_validator<forgetful_async_transport> v1{
        forgetful_async_transport{ioc.get_executor(), std::string(valid_body)}, config(), o};
    genesys::token_validator<forgetful_async_transport> v2{
        forgetful_async_transport{ioc.get_executor(), std::string(valid_body)}, config(), o};
    heap_scan::secret s;
    CHECK(heap_scan::contains(s.needle));
    int ok = 0;
    v1.async_validate(s.token, [&](auto r) { ok += r.has_value(); }); // the API call
    REQUIRE(run_until(ioc, [&] { return ok == 1; }));
    v2.async_validate(s.token, [&](auto r) { ok += r.has_value(); }); // the fleet's answer
    REQUIRE(run_until(ioc, [&] { return ok == 2; }));
    CHECK(cache->stats().hits == 1);
    genesys::detail::wipe(s.token);
    CHECK_FALSE(heap_scan::contains(s.needle));
}

TEST_CASE("async shared cache: the cache's thread never holds the last reference to a validator")
{
    // A shared cache holding the last reference to a validator would destroy it on its own
    // thread, and with it (through its options) possibly the cache itself, which then joins its
    // own thread. The lookup's handler must not own the validator.
    asio::io_context ioc;
    auto cache = std::make_shared<memory_shared_cache>([] { return std::chrono::system_clock::now(); });
    cache->hold_handlers();
    genesys::token_validator_options o;
    o.shared_cache = cache;
    auto rec = std::make_shared<tracked_transport::record>();
    {
        tracked_transport t{ioc.get_executor(), std::string(valid_body)};
        t.rec = rec;
        std::optional<genesys::token_validator<tracked_transport>> v;
        v.emplace(std::move(t), config(), o);
        int ok = 0;
        v->async_validate("tok-1", [&](auto r) { ok += r.has_value(); });
        REQUIRE(run_until(ioc, [&] { return ok == 1; }));
        v.reset(); // the caller lets the validator go while the cache's thread still holds the handler
        ioc.restart();
        ioc.poll();
    }
    cache->let_handlers_go();
    cache->inspect([] {}); // the cache's thread is past the handler
    std::lock_guard lock(rec->m);
    for (const auto& id : rec->destroyed_on)
        CHECK(id != cache->thread_id());
    CHECK_FALSE(rec->destroyed_on.empty());
}

namespace {

/// A shared cache answering on an io_context's thread (as `redis_shared_cache` on the
/// transport's io_context does): every lookup is answered with `reply`, posted to `ex`, never
/// inline; `after_answer` runs in the same handler, just after the validator's callback returned.
struct executor_shared_cache final : genesys::shared_token_cache {
    asio::any_io_executor ex;
    genesys::shared_lookup reply;
    std::function<void()> after_answer;
    std::mutex m;
    std::vector<std::string> stored, released; // the locks handed back

    explicit executor_shared_cache(asio::any_io_executor e) : ex(std::move(e)) {}

    genesys::shared_token_key key_of(std::string_view, bool, std::string_view token) const override
    {
        return key_of_token(token);
    }
    void async_lookup(const genesys::shared_token_key&, std::function<void(genesys::shared_lookup&&)> done) override
    {
        asio::post(ex, [this, done = std::move(done)] {
            done(genesys::shared_lookup(reply));
            if (after_answer)
                after_answer();
        });
    }
    void store(const genesys::shared_token_key&, const genesys::shared_answer&, std::string lock) override
    {
        std::lock_guard l(m);
        stored.push_back(std::move(lock));
    }
    void release(const genesys::shared_token_key&, std::string lock) override
    {
        std::lock_guard l(m);
        released.push_back(std::move(lock));
    }
    void revoke(const genesys::shared_token_key&) override {}
    void add_listener(std::weak_ptr<genesys::shared_token_cache_listener>) override {}
    genesys::shared_token_cache_stats stats() const override { return {}; }
};

genesys::shared_answer fleet_hit()
{
    genesys::shared_answer a;
    a.kind = genesys::shared_answer_kind::valid;
    a.fetched_at = std::chrono::system_clock::now();
    a.expires_at = a.fetched_at + 1h;
    return a;
}

} // namespace

TEST_CASE("async shared cache: an answer on the transport's io_context goes on at once, the handler still posted")
{
    asio::io_context ioc;
    auto cache = std::make_shared<executor_shared_cache>(ioc.get_executor());
    async_fake_transport fake{ioc.get_executor()};
    fake.respond_by_default(fixtures::json_response(200, std::string(valid_body)));
    genesys::token_validator_options o;
    o.shared_cache = cache;
    validator v{fake, config(), o};
    int calls = 0, ok = 0;
    auto handler = [&](genesys::result<genesys::validated_token> r) {
        ++calls;
        ok += r.has_value();
    };

    SUBCASE("a miss with the lock: the check starts inside the cache's handler")
    {
        cache->reply = {std::nullopt, "lock-1"};
        std::optional<std::size_t> sent_at_answer;
        cache->after_answer = [&] { sent_at_answer = fake.request_count(); };
        v.async_validate("tok-miss", handler);
        CHECK(calls == 0); // never inline
        REQUIRE(run_until(ioc, [&] { return calls == 1; }));
        CHECK(ok == 1);
        REQUIRE(sent_at_answer.has_value());
        CHECK(*sent_at_answer == 1); // no hop through the io_context's queue
        std::lock_guard l(cache->m);
        CHECK(cache->stored == std::vector<std::string>{"lock-1"});
    }
    SUBCASE("a hit (with a lock to hand back): the cache is called again from inside its handler, the handler is posted")
    {
        cache->reply = {fleet_hit(), "lock-2"};
        std::optional<int> calls_at_answer;
        std::optional<std::size_t> released_at_answer;
        cache->after_answer = [&] {
            calls_at_answer = calls;
            std::lock_guard l(cache->m);
            released_at_answer = cache->released.size();
        };
        v.async_validate("tok-hit", handler);
        CHECK(calls == 0); // never inline
        REQUIRE(run_until(ioc, [&] { return calls == 1; }));
        CHECK(ok == 1);
        CHECK(fake.request_count() == 0);
        REQUIRE(calls_at_answer.has_value());
        CHECK(*calls_at_answer == 0); // the completion is posted (post_to_handler), not run inside the cache's handler
        REQUIRE(released_at_answer.has_value());
        CHECK(*released_at_answer == 1); // the flight ended inside the cache's handler
    }
}

TEST_CASE("async shared cache: an answer on the io_context but outside the transport's strand is posted to the strand")
{
    asio::io_context ioc;
    auto cache = std::make_shared<executor_shared_cache>(ioc.get_executor());
    cache->reply = {std::nullopt, "lock-1"};
    async_fake_transport fake{asio::make_strand(ioc)};
    fake.respond_by_default(fixtures::json_response(200, std::string(valid_body)));
    genesys::token_validator_options o;
    o.shared_cache = cache;
    validator v{fake, config(), o};
    std::optional<std::size_t> sent_at_answer;
    cache->after_answer = [&] { sent_at_answer = fake.request_count(); };
    int calls = 0, ok = 0;
    v.async_validate("tok", [&](auto r) {
        ++calls;
        ok += r.has_value();
    });
    REQUIRE(run_until(ioc, [&] { return calls == 1; }));
    CHECK(ok == 1);
    REQUIRE(sent_at_answer.has_value());
    CHECK(*sent_at_answer == 0); // not run inline: the cache's handler is not in the strand
    CHECK(fake.request_count() == 1);
}
