// SPDX-License-Identifier: BSL-1.0
// The asynchronous API's compile cost: <genesys/async.hpp> (Boost.Asio), async_tokens_api with every
// operation started with a callback, over the asynchronous fake transport or, with
// GENESYS_COMPILE_COST_BEAST defined, over beast_async_transport (Boost.Beast, OpenSSL).
#include <genesys/async.hpp>
#if defined(GENESYS_COMPILE_COST_BEAST)
#include <genesys/transport/beast_async.hpp>
#else
#include <genesys/testing/async_fake_transport.hpp>
#endif

#include <boost/asio/io_context.hpp>

int main()
{
    boost::asio::io_context ioc;
#if defined(GENESYS_COMPILE_COST_BEAST)
    genesys::beast_async_transport transport{ioc.get_executor()};
#else
    genesys::testing::async_fake_transport transport{ioc.get_executor()};
#endif
    genesys::async_tokens_api api{transport, {.access_token = "token"}};
    int done = 0;
    auto count = [&](const auto& r) { done += r ? 1 : 0; };
    api.async_verify_token(count);
    api.async_get_tokens_me(true, count);
    api.async_delete_token("0d6f2a31-5b7c-4e8d-9f10-1a2b3c4d5e6f", count);
    api.async_delete_tokens_me(count);
    api.async_get_tokens_timeout(count);
    api.async_put_tokens_timeout({}, count);
    ioc.run();
    return done;
}
