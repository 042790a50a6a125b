// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DETAIL_IMPL_TOKENS_CORE_IPP
#define GENESYS_DETAIL_IMPL_TOKENS_CORE_IPP

#include <genesys/detail/call_machine.hpp>
#include <genesys/detail/client_core.hpp>
#include <genesys/detail/outcome.hpp>
#include <genesys/detail/tokens_core.hpp>
#include <genesys/routes.hpp>

#include <utility>

namespace genesys::detail {

GENESYS_DECL tokens_core::tokens_core(client_config config)
    : core_(std::make_shared<const client_core>(std::move(config)))
{
}

GENESYS_DECL tokens_core::~tokens_core() = default;

GENESYS_DECL const client_config& tokens_core::config() const noexcept { return core_->config(); }

template <class Route, class... Params>
outcome<api_response<typename Route::response_type>> tokens_core::call(send_ref send, const call_options& options,
                                                                       const Route& route, std::string_view query,
                                                                       std::string body, const Params&... params)
{
    // A call with headers of its own builds its request anew: the slot's keeps the client's only.
    request_slot::lease lease(slot_, options.headers.empty());
    http_request& req = lease.request();
    if (auto rejected = core_->prepare(req, route, options, query, std::move(body), params...))
        return std::move(*rejected);
    const call_settings settings = core_->settings(route);
    call_machine machine(settings, req);
    auto sent = run_blocking(machine, core_->config().retry, send);
    return to_api_response<typename Route::response_type>(route.operation_id, std::move(sent), machine.secret(),
                                                          core_->limits());
}

GENESYS_DECL outcome<api_response<void>> tokens_core::call_delete_token(std::string_view user_id, send_ref send,
                                                                        const call_options& options)
{
    return call(send, options, routes::delete_token, {}, {}, user_id);
}

GENESYS_DECL outcome<api_response<void>> tokens_core::call_delete_tokens_me(send_ref send,
                                                                           const call_options& options)
{
    return call(send, options, routes::delete_tokens_me, {}, {});
}

GENESYS_DECL outcome<api_response<token_info>> tokens_core::call_get_tokens_me(std::optional<bool> preserve_idle_ttl,
                                                                          send_ref send,
                                                                          const call_options& options)
{
    return call(send, options, routes::get_tokens_me, get_tokens_me_query(preserve_idle_ttl), {});
}

GENESYS_DECL outcome<api_response<void>> tokens_core::call_head_tokens_me(send_ref send, const call_options& options)
{
    return call(send, options, routes::head_tokens_me, {}, {});
}

GENESYS_DECL outcome<api_response<bool>> tokens_core::call_verify_token(send_ref send, const call_options& options)
{
    return to_verdict(call_head_tokens_me(send, options));
}

GENESYS_DECL outcome<api_response<idle_token_timeout>> tokens_core::call_get_tokens_timeout(
    send_ref send, const call_options& options)
{
    return call(send, options, routes::get_tokens_timeout, {}, {});
}

GENESYS_DECL outcome<api_response<idle_token_timeout>>
tokens_core::call_put_tokens_timeout(const idle_token_timeout& settings, send_ref send, const call_options& options)
{
    return call(send, options, routes::put_tokens_timeout, {}, put_tokens_timeout_body(settings));
}

// The public forms: each converts the outcome once, by moving, or throws it.

GENESYS_DECL result<api_response<void>> tokens_core::try_delete_token(std::string_view user_id, send_ref send,
                                                                      const call_options& options)
{
    return call_delete_token(user_id, send, options).to_result();
}

GENESYS_DECL void tokens_core::delete_token(std::string_view user_id, send_ref send, const call_options& options)
{
    take(call_delete_token(user_id, send, options));
}

GENESYS_DECL result<api_response<void>> tokens_core::try_delete_tokens_me(send_ref send, const call_options& options)
{
    return call_delete_tokens_me(send, options).to_result();
}

GENESYS_DECL void tokens_core::delete_tokens_me(send_ref send, const call_options& options)
{
    take(call_delete_tokens_me(send, options));
}

GENESYS_DECL result<api_response<token_info>> tokens_core::try_get_tokens_me(std::optional<bool> preserve_idle_ttl,
                                                                             send_ref send,
                                                                             const call_options& options)
{
    return call_get_tokens_me(preserve_idle_ttl, send, options).to_result();
}

GENESYS_DECL token_info tokens_core::get_tokens_me(std::optional<bool> preserve_idle_ttl, send_ref send,
                                                   const call_options& options)
{
    return std::move(take(call_get_tokens_me(preserve_idle_ttl, send, options)).data);
}

GENESYS_DECL result<api_response<void>> tokens_core::try_head_tokens_me(send_ref send, const call_options& options)
{
    return call_head_tokens_me(send, options).to_result();
}

GENESYS_DECL void tokens_core::head_tokens_me(send_ref send, const call_options& options)
{
    take(call_head_tokens_me(send, options));
}

GENESYS_DECL result<api_response<bool>> tokens_core::try_verify_token(send_ref send, const call_options& options)
{
    return call_verify_token(send, options).to_result();
}

GENESYS_DECL bool tokens_core::verify_token(send_ref send, const call_options& options)
{
    return take(call_verify_token(send, options)).data;
}

GENESYS_DECL result<api_response<idle_token_timeout>> tokens_core::try_get_tokens_timeout(send_ref send,
                                                                                          const call_options& options)
{
    return call_get_tokens_timeout(send, options).to_result();
}

GENESYS_DECL idle_token_timeout tokens_core::get_tokens_timeout(send_ref send, const call_options& options)
{
    return std::move(take(call_get_tokens_timeout(send, options)).data);
}

GENESYS_DECL result<api_response<idle_token_timeout>>
tokens_core::try_put_tokens_timeout(const idle_token_timeout& settings, send_ref send, const call_options& options)
{
    return call_put_tokens_timeout(settings, send, options).to_result();
}

GENESYS_DECL idle_token_timeout tokens_core::put_tokens_timeout(const idle_token_timeout& settings, send_ref send,
                                                                const call_options& options)
{
    return std::move(take(call_put_tokens_timeout(settings, send, options)).data);
}

} // namespace genesys::detail

#endif
