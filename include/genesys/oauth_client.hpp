#ifndef GENESYS_OAUTH_CLIENT_HPP
#define GENESYS_OAUTH_CLIENT_HPP

/// @file
/// `oauth_client<Transport>`: the OAuth grants of the login host, over any transport.

#include <genesys/async_transport.hpp>
#include <genesys/detail/ascii.hpp>
#include <genesys/detail/base64.hpp>
#include <genesys/detail/call_machine.hpp>
#include <genesys/detail/config.hpp>
#include <genesys/detail/config_check.hpp>
#include <genesys/detail/failure.hpp>
#include <genesys/detail/log_attempt.hpp>
#include <genesys/detail/oauth_rules.hpp>
#include <genesys/detail/outcome.hpp>
#include <genesys/detail/percent_encode.hpp>
#include <genesys/detail/retry_decision.hpp>
#include <genesys/detail/send_through.hpp>
#include <genesys/error.hpp>
#include <genesys/http.hpp>
#include <genesys/models/oauth_error_body.hpp>
#include <genesys/models/oauth_token.hpp>
#include <genesys/oauth_config.hpp>
#include <genesys/pkce.hpp>
#include <genesys/result.hpp>
#include <genesys/retry.hpp>
#include <genesys/token_source.hpp>
#include <genesys/transport.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace genesys {

/** The OAuth error of a failed token request: the login host's `error`, `description` and
    `error_description`, or `std::nullopt` when `e` is not one (another operation, a network
    failure, a body that is not an OAuth error). Secrets in the body read `[REDACTED]`.

    The same error is also in `e.body`: `code` is the OAuth `error`, `message` its description.
    The `exception` overload reads `ex.info()`.
    @{
*/
GENESYS_DECL std::optional<oauth_error_body> oauth_error_of(const error& e);
GENESYS_DECL std::optional<oauth_error_body> oauth_error_of(const exception& ex);
/// @}

/** An OAuth client of the login host, over any `genesys::transport`.

    Every grant is `POST <login_url>/oauth/token` with `Content-Type:
    application/x-www-form-urlencoded`, every form value percent-encoded, and the client
    authenticated with `Authorization: Basic base64(client_id:client_secret)` (or, for a public
    client without a secret, `client_id` in the form). Each has a `try_` form returning
    `result<api_response<oauth_token>>`, a throwing form returning the `oauth_token`, and, over
    an asynchronous transport (include `<genesys/async.hpp>`), an `async_` form that takes a
    completion token last, completes with `void(result<api_response<oauth_token>>)` and needs the
    client to outlive it. A token request is never retried unless
    `oauth_config::retry_token_requests` is set.

    The errors (all with operation `requestToken`), by kind:
    - `invalid_argument`, before sending: a bad `login_url`, an empty `client_id` or one with a
      `:`, a missing `client_secret` where the grant needs one, a header value with a control
      character, a bad `retry` policy (when used), or a bad argument of the grant;
    - `network`: the transport's code (`errc::transport_exception` for one that threw);
    - `api`: a non-2xx answer, whose `body()` carries the OAuth `error` as `code` and its
      `error_description` (else `description`) as `message`; `oauth_error_of(e)` gives the OAuth
      body itself;
    - `decode`: a 2xx body that is not a token response or has no `access_token`
      (`errc::decode_failed`), or is over `max_response_bytes` (`errc::response_too_large`); the
      body, which may hold a token, is not kept.

    The secret, the Basic credential, refresh tokens, codes, verifiers and assertions never
    appear in an error or a log event. The throwing forms throw the error as the
    `genesys::exception` of its kind; every form may throw `std::bad_alloc`.

    @par Thread safety
    Distinct objects: safe. Shared object: the grants may be called concurrently only when
    `Transport` may send concurrently (a blocking adapter may not); a `token_source` never calls
    its grant concurrently with itself.

    @code
    genesys::oauth_client login{transport, genesys::oauth_config::for_region(genesys::region::eu_west_1, id, secret)};
    genesys::oauth_token token = login.client_credentials();
    @endcode
*/
template <class Transport>
    requires transport<Transport> || async_transport<Transport>
class oauth_client {
public:
    /// Makes a client. A bad `config` is not thrown here: every grant then returns or throws it.
    oauth_client(Transport transport, oauth_config config)
        : transport_(std::move(transport)), config_(std::move(config))
    {
    }

    /// The transport the client sends through.
    Transport& transport() noexcept { return transport_; }
    /// The configuration the client was made with.
    const oauth_config& config() const noexcept { return config_; }

    /** The client-credentials grant: `grant_type=client_credentials`. Needs `client_secret`.
        @{ */
    [[nodiscard]] result<api_response<oauth_token>> try_client_credentials() { return run(client_credentials_request()); }
    oauth_token client_credentials() { return take(try_client_credentials()); }
    template <class CompletionToken>
    auto async_client_credentials(CompletionToken&& token)
    {
        return async_run(client_credentials_request(), std::forward<CompletionToken>(token));
    }
    /// @}

    /** The refresh-token grant: `grant_type=refresh_token&refresh_token=...`, with the refresh
        token of an earlier grant (empty: `invalid_argument`). Works for a public client too.
        @{ */
    [[nodiscard]] result<api_response<oauth_token>> try_refresh_token(std::string_view refresh_token)
    {
        return run(refresh_token_request(refresh_token));
    }
    oauth_token refresh_token(std::string_view refresh_token) { return take(try_refresh_token(refresh_token)); }
    template <class CompletionToken>
    auto async_refresh_token(std::string_view refresh_token, CompletionToken&& token)
    {
        return async_run(refresh_token_request(refresh_token), std::forward<CompletionToken>(token));
    }
    /// @}

    /** The authorization-code grant: `grant_type=authorization_code&code=...&redirect_uri=...`,
        with `&code_verifier=...` for PKCE (a verifier from `make_code_verifier`, whose
        `code_challenge_s256` went into the authorize URL). Without a verifier the client must
        have a secret. An empty `code` or `redirect_uri`, or a verifier that is not 43 to 128
        unreserved characters (RFC 7636), is `invalid_argument`.
        @{ */
    [[nodiscard]] result<api_response<oauth_token>> try_authorization_code(std::string_view code,
                                                                           std::string_view redirect_uri,
                                                                           std::string_view code_verifier = {})
    {
        return run(authorization_code_request(code, redirect_uri, code_verifier));
    }
    oauth_token authorization_code(std::string_view code, std::string_view redirect_uri,
                                   std::string_view code_verifier = {})
    {
        return take(try_authorization_code(code, redirect_uri, code_verifier));
    }
    template <class CompletionToken>
    auto async_authorization_code(std::string_view code, std::string_view redirect_uri, std::string_view code_verifier,
                                  CompletionToken&& token)
    {
        return async_run(authorization_code_request(code, redirect_uri, code_verifier),
                         std::forward<CompletionToken>(token));
    }
    /// @}

    /** The SAML2 bearer grant: `grant_type=urn:ietf:params:oauth:grant-type:saml2-bearer`,
        `orgName` and `assertion`. As in the official SDKs, `assertion` is the SAML assertion
        already base64-encoded (`genesys::base64_encode(xml)` encodes one); anything outside the
        base64 alphabets is rejected before sending, as is an empty `org_name` or `assertion`.
        Needs `client_secret`.
        @{ */
    [[nodiscard]] result<api_response<oauth_token>> try_saml2_bearer(std::string_view org_name, std::string_view assertion)
    {
        return run(saml2_bearer_request(org_name, assertion));
    }
    oauth_token saml2_bearer(std::string_view org_name, std::string_view assertion)
    {
        return take(try_saml2_bearer(org_name, assertion));
    }
    template <class CompletionToken>
    auto async_saml2_bearer(std::string_view org_name, std::string_view assertion, CompletionToken&& token)
    {
        return async_run(saml2_bearer_request(org_name, assertion), std::forward<CompletionToken>(token));
    }
    /// @}

    /// The `grant_type` of the SAML2 bearer grant (RFC 7522).
    static constexpr std::string_view saml2_bearer_grant_type = "urn:ietf:params:oauth:grant-type:saml2-bearer";

private:
    static constexpr std::string_view op = detail::request_token_operation;

    static oauth_token take(result<api_response<oauth_token>> r) { return std::move(r.value().data); }

    error reject(std::string_view why) const { return detail::invalid_argument(op, why, config_.client_secret); }

    using prepared_request = detail::outcome<detail::token_request>;

    prepared_request client_credentials_request() const
    {
        std::string form;
        detail::append_form_field(form, "grant_type", "client_credentials");
        return prepare(std::move(form), {}, true);
    }

    prepared_request refresh_token_request(std::string_view refresh_token) const
    {
        if (refresh_token.empty())
            return reject("refresh_token is empty");
        std::string form;
        detail::append_form_field(form, "grant_type", "refresh_token");
        detail::append_form_field(form, "refresh_token", refresh_token);
        return prepare(std::move(form), {refresh_token}, false);
    }

    prepared_request authorization_code_request(std::string_view code, std::string_view redirect_uri,
                                                std::string_view code_verifier) const
    {
        if (code.empty())
            return reject("code is empty");
        if (redirect_uri.empty())
            return reject("redirect_uri is empty");
        if (!code_verifier.empty()) {
            if (auto why = detail::code_verifier_problem(code_verifier); !why.empty())
                return reject(why);
        } else if (config_.client_secret.empty()) {
            return reject("without a code_verifier (PKCE) the authorization-code grant needs client_secret");
        }
        std::string form;
        detail::append_form_field(form, "grant_type", "authorization_code");
        detail::append_form_field(form, "code", code);
        detail::append_form_field(form, "redirect_uri", redirect_uri);
        if (!code_verifier.empty())
            detail::append_form_field(form, "code_verifier", code_verifier);
        return prepare(std::move(form), {code, code_verifier}, false);
    }

    prepared_request saml2_bearer_request(std::string_view org_name, std::string_view assertion) const
    {
        if (org_name.empty())
            return reject("org_name is empty");
        if (assertion.empty())
            return reject("assertion is empty");
        if (!detail::is_base64_text(assertion))
            return reject("assertion must be base64-encoded (genesys::base64_encode encodes a SAML assertion)");
        std::string form;
        detail::append_form_field(form, "grant_type", saml2_bearer_grant_type);
        detail::append_form_field(form, "orgName", org_name);
        detail::append_form_field(form, "assertion", assertion);
        return prepare(std::move(form), {assertion}, true);
    }

    /// Runs a prepared token request asynchronously (defined by `<genesys/async.hpp>`).
    template <class CompletionToken>
    auto async_run(prepared_request&& prepared, CompletionToken&& token)
    {
        return detail::async_grant_runner<oauth_client>::run(*this, std::move(prepared),
                                                             std::forward<CompletionToken>(token));
    }

    template <class>
    friend struct detail::async_grant_runner;

    /// The token request of a grant whose form is `form`, or why it is rejected before sending.
    detail::outcome<detail::token_request> prepare(std::string form, std::initializer_list<std::string_view> grant_secrets,
                                                   bool secret_required) const
    {
        detail::oauth_secrets hidden;
        hidden.add(config_.client_secret);
        for (auto s : grant_secrets)
            hidden.add(s);

        std::string base;
        if (auto why = detail::base_url_problem(config_.login_url, base, config_.allow_insecure_http); !why.empty())
            return hidden.scrub(detail::invalid_argument(op, "login_url: " + why));
        if (config_.client_id.empty() || (secret_required && config_.client_secret.empty()))
            return hidden.scrub(detail::invalid_argument(op, "client_id and client_secret are required"));
        if (config_.client_id.find(':') != std::string::npos)
            return hidden.scrub(detail::invalid_argument(op, "client_id must not contain ':'"));

        http_request req{http_method::post, base + "/oauth/token", {}, std::move(form)};
        req.headers.reserve(4);
        if (!config_.client_secret.empty()) {
            std::string basic = detail::base64_encode(config_.client_id + ":" + config_.client_secret);
            hidden.add(basic);
            req.headers.add("Authorization", "Basic " + basic);
        } else {
            detail::append_form_field(req.body, "client_id", config_.client_id);
        }
        req.headers.add("Content-Type", "application/x-www-form-urlencoded");
        req.headers.add("Accept", "application/json");
        req.headers.add("User-Agent", config_.user_agent);
        for (const auto& h : req.headers)
            if (!detail::is_header_value(h.value))
                return hidden.scrub(detail::invalid_argument(op, h.name + " would contain a control character"));

        if (config_.retry_token_requests)
            if (auto why = detail::retry_policy_problem(config_.retry); !why.empty())
                return hidden.scrub(detail::invalid_argument(op, why));

        return detail::token_request{std::move(req),
                                     detail::oauth_rules(std::move(hidden),
                                                         {config_.max_response_bytes, config_.max_json_depth})};
    }

    /// The step machine's settings for `prepared`.
    detail::call_settings settings(const detail::token_request& prepared) const noexcept
    {
        detail::call_settings s;
        s.operation = op;
        s.rules = &prepared.rules;
        s.retry = &config_.retry;
        s.retry_allowed = config_.retry_token_requests && config_.retry.enabled();
        s.log = &config_.logger;
        s.logged_headers = &config_.logged_headers;
        return s;
    }

    /// Runs a prepared token request, blocking.
    result<api_response<oauth_token>> run(detail::outcome<detail::token_request>&& prepared)
    {
        if (!prepared)
            return std::move(prepared.failure());
        const detail::call_settings s = settings(*prepared);
        detail::call_machine machine(s, prepared->request);
        auto sent = detail::run_blocking(machine, config_.retry, [this](const http_request& r, std::string& what) {
            return detail::send_through(transport_, r, what);
        });
        return detail::to_oauth_token(std::move(sent), prepared->rules);
    }

    Transport transport_;
    oauth_config config_;
};

} // namespace genesys

#if !defined(GENESYS_TOKENS_SEPARATE_COMPILATION)
#include <genesys/impl/oauth_client.ipp>
#endif

#endif
