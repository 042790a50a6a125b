#ifndef GENESYS_TOKENS_HPP
#define GENESYS_TOKENS_HPP

/// @file
/// The whole blocking library in one header: the Tokens client (`tokens_api`, alone in
/// <genesys/tokens_api.hpp>), its models and their JSON conversions, OAuth and the token source,
/// and the fake transport for tests. The asynchronous API is <genesys/async.hpp>; the validator
/// <genesys/token_validator.hpp>.
///
/// Boost.JSON has a compiled part. Link `Boost::json` (the CMake target `genesys::tokens`
/// does), or define `GENESYS_TOKENS_BOOST_JSON_IMPLEMENTATION` in exactly one translation
/// unit before including this header to compile Boost.JSON's implementation there.

#include <genesys/client_config.hpp>
#include <genesys/date_time.hpp>
#include <genesys/error.hpp>
#include <genesys/error_code.hpp>
#include <genesys/http.hpp>
#include <genesys/json.hpp>
#include <genesys/logging.hpp>
#include <genesys/models/entities.hpp>
#include <genesys/models/error_body.hpp>
#include <genesys/models/idle_token_timeout.hpp>
#include <genesys/models/org_oauth_client.hpp>
#include <genesys/models/token_info.hpp>
#include <genesys/oauth.hpp>
#include <genesys/region.hpp>
#include <genesys/result.hpp>
#include <genesys/retry.hpp>
#include <genesys/retry_after.hpp>
#include <genesys/routes.hpp>
#include <genesys/testing/fake_transport.hpp>
#include <genesys/token_source.hpp>
#include <genesys/tokens_api.hpp>
#include <genesys/transport.hpp>
#include <genesys/version.hpp>

#endif
