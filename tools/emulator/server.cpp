#include "server.hpp"

#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <sstream>
#include <thread>
#include <vector>

namespace genesys_emulator {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

std::optional<genesys::http_method> to_method(http::verb v)
{
    switch (v) {
    case http::verb::get: return genesys::http_method::get;
    case http::verb::head: return genesys::http_method::head;
    case http::verb::put: return genesys::http_method::put;
    case http::verb::post: return genesys::http_method::post;
    case http::verb::delete_: return genesys::http_method::delete_;
    case http::verb::patch: return genesys::http_method::patch;
    default: return std::nullopt;
    }
}

/// After an answer that ends the connection while the client may still be sending (a header
/// section over the limit): stop sending, then read and drop what comes for a while, so that
/// closing does not reset the connection before the client has read the answer. stop()
/// shutting the socket down ends the wait at once.
void lingering_close(tcp::socket& socket)
{
    const int fd = socket.native_handle();
    ::shutdown(fd, SHUT_WR);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    std::vector<char> sink(16 * 1024);
    for (std::size_t total = 0; total < 4 * 1024 * 1024;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            return;
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
            return;
        const auto n = ::recv(fd, sink.data(), sink.size(), MSG_DONTWAIT);
        if (n <= 0)
            return;
        total += static_cast<std::size_t>(n);
    }
}

} // namespace

template <class Stream>
void server::serve(Stream& stream)
{
    beast::flat_buffer buffer;
    for (;;) {
        http::request_parser<http::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(opts_.header_limit));
        parser.body_limit(opts_.body_limit);
        beast::error_code ec;
        http::read(stream, buffer, parser, ec);
        if (ec) {
            // What a front end answers before routing; anything else (end of stream, a
            // connection cut mid-request, TLS errors, stop()) just ends the session.
            genesys::http_response early;
            if (ec == http::error::header_limit)
                early = svc_.front_end_error(431, "request.header.fields.too.large",
                                             "Request Header Fields Too Large: the request line and headers are over " +
                                                 std::to_string(opts_.header_limit) + " bytes");
            else if (ec == http::error::body_limit)
                early = svc_.front_end_error(413, "request.entity.too.large",
                                             "Request Entity Too Large: the body is over " +
                                                 std::to_string(opts_.body_limit) + " bytes");
            else if (ec.category() == http::make_error_code(http::error::bad_target).category() && ec != http::error::end_of_stream &&
                     ec != http::error::partial_message && ec != http::error::need_more)
                early = svc_.front_end_error(400, "bad.request",
                                             "The request could not be understood by the server due to malformed syntax.");
            else
                return;
            http::response<http::string_body> res{static_cast<http::status>(early.status), 11};
            for (const auto& h : early.headers)
                res.insert(h.name, h.value);
            res.set(http::field::server, "genesys-tokens-emulator");
            res.keep_alive(false);
            res.body() = std::move(early.body);
            res.prepare_payload();
            http::write(stream, res, ec);
            if (!ec)
                lingering_close(beast::get_lowest_layer(stream));
            return;
        }
        const auto& req = parser.get();

        reply rep;
        if (auto method = to_method(req.method())) {
            genesys::http_request request{*method, std::string(req.target()), {}, req.body()};
            for (const auto& field : req)
                request.headers.add(std::string(field.name_string()), std::string(field.value()));
            rep = svc_.handle(request);
        } else {
            rep = svc_.handle_other_method(req.target());
        }

        if (rep.delay_ms > 0 && !pause(std::chrono::milliseconds(rep.delay_ms)))
            return; // stopping: the delayed request is not answered
        if (rep.transport_fault == fault_mode::close_before)
            return;

        http::response<http::string_body> res{static_cast<http::status>(rep.response.status), req.version()};
        for (const auto& h : rep.response.headers)
            res.insert(h.name, h.value);
        res.set(http::field::server, "genesys-tokens-emulator");
        res.keep_alive(req.keep_alive());
        if (req.method() == http::verb::head) {
            res.content_length(0);
        } else {
            res.body() = std::move(rep.response.body);
            res.prepare_payload();
        }

        if (rep.transport_fault == fault_mode::close_mid || rep.transport_fault == fault_mode::truncate) {
            std::ostringstream os;
            os << res;
            const std::string wire = os.str();
            const auto head_end = wire.find("\r\n\r\n") + 4;
            const auto cut = rep.transport_fault == fault_mode::close_mid ? head_end / 2
                                                                           : head_end + (wire.size() - head_end) / 2;
            asio::write(stream, asio::buffer(wire.data(), cut), ec);
            return;
        }
        http::write(stream, res, ec);
        if (ec || !res.keep_alive())
            return;
    }
}

server::server(service& svc, const server_options& opts)
    : svc_(svc), opts_(opts), acceptor_(ioc_), signals_(ioc_, SIGINT, SIGTERM), retry_timer_(ioc_)
{
    if (!opts.tls_cert.empty() || !opts.tls_key.empty()) {
        tls_.emplace(asio::ssl::context::tls_server);
        tls_->use_certificate_chain_file(opts.tls_cert);
        tls_->use_private_key_file(opts.tls_key, asio::ssl::context::pem);
    }
    tcp::endpoint endpoint{asio::ip::make_address("127.0.0.1"), opts.port};
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(asio::socket_base::max_listen_connections);
    port_ = acceptor_.local_endpoint().port();
}

void server::run()
{
    signals_.async_wait([this](const beast::error_code& ec, int) {
        if (!ec)
            stop();
    });
    accept();
    ioc_.run();

    // The acceptor is closed: no session starts any more. End the ones left and join them all.
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        shut_down_sessions();
    }
    changed_.notify_all();
    for (;;) {
        std::thread t;
        {
            std::lock_guard lock(mutex_);
            for (auto& [id, s] : sessions_)
                if (s.thread.joinable()) {
                    t = std::move(s.thread);
                    break;
                }
        }
        if (!t.joinable())
            break;
        t.join();
    }
    std::lock_guard lock(mutex_);
    sessions_.clear();
}

void server::stop()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        shut_down_sessions(); // unblocks their reads and writes
    }
    changed_.notify_all(); // wakes delay faults
    asio::post(ioc_, [this] {
        beast::error_code ignored;
        acceptor_.close(ignored);
        signals_.cancel(ignored);
        retry_timer_.cancel();
    });
}

void server::shut_down_sessions()
{
    for (auto& [id, s] : sessions_)
        if (s.fd >= 0)
            ::shutdown(s.fd, SHUT_RDWR);
}

bool server::pause(std::chrono::milliseconds d)
{
    std::unique_lock lock(mutex_);
    return !changed_.wait_for(lock, d, [this] { return stopping_; });
}

void server::release_fd(std::uint64_t id)
{
    std::lock_guard lock(mutex_);
    if (auto it = sessions_.find(id); it != sessions_.end())
        it->second.fd = -1;
}

void server::accept()
{
    acceptor_.async_accept([this](const beast::error_code& ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !acceptor_.is_open())
            return; // closed by stop()
        if (ec) {
            // E.g. out of descriptors: try again shortly rather than stop accepting for good.
            retry_timer_.expires_after(std::chrono::milliseconds(50));
            retry_timer_.async_wait([this](const beast::error_code& e) {
                if (!e && acceptor_.is_open())
                    accept();
            });
            return;
        }
        start_session(std::move(socket));
        accept();
    });
}

void server::start_session(tcp::socket socket)
{
    const int fd = socket.native_handle();
    {
        std::lock_guard lock(mutex_);
        if (stopping_)
            return; // the socket closes here
        // Reap the sessions that ended (their threads are finishing or finished).
        for (auto it = sessions_.begin(); it != sessions_.end();) {
            if (it->second.done) {
                if (it->second.thread.joinable())
                    it->second.thread.join();
                it = sessions_.erase(it);
            } else {
                ++it;
            }
        }
        const std::uint64_t id = ++next_id_;
        auto& entry = sessions_[id];
        entry.fd = fd;
        try {
            entry.thread = std::thread([this, id, s = std::move(socket)]() mutable { session(id, std::move(s)); });
        } catch (const std::exception&) {
            sessions_.erase(id); // no thread: the socket closes here, unregistered first under the lock
            return;
        }
    }
    svc_.on_connection();
    if (opts_.on_session_opened)
        opts_.on_session_opened(fd);
}

void server::session(std::uint64_t id, tcp::socket socket)
{
    const int fd = socket.native_handle();
    try {
        beast::error_code ec;
        socket.set_option(tcp::no_delay(true), ec);
        if (tls_) {
            beast::ssl_stream<tcp::socket> stream(std::move(socket), *tls_);
            struct release_guard { // destroyed before `stream`, which closes the descriptor
                server* self;
                std::uint64_t id;
                ~release_guard() { self->release_fd(id); }
            } guard{this, id};
            stream.handshake(asio::ssl::stream_base::server, ec);
            if (!ec) {
                serve(stream);
                stream.shutdown(ec);
            }
        } else {
            serve(socket);
            socket.shutdown(tcp::socket::shutdown_send, ec);
        }
    } catch (const std::exception&) {
        // A broken connection ends its session; the server goes on.
    }
    release_fd(id);
    beast::error_code ignored;
    socket.close(ignored); // (a moved-from socket: nothing to close)
    if (opts_.on_session_closed)
        opts_.on_session_closed(fd);
    {
        std::lock_guard lock(mutex_);
        if (auto it = sessions_.find(id); it != sessions_.end())
            it->second.done = true;
    }
    changed_.notify_all();
}

} // namespace genesys_emulator
