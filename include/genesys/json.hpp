// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_JSON_HPP
#define GENESYS_JSON_HPP

/// @file
/// Boost.JSON conversions of the models: `boost::json::value_from(model)` writes the platform's
/// JSON (absent optional fields omitted), `boost::json::value_to<M>(jv)` and `try_value_to<M>(jv)`
/// read it (unknown keys ignored, a missing or `null` key absent; a value of the wrong type fails
/// with `genesys::errc::decode_failed`).
///
/// Header-only, the client's headers bring these in already; in the compiled mode they do not
/// include Boost.JSON, and this header is how a program asks for it.

#include <genesys/detail/json_codec.hpp>
#include <genesys/models/entities.hpp>
#include <genesys/models/error_body.hpp>
#include <genesys/models/idle_token_timeout.hpp>
#include <genesys/models/oauth_error_body.hpp>
#include <genesys/models/oauth_token.hpp>
#include <genesys/models/org_oauth_client.hpp>
#include <genesys/models/token_info.hpp>

#endif
