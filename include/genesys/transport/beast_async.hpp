// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_TRANSPORT_BEAST_ASYNC_HPP
#define GENESYS_TRANSPORT_BEAST_ASYNC_HPP

/// @file
/// `beast_async_transport`: an asynchronous HTTP/1.1 transport over Boost.Beast, with TLS
/// (OpenSSL) and a pool of keep-alive connections per host, on the caller's executor.
///
/// Not included by `<genesys/genesys.hpp>` nor `<genesys/async.hpp>`: include it yourself, and
/// link OpenSSL (`-lssl -lcrypto`, or `OpenSSL::SSL`) and threads (`-pthread`); the CMake target
/// `genesys::tokens_beast` does both.

#include <genesys/async_transport.hpp>
#include <genesys/detail/ascii.hpp>
#include <genesys/detail/async_post.hpp>
#include <genesys/detail/handler_work.hpp>
#include <genesys/http.hpp>
#include <genesys/transport/detail/beast_connection.hpp>
#include <genesys/transport/detail/beast_message.hpp>
#include <genesys/transport/detail/beast_proxy.hpp>
#include <genesys/transport/detail/beast_tls.hpp>
#include <genesys/transport/detail/beast_url.hpp>
#include <genesys/transport/beast_options.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/system/errc.hpp>
#include <boost/system/error_code.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace genesys {

class beast_async_transport;

namespace detail {

class beast_async_pool;
struct beast_async_test_access;

/** A stand-in for the resolution of host names (a test seam, see `beast_async_test_access`):
    called on the connection's strand with the host and port instead of Asio's resolver; it
    must call `done` exactly once, from any thread, before the execution context is destroyed.
*/
using beast_async_resolve_fn = std::function<void(
    const std::string& host, std::uint16_t port,
    std::function<void(boost::system::error_code, std::vector<boost::asio::ip::tcp::endpoint>)> done)>;

/// One pooled connection: a strand (the transport's executor itself when that is one) that every
/// use of its streams and its timer runs on, the streams (none while closed; without timeouts of
/// their own: the timer bounds the operation), and the read buffer. Owned by the pool while
/// idle, by the operation using it while busy.
class beast_async_connection {
public:
    using tcp = boost::asio::ip::tcp;
    using plain_stream = boost::beast::tcp_stream;
    using tls_stream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

    explicit beast_async_connection(const boost::asio::any_io_executor& ex)
        : strand_(make_strand(ex)), resolver_(strand_), timer_(strand_)
    {
    }

    /** The executor a connection runs on: `ex` itself when it already serializes (a strand),
        else a strand on `ex`. On an `io_context`'s own executor, the strand is made on that
        concrete executor: it then fits in `any_io_executor`'s small buffer, so that the copies
        Asio makes of it (with `outstanding_work.tracked`, for each pending operation) allocate
        nothing and go through one type-erased executor, not two. Any other executor gets a
        strand on itself.
    */
    static boost::asio::any_io_executor make_strand(const boost::asio::any_io_executor& ex)
    {
        namespace asio = boost::asio;
        if (ex.target<asio::strand<asio::io_context::executor_type>>() != nullptr ||
            ex.target<asio::strand<asio::any_io_executor>>() != nullptr)
            return ex; // already one: its functions never run concurrently
        if (const auto* io = ex.target<asio::io_context::executor_type>())
            return asio::make_strand(*io);
        return asio::make_strand(ex);
    }
    beast_async_connection(const beast_async_connection&) = delete;
    beast_async_connection& operator=(const beast_async_connection&) = delete;
    ~beast_async_connection() { close(); }

    /// The strand: every member below is used only on it.
    const boost::asio::any_io_executor& strand() const noexcept { return strand_; }

    /// True while the socket is open (the streams outlive a close until the next connect).
    bool is_open() const noexcept
    {
        if (tls_)
            return boost::beast::get_lowest_layer(*tls_).socket().is_open();
        return plain_ && plain_->socket().is_open();
    }

    plain_stream& lowest() noexcept { return tls_ ? boost::beast::get_lowest_layer(*tls_) : *plain_; }

    /// Runs `f` on the open stream, TLS or plain.
    template <class F>
    void with_stream(F&& f)
    {
        beast_visit_stream(tls_, plain_, f);
    }

    /** Closes the socket (a pending operation on it completes with `operation_aborted`), cancels
        a pending resolve and the wait for it. The stream objects and the buffer stay: a pending
        operation still refers to them; `reset` destroys them once nothing is pending. Never fails.
    */
    void close() noexcept
    {
        boost::system::error_code ignored;
        resolver_.cancel();
        timer_.cancel();
        if (tls_ || plain_) {
            auto& s = lowest().socket();
            s.shutdown(tcp::socket::shutdown_both, ignored);
            s.close(ignored);
        }
    }

    /// Closes and destroys the streams and empties the buffer; only with no operation pending.
    void reset() noexcept
    {
        close();
        tls_.reset();
        plain_.reset();
        buffer_.clear();
    }

    /// Bumped under the pool's mutex each time the connection changes hands: a cancellation
    /// posted for one operation never closes it under the next.
    std::atomic<std::uint64_t> generation{0};

    /// When an operation last handed the connection back open (on the strand).
    std::chrono::steady_clock::time_point released_at{};

    boost::asio::any_io_executor strand_;
    tcp::resolver resolver_;
    /// The deadline of the operation using the connection: one wait for its connecting steps
    /// (resolve, connect, tunnel, handshake), one for the exchange, not one per I/O operation
    /// (the streams have no timeouts of their own).
    boost::asio::steady_timer timer_;
    std::optional<plain_stream> plain_{};
    std::optional<tls_stream> tls_{};
    boost::beast::flat_buffer buffer_{};
};

/** One `async_send`, from its start to its completion: the request, the connection it uses and
    where it is. The handler lives in the derived `beast_async_send_op<Handler>`.

    Ownership: while queued, only the pool's queue holds it (and it holds the pool weakly: no
    cycle); while active, the pending I/O handlers (and posted functions) hold it, and it holds
    the pool and its connection.
*/
class beast_async_op : public std::enable_shared_from_this<beast_async_op> {
public:
    using clock = std::chrono::steady_clock;

    beast_async_op(const beast_async_op&) = delete;
    beast_async_op& operator=(const beast_async_op&) = delete;
    /// The request's copies of the token (or secret) it carried are zeroed before they are freed.
    virtual ~beast_async_op()
    {
        beast_wipe(wire_);
        beast_wipe(connect_wire_);
    }

    /// The cancellation slot's entry point; any thread.
    void cancel(boost::asio::cancellation_type_t type);

protected:
    beast_async_op() = default;

    /// Hands the result to the handler: posted to the I/O executor, and from there dispatched to
    /// the handler's (`post_to_handler`). Called exactly once, never from inside `async_send`.
    /// On failure `response` is empty but for `body`, the transport's text about the failure.
    virtual void deliver(boost::system::error_code ec, http_response response) = 0;

private:
    friend class beast_async_pool;
    friend struct beast_async_initiation;

    enum class state { initial, queued, active, done };

    // Set before the operation is submitted, then read only.
    std::weak_ptr<beast_async_pool> pool_weak_{};
    beast_url url_{};
    std::string key_{};
    std::string wire_{}; ///< the request as written: one buffer, never copied by the streams
    http_method method_ = http_method::get;
    bool idempotent_ = true;
    const proxy_endpoint* proxy_ = nullptr; ///< the proxy to go through (the pool's), or null

    // Under the pool's mutex.
    state state_ = state::initial;
    std::shared_ptr<beast_async_connection> conn_{}; ///< set when activated, kept until destroyed
    std::uint64_t generation_ = 0;

    // Any thread.
    std::atomic<bool> cancelled_{false};

    // On the connection's strand only, while active.
    std::shared_ptr<beast_async_pool> pool_{}; ///< while active
    bool reused_ = false;
    bool resolving_ = false;        ///< waiting for the resolve of `resolve_id_`
    std::uint64_t resolve_id_ = 0;  ///< the resolve under way; a result for another is dropped
    std::uint64_t deadline_id_ = 0; ///< the timer's wait under way; an older one's end is dropped
    clock::time_point armed_ = clock::time_point::min(); ///< the deadline the timer waits for
    bool timed_out_ = false;        ///< the deadline passed: the connection was closed for it
    std::string_view step_ = "connect to"; ///< what is being done, for the failure's text
    int attempt_ = 0;
    bool first_head_ = true;
    clock::time_point deadline_{};
    clock::time_point connect_deadline_{};
    std::vector<boost::asio::ip::tcp::endpoint> endpoints_{};
    std::optional<beast_response_reader> parser_{};
    std::string connect_wire_{}; ///< the CONNECT request (holds the proxy credential)
    std::optional<beast_connect_parser> connect_parser_{};
    http_response response_{};

    // The steps, each on the strand.
    void start();
    void begin_attempt();
    void connect();
    void on_resolve_result(std::uint64_t id, boost::system::error_code ec,
                           std::vector<boost::asio::ip::tcp::endpoint> endpoints);
    /// Makes the connection's timer end the operation's wait at `deadline` (none for `max()`).
    void arm(clock::time_point deadline);
    void on_deadline(std::uint64_t id, boost::system::error_code ec);
    void on_resolved(boost::system::error_code ec);
    void on_connected(boost::system::error_code ec);
    void open_tunnel();
    void on_tunnel_written(boost::system::error_code ec);
    void on_tunnel_answer(boost::system::error_code ec);
    void handshake();
    void on_handshake(boost::system::error_code ec);
    void write();
    void on_written(boost::system::error_code ec);
    void read_head();
    void on_head(boost::system::error_code ec);
    bool resend_if_stale(boost::system::error_code ec, bool may_resend);
    void on_body(boost::system::error_code ec);
    /// Closes the connection and completes with `ec` (or `operation_aborted` when cancelled), the
    /// text saying what was being done (`step_`), where, `ec`'s message and `detail`.
    void fail(boost::system::error_code ec, std::string_view detail = {});
    /// The same with `text` as the whole message (a proxy's refusal).
    void fail_text(boost::system::error_code ec, std::string text);
    /// Gives the connection back (kept or closed) and completes.
    void finish(boost::system::error_code ec, bool keep);
    /// True (and the operation completed) when a cancellation came in.
    bool stop_if_cancelled();
    bool stopped(boost::system::error_code ec);

    /// A completion handler bound to the connection's strand that keeps this operation alive.
    template <class F>
    auto on_strand(F f)
    {
        return boost::asio::bind_executor(conn_->strand(),
                                          [self = shared_from_this(), f]<class... Args>(Args&&... args) mutable
                                          requires std::invocable<F&, beast_async_op&, Args&&...>
                                          { f(*self, std::forward<Args>(args)...); });
    }
};

/// The state shared by a transport and its copies, and kept alive by active operations.
class beast_async_pool : public std::enable_shared_from_this<beast_async_pool> {
public:
    beast_async_pool(boost::asio::any_io_executor ex, beast_async_options options)
        : executor_(std::move(ex)), options_(std::move(options)),
          proxy_(beast_load_proxy(options_, "beast_async_transport")),
          identity_(beast_load_client_identity(options_.client_certificate, "beast_async_transport"))
    {
        if (options_.max_connections == 0)
            options_.max_connections = 1;
    }
    beast_async_pool(const beast_async_pool&) = delete;
    beast_async_pool& operator=(const beast_async_pool&) = delete;

    const beast_async_options& options() const noexcept { return options_; }

    /// The proxy rules (immutable).
    const proxy_rules& proxy() const noexcept { return proxy_; }

    /// The stand-in for name resolution, if one was set (tests); else empty.
    const beast_async_resolve_fn& resolve_hook() const noexcept { return resolve_hook_; }
    /// Sets it; only before the first send.
    void set_resolve_hook(beast_async_resolve_fn fn) { resolve_hook_ = std::move(fn); }

    /// Starts `op`: on an idle connection, on a new one when the host has fewer than
    /// `max_connections`, else at the back of the host's queue.
    void submit(const std::shared_ptr<beast_async_op>& op)
    {
        std::shared_ptr<beast_async_connection> conn;
        {
            std::lock_guard lock(mutex_);
            if (op->cancelled_.load()) {
                op->state_ = beast_async_op::state::done;
            } else {
                auto& host = hosts_[op->key_];
                if (!host.idle.empty()) {
                    conn = std::move(host.idle.back());
                    host.idle.pop_back();
                } else if (host.open < options_.max_connections) {
                    conn = std::make_shared<beast_async_connection>(executor_);
                    ++host.open;
                } else {
                    op->state_ = beast_async_op::state::queued;
                    host.queue.push_back(op);
                    return;
                }
                activate(*op, conn);
            }
        }
        if (conn)
            post_start(op);
        else
            op->deliver(boost::asio::error::operation_aborted, {});
    }

    /// Called on the connection's strand when `op` is done with its connection: hands it, kept
    /// or closed, to the next queued operation of the host, or keeps it idle, or forgets it.
    void release(beast_async_op& op, bool keep)
    {
        std::shared_ptr<beast_async_op> next;
        std::shared_ptr<beast_async_connection> conn = op.conn_;
        if (keep)
            conn->released_at = std::chrono::steady_clock::now();
        else
            conn->close();
        {
            std::lock_guard lock(mutex_);
            op.state_ = beast_async_op::state::done;
            conn->generation.fetch_add(1);
            auto& host = hosts_[op.key_];
            if (!host.queue.empty()) {
                next = std::move(host.queue.front());
                host.queue.pop_front();
                activate(*next, conn);
            } else if (keep) {
                host.idle.push_back(conn);
            } else {
                --host.open;
            }
        }
        if (next)
            post_start(next);
    }

    /// The cancellation of `op`: a queued one leaves the queue and completes; an active one has
    /// its connection closed (terminal cancellation only).
    void cancel(beast_async_op& op, boost::asio::cancellation_type_t type)
    {
        using ct = boost::asio::cancellation_type;
        std::shared_ptr<beast_async_connection> conn;
        std::uint64_t generation = 0;
        {
            std::lock_guard lock(mutex_);
            switch (op.state_) {
            case beast_async_op::state::initial: op.cancelled_.store(true); return;
            case beast_async_op::state::done: return;
            case beast_async_op::state::queued: {
                auto& queue = hosts_[op.key_].queue;
                const auto it = std::find_if(queue.begin(), queue.end(), [&](const auto& q) { return q.get() == &op; });
                if (it != queue.end())
                    queue.erase(it);
                op.state_ = beast_async_op::state::done;
                break;
            }
            case beast_async_op::state::active:
                if ((type & ct::terminal) == ct::none)
                    return; // closing the connection mid-exchange is terminal cancellation only
                op.cancelled_.store(true);
                conn = op.conn_;
                generation = op.generation_;
                break;
            }
        }
        if (!conn) {
            op.deliver(boost::asio::error::operation_aborted, {});
            return;
        }
        boost::asio::post(conn->strand(), [conn, generation] {
            if (conn->generation.load() == generation)
                conn->close(); // the operation's pending step completes, sees the flag and fails
        });
    }

    /// The TLS context, made once on first use (under the mutex).
    boost::system::error_code tls_context(boost::asio::ssl::context*& out, std::string& why)
    {
        std::lock_guard lock(mutex_);
        if (!tls_ && !tls_error_)
            tls_error_ = beast_make_tls_context(options_.verify_peer, options_.ca_file, options_.ca_path, tls_, why,
                                                identity_.get());
        out = tls_ ? &*tls_ : nullptr;
        return tls_error_;
    }

    std::size_t open_connections() const
    {
        return sum_over_hosts([](const host_entry& h) { return h.open; });
    }

    std::size_t idle_connections() const
    {
        return sum_over_hosts([](const host_entry& h) { return h.idle.size(); });
    }

    std::size_t queued() const
    {
        return sum_over_hosts([](const host_entry& h) { return h.queue.size(); });
    }

private:
    struct host_entry {
        std::vector<std::shared_ptr<beast_async_connection>> idle{}; ///< open, unused; the last is the warmest
        std::size_t open = 0;                                        ///< idle, busy or connecting
        std::deque<std::shared_ptr<beast_async_op>> queue{};         ///< waiting for a connection
    };

    template <class PerHost>
    std::size_t sum_over_hosts(PerHost per_host) const
    {
        std::lock_guard lock(mutex_);
        std::size_t n = 0;
        for (const auto& [key, host] : hosts_)
            n += per_host(host);
        return n;
    }

    /// Under the mutex: `op` takes `conn`.
    void activate(beast_async_op& op, const std::shared_ptr<beast_async_connection>& conn)
    {
        op.state_ = beast_async_op::state::active;
        op.conn_ = conn;
        op.generation_ = conn->generation.fetch_add(1) + 1;
        op.pool_ = shared_from_this();
    }

    static void post_start(const std::shared_ptr<beast_async_op>& op)
    {
        boost::asio::post(op->conn_->strand(), [op] { op->start(); });
    }

    boost::asio::any_io_executor executor_;
    beast_async_options options_;
    proxy_rules proxy_;
    std::unique_ptr<const beast_client_identity> identity_; // the client certificate, or null
    mutable std::mutex mutex_;
    std::map<std::string, host_entry, std::less<>> hosts_;
    std::optional<boost::asio::ssl::context> tls_;
    boost::system::error_code tls_error_;
    beast_async_resolve_fn resolve_hook_{};
};

inline void beast_async_op::cancel(boost::asio::cancellation_type_t type)
{
    if (auto pool = pool_weak_.lock())
        pool->cancel(*this, type);
}

inline bool beast_async_op::stop_if_cancelled()
{
    if (!cancelled_.load())
        return false;
    fail(boost::asio::error::operation_aborted);
    return true;
}

// Ends the operation when it was cancelled or `ec` is a failure; true then.
inline bool beast_async_op::stopped(boost::system::error_code ec)
{
    if (stop_if_cancelled())
        return true;
    if (!ec)
        return false;
    fail(ec);
    return true;
}

inline void beast_async_op::start()
{
    if (stop_if_cancelled())
        return;
    const auto now = clock::now();
    deadline_ = beast_deadline_after(now, pool_->options().timeout);
    attempt_ = 0;
    // A kept-alive connection is checked (one non-blocking peek, and what TLS holds) before it is
    // reused, unless it was handed back less than a second ago and the request may be sent
    // again: then a server that has closed it shows as a failed write or an empty read, and the
    // request goes out once more on a new connection (on_written, on_head). The check also finds
    // bytes a server sent unasked while the connection sat idle (a 408 before closing it, a TLS
    // close_notify: servers send them after seconds of idleness, not within one).
    if (conn_->is_open() && (!idempotent_ || now - conn_->released_at >= std::chrono::seconds(1)) &&
        !beast_idle_connection_usable(conn_->lowest().socket(), conn_->buffer_,
                                      conn_->tls_ ? conn_->tls_->native_handle() : nullptr))
        conn_->close(); // closed by the server while idle: connect anew
    begin_attempt();
}

inline void beast_async_op::begin_attempt()
{
    reused_ = conn_->is_open();
    if (reused_)
        write();
    else
        connect();
}

inline void beast_async_op::connect()
{
    namespace asio = boost::asio;
    using tcp = asio::ip::tcp;
    const auto now = clock::now();
    step_ = "connect to";
    if (now >= deadline_)
        return fail(boost::beast::error::timeout);
    connect_deadline_ = std::min(deadline_, beast_deadline_after(now, pool_->options().connect_timeout));
    conn_->reset(); // nothing is pending on the old streams: this operation's steps are sequential
    endpoints_.clear();
    arm(connect_deadline_); // resolving, connecting, the tunnel and the handshake
    // Through a proxy, the connection is to the proxy; the messages still name the URL's host.
    const std::string& host = proxy_ != nullptr ? proxy_->host : url_.host;
    const std::uint16_t port = proxy_ != nullptr ? proxy_->port : url_.port;
    if (proxy_ != nullptr ? proxy_->ip_literal : url_.ip_literal) {
        boost::system::error_code ec;
        const auto address = asio::ip::make_address(host, ec);
        if (ec)
            return fail(ec);
        endpoints_.emplace_back(address, port);
        return on_resolved({});
    }
    // getaddrinfo cannot be interrupted, so the operation does not wait for it: the connect
    // deadline (the timer) or a cancellation (which closes the connection, cancelling the timer)
    // ends the wait at once (on_deadline), and a result that comes after is dropped.
    step_ = proxy_ != nullptr ? "resolve the proxy for" : "resolve";
    resolving_ = true;
    const std::uint64_t id = ++resolve_id_;
    if (const auto& hook = pool_->resolve_hook()) {
        auto work = std::make_shared<asio::executor_work_guard<asio::any_io_executor>>(conn_->strand());
        hook(host, port,
             [self = shared_from_this(), work, id](boost::system::error_code ec, std::vector<tcp::endpoint> eps) {
                 asio::post(work->get_executor(), [self, id, ec, eps = std::move(eps)]() mutable {
                     self->on_resolve_result(id, ec, std::move(eps));
                 });
                 work->reset(); // the post keeps the context busy from here
             });
        return;
    }
    conn_->resolver_.async_resolve(
        host, std::to_string(port), tcp::resolver::numeric_service,
        on_strand([id](beast_async_op& self, boost::system::error_code ec, const tcp::resolver::results_type& results) {
            std::vector<tcp::endpoint> eps;
            for (const auto& entry : results)
                eps.push_back(entry.endpoint());
            self.on_resolve_result(id, ec, std::move(eps));
        }));
}

// The resolver's answer: dropped when the wait for it already ended (deadline, cancellation).
inline void beast_async_op::on_resolve_result(std::uint64_t id, boost::system::error_code ec,
                                              std::vector<boost::asio::ip::tcp::endpoint> endpoints)
{
    if (!resolving_ || id != resolve_id_)
        return; // late: the operation completed without it
    resolving_ = false;
    endpoints_ = std::move(endpoints);
    on_resolved(ec);
}

inline void beast_async_op::arm(clock::time_point deadline)
{
    const std::uint64_t id = ++deadline_id_;
    armed_ = deadline;
    if (deadline == clock::time_point::max()) {
        conn_->timer_.cancel();
        return;
    }
    conn_->timer_.expires_at(deadline); // cancels the wait for the previous deadline, if any
    conn_->timer_.async_wait(
        on_strand([id](beast_async_op& self, boost::system::error_code ec) { self.on_deadline(id, ec); }));
}

// The end of the timer's wait: the deadline passed, or the wait was cancelled (by a close, a
// cancellation's included, or by arming again). A wait for the resolver ends here; any other
// wait ends with the connection closed: its pending step completes and fails with `timeout`.
inline void beast_async_op::on_deadline(std::uint64_t id, boost::system::error_code ec)
{
    if (pool_ == nullptr || id != deadline_id_)
        return; // the operation completed, or the timer was armed again since
    if (resolving_) {
        resolving_ = false;
        if (stop_if_cancelled())
            return;
        timed_out_ = !ec;
        return fail(ec ? ec : boost::system::error_code(boost::beast::error::timeout));
    }
    if (ec)
        return; // cancelled by a close: the pending step completes and sees why
    timed_out_ = true;
    conn_->close();
}

inline void beast_async_op::on_resolved(boost::system::error_code ec)
{
    if (stopped(ec))
        return;
    step_ = proxy_ != nullptr ? "connect to the proxy for" : "connect to";
    if (clock::now() >= connect_deadline_)
        return fail(boost::beast::error::timeout);
    boost::asio::ssl::context* ctx = nullptr;
    if (url_.tls) {
        std::string why;
        if (auto tec = pool_->tls_context(ctx, why)) {
            step_ = "TLS setup for";
            return fail(tec, why);
        }
    }
    try {
        if (url_.tls)
            conn_->tls_.emplace(conn_->strand(), *ctx);
        else
            conn_->plain_.emplace(conn_->strand());
        // A typical response (head and a TokenInfo body) in one read, not 512 bytes at a time.
        conn_->buffer_.reserve(8192);
    } catch (const boost::system::system_error& e) { // SSL_new failed
        step_ = "set up a connection to";
        return fail(e.code());
    }
    conn_->lowest().async_connect(
        endpoints_, on_strand([](beast_async_op& self, boost::system::error_code cec, const auto&) {
            self.on_connected(cec);
        }));
}

inline void beast_async_op::on_connected(boost::system::error_code ec)
{
    if (stopped(ec))
        return;
    boost::system::error_code ignored;
    conn_->lowest().socket().set_option(boost::asio::ip::tcp::no_delay(true), ignored);
    if (!url_.tls)
        return write();
    if (proxy_ != nullptr)
        return open_tunnel();
    handshake();
}

// On a connection to the proxy: asks it for a tunnel to the URL's host and port, under the
// connect deadline (a cancellation closes the socket, ending the wait at once as well).
inline void beast_async_op::open_tunnel()
{
    step_ = "open a tunnel (CONNECT) to";
    connect_wire_ = beast_connect_request(url_, *proxy_);
    boost::asio::async_write(conn_->lowest(), boost::asio::buffer(connect_wire_),
                             on_strand([](beast_async_op& self, boost::system::error_code ec, std::size_t) {
                                 self.on_tunnel_written(ec);
                             }));
}

inline void beast_async_op::on_tunnel_written(boost::system::error_code ec)
{
    wipe(connect_wire_); // the credential is sent: not kept longer
    connect_wire_.clear();
    if (stopped(ec))
        return;
    beast_init_connect_parser(connect_parser_, pool_->options().max_header_size);
    boost::beast::http::async_read_header(
        conn_->lowest(), conn_->buffer_, *connect_parser_,
        on_strand([](beast_async_op& self, boost::system::error_code rec, std::size_t) { self.on_tunnel_answer(rec); }));
}

// The proxy's answer: a 2xx opens the tunnel, and the TLS handshake with the URL's host follows in it.
inline void beast_async_op::on_tunnel_answer(boost::system::error_code ec)
{
    if (stopped(ec))
        return;
    std::string text;
    const unsigned status = connect_parser_->get().result_int();
    connect_parser_.reset();
    if (auto pec = beast_connect_outcome(status, conn_->buffer_.size(), *proxy_, url_, text))
        return fail_text(pec, std::move(text));
    handshake();
}

inline void beast_async_op::handshake()
{
    std::string_view what;
    if (auto tec = beast_prepare_tls(conn_->tls_->native_handle(), url_, pool_->options().verify_peer, what)) {
        step_ = what;
        return fail(tec);
    }
    step_ = "TLS handshake with";
    conn_->tls_->async_handshake(boost::asio::ssl::stream_base::client,
                                 on_strand([](beast_async_op& self, boost::system::error_code hec) {
                                     self.on_handshake(hec);
                                 }));
}

inline void beast_async_op::on_handshake(boost::system::error_code ec)
{
    if (stop_if_cancelled())
        return;
    if (ec)
        return fail(ec, beast_tls_handshake_detail(conn_->tls_->native_handle(), pool_->options().verify_peer));
    write();
}

inline void beast_async_op::write()
{
    step_ = "write request to";
    if (armed_ != deadline_)
        arm(deadline_); // the exchange's deadline, once per attempt at most
    conn_->with_stream([&](auto& s) {
        boost::asio::async_write(s, boost::asio::buffer(wire_),
                                 on_strand([](beast_async_op& self, boost::system::error_code ec, std::size_t) {
                                     self.on_written(ec);
                                 }));
    });
}

inline void beast_async_op::on_written(boost::system::error_code ec)
{
    if (stop_if_cancelled())
        return;
    if (ec) {
        if (!resend_if_stale(ec, true))
            fail(ec);
        return;
    }
    first_head_ = true;
    read_head();
}

inline void beast_async_op::read_head()
{
    step_ = "read response from";
    const auto& o = pool_->options();
    beast_init_parser(parser_, method_, o.max_header_size, o.max_response_bytes);
    conn_->with_stream([&](auto& s) {
        boost::beast::http::async_read_header(
            s, conn_->buffer_, *parser_,
            on_strand([](beast_async_op& self, boost::system::error_code ec, std::size_t) { self.on_head(ec); }));
    });
}

inline void beast_async_op::on_head(boost::system::error_code ec)
{
    if (stop_if_cancelled())
        return;
    if (ec) {
        // Only an idempotent request may go out again once it may have reached the server.
        const bool nothing_read = first_head_ && !parser_->got_some() && conn_->buffer_.size() == 0;
        if (!resend_if_stale(ec, nothing_read && idempotent_))
            fail(ec);
        return;
    }
    first_head_ = false;
    if (beast_interim_status(static_cast<unsigned>(parser_->status())))
        return read_head(); // 1xx (e.g. 100 Continue): the final response follows
    if (proxy_ != nullptr && !url_.tls && parser_->status() == 407) // the proxy's, not the server's
        return fail_text(make_error_code(errc::proxy_authentication_required), beast_proxy_407_text(*proxy_));
    // The body, or its start, usually came in with the head: parsed from the buffer now, as
    // `async_read` would parse it first, without its round through the executor; read on only
    // when more is needed.
    parser_->eager(true);
    while (!parser_->is_done() && conn_->buffer_.size() != 0) {
        boost::system::error_code pec;
        const auto used = parser_->put(conn_->buffer_.data(), pec);
        conn_->buffer_.consume(used);
        if (pec == boost::beast::http::error::need_more)
            break;
        if (pec)
            return fail(pec); // over max_response_bytes, or not HTTP
        if (used == 0)
            break;
    }
    if (parser_->is_done())
        return on_body({});
    conn_->with_stream([&](auto& s) {
        boost::beast::http::async_read(
            s, conn_->buffer_, *parser_,
            on_strand([](beast_async_op& self, boost::system::error_code bec, std::size_t) { self.on_body(bec); }));
    });
}

// The server closed a kept-alive connection before answering (`ec` says so): reconnect and send
// once more, once, when the caller says the request may go out again (`may_resend`). False when
// that is not the case.
inline bool beast_async_op::resend_if_stale(boost::system::error_code ec, bool may_resend)
{
    if (!reused_ || attempt_ != 0 || !may_resend || timed_out_ || !beast_stale_connection_error(ec))
        return false;
    conn_->close();
    ++attempt_;
    begin_attempt();
    return true;
}

inline void beast_async_op::on_body(boost::system::error_code ec)
{
    if (stopped(ec))
        return;
    response_ = std::move(parser_->response()); // the head's status and fields, and the body
    const bool keep = !timed_out_ && // closed for the deadline, just as the response was complete
                      beast_keep_connection(pool_->options().keep_alive, *parser_, conn_->buffer_, response_.status);
    parser_.reset();
    finish({}, keep);
}

inline void beast_async_op::fail(boost::system::error_code ec, std::string_view detail)
{
    if (cancelled_.load()) {
        ec = boost::asio::error::operation_aborted;
        detail = {};
    } else if (timed_out_) { // the step failed because the deadline closed the connection
        ec = boost::beast::error::timeout;
        detail = {};
    }
    const auto& o = pool_->options();
    fail_text(beast_reported_error(ec),
              beast_failure_text(step_, url_, ec, detail, o.connect_timeout, o.timeout,
                                 proxy_ != nullptr ? std::string_view(proxy_->display) : std::string_view{}));
}

inline void beast_async_op::fail_text(boost::system::error_code ec, std::string text)
{
    if (cancelled_.load() && ec != boost::asio::error::operation_aborted)
        return fail(boost::asio::error::operation_aborted);
    parser_.reset();
    connect_parser_.reset();
    response_ = {};
    response_.body = std::move(text);
    finish(ec, false);
}

inline void beast_async_op::finish(boost::system::error_code ec, bool keep)
{
    auto self = shared_from_this();
    if (armed_ != clock::time_point::min() && armed_ != clock::time_point::max())
        conn_->timer_.cancel(); // its wait ends now (on_deadline drops it): the context may run out of work
    auto pool = std::move(pool_);
    pool->release(*this, keep);
    deliver(ec, std::move(response_));
}

/// The slot's handler: holds the operation weakly (the slot belongs to the caller).
struct beast_async_cancel_handler {
    std::weak_ptr<beast_async_op> op;
    void operator()(boost::asio::cancellation_type_t type) const
    {
        if (auto p = op.lock())
            p->cancel(type);
    }
};

/// The operation with its handler, the work guard of the handler's executor and its slot.
template <class Handler>
class beast_async_send_op final : public beast_async_op {
public:
    using executor_type = boost::asio::associated_executor_t<Handler, boost::asio::any_io_executor>;
    using slot_type = boost::asio::associated_cancellation_slot_t<Handler>;

    beast_async_send_op(Handler handler, const boost::asio::any_io_executor& io_executor)
        : handler_(std::move(handler)),
          work_(boost::asio::get_associated_executor(handler_, io_executor)), io_(io_executor),
          slot_(boost::asio::get_associated_cancellation_slot(handler_))
    {
    }

    /// Installs the cancellation handler, when the handler has a connected slot.
    void install_cancellation()
    {
        if (slot_.is_connected())
            slot_.template emplace<beast_async_cancel_handler>(
                beast_async_cancel_handler{std::weak_ptr<beast_async_op>(shared_from_this())});
    }

private:
    void deliver(boost::system::error_code ec, http_response response) override
    {
        auto call = [handler = std::move(handler_), slot = slot_, ec, response = std::move(response)]() mutable {
            if (slot.is_connected())
                slot.clear(); // on the handler's executor, where the caller emits its signals
            std::move(handler)(ec, std::move(response));
        };
        post_to_handler(io_, work_.get_executor(), std::move(call));
        work_.reset(); // after the post: the posted function keeps the context busy from here
    }

    Handler handler_;
    detail::handler_work<executor_type> work_;
    boost::asio::any_io_executor io_; // posted to first, then dispatched to the handler's executor
    slot_type slot_;
};

/// The initiation of `beast_async_transport::async_send`.
struct beast_async_initiation {
    std::shared_ptr<beast_async_pool> pool;
    boost::asio::any_io_executor executor;

    template <class Handler>
    void operator()(Handler&& handler, const http_request& request) const
    {
        using op_type = beast_async_send_op<std::decay_t<Handler>>;
        auto op = std::make_shared<op_type>(std::forward<Handler>(handler), executor);
        beast_async_op& base = *op;
        auto fail_now = [&](boost::system::error_code ec, std::string why) {
            http_response text;
            text.body = std::move(why);
            base.deliver(ec, std::move(text));
        };
        if (!pool)
            return fail_now(boost::system::errc::make_error_code(boost::system::errc::operation_not_permitted),
                            "the transport was moved from");
        auto url = parse_beast_url(request.url);
        if (!url)
            return fail_now(url.error(),
                            "invalid URL: expected http:// or https://, a host, an optional port and a path");
        base.proxy_ = pool->proxy().for_url(url->tls, url->host);
        const bool absolute_form = base.proxy_ != nullptr && !url->tls;
        std::string why;
        if (auto ec = beast_write_request(request, *url, pool->options().keep_alive, absolute_form,
                                          absolute_form ? std::string_view(base.proxy_->authorization)
                                                        : std::string_view{},
                                          base.wire_, why))
            return fail_now(ec, std::move(why));
        base.pool_weak_ = pool;
        base.method_ = request.method;
        base.idempotent_ = request.method != http_method::post && request.method != http_method::patch;
        const std::string_view scheme = url->tls ? "https://" : "http://";
        const auto port = std::to_string(url->port);
        base.key_.reserve(scheme.size() + url->host.size() + 1 + port.size());
        base.key_.append(scheme).append(url->host).append(":").append(port);
        base.url_ = std::move(*url);
        op->install_cancellation();
        pool->submit(op);
    }
};

} // namespace detail

/** An asynchronous HTTP/1.1 transport over Boost.Beast, for `http://` and `https://` URLs: a
    `genesys::async_transport`.

    Runs on the executor it is given (an `io_context` run by one thread or several): it starts no
    thread of its own (Asio's resolver thread aside, for host names). Each host (scheme, host and
    port) has a pool of keep-alive connections, at most `beast_async_options::max_connections`
    open at once; when all are busy, requests wait in a queue, first come first served, and take
    the next connection freed. When a reused connection turns out to have been closed by the
    server while idle (seen before sending, or the write fails, or the response ends before its
    first byte with end of stream or a reset), it reconnects and sends once more: for any method
    when the write failed, only for GET, HEAD, PUT and DELETE otherwise. Before a POST or PATCH
    (or any request on a connection idle for a second or more) the idle connection is checked:
    one the server closed, or on which anything arrived unasked (a TLS `close_notify` included),
    is replaced by a new one. A failure on a fresh connection is returned as is.

    With `beast_options::proxy` (or `proxy_from_environment`), it goes through an HTTP proxy, as
    `beast_transport` does: an https URL through a `CONNECT` tunnel, then the TLS handshake with
    the URL's host inside it; a plain http URL in absolute form. Connecting through the proxy is
    part of connecting: `connect_timeout`, `timeout` and cancellation end the wait for the
    proxy's answer at once. A pooled connection (a tunnel included) belongs to its target host.
    By default no proxy is used and the proxy environment variables are ignored. `https`
    verifies the certificate chain and host name (SNI is sent for host names) by default,
    exactly as `beast_transport` does.

    Copies share one pool (the same connections, limit and queue); a moved-from transport can
    only be assigned, destroyed or asked for its executor (its sends fail with
    `errc::operation_not_permitted`). Destroying a transport, or the last of its copies, with
    sends in flight is safe: they go on and complete normally (the operations keep the pool
    alive), then the idle connections are closed. Destroying the execution context with sends in
    flight destroys their handlers without calling them, as Asio does; destroy the transport
    first, as any I/O object.

    Thread safety: `async_send` and the const members may be called from any threads at once, on
    one object or on copies; the executor may be run by several threads (each connection has a
    strand, or uses the executor itself when it is a strand; the pool has a mutex). Assigning or
    destroying one object while another thread uses that same object is not safe.

    @code
    boost::asio::io_context ioc;
    genesys::beast_async_transport transport{ioc.get_executor()};
    transport.async_send({genesys::http_method::get, "https://api.mypurecloud.com/api/v2/tokens/me",
                          {{"Authorization", "Bearer " + token}}, {}},
                         [](boost::system::error_code ec, genesys::http_response r) {
                             if (!ec)
                                 std::cout << r.status << '\n';
                         });
    ioc.run();
    @endcode
*/
class beast_async_transport {
public:
    /// The executor type: handlers without an associated executor run on it.
    using executor_type = boost::asio::any_io_executor;

    /** Makes a transport whose connections run on `ex`.

        Nothing is connected (nor the TLS context made) before the first send; a client
        certificate (`beast_options::client_certificate`) is loaded and checked now, and so are
        the proxy settings (the environment read, when `proxy_from_environment`).

        @param ex The executor of every connection (each gets a strand on it, unless `ex` is a
        strand already), and of the completion of handlers without an associated executor.
        @param options Pool size, timeouts, TLS verification and client certificate, size limits, proxy.
        @throws invalid_argument_error when the client certificate is unusable: the message names
        the file (or `cert_pem`/`key_pem`) and the reason, never the passphrase nor the key; or
        when the proxy URL is not a usable `http://` URL, or its credentials cannot be sent: the
        message names the URL without its credentials.
    */
    explicit beast_async_transport(executor_type ex, beast_async_options options = {})
        : executor_(ex), pool_(std::make_shared<detail::beast_async_pool>(std::move(ex), std::move(options)))
    {
    }

    /** Makes a transport on the executor of `ctx`, e.g. an `io_context`.

        @param ctx The execution context; it must outlive the transport.
        @param options Pool size, timeouts, TLS verification and size limits.
    */
    template <class ExecutionContext>
        requires std::convertible_to<ExecutionContext&, boost::asio::execution_context&>
    explicit beast_async_transport(ExecutionContext& ctx, beast_async_options options = {})
        : beast_async_transport(executor_type(ctx.get_executor()), std::move(options))
    {
    }

    /// A transport sharing this one's pool.
    beast_async_transport(const beast_async_transport&) = default;
    /// Shares `other`'s pool; this transport's previous pool lives on while its sends are in flight.
    beast_async_transport& operator=(const beast_async_transport&) = default;

    /// Takes over `other`'s pool; `other` keeps its executor only.
    beast_async_transport(beast_async_transport&& other) noexcept
        : executor_(other.executor_), pool_(std::move(other.pool_))
    {
    }

    /// Takes over `other`'s pool; this transport's previous pool lives on while its sends are in flight.
    beast_async_transport& operator=(beast_async_transport&& other) noexcept
    {
        if (this != &other) {
            executor_ = other.executor_;
            pool_ = std::move(other.pool_);
        }
        return *this;
    }

    /// Releases this object's share of the pool; sends in flight complete normally.
    ~beast_async_transport() = default;

    /// The executor given at construction.
    executor_type get_executor() const noexcept { return executor_; }

    /** Sends `request` and reads the whole response, asynchronously.

        Sends exactly the request's method, target, fields and body, plus `Host` and
        `Content-Length` (when there is a body, and always for PUT, POST and PATCH). The response's
        headers are those of the final response only: a chunked body's trailer fields are dropped.
        `request` is copied into the operation when it starts: it need not outlive the call
        (except with a token that starts the operation later, such as `deferred`, which keeps a
        copy).

        The handler is called exactly once, with `void(boost::system::error_code,
        genesys::http_response)`, through its associated executor (by default this transport's),
        never from inside `async_send`. An HTTP error status is a response, not an error.

        Cancellation (the handler's associated cancellation slot): any cancellation type removes a
        request still waiting for a connection; terminal cancellation of a request under way closes
        its connection (it cannot be reused mid-response). Either way the send completes with
        `boost::asio::error::operation_aborted` at once, also while the host name is being resolved
        (the resolver's late answer is dropped; `getaddrinfo` itself cannot be interrupted and
        ends on Asio's resolver thread). A request that completed meanwhile completes normally.

        @param request The request; its `url` is absolute, `http://` or `https://`.
        @param token The completion token: a callback, `use_future`, `use_awaitable`,
        `deferred`, `as_tuple(...)`, `bind_executor(...)`, ...
        @return What the completion token makes of `void(error_code, http_response)`.

        Errors: `errc::invalid_argument` for a bad URL or header field, a field the transport
        owns (`Host`, `Content-Length`, `Transfer-Encoding`, `Trailer`, `Connection`,
        `Keep-Alive`, `Proxy-Connection`, `TE`, `Upgrade`, `Expect`) or one too long for Beast
        (nothing is sent); `boost::beast::error::timeout` when `timeout` or `connect_timeout`
        passed (resolving the host name included: the send does not wait for the resolver past
        them); `errc::message_size` for a body over `max_response_bytes` or a head over
        `max_header_size`; `operation_aborted` when cancelled; `errc::operation_not_permitted`
        on a moved-from transport; through a proxy, `errc::proxy_authentication_required` when
        the proxy answers 407 (or 401 to a `CONNECT`; not retried by the library) and
        `errc::proxy_tunnel_failed` when it refuses the `CONNECT` otherwise, the text naming the
        proxy as `http://host:port`, never its credentials; otherwise the `boost::asio`, `boost::asio::ssl` or
        `boost::beast` code of the network failure. As for `beast_transport`, a TLS failure
        (certificate or host name verification included) is of the `"asio.ssl"` category and is
        never retried by the library; refused, reset and closed connections and timeouts are
        worth a retry. With an error, `response.status` is 0 and `response.body` holds the
        transport's own text about the failure, as `beast_transport::last_error_message()` does:
        what it was doing, where, and the stack's message, e.g. `"TLS handshake with
        127.0.0.1:8443: certificate verify failed (SSL routines) (certificate: self-signed
        certificate)"`.

        Thread safety: may be called from any thread, also concurrently.
    */
    template <class CompletionToken>
    auto async_send(const http_request& request, CompletionToken&& token)
    {
        return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code, http_response)>(
            detail::beast_async_initiation{pool_, executor_}, token, request);
    }

    /// @return The connections open or being opened now, all hosts together (0 for a moved-from
    /// transport). Thread-safe.
    std::size_t open_connections() const { return pool_ ? pool_->open_connections() : 0; }

    /// The open connections no request is using now, all hosts together. Thread-safe.
    std::size_t idle_connections() const { return pool_ ? pool_->idle_connections() : 0; }

    /// The requests waiting for a connection now, all hosts together. Thread-safe.
    std::size_t queued_requests() const { return pool_ ? pool_->queued() : 0; }

private:
    friend struct detail::beast_async_test_access;

    executor_type executor_;
    std::shared_ptr<detail::beast_async_pool> pool_;
};

static_assert(async_transport<beast_async_transport>);

namespace detail {

/// The tests' way into a transport: not part of the API.
struct beast_async_test_access {
    /// Makes `t` and its copies resolve host names through `fn` instead of Asio's resolver (see
    /// `beast_async_resolve_fn`). Only before the first send.
    static void set_resolver(beast_async_transport& t, beast_async_resolve_fn fn)
    {
        if (t.pool_)
            t.pool_->set_resolve_hook(std::move(fn));
    }
};

} // namespace detail

} // namespace genesys

#endif
