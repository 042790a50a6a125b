// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_TOKENS_API_HPP
#define GENESYS_TOKENS_API_HPP

/// @file
/// `tokens_api<Transport>`: the operations of the Tokens resource.

#include <genesys/call_options.hpp>
#include <genesys/client_config.hpp>
#include <genesys/detail/tokens_core.hpp>
#include <genesys/error.hpp>
#include <genesys/http.hpp>
#include <genesys/models/idle_token_timeout.hpp>
#include <genesys/models/token_info.hpp>
#include <genesys/result.hpp>
#include <genesys/transport.hpp>

#include <concepts>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

namespace genesys {

/** The Tokens resource of the Genesys Cloud Platform API, called through `Transport`.

    Each operation comes in two forms. `try_x` returns `result<api_response<T>>`: the data with the
    status, headers and correlation id, or the `genesys::error`. `x` returns the data and throws
    that error as the `genesys::exception` of its kind. The errors, by `error::kind`:

    - `invalid_argument` (`errc::invalid_argument`): a bad argument, reported before anything is
      sent (a bad `client_config` is thrown by the constructor);
    - `network`: the transport's own code; `errc::transport_exception` for a transport that threw
      something other than a `system_error`; `errc::deadline_exceeded` past
      `client_config::call_timeout`;
    - `api`: any non-2xx status, its code the status (`http_status_code(status)`), with the
      platform's `ErrorBody` when the body is one;
    - `decode`: a 2xx body that is not the operation's model (`errc::decode_failed`), or larger
      than `client_config::max_response_bytes` (`errc::response_too_large`); the raw body is kept.

    Every operation takes, last, an optional `call_options`: headers for that call alone, checked
    as `client_config::default_headers` are (a bad one is an `invalid_argument` error naming it,
    and nothing is sent), sent on each of its attempts and logged by the same allow-list.

    To act on an error, compare its code with a `genesys::condition`: `r.error().code ==
    genesys::condition::rate_limited` holds for a 429, `login_failed` for a token source's refused
    login, `network` for a failure of the transport.
    Failed attempts are retried as `client_config::retry` says (the six operations are
    idempotent). Through a token source, a 401 drops the token and the call is sent once more with
    a fresh one; a source that cannot give a token fails the call with its own error (its
    `operation` is `requestToken`). The token never appears in an error, an exception or a log
    event.

    @par Exception safety
    `try_x` throws only `std::bad_alloc`, and what a `retry_policy` function (`clock`, `sleep`,
    `random`) throws; `x` throws the error besides. Whatever a transport, a grant or a logger
    throws otherwise is caught and reported as above. A failed call leaves the client as it was.

    @par Thread safety
    Distinct objects: safe. Shared object: the operations may be called from many threads at once
    when `Transport::send` may be (the blocking adapters are one connection each and may not); the
    logger and the retry policy's functions are then called concurrently too. `transport()` gives
    the transport itself, unsynchronized. Copies share the checked configuration, which nothing
    changes; a moved-from client keeps it too (its transport is as moving left it). Assigning to
    a client while one of its calls runs is a data race.

    @par Example
    @code
    genesys::tokens_api api{my_transport{}, {.access_token = token}};
    if (api.verify_token())
        std::cout << api.get_tokens_me().organization->name.value_or("?") << '\n';
    @endcode

    The asynchronous form of every operation is `async_tokens_api` (<genesys/async.hpp>).
*/
template <transport Transport>
class tokens_api {
public:
    /// The transport type the client sends through.
    using transport_type = Transport;

    /** Makes a client.

        @param transport What sends the requests; moved into the client.
        @param config Where and as whom to call.
        @throws invalid_argument_error for a bad `config`: the error `check(config)` returns.
    */
    tokens_api(Transport transport, client_config config)
        : transport_(std::move(transport)), core_(std::move(config))
    {
    }

    /// The transport the client sends through.
    /// @{
    Transport& transport() noexcept { return transport_; }
    const Transport& transport() const noexcept { return transport_; }
    /// @}

    /// The configuration the client was made with.
    const client_config& config() const noexcept { return core_.config(); }

    /** `DELETE /api/v2/tokens/{userId}` (`deleteToken`): deletes all the tokens of a user.

        Requires the `oauth:token:delete` permission.

        @param user_id The user's id, sent percent-encoded as one path segment. An empty id, `.`,
        `..`, an id over 1024 bytes, or `me` (which would address `deleteTokensMe`) is an
        `invalid_argument` error, before sending.
        @param options This call's own settings (`call_options`): its extra headers.
        @{
    */
    [[nodiscard]] result<api_response<void>> try_delete_token(std::string_view user_id,
                                                             const call_options& options = {})
    {
        return core_.try_delete_token(user_id, send(), options);
    }
    void delete_token(std::string_view user_id, const call_options& options = {})
    {
        core_.delete_token(user_id, send(), options);
    }
    /// @}

    /** `DELETE /api/v2/tokens/me` (`deleteTokensMe`): deletes the token the request carries.

        With a fixed `client_config::access_token`, every later call of the client is then
        answered 401. Through a token source, success also drops that token from the source (the
        next call gets a new one); a 401 drops it too, and is not retried with a fresh token
        (which this call would only delete).
        @param options This call's own settings (`call_options`): its extra headers.
        @{
    */
    [[nodiscard]] result<api_response<void>> try_delete_tokens_me(const call_options& options = {})
    {
        return core_.try_delete_tokens_me(send(), options);
    }
    void delete_tokens_me(const call_options& options = {}) { core_.delete_tokens_me(send(), options); }
    /// @}

    /** `GET /api/v2/tokens/me` (`getTokensMe`): what the platform knows of the current token.

        @param preserve_idle_ttl `true` keeps the token's idle timer as it is; unset or `false`
        resets it. Sent as `?preserveIdleTTL=true|false`, omitted when unset. Only a `bool`,
        `std::optional<bool>` or `std::nullopt` is accepted: `get_tokens_me("false")` does not
        compile (a string would convert to `true`).
        @param options This call's own settings (`call_options`): its extra headers.
        @return The `TokenInfo`; a body that is not one is a `decode` error keeping the raw body.
        @{
    */
    [[nodiscard]] result<api_response<token_info>> try_get_tokens_me(std::optional<bool> preserve_idle_ttl = {},
                                                                    const call_options& options = {})
    {
        return core_.try_get_tokens_me(preserve_idle_ttl, send(), options);
    }
    token_info get_tokens_me(std::optional<bool> preserve_idle_ttl = {}, const call_options& options = {})
    {
        return core_.get_tokens_me(preserve_idle_ttl, send(), options);
    }
    /// @}

    /// Not callable: anything but a `bool`, `std::optional<bool>` or `std::nullopt`, with or
    /// without options (`get_tokens_me(options)` neither: write `get_tokens_me(std::nullopt, options)`).
    /// @{
    template <class T>
        requires(!detail::is_preserve_idle_ttl_argument<T>)
    void try_get_tokens_me(T&&, const call_options& = {}) = delete;
    template <class T>
        requires(!detail::is_preserve_idle_ttl_argument<T>)
    void get_tokens_me(T&&, const call_options& = {}) = delete;
    /// @}

    /** `HEAD /api/v2/tokens/me` (`headTokensMe`): succeeds when the token is valid; a 401 is an
        `api` error.
        @param options This call's own settings (`call_options`): its extra headers.
        @{
    */
    [[nodiscard]] result<api_response<void>> try_head_tokens_me(const call_options& options = {})
    {
        return core_.try_head_tokens_me(send(), options);
    }
    void head_tokens_me(const call_options& options = {}) { core_.head_tokens_me(send(), options); }
    /// @}

    /** Whether the token is valid, by `HEAD /api/v2/tokens/me`.

        @return `true` on any 2xx, `false` when the API answers that request 401 (through a token
        source: 401 again with a fresh token); `try_verify_token` also gives that response's
        status and headers. Any other failure is an error, a refused login of the token source
        included (that says nothing about a token: none was sent).
        @param options This call's own settings (`call_options`): its extra headers.
        @{
    */
    [[nodiscard]] result<api_response<bool>> try_verify_token(const call_options& options = {})
    {
        return core_.try_verify_token(send(), options);
    }
    bool verify_token(const call_options& options = {}) { return core_.verify_token(send(), options); }
    /// @}

    /** `GET /api/v2/tokens/timeout` (`getTokensTimeout`): the organization's idle-token timeout.

        @param options This call's own settings (`call_options`): its extra headers.
        @return The `IdleTokenTimeout` settings.
        @{
    */
    [[nodiscard]] result<api_response<idle_token_timeout>> try_get_tokens_timeout(const call_options& options = {})
    {
        return core_.try_get_tokens_timeout(send(), options);
    }
    idle_token_timeout get_tokens_timeout(const call_options& options = {})
    {
        return core_.get_tokens_timeout(send(), options);
    }
    /// @}

    /** `PUT /api/v2/tokens/timeout` (`putTokensTimeout`): updates the idle-token timeout.

        Requires the `directory:organization:admin` permission.

        @param settings Sent as the model's JSON, absent fields omitted. An
        `idle_token_timeout_seconds` below `min_idle_token_timeout_seconds` (300, the API
        definition's minimum) is an `invalid_argument` error, and nothing is sent; the maximum
        depends on the organization (8 hours, 15 minutes under HIPAA), so the platform checks it.
        @param options This call's own settings (`call_options`): its extra headers.
        @return The settings as the platform stored them.
        @{
    */
    [[nodiscard]] result<api_response<idle_token_timeout>> try_put_tokens_timeout(const idle_token_timeout& settings,
                                                                                 const call_options& options = {})
    {
        return core_.try_put_tokens_timeout(settings, send(), options);
    }
    idle_token_timeout put_tokens_timeout(const idle_token_timeout& settings, const call_options& options = {})
    {
        return core_.put_tokens_timeout(settings, send(), options);
    }
    /// @}

private:
    detail::send_ref send() noexcept { return detail::send_ref(transport_); }

    Transport transport_;
    detail::tokens_core core_;
};

} // namespace genesys

#endif
