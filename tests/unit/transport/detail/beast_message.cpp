// SPDX-License-Identifier: BSL-1.0
// <genesys/transport/detail/beast_message.hpp>: the request the Beast adapters write for an
// `http_request`, and its wiping before it is freed. No I/O.
#include <genesys/transport/detail/beast_message.hpp>

#include <doctest/doctest.h>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <sstream>
#include <string>
#include <string_view>

TEST_CASE("beast_message: beast_wipe_request zeroes the field values, the target and the body in place")
{
    using namespace genesys::detail;
    auto url = parse_beast_url("https://api.example.com/oauth/token?code=secret-code");
    REQUIRE(url.has_value());
    const std::string token(100, 't');
    const genesys::http_request request{genesys::http_method::post,
                                        "https://api.example.com/oauth/token?code=secret-code",
                                        {{"Authorization", "Bearer " + token}, {"X-Custom", "value"}},
                                        "grant_type=refresh_token&refresh_token=secret-refresh"};
    beast_request out;
    std::string why;
    REQUIRE_FALSE(beast_build_request(request, *url, true, out, why));

    // Where Beast keeps the text: the views stay valid (nothing is reallocated), and read zeros.
    const auto authorization = out[boost::beast::http::field::authorization];
    REQUIRE(authorization == "Bearer " + token);
    const auto target = out.target();
    const std::string_view body = out.body();
    REQUIRE(target.find("secret-code") != std::string_view::npos);
    REQUIRE(body.find("secret-refresh") != std::string_view::npos);

    beast_wipe_request(out);
    auto all_zero = [](std::string_view text) {
        return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c == '\0'; });
    };
    CHECK(all_zero(authorization));
    CHECK(all_zero(target));
    CHECK(all_zero(body));
    for (const auto& field : out)
        CHECK(all_zero(field.value()));
}

TEST_CASE("beast_message: beast_serialize_request writes, in one buffer, what Beast's serializer writes")
{
    using namespace genesys::detail;
    for (const auto method : {genesys::http_method::get, genesys::http_method::post, genesys::http_method::delete_}) {
        CAPTURE(to_string(method));
        auto url = parse_beast_url("http://127.0.0.1:8080/api/v2/tokens/me?preserveIdleTTL=true");
        REQUIRE(url.has_value());
        const genesys::http_request request{method, "http://127.0.0.1:8080/api/v2/tokens/me?preserveIdleTTL=true",
                                            {{"Authorization", "Bearer abc"}, {"x-lower-case", "v"}, {"Accept", "*/*"}},
                                            method == genesys::http_method::post ? "a=b" : ""};
        for (const bool keep_alive : {true, false}) {
            beast_request out;
            std::string why;
            REQUIRE_FALSE(beast_build_request(request, *url, keep_alive, out, why));
            std::ostringstream beast;
            beast << out;
            std::string mine;
            beast_serialize_request(out, mine);
            CHECK(mine == beast.str());
        }
    }
}
