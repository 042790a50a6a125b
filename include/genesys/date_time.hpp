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

// The one reader of the library's date and number formats: ISO-8601 here, HTTP-dates below.

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
    if (!detail::read_number(s, pos, 4, 4, y) || !detail::expect(s, pos, "-") ||
        !detail::read_number(s, pos, 2, 2, mo) || !detail::expect(s, pos, "-") ||
        !detail::read_number(s, pos, 2, 2, d))
        return std::nullopt;
    if (!detail::expect(s, pos, "T") && !detail::expect(s, pos, "t"))
        return std::nullopt;
    if (!detail::read_time(s, pos, h, mi, sec))
        return std::nullopt;
    int ms = 0;
    if (detail::expect(s, pos, ".")) {
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
    if (detail::expect(s, pos, "Z") || detail::expect(s, pos, "z")) {
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

/** Parses an HTTP-date in any of the three forms HTTP/1.1 requires recipients to accept:
    IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`)
    and asctime (`Sun Nov  6 08:49:37 1994`). */
constexpr std::optional<std::chrono::sys_seconds> parse_http_date(std::string_view s) noexcept
{
    using namespace std::chrono;
    const auto comma = s.find(',');
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
    std::size_t pos = 0;
    // After the comma, IMF-fixdate and RFC 850 differ only in the separator and the year's digits.
    const auto read_after_comma = [&](std::string_view sep, std::size_t year_digits) {
        pos = comma + 1;
        if (!expect(s, pos, " ") || !read_number(s, pos, 2, 2, d) || !expect(s, pos, sep))
            return false;
        const auto m = month_number(s.substr(pos, 3));
        pos += 3;
        if (!m || !expect(s, pos, sep) || !read_number(s, pos, year_digits, year_digits, y) || !expect(s, pos, " ") ||
            !read_time(s, pos, h, mi, sec) || !expect(s, pos, " GMT") || pos != s.size())
            return false;
        mo = *m;
        return true;
    };
    if (comma == 3) { // IMF-fixdate
        if (!read_after_comma(" ", 4))
            return std::nullopt;
    } else if (comma != std::string_view::npos && comma >= 6 && comma <= 9) { // RFC 850
        if (!read_after_comma("-", 2))
            return std::nullopt;
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

} // namespace genesys

#endif
