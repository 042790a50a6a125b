// SPDX-License-Identifier: BSL-1.0
#include <genesys/genesys.hpp>
#include <iostream>

// Any type with `send(const http_request&)` is a transport: call your own HTTP stack here.
struct my_transport {
    genesys::http_response send(const genesys::http_request& req) {
        std::cout << genesys::to_string(req.method) << ' ' << req.url << '\n';
        return {200, {{"ININ-Correlation-Id", "c-1"}}, R"({"organization":{"name":"Acme"}})"};
    }
};

int main() {
    genesys::tokens_api api{my_transport{}, {.access_token = "my-access-token"}};
    genesys::token_info info = api.get_tokens_me();
    std::cout << "organization: " << info.organization->name.value_or("?") << '\n';
}
