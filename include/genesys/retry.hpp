// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_RETRY_HPP
#define GENESYS_RETRY_HPP

/// @file
/// `retry_policy`: when and how long to wait before trying a failed call again.

#include <chrono>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

namespace genesys {

/** When and how long to wait before trying a failed call again.

    Off by default, as in the official SDKs (`max_attempts == 1`). Retries the statuses in
    `retry_statuses` (429, 502, 503, 504) and, when `retry_network_errors`, network failures,
    for idempotent operations only (all six Tokens operations are). A token request
    (`oauth_config::retry`) is retried on a 429, which the login host sends before it processes
    the request, and on the rest only with `oauth_config::retry_token_requests`. The wait is the
    response's `Retry-After` (delta-seconds or an HTTP-date) when it has one, else exponential
    backoff with equal jitter (between half the backoff and all of it). Retrying stops,
    returning the last error at once, when the attempts are used up, when a wait would exceed
    `max_wait`, when it would end past the `max_elapsed` budget (or the call's
    `client_config::call_timeout`), or when the error is one that is never retried: there is
    never a hidden multi-minute sleep.

    The error then says why retrying stopped, with the numbers, at the end of its message, and
    so does the last attempt's `log_event::retry`: `"(gave up after 3 attempts: max_attempts is
    3)"`, `"(not retried: Retry-After 120 s exceeds max_wait 30 s)"`, `"(gave up after 3
    attempts: the next wait, 25 s, would end 75 s into the call, past max_elapsed 60 s)"`,
    `"(gave up after 2 attempts: HTTP 404 is not in retry_statuses)"`. A first attempt whose
    error is never retried is not annotated. `error::attempts` counts the attempts made.

    A policy that breaks a rule given below (a count or duration out of range, a multiplier or
    a status that is not one) is a bad configuration: constructing the client throws
    `invalid_argument_error` (see `check`).

    The clocks, the sleep and the random source are injectable, so tests are exact and
    instant. They are called on the threads that make calls, several at once for a shared
    client, and must then be safe to call concurrently.

    @code
    genesys::client_config cfg{.access_token = token};
    cfg.retry = genesys::retry_policy::standard(); // 4 attempts within 60 s
    @endcode
*/
struct retry_policy {
    /// Attempts in all, the first included: at least 1; 1 turns retrying off.
    int max_attempts = 1;
    /** The budget of a call's retrying (not negative), from the start of its first attempt: a
        retry is made only when its wait ends before the budget is spent, so no attempt starts
        at or past it. The attempts made so far count, as do the waits. An attempt under way is
        not cut short (a blocking transport cannot be interrupted): the transport's own timeout
        bounds it, so a call ends at most one transport timeout after `max_elapsed`. */
    std::chrono::milliseconds max_elapsed = std::chrono::seconds(60);
    /// The longest single wait (not negative). A `Retry-After` asking for more ends retrying.
    std::chrono::milliseconds max_wait = std::chrono::seconds(30);
    /// The backoff before the first retry when there is no `Retry-After` (not negative);
    /// multiplied by `backoff_multiplier` for each further one, up to `max_backoff`.
    std::chrono::milliseconds initial_backoff = std::chrono::milliseconds(500);
    /// The cap on the backoff, before jitter (not negative).
    std::chrono::milliseconds max_backoff = std::chrono::seconds(10);
    /// The factor from one backoff to the next: a finite number from 1 to 1e6.
    double backoff_multiplier = 2.0;
    /// The statuses that are retried, each from 100 to 599.
    std::vector<int> retry_statuses = {429, 502, 503, 504};
    /// Whether a network failure (no response) is retried. Only failures that may succeed on a
    /// second try are (a refused or reset connection, a timeout): never a TLS verification
    /// failure, a rejected argument, a body over the transport's limit, a cancelled operation, a
    /// transport that threw or a passed `client_config::call_timeout` (see `genesys::transport`).
    bool retry_network_errors = true;

    /// The monotonic clock the budget, and `client_config::call_timeout` between the steps of a
    /// call, are measured with (default `steady_clock::now`).
    std::function<std::chrono::steady_clock::time_point()> clock{};
    /// The wall clock an HTTP-date `Retry-After` is measured against (default `system_clock::now`).
    std::function<std::chrono::system_clock::time_point()> wall_clock{};
    /// How a blocking call waits (default `std::this_thread::sleep_for`); the asynchronous API
    /// waits on a timer instead.
    std::function<void(std::chrono::milliseconds)> sleep{};
    /// A uniform random number in [0, 1) for jitter (default: a per-thread generator).
    std::function<double()> random{};

    /// `max_attempts` attempts (4 by default) with the other settings at their defaults.
    static retry_policy standard(int max_attempts = 4)
    {
        retry_policy p;
        p.max_attempts = max_attempts;
        return p;
    }

    /// True when retrying is on.
    bool enabled() const noexcept { return max_attempts > 1; }
};

} // namespace genesys

#endif
