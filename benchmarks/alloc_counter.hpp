// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_BENCHMARKS_ALLOC_COUNTER_HPP
#define GENESYS_BENCHMARKS_ALLOC_COUNTER_HPP

// Counts the heap allocations made through operator new in this process (alloc_counter.cpp
// replaces the global operator new and delete). malloc called directly (libcurl does) is not
// counted.

#include <cstdint>

namespace bench {

/// Allocations through any operator new since the process started.
std::uint64_t allocations() noexcept;

/// Bytes requested through any operator new since the process started.
std::uint64_t allocated_bytes() noexcept;

/** Turns the counting on (the default) or off. Off, operator new is malloc and one relaxed load:
    a timed loop turns it off so that the two atomic additions per allocation (a locked
    instruction each, shared by every thread) are not timed with the code they count. */
void count_allocations(bool yes) noexcept;

/// The bytes `f()` asks operator new for.
template <class F>
std::uint64_t bytes_of(F&& f)
{
    const std::uint64_t before = allocated_bytes();
    f();
    return allocated_bytes() - before;
}

/// The allocations `f()` makes.
template <class F>
std::uint64_t allocations_of(F&& f)
{
    const std::uint64_t before = allocations();
    f();
    return allocations() - before;
}

} // namespace bench

#endif
