# SPDX-License-Identifier: BSL-1.0
# Builds and runs the consumer app one way. Invoked by ctest:
#   cmake -DMODE=... -DSOURCE_DIR=... -DBINARY_DIR=... -DWORK_DIR=... -DCXX=... -P run.cmake
# MODE: subdirectory | fetchcontent | find_package | pkg-config | single-header
cmake_minimum_required(VERSION 3.23)

function(run)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
    endif()
    set(last_output "${out}" PARENT_SCOPE)
endfunction()

set(app "${CMAKE_CURRENT_LIST_DIR}/app")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

if(MODE STREQUAL "find_package" OR MODE STREQUAL "pkg-config")
    set(prefix "${WORK_DIR}/prefix")
    run(${CMAKE_COMMAND} --install "${BINARY_DIR}" --prefix "${prefix}")
    # The licence goes with the package.
    if(NOT EXISTS "${prefix}/share/doc/genesys_tokens/LICENSE_1_0.txt")
        message(FATAL_ERROR "the install has no share/doc/genesys_tokens/LICENSE_1_0.txt")
    endif()
    file(READ "${prefix}/share/cmake/genesys_tokens/genesys_tokensConfig.cmake" config)
    if(NOT config MATCHES "set\\(genesys_tokens_LICENSE \"BSL-1.0\"\\)")
        message(FATAL_ERROR "genesys_tokensConfig.cmake does not name the licence")
    endif()
endif()

if(MODE MATCHES "^(subdirectory|fetchcontent|find_package)$")
    run(${CMAKE_COMMAND} -S "${app}" -B "${WORK_DIR}/build" -DGENESYS_MODE=${MODE}
        -DGENESYS_SOURCE_DIR=${SOURCE_DIR} -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_CXX_COMPILER=${CXX})
    run(${CMAKE_COMMAND} --build "${WORK_DIR}/build")
    set(exe "${WORK_DIR}/build/consumer")
elseif(MODE STREQUAL "pkg-config")
    set(ENV{PKG_CONFIG_PATH} "${prefix}/share/pkgconfig")
    run(pkg-config --cflags --libs genesys_tokens)
    string(STRIP "${last_output}" flags)
    separate_arguments(flags UNIX_COMMAND "${flags}")
    run(pkg-config --exists --print-errors "genesys_tokens >= 0.1")
    foreach(pc genesys_tokens genesys_tokens_curl genesys_tokens_beast)
        run(pkg-config --variable=license ${pc})
        string(STRIP "${last_output}" license)
        if(NOT license STREQUAL "BSL-1.0")
            message(FATAL_ERROR "${pc}.pc names the licence '${license}', not BSL-1.0")
        endif()
    endforeach()
    set(exe "${WORK_DIR}/consumer")
    run(${CXX} -std=c++20 "${app}/main.cpp" ${flags} -o "${exe}")
elseif(MODE STREQUAL "single-header")
    # Only the one generated file, copied into an otherwise empty directory.
    file(COPY "${SOURCE_DIR}/single_include/genesys/tokens.hpp" DESTINATION "${WORK_DIR}/vendor/genesys")
    set(exe "${WORK_DIR}/consumer")
    run(${CXX} -std=c++20 -DGENESYS_CONSUMER_SINGLE_HEADER -I "${WORK_DIR}/vendor" "${app}/main.cpp" -lboost_json -o "${exe}")
else()
    message(FATAL_ERROR "unknown MODE ${MODE}")
endif()

run("${exe}")
message("${last_output}")
