// SPDX-License-Identifier: BSL-1.0
// A parameter must be a whole path segment: "/tokens/x{userId}" is a compile-time error.
#include <genesys/genesys.hpp>

#ifdef GENESYS_COMPILE_FAIL_CONTROL
constexpr genesys::route<void, 1> bad{genesys::http_method::get, "/api/v2/tokens/{userId}", "x", {}, {}, {}};
#else
constexpr genesys::route<void, 1> bad{genesys::http_method::get, "/api/v2/tokens/x{userId}", "x", {}, {}, {}};
#endif

static_assert(bad.path.param_count() == 1);
