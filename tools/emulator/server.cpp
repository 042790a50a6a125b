// SPDX-License-Identifier: BSL-1.0
#include "server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <chrono>
#include <sstream>
#include <stdexcept>
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

/// A completion token for a coroutine that looks at the error itself.
auto into(beast::error_code& ec) { return asio::redirect_error(asio::use_awaitable, ec); }

} // namespace

/// One connection: its stream, and a timer for its delay faults and closing deadlines.
struct server::session {
    session(tcp::socket socket, asio::ssl::context* tls)
        : fd(socket.native_handle()), timer(socket.get_executor())
    {
        if (tls)
            tls_stream.emplace(std::move(socket), *tls);
        else
            plain.emplace(std::move(socket));
    }
    tcp::socket& lowest() { return plain ? *plain : tls_stream->next_layer(); }

    /// Cuts the session's pending and future reads and writes short, and its delay.
    void shut_down()
    {
        beast::error_code ignored;
        lowest().shutdown(tcp::socket::shutdown_both, ignored);
        lowest().cancel(ignored);
        timer.cancel();
    }

    /// Cancels the socket's operations `d` from now, unless the session moves on first (or ends:
    /// the handler keeps the session alive, so it never touches a closed one's memory).
    void deadline(std::shared_ptr<session> self, std::chrono::steady_clock::duration d)
    {
        timer.expires_after(d);
        timer.async_wait([self = std::move(self)](const beast::error_code& ec) {
            beast::error_code ignored;
            if (!ec)
                self->lowest().cancel(ignored);
        });
    }

    const int fd;
    std::optional<tcp::socket> plain;
    std::optional<beast::ssl_stream<tcp::socket>> tls_stream;
    asio::steady_timer timer;
};

template <class Stream>
asio::awaitable<void> server::serve(Stream& stream, const std::shared_ptr<session>& s)
{
    beast::flat_buffer buffer;
    for (;;) {
        http::request_parser<http::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(opts_.header_limit));
        parser.body_limit(opts_.body_limit);
        beast::error_code ec;
        co_await http::async_read(stream, buffer, parser, into(ec));
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
                co_return;
            http::response<http::string_body> res{static_cast<http::status>(early.status), 11};
            for (const auto& h : early.headers)
                res.insert(h.name, h.value);
            res.set(http::field::server, "genesys-tokens-emulator");
            res.keep_alive(false);
            res.body() = std::move(early.body);
            res.prepare_payload();
            co_await http::async_write(stream, res, into(ec));
            if (!ec && !stopping_) {
                // The client may still be sending: stop sending, then read and drop what comes
                // for a while (at most 4 MiB, 2 s), so that closing does not reset the
                // connection before the client has read the answer.
                auto& socket = s->lowest();
                socket.shutdown(tcp::socket::shutdown_send, ec);
                s->deadline(s, std::chrono::seconds(2));
                std::vector<char> sink(16 * 1024);
                for (std::size_t total = 0; !ec && total < 4 * 1024 * 1024;)
                    total += co_await socket.async_read_some(asio::buffer(sink), into(ec));
                s->timer.cancel();
            }
            co_return;
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

        if (rep.delay_ms > 0) {
            if (stopping_)
                co_return;
            s->timer.expires_after(std::chrono::milliseconds(rep.delay_ms));
            co_await s->timer.async_wait(into(ec));
            if (stopping_)
                co_return; // the delayed request is not answered
        }
        if (rep.transport_fault == fault_mode::close_before)
            co_return;

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
            co_await asio::async_write(stream, asio::buffer(wire.data(), cut), into(ec));
            co_return;
        }
        co_await http::async_write(stream, res, into(ec));
        if (ec || !res.keep_alive())
            co_return;
    }
}

server::server(service& svc, const server_options& opts)
    : svc_(svc), opts_(opts), acceptor_(ioc_), signals_(ioc_, SIGINT, SIGTERM), retry_timer_(ioc_)
{
    if (!opts.tls_cert.empty() || !opts.tls_key.empty()) {
        tls_.emplace(asio::ssl::context::tls_server);
        tls_->use_certificate_chain_file(opts.tls_cert);
        tls_->use_private_key_file(opts.tls_key, asio::ssl::context::pem);
        if (!opts.tls_client_ca.empty()) {
            tls_->load_verify_file(opts.tls_client_ca);
            tls_->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
        }
    } else if (!opts.tls_client_ca.empty()) {
        throw std::runtime_error("--tls-client-ca needs --tls-cert and --tls-key");
    }
    tcp::endpoint endpoint{asio::ip::make_address("127.0.0.1"), opts.port};
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(asio::socket_base::max_listen_connections);
    port_ = acceptor_.local_endpoint().port();
}

server::~server() = default;

void server::run()
{
    signals_.async_wait([this](const beast::error_code& ec, int) {
        if (!ec)
            end_all_sessions();
    });
    accept();
    ioc_.run(); // until the acceptor is closed and the last session has ended
}

void server::stop()
{
    asio::post(ioc_, [this] { end_all_sessions(); });
}

void server::end_all_sessions()
{
    stopping_ = true;
    beast::error_code ignored;
    acceptor_.close(ignored);
    signals_.cancel(ignored);
    retry_timer_.cancel();
    for (auto& [id, s] : sessions_)
        s->shut_down();
}

void server::accept()
{
    acceptor_.async_accept([this](const beast::error_code& ec, tcp::socket socket) {
        if (stopping_ || ec == asio::error::operation_aborted || !acceptor_.is_open())
            return; // closed by stop(); an accepted socket closes here
        if (ec) {
            // E.g. out of descriptors: try again shortly rather than stop accepting for good.
            retry_timer_.expires_after(std::chrono::milliseconds(50));
            retry_timer_.async_wait([this](const beast::error_code& e) {
                if (!e && !stopping_)
                    accept();
            });
            return;
        }
        beast::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        auto s = std::make_shared<session>(std::move(socket), tls_ ? &*tls_ : nullptr);
        svc_.on_connection();
        if (opts_.on_session_opened)
            opts_.on_session_opened(s->fd);
        asio::co_spawn(ioc_, serve_session(std::move(s)), asio::detached);
        accept();
    });
}

asio::awaitable<void> server::serve_session(std::shared_ptr<session> s)
{
    const std::uint64_t id = ++next_id_;
    sessions_.emplace(id, s);
    beast::error_code ec;
    try {
        if (s->tls_stream) {
            s->deadline(s, std::chrono::seconds(10));
            co_await s->tls_stream->async_handshake(asio::ssl::stream_base::server, into(ec));
            s->timer.cancel();
            if (!ec && !stopping_) {
                co_await serve(*s->tls_stream, s);
                if (!stopping_) {
                    s->deadline(s, std::chrono::seconds(2)); // a peer that never answers close_notify
                    co_await s->tls_stream->async_shutdown(into(ec));
                    s->timer.cancel();
                }
            }
        } else {
            co_await serve(*s->plain, s);
            s->lowest().shutdown(tcp::socket::shutdown_send, ec);
        }
    } catch (const std::exception&) {
        // A broken connection ends its session; the server goes on.
    }
    sessions_.erase(id);
    s->lowest().close(ec);
    if (opts_.on_session_closed)
        opts_.on_session_closed(s->fd);
}

} // namespace genesys_emulator
