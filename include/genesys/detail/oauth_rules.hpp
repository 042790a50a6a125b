#ifndef GENESYS_DETAIL_OAUTH_RULES_HPP
#define GENESYS_DETAIL_OAUTH_RULES_HPP

// How a token request's answer is judged: the login host's rules (its secrets scrubbed from
// everything, a refusal's OAuth error body read), and the grant's result from a 2xx.

#include <genesys/detail/call_machine.hpp>
#include <genesys/detail/failure.hpp>
#include <genesys/detail/json_codec.hpp>
#include <genesys/detail/outcome.hpp>
#include <genesys/detail/percent_encode.hpp>
#include <genesys/error.hpp>
#include <genesys/http.hpp>
#include <genesys/models/error_body.hpp>
#include <genesys/models/oauth_error_body.hpp>
#include <genesys/models/oauth_token.hpp>
#include <genesys/result.hpp>
#include <genesys/token_source.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace genesys {

namespace detail {

/// Everything a token request's errors must not show: the client secret, the Basic credential,
/// the grant's own secrets, each also as it looks percent-encoded.
struct oauth_secrets {
    std::vector<std::string> values;

    void add(std::string_view s)
    {
        if (s.empty())
            return;
        values.emplace_back(s);
        std::string encoded = percent_encode(s);
        if (encoded != s)
            values.push_back(std::move(encoded));
    }
    void scrub_text(std::string& text) const
    {
        for (const auto& s : values)
            redact(text, s);
    }
    error scrub(error e) const
    {
        scrub_error(e, [this](std::string& text) { scrub_text(text); });
        return e;
    }
};

/// The login host's rules for one token request: its secrets scrubbed from everything, and a
/// refusal's OAuth error body read into the error.
class oauth_rules final : public attempt_rules {
public:
    oauth_rules(oauth_secrets secrets, response_limits limits) : secrets_(std::move(secrets)), limits_(limits) {}

    const oauth_secrets& secrets() const noexcept { return secrets_; }
    response_limits limits() const noexcept { return limits_; }

    void scrub(std::string& text) const override { secrets_.scrub_text(text); }

    outcome<http_response> judge(std::string_view op, boost::system::result<http_response>&& sent,
                                 std::string_view what, std::string_view) const override
    {
        if (!sent)
            return secrets_.scrub(network_failure(op, sent.error(), what, {}));
        http_response& res = *sent;
        if (res.status >= 200 && res.status <= 299)
            return std::move(res);
        const bool too_large = res.body.size() > limits_.max_bytes;
        secrets_.scrub_text(res.body); // before anything is parsed out of it
        error e = api_failure(op, std::move(res), {}, limits_);
        oauth_error_body oauth;
        std::string ignored;
        if (!too_large && decode_body(e.raw_body, oauth, ignored, limits_.max_depth) && oauth.error) {
            error_body body = e.body.value_or(error_body{});
            body.code = oauth.error;
            if (oauth.error_description || oauth.description)
                body.message = oauth.error_description ? oauth.error_description : oauth.description;
            body.status = e.status;
            e.body = std::move(body);
            e.message = std::string(op) + " failed: HTTP " + std::to_string(e.status) + " ";
            append_one_line(e.message, *oauth.error, {}, 100); // the body was scrubbed above
            if (e.body->message) {
                e.message += ": ";
                append_one_line(e.message, *e.body->message, {});
            }
            append_correlation(e.message, e.correlation_id, {});
        }
        return secrets_.scrub(std::move(e));
    }

private:
    oauth_secrets secrets_;
    response_limits limits_;
};

/// Runs an `oauth_client`'s token request asynchronously: defined by `<genesys/async.hpp>`.
template <class Client>
struct async_grant_runner;

/// A token request ready to run: the request, and the rules that judge its answer.
struct token_request {
    http_request request;
    oauth_rules rules;
};

/// The grant's result from a token request's final outcome: the 2xx body as an `oauth_token`.
inline result<api_response<oauth_token>> to_oauth_token(outcome<http_response>&& sent, const oauth_rules& rules)
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

} // namespace detail

} // namespace genesys

#endif
