// SPDX-License-Identifier: BSL-1.0
// <genesys/tls_client_certificate.hpp>: the client certificate's settings and the checks made
// before any TLS library loads it (the loading itself: tests/integration/test_mtls.cpp).
#include <genesys/tls_client_certificate.hpp>

#include <doctest/doctest.h>

#include <string>
#include <string_view>

namespace {

/// What `check_client_certificate_sources` threw, or empty.
std::string source_problem(const genesys::tls_client_certificate& c)
{
    try {
        genesys::detail::check_client_certificate_sources(c, "test_transport");
    } catch (const genesys::invalid_argument_error& e) {
        CHECK(e.code() == genesys::condition::invalid_argument);
        CHECK(e.operation() == "test_transport");
        return e.what();
    }
    return {};
}

} // namespace

TEST_CASE("tls_client_certificate: an aggregate, empty by default")
{
    const genesys::tls_client_certificate none;
    CHECK(none.empty());
    CHECK((genesys::tls_client_certificate{.cert_pem = "-----BEGIN CERTIFICATE-----"}.empty() == false));
    CHECK((genesys::tls_client_certificate{.cert_file = "client.pem"}.empty() == false));
    CHECK((genesys::tls_client_certificate{.key_passphrase = "x"}.empty()));
}

TEST_CASE("tls_client_certificate: each part from one place, files readable, named in the error")
{
    CHECK(source_problem({}) == "");
    CHECK(std::string_view(source_problem({.cert_file = "a.pem", .cert_pem = "pem"})).find("give cert_file or cert_pem, not both") !=
          std::string_view::npos);
    CHECK(std::string_view(source_problem({.key_file = "a.key", .cert_pem = "pem", .key_pem = "pem"}))
              .find("give key_file or key_pem, not both") != std::string_view::npos);
    CHECK(std::string_view(source_problem({.key_pem = "pem"})).find("without a certificate") != std::string_view::npos);

    const std::string missing = "/nonexistent-genesys-dir/client.pem";
    const std::string what = source_problem({.cert_file = missing, .key_passphrase = "do-not-print-me"});
    CHECK(what.find("test_transport: client certificate: cannot read cert_file '" + missing + "'") != std::string::npos);
    CHECK(what.find("do-not-print-me") == std::string::npos);
    // In-memory PEM is not checked here (the TLS library parses it).
    CHECK(source_problem({.cert_pem = "not PEM", .key_pem = "not PEM"}) == "");
}

TEST_CASE("tls_client_certificate: wipe_secret empties the string")
{
    std::string s = "secret";
    genesys::detail::wipe_secret(s);
    CHECK(s.empty());
}
