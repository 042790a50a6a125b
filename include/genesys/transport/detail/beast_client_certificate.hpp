// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_TRANSPORT_DETAIL_BEAST_CLIENT_CERTIFICATE_HPP
#define GENESYS_TRANSPORT_DETAIL_BEAST_CLIENT_CERTIFICATE_HPP

// The Boost.Beast transports' client certificate (mutual TLS): loaded and checked with OpenSSL
// when the transport is made, then given to each TLS context.

#include <genesys/tls_client_certificate.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/system/error_code.hpp>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <climits>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace genesys::detail {

/** A client certificate chain and its private key, decoded once. Immutable after construction;
    `apply` may be called from any thread.
*/
class beast_client_identity {
public:
    /** Loads and checks `c` (not empty).

        @throws invalid_argument_error naming the file (or `cert_pem`/`key_pem`) and the reason
        (unreadable, no certificate, no key, the passphrase missing or wrong, the key not matching
        the certificate); the message never holds the passphrase nor the key.
    */
    beast_client_identity(const tls_client_certificate& c, std::string_view who)
    {
        check_client_certificate_sources(c, who);
        try {
            load(c, who);
        } catch (...) {
            release();
            throw;
        }
    }

    beast_client_identity(const beast_client_identity&) = delete;
    beast_client_identity& operator=(const beast_client_identity&) = delete;
    ~beast_client_identity() { release(); }

    /// Makes `ctx` present this certificate chain and key.
    boost::system::error_code apply(SSL_CTX* ctx) const noexcept
    {
        bool ok = ::SSL_CTX_use_certificate(ctx, cert_) == 1;
        // SSL_CTX_add1_chain_cert without its C-style cast (for users' -Wold-style-cast).
        for (X509* x : chain_)
            ok = ok && ::SSL_CTX_ctrl(ctx, SSL_CTRL_CHAIN_CERT, 1, static_cast<void*>(x)) == 1;
        ok = ok && ::SSL_CTX_use_PrivateKey(ctx, key_) == 1 && ::SSL_CTX_check_private_key(ctx) == 1;
        if (ok)
            return {};
        const unsigned long e = ::ERR_get_error();
        ::ERR_clear_error();
        return {static_cast<int>(e != 0 ? e : 1), boost::asio::error::get_ssl_category()};
    }

private:
    struct bio_closer {
        BIO* bio;
        ~bio_closer() { ::BIO_free(bio); }
    };

    struct passphrase_state {
        const std::string* passphrase;
        bool asked = false;
    };

    /// OpenSSL's passphrase callback: never prompts (OpenSSL's default would read the terminal).
    static int passphrase_callback(char* buf, int size, int, void* user) noexcept
    {
        auto& state = *static_cast<passphrase_state*>(user);
        state.asked = true;
        const std::string& p = *state.passphrase;
        if (p.empty() || size < 0 || p.size() > static_cast<std::size_t>(size))
            return -1;
        std::memcpy(buf, p.data(), p.size());
        return static_cast<int>(p.size());
    }

    /// OpenSSL's reason for the last failure (e.g. "bad decrypt"), or empty; clears the queue.
    static std::string openssl_reason()
    {
        const unsigned long e = ::ERR_peek_last_error();
        std::string reason;
        if (e != 0) {
            if (const char* r = ::ERR_reason_error_string(e))
                reason = std::string(" (OpenSSL: ") + r + ")";
        }
        ::ERR_clear_error();
        return reason;
    }

    static BIO* open(const std::string& file, const std::string& pem, std::string_view who, const std::string& source)
    {
        BIO* bio = nullptr;
        if (!file.empty())
            bio = ::BIO_new_file(file.c_str(), "rb");
        else if (pem.size() <= static_cast<std::size_t>(INT_MAX))
            bio = ::BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
        if (bio == nullptr)
            throw_client_certificate_error(who, "cannot read " + source + openssl_reason());
        return bio;
    }

    void load(const tls_client_certificate& c, std::string_view who)
    {
        ::ERR_clear_error();
        const std::string cert_source = client_certificate_source(c, false);
        const std::string key_source = client_certificate_source(c, true);
        {
            bio_closer in{open(c.cert_file, c.cert_pem, who, cert_source)};
            cert_ = ::PEM_read_bio_X509_AUX(in.bio, nullptr, nullptr, nullptr);
            if (cert_ == nullptr)
                throw_client_certificate_error(who, "no PEM certificate in " + cert_source + openssl_reason());
            while (X509* x = ::PEM_read_bio_X509(in.bio, nullptr, nullptr, nullptr)) {
                chain_.push_back(x);
            }
            const unsigned long e = ::ERR_peek_last_error();
            if (e != 0 && !(ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE))
                throw_client_certificate_error(who, "a damaged certificate in " + cert_source + openssl_reason());
            ::ERR_clear_error();
        }
        const bool key_apart = !c.key_file.empty() || !c.key_pem.empty();
        bio_closer in{key_apart ? open(c.key_file, c.key_pem, who, key_source)
                                : open(c.cert_file, c.cert_pem, who, cert_source)};
        passphrase_state state{&c.key_passphrase};
        key_ = ::PEM_read_bio_PrivateKey(in.bio, nullptr, &passphrase_callback, &state);
        if (key_ == nullptr) {
            if (state.asked && c.key_passphrase.empty())
                throw_client_certificate_error(who, "the private key in " + key_source +
                                                        " is encrypted and no key_passphrase was given" +
                                                        openssl_reason());
            if (state.asked)
                throw_client_certificate_error(who, "cannot decrypt the private key in " + key_source +
                                                        ": wrong key_passphrase" + openssl_reason());
            throw_client_certificate_error(who, "no PEM private key in " + key_source + openssl_reason());
        }
        if (::X509_check_private_key(cert_, key_) != 1)
            throw_client_certificate_error(who, "the private key in " + key_source +
                                                    " does not match the certificate in " + cert_source +
                                                    openssl_reason());
        ::ERR_clear_error();
    }

    void release() noexcept
    {
        ::X509_free(cert_);
        cert_ = nullptr;
        for (X509* x : chain_)
            ::X509_free(x);
        chain_.clear();
        ::EVP_PKEY_free(key_);
        key_ = nullptr;
    }

    X509* cert_ = nullptr;
    std::vector<X509*> chain_{};
    EVP_PKEY* key_ = nullptr;
};

/** For a transport's constructor: loads `c` when it is not empty (see `beast_client_identity`),
    then wipes the transport's copies of the key and passphrase in `c`, whether it threw or not.

    @return The identity, or null when `c` is empty.
*/
inline std::unique_ptr<const beast_client_identity> beast_load_client_identity(tls_client_certificate& c,
                                                                               std::string_view who)
{
    struct wipe_on_exit {
        tls_client_certificate& c;
        ~wipe_on_exit()
        {
            wipe_secret(c.key_pem);
            wipe_secret(c.key_passphrase);
        }
    } wipe{c};
    if (c.empty() && c.key_file.empty() && c.key_pem.empty())
        return nullptr;
    return std::make_unique<const beast_client_identity>(c, who);
}

} // namespace genesys::detail

#endif
