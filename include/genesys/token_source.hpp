#ifndef GENESYS_TOKEN_SOURCE_HPP
#define GENESYS_TOKEN_SOURCE_HPP

/// @file
/// `token_source`: a cached access token that refreshes itself, shared by any number of clients and threads.

#include <genesys/detail/failure.hpp>
#include <genesys/error.hpp>
#include <genesys/error_code.hpp>
#include <genesys/models/oauth_token.hpp>
#include <genesys/result.hpp>

#include <boost/system/errc.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace genesys {

class token_source;

namespace detail {

/// Why `token` cannot be sent as `Authorization: Bearer <token>`, or empty. Never quotes it.
constexpr std::string_view bearer_token_problem(std::string_view token) noexcept
{
    if (token.empty())
        return "is empty";
    for (char c : token) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f)
            return "has a space, a control character or a non-ASCII byte";
    }
    return {};
}

/// The operation named by errors about getting a token.
inline constexpr std::string_view request_token_operation = "requestToken";

/** A caller waiting for a token without blocking a thread (see `token_source::wait_async`):
    `async_token` in `<genesys/async.hpp>` is one. */
class token_waiter {
public:
    /// Called once, unless `token_source::withdraw` took the waiter back first: with the token or
    /// the error, from whichever thread finished the fetch (or the caller's, when the answer is
    /// known at once). Must not block.
    virtual void deliver(const result<std::string>& token) noexcept = 0;

protected:
    ~token_waiter() = default;

private:
    friend class genesys::token_source;
    bool answered_ = false; // guarded by the source's mutex
    bool counted_ = false;  // counted by `waiting()`: it waits for a fetch another call started
};

} // namespace detail

/// How a `token_source` keeps its token.
struct token_source_options {
    /// A token is refreshed this long before it expires. When it lives less than twice the
    /// margin, it is refreshed at half its lifetime instead (never a refresh on every call). A
    /// token whose `expires_in` is missing, zero or negative is kept until the API rejects it.
    std::chrono::seconds refresh_margin = std::chrono::seconds(60);
    /// The longest a call waits for a refresh that another call started. A call that waits
    /// longer fails with a network error (`timed_out`); the refresh itself goes on. Measured
    /// in real time, whatever `clock` says. `milliseconds::max()` waits without a limit; zero
    /// or less does not wait.
    std::chrono::milliseconds wait_timeout = std::chrono::seconds(30);
    /// The clock expiry is measured with (default `std::chrono::steady_clock::now`).
    std::function<std::chrono::steady_clock::time_point()> clock{};
};

/** An access token that is fetched when first needed, cached, and fetched again before it expires.

    Built from any callable that gets a token (a grant): `make_client_credentials_source` and
    `make_refresh_token_source` (in `<genesys/oauth.hpp>`) wrap an `oauth_client`. Set it as
    `client_config::token_source` and every `tokens_api` call takes its token from it; on a
    401 the call drops the rejected token (`invalidate`), gets a fresh one and tries once more.

    @par Thread safety
    Shared object: safe; every member may be called from any thread at once (destroying it while
    one runs is not). When many threads need a fresh token at once, exactly one of them calls the
    grant; the others wait for its outcome (at most `wait_timeout`) and all get the same token, or
    the same `genesys::error` when the grant failed. The grant is never called concurrently with
    itself, so it may keep state (a rotating refresh token). A failed fetch is not cached: the
    next call tries again.

    @code
    auto source = genesys::make_client_credentials_source(genesys::oauth_client{transport, oauth_cfg});
    genesys::tokens_api api{transport, {.base_url = base, .token_source = source}};
    @endcode
*/
class token_source : public std::enable_shared_from_this<token_source> {
public:
    /// The clock of `expires_at` and `token_source_options::clock`.
    using clock_type = std::chrono::steady_clock;
    /// Gets a new token: a grant. Errors it returns are handed to the callers waiting for it.
    using fetch_function = std::function<result<api_response<oauth_token>>()>;
    /// Gets a new token without blocking: starts a grant and returns; the grant calls its
    /// argument exactly once, from any thread, with the outcome.
    using async_fetch_function = std::function<void(std::function<void(result<api_response<oauth_token>>)>)>;

    /** A source that fetches its first token when first asked.

        @param fetch The grant, called on the thread of the call that needs a token.
        @param options How the token is kept.
    */
    explicit token_source(fetch_function fetch, token_source_options options = {})
        : fetch_(std::move(fetch)), options_(std::move(options)), out_of_memory_(make_out_of_memory())
    {
    }

    /** A source whose grant is asynchronous. Blocking callers (`try_token`) start it too and
        wait for it on a condition variable: never call them on a thread the grant needs to
        complete (the I/O thread of its transport). Hold the source in a `std::shared_ptr` (as
        `client_config::token_source` does): a fetch under way keeps it alive. */
    explicit token_source(async_fetch_function fetch, token_source_options options = {})
        : async_fetch_(std::move(fetch)), options_(std::move(options)), out_of_memory_(make_out_of_memory())
    {
    }

    /// A source with an asynchronous grant that starts with `initial`, as the blocking one below.
    token_source(async_fetch_function fetch, oauth_token initial, token_source_options options = {})
        : token_source(std::move(fetch), std::move(options))
    {
        if (detail::bearer_token_problem(initial.access_token).empty())
            cached_ = make_cached(std::move(initial.access_token), initial.expires_in, now());
    }

    /// A source that starts with `initial` (e.g. from the authorization-code grant), its
    /// lifetime counted from now, and uses `fetch` when it is due. An `initial` whose
    /// `access_token` is empty or unfit for a Bearer header is ignored: the first call fetches.
    token_source(fetch_function fetch, oauth_token initial, token_source_options options = {})
        : token_source(std::move(fetch), std::move(options))
    {
        if (detail::bearer_token_problem(initial.access_token).empty())
            cached_ = make_cached(std::move(initial.access_token), initial.expires_in, now());
    }

    token_source(const token_source&) = delete;
    token_source& operator=(const token_source&) = delete;

    /** The cached token while it is fresh; otherwise a new one, fetched by this call or by the
        call already fetching (waited for, at most `wait_timeout`).

        @return The token, or the error of getting it (operation `requestToken`): the grant's own
        error; a `network` error with `errc::transport_exception` for a grant that threw something
        other than a `genesys::exception` (whose error is used as is); a `decode` error for a
        token unfit for a Bearer header (empty, a space, a control or non-ASCII byte); a `network`
        error with `timed_out` after waiting `wait_timeout` for another call's fetch.
        @throws std::bad_alloc when memory runs out; a caller waiting for this call's fetch then
        gets a `network` error.
    */
    [[nodiscard]] result<std::string> try_token()
    {
        std::unique_lock lock(mutex_);
        const auto started = now();
        if (cached_ && is_fresh(*cached_, started))
            return cached_->value;
        if (fetching_)
            return wait_for_fetch(lock, generation_);
        fetching_ = true;
        ++fetches_;
        if (!fetch_ && async_fetch_) { // an asynchronous grant: start it and wait like the others
            const std::uint64_t seen = generation_;
            lock.unlock();
            start_async_fetch(started);
            lock.lock();
            return wait_for_fetch(lock, seen);
        }
        lock.unlock();

        // Everything that may throw happens before the lock is taken again; an exception
        // (out of memory) ends the fetch through the guard, so waiters are never left hanging.
        fetch_guard guard{*this};
        std::optional<std::int64_t> expires_in;
        auto outcome = std::make_shared<const result<std::string>>(fetch(expires_in));
        guard.done = true;
        finish_fetch(outcome, expires_in, started);
        return *outcome;
    }

    /// The cached token while it is fresh, without waiting or fetching.
    std::optional<std::string> fresh_token() const
    {
        std::lock_guard lock(mutex_);
        if (cached_ && is_fresh(*cached_, now()))
            return cached_->value;
        return std::nullopt;
    }

    /** Answers `waiter` (see `detail::token_waiter::deliver`) with a token, without blocking: at
        once when one is fresh; else when the fetch under way ends, or the one this call starts
        with the asynchronous grant. Without an asynchronous grant and no fetch under way, the
        answer is an `invalid_argument` error. Used by `async_token` (`<genesys/async.hpp>`). */
    void wait_async(std::shared_ptr<detail::token_waiter> waiter)
    {
        std::unique_lock lock(mutex_);
        const auto started = now();
        if (cached_ && is_fresh(*cached_, started)) {
            const result<std::string> token = cached_->value;
            waiter->answered_ = true;
            lock.unlock();
            waiter->deliver(token);
            return;
        }
        if (fetching_) {
            waiter->counted_ = true;
            ++waiting_;
            waiters_.push_back(std::move(waiter));
            return;
        }
        if (!async_fetch_) {
            waiter->answered_ = true;
            lock.unlock();
            waiter->deliver(detail::invalid_argument(
                detail::request_token_operation,
                "this token source has only a blocking grant, which never runs for an asynchronous caller: make "
                "it with an asynchronous grant (an oauth_client over an asynchronous transport)"));
            return;
        }
        fetching_ = true;
        ++fetches_;
        waiters_.push_back(std::move(waiter));
        lock.unlock();
        start_async_fetch(started);
    }

    /** Takes back a waiter of `wait_async` (its wait timed out, or it was cancelled): true when
        it will not be answered, so the caller completes it; false when its answer is already on
        its way. */
    bool withdraw(detail::token_waiter& waiter)
    {
        std::lock_guard lock(mutex_);
        if (waiter.answered_)
            return false;
        waiter.answered_ = true;
        if (waiter.counted_)
            --waiting_;
        std::erase_if(waiters_, [&](const auto& p) { return p.get() == &waiter; });
        return true;
    }

    /// The error of a caller that waited `wait_timeout` for a fetch another call started.
    error wait_timed_out() const
    {
        return detail::network_failure(detail::request_token_operation,
                                       boost::system::errc::make_error_code(boost::system::errc::timed_out),
                                       "waited " + std::to_string(options_.wait_timeout.count()) +
                                           " ms for the token refresh another call started",
                                       {});
    }

    /// `try_token`, its error thrown as the `genesys::exception` of its kind.
    std::string token() { return try_token().value(); }

    /** Drops the cached token if it is `rejected_token` (the API answered 401 to it). A token
        fetched since, by another call, is kept. */
    void invalidate(std::string_view rejected_token)
    {
        std::lock_guard lock(mutex_);
        if (cached_ && cached_->value == rejected_token)
            cached_.reset();
    }

    /// Drops the cached token, whatever it is: the next call fetches a new one.
    void clear()
    {
        std::lock_guard lock(mutex_);
        cached_.reset();
    }

    /// True when a token is cached and not yet due for a refresh.
    bool has_fresh_token() const
    {
        std::lock_guard lock(mutex_);
        return cached_ && is_fresh(*cached_, now());
    }

    /// When the cached token expires (its `expires_in`), if one is cached and its lifetime is known.
    std::optional<clock_type::time_point> expires_at() const
    {
        std::lock_guard lock(mutex_);
        if (!cached_)
            return std::nullopt;
        return cached_->expires_at;
    }

    /// How many fetches have been started (each calls the grant once).
    std::uint64_t fetch_count() const
    {
        std::lock_guard lock(mutex_);
        return fetches_;
    }

    /// How many calls are waiting, right now, for a fetch under way: those of another call's
    /// fetch, and a blocking call waiting for the asynchronous grant it started.
    std::size_t waiting() const
    {
        std::lock_guard lock(mutex_);
        return waiting_;
    }

    /// The options the source was made with.
    const token_source_options& options() const noexcept { return options_; }

private:
    struct cached_token {
        std::string value;
        std::optional<clock_type::time_point> expires_at;
        std::optional<clock_type::time_point> refresh_at; // empty: no known lifetime, kept until rejected
    };

    /// Ends a fetch that left by an exception (out of memory): waiters get an error made in
    /// advance (nothing is allocated while unwinding), not a hang.
    struct fetch_guard {
        token_source& self;
        bool done = false;
        ~fetch_guard()
        {
            if (!done)
                self.finish_fetch(self.out_of_memory_, std::nullopt, {});
        }
    };

    static std::shared_ptr<const result<std::string>> make_out_of_memory()
    {
        error e;
        e.kind = error_kind::network;
        e.code = make_error_code(errc::transport_exception);
        e.operation = std::string(detail::request_token_operation);
        e.message = e.operation + " failed: out of memory while fetching a token";
        return std::make_shared<const result<std::string>>(std::move(e));
    }

    clock_type::time_point now() const { return options_.clock ? options_.clock() : clock_type::now(); }

    /// When a waiter gives up, in real time: `std::nullopt` for a `wait_timeout` so long that the
    /// deadline would overflow the clock (`milliseconds::max()`); a negative one is zero.
    std::optional<clock_type::time_point> wait_deadline() const
    {
        using std::chrono::milliseconds;
        const auto start = clock_type::now();
        const milliseconds timeout = std::max(options_.wait_timeout, milliseconds(0));
        const auto headroom = std::chrono::duration_cast<milliseconds>(clock_type::time_point::max() - start);
        if (timeout >= headroom - milliseconds(1))
            return std::nullopt;
        return start + timeout;
    }

    static bool is_fresh(const cached_token& t, clock_type::time_point at) noexcept
    {
        return !t.refresh_at || at < *t.refresh_at;
    }

    cached_token make_cached(std::string value, std::optional<std::int64_t> expires_in,
                             clock_type::time_point started) const
    {
        cached_token t{std::move(value), std::nullopt, std::nullopt};
        if (!expires_in || *expires_in <= 0)
            return t; // no usable lifetime: kept until the API rejects it, not fetched on every call
        using std::chrono::seconds;
        constexpr std::int64_t ten_years = std::int64_t{10} * 366 * 24 * 3600;
        const seconds lifetime{std::clamp<std::int64_t>(*expires_in, 0, ten_years)};
        const seconds margin = std::min(std::max(options_.refresh_margin, seconds(0)), lifetime / 2);
        t.expires_at = started + lifetime;
        t.refresh_at = started + lifetime - margin;
        return t;
    }

    /// Calls the grant; every failure, a thrown one included, becomes an error.
    result<std::string> fetch(std::optional<std::int64_t>& expires_in)
    {
        const std::string_view op = detail::request_token_operation;
        if (!fetch_)
            return detail::invalid_argument(op, "the token source has no grant to fetch a token with");
        try {
            return accept(fetch_(), expires_in);
        } catch (const std::bad_alloc&) {
            throw;
        } catch (const exception& e) {
            return e.info();
        } catch (const std::exception& e) {
            return detail::network_failure(op, make_error_code(errc::transport_exception),
                                           std::string("the grant threw: ") + e.what(), {});
        } catch (...) {
            return detail::network_failure(op, make_error_code(errc::transport_exception),
                                           "the grant threw a non-standard exception", {});
        }
    }

    /// The token of a grant's answer, checked fit for a Bearer header.
    static result<std::string> accept(result<api_response<oauth_token>>&& r, std::optional<std::int64_t>& expires_in)
    {
        const std::string_view op = detail::request_token_operation;
        {
            if (!r)
                return r.error();
            if (auto why = detail::bearer_token_problem(r->data.access_token); !why.empty()) {
                error e;
                e.kind = error_kind::decode;
                e.code = make_error_code(errc::decode_failed);
                e.operation = std::string(op);
                e.status = r->status;
                e.message = e.operation + " failed: the token response has an access_token that " + std::string(why);
                return e; // never cached: the next call fetches again
            }
            expires_in = r->data.expires_in;
            return std::move(r->data.access_token);
        }
    }

    /// Waits (the lock held) for the fetch after generation `seen` to end: its outcome.
    result<std::string> wait_for_fetch(std::unique_lock<std::mutex>& lock, std::uint64_t seen)
    {
        ++waiting_;
        const auto fetched = [&] { return generation_ != seen; };
        bool done = true;
        if (const auto deadline = wait_deadline())
            done = cv_.wait_until(lock, *deadline, fetched);
        else
            cv_.wait(lock, fetched); // a timeout too long to represent: no timeout
        --waiting_;
        if (!done) {
            lock.unlock();
            return wait_timed_out();
        }
        const auto outcome = outcome_; // the fetch this call waited for, or a later one
        lock.unlock();
        return *outcome;
    }

    /// Starts the asynchronous grant; its callback ends the fetch. The callback keeps the source
    /// alive when it is held by a `shared_ptr`.
    void start_async_fetch(clock_type::time_point started)
    {
        auto keep = weak_from_this().lock();
        auto done = [this, keep, started](result<api_response<oauth_token>> r) {
            std::optional<std::int64_t> expires_in;
            std::shared_ptr<const result<std::string>> outcome;
            try {
                outcome = std::make_shared<const result<std::string>>(accept(std::move(r), expires_in));
            } catch (...) {
                outcome = out_of_memory_;
            }
            finish_fetch(outcome, expires_in, started);
        };
        try {
            async_fetch_(std::move(done));
        } catch (...) { // it did not start: nothing will call `done`
            std::shared_ptr<const result<std::string>> outcome = out_of_memory_;
            try {
                outcome = std::make_shared<const result<std::string>>(detail::network_failure(
                    detail::request_token_operation, make_error_code(errc::transport_exception),
                    "the asynchronous grant threw instead of starting", {}));
            } catch (...) {
            }
            finish_fetch(outcome, std::nullopt, started);
        }
    }

    /// Ends a fetch: caches its token, wakes the blocked waiters and answers the asynchronous ones.
    void finish_fetch(std::shared_ptr<const result<std::string>> outcome, std::optional<std::int64_t> expires_in,
                      clock_type::time_point started) noexcept
    {
        std::optional<cached_token> fresh;
        std::vector<std::shared_ptr<detail::token_waiter>> answered;
        try {
            if (*outcome)
                fresh = make_cached(**outcome, expires_in, started);
        } catch (...) {
            fresh.reset(); // out of memory: not cached, the waiters still get the token
        }
        {
            std::lock_guard lock(mutex_);
            if (fresh)
                cached_ = std::move(*fresh);
            outcome_ = outcome;
            fetching_ = false;
            ++generation_;
            answered.swap(waiters_);
            for (auto& w : answered) {
                w->answered_ = true;
                if (w->counted_)
                    --waiting_;
            }
        }
        cv_.notify_all();
        for (auto& w : answered)
            w->deliver(*outcome);
    }

    fetch_function fetch_;
    async_fetch_function async_fetch_;
    token_source_options options_;
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::shared_ptr<const result<std::string>> out_of_memory_;
    std::optional<cached_token> cached_;
    std::shared_ptr<const result<std::string>> outcome_; // of the last fetch, for its waiters
    bool fetching_ = false;
    std::uint64_t generation_ = 0;
    std::uint64_t fetches_ = 0;
    std::size_t waiting_ = 0;
    std::vector<std::shared_ptr<detail::token_waiter>> waiters_; // asynchronous, of the fetch under way
};

} // namespace genesys

#endif
