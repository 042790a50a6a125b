// SPDX-License-Identifier: BSL-1.0
// <genesys/detail/client_core.hpp>: what the blocking and the asynchronous Tokens clients share:
// the request check every operation passes before sending (here: putTokensTimeout's body bounds;
// the asynchronous form's test is in tests/unit/async.cpp).
#include <genesys/detail/client_core.hpp>

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
