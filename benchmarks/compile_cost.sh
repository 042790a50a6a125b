#!/usr/bin/env bash
# SPDX-License-Identifier: BSL-1.0
# Compile cost of the library: the median CPU time (user + system) of `$CXX $FLAGS -c` of each
# unit below, RUNS times per compiler (g++ and clang++), as a ratio of a unit that only includes
# <boost/json.hpp>. The units are compiled in turn, round after round, so that the drift of a
# shared machine falls on all of them alike.
#
#   header-only  compile_cost/tokens_api_unit.cpp against single_include/ (the single header;
#                tokens_api with one transport, every operation called)     target <= 3.0x
#   compiled     the same unit against include/ with GENESYS_TOKENS_SEPARATE_COMPILATION
#                (it includes <genesys/tokens_api.hpp>; the implementation is compiled once, in
#                <genesys/src.hpp>, and not counted)                        target <= 1.0x
#   validator    compile_cost/validator_unit.cpp in the compiled mode: <genesys/token_validator.hpp>,
#                one blocking transport, one validation (no target; reported beside them)
#   async        compile_cost/async_unit.cpp: <genesys/async.hpp> over the async fake
#   beast async  the same unit over beast_async_transport (GENESYS_COMPILE_COST_BEAST)
#
#   benchmarks/compile_cost.sh [RUNS]        (default 5; FLAGS overrides "-std=c++20 -O2";
#                                             ASYNC_ROWS=0 skips the two asynchronous units, which
#                                             take about a minute each to compile at -O2)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
runs="${1:-5}"
flags="${FLAGS:--std=c++20 -O2}"

errors=$(mktemp)
trap 'rm -f "$errors"' EXIT

# The CPU time, in milliseconds, of compiling with the compiler and arguments given; on failure,
# the compiler's messages.
cpu_ms() {
    local TIMEFORMAT='%3U %3S' t
    # shellcheck disable=SC2086
    t=$( { time "$@" $flags -o /dev/null >/dev/null 2>"$errors"; } 2>&1) || { cat "$errors" >&2; return 1; }
    awk -v t="$t" 'BEGIN { split(t, a, " "); printf "%d\n", (a[1] + a[2]) * 1000 }'
}

# The median of the numbers on standard input.
median() {
    sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2)}'
}

# "1.23x", and whether it is within the target ($3: a ratio, or - for none).
ratio() {
    [[ $1 == - ]] && { printf '%6s %-4s' - ''; return; }
    awk -v t="$1" -v b="$2" -v target="$3" 'BEGIN {
        r = t / b
        verdict = (target == "-") ? "" : ((r <= target) ? "yes" : "NO")
        printf "%6.2fx %-4s", r, verdict
    }'
}

# The compiler's arguments for unit $1, in `args`.
unit_args() {
    local unit="$here/compile_cost/tokens_api_unit.cpp"
    case $1 in
    base) args=(-c "$here/compile_cost/boost_json_only.cpp") ;;
    single) args=(-c "$unit" -I"$root/single_include") ;;
    compiled) args=(-c "$unit" -I"$root/include" -DGENESYS_TOKENS_SEPARATE_COMPILATION) ;;
    validator) args=(-c "$here/compile_cost/validator_unit.cpp" -I"$root/include" -DGENESYS_TOKENS_SEPARATE_COMPILATION) ;;
    async) args=(-c "$here/compile_cost/async_unit.cpp" -I"$root/include") ;;
    beast) args=(-c "$here/compile_cost/async_unit.cpp" -I"$root/include" -DGENESYS_COMPILE_COST_BEAST) ;;
    esac
}

printf '\ncompile cost (%s, median of %s; ratios to the Boost.JSON-only unit)\n' "$flags" "$runs"
printf '%-9s %10s | %-26s | %-26s | %-17s | %-17s | %-17s\n' compiler "boost.json" \
    "header-only ms (<=3.0x)" "compiled ms (<=1.0x)" "validator ms" "async ms" "beast async ms"
names=(base single compiled validator)
[[ ${ASYNC_ROWS:-1} != 0 ]] && names+=(async beast)
for compiler in g++ clang++; do
    command -v "$compiler" >/dev/null || continue
    declare -A times=() ms=([async]=- [beast]=-)
    for ((i = 0; i < runs; i++)); do
        for name in "${names[@]}"; do
            unit_args "$name"
            times[$name]+="$(cpu_ms "$compiler" "${args[@]}") "
        done
    done
    for name in "${names[@]}"; do
        # shellcheck disable=SC2086
        ms[$name]=$(printf '%s\n' ${times[$name]} | median)
    done
    base=${ms[base]}
    printf '%-9s %10s | %8s %s | %8s %s | %8s %s | %8s %s | %8s %s\n' "$compiler" "$base" \
        "${ms[single]}" "$(ratio "${ms[single]}" "$base" 3.0)" "${ms[compiled]}" "$(ratio "${ms[compiled]}" "$base" 1.0)" \
        "${ms[validator]}" "$(ratio "${ms[validator]}" "$base" -)" \
        "${ms[async]}" "$(ratio "${ms[async]}" "$base" -)" "${ms[beast]}" "$(ratio "${ms[beast]}" "$base" -)"
    unset times ms
done
