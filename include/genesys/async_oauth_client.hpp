// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_ASYNC_OAUTH_CLIENT_HPP
#define GENESYS_ASYNC_OAUTH_CLIENT_HPP

/// @file
/// The asynchronous grants of `oauth_client` (`async_client_credentials`, `async_refresh_token`,
/// `async_authorization_code`, `async_saml2_bearer`) over a `genesys::async_transport`: include
/// this header (or the umbrella <genesys/async.hpp>) where they are called, directly or through
/// the asynchronous token sources of <genesys/oauth_token_sources.hpp> (included here). Each runs
/// the same call operation as `async_tokens_api`.

#include <genesys/async_transport.hpp>
#include <genesys/detail/async_call.hpp>
#include <genesys/detail/oauth_rules.hpp>
#include <genesys/detail/outcome.hpp>
#include <genesys/models/oauth_token.hpp>
#include <genesys/oauth_client.hpp>
#include <genesys/oauth_token_sources.hpp>
#include <genesys/result.hpp>

#include <memory>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

namespace genesys::detail {

/// What ends a token request: the 2xx body as an `oauth_token`, judged by the request's rules.
struct finish_token_request {
    std::optional<oauth_rules> rules;

    result<api_response<oauth_token>> operator()(outcome<http_response>&& sent, std::string_view) const
    {
        return to_oauth_token(std::move(sent), *rules);
    }
};

template <class Client>
struct async_grant_runner {
    template <class CompletionToken>
    static auto run(Client& client, outcome<token_request>&& prepared, CompletionToken&& token)
    {
        using transport_type = std::remove_reference_t<decltype(client.transport())>;
        using state = async_call_state<transport_type, finish_token_request>;
        // The client must outlive the operation (documented); no owner is kept.
        auto st = std::make_shared<state>(nullptr, client.transport_, finish_token_request{});
        if (!prepared) {
            st->rejected.emplace(std::move(prepared.failure()));
        } else {
            st->request = std::move(prepared->request);
            st->finish.rules.emplace(std::move(prepared->rules));
            st->settings = client.core_.settings(*prepared);
            st->settings.rules = &*st->finish.rules; // the rules now live in the state
        }
        return start_async_call<void(result<api_response<oauth_token>>)>(std::move(st),
                                                                         std::forward<CompletionToken>(token));
    }
};

} // namespace genesys::detail

#endif
