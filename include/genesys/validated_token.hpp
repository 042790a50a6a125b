// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_VALIDATED_TOKEN_HPP
#define GENESYS_VALIDATED_TOKEN_HPP

/// @file
/// `validated_token`: what a `token_validator` answers for a valid token.

#include <genesys/detail/config.hpp>
#include <genesys/detail/siphash.hpp>
#include <genesys/error.hpp>
#include <genesys/models/token_info.hpp>
#include <genesys/shared_token_cache.hpp>

#include <chrono>
#include <iosfwd>
#include <memory>
#include <optional>
#include <utility>

namespace genesys {

namespace detail {

/// One remembered answer of the validator's cache (`detail::validator_cache`): a valid token's
/// info, or the 401 it got.
struct validator_entry {
    validator_entry() = default;
    /// An entry of `i`, moved in (not default-made then assigned: this runs on every answer cached).
    explicit validator_entry(token_info&& i) noexcept : info(std::move(i)) {}

    hash128 key{};
    token_info info;
    std::unique_ptr<const error> rejected; // the API's 401 (a pointer: most entries are valid ones)
    std::chrono::system_clock::time_point fetched_at;
    std::chrono::system_clock::time_point trusted_until;
    /// The policy of the cache that made the entry accepts `info`: both never change, so the
    /// cache checks it once, when it stores the answer, and every hit reads the verdict. False:
    /// refused, or not checked yet (then the policy is checked when the entry is used).
    bool policy_passed = false;
    /// The token's key in the shared cache (`token_validator_options::shared_cache`), if there
    /// is one: a revocation the fleet publishes names it.
    std::optional<shared_token_key> shared_key;
};

class validator_cache; // <genesys/detail/validator_cache.hpp>

} // namespace detail

/** A token the validator found valid: what `GET /api/v2/tokens/me` said about it, and for how
    long the validator trusts that answer. Cheap to copy (it shares the cache's entry). */
class validated_token {
public:
    /// What the API said about the token.
    const token_info& info() const noexcept { return entry_->info; }
    /// When the API said it.
    std::chrono::system_clock::time_point fetched_at() const noexcept { return entry_->fetched_at; }
    /// Until when the answer is trusted without asking again.
    std::chrono::system_clock::time_point trusted_until() const noexcept { return entry_->trusted_until; }
    /// True when the answer's trust has run out and it was used only because the API could not
    /// be asked (`token_validator_options::stale_if_error`).
    bool stale() const noexcept { return stale_; }

    /// @private
    validated_token(std::shared_ptr<const detail::validator_entry> e, bool stale) noexcept
        : entry_(std::move(e)), stale_(stale)
    {
    }

    /// Writes the organization and OAuth client ids and the trust's end, e.g.
    /// `validated_token{organization 6f0b..., client 9c2e..., trusted until 2026-11-27T22:15:30.250Z}`.
    friend GENESYS_DECL std::ostream& operator<<(std::ostream& os, const validated_token& v);

private:
    friend class detail::validator_cache; // reads the entry's policy verdict

    std::shared_ptr<const detail::validator_entry> entry_;
    bool stale_ = false;
};

} // namespace genesys

#if !defined(GENESYS_TOKENS_SEPARATE_COMPILATION)
#include <genesys/impl/validated_token.ipp>
#endif

#endif
