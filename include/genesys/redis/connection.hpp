// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_REDIS_CONNECTION_HPP
#define GENESYS_REDIS_CONNECTION_HPP

/// @file
/// `redis_connection`: one asynchronous connection to Redis on Boost.Asio, for the validator's
/// shared cache: plain TCP or TLS, `AUTH` (ACL user and password) and `SELECT` on connect,
/// pipelined commands, every wait bounded. The commands are formatted here (RESP, as hiredis
/// writes them), hiredis parses the replies; the socket is Asio's.
/// `async_subscribe` turns it into a subscriber: the messages Redis pushes go to a callback, not
/// to the queue of pending commands.
//
// Not here: a blocking wrapper, reconnection with backoff (the caller's, with its breaker:
// `async_connect` again after a failure; `redis_shared_cache` does it).

#include <genesys/detail/async_post.hpp>
#include <genesys/detail/handler_work.hpp>
#include <genesys/detail/hmac.hpp>
#include <genesys/error.hpp>
#include <genesys/error_code.hpp>
#include <genesys/redis/error.hpp>
#include <genesys/redis/options.hpp>
#include <genesys/redis/reply.hpp>
#include <genesys/transport/detail/beast_client_certificate.hpp>
#include <genesys/transport/detail/beast_tls.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/error_code.hpp>

#include <hiredis/hiredis.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace genesys {

namespace detail {

/** The strand a connection runs on, held as an `any_io_executor`: a strand of the io_context's
    own executor when the executor given is an io_context's (`make_redis_strand`), else a strand
    of the executor given. Asio 1.26's `strand<any_io_executor>` asks its inner executor for its
    blocking property on every dispatch, and an `any_io_executor` answers such a query with an
    allocated result; its copies that track work (one per I/O operation) do not fit in an
    `any_io_executor`'s own storage either, and allocate too. */
using redis_strand = boost::asio::any_io_executor;

/// `boost::asio::strand` of an io_context's executor: the type `make_redis_strand` prefers.
using redis_io_strand = boost::asio::strand<boost::asio::io_context::executor_type>;
/// `boost::asio::strand` of any executor: the type `make_redis_strand` falls back to.
using redis_any_strand = boost::asio::strand<boost::asio::any_io_executor>;

/// A new strand of `ex` (see `redis_strand`).
inline redis_strand make_redis_strand(const boost::asio::any_io_executor& ex)
{
    if (const auto* io = ex.target<boost::asio::io_context::executor_type>())
        return boost::asio::make_strand(*io);
    return boost::asio::make_strand(ex);
}

/// The executor `strand` runs its work on.
inline boost::asio::any_io_executor redis_strand_inner(const redis_strand& strand)
{
    if (const auto* s = strand.target<redis_io_strand>())
        return s->get_inner_executor();
    if (const auto* s = strand.target<redis_any_strand>())
        return s->get_inner_executor();
    return strand;
}

/// True when this thread runs `strand`'s work now.
inline bool running_on_redis_strand(const redis_strand& strand) noexcept
{
    if (const auto* s = strand.target<redis_io_strand>())
        return s->running_in_this_thread();
    if (const auto* s = strand.target<redis_any_strand>())
        return s->running_in_this_thread();
    return false;
}

/// True when `ex` (a handler's associated executor) is `strand`.
template <class Executor>
bool is_redis_strand(const Executor& ex, const redis_strand& strand) noexcept
{
    if constexpr (std::is_same_v<Executor, boost::asio::any_io_executor>) {
        return ex == strand;
    } else if constexpr (std::is_same_v<Executor, redis_io_strand> || std::is_same_v<Executor, redis_any_strand>) {
        const auto* s = strand.template target<Executor>();
        return s != nullptr && *s == ex;
    } else {
        (void)ex;
        (void)strand;
        return false;
    }
}

/// Selects the constructors that run on a strand given (not on a strand of their own).
struct on_redis_strand_t {
    explicit on_redis_strand_t() = default;
};
inline constexpr on_redis_strand_t on_redis_strand{};

/// A pending operation's completion, called once on the connection's strand.
class redis_op_base {
public:
    virtual ~redis_op_base() = default;
    /// Completes it through `post_to_handler` (never inline).
    virtual void complete(boost::system::error_code ec, std::vector<redis_reply> replies) = 0;
    /// Completes it from a reply read on `strand` (running on it, never inside the initiating
    /// call): calls the handler at once when its associated executor is that very strand (it is
    /// where the handler would be posted to), else as `complete`.
    virtual void complete_on(const redis_strand& strand, boost::system::error_code ec, std::vector<redis_reply> replies) = 0;
};

class redis_shared_cache_state; // <genesys/redis/shared_cache.hpp>: sends its GET formatted

/// Formats `commands` into RESP, appended to `out`: for each, `*<argc>\r\n` then per argument
/// `$<length>\r\n<bytes>\r\n` (the request format hiredis' `redisFormatCommandArgv` writes),
/// sized first and written in place: no allocation but `out`'s own (this runs on every command).
/// `Commands`: a range of commands, each a sized range of arguments convertible to
/// `std::string_view` (a `redis_command`, or an array of views: nothing copied to build it).
/// @return false when a command is empty or too long for hiredis (more than INT32_MAX arguments).
template <class Commands>
bool redis_format_range(const Commands& commands, std::string& out)
{
    const auto digits = [](std::size_t n) noexcept {
        std::size_t d = 1;
        while (n >= 10) {
            n /= 10;
            ++d;
        }
        return d;
    };
    std::size_t size = out.size();
    for (const auto& cmd : commands) {
        if (std::size(cmd) == 0 || std::size(cmd) > static_cast<std::size_t>(INT32_MAX))
            return false;
        size += 1 + digits(std::size(cmd)) + 2;
        for (const auto& arg : cmd) {
            const std::string_view a(arg);
            size += 1 + digits(a.size()) + 2 + a.size() + 2;
        }
    }
    const std::size_t begin = out.size();
    out.resize(size);
    char* p = out.data() + begin;
    char* const last = out.data() + out.size();
    const auto put_header = [&](char kind, std::size_t n) {
        *p++ = kind;
        p = std::to_chars(p, last, n).ptr;
        *p++ = '\r';
        *p++ = '\n';
    };
    for (const auto& cmd : commands) {
        put_header('*', std::size(cmd));
        for (const auto& arg : cmd) {
            const std::string_view a(arg);
            put_header('$', a.size());
            p = std::copy(a.begin(), a.end(), p);
            *p++ = '\r';
            *p++ = '\n';
        }
    }
    return true;
}

/// `redis_format_range` of a vector of commands.
inline bool redis_format(const std::vector<redis_command>& commands, std::string& out)
{
    return redis_format_range(commands, out);
}

/// A hiredis reply as a `redis_reply`.
inline redis_reply redis_convert(const ::redisReply* r)
{
    redis_reply out;
    switch (r->type) {
    case REDIS_REPLY_STRING:
        out.kind = redis_reply_kind::string;
        out.text.assign(r->str, r->len);
        break;
    case REDIS_REPLY_STATUS:
        out.kind = redis_reply_kind::status;
        out.text.assign(r->str, r->len);
        break;
    case REDIS_REPLY_ERROR:
        out.kind = redis_reply_kind::error;
        out.text.assign(r->str, r->len);
        break;
    case REDIS_REPLY_INTEGER:
        out.kind = redis_reply_kind::integer;
        out.integer = r->integer;
        break;
    case REDIS_REPLY_ARRAY:
        out.kind = redis_reply_kind::array;
        out.elements.reserve(r->elements);
        for (std::size_t i = 0; i < r->elements; ++i)
            out.elements.push_back(redis_convert(r->element[i]));
        break;
    default: out.kind = redis_reply_kind::nil; break;
    }
    return out;
}

/// The callback of a subscription: each message (`{}`, its channel, its payload), then once the
/// error that ended the subscription (the connection failed or was closed; channel and payload empty).
using redis_message_handler = std::function<void(boost::system::error_code, std::string, std::string)>;

/** The state of one connection, shared by the public object and the operations in flight.

    Every member but the atomics, `last_error_` (under its mutex) and the constants is touched on
    the strand only. Each connection attempt has a generation: a handler of an older one (a late
    read, write, timer or resolve) finds another generation and does nothing.
*/
class redis_connection_impl : public std::enable_shared_from_this<redis_connection_impl> {
public:
    using tcp = boost::asio::ip::tcp;
    using tls_stream = boost::asio::ssl::stream<tcp::socket>;

    redis_connection_impl(boost::asio::any_io_executor ex, redis_options options)
        : redis_connection_impl(on_redis_strand, make_redis_strand(ex), std::move(options))
    {
    }

    redis_connection_impl(on_redis_strand_t, redis_strand strand, redis_options options)
        : io_(redis_strand_inner(strand)), strand_(std::move(strand)), options_(std::move(options)), resolver_(strand_),
          connect_timer_(strand_), watchdog_(strand_)
    {
        struct wipe_on_exit {
            redis_options& o;
            ~wipe_on_exit()
            {
                wipe_secret(o.client_certificate.key_pem);
                wipe_secret(o.client_certificate.key_passphrase);
            }
        } wipe{options_};
        if (options_.tls) {
            auto identity = beast_load_client_identity(options_.client_certificate, "redis_connection");
            std::string why;
            if (auto ec = beast_make_tls_context(options_.tls_verify_peer, options_.ca_file, {}, ctx_, why,
                                                 identity.get())) {
                error e;
                e.kind = error_kind::invalid_argument;
                e.code = make_error_code(errc::invalid_argument);
                e.operation = "redis_connection";
                e.message = "redis_connection: TLS: " + why + ": " + ec.message();
                throw invalid_argument_error(std::move(e));
            }
        }
    }

    redis_connection_impl(const redis_connection_impl&) = delete;
    redis_connection_impl& operator=(const redis_connection_impl&) = delete;

    ~redis_connection_impl()
    {
        if (reader_ != nullptr)
            ::redisReaderFree(reader_);
        wipe_secret(options_.password);
    }

    const boost::asio::any_io_executor& io_executor() const noexcept { return io_; }
    std::uint64_t next_id() noexcept { return ++ids_; }
    bool connected() const noexcept { return connected_.load(std::memory_order_acquire); }

    std::string last_error() const
    {
        std::lock_guard lock(error_mutex_);
        return last_error_;
    }

    // ---- entry points: any thread, each posted to the strand ----

    void post_connect(std::shared_ptr<redis_op_base> op, std::uint64_t id)
    {
        boost::asio::post(strand_, [self = shared_from_this(), op = std::move(op), id]() mutable {
            self->start_connect(std::move(op), id);
        });
    }

    /// Started at once when called on the strand (the completion still comes later, from the
    /// reply or the failure), else posted to it.
    void post_execute(std::shared_ptr<redis_op_base> op, std::uint64_t id, std::string wire, std::size_t count)
    {
        if (running_on_redis_strand(strand_))
            return start_execute(std::move(op), id, std::move(wire), count);
        boost::asio::post(strand_, [self = shared_from_this(), op = std::move(op), id, wire = std::move(wire),
                                    count]() mutable { self->start_execute(std::move(op), id, std::move(wire), count); });
    }

    void post_subscribe(std::shared_ptr<redis_op_base> op, std::uint64_t id, std::string wire, std::size_t count,
                        redis_message_handler on_message)
    {
        boost::asio::post(strand_, [self = shared_from_this(), op = std::move(op), id, wire = std::move(wire), count,
                                    on_message = std::move(on_message)]() mutable {
            self->start_subscribe(std::move(op), id, std::move(wire), count, std::move(on_message));
        });
    }

    void post_cancel(std::uint64_t id)
    {
        boost::asio::post(strand_, [self = shared_from_this(), id] { self->on_cancel(id); });
    }

    void post_close()
    {
        boost::asio::post(strand_, [self = shared_from_this()] {
            self->fail(boost::asio::error::operation_aborted, "the connection was closed");
        });
    }

private:
    enum class state { disconnected, connecting, ready };

    /// One connection attempt's stream and read buffer: shared with its pending I/O handlers, so
    /// that a stream closed by a failure lives until its aborted operations have returned (an
    /// `ssl::stream` must outlive its operations), whatever the next attempt does meanwhile.
    struct link {
        std::optional<tcp::socket> plain{};
        std::optional<tls_stream> tls{};
        std::array<char, 16384> read_buffer{};

        tcp::socket& socket() { return tls ? tls->next_layer() : *plain; }

        template <class F>
        void with_stream(F&& f)
        {
            if (tls)
                f(*tls);
            else
                f(*plain);
        }
    };

    using clock = boost::asio::steady_timer::clock_type;

    /// Commands written and waiting for their replies, in order.
    struct entry {
        std::uint64_t id = 0;
        std::size_t expected = 0;
        std::vector<redis_reply> replies{};
        /// Called once with the replies or the failure (`read`: true when called by the reply,
        /// on the strand); empty once called (or abandoned by a cancellation: the entry stays
        /// to absorb its replies). AUTH/SELECT and SUBSCRIBE have their own logic here; a
        /// command's operation is `op` instead (no function to allocate on every command).
        std::function<void(boost::system::error_code, std::vector<redis_reply>, bool read)> done{};
        std::shared_ptr<redis_op_base> op{};
        /// When the watchdog fails the connection if the replies have not all come (none for
        /// AUTH/SELECT: `connect_timeout` bounds them).
        std::optional<clock::time_point> deadline{};

        /// Still to be called.
        bool waiting() const noexcept { return done || op; }

        /// Calls it (once: nothing when already called). `read`: by its replies, on `strand`,
        /// where a handler bound to the strand is called at once.
        void end(boost::system::error_code ec, std::vector<redis_reply> r, bool read, const redis_strand& strand)
        {
            if (auto o = std::move(op)) {
                op.reset();
                if (read)
                    o->complete_on(strand, ec, std::move(r));
                else
                    o->complete(ec, std::move(r));
            } else if (auto f = std::exchange(done, nullptr)) {
                f(ec, std::move(r), read);
            }
        }
    };

    std::string where() const { return options_.host + ":" + std::to_string(options_.port); }

    /// Records `message` (the password, should a server ever echo it, replaced), closes the
    /// connection and fails every pending operation with `ec`. Does nothing when not connected.
    void fail(boost::system::error_code ec, std::string message)
    {
        if (state_ == state::disconnected)
            return;
        if (!options_.password.empty()) {
            for (std::size_t pos = 0; (pos = message.find(options_.password, pos)) != std::string::npos;)
                message.replace(pos, options_.password.size(), "[redacted]");
        }
        {
            std::lock_guard lock(error_mutex_);
            last_error_ = std::move(message);
        }
        ++generation_;
        state_ = state::disconnected;
        connected_.store(false, std::memory_order_release);
        boost::system::error_code ignored;
        resolver_.cancel();
        connect_timer_.cancel();
        disarm_watchdog();
        if (link_ && (link_->tls || link_->plain))
            link_->socket().close(ignored);
        secure_zero(outgoing_.data(), outgoing_.size());
        outgoing_.clear();
        // Taken out first: what is called below may start new operations. (`push_` after the
        // pending ones: a SUBSCRIBE failing with them clears it, its callback never called.)
        auto pending = std::move(pending_);
        pending_.clear();
        auto connect_op = std::move(connect_op_);
        connect_op_.reset();
        for (auto& e : pending)
            e.end(ec, {}, false, strand_);
        if (connect_op)
            connect_op->complete(ec, {});
        if (auto push = std::exchange(push_, nullptr))
            push(ec, {}, {});
    }

    // ---- the deadline watchdog: one timer for every command of the connection ----

    /// Arms the watchdog for `when` (the oldest pending deadline) unless it is armed already:
    /// it is not cancelled when replies come; it fires, then finds nothing late (and waits for
    /// the next deadline, if any).
    void arm_watchdog(clock::time_point when)
    {
        if (watchdog_armed_)
            return;
        watchdog_armed_ = true;
        const std::uint64_t seq = ++watchdog_seq_;
        watchdog_.expires_at(when);
        watchdog_.async_wait([weak = weak_from_this(), seq](boost::system::error_code ec) {
            const auto self = weak.lock();
            if (!self || ec || seq != self->watchdog_seq_)
                return; // cancelled, or superseded by a later arming
            self->on_watchdog();
        });
    }

    void disarm_watchdog()
    {
        watchdog_armed_ = false;
        ++watchdog_seq_;
        watchdog_.cancel();
    }

    /// The oldest command still waiting (the others' deadlines are later): late, the connection
    /// fails; else the watchdog waits for its deadline.
    void on_watchdog()
    {
        watchdog_armed_ = false;
        for (const auto& e : pending_) {
            if (!e.waiting() || !e.deadline)
                continue; // cancelled (its replies only absorbed), or AUTH/SELECT
            if (*e.deadline <= clock::now())
                return fail(make_error_code(redis_errc::timeout),
                            "no reply from " + where() + " within the command timeout");
            return arm_watchdog(*e.deadline);
        }
    }

    void start_connect(std::shared_ptr<redis_op_base> op, std::uint64_t id)
    {
        if (state_ != state::disconnected)
            return op->complete(make_error_code(redis_errc::already_connected), {});
        state_ = state::connecting;
        const std::uint64_t gen = ++generation_;
        connect_op_ = std::move(op);
        connect_id_ = id;
        link_ = std::make_shared<link>();
        writing_ = false;
        bytes_since_reply_ = 0;
        if (reader_ != nullptr)
            ::redisReaderFree(reader_);
        reader_ = ::redisReaderCreate();
        if (reader_ == nullptr)
            return fail(boost::asio::error::no_memory, "cannot create the reply reader");
        connect_timer_.expires_after(options_.connect_timeout);
        connect_timer_.async_wait([self = shared_from_this(), gen](boost::system::error_code ec) {
            if (!ec && gen == self->generation_ && self->state_ == state::connecting)
                self->fail(make_error_code(redis_errc::timeout), "connect to " + self->where() + ": timed out");
        });
        resolver_.async_resolve(options_.host, std::to_string(options_.port),
                                [self = shared_from_this(), gen](boost::system::error_code ec, tcp::resolver::results_type r) {
                                    if (gen != self->generation_)
                                        return;
                                    if (ec)
                                        return self->fail(ec, "resolve " + self->options_.host + ": " + ec.message());
                                    self->on_resolved(gen, std::move(r));
                                });
    }

    void on_resolved(std::uint64_t gen, tcp::resolver::results_type endpoints)
    {
        auto l = link_;
        tcp::socket& sock = options_.tls ? l->tls.emplace(tcp::socket(strand_), *ctx_).next_layer() : l->plain.emplace(strand_);
        boost::asio::async_connect(sock, endpoints,
                                   [self = shared_from_this(), gen, l](boost::system::error_code ec, const tcp::endpoint&) {
                                       if (gen != self->generation_)
                                           return;
                                       if (ec)
                                           return self->fail(ec, "connect to " + self->where() + ": " + ec.message());
                                       boost::system::error_code ignored;
                                       l->socket().set_option(tcp::no_delay(true), ignored);
                                       if (l->plain) // written at once when it takes the bytes (start_write)
                                           l->plain->non_blocking(true, ignored);
                                       if (l->tls)
                                           self->start_handshake(gen);
                                       else
                                           self->on_transport_ready(gen);
                                   });
    }

    void start_handshake(std::uint64_t gen)
    {
        beast_url url;
        url.tls = true;
        url.host = options_.host;
        url.port = options_.port;
        boost::system::error_code addr_ec;
        boost::asio::ip::make_address(options_.host, addr_ec);
        url.ip_literal = !addr_ec;
        std::string_view what;
        auto l = link_;
        if (auto ec = beast_prepare_tls(l->tls->native_handle(), url, options_.tls_verify_peer, what))
            return fail(ec, std::string(what) + " " + where() + ": " + ec.message());
        auto on_handshake = [self = shared_from_this(), gen, l](boost::system::error_code ec) {
            if (gen != self->generation_)
                return;
            if (ec) {
                std::string detail = beast_tls_handshake_detail(l->tls->native_handle(), self->options_.tls_verify_peer);
                return self->fail(ec, "TLS handshake with " + self->where() + ": " + ec.message() +
                                          (detail.empty() ? "" : " (" + detail + ")"));
            }
            self->on_transport_ready(gen);
        };
        l->tls->async_handshake(boost::asio::ssl::stream_base::client, std::move(on_handshake));
    }

    void on_transport_ready(std::uint64_t gen)
    {
        start_read(gen);
        std::vector<redis_command> hello;
        if (!options_.password.empty()) {
            if (options_.username.empty())
                hello.push_back({"AUTH", options_.password});
            else
                hello.push_back({"AUTH", options_.username, options_.password});
        }
        if (options_.database != 0)
            hello.push_back({"SELECT", std::to_string(options_.database)});
        std::string wire;
        const bool formatted = redis_format(hello, wire);
        for (auto& c : hello)
            for (auto& a : c)
                secure_zero(a.data(), a.size());
        if (!formatted)
            return fail(boost::asio::error::no_memory, "cannot format AUTH/SELECT");
        if (hello.empty())
            return on_ready();
        const bool auth = !options_.password.empty();
        entry e;
        e.expected = hello.size();
        e.done = [self = shared_from_this(), gen, auth](boost::system::error_code ec, std::vector<redis_reply> r, bool) {
            if (ec || gen != self->generation_)
                return; // the connect already failed (fail() completed it)
            if (auth && r[0].is_error())
                return self->fail(make_error_code(redis_errc::auth_failed),
                                  "AUTH refused by " + self->where() + ": " + r[0].text);
            if (self->options_.database != 0 && r.back().is_error())
                return self->fail(make_error_code(redis_errc::select_failed),
                                  "SELECT " + std::to_string(self->options_.database) + " refused by " + self->where() +
                                      ": " + r.back().text);
            self->on_ready();
        };
        pending_.push_back(std::move(e));
        queue_write(std::move(wire));
    }

    void on_ready()
    {
        state_ = state::ready;
        connected_.store(true, std::memory_order_release);
        connect_timer_.cancel();
        {
            std::lock_guard lock(error_mutex_);
            last_error_.clear();
        }
        if (auto op = std::move(connect_op_))
            op->complete({}, {});
    }

    void start_execute(std::shared_ptr<redis_op_base> op, std::uint64_t id, std::string wire, std::size_t count)
    {
        execute_on_strand(std::move(op), id, wire, count);
        secure_zero(wire.data(), wire.size());
    }

public:
    /// `start_execute` of commands formatted in the caller's buffer (copied into the outgoing
    /// bytes, not kept), on the strand only (`redis_connection::execute_on_strand`).
    void execute_on_strand(std::shared_ptr<redis_op_base> op, std::uint64_t id, std::string_view wire, std::size_t count)
    {
        if (state_ != state::ready)
            return op->complete(make_error_code(redis_errc::not_connected), {});
        entry& e = pending_.emplace_back();
        e.id = id;
        e.expected = count;
        e.op = std::move(op);
        e.deadline = clock::now() + options_.command_timeout;
        arm_watchdog(*e.deadline);
        write_bytes(wire);
    }

private:
    /// SUBSCRIBE (one command per channel, each answered by one confirmation or one error):
    /// from here, messages go to `on_message`. A refusal (`-NOPERM`) closes the connection.
    void start_subscribe(std::shared_ptr<redis_op_base> op, std::uint64_t id, std::string wire, std::size_t count,
                         redis_message_handler on_message)
    {
        if (state_ != state::ready)
            return op->complete(make_error_code(redis_errc::not_connected), {});
        if (push_)
            return op->complete(make_error_code(redis_errc::already_subscribed), {});
        push_ = std::move(on_message);
        entry e;
        e.id = id;
        e.expected = count;
        // `this`, not a shared_ptr: the entry is called by this object only, and a strong
        // reference from its own queue would be a cycle.
        e.done = [self = this, op, gen = generation_](boost::system::error_code ec, std::vector<redis_reply> r, bool) {
            if (ec) {
                self->push_ = nullptr; // the call failed: on_message is never called
                return op->complete(ec, {});
            }
            for (const auto& reply : r) {
                if (reply.is_error() || reply.kind != redis_reply_kind::array) {
                    self->push_ = nullptr; // never subscribed: no message, no end to tell
                    op->complete(make_error_code(redis_errc::subscribe_refused), {});
                    if (gen == self->generation_)
                        self->fail(make_error_code(redis_errc::subscribe_refused),
                                   "SUBSCRIBE refused by " + self->where() + ": " + reply.text);
                    return;
                }
            }
            op->complete({}, std::move(r));
        };
        e.deadline = clock::now() + options_.command_timeout;
        arm_watchdog(*e.deadline);
        pending_.push_back(std::move(e));
        queue_write(std::move(wire));
    }

    void on_cancel(std::uint64_t id)
    {
        if (connect_op_ && connect_id_ == id)
            return fail(boost::asio::error::operation_aborted, "connect cancelled");
        for (auto& e : pending_) {
            if (e.id == id && e.waiting()) {
                e.end(boost::asio::error::operation_aborted, {}, false, strand_);
                return; // the entry stays: its replies, when they come, are dropped
            }
        }
    }

    /// `write_bytes` of `wire`, whose own copy is then wiped (it may hold a password or a key).
    void queue_write(std::string wire)
    {
        write_bytes(wire);
        secure_zero(wire.data(), wire.size());
    }

    /// Appends `bytes` to what goes out, and starts writing unless a write is under way.
    void write_bytes(std::string_view bytes)
    {
        outgoing_ += bytes;
        if (!writing_)
            start_write(generation_);
    }

    void start_write(std::uint64_t gen)
    {
        auto l = link_;
        if (l->plain && l->plain->non_blocking()) {
            // What the socket takes now is written at once (no completion to wait for); the
            // rest, a would_block or a failure go to async_write (which reports the failure).
            boost::system::error_code ec;
            const std::size_t n = l->plain->write_some(boost::asio::buffer(outgoing_), ec);
            if (!ec && n > 0) {
                secure_zero(outgoing_.data(), n);
                outgoing_.erase(0, n);
                if (outgoing_.empty())
                    return;
            }
        }
        writing_ = true;
        auto buffer = std::make_shared<std::string>(std::move(outgoing_));
        outgoing_.clear();
        l->with_stream([&](auto& stream) {
            boost::asio::async_write(stream, boost::asio::buffer(*buffer),
                                     [self = shared_from_this(), gen, l, buffer](boost::system::error_code ec, std::size_t) {
                                         secure_zero(buffer->data(), buffer->size()); // AUTH's held the password
                                         if (gen != self->generation_)
                                             return;
                                         self->writing_ = false;
                                         if (ec)
                                             return self->fail(ec, "write to " + self->where() + ": " + ec.message());
                                         if (!self->outgoing_.empty())
                                             self->start_write(gen);
                                     });
        });
    }

    void start_read(std::uint64_t gen)
    {
        auto l = link_;
        l->with_stream([&](auto& stream) {
            stream.async_read_some(boost::asio::buffer(l->read_buffer),
                                   [self = shared_from_this(), gen, l](boost::system::error_code ec, std::size_t n) {
                                       if (gen != self->generation_)
                                           return;
                                       if (ec)
                                           return self->fail(ec, "read from " + self->where() + ": " + ec.message());
                                       self->on_read(gen, *l, n);
                                   });
        });
    }

    void on_read(std::uint64_t gen, link& l, std::size_t n)
    {
        if (::redisReaderFeed(reader_, l.read_buffer.data(), n) != REDIS_OK)
            return fail(make_error_code(redis_errc::protocol_error), "read from " + where() + ": cannot buffer the reply");
        bytes_since_reply_ += n;
        for (;;) {
            void* raw = nullptr;
            if (::redisReaderGetReply(reader_, &raw) != REDIS_OK)
                return fail(make_error_code(redis_errc::protocol_error),
                            "read from " + where() + ": not the Redis protocol (" + std::string(reader_->errstr) + ")");
            if (raw == nullptr)
                break;
            auto* reply = static_cast<::redisReply*>(raw);
            redis_reply converted = redis_convert(reply);
            ::freeReplyObject(reply);
            bytes_since_reply_ = 0;
            deliver(std::move(converted));
            if (gen != generation_)
                return; // a reply ended the connection (AUTH refused)
        }
        if (bytes_since_reply_ > options_.max_reply_bytes)
            return fail(make_error_code(redis_errc::reply_too_large),
                        "read from " + where() + ": a reply larger than " + std::to_string(options_.max_reply_bytes) +
                            " bytes");
        start_read(gen);
    }

    void deliver(redis_reply reply)
    {
        if (push_ && reply.kind == redis_reply_kind::array && reply.elements.size() == 3 &&
            reply.elements[0].kind == redis_reply_kind::string && reply.elements[0].text == "message") {
            auto push = push_; // a copy: the callback may end the subscription
            return push({}, std::move(reply.elements[1].text), std::move(reply.elements[2].text));
        }
        if (pending_.empty())
            return fail(make_error_code(redis_errc::protocol_error), "read from " + where() + ": a reply nothing asked for");
        auto& front = pending_.front();
        front.replies.push_back(std::move(reply));
        if (front.replies.size() < front.expected)
            return;
        entry done = std::move(front);
        pending_.pop_front();
        if (done.waiting()) {
            try {
                done.end({}, std::move(done.replies), true, strand_);
            } catch (...) {
                // A handler called at once threw: out of the context's run(), as if it had been
                // posted, while this read goes on.
                boost::asio::post(io_, [e = std::current_exception()] { std::rethrow_exception(e); });
            }
        }
    }

    boost::asio::any_io_executor io_;
    redis_strand strand_;
    redis_options options_;
    std::optional<boost::asio::ssl::context> ctx_{};

    std::atomic<std::uint64_t> ids_{0};
    std::atomic<bool> connected_{false};
    mutable std::mutex error_mutex_;
    std::string last_error_{};

    // On the strand.
    state state_ = state::disconnected;
    std::uint64_t generation_ = 0;
    tcp::resolver resolver_;
    boost::asio::steady_timer connect_timer_;
    boost::asio::steady_timer watchdog_;
    bool watchdog_armed_ = false;
    std::uint64_t watchdog_seq_ = 0;
    std::shared_ptr<link> link_{};
    std::shared_ptr<redis_op_base> connect_op_{};
    std::uint64_t connect_id_ = 0;
    std::deque<entry> pending_{};
    std::string outgoing_{}; ///< formatted commands not yet handed to a write
    bool writing_ = false;
    ::redisReader* reader_ = nullptr;
    std::size_t bytes_since_reply_ = 0;
    redis_message_handler push_{}; ///< set while subscribed
};

/// The slot's handler: holds the connection weakly (the slot belongs to the caller).
struct redis_cancel_handler {
    std::weak_ptr<redis_connection_impl> impl;
    std::uint64_t id;
    void operator()(boost::asio::cancellation_type_t) const
    {
        if (auto p = impl.lock())
            p->post_cancel(id);
    }
};

/// An operation with its handler, the work guard of the handler's executor and its slot.
/// `Replies`: the handler takes `(error_code, std::vector<redis_reply>)`, else `(error_code)`.
template <class Handler, bool Replies>
class redis_handler_op final : public redis_op_base {
public:
    using executor_type = boost::asio::associated_executor_t<Handler, boost::asio::any_io_executor>;
    using slot_type = boost::asio::associated_cancellation_slot_t<Handler>;

    redis_handler_op(Handler handler, const boost::asio::any_io_executor& io)
        : handler_(std::move(handler)), work_(boost::asio::get_associated_executor(handler_, io)), io_(io),
          slot_(boost::asio::get_associated_cancellation_slot(handler_))
    {
    }

    void install_cancellation(const std::shared_ptr<redis_connection_impl>& impl, std::uint64_t id)
    {
        if (slot_.is_connected())
            slot_.template emplace<redis_cancel_handler>(redis_cancel_handler{impl, id});
    }

    void complete(boost::system::error_code ec, std::vector<redis_reply> replies) override
    {
        if (done_)
            return;
        done_ = true;
        auto call = [handler = std::move(handler_), slot = slot_, ec, replies = std::move(replies)]() mutable {
            if (slot.is_connected())
                slot.clear(); // on the handler's executor, where the caller emits its signals
            if constexpr (Replies)
                std::move(handler)(ec, std::move(replies));
            else
                std::move(handler)(ec);
        };
        post_to_handler(io_, work_.get_executor(), std::move(call));
        work_.reset(); // after the post: the posted function keeps the context busy from here
    }

    void complete_on(const redis_strand& strand, boost::system::error_code ec, std::vector<redis_reply> replies) override
    {
        if (done_)
            return;
        if (!bound_to(strand))
            return complete(ec, std::move(replies));
        done_ = true;
        if (slot_.is_connected())
            slot_.clear();
        auto handler = std::move(handler_);
        auto work = std::move(work_); // released once the handler returned
        if constexpr (Replies)
            std::move(handler)(ec, std::move(replies));
        else
            std::move(handler)(ec);
    }

private:
    /// True when the handler's associated executor is `strand`.
    bool bound_to(const redis_strand& strand) const { return is_redis_strand(work_.get_executor(), strand); }

    Handler handler_;
    handler_work<executor_type> work_;
    boost::asio::any_io_executor io_;
    slot_type slot_;
    bool done_ = false;
};

struct redis_connect_initiation {
    std::shared_ptr<redis_connection_impl> impl;
    boost::asio::any_io_executor executor;

    template <class Handler>
    void operator()(Handler&& handler) const
    {
        auto op = std::make_shared<redis_handler_op<std::decay_t<Handler>, false>>(std::forward<Handler>(handler), executor);
        if (!impl)
            return op->complete(boost::system::errc::make_error_code(boost::system::errc::operation_not_permitted), {});
        const std::uint64_t id = impl->next_id();
        op->install_cancellation(impl, id);
        impl->post_connect(std::move(op), id);
    }
};

struct redis_execute_initiation {
    std::shared_ptr<redis_connection_impl> impl;
    boost::asio::any_io_executor executor;

    template <class Handler>
    void operator()(Handler&& handler, const std::vector<redis_command>& commands) const
    {
        auto op = std::make_shared<redis_handler_op<std::decay_t<Handler>, true>>(std::forward<Handler>(handler), executor);
        if (!impl)
            return op->complete(boost::system::errc::make_error_code(boost::system::errc::operation_not_permitted), {});
        if (commands.empty())
            return op->complete({}, {});
        std::string wire;
        if (!redis_format(commands, wire))
            return op->complete(make_error_code(errc::invalid_argument), {});
        const std::uint64_t id = impl->next_id();
        op->install_cancellation(impl, id);
        impl->post_execute(std::move(op), id, std::move(wire), commands.size());
    }
};

struct redis_subscribe_initiation {
    std::shared_ptr<redis_connection_impl> impl;
    boost::asio::any_io_executor executor;

    template <class Handler>
    void operator()(Handler&& handler, const std::vector<std::string>& channels, redis_message_handler on_message) const
    {
        auto op = std::make_shared<redis_handler_op<std::decay_t<Handler>, false>>(std::forward<Handler>(handler), executor);
        if (!impl)
            return op->complete(boost::system::errc::make_error_code(boost::system::errc::operation_not_permitted), {});
        std::vector<redis_command> commands;
        for (const auto& c : channels)
            commands.push_back({"SUBSCRIBE", c});
        std::string wire;
        if (commands.empty() || !on_message || !redis_format(commands, wire))
            return op->complete(make_error_code(errc::invalid_argument), {});
        const std::uint64_t id = impl->next_id();
        op->install_cancellation(impl, id);
        impl->post_subscribe(std::move(op), id, std::move(wire), commands.size(), std::move(on_message));
    }
};

} // namespace detail

/** One asynchronous connection to a Redis server (a primary or a managed endpoint; neither Redis
    Cluster nor Sentinel), plain TCP or TLS, for the token validator's shared cache.

    `async_connect` resolves, connects, makes the TLS handshake (with `redis_options::tls`), then
    authenticates (`AUTH [username] password`, when a password is given) and selects the database
    (when not 0), all within `connect_timeout`. `async_execute` sends commands pipelined (written
    at once, in order, with those of other calls) and completes with their replies, in order,
    within `command_timeout` (one deadline watchdog per connection checks the oldest command
    still waiting; no timer per command). Commands speak RESP2 (no `HELLO 3`).

    Failures close the connection: a network error (Asio's code: `eof` when the server closed it,
    `connection_reset`, `connection_refused`, ...), `redis_errc::timeout`, `protocol_error`,
    `reply_too_large` complete every pending operation with that code; later commands fail with
    `redis_errc::not_connected` until `async_connect` succeeds again (reconnecting, with backoff,
    is the caller's). A Redis error reply to one command (`-WRONGTYPE`, `-NOPERM`) is not a
    failure: it is a `redis_reply` of kind `error`. `last_error()` says what failed and where, in
    words that never contain the password.

    Handlers are called exactly once, never from inside the initiating call, through their
    associated executor (by default this connection's); a handler whose executor is the very
    strand the connection runs on (see the constructor taking a strand) is called on it directly
    by the read that brought its replies, without another post. A handler that throws: the
    exception leaves the context's `run()`, the connection goes on. Cancellation (the handler's cancellation
    slot, any type): a pending `async_execute` completes at once with `operation_aborted` (its
    commands were sent; their replies are dropped when they come, and the connection stays
    usable); a pending `async_connect` is abandoned and the connection closed.

    Destroying the object closes the connection: operations in flight complete with
    `operation_aborted` (they keep the state they need alive). Thread safety: the members may be
    called from any thread at once (the connection runs on a strand: of its executor, or the one
    given); assigning
    or destroying one object while another thread uses it is not safe.

    @code
    boost::asio::io_context ioc;
    genesys::redis_connection redis{ioc, {.host = "127.0.0.1", .port = 6379, .password = "secret"}};
    redis.async_connect([&](boost::system::error_code ec) {
        if (ec)
            return;
        redis.async_execute({{"SET", "k", "v", "PX", "60000"}, {"GET", "k"}},
                            [](boost::system::error_code ec, std::vector<genesys::redis_reply> replies) {
                                if (!ec)
                                    std::cout << replies[1].text << '\n'; // v
                            });
    });
    ioc.run();
    @endcode
*/
class redis_connection {
public:
    /// The executor type: handlers without an associated executor run on it.
    using executor_type = boost::asio::any_io_executor;

    /** Makes a connection, not yet connected, running on `ex` (a strand of it).

        @throws invalid_argument_error when TLS is on and its context cannot be made (`ca_file`
        unreadable, a client certificate unusable: the message names the file, never the key nor
        its passphrase).
    */
    redis_connection(executor_type ex, redis_options options)
        : executor_(ex), impl_(std::make_shared<detail::redis_connection_impl>(std::move(ex), std::move(options)))
    {
    }

    /** Makes a connection, not yet connected, running on `strand` itself (not a strand of its
        own): a command started on that strand is written at once (its completion still comes
        later), and a handler bound to that strand (`bind_executor`) is called at once, on it,
        from the read that brings its replies, instead of being posted there. For code that
        already runs on a strand of its own (the shared cache does).

        @throws invalid_argument_error as the other constructor.
    */
    redis_connection(boost::asio::strand<executor_type> strand, redis_options options)
        : redis_connection(detail::on_redis_strand, executor_type(std::move(strand)), std::move(options))
    {
    }

    /// @copydoc redis_connection(boost::asio::strand<executor_type>,redis_options)
    redis_connection(boost::asio::strand<boost::asio::io_context::executor_type> strand, redis_options options)
        : redis_connection(detail::on_redis_strand, executor_type(std::move(strand)), std::move(options))
    {
    }

    /// Makes a connection on the executor of `ctx`, e.g. an `io_context`.
    template <class ExecutionContext>
        requires std::convertible_to<ExecutionContext&, boost::asio::execution_context&>
    redis_connection(ExecutionContext& ctx, redis_options options)
        : redis_connection(executor_type(ctx.get_executor()), std::move(options))
    {
    }

    redis_connection(const redis_connection&) = delete;
    redis_connection& operator=(const redis_connection&) = delete;
    /// Takes over `other`'s connection; `other` keeps its executor only (its operations fail
    /// with `errc::operation_not_permitted`).
    redis_connection(redis_connection&& other) noexcept : executor_(other.executor_), impl_(std::move(other.impl_)) {}

    /// Closes the connection; operations in flight complete with `operation_aborted`.
    ~redis_connection() { close(); }

    /// The executor given at construction.
    executor_type get_executor() const noexcept { return executor_; }

    /** Connects, authenticates and selects the database, asynchronously.

        @param token The completion token, for `void(boost::system::error_code)`.

        Errors: `redis_errc::timeout` (`connect_timeout` passed), `redis_errc::auth_failed`,
        `redis_errc::select_failed`, `redis_errc::already_connected`, `operation_aborted`
        (cancelled or closed), or the Asio code of the network or TLS failure; `last_error()`
        tells what was being done.
    */
    template <class CompletionToken>
    auto async_connect(CompletionToken&& token)
    {
        return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code)>(
            detail::redis_connect_initiation{impl_, executor_}, token);
    }

    /** Sends `commands` pipelined and completes with their replies, in the same order.

        The commands are formatted (copied) when the call starts. The replies include Redis'
        error replies to single commands (kind `redis_reply_kind::error`).

        @param commands The commands; each is its name and arguments, binary-safe. An empty
        command fails the call with `errc::invalid_argument` (nothing is sent); no command
        completes at once with no reply.
        @param token The completion token, for `void(boost::system::error_code,
        std::vector<genesys::redis_reply>)`.

        Errors: `redis_errc::not_connected`, `redis_errc::timeout` (`command_timeout` passed: the
        connection is closed), `protocol_error`, `reply_too_large`, `operation_aborted`
        (cancelled or closed), or the Asio code of the network failure. On error the vector is empty.
    */
    template <class CompletionToken>
    auto async_execute(const std::vector<redis_command>& commands, CompletionToken&& token)
    {
        return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code, std::vector<redis_reply>)>(
            detail::redis_execute_initiation{impl_, executor_}, token, commands);
    }

    /** Subscribes to `channels` (`SUBSCRIBE`, RESP2): from then on the connection is a subscriber,
        whose messages go to `on_message` instead of a command's replies.

        `on_message` is called on the connection's strand (not through the handler's executor),
        in the order Redis pushed them, with `({}, channel, payload)` for each message, then once
        with the error that ended the subscription (the connection failed, timed out, or was
        closed: `operation_aborted`), channel and payload empty; it must not block. To subscribe
        again, `async_connect` then `async_subscribe`. A subscribed connection answers only the
        commands Redis allows a subscriber (`PING`, whose reply is the array `["pong", ""]`, and
        `SUBSCRIBE`...); `async_execute` of `PING` is a way to find out that the server stopped
        answering (it times out and ends the subscription).

        @param channels The channels, at least one.
        @param on_message The callback of the messages and of the subscription's end.
        @param token The completion token, for `void(boost::system::error_code)`: completes once
        Redis confirmed every channel.

        Errors: `redis_errc::not_connected`, `redis_errc::already_subscribed` (one subscription
        per connection), `redis_errc::subscribe_refused` (an error reply, e.g. `-NOPERM` for a
        channel the ACL user may not use: the connection is closed; `last_error()` has the
        server's words), `errc::invalid_argument` (no channel, no callback), `redis_errc::timeout`,
        `operation_aborted`, or the Asio code of the network failure. When the call fails,
        `on_message` is never called.
    */
    template <class CompletionToken>
    auto async_subscribe(const std::vector<std::string>& channels, detail::redis_message_handler on_message,
                         CompletionToken&& token)
    {
        return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code)>(
            detail::redis_subscribe_initiation{impl_, executor_}, token, channels, std::move(on_message));
    }

    /// Closes the connection (asynchronously, on its strand): pending operations complete with
    /// `operation_aborted`. `async_connect` may be called again afterwards.
    void close()
    {
        if (impl_)
            impl_->post_close();
    }

    /// True between a successful `async_connect` and the next failure or `close()`.
    bool is_connected() const noexcept { return impl_ && impl_->connected(); }

    /// What the last failure was, where, and the server's or the system's words (empty after a
    /// successful connect). Never contains the password.
    std::string last_error() const { return impl_ ? impl_->last_error() : std::string(); }

private:
    friend class detail::redis_shared_cache_state;

    /// On `strand`, a `detail::redis_strand` (the shared cache's, made by `make_redis_strand`).
    redis_connection(detail::on_redis_strand_t, executor_type strand, redis_options options)
        : executor_(strand),
          impl_(std::make_shared<detail::redis_connection_impl>(detail::on_redis_strand, std::move(strand),
                                                                std::move(options)))
    {
    }

    /// The shared cache's hot path (its GET, on every lookup), called on this connection's strand
    /// only: sends the `count` commands formatted in `wire` (copied, not kept) with `op` as their
    /// completion, which the cache implements itself (no handler, no executor to keep busy:
    /// `complete_on` runs on this strand, from the read that brought the replies).
    void execute_on_strand(std::shared_ptr<detail::redis_op_base> op, std::string_view wire, std::size_t count)
    {
        impl_->execute_on_strand(std::move(op), impl_->next_id(), wire, count);
    }

    executor_type executor_;
    std::shared_ptr<detail::redis_connection_impl> impl_;
};

} // namespace genesys

#endif
