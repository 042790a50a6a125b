#include "server.hpp"

#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <sys/socket.h>

#include <chrono>
#include <sstream>
#include <thread>

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

template <class Stream>
void serve(Stream& stream, service& svc)
{
    beast::flat_buffer buffer;
    for (;;) {
        http::request_parser<http::string_body> parser;
        parser.body_limit(8 * 1024 * 1024);
        beast::error_code ec;
        http::read(stream, buffer, parser, ec);
        if (ec)
            return;
        const auto& req = parser.get();

        reply rep;
        if (auto method = to_method(req.method())) {
            genesys::http_request request{*method, std::string(req.target()), {}, req.body()};
            for (const auto& field : req)
                request.headers.add(std::string(field.name_string()), std::string(field.value()));
            rep = svc.handle(request);
        } else {
            rep.response = {405, {{"Content-Type", "text/plain"}}, "method not allowed"};
        }

        if (rep.delay_ms > 0)
            std::this_thread::sleep_for(std::chrono::milliseconds(rep.delay_ms));
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

} // namespace

server::server(service& svc, const server_options& opts)
    : svc_(svc), acceptor_(ioc_), signals_(ioc_, SIGINT, SIGTERM)
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
    acceptor_.listen();
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
    std::unique_lock lock(mutex_);
    idle_.wait_for(lock, std::chrono::seconds(5), [this] { return active_ == 0; });
}

void server::stop()
{
    asio::post(ioc_, [this] {
        beast::error_code ignored;
        acceptor_.close(ignored);
        signals_.cancel(ignored);
        std::lock_guard lock(mutex_);
        stopping_ = true;
        for (int fd : open_fds_)
            ::shutdown(fd, SHUT_RDWR); // unblocks the sessions' reads
    });
}

void server::accept()
{
    acceptor_.async_accept([this](const beast::error_code& ec, tcp::socket socket) {
        if (ec)
            return; // closed by stop()
        {
            std::lock_guard lock(mutex_);
            if (stopping_)
                return;
            ++active_;
            open_fds_.insert(socket.native_handle());
        }
        svc_.on_connection();
        std::thread([this, s = std::move(socket)]() mutable { session(std::move(s)); }).detach();
        accept();
    });
}

void server::session(tcp::socket socket)
{
    const int fd = socket.native_handle();
    socket.set_option(tcp::no_delay(true));
    try {
        if (tls_) {
            beast::ssl_stream<tcp::socket> stream(std::move(socket), *tls_);
            beast::error_code ec;
            stream.handshake(asio::ssl::stream_base::server, ec);
            if (!ec) {
                serve(stream, svc_);
                stream.shutdown(ec);
            }
        } else {
            serve(socket, svc_);
            beast::error_code ec;
            socket.shutdown(tcp::socket::shutdown_send, ec);
        }
    } catch (const std::exception&) {
        // A broken connection ends its session; the server goes on.
    }
    std::lock_guard lock(mutex_);
    open_fds_.erase(fd);
    --active_;
    idle_.notify_all();
}

} // namespace genesys_emulator
