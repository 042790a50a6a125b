// SPDX-License-Identifier: BSL-1.0
// <genesys/date_time.hpp>: genesys::parse_date_time and genesys::format_date_time
// (platform-facts.md, "Dates").
#include <genesys/date_time.hpp>

#include "fixtures.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace {

using genesys::date_time;
using genesys::format_date_time;
using genesys::parse_date_time;

/// The UTC instant y-mo-d h:mi:s.ms, built with <chrono> independently of the parser.
constexpr date_time at(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0, int ms = 0)
{
    using namespace std::chrono;
    return sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s} + milliseconds{ms};
}

constexpr date_time from_ms(std::int64_t ms) { return date_time{std::chrono::milliseconds{ms}}; }

// ---- parse_date_time is usable in constant expressions ----

static_assert(parse_date_time("1970-01-01T00:00:00Z") == date_time{});
static_assert(parse_date_time("1970-01-01T00:00:00.001Z") == from_ms(1));
static_assert(parse_date_time("2023-01-01T01:00:00.5+01:00") == at(2023, 1, 1, 0, 0, 0, 500));
static_assert(parse_date_time("1969-12-31T23:59:59.999Z") == from_ms(-1));
static_assert(!parse_date_time("2023-02-29T00:00:00Z").has_value());
static_assert(!parse_date_time("").has_value());

} // namespace

TEST_CASE("parse_date_time: the platform's canonical form, with and without milliseconds")
{
    SUBCASE("with milliseconds")
    {
        CHECK(parse_date_time("2023-01-01T00:00:00.000Z") == at(2023, 1, 1));
        CHECK(parse_date_time("2026-11-27T22:15:30.250Z") == at(2026, 11, 27, 22, 15, 30, 250));
        CHECK(parse_date_time("1999-12-31T23:59:59.999Z") == at(1999, 12, 31, 23, 59, 59, 999));
    }
    SUBCASE("without a fraction")
    {
        CHECK(parse_date_time("2023-01-01T00:00:00Z") == at(2023, 1, 1));
        CHECK(parse_date_time("2026-11-27T22:15:30Z") == at(2026, 11, 27, 22, 15, 30));
        CHECK(parse_date_time("1970-01-01T00:00:00Z") == date_time{});
    }
    SUBCASE("with and without milliseconds name the same instant when the fraction is zero")
    {
        CHECK(parse_date_time("2024-06-15T12:34:56Z") == parse_date_time("2024-06-15T12:34:56.000Z"));
    }
}

TEST_CASE("parse_date_time: fractions of any length are truncated to milliseconds, never rounded")
{
    SUBCASE("1 digit is tenths")
    {
        CHECK(parse_date_time("2023-05-06T07:08:09.5Z") == at(2023, 5, 6, 7, 8, 9, 500));
        CHECK(parse_date_time("2023-05-06T07:08:09.0Z") == at(2023, 5, 6, 7, 8, 9, 0));
        CHECK(parse_date_time("2023-05-06T07:08:09.9Z") == at(2023, 5, 6, 7, 8, 9, 900));
    }
    SUBCASE("2 digits are hundredths")
    {
        CHECK(parse_date_time("2023-05-06T07:08:09.12Z") == at(2023, 5, 6, 7, 8, 9, 120));
        CHECK(parse_date_time("2023-05-06T07:08:09.05Z") == at(2023, 5, 6, 7, 8, 9, 50));
    }
    SUBCASE("3 digits are milliseconds")
    {
        CHECK(parse_date_time("2023-05-06T07:08:09.123Z") == at(2023, 5, 6, 7, 8, 9, 123));
        CHECK(parse_date_time("2023-05-06T07:08:09.007Z") == at(2023, 5, 6, 7, 8, 9, 7));
    }
    SUBCASE("9 digits are truncated")
    {
        CHECK(parse_date_time("2023-05-06T07:08:09.123456789Z") == at(2023, 5, 6, 7, 8, 9, 123));
        CHECK(parse_date_time("2023-05-06T07:08:09.000999999Z") == at(2023, 5, 6, 7, 8, 9, 0));
    }
    SUBCASE("truncation, not rounding, at the top of a second and of a day")
    {
        CHECK(parse_date_time("2023-05-06T07:08:09.9999Z") == at(2023, 5, 6, 7, 8, 9, 999));
        CHECK(parse_date_time("2023-12-31T23:59:59.999999999Z") == at(2023, 12, 31, 23, 59, 59, 999));
        CHECK(parse_date_time("2023-05-06T07:08:09.1239Z") == at(2023, 5, 6, 7, 8, 9, 123));
    }
}

TEST_CASE("parse_date_time: zones")
{
    SUBCASE("Z and lower-case z")
    {
        CHECK(parse_date_time("2023-03-04T05:06:07.089Z") == at(2023, 3, 4, 5, 6, 7, 89));
        CHECK(parse_date_time("2023-03-04T05:06:07.089z") == at(2023, 3, 4, 5, 6, 7, 89));
    }
    SUBCASE("+01:00 is one hour ahead of UTC")
    {
        CHECK(parse_date_time("2023-01-01T01:00:00+01:00") == at(2023, 1, 1));
        CHECK(parse_date_time("2023-01-01T01:00:00.5+01:00") == at(2023, 1, 1, 0, 0, 0, 500));
    }
    SUBCASE("-05:30 is five and a half hours behind UTC")
    {
        CHECK(parse_date_time("2023-01-01T00:00:00-05:30") == at(2023, 1, 1, 5, 30));
        CHECK(parse_date_time("2023-06-30T20:15:00.250-05:30") == at(2023, 7, 1, 1, 45, 0, 250));
    }
    SUBCASE("+0130 without a colon")
    {
        CHECK(parse_date_time("2023-01-01T01:30:00+0130") == at(2023, 1, 1));
        CHECK(parse_date_time("2023-01-01T00:00:00-0530") == at(2023, 1, 1, 5, 30));
    }
    SUBCASE("+00:00 and -00:00 are UTC")
    {
        CHECK(parse_date_time("2023-01-01T12:00:00+00:00") == at(2023, 1, 1, 12));
        CHECK(parse_date_time("2023-01-01T12:00:00-00:00") == at(2023, 1, 1, 12));
    }
    SUBCASE("an offset can move the instant across a day, month and year boundary")
    {
        CHECK(parse_date_time("2024-03-01T00:30:00+01:00") == at(2024, 2, 29, 23, 30));
        CHECK(parse_date_time("2023-12-31T23:00:00-02:00") == at(2024, 1, 1, 1, 0));
    }
}

TEST_CASE("parse_date_time: lower-case t separator")
{
    CHECK(parse_date_time("2023-01-01t00:00:00Z") == at(2023, 1, 1));
    CHECK(parse_date_time("2023-01-01t10:20:30.400z") == at(2023, 1, 1, 10, 20, 30, 400));
}

TEST_CASE("parse_date_time: calendar validity")
{
    SUBCASE("leap day in a leap year is accepted")
    {
        CHECK(parse_date_time("2024-02-29T00:00:00Z") == at(2024, 2, 29));
        CHECK(parse_date_time("2000-02-29T12:00:00.000Z") == at(2000, 2, 29, 12));
    }
    SUBCASE("impossible dates are rejected")
    {
        CHECK(parse_date_time("2023-02-29T00:00:00Z") == std::nullopt);
        CHECK(parse_date_time("1900-02-29T00:00:00Z") == std::nullopt);
        CHECK(parse_date_time("2024-02-30T00:00:00Z") == std::nullopt);
        CHECK(parse_date_time("2023-04-31T00:00:00Z") == std::nullopt);
        CHECK(parse_date_time("2023-13-01T00:00:00Z") == std::nullopt);
        CHECK(parse_date_time("2023-00-10T00:00:00Z") == std::nullopt);
        CHECK(parse_date_time("2023-01-00T00:00:00Z") == std::nullopt);
        CHECK(parse_date_time("2023-01-32T00:00:00Z") == std::nullopt);
    }
    SUBCASE("impossible times are rejected")
    {
        CHECK(parse_date_time("2023-01-01T24:00:00Z") == std::nullopt);
        CHECK(parse_date_time("2023-01-01T00:60:00Z") == std::nullopt);
        CHECK(parse_date_time("2023-01-01T00:00:61Z") == std::nullopt);
        CHECK(parse_date_time("2023-01-01T99:99:99Z") == std::nullopt);
    }
    SUBCASE("the last valid values of each field are accepted")
    {
        CHECK(parse_date_time("2023-12-31T23:59:59.999Z") == at(2023, 12, 31, 23, 59, 59, 999));
        CHECK(parse_date_time("2023-01-31T00:00:00Z") == at(2023, 1, 31));
        CHECK(parse_date_time("2023-04-30T00:00:00Z") == at(2023, 4, 30));
    }
}

TEST_CASE("parse_date_time: malformed strings give nullopt")
{
    const char* const malformed[] = {
        "",                              // empty
        "2023-01-01T00:00:00Zjunk",      // trailing garbage
        "2023-01-01T00:00:00Z ",         // trailing space
        "2023-01-01T00:00:00+01:00x",    // trailing garbage after an offset
        "2023-01-01T00:00:00ZZ",         // two zones
        "2023-1-01T00:00:00Z",           // one-digit month
        "2023-01-1T00:00:00Z",           // one-digit day
        "23-01-01T00:00:00Z",            // two-digit year
        "2023-01-01T0:00:00Z",           // one-digit hour
        "2023-01-01T00:00Z",             // missing seconds
        "2023-01-01T00Z",                // missing minutes and seconds
        "2023-01-01Z",                   // date and zone only
        "2023-01-01+01:00",              // date and offset only
        "2023-01-01T",                   // separator without a time
        "2023-01-01 ",                   // space without a time
        "2023-01-01  00:00:00Z",         // two spaces
        "2023-01-01T00:00",              // no zone and no seconds
        "2023-01-01T00:00:00 Z",         // space before the zone
        "2023-01-01T00:00:00.Z",         // '.' with no digits
        "2023-01-01T00:00:00.",          // '.' at the end
        "2023-01-01T00:00:00,5Z",        // comma fraction
        "2023-01-01T00:00:00+1",         // one-digit offset
        "2023-01-01T00:00:00+01",        // offset without minutes
        "2023-01-01T00:00:00+01:0",      // offset with one-digit minutes
        "2023-01-01T00:00:00+",          // sign only
        "2023-01-01T00:00:00+24:00",     // offset hour out of range
        "2023-01-01T00:00:00+01:60",     // offset minute out of range
        "2023-01-01X00:00:00Z",          // wrong separator
        "2023/01/01T00:00:00Z",          // wrong date separator
        "2023-01-01T00-00-00Z",          // wrong time separator
        "2023-0a-01T00:00:00Z",          // letter in a number
        " 2023-01-01T00:00:00Z",         // leading space
        "yesterday",
    };
    for (const char* s : malformed) {
        INFO("input: \"", s, "\"");
        CHECK(parse_date_time(s) == std::nullopt);
    }
}

TEST_CASE("parse_date_time: the other forms the official Java SDK reads")
{
    SUBCASE("no zone is UTC")
    {
        CHECK(parse_date_time("2023-01-01T00:00:00") == at(2023, 1, 1));
        CHECK(parse_date_time("2026-11-27T22:15:30.250") == at(2026, 11, 27, 22, 15, 30, 250));
        CHECK(parse_date_time("2026-11-27T22:15:30.123456") == at(2026, 11, 27, 22, 15, 30, 123));
    }
    SUBCASE("a space instead of T, with or without a zone")
    {
        CHECK(parse_date_time("2023-01-01 00:00:00Z") == at(2023, 1, 1));
        CHECK(parse_date_time("2023-06-30 20:15:00.250-05:30") == at(2023, 7, 1, 1, 45, 0, 250));
        CHECK(parse_date_time("2026-11-27 22:15:30") == at(2026, 11, 27, 22, 15, 30));
    }
    SUBCASE("a date alone is midnight UTC")
    {
        CHECK(parse_date_time("2023-01-01") == at(2023, 1, 1));
        CHECK(parse_date_time("2024-02-29") == at(2024, 2, 29));
        CHECK(parse_date_time("0000-01-01") == at(0, 1, 1));
        CHECK(parse_date_time("9999-12-31") == at(9999, 12, 31));
        CHECK(parse_date_time("2023-02-29") == std::nullopt);
    }
    SUBCASE("they format back to the canonical form, which parses to the same instant")
    {
        for (const char* s : {"2023-01-01", "2023-01-01 12:00:00", "2023-01-01T12:00:00.5"}) {
            INFO("input: ", s);
            const auto t = parse_date_time(s);
            REQUIRE(t.has_value());
            CHECK(parse_date_time(format_date_time(*t)) == t);
        }
    }
}

TEST_CASE("parse_date_time: reads only the string_view it is given")
{
    constexpr std::string_view buffer = "2023-01-01T00:00:00Z and more";
    CHECK(parse_date_time(buffer.substr(0, 20)) == at(2023, 1, 1));
    CHECK(parse_date_time(buffer) == std::nullopt);
    CHECK(parse_date_time(buffer.substr(0, 18)) == std::nullopt);
    CHECK(parse_date_time(buffer.substr(0, 19)) == at(2023, 1, 1)); // no zone: UTC
}

TEST_CASE("format_date_time: always yyyy-MM-ddTHH:mm:ss.mmmZ")
{
    SUBCASE("the epoch")
    {
        CHECK(format_date_time(date_time{}) == "1970-01-01T00:00:00.000Z");
    }
    SUBCASE("milliseconds are always three digits, even when zero")
    {
        CHECK(format_date_time(at(2023, 1, 1)) == "2023-01-01T00:00:00.000Z");
        CHECK(format_date_time(at(2023, 1, 1, 0, 0, 0, 5)) == "2023-01-01T00:00:00.005Z");
        CHECK(format_date_time(at(2023, 1, 1, 0, 0, 0, 50)) == "2023-01-01T00:00:00.050Z");
    }
    SUBCASE("every field is zero-padded")
    {
        CHECK(format_date_time(at(2026, 11, 27, 22, 15, 30, 250)) == "2026-11-27T22:15:30.250Z");
        CHECK(format_date_time(at(2005, 3, 4, 5, 6, 7, 8)) == "2005-03-04T05:06:07.008Z");
        CHECK(format_date_time(at(987, 6, 5, 4, 3, 2, 1)) == "0987-06-05T04:03:02.001Z");
    }
    SUBCASE("end of a leap day and end of a year")
    {
        CHECK(format_date_time(at(2024, 2, 29, 23, 59, 59, 999)) == "2024-02-29T23:59:59.999Z");
        CHECK(format_date_time(at(9999, 12, 31, 23, 59, 59, 999)) == "9999-12-31T23:59:59.999Z");
    }
    SUBCASE("times before 1970")
    {
        CHECK(format_date_time(from_ms(-1)) == "1969-12-31T23:59:59.999Z");
        CHECK(format_date_time(from_ms(-1000)) == "1969-12-31T23:59:59.000Z");
        CHECK(format_date_time(from_ms(-86'400'000)) == "1969-12-31T00:00:00.000Z");
        CHECK(format_date_time(from_ms(-86'400'001)) == "1969-12-30T23:59:59.999Z");
        CHECK(format_date_time(at(1900, 2, 28, 13, 14, 15, 161)) == "1900-02-28T13:14:15.161Z");
        CHECK(format_date_time(at(1, 1, 1)) == "0001-01-01T00:00:00.000Z");
    }
}

TEST_CASE("1969-12-31T23:59:59.999Z round-trips")
{
    constexpr std::string_view text = "1969-12-31T23:59:59.999Z";
    const auto t = parse_date_time(text);
    REQUIRE(t.has_value());
    CHECK(*t == from_ms(-1));
    CHECK(format_date_time(*t) == text);
}

TEST_CASE("format_date_time then parse_date_time gives back the same instant")
{
    SUBCASE("chosen values")
    {
        const date_time values[] = {
            date_time{},
            from_ms(1),
            from_ms(-1),
            from_ms(999),
            from_ms(-999),
            from_ms(-1001),
            at(1, 1, 1),
            at(1900, 3, 1, 0, 0, 0, 1),
            at(1969, 12, 31, 23, 59, 59, 999),
            at(2000, 2, 29, 12, 0, 0, 500),
            at(2023, 1, 1),
            at(2024, 2, 29, 23, 59, 59, 999),
            at(2026, 11, 27, 22, 15, 30, 250),
            at(2038, 1, 19, 3, 14, 8, 0),
            at(9999, 12, 31, 23, 59, 59, 999),
        };
        for (const auto& t : values) {
            const std::string text = format_date_time(t);
            INFO("formatted: ", text);
            CHECK(text.size() == 24);
            CHECK(parse_date_time(text) == t);
        }
    }
    SUBCASE("a spread of pseudo-random values from year 1 to year 9999")
    {
        const std::int64_t lo = (at(1, 1, 1) - date_time{}).count();
        const std::int64_t hi = (at(9999, 12, 31, 23, 59, 59, 999) - date_time{}).count();
        const auto span = static_cast<std::uint64_t>(hi - lo) + 1;
        std::uint64_t state = 0x9E3779B97F4A7C15ULL;
        int mismatches = 0;
        for (int i = 0; i < 5000; ++i) {
            state = state * 6364136223846793005ULL + 1442695040888963407ULL;
            const auto ms = lo + static_cast<std::int64_t>((state >> 11) % span);
            const date_time t = from_ms(ms);
            const std::string text = format_date_time(t);
            const auto back = parse_date_time(text);
            const bool shape_ok = text.size() == 24 && text[4] == '-' && text[7] == '-' && text[10] == 'T' &&
                                  text[13] == ':' && text[16] == ':' && text[19] == '.' && text[23] == 'Z';
            if (!shape_ok || back != t) {
                ++mismatches;
                INFO("ms since epoch: ", ms, ", formatted: ", text);
                CHECK(shape_ok);
                CHECK(back == t);
            }
        }
        CHECK(mismatches == 0);
    }
    SUBCASE("every millisecond around the epoch")
    {
        int mismatches = 0;
        for (std::int64_t ms = -2500; ms <= 2500; ++ms) {
            if (parse_date_time(format_date_time(from_ms(ms))) != from_ms(ms))
                ++mismatches;
        }
        CHECK(mismatches == 0);
    }
}

TEST_CASE("parse_date_time of other spellings, formatted, gives the canonical form")
{
    struct row {
        const char* in;
        const char* out;
    };
    const row rows[] = {
        {"2023-01-01T00:00:00Z", "2023-01-01T00:00:00.000Z"},
        {"2023-01-01T01:00:00.5+01:00", "2023-01-01T00:00:00.500Z"},
        {"2023-01-01t00:00:00.123456789z", "2023-01-01T00:00:00.123Z"},
        {"2023-01-01T00:00:00-05:30", "2023-01-01T05:30:00.000Z"},
        {"1970-01-01T00:59:59.999+0100", "1969-12-31T23:59:59.999Z"},
    };
    for (const auto& r : rows) {
        INFO("input: ", r.in);
        const auto t = parse_date_time(r.in);
        REQUIRE(t.has_value());
        CHECK(format_date_time(*t) == r.out);
    }
}

TEST_CASE("parse_date_time: instants outside the years 0000 to 9999 are refused (format could not write them)")
{
    CHECK_FALSE(genesys::parse_date_time("0000-01-01T00:00:00+00:01").has_value());
    CHECK_FALSE(genesys::parse_date_time("9999-12-31T23:59:59-01:00").has_value());
    CHECK_FALSE(genesys::parse_date_time("9999-12-31T23:59:60.999Z").has_value());
    CHECK(genesys::format_date_time(*genesys::parse_date_time("0000-01-01T00:00:00Z")) == "0000-01-01T00:00:00.000Z");
    CHECK(genesys::format_date_time(*genesys::parse_date_time("9999-12-31T23:59:59.999Z")) == "9999-12-31T23:59:59.999Z");
}

TEST_CASE("format_date_time: any system_clock time point, truncated to the millisecond toward the past")
{
    using namespace std::chrono;
    // validated_token::trusted_until() is a system_clock::time_point: it needed a cast.
    const system_clock::time_point t = sys_days{year{2023} / January / 1} + 1500ms + 999us;
    CHECK(genesys::format_date_time(t) == "2023-01-01T00:00:01.500Z");
    CHECK(genesys::format_date_time(sys_seconds{sys_days{year{2023} / January / 1}}) == "2023-01-01T00:00:00.000Z");
    CHECK(genesys::format_date_time(system_clock::time_point{} - 1us) == "1969-12-31T23:59:59.999Z");
}
