// SPDX-License-Identifier: BSL-1.0
// Revokes every token of a user over Boost.Beast (https with certificate verification).
//   GENESYS_CLOUD_ACCESS_TOKEN=... ./beast_client USER_ID [base-url]

#include <genesys/genesys.hpp>
#include <genesys/transport/beast.hpp>

#include <cstdlib>
#include <iostream>

int main(int argc, char** argv)
{
    const char* token = std::getenv("GENESYS_CLOUD_ACCESS_TOKEN");
    if (argc < 2 || !token || !*token) {
        std::cerr << "usage: GENESYS_CLOUD_ACCESS_TOKEN=... beast_client USER_ID [base-url]\n";
        return 2;
    }
    genesys::client_config config{.access_token = token};
    if (argc > 2)
        config.base_url = argv[2];

    genesys::beast_options options;
    options.timeout = std::chrono::seconds(10);
    genesys::tokens_api api{genesys::beast_transport(options), config};
    try {
        api.delete_token(argv[1]);
        std::cout << "revoked every token of " << argv[1] << '\n';
        return 0;
    } catch (const genesys::api_error& e) {
        std::cerr << "HTTP " << e.status() << ' ' << (e.body() ? e.body()->code.value_or("") : "") << " (correlation id "
                  << e.correlation_id() << ")\n";
        return 3;
    } catch (const genesys::exception& e) {
        std::cerr << e.what() << '\n';
        return e.info().kind == genesys::error_kind::network ? 4 : 2;
    }
}
