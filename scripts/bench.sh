#!/usr/bin/env bash
# Runs every benchmark of benchmarks/ (a Release build in build/bench) and prints their tables:
#   1. per call over an in-memory transport, library against the hand-written floor: time
#      (Google Benchmark, repeated and interleaved, medians) and heap allocations;
#   2. the same per-call ratios in instructions (callgrind; exact from run to run), when valgrind
#      is installed;
#   3. decoding alone, in documents and MB per second;
#   4. calls per second over loopback against the emulator: the curl and Beast adapters against
#      a hand-written libcurl loop;
#   5. the compile cost of the single header against a Boost.JSON-only unit, g++ and clang++.
# Takes about 3 minutes on 2 cores from a clean clone, build included. QUICK=1 shortens every run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source scripts/lib/packages.sh
ensure_packages cmake make g++ clang libboost-json1.81-dev libcurl4-openssl-dev libssl-dev libbenchmark-dev valgrind

build=build/bench
quick=${QUICK:-0}
min_time=$([ "$quick" = 1 ] && echo 0.05 || echo 0.2)
reps=$([ "$quick" = 1 ] && echo 1 || echo 5)
compile_runs=$([ "$quick" = 1 ] && echo 1 || echo 5)

echo "building the benchmarks (Release) in $build ..."
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DGENESYS_TOKENS_BUILD_TESTS=OFF -DGENESYS_TOKENS_BUILD_EXAMPLES=OFF \
    -DGENESYS_TOKENS_INSTALL=OFF -DGENESYS_TOKENS_BUILD_BENCHMARKS=ON >/dev/null
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target bench_calls bench_loopback >/dev/null

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
common=(--benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true --benchmark_color=false)

echo "per call and decoding ..."
"$build/benchmarks/bench_calls" --benchmark_min_time="$min_time" --benchmark_repetitions="$reps" "${common[@]}" \
    >"$out/calls.txt"

if command -v valgrind >/dev/null; then
    echo "instructions per call (callgrind) ..."
    # The count of N calls minus that of few calls, over the difference: exact per-call instructions.
    instructions() {
        local n
        n=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$build/benchmarks/bench_calls" \
            --instructions "$1" "$2" 2>&1 | awk '/Collected/ {print $4}')
        echo "$n"
    }
    {
        printf '\n%-15s %16s %16s %7s %7s\n' "instructions" "library Ir/call" "floor Ir/call" "ratio" "<=1.3"
        for op in get_tokens_me verify_token delete_token; do
            per=()
            for side in library floor; do
                few=$(instructions "${side}_$op" 100)
                many=$(instructions "${side}_$op" 2100)
                per+=($(((many - few) / 2000)))
            done
            awk -v op="$op" -v l="${per[0]}" -v f="${per[1]}" \
                'BEGIN {r = l / f; printf "%-15s %16d %16d %7.2f %7s\n", op, l, f, r, (r <= 1.3 ? "yes" : "NO")}'
        done
    } >"$out/instructions.txt"
fi

echo "loopback against the emulator ..."
"$build/benchmarks/bench_loopback" --benchmark_min_time=$([ "$quick" = 1 ] && echo 0.2 || echo 0.5) \
    --benchmark_repetitions=$([ "$quick" = 1 ] && echo 1 || echo 10) "${common[@]}" >"$out/loopback.txt"

echo "compile cost ..."
benchmarks/compile_cost.sh "$compile_runs" >"$out/compile.txt"

echo
echo "================================ results ================================"
sed -n '/^per call/,$p' "$out/calls.txt"
[[ -f $out/instructions.txt ]] && cat "$out/instructions.txt"
sed -n '/^loopback/,$p' "$out/loopback.txt"
cat "$out/compile.txt"
