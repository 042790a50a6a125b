// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_IMPL_DATE_TIME_IPP
#define GENESYS_IMPL_DATE_TIME_IPP

#include <genesys/date_time.hpp>

#include <cstdio>

namespace genesys {

GENESYS_DECL std::string format_date_time(date_time t)
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
