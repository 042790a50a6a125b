// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_RETRY_AFTER_HPP
#define GENESYS_RETRY_AFTER_HPP

/// @file
/// `parse_retry_after`: how long a response's `Retry-After` asks a client to wait.

#include <genesys/detail/http_date.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace genesys {

/** How long a `Retry-After` value asks to wait.

    @param value The field's value: delta-seconds (`42`) or an HTTP-date in any of its three
    forms.
    @param now What an HTTP-date is measured from.
    @return The wait: zero for a date in the past, saturated for very large delta-seconds;
    `std::nullopt` for anything else (the caller then falls back to its own backoff).

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

} // namespace genesys

#endif
