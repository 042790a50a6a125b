#!/usr/bin/env bash
# SPDX-License-Identifier: BSL-1.0
# No doctest TEST_CASE name has a semicolon: CMake's lists split a discovered name at `;`, so
# ctest would get two tests whose filters match nothing (each passing without running anything)
# and the test itself would never run. Prints the offending lines and exits 1.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if found=$(grep -rn --include='*.cpp' --include='*.hpp' -E 'TEST_CASE(_FIXTURE)?\([^)]*"[^"]*;[^"]*"' tests benchmarks tools 2>/dev/null); then
    echo "TEST_CASE names with a semicolon (ctest splits them; use a comma):"
    echo "$found"
    exit 1
fi
echo "no TEST_CASE name has a semicolon"
