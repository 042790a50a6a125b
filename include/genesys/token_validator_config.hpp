// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_TOKEN_VALIDATOR_CONFIG_HPP
#define GENESYS_TOKEN_VALIDATOR_CONFIG_HPP

/// @file
/// `token_validator_config`: where and how a `token_validator` checks tokens. It has no token:
/// each check sends the token it checks.

#include <genesys/http.hpp>
#include <genesys/logging.hpp>
#include <genesys/region.hpp>
#include <genesys/retry.hpp>
#include <genesys/version.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace genesys {

/** Where and how a `token_validator` sends its checks (`GET /api/v2/tokens/me`).

    The members mean what those of `client_config` mean; there is no `access_token` nor
    `token_source`: each check is sent with the token it checks. The validator checks its
    configuration when it is made (see `token_validator`): a bad base URL, header, retry
    policy or timeout throws `invalid_argument_error` there, and `genesys::check(config)`
    returns that error without throwing.

    @code
    auto config = genesys::token_validator_config::for_region(genesys::region::eu_west_1);
    config.call_timeout = std::chrono::seconds(5);
    @endcode
*/
struct token_validator_config {
    /// The API base URL (`http(s)://host[:port][/prefix]`; `http://` only to a loopback host
    /// unless `allow_insecure_http` is set); the default is the `us_east_1` region.
    std::string base_url = "https://api.mypurecloud.com";
    /// The `User-Agent` header (no control character).
    std::string user_agent = std::string(default_user_agent);
    /// Extra headers sent with every check, as `client_config::default_headers` (never
    /// `Authorization`).
    http_headers default_headers{};
    /// When and how to retry a check; off by default.
    retry_policy retry{};
    /// Receives one event per attempt; no cost when empty.
    genesys::logger logger{};
    /// Request headers whose values log events show, besides `default_logged_headers`.
    std::vector<std::string> logged_headers{};
    /// A 2xx body larger than this is a `decode` error (default 4 MiB).
    std::size_t max_response_bytes = 4 * 1024 * 1024;
    /// A 2xx body nested deeper than this is a `decode` error (default 32 levels).
    std::size_t max_json_depth = 32;
    /// The longest one check may take, retries included; zero (the default): no limit but the
    /// retry policy's and the transport's; negative: refused.
    std::chrono::milliseconds call_timeout{0};
    /// Allows `http://` to a host that is not loopback.
    bool allow_insecure_http = false;

    /// The configuration of region `r`'s API host.
    static token_validator_config for_region(region r)
    {
        token_validator_config c;
        c.base_url = api_base_url(r);
        return c;
    }
};

} // namespace genesys

#endif
