// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_RESULT_HPP
#define GENESYS_RESULT_HPP

/// @file
/// What the non-throwing operations return: `genesys::result<api_response<T>>`.

#include <genesys/error.hpp>
#include <genesys/http.hpp>

#include <boost/system/result.hpp>

#include <string>
#include <string_view>

namespace genesys {

/** A value or a `genesys::error`.

    `value()` throws the exception matching the error's kind (`api_error`, ...),
    so `api.try_get_tokens_me().value()` behaves like `api.get_tokens_me()`.
*/
template <class T>
using result = boost::system::result<T, error>;

/// The HTTP details of a successful call, like the official SDKs' `WithHttpInfo` forms.
struct response_info {
    int status = 0;         ///< The HTTP status, e.g. 200.
    http_headers headers{}; ///< The response headers.

    /** The id the platform gave the request.

        @return The response's `ININ-Correlation-Id` (any case), or empty. A copy, not a view:
        `api.try_get_tokens_me()->correlation_id()` outlives the temporary result it came from.
    */
    std::string correlation_id() const { return std::string(headers.get(correlation_id_header).value_or("")); }
};

/** A successful call: its decoded `data` plus status and headers.

    @code
    auto r = api.try_get_tokens_me();
    if (r) std::cout << r->status << ' ' << r->correlation_id() << '\n';
    @endcode
*/
template <class T>
struct api_response : response_info {
    T data{}; ///< The decoded response body.
};

/// A successful call of an operation without a response body.
template <>
struct api_response<void> : response_info {};

} // namespace genesys

#endif
