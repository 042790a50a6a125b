#ifndef GENESYS_CLIENT_CONFIG_HPP
#define GENESYS_CLIENT_CONFIG_HPP

/// @file
/// `client_config`: where and as whom a client calls the API.

#include <genesys/http.hpp>
#include <genesys/region.hpp>
#include <genesys/version.hpp>

#include <string>
#include <utility>

namespace genesys {

/** Where and as whom a client calls the API.

    `base_url` is the API base: a region's (`api_base_url(region::eu_west_1)`), a custom
    host, or a gateway with a path prefix (`https://gw.example.com/genesys`). It must be
    `http(s)://host[:port][/prefix]`, without user-info, query or fragment; a bad one is
    reported as an `invalid_argument` error by every call, before anything is sent.

    @code
    genesys::client_config cfg{.base_url = genesys::api_base_url(genesys::region::eu_west_1),
                               .access_token = token};
    @endcode
*/
struct client_config {
    /// The API base URL; the default is the `us_east_1` region.
    std::string base_url = "https://api.mypurecloud.com";
    /// The OAuth access token, sent as `Authorization: Bearer <token>`. Never logged or shown.
    std::string access_token{};
    /// The `User-Agent` header; the default names this library and its version.
    std::string user_agent = std::string(default_user_agent);
    /// Extra headers sent with every request; they replace same-named defaults (`Accept`, ...),
    /// but may not set `Authorization` (use `access_token`).
    http_headers default_headers{};

    /// A configuration for a region's API host.
    static client_config for_region(region r, std::string access_token)
    {
        client_config cfg;
        cfg.base_url = api_base_url(r);
        cfg.access_token = std::move(access_token);
        return cfg;
    }
};

} // namespace genesys

#endif
