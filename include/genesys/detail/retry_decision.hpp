// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DETAIL_RETRY_DECISION_HPP
#define GENESYS_DETAIL_RETRY_DECISION_HPP

// What a `retry_policy` decides: whether a policy is usable, whether a failed attempt may be
// retried, and how long to wait first (Retry-After, else backoff with equal jitter).

#include <genesys/error.hpp>
#include <genesys/error_code.hpp>
#include <genesys/retry.hpp>
#include <genesys/retry_after.hpp>

#include <boost/system/error_code.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace genesys {

namespace detail {

/// Why `p` cannot be used, or empty: counts and durations must not be negative, the multiplier
/// must be a finite number of at least 1, and the statuses must be HTTP statuses.
inline std::string retry_policy_problem(const retry_policy& p)
{
    if (p.max_attempts < 1)
        return "retry.max_attempts must be at least 1 (1 turns retrying off)";
    if (p.max_elapsed.count() < 0 || p.max_wait.count() < 0 || p.initial_backoff.count() < 0 ||
        p.max_backoff.count() < 0)
        return "retry durations (max_elapsed, max_wait, initial_backoff, max_backoff) must not be negative";
    if (!(p.backoff_multiplier >= 1.0) || !(p.backoff_multiplier <= 1e6))
        return "retry.backoff_multiplier must be a finite number from 1 to 1e6";
    for (int status : p.retry_statuses)
        if (status < 100 || status > 599)
            return "retry.retry_statuses holds " + std::to_string(status) + ", which is not an HTTP status";
    return {};
}

/// What the retry loop needs to know about one failed attempt.
struct attempt_outcome {
    bool retryable = false;                         ///< a retried status, or a network failure
    std::optional<std::string> retry_after{};       ///< the response's Retry-After, if any (a copy:
                                                    ///< `result::error()` returns a temporary)
    std::string why_not{};                          ///< when not retryable: why, e.g. "HTTP 404 is not
                                                    ///< in retry_statuses"
};

/// `d` as a log line or a message shows it: `"30 s"` when whole seconds, else `"1500 ms"`.
inline std::string format_wait(std::chrono::milliseconds d)
{
    const auto ms = d.count();
    return ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
}

/// What the policy decides after a failed attempt: the wait before the next one, or why there
/// is none.
struct retry_decision {
    std::optional<std::chrono::milliseconds> wait{}; ///< set: retry after waiting this long
    std::string why_not{};                           ///< else: why retrying stops, with its numbers
};

/// The wait before attempt `next_attempt` (2 for the first retry), or why the policy stops:
/// the attempt is not retryable, the attempts are used up, a Retry-After (or the backoff) over
/// `max_wait`, or a wait that would end at or past the `max_elapsed` budget.
inline retry_decision decide_retry(const retry_policy& p, int next_attempt, const attempt_outcome& outcome,
                                   std::chrono::milliseconds elapsed)
{
    using namespace std::chrono;
    if (!outcome.retryable)
        return {std::nullopt, outcome.why_not};
    if (next_attempt > p.max_attempts)
        return {std::nullopt, "max_attempts is " + std::to_string(p.max_attempts)};
    std::optional<milliseconds> wait;
    if (outcome.retry_after) {
        const auto wall = p.wall_clock ? p.wall_clock() : system_clock::now();
        wait = parse_retry_after(*outcome.retry_after, wall);
        if (wait && *wait > p.max_wait)
            return {std::nullopt, "Retry-After " + format_wait(*wait) + " exceeds max_wait " + format_wait(p.max_wait)};
    }
    if (!wait) {
        double backoff = static_cast<double>(p.initial_backoff.count());
        for (int i = 2; i < next_attempt; ++i)
            backoff *= p.backoff_multiplier;
        backoff = std::min(backoff, static_cast<double>(p.max_backoff.count()));
        // Equal jitter: between half the backoff and all of it.
        thread_local std::mt19937_64 engine{std::random_device{}()};
        double r = p.random ? p.random() : std::uniform_real_distribution<double>(0.0, 1.0)(engine);
        r = r >= 0.0 ? std::min(r, 1.0) : 0.0; // NaN too
        wait = milliseconds(static_cast<std::int64_t>(backoff / 2 + backoff / 2 * r));
        if (*wait > p.max_wait)
            return {std::nullopt, "the backoff " + format_wait(*wait) + " exceeds max_wait " + format_wait(p.max_wait)};
    }
    if (elapsed + *wait >= p.max_elapsed) // the next attempt would start at or past the budget
        return {std::nullopt, "the next wait, " + format_wait(*wait) + ", would end " + format_wait(elapsed + *wait) +
                                  " into the call, past max_elapsed " + format_wait(p.max_elapsed)};
    return {wait, {}};
}

/** True when a network failure with code `ec` may succeed on a second try.

    Failures that would fail the same way again are not: a rejected argument, a body over the
    transport's size limit, a cancelled operation, a protocol the transport does not speak, no
    memory, a proxy's 407, a protocol error (curl's TLS handshake and certificate verification failures), an
    OpenSSL error (Asio's `asio.ssl` category: Beast's TLS failures), a transport that threw. A
    refused or reset connection, a timeout or an unreachable host may be transient. */
inline bool is_transient_network_error(const boost::system::error_code& ec) noexcept
{
    namespace errc = boost::system::errc;
    constexpr errc::errc_t deterministic[] = {
        errc::invalid_argument,      errc::message_size,          errc::operation_canceled,
        errc::protocol_not_supported, errc::not_enough_memory,     errc::protocol_error,
        errc::permission_denied,     errc::operation_not_permitted, errc::value_too_large,
        errc::address_family_not_supported};
    for (auto c : deterministic)
        if (ec == c)
            return false;
    if (ec == genesys::errc::transport_exception || ec == genesys::errc::invalid_argument ||
        ec == genesys::errc::response_too_large || ec == genesys::errc::deadline_exceeded ||
        ec == genesys::errc::proxy_authentication_required)
        return false;
    return std::string_view(ec.category().name()) != "asio.ssl";
}

/// Whether a failed attempt may be retried, as `policy` says, and its Retry-After. With
/// `unprocessed_only` (a request that is not idempotent), only an answer that says the request
/// was refused before it was processed is: a 429.
inline attempt_outcome retry_outcome(const retry_policy& policy, const error& e, bool unprocessed_only = false)
{
    const auto listed = [&](int status) {
        return std::find(policy.retry_statuses.begin(), policy.retry_statuses.end(), status) !=
               policy.retry_statuses.end();
    };
    if (e.kind == error_kind::network) {
        if (unprocessed_only)
            return {false, std::nullopt, "a network failure of a request that is not idempotent is not retried"};
        if (!policy.retry_network_errors)
            return {false, std::nullopt, "retry_network_errors is off"};
        if (!is_transient_network_error(e.code))
            return {false, std::nullopt, "this network failure is not transient"};
        return {true, std::nullopt, {}};
    }
    if (e.kind != error_kind::api)
        return {false, std::nullopt, "a " + std::string(to_string(e.kind)) + " error is never retried"};
    if (!listed(e.status))
        return {false, std::nullopt, "HTTP " + std::to_string(e.status) + " is not in retry_statuses"};
    if (unprocessed_only && e.status != 429)
        return {false, std::nullopt,
                "HTTP " + std::to_string(e.status) + " to a request that is not idempotent is not retried"};
    auto retry_after = e.headers.get("Retry-After");
    return {true, retry_after ? std::optional<std::string>(*retry_after) : std::nullopt, {}};
}

} // namespace detail

} // namespace genesys

#endif
