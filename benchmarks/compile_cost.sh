#!/usr/bin/env bash
# Compile cost of the library: the median wall time of `$CXX $FLAGS -c` of each unit below, RUNS
# times per compiler (g++ and clang++), as a ratio of a unit that only includes <boost/json.hpp>.
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

# The median wall time, in milliseconds, of compiling $2 with $1 and the flags after, $runs times.
median_ms() {
    local compiler="$1" unit="$2" times=()
    shift 2
    for ((i = 0; i < runs; i++)); do
        local start end
        start=$(date +%s%N)
        # shellcheck disable=SC2086
        "$compiler" $flags "$@" -c "$unit" -o /dev/null
        end=$(date +%s%N)
        times+=($(((end - start) / 1000000)))
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2)}'
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

printf '\ncompile cost (%s, median of %s; ratios to the Boost.JSON-only unit)\n' "$flags" "$runs"
printf '%-9s %10s | %-26s | %-26s | %-17s | %-17s | %-17s\n' compiler "boost.json" \
    "header-only ms (<=3.0x)" "compiled ms (<=1.0x)" "validator ms" "async ms" "beast async ms"
for compiler in g++ clang++; do
    command -v "$compiler" >/dev/null || continue
    base=$(median_ms "$compiler" "$here/compile_cost/boost_json_only.cpp")
    single=$(median_ms "$compiler" "$here/compile_cost/tokens_api_unit.cpp" -I"$root/single_include")
    compiled=$(median_ms "$compiler" "$here/compile_cost/tokens_api_unit.cpp" -I"$root/include" \
        -DGENESYS_TOKENS_SEPARATE_COMPILATION)
    validator=$(median_ms "$compiler" "$here/compile_cost/validator_unit.cpp" -I"$root/include" \
        -DGENESYS_TOKENS_SEPARATE_COMPILATION)
    async=- beast=-
    if [[ ${ASYNC_ROWS:-1} != 0 ]]; then
        async=$(median_ms "$compiler" "$here/compile_cost/async_unit.cpp" -I"$root/include")
        beast=$(median_ms "$compiler" "$here/compile_cost/async_unit.cpp" -I"$root/include" \
            -DGENESYS_COMPILE_COST_BEAST)
    fi
    printf '%-9s %10s | %8s %s | %8s %s | %8s %s | %8s %s | %8s %s\n' "$compiler" "$base" \
        "$single" "$(ratio "$single" "$base" 3.0)" "$compiled" "$(ratio "$compiled" "$base" 1.0)" \
        "$validator" "$(ratio "$validator" "$base" -)" \
        "$async" "$(ratio "$async" "$base" -)" "$beast" "$(ratio "$beast" "$base" -)"
done
