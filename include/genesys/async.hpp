// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_ASYNC_HPP
#define GENESYS_ASYNC_HPP

/// @file
/// The asynchronous API on Boost.Asio, all of it: `async_tokens_api`
/// (<genesys/async_tokens_api.hpp>), `async_token` (<genesys/async_token.hpp>), the asynchronous
/// grants of `oauth_client` (<genesys/async_oauth_client.hpp>) and the `async_transport` concept
/// (<genesys/async_transport.hpp>), with the blocking headers they complete
/// (<genesys/tokens_api.hpp>, <genesys/oauth.hpp>, <genesys/token_source.hpp>).
/// `token_validator::async_validate` is in <genesys/async_token_validator.hpp>, the fake for
/// tests in <genesys/testing/async_fake_transport.hpp>: neither is included here.
///
/// Every operation runs the same step machine as the blocking API (`detail::call_machine`):
/// the checks, the token, the 401-refresh-once rule, retries, the deadline, logging, errors and
/// decoding are the same; only the waiting differs (`async_send` and timers, never a blocked
/// thread). Header-only Asio: link threads (`Threads::Threads`; CMake target
/// `genesys::tokens_async`).

#include <genesys/async_oauth_client.hpp>
#include <genesys/async_token.hpp>
#include <genesys/async_tokens_api.hpp>
#include <genesys/async_transport.hpp>
#include <genesys/client_config.hpp>
#include <genesys/oauth.hpp>
#include <genesys/token_source.hpp>
#include <genesys/tokens_api.hpp>

#endif
