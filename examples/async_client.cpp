// SPDX-License-Identifier: BSL-1.0
// The asynchronous client, two ways: over the pooled Boost.Beast transport (a coroutine that
// checks a token and reads the organization's idle timeout concurrently), and over the blocking
// libcurl transport run on a thread pool (a callback).
//
//   async_client https://api.mypurecloud.com ACCESS_TOKEN
//
// Without arguments it prints its usage and exits 2.

#include <genesys/async.hpp>
#include <genesys/transport/beast_async.hpp>
#include <genesys/transport/curl.hpp>
#include <genesys/transport/threaded.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <iostream>
#include <string>

namespace asio = boost::asio;

namespace {

genesys::client_config make_config(const std::string& base_url, const std::string& token)
{
    genesys::client_config cfg{.base_url = base_url, .access_token = token};
    cfg.retry = genesys::retry_policy::standard();
    cfg.call_timeout = std::chrono::seconds(30);
    return cfg;
}

asio::awaitable<int> check(genesys::async_tokens_api<genesys::beast_async_transport>& api)
{
    // Both requests in flight at once; each result is the value the try_ form would return.
    auto [order, me, timeout] =
        co_await asio::experimental::make_parallel_group(api.async_get_tokens_me(true), api.async_get_tokens_timeout())
            .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
    (void)order;
    if (!me) {
        std::cerr << "token: " << me.error().message << '\n';
        co_return 1;
    }
    std::cout << "organization: " << me->data.organization.value_or(genesys::named_entity{}).name.value_or("?")
              << '\n';
    if (timeout)
        std::cout << "idle timeout: " << timeout->data.idle_token_timeout_seconds.value_or(0) << " s\n";
    else
        std::cerr << "idle timeout: " << timeout.error().message << '\n';
    co_return 0;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc != 3) {
        std::cerr << "usage: async_client BASE_URL ACCESS_TOKEN\n";
        return 2;
    }
    const std::string base_url = argv[1], token = argv[2];
    asio::io_context ioc;

    // 1. Beast, pooled keep-alive connections on this io_context.
    genesys::async_tokens_api beast_api{genesys::beast_async_transport{ioc.get_executor()},
                                        make_config(base_url, token)};
    int status = 0;
    asio::co_spawn(ioc, check(beast_api), [&](std::exception_ptr e, int s) { status = e ? 3 : s; });

    // 2. libcurl's blocking transport on a pool of two threads; completions come back to `ioc`.
    asio::thread_pool pool(2);
    genesys::async_tokens_api curl_api{
        genesys::threaded_transport<genesys::curl_transport>(ioc.get_executor(), pool.get_executor(), 2),
        make_config(base_url, token)};
    curl_api.async_verify_token([&](genesys::result<genesys::api_response<bool>> r) {
        if (r)
            std::cout << "valid (through curl): " << std::boolalpha << r->data << '\n';
        else
            std::cerr << "verify: " << r.error().message << '\n';
    });

    ioc.run();
    pool.join();
    return status;
}
