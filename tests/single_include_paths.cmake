# SPDX-License-Identifier: BSL-1.0
# single_include/ keeps the include paths of include/: a copy of single_include/ alone (no include/,
# no other -I), and a program of two translation units written as against include/: one includes
# <genesys/testing/fake_transport.hpp> then <genesys/tokens.hpp>, the other the reverse. Built and run.
# Invoked by ctest: cmake -DSOURCE_DIR=... -DWORK_DIR=... -DCXX=... -P single_include_paths.cmake
cmake_minimum_required(VERSION 3.23)

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
file(COPY "${SOURCE_DIR}/single_include/" DESTINATION "${WORK_DIR}/vendor")

file(WRITE "${WORK_DIR}/call.cpp" [=[
#include <genesys/testing/fake_transport.hpp>
#include <genesys/tokens.hpp>

#include <string>

std::string organization_over_a_fake()
{
    genesys::testing::fake_transport fake;
    fake.respond(200, R"({"organization":{"id":"o-1","name":"Fake Org"}})");
    genesys::tokens_api api{fake, {.access_token = "single-include-test-token"}};
    const auto info = api.get_tokens_me();
    const auto sent = fake.last_request();
    if (!sent || sent->url != "https://api.mypurecloud.com/api/v2/tokens/me")
        return "wrong request";
    return info.organization->name.value_or("?");
}
]=])
file(WRITE "${WORK_DIR}/main.cpp" [=[
#include <genesys/tokens.hpp>
#include <genesys/testing/fake_transport.hpp>

#include <iostream>
#include <string>

std::string organization_over_a_fake();

int main()
{
    genesys::testing::fake_transport fake; // the same class in both units
    std::cout << "single_include paths ok: " << organization_over_a_fake() << '\n';
}
]=])

execute_process(
    COMMAND "${CXX}" -std=c++20 -I "${WORK_DIR}/vendor" "${WORK_DIR}/call.cpp" "${WORK_DIR}/main.cpp" -lboost_json
        -o "${WORK_DIR}/program"
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "a program including <genesys/testing/fake_transport.hpp> does not build against "
        "single_include/ alone:\n${out}\n${err}")
endif()
execute_process(COMMAND "${WORK_DIR}/program" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "the program failed (${rc}):\n${out}\n${err}")
endif()
message("${out}")
