// SPDX-License-Identifier: BSL-1.0
// Many threads share one tokens_api over a thread-safe transport. Run under ThreadSanitizer in CI.

#include "fixtures.hpp"

#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

using genesys::testing::fake_transport;

TEST_CASE("concurrency: many threads share one tokens_api, with retries and a logger")
{
    fake_transport fake;
    fake.respond_by_default({200, {{"ININ-Correlation-Id", "c"}}, std::string(fixtures::token_info_json)});
    std::mutex log_mutex;
    std::size_t logged = 0;
    genesys::client_config cfg{.access_token = std::string(fixtures::secret_token)};
    cfg.retry = genesys::retry_policy::standard(3);
    cfg.retry.sleep = [](std::chrono::milliseconds) {};
    cfg.logger = [&](const genesys::log_event& e) {
        std::lock_guard lock(log_mutex);
        logged += e.status == 200;
    };
    genesys::tokens_api api{fake, cfg};

    constexpr int threads = 8, calls = 40;
    std::atomic<int> ok{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            for (int i = 0; i < calls; ++i) {
                switch ((t + i) % 3) {
                case 0: ok += api.get_tokens_me().oauth_client->name == "Agent Desktop Integration"; break;
                case 1: ok += api.verify_token(); break;
                default: ok += api.try_delete_token("user-" + std::to_string(i)).has_value(); break;
                }
            }
        });
    for (auto& th : pool)
        th.join();
    CHECK(ok == threads * calls);
    CHECK(fake.request_count() == threads * calls);
    CHECK(logged == static_cast<std::size_t>(threads * calls));
}

namespace {

/// Fails the first send of every URL with a network error and answers the rest: every call
/// needs exactly one retry, however the threads interleave.
struct first_attempt_fails {
    struct state {
        std::mutex mutex;
        std::set<std::string> seen;
    };
    fake_transport inner;
    std::shared_ptr<state> shared = std::make_shared<state>();

    boost::system::result<genesys::http_response> send(const genesys::http_request& req)
    {
        {
            std::lock_guard lock(shared->mutex);
            if (shared->seen.insert(req.url).second)
                return boost::system::errc::make_error_code(boost::system::errc::connection_reset);
        }
        return inner.send(req);
    }
};

} // namespace

TEST_CASE("concurrency: failures and retries on many threads stay independent")
{
    fake_transport fake;
    fake.respond_by_default({204, {}, {}});
    genesys::client_config cfg{.access_token = std::string(fixtures::secret_token)};
    cfg.retry = genesys::retry_policy::standard(2);
    cfg.retry.sleep = [](std::chrono::milliseconds) {};
    std::atomic<int> attempts_seen{0};
    cfg.logger = [&](const genesys::log_event& e) { attempts_seen += e.attempt; };
    genesys::tokens_api api{first_attempt_fails{fake}, cfg};

    constexpr int threads = 6, calls = 50;
    std::atomic<int> ok{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            for (int i = 0; i < calls; ++i) {
                // Appended, not "t" + std::to_string(t) + ...: g++ 12 at -O2 warns on that
                // (-Wstringop-overflow, a false positive, GCC PR 105651).
                std::string id = "t";
                id += std::to_string(t);
                id += "-u";
                id += std::to_string(i);
                ok += api.try_delete_token(id).has_value();
            }
        });
    for (auto& th : pool)
        th.join();
    CHECK(ok == threads * calls);
    CHECK(fake.request_count() == threads * calls);   // the successful second attempts
    CHECK(attempts_seen == threads * calls * (1 + 2)); // attempt 1 and attempt 2 of every call
}
