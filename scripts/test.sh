#!/usr/bin/env bash
# SPDX-License-Identifier: BSL-1.0
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
# Every compile goes through ccache (tests/README.md: the cold and warm times, the cache).
#
# The quick loop, while changing code: `scripts/test.sh --quick [ctest-regex]` builds and runs the
# g++ Debug stage only (in build/g, which the full run reuses), optionally only the tests whose
# names match the regex, e.g. `scripts/test.sh --quick '^validator:'`.
#
# Knobs: GENESYS_COMPILERS="g++ clang++" (either or both), GENESYS_SANITIZE=0 (plain clang, no
# TSan stage), GENESYS_FUZZ_SECONDS=10 (per fuzz target), GENESYS_CCACHE=0 (no compiler cache),
# CCACHE_DIR and CCACHE_MAXSIZE (where the cache is and its bound; default ~/.cache/ccache, 8 GiB).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
quick=0 quick_filter=
if [[ ${1:-} == --quick ]]; then
    quick=1 quick_filter=${2:-}
elif [[ $# -gt 0 ]]; then
    echo "usage: scripts/test.sh [--quick [ctest-regex]]" >&2
    exit 2
fi
source scripts/lib/packages.sh
ensure_packages cmake make ninja-build g++ clang libclang-rt-14-dev libboost-json1.81-dev doctest-dev \
    libcurl4-openssl-dev libssl-dev openssl pkgconf doxygen libbenchmark-dev ccache tinyproxy redis-server libhiredis-dev \
    nginx

# The compiler cache. Paths below the checkout are hashed relative to it (base_dir) and the build
# directory's own path is left out of the hash (hash_dir=false: the Debug stages' line tables then
# name the folder that first built an object), so a clean clone in another folder reuses what
# earlier builds on this machine compiled. The precompiled headers need the two sloppiness
# settings (ccache's manual, "Precompiled headers"). CMake (>= 3.17) takes the launcher from the
# environment for every build directory it configures, the consumer tests' nested builds included.
use_ccache=${GENESYS_CCACHE:-1}
if [[ $use_ccache == 1 ]]; then
    export CMAKE_CXX_COMPILER_LAUNCHER=ccache CMAKE_C_COMPILER_LAUNCHER=ccache
    export CCACHE_BASEDIR=$root CCACHE_NOHASHDIR=true CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
    export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}
    ccache_before=$(ccache --print-stats)
fi

tools/amalgamate.sh --check

jobs=$(nproc 2>/dev/null || echo 2)
sanitize=${GENESYS_SANITIZE:-1}
# -fno-sanitize=function: clang 14 cannot compile C++20 coroutines with it (llvm#49689).
asan_flags="-fsanitize=address,undefined -fno-sanitize=function -fno-sanitize-recover=all -fno-omit-frame-pointer"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:suppressions=$root/tests/tsan.supp}

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
    cmake -S . -B "$build" "${generator[@]}" -DCMAKE_CXX_COMPILER="$cxx" \
        -DCMAKE_CXX_COMPILER_LAUNCHER="${CMAKE_CXX_COMPILER_LAUNCHER:-}" -DCMAKE_BUILD_TYPE="$type" \
        -DGENESYS_TOKENS_WARNINGS_AS_ERRORS=ON -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_CXX_FLAGS_DEBUG=-g1 \
        "$@" >/dev/null
    # all_verify_interface_header_sets compiles each public header on its own.
    cmake --build "$build" -j "$jobs" --target $targets
    built=$SECONDS
    ctest --test-dir "$build" --output-on-failure --no-tests=error -j "$jobs" ${filter:+-R "$filter"}
    timings+=("$name: build $((built - started)) s, tests $((SECONDS - built)) s")
}
timings=("packages and single-header check: $SECONDS s")

# ccache's counters since the start of this run: hits (direct and preprocessed) against misses.
ccache_report() {
    [[ $use_ccache == 1 ]] || return 0
    local after
    after=$(ccache --print-stats)
    awk -v before="$ccache_before" -v after="$after" 'BEGIN {
        n = split(before, lines, "\n"); for (i = 1; i <= n; i++) { split(lines[i], f, "\t"); b[f[1]] = f[2] }
        n = split(after, lines, "\n"); for (i = 1; i <= n; i++) { split(lines[i], f, "\t"); a[f[1]] = f[2] }
        hits = a["direct_cache_hit"] + a["preprocessed_cache_hit"] - b["direct_cache_hit"] - b["preprocessed_cache_hit"]
        misses = a["cache_miss"] - b["cache_miss"]
        total = hits + misses
        printf "==== ccache: %d of %d compiles from the cache (%.0f%%), %d compiled\n", hits, total, total ? 100 * hits / total : 0, misses
    }'
    ccache --show-stats | grep -E "Cache size|cache size" || true
}

if [[ $quick == 1 ]]; then
    # One g++ Debug stage, the same build directory and flags as the full run's first stage.
    stage g Debug g++ "" all "$quick_filter" -DGENESYS_TOKENS_BUILD_BENCHMARKS=ON \
        -DGENESYS_TOKENS_SEPARATE_COMPILATION=ON
    printf '==== stage times\n'
    printf '  %s\n' "${timings[@]}"
    ccache_report
    exit 0
fi

for cxx in ${GENESYS_COMPILERS:-g++ clang++}; do
    # clang takes a precompiled header through -Xclang arguments, whose absolute paths ccache
    # does not make relative: with ccache, every object built with one would be compiled anew in
    # each clone. Without them a warm clang stage compiles nothing (tests/README.md: the cost).
    clang_pch=()
    [[ $use_ccache == 1 ]] && clang_pch=(-DGENESYS_TOKENS_TEST_PCH=OFF)
    if [[ $cxx == clang* && $sanitize == 1 ]]; then
        # Each header's self-containment is checked once, in the g++ stage (the same libstdc++).
        stage clang-asan Debug "$cxx" "$asan_flags" all "" \
            -DGENESYS_TOKENS_BUILD_FUZZERS=ON -DGENESYS_FUZZ_SECONDS="${GENESYS_FUZZ_SECONDS:-10}" \
            -DGENESYS_TOKENS_CONSUMER_TESTS=OFF -DGENESYS_TOKENS_TEST_SINGLE_HEADER=OFF \
            -DGENESYS_TOKENS_BUILD_EXAMPLES=OFF "${clang_pch[@]}"
        stage clang-tsan Debug "$cxx" "-fsanitize=thread" "genesys_concurrency_tests genesys_async_tests genesys_validator_tests" \
            "^(tsan|async|validator):" \
            -DGENESYS_TOKENS_BUILD_TOOLS=OFF -DGENESYS_TOKENS_CONSUMER_TESTS=OFF "${clang_pch[@]}"
    else
        # The benchmarks are built here, and their allocation budget and loopback smoke run tested.
        # The whole suite in the compiled mode here; header-only in the other stages.
        stage "${cxx%++}" Debug "$cxx" "" "all all_verify_interface_header_sets" "" -DGENESYS_TOKENS_BUILD_BENCHMARKS=ON \
            -DGENESYS_TOKENS_SEPARATE_COMPILATION=ON
        # Release: where optimizer warnings (g++ 12's -Wrestrict, -Wstringop-overflow) and
        # optimizer-exposed bugs show: the core, the asynchronous API and its Beast transport,
        # optimized. (The blocking adapters' suite, the emulator and integration suites, the
        # single-header suite, the examples and the consumer builds test the same library code
        # again: Debug has them. The blocking adapters' suite left this stage when the Redis and
        # authorizer suites came, to keep a cold run within its budget: tests/README.md.)
        stage "${cxx%++}-release" Release "$cxx" "" \
            "genesys_tokens_tests genesys_async_tests genesys_beast_async_tests" \
            "^(include|async|beast_async):" -DGENESYS_TOKENS_CONSUMER_TESTS=OFF
    fi
done
printf '==== stage times\n'
printf '  %s\n' "${timings[@]}"
ccache_report
