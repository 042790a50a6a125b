// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DETAIL_HTTP_DATE_HPP
#define GENESYS_DETAIL_HTTP_DATE_HPP

// HTTP-dates (RFC 9110 section 5.6.7), read with the digit readers of <genesys/date_time.hpp>: the
// form a `Retry-After` value may take.

#include <genesys/date_time.hpp>

#include <chrono>
#include <optional>
#include <string_view>

namespace genesys::detail {

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

} // namespace genesys::detail

#endif
