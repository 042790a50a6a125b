// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_REGION_HPP
#define GENESYS_REGION_HPP

/// @file
/// Genesys Cloud regions and the API and login base URLs that go with them.

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace genesys {

/// A Genesys Cloud region. New regions appear over time; a custom host is always possible.
enum class region {
    us_east_1,
    eu_west_1,
    ap_southeast_2,
    ap_northeast_1,
    eu_central_1,
    us_west_2,
    ca_central_1,
    ap_northeast_2,
    eu_west_2,
    ap_south_1,
    us_east_2,
    sa_east_1,
    me_central_1,
    ap_northeast_3,
    eu_central_2,
    mx_central_1,
    ap_southeast_1,
    eusc_de_east_1,
};

/// A region's name as the SDKs spell it and its host (API at `api.<host>`, login at `login.<host>`).
struct region_info {
    region id;             ///< The region this entry describes.
    std::string_view name; ///< The SDKs' name, e.g. `"eu_west_1"`.
    std::string_view host; ///< The base host, e.g. `"mypurecloud.ie"`.
};

/// Every known region, in the order of `genesys::region`. `us_east_1` is the platform default.
inline constexpr std::array<region_info, 18> regions{{
    {region::us_east_1, "us_east_1", "mypurecloud.com"},
    {region::eu_west_1, "eu_west_1", "mypurecloud.ie"},
    {region::ap_southeast_2, "ap_southeast_2", "mypurecloud.com.au"},
    {region::ap_northeast_1, "ap_northeast_1", "mypurecloud.jp"},
    {region::eu_central_1, "eu_central_1", "mypurecloud.de"},
    {region::us_west_2, "us_west_2", "usw2.pure.cloud"},
    {region::ca_central_1, "ca_central_1", "cac1.pure.cloud"},
    {region::ap_northeast_2, "ap_northeast_2", "apne2.pure.cloud"},
    {region::eu_west_2, "eu_west_2", "euw2.pure.cloud"},
    {region::ap_south_1, "ap_south_1", "aps1.pure.cloud"},
    {region::us_east_2, "us_east_2", "use2.us-gov-pure.cloud"},
    {region::sa_east_1, "sa_east_1", "sae1.pure.cloud"},
    {region::me_central_1, "me_central_1", "mec1.pure.cloud"},
    {region::ap_northeast_3, "ap_northeast_3", "apne3.pure.cloud"},
    {region::eu_central_2, "eu_central_2", "euc2.pure.cloud"},
    {region::mx_central_1, "mx_central_1", "mxc1.pure.cloud"},
    {region::ap_southeast_1, "ap_southeast_1", "apse1.pure.cloud"},
    {region::eusc_de_east_1, "eusc_de_east_1", "edee1.eusc-pure.cloud"},
}};

/// The table entry of `r`.
constexpr const region_info& info(region r) noexcept { return regions[static_cast<std::size_t>(r)]; }

/** Looks a region up by name.

    @param name `"eu_west_1"`, and also `"eu-west-1"` or any case.
    @return The region; `std::nullopt` for a name that is none.

    @code
    auto r = genesys::find_region("eu-west-1"); // region::eu_west_1
    @endcode
*/
constexpr std::optional<region> find_region(std::string_view name) noexcept
{
    for (const auto& entry : regions) {
        if (entry.name.size() != name.size())
            continue;
        bool same = true;
        for (std::size_t i = 0; i < name.size() && same; ++i) {
            char c = name[i];
            if (c == '-')
                c = '_';
            else if (c >= 'A' && c <= 'Z')
                c = static_cast<char>(c - 'A' + 'a');
            same = c == entry.name[i];
        }
        if (same)
            return entry.id;
    }
    return std::nullopt;
}

/// `https://api.<host>` for a region's or any custom host, e.g. `api_base_url("mypurecloud.ie")`.
inline std::string api_base_url(std::string_view host) { return "https://api." + std::string(host); }
/// `https://api.<host>` of a region.
inline std::string api_base_url(region r) { return api_base_url(info(r).host); }
/// `https://login.<host>` for a region's or any custom host.
inline std::string login_base_url(std::string_view host) { return "https://login." + std::string(host); }
/// `https://login.<host>` of a region.
inline std::string login_base_url(region r) { return login_base_url(info(r).host); }

} // namespace genesys

#endif
