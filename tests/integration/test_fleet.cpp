// SPDX-License-Identifier: BSL-1.0
// A fleet of validators sharing one Redis: validator processes of their own
// (genesys_fleet_worker), one redis-server and the emulator, all started here on loopback ports.
// One API call per token for the whole fleet; Redis stopped or killed under load costs the
// sharing, never a wrong validation, and nothing hangs.

#include "emulator.hpp"
#include "emulator_process.hpp"
#include "redis_process.hpp"

#include <doctest/doctest.h>

#include <boost/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using genesys::http_method;
using testproc::temp_dir;

/// Mints `n` tokens the API accepts (the agent of the built-in seed, the desktop client).
std::vector<std::string> mint_tokens(testproc::emulator_process& emu, int n)
{
    std::vector<std::string> out;
    out.reserve(static_cast<std::size_t>(n));
    const std::string body = R"({"user":")" + std::string(genesys_emulator::seed::agent_user_id) + R"(","client":"client-desktop"})";
    for (int i = 0; i < n; ++i) {
        auto r = emu.control(http_method::post, "/__emulator/tokens", body);
        REQUIRE(r.status == 200);
        out.emplace_back(boost::json::parse(r.body).at("access_token").as_string());
    }
    return out;
}

std::uint64_t api_requests(testproc::emulator_process& emu)
{
    return static_cast<std::uint64_t>(emu.stats().at("requests").as_int64());
}

/// A fleet of worker processes, each a validator with its own Redis connections.
struct fleet {
    temp_dir dir;
    std::vector<pid_t> pids;
    std::vector<std::string> reports;

    fleet(int instances, const testproc::emulator_process& emu, const testredis::redis_process& redis,
          const std::vector<std::string>& valid, const std::vector<std::string>& invalid,
          std::vector<std::string> extra)
    {
        {
            std::ofstream key(dir.path() / "fleet.key");
            key << "0123456789abcdef0123456789abcdef-fleet-test-key\n";
            std::ofstream tokens(dir.path() / "tokens");
            for (const auto& t : valid)
                tokens << "V " << t << '\n';
            for (const auto& t : invalid)
                tokens << "I " << t << '\n';
        }
        for (int i = 0; i < instances; ++i) {
            const std::string report = (dir.path() / ("report-" + std::to_string(i))).string();
            std::vector<std::string> argv{testproc::built_program(GENESYS_FLEET_WORKER_PATH),
                                          "--base-url", emu.base_url(),
                                          "--redis-port", std::to_string(redis.port()),
                                          "--redis-password", std::string(testredis::redis_process::password),
                                          "--fleet-key-file", (dir.path() / "fleet.key").string(),
                                          "--tokens", (dir.path() / "tokens").string(),
                                          "--go-file", (dir.path() / "go").string(),
                                          "--report", report};
            argv.insert(argv.end(), extra.begin(), extra.end());
            pids.push_back(testproc::spawn(argv, report + ".log"));
            reports.push_back(report);
        }
    }

    ~fleet()
    {
        for (auto pid : pids)
            if (pid != 0)
                testproc::terminate(pid);
    }

    /// Waits until every instance is connected to Redis, then starts them all at once.
    void go()
    {
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        for (const auto& r : reports) {
            while (!std::filesystem::exists(r + ".ready")) {
                REQUIRE_MESSAGE(std::chrono::steady_clock::now() < until,
                                "an instance did not connect: " << testproc::read_file(r + ".log"));
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
        }
        std::ofstream(dir.path() / "go") << "go\n";
    }

    /// Waits for every instance to end, and returns their reports.
    std::vector<boost::json::object> wait()
    {
        std::vector<boost::json::object> out;
        for (std::size_t i = 0; i < pids.size(); ++i) {
            int status = 0;
            ::waitpid(pids[i], &status, 0);
            pids[i] = 0;
            INFO("instance " << i << ": " << testproc::read_file(reports[i] + ".log"));
            REQUIRE(WIFEXITED(status));
            REQUIRE(WEXITSTATUS(status) == 0);
            out.push_back(boost::json::parse(testproc::read_file(reports[i])).as_object());
        }
        return out;
    }
};

std::uint64_t u(const boost::json::value& v) { return static_cast<std::uint64_t>(v.as_int64()); }

/// Every validation of every instance was right, and none failed.
void check_all_right(const std::vector<boost::json::object>& reports)
{
    for (const auto& r : reports) {
        MESSAGE("validations " << r.at("validations") << ", p99 " << r.at("p99_ms") << " ms, max " << r.at("max_ms")
                               << " ms; shared " << boost::json::serialize(r.at("shared")));
        INFO(boost::json::serialize(r));
        CHECK(u(r.at("wrong")) == 0);
        CHECK(u(r.at("errors")) == 0);
        CHECK(u(r.at("validations")) > 0);
    }
}

std::vector<std::string> bogus_tokens(int n)
{
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i)
        out.push_back("not-a-live-token-" + std::to_string(i) + "-4f1c9a7e");
    return out;
}

} // namespace

TEST_CASE("eight validator processes sharing one Redis make at most 1020 API calls for 1000 tokens")
{
    testredis::redis_process redis;
    testproc::emulator_process emu;
    emu.control(http_method::post, "/__emulator/config", R"({"rateLimit":100000})");
    const auto valid = mint_tokens(emu, 980);
    const auto invalid = bogus_tokens(20);
    const auto before = api_requests(emu);

    // Every instance asks every token 3 times, 64 validations in flight, all in the same order:
    // the instances ask the same token at the same moment. A Redis timeout of 2 s: 8 processes
    // on a loaded machine (a sanitizer build) can wait on Redis longer than the default, and an
    // instance whose breaker opens checks on its own (the cases below test that).
    fleet f(8, emu, redis, valid, invalid, {"--rounds", "3", "--in-flight", "64", "--redis-timeout-ms", "2000"});
    f.go();
    const auto reports = f.wait();
    check_all_right(reports);
    std::uint64_t shared_hits = 0;
    for (const auto& r : reports) {
        CHECK(u(r.at("validations")) == 3000);
        CHECK(u(r.at("valid")) == 3 * 980);
        CHECK(u(r.at("unauthorized")) == 3 * 20);
        shared_hits += u(r.at("shared").at("hits"));
    }
    const auto calls = api_requests(emu) - before;
    MESSAGE("API calls for 1000 tokens, 8 instances: " << calls << "; shared hits: " << shared_hits);
    CHECK(calls >= 1000);
    CHECK(calls <= 1020);
}

/// 4 instances validate 210 tokens for `duration_ms` with 50 in-process entries (most validations
/// ask Redis) and a Redis timeout of 100 ms, while `disturb` acts on Redis one second in. Every
/// validation must be right, none may wait for the troubled Redis (bounded by the API's time plus
/// the timeout, with room for a loaded machine), and every instance must have reconnected.
template <class Disturb>
std::vector<boost::json::object> run_while_redis_fails(int duration_ms, Disturb disturb)
{
    testredis::redis_process redis;
    testproc::emulator_process emu;
    emu.control(http_method::post, "/__emulator/config", R"({"rateLimit":100000})");
    const auto valid = mint_tokens(emu, 200);
    const auto invalid = bogus_tokens(10);
    fleet f(4, emu, redis, valid, invalid,
            {"--duration-ms", std::to_string(duration_ms), "--in-flight", "16", "--max-entries", "50",
             "--redis-timeout-ms", "100"});
    f.go();
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    disturb(redis);
    auto reports = f.wait();
    check_all_right(reports);
    for (const auto& r : reports) {
        INFO(boost::json::serialize(r));
        CHECK(r.at("max_ms").as_double() < 2000.0);
        CHECK(u(r.at("shared").at("reconnects")) >= 1);
        CHECK(u(r.at("shared").at("hits")) > 0);
    }
    return reports;
}

TEST_CASE("Redis stopped (SIGSTOP) under load: every validation right, none stalls, it reconnects")
{
    const auto reports = run_while_redis_fails(4000, [](testredis::redis_process& redis) {
        redis.pause();
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));
        redis.resume();
    });
    for (const auto& r : reports) // it noticed: a command timed out, or was not sent
        CHECK(u(r.at("shared").at("errors")) + u(r.at("shared").at("unavailable")) > 0);
}

TEST_CASE("Redis killed and restarted under load: every validation right, none stalls, it reconnects")
{
    run_while_redis_fails(5000, [](testredis::redis_process& redis) {
        redis.kill();
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        redis.restart(); // the same port, empty
    });
}
