// SPDX-License-Identifier: BSL-1.0
#include "options.hpp"

#include <algorithm>
#include <array>
#include <map>

namespace genesys_cli {

namespace {

constexpr std::string_view main_text = R"(usage: genesys-tokens [options] COMMAND [ARGS]

Check, inspect and revoke Genesys Cloud access tokens.

commands:
  me [--preserve-idle-ttl]    show the current token (organization, scopes, client, idle time)
  verify                      exit 0 if the token is valid, 1 if it is not
  logout                      delete the current token on the server
  revoke USER_ID              delete every token of a user (needs oauth:token:delete)
  timeout                     show the organization's idle-token timeout
  timeout set SECONDS         set it (needs directory:organization:admin); --disable turns it off
  login                       get a token with the client-credentials grant and save it
                              (--client-id ID --client-secret-file FILE, see `login --help`)

options:
  --token-file FILE           where `login` saves the token and the others read it;
                              - for standard input (not for login)
                              (default: $GENESYS_CLOUD_TOKEN_FILE or ~/.config/genesys-tokens/token)
  --token TOKEN               the access token itself; other users can see it in the process list
                              (ps, /proc): prefer --token-file or $GENESYS_CLOUD_ACCESS_TOKEN
  --region NAME               a region, e.g. eu_west_1 (default us_east_1)
  --base-url URL              the API base URL instead of a region (a gateway, an emulator)
  --login-url URL             the login base URL (default: follows the region or base URL)
  --ca-file FILE              trust this CA bundle for https
  --json                      machine-readable output
  -v, --verbose               one line per HTTP request on stderr: method, URL, status, time,
                              attempt, correlation id (never the token)
  -h, --help                  this text; `genesys-tokens COMMAND --help` for one command
  --                          end of the options: what follows is the command and its arguments,
                              even when it starts with - (genesys-tokens revoke -- -id)

The token comes from --token, else --token-file, else $GENESYS_CLOUD_ACCESS_TOKEN, else the
default token file. A token file (one line; \n or \r\n at the end is fine) that others can read
is used with a warning. Tokens and secrets are at most 16384 bytes.

exit codes: 0 ok, 1 token not valid (verify), 2 usage, 3 API error, 4 network error.
The token is never printed; text from the server is printed with control characters escaped.
)";

constexpr std::string_view common = "\nCommon options (--token-file, --token, --region, --base-url, --json, -v): "
                                    "see genesys-tokens --help.\n";

const std::map<std::string, std::string, std::less<>> command_texts{
    {"me", "usage: genesys-tokens me [--preserve-idle-ttl]\n\nShows the organization, scopes, OAuth client and "
           "when the token idles (GET /api/v2/tokens/me).\n--preserve-idle-ttl  do not reset the token's idle "
           "timer\n" + std::string(common)},
    {"verify", "usage: genesys-tokens verify\n\nExits 0 when the token is valid and 1 when it is not (HTTP 401); "
               "HEAD /api/v2/tokens/me.\n" + std::string(common)},
    {"logout", "usage: genesys-tokens logout\n\nDeletes the current token on the server (DELETE "
               "/api/v2/tokens/me).\n" + std::string(common)},
    {"revoke", "usage: genesys-tokens revoke USER_ID\n       genesys-tokens revoke -- USER_ID   (an id that starts "
               "with -, e.g. revoke -- -abc)\n\nDeletes every token of the user (DELETE /api/v2/tokens/{userId}); "
               "needs the oauth:token:delete permission.\n" + std::string(common)},
    {"timeout", "usage: genesys-tokens timeout\n       genesys-tokens timeout set SECONDS [--disable]\n\nShows or "
                "sets the organization's idle-token timeout (GET/PUT /api/v2/tokens/timeout; setting needs "
                "directory:organization:admin).\n" + std::string(common)},
    {"login",
     "usage: genesys-tokens login --client-id ID [--client-secret-file FILE | --client-secret SECRET]\n\n"
     "Gets a token with the OAuth client-credentials grant (POST /oauth/token) and saves it to the token\n"
     "file: a new file of mode 0600 replaces the old one at once; missing directories are made with mode\n"
     "0700; a token file that is a symbolic link is refused. The token is never printed.\n"
     "--client-id ID              the OAuth client (default: $GENESYS_CLOUD_CLIENT_ID)\n"
     "--client-secret-file FILE   read the client secret from FILE (one line), - for standard input\n"
     "--client-secret SECRET      the secret itself; other users can see it in the process list (ps,\n"
     "                            /proc): prefer --client-secret-file or $GENESYS_CLOUD_CLIENT_SECRET\n"
     "--token-file FILE           where to save the token (not -)\n" +
         std::string(common)},
};

/// An option: its names, and where its value goes (`value`) or the flag it sets (`flag`).
struct option_spec {
    std::string_view name;
    std::string_view short_name;
    std::optional<std::string> cli::*value = nullptr;
    bool cli::*flag = nullptr;
};

constexpr std::array<option_spec, 15> options{{
    {"--help", "-h", nullptr, &cli::help},
    {"--verbose", "-v", nullptr, &cli::verbose},
    {"--json", {}, nullptr, &cli::json},
    {"--preserve-idle-ttl", {}, nullptr, &cli::preserve_idle_ttl},
    {"--disable", {}, nullptr, &cli::disable},
    {"--token", {}, &cli::token, nullptr},
    {"--token-file", {}, &cli::token_file, nullptr},
    {"--region", {}, &cli::region, nullptr},
    {"--base-url", {}, &cli::base_url, nullptr},
    {"--login-url", {}, &cli::login_url, nullptr},
    {"--ca-file", {}, &cli::ca_file, nullptr},
    {"--client-id", {}, &cli::client_id, nullptr},
    {"--client-secret", {}, &cli::client_secret, nullptr},
    {"--client-secret-file", {}, &cli::client_secret_file, nullptr},
    {"--", {}, nullptr, nullptr}, // end of options, handled by the parser
}};

const option_spec* find_option(std::string_view name)
{
    auto it = std::find_if(options.begin(), options.end(), [&](const option_spec& o) {
        return o.name == name || (!o.short_name.empty() && o.short_name == name);
    });
    return it == options.end() ? nullptr : &*it;
}

bool is_command(std::string_view word) { return command_texts.contains(word); }

/// Walks the arguments, filling a `cli`.
class parser {
public:
    parser(int argc, char** argv) : args_(argv + 1, argv + argc) {}

    cli run()
    {
        for (next_ = 0; next_ < args_.size();) {
            const std::string_view arg = args_[next_++];
            if (arg == "--")
                options_done_ = true;
            else if (!options_done_ && arg.size() > 1 && arg.front() == '-')
                option(arg);
            else
                positional(arg);
        }
        finish();
        return std::move(c_);
    }

private:
    void option(std::string_view arg)
    {
        const auto equals = arg.starts_with("--") ? arg.find('=') : std::string_view::npos;
        const std::string_view name = arg.substr(0, equals);
        const option_spec* spec = find_option(name);
        if (!spec || name == "--")
            throw usage_exception("unknown option " + std::string(arg) +
                                  (arg.starts_with("--") ? "" : " (put -- before an argument that starts with -)"));
        if (spec->flag) {
            if (equals != std::string_view::npos)
                throw usage_exception("option " + std::string(name) + " takes no value");
            c_.*(spec->flag) = true;
            return;
        }
        c_.*(spec->value) = equals != std::string_view::npos ? std::string(arg.substr(equals + 1)) : value_of(name);
    }

    std::string value_of(std::string_view name)
    {
        if (next_ >= args_.size() || find_option(args_[next_]))
            throw usage_exception("option " + std::string(name) + " needs a value", true);
        if (is_command(args_[next_]))
            swallowed_ = "option " + std::string(name) + " needs a value (it took `" + args_[next_] +
                         "`, which is a command)";
        return args_[next_++];
    }

    void positional(std::string_view arg)
    {
        if (c_.command.empty())
            c_.command = arg;
        else
            c_.args.emplace_back(arg);
    }

    void finish() const
    {
        if (c_.help)
            return;
        if (c_.command.empty())
            throw usage_exception(swallowed_.empty() ? "no command given" : swallowed_, true);
        if (!is_command(c_.command))
            throw usage_exception("unknown command " + c_.command);
    }

    std::vector<std::string> args_;
    std::size_t next_ = 0;
    bool options_done_ = false;
    std::string swallowed_;
    cli c_;
};

} // namespace

cli parse(int argc, char** argv) { return parser(argc, argv).run(); }

std::string_view main_help() { return main_text; }

std::string_view help_for(std::string_view command)
{
    auto it = command_texts.find(command);
    return it != command_texts.end() ? std::string_view(it->second) : main_text;
}

} // namespace genesys_cli
