#ifndef GENESYS_DATE_TIME_HPP
#define GENESYS_DATE_TIME_HPP

/// @file
/// The platform's `date-time` values: ISO-8601 instants at millisecond precision.

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace genesys {

/// An instant as the platform sends it: UTC, millisecond precision.
using date_time = std::chrono::sys_time<std::chrono::milliseconds>;

namespace detail {

constexpr bool read_digits(std::string_view s, std::size_t& pos, std::size_t count, int& out) noexcept
{
    if (pos > s.size() || s.size() - pos < count)
        return false;
    int v = 0;
    for (std::size_t i = 0; i < count; ++i) {
        char c = s[pos + i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    pos += count;
    out = v;
    return true;
}

constexpr bool read_char(std::string_view s, std::size_t& pos, char expected) noexcept
{
    if (pos < s.size() && s[pos] == expected) {
        ++pos;
        return true;
    }
    return false;
}

} // namespace detail

/** Parses an ISO-8601 / RFC 3339 instant, as the platform writes `date-time` fields.

    Accepts `yyyy-MM-ddTHH:mm:ss`, an optional fraction of any length (truncated to
    milliseconds) and a zone of `Z` or a numeric offset (`+02:00`, `-0530`).
    Returns `std::nullopt` for anything else, including impossible dates and instants that
    an offset or a leap second would move outside the years 0000 to 9999 (which
    `format_date_time` could not write back).

    @code
    auto t = genesys::parse_date_time("2023-01-01T01:00:00.5+01:00");
    assert(genesys::format_date_time(*t) == "2023-01-01T00:00:00.500Z");
    @endcode
*/
constexpr std::optional<date_time> parse_date_time(std::string_view s) noexcept
{
    using namespace std::chrono;
    std::size_t pos = 0;
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
    if (!detail::read_digits(s, pos, 4, y) || !detail::read_char(s, pos, '-') ||
        !detail::read_digits(s, pos, 2, mo) || !detail::read_char(s, pos, '-') ||
        !detail::read_digits(s, pos, 2, d))
        return std::nullopt;
    if (!detail::read_char(s, pos, 'T') && !detail::read_char(s, pos, 't'))
        return std::nullopt;
    if (!detail::read_digits(s, pos, 2, h) || !detail::read_char(s, pos, ':') ||
        !detail::read_digits(s, pos, 2, mi) || !detail::read_char(s, pos, ':') ||
        !detail::read_digits(s, pos, 2, sec))
        return std::nullopt;
    int ms = 0;
    if (detail::read_char(s, pos, '.')) {
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
    int offset_minutes = 0;
    if (detail::read_char(s, pos, 'Z') || detail::read_char(s, pos, 'z')) {
    } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
        int sign = s[pos] == '-' ? -1 : 1;
        ++pos;
        int oh = 0, om = 0;
        if (!detail::read_digits(s, pos, 2, oh))
            return std::nullopt;
        detail::read_char(s, pos, ':');
        if (!detail::read_digits(s, pos, 2, om) || oh > 23 || om > 59)
            return std::nullopt;
        offset_minutes = sign * (oh * 60 + om);
    } else {
        return std::nullopt;
    }
    if (pos != s.size())
        return std::nullopt;
    year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
    if (!ymd.ok() || h > 23 || mi > 59 || sec > 60)
        return std::nullopt;
    const date_time t = date_time{sys_days{ymd}} + hours{h} + minutes{mi} + seconds{sec} + milliseconds{ms} -
                        minutes{offset_minutes};
    constexpr date_time first{sys_days{year{0} / January / 1}};
    constexpr date_time last{sys_days{year{10000} / January / 1} - milliseconds{1}};
    if (t < first || t > last)
        return std::nullopt;
    return t;
}

/** Formats an instant as the platform and the official SDKs write it: `yyyy-MM-ddTHH:mm:ss.mmmZ`.

    @code
    genesys::format_date_time(genesys::date_time{}) == "1970-01-01T00:00:00.000Z"
    @endcode
*/
inline std::string format_date_time(date_time t)
{
    using namespace std::chrono;
    auto days = floor<std::chrono::days>(t);
    year_month_day ymd{days};
    hh_mm_ss<milliseconds> tod{t - days};
    char buf[40];
    int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(ymd.year()),
                          static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                          static_cast<int>(tod.hours().count()), static_cast<int>(tod.minutes().count()),
                          static_cast<int>(tod.seconds().count()), static_cast<int>(tod.subseconds().count()));
    return std::string(buf, static_cast<std::size_t>(n > 0 ? n : 0));
}

} // namespace genesys

#endif
