// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_IMPL_OAUTH_CLIENT_IPP
#define GENESYS_IMPL_OAUTH_CLIENT_IPP

#include <genesys/detail/json_codec.hpp>
#include <genesys/oauth_client.hpp>

#include <optional>
#include <string>

namespace genesys {

GENESYS_DECL std::optional<oauth_error_body> oauth_error_of(const error& e)
{
    if (e.kind != error_kind::api || e.operation != detail::request_token_operation || e.raw_body.empty())
        return std::nullopt;
    oauth_error_body out;
    std::string ignored;
    if (!detail::decode_body(e.raw_body, out, ignored) || !out.error)
        return std::nullopt;
    return out;
}

GENESYS_DECL std::optional<oauth_error_body> oauth_error_of(const exception& ex) { return oauth_error_of(ex.info()); }

} // namespace genesys

#endif
