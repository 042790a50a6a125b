#include "fixtures.hpp"

#include <set>
#include <string>
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

TEST_CASE("client_config defaults and designated initializers")
{
    genesys::client_config def;
    CHECK(def.base_url == "https://api.mypurecloud.com");
    CHECK(def.access_token.empty());
    CHECK(def.default_headers.empty());

    genesys::client_config cfg{.base_url = "https://api.mypurecloud.ie", .access_token = "tok"};
    CHECK(cfg.base_url == "https://api.mypurecloud.ie");
    CHECK(cfg.access_token == "tok");

    auto regional = genesys::client_config::for_region(genesys::region::ap_south_1, "tok2");
    CHECK(regional.base_url == "https://api.aps1.pure.cloud");
    CHECK(regional.access_token == "tok2");
}

TEST_CASE("base URLs are checked and normalized")
{
    auto check = [](std::string_view url) {
        std::string normalized;
        auto problem = genesys::detail::base_url_problem(url, normalized);
        return std::pair{problem, normalized};
    };
    CHECK(check("https://api.mypurecloud.com").second == "https://api.mypurecloud.com");
    CHECK(check("https://api.mypurecloud.com/").second == "https://api.mypurecloud.com");
    CHECK(check("https://gw.example.com:8443/genesys/api//").second == "https://gw.example.com:8443/genesys/api");
    CHECK(check("http://127.0.0.1:8080").second == "http://127.0.0.1:8080");
    CHECK(check("HTTPS://API.EXAMPLE.COM").first.empty());
    CHECK(check("http://[::1]:9000/x").second == "http://[::1]:9000/x");

    for (std::string_view bad : {"", "api.mypurecloud.com", "ftp://host", "https://", "https:///path",
                                 "https://user:pw@host", "https://host?x=1", "https://host/#frag", "https://host:",
                                 "https://host:99999", "https://host:80a", "https://ho st", "https://host/a b",
                                 "https://host\r\nX: y", "https://[::1", "https://a:b:443", "https://a:b",
                                 "https://ho[st", "https://host]", "https://[::1]:80:90"}) {
        CAPTURE(bad);
        CHECK_FALSE(check(bad).first.empty());
    }
}
