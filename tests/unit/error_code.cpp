// SPDX-License-Identifier: BSL-1.0
// <genesys/error_code.hpp>: the library's codes, the HTTP statuses as codes, and the conditions
// that classify any failure by what the caller does about it.
#include <genesys/error_code.hpp>

#include "fixtures.hpp"

#include <boost/system/errc.hpp>

#include <string>
#include <system_error>

using genesys::condition;
using genesys::testing::fake_transport;

namespace {

const condition all_conditions[] = {condition::unauthorized,     condition::forbidden, condition::not_found,
                                    condition::rate_limited,     condition::server_error, condition::login_failed,
                                    condition::network,          condition::timeout,   condition::invalid_argument,
                                    condition::policy};

/// The conditions `ec` matches, by name.
std::string matches(const boost::system::error_code& ec)
{
    std::string out;
    for (condition c : all_conditions)
        if (ec == c) {
            // Appended in two steps: `"" + message()` makes g++ 12 -O3 report a false
            // -Wstringop-overflow.
            if (!out.empty())
                out += ' ';
            out += genesys::make_error_condition(c).message();
        }
    return out;
}

boost::system::error_code generic(boost::system::errc::errc_t e) { return boost::system::errc::make_error_code(e); }

} // namespace

TEST_CASE("genesys::condition is a boost::system error condition enum with its own category")
{
    static_assert(boost::system::is_error_condition_enum<condition>::value);
    const boost::system::error_condition c = condition::rate_limited;
    CHECK(std::string(c.category().name()) == "genesys.condition");
    CHECK(&c.category() == &genesys::condition_category());
    CHECK(c.message() == "rate limited");
    CHECK(genesys::make_error_condition(condition::login_failed).message() == "login failed");
    CHECK(genesys::make_error_condition(condition::server_error).message() == "server error");
}

TEST_CASE("an HTTP status is a code of its own category, its value the status")
{
    const auto ec = genesys::http_status_code(429);
    CHECK(ec.value() == 429);
    CHECK(&ec.category() == &genesys::http_status_category());
    CHECK(std::string(ec.category().name()) == "genesys.http");
    CHECK(ec.message() == "HTTP 429");
    CHECK(ec != genesys::http_status_code(404));
    const auto login = genesys::login_status_code(401);
    CHECK(std::string(login.category().name()) == "genesys.login");
    CHECK(login.message() == "the login host answered HTTP 401");
    CHECK(login != genesys::http_status_code(401));
}

TEST_CASE("each status classifies as what the caller does about it")
{
    CHECK(matches(genesys::http_status_code(401)) == "unauthorized");
    CHECK(matches(genesys::http_status_code(403)) == "forbidden");
    CHECK(matches(genesys::http_status_code(404)) == "not found");
    CHECK(matches(genesys::http_status_code(429)) == "rate limited");
    for (int s : {500, 502, 503, 504, 599})
        CHECK(matches(genesys::http_status_code(s)) == "server error");
    for (int s : {400, 408, 409, 413, 415, 600, 0})
        CHECK(matches(genesys::http_status_code(s)).empty());
    // The login host: a refusal of the grant is a failed login; 429 and 5xx are what they are.
    for (int s : {400, 401, 403})
        CHECK(matches(genesys::login_status_code(s)) == "login failed");
    CHECK(matches(genesys::login_status_code(429)) == "rate limited");
    CHECK(matches(genesys::login_status_code(503)) == "server error");
}

TEST_CASE("the library's codes and the transports' classify as network, timeout, invalid argument, policy")
{
    using boost::system::errc::errc_t;
    CHECK(matches(genesys::errc::invalid_argument) == "invalid argument");
    CHECK(matches(genesys::errc::policy_mismatch) == "policy");
    CHECK(matches(genesys::errc::transport_exception) == "network");
    CHECK(matches(genesys::errc::deadline_exceeded) == "network timeout");
    CHECK(matches(genesys::errc::proxy_authentication_required) == "network");
    CHECK(matches(genesys::errc::proxy_tunnel_failed) == "network");
    CHECK(matches(genesys::errc::decode_failed).empty());
    CHECK(matches(genesys::errc::response_too_large).empty());

    for (errc_t e : {errc_t::connection_refused, errc_t::connection_reset, errc_t::host_unreachable,
                     errc_t::network_unreachable, errc_t::broken_pipe, errc_t::connection_aborted})
        CHECK(matches(generic(e)) == "network");
    CHECK(matches(generic(errc_t::timed_out)) == "network timeout");
    // A system code (as Asio's sockets report them) and a std::error_code a transport threw.
    CHECK(matches(boost::system::error_code(ECONNREFUSED, boost::system::system_category())) == "network");
    CHECK(matches(boost::system::error_code(ETIMEDOUT, boost::system::system_category())) == "network timeout");
    CHECK(matches(boost::system::error_code(std::make_error_code(std::errc::connection_refused))) == "network");
    CHECK(matches(boost::system::error_code(std::make_error_code(std::errc::timed_out))) == "network timeout");
    // A cancelled call is no failure to act on.
    CHECK(matches(generic(errc_t::operation_canceled)).empty());
    CHECK(matches(boost::system::error_code()).empty());
}

TEST_CASE("through the fake transport: one comparison classifies each failure of a call")
{
    fake_transport fake;
    genesys::tokens_api api{fake, {.access_token = std::string(fixtures::secret_token)}};
    const std::pair<int, condition> statuses[] = {{401, condition::unauthorized},
                                                  {403, condition::forbidden},
                                                  {404, condition::not_found},
                                                  {429, condition::rate_limited},
                                                  {500, condition::server_error},
                                                  {503, condition::server_error}};
    for (const auto& entry : statuses) {
        const int status = entry.first; // not a structured binding: CAPTURE's lambda takes it
        const condition expected = entry.second;
        CAPTURE(status);
        fake.respond(fixtures::json_response(status, "{}"));
        auto r = api.try_get_tokens_me();
        REQUIRE(r.has_error());
        CHECK(r.error().code == expected);
        CHECK(r.error().code.value() == status);
        CHECK(matches(r.error().code) == genesys::make_error_condition(expected).message());
    }
    fake.respond(fixtures::json_response(429, fixtures::rate_limit_body));
    try {
        api.get_tokens_me();
        FAIL("no exception");
    } catch (const genesys::api_error& e) {
        CHECK(e.code() == condition::rate_limited);
        CHECK(e.status() == 429);
    }

    fake.fail(generic(boost::system::errc::connection_refused));
    CHECK(api.try_get_tokens_me().error().code == condition::network);
    CHECK(api.try_delete_token("..").error().code == condition::invalid_argument);
    fake.respond({200, {}, "not json"});
    CHECK(matches(api.try_get_tokens_me().error().code).empty());

    // A call past its call_timeout.
    std::chrono::steady_clock::time_point now{};
    genesys::client_config timed{.access_token = std::string(fixtures::secret_token)};
    timed.call_timeout = std::chrono::seconds(1);
    timed.retry.clock = [&] { return now += std::chrono::seconds(1); };
    genesys::tokens_api slow{fake, timed};
    fake.respond(200, std::string(fixtures::token_info_2018_json));
    const auto deadline = slow.try_get_tokens_me();
    REQUIRE(deadline.has_error());
    CHECK(deadline.error().code == condition::timeout);
    CHECK(deadline.error().code == condition::network);

    // A token source whose refresh another call is running for too long.
    auto source = std::make_shared<genesys::token_source>(
        []() -> genesys::result<genesys::api_response<genesys::oauth_token>> { return genesys::error{}; });
    CHECK(source->wait_timed_out().code == condition::timeout);
}

TEST_CASE("errc::validator_overloaded: its own message, and a network failure to the caller")
{
    const boost::system::error_code ec = genesys::errc::validator_overloaded;
    CHECK(&ec.category() == &genesys::tokens_category());
    CHECK(ec.message() == "the token validator has too many checks in flight");
    CHECK(ec != genesys::errc::deadline_exceeded);
    CHECK(matches(ec) == "network"); // answered as an unreachable API is: 503
}
