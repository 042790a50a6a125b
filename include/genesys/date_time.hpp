// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DATE_TIME_HPP
#define GENESYS_DATE_TIME_HPP

/// @file
/// The platform's `date-time` values: ISO-8601 instants at millisecond precision.

#include <genesys/detail/config.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace genesys {

/// An instant as the platform sends it: UTC, millisecond precision.
using date_time = std::chrono::sys_time<std::chrono::milliseconds>;

namespace detail {

// The one reader of the library's date and number formats: ISO-8601 here, HTTP-dates in
// <genesys/detail/http_date.hpp>.

/// Reads `min_digits` to `max_digits` decimal digits at `pos` into `out`, advancing `pos`.
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

/// Matches `what` at `pos`, advancing `pos` past it.
constexpr bool expect(std::string_view s, std::size_t& pos, std::string_view what) noexcept
{
    if (s.substr(pos, what.size()) != what)
        return false;
    pos += what.size();
    return true;
}

/// Reads `hh:mm:ss` (a leap second allowed) at `pos`.
constexpr bool read_time(std::string_view s, std::size_t& pos, int& h, int& m, int& sec) noexcept
{
    return read_number(s, pos, 2, 2, h) && expect(s, pos, ":") && read_number(s, pos, 2, 2, m) &&
           expect(s, pos, ":") && read_number(s, pos, 2, 2, sec) && h < 24 && m < 60 && sec <= 60;
}

} // namespace detail

/** Parses an ISO-8601 / RFC 3339 instant, as the platform writes `date-time` fields, and the
    other forms the official Java SDK reads.

    @param s `yyyy-MM-ddTHH:mm:ss`, an optional fraction of any length (truncated to
    milliseconds) and a zone of `Z` or a numeric offset (`+02:00`, `-0530`). Also accepted, as
    the Java SDK accepts them: no zone (the time is UTC), a space (or `t`) instead of `T`, and a
    date alone (`yyyy-MM-dd`, midnight UTC).
    @return The instant in UTC; `std::nullopt` for anything else (hours or minutes without
    seconds, a date with a zone but no time, leading or trailing characters), including
    impossible dates and instants that an offset or a leap second would move outside the years
    0000 to 9999 (which `format_date_time` could not write back).

    @code
    auto t = genesys::parse_date_time("2023-01-01T01:00:00.5+01:00");
    assert(genesys::format_date_time(*t) == "2023-01-01T00:00:00.500Z");
    assert(genesys::parse_date_time("2023-01-01 00:00:00") == genesys::parse_date_time("2023-01-01"));
    @endcode
*/
constexpr std::optional<date_time> parse_date_time(std::string_view s) noexcept
{
    using namespace std::chrono;
    std::size_t pos = 0;
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
    if (!detail::read_number(s, pos, 4, 4, y) || !detail::expect(s, pos, "-") ||
        !detail::read_number(s, pos, 2, 2, mo) || !detail::expect(s, pos, "-") ||
        !detail::read_number(s, pos, 2, 2, d))
        return std::nullopt;
    const bool date_only = pos == s.size();
    if (!date_only && !detail::expect(s, pos, "T") && !detail::expect(s, pos, "t") && !detail::expect(s, pos, " "))
        return std::nullopt;
    if (!date_only && !detail::read_time(s, pos, h, mi, sec))
        return std::nullopt;
    int ms = 0;
    if (!date_only && detail::expect(s, pos, ".")) {
        std::size_t digits = 0;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            if (digits < 3)
                ms = ms * 10 + (s[pos] - '0');
            ++digits;
            ++pos;
        }
        if (digits == 0)
            return std::nullopt;
        for (std::size_t i = digits; i < 3; ++i)
            ms *= 10;
    }
    int offset_minutes = 0; // no zone: UTC
    if (date_only || pos == s.size()) {
    } else if (detail::expect(s, pos, "Z") || detail::expect(s, pos, "z")) {
    } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
        int sign = s[pos] == '-' ? -1 : 1;
        ++pos;
        int oh = 0, om = 0;
        if (!detail::read_number(s, pos, 2, 2, oh))
            return std::nullopt;
        detail::expect(s, pos, ":");
        if (!detail::read_number(s, pos, 2, 2, om) || oh > 23 || om > 59)
            return std::nullopt;
        offset_minutes = sign * (oh * 60 + om);
    } else {
        return std::nullopt;
    }
    if (pos != s.size())
        return std::nullopt;
    year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
    if (!ymd.ok())
        return std::nullopt;
    const date_time t = date_time{sys_days{ymd}} + hours{h} + minutes{mi} + seconds{sec} + milliseconds{ms} -
                        minutes{offset_minutes};
    constexpr date_time first{sys_days{year{0} / January / 1}};
    constexpr date_time last{sys_days{year{10000} / January / 1} - milliseconds{1}};
    if (t < first || t > last)
        return std::nullopt;
    return t;
}

/** Formats an instant as the platform and the official SDKs write it.

    @param t An instant in the years 0000 to 9999 (what `parse_date_time` returns).
    @return `yyyy-MM-ddTHH:mm:ss.mmmZ`, in UTC.

    @code
    genesys::format_date_time(genesys::date_time{}) == "1970-01-01T00:00:00.000Z"
    @endcode
*/
GENESYS_DECL std::string format_date_time(date_time t);

/** Formats any `std::chrono::system_clock` time point, such as
    `validated_token::trusted_until()`, as `format_date_time(date_time)` does: truncated to the
    millisecond toward the past.

    @param t An instant in the years 0000 to 9999.
    @return `yyyy-MM-ddTHH:mm:ss.mmmZ`, in UTC.
*/
template <class Duration>
    requires(!std::is_same_v<Duration, std::chrono::milliseconds>)
std::string format_date_time(std::chrono::sys_time<Duration> t)
{
    return format_date_time(std::chrono::floor<std::chrono::milliseconds>(t));
}

} // namespace genesys

#if !defined(GENESYS_TOKENS_SEPARATE_COMPILATION)
#include <genesys/impl/date_time.ipp>
#endif

#endif
