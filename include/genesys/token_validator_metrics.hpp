// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_TOKEN_VALIDATOR_METRICS_HPP
#define GENESYS_TOKEN_VALIDATOR_METRICS_HPP

/// @file
/// `token_validator_metrics`: a `token_validator`'s counters and the latency histograms of its
/// API calls (`metrics()`), and `write_prometheus`, their Prometheus text exposition.

#include <genesys/token_validator_stats.hpp>

#include <array>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace genesys {

/** A latency histogram with fixed buckets, in seconds: the bounds OpenTelemetry recommends for
    `http.client.request.duration`. */
struct duration_histogram {
    /// The buckets' upper bounds (`le`), in seconds; one more bucket holds what is above them.
    static constexpr std::array<double, 14> bounds = {0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
                                                      0.5,   0.75, 1,     2.5,  5,     7.5, 10};
    /// How many durations fell in each bucket (not cumulative): `counts[i]` those at most
    /// `bounds[i]` and above `bounds[i - 1]`; the last those above every bound.
    std::array<std::uint64_t, bounds.size() + 1> counts{};
    double sum = 0;          ///< the durations' sum, in seconds
    std::uint64_t count = 0; ///< how many durations

    /// Counts one duration.
    void observe(std::chrono::nanoseconds d) noexcept
    {
        const double s = std::chrono::duration<double>(d).count();
        std::size_t i = 0;
        while (i < bounds.size() && s > bounds[i])
            ++i;
        ++counts[i];
        sum += s;
        ++count;
    }
};

/// The durations of a validator's API calls (`GET /api/v2/tokens/me`) that ended one way.
struct api_call_durations {
    /// The HTTP status of the answer, or 0 when none came.
    int status = 0;
    /// Empty for a call that succeeded; else, as OpenTelemetry's `error.type`: the status
    /// (`"429"`, `"503"`), `"timeout"`, `"network"`, or `"decode"` for a 2xx whose body did not
    /// decode.
    std::string error_type{};
    /// How long the calls took, each with its retries.
    duration_histogram durations{};
};

/// A counter or a gauge another layer adds to the exposition (a shared cache's, say): written
/// as `<prefix><name>`; a counter's `name` ends with `_total`.
struct metric_value {
    std::string name{};          ///< e.g. `"shared_cache_hits_total"`: `[a-z0-9_]`, the prefix is added
    std::string help{};          ///< one line
    bool counter = true;         ///< false: a gauge
    std::uint64_t value = 0;     ///< the count, or the gauge's value
};

/** A snapshot of a `token_validator`'s metrics (`metrics()`), each read on its own (not one
    atomic snapshot). No token, nor a hash of one, is in it. */
struct token_validator_metrics {
    /// The counters, as `stats()` returns them.
    token_validator_stats stats{};
    /// The API calls' durations, one series per status and `error_type`, ordered by them.
    std::vector<api_call_durations> api_calls{};
    /** Values other layers add, written after the validator's own. From `metrics()`: with a
        shared cache (`token_validator_options::shared_cache`), its counters
        (`shared_token_cache_stats`) as `shared_cache_hits_total`, `shared_cache_misses_total`,
        `shared_cache_lock_waits_total`, `shared_cache_lock_timeouts_total`,
        `shared_cache_stores_total`, `shared_cache_rejected_entries_total`,
        `shared_cache_errors_total`, `shared_cache_unavailable_total`,
        `shared_cache_revocations_sent_total`, `shared_cache_revocations_received_total`,
        `shared_cache_revocations_rejected_total`, `shared_cache_reconnects_total`, and the gauges
        `shared_cache_connected` and `shared_cache_breaker_open` (0 or 1); else empty. */
    std::vector<metric_value> extra{};
};

namespace detail {

inline void append_number(std::string& out, double v)
{
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

inline void append_number(std::string& out, std::uint64_t v)
{
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

/// `name` with every character outside `[a-zA-Z0-9_:]` (and a leading digit) made `_`.
inline std::string metric_name(std::string_view prefix, std::string_view name)
{
    std::string out;
    out.reserve(prefix.size() + name.size());
    out.append(prefix).append(name);
    for (std::size_t i = 0; i < out.size(); ++i) {
        const char c = out[i];
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
                        (i > 0 && c >= '0' && c <= '9');
        if (!ok)
            out[i] = '_';
    }
    return out;
}

inline void append_family(std::string& out, const std::string& name, std::string_view type, std::string_view help)
{
    out.append("# HELP ").append(name).append(" ").append(help).append("\n");
    out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

inline void append_metric(std::string& out, std::string_view prefix, std::string_view name, bool counter,
                          std::string_view help, std::uint64_t value)
{
    const std::string full = metric_name(prefix, name);
    append_family(out, full, counter ? "counter" : "gauge", help);
    out.append(full).append(" ");
    append_number(out, value);
    out.append("\n");
}

/// A label value, escaped as the text format says (`\`, `"`, new line).
inline void append_label_value(std::string& out, std::string_view v)
{
    for (const char c : v) {
        if (c == '\\' || c == '"')
            out.push_back('\\');
        if (c == '\n') {
            out.append("\\n");
            continue;
        }
        out.push_back(c);
    }
}

} // namespace detail

/** Appends `m` to `out` in the Prometheus text exposition format (version 0.0.4), named by the
    Prometheus and OpenTelemetry conventions.

    - The counters, `<prefix>hits_total`, `negative_hits_total`, `stale_hits_total`,
      `misses_total`, `coalesced_total`, `evictions_total`, `errors_total`,
      `policy_rejections_total`, `refused_total`, `rate_limited_total`, `overloaded_total`; the
      gauges `<prefix>entries` and `<prefix>checks_in_flight`; then `m.extra`.
    - The API calls' durations as the histogram `http_client_request_duration_seconds` (OpenTelemetry's
      `http.client.request.duration`, not prefixed), labels `http_request_method="GET"`,
      `http_response_status_code` (absent when no answer came) and `error_type` (absent on
      success): `_bucket{le="..."}` cumulative up to `le="+Inf"`, `_sum`, `_count`. Written only
      when a call was made.

    No label carries a token or a hash of one. Characters a metric name cannot hold in `prefix`
    or in an extra value's name are written `_`.

    @param out Appended to.
    @param m The snapshot (`token_validator::metrics()`).
    @param prefix Put before every name but the HTTP histogram's (default
    `"genesys_token_validator_"`).
*/
inline void write_prometheus(std::string& out, const token_validator_metrics& m,
                             std::string_view prefix = "genesys_token_validator_")
{
    using detail::append_metric;
    const auto& s = m.stats;
    append_metric(out, prefix, "hits_total", true, "Validations answered from a valid cached entry.", s.hits);
    append_metric(out, prefix, "negative_hits_total", true, "Validations answered from a remembered 401.",
                  s.negative_hits);
    append_metric(out, prefix, "stale_hits_total", true,
                  "Validations answered from an expired entry under stale_if_error.", s.stale_hits);
    append_metric(out, prefix, "misses_total", true, "Checks begun (API calls, but for those overloaded).",
                  s.misses);
    append_metric(out, prefix, "coalesced_total", true, "Validations that waited for another's check.",
                  s.coalesced);
    append_metric(out, prefix, "evictions_total", true, "Entries dropped to stay within max_entries.",
                  s.evictions);
    append_metric(out, prefix, "errors_total", true, "API calls that failed other than with a 401.", s.errors);
    append_metric(out, prefix, "policy_rejections_total", true, "Valid tokens refused by the policy.",
                  s.policy_rejections);
    append_metric(out, prefix, "refused_total", true, "Validations of a token unfit to send (nothing sent).",
                  s.refused);
    append_metric(out, prefix, "rate_limited_total", true,
                  "Validations answered from a remembered 429 without an API call.", s.rate_limited);
    append_metric(out, prefix, "overloaded_total", true,
                  "Checks that found no room under max_concurrent_checks in time.", s.overloaded);
    append_metric(out, prefix, "entries", false, "Entries held in the in-process cache.", s.entries);
    append_metric(out, prefix, "checks_in_flight", false, "Checks under way (API calls in flight).",
                  s.checks_in_flight);
    for (const auto& e : m.extra)
        append_metric(out, prefix, e.name, e.counter, e.help, e.value);

    if (m.api_calls.empty())
        return;
    const std::string name = "http_client_request_duration_seconds";
    detail::append_family(out, name, "histogram",
                          "Duration of the token validator's API calls (GET /api/v2/tokens/me), retries included.");
    for (const auto& c : m.api_calls) {
        std::string labels = "http_request_method=\"GET\"";
        if (c.status != 0) {
            labels.append(",http_response_status_code=\"");
            detail::append_number(labels, static_cast<std::uint64_t>(c.status));
            labels.append("\"");
        }
        if (!c.error_type.empty()) {
            labels.append(",error_type=\"");
            detail::append_label_value(labels, c.error_type);
            labels.append("\"");
        }
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i <= duration_histogram::bounds.size(); ++i) {
            cumulative += c.durations.counts[i];
            out.append(name).append("_bucket{").append(labels).append(",le=\"");
            if (i < duration_histogram::bounds.size())
                detail::append_number(out, duration_histogram::bounds[i]);
            else
                out.append("+Inf");
            out.append("\"} ");
            detail::append_number(out, cumulative);
            out.append("\n");
        }
        out.append(name).append("_sum{").append(labels).append("} ");
        detail::append_number(out, c.durations.sum);
        out.append("\n");
        out.append(name).append("_count{").append(labels).append("} ");
        detail::append_number(out, c.durations.count);
        out.append("\n");
    }
}

} // namespace genesys

#endif
