// SPDX-License-Identifier: BSL-1.0
// <genesys/http.hpp>: the methods and messages, header lookup, and the request-field check and
// body rule both adapters and the configuration check use.
#include <genesys/http.hpp>

#include <doctest/doctest.h>

#include <type_traits>
#include <utility>
#include <vector>

using genesys::http_header;
using genesys::http_headers;
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

// The copy and move operations are declared by the class (compiled with the implementation): they
// must still copy, move without throwing (a std::vector of responses moves them on growth), and
// leave the source usable.
static_assert(std::is_nothrow_move_constructible_v<http_headers>);
static_assert(std::is_nothrow_move_assignable_v<http_headers>);

TEST_CASE("http: http_headers copies and moves field by field")
{
    const http_headers original{{"Content-Type", "application/json"}, {"X-Trace", "t-1"}};
    http_headers copy = original;
    CHECK(copy == original);
    copy.set("X-Trace", "t-2");
    CHECK(original.get("x-trace") == "t-1"); // a copy, not a view

    http_headers moved = std::move(copy);
    CHECK(moved.get("X-Trace") == "t-2");
    CHECK(moved.size() == 2);

    http_headers assigned{{"A", "1"}};
    assigned = original;
    CHECK(assigned == original);
    assigned = std::move(moved);
    CHECK(assigned.get("x-trace") == "t-2");
    copy = assigned; // a moved-from sequence can be assigned to
    CHECK(copy == assigned);

    std::vector<http_headers> many(3, original);
    many.reserve(many.capacity() + 1); // reallocation moves them
    for (const auto& h : many)
        CHECK(h == original);
}

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
