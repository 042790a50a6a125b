// SPDX-License-Identifier: BSL-1.0
// A service's unit that checks bearer tokens: it includes the token validator and validates with
// one blocking transport. Header-only it includes the single header; in the compiled mode
// (GENESYS_TOKENS_SEPARATE_COMPILATION, against include/) the validator's header, whose
// implementation is compiled once elsewhere (<genesys/src.hpp>).
#if defined(GENESYS_TOKENS_SEPARATE_COMPILATION)
#include <genesys/token_validator.hpp>
#else
#include <genesys/tokens.hpp>
#endif

namespace {

struct canned_transport {
    genesys::http_response send(const genesys::http_request&) { return {200, {}, "{}"}; }
};

} // namespace

int main()
{
    genesys::token_validator validator{canned_transport{}, genesys::token_validator_config{}};
    auto checked = validator.validate("token");
    return checked && validator.stats().misses == 1 ? 0 : 1;
}
