// SPDX-License-Identifier: BSL-1.0
// The one translation unit that compiles Boost.JSON's implementation.
#define GENESYS_TOKENS_BOOST_JSON_IMPLEMENTATION
#include <genesys/genesys.hpp>
