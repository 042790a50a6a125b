// SPDX-License-Identifier: BSL-1.0
// The genesys-tokens command-line tool against the emulator: output, exit codes, and the
// token never printed.

#include "emulator_process.hpp"
#include "emulator.hpp"
#include "loopback_server.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace seed = genesys_emulator::seed;

namespace {

struct cli_env {
    testproc::emulator_process& emu = testproc::shared_emulator(false);
    testproc::temp_dir home;
    std::string token_file = (home.path() / "token").string();

    testproc::run_result operator()(std::vector<std::string> args, std::map<std::string, std::string> env = {}) const
    {
        args.insert(args.begin(), {testproc::built_program(GENESYS_CLI_PATH), "--base-url", emu.base_url()});
        env.emplace("GENESYS_CLOUD_TOKEN_FILE", token_file);
        env.emplace("GENESYS_CLOUD_ACCESS_TOKEN", "");
        env.emplace("HOME", home.path().string());
        return testproc::run(args, env);
    }
};

bool contains(const std::string& haystack, std::string_view needle) { return haystack.find(needle) != std::string::npos; }

} // namespace

TEST_CASE("the CLI explains itself: --help for the tool and every command")
{
    cli_env cli;
    auto top = cli({"--help"});
    CHECK(top.exit_code == 0);
    for (const char* command : {"me", "verify", "logout", "revoke", "timeout", "login"}) {
        CAPTURE(command);
        CHECK(contains(top.out, std::string("  ") + command));
        auto one = cli({command, "--help"});
        CHECK(one.exit_code == 0);
        CHECK(one.out.rfind(std::string("usage: genesys-tokens ") + command, 0) == 0);
    }
    CHECK(contains(top.out, "exit codes: 0 ok, 1 token not valid (verify), 2 usage, 3 API error, 4 network error"));
}

TEST_CASE("usage errors exit 2 and say what is wrong")
{
    cli_env cli;
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
        {{}, "usage: genesys-tokens"},
        {{"frobnicate"}, "unknown command frobnicate"},
        {{"--token", "t-123456789", "revoke"}, "revoke needs exactly one USER_ID"},
        {{"--token", "t-123456789", "timeout", "set", "ten"}, "SECONDS must be a whole number"},
        {{"--token", "t-123456789", "timeout", "set", "299"}, "below the API definition's minimum of 300"},
        {{"--no-such-flag", "me"}, "unknown option --no-such-flag"},
        {{"me"}, "no access token"},
        {{"--token", "t-123456789", "--region", "eu_west_1", "me"}, "use --region or --base-url, not both"},
        {{"--token", "t-123456789", "revoke", ".."}, "userId must not be"},
        {{"login"}, "login needs --client-id"},
    };
    for (const auto& c : cases) {
        const auto& args = c.first;
        const std::string& message = c.second; // not a structured binding: clang 14 can't CAPTURE one
        CAPTURE(message);
        auto r = cli(args);
        CHECK(r.exit_code == 2);
        CHECK((contains(r.err, message) || contains(r.out, message)));
    }
}

TEST_CASE("login, inspect, verify, revoke, logout: the whole flow with its exit codes")
{
    cli_env cli;
    auto login = cli({"login", "--client-id", std::string(seed::service_client_id), "--client-secret",
                      std::string(seed::service_client_secret)});
    REQUIRE(login.exit_code == 0);
    CHECK(contains(login.out, "Logged in as client client-service"));
    const std::string token = testproc::read_file(cli.token_file).substr(0, 48);
    REQUIRE(token.size() == 48);
    struct stat st{};
    REQUIRE(::stat(cli.token_file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    std::vector<testproc::run_result> outputs{login};
    auto me = cli({"me"});
    CHECK(me.exit_code == 0);
    CHECK(contains(me.out, "Organization:      Acme Contact Centre"));
    CHECK(contains(me.out, "OAuth client:      Token Service (client-service), grant CLIENT-CREDENTIALS"));
    CHECK(contains(me.out, "Idles at:"));
    CHECK(contains(me.out, "(in 14m"));
    outputs.push_back(me);

    auto json = cli({"--json", "me", "--preserve-idle-ttl"});
    CHECK(json.exit_code == 0);
    auto doc = boost::json::parse(json.out);
    CHECK(doc.at("organization").at("name") == "Acme Contact Centre");
    CHECK(doc.at("OAuthClient").at("id") == "client-service");
    outputs.push_back(json);

    auto verify = cli({"verify"});
    CHECK(verify.exit_code == 0);
    CHECK(contains(verify.out, "Token is valid"));
    outputs.push_back(verify);

    auto set = cli({"timeout", "set", "1200"});
    CHECK(set.exit_code == 0);
    CHECK(contains(set.out, "on, 1200 seconds"));
    auto get = cli({"--json", "timeout"});
    CHECK(boost::json::parse(get.out).at("idleTokenTimeoutSeconds") == 1200);
    outputs.push_back(set);
    outputs.push_back(get);

    CHECK(cli({"--token", std::string(seed::agent_token), "verify"}).exit_code == 0);
    auto revoke = cli({"revoke", std::string(seed::agent_user_id)});
    CHECK(revoke.exit_code == 0);
    CHECK(contains(revoke.out, std::string("Deleted every token of user ") + std::string(seed::agent_user_id)));
    CHECK(cli({"--token", std::string(seed::agent_token), "verify"}).exit_code == 1);
    outputs.push_back(revoke);

    auto logout = cli({"logout"});
    CHECK(logout.exit_code == 0);
    auto after = cli({"verify"});
    CHECK(after.exit_code == 1);
    CHECK(contains(after.out, "Token is not valid (HTTP 401)"));
    auto after_json = cli({"--json", "verify"});
    CHECK(after_json.exit_code == 1);
    CHECK(boost::json::parse(after_json.out).at("valid") == false);
    outputs.push_back(logout);
    outputs.push_back(after);
    outputs.push_back(after_json);

    for (const auto& o : outputs) {
        CHECK_FALSE(contains(o.out, token));
        CHECK_FALSE(contains(o.err, token));
        CHECK_FALSE(contains(o.out, seed::service_client_secret));
        CHECK_FALSE(contains(o.err, seed::service_client_secret));
    }
}

TEST_CASE("API errors exit 3 with status, code, message and correlation id")
{
    cli_env cli;
    auto r = cli({"--token", std::string(seed::agent_token), "revoke", std::string(seed::admin_user_id)});
    CHECK(r.exit_code == 3);
    CHECK(contains(r.err, "status:         403"));
    CHECK(contains(r.err, "code:           missing.any.permissions"));
    CHECK(contains(r.err, "message:        Unable to perform the requested action"));
    CHECK(contains(r.err, "correlation id: "));

    auto json = cli({"--json", "--token", std::string(seed::agent_token), "revoke", std::string(seed::admin_user_id)});
    CHECK(json.exit_code == 3);
    auto err = boost::json::parse(json.err).at("error");
    CHECK(err.at("status") == 403);
    CHECK(err.at("code") == "missing.any.permissions");
    CHECK(err.at("correlationId").as_string().size() == 36);

    auto bad_login = cli({"login", "--client-id", "client-service", "--client-secret", "wrong-secret-for-test"});
    CHECK(bad_login.exit_code == 3);
    CHECK(contains(bad_login.err, "invalid_client"));
    CHECK_FALSE(contains(bad_login.err, "wrong-secret-for-test"));
    CHECK_FALSE(contains(bad_login.out, "wrong-secret-for-test"));

    const std::string secret_token = "cli-secret-token-0a9b8c7d6e";
    for (auto args : std::vector<std::vector<std::string>>{{"me"}, {"revoke", "x"}, {"timeout"}, {"logout"}}) {
        args.insert(args.begin(), {"--token", secret_token});
        auto out = cli(args);
        CHECK(out.exit_code == 3);
        CHECK_FALSE(contains(out.err, secret_token));
        CHECK_FALSE(contains(out.out, secret_token));
    }
}

TEST_CASE("an unknown region is a usage error")
{
    auto r = testproc::run({testproc::built_program(GENESYS_CLI_PATH), "--region", "mars_north_1", "--token", "t-123456789", "me"});
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, "unknown region mars_north_1"));
}

TEST_CASE("network errors exit 4")
{
    auto r = testproc::run({testproc::built_program(GENESYS_CLI_PATH), "--base-url", "http://127.0.0.1:1", "--token", "net-token-123456", "verify"});
    CHECK(r.exit_code == 4);
    CHECK(contains(r.err, "network error"));
    CHECK_FALSE(contains(r.err, "net-token-123456"));
}

TEST_CASE("the token comes from --token, then the environment, then the token file")
{
    cli_env cli;
    {
        std::ofstream(cli.token_file) << "file-token-not-valid-1234\n";
    }
    CHECK(cli({"verify"}).exit_code == 1);                                                          // the file
    CHECK(cli({"verify"}, {{"GENESYS_CLOUD_ACCESS_TOKEN", std::string(seed::admin_token)}}).exit_code == 0); // env wins
    CHECK(cli({"--token", "flag-token-not-valid-99", "verify"},
              {{"GENESYS_CLOUD_ACCESS_TOKEN", std::string(seed::admin_token)}})
              .exit_code == 1); // the flag wins
}

// ---- The security review: terminal safety, the token file, secrets off the command line,
// ---- precise usage errors, and --verbose.

namespace {

/// True when `text` can go to a terminal as is: valid UTF-8 with no control character but
/// newline (no C0, no DEL, no C1 U+0080..U+009F).
bool terminal_safe(std::string_view text)
{
    for (std::size_t i = 0; i < text.size();) {
        const auto b = static_cast<unsigned char>(text[i]);
        if (b < 0x80) {
            if ((b < 0x20 && b != '\n') || b == 0x7f)
                return false;
            ++i;
            continue;
        }
        std::size_t len = b >= 0xf0 && b <= 0xf4 ? 4 : b >= 0xe0 ? 3 : b >= 0xc2 && b <= 0xdf ? 2 : 0;
        if (len == 0 || (b >= 0xe0 && len != 3 && len != 4) || i + len > text.size())
            return false;
        for (std::size_t k = 1; k < len; ++k)
            if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80)
                return false;
        if (b == 0xc2 && static_cast<unsigned char>(text[i + 1]) <= 0x9f)
            return false; // C1 control
        i += len;
    }
    return true;
}

/// A seed whose every server-side string carries terminal escapes, DEL, NUL and C1 controls.
constexpr std::string_view hostile_seed = R"({
  "organizations": [{"id": "org-\u001b]0;pwned\u0007", "name": "Evil\u001b[31m Org\u007f\u009b2J",
                     "idleTokenTimeout": {"idleTokenTimeoutSeconds": 900, "enableIdleTokenTimeout": true}}],
  "users": [{"id": "user-1", "name": "U", "organization": "org-\u001b]0;pwned\u0007",
             "permissions": ["oauth:token:delete"]}],
  "clients": [{"id": "cl\u001b[1m", "name": "Client\u009b31m\u0000x", "organization": "org-\u001b]0;pwned\u0007",
               "authorizedGrantType": "CODE\u001b[5m", "scope": ["sc\u0007ope", "ok"]}],
  "tokens": [{"token": "hostile-token-5f2e", "user": "user-1", "client": "cl\u001b[1m"}]
})";

/// Runs the CLI with `input` on its standard input.
testproc::run_result run_with_stdin(const cli_env& cli, const std::string& input, std::vector<std::string> args,
                                    std::map<std::string, std::string> env = {})
{
    const std::string in_path = (cli.home.path() / "stdin").string();
    std::ofstream(in_path, std::ios::binary) << input;
    args.insert(args.begin(), {testproc::built_program(GENESYS_CLI_PATH), "--base-url", cli.emu.base_url()});
    args.insert(args.begin(), {"/bin/sh", "-c", "exec \"$@\" < \"$0\"", in_path});
    env.emplace("GENESYS_CLOUD_TOKEN_FILE", cli.token_file);
    env.emplace("GENESYS_CLOUD_ACCESS_TOKEN", "");
    env.emplace("HOME", cli.home.path().string());
    return testproc::run(args, env);
}

mode_t mode_of(const std::string& path)
{
    struct stat st{};
    REQUIRE(::lstat(path.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

struct umask_guard {
    mode_t saved;
    explicit umask_guard(mode_t m) : saved(::umask(m)) {}
    ~umask_guard() { ::umask(saved); }
    umask_guard(const umask_guard&) = delete;
    umask_guard& operator=(const umask_guard&) = delete;
};

testproc::run_result login_service(const cli_env& cli, std::vector<std::string> extra = {})
{
    std::vector<std::string> args{"login", "--client-id", std::string(seed::service_client_id), "--client-secret",
                                  std::string(seed::service_client_secret)};
    args.insert(args.end(), extra.begin(), extra.end());
    return cli(args);
}

} // namespace

TEST_CASE("CLI: server-supplied text is made terminal-safe, in text and in --json output")
{
    testproc::temp_dir dir;
    const std::string seed_path = (dir.path() / "seed.json").string();
    std::ofstream(seed_path) << hostile_seed;
    testproc::emulator_process emu(false, {"--seed", seed_path});
    const std::vector<std::string> base{testproc::built_program(GENESYS_CLI_PATH), "--base-url", emu.base_url(), "--token", "hostile-token-5f2e"};
    auto cli = [&](std::vector<std::string> args) {
        args.insert(args.begin(), base.begin(), base.end());
        return testproc::run(args, {{"GENESYS_CLOUD_ACCESS_TOKEN", ""}});
    };

    auto me = cli({"me"});
    CHECK(me.exit_code == 0);
    CHECK(terminal_safe(me.out));
    CHECK(terminal_safe(me.err));
    CHECK(me.out.find('\x1b') == std::string::npos);
    CHECK(contains(me.out, "Evil\\x1b[31m Org\\x7f\\u009b2J")); // visible, not acted on
    CHECK(contains(me.out, "Client\\u009b31m\\x00x"));
    CHECK(contains(me.out, "sc\\x07ope"));

    auto json = cli({"--json", "me"});
    CHECK(json.exit_code == 0);
    CHECK(terminal_safe(json.out)); // Boost.JSON leaves DEL and C1 raw: the CLI escapes them too
    auto doc = boost::json::parse(json.out);
    CHECK(doc.at("organization").at("name") == "Evil\x1b[31m Org\x7f\xc2\x9b" "2J"); // the same string
    CHECK(doc.at("OAuthClient").at("name").as_string() == std::string_view("Client\xc2\x9b" "31m\0x", 13));
}

TEST_CASE("CLI: error messages from the server are terminal-safe, even with invalid UTF-8")
{
    cli_env cli;
    auto shown = cli({"--token", std::string(seed::admin_token), "revoke", "\x1b]0;pwned\x07\x1b[2J-user"});
    CHECK(shown.exit_code == 3);
    CHECK(contains(shown.err, "message:        User \\x1b]0;pwned\\x07\\x1b[2J-user was not found."));
    // Bidi overrides and zero-width characters reorder or hide text: escaped too.
    auto reordered = cli({"--token", std::string(seed::admin_token), "revoke", "user-\xe2\x80\xae" "gpj.exe\xe2\x80\x8b"});
    CHECK(reordered.exit_code == 3);
    CHECK(contains(reordered.err, "user-\\u202egpj.exe\\u200b"));
    CHECK(reordered.err.find("\xe2\x80\xae") == std::string::npos);
    for (std::string user : {std::string("\x1b]0;pwned\x07\x1b[2J-user"), std::string("bad-\xff\xfe\xc2-utf8\x1b[1m")}) {
        auto r = cli({"--token", std::string(seed::admin_token), "revoke", user});
        CHECK(r.exit_code == 3);
        CHECK(terminal_safe(r.err));
        CHECK(terminal_safe(r.out));
        auto j = cli({"--json", "--token", std::string(seed::admin_token), "revoke", user});
        CHECK(j.exit_code == 3);
        CHECK(terminal_safe(j.err));
        CHECK(boost::json::parse(j.err).at("error").at("status") == 404);
    }
}

TEST_CASE("CLI: login writes the token file 0600 atomically, in new 0700 directories, whatever the umask")
{
    cli_env cli;
    umask_guard open_umask(0);
    const std::string nested = (cli.home.path() / "a" / "b" / "token").string();
    auto r = login_service(cli, {"--token-file", nested});
    REQUIRE(r.exit_code == 0);
    CHECK(mode_of(nested) == 0600);
    CHECK(mode_of((cli.home.path() / "a").string()) == 0700);
    CHECK(mode_of((cli.home.path() / "a" / "b").string()) == 0700);
    const std::string first = testproc::read_file(nested);
    CHECK(first.size() == 49);

    // Replaced, not rewritten in place: another link to the old file keeps the old token, and
    // no temporary file is left behind.
    const std::string other_link = (cli.home.path() / "a" / "other-link").string();
    REQUIRE(::link(nested.c_str(), other_link.c_str()) == 0);
    REQUIRE(login_service(cli, {"--token-file", nested}).exit_code == 0);
    CHECK(testproc::read_file(other_link) == first);
    CHECK(testproc::read_file(nested) != first);
    CHECK(mode_of(nested) == 0600);
    std::size_t entries = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(cli.home.path() / "a" / "b"))
        ++entries;
    CHECK(entries == 1);
}

TEST_CASE("CLI: login refuses a token file that is a symbolic link and leaves its target alone")
{
    cli_env cli;
    const std::string victim = (cli.home.path() / "victim").string();
    std::ofstream(victim) << "precious\n";
    REQUIRE(::symlink(victim.c_str(), cli.token_file.c_str()) == 0);
    auto r = login_service(cli);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, "symbolic link"));
    CHECK(contains(r.err, cli.token_file));
    CHECK(testproc::read_file(victim) == "precious\n");
    CHECK(std::filesystem::is_symlink(cli.token_file));
}

TEST_CASE("CLI: a token file readable or writable by others is used with a warning")
{
    cli_env cli;
    std::ofstream(cli.token_file) << seed::admin_token << '\n';
    REQUIRE(::chmod(cli.token_file.c_str(), 0644) == 0);
    auto r = cli({"verify"});
    CHECK(r.exit_code == 0);
    CHECK(contains(r.err, "warning: " + cli.token_file + " is accessible by group or others (mode 0644)"));
    CHECK_FALSE(contains(r.err, seed::admin_token));

    REQUIRE(::chmod(cli.token_file.c_str(), 0600) == 0);
    auto quiet = cli({"verify"});
    CHECK(quiet.exit_code == 0);
    CHECK_FALSE(contains(quiet.err, "warning"));
}

TEST_CASE("CLI: --token-file - reads the token from standard input")
{
    cli_env cli;
    auto r = run_with_stdin(cli, std::string(seed::admin_token) + "\n", {"--token-file", "-", "verify"});
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, "Token is valid"));
    auto bad = run_with_stdin(cli, "not-a-valid-token-4242\n", {"--token-file", "-", "verify"});
    CHECK(bad.exit_code == 1);
    auto empty = run_with_stdin(cli, "", {"--token-file", "-", "verify"});
    CHECK(empty.exit_code == 2);
    CHECK(contains(empty.err, "standard input"));
    auto save = run_with_stdin(cli, "", {"--token-file", "-", "login", "--client-id", "x", "--client-secret-file", "/dev/null"});
    CHECK(save.exit_code == 2);
    CHECK(contains(save.err, "login cannot save the token to standard input"));
}

TEST_CASE("CLI: --client-secret-file FILE and - keep the secret off the command line")
{
    cli_env cli;
    const std::string secret_file = (cli.home.path() / "secret").string();
    std::ofstream(secret_file) << seed::service_client_secret << "\r\n";
    ::chmod(secret_file.c_str(), 0600);
    auto r = cli({"login", "--client-id", std::string(seed::service_client_id), "--client-secret-file", secret_file});
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, "Logged in as client client-service"));
    CHECK(cli({"verify"}).exit_code == 0);

    auto in = run_with_stdin(cli, std::string(seed::service_client_secret) + "\n",
                             {"login", "--client-id", std::string(seed::service_client_id), "--client-secret-file", "-"});
    CHECK(in.exit_code == 0);
    for (const auto& o : {r, in}) {
        CHECK_FALSE(contains(o.out, seed::service_client_secret));
        CHECK_FALSE(contains(o.err, seed::service_client_secret));
    }

    auto missing = cli({"login", "--client-id", "x", "--client-secret-file", (cli.home.path() / "nope").string()});
    CHECK(missing.exit_code == 2);
    CHECK(contains(missing.err, "cannot read client secret file"));
    CHECK(contains(missing.err, "No such file or directory"));
}

TEST_CASE("CLI: --help says --token and --client-secret are visible in the process list, and names the new options")
{
    cli_env cli;
    auto top = cli({"--help"});
    CHECK(contains(top.out, "--token-file FILE"));
    CHECK(contains(top.out, "- for standard input"));
    CHECK(contains(top.out, "--verbose"));
    CHECK(contains(top.out, "process list"));
    CHECK(contains(top.out, "--  "));
    auto login_help = cli({"login", "--help"});
    CHECK(contains(login_help.out, "--client-secret-file FILE"));
    CHECK(contains(login_help.out, "process list"));
    auto revoke_help = cli({"revoke", "--help"});
    CHECK(contains(revoke_help.out, "revoke -- -"));
}

TEST_CASE("CLI: a token file with CRLF is accepted, one that cannot be read is named with the reason")
{
    cli_env cli;
    std::ofstream(cli.token_file, std::ios::binary) << seed::admin_token << "\r\n";
    ::chmod(cli.token_file.c_str(), 0600);
    CHECK(cli({"verify"}).exit_code == 0);

    std::ofstream(cli.token_file, std::ios::binary) << seed::admin_token << "\n\n";
    auto two_lines = cli({"verify"});
    CHECK(two_lines.exit_code == 2);
    CHECK(contains(two_lines.err, cli.token_file));
    CHECK_FALSE(contains(two_lines.err, seed::admin_token));

    std::filesystem::remove(cli.token_file);
    std::filesystem::create_directory(cli.token_file);
    auto dir = cli({"verify"});
    CHECK(dir.exit_code == 2);
    CHECK(contains(dir.err, "cannot read token file " + cli.token_file + ": Is a directory"));
    std::filesystem::remove(cli.token_file);

    if (::geteuid() != 0) { // root reads anything
        std::ofstream(cli.token_file) << seed::admin_token << '\n';
        ::chmod(cli.token_file.c_str(), 0);
        auto denied = cli({"verify"});
        CHECK(denied.exit_code == 2);
        CHECK(contains(denied.err, "cannot read token file " + cli.token_file + ": Permission denied"));
    }
}

TEST_CASE("CLI: a token over 16 KiB is refused before anything is sent")
{
    cli_env cli;
    {
        std::ofstream out(cli.token_file, std::ios::binary);
        out << std::string(20 * 1024 * 1024, 'A') << '\n';
    }
    ::chmod(cli.token_file.c_str(), 0600);
    const auto before = cli.emu.stats().at("requests").as_int64();
    auto r = cli({"verify"});
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, "is over 16384 bytes"));
    CHECK(r.err.size() < 1000);
    auto flag = cli({"--token", std::string(17 * 1024, 'B'), "verify"});
    CHECK(flag.exit_code == 2);
    CHECK(contains(flag.err, "is over 16384 bytes"));
    CHECK(cli.emu.stats().at("requests").as_int64() == before);
}

TEST_CASE("CLI: usage errors are specific: unknown region lists the regions, a swallowed command is named")
{
    cli_env cli;
    auto region = testproc::run({testproc::built_program(GENESYS_CLI_PATH), "--region", "mars_north_1", "--token", "t-123456789", "me"});
    CHECK(region.exit_code == 2);
    CHECK(contains(region.err, "unknown region mars_north_1; known regions: us_east_1, eu_west_1,"));
    CHECK(contains(region.err, "eusc_de_east_1"));

    auto swallowed = testproc::run({testproc::built_program(GENESYS_CLI_PATH), "--token", "me"});
    CHECK(swallowed.exit_code == 2);
    CHECK(contains(swallowed.err, "option --token needs a value"));
    CHECK(contains(swallowed.err, "usage: genesys-tokens"));
    CHECK(swallowed.out.empty());

    auto last = testproc::run({testproc::built_program(GENESYS_CLI_PATH), "me", "--token"});
    CHECK(last.exit_code == 2);
    CHECK(contains(last.err, "option --token needs a value"));

    auto none = testproc::run({testproc::built_program(GENESYS_CLI_PATH), "--json"});
    CHECK(none.exit_code == 2);
    CHECK(contains(none.err, "no command given"));
    CHECK(contains(none.err, "usage: genesys-tokens"));
    CHECK(none.out.empty());
}

TEST_CASE("CLI: -- ends the options, so a user id may start with -")
{
    cli_env cli;
    auto r = cli({"--token", std::string(seed::admin_token), "revoke", "--", "-abc"});
    CHECK(r.exit_code == 3);
    CHECK(contains(r.err, "User -abc was not found"));
    auto dashes = cli({"--token", std::string(seed::admin_token), "revoke", "--", "--json"});
    CHECK(dashes.exit_code == 3);
    CHECK(contains(dashes.err, "User --json was not found"));
    auto bare = cli({"--token", std::string(seed::admin_token), "revoke", "-abc"});
    CHECK(bare.exit_code == 2);
    CHECK(contains(bare.err, "unknown option -abc"));
}

TEST_CASE("CLI: --verbose prints one terminal-safe line per HTTP exchange, never the token or secret")
{
    cli_env cli;
    auto verify = cli({"-v", "--token", std::string(seed::admin_token), "verify"});
    CHECK(verify.exit_code == 0);
    CHECK(contains(verify.err, "HEAD " + cli.emu.base_url() + "/api/v2/tokens/me -> 200"));
    CHECK(contains(verify.err, "(attempt 1, correlation id "));
    CHECK(terminal_safe(verify.err));

    auto revoke = cli({"--verbose", "--token", std::string(seed::admin_token), "revoke", "--", "-abc"});
    CHECK(contains(revoke.err, "DELETE " + cli.emu.base_url() + "/api/v2/tokens/-abc -> 404"));

    auto in = login_service(cli, {"-v"});
    CHECK(in.exit_code == 0);
    CHECK(contains(in.err, "POST " + cli.emu.base_url() + "/oauth/token -> 200"));
    const std::string token = testproc::read_file(cli.token_file).substr(0, 48);
    auto me = cli({"-v", "me"});
    CHECK(contains(me.err, "GET " + cli.emu.base_url() + "/api/v2/tokens/me -> 200"));
    auto quiet = cli({"me"});
    CHECK_FALSE(contains(quiet.err, "/api/v2/tokens/me"));
    for (const auto& o : {verify, revoke, in, me}) {
        CHECK(std::count(o.err.begin(), o.err.end(), '\n') >= 1);
        CHECK_FALSE(contains(o.err, seed::admin_token));
        CHECK_FALSE(contains(o.err, token));
        CHECK_FALSE(contains(o.err, seed::service_client_secret));
        CHECK_FALSE(contains(o.out, token));
    }
}

TEST_CASE("CLI: --json prints what the server sent, never a required key it left out")
{
    using genesys_adapters_test::loopback_server;
    auto json_of = [](std::string_view body, const char* command) {
        loopback_server server({genesys_adapters_test::reply(
            genesys_adapters_test::ok(body, "Content-Type: application/json\r\n"))});
        auto r = testproc::run({testproc::built_program(GENESYS_CLI_PATH), "--base-url", server.url(""), "--token",
                                "t-123456789", "--json", command},
                               {{"GENESYS_CLOUD_ACCESS_TOKEN", ""}, {"no_proxy", "*"}, {"NO_PROXY", "*"}});
        INFO("output: ", r.out, r.err);
        CHECK(r.exit_code == 0);
        return boost::json::parse(r.out).as_object();
    };

    // The OAuth client's name and grant type are required by the definition: not sent, not printed.
    const auto bare = json_of(R"({"OAuthClient":{"id":"c-1"},"authorizedScope":[]})", "me");
    CHECK(bare == boost::json::parse(R"({"OAuthClient":{"id":"c-1"},"authorizedScope":[]})"));

    // The same with a role division without its roleId, and odd values the library leaves out.
    const auto me = json_of(R"({"organization":{"id":"o-1"},"authorizedScope":["a",null],)"
                            R"("dateTokenIdles":"2026-11-27 22:15:30","homeOrganization":null,)"
                            R"("OAuthClient":{"id":"c-1","state":"active","dateCreated":"2023-01-01",)"
                            R"("roleDivisions":[{"divisionId":"d-1"},7,{"roleId":"r-2","divisionId":"d-2"},)"
                            R"({"roleId":{},"divisionId":"d-3"}]}})",
                            "me");
    CHECK(me == boost::json::parse(R"({"organization":{"id":"o-1"},"authorizedScope":["a"],)"
                                   R"("dateTokenIdles":"2026-11-27T22:15:30.000Z",)"
                                   R"("OAuthClient":{"id":"c-1","dateCreated":"2023-01-01T00:00:00.000Z",)"
                                   R"("roleDivisions":[{"divisionId":"d-1"},{"roleId":"r-2","divisionId":"d-2"},)"
                                   R"({"divisionId":"d-3"}],"state":"active"}})"));

    // Required keys the server did send, even empty, are printed.
    const auto sent = json_of(R"({"OAuthClient":{"name":"","authorizedGrantType":"CODE"}})", "me");
    CHECK(sent == boost::json::parse(R"({"OAuthClient":{"name":"","authorizedGrantType":"CODE"}})"));

    // A group bundle without timeoutSeconds; a number sent as a string is printed as the number read.
    const auto timeout = json_of(R"({"idleTokenTimeoutSeconds":"900","inactivityTimeoutGroupBundles":)"
                                 R"([{"priority":1,"groups":["g-1"]},{"priority":"high","timeoutSeconds":60}]})",
                                 "timeout");
    CHECK(timeout == boost::json::parse(R"({"idleTokenTimeoutSeconds":900,"inactivityTimeoutGroupBundles":)"
                                        R"([{"priority":1,"groups":["g-1"]},{"timeoutSeconds":60}]})"));
}
