#ifndef GENESYS_RETRY_HPP
#define GENESYS_RETRY_HPP

/// @file
/// `retry_policy`: when and how long to wait before trying a failed call again.

#include <genesys/date_time.hpp>
#include <genesys/error.hpp>

#include <boost/system/result.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace genesys {

namespace detail {

constexpr std::optional<int> month_number(std::string_view m) noexcept
{
    constexpr std::string_view names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (int i = 0; i < 12; ++i)
        if (names[i] == m)
            return i + 1;
    return std::nullopt;
}

constexpr bool read_number(std::string_view s, std::size_t& pos, std::size_t min_digits, std::size_t max_digits,
                           int& out) noexcept
{
    std::size_t n = 0;
    int v = 0;
    while (pos + n < s.size() && n < max_digits && s[pos + n] >= '0' && s[pos + n] <= '9') {
        v = v * 10 + (s[pos + n] - '0');
        ++n;
    }
    if (n < min_digits)
        return false;
    pos += n;
    out = v;
    return true;
}

constexpr bool expect(std::string_view s, std::size_t& pos, std::string_view what) noexcept
{
    if (s.substr(pos, what.size()) != what)
        return false;
    pos += what.size();
    return true;
}

constexpr bool read_time(std::string_view s, std::size_t& pos, int& h, int& m, int& sec) noexcept
{
    return read_number(s, pos, 2, 2, h) && expect(s, pos, ":") && read_number(s, pos, 2, 2, m) &&
           expect(s, pos, ":") && read_number(s, pos, 2, 2, sec) && h < 24 && m < 60 && sec <= 60;
}

/** Parses an HTTP-date in any of the three forms HTTP/1.1 requires recipients to accept:
    IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`)
    and asctime (`Sun Nov  6 08:49:37 1994`). */
constexpr std::optional<std::chrono::sys_seconds> parse_http_date(std::string_view s) noexcept
{
    using namespace std::chrono;
    const auto comma = s.find(',');
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
    std::size_t pos = 0;
    if (comma == 3) { // IMF-fixdate
        pos = 4;
        if (!expect(s, pos, " ") || !read_number(s, pos, 2, 2, d) || !expect(s, pos, " "))
            return std::nullopt;
        auto m = month_number(s.substr(pos, 3));
        pos += 3;
        if (!m || !expect(s, pos, " ") || !read_number(s, pos, 4, 4, y) || !expect(s, pos, " ") ||
            !read_time(s, pos, h, mi, sec) || !expect(s, pos, " GMT") || pos != s.size())
            return std::nullopt;
        mo = *m;
    } else if (comma != std::string_view::npos && comma >= 6 && comma <= 9) { // RFC 850
        pos = comma + 1;
        if (!expect(s, pos, " ") || !read_number(s, pos, 2, 2, d) || !expect(s, pos, "-"))
            return std::nullopt;
        auto m = month_number(s.substr(pos, 3));
        pos += 3;
        if (!m || !expect(s, pos, "-") || !read_number(s, pos, 2, 2, y) || !expect(s, pos, " ") ||
            !read_time(s, pos, h, mi, sec) || !expect(s, pos, " GMT") || pos != s.size())
            return std::nullopt;
        mo = *m;
        y += y < 70 ? 2000 : 1900; // a two-digit year more than 50 years ahead is in the past
    } else if (comma == std::string_view::npos && s.size() == 24) { // asctime
        pos = 4;
        auto m = month_number(s.substr(pos, 3));
        pos += 3;
        if (!m || !expect(s, pos, " "))
            return std::nullopt;
        if (s[pos] == ' ')
            ++pos;
        if (!read_number(s, pos, 1, 2, d) || !expect(s, pos, " ") || !read_time(s, pos, h, mi, sec) ||
            !expect(s, pos, " ") || !read_number(s, pos, 4, 4, y) || pos != s.size())
            return std::nullopt;
        mo = *m;
    } else {
        return std::nullopt;
    }
    year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
    if (!ymd.ok())
        return std::nullopt;
    return sys_days{ymd} + hours{h} + minutes{mi} + seconds{sec};
}

} // namespace detail

/** How long a `Retry-After` value asks to wait, measured from `now`.

    Accepts delta-seconds (`42`) and an HTTP-date in any of its three forms. A date in the
    past means no wait. Returns `std::nullopt` for anything else (the caller then falls
    back to its own backoff). Very large delta-seconds saturate instead of overflowing.

    @code
    auto wait = genesys::parse_retry_after("42", std::chrono::system_clock::now()); // 42 s
    @endcode
*/
constexpr std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                                     std::chrono::system_clock::time_point now) noexcept
{
    using namespace std::chrono;
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
        value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
        value.remove_suffix(1);
    if (value.empty())
        return std::nullopt;
    if (value.front() >= '0' && value.front() <= '9') {
        std::int64_t secs = 0;
        for (char c : value) {
            if (c < '0' || c > '9')
                return std::nullopt;
            secs = std::min<std::int64_t>(secs * 10 + (c - '0'), std::int64_t{1} << 40); // ~35,000 years
        }
        return milliseconds(secs * 1000);
    }
    auto date = detail::parse_http_date(value);
    if (!date)
        return std::nullopt;
    // In seconds first: sys_seconds of year 0..9999 minus a nanosecond clock would overflow.
    const auto whole = floor<seconds>(now);
    const auto wait = duration_cast<milliseconds>(*date - time_point_cast<seconds>(whole)) -
                      duration_cast<milliseconds>(now - whole);
    return wait.count() > 0 ? wait : milliseconds(0);
}

/** When and how long to wait before trying a failed call again.

    Off by default, as in the official SDKs (`max_attempts == 1`). Retries the statuses in
    `retry_statuses` (429, 502, 503, 504) and, when `retry_network_errors`, network failures,
    for idempotent operations only (all six Tokens operations are). The wait is the
    response's `Retry-After` (delta-seconds or an HTTP-date) when it has one, else
    exponential backoff with jitter. Retrying stops, returning the last error at once, when
    the attempts are used up, when a wait would exceed `max_wait`, or when it would end
    past the `max_elapsed` budget: there is never a hidden multi-minute sleep.

    The clocks, the sleep and the random source are injectable, so tests are exact and
    instant.

    @code
    genesys::client_config cfg{.access_token = token};
    cfg.retry = genesys::retry_policy::standard(); // 4 attempts within 60 s
    @endcode
*/
struct retry_policy {
    /// Attempts in all, the first included; 1 turns retrying off.
    int max_attempts = 1;
    /** The budget of a call's retrying, from the start of its first attempt: a retry is made
        only when its wait ends before the budget is spent, so no attempt starts at or past it.
        The attempts made so far count, as do the waits. An attempt under way is not cut short
        (a blocking transport cannot be interrupted): the transport's own timeout bounds it, so
        a call ends at most one transport timeout after `max_elapsed`. */
    std::chrono::milliseconds max_elapsed = std::chrono::seconds(60);
    /// The longest single wait. A `Retry-After` asking for more ends retrying.
    std::chrono::milliseconds max_wait = std::chrono::seconds(30);
    /// The backoff before the first retry when there is no `Retry-After`; doubled (by
    /// `backoff_multiplier`) for each further one, up to `max_backoff`.
    std::chrono::milliseconds initial_backoff = std::chrono::milliseconds(500);
    /// The cap on the backoff, before jitter.
    std::chrono::milliseconds max_backoff = std::chrono::seconds(10);
    /// The factor from one backoff to the next.
    double backoff_multiplier = 2.0;
    /// The statuses that are retried.
    std::vector<int> retry_statuses = {429, 502, 503, 504};
    /// Whether a network failure (no response) is retried. Only failures that may succeed on a
    /// second try are (a refused or reset connection, a timeout): never a TLS verification
    /// failure, a rejected argument, a body over the transport's limit or a cancelled operation.
    bool retry_network_errors = true;

    /// The monotonic clock the budget is measured with (default `steady_clock::now`).
    std::function<std::chrono::steady_clock::time_point()> clock{};
    /// The wall clock an HTTP-date `Retry-After` is measured against (default `system_clock::now`).
    std::function<std::chrono::system_clock::time_point()> wall_clock{};
    /// How to wait (default `std::this_thread::sleep_for`).
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
};

/// The wait before attempt `next_attempt` (2 for the first retry), or `std::nullopt` to stop.
inline std::optional<std::chrono::milliseconds> retry_wait(const retry_policy& p, int next_attempt,
                                                           const attempt_outcome& outcome,
                                                           std::chrono::milliseconds elapsed)
{
    using namespace std::chrono;
    if (!outcome.retryable || next_attempt > p.max_attempts)
        return std::nullopt;
    std::optional<milliseconds> wait;
    if (outcome.retry_after) {
        const auto wall = p.wall_clock ? p.wall_clock() : system_clock::now();
        wait = parse_retry_after(*outcome.retry_after, wall);
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
    }
    if (*wait > p.max_wait || elapsed + *wait >= p.max_elapsed)
        return std::nullopt; // the next attempt would start at or past the budget
    return wait;
}

/** True when a network failure with code `ec` may succeed on a second try.

    Failures that would fail the same way again are not: a rejected argument, a body over the
    transport's size limit, a cancelled operation, a protocol the transport does not speak, no
    memory, a protocol error (curl's TLS handshake and certificate verification failures), an
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
        ec == genesys::errc::response_too_large || ec == genesys::errc::deadline_exceeded)
        return false;
    return std::string_view(ec.category().name()) != "asio.ssl";
}

/// Whether and how long to wait before retrying a failed attempt, as `policy` says.
inline attempt_outcome retry_outcome(const retry_policy& policy, const error& e)
{
    if (e.kind == error_kind::network)
        return {policy.retry_network_errors && is_transient_network_error(e.code), std::nullopt};
    if (e.kind == error_kind::api && std::find(policy.retry_statuses.begin(), policy.retry_statuses.end(), e.status) !=
                                         policy.retry_statuses.end()) {
        auto retry_after = e.headers.get("Retry-After");
        return {true, retry_after ? std::optional<std::string>(*retry_after) : std::nullopt};
    }
    return {};
}

} // namespace detail

} // namespace genesys

#endif
