// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_OAUTH_CONFIG_HPP
#define GENESYS_OAUTH_CONFIG_HPP

/// @file
/// `oauth_config`: where and as whom to ask the login host for tokens.

#include <genesys/detail/ascii.hpp>
#include <genesys/detail/config_check.hpp>
#include <genesys/error.hpp>
#include <genesys/logging.hpp>
#include <genesys/region.hpp>
#include <genesys/retry.hpp>
#include <genesys/version.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace genesys {

/** The login base URL that goes with an API base URL.

    @param api_base_url A `client_config::base_url`.
    @return `https://login.<host>` for `https://api.<host>` (every region); any other base (a
    gateway, a loopback emulator) unchanged, being its own login base.
*/
inline std::string login_url_for(std::string_view api_base_url)
{
    std::string url(api_base_url);
    for (std::string_view scheme : {"https://api.", "http://api."}) {
        if (url.size() > scheme.size() && detail::iequals(std::string_view(url).substr(0, scheme.size()), scheme)) {
            url.replace(scheme.size() - 4, 3, "login");
            break;
        }
    }
    while (!url.empty() && url.back() == '/')
        url.pop_back();
    return url;
}

/** Where and as whom to ask for tokens.

    Checked once, when an `oauth_client` is made from it: a bad one throws
    `invalid_argument_error` then, the error `check(config)` returns.
*/
struct oauth_config {
    /// The login base URL, e.g. `login_base_url(region::eu_west_1)`, `login_url_for(api_base)`, or
    /// a gateway's login prefix (`https://gw.example.com/login`).
    std::string login_url = "https://login.mypurecloud.com";
    /// The OAuth client's id.
    std::string client_id{};
    /// Sent only in the `Authorization: Basic` header; never logged or shown. May be empty for
    /// a public client (authorization code with PKCE, refresh token): `client_id` then goes in the form.
    std::string client_secret{};
    /// The `User-Agent` header; the default names this library and its version.
    std::string user_agent = std::string(default_user_agent);
    /// Allows `http://` to a host that is not loopback (see `client_config::allow_insecure_http`).
    bool allow_insecure_http = false;
    /** How token requests are retried. A 429, which the login host sends before it processes a
        request, is retried as `retry` says (its `retry_statuses` holding 429, within its limits)
        whatever `retry_token_requests` says; the other failures only with it. Off by default,
        as for `client_config::retry`. */
    retry_policy retry{};
    /// `POST /oauth/token` is not idempotent, so only a 429 is retried unless this is set; then
    /// `retry` applies in full (429, 502, 503, 504 and network failures, within its budget).
    bool retry_token_requests = false;
    /// A response body larger than this is an error (default 4 MiB).
    std::size_t max_response_bytes = 4 * 1024 * 1024;
    /// JSON nested deeper than this is an error (default 32 levels).
    std::size_t max_json_depth = 32;
    /// Receives one event per attempt of a token request, as `client_config::logger` does;
    /// `Authorization` (the Basic credential) reads `[REDACTED]`. No cost when empty.
    genesys::logger logger{};
    /// Request headers whose values log events show, besides `default_logged_headers` (see
    /// `client_config::logged_headers`).
    std::vector<std::string> logged_headers{};

    /// The configuration for a region's login host.
    static oauth_config for_region(region r, std::string client_id, std::string client_secret)
    {
        oauth_config cfg;
        cfg.login_url = login_base_url(r);
        cfg.client_id = std::move(client_id);
        cfg.client_secret = std::move(client_secret);
        return cfg;
    }
};

namespace detail {

/// Why `cfg` cannot be used, or an empty string; on success `normalized_login` holds the login
/// URL without trailing slashes. Never quotes the secret. Whether a grant needs `client_secret`
/// is the grant's own check.
inline std::string oauth_config_problem(const oauth_config& cfg, std::string& normalized_login)
{
    if (auto why = base_url_problem(cfg.login_url, normalized_login, cfg.allow_insecure_http); !why.empty())
        return "login_url: " + why;
    if (cfg.client_id.empty())
        return "client_id is empty";
    if (cfg.client_id.find(':') != std::string::npos)
        return "client_id must not contain ':'";
    if (!is_header_value(cfg.user_agent))
        return "user_agent (the User-Agent header) contains a control character";
    if (auto why = retry_policy_problem(cfg.retry); !why.empty())
        return why;
    return {};
}

} // namespace detail

/** Checks a configuration as constructing an `oauth_client` from it does, without throwing.

    @param config The configuration: a usable `login_url` (as `client_config::base_url`), a
    `client_id` without `:`, a `user_agent` without control characters, and a valid `retry`
    policy. An empty `client_secret` is valid (a public client); the grants that need one refuse
    to send without it.
    @return Nothing for a usable configuration; else the `invalid_argument` error (operation
    `"oauth_config"`) that constructing an `oauth_client` from it throws as
    `invalid_argument_error`. It never quotes the secret.
*/
inline std::optional<error> check(const oauth_config& config)
{
    std::string normalized;
    if (auto why = detail::oauth_config_problem(config, normalized); !why.empty())
        return detail::config_error("oauth_config", why);
    return std::nullopt;
}

} // namespace genesys

#endif
