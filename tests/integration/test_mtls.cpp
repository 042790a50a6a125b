// SPDX-License-Identifier: BSL-1.0
// Client certificates (mutual TLS) against the emulator process over https, which requires a
// certificate signed by a given CA (--tls-client-ca): for curl_transport, beast_transport and
// beast_async_transport, accepted with the right certificate (files, in-memory PEM, an encrypted
// key with its passphrase), refused as a TLS failure that is not retried without one or with
// another CA's, and construction failing, naming the file and the reason, for an unusable one.
// The certificates are made at test time with OpenSSL.

#include <genesys/tls_client_certificate.hpp>

#include "emulator_process.hpp"

#include <genesys/async_tokens_api.hpp>
#include <genesys/genesys.hpp>
#include <genesys/transport/beast.hpp>
#include <genesys/transport/beast_async.hpp>
#include <genesys/transport/curl.hpp>

#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

namespace {

using namespace std::chrono_literals;

constexpr std::string_view passphrase = "Tr0ub4dor&3-mtls-passphrase";
constexpr std::string_view agent_token = "emulator-agent-token-3e9a";

std::string bio_text(BIO* bio)
{
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    std::string s(data, static_cast<std::size_t>(n));
    BIO_free(bio);
    return s;
}

std::string pem_of(X509* cert)
{
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, cert);
    return bio_text(bio);
}

/// The key in PEM: PKCS#8, encrypted with AES-256 when `pass` is not empty.
std::string pem_of(EVP_PKEY* key, std::string_view pass = {})
{
    BIO* bio = BIO_new(BIO_s_mem());
    if (pass.empty())
        PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    else
        PEM_write_bio_PKCS8PrivateKey(bio, key, EVP_aes_256_cbc(), pass.data(), static_cast<int>(pass.size()), nullptr,
                                      nullptr);
    return bio_text(bio);
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    REQUIRE(ext != nullptr);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

/// A certificate for `key` named `cn`, signed by `issuer` (null: self-signed, a CA).
X509* make_cert(const char* cn, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key)
{
    static long serial = 100;
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
    X509_set_pubkey(cert, key);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                               -1, -1, 0);
    X509_set_issuer_name(cert, X509_get_subject_name(issuer ? issuer : cert));
    if (issuer == nullptr) {
        add_ext(cert, cert, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        add_ext(cert, issuer, NID_basic_constraints, "CA:FALSE");
        add_ext(cert, issuer, NID_ext_key_usage, "clientAuth");
    }
    REQUIRE(X509_sign(cert, issuer_key ? issuer_key : key, EVP_sha256()) > 0);
    return cert;
}

struct identity {
    std::string cert_pem, key_pem;
};

/// A CA, and a client certificate it signed.
struct client_ca {
    std::string ca_pem;
    identity client;

    explicit client_ca(const char* name)
    {
        EVP_PKEY* ca_key = EVP_EC_gen("P-256");
        EVP_PKEY* key = EVP_EC_gen("P-256");
        REQUIRE((ca_key && key));
        X509* ca = make_cert(name, ca_key, nullptr, nullptr);
        X509* cert = make_cert("genesys mtls client", key, ca, ca_key);
        ca_pem = pem_of(ca);
        client = {pem_of(cert), pem_of(key)};
        encrypted_key_pem = pem_of(key, passphrase);
        X509_free(cert);
        X509_free(ca);
        EVP_PKEY_free(key);
        EVP_PKEY_free(ca_key);
    }
    std::string encrypted_key_pem;
};

void write(const std::filesystem::path& p, const std::string& text)
{
    std::ofstream(p, std::ios::binary) << text;
}

/// Everything made once per test process: two CAs and their clients' certificates, as files
/// (in a folder removed at exit) and in memory, and the emulator trusting CA "a" only.
struct material {
    testproc::temp_dir dir;
    client_ca a{"genesys mtls CA a"}, b{"genesys mtls CA b"};
    std::string ca_a, cert_a, key_a, key_a_encrypted, combined_a, cert_b, key_b;
    std::string missing;

    material()
    {
        const auto& d = dir.path();
        ca_a = (d / "ca-a.pem").string();
        cert_a = (d / "client-a.pem").string();
        key_a = (d / "client-a.key").string();
        key_a_encrypted = (d / "client-a-encrypted.key").string();
        combined_a = (d / "client-a-combined.pem").string();
        cert_b = (d / "client-b.pem").string();
        key_b = (d / "client-b.key").string();
        missing = (d / "no-such-file.pem").string();
        write(ca_a, a.ca_pem);
        write(cert_a, a.client.cert_pem);
        write(key_a, a.client.key_pem);
        write(key_a_encrypted, a.encrypted_key_pem);
        write(combined_a, a.client.cert_pem + a.client.key_pem);
        write(cert_b, b.client.cert_pem);
        write(key_b, b.client.key_pem);
    }

    static material& get()
    {
        static material m;
        return m;
    }
};

/// The emulator over https, requiring a client certificate signed by CA "a".
testproc::emulator_process& emulator()
{
    static testproc::emulator_process emu(true, {"--tls-client-ca", material::get().ca_a});
    return emu;
}

std::string server_ca() { return testproc::tls_material::get().cert; }

genesys::http_request tokens_me()
{
    return {genesys::http_method::get, emulator().base_url() + "/api/v2/tokens/me",
            {{"Authorization", "Bearer " + std::string(agent_token)}}, {}};
}

enum class adapter { curl, beast, beast_async };

const char* name(adapter a)
{
    switch (a) {
    case adapter::curl: return "curl_transport";
    case adapter::beast: return "beast_transport";
    case adapter::beast_async: return "beast_async_transport";
    }
    return "";
}

genesys::curl_options curl_opts(const genesys::tls_client_certificate& c)
{
    return {.ca_file = server_ca(), .client_certificate = c};
}

genesys::beast_options beast_opts(const genesys::tls_client_certificate& c)
{
    return {.timeout = 10s, .ca_file = server_ca(), .client_certificate = c};
}

struct outcome {
    boost::system::error_code ec;
    genesys::http_response response;
    std::string message; ///< the transport's text about a failure
};

/// One request to the emulator through a new transport of kind `a` with client certificate `c`.
outcome send_once(adapter a, const genesys::tls_client_certificate& c)
{
    outcome out;
    switch (a) {
    case adapter::curl: {
        genesys::curl_transport t(curl_opts(c));
        auto r = t.send(tokens_me());
        if (r)
            out.response = std::move(*r);
        else
            out.ec = r.error();
        out.message = std::string(t.last_error_message());
        break;
    }
    case adapter::beast: {
        genesys::beast_transport t(beast_opts(c));
        auto r = t.send(tokens_me());
        if (r)
            out.response = std::move(*r);
        else
            out.ec = r.error();
        out.message = std::string(t.last_error_message());
        break;
    }
    case adapter::beast_async: {
        boost::asio::io_context ioc;
        genesys::beast_async_transport t(ioc, beast_opts(c));
        bool done = false;
        t.async_send(tokens_me(), [&](boost::system::error_code ec, genesys::http_response r) {
            done = true;
            out.ec = ec;
            if (ec)
                out.message = r.body;
            else
                out.response = std::move(r);
        });
        ioc.run();
        REQUIRE(done);
        break;
    }
    }
    return out;
}

/// `get_tokens_me` through the client with `retry_policy::standard()`: the error, if any.
std::optional<genesys::error> call_with_retries(adapter a, const genesys::tls_client_certificate& c)
{
    genesys::client_config cfg{.base_url = emulator().base_url(), .access_token = std::string(agent_token)};
    cfg.retry = genesys::retry_policy::standard();
    switch (a) {
    case adapter::curl: {
        genesys::tokens_api<genesys::curl_transport> api{genesys::curl_transport(curl_opts(c)), cfg};
        auto r = api.try_get_tokens_me();
        return r ? std::nullopt : std::optional<genesys::error>(r.error());
    }
    case adapter::beast: {
        genesys::tokens_api<genesys::beast_transport> api{genesys::beast_transport(beast_opts(c)), cfg};
        auto r = api.try_get_tokens_me();
        return r ? std::nullopt : std::optional<genesys::error>(r.error());
    }
    case adapter::beast_async: {
        boost::asio::io_context ioc;
        genesys::async_tokens_api<genesys::beast_async_transport> api{
            genesys::beast_async_transport(ioc, beast_opts(c)), cfg};
        std::optional<genesys::error> out;
        bool done = false;
        api.async_get_tokens_me([&](auto r) {
            done = true;
            if (!r)
                out = r.error();
        });
        ioc.run();
        REQUIRE(done);
        return out;
    }
    }
    return std::nullopt;
}

/// Makes a transport of kind `a`; returns what the constructor threw (empty when it did not).
std::string construction_error(adapter a, const genesys::tls_client_certificate& c)
{
    try {
        switch (a) {
        case adapter::curl: genesys::curl_transport{curl_opts(c)}; break;
        case adapter::beast: genesys::beast_transport{beast_opts(c)}; break;
        case adapter::beast_async: {
            boost::asio::io_context ioc;
            genesys::beast_async_transport t(ioc, beast_opts(c));
            break;
        }
        }
    } catch (const genesys::invalid_argument_error& e) {
        CHECK(e.code() == genesys::condition::invalid_argument);
        return e.what();
    }
    return {};
}

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

/// A TLS failure as each adapter reports one.
bool is_tls_failure(adapter a, const boost::system::error_code& ec)
{
    if (a == adapter::curl)
        return ec == boost::system::errc::protocol_error;
    return std::string_view(ec.category().name()) == "asio.ssl";
}

constexpr adapter all_adapters[] = {adapter::curl, adapter::beast, adapter::beast_async};

} // namespace

TEST_CASE("client certificate: accepted with the right client certificate (files, in-memory PEM, encrypted key)")
{
    const auto& m = material::get();
    for (adapter a : all_adapters) {
        const std::string adapter_name = name(a);
        CAPTURE(adapter_name);
        const genesys::tls_client_certificate variants[] = {
            {.cert_file = m.cert_a, .key_file = m.key_a},
            {.cert_file = m.combined_a},
            {.cert_pem = m.a.client.cert_pem, .key_pem = m.a.client.key_pem},
            {.cert_file = m.cert_a, .key_file = m.key_a_encrypted, .key_passphrase = std::string(passphrase)},
            {.cert_pem = m.a.client.cert_pem, .key_pem = m.a.encrypted_key_pem, .key_passphrase = std::string(passphrase)},
        };
        int i = 0;
        for (const auto& c : variants) {
            const int index = i++;
            CAPTURE(index);
            const outcome o = send_once(a, c);
            REQUIRE_MESSAGE(!o.ec, o.ec.message() << ": " << o.message);
            CHECK(o.response.status == 200);
            CHECK(contains(o.response.body, "organization"));
        }
        CHECK(!call_with_retries(a, {.cert_file = m.cert_a, .key_file = m.key_a}).has_value());
    }
}

TEST_CASE("client certificate: refused without a certificate or with another CA's: a TLS failure, not retried")
{
    const auto& m = material::get();
    const genesys::tls_client_certificate refused[] = {
        {},                                                                  // none
        {.cert_file = m.cert_b, .key_file = m.key_b},                        // signed by another CA
        {.cert_pem = m.b.client.cert_pem, .key_pem = m.b.client.key_pem},
    };
    for (adapter a : all_adapters) {
        const std::string adapter_name = name(a);
        CAPTURE(adapter_name);
        int i = 0;
        for (const auto& c : refused) {
            const int index = i++;
            CAPTURE(index);
            const outcome o = send_once(a, c);
            REQUIRE(o.ec);
            INFO(o.ec.message() << ": " << o.message);
            CHECK(is_tls_failure(a, o.ec));
            CHECK(o.response.status == 0);

            const auto e = call_with_retries(a, c);
            REQUIRE(e.has_value());
            INFO(e->message);
            CHECK(e->kind == genesys::error_kind::network);
            CHECK(e->code == genesys::condition::network);
            CHECK(e->attempts == 1);
        }
    }
}

TEST_CASE("client certificate: an unusable certificate fails the construction, naming the file and the reason")
{
    const auto& m = material::get();
    for (adapter a : all_adapters) {
        const std::string adapter_name = name(a);
        CAPTURE(adapter_name);
        std::string what = construction_error(a, {.cert_file = m.missing, .key_file = m.key_a});
        CHECK(contains(what, m.missing));
        CHECK(contains(what, "No such file or directory"));

        what = construction_error(a, {.cert_file = m.cert_a, .key_file = m.missing});
        CHECK(contains(what, m.missing));
        CHECK(contains(what, "No such file or directory"));

        what = construction_error(a, {.cert_file = m.cert_a, .key_file = m.key_b});
        CHECK(contains(what, m.key_b));
        CHECK_MESSAGE(contains(what, "does not match"), what);

        what = construction_error(a, {.cert_pem = m.a.client.cert_pem, .key_pem = m.b.client.key_pem});
        CHECK(contains(what, "key_pem"));
        CHECK_MESSAGE(contains(what, "does not match"), what);
        CHECK(!contains(what, "PRIVATE KEY"));

        what = construction_error(a, {.cert_file = m.cert_a, .key_file = m.key_a_encrypted,
                                      .key_passphrase = "not the passphrase"});
        CHECK(contains(what, m.key_a_encrypted));
        CHECK(contains(what, "wrong key_passphrase"));
        CHECK(!contains(what, "not the passphrase"));

        what = construction_error(a, {.cert_pem = m.a.client.cert_pem, .key_pem = m.a.encrypted_key_pem,
                                      .key_passphrase = "not the passphrase"});
        CHECK(contains(what, "key_pem"));
        CHECK(contains(what, "wrong key_passphrase"));
        CHECK(!contains(what, "not the passphrase"));
        CHECK(!contains(what, "PRIVATE KEY"));

        what = construction_error(a, {.cert_file = m.cert_a, .key_file = m.key_a_encrypted});
        CHECK(contains(what, m.key_a_encrypted));
        CHECK(contains(what, "no key_passphrase was given"));

        what = construction_error(a, {.cert_file = m.cert_a, .cert_pem = m.a.client.cert_pem});
        CHECK(contains(what, "not both"));

        what = construction_error(a, {.cert_file = m.key_a, .key_file = m.key_a});
        CHECK(contains(what, m.key_a));

        // A usable one does not throw.
        CHECK(construction_error(a, {.cert_file = m.cert_a, .key_file = m.key_a_encrypted,
                                     .key_passphrase = std::string(passphrase)}) == "");
    }
}

TEST_CASE("client certificate: the passphrase never appears in the errors of a refused handshake")
{
    const auto& m = material::get();
    // A second emulator that trusts CA "b" only: client "a" (encrypted key) is refused.
    const std::string ca_b = (m.dir.path() / "ca-b.pem").string();
    write(ca_b, m.b.ca_pem);
    testproc::emulator_process other(true, {"--tls-client-ca", ca_b});
    const genesys::tls_client_certificate c{.cert_file = m.cert_a, .key_file = m.key_a_encrypted,
                                            .key_passphrase = std::string(passphrase)};
    for (adapter a : all_adapters) {
        const std::string adapter_name = name(a);
        CAPTURE(adapter_name);
        const genesys::http_request req{genesys::http_method::get, other.base_url() + "/api/v2/tokens/me",
                                        {{"Authorization", "Bearer " + std::string(agent_token)}}, {}};
        std::string text;
        boost::system::error_code ec;
        if (a == adapter::curl) {
            genesys::curl_transport t(curl_opts(c));
            auto r = t.send(req);
            REQUIRE(!r);
            ec = r.error();
            text = t.last_error_message();
        } else if (a == adapter::beast) {
            genesys::beast_transport t(beast_opts(c));
            auto r = t.send(req);
            REQUIRE(!r);
            ec = r.error();
            text = t.last_error_message();
        } else {
            boost::asio::io_context ioc;
            genesys::beast_async_transport t(ioc, beast_opts(c));
            t.async_send(req, [&](boost::system::error_code e, genesys::http_response r) {
                ec = e;
                text = r.body;
            });
            ioc.run();
            REQUIRE(ec);
        }
        INFO(text);
        CHECK(is_tls_failure(a, ec));
        CHECK(!text.empty());
        CHECK(!contains(text, passphrase));
        CHECK(!contains(ec.message(), passphrase));

        // Through the client: the error's message neither.
        genesys::client_config cfg{.base_url = other.base_url(), .access_token = std::string(agent_token)};
        std::optional<genesys::error> e;
        if (a == adapter::curl) {
            genesys::tokens_api<genesys::curl_transport> api{genesys::curl_transport(curl_opts(c)), cfg};
            auto r = api.try_get_tokens_me();
            REQUIRE(!r);
            e = r.error();
        } else {
            genesys::tokens_api<genesys::beast_transport> api{genesys::beast_transport(beast_opts(c)), cfg};
            auto r = api.try_get_tokens_me();
            REQUIRE(!r);
            e = r.error();
        }
        CHECK(!contains(e->message, passphrase));
    }
}
