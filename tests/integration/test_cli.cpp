// The genesys-tokens command-line tool against the emulator: output, exit codes, and the
// token never printed.

#include "emulator_process.hpp"
#include "emulator.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

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
        args.insert(args.begin(), {GENESYS_CLI_PATH, "--base-url", emu.base_url()});
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
    auto r = testproc::run({GENESYS_CLI_PATH, "--region", "mars_north_1", "--token", "t-123456789", "me"});
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, "unknown region mars_north_1"));
}

TEST_CASE("network errors exit 4")
{
    auto r = testproc::run({GENESYS_CLI_PATH, "--base-url", "http://127.0.0.1:1", "--token", "net-token-123456", "verify"});
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
