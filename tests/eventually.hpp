// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_TESTS_EVENTUALLY_HPP
#define GENESYS_TESTS_EVENTUALLY_HPP

// Waiting, bounded, for something another thread or process does.

#include <chrono>
#include <thread>

namespace testwait {

/// Asks `done()` every `poll` until it is true (then true), or until `limit` has passed (then
/// false): a test `REQUIRE`s the answer, so that nothing it waits for can hang it.
template <class Pred>
bool eventually(Pred&& done, std::chrono::milliseconds limit = std::chrono::seconds(10),
                std::chrono::milliseconds poll = std::chrono::milliseconds(2))
{
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        std::this_thread::sleep_for(poll);
    }
    return true;
}

} // namespace testwait

#endif
