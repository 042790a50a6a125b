// Many threads share one tokens_api over a thread-safe transport. Run under ThreadSanitizer in CI.

#include "fixtures.hpp"

#include <atomic>
#include <mutex>
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

TEST_CASE("concurrency: failures and retries on many threads stay independent")
{
    fake_transport fake;
    // Every third send fails at the network level; the retry makes every call succeed.
    for (std::size_t n = 3; n <= 600; n += 3)
        fake.fail_on(n, boost::system::errc::make_error_code(boost::system::errc::connection_reset));
    fake.respond_by_default({204, {}, {}});
    genesys::client_config cfg{.access_token = std::string(fixtures::secret_token)};
    cfg.retry = genesys::retry_policy::standard(4);
    cfg.retry.sleep = [](std::chrono::milliseconds) {};
    genesys::tokens_api api{fake, cfg};

    std::atomic<int> ok{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < 6; ++t)
        pool.emplace_back([&] {
            for (int i = 0; i < 50; ++i)
                ok += api.try_delete_token("u-" + std::to_string(i)).has_value();
        });
    for (auto& th : pool)
        th.join();
    CHECK(ok == 300);
    CHECK(fake.request_count() >= 300 + 100);
}
