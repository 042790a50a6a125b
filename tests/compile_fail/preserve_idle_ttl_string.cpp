// SPDX-License-Identifier: BSL-1.0
// `get_tokens_me("false")` must not compile: a string would convert to `true`.
#include <genesys/genesys.hpp>
#include <genesys/testing/fake_transport.hpp>

genesys::token_info call(genesys::tokens_api<genesys::testing::fake_transport>& api)
{
#ifdef GENESYS_COMPILE_FAIL_CONTROL
    return api.get_tokens_me(false);
#else
    return api.get_tokens_me("false");
#endif
}
