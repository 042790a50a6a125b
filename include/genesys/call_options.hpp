// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_CALL_OPTIONS_HPP
#define GENESYS_CALL_OPTIONS_HPP

/// @file
/// `call_options`: what one call of a client may set for itself alone.

#include <genesys/http.hpp>

namespace genesys {

/** What one call may set for itself alone, beside the client's `client_config`.

    Every operation of `tokens_api` and `async_tokens_api` (and of `any_tokens_api`,
    `any_async_tokens_api`) takes one as its last argument before the completion token; the
    default is a call as the configuration makes it. An aggregate: later per-call settings are
    added here as members with defaults, so `{.headers = ...}` keeps compiling.

    @code
    auto info = api.get_tokens_me(std::nullopt, {.headers = {{"X-Request-Purpose", "audit"}}});
    @endcode
*/
struct call_options {
    /** Extra headers for this call only, checked as `client_config::default_headers` are: each
        needs a valid name and a value without control characters (no CR, LF, NUL), and may be
        neither `Authorization` (the client sends the token) nor a field the transport owns
        (`Host`, `Content-Length`, `Transfer-Encoding`, `Connection`, `Expect`, ...). A bad one
        fails the call with an `invalid_argument` error naming the header (never its value),
        and nothing is sent.

        They replace the client's headers of the same name (any case), default headers
        included, and are sent on every attempt of the call: its retries, and its resend with a
        fresh token after a 401 through a token source; never on the token source's own requests
        to the login host. Log events show their values only when `default_logged_headers` or
        `client_config::logged_headers` name them; otherwise they read `[REDACTED]`, as any
        request header. */
    http_headers headers{};
};

} // namespace genesys

#endif
