// SPDX-License-Identifier: BSL-1.0
// The asynchronous API over loopback HTTP against the emulator: calls per second of
// `async_get_tokens_me` through `async_tokens_api<beast_async_transport>` with 1, 16 and 64 calls in
// flight on one io_context thread (each completion starts the next call), beside the blocking
// `tokens_api<curl_transport>` making the same call sequentially on one thread. The transport keeps
// its default pool (8 connections); one more case runs 64 in flight over 64 connections. Counters:
// the client thread's CPU time per call, and the connections each run opened (keep-alive).
//
//   bench_async                          run the benchmarks, then print the table
//   bench_async --instructions CASE N    run one case N times, for callgrind (scripts/bench.sh):
//                                        async_get_tokens_me (async_tokens_api over
//                                        async_fake_transport, N calls run to completion on an
//                                        io_context) or sync_get_tokens_me (tokens_api over
//                                        fake_transport, N calls), both with the same canned body
//   bench_async --run-peer PROGRAM ARGS  start the emulator as for the benchmarks, run PROGRAM with
//                                        GENESYS_BASE_URL and GENESYS_ACCESS_TOKEN set (the JS SDK
//                                        peer, benchmarks/js), print its output, return its status
//
// The emulator runs as a child process (rate limit lifted), so client and server each have a core.

#include "bench_data.hpp"
#include "bench_report.hpp"
#include "emulator.hpp"
#include "emulator_process.hpp"

#include <genesys/async.hpp>
#include <genesys/testing/async_fake_transport.hpp>
#include <genesys/testing/fake_transport.hpp>
#include <genesys/genesys.hpp>
#include <genesys/testing/fake_transport.hpp>
#include <genesys/transport/beast_async.hpp>
#include <genesys/transport/curl.hpp>

#include <benchmark/benchmark.h>
#include <boost/asio/io_context.hpp>
#include <curl/curl.h>
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

namespace seed = genesys_emulator::seed;

using me_result = genesys::result<genesys::api_response<genesys::token_info>>;

/// The in-flight counts measured.
constexpr int in_flight_counts[] = {1, 16, 64};

testproc::emulator_process& emulator()
{
    static testproc::emulator_process instance{false, {"--rate-limit", "1000000000"}};
    return instance;
}

genesys::client_config emulator_config()
{
    genesys::client_config cfg;
    cfg.base_url = emulator().base_url();
    cfg.access_token = seed::agent_token;
    cfg.allow_insecure_http = true;
    return cfg;
}

/** Keeps calls of `async_get_tokens_me` going on one io_context: every completion starts the next
    call until `stop()`, so the number started stays in flight. Completions are counted. */
template <class Api>
class call_pipeline {
public:
    explicit call_pipeline(Api& api) : api_(api) {}

    void start(int n)
    {
        for (int i = 0; i < n; ++i)
            launch();
    }

    /// No new calls from now on: the calls in flight finish and start nothing.
    void stop() { stopping_ = true; }

    long completed() const { return completed_; }
    int in_flight() const { return in_flight_; }
    /// The first failure's message; empty while every call succeeded.
    const std::string& failure() const { return failure_; }

private:
    void launch()
    {
        ++in_flight_;
        api_.async_get_tokens_me([this](me_result r) { on_done(std::move(r)); });
    }

    void on_done(me_result r)
    {
        --in_flight_;
        ++completed_;
        if (!r) {
            if (failure_.empty())
                failure_ = r.error().message.empty() ? std::string("a call failed") : r.error().message;
        } else {
            benchmark::DoNotOptimize(r->data);
        }
        if (!stopping_)
            launch();
    }

    Api& api_;
    long completed_ = 0;
    int in_flight_ = 0;
    bool stopping_ = false;
    std::string failure_;
};

/// CPU time of this thread, in microseconds: all of a client's work when its io_context (or its
/// blocking calls) run here.
double thread_cpu_us()
{
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

/// The connections the emulator has accepted so far (its control endpoint's own included).
double connections_accepted()
{
    return static_cast<double>(emulator().stats().at("connections").to_number<std::int64_t>());
}

/// `cpu_us` over the iterations, for the `cpu_us_per_call` counter.
double per_call(const benchmark::State& state, double cpu_us)
{
    return cpu_us / static_cast<double>(std::max<benchmark::IterationCount>(state.iterations(), 1));
}

/// One benchmark iteration is one completed call, with `in_flight` calls kept going on one
/// io_context run on this thread, through a pool of at most `max_connections`. The connections are
/// opened by a warm-up outside the timing.
void async_get_tokens_me(benchmark::State& state, int in_flight, std::size_t max_connections)
{
    const double connections_before = connections_accepted();
    boost::asio::io_context ioc(1);
    genesys::beast_async_options options;
    options.max_connections = max_connections;
    genesys::async_tokens_api<genesys::beast_async_transport> api{
        genesys::beast_async_transport{ioc.get_executor(), options}, emulator_config()};
    call_pipeline pipeline{api};
    pipeline.start(in_flight);
    // Warm-up: every call slot completes a few calls (the pool opens its connections).
    while (pipeline.completed() < 4L * in_flight && pipeline.failure().empty() && ioc.run_one() != 0) {
    }

    long target = pipeline.completed();
    const double cpu_before = thread_cpu_us();
    for (auto _ : state) {
        ++target;
        while (pipeline.completed() < target)
            if (ioc.run_one() == 0)
                break;
        if (!pipeline.failure().empty() || pipeline.completed() < target) {
            state.SkipWithError(pipeline.failure().empty() ? "the io_context ran out of work"
                                                           : pipeline.failure().c_str());
            break;
        }
    }
    const double cpu_us = thread_cpu_us() - cpu_before;
    pipeline.stop();
    ioc.run(); // the calls still in flight finish, outside the timing
    state.SetItemsProcessed(state.iterations());
    state.counters["cpu_us_per_call"] = per_call(state, cpu_us);
    state.counters["in_flight"] = in_flight;
    // Keep-alive at work: the connections this run opened (the control connection is kept alive).
    state.counters["connections"] = connections_accepted() - connections_before;
}

/// The blocking client, one call after the other on one thread (connected before timing).
void sync_curl_get_tokens_me(benchmark::State& state)
{
    genesys::tokens_api<genesys::curl_transport> api{genesys::curl_transport{}, emulator_config()};
    auto call = [&] {
        auto r = api.try_get_tokens_me();
        if (!r) {
            state.SkipWithError(r.error().message.c_str());
            return false;
        }
        benchmark::DoNotOptimize(r->data);
        return true;
    };
    if (!call())
        return;
    const double cpu_before = thread_cpu_us();
    for (auto _ : state)
        if (!call())
            break;
    state.counters["cpu_us_per_call"] = per_call(state, thread_cpu_us() - cpu_before);
    state.SetItemsProcessed(state.iterations());
}

// ---- instructions per call: the async path against the sync path, same canned response --------

using bench::token_info_body; // the body bench_calls uses

genesys::client_config fake_config()
{
    genesys::client_config cfg;
    cfg.base_url = "https://api.mypurecloud.com";
    cfg.access_token = "hGdY3kZk0pL2q9mX7vB4nR8sT1wE6uA5cJ3fH0gK2lM9oP7iU4yT6rE1wQ8aS5dF3g";
    return cfg;
}

genesys::http_response canned_response() { return {200, {}, std::string(token_info_body)}; }

/// `n` calls of `async_get_tokens_me`, one after the other (each completion starts the next), run
/// to completion on an io_context, after one call that may set things up. Returns false when a
/// call failed.
bool run_async_fake(long n)
{
    boost::asio::io_context ioc(1);
    genesys::testing::async_fake_transport fake{ioc.get_executor()};
    fake.respond_by_default(canned_response());
    genesys::async_tokens_api<genesys::testing::async_fake_transport> api{fake, fake_config()};
    call_pipeline pipeline{api};
    pipeline.start(1);
    while (pipeline.completed() < n + 1 && ioc.run_one() != 0) {
    }
    pipeline.stop();
    ioc.run();
    return pipeline.failure().empty() && pipeline.completed() >= n + 1;
}

/// `n` calls of `try_get_tokens_me` over the blocking fake, after one call that may set things up.
bool run_sync_fake(long n)
{
    genesys::testing::fake_transport fake;
    fake.respond_by_default(canned_response());
    genesys::tokens_api<genesys::testing::fake_transport> api{fake, fake_config()};
    bool ok = true;
    for (long i = 0; i <= n; ++i) {
        auto r = api.try_get_tokens_me();
        ok = ok && r.has_value();
        benchmark::DoNotOptimize(r);
    }
    return ok;
}

struct instruction_case {
    const char* name;
    bool (*run)(long);
};

constexpr instruction_case instruction_cases[] = {
    {"async_get_tokens_me", &run_async_fake},
    {"sync_get_tokens_me", &run_sync_fake},
};

// ---- the JS SDK peer against the same emulator -------------------------------------------------

/// `program` itself when it names a path, else the first match on PATH (posix_spawn does not search).
std::string find_program(const std::string& program)
{
    if (program.find('/') != std::string::npos)
        return program;
    const char* path = std::getenv("PATH");
    std::string_view dirs = path ? path : "";
    while (!dirs.empty()) {
        const auto colon = dirs.find(':');
        const std::filesystem::path candidate = std::filesystem::path(dirs.substr(0, colon)) / program;
        std::error_code ec;
        if (std::filesystem::is_regular_file(candidate, ec))
            return candidate.string();
        dirs = colon == std::string_view::npos ? std::string_view{} : dirs.substr(colon + 1);
    }
    return program;
}

int run_peer(int argc, char** argv)
{
    std::vector<std::string> command(argv, argv + argc);
    command[0] = find_program(command[0]);
    const auto r = testproc::run(command, {{"GENESYS_BASE_URL", emulator().base_url()},
                                           {"GENESYS_ACCESS_TOKEN", std::string(seed::agent_token)}});
    std::fputs(r.out.c_str(), stdout);
    std::fputs(r.err.c_str(), stderr);
    return r.exit_code;
}

// ---- the table ---------------------------------------------------------------------------------

void print_table(const bench::collecting_reporter& r)
{
    // Rows of "KIND IN_FLIGHT CALLS_PER_SECOND CPU_US_PER_CALL": scripts/bench.sh reads them.
    std::printf("\n%-22s %10s %12s %16s\n", "loopback get_tokens_me", "in flight", "calls/s", "client CPU us/call");
    auto row = [&](const char* kind, int n, const std::string& name) {
        if (const auto* o = r.find(name))
            std::printf("%-22s %10d %12.0f %16.1f\n", kind, n, 1e9 / o->ns, o->counters.at("cpu_us_per_call"));
    };
    for (int n : in_flight_counts)
        row("async", n, "async_get_tokens_me_" + std::to_string(n));
    row("async_64_connections", 64, "async_get_tokens_me_64_pool64");
    row("sync_curl", 1, "sync_curl_get_tokens_me");
}

} // namespace

int main(int argc, char** argv)
{
    if (argc == 4 && std::strcmp(argv[1], "--instructions") == 0) {
        for (const auto& c : instruction_cases)
            if (std::strcmp(c.name, argv[2]) == 0) {
                if (!c.run(std::atol(argv[3]))) {
                    std::fprintf(stderr, "a call of %s failed\n", c.name);
                    return 1;
                }
                return 0;
            }
        std::fprintf(stderr, "no case named %s\n", argv[2]);
        return 2;
    }

    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (argc >= 3 && std::strcmp(argv[1], "--run-peer") == 0) {
        const int status = run_peer(argc - 2, argv + 2);
        curl_global_cleanup();
        return status;
    }

    for (int n : in_flight_counts)
        benchmark::RegisterBenchmark(("async_get_tokens_me_" + std::to_string(n)).c_str(), &async_get_tokens_me, n,
                                     genesys::beast_async_options{}.max_connections)
            ->UseRealTime();
    // As many connections as calls in flight, as Node's agent opens for the JS SDK.
    benchmark::RegisterBenchmark("async_get_tokens_me_64_pool64", &async_get_tokens_me, 64, std::size_t{64})
        ->UseRealTime();
    benchmark::RegisterBenchmark("sync_curl_get_tokens_me", &sync_curl_get_tokens_me)->UseRealTime();

    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;
    bench::collecting_reporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();
    print_table(reporter);
    curl_global_cleanup();
    return reporter.failed ? 1 : 0;
}
