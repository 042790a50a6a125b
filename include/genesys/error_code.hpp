// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_ERROR_CODE_HPP
#define GENESYS_ERROR_CODE_HPP

/// @file
/// The library's error codes (`genesys::errc`) and their `boost::system` category.

#include <genesys/detail/config.hpp>

#include <boost/system/error_category.hpp>
#include <boost/system/error_code.hpp>

#include <type_traits>

namespace genesys {

/** Error codes produced by the library itself.

    Network failures keep the transport's own `error_code` instead.
*/
enum class errc {
    /// The server answered with a non-2xx status (see `api_error`).
    http_status = 1,
    /// A 2xx body could not be decoded as the operation's model (see `decode_error`).
    decode_failed,
    /// An argument or the configuration was rejected before sending (see `invalid_argument_error`).
    invalid_argument,
    /// The transport, or a token source's grant, threw an exception other than a `system_error`
    /// (see `network_error`); not retried.
    transport_exception,
    /// A 2xx body is larger than `client_config::max_response_bytes` (or `oauth_config`'s), and
    /// was not parsed (see `decode_error`).
    response_too_large,
    /// The call did not finish within `client_config::call_timeout` (see `network_error`); not retried.
    deadline_exceeded,
    /// A valid token that the token validator's policy refuses (see `policy_error`).
    policy_mismatch,
};

/// The category of `genesys::errc`, named `"genesys.tokens"`.
GENESYS_DECL const boost::system::error_category& tokens_category() noexcept;

/// Makes an `error_code` from a `genesys::errc`, so `ec == genesys::errc::decode_failed` works.
inline boost::system::error_code make_error_code(errc e) noexcept
{
    return {static_cast<int>(e), tokens_category()};
}

} // namespace genesys

// Makes genesys::errc convertible to boost::system::error_code. Hidden from Doxygen,
// which cannot place a specialization declared outside its namespace.
/// @cond
template <>
struct boost::system::is_error_code_enum<genesys::errc> : std::true_type {};
/// @endcond

#if !defined(GENESYS_TOKENS_SEPARATE_COMPILATION)
#include <genesys/impl/error_code.ipp>
#endif

#endif
