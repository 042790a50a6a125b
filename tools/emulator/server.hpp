#ifndef GENESYS_EMULATOR_SERVER_HPP
#define GENESYS_EMULATOR_SERVER_HPP

// The emulator on loopback HTTP(S): Boost.Beast, one thread per connection, keep-alive.

#include "emulator.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

namespace genesys_emulator {

struct server_options {
    unsigned short port = 0; ///< 0: any free port
    std::string tls_cert;    ///< PEM certificate chain; with tls_key, serve https
    std::string tls_key;
};

class server {
public:
    /// Binds 127.0.0.1:port. Throws on failure.
    server(service& svc, const server_options& opts);

    /// The bound port (the chosen one when asked for 0).
    unsigned short port() const { return port_; }
    bool tls() const { return tls_.has_value(); }

    /// Serves until SIGINT, SIGTERM or stop(); then closes every connection and returns.
    void run();

    /// Stops accepting and closes open connections. Thread-safe.
    void stop();

private:
    void accept();
    void session(boost::asio::ip::tcp::socket socket);

    service& svc_;
    boost::asio::io_context ioc_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::signal_set signals_;
    std::optional<boost::asio::ssl::context> tls_;
    unsigned short port_ = 0;

    std::mutex mutex_;
    std::condition_variable idle_;
    std::set<int> open_fds_;
    int active_ = 0;
    bool stopping_ = false;
};

} // namespace genesys_emulator

#endif
