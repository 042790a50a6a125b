// SPDX-License-Identifier: BSL-1.0
// <genesys/any_transport.hpp>: any transport, type-erased; the client over it (any_tokens_api).
#include <genesys/any_transport.hpp>

#include "fixtures.hpp"

#include <boost/json.hpp>

#include <atomic>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

// Named, not anonymous: the core suite is compiled in unity batches.
namespace any_transport_test {

using genesys::any_tokens_api;
using genesys::any_transport;
using genesys::http_method;
using genesys::testing::fake_transport;

const std::string base = "https://api.mypurecloud.com";

genesys::client_config config()
{
    genesys::client_config cfg;
    cfg.access_token = std::string(fixtures::secret_token);
    return cfg;
}

/// Business code: not a template, called below with clients over several transports.
std::string organization_name(any_tokens_api& api) { return api.get_tokens_me().organization->name.value_or("?"); }

/// A user's transport of the other shape: a plain response, failures thrown.
struct throwing_transport {
    std::shared_ptr<int> sends = std::make_shared<int>(0);
    int mode = 0; // 0: answers 200 with a TokenInfo; 1: throws std::runtime_error; 2: throws std::system_error

    genesys::http_response send(const genesys::http_request&)
    {
        ++*sends;
        if (mode == 1)
            throw std::runtime_error("socket exploded");
        if (mode == 2)
            throw std::system_error(std::make_error_code(std::errc::timed_out), "read");
        return fixtures::json_response(200, fixtures::token_info_json);
    }
};

/// A user's transport with the optional parts: its own words about a failure, and cancel().
struct detailed_transport {
    std::shared_ptr<std::atomic<int>> cancels = std::make_shared<std::atomic<int>>(0);

    boost::system::result<genesys::http_response> send(const genesys::http_request&)
    {
        return boost::system::errc::make_error_code(boost::system::errc::connection_reset);
    }
    std::string last_error_message() const { return "Connection reset by peer (a string returned by value)"; }
    void cancel() noexcept { ++*cancels; }
};

/// A transport that can be neither copied nor moved after it is made in place.
struct pinned_transport {
    explicit pinned_transport(int status) : status(status) {}
    pinned_transport(pinned_transport&&) = default; // the concept asks for it; unused by in_place
    int status;
    genesys::http_response send(const genesys::http_request&) { return {status, {}, {}}; }
};

static_assert(genesys::transport<any_transport>);
static_assert(std::is_nothrow_move_constructible_v<any_transport>);
static_assert(!std::is_copy_constructible_v<any_transport>);
static_assert(std::is_convertible_v<fake_transport, any_transport>);
static_assert(std::is_same_v<any_tokens_api, genesys::tokens_api<any_transport>>);

} // namespace any_transport_test

using namespace any_transport_test;

TEST_CASE("any_tokens_api: the six operations through an erased fake_transport")
{
    fake_transport fake;
    any_tokens_api api{fake, config()}; // a copy of the fake: the test keeps the other

    fake.respond(204);
    api.delete_token("u-1");
    CHECK(fake.last_request()->method == http_method::delete_);
    CHECK(fake.last_request()->url == base + "/api/v2/tokens/u-1");

    fake.respond(200);
    api.delete_tokens_me();
    CHECK(fake.last_request()->method == http_method::delete_);
    CHECK(fake.last_request()->url == base + "/api/v2/tokens/me");

    fake.respond(fixtures::json_response(200, fixtures::token_info_json));
    auto me = api.try_get_tokens_me(true);
    REQUIRE(me.has_value());
    CHECK(me->correlation_id() == "corr-1");
    CHECK(me->data.organization->name == "Acme Contact Centre");
    CHECK(fake.last_request()->url == base + "/api/v2/tokens/me?preserveIdleTTL=true");
    CHECK(fake.last_request()->headers.get("Authorization") == "Bearer " + std::string(fixtures::secret_token));

    fake.respond(200);
    api.head_tokens_me();
    CHECK(fake.last_request()->method == http_method::head);

    fake.respond(200).respond(401);
    CHECK(api.verify_token());
    CHECK_FALSE(api.verify_token());

    fake.respond(fixtures::json_response(200, fixtures::idle_timeout_json));
    CHECK(api.get_tokens_timeout().idle_token_timeout_seconds == 900);
    CHECK(fake.last_request()->url == base + "/api/v2/tokens/timeout");

    fake.respond(fixtures::json_response(200, fixtures::idle_timeout_json));
    genesys::idle_token_timeout settings;
    settings.idle_token_timeout_seconds = 900;
    CHECK(api.put_tokens_timeout(settings).idle_token_timeout_seconds == 900);
    CHECK(fake.last_request()->method == http_method::put);
    CHECK(boost::json::parse(fake.last_request()->body) == boost::json::parse(R"({"idleTokenTimeoutSeconds":900})"));

    CHECK(fake.request_count() == 8);
    REQUIRE(api.transport().target<fake_transport>() != nullptr);
    CHECK(api.transport().target<fake_transport>()->request_count() == 8); // the same state
    CHECK(api.transport().target<throwing_transport>() == nullptr);
}

TEST_CASE("any_tokens_api: call_options are forwarded, checked and sent as without the erasure")
{
    fake_transport fake;
    fake.respond_by_default(fixtures::json_response(200, fixtures::token_info_json));
    any_tokens_api api{fake, config()};
    const genesys::call_options options{.headers = {{"X-Trace", "t-5"}}};

    CHECK(api.try_get_tokens_me(std::nullopt, options).has_value());
    CHECK(api.get_tokens_me(true, options).organization.has_value());
    CHECK(api.verify_token(options));
    api.delete_token("u-1", options);
    for (const auto& req : fake.requests())
        CHECK(req.headers.get("X-Trace") == "t-5");
    CHECK(fake.request_count() == 4);

    auto bad = api.try_head_tokens_me({.headers = {{"Host", "elsewhere.example.com"}}});
    REQUIRE(bad.has_error());
    CHECK(bad.error().kind == genesys::error_kind::invalid_argument);
    CHECK(bad.error().message.find("elsewhere") == std::string::npos);
    CHECK(fake.request_count() == 4);
}

TEST_CASE("any_tokens_api: the erased transport's errors are reported as they would be without the erasure")
{
    SUBCASE("an error code")
    {
        fake_transport fake;
        any_tokens_api api{fake, config()};
        const auto refused = boost::system::errc::make_error_code(boost::system::errc::connection_refused);
        fake.fail(refused);
        auto r = api.try_get_tokens_me();
        REQUIRE(r.has_error());
        CHECK(r.error().kind == genesys::error_kind::network);
        CHECK(r.error().code == refused);
        CHECK(r.error().operation == "getTokensMe");
        fake.fail(refused);
        CHECK_THROWS_AS(api.delete_token("u-1"), genesys::network_error);
    }
    SUBCASE("an HTTP error status")
    {
        fake_transport fake;
        any_tokens_api api{fake, config()};
        fake.respond(fixtures::json_response(429, fixtures::rate_limit_body, "corr-429"));
        auto r = api.try_head_tokens_me();
        REQUIRE(r.has_error());
        CHECK(r.error().kind == genesys::error_kind::api);
        CHECK(r.error().status == 429);
        CHECK(r.error().correlation_id == "corr-429");
    }
    SUBCASE("exceptions thrown by the transport")
    {
        any_tokens_api api{throwing_transport{}, config()};
        CHECK(organization_name(api) == "Acme Contact Centre");
        api.transport().target<throwing_transport>()->mode = 1;
        auto r = api.try_head_tokens_me();
        REQUIRE(r.has_error());
        CHECK(r.error().code == genesys::errc::transport_exception);
        CHECK(r.error().message.find("socket exploded") != std::string::npos);
        api.transport().target<throwing_transport>()->mode = 2;
        auto t = api.try_head_tokens_me();
        REQUIRE(t.has_error());
        CHECK(t.error().code == std::errc::timed_out);
    }
    SUBCASE("the transport's own words about a failure, returned by value")
    {
        any_tokens_api api{detailed_transport{}, config()};
        CHECK(api.transport().last_error_message() == "Connection reset by peer (a string returned by value)");
        auto r = api.try_head_tokens_me();
        REQUIRE(r.has_error());
        CHECK(r.error().code == boost::system::errc::connection_reset);
        CHECK(r.error().message.find("Connection reset by peer") != std::string::npos);
    }
}

TEST_CASE("any_transport erases a user's transport: plain responses, in place, cancel forwarded when it exists")
{
    throwing_transport mine;
    any_transport erased{mine};
    auto r = erased.send({http_method::get, base + "/api/v2/tokens/me", {}, {}});
    REQUIRE(r.has_value());
    CHECK(r->status == 200);
    CHECK(*mine.sends == 1);
    CHECK(erased.last_error_message().empty()); // the transport has none
    erased.cancel();                            // and no cancel(): nothing happens

    any_transport pinned{std::in_place_type<pinned_transport>, 204};
    REQUIRE(pinned.target<pinned_transport>() != nullptr);
    CHECK(pinned.target<pinned_transport>()->status == 204);
    CHECK(pinned.send({http_method::head, base, {}, {}})->status == 204);

    detailed_transport detailed;
    any_transport cancellable{detailed};
    cancellable.cancel();
    CHECK(*detailed.cancels == 1);

    // Business code over a client of each.
    any_tokens_api over_user{std::move(erased), config()};
    CHECK(organization_name(over_user) == "Acme Contact Centre");
    fake_transport fake;
    fake.respond(fixtures::json_response(200, R"({"organization":{"name":"Fake Org"}})"));
    any_tokens_api over_fake{fake, config()};
    CHECK(organization_name(over_fake) == "Fake Org");
}

TEST_CASE("an empty any_transport (default-constructed, moved from) fails every send, and is not retried")
{
    any_transport none;
    CHECK_FALSE(none);
    auto r = none.send({http_method::get, base, {}, {}});
    REQUIRE(r.has_error());
    CHECK(r.error() == boost::system::errc::operation_not_permitted);
    CHECK(none.last_error_message().empty());
    none.cancel();
    CHECK(none.target<fake_transport>() == nullptr);

    fake_transport fake;
    fake.respond_by_default({200, {}, {}});
    any_transport full{fake};
    CHECK(full);
    any_transport taken{std::move(full)};
    CHECK(taken);
    CHECK_FALSE(full); // NOLINT(bugprone-use-after-move): the documented moved-from state
    CHECK(taken.send({http_method::get, base, {}, {}})->status == 200);

    auto cfg = config();
    cfg.retry = genesys::retry_policy::standard(3);
    any_tokens_api api{std::move(full), cfg}; // NOLINT(bugprone-use-after-move)
    auto failed = api.try_head_tokens_me();
    REQUIRE(failed.has_error());
    CHECK(failed.error().kind == genesys::error_kind::network);
    CHECK(failed.error().code == boost::system::errc::operation_not_permitted);
    CHECK(failed.error().attempts == 1);

    full = std::move(taken); // assigning makes it usable again
    CHECK(full.send({http_method::get, base, {}, {}})->status == 200);
    CHECK(fake.request_count() == 2);
}
