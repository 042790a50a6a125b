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

/** Parses `body` into `out`. JSON nested deeper than `max_depth` is refused by the parser before it
    builds anything deeper; unknown keys are ignored, a missing or `null` key leaves its member as it is.

    @return true on success; false with the reason in `why` (e.g. `$.OAuthClient.scope[2]: expected
    string, got number`).
*/
GENESYS_DECL bool decode_model(std::string_view body, token_info& out, std::string& why, std::size_t max_depth);
GENESYS_DECL bool decode_model(std::string_view body, idle_token_timeout& out, std::string& why,
                               std::size_t max_depth);
GENESYS_DECL bool decode_model(std::string_view body, error_body& out, std::string& why, std::size_t max_depth);

/// The JSON text of `settings`, absent fields omitted.
GENESYS_DECL std::string encode_model(const idle_token_timeout& settings);

} // namespace genesys::detail

#if !defined(GENESYS_TOKENS_SEPARATE_COMPILATION)
#include <genesys/detail/impl/body_codec.ipp>
#endif

#endif
