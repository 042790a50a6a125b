#ifndef GENESYS_DETAIL_IMPL_BODY_CODEC_IPP
#define GENESYS_DETAIL_IMPL_BODY_CODEC_IPP

#include <genesys/detail/body_codec.hpp>
#include <genesys/detail/json_codec.hpp>

#include <boost/json.hpp>

namespace genesys::detail {

GENESYS_DECL bool decode_model(std::string_view body, token_info& out, std::string& why, std::size_t max_depth)
{
    return decode_body(body, out, why, max_depth);
}

GENESYS_DECL bool decode_model(std::string_view body, idle_token_timeout& out, std::string& why,
                               std::size_t max_depth)
{
    return decode_body(body, out, why, max_depth);
}

GENESYS_DECL bool decode_model(std::string_view body, error_body& out, std::string& why, std::size_t max_depth)
{
    return decode_body(body, out, why, max_depth);
}

GENESYS_DECL std::string encode_model(const idle_token_timeout& settings)
{
    boost::json::value jv;
    encode(jv, settings);
    return boost::json::serialize(jv);
}

} // namespace genesys::detail

#endif
