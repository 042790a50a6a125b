#!/usr/bin/env bash
# Builds and runs the demo: every Tokens operation, each request and its result printed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source scripts/lib/packages.sh
ensure_packages cmake make g++ libboost-json1.81-dev

build=build/demo
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DGENESYS_TOKENS_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target demo -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
"$build/examples/demo"
