// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_PKCE_HPP
#define GENESYS_PKCE_HPP

/// @file
/// PKCE (RFC 7636) for the authorization-code grant, and the base64 encodings the grants take.

#include <genesys/detail/ascii.hpp>
#include <genesys/detail/base64.hpp>
#include <genesys/detail/failure.hpp>
#include <genesys/detail/percent_encode.hpp>
#include <genesys/detail/sha256.hpp>
#include <genesys/error.hpp>

#include <cstddef>
#include <random>
#include <string>
#include <string_view>

namespace genesys {

namespace detail {

/// RFC 7636 section 4.1: 43 to 128 characters, each unreserved.
inline std::string_view code_verifier_problem(std::string_view verifier) noexcept
{
    if (verifier.size() < 43 || verifier.size() > 128)
        return "code_verifier must be 43 to 128 characters long";
    for (char c : verifier)
        if (!is_unreserved(c))
            return "code_verifier may hold only letters, digits, '-', '.', '_' and '~'";
    return {};
}

} // namespace detail

/// Base64 (RFC 4648 section 4, padded): e.g. for a SAML assertion, which the grant takes encoded.
inline std::string base64_encode(std::string_view data) { return detail::base64_encode(data); }

/// Base64url without padding (RFC 4648 section 5, RFC 7636 appendix A).
inline std::string base64url_encode(std::string_view data) { return detail::base64_encode(data, true, false); }

/** A new PKCE code verifier.

    @param length How many characters: RFC 7636 allows 43 to 128.
    @return `length` characters drawn uniformly from the 66 unreserved characters by
    `std::random_device`.
    @throws invalid_argument_error For any other length.
*/
inline std::string make_code_verifier(std::size_t length = 64)
{
    if (length < 43 || length > 128)
        throw_exception_from_error(detail::invalid_argument(
            "makeCodeVerifier", "a code verifier is 43 to 128 characters long, not " + std::to_string(length)));
    constexpr std::string_view unreserved = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
    std::random_device device;
    std::uniform_int_distribution<std::size_t> pick(0, unreserved.size() - 1);
    std::string out(length, '\0');
    for (char& c : out)
        c = unreserved[pick(device)];
    return out;
}

/** The PKCE S256 code challenge of a verifier.

    @param verifier 43 to 128 unreserved characters, e.g. from `make_code_verifier`.
    @return base64url(SHA-256(verifier)), without padding.
    @throws invalid_argument_error For any other verifier.

    @code
    assert(genesys::code_challenge_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") ==
           "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"); // RFC 7636 appendix B
    @endcode
*/
inline std::string code_challenge_s256(std::string_view verifier)
{
    if (auto why = detail::code_verifier_problem(verifier); !why.empty())
        throw_exception_from_error(detail::invalid_argument("codeChallengeS256", why));
    const auto digest = detail::sha256_digest(verifier);
    return base64url_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

} // namespace genesys

#endif
