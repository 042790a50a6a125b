// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DETAIL_OAUTH_RULES_HPP
#define GENESYS_DETAIL_OAUTH_RULES_HPP

// How a token request's answer is judged: the login host's rules (its secrets scrubbed from
// everything, a refusal's OAuth error body read), and the grant's result from a 2xx.

#include <genesys/detail/call_machine.hpp>
#include <genesys/detail/failure.hpp>
#include <genesys/detail/config.hpp>
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

    GENESYS_DECL outcome<http_response> judge(std::string_view op, boost::system::result<http_response>&& sent,
                                              std::string_view what, std::string_view) const override;

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

/// The token grant's outcome: the decoded `oauth_token` (which must have an `access_token`), or
/// the error, its secrets scrubbed.
GENESYS_DECL result<api_response<oauth_token>> to_oauth_token(outcome<http_response>&& sent, const oauth_rules& rules);

} // namespace detail

} // namespace genesys

#if !defined(GENESYS_TOKENS_SEPARATE_COMPILATION)
#include <genesys/detail/impl/oauth_rules.ipp>
#endif

#endif
