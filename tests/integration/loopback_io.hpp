// SPDX-License-Identifier: BSL-1.0
// What the loopback test servers share: a listening socket on a loopback address, and the thread
// that runs their io_context for at most 20 s, stopped and joined when it goes.
#ifndef GENESYS_TESTS_LOOPBACK_IO_HPP
#define GENESYS_TESTS_LOOPBACK_IO_HPP

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <thread>

namespace loopback_io {

/// Opens, binds and listens `acceptor` on a free port of `address`; returns the port.
inline std::uint16_t listen(boost::asio::ip::tcp::acceptor& acceptor, const char* address = "127.0.0.1")
{
    const boost::asio::ip::tcp::endpoint endpoint(boost::asio::ip::make_address(address), 0);
    acceptor.open(endpoint.protocol());
    acceptor.bind(endpoint);
    acceptor.listen();
    return acceptor.local_endpoint().port();
}

/// Runs `io` on a thread of its own for at most 20 s; stops it and joins the thread when
/// destroyed. A server declares it last, so that it goes before whatever its handlers use.
class io_thread {
public:
    explicit io_thread(boost::asio::io_context& io) : io_(io), thread_([&io] { io.run_for(std::chrono::seconds(20)); })
    {
    }
    io_thread(const io_thread&) = delete;
    io_thread& operator=(const io_thread&) = delete;
    ~io_thread()
    {
        io_.stop();
        thread_.join();
    }

private:
    boost::asio::io_context& io_;
    std::thread thread_;
};

} // namespace loopback_io

#endif
