// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_TOKEN_SOURCE_HPP
#define GENESYS_TOKEN_SOURCE_HPP

/// @file
/// `token_source`: a cached access token that refreshes itself, shared by any number of clients and threads.

#include <genesys/detail/config.hpp>
#include <genesys/error.hpp>
#include <genesys/models/oauth_token.hpp>
#include <genesys/result.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace genesys {

class token_source;

namespace detail {

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
    /** Called with each new refresh token a grant's answer carries, so that the application can
        keep it (a file, a database, a secret store) and start again from it after a restart
        (`make_refresh_token_source(client, refresh_token)`): the login host rotates refresh
        tokens, and the one the source was using is then refused.

        - Once per new refresh token: one that differs from the last one the source knew (the
          refresh token of the token it was made with, else that of the previous answer). Not for
          the one it was made with (the application holds it already), not for an answer without
          a refresh token or with the same one, never for a refused grant.
        - In the order the login host issued them, and never concurrently with itself (grants
          run one at a time).
        - Before the answer's access token is cached, used, or handed to any caller waiting for
          it; also when that access token turns out unfit for a Bearer header (the refresh token
          has rotated all the same).
        - On the thread that completes the grant: for a blocking grant, the thread of the call
          that started the fetch; for an asynchronous one, the thread its completion runs on
          (the transport's I/O thread for an `oauth_client` over an asynchronous transport). It
          must not block for long (every caller needing a token waits for it) and must not ask
          this source for a token (that call would wait for the fetch that runs it).
        - When it throws, the fetch fails: the access token is not used, and every caller waiting
          for it gets a `network` error with `errc::transport_exception` whose message says
          `on_refresh_token` threw and gives its `what()` (the refresh token redacted), so a
          service never runs on a refresh token it could not keep. The source keeps using the new
          refresh token (the old one is spent): the next fetch rotates it again and calls this
          with the newer one. A `std::bad_alloc` is rethrown as a grant's is.

        The argument is valid only during the call. A refresh token is a secret: the library
        never writes one to an error, a log line or an exception message.
    */
    std::function<void(std::string_view refresh_token)> on_refresh_token{};
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
    itself, so it may keep state (a rotating refresh token), and neither is
    `token_source_options::on_refresh_token`. A failed fetch is not cached: the next call tries
    again.

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
    GENESYS_DECL explicit token_source(fetch_function fetch, token_source_options options = {});

    /** A source whose grant is asynchronous, fetching its first token when first asked.

        Blocking callers (`try_token`) start the grant too and wait for it on a condition
        variable: never call them on a thread the grant needs to complete (the I/O thread of its
        transport). Hold the source in a `std::shared_ptr` (as `client_config::token_source`
        does): a fetch under way keeps it alive.

        @param fetch The grant: called with the function to call, once, with its outcome.
        @param options How the token is kept.
    */
    GENESYS_DECL explicit token_source(async_fetch_function fetch, token_source_options options = {});

    /** A source with an asynchronous grant that starts with a token, as the blocking one below.

        @param fetch The grant, as above.
        @param initial The first token, as below.
        @param options How the token is kept.
    */
    GENESYS_DECL token_source(async_fetch_function fetch, oauth_token initial,
                              token_source_options options = {});

    /** A source that starts with a token and uses its grant when the token is due.

        @param fetch The grant, called on the thread of the call that needs a token.
        @param initial The first token (e.g. from the authorization-code grant), its lifetime
        counted from now. One whose `access_token` is empty or unfit for a Bearer header is
        ignored: the first call fetches.
        @param options How the token is kept.
    */
    GENESYS_DECL token_source(fetch_function fetch, oauth_token initial, token_source_options options = {});

    token_source(const token_source&) = delete;
    token_source& operator=(const token_source&) = delete;
    GENESYS_DECL ~token_source();

    /** The cached token while it is fresh; otherwise a new one, fetched by this call or by the
        call already fetching (waited for, at most `wait_timeout`).

        @return The token, or the error of getting it (operation `requestToken`): the grant's own
        error; a `network` error with `errc::transport_exception` for a grant that threw something
        other than a `genesys::exception` (whose error is used as is), or whose new refresh token
        `token_source_options::on_refresh_token` threw for; a `decode` error for a
        token unfit for a Bearer header (empty, a space, a control or non-ASCII byte); a `network`
        error with `timed_out` after waiting `wait_timeout` for another call's fetch.
        @throws std::bad_alloc when memory runs out; a caller waiting for this call's fetch then
        gets a `network` error.
    */
    [[nodiscard]] GENESYS_DECL result<std::string> try_token();

    /// The cached token while it is fresh, without waiting or fetching.
    GENESYS_DECL std::optional<std::string> fresh_token() const;

    /** Answers a waiter with a token, without blocking. Used by `async_token`
        (`<genesys/async.hpp>`).

        @param waiter Answered (see `detail::token_waiter::deliver`) at once when a token is
        fresh; else when the fetch under way ends, or the one this call starts with the
        asynchronous grant. Without an asynchronous grant and no fetch under way, the answer is
        an `invalid_argument` error. A waiter already withdrawn (cancelled or timed out before
        it got here) is left alone: it is answered once.
        @return True when the waiter joined a fetch another call started: the wait that
        `token_source_options::wait_timeout` bounds. False when it was answered at once, was
        already withdrawn, or started the fetch itself (that wait is bounded by the grant's own
        `call_timeout`, and by the caller's cancellation).
    */
    GENESYS_DECL bool wait_async(std::shared_ptr<detail::token_waiter> waiter);

    /** Takes back a waiter of `wait_async` (its wait timed out, or it was cancelled): true when
        it will not be answered, so the caller completes it; false when its answer is already on
        its way. */
    GENESYS_DECL bool withdraw(detail::token_waiter& waiter);

    /// The error of a caller that waited `wait_timeout` for a fetch another call started.
    GENESYS_DECL error wait_timed_out() const;

    /// `try_token`, its error thrown as the `genesys::exception` of its kind.
    GENESYS_DECL std::string token();

    /** Drops the cached token if it is the one the API rejected.

        @param rejected_token The token the API answered 401 to. A token fetched since, by
        another call, is kept.
    */
    GENESYS_DECL void invalidate(std::string_view rejected_token);

    /// Drops the cached token, whatever it is: the next call fetches a new one.
    GENESYS_DECL void clear();

    /// True when a token is cached and not yet due for a refresh.
    GENESYS_DECL bool has_fresh_token() const;

    /// When the cached token expires (its `expires_in`), if one is cached and its lifetime is known.
    GENESYS_DECL std::optional<clock_type::time_point> expires_at() const;

    /// How many fetches have been started (each calls the grant once).
    GENESYS_DECL std::uint64_t fetch_count() const;

    /// How many calls are waiting, right now, for a fetch under way: those of another call's
    /// fetch, and a blocking call waiting for the asynchronous grant it started.
    GENESYS_DECL std::size_t waiting() const;

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
    struct fetch_guard;

    static GENESYS_DECL std::shared_ptr<const result<std::string>> make_out_of_memory();

    GENESYS_DECL clock_type::time_point now() const;

    /// When a waiter gives up, in real time: `std::nullopt` for a `wait_timeout` so long that the
    /// deadline would overflow the clock (`milliseconds::max()`); a negative one is zero.
    GENESYS_DECL std::optional<clock_type::time_point> wait_deadline() const;

    static GENESYS_DECL bool is_fresh(const cached_token& t, clock_type::time_point at) noexcept;

    GENESYS_DECL cached_token make_cached(std::string value, std::optional<std::int64_t> expires_in,
                                          clock_type::time_point started) const;

    /// Calls the grant; every failure, a thrown one included, becomes an error.
    GENESYS_DECL result<std::string> fetch(std::optional<std::int64_t>& expires_in);

    /// The token of a grant's answer, checked fit for a Bearer header, after handing a new
    /// refresh token to `on_refresh_token`: the one path of the blocking and asynchronous grants.
    /// Called by the fetch under way only (never concurrently).
    GENESYS_DECL result<std::string> accept(result<api_response<oauth_token>>&& r,
                                            std::optional<std::int64_t>& expires_in);

    /// Tells `on_refresh_token` about the refresh token of a successful answer, if it is new;
    /// the error the fetch ends with when it throws.
    GENESYS_DECL std::optional<error> keep_refresh_token(const api_response<oauth_token>& answer);

    /// Waits (the lock held) for the fetch after generation `seen` to end: its outcome.
    GENESYS_DECL result<std::string> wait_for_fetch(std::unique_lock<std::mutex>& lock, std::uint64_t seen);

    /// Starts the asynchronous grant; its callback ends the fetch. The callback keeps the source
    /// alive when it is held by a `shared_ptr`.
    GENESYS_DECL void start_async_fetch(clock_type::time_point started);

    /// Ends a fetch: caches its token, wakes the blocked waiters and answers the asynchronous ones.
    GENESYS_DECL void finish_fetch(std::shared_ptr<const result<std::string>> outcome,
                                   std::optional<std::int64_t> expires_in, clock_type::time_point started) noexcept;

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
    std::string refresh_token_; // the newest known (a secret); touched only by the fetch under way
};

} // namespace genesys

#if !defined(GENESYS_TOKENS_SEPARATE_COMPILATION)
#include <genesys/impl/token_source.ipp>
#endif

#endif
