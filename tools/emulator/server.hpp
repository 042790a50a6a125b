// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_EMULATOR_SERVER_HPP
#define GENESYS_EMULATOR_SERVER_HPP

// The emulator on loopback HTTP(S): Boost.Beast, keep-alive, event-driven. Every connection is a
// C++20 coroutine on the one thread that calls run(), so a thousand connections cost a thousand
// coroutine frames, not a thousand threads, and a request costs no thread wakeup of its own.
//
// Shutdown: stop() (or SIGINT/SIGTERM) closes the acceptor, shuts down every open connection and
// cancels every delay fault; run() returns once every session has ended, so nothing a session
// uses (this server, the service, the TLS context) is destroyed under it. Sessions are tracked,
// and closed, on the server's thread only: a descriptor number the system reuses for a new
// connection never reaches a session that has ended.

#include "emulator.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace genesys_emulator {

struct server_options {
    unsigned short port = 0; ///< 0: any free port
    std::string tls_cert;    ///< PEM certificate chain; with tls_key, serve https
    std::string tls_key;
    /// PEM file of CA certificates: when set (with tls_cert and tls_key), every client must present
    /// a certificate signed by one of them (mutual TLS), else the handshake fails.
    std::string tls_client_ca;
    /// The request line and header section together may be this long; longer is 431.
    std::size_t header_limit = 32 * 1024;
    /// A request body may be this long; longer is 413.
    std::size_t body_limit = 8 * 1024 * 1024;
    /// For tests: called on the server's thread when a connection's session starts, and once its
    /// socket is closed, each with the socket's descriptor.
    std::function<void(int fd)> on_session_opened{};
    std::function<void(int fd)> on_session_closed{};
};

class server {
public:
    /// Binds 127.0.0.1:port. Throws on failure.
    server(service& svc, const server_options& opts);
    ~server();

    /// The bound port (the chosen one when asked for 0).
    unsigned short port() const { return port_; }
    bool tls() const { return tls_.has_value(); }

    /// Serves on the calling thread until SIGINT, SIGTERM or stop(); then closes every
    /// connection, waits for every session to end (a delay fault is cut short) and returns.
    void run();

    /// Stops accepting, closes open connections and cuts delay faults short. Thread-safe; may
    /// be called before run().
    void stop();

private:
    struct session;

    void accept();
    boost::asio::awaitable<void> serve_session(std::shared_ptr<session> s);
    template <class Stream>
    boost::asio::awaitable<void> serve(Stream& stream, const std::shared_ptr<session>& s);
    void end_all_sessions(); // on the server's thread

    service& svc_;
    server_options opts_;
    boost::asio::io_context ioc_{1};
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::signal_set signals_;
    boost::asio::steady_timer retry_timer_;
    std::optional<boost::asio::ssl::context> tls_;
    unsigned short port_ = 0;

    // The server's thread only.
    std::map<std::uint64_t, std::shared_ptr<session>> sessions_;
    std::uint64_t next_id_ = 0;
    bool stopping_ = false;
};

} // namespace genesys_emulator

#endif
