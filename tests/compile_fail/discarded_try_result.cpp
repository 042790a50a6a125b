// SPDX-License-Identifier: BSL-1.0
// Dropping the result of a `try_` operation is diagnosed: `api.try_delete_token(id);` would
// silently ignore a 403. (Built with -Werror=unused-result.)
#include <genesys/genesys.hpp>
#include <genesys/testing/fake_transport.hpp>

void revoke(genesys::tokens_api<genesys::testing::fake_transport>& api)
{
#ifdef GENESYS_COMPILE_FAIL_CONTROL
    auto r = api.try_delete_token("user-1");
    (void)r;
#else
    api.try_delete_token("user-1");
#endif
}
