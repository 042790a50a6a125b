#ifndef GENESYS_EMULATOR_SERVER_HPP
#define GENESYS_EMULATOR_SERVER_HPP

// The emulator on loopback HTTP(S): Boost.Beast, one thread per connection, keep-alive.
//
// Shutdown: stop() (or SIGINT/SIGTERM) closes the acceptor, shuts down every open connection's
// socket and wakes every delay fault; run() then joins every session thread before it returns,
// so nothing a session uses (this server, the service, the TLS context) is destroyed under it.
// Sessions are tracked by an id, and a session unregisters its descriptor before closing it,
// so shutting down never touches a descriptor number another connection has reused.

#include "emulator.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace genesys_emulator {

struct server_options {
    unsigned short port = 0; ///< 0: any free port
    std::string tls_cert;    ///< PEM certificate chain; with tls_key, serve https
    std::string tls_key;
    /// The request line and header section together may be this long; longer is 431.
    std::size_t header_limit = 32 * 1024;
    /// A request body may be this long; longer is 413.
    std::size_t body_limit = 8 * 1024 * 1024;
    /// For tests: called on the accepting thread when a connection's session starts, and on the
    /// session's thread once its socket is closed, each with the socket's descriptor.
    std::function<void(int fd)> on_session_opened{};
    std::function<void(int fd)> on_session_closed{};
};

class server {
public:
    /// Binds 127.0.0.1:port. Throws on failure.
    server(service& svc, const server_options& opts);

    /// The bound port (the chosen one when asked for 0).
    unsigned short port() const { return port_; }
    bool tls() const { return tls_.has_value(); }

    /// Serves until SIGINT, SIGTERM or stop(); then closes every connection, waits for every
    /// session to end (a delay fault is cut short) and returns.
    void run();

    /// Stops accepting, closes open connections and wakes delayed sessions. Thread-safe.
    void stop();

private:
    struct session_entry {
        int fd = -1; ///< -1 once the session no longer owns it (about to close it)
        std::thread thread;
        bool done = false;
    };

    void accept();
    void start_session(boost::asio::ip::tcp::socket socket);
    void session(std::uint64_t id, boost::asio::ip::tcp::socket socket);
    template <class Stream>
    void serve(Stream& stream);
    /// Waits `d`, or less if the server stops; false when it stops.
    bool pause(std::chrono::milliseconds d);
    /// The session no longer owns its descriptor: stop() must not touch it any more.
    void release_fd(std::uint64_t id);
    void shut_down_sessions(); // with mutex_ held

    service& svc_;
    server_options opts_;
    boost::asio::io_context ioc_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::signal_set signals_;
    boost::asio::steady_timer retry_timer_;
    std::optional<boost::asio::ssl::context> tls_;
    unsigned short port_ = 0;

    std::mutex mutex_;
    std::condition_variable changed_;
    std::map<std::uint64_t, session_entry> sessions_;
    std::uint64_t next_id_ = 0;
    bool stopping_ = false;
};

} // namespace genesys_emulator

#endif
