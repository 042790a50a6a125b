// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DETAIL_IMPL_BODY_CODEC_IPP
#define GENESYS_DETAIL_IMPL_BODY_CODEC_IPP

#include <genesys/detail/body_codec.hpp>
#include <genesys/detail/json_codec.hpp>

#include <boost/json.hpp>

namespace genesys::detail {

GENESYS_DECL bool decode_model(std::string_view body, token_info& out, std::string& why, std::size_t max_depth)
{
    return decode_body(body, out, why, max_depth, decode_mode::lenient);
}

GENESYS_DECL bool decode_model(std::string_view body, idle_token_timeout& out, std::string& why,
                               std::size_t max_depth)
{
    return decode_body(body, out, why, max_depth, decode_mode::lenient);
}

GENESYS_DECL bool decode_model(std::string_view body, error_body& out, std::string& why, std::size_t max_depth)
{
    return decode_body(body, out, why, max_depth, decode_mode::lenient);
}

GENESYS_DECL std::string encode_model(const idle_token_timeout& settings)
{
    boost::json::value jv;
    encode(jv, settings);
    return boost::json::serialize(jv);
}

GENESYS_DECL std::string request_problem(const idle_token_timeout& settings)
{
    const auto seconds = settings.idle_token_timeout_seconds;
    if (!seconds || *seconds >= min_idle_token_timeout_seconds)
        return {};
    return "idle_token_timeout_seconds is " + std::to_string(*seconds) + ", below the API definition's minimum of " +
           std::to_string(min_idle_token_timeout_seconds) + " (5 minutes)";
}

GENESYS_DECL std::string put_tokens_timeout_problem(std::string_view body)
{
    idle_token_timeout settings;
    std::string ignored;
    if (!decode_body(body, settings, ignored, 32, decode_mode::strict))
        return {};
    return request_problem(settings);
}

} // namespace genesys::detail

#endif
