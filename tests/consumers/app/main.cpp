// SPDX-License-Identifier: BSL-1.0
// A program that uses the library the way a consumer does: one call over the fake transport.
#include <genesys/tokens.hpp>
#if !defined(GENESYS_CONSUMER_SINGLE_HEADER) // the single header holds the fake too
#include <genesys/testing/fake_transport.hpp>
#endif

#include <iostream>

int main()
{
    genesys::testing::fake_transport fake;
    fake.respond(200, R"({"organization":{"id":"o-1","name":"Consumer Org"}})");
    genesys::tokens_api api{fake, {.access_token = "consumer-test-token"}};
    const auto info = api.get_tokens_me();
    const auto sent = fake.last_request();
    if (!info.organization || info.organization->name != "Consumer Org" || !sent ||
        sent->url != "https://api.mypurecloud.com/api/v2/tokens/me") {
        std::cerr << "consumer: unexpected result\n";
        return 1;
    }
    std::cout << "consumer ok: " << *info.organization->name << " via genesys-tokens-cpp " << genesys::version << '\n';
    return 0;
}
