// SPDX-License-Identifier: BSL-1.0
// <genesys/pkce.hpp>: base64 and base64url, code verifiers and their S256 challenge (RFC 4648,
// RFC 7636).
#include <genesys/pkce.hpp>

#include "fixtures.hpp"

#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <utility>

TEST_CASE("base64 and base64url: the RFC 4648 vectors, padding only where asked")
{
    const std::pair<std::string_view, std::string_view> vectors[] = {
        {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"}};
    for (const auto& v : vectors) {
        CHECK(genesys::base64_encode(v.first) == v.second);
        std::string unpadded(v.second);
        while (!unpadded.empty() && unpadded.back() == '=')
            unpadded.pop_back();
        CHECK(genesys::base64url_encode(v.first) == unpadded);
    }
    // The two alphabets differ in their last two characters.
    CHECK(genesys::base64_encode("\xfb\xff\xbf") == "+/+/");
    CHECK(genesys::base64url_encode("\xfb\xff\xbf") == "-_-_");
    CHECK(genesys::base64url_encode("\xfb\xff") == "-_8");
}

TEST_CASE("PKCE: the RFC 7636 appendix B challenge, and verifiers checked")
{
    CHECK(genesys::code_challenge_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") ==
          "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    // 43 and 128 characters are the limits; every unreserved character is allowed.
    CHECK(genesys::code_challenge_s256(std::string(43, 'a')) == genesys::base64url_encode([] {
              auto d = genesys::detail::sha256_digest(std::string(43, 'a'));
              return std::string(d.begin(), d.end());
          }()));
    CHECK(genesys::code_challenge_s256(std::string(128, '~')).size() == 43);
    CHECK(genesys::code_challenge_s256("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~").size() == 43);
    CHECK_THROWS_AS(genesys::code_challenge_s256(std::string(42, 'a')), genesys::invalid_argument_error);
    CHECK_THROWS_AS(genesys::code_challenge_s256(std::string(129, 'a')), genesys::invalid_argument_error);
    // A reserved character anywhere is rejected. (Built in place: g++ 12 at -O2 reports a false
    // -Warray-bounds on `std::string(50, 'a') + "+"`.)
    for (char reserved : {'+', '=', '/', ' '}) {
        std::string verifier(50, 'a');
        verifier[49] = reserved;
        CHECK_THROWS_AS(genesys::code_challenge_s256(verifier), genesys::invalid_argument_error);
        verifier[49] = 'a';
        verifier[0] = reserved;
        CHECK_THROWS_AS(genesys::code_challenge_s256(verifier), genesys::invalid_argument_error);
    }
}

TEST_CASE("make_code_verifier: 43 to 128 unreserved characters, fresh each time")
{
    for (std::size_t n : {43u, 64u, 100u, 128u}) {
        const std::string v = genesys::make_code_verifier(n);
        CHECK(v.size() == n);
        for (char c : v)
            CHECK(genesys::detail::is_unreserved(c));
        CHECK_NOTHROW(genesys::code_challenge_s256(v));
    }
    CHECK(genesys::make_code_verifier().size() == 64);
    CHECK_THROWS_AS(genesys::make_code_verifier(42), genesys::invalid_argument_error);
    CHECK_THROWS_AS(genesys::make_code_verifier(129), genesys::invalid_argument_error);
    CHECK_THROWS_AS(genesys::make_code_verifier(0), genesys::invalid_argument_error);

    // 20 verifiers of 128 characters: all different, and together they use most of the alphabet.
    std::set<std::string> seen;
    std::set<char> chars;
    for (int i = 0; i < 20; ++i) {
        auto v = genesys::make_code_verifier(128);
        chars.insert(v.begin(), v.end());
        seen.insert(std::move(v));
    }
    CHECK(seen.size() == 20);
    CHECK(chars.size() >= 60);
}
