// SPDX-License-Identifier: BSL-1.0
// <genesys/async_oauth_client.hpp> on its own: the asynchronous grants of oauth_client over an
// asynchronous transport. More of them (errors, token sources) in async.cpp.
#include <genesys/async_oauth_client.hpp>

#include <genesys/testing/async_fake_transport.hpp>

#include "fixtures.hpp"

#include <boost/asio/io_context.hpp>
#include <doctest/doctest.h>

#include <optional>

namespace asio = boost::asio;

TEST_CASE("async_oauth_client: a client-credentials grant, never completed inline")
{
    asio::io_context ioc;
    genesys::testing::async_fake_transport login{ioc.get_executor()};
    login.respond(fixtures::json_response(200, R"({"access_token":"a-token","expires_in":60})"));
    genesys::oauth_config oc{.login_url = "https://login.example.com", .client_id = "id", .client_secret = "s3cret-value"};
    genesys::oauth_client client{login, oc};
    std::optional<genesys::result<genesys::api_response<genesys::oauth_token>>> got;
    client.async_client_credentials([&](auto r) { got.emplace(std::move(r)); });
    CHECK_FALSE(got);
    ioc.run();
    REQUIRE(got);
    REQUIRE(got->has_value());
    CHECK((*got)->data.access_token == "a-token");
    REQUIRE(login.request_count() == 1);
    CHECK(login.last_request()->url == "https://login.example.com/oauth/token");
    CHECK(login.last_request()->body == "grant_type=client_credentials");
}
