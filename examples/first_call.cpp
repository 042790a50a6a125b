// SPDX-License-Identifier: BSL-1.0
#include <genesys/tokens.hpp>
#include <genesys/transport/curl.hpp>
#include <cstdlib>
#include <exception>
#include <iostream>

// Who am I? One GET /api/v2/tokens/me over libcurl, against the emulator by default.
int main(int argc, char** argv) {
    const char* token = std::getenv("GENESYS_CLOUD_ACCESS_TOKEN");
    try {
        genesys::tokens_api api{genesys::curl_transport{},
                                {.base_url = argc > 1 ? argv[1] : "http://127.0.0.1:8765",
                                 .access_token = token ? token : "emulator-admin-token-7c1f"}}; // seeded by the emulator
        const genesys::token_info me = api.get_tokens_me();
        std::cout << "organization: " << me.organization.value().name.value_or("?") << '\n'
                  << "client:       " << me.oauth_client.value().name << '\n'
                  << "idles at:     " << (me.date_token_idles ? genesys::format_date_time(*me.date_token_idles) : "never")
                  << '\n';
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << '\n';
        return 1;
    }
}
