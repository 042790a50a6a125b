// SPDX-License-Identifier: BSL-1.0
// A small HTTP service that lets in only callers with a live Genesys Cloud access token of one
// organization: every request needs `Authorization: Bearer <token>`, checked by a
// `token_validator`: one API call per token and --max-age, however many requests carry it.
//
//   validating_server --org ORG_ID [--api URL] [--scope SCOPE]... [--max-age SECONDS]
//                     [--port PORT] [--port-file FILE] [--ca-file FILE]
//
//   curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/whoami
//
// 401: no token, or one that is not live; 403: a live token of another organization or without
// a required scope; 503: the API could not say (the server fails closed); 200 on GET /whoami:
// the caller's organization and OAuth client. One thread; stops on SIGINT or SIGTERM.

#include <genesys/async_token_validator.hpp>
#include <genesys/transport/beast_async.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;

namespace {

using validator = genesys::token_validator<genesys::beast_async_transport>;
using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

constexpr std::string_view usage =
    "usage: validating_server --org ORG_ID [--api URL] [--scope SCOPE]... [--max-age SECONDS]\n"
    "                         [--port PORT] [--port-file FILE] [--ca-file FILE]\n";

struct settings {
    std::string api = "https://api.mypurecloud.com";
    std::string org;
    std::vector<std::string> scopes;
    std::chrono::seconds max_age{60};
    unsigned short port = 8080;
    std::string port_file;
    std::string ca_file;
};

int parse_int(std::string_view option, const std::string& text, int min, int max)
{
    int n = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || end != text.data() + text.size() || n < min || n > max)
        throw std::invalid_argument(std::string(option) + " needs a whole number from " + std::to_string(min) +
                                    " to " + std::to_string(max));
    return n;
}

settings parse_command_line(int argc, char** argv)
{
    settings s;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc)
                throw std::invalid_argument(std::string(arg) + " needs a value");
            return argv[++i];
        };
        if (arg == "--api")
            s.api = value();
        else if (arg == "--org")
            s.org = value();
        else if (arg == "--scope")
            s.scopes.push_back(value());
        else if (arg == "--max-age")
            s.max_age = std::chrono::seconds(parse_int(arg, value(), 0, 86400));
        else if (arg == "--port")
            s.port = static_cast<unsigned short>(parse_int(arg, value(), 0, 65535));
        else if (arg == "--port-file")
            s.port_file = value();
        else if (arg == "--ca-file")
            s.ca_file = value();
        else
            throw std::invalid_argument("unknown option " + std::string(arg));
    }
    // Without it, any organization's token would do: every Genesys Cloud customer could call us.
    if (s.org.empty())
        throw std::invalid_argument("--org is required");
    return s;
}

// Returns the credentials of the request's `Authorization: Bearer <credentials>` field, or
// nothing when it has none or another scheme
std::optional<std::string_view> bearer_credentials(const request& req)
{
    constexpr std::string_view scheme = "Bearer ";
    const auto field = req.find(http::field::authorization);
    if (field == req.end())
        return std::nullopt;
    const std::string_view value = field->value();
    if (value.size() <= scheme.size() || !beast::iequals(value.substr(0, scheme.size()), scheme))
        return std::nullopt;
    return value.substr(scheme.size());
}

// Returns true if `token` has the syntax of a bearer token (RFC 6750, section 2.1):
// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
bool is_b64token(std::string_view token)
{
    const auto end = token.find_last_not_of('=');
    if (end == std::string_view::npos)
        return false;
    return std::all_of(token.begin(), token.begin() + static_cast<std::ptrdiff_t>(end) + 1, [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               std::string_view("-._~+/").find(c) != std::string_view::npos;
    });
}

// Returns a JSON response to `req`
response json_response(const request& req, http::status status, const json::object& body)
{
    response res{status, req.version()};
    res.set(http::field::server, "validating_server");
    res.set(http::field::content_type, "application/json");
    res.set(http::field::cache_control, "no-store");
    res.keep_alive(req.keep_alive());
    res.body() = json::serialize(body);
    res.prepare_payload();
    return res;
}

response error_response(const request& req, http::status status, std::string_view error, std::string_view message)
{
    return json_response(req, status, {{"error", error}, {"message", message}});
}

// Returns a 401 or 403 with its WWW-Authenticate challenge (RFC 6750, section 3)
response challenge(const request& req, http::status status, std::string_view error, std::string_view message,
                   std::string_view scope = {})
{
    std::string value = "Bearer realm=\"validating_server\"";
    if (!error.empty())
        value.append(", error=\"").append(error).append("\"");
    if (!scope.empty())
        value.append(", scope=\"").append(scope).append("\"");
    response res = error_response(req, status, error.empty() ? "missing_token" : error, message);
    res.set(http::field::www_authenticate, value);
    return res;
}

// Returns the answer to a request whose token the validator did not accept. The error's message
// never contains the token, so it may be logged.
response refusal(const request& req, const genesys::error& e, const genesys::token_validator_options& policy)
{
    if (e.kind == genesys::error_kind::api && e.status == 401)
        return challenge(req, http::status::unauthorized, "invalid_token", "the access token is not valid");

    if (e.kind == genesys::error_kind::policy) {
        std::string scopes;
        for (const auto& s : policy.required_scopes)
            scopes.append(scopes.empty() ? "" : " ").append(s);
        return challenge(req, http::status::forbidden, "insufficient_scope",
                         "the access token is valid but not allowed here", scopes);
    }

    // The token passed is_b64token() and Beast's 8 KiB header limit, so the validator refused
    // to send it only because of our configuration (e.g. an http:// --api that is not loopback).
    if (e.kind == genesys::error_kind::invalid_argument) {
        std::cerr << "validating_server: " << e.message << '\n';
        return error_response(req, http::status::internal_server_error, "server_error", "the server is misconfigured");
    }

    // A network failure, a 5xx, a 429, an unreadable answer: not known to be valid, so refused.
    std::cerr << "validating_server: cannot check a token: " << e.message << '\n';
    return error_response(req, http::status::service_unavailable, "temporarily_unavailable",
                          "the access token cannot be checked now");
}

json::value or_null(const std::optional<std::string>& s)
{
    return s ? json::value(*s) : json::value(nullptr);
}

// Returns the response for the given request, once its token is accepted
response handle_authorized(const request& req, const genesys::validated_token& token)
{
    if (req.target() != "/whoami")
        return error_response(req, http::status::not_found, "not_found", "no such resource");
    if (req.method() != http::verb::get) {
        response res = error_response(req, http::status::method_not_allowed, "method_not_allowed", "use GET");
        res.set(http::field::allow, "GET");
        return res;
    }
    const genesys::token_info& info = token.info();
    const auto org = info.organization.value_or(genesys::named_entity{});
    const auto client = info.oauth_client.value_or(genesys::org_oauth_client{});
    return json_response(req, http::status::ok,
                         {{"organization", {{"id", or_null(org.id)}, {"name", or_null(org.name)}}},
                          {"oauthClient", {{"id", or_null(client.id)}, {"name", client.name}}}});
}

// Returns the response for the given request: every endpoint needs a token the validator accepts
asio::awaitable<response> handle_request(validator& v, request req)
{
    const auto token = bearer_credentials(req);
    if (!token)
        co_return challenge(req, http::status::unauthorized, {}, "a bearer token is required");
    if (!is_b64token(*token))
        co_return challenge(req, http::status::unauthorized, "invalid_token", "the access token is malformed");

    // From the cache, or one GET /api/v2/tokens/me shared by every request with this token.
    const genesys::result<genesys::validated_token> checked = co_await v.async_validate(*token, asio::use_awaitable);
    if (!checked)
        co_return refusal(req, checked.error(), v.options());
    co_return handle_authorized(req, *checked);
}

// Handles an HTTP server connection
asio::awaitable<void> do_session(beast::tcp_stream stream, validator& v)
{
    // This buffer is required to persist across reads
    beast::flat_buffer buffer;
    beast::error_code ec;
    for (;;) {
        stream.expires_after(std::chrono::seconds(30));
        request req;
        co_await http::async_read(stream, buffer, req, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) // the client closed the connection, went quiet, or sent no HTTP
            break;

        response res = co_await handle_request(v, std::move(req));
        const bool keep_alive = res.keep_alive();
        co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
        if (ec || !keep_alive)
            break;
    }
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

// Reports an exception that ended a session
void report(std::exception_ptr e)
{
    if (!e)
        return;
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        std::cerr << "validating_server: session: " << x.what() << '\n';
    }
}

// Accepts incoming connections and launches the sessions
asio::awaitable<void> do_listen(tcp::acceptor& acceptor, validator& v)
{
    for (;;) {
        tcp::socket socket = co_await acceptor.async_accept(asio::use_awaitable);
        asio::co_spawn(acceptor.get_executor(), do_session(beast::tcp_stream(std::move(socket)), v), report);
    }
}

// Writes the port to `path` so that it appears whole or not at all
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
    settings s;
    try {
        s = parse_command_line(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "validating_server: " << e.what() << "\n\n" << usage;
        return 2;
    }

    // The validator calls the API with each token it checks: its configuration has no token.
    const genesys::token_validator_config config{.base_url = s.api};
    genesys::token_validator_options policy;
    policy.organization_id = s.org;
    policy.required_scopes = s.scopes;
    policy.max_age = s.max_age;
    // A bad --api or --scope is said before anything starts (the validator would throw it).
    if (const auto problem = genesys::check(config, policy)) {
        std::cerr << "validating_server: " << problem->message << "\n\n" << usage;
        return 2;
    }

    try {
        asio::io_context ioc{1};
        validator v{genesys::beast_async_transport{ioc.get_executor(),
                                                   {.timeout = std::chrono::seconds(5), .ca_file = s.ca_file}},
                    config, policy};

        tcp::acceptor acceptor{ioc, {asio::ip::make_address("127.0.0.1"), s.port}};
        const unsigned short port = acceptor.local_endpoint().port();
        asio::co_spawn(ioc, do_listen(acceptor, v), [](std::exception_ptr e) {
            if (e)
                std::rethrow_exception(e); // out of ioc.run()
        });

        // Stop at once: in-flight requests are dropped, their clients see the connection close.
        asio::signal_set signals{ioc, SIGINT, SIGTERM};
        signals.async_wait([&](beast::error_code, int) { ioc.stop(); });

        if (!s.port_file.empty())
            write_port_file(s.port_file, port);
        std::cout << "validating_server listening on http://127.0.0.1:" << port << std::endl;
        ioc.run();
        std::cout << "validating_server stopped" << std::endl;
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "validating_server: " << e.what() << '\n';
        return 1;
    }
}
