// SPDX-License-Identifier: BSL-1.0
// Expanding a path without a value for each parameter is a compile-time error.
#include <genesys/genesys.hpp>

#include <string>

std::string expand()
{
    std::string out;
#ifdef GENESYS_COMPILE_FAIL_CONTROL
    genesys::routes::delete_token.path.append_to(out, "user-1");
#else
    genesys::routes::delete_token.path.append_to(out);
#endif
    return out;
}
