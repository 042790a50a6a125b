// SPDX-License-Identifier: BSL-1.0
// The unit whose compile time is compared with boost_json_only.cpp: it includes the library and
// instantiates tokens_api with one transport, calling every operation. Header-only, it includes the
// single header; in the compiled mode (GENESYS_TOKENS_SEPARATE_COMPILATION, against include/) the
// Tokens client's header, whose implementation is compiled once elsewhere (<genesys/src.hpp>).
#if defined(GENESYS_TOKENS_SEPARATE_COMPILATION)
#include <genesys/tokens_api.hpp>
#else
#include <genesys/tokens.hpp>
#endif

#include <string>

namespace {

struct canned_transport {
    genesys::http_response send(const genesys::http_request&) { return {200, {}, "{}"}; }
};

} // namespace

int main()
{
    genesys::tokens_api api{canned_transport{}, {.access_token = "token"}};
    int failures = 0;
    failures += api.try_verify_token() ? 0 : 1;
    failures += api.try_get_tokens_me(true) ? 0 : 1;
    failures += api.try_delete_token("0d6f2a31-5b7c-4e8d-9f10-1a2b3c4d5e6f") ? 0 : 1;
    failures += api.try_delete_tokens_me() ? 0 : 1;
    failures += api.try_get_tokens_timeout() ? 0 : 1;
    failures += api.try_put_tokens_timeout({}) ? 0 : 1;
    return failures;
}
