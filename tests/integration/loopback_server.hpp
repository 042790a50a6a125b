// SPDX-License-Identifier: BSL-1.0
// The adapters' test server: a scripted HTTP/1.1 server on a loopback address (plain or TLS) that
// records the raw requests it reads, a parser for those requests, and a port that refuses
// connections. Shared by the curl and Beast transport tests.

#ifndef GENESYS_TESTS_LOOPBACK_SERVER_HPP
#define GENESYS_TESTS_LOOPBACK_SERVER_HPP

#include "loopback_io.hpp"

#include <doctest/doctest.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/completion_condition.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/error_code.hpp>

#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace genesys_adapters_test {

/// What the server does with the next request it reads (or, for some, the next connection).
struct step {
    enum class kind {
        reply,            ///< write `raw`, keep the connection and read the next request
        reply_then_close, ///< write `raw`, then close (no `Connection: close` unless `raw` has it)
        drop,             ///< close without answering
        hang,             ///< never answer; wait for the client to close
        garbage,          ///< on a new plain connection: read whatever comes first, write `raw`, close
        reset_after_head, ///< after reading the request head (not its body), reset the connection
        close_at_once,    ///< on a new connection: close it before reading anything (or a TLS handshake)
        reply_then_close_notify, ///< write `raw`, then (TLS) a close_notify alert, then close
    };
    kind what = kind::reply;
    std::string raw{};
};

inline step reply(std::string raw) { return {step::kind::reply, std::move(raw)}; }
inline step reply_then_close(std::string raw) { return {step::kind::reply_then_close, std::move(raw)}; }
inline step drop() { return {step::kind::drop, {}}; }
inline step hang() { return {step::kind::hang, {}}; }
inline step garbage(std::string raw) { return {step::kind::garbage, std::move(raw)}; }
inline step reset_after_head() { return {step::kind::reset_after_head, {}}; }
inline step close_at_once() { return {step::kind::close_at_once, {}}; }
/// On TLS, the polite close of a server done with an idle connection: the answer, then a
/// `close_notify` alert (not waiting for the client's), then the TCP close.
inline step reply_then_close_notify(std::string raw) { return {step::kind::reply_then_close_notify, std::move(raw)}; }

/// A complete `200 OK` with `Content-Length`; `extra` is inserted as is (each field ends in CRLF).
inline std::string ok(std::string_view body = "", std::string_view extra = "")
{
    return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + std::string(extra) + "\r\n" +
           std::string(body);
}

namespace loopback_detail {

// Not genesys::detail's: the server must not lean on the code it tests.
inline std::string ascii_lower(std::string_view s)
{
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    return out;
}

struct server_state {
    mutable std::mutex mutex;
    std::deque<step> script;
    std::vector<std::string> requests;
    std::vector<std::string> server_names; // the SNI of each TLS connection ("" for none)
    int accepts = 0;
    int closes = 0;

    std::optional<step> pop()
    {
        std::lock_guard lock(mutex);
        if (script.empty())
            return std::nullopt;
        step s = std::move(script.front());
        script.pop_front();
        return s;
    }
    std::optional<step> pop_if(step::kind what)
    {
        std::lock_guard lock(mutex);
        if (script.empty() || script.front().what != what)
            return std::nullopt;
        step s = std::move(script.front());
        script.pop_front();
        return s;
    }
};

inline std::size_t content_length_of(std::string_view header)
{
    const std::string lower = ascii_lower(header);
    const auto at = lower.find("\r\ncontent-length:");
    if (at == std::string::npos)
        return 0;
    std::size_t i = at + 17;
    while (i < lower.size() && lower[i] == ' ')
        ++i;
    std::size_t n = 0;
    while (i < lower.size() && lower[i] >= '0' && lower[i] <= '9')
        n = n * 10 + static_cast<std::size_t>(lower[i++] - '0');
    return n;
}

/// One accepted connection, plain (`tcp::socket`) or TLS (`ssl::stream<tcp::socket>`).
template <class Stream>
class session : public std::enable_shared_from_this<session<Stream>> {
    using tcp = boost::asio::ip::tcp;
    using error_code = boost::system::error_code;

public:
    static constexpr bool is_tls = !std::is_same_v<Stream, tcp::socket>;

    template <class... Args>
    explicit session(server_state& state, Args&&... args) : state_(state), stream_(std::forward<Args>(args)...)
    {
    }

    void start()
    {
        namespace asio = boost::asio;
        if constexpr (is_tls) {
            auto self = this->shared_from_this();
            stream_.async_handshake(asio::ssl::stream_base::server, [self](error_code ec) {
                if (ec)
                    return self->close();
                const char* name = SSL_get_servername(self->stream_.native_handle(), TLSEXT_NAMETYPE_host_name);
                {
                    std::lock_guard lock(self->state_.mutex);
                    self->state_.server_names.emplace_back(name ? name : "");
                }
                self->read_request();
            });
        } else if (auto g = state_.pop_if(step::kind::garbage)) {
            out_ = std::move(g->raw);
            auto self = this->shared_from_this();
            stream_.async_read_some(asio::buffer(scratch_), [self](error_code ec, std::size_t) {
                if (ec)
                    return self->close();
                asio::async_write(self->stream_, asio::buffer(self->out_),
                                  [self](error_code, std::size_t) { self->close(); });
            });
        } else {
            read_request();
        }
    }

private:
    void read_request()
    {
        namespace asio = boost::asio;
        auto self = this->shared_from_this();
        asio::async_read_until(stream_, asio::dynamic_buffer(buf_), "\r\n\r\n", [self](error_code ec, std::size_t head) {
            if (ec)
                return self->close();
            if (self->state_.pop_if(step::kind::reset_after_head)) {
                {
                    std::lock_guard lock(self->state_.mutex);
                    self->state_.requests.push_back(self->buf_.substr(0, head));
                }
                return self->close(true);
            }
            const std::size_t body = content_length_of(std::string_view(self->buf_).substr(0, head));
            const std::size_t have = self->buf_.size() - head;
            if (have >= body)
                return self->on_request(head + body);
            asio::async_read(self->stream_, asio::dynamic_buffer(self->buf_), asio::transfer_exactly(body - have),
                             [self, total = head + body](error_code ec2, std::size_t) {
                                 if (ec2)
                                     return self->close();
                                 self->on_request(total);
                             });
        });
    }

    void on_request(std::size_t size)
    {
        namespace asio = boost::asio;
        {
            std::lock_guard lock(state_.mutex);
            state_.requests.push_back(buf_.substr(0, size));
        }
        buf_.erase(0, size);
        auto next = state_.pop();
        if (!next)
            return close();
        auto self = this->shared_from_this();
        switch (next->what) {
        case step::kind::reply:
            out_ = std::move(next->raw);
            asio::async_write(stream_, asio::buffer(out_), [self](error_code ec, std::size_t) {
                if (ec)
                    return self->close();
                self->read_request();
            });
            return;
        case step::kind::reply_then_close:
        case step::kind::garbage:
        case step::kind::reset_after_head:
            out_ = std::move(next->raw);
            asio::async_write(stream_, asio::buffer(out_), [self](error_code, std::size_t) { self->close(); });
            return;
        case step::kind::reply_then_close_notify:
            out_ = std::move(next->raw);
            asio::async_write(stream_, asio::buffer(out_), [self](error_code ec, std::size_t) {
                if (ec)
                    return self->close();
                self->close_notify();
            });
            return;
        case step::kind::drop:
        case step::kind::close_at_once: return close();
        case step::kind::hang: return wait_for_close();
        }
    }

    /// Sends close_notify without waiting for the client's (as a server closing an idle
    /// connection does), then closes the socket.
    void close_notify()
    {
        if constexpr (is_tls) {
            auto self = this->shared_from_this();
            // Marked as received: the shutdown completes once ours is written.
            ::SSL_set_shutdown(stream_.native_handle(), SSL_RECEIVED_SHUTDOWN);
            stream_.async_shutdown([self](error_code) { self->close(); });
        } else {
            close();
        }
    }

    void wait_for_close()
    {
        auto self = this->shared_from_this();
        stream_.async_read_some(boost::asio::buffer(scratch_), [self](error_code ec, std::size_t) {
            if (ec)
                return self->close();
            self->wait_for_close();
        });
    }

    void close(bool reset = false)
    {
        error_code ignored;
        auto& socket = stream_.lowest_layer();
        if (!socket.is_open())
            return;
        if (reset)
            socket.set_option(boost::asio::socket_base::linger(true, 0), ignored);
        else
            socket.shutdown(tcp::socket::shutdown_both, ignored);
        socket.close(ignored);
        std::lock_guard lock(state_.mutex);
        ++state_.closes;
    }

    server_state& state_;
    Stream stream_;
    std::string buf_;
    std::string out_;
    char scratch_[512]{};
};

} // namespace loopback_detail

/** A scripted HTTP/1.1 server on a loopback address and an ephemeral port, run by one thread.

    Each request it reads is recorded raw (head and `Content-Length` body) and answered by the
    next step of the script; with the script exhausted it closes the connection. Keep-alive
    connections share the one script. `garbage` and `close_at_once` are taken by the next
    connection instead, when they are next in the script. The thread stops after 20 s at the
    latest and is always joined by the destructor.
*/
class loopback_server {
    using tcp = boost::asio::ip::tcp;

public:
    explicit loopback_server(std::vector<step> script, std::shared_ptr<boost::asio::ssl::context> tls = nullptr,
                             const char* address = "127.0.0.1")
        : tls_(std::move(tls))
    {
        state_.script.assign(script.begin(), script.end());
        port_ = loopback_io::listen(acceptor_, address);
        accept();
        thread_.emplace(io_);
    }
    loopback_server(const loopback_server&) = delete;
    loopback_server& operator=(const loopback_server&) = delete;

    std::uint16_t port() const { return port_; }
    /// `http://127.0.0.1:<port><target>` (or `https://`).
    std::string url(std::string_view target = "/", bool https = false, std::string_view host = "127.0.0.1") const
    {
        return std::string(https ? "https://" : "http://") + std::string(host) + ":" + std::to_string(port_) +
               std::string(target);
    }
    /// How many connections were accepted; safe to call from any thread.
    int accepts() const
    {
        std::lock_guard lock(state_.mutex);
        return state_.accepts;
    }
    /// The raw bytes of each request read, in order.
    std::vector<std::string> requests() const
    {
        std::lock_guard lock(state_.mutex);
        return state_.requests;
    }
    /// Waits (at most 5 s) until the server has closed `n` connections; returns whether it has.
    bool wait_for_closes(int n) const
    {
        for (int i = 0; i < 500; ++i) {
            {
                std::lock_guard lock(state_.mutex);
                if (state_.closes >= n)
                    return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return false;
    }
    std::vector<std::string> server_names() const
    {
        std::lock_guard lock(state_.mutex);
        return state_.server_names;
    }

private:
    void accept()
    {
        acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
            if (ec)
                return;
            {
                std::lock_guard lock(state_.mutex);
                ++state_.accepts;
            }
            if (state_.pop_if(step::kind::close_at_once)) {
                boost::system::error_code ignored;
                socket.close(ignored);
                std::lock_guard lock(state_.mutex);
                ++state_.closes;
            } else if (tls_) {
                std::make_shared<loopback_detail::session<boost::asio::ssl::stream<tcp::socket>>>(
                    state_, std::move(socket), *tls_)
                    ->start();
            } else {
                std::make_shared<loopback_detail::session<tcp::socket>>(state_, std::move(socket))->start();
            }
            accept();
        });
    }

    std::shared_ptr<boost::asio::ssl::context> tls_;
    loopback_detail::server_state state_;
    boost::asio::io_context io_{1};
    tcp::acceptor acceptor_{io_};
    std::uint16_t port_ = 0;
    std::optional<loopback_io::io_thread> thread_; // last: stopped and joined first
};

/** An HTTP/1.1 server on 127.0.0.1 (plain, or TLS with `tls`) for the heap-scan tests: answers
    every request (a head, no body) with `answer` and keeps the connection, and keeps nothing of
    what it reads. Each connection reads into one fixed buffer, zeroed after each request and
    before it is freed, and over TLS OpenSSL zeroes its own copy of what it decrypted
    (`SSL_OP_CLEANSE_PLAINTEXT`, set on `tls`), so a token the requests carried is not left in
    this process's memory by the server. One thread, for at most 20 s, always joined.
*/
class forgetful_server {
    using tcp = boost::asio::ip::tcp;

public:
    explicit forgetful_server(std::string answer, std::shared_ptr<boost::asio::ssl::context> tls = nullptr)
        : answer_(std::move(answer)), tls_(std::move(tls))
    {
        if (tls_)
            ::SSL_CTX_set_options(tls_->native_handle(), SSL_OP_CLEANSE_PLAINTEXT);
        port_ = loopback_io::listen(acceptor_);
        accept();
        thread_.emplace(io_);
    }
    forgetful_server(const forgetful_server&) = delete;
    forgetful_server& operator=(const forgetful_server&) = delete;

    /// `http://127.0.0.1:<port><target>`, or `https://` when the server does TLS.
    std::string url(std::string_view target = "/") const
    {
        return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) + std::string(target);
    }

    /// The requests answered so far.
    int answered() const { return answered_.load(); }

private:
    template <class Stream>
    struct connection : std::enable_shared_from_this<connection<Stream>> {
        template <class... Args>
        explicit connection(forgetful_server& s, Args&&... args) : server(s), stream(std::forward<Args>(args)...)
        {
        }
        connection(const connection&) = delete;
        connection& operator=(const connection&) = delete;
        ~connection() { wipe(); }

        void wipe() noexcept
        {
            volatile char* p = buf.data();
            for (std::size_t i = 0; i < buf.size(); ++i)
                p[i] = 0;
            used = 0;
        }

        void start()
        {
            if constexpr (std::is_same_v<Stream, tcp::socket>) {
                read();
            } else {
                auto self = this->shared_from_this();
                stream.async_handshake(boost::asio::ssl::stream_base::server, [self](boost::system::error_code ec) {
                    if (!ec)
                        self->read();
                });
            }
        }

        void read()
        {
            if (used == buf.size())
                return; // a head too large for the buffer: no answer, the connection is dropped
            auto self = this->shared_from_this();
            stream.async_read_some(boost::asio::buffer(buf.data() + used, buf.size() - used),
                                   [self](boost::system::error_code ec, std::size_t n) {
                                       if (ec)
                                           return;
                                       self->used += n;
                                       if (std::string_view(self->buf.data(), self->used).find("\r\n\r\n") ==
                                           std::string_view::npos)
                                           return self->read();
                                       self->wipe();
                                       ++self->server.answered_;
                                       boost::asio::async_write(self->stream, boost::asio::buffer(self->server.answer_),
                                                                [self](boost::system::error_code wec, std::size_t) {
                                                                    if (!wec)
                                                                        self->read();
                                                                });
                                   });
        }

        forgetful_server& server;
        Stream stream;
        std::array<char, 16384> buf{};
        std::size_t used = 0;
    };

    void accept()
    {
        acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
            if (ec)
                return;
            if (tls_)
                std::make_shared<connection<boost::asio::ssl::stream<tcp::socket>>>(*this, std::move(socket), *tls_)
                    ->start();
            else
                std::make_shared<connection<tcp::socket>>(*this, std::move(socket))->start();
            accept();
        });
    }

    const std::string answer_;
    std::shared_ptr<boost::asio::ssl::context> tls_;
    std::atomic<int> answered_{0};
    boost::asio::io_context io_{1};
    tcp::acceptor acceptor_{io_};
    std::uint16_t port_ = 0;
    std::optional<loopback_io::io_thread> thread_; // last: stopped and joined first
};

/// A TCP port on 127.0.0.1 that stays bound but never listens: connecting to it is refused, and
/// no other socket can take it while this lives.
class refusing_port {
public:
    refusing_port()
    {
        boost::system::error_code ec;
        socket_.open(boost::asio::ip::tcp::v4(), ec);
        if (!ec)
            socket_.bind({boost::asio::ip::make_address("127.0.0.1"), 0}, ec);
        REQUIRE_FALSE(ec);
        const auto local = socket_.local_endpoint(ec);
        REQUIRE_FALSE(ec);
        port_ = local.port();
    }
    refusing_port(const refusing_port&) = delete;
    refusing_port& operator=(const refusing_port&) = delete;

    std::uint16_t port() const { return port_; }
    /// `http://127.0.0.1:<port><target>`.
    std::string url(std::string_view target = "/") const
    {
        return "http://127.0.0.1:" + std::to_string(port_) + std::string(target);
    }

private:
    boost::asio::io_context io_{1};
    boost::asio::ip::tcp::socket socket_{io_};
    std::uint16_t port_ = 0;
};

/// A raw request split into its request line, header lines and body.
struct parsed_request {
    std::string line;
    std::vector<std::string> headers; // "Name: value", as sent
    std::string body;

    /// Whether a field named `name` (any case) was sent.
    bool has(std::string_view name) const
    {
        const std::string wanted = loopback_detail::ascii_lower(name);
        return std::any_of(headers.begin(), headers.end(), [&](const std::string& h) {
            return h.size() > wanted.size() && h[wanted.size()] == ':' &&
                   loopback_detail::ascii_lower(std::string_view(h).substr(0, wanted.size())) == wanted;
        });
    }
};

/// Splits one of `loopback_server::requests()`; the request must have a complete head.
inline parsed_request parse_request(const std::string& raw)
{
    parsed_request out;
    const auto end = raw.find("\r\n\r\n");
    REQUIRE(end != std::string::npos);
    std::string_view head(raw.data(), end);
    out.body = raw.substr(end + 4);
    std::size_t pos = 0;
    bool first = true;
    while (pos <= head.size()) {
        auto eol = head.find("\r\n", pos);
        if (eol == std::string_view::npos)
            eol = head.size();
        std::string line(head.substr(pos, eol - pos));
        if (first)
            out.line = std::move(line);
        else
            out.headers.push_back(std::move(line));
        first = false;
        pos = eol + 2;
    }
    return out;
}

} // namespace genesys_adapters_test

#endif
