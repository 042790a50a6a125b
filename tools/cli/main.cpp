// genesys-tokens: check, inspect and revoke Genesys Cloud access tokens from the command line.
// Built on the libcurl adapter. See `genesys-tokens --help`.

#include <genesys/tokens.hpp>
#include <genesys/transport/curl.hpp>

#include <boost/json.hpp>

#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

enum exit_code { ok = 0, not_valid = 1, usage_error = 2, api_failure = 3, network_failure = 4 };

constexpr std::string_view main_help = R"(usage: genesys-tokens [options] COMMAND [ARGS]

Check, inspect and revoke Genesys Cloud access tokens.

commands:
  me [--preserve-idle-ttl]    show the current token (organization, scopes, client, idle time)
  verify                      exit 0 if the token is valid, 1 if it is not
  logout                      delete the current token on the server
  revoke USER_ID              delete every token of a user (needs oauth:token:delete)
  timeout                     show the organization's idle-token timeout
  timeout set SECONDS         set it (needs directory:organization:admin); --disable turns it off
  login                       get a token with the client-credentials grant and save it

options:
  --token TOKEN               the access token (default: $GENESYS_CLOUD_ACCESS_TOKEN, then the token file)
  --token-file FILE           where `login` saves the token and the others read it
                              (default: $GENESYS_CLOUD_TOKEN_FILE or ~/.config/genesys-tokens/token)
  --region NAME               a region, e.g. eu_west_1 (default us_east_1)
  --base-url URL              the API base URL instead of a region (a gateway, an emulator)
  --login-url URL             the login base URL (default: follows the region or base URL)
  --ca-file FILE              trust this CA bundle for https
  --json                      machine-readable output
  --help                      this text; `genesys-tokens COMMAND --help` for one command

exit codes: 0 ok, 1 token not valid (verify), 2 usage, 3 API error, 4 network error.
The token is never printed.
)";

const std::map<std::string, std::string, std::less<>> command_help{
    {"me", "usage: genesys-tokens me [--preserve-idle-ttl]\n\nShows the organization, scopes, OAuth client and "
           "when the token idles.\n--preserve-idle-ttl  do not reset the token's idle timer\n"},
    {"verify", "usage: genesys-tokens verify\n\nExits 0 when the token is valid and 1 when it is not (HTTP 401).\n"},
    {"logout", "usage: genesys-tokens logout\n\nDeletes the current token on the server (DELETE /api/v2/tokens/me).\n"},
    {"revoke", "usage: genesys-tokens revoke USER_ID\n\nDeletes every token of the user (DELETE "
               "/api/v2/tokens/{userId}); needs the oauth:token:delete permission.\n"},
    {"timeout", "usage: genesys-tokens timeout\n       genesys-tokens timeout set SECONDS [--disable]\n\nShows or "
                "sets the organization's idle-token timeout (setting needs directory:organization:admin).\n"},
    {"login", "usage: genesys-tokens login --client-id ID [--client-secret SECRET]\n\nGets a token with the OAuth "
              "client-credentials grant and saves it to the token file (mode 0600).\nThe secret may also come from "
              "$GENESYS_CLOUD_CLIENT_SECRET, the id from $GENESYS_CLOUD_CLIENT_ID.\n"},
};

struct usage_exception : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct cli {
    std::string command;
    std::vector<std::string> args;
    std::optional<std::string> token, token_file, region, base_url, login_url, ca_file, client_id, client_secret;
    bool json = false;
    bool preserve_idle_ttl = false;
    bool disable = false;
    bool help = false;
};

std::optional<std::string> env(const char* name)
{
    if (const char* v = std::getenv(name); v && *v)
        return std::string(v);
    return std::nullopt;
}

cli parse(int argc, char** argv)
{
    cli c;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc)
                throw usage_exception(std::string(arg) + " needs a value");
            return argv[++i];
        };
        if (arg == "--help" || arg == "-h")
            c.help = true;
        else if (arg == "--json")
            c.json = true;
        else if (arg == "--preserve-idle-ttl")
            c.preserve_idle_ttl = true;
        else if (arg == "--disable")
            c.disable = true;
        else if (arg == "--token")
            c.token = value();
        else if (arg == "--token-file")
            c.token_file = value();
        else if (arg == "--region")
            c.region = value();
        else if (arg == "--base-url")
            c.base_url = value();
        else if (arg == "--login-url")
            c.login_url = value();
        else if (arg == "--ca-file")
            c.ca_file = value();
        else if (arg == "--client-id")
            c.client_id = value();
        else if (arg == "--client-secret")
            c.client_secret = value();
        else if (arg.starts_with("--"))
            throw usage_exception("unknown option " + std::string(arg));
        else if (c.command.empty())
            c.command = arg;
        else
            c.args.emplace_back(arg);
    }
    return c;
}

std::string default_token_file()
{
    if (auto f = env("GENESYS_CLOUD_TOKEN_FILE"))
        return *f;
    std::string base = env("XDG_CONFIG_HOME").value_or(env("HOME").value_or(".") + "/.config");
    return base + "/genesys-tokens/token";
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
            throw usage_exception("unknown region " + *c.region);
        return genesys::api_base_url(*r);
    }
    return genesys::api_base_url(genesys::region::us_east_1);
}

std::string resolve_token(const cli& c)
{
    if (c.token)
        return *c.token;
    if (auto t = env("GENESYS_CLOUD_ACCESS_TOKEN"))
        return *t;
    std::ifstream in(c.token_file.value_or(default_token_file()));
    std::string token;
    if (in && std::getline(in, token) && !token.empty())
        return token;
    throw usage_exception("no access token: use --token, $GENESYS_CLOUD_ACCESS_TOKEN or `genesys-tokens login`");
}

genesys::curl_transport make_transport(const cli& c)
{
    genesys::curl_options opts;
    if (c.ca_file)
        opts.ca_file = *c.ca_file;
    return genesys::curl_transport(opts);
}

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

std::string entity_text(const std::optional<genesys::named_entity>& e)
{
    if (!e)
        return "-";
    return e->name.value_or("?") + " (" + e->id.value_or("?") + ")";
}

std::string joined(const std::optional<std::vector<std::string>>& items)
{
    if (!items || items->empty())
        return "-";
    std::string out;
    for (const auto& s : *items)
        out += (out.empty() ? "" : ", ") + s;
    return out;
}

void print_token_info(const genesys::token_info& info)
{
    std::cout << "Organization:      " << entity_text(info.organization) << '\n'
              << "Home organization: " << entity_text(info.home_organization) << '\n';
    if (info.oauth_client) {
        const auto& c = *info.oauth_client;
        std::cout << "OAuth client:      " << c.name << " (" << c.id.value_or("?") << "), grant "
                  << (c.authorized_grant_type.empty() ? "?" : c.authorized_grant_type) << ", state "
                  << c.state.value_or("?") << '\n';
    }
    std::cout << "Scopes:            " << joined(info.authorized_scope) << '\n';
    if (info.cloned_user)
        std::cout << "Cloned from user:  " << info.cloned_user->id.value_or("?") << '\n';
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

int report(const cli& c, const genesys::error& e)
{
    if (c.json) {
        boost::json::object err{{"kind", genesys::to_string(e.kind)}, {"operation", e.operation}, {"message", e.message}};
        if (e.status)
            err["status"] = e.status;
        if (e.body && e.body->code)
            err["code"] = *e.body->code;
        if (!e.correlation_id.empty())
            err["correlationId"] = e.correlation_id;
        std::cerr << boost::json::serialize(boost::json::object{{"error", err}}) << '\n';
    } else {
        std::cerr << "genesys-tokens: " << e.message << '\n';
        if (e.kind == genesys::error_kind::api) {
            std::cerr << "  status:         " << e.status << '\n';
            if (e.body && e.body->code)
                std::cerr << "  code:           " << *e.body->code << '\n';
            if (e.body && e.body->message)
                std::cerr << "  message:        " << *e.body->message << '\n';
            if (!e.correlation_id.empty())
                std::cerr << "  correlation id: " << e.correlation_id << '\n';
        }
    }
    switch (e.kind) {
    case genesys::error_kind::network: return network_failure;
    case genesys::error_kind::invalid_argument: return usage_error;
    default: return api_failure;
    }
}

void print_json(const boost::json::value& v) { std::cout << boost::json::serialize(v) << '\n'; }

int run_login(const cli& c)
{
    genesys::oauth_config cfg;
    cfg.login_url = c.login_url.value_or(genesys::login_url_for(api_base(c)));
    cfg.client_id = c.client_id.value_or(env("GENESYS_CLOUD_CLIENT_ID").value_or(""));
    cfg.client_secret = c.client_secret.value_or(env("GENESYS_CLOUD_CLIENT_SECRET").value_or(""));
    if (cfg.client_id.empty() || cfg.client_secret.empty())
        throw usage_exception("login needs --client-id and --client-secret (or $GENESYS_CLOUD_CLIENT_ID/_SECRET)");
    genesys::oauth_client client{make_transport(c), cfg};
    auto r = client.try_client_credentials();
    if (!r)
        return report(c, r.error());

    const std::filesystem::path file = c.token_file.value_or(default_token_file());
    std::filesystem::create_directories(file.parent_path().empty() ? "." : file.parent_path());
    {
        std::ofstream out(file, std::ios::trunc);
        if (!out)
            throw std::runtime_error("cannot write " + file.string());
    }
    ::chmod(file.c_str(), S_IRUSR | S_IWUSR); // owner only, before the token is in it
    std::ofstream(file, std::ios::trunc) << r->data.access_token << '\n';

    const auto expires = r->data.expires_in.value_or(0);
    if (c.json)
        print_json({{"tokenType", r->data.token_type}, {"expiresIn", expires}, {"tokenFile", file.string()}});
    else
        std::cout << "Logged in as client " << cfg.client_id << ": " << r->data.token_type << " token, expires "
                  << human_duration(std::chrono::seconds(expires)) << ", saved to " << file.string() << '\n';
    return ok;
}

int run(const cli& c)
{
    if (c.command == "login")
        return run_login(c);

    genesys::tokens_api api{make_transport(c), {.base_url = api_base(c), .access_token = resolve_token(c)}};

    if (c.command == "me") {
        auto r = api.try_get_tokens_me(c.preserve_idle_ttl ? std::optional<bool>(true) : std::nullopt);
        if (!r)
            return report(c, r.error());
        if (c.json)
            print_json(boost::json::value_from(r->data));
        else
            print_token_info(r->data);
        return ok;
    }
    if (c.command == "verify") {
        auto r = api.try_verify_token();
        if (!r)
            return report(c, r.error());
        if (c.json)
            print_json({{"valid", r->data}, {"status", r->status}, {"correlationId", r->correlation_id()}});
        else
            std::cout << (r->data ? "Token is valid" : "Token is not valid") << " (HTTP " << r->status << ")\n";
        return r->data ? ok : not_valid;
    }
    if (c.command == "logout") {
        auto r = api.try_delete_tokens_me();
        if (!r)
            return report(c, r.error());
        if (c.json)
            print_json({{"deleted", "me"}, {"status", r->status}});
        else
            std::cout << "Token deleted\n";
        return ok;
    }
    if (c.command == "revoke") {
        if (c.args.size() != 1)
            throw usage_exception("revoke needs exactly one USER_ID");
        auto r = api.try_delete_token(c.args[0]);
        if (!r)
            return report(c, r.error());
        if (c.json)
            print_json({{"revoked", c.args[0]}, {"status", r->status}});
        else
            std::cout << "Deleted every token of user " << c.args[0] << '\n';
        return ok;
    }
    if (c.command == "timeout") {
        genesys::result<genesys::api_response<genesys::idle_token_timeout>> r;
        if (c.args.empty()) {
            r = api.try_get_tokens_timeout();
        } else if (c.args.size() == 2 && c.args[0] == "set") {
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
            r = api.try_put_tokens_timeout(t);
        } else {
            throw usage_exception("timeout takes no arguments, or `set SECONDS`");
        }
        if (!r)
            return report(c, r.error());
        if (c.json)
            print_json(boost::json::value_from(r->data));
        else
            print_timeout(r->data);
        return ok;
    }
    throw usage_exception("unknown command " + c.command);
}

} // namespace

int main(int argc, char** argv)
{
    cli c;
    try {
        c = parse(argc, argv);
        if (c.help || c.command.empty()) {
            auto it = command_help.find(c.command);
            std::cout << (it != command_help.end() ? std::string_view(it->second) : main_help);
            return c.help ? ok : usage_error;
        }
        if (!command_help.contains(c.command))
            throw usage_exception("unknown command " + c.command);
        return run(c);
    } catch (const usage_exception& e) {
        std::cerr << "genesys-tokens: " << e.what() << "\n(see genesys-tokens --help)\n";
        return usage_error;
    } catch (const std::exception& e) {
        std::cerr << "genesys-tokens: " << e.what() << '\n';
        return api_failure;
    }
}
