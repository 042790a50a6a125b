// SPDX-License-Identifier: BSL-1.0
// <genesys/version.hpp>: the version macros and the default User-Agent.
#include <genesys/version.hpp>

#include "fixtures.hpp"

#include <string>

TEST_CASE("the header's version agrees with CMakeLists.txt")
{
    CHECK(std::string(GENESYS_TOKENS_VERSION_STRING) == GENESYS_TEST_CMAKE_VERSION);
    CHECK(genesys::version == GENESYS_TEST_CMAKE_VERSION);
    CHECK(std::to_string(GENESYS_TOKENS_VERSION_MAJOR) + "." + std::to_string(GENESYS_TOKENS_VERSION_MINOR) + "." +
              std::to_string(GENESYS_TOKENS_VERSION_PATCH) ==
          GENESYS_TEST_CMAKE_VERSION);
}

TEST_CASE("the default User-Agent names the library and its version")
{
    CHECK(genesys::default_user_agent == std::string("genesys-tokens-cpp/") + GENESYS_TEST_CMAKE_VERSION);
    CHECK(genesys::client_config{}.user_agent == genesys::default_user_agent);
}
