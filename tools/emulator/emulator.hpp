// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_EMULATOR_EMULATOR_HPP
#define GENESYS_EMULATOR_EMULATOR_HPP

// The Tokens API emulator's logic, free of sockets: `service::handle` turns one request into
// one reply (a response plus the fault, if any, the server must act out). The server in
// server.hpp puts it on loopback HTTP; tests can also call it directly.

#include <genesys/genesys.hpp>

#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace genesys_emulator {

using clock = std::chrono::system_clock;

/// What the server does instead of (or on top of) answering normally.
enum class fault_mode {
    none,
    delay,              ///< wait `ms` milliseconds, then answer normally
    close_before,       ///< close the connection without answering
    close_mid,          ///< send half of the response head, then close
    truncate,           ///< send the head and half of the body, then close
    invalid_json,       ///< 200 with a body that is not JSON
    wrong_content_type, ///< 200 with an HTML body
    server_error,       ///< 503 with the platform's ErrorBody
    rate_limited,       ///< 429 with Retry-After and the platform's 429 body
};

struct fault {
    fault_mode mode = fault_mode::none;
    int ms = 0;    ///< delay, or Retry-After (in ms, rounded up to seconds) for rate_limited
    int count = 1; ///< how many requests it applies to (when scheduled)
};

/// Parses `mode[;ms=N][;count=N]`, e.g. `delay;ms=500` or `rate_limited;count=3`. Modes may be
/// written with `-` or `_`.
std::optional<fault> parse_fault(std::string_view text);

/// One reply: the response, and the fault the transport layer must act out.
struct reply {
    genesys::http_response response;
    fault_mode transport_fault = fault_mode::none; // delay, close_before, close_mid, truncate
    int delay_ms = 0;
};

struct options {
    std::string seed_json;          ///< empty: the built-in seed
    int rate_limit = 300;           ///< requests per token per window
    int rate_window_seconds = 60;
    std::optional<fault> run_fault; ///< applied to every API request of the run
};

/// The built-in seed: one organization, two users, four OAuth clients, two tokens.
std::string_view default_seed();

/// The port the program listens on when not told otherwise (`--port`); `server_options` and the
/// tests use 0, any free port.
inline constexpr unsigned short default_port = 8765;

/** What a seed holds, for people (`genesys-tokens-emulator --print-seed`): each organization (its
    idle-token timeout), user (organization, permissions), OAuth client (grant, secret or public,
    scope, permissions, redirect URIs) and pre-issued token (whose, through which client, what it
    may do), one line per fact.

    @param json A seed in the format `--seed FILE` takes (`default_seed()` for the built-in one).
    @return The text, ending with a newline.
    @throws std::exception When `json` is not a seed (not JSON, or not an object).
*/
std::string describe_seed(std::string_view json);

/// Names in the built-in seed, for demos and tests.
namespace seed {
inline constexpr std::string_view org_id = "6f0b3c4e-8d2a-4a51-9c3e-2f1d0b7a9e55";
inline constexpr std::string_view org_name = "Acme Contact Centre";
inline constexpr std::string_view admin_user_id = "8a1c5e2f-0b3d-4e6a-9c7f-1d2e3f4a5b6c";  ///< may revoke, may set timeouts
inline constexpr std::string_view agent_user_id = "0d6f2a31-5b7c-4e8d-9f10-1a2b3c4d5e6f";  ///< no permissions
inline constexpr std::string_view admin_token = "emulator-admin-token-7c1f";
inline constexpr std::string_view agent_token = "emulator-agent-token-3e9a";
inline constexpr std::string_view service_client_id = "client-service";   ///< client credentials, all permissions
inline constexpr std::string_view service_client_secret = "service-secret-5b2d";
inline constexpr std::string_view readonly_client_id = "client-readonly"; ///< client credentials, no permissions
inline constexpr std::string_view readonly_client_secret = "readonly-secret-8e4a";
inline constexpr std::string_view desktop_client_id = "client-desktop"; ///< public (no secret), authorization code + PKCE
inline constexpr std::string_view desktop_redirect_uri = "http://localhost:8085/callback";
inline constexpr std::string_view saml_client_id = "client-saml";       ///< SAML2 bearer
inline constexpr std::string_view saml_client_secret = "saml-secret-2c7e";
} // namespace seed

/** The emulated Tokens resource and OAuth token endpoint. Thread-safe. */
class service {
public:
    explicit service(options opts = {});

    /// Answers one request. `request.url` is the request target (path and query).
    reply handle(const genesys::http_request& request);

    /// The answer to a method the library's `http_method` does not name (`OPTIONS`, `TRACE`,
    /// ...): 405 with `Allow` on a known path, 404 elsewhere.
    reply handle_other_method(std::string_view target);

    /// An error the HTTP front end answers before any routing (431 for headers over the limit,
    /// 413, 400 for a request that does not parse): the platform's ErrorBody, a correlation id
    /// and the rate-limit headers, like every other response.
    genesys::http_response front_end_error(int status, std::string_view code, std::string_view message);

    /// Counts a new connection (for `GET /__emulator/stats`).
    void on_connection() { ++connections_; }

private:
    struct org {
        std::string id, name;
        genesys::idle_token_timeout timeout;
    };
    struct user {
        std::string id, name, org;
        std::set<std::string> permissions;
    };
    struct client {
        std::string id, secret, name, org, grant_type;
        std::vector<std::string> scope;
        std::set<std::string> permissions;
        genesys::date_time created{};
        std::vector<std::string> redirect_uris; // empty: any (authorization code)
    };
    /// A rate-limit window: requests counted since `start`.
    struct rate_window {
        int count = 0;
        clock::time_point start{};
    };
    /// A one-time authorization code from POST /__emulator/authorize.
    struct auth_code {
        std::string client, user, redirect_uri, challenge;
        clock::time_point expires;
    };
    struct refresh_grant {
        std::string client, user;
    };
    struct token {
        std::string user; // empty for a client-credentials token
        std::string client;
        clock::time_point expires;
        clock::time_point idles; // meaningful when the org's idle timeout is enabled
        bool revoked = false;
        rate_window window;
    };

    void load_seed(std::string_view json);
    clock::time_point now() const { return clock::now() + offset_; }
    std::string new_correlation_id();
    std::string new_token_value();
    const org* org_of(const token& t) const;
    std::set<std::string> permissions_of(const token& t) const;
    void reset_idle(token& t);

    genesys::http_response error_response(int status, std::string_view code, std::string_view message,
                                          const std::string& correlation_id);
    genesys::http_response json_response(int status, const boost::json::value& body);

    reply handle_locked(const genesys::http_request& request, const std::string& correlation_id);
    reply handle_control(const genesys::http_request& request, std::string_view path, const std::string& cid);
    reply handle_oauth(const genesys::http_request& request, const std::string& cid);
    reply handle_grant(const genesys::http_request& request, const client*& who);
    reply issue_user_token(const client& c, const std::string& user);
    reply handle_authorize(const boost::json::object& o, const std::string& cid);
    /// Moves `w` to the current window and counts one request in it.
    void count_in(rate_window& w);
    /// Adds the inin-ratelimit-* headers for `w`, unless the response has them.
    void add_limit_headers(genesys::http_headers& h, rate_window& w);
    reply handle_api(const genesys::http_request& request, std::string_view path, std::string_view query,
                     const std::string& cid);
    std::optional<reply> apply_fault(const fault& f, const std::string& cid);

    const options initial_; // what reset restores
    options opts_;
    std::mutex mutex_;
    std::map<std::string, org> orgs_;
    std::map<std::string, user> users_;
    std::map<std::string, client> clients_;
    std::map<std::string, token> tokens_;
    std::map<std::string, auth_code> codes_;
    std::map<std::string, refresh_grant> refresh_tokens_;
    std::map<std::string, rate_window> client_windows_; // the token endpoint's, per OAuth client
    rate_window anonymous_window_;                      // requests without a known token or client
    std::vector<fault> scheduled_;
    clock::duration offset_{};
    std::mt19937_64 rng_;
    std::atomic<std::uint64_t> connections_{0};
    std::uint64_t requests_ = 0;
};

} // namespace genesys_emulator

#endif
