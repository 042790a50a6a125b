// SPDX-License-Identifier: BSL-1.0
// The cost of one call, over a transport that answers at once from memory, beside a "floor": the
// work no client can avoid, written by hand (building the URL and header strings, parsing the body
// with boost::json::parse into a stack buffer and reading its fields into the same model). Also
// decoding alone, in documents and megabytes per second, and heap allocations per call. And the
// same calls through `tokens_api<any_transport>` (the transport type-erased), beside the concrete
// transport: what the erasure costs.
//
//   bench_calls                      run the benchmarks, then print the table of ratios
//   bench_calls --check-allocations  only count the allocations of one call of each operation
//                                    and exit 1 when one is over its budget (a ctest)
//   bench_calls --instructions CASE N  run one case N times, for callgrind (scripts/bench.sh
//                                    divides the difference of two counts by the difference of N)

#include "alloc_counter.hpp"
#include "bench_data.hpp"
#include "bench_report.hpp"

#include <genesys/any_transport.hpp>
#include <genesys/genesys.hpp>

#include <benchmark/benchmark.h>
#include <boost/json.hpp>

#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

// ---- the data: shaped as the platform sends it (platform-facts.md) ------------------------------

using bench::token_info_body;

/// The platform's 429 ErrorBody, with one detail and a limit.
constexpr std::string_view error_body_json =
    R"({"message":"Rate limit exceeded the maximum. Retry the request in [42] seconds",)"
    R"("code":"too.many.requests.retry.after","status":429,"contextId":"7d2c8e4a-1b3f-4d5e-9a6c-0f1e2d3c4b5a",)"
    R"("messageWithParams":"Rate limit exceeded the maximum. Retry the request in [{retryAfter}] seconds",)"
    R"("messageParams":{"retryAfter":"42"},"details":[{"errorCode":"too.many.requests","fieldName":"token"}],)"
    R"("errors":[],"limit":{"key":"token.rate.per.minute","namespace":"platform.api","value":300}})";

constexpr std::string_view base_url = "https://api.mypurecloud.com";
/// As long as a platform access token.
constexpr std::string_view access_token =
    "hGdY3kZk0pL2q9mX7vB4nR8sT1wE6uA5cJ3fH0gK2lM9oP7iU4yT6rE1wQ8aS5dF3g";
/// A user id: 36 characters.
constexpr std::string_view user_id = "0d6f2a31-5b7c-4e8d-9f10-1a2b3c4d5e6f";

/// Answers every request at once with a status and a copy of a body, as a server would without
/// the network: the only allocation it makes is that copy (none for an empty body).
struct in_memory_transport {
    int status = 200;
    std::string_view body;

    boost::system::result<genesys::http_response> send(const genesys::http_request& request)
    {
        benchmark::DoNotOptimize(request.url.data());
        return genesys::http_response{status, {}, std::string(body)};
    }
};

genesys::tokens_api<in_memory_transport> make_api(int status, std::string_view body)
{
    genesys::client_config cfg;
    cfg.base_url = base_url;
    cfg.access_token = access_token;
    return {in_memory_transport{status, body}, std::move(cfg)};
}

/// The same client, its transport type-erased: what business code that is not a template uses.
genesys::any_tokens_api make_erased_api(int status, std::string_view body)
{
    genesys::client_config cfg;
    cfg.base_url = base_url;
    cfg.access_token = access_token;
    return {in_memory_transport{status, body}, std::move(cfg)};
}

// ---- the floor: the unavoidable work, by hand -------------------------------------------------

/// The strings every request needs: the URL, and the four header values the platform expects.
struct request_strings {
    std::string url, authorization, accept, content_type, user_agent;
};

request_strings build_request(std::string_view path, std::string_view suffix = {})
{
    request_strings r;
    r.url.reserve(base_url.size() + path.size() + suffix.size());
    r.url.append(base_url).append(path).append(suffix);
    r.authorization.reserve(7 + access_token.size());
    r.authorization.append("Bearer ").append(access_token);
    r.accept = "application/json";
    r.content_type = "application/json";
    r.user_agent = genesys::default_user_agent;
    return r;
}

namespace by_hand {

using boost::json::object;

const object* child(const object& o, std::string_view key)
{
    const auto* v = o.if_contains(key);
    return v ? v->if_object() : nullptr;
}

void read(const object& o, std::string_view key, std::string& out)
{
    if (const auto* v = o.if_contains(key))
        if (const auto* s = v->if_string())
            out.assign(s->data(), s->size());
}

void read(const object& o, std::string_view key, std::optional<std::string>& out)
{
    if (const auto* v = o.if_contains(key))
        if (const auto* s = v->if_string())
            out.emplace(s->data(), s->size());
}

void read(const object& o, std::string_view key, std::optional<genesys::date_time>& out)
{
    if (const auto* v = o.if_contains(key))
        if (const auto* s = v->if_string())
            out = genesys::parse_date_time(std::string_view(s->data(), s->size()));
}

void read(const object& o, std::string_view key, std::optional<std::vector<std::string>>& out)
{
    const auto* v = o.if_contains(key);
    const auto* a = v ? v->if_array() : nullptr;
    if (!a)
        return;
    auto& list = out.emplace();
    list.reserve(a->size());
    for (const auto& item : *a)
        if (const auto* s = item.if_string())
            list.emplace_back(s->data(), s->size());
}

void read(const object& o, std::string_view key, std::optional<genesys::named_entity>& out)
{
    if (const auto* e = child(o, key)) {
        auto& n = out.emplace();
        read(*e, "id", n.id);
        read(*e, "name", n.name);
    }
}

void read(const object& o, std::string_view key, std::optional<genesys::domain_entity_ref>& out)
{
    if (const auto* e = child(o, key)) {
        auto& d = out.emplace();
        read(*e, "id", d.id);
        read(*e, "name", d.name);
        read(*e, "selfUri", d.self_uri);
    }
}

genesys::token_info token_info(const object& o)
{
    genesys::token_info t;
    read(o, "organization", t.organization);
    read(o, "homeOrganization", t.home_organization);
    read(o, "authorizedScope", t.authorized_scope);
    if (const auto* c = child(o, "clonedUser")) {
        auto& u = t.cloned_user.emplace();
        read(*c, "id", u.id);
        if (const auto* org = child(*c, "organization"))
            read(*org, "id", u.organization.emplace().id);
    }
    read(o, "dateTokenIdles", t.date_token_idles);
    if (const auto* c = child(o, "OAuthClient")) {
        auto& client = t.oauth_client.emplace();
        read(*c, "id", client.id);
        read(*c, "name", client.name);
        read(*c, "dateCreated", client.date_created);
        read(*c, "dateModified", client.date_modified);
        read(*c, "createdBy", client.created_by);
        read(*c, "modifiedBy", client.modified_by);
        read(*c, "authorizedGrantType", client.authorized_grant_type);
        read(*c, "scope", client.scope);
        if (const auto* v = c->if_contains("roleDivisions"); v && v->is_array()) {
            auto& list = client.role_divisions.emplace();
            for (const auto& item : v->get_array())
                if (const auto* rd = item.if_object()) {
                    auto& r = list.emplace_back();
                    read(*rd, "roleId", r.role_id);
                    read(*rd, "divisionId", r.division_id);
                }
        }
        read(*c, "state", client.state);
        read(*c, "dateToDelete", client.date_to_delete);
        read(*c, "organization", client.organization);
    }
    return t;
}

/// Parses `body` with a stack buffer and reads a TokenInfo from it.
genesys::token_info parse_token_info(std::string_view body)
{
    unsigned char buffer[4096];
    boost::json::monotonic_resource scratch(buffer, sizeof buffer);
    boost::system::error_code ec;
    boost::json::value jv = boost::json::parse(body, ec, &scratch);
    const auto* o = jv.if_object();
    if (ec || !o)
        return {};
    return token_info(*o);
}

} // namespace by_hand

// ---- per call ---------------------------------------------------------------------------------
//
// Each case is a function that sets up and returns "one call": the benchmarks time it, and
// `--instructions` runs it a given number of times for callgrind.

auto library_get_tokens_me()
{
    return [api = make_api(200, token_info_body)]() mutable {
        genesys::token_info info = api.get_tokens_me();
        benchmark::DoNotOptimize(info);
    };
}

auto floor_get_tokens_me()
{
    return [] {
        request_strings req = build_request("/api/v2/tokens/me");
        benchmark::DoNotOptimize(req);
        genesys::token_info info = by_hand::parse_token_info(token_info_body);
        benchmark::DoNotOptimize(info);
    };
}

auto library_verify_token()
{
    return [api = make_api(200, {})]() mutable {
        bool valid = api.verify_token();
        benchmark::DoNotOptimize(valid);
    };
}

auto floor_verify_token()
{
    return [] {
        request_strings req = build_request("/api/v2/tokens/me");
        benchmark::DoNotOptimize(req);
    };
}

auto library_delete_token()
{
    return [api = make_api(204, {})]() mutable { api.delete_token(user_id); };
}

auto floor_delete_token()
{
    return [] {
        // A user id is percent-encoded as one path segment (the same encoder: that work is unavoidable).
        std::string segment;
        segment.reserve(user_id.size());
        genesys::detail::append_percent_encoded(segment, user_id);
        request_strings req = build_request("/api/v2/tokens/", segment);
        benchmark::DoNotOptimize(req);
    };
}

auto erased_get_tokens_me()
{
    return [api = make_erased_api(200, token_info_body)]() mutable {
        genesys::token_info info = api.get_tokens_me();
        benchmark::DoNotOptimize(info);
    };
}

auto erased_verify_token()
{
    return [api = make_erased_api(200, {})]() mutable {
        bool valid = api.verify_token();
        benchmark::DoNotOptimize(valid);
    };
}

auto erased_delete_token()
{
    return [api = make_erased_api(204, {})]() mutable { api.delete_token(user_id); };
}

/// Times one call of `Make()`, then records the allocations of one more.
template <auto Make>
void per_call(benchmark::State& state)
{
    auto call = Make();
    for (auto _ : state)
        call();
    state.counters["allocs"] = static_cast<double>(bench::allocations_of(call));
}

/// Runs one call of `Make()` `n` times (after one call that may set things up).
template <auto Make>
void run_times(long n)
{
    auto call = Make();
    call();
    for (long i = 0; i < n; ++i)
        call();
}

struct call_case {
    const char* name;
    void (*bench)(benchmark::State&);
    void (*run)(long);
};

#define GENESYS_BENCH_CASE(f) call_case{#f, &per_call<&f>, &run_times<&f>}
const call_case call_cases[] = {
    GENESYS_BENCH_CASE(library_get_tokens_me), GENESYS_BENCH_CASE(floor_get_tokens_me),
    GENESYS_BENCH_CASE(library_verify_token),  GENESYS_BENCH_CASE(floor_verify_token),
    GENESYS_BENCH_CASE(library_delete_token),  GENESYS_BENCH_CASE(floor_delete_token),
    GENESYS_BENCH_CASE(erased_get_tokens_me),  GENESYS_BENCH_CASE(erased_verify_token),
    GENESYS_BENCH_CASE(erased_delete_token),
};
#undef GENESYS_BENCH_CASE

// ---- decoding alone ---------------------------------------------------------------------------

template <class Decode>
void run_decode(benchmark::State& state, std::string_view body, Decode decode)
{
    for (auto _ : state)
        decode();
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(body.size()));
    state.counters["allocs"] = static_cast<double>(bench::allocations_of(decode));
}

void decode_token_info(benchmark::State& state)
{
    run_decode(state, token_info_body, [] {
        genesys::token_info info;
        std::string why;
        bool ok = genesys::detail::decode_body(token_info_body, info, why);
        benchmark::DoNotOptimize(ok);
        benchmark::DoNotOptimize(info);
    });
}

void floor_decode_token_info(benchmark::State& state)
{
    run_decode(state, token_info_body, [] {
        genesys::token_info info = by_hand::parse_token_info(token_info_body);
        benchmark::DoNotOptimize(info);
    });
}

void decode_error_body(benchmark::State& state)
{
    run_decode(state, error_body_json, [] {
        auto body = genesys::detail::parse_error_body(error_body_json);
        benchmark::DoNotOptimize(body);
    });
}

void parse_only_error_body(benchmark::State& state)
{
    run_decode(state, error_body_json, [] {
        unsigned char buffer[4096];
        boost::json::monotonic_resource scratch(buffer, sizeof buffer);
        boost::system::error_code ec;
        boost::json::value jv = boost::json::parse(error_body_json, ec, &scratch);
        benchmark::DoNotOptimize(jv);
    });
}

BENCHMARK(decode_token_info);
BENCHMARK(floor_decode_token_info);
BENCHMARK(decode_error_body);
BENCHMARK(parse_only_error_body);

// ---- the table and the allocation budget -------------------------------------------------------

struct call_target {
    const char* operation;
    double max_ratio;
    int max_allocations; // -1: no budget
};

constexpr call_target call_targets[] = {
    {"get_tokens_me", 1.3, 40},
    {"verify_token", 1.3, 4},
    {"delete_token", 1.3, -1},
};

/// The most a call through `tokens_api<any_transport>` may take, against the concrete transport.
constexpr double erased_max_ratio = 1.05;

bool print_table(const bench::collecting_reporter& r)
{
    bool all_ok = true;
    std::printf("\n%-15s %12s %12s %7s %7s %8s %8s %8s\n", "per call", "library ns", "floor ns", "ratio", "<=1.3",
                "allocs", "floor", "budget");
    for (const auto& t : call_targets) {
        const auto* lib = r.find(std::string("library_") + t.operation);
        const auto* floor = r.find(std::string("floor_") + t.operation);
        if (!lib || !floor)
            continue;
        const double ratio = lib->ns / floor->ns;
        const double allocs = lib->counters.at("allocs");
        const bool time_ok = ratio <= t.max_ratio;
        const bool allocs_ok = t.max_allocations < 0 || allocs <= t.max_allocations;
        all_ok = all_ok && time_ok && allocs_ok;
        char budget[16] = "-";
        if (t.max_allocations >= 0)
            std::snprintf(budget, sizeof budget, "%d %s", t.max_allocations, bench::verdict(allocs_ok));
        std::printf("%-15s %12.0f %12.0f %7.2f %7s %8.0f %8.0f %8s\n", t.operation, lib->ns, floor->ns, ratio,
                    bench::verdict(time_ok), allocs, floor->counters.at("allocs"), budget);
    }
    // The type-erased transport beside the concrete one, in the same run.
    std::printf("\n%-15s %12s %12s %7s %7s %8s %8s\n", "any_transport", "erased ns", "concrete ns", "ratio", "<=1.05",
                "allocs", "concrete");
    for (const auto& t : call_targets) {
        const auto* erased = r.find(std::string("erased_") + t.operation);
        const auto* lib = r.find(std::string("library_") + t.operation);
        if (!erased || !lib)
            continue;
        const double ratio = erased->ns / lib->ns;
        const bool time_ok = ratio <= erased_max_ratio;
        all_ok = all_ok && time_ok;
        std::printf("%-15s %12.0f %12.0f %7.3f %7s %8.0f %8.0f\n", t.operation, erased->ns, lib->ns, ratio,
                    bench::verdict(time_ok), erased->counters.at("allocs"), lib->counters.at("allocs"));
    }
    std::printf("\n%-22s %12s %10s %8s\n", "decoding", "docs/s", "MB/s", "allocs");
    for (const char* name : {"decode_token_info", "floor_decode_token_info", "decode_error_body", "parse_only_error_body"}) {
        if (const auto* o = r.find(name))
            std::printf("%-22s %12.0f %10.1f %8.0f\n", name, o->counters.at("items_per_second"),
                        o->counters.at("bytes_per_second") / 1e6, o->counters.at("allocs"));
    }
    return all_ok;
}

/// Counts the allocations of one steady-state call of each operation; false when one is over budget.
/// A failed call hands its error on by moving it: the bytes a call answered 503 with a 1 MiB body
/// allocates stay near one copy of that body (the transport's), whatever path it takes (retrying
/// on, a token source, the throwing form). Copying the error at each step would make it several.
bool failed_calls_copy_no_body()
{
    const std::string big_body(1 << 20, 'x');
    genesys::client_config cfg;
    cfg.base_url = base_url;
    cfg.retry = genesys::retry_policy::standard(2);
    cfg.retry.retry_statuses = {}; // a retrying client that does not retry a 503
    cfg.token_source = std::make_shared<genesys::token_source>(
        []() -> genesys::result<genesys::api_response<genesys::oauth_token>> {
            return genesys::api_response<genesys::oauth_token>{{200, {}}, {std::string(access_token), "bearer", 3600, {}}};
        });
    genesys::tokens_api<in_memory_transport> api{in_memory_transport{503, big_body}, cfg};
    auto try_form = [&] {
        auto r = api.try_get_tokens_me();
        benchmark::DoNotOptimize(r);
    };
    auto throwing_form = [&] {
        try {
            (void)api.get_tokens_me();
        } catch (const genesys::api_error& e) {
            benchmark::DoNotOptimize(e.raw_body().size());
        }
    };
    try_form(); // the first call fetches the token
    const std::uint64_t budget = big_body.size() + big_body.size() / 2;
    bool ok = true;
    for (auto [name, bytes] : {std::pair{"failed try_ call", bench::bytes_of(try_form)},
                               std::pair{"failed throwing call", bench::bytes_of(throwing_form)}}) {
        const bool within = bytes <= budget;
        std::printf("%-21s %8llu bytes allocated with a 1 MiB error body (budget %llu): %s\n", name,
                    static_cast<unsigned long long>(bytes), static_cast<unsigned long long>(budget),
                    within ? "ok" : "OVER BUDGET");
        ok = ok && within;
    }
    return ok;
}

bool check_allocations()
{
    auto get_call = library_get_tokens_me();
    auto verify_call = library_verify_token();
    auto delete_call = library_delete_token();
    get_call(), verify_call(), delete_call(); // the first call of a client may set things up
    const std::uint64_t counts[] = {bench::allocations_of(get_call), bench::allocations_of(verify_call),
                                    bench::allocations_of(delete_call)};
    // The erased transport was allocated once, with its client: a call allocates what it would
    // over the concrete transport.
    auto erased_get = erased_get_tokens_me();
    auto erased_verify = erased_verify_token();
    auto erased_delete = erased_delete_token();
    erased_get(), erased_verify(), erased_delete();
    const std::uint64_t erased_counts[] = {bench::allocations_of(erased_get), bench::allocations_of(erased_verify),
                                           bench::allocations_of(erased_delete)};
    bool ok = failed_calls_copy_no_body();
    for (std::size_t i = 0; i < std::size(call_targets); ++i) {
        const auto& t = call_targets[i];
        const bool within = t.max_allocations < 0 || counts[i] <= static_cast<std::uint64_t>(t.max_allocations);
        const auto n = static_cast<unsigned long long>(counts[i]);
        if (t.max_allocations < 0)
            std::printf("%-15s %3llu allocations per call (no budget)\n", t.operation, n);
        else
            std::printf("%-15s %3llu allocations per call (budget %d): %s\n", t.operation, n, t.max_allocations,
                        within ? "ok" : "OVER BUDGET");
        ok = ok && within;
        const bool same = erased_counts[i] <= counts[i];
        std::printf("%-15s %3llu allocations per call through any_transport (concrete: %llu): %s\n", t.operation,
                    static_cast<unsigned long long>(erased_counts[i]), n, same ? "ok" : "MORE THAN CONCRETE");
        ok = ok && same;
    }
    return ok;
}

} // namespace

int main(int argc, char** argv)
{
    for (int i = 1; i < argc; ++i)
        if (std::strcmp(argv[i], "--check-allocations") == 0)
            return check_allocations() ? 0 : 1;

    if (argc == 4 && std::strcmp(argv[1], "--instructions") == 0) {
        for (const auto& c : call_cases)
            if (std::strcmp(c.name, argv[2]) == 0) {
                c.run(std::atol(argv[3]));
                return 0;
            }
        std::fprintf(stderr, "no case named %s\n", argv[2]);
        return 2;
    }
    for (const auto& c : call_cases)
        benchmark::RegisterBenchmark(c.name, c.bench);

    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;
    bench::collecting_reporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();
    const bool ok = print_table(reporter);
    std::printf("\n%s\n", ok ? "every per-call target met" : "a per-call target was missed");
    return reporter.failed ? 1 : 0;
}
