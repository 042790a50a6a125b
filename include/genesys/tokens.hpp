// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_TOKENS_HPP
#define GENESYS_TOKENS_HPP

/// @file
/// The Tokens client: `tokens_api` (<genesys/tokens_api.hpp>) with what its calls take and return,
/// the configuration and the per-call options (<genesys/call_options.hpp>), the models, the errors,
/// the HTTP messages and the transport concept, the retry policy and the logging hook, the regions. A configuration's `token_source` is declared
/// here and defined in <genesys/token_source.hpp>; OAuth, the token validator and the asynchronous
/// API have headers of their own, and <genesys/genesys.hpp> includes every blocking part.
///
/// Header-only, this brings in Boost.JSON (link `Boost::json`, or define
/// `GENESYS_TOKENS_BOOST_JSON_IMPLEMENTATION` in exactly one translation unit before including it);
/// in the compiled mode (`GENESYS_TOKENS_SEPARATE_COMPILATION`) it does not.

#include <genesys/call_options.hpp>
#include <genesys/client_config.hpp>
#include <genesys/date_time.hpp>
#include <genesys/error.hpp>
#include <genesys/error_code.hpp>
#include <genesys/http.hpp>
#include <genesys/logging.hpp>
#include <genesys/models/entities.hpp>
#include <genesys/models/error_body.hpp>
#include <genesys/models/idle_token_timeout.hpp>
#include <genesys/models/org_oauth_client.hpp>
#include <genesys/models/token_info.hpp>
#include <genesys/region.hpp>
#include <genesys/result.hpp>
#include <genesys/retry.hpp>
#include <genesys/retry_after.hpp>
#include <genesys/routes.hpp>
#include <genesys/tokens_api.hpp>
#include <genesys/transport.hpp>
#include <genesys/version.hpp>

#endif
