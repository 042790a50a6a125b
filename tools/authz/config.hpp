// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_AUTHZ_CONFIG_HPP
#define GENESYS_AUTHZ_CONFIG_HPP

// genesys-tokens-authz: its configuration file (JSON: the policies per route and the headers it
// reads), the policy decision, and the checks of what a proxy hands it. No sockets here.

#include <genesys/models/token_info.hpp>

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace genesys_authz {

/// A configuration file that cannot be used: the message says `FILE:LINE: reason`.
struct config_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/** What a valid token must have. A list left out (nullopt) of a route's policy is the default
    policy's; an empty list requires nothing. */
struct policy {
    std::optional<std::vector<std::string>> organizations;      ///< token_info::organization id, one of
    std::optional<std::vector<std::string>> home_organizations; ///< token_info::home_organization id, one of
    std::optional<std::vector<std::string>> clients;            ///< token_info::oauth_client id, one of
    std::optional<std::vector<std::string>> scopes;             ///< every one in authorizedScope
};

/// A route: requests whose original path is `prefix` or under it (segment-wise) and whose method
/// is one of `methods` (any when empty) are decided by `rules` (over the default policy).
struct route {
    std::string prefix;
    std::vector<std::string> methods;
    policy rules;
};

/// The fleet cache's settings in the file (`"redis"`: a URL, or an object of these keys); never a
/// secret itself, only where the secrets are. Flags and the environment win over each field.
struct redis_file_settings {
    std::string url;            ///< `redis://host:port[/db]` or `rediss://...` (TLS)
    std::string user;           ///< the ACL user; empty: the default user
    std::string password_file;  ///< the file holding the password
    std::string ca_file;        ///< rediss://: the CAs to trust; empty: the system's
    std::string fleet_key_file; ///< the file holding the fleet key
    friend bool operator==(const redis_file_settings&, const redis_file_settings&) = default;
};

/// The configuration file (every key optional but `default`).
struct file_config {
    std::string token_header = "Authorization"; ///< where the token is ("Bearer TOKEN" in Authorization)
    std::string uri_header = "X-Original-URI";   ///< nginx: the original request's URI
    std::string method_header = "X-Original-Method"; ///< nginx: the original request's method
    std::string auth_path = "/auth";             ///< nginx auth_request: the subrequest's path
    std::string envoy_prefix;                    ///< Envoy ext_authz path_prefix; empty: off
    policy default_policy;                       ///< every list set (empty when the file left it out)
    std::vector<route> routes;                   ///< longest prefix first
    std::optional<redis_file_settings> redis;    ///< the fleet cache (read at start only)
};

/** Parses a configuration file's text. `name` is the file's name for messages.
    @throws config_error naming the line and the reason: JSON syntax, an unknown key, a value of
    the wrong type, a policy that would let any organization's token in. */
file_config parse_config(std::string_view text, std::string_view name);

/// Reads and parses `path`; a file that cannot be read is a `config_error` too.
file_config load_config(const std::string& path);

/// The policy for a request: the route's lists over the default's.
struct decision_rules {
    const route* matched = nullptr; ///< nullptr: the default policy
    policy rules;                   ///< every list set
};

/** The route of `path` (without its query) and `method`: the longest matching prefix (a route
    with methods before one without, at the same prefix), else the default. */
decision_rules select_route(const file_config& c, std::string_view path, std::string_view method);

/// Why a valid token is refused; `ok` when it is not.
struct verdict {
    bool ok = true;
    std::string reason;                  ///< "organization", "home_organization", "client", "scope"
    std::vector<std::string> missing;    ///< the scopes it lacks (reason "scope")
};

verdict check_policy(const policy& p, const genesys::token_info& info);

/// True when `token` can be a bearer token (RFC 6750 b64token, 1 to 8192 bytes): anything else
/// is refused without an API call.
bool is_b64token(std::string_view token);

/** True when `path` is one a proxy's prefix match and ours agree on: it starts with '/', and has
    no dot segment, no empty segment, no backslash, no percent-encoded '/', '.' or '\'. */
bool is_plain_path(std::string_view path);

/** The path a proxy routes by, from the raw one it passed (nginx's `$request_uri` without its
    query): percent-escapes decoded, so `/%61dmin` is `/admin` as nginx sees it. Nothing when the
    result is one the proxy and the policy could read differently: an escape that is not one, an
    encoded '/' or '\', a control byte, or a path `is_plain_path` refuses. */
std::optional<std::string> normalize_path(std::string_view raw);

/// `s` with every control character and DEL removed (values the API sent, before they go into
/// a response header).
std::string header_safe(std::string_view s);

} // namespace genesys_authz

#endif
