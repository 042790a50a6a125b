// <genesys/http.hpp>: the request-field check and the body rule both adapters and the
// configuration check use.
#include <genesys/http.hpp>

#include <doctest/doctest.h>

using genesys::http_header;
using genesys::http_method;
using genesys::detail::header_problem;
using genesys::detail::request_header_problem;
using genesys::detail::sends_body;

TEST_CASE("http: request_header_problem names the first problem of a field")
{
    CHECK(request_header_problem({"X-Trace", "t-1\tok"}) == header_problem::none);
    CHECK(request_header_problem({"", "v"}) == header_problem::name);
    CHECK(request_header_problem({"Bad Name", "v"}) == header_problem::name);
    CHECK(request_header_problem({"X-A", "a\r\nInjected: 1"}) == header_problem::value);
    CHECK(request_header_problem({"X-A", std::string("a\0b", 3)}) == header_problem::value);
    CHECK(request_header_problem({"content-length", "3"}) == header_problem::framing);
    CHECK(request_header_problem({"Host", "x\n"}) == header_problem::framing); // framing before value
    CHECK(request_header_problem({"Bad Name", "x\n"}) == header_problem::name); // name first
}

TEST_CASE("http: sends_body: always for PUT, POST and PATCH, never for HEAD, else when there is one")
{
    for (auto m : {http_method::put, http_method::post, http_method::patch}) {
        CHECK(sends_body(m, ""));
        CHECK(sends_body(m, "{}"));
    }
    CHECK_FALSE(sends_body(http_method::head, ""));
    CHECK_FALSE(sends_body(http_method::head, "{}"));
    for (auto m : {http_method::get, http_method::delete_}) {
        CHECK_FALSE(sends_body(m, ""));
        CHECK(sends_body(m, "x"));
    }
}
