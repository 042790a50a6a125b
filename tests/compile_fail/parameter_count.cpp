// SPDX-License-Identifier: BSL-1.0
// A route declaring a different number of parameters than its template holds is a compile-time error.
#include <genesys/genesys.hpp>

#ifdef GENESYS_COMPILE_FAIL_CONTROL
constexpr genesys::route<void, 2> bad{
    genesys::http_method::get, "/api/v2/users/{userId}/tokens/{tokenId}", "getUserToken", {}, {200}, {}};
#else
constexpr genesys::route<void, 2> bad{genesys::http_method::get, "/api/v2/users/{userId}", "getUserToken", {}, {200}, {}};
#endif

static_assert(bad.path.param_count() == 2);
