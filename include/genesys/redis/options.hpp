// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_REDIS_OPTIONS_HPP
#define GENESYS_REDIS_OPTIONS_HPP

/// @file
/// `redis_options`: where the shared cache's Redis is and how to reach it (authentication, TLS,
/// database, timeouts).

#include <genesys/tls_client_certificate.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace genesys {

/** How a `redis_connection` reaches one Redis endpoint (a primary, or a managed service's
    endpoint; Redis Cluster and Sentinel are not supported).

    An aggregate: name only what you use.

    @code
    genesys::redis_options o{.host = "redis.internal", .port = 6380, .username = "validator",
                             .password = "from-a-secret-store", .tls = true, .ca_file = "/etc/redis/ca.pem"};
    @endcode
*/
struct redis_options {
    /// The server's host name or IP address.
    std::string host = "127.0.0.1";
    /// The server's TCP port.
    std::uint16_t port = 6379;
    /// The ACL user (Redis 6 and later: `AUTH username password`); empty: `AUTH password`, as the
    /// `default` user.
    std::string username{};
    /// The password; empty: no `AUTH` is sent. A secret: never in an error, an exception or a log.
    std::string password{};
    /// TLS to Redis (its `tls-port`), TLS 1.2 or later.
    bool tls = false;
    /// With `tls`, verify the server's certificate chain and that it names `host` (RFC 6125).
    bool tls_verify_peer = true;
    /// With `tls`, the PEM file of the CAs to trust; empty: the system's default trust store.
    std::string ca_file{};
    /// With `tls`, the client certificate to present (Redis' `tls-auth-clients yes`); empty: none.
    tls_client_certificate client_certificate{};
    /// The database index, selected (`SELECT`) after authentication when not 0.
    int database = 0;
    /// The longest a connection may take: resolving, connecting, the TLS handshake, `AUTH` and `SELECT`.
    std::chrono::milliseconds connect_timeout{1000};
    /// The longest a command (or a pipeline of them) waits for its replies, from when it is queued.
    std::chrono::milliseconds command_timeout{250};
    /// The largest reply accepted, in bytes (give or take one read of 16 KiB); a larger one closes
    /// the connection with `redis_errc::reply_too_large`.
    std::size_t max_reply_bytes = 1024 * 1024;
};

} // namespace genesys

#endif
