#!/usr/bin/env bash
# Builds everything and runs the whole suite with ctest:
#   - g++, Debug, -Werror, the compiled mode (GENESYS_TOKENS_SEPARATE_COMPILATION: the library
#     compiled once, in genesys::tokens_compiled): every test, and the benchmarks built (their
#     allocation budget checked); the single-header suite and the consumer builds are header-only;
#   - g++, Release, -Werror, header-only: the core, async and adapter suites again, optimized;
#   - clang++ with AddressSanitizer + UndefinedBehaviorSanitizer, -Werror, header-only: every test
#     (not the single-header copy of the core suite nor the examples, which g++ runs), plus the
#     libFuzzer targets, each run for a bounded time;
#   - clang++ with ThreadSanitizer: the concurrency tests, the asynchronous API's and the token
#     validator's.
# Knobs: GENESYS_COMPILERS="g++ clang++" (either or both), GENESYS_SANITIZE=0 (plain clang, no
# TSan stage), GENESYS_FUZZ_SECONDS=10 (per fuzz target).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source scripts/lib/packages.sh
ensure_packages cmake make ninja-build g++ clang libclang-rt-14-dev libboost-json1.81-dev doctest-dev \
    libcurl4-openssl-dev libssl-dev openssl pkgconf doxygen libbenchmark-dev

tools/amalgamate.sh --check

jobs=$(nproc 2>/dev/null || echo 2)
sanitize=${GENESYS_SANITIZE:-1}
# -fno-sanitize=function: clang 14 cannot compile C++20 coroutines with it (llvm#49689).
asan_flags="-fsanitize=address,undefined -fno-sanitize=function -fno-sanitize-recover=all -fno-omit-frame-pointer"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1}

stage() { # name build-type compiler flags targets ctest-filter [cmake args...]
    local name=$1 type=$2 cxx=$3 flags=$4 targets=$5 filter=$6
    shift 6
    local build="build/$name" started=$SECONDS built generator=()
    echo "==== $name ($type): $cxx $flags"
    # Ninja schedules every target of a stage on both cores at once (a Makefile build runs the
    # targets one after the other); a build directory made earlier keeps its own generator.
    [[ -f $build/CMakeCache.txt ]] || generator=(-G Ninja)
    # Warnings are errors here (and for developers), never in a user's build of the project.
    # Debug builds carry line tables only (-g1): enough for backtraces and the sanitizers'
    # reports, and about a fifth less compile time than -g with g++.
    cmake -S . -B "$build" "${generator[@]}" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE="$type" \
        -DGENESYS_TOKENS_WARNINGS_AS_ERRORS=ON -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_CXX_FLAGS_DEBUG=-g1 \
        "$@" >/dev/null
    # all_verify_interface_header_sets compiles each public header on its own.
    cmake --build "$build" -j "$jobs" --target $targets
    built=$SECONDS
    ctest --test-dir "$build" --output-on-failure --no-tests=error -j "$jobs" ${filter:+-R "$filter"}
    timings+=("$name: build $((built - started)) s, tests $((SECONDS - built)) s")
}
timings=("packages and single-header check: $SECONDS s")

for cxx in ${GENESYS_COMPILERS:-g++ clang++}; do
    if [[ $cxx == clang* && $sanitize == 1 ]]; then
        # Each header's self-containment is checked once, in the g++ stage (the same libstdc++).
        stage clang-asan Debug "$cxx" "$asan_flags" all "" \
            -DGENESYS_TOKENS_BUILD_FUZZERS=ON -DGENESYS_FUZZ_SECONDS="${GENESYS_FUZZ_SECONDS:-10}" \
            -DGENESYS_TOKENS_CONSUMER_TESTS=OFF -DGENESYS_TOKENS_TEST_SINGLE_HEADER=OFF \
            -DGENESYS_TOKENS_BUILD_EXAMPLES=OFF
        stage clang-tsan Debug "$cxx" "-fsanitize=thread" "genesys_concurrency_tests genesys_async_tests genesys_validator_tests" \
            "^(tsan|async|validator):" \
            -DGENESYS_TOKENS_BUILD_TOOLS=OFF -DGENESYS_TOKENS_CONSUMER_TESTS=OFF
    else
        # The benchmarks are built here, and their allocation budget and loopback smoke run tested.
        # The whole suite in the compiled mode here; header-only in the other stages.
        stage "${cxx%++}" Debug "$cxx" "" "all all_verify_interface_header_sets" "" -DGENESYS_TOKENS_BUILD_BENCHMARKS=ON \
            -DGENESYS_TOKENS_SEPARATE_COMPILATION=ON
        # Release: where optimizer warnings (g++ 12's -Wrestrict, -Wstringop-overflow) and
        # optimizer-exposed bugs show: the core, the asynchronous API and the adapters, optimized.
        # (The emulator and integration suites, the single-header suite, the examples and the
        # consumer builds test the same library code again: Debug has them.)
        stage "${cxx%++}-release" Release "$cxx" "" \
            "genesys_tokens_tests genesys_async_tests genesys_transport_tests genesys_beast_async_tests" \
            "^(include|async|transport|beast_async):" -DGENESYS_TOKENS_CONSUMER_TESTS=OFF
    fi
done
printf '==== stage times\n'
printf '  %s\n' "${timings[@]}"
