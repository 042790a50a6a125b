// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_OAUTH_HPP
#define GENESYS_OAUTH_HPP

/// @file
/// Getting an access token: `oauth_client` (the OAuth grants of the login host) and its
/// configuration, the PKCE helpers, and the token sources that keep a token fresh. Each is also a
/// header of its own.

#include <genesys/oauth_client.hpp>
#include <genesys/oauth_config.hpp>
#include <genesys/oauth_token_sources.hpp>
#include <genesys/pkce.hpp>

#endif
