// SPDX-License-Identifier: BSL-1.0
// `token_validator`: what a cached validation costs, from one thread and from two sharing one
// validator, beside a "floor" (the cache a service might write itself: a `std::shared_mutex` over an
// `std::unordered_map` from the plaintext token to a `std::shared_ptr<const entry>`, checking an
// expiry time and the same policy); heap allocations per hit; a storm (10 000 validations of one new
// token from 16 threads while the API call is held: one API call); and memory (1 000 000
// validations over 100 000 distinct tokens with `max_entries` 10 000: peak RSS after the first
// pass and after the whole run).
//
//   bench_validator            the memory run, the storm, then the benchmarks, then the table
//   bench_validator --summary  the same, then "validator KEY VALUE" lines for scripts/bench.sh
//   bench_validator --quick    a memory run 1/200 the size (5 000 validations over 500 tokens,
//                              max_entries 50): a smoke test (ctest), not numbers to quote
//   bench_validator --instructions CASE N
//                              only N cached hits of CASE (validator_cached or floor_cached), over
//                              the benchmark's 64 tokens, for callgrind: the count for N = 2100
//                              minus the count for N = 100, over 2000, is the exact cost of a hit
//
// The memory run comes first, so that the process's peak RSS (VmHWM) is its own. Every token is an
// opaque string of 86 characters, as long as a typical Genesys Cloud access token.

#include "alloc_counter.hpp"
#include "bench_data.hpp"
#include "bench_report.hpp"

#include <genesys/json.hpp> // detail::decode_body, for the floor
#include <genesys/token_validator.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <latch>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
using sys_clock = std::chrono::system_clock;

// ---- the data ----------------------------------------------------------------------------------

/// The length of every token: a typical Genesys Cloud access token is 40 to 100 characters.
constexpr std::size_t token_length = 86;
/// Cached tokens per thread in the cached benchmarks.
constexpr std::size_t tokens_per_thread = 64;
/// The policy every validator here applies, and the floor too: the body's organization and a scope.
constexpr std::string_view organization_id = "6f0b3c4e-8d2a-4a51-9c3e-2f1d0b7a9e55";
constexpr std::string_view required_scope = "users:readonly";

/// Token `n`: 86 characters of the base64url alphabet, the same for a given `n` in every run.
std::string make_token(std::uint64_t n)
{
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::uint64_t x = n * 0x9e3779b97f4a7c15ULL + 0x6a09e667f3bcc909ULL;
    std::string t(token_length, 'A');
    for (std::size_t i = 0; i < token_length; ++i) {
        x ^= x >> 30, x *= 0xbf58476d1ce4e5b9ULL, x ^= x >> 27, x *= 0x94d049bb133111ebULL, x ^= x >> 31; // splitmix64
        t[i] = alphabet[x & 63];
    }
    return t;
}

/// `count` tokens, from number `first` on.
std::vector<std::string> make_tokens(std::uint64_t first, std::size_t count)
{
    std::vector<std::string> out;
    out.reserve(count);
    for (std::size_t i = 0; i < count; ++i)
        out.push_back(make_token(first + i));
    return out;
}

/// bench_calls's 767-byte TokenInfo, its `dateTokenIdles` a day from now (a date in the past would
/// make every answer already idle, and nothing would be cached).
std::string token_info_body()
{
    std::string body(bench::token_info_body);
    const std::string_view old_idles = "2026-11-27T22:15:30.250Z";
    const std::string idles =
        genesys::format_date_time(std::chrono::time_point_cast<std::chrono::milliseconds>(sys_clock::now() + 24h));
    body.replace(body.find(old_idles), old_idles.size(), idles);
    return body;
}

genesys::token_validator_config config()
{
    genesys::token_validator_config c;
    c.base_url = "https://api.mypurecloud.com";
    return c;
}

genesys::token_validator_options options(std::size_t max_entries = 10000)
{
    genesys::token_validator_options o;
    o.max_entries = max_entries;
    o.organization_id = std::string(organization_id);
    o.required_scopes = {std::string(required_scope)};
    return o;
}

/// Answers every request at once with 200 and the TokenInfo body, and counts the requests. Unlike
/// `testing::fake_transport` it keeps no log (a million logged requests would be the memory run's
/// largest allocation).
struct answering_transport {
    std::shared_ptr<const std::string> body = std::make_shared<const std::string>(token_info_body());
    std::shared_ptr<std::atomic<std::uint64_t>> calls = std::make_shared<std::atomic<std::uint64_t>>(0);

    boost::system::result<genesys::http_response> send(const genesys::http_request& request)
    {
        benchmark::DoNotOptimize(request.url.data());
        calls->fetch_add(1, std::memory_order_relaxed);
        return genesys::http_response{200, {{"Content-Type", "application/json"}}, *body};
    }
};

using validator = genesys::token_validator<answering_transport>;

// ---- the floor: a cache a service might write itself -------------------------------------------

/// What the service remembers of a token.
struct floor_entry {
    genesys::token_info info;
    sys_clock::time_point expires;
};

/// Heterogeneous lookup, so that finding a `std::string_view` token makes no `std::string`.
struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

class floor_cache {
public:
    void put(std::string token, std::shared_ptr<const floor_entry> e)
    {
        std::unique_lock lock(mutex_);
        map_.insert_or_assign(std::move(token), std::move(e));
    }

    /// The entry of `token` if it has not expired, and its token passes the policy; else nullptr.
    std::shared_ptr<const floor_entry> find(std::string_view token) const
    {
        const auto now = sys_clock::now();
        std::shared_ptr<const floor_entry> e;
        {
            std::shared_lock lock(mutex_);
            auto it = map_.find(token);
            if (it == map_.end())
                return nullptr;
            e = it->second;
        }
        if (e->expires <= now || !allowed(e->info))
            return nullptr;
        return e;
    }

private:
    static bool allowed(const genesys::token_info& info)
    {
        if (!info.organization || info.organization->id != organization_id)
            return false;
        return info.authorized_scope &&
               std::find(info.authorized_scope->begin(), info.authorized_scope->end(), required_scope) !=
                   info.authorized_scope->end();
    }

    mutable std::shared_mutex mutex_;
    std::unordered_map<std::string, std::shared_ptr<const floor_entry>, string_hash, std::equal_to<>> map_;
};

// ---- cached validations, one thread and two ----------------------------------------------------
//
// Each run (Setup) makes a validator and a floor cache and fills both with 2 × 64 tokens; thread t
// validates tokens [64 t, 64 t + 64) in turn. The validator's API calls are counted: a run in which
// one was made (an entry expired or was evicted) is an error, not a number.

struct cached_fixture {
    std::vector<std::string> tokens = make_tokens(0, 2 * tokens_per_thread);
    answering_transport transport;
    validator v{transport, config(), options()};
    floor_cache floor;
    std::uint64_t calls_after_filling = 0;

    cached_fixture()
    {
        genesys::token_info info;
        std::string why;
        if (!genesys::detail::decode_body(*transport.body, info, why)) {
            std::fprintf(stderr, "the TokenInfo body does not decode: %s\n", why.c_str());
            std::exit(1);
        }
        for (const auto& t : tokens) {
            if (!v.validate(t)) {
                std::fprintf(stderr, "a first validation failed\n");
                std::exit(1);
            }
            floor.put(t, std::make_shared<const floor_entry>(floor_entry{info, sys_clock::now() + 60s}));
        }
        calls_after_filling = transport.calls->load();
    }
};

std::unique_ptr<cached_fixture> fixture;

void make_fixture(const benchmark::State&) { fixture = std::make_unique<cached_fixture>(); }
void drop_fixture(const benchmark::State&) { fixture.reset(); }

/// One validation through the library; false when it failed.
struct library_call {
    bool operator()(std::string_view token) const
    {
        auto r = fixture->v.validate(token);
        benchmark::DoNotOptimize(r);
        return r.has_value();
    }
};

/// One lookup in the floor cache; false when it found nothing.
struct floor_call {
    bool operator()(std::string_view token) const
    {
        auto e = fixture->floor.find(token);
        benchmark::DoNotOptimize(e);
        return e != nullptr;
    }
};

template <class Call>
void cached(benchmark::State& state)
{
    const Call call;
    const auto thread = static_cast<std::size_t>(state.thread_index());
    const std::string* tokens = fixture->tokens.data() + tokens_per_thread * thread;
    std::size_t i = 0;
    for (auto _ : state) {
        if (!call(tokens[i])) {
            state.SkipWithError("a cached validation failed");
            break;
        }
        i = (i + 1) % tokens_per_thread;
    }
    // Items and the rate are summed over the threads: aggregate validations per second.
    state.SetItemsProcessed(state.iterations());
    state.counters["validations_per_second"] =
        benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
    if (state.thread_index() == 0) {
        if (fixture->transport.calls->load() != fixture->calls_after_filling)
            state.SkipWithError("an API call was made during a cached run");
        // Set by one thread only, so the sum over the threads is its count.
        state.counters["allocs"] = static_cast<double>(bench::allocations_of([&] { call(tokens[0]); }));
    }
}

// ---- the storm ---------------------------------------------------------------------------------

/// Holds the API call until `joined()` says every other caller waits for it (at least 5 ms, at
/// most 5 s), then answers 200 with the TokenInfo body.
struct gated_transport {
    struct state {
        std::string body = token_info_body();
        std::function<bool()> joined;
        std::atomic<std::uint64_t> calls{0};
        std::atomic<bool> timed_out{false};
        std::atomic<std::int64_t> held_us{0};
    };
    std::shared_ptr<state> st = std::make_shared<state>();

    boost::system::result<genesys::http_response> send(const genesys::http_request&)
    {
        st->calls.fetch_add(1);
        const auto start = std::chrono::steady_clock::now();
        for (;;) {
            const auto held = std::chrono::steady_clock::now() - start;
            if (held >= 5ms && st->joined && st->joined())
                break;
            if (held >= 5s) {
                st->timed_out = true;
                break;
            }
            std::this_thread::sleep_for(100us);
        }
        const auto held = std::chrono::steady_clock::now() - start;
        st->held_us = std::chrono::duration_cast<std::chrono::microseconds>(held).count();
        return genesys::http_response{200, {{"Content-Type", "application/json"}}, st->body};
    }
};

struct storm_outcome {
    int threads = 0;
    std::uint64_t validations = 0, api_calls = 0, coalesced = 0, hits = 0, failures = 0;
    double held_ms = 0, total_ms = 0;
    bool timed_out = false;
};

/// `threads` threads, released together, validate one new token `per_thread` times each.
storm_outcome storm(int threads, int per_thread)
{
    gated_transport gate;
    genesys::token_validator<gated_transport> v{gate, config(), options()};
    gate.st->joined = [&v, threads] { return v.stats().coalesced >= static_cast<std::uint64_t>(threads - 1); };
    const std::string token = make_token(1'000'000'007);
    std::atomic<std::uint64_t> failures{0};
    std::latch start(threads + 1);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&] {
            start.arrive_and_wait();
            for (int i = 0; i < per_thread; ++i)
                if (!v.validate(token))
                    failures.fetch_add(1, std::memory_order_relaxed);
        });
    const auto began = std::chrono::steady_clock::now();
    start.arrive_and_wait();
    for (auto& th : pool)
        th.join();
    storm_outcome out;
    out.total_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - began).count();
    const auto s = v.stats();
    gate.st->joined = nullptr;
    out.threads = threads;
    out.validations = static_cast<std::uint64_t>(threads) * static_cast<std::uint64_t>(per_thread);
    out.api_calls = gate.st->calls.load();
    out.coalesced = s.coalesced;
    out.hits = s.hits;
    out.failures = failures.load();
    out.held_ms = static_cast<double>(gate.st->held_us.load()) / 1e3;
    out.timed_out = gate.st->timed_out.load();
    return out;
}

// ---- memory ------------------------------------------------------------------------------------

/// A field of /proc/self/status in kB (VmHWM: the peak resident set; VmRSS: the resident set now).
long status_kib(std::string_view field)
{
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.compare(0, field.size(), field) == 0 && line.size() > field.size() && line[field.size()] == ':')
            return std::atol(line.c_str() + field.size() + 1);
    return -1;
}

struct memory_outcome {
    std::size_t tokens = 0, max_entries = 0;
    std::uint64_t validations = 0, api_calls = 0, evictions = 0, failures = 0;
    std::size_t entries = 0;
    long baseline_hwm_kib = 0, first_pass_hwm_kib = 0, end_hwm_kib = 0, end_rss_kib = 0;
    std::uint64_t allocs_per_miss = 0;
    double seconds = 0;
};

/// `validations` validations of `tokens` distinct tokens, in passes over them in order (each
/// pass touches every token once: with `max_entries` a tenth of them, every validation is a miss
/// that evicts an entry, the most churn there can be).
memory_outcome memory_run(std::size_t tokens, std::uint64_t validations, std::size_t max_entries)
{
    memory_outcome out;
    out.tokens = tokens;
    out.max_entries = max_entries;
    out.validations = validations;
    const std::vector<std::string> all = make_tokens(1'000'000, tokens);
    answering_transport transport;
    validator v{transport, config(), options(max_entries)};
    out.baseline_hwm_kib = status_kib("VmHWM");
    const auto began = std::chrono::steady_clock::now();
    std::uint64_t failures = 0;
    for (std::uint64_t i = 0; i < validations; ++i) {
        const std::string& token = all[i % tokens];
        if (i == tokens)
            out.first_pass_hwm_kib = status_kib("VmHWM");
        if (i == tokens + 1) // a miss that evicts, in the steady state
            out.allocs_per_miss = bench::allocations_of([&] { failures += v.validate(token) ? 0 : 1; });
        else
            failures += v.validate(token) ? 0 : 1;
    }
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    if (out.first_pass_hwm_kib == 0)
        out.first_pass_hwm_kib = status_kib("VmHWM");
    out.end_hwm_kib = status_kib("VmHWM");
    out.end_rss_kib = status_kib("VmRSS");
    const auto s = v.stats();
    out.api_calls = transport.calls->load();
    out.evictions = s.evictions;
    out.entries = s.entries;
    out.failures = failures;
    return out;
}

// ---- the table ---------------------------------------------------------------------------------

constexpr double max_cached_ns = 1000;        // target: a cached validation from one thread
constexpr double min_two_thread_rate = 2e6;   // target: validations per second from two threads

double rate_of(const bench::outcome* o) { return o ? o->counters.at("validations_per_second") : 0; }

bool print_table(const bench::collecting_reporter& r, const storm_outcome& st, const memory_outcome& m, bool summary)
{
    const auto* lib1 = r.find("validator_cached");
    const auto* floor1 = r.find("floor_cached");
    const auto* lib2 = r.find("validator_cached_2_threads");
    const auto* floor2 = r.find("floor_cached_2_threads");
    bool ok = true;

    std::printf("\n%-34s %12s %12s %10s %18s\n", "token validator", "library", "floor", "lib/floor", "target");
    if (lib1 && floor1) {
        const bool met = lib1->ns <= max_cached_ns;
        ok = ok && met;
        std::printf("%-34s %12.1f %12.1f %10.2f %12s %5s\n", "cached, 1 thread, ns/validation", lib1->ns, floor1->ns,
                    lib1->ns / floor1->ns, "<= 1000", bench::verdict(met));
        std::printf("%-34s %12.0f %12.0f\n", "heap allocations per hit", lib1->counters.at("allocs"),
                    floor1->counters.at("allocs"));
    }
    if (lib2 && floor2) {
        const bool met = rate_of(lib2) >= min_two_thread_rate;
        ok = ok && met;
        std::printf("%-34s %12.0f %12.0f %10.2f %12s %5s\n", "cached, 2 threads, validations/s", rate_of(lib2),
                    rate_of(floor2), rate_of(lib2) / rate_of(floor2), ">= 2000000", bench::verdict(met));
    }
    if (lib1 && floor1 && lib2 && floor2) {
        // CPU time per validation, every thread's together: on a machine shared with other work the
        // two threads do not always run at once, and this is what the validations cost all the same.
        std::printf("%-34s %12.1f %12.1f %10.2f\n", "CPU ns/validation, 1 thread", lib1->cpu_ns, floor1->cpu_ns,
                    lib1->cpu_ns / floor1->cpu_ns);
        std::printf("%-34s %12.1f %12.1f %10.2f\n", "CPU ns/validation, 2 threads", lib2->cpu_ns, floor2->cpu_ns,
                    lib2->cpu_ns / floor2->cpu_ns);
        std::printf("%-34s %12.2f %12.2f\n", "validations/s, 2 threads / 1", rate_of(lib2) / rate_of(lib1),
                    rate_of(floor2) / rate_of(floor1));
    }
    const bool storm_ok = st.api_calls == 1 && st.failures == 0 && !st.timed_out;
    ok = ok && storm_ok;
    std::printf("\nstorm: %llu validations of one new token from %d threads: %llu API call(s) (target 1: %s);\n"
                "  %llu joined the call while it was held %.1f ms%s, %llu hits after it, %llu failed; %.1f ms in all\n",
                static_cast<unsigned long long>(st.validations), st.threads,
                static_cast<unsigned long long>(st.api_calls), bench::verdict(storm_ok),
                static_cast<unsigned long long>(st.coalesced), st.held_ms,
                st.timed_out ? " (NOT every caller joined within 5 s)" : "", static_cast<unsigned long long>(st.hits),
                static_cast<unsigned long long>(st.failures), st.total_ms);

    const bool memory_ok = m.failures == 0 && m.entries <= m.max_entries;
    ok = ok && memory_ok;
    const double entries = static_cast<double>(std::max<std::size_t>(m.entries, 1));
    const double kib_per_entry = static_cast<double>(m.first_pass_hwm_kib - m.baseline_hwm_kib) / entries;
    std::printf("\nmemory: %llu validations over %zu distinct tokens, max_entries %zu, in %.2f s (%.0f/s):\n"
                "  peak RSS (VmHWM) %.1f MiB before, %.1f MiB after the first pass, %.1f MiB after the run"
                " (VmRSS %.1f MiB);\n"
                "  %zu entries held (about %.1f KiB each), %llu API calls, %llu evictions, %llu failed;\n"
                "  %llu heap allocations per miss\n",
                static_cast<unsigned long long>(m.validations), m.tokens, m.max_entries, m.seconds,
                static_cast<double>(m.validations) / m.seconds, static_cast<double>(m.baseline_hwm_kib) / 1024,
                static_cast<double>(m.first_pass_hwm_kib) / 1024, static_cast<double>(m.end_hwm_kib) / 1024,
                static_cast<double>(m.end_rss_kib) / 1024, m.entries, kib_per_entry,
                static_cast<unsigned long long>(m.api_calls), static_cast<unsigned long long>(m.evictions),
                static_cast<unsigned long long>(m.failures),
                static_cast<unsigned long long>(m.allocs_per_miss));

    if (summary) {
        // One "validator KEY VALUE" line each: scripts/bench.sh reads them.
        auto line = [](const char* key, double value) { std::printf("validator %s %.10g\n", key, value); };
        std::printf("\n");
        line("cached_ns", lib1 ? lib1->ns : 0);
        line("cached_floor_ns", floor1 ? floor1->ns : 0);
        line("cached_allocs", lib1 ? lib1->counters.at("allocs") : -1);
        line("cached_floor_allocs", floor1 ? floor1->counters.at("allocs") : -1);
        line("two_threads_per_s", rate_of(lib2));
        line("two_threads_floor_per_s", rate_of(floor2));
        line("one_thread_per_s", rate_of(lib1));
        line("cached_cpu_ns", lib1 ? lib1->cpu_ns : 0);
        line("cached_floor_cpu_ns", floor1 ? floor1->cpu_ns : 0);
        line("two_threads_cpu_ns", lib2 ? lib2->cpu_ns : 0);
        line("two_threads_floor_cpu_ns", floor2 ? floor2->cpu_ns : 0);
        line("storm_validations", static_cast<double>(st.validations));
        line("storm_threads", st.threads);
        line("storm_api_calls", static_cast<double>(st.api_calls));
        line("storm_coalesced", static_cast<double>(st.coalesced));
        line("storm_failures", static_cast<double>(st.failures));
        line("storm_held_ms", st.held_ms);
        line("memory_validations", static_cast<double>(m.validations));
        line("memory_tokens", static_cast<double>(m.tokens));
        line("memory_max_entries", static_cast<double>(m.max_entries));
        line("memory_baseline_kib", static_cast<double>(m.baseline_hwm_kib));
        line("memory_first_pass_kib", static_cast<double>(m.first_pass_hwm_kib));
        line("memory_end_kib", static_cast<double>(m.end_hwm_kib));
        line("memory_end_rss_kib", static_cast<double>(m.end_rss_kib));
        line("memory_entries", static_cast<double>(m.entries));
        line("memory_evictions", static_cast<double>(m.evictions));
        line("memory_seconds", m.seconds);
        line("memory_api_calls", static_cast<double>(m.api_calls));
        line("memory_failures", static_cast<double>(m.failures));
    }
    return ok;
}

} // namespace

/// `n` cached hits through `Call` over thread 0's tokens (the fixture is made and filled first,
/// the same for every `n`); 1 when one failed, or an API call was made.
template <class Call>
int run_hits(long n)
{
    fixture = std::make_unique<cached_fixture>();
    const Call call;
    const std::string* tokens = fixture->tokens.data();
    int failed = 0;
    for (long i = 0; i < n; ++i)
        failed |= call(tokens[static_cast<std::size_t>(i) % tokens_per_thread]) ? 0 : 1;
    failed |= fixture->transport.calls->load() != fixture->calls_after_filling ? 1 : 0;
    fixture.reset();
    return failed;
}

int main(int argc, char** argv)
{
    if (argc == 4 && std::strcmp(argv[1], "--instructions") == 0) {
        const long n = std::atol(argv[3]);
        if (std::strcmp(argv[2], "validator_cached") == 0)
            return run_hits<library_call>(n);
        if (std::strcmp(argv[2], "floor_cached") == 0)
            return run_hits<floor_call>(n);
        std::fprintf(stderr, "no case named %s\n", argv[2]);
        return 2;
    }
    bool summary = false, quick = false;
    int kept = 1;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--summary") == 0)
            summary = true;
        else if (std::strcmp(argv[i], "--quick") == 0)
            quick = true;
        else
            argv[kept++] = argv[i];
    }
    argc = kept;
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;

    // First, so that the peak RSS is the memory run's own.
    const memory_outcome memory = quick ? memory_run(500, 5'000, 50) : memory_run(100'000, 1'000'000, 10'000);
    const storm_outcome storm_result = storm(16, 625);

    for (auto [name, fn, threads] : {std::tuple{"validator_cached", &cached<library_call>, 1},
                                     std::tuple{"floor_cached", &cached<floor_call>, 1},
                                     std::tuple{"validator_cached_2_threads", &cached<library_call>, 2},
                                     std::tuple{"floor_cached_2_threads", &cached<floor_call>, 2}})
        benchmark::RegisterBenchmark(name, fn)
            ->Threads(threads)
            ->UseRealTime()
            ->Setup(make_fixture)
            ->Teardown(drop_fixture);

    bench::collecting_reporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();
    const bool ok = print_table(reporter, storm_result, memory, summary);
    std::printf("\n%s\n", ok ? "every token validator target met" : "a token validator target was missed");
    // A missed target is a "NO" in the table; only a failed run or validation is an error.
    return reporter.failed || storm_result.failures != 0 || memory.failures != 0 ? 1 : 0;
}
