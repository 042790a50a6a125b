// SPDX-License-Identifier: BSL-1.0
// A service that obtains a token with the client-credentials grant, uses it, and revokes it.
// The token source caches the token, refreshes it before it expires, and refreshes once on a 401.
//   oauth_service CLIENT_ID CLIENT_SECRET [api-base-url]
// Against the emulator: oauth_service client-service service-secret-5b2d http://127.0.0.1:PORT

#include <genesys/genesys.hpp>
#include <genesys/transport/curl.hpp>

#include <chrono>
#include <iostream>
#include <string>

int main(int argc, char** argv)
{
    if (argc < 3) {
        std::cerr << "usage: oauth_service CLIENT_ID CLIENT_SECRET [api-base-url]\n";
        return 2;
    }
    const std::string api_base = argc > 3 ? argv[3] : genesys::api_base_url(genesys::region::us_east_1);

    genesys::oauth_config login{.login_url = genesys::login_url_for(api_base), .client_id = argv[1],
                                .client_secret = argv[2]};
    auto tokens = genesys::make_client_credentials_source(genesys::oauth_client{genesys::curl_transport{}, login},
                                                          {.refresh_margin = std::chrono::minutes(5)});

    genesys::client_config config{.base_url = api_base};
    config.token_source = tokens;
    config.retry = genesys::retry_policy::standard();
    genesys::tokens_api api{genesys::curl_transport{}, config};

    try {
        const genesys::token_info me = api.get_tokens_me(); // the first call logs in
        std::cout << "logged in as client "
                  << (me.oauth_client ? me.oauth_client->name : std::string("?")) << " of "
                  << me.organization.value_or(genesys::named_entity{}).name.value_or("?") << '\n';
        std::cout << "token valid: " << std::boolalpha << api.verify_token() << '\n';
        api.delete_tokens_me(); // revokes the token and drops it from the source
        std::cout << "token revoked; logins so far: " << tokens->fetch_count() << '\n';
        return 0;
    } catch (const genesys::exception& e) {
        if (auto refused = genesys::oauth_error_of(e))
            std::cerr << "login refused: " << refused->error.value_or("?") << '\n';
        else
            std::cerr << e.what() << '\n';
        return e.info().kind == genesys::error_kind::network ? 4 : 3;
    }
}
