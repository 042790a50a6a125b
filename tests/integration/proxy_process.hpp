// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_TESTS_PROXY_PROCESS_HPP
#define GENESYS_TESTS_PROXY_PROCESS_HPP

// A real HTTP proxy owned by the test: Debian's tinyproxy, started in the foreground on a free
// loopback port with its own configuration (Basic authentication by default), log file and pid
// file in a temporary directory, and stopped with SIGTERM when the object dies. Never the
// machine's tinyproxy service.

#include "emulator_process.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace testproc {

/// The path of tinyproxy, or "" when it is not installed.
inline std::string tinyproxy_path()
{
    for (const char* p : {"/usr/bin/tinyproxy", "/usr/sbin/tinyproxy", "/usr/local/bin/tinyproxy"})
        if (::access(p, X_OK) == 0)
            return p;
    return {};
}

/// tinyproxy as a child process on a free loopback port.
class proxy_process {
public:
    /// The credentials the proxy accepts (Basic), unless made with `basic_auth` false.
    static constexpr std::string_view user = "proxy-user";
    static constexpr std::string_view password = "Pr0xy-pa55word-7f3c";

    /// Starts tinyproxy; throws `std::runtime_error` saying why when it cannot (not installed:
    /// `apt-get install tinyproxy`).
    explicit proxy_process(bool basic_auth = true)
    {
        const std::string exe = tinyproxy_path();
        if (exe.empty())
            throw std::runtime_error("tinyproxy is not installed (apt-get install tinyproxy)");
        for (int attempt = 0; attempt < 5; ++attempt) {
            port_ = free_loopback_port();
            write_config(basic_auth);
            if (start(exe))
                return;
        }
        throw std::runtime_error("tinyproxy did not start: " + log());
    }

    ~proxy_process() { stop(); }
    proxy_process(const proxy_process&) = delete;
    proxy_process& operator=(const proxy_process&) = delete;

    int port() const { return port_; }

    /// `http://127.0.0.1:PORT`, without credentials.
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

    /// `http://USER:PASSWORD@127.0.0.1:PORT`: the credentials inside the URL.
    std::string url_with_credentials() const
    {
        return "http://" + std::string(user) + ":" + std::string(password) + "@127.0.0.1:" + std::to_string(port_);
    }

    /// The proxy's log so far (LogLevel Info: every connection and request line it handled).
    std::string log() const { return read_file(dir_.path() / "tinyproxy.log"); }

    /// How many requests the proxy has logged whose request line contains `what` (for example
    /// `"CONNECT 127.0.0.1:8443"` or `"GET http://127.0.0.1:8080/"`).
    std::size_t requests_containing(std::string_view what) const
    {
        const std::string text = log();
        std::size_t n = 0;
        std::size_t pos = 0;
        while ((pos = text.find("Request (file descriptor", pos)) != std::string::npos) {
            const std::size_t eol = text.find('\n', pos);
            const std::string_view line(text.data() + pos, (eol == std::string::npos ? text.size() : eol) - pos);
            if (line.find(what) != std::string_view::npos)
                ++n;
            pos = eol == std::string::npos ? text.size() : eol;
        }
        return n;
    }

    /// SIGTERM, then wait (SIGKILL after 5 s).
    void stop()
    {
        if (pid_ != 0)
            terminate(pid_);
        pid_ = 0;
    }

private:
    void write_config(bool basic_auth)
    {
        std::ofstream conf(dir_.path() / "tinyproxy.conf", std::ios::trunc);
        conf << "Port " << port_ << "\n"
             << "Listen 127.0.0.1\n"
             << "Timeout 30\n"
             << "MaxClients 64\n"
             << "LogFile \"" << (dir_.path() / "tinyproxy.log").string() << "\"\n"
             << "LogLevel Info\n"
             << "PidFile \"" << (dir_.path() / "tinyproxy.pid").string() << "\"\n"
             << "DisableViaHeader Yes\n"
             << "Allow 127.0.0.1\n";
        if (basic_auth)
            conf << "BasicAuth " << user << " " << password << "\n";
    }

    bool start(const std::string& exe)
    {
        pid_ = spawn({exe, "-d", "-c", (dir_.path() / "tinyproxy.conf").string()}, (dir_.path() / "stdout").string());
        if (wait_listening(pid_, {port_}))
            return true;
        stop(); // nothing to do when it exited (most likely the port was taken)
        return false;
    }

    temp_dir dir_;
    pid_t pid_ = 0;
    int port_ = 0;
};

} // namespace testproc

#endif
