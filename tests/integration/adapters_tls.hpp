// SPDX-License-Identifier: BSL-1.0
// TLS helpers shared by the adapters' tests: a self-signed certificate made at test time with
// OpenSSL, a server context for it, a PEM file removed at the end of a test, and a loopback
// server that only does TLS handshakes.

#ifndef GENESYS_TESTS_ADAPTERS_TLS_HPP
#define GENESYS_TESTS_ADAPTERS_TLS_HPP

#include "loopback_io.hpp"

#include <doctest/doctest.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/system/error_code.hpp>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

namespace genesys_adapters_test {

struct test_identity {
    std::string cert_pem;
    std::string key_pem;
};

inline std::string bio_string(BIO* bio)
{
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(n));
}

/// A self-signed P-256 certificate valid for `san` (e.g. "IP:127.0.0.1,DNS:localhost").
inline test_identity make_identity(const char* san)
{
    static std::atomic<long> serial{1};
    EVP_PKEY* key = EVP_EC_gen("P-256");
    REQUIRE(key != nullptr);
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("genesys test"), -1,
                               -1, 0);
    X509_set_issuer_name(cert, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san);
    REQUIRE(ext != nullptr);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    REQUIRE(X509_sign(cert, key, EVP_sha256()) > 0);

    test_identity id;
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, cert);
    id.cert_pem = bio_string(bio);
    BIO_free(bio);
    bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    id.key_pem = bio_string(bio);
    BIO_free(bio);
    X509_free(cert);
    EVP_PKEY_free(key);
    return id;
}

inline std::shared_ptr<boost::asio::ssl::context> server_context(const test_identity& id)
{
    namespace ssl = boost::asio::ssl;
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
    ctx->use_certificate_chain(boost::asio::buffer(id.cert_pem));
    ctx->use_private_key(boost::asio::buffer(id.key_pem), ssl::context::pem);
    return ctx;
}

/// A PEM file removed at the end of the test.
struct temp_pem {
    std::filesystem::path path;
    explicit temp_pem(const std::string& pem)
    {
        static std::atomic<int> n{0};
        path = std::filesystem::temp_directory_path() /
               ("genesys-adapters-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++) + ".pem");
        std::ofstream(path) << pem;
    }
    temp_pem(const temp_pem&) = delete;
    temp_pem& operator=(const temp_pem&) = delete;
    ~temp_pem()
    {
        std::error_code ignored;
        std::filesystem::remove(path, ignored);
    }
};

/** A TLS server on 127.0.0.1 that accepts connections and does the handshake, nothing more;
    each connection is closed when its handshake ends. Counts the handshakes that completed.
    Run by one thread for at most 20 s, always joined.
*/
class tls_handshake_server {
public:
    explicit tls_handshake_server(std::shared_ptr<boost::asio::ssl::context> tls) : tls_(std::move(tls))
    {
        port_ = loopback_io::listen(acceptor_);
        accept();
        thread_.emplace(io_);
    }
    tls_handshake_server(const tls_handshake_server&) = delete;
    tls_handshake_server& operator=(const tls_handshake_server&) = delete;

    std::uint16_t port() const { return port_; }

    /// `https://<host>:<port><target>`.
    std::string url(std::string_view target = "/", std::string_view host = "127.0.0.1") const
    {
        return "https://" + std::string(host) + ":" + std::to_string(port_) + std::string(target);
    }

    int accepts() const { return accepts_.load(); }
    int completed_handshakes() const { return completed_.load(); }

private:
    using stream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;

    void accept()
    {
        acceptor_.async_accept([this](boost::system::error_code ec, boost::asio::ip::tcp::socket socket) {
            if (ec)
                return;
            ++accepts_;
            auto s = std::make_shared<stream>(std::move(socket), *tls_);
            s->async_handshake(boost::asio::ssl::stream_base::server, [this, s](boost::system::error_code hec) {
                if (!hec)
                    ++completed_;
                boost::system::error_code ignored;
                s->lowest_layer().close(ignored);
            });
            accept();
        });
    }

    std::shared_ptr<boost::asio::ssl::context> tls_;
    boost::asio::io_context io_{1};
    boost::asio::ip::tcp::acceptor acceptor_{io_};
    std::uint16_t port_ = 0;
    std::atomic<int> accepts_{0};
    std::atomic<int> completed_{0};
    std::optional<loopback_io::io_thread> thread_; // last: stopped and joined first
};

} // namespace genesys_adapters_test

#endif
