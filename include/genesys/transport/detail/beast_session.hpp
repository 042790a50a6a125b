// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_TRANSPORT_DETAIL_BEAST_SESSION_HPP
#define GENESYS_TRANSPORT_DETAIL_BEAST_SESSION_HPP

// What `beast_transport` (<genesys/transport/beast.hpp>) sends through: the blocking Boost.Beast
// connection, its deadlines, keep-alive and TLS handshake.

#include <genesys/detail/ascii.hpp>
#include <genesys/http.hpp>
#include <genesys/transport/beast_options.hpp>
#include <genesys/transport/detail/beast_connection.hpp>
#include <genesys/transport/detail/beast_message.hpp>
#include <genesys/transport/detail/beast_proxy.hpp>
#include <genesys/transport/detail/beast_tls.hpp>
#include <genesys/transport/detail/beast_url.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/asio/ssl/verify_mode.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/system/errc.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>
#include <boost/system/system_error.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace genesys::detail {

/// The state behind a `beast_transport`: an `io_context`, the TLS context and at most one open
/// connection. Not movable (the streams refer to the `io_context`); owned through a `unique_ptr`.
class beast_session {
public:
    /// Checks the proxy settings and loads the client certificate, if any: throws
    /// `invalid_argument_error` when either is unusable.
    explicit beast_session(beast_options options)
        : options_(std::move(options)), proxy_(beast_load_proxy(options_, "beast_transport")),
          identity_(beast_load_client_identity(options_.client_certificate, "beast_transport"))
    {
    }
    beast_session(const beast_session&) = delete;
    beast_session& operator=(const beast_session&) = delete;
    ~beast_session() { close(true, clock::time_point::max()); }

    boost::system::result<http_response> send(const http_request& request);

    std::string_view last_error_message() const noexcept { return last_error_; }

    bool is_open() const noexcept { return plain_.has_value() || tls_.has_value(); }

    /// Closes the connection, if any. Graceful: a TLS `close_notify` is sent (without waiting for
    /// the server's), a plain socket is shut down for sending. Never fails.
    void close(bool graceful, std::chrono::steady_clock::time_point deadline) noexcept;

private:
    using clock = std::chrono::steady_clock;
    using tcp = boost::asio::ip::tcp;
    using plain_stream = boost::beast::tcp_stream;
    using tls_stream = boost::beast::ssl_stream<boost::beast::tcp_stream>;
    using request_type = beast_request;

    /// How long a graceful close may take (it only writes a TLS alert).
    static constexpr std::chrono::milliseconds close_timeout{500};

    static clock::time_point deadline_after(clock::time_point from, std::chrono::milliseconds d) noexcept
    {
        return beast_deadline_after(from, d);
    }

    plain_stream& lowest() noexcept { return tls_ ? boost::beast::get_lowest_layer(*tls_) : *plain_; }

    void arm(clock::time_point deadline)
    {
        if (deadline == clock::time_point::max())
            lowest().expires_never();
        else
            lowest().expires_at(deadline);
    }

    /// Starts one asynchronous operation and runs the `io_context` until it completes.
    template <class Start>
    boost::system::error_code run(Start&& start)
    {
        boost::system::error_code result = boost::asio::error::operation_aborted;
        std::forward<Start>(start)([&result](boost::system::error_code ec, auto&&...) { result = ec; });
        io_.restart();
        io_.run();
        return result;
    }

    /// Runs `f` on the open stream, TLS or plain.
    template <class F>
    void with_stream(F&& f)
    {
        beast_visit_stream(tls_, plain_, f);
    }

    boost::system::error_code build_request(const http_request& request, const beast_url& url, request_type& out);
    boost::system::error_code tls_context(std::string& why);
    boost::system::error_code connect(const beast_url& url, clock::time_point deadline);
    bool idle_connection_usable() noexcept;
    boost::system::error_code fail(std::string_view what, const beast_url& url, boost::system::error_code ec,
                                   std::string_view detail = {});
    /// Closes the connection and fails with `ec`, `text` being the whole message (a proxy's refusal).
    boost::system::error_code fail_text(boost::system::error_code ec, std::string text);
    boost::system::error_code open_tunnel(const beast_url& url);

    beast_options options_;
    proxy_rules proxy_;
    const proxy_endpoint* via_ = nullptr; // the proxy of the request being sent, or null
    std::unique_ptr<const beast_client_identity> identity_; // the client certificate, or null
    boost::asio::io_context io_{1};
    std::optional<boost::asio::ssl::context> tls_context_{};
    std::optional<plain_stream> plain_{};
    std::optional<tls_stream> tls_{};
    boost::beast::flat_buffer buffer_{};
    bool conn_tls_ = false;
    std::string conn_host_{};
    std::uint16_t conn_port_ = 0;
    std::string last_error_{};
};

inline boost::system::error_code beast_session::fail(std::string_view what, const beast_url& url,
                                                     boost::system::error_code ec, std::string_view detail)
{
    last_error_ = beast_failure_text(what, url, ec, detail, options_.connect_timeout, options_.timeout,
                                     via_ != nullptr ? std::string_view(via_->display) : std::string_view{});
    close(false, clock::time_point::max());
    return beast_reported_error(ec);
}

inline boost::system::error_code beast_session::fail_text(boost::system::error_code ec, std::string text)
{
    last_error_ = std::move(text);
    close(false, clock::time_point::max());
    return ec;
}

// On a connection to the proxy `via_`: asks it for a tunnel to `url` and reads its answer (a
// bounded head, no body); the TLS handshake with `url`'s host follows in the tunnel.
inline boost::system::error_code beast_session::open_tunnel(const beast_url& url)
{
    namespace http = boost::beast::http;
    std::string request = beast_connect_request(url, *via_);
    struct wipe_on_exit { // the credential does not outlive the call in freed memory
        std::string& s;
        ~wipe_on_exit() { wipe(s); }
    } wipe_request{request};
    constexpr std::string_view what = "open a tunnel (CONNECT) to";
    if (auto ec = run([&](auto handler) { boost::asio::async_write(lowest(), boost::asio::buffer(request), handler); }))
        return fail(what, url, ec);
    std::optional<beast_connect_parser> parser;
    beast_init_connect_parser(parser, options_.max_header_size);
    if (auto ec = run([&](auto handler) { http::async_read_header(lowest(), buffer_, *parser, handler); }))
        return fail(what, url, ec);
    std::string text;
    if (auto ec = beast_connect_outcome(parser->get().result_int(), buffer_.size(), *via_, url, text))
        return fail_text(ec, std::move(text));
    return {};
}

inline boost::system::error_code beast_session::build_request(const http_request& request, const beast_url& url,
                                                              request_type& out)
{
    return beast_build_request(request, url, options_.keep_alive, out, last_error_);
}

inline boost::system::error_code beast_session::tls_context(std::string& why)
{
    if (tls_context_)
        return {};
    return beast_make_tls_context(options_.verify_peer, options_.ca_file, options_.ca_path, tls_context_, why,
                                  identity_.get());
}

inline boost::system::error_code beast_session::connect(const beast_url& url, clock::time_point deadline)
{
    namespace asio = boost::asio;
    close(false, deadline);
    if (url.tls) {
        std::string why;
        if (auto ec = tls_context(why))
            return fail("TLS setup for", url, ec, why);
    }

    // Through a proxy, the connection is to the proxy; the messages still name the URL's host
    // (and the proxy, after it).
    const beast_url peer = via_ != nullptr ? beast_proxy_target(*via_) : url;
    std::vector<tcp::endpoint> endpoints;
    if (peer.ip_literal) {
        boost::system::error_code ec;
        const auto address = asio::ip::make_address(peer.host, ec);
        if (ec)
            return fail("parse address of", url, ec);
        endpoints.emplace_back(address, peer.port);
    } else {
        // getaddrinfo cannot be interrupted: its time counts against the deadline, checked after it.
        const std::string_view what = via_ != nullptr ? "resolve the proxy for" : "resolve";
        tcp::resolver resolver(io_);
        boost::system::error_code ec;
        const auto results = resolver.resolve(peer.host, std::to_string(peer.port), tcp::resolver::numeric_service, ec);
        if (ec)
            return fail(what, url, ec);
        if (clock::now() >= deadline)
            return fail(what, url, boost::beast::error::timeout);
        for (const auto& entry : results)
            endpoints.push_back(entry.endpoint());
    }

    try {
        if (url.tls)
            tls_.emplace(io_, *tls_context_);
        else
            plain_.emplace(io_);
    } catch (const boost::system::system_error& e) { // SSL_new failed
        return fail("set up a connection to", url, e.code());
    }
    conn_tls_ = url.tls;
    conn_host_ = url.host;
    conn_port_ = url.port;

    arm(deadline);
    if (auto ec = run([&](auto handler) { lowest().async_connect(endpoints, handler); }))
        return fail(via_ != nullptr ? "connect to the proxy for" : "connect to", url, ec);
    boost::system::error_code ignored;
    lowest().socket().set_option(tcp::no_delay(true), ignored);
    if (via_ != nullptr && url.tls) {
        if (auto ec = open_tunnel(url))
            return ec;
    }

    if (url.tls) {
        SSL* ssl = tls_->native_handle();
        std::string_view what;
        if (auto ec = beast_prepare_tls(ssl, url, options_.verify_peer, what))
            return fail(what, url, ec);
        if (auto ec = run([&](auto handler) { tls_->async_handshake(asio::ssl::stream_base::client, handler); }))
            return fail("TLS handshake with", url, ec, beast_tls_handshake_detail(ssl, options_.verify_peer));
    }
    return {};
}

inline bool beast_session::idle_connection_usable() noexcept
{
    return beast_idle_connection_usable(lowest().socket(), buffer_, tls_ ? tls_->native_handle() : nullptr);
}

inline boost::system::result<http_response> beast_session::send(const http_request& request)
{
    namespace http = boost::beast::http;
    last_error_.clear();
    via_ = nullptr;
    const auto start = clock::now();
    const auto deadline = deadline_after(start, options_.timeout);

    auto url = parse_beast_url(request.url);
    if (!url) {
        last_error_ = "invalid URL: expected http:// or https://, a host, an optional port and a path";
        return url.error();
    }
    request_type req;
    std::string wire; // `req` as written: one buffer, never copied by the streams
    struct wipe_on_exit { // the request's copies of a token or secret do not outlive the call
        request_type& r;
        std::string& w;
        ~wipe_on_exit()
        {
            beast_wipe_request(r);
            wipe(w);
        }
    } wipe_req{req, wire};
    if (auto ec = build_request(request, *url, req))
        return ec;
    via_ = proxy_.for_url(url->tls, url->host);
    if (via_ != nullptr && !url->tls)
        beast_to_absolute_form(req, *url, *via_);
    beast_serialize_request(req, wire);
    const bool idempotent = request.method != http_method::post && request.method != http_method::patch;

    if (is_open() && (conn_tls_ != url->tls || conn_port_ != url->port || conn_host_ != url->host))
        close(true, std::min(deadline, clock::now() + close_timeout));
    if (is_open() && !idle_connection_usable())
        close(false, deadline);

    for (int attempt = 0;; ++attempt) {
        const bool reused = is_open();
        if (!reused) {
            if (clock::now() >= deadline)
                return fail("connect to", *url, boost::beast::error::timeout);
            if (auto ec = connect(*url, std::min(deadline, deadline_after(clock::now(), options_.connect_timeout))))
                return ec;
        }

        arm(deadline);
        if (auto ec = run([&](auto handler) {
                with_stream([&](auto& s) { boost::asio::async_write(s, boost::asio::buffer(wire), handler); });
            })) {
            if (reused && attempt == 0 && beast_stale_connection_error(ec)) {
                close(false, deadline);
                continue;
            }
            return fail("write request to", *url, ec);
        }

        std::optional<beast_response_parser> parser;
        bool first = true;
        for (;;) {
            beast_init_parser(parser, request.method, options_.max_header_size, options_.max_response_bytes);
            // The head first: a chunked body's trailer fields, read with the body, are added to
            // the parser's fields, and must not pass for the response's headers.
            auto ec = run([&](auto handler) {
                with_stream([&](auto& s) { http::async_read_header(s, buffer_, *parser, handler); });
            });
            if (ec) {
                const bool nothing_read = first && !parser->got_some() && buffer_.size() == 0;
                if (reused && attempt == 0 && nothing_read && idempotent && beast_stale_connection_error(ec))
                    break;
                return fail("read response from", *url, ec);
            }
            first = false;
            if (!beast_interim_status(parser->get().result_int()))
                break; // a final response; 1xx ones (e.g. 100 Continue) are skipped
        }
        if (!parser->is_header_done()) { // the reused connection was stale: reconnect and resend once
            close(false, deadline);
            continue;
        }

        if (via_ != nullptr && !url->tls && parser->get().result_int() == 407) // the proxy's, not the server's
            return fail_text(make_error_code(errc::proxy_authentication_required), beast_proxy_407_text(*via_));
        http_response response = beast_response_head(*parser);
        if (!parser->is_done()) {
            if (auto ec = run([&](auto handler) {
                    with_stream([&](auto& s) { http::async_read(s, buffer_, *parser, handler); });
                }))
                return fail("read response from", *url, ec);
        }
        response.body = std::move(parser->get().body());

        const bool keep = beast_keep_connection(options_.keep_alive, req, *parser, buffer_, response.status);
        if (!keep)
            close(true, std::min(deadline, clock::now() + close_timeout));
        return response;
    }
}

inline void beast_session::close(bool graceful, clock::time_point deadline) noexcept
{
    try {
        boost::system::error_code ignored;
        if (tls_) {
            if (graceful) {
                // Sends close_notify without waiting for the server's (RFC 8446, section 6.1);
                // errors are of no interest once the response is in.
                ::SSL_set_shutdown(tls_->native_handle(), SSL_RECEIVED_SHUTDOWN);
                arm(std::min(deadline, clock::now() + close_timeout));
                run([&](auto handler) { tls_->async_shutdown(handler); });
            }
            auto& socket = boost::beast::get_lowest_layer(*tls_).socket();
            socket.shutdown(tcp::socket::shutdown_both, ignored);
            boost::beast::get_lowest_layer(*tls_).close();
            tls_.reset();
        }
        if (plain_) {
            plain_->socket().shutdown(graceful ? tcp::socket::shutdown_send : tcp::socket::shutdown_both, ignored);
            plain_->close();
            plain_.reset();
        }
    } catch (...) {
        tls_.reset();
        plain_.reset();
    }
    buffer_.clear();
}

} // namespace genesys::detail

#endif
