// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_ASYNC_TOKENS_API_HPP
#define GENESYS_ASYNC_TOKENS_API_HPP

/// @file
/// `async_tokens_api<AsyncTransport>`: the Tokens resource of the Platform API over a
/// `genesys::async_transport` (Boost.Asio; CMake target `genesys::tokens_async`).
///
/// Every operation runs the same step machine as the blocking API (`detail::call_machine`):
/// the checks, the token, the 401-refresh-once rule, retries, the deadline, logging, errors and
/// decoding are the same; only the waiting differs (`async_send` and timers, never a blocked
/// thread).

#include <genesys/async_transport.hpp>
#include <genesys/call_options.hpp>
#include <genesys/client_config.hpp>
#include <genesys/detail/async_call.hpp>
#include <genesys/detail/client_core.hpp>
#include <genesys/detail/outcome.hpp>
#include <genesys/detail/tokens_core.hpp>
#include <genesys/error.hpp>
#include <genesys/http.hpp>
#include <genesys/models/idle_token_timeout.hpp>
#include <genesys/models/token_info.hpp>
#include <genesys/result.hpp>
#include <genesys/routes.hpp>

#include <boost/asio/deferred.hpp>

#include <concepts>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace genesys {

namespace detail {

/// What an asynchronous operation takes as its completion token: anything but `call_options`
/// (which comes before the token).
template <class T>
concept not_call_options = !std::same_as<std::remove_cvref_t<T>, call_options>;

} // namespace detail

/** The Tokens resource of the Genesys Cloud Platform API, asynchronously, over any
    `genesys::async_transport`.

    Each operation of `tokens_api` has an `async_` form that takes the same arguments and a
    completion token (default `boost::asio::deferred`), returns what that token makes of the
    operation (nothing for a callback), and completes with `void(result<api_response<T>>)`: the
    same value, errors included, as the `try_` form, so `.value()` throws the same typed
    exceptions. Every Asio completion token works: a callback, `use_future`, `use_awaitable`,
    `deferred`, `as_tuple`, `bind_executor`, `experimental::parallel_group`.

    - Arguments are copied into the operation when it is initiated: a `deferred` or awaitable
      operation started later never reads a dead `string_view`. Bad input is reported (without
      sending) like any other error.
    - Each operation also takes a `call_options` just before the completion token: headers for
      that call alone, checked, sent and logged as for `tokens_api`, copied at initiation too.
    - The handler runs on its associated executor (else `get_executor()`), exactly once, never
      from inside the initiating function.
    - The steps of a call (each send, retry wait and token wait) complete on the I/O executor
      and continue on the handler's associated executor by dispatch, so a `use_future` call
      never continues on another pool's thread; only the final completion is the handler's.
    - Retries wait on timers; `client_config::call_timeout` ends a call that takes longer (a
      timer cancels the step under way). The deadline and the steps run one at a time: on the
      handler's strand when it is bound to one, else on a strand the call makes for itself (one
      allocation, for calls with a `call_timeout` only), so a deadline needs no strand of yours,
      however many threads run the io_context. Terminal cancellation through the handler's
      cancellation slot ends the call at once with `operation_aborted`, whatever step it is in.
    - Moving or destroying the client while operations are in flight is safe: each operation
      keeps the transport and configuration it started with alive until it completes. Copies
      share one transport and configuration; a moved-from client may only be destroyed or
      assigned to.
    - A call's state is one allocation with `std::allocator`: it is made when the operation is
      initiated, before Asio turns a `deferred` or awaitable token into a handler, so the
      handler's associated allocator is not known yet. A token wait's state uses that allocator.
    - An exception (as for `try_x`: `std::bad_alloc`, or what a `retry_policy` function throws)
      leaves the initiating function or, from a later step, the executor's `run()`.

    @par Thread safety
    Operations may be started from several threads at once on one client when the transport's
    `async_send` may be called so (`threaded_transport`, `beast_async_transport` and the fake
    allow it); they run concurrently, sharing the transport. As with any Asio composed operation,
    emit a cancellation where the operation's handlers run (bind the handler to a strand and
    emit on it) when the io_context runs on several threads.

    @code
    boost::asio::co_spawn(ioc, [&]() -> boost::asio::awaitable<void> {
        auto r = co_await api.async_get_tokens_me(true, boost::asio::use_awaitable);
        if (r) std::cout << r->data.organization->name.value_or("?") << '\n';
    }, boost::asio::detached);
    @endcode
*/
template <async_transport AsyncTransport>
class async_tokens_api {
    struct shared {
        AsyncTransport transport;
        detail::client_core core;
    };

public:
    /// The transport type the client sends through.
    using transport_type = AsyncTransport;
    /// The executor operations run on by default: the transport's.
    using executor_type = decltype(std::declval<AsyncTransport&>().get_executor());

    /** Makes a client.

        @param transport What sends the requests; moved into the client.
        @param config Where and as whom to call.
        @throws invalid_argument_error for a bad `config`: the error `check(config)` returns.
    */
    async_tokens_api(AsyncTransport transport, client_config config)
        : shared_(std::make_shared<shared>(shared{std::move(transport), detail::client_core(std::move(config))}))
    {
    }

    /// The executor operations run on by default.
    executor_type get_executor() const { return shared_->transport.get_executor(); }
    /// The transport the client sends through.
    AsyncTransport& transport() noexcept { return shared_->transport; }
    /// The configuration the client was made with.
    const client_config& config() const noexcept { return shared_->core.config(); }

    /** `DELETE /api/v2/tokens/{userId}`: `try_delete_token`, asynchronously.

        @param user_id As for `try_delete_token`; checked and copied into the request by this
        call, so it need not outlive it.
        @param options Per-call settings (`call_options`), copied by this call.
        @param token The completion token, for the signature `void(result<api_response<void>>)`.
        @return What `token` makes of the operation: with the default, a deferred operation to
        `co_await` or to launch with a token later.
    */
    template <class CompletionToken = boost::asio::deferred_t>
    auto async_delete_token(std::string_view user_id, const call_options& options, CompletionToken&& token = {})
    {
        return start<void>(routes::delete_token, options, {}, {}, std::forward<CompletionToken>(token), user_id);
    }
    /// The same with no `call_options`.
    template <detail::not_call_options CompletionToken = boost::asio::deferred_t>
    auto async_delete_token(std::string_view user_id, CompletionToken&& token = {})
    {
        return async_delete_token(user_id, call_options{}, std::forward<CompletionToken>(token));
    }

    /** `DELETE /api/v2/tokens/me`: `try_delete_tokens_me`, asynchronously.

        @param options Per-call settings (`call_options`), copied by this call.
        @param token The completion token, for the signature `void(result<api_response<void>>)`.
        @return What `token` makes of the operation: with the default, a deferred operation to
        `co_await` or to launch with a token later.
    */
    template <class CompletionToken = boost::asio::deferred_t>
    auto async_delete_tokens_me(const call_options& options, CompletionToken&& token = {})
    {
        return start<void>(routes::delete_tokens_me, options, {}, {}, std::forward<CompletionToken>(token));
    }
    /// The same with no `call_options`.
    template <detail::not_call_options CompletionToken = boost::asio::deferred_t>
    auto async_delete_tokens_me(CompletionToken&& token = {})
    {
        return async_delete_tokens_me(call_options{}, std::forward<CompletionToken>(token));
    }

    /** `async_get_tokens_me(std::nullopt, token)`.

        @param token The completion token, for the signature
        `void(result<api_response<token_info>>)`.
        @return What `token` makes of the operation: with the default, a deferred operation to
        `co_await` or to launch with a token later.
    */
    template <detail::not_call_options CompletionToken = boost::asio::deferred_t>
        requires(!std::is_convertible_v<CompletionToken, std::optional<bool>>)
    auto async_get_tokens_me(CompletionToken&& token = {})
    {
        return async_get_tokens_me(std::nullopt, call_options{}, std::forward<CompletionToken>(token));
    }

    /** `GET /api/v2/tokens/me[?preserveIdleTTL=true|false]`: `try_get_tokens_me`, asynchronously.

        @param preserve_idle_ttl As for `try_get_tokens_me`: a `bool`, `std::optional<bool>` or
        `std::nullopt`, nothing else that converts to `bool` (a string literal does not compile).
        @param options Per-call settings (`call_options`), copied by this call.
        @param token The completion token, for the signature
        `void(result<api_response<token_info>>)`.
        @return What `token` makes of the operation: with the default, a deferred operation to
        `co_await` or to launch with a token later.
    */
    template <class CompletionToken = boost::asio::deferred_t>
    auto async_get_tokens_me(std::optional<bool> preserve_idle_ttl, const call_options& options,
                             CompletionToken&& token = {})
    {
        return start<token_info>(routes::get_tokens_me, options, detail::get_tokens_me_query(preserve_idle_ttl), {},
                                 std::forward<CompletionToken>(token));
    }
    /// The same with no `call_options`.
    template <detail::not_call_options CompletionToken = boost::asio::deferred_t>
    auto async_get_tokens_me(std::optional<bool> preserve_idle_ttl, CompletionToken&& token = {})
    {
        return async_get_tokens_me(preserve_idle_ttl, call_options{}, std::forward<CompletionToken>(token));
    }

    /// Not callable: a first argument that only converts to `std::optional<bool>` (a string
    /// literal, an `int`), as for `tokens_api::get_tokens_me`.
    template <class T, class... Rest>
        requires(!detail::is_preserve_idle_ttl_argument<T> && std::is_convertible_v<T, std::optional<bool>>)
    void async_get_tokens_me(T&&, Rest&&...) = delete;

    /** `HEAD /api/v2/tokens/me`: `try_head_tokens_me`, asynchronously.

        @param options Per-call settings (`call_options`), copied by this call.
        @param token The completion token, for the signature `void(result<api_response<void>>)`.
        @return What `token` makes of the operation: with the default, a deferred operation to
        `co_await` or to launch with a token later.
    */
    template <class CompletionToken = boost::asio::deferred_t>
    auto async_head_tokens_me(const call_options& options, CompletionToken&& token = {})
    {
        return start<void>(routes::head_tokens_me, options, {}, {}, std::forward<CompletionToken>(token));
    }
    /// The same with no `call_options`.
    template <detail::not_call_options CompletionToken = boost::asio::deferred_t>
    auto async_head_tokens_me(CompletionToken&& token = {})
    {
        return async_head_tokens_me(call_options{}, std::forward<CompletionToken>(token));
    }

    /** `try_verify_token`, asynchronously: `data` is true on 2xx, false on the API's 401 to the
        `HEAD`.

        @param options Per-call settings (`call_options`), copied by this call.
        @param token The completion token, for the signature `void(result<api_response<bool>>)`.
        @return What `token` makes of the operation: with the default, a deferred operation to
        `co_await` or to launch with a token later.
    */
    template <class CompletionToken = boost::asio::deferred_t>
    auto async_verify_token(const call_options& options, CompletionToken&& token = {})
    {
        return start_with(routes::head_tokens_me, options, {}, {}, detail::finish_verify_call{shared_->core.limits()},
                          std::forward<CompletionToken>(token));
    }
    /// The same with no `call_options`.
    template <detail::not_call_options CompletionToken = boost::asio::deferred_t>
    auto async_verify_token(CompletionToken&& token = {})
    {
        return async_verify_token(call_options{}, std::forward<CompletionToken>(token));
    }

    /** `GET /api/v2/tokens/timeout`: `try_get_tokens_timeout`, asynchronously.

        @param options Per-call settings (`call_options`), copied by this call.
        @param token The completion token, for the signature
        `void(result<api_response<idle_token_timeout>>)`.
        @return What `token` makes of the operation: with the default, a deferred operation to
        `co_await` or to launch with a token later.
    */
    template <class CompletionToken = boost::asio::deferred_t>
    auto async_get_tokens_timeout(const call_options& options, CompletionToken&& token = {})
    {
        return start<idle_token_timeout>(routes::get_tokens_timeout, options, {}, {},
                                         std::forward<CompletionToken>(token));
    }
    /// The same with no `call_options`.
    template <detail::not_call_options CompletionToken = boost::asio::deferred_t>
    auto async_get_tokens_timeout(CompletionToken&& token = {})
    {
        return async_get_tokens_timeout(call_options{}, std::forward<CompletionToken>(token));
    }

    /** `PUT /api/v2/tokens/timeout`: `try_put_tokens_timeout`, asynchronously.

        @param settings As for `try_put_tokens_timeout`; encoded into the request by this call, so
        it need not outlive it.
        @param options Per-call settings (`call_options`), copied by this call.
        @param token The completion token, for the signature
        `void(result<api_response<idle_token_timeout>>)`.
        @return What `token` makes of the operation: with the default, a deferred operation to
        `co_await` or to launch with a token later.
    */
    template <class CompletionToken = boost::asio::deferred_t>
    auto async_put_tokens_timeout(const idle_token_timeout& settings, const call_options& options,
                                  CompletionToken&& token = {})
    {
        return start<idle_token_timeout>(routes::put_tokens_timeout, options, {},
                                         detail::put_tokens_timeout_body(settings),
                                         std::forward<CompletionToken>(token));
    }
    /// The same with no `call_options`.
    template <detail::not_call_options CompletionToken = boost::asio::deferred_t>
    auto async_put_tokens_timeout(const idle_token_timeout& settings, CompletionToken&& token = {})
    {
        return async_put_tokens_timeout(settings, call_options{}, std::forward<CompletionToken>(token));
    }

private:
    template <class Response, class Route, class CompletionToken, class... Params>
    auto start(const Route& route, const call_options& options, std::string_view query, std::string body,
               CompletionToken&& token, const Params&... params)
    {
        return start_with(route, options, query, std::move(body),
                          detail::finish_api_call<Response>{route.operation_id, shared_->core.limits()},
                          std::forward<CompletionToken>(token), params...);
    }

    /// Prepares the call's request now, at initiation: the arguments and `options` are copied
    /// into it, and nothing of them is read later.
    template <class Route, class Finish, class CompletionToken, class... Params>
    auto start_with(const Route& route, const call_options& options, std::string_view query, std::string body,
                    Finish finish, CompletionToken&& token, const Params&... params)
    {
        using state = detail::async_call_state<AsyncTransport, Finish>;
        using signature = void(decltype(finish(std::declval<detail::outcome<http_response>>(), {})));
        auto st = std::make_shared<state>(shared_, shared_->transport, std::move(finish));
        if (auto rejected = shared_->core.prepare(st->request, route, options, query, std::move(body), params...))
            st->rejected.emplace(std::move(*rejected));
        else
            st->settings = shared_->core.settings(route);
        return detail::start_async_call<signature>(std::move(st), std::forward<CompletionToken>(token));
    }

    std::shared_ptr<shared> shared_;
};


} // namespace genesys

#endif
