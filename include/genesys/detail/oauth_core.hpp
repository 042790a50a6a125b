// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DETAIL_OAUTH_CORE_HPP
#define GENESYS_DETAIL_OAUTH_CORE_HPP

// `oauth_core`: what `oauth_client<Transport>` does that does not depend on the transport (the
// grants' request building and checks, the blocking call), compiled once in the compiled mode.
// The client template only forwards, handing its transport over as a `send_ref`.

#include <genesys/detail/config.hpp>
#include <genesys/detail/oauth_rules.hpp>
#include <genesys/detail/outcome.hpp>
#include <genesys/detail/send_through.hpp>
#include <genesys/models/oauth_token.hpp>
#include <genesys/oauth_config.hpp>
#include <genesys/result.hpp>

#include <initializer_list>
#include <string>
#include <string_view>

namespace genesys::detail {

/// `grant_type` of the SAML2 bearer grant.
inline constexpr std::string_view saml2_bearer_grant_type = "urn:ietf:params:oauth:grant-type:saml2-bearer";

class oauth_core {
public:
    /// Checks `config` (`check(const oauth_config&)`); throws `invalid_argument_error` for a bad one.
    GENESYS_DECL explicit oauth_core(oauth_config config);

    const oauth_config& config() const noexcept { return config_; }

    // Each grant's request, checked (a bad argument or configuration is the failure).
    GENESYS_DECL outcome<token_request> client_credentials_request() const;
    GENESYS_DECL outcome<token_request> refresh_token_request(std::string_view refresh_token) const;
    GENESYS_DECL outcome<token_request> authorization_code_request(std::string_view code, std::string_view redirect_uri,
                                                                   std::string_view code_verifier) const;
    GENESYS_DECL outcome<token_request> saml2_bearer_request(std::string_view org_name,
                                                             std::string_view assertion) const;

    // How a prepared request is sent: its rules, the retry policy (if token requests retry), the log.
    GENESYS_DECL call_settings settings(const token_request& prepared) const noexcept;

    // The blocking call of a prepared request through `send`.
    GENESYS_DECL result<api_response<oauth_token>> run(outcome<token_request>&& prepared, send_ref send) const;

private:
    static constexpr std::string_view op = request_token_operation;

    GENESYS_DECL error reject(std::string_view why) const;
    GENESYS_DECL outcome<token_request> prepare(std::string form, std::initializer_list<std::string_view> grant_secrets,
                                                bool secret_required) const;

    oauth_config config_;
    std::string login_base_; // `login_url` without trailing slashes
};

} // namespace genesys::detail

#if !defined(GENESYS_TOKENS_SEPARATE_COMPILATION)
#include <genesys/detail/impl/oauth_core.ipp>
#endif

#endif
