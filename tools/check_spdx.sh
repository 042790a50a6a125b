#!/usr/bin/env bash
# SPDX-License-Identifier: BSL-1.0
# Every source, build and script file of the project names its licence (BSL-1.0) in an
# `SPDX-License-Identifier` line near its top (within its first 3 lines: after a shebang). Prints
# the files that do not and exits 1; a tree that is not a git checkout is searched with find.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    files=$(git ls-files --cached --others --exclude-standard)
else
    files=$(find . -path ./build -prune -o -type f -print | sed 's|^\./||')
fi
missing=0
while IFS= read -r f; do
    [[ -f $f ]] || continue
    case $f in
    */corpus/*|*/node_modules/*|build/*) continue ;;
    *.hpp|*.ipp|*.cpp|*.h|*.js|*.mjs|*.cmake|*CMakeLists.txt|*.sh|*.in|*.supp|.ci/run|docs/Doxyfile|single_include/*) ;;
    *) continue ;;
    esac
    if ! head -n 3 "$f" | grep -q 'SPDX-License-Identifier: BSL-1.0'; then
        echo "no SPDX-License-Identifier: BSL-1.0 line at the top of $f"
        missing=1
    fi
done <<<"$files"
[[ $missing == 0 ]] && echo "every source file names its licence (BSL-1.0)"
exit $missing
