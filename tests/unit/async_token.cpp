// SPDX-License-Identifier: BSL-1.0
// <genesys/async_token.hpp> on its own: waiting for a token source's token without blocking, with
// the default completion token (deferred). The rest of async_token's rules are in async.cpp.
#include <genesys/async_token.hpp>

#include <genesys/async_oauth_client.hpp>
#include <genesys/oauth_token_sources.hpp>
#include <genesys/testing/async_fake_transport.hpp>

#include "fixtures.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <type_traits>

namespace asio = boost::asio;

TEST_CASE("async_token: the default completion token is deferred, the fetch starts when it is launched")
{
    asio::io_context ioc;
    genesys::testing::async_fake_transport login{ioc.get_executor()};
    login.respond(fixtures::json_response(200, R"({"access_token":"a-token","expires_in":3600})"));
    genesys::oauth_config oc{.login_url = "https://login.example.com", .client_id = "id", .client_secret = "s3cret-value"};
    auto source = genesys::make_client_credentials_source(genesys::oauth_client{login, oc});

    auto op = genesys::async_token(*source, ioc.get_executor());
    static_assert(asio::is_deferred<decltype(op)>::value);
    ioc.run();
    CHECK(login.request_count() == 0); // not launched yet
    std::optional<genesys::result<std::string>> got;
    std::move(op)([&](genesys::result<std::string> r) { got = std::move(r); });
    CHECK_FALSE(got); // never inline
    ioc.restart();
    ioc.run();
    REQUIRE(got);
    CHECK(got->value() == "a-token");
    CHECK(login.request_count() == 1);

    std::optional<std::string> awaited;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            auto r = co_await genesys::async_token(*source, ioc.get_executor());
            awaited = r.value();
        },
        asio::detached);
    ioc.restart();
    ioc.run();
    CHECK(awaited == "a-token"); // the cached token
    CHECK(login.request_count() == 1);
}
