// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_CLIENT_CONFIG_HPP
#define GENESYS_CLIENT_CONFIG_HPP

/// @file
/// `client_config`: where and as whom a client calls the API.

#include <genesys/detail/ascii.hpp>
#include <genesys/detail/config_check.hpp>
#include <genesys/error.hpp>
#include <genesys/http.hpp>
#include <genesys/logging.hpp>
#include <genesys/region.hpp>
#include <genesys/retry.hpp>
#include <genesys/version.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace genesys {

class token_source; // <genesys/token_source.hpp>
class shared_token_cache; // <genesys/shared_token_cache.hpp>

/** Where and as whom a client calls the API.

    `base_url` is the API base: a region's (`api_base_url(region::eu_west_1)`), a custom
    host, or a gateway with a path prefix (`https://gw.example.com/genesys`). It must be
    `http(s)://host[:port][/prefix]`, without user-info, query or fragment, and `http://` only
    to a loopback host (127.0.0.0/8, `::1`, `localhost`) unless `allow_insecure_http` is set.

    A client checks its configuration once, when it is made: constructing `tokens_api` or
    `async_tokens_api` with a bad base URL, token, header, retry policy or timeout throws
    `invalid_argument_error`, the error `check(config)` returns.

    @code
    genesys::client_config cfg{.base_url = genesys::api_base_url(genesys::region::eu_west_1),
                               .access_token = token};
    @endcode
*/
struct client_config {
    /// The API base URL; the default is the `us_east_1` region.
    std::string base_url = "https://api.mypurecloud.com";
    /// The OAuth access token, sent as `Authorization: Bearer <token>`; no space or control
    /// character. Never logged or shown. Leave it empty when `token_source` is set.
    std::string access_token{};
    /// The `User-Agent` header (no control character); the default names this library and its
    /// version.
    std::string user_agent = std::string(default_user_agent);
    /// Extra headers sent with every request; they replace same-named defaults (`Accept`, ...).
    /// Each needs a valid name and a value without control characters, and may not be
    /// `Authorization` (use `access_token`) nor a field the transport owns (`Host`,
    /// `Content-Length`, `Transfer-Encoding`, `Connection`, `Expect`, ...).
    http_headers default_headers{};
    /// When and how to retry; off by default. See `retry_policy::standard()`. Its functions are
    /// called on the threads that make calls.
    retry_policy retry{};
    /// Receives one event per attempt; no cost when empty. Called on the thread running the call
    /// (for the asynchronous API, the one running its handler's executor), so from several at
    /// once for a shared client; an exception it throws is ignored.
    genesys::logger logger{};
    /// Request headers whose values log events show, besides `default_logged_headers` (any case);
    /// every other header reads `[REDACTED]`, and `Authorization` always does.
    std::vector<std::string> logged_headers{};
    /// A 2xx body larger than this is a `decode` error (`errc::response_too_large`), not parsed;
    /// an error response's is kept but its `ErrorBody` not parsed (default 4 MiB). Checked on
    /// the body the transport returns: bound what it reads with the transport's own limit.
    std::size_t max_response_bytes = 4 * 1024 * 1024;
    /// A 2xx body nested deeper than this is a `decode` error (default 32 levels).
    std::size_t max_json_depth = 32;
    /** The longest a whole call may take: getting its token, every attempt and every wait between
        attempts. Zero (the default): no limit but the retry policy's and the transport's;
        negative: `invalid_argument`. A call
        past it ends with a `network_error` whose code is `errc::deadline_exceeded` (never
        retried); a retry whose wait would end past it is not made (the call ends with the last
        error). The asynchronous API enforces it with a timer, cancelling the step under way; a
        blocking call checks it between steps (a blocking `send` is bounded by the transport's
        own timeout). */
    std::chrono::milliseconds call_timeout{0};
    /// Allows `http://` to a host that is not loopback. Off: tokens must not cross a network unencrypted.
    bool allow_insecure_http = false;
    /** Where the token comes from instead of `access_token` (which must then be empty): each call
        takes the source's current token, and a call answered 401 drops that token, gets a fresh
        one and is sent once more. `delete_tokens_me()` also drops the token it revoked. Share one
        source between clients and threads: it refreshes once for all of them. */
    std::shared_ptr<genesys::token_source> token_source{};
    /** The shared cache of a fleet of `token_validator`s (`token_validator_options::shared_cache`)
        this client's token may be in: after `delete_tokens_me` succeeds (a 2xx), the token it
        revoked is revoked there too, under both `preserveIdleTTL` flags, so that every validator
        of the fleet forgets it. Empty (the default): none. The fleet's key names the base URL:
        give the client the validators' `base_url`. */
    std::shared_ptr<genesys::shared_token_cache> shared_cache{};

    /// A configuration for the API host of region `r`, with `access_token`.
    static client_config for_region(region r, std::string access_token)
    {
        client_config cfg;
        cfg.base_url = api_base_url(r);
        cfg.access_token = std::move(access_token);
        return cfg;
    }

    /// A configuration for the API host of region `r` whose token comes from `source`.
    static client_config for_region(region r, std::shared_ptr<genesys::token_source> source)
    {
        client_config cfg;
        cfg.base_url = api_base_url(r);
        cfg.token_source = std::move(source);
        return cfg;
    }
};

namespace detail {

/** Why `headers`, sent besides the client's own, cannot be, or an empty string: the first field
    with a bad name, a framing field (`is_framing_header`), a control character in a value, or
    `Authorization` (the client sends the token). The text names the field, never its value:
    `one` names a field of the list (`"default header"`), `list` the list (`"default_headers"`),
    `instead` says where the token goes. The checks of `client_config::default_headers` and of
    `call_options::headers`. */
inline std::string extra_headers_problem(const http_headers& headers, std::string_view one, std::string_view list,
                                         std::string_view instead)
{
    for (const auto& h : headers) {
        switch (request_header_problem(h)) {
        case header_problem::none: break;
        case header_problem::name:
            return std::string(one) + " name \"" + h.name.substr(0, 64) + "\" is not a valid HTTP token";
        case header_problem::framing:
            return std::string(list) + " must not set " + h.name +
                   ": the transport frames the message and manages the connection";
        case header_problem::value:
            return std::string(one) + " \"" + h.name + "\" has a control character in its value";
        }
        if (iequals(h.name, "Authorization"))
            return std::string(list) + " must not set Authorization: " + std::string(instead);
    }
    return {};
}

/// Why `cfg` cannot be used, or an empty string. Never quotes the access token. With
/// `token_from_source`, the token comes per call from a token source and `access_token` must be empty.
inline std::string config_problem(const client_config& cfg, std::string& normalized_base, bool token_from_source = false)
{
    if (auto why = base_url_problem(cfg.base_url, normalized_base, cfg.allow_insecure_http); !why.empty())
        return why;
    if (token_from_source) {
        if (!cfg.access_token.empty())
            return "set access_token or token_source, not both";
    } else if (cfg.access_token.empty()) {
        return "access_token is empty";
    } else if (!is_header_value(cfg.access_token) || cfg.access_token.find(' ') != std::string::npos) {
        return "access_token contains a space or a control character";
    }
    if (auto why = retry_policy_problem(cfg.retry); !why.empty())
        return why;
    if (cfg.call_timeout.count() < 0)
        return "call_timeout must not be negative (zero: no limit)";
    if (!is_header_value(cfg.user_agent))
        return "user_agent contains a control character";
    return extra_headers_problem(cfg.default_headers, "default header", "default_headers", "use access_token");
}

} // namespace detail

/** Checks a configuration as constructing a client from it does, without throwing.

    @param config The configuration of a `tokens_api` or `async_tokens_api`. It needs a usable
    `base_url` (see above) and exactly one of `access_token` (no space or control character) and
    `token_source`; a valid `retry` policy, a `call_timeout` not negative, and a `user_agent` and
    `default_headers` fit for a request.
    @return Nothing for a usable configuration; else the `invalid_argument` error (operation
    `"client_config"`, code `errc::invalid_argument`) that constructing a client from it throws as
    `invalid_argument_error`, e.g. `"invalid client_config: access_token is empty"`. It never
    quotes the token.

    @code
    if (auto problem = genesys::check(cfg))
        std::cerr << problem->message << '\n';
    @endcode
*/
inline std::optional<error> check(const client_config& config)
{
    std::string normalized;
    if (auto why = detail::config_problem(config, normalized, config.token_source != nullptr); !why.empty())
        return detail::config_error("client_config", why);
    return std::nullopt;
}

} // namespace genesys

#endif
