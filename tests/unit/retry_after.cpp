// SPDX-License-Identifier: BSL-1.0
// <genesys/retry_after.hpp>: how long a `Retry-After` value asks to wait, in all its forms.
#include <genesys/retry_after.hpp>

#include <doctest/doctest.h>

#include <chrono>

using namespace std::chrono;
using namespace std::chrono_literals;

TEST_CASE("Retry-After: delta-seconds and the three HTTP-date forms")
{
    const auto now = sys_days{2026y / 11 / 27} + 12h;
    CHECK(genesys::parse_retry_after("42", now) == 42s);
    CHECK(genesys::parse_retry_after(" 0 ", now) == 0s);
    CHECK(genesys::parse_retry_after("Fri, 27 Nov 2026 12:01:00 GMT", now) == 60s);
    CHECK(genesys::parse_retry_after("Friday, 27-Nov-26 12:00:30 GMT", now) == 30s);
    CHECK(genesys::parse_retry_after("Fri Nov 27 12:00:05 2026", now) == 5s);
    CHECK(genesys::parse_retry_after("Fri Nov  6 12:00:05 2026", now) == 0s); // past: no wait
    CHECK(genesys::parse_retry_after("Thu, 26 Nov 2026 12:00:00 GMT", now) == 0s);
    CHECK(genesys::parse_retry_after("99999999999999999999999", now) > hours(24 * 365 * 1000)); // saturates
    for (const char* bad : {"", "-1", "1.5", "42s", "soon", "Fri, 27 Nov 2026 12:01:00 UTC", "Fri, 31 Feb 2026 12:00:00 GMT",
                            "Fri, 27 Nov 2026 25:00:00 GMT", "Fri, 27 Foo 2026 12:00:00 GMT"}) {
        CAPTURE(bad);
        CHECK_FALSE(genesys::parse_retry_after(bad, now).has_value());
    }
    static_assert(genesys::parse_retry_after("5", {}) == 5s);
}

TEST_CASE("Retry-After dates far from now neither overflow nor lose the sub-second part of now")
{
    const auto now = sys_days{2024y / 6 / 1} + 12h;
    CHECK(genesys::parse_retry_after("Sat, 01 Jan 0000 00:00:00 GMT", now) == 0s);
    CHECK(genesys::parse_retry_after("Sun Nov 16 08:49:37 3988", now) ==
          duration_cast<milliseconds>(sys_days{3988y / 11 / 16} + 8h + 49min + 37s - now));
    CHECK(genesys::parse_retry_after("Sat, 01 Jun 2024 12:00:10 GMT", now + 250ms) == 9750ms);
}
