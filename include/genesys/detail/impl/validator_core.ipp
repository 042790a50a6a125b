// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DETAIL_IMPL_VALIDATOR_CORE_IPP
#define GENESYS_DETAIL_IMPL_VALIDATOR_CORE_IPP

#include <genesys/detail/call_machine.hpp>
#include <genesys/detail/client_core.hpp>
#include <genesys/detail/config_check.hpp>
#include <genesys/detail/failure.hpp>
#include <genesys/detail/outcome.hpp>
#include <genesys/detail/validator_core.hpp>
#include <genesys/error_code.hpp>
#include <genesys/routes.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace genesys::detail {

GENESYS_DECL std::optional<error> unsendable_token(std::string_view token)
{
    if (auto why = validator_cache::token_problem(token); !why.empty())
        return invalid_argument(validate_operation, why, token);
    return std::nullopt;
}

GENESYS_DECL client_config to_client_config(const token_validator_config& config)
{
    client_config c;
    c.base_url = config.base_url;
    c.user_agent = config.user_agent;
    c.default_headers = config.default_headers;
    c.retry = config.retry;
    c.logger = config.logger;
    c.logged_headers = config.logged_headers;
    c.max_response_bytes = config.max_response_bytes;
    c.max_json_depth = config.max_json_depth;
    c.call_timeout = config.call_timeout;
    c.allow_insecure_http = config.allow_insecure_http;
    return c;
}

GENESYS_DECL std::string validator_options_problem(const token_validator_options& options)
{
    // A day bounds every duration: longer is a mistake (a revoked token trusted for days), and a
    // time point that far off cannot overflow.
    constexpr std::chrono::hours day(24);
    auto out_of_range = [&](std::chrono::seconds d) { return d.count() < 0 || d > day; };
    if (out_of_range(options.max_age))
        return "max_age must be from 0 to 24 hours";
    if (out_of_range(options.negative_ttl))
        return "negative_ttl must be from 0 to 24 hours";
    if (out_of_range(options.stale_if_error))
        return "stale_if_error must be from 0 to 24 hours";
    if (out_of_range(options.rate_limit_ttl_max))
        return "rate_limit_ttl_max must be from 0 to 24 hours";
    if (options.refresh_ahead.count() < 0 ||
        (options.refresh_ahead.count() > 0 && options.refresh_ahead >= options.max_age))
        return "refresh_ahead must be 0 (off) or from 0 to less than max_age";
    if (options.wait_timeout > day)
        return "wait_timeout must be at most 24 hours (zero or less: the default)";
    if (options.organization_id && options.organization_id->empty())
        return "organization_id is set but empty: no token would match it";
    if (options.home_organization_id && options.home_organization_id->empty())
        return "home_organization_id is set but empty: no token would match it";
    for (const auto& scope : options.required_scopes)
        if (scope.empty())
            return "required_scopes holds an empty scope: no token would match it";
    for (const auto& id : options.allowed_client_ids)
        if (id.empty())
            return "allowed_client_ids holds an empty id: no token would match it";
    return {};
}

GENESYS_DECL std::optional<error> validator_config_error(const token_validator_config& config,
                                                         const token_validator_options& options)
{
    std::string normalized;
    if (auto why = config_problem(to_client_config(config), normalized, true); !why.empty())
        return config_error("token_validator_config", why);
    if (auto why = validator_options_problem(options); !why.empty())
        return config_error("token_validator_options", why);
    return std::nullopt;
}

GENESYS_DECL std::optional<error> prepare_check(const client_core& core, const token_validator_options& options,
                                                http_request& req, call_settings& settings, std::string_view token)
{
    const auto& route = routes::get_tokens_me;
    if (auto rejected = core.prepare(req, route, get_tokens_me_query(options.preserve_idle_ttl), {}))
        return rejected;
    settings = core.settings(route);
    client_core::use_token(req, settings, token);
    return std::nullopt;
}

GENESYS_DECL validator_core::validator_core(const token_validator_config& config, token_validator_options options)
    // Checked first, so that a bad configuration throws before anything is made.
    : client_((throw_if_bad(config, options), std::make_unique<const client_core>(to_client_config(config),
                                                                                 client_core::token_per_call_t{}))),
      cache_(std::move(options))
{
    if (auto* sc = cache_.shared()) {
        listener_ = std::make_shared<validator_listener>(cache_);
        sc->add_listener(listener_);
    }
}

GENESYS_DECL void validator_listener::on_revoked(const shared_token_key& key) noexcept
{
    std::lock_guard lock(mutex_);
    if (cache_) {
        try {
            cache_->forget_shared(key);
        } catch (...) { // out of memory: nothing better to do than forgetting everything
            cache_->clear();
        }
    }
}

GENESYS_DECL void validator_listener::on_revocations_missed() noexcept
{
    std::lock_guard lock(mutex_);
    if (cache_)
        cache_->clear();
}

GENESYS_DECL void validator_listener::detach() noexcept
{
    std::lock_guard lock(mutex_);
    cache_ = nullptr;
}

GENESYS_DECL shared_token_key validator_core::shared_key_of(std::string_view token) const
{
    return cache_.shared()->key_of(client_->base_url(), cache_.options().preserve_idle_ttl, token);
}

GENESYS_DECL std::optional<shared_token_key> validator_core::name_in_fleet(validator_flight& flight,
                                                                           std::string_view token) noexcept
{
    try {
        const shared_token_key sk = shared_key_of(token);
        cache_.set_shared_key(flight, sk);
        return sk;
    } catch (...) {
        return std::nullopt;
    }
}

GENESYS_DECL void validator_core::forget(std::string_view token)
{
    cache_.forget(cache_.key_of(token));
    if (auto* sc = cache_.shared())
        sc->revoke(shared_key_of(token));
}

GENESYS_DECL void validator_core::throw_if_bad(const token_validator_config& config,
                                               const token_validator_options& options)
{
    if (auto problem = validator_config_error(config, options))
        throw invalid_argument_error(std::move(*problem));
}

GENESYS_DECL validator_core::~validator_core()
{
    if (listener_) // the shared cache may be calling it now, on its own thread
        listener_->detach();
}

GENESYS_DECL std::optional<error> validator_core::refusal(std::string_view token)
{
    auto rejected = unsendable_token(token);
    if (rejected)
        cache_.count_refused();
    return rejected;
}

GENESYS_DECL std::chrono::milliseconds validator_core::join_timeout() const noexcept
{
    if (cache_.options().wait_timeout.count() > 0)
        return cache_.options().wait_timeout;
    if (client_->config().call_timeout.count() > 0)
        return client_->config().call_timeout;
    return std::chrono::seconds(30);
}

GENESYS_DECL result<validated_token> validator_core::validate(std::string_view token, send_ref send)
{
    if (auto rejected = refusal(token))
        return std::move(*rejected);
    const hash128 key = cache_.key_of(token);
    if (auto hit = cache_.plain_hit(key)) // the common case, without `begin`'s lookup object
        return validated_token(std::move(hit), false);
    auto found = cache_.begin(key);
    if (found.refresh) {
        // refresh_ahead: this caller re-checks (its room taken); the others keep hitting. A
        // failure other than a 401 leaves the cached answer, still trusted, as the answer.
        check_room room(cache_.limiter());
        if (cache_.shared()) // no lookup (the fleet's answer is as old as this one): the new one is shared
            (void)name_in_fleet(*found.flight, token);
        auto r = check(token, send, key, found.flight);
        const bool answered = r ? !r->stale() : r.error().kind == error_kind::api && r.error().status == 401;
        return answered ? cache_.apply_policy(std::move(r)) : std::move(*found.answer);
    }
    if (found.answer)
        return std::move(*found.answer);
    if (!found.leader) // bounded: an asynchronous leader's io_context may not be running
        return cache_.wait(*found.flight, join_timeout());
    // Room under max_concurrent_checks; without it in time, this check and its waiters fail
    // (or get a stale entry) with nothing sent.
    const auto room_wait = join_timeout();
    if (!cache_.limiter().acquire(room_wait))
        return cache_.apply_policy(cache_.finish(key, found.flight, cache_.overloaded_error(room_wait)));
    check_room room(cache_.limiter()); // given back once the answer is in the cache
    if (cache_.shared())
        if (auto fleet = ask_fleet(token, key, found.flight))
            return cache_.apply_policy(std::move(*fleet));
    return cache_.apply_policy(check(token, send, key, found.flight));
}

GENESYS_DECL std::optional<result<validated_token>> validator_core::ask_fleet(std::string_view token, const hash128& key,
                                                                              const std::shared_ptr<validator_flight>& flight)
{
    // The lookup's answer, which may come after this validation stopped waiting: then the
    // fleet's lock it took (if any) goes straight back.
    struct pending {
        std::mutex mutex;
        std::condition_variable cv;
        std::optional<shared_lookup> found;
        bool abandoned = false;
    };
    const auto named = name_in_fleet(*flight, token);
    if (!named)
        return std::nullopt;
    const shared_token_key sk = *named;
    try {
        auto p = std::make_shared<pending>();
        std::weak_ptr<shared_token_cache> weak_cache = cache_.options().shared_cache;
        cache_.shared()->async_lookup(sk, [p, weak_cache, sk](shared_lookup&& found) {
            std::unique_lock lock(p->mutex);
            if (p->abandoned) {
                lock.unlock();
                if (!found.lock.empty())
                    if (auto sc = weak_cache.lock())
                        sc->release(sk, std::move(found.lock));
                return;
            }
            p->found = std::move(found);
            lock.unlock();
            p->cv.notify_all();
        });
        std::unique_lock lock(p->mutex);
        // (bounded as `validator_cache::wait` is: a bound too long for a deadline is no bound)
        const auto bound = std::min<std::chrono::milliseconds>(join_timeout(), std::chrono::hours(24 * 365 * 50));
        if (!p->cv.wait_for(lock, bound, [&] { return p->found.has_value(); })) {
            p->abandoned = true; // checked without the fleet
            return std::nullopt;
        }
        shared_lookup found = std::move(*p->found);
        lock.unlock();
        return cache_.settle_lookup(key, flight, sk, std::move(found));
    } catch (...) { // (out of memory): the check goes on without the fleet
    }
    return std::nullopt;
}

GENESYS_DECL result<validated_token> validator_core::check(std::string_view token, send_ref send, const hash128& key,
                                                           const std::shared_ptr<validator_flight>& flight)
{
    std::optional<result<api_response<token_info>>> fetched;
    std::chrono::nanoseconds took{0};
    try {
        fetched.emplace(fetch(token, send, took));
    } catch (...) { // e.g. out of memory: the callers waiting for this check must not wait forever
        (void)cache_.finish(key, flight,
                            network_failure(routes::get_tokens_me.operation_id,
                                            make_error_code(errc::transport_exception),
                                            "an exception ended the check", token));
        throw;
    }
    return cache_.finish(key, flight, std::move(*fetched), took);
}

GENESYS_DECL result<api_response<token_info>> validator_core::fetch(std::string_view token, send_ref send,
                                                                    std::chrono::nanoseconds& took)
{
    http_request req;
    call_settings settings;
    if (auto rejected = prepare_check(*client_, cache_.options(), req, settings, token))
        return std::move(*rejected);
    struct wipe_on_exit { // the token lives only as long as this check
        http_request& req;
        ~wipe_on_exit() { client_core::wipe_token(req); }
    } wipe{req};
    call_machine machine(settings, req);
    std::lock_guard lock(send_mutex_);
    const auto started = std::chrono::steady_clock::now();
    auto sent = run_blocking(machine, client_->config().retry, send);
    took = std::chrono::steady_clock::now() - started;
    return to_api_response<token_info>(routes::get_tokens_me.operation_id, std::move(sent), machine.secret(),
                                       client_->limits())
        .to_result();
}

} // namespace genesys::detail

#endif
