// SPDX-License-Identifier: BSL-1.0
// <genesys/async.hpp>: the asynchronous API over the async fake transport: every operation through
// every kind of completion token, the same results as the blocking API, the handler rules (never
// inline, its executor, exactly once), cancellation at each phase, the deadline, and lifetimes.
#include <genesys/async.hpp>

// No production header includes a fake: the umbrella leaves the fake out.
#ifdef GENESYS_TESTING_ASYNC_FAKE_TRANSPORT_HPP
constexpr bool async_hpp_includes_the_async_fake = true;
#else
constexpr bool async_hpp_includes_the_async_fake = false;
#endif

#include <genesys/genesys.hpp>
#include <genesys/testing/async_fake_transport.hpp>
#include <genesys/testing/fake_transport.hpp>

#include "fixtures.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using genesys::testing::async_fake_transport;

namespace {

genesys::client_config config(std::string token = "test-token")
{
    return {.access_token = std::move(token)};
}

template <class T>
struct captured {
    std::optional<genesys::result<genesys::api_response<T>>> value;
    int calls = 0;
    auto handler()
    {
        return [this](genesys::result<genesys::api_response<T>> r) {
            ++calls;
            value.emplace(std::move(r));
        };
    }
};

/// Runs the handlers that are ready, even after the io_context ran out of work before.
void poll(asio::io_context& ioc)
{
    ioc.restart();
    ioc.poll();
}

} // namespace

TEST_CASE("<genesys/async.hpp> includes no fake transport")
{
    CHECK_FALSE(async_hpp_includes_the_async_fake);
}

TEST_CASE("every operation gives, asynchronously, the value the try_ form gives over the same responses")
{
    // Each operation's canned answers, in the order both clients use them.
    auto load = [](auto& fake) {
        fake.respond(fixtures::json_response(204, ""))                         // delete_token
            .respond(fixtures::json_response(200, ""))                         // delete_tokens_me
            .respond(fixtures::json_response(200, fixtures::token_info_json))   // get_tokens_me
            .respond(fixtures::json_response(200, fixtures::token_info_json))   // get_tokens_me(true)
            .respond(fixtures::json_response(200, ""))                         // head_tokens_me
            .respond(fixtures::json_response(401, R"({"message":"no","code":"bad.credentials","status":401})"))
            .respond(fixtures::json_response(200, fixtures::idle_timeout_json)) // get_tokens_timeout
            .respond(fixtures::json_response(200, fixtures::idle_timeout_json)) // put_tokens_timeout
            .respond(fixtures::json_response(429, fixtures::rate_limit_body));  // get_tokens_me: 429
    };
    genesys::testing::fake_transport sync_fake;
    load(sync_fake);
    genesys::tokens_api sync_api{sync_fake, config()};

    asio::io_context ioc;
    async_fake_transport fake{ioc.get_executor()};
    load(fake);
    genesys::async_tokens_api api{fake, config()};

    genesys::idle_token_timeout settings;
    settings.idle_token_timeout_seconds = 900;

    auto d = api.async_delete_token("u-1", asio::use_future);
    auto dm = api.async_delete_tokens_me(asio::use_future);
    auto me = api.async_get_tokens_me(asio::use_future);
    auto me_kept = api.async_get_tokens_me(true, asio::use_future);
    auto head = api.async_head_tokens_me(asio::use_future);
    auto verify = api.async_verify_token(asio::use_future);
    auto timeout = api.async_get_tokens_timeout(asio::use_future);
    auto put = api.async_put_tokens_timeout(settings, asio::use_future);
    auto limited = api.async_get_tokens_me(asio::use_future);
    ioc.run();

    auto sd = sync_api.try_delete_token("u-1");
    REQUIRE(sd.has_value());
    CHECK(d.get()->status == sd->status);
    CHECK(dm.get()->status == sync_api.try_delete_tokens_me()->status);
    auto sme = sync_api.try_get_tokens_me();
    CHECK(me.get()->data == sme->data);
    CHECK(me_kept.get()->data == sync_api.try_get_tokens_me(true)->data);
    CHECK(head.get().has_value() == sync_api.try_head_tokens_me().has_value());
    auto sv = sync_api.try_verify_token();
    auto av = verify.get();
    REQUIRE(av.has_value());
    CHECK(av->data == false);
    CHECK(av->data == sv->data);
    CHECK(timeout.get()->data == sync_api.try_get_tokens_timeout()->data);
    CHECK(put.get()->data == sync_api.try_put_tokens_timeout(settings)->data);
    auto ae = limited.get();
    auto se = sync_api.try_get_tokens_me();
    REQUIRE(!ae.has_value());
    REQUIRE(!se.has_value());
    CHECK(ae.error().kind == genesys::error_kind::api);
    CHECK(ae.error().status == 429);
    CHECK(ae.error().message == se.error().message);
    CHECK(ae.error().correlation_id == se.error().correlation_id);
    CHECK(ae.error().body == se.error().body);

    // The same requests, byte for byte.
    const auto a = fake.requests();
    const auto s = sync_fake.requests();
    REQUIRE(a.size() == s.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        CHECK(a[i].method == s[i].method);
        CHECK(a[i].url == s[i].url);
        CHECK(a[i].headers == s[i].headers);
        CHECK(a[i].body == s[i].body);
    }
    CHECK(a[3].url == "https://api.mypurecloud.com/api/v2/tokens/me?preserveIdleTTL=true");
}

TEST_CASE("async_put_tokens_timeout below the minimum of 300 s: refused, nothing sent, the handler called once")
{
    auto timeout_of = [](std::int64_t seconds) {
        genesys::idle_token_timeout t;
        t.enable_idle_token_timeout = true;
        t.idle_token_timeout_seconds = seconds;
        return t;
    };
    boost::asio::io_context ioc;
    genesys::testing::async_fake_transport fake{ioc.get_executor()};
    fake.respond_by_default(fixtures::json_response(200, fixtures::idle_timeout_json));
    genesys::client_config config;
    config.access_token = "tok-0123456789";
    genesys::async_tokens_api api{fake, config};

    int calls = 0;
    std::optional<genesys::result<genesys::api_response<genesys::idle_token_timeout>>> got;
    api.async_put_tokens_timeout(timeout_of(60),
                                 [&](genesys::result<genesys::api_response<genesys::idle_token_timeout>> r) {
                                     ++calls;
                                     got.emplace(std::move(r));
                                 });
    CHECK(calls == 0); // never inline
    ioc.run();
    CHECK(calls == 1);
    REQUIRE(got.has_value());
    REQUIRE(got->has_error());
    CHECK(got->error().kind == genesys::error_kind::invalid_argument);
    CHECK(got->error().message.find("idle_token_timeout_seconds is 60, below the API definition's minimum of 300") !=
          std::string::npos);
    CHECK(fake.request_count() == 0);

    api.async_put_tokens_timeout(timeout_of(300),
                                 [&](genesys::result<genesys::api_response<genesys::idle_token_timeout>> r) {
                                     ++calls;
                                     got.emplace(std::move(r));
                                 });
    ioc.restart();
    ioc.run();
    CHECK(calls == 2);
    REQUIRE(got.has_value());
    CHECK(got->has_value());
    CHECK(fake.request_count() == 1);
}

TEST_CASE("a failed result's value() throws the same typed exception as the throwing form")
{
    asio::io_context ioc;
    async_fake_transport fake{ioc.get_executor()};
    fake.respond(fixtures::json_response(403, R"({"message":"no","code":"missing.permissions","status":403})"));
    genesys::async_tokens_api api{fake, config()};
    auto f = api.async_delete_token("u-1", asio::use_future);
    ioc.run();
    auto r = f.get();
    CHECK_THROWS_AS(r.value(), genesys::api_error);
}

TEST_CASE("callbacks, deferred, coroutines, as_tuple and parallel_group all complete")
{
    asio::io_context ioc;
    async_fake_transport fake{ioc.get_executor()};
    fake.respond_by_default(fixtures::json_response(200, fixtures::token_info_json));
    genesys::async_tokens_api api{fake, config()};

    captured<genesys::token_info> cb;
    api.async_get_tokens_me(cb.handler());

    // deferred is the default token: nothing is sent until the deferred operation is started.
    auto op = api.async_get_tokens_me(true);
    CHECK(fake.request_count() == 1); // the callback's call only
    captured<genesys::token_info> later;
    std::move(op)(later.handler());

    std::optional<std::string> from_coroutine;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            auto r = co_await api.async_get_tokens_me(false, asio::use_awaitable);
            from_coroutine = r.value().data.organization->name.value_or("");
            auto v = co_await api.async_verify_token(asio::use_awaitable);
            if (!v.value().data)
                from_coroutine.reset();
        },
        asio::detached);

    std::optional<bool> tuple_ok;
    api.async_verify_token(asio::as_tuple([&](std::tuple<genesys::result<genesys::api_response<bool>>> t) {
        tuple_ok = std::get<0>(t).has_value() && std::get<0>(t)->data;
    }));

    int group_done = 0;
    asio::experimental::make_parallel_group(api.async_get_tokens_me(asio::deferred), api.async_verify_token(asio::deferred))
        .async_wait(asio::experimental::wait_for_all(),
                    [&](std::array<std::size_t, 2>, genesys::result<genesys::api_response<genesys::token_info>> a,
                        genesys::result<genesys::api_response<bool>> b) {
                        if (a && b && b->data)
                            ++group_done;
                    });
    ioc.run();

    REQUIRE(cb.value);
    CHECK(cb.calls == 1);
    CHECK((*cb.value)->data.organization->name == "Acme Contact Centre");
    REQUIRE(later.value);
    CHECK(later.value->has_value());
    CHECK(from_coroutine == "Acme Contact Centre");
    CHECK(tuple_ok == true);
    CHECK(group_done == 1);
    const auto reqs = fake.requests();
    CHECK(reqs.size() == 7);
    CHECK(std::count_if(reqs.begin(), reqs.end(),
                        [](const auto& r) { return r.url.ends_with("preserveIdleTTL=true"); }) == 1);
}

TEST_CASE("handlers never run inline, run once, and on their associated executor")
{
    asio::io_context ioc;
    async_fake_transport fake{ioc.get_executor()};
    fake.respond_by_default(fixtures::json_response(200, fixtures::token_info_json));
    genesys::async_tokens_api api{fake, config()};
    auto strand = asio::make_strand(ioc);

    int calls = 0;
    bool on_strand = false;
    api.async_get_tokens_me(asio::bind_executor(strand, [&](auto r) {
        ++calls;
        on_strand = strand.running_in_this_thread() && r.has_value();
    }));
    // Rejected before sending: still completed from the executor, not from this call.
    int rejected_calls = 0;
    std::optional<genesys::error_kind> kind;
    api.async_delete_token("", [&](auto r) {
        ++rejected_calls;
        kind = r.error().kind;
    });
    // A bad configuration fails where it is made (#37), not at the first call.
    CHECK_THROWS_AS(genesys::async_tokens_api(fake, config("")), genesys::invalid_argument_error);
    CHECK(calls == 0);
    CHECK(rejected_calls == 0);
    ioc.run();
    CHECK(calls == 1);
    CHECK(on_strand);
    CHECK(rejected_calls == 1);
    CHECK(kind == genesys::error_kind::invalid_argument);
    CHECK(fake.request_count() == 1); // nothing sent for the rejected one
}

TEST_CASE("a handler bound to a strand of any_io_executor: compiles, runs once on the strand")
{
    // make_strand(socket.get_executor()) is a strand of any_io_executor, for which Asio 1.26's
    // executor_work_guard does not compile (this test did not, before): the call keeps its work
    // on the strand's inner executor. The fake's own executor is such a strand too, its answer
    // held back (manual) so that the work kept is what keeps run() going.
    asio::io_context ioc;
    const auto strand = asio::make_strand(asio::any_io_executor(ioc.get_executor()));
    async_fake_transport fake{strand};
    fake.respond_by_default(fixtures::json_response(200, fixtures::token_info_json));
    fake.manual();
    genesys::async_tokens_api api{fake, config()};
    int calls = 0;
    bool on_strand = false;
    api.async_get_tokens_me(asio::bind_executor(strand, [&](auto r) {
        ++calls;
        on_strand = strand.running_in_this_thread() && r.has_value();
    }));
    std::thread answer([&] {
        while (fake.waiting() == 0)
            std::this_thread::sleep_for(1ms);
        fake.complete_next();
    });
    ioc.run(); // returns only once the handler ran: the pending send keeps work
    answer.join();
    CHECK(calls == 1);
    CHECK(on_strand);
}

TEST_CASE("an any_completion_handler token: its executor is type-erased, the rules hold")
{
    // Asio 1.26's any_completion_executor cannot be required to be blocking.never, so nothing may
    // post to it directly (this did not compile before): the handler still runs once, not inline,
    // on the strand it was bound to; through a token source's wait too.
    asio::io_context ioc;
    async_fake_transport fake{ioc.get_executor()};
    fake.respond_by_default(fixtures::json_response(200, fixtures::token_info_json));
    async_fake_transport login{ioc.get_executor()};
    login.respond(fixtures::json_response(200, R"({"access_token":"erased-token","expires_in":3600})"));
    genesys::oauth_config oc{.login_url = "https://login.example.com", .client_id = "id", .client_secret = "s3cret-value"};
    auto source = genesys::make_client_credentials_source(genesys::oauth_client{login, oc});
    genesys::async_tokens_api api{fake, {.token_source = source}};
    auto strand = asio::make_strand(ioc);

    using info_handler = asio::any_completion_handler<void(genesys::result<genesys::api_response<genesys::token_info>>)>;
    int calls = 0;
    bool on_strand = false;
    api.async_get_tokens_me(info_handler(asio::bind_executor(strand, [&](auto r) {
        ++calls;
        on_strand = strand.running_in_this_thread() && r.has_value();
    })));
    using token_handler = asio::any_completion_handler<void(genesys::result<std::string>)>;
    std::optional<std::string> token;
    bool token_on_strand = false;
    genesys::async_token(*source, ioc.get_executor(), token_handler(asio::bind_executor(strand, [&](auto r) {
        token_on_strand = strand.running_in_this_thread();
        token = r.value();
    })));
    CHECK(calls == 0);
    CHECK(!token);
    ioc.run();
    CHECK(calls == 1);
    CHECK(on_strand);
    CHECK(token == "erased-token");
    CHECK(token_on_strand);
    CHECK(login.request_count() == 1);
    CHECK(fake.last_request()->headers.get("Authorization") == "Bearer erased-token");
}

TEST_CASE("arguments are copied at initiation: a deferred operation outlives its string_view")
{
    asio::io_context ioc;
    async_fake_transport fake{ioc.get_executor()};
    fake.respond_by_default(fixtures::json_response(204, ""));
    genesys::async_tokens_api api{fake, config()};
    auto op = [&] {
        std::string id = "user with spaces/and/slashes";
        auto deferred_op = api.async_delete_token(id);
        id.assign(id.size(), 'X'); // overwrite, then destroy
        return deferred_op;
    }();
    captured<void> done;
    std::move(op)(done.handler());
    ioc.run();
    REQUIRE(done.value);
    CHECK(done.value->has_value());
    CHECK(fake.last_request()->url ==
          "https://api.mypurecloud.com/api/v2/tokens/user%20with%20spaces%2Fand%2Fslashes");
}

TEST_CASE("retries wait on timers, not threads, and say how many attempts they made")
{
    asio::io_context ioc;
    async_fake_transport fake{ioc.get_executor()};
    fake.respond(fixtures::json_response(503, "{}")).respond(fixtures::json_response(503, "{}"));
    fake.respond(fixtures::json_response(200, fixtures::token_info_json));
    auto cfg = config();
    cfg.retry = genesys::retry_policy::standard();
    cfg.retry.initial_backoff = 20ms;
    cfg.retry.sleep = [](std::chrono::milliseconds) { FAIL("the async driver must not sleep"); };
    genesys::async_tokens_api api{fake, cfg};
    captured<genesys::token_info> ok;
    api.async_get_tokens_me(ok.handler());
    const auto t0 = std::chrono::steady_clock::now();
    ioc.run();
    REQUIRE(ok.value);
    CHECK(ok.value->has_value());
    CHECK(fake.request_count() == 3);
    CHECK(std::chrono::steady_clock::now() - t0 >= 20ms); // two waits of at least half the backoff

    ioc.restart();
    fake.respond(fixtures::json_response(503, "{}")).respond(fixtures::json_response(503, "{}"));
    cfg.retry.max_attempts = 2;
    genesys::async_tokens_api twice{fake, cfg};
    captured<genesys::token_info> failed;
    twice.async_get_tokens_me(failed.handler());
    ioc.run();
    REQUIRE(failed.value);
    REQUIRE(!failed.value->has_value());
    CHECK(failed.value->error().attempts == 2);
    CHECK(failed.value->error().message.find("(gave up after 2 attempts: max_attempts is 2)") != std::string::npos);
}

TEST_CASE("cancellation ends the call at once in every phase")
{
    asio::io_context ioc;
    async_fake_transport fake{ioc.get_executor()};

    SUBCASE("while the request is in flight")
    {
        fake.manual();
        fake.respond(fixtures::json_response(200, fixtures::token_info_json));
        genesys::async_tokens_api api{fake, config()};
        asio::cancellation_signal signal;
        captured<genesys::token_info> done;
        api.async_get_tokens_me(asio::bind_cancellation_slot(signal.slot(), done.handler()));
        poll(ioc);
        CHECK(fake.waiting() == 1);
        signal.emit(asio::cancellation_type::terminal);
        poll(ioc);
        REQUIRE(done.value);
        REQUIRE(!done.value->has_value());
        CHECK(done.value->error().kind == genesys::error_kind::network);
        CHECK(done.value->error().code == boost::system::errc::operation_canceled);
        CHECK(fake.waiting() == 0);
        CHECK(done.calls == 1);
    }
    SUBCASE("while waiting to retry")
    {
        genesys::http_headers h{{"Retry-After", "20"}};
        fake.respond(429, std::string(fixtures::rate_limit_body), h);
        auto cfg = config();
        cfg.retry = genesys::retry_policy::standard();
        genesys::async_tokens_api api{fake, cfg};
        asio::cancellation_signal signal;
        captured<genesys::token_info> done;
        api.async_get_tokens_me(asio::bind_cancellation_slot(signal.slot(), done.handler()));
        asio::steady_timer later{ioc, 30ms};
        later.async_wait([&](auto) { signal.emit(asio::cancellation_type::terminal); });
        const auto t0 = std::chrono::steady_clock::now();
        ioc.run();
        CHECK(std::chrono::steady_clock::now() - t0 < 5s); // not the 20 s wait
        REQUIRE(done.value);
        REQUIRE(!done.value->has_value());
        CHECK(done.value->error().code == boost::system::errc::operation_canceled);
        CHECK(fake.request_count() == 1);
    }
    SUBCASE("while waiting for a token")
    {
        // A grant over a manual fake: it never answers until told to.
        async_fake_transport login{ioc.get_executor()};
        login.manual();
        login.respond(fixtures::json_response(200, R"({"access_token":"fresh-token","expires_in":3600})"));
        genesys::oauth_config oc{.login_url = "https://login.example.com", .client_id = "id", .client_secret = "s3cret-value"};
        auto source = genesys::make_client_credentials_source(genesys::oauth_client{login, oc});
        genesys::async_tokens_api api{fake, {.token_source = source}};
        asio::cancellation_signal signal;
        captured<genesys::token_info> done;
        api.async_get_tokens_me(asio::bind_cancellation_slot(signal.slot(), done.handler()));
        poll(ioc);
        CHECK(login.waiting() == 1);
        CHECK(source->waiting() == 0); // it started the fetch: it is not waiting for another's
        signal.emit(asio::cancellation_type::terminal);
        poll(ioc);
        REQUIRE(done.value);
        REQUIRE(!done.value->has_value());
        CHECK(done.value->error().code == boost::system::errc::operation_canceled);
        CHECK(fake.request_count() == 0);
        // The fetch goes on and caches its token for the next call.
        login.complete_next();
        poll(ioc);
        CHECK(source->fresh_token() == "fresh-token");
    }
}

TEST_CASE("call_timeout ends a call that takes longer, whatever it is waiting for")
{
    asio::io_context ioc;
    async_fake_transport fake{ioc.get_executor()};
    fake.complete_after(10s);
    fake.respond(fixtures::json_response(200, fixtures::token_info_json));
    auto cfg = config();
    cfg.call_timeout = 50ms;
    genesys::async_tokens_api api{fake, cfg};
    captured<genesys::token_info> done;
    const auto t0 = std::chrono::steady_clock::now();
    api.async_get_tokens_me(done.handler());
    ioc.run();
    CHECK(std::chrono::steady_clock::now() - t0 < 5s);
    REQUIRE(done.value);
    REQUIRE(!done.value->has_value());
    const auto& e = done.value->error();
    CHECK(e.kind == genesys::error_kind::network);
    CHECK(e.code == genesys::errc::deadline_exceeded);
    CHECK(!genesys::detail::is_transient_network_error(e.code));
    CHECK(e.message.find("call_timeout is 50 ms") != std::string::npos);
    // Said once: the code's text, then the number (it read "... within its timeout [...]: the
    // call did not finish within its timeout of 50 ms").
    const auto said = e.message.find("within its timeout");
    REQUIRE(said != std::string::npos);
    CHECK(e.message.find("within its timeout", said + 1) == std::string::npos);
    CHECK_THROWS_AS(done.value->value(), genesys::network_error);

    // A retry whose wait would pass the deadline is not made: the last error comes back at once.
    ioc.restart();
    async_fake_transport limited{ioc.get_executor()};
    limited.respond(429, std::string(fixtures::rate_limit_body), {{"Retry-After", "5"}});
    cfg.retry = genesys::retry_policy::standard();
    cfg.call_timeout = 2s;
    genesys::async_tokens_api api2{limited, cfg};
    captured<genesys::token_info> last;
    api2.async_get_tokens_me(last.handler());
    const auto t1 = std::chrono::steady_clock::now();
    ioc.run();
    CHECK(std::chrono::steady_clock::now() - t1 < 1s);
    REQUIRE(last.value);
    REQUIRE(!last.value->has_value());
    CHECK(last.value->error().status == 429);
}

/// An async_fake_transport that records the thread each send starts on.
struct thread_recording_transport {
    async_fake_transport* fake;
    std::shared_ptr<std::vector<std::thread::id>> threads = std::make_shared<std::vector<std::thread::id>>();
    std::shared_ptr<std::mutex> mutex = std::make_shared<std::mutex>();

    auto get_executor() const { return fake->get_executor(); }

    template <class CompletionToken>
    auto async_send(const genesys::http_request& request, CompletionToken&& token)
    {
        {
            std::lock_guard lock(*mutex);
            threads->push_back(std::this_thread::get_id());
        }
        return fake->async_send(request, std::forward<CompletionToken>(token));
    }
};

TEST_CASE("use_future: the steps of a call run on the I/O thread, where its deadline runs")
{
    // The step after a token wait went to use_future's executor by a post, i.e. to a thread of
    // the system pool, while the call's deadline timer completed on the I/O thread: ThreadSanitizer
    // saw them race on the call's state with one I/O thread and no cancellation.
    asio::io_context ioc;
    async_fake_transport login{ioc.get_executor()};
    login.complete_after(1ms);
    login.respond_by_default(fixtures::json_response(200, R"({"access_token":"pooled-token","expires_in":3600})"));
    genesys::oauth_config oc{.login_url = "https://login.example.com", .client_id = "id", .client_secret = "s3cret-value"};
    auto source = genesys::make_client_credentials_source(genesys::oauth_client{login, oc});
    async_fake_transport fake{ioc.get_executor()};
    fake.complete_after(1ms);
    fake.respond_by_default(fixtures::json_response(200, fixtures::token_info_json));
    thread_recording_transport recording{&fake};
    auto threads = recording.threads;
    genesys::async_tokens_api api{recording, {.call_timeout = 30s, .token_source = source}};

    auto work = asio::make_work_guard(ioc);
    std::promise<std::thread::id> io_id;
    std::thread io([&] {
        io_id.set_value(std::this_thread::get_id());
        ioc.run();
    });
    const auto io_thread = io_id.get_future().get();
    std::vector<std::future<genesys::result<genesys::api_response<genesys::token_info>>>> calls;
    for (int i = 0; i < 50; ++i) {
        calls.push_back(api.async_get_tokens_me(true, asio::use_future));
        if (i == 0)
            source->clear(); // the next calls wait for a token again
    }
    int ok = 0;
    for (auto& c : calls)
        ok += c.get().has_value();
    work.reset();
    io.join();
    CHECK(ok == 50);
    // Every send started on the I/O thread (or, the first step of a call, on this one).
    int on_io = 0, elsewhere = 0;
    for (const auto& id : *threads) {
        if (id == io_thread)
            ++on_io;
        else if (id != std::this_thread::get_id())
            ++elsewhere;
    }
    CHECK(elsewhere == 0);
    CHECK(on_io >= 1); // at least the sends that waited for the token
}

TEST_CASE("call_timeout with several I/O threads: each call ends once, by its answer or its deadline")
{
    // The deadline and the steps of one call run one at a time (on the handler's strand, or on a
    // strand of the call's own): run under ThreadSanitizer in CI with plain callbacks, use_future,
    // deferred, use_awaitable, any_completion_handler and strand-bound handlers.
    asio::io_context ioc;
    async_fake_transport fake{ioc.get_executor()};
    fake.respond_by_default(fixtures::json_response(200, fixtures::token_info_json));
    auto cfg = config();
    cfg.call_timeout = 3ms;
    genesys::async_tokens_api api{fake, cfg};
    auto work = asio::make_work_guard(ioc);
    std::vector<std::thread> io;
    for (int i = 0; i < 3; ++i)
        io.emplace_back([&] { ioc.run(); });
    constexpr int rounds = 40;
    std::atomic<int> answered = 0, completions = 0, deadlines = 0, others = 0;
    auto count = [&](const auto& r) {
        ++completions;
        if (r)
            ++answered;
        else if (r.error().code == genesys::errc::deadline_exceeded)
            ++deadlines;
        else
            ++others;
    };
    std::vector<std::future<genesys::result<genesys::api_response<genesys::token_info>>>> futures;
    for (int i = 0; i < rounds; ++i) {
        fake.complete_after(std::chrono::milliseconds(i % 6)); // on both sides of the deadline
        api.async_get_tokens_me([&](auto r) { count(r); });
        api.async_get_tokens_me(asio::bind_executor(asio::make_strand(ioc), [&](auto r) { count(r); }));
        asio::any_completion_handler<void(genesys::result<genesys::api_response<genesys::token_info>>)> erased(
            [&](auto r) { count(r); });
        api.async_get_tokens_me(std::move(erased));
        futures.push_back(api.async_get_tokens_me(asio::use_future));
        api.async_get_tokens_me(asio::deferred)([&](auto r) { count(r); });
        asio::co_spawn(
            ioc,
            [&]() -> asio::awaitable<void> { count(co_await api.async_get_tokens_me(asio::use_awaitable)); },
            asio::detached);
    }
    for (auto& f : futures)
        count(f.get());
    work.reset();
    for (auto& t : io)
        t.join();
    CHECK(completions == 6 * rounds);
    CHECK(others == 0);
    CHECK(answered + deadlines == 6 * rounds);
}

/// Fails every send, saying why in the response's body as the library's transports do.
struct explaining_async_transport {
    asio::any_io_executor ex;
    std::string why;

    asio::any_io_executor get_executor() const { return ex; }

    template <class CompletionToken>
    auto async_send(const genesys::http_request&, CompletionToken&& token)
    {
        return asio::async_initiate<CompletionToken, void(boost::system::error_code, genesys::http_response)>(
            [](auto handler, asio::any_io_executor ex, std::string why) {
                genesys::http_response res;
                res.body = std::move(why);
                asio::post(ex, asio::append(std::move(handler),
                                            boost::system::error_code(asio::error::connection_refused), std::move(res)));
            },
            token, ex, why);
    }
};

TEST_CASE("a transport's own words about a failure reach the error's message, the token removed")
{
    // They were dropped: "network error: Connection refused" said nothing of where or why.
    asio::io_context ioc;
    explaining_async_transport t{ioc.get_executor(),
                                 "connect to 127.0.0.1:1: Connection refused (sent test-token-0123456789)"};
    genesys::async_tokens_api api{t, config("test-token-0123456789")};
    auto f = api.async_get_tokens_me(asio::use_future);
    ioc.run();
    auto r = f.get();
    REQUIRE(!r.has_value());
    CHECK(r.error().kind == genesys::error_kind::network);
    CHECK(r.error().message.find("connect to 127.0.0.1:1: Connection refused") != std::string::npos);
    CHECK(r.error().message.find("test-token-0123456789") == std::string::npos);
}

TEST_CASE("destroying the client or the io_context with operations in flight is safe")
{
    SUBCASE("the client: its operations complete")
    {
        asio::io_context ioc;
        async_fake_transport fake{ioc.get_executor()};
        fake.complete_after(5ms).respond_by_default(fixtures::json_response(200, fixtures::token_info_json));
        int ok = 0;
        {
            genesys::async_tokens_api api{fake, config()};
            for (int i = 0; i < 10; ++i)
                api.async_get_tokens_me([&](auto r) { ok += r.has_value(); });
            genesys::async_tokens_api moved{std::move(api)};
            moved.async_verify_token([&](auto r) { ok += r.has_value() && r->data; });
        }
        ioc.run();
        CHECK(ok == 11);
    }
    SUBCASE("the io_context: nothing leaks, nothing runs")
    {
        int ran = 0;
        {
            asio::io_context ioc;
            async_fake_transport fake{ioc.get_executor()};
            fake.complete_after(1h).respond_by_default(fixtures::json_response(200, fixtures::token_info_json));
            genesys::async_tokens_api api{fake, config()};
            auto cfg = config();
            cfg.call_timeout = 30min;
            genesys::async_tokens_api timed{fake, cfg};
            for (int i = 0; i < 5; ++i) {
                api.async_get_tokens_me([&](auto) { ++ran; });
                timed.async_verify_token([&](auto) { ++ran; });
            }
            poll(ioc);
        }
        CHECK(ran == 0);
    }
    SUBCASE("the io_context, destroyed once the handlers (on another executor) have run")
    {
        // The handlers run on another executor (as use_future's run on the system executor's
        // threads): what an operation still holds after its handler has run may be dropped
        // there after the io_context is gone. Nothing it holds may need the io_context then: its
        // timers are gone before the handler runs. (A timer of the token wait destroyed after
        // its io_context was seen by UBSan in CI.)
        asio::io_context handlers;
        std::optional<bool> call_ok, token_ok;
        {
            asio::io_context ioc;
            async_fake_transport fake{ioc.get_executor()};
            fake.respond(fixtures::json_response(200, fixtures::token_info_json));
            async_fake_transport login{ioc.get_executor()};
            login.respond(fixtures::json_response(200, R"({"access_token":"grant-token","expires_in":3600})"));
            genesys::oauth_config oc{.login_url = "https://login.example.com", .client_id = "id",
                                     .client_secret = "s3cret-value"};
            auto source = genesys::make_client_credentials_source(genesys::oauth_client{login, oc},
                                                                  {.wait_timeout = 1h}); // a timer
            {
                auto cfg = config();
                cfg.call_timeout = 30min; // a deadline timer
                genesys::async_tokens_api api{fake, cfg};
                api.async_get_tokens_me(
                    asio::bind_executor(handlers, [&](const auto& r) { call_ok = r.has_value(); }));
            } // the operation holds the client now
            genesys::async_token(*source, ioc.get_executor(),
                                 asio::bind_executor(handlers, [&](const auto& r) { token_ok = r.has_value(); }));
            for (int i = 0; i < 100 && !(call_ok && token_ok); ++i) {
                poll(ioc);
                poll(handlers);
            }
            poll(ioc); // the ends of the cancelled timer waits go to `handlers`
        }
        poll(handlers); // the io_context is gone: drops the operations' last references
        CHECK(call_ok == true);
        CHECK(token_ok == true);
    }
}

TEST_CASE("a token source serves async calls: one grant for many, the 401 refresh, delete_tokens_me")
{
    asio::io_context ioc;
    async_fake_transport login{ioc.get_executor()};
    login.manual();
    login.respond(fixtures::json_response(200, R"({"access_token":"token-one","expires_in":3600})"))
        .respond(fixtures::json_response(200, R"({"access_token":"token-two","expires_in":3600})"));
    genesys::oauth_config oc{.login_url = "https://login.example.com", .client_id = "id", .client_secret = "s3cret-value"};
    auto source = genesys::make_client_credentials_source(genesys::oauth_client{login, oc});

    async_fake_transport fake{ioc.get_executor()};
    genesys::async_tokens_api api{fake, {.token_source = source}};
    fake.respond_by_default(fixtures::json_response(200, fixtures::token_info_json));

    std::atomic<int> ok = 0;
    for (int i = 0; i < 100; ++i)
        api.async_get_tokens_me([&](auto r) { ok += r.has_value(); });
    poll(ioc);
    CHECK(login.request_count() == 1); // one grant for all of them
    CHECK(source->waiting() == 99);
    CHECK(fake.request_count() == 0);
    login.complete_next();
    poll(ioc);
    CHECK(ok == 100);
    CHECK(source->fetch_count() == 1);
    for (const auto& r : fake.requests())
        CHECK(r.headers.get("Authorization") == "Bearer token-one");
    CHECK(login.last_request()->body == "grant_type=client_credentials");

    // A 401 drops the token, gets a fresh one and sends once more.
    fake.respond(fixtures::json_response(401, R"({"message":"expired","code":"bad.credentials","status":401})"));
    captured<genesys::token_info> refreshed;
    api.async_get_tokens_me(refreshed.handler());
    poll(ioc);
    CHECK(login.waiting() == 1);
    login.complete_next();
    poll(ioc);
    REQUIRE(refreshed.value);
    CHECK(refreshed.value->has_value());
    CHECK(fake.last_request()->headers.get("Authorization") == "Bearer token-two");

    // delete_tokens_me drops the token it revoked.
    captured<void> revoked;
    api.async_delete_tokens_me(revoked.handler());
    poll(ioc);
    REQUIRE(revoked.value);
    CHECK(revoked.value->has_value());
    CHECK(!source->fresh_token());
}

TEST_CASE("a token source with only a blocking grant never runs it for an async call")
{
    asio::io_context ioc;
    async_fake_transport fake{ioc.get_executor()};
    int grants = 0;
    auto source = std::make_shared<genesys::token_source>([&]() -> genesys::result<genesys::api_response<genesys::oauth_token>> {
        ++grants;
        return genesys::api_response<genesys::oauth_token>{{200, {}}, {"blocking-token", "bearer", 3600, {}}};
    });
    genesys::async_tokens_api api{fake, {.token_source = source}};
    captured<bool> done;
    api.async_verify_token(done.handler());
    ioc.run();
    REQUIRE(done.value);
    REQUIRE(!done.value->has_value());
    CHECK(done.value->error().kind == genesys::error_kind::invalid_argument);
    CHECK(grants == 0);
    // Once a blocking caller has a token, async callers get it from the cache.
    CHECK(source->token() == "blocking-token");
    fake.respond(fixtures::json_response(200, ""));
    ioc.restart();
    captured<bool> cached;
    api.async_verify_token(cached.handler());
    ioc.run();
    REQUIRE(cached.value);
    CHECK((*cached.value)->data);
}

TEST_CASE("async_token: the wait timeout bounds a wait for another call's fetch, not the caller that starts it")
{
    asio::io_context ioc;
    async_fake_transport login{ioc.get_executor()};
    login.manual();
    login.respond(fixtures::json_response(200, R"({"access_token":"late-token","expires_in":3600})"));
    genesys::oauth_config oc{.login_url = "https://login.example.com", .client_id = "id", .client_secret = "s3cret-value"};
    auto source = genesys::make_client_credentials_source(genesys::oauth_client{login, oc}, {.wait_timeout = 20ms});
    std::optional<genesys::result<std::string>> starter, joiner;
    genesys::async_token(*source, ioc.get_executor(), [&](genesys::result<std::string> r) { starter = std::move(r); });
    genesys::async_token(*source, ioc.get_executor(), [&](genesys::result<std::string> r) { joiner = std::move(r); });
    CHECK(!starter); // never inline
    CHECK(!joiner);
    ioc.run_for(200ms);
    // The caller that started the login waits for it (its grant's own call_timeout bounds it)...
    CHECK(!starter);
    // ... the one that joined it gave up after wait_timeout; the fetch goes on.
    REQUIRE(joiner);
    REQUIRE(!joiner->has_value());
    CHECK(joiner->error().code == boost::system::errc::timed_out);
    CHECK(source->waiting() == 0);
    login.complete_next();
    ioc.restart();
    poll(ioc);
    REQUIRE(starter);
    CHECK(starter->value() == "late-token");
    auto cached = genesys::async_token(*source, ioc.get_executor(), asio::use_future);
    ioc.restart();
    ioc.run();
    CHECK(cached.get().value() == "late-token");
}

/// An allocator that counts what it allocates.
template <class T>
struct counting_allocator {
    using value_type = T;
    std::shared_ptr<std::atomic<int>> count;
    explicit counting_allocator(std::shared_ptr<std::atomic<int>> c) : count(std::move(c)) {}
    template <class U>
    counting_allocator(const counting_allocator<U>& o) : count(o.count) {}
    T* allocate(std::size_t n)
    {
        ++*count;
        return std::allocator<T>().allocate(n);
    }
    void deallocate(T* p, std::size_t n) { std::allocator<T>().deallocate(p, n); }
    template <class U>
    bool operator==(const counting_allocator<U>& o) const { return count == o.count; }
};

TEST_CASE("async_token: the wait's state comes from the handler's associated allocator")
{
    asio::io_context ioc;
    async_fake_transport login{ioc.get_executor()};
    login.respond(fixtures::json_response(200, R"({"access_token":"alloc-token","expires_in":3600})"));
    genesys::oauth_config oc{.login_url = "https://login.example.com", .client_id = "id", .client_secret = "s3cret-value"};
    auto source = genesys::make_client_credentials_source(genesys::oauth_client{login, oc});
    auto count = std::make_shared<std::atomic<int>>(0);
    std::optional<genesys::result<std::string>> got;
    genesys::async_token(*source, ioc.get_executor(),
                         asio::bind_allocator(counting_allocator<void>(count),
                                              [&](genesys::result<std::string> r) { got = std::move(r); }));
    ioc.run();
    REQUIRE(got);
    CHECK(got->value() == "alloc-token");
    CHECK(*count >= 1);
}

TEST_CASE("async_token: each waiter is answered exactly once, whatever the interleaving")
{
    // wait_timeout 0 and two I/O threads: a timer armed before the waiter was registered fired on
    // one of them while the thread that started the wait registered it, which answered it again
    // (1-2% of waits; the second completion resumed a finished call inside async_tokens_api).
    asio::io_context ioc;
    async_fake_transport login{ioc.get_executor()};
    login.respond_by_default(fixtures::json_response(200, R"({"access_token":"cached-token","expires_in":3600})"));
    genesys::oauth_config oc{.login_url = "https://login.example.com", .client_id = "id", .client_secret = "s3cret-value"};
    auto source = genesys::make_client_credentials_source(genesys::oauth_client{login, oc}, {.wait_timeout = 0ms});
    for (const bool cached : {true, false}) {
        CAPTURE(cached);
        if (cached) { // registering answers at once, from the cache
            auto first = genesys::async_token(*source, ioc.get_executor(), asio::use_future);
            ioc.run();
            REQUIRE(first.get().value() == "cached-token");
        } else { // registering joins a fetch under way (its waiters time out at once)
            source->clear();
            login.manual();
        }
        ioc.restart();
        auto work = asio::make_work_guard(ioc);
        std::vector<std::thread> io;
        for (int i = 0; i < 2; ++i)
            io.emplace_back([&] { ioc.run(); });
        constexpr int waits = 20000;
        std::vector<std::atomic<int>> answers(waits);
        std::atomic<int> tokens = 0;
        struct count {
            std::atomic<int>* answer;
            std::atomic<int>* tokens;
            void operator()(genesys::result<std::string> r) const
            {
                answer->fetch_add(1);
                if (r)
                    tokens->fetch_add(1);
            }
        };
        std::thread starter([&] { // a third thread starts the waits
            for (auto& a : answers)
                genesys::async_token(*source, ioc.get_executor(), count{&a, &tokens});
        });
        starter.join();
        if (!cached)
            while (login.complete_next()) // the fetch ends: the waiters not yet timed out get it
                ;
        work.reset();
        for (auto& t : io)
            t.join();
        int twice = 0, never = 0;
        for (auto& a : answers) {
            twice += a.load() > 1;
            never += a.load() == 0;
        }
        CHECK(twice == 0);
        CHECK(never == 0);
        if (cached)
            CHECK(tokens == waits); // answered from the cache, never "timed out"
        CHECK(source->waiting() == 0);
        login.manual(false);
    }
}

TEST_CASE("the logger sees the same events as for a blocking call, token redacted")
{
    struct seen {
        std::string operation, url, authorization, line;
        int attempt, status;
        bool operator==(const seen& o) const
        {
            return operation == o.operation && url == o.url && authorization == o.authorization &&
                   attempt == o.attempt && status == o.status;
        }
    };
    auto record = [](std::vector<seen>& into) {
        // An event's views live for the logger call only: copy what is checked.
        return [&into](const genesys::log_event& e) {
            into.push_back({std::string(e.operation), std::string(e.url),
                            std::string(e.request_headers.get("Authorization").value_or("")), genesys::to_string(e),
                            e.attempt, e.status});
        };
    };
    auto cfg = config(std::string(fixtures::secret_token));
    cfg.retry = genesys::retry_policy::standard();
    cfg.retry.initial_backoff = 1ms;

    std::vector<seen> blocking;
    genesys::testing::fake_transport sync_fake;
    sync_fake.respond(fixtures::json_response(503, "{}")).respond(fixtures::json_response(200, fixtures::token_info_json));
    cfg.logger = record(blocking);
    genesys::tokens_api sync_api{sync_fake, cfg};
    CHECK(sync_api.try_get_tokens_me().has_value());

    std::vector<seen> events;
    asio::io_context ioc;
    async_fake_transport fake{ioc.get_executor()};
    fake.respond(fixtures::json_response(503, "{}")).respond(fixtures::json_response(200, fixtures::token_info_json));
    cfg.logger = record(events);
    genesys::async_tokens_api api{fake, cfg};
    api.async_get_tokens_me([](auto) {});
    ioc.run();
    REQUIRE(events.size() == 2);
    CHECK(events[0].status == 503);
    CHECK(events[0].attempt == 1);
    CHECK(events[1].attempt == 2);
    CHECK(events[1].authorization == "[REDACTED]");
    CHECK(events[1].line.find(fixtures::secret_token) == std::string::npos);
    CHECK(events == blocking);
}

TEST_CASE("async grants of oauth_client: the same request and errors as the blocking ones")
{
    asio::io_context ioc;
    async_fake_transport login{ioc.get_executor()};
    genesys::oauth_config oc{.login_url = "https://login.example.com", .client_id = "id", .client_secret = "s3cret-value"};
    genesys::oauth_client client{login, oc};
    login.respond(fixtures::json_response(200, R"({"access_token":"a","expires_in":60,"refresh_token":"r2"})"));
    login.respond(fixtures::json_response(400, R"({"error":"invalid_grant","description":"refresh token s3cret-value is bad"})"));
    auto ok = client.async_refresh_token("r1", asio::use_future);
    auto refused = client.async_refresh_token("r-bad", asio::use_future);
    auto rejected = client.async_authorization_code("", "http://x", "", asio::use_future);
    ioc.run();
    auto r = ok.get();
    REQUIRE(r.has_value());
    CHECK(r->data.refresh_token == "r2");
    CHECK(login.requests()[0].body == "grant_type=refresh_token&refresh_token=r1");
    auto e = refused.get();
    REQUIRE(!e.has_value());
    CHECK(e.error().body->code == "invalid_grant");
    CHECK(e.error().message.find("s3cret-value") == std::string::npos);
    CHECK(e.error().raw_body.find("s3cret-value") == std::string::npos);
    auto bad = rejected.get();
    REQUIRE(!bad.has_value());
    CHECK(bad.error().kind == genesys::error_kind::invalid_argument);
    CHECK(login.request_count() == 2);
}

TEST_CASE("many threads run one io_context: every call completes once, one grant")
{
    asio::io_context ioc;
    async_fake_transport login{ioc.get_executor()};
    login.complete_after(5ms);
    login.respond(fixtures::json_response(200, R"({"access_token":"shared-token","expires_in":3600})"));
    genesys::oauth_config oc{.login_url = "https://login.example.com", .client_id = "id", .client_secret = "s3cret-value"};
    auto source = genesys::make_client_credentials_source(genesys::oauth_client{login, oc});
    async_fake_transport fake{ioc.get_executor()};
    fake.respond_by_default(fixtures::json_response(200, fixtures::token_info_json));
    genesys::async_tokens_api api{fake, {.token_source = source}};
    std::atomic<int> ok = 0, calls = 0;
    for (int i = 0; i < 400; ++i)
        api.async_get_tokens_me(asio::bind_executor(asio::make_strand(ioc), [&](auto r) {
            ++calls;
            ok += r.has_value();
        }));
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
        threads.emplace_back([&] { ioc.run(); });
    for (auto& t : threads)
        t.join();
    CHECK(calls == 400);
    CHECK(ok == 400);
    CHECK(login.request_count() == 1);
}

TEST_CASE("blocking and asynchronous callers share one fetch of an asynchronous grant")
{
    asio::io_context ioc;
    async_fake_transport login{ioc.get_executor()};
    login.manual();
    login.respond(fixtures::json_response(200, R"({"access_token":"one-for-all","expires_in":3600})"));
    genesys::oauth_config oc{.login_url = "https://login.example.com", .client_id = "id", .client_secret = "s3cret-value"};
    auto source = genesys::make_client_credentials_source(genesys::oauth_client{login, oc});

    std::vector<std::optional<genesys::result<std::string>>> async_answers(5);
    for (auto& slot : async_answers)
        genesys::async_token(*source, ioc.get_executor(), [&slot](genesys::result<std::string> r) { slot = std::move(r); });
    poll(ioc);
    CHECK(login.waiting() == 1);

    // A blocking caller on another thread waits for the same fetch (never on the I/O thread).
    std::promise<genesys::result<std::string>> blocking;
    std::thread t([&] { blocking.set_value(source->try_token()); });
    while (source->waiting() < 5) // four async waiters besides the starter, and the thread
        std::this_thread::sleep_for(1ms);
    CHECK(login.request_count() == 1);
    login.complete_next();
    poll(ioc);
    t.join();
    CHECK(blocking.get_future().get().value() == "one-for-all");
    for (auto& a : async_answers) {
        REQUIRE(a);
        CHECK(a->value() == "one-for-all");
    }
    CHECK(source->fetch_count() == 1);
    CHECK(source->waiting() == 0);
}

TEST_CASE("asynchronously too, one comparison with a genesys::condition classifies a failure")
{
    asio::io_context ioc;
    async_fake_transport fake{ioc.get_executor()};
    genesys::async_tokens_api api{fake, config()};
    fake.respond(fixtures::json_response(429, fixtures::rate_limit_body))
        .respond(fixtures::json_response(404, "{}"))
        .fail(boost::system::errc::make_error_code(boost::system::errc::connection_refused));
    captured<genesys::token_info> limited, missing, refused;
    api.async_get_tokens_me(limited.handler());
    ioc.run();
    api.async_get_tokens_me(missing.handler());
    ioc.restart();
    ioc.run();
    api.async_get_tokens_me(refused.handler());
    ioc.restart();
    ioc.run();
    REQUIRE(limited.value);
    REQUIRE(missing.value);
    REQUIRE(refused.value);
    CHECK(limited.value->error().code == genesys::condition::rate_limited);
    CHECK(missing.value->error().code == genesys::condition::not_found);
    CHECK(refused.value->error().code == genesys::condition::network);
}
