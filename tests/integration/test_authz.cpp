// SPDX-License-Identifier: BSL-1.0
// genesys-tokens-authz with real parts: the emulator behind it, Debian's nginx (auth_request)
// in front of it with a small static upstream (a second nginx server echoing the identity
// headers), and raw sockets for what no well-behaved client sends. Each process on loopback
// ports of its own, stopped by the test.

#include "../eventually.hpp"
#include "emulator_process.hpp"
#if GENESYS_AUTHZ_TEST_REDIS
#include "redis_process.hpp"

#include <genesys/redis/shared_cache.hpp>
#endif

#include <doctest/doctest.h>

#include <boost/json.hpp>

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using genesys::http_method;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view acme_org = "6f0b3c4e-8d2a-4a51-9c3e-2f1d0b7a9e55";
constexpr std::string_view globex_org = "1e5a7c9b-3d2f-4b6a-8e0c-9f8a7b6c5d4e";
constexpr std::string_view initech_org = "3c2b1a09-8f7e-4d6c-b5a4-93827160f5e4";
constexpr std::string_view ada_user = "8a1c5e2f-0b3d-4e6a-9c7f-1d2e3f4a5b6c";

// Acme's tokens idle after 900 s, Initech's after 2 s; Globex is another organization.
constexpr std::string_view seed_json = R"({
  "organizations": [
    {"id": "6f0b3c4e-8d2a-4a51-9c3e-2f1d0b7a9e55", "name": "Acme Contact Centre",
     "idleTokenTimeout": {"idleTokenTimeoutSeconds": 900, "enableIdleTokenTimeout": true}},
    {"id": "1e5a7c9b-3d2f-4b6a-8e0c-9f8a7b6c5d4e", "name": "Globex Support",
     "idleTokenTimeout": {"idleTokenTimeoutSeconds": 900, "enableIdleTokenTimeout": false}},
    {"id": "3c2b1a09-8f7e-4d6c-b5a4-93827160f5e4", "name": "Initech",
     "idleTokenTimeout": {"idleTokenTimeoutSeconds": 2, "enableIdleTokenTimeout": true}}
  ],
  "users": [
    {"id": "8a1c5e2f-0b3d-4e6a-9c7f-1d2e3f4a5b6c", "name": "Ada Admin",
     "organization": "6f0b3c4e-8d2a-4a51-9c3e-2f1d0b7a9e55", "permissions": []}
  ],
  "clients": [
    {"id": "client-desktop", "name": "Agent Desktop", "organization": "6f0b3c4e-8d2a-4a51-9c3e-2f1d0b7a9e55",
     "authorizedGrantType": "CODE", "scope": ["users", "oauth"]},
    {"id": "client-reporter", "secret": "reporter-secret", "name": "Reporter",
     "organization": "6f0b3c4e-8d2a-4a51-9c3e-2f1d0b7a9e55", "authorizedGrantType": "CLIENT-CREDENTIALS",
     "scope": ["users:readonly"]},
    {"id": "client-globex", "name": "Globex Desktop", "organization": "1e5a7c9b-3d2f-4b6a-8e0c-9f8a7b6c5d4e",
     "authorizedGrantType": "CODE", "scope": ["users", "oauth"]},
    {"id": "client-initech", "secret": "initech-secret", "name": "Initech Service",
     "organization": "3c2b1a09-8f7e-4d6c-b5a4-93827160f5e4", "authorizedGrantType": "CLIENT-CREDENTIALS",
     "scope": ["users"]}
  ]
})";

// The policy file the tests start with: Acme and Initech, scope "users" by default; /admin
// needs "oauth" too; GET /reports needs only "users:readonly".
constexpr std::string_view policy_json = R"({
  "envoy_prefix": "/envoy",
  "default": {"organizations": ["6f0b3c4e-8d2a-4a51-9c3e-2f1d0b7a9e55", "3c2b1a09-8f7e-4d6c-b5a4-93827160f5e4"],
              "scopes": ["users"]},
  "routes": [
    {"prefix": "/admin", "scopes": ["users", "oauth"]},
    {"prefix": "/reports", "methods": ["GET"], "scopes": ["users:readonly"]}
  ]
}
)";

bool contains(std::string_view haystack, std::string_view needle) { return haystack.find(needle) != std::string_view::npos; }

/// `testwait::eventually`, asking every 20 ms: each question here is a request or reads a log.
template <class F>
bool eventually(F done, std::chrono::milliseconds limit = 10s)
{
    return testwait::eventually(done, limit, 20ms);
}

void write_text(const std::filesystem::path& p, std::string_view text) { std::ofstream(p, std::ios::binary) << text; }

std::size_t count_of(std::string_view haystack, std::string_view needle)
{
    std::size_t n = 0;
    for (auto at = haystack.find(needle); at != std::string_view::npos; at = haystack.find(needle, at + 1))
        ++n;
    return n;
}

/// genesys-tokens-authz as a child process on a free loopback port (or a Unix socket), its
/// stdout and stderr in one log file.
class authz_process {
public:
    authz_process(const std::string& config, const std::string& api, std::vector<std::string> extra = {},
                  bool tcp = true)
    {
        std::vector<std::string> argv{testproc::built_program(GENESYS_AUTHZ_PATH), "--config", config, "--api", api};
        argv.insert(argv.end(), extra.begin(), extra.end());
        const std::string port_file = (dir_.path() / "port").string();
        if (tcp)
            argv.insert(argv.end(), {"--port", "0", "--port-file", port_file});
        pid_ = testproc::spawn(argv, log_path());
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (!(tcp ? std::filesystem::exists(port_file) : contains(log(), "listening on"))) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = 0;
                throw std::runtime_error("genesys-tokens-authz exited: " + log());
            }
            if (std::chrono::steady_clock::now() > deadline)
                throw std::runtime_error("genesys-tokens-authz did not start: " + log());
            std::this_thread::sleep_for(10ms);
        }
        if (tcp)
            port_ = std::stoi(testproc::read_file(port_file));
    }
    ~authz_process() { stop(); }
    authz_process(const authz_process&) = delete;
    authz_process& operator=(const authz_process&) = delete;

    int port() const { return port_; }
    std::string url(std::string_view path) const { return "http://127.0.0.1:" + std::to_string(port_) + std::string(path); }
    std::string log() const { return testproc::read_file(log_path()); }
    void signal(int sig) const { ::kill(pid_, sig); }

    /// SIGTERM and the exit status (SIGKILL after 5 s: -1).
    int stop()
    {
        if (pid_ != 0) {
            status_ = testproc::terminate(pid_);
            pid_ = 0;
        }
        return status_;
    }

    /// Waits for the exit without signalling (after `signal(SIGTERM)`), at most `limit`.
    std::optional<int> wait_exit(std::chrono::milliseconds limit)
    {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < deadline) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = 0;
                status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
                return status_;
            }
            std::this_thread::sleep_for(10ms);
        }
        return std::nullopt;
    }

private:
    std::string log_path() const { return (dir_.path() / "log").string(); }
    testproc::temp_dir dir_;
    pid_t pid_ = 0;
    int port_ = 0;
    int status_ = -1;
};

/// Debian's nginx (apt package nginx) on two free loopback ports: the front with `auth_request`
/// to the authorizer, and a static upstream that echoes the identity headers it gets and logs
/// each request with them.
class nginx_process {
public:
    explicit nginx_process(int authz_port) : nginx_process(std::vector<int>{authz_port}) {}

    /// The same, with every port of `authz_ports` a server of the authorizers' upstream.
    explicit nginx_process(const std::vector<int>& authz_ports)
    {
        const auto& d = dir_.path();
        std::filesystem::create_directories(d / "tmp");
        // The workers (nobody when started as root) only write to descriptors the master opened.
        std::filesystem::permissions(d, std::filesystem::perms::all);
        for (int attempt = 0; attempt < 3 && pid_ == 0; ++attempt) {
            port_ = testproc::free_loopback_port();
            upstream_port_ = testproc::free_loopback_port();
            write_text(d / "nginx.conf", configuration(authz_ports));
            pid_ = testproc::spawn({"/usr/sbin/nginx", "-p", d.string(), "-c", (d / "nginx.conf").string(), "-e",
                                    (d / "error.log").string()},
                                   (d / "out.log").string());
            if (!testproc::wait_listening(pid_, {port_, upstream_port_})) {
                if (pid_ != 0)
                    testproc::terminate(pid_);
                pid_ = 0;
            }
        }
        if (pid_ == 0)
            throw std::runtime_error("nginx did not start: " + testproc::read_file(d / "out.log") +
                                     testproc::read_file(d / "error.log"));
    }
    ~nginx_process()
    {
        if (pid_ != 0)
            testproc::terminate(pid_);
    }
    nginx_process(const nginx_process&) = delete;
    nginx_process& operator=(const nginx_process&) = delete;

    std::string url(std::string_view path) const { return "http://127.0.0.1:" + std::to_string(port_) + std::string(path); }
    /// One line per request the upstream served: `URI org=... client=...`.
    std::string upstream_log() const { return testproc::read_file(dir_.path() / "upstream.log"); }
    std::string error_log() const { return testproc::read_file(dir_.path() / "error.log"); }

    /// The configuration docs/authz.md shows (there with fixed ports and paths).
    std::string configuration(const std::vector<int>& authz_ports) const
    {
        const std::string d = dir_.path().string();
        std::string conf = R"(worker_processes 1;
daemon off;
pid @DIR@/nginx.pid;
error_log @DIR@/error.log info;
events { worker_connections 256; }
http {
    client_body_temp_path @DIR@/tmp;
    proxy_temp_path @DIR@/tmp;
    fastcgi_temp_path @DIR@/tmp;
    uwsgi_temp_path @DIR@/tmp;
    scgi_temp_path @DIR@/tmp;
    access_log off;
    log_format upstream '$request_uri org=$http_x_genesys_organization_id client=$http_x_genesys_client_id';

    # --- from here: the part docs/authz.md shows ---
    upstream genesys_authz {
@SERVERS@        keepalive 16;
    }

    server {
        listen 127.0.0.1:@PORT@;

        # Every location below asks the authorizer first.
        auth_request /_genesys_authz;
        # The identity of a valid token, for the upstream (every header is set, empty when
        # unknown, so a client's own X-Genesys-* header never gets through).
        auth_request_set $genesys_org $upstream_http_x_genesys_organization_id;
        auth_request_set $genesys_home_org $upstream_http_x_genesys_home_organization_id;
        auth_request_set $genesys_client $upstream_http_x_genesys_client_id;
        auth_request_set $genesys_scopes $upstream_http_x_genesys_scopes;
        auth_request_set $genesys_idles $upstream_http_x_genesys_token_idles;
        auth_request_set $genesys_retry_after $upstream_http_retry_after;
        # The authorizer's 503 (the API could not say) is an error to auth_request (500):
        # answered 503 with the authorizer's Retry-After.
        error_page 500 = @genesys_authz_unavailable;

        location = /_genesys_authz {
            internal;
            proxy_pass http://genesys_authz/auth;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-URI $request_uri;
            proxy_set_header X-Original-Method $request_method;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }

        location @genesys_authz_unavailable {
            add_header Retry-After $genesys_retry_after always;
            return 503;
        }

        location / {
            proxy_set_header X-Genesys-Organization-Id $genesys_org;
            proxy_set_header X-Genesys-Home-Organization-Id $genesys_home_org;
            proxy_set_header X-Genesys-Client-Id $genesys_client;
            proxy_set_header X-Genesys-Scopes $genesys_scopes;
            proxy_set_header X-Genesys-Token-Idles $genesys_idles;
            proxy_pass http://127.0.0.1:@UPSTREAM@;
        }
    }
    # --- to here ---

    server {
        listen 127.0.0.1:@UPSTREAM@;
        access_log @DIR@/upstream.log upstream;
        location / {
            default_type text/plain;
            return 200 "org=$http_x_genesys_organization_id;home=$http_x_genesys_home_organization_id;client=$http_x_genesys_client_id;scopes=$http_x_genesys_scopes;idles=$http_x_genesys_token_idles;";
        }
    }
}
)";
        auto replace = [&](std::string_view key, const std::string& value) {
            for (auto at = conf.find(key); at != std::string::npos; at = conf.find(key, at + value.size()))
                conf.replace(at, key.size(), value);
        };
        replace("@DIR@", d);
        std::string servers;
        for (const int p : authz_ports)
            servers += "        server 127.0.0.1:" + std::to_string(p) + ";\n";
        replace("@SERVERS@", servers);
        replace("@PORT@", std::to_string(port_));
        replace("@UPSTREAM@", std::to_string(upstream_port_));
        return conf;
    }

private:
    testproc::temp_dir dir_;
    pid_t pid_ = 0;
    int port_ = 0, upstream_port_ = 0;
};

/// Sends `bytes` over a new loopback connection and reads until the peer closes (or 5 s pass).
std::string raw_exchange(int port, std::string_view bytes, std::chrono::milliseconds pause_before_read = 0ms)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string out;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
        std::size_t sent = 0;
        while (sent < bytes.size()) {
            const auto n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
            if (n <= 0)
                break;
            sent += static_cast<std::size_t>(n);
        }
        std::this_thread::sleep_for(pause_before_read);
        char buf[4096];
        for (;;) {
            const auto n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0)
                break;
            out.append(buf, static_cast<std::size_t>(n));
        }
    }
    ::close(fd);
    return out;
}

/// A kept-alive loopback connection: one request at a time, each response read whole
/// (its head, then Content-Length bytes).
class keep_alive_connection {
public:
    explicit keep_alive_connection(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0))
    {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(static_cast<std::uint16_t>(port));
        timeval tv{5, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
            throw std::runtime_error("cannot connect");
    }
    ~keep_alive_connection() { ::close(fd_); }
    keep_alive_connection(const keep_alive_connection&) = delete;
    keep_alive_connection& operator=(const keep_alive_connection&) = delete;

    /// Sends `request` and returns the response, or "" when the connection closed first.
    std::string exchange(std::string_view request)
    {
        if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size()))
            return {};
        std::string in;
        char buf[4096];
        for (;;) {
            const auto head_end = in.find("\r\n\r\n");
            if (head_end != std::string::npos) {
                std::size_t length = 0;
                const auto cl = in.find("Content-Length: ");
                if (cl != std::string::npos && cl < head_end)
                    length = std::stoul(in.substr(cl + 16));
                if (in.size() >= head_end + 4 + length)
                    return in.substr(0, head_end + 4 + length);
            }
            const auto n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0)
                return {};
            in.append(buf, static_cast<std::size_t>(n));
        }
    }

private:
    int fd_;
};

/// The status code of a raw response ("HTTP/1.1 401 ..." -> 401), 0 when there is none.
int status_of(std::string_view raw)
{
    if (raw.size() < 12 || !raw.starts_with("HTTP/1.1 "))
        return 0;
    return std::stoi(std::string(raw.substr(9, 3)));
}

/// What the two fixtures below share: the seed and the policy in files, the emulator with the
/// seed, a client, and the tokens minted (which no authorizer may print).
struct parties {
    testproc::temp_dir dir;
    std::string seed_file = write(dir, "seed.json", seed_json);
    std::string policy_file = write(dir, "policy.json", policy_json);
    testproc::emulator_process emu{false, {"--seed", seed_file}};
    genesys::curl_transport client;
    std::vector<std::string> tokens;

    static std::string write(const testproc::temp_dir& d, std::string_view name, std::string_view text)
    {
        const auto p = d.path() / name;
        write_text(p, text);
        return p.string();
    }

    std::string mint(std::string_view client_id, std::string_view user = {})
    {
        boost::json::object body{{"client", client_id}};
        if (!user.empty())
            body["user"] = user;
        auto r = emu.control(http_method::post, "/__emulator/tokens", boost::json::serialize(body));
        REQUIRE(r.status == 200);
        tokens.push_back(std::string(boost::json::parse(r.body).at("access_token").as_string()));
        return tokens.back();
    }

    std::int64_t api_calls() { return emu.stats().at("requests").as_int64(); }

    genesys::http_response send(http_method m, const std::string& url, genesys::http_headers h = {})
    {
        auto r = client.send({m, url, std::move(h), {}});
        if (!r)
            throw std::runtime_error("request to " + url + " failed: " + r.error().message());
        return std::move(*r);
    }

    genesys::http_response get(const std::string& url, std::string_view token = {})
    {
        genesys::http_headers h;
        if (!token.empty())
            h.add("Authorization", "Bearer " + std::string(token));
        return send(http_method::get, url, std::move(h));
    }
};

/// The emulator with the seed above, the authorizer with the policy above, nginx in front;
/// on the way out: every process stopped cleanly, and no token in the authorizer's output.
struct fixture : parties {
    authz_process authz;

    explicit fixture(std::vector<std::string> extra = {}) : authz(policy_file, emu.base_url(), std::move(extra)) {}

    ~fixture()
    {
        CHECK(authz.stop() == 0);
        const std::string output = authz.log();
        for (const auto& t : tokens) {
            CAPTURE(output);
            CHECK_FALSE(contains(output, t));
        }
    }

    void revoke(const std::string& token)
    {
        auto r = client.send({http_method::delete_, emu.base_url() + "/api/v2/tokens/me",
                              {{"Authorization", "Bearer " + token}}, {}});
        REQUIRE(r.has_value());
        REQUIRE(r->status == 200);
    }
};

std::string header(const genesys::http_response& r, std::string_view name)
{
    return std::string(r.headers.get(name).value_or(""));
}

} // namespace

TEST_CASE("through nginx, valid, missing, malformed, revoked, idled-out, other-organization and missing-scope tokens get 200/401/401/401/401/403/403, and only a 200 reaches the upstream with the identity")
{
    fixture f;
    nginx_process nginx(f.authz.port());

    // Valid: 200, and the upstream gets the identity (a client's own X-Genesys-* is replaced).
    const auto valid = f.mint("client-desktop", ada_user);
    auto r = f.send(http_method::get, nginx.url("/orders/7?x=1"),
                    {{"Authorization", "Bearer " + valid}, {"X-Genesys-Organization-Id", "forged"}});
    CAPTURE(r.body);
    CAPTURE(nginx.error_log());
    REQUIRE(r.status == 200);
    CHECK(contains(r.body, "org=" + std::string(acme_org) + ";"));
    CHECK(contains(r.body, "home=" + std::string(acme_org) + ";"));
    CHECK(contains(r.body, "client=client-desktop;"));
    CHECK(contains(r.body, "scopes=oauth users;"));
    CHECK_FALSE(contains(r.body, "idles=;")); // Acme's tokens idle: the time is there
    CHECK_FALSE(contains(r.body, "forged"));
    CHECK(f.api_calls() == 1);
    CHECK(f.get(nginx.url("/orders/8"), valid).status == 200);
    CHECK(f.api_calls() == 1); // from the authorizer's cache

    // Missing and malformed: 401 with the Bearer challenge, no API call.
    auto missing = f.get(nginx.url("/orders/7"));
    CHECK(missing.status == 401);
    CHECK(header(missing, "WWW-Authenticate") == "Bearer");
    auto malformed = f.send(http_method::get, nginx.url("/orders/7"), {{"Authorization", "Bearer not\"a token"}});
    CHECK(malformed.status == 401);
    CHECK(header(malformed, "WWW-Authenticate") == R"(Bearer error="invalid_token")");
    CHECK(f.send(http_method::get, nginx.url("/orders/7"), {{"Authorization", "Basic dXNlcjpwYXNz"}}).status == 401);
    CHECK(f.api_calls() == 1);

    // Revoked (before the authorizer saw it): 401.
    const auto revoked = f.mint("client-desktop", ada_user);
    f.revoke(revoked);
    auto rv = f.get(nginx.url("/orders/7"), revoked);
    CHECK(rv.status == 401);
    CHECK(header(rv, "WWW-Authenticate") == R"(Bearer error="invalid_token")");

    // Another organization: 403.
    auto other = f.get(nginx.url("/orders/7"), f.mint("client-globex"));
    CHECK(other.status == 403);

    // Missing scope: the reporter has "users:readonly", the default policy wants "users".
    const auto reporter = f.mint("client-reporter");
    CHECK(f.get(nginx.url("/orders/7"), reporter).status == 403);
    // ... while GET /reports asks only "users:readonly" (and POST /reports falls to the default).
    CHECK(f.get(nginx.url("/reports/q3"), reporter).status == 200);
    CHECK(f.send(http_method::post, nginx.url("/reports/q3"), {{"Authorization", "Bearer " + reporter}}).status == 403);
    // /admin wants "oauth" too: the desktop client has it, Initech's client does not.
    CHECK(f.get(nginx.url("/admin/users"), valid).status == 200);

    // Idled out: Initech's token idles 2 s after it was minted; trusted until then (its
    // dateTokenIdles bounds the cache), 401 from the re-check after it.
    const auto initech = f.mint("client-initech");
    auto live = f.get(nginx.url("/orders/7"), initech);
    CHECK(live.status == 200);
    CHECK(f.get(nginx.url("/admin/users"), initech).status == 403);
    // nginx routes /%61dmin as /admin: so does the policy (not as the default route).
    CHECK(f.get(nginx.url("/%61dmin/users"), initech).status == 403);
    CHECK(f.get(nginx.url("/admin/../orders/7"), initech).status == 403); // refused: it could be read two ways
    const auto at = live.body.find("idles=");
    REQUIRE(at != std::string::npos);
    const auto idles = genesys::parse_date_time(live.body.substr(at + 6, live.body.find(';', at) - at - 6));
    REQUIRE(idles.has_value());
    std::this_thread::sleep_until(*idles + 200ms);
    auto idled = f.get(nginx.url("/orders/7"), initech);
    CHECK(idled.status == 401);
    CHECK(header(idled, "WWW-Authenticate") == R"(Bearer error="invalid_token")");

    // The upstream saw the 200s only, each with the organization of its token.
    const std::string up = nginx.upstream_log();
    CAPTURE(up);
    CHECK(count_of(up, "\n") == 5);
    CHECK(count_of(up, "org=" + std::string(acme_org)) == 4);
    CHECK(count_of(up, "org=" + std::string(initech_org)) == 1);
    CHECK_FALSE(contains(up, "org= "));
    CHECK_FALSE(contains(up, std::string(globex_org)));
}

TEST_CASE("many requests with one token on 8 connections at once, over 2 I/O threads, cost one API call")
{
    fixture f{{"--threads", "2"}};
    const auto token = f.mint("client-desktop", ada_user);
    const auto other = f.mint("client-globex");
    std::atomic<int> ok{0}, refused{0}, wrong{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < 8; ++c)
        clients.emplace_back([&, c] {
            genesys::curl_transport mine;
            for (int i = 0; i < 25; ++i) {
                const bool mine_is_valid = (c + i) % 4 != 0;
                auto r = mine.send({http_method::get, f.authz.url("/auth"),
                                    {{"Authorization", "Bearer " + (mine_is_valid ? token : other)},
                                     {"X-Original-URI", "/orders/" + std::to_string(i)}},
                                    {}});
                if (r && r->status == (mine_is_valid ? 200 : 403))
                    (mine_is_valid ? ok : refused)++;
                else
                    wrong++;
            }
        });
    for (auto& t : clients)
        t.join();
    CHECK(ok == 150);
    CHECK(refused == 50);
    CHECK(wrong == 0);
    CHECK(f.api_calls() == 2); // one per token
}

TEST_CASE("when the API cannot say, 503 with Retry-After, never 200, through nginx too")
{
    fixture f;
    nginx_process nginx(f.authz.port());
    const auto token = f.mint("client-desktop", ada_user);
    REQUIRE(f.emu.control(http_method::post, "/__emulator/faults", R"({"mode":"server_error","count":2})").status == 204);
    auto direct = f.send(http_method::get, f.authz.url("/auth"),
                         {{"Authorization", "Bearer " + token}, {"X-Original-URI", "/orders"}});
    CHECK(direct.status == 503);
    CHECK(header(direct, "Retry-After") == "1");
    auto through = f.get(nginx.url("/orders"), token);
    CHECK(through.status == 503);
    CHECK(header(through, "Retry-After") == "1");
    CHECK(f.get(nginx.url("/orders"), token).status == 200); // a 5xx is not remembered

    // A 429 with Retry-After: its seconds are passed on.
    const auto limited = f.mint("client-desktop", ada_user);
    REQUIRE(f.emu.control(http_method::post, "/__emulator/faults", R"({"mode":"rate_limited","ms":30000,"count":1})")
                .status == 204);
    auto rl = f.get(nginx.url("/orders"), limited);
    CHECK(rl.status == 503);
    const int seconds = std::atoi(header(rl, "Retry-After").c_str());
    CHECK(seconds >= 25);
    CHECK(seconds <= 30);
}

TEST_CASE("Envoy ext_authz (HTTP service): the same answers on envoy_prefix + the original path, with the identity headers")
{
    fixture f;
    const auto token = f.mint("client-desktop", ada_user);
    auto ok = f.get(f.authz.url("/envoy/admin/users?page=2"), token);
    CHECK(ok.status == 200);
    CHECK(header(ok, "X-Genesys-Organization-Id") == acme_org);
    CHECK(header(ok, "X-Genesys-Home-Organization-Id") == acme_org);
    CHECK(header(ok, "X-Genesys-Client-Id") == "client-desktop");
    CHECK(header(ok, "X-Genesys-Scopes") == "oauth users");
    CHECK_FALSE(header(ok, "X-Genesys-Token-Idles").empty());

    auto none = f.get(f.authz.url("/envoy/admin/users"));
    CHECK(none.status == 401);
    CHECK(header(none, "WWW-Authenticate") == "Bearer");
    CHECK_FALSE(ok.headers.contains("WWW-Authenticate"));
    CHECK_FALSE(none.headers.contains("X-Genesys-Organization-Id"));

    const auto reporter = f.mint("client-reporter");
    auto scope = f.get(f.authz.url("/envoy/admin"), reporter);
    CHECK(scope.status == 403);
    CHECK(header(scope, "WWW-Authenticate") == R"(Bearer error="insufficient_scope", scope="users oauth")");
    CHECK_FALSE(scope.headers.contains("X-Genesys-Organization-Id"));
    // The method is the check request's own: GET /reports lets the reporter in, POST does not.
    CHECK(f.get(f.authz.url("/envoy/reports"), reporter).status == 200);
    CHECK(f.send(http_method::post, f.authz.url("/envoy/reports"), {{"Authorization", "Bearer " + reporter}}).status ==
          403);
    // Outside the prefix and the nginx path: 404, no decision.
    CHECK(f.get(f.authz.url("/envoyx/admin"), token).status == 404);
    // A path nginx and the policy could read differently: refused.
    const auto dots = raw_exchange(f.authz.port(), "GET /envoy/reports/../admin HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer " +
                                                       reporter + "\r\nConnection: close\r\n\r\n");
    CHECK(status_of(dots) == 403);
    CHECK(contains(dots, "dot segments"));
    CHECK(f.api_calls() == 2);
}

TEST_CASE("hostile input: headers over the limit, several Authorization fields, other schemes, bad token bytes: clear statuses, no API call")
{
    fixture f{{"--max-header-bytes", "2048"}};
    const int port = f.authz.port();
    auto ask = [&](std::string_view fields) {
        return raw_exchange(port, "GET /auth HTTP/1.1\r\nHost: a\r\nX-Original-URI: /orders\r\n" + std::string(fields) +
                                      "Connection: close\r\n\r\n");
    };
    const auto token = f.mint("client-desktop", ada_user);

    const auto big = ask("X-Filler: " + std::string(4000, 'a') + "\r\n");
    CHECK(status_of(big) == 431);
    const auto two = ask("Authorization: Bearer " + token + "\r\nAuthorization: Bearer " + token + "\r\n");
    CHECK(status_of(two) == 401);
    CHECK(contains(two, R"(WWW-Authenticate: Bearer error="invalid_request")"));
    for (std::string_view bad : {"Authorization: Basic dXNlcjpwYXNz\r\n", "Authorization: Bearer\r\n",
                                 "Authorization: Bearer a b\r\n", "Authorization: Bearer a\x01" "b\r\n",
                                 "Authorization: Bearer tok\xc3\xa9n\r\n", "Authorization: Bearer ===\r\n"}) {
        CAPTURE(bad);
        const auto r = ask(bad);
        CHECK(status_of(r) == 401);
        CHECK_FALSE(contains(r, "X-Genesys-Organization-Id"));
    }
    const auto uris = raw_exchange(port, "GET /auth HTTP/1.1\r\nHost: a\r\nX-Original-URI: /public\r\nX-Original-URI: /admin\r\n"
                                         "Authorization: Bearer " + token + "\r\nConnection: close\r\n\r\n");
    CHECK(status_of(uris) == 403);
    CHECK(status_of(raw_exchange(port, "NOT HTTP AT ALL\r\n\r\n")) == 400);
    CHECK(f.api_calls() == 0);

    // One real token among them still works, with one call.
    CHECK(status_of(ask("Authorization: Bearer " + token + "\r\n")) == 200);
    CHECK(f.api_calls() == 1);
}

TEST_CASE("a slow client is cut by the read timeout, connections over the cap get 503")
{
    fixture f{{"--read-timeout", "1500", "--max-connections", "2"}};
    const int port = f.authz.port();
    // Half a request, then silence: the connection closed, well before our 5 s.
    const auto started = std::chrono::steady_clock::now();
    const auto slow = raw_exchange(port, "GET /auth HTTP/1.1\r\nHost: a\r\n");
    CHECK(slow.empty());
    CHECK(std::chrono::steady_clock::now() - started < 4s);

    // Two idle connections hold the cap; a third is told 503 at once (asked until both are
    // counted, while the read timeout has not closed them yet).
    std::atomic<int> connected{0}, done{0};
    std::vector<std::thread> holders;
    for (int i = 0; i < 2; ++i)
        holders.emplace_back([&] {
            const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
            sockaddr_in a{};
            a.sin_family = AF_INET;
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            a.sin_port = htons(static_cast<std::uint16_t>(port));
            timeval tv{5, 0};
            ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
                ++connected;
                char buf[64];
                while (::recv(fd, buf, sizeof buf, 0) > 0) {
                }
                ++done;
            }
            ::close(fd);
        });
    // Connected first: the server accepts them before the probes (one accept loop, in order).
    REQUIRE(eventually([&] { return connected == 2; }, 1000ms));
    std::string third;
    const bool refused = eventually(
        [&] {
            third = raw_exchange(port, "GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
            return status_of(third) == 503;
        },
        1200ms);
    CHECK(refused);
    CHECK(contains(third, "Retry-After: 1"));
    for (auto& t : holders)
        t.join(); // the read timeout closed them
    CHECK(done == 2);
    // (The server counts a timeout once the closed read completes: a moment after the client sees it.)
    std::string metrics;
    CHECK(eventually([&] {
        metrics = f.get(f.authz.url("/metrics")).body;
        return contains(metrics, "genesys_authz_read_timeouts_total 3");
    }));
    CAPTURE(metrics);
    CHECK(contains(metrics, "genesys_authz_connections_refused_total 1"));
}

TEST_CASE("SIGHUP reloads the policy file, a bad file keeps the running policy and says the line and why")
{
    fixture f;
    const auto reporter = f.mint("client-reporter");
    auto ask = [&] {
        return f.send(http_method::get, f.authz.url("/auth"),
                      {{"Authorization", "Bearer " + reporter}, {"X-Original-URI", "/orders"}})
            .status;
    };
    CHECK(ask() == 403); // the default wants "users"

    // A bad file: refused, the old policy stays.
    write_text(f.policy_file, "{\n  \"default\": {\"organizations\": [\"x\"]},\n  \"routes\": [{\"prefix\": \"orders\"}]\n}\n");
    f.authz.signal(SIGHUP);
    REQUIRE(eventually([&] { return contains(f.authz.log(), "reload refused"); }));
    CHECK(contains(f.authz.log(), "policy.json:3: routes[0].prefix: must be a path starting with '/'"));
    CHECK(ask() == 403);

    // A good one: "users:readonly" is enough now, on a connection opened before the reload too.
    keep_alive_connection kept(f.authz.port());
    const std::string check = "GET /auth HTTP/1.1\r\nHost: a\r\nX-Original-URI: /orders\r\nAuthorization: Bearer " +
                              reporter + "\r\n\r\n";
    CHECK(status_of(kept.exchange(check)) == 403);
    write_text(f.policy_file, R"({"default": {"organizations": ["6f0b3c4e-8d2a-4a51-9c3e-2f1d0b7a9e55"], "scopes": ["users:readonly"]}})");
    f.authz.signal(SIGHUP);
    REQUIRE(eventually([&] { return contains(f.authz.log(), "reloaded"); }));
    CHECK(ask() == 200);
    CHECK(status_of(kept.exchange(check)) == 200); // the same connection, not dropped by the reload
    CHECK(contains(f.get(f.authz.url("/metrics")).body, "genesys_authz_reloads_total 1"));
    CHECK(f.api_calls() == 1); // the reload kept the cache
}

TEST_CASE("SIGTERM stops accepting and answers the request in flight before it exits")
{
    fixture f;
    const auto token = f.mint("client-desktop", ada_user);
    REQUIRE(f.emu.control(http_method::post, "/__emulator/faults", R"({"mode":"delay","ms":1000,"count":1})").status ==
            204);
    std::optional<int> status;
    std::thread caller([&] {
        genesys::curl_transport mine;
        auto r = mine.send({http_method::get, f.authz.url("/auth"),
                            {{"Authorization", "Bearer " + token}, {"X-Original-URI", "/orders"}}, {}});
        if (r)
            status = r->status;
    });
    REQUIRE(eventually([&] { return f.api_calls() == 1; }));
    f.authz.signal(SIGTERM);
    REQUIRE(eventually([&] { return contains(f.authz.log(), "draining"); }));
    CHECK(eventually([&] { return !testproc::loopback_port_open(f.authz.port()); })); // no longer accepting
    const auto exit = f.authz.wait_exit(8s);
    caller.join();
    REQUIRE(exit.has_value());
    CHECK(*exit == 0);
    REQUIRE(status.has_value());
    CHECK(*status == 200); // answered, not dropped
    CHECK(contains(f.authz.log(), "stopped"));
}

TEST_CASE("SIGTERM with a request in flight past --shutdown-timeout exits at the bound, dropping it")
{
    fixture f{{"--shutdown-timeout", "1"}};
    const auto token = f.mint("client-desktop", ada_user);
    REQUIRE(f.emu.control(http_method::post, "/__emulator/faults", R"({"mode":"delay","ms":4000,"count":1})").status ==
            204);
    std::optional<bool> answered;
    std::thread caller([&] {
        genesys::curl_transport mine;
        auto r = mine.send({http_method::get, f.authz.url("/auth"),
                            {{"Authorization", "Bearer " + token}, {"X-Original-URI", "/orders"}}, {}});
        answered = r.has_value();
    });
    REQUIRE(eventually([&] { return f.api_calls() == 1; }));
    const auto signalled = std::chrono::steady_clock::now();
    f.authz.signal(SIGTERM);
    const auto exit = f.authz.wait_exit(8s);
    const auto took = std::chrono::steady_clock::now() - signalled;
    caller.join();
    REQUIRE(exit.has_value());
    CHECK(*exit == 0);
    CHECK(took < 3500ms); // the bound (1 s), not the API's 4 s
    REQUIRE(answered.has_value());
    CHECK_FALSE(*answered);
    CHECK(contains(f.authz.log(), "shutdown timeout: 1 connections dropped"));
}

TEST_CASE("/healthz, /readyz and /metrics, one JSON access-log line per decision, never the token")
{
    fixture f;
    const auto token = f.mint("client-desktop", ada_user);
    CHECK(f.get(f.authz.url("/healthz")).status == 200);
    auto ready = f.get(f.authz.url("/readyz"));
    CHECK(ready.status == 200);
    CHECK(f.send(http_method::get, f.authz.url("/auth"), {{"Authorization", "Bearer " + token}, {"X-Original-URI", "/a?token=" + token}})
              .status == 200);
    CHECK(f.get(f.authz.url("/auth")).status == 401);
    const auto metrics = f.get(f.authz.url("/metrics")).body;
    CHECK(contains(metrics, "genesys_token_validator_misses_total 1"));
    CHECK(contains(metrics, "genesys_authz_responses_total{status=\"200\"} 3")); // healthz, readyz, the decision
    CHECK(contains(metrics, "genesys_authz_responses_total{status=\"401\"} 1"));
    CHECK(contains(metrics, "genesys_authz_decision_duration_seconds_count 2"));
    CHECK(contains(metrics, "genesys_authz_decision_duration_seconds_bucket{le=\"+Inf\"} 2"));

    // The access log: a JSON object per line, one per decision.
    std::size_t decisions = 0;
    std::istringstream lines(f.authz.log());
    for (std::string line; std::getline(lines, line);) {
        if (line.empty() || line.front() != '{')
            continue;
        boost::system::error_code ec;
        const auto v = boost::json::parse(line, ec);
        REQUIRE_FALSE(ec);
        ++decisions;
        CHECK(v.as_object().contains("status"));
        CHECK(v.as_object().contains("reason"));
    }
    CHECK(decisions == 2);
    CHECK(contains(f.authz.log(), R"("path":"/a","route":"default","status":200,"reason":"ok")"));

    // With the API gone, not ready.
    f.emu.stop();
    std::this_thread::sleep_for(2100ms); // the readiness answer is kept 2 s
    CHECK(f.get(f.authz.url("/readyz")).status == 503);
}

TEST_CASE("a Unix domain socket")
{
    testproc::temp_dir d;
    const std::string policy = (d.path() / "policy.json").string(), sock = (d.path() / "authz.sock").string();
    write_text(policy, policy_json);
    testproc::emulator_process emu;
    authz_process authz(policy, emu.base_url(), {"--listen", "unix:" + sock}, false);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", sock.c_str());
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    const std::string req = "GET /auth HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer " +
                            std::string("emulator-admin-token-7c1f") + "\r\nX-Original-URI: /x\r\nConnection: close\r\n\r\n";
    REQUIRE(::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size()));
    std::string out;
    char buf[2048];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
        out.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    CHECK(status_of(out) == 200);
    CHECK(authz.stop() == 0);
    CHECK_FALSE(std::filesystem::exists(sock)); // removed on the way out
}

TEST_CASE("a bad policy file or command line is refused at start (exit 2), naming the line and the reason")
{
    testproc::temp_dir d;
    const auto path = (d.path() / "bad.json").string();
    const std::string program = testproc::built_program(GENESYS_AUTHZ_PATH);
    const std::vector<std::pair<std::string, std::string>> files{
        {"{\n  \"default\": {\"organizations\": [\"a\"]},\n  \"routes\": [\n    {\"prefix\": \"/x\",}\n  ]\n}\n",
         "bad.json:4: not valid JSON"},
        {"{\n  \"default\": {\"organizations\": [\"a\"]},\n  \"rutes\": []\n}\n", "bad.json:3: rutes: unknown key"},
        {"{\n  \"default\": {\n    \"scopes\": [\"users\"]\n  }\n}\n", "bad.json:2: default: names no organization"},
        {"{\"default\": {\"organizations\": \"acme\"}}", "bad.json:1: default.organizations: must be an array of strings"},
        {"{\n\"default\": {\"clients\": [\"c\"]},\n\"routes\": [{\"prefix\": \"/a\"},\n {\"prefix\": \"/b\", \"methods\": [\"get\"]}]}",
         "bad.json:4: routes[1].methods: methods are upper-case names"},
    };
    for (const auto& file_case : files) {
        const std::string& text = file_case.first;
        const std::string& message = file_case.second;
        CAPTURE(message);
        write_text(path, text);
        const auto r = testproc::run({program, "--config", path, "--api", "http://127.0.0.1:9"});
        CHECK(r.exit_code == 2);
        CAPTURE(r.err);
        CHECK(contains(r.err, message));
    }
    write_text(path, R"({"default": {"organizations": ["a"]}})");
    const std::vector<std::pair<std::vector<std::string>, std::string>> lines{
        {{"--api", "http://127.0.0.1:9"}, "--config FILE is required"},
        {{"--config", path, "--listen", "0.0.0.0:80"}, "is not a loopback address"},
        {{"--config", path, "--threads", "0"}, "--threads needs a whole number from 1 to 256"},
        {{"--config", path, "--region", "mars_1"}, "unknown region mars_1"},
        {{"--config", path, "--redis", "redis://127.0.0.1:6379"}, "--redis"},
        {{"--config", path, "--verbose"}, "unknown option --verbose"},
    };
    for (const auto& line_case : lines) {
        const auto& args = line_case.first;
        const std::string& message = line_case.second;
        CAPTURE(message);
        std::vector<std::string> argv{program};
        argv.insert(argv.end(), args.begin(), args.end());
        const auto r = testproc::run(argv, {{"GENESYS_AUTHZ_CONFIG", ""}});
        CHECK(r.exit_code == 2);
        CHECK(contains(r.err, message));
    }
    // The environment stands in for a flag.
    const auto r = testproc::run({program, "--api", "http://127.0.0.1:9"},
                                 {{"GENESYS_AUTHZ_CONFIG", path}, {"GENESYS_AUTHZ_THREADS", "none"}});
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, "--threads needs a whole number"));
}

#if GENESYS_AUTHZ_TEST_REDIS
namespace {

/// The value of the Prometheus sample `name` (without labels) in `text`, -1 when absent.
long long sample(std::string_view text, std::string_view name)
{
    std::istringstream lines{std::string(text)};
    for (std::string line; std::getline(lines, line);) {
        if (line.size() > name.size() && line.compare(0, name.size(), name) == 0 && line[name.size()] == ' ')
            return std::stoll(line.substr(name.size() + 1));
    }
    return -1;
}

/// The fleet key the tests' authorizers share (64 bytes, as `openssl rand -hex 32` makes them).
constexpr std::string_view fleet_key_text = "f1ee7c0ffee5ecre7d0n0tpr1n7a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a";

/// Redis (with a password), the emulator, and authorizers sharing Redis through `--redis`; on
/// the way out every authorizer stops cleanly and none printed a token, the Redis password or
/// the fleet key.
struct fleet_fixture : parties {
    std::string key_file = write(dir, "fleet.key", std::string(fleet_key_text) + "\n");
    std::string password_file = write(dir, "redis.password", testredis::redis_process::password);
    testredis::redis_process redis;
    std::vector<std::unique_ptr<authz_process>> instances;

    ~fleet_fixture()
    {
        for (auto& a : instances) {
            const int status = a->stop();
            const std::string output = a->log();
            CAPTURE(output);
            CHECK(status == 0);
            CHECK_FALSE(contains(output, testredis::redis_process::password));
            CHECK_FALSE(contains(output, fleet_key_text));
            for (const auto& t : tokens)
                CHECK_FALSE(contains(output, t));
        }
    }

    std::string redis_url() const { return "redis://127.0.0.1:" + std::to_string(redis.port()); }

    /// An authorizer with the fleet cache: the password from a file, or (`password_from_env`)
    /// from GENESYS_AUTHZ_REDIS_PASSWORD; the key file from --fleet-key-file.
    authz_process& start(bool password_from_env = false, std::vector<std::string> extra = {})
    {
        std::vector<std::string> args{"--redis", redis_url(), "--fleet-key-file", key_file, "--redis-timeout", "2000"};
        if (!password_from_env)
            args.insert(args.end(), {"--redis-password-file", password_file});
        args.insert(args.end(), extra.begin(), extra.end());
        if (password_from_env)
            ::setenv("GENESYS_AUTHZ_REDIS_PASSWORD", std::string(testredis::redis_process::password).c_str(), 1);
        instances.push_back(std::make_unique<authz_process>(policy_file, emu.base_url(), args));
        ::unsetenv("GENESYS_AUTHZ_REDIS_PASSWORD");
        return *instances.back();
    }

    /// The authorizer's decision for `token` on /orders, asked directly.
    int ask(const authz_process& a, std::string_view token)
    {
        return send(http_method::get, a.url("/auth"), {{"Authorization", "Bearer " + std::string(token)}, {"X-Original-URI", "/orders"}})
            .status;
    }

    std::string metrics(const authz_process& a) { return get(a.url("/metrics")).body; }

    /// Waits until `a`'s shared cache is connected (its gauge on /metrics).
    bool connected(const authz_process& a)
    {
        return eventually([&] { return sample(metrics(a), "genesys_token_validator_shared_cache_connected") == 1; });
    }
};

} // namespace

TEST_CASE("--redis: two authorizers behind one nginx upstream with one Redis make one API call per token")
{
    fleet_fixture f;
    auto& a = f.start();
    auto& b = f.start(true); // its Redis password from the environment
    REQUIRE(f.connected(a));
    REQUIRE(f.connected(b));
    nginx_process nginx({a.port(), b.port()});

    std::vector<std::string> fresh;
    for (int i = 0; i < 12; ++i)
        fresh.push_back(f.mint(i % 3 == 0 ? "client-reporter" : "client-desktop", i % 3 == 0 ? "" : ada_user));
    const auto before = f.api_calls();
    std::atomic<int> ok{0}, refused{0}, wrong{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < 8; ++c)
        clients.emplace_back([&, c] {
            genesys::curl_transport mine;
            for (int round = 0; round < 3; ++round)
                for (std::size_t i = 0; i < fresh.size(); ++i) {
                    const std::size_t t = (i + static_cast<std::size_t>(c)) % fresh.size();
                    auto r = mine.send({http_method::get, nginx.url("/orders/" + std::to_string(i)),
                                        {{"Authorization", "Bearer " + fresh[t]}}, {}});
                    const int expected = t % 3 == 0 ? 403 : 200; // the reporter lacks "users"
                    if (r && r->status == expected)
                        (expected == 200 ? ok : refused)++;
                    else
                        wrong++;
                }
        });
    for (auto& t : clients)
        t.join();
    CHECK(wrong == 0);
    CHECK(ok == 8 * 3 * 8);
    CHECK(refused == 8 * 3 * 4);
    CHECK(f.api_calls() - before == static_cast<std::int64_t>(fresh.size())); // one per token, for both
    // Both served decisions; the one that did not ask the API had the fleet's answers.
    const auto ma = f.metrics(a), mb = f.metrics(b);
    CAPTURE(ma);
    CAPTURE(mb);
    CHECK(sample(ma, "genesys_authz_decision_duration_seconds_count") > 0);
    CHECK(sample(mb, "genesys_authz_decision_duration_seconds_count") > 0);
    CHECK(sample(ma, "genesys_token_validator_shared_cache_hits_total") +
              sample(mb, "genesys_token_validator_shared_cache_hits_total") >
          0);
}

TEST_CASE("--redis: a token revoked while both authorizers cache it, through the fleet (delete_tokens_me with client_config::shared_cache), gets 401 from both")
{
    fleet_fixture f;
    auto& a = f.start();
    auto& b = f.start();
    REQUIRE(f.connected(a));
    REQUIRE(f.connected(b));
    nginx_process nginx({a.port(), b.port()});

    const auto token = f.mint("client-desktop", ada_user);
    CHECK(f.ask(a, token) == 200);
    CHECK(f.ask(b, token) == 200); // the fleet's answer: no second call
    CHECK(f.api_calls() == 1);
    for (int i = 0; i < 4; ++i)
        CHECK(f.get(nginx.url("/orders/" + std::to_string(i)), token).status == 200);
    CHECK(f.api_calls() == 1); // both cache it

    // The token's owner logs out through a client sharing the fleet's cache (same Redis, same key,
    // the authorizers' base URL).
    auto shared = std::make_shared<genesys::redis_shared_cache>(f.redis.client_options(), genesys::fleet_key(fleet_key_text));
    REQUIRE(eventually([&] { return shared->stats().connected; }));
    // Both subscribed to the fleet's revocations: one for a token nobody has reaches both.
    auto received = [&](const authz_process& x) {
        return sample(f.metrics(x), "genesys_token_validator_shared_cache_revocations_received_total");
    };
    shared->revoke(shared->key_of(f.emu.base_url(), false, "no-such-token-0123456789"));
    REQUIRE(eventually([&] { return received(a) == 1 && received(b) == 1; }));
    genesys::client_config cfg;
    cfg.base_url = f.emu.base_url();
    cfg.access_token = token;
    cfg.shared_cache = shared;
    genesys::tokens_api<genesys::curl_transport> owner{genesys::curl_transport{}, cfg};
    owner.delete_tokens_me();

    // Both drop it at once (well before their 60 s --max-age): 401 from each, and through nginx.
    CHECK(eventually([&] { return f.ask(a, token) == 401 && f.ask(b, token) == 401; }, 5s));
    for (int i = 0; i < 4; ++i) {
        auto r = f.get(nginx.url("/orders/" + std::to_string(i)), token);
        CHECK(r.status == 401);
        CHECK(header(r, "WWW-Authenticate") == R"(Bearer error="invalid_token")");
    }
    CHECK(received(a) >= 2);
    CHECK(received(b) >= 2);
    CHECK(shared->stats().revocations_sent >= 2);
    CHECK(count_of(nginx.upstream_log(), "\n") == 4); // the 200s before the revocation only
}

TEST_CASE("--redis: /readyz is 503 while Redis is down and 200 again once it is back, and decisions stay right meanwhile")
{
    fleet_fixture f;
    auto& a = f.start();
    REQUIRE(f.connected(a));
    nginx_process nginx(a.port());
    CHECK(f.get(a.url("/readyz")).status == 200);

    f.redis.kill();
    genesys::http_response ready;
    CHECK(eventually([&] {
        ready = f.get(a.url("/readyz"));
        return ready.status == 503;
    }));
    CHECK(contains(ready.body, "redis_unreachable"));
    CHECK(sample(f.metrics(a), "genesys_token_validator_shared_cache_connected") == 0);

    // Redis down: the API answers, never a 200 for what is not valid.
    const auto valid = f.mint("client-desktop", ada_user);
    const auto revoked = f.mint("client-desktop", ada_user);
    const auto globex = f.mint("client-globex");
    auto rv = f.send(http_method::delete_, f.emu.base_url() + "/api/v2/tokens/me", {{"Authorization", "Bearer " + revoked}});
    REQUIRE(rv.status == 200);
    for (int i = 0; i < 2; ++i) {
        CHECK(f.get(nginx.url("/orders/1"), valid).status == 200);
        CHECK(f.get(nginx.url("/orders/1"), revoked).status == 401);
        CHECK(f.get(nginx.url("/orders/1"), "never-a-real-token-0123456789").status == 401);
        CHECK(f.get(nginx.url("/orders/1"), globex).status == 403);
        CHECK(f.get(nginx.url("/orders/1")).status == 401);
    }

    // Back (empty, same port): ready again once the cache reconnected (its backoff is at most 5 s).
    f.redis.restart();
    CHECK(eventually([&] { return f.get(a.url("/readyz")).status == 200; }, 15s));
    CHECK(f.get(nginx.url("/orders/1"), valid).status == 200);
    CHECK(f.get(nginx.url("/orders/1"), revoked).status == 401);
}

TEST_CASE("--redis: the file's \"redis\" object, over TLS (rediss:// with its CA), the password and key from files")
{
    testproc::temp_dir d;
    testredis::redis_process redis(true);
    const auto seed = fixture::write(d, "seed.json", seed_json);
    testproc::emulator_process emu{false, {"--seed", seed}};
    const auto key = fixture::write(d, "fleet.key", std::string(fleet_key_text) + "\n");
    const auto pw = fixture::write(d, "redis.password", std::string(testredis::redis_process::password) + "\n");
    boost::json::object policy = boost::json::parse(policy_json).as_object();
    policy["redis"] = {{"url", "rediss://127.0.0.1:" + std::to_string(redis.tls_port()) + "/2"},
                       {"password_file", pw},
                       {"ca_file", redis.ca_file()},
                       {"fleet_key_file", key}};
    const auto policy_file = fixture::write(d, "policy.json", boost::json::serialize(policy));
    authz_process authz(policy_file, emu.base_url(), {"--redis-timeout", "2000"}); // a loaded machine: no timeouts
    genesys::curl_transport client;
    auto metrics = [&] { return client.send({http_method::get, authz.url("/metrics"), {}, {}}).value().body; };
    REQUIRE(eventually([&] { return sample(metrics(), "genesys_token_validator_shared_cache_connected") == 1; }));
    CHECK(contains(authz.log(), "fleet cache rediss://127.0.0.1:" + std::to_string(redis.tls_port()) + "/2"));
    auto r = emu.control(http_method::post, "/__emulator/tokens", R"({"client": "client-desktop", "user": "8a1c5e2f-0b3d-4e6a-9c7f-1d2e3f4a5b6c"})");
    REQUIRE(r.status == 200);
    const std::string token(boost::json::parse(r.body).at("access_token").as_string());
    auto ask = [&] {
        return client.send({http_method::get, authz.url("/auth"), {{"Authorization", "Bearer " + token}, {"X-Original-URI", "/orders"}}, {}})
            .value()
            .status;
    };
    CHECK(ask() == 200);
    std::string seen;
    CAPTURE(seen);
    CHECK(eventually([&] {
        seen = metrics();
        return sample(seen, "genesys_token_validator_shared_cache_stores_total") == 1;
    }));
    // A reload does not touch the fleet cache: a file without "redis" is taken for the rest, said so.
    policy.erase("redis");
    fixture::write(d, "policy.json", boost::json::serialize(policy));
    authz.signal(SIGHUP);
    REQUIRE(eventually([&] { return contains(authz.log(), "reloaded"); }));
    CHECK(contains(authz.log(), "\"redis\" changes only on a restart"));
    CHECK(sample(metrics(), "genesys_token_validator_shared_cache_connected") == 1);
    CHECK(ask() == 200);
    CHECK(authz.stop() == 0);
    const auto output = authz.log();
    CHECK_FALSE(contains(output, token));
    CHECK_FALSE(contains(output, testredis::redis_process::password));
    CHECK_FALSE(contains(output, fleet_key_text));
}

TEST_CASE("--redis: bad values are refused at start (exit 2) saying why, never printing a secret")
{
    testproc::temp_dir d;
    const auto policy = fixture::write(d, "policy.json", R"({"default": {"organizations": ["a"]}})");
    const auto key = fixture::write(d, "fleet.key", std::string(fleet_key_text));
    const auto short_key = fixture::write(d, "short.key", "tooshort-s3cret-key");
    const auto pw = fixture::write(d, "pw", "the-redis-pa55word");
    const std::string program = testproc::built_program(GENESYS_AUTHZ_PATH);
    const std::vector<std::pair<std::vector<std::string>, std::string>> lines{
        {{"--redis", "redis://127.0.0.1:6379"}, "--redis needs the fleet key"},
        {{"--redis", "http://127.0.0.1:6379", "--fleet-key-file", key}, "--redis: the URL must start with redis:// or rediss://"},
        {{"--redis", "redis://user:the-url-pa55word@127.0.0.1:6379", "--fleet-key-file", key},
         "--redis: no user nor password in the URL"},
        {{"--redis", "redis://127.0.0.1:99999", "--fleet-key-file", key}, "--redis: the port"},
        {{"--redis", "redis://127.0.0.1:6379/x", "--fleet-key-file", key}, "--redis: the database"},
        {{"--redis", "redis://127.0.0.1", "--fleet-key-file", short_key}, "bytes long: a fleet key needs at least 32"},
        {{"--redis", "redis://127.0.0.1", "--fleet-key-file", (d.path() / "none").string()}, "cannot read"},
        {{"--redis", "redis://127.0.0.1", "--fleet-key-file", key, "--redis-password-file", (d.path() / "none").string()},
         "--redis-password-file: cannot read"},
        {{"--redis", "redis://127.0.0.1", "--fleet-key-file", key, "--redis-ca-file", pw}, "--redis-ca-file needs rediss://"},
        {{"--fleet-key-file", key}, "--fleet-key-file without --redis"},
    };
    for (const auto& line_case : lines) {
        const auto& args = line_case.first;
        const std::string& message = line_case.second;
        CAPTURE(message);
        std::vector<std::string> argv{program, "--config", policy, "--api", "http://127.0.0.1:9"};
        argv.insert(argv.end(), args.begin(), args.end());
        const auto r = testproc::run(argv, {{"GENESYS_AUTHZ_REDIS_PASSWORD", ""}});
        CHECK(r.exit_code == 2);
        CAPTURE(r.err);
        CHECK(contains(r.err, message));
        CHECK_FALSE(contains(r.err, "pa55word"));
        CHECK_FALSE(contains(r.err, "s3cret"));
        CHECK_FALSE(contains(r.err, fleet_key_text));
    }
    // The file's "redis" object, with a key the flags do not know.
    const auto bad = fixture::write(d, "bad.json", "{\"default\": {\"organizations\": [\"a\"]},\n \"redis\": {\"url\": \"redis://127.0.0.1\", \"password\": \"x\"}}");
    const auto r = testproc::run({program, "--config", bad, "--api", "http://127.0.0.1:9"});
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, "bad.json:2: redis.password: unknown key"));
}
#endif
