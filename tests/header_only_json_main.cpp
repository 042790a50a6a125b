// SPDX-License-Identifier: BSL-1.0
// Built without libboost_json: the implementation comes from header_only_json_impl.cpp.
#include <genesys/genesys.hpp>
#include <genesys/testing/fake_transport.hpp>

#include <iostream>

int main()
{
    genesys::testing::fake_transport fake;
    fake.respond(200, R"({"organization":{"id":"o-1","name":"Acme"},"authorizedScope":["a"]})");
    genesys::tokens_api api{fake, {.access_token = "header-only-token"}};
    auto info = api.get_tokens_me();
    if (!info.organization || info.organization->name != "Acme" || info.authorized_scope->size() != 1) {
        std::cerr << "decoded the wrong TokenInfo\n";
        return 1;
    }
    std::cout << "header-only Boost.JSON: ok\n";
    return 0;
}
