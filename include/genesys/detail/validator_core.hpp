// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DETAIL_VALIDATOR_CORE_HPP
#define GENESYS_DETAIL_VALIDATOR_CORE_HPP

// What `token_validator<Transport>` is without its transport: the checked configuration, the
// cache, and the blocking check through a `send_ref`. The template only forwards, so the check
// (request building, the step machine, decoding, the cache's rules) is compiled once, and in the
// compiled mode only in <genesys/src.hpp>; this header needs neither Boost.JSON nor the call path.

#include <genesys/client_config.hpp>
#include <genesys/detail/config.hpp>
#include <genesys/detail/send_through.hpp>
#include <genesys/detail/validator_cache.hpp>
#include <genesys/error.hpp>
#include <genesys/http.hpp>
#include <genesys/result.hpp>
#include <genesys/shared_token_cache.hpp>
#include <genesys/token_validator_config.hpp>
#include <genesys/token_validator_options.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace genesys::detail {

class client_core;   // <genesys/detail/client_core.hpp>
struct call_settings; // <genesys/detail/call_machine.hpp>

/// The error of a token `validate` refuses before any lookup (empty, too long, not fit for a
/// Bearer header), or nothing. Never quotes the token.
GENESYS_DECL std::optional<error> unsendable_token(std::string_view token);

/// The `client_config` a validator's checks are made with: `config`, without a token.
GENESYS_DECL client_config to_client_config(const token_validator_config& config);

/// Why `options` cannot be used (a duration out of range, an empty id, scope or client id), or
/// an empty string.
GENESYS_DECL std::string validator_options_problem(const token_validator_options& options);

/// What `genesys::check(config, options)` returns: the `invalid_argument` error of a bad
/// validator configuration or options (operation `"token_validator_config"` or
/// `"token_validator_options"`, as `config_error` makes it), or nothing.
GENESYS_DECL std::optional<error> validator_config_error(const token_validator_config& config,
                                                         const token_validator_options& options);

/// Prepares the check of `token` (`GET /api/v2/tokens/me`) in `req` and `settings`, both forms'
/// one way; an error when the configuration is bad.
GENESYS_DECL std::optional<error> prepare_check(const client_core& core, const token_validator_options& options,
                                                http_request& req, call_settings& settings, std::string_view token);

/// Hands the fleet's revocations (`shared_token_cache_listener`) to a validator's cache while
/// it lives: the validator detaches it before its cache goes, under the lock every call takes.
class validator_listener final : public shared_token_cache_listener {
public:
    explicit validator_listener(validator_cache& c) noexcept : cache_(&c) {}
    GENESYS_DECL void on_revoked(const shared_token_key& key) noexcept override;
    GENESYS_DECL void on_revocations_missed() noexcept override;
    /// No call reaches the cache once this returns.
    GENESYS_DECL void detach() noexcept;

private:
    std::mutex mutex_;
    validator_cache* cache_; // null once detached
};

/// A validator's state, shared by its copies. Thread-safe as `token_validator` says.
class validator_core {
public:
    /// Checks `config` and `options`: throws `invalid_argument_error` with the error of
    /// `validator_config_error`.
    GENESYS_DECL validator_core(const token_validator_config& config, token_validator_options options);
    GENESYS_DECL ~validator_core();
    validator_core(const validator_core&) = delete;
    validator_core& operator=(const validator_core&) = delete;

    /// `token_validator::validate`, sending through `send` (one request at a time).
    GENESYS_DECL result<validated_token> validate(std::string_view token, send_ref send);

    /// The error of a validation refused before any lookup (a token unfit to send), counted in
    /// `stats().refused`; or nothing. Never quotes the token.
    GENESYS_DECL std::optional<error> refusal(std::string_view token);

    /// How long a blocking `validate` waits for a check another validation started
    /// (`token_validator_options::wait_timeout`, defaults applied).
    GENESYS_DECL std::chrono::milliseconds join_timeout() const noexcept;

    /// `token`'s key in the shared cache (`token_validator_options::shared_cache`, not null):
    /// of the normalized base URL, the `preserveIdleTTL` option and the token.
    GENESYS_DECL shared_token_key shared_key_of(std::string_view token) const;

    /// Names `flight` in the shared cache (not null) by `token`'s key, and returns the key; nothing
    /// when it cannot be made (out of memory in the cache's `key_of`): the check goes on unshared.
    GENESYS_DECL std::optional<shared_token_key> name_in_fleet(validator_flight& flight,
                                                               std::string_view token) noexcept;

    /// `token_validator::forget`: forgets `token` here, and revokes it through the shared cache.
    GENESYS_DECL void forget(std::string_view token);

    const client_core& client() const noexcept { return *client_; }
    validator_cache& cache() noexcept { return cache_; }

private:
    static GENESYS_DECL void throw_if_bad(const token_validator_config& config, const token_validator_options& options);

    /// The check; `took`: how long the call took (once the transport was free), retries included.
    GENESYS_DECL result<api_response<token_info>> fetch(std::string_view token, send_ref send,
                                                        std::chrono::nanoseconds& took);

    /// Makes `flight`'s check and ends it (`validator_cache::finish`): its answer, no policy.
    GENESYS_DECL result<validated_token> check(std::string_view token, send_ref send, const hash128& key,
                                               const std::shared_ptr<validator_flight>& flight);

    /// A blocking leader's lookup in the shared cache (`key`'s flight named there first), bounded
    /// by `join_timeout()`: the flight ended from the fleet's answer (returned, no policy), or
    /// nothing (the caller checks; with the fleet's lock handed to the flight if it was taken).
    GENESYS_DECL std::optional<result<validated_token>> ask_fleet(std::string_view token, const hash128& key,
                                                                  const std::shared_ptr<validator_flight>& flight);

    std::unique_ptr<const client_core> client_; // never null
    validator_cache cache_;
    std::shared_ptr<validator_listener> listener_; // with a shared cache
    std::mutex send_mutex_; // a blocking transport sends one request at a time
};

} // namespace genesys::detail

#if !defined(GENESYS_TOKENS_SEPARATE_COMPILATION)
#include <genesys/detail/impl/validator_core.ipp>
#endif

#endif
