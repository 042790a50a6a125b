// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_CLI_OPTIONS_HPP
#define GENESYS_CLI_OPTIONS_HPP

// The command line of genesys-tokens: options, commands, help texts.

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace genesys_cli {

/// A command line that cannot be run (exit 2). `show_usage`: print the usage after the message.
struct usage_exception : std::runtime_error {
    explicit usage_exception(const std::string& what, bool show_usage = false)
        : std::runtime_error(what), show_usage(show_usage)
    {
    }
    bool show_usage;
};

/// What the command line asks for.
struct cli {
    std::string command;
    std::vector<std::string> args;
    std::optional<std::string> token, token_file, region, base_url, login_url, ca_file, client_id, client_secret,
        client_secret_file;
    bool json = false;
    bool preserve_idle_ttl = false;
    bool disable = false;
    bool help = false;
    bool verbose = false;
};

/** Parses the arguments (options may come before or after the command; `--` ends them, so what
    follows may start with `-`). Throws `usage_exception` for an unknown option or command, an
    option without its value, or no command (unless --help). */
cli parse(int argc, char** argv);

/// The text of `genesys-tokens --help`.
std::string_view main_help();

/// The text of `genesys-tokens COMMAND --help`, or the main help for an unknown command.
std::string_view help_for(std::string_view command);

} // namespace genesys_cli

#endif
