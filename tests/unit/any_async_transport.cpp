// SPDX-License-Identifier: BSL-1.0
// <genesys/any_async_transport.hpp>: any asynchronous transport, type-erased; the asynchronous client
// over it (any_async_tokens_api). Completions, errors, cancellation, and the handler's executor and
// allocator through the erasure.
#include <genesys/any_async_transport.hpp>

#include <genesys/testing/async_fake_transport.hpp>

#include "fixtures.hpp"

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using genesys::any_async_tokens_api;
using genesys::any_async_transport;
using genesys::http_method;
using genesys::testing::async_fake_transport;

namespace {

genesys::client_config config() { return {.access_token = std::string(fixtures::secret_token)}; }

const genesys::http_request request{http_method::get, "https://api.mypurecloud.com/api/v2/tokens/me", {}, {}};

/// What a send completed with, and how many times.
struct sent {
    int calls = 0;
    boost::system::error_code ec;
    genesys::http_response response;
    auto handler()
    {
        return [this](boost::system::error_code e, genesys::http_response r) {
            ++calls;
            ec = e;
            response = std::move(r);
        };
    }
};

/// Runs the handlers that are ready, even after the io_context ran out of work before.
void poll(asio::io_context& ioc)
{
    ioc.restart();
    ioc.poll();
}

/// An allocator that counts what it allocates.
template <class T>
struct counting_allocator {
    using value_type = T;
    std::shared_ptr<std::atomic<int>> count;
    explicit counting_allocator(std::shared_ptr<std::atomic<int>> c) : count(std::move(c)) {}
    template <class U>
    counting_allocator(const counting_allocator<U>& o) : count(o.count)
    {
    }
    T* allocate(std::size_t n)
    {
        ++*count;
        return std::allocator<T>().allocate(n);
    }
    void deallocate(T* p, std::size_t n) { std::allocator<T>().deallocate(p, n); }
    template <class U>
    bool operator==(const counting_allocator<U>& o) const
    {
        return count == o.count;
    }
};

/// Business code: not a template.
void verify(any_async_tokens_api& api, std::optional<bool>& valid)
{
    api.async_verify_token([&valid](auto r) { valid = r && r->data; });
}

static_assert(genesys::async_transport<any_async_transport>);
static_assert(std::is_nothrow_move_constructible_v<any_async_transport>);
static_assert(!std::is_copy_constructible_v<any_async_transport>);
static_assert(std::is_same_v<any_async_tokens_api, genesys::async_tokens_api<any_async_transport>>);
static_assert(std::is_same_v<any_async_tokens_api::executor_type, asio::any_io_executor>);

} // namespace

TEST_CASE("any_async_tokens_api: the six operations complete through an erased async_fake_transport")
{
    asio::io_context ioc;
    async_fake_transport fake{ioc.get_executor()};
    any_async_tokens_api api{fake, config()};
    CHECK(api.get_executor() == asio::any_io_executor(ioc.get_executor()));
    REQUIRE(api.transport().target<async_fake_transport>() != nullptr);

    fake.respond(204)
        .respond(200)
        .respond(fixtures::json_response(200, fixtures::token_info_json))
        .respond(200)
        .respond(fixtures::json_response(200, fixtures::idle_timeout_json))
        .respond(fixtures::json_response(200, fixtures::idle_timeout_json));
    int done = 0;
    api.async_delete_token("u-1", [&](auto r) { done += r.has_value(); });
    ioc.run();
    CHECK(fake.last_request()->url == "https://api.mypurecloud.com/api/v2/tokens/u-1");
    api.async_delete_tokens_me([&](auto r) { done += r.has_value(); });
    poll(ioc);
    std::optional<std::string> org;
    api.async_get_tokens_me(true, [&](auto r) {
        done += r.has_value();
        org = r->data.organization->name;
    });
    poll(ioc);
    CHECK(fake.last_request()->url == "https://api.mypurecloud.com/api/v2/tokens/me?preserveIdleTTL=true");
    std::optional<bool> valid;
    verify(api, valid);
    poll(ioc);
    api.async_get_tokens_timeout([&](auto r) { done += r && r->data.idle_token_timeout_seconds == 900; });
    poll(ioc);
    genesys::idle_token_timeout settings;
    settings.idle_token_timeout_seconds = 900;
    api.async_put_tokens_timeout(settings, [&](auto r) { done += r.has_value(); });
    poll(ioc);
    CHECK(fake.last_request()->method == http_method::put);
    CHECK(done == 5);
    CHECK(org == "Acme Contact Centre");
    CHECK(valid == true);
    CHECK(fake.request_count() == 6);
    CHECK(fake.last_request()->headers.get("Authorization") == "Bearer " + std::string(fixtures::secret_token));
}

TEST_CASE("any_async_tokens_api: the erased transport's errors and failure text reach the result")
{
    asio::io_context ioc;
    async_fake_transport fake{ioc.get_executor()};
    any_async_tokens_api api{fake, config()};
    const auto refused = boost::system::errc::make_error_code(boost::system::errc::connection_refused);
    fake.fail(refused);
    fake.respond(fixtures::json_response(429, fixtures::rate_limit_body, "corr-429"));
    std::optional<genesys::error> network, status;
    api.async_head_tokens_me([&](auto r) { network = r.error(); });
    ioc.run();
    api.async_head_tokens_me([&](auto r) { status = r.error(); });
    poll(ioc);
    REQUIRE(network);
    CHECK(network->kind == genesys::error_kind::network);
    CHECK(network->code == refused);
    REQUIRE(status);
    CHECK(status->kind == genesys::error_kind::api);
    CHECK(status->status == 429);
    CHECK(status->correlation_id == "corr-429");
}

TEST_CASE("any_async_transport: cancelling the handler cancels the erased transport's send")
{
    asio::io_context ioc;
    async_fake_transport fake{ioc.get_executor()};
    fake.respond_by_default({200, {}, {}});

    SUBCASE("a send waiting in manual mode, through async_send itself")
    {
        fake.manual();
        any_async_transport erased{fake};
        asio::cancellation_signal signal;
        sent s;
        erased.async_send(request, asio::bind_cancellation_slot(signal.slot(), s.handler()));
        poll(ioc);
        CHECK(fake.waiting() == 1);
        CHECK(s.calls == 0);
        signal.emit(asio::cancellation_type::terminal);
        poll(ioc);
        CHECK(s.calls == 1);
        CHECK(s.ec == asio::error::operation_aborted);
        CHECK(fake.waiting() == 0);
    }
    SUBCASE("a send waiting on its delay, through the client")
    {
        fake.complete_after(10s);
        any_async_tokens_api api{fake, config()};
        asio::cancellation_signal signal;
        int calls = 0;
        std::optional<genesys::error> failed;
        api.async_verify_token(asio::bind_cancellation_slot(signal.slot(), [&](auto r) {
            ++calls;
            if (!r)
                failed = r.error();
        }));
        poll(ioc);
        CHECK(calls == 0);
        signal.emit(asio::cancellation_type::terminal);
        poll(ioc); // not the 10 s: poll() runs only what is ready
        CHECK(calls == 1);
        REQUIRE(failed);
        CHECK(failed->code == boost::system::errc::operation_canceled);
        CHECK(fake.request_count() == 1);
    }
}

TEST_CASE("any_async_transport: the handler runs once, never inline, on its executor, with its allocator")
{
    asio::io_context ioc;
    async_fake_transport fake{ioc.get_executor()};
    fake.respond_by_default({200, {}, "body"});
    any_async_transport erased{fake};

    SUBCASE("a strand")
    {
        auto strand = asio::make_strand(ioc);
        int calls = 0;
        bool on_strand = false;
        erased.async_send(request, asio::bind_executor(strand, [&](boost::system::error_code ec, genesys::http_response r) {
                              ++calls;
                              on_strand = strand.running_in_this_thread() && !ec && r.body == "body";
                          }));
        CHECK(calls == 0);
        ioc.run();
        CHECK(calls == 1);
        CHECK(on_strand);
    }
    SUBCASE("another io_context's executor: the handler waits for that context")
    {
        asio::io_context other;
        int calls = 0;
        bool on_other = false;
        erased.async_send(request, asio::bind_executor(other.get_executor(), [&](auto, auto) {
                              ++calls;
                              on_other = other.get_executor().running_in_this_thread();
                          }));
        ioc.run();
        CHECK(calls == 0);
        other.run();
        CHECK(calls == 1);
        CHECK(on_other);
    }
    SUBCASE("the client, its handler on a strand")
    {
        any_async_tokens_api api{std::move(erased), config()};
        auto strand = asio::make_strand(ioc);
        int calls = 0;
        bool on_strand = false;
        api.async_head_tokens_me(asio::bind_executor(strand, [&](auto r) {
            ++calls;
            on_strand = strand.running_in_this_thread() && r.has_value();
        }));
        ioc.run();
        CHECK(calls == 1);
        CHECK(on_strand);
    }
    SUBCASE("the handler's associated allocator is used for the erasure")
    {
        auto count = std::make_shared<std::atomic<int>>(0);
        sent s;
        erased.async_send(request, asio::bind_allocator(counting_allocator<void>(count), s.handler()));
        CHECK(*count >= 1);
        ioc.run();
        CHECK(s.calls == 1);
    }
    SUBCASE("a deferred operation")
    {
        auto op = erased.async_send(request, asio::deferred);
        sent s;
        CHECK(fake.request_count() == 0);
        std::move(op)(s.handler());
        ioc.run();
        CHECK(s.calls == 1);
        CHECK(s.response.body == "body");
    }
}

TEST_CASE("a moved-from any_async_transport keeps its executor and fails each send, not inline, not retried")
{
    asio::io_context ioc;
    async_fake_transport fake{ioc.get_executor()};
    fake.respond_by_default({200, {}, {}});
    any_async_transport full{fake};
    any_async_transport taken{std::move(full)};
    CHECK(taken);
    CHECK_FALSE(full); // NOLINT(bugprone-use-after-move): the documented moved-from state
    CHECK(full.get_executor() == asio::any_io_executor(ioc.get_executor()));
    CHECK(full.target<async_fake_transport>() == nullptr);

    sent s;
    full.async_send(request, s.handler());
    CHECK(s.calls == 0);
    ioc.run();
    CHECK(s.calls == 1);
    CHECK(s.ec == boost::system::errc::operation_not_permitted);
    CHECK(s.response.body == "the transport was moved from");

    auto cfg = config();
    cfg.retry = genesys::retry_policy::standard(3);
    any_async_tokens_api api{std::move(full), cfg}; // NOLINT(bugprone-use-after-move)
    std::optional<genesys::error> failed;
    api.async_head_tokens_me([&](auto r) { failed = r.error(); });
    poll(ioc);
    REQUIRE(failed);
    CHECK(failed->code == boost::system::errc::operation_not_permitted);
    CHECK(failed->attempts == 1);
    CHECK(failed->message.find("the transport was moved from") != std::string::npos);

    api.transport() = std::move(taken); // assigning makes it usable again
    int ok = 0;
    api.async_head_tokens_me([&](auto r) { ok += r.has_value(); });
    poll(ioc);
    CHECK(ok == 1);
    CHECK(fake.request_count() == 1);
}
