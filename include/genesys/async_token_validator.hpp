// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_ASYNC_TOKEN_VALIDATOR_HPP
#define GENESYS_ASYNC_TOKEN_VALIDATOR_HPP

/// @file
/// `token_validator::async_validate`: validation over a `genesys::async_transport`, in the same
/// cache and the same single flights as `validate`.

#include <genesys/async_token.hpp>
#include <genesys/detail/async_call.hpp>
#include <genesys/detail/async_post.hpp>
#include <genesys/detail/call_machine.hpp>
#include <genesys/detail/client_core.hpp>
#include <genesys/detail/failure.hpp>
#include <genesys/detail/handler_work.hpp>
#include <genesys/detail/owning_list.hpp>
#include <genesys/detail/validator_cache.hpp>
#include <genesys/detail/validator_core.hpp>
#include <genesys/routes.hpp>
#include <genesys/token_validator.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace genesys::detail {

/// One `async_validate` waiting for its token's flight: answered by the flight's end, or ended
/// by its own cancellation (the API call goes on for the others).
template <class Handler, class Executor>
class async_validate_waiter final : public flight_waiter,
                                    public std::enable_shared_from_this<async_validate_waiter<Handler, Executor>> {
public:
    using handler_executor = boost::asio::associated_executor_t<Handler, Executor>;

    async_validate_waiter(Handler handler, const Executor& ex, std::shared_ptr<void> keep,
                          validator_cache& cache, std::shared_ptr<validator_flight> flight)
        : handler_(std::move(handler)), work_(boost::asio::get_associated_executor(handler_, ex)), io_ex_(ex),
          keep_(std::move(keep)), cache_(cache), flight_(std::move(flight))
    {
    }

    /// Listens for the handler's cancellation (a cancellation before the waiter joins its flight
    /// finds nothing to withdraw, and is ignored).
    void arm_cancellation()
    {
        slot_ = boost::asio::get_associated_cancellation_slot(handler_);
        if (slot_.is_connected()) {
            // `this` is alive: the slot is cleared before the handler is called.
            slot_.assign([this](boost::asio::cancellation_type) {
                auto self = this->shared_from_this(); // withdrawing drops the flight's reference
                if (flight_ && cache_.withdraw(*flight_, this))
                    self->deliver(network_failure(validate_operation,
                                            boost::system::error_code(boost::asio::error::operation_aborted),
                                            "the validation was cancelled", {}));
            });
        }
    }

    void deliver(result<validated_token> r) noexcept override
    {
        try {
            post_to_handler(io_ex_, work_.get_executor(),
                            [self = this->shared_from_this(), r = std::move(r)]() mutable { self->complete(std::move(r)); });
        } catch (...) {
            // Out of memory posting the answer: nothing can deliver it.
        }
    }

private:
    void complete(result<validated_token> r)
    {
        if (slot_.is_connected())
            slot_.clear();
        flight_.reset();
        auto handler = std::move(handler_);
        auto work = std::move(work_);
        work.reset();
        keep_.reset();
        std::move(handler)(std::move(r));
    }

    Handler handler_;
    handler_work<handler_executor> work_;
    Executor io_ex_;
    std::shared_ptr<void> keep_; // the validator's state outlives every validation
    validator_cache& cache_;
    std::shared_ptr<validator_flight> flight_;
    boost::asio::cancellation_slot slot_;
};

/// Ends a flight with the API's answer; ends it with `operation_aborted` if destroyed unused
/// (the io_context went away first), so that no later validation waits for it for ever.
/// The request carrying the checked token is zeroed then (it lives only as long as the check).
template <class Shared>
struct async_fetch_done {
    std::shared_ptr<Shared> sh;
    hash128 key;
    std::shared_ptr<validator_flight> flight;
    std::shared_ptr<http_request> request; // the call's own (it shares the call state)
    check_room room;                       // under max_concurrent_checks, given back at the end
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now(); // for the metrics

    async_fetch_done(std::shared_ptr<Shared> s, hash128 k, std::shared_ptr<validator_flight> f,
                     std::shared_ptr<http_request> req, check_room r)
        : sh(std::move(s)), key(k), flight(std::move(f)), request(std::move(req)), room(std::move(r))
    {
    }
    async_fetch_done(async_fetch_done&&) noexcept = default;
    async_fetch_done& operator=(async_fetch_done&&) = delete;
    ~async_fetch_done()
    {
        if (request)
            client_core::wipe_token(*request);
        if (flight) {
            auto abandoned = network_failure(routes::get_tokens_me.operation_id,
                                             boost::system::error_code(boost::asio::error::operation_aborted),
                                             "the check was abandoned", {});
            (void)sh->core.cache().finish(key, flight, std::move(abandoned));
        }
        room.reset(); // (before `sh`, which holds the limiter)
    }

    void operator()(result<api_response<token_info>> r)
    {
        client_core::wipe_token(*request);
        auto f = std::move(flight);
        (void)sh->core.cache().finish(key, f, std::move(r), std::chrono::steady_clock::now() - started);
        room.reset(); // the answer is in the cache: the next check may start
    }
};

/// A check waiting for room under `max_concurrent_checks`: started when room passes to it, or
/// ended with `errc::validator_overloaded` when its timer (`wait_timeout`) fires first, or with
/// `operation_aborted` when destroyed unstarted (the io_context went away). Its copy of the token
/// is zeroed then.
template <class Shared, class Start>
class queued_check final : public check_ticket, public std::enable_shared_from_this<queued_check<Shared, Start>> {
public:
    template <class Executor>
    queued_check(const Executor& ex, std::shared_ptr<Shared> sh, hash128 key, std::shared_ptr<validator_flight> flight,
                 std::string_view token, std::chrono::milliseconds wait, Start start)
        : sh_(std::move(sh)), key_(key), flight_(std::move(flight)), token_(token), wait_(wait), timer_(ex),
          start_(std::move(start))
    {
    }

    ~queued_check()
    {
        wipe(token_);
        if (has_room_) // granted, but never run (the io_context went away)
            sh_->core.cache().limiter().release();
        if (flight_) {
            auto abandoned = network_failure(validate_operation,
                                             boost::system::error_code(boost::asio::error::operation_aborted),
                                             "the check was abandoned while it waited for room", {});
            (void)sh_->core.cache().finish(key_, flight_, std::move(abandoned));
        }
    }

    /// Waits for room; the timer's wait keeps this alive.
    void arm()
    {
        timer_.expires_after(wait_);
        timer_.async_wait([self = this->shared_from_this()](boost::system::error_code ec) { self->expired(ec); });
    }

    void granted() noexcept override
    {
        has_room_ = true;
        try {
            boost::asio::post(timer_.get_executor(), [self = this->shared_from_this()] { self->run(); });
        } catch (...) { // out of memory: the check cannot start; its room goes on, its waiters are told
            has_room_ = false;
            check_room room(sh_->core.cache().limiter());
            fail(sh_->core.cache().overloaded_error(wait_));
        }
    }

private:
    void run()
    {
        timer_.cancel(); // (its handler, if already due, finds nothing to withdraw)
        has_room_ = false;
        check_room room(sh_->core.cache().limiter());
        if (auto flight = std::move(flight_))
            start_(sh_, key_, std::move(flight), token_, std::move(room));
        wipe(token_);
    }

    void expired(boost::system::error_code ec)
    {
        if (ec == boost::asio::error::operation_aborted || !sh_->core.cache().limiter().withdraw(this))
            return; // started
        fail(sh_->core.cache().overloaded_error(wait_));
    }

    void fail(error e) noexcept
    {
        auto flight = std::move(flight_);
        wipe(token_);
        if (flight)
            (void)sh_->core.cache().finish(key_, flight, std::move(e));
    }

    std::shared_ptr<Shared> sh_;
    hash128 key_;
    std::shared_ptr<validator_flight> flight_;
    std::string token_;
    std::chrono::milliseconds wait_;
    boost::asio::steady_timer timer_;
    Start start_;
    bool has_room_ = false; // granted, and not yet handed to the check
};

/// A shared-cache lookup whose answer is to go on on an io_context's executor (below): a node of
/// its io_context's registry, which holds it while it waits.
class pending_shared_lookup : public owning_list_node<pending_shared_lookup> {
public:
    /// The io_context is going away: end the flight now, and never touch its executor again.
    virtual void abandon() noexcept = 0;

protected:
    ~pending_shared_lookup() = default;
};

/** The shared-cache lookups waiting for their answer, per io_context (execution context). The
    shared cache answers on its own thread, at any time: the answer may only be posted to the
    io_context while it is not being destroyed. Its service (below) is shut down before the
    io_context's scheduler, and abandons every lookup still waiting then: their flights end, and
    their late answers are dropped. It owns the lookups waiting: the shared cache's handler holds
    them weakly, so that the cache's thread never holds the last reference to a validator (nor,
    through its options, to the cache itself). */
struct shared_lookup_registry {
    std::mutex mutex;
    bool down = false;                           // the io_context is going away: post nothing
    owning_list<pending_shared_lookup> pending{}; // under `mutex`

    void shut_down() noexcept
    {
        auto abandoned = [this] {
            std::lock_guard lock(mutex);
            down = true;
            return owning_list<pending_shared_lookup>(std::move(pending));
        }();
        // Outside the lock (ending a flight may free a lookup). Nothing else unlinks these now: a
        // lookup resumes on the io_context's thread, and the io_context is being destroyed; a
        // late answer sees `down`.
        while (auto* l = abandoned.front()) {
            const auto owned = abandoned.erase(*l);
            owned->abandon();
        }
    }
};

/// Holds an io_context's `shared_lookup_registry`, and shuts it down with the io_context.
class shared_lookup_service final : public boost::asio::execution_context::service {
public:
    using key_type = shared_lookup_service;
    static inline boost::asio::execution_context::id id;

    explicit shared_lookup_service(boost::asio::execution_context& ctx)
        : boost::asio::execution_context::service(ctx), registry(std::make_shared<shared_lookup_registry>())
    {
    }

    const std::shared_ptr<shared_lookup_registry> registry;

private:
    void shutdown() override { registry->shut_down(); }
};

/** Whether `boost::asio::dispatch(ex, f)` would run `f` at once, here: `ex` is (or an
    `any_io_executor` holding) an io_context's possibly-blocking executor whose io_context this
    thread runs, or a strand of one that this thread is running. Any other executor (a thread
    pool's, one with other properties): false, the work is posted. */
template <class Executor>
bool runs_inline_on(const Executor& ex) noexcept
{
    using io_executor = boost::asio::io_context::executor_type;
    using io_strand = boost::asio::strand<io_executor>;
    if constexpr (std::is_same_v<Executor, io_executor> || std::is_same_v<Executor, io_strand>) {
        return ex.running_in_this_thread();
    } else if constexpr (std::is_same_v<Executor, boost::asio::any_io_executor>) {
        if (const auto* e = ex.template target<io_executor>())
            return e->running_in_this_thread();
        if (const auto* e = ex.template target<io_strand>())
            return e->running_in_this_thread();
        return false;
    } else {
        return false;
    }
}

/** A leader's lookup in the shared cache, with room under `max_concurrent_checks` taken: its
    answer goes on on the transport's executor, ending the flight from the fleet's answer, or
    starting the check (`Start`, with the fleet's lock handed to the flight if it was taken). It
    keeps its copy of the token until then, zeroed after. Ended with `operation_aborted` if the
    io_context goes away first (or the lookup is destroyed unanswered). */
template <class Shared, class Executor, class Start>
class shared_lookup_step final : public pending_shared_lookup,
                                 public std::enable_shared_from_this<shared_lookup_step<Shared, Executor, Start>> {
public:
    shared_lookup_step(std::shared_ptr<shared_lookup_registry> reg, const Executor& ex, std::shared_ptr<Shared> sh,
                       hash128 key, std::shared_ptr<validator_flight> flight, std::string token, check_room room,
                       shared_token_key sk, Start start)
        : reg_(std::move(reg)), ex_(ex), sh_(std::move(sh)), key_(key), flight_(std::move(flight)), token_(std::move(token)),
          room_(std::move(room)), sk_(sk), start_(std::move(start))
    {
    }

    ~shared_lookup_step()
    {
        // No lock: whoever could read `ex_` (`answered`, `abandon`) holds a reference to this.
        ex_.reset();
        end_abandoned();
    }

    /// Registers with the io_context's registry (which owns it until it resumes or is
    /// abandoned), and asks the shared cache.
    void begin()
    {
        {
            std::lock_guard lock(reg_->mutex);
            if (reg_->down)
                return; // the io_context is going away: the destructor ends the flight
            reg_->pending.push_front(this->shared_from_this());
        }
        std::weak_ptr<shared_token_cache> cache = sh_->core.cache().options().shared_cache;
        sh_->core.cache().shared()->async_lookup(
            sk_, [weak = this->weak_from_this(), cache = std::move(cache), sk = sk_](shared_lookup&& found) mutable {
                if (auto self = weak.lock())
                    answered(std::move(self), std::move(found), cache);
                else if (!found.lock.empty()) // abandoned and gone
                    if (auto sc = cache.lock())
                        sc->release(sk, std::move(found.lock));
            });
    }

    void abandon() noexcept override
    {
        {
            std::lock_guard lock(reg_->mutex);
            if (abandoned_)
                return;
            abandoned_ = true;
            ex_.reset(); // (an executor may refer to the io_context's services)
        }
        end_abandoned();
        sh_.reset();
    }

private:
    /// On the shared cache's thread: goes on at once when this thread may run the transport's
    /// executor's work now (`dispatch` would: the cache answers on the transport's io_context),
    /// else posts the answer to the io_context, if it is still there. When posting, `self` is
    /// moved into the posted function: this thread keeps no reference to the step.
    static void answered(std::shared_ptr<shared_lookup_step> self, shared_lookup&& found,
                         const std::weak_ptr<shared_token_cache>& cache)
    {
        shared_lookup_registry& reg = *self->reg_;
        // Kept only when the answer may not go on here: the registry, alive after `self` is
        // posted away until the lock is released; the key and the lock to hand back if the
        // answer cannot go on at all.
        std::shared_ptr<shared_lookup_registry> keep_registry;
        shared_token_key sk{};
        std::string lock_taken;
        {
            std::unique_lock lock(reg.mutex);
            const bool live = !self->abandoned_ && !reg.down && self->ex_; // (`ex_` read under the lock)
            if (live && runs_inline_on(*self->ex_)) {
                // This thread runs the io_context: it cannot be going away meanwhile.
                const auto owned = reg.pending.erase(*self); // (dropped after the lock)
                lock.unlock();
                self->go_on(std::move(found));
                return;
            }
            sk = self->sk_;
            lock_taken = found.lock;
            if (live) {
                keep_registry = self->reg_;
                try {
                    const Executor& ex = *self->ex_;
                    boost::asio::post(ex, [self = std::move(self), found = std::move(found)]() mutable {
                        self->resume(std::move(found));
                    });
                    return;
                } catch (...) { // out of memory: the io_context's end ends the flight
                }
            }
        }
        self.reset(); // (abandoned: its flight has ended)
        if (!lock_taken.empty())
            if (auto sc = cache.lock())
                sc->release(sk, std::move(lock_taken));
    }

    /// On the transport's executor, maybe inside the shared cache's handler: it calls the cache
    /// only through `release` (which does not wait), starts the check, or ends the flight, which
    /// posts to the handlers (`post_to_handler`): no handler runs inside the cache's.
    void resume(shared_lookup&& found)
    {
        std::shared_ptr<pending_shared_lookup> owned; // the registry's reference, dropped unlocked
        {
            std::lock_guard lock(reg_->mutex);
            if (abandoned_)
                return;
            owned = reg_->pending.erase(*this);
        }
        go_on(std::move(found));
    }

    /// `resume`'s work, once the step is out of the registry (and not abandoned).
    void go_on(shared_lookup&& found)
    {
        if (sh_->core.cache().settle_lookup(key_, flight_, sk_, std::move(found))) {
            flight_.reset(); // ended from the fleet's answer
            wipe(token_);
            room_.reset();
            return;
        }
        start_(sh_, key_, std::move(flight_), token_, std::move(room_));
        wipe(token_);
    }

    void end_abandoned() noexcept
    {
        wipe(token_);
        if (auto flight = std::move(flight_)) {
            try {
                auto abandoned = network_failure(validate_operation,
                                                 boost::system::error_code(boost::asio::error::operation_aborted),
                                                 "the check was abandoned while it asked the shared cache", {});
                (void)sh_->core.cache().finish(key_, flight, std::move(abandoned));
            } catch (...) { // out of memory: its waiters' own bounds end their waits
            }
        }
        room_.reset(); // (before `sh_`, which holds the limiter)
    }

    std::shared_ptr<shared_lookup_registry> reg_;
    std::optional<Executor> ex_; // under reg_->mutex
    std::shared_ptr<Shared> sh_;
    hash128 key_;
    std::shared_ptr<validator_flight> flight_;
    std::string token_;
    check_room room_;
    shared_token_key sk_;
    Start start_;
    bool abandoned_ = false; // under reg_->mutex
};

template <class Transport>
struct async_validate_impl {
    using signature = void(result<validated_token>);
    /// `async_validate`'s default completion token, as `async_tokens_api`'s.
    using default_completion_token = boost::asio::deferred_t;

    template <class Shared, class CompletionToken>
    static auto start(const std::shared_ptr<Shared>& sh, std::string_view token, CompletionToken&& completion)
    {
        return boost::asio::async_initiate<CompletionToken, signature>(
            [](auto handler, std::shared_ptr<Shared> sh, std::string token) {
                initiate(std::move(handler), std::move(sh), std::move(token));
            },
            completion, sh, std::string(token));
    }

private:
    template <class Handler, class Shared>
    static void initiate(Handler handler, std::shared_ptr<Shared> sh, std::string token)
    {
        struct wipe_on_exit { // the operation's copy of the token lives only as long as this
            std::string& token;
            ~wipe_on_exit() { wipe(token); }
        } wipe_copy{token};
        using executor = decltype(sh->transport.get_executor());
        using waiter = async_validate_waiter<Handler, executor>;
        const executor ex = sh->transport.get_executor();
        std::shared_ptr<validator_flight> flight;
        std::optional<result<validated_token>> answer;
        bool leader = false, refresh = false;
        hash128 key{};
        if (auto rejected = sh->core.refusal(token)) {
            answer.emplace(std::move(*rejected));
        } else {
            key = sh->core.cache().key_of(token);
            auto found = sh->core.cache().begin(key);
            if (found.answer)
                answer = std::move(found.answer);
            flight = std::move(found.flight);
            leader = found.leader;
            refresh = found.refresh;
        }
        // The waiter is allocated with the standard allocator, not the handler's associated one:
        // the flight, the cancellation slot and the posted completion share it, so it may be
        // freed on another thread after the handler has run, and Asio requires memory from the
        // associated allocator to be freed before the handler is called. Nor with Asio's
        // recycling allocator (measured: its two cached blocks per thread did not hold the waiter
        // beside the reads and posts around it, and a shared hit made two aligned allocations
        // where the standard allocator makes one).
        auto w = std::make_shared<waiter>(std::move(handler), ex, sh, sh->core.cache(), refresh ? nullptr : flight);
        if (answer) { // never inline: posted like every other answer
            w->deliver(std::move(*answer));
            if (refresh) { // refresh_ahead: the re-check goes on on its own (its room taken)
                check_room room(sh->core.cache().limiter());
                if (sh->core.cache().shared()) // no lookup (the fleet's answer is as old): its answer is shared
                    (void)sh->core.name_in_fleet(*flight, token);
                fetch(sh, key, std::move(flight), token, std::move(room));
            }
            return;
        }
        // Listening for cancellation before joining: once joined, another thread may end the
        // flight and complete the waiter at any moment.
        w->arm_cancellation();
        if (!sh->core.cache().join(*flight, w, answer)) {
            w->deliver(std::move(*answer));
            return;
        }
        if (leader)
            start_check(sh, ex, key, std::move(flight), token);
    }

    /// Starts the check at once if there is room under `max_concurrent_checks`, else queues it.
    /// `token`: the operation's copy, which a lookup in the shared cache takes (moved: it wipes it).
    template <class Shared, class Executor>
    static void start_check(const std::shared_ptr<Shared>& sh, const Executor& ex, hash128 key,
                            std::shared_ptr<validator_flight> flight, std::string& token)
    {
        auto& limiter = sh->core.cache().limiter();
        if (limiter.try_acquire()) {
            ask_fleet(sh, ex, key, std::move(flight), token, check_room(limiter));
            return;
        }
        auto start = [ex](const std::shared_ptr<Shared>& s, hash128 k, std::shared_ptr<validator_flight> f,
                          std::string& t, check_room room) { ask_fleet(s, ex, k, std::move(f), t, std::move(room)); };
        auto q = std::make_shared<queued_check<Shared, decltype(start)>>(ex, sh, key, std::move(flight), token,
                                                                         sh->core.join_timeout(), start);
        q->arm(); // before queuing: once queued, room may pass to it at any moment
        if (limiter.acquire_or_queue(q))
            q->granted(); // room came meanwhile
    }

    /// With a shared cache, asks it first (`shared_lookup_step`, taking `token`); else, or when
    /// it has no answer, `fetch`es.
    template <class Shared, class Executor>
    static void ask_fleet(const std::shared_ptr<Shared>& sh, const Executor& ex, hash128 key,
                          std::shared_ptr<validator_flight> flight, std::string& token, check_room room)
    {
        const auto sk = sh->core.cache().shared() ? sh->core.name_in_fleet(*flight, token) : std::nullopt;
        if (!sk) {
            fetch(sh, key, std::move(flight), token, std::move(room));
            return;
        }
        auto start = [](const std::shared_ptr<Shared>& s, hash128 k, std::shared_ptr<validator_flight> f,
                        std::string& t, check_room r) { fetch(s, k, std::move(f), t, std::move(r)); };
        auto& ctx = boost::asio::query(ex, boost::asio::execution::context);
        auto reg = boost::asio::use_service<shared_lookup_service>(ctx).registry;
        auto step = std::make_shared<shared_lookup_step<Shared, Executor, decltype(start)>>(
            std::move(reg), ex, sh, key, std::move(flight), std::move(token), std::move(room), *sk, start);
        step->begin();
    }

    /// `GET /api/v2/tokens/me` with `token`, on the same step machine as every call.
    template <class Shared>
    static void fetch(const std::shared_ptr<Shared>& sh, hash128 key, std::shared_ptr<validator_flight> flight,
                      std::string_view token, check_room room)
    {
        using finish = finish_api_call<token_info>;
        using state = async_call_state<Transport, finish>;
        const auto& route = routes::get_tokens_me;
        const client_core& client = sh->core.client();
        auto st = std::make_shared<state>(sh, sh->transport, finish{route.operation_id, client.limits()});
        if (auto rejected = prepare_check(client, sh->core.cache().options(), st->request, st->settings, token))
            st->rejected.emplace(std::move(*rejected));
        std::shared_ptr<http_request> request(st, &st->request);
        start_async_call<void(result<api_response<token_info>>)>(
            std::move(st), async_fetch_done<Shared>(sh, key, std::move(flight), std::move(request), std::move(room)));
    }
};

} // namespace genesys::detail

#endif
