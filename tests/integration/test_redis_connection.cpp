// SPDX-License-Identifier: BSL-1.0
// genesys::redis_connection against real redis-server processes of the test's own (loopback
// ports, a password, one TLS instance): authentication, pipelining, TLS, and every failure
// bounded (a stopped server, a killed one, cancellation).
#include <genesys/redis/connection.hpp>

#include "redis_process.hpp"

#include <genesys/error_code.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <string>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using genesys::redis_command;
using genesys::redis_reply;
using genesys::redis_reply_kind;

/// Runs `ioc` until `done()` or `limit` (never longer: every test is bounded).
template <class Pred>
bool run_until(boost::asio::io_context& ioc, Pred done, std::chrono::milliseconds limit = 10s)
{
    const auto deadline = clock_type::now() + limit;
    while (!done() && clock_type::now() < deadline) {
        ioc.restart();
        ioc.run_for(5ms);
    }
    return done();
}


boost::system::error_code connect(boost::asio::io_context& ioc, genesys::redis_connection& c)
{
    std::optional<boost::system::error_code> result;
    c.async_connect([&](boost::system::error_code ec) { result = ec; });
    REQUIRE(run_until(ioc, [&] { return result.has_value(); }));
    return *result;
}

std::pair<boost::system::error_code, std::vector<redis_reply>> execute(boost::asio::io_context& ioc,
                                                                      genesys::redis_connection& c,
                                                                      std::vector<redis_command> commands)
{
    std::optional<std::pair<boost::system::error_code, std::vector<redis_reply>>> result;
    c.async_execute(commands, [&](boost::system::error_code ec, std::vector<redis_reply> r) {
        result.emplace(ec, std::move(r));
    });
    REQUIRE(run_until(ioc, [&] { return result.has_value(); }));
    return std::move(*result);
}

/// A fake Redis on a loopback port of `ioc`: for each connection, reads once when `read_first`,
/// then writes `script` and keeps the connection open.
class scripted_server {
public:
    scripted_server(boost::asio::io_context& ioc, std::string script, bool read_first)
        : acceptor_(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0}), script_(std::move(script)),
          read_first_(read_first)
    {
        accept();
    }
    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

private:
    void accept()
    {
        acceptor_.async_accept([this](boost::system::error_code ec, boost::asio::ip::tcp::socket s) {
            if (ec)
                return;
            auto sock = std::make_shared<boost::asio::ip::tcp::socket>(std::move(s));
            sockets_.push_back(sock);
            auto buf = std::make_shared<std::array<char, 4096>>();
            auto write = [this, sock] { boost::asio::async_write(*sock, boost::asio::buffer(script_), [](auto, auto) {}); };
            if (read_first_)
                sock->async_read_some(boost::asio::buffer(*buf), [write, buf](boost::system::error_code, std::size_t) { write(); });
            else
                write();
            accept();
        });
    }

    boost::asio::ip::tcp::acceptor acceptor_;
    std::string script_;
    bool read_first_;
    std::vector<std::shared_ptr<boost::asio::ip::tcp::socket>> sockets_;
};

bool is_network_failure(const boost::system::error_code& ec)
{
    return ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset ||
           ec == boost::asio::error::broken_pipe || ec == boost::asio::error::connection_aborted;
}

} // namespace

TEST_CASE("redis_connection: redis_format writes what hiredis' redisFormatCommandArgv writes")
{
    // The project formats its commands itself (no allocation per command); hiredis is the reference.
    const auto hiredis = [](const std::vector<genesys::redis_command>& commands) {
        std::string out;
        for (const auto& cmd : commands) {
            std::vector<const char*> argv;
            std::vector<std::size_t> lens;
            for (const auto& a : cmd) {
                argv.push_back(a.data());
                lens.push_back(a.size());
            }
            char* formatted = nullptr;
            const int n = ::redisFormatCommandArgv(&formatted, static_cast<int>(cmd.size()), argv.data(), lens.data());
            REQUIRE(n > 0);
            out.append(formatted, static_cast<std::size_t>(n));
            ::redisFreeCommand(formatted);
        }
        return out;
    };
    genesys::redis_command many{"DEL"};
    for (int i = 0; i < 120; ++i)
        many.push_back("k" + std::to_string(i));
    const std::vector<std::vector<genesys::redis_command>> cases = {
        {{"GET", "genesys:tv:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}},
        {{"SET", "k", std::string("a\0b\r\n", 5), "NX", "PX", "60000"}, {"GET", "k"}},
        {{"SET", "", ""}},
        {{"SET", "big", std::string(100000, 'x')}},
        {many},
        {{"PING"}, {"PING"}, {"PING"}, {"PING"}, {"PING"}, {"PING"}, {"PING"}, {"PING"}, {"PING"}, {"PING"},
         {"PING"}},
    };
    for (const auto& commands : cases) {
        std::string mine = "prefix"; // appended to what is there
        REQUIRE(genesys::detail::redis_format(commands, mine));
        CHECK(mine == "prefix" + hiredis(commands));
    }
    std::string out;
    CHECK_FALSE(genesys::detail::redis_format({{"GET", "k"}, {}}, out)); // an empty command
}

TEST_CASE("redis_connection: connect with AUTH, SET NX PX and GET round trip, binary-safe")
{
    testredis::redis_process server;
    boost::asio::io_context ioc;
    genesys::redis_connection c(ioc, server.client_options(2s));
    CHECK_FALSE(c.is_connected());

    bool called = false;
    c.async_connect([&](boost::system::error_code ec) {
        called = true;
        CHECK_FALSE(ec);
    });
    CHECK_FALSE(called); // never from inside the initiating call
    REQUIRE(run_until(ioc, [&] { return called; }));
    CHECK(c.is_connected());
    CHECK(c.last_error().empty());

    const std::string binary("v\0\r\n\xff-value", 11);
    auto [ec, r] = execute(ioc, c,
                           {{"SET", "k", binary, "NX", "PX", "60000"},
                            {"SET", "k", "other", "NX", "PX", "60000"},
                            {"GET", "k"},
                            {"PTTL", "k"},
                            {"GET", "missing"},
                            {"NOSUCHCOMMAND"}});
    REQUIRE_FALSE(ec);
    REQUIRE(r.size() == 6);
    CHECK(r[0].kind == redis_reply_kind::status);
    CHECK(r[0].text == "OK");
    CHECK(r[1].is_nil()); // NX: not set a second time
    CHECK(r[2].kind == redis_reply_kind::string);
    CHECK(r[2].text == binary);
    CHECK(r[3].kind == redis_reply_kind::integer);
    CHECK(r[3].integer > 0);
    CHECK(r[3].integer <= 60000);
    CHECK(r[4].is_nil());
    CHECK(r[5].is_error()); // a Redis error reply: the command failed, not the connection
    CHECK(r[5].text.find("unknown command") != std::string::npos);
    CHECK(c.is_connected());

    // The same replies to commands sent one at a time: every kind of reply comes out of a
    // pipeline of one as it does out of a longer one.
    const auto one = [&](genesys::redis_command command) {
        auto [e, replies] = execute(ioc, c, {std::move(command)});
        REQUIRE_FALSE(e);
        REQUIRE(replies.size() == 1);
        return replies[0];
    };
    CHECK(one({"SET", "k2", binary}).text == "OK");
    CHECK(one({"SET", "k2", binary}).kind == redis_reply_kind::status);
    const auto got = one({"GET", "k2"});
    CHECK(got.kind == redis_reply_kind::string);
    CHECK(got.text == binary);
    CHECK(one({"GET", "missing"}).is_nil());
    const auto count = one({"INCRBY", "n", "-7"});
    CHECK(count.kind == redis_reply_kind::integer);
    CHECK(count.integer == -7);
    const auto refused = one({"NOSUCHCOMMAND"});
    CHECK(refused.is_error());
    CHECK(refused.text.find("unknown command") != std::string::npos);
    const auto array = one({"MGET", "k2", "missing"});
    REQUIRE(array.kind == redis_reply_kind::array);
    REQUIRE(array.elements.size() == 2);
    CHECK(array.elements[0].text == binary);
    CHECK(array.elements[1].is_nil());
    CHECK(c.is_connected());

    // An empty list of commands completes at once, with no reply; an empty command is refused:
    // both without I/O, and still never from inside the call.
    int early = 0;
    c.async_execute({}, [&](boost::system::error_code, std::vector<redis_reply>) { ++early; });
    c.async_execute({{}}, [&](boost::system::error_code, std::vector<redis_reply>) { ++early; });
    CHECK(early == 0);
    REQUIRE(run_until(ioc, [&] { return early == 2; }));
    auto [ec2, r2] = execute(ioc, c, {});
    CHECK_FALSE(ec2);
    CHECK(r2.empty());
    auto [ec3, r3] = execute(ioc, c, {{}});
    CHECK(ec3 == genesys::errc::invalid_argument);

    // A second connect on a connected connection is refused; the connection goes on.
    CHECK(connect(ioc, c) == genesys::redis_errc::already_connected);
    CHECK(execute(ioc, c, {{"PING"}}).second.at(0).text == "PONG");
}

TEST_CASE("redis_connection: a wrong password is an auth error that never quotes a password")
{
    testredis::redis_process server;
    boost::asio::io_context ioc;
    const std::string wrong = "Wr0ng-pa55word-4b7d-never-printed";
    auto o = server.client_options(2s);
    o.password = wrong;
    genesys::redis_connection c(ioc, o);
    const auto ec = connect(ioc, c);
    CHECK(ec == genesys::redis_errc::auth_failed);
    CHECK_FALSE(c.is_connected());
    const std::string text = c.last_error() + " " + ec.message();
    INFO(text);
    CHECK(text.find("AUTH refused by 127.0.0.1:") != std::string::npos);
    CHECK(text.find("WRONGPASS") != std::string::npos);
    CHECK(text.find(wrong) == std::string::npos);
    CHECK(text.find(testredis::redis_process::password) == std::string::npos);
    // After a failed connect, commands are refused until a connect succeeds.
    CHECK(execute(ioc, c, {{"PING"}}).first == genesys::redis_errc::not_connected);

    SUBCASE("no password: connected, and each command answers NOAUTH (an error reply)")
    {
        auto o2 = server.client_options(2s);
        o2.password.clear();
        genesys::redis_connection anonymous(ioc, o2);
        REQUIRE_FALSE(connect(ioc, anonymous));
        auto [ec2, r] = execute(ioc, anonymous, {{"GET", "k"}});
        REQUIRE_FALSE(ec2);
        CHECK(r.at(0).is_error());
        CHECK(r.at(0).text.starts_with("NOAUTH"));
    }
}

TEST_CASE("redis_connection: an ACL user and its least privilege, SELECT of the database")
{
    testredis::redis_process server;
    boost::asio::io_context ioc;
    genesys::redis_connection admin(ioc, server.client_options(2s));
    REQUIRE_FALSE(connect(ioc, admin));
    auto [ec, r] = execute(ioc, admin,
                           {{"ACL", "SETUSER", "validator", "on", ">validator-Pa55-3e9f", "~genesys:tv:*", "+get",
                             "+set", "+ping"}});
    REQUIRE_FALSE(ec);
    REQUIRE(r.at(0).text == "OK");

    auto o = server.client_options(2s);
    o.username = "validator";
    o.password = "validator-Pa55-3e9f";
    genesys::redis_connection user(ioc, o);
    REQUIRE_FALSE(connect(ioc, user));
    auto [ec2, r2] = execute(ioc, user, {{"SET", "genesys:tv:abc", "1"}, {"SET", "other", "1"}, {"FLUSHALL"}});
    REQUIRE_FALSE(ec2);
    CHECK(r2.at(0).text == "OK");
    CHECK(r2.at(1).is_error()); // NOPERM: a key outside its pattern
    CHECK(r2.at(2).is_error()); // NOPERM: a command it was not given

    auto wrong_user = o;
    wrong_user.username = "nobody";
    genesys::redis_connection nobody(ioc, wrong_user);
    CHECK(connect(ioc, nobody) == genesys::redis_errc::auth_failed);
    CHECK(nobody.last_error().find("validator-Pa55-3e9f") == std::string::npos);

    auto db2 = server.client_options(2s);
    db2.database = 2;
    genesys::redis_connection in_db2(ioc, db2);
    REQUIRE_FALSE(connect(ioc, in_db2));
    REQUIRE_FALSE(execute(ioc, in_db2, {{"SET", "where", "db2"}}).first);
    CHECK(execute(ioc, in_db2, {{"GET", "where"}}).second.at(0).text == "db2");
    CHECK(execute(ioc, admin, {{"GET", "where"}}).second.at(0).is_nil()); // database 0

    auto db99 = server.client_options(2s);
    db99.database = 99; // the server has 4
    genesys::redis_connection bad_db(ioc, db99);
    CHECK(connect(ioc, bad_db) == genesys::redis_errc::select_failed);
    CHECK(bad_db.last_error().find("SELECT 99 refused") != std::string::npos);
}

TEST_CASE("redis_connection: pipelined commands and concurrent calls keep their order")
{
    testredis::redis_process server;
    boost::asio::io_context ioc;
    genesys::redis_connection c(ioc, server.client_options(2s));
    REQUIRE_FALSE(connect(ioc, c));

    std::vector<redis_command> many(300, redis_command{"INCR", "counter"});
    auto [ec, r] = execute(ioc, c, many);
    REQUIRE_FALSE(ec);
    REQUIRE(r.size() == 300);
    for (std::size_t i = 0; i < r.size(); ++i)
        CHECK(r[i].integer == static_cast<std::int64_t>(i + 1));

    // 100 calls started before any completes: written in call order, answered in call order.
    std::vector<std::int64_t> seen;
    int completed = 0;
    for (int i = 0; i < 100; ++i)
        c.async_execute({{"INCR", "calls"}, {"GET", "calls"}},
                        [&](boost::system::error_code e, std::vector<redis_reply> rr) {
                            ++completed;
                            REQUIRE_FALSE(e);
                            REQUIRE(rr.size() == 2);
                            seen.push_back(rr[0].integer);
                            CHECK(rr[1].text == std::to_string(rr[0].integer));
                        });
    REQUIRE(run_until(ioc, [&] { return completed == 100; }));
    for (std::size_t i = 0; i < seen.size(); ++i)
        CHECK(seen[i] == static_cast<std::int64_t>(i + 1));
}

TEST_CASE("redis_connection: TLS to Redis' tls-port, the chain and host name verified")
{
    testredis::redis_process server(true);
    boost::asio::io_context ioc;
    auto o = server.client_options(2s);
    o.port = static_cast<std::uint16_t>(server.tls_port());
    o.tls = true;
    o.ca_file = server.ca_file();
    {
        genesys::redis_connection c(ioc, o);
        REQUIRE_FALSE(connect(ioc, c));
        auto [ec, r] = execute(ioc, c, {{"SET", "tls", "yes"}, {"GET", "tls"}});
        REQUIRE_FALSE(ec);
        CHECK(r.at(1).text == "yes");
    }
    {
        auto by_name = o;
        by_name.host = "localhost";
        genesys::redis_connection c(ioc, by_name);
        const auto ec = connect(ioc, c);
        // localhost may resolve to ::1 first, where nothing listens: the resolver's next address is tried.
        CHECK_FALSE(ec);
    }
    {
        auto untrusted = o;
        untrusted.ca_file.clear(); // the system's CAs: the test CA is not among them
        genesys::redis_connection c(ioc, untrusted);
        const auto ec = connect(ioc, c);
        CHECK(std::string(ec.category().name()).starts_with("asio.ssl"));
        CHECK(c.last_error().find("TLS handshake with 127.0.0.1:") != std::string::npos);
        CHECK(c.last_error().find("certificate") != std::string::npos);
    }
    {
        auto plain_to_tls = o;
        plain_to_tls.tls = false; // plain text to the TLS port: no answer the protocol allows
        plain_to_tls.connect_timeout = 1s;
        genesys::redis_connection c(ioc, plain_to_tls);
        const auto start = clock_type::now();
        CHECK(connect(ioc, c));
        CHECK(clock_type::now() - start < 5s);
    }
    auto missing_ca = o;
    missing_ca.ca_file = "/nonexistent/ca.pem";
    CHECK_THROWS_AS(genesys::redis_connection(ioc, missing_ca), genesys::invalid_argument_error);
}

TEST_CASE("redis_connection: a stopped server (SIGSTOP) makes commands and connects time out, bounded")
{
    testredis::redis_process server;
    boost::asio::io_context ioc;
    auto o = server.client_options(2s);
    o.command_timeout = 300ms;
    o.connect_timeout = 400ms;
    genesys::redis_connection c(ioc, o);
    REQUIRE_FALSE(connect(ioc, c));

    server.pause();
    const auto start = clock_type::now();
    auto [ec, r] = execute(ioc, c, {{"GET", "k"}});
    const auto elapsed = clock_type::now() - start;
    CHECK(ec == genesys::redis_errc::timeout);
    CHECK(ec == boost::system::errc::timed_out);
    CHECK(ec == genesys::condition::timeout);
    CHECK(elapsed >= 300ms);
    CHECK(elapsed < 3s);
    CHECK_FALSE(c.is_connected());
    CHECK(c.last_error().find("within the command timeout") != std::string::npos);
    CHECK(execute(ioc, c, {{"GET", "k"}}).first == genesys::redis_errc::not_connected);

    // Connecting to the stopped server: the kernel accepts, AUTH is never answered.
    const auto start2 = clock_type::now();
    CHECK(connect(ioc, c) == genesys::redis_errc::timeout);
    CHECK(clock_type::now() - start2 >= 400ms);
    CHECK(clock_type::now() - start2 < 3s);

    server.resume();
    REQUIRE_FALSE(connect(ioc, c)); // reconnects once the server answers again
    CHECK(execute(ioc, c, {{"PING"}}).second.at(0).text == "PONG");
}

TEST_CASE("redis_connection: cancellation ends a wait at once and keeps the connection usable")
{
    testredis::redis_process server;
    boost::asio::io_context ioc;
    auto o = server.client_options(2s);
    o.command_timeout = 5s;
    genesys::redis_connection c(ioc, o);
    REQUIRE_FALSE(connect(ioc, c));

    server.pause();
    boost::asio::cancellation_signal signal;
    std::optional<boost::system::error_code> result;
    int calls = 0;
    c.async_execute({{"SET", "cancelled", "1"}},
                    boost::asio::bind_cancellation_slot(signal.slot(), [&](boost::system::error_code ec,
                                                                           std::vector<redis_reply>) {
                        ++calls;
                        result = ec;
                    }));
    ioc.restart();
    ioc.run_for(50ms);
    CHECK_FALSE(result);
    const auto start = clock_type::now();
    signal.emit(boost::asio::cancellation_type::terminal);
    REQUIRE(run_until(ioc, [&] { return result.has_value(); }));
    CHECK(*result == boost::asio::error::operation_aborted);
    CHECK(clock_type::now() - start < 1s);

    server.resume();
    // The cancelled command's reply comes and is dropped; the next gets its own.
    auto [ec, r] = execute(ioc, c, {{"GET", "cancelled"}});
    REQUIRE_FALSE(ec);
    CHECK(r.at(0).text == "1");
    CHECK(calls == 1);

    SUBCASE("cancelling a connect closes the attempt")
    {
        genesys::redis_connection c2(ioc, o);
        server.pause();
        boost::asio::cancellation_signal s2;
        std::optional<boost::system::error_code> r2;
        c2.async_connect(boost::asio::bind_cancellation_slot(s2.slot(), [&](boost::system::error_code e) { r2 = e; }));
        ioc.restart();
        ioc.run_for(50ms);
        CHECK_FALSE(r2);
        s2.emit(boost::asio::cancellation_type::terminal);
        REQUIRE(run_until(ioc, [&] { return r2.has_value(); }, 1s));
        CHECK(*r2 == boost::asio::error::operation_aborted);
        CHECK_FALSE(c2.is_connected());
        server.resume();
    }
}

TEST_CASE("redis_connection: a killed server is a network error, and so is a refused connection")
{
    auto server = std::make_unique<testredis::redis_process>();
    boost::asio::io_context ioc;
    auto o = server->client_options(2s);
    o.command_timeout = 5s;
    genesys::redis_connection c(ioc, o);
    REQUIRE_FALSE(connect(ioc, c));

    server->pause();
    std::optional<boost::system::error_code> result;
    c.async_execute({{"GET", "k"}}, [&](boost::system::error_code ec, std::vector<redis_reply>) { result = ec; });
    ioc.restart();
    ioc.run_for(50ms);
    server->kill();
    const auto start = clock_type::now();
    REQUIRE(run_until(ioc, [&] { return result.has_value(); }));
    INFO(result->message());
    CHECK(is_network_failure(*result));
    CHECK(*result != genesys::redis_errc::timeout);
    CHECK(clock_type::now() - start < 2s);
    CHECK_FALSE(c.is_connected());
    CHECK(execute(ioc, c, {{"GET", "k"}}).first == genesys::redis_errc::not_connected);

    const auto ec = connect(ioc, c); // nothing listens on the port any more
    CHECK(ec == boost::asio::error::connection_refused);
    CHECK(c.last_error().find("connect to 127.0.0.1:") != std::string::npos);
}

TEST_CASE("redis_connection: closing or destroying it with operations in flight completes them once")
{
    testredis::redis_process server;
    boost::asio::io_context ioc;
    auto o = server.client_options(2s);
    o.command_timeout = 5s;
    int calls = 0;
    std::optional<boost::system::error_code> result;
    {
        genesys::redis_connection c(ioc, o);
        REQUIRE_FALSE(connect(ioc, c));
        server.pause();
        c.async_execute({{"GET", "k"}}, [&](boost::system::error_code ec, std::vector<redis_reply>) {
            ++calls;
            result = ec;
        });
        ioc.restart();
        ioc.run_for(20ms);
    } // destroyed with the command pending
    REQUIRE(run_until(ioc, [&] { return result.has_value(); }, 2s));
    CHECK(*result == boost::asio::error::operation_aborted);
    ioc.restart();
    ioc.run_for(50ms);
    CHECK(calls == 1);
    server.resume();

    genesys::redis_connection c(ioc, o);
    REQUIRE_FALSE(connect(ioc, c));
    c.close();
    ioc.restart();
    ioc.run_for(20ms);
    CHECK_FALSE(c.is_connected());
    CHECK(execute(ioc, c, {{"PING"}}).first == genesys::redis_errc::not_connected);
    REQUIRE_FALSE(connect(ioc, c)); // and connects again
    CHECK(execute(ioc, c, {{"PING"}}).second.at(0).text == "PONG");
}

TEST_CASE("redis_connection: a reply over max_reply_bytes closes the connection")
{
    testredis::redis_process server;
    boost::asio::io_context ioc;
    auto o = server.client_options(2s);
    o.max_reply_bytes = 64 * 1024;
    genesys::redis_connection c(ioc, o);
    REQUIRE_FALSE(connect(ioc, c));
    REQUIRE_FALSE(execute(ioc, c, {{"SET", "small", std::string(1000, 's')}, {"SET", "big", std::string(1 << 20, 'b')}}).first);
    CHECK(execute(ioc, c, {{"GET", "small"}}).second.at(0).text.size() == 1000);
    auto [ec, r] = execute(ioc, c, {{"GET", "big"}});
    CHECK(ec == genesys::redis_errc::reply_too_large);
    CHECK(r.empty());
    CHECK_FALSE(c.is_connected());
}

TEST_CASE("redis_connection: calls from several threads, the context run by two")
{
    testredis::redis_process server;
    boost::asio::io_context ioc;
    genesys::redis_connection c(ioc, server.client_options(2s));
    REQUIRE_FALSE(connect(ioc, c));

    auto work = boost::asio::make_work_guard(ioc);
    ioc.restart();
    std::vector<std::thread> runners;
    for (int i = 0; i < 2; ++i)
        runners.emplace_back([&] { ioc.run(); });
    std::mutex m;
    std::condition_variable cv;
    std::vector<std::int64_t> values;
    int failures = 0;
    std::vector<std::thread> callers;
    for (int t = 0; t < 4; ++t)
        callers.emplace_back([&] {
            for (int i = 0; i < 50; ++i)
                c.async_execute({{"INCR", "threads"}}, [&](boost::system::error_code ec, std::vector<redis_reply> r) {
                    std::lock_guard lock(m);
                    if (ec || r.size() != 1)
                        ++failures;
                    else
                        values.push_back(r[0].integer);
                    cv.notify_all();
                });
        });
    for (auto& t : callers)
        t.join();
    {
        std::unique_lock lock(m);
        cv.wait_for(lock, 10s, [&] { return values.size() + static_cast<std::size_t>(failures) == 200; });
    }
    work.reset();
    ioc.stop();
    for (auto& t : runners)
        t.join();
    CHECK(failures == 0);
    REQUIRE(values.size() == 200);
    std::sort(values.begin(), values.end());
    for (std::size_t i = 0; i < values.size(); ++i)
        CHECK(values[i] == static_cast<std::int64_t>(i + 1));
}

TEST_CASE("redis_connection: what a misbehaving server sends is a protocol error, its echo of a password redacted")
{
    boost::asio::io_context ioc;
    genesys::redis_options o;
    o.connect_timeout = 2s;
    o.command_timeout = 2s;
    SUBCASE("bytes that are not RESP")
    {
        scripted_server server(ioc, "garbage\r\n", true);
        o.port = server.port();
        genesys::redis_connection c(ioc, o);
        REQUIRE_FALSE(connect(ioc, c)); // no password: nothing to answer yet
        auto [ec, r] = execute(ioc, c, {{"GET", "k"}});
        CHECK(ec == genesys::redis_errc::protocol_error);
        CHECK(c.last_error().find("not the Redis protocol") != std::string::npos);
        CHECK_FALSE(c.is_connected());
    }
    SUBCASE("a reply nothing asked for")
    {
        scripted_server server(ioc, "+OK\r\n", false);
        o.port = server.port();
        genesys::redis_connection c(ioc, o);
        REQUIRE_FALSE(connect(ioc, c));
        REQUIRE(run_until(ioc, [&] { return !c.is_connected(); }, 2s));
        CHECK(c.last_error().find("a reply nothing asked for") != std::string::npos);
        CHECK(execute(ioc, c, {{"GET", "k"}}).first == genesys::redis_errc::not_connected);
    }
    SUBCASE("an AUTH refusal quoting the password")
    {
        const std::string password = "Echoed-pa55word-77aa";
        scripted_server server(ioc, "-ERR invalid password '" + password + "'\r\n", true);
        o.port = server.port();
        o.password = password;
        genesys::redis_connection c(ioc, o);
        CHECK(connect(ioc, c) == genesys::redis_errc::auth_failed);
        INFO(c.last_error());
        CHECK(c.last_error().find(password) == std::string::npos);
        CHECK(c.last_error().find("invalid password '[redacted]'") != std::string::npos);
    }
    SUBCASE("a server that accepts and never answers: the connect times out")
    {
        scripted_server server(ioc, "", true);
        o.port = server.port();
        o.password = "p";
        o.connect_timeout = 300ms;
        genesys::redis_connection c(ioc, o);
        CHECK(connect(ioc, c) == genesys::redis_errc::timeout);
    }
}

TEST_CASE("redis_connection: async_subscribe routes messages to the callback, PING still answered, the end told once")
{
    testredis::redis_process server;
    boost::asio::io_context ioc;
    genesys::redis_connection publisher(ioc, server.client_options(2s));
    genesys::redis_connection sub(ioc, server.client_options(2s));
    REQUIRE_FALSE(connect(ioc, publisher));
    REQUIRE_FALSE(connect(ioc, sub));

    std::vector<std::pair<std::string, std::string>> messages;
    std::vector<boost::system::error_code> ends;
    std::optional<boost::system::error_code> subscribed;
    sub.async_subscribe({"chan-a", "chan-b"},
                        [&](boost::system::error_code ec, std::string channel, std::string payload) {
                            if (ec)
                                ends.push_back(ec);
                            else
                                messages.emplace_back(std::move(channel), std::move(payload));
                        },
                        [&](boost::system::error_code ec) { subscribed = ec; });
    CHECK_FALSE(subscribed); // never from inside the call
    REQUIRE(run_until(ioc, [&] { return subscribed.has_value(); }));
    REQUIRE_FALSE(*subscribed);

    const std::string binary("p\0\r\n\xff", 5);
    auto [ec, r] = execute(ioc, publisher, {{"PUBLISH", "chan-a", "one"}, {"PUBLISH", "chan-b", binary},
                                            {"PUBLISH", "chan-c", "nobody"}});
    REQUIRE_FALSE(ec);
    CHECK(r.at(0).integer == 1);
    CHECK(r.at(2).integer == 0);
    REQUIRE(run_until(ioc, [&] { return messages.size() == 2; }));
    CHECK(messages[0] == std::pair<std::string, std::string>("chan-a", "one"));
    CHECK(messages[1] == std::pair<std::string, std::string>("chan-b", binary));

    // A subscriber's PING is answered (as an array) amid the messages.
    auto [ec2, pong] = execute(ioc, sub, {{"PING"}});
    REQUIRE_FALSE(ec2);
    REQUIRE(pong.at(0).kind == redis_reply_kind::array);
    CHECK(pong.at(0).elements.at(0).text == "pong");

    // One subscription per connection.
    std::optional<boost::system::error_code> second;
    sub.async_subscribe({"chan-d"}, [](boost::system::error_code, std::string, std::string) {},
                        [&](boost::system::error_code e) { second = e; });
    REQUIRE(run_until(ioc, [&] { return second.has_value(); }));
    CHECK(*second == genesys::redis_errc::already_subscribed);

    // The end: told once, with the connection's failure.
    CHECK(ends.empty());
    sub.close();
    REQUIRE(run_until(ioc, [&] { return !ends.empty(); }));
    ioc.restart();
    ioc.run_for(20ms);
    REQUIRE(ends.size() == 1);
    CHECK(ends[0] == boost::asio::error::operation_aborted);
    CHECK(messages.size() == 2);

    SUBCASE("a channel the ACL user may not use is refused, the connection closed")
    {
        auto [e3, acl] = execute(ioc, publisher, {{"ACL", "SETUSER", "narrow", "on", ">narrow-Pa55-11", "resetchannels",
                                                   "&allowed", "+subscribe", "+ping"}});
        REQUIRE_FALSE(e3);
        REQUIRE(acl.at(0).text == "OK");
        auto o = server.client_options(2s);
        o.username = "narrow";
        o.password = "narrow-Pa55-11";
        genesys::redis_connection narrow(ioc, o);
        REQUIRE_FALSE(connect(ioc, narrow));
        int calls = 0;
        std::optional<boost::system::error_code> refused;
        narrow.async_subscribe({"forbidden"}, [&](boost::system::error_code, std::string, std::string) { ++calls; },
                               [&](boost::system::error_code e) { refused = e; });
        REQUIRE(run_until(ioc, [&] { return refused.has_value(); }));
        CHECK(*refused == genesys::redis_errc::subscribe_refused);
        CHECK(narrow.last_error().find("NOPERM") != std::string::npos);
        CHECK_FALSE(narrow.is_connected());
        ioc.restart();
        ioc.run_for(20ms);
        CHECK(calls == 0);
    }
}

namespace {

/// What a connection running on `strand` does for handlers bound to `bound` (that strand, typed
/// or type-erased): a command started on the strand is written at once and its reply completes
/// it in the read's turn, on the strand, without another post; 50 commands chained that way.
template <class Strand, class Bound>
void check_on_its_own_strand(boost::asio::io_context& ioc, genesys::redis_connection& c, const Strand& strand,
                             const Bound& bound)
{
    REQUIRE_FALSE(connect(ioc, c));
    for (int i = 0; i < 20; ++i) {
        std::optional<boost::system::error_code> result;
        std::vector<redis_reply> replies;
        bool inline_call = false;
        ioc.restart();
        ioc.poll(); // what the connect left
        boost::asio::post(strand, [&] {
            c.async_execute({{"PING"}}, boost::asio::bind_executor(bound, [&](boost::system::error_code ec,
                                                                           std::vector<redis_reply> r) {
                                CHECK(strand.running_in_this_thread());
                                result = ec;
                                replies = std::move(r);
                            }));
            inline_call = result.has_value();
        });
        // The context's handlers until the reply's: the posted start, then the read that
        // completes it (no post to the strand, no write completion, no timer per command).
        std::size_t handlers = 0;
        while (!result && handlers < 100)
            handlers += ioc.run_one();
        REQUIRE(result);
        CHECK_FALSE(inline_call);
        CHECK_FALSE(*result);
        CHECK(replies.at(0).text == "PONG");
        CHECK(handlers == 2);
    }
    // Chained from inside the handlers, each started on the strand by the previous one's reply.
    int left = 50;
    std::vector<std::string> seen;
    std::function<void()> next = [&] {
        c.async_execute({{"ECHO", std::to_string(left)}},
                        boost::asio::bind_executor(bound, [&](boost::system::error_code ec, std::vector<redis_reply> r) {
                            REQUIRE_FALSE(ec);
                            seen.push_back(r.at(0).text);
                            if (--left > 0)
                                next();
                        }));
    };
    boost::asio::post(strand, next);
    REQUIRE(run_until(ioc, [&] { return left == 0; }));
    REQUIRE(seen.size() == 50);
    CHECK(seen.front() == "50");
    CHECK(seen.back() == "1");
}

} // namespace

TEST_CASE("redis_connection: on its own strand, a command started there is written at once and its reply completes it in the read's turn")
{
    testredis::redis_process server;
    auto o = server.client_options(2s);
    o.command_timeout = 10s; // the deadline watchdog never fires during the test
    SUBCASE("a strand of any_io_executor, handlers bound to it type-erased")
    {
        boost::asio::io_context ioc;
        const auto strand = boost::asio::make_strand(boost::asio::any_io_executor(ioc.get_executor()));
        genesys::redis_connection c(strand, o);
        check_on_its_own_strand(ioc, c, strand, boost::asio::any_io_executor(strand));
    }
    SUBCASE("a strand of any_io_executor, handlers bound to it")
    {
        boost::asio::io_context ioc;
        const auto strand = boost::asio::make_strand(boost::asio::any_io_executor(ioc.get_executor()));
        genesys::redis_connection c(strand, o);
        check_on_its_own_strand(ioc, c, strand, strand);
    }
    SUBCASE("a strand of the io_context's executor, handlers bound to it")
    {
        boost::asio::io_context ioc;
        const auto strand = boost::asio::make_strand(ioc.get_executor());
        genesys::redis_connection c(strand, o);
        check_on_its_own_strand(ioc, c, strand, strand);
    }
    SUBCASE("a strand of the io_context's executor, handlers bound to it type-erased")
    {
        boost::asio::io_context ioc;
        const auto strand = boost::asio::make_strand(ioc.get_executor());
        genesys::redis_connection c(strand, o);
        check_on_its_own_strand(ioc, c, strand, boost::asio::any_io_executor(strand));
    }
}

TEST_CASE("redis_connection: a handler bound to another strand of the same io_context is posted to it, not called from the read")
{
    testredis::redis_process server;
    boost::asio::io_context ioc;
    const auto strand = boost::asio::make_strand(ioc.get_executor());
    const auto other = boost::asio::make_strand(ioc.get_executor());
    genesys::redis_connection c(strand, server.client_options(2s));
    REQUIRE_FALSE(connect(ioc, c));
    ioc.restart();
    ioc.poll();
    std::optional<boost::system::error_code> result;
    boost::asio::post(strand, [&] {
        c.async_execute({{"PING"}}, boost::asio::bind_executor(other, [&](boost::system::error_code ec, std::vector<redis_reply>) {
                            CHECK(other.running_in_this_thread());
                            result = ec;
                        }));
    });
    std::size_t handlers = 0;
    while (!result && handlers < 100)
        handlers += ioc.run_one();
    REQUIRE(result);
    CHECK_FALSE(*result);
    CHECK(handlers >= 3); // the start, the read, then the handler's own turn (posted: not called by the read)
}

TEST_CASE("redis_connection: a handler called on the connection's strand throws: out of run(), the connection goes on")
{
    testredis::redis_process server;
    boost::asio::io_context ioc;
    const auto strand = boost::asio::make_strand(boost::asio::any_io_executor(ioc.get_executor()));
    const boost::asio::any_io_executor on_strand = strand;
    genesys::redis_connection c(strand, server.client_options(2s));
    REQUIRE_FALSE(connect(ioc, c));
    int calls = 0;
    boost::asio::post(strand, [&] {
        c.async_execute({{"PING"}}, boost::asio::bind_executor(on_strand, [&](boost::system::error_code, std::vector<redis_reply>) {
                            ++calls;
                            throw std::runtime_error("thrown by the handler");
                        }));
    });
    ioc.restart();
    CHECK_THROWS_AS(ioc.run_for(5s), std::runtime_error);
    CHECK(calls == 1);
    auto [ec, r] = execute(ioc, c, {{"PING"}});
    REQUIRE_FALSE(ec);
    CHECK(r.at(0).text == "PONG");
    CHECK(c.is_connected());
    CHECK(calls == 1);
}

TEST_CASE("redis_connection: one deadline watchdog: idle past command_timeout stays up, a younger command times out at its own deadline")
{
    testredis::redis_process server;
    boost::asio::io_context ioc;
    auto o = server.client_options(2s);
    o.command_timeout = 300ms;
    genesys::redis_connection c(ioc, o);
    REQUIRE_FALSE(connect(ioc, c));
    REQUIRE_FALSE(execute(ioc, c, {{"PING"}}).first); // arms the watchdog for this command's deadline
    ioc.restart();
    ioc.run_for(450ms); // it fires and finds nothing late
    CHECK(c.is_connected());
    REQUIRE_FALSE(execute(ioc, c, {{"PING"}}).first); // armed again, for this one's deadline
    ioc.restart();
    ioc.run_for(150ms);
    server.pause();
    const auto start = clock_type::now();
    auto [ec, r] = execute(ioc, c, {{"GET", "k"}}); // the watchdog fires before its deadline: armed again
    CHECK(ec == genesys::redis_errc::timeout);
    CHECK(clock_type::now() - start >= 300ms);
    CHECK_FALSE(c.is_connected());

    // A cancelled command first in the queue: the next one's deadline still ends the wait.
    server.resume();
    REQUIRE_FALSE(connect(ioc, c));
    server.pause();
    boost::asio::cancellation_signal signal;
    std::optional<boost::system::error_code> cancelled;
    c.async_execute({{"GET", "a"}}, boost::asio::bind_cancellation_slot(signal.slot(), [&](boost::system::error_code e,
                                                                                          std::vector<redis_reply>) {
                        cancelled = e;
                    }));
    ioc.restart();
    ioc.run_for(20ms);
    signal.emit(boost::asio::cancellation_type::terminal);
    REQUIRE(run_until(ioc, [&] { return cancelled.has_value(); }));
    CHECK(*cancelled == boost::asio::error::operation_aborted);
    const auto start2 = clock_type::now();
    CHECK(execute(ioc, c, {{"GET", "b"}}).first == genesys::redis_errc::timeout);
    CHECK(clock_type::now() - start2 < 3s);
    server.resume();
}
