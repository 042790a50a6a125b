// SPDX-License-Identifier: BSL-1.0
// genesys-tokens: check, inspect and revoke Genesys Cloud access tokens from the command line.
// Built on the libcurl adapter. See `genesys-tokens --help`. Every byte that came from outside
// (the server, the environment, the command line) goes through terminal_text() or
// terminal_json() before it reaches stdout or stderr.

#include "options.hpp"
#include "secret_file.hpp"
#include "terminal.hpp"

#include <genesys/genesys.hpp>
#include <genesys/json.hpp>
#include <genesys/transport/curl.hpp>

#include <boost/json.hpp>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

using genesys_cli::cli;
using genesys_cli::secret_problem;
using genesys_cli::terminal_text;
using genesys_cli::usage_exception;

enum exit_code { ok = 0, not_valid = 1, usage_error = 2, api_failure = 3, network_failure = 4 };

std::optional<std::string> env(const char* name)
{
    if (const char* v = std::getenv(name); v && *v)
        return std::string(v);
    return std::nullopt;
}

std::string default_token_file()
{
    if (auto f = env("GENESYS_CLOUD_TOKEN_FILE"))
        return *f;
    std::string base = env("XDG_CONFIG_HOME").value_or(env("HOME").value_or(".") + "/.config");
    return base + "/genesys-tokens/token";
}

std::string known_regions()
{
    std::string names;
    for (const auto& r : genesys::regions)
        names += (names.empty() ? "" : ", ") + std::string(r.name);
    return names;
}

std::string api_base(const cli& c)
{
    if (c.region && c.base_url)
        throw usage_exception("use --region or --base-url, not both");
    if (c.base_url)
        return *c.base_url;
    if (c.region) {
        auto r = genesys::find_region(*c.region);
        if (!r)
            throw usage_exception("unknown region " + *c.region + "; known regions: " + known_regions());
        return genesys::api_base_url(*r);
    }
    return genesys::api_base_url(genesys::region::us_east_1);
}

/// --token, else --token-file (FILE or -), else $GENESYS_CLOUD_ACCESS_TOKEN, else the default token file.
std::string resolve_token(const cli& c)
{
    if (c.token) {
        genesys_cli::check_secret(*c.token, "the token from --token");
        return *c.token;
    }
    if (c.token_file)
        return *genesys_cli::read_secret_file(*c.token_file, "token", false);
    if (auto t = env("GENESYS_CLOUD_ACCESS_TOKEN")) {
        genesys_cli::check_secret(*t, "the token from $GENESYS_CLOUD_ACCESS_TOKEN");
        return *t;
    }
    const std::string file = default_token_file();
    if (auto t = genesys_cli::read_secret_file(file, "token", true))
        return *t;
    throw usage_exception("no access token: use --token-file, $GENESYS_CLOUD_ACCESS_TOKEN or `genesys-tokens "
                          "login` (there is no token file " + file + ")");
}

/// --client-secret, else --client-secret-file (FILE or -), else $GENESYS_CLOUD_CLIENT_SECRET.
std::string resolve_client_secret(const cli& c)
{
    if (c.client_secret && c.client_secret_file)
        throw usage_exception("use --client-secret or --client-secret-file, not both");
    if (c.client_secret_file)
        return *genesys_cli::read_secret_file(*c.client_secret_file, "client secret", false);
    auto secret = c.client_secret ? c.client_secret : env("GENESYS_CLOUD_CLIENT_SECRET");
    if (secret)
        genesys_cli::check_secret(*secret, "the client secret");
    return secret.value_or("");
}

/// --verbose: one line per HTTP attempt on stderr, from the library's (already redacted) event.
genesys::logger verbose_logger(const cli& c)
{
    if (!c.verbose)
        return {};
    return [](const genesys::log_event& e) { std::cerr << "* " << terminal_text(genesys::to_string(e)) << '\n'; };
}

genesys::curl_transport make_transport(const cli& c)
{
    genesys::curl_options opts;
    if (c.ca_file)
        opts.ca_file = *c.ca_file;
    return genesys::curl_transport(opts);
}

/// The curl transport, keeping the body of the last response: `--json` prints only what the server
/// sent (see `only_sent`).
class recording_transport {
public:
    explicit recording_transport(genesys::curl_transport inner) : inner_(std::move(inner)) {}

    boost::system::result<genesys::http_response> send(const genesys::http_request& request)
    {
        auto r = inner_.send(request);
        if (r)
            last_body_ = r->body;
        else
            last_body_.clear();
        return r;
    }

    std::string_view last_error_message() const noexcept { return inner_.last_error_message(); }

    /// The body of the last response received (empty after a network failure).
    const std::string& last_body() const noexcept { return last_body_; }

private:
    genesys::curl_transport inner_;
    std::string last_body_;
};

std::string human_duration(std::chrono::seconds s)
{
    bool past = s.count() < 0;
    auto left = past ? -s.count() : s.count();
    std::ostringstream os;
    if (left >= 86400)
        os << left / 86400 << "d ";
    if (left >= 3600)
        os << (left % 86400) / 3600 << "h ";
    if (left >= 60)
        os << (left % 3600) / 60 << "m ";
    os << left % 60 << "s";
    return past ? os.str() + " ago" : "in " + os.str();
}

/// A server-supplied string, safe to print; `fallback` when it is absent or empty.
std::string shown(const std::optional<std::string>& s, std::string_view fallback = "?")
{
    return s && !s->empty() ? terminal_text(*s) : std::string(fallback);
}

std::string entity_text(const std::optional<genesys::named_entity>& e)
{
    if (!e)
        return "-";
    return shown(e->name) + " (" + shown(e->id) + ")";
}

std::string joined(const std::optional<std::vector<std::string>>& items)
{
    if (!items || items->empty())
        return "-";
    std::string out;
    for (const auto& s : *items)
        out += (out.empty() ? "" : ", ") + terminal_text(s);
    return out;
}

void print_token_info(const genesys::token_info& info)
{
    std::cout << "Organization:      " << entity_text(info.organization) << '\n'
              << "Home organization: " << entity_text(info.home_organization) << '\n';
    if (info.oauth_client) {
        const auto& c = *info.oauth_client;
        std::cout << "OAuth client:      " << shown(c.name) << " (" << shown(c.id) << "), grant "
                  << shown(c.authorized_grant_type) << ", state " << shown(c.state) << '\n';
    }
    std::cout << "Scopes:            " << joined(info.authorized_scope) << '\n';
    if (info.cloned_user)
        std::cout << "Cloned from user:  " << shown(info.cloned_user->id) << '\n';
    if (info.date_token_idles) {
        auto left = std::chrono::duration_cast<std::chrono::seconds>(*info.date_token_idles -
                                                                     std::chrono::system_clock::now());
        std::cout << "Idles at:          " << genesys::format_date_time(*info.date_token_idles) << " ("
                  << human_duration(left) << ")\n";
    } else {
        std::cout << "Idles at:          never (idle timeout off)\n";
    }
}

void print_timeout(const genesys::idle_token_timeout& t)
{
    std::cout << "Idle token timeout: " << (t.enable_idle_token_timeout.value_or(false) ? "on" : "off") << ", "
              << t.idle_token_timeout_seconds.value_or(0) << " seconds\n";
}

/// JSON for a terminal: Boost.JSON escapes C0 controls; terminal_json() also DEL, C1 and bad UTF-8.
std::string json_text(const boost::json::value& v) { return genesys_cli::terminal_json(boost::json::serialize(v)); }

void print_json(const boost::json::value& v) { std::cout << json_text(v) << '\n'; }

/** Whether the library read `sent` (what the server sent for a key) as the value `printed` holds.
    The model always has a value for a required key (`"name":""` when the server sent none, or
    sent one the library could not read); the server never said it. Asked of the library's own
    (lenient) reading rules, so that both agree. */
bool read_from(const boost::json::value& printed, const boost::json::value& sent)
{
    namespace d = genesys::detail;
    d::decode_context ctx(d::decode_mode::lenient);
    switch (printed.kind()) {
    case boost::json::kind::object: return sent.is_object();
    case boost::json::kind::array: return sent.is_array();
    case boost::json::kind::string: {
        std::string s;
        return d::decode(sent, s, ctx);
    }
    case boost::json::kind::bool_: {
        bool b = false;
        return d::decode(sent, b, ctx);
    }
    case boost::json::kind::int64:
    case boost::json::kind::uint64: {
        std::int64_t i = 0;
        return d::decode(sent, i, ctx);
    }
    default: return true;
    }
}

boost::json::array only_sent(const boost::json::array& printed, const boost::json::array& sent);

/// `printed` (a model as the library writes it) without the keys the server did not send in
/// `sent` (the body as received): what the server did not send is absent from the output.
boost::json::object only_sent(const boost::json::object& printed, const boost::json::object& sent)
{
    boost::json::object out;
    for (const auto& kv : printed) {
        const boost::json::value* s = sent.if_contains(kv.key());
        if (!s || s->is_null() || !read_from(kv.value(), *s))
            continue;
        if (kv.value().is_object())
            out[kv.key()] = only_sent(kv.value().get_object(), s->get_object());
        else if (kv.value().is_array())
            out[kv.key()] = only_sent(kv.value().get_array(), s->get_array());
        else
            out[kv.key()] = kv.value();
    }
    return out;
}

boost::json::array only_sent(const boost::json::array& printed, const boost::json::array& sent)
{
    // The library drops the elements of a model array that are not objects (and nulls): the
    // objects it kept line up with the objects sent.
    std::vector<const boost::json::object*> objects;
    for (const auto& v : sent)
        if (v.is_object())
            objects.push_back(&v.get_object());
    boost::json::array out;
    std::size_t next = 0;
    for (const auto& v : printed) {
        if (v.is_object() && next < objects.size())
            out.push_back(only_sent(v.get_object(), *objects[next++]));
        else
            out.push_back(v);
    }
    return out;
}

/// `--json` of a decoded response: the model, less what the server did not send in `body`.
void print_model_json(const boost::json::value& model, std::string_view body)
{
    boost::system::error_code ec;
    const boost::json::value sent = boost::json::parse(body, ec);
    if (!ec && model.is_object() && sent.is_object())
        print_json(only_sent(model.get_object(), sent.get_object()));
    else
        print_json(model);
}

void report_json(const genesys::error& e)
{
    boost::json::object err{{"kind", genesys::to_string(e.kind)}, {"operation", e.operation}, {"message", e.message}};
    if (e.status)
        err["status"] = e.status;
    if (e.body && e.body->code)
        err["code"] = *e.body->code;
    if (!e.correlation_id.empty())
        err["correlationId"] = e.correlation_id;
    std::cerr << json_text(boost::json::object{{"error", err}}) << '\n';
}

void report_text(const genesys::error& e)
{
    std::cerr << "genesys-tokens: " << terminal_text(e.message) << '\n';
    if (e.kind != genesys::error_kind::api)
        return;
    std::cerr << "  status:         " << e.status << '\n';
    if (e.body && e.body->code)
        std::cerr << "  code:           " << terminal_text(*e.body->code) << '\n';
    if (e.body && e.body->message)
        std::cerr << "  message:        " << terminal_text(*e.body->message) << '\n';
    if (!e.correlation_id.empty())
        std::cerr << "  correlation id: " << terminal_text(e.correlation_id) << '\n';
}

int report(const cli& c, const genesys::error& e)
{
    if (c.json)
        report_json(e);
    else
        report_text(e);
    switch (e.kind) {
    case genesys::error_kind::network: return network_failure;
    case genesys::error_kind::invalid_argument: return usage_error;
    default: return api_failure;
    }
}

genesys::oauth_config login_config(const cli& c)
{
    genesys::oauth_config cfg;
    cfg.login_url = c.login_url.value_or(genesys::login_url_for(api_base(c)));
    cfg.client_id = c.client_id.value_or(env("GENESYS_CLOUD_CLIENT_ID").value_or(""));
    cfg.client_secret = resolve_client_secret(c);
    if (cfg.client_id.empty() || cfg.client_secret.empty())
        throw usage_exception("login needs --client-id and --client-secret-file (or $GENESYS_CLOUD_CLIENT_ID and "
                              "_SECRET, or --client-secret)");
    cfg.logger = verbose_logger(c);
    return cfg;
}

int run_login(const cli& c)
{
    if (c.token_file == "-")
        throw usage_exception("login cannot save the token to standard input: give --token-file FILE");
    const std::filesystem::path file = c.token_file.value_or(default_token_file());
    genesys::oauth_config cfg = login_config(c);
    genesys_cli::prepare_secret_file(file, "token"); // before the token exists: refuse a bad target early

    if (auto problem = genesys::check(cfg)) // reported as any error, not thrown by the constructor
        return report(c, *problem);
    genesys::oauth_client client{make_transport(c), cfg};
    auto r = client.try_client_credentials();
    if (!r)
        return report(c, r.error());
    genesys_cli::write_secret_file(file, "token", r->data.access_token + '\n');

    const auto expires = r->data.expires_in.value_or(0);
    if (c.json)
        print_json({{"tokenType", r->data.token_type}, {"expiresIn", expires}, {"tokenFile", file.string()}});
    else
        std::cout << "Logged in as client " << terminal_text(cfg.client_id) << ": " << terminal_text(r->data.token_type)
                  << " token, expires " << human_duration(std::chrono::seconds(expires)) << ", saved to "
                  << terminal_text(file.string()) << '\n';
    return ok;
}

using api_type = genesys::tokens_api<recording_transport>;

int run_me(const cli& c, api_type& api)
{
    auto r = api.try_get_tokens_me(c.preserve_idle_ttl ? std::optional<bool>(true) : std::nullopt);
    if (!r)
        return report(c, r.error());
    if (c.json)
        print_model_json(boost::json::value_from(r->data), api.transport().last_body());
    else
        print_token_info(r->data);
    return ok;
}

int run_verify(const cli& c, api_type& api)
{
    auto r = api.try_verify_token();
    if (!r)
        return report(c, r.error());
    if (c.json)
        print_json({{"valid", r->data}, {"status", r->status}, {"correlationId", r->correlation_id()}});
    else
        std::cout << (r->data ? "Token is valid" : "Token is not valid") << " (HTTP " << r->status << ")\n";
    return r->data ? ok : not_valid;
}

int run_logout(const cli& c, api_type& api)
{
    auto r = api.try_delete_tokens_me();
    if (!r)
        return report(c, r.error());
    if (c.json)
        print_json({{"deleted", "me"}, {"status", r->status}});
    else
        std::cout << "Token deleted\n";
    return ok;
}

int run_revoke(const cli& c, api_type& api)
{
    if (c.args.size() != 1)
        throw usage_exception("revoke needs exactly one USER_ID (put -- before one that starts with -)");
    auto r = api.try_delete_token(c.args[0]);
    if (!r)
        return report(c, r.error());
    if (c.json)
        print_json({{"revoked", c.args[0]}, {"status", r->status}});
    else
        std::cout << "Deleted every token of user " << terminal_text(c.args[0]) << '\n';
    return ok;
}

genesys::idle_token_timeout wanted_timeout(const cli& c)
{
    genesys::idle_token_timeout t;
    try {
        std::size_t used = 0;
        t.idle_token_timeout_seconds = std::stoll(c.args[1], &used);
        if (used != c.args[1].size())
            throw std::invalid_argument("trailing characters");
    } catch (const std::exception&) {
        throw usage_exception("SECONDS must be a whole number, not " + c.args[1]);
    }
    t.enable_idle_token_timeout = !c.disable;
    return t;
}

int run_timeout(const cli& c, api_type& api)
{
    genesys::result<genesys::api_response<genesys::idle_token_timeout>> r;
    if (c.args.empty())
        r = api.try_get_tokens_timeout();
    else if (c.args.size() == 2 && c.args[0] == "set")
        r = api.try_put_tokens_timeout(wanted_timeout(c));
    else
        throw usage_exception("timeout takes no arguments, or `set SECONDS`");
    if (!r)
        return report(c, r.error());
    if (c.json)
        print_model_json(boost::json::value_from(r->data), api.transport().last_body());
    else
        print_timeout(r->data);
    return ok;
}

int run(const cli& c)
{
    if (c.command == "login")
        return run_login(c);

    genesys::client_config cfg{.base_url = api_base(c), .access_token = resolve_token(c), .logger = verbose_logger(c)};
    if (auto problem = genesys::check(cfg)) // reported as any error, not thrown by the constructor
        return report(c, *problem);
    api_type api{recording_transport(make_transport(c)), std::move(cfg)};
    if (c.command == "me")
        return run_me(c, api);
    if (c.command == "verify")
        return run_verify(c, api);
    if (c.command == "logout")
        return run_logout(c, api);
    if (c.command == "revoke")
        return run_revoke(c, api);
    if (c.command == "timeout")
        return run_timeout(c, api);
    throw usage_exception("unknown command " + c.command);
}

} // namespace

int main(int argc, char** argv)
{
    try {
        const cli c = genesys_cli::parse(argc, argv);
        if (c.help) {
            std::cout << genesys_cli::help_for(c.command);
            return ok;
        }
        return run(c);
    } catch (const usage_exception& e) {
        std::cerr << "genesys-tokens: " << terminal_text(e.what()) << '\n';
        if (e.show_usage)
            std::cerr << '\n' << genesys_cli::main_help();
        else
            std::cerr << "(see genesys-tokens --help)\n";
        return usage_error;
    } catch (const secret_problem& e) {
        std::cerr << "genesys-tokens: " << terminal_text(e.what()) << '\n';
        return usage_error;
    } catch (const std::exception& e) {
        std::cerr << "genesys-tokens: " << terminal_text(e.what()) << '\n';
        return api_failure;
    }
}
