// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_TRANSPORT_BEAST_OPTIONS_HPP
#define GENESYS_TRANSPORT_BEAST_OPTIONS_HPP

/// @file
/// `beast_options`: the settings of both Boost.Beast transports, `beast_transport` (blocking) and
/// `beast_async_transport`.

#include <genesys/tls_client_certificate.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace genesys {

/** Settings of a `beast_transport` or a `beast_async_transport`, fixed for its life.

    An aggregate: name only what you change. `max_connections` is the asynchronous transport's
    only (the blocking one keeps at most one connection).

    @code
    genesys::beast_transport t{{.timeout = std::chrono::seconds(30), .ca_file = "/etc/my-ca.pem"}};
    genesys::beast_async_transport a{ioc.get_executor(), {.max_connections = 4, .timeout = std::chrono::seconds(5)}};
    @endcode
*/
struct beast_options {
    /// `beast_async_transport` only: the most connections open at once to one host (scheme, host
    /// and port); further requests wait, first come first served, for one of them to be free.
    /// Zero counts as one.
    std::size_t max_connections = 8;

    /// Time allowed to resolve the host, connect and complete the TLS handshake; never more than
    /// what is left of `timeout`. Zero or less: only `timeout` applies. Name resolution cannot be
    /// interrupted (a blocking `getaddrinfo`): `beast_transport` counts its time and checks it
    /// after it; `beast_async_transport` (which runs it on Asio's resolver thread) stops waiting
    /// for it at the deadline, and drops its late answer.
    std::chrono::milliseconds connect_timeout{10'000};

    /// Time allowed for a request once it has a connection: connecting (or reconnecting once), the
    /// TLS handshake, writing the request and reading the whole response. The asynchronous
    /// transport's wait for a free connection does not count (cancel the send to bound it). Zero
    /// or less: no limit. Either timeout fails with `boost::beast::error::timeout`.
    std::chrono::milliseconds timeout{16'000};

    /// Verify the server's certificate chain and that it names the URL's host (or IP address).
    /// Turn off only against a test server.
    bool verify_peer = true;

    /// A PEM file of trusted CA certificates. With `ca_path`, replaces the system's default trust store.
    std::string ca_file{};

    /// A directory of hashed CA certificates (see `openssl rehash`). With `ca_file`, replaces the
    /// system's default trust store.
    std::string ca_path{};

    /// A client certificate chain and private key to present to servers that ask for one (mutual
    /// TLS), to the API and the login host alike; empty (the default): none. Loaded and checked
    /// when the transport is made, which throws `invalid_argument_error` naming the file and the
    /// reason (unreadable, wrong or missing passphrase, key not matching the certificate); the
    /// transport keeps the decoded certificate and key, and wipes its copies of `key_pem` and
    /// `key_passphrase`. See `tls_client_certificate`.
    tls_client_certificate client_certificate{};

    /// The largest response body accepted; a larger one fails with `errc::message_size` (the
    /// message says "body limit exceeded").
    std::size_t max_response_bytes = 8 * 1024 * 1024;

    /// The largest response header (status line and fields) accepted; a larger one fails with
    /// `errc::message_size` (the message says "header limit exceeded").
    std::uint32_t max_header_size = 64 * 1024;

    /// Keep connections open between requests and reuse them. When false, every request carries
    /// `Connection: close` and its connection is closed after it.
    bool keep_alive = true;

    /** The HTTP proxy to go through, `http://host:port` (port 1080 when none is given), with
        or without credentials in it (`http://user:password@host:port`, percent-encoded); a URL
        without a scheme is taken as `http://`, as libcurl does. Only plain HTTP to the proxy: any
        other scheme (`https://`, `socks5://`) makes the constructor throw `invalid_argument_error`,
        naming the URL without its credentials. An https URL is reached through a `CONNECT
        host:port` tunnel, then the TLS handshake with the URL's host inside it (SNI and the
        certificate check are the host's, never the proxy's); the request's own fields
        (`Authorization` included) never go to the proxy in the `CONNECT`. A plain http URL is
        sent to the proxy in absolute form (`GET http://host:port/path HTTP/1.1`). Empty (the
        default): no proxy, unless `proxy_from_environment`.

        A proxy's 407 (or a 401 to a `CONNECT`, which only the proxy can send) fails the send with
        `errc::proxy_authentication_required` (not retried); another refusal of the `CONNECT`
        with `errc::proxy_tunnel_failed` (retried). The transport's text
        about the failure names the proxy as `http://host:port`, never its credentials. The
        transport keeps the decoded credentials and wipes its copies of `proxy` and
        `proxy_password`.
    */
    std::string proxy{};

    /// The proxy's user name (Basic authentication); when not empty, it and `proxy_password`
    /// replace any credentials in the `proxy` URL.
    std::string proxy_username{};

    /// The proxy's password: a secret, never in a message.
    std::string proxy_password{};

    /// Hosts reached without the proxy, as libcurl reads the list: comma-separated, `*` (every
    /// host), a host name (matches itself and the names under it; a leading dot is allowed) or an
    /// IP address; spaces around entries and case are ignored. Empty: the environment's
    /// (`no_proxy`, then `NO_PROXY`) when `proxy_from_environment`, else none.
    std::string no_proxy{};

    /// Read the proxy from the conventional environment variables when `proxy` is empty, once,
    /// when the transport is made: for https URLs `https_proxy`, then `HTTPS_PROXY`; for http URLs
    /// `http_proxy` only (lowercase, as libcurl); then `all_proxy`, `ALL_PROXY`; and `no_proxy`,
    /// `NO_PROXY` when `no_proxy` is empty. False (the default): the environment is ignored.
    bool proxy_from_environment = false;

    /// A loopback URL (`localhost`, `*.localhost`, 127.0.0.0/8, `[::1]`) never goes through the
    /// proxy unless this is true (a local debugging proxy); `no_proxy` applies either way.
    bool proxy_loopback = false;
};

/// The settings of a `beast_async_transport`: the same as a `beast_transport`'s.
using beast_async_options = beast_options;

} // namespace genesys

#endif
