// SPDX-License-Identifier: BSL-1.0
// <genesys/token_validator_metrics.hpp>: the histogram's buckets and the Prometheus text
// exposition; what the validator records is tested with it (token_validator.cpp).
#include <genesys/token_validator_metrics.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <string>

using namespace std::chrono_literals;

namespace {

/// The line of `text` that starts with `start`, or empty.
std::string line_of(const std::string& text, const std::string& start)
{
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t end = text.find('\n', pos);
        const std::string line = text.substr(pos, end - pos);
        if (line.rfind(start, 0) == 0)
            return line;
        if (end == std::string::npos)
            break;
        pos = end + 1;
    }
    return {};
}

std::size_t count_of(const std::string& text, const std::string& what)
{
    std::size_t n = 0;
    for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1))
        ++n;
    return n;
}

} // namespace

TEST_CASE("duration_histogram: a duration falls in the first bucket whose bound it does not pass")
{
    genesys::duration_histogram h;
    h.observe(5ms);    // at the bound: le="0.005"
    h.observe(6ms);    // le="0.01"
    h.observe(10s);    // le="10"
    h.observe(11s);    // above every bound
    h.observe(0ns);
    CHECK(h.counts[0] == 2);
    CHECK(h.counts[1] == 1);
    CHECK(h.counts[13] == 1);
    CHECK(h.counts[14] == 1);
    CHECK(h.count == 5);
    CHECK(h.sum == doctest::Approx(21.011));
}

TEST_CASE("write_prometheus: counters, gauges and the API calls' histogram, by the naming conventions")
{
    genesys::token_validator_metrics m;
    m.stats.hits = 7;
    m.stats.misses = 3;
    m.stats.rate_limited = 2;
    m.stats.overloaded = 1;
    m.stats.entries = 5;
    m.stats.checks_in_flight = 1;
    genesys::api_call_durations ok;
    ok.status = 200;
    ok.durations.observe(20ms);
    ok.durations.observe(300ms);
    genesys::api_call_durations limited;
    limited.status = 429;
    limited.error_type = "429";
    limited.durations.observe(2ms);
    genesys::api_call_durations down;
    down.error_type = "network";
    down.durations.observe(1s);
    m.api_calls = {down, ok, limited};
    std::string out;
    genesys::write_prometheus(out, m);

    CHECK(line_of(out, "# TYPE genesys_token_validator_hits_total ") == "# TYPE genesys_token_validator_hits_total counter");
    CHECK(line_of(out, "genesys_token_validator_hits_total ") == "genesys_token_validator_hits_total 7");
    CHECK(line_of(out, "genesys_token_validator_misses_total ") == "genesys_token_validator_misses_total 3");
    CHECK(line_of(out, "genesys_token_validator_rate_limited_total ") == "genesys_token_validator_rate_limited_total 2");
    CHECK(line_of(out, "genesys_token_validator_overloaded_total ") == "genesys_token_validator_overloaded_total 1");
    CHECK(line_of(out, "# TYPE genesys_token_validator_entries ") == "# TYPE genesys_token_validator_entries gauge");
    CHECK(line_of(out, "genesys_token_validator_entries ") == "genesys_token_validator_entries 5");
    CHECK(line_of(out, "genesys_token_validator_checks_in_flight ") == "genesys_token_validator_checks_in_flight 1");
    for (const char* c : {"negative_hits_total", "stale_hits_total", "coalesced_total", "evictions_total",
                          "errors_total", "policy_rejections_total", "refused_total"})
        CHECK(line_of(out, std::string("genesys_token_validator_") + c + " ") ==
              std::string("genesys_token_validator_") + c + " 0");

    // One family, HELP and TYPE once; cumulative buckets up to +Inf; _sum and _count.
    const std::string h = "http_client_request_duration_seconds";
    CHECK(count_of(out, "# TYPE " + h + " histogram\n") == 1);
    CHECK(count_of(out, "# HELP " + h + " ") == 1);
    const std::string ok_labels = R"(http_request_method="GET",http_response_status_code="200")";
    CHECK(line_of(out, h + "_bucket{" + ok_labels + R"(,le="0.01"})") == h + "_bucket{" + ok_labels + R"(,le="0.01"} 0)");
    CHECK(line_of(out, h + "_bucket{" + ok_labels + R"(,le="0.025"})") == h + "_bucket{" + ok_labels + R"(,le="0.025"} 1)");
    CHECK(line_of(out, h + "_bucket{" + ok_labels + R"(,le="0.5"})") == h + "_bucket{" + ok_labels + R"(,le="0.5"} 2)");
    CHECK(line_of(out, h + "_bucket{" + ok_labels + R"(,le="+Inf"})") == h + "_bucket{" + ok_labels + R"(,le="+Inf"} 2)");
    CHECK(line_of(out, h + "_sum{" + ok_labels + "}") == h + "_sum{" + ok_labels + "} 0.32");
    CHECK(line_of(out, h + "_count{" + ok_labels + "}") == h + "_count{" + ok_labels + "} 2");
    CHECK(count_of(out, h + "_bucket{" + ok_labels) == 15);
    const std::string limited_labels = R"(http_request_method="GET",http_response_status_code="429",error_type="429")";
    CHECK(line_of(out, h + "_count{" + limited_labels + "}") == h + "_count{" + limited_labels + "} 1");
    // No answer: no status label, the error type says why.
    const std::string down_labels = R"(http_request_method="GET",error_type="network")";
    CHECK(line_of(out, h + "_bucket{" + down_labels + R"(,le="1"})") == h + "_bucket{" + down_labels + R"(,le="1"} 1)");
    CHECK(line_of(out, h + "_bucket{" + down_labels + R"(,le="0.75"})") == h + "_bucket{" + down_labels + R"(,le="0.75"} 0)");
    CHECK(out.back() == '\n');
}

TEST_CASE("write_prometheus: the prefix, extra values from other layers, no histogram without calls")
{
    genesys::token_validator_metrics m;
    m.stats.hits = 1;
    m.extra.push_back({"shared_cache_hits_total", "Answers read from the shared cache.", true, 4});
    m.extra.push_back({"shared_cache_connected", "1 while the shared cache is reachable.", false, 1});
    std::string out = "# before\n";
    genesys::write_prometheus(out, m, "svc-a.validator_");
    CHECK(out.rfind("# before\n", 0) == 0); // appended
    CHECK(line_of(out, "svc_a_validator_hits_total ") == "svc_a_validator_hits_total 1");
    CHECK(line_of(out, "# TYPE svc_a_validator_shared_cache_hits_total ") ==
          "# TYPE svc_a_validator_shared_cache_hits_total counter");
    CHECK(line_of(out, "svc_a_validator_shared_cache_hits_total ") == "svc_a_validator_shared_cache_hits_total 4");
    CHECK(line_of(out, "# TYPE svc_a_validator_shared_cache_connected ") ==
          "# TYPE svc_a_validator_shared_cache_connected gauge");
    CHECK(out.find("http_client_request_duration_seconds") == std::string::npos);
}

TEST_CASE("write_prometheus: a label value is escaped")
{
    genesys::token_validator_metrics m;
    genesys::api_call_durations odd;
    odd.error_type = "a\"b\\c\nd";
    odd.durations.observe(1ms);
    m.api_calls = {odd};
    std::string out;
    genesys::write_prometheus(out, m);
    CHECK(out.find(R"(error_type="a\"b\\c\nd")") != std::string::npos);
}
