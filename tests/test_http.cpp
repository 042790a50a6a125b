#include "fixtures.hpp"

#include <type_traits>

using genesys::http_headers;

TEST_CASE("http_method names are the request-line tokens")
{
    CHECK(genesys::to_string(genesys::http_method::get) == "GET");
    CHECK(genesys::to_string(genesys::http_method::head) == "HEAD");
    CHECK(genesys::to_string(genesys::http_method::put) == "PUT");
    CHECK(genesys::to_string(genesys::http_method::post) == "POST");
    CHECK(genesys::to_string(genesys::http_method::delete_) == "DELETE");
    CHECK(genesys::to_string(genesys::http_method::patch) == "PATCH");
}

TEST_CASE("http_request and http_response are aggregates")
{
    static_assert(std::is_aggregate_v<genesys::http_request>);
    static_assert(std::is_aggregate_v<genesys::http_response>);
    genesys::http_response r{200, {{"Content-Type", "application/json"}}, "{}"};
    CHECK(r.status == 200);
    CHECK(r.headers.size() == 1);
    CHECK(r.headers.get("content-type") == "application/json");
    CHECK(r.body == "{}");

    genesys::http_request q{genesys::http_method::delete_, "https://h/x", {{"A", "1"}, {"B", "2"}}, ""};
    CHECK(q.method == genesys::http_method::delete_);
    CHECK(q.headers.size() == 2);
}

TEST_CASE("http_headers lookup ignores case and keeps order")
{
    http_headers h{{"ININ-Correlation-Id", "abc"}, {"Set-Cookie", "a=1"}, {"set-cookie", "b=2"}};
    CHECK(h.get("inin-correlation-id") == "abc");
    CHECK(h.get("ININ-CORRELATION-ID") == "abc");
    CHECK_FALSE(h.get("ININ-Correlation").has_value());
    CHECK(h.contains("SET-COOKIE"));
    CHECK(h.find("set-cookie")->value == "a=1"); // the first of duplicates
    CHECK(h.begin()->name == "ININ-Correlation-Id");

    SUBCASE("set replaces every field of that name with one")
    {
        h.set("SET-COOKIE", "c=3");
        CHECK(h.size() == 2);
        CHECK(h.get("set-cookie") == "c=3");
        CHECK(h.find("set-cookie")->name == "Set-Cookie"); // keeps the original spelling and place
    }
    SUBCASE("set appends a new name")
    {
        h.set("Accept", "application/json");
        CHECK(h.size() == 4);
        CHECK((h.end() - 1)->name == "Accept");
    }
    SUBCASE("add keeps duplicates")
    {
        h.add("Set-Cookie", "d=4");
        CHECK(h.size() == 4);
    }
    SUBCASE("erase removes every field of that name")
    {
        CHECK(h.erase("SET-cookie") == 2);
        CHECK(h.size() == 1);
        CHECK(h.erase("nothing") == 0);
    }
}

TEST_CASE("header names and values are validated as RFC 7230 says")
{
    using genesys::detail::is_header_name;
    using genesys::detail::is_header_value;
    CHECK(is_header_name("X-Custom_Header.1~"));
    CHECK_FALSE(is_header_name(""));
    CHECK_FALSE(is_header_name("Bad Name"));
    CHECK_FALSE(is_header_name("Bad:Name"));
    CHECK_FALSE(is_header_name("Bad\r\nName"));
    CHECK(is_header_value("value with spaces\tand tab"));
    CHECK_FALSE(is_header_value("a\r\nInjected: yes"));
    CHECK_FALSE(is_header_value(std::string("a\0b", 3)));
    CHECK_FALSE(is_header_value("del\x7f"));
}

TEST_CASE("redact replaces every occurrence of a secret")
{
    std::string text = "token=SECRET-TOKEN-5f0c2d1e9a7b and again SECRET-TOKEN-5f0c2d1e9a7b.";
    genesys::detail::redact(text, fixtures::secret_token);
    CHECK(text == "token=[REDACTED] and again [REDACTED].");
    std::string short_secret = "abc abc";
    genesys::detail::redact(short_secret, "abc");
    CHECK(short_secret == "abc abc"); // too short to search for without mangling text
}
