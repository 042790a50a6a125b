// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DETAIL_IMPL_OAUTH_RULES_IPP
#define GENESYS_DETAIL_IMPL_OAUTH_RULES_IPP

// The token grant's response handling: the OAuth error body of a failure, the token of a success.
// Here, not in <genesys/detail/oauth_rules.hpp>, because it needs Boost.JSON.

#include <genesys/detail/json_codec.hpp>
#include <genesys/detail/oauth_rules.hpp>

#include <string>
#include <utility>

namespace genesys::detail {

GENESYS_DECL outcome<http_response> oauth_rules::judge(std::string_view op,
                                                     boost::system::result<http_response>&& sent,
                                                     std::string_view what, std::string_view) const
{
    if (!sent)
        return secrets_.scrub(network_failure(op, sent.error(), what, {}));
    http_response& res = *sent;
    if (res.status >= 200 && res.status <= 299)
        return std::move(res);
    const bool too_large = res.body.size() > limits_.max_bytes;
    secrets_.scrub_text(res.body); // before anything is parsed out of it
    error e = api_failure(op, std::move(res), {}, limits_, true);
    oauth_error_body oauth;
    std::string ignored;
    if (!too_large && decode_body(e.raw_body, oauth, ignored, limits_.max_depth) && oauth.error) {
        error_body body = e.body.value_or(error_body{});
        body.code = oauth.error;
        if (oauth.error_description || oauth.description)
            body.message = oauth.error_description ? oauth.error_description : oauth.description;
        body.status = e.status;
        e.body = std::move(body);
        e.message = std::string(op) + " failed: the login host answered HTTP " + std::to_string(e.status) + " ";
        append_one_line(e.message, *oauth.error, {}, 100); // the body was scrubbed above
        if (e.body->message) {
            e.message += ": ";
            append_one_line(e.message, *e.body->message, {});
        }
        append_correlation(e.message, e.correlation_id, {});
    }
    return secrets_.scrub(std::move(e));
}

GENESYS_DECL result<api_response<oauth_token>> to_oauth_token(outcome<http_response>&& sent, const oauth_rules& rules)
{
    constexpr std::string_view op = request_token_operation;
    if (!sent)
        return std::move(sent.failure());
    http_response& res = *sent;
    const response_limits limits = rules.limits();
    api_response<oauth_token> out{{res.status, {}}, {}};
    if (auto failed = decode_success(op, model_traits<oauth_token>::name, res, limits, {}, false,
                                     [&](std::string_view body, std::string& why) {
                                         if (!decode_body(body, out.data, why, limits.max_depth))
                                             return false;
                                         if (out.data.access_token.empty())
                                             why = "access_token is missing";
                                         return !out.data.access_token.empty();
                                     }))
        return rules.secrets().scrub(std::move(*failed));
    out.headers = std::move(res.headers);
    return out;
}

} // namespace genesys::detail

#endif
