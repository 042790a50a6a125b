#!/usr/bin/env bash
# SPDX-License-Identifier: BSL-1.0
# Every shell script of the repository parses (`bash -n`): scripts/bench.sh is not run by the
# tests, and a quote closed early inside one of its awk programs once broke it unnoticed.
# Prints each script's errors and exits 1 if any has one.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
failed=0
while IFS= read -r -d '' script; do
    if ! bash -n "$script"; then
        echo "does not parse: $script"
        failed=1
    fi
done < <(find .ci scripts tools tests benchmarks -type f \( -name '*.sh' -o -path '.ci/run' \) -print0)
[[ $failed == 0 ]] && echo "every shell script parses"
exit "$failed"
