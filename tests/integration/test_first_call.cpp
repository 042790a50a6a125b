// SPDX-License-Identifier: BSL-1.0
// The README's quick start as a user runs it: the emulator program (its default port, --help and
// --print-seed), examples/first_call against it, and the README showing that program verbatim.
// Run from the source tree (the tests' working directory), both programs as child processes.

#include "emulator_process.hpp"

#include "emulator.hpp"

#include <doctest/doctest.h>

#include <boost/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace {

namespace emu = genesys_emulator;

bool has(std::string_view haystack, std::string_view needle) { return haystack.find(needle) != std::string_view::npos; }

std::string first_call() { return testproc::built_program(GENESYS_FIRST_CALL_PATH); }
std::string emulator() { return testproc::built_program(GENESYS_EMULATOR_PATH); }

/// examples/first_call.cpp as the README shows it: without its first line (the SPDX licence line).
std::string first_call_source_without_licence_line()
{
    const std::string source = testproc::read_file("examples/first_call.cpp");
    REQUIRE_MESSAGE(source.starts_with("// SPDX-License-Identifier: BSL-1.0\n"),
                    "run from the source tree: examples/first_call.cpp not found or without its licence line");
    return source.substr(source.find('\n') + 1);
}

} // namespace

TEST_CASE("first_call: prints the organization, client and idle time of the emulator's seeded token")
{
    ::unsetenv("GENESYS_CLOUD_ACCESS_TOKEN"); // the program falls back to the seeded token
    testproc::emulator_process emulator_proc;
    const auto r = testproc::run({first_call(), emulator_proc.base_url()});
    INFO(r.out, r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
    CHECK(r.out.starts_with("organization: Acme Contact Centre\n"
                            "client:       Agent Desktop\n"
                            "idles at:     20"));
    CHECK(r.out.ends_with("Z\n"));
}

TEST_CASE("first_call: takes the token from GENESYS_CLOUD_ACCESS_TOKEN")
{
    testproc::emulator_process emulator_proc;
    const auto issued = boost::json::parse(
        emulator_proc.control(genesys::http_method::post, "/__emulator/tokens", R"({"client":"client-service"})").body);
    const std::string token(issued.at("access_token").as_string().c_str());

    const auto r = testproc::run({first_call(), emulator_proc.base_url()}, {{"GENESYS_CLOUD_ACCESS_TOKEN", token}});
    INFO(r.out, r.err);
    CHECK(r.exit_code == 0);
    CHECK(has(r.out, "organization: Acme Contact Centre\n"));
    CHECK(has(r.out, "client:       Token Service\n"));
}

TEST_CASE("first_call: exits non-zero with the error's message, never the token")
{
    testproc::emulator_process emulator_proc;
    SUBCASE("a token the server does not know: the 401")
    {
        const auto r = testproc::run({first_call(), emulator_proc.base_url()},
                                     {{"GENESYS_CLOUD_ACCESS_TOKEN", "no-such-token-5f3a"}});
        INFO(r.out, r.err);
        CHECK(r.exit_code == 1);
        CHECK(r.out.empty());
        CHECK(has(r.err, "error: "));
        CHECK(has(r.err, "401"));
        CHECK_FALSE(has(r.err, "no-such-token-5f3a"));
    }
    SUBCASE("no server there: the network error")
    {
        const std::string url = emulator_proc.base_url();
        emulator_proc.stop();
        const auto r = testproc::run({first_call(), url}, {{"GENESYS_CLOUD_ACCESS_TOKEN", "a-token-4c2e"}});
        INFO(r.out, r.err);
        CHECK(r.exit_code == 1);
        CHECK(has(r.err, "error: "));
        CHECK(has(r.err, "network"));
        CHECK_FALSE(has(r.err, "a-token-4c2e"));
    }
}

TEST_CASE("first_call: its default base URL is the one the emulator listens on by default")
{
    const std::string url = "http://127.0.0.1:" + std::to_string(emu::default_port);
    CHECK(has(testproc::read_file("examples/first_call.cpp"), "\"" + url + "\""));
    const auto help = testproc::run({emulator(), "--help"});
    CHECK(help.exit_code == 0);
    CHECK(has(help.out, "(default " + std::to_string(emu::default_port) + ")"));
}

TEST_CASE("first_call: README.md shows examples/first_call.cpp verbatim, without its licence line, in a cpp block")
{
    const std::string readme = testproc::read_file("README.md");
    const std::string block = "```cpp\n" + first_call_source_without_licence_line() + "```\n";
    CHECK_MESSAGE(has(readme, block), "README.md has no ```cpp block equal to examples/first_call.cpp without "
                                      "its first line:\n"
                                          << block);
}

TEST_CASE("emulator program: --print-seed prints the seed for people, --json as --seed takes it, and exits")
{
    SUBCASE("the built-in seed")
    {
        const auto r = testproc::run({emulator(), "--print-seed"});
        INFO(r.err);
        CHECK(r.exit_code == 0);
        CHECK(r.err.empty());
        CHECK(has(r.out, emu::describe_seed(emu::default_seed())));
        const auto json = testproc::run({emulator(), "--print-seed", "--json"});
        CHECK(json.exit_code == 0);
        CHECK(boost::json::parse(json.out) == boost::json::parse(emu::default_seed()));
    }
    SUBCASE("a seed file")
    {
        testproc::temp_dir dir;
        const auto file = (dir.path() / "seed.json").string();
        std::ofstream(file) << R"({"organizations": [{"id": "org-x", "name": "Initech"}],
            "clients": [{"id": "x-app", "secret": "x-secret", "name": "X", "organization": "org-x",
                         "authorizedGrantType": "CLIENT-CREDENTIALS"}]})";
        const auto r = testproc::run({emulator(), "--seed", file, "--print-seed"});
        INFO(r.err);
        CHECK(r.exit_code == 0);
        CHECK(has(r.out, emu::describe_seed(testproc::read_file(file))));
        CHECK_FALSE(has(r.out, emu::seed::admin_token));
        const auto json = testproc::run({emulator(), "--print-seed", "--json", "--seed", file});
        CHECK(boost::json::parse(json.out) == boost::json::parse(testproc::read_file(file)));
    }
}

TEST_CASE("emulator program: --help names --print-seed and the built-in clients, secrets and tokens")
{
    const auto r = testproc::run({emulator(), "--help"});
    CHECK(r.exit_code == 0);
    INFO(r.out);
    CHECK(has(r.out, "--print-seed"));
    for (auto s : {emu::seed::service_client_id, emu::seed::service_client_secret, emu::seed::readonly_client_id,
                   emu::seed::readonly_client_secret, emu::seed::desktop_client_id, emu::seed::saml_client_id,
                   emu::seed::saml_client_secret, emu::seed::admin_token, emu::seed::agent_token})
        CHECK_MESSAGE(has(r.out, s), s);
}

TEST_CASE("emulator program: a port already taken is an error that says so, without the usage text")
{
    testproc::emulator_process first;
    const auto r = testproc::run({emulator(), "--port", std::to_string(first.port())});
    INFO(r.out, r.err);
    CHECK(r.exit_code == 2);
    CHECK(has(r.err, "cannot listen on 127.0.0.1:" + std::to_string(first.port())));
    CHECK(has(r.err, "--port"));
    CHECK_FALSE(has(r.err, "usage:"));
}
