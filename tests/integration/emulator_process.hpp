// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_TESTS_EMULATOR_PROCESS_HPP
#define GENESYS_TESTS_EMULATOR_PROCESS_HPP

// Test-owned processes: the emulator, started on a free loopback port and stopped with SIGTERM
// when the test process ends (never a left-over server); a TLS certificate generated at test
// time with openssl; and running a command with its output captured.

#include "process_support.hpp"

#include <genesys/genesys.hpp>
#include <genesys/transport/curl.hpp>

#include <boost/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace testproc {

/// The path of a program this build made, from its path relative to the running test program's
/// folder (how CMake passes it: objects that name no absolute path are the same in every checkout,
/// so the compiler cache shares them between clones).
inline std::string built_program(const char* relative)
{
    const auto self = std::filesystem::read_symlink("/proc/self/exe");
    return (self.parent_path() / relative).lexically_normal().string();
}

/// A self-signed certificate for 127.0.0.1 and localhost, made once per test process.
struct tls_material {
    temp_dir dir;
    std::string cert, key;

    static const tls_material& get()
    {
        static const tls_material instance;
        return instance;
    }

private:
    tls_material()
    {
        cert = (dir.path() / "cert.pem").string();
        key = (dir.path() / "key.pem").string();
        const std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost"
                                " -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout '" +
                                key + "' -out '" + cert + "' >/dev/null 2>&1";
        if (std::system(cmd.c_str()) != 0)
            throw std::runtime_error("openssl could not make a test certificate");
    }
};

struct run_result {
    int exit_code = -1;
    std::string out, err;
};

/// Runs `argv` with extra environment variables, waits, and returns its exit code and output.
inline run_result run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {})
{
    temp_dir dir;
    const std::string out_path = (dir.path() / "out").string(), err_path = (dir.path() / "err").string();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);

    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e) {
        std::string_view entry(*e);
        if (!env.contains(std::string(entry.substr(0, entry.find('=')))))
            env_strings.emplace_back(entry);
    }
    for (const auto& [k, v] : env)
        env_strings.push_back(k + "=" + v);
    std::vector<char*> args, envp;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    for (auto& e : env_strings)
        envp.push_back(e.data());
    envp.push_back(nullptr);

    pid_t pid = 0;
    int rc = posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0)
        throw std::runtime_error("cannot start " + argv[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_file(out_path), read_file(err_path)};
}

/// A server program as a child process: started with `--port 0 --port-file FILE` after `argv`
/// (its path first), stdin from /dev/null and its output in a log file; stopped with SIGTERM.
class child_server {
public:
    explicit child_server(std::vector<std::string> argv)
    {
        const std::string port_file = (dir_.path() / "port").string();
        const std::string log = (dir_.path() / "log").string();
        argv.insert(argv.end(), {"--port", "0", "--port-file", port_file});
        pid_ = spawn(argv, log);

        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!std::filesystem::exists(port_file)) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = 0;
                throw std::runtime_error(argv[0] + " exited: " + read_file(log));
            }
            if (std::chrono::steady_clock::now() > deadline) {
                terminate(pid_);
                pid_ = 0;
                throw std::runtime_error(argv[0] + " did not start: " + read_file(log));
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        port_ = std::stoi(read_file(port_file));
    }

    ~child_server() { stop(); }
    child_server(const child_server&) = delete;
    child_server& operator=(const child_server&) = delete;

    /// SIGTERM, then wait for a clean exit (SIGKILL after 5 s). Returns the exit status, -1 if
    /// killed.
    int stop()
    {
        if (pid_ == 0)
            return exit_status_;
        exit_status_ = terminate(pid_);
        pid_ = 0;
        return exit_status_;
    }

    int port() const { return port_; }
    std::string log() const { return read_file(dir_.path() / "log"); }

private:
    temp_dir dir_;
    pid_t pid_ = 0;
    int port_ = 0;
    int exit_status_ = -1;
};

/// The emulator as a child process on a free port.
class emulator_process {
public:
    explicit emulator_process(bool tls = false, std::vector<std::string> extra_args = {})
        : tls_(tls), proc_(arguments(tls, std::move(extra_args)))
    {
    }

    /// SIGTERM, then wait for a clean exit (SIGKILL after 5 s). Returns the exit status.
    int stop() { return proc_.stop(); }

    bool tls() const { return tls_; }
    int port() const { return proc_.port(); }
    std::string base_url() const { return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port()); }
    std::string log() const { return proc_.log(); }

    /// Calls a control endpoint (`/__emulator/...`) and returns the response.
    genesys::http_response control(genesys::http_method method, std::string_view path, std::string body = {})
    {
        auto r = control_.send({method, base_url() + std::string(path), {{"Content-Type", "application/json"}},
                                std::move(body)});
        if (!r)
            throw std::runtime_error("emulator control failed: " + r.error().message());
        return std::move(*r);
    }

    void reset() { control(genesys::http_method::post, "/__emulator/reset"); }

    boost::json::object stats()
    {
        return boost::json::parse(control(genesys::http_method::get, "/__emulator/stats").body).as_object();
    }

private:
    static std::vector<std::string> arguments(bool tls, std::vector<std::string> extra_args)
    {
        std::vector<std::string> argv{built_program(GENESYS_EMULATOR_PATH)};
        if (tls) {
            const auto& m = tls_material::get();
            argv.insert(argv.end(), {"--tls-cert", m.cert, "--tls-key", m.key});
        }
        argv.insert(argv.end(), extra_args.begin(), extra_args.end());
        return argv;
    }

    genesys::curl_options control_options() const
    {
        genesys::curl_options o;
        if (tls_)
            o.ca_file = tls_material::get().cert;
        return o;
    }

    bool tls_;
    child_server proc_;
    genesys::curl_transport control_{control_options()};
};

/// One emulator per scheme for the whole test process, reset by each test that uses it.
inline emulator_process& shared_emulator(bool tls)
{
    static std::unique_ptr<emulator_process> instances[2];
    auto& slot = instances[tls ? 1 : 0];
    if (!slot)
        slot = std::make_unique<emulator_process>(tls);
    slot->reset();
    return *slot;
}

} // namespace testproc

#endif
