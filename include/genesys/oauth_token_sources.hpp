// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_OAUTH_TOKEN_SOURCES_HPP
#define GENESYS_OAUTH_TOKEN_SOURCES_HPP

/// @file
/// Token sources that keep a token fresh with an `oauth_client`: client credentials, refresh token.

#include <genesys/async_transport.hpp>
#include <genesys/models/oauth_token.hpp>
#include <genesys/oauth_client.hpp>
#include <genesys/result.hpp>
#include <genesys/token_source.hpp>
#include <genesys/transport.hpp>

#include <functional>
#include <memory>
#include <string>
#include <utility>

namespace genesys {

/** A token source that gets its tokens with the client-credentials grant of `client`: the
    usual choice for a service.

    @param client Moved into the source, which alone calls it (one grant at a time, on the thread
    of the call that needs a token).
    @param options How the token is kept.
    @return The source, to set as `client_config::token_source`. A refused grant is the error of
    the calls that needed the token (see `token_source::try_token`), its code matching
    `condition::login_failed` and its message saying the login host answered (`"getTokensMe could
    not get a token: requestToken failed: the login host answered HTTP 401 invalid_client: ..."`);
    nothing is cached then. A 429 of the login host is retried as `oauth_config::retry` says.

    @code
    auto source = genesys::make_client_credentials_source(
        genesys::oauth_client{genesys::curl_transport{}, genesys::oauth_config::for_region(r, id, secret)},
        {.refresh_margin = std::chrono::minutes(5)});
    @endcode
*/
template <transport Transport>
std::shared_ptr<token_source> make_client_credentials_source(oauth_client<Transport> client,
                                                             token_source_options options = {})
{
    auto shared = std::make_shared<oauth_client<Transport>>(std::move(client));
    return std::make_shared<token_source>([shared] { return shared->try_client_credentials(); }, std::move(options));
}

namespace detail {

/// What a refresh-token source keeps between grants: its client, and the newest refresh token
/// the login host sent (it may rotate it with every grant).
template <class Client>
struct refresh_state {
    refresh_state(Client c, const oauth_token& initial)
        : client(std::move(c)), refresh_token(initial.refresh_token.value_or(""))
    {
    }

    /// Keeps the refresh token a successful grant `r` carries, if any.
    void remember(const result<api_response<oauth_token>>& r)
    {
        if (r && r->data.refresh_token && !r->data.refresh_token->empty())
            refresh_token = *r->data.refresh_token;
    }

    Client client;
    std::string refresh_token;
};

} // namespace detail

/** A token source that starts with `initial` (e.g. from `authorization_code` or `saml2_bearer`)
    and renews it with the refresh-token grant of `client`, using the newest refresh token the
    login host sent.

    The login host rotates refresh tokens: give `token_source_options::on_refresh_token` to keep
    each new one, and start again from the kept one after a restart (the overload below).

    @param client Moved into the source, which alone calls it, one grant at a time.
    @param initial The first token, its lifetime counted from now (one unfit for a Bearer header
    is ignored: the first call renews), and the first refresh token. Without a refresh token,
    renewing fails with `invalid_argument`. `on_refresh_token` is not called for this one.
    @param options How the token is kept.
    @return The source, to set as `client_config::token_source`.
*/
template <transport Transport>
std::shared_ptr<token_source> make_refresh_token_source(oauth_client<Transport> client, oauth_token initial,
                                                        token_source_options options = {})
{
    auto shared = std::make_shared<detail::refresh_state<oauth_client<Transport>>>(std::move(client), initial);
    auto fetch = [shared]() -> result<api_response<oauth_token>> {
        auto r = shared->client.try_refresh_token(shared->refresh_token);
        shared->remember(r);
        return r;
    };
    return std::make_shared<token_source>(std::move(fetch), std::move(initial), std::move(options));
}

/** A refresh-token source that starts from a refresh token alone (one an earlier run kept through
    `token_source_options::on_refresh_token`): its first call is a refresh-token grant.

    @param client Moved into the source, which alone calls it, one grant at a time.
    @param refresh_token The refresh token to start from; `on_refresh_token` is not called for it.
    Empty: every call fails with `invalid_argument`. One the login host refuses (spent by an
    earlier refresh, revoked, expired) is the error of the calls that need a token, a 400
    `invalid_grant` matching `condition::login_failed`.
    @param options How the token is kept.
    @return The source, to set as `client_config::token_source`.

    @code
    auto source = genesys::make_refresh_token_source(
        genesys::oauth_client{genesys::curl_transport{}, oauth_cfg}, read_kept_refresh_token(),
        {.on_refresh_token = [](std::string_view rotated) { keep_refresh_token(rotated); }});
    @endcode
*/
template <transport Transport>
std::shared_ptr<token_source> make_refresh_token_source(oauth_client<Transport> client, std::string refresh_token,
                                                        token_source_options options = {})
{
    oauth_token initial;
    initial.refresh_token = std::move(refresh_token);
    return make_refresh_token_source(std::move(client), std::move(initial), std::move(options));
}

/** The client-credentials source of an `oauth_client` over an asynchronous transport: the same
    as above, with the asynchronous grant (include `<genesys/async.hpp>` where it is
    instantiated).

    The grant completes on the transport's executor: blocking callers wait for it on a condition
    variable (so never on a thread that executor needs); asynchronous ones (`async_token`,
    `async_tokens_api`) never block.

    @param client Moved into the source, which alone calls it (one grant at a time).
    @param options How the token is kept.
    @return The source, to set as `client_config::token_source`.
*/
template <class Transport>
    requires async_transport<Transport>
std::shared_ptr<token_source> make_client_credentials_source(oauth_client<Transport> client,
                                                             token_source_options options = {})
{
    auto shared = std::make_shared<oauth_client<Transport>>(std::move(client));
    return std::make_shared<token_source>(
        token_source::async_fetch_function([shared](std::function<void(result<api_response<oauth_token>>)> done) {
            shared->async_client_credentials(std::move(done));
        }),
        std::move(options));
}

/** The refresh-token source of an `oauth_client` over an asynchronous transport: the same as
    above, with the asynchronous grant; blocking and asynchronous callers as for
    `make_client_credentials_source`.

    @param client Moved into the source, which alone calls it (one grant at a time).
    @param initial The token of an earlier grant, as for the blocking source (its refresh token
    too: `on_refresh_token` is not called for it).
    @param options How the token is kept.
    @return The source, to set as `client_config::token_source`.
*/
template <class Transport>
    requires async_transport<Transport>
std::shared_ptr<token_source> make_refresh_token_source(oauth_client<Transport> client, oauth_token initial,
                                                        token_source_options options = {})
{
    auto shared = std::make_shared<detail::refresh_state<oauth_client<Transport>>>(std::move(client), initial);
    auto fetch = [shared](std::function<void(result<api_response<oauth_token>>)> done) {
        shared->client.async_refresh_token(shared->refresh_token,
                                           [shared, done = std::move(done)](result<api_response<oauth_token>> r) {
                                               shared->remember(r);
                                               done(std::move(r));
                                           });
    };
    return std::make_shared<token_source>(token_source::async_fetch_function(std::move(fetch)), std::move(initial),
                                          std::move(options));
}

/** The refresh-token source of an `oauth_client` over an asynchronous transport, started from a
    refresh token alone: as the blocking one above, with the asynchronous grant.

    @param client Moved into the source, which alone calls it (one grant at a time).
    @param refresh_token The refresh token to start from, as for the blocking source.
    @param options How the token is kept.
    @return The source, to set as `client_config::token_source`.
*/
template <class Transport>
    requires async_transport<Transport>
std::shared_ptr<token_source> make_refresh_token_source(oauth_client<Transport> client, std::string refresh_token,
                                                        token_source_options options = {})
{
    oauth_token initial;
    initial.refresh_token = std::move(refresh_token);
    return make_refresh_token_source(std::move(client), std::move(initial), std::move(options));
}

} // namespace genesys

#endif
