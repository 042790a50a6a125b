// SPDX-License-Identifier: BSL-1.0
// <genesys/routes.hpp>: the route table, path expansion and its percent-encoding.
#include <genesys/routes.hpp>

#include "fixtures.hpp"

#include <string>
#include <type_traits>

namespace routes = genesys::routes;
using genesys::http_method;

// The route table, checked at compile time.
static_assert(routes::delete_token.method == http_method::delete_);
static_assert(routes::delete_token.path.text() == "/api/v2/tokens/{userId}");
static_assert(routes::delete_token.path.param_count() == 1);
static_assert(routes::delete_token.path.param_name(0) == "userId");
static_assert(routes::delete_token.operation_id == "deleteToken");
static_assert(routes::delete_token.permissions.size() == 1);
static_assert(routes::delete_token.permissions[0] == "oauth:token:delete");
static_assert(routes::delete_token.is_documented_success(204) && !routes::delete_token.is_documented_success(200));
static_assert(std::is_void_v<decltype(routes::delete_token)::response_type>);

static_assert(routes::delete_tokens_me.method == http_method::delete_);
static_assert(routes::delete_tokens_me.path.text() == "/api/v2/tokens/me");
static_assert(routes::delete_tokens_me.permissions.empty());
static_assert(routes::delete_tokens_me.is_documented_success(200));

static_assert(routes::get_tokens_me.method == http_method::get);
static_assert(routes::get_tokens_me.operation_id == "getTokensMe");
static_assert(routes::get_tokens_me.query.size() == 1 && routes::get_tokens_me.query[0] == "preserveIdleTTL");
static_assert(std::is_same_v<decltype(routes::get_tokens_me)::response_type, genesys::token_info>);

static_assert(routes::head_tokens_me.method == http_method::head);
static_assert(routes::head_tokens_me.success.empty()); // "default": any 2xx
static_assert(routes::head_tokens_me.is_documented_success(200) && routes::head_tokens_me.is_documented_success(204));
static_assert(!routes::head_tokens_me.is_documented_success(401));

static_assert(routes::get_tokens_timeout.path.text() == "/api/v2/tokens/timeout");
static_assert(std::is_same_v<decltype(routes::get_tokens_timeout)::response_type, genesys::idle_token_timeout>);

static_assert(routes::put_tokens_timeout.method == http_method::put);
static_assert(routes::put_tokens_timeout.permissions[0] == "directory:organization:admin");
static_assert(std::is_same_v<decltype(routes::put_tokens_timeout)::request_type, genesys::idle_token_timeout>);
static_assert(std::is_same_v<decltype(routes::put_tokens_timeout)::response_type, genesys::idle_token_timeout>);

static_assert(routes::table.size() == 6);
static_assert([] {
    // Operation ids are unique, every path is under /api/v2/tokens, no two routes share method and path.
    for (std::size_t i = 0; i < routes::table.size(); ++i) {
        if (routes::table[i].path.substr(0, 15) != "/api/v2/tokens/")
            return false;
        for (std::size_t j = i + 1; j < routes::table.size(); ++j) {
            if (routes::table[i].operation_id == routes::table[j].operation_id)
                return false;
            if (routes::table[i].method == routes::table[j].method && routes::table[i].path == routes::table[j].path)
                return false;
        }
    }
    return true;
}());

// A user's own route, to show templates with several parameters.
constexpr genesys::route<void, 2> user_token{
    http_method::get, "/api/v2/users/{userId}/tokens/{tokenId}", "getUserToken", {}, {200}, {}};
static_assert(user_token.path.param_name(0) == "userId");
static_assert(user_token.path.param_name(1) == "tokenId");

TEST_CASE("path templates expand with each value percent-encoded as one segment")
{
    std::string out = "https://h";
    user_token.path.append_to(out, "a/b", "c d");
    CHECK(out == "https://h/api/v2/users/a%2Fb/tokens/c%20d");

    std::string me;
    routes::get_tokens_me.path.append_to(me);
    CHECK(me == "/api/v2/tokens/me");
}

TEST_CASE("percent-encoding keeps only RFC 3986 unreserved characters")
{
    for (int b = 0; b < 256; ++b) {
        char c = static_cast<char>(b);
        std::string enc = genesys::detail::percent_encode(std::string_view(&c, 1));
        bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                          c == '.' || c == '_' || c == '~';
        CAPTURE(b);
        if (unreserved) {
            CHECK(enc == std::string(1, c));
        } else {
            REQUIRE(enc.size() == 3);
            CHECK(enc[0] == '%');
            CHECK(std::stoi(enc.substr(1), nullptr, 16) == b);
            CHECK(enc.substr(1) == [&] { // upper-case hex
                std::string up = enc.substr(1);
                for (char& ch : up)
                    ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
                return up;
            }());
        }
    }
    CHECK(genesys::detail::percent_encode("a+b=c&d") == "a%2Bb%3Dc%26d");
}

TEST_CASE("path segment values that would escape the route are named")
{
    using genesys::detail::path_segment_problem;
    CHECK_FALSE(path_segment_problem("").empty());
    CHECK_FALSE(path_segment_problem(".").empty());
    CHECK_FALSE(path_segment_problem("..").empty());
    CHECK_FALSE(path_segment_problem(std::string(1025, 'a')).empty());
    CHECK(path_segment_problem(std::string(1024, 'a')).empty());
    CHECK(path_segment_problem("...").empty()); // not a dot-segment: encoded as-is, stays one segment
    CHECK(path_segment_problem(".a").empty());
}

TEST_CASE("an expanded path that equals another route of the same method is found")
{
    const auto* other = genesys::detail::shadowing_route("deleteToken", http_method::delete_, "/api/v2/tokens/me");
    REQUIRE(other != nullptr);
    CHECK(other->operation_id == "deleteTokensMe");
    CHECK(genesys::detail::shadowing_route("deleteToken", http_method::delete_, "/api/v2/tokens/timeout") == nullptr);
    CHECK(genesys::detail::shadowing_route("deleteToken", http_method::delete_, "/api/v2/tokens/u-1") == nullptr);
}
