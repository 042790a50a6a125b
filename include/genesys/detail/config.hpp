// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DETAIL_CONFIG_HPP
#define GENESYS_DETAIL_CONFIG_HPP

// Header-only or compiled, as Boost.JSON and Boost.MySQL do it.
//
// By default the library is header-only: every function is defined in the headers (`inline`).
// Define GENESYS_TOKENS_SEPARATE_COMPILATION (the CMake option of the same name does it for the
// `genesys::tokens` target; the target `genesys::tokens_compiled` always does) and the headers
// declare the non-template code only; <genesys/src.hpp>, included in exactly one translation unit,
// defines it. The public headers of the compiled mode then include neither <boost/json.hpp> nor
// the implementation's own headers.

#if defined(GENESYS_TOKENS_SEPARATE_COMPILATION)
/// A function defined once, in <genesys/src.hpp>.
#define GENESYS_DECL
#else
/// A function defined in the header that declares it (`inline`).
#define GENESYS_DECL inline
#endif

#endif
