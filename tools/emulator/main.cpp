// SPDX-License-Identifier: BSL-1.0
// genesys-tokens-emulator: the Genesys Cloud Tokens API and OAuth token endpoint on loopback,
// for integration tests and demos. See --help.

#include "emulator.hpp"
#include "server.hpp"

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

namespace {

constexpr std::string_view usage = R"(usage: genesys-tokens-emulator [options]

Serves the Genesys Cloud Tokens API (/api/v2/tokens/...) and POST /oauth/token on 127.0.0.1.
Grants: client_credentials, authorization_code (PKCE S256; public clients send client_id in the
form), refresh_token (rotating) and urn:ietf:params:oauth:grant-type:saml2-bearer (orgName, and a
base64 assertion whose NameID is a seeded user's id).

options:
  --port N             port to listen on (default 8765); 0 picks a free one
  --port-file FILE     write the chosen port to FILE once listening
  --seed FILE          JSON seed of organizations, users, clients and tokens (default: built in)
  --print-seed         print the seed's organizations, users, OAuth clients (grant, secret,
                       scope, permissions, redirect URIs) and tokens, and exit; with --json, the
                       seed as the JSON --seed takes
  --tls-cert FILE      serve https with this PEM certificate chain ...
  --tls-key FILE       ... and this PEM private key
  --tls-client-ca FILE with --tls-cert/--tls-key: require a client certificate signed by a CA
                       of this PEM file (mutual TLS); a client without one fails the handshake
  --fault SPEC         a fault for every API request: MODE[;ms=N][;count=N], MODE one of
                       delay, close-before, close-mid, truncate, invalid-json,
                       wrong-content-type, server-error, rate-limited
  --rate-limit N       requests per token per window (default 300)
  --rate-window S      the window in seconds (default 60)
  --help               this text

Built-in seed (all of it: --print-seed): tokens emulator-admin-token-7c1f (Ada Admin: may revoke and
set the timeout) and emulator-agent-token-3e9a (Alan Agent); clients (id / secret) client-service /
service-secret-5b2d (client credentials: may revoke and set the timeout), client-readonly /
readonly-secret-8e4a, client-saml / saml-secret-2c7e (SAML2 bearer), client-desktop (public, PKCE).

Per request, the header `X-Emulator-Fault: SPEC` applies a fault to that request alone.
Control endpoints: POST /__emulator/faults {"mode","ms","count"}, DELETE /__emulator/faults,
POST /__emulator/clock {"advanceSeconds"}, POST /__emulator/config {"rateLimit","rateWindowSeconds"},
POST /__emulator/tokens {"user","client"}, GET /__emulator/stats, POST /__emulator/reset,
POST /__emulator/authorize {"client_id","redirect_uri","user","code_challenge",
"code_challenge_method":"S256","state"} -> {"code","redirect"} (a one-time code for 10 minutes).
Request line and headers over 32 KiB: 431; a body over 8 MiB: 413; a known path with another
method (OPTIONS too): 405 with Allow. Every response has ININ-Correlation-Id and inin-ratelimit-*.
Stops cleanly on SIGINT or SIGTERM, at once, whatever is in flight.
)";

std::string read_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error("cannot read " + path);
    std::ostringstream os;
    os << in.rdbuf();
    return os.str();
}

} // namespace

int main(int argc, char** argv)
{
    genesys_emulator::options opts;
    genesys_emulator::server_options server_opts;
    server_opts.port = genesys_emulator::default_port;
    std::string port_file;
    bool print_seed = false, json = false;
    try {
        for (int i = 1; i < argc; ++i) {
            std::string_view arg = argv[i];
            auto value = [&]() -> std::string {
                if (i + 1 >= argc)
                    throw std::runtime_error(std::string(arg) + " needs a value");
                return argv[++i];
            };
            if (arg == "--help" || arg == "-h") {
                std::cout << usage;
                return 0;
            } else if (arg == "--port") {
                server_opts.port = static_cast<unsigned short>(std::stoi(value()));
            } else if (arg == "--port-file") {
                port_file = value();
            } else if (arg == "--seed") {
                opts.seed_json = read_file(value());
            } else if (arg == "--print-seed") {
                print_seed = true;
            } else if (arg == "--json") {
                json = true;
            } else if (arg == "--tls-cert") {
                server_opts.tls_cert = value();
            } else if (arg == "--tls-key") {
                server_opts.tls_key = value();
            } else if (arg == "--tls-client-ca") {
                server_opts.tls_client_ca = value();
            } else if (arg == "--fault") {
                auto spec = value();
                opts.run_fault = genesys_emulator::parse_fault(spec);
                if (!opts.run_fault)
                    throw std::runtime_error("bad --fault " + spec);
            } else if (arg == "--rate-limit") {
                opts.rate_limit = std::stoi(value());
            } else if (arg == "--rate-window") {
                opts.rate_window_seconds = std::stoi(value());
            } else {
                throw std::runtime_error("unknown option " + std::string(arg));
            }
        }
        if (json && !print_seed)
            throw std::runtime_error("--json goes with --print-seed");
    } catch (const std::exception& e) {
        std::cerr << "genesys-tokens-emulator: " << e.what() << "\n\n" << usage;
        return 2;
    }

    try {
        if (print_seed) {
            const std::string_view seed =
                opts.seed_json.empty() ? genesys_emulator::default_seed() : std::string_view(opts.seed_json);
            if (json)
                std::cout << seed << (seed.ends_with('\n') ? "" : "\n");
            else
                std::cout << (opts.seed_json.empty() ? "The built-in seed (--seed FILE replaces it)" : "The seed")
                          << ":\n\n"
                          << genesys_emulator::describe_seed(seed);
            return 0;
        }
        genesys_emulator::service svc(opts);
        std::optional<genesys_emulator::server> listening;
        try {
            listening.emplace(svc, server_opts);
        } catch (const boost::system::system_error& e) {
            if (e.code() != boost::asio::error::address_in_use)
                throw;
            std::cerr << "genesys-tokens-emulator: cannot listen on 127.0.0.1:" << server_opts.port
                      << ": the port is taken (another emulator?); --port N takes another one, --port 0 any free one\n";
            return 2;
        }
        auto& srv = *listening;
        if (!port_file.empty()) {
            std::ofstream(port_file + ".tmp") << srv.port() << '\n';
            std::rename((port_file + ".tmp").c_str(), port_file.c_str()); // appears whole or not at all
        }
        std::cout << "genesys-tokens-emulator listening on " << (srv.tls() ? "https" : "http") << "://127.0.0.1:"
                  << srv.port() << std::endl;
        srv.run();
        std::cout << "genesys-tokens-emulator stopped" << std::endl;
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "genesys-tokens-emulator: " << e.what() << '\n';
        return 2;
    }
}
