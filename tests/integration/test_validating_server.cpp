// SPDX-License-Identifier: BSL-1.0
// The validating_server example against the emulator, both as child processes, driven over
// loopback HTTP: who gets 200, 401, 403 and 503, how long a revoked or idle-expired token stays
// trusted, how many API calls many requests cost, a clean SIGTERM, and no token in its output.

#include "../eventually.hpp"
#include "emulator_process.hpp"

#include <doctest/doctest.h>

#include <boost/json.hpp>

#include <atomic>
#include <chrono>
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
constexpr std::string_view ada_user = "8a1c5e2f-0b3d-4e6a-9c7f-1d2e3f4a5b6c";

// Two organizations; Acme's tokens idle after 900 s. The server below requires Acme and the
// scope "users": client-desktop has it, client-reporter has only "users:readonly".
constexpr std::string_view seed_json = R"({
  "organizations": [
    {"id": "6f0b3c4e-8d2a-4a51-9c3e-2f1d0b7a9e55", "name": "Acme Contact Centre",
     "idleTokenTimeout": {"idleTokenTimeoutSeconds": 900, "enableIdleTokenTimeout": true}},
    {"id": "1e5a7c9b-3d2f-4b6a-8e0c-9f8a7b6c5d4e", "name": "Globex Support",
     "idleTokenTimeout": {"idleTokenTimeoutSeconds": 900, "enableIdleTokenTimeout": false}}
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
     "authorizedGrantType": "CODE", "scope": ["users", "oauth"]}
  ]
})";

bool contains(std::string_view haystack, std::string_view needle) { return haystack.find(needle) != std::string_view::npos; }

/// Polls `done` every 20 ms until it is true or `limit` has passed; returns its last value.
/// `testwait::eventually`, asking every 20 ms: each question here is a request or reads a log.
template <class F>
bool eventually(F done, std::chrono::milliseconds limit = 10s)
{
    return testwait::eventually(done, limit, 20ms);
}

/// The validating_server example as a child process on a free port, stopped with SIGTERM.
class server_process {
public:
    server_process(const std::string& api, const std::vector<std::string>& extra_args)
        : proc_(arguments(api, extra_args))
    {
    }

    /// SIGTERM, then wait for the exit (SIGKILL after 5 s). Returns the exit status, -1 if killed.
    int stop() { return proc_.stop(); }

    std::string url(std::string_view path) const
    {
        return "http://127.0.0.1:" + std::to_string(proc_.port()) + std::string(path);
    }
    std::string log() const { return proc_.log(); }

private:
    static std::vector<std::string> arguments(const std::string& api, const std::vector<std::string>& extra_args)
    {
        std::vector<std::string> argv{testproc::built_program(GENESYS_VALIDATING_SERVER_PATH), "--api", api, "--org", std::string(acme_org)};
        argv.insert(argv.end(), extra_args.begin(), extra_args.end());
        return argv;
    }

    testproc::child_server proc_;
};

/// GET `url` with `authorization` as the Authorization field (none when empty). Throws on a
/// network failure.
genesys::http_response get(genesys::curl_transport& client, const std::string& url, std::string_view authorization)
{
    genesys::http_request req{http_method::get, url, {}, {}};
    if (!authorization.empty())
        req.headers.set("Authorization", std::string(authorization));
    auto r = client.send(req);
    if (!r)
        throw std::runtime_error("GET " + url + " failed: " + r.error().message());
    return std::move(*r);
}

std::string bearer(std::string_view token) { return "Bearer " + std::string(token); }

/// The emulator with the seed above and the example in front of it; checks on the way out that
/// the server stopped cleanly and that its output names none of the tokens used.
struct fixture {
    testproc::temp_dir seed_dir;
    std::string seed_file = write_seed(seed_dir);
    testproc::emulator_process emu;
    server_process server;
    genesys::curl_transport client;
    std::vector<std::string> tokens; // every token the test sent; none may be in the server's output

    explicit fixture(std::vector<std::string> server_args = {"--scope", "users"}, bool tls = false)
        : emu(tls, {"--seed", seed_file}), server(emu.base_url(), server_args)
    {
    }

    ~fixture()
    {
        CHECK(server.stop() == 0);
        const std::string output = server.log();
        CHECK(contains(output, "validating_server listening on http://127.0.0.1:"));
        for (const auto& t : tokens) {
            CAPTURE(output);
            CHECK_FALSE(contains(output, t));
        }
    }

    static std::string write_seed(const testproc::temp_dir& dir)
    {
        const auto path = dir.path() / "seed.json";
        std::ofstream(path) << seed_json;
        return path.string();
    }

    /// A new token of `client` (and `user`, if given), minted by the emulator.
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

    genesys::http_response whoami(std::string_view authorization) { return get(client, server.url("/whoami"), authorization); }

    /// API requests the emulator has served (control requests are not counted).
    std::int64_t api_calls() { return emu.stats().at("requests").as_int64(); }

    /// Moves the emulator's clock (only the emulator's: the server's cache keeps real time).
    void advance_emulator_clock(int seconds)
    {
        auto r = emu.control(http_method::post, "/__emulator/clock", R"({"advanceSeconds":)" + std::to_string(seconds) + "}");
        REQUIRE(r.status == 200);
    }

    /// DELETE /api/v2/tokens/me with `token`, straight to the emulator.
    void revoke(const std::string& token)
    {
        auto r = client.send({http_method::delete_, emu.base_url() + "/api/v2/tokens/me", {{"Authorization", bearer(token)}}, {}});
        REQUIRE(r.has_value());
        REQUIRE(r->status == 200);
    }
};

/// A JSON string's text, or "(not a string)".
std::string text(const boost::json::value& v) { return v.is_string() ? std::string(v.get_string()) : "(not a string)"; }

boost::json::object json_body(const genesys::http_response& r)
{
    boost::system::error_code ec;
    auto v = boost::json::parse(r.body, ec);
    REQUIRE_MESSAGE(!ec, "not JSON: " << r.body);
    REQUIRE(v.is_object());
    return v.as_object();
}

/// A 401 with a Bearer challenge and a JSON error body.
void check_unauthorized(const genesys::http_response& r)
{
    CAPTURE(r.body);
    CHECK(r.status == 401);
    CHECK(r.headers.get("WWW-Authenticate").value_or("").rfind("Bearer", 0) == 0);
    CHECK(r.headers.get("Content-Type") == "application/json");
    CHECK(json_body(r).contains("error"));
}

/// `whoami` until it is no longer 200 (10 s at most). Returns that response and when it came
/// (the server trusts its cache for 1 s, so no fixed sleep: each request before then is a hit).
std::pair<genesys::http_response, std::chrono::steady_clock::time_point> first_refusal(fixture& f,
                                                                                      const std::string& token)
{
    genesys::http_response last;
    std::chrono::steady_clock::time_point at;
    eventually([&] {
        last = f.whoami(bearer(token));
        at = std::chrono::steady_clock::now();
        return last.status != 200;
    });
    return {last, at};
}

} // namespace

TEST_CASE("validating_server: a valid token gets 200 on GET /whoami with its organization and OAuth client")
{
    fixture f;
    const auto token = f.mint("client-desktop", ada_user);
    auto r = f.whoami(bearer(token));
    CAPTURE(r.body);
    REQUIRE(r.status == 200);
    CHECK(r.headers.get("Content-Type") == "application/json");
    auto body = json_body(r);
    CHECK(text(body.at("organization").at("id")) == acme_org);
    CHECK(text(body.at("organization").at("name")) == "Acme Contact Centre");
    CHECK(text(body.at("oauthClient").at("id")) == "client-desktop");
    CHECK(text(body.at("oauthClient").at("name")) == "Agent Desktop");

    // The scheme is case-insensitive; the answer came from the cache.
    CHECK(f.whoami("bearer " + token).status == 200);
    CHECK(f.api_calls() == 1);

    // Every endpoint needs the token, and only GET /whoami exists.
    CHECK(get(f.client, f.server.url("/other"), {}).status == 401);
    CHECK(get(f.client, f.server.url("/other"), bearer(token)).status == 404);
    auto post = f.client.send({http_method::post, f.server.url("/whoami"), {{"Authorization", bearer(token)}}, "{}"});
    REQUIRE(post.has_value());
    CHECK(post->status == 405);
}

TEST_CASE("validating_server: no token, a malformed token and an unknown token get 401")
{
    fixture f;
    auto none = f.whoami({});
    check_unauthorized(none);
    CHECK_FALSE(contains(none.headers.get("WWW-Authenticate").value_or(""), "error="));

    // No Bearer credentials: a challenge without an error code (RFC 6750, section 3.1).
    for (std::string_view other : {"Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc"}) {
        CAPTURE(other);
        auto r = f.whoami(other);
        check_unauthorized(r);
        CHECK_FALSE(contains(r.headers.get("WWW-Authenticate").value_or(""), "error="));
    }
    for (std::string_view malformed : {"Bearer a b", "Bearer tok\"en", "Bearer ===", "Bearer t\xc3\xa9"}) {
        CAPTURE(malformed);
        auto r = f.whoami(malformed);
        check_unauthorized(r);
        CHECK(contains(r.headers.get("WWW-Authenticate").value_or(""), R"(error="invalid_token")"));
    }
    CHECK(f.api_calls() == 0); // none of them is sent to the API

    f.tokens.push_back("not-a-token-the-emulator-issued");
    auto unknown = f.whoami(bearer(f.tokens.back()));
    check_unauthorized(unknown);
    CHECK(contains(unknown.headers.get("WWW-Authenticate").value_or(""), R"(error="invalid_token")"));
    CHECK(text(json_body(unknown).at("error")) == "invalid_token");
    CHECK(f.api_calls() == 1);
}

TEST_CASE("validating_server: a valid token of another organization gets 403")
{
    fixture f;
    const auto token = f.mint("client-globex");
    auto r = f.whoami(bearer(token));
    CAPTURE(r.body);
    CHECK(r.status == 403);
    CHECK(contains(r.headers.get("WWW-Authenticate").value_or(""), "insufficient_scope"));
    CHECK(text(json_body(r).at("error")) == "insufficient_scope");
    CHECK_FALSE(contains(r.body, globex_org)); // the refusal names no organization
    CHECK(f.whoami(bearer(token)).status == 403);
    CHECK(f.api_calls() == 1); // a refused valid token is cached like any other
}

TEST_CASE("validating_server: a valid token without a required scope gets 403")
{
    fixture f{{"--scope", "users", "--scope", "oauth"}};
    const auto reporter = f.mint("client-reporter"); // "users:readonly" is not "users"
    auto r = f.whoami(bearer(reporter));
    CAPTURE(r.body);
    CHECK(r.status == 403);
    CHECK(contains(r.headers.get("WWW-Authenticate").value_or(""), R"(scope="users oauth")"));
    CHECK(f.whoami(bearer(f.mint("client-desktop"))).status == 200); // has both
}

TEST_CASE("validating_server: a token revoked while cached gets 200 until its entry expires (--max-age 1), then 401")
{
    fixture f{{"--scope", "users", "--max-age", "1"}};
    const auto token = f.mint("client-desktop", ada_user);
    const auto first_sent = std::chrono::steady_clock::now();
    REQUIRE(f.whoami(bearer(token)).status == 200);
    f.revoke(token);

    auto cached = f.whoami(bearer(token));
    if (std::chrono::steady_clock::now() - first_sent < 900ms) // else the entry may have expired: too slow to tell
        CHECK(cached.status == 200);
    else
        MESSAGE("too slow to check that the revoked token was still trusted");

    auto [refused, at] = first_refusal(f, token);
    check_unauthorized(refused);
    CHECK(at - first_sent >= 900ms); // not before the entry expired (100 ms for the two clocks)
    CHECK(f.api_calls() == 3);       // the first check, the revocation, the check after expiry
}

TEST_CASE("validating_server: an idle-expired token gets 401 once the cache stops trusting it")
{
    fixture f{{"--scope", "users", "--max-age", "1"}};
    const auto token = f.mint("client-desktop", ada_user);
    const auto first_sent = std::chrono::steady_clock::now();
    REQUIRE(f.whoami(bearer(token)).status == 200);
    f.advance_emulator_clock(901); // Acme's idle timeout is 900 s; the server does not extend it

    auto cached = f.whoami(bearer(token));
    if (std::chrono::steady_clock::now() - first_sent < 900ms)
        CHECK(cached.status == 200);
    else
        MESSAGE("too slow to check that the idle token was still trusted");

    auto [refused, at] = first_refusal(f, token);
    check_unauthorized(refused);
    CHECK(at - first_sent >= 900ms);
    CHECK(f.api_calls() == 2);

    // A token minted after the clock moved is live: the 401 was the idle timeout's.
    CHECK(f.whoami(bearer(f.mint("client-desktop", ada_user))).status == 200);
}

TEST_CASE("validating_server: many requests with one token, 8 connections at once, cost one API call")
{
    fixture f;
    const auto token = f.mint("client-desktop", ada_user);
    std::atomic<int> ok{0}, other{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < 8; ++c)
        clients.emplace_back([&] {
            genesys::curl_transport mine;
            for (int i = 0; i < 25; ++i) {
                auto r = mine.send({http_method::get, f.server.url("/whoami"), {{"Authorization", bearer(token)}}, {}});
                (r && r->status == 200 ? ok : other)++;
            }
        });
    for (auto& t : clients)
        t.join();
    CHECK(ok == 200);
    CHECK(other == 0);
    CHECK(f.api_calls() == 1);
}

TEST_CASE("validating_server: when the API cannot say (5xx, 429, unreachable) it answers 503, a 5xx is not kept, a 429 until its Retry-After")
{
    fixture f;
    const auto token = f.mint("client-desktop", ada_user);
    REQUIRE(f.emu.control(http_method::post, "/__emulator/faults", R"({"mode":"server_error","count":1})").status ==
            204);
    auto r = f.whoami(bearer(token));
    CAPTURE(r.body);
    CHECK(r.status == 503);
    CHECK(json_body(r).contains("error"));
    CHECK(f.whoami(bearer(token)).status == 200); // asked again: the 5xx was not kept
    CHECK(f.api_calls() == 2);

    // A 429 is remembered for its token until its Retry-After: asked again meanwhile, the server
    // answers 503 without calling the API (the token's budget is spent; asking would not help).
    const auto limited = f.mint("client-desktop", ada_user);
    REQUIRE(f.emu.control(http_method::post, "/__emulator/faults", R"({"mode":"rate_limited","ms":30000,"count":1})")
                .status == 204);
    r = f.whoami(bearer(limited));
    CAPTURE(r.body);
    CHECK(r.status == 503);
    CHECK(json_body(r).contains("error"));
    CHECK(f.api_calls() == 3);
    CHECK(f.whoami(bearer(limited)).status == 503);
    CHECK(f.api_calls() == 3);

    const auto fresh = f.mint("client-desktop", ada_user);
    f.emu.stop();
    CHECK(f.whoami(bearer(fresh)).status == 503);
    CHECK(f.whoami(bearer(token)).status == 200); // still trusted from the cache
}

TEST_CASE("validating_server: an https API is trusted with --ca-file, and only then")
{
    const std::string ca = testproc::tls_material::get().cert;
    fixture trusting{{"--ca-file", ca}, true};
    REQUIRE(trusting.emu.tls());
    const auto token = trusting.mint("client-desktop", ada_user);
    CHECK(trusting.whoami(bearer(token)).status == 200);

    fixture untrusting{{}, true}; // the system's CAs do not know the test certificate
    auto r = untrusting.whoami(bearer(untrusting.mint("client-desktop", ada_user)));
    CHECK(r.status == 503);
    CHECK(contains(untrusting.server.log(), "certificate verify failed"));
}

TEST_CASE("validating_server: SIGTERM while a validation is in flight stops it at once and cleanly")
{
    fixture f;
    const auto token = f.mint("client-desktop", ada_user);
    REQUIRE(f.emu.control(http_method::post, "/__emulator/faults", R"({"mode":"delay","ms":8000,"count":1})").status ==
            204);
    std::optional<bool> answered;
    std::thread caller([&] {
        genesys::curl_transport mine;
        auto r = mine.send({http_method::get, f.server.url("/whoami"), {{"Authorization", bearer(token)}}, {}});
        answered = static_cast<bool>(r);
    });
    const bool in_flight = eventually([&] { return f.api_calls() == 1; });
    const auto stopping = std::chrono::steady_clock::now();
    const int status = f.server.stop();
    const auto took = std::chrono::steady_clock::now() - stopping;
    caller.join();
    CHECK(in_flight);
    CHECK(status == 0);
    CHECK(took < 3s); // not after the 8 s delay
    REQUIRE(answered.has_value());
    CHECK_FALSE(*answered); // the connection closed without an answer
    CHECK(contains(f.server.log(), "validating_server stopped"));
}

TEST_CASE("validating_server: a command line without --org, or with a bad option, is a usage error (exit 2)")
{
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
        {{"--api", "http://127.0.0.1:9"}, "--org is required"},
        {{"--org", std::string(acme_org), "--port", "65536"}, "--port needs a whole number from 0 to 65535"},
        {{"--org", std::string(acme_org), "--max-age", "soon"}, "--max-age needs a whole number"},
        {{"--org", std::string(acme_org), "--scope"}, "--scope needs a value"},
        {{"--org", std::string(acme_org), "--verbose"}, "unknown option --verbose"},
    };
    for (const auto& c : cases) {
        const std::string& message = c.second;
        CAPTURE(message);
        std::vector<std::string> argv{testproc::built_program(GENESYS_VALIDATING_SERVER_PATH)};
        argv.insert(argv.end(), c.first.begin(), c.first.end());
        auto r = testproc::run(argv);
        CHECK(r.exit_code == 2);
        CHECK(contains(r.err, message));
        CHECK(contains(r.err, "usage: validating_server --org ORG_ID"));
    }
}
