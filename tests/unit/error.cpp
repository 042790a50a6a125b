// SPDX-License-Identifier: BSL-1.0
// <genesys/error.hpp>: the error value, its exceptions, and result<T> that carries it.
#include <genesys/error.hpp>

#include "fixtures.hpp"

#include <sstream>
#include <type_traits>

TEST_CASE("genesys::errc is a boost::system error code enum")
{
    boost::system::error_code ec = genesys::errc::decode_failed;
    CHECK(ec == genesys::errc::decode_failed);
    CHECK(ec != genesys::errc::invalid_argument);
    CHECK(std::string(ec.category().name()) == "genesys.tokens");
    CHECK(ec.message() == "the response body could not be decoded");
    CHECK(genesys::make_error_code(genesys::errc::invalid_argument).message() == "invalid argument or configuration");
    CHECK(&genesys::make_error_code(genesys::errc::policy_mismatch).category() == &genesys::tokens_category());
}

namespace {

genesys::error sample(genesys::error_kind kind)
{
    genesys::error e;
    e.kind = kind;
    e.message = "deleteToken failed: something";
    e.operation = "deleteToken";
    e.status = kind == genesys::error_kind::api ? 404 : 0;
    e.correlation_id = "corr-9";
    e.raw_body = R"({"code":"not.found"})";
    e.body = genesys::error_body{};
    e.body->code = "not.found";
    return e;
}

template <class Exception>
void check_throws_as(genesys::error_kind kind)
{
    try {
        genesys::throw_exception_from_error(sample(kind));
        FAIL("nothing thrown");
    } catch (const Exception& ex) {
        CHECK(ex.info().kind == kind);
        CHECK(std::string(ex.what()) == "deleteToken failed: something");
        CHECK(ex.operation() == "deleteToken");
    }
}

} // namespace

TEST_CASE("each error kind throws its own exception type")
{
    static_assert(std::is_base_of_v<genesys::exception, genesys::api_error>);
    static_assert(std::is_base_of_v<genesys::exception, genesys::network_error>);
    static_assert(std::is_base_of_v<genesys::exception, genesys::decode_error>);
    static_assert(std::is_base_of_v<genesys::exception, genesys::invalid_argument_error>);
    static_assert(std::is_base_of_v<std::runtime_error, genesys::exception>);
    static_assert(std::is_nothrow_copy_constructible_v<genesys::api_error>);

    check_throws_as<genesys::api_error>(genesys::error_kind::api);
    check_throws_as<genesys::network_error>(genesys::error_kind::network);
    check_throws_as<genesys::decode_error>(genesys::error_kind::decode);
    check_throws_as<genesys::invalid_argument_error>(genesys::error_kind::invalid_argument);
}

TEST_CASE("api_error exposes status, correlation id, ErrorBody and raw body")
{
    genesys::api_error ex(sample(genesys::error_kind::api));
    CHECK(ex.status() == 404);
    CHECK(ex.correlation_id() == "corr-9");
    REQUIRE(ex.body().has_value());
    CHECK(ex.body()->code == "not.found");
    CHECK(ex.raw_body() == R"({"code":"not.found"})");

    genesys::api_error copy = ex;
    CHECK(&copy.info() == &ex.info()); // copies share the details instead of allocating
}

TEST_CASE("result<T>::value() throws the typed exception")
{
    genesys::result<int> r{boost::system::in_place_error, sample(genesys::error_kind::decode)};
    CHECK_THROWS_AS(r.value(), genesys::decode_error);
    genesys::result<int> ok{7};
    CHECK(ok.value() == 7);
}

TEST_CASE("an error prints its message")
{
    std::ostringstream os;
    os << sample(genesys::error_kind::network);
    CHECK(os.str() == "deleteToken failed: something");
    CHECK(genesys::to_string(genesys::error_kind::invalid_argument) == "invalid argument");
    CHECK(genesys::to_string(genesys::error_kind::decode) == "decode");
}
