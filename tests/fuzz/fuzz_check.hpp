// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_FUZZ_CHECK_HPP
#define GENESYS_FUZZ_CHECK_HPP

// What every fuzz target shares: an invariant check that traps (so it works without any
// sanitizer), and the text predicates the invariants use.

#include <cstdio>
#include <string_view>

#define FUZZ_CHECK(cond)                                                                                   \
    do {                                                                                                   \
        if (!(cond)) {                                                                                     \
            std::fprintf(stderr, "invariant violated: %s (%s:%d)\n", #cond, __FILE__, __LINE__);           \
            __builtin_trap();                                                                              \
        }                                                                                                  \
    } while (0)

namespace fuzz {

inline bool contains(std::string_view haystack, std::string_view needle)
{
    return haystack.find(needle) != std::string_view::npos;
}

/// No CR, LF or other control character: safe to put in a log line.
inline bool one_line(std::string_view s)
{
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f)
            return false;
    }
    return true;
}

} // namespace fuzz

#endif
