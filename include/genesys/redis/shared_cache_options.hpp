// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_REDIS_SHARED_CACHE_OPTIONS_HPP
#define GENESYS_REDIS_SHARED_CACHE_OPTIONS_HPP

/// @file
/// `redis_shared_cache_options`: how `redis_shared_cache` uses its Redis (the fleet's lock, the
/// breaker, the reconnection backoff, the size limit of an entry).

#include <chrono>
#include <cstddef>

namespace genesys {

/** How a `redis_shared_cache` uses its Redis. An aggregate: name only what you change.

    The connection itself (host, authentication, TLS, `connect_timeout`, `command_timeout`) is
    `redis_options`.
*/
struct redis_shared_cache_options {
    /// How long the fleet's lock on one token's check lasts (`SET NX PX`): the longest another
    /// instance waits for the holder's answer before it checks the token itself. More than the
    /// API call's usual time; a dead holder delays the others by at most this.
    std::chrono::milliseconds lock_ttl{3000};
    /// Consecutive failures (error replies such as `-OOM`, `-NOPERM`) after which the breaker
    /// opens: the connection is closed and made again with backoff. Losing the connection or a
    /// command timeout opens it at once. At least 1.
    unsigned breaker_failures = 3;
    /// The first delay before connecting again after a failure (then doubling, with jitter: each
    /// delay is drawn between half and all of it).
    std::chrono::milliseconds backoff_initial{100};
    /// The longest delay before connecting again.
    std::chrono::milliseconds backoff_max{5000};
    /// The largest entry read or written, in bytes: a larger value in Redis is ignored (and
    /// counted in `rejected_entries`), a larger answer is not stored.
    std::size_t max_entry_bytes = 64 * 1024;
    /// How often the subscriber connection is asked `PING`, so that a server that stopped
    /// answering ends the subscription (within this plus `command_timeout`) and it is made again.
    std::chrono::milliseconds heartbeat_interval{1000};
};

} // namespace genesys

#endif
