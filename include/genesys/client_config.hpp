// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_CLIENT_CONFIG_HPP
#define GENESYS_CLIENT_CONFIG_HPP

/// @file
/// `client_config`: where and as whom a client calls the API.

#include <genesys/http.hpp>
#include <genesys/logging.hpp>
#include <genesys/region.hpp>
#include <genesys/retry.hpp>
#include <genesys/version.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace genesys {

class token_source; // <genesys/token_source.hpp>

/** Where and as whom a client calls the API.

    `base_url` is the API base: a region's (`api_base_url(region::eu_west_1)`), a custom
    host, or a gateway with a path prefix (`https://gw.example.com/genesys`). It must be
    `http(s)://host[:port][/prefix]`, without user-info, query or fragment, and `http://` only
    to a loopback host (127.0.0.0/8, `::1`, `localhost`) unless `allow_insecure_http` is set.

    A client checks its configuration once, when it is made: a bad base URL, token, header,
    retry policy or timeout is then the `invalid_argument` error of every call, before anything
    is sent.

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

} // namespace genesys

#endif
