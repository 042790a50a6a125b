#!/usr/bin/env bash
# Compile cost of the single header: times compiling benchmarks/compile_cost/tokens_api_unit.cpp
# (includes single_include/genesys/tokens.hpp, instantiates tokens_api with one transport and
# calls every operation) against boost_json_only.cpp (includes only <boost/json.hpp>), each
# RUNS times per compiler, and prints the medians and the overhead.
#
#   benchmarks/compile_cost.sh [RUNS]        (default 5; FLAGS overrides "-std=c++20 -O2")
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
runs="${1:-5}"
flags="${FLAGS:--std=c++20 -O2}"
target="${TARGET_PERCENT:-30}"

# The median wall time, in milliseconds, of compiling $2 with $1 $runs times.
median_ms() {
    local compiler="$1" unit="$2" times=()
    for ((i = 0; i < runs; i++)); do
        local start end
        start=$(date +%s%N)
        # shellcheck disable=SC2086
        "$compiler" $flags -I"$root/single_include" -c "$unit" -o /dev/null
        end=$(date +%s%N)
        times+=($(((end - start) / 1000000)))
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2)}'
}

printf '\ncompile cost (%s, median of %s)\n' "$flags" "$runs"
printf '%-10s %16s %18s %10s %8s\n' compiler "boost.json ms" "single header ms" overhead "<=${target}%"
for compiler in g++ clang++; do
    command -v "$compiler" >/dev/null || continue
    base=$(median_ms "$compiler" "$here/compile_cost/boost_json_only.cpp")
    lib=$(median_ms "$compiler" "$here/compile_cost/tokens_api_unit.cpp")
    overhead=$(((lib - base) * 100 / base))
    verdict=$([ "$overhead" -le "$target" ] && echo yes || echo NO)
    printf '%-10s %16s %18s %9s%% %8s\n' "$compiler" "$base" "$lib" "$overhead" "$verdict"
done
