#!/usr/bin/env bash
# SPDX-License-Identifier: BSL-1.0
# Runs every benchmark of benchmarks/ (a Release build in build/bench) and prints their tables:
#   1. per call over an in-memory transport, library against the hand-written floor: time
#      (Google Benchmark, repeated and interleaved, medians) and heap allocations;
#   2. the same per-call ratios in instructions (callgrind; exact from run to run), when valgrind
#      is installed;
#   3. decoding alone, in documents and MB per second;
#   4. calls per second over loopback against the emulator: the curl and Beast adapters against
#      a hand-written libcurl loop;
#   5. the asynchronous API over loopback with 1, 16 and 64 calls in flight on one io_context
#      thread, beside the official JS SDK (benchmarks/js, Node) with the same counts in flight and
#      the blocking curl adapter; and async against sync in instructions per call (callgrind);
#   6. the asynchronous client against its floor over nginx (from apt, started here on a loopback
#      port with its own configuration, answering a fixed TokenInfo body; pinned to one core and
#      the client to the other): calls per second, client CPU and heap allocations per call of the
#      library's async client, a hand-written Boost.Beast client (the floor) and the blocking curl
#      client on as many threads as calls in flight, for 1, 16 and 64 in flight, as ratios; and
#      system calls per call (strace -c);
#   7. the token validator over in-process fakes: a cached validation from one thread (ns) and
#      from two sharing one validator (validations/s), each beside a hand-written shared_mutex +
#      unordered_map cache (the floor); the storm (10 000 validations of one new token from 16
#      threads: API calls); peak RSS over 1 000 000 validations of 100 000 tokens, max_entries 10 000;
#   8. the fleet validator (a Redis shared cache; redis-server and the emulator started by the
#      program on loopback ports): a shared-cache hit against a raw hiredis GET, an in-process hit
#      with and without the shared cache configured, API calls per token for 1, 2, 4 and 8
#      instances, the time from a revocation on one instance to a 401 on 7 others;
#   9. genesys-tokens-authz through nginx (Debian's wrk, 64 connections, 1 000 distinct tokens):
#      requests per second with the authorizer against nginx alone, its decision latency on cache
#      hits (p50/p99 from its own histogram), the API calls made (one per token);
#  10. the compile cost of the single header, the compiled mode and the asynchronous units against
#      a Boost.JSON-only unit, g++ and clang++.
# Takes 4 to 6 minutes on 2 cores once built (the validator about 17 s of it); the first build adds
# 5 to 8. QUICK=1 shortens every run: about 1 minute once built. BENCH_BUILD_DIR overrides the build
# directory (default build/bench).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source scripts/lib/packages.sh
ensure_packages cmake make g++ clang libboost-json1.81-dev libcurl4-openssl-dev libssl-dev libbenchmark-dev valgrind

build=${BENCH_BUILD_DIR:-build/bench}
quick=${QUICK:-0}
min_time=$([ "$quick" = 1 ] && echo 0.05 || echo 0.2)
reps=$([ "$quick" = 1 ] && echo 1 || echo 5)
compile_runs=$([ "$quick" = 1 ] && echo 1 || echo 5)

echo "building the benchmarks (Release) in $build ..."
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DGENESYS_TOKENS_BUILD_TESTS=OFF -DGENESYS_TOKENS_BUILD_EXAMPLES=OFF \
    -DGENESYS_TOKENS_INSTALL=OFF -DGENESYS_TOKENS_BUILD_BENCHMARKS=ON >/dev/null
targets=(bench_calls bench_validator bench_loopback)
# bench_async and bench_floor exist when the asynchronous API and its Beast transport are there.
[[ $(cmake --build "$build" --target help) == *bench_async* ]] && targets+=(bench_async bench_floor)
# bench_fleet exists when the Redis shared cache (hiredis) is there; it starts redis-server.
[[ $(cmake --build "$build" --target help) == *bench_fleet* ]] && targets+=(bench_fleet) && ensure_packages redis-server
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target "${targets[@]}" >/dev/null
have_async=$([[ -x $build/benchmarks/bench_async ]] && echo 1 || echo 0)

# The JS SDK peer: Node and the SDK pinned in benchmarks/js/package-lock.json. Node's own nodejs
# package (nodesource) conflicts with Debian's npm: install them only when a command is missing.
if [[ $have_async = 1 ]]; then
    { command -v node && command -v npm; } >/dev/null || ensure_packages nodejs npm
    if [[ ! -d benchmarks/js/node_modules ]]; then
        echo "installing the JS SDK peer (npm ci in benchmarks/js) ..."
        (cd benchmarks/js && npm ci --no-audit --no-fund >/dev/null)
    fi
fi

out=$(mktemp -d)
nginx_pid=
trap '[[ -n $nginx_pid ]] && kill "$nginx_pid" 2>/dev/null; rm -rf "$out"' EXIT
common=(--benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true --benchmark_color=false)

echo "per call and decoding ..."
"$build/benchmarks/bench_calls" --benchmark_min_time="$min_time" --benchmark_repetitions="$reps" "${common[@]}" \
    >"$out/calls.txt"

if command -v valgrind >/dev/null; then
    echo "instructions per call (callgrind) ..."
    # The count of N calls minus that of few calls, over the difference: exact per-call instructions.
    instructions_of() { # PROGRAM CASE N
        local n
        n=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$1" --instructions "$2" "$3" 2>&1 |
            awk '/Collected/ {print $4}')
        [[ -n $n ]] || { echo "callgrind gave no count for $1 --instructions $2 $3" >&2; exit 1; }
        echo "$n"
    }
    instructions() { instructions_of "$build/benchmarks/bench_calls" "$1" "$2"; }
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
        if [[ $have_async = 1 ]]; then
            # The same get_tokens_me and canned body: async_tokens_api over async_fake_transport on
            # an io_context, against tokens_api over fake_transport.
            per=()
            for side in async sync; do
                few=$(instructions_of "$build/benchmarks/bench_async" "${side}_get_tokens_me" 100)
                many=$(instructions_of "$build/benchmarks/bench_async" "${side}_get_tokens_me" 2100)
                per+=($(((many - few) / 2000)))
            done
            printf '\n%-15s %16s %16s %7s %7s\n' "instructions" "async Ir/call" "sync Ir/call" "ratio" "<=1.3"
            awk -v l="${per[0]}" -v f="${per[1]}" \
                'BEGIN {r = l / f; printf "%-15s %16d %16d %7.2f %7s\n", "get_tokens_me", l, f, r, (r <= 1.3 ? "yes" : "NO")}'
        fi
        # A cached validation: token_validator against the hand-written shared_mutex + unordered_map
        # cache (bench_validator --instructions).
        per=()
        for side in validator_cached floor_cached; do
            few=$(instructions_of "$build/benchmarks/bench_validator" "$side" 100)
            many=$(instructions_of "$build/benchmarks/bench_validator" "$side" 2100)
            per+=($(((many - few) / 2000)))
        done
        printf '\n%-15s %16s %16s %7s\n' "instructions" "validator Ir/hit" "floor Ir/hit" "ratio"
        awk -v l="${per[0]}" -v f="${per[1]}" \
            'BEGIN {printf "%-15s %16d %16d %7.2f\n", "cached hit", l, f, l / f}'
    } >"$out/instructions.txt"
fi

echo "loopback against the emulator ..."
"$build/benchmarks/bench_loopback" --benchmark_min_time=$([ "$quick" = 1 ] && echo 0.2 || echo 0.5) \
    --benchmark_repetitions=$([ "$quick" = 1 ] && echo 1 || echo 10) "${common[@]}" >"$out/loopback.txt"

if [[ $have_async = 1 ]]; then
    echo "async loopback against the emulator ..."
    "$build/benchmarks/bench_async" --benchmark_min_time=$([ "$quick" = 1 ] && echo 0.2 || echo 0.5) \
        --benchmark_repetitions=$([ "$quick" = 1 ] && echo 1 || echo 5) "${common[@]}" >"$out/async.txt"
    echo "the JS SDK peer against the emulator ..."
    # One emulator (bench_async starts it, as for its own benchmarks), the three counts in turn.
    "$build/benchmarks/bench_async" --run-peer "$(command -v node)" "$root/benchmarks/js/bench_tokens.js" \
        --in-flight 1,16,64 --seconds $([ "$quick" = 1 ] && echo 0.5 || echo 3) \
        --warmup $([ "$quick" = 1 ] && echo 0.2 || echo 0.5) >"$out/js.txt"
    {
        printf '\n%-10s %16s %12s %8s %6s %14s   %s\n' "in flight" "library async/s" "JS SDK/s" "ratio" ">=10" \
            "sync curl/s" "client CPU us/call: library, JS SDK, ratio"
        awk '
            FNR == NR && $1 ~ /^(async|async_64_connections|sync_curl)$/ && $2 ~ /^[0-9]+$/ {
                rate[$1 "/" $2] = $3; cpu[$1 "/" $2] = $4; next
            }
            FNR != NR && $1 == "js_sdk" {
                for (i = 2; i <= NF; ++i) { split($i, kv, "="); field[kv[1]] = kv[2] }
                js[field["in_flight"]] = field["calls_per_second"]; jscpu[field["in_flight"]] = field["cpu_us_per_call"]
            }
            END {
                split("1 16 64", counts, " ")
                for (i = 1; i <= 3; ++i) {
                    n = counts[i]; lib = rate["async/" n]
                    ratio = (js[n] > 0) ? lib / js[n] : 0
                    verdict = (n == 64) ? (ratio >= 10 ? "yes" : "NO") : "-"
                    curl = (n == 1 && rate["sync_curl/1"] != "") ? sprintf("%.0f", rate["sync_curl/1"]) : "-"
                    cpu_ratio = (cpu["async/" n] > 0) ? jscpu[n] / cpu["async/" n] : 0
                    printf "%-10s %16.0f %12.0f %8.2f %6s %14s   %7.1f %7.1f %6.1f\n", n, lib, js[n], ratio, verdict, curl,
                        cpu["async/" n], jscpu[n], cpu_ratio
                }
                printf "sync curl: tokens_api<curl_transport>, sequential (one in flight), %.1f us CPU per call\n", cpu["sync_curl/1"]
                printf "64 in flight over 64 connections (the JS SDK agent opens one per call in flight; the pool\n"
                printf "default is 8): %.0f calls/s, %.1f us CPU per call\n", rate["async_64_connections/64"], cpu["async_64_connections/64"]
            }' "$out/async.txt" "$out/js.txt"
    } >"$out/async_table.txt"
fi

if [[ $have_async = 1 ]]; then
    ensure_packages nginx strace
    echo "the async client against its floor, over nginx ..."
    # nginx on a free loopback port, its own configuration, logs and temporary files in $out/nginx;
    # one worker, pinned to the first core; the client to the second (when there are two).
    ngx=$out/nginx
    mkdir -p "$ngx/tmp"
    chmod 755 "$out" "$ngx" # the worker (www-data when started as root) reads the body
    "$build/benchmarks/bench_floor" --print-body >"$ngx/body.json"
    chmod 644 "$ngx/body.json"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    cat >"$ngx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $ngx/nginx.pid;
error_log $ngx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000000;
    keepalive_timeout 300s;
    client_body_temp_path $ngx/tmp;
    proxy_temp_path $ngx/tmp;
    fastcgi_temp_path $ngx/tmp;
    uwsgi_temp_path $ngx/tmp;
    scgi_temp_path $ngx/tmp;
    server {
        listen 127.0.0.1:$port;
        location = /api/v2/tokens/me { default_type application/json; alias $ngx/body.json; }
    }
}
EOF
    server_cpu=() client_cpu=()
    if [[ $(nproc) -ge 2 ]]; then server_cpu=(taskset -c 0) client_cpu=(taskset -c 1); fi
    "${server_cpu[@]}" nginx -p "$ngx" -c "$ngx/nginx.conf" -e "$ngx/error.log" &
    nginx_pid=$!
    for _ in $(seq 100); do
        curl -sf -o /dev/null "http://127.0.0.1:$port/api/v2/tokens/me" && break
        sleep 0.1
    done
    url=http://127.0.0.1:$port
    "${client_cpu[@]}" "$build/benchmarks/bench_floor" --url "$url" \
        --benchmark_min_time=$([ "$quick" = 1 ] && echo 0.2 || echo 0.5) \
        --benchmark_repetitions="$reps" "${common[@]}" >"$out/floor.txt"
    # System calls per call: strace -c of N calls minus that of few, over the difference.
    syscalls_per_call() { # CASE
        local few many
        strace -f -c -o "$out/strace" "$build/benchmarks/bench_floor" --calls "$1" 200 "$url" >/dev/null 2>&1
        few=$(awk '$NF == "total" {print $(NF - 2)}' "$out/strace")
        strace -f -c -o "$out/strace" "$build/benchmarks/bench_floor" --calls "$1" 2200 "$url" >/dev/null 2>&1
        many=$(awk '$NF == "total" {print $(NF - 2)}' "$out/strace")
        awk -v a="$few" -v b="$many" 'BEGIN {printf "%.1f", (b - a) / 2000}'
    }
    for n in 1 16 64; do
        for kind in library floor curl; do
            echo "syscalls $kind $n $(syscalls_per_call "${kind}_$n")"
        done
    done >"$out/floor_syscalls.txt"
    kill "$nginx_pid" 2>/dev/null
    wait "$nginx_pid" 2>/dev/null || true
    nginx_pid=
    # The program's rows "KIND IN_FLIGHT CALLS/S CPU_US ALLOCS" after its "fixed body" header.
    awk '
        FNR == NR && $1 == "syscalls" { sys[$2 "/" $3] = $4; next }
        /^fixed body/ { table = 1; next }
        table && NF == 5 { rate[$1 "/" $2] = $3; cpu[$1 "/" $2] = $4; allocs[$1 "/" $2] = $5 }
        END {
            printf "\n%-9s | %9s %9s %9s %5s %5s | %6s %6s %6s %5s %6s | %5s %5s %5s | %4s %4s %4s\n",
                "in flight", "lib/s", "floor/s", "curl/s", "ratio", ">=0.8", "lib us", "floor", "curl", "ratio",
                "<=1.25", "alloc", "floor", "curl", "sys", "flr", "curl"
            split("1 16 64", counts, " ")
            for (i = 1; i <= 3; ++i) {
                n = counts[i]; l = "library/" n; f = "floor/" n; c = "curl/" n
                rr = rate[l] / rate[f]; cr = cpu[l] / cpu[f]
                printf "%-9s | %9.0f %9.0f %9.0f %5.2f %5s | %6.2f %6.2f %6.2f %5.2f %6s | %5.0f %5.0f %5.0f | %4.1f %4.1f %4.1f\n",
                    n, rate[l], rate[f], rate[c], rr, (rr >= 0.8 ? "yes" : "NO"), cpu[l], cpu[f], cpu[c], cr,
                    (cr <= 1.25 ? "yes" : "NO"), allocs[l], allocs[f], allocs[c], sys[l], sys[f], sys[c]
            }
        }' "$out/floor_syscalls.txt" "$out/floor.txt" >"$out/floor_table.txt"
fi

echo "token validator ..."
# QUICK=1 makes the memory run 1/200 the size (--quick); the other rows are the same cases.
"$build/benchmarks/bench_validator" --summary $([ "$quick" = 1 ] && echo --quick) --benchmark_min_time="$min_time" \
    --benchmark_repetitions="$reps" "${common[@]}" >"$out/validator.txt"
# The program's "validator KEY VALUE" lines (--summary) make the table.
awk '
    $1 == "validator" { v[$2] = $3 }
    END {
        printf "\n%-38s %12s %12s %9s %12s %5s\n", "token validator", "library", "floor", "lib/floor", "target", "met"
        printf "%-38s %12.0f %12.0f %9.2f %12s %5s\n", "cached, 1 thread: ns/validation", v["cached_ns"],
            v["cached_floor_ns"], v["cached_ns"] / v["cached_floor_ns"], "<= 1000",
            (v["cached_ns"] <= 1000 ? "yes" : "NO")
        printf "%-38s %12.0f %12.0f %9.2f %12s %5s\n", "cached, 2 threads: validations/s", v["two_threads_per_s"],
            v["two_threads_floor_per_s"], v["two_threads_per_s"] / v["two_threads_floor_per_s"], ">= 2000000",
            (v["two_threads_per_s"] >= 2000000 ? "yes" : "NO")
        printf "%-38s %12.0f %12.0f %9.2f\n", "CPU ns/validation, 1 thread", v["cached_cpu_ns"], v["cached_floor_cpu_ns"],
            v["cached_cpu_ns"] / v["cached_floor_cpu_ns"]
        printf "%-38s %12.0f %12.0f %9.2f\n", "CPU ns/validation, 2 threads together", v["two_threads_cpu_ns"],
            v["two_threads_floor_cpu_ns"], v["two_threads_cpu_ns"] / v["two_threads_floor_cpu_ns"]
        printf "%-38s %12d %12d\n", "heap allocations per hit", v["cached_allocs"], v["cached_floor_allocs"]
        printf "storm, %d validations of one new token from %d threads: %d API call(s) (%d joined it, held %.1f ms)" \
            "   target 1: %s\n", v["storm_validations"], v["storm_threads"], v["storm_api_calls"], v["storm_coalesced"],
            v["storm_held_ms"], (v["storm_api_calls"] == 1 ? "yes" : "NO")
        printf "memory, %d validations of %d tokens, max_entries %d: peak RSS %.1f MiB before, %.1f MiB after the\n" \
            "first pass, %.1f MiB after the run; %d entries held, %d API calls\n", v["memory_validations"],
            v["memory_tokens"], v["memory_max_entries"], v["memory_baseline_kib"] / 1024,
            v["memory_first_pass_kib"] / 1024, v["memory_end_kib"] / 1024, v["memory_entries"], v["memory_api_calls"]
    }' "$out/validator.txt" >"$out/validator_table.txt"

if [[ -x $build/benchmarks/bench_fleet ]]; then
    echo "fleet validator (Redis shared cache) ..."
    "$build/benchmarks/bench_fleet" $([ "$quick" = 1 ] && echo --quick) >"$out/fleet.txt"
    # The shared hit again with Redis and the client on one core: no wake-up crosses cores, so a
    # round trip costs less and the library's fixed cost weighs more (the ratio's harder case).
    taskset -c 0 "$build/benchmarks/bench_fleet" --shared-hit $([ "$quick" = 1 ] && echo --quick) |
        sed 's/^fleet /fleet1 /' >>"$out/fleet.txt"
    # The program's "fleet KEY VALUE" lines make the table ("fleet1": the one-core run).
    awk '
        # A ratio against its target: the median of the ratios of each repetition (the two
        # measured in the same seconds), with their range: the machine drifts between repetitions.
        function paired(label, library, floor, digits, r, limit, low, high) {
            printf "%-46s %12." digits "f %12." digits "f %9.2f %8s %5s  (repetitions: %.2f to %.2f)\n", label,
                library, floor, r, "<= " limit, (r <= limit ? "yes" : "NO"), low, high
        }
        $1 == "fleet" { v[$2] = $3 }
        $1 == "fleet1" { w[$2] = $3 }
        END {
            printf "\n%-46s %12s %12s %9s %8s %5s\n", "fleet validator (Redis shared cache)", "library", "floor",
                "ratio", "target", "met"
            paired("shared hit vs raw hiredis GET on Asio: ns", v["shared_hit_ns"], v["asio_get_ns"], 0,
                v["shared_hit_ratio"], 1.5, v["shared_hit_ratio_min"], v["shared_hit_ratio_max"])
            printf "%-46s %12.0f %12.0f %9.2f\n", "shared lookup alone vs the same: ns", v["shared_lookup_ns"],
                v["asio_get_ns"], v["shared_lookup_ns"] / v["asio_get_ns"]
            printf "%-46s %12.0f %12.0f %9.2f\n", "shared hit vs blocking hiredis GET: ns", v["shared_hit_ns"],
                v["raw_get_ns"], v["shared_hit_ns"] / v["raw_get_ns"]
            paired("shared hit vs Asio GET, Redis on the same core", w["shared_hit_ns"], w["asio_get_ns"], 0,
                w["shared_hit_ratio"], 1.5, w["shared_hit_ratio_min"], w["shared_hit_ratio_max"])
            paired("in-process hit, shared cache set vs not: ns", v["in_process_hit_shared_ns"],
                v["in_process_hit_plain_ns"], 1, v["in_process_hit_ratio"], 1.05, v["in_process_hit_ratio_min"],
                v["in_process_hit_ratio_max"])
            printf "%-46s %12.1f %12.0f (entry %d bytes)\n", "heap allocations, bytes per shared hit",
                v["shared_hit_allocs"], v["shared_hit_bytes"], v["entry_bytes"]
            printf "API calls per token, instances asking at once:  "
            split("1 2 4 8", counts, " ")
            for (i = 1; i <= 4; ++i)
                printf "  %d: %.2f (alone %.2f)", counts[i], v["calls_per_token_shared_" counts[i]],
                    v["calls_per_token_alone_" counts[i]]
            printf "\n"
            printf "revocation, forget on one instance to a 401 on all 7 others (%d trials): p50 %.1f ms, p99 %.1f ms," \
                " max %.1f ms   target p99 < 100 ms: %s\n", v["revocation_trials"], v["revocation_p50_ms"],
                v["revocation_p99_ms"], v["revocation_max_ms"], (v["revocation_p99_ms"] < 100 ? "yes" : "NO")
        }' "$out/fleet.txt" >"$out/fleet_table.txt"
fi

# ---- genesys-tokens-authz under load (begin) ----
# The authorizer through nginx: Debian's wrk, 64 connections, 1 000 distinct tokens (a Lua script
# picks one per request), against nginx alone proxying the same upstream location; the
# authorizer's own decision latency on cache hits; the API calls made. One nginx worker and one
# wrk thread pinned to the first core, the authorizer (one I/O thread) to the second (when there
# are two): nginx is the bottleneck of both runs, the ratio is what the subrequest costs it.
if cmake --build "$build" --target genesys-tokens-authz genesys-tokens-emulator >/dev/null 2>&1 &&
    [[ -x $build/tools/genesys-tokens-authz ]]; then
    ensure_packages nginx wrk python3
    echo "genesys-tokens-authz through nginx under wrk ..."
    az=$out/authz
    mkdir -p "$az/tmp"
    chmod 755 "$out" "$az"
    az_pids=()
    az_stop() { for p in "${az_pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; az_pids=(); }
    trap 'az_stop; [[ -n $nginx_pid ]] && kill "$nginx_pid" 2>/dev/null; rm -rf "$out"' EXIT
    free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
    wait_file() { for _ in $(seq 100); do [[ -s $1 ]] && return 0; sleep 0.1; done; echo "no $1" >&2; return 1; }
    az_cpu0=() az_cpu1=()
    if [[ $(nproc) -ge 2 ]]; then az_cpu0=(taskset -c 0) az_cpu1=(taskset -c 1); fi
    "$build/tools/genesys-tokens-emulator" --port 0 --port-file "$az/emu.port" >"$az/emu.log" 2>&1 &
    az_pids+=($!)
    wait_file "$az/emu.port"
    emu=http://127.0.0.1:$(cat "$az/emu.port")
    # 1 000 tokens of Ada Admin through the desktop client (the built-in seed: Acme, scope users).
    python3 - "$emu" >"$az/tokens.txt" <<'EOF'
import http.client, json, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
c = http.client.HTTPConnection(u.hostname, u.port)
for _ in range(1000):
    c.request("POST", "/__emulator/tokens", json.dumps({"client": "client-desktop", "user": "8a1c5e2f-0b3d-4e6a-9c7f-1d2e3f4a5b6c"}),
              {"Content-Type": "application/json"})
    print(json.loads(c.getresponse().read())["access_token"])
EOF
    api_calls() { curl -sf "$emu/__emulator/stats" | python3 -c 'import json, sys; print(json.load(sys.stdin)["requests"])'; }
    echo '{"default": {"organizations": ["6f0b3c4e-8d2a-4a51-9c3e-2f1d0b7a9e55"], "scopes": ["users"]}}' >"$az/policy.json"
    "${az_cpu1[@]}" "$build/tools/genesys-tokens-authz" --config "$az/policy.json" --api "$emu" --port 0 --port-file "$az/authz.port" \
        --threads 1 --access-log "$az/access.log" >"$az/authz.log" 2>&1 &
    az_pids+=($!)
    wait_file "$az/authz.port"
    authz_port=$(cat "$az/authz.port")
    front=$(free_port) alone=$(free_port) upstream=$(free_port)
    cat >"$az/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $az/nginx.pid;
error_log $az/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000000;
    keepalive_timeout 300s;
    client_body_temp_path $az/tmp;
    proxy_temp_path $az/tmp;
    fastcgi_temp_path $az/tmp;
    uwsgi_temp_path $az/tmp;
    scgi_temp_path $az/tmp;
    upstream genesys_authz { server 127.0.0.1:$authz_port; keepalive 64; }
    upstream app { server 127.0.0.1:$upstream; keepalive 64; }
    # With the authorizer: docs/authz.md's configuration (upstreams kept alive).
    server {
        listen 127.0.0.1:$front;
        auth_request /_genesys_authz;
        auth_request_set \$genesys_org \$upstream_http_x_genesys_organization_id;
        location = /_genesys_authz {
            internal;
            proxy_pass http://genesys_authz/auth;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-URI \$request_uri;
            proxy_set_header X-Original-Method \$request_method;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
        location / {
            proxy_set_header X-Genesys-Organization-Id \$genesys_org;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://app;
        }
    }
    # nginx alone: the same upstream location, no auth_request.
    server {
        listen 127.0.0.1:$alone;
        location / {
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://app;
        }
    }
    server {
        listen 127.0.0.1:$upstream;
        location / { default_type text/plain; return 200 "ok"; }
    }
}
EOF
    "${az_cpu0[@]}" nginx -p "$az" -c "$az/nginx.conf" -e "$az/error.log" &
    az_pids+=($!)
    for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$alone/" && break; sleep 0.1; done
    # wrk's Lua: the tokens, one picked at random per request.
    cat >"$az/tokens.lua" <<EOF
local tokens = {}
for line in io.lines("$az/tokens.txt") do tokens[#tokens + 1] = line end
math.randomseed(os.time())
request = function()
    return wrk.format("GET", "/orders/" .. math.random(100000), {["Authorization"] = "Bearer " .. tokens[math.random(#tokens)]})
end
EOF
    # Warm-up: each token once through nginx (the one API call per token), every answer a 200.
    calls_before=$(api_calls)
    python3 - "$front" "$az/tokens.txt" <<'EOF'
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
for t in open(sys.argv[2]).read().split():
    c.request("GET", "/orders/1", headers={"Authorization": "Bearer " + t})
    r = c.getresponse(); r.read()
    if r.status != 200:
        sys.exit("warm-up: %d" % r.status)
EOF
    histogram() { curl -sf "http://127.0.0.1:$authz_port/metrics" | grep '^genesys_authz_decision_duration_seconds_bucket'; }
    histogram >"$az/hist_before.txt"
    seconds=$([ "$quick" = 1 ] && echo 3 || echo 10)
    "${az_cpu0[@]}" wrk -t 1 -c 64 -d "${seconds}s" --latency -s "$az/tokens.lua" "http://127.0.0.1:$alone/" >"$az/wrk_alone.txt"
    "${az_cpu0[@]}" wrk -t 1 -c 64 -d "${seconds}s" --latency -s "$az/tokens.lua" "http://127.0.0.1:$front/" >"$az/wrk_front.txt"
    histogram >"$az/hist_after.txt"
    calls_after=$(api_calls)
    az_stop
    trap '[[ -n $nginx_pid ]] && kill "$nginx_pid" 2>/dev/null; rm -rf "$out"' EXIT
    {
        echo "calls $((calls_after - calls_before))"
        for f in alone front; do
            awk -v k="$f" '
                /Requests\/sec/ { print "rate", k, $2 }
                /Non-2xx/ { print "non2xx", k, $NF }
                /^ +50%/ { print "p50", k, $2 } /^ +99%/ { print "p99", k, $2 }' "$az/wrk_$f.txt"
        done
        # The authorizer's histogram over the load run (every decision a cache hit), cumulative.
        paste "$az/hist_before.txt" "$az/hist_after.txt" |
            awk '{ match($1, /le="[^"]*"/); le = substr($1, RSTART + 4, RLENGTH - 5); print "bucket", le, $4 - $2 }'
    } >"$az/summary.txt"
    awk -v conns=64 -v secs="$seconds" '
        $1 == "calls" { calls = $2 }
        $1 == "rate" { rate[$2] = $3 } $1 == "non2xx" { bad[$2] = $3 }
        $1 == "p50" { p50[$2] = $3 } $1 == "p99" { p99[$2] = $3 }
        $1 == "bucket" { n++; le[n] = $2; cum[n] = $3 }
        function quantile(q,    total, i, lo, prev, want) {
            total = cum[n]; want = q * total; prev = 0; lo = 0
            for (i = 1; i <= n; ++i) {
                if (cum[i] >= want) {
                    if (le[i] == "+Inf") return lo
                    return lo + (le[i] - lo) * (cum[i] > prev ? (want - prev) / (cum[i] - prev) : 0)
                }
                prev = cum[i]; lo = le[i]
            }
        }
        END {
            r = rate["front"] / rate["alone"]
            printf "\ngenesys-tokens-authz through nginx (auth_request), wrk %d connections, %d s, 1 000 distinct tokens;\n", conns, secs
            printf "nginx (1 worker) and wrk (1 thread) on one core, the authorizer (1 I/O thread) on the other\n"
            printf "%-44s %12s %12s %7s %7s %4s\n", "", "with authz", "nginx alone", "ratio", "target", "met"
            printf "%-44s %12.0f %12.0f %7.2f %7s %4s\n", "requests/s", rate["front"], rate["alone"], r, ">= 0.5",
                (r >= 0.5 ? "yes" : "NO")
            printf "%-44s %12s %12s\n", "wrk latency p50 / p99 (whole request)", p50["front"] " / " p99["front"],
                p50["alone"] " / " p99["alone"]
            printf "%-44s %12d %12d\n", "non-2xx answers", bad["front"], bad["alone"]
            p99a = quantile(0.99) * 1000
            printf "%-44s %5.3f / %5.3f ms (%d decisions)  target p99 <= 1 ms: %s\n",
                "authorizer decision p50 / p99, cache hits", quantile(0.5) * 1000, p99a, cum[n], (p99a <= 1 ? "yes" : "NO")
            printf "(from its genesys_authz_decision_duration_seconds histogram over the run, interpolated in the bucket)\n"
            printf "API calls for the 1 000 tokens, warm-up and run: %d   target 1 000: %s\n", calls, (calls == 1000 ? "yes" : "NO")
        }' "$az/summary.txt" >"$out/authz_table.txt"
fi
# ---- genesys-tokens-authz under load (end) ----

echo "compile cost ..."
benchmarks/compile_cost.sh "$compile_runs" >"$out/compile.txt"

echo
echo "================================ results ================================"
sed -n '/^per call/,$p' "$out/calls.txt"
[[ -f $out/instructions.txt ]] && cat "$out/instructions.txt"
sed -n '/^loopback/,$p' "$out/loopback.txt"
if [[ $have_async = 1 ]]; then
    echo
    echo "async loopback, get_tokens_me: async_tokens_api<beast_async_transport> on one io_context thread,"
    echo "the JS SDK (purecloud-platform-client-v2, $(node --version)) on one event loop, same emulator"
    cat "$out/async_table.txt"
fi
if [[ -f $out/floor_table.txt ]]; then
    echo
    echo "async client against its floor over nginx (fixed TokenInfo body), get_tokens_me: calls per second,"
    echo "client CPU us per call (ratio library/floor), heap allocations and system calls per call; the"
    echo "library: async_tokens_api<beast_async_transport>, pool of 8; the floor: a hand-written Beast client,"
    echo "min(in flight, 8) sockets; curl: tokens_api<curl_transport>, one thread per call in flight"
    cat "$out/floor_table.txt"
fi
cat "$out/validator_table.txt"
[[ -f $out/fleet_table.txt ]] && cat "$out/fleet_table.txt"
[[ -f $out/authz_table.txt ]] && cat "$out/authz_table.txt"
cat "$out/compile.txt"
