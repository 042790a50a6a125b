// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_TRANSPORT_DETAIL_BEAST_TLS_HPP
#define GENESYS_TRANSPORT_DETAIL_BEAST_TLS_HPP

// The Boost.Beast transports' TLS: the client context (TLS 1.2 or later, the trust store) and the
// checks of each connection (SNI, the certificate's host name), with OpenSSL's own words on failure.

#include <genesys/transport/detail/beast_client_certificate.hpp>
#include <genesys/transport/detail/beast_url.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/verify_mode.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace genesys::detail {

/** Makes the client TLS context: TLS 1.2 or later, and with `verify_peer` the chain verified
    against `ca_file` and `ca_path` (either or both), or the system's default trust store when
    both are empty; with `identity`, the client certificate it presents. On failure returns the
    code and says in `why` what was being done.
*/
inline boost::system::error_code beast_make_tls_context(bool verify_peer, const std::string& ca_file,
                                                        const std::string& ca_path,
                                                        std::optional<boost::asio::ssl::context>& out,
                                                        std::string& why,
                                                        const beast_client_identity* identity = nullptr)
{
    namespace ssl = boost::asio::ssl;
    boost::system::error_code ec;
    try {
        ssl::context ctx(ssl::context::tls_client);
        if (::SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION) != 1) {
            why = "cannot require TLS 1.2";
            return {static_cast<int>(::ERR_get_error()), boost::asio::error::get_ssl_category()};
        }
        if (!verify_peer) {
            ctx.set_verify_mode(ssl::verify_none, ec);
        } else {
            ctx.set_verify_mode(ssl::verify_peer, ec);
            if (!ec && ca_file.empty() && ca_path.empty()) {
                ctx.set_default_verify_paths(ec);
                why = "loading the default CA certificates";
            }
            if (!ec && !ca_file.empty()) {
                ctx.load_verify_file(ca_file, ec);
                why = "loading ca_file " + ca_file;
            }
            if (!ec && !ca_path.empty()) {
                ctx.add_verify_path(ca_path, ec);
                why = "loading ca_path " + ca_path;
            }
        }
        if (!ec && identity != nullptr) {
            ec = identity->apply(ctx.native_handle());
            why = "using the client certificate";
        }
        if (ec)
            return ec;
        out.emplace(std::move(ctx));
    } catch (const boost::system::system_error& e) {
        why = "creating the TLS context";
        return e.code();
    }
    why.clear();
    return {};
}

/** Prepares a new TLS connection to `url` before its handshake: SNI with the host name (never an
    address, RFC 6066 section 3), and with `verify_peer` the RFC 6125 check that the certificate
    names the host (or IP address), done by OpenSSL during chain verification so that a mismatch
    is reported as such ("hostname mismatch"). On failure returns an `asio.ssl` code and says in
    `what` which step failed.
*/
inline boost::system::error_code beast_prepare_tls(SSL* ssl, const beast_url& url, bool verify_peer,
                                                   std::string_view& what) noexcept
{
    // This is the expansion of SSL_set_tlsext_host_name, without its C-style cast (for users'
    // -Wold-style-cast).
    if (!url.ip_literal && ::SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                                      const_cast<char*>(url.host.c_str())) != 1) {
        what = "set TLS server name for";
        return {static_cast<int>(::ERR_get_error()), boost::asio::error::get_ssl_category()};
    }
    if (verify_peer) {
        X509_VERIFY_PARAM* param = ::SSL_get0_param(ssl);
        const int set = url.ip_literal ? ::X509_VERIFY_PARAM_set1_ip_asc(param, url.host.c_str())
                                       : ::X509_VERIFY_PARAM_set1_host(param, url.host.c_str(), url.host.size());
        if (set != 1) {
            what = "set TLS host name check for";
            return {static_cast<int>(::ERR_get_error()), boost::asio::error::get_ssl_category()};
        }
        ::X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    }
    return {};
}

/// After a failed handshake: what certificate verification said (e.g. `"certificate: hostname
/// mismatch"`), or empty when it did not fail (or was off).
inline std::string beast_tls_handshake_detail(SSL* ssl, bool verify_peer)
{
    const long verify = ::SSL_get_verify_result(ssl);
    if (verify_peer && verify != X509_V_OK)
        return std::string("certificate: ") + ::X509_verify_cert_error_string(verify);
    return {};
}

} // namespace genesys::detail

#endif
