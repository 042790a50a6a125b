// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DETAIL_BODY_CODEC_HPP
#define GENESYS_DETAIL_BODY_CODEC_HPP

// The bodies the Tokens client reads and writes, as plain functions: the JSON machinery
// (<genesys/detail/json_codec.hpp>, Boost.JSON) stays behind them, in
// <genesys/detail/impl/body_codec.ipp>, compiled once in the compiled mode.

#include <genesys/detail/config.hpp>
#include <genesys/models/error_body.hpp>
#include <genesys/models/idle_token_timeout.hpp>
#include <genesys/models/token_info.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace genesys::detail {

/** Parses `body` into `out`, leniently (`decode_mode::lenient`, as the official SDKs read the
    platform's answers). JSON nested deeper than `max_depth` is refused by the parser before it
    builds anything deeper; unknown keys are ignored, a missing or `null` key leaves its member as
    it is, and a value that cannot be read is left out (an optional member absent, a required one
    at its default) instead of failing the whole body.

    @return true on success; false with the reason in `why` when `body` is empty, not JSON, nested
    too deep, or not a JSON object (`$: expected object, got array`).
*/
GENESYS_DECL bool decode_model(std::string_view body, token_info& out, std::string& why, std::size_t max_depth);
GENESYS_DECL bool decode_model(std::string_view body, idle_token_timeout& out, std::string& why,
                               std::size_t max_depth);
GENESYS_DECL bool decode_model(std::string_view body, error_body& out, std::string& why, std::size_t max_depth);

/// The JSON text of `settings`, absent fields omitted.
GENESYS_DECL std::string encode_model(const idle_token_timeout& settings);

/** Why `settings` must not be sent as the body of `putTokensTimeout`, checked against the API
    definition's bounds: `idle_token_timeout_seconds`, when set, is at least
    `min_idle_token_timeout_seconds` (300).

    @return an empty string when it may be sent, else the reason (e.g. `idle_token_timeout_seconds
    is 60, below the API definition's minimum of 300 (5 minutes)`).
*/
GENESYS_DECL std::string request_problem(const idle_token_timeout& settings);

/** `request_problem` of the JSON text `body` that `encode_model(settings)` made: the check every
    form of `putTokensTimeout` (blocking and asynchronous) makes on its request before sending.

    @return an empty string when `body` may be sent (or is not an `IdleTokenTimeout` object: the
    client never makes one), else the reason.
*/
GENESYS_DECL std::string put_tokens_timeout_problem(std::string_view body);

} // namespace genesys::detail

#if !defined(GENESYS_TOKENS_SEPARATE_COMPILATION)
#include <genesys/detail/impl/body_codec.ipp>
#endif

#endif
