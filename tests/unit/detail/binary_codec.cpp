// SPDX-License-Identifier: BSL-1.0
// <genesys/detail/binary_codec.hpp>: the models' compact binary form (the shared cache's entries).
#include <genesys/detail/binary_codec.hpp>

#include <genesys/json.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace {

namespace binary = genesys::detail::binary;

// Every field of a TokenInfo set, the nested ones included, with lengths past one LEB128 byte.
genesys::token_info full_info()
{
    genesys::token_info t;
    t.organization = genesys::named_entity{"6f0b3c4e-8d2a-4a51-9c3e-2f1d0b7a9e55", "Org One"};
    t.home_organization = genesys::named_entity{"home-org", std::string(300, 'h')};
    t.authorized_scope = std::vector<std::string>{"users:readonly", "", "analytics", std::string(200, 's')};
    genesys::token_info_cloned_user cloned;
    cloned.id = "native-user";
    cloned.organization = genesys::entity{"native-org"};
    t.cloned_user = cloned;
    t.date_token_idles = genesys::parse_date_time("2027-01-15T10:00:00.250Z");
    genesys::org_oauth_client c;
    c.id = "client-9";
    c.name = "My client";
    c.date_created = genesys::parse_date_time("1969-12-31T23:59:59.999Z"); // before the epoch
    c.date_modified = genesys::parse_date_time("2024-02-29T12:00:00Z");
    c.created_by = genesys::domain_entity_ref{"u-1", "Creator", "/api/v2/users/u-1"};
    c.modified_by = genesys::domain_entity_ref{"u-2", std::nullopt, std::nullopt};
    c.authorized_grant_type = "CLIENT-CREDENTIALS";
    c.scope = std::vector<std::string>{};
    c.role_divisions = std::vector<genesys::role_division>{{"role-1", "div-1"}, {"role-2", ""}};
    c.state = "active";
    c.date_to_delete = std::nullopt;
    c.organization = genesys::named_entity{"org-1", std::nullopt};
    t.oauth_client = c;
    return t;
}

std::string encoded(const genesys::token_info& t)
{
    std::string out;
    binary::encode(out, t);
    return out;
}

} // namespace

TEST_CASE("binary codec: a token's info round-trips, every field and every absence")
{
    for (const auto& t : {full_info(), genesys::token_info{}}) {
        const auto bytes = encoded(t);
        genesys::token_info back;
        REQUIRE(binary::decode(bytes, back));
        CHECK(back == t);
    }
    // An empty info is one "absent" byte per field.
    CHECK(encoded(genesys::token_info{}) == std::string(6, '\0'));
    // The same info through the JSON codec and back reads the same (the two forms agree).
    const auto t = full_info();
    genesys::token_info via_json;
    std::string why;
    REQUIRE(genesys::detail::decode_body(boost::json::serialize(boost::json::value_from(t)), via_json, why));
    genesys::token_info back;
    REQUIRE(binary::decode(encoded(via_json), back));
    CHECK(back == t);
}

TEST_CASE("binary codec: anything cut short, left over or out of place is refused, never read past the end")
{
    const auto bytes = encoded(full_info());
    genesys::token_info out;
    for (std::size_t n = 0; n < bytes.size(); ++n)
        CHECK_FALSE(binary::decode(std::string_view(bytes).substr(0, n), out));
    CHECK_FALSE(binary::decode(bytes + '\0', out));

    SUBCASE("a length or a count beyond the bytes left")
    {
        // organization present, its id present, then a length of 2^63 (LEB128).
        std::string huge = "\x01\x01";
        huge += std::string(8, '\xff') + '\x7f';
        CHECK_FALSE(binary::decode(huge, out));
        // An unterminated LEB128 (11 continuation bytes).
        CHECK_FALSE(binary::decode("\x01\x01" + std::string(11, '\x80'), out));
        // authorizedScope: a count of 1000 with three bytes left.
        std::string many(2, '\0'); // organization, homeOrganization absent
        many += std::string("\x01\xe8\x07\x00\x00\x00", 6);
        CHECK_FALSE(binary::decode(many, out));
    }
    SUBCASE("a presence byte other than 0 or 1")
    {
        std::string odd = bytes;
        odd[0] = '\x02';
        CHECK_FALSE(binary::decode(odd, out));
    }
}

TEST_CASE("binary codec: the schema fingerprint follows the models' fields")
{
    constexpr auto token_info_schema = binary::schema<genesys::token_info>();
    static_assert(token_info_schema == binary::schema<genesys::token_info>()); // computed at compile time
    CHECK(token_info_schema != binary::schema<genesys::org_oauth_client>());
    CHECK(binary::schema<genesys::named_entity>() != binary::schema<genesys::domain_entity_ref>());
    // The type of a member counts, not only its name (both fields are "id"; one optional, one not).
    binary::schema_hasher a, b;
    binary::add_schema<std::optional<std::string>>(a);
    binary::add_schema<std::string>(b);
    CHECK(a.h != b.h);
}
