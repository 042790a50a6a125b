// SPDX-License-Identifier: BSL-1.0
#include "secret_file.hpp"

#include "terminal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <random>
#include <utility>

namespace genesys_cli {

namespace {

std::string reason(int error_number) { return std::strerror(error_number); }

/// A file descriptor closed when it goes out of scope (unless released).
class unique_fd {
public:
    explicit unique_fd(int fd = -1) : fd_(fd) {}
    ~unique_fd()
    {
        if (fd_ >= 0)
            ::close(fd_);
    }
    unique_fd(const unique_fd&) = delete;
    unique_fd& operator=(const unique_fd&) = delete;
    int get() const { return fd_; }
    void reset(int fd)
    {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = fd;
    }
    int release() { return std::exchange(fd_, -1); }

private:
    int fd_;
};

/// How the source of a secret is named in messages, e.g. "token file /x/token".
std::string describe(const std::string& path, std::string_view what)
{
    if (path == "-")
        return "the " + std::string(what) + " from standard input";
    return std::string(what) + " file " + path;
}

void warn_if_shared(int fd, const std::string& path)
{
    struct stat st{};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) == 0)
        return;
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    std::cerr << "genesys-tokens: warning: " << terminal_text(path) << " is accessible by group or others (mode "
              << mode << "): run chmod 600 on it\n";
}

/// Reads at most `limit` bytes from `fd`.
std::string read_at_most(int fd, std::size_t limit, const std::string& source)
{
    std::string content(limit, '\0');
    std::size_t used = 0;
    while (used < limit) {
        const ssize_t n = ::read(fd, content.data() + used, limit - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw secret_problem("cannot read " + source + ": " + reason(errno));
        if (n == 0)
            break;
        used += static_cast<std::size_t>(n);
    }
    content.resize(used);
    return content;
}

void strip_one_line_end(std::string& s)
{
    if (s.ends_with("\r\n"))
        s.resize(s.size() - 2);
    else if (s.ends_with('\n'))
        s.pop_back();
}

void write_all(int fd, std::string_view content)
{
    while (!content.empty()) {
        const ssize_t n = ::write(fd, content.data(), content.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            throw std::runtime_error("write: " + reason(n < 0 ? errno : EIO));
        content.remove_prefix(static_cast<std::size_t>(n));
    }
}

void make_private_directories(const std::filesystem::path& dir)
{
    std::filesystem::path partial;
    for (const auto& part : dir) {
        partial /= part;
        if (::mkdir(partial.c_str(), 0700) == 0)
            continue;
        const int error = errno;
        struct stat st{};
        if (error == EEXIST && ::stat(partial.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
            continue;
        throw secret_problem("cannot create directory " + partial.string() + ": " +
                             reason(error == EEXIST ? ENOTDIR : error));
    }
}

/// Refuses a target that is a symbolic link or not a regular file; a missing one is fine.
void check_target(const std::filesystem::path& target, std::string_view what)
{
    struct stat st{};
    if (::lstat(target.c_str(), &st) != 0) {
        if (errno == ENOENT)
            return;
        throw secret_problem("cannot use " + describe(target.string(), what) + ": " + reason(errno));
    }
    if (S_ISLNK(st.st_mode))
        throw secret_problem(describe(target.string(), what) +
                             " is a symbolic link: refusing to write through it (remove the link or choose "
                             "another --token-file)");
    if (!S_ISREG(st.st_mode))
        throw secret_problem(describe(target.string(), what) + " is not a regular file");
}

/// A new, private file next to the target, removed again unless it was renamed into place.
class temp_file {
public:
    explicit temp_file(const std::filesystem::path& target)
    {
        const std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : ".";
        std::string prefix = "."; // not "." + string: g++ 12 -O3 warns falsely (-Wrestrict, GCC PR105651)
        prefix += target.filename().string();
        prefix += ".tmp-";
        std::random_device random;
        for (int tries = 0; tries < 100; ++tries) {
            char suffix[16];
            std::snprintf(suffix, sizeof suffix, "%08x", static_cast<unsigned>(random()));
            path_ = dir / (prefix + suffix);
            fd_.reset(::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
            if (fd_.get() >= 0)
                return;
            if (errno != EEXIST)
                throw std::runtime_error("create " + path_.string() + ": " + reason(errno));
        }
        throw std::runtime_error("create a temporary file in " + dir.string() + ": " + reason(EEXIST));
    }
    ~temp_file()
    {
        if (!renamed_)
            ::unlink(path_.c_str());
    }
    temp_file(const temp_file&) = delete;
    temp_file& operator=(const temp_file&) = delete;

    void write(std::string_view content)
    {
        if (::fchmod(fd_.get(), 0600) != 0) // exactly 0600, whatever the umask took away
            throw std::runtime_error("fchmod: " + reason(errno));
        write_all(fd_.get(), content);
        if (::fsync(fd_.get()) != 0)
            throw std::runtime_error("fsync: " + reason(errno));
        if (::close(fd_.release()) != 0)
            throw std::runtime_error("close: " + reason(errno));
    }

    /// rename() replaces a symbolic link at `target` itself; it never writes through it.
    void rename_to(const std::filesystem::path& target)
    {
        if (::rename(path_.c_str(), target.c_str()) != 0)
            throw std::runtime_error("rename: " + reason(errno));
        renamed_ = true;
    }

private:
    std::filesystem::path path_;
    unique_fd fd_;
    bool renamed_ = false;
};

/// Makes the rename durable; best effort (the token is in place either way).
void sync_directory(const std::filesystem::path& target)
{
    const std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : ".";
    unique_fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() >= 0)
        ::fsync(fd.get());
}

} // namespace

void check_secret(std::string_view secret, std::string_view source)
{
    if (secret.empty())
        throw secret_problem(std::string(source) + " is empty");
    if (secret.size() > max_secret_bytes)
        throw secret_problem(std::string(source) + " is over " + std::to_string(max_secret_bytes) + " bytes");
    for (const char c : secret)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            throw secret_problem(std::string(source) + " holds a control character or more than one line");
}

std::optional<std::string> read_secret_file(const std::string& path, std::string_view what, bool missing_ok)
{
    const std::string source = describe(path, what);
    const bool from_stdin = path == "-";
    unique_fd owned(from_stdin ? -1 : ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!from_stdin && owned.get() < 0) {
        if (errno == ENOENT && missing_ok)
            return std::nullopt;
        throw secret_problem("cannot read " + source + ": " + reason(errno));
    }
    const int fd = from_stdin ? STDIN_FILENO : owned.get();
    if (!from_stdin)
        warn_if_shared(fd, path);
    std::string secret = read_at_most(fd, max_secret_bytes + 3, source); // + a line end, + 1 to see "too long"
    strip_one_line_end(secret);
    check_secret(secret, source);
    return secret;
}

void prepare_secret_file(const std::filesystem::path& target, std::string_view what)
{
    if (target.has_parent_path())
        make_private_directories(target.parent_path());
    check_target(target, what);
}

void write_secret_file(const std::filesystem::path& target, std::string_view what, std::string_view content)
{
    check_target(target, what);
    try {
        temp_file tmp(target);
        tmp.write(content);
        tmp.rename_to(target);
    } catch (const std::runtime_error& e) {
        throw std::runtime_error("cannot save the " + std::string(what) + " to " + target.string() + ": " + e.what());
    }
    sync_directory(target);
}

} // namespace genesys_cli
