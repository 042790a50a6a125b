// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_TOKEN_VALIDATOR_HPP
#define GENESYS_TOKEN_VALIDATOR_HPP

/// @file
/// `token_validator`: is a bearer token a client sent this service live, and whose is it?
/// Cached, single-flight, bounded; `async_validate` is in <genesys/async_token_validator.hpp>.

#include <genesys/async_transport.hpp>
#include <genesys/detail/send_through.hpp>
#include <genesys/detail/validator_cache.hpp>
#include <genesys/detail/validator_core.hpp>
#include <genesys/error.hpp>
#include <genesys/models/token_info.hpp>
#include <genesys/result.hpp>
#include <genesys/token_validator_config.hpp>
#include <genesys/token_validator_metrics.hpp>
#include <genesys/token_validator_options.hpp>
#include <genesys/token_validator_stats.hpp>
#include <genesys/transport.hpp>
#include <genesys/validated_token.hpp>

#include <memory>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

namespace genesys {

namespace detail {

template <class Transport>
struct async_validate_impl; // <genesys/async_token_validator.hpp>

/// The default completion token of `async_validate`: `boost::asio::deferred_t` once
/// <genesys/async_token_validator.hpp> defined `async_validate_impl` (this header names no Asio
/// type), else a placeholder the `static_assert` of `async_validate` reports.
struct async_token_validator_header_not_included {};

template <class Impl, class = void>
struct async_validate_default_token {
    using type = async_token_validator_header_not_included;
    static constexpr bool defined = false;
};

template <class Impl>
struct async_validate_default_token<Impl, std::void_t<typename Impl::default_completion_token>> {
    using type = typename Impl::default_completion_token;
    static constexpr bool defined = true;
};

} // namespace detail

/** Checks a validator's configuration and options without throwing: what a `token_validator`
    made from them would throw.

    @param config Where and how checks are sent: a bad base URL, header, retry policy or a
    negative `call_timeout` is refused, as for `client_config`.
    @param options The cache and the policy: see `token_validator_options` for what is refused.
    @return Nothing when both are fine; else the `invalid_argument` error (code
    `errc::invalid_argument`, operation `"token_validator_config"` or `"token_validator_options"`)
    that constructing a validator from them throws as `invalid_argument_error`, its message naming
    the member at fault, e.g. `"invalid token_validator_options: max_age must be from 0 to 24
    hours"`.
*/
[[nodiscard]] inline std::optional<error> check(const token_validator_config& config,
                                                const token_validator_options& options = {})
{
    return detail::validator_config_error(config, options);
}

/** Decides whether bearer tokens that clients send a service are live, and for which
    organization, OAuth client and scopes, with `GET /api/v2/tokens/me` called as little as
    possible.

    - A valid token's answer is kept until the earlier of `max_age` and the token's own
      `dateTokenIdles`; a 401 is kept `negative_ttl`; a 429 until its `Retry-After` (at most
      `rate_limit_ttl_max`), answered meanwhile without an API call; no other failure is kept:
      the validator fails closed and says why (a network error, a 5xx, a 429).
    - At most `max_concurrent_checks` API calls at once (validations joining one take no room);
      beyond it a check waits at most `wait_timeout`, then fails with
      `errc::validator_overloaded`. `refresh_ahead` re-checks a token in use shortly before
      its trust ends, in one validation, while the others keep hitting.
    - Entries are keyed by a keyed hash (SipHash-2-4-128, a random key per process) of the
      token: the cache holds no token, and no token reaches a log or an error.
    - Concurrent validations of one token share one API call (single flight), blocking callers
      and asynchronous handlers alike.
    - At most `max_entries` entries in all, held in 16 shards that share the bound: a token is
      kept while there is room, whichever shard it falls in; once full, the fullest shard
      evicts by CLOCK (an approximation of least recently used whose hits only set a flag,
      under a shared lock).
    - The policy (`organization_id`, `home_organization_id`, `required_scopes`,
      `allowed_client_ids`) is applied on every validation, cached answers included (its
      verdict on an answer is worked out once, when the answer is stored); a valid token it
      refuses is `error_kind::policy` (answer it with 403, an invalid token with 401).
    - Optionally, a second level shared by the instances of a fleet
      (`token_validator_options::shared_cache`, <genesys/shared_token_cache.hpp>): a check this
      validator would make is first asked of it, so that one instance's API call answers all of
      them; what it answers is used under this validator's own lifetimes and policy. `forget`
      reaches every instance. A shared cache that fails or does not answer in time costs only
      the sharing: the validator checks with the API.

    The configuration (`token_validator_config`) gives the base URL, limits, retry policy and
    logger; it has no token (each check sends the token it checks). `Transport` is a blocking
    `genesys::transport` (`validate`) or a `genesys::async_transport` (`async_validate`, in
    <genesys/async_token_validator.hpp>).

    @par Thread safety
    Every member function but `transport()` may be called from any number of threads at once.
    Copies share one transport, cache and set of counters; a moved-from validator may only be
    destroyed or assigned to. With a blocking transport, the API calls of different tokens are
    made one at a time through the one transport (blocking transports are not thread-safe), the
    retry waits of a call included; a hit never waits for them. The asynchronous form does not
    serialize: its calls of different tokens are under way at once on the transport.

    @code
    genesys::token_validator_options o;
    o.organization_id = my_org_id;
    genesys::token_validator v{genesys::curl_transport{}, genesys::token_validator_config::for_region(region), o};
    auto r = v.validate(bearer);
    if (!r)
        return r.error().kind == genesys::error_kind::policy ? 403 : r.error().status == 401 ? 401 : 503;
    std::cout << r->info().organization->name.value_or("?") << '\n';
    @endcode
*/
template <class Transport>
class token_validator {
    struct shared {
        shared(Transport t, const token_validator_config& config, token_validator_options options)
            : transport(std::move(t)), core(config, std::move(options))
        {
        }
        Transport transport;
        detail::validator_core core;
    };

public:
    /// The transport type the validator sends through.
    using transport_type = Transport;

    /** Makes a validator.

        @param transport What the checks are sent through.
        @param config Where and how to check tokens: the region's base URL and the calls'
        settings (each check carries the token it checks).
        @param options The cache, its lifetimes and the policy.
        @throws invalid_argument_error when `config` or `options` is bad: the error
        `genesys::check(config, options)` returns. Nothing is sent.
    */
    token_validator(Transport transport, const token_validator_config& config, token_validator_options options = {})
        : shared_(std::make_shared<shared>(std::move(transport), config, std::move(options)))
    {
    }

    /** Checks `token`: from the cache when it is trusted there, else with `GET
        /api/v2/tokens/me` (`preserveIdleTTL` as the options say; one call however many threads
        ask at once).

        @param token the bearer token, without `Bearer `.
        @return the token's information, or the error: `error_kind::api` with status 401 for an
        invalid token; `error_kind::policy` (`errc::policy_mismatch`) for a valid token the
        policy refuses; `error_kind::invalid_argument` for a token that is empty, over 8192 bytes
        or holds a space or a control character (nothing is sent, counted in
        `stats().refused`); `network`, `api` (5xx, 429, ...) or `decode` when the API could not
        say (not cached, but a 429, remembered until its `Retry-After`; under `stale_if_error`,
        a network error, a 5xx or a 429 gives the expired answer instead, `stale()`);
        `network` with `errc::validator_overloaded` when `max_concurrent_checks` checks were in
        flight for `wait_timeout` (nothing sent); `network` with `errc::deadline_exceeded` when
        this call waited `token_validator_options::wait_timeout` for an API call another
        validation of the token started (an `async_validate` whose io_context does not run, say),
        which goes on.
        @throws std::bad_alloc when memory runs out (the validations waiting for this one's API
        call then get a `network` error).
    */
    [[nodiscard]] result<validated_token> validate(std::string_view token)
        requires genesys::transport<Transport>
    {
        return shared_->core.validate(token, detail::send_ref(shared_->transport));
    }

    /** `validate`, asynchronously: completes with `void(result<validated_token>)`, the same
        answers as `validate` (but a wait for another validation's API call is ended by
        cancellation, not by `wait_timeout`), on the handler's associated executor (else the
        transport's), never inline. Concurrent validations of one token share one API call with
        each other and with `validate`. Cancelling a validation (any type, through the handler's
        slot) ends it with `operation_aborted` (a `network` error); the API call goes on for the
        others. Defined in <genesys/async_token_validator.hpp>: calling it without that header is a
        `static_assert` naming it.

        @param token the bearer token, without `Bearer `; copied, each copy zeroed once used.
        @param completion the completion token (default `boost::asio::deferred`, as for
        `async_tokens_api`).
        @return what `completion` makes of the operation: nothing for a callback; with the
        default, a deferred operation to `co_await` or to launch with a token later.
    */
    template <class CompletionToken = typename detail::async_validate_default_token<
                  detail::async_validate_impl<Transport>>::type>
    auto async_validate(std::string_view token, CompletionToken&& completion = {})
        requires genesys::async_transport<Transport>
    {
        using impl = detail::async_validate_impl<Transport>;
        if constexpr (detail::async_validate_default_token<impl, std::void_t<CompletionToken>>::defined) {
            return impl::start(shared_, token, std::forward<CompletionToken>(completion));
        } else {
            static_assert(detail::async_validate_default_token<impl, std::void_t<CompletionToken>>::defined,
                          "token_validator::async_validate is defined in <genesys/async_token_validator.hpp>: "
                          "include <genesys/async_token_validator.hpp>");
        }
    }

    /// Forgets what is remembered of `token`. A check of it under way still answers the
    /// validations that wait for it, but its answer is not remembered, and a validation that
    /// starts now makes its own API call. With a shared cache (`options().shared_cache`), also
    /// revokes it there: the fleet's entry is deleted and every instance forgets it.
    void forget(std::string_view token) { shared_->core.forget(token); }

    /// Forgets every token; as `forget` for each check under way. (The shared cache, if any,
    /// keeps its entries.)
    void clear() { shared_->core.cache().clear(); }

    /// The counters, each read on its own (not one atomic snapshot).
    token_validator_stats stats() const { return shared_->core.cache().stats(); }

    /** The counters and the API calls' durations (by status), for `write_prometheus`. Takes a
        lock the API calls' ends take (never a validation's hit); each counter read on its own. */
    token_validator_metrics metrics() const { return shared_->core.cache().metrics(); }

    /// The options the validator was made with.
    const token_validator_options& options() const noexcept { return shared_->core.cache().options(); }

    /// The transport the validator sends through, shared with its copies; unsynchronized with
    /// the validations' sends.
    Transport& transport() noexcept { return shared_->transport; }

private:
    template <class>
    friend struct detail::async_validate_impl;

    std::shared_ptr<shared> shared_;
};

} // namespace genesys

#endif
