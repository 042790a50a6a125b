// SPDX-License-Identifier: BSL-1.0
// libFuzzer target: the platform's date-time values, genesys::parse_date_time and format_date_time.
//
// Input: the text, as is.
//
// Invariants (a violation traps):
// - parse_date_time never crashes;
// - when it succeeds, format_date_time(t) is `yyyy-MM-ddTHH:mm:ss.mmmZ` (24 characters) and
//   parse_date_time(format_date_time(t)) == t.

#include "fuzz_check.hpp"

#include <genesys/genesys.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>


extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto t = genesys::parse_date_time(text);
    if (!t)
        return 0;
    const std::string formatted = genesys::format_date_time(*t);
    const auto again = genesys::parse_date_time(formatted);
    if (again != t)
        std::fprintf(stderr, "fuzz_date_time: \"%.*s\" formats as \"%s\", which does not parse back\n",
                     static_cast<int>(text.size()), text.data(), formatted.c_str());
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(*again == *t);
    FUZZ_CHECK(formatted.size() == 24 && formatted.back() == 'Z' && formatted[10] == 'T');
    return 0;
}
