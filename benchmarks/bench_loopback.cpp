// SPDX-License-Identifier: BSL-1.0
// Sequential calls per second over loopback HTTP against the emulator: through tokens_api with
// the libcurl adapter and with the Boost.Beast adapter, beside a hand-written libcurl loop that
// makes the same requests on one kept-alive connection (the floor for that stack).
//
// The emulator runs as a child process (rate limit lifted), so client and server each have a core.

#include "bench_report.hpp"
#include "emulator.hpp"
#include "emulator_process.hpp"

#include <genesys/genesys.hpp>
#include <genesys/transport/beast.hpp>
#include <genesys/transport/curl.hpp>

#include <benchmark/benchmark.h>
#include <boost/json.hpp>
#include <curl/curl.h>

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

namespace {

namespace seed = genesys_emulator::seed;

testproc::emulator_process& emulator()
{
    static testproc::emulator_process instance{false, {"--rate-limit", "1000000000"}};
    return instance;
}

template <class Transport>
genesys::tokens_api<Transport> make_api(Transport transport)
{
    genesys::client_config cfg;
    cfg.base_url = emulator().base_url();
    cfg.access_token = seed::agent_token;
    cfg.allow_insecure_http = true;
    return {std::move(transport), std::move(cfg)};
}

template <class Call>
void run_calls(benchmark::State& state, Call call)
{
    call(); // connect outside the measurement
    for (auto _ : state)
        call();
}

template <class Transport>
void library_verify_token(benchmark::State& state, Transport transport)
{
    auto api = make_api(std::move(transport));
    run_calls(state, [&] {
        if (!api.verify_token())
            state.SkipWithError("the agent token is not valid");
    });
}

template <class Transport>
void library_get_tokens_me(benchmark::State& state, Transport transport)
{
    auto api = make_api(std::move(transport));
    run_calls(state, [&] {
        genesys::token_info info = api.get_tokens_me();
        benchmark::DoNotOptimize(info);
    });
}

void curl_verify_token(benchmark::State& state) { library_verify_token(state, genesys::curl_transport{}); }
void curl_get_tokens_me(benchmark::State& state) { library_get_tokens_me(state, genesys::curl_transport{}); }
void beast_verify_token(benchmark::State& state) { library_verify_token(state, genesys::beast_transport{}); }
void beast_get_tokens_me(benchmark::State& state) { library_get_tokens_me(state, genesys::beast_transport{}); }

// ---- the floor: one easy handle, set up once, performed again and again ----------------------

struct easy_handle {
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> handle{curl_easy_init(), &curl_easy_cleanup};
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers{nullptr, &curl_slist_free_all};
    std::string body;

    static std::size_t on_body(char* data, std::size_t size, std::size_t count, void* self)
    {
        static_cast<easy_handle*>(self)->body.append(data, size * count);
        return size * count;
    }

    explicit easy_handle(bool head)
    {
        CURL* h = handle.get();
        const std::string url = emulator().base_url() + "/api/v2/tokens/me";
        const std::string authorization = "Authorization: Bearer " + std::string(seed::agent_token);
        const std::string user_agent = "User-Agent: " + std::string(genesys::default_user_agent);
        for (const std::string& line :
             {authorization, std::string("Accept: application/json"), std::string("Content-Type: application/json"),
              user_agent})
            headers.reset(curl_slist_append(headers.release(), line.c_str()));
        curl_easy_setopt(h, CURLOPT_URL, url.c_str());
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
        curl_easy_setopt(h, CURLOPT_NOBODY, head ? 1L : 0L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &easy_handle::on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, this);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    }

    /// Performs the request; the status, or 0 on a network failure.
    long perform()
    {
        body.clear();
        if (curl_easy_perform(handle.get()) != CURLE_OK)
            return 0;
        long status = 0;
        curl_easy_getinfo(handle.get(), CURLINFO_RESPONSE_CODE, &status);
        return status;
    }
};

void libcurl_verify_token(benchmark::State& state)
{
    easy_handle h{true};
    run_calls(state, [&] {
        if (h.perform() != 200)
            state.SkipWithError("HEAD /api/v2/tokens/me failed");
    });
}

void libcurl_get_tokens_me(benchmark::State& state)
{
    easy_handle h{false};
    run_calls(state, [&] {
        if (h.perform() != 200)
            state.SkipWithError("GET /api/v2/tokens/me failed");
        // A hand-written client reads the body too.
        boost::system::error_code ec;
        boost::json::value jv = boost::json::parse(h.body, ec);
        benchmark::DoNotOptimize(jv);
    });
}

BENCHMARK(curl_verify_token)->UseRealTime();
BENCHMARK(beast_verify_token)->UseRealTime();
BENCHMARK(libcurl_verify_token)->UseRealTime();
BENCHMARK(curl_get_tokens_me)->UseRealTime();
BENCHMARK(beast_get_tokens_me)->UseRealTime();
BENCHMARK(libcurl_get_tokens_me)->UseRealTime();

void print_table(const bench::collecting_reporter& r)
{
    std::printf("\n%-15s %10s %10s %14s %8s %6s %10s\n", "loopback", "curl/s", "beast/s", "libcurl loop/s",
                "curl x", ">=0.9", "beast x");
    for (const char* op : {"verify_token", "get_tokens_me"}) {
        const auto* curl = r.find(std::string("curl_") + op);
        const auto* beast = r.find(std::string("beast_") + op);
        const auto* floor = r.find(std::string("libcurl_") + op);
        if (!curl || !beast || !floor)
            continue;
        const double curl_rate = 1e9 / curl->ns, beast_rate = 1e9 / beast->ns, floor_rate = 1e9 / floor->ns;
        std::printf("%-15s %10.0f %10.0f %14.0f %8.2f %6s %10.2f\n", op, curl_rate, beast_rate, floor_rate,
                    curl_rate / floor_rate, bench::verdict(curl_rate / floor_rate >= 0.9), beast_rate / floor_rate);
    }
}

} // namespace

int main(int argc, char** argv)
{
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    bench::collecting_reporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();
    print_table(reporter);
    curl_global_cleanup();
    return reporter.failed ? 1 : 0;
}
