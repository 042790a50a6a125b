// <genesys/detail/client_core.hpp>: what the blocking and the asynchronous Tokens clients share:
// the request check every operation passes before sending (here: putTokensTimeout's body bounds).
#include <genesys/detail/client_core.hpp>

#include <genesys/async.hpp>
#include <genesys/testing/async_fake_transport.hpp>

#include "fixtures.hpp"

#include <boost/asio/io_context.hpp>
#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <string>

namespace client_core_test {

genesys::idle_token_timeout timeout_of(std::optional<std::int64_t> seconds)
{
    genesys::idle_token_timeout t;
    t.enable_idle_token_timeout = true;
    t.idle_token_timeout_seconds = seconds;
    return t;
}

} // namespace client_core_test

TEST_CASE("detail/client_core: prepare refuses a putTokensTimeout body below the definition's minimum")
{
    using client_core_test::timeout_of;
    genesys::client_config config;
    config.access_token = "tok-0123456789";
    const genesys::detail::client_core core(config);

    genesys::http_request req;
    auto refused = core.prepare(req, genesys::routes::put_tokens_timeout, {},
                                genesys::detail::put_tokens_timeout_body(timeout_of(299)));
    REQUIRE(refused.has_value());
    CHECK(refused->kind == genesys::error_kind::invalid_argument);
    CHECK(refused->message ==
          "putTokensTimeout rejected before sending: idle_token_timeout_seconds is 299, below the API definition's "
          "minimum of 300 (5 minutes)");
    CHECK(req.url.empty()); // nothing was built to send

    for (std::optional<std::int64_t> good : {std::optional<std::int64_t>(300), std::optional<std::int64_t>()}) {
        genesys::http_request ok;
        CHECK_FALSE(core.prepare(ok, genesys::routes::put_tokens_timeout, {},
                                 genesys::detail::put_tokens_timeout_body(timeout_of(good)))
                        .has_value());
        CHECK(ok.url == "https://api.mypurecloud.com/api/v2/tokens/timeout");
    }

    CHECK(genesys::detail::request_problem(timeout_of(299)) ==
          "idle_token_timeout_seconds is 299, below the API definition's minimum of 300 (5 minutes)");
    CHECK(genesys::detail::request_problem(timeout_of(std::nullopt)).empty());
    CHECK(genesys::detail::put_tokens_timeout_problem("not json").empty()); // the client never makes one
}

TEST_CASE("detail/client_core: async_put_tokens_timeout refuses it too, nothing sent, the handler called once")
{
    boost::asio::io_context ioc;
    genesys::testing::async_fake_transport fake{ioc.get_executor()};
    fake.respond_by_default(fixtures::json_response(200, fixtures::idle_timeout_json));
    genesys::client_config config;
    config.access_token = "tok-0123456789";
    genesys::async_tokens_api api{fake, config};

    int calls = 0;
    std::optional<genesys::result<genesys::api_response<genesys::idle_token_timeout>>> got;
    api.async_put_tokens_timeout(client_core_test::timeout_of(60),
                                 [&](genesys::result<genesys::api_response<genesys::idle_token_timeout>> r) {
                                     ++calls;
                                     got.emplace(std::move(r));
                                 });
    CHECK(calls == 0); // never inline
    ioc.run();
    CHECK(calls == 1);
    REQUIRE(got.has_value());
    REQUIRE(got->has_error());
    CHECK(got->error().kind == genesys::error_kind::invalid_argument);
    CHECK(got->error().message.find("idle_token_timeout_seconds is 60, below the API definition's minimum of 300") !=
          std::string::npos);
    CHECK(fake.request_count() == 0);

    api.async_put_tokens_timeout(client_core_test::timeout_of(300),
                                 [&](genesys::result<genesys::api_response<genesys::idle_token_timeout>> r) {
                                     ++calls;
                                     got.emplace(std::move(r));
                                 });
    ioc.restart();
    ioc.run();
    CHECK(calls == 2);
    REQUIRE(got.has_value());
    CHECK(got->has_value());
    CHECK(fake.request_count() == 1);
}
