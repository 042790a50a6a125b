# SPDX-License-Identifier: BSL-1.0
# What a header of the compiled mode pulls in: run with
#   cmake -DCXX=<compiler> -DINCLUDE_DIR=<include/> -DHEADER=genesys/tokens_api.hpp -DWORK=<dir>
#         [-DDECLARATIONS_ONLY=OFF] -P this
# The header, with GENESYS_TOKENS_SEPARATE_COMPILATION, must include neither Boost.JSON nor
# Boost.Asio nor the implementation's own headers; without it (header-only) it must include the
# implementation, so the check is known to see what it looks for.
set(unit "${WORK}/compiled_mode_headers.cpp")
file(WRITE "${unit}" "#include <${HEADER}>\n")
# Nor, so that a unit using the client stays as cheap as a Boost.JSON-only one, what only the
# implementation needs: the public headers' bodies (genesys/impl/, genesys/models/impl/), the
# models' JSON tables, the call path's outcome type.
# DECLARATIONS_ONLY=OFF (the OAuth client, whose header declares the call path's types for its
# asynchronous forms) checks the first rules only: no Boost.JSON, no Asio, no impl/ headers.
set(forbidden "boost/json|boost/asio|genesys/([a-z_]+/)?impl/")
if(NOT DEFINED DECLARATIONS_ONLY OR DECLARATIONS_ONLY)
    string(APPEND forbidden "|genesys/detail/(json_codec|client_core|call_machine|failure|model_fields|outcome)")
endif()

function(included_headers out)
    execute_process(COMMAND "${CXX}" -std=c++20 ${ARGN} "-I${INCLUDE_DIR}" -H -E "${unit}" -o /dev/null
        RESULT_VARIABLE rc ERROR_VARIABLE listing)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "${HEADER} does not preprocess (${ARGN}):\n${listing}")
    endif()
    set(${out} "${listing}" PARENT_SCOPE)
endfunction()

included_headers(compiled -DGENESYS_TOKENS_SEPARATE_COMPILATION)
string(REGEX MATCHALL "[^\n]*(${forbidden})[^\n]*" hits "${compiled}")
if(hits)
    list(JOIN hits "\n" shown)
    message(FATAL_ERROR "in the compiled mode, <${HEADER}> includes:\n${shown}")
endif()

included_headers(header_only)
if(NOT header_only MATCHES "boost/json" OR NOT header_only MATCHES "genesys/(detail/)?impl/")
    message(FATAL_ERROR "header-only, <${HEADER}> should include its implementation and Boost.JSON")
endif()
message(STATUS "<${HEADER}> in the compiled mode: no Boost.JSON, no Asio, no implementation headers")
