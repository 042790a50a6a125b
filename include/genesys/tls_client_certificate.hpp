// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_TLS_CLIENT_CERTIFICATE_HPP
#define GENESYS_TLS_CLIENT_CERTIFICATE_HPP

/// @file
/// `tls_client_certificate`: the certificate and private key a transport presents to the server
/// (mutual TLS), shared by `curl_options` and `beast_options`.

#include <genesys/error.hpp>
#include <genesys/error_code.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

namespace genesys {

/** A client certificate for mutual TLS: a PEM certificate chain and its private key, from files
    or from memory, the key optionally encrypted with a passphrase.

    An aggregate: name only what you use. The certificate comes from `cert_file` or `cert_pem`
    (not both): the client's certificate first, then the intermediate CA certificates, if any. The
    key comes from `key_file` or `key_pem` (not both); when both are empty it is read from the
    certificate's file or PEM. `key_passphrase` decrypts an encrypted key (traditional or PKCS#8
    PEM); it is ignored for a key in clear.

    The transports given one (`curl_transport`, `beast_transport`, `beast_async_transport`) load
    and check it when they are made, and throw `invalid_argument_error` naming the file (or
    `cert_pem`/`key_pem`) and the reason when a file cannot be read, holds no certificate or key,
    the passphrase is missing or wrong, or the key does not match the certificate. The passphrase
    and the key never appear in an error, an exception or a log line. The same transport object
    serves the API and the login host, so the certificate is presented to both.

    @code
    genesys::tls_client_certificate id{.cert_file = "client.pem", .key_file = "client.key",
                                       .key_passphrase = "my passphrase"};
    @endcode
*/
struct tls_client_certificate {
    /// A PEM file: the client's certificate, then its intermediate CA certificates.
    std::string cert_file{};
    /// A PEM file holding the private key; empty: the key is in `cert_file` (or `cert_pem`).
    std::string key_file{};
    /// The certificate chain in PEM, in memory, instead of `cert_file`.
    std::string cert_pem{};
    /// The private key in PEM, in memory, instead of `key_file`.
    std::string key_pem{};
    /// The passphrase of an encrypted key; empty: the key is not encrypted.
    std::string key_passphrase{};

    /// True when no certificate is given (the default: no client certificate is presented).
    bool empty() const noexcept { return cert_file.empty() && cert_pem.empty(); }
};

namespace detail {

/// Overwrites a string that held a secret (best effort), then empties it.
inline void wipe_secret(std::string& s) noexcept
{
    std::fill(s.begin(), s.end(), '\0');
    s.clear();
}

/// Throws `invalid_argument_error` with `message`, which must not quote the passphrase nor the key.
[[noreturn]] inline void throw_client_certificate_error(std::string_view who, std::string message)
{
    error e;
    e.kind = error_kind::invalid_argument;
    e.code = make_error_code(errc::invalid_argument);
    e.operation = std::string(who);
    e.message = std::string(who) + ": client certificate: " + std::move(message);
    throw invalid_argument_error(std::move(e));
}

/// Where the certificate and the key come from, for messages: `cert_file '/x.pem'` or `cert_pem`.
inline std::string client_certificate_source(const tls_client_certificate& c, bool key)
{
    if (key && !c.key_file.empty())
        return "key_file '" + c.key_file + "'";
    if (key && !c.key_pem.empty())
        return "key_pem";
    if (!c.cert_file.empty())
        return "cert_file '" + c.cert_file + "'";
    return "cert_pem";
}

/** Checks what can be checked without a TLS library: the certificate and key each come from one
    place, and the files named can be opened for reading. Throws `invalid_argument_error` naming the
    file and the reason (the system's, e.g. "No such file or directory").
*/
inline void check_client_certificate_sources(const tls_client_certificate& c, std::string_view who)
{
    if (!c.cert_file.empty() && !c.cert_pem.empty())
        throw_client_certificate_error(who, "give cert_file or cert_pem, not both");
    if (!c.key_file.empty() && !c.key_pem.empty())
        throw_client_certificate_error(who, "give key_file or key_pem, not both");
    if (c.empty() && (!c.key_file.empty() || !c.key_pem.empty()))
        throw_client_certificate_error(who, "a private key was given without a certificate (cert_file or cert_pem)");
    for (const auto* file : {&c.cert_file, &c.key_file}) {
        if (file->empty())
            continue;
        std::FILE* f = std::fopen(file->c_str(), "rb");
        if (f == nullptr) {
            const int err = errno;
            throw_client_certificate_error(who, "cannot read " + std::string(file == &c.cert_file ? "cert_file" : "key_file") +
                                                    " '" + *file + "': " + std::strerror(err));
        }
        std::fclose(f);
    }
}

} // namespace detail

} // namespace genesys

#endif
