// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_ERROR_CODE_HPP
#define GENESYS_ERROR_CODE_HPP

/// @file
/// The library's error codes (`genesys::errc`), the HTTP statuses as codes, and the conditions
/// (`genesys::condition`) that classify any failure by what the caller does about it.

#include <genesys/detail/config.hpp>

#include <boost/system/error_category.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/error_condition.hpp>

#include <type_traits>

namespace genesys {

/** Error codes produced by the library itself.

    Network failures keep the transport's own `error_code` instead, and a non-2xx answer has its
    status as its code (`http_status_code`, `login_status_code`). To classify a failure, compare
    its code with a `genesys::condition`.
*/
enum class errc {
    // 1 was `http_status`: an answer's code is now its status (`http_status_code`).
    /// A 2xx body could not be decoded as the operation's model (see `decode_error`).
    decode_failed = 2,
    /// An argument or the configuration was rejected before sending (see `invalid_argument_error`).
    invalid_argument,
    /// The transport, a token source's grant or its `on_refresh_token` callback threw an
    /// exception other than a `system_error` (see `network_error`); not retried.
    transport_exception,
    /// A 2xx body is larger than `client_config::max_response_bytes` (or `oauth_config`'s), and
    /// was not parsed (see `decode_error`).
    response_too_large,
    /// The call did not finish within `client_config::call_timeout` (see `network_error`); not retried.
    deadline_exceeded,
    /// A valid token that the token validator's policy refuses (see `policy_error`).
    policy_mismatch,
    /// The proxy answered 407: it wants credentials that were not given, or refused those given
    /// (see `network_error`; the transport's detail names the proxy, never its password). Not
    /// retried: the same credentials would be refused again.
    proxy_authentication_required,
    /// The proxy would not open a tunnel to the host (its `CONNECT` answered another status than
    /// 2xx or 407: a 403 of its rules, a 502 when it cannot reach the host) (see `network_error`).
    /// Retried like any network failure.
    proxy_tunnel_failed,
    /// The token validator did not check a token: `token_validator_options::max_concurrent_checks`
    /// checks were in flight, and no room came within the wait (see `network_error`; nothing was
    /// sent). Matches `condition::network`: answer it with 503, as when the API cannot be reached.
    validator_overloaded,
};

/// The category of `genesys::errc`, named `"genesys.tokens"`.
GENESYS_DECL const boost::system::error_category& tokens_category() noexcept;

/// Makes an `error_code` from a `genesys::errc`, so `ec == genesys::errc::decode_failed` works.
inline boost::system::error_code make_error_code(errc e) noexcept
{
    return {static_cast<int>(e), tokens_category()};
}

/** The category of the API's answers with an error status, named `"genesys.http"`: a code's
    value is the HTTP status (e.g. 429), its message `"HTTP 429"`. Every such code fails (is
    true), a status of 0 included. */
GENESYS_DECL const boost::system::error_category& http_status_category() noexcept;

/** The category of the login host's answers with an error status to a token request, named
    `"genesys.login"`: the value is the HTTP status, the message `"the login host answered HTTP
    401"`. Kept apart from `http_status_category` because a refused login calls for other action
    than a refused API call (see `condition::login_failed`). */
GENESYS_DECL const boost::system::error_category& login_status_category() noexcept;

/// The code of an API answer with `status`: `error::code` of every `api` error but the login's.
inline boost::system::error_code http_status_code(int status) noexcept { return {status, http_status_category()}; }

/// The code of the login host's answer with `status` to a token request (operation `requestToken`).
inline boost::system::error_code login_status_code(int status) noexcept { return {status, login_status_category()}; }

/** What a caller does about a failure: compare `error::code` (or `exception::code()`) with one.

    One comparison classifies any failure, whatever produced its code (the library, an HTTP
    status, a transport's own category):

    @code
    auto r = api.try_get_tokens_me();
    if (!r && r.error().code == genesys::condition::rate_limited)
        retry_later();
    @endcode

    A code matches at most the conditions listed for it; `timeout` codes also match `network`. A
    code that matches none (a `decode` error, a 400 answer, a cancelled operation) calls for no
    general action.
*/
enum class condition {
    /// The API refused the token: a 401 answer. Get a new token (a token source does it once
    /// by itself).
    unauthorized = 1,
    /// The token lacks a permission or scope: a 403 answer.
    forbidden,
    /// The resource does not exist: a 404 answer.
    not_found,
    /// Too many requests: a 429 answer, of the API or of the login host. Wait (its
    /// `Retry-After`) and try again; `retry_policy` does it.
    rate_limited,
    /// The server failed: a 5xx answer, of the API or of the login host. Try again later.
    server_error,
    /// The login host refused a token request (a grant of `oauth_client`, so also of a
    /// `token_source` built on one): any 4xx answer of it but 429. Check the client's id,
    /// secret, grant and its arguments; trying again will not help.
    login_failed,
    /// No answer came: the transport could not resolve, connect, complete TLS, send or read
    /// (a refused or reset connection, the Asio, Beast and libcurl codes, any system error but a
    /// cancellation), the transport threw (`errc::transport_exception`), or something timed out.
    network,
    /// Something timed out: the call's `client_config::call_timeout` (`errc::deadline_exceeded`),
    /// a transport's timeout (`timed_out`, `boost::beast::error::timeout`, libcurl's), or a wait
    /// for another call's token refresh. Also matches `network`.
    timeout,
    /// A bad argument or configuration, refused before anything was sent (`errc::invalid_argument`).
    invalid_argument,
    /// A valid token that the token validator's policy refuses (`errc::policy_mismatch`).
    policy,
};

/// The category of `genesys::condition`, named `"genesys.condition"`.
GENESYS_DECL const boost::system::error_category& condition_category() noexcept;

/// Makes an `error_condition` from a `genesys::condition`, so `ec == genesys::condition::network` works.
inline boost::system::error_condition make_error_condition(condition c) noexcept
{
    return {static_cast<int>(c), condition_category()};
}

} // namespace genesys

// Makes genesys::errc convertible to boost::system::error_code, and genesys::condition to
// boost::system::error_condition. Hidden from Doxygen, which cannot place a specialization
// declared outside its namespace.
/// @cond
template <>
struct boost::system::is_error_code_enum<genesys::errc> : std::true_type {};
template <>
struct boost::system::is_error_condition_enum<genesys::condition> : std::true_type {};
/// @endcond

#if !defined(GENESYS_TOKENS_SEPARATE_COMPILATION)
#include <genesys/impl/error_code.ipp>
#endif

#endif
