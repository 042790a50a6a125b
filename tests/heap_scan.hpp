// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_TESTS_HEAP_SCAN_HPP
#define GENESYS_TESTS_HEAP_SCAN_HPP

// Finding a secret in this process's memory after the code that held it is done with it, and a
// secret to look for that the search itself does not hold.

#include <cstddef>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace heap_scan {

// Sanitizers keep their own mappings (shadow memory, quarantines) that a scan must not read.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool unsupported = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
inline constexpr bool unsupported = true;
#else
inline constexpr bool unsupported = false;
#endif
#else
inline constexpr bool unsupported = false;
#endif

/// A random token of 700 characters (a size no other allocation of a check shares), built in
/// place (no literal holds it), and `needle`: its last 64 characters, each XOR 0x5a, so the
/// needle itself never matches (an allocator reuses the start of a freed block for its links,
/// so the end is what survives there).
struct secret {
    std::string token;
    std::vector<unsigned char> needle;

    secret()
    {
        token.reserve(720);
        std::mt19937_64 rng(std::random_device{}());
        for (int i = 0; i < 700; ++i) {
            const char c = "abcdefghijklmnopqrstuvwxyz0123456789"[rng() % 36];
            token.push_back(c);
            if (i >= 700 - 64)
                needle.push_back(static_cast<unsigned char>(c ^ 0x5a));
        }
    }
};

/// Whether `needle`'s bytes (each XOR 0x5a) appear in the heap or an anonymous mapping of this
/// process, freed blocks included. Not scanned: the main stack (its dead frames hold whatever a
/// library last put there, and the next calls overwrite them) and mappings over 256 MiB.
inline bool contains(const std::vector<unsigned char>& needle)
{
    std::ifstream maps("/proc/self/maps");
    std::string line;
    while (std::getline(maps, line)) {
        std::istringstream is(line);
        std::string range, perms;
        is >> range >> perms;
        if (perms.size() < 2 || perms[0] != 'r' || perms[1] != 'w' || line.find("[vvar]") != std::string::npos ||
            line.find("[stack") != std::string::npos)
            continue;
        const auto dash = range.find('-');
        const auto begin = std::stoull(range.substr(0, dash), nullptr, 16);
        const auto end = std::stoull(range.substr(dash + 1), nullptr, 16);
        if (end - begin > (256u << 20))
            continue;
        const auto* p = reinterpret_cast<const unsigned char*>(begin);
        for (std::size_t i = 0; i + needle.size() <= end - begin; ++i) {
            std::size_t k = 0;
            while (k < needle.size() && (p[i + k] ^ 0x5a) == needle[k])
                ++k;
            if (k == needle.size())
                return true;
        }
    }
    return false;
}

} // namespace heap_scan

#endif
