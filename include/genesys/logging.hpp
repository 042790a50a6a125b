// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_LOGGING_HPP
#define GENESYS_LOGGING_HPP

/// @file
/// The logging hook: one structured event per attempt, with secrets redacted.

#include <genesys/detail/config.hpp>
#include <genesys/http.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

namespace genesys {

/** The request headers whose values a `log_event` shows as they were sent: `Accept`,
    `Content-Type`, `Content-Length`, `User-Agent` and `ININ-Correlation-Id`.

    Redaction is by allow-list, as Azure's `LogOptions::AllowedHttpHeaders`: every other header
    reads `[REDACTED]`, so a secret in `client_config::default_headers` (an API key, a gateway's
    credential) never reaches a logger. `client_config::logged_headers` and
    `oauth_config::logged_headers` add names; `Authorization` is never shown.
*/
inline constexpr std::string_view default_logged_headers[] = {"Accept", "Content-Type", "Content-Length",
                                                               "User-Agent", "ININ-Correlation-Id"};

/** One attempt of a call, as handed to `client_config::logger`.

    In `request_headers`, only the allowed headers keep their values (`default_logged_headers`
    and the configuration's `logged_headers`); the others, `Authorization` always, read
    `[REDACTED]`. The URL holds no secret (the token travels only in that header). The views are
    valid during the call of the logger only.
*/
struct log_event {
    std::string_view operation{};  ///< e.g. "getTokensMe"
    http_method method = http_method::get; ///< the request method
    std::string_view url{};        ///< absolute, with its query string
    http_headers request_headers{}; ///< as sent, values not allowed read `[REDACTED]`
    int attempt = 1;               ///< 1 for the first attempt, 2 for the first retry, ...
    int status = 0;                ///< the HTTP status, or 0 when no response came
    std::chrono::microseconds duration{}; ///< from sending the request to having the response
    std::string_view correlation_id{};    ///< `ININ-Correlation-Id`, or empty
    std::string_view ratelimit_count{};   ///< `inin-ratelimit-count`, or empty
    std::string_view ratelimit_allowed{}; ///< `inin-ratelimit-allowed`, or empty
    std::string_view ratelimit_reset{};   ///< `inin-ratelimit-reset` (seconds), or empty
    std::string_view error{};             ///< the network failure's message, or empty
    /** What the retry policy did after this attempt, or empty when it did not apply (a success,
        a call that is not retried, a first attempt whose failure is never retried):
        `"retrying in 375 ms"`, or why it stopped with its numbers, e.g. `"gave up after 3
        attempts: max_attempts is 3"`, `"not retried: Retry-After 120 s exceeds max_wait 30 s"`,
        `"gave up after 2 attempts: HTTP 404 is not in retry_statuses"`. The error of the call
        ends with the same text, in parentheses. */
    std::string_view retry{};
};

/// Receives every `log_event`, on the thread running the call (for the asynchronous API, the one
/// running its handler's executor): from several threads at once when a client is shared. An
/// exception it throws is caught and ignored.
using logger = std::function<void(const log_event&)>;

/** One line describing an event.

    @param e The event to describe.
    @return E.g. `getTokensMe GET https://api.mypurecloud.com/api/v2/tokens/me -> 200 in 12.3 ms
    (attempt 1, correlation id 5f..., rate limit 1/300, reset 59 s)`; then `: ` and the network
    failure's text, if any, and `: ` and what the retry policy did, if anything (`-> 503 in 8.1 ms
    (attempt 3): gave up after 3 attempts: max_attempts is 3`).
*/
GENESYS_DECL std::string to_string(const log_event& e);

} // namespace genesys

#if !defined(GENESYS_TOKENS_SEPARATE_COMPILATION)
#include <genesys/impl/logging.ipp>
#endif

#endif
