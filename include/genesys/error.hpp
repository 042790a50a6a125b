// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_ERROR_HPP
#define GENESYS_ERROR_HPP

/// @file
/// How a call fails: the `genesys::error` value and the exceptions thrown from it.

#include <genesys/detail/config.hpp>
#include <genesys/error_code.hpp>
#include <genesys/http.hpp>
#include <genesys/models/error_body.hpp>

#include <boost/assert/source_location.hpp>
#include <boost/system/error_code.hpp>

#include <iosfwd>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace genesys {

/// What kind of failure an `error` describes; each kind has its own exception type.
enum class error_kind {
    /// Rejected before anything was sent: a bad argument or configuration. Thrown as `invalid_argument_error`.
    invalid_argument,
    /// The transport could not deliver the request or read the response. Thrown as `network_error`.
    network,
    /// The server answered with a non-2xx status. Thrown as `api_error`.
    api,
    /// A 2xx response whose body is not the operation's model. Thrown as `decode_error`.
    decode,
    /// A valid token that the token validator's policy refuses (another organization, a missing
    /// scope, a client not allowed). Thrown as `policy_error`.
    policy,
};

/// The kind's name: `"invalid argument"`, `"network"`, `"api"`, `"decode"` or `"policy"`.
constexpr std::string_view to_string(error_kind k) noexcept
{
    switch (k) {
    case error_kind::invalid_argument: return "invalid argument";
    case error_kind::network: return "network";
    case error_kind::api: return "api";
    case error_kind::decode: return "decode";
    case error_kind::policy: return "policy";
    }
    return "unknown";
}

/** Everything known about a failed call.

    The non-throwing operations return it inside `genesys::result<T>`; the
    throwing ones throw the exception matching `kind`, which carries the same value.
    Secrets (the access token) never appear in `message` or `raw_body`: they are
    replaced by `[REDACTED]`.

    @code
    auto r = api.try_get_tokens_me();
    if (!r && r.error().code == genesys::condition::not_found) { ... }
    @endcode
*/
struct error {
    /** An `invalid_argument` error with every member at its default; copies and moves are
        member by member.

        Not an aggregate: these are compiled with the implementation (once, in the compiled
        mode), so that a unit that only handles results does not generate the destruction of an
        `error_body` tree.
        @{
    */
    GENESYS_DECL error() noexcept;
    GENESYS_DECL error(const error&);
    GENESYS_DECL error(error&&) noexcept;
    GENESYS_DECL error& operator=(const error&);
    GENESYS_DECL error& operator=(error&&) noexcept;
    GENESYS_DECL ~error();
    /// @}

    /// What kind of failure this is; selects the exception type.
    error_kind kind = error_kind::invalid_argument;
    /** What failed, as a code: the status of an `api` error (`http_status_code(status)`, or
        `login_status_code(status)` for the login host's), the transport's own code for a
        `network` error, else a `genesys::errc`. Compare it with a `genesys::condition` to decide
        what to do: `e.code == genesys::condition::rate_limited`. */
    boost::system::error_code code{};
    /// A readable, one-line description that names the operation.
    std::string message{};
    /// The operation that failed, e.g. `"getTokensMe"`.
    std::string operation{};
    /// The HTTP status, or 0 when there was no response.
    int status = 0;
    /// The `ININ-Correlation-Id` of the response, or empty.
    std::string correlation_id{};
    /// The platform's `ErrorBody`, when the response body is one.
    std::optional<error_body> body{};
    /// The response body as received (empty when there was no response).
    std::string raw_body{};
    /// The response headers (empty when there was no response).
    http_headers headers{};
    /// How many attempts were made (more than 1 when the retry policy retried).
    int attempts = 1;
};

/// Writes `e.message`.
GENESYS_DECL std::ostream& operator<<(std::ostream& os, const error& e);

/** The base of every exception the library throws; `info()` is the full `genesys::error`.

    @code
    try { api.delete_token(id); }
    catch (const genesys::api_error& e) { log(e.status(), e.correlation_id()); }
    catch (const genesys::exception& e) { log(e.what()); }
    @endcode
*/
class exception : public std::runtime_error {
public:
    /// Constructs from the failure; `what()` is `e.message`.
    GENESYS_DECL explicit exception(error e);

    /// Everything known about the failure.
    const error& info() const noexcept { return *info_; }
    /// The error code (see `error::code`); compare it with a `genesys::condition`.
    const boost::system::error_code& code() const noexcept { return info_->code; }
    /// The operation that failed, e.g. `"deleteToken"`.
    const std::string& operation() const noexcept { return info_->operation; }

private:
    std::shared_ptr<const error> info_; // shared: exceptions must copy without throwing
};

/// The server answered with a non-2xx status.
class api_error : public exception {
public:
    /// Constructs from the failure; `what()` is `e.message`.
    using exception::exception;

    /// The HTTP status, e.g. 404.
    int status() const noexcept { return info().status; }
    /// The response's `ININ-Correlation-Id`, or empty.
    const std::string& correlation_id() const noexcept { return info().correlation_id; }
    /// The platform's `ErrorBody`, when the response carried one.
    const std::optional<error_body>& body() const noexcept { return info().body; }
    /// The response body exactly as received.
    const std::string& raw_body() const noexcept { return info().raw_body; }
    /// The response headers (e.g. `Retry-After` on a 429).
    const http_headers& headers() const noexcept { return info().headers; }
};

/// The transport could not send the request or receive the response.
class network_error : public exception {
public:
    /// Constructs from the failure; `what()` is `e.message`.
    using exception::exception;
};

/// A 2xx response whose body is not valid JSON or not the operation's model.
class decode_error : public exception {
public:
    /// Constructs from the failure; `what()` is `e.message`.
    using exception::exception;

    /// The HTTP status of the undecodable response, e.g. 200.
    int status() const noexcept { return info().status; }
    /// The response's `ININ-Correlation-Id`, or empty.
    const std::string& correlation_id() const noexcept { return info().correlation_id; }
    /// The response body exactly as received.
    const std::string& raw_body() const noexcept { return info().raw_body; }
};

/// An argument or the configuration was rejected; nothing was sent.
class invalid_argument_error : public exception {
public:
    /// Constructs from the failure; `what()` is `e.message`.
    using exception::exception;
};

/// The token is valid, but the token validator's policy refuses it (a service answers 403).
class policy_error : public exception {
public:
    /// Constructs from the failure; `what()` is `e.message`.
    using exception::exception;
};

namespace detail {

/// Throws the exception of `e.kind`, moving `e` into it.
[[noreturn]] GENESYS_DECL void throw_error(error&& e);

} // namespace detail

/// Throws the exception that matches `e.kind`. Found by ADL from `genesys::result<T>::value()`.
[[noreturn]] GENESYS_DECL void throw_exception_from_error(const error& e, const boost::source_location& = {});

} // namespace genesys

#if !defined(GENESYS_TOKENS_SEPARATE_COMPILATION)
#include <genesys/impl/error.ipp>
#endif

#endif
