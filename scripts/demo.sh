#!/usr/bin/env bash
# SPDX-License-Identifier: BSL-1.0
# The library and its tools over real HTTP: starts the Tokens API emulator on loopback, runs the
# README's first program (examples/first_call), a service guarded by the token validator
# (examples/validating_server) and the asynchronous client (examples/async_client) against it, then
# the genesys-tokens CLI through every operation; prints what happened and stops the emulator.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source scripts/lib/packages.sh
ensure_packages cmake make g++ libboost-json1.81-dev libcurl4-openssl-dev libssl-dev curl

# GENESYS_DEMO_BUILD: a configured build directory to take the programs from (CI passes the one
# scripts/test.sh made); by default a Release build of its own, with every core of the machine.
build=${GENESYS_DEMO_BUILD:-build/demo}
jobs=$(nproc 2>/dev/null || echo 2)
targets=(genesys-tokens-emulator genesys-tokens first_call validating_server async_client)
if [[ -z ${GENESYS_DEMO_BUILD:-} && ! -f $build/CMakeCache.txt ]]; then
    echo "configuring $build (Release) ..."
    generator=()
    command -v ninja >/dev/null && generator=(-G Ninja)
    cmake -S . -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DGENESYS_TOKENS_BUILD_TESTS=OFF >/dev/null
fi
echo "building ${targets[*]} in $build with $jobs jobs:"
echo "from nothing: about 1 minute on 2 idle cores (2 minutes on one: 118 s measured); seconds once built ..."
# One line per compiled file and per linked program, with the build's percentage, from Ninja's
# [n/N] or Make's [ n%] lines; anything else (a compiler's error) as it comes.
progress() {
    awk '
        function show(pct, rest) {
            if (match(rest, /^Building CXX object /)) {
                rest = substr(rest, RLENGTH + 1)
                sub(/\.o$/, "", rest)
                n = split(rest, parts, "/CMakeFiles/")
                if (n == 2) { split(parts[2], t, ".dir/"); rest = t[1] ": " t[2] }
                printf "  [%3d%%] compiling %s\n", pct, rest
            } else if (match(rest, /^Linking CXX (executable|static library) /)) {
                printf "  [%3d%%] linking %s\n", pct, substr(rest, RLENGTH + 1)
            }
            fflush()
        }
        /^\[[0-9]+\/[0-9]+\] / { split(substr($1, 2), f, "/"); sub(/^[^ ]+ /, ""); show(int(100 * f[1] / f[2]), $0); next }
        /^\[ *[0-9]+%\] / { pct = $0; sub(/^\[ */, "", pct); sub(/%.*/, "", pct); sub(/^\[ *[0-9]+%\] /, ""); show(pct + 0, $0); next }
        /^(-- |Scanning dependencies|Consolidate compiler|Built target|make(\[[0-9]+\])?: (Entering|Leaving) directory|ninja: no work)/ { next }
        { print; fflush() }'
}
started=$SECONDS
cmake --build "$build" -j "$jobs" --target "${targets[@]}" 2>&1 | progress
echo "built in $((SECONDS - started)) s"

tmp=$(mktemp -d)
emulator_pid= server_pid=
stop() { # pid: SIGTERM, then wait for it
    if [[ -n $1 ]] && kill -0 "$1" 2>/dev/null; then
        kill -TERM "$1"
        wait "$1" || true
    fi
}
cleanup() {
    stop "$server_pid"
    stop "$emulator_pid"
    rm -rf "$tmp"
}
trap cleanup EXIT
wait_for_file() { # file log: up to 5 s
    for _ in $(seq 100); do [[ -s $1 ]] && return 0; sleep 0.05; done
    cat "$2"
    exit 1
}

"$build/tools/genesys-tokens-emulator" --port 0 --port-file "$tmp/port" >"$tmp/emulator.log" 2>&1 &
emulator_pid=$!
wait_for_file "$tmp/port" "$tmp/emulator.log"
base="http://127.0.0.1:$(cat "$tmp/port")"
echo "emulator: $(head -n1 "$tmp/emulator.log")"

# The emulator's built-in seed (genesys-tokens-emulator --print-seed lists all of it).
admin_token=emulator-admin-token-7c1f agent_token=emulator-agent-token-3e9a
acme=6f0b3c4e-8d2a-4a51-9c3e-2f1d0b7a9e55
step() { echo; echo "== $1"; }
show() { # the command, its output and its exit code
    echo "\$ $*"
    local rc=0
    "$@" 2>&1 || rc=$?
    echo "(exit code $rc)"
}

step "The README's first program: GET /api/v2/tokens/me over libcurl (examples/first_call.cpp)"
show "$build/examples/first_call" "$base"

step "A service that lets in only live tokens of one organization with the scope 'users' (examples/validating_server.cpp)"
"$build/examples/validating_server" --api "$base" --org "$acme" --scope users --port 0 --port-file "$tmp/server-port" \
    >"$tmp/server.log" 2>&1 &
server_pid=$!
wait_for_file "$tmp/server-port" "$tmp/server.log"
service="http://127.0.0.1:$(cat "$tmp/server-port")"
echo "$(head -n1 "$tmp/server.log")"
service_token=$(curl -s -X POST -H 'Content-Type: application/json' -d '{"client":"client-service"}' \
    "$base/__emulator/tokens" | sed -E 's/.*"access_token":"([^"]*)".*/\1/')
whoami() { # label curl-arguments...
    local label=$1
    shift
    printf '%-52s -> ' "$label"
    curl -s -w ' (HTTP %{http_code})\n' "$@" "$service/whoami"
}
api_requests() { curl -s "$base/__emulator/stats" | sed -E 's/.*"requests":([0-9]+).*/\1/'; }
before=$(api_requests)
whoami "a user's token of Acme, scopes users oauth" -H "Authorization: Bearer $admin_token"
whoami "the same token again (cached: no API call)" -H "Authorization: Bearer $admin_token"
whoami "no token"
whoami "a token the API does not know" -H "Authorization: Bearer not-a-real-token"
whoami "a client's token of Acme, scopes oauth organization" -H "Authorization: Bearer $service_token"
echo "the service called the Tokens API $(($(api_requests) - before)) times for these 5 requests"
stop "$server_pid"
server_pid=
tail -n1 "$tmp/server.log"

step "The asynchronous client: a coroutine over Boost.Beast, a callback over libcurl on a thread pool (examples/async_client.cpp)"
show "$build/examples/async_client" "$base" "$admin_token"

export GENESYS_CLOUD_TOKEN_FILE="$tmp/token" # where `login` keeps the token; it is never printed
# Secrets in files, not on the command line (where every user sees them in ps and /proc).
(umask 077 && echo service-secret-5b2d >"$tmp/client-secret" && echo "$agent_token" >"$tmp/agent-token")
cli="$build/tools/genesys-tokens"
# -v: each HTTP exchange on stderr (method, URL, status, time, correlation id; never the token).
run() {
    echo "\$ genesys-tokens -v $*"
    local rc=0
    "$cli" --base-url "$base" -v "$@" 2>&1 || rc=$?
    echo "(exit code $rc)"
}

step "The CLI: get a token with the client-credentials grant"
run login --client-id client-service --client-secret-file "$tmp/client-secret"
step "Inspect it (organization, scopes, client, when it idles)"
run me
step "Verify it (HEAD /api/v2/tokens/me)"
run verify
step "Read and change the organization's idle-token timeout"
run timeout
run timeout set 1800
step "Another user's token is valid ..."
run --token-file "$tmp/agent-token" verify
step "... until every token of that user is revoked"
run revoke 0d6f2a31-5b7c-4e8d-9f10-1a2b3c4d5e6f
run --token-file "$tmp/agent-token" verify
step "Errors are typed: status, code, message and correlation id"
run revoke no-such-user
run revoke ..
step "Log out: the token is deleted and no longer valid"
run logout
run verify
run --json me

step "Stop the emulator"
stop "$emulator_pid"
emulator_pid=
tail -n1 "$tmp/emulator.log"
