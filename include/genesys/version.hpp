#ifndef GENESYS_VERSION_HPP
#define GENESYS_VERSION_HPP

/// @file
/// The library version. `CMakeLists.txt` carries the same number; a test checks that they agree.

#include <string_view>

#define GENESYS_TOKENS_VERSION_MAJOR 0
#define GENESYS_TOKENS_VERSION_MINOR 1
#define GENESYS_TOKENS_VERSION_PATCH 0
#define GENESYS_TOKENS_VERSION_STRING "0.1.0"

namespace genesys {

/// The library version as `"MAJOR.MINOR.PATCH"`.
inline constexpr std::string_view version = GENESYS_TOKENS_VERSION_STRING;

/// The default `User-Agent` sent with every request, naming this library and its version.
inline constexpr std::string_view default_user_agent = "genesys-tokens-cpp/" GENESYS_TOKENS_VERSION_STRING;

} // namespace genesys

#endif
