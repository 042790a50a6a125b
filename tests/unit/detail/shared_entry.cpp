// SPDX-License-Identifier: BSL-1.0
// <genesys/detail/shared_entry.hpp>: the shared cache's keys and authenticated values.
#include <genesys/detail/shared_entry.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <string_view>

namespace {

using namespace std::chrono_literals;
using genesys::detail::decode_shared_entry;
using genesys::detail::encode_shared_entry;
using genesys::shared_answer;
using genesys::shared_answer_kind;
using genesys::detail::shared_entry_key;
using genesys::detail::shared_entry_status;

const std::string_view base = "https://api.mypurecloud.com";
const std::string_view token = "tok-4f1e9c2a-secret-token-bytes";

genesys::fleet_key key_a() { return genesys::fleet_key(std::string(32, 'A') + "-fleet-key-a"); }
genesys::fleet_key key_b() { return genesys::fleet_key(std::string(32, 'B') + "-fleet-key-b"); }

const auto t0 = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'800'000'000'000));

shared_answer valid_answer()
{
    shared_answer a;
    a.kind = shared_answer_kind::valid;
    a.fetched_at = t0;
    a.expires_at = t0 + 60s;
    a.info.organization = genesys::named_entity{"org-1", "Org One"};
    a.info.home_organization = genesys::named_entity{"org-1", "Org One"};
    a.info.authorized_scope = std::vector<std::string>{"users:readonly", "analytics"};
    a.info.date_token_idles = genesys::parse_date_time("2027-01-15T10:00:00.250Z");
    genesys::org_oauth_client c;
    c.id = "client-9";
    c.name = "My client";
    a.info.oauth_client = c;
    return a;
}

} // namespace

TEST_CASE("shared_entry_key: the same key on every instance, different for every input, never the token")
{
    const auto k = shared_entry_key(key_a(), base, false, token);
    CHECK(k.starts_with("genesys:tv:"));
    CHECK(k.size() == 11 + 64);
    CHECK(k.find(token) == std::string::npos);
    CHECK(shared_entry_key(key_a(), base, false, token) == k); // deterministic: the fleet agrees
    CHECK(shared_entry_key(key_b(), base, false, token) != k); // another fleet key
    CHECK(shared_entry_key(key_a(), base, true, token) != k);  // preserveIdleTTL
    CHECK(shared_entry_key(key_a(), "https://api.mypurecloud.de", false, token) != k);
    CHECK(shared_entry_key(key_a(), base, false, "tok-other") != k);
    // The key is HMAC(fleet key, "v1|" + base + "|0|" + token), hex.
    const auto expected = genesys::detail::to_hex(genesys::detail::digest_bytes(
        key_a().mac("v1|" + std::string(base) + "|0|" + std::string(token))));
    CHECK(k == "genesys:tv:" + expected);
    CHECK_THROWS_AS(shared_entry_key(key_a(), "https://a|b", false, token), genesys::invalid_argument_error);
    // The digest (a `shared_token_key`'s) names the same entry.
    const auto digest = genesys::detail::shared_entry_digest(key_a(), base, false, token);
    CHECK(genesys::detail::to_hex(genesys::detail::digest_bytes(digest)) == expected);
    CHECK(genesys::detail::shared_entry_key(digest) == k);
    CHECK_THROWS_AS(genesys::detail::shared_entry_digest(key_a(), "https://a|b", false, token),
                    genesys::invalid_argument_error);
}

TEST_CASE("shared entry: each kind of answer round-trips")
{
    const auto k = shared_entry_key(key_a(), base, false, token);
    SUBCASE("valid, with the token's info")
    {
        const auto a = valid_answer();
        const auto v = encode_shared_entry(key_a(), k, a);
        CHECK(v.find(token) == std::string::npos);
        shared_answer out;
        REQUIRE(decode_shared_entry(key_a(), k, v, t0 + 1s, out) == shared_entry_status::ok);
        CHECK(out.kind == shared_answer_kind::valid);
        CHECK(out.fetched_at == a.fetched_at);
        CHECK(out.expires_at == a.expires_at);
        CHECK(out.info == a.info);
    }
    SUBCASE("401 and 429 carry no info")
    {
        for (auto kind : {shared_answer_kind::unauthorized, shared_answer_kind::rate_limited}) {
            shared_answer a;
            a.kind = kind;
            a.fetched_at = t0;
            a.expires_at = t0 + 10s;
            const auto v = encode_shared_entry(key_a(), k, a);
            CHECK(v.size() == 26 + 32);
            shared_answer out = valid_answer();
            REQUIRE(decode_shared_entry(key_a(), k, v, t0, out) == shared_entry_status::ok);
            CHECK(out.kind == kind);
            CHECK(out.expires_at == t0 + 10s);
            CHECK(out.info == genesys::token_info{});
        }
    }
}

TEST_CASE("shared entry: forged, moved, truncated, oversized, malformed and expired values are refused, each for its reason")
{
    const auto k = shared_entry_key(key_a(), base, false, token);
    const auto v = encode_shared_entry(key_a(), k, valid_answer());
    shared_answer out;
    const auto now = t0 + 1s;

    SUBCASE("a value made with another fleet key: bad MAC")
    {
        CHECK(decode_shared_entry(key_a(), k, encode_shared_entry(key_b(), k, valid_answer()), now, out) ==
              shared_entry_status::bad_mac);
    }
    SUBCASE("a value moved to another token's key: bad MAC")
    {
        const auto other = shared_entry_key(key_a(), base, false, "tok-other");
        CHECK(decode_shared_entry(key_a(), other, v, now, out) == shared_entry_status::bad_mac);
        // A 401 of one token copied onto a valid token's key, and the reverse.
        shared_answer rejected;
        rejected.kind = shared_answer_kind::unauthorized;
        rejected.fetched_at = t0;
        rejected.expires_at = t0 + 10s;
        CHECK(decode_shared_entry(key_a(), k, encode_shared_entry(key_a(), other, rejected), now, out) ==
              shared_entry_status::bad_mac);
    }
    SUBCASE("every single flipped byte: bad MAC")
    {
        for (std::size_t i = 0; i < v.size(); ++i) {
            std::string forged = v;
            forged[i] = static_cast<char>(forged[i] ^ 0x01);
            CHECK(decode_shared_entry(key_a(), k, forged, now, out) == shared_entry_status::bad_mac);
        }
    }
    SUBCASE("an expiry pushed forward without the key: bad MAC")
    {
        std::string forged = v;
        forged[10] = '\x7f'; // the high byte of expires_at
        CHECK(decode_shared_entry(key_a(), k, forged, now, out) == shared_entry_status::bad_mac);
    }
    SUBCASE("truncated anywhere: bad MAC")
    {
        for (std::size_t n = 0; n < v.size(); ++n)
            CHECK(decode_shared_entry(key_a(), k, std::string_view(v).substr(0, n), now, out) ==
                  shared_entry_status::bad_mac);
    }
    SUBCASE("over the limit: refused before anything else")
    {
        CHECK(decode_shared_entry(key_a(), k, v, now, out, v.size() - 1) == shared_entry_status::too_large);
        CHECK(decode_shared_entry(key_a(), k, std::string(1 << 20, 'x'), now, out) == shared_entry_status::too_large);
        CHECK(decode_shared_entry(key_a(), k, v, now, out, v.size()) == shared_entry_status::ok);
    }
    SUBCASE("authentic but not parseable: malformed")
    {
        // Bodies authenticated with the right key (as a bug would write them).
        auto sealed = [&](std::string body) {
            return body + std::string(genesys::detail::digest_bytes(
                              genesys::detail::shared_entry_codec::value_mac(key_a(), k, body)));
        };
        const std::string header = v.substr(0, 26);
        const std::string info = v.substr(26, v.size() - 26 - 32);
        REQUIRE(decode_shared_entry(key_a(), k, sealed(header + info), now, out) == shared_entry_status::ok);
        CHECK(decode_shared_entry(key_a(), k, sealed(""), now, out) == shared_entry_status::malformed);
        CHECK(decode_shared_entry(key_a(), k, sealed(header.substr(0, 25)), now, out) == shared_entry_status::malformed);
        CHECK(decode_shared_entry(key_a(), k, sealed(header.substr(0, 1) + 'X' + header.substr(2)), now, out) ==
              shared_entry_status::malformed); // an unknown kind
        for (std::size_t n = 0; n < info.size(); ++n) // the info cut short anywhere
            CHECK(decode_shared_entry(key_a(), k, sealed(header + info.substr(0, n)), now, out) ==
                  shared_entry_status::malformed);
        CHECK(decode_shared_entry(key_a(), k, sealed(header + info + '\0'), now, out) ==
              shared_entry_status::malformed); // a byte left over
        std::string wrong = info;
        wrong[0] = '\x07'; // "organization present" must be 0 or 1
        CHECK(decode_shared_entry(key_a(), k, sealed(header + wrong), now, out) == shared_entry_status::malformed);
        std::string rejected = header;
        rejected[1] = 'U';
        CHECK(decode_shared_entry(key_a(), k, sealed(rejected + info), now, out) ==
              shared_entry_status::malformed); // a 401 with a body
        CHECK(decode_shared_entry(key_a(), k, sealed(rejected), now, out) == shared_entry_status::ok);
        // expires_at before fetched_at
        std::string backwards = header;
        for (std::size_t i = 10; i < 18; ++i)
            backwards[i] = 0;
        CHECK(decode_shared_entry(key_a(), k, sealed(backwards + info), now, out) == shared_entry_status::malformed);
    }
    SUBCASE("authentic, from another version of the library: other_format, not malformed")
    {
        auto sealed = [&](std::string body) {
            return body + std::string(genesys::detail::digest_bytes(
                              genesys::detail::shared_entry_codec::value_mac(key_a(), k, body)));
        };
        const std::string body = v.substr(0, v.size() - 32);
        // Another format version (the first one's JSON, a future one's).
        for (char version : {'\x01', '\x03'})
            CHECK(decode_shared_entry(key_a(), k, sealed(version + body.substr(1)), now, out) ==
                  shared_entry_status::other_format);
        // The same version with models of other fields: another fingerprint.
        std::string other = body;
        other[25] = static_cast<char>(other[25] ^ 1);
        CHECK(decode_shared_entry(key_a(), k, sealed(other), now, out) == shared_entry_status::other_format);
        CHECK(genesys::detail::to_string(shared_entry_status::other_format) == "other_format");
    }
    SUBCASE("expired: at or after expires_at")
    {
        CHECK(decode_shared_entry(key_a(), k, v, t0 + 60s, out) == shared_entry_status::expired);
        CHECK(decode_shared_entry(key_a(), k, v, t0 + 59999ms, out) == shared_entry_status::ok);
    }
}

TEST_CASE("shared_entry_ttl: the time left, at least a millisecond")
{
    const auto a = valid_answer();
    CHECK(genesys::detail::shared_entry_ttl(a, t0) == 60s);
    CHECK(genesys::detail::shared_entry_ttl(a, t0 + 59'999ms) == 1ms);
    CHECK(genesys::detail::shared_entry_ttl(a, t0 + 120s) == 1ms);
    CHECK(genesys::detail::to_string(shared_entry_status::bad_mac) == "bad_mac");
}
