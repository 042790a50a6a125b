# SPDX-License-Identifier: BSL-1.0
# Runs one libFuzzer target for a bounded time on a fresh copy of its committed seed corpus, so the
# committed corpus is never modified. Fails (non-zero exit) when the fuzzer does: a crash, a
# sanitizer report (UBSan included, see UBSAN_OPTIONS below), a timeout, running out of memory,
# or a broken invariant (__builtin_trap).
#
#   cmake -DFUZZER=<executable> -DCORPUS=<seed dir> -DWORK_DIR=<scratch dir> -DSECONDS=<n> -P run_fuzzer.cmake
#
# The corpus copy is <WORK_DIR>/corpus (it grows with what the run finds); a failing input is written
# to <WORK_DIR>/artifacts/.

foreach(var FUZZER CORPUS WORK_DIR SECONDS)
    if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
        message(FATAL_ERROR "run_fuzzer.cmake: -D${var}=... is required")
    endif()
endforeach()
if(NOT IS_DIRECTORY "${CORPUS}")
    message(FATAL_ERROR "run_fuzzer.cmake: no seed corpus at ${CORPUS}")
endif()

set(copy "${WORK_DIR}/corpus")
set(artifacts "${WORK_DIR}/artifacts")
file(REMOVE_RECURSE "${copy}" "${artifacts}")
file(MAKE_DIRECTORY "${copy}" "${artifacts}")
file(GLOB seeds LIST_DIRECTORIES false "${CORPUS}/*")
if(seeds)
    file(COPY ${seeds} DESTINATION "${copy}")
endif()

# UndefinedBehaviorSanitizer (when the build has it) only prints by default: make it fail the run.
if(NOT DEFINED ENV{UBSAN_OPTIONS})
    set(ENV{UBSAN_OPTIONS} "halt_on_error=1:print_stacktrace=1")
endif()

set(command "${FUZZER}"
    "-max_total_time=${SECONDS}"
    -timeout=10
    -rss_limit_mb=2048
    -use_value_profile=1
    -print_final_stats=1
    "-artifact_prefix=${artifacts}/"
    "${copy}")
string(REPLACE ";" " " shown "${command}")
message(STATUS "Running: ${shown}")
execute_process(COMMAND ${command} WORKING_DIRECTORY "${WORK_DIR}" RESULT_VARIABLE rc)

if(NOT rc STREQUAL "0")
    file(GLOB found "${artifacts}/*")
    string(REPLACE ";" "\n  " found "${found}")
    message(FATAL_ERROR "${FUZZER} failed (exit ${rc}). Reproducer(s):\n  ${found}\n"
        "Re-run one with: ${FUZZER} <file>")
endif()
