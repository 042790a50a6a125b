// SPDX-License-Identifier: BSL-1.0
// <genesys/async_tokens_api.hpp> on its own: the asynchronous client, with its default
// completion token. Its behaviour in full (every completion token, cancellation, deadlines,
// retries, lifetimes) is tested in async.cpp, through the umbrella <genesys/async.hpp>.
#include <genesys/async_tokens_api.hpp>

#include <genesys/testing/async_fake_transport.hpp>

#include "fixtures.hpp"

#include <boost/asio/deferred.hpp>
#include <boost/asio/io_context.hpp>
#include <doctest/doctest.h>

#include <optional>
#include <type_traits>

namespace asio = boost::asio;

TEST_CASE("async_tokens_api: a call with the default completion token is deferred until launched")
{
    asio::io_context ioc;
    genesys::testing::async_fake_transport fake{ioc.get_executor()};
    fake.respond(fixtures::json_response(200, fixtures::token_info_json));
    genesys::async_tokens_api api{fake, genesys::client_config{.access_token = "test-token"}};

    auto op = api.async_get_tokens_me(true);
    static_assert(asio::is_deferred<decltype(op)>::value);
    ioc.run();
    CHECK(fake.request_count() == 0);
    std::optional<genesys::result<genesys::api_response<genesys::token_info>>> got;
    std::move(op)([&](auto r) { got.emplace(std::move(r)); });
    CHECK_FALSE(got); // never inline
    ioc.restart();
    ioc.run();
    REQUIRE(got);
    REQUIRE(got->has_value());
    CHECK((*got)->data.organization.has_value());
    REQUIRE(fake.request_count() == 1);
    CHECK(fake.last_request()->url == "https://api.mypurecloud.com/api/v2/tokens/me?preserveIdleTTL=true");
}
