// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_SRC_HPP
#define GENESYS_SRC_HPP

/// @file
/// The implementation of the compiled mode: include this header in exactly one translation unit of
/// a program built with `GENESYS_TOKENS_SEPARATE_COMPILATION` defined (or link the CMake target
/// `genesys::tokens_compiled`, which is that translation unit).
///
/// @code
/// // genesys_tokens.cpp, compiled with -DGENESYS_TOKENS_SEPARATE_COMPILATION like the rest
/// #include <genesys/src.hpp>
/// @endcode
///
/// Boost.JSON is linked as in the header-only mode (`Boost::json`), or compiled here too by defining
/// `GENESYS_TOKENS_BOOST_JSON_IMPLEMENTATION` before this include.

#if !defined(GENESYS_TOKENS_SEPARATE_COMPILATION)
#error "<genesys/src.hpp> is for the compiled mode: define GENESYS_TOKENS_SEPARATE_COMPILATION for the whole program"
#endif

#include <genesys/impl/date_time.ipp>
#include <genesys/impl/error.ipp>
#include <genesys/impl/error_code.ipp>
#include <genesys/impl/http.ipp>
#include <genesys/impl/logging.ipp>
#include <genesys/impl/oauth_client.ipp>
#include <genesys/impl/token_source.ipp>
#include <genesys/models/impl/token_info.ipp>
#include <genesys/detail/impl/body_codec.ipp>
#include <genesys/detail/impl/oauth_core.ipp>
#include <genesys/detail/impl/oauth_rules.ipp>
#include <genesys/detail/impl/siphash.ipp>
#include <genesys/detail/impl/tokens_core.ipp>
#include <genesys/detail/impl/validator_cache.ipp>
#include <genesys/detail/impl/validator_core.ipp>

#endif
