// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_OAUTH_CLIENT_HPP
#define GENESYS_OAUTH_CLIENT_HPP

/// @file
/// `oauth_client<Transport>`: the OAuth grants of the login host, over any transport.

#include <genesys/async_transport.hpp>
#include <genesys/detail/config.hpp>
#include <genesys/detail/oauth_core.hpp>
#include <genesys/detail/oauth_rules.hpp>
#include <genesys/detail/outcome.hpp>
#include <genesys/error.hpp>
#include <genesys/http.hpp>
#include <genesys/models/oauth_error_body.hpp>
#include <genesys/models/oauth_token.hpp>
#include <genesys/oauth_config.hpp>
#include <genesys/pkce.hpp>
#include <genesys/result.hpp>
#include <genesys/transport.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace genesys {

/** The OAuth error of a failed token request.

    The same error is also in `e.body`: `code` is the OAuth `error`, `message` its description.

    @param e The error of a token request, or the exception thrown with it (its `info()`).
    @return The login host's `error`, `description` and `error_description`, secrets in them
    reading `[REDACTED]`; `std::nullopt` when `e` is not an OAuth error (another operation, a
    network failure, a body that is not an OAuth error).
    @{
*/
GENESYS_DECL std::optional<oauth_error_body> oauth_error_of(const error& e);
GENESYS_DECL std::optional<oauth_error_body> oauth_error_of(const exception& e);
/// @}

/** An OAuth client of the login host, over any `genesys::transport`.

    Every grant is `POST <login_url>/oauth/token` with `Content-Type:
    application/x-www-form-urlencoded`, every form value percent-encoded, and the client
    authenticated with `Authorization: Basic base64(client_id:client_secret)` (or, for a public
    client without a secret, `client_id` in the form). Each has a `try_` form returning
    `result<api_response<oauth_token>>`, a throwing form returning the `oauth_token`, and, over
    an asynchronous transport (include `<genesys/async.hpp>`), an `async_` form that takes a
    completion token last, completes with `void(result<api_response<oauth_token>>)` and needs the
    client to outlive it. A token request is retried on a 429 (refused before it was processed)
    as `oauth_config::retry` says, and on other failures only when
    `oauth_config::retry_token_requests` is set.

    The errors (all with operation `requestToken`), by kind:
    - `invalid_argument`, before sending: a missing `client_secret` where the grant needs one, or
      a bad argument of the grant (a bad configuration is thrown by the constructor);
    - `network`: the transport's code (`errc::transport_exception` for one that threw);
    - `api`: a non-2xx answer, its code `login_status_code(status)` (so a 4xx but 429 matches
      `condition::login_failed`) and its message `"requestToken failed: the login host answered
      HTTP <status> ..."`; its `body()` carries the OAuth `error` as `code` and its
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
    /** Makes a client.

        @param transport What sends the token requests; moved into the client.
        @param config Where and as whom to ask.
        @throws invalid_argument_error for a bad `config`: the error `check(config)` returns.
    */
    oauth_client(Transport transport, oauth_config config)
        : transport_(std::move(transport)), core_(std::move(config))
    {
    }

    /// The transport the client sends through.
    Transport& transport() noexcept { return transport_; }
    /// The configuration the client was made with.
    const oauth_config& config() const noexcept { return core_.config(); }

    /** The client-credentials grant: `grant_type=client_credentials`. Needs `client_secret`.

        @return The token response (`try_` form: in an `api_response`, or the error).
        @{
    */
    [[nodiscard]] result<api_response<oauth_token>> try_client_credentials() { return run(core_.client_credentials_request()); }
    oauth_token client_credentials() { return take(try_client_credentials()); }
    /// @}

    /** `try_client_credentials`, asynchronously.

        @param token Any completion token, for the signature
        `void(result<api_response<oauth_token>>)`.
        @return What `token` makes of the operation.
    */
    template <class CompletionToken>
    auto async_client_credentials(CompletionToken&& token)
    {
        return async_run(core_.client_credentials_request(), std::forward<CompletionToken>(token));
    }

    /** The refresh-token grant: `grant_type=refresh_token&refresh_token=...`. Works for a
        public client too.

        @param refresh_token The refresh token of an earlier grant; empty is `invalid_argument`.
        @return The token response (`try_` form: in an `api_response`, or the error).
        @{
    */
    [[nodiscard]] result<api_response<oauth_token>> try_refresh_token(std::string_view refresh_token)
    {
        return run(core_.refresh_token_request(refresh_token));
    }
    oauth_token refresh_token(std::string_view refresh_token) { return take(try_refresh_token(refresh_token)); }
    /// @}

    /** `try_refresh_token`, asynchronously.

        @param refresh_token As for `try_refresh_token`; copied into the request by this call.
        @param token Any completion token, for the signature
        `void(result<api_response<oauth_token>>)`.
        @return What `token` makes of the operation.
    */
    template <class CompletionToken>
    auto async_refresh_token(std::string_view refresh_token, CompletionToken&& token)
    {
        return async_run(core_.refresh_token_request(refresh_token), std::forward<CompletionToken>(token));
    }

    /** The authorization-code grant: `grant_type=authorization_code&code=...&redirect_uri=...`,
        with `&code_verifier=...` for PKCE.

        @param code The code the login host sent to the redirect URI; empty is `invalid_argument`.
        @param redirect_uri The redirect URI of the authorize request; empty is
        `invalid_argument`.
        @param code_verifier For PKCE, the verifier (from `make_code_verifier`) whose
        `code_challenge_s256` went into the authorize URL: 43 to 128 unreserved characters
        (RFC 7636), or `invalid_argument`. Without one the client must have a secret.
        @return The token response (`try_` form: in an `api_response`, or the error).
        @{
    */
    [[nodiscard]] result<api_response<oauth_token>> try_authorization_code(std::string_view code,
                                                                           std::string_view redirect_uri,
                                                                           std::string_view code_verifier = {})
    {
        return run(core_.authorization_code_request(code, redirect_uri, code_verifier));
    }
    oauth_token authorization_code(std::string_view code, std::string_view redirect_uri,
                                   std::string_view code_verifier = {})
    {
        return take(try_authorization_code(code, redirect_uri, code_verifier));
    }
    /// @}

    /** `try_authorization_code`, asynchronously.

        @param code,redirect_uri,code_verifier As for `try_authorization_code`; copied into the
        request by this call.
        @param token Any completion token, for the signature
        `void(result<api_response<oauth_token>>)`.
        @return What `token` makes of the operation.
    */
    template <class CompletionToken>
    auto async_authorization_code(std::string_view code, std::string_view redirect_uri, std::string_view code_verifier,
                                  CompletionToken&& token)
    {
        return async_run(core_.authorization_code_request(code, redirect_uri, code_verifier),
                         std::forward<CompletionToken>(token));
    }

    /** The SAML2 bearer grant: `grant_type=urn:ietf:params:oauth:grant-type:saml2-bearer`,
        `orgName` and `assertion`. Needs `client_secret`.

        @param org_name The organization's name; empty is `invalid_argument`.
        @param assertion As in the official SDKs, the SAML assertion already base64-encoded
        (`genesys::base64_encode(xml)` encodes one); empty, or anything outside the base64
        alphabets, is `invalid_argument`, before sending.
        @return The token response (`try_` form: in an `api_response`, or the error).
        @{
    */
    [[nodiscard]] result<api_response<oauth_token>> try_saml2_bearer(std::string_view org_name, std::string_view assertion)
    {
        return run(core_.saml2_bearer_request(org_name, assertion));
    }
    oauth_token saml2_bearer(std::string_view org_name, std::string_view assertion)
    {
        return take(try_saml2_bearer(org_name, assertion));
    }
    /// @}

    /** `try_saml2_bearer`, asynchronously.

        @param org_name,assertion As for `try_saml2_bearer`; copied into the request by this call.
        @param token Any completion token, for the signature
        `void(result<api_response<oauth_token>>)`.
        @return What `token` makes of the operation.
    */
    template <class CompletionToken>
    auto async_saml2_bearer(std::string_view org_name, std::string_view assertion, CompletionToken&& token)
    {
        return async_run(core_.saml2_bearer_request(org_name, assertion), std::forward<CompletionToken>(token));
    }

    /// The `grant_type` of the SAML2 bearer grant (RFC 7522).
    static constexpr std::string_view saml2_bearer_grant_type = detail::saml2_bearer_grant_type;

private:
    using prepared_request = detail::outcome<detail::token_request>;

    static oauth_token take(result<api_response<oauth_token>> r) { return std::move(r.value().data); }

    result<api_response<oauth_token>> run(prepared_request&& prepared)
    {
        return core_.run(std::move(prepared), detail::send_ref(transport_));
    }

    template <class CompletionToken>
    auto async_run(prepared_request&& prepared, CompletionToken&& token)
    {
        return detail::async_grant_runner<oauth_client>::run(*this, std::move(prepared),
                                                             std::forward<CompletionToken>(token));
    }

    template <class>
    friend struct detail::async_grant_runner;

    Transport transport_;
    detail::oauth_core core_;
};

} // namespace genesys

#if !defined(GENESYS_TOKENS_SEPARATE_COMPILATION)
#include <genesys/impl/oauth_client.ipp>
#endif

#endif
