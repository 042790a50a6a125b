#!/usr/bin/env bash
# Builds everything and runs the whole suite with ctest, under g++ and clang.
#   scripts/test.sh                      both compilers
#   GENESYS_COMPILERS=g++ scripts/test.sh one compiler
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source scripts/lib/packages.sh
ensure_packages cmake make g++ clang libboost-json1.81-dev doctest-dev libcurl4-openssl-dev libssl-dev openssl

tools/amalgamate.sh --check

jobs=$(nproc 2>/dev/null || echo 2)
for cxx in ${GENESYS_COMPILERS:-g++ clang++}; do
    build="build/${cxx%++}"
    echo "==== ${cxx}: configure, build, test in ${build}"
    cmake -S . -B "$build" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Debug >/dev/null
    # all_verify_interface_header_sets compiles each public header on its own.
    cmake --build "$build" -j "$jobs" --target all all_verify_interface_header_sets
    ctest --test-dir "$build" --output-on-failure -j "$jobs"
done
