// SPDX-License-Identifier: BSL-1.0
// The translation unit of the compiled mode: the CMake target genesys::tokens_compiled.
#include <genesys/src.hpp>
