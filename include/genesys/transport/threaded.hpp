// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_TRANSPORT_THREADED_HPP
#define GENESYS_TRANSPORT_THREADED_HPP

/// @file
/// `threaded_transport<Transport>`: any blocking `genesys::transport` as a `genesys::async_transport`,
/// its sends run on a thread pool you own. Needs Boost.Asio (header-only) and threads, no HTTP library.
///
/// ```cpp
/// #include <genesys/transport/curl.hpp>
/// #include <genesys/transport/threaded.hpp>
///
/// #include <boost/asio/io_context.hpp>
/// #include <boost/asio/thread_pool.hpp>
///
/// boost::asio::io_context ioc;         // your I/O threads: completions are delivered here
/// boost::asio::thread_pool pool(4);    // your blocking threads: the sends run there
/// genesys::threaded_transport<genesys::curl_transport> transport{
///     ioc.get_executor(), pool.get_executor(),
///     [] { return genesys::curl_transport{{.timeout = std::chrono::seconds(30)}}; },
///     4}; // at most 4 curl handles (one per pool thread)
///
/// genesys::http_request req{genesys::http_method::get, "https://api.mypurecloud.com/api/v2/tokens/me",
///                           {{"Authorization", "Bearer " + token}}, {}};
/// transport.async_send(req, [](boost::system::error_code ec, genesys::http_response res) {
///     // on ioc's thread: ec is a network failure (operation_aborted when cancelled), else res.status
/// });
/// ioc.run();
/// pool.join();
/// ```

#include <genesys/async_transport.hpp>
#include <genesys/detail/ascii.hpp>
#include <genesys/detail/async_post.hpp>
#include <genesys/detail/handler_work.hpp>
#include <genesys/detail/send_through.hpp>
#include <genesys/error_code.hpp>
#include <genesys/http.hpp>
#include <genesys/transport.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/execution/executor.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/is_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/query.hpp>
#include <boost/system/errc.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <concepts>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace genesys {

namespace detail {

/// Something moved out of an operation, to be destroyed later through a base pointer.
struct threaded_leftover {
    virtual ~threaded_leftover() = default;
};

template <class T>
struct threaded_leftover_of final : threaded_leftover {
    explicit threaded_leftover_of(T&& v) : value(std::move(v)) {}
    T value;
};

struct threaded_op_base;

/** The asynchronous sends whose handlers run in one execution context.

    One per execution context, owned by that context's `threaded_service` and by each of those
    sends, so it outlives both. Its mutex guards the sends' completion state; when the context
    shuts down, the sends still under way are told, and their handlers destroyed.
*/
struct threaded_registry {
    std::mutex mutex;
    std::condition_variable posted;    // `posting` fell to zero
    threaded_op_base* first = nullptr; // the sends not completed yet (intrusive list)
    std::size_t posting = 0;           // completions being posted to the context, without the lock
    bool shut_down = false;            // the context is shutting down: nothing more may be posted to it
};

/** What a send's handler side and its blocking side share.

    The handler side (handler, work guard, cancellation) is typed in `threaded_op`; the blocking
    side sees only this base. Owned through `std::shared_ptr` by the pool job or the wait queue;
    the cancellation slot holds a `weak_ptr`, the registry a raw pointer (removed under its lock).
*/
struct threaded_op_base {
    threaded_op_base(const http_request& req, std::shared_ptr<threaded_registry> reg)
        : request(req), registry(std::move(reg))
    {
    }
    threaded_op_base(const threaded_op_base&) = delete;
    threaded_op_base& operator=(const threaded_op_base&) = delete;
    /// The copy's token or secret (in a field or the body) does not outlive it in freed memory.
    virtual ~threaded_op_base()
    {
        for (auto& h : request.headers)
            wipe(h.value);
        wipe(request.body);
        wipe(request.url);
    }

    /// The request, copied: the caller's may be gone before the blocking send ends. Only read
    /// until the destructor zeroes it.
    http_request request;
    const std::shared_ptr<threaded_registry> registry;

    // Guarded by registry->mutex.
    bool done = false;   // the handler was posted or destroyed: nothing more to deliver
    bool linked = false; // in registry->first's list
    threaded_op_base* prev = nullptr;
    threaded_op_base* next = nullptr;
    void* running = nullptr;                  // the transport sending this request, while it does
    void (*cancel_running)(void*) = nullptr;  // aborts `running`'s send; null if it cannot

    /// Adds this send to its registry; false (and nothing is added) when the context is shutting down.
    bool link()
    {
        std::lock_guard lock(registry->mutex);
        if (registry->shut_down)
            return false;
        prev = nullptr;
        next = registry->first;
        if (next != nullptr)
            next->prev = this;
        registry->first = this;
        linked = true;
        return true;
    }

    /// True once the handler was posted or destroyed: the send would be for nothing.
    bool is_done()
    {
        std::lock_guard lock(registry->mutex);
        return done;
    }

    /// Delivers `ec` and `response`, unless something was already delivered. Never invokes inline.
    void complete(boost::system::error_code ec, http_response&& response) noexcept
    {
        std::unique_lock lock(registry->mutex);
        running = nullptr;
        if (!done)
            finish(lock, ec, std::move(response));
    }

    /// Terminal cancellation: delivers `operation_aborted` now and aborts the transfer if it can.
    void cancel() noexcept
    {
        std::unique_lock lock(registry->mutex);
        if (done)
            return;
        if (running != nullptr && cancel_running != nullptr)
            cancel_running(running);
        finish(lock, boost::asio::error::operation_aborted, http_response{});
    }

    /// The blocking send starts with `transport`; false when the handler is already done.
    bool start_running(void* transport, void (*cancel_fn)(void*)) noexcept
    {
        std::lock_guard lock(registry->mutex);
        if (done)
            return false;
        running = transport;
        cancel_running = cancel_fn;
        return true;
    }

    /// The blocking send has ended: its transport is no longer this send's to cancel.
    void stop_running() noexcept
    {
        std::lock_guard lock(registry->mutex);
        running = nullptr;
    }

    /// Marks the handler done and moves it (and its work guard) out, to be destroyed outside the lock.
    virtual std::unique_ptr<threaded_leftover> abandon_locked() noexcept = 0;

    void unlink_locked() noexcept
    {
        if (!linked)
            return;
        if (prev != nullptr)
            prev->next = next;
        else
            registry->first = next;
        if (next != nullptr)
            next->prev = prev;
        prev = next = nullptr;
        linked = false;
    }

protected:
    /// Posts the handler with its arguments to its executor and releases the work. Called without
    /// the lock, once `done` is set: nothing else touches the handler any more.
    virtual void post_done(boost::system::error_code ec, http_response&& response) noexcept = 0;

private:
    /// Claims the handler (lock held), then posts it without the lock (an executor may run it
    /// inline, and it may start another send); the context's shutdown waits for the post to end.
    void finish(std::unique_lock<std::mutex>& lock, boost::system::error_code ec, http_response&& response) noexcept
    {
        done = true;
        unlink_locked();
        ++registry->posting;
        lock.unlock();
        post_done(ec, std::move(response));
        lock.lock();
        if (--registry->posting == 0 && registry->shut_down)
            registry->posted.notify_all();
    }
};

/// The execution context's shutdown: sends under way will deliver nothing, their handlers are destroyed.
inline void threaded_registry_shutdown(threaded_registry& registry) noexcept
{
    std::vector<std::unique_ptr<threaded_leftover>> leftovers;
    {
        std::unique_lock lock(registry.mutex);
        registry.shut_down = true;
        // A completion being posted to the context: it reaches the context's queue (which the
        // context destroys next) before the context goes.
        registry.posted.wait(lock, [&] { return registry.posting == 0; });
        while (threaded_op_base* op = registry.first) {
            op->unlink_locked();
            if (op->done)
                continue;
            auto leftover = op->abandon_locked();
            try {
                leftovers.push_back(std::move(leftover));
            } catch (...) {
                // destroyed here, under the lock
            }
        }
    }
    // Destroyed without the lock: a handler's destructor may start another send.
}

/// The `execution_context` service holding the context's `threaded_registry`.
class threaded_service final : public boost::asio::execution_context::service {
public:
    /// The service's identity for `boost::asio::use_service`.
    static inline boost::asio::execution_context::id id;

    explicit threaded_service(boost::asio::execution_context& context)
        : boost::asio::execution_context::service(context), registry_(std::make_shared<threaded_registry>())
    {
    }

    const std::shared_ptr<threaded_registry>& registry() const noexcept { return registry_; }

private:
    void shutdown() override { threaded_registry_shutdown(*registry_); }

    std::shared_ptr<threaded_registry> registry_;
};

/// The registry of the context `ex` runs in, or one of its own when that context cannot be known.
template <class Executor>
std::shared_ptr<threaded_registry> threaded_registry_for(const Executor& ex)
{
    if constexpr (boost::asio::execution::is_executor<Executor>::value) {
        if constexpr (boost::asio::can_query<const Executor&, boost::asio::execution::context_t>::value) {
            boost::asio::execution_context& context = boost::asio::query(ex, boost::asio::execution::context);
            return boost::asio::use_service<threaded_service>(context).registry();
        } else {
            return std::make_shared<threaded_registry>();
        }
    } else if constexpr (requires { ex.context(); }) {
        return boost::asio::use_service<threaded_service>(ex.context()).registry();
    } else {
        return std::make_shared<threaded_registry>();
    }
}

/// What is posted to the handler's executor: the handler and its arguments.
template <class Handler>
struct threaded_completion {
    Handler handler;
    boost::system::error_code ec;
    http_response response;

    using allocator_type = boost::asio::associated_allocator_t<Handler>;
    allocator_type get_allocator() const noexcept { return boost::asio::get_associated_allocator(handler); }

    void operator()()
    {
        // On the handler's executor, where its cancellation signal is emitted: safe to clear the slot.
        boost::asio::get_associated_cancellation_slot(handler).clear();
        std::move(handler)(ec, std::move(response));
    }
};

/// One send's handler side: the handler and the work it keeps on its executor and on the I/O
/// executor (where its completion is posted first).
template <class Handler, class Executor>
class threaded_op final : public threaded_op_base {
public:
    threaded_op(const http_request& req, std::shared_ptr<threaded_registry> reg, Handler&& handler,
                const Executor& ex, const boost::asio::any_io_executor& io)
        : threaded_op_base(req, std::move(reg)), handler_(std::move(handler)), work_(ex), io_work_(io), io_(io)
    {
    }

    ~threaded_op() override
    {
        std::lock_guard lock(registry->mutex);
        unlink_locked();
    }

    std::unique_ptr<threaded_leftover> abandon_locked() noexcept override
    {
        done = true;
        using all = std::tuple<std::optional<Handler>, std::optional<work_type>, std::optional<io_work_type>>;
        std::unique_ptr<threaded_leftover> out;
        try {
            out = std::make_unique<threaded_leftover_of<all>>(
                all{std::move(handler_), std::move(work_), std::move(io_work_)});
        } catch (...) {
        }
        handler_.reset();
        work_.reset();
        io_work_.reset();
        return out;
    }

private:
    using work_type = detail::handler_work<Executor>;
    using io_work_type = detail::handler_work<boost::asio::any_io_executor>;

    void post_done(boost::system::error_code ec, http_response&& response) noexcept override
    {
        try {
            post_to_handler(io_, work_->get_executor(),
                            threaded_completion<Handler>{std::move(*handler_), ec, std::move(response)});
        } catch (...) {
            // Out of memory: the handler is destroyed, never invoked.
        }
        handler_.reset();
        work_.reset(); // after the post: the posted handler keeps the contexts busy from here
        io_work_.reset();
    }

    std::optional<Handler> handler_;
    std::optional<work_type> work_;
    std::optional<io_work_type> io_work_;
    boost::asio::any_io_executor io_; // posted to first, then dispatched to the handler's executor
};

/// Installed in the handler's cancellation slot.
struct threaded_cancel_handler {
    explicit threaded_cancel_handler(std::weak_ptr<threaded_op_base> p) noexcept : op(std::move(p)) {}

    std::weak_ptr<threaded_op_base> op;

    void operator()(boost::asio::cancellation_type type) const
    {
        if ((type & boost::asio::cancellation_type::terminal) == boost::asio::cancellation_type::none)
            return;
        if (auto p = op.lock())
            p->cancel();
    }
};

/// The transports of one `threaded_transport` and the sends waiting for one; shared with the sends.
template <class Transport>
struct threaded_pool {
    threaded_pool(boost::asio::any_io_executor ex, std::function<Transport()> make, std::size_t max)
        : executor(std::move(ex)), factory(std::move(make)), max_transports(max)
    {
    }

    const boost::asio::any_io_executor executor; // the user's thread pool
    const std::function<Transport()> factory;
    const std::size_t max_transports;

    std::mutex mutex;
    std::vector<std::unique_ptr<Transport>> idle;
    std::deque<std::shared_ptr<threaded_op_base>> waiting; // for a transport, oldest first
    std::size_t count = 0;                                  // transports made or being made
};

template <class Transport>
void threaded_post_job(const std::shared_ptr<threaded_pool<Transport>>& pool, std::shared_ptr<threaded_op_base> op,
                       std::unique_ptr<Transport> transport) noexcept;

/// Gives `transport` (null: the right to make one) to the oldest waiting send, or keeps it idle.
template <class Transport>
void threaded_release(const std::shared_ptr<threaded_pool<Transport>>& pool,
                      std::unique_ptr<Transport> transport) noexcept
{
    std::shared_ptr<threaded_op_base> next;
    {
        std::lock_guard lock(pool->mutex);
        if (!pool->waiting.empty()) {
            next = std::move(pool->waiting.front());
            pool->waiting.pop_front();
        } else if (transport) {
            try {
                pool->idle.push_back(std::move(transport)); // leaves `transport` as is if it throws
            } catch (...) {
                --pool->count;
            }
        } else {
            --pool->count;
        }
    }
    if (next)
        threaded_post_job(pool, std::move(next), std::move(transport));
    // else a transport that could not be kept idle is destroyed here, outside the lock
}

/// `factory()` seen as a transport, so that `send_through` turns its exceptions into error codes.
template <class Transport>
struct threaded_maker {
    const std::function<Transport()>& factory;
    std::unique_ptr<Transport>& made;

    http_response send(const http_request&)
    {
        made = std::make_unique<Transport>(factory());
        return {};
    }
};

template <class Transport>
void threaded_cancel_transport(void* transport)
{
    try {
        static_cast<Transport*>(transport)->cancel();
    } catch (...) {
    }
}

/// The work posted to the thread pool: one blocking send, with its transport.
template <class Transport>
class threaded_job {
public:
    threaded_job(std::shared_ptr<threaded_pool<Transport>> pool, std::shared_ptr<threaded_op_base> op,
                 std::unique_ptr<Transport> transport) noexcept
        : pool_(std::move(pool)), op_(std::move(op)), transport_(std::move(transport))
    {
    }
    threaded_job(threaded_job&&) noexcept = default;
    threaded_job& operator=(threaded_job&&) = delete;

    /// Destroyed without running (the pool was stopped or destroyed): the send is aborted.
    ~threaded_job()
    {
        if (op_) {
            op_->complete(boost::asio::error::operation_aborted, http_response{});
            op_.reset();
            threaded_release(pool_, std::move(transport_));
        }
    }

    void operator()() noexcept
    {
        const std::shared_ptr<threaded_op_base> op = std::move(op_);
        std::unique_ptr<Transport> transport = std::move(transport_);
        boost::system::result<http_response> sent{http_response{}};
        std::string what; // send_through's detail, handed over in the response's body on failure
        try {
            if (op->is_done()) { // cancelled while it waited: give the transport to the next send
                threaded_release(pool_, std::move(transport));
                return;
            }
            if (!transport) {
                threaded_maker<Transport> maker{pool_->factory, transport};
                sent = send_through(maker, op->request, what);
            }
            if (sent && transport) {
                void (*cancel_fn)(void*) = nullptr;
                if constexpr (cancellable_transport<Transport>)
                    cancel_fn = &threaded_cancel_transport<Transport>;
                if (!op->start_running(transport.get(), cancel_fn)) { // cancelled meanwhile
                    threaded_release(pool_, std::move(transport));
                    return;
                }
                sent = send_through(*transport, op->request, what);
            }
        } catch (...) { // std::bad_alloc, the only exception send_through lets through
            sent = boost::system::errc::make_error_code(boost::system::errc::not_enough_memory);
        }
        // The transport goes back before the handler is posted: a send the handler starts finds it
        // idle. cancel() can no longer reach it once `running` is cleared.
        op->stop_running();
        threaded_release(pool_, std::move(transport)); // null (the factory failed): the slot goes back
        if (sent) {
            op->complete({}, std::move(*sent));
        } else {
            http_response text; // the transport's own words about the failure
            text.body = std::move(what);
            op->complete(sent.error(), std::move(text));
        }
    }

private:
    std::shared_ptr<threaded_pool<Transport>> pool_;
    std::shared_ptr<threaded_op_base> op_;
    std::unique_ptr<Transport> transport_;
};

template <class Transport>
void threaded_post_job(const std::shared_ptr<threaded_pool<Transport>>& pool, std::shared_ptr<threaded_op_base> op,
                       std::unique_ptr<Transport> transport) noexcept
{
    try {
        boost::asio::post(pool->executor, threaded_job<Transport>{pool, std::move(op), std::move(transport)});
    } catch (...) {
        // The job was destroyed without running: its destructor aborted the send.
    }
}

/// `async_send`'s initiation: holds no reference to the `threaded_transport`, so a deferred
/// operation may be launched after the transport was moved or destroyed.
template <class Transport>
struct threaded_initiation {
    std::shared_ptr<threaded_pool<Transport>> pool;
    boost::asio::any_io_executor io;

    using executor_type = boost::asio::any_io_executor;
    executor_type get_executor() const noexcept { return io; }

    template <class Handler>
    void operator()(Handler&& handler, const http_request& request) const
    {
        using handler_type = std::decay_t<Handler>;
        auto slot = boost::asio::get_associated_cancellation_slot(handler);
        auto ex = boost::asio::get_associated_executor(handler, io);
        using executor = decltype(ex);
        // The registry of the context the completion is posted to: the I/O executor's (see
        // post_to_handler), from which it is dispatched to the handler's.
        auto registry = threaded_registry_for(io);
        auto op = std::make_shared<threaded_op<handler_type, executor>>(request, std::move(registry),
                                                                        std::move(handler), ex, io);
        if (slot.is_connected())
            slot.template emplace<threaded_cancel_handler>(std::weak_ptr<threaded_op_base>(op));
        if (!op->link()) { // the handler's context is shutting down: the handler is destroyed
            std::unique_ptr<threaded_leftover> leftover;
            {
                std::lock_guard lock(op->registry->mutex);
                leftover = op->abandon_locked();
            }
            return;
        }
        if (!pool) { // a moved-from threaded_transport
            op->complete(boost::system::errc::make_error_code(boost::system::errc::operation_not_permitted),
                         http_response{});
            return;
        }
        std::unique_ptr<Transport> transport;
        {
            std::lock_guard lock(pool->mutex);
            if (!pool->idle.empty()) {
                transport = std::move(pool->idle.back());
                pool->idle.pop_back();
            } else if (pool->count < pool->max_transports) {
                ++pool->count; // made by the job, on the pool
            } else {
                pool->waiting.push_back(std::move(op)); // given a transport by the next send to end
                return;
            }
        }
        threaded_post_job(pool, std::move(op), std::move(transport));
    }
};

} // namespace detail

/** Runs a blocking `genesys::transport` on a thread pool you own: a `genesys::async_transport`.

    Each `async_send` copies the request and posts the blocking `send` to the pool executor given
    at construction; its completion is delivered on the handler's associated executor (by
    default the I/O executor given at construction), never on a pool thread unless the handler
    asks for one, and never from inside `async_send`. The copy of the request is zeroed (fields,
    body and URL) before it is freed, so a token it carried does not stay in freed memory.

    A blocking transport is one connection and is not thread-safe, so `threaded_transport` keeps
    a set of them, made by the factory you give: a send takes an idle transport, or makes a new
    one (on the pool) while there are fewer than `max_transports`, or else waits, without holding
    a thread, for the next send to end and hand its transport over (oldest waiting send first).
    Transports are kept, with their connections, until the `threaded_transport` and every send
    under way are gone; a transport that failed (even one that threw) is kept and used again.

    Failures are reported as the blocking `tokens_api` reports them: a transport's error code
    as is, a thrown `boost::system::system_error` or `std::system_error` as its code, any other
    exception (from `send` or from the factory) as `genesys::errc::transport_exception`, an
    exhausted memory as `errc::not_enough_memory`.

    Cancellation: terminal cancellation of the handler's associated cancellation slot completes
    the send at once with `boost::asio::error::operation_aborted` (partial and total
    cancellation are ignored: a request under way may already have reached the server). A send
    still waiting for a transport never starts; a send under way is aborted through
    `Transport::cancel()` when the transport is a `genesys::cancellable_transport` (as
    `genesys::curl_transport`), else it runs to its end on the pool and its result is dropped.

    Lifetime: the transports and the sends' state are shared by the `threaded_transport` and the
    sends under way. Destroying the `threaded_transport` does not cancel anything: the sends under
    way end on the pool and are delivered. A completion is posted to the I/O executor and from
    there dispatched to the handler's executor, and each send keeps work on both: destroying (or
    shutting down) the I/O executor's execution context destroys the handler of each send still
    under way without invoking it; the blocking send ends on the pool and its result is dropped.
    A handler bound to the executor of another context needs that context alive until it has
    run, as for any Asio operation. The pool (the context of the
    pool executor) must outlive every send; a send still queued on the pool when the pool is
    destroyed completes with `operation_aborted`.

    Thread safety: distinct objects, safe; shared objects: `async_send`, `get_executor`,
    `max_transports` and `transport_count` may be called concurrently from any threads.

    @tparam Transport a `genesys::transport`; optionally a `genesys::cancellable_transport`.

    @code
    boost::asio::io_context ioc;
    boost::asio::thread_pool pool(4);
    genesys::threaded_transport<genesys::curl_transport> t{ioc.get_executor(), pool.get_executor(),
                                                           [] { return genesys::curl_transport{}; }, 4};
    t.async_send(request, [](boost::system::error_code ec, genesys::http_response res) { ... });
    @endcode
*/
template <transport Transport>
class threaded_transport {
public:
    /// The blocking transport run on the pool.
    using transport_type = Transport;

    /// The I/O executor: the default executor of completion handlers.
    using executor_type = boost::asio::any_io_executor;

    /// Makes one more transport; called on pool threads, possibly several at once.
    using factory_type = std::function<Transport()>;

    /** Creates the transport set; no transport is made until a send needs one.

        @param io_executor the executor on which completion handlers without an associated
        executor run (e.g. `io_context::get_executor()`).
        @param pool_executor the executor of your thread pool, on which the blocking sends run
        (e.g. `boost::asio::thread_pool::get_executor()`); the pool must outlive every send.
        @param factory makes a transport; called on a pool thread, possibly from several at once.
        A factory that throws fails the send that needed the transport (see the class).
        @param max_transports the most transports alive at once, so the most sends under way
        at once: typically the pool's thread count.

        @throws std::invalid_argument when `factory` is empty, `max_transports` is zero or an
        executor is empty.
    */
    threaded_transport(executor_type io_executor, executor_type pool_executor, factory_type factory,
                       std::size_t max_transports)
        : pool_(make_pool(std::move(pool_executor), std::move(factory), max_transports)), io_(std::move(io_executor))
    {
        if (!io_)
            throw std::invalid_argument("threaded_transport: the I/O executor is empty");
    }

    /** Creates the transport set, each transport a default-constructed `Transport`.

        @param io_executor the default executor of completion handlers.
        @param pool_executor the executor of your thread pool (it must outlive every send).
        @param max_transports the most transports alive at once (typically the pool's thread count).

        @throws std::invalid_argument when `max_transports` is zero or an executor is empty.
    */
    threaded_transport(executor_type io_executor, executor_type pool_executor, std::size_t max_transports)
        requires std::default_initializable<Transport>
        : threaded_transport(std::move(io_executor), std::move(pool_executor), [] { return Transport{}; },
                             max_transports)
    {
    }

    threaded_transport(const threaded_transport&) = delete;
    threaded_transport& operator=(const threaded_transport&) = delete;

    /** Takes another set's transports and sends under way.

        @param other Keeps only its I/O executor: a send started with it completes with
        `errc::operation_not_permitted`.
    */
    threaded_transport(threaded_transport&& other) noexcept : pool_(std::move(other.pool_)), io_(other.io_) {}

    /// Drops this object's transports (the sends under way keep theirs) and takes `other`'s.
    threaded_transport& operator=(threaded_transport&& other) noexcept
    {
        if (this != &other) {
            pool_ = std::move(other.pool_);
            io_ = other.io_;
        }
        return *this;
    }

    /// Releases this object's share of the transports: the sends under way go on (see the class).
    ~threaded_transport() = default;

    /// The I/O executor given at construction: where handlers without an associated executor run.
    executor_type get_executor() const noexcept { return io_; }

    /// The most transports alive at once; zero for a moved-from object.
    std::size_t max_transports() const noexcept { return pool_ ? pool_->max_transports : 0; }

    /// How many transports are alive (idle or sending) or being made; never more than `max_transports()`.
    std::size_t transport_count() const
    {
        if (!pool_)
            return 0;
        std::lock_guard lock(pool_->mutex);
        return pool_->count;
    }

    /** Sends `request` on the pool, asynchronously.

        The request is copied: it may be destroyed as soon as `async_send` returns.

        @param request the request to send, exactly as `Transport::send` takes it.
        @param token the completion token (a callback, `use_future`, `use_awaitable`, `deferred`,
        `as_tuple(...)`, `bind_executor(...)`, ...) for the signature
        `void(boost::system::error_code ec, genesys::http_response response)`.

        @return as the completion token says (nothing for a callback).

        The handler is invoked exactly once, through its associated executor (else this object's
        I/O executor), never from inside `async_send`; work is tracked on that executor until it
        is invoked. `ec` is empty when a response arrived (whatever its status; `response` then
        holds it), else the failure: the transport's code, `genesys::errc::transport_exception`
        for a transport or factory that threw, `boost::asio::error::operation_aborted` when
        cancelled (terminal cancellation of the associated slot) or when the pool dropped the
        send, `errc::operation_not_permitted` for a moved-from `threaded_transport`. With an
        error from the transport or the factory, `response.body` holds their own text about it
        (`Transport::last_error_message()` when it has one, an exception's `what()`); otherwise
        `response` is empty.

        @throws std::bad_alloc when the send's state cannot be allocated (nothing was started);
        `boost::asio::bad_executor` when the handler's executor is empty.

        Thread safety: may be called from several threads at once.
    */
    template <class CompletionToken>
    auto async_send(const http_request& request, CompletionToken&& token)
    {
        return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code, http_response)>(
            detail::threaded_initiation<Transport>{pool_, io_}, token, request);
    }

private:
    static std::shared_ptr<detail::threaded_pool<Transport>> make_pool(executor_type pool_executor,
                                                                       factory_type factory, std::size_t max)
    {
        if (!pool_executor)
            throw std::invalid_argument("threaded_transport: the pool executor is empty");
        if (!factory)
            throw std::invalid_argument("threaded_transport: the transport factory is empty");
        if (max == 0)
            throw std::invalid_argument("threaded_transport: max_transports must be at least 1");
        return std::make_shared<detail::threaded_pool<Transport>>(std::move(pool_executor), std::move(factory), max);
    }

    std::shared_ptr<detail::threaded_pool<Transport>> pool_;
    executor_type io_;
};

} // namespace genesys

#endif
