// SPDX-License-Identifier: BSL-1.0
// libFuzzer target: Retry-After values, genesys::parse_retry_after and detail::parse_http_date.
//
// Input: the header value, as is.
//
// Invariants (a violation traps):
// - parse_retry_after(value, now) never crashes (now is fixed: 2024-06-01T12:00:00Z);
// - after trimming spaces and tabs, a value of pure digits gives exactly the saturated
//   delta-seconds min(value, 2^40) s; a value that starts with a digit but is not all digits
//   gives nothing;
// - any other value gives a wait exactly when detail::parse_http_date accepts it, and the wait
//   is never negative: max(0, date - now), exactly;
// - when detail::parse_http_date accepts a string, the instant formatted as IMF-fixdate
//   (`Sun, 06 Nov 1994 08:49:37 GMT`) parses again to the same instant (when its year has
//   four digits, the only ones IMF-fixdate can write).

#include <genesys/retry_after.hpp>
#include "fuzz_check.hpp"

#include <genesys/genesys.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>


namespace {

using namespace std::chrono;

constexpr sys_seconds fixed_now = sys_days{year{2024} / June / 1} + hours{12};
constexpr std::int64_t saturation = std::int64_t{1} << 40;

std::string_view trim(std::string_view v)
{
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
        v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t'))
        v.remove_suffix(1);
    return v;
}

bool all_digits(std::string_view v)
{
    if (v.empty())
        return false;
    for (char c : v)
        if (c < '0' || c > '9')
            return false;
    return true;
}

/// The instant as IMF-fixdate, or an empty string when its year is not 0000..9999.
std::string imf_fixdate(sys_seconds t)
{
    constexpr const char* weekdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const auto days = floor<std::chrono::days>(t);
    const year_month_day ymd{days};
    const int y = static_cast<int>(ymd.year());
    if (y < 0 || y > 9999)
        return {};
    const hh_mm_ss<seconds> tod{t - days};
    char buf[64];
    const int n = std::snprintf(buf, sizeof buf, "%s, %02u %s %04d %02d:%02d:%02d GMT",
                                weekdays[weekday{days}.c_encoding()], static_cast<unsigned>(ymd.day()),
                                months[static_cast<unsigned>(ymd.month()) - 1], y,
                                static_cast<int>(tod.hours().count()), static_cast<int>(tod.minutes().count()),
                                static_cast<int>(tod.seconds().count()));
    return std::string(buf, static_cast<std::size_t>(n));
}

void check_http_date(std::string_view s)
{
    const auto t = genesys::detail::parse_http_date(s);
    if (!t)
        return;
    const std::string again = imf_fixdate(*t);
    if (again.empty())
        return;
    const auto t2 = genesys::detail::parse_http_date(again);
    if (t2 != t)
        std::fprintf(stderr, "fuzz_retry_after: \"%s\" does not parse back\n", again.c_str());
    FUZZ_CHECK(t2 == t);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view value(reinterpret_cast<const char*>(data), size);
    const system_clock::time_point now = fixed_now;
    const std::optional<milliseconds> wait = genesys::parse_retry_after(value, now);

    const std::string_view trimmed = trim(value);
    if (all_digits(trimmed)) {
        std::int64_t secs = 0;
        for (char c : trimmed)
            secs = std::min<std::int64_t>(secs * 10 + (c - '0'), saturation);
        FUZZ_CHECK(wait.has_value());
        FUZZ_CHECK(wait->count() == secs * 1000);
    } else if (!trimmed.empty() && trimmed.front() >= '0' && trimmed.front() <= '9') {
        FUZZ_CHECK(!wait.has_value());
    } else {
        const auto date = genesys::detail::parse_http_date(trimmed);
        FUZZ_CHECK(wait.has_value() == date.has_value());
        if (wait) {
            FUZZ_CHECK(wait->count() >= 0);
            // Exact, in seconds: an HTTP-date has no fraction and now is a whole second.
            const std::int64_t ahead = (*date - fixed_now).count();
            if (wait->count() != (ahead > 0 ? ahead * 1000 : 0))
                std::fprintf(stderr, "fuzz_retry_after: wait %lld ms for a date %lld s ahead\n",
                             static_cast<long long>(wait->count()), static_cast<long long>(ahead));
            FUZZ_CHECK(wait->count() == (ahead > 0 ? ahead * 1000 : 0));
        }
    }

    check_http_date(value);
    if (trimmed.size() != value.size())
        check_http_date(trimmed);
    return 0;
}
