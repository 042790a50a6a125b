// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_FLEET_KEY_HPP
#define GENESYS_FLEET_KEY_HPP

/// @file
/// `fleet_key`: the secret the instances of a fleet share to name and authenticate the entries of
/// the shared (Redis) cache.

#include <genesys/detail/hmac.hpp>
#include <genesys/error.hpp>
#include <genesys/error_code.hpp>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iosfwd>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace genesys {

/** The fleet's shared secret: every instance that shares a cache holds the same one, at least
    32 bytes (256 bits) long.

    The shared cache names its entries by HMAC-SHA-256 of the token under this key (Redis never
    sees a token) and authenticates each value with a MAC under it (whoever can write to Redis but
    lacks the key cannot make a token valid). Generate one with `openssl rand -hex 32` (64
    characters) or `openssl rand -base64 48`; every byte is used as is (the key is not decoded), so
    any of these forms works as long as every instance reads the same bytes.

    The bytes are held in memory only: they are overwritten with zeros when the object (or any
    copy) is destroyed, never written by `operator<<` (deleted), and no error message, exception
    or log line of the library contains them.

    @code
    genesys::fleet_key key = genesys::fleet_key::from_env("GENESYS_FLEET_KEY");
    @endcode

    Thread safety: const members may be called from any number of threads at once.
*/
class fleet_key {
public:
    /// The shortest key accepted, in bytes.
    static constexpr std::size_t min_size = 32;
    /// The longest key accepted, in bytes (a longer file is surely not a key).
    static constexpr std::size_t max_size = 4096;

    /** A key of the bytes `secret`.

        @throws invalid_argument_error when `secret` is shorter than `min_size` or longer than
        `max_size`; the message says the length required, never the bytes.
    */
    explicit fleet_key(std::string_view secret) : bytes_(check(secret, "fleet_key")), mac_(bytes_) {}

    /** The key in the file at `path`: its bytes, less one final line end (`"\n"` or `"\r\n"`),
        so that `openssl rand -hex 32 > key` and a Kubernetes Secret mounted as a file both work.

        The file's permissions are not checked (a Kubernetes Secret volume is 0644 by default):
        keep it readable by the service's user only (0400 or 0600) where you can.

        @throws invalid_argument_error when the file cannot be read (the message names the path and
        the system's reason) or its key is shorter than `min_size` or longer than `max_size` bytes;
        never with the file's contents.
    */
    static fleet_key from_file(const std::string& path)
    {
        std::FILE* f = std::fopen(path.c_str(), "rb");
        if (f == nullptr) {
            const int err = errno;
            fail("fleet_key::from_file: cannot read '" + path + "': " + std::strerror(err));
        }
        std::setvbuf(f, nullptr, _IONBF, 0); // no stdio buffer: it would keep a copy of the key when freed
        std::string bytes;
        char buf[1024];
        bytes.reserve(max_size + 2 + sizeof buf); // never reallocated: no copy of the key left unwiped
        std::size_t n = 0;
        bool too_long = false;
        while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
            bytes.append(buf, n);
            if (bytes.size() > max_size + 2) {
                too_long = true;
                break;
            }
        }
        const bool read_error = std::ferror(f) != 0;
        std::fclose(f);
        detail::secure_zero(buf, sizeof buf);
        struct wipe_on_exit {
            std::string& s;
            ~wipe_on_exit() { detail::secure_zero(s.data(), s.size()); }
        } wipe{bytes};
        if (read_error)
            fail("fleet_key::from_file: cannot read '" + path + "'");
        if (too_long)
            fail("fleet_key::from_file: the key in '" + path + "' is longer than " + std::to_string(max_size) +
                 " bytes");
        std::string_view key(bytes);
        if (key.ends_with("\r\n"))
            key.remove_suffix(2);
        else if (key.ends_with('\n'))
            key.remove_suffix(1);
        return fleet_key(check(key, "fleet_key::from_file: the key in '" + path + "'"), from_checked{});
    }

    /** The key in the environment variable `name`: its value's bytes, as is.

        @throws invalid_argument_error when the variable is not set, or its value is shorter than
        `min_size` or longer than `max_size` bytes (the message names the variable, never its value).
    */
    static fleet_key from_env(const std::string& name)
    {
        const char* value = std::getenv(name.c_str());
        if (value == nullptr)
            fail("fleet_key::from_env: the environment variable " + name + " is not set");
        return fleet_key(check(value, "fleet_key::from_env: the value of " + name), from_checked{});
    }

    /// A copy holding the same key (wiped on its own destruction).
    fleet_key(const fleet_key&) = default;
    /// Holds `other`'s key; this one's bytes are overwritten with zeros first.
    fleet_key& operator=(const fleet_key& other)
    {
        if (this != &other) {
            wipe();
            bytes_ = other.bytes_;
            mac_ = other.mac_;
        }
        return *this;
    }
    /// Overwrites the key's bytes with zeros.
    ~fleet_key() { wipe(); }

    /// The key's length in bytes.
    std::size_t size() const noexcept { return bytes_.size(); }

    /** HMAC-SHA-256 under this key of `message`, or of the concatenation of `parts` (which is
        not assembled: nothing is copied).
        @{ */
    detail::sha256::digest_type mac(std::string_view message) const noexcept { return mac_.mac(message); }
    detail::sha256::digest_type mac(std::initializer_list<std::string_view> parts) const noexcept
    {
        return mac_.mac(parts);
    }
    /// @}

    /// Not printable: the key must never reach a log.
    friend std::ostream& operator<<(std::ostream&, const fleet_key&) = delete;

private:
    struct from_checked {};
    fleet_key(std::string bytes, from_checked) : bytes_(std::move(bytes)), mac_(bytes_) {}

    [[noreturn]] static void fail(std::string message)
    {
        error e;
        e.kind = error_kind::invalid_argument;
        e.code = make_error_code(errc::invalid_argument);
        e.operation = "fleet_key";
        e.message = std::move(message);
        throw invalid_argument_error(std::move(e));
    }

    static std::string check(std::string_view secret, const std::string& what)
    {
        if (secret.size() < min_size)
            fail(what + " is " + std::to_string(secret.size()) + " bytes long: a fleet key needs at least " +
                 std::to_string(min_size) + " (generate one with `openssl rand -hex 32`)");
        if (secret.size() > max_size)
            fail(what + " is longer than " + std::to_string(max_size) + " bytes");
        return std::string(secret);
    }

    void wipe() noexcept { detail::secure_zero(bytes_.data(), bytes_.size()); }

    std::string bytes_;
    detail::hmac_sha256_key mac_;
};

} // namespace genesys

#endif
