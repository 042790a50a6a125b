// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_GENESYS_HPP
#define GENESYS_GENESYS_HPP

/// @file
/// Every part of the library that needs only Boost.JSON and Boost.System: the Tokens client
/// (<genesys/tokens.hpp>) and its type-erased transport (<genesys/any_transport.hpp>), the models'
/// JSON conversions (<genesys/json.hpp>), OAuth (<genesys/oauth.hpp>), the token source
/// (<genesys/token_source.hpp>), the token validator (<genesys/token_validator.hpp>) and the
/// client certificate the adapters take (<genesys/tls_client_certificate.hpp>).
///
/// Not included, each for what it depends on: the asynchronous API (<genesys/async.hpp>,
/// <genesys/async_token_validator.hpp>: Boost.Asio), the adapters (<genesys/transport/curl.hpp>:
/// libcurl; <genesys/transport/beast.hpp>, <genesys/transport/beast_async.hpp>: Boost.Beast and
/// OpenSSL) and the fakes for tests (<genesys/testing/fake_transport.hpp>,
/// <genesys/testing/async_fake_transport.hpp>). The single header
/// (`single_include/genesys/tokens.hpp`) is this header and the blocking fake, in one file.
///
/// Boost.JSON has a compiled part. Link `Boost::json` (the CMake target `genesys::tokens`
/// does), or define `GENESYS_TOKENS_BOOST_JSON_IMPLEMENTATION` in exactly one translation
/// unit before including this header to compile Boost.JSON's implementation there.

#include <genesys/any_transport.hpp>
#include <genesys/json.hpp>
#include <genesys/oauth.hpp>
#include <genesys/tls_client_certificate.hpp>
#include <genesys/token_source.hpp>
#include <genesys/token_validator.hpp>
#include <genesys/tokens.hpp>

#endif
