// SPDX-License-Identifier: BSL-1.0
// <genesys/region.hpp>: the region table, lookup by name, and the base URLs of a region or host.
#include <genesys/region.hpp>

#include <doctest/doctest.h>

#include <set>
#include <string_view>
#include <utility>

TEST_CASE("the region table has every region of the platform with its host")
{
    using genesys::region;
    const std::pair<region, std::string_view> expected[] = {
        {region::us_east_1, "mypurecloud.com"},         {region::eu_west_1, "mypurecloud.ie"},
        {region::ap_southeast_2, "mypurecloud.com.au"}, {region::ap_northeast_1, "mypurecloud.jp"},
        {region::eu_central_1, "mypurecloud.de"},       {region::us_west_2, "usw2.pure.cloud"},
        {region::ca_central_1, "cac1.pure.cloud"},      {region::ap_northeast_2, "apne2.pure.cloud"},
        {region::eu_west_2, "euw2.pure.cloud"},         {region::ap_south_1, "aps1.pure.cloud"},
        {region::us_east_2, "use2.us-gov-pure.cloud"},  {region::sa_east_1, "sae1.pure.cloud"},
        {region::me_central_1, "mec1.pure.cloud"},      {region::ap_northeast_3, "apne3.pure.cloud"},
        {region::eu_central_2, "euc2.pure.cloud"},      {region::mx_central_1, "mxc1.pure.cloud"},
        {region::ap_southeast_1, "apse1.pure.cloud"},   {region::eusc_de_east_1, "edee1.eusc-pure.cloud"},
    };
    static_assert(genesys::regions.size() == 18);
    std::set<std::string_view> names, hosts;
    for (const auto& entry : expected) {
        const region r = entry.first;
        const std::string_view host = entry.second; // not a structured binding: CAPTURE needs a variable
        CAPTURE(host);
        CHECK(genesys::info(r).id == r);
        CHECK(genesys::info(r).host == host);
        CHECK(genesys::find_region(genesys::info(r).name) == r);
        names.insert(genesys::info(r).name);
        hosts.insert(genesys::info(r).host);
    }
    CHECK(names.size() == 18);
    CHECK(hosts.size() == 18);
}

TEST_CASE("regions are found by name in either spelling")
{
    static_assert(genesys::find_region("eu_west_1") == genesys::region::eu_west_1);
    CHECK(genesys::find_region("eu-west-1") == genesys::region::eu_west_1);
    CHECK(genesys::find_region("AP_NORTHEAST_2") == genesys::region::ap_northeast_2);
    CHECK_FALSE(genesys::find_region("mars_north_1").has_value());
    CHECK_FALSE(genesys::find_region("").has_value());
    CHECK_FALSE(genesys::find_region("eu_west_").has_value());
}

TEST_CASE("API and login base URLs follow the region or a custom host")
{
    CHECK(genesys::api_base_url(genesys::region::us_east_1) == "https://api.mypurecloud.com");
    CHECK(genesys::login_base_url(genesys::region::eu_central_2) == "https://login.euc2.pure.cloud");
    CHECK(genesys::api_base_url("new1.pure.cloud") == "https://api.new1.pure.cloud");
    CHECK(genesys::login_base_url("new1.pure.cloud") == "https://login.new1.pure.cloud");
}
