// SPDX-License-Identifier: BSL-1.0
// <genesys/detail/failure.hpp>: one redaction of an error's texts, and one path from a 2xx body
// to a model, for the Tokens client and the OAuth client.
#include <genesys/detail/failure.hpp>

#include <doctest/doctest.h>

#include <string>
#include <string_view>

namespace {

constexpr std::string_view secret = "s3cret-token-0123456789";

genesys::error error_everywhere()
{
    const std::string s(secret);
    genesys::error e;
    e.message = "m " + s;
    e.raw_body = "b " + s;
    e.correlation_id = "c " + s;
    e.headers.add("X-Echo", "h " + s);
    genesys::error_body body;
    body.message = "bm " + s;
    body.code = "bc " + s;
    body.message_with_params = "bp " + s;
    e.body = body;
    return e;
}

} // namespace

TEST_CASE("detail/failure: finish removes the secret from every text an error keeps")
{
    const genesys::error e = genesys::detail::finish(error_everywhere(), secret);
    for (std::string_view text : {std::string_view(e.message), std::string_view(e.raw_body),
                                  std::string_view(e.correlation_id), std::string_view(*e.headers.get("X-Echo")),
                                  std::string_view(*e.body->message), std::string_view(*e.body->code),
                                  std::string_view(*e.body->message_with_params)}) {
        CHECK(text.find(secret) == std::string_view::npos);
        CHECK(text.find("[REDACTED]") != std::string_view::npos);
    }
}

TEST_CASE("detail/failure: decode_success refuses a body over the limit unparsed, and one decode refuses")
{
    const genesys::detail::response_limits limits{.max_bytes = 8, .max_depth = 4};
    int decoded = 0;
    auto decode = [&](std::string_view body, std::string& why) {
        ++decoded;
        if (body == "ok")
            return true;
        why = "not ok";
        return false;
    };

    genesys::http_response ok{200, {}, "ok"};
    CHECK_FALSE(genesys::detail::decode_success("op", "Model", ok, limits, {}, true, decode));
    CHECK(decoded == 1);

    genesys::http_response big{200, {}, "0123456789"};
    auto too_large = genesys::detail::decode_success("op", "Model", big, limits, {}, true, decode);
    REQUIRE(too_large);
    CHECK(decoded == 1); // never parsed
    CHECK(too_large->code == genesys::errc::response_too_large);
    CHECK(too_large->raw_body == "0123456789");
    CHECK(too_large->message.find("over the limit of 8") != std::string::npos);

    genesys::http_response bad{200, {}, "nope"};
    auto refused = genesys::detail::decode_success("op", "Model", bad, limits, {}, false, decode);
    REQUIRE(refused);
    CHECK(refused->kind == genesys::error_kind::decode);
    CHECK(refused->code == genesys::errc::decode_failed);
    CHECK(refused->raw_body.empty()); // keep_body false: a token response's body is never kept
    CHECK(refused->message.find("response is not a valid Model: not ok") != std::string::npos);
}
