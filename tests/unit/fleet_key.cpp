// SPDX-License-Identifier: BSL-1.0
// <genesys/fleet_key.hpp>: the fleet's shared secret, from a file or the environment.
#include <genesys/fleet_key.hpp>

#include "heap_scan.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <type_traits>

#include <unistd.h>

namespace {

struct temp_file {
    std::filesystem::path path;
    explicit temp_file(const std::string& contents)
    {
        std::string tmpl = (std::filesystem::temp_directory_path() / "genesys-fleet-key-XXXXXX").string();
        const int fd = ::mkstemp(tmpl.data());
        REQUIRE(fd >= 0);
        path = tmpl;
        // Unbuffered: no stdio buffer left in the heap with the key in it.
        CHECK(::write(fd, contents.data(), contents.size()) == static_cast<ssize_t>(contents.size()));
        ::close(fd);
    }
    ~temp_file()
    {
        std::error_code ignored;
        std::filesystem::remove(path, ignored);
    }
};

std::string message_of(auto&& f)
{
    try {
        f();
    } catch (const genesys::invalid_argument_error& e) {
        CHECK(e.code() == genesys::errc::invalid_argument);
        return e.what();
    }
    FAIL("no invalid_argument_error");
    return {};
}

// A type that can be written to a stream: fleet_key must not be one.
template <class T>
concept printable = requires(std::ostream& os, const T& t) { os << t; };

} // namespace

static_assert(!printable<genesys::fleet_key>, "a fleet key must never be printed");

TEST_CASE("fleet_key: at least 32 bytes, the key never in the message")
{
    const std::string short_key = "sh0rt-SECRET-31-bytes-long-xxxx";
    REQUIRE(short_key.size() == 31);
    const auto m = message_of([&] { genesys::fleet_key k(short_key); });
    CHECK(m.find("at least 32") != std::string::npos);
    CHECK(m.find(short_key) == std::string::npos);
    CHECK(m.find("SECRET") == std::string::npos);
    const genesys::fleet_key k(std::string(32, 'k'));
    CHECK(k.size() == 32);
    CHECK(genesys::fleet_key(std::string(32, 'k')).mac("m") == k.mac("m"));
    CHECK(genesys::fleet_key(std::string(33, 'k')).mac("m") != k.mac("m"));
    const genesys::fleet_key copy = k;
    CHECK(copy.mac("m") == k.mac("m"));
    message_of([] { genesys::fleet_key k2(std::string(4097, 'k')); });
}

TEST_CASE("fleet_key::from_file: the file's bytes less one line end")
{
    const std::string secret = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const genesys::fleet_key direct(secret);
    {
        temp_file f(secret + "\n");
        CHECK(genesys::fleet_key::from_file(f.path.string()).mac("m") == direct.mac("m"));
    }
    {
        temp_file f(secret + "\r\n");
        CHECK(genesys::fleet_key::from_file(f.path.string()).mac("m") == direct.mac("m"));
    }
    {
        temp_file f(secret);
        CHECK(genesys::fleet_key::from_file(f.path.string()).mac("m") == direct.mac("m"));
    }
    {
        const std::string raw("\x00\x01\xff\n\r binary key of 32 bytes or more", 36);
        temp_file f(raw);
        CHECK(genesys::fleet_key::from_file(f.path.string()).mac("m") == genesys::fleet_key(raw).mac("m"));
    }
    {
        temp_file f("TOO-SHORT-SECRET\n");
        const auto m = message_of([&] { genesys::fleet_key::from_file(f.path.string()); });
        CHECK(m.find(f.path.string()) != std::string::npos);
        CHECK(m.find("TOO-SHORT-SECRET") == std::string::npos);
    }
    {
        temp_file f(std::string(100000, 'x'));
        const auto m = message_of([&] { genesys::fleet_key::from_file(f.path.string()); });
        CHECK(m.find("longer than 4096") != std::string::npos);
    }
    const auto m = message_of([] { genesys::fleet_key::from_file("/nonexistent/genesys-fleet-key"); });
    CHECK(m.find("/nonexistent/genesys-fleet-key") != std::string::npos);
    CHECK(m.find("No such file") != std::string::npos);
}

TEST_CASE("fleet_key::from_env: the variable's value, as is")
{
    const std::string secret = "env-fleet-key-0123456789abcdef-0123456789";
    ::setenv("GENESYS_TEST_FLEET_KEY", secret.c_str(), 1);
    CHECK(genesys::fleet_key::from_env("GENESYS_TEST_FLEET_KEY").mac("m") == genesys::fleet_key(secret).mac("m"));
    ::setenv("GENESYS_TEST_FLEET_KEY", "SHORT-ENV-SECRET", 1);
    auto m = message_of([] { genesys::fleet_key::from_env("GENESYS_TEST_FLEET_KEY"); });
    CHECK(m.find("GENESYS_TEST_FLEET_KEY") != std::string::npos);
    CHECK(m.find("SHORT-ENV-SECRET") == std::string::npos);
    ::unsetenv("GENESYS_TEST_FLEET_KEY");
    m = message_of([] { genesys::fleet_key::from_env("GENESYS_TEST_FLEET_KEY"); });
    CHECK(m.find("not set") != std::string::npos);
}

TEST_CASE("fleet_key: its bytes are gone from memory once every copy is destroyed")
{
    if (heap_scan::unsupported)
        return; // the sanitizers' own mappings cannot be scanned
    heap_scan::secret s;
    std::optional<temp_file> file;
    {
        std::optional<genesys::fleet_key> direct(std::in_place, s.token);
        std::optional<genesys::fleet_key> copy = direct;
        file.emplace(s.token);
        std::optional<genesys::fleet_key> loaded(genesys::fleet_key::from_file(file->path.string()));
        CHECK(loaded->mac("m") == direct->mac("m"));
        genesys::detail::secure_zero(s.token.data(), s.token.size()); // the test's own copy
        CHECK(heap_scan::contains(s.needle)); // the keys hold it while they live
        direct.reset();
        copy.reset();
        loaded.reset();
    }
    CHECK_FALSE(heap_scan::contains(s.needle));
}
