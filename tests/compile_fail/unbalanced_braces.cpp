// SPDX-License-Identifier: BSL-1.0
// A path template with an unclosed brace is a compile-time error.
#include <genesys/genesys.hpp>

#ifdef GENESYS_COMPILE_FAIL_CONTROL
constexpr genesys::route<void, 1> bad{genesys::http_method::get, "/api/v2/users/{userId}", "getUser", {}, {200}, {}};
#else
constexpr genesys::route<void, 1> bad{genesys::http_method::get, "/api/v2/users/{userId", "getUser", {}, {200}, {}};
#endif

static_assert(bad.path.param_count() == 1);
