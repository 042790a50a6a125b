// SPDX-License-Identifier: BSL-1.0
// <genesys/testing/fake_transport.hpp>: the blocking fake transport the other suites use.
#include <genesys/testing/fake_transport.hpp>

#include "fixtures.hpp"

#include <atomic>
#include <thread>
#include <vector>

using genesys::testing::fake_transport;

namespace {
genesys::http_request request_to(std::string url) { return {genesys::http_method::get, std::move(url), {}, {}}; }
} // namespace

static_assert(genesys::transport<fake_transport>);

TEST_CASE("fake_transport answers in order and logs every request")
{
    fake_transport fake;
    fake.respond(200, "first").respond(404, "second", {{"X", "y"}});
    CHECK(fake.pending() == 2);

    auto a = fake.send(request_to("https://h/1"));
    auto b = fake.send(request_to("https://h/2"));
    REQUIRE(a.has_value());
    REQUIRE(b.has_value());
    CHECK(a->status == 200);
    CHECK(a->body == "first");
    CHECK(b->status == 404);
    CHECK(b->headers.get("x") == "y");
    CHECK(fake.pending() == 0);

    auto log = fake.requests();
    REQUIRE(log.size() == 2);
    CHECK(log[0].url == "https://h/1");
    CHECK(log[1].url == "https://h/2");
    CHECK(fake.last_request()->url == "https://h/2");
}

TEST_CASE("fake_transport fails when asked, and when it has nothing to say")
{
    fake_transport fake;
    CHECK_FALSE(fake.last_request().has_value());
    auto empty = fake.send(request_to("https://h/"));
    REQUIRE(empty.has_error());
    CHECK(empty.error() == boost::system::errc::no_message_available);

    const auto refused = boost::system::errc::make_error_code(boost::system::errc::connection_refused);
    fake.fail(refused).respond(204);
    auto failed = fake.send(request_to("https://h/"));
    REQUIRE(failed.has_error());
    CHECK(failed.error() == refused);
    CHECK(fake.send(request_to("https://h/"))->status == 204);
    CHECK(fake.request_count() == 3); // failures are logged too
}

TEST_CASE("fail_on makes the N-th send fail without using the queue")
{
    fake_transport fake;
    const auto reset = boost::system::errc::make_error_code(boost::system::errc::connection_reset);
    fake.fail_on(2, reset).respond(200, "a").respond(200, "b");
    CHECK(fake.send(request_to("u"))->body == "a");
    auto second = fake.send(request_to("u"));
    REQUIRE(second.has_error());
    CHECK(second.error() == reset);
    CHECK(fake.send(request_to("u"))->body == "b");
}

TEST_CASE("a default response answers once the queue is empty")
{
    fake_transport fake;
    fake.respond(500).respond_by_default({200, {}, "default"});
    CHECK(fake.send(request_to("u"))->status == 500);
    CHECK(fake.send(request_to("u"))->body == "default");
    CHECK(fake.send(request_to("u"))->body == "default");
}

TEST_CASE("copies of a fake share one state, reset forgets everything")
{
    fake_transport fake;
    fake_transport copy = fake;
    copy.respond(201);
    CHECK(fake.pending() == 1);
    CHECK(fake.send(request_to("u"))->status == 201);
    CHECK(copy.request_count() == 1);

    fake.respond(200).respond_by_default({204, {}, {}});
    copy.reset();
    CHECK(fake.pending() == 0);
    CHECK(fake.request_count() == 0);
    CHECK(fake.send(request_to("u")).has_error());
}

TEST_CASE("fake_transport is safe to share between threads")
{
    fake_transport fake;
    fake.respond_by_default({200, {}, "ok"});
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 100; ++i)
                if (auto r = fake.send(request_to("u")); r && r->body == "ok")
                    ++ok;
        });
    for (auto& th : threads)
        th.join();
    CHECK(ok == 800);
    CHECK(fake.request_count() == 800);
}
