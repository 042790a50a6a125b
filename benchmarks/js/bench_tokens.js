#!/usr/bin/env node
// SPDX-License-Identifier: BSL-1.0
// The official Genesys Cloud JavaScript SDK (purecloud-platform-client-v2, pinned in package.json)
// calling TokensApi.getTokensMe() against the emulator with N calls in flight: the peer of
// bench_async (see ../README.md). The SDK's own client sends every request (axios, Node's default
// http agent); nothing here speaks HTTP by hand.
//
//   node bench_tokens.js --base-url http://127.0.0.1:PORT --token TOKEN \
//       [--in-flight 1,16,64] [--seconds 3] [--warmup 0.5]
//   bench_async --run-peer node bench_tokens.js [--in-flight ...]   (the emulator started for it:
//       GENESYS_BASE_URL and GENESYS_ACCESS_TOKEN stand for --base-url and --token)
//
// For each in-flight count, after the warm-up, prints one line:
//   js_sdk in_flight=N calls=C seconds=S calls_per_second=R cpu_us_per_call=U
// (U: the process's CPU time, user and system, every thread, over the calls of the window)
// Exits 1 when a call fails.
'use strict';

const platformClient = require('purecloud-platform-client-v2');

function parseArgs(argv) {
    const args = {
        baseUrl: process.env.GENESYS_BASE_URL, // set by `bench_async --run-peer`
        token: process.env.GENESYS_ACCESS_TOKEN,
        inFlight: [1, 16, 64],
        seconds: 3,
        warmup: 0.5,
    };
    for (let i = 2; i < argv.length; ++i) {
        const value = () => {
            if (i + 1 >= argv.length) throw new Error(`${argv[i]} needs a value`);
            return argv[++i];
        };
        switch (argv[i]) {
        case '--base-url': args.baseUrl = value(); break;
        case '--token': args.token = value(); break;
        case '--in-flight': args.inFlight = value().split(',').map(Number); break;
        case '--seconds': args.seconds = Number(value()); break;
        case '--warmup': args.warmup = Number(value()); break;
        default: throw new Error(`unknown option ${argv[i]}`);
        }
    }
    if (!args.baseUrl || !args.token) throw new Error('--base-url and --token (or GENESYS_BASE_URL and GENESYS_ACCESS_TOKEN) are required');
    if (args.inFlight.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('bad --in-flight');
    if (!(args.seconds > 0) || !(args.warmup >= 0)) throw new Error('bad --seconds or --warmup');
    return args;
}

/** Points the SDK at `baseUrl`: a plain http://host:port is a gateway for the SDK
    (setEnvironment always builds https://api.<environment>). */
function makeApi(baseUrl, token) {
    const url = new URL(baseUrl);
    const client = platformClient.ApiClient.instance;
    client.setGateway({
        host: url.hostname,
        protocol: url.protocol.replace(/:$/, ''),
        port: url.port ? Number(url.port) : -1,
        path_params_api: url.pathname.replace(/\/+$/, ''),
    });
    client.setAccessToken(token);
    return new platformClient.TokensApi();
}

/** Keeps `inFlight` calls going for `seconds`: each completion starts the next call. Resolves to the
    number of calls completed in the window, the window's length and the CPU time it took. */
function drive(api, inFlight, seconds) {
    return new Promise((resolve, reject) => {
        const start = process.hrtime.bigint();
        const cpuStart = process.cpuUsage();
        const end = start + BigInt(Math.round(seconds * 1e9));
        let completed = 0, running = 0, failed = false;
        const next = () => {
            if (failed) return;
            if (process.hrtime.bigint() >= end) {
                if (running === 0) {
                    const cpu = process.cpuUsage(cpuStart); // the whole process: every thread, GC too
                    resolve({ calls: completed, seconds: Number(process.hrtime.bigint() - start) / 1e9,
                              cpuMicros: cpu.user + cpu.system });
                }
                return;
            }
            ++running;
            api.getTokensMe().then((info) => {
                --running;
                if (!info || !info.organization) {
                    failed = true;
                    reject(new Error(`getTokensMe answered without an organization: ${JSON.stringify(info)}`));
                    return;
                }
                ++completed;
                next();
            }, (error) => {
                failed = true;
                reject(new Error(`getTokensMe failed: ${error && (error.message || JSON.stringify(error))}`));
            });
        };
        for (let i = 0; i < inFlight; ++i) next();
    });
}

async function main() {
    const args = parseArgs(process.argv);
    const api = makeApi(args.baseUrl, args.token);
    for (const n of args.inFlight) {
        if (args.warmup > 0) await drive(api, n, args.warmup); // opens the connections, warms the JIT
        const { calls, seconds, cpuMicros } = await drive(api, n, args.seconds);
        console.log(`js_sdk in_flight=${n} calls=${calls} seconds=${seconds.toFixed(3)} ` +
                    `calls_per_second=${(calls / seconds).toFixed(0)} cpu_us_per_call=${(cpuMicros / calls).toFixed(1)}`);
    }
}

main().then(() => process.exit(0), (error) => {
    console.error(`bench_tokens: ${error.message}`);
    process.exit(1);
});
