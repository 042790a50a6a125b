// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DETAIL_IMPL_OAUTH_CORE_IPP
#define GENESYS_DETAIL_IMPL_OAUTH_CORE_IPP

#include <genesys/detail/ascii.hpp>
#include <genesys/detail/base64.hpp>
#include <genesys/detail/call_machine.hpp>
#include <genesys/detail/config_check.hpp>
#include <genesys/detail/failure.hpp>
#include <genesys/detail/oauth_core.hpp>
#include <genesys/detail/percent_encode.hpp>
#include <genesys/detail/retry_decision.hpp>
#include <genesys/pkce.hpp>

#include <string>
#include <utility>

namespace genesys::detail {

GENESYS_DECL oauth_core::oauth_core(oauth_config config) : config_(std::move(config))
{
    if (auto why = oauth_config_problem(config_, login_base_); !why.empty())
        throw_error(config_error("oauth_config", why));
}

GENESYS_DECL error oauth_core::reject(std::string_view why) const
{
    return invalid_argument(op, why, config_.client_secret);
}

GENESYS_DECL outcome<token_request> oauth_core::client_credentials_request() const
{
    std::string form;
    append_form_field(form, "grant_type", "client_credentials");
    return prepare(std::move(form), {}, true);
}

GENESYS_DECL outcome<token_request> oauth_core::refresh_token_request(std::string_view refresh_token) const
{
    if (refresh_token.empty())
        return reject("refresh_token is empty");
    std::string form;
    append_form_field(form, "grant_type", "refresh_token");
    append_form_field(form, "refresh_token", refresh_token);
    return prepare(std::move(form), {refresh_token}, false);
}

GENESYS_DECL outcome<token_request> oauth_core::authorization_code_request(std::string_view code,
                                                                         std::string_view redirect_uri,
                                                                         std::string_view code_verifier) const
{
    if (code.empty())
        return reject("code is empty");
    if (redirect_uri.empty())
        return reject("redirect_uri is empty");
    if (!code_verifier.empty()) {
        if (auto why = code_verifier_problem(code_verifier); !why.empty())
            return reject(why);
    } else if (config_.client_secret.empty()) {
        return reject("without a code_verifier (PKCE) the authorization-code grant needs client_secret");
    }
    std::string form;
    append_form_field(form, "grant_type", "authorization_code");
    append_form_field(form, "code", code);
    append_form_field(form, "redirect_uri", redirect_uri);
    if (!code_verifier.empty())
        append_form_field(form, "code_verifier", code_verifier);
    return prepare(std::move(form), {code, code_verifier}, false);
}

GENESYS_DECL outcome<token_request> oauth_core::saml2_bearer_request(std::string_view org_name,
                                                                   std::string_view assertion) const
{
    if (org_name.empty())
        return reject("org_name is empty");
    if (assertion.empty())
        return reject("assertion is empty");
    if (!is_base64_text(assertion))
        return reject("assertion must be base64-encoded (genesys::base64_encode encodes a SAML assertion)");
    std::string form;
    append_form_field(form, "grant_type", saml2_bearer_grant_type);
    append_form_field(form, "orgName", org_name);
    append_form_field(form, "assertion", assertion);
    return prepare(std::move(form), {assertion}, true);
}

GENESYS_DECL outcome<token_request> oauth_core::prepare(std::string form,
                                                       std::initializer_list<std::string_view> grant_secrets,
                                                       bool secret_required) const
{
    oauth_secrets hidden;
    hidden.add(config_.client_secret);
    for (auto s : grant_secrets)
        hidden.add(s);

    // The configuration was checked when the client was made (the constructor threw otherwise).
    if (secret_required && config_.client_secret.empty())
        return hidden.scrub(invalid_argument(op, "client_id and client_secret are required"));

    http_request req{http_method::post, login_base_ + "/oauth/token", {}, std::move(form)};
    req.headers.reserve(4);
    if (!config_.client_secret.empty()) {
        std::string basic = base64_encode(config_.client_id + ":" + config_.client_secret);
        hidden.add(basic);
        req.headers.add("Authorization", "Basic " + basic);
    } else {
        append_form_field(req.body, "client_id", config_.client_id);
    }
    req.headers.add("Content-Type", "application/x-www-form-urlencoded");
    req.headers.add("Accept", "application/json");
    req.headers.add("User-Agent", config_.user_agent);
    for (const auto& h : req.headers)
        if (!is_header_value(h.value))
            return hidden.scrub(invalid_argument(op, h.name + " would contain a control character"));

    return token_request{std::move(req),
                         oauth_rules(std::move(hidden), {config_.max_response_bytes, config_.max_json_depth})};
}

GENESYS_DECL call_settings oauth_core::settings(const token_request& prepared) const noexcept
{
    call_settings s;
    s.operation = op;
    s.rules = &prepared.rules;
    s.retry = &config_.retry;
    s.retry_allowed = config_.retry_token_requests && config_.retry.enabled();
    // A 429 was refused before it was processed: retried under the same policy, opt-in or not.
    s.retry_unprocessed = config_.retry.enabled();
    s.log = &config_.logger;
    s.logged_headers = &config_.logged_headers;
    return s;
}

GENESYS_DECL result<api_response<oauth_token>> oauth_core::run(outcome<token_request>&& prepared, send_ref send) const
{
    if (!prepared)
        return std::move(prepared.failure());
    const call_settings s = settings(*prepared);
    call_machine machine(s, prepared->request);
    auto sent = run_blocking(machine, config_.retry, send);
    return to_oauth_token(std::move(sent), prepared->rules);
}

} // namespace genesys::detail

#endif
