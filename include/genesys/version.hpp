// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_VERSION_HPP
#define GENESYS_VERSION_HPP

/// @file
/// The library version. `CMakeLists.txt` carries the same number; a test checks that they agree.

#include <string_view>

/// The major version number.
#define GENESYS_TOKENS_VERSION_MAJOR 0
/// The minor version number.
#define GENESYS_TOKENS_VERSION_MINOR 2
/// The patch version number.
#define GENESYS_TOKENS_VERSION_PATCH 0
/// The whole version as a string literal, `"MAJOR.MINOR.PATCH"`.
#define GENESYS_TOKENS_VERSION_STRING "0.2.0"

namespace genesys {

/// The library version as `"MAJOR.MINOR.PATCH"`.
inline constexpr std::string_view version = GENESYS_TOKENS_VERSION_STRING;

/// The default `User-Agent` sent with every request, naming this library and its version.
inline constexpr std::string_view default_user_agent = "genesys-tokens-cpp/" GENESYS_TOKENS_VERSION_STRING;

} // namespace genesys

#endif
