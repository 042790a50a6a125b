// SPDX-License-Identifier: BSL-1.0
// genesys-tokens-authz: an authorization server for nginx `auth_request` and Envoy `ext_authz`
// (HTTP service mode) that validates Genesys Cloud access tokens with the library's asynchronous
// token_validator (cached, single-flight) over Boost.Beast. See --help and docs/authz.md.

#include "config.hpp"

#include <genesys/async_token_validator.hpp>
#include <genesys/transport/beast_async.hpp>
#if GENESYS_AUTHZ_HAVE_REDIS
#include <genesys/detail/hmac.hpp>
#include <genesys/fleet_key.hpp>
#include <genesys/redis/shared_cache.hpp>
#endif

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using unix_socket = asio::local::stream_protocol;

namespace {

using validator = genesys::token_validator<genesys::beast_async_transport>;
using request = http::request<http::string_body>;
using response = http::response<http::string_body>;
using steady = std::chrono::steady_clock;

constexpr std::string_view usage_text = R"(usage: genesys-tokens-authz --config FILE [options]

Answers nginx auth_request subrequests and Envoy ext_authz (HTTP service) checks by validating the
Genesys Cloud access token of each request (cached, one API call per token however many ask).

options (each also read from the environment variable shown; the option wins):
  --config FILE          the JSON policy file (GENESYS_AUTHZ_CONFIG); SIGHUP reloads it
  --listen ADDR          127.0.0.1:PORT, [::1]:PORT or unix:/PATH (GENESYS_AUTHZ_LISTEN;
                         default 127.0.0.1:9191)
  --port N               the same as --listen 127.0.0.1:N (0: any free port)
  --port-file FILE       write the port to FILE once listening
  --region NAME          the Genesys Cloud region, e.g. eu_west_1 (GENESYS_AUTHZ_REGION)
  --api URL              the API base URL instead of a region (GENESYS_AUTHZ_API)
  --ca-file FILE         trust this CA bundle for the API (GENESYS_AUTHZ_CA_FILE)
  --threads N            I/O threads (GENESYS_AUTHZ_THREADS; default 2)
  --max-entries N        tokens remembered (GENESYS_AUTHZ_MAX_ENTRIES; default 10000)
  --max-age S            a valid token trusted S seconds (GENESYS_AUTHZ_MAX_AGE; default 60)
  --negative-ttl S       an invalid token remembered S seconds (GENESYS_AUTHZ_NEGATIVE_TTL; default 10)
  --max-checks N         API calls in flight at most (GENESYS_AUTHZ_MAX_CHECKS; default 64)
  --api-timeout MS       one API check's limit (GENESYS_AUTHZ_API_TIMEOUT; default 5000)
  --max-connections N    connections at once; more get 503 (GENESYS_AUTHZ_MAX_CONNECTIONS; default 1024)
  --read-timeout MS      a request must arrive within MS (GENESYS_AUTHZ_READ_TIMEOUT; default 5000)
  --max-header-bytes N   request line and headers at most N bytes, else 431
                         (GENESYS_AUTHZ_MAX_HEADER_BYTES; default 8192)
  --shutdown-timeout S   on SIGTERM, requests in flight get S seconds (GENESYS_AUTHZ_SHUTDOWN_TIMEOUT;
                         default 10)
  --access-log FILE      one JSON line per decision (GENESYS_AUTHZ_ACCESS_LOG; default -: stdout)
@REDIS@  --help                 this text

Endpoints: the configured auth_path (nginx), envoy_prefix + the original path (Envoy), /healthz,
/readyz (the API reachable, and Redis connected with --redis), /metrics (Prometheus).
Exit codes: 0 stopped, 1 failure, 2 usage or configuration.
)";

#if GENESYS_AUTHZ_HAVE_REDIS
constexpr std::string_view redis_usage = R"(  --redis URL            the fleet cache: redis://HOST[:PORT][/DB], or rediss://... for TLS
                         (GENESYS_AUTHZ_REDIS): one API call per token for every instance
                         sharing it, revocations shared; no user nor password in the URL
  --redis-user NAME      the Redis ACL user (GENESYS_AUTHZ_REDIS_USER)
  --redis-password-file FILE  the Redis password, read from FILE (GENESYS_AUTHZ_REDIS_PASSWORD_FILE);
                         or the environment variable GENESYS_AUTHZ_REDIS_PASSWORD (never a flag)
  --redis-ca-file FILE   rediss://: trust this CA bundle (GENESYS_AUTHZ_REDIS_CA_FILE)
  --redis-timeout MS     one Redis command's limit (GENESYS_AUTHZ_REDIS_TIMEOUT; default 250)
  --fleet-key-file FILE  the fleet key, 32 bytes or more, the same on every instance
                         (GENESYS_AUTHZ_FLEET_KEY_FILE); required with --redis
)";
#else
constexpr std::string_view redis_usage = R"(  --redis URL            the fleet cache: not in this build (built without hiredis), refused
)";
#endif

std::string usage()
{
    std::string u(usage_text);
    u.replace(u.find("@REDIS@"), 7, redis_usage);
    return u;
}

// ---- settings --------------------------------------------------------------------------------------------------

struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct settings {
    std::string config_path, listen = "127.0.0.1:9191", port_file, region, api, ca_file, access_log = "-", redis;
    std::string redis_user, redis_password_file, redis_ca_file, fleet_key_file;
    int redis_timeout_ms = 250;
    int threads = 2;
    std::size_t max_entries = 10000, max_checks = 64, max_connections = 1024, max_header_bytes = 8192;
    int max_age = 60, negative_ttl = 10, api_timeout_ms = 5000, read_timeout_ms = 5000, shutdown_timeout = 10;
};

long long parse_number(std::string_view option, const std::string& text, long long min, long long max)
{
    long long n = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || end != text.data() + text.size() || n < min || n > max)
        throw usage_error(std::string(option) + " needs a whole number from " + std::to_string(min) + " to " +
                          std::to_string(max));
    return n;
}

settings parse_command_line(int argc, char** argv, bool& help)
{
    struct option {
        std::string_view flag, env;
        std::function<void(settings&, const std::string&)> set;
    };
    auto number = [](auto member, long long min, long long max, std::string_view flag) {
        return [member, min, max, flag](settings& s, const std::string& v) {
            s.*member = static_cast<std::remove_reference_t<decltype(s.*member)>>(parse_number(flag, v, min, max));
        };
    };
    auto text = [](std::string settings::*member) { return [member](settings& s, const std::string& v) { s.*member = v; }; };
    const std::vector<option> options{
        {"--config", "GENESYS_AUTHZ_CONFIG", text(&settings::config_path)},
        {"--listen", "GENESYS_AUTHZ_LISTEN", text(&settings::listen)},
        {"--port", "", [](settings& s, const std::string& v) {
             s.listen = "127.0.0.1:" + std::to_string(parse_number("--port", v, 0, 65535));
         }},
        {"--port-file", "", text(&settings::port_file)},
        {"--region", "GENESYS_AUTHZ_REGION", text(&settings::region)},
        {"--api", "GENESYS_AUTHZ_API", text(&settings::api)},
        {"--ca-file", "GENESYS_AUTHZ_CA_FILE", text(&settings::ca_file)},
        {"--threads", "GENESYS_AUTHZ_THREADS", number(&settings::threads, 1, 256, "--threads")},
        {"--max-entries", "GENESYS_AUTHZ_MAX_ENTRIES", number(&settings::max_entries, 0, 100'000'000, "--max-entries")},
        {"--max-age", "GENESYS_AUTHZ_MAX_AGE", number(&settings::max_age, 0, 86400, "--max-age")},
        {"--negative-ttl", "GENESYS_AUTHZ_NEGATIVE_TTL", number(&settings::negative_ttl, 0, 86400, "--negative-ttl")},
        {"--max-checks", "GENESYS_AUTHZ_MAX_CHECKS", number(&settings::max_checks, 1, 100000, "--max-checks")},
        {"--api-timeout", "GENESYS_AUTHZ_API_TIMEOUT", number(&settings::api_timeout_ms, 100, 600000, "--api-timeout")},
        {"--max-connections", "GENESYS_AUTHZ_MAX_CONNECTIONS",
         number(&settings::max_connections, 1, 1'000'000, "--max-connections")},
        {"--read-timeout", "GENESYS_AUTHZ_READ_TIMEOUT", number(&settings::read_timeout_ms, 10, 3'600'000, "--read-timeout")},
        {"--max-header-bytes", "GENESYS_AUTHZ_MAX_HEADER_BYTES",
         number(&settings::max_header_bytes, 1024, 1024 * 1024, "--max-header-bytes")},
        {"--shutdown-timeout", "GENESYS_AUTHZ_SHUTDOWN_TIMEOUT", number(&settings::shutdown_timeout, 0, 3600, "--shutdown-timeout")},
        {"--access-log", "GENESYS_AUTHZ_ACCESS_LOG", text(&settings::access_log)},
        {"--redis", "GENESYS_AUTHZ_REDIS", text(&settings::redis)},
        {"--redis-user", "GENESYS_AUTHZ_REDIS_USER", text(&settings::redis_user)},
        {"--redis-password-file", "GENESYS_AUTHZ_REDIS_PASSWORD_FILE", text(&settings::redis_password_file)},
        {"--redis-ca-file", "GENESYS_AUTHZ_REDIS_CA_FILE", text(&settings::redis_ca_file)},
        {"--redis-timeout", "GENESYS_AUTHZ_REDIS_TIMEOUT", number(&settings::redis_timeout_ms, 1, 60000, "--redis-timeout")},
        {"--fleet-key-file", "GENESYS_AUTHZ_FLEET_KEY_FILE", text(&settings::fleet_key_file)},
    };
    settings s;
    std::map<std::string_view, std::string> given;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            help = true;
            return s;
        }
        const auto it = std::find_if(options.begin(), options.end(), [&](const option& o) { return o.flag == arg; });
        if (it == options.end())
            throw usage_error("unknown option " + std::string(arg));
        if (i + 1 >= argc)
            throw usage_error(std::string(arg) + " needs a value");
        given[it->flag] = argv[++i];
    }
    for (const auto& o : options) {
        if (const auto g = given.find(o.flag); g != given.end())
            o.set(s, g->second);
        else if (!o.env.empty())
            if (const char* v = std::getenv(std::string(o.env).c_str()); v && *v)
                o.set(s, v);
    }
    if (s.config_path.empty())
        throw usage_error("--config FILE is required (or GENESYS_AUTHZ_CONFIG)");
    if (!s.region.empty() && !s.api.empty())
        throw usage_error("--region and --api are exclusive");
    if (!s.region.empty()) {
        const auto r = genesys::find_region(s.region);
        if (!r)
            throw usage_error("unknown region " + s.region);
        s.api = genesys::api_base_url(*r);
    }
    if (s.api.empty())
        s.api = "https://api.mypurecloud.com";
    return s;
}

/// Where to listen: a loopback TCP endpoint or a Unix socket path.
struct listen_address {
    std::optional<tcp::endpoint> tcp_endpoint;
    std::string unix_path;
};

listen_address parse_listen(const std::string& text)
{
    listen_address a;
    if (text.starts_with("unix:")) {
        a.unix_path = text.substr(5);
        if (a.unix_path.empty() || a.unix_path.size() > 100)
            throw usage_error("--listen unix:PATH needs a path of 1 to 100 bytes");
        return a;
    }
    const auto colon = text.rfind(':');
    if (colon == std::string::npos)
        throw usage_error("--listen needs HOST:PORT or unix:PATH");
    std::string host = text.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(host, ec);
    if (ec || !address.is_loopback())
        throw usage_error("--listen: " + host + " is not a loopback address (127.0.0.1, ::1): put the server beside "
                                                "its proxy, or use unix:PATH");
    a.tcp_endpoint = tcp::endpoint(address, static_cast<unsigned short>(parse_number("--listen", text.substr(colon + 1), 0, 65535)));
    return a;
}

// ---- the fleet cache (--redis) ----------------------------------------------------------------------------

/// The fleet cache's settings: each flag (or its environment variable) over the file's "redis".
genesys_authz::redis_file_settings fleet_settings(const settings& s, const genesys_authz::file_config& file)
{
    genesys_authz::redis_file_settings r = file.redis.value_or(genesys_authz::redis_file_settings{});
    auto over = [](std::string& into, const std::string& given) {
        if (!given.empty())
            into = given;
    };
    over(r.url, s.redis);
    over(r.user, s.redis_user);
    over(r.password_file, s.redis_password_file);
    over(r.ca_file, s.redis_ca_file);
    over(r.fleet_key_file, s.fleet_key_file);
    return r;
}

#if GENESYS_AUTHZ_HAVE_REDIS
/// What `--redis` needs to make the cache: the connection (with the password) and the key.
struct fleet_setup {
    genesys::redis_options redis;
    std::optional<genesys::fleet_key> key;
    std::string where; ///< for the start message: scheme, host, port, database (no secret)
};

/// `redis://HOST[:PORT][/DB]` or `rediss://...` into `o`. The messages never repeat the URL: a
/// URL may carry a password by mistake.
void parse_redis_url(const std::string& url, genesys::redis_options& o)
{
    std::string_view rest = url;
    if (rest.starts_with("redis://")) {
        rest.remove_prefix(8);
    } else if (rest.starts_with("rediss://")) {
        rest.remove_prefix(9);
        o.tls = true;
    } else {
        throw usage_error("--redis: the URL must start with redis:// or rediss:// (TLS)");
    }
    if (rest.find('@') != std::string_view::npos)
        throw usage_error("--redis: no user nor password in the URL (it shows in ps and logs): use --redis-user, and "
                          "--redis-password-file FILE or the environment variable GENESYS_AUTHZ_REDIS_PASSWORD");
    if (rest.find_first_of("?#") != std::string_view::npos)
        throw usage_error("--redis: the URL takes no query nor fragment");
    const auto slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    const std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    std::string_view host = authority, port;
    if (authority.starts_with('[')) {
        const auto close = authority.find(']');
        if (close == std::string_view::npos)
            throw usage_error("--redis: an IPv6 host is written [ADDRESS]");
        host = authority.substr(1, close - 1);
        const std::string_view after = authority.substr(close + 1);
        if (!after.empty() && !after.starts_with(':'))
            throw usage_error("--redis: HOST[:PORT] expected after the scheme");
        port = after.empty() ? after : after.substr(1);
    } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
    }
    const bool host_ok = !host.empty() && host.size() <= 253 && std::all_of(host.begin(), host.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
               c == ':' || c == '_';
    });
    if (!host_ok)
        throw usage_error("--redis: the URL needs a host name or address (redis://HOST[:PORT][/DB])");
    o.host = std::string(host);
    if (!port.empty() || authority.ends_with(':'))
        o.port = static_cast<std::uint16_t>(parse_number("--redis: the port", std::string(port), 1, 65535));
    if (!path.empty()) {
        long long db = 0;
        const auto [end, ec] = std::from_chars(path.data(), path.data() + path.size(), db);
        if (ec != std::errc() || end != path.data() + path.size() || db < 0 || db > 1'000'000)
            throw usage_error("--redis: the database is a number (redis://HOST[:PORT]/DB)");
        o.database = static_cast<int>(db);
    }
}

/// The contents of a secret file, less one final line end; the read buffers wiped.
std::string read_secret_file(std::string_view option, const std::string& path)
{
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) {
        const int err = errno;
        throw usage_error(std::string(option) + ": cannot read " + path + ": " + std::strerror(err));
    }
    std::setvbuf(f, nullptr, _IONBF, 0);
    std::string bytes;
    bytes.reserve(4096 + 1024);
    char buf[1024];
    std::size_t n = 0;
    bool too_long = false;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
        if (bytes.size() + n > 4096) {
            too_long = true;
            break;
        }
        bytes.append(buf, n);
    }
    const bool failed = std::ferror(f) != 0;
    std::fclose(f);
    genesys::detail::secure_zero(buf, sizeof buf);
    if (failed || too_long) {
        genesys::detail::secure_zero(bytes.data(), bytes.size());
        throw usage_error(std::string(option) + ": " + path + (failed ? " cannot be read" : " is over 4096 bytes"));
    }
    if (bytes.ends_with("\r\n"))
        bytes.resize(bytes.size() - 2);
    else if (bytes.ends_with('\n'))
        bytes.resize(bytes.size() - 1);
    if (bytes.empty())
        throw usage_error(std::string(option) + ": " + path + " is empty");
    return bytes;
}
#else
struct fleet_setup {}; // no fleet cache in this build
#endif

/// Checks the fleet cache's settings; with `--redis`, reads its secrets. Nothing without it.
/// @throws usage_error saying why (never with a secret).
std::optional<fleet_setup> prepare_fleet(const genesys_authz::redis_file_settings& r, int timeout_ms)
{
    if (r.url.empty()) {
        const std::array<std::pair<const std::string*, std::string_view>, 4> given{
            {{&r.user, "--redis-user"},
             {&r.password_file, "--redis-password-file"},
             {&r.ca_file, "--redis-ca-file"},
             {&r.fleet_key_file, "--fleet-key-file"}}};
        for (const auto& [value, option] : given)
            if (!value->empty())
                throw usage_error(std::string(option) + " without --redis (the fleet cache's URL)");
        return std::nullopt;
    }
#if GENESYS_AUTHZ_HAVE_REDIS
    fleet_setup f;
    parse_redis_url(r.url, f.redis);
    if (!r.ca_file.empty()) {
        if (!f.redis.tls)
            throw usage_error("--redis-ca-file needs rediss:// (TLS)");
        if (std::FILE* ca = std::fopen(r.ca_file.c_str(), "rb"))
            std::fclose(ca);
        else
            throw usage_error("--redis-ca-file: cannot read " + r.ca_file + ": " + std::strerror(errno));
        f.redis.ca_file = r.ca_file;
    }
    if (r.fleet_key_file.empty())
        throw usage_error("--redis needs the fleet key: --fleet-key-file FILE (or GENESYS_AUTHZ_FLEET_KEY_FILE), "
                          "the same on every instance (openssl rand -hex 32)");
    try {
        f.key.emplace(genesys::fleet_key::from_file(r.fleet_key_file));
    } catch (const genesys::invalid_argument_error& e) {
        throw usage_error(std::string("--fleet-key-file: ") + e.what());
    }
    f.redis.username = r.user;
    if (!r.password_file.empty()) {
        f.redis.password = read_secret_file("--redis-password-file", r.password_file);
    } else if (const char* pw = std::getenv("GENESYS_AUTHZ_REDIS_PASSWORD"); pw && *pw) {
        f.redis.password = pw;
    }
    f.redis.command_timeout = std::chrono::milliseconds(timeout_ms);
    f.where = std::string(f.redis.tls ? "rediss://" : "redis://") +
              (f.redis.host.find(':') != std::string::npos ? "[" + f.redis.host + "]" : f.redis.host) + ":" +
              std::to_string(f.redis.port) + "/" + std::to_string(f.redis.database);
    return f;
#else
    (void)timeout_ms;
    throw usage_error("--redis: this genesys-tokens-authz was built without the fleet cache (hiredis missing)");
#endif
}

// ---- metrics and the access log ---------------------------------------------------------------------------

/// The server's own counters and its decisions' latency histogram (lock-free).
struct server_metrics {
    static constexpr std::array<int, 9> statuses = {200, 400, 401, 403, 404, 408, 413, 431, 503};
    static constexpr std::array<double, 16> bounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,     10};
    std::array<std::atomic<std::uint64_t>, statuses.size() + 1> responses{}; // the last: any other status
    std::array<std::atomic<std::uint64_t>, bounds.size() + 1> latency{};
    std::atomic<std::uint64_t> latency_sum_ns{0}, latency_count{0};
    std::atomic<std::uint64_t> connections{0}, connections_total{0}, connections_refused{0}, read_timeouts{0},
        reloads{0}, reload_failures{0};

    void count_response(int status, std::chrono::nanoseconds took, bool decision)
    {
        std::size_t i = 0;
        while (i < statuses.size() && statuses[i] != status)
            ++i;
        responses[i].fetch_add(1, std::memory_order_relaxed);
        if (!decision)
            return;
        const double s = std::chrono::duration<double>(took).count();
        std::size_t b = 0;
        while (b < bounds.size() && s > bounds[b])
            ++b;
        latency[b].fetch_add(1, std::memory_order_relaxed);
        latency_sum_ns.fetch_add(static_cast<std::uint64_t>(took.count()), std::memory_order_relaxed);
        latency_count.fetch_add(1, std::memory_order_relaxed);
    }

    void write(std::string& out) const
    {
        auto counter = [&](std::string_view name, std::string_view type, std::string_view help, std::uint64_t v) {
            out.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ").append(name).append(" ")
                .append(type).append("\n").append(name).append(" ").append(std::to_string(v)).append("\n");
        };
        out.append("# HELP genesys_authz_responses_total Responses by HTTP status (decisions, health, errors).\n"
                   "# TYPE genesys_authz_responses_total counter\n");
        for (std::size_t i = 0; i <= statuses.size(); ++i)
            out.append("genesys_authz_responses_total{status=\"")
                .append(i < statuses.size() ? std::to_string(statuses[i]) : "other")
                .append("\"} ")
                .append(std::to_string(responses[i].load(std::memory_order_relaxed)))
                .append("\n");
        out.append("# HELP genesys_authz_decision_duration_seconds Time from a check request read to its answer.\n"
                   "# TYPE genesys_authz_decision_duration_seconds histogram\n");
        std::uint64_t cumulative = 0;
        for (std::size_t b = 0; b <= bounds.size(); ++b) {
            cumulative += latency[b].load(std::memory_order_relaxed);
            std::string le = "+Inf";
            if (b < bounds.size()) {
                char buf[32];
                const auto r = std::to_chars(buf, buf + sizeof buf, bounds[b]);
                le.assign(buf, r.ptr);
            }
            out.append("genesys_authz_decision_duration_seconds_bucket{le=\"").append(le).append("\"} ")
                .append(std::to_string(cumulative)).append("\n");
        }
        char sum[32];
        const auto r = std::to_chars(sum, sum + sizeof sum, static_cast<double>(latency_sum_ns.load()) / 1e9);
        out.append("genesys_authz_decision_duration_seconds_sum ").append(sum, r.ptr).append("\n");
        out.append("genesys_authz_decision_duration_seconds_count ").append(std::to_string(latency_count.load())).append("\n");
        counter("genesys_authz_connections", "gauge", "Connections open now.", connections.load());
        counter("genesys_authz_connections_total", "counter", "Connections accepted.", connections_total.load());
        counter("genesys_authz_connections_refused_total", "counter", "Connections refused over --max-connections.",
                connections_refused.load());
        counter("genesys_authz_read_timeouts_total", "counter", "Connections closed by --read-timeout.", read_timeouts.load());
        counter("genesys_authz_reloads_total", "counter", "Configuration reloads that took effect.", reloads.load());
        counter("genesys_authz_reload_failures_total", "counter", "Reloads refused (the old configuration kept).",
                reload_failures.load());
    }
};

/// One JSON line per decision, to stdout or a file; never a token.
class access_log {
public:
    explicit access_log(const std::string& path)
    {
        if (path == "-") {
            file_ = stdout;
        } else {
            file_ = std::fopen(path.c_str(), "a");
            if (!file_)
                throw usage_error("--access-log: cannot open " + path);
            own_ = true;
        }
    }
    ~access_log()
    {
        if (own_)
            std::fclose(file_);
    }
    access_log(const access_log&) = delete;
    access_log& operator=(const access_log&) = delete;

    void write(const json::object& line)
    {
        std::string text = json::serialize(line);
        text.push_back('\n');
        std::lock_guard lock(mutex_);
        std::fwrite(text.data(), 1, text.size(), file_);
        std::fflush(file_);
    }

private:
    std::mutex mutex_;
    std::FILE* file_ = nullptr;
    bool own_ = false;
};

void say(const std::string& message)
{
    static std::mutex m;
    std::lock_guard lock(m);
    std::cerr << "genesys-tokens-authz: " << message << std::endl;
}

std::string now_text()
{
    const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    return genesys::format_date_time(genesys::date_time{now});
}

// ---- the server ------------------------------------------------------------------------------------------

/// What a drain needs of a session: close it if it waits for a next request.
struct session_base {
    virtual ~session_base() = default;
    virtual void close_if_idle() = 0;
};

template <class Stream>
struct session_state final : session_base, std::enable_shared_from_this<session_state<Stream>> {
    template <class Socket>
    explicit session_state(Socket&& socket) : stream(std::forward<Socket>(socket))
    {
    }
    void close_if_idle() override
    {
        asio::post(stream.get_executor(), [self = this->shared_from_this()] {
            if (self->idle)
                self->stream.close();
        });
    }
    Stream stream;
    bool idle = false; // waiting for the first byte of a next request (on the strand)
};

/// The decision's details, for the access log.
struct decision {
    std::string mode, peer, method, path, route, reason, organization, client;
    int status = 0;
};

bool segment_prefix(std::string_view path, std::string_view prefix)
{
    return path.starts_with(prefix) && (path.size() == prefix.size() || path[prefix.size()] == '/');
}

class server : public std::enable_shared_from_this<server> {
public:
    server(asio::io_context& ioc, const settings& s, genesys::token_validator_config vc,
           genesys::token_validator_options vo, genesys_authz::file_config fc)
        : ioc_(ioc), s_(s), api_(vc.base_url), shared_(vo.shared_cache),
          validator_(genesys::beast_async_transport{ioc.get_executor(),
                                                    {.max_connections = 32,
                                                     .connect_timeout = std::chrono::milliseconds(s.api_timeout_ms),
                                                     .timeout = std::chrono::milliseconds(s.api_timeout_ms),
                                                     .ca_file = s.ca_file}},
                     vc, std::move(vo)),
          config_(std::make_shared<const genesys_authz::file_config>(std::move(fc))), log_(s.access_log),
          acceptor_strand_(asio::make_strand(ioc)), drain_timer_(ioc)
    {
    }

    server_metrics& metrics() { return metrics_; }

    /// Binds and listens; returns the TCP port (0 for a Unix socket).
    unsigned short listen(const listen_address& a)
    {
        if (a.tcp_endpoint) {
            tcp_.emplace(acceptor_strand_);
            tcp_->open(a.tcp_endpoint->protocol());
            tcp_->set_option(asio::socket_base::reuse_address(true));
            tcp_->bind(*a.tcp_endpoint);
            tcp_->listen(asio::socket_base::max_listen_connections);
            asio::co_spawn(acceptor_strand_, accept_loop(*tcp_), asio::detached);
            return tcp_->local_endpoint().port();
        }
        struct stat st {};
        if (::lstat(a.unix_path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode))
            ::unlink(a.unix_path.c_str()); // a previous run's socket
        unix_.emplace(acceptor_strand_);
        unix_->open();
        unix_->bind(unix_socket::endpoint(a.unix_path));
        unix_->listen(asio::socket_base::max_listen_connections);
        unix_path_ = a.unix_path;
        asio::co_spawn(acceptor_strand_, accept_loop(*unix_), asio::detached);
        return 0;
    }

    /// SIGHUP: the file again; a bad one leaves the running configuration as it is.
    void reload()
    {
        try {
            auto fresh = std::make_shared<const genesys_authz::file_config>(genesys_authz::load_config(s_.config_path));
            if (fresh->redis != config()->redis)
                say("reload: \"redis\" changes only on a restart; the rest of the file takes effect");
            config_.store(std::move(fresh));
            metrics_.reloads.fetch_add(1);
            say("reloaded " + s_.config_path);
        } catch (const std::exception& e) {
            metrics_.reload_failures.fetch_add(1);
            say(std::string("reload refused, the previous configuration stays: ") + e.what());
        }
    }

    /// SIGTERM: stop accepting, close idle connections, let requests in flight finish (at most
    /// --shutdown-timeout), then stop.
    void drain()
    {
        if (draining_.exchange(true))
            return;
        say("draining: no new connections; " + std::to_string(metrics_.connections.load()) + " open");
        asio::post(acceptor_strand_, [self = shared_from_this()] {
            boost::system::error_code ignored;
            if (self->tcp_)
                self->tcp_->close(ignored);
            if (self->unix_)
                self->unix_->close(ignored);
        });
        std::vector<std::shared_ptr<session_base>> open;
        {
            std::lock_guard lock(sessions_mutex_);
            for (auto& [id, weak] : sessions_)
                if (auto s = weak.lock())
                    open.push_back(std::move(s));
        }
        for (auto& s : open)
            s->close_if_idle();
        drain_timer_.expires_after(std::chrono::seconds(s_.shutdown_timeout));
        drain_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            if (ec)
                return;
            say("shutdown timeout: " + std::to_string(self->metrics_.connections.load()) + " connections dropped");
            self->ioc_.stop();
        });
        maybe_stopped();
    }

    /// After the threads ended: removes the socket file, lets go of the drain timer's handler.
    void finish()
    {
        if (!unix_path_.empty())
            ::unlink(unix_path_.c_str());
        drain_timer_.cancel();
    }

private:
    std::shared_ptr<const genesys_authz::file_config> config() const { return config_.load(); }

    void maybe_stopped()
    {
        if (draining_ && metrics_.connections.load() == 0)
            ioc_.stop();
    }

    template <class Acceptor>
    asio::awaitable<void> accept_loop(Acceptor& acceptor)
    {
        auto self = shared_from_this();
        for (;;) {
            asio::any_io_executor strand = asio::make_strand(ioc_);
            auto [ec, socket] = co_await acceptor.async_accept(strand, asio::as_tuple(asio::use_awaitable));
            if (draining_ || ec == asio::error::operation_aborted || !acceptor.is_open())
                co_return;
            if (ec) { // out of descriptors, say: wait a little, never spin
                asio::steady_timer pause(acceptor_strand_, std::chrono::milliseconds(50));
                co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
                continue;
            }
            if (metrics_.connections.load() >= s_.max_connections) {
                metrics_.connections_refused.fetch_add(1);
                asio::co_spawn(strand, refuse(std::move(socket)), asio::detached);
                continue;
            }
            metrics_.connections.fetch_add(1);
            metrics_.connections_total.fetch_add(1);
            asio::co_spawn(strand, session(std::move(socket)), [self](std::exception_ptr e) {
                if (e) {
                    try {
                        std::rethrow_exception(e);
                    } catch (const std::exception& x) {
                        say(std::string("session: ") + x.what());
                    }
                }
            });
        }
    }

    template <class Socket>
    asio::awaitable<void> refuse(Socket socket)
    {
        static constexpr std::string_view busy = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n"
                                                 "Content-Length: 0\r\nConnection: close\r\n\r\n";
        co_await asio::async_write(socket, asio::buffer(busy), asio::as_tuple(asio::use_awaitable));
        boost::system::error_code ignored;
        socket.shutdown(Socket::shutdown_both, ignored);
        socket.close(ignored);
    }

    static response plain(const request* req, http::status status, std::string_view error = {},
                          std::string_view description = {})
    {
        response res{status, req ? req->version() : 11};
        res.set(http::field::server, "genesys-tokens-authz");
        res.set(http::field::cache_control, "no-store");
        if (!error.empty()) {
            res.set(http::field::content_type, "application/json");
            res.body() = json::serialize(json::object{{"error", error}, {"error_description", description}});
        }
        res.keep_alive(req ? req->keep_alive() : false);
        res.prepare_payload();
        return res;
    }

    template <class Socket>
    asio::awaitable<void> session(Socket socket)
    {
        using stream_type = beast::basic_stream<typename Socket::protocol_type, asio::any_io_executor>;
        auto self = shared_from_this();
        std::string remote = "unix";
        if constexpr (std::is_same_v<typename Socket::protocol_type, tcp>) {
            boost::system::error_code ec;
            const auto ep = socket.remote_endpoint(ec);
            if (!ec)
                remote = ep.address().to_string() + ":" + std::to_string(ep.port());
        }
        auto st = std::make_shared<session_state<stream_type>>(std::move(socket));
        std::uint64_t id = 0;
        {
            std::lock_guard lock(sessions_mutex_);
            id = ++next_session_;
            sessions_[id] = st;
        }
        struct end_guard {
            server& s;
            std::uint64_t id;
            ~end_guard()
            {
                {
                    std::lock_guard lock(s.sessions_mutex_);
                    s.sessions_.erase(id);
                }
                s.metrics_.connections.fetch_sub(1);
                s.maybe_stopped();
            }
        } guard{*this, id};

        beast::flat_buffer buffer;
        for (;;) {
            if (draining_)
                break;
            http::request_parser<http::string_body> parser;
            parser.header_limit(static_cast<std::uint32_t>(s_.max_header_bytes));
            parser.body_limit(64 * 1024);
            st->idle = buffer.size() == 0;
            st->stream.expires_after(std::chrono::milliseconds(s_.read_timeout_ms));
            auto [ec, n] = co_await http::async_read(st->stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
            st->idle = false;
            (void)n;
            if (ec) {
                std::optional<response> answer;
                if (ec == http::error::header_limit)
                    answer = plain(nullptr, http::status::request_header_fields_too_large, "header_too_large",
                                   "the request line and headers are over the limit");
                else if (ec == http::error::body_limit)
                    answer = plain(nullptr, http::status::payload_too_large, "body_too_large", "the body is over the limit");
                else if (ec == beast::error::timeout) // the stream closed the socket: nothing to answer on
                    metrics_.read_timeouts.fetch_add(1);
                else if (ec == http::error::bad_field || ec == http::error::bad_value ||
                           ec == http::error::bad_line_ending || ec == http::error::bad_obs_fold) {
                    // A field that does not parse (a control byte in a token, say): nothing can be
                    // checked, so refused as credentials are, not passed to an error page.
                    answer = plain(nullptr, http::status::unauthorized, "invalid_request", "a header field does not parse");
                    answer->set(http::field::www_authenticate, "Bearer error=\"invalid_request\"");
                } else if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
                           ec != http::error::end_of_stream && ec != http::error::partial_message) {
                    answer = plain(nullptr, http::status::bad_request, "bad_request", "the request does not parse");
                }
                if (answer) {
                    metrics_.count_response(static_cast<int>(answer->result_int()), {}, false);
                    st->stream.expires_after(std::chrono::milliseconds(s_.read_timeout_ms));
                    co_await http::async_write(st->stream, *answer, asio::as_tuple(asio::use_awaitable));
                }
                break;
            }
            const auto started = steady::now();
            bool is_decision = false;
            response res = co_await handle(parser.get(), remote, is_decision);
            metrics_.count_response(static_cast<int>(res.result_int()), steady::now() - started, is_decision);
            const bool keep = res.keep_alive() && !draining_;
            res.keep_alive(keep);
            st->stream.expires_after(std::chrono::milliseconds(s_.read_timeout_ms));
            auto [wec, wn] = co_await http::async_write(st->stream, res, asio::as_tuple(asio::use_awaitable));
            (void)wn;
            if (wec || !keep)
                break;
        }
        boost::system::error_code ignored;
        st->stream.socket().shutdown(Socket::shutdown_send, ignored);
        st->stream.close();
    }

    asio::awaitable<bool> api_reachable()
    {
        {
            std::lock_guard lock(ready_mutex_);
            if (ready_at_ && steady::now() - *ready_at_ < std::chrono::seconds(2))
                co_return ready_;
        }
        // Without a token: any answer but a 5xx (a 401 is expected) says the API is there.
        genesys::http_request probe{genesys::http_method::get, api_ + "/api/v2/tokens/me", {}, {}};
        auto [ec, res] = co_await validator_.transport().async_send(probe, asio::as_tuple(asio::use_awaitable));
        const bool ok = !ec && res.status > 0 && res.status < 500;
        std::lock_guard lock(ready_mutex_);
        ready_ = ok;
        ready_at_ = steady::now();
        co_return ok;
    }

    asio::awaitable<response> handle(const request& req, const std::string& remote, bool& is_decision)
    {
        const std::string_view target = req.target();
        const std::string_view path = target.substr(0, target.find('?'));
        if (path == "/healthz" && req.method() == http::verb::get) {
            response res = plain(&req, http::status::ok);
            res.set(http::field::content_type, "text/plain");
            res.body() = "ok\n";
            res.prepare_payload();
            co_return res;
        }
        if (path == "/readyz" && req.method() == http::verb::get) {
            if (draining_)
                co_return plain(&req, http::status::service_unavailable, "draining", "the server is stopping");
            if (shared_ && !shared_->stats().connected)
                co_return plain(&req, http::status::service_unavailable, "redis_unreachable",
                                "the fleet cache's Redis is not connected (decisions go on without it)");
            if (!co_await api_reachable())
                co_return plain(&req, http::status::service_unavailable, "api_unreachable",
                                "the Genesys Cloud API cannot be reached");
            response res = plain(&req, http::status::ok);
            res.set(http::field::content_type, "text/plain");
            res.body() = "ready\n";
            res.prepare_payload();
            co_return res;
        }
        if (path == "/metrics" && req.method() == http::verb::get) {
            std::string text;
            genesys::write_prometheus(text, validator_.metrics());
            metrics_.write(text);
            response res = plain(&req, http::status::ok);
            res.set(http::field::content_type, "text/plain; version=0.0.4");
            res.body() = std::move(text);
            res.prepare_payload();
            co_return res;
        }

        const auto cfg = config();
        decision d;
        d.peer = remote;
        std::string original_path;
        if (path == cfg->auth_path) {
            d.mode = "nginx";
            if (req.count(cfg->uri_header) > 1 || req.count(cfg->method_header) > 1) {
                is_decision = true;
                co_return deny(req, d, http::status::forbidden, "access_denied", "ambiguous_request",
                               "more than one original URI or method");
            }
            const auto uri = req.find(cfg->uri_header);
            original_path = uri == req.end() ? std::string() : std::string(uri->value());
            const auto method = req.find(cfg->method_header);
            d.method = method == req.end() ? std::string(req.method_string()) : std::string(method->value());
        } else if (!cfg->envoy_prefix.empty() && segment_prefix(path, cfg->envoy_prefix)) {
            d.mode = "envoy";
            original_path = std::string(target.substr(cfg->envoy_prefix.size()));
            if (original_path.empty() || original_path.front() == '?')
                original_path.insert(0, "/");
            d.method = std::string(req.method_string());
        } else {
            co_return plain(&req, http::status::not_found, "not_found", "no such endpoint");
        }
        is_decision = true;
        const auto started = steady::now();
        original_path = original_path.substr(0, original_path.find('?')); // the query is not logged nor matched
        d.path = genesys_authz::header_safe(original_path).substr(0, 512);
        if (!original_path.empty()) {
            // Matched as the proxy routes it: decoded, and refused when the two could differ.
            auto normal = genesys_authz::normalize_path(original_path);
            if (!normal)
                co_return deny(req, d, http::status::forbidden, "access_denied", "ambiguous_path",
                               "the original path has dot segments, empty segments or encoded separators");
            original_path = std::move(*normal);
        }
        if (!std::all_of(d.method.begin(), d.method.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
            d.method = "?";
            co_return deny(req, d, http::status::forbidden, "access_denied", "bad_method", "the original method is not one");
        }
        const auto rules = genesys_authz::select_route(*cfg, original_path.empty() ? "/" : original_path, d.method);
        d.route = rules.matched ? rules.matched->prefix : "default";

        // The credentials: exactly one field, one Bearer token of token syntax; else no API call.
        const std::size_t fields = req.count(cfg->token_header);
        if (fields == 0)
            co_return challenge(req, d, "missing_token", {});
        if (fields > 1)
            co_return challenge(req, d, "several_token_fields", "invalid_request");
        std::string_view value = req.find(cfg->token_header)->value();
        constexpr std::string_view scheme = "Bearer ";
        const bool is_authorization = beast::iequals(cfg->token_header, "Authorization");
        if (value.size() >= scheme.size() && beast::iequals(value.substr(0, scheme.size()), scheme))
            value.remove_prefix(scheme.size());
        else if (is_authorization)
            co_return challenge(req, d, beast::iequals(value, "Bearer") ? "missing_token" : "not_bearer", {});
        if (value.empty())
            co_return challenge(req, d, "missing_token", {});
        if (!genesys_authz::is_b64token(value))
            co_return challenge(req, d, "malformed_token", "invalid_token");

        const auto checked = co_await validator_.async_validate(value, asio::use_awaitable);
        if (!checked) {
            const genesys::error& e = checked.error();
            if ((e.kind == genesys::error_kind::api && e.status == 401) || e.kind == genesys::error_kind::invalid_argument)
                co_return challenge(req, d, "invalid_token", "invalid_token");
            // The API could not say: never 200.
            int retry_after = 1;
            if (const auto ra = e.headers.get("Retry-After")) {
                int n = 0;
                const auto [end, pec] = std::from_chars(ra->data(), ra->data() + ra->size(), n);
                if (pec == std::errc() && end == ra->data() + ra->size())
                    retry_after = std::clamp(n, 1, 3600);
            }
            say("cannot check a token: " + e.message);
            response res = deny(req, d, http::status::service_unavailable, "temporarily_unavailable", "api_unavailable",
                                "the access token cannot be checked now");
            res.set(http::field::retry_after, std::to_string(retry_after));
            co_return res;
        }
        const genesys::token_info& info = checked->info();
        d.organization = info.organization && info.organization->id ? genesys_authz::header_safe(*info.organization->id) : "";
        d.client = info.oauth_client && info.oauth_client->id ? genesys_authz::header_safe(*info.oauth_client->id) : "";
        const auto v = genesys_authz::check_policy(rules.rules, info);
        if (!v.ok) {
            if (v.reason == "scope") {
                std::string scopes;
                for (const auto& s : v.missing)
                    scopes.append(scopes.empty() ? "" : " ").append(genesys_authz::header_safe(s));
                response res = deny(req, d, http::status::forbidden, "insufficient_scope", "scope",
                                    "the access token lacks a scope this route requires");
                res.set(http::field::www_authenticate, "Bearer error=\"insufficient_scope\", scope=\"" + scopes + "\"");
                co_return res;
            }
            co_return deny(req, d, http::status::forbidden, "access_denied", v.reason,
                           "the access token is valid but not allowed here");
        }
        response res = plain(&req, http::status::ok);
        // Every identity header, empty when unknown: a proxy that copies them over the client's
        // request never lets a client's own value through.
        std::string scopes;
        if (info.authorized_scope)
            for (const auto& s : *info.authorized_scope)
                scopes.append(scopes.empty() ? "" : " ").append(genesys_authz::header_safe(s));
        res.set("X-Genesys-Organization-Id", d.organization);
        res.set("X-Genesys-Home-Organization-Id", info.home_organization && info.home_organization->id
                                                      ? genesys_authz::header_safe(*info.home_organization->id)
                                                      : std::string());
        res.set("X-Genesys-Client-Id", d.client);
        res.set("X-Genesys-Scopes", scopes);
        res.set("X-Genesys-Token-Idles",
                info.date_token_idles ? genesys::format_date_time(*info.date_token_idles) : std::string());
        d.status = 200;
        d.reason = checked->stale() ? "ok_stale" : "ok";
        record(d, started);
        co_return res;
    }

    response deny(const request& req, decision& d, http::status status, std::string_view error, std::string reason,
                  std::string_view description)
    {
        d.status = static_cast<int>(status);
        d.reason = std::move(reason);
        record(d, steady::now());
        return plain(&req, status, error, description);
    }

    /// 401 with a Bearer challenge (RFC 6750, section 3): without an error code when no credentials came.
    response challenge(const request& req, decision& d, std::string reason, std::string_view error)
    {
        response res = deny(req, d, http::status::unauthorized, error.empty() ? "missing_token" : error, std::move(reason),
                            error.empty() ? "a bearer token is required" : "the access token is not valid");
        res.set(http::field::www_authenticate,
                error.empty() ? std::string("Bearer") : "Bearer error=\"" + std::string(error) + "\"");
        return res;
    }

    void record(const decision& d, steady::time_point)
    {
        json::object line{{"time", now_text()},     {"mode", d.mode},         {"peer", d.peer},     {"method", d.method},
                          {"path", d.path},         {"route", d.route},       {"status", d.status},
                          {"reason", d.reason}};
        if (!d.organization.empty())
            line["organization"] = d.organization;
        if (!d.client.empty())
            line["client"] = d.client;
        log_.write(line);
    }

    asio::io_context& ioc_;
    const settings& s_;
    std::string api_;
    std::shared_ptr<genesys::shared_token_cache> shared_; // the fleet cache, or none
    validator validator_;
    std::atomic<std::shared_ptr<const genesys_authz::file_config>> config_;
    access_log log_;
    server_metrics metrics_;
    asio::strand<asio::io_context::executor_type> acceptor_strand_;
    std::optional<tcp::acceptor> tcp_;
    std::optional<unix_socket::acceptor> unix_;
    std::string unix_path_;
    asio::steady_timer drain_timer_;
    std::atomic<bool> draining_{false};
    std::mutex sessions_mutex_;
    std::map<std::uint64_t, std::weak_ptr<session_base>> sessions_;
    std::uint64_t next_session_ = 0;
    std::mutex ready_mutex_;
    std::optional<steady::time_point> ready_at_;
    bool ready_ = false;
};

void write_port_file(const std::string& path, unsigned short port)
{
    const std::string tmp = path + ".tmp";
    std::ofstream(tmp) << port << '\n';
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
        throw std::runtime_error("cannot write " + path);
}

} // namespace

int main(int argc, char** argv)
{
    std::signal(SIGPIPE, SIG_IGN); // an access log on a closed pipe fails its writes, not the process
    settings s;
    listen_address where;
    genesys_authz::file_config file;
    try {
        bool help = false;
        s = parse_command_line(argc, argv, help);
        if (help) {
            std::cout << usage();
            return 0;
        }
        where = parse_listen(s.listen);
    } catch (const usage_error& e) {
        std::cerr << "genesys-tokens-authz: " << e.what() << "\n\n" << usage();
        return 2;
    }
    try {
        file = genesys_authz::load_config(s.config_path);
    } catch (const genesys_authz::config_error& e) {
        std::cerr << "genesys-tokens-authz: " << e.what() << '\n';
        return 2;
    }
    std::optional<fleet_setup> fleet;
    try {
        fleet = prepare_fleet(fleet_settings(s, file), s.redis_timeout_ms);
    } catch (const usage_error& e) {
        std::cerr << "genesys-tokens-authz: " << e.what() << '\n';
        return 2;
    }

    genesys::token_validator_config vc{.base_url = s.api};
    vc.call_timeout = std::chrono::milliseconds(s.api_timeout_ms);
    genesys::token_validator_options vo; // the policy is the server's, per route: the validator only caches
    vo.max_age = std::chrono::seconds(s.max_age);
    vo.negative_ttl = std::chrono::seconds(s.negative_ttl);
    vo.max_entries = s.max_entries;
    vo.max_concurrent_checks = s.max_checks;
    if (const auto problem = genesys::check(vc, vo)) {
        std::cerr << "genesys-tokens-authz: " << problem->message << '\n';
        return 2;
    }

    try {
        asio::io_context ioc{s.threads};
        // The options the server's validator gets: with --redis, the fleet cache on this context
        // (made here, after the context: nothing holding it outlives the context).
        genesys::token_validator_options options = vo;
        std::string fleet_where;
#if GENESYS_AUTHZ_HAVE_REDIS
        if (fleet) {
            try {
                options.shared_cache =
                    std::make_shared<genesys::redis_shared_cache>(ioc.get_executor(), fleet->redis, *fleet->key);
            } catch (const genesys::invalid_argument_error& e) {
                std::cerr << "genesys-tokens-authz: --redis: " << e.what() << '\n';
                return 2;
            }
            genesys::detail::secure_zero(fleet->redis.password.data(), fleet->redis.password.size());
            fleet->redis.password.clear();
            fleet->key.reset();
            fleet_where = ", fleet cache " + fleet->where;
        }
#endif
        std::shared_ptr<server> srv;
        try {
            srv = std::make_shared<server>(ioc, s, vc, options, std::move(file));
        } catch (const usage_error& e) {
            std::cerr << "genesys-tokens-authz: " << e.what() << '\n';
            return 2;
        }
        unsigned short port = 0;
        try {
            port = srv->listen(where);
        } catch (const boost::system::system_error& e) {
            std::cerr << "genesys-tokens-authz: cannot listen on " << s.listen << ": " << e.code().message() << '\n';
            return 1;
        }
        asio::signal_set signals{ioc, SIGINT, SIGTERM, SIGHUP};
        std::function<void(boost::system::error_code, int)> on_signal = [&](boost::system::error_code ec, int sig) {
            if (ec)
                return;
            if (sig == SIGHUP) {
                srv->reload();
                signals.async_wait(on_signal);
                return;
            }
            srv->drain();
        };
        signals.async_wait(on_signal);
        if (!s.port_file.empty() && where.tcp_endpoint)
            write_port_file(s.port_file, port);
        say("listening on " + (where.tcp_endpoint ? "http://" + where.tcp_endpoint->address().to_string() + ":" +
                                                        std::to_string(port)
                                                  : "unix:" + where.unix_path) +
            ", " + std::to_string(s.threads) + " threads, API " + s.api + fleet_where);

        std::vector<std::thread> threads;
        for (int i = 1; i < s.threads; ++i)
            threads.emplace_back([&] { ioc.run(); });
        ioc.run();
        for (auto& t : threads)
            t.join();
        srv->finish();
        // The validator (and with it the fleet cache) is destroyed while the context can still run
        // what that posts: the cache's shutdown closes its connections and answers its pending
        // lookups there; left in a stopped context, its state would never be freed.
        auto ready_handlers = [&ioc] {
            ioc.restart();
            for (int i = 0; i < 1000 && ioc.poll() > 0; ++i) {
            }
        };
        ready_handlers(); // the drain timer's, holding the server
        options.shared_cache.reset();
        srv.reset();
        ready_handlers();
        say("stopped");
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "genesys-tokens-authz: " << e.what() << '\n';
        return 1;
    }
}
