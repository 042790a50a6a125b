// SPDX-License-Identifier: BSL-1.0
// The fleet validator (a Redis shared cache behind the in-process one), side by side in one run:
//   1. a shared-cache hit (a validation the in-process cache misses and Redis answers) against
//      a raw hiredis GET round trip of the same entry over the same kind of connection (TCP on
//      loopback, AUTH, non-blocking on an Asio io_context: hiredis formats and parses, nothing
//      else), one at a time; the shared cache's lookup alone; and a blocking hiredis GET;
//   2. an in-process hit with a shared cache configured against one without;
//   3. API calls per token for 1, 2, 4 and 8 instances asking the same new tokens at once,
//      with and without the shared cache;
//   4. revocation: from `forget` on one instance to a 401 on each of 7 others (p50, p99);
//   5. heap allocations and bytes per shared-cache hit.
// Starts its own redis-server and emulator on loopback ports (tests/integration's fixtures).
// Prints "fleet KEY VALUE" lines; scripts/bench.sh makes the table. `--quick`: fewer rounds.
// `--shared-hit`: part 1 alone (scripts/bench.sh runs it again under `taskset -c 0`: Redis and
// the client on one core, where a round trip costs less and the ratio is harder to meet).
// `--only raw|floor|lookup|hit N`: N of those alone, for `strace -c` (system calls per operation).

#include "alloc_counter.hpp"
#include "emulator.hpp"
#include "emulator_process.hpp"
#include "redis_process.hpp"

#include <genesys/async_token_validator.hpp>
#include <genesys/detail/shared_entry.hpp>
#include <genesys/fleet_key.hpp>
#include <genesys/redis/shared_cache.hpp>
#include <genesys/testing/fake_transport.hpp>
#include <genesys/token_validator.hpp>
#include <genesys/transport/beast_async.hpp>
#include <genesys/transport/curl.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <hiredis/hiredis.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;
using genesys::http_method;
namespace seed = genesys_emulator::seed;

bool quick = false;
bool shared_hit_only = false; // --shared-hit
std::string only_kind; // --only KIND N
int only_count = 0;

const genesys::fleet_key& key()
{
    static const genesys::fleet_key k("bench-fleet-key-0123456789abcdef0123456789abcdef");
    return k;
}

void line(const char* name, double value) { std::printf("fleet %s %.3f\n", name, value); }

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

/// `a[i] / b[i]` for each repetition: a and b measured in the same seconds, so the machine's
/// drift (a round trip here costs 13 to 35 µs from one minute to the next) cancels in each ratio.
std::vector<double> ratios(const std::vector<double>& a, const std::vector<double>& b)
{
    std::vector<double> r;
    for (std::size_t i = 0; i < a.size() && i < b.size(); ++i)
        r.push_back(a[i] / b[i]);
    return r;
}

/// The median of `a[i] / b[i]`, and its smallest and largest, as `<name>`, `<name>_min`, `<name>_max`.
void ratio_lines(const std::string& name, const std::vector<double>& a, const std::vector<double>& b)
{
    const auto r = ratios(a, b);
    line(name.c_str(), median(r));
    line((name + "_min").c_str(), r.empty() ? 0.0 : *std::min_element(r.begin(), r.end()));
    line((name + "_max").c_str(), r.empty() ? 0.0 : *std::max_element(r.begin(), r.end()));
}

double percentile(std::vector<double> v, double p)
{
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}


std::vector<std::string> mint(testproc::emulator_process& emu, int n)
{
    std::vector<std::string> out;
    const std::string body = R"({"user":")" + std::string(seed::agent_user_id) + R"(","client":"client-desktop"})";
    for (int i = 0; i < n; ++i)
        out.emplace_back(
            boost::json::parse(emu.control(http_method::post, "/__emulator/tokens", body).body).at("access_token").as_string());
    return out;
}

std::uint64_t api_requests(testproc::emulator_process& emu)
{
    return static_cast<std::uint64_t>(emu.stats().at("requests").as_int64());
}

/// One instance: an io_context on a thread of its own, an asynchronous validator, and (unless
/// `shared` is false) a Redis shared cache of its own (its own connections).
struct instance {
    boost::asio::io_context ioc{1};
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{ioc.get_executor()};
    std::shared_ptr<genesys::redis_shared_cache> cache;
    std::optional<genesys::token_validator<genesys::beast_async_transport>> v;
    std::thread io;

    instance(const std::string& base_url, const testredis::redis_process& redis, bool shared, std::size_t max_entries)
    {
        genesys::token_validator_options o;
        o.max_entries = max_entries;
        if (shared) {
            cache = std::make_shared<genesys::redis_shared_cache>(ioc.get_executor(), redis.client_options(), key());
            o.shared_cache = cache;
        }
        genesys::token_validator_config config;
        config.base_url = base_url;
        v.emplace(genesys::beast_async_transport(ioc), config, o);
        io = std::thread([this] { ioc.run(); });
        if (cache) {
            const auto until = clock_type::now() + std::chrono::seconds(10);
            while (!cache->stats().connected && clock_type::now() < until)
                std::this_thread::sleep_for(std::chrono::milliseconds(2));
            if (!cache->stats().connected)
                throw std::runtime_error("not connected to Redis");
        }
    }

    ~instance()
    {
        // The validator and the cache end on the io_context's thread; the cache's connections
        // then close, and the io_context runs out of work.
        work.reset();
        boost::asio::post(ioc, [this] {
            v.reset();
            cache.reset();
        });
        io.join();
    }

    /// Validates `token` and waits for the answer.
    genesys::result<genesys::validated_token> validate(const std::string& token)
    {
        std::promise<genesys::result<genesys::validated_token>> p;
        auto f = p.get_future();
        v->async_validate(token, [&p](genesys::result<genesys::validated_token> r) { p.set_value(std::move(r)); });
        return f.get();
    }

    /// Validates each token of `tokens` once, `in_flight` at a time, and waits for them all.
    void validate_all(const std::vector<std::string>& tokens, std::size_t in_flight)
    {
        // Shared with the handlers: the last one may still be running when this returns.
        struct run_state {
            const std::vector<std::string>* tokens;
            genesys::token_validator<genesys::beast_async_transport>* v;
            std::atomic<std::size_t> next{0}, done{0};
            std::promise<void> all;
            static void step(const std::shared_ptr<run_state>& st)
            {
                const std::size_t i = st->next.fetch_add(1);
                if (i >= st->tokens->size())
                    return;
                st->v->async_validate((*st->tokens)[i], [st](genesys::result<genesys::validated_token>) {
                    step(st);
                    if (st->done.fetch_add(1) + 1 == st->tokens->size())
                        st->all.set_value();
                });
            }
        };
        auto st = std::make_shared<run_state>();
        st->tokens = &tokens;
        st->v = &*v;
        auto finished = st->all.get_future();
        boost::asio::post(ioc, [st, in_flight] {
            for (std::size_t i = 0; i < in_flight; ++i)
                run_state::step(st);
        });
        finished.wait();
    }
};

/// Runs `n` operations one after another on `inst`'s thread, each started from the previous
/// one's handler: `start(next)` starts one, whose handler calls `next()`. Returns ns per operation.
template <class Start>
double chain(instance& inst, int n, Start start)
{
    std::promise<void> finished;
    int left = n;
    std::function<void()> step = [&] {
        start([&] {
            if (--left == 0)
                finished.set_value();
            else
                step();
        });
    };
    const auto started = clock_type::now();
    boost::asio::post(inst.ioc, step);
    finished.get_future().wait();
    return std::chrono::duration<double, std::nano>(clock_type::now() - started).count() / n;
}

/// `n` validations of `token`, one after another; ns per validation.
double chain_validations(instance& inst, const std::string& token, int n)
{
    return chain(inst, n, [&](auto next) {
        inst.v->async_validate(token, [next](genesys::result<genesys::validated_token> r) {
            if (!r)
                throw std::runtime_error("a shared hit failed: " + r.error().message);
            next();
        });
    });
}

/// `n` lookups of `k` through the shared cache alone, one after another; ns per lookup.
double chain_lookups(instance& inst, const genesys::shared_token_key& k, int n)
{
    return chain(inst, n, [&](auto next) {
        inst.cache->async_lookup(k, [next](genesys::shared_lookup l) {
            if (!l.answer)
                throw std::runtime_error("a shared lookup missed");
            next();
        });
    });
}

/// `n` raw hiredis GETs of `redis_key`, blocking, on a connection of their own; ns per GET.
double raw_gets(redisContext* c, const std::string& redis_key, int n)
{
    const auto started = clock_type::now();
    for (int i = 0; i < n; ++i) {
        auto* r = static_cast<redisReply*>(redisCommand(c, "GET %b", redis_key.data(), redis_key.size()));
        if (r == nullptr || r->type != REDIS_REPLY_STRING)
            throw std::runtime_error("raw GET failed");
        freeReplyObject(r);
    }
    return std::chrono::duration<double, std::nano>(clock_type::now() - started).count() / n;
}

/// The floor on the same kind of connection as the cache's: `n` GETs of `redis_key` one after
/// another, formatted and parsed by hiredis, over a non-blocking Asio TCP socket on `inst`'s
/// io_context thread (what `redis_connection` is, without its queue, timers and strand); ns per GET.
double asio_gets(instance& inst, int port, const std::string& redis_key, int n)
{
    namespace asio = boost::asio;
    asio::ip::tcp::socket sock(inst.ioc);
    sock.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
    sock.set_option(asio::ip::tcp::no_delay(true));
    struct loop {
        asio::ip::tcp::socket& sock;
        std::string wire;
        redisReader* reader = redisReaderCreate();
        std::array<char, 16384> buf{};
        int left;
        std::promise<void> finished{};
        loop(asio::ip::tcp::socket& s, std::string w, int n) : sock(s), wire(std::move(w)), left(n) {}
        loop(const loop&) = delete;
        ~loop() { redisReaderFree(reader); }
        void send()
        {
            asio::async_write(sock, asio::buffer(wire), [this](boost::system::error_code ec, std::size_t) {
                if (ec)
                    throw std::runtime_error("floor write failed");
                receive();
            });
        }
        void receive()
        {
            sock.async_read_some(asio::buffer(buf), [this](boost::system::error_code ec, std::size_t got) {
                if (ec)
                    throw std::runtime_error("floor read failed");
                redisReaderFeed(reader, buf.data(), got);
                void* reply = nullptr;
                if (redisReaderGetReply(reader, &reply) != REDIS_OK)
                    throw std::runtime_error("floor parse failed");
                if (reply == nullptr)
                    return receive();
                const bool ok = static_cast<redisReply*>(reply)->type == REDIS_REPLY_STRING;
                freeReplyObject(reply);
                if (!ok)
                    throw std::runtime_error("floor GET failed");
                if (--left == 0)
                    finished.set_value();
                else
                    send();
            });
        }
    };
    auto format = [](std::initializer_list<std::string_view> args) {
        std::vector<const char*> argv;
        std::vector<std::size_t> lens;
        for (auto a : args) {
            argv.push_back(a.data());
            lens.push_back(a.size());
        }
        char* cmd = nullptr;
        const long long len = redisFormatCommandArgv(&cmd, static_cast<int>(argv.size()), argv.data(), lens.data());
        std::string out(cmd, static_cast<std::size_t>(len));
        redisFreeCommand(cmd);
        return out;
    };
    const std::string pw(testredis::redis_process::password);
    {
        // AUTH answers "+OK\r\n": read by hand, before the loop.
        const std::string auth = format({"AUTH", pw});
        asio::write(sock, asio::buffer(auth));
        char ok[5];
        asio::read(sock, asio::buffer(ok));
    }
    loop l(sock, format({"GET", redis_key}), n);
    auto f = l.finished.get_future();
    const auto started = clock_type::now();
    asio::post(inst.ioc, [&l] { l.send(); });
    f.wait();
    const double ns = std::chrono::duration<double, std::nano>(clock_type::now() - started).count() / n;
    return ns; // (no operation is pending on `sock` now: it closes here)
}

void shared_hit_against_raw_get(testproc::emulator_process& emu, const testredis::redis_process& redis)
{
    const auto token = mint(emu, 1).front();
    // max_entries 0: the in-process cache keeps nothing, so every validation is a shared hit.
    instance inst(emu.base_url(), redis, true, 0);
    if (!inst.validate(token)) // fills Redis (one API call)
        throw std::runtime_error("the token is not valid");
    const auto k = inst.cache->key_of(emu.base_url(), true, token);
    const std::string redis_key =
        std::string(genesys::detail::shared_entry_key_prefix) +
        genesys::detail::to_hex(std::string_view(reinterpret_cast<const char*>(k.digest.data()), k.digest.size()));

    redisContext* c = redisConnect("127.0.0.1", redis.port());
    if (c == nullptr || c->err)
        throw std::runtime_error("hiredis cannot connect");
    const std::string pw(testredis::redis_process::password);
    freeReplyObject(redisCommand(c, "AUTH %b", pw.data(), pw.size()));
    {
        auto* r = static_cast<redisReply*>(redisCommand(c, "STRLEN %b", redis_key.data(), redis_key.size()));
        line("entry_bytes", r ? static_cast<double>(r->integer) : 0);
        freeReplyObject(r);
    }

    if (!only_kind.empty()) {
        if (only_kind == "raw")
            raw_gets(c, redis_key, only_count);
        else if (only_kind == "floor")
            asio_gets(inst, redis.port(), redis_key, only_count);
        else if (only_kind == "hit")
            chain_validations(inst, token, only_count);
        else
            chain_lookups(inst, k, only_count);
        redisFree(c);
        return;
    }
    const int n = quick ? 2000 : 20000;
    std::vector<double> raw, floor, hit, lookup;
    chain_validations(inst, token, n / 10); // warm up
    raw_gets(c, redis_key, n / 10);
    asio_gets(inst, redis.port(), redis_key, n / 10);
    for (int rep = 0; rep < (quick ? 3 : 11); ++rep) { // interleaved, medians
        raw.push_back(raw_gets(c, redis_key, n));
        floor.push_back(asio_gets(inst, redis.port(), redis_key, n));
        hit.push_back(chain_validations(inst, token, n));
        lookup.push_back(chain_lookups(inst, k, n));
    }
    redisFree(c);
    line("raw_get_ns", median(raw));
    line("asio_get_ns", median(floor));
    line("shared_hit_ns", median(hit));
    line("shared_lookup_ns", median(lookup));
    ratio_lines("shared_hit_ratio", hit, floor); // the target's ratio, paired per repetition

    // Heap allocations and bytes per shared hit (the io thread's included: one process).
    const int m = 1000;
    bench::count_allocations(true);
    const auto a0 = bench::allocations();
    const auto b0 = bench::allocated_bytes();
    chain_validations(inst, token, m);
    bench::count_allocations(false);
    line("shared_hit_allocs", static_cast<double>(bench::allocations() - a0) / m);
    line("shared_hit_bytes", static_cast<double>(bench::allocated_bytes() - b0) / m);
}

/// An in-process hit, blocking, with and without a shared cache configured.
void in_process_hit(const testredis::redis_process& redis)
{
    auto cache = std::make_shared<genesys::redis_shared_cache>(redis.client_options(), key());
    const std::string body = R"({"organization":{"id":"6f0b3c4e-8d2a-4a51-9c3e-2f1d0b7a9e55"},)"
                             R"("OAuthClient":{"id":"client-desktop"}})";
    auto make = [&](bool shared) {
        genesys::testing::fake_transport fake;
        fake.respond_by_default(genesys::http_response{200, {}, body});
        genesys::token_validator_options o;
        if (shared)
            o.shared_cache = cache;
        genesys::token_validator_config config;
        config.base_url = "https://api.mypurecloud.com";
        return genesys::token_validator<genesys::testing::fake_transport>(fake, config, o);
    };
    auto with = make(true);
    auto without = make(false);
    const std::string token = "in-process-hit-token-0123456789";
    if (!with.validate(token) || !without.validate(token))
        throw std::runtime_error("in-process fill failed");
    const int n = quick ? 200000 : 2000000;
    auto run = [&](auto& v) {
        const auto started = clock_type::now();
        for (int i = 0; i < n; ++i)
            if (!v.validate(token))
                throw std::runtime_error("in-process hit failed");
        return std::chrono::duration<double, std::nano>(clock_type::now() - started).count() / n;
    };
    std::vector<double> a, b;
    run(with);
    run(without);
    for (int rep = 0; rep < (quick ? 3 : 9); ++rep) {
        a.push_back(run(with));
        b.push_back(run(without));
    }
    line("in_process_hit_shared_ns", median(a));
    line("in_process_hit_plain_ns", median(b));
    ratio_lines("in_process_hit_ratio", a, b);
}

/// API calls per token when `count` instances ask the same new tokens at once.
void calls_per_token(testproc::emulator_process& emu, const testredis::redis_process& redis)
{
    const int tokens_per_run = quick ? 50 : 200;
    for (bool shared : {true, false}) {
        for (int count : {1, 2, 4, 8}) {
            const auto tokens = mint(emu, tokens_per_run);
            std::vector<std::unique_ptr<instance>> fleet;
            for (int i = 0; i < count; ++i)
                fleet.push_back(std::make_unique<instance>(emu.base_url(), redis, shared, 10000));
            const auto before = api_requests(emu);
            std::vector<std::thread> askers;
            for (auto& inst : fleet)
                askers.emplace_back([&inst, &tokens] { inst->validate_all(tokens, 32); });
            for (auto& t : askers)
                t.join();
            const double per_token = static_cast<double>(api_requests(emu) - before) / tokens_per_run;
            std::printf("fleet calls_per_token_%s_%d %.3f\n", shared ? "shared" : "alone", count, per_token);
        }
    }
}

/// From `forget` on one instance to a 401 on each of the others: the token is revoked at the
/// API first, so an instance answers 401 once its in-process entry is gone.
void revocation(testproc::emulator_process& emu, const testredis::redis_process& redis)
{
    const int others = 7;
    const int trials = quick ? 10 : 50;
    std::vector<std::unique_ptr<instance>> fleet;
    for (int i = 0; i <= others; ++i)
        fleet.push_back(std::make_unique<instance>(emu.base_url(), redis, true, 10000));
    std::vector<double> everywhere_ms;
    genesys::curl_transport revoker;
    for (int t = 0; t < trials; ++t) {
        const auto token = mint(emu, 1).front();
        for (auto& inst : fleet)
            if (!inst->validate(token))
                throw std::runtime_error("not valid before the revocation");
        auto r = revoker.send({http_method::delete_, emu.base_url() + "/api/v2/tokens/me",
                               {{"Authorization", "Bearer " + token}}, {}});
        if (!r || r->status / 100 != 2)
            throw std::runtime_error("the API did not revoke the token");
        const auto t0 = clock_type::now();
        fleet[0]->v->forget(token);
        double worst = 0;
        std::vector<std::thread> pollers;
        std::vector<double> took(others + 1, 0.0);
        for (int i = 1; i <= others; ++i) {
            pollers.emplace_back([&, i] {
                for (;;) {
                    auto v = fleet[static_cast<std::size_t>(i)]->validate(token);
                    if (!v) {
                        took[static_cast<std::size_t>(i)] =
                            std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
                        return;
                    }
                    if (clock_type::now() - t0 > std::chrono::seconds(5)) {
                        took[static_cast<std::size_t>(i)] = 5000;
                        return;
                    }
                    std::this_thread::sleep_for(std::chrono::microseconds(100));
                }
            });
        }
        for (auto& p : pollers)
            p.join();
        for (double d : took)
            worst = std::max(worst, d);
        everywhere_ms.push_back(worst);
    }
    line("revocation_p50_ms", percentile(everywhere_ms, 0.50));
    line("revocation_p99_ms", percentile(everywhere_ms, 0.99));
    line("revocation_max_ms", percentile(everywhere_ms, 1.0));
    line("revocation_trials", trials);
}

} // namespace

int main(int argc, char** argv)
try {
    std::setvbuf(stdout, nullptr, _IOLBF, 0); // each line as it comes (scripts/bench.sh reads a file)
    for (int i = 1; i < argc; ++i)
        if (std::strcmp(argv[i], "--quick") == 0)
            quick = true;
        else if (std::strcmp(argv[i], "--shared-hit") == 0)
            shared_hit_only = true;
    // Allocations are counted only where they are measured (below): counting costs two locked
    // additions per allocation, which the floor's mallocs do not pay.
    bench::count_allocations(false);
    testredis::redis_process redis;
    testproc::emulator_process emu;
    emu.control(http_method::post, "/__emulator/config", R"({"rateLimit":1000000})");
    if (argc == 4 && std::strcmp(argv[1], "--only") == 0) { // --only KIND N: for strace -c (system calls)
        only_kind = argv[2];
        only_count = std::atoi(argv[3]);
        shared_hit_against_raw_get(emu, redis);
        return 0;
    }
    shared_hit_against_raw_get(emu, redis);
    if (shared_hit_only)
        return 0;
    in_process_hit(redis);
    calls_per_token(emu, redis);
    revocation(emu, redis);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "bench_fleet: %s\n", e.what());
    return 1;
}
