#!/usr/bin/env bash
# SPDX-License-Identifier: BSL-1.0
# The whole flow over real HTTP: starts the Tokens API emulator on loopback, runs the
# genesys-tokens CLI through every operation against it, prints what happened, stops it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source scripts/lib/packages.sh
ensure_packages cmake make g++ libboost-json1.81-dev libcurl4-openssl-dev libssl-dev

# GENESYS_DEMO_BUILD: a configured build directory to take the two programs from (CI passes the
# one scripts/test.sh made); by default a Release build of its own.
build=${GENESYS_DEMO_BUILD:-build/demo}
echo "building the emulator and the CLI in $build ..."
if [[ -z ${GENESYS_DEMO_BUILD:-} ]]; then
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DGENESYS_TOKENS_BUILD_TESTS=OFF >/dev/null
fi
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target genesys-tokens genesys-tokens-emulator >/dev/null

tmp=$(mktemp -d)
emulator_pid=
cleanup() {
    if [[ -n $emulator_pid ]] && kill -0 "$emulator_pid" 2>/dev/null; then
        kill -TERM "$emulator_pid"
        wait "$emulator_pid" || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

"$build/tools/genesys-tokens-emulator" --port 0 --port-file "$tmp/port" >"$tmp/emulator.log" 2>&1 &
emulator_pid=$!
for _ in $(seq 100); do [[ -s $tmp/port ]] && break; sleep 0.05; done
[[ -s $tmp/port ]] || { cat "$tmp/emulator.log"; exit 1; }
base="http://127.0.0.1:$(cat "$tmp/port")"
echo "emulator: $(head -n1 "$tmp/emulator.log")"

export GENESYS_CLOUD_TOKEN_FILE="$tmp/token" # where `login` keeps the token; it is never printed
# Secrets in files, not on the command line (where every user sees them in ps and /proc).
(umask 077 && echo service-secret-5b2d >"$tmp/client-secret" && echo emulator-agent-token-3e9a >"$tmp/agent-token")
cli="$build/tools/genesys-tokens"
step() { echo; echo "== $1"; }
# -v: each HTTP exchange on stderr (method, URL, status, time, correlation id; never the token).
run() {
    echo "\$ genesys-tokens -v $*"
    local rc=0
    "$cli" --base-url "$base" -v "$@" 2>&1 || rc=$?
    echo "(exit code $rc)"
}

step "Get a token with the client-credentials grant"
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
kill -TERM "$emulator_pid"
wait "$emulator_pid" || true
emulator_pid=
tail -n1 "$tmp/emulator.log"
