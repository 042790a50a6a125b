// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_TESTS_REDIS_PROCESS_HPP
#define GENESYS_TESTS_REDIS_PROCESS_HPP

// A Redis server owned by the test: Debian's redis-server, started in the foreground on a free
// loopback port with its own configuration and data directory (a password, no persistence),
// optionally a TLS port with a certificate made by openssl at test time, and stopped with SIGTERM
// when the object dies. Never the machine's Redis service. Self-contained (no libcurl, unlike
// emulator_process.hpp), so the Redis tests link hiredis and Asio only.

#include "process_support.hpp"

#include <genesys/redis/options.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

extern char** environ;

namespace testredis {

using testproc::free_loopback_port;
using testproc::loopback_port_open;
using testproc::read_file;
using testproc::temp_dir;

/// The path of redis-server, or "" when it is not installed.
inline std::string redis_server_path()
{
    for (const char* p : {"/usr/bin/redis-server", "/usr/local/bin/redis-server"})
        if (::access(p, X_OK) == 0)
            return p;
    return {};
}

/// A CA and a server certificate it signed (for 127.0.0.1 and localhost), made with openssl.
struct redis_tls_material {
    std::string ca_cert, cert, key;

    explicit redis_tls_material(const std::filesystem::path& dir)
    {
        ca_cert = (dir / "ca.pem").string();
        cert = (dir / "server.pem").string();
        key = (dir / "server.key").string();
        const std::string d = dir.string();
        const std::string cmd =
            "cd '" + d + "' && openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=genesys-test-ca"
            " -keyout ca.key -out ca.pem >/dev/null 2>&1"
            " && openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key -out server.csr >/dev/null 2>&1"
            " && printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > ext.cnf"
            " && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile ext.cnf"
            " -out server.pem >/dev/null 2>&1";
        if (std::system(cmd.c_str()) != 0)
            throw std::runtime_error("openssl could not make the Redis test certificates");
    }
};

/// redis-server as a child process on a free loopback port, with a password; with `tls`, a
/// TLS port too (`tls_port()`, certificates signed by the CA `ca_file()`), and no client
/// certificate required.
class redis_process {
public:
    /// The password the server requires.
    static constexpr std::string_view password = "R3dis-pa55word-9c1e-do-not-print";

    explicit redis_process(bool tls = false)
    {
        const std::string exe = redis_server_path();
        if (exe.empty())
            throw std::runtime_error("redis-server is not installed (apt-get install redis-server)");
        if (tls)
            tls_.emplace(dir_.path());
        for (int attempt = 0; attempt < 5; ++attempt) {
            port_ = free_loopback_port();
            tls_port_ = tls ? free_loopback_port() : 0;
            if (start(exe))
                return;
        }
        throw std::runtime_error("redis-server did not start: " + log());
    }

    ~redis_process() { stop(); }
    redis_process(const redis_process&) = delete;
    redis_process& operator=(const redis_process&) = delete;

    int port() const { return port_; }

    /// What a client of this server is given: its plain port and the password; `timeout`, when
    /// set, as both the connect and the command timeout (else the library's defaults).
    genesys::redis_options client_options(std::optional<std::chrono::milliseconds> timeout = std::nullopt) const
    {
        genesys::redis_options o;
        o.port = static_cast<std::uint16_t>(port_);
        o.password = std::string(password);
        if (timeout) {
            o.connect_timeout = *timeout;
            o.command_timeout = *timeout;
        }
        return o;
    }
    int tls_port() const { return tls_port_; }
    std::string ca_file() const { return tls_ ? tls_->ca_cert : std::string(); }
    pid_t pid() const { return pid_; }
    std::string log() const { return read_file(dir_.path() / "redis.log"); }

    /// SIGSTOP: the server keeps its sockets but answers nothing.
    void pause() const { ::kill(pid_, SIGSTOP); }
    /// SIGCONT after `pause`.
    void resume() const { ::kill(pid_, SIGCONT); }

    /// SIGKILL, and wait.
    void kill()
    {
        if (pid_ == 0)
            return;
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = 0;
    }

    /// SIGKILL, wait, and start a new server on the same ports (empty: no persistence).
    void restart()
    {
        kill();
        const std::string exe = redis_server_path();
        for (int attempt = 0; attempt < 20; ++attempt) {
            if (start(exe))
                return;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        throw std::runtime_error("redis-server did not start again: " + log());
    }

    /// SIGCONT (it may be paused), SIGTERM, then wait (SIGKILL after 5 s).
    void stop()
    {
        if (pid_ != 0)
            testproc::terminate(pid_);
        pid_ = 0;
    }

private:
    bool start(const std::string& exe)
    {
        std::vector<std::string> argv{exe,
                                      "--port", std::to_string(port_),
                                      "--bind", "127.0.0.1",
                                      "--requirepass", std::string(password),
                                      "--save", "",
                                      "--appendonly", "no",
                                      "--dir", dir_.path().string(),
                                      "--logfile", (dir_.path() / "redis.log").string(),
                                      "--daemonize", "no",
                                      "--databases", "4"};
        if (tls_) {
            argv.insert(argv.end(), {"--tls-port", std::to_string(tls_port_), "--tls-cert-file", tls_->cert,
                                     "--tls-key-file", tls_->key, "--tls-ca-cert-file", tls_->ca_cert,
                                     "--tls-auth-clients", "no"});
        }
        pid_ = testproc::spawn(std::move(argv), (dir_.path() / "stdout").string());
        if (testproc::wait_listening(pid_, {port_, tls_port_}))
            return true;
        stop();
        return false;
    }

    temp_dir dir_;
    std::optional<redis_tls_material> tls_{};
    pid_t pid_ = 0;
    int port_ = 0;
    int tls_port_ = 0;
};

} // namespace testredis

#endif
