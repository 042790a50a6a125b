// SPDX-License-Identifier: BSL-1.0
// <genesys/detail/call_machine.hpp>: the step machine on its own: no transport, no Asio, no
// sleeping. The test plays the driver and checks each action the machine asks for.
#include <genesys/detail/call_machine.hpp>

#include "fixtures.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <string>

using genesys::detail::call_action;
using namespace std::chrono_literals;

namespace {

struct harness {
    genesys::retry_policy retry;
    genesys::logger log;
    genesys::detail::api_rules rules{{1 << 20, 32}};
    genesys::http_request request{genesys::http_method::get, "https://api.example.com/api/v2/tokens/me",
                                  {{"Authorization", ""}}, {}};
    std::chrono::steady_clock::time_point now{std::chrono::seconds(1000)};

    genesys::detail::call_settings settings(std::string_view op = "getTokensMe")
    {
        retry.clock = [this] { return now; };
        genesys::detail::call_settings s;
        s.operation = op;
        s.rules = &rules;
        s.retry = &retry;
        s.retry_allowed = retry.enabled();
        s.log = &log;
        s.secret = "fixed-token-value";
        return s;
    }
};

boost::system::result<genesys::http_response> status(int code, genesys::http_headers h = {})
{
    return genesys::http_response{code, std::move(h), code == 200 ? "{}" : ""};
}

} // namespace

TEST_CASE("call_machine: one send, then done with the response")
{
    harness h;
    auto s = h.settings();
    genesys::detail::call_machine m(s, h.request);
    REQUIRE(m.start() == call_action::send);
    CHECK(&m.request() == &h.request);
    REQUIRE(m.on_response(status(200), {}) == call_action::done);
    auto out = m.take_outcome();
    REQUIRE(out);
    CHECK(out->status == 200);
}

TEST_CASE("call_machine: retries ask for waits from the policy, and count attempts")
{
    harness h;
    h.retry = genesys::retry_policy::standard(3);
    h.retry.random = [] { return 1.0; }; // the whole backoff
    auto s = h.settings();
    genesys::detail::call_machine m(s, h.request);
    REQUIRE(m.start() == call_action::send);
    REQUIRE(m.on_response(status(503), {}) == call_action::wait);
    CHECK(m.wait_time() == 500ms);
    h.now += m.wait_time();
    REQUIRE(m.on_waited() == call_action::send);
    REQUIRE(m.on_response(status(429, {{"Retry-After", "7"}}), {}) == call_action::wait);
    CHECK(m.wait_time() == 7s);
    h.now += m.wait_time();
    REQUIRE(m.on_waited() == call_action::send);
    REQUIRE(m.on_response(status(503), {}) == call_action::done);
    auto out = m.take_outcome();
    REQUIRE(!out);
    CHECK(out.failure().attempts == 3);
    CHECK(out.failure().status == 503);

    // A network failure that would fail again is not retried.
    genesys::detail::call_machine tls(s, h.request);
    REQUIRE(tls.start() == call_action::send);
    REQUIRE(tls.on_response(boost::system::errc::make_error_code(boost::system::errc::protocol_error), "TLS") ==
            call_action::done);
    CHECK(tls.take_outcome().failure().kind == genesys::error_kind::network);
}

TEST_CASE("call_machine: the deadline stops a retry that would start past it, and a send after it")
{
    harness h;
    h.retry = genesys::retry_policy::standard(5);
    auto s = h.settings();
    s.timeout = 10s;
    genesys::detail::call_machine m(s, h.request);
    REQUIRE(m.start() == call_action::send);
    REQUIRE(m.deadline() == h.now + 10s);
    REQUIRE(m.on_response(status(429, {{"Retry-After", "20"}}), {}) == call_action::done); // 20 s > 10 s left
    CHECK(m.take_outcome().failure().status == 429);

    genesys::detail::call_machine late(s, h.request);
    REQUIRE(late.start() == call_action::send);
    REQUIRE(late.on_response(status(503), {}) == call_action::wait);
    h.now += 11s; // the wait overran (a slow driver)
    REQUIRE(late.on_waited() == call_action::done);
    auto out = late.take_outcome();
    REQUIRE(!out);
    CHECK(out.failure().code == genesys::errc::deadline_exceeded);
    CHECK(out.failure().kind == genesys::error_kind::network);

    genesys::detail::call_machine aborted(s, h.request);
    REQUIRE(aborted.start() == call_action::send);
    REQUIRE(aborted.abort(boost::system::errc::make_error_code(boost::system::errc::operation_canceled), "cancelled") ==
            call_action::done);
    CHECK(aborted.take_outcome().failure().code == boost::system::errc::operation_canceled);
}

TEST_CASE("call_machine: a token source's token, a 401 refreshes it once, deleteTokensMe drops it")
{
    harness h;
    int fetches = 0;
    auto source = std::make_shared<genesys::token_source>(
        [&]() -> genesys::result<genesys::api_response<genesys::oauth_token>> {
            ++fetches;
            return genesys::api_response<genesys::oauth_token>{
                {200, {}}, {"token-" + std::to_string(fetches), "bearer", 3600, {}}};
        });
    auto s = h.settings();
    s.source = source.get();
    genesys::detail::call_machine m(s, h.request);
    REQUIRE(m.start() == call_action::get_token);
    CHECK(&m.token_source() == source.get());
    REQUIRE(m.on_token(source->try_token()) == call_action::send);
    CHECK(h.request.headers.get("Authorization") == "Bearer token-1");
    CHECK(m.secret() == "token-1");
    REQUIRE(m.on_response(status(401), {}) == call_action::get_token); // once more, with a fresh token
    CHECK(!source->fresh_token());
    REQUIRE(m.on_token(source->try_token()) == call_action::send);
    CHECK(h.request.headers.get("Authorization") == "Bearer token-2");
    REQUIRE(m.on_response(status(401), {}) == call_action::done); // twice: the error
    CHECK(m.take_outcome().failure().status == 401);

    auto del = h.settings("deleteTokensMe");
    del.source = source.get();
    del.revokes_own_token = true;
    genesys::detail::call_machine d(del, h.request);
    REQUIRE(d.start() == call_action::get_token);
    REQUIRE(d.on_token(source->try_token()) == call_action::send);
    REQUIRE(d.on_response(status(200), {}) == call_action::done);
    CHECK(d.take_outcome());
    CHECK(!source->fresh_token()); // the revoked token is dropped

    // No token: the grant's error, named as this call's.
    genesys::detail::call_machine none(s, h.request);
    REQUIRE(none.start() == call_action::get_token);
    genesys::error grant_error;
    grant_error.kind = genesys::error_kind::api;
    grant_error.status = 401;
    grant_error.operation = "requestToken";
    grant_error.message = "requestToken failed: HTTP 401";
    REQUIRE(none.on_token(grant_error) == call_action::done);
    auto out = none.take_outcome();
    CHECK(out.failure().operation == "requestToken");
    CHECK(out.failure().message.starts_with("getTokensMe could not get a token: "));
}

TEST_CASE("call_machine: one log event per attempt, the token redacted from the transport's text")
{
    harness h;
    std::vector<std::pair<std::string, std::string>> events; // error text, Authorization
    h.log = [&](const genesys::log_event& e) {
        events.emplace_back(std::string(e.error), std::string(e.request_headers.get("Authorization").value_or("")));
    };
    h.request.headers.set("Authorization", "Bearer fixed-token-value");
    auto s = h.settings();
    genesys::detail::call_machine m(s, h.request);
    REQUIRE(m.start() == call_action::send);
    REQUIRE(m.on_response(boost::system::errc::make_error_code(boost::system::errc::connection_refused),
                          "refused while sending fixed-token-value") == call_action::done);
    REQUIRE(events.size() == 1);
    CHECK(events[0].first.find("refused while sending") != std::string::npos);
    CHECK(events[0].first.find("fixed-token-value") == std::string::npos);
    CHECK(events[0].second == "[REDACTED]");
    auto out = m.take_outcome();
    CHECK(out.failure().message.find("fixed-token-value") == std::string::npos);
}
