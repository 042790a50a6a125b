// SPDX-License-Identifier: BSL-1.0
// The asynchronous client against its floor, over loopback HTTP to a server that answers at once
// with a fixed TokenInfo body (nginx from apt, started by scripts/bench.sh on a loopback port with
// its own configuration, pinned to the other core). With 1, 16 and 64 calls in flight:
//
//   library     `async_tokens_api<beast_async_transport>::async_get_tokens_me` on one io_context
//               thread, the transport's default pool (8 connections);
//   floor       a minimal hand-written Boost.Beast client on one io_context thread: min(in flight, 8)
//               keep-alive sockets, each writing a `GET` (`http::async_write`), reading the answer
//               into a string body (`http::async_read`) and parsing it (`boost::json::parse`);
//               calls beyond the sockets wait in a queue; no timers, no strand, no retry;
//   curl        the blocking `tokens_api<curl_transport>`, one per thread, as many threads as calls
//               in flight.
//
// Counters per call: the client process's CPU time (all its threads; the server is another
// process) and heap allocations through operator new (libcurl's own mallocs are not counted).
//
//   bench_floor --url URL [benchmark flags]   run the benchmarks, then print the table (URL
//                                             "emulator": start the emulator and use it)
//   bench_floor --print-body                  print the fixed body the server must answer with
//   bench_floor --calls CASE N URL            make N calls of one case (library_16, floor_64,
//                                             curl_1, ...) and exit: scripts/bench.sh runs it
//                                             under strace -c to count system calls per call

#include "alloc_counter.hpp"
#include "bench_data.hpp"
#include "bench_report.hpp"
#include "emulator.hpp"
#include "emulator_process.hpp"

#include <genesys/async_tokens_api.hpp>
#include <genesys/genesys.hpp>
#include <genesys/transport/beast_async.hpp>
#include <genesys/transport/curl.hpp>

#include <benchmark/benchmark.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <curl/curl.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

using me_result = genesys::result<genesys::api_response<genesys::token_info>>;

constexpr int in_flight_counts[] = {1, 16, 64};
constexpr std::size_t pool_size = 8; // beast_async_options' default max_connections
std::string token = "hGdY3kZk0pL2q9mX7vB4nR8sT1wE6uA5cJ3fH0gK2lM9oP7iU4yT6rE1wQ8aS5dF3g";

std::string server_url; // http://127.0.0.1:PORT
std::string server_host;
std::string server_port;

/// Takes `url`, or with "emulator" starts the emulator (rate limit lifted) and uses its URL and
/// one of its seeded tokens: the smoke test's server, when no nginx is running.
void set_url(std::string url)
{
    if (url == "emulator") {
        static testproc::emulator_process emulator{false, {"--rate-limit", "1000000000"}};
        url = emulator.base_url();
        token = std::string(genesys_emulator::seed::agent_token);
    }
    server_url = url;
    const auto host_start = url.find("://") + 3;
    const auto colon = url.find(':', host_start);
    server_host = url.substr(host_start, colon - host_start);
    server_port = url.substr(colon + 1);
    if (!server_port.empty() && server_port.back() == '/')
        server_port.pop_back();
}

double process_cpu_us()
{
    timespec ts{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

genesys::client_config config()
{
    genesys::client_config cfg;
    cfg.base_url = server_url;
    cfg.access_token = token;
    return cfg;
}

// ---- the library ---------------------------------------------------------------------------------

/// Keeps `async_get_tokens_me` calls going: each completion starts the next until `stop()`.
class library_client {
public:
    explicit library_client(asio::io_context& ioc)
        : api_{genesys::beast_async_transport{ioc.get_executor(), genesys::beast_async_options{}}, config()}
    {
    }

    void start(int n)
    {
        for (int i = 0; i < n; ++i)
            launch();
    }
    void stop() { stopping_ = true; }
    long completed() const { return completed_; }
    const std::string& failure() const { return failure_; }

private:
    void launch()
    {
        api_.async_get_tokens_me([this](me_result r) {
            ++completed_;
            if (!r && failure_.empty())
                failure_ = r.error().message.empty() ? "a call failed" : r.error().message;
            else if (r)
                benchmark::DoNotOptimize(r->data);
            if (!stopping_)
                launch();
        });
    }

    genesys::async_tokens_api<genesys::beast_async_transport> api_;
    long completed_ = 0;
    bool stopping_ = false;
    std::string failure_;
};

// ---- the floor -----------------------------------------------------------------------------------

/// The hand-written Beast client: `sockets` keep-alive connections on one io_context; a call is a
/// GET written with http::async_write and an answer read into a string body and parsed. Calls
/// beyond the sockets wait for a free one.
class floor_client {
public:
    floor_client(asio::io_context& ioc, std::size_t sockets)
    {
        asio::ip::tcp::resolver resolver(ioc);
        const auto endpoints = resolver.resolve(server_host, server_port);
        for (std::size_t i = 0; i < sockets; ++i) {
            auto c = std::make_unique<connection>(ioc);
            c->stream.connect(endpoints);
            c->stream.socket().set_option(asio::ip::tcp::no_delay(true));
            idle_.push_back(c.get());
            connections_.push_back(std::move(c));
        }
    }

    void start(int n)
    {
        for (int i = 0; i < n; ++i)
            call();
    }
    void stop() { stopping_ = true; }
    long completed() const { return completed_; }
    const std::string& failure() const { return failure_; }

private:
    struct connection {
        explicit connection(asio::io_context& ioc) : stream(ioc) {}
        beast::tcp_stream stream;
        beast::flat_buffer buffer;
        http::request<http::empty_body> request;
        http::response<http::string_body> response;
    };

    void call()
    {
        if (idle_.empty()) {
            ++queued_;
            return;
        }
        connection* c = idle_.back();
        idle_.pop_back();
        send(*c);
    }

    void send(connection& c)
    {
        c.request = {};
        c.request.method(http::verb::get);
        c.request.target("/api/v2/tokens/me");
        c.request.version(11);
        c.request.set(http::field::host, server_host + ":" + server_port);
        c.request.set(http::field::authorization, "Bearer " + token);
        c.request.set(http::field::accept, "application/json");
        http::async_write(c.stream, c.request, [this, &c](beast::error_code ec, std::size_t) {
            if (ec)
                return fail(ec);
            c.response = {};
            http::async_read(c.stream, c.buffer, c.response, [this, &c](beast::error_code ec, std::size_t) {
                if (ec)
                    return fail(ec);
                auto v = boost::json::parse(c.response.body());
                benchmark::DoNotOptimize(v);
                ++completed_;
                if (!stopping_) {
                    if (queued_ > 0) { // the completed call starts the next; a waiting one goes first
                        send(c);
                        return;
                    }
                    idle_.push_back(&c);
                    call();
                    return;
                }
                idle_.push_back(&c);
            });
        });
    }

    void fail(beast::error_code ec)
    {
        if (failure_.empty())
            failure_ = ec.message();
    }

    std::vector<std::unique_ptr<connection>> connections_;
    std::vector<connection*> idle_;
    long queued_ = 0; // calls waiting for a socket (each completion starts one more: the count stays)
    long completed_ = 0;
    bool stopping_ = false;
    std::string failure_;
};

// ---- one io_context thread, N in flight ----------------------------------------------------------

template <class Client>
void run_in_flight(benchmark::State& state, Client& client, asio::io_context& ioc, int in_flight)
{
    client.start(in_flight);
    while (client.completed() < 4L * in_flight && client.failure().empty() && ioc.run_one() != 0) {
    }
    long target = client.completed();
    const double cpu_before = process_cpu_us();
    const auto allocs_before = bench::allocations();
    for (auto _ : state) {
        ++target;
        while (client.completed() < target)
            if (ioc.run_one() == 0)
                break;
        if (!client.failure().empty() || client.completed() < target) {
            state.SkipWithError(client.failure().empty() ? "the io_context ran out of work" : client.failure().c_str());
            break;
        }
    }
    const double calls = static_cast<double>(std::max<benchmark::IterationCount>(state.iterations(), 1));
    state.counters["cpu_us_per_call"] = (process_cpu_us() - cpu_before) / calls;
    state.counters["allocs_per_call"] = static_cast<double>(bench::allocations() - allocs_before) / calls;
    client.stop();
    ioc.run();
    state.SetItemsProcessed(state.iterations());
}

void library_case(benchmark::State& state, int in_flight)
{
    asio::io_context ioc(1);
    library_client client{ioc};
    run_in_flight(state, client, ioc, in_flight);
}

void floor_case(benchmark::State& state, int in_flight)
{
    asio::io_context ioc(1);
    floor_client client{ioc, std::min<std::size_t>(static_cast<std::size_t>(in_flight), pool_size)};
    run_in_flight(state, client, ioc, in_flight);
}

/// The blocking client on `threads` threads, each its own `tokens_api<curl_transport>` making
/// calls one after the other, until the shared count of calls is reached. One benchmark iteration
/// is one call (the iterations are split between the threads by Google Benchmark).
void curl_case(benchmark::State& state)
{
    thread_local std::unique_ptr<genesys::tokens_api<genesys::curl_transport>> api;
    if (!api) {
        api = std::make_unique<genesys::tokens_api<genesys::curl_transport>>(genesys::curl_transport{}, config());
        (void)api->try_get_tokens_me(); // connected before timing
    }
    static std::atomic<double> cpu_before{0};
    static std::atomic<std::uint64_t> allocs_before{0};
    if (state.thread_index() == 0) {
        cpu_before = process_cpu_us();
        allocs_before = bench::allocations();
    }
    for (auto _ : state) {
        auto r = api->try_get_tokens_me();
        if (!r) {
            state.SkipWithError(r.error().message.c_str());
            break;
        }
        benchmark::DoNotOptimize(r->data);
    }
    state.SetItemsProcessed(state.iterations());
    if (state.thread_index() == 0) {
        // Thread 0 reads the process's CPU after its own loop, the others ending theirs at about the
        // same time; kAvgIterations divides by the calls of every thread.
        state.counters["cpu_us_per_call"] =
            benchmark::Counter(process_cpu_us() - cpu_before, benchmark::Counter::kAvgIterations);
        state.counters["allocs_per_call"] = benchmark::Counter(
            static_cast<double>(bench::allocations() - allocs_before), benchmark::Counter::kAvgIterations);
    }
}

// ---- calls for strace ----------------------------------------------------------------------------

bool make_calls(const std::string& kind, int in_flight, long n)
{
    if (kind == "curl") {
        std::atomic<long> left{n};
        std::atomic<bool> ok{true};
        std::vector<std::thread> threads;
        for (int t = 0; t < in_flight; ++t)
            threads.emplace_back([&] {
                genesys::tokens_api<genesys::curl_transport> api{genesys::curl_transport{}, config()};
                while (left.fetch_sub(1) > 0)
                    if (!api.try_get_tokens_me())
                        ok = false;
            });
        for (auto& t : threads)
            t.join();
        return ok;
    }
    asio::io_context ioc(1);
    auto drive = [&](auto& client) {
        client.start(in_flight);
        while (client.completed() < n && client.failure().empty() && ioc.run_one() != 0) {
        }
        client.stop();
        ioc.run();
        return client.failure().empty();
    };
    if (kind == "library") {
        library_client client{ioc};
        return drive(client);
    }
    if (kind == "floor") {
        floor_client client{ioc, std::min<std::size_t>(static_cast<std::size_t>(in_flight), pool_size)};
        return drive(client);
    }
    return false;
}

void print_table(const bench::collecting_reporter& r)
{
    // Rows of "KIND IN_FLIGHT CALLS_PER_SECOND CPU_US_PER_CALL ALLOCS_PER_CALL": scripts/bench.sh reads them.
    std::printf("\n%-10s %10s %12s %16s %16s\n", "fixed body", "in flight", "calls/s", "client CPU us/call",
                "allocs/call");
    for (int n : in_flight_counts) {
        for (const char* kind : {"library", "floor"})
            if (const auto* o = r.find(std::string(kind) + "_" + std::to_string(n)))
                std::printf("%-10s %10d %12.0f %16.2f %16.1f\n", kind, n, 1e9 / o->ns, o->counters.at("cpu_us_per_call"),
                            o->counters.at("allocs_per_call"));
        if (const auto* o = r.find("curl_" + std::to_string(n)))
            std::printf("%-10s %10d %12.0f %16.2f %16.1f\n", "curl", n, 1e9 / o->ns, o->counters.at("cpu_us_per_call"),
                        o->counters.at("allocs_per_call"));
    }
}

} // namespace

int main(int argc, char** argv)
{
    if (argc == 2 && std::strcmp(argv[1], "--print-body") == 0) {
        std::fwrite(bench::token_info_body.data(), 1, bench::token_info_body.size(), stdout);
        return 0;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (argc == 5 && std::strcmp(argv[1], "--calls") == 0) {
        set_url(argv[4]);
        const std::string c = argv[2];
        const auto underscore = c.find('_');
        const bool ok = underscore != std::string::npos &&
                        make_calls(c.substr(0, underscore), std::atoi(c.c_str() + underscore + 1), std::atol(argv[3]));
        curl_global_cleanup();
        return ok ? 0 : 1;
    }
    if (argc < 3 || std::strcmp(argv[1], "--url") != 0) {
        std::fprintf(stderr, "usage: bench_floor --url http://127.0.0.1:PORT [benchmark flags] | --print-body | "
                             "--calls CASE N URL\n");
        return 2;
    }
    set_url(argv[2]);
    argv[2] = argv[0];
    argc -= 2;
    argv += 2;

    for (int n : in_flight_counts) {
        benchmark::RegisterBenchmark(("library_" + std::to_string(n)).c_str(), &library_case, n)->UseRealTime();
        benchmark::RegisterBenchmark(("floor_" + std::to_string(n)).c_str(), &floor_case, n)->UseRealTime();
        benchmark::RegisterBenchmark(("curl_" + std::to_string(n)).c_str(), &curl_case)->Threads(n)->UseRealTime();
    }
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
