// SPDX-License-Identifier: BSL-1.0
// A type without `send(const http_request&)` is not a transport: tokens_api<T> must be
// rejected by the `genesys::transport` concept, with a diagnostic that says so.
#include <genesys/genesys.hpp>

struct not_a_transport {
    int send(int) { return 0; }
};

struct a_transport {
    genesys::http_response send(const genesys::http_request&) { return {204, {}, {}}; }
};

#ifdef GENESYS_COMPILE_FAIL_CONTROL
using transport_under_test = a_transport;
#else
using transport_under_test = not_a_transport;
#endif

void use()
{
    genesys::tokens_api<transport_under_test> api{transport_under_test{}, {.access_token = "token-for-compile-test"}};
    api.delete_tokens_me();
}
