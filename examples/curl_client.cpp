// SPDX-License-Identifier: BSL-1.0
// Verifies a token and shows what it is, over libcurl. The token comes from the environment.
//   GENESYS_CLOUD_ACCESS_TOKEN=... ./curl_client [region|base-url]

#include <genesys/genesys.hpp>
#include <genesys/transport/curl.hpp>

#include <cstdlib>
#include <iostream>
#include <string>

int main(int argc, char** argv)
{
    const char* token = std::getenv("GENESYS_CLOUD_ACCESS_TOKEN");
    if (!token || !*token) {
        std::cerr << "set GENESYS_CLOUD_ACCESS_TOKEN\n";
        return 2;
    }
    genesys::client_config config{.access_token = token};
    if (argc > 1) {
        const std::string where = argv[1];
        if (auto region = genesys::find_region(where))
            config.base_url = genesys::api_base_url(*region);
        else
            config.base_url = where; // a gateway, or the emulator: http://127.0.0.1:PORT
    }
    config.retry = genesys::retry_policy::standard();

    genesys::curl_options options;
    options.timeout = std::chrono::seconds(10);
    genesys::tokens_api api{genesys::curl_transport(options), config};

    auto valid = api.try_verify_token();
    if (!valid) {
        std::cerr << valid.error() << '\n';
        return valid.error().kind == genesys::error_kind::network ? 4 : 3;
    }
    if (!valid->data) {
        std::cout << "the token is not valid\n";
        return 1;
    }
    const genesys::token_info info = api.get_tokens_me(/*preserve_idle_ttl=*/true);
    std::cout << "valid token of " << info.organization.value_or(genesys::named_entity{}).name.value_or("?")
              << (info.oauth_client ? ", client " + info.oauth_client->name : std::string()) << '\n';
    return 0;
}
