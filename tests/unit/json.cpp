// SPDX-License-Identifier: BSL-1.0
// <genesys/json.hpp>: the models' JSON decoding and encoding: boost::json::value_to / try_value_to
// / value_from (enabled by the library's tag_invoke overloads) and genesys::detail::decode with
// genesys::detail::decode_context. JSON keys as in platform-facts.md.
#include <genesys/json.hpp>

#include "fixtures.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace json = boost::json;

/// The UTC instant y-mo-d h:mi:s.ms, built with <chrono>.
constexpr genesys::date_time at(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0, int ms = 0)
{
    using namespace std::chrono;
    return sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s} + milliseconds{ms};
}

/// Decodes `text` with genesys::detail::decode; a failure fails the calling test with describe().
template <class T>
T decode_ok(std::string_view text)
{
    T out{};
    genesys::detail::decode_context ctx;
    const bool ok = genesys::detail::decode(json::parse(text), out, ctx);
    CHECK_MESSAGE(ok, "decode failed: ", ctx.describe());
    return out;
}

/// Decodes `text`, expecting failure; returns describe(), or "<decoded>" if decoding succeeded.
template <class T>
std::string decode_error(std::string_view text)
{
    T out{};
    genesys::detail::decode_context ctx;
    if (genesys::detail::decode(json::parse(text), out, ctx))
        return "<decoded>";
    return ctx.describe();
}

/// try_value_to must report genesys::errc::decode_failed, and value_to must throw.
template <class T>
void check_rejected_by_value_to(std::string_view text)
{
    INFO("document: ", text);
    const json::value jv = json::parse(text);
    const auto r = json::try_value_to<T>(jv);
    CHECK(r.has_error());
    if (r.has_error())
        CHECK(r.error() == genesys::errc::decode_failed);
    CHECK_THROWS_AS(json::value_to<T>(jv), boost::system::system_error);
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

/// Decodes `text` as the clients read a response (detail::decode_mode::lenient); a failure fails the
/// calling test. `skipped` receives what was left out.
template <class T>
T lenient_ok(std::string_view text, std::vector<std::string>* skipped = nullptr)
{
    T out{};
    genesys::detail::decode_context ctx(genesys::detail::decode_mode::lenient);
    const bool ok = genesys::detail::decode(json::parse(text), out, ctx);
    CHECK_MESSAGE(ok, "lenient decode failed: ", ctx.describe());
    if (skipped)
        *skipped = ctx.skipped();
    return out;
}

/// A TokenInfo with every field set, built in code.
genesys::token_info full_token_info()
{
    genesys::org_oauth_client c;
    c.id = "9c2e4f61-3a5b-4c7d-8e9f-0a1b2c3d4e5f";
    c.name = "Agent Desktop Integration";
    c.date_created = at(2023, 1, 1);
    c.date_modified = at(2024, 2, 29, 12, 30, 45, 7);
    c.created_by = genesys::domain_entity_ref{"u-1", "Alice", "/api/v2/users/u-1"};
    c.modified_by = genesys::domain_entity_ref{"u-2", std::nullopt, "/api/v2/users/u-2"};
    c.authorized_grant_type = "CLIENT-CREDENTIALS";
    c.scope = std::vector<std::string>{"users:readonly", "analytics"};
    c.role_divisions = std::vector<genesys::role_division>{{"r-1", "d-1"}, {"r-2", "*"}};
    c.state = "disabled";
    c.date_to_delete = at(1969, 12, 31, 23, 59, 59, 999);
    c.organization = genesys::named_entity{"o-1", "Acme"};

    genesys::token_info t;
    t.organization = genesys::named_entity{"o-1", "Acme"};
    t.home_organization = genesys::named_entity{"o-0", "Acme Home"};
    t.authorized_scope = std::vector<std::string>{"users:readonly", "analytics", "oauth:token:delete"};
    t.cloned_user = genesys::token_info_cloned_user{"cu-1", genesys::entity{"trustor-org"}};
    t.date_token_idles = at(2026, 11, 27, 22, 15, 30, 250);
    t.oauth_client = c;
    return t;
}

/// An ErrorBody with every field set and errors nested two levels deep.
genesys::error_body full_error_body()
{
    genesys::error_body innermost;
    innermost.message = "innermost";
    innermost.code = "invalid.value";
    innermost.details = std::vector<genesys::error_detail>{{std::nullopt, "userId", std::nullopt, std::nullopt}};

    genesys::error_body inner;
    inner.message = "inner";
    inner.code = "bad.request";
    inner.status = 400;
    inner.errors = std::vector<genesys::error_body>{innermost};

    genesys::error_body e;
    e.message = "The request could not be understood";
    e.code = "bad.request";
    e.status = 400;
    e.entity_id = "e-1";
    e.entity_name = "token";
    e.message_with_params = "Value {value} is invalid for {field}";
    e.message_params = std::map<std::string, std::string>{{"value", "x"}, {"field", "userId"}};
    e.context_id = "corr-400";
    e.details = std::vector<genesys::error_detail>{{"invalid.value", "userId", "e-1", "token"}};
    e.errors = std::vector<genesys::error_body>{inner, genesys::error_body{}};
    e.limit = genesys::error_limit{"token.requests", "oauth.client", 300};
    return e;
}

/// An IdleTokenTimeout with every field set.
genesys::idle_token_timeout full_idle_token_timeout()
{
    genesys::idle_token_timeout t;
    t.idle_token_timeout_seconds = 1800;
    t.enable_idle_token_timeout = false;
    t.inactivity_timeout_unit = "Hours";
    t.inactivity_timeout_groups_enabled = true;
    t.inactivity_timeout_group_bundles = std::vector<genesys::inactivity_timeout_group_bundle>{
        {1, 600, std::string("Minutes"), {"g-1", "g-2"}},
        {2, 7200, std::nullopt, {}},
    };
    return t;
}

} // namespace

// ============================================================================================
// TokenInfo decoding
// ============================================================================================

TEST_CASE("TokenInfo: the realistic document decodes with every field")
{
    const json::value jv = json::parse(fixtures::token_info_json);
    const auto info = json::value_to<genesys::token_info>(jv);

    REQUIRE(info.organization.has_value());
    CHECK(info.organization->id == "6f0b3c4e-8d2a-4a51-9c3e-2f1d0b7a9e55");
    CHECK(info.organization->name == "Acme Contact Centre");

    REQUIRE(info.home_organization.has_value());
    CHECK(info.home_organization->id == "6f0b3c4e-8d2a-4a51-9c3e-2f1d0b7a9e55");
    CHECK(info.home_organization->name == "Acme Contact Centre");

    REQUIRE(info.authorized_scope.has_value());
    CHECK(*info.authorized_scope == std::vector<std::string>{"users:readonly", "analytics", "oauth:token:delete"});

    REQUIRE(info.cloned_user.has_value());
    CHECK(info.cloned_user->id == "0d6f2a31-5b7c-4e8d-9f10-1a2b3c4d5e6f");
    REQUIRE(info.cloned_user->organization.has_value());
    CHECK(info.cloned_user->organization->id == "a1b2c3d4-e5f6-4711-8899-aabbccddeeff");

    REQUIRE(info.date_token_idles.has_value());
    CHECK(*info.date_token_idles == at(2026, 11, 27, 22, 15, 30, 250));
    CHECK(info.date_token_idles->time_since_epoch() == std::chrono::milliseconds{1'795'817'730'250});

    REQUIRE(info.oauth_client.has_value()); // read from the key "OAuthClient"
    const auto& c = *info.oauth_client;
    CHECK(c.id == "9c2e4f61-3a5b-4c7d-8e9f-0a1b2c3d4e5f");
    CHECK(c.name == "Agent Desktop Integration");
    CHECK(c.date_created == at(2023, 1, 1));
    CHECK_FALSE(c.date_modified.has_value());
    REQUIRE(c.created_by.has_value());
    CHECK(c.created_by->id == "u-1");
    CHECK_FALSE(c.created_by->name.has_value());
    CHECK(c.created_by->self_uri == "/api/v2/users/u-1");
    CHECK_FALSE(c.modified_by.has_value());
    CHECK(c.authorized_grant_type == "CLIENT-CREDENTIALS");
    REQUIRE(c.scope.has_value());
    CHECK(*c.scope == std::vector<std::string>{"users:readonly", "analytics"});
    REQUIRE(c.role_divisions.has_value());
    REQUIRE(c.role_divisions->size() == 1);
    CHECK((*c.role_divisions)[0].role_id == "r-1");
    CHECK((*c.role_divisions)[0].division_id == "d-1");
    CHECK(c.state == "active");
    CHECK_FALSE(c.date_to_delete.has_value());
    REQUIRE(c.organization.has_value());
    CHECK(c.organization->id == "6f0b3c4e-8d2a-4a51-9c3e-2f1d0b7a9e55");
    CHECK(c.organization->name == "Acme Contact Centre");

    SUBCASE("try_value_to and detail::decode give the same value")
    {
        const auto r = json::try_value_to<genesys::token_info>(jv);
        REQUIRE(r.has_value());
        CHECK(*r == info);
        CHECK(decode_ok<genesys::token_info>(fixtures::token_info_json) == info);
    }
}

TEST_CASE("TokenInfo: the OAuthClient key is case-sensitive with a capital O")
{
    const auto lower = decode_ok<genesys::token_info>(R"({"oauthClient":{"id":"c-1","name":"lower"}})");
    CHECK_FALSE(lower.oauth_client.has_value());

    const auto upper = decode_ok<genesys::token_info>(R"({"OAuthClient":{"id":"c-1","name":"upper"}})");
    REQUIRE(upper.oauth_client.has_value());
    CHECK(upper.oauth_client->name == "upper");
}

TEST_CASE("TokenInfo: the three-field 2018 document")
{
    const auto info = json::value_to<genesys::token_info>(json::parse(fixtures::token_info_2018_json));

    REQUIRE(info.organization.has_value());
    CHECK(*info.organization == genesys::named_entity{"o-1", "Acme"});
    REQUIRE(info.home_organization.has_value());
    CHECK(*info.home_organization == genesys::named_entity{"o-1", "Acme"});
    REQUIRE(info.oauth_client.has_value());
    CHECK(info.oauth_client->id == "c-1");
    CHECK(info.oauth_client->name == "Old client");
    REQUIRE(info.oauth_client->organization.has_value());
    CHECK(info.oauth_client->organization->id == "o-1");
    CHECK_FALSE(info.oauth_client->organization->name.has_value());

    // Fields added after 2018 are absent, not defaulted.
    CHECK_FALSE(info.authorized_scope.has_value());
    CHECK_FALSE(info.cloned_user.has_value());
    CHECK_FALSE(info.date_token_idles.has_value());
    CHECK(info.oauth_client->authorized_grant_type.empty());
    CHECK_FALSE(info.oauth_client->scope.has_value());
    CHECK_FALSE(info.oauth_client->role_divisions.has_value());
    CHECK_FALSE(info.oauth_client->state.has_value());
    CHECK_FALSE(info.oauth_client->date_created.has_value());
    CHECK_FALSE(info.oauth_client->created_by.has_value());
}

TEST_CASE("TokenInfo: an empty object gives every field absent")
{
    const auto info = json::value_to<genesys::token_info>(json::parse("{}"));
    CHECK_FALSE(info.organization.has_value());
    CHECK_FALSE(info.home_organization.has_value());
    CHECK_FALSE(info.authorized_scope.has_value());
    CHECK_FALSE(info.cloned_user.has_value());
    CHECK_FALSE(info.date_token_idles.has_value());
    CHECK_FALSE(info.oauth_client.has_value());
    CHECK(info == genesys::token_info{});

    SUBCASE("the same holds for the other models")
    {
        CHECK(json::value_to<genesys::idle_token_timeout>(json::parse("{}")) == genesys::idle_token_timeout{});
        CHECK(json::value_to<genesys::error_body>(json::parse("{}")) == genesys::error_body{});
        CHECK(json::value_to<genesys::org_oauth_client>(json::parse("{}")) == genesys::org_oauth_client{});
    }
}

TEST_CASE("TokenInfo: unknown keys are ignored at every level")
{
    constexpr std::string_view extended = R"({
      "organization": {"id": "o-1", "name": "Acme", "domain": "acme.example", "features": {"x": true}},
      "someFutureField": 42,
      "aFutureObject": {"deep": [1, 2, {"a": null}], "flag": false},
      "homeOrganization": {"id": "o-0", "name": "Home", "thirdPartyOrgName": "t"},
      "authorizedScope": ["analytics"],
      "clonedUser": {"id": "cu-1", "organization": {"id": "t-1", "name": "unexpected", "extra": [1]}, "since": "2020"},
      "dateTokenIdles": "2026-11-27T22:15:30.250Z",
      "OAuthClient": {
        "id": "c-1",
        "name": "Client",
        "description": "a field the model does not have",
        "registeredRedirectUri": ["https://example.com/cb"],
        "createdBy": {"id": "u-1", "selfUri": "/api/v2/users/u-1", "type": "user"},
        "authorizedGrantType": "CODE",
        "roleDivisions": [{"roleId": "r-1", "divisionId": "d-1", "inherited": true}],
        "scope": ["analytics"],
        "newNestedThing": {"a": {"b": [{"c": 1}]}},
        "state": "active",
        "organization": {"id": "o-1", "name": "Acme", "version": 3}
      },
      "zzz": null
    })";
    constexpr std::string_view plain = R"({
      "organization": {"id": "o-1", "name": "Acme"},
      "homeOrganization": {"id": "o-0", "name": "Home"},
      "authorizedScope": ["analytics"],
      "clonedUser": {"id": "cu-1", "organization": {"id": "t-1"}},
      "dateTokenIdles": "2026-11-27T22:15:30.250Z",
      "OAuthClient": {
        "id": "c-1",
        "name": "Client",
        "createdBy": {"id": "u-1", "selfUri": "/api/v2/users/u-1"},
        "authorizedGrantType": "CODE",
        "roleDivisions": [{"roleId": "r-1", "divisionId": "d-1"}],
        "scope": ["analytics"],
        "state": "active",
        "organization": {"id": "o-1", "name": "Acme"}
      }
    })";

    const auto r = json::try_value_to<genesys::token_info>(json::parse(extended));
    REQUIRE(r.has_value());
    const auto& info = *r;
    CHECK(info == decode_ok<genesys::token_info>(plain));

    // Spot checks that the known fields next to the unknown ones were read.
    REQUIRE(info.cloned_user.has_value());
    REQUIRE(info.cloned_user->organization.has_value());
    CHECK(info.cloned_user->organization->id == "t-1");
    REQUIRE(info.oauth_client.has_value());
    CHECK(info.oauth_client->authorized_grant_type == "CODE");
    REQUIRE(info.oauth_client->role_divisions.has_value());
    CHECK(*info.oauth_client->role_divisions == std::vector<genesys::role_division>{{"r-1", "d-1"}});

    SUBCASE("the other models ignore unknown keys too")
    {
        const auto t = decode_ok<genesys::idle_token_timeout>(
            R"({"idleTokenTimeoutSeconds":60,"newSetting":"x","inactivityTimeoutGroupBundles":[{"priority":1,"timeoutSeconds":5,"groups":[],"extra":{}}]})");
        CHECK(t.idle_token_timeout_seconds == 60);
        REQUIRE(t.inactivity_timeout_group_bundles.has_value());
        REQUIRE(t.inactivity_timeout_group_bundles->size() == 1);
        CHECK((*t.inactivity_timeout_group_bundles)[0].timeout_seconds == 5);

        const auto e = decode_ok<genesys::error_body>(
            R"({"code":"x","newField":[1],"details":[{"fieldName":"f","hint":"h"}],"limit":{"key":"k","unit":"s"}})");
        CHECK(e.code == "x");
        REQUIRE(e.details.has_value());
        REQUIRE(e.details->size() == 1);
        CHECK((*e.details)[0].field_name == "f");
        REQUIRE(e.limit.has_value());
        CHECK(e.limit->key == "k");
    }
}

TEST_CASE("TokenInfo: null fields read as absent")
{
    const auto info = decode_ok<genesys::token_info>(
        R"({"organization":null,"homeOrganization":{"id":null,"name":"n"},"authorizedScope":null,"clonedUser":null,)"
        R"("dateTokenIdles":null,"OAuthClient":{"id":null,"name":null,"authorizedGrantType":null,"scope":null,)"
        R"("roleDivisions":null,"state":null,"dateCreated":null,"organization":null}})");
    CHECK_FALSE(info.organization.has_value());
    REQUIRE(info.home_organization.has_value());
    CHECK_FALSE(info.home_organization->id.has_value());
    CHECK(info.home_organization->name == "n");
    CHECK_FALSE(info.authorized_scope.has_value());
    CHECK_FALSE(info.cloned_user.has_value());
    CHECK_FALSE(info.date_token_idles.has_value());
    REQUIRE(info.oauth_client.has_value());
    CHECK(*info.oauth_client == genesys::org_oauth_client{});
    CHECK(info.oauth_client->name.empty());
    CHECK(info.oauth_client->authorized_grant_type.empty());
}

TEST_CASE("TokenInfo: authorizedScope [] is present and empty, which differs from absent")
{
    const auto empty = json::value_to<genesys::token_info>(json::parse(R"({"authorizedScope":[]})"));
    REQUIRE(empty.authorized_scope.has_value());
    CHECK(empty.authorized_scope->empty());

    const auto absent = json::value_to<genesys::token_info>(json::parse(R"({})"));
    CHECK_FALSE(absent.authorized_scope.has_value());

    CHECK(empty != absent);

    const auto empty_client_scope = decode_ok<genesys::token_info>(R"({"OAuthClient":{"scope":[],"roleDivisions":[]}})");
    REQUIRE(empty_client_scope.oauth_client.has_value());
    REQUIRE(empty_client_scope.oauth_client->scope.has_value());
    CHECK(empty_client_scope.oauth_client->scope->empty());
    REQUIRE(empty_client_scope.oauth_client->role_divisions.has_value());
    CHECK(empty_client_scope.oauth_client->role_divisions->empty());
}

TEST_CASE("OrgOAuthClient: unknown enum-like values are kept verbatim")
{
    SUBCASE("authorizedGrantType")
    {
        for (const char* grant : {"SOMETHING-NEW", "CLIENT_CREDENTIALS", "SAML2BEARER", "CLIENT-CREDENTIALS", "code"}) {
            INFO("grant: ", grant);
            json::object o{{"name", "c"}, {"authorizedGrantType", grant}};
            const auto c = json::value_to<genesys::org_oauth_client>(json::value(o));
            CHECK(c.authorized_grant_type == grant);
        }
    }
    SUBCASE("state")
    {
        for (const char* state : {"suspended", "active", "inactive", "disabled", "ACTIVE", ""}) {
            INFO("state: ", state);
            json::object o{{"name", "c"}, {"state", state}};
            const auto c = json::value_to<genesys::org_oauth_client>(json::value(o));
            REQUIRE(c.state.has_value());
            CHECK(*c.state == state);
        }
    }
    SUBCASE("inside a full TokenInfo")
    {
        const auto info = decode_ok<genesys::token_info>(
            R"({"OAuthClient":{"name":"n","authorizedGrantType":"SOMETHING-NEW","state":"suspended"}})");
        REQUIRE(info.oauth_client.has_value());
        CHECK(info.oauth_client->authorized_grant_type == "SOMETHING-NEW");
        CHECK(info.oauth_client->state == "suspended");
    }
}

// ============================================================================================
// Malformed documents
// ============================================================================================

TEST_CASE("TokenInfo: wrong types fail with the path in describe()")
{
    SUBCASE("organization as a string")
    {
        constexpr std::string_view doc = R"({"organization":"Acme"})";
        CHECK(decode_error<genesys::token_info>(doc) == "$.organization: expected object, got string");
        check_rejected_by_value_to<genesys::token_info>(doc);
    }
    SUBCASE("scope containing a number")
    {
        constexpr std::string_view doc = R"({"OAuthClient":{"name":"c","scope":["a","b",3]}})";
        CHECK(decode_error<genesys::token_info>(doc) == "$.OAuthClient.scope[2]: expected string, got number");
        check_rejected_by_value_to<genesys::token_info>(doc);
    }
    SUBCASE("authorizedScope containing null")
    {
        constexpr std::string_view doc = R"({"authorizedScope":["a",null]})";
        CHECK(decode_error<genesys::token_info>(doc) == "$.authorizedScope[1]: expected string, got null");
        check_rejected_by_value_to<genesys::token_info>(doc);
    }
    SUBCASE("dateTokenIdles \"yesterday\"")
    {
        constexpr std::string_view doc = R"({"dateTokenIdles":"yesterday"})";
        const std::string d = decode_error<genesys::token_info>(doc);
        INFO("describe(): ", d);
        CHECK(starts_with(d, "$.dateTokenIdles: "));
        CHECK(d.find("yesterday") != std::string::npos);
        check_rejected_by_value_to<genesys::token_info>(doc);
    }
    SUBCASE("dateTokenIdles as a number")
    {
        constexpr std::string_view doc = R"({"dateTokenIdles":1795817730250})";
        const std::string d = decode_error<genesys::token_info>(doc);
        INFO("describe(): ", d);
        CHECK(starts_with(d, "$.dateTokenIdles: "));
        CHECK(d.find("got number") != std::string::npos);
        check_rejected_by_value_to<genesys::token_info>(doc);
    }
    SUBCASE("an impossible date deep inside OAuthClient")
    {
        constexpr std::string_view doc = R"({"OAuthClient":{"name":"c","dateCreated":"2023-02-29T00:00:00Z"}})";
        CHECK(starts_with(decode_error<genesys::token_info>(doc), "$.OAuthClient.dateCreated: "));
        check_rejected_by_value_to<genesys::token_info>(doc);
    }
    SUBCASE("a role division with a numeric roleId")
    {
        constexpr std::string_view doc =
            R"({"OAuthClient":{"roleDivisions":[{"roleId":"r","divisionId":"d"},{"roleId":7,"divisionId":"d"}]}})";
        CHECK(decode_error<genesys::token_info>(doc) ==
              "$.OAuthClient.roleDivisions[1].roleId: expected string, got number");
        check_rejected_by_value_to<genesys::token_info>(doc);
    }
    SUBCASE("clonedUser.organization as an array")
    {
        constexpr std::string_view doc = R"({"clonedUser":{"id":"x","organization":[]}})";
        CHECK(decode_error<genesys::token_info>(doc) == "$.clonedUser.organization: expected object, got array");
        check_rejected_by_value_to<genesys::token_info>(doc);
    }
    SUBCASE("OAuthClient.name as a bool")
    {
        constexpr std::string_view doc = R"({"OAuthClient":{"name":true}})";
        CHECK(decode_error<genesys::token_info>(doc) == "$.OAuthClient.name: expected string, got bool");
        check_rejected_by_value_to<genesys::token_info>(doc);
    }
    SUBCASE("authorizedScope as an object")
    {
        constexpr std::string_view doc = R"({"authorizedScope":{"0":"a"}})";
        CHECK(decode_error<genesys::token_info>(doc) == "$.authorizedScope: expected array, got object");
        check_rejected_by_value_to<genesys::token_info>(doc);
    }
}

TEST_CASE("Models: a top-level value that is not an object fails at $")
{
    CHECK(decode_error<genesys::token_info>("[]") == "$: expected object, got array");
    CHECK(decode_error<genesys::token_info>(R"([{"organization":{}}])") == "$: expected object, got array");
    CHECK(decode_error<genesys::token_info>(R"("token")") == "$: expected object, got string");
    CHECK(decode_error<genesys::token_info>("42") == "$: expected object, got number");
    CHECK(decode_error<genesys::token_info>("4.5") == "$: expected object, got number");
    CHECK(decode_error<genesys::token_info>("true") == "$: expected object, got bool");
    CHECK(decode_error<genesys::idle_token_timeout>("[]") == "$: expected object, got array");
    CHECK(decode_error<genesys::error_body>(R"("Internal Server Error")") == "$: expected object, got string");

    check_rejected_by_value_to<genesys::token_info>("[]");
    check_rejected_by_value_to<genesys::token_info>(R"("token")");
    check_rejected_by_value_to<genesys::token_info>("42");
    check_rejected_by_value_to<genesys::idle_token_timeout>("[1,2]");
    check_rejected_by_value_to<genesys::error_body>(R"("oops")");
}

TEST_CASE("IdleTokenTimeout: integers")
{
    using genesys::idle_token_timeout;

    SUBCASE("900 is accepted")
    {
        CHECK(decode_ok<idle_token_timeout>(R"({"idleTokenTimeoutSeconds":900})").idle_token_timeout_seconds == 900);
    }
    SUBCASE("900.0 is accepted as 900")
    {
        const auto t = json::try_value_to<idle_token_timeout>(json::parse(R"({"idleTokenTimeoutSeconds":900.0})"));
        REQUIRE(t.has_value());
        CHECK(t->idle_token_timeout_seconds == 900);
        CHECK(decode_ok<idle_token_timeout>(R"({"idleTokenTimeoutSeconds":9e2})").idle_token_timeout_seconds == 900);
    }
    SUBCASE("900.5 is rejected")
    {
        constexpr std::string_view doc = R"({"idleTokenTimeoutSeconds":900.5})";
        CHECK(starts_with(decode_error<idle_token_timeout>(doc), "$.idleTokenTimeoutSeconds: "));
        check_rejected_by_value_to<idle_token_timeout>(doc);
    }
    SUBCASE("a string is rejected")
    {
        constexpr std::string_view doc = R"({"idleTokenTimeoutSeconds":"900"})";
        CHECK(decode_error<idle_token_timeout>(doc) == "$.idleTokenTimeoutSeconds: expected integer, got string");
        check_rejected_by_value_to<idle_token_timeout>(doc);
    }
    SUBCASE("negative values and the int64 extremes are accepted")
    {
        CHECK(decode_ok<idle_token_timeout>(R"({"idleTokenTimeoutSeconds":-1})").idle_token_timeout_seconds == -1);
        CHECK(decode_ok<idle_token_timeout>(R"({"idleTokenTimeoutSeconds":9223372036854775807})")
                  .idle_token_timeout_seconds == INT64_MAX);
        CHECK(decode_ok<idle_token_timeout>(R"({"idleTokenTimeoutSeconds":-9223372036854775808})")
                  .idle_token_timeout_seconds == INT64_MIN);
    }
    SUBCASE("a uint64 beyond int64 is rejected")
    {
        for (std::string_view doc : {std::string_view(R"({"idleTokenTimeoutSeconds":9223372036854775808})"),
                                     std::string_view(R"({"idleTokenTimeoutSeconds":18446744073709551615})")}) {
            INFO("document: ", doc);
            REQUIRE(json::parse(doc).as_object().at("idleTokenTimeoutSeconds").is_uint64());
            CHECK(starts_with(decode_error<idle_token_timeout>(doc), "$.idleTokenTimeoutSeconds: "));
            check_rejected_by_value_to<idle_token_timeout>(doc);
        }
    }
    SUBCASE("a double far beyond int64 is rejected")
    {
        constexpr std::string_view doc = R"({"idleTokenTimeoutSeconds":1e300})";
        CHECK(starts_with(decode_error<idle_token_timeout>(doc), "$.idleTokenTimeoutSeconds: "));
        check_rejected_by_value_to<idle_token_timeout>(doc);
    }
    SUBCASE("a wrong type inside a group bundle reports the full path")
    {
        constexpr std::string_view doc =
            R"({"inactivityTimeoutGroupBundles":[{"priority":1,"timeoutSeconds":1,"groups":[]},{"priority":2,"timeoutSeconds":1.5,"groups":[]}]})";
        CHECK(starts_with(decode_error<idle_token_timeout>(doc), "$.inactivityTimeoutGroupBundles[1].timeoutSeconds: "));
        check_rejected_by_value_to<idle_token_timeout>(doc);
    }
    SUBCASE("a bool written as a string is rejected")
    {
        constexpr std::string_view doc = R"({"enableIdleTokenTimeout":"true"})";
        CHECK(decode_error<idle_token_timeout>(doc) == "$.enableIdleTokenTimeout: expected bool, got string");
        check_rejected_by_value_to<idle_token_timeout>(doc);
    }
}

TEST_CASE("ErrorBody: status must fit in an int")
{
    using genesys::error_body;
    CHECK(decode_ok<error_body>(R"({"status":2147483647})").status == 2147483647);
    CHECK(decode_ok<error_body>(R"({"status":-2147483648})").status == INT32_MIN);
    CHECK(decode_ok<error_body>(R"({"status":404.0})").status == 404);

    for (std::string_view doc : {std::string_view(R"({"status":2147483648})"),
                                 std::string_view(R"({"status":3000000000})"),
                                 std::string_view(R"({"status":-2147483649})"),
                                 std::string_view(R"({"status":18446744073709551615})"),
                                 std::string_view(R"({"status":404.5})")}) {
        INFO("document: ", doc);
        CHECK(starts_with(decode_error<error_body>(doc), "$.status: "));
        check_rejected_by_value_to<error_body>(doc);
    }
    CHECK(decode_error<error_body>(R"({"status":"404"})") == "$.status: expected integer, got string");
}

// ============================================================================================
// ErrorBody and IdleTokenTimeout decoding
// ============================================================================================

TEST_CASE("ErrorBody: every field, nested errors, limit and message parameters")
{
    constexpr std::string_view doc = R"({
      "message": "Value x is invalid for userId",
      "code": "bad.request",
      "status": 400,
      "entityId": "e-1",
      "entityName": "token",
      "messageWithParams": "Value {value} is invalid for {field}",
      "messageParams": {"value": "x", "field": "userId", "count": 3, "flag": true, "nothing": null, "obj": {"a": 1}, "list": [1, "b"]},
      "contextId": "corr-400",
      "details": [{"errorCode": "invalid.value", "fieldName": "userId", "entityId": "e-1", "entityName": "token"}],
      "errors": [
        {"message": "inner", "code": "invalid.value", "status": 400,
         "errors": [{"message": "innermost", "code": "deep", "details": [{"fieldName": "f"}]}]},
        {"code": "second"}
      ],
      "limit": {"key": "token.requests", "namespace": "oauth.client", "value": 300}
    })";
    const auto e = json::value_to<genesys::error_body>(json::parse(doc));

    CHECK(e.message == "Value x is invalid for userId");
    CHECK(e.code == "bad.request");
    CHECK(e.status == 400);
    CHECK(e.entity_id == "e-1");
    CHECK(e.entity_name == "token");
    CHECK(e.message_with_params == "Value {value} is invalid for {field}");
    CHECK(e.context_id == "corr-400");

    SUBCASE("messageParams: strings as they are, other values as their JSON text")
    {
        REQUIRE(e.message_params.has_value());
        const std::map<std::string, std::string> expected{
            {"value", "x"}, {"field", "userId"}, {"count", "3"},  {"flag", "true"},
            {"nothing", "null"}, {"obj", R"({"a":1})"}, {"list", R"([1,"b"])"},
        };
        CHECK(*e.message_params == expected);
    }
    SUBCASE("details")
    {
        REQUIRE(e.details.has_value());
        REQUIRE(e.details->size() == 1);
        CHECK((*e.details)[0] == genesys::error_detail{"invalid.value", "userId", "e-1", "token"});
    }
    SUBCASE("errors nest recursively")
    {
        REQUIRE(e.errors.has_value());
        REQUIRE(e.errors->size() == 2);
        const auto& inner = (*e.errors)[0];
        CHECK(inner.message == "inner");
        CHECK(inner.code == "invalid.value");
        CHECK(inner.status == 400);
        REQUIRE(inner.errors.has_value());
        REQUIRE(inner.errors->size() == 1);
        const auto& innermost = (*inner.errors)[0];
        CHECK(innermost.message == "innermost");
        CHECK(innermost.code == "deep");
        CHECK_FALSE(innermost.status.has_value());
        CHECK_FALSE(innermost.errors.has_value());
        REQUIRE(innermost.details.has_value());
        REQUIRE(innermost.details->size() == 1);
        CHECK((*innermost.details)[0].field_name == "f");
        CHECK_FALSE((*innermost.details)[0].error_code.has_value());
        CHECK((*e.errors)[1].code == "second");
        CHECK_FALSE((*e.errors)[1].message.has_value());
    }
    SUBCASE("limit: the JSON key namespace maps to namespace_")
    {
        REQUIRE(e.limit.has_value());
        CHECK(e.limit->key == "token.requests");
        CHECK(e.limit->namespace_ == "oauth.client");
        CHECK(e.limit->value == 300);
    }
}

TEST_CASE("ErrorBody: a failure inside nested errors reports the full path")
{
    CHECK(decode_error<genesys::error_body>(R"({"errors":[{"code":"a"},{"errors":[{"status":"x"}]}]})") ==
          "$.errors[1].errors[0].status: expected integer, got string");
    CHECK(decode_error<genesys::error_body>(R"({"details":[{"fieldName":["f"]}]})") ==
          "$.details[0].fieldName: expected string, got array");
    CHECK(starts_with(decode_error<genesys::error_body>(R"({"limit":{"value":1.5}})"), "$.limit.value: "));
    CHECK(decode_error<genesys::error_body>(R"({"messageParams":["a"]})") ==
          "$.messageParams: expected object, got array");
    check_rejected_by_value_to<genesys::error_body>(R"({"errors":[{"errors":[{"status":"x"}]}]})");
}

TEST_CASE("ErrorBody: the platform's 429 body")
{
    const auto e = json::value_to<genesys::error_body>(json::parse(fixtures::rate_limit_body));
    CHECK(e.message == "Rate limit exceeded the maximum. Retry the request in [42] seconds");
    CHECK(e.code == "too.many.requests.retry.after");
    CHECK(e.status == 429);
    CHECK(e.context_id == "corr-429");
    REQUIRE(e.details.has_value());
    CHECK(e.details->empty());
    REQUIRE(e.errors.has_value());
    CHECK(e.errors->empty());
    CHECK_FALSE(e.limit.has_value());
    CHECK_FALSE(e.message_params.has_value());
    CHECK_FALSE(e.message_with_params.has_value());
    CHECK_FALSE(e.entity_id.has_value());
    CHECK_FALSE(e.entity_name.has_value());
}

TEST_CASE("IdleTokenTimeout: the fixture with group bundles")
{
    const auto t = json::value_to<genesys::idle_token_timeout>(json::parse(fixtures::idle_timeout_json));
    CHECK(t.idle_token_timeout_seconds == 900);
    CHECK(t.enable_idle_token_timeout == true);
    CHECK(t.inactivity_timeout_unit == "Minutes");
    CHECK(t.inactivity_timeout_groups_enabled == true);
    REQUIRE(t.inactivity_timeout_group_bundles.has_value());
    REQUIRE(t.inactivity_timeout_group_bundles->size() == 1);
    const auto& b = (*t.inactivity_timeout_group_bundles)[0];
    CHECK(b.priority == 1);
    CHECK(b.timeout_seconds == 600);
    CHECK(b.inactivity_timeout_unit == "Minutes");
    CHECK(b.groups == std::vector<std::string>{"g-1", "g-2"});

    SUBCASE("enableIdleTokenTimeout false is present and false")
    {
        const auto off = decode_ok<genesys::idle_token_timeout>(R"({"enableIdleTokenTimeout":false})");
        REQUIRE(off.enable_idle_token_timeout.has_value());
        CHECK_FALSE(*off.enable_idle_token_timeout);
    }
}

TEST_CASE("Required fields that are absent read as empty values")
{
    SUBCASE("role_division.role_id")
    {
        const auto info = decode_ok<genesys::token_info>(R"({"OAuthClient":{"roleDivisions":[{"divisionId":"d-1"}]}})");
        REQUIRE(info.oauth_client.has_value());
        REQUIRE(info.oauth_client->role_divisions.has_value());
        REQUIRE(info.oauth_client->role_divisions->size() == 1);
        CHECK((*info.oauth_client->role_divisions)[0].role_id.empty());
        CHECK((*info.oauth_client->role_divisions)[0].division_id == "d-1");

        CHECK(json::value_to<genesys::role_division>(json::parse("{}")) == genesys::role_division{});
    }
    SUBCASE("org_oauth_client.name and authorized_grant_type")
    {
        const auto c = json::value_to<genesys::org_oauth_client>(json::parse(R"({"id":"c-1","state":"active"})"));
        CHECK(c.id == "c-1");
        CHECK(c.name.empty());
        CHECK(c.authorized_grant_type.empty());
        CHECK(c.state == "active");
    }
    SUBCASE("inactivity_timeout_group_bundle priority, timeoutSeconds and groups")
    {
        const auto t = decode_ok<genesys::idle_token_timeout>(R"({"inactivityTimeoutGroupBundles":[{}]})");
        REQUIRE(t.inactivity_timeout_group_bundles.has_value());
        REQUIRE(t.inactivity_timeout_group_bundles->size() == 1);
        CHECK((*t.inactivity_timeout_group_bundles)[0] == genesys::inactivity_timeout_group_bundle{});
        CHECK((*t.inactivity_timeout_group_bundles)[0].priority == 0);
        CHECK((*t.inactivity_timeout_group_bundles)[0].groups.empty());
    }
}

TEST_CASE("decode_context: describe() reads $.path: reason, outermost key first")
{
    genesys::detail::decode_context ctx;
    genesys::token_info out;
    const bool ok = genesys::detail::decode(json::parse(R"({"OAuthClient":{"scope":["a",{}]}})"), out, ctx);
    CHECK_FALSE(ok);
    CHECK(ctx.describe() == "$.OAuthClient.scope[1]: expected string, got object");
}

// ============================================================================================
// Lenient decoding: how the clients read the platform's answers (as the official SDKs do)
// ============================================================================================

TEST_CASE("Lenient decoding: one odd field never fails a live token's TokenInfo, the rest is kept")
{
    using genesys::token_info;

    SUBCASE("dates without a zone (UTC), with a space for T, or date-only (midnight UTC)")
    {
        const auto info = lenient_ok<token_info>(
            R"({"dateTokenIdles":"2026-11-27T22:15:30.250","OAuthClient":{"name":"c",)"
            R"("dateCreated":"2023-01-01 12:00:00","dateModified":"2024-02-29","dateToDelete":"2025-06-30 23:59:59Z"}})");
        CHECK(info.date_token_idles == at(2026, 11, 27, 22, 15, 30, 250));
        REQUIRE(info.oauth_client.has_value());
        CHECK(info.oauth_client->date_created == at(2023, 1, 1, 12));
        CHECK(info.oauth_client->date_modified == at(2024, 2, 29));
        CHECK(info.oauth_client->date_to_delete == at(2025, 6, 30, 23, 59, 59));
        // value_to reads the same dates (both modes read what parse_date_time reads).
        CHECK(json::value_to<token_info>(json::parse(R"({"dateTokenIdles":"2023-01-01"})")).date_token_idles ==
              at(2023, 1, 1));
    }
    SUBCASE("a null inside authorizedScope is skipped")
    {
        std::vector<std::string> skipped;
        const auto info = lenient_ok<token_info>(R"({"authorizedScope":[null,"a",null,"b"],"organization":{"id":"o"}})",
                                                 &skipped);
        CHECK(info.authorized_scope == std::vector<std::string>{"a", "b"});
        CHECK(info.organization == genesys::named_entity{"o", std::nullopt});
        CHECK(skipped.empty()); // null is absent, as a null field is
    }
    SUBCASE("a number or a bool where a string is expected is kept as its JSON text")
    {
        const auto info = lenient_ok<token_info>(
            R"({"organization":{"id":12345,"name":"Acme"},"authorizedScope":["a",7,true,4.5,-1],)"
            R"("OAuthClient":{"name":false,"authorizedGrantType":"CODE"}})");
        CHECK(info.organization == genesys::named_entity{"12345", "Acme"});
        CHECK(info.authorized_scope == std::vector<std::string>{"a", "7", "true", "4.5", "-1"});
        REQUIRE(info.oauth_client.has_value());
        CHECK(info.oauth_client->name == "false");
    }
    SUBCASE("a value that cannot be read is left out, and noted with its path")
    {
        std::vector<std::string> skipped;
        const auto info = lenient_ok<token_info>(
            R"({"organization":"Acme","homeOrganization":{"id":"h","name":["x"]},"authorizedScope":{"0":"a"},)"
            R"("clonedUser":{"id":"cu","organization":[]},"dateTokenIdles":"yesterday",)"
            R"("OAuthClient":{"id":"c-1","name":"n","scope":["a",{},"b"],"dateCreated":1795817730250,)"
            R"("roleDivisions":[{"roleId":"r","divisionId":"d"},7,null,{"roleId":{},"divisionId":"d2"}],)"
            R"("state":"active","organization":true}})",
            &skipped);
        CHECK_FALSE(info.organization.has_value());
        CHECK(info.home_organization == genesys::named_entity{"h", std::nullopt});
        CHECK_FALSE(info.authorized_scope.has_value());
        CHECK(info.cloned_user == genesys::token_info_cloned_user{"cu", std::nullopt});
        CHECK_FALSE(info.date_token_idles.has_value());
        REQUIRE(info.oauth_client.has_value());
        const auto& c = *info.oauth_client;
        CHECK(c.id == "c-1");
        CHECK(c.name == "n");
        CHECK(c.scope == std::vector<std::string>{"a", "b"});
        CHECK_FALSE(c.date_created.has_value());
        // The element that is not an object is dropped; a required field that cannot be read is
        // empty, as when it is missing.
        CHECK(c.role_divisions ==
              std::vector<genesys::role_division>{{"r", "d"}, {"", "d2"}});
        CHECK(c.state == "active");
        CHECK_FALSE(c.organization.has_value());

        const std::vector<std::string> expected{
            "$.organization: expected object, got string",
            "$.homeOrganization.name: expected string, got array",
            "$.authorizedScope: expected array, got object",
            "$.clonedUser.organization: expected object, got array",
            R"($.dateTokenIdles: not an ISO-8601 date-time: "yesterday")",
            "$.OAuthClient.dateCreated: expected date-time string, got number",
            "$.OAuthClient.scope[1]: expected string, got object",
            "$.OAuthClient.roleDivisions[1]: expected object, got number",
            "$.OAuthClient.roleDivisions[3].roleId: expected string, got object",
            "$.OAuthClient.organization: expected object, got bool",
        };
        CHECK(skipped == expected);
    }
    SUBCASE("through decode_model, the path of every TokenInfo the client reads")
    {
        token_info info;
        std::string why;
        CHECK(genesys::detail::decode_model(R"({"organization":"Acme","authorizedScope":["a",null],)"
                                            R"("dateTokenIdles":"2026-11-27 22:15:30"})",
                                            info, why, 32));
        CHECK(why.empty());
        CHECK_FALSE(info.organization.has_value());
        CHECK(info.authorized_scope == std::vector<std::string>{"a"});
        CHECK(info.date_token_idles == at(2026, 11, 27, 22, 15, 30));
    }
    SUBCASE("what is not a TokenInfo at all still fails")
    {
        for (std::string_view doc : {std::string_view("[]"), std::string_view(R"("token")"), std::string_view("42"),
                                     std::string_view("null")}) {
            INFO("document: ", doc);
            token_info info;
            std::string why;
            CHECK_FALSE(genesys::detail::decode_model(doc, info, why, 32));
            CHECK(starts_with(why, "$: expected object, got "));
        }
    }
}

TEST_CASE("Lenient decoding: integers and bools sent as strings")
{
    using genesys::idle_token_timeout;

    SUBCASE("a clean integer string is that integer, in optional and required fields")
    {
        const auto t = lenient_ok<idle_token_timeout>(
            R"({"idleTokenTimeoutSeconds":"900","inactivityTimeoutGroupBundles":[{"priority":"-1","timeoutSeconds":"0600","groups":["g"]}]})");
        CHECK(t.idle_token_timeout_seconds == 900);
        REQUIRE(t.inactivity_timeout_group_bundles.has_value());
        REQUIRE(t.inactivity_timeout_group_bundles->size() == 1);
        CHECK((*t.inactivity_timeout_group_bundles)[0].priority == -1);
        CHECK((*t.inactivity_timeout_group_bundles)[0].timeout_seconds == 600);
        CHECK(lenient_ok<idle_token_timeout>(R"({"idleTokenTimeoutSeconds":"9223372036854775807"})")
                  .idle_token_timeout_seconds == INT64_MAX);
    }
    SUBCASE("any other string leaves the field absent (a required one at 0), the rest kept")
    {
        for (std::string bad : {"900.0", " 900", "900 ", "+900", "9e2", "", "-", "0x10", "an hour",
                                "9223372036854775808", "-9223372036854775809"}) {
            INFO("value: \"", bad, "\"");
            std::vector<std::string> skipped;
            const auto t = lenient_ok<idle_token_timeout>(
                R"({"enableIdleTokenTimeout":true,"idleTokenTimeoutSeconds":")" + bad +
                    R"(","inactivityTimeoutGroupBundles":[{"priority":")" + bad + R"(","timeoutSeconds":5,"groups":[]}]})",
                &skipped);
            CHECK_FALSE(t.idle_token_timeout_seconds.has_value());
            CHECK(t.enable_idle_token_timeout == true);
            REQUIRE(t.inactivity_timeout_group_bundles.has_value());
            CHECK((*t.inactivity_timeout_group_bundles)[0].priority == 0);
            CHECK((*t.inactivity_timeout_group_bundles)[0].timeout_seconds == 5);
            CHECK(skipped.size() == 2);
        }
    }
    SUBCASE("fractional and out-of-range numbers leave the field absent")
    {
        for (std::string bad : {"900.5", "1e300", "9223372036854775808", "true", "[]", "{}"}) {
            INFO("value: ", bad);
            const auto t = lenient_ok<idle_token_timeout>(R"({"enableIdleTokenTimeout":false,"idleTokenTimeoutSeconds":)" +
                                                          bad + "}");
            CHECK_FALSE(t.idle_token_timeout_seconds.has_value());
            CHECK(t.enable_idle_token_timeout == false);
        }
    }
    SUBCASE("\"true\" and \"false\" are bools; other strings leave the field absent")
    {
        CHECK(lenient_ok<idle_token_timeout>(R"({"enableIdleTokenTimeout":"true"})").enable_idle_token_timeout == true);
        CHECK(lenient_ok<idle_token_timeout>(R"({"enableIdleTokenTimeout":"false"})").enable_idle_token_timeout == false);
        for (std::string bad : {"\"yes\"", "\"True\"", "1", "0", "[]"}) {
            INFO("value: ", bad);
            CHECK_FALSE(lenient_ok<idle_token_timeout>(R"({"enableIdleTokenTimeout":)" + bad + "}")
                            .enable_idle_token_timeout.has_value());
        }
    }
    SUBCASE("value_to stays strict")
    {
        check_rejected_by_value_to<idle_token_timeout>(R"({"idleTokenTimeoutSeconds":"900"})");
        check_rejected_by_value_to<idle_token_timeout>(R"({"enableIdleTokenTimeout":"true"})");
    }
}

TEST_CASE("Lenient decoding: an ErrorBody keeps the fields that parse")
{
    std::vector<std::string> skipped;
    const auto e = lenient_ok<genesys::error_body>(
        R"({"message":"m","code":"c","status":3000000000,"contextId":"corr-1","details":"none",)"
        R"("errors":[{"status":"404","code":"inner"},"oops",{"status":2147483648}],"limit":{"value":1.5,"key":"k"}})",
        &skipped);
    CHECK(e.message == "m");
    CHECK(e.code == "c");
    CHECK_FALSE(e.status.has_value());
    CHECK(e.context_id == "corr-1");
    CHECK_FALSE(e.details.has_value());
    REQUIRE(e.errors.has_value());
    REQUIRE(e.errors->size() == 2);
    CHECK((*e.errors)[0].status == 404);
    CHECK((*e.errors)[0].code == "inner");
    CHECK_FALSE((*e.errors)[1].status.has_value());
    REQUIRE(e.limit.has_value());
    CHECK(e.limit->key == "k");
    CHECK_FALSE(e.limit->value.has_value());
    CHECK(skipped == std::vector<std::string>{"$.status: integer out of range", "$.details: expected array, got string",
                                              "$.errors[1]: expected object, got string",
                                              "$.errors[2].status: integer out of range",
                                              "$.limit.value: expected integer, got fractional or out-of-range number"});
}

TEST_CASE("Lenient decoding: what a strict decoding reads, a lenient one reads the same")
{
    auto same = [](auto model, std::string_view doc) {
        INFO("document: ", doc);
        auto strict_out = model;
        auto lenient_out = model;
        genesys::detail::decode_context strict_ctx;
        genesys::detail::decode_context lenient_ctx(genesys::detail::decode_mode::lenient);
        const json::value jv = json::parse(doc);
        CHECK(genesys::detail::decode(jv, strict_out, strict_ctx));
        CHECK(genesys::detail::decode(jv, lenient_out, lenient_ctx));
        CHECK(strict_out == lenient_out);
        CHECK(lenient_ctx.skipped().empty());
    };
    same(genesys::token_info{}, fixtures::token_info_json);
    same(genesys::idle_token_timeout{}, fixtures::idle_timeout_json);
    same(genesys::error_body{}, fixtures::rate_limit_body);
}

// ============================================================================================
// Encoding
// ============================================================================================

TEST_CASE("value_from: absent optionals are omitted")
{
    CHECK(json::value_from(genesys::token_info{}) == json::value(json::object{}));
    CHECK(json::value_from(genesys::idle_token_timeout{}) == json::value(json::object{}));
    CHECK(json::value_from(genesys::error_body{}) == json::value(json::object{}));
    CHECK(json::value_from(genesys::named_entity{}) == json::value(json::object{}));

    genesys::token_info t;
    t.organization = genesys::named_entity{"o-1", std::nullopt};
    CHECK(json::value_from(t) == json::parse(R"({"organization":{"id":"o-1"}})"));

    SUBCASE("required fields are always written")
    {
        CHECK(json::value_from(genesys::role_division{}) == json::parse(R"({"roleId":"","divisionId":""})"));
        genesys::org_oauth_client c;
        c.id = "c-1";
        c.name = "Client";
        c.authorized_grant_type = "CODE";
        CHECK(json::value_from(c) == json::parse(R"({"id":"c-1","name":"Client","authorizedGrantType":"CODE"})"));
    }
}

TEST_CASE("value_from: keys as the platform spells them")
{
    genesys::token_info t;
    t.oauth_client = genesys::org_oauth_client{};
    t.oauth_client->name = "n";
    t.home_organization = genesys::named_entity{"o", "h"};
    t.cloned_user = genesys::token_info_cloned_user{"u", genesys::entity{"t"}};
    const json::value jv = json::value_from(t);
    REQUIRE(jv.is_object());
    const auto& o = jv.as_object();
    CHECK(o.contains("OAuthClient"));
    CHECK_FALSE(o.contains("oauthClient"));
    CHECK_FALSE(o.contains("oauth_client"));
    CHECK(o.contains("homeOrganization"));
    CHECK(o.contains("clonedUser"));
    CHECK(o.at("OAuthClient") == json::parse(R"({"name":"n","authorizedGrantType":""})"));

    SUBCASE("limit.namespace_ is written as namespace")
    {
        genesys::error_body e;
        e.limit = genesys::error_limit{"k", "oauth.client", 5};
        CHECK(json::value_from(e) == json::parse(R"({"limit":{"key":"k","namespace":"oauth.client","value":5}})"));
    }
    SUBCASE("selfUri, messageParams and the IdleTokenTimeout keys")
    {
        CHECK(json::value_from(genesys::domain_entity_ref{"u", std::nullopt, "/api/v2/users/u"}) ==
              json::parse(R"({"id":"u","selfUri":"/api/v2/users/u"})"));
        genesys::error_body e;
        e.message_params = std::map<std::string, std::string>{{"a", "1"}, {"b", "x"}};
        CHECK(json::value_from(e) == json::parse(R"({"messageParams":{"a":"1","b":"x"}})"));
        CHECK(json::value_from(full_idle_token_timeout()) ==
              json::parse(R"({"idleTokenTimeoutSeconds":1800,"enableIdleTokenTimeout":false,)"
                          R"("inactivityTimeoutUnit":"Hours","inactivityTimeoutGroupsEnabled":true,)"
                          R"("inactivityTimeoutGroupBundles":[)"
                          R"({"priority":1,"timeoutSeconds":600,"inactivityTimeoutUnit":"Minutes","groups":["g-1","g-2"]},)"
                          R"({"priority":2,"timeoutSeconds":7200,"groups":[]}]})"));
    }
}

TEST_CASE("value_from: dates are written as yyyy-MM-ddTHH:mm:ss.mmmZ")
{
    genesys::token_info t;
    t.date_token_idles = at(2026, 11, 27, 22, 15, 30, 250);
    CHECK(json::value_from(t) == json::parse(R"({"dateTokenIdles":"2026-11-27T22:15:30.250Z"})"));

    genesys::org_oauth_client c;
    c.date_created = at(2023, 1, 1);
    c.date_to_delete = at(1969, 12, 31, 23, 59, 59, 999);
    const json::value jv = json::value_from(c);
    CHECK(jv.at("dateCreated") == "2023-01-01T00:00:00.000Z");
    CHECK(jv.at("dateToDelete") == "1969-12-31T23:59:59.999Z");
    CHECK_FALSE(jv.as_object().contains("dateModified"));
}

TEST_CASE("value_from: present-but-empty arrays are written as []")
{
    genesys::token_info t;
    t.authorized_scope = std::vector<std::string>{};
    CHECK(json::value_from(t) == json::parse(R"({"authorizedScope":[]})"));

    genesys::error_body e;
    e.details = std::vector<genesys::error_detail>{};
    e.errors = std::vector<genesys::error_body>{};
    CHECK(json::value_from(e) == json::parse(R"({"details":[],"errors":[]})"));

    genesys::org_oauth_client c;
    c.scope = std::vector<std::string>{};
    c.role_divisions = std::vector<genesys::role_division>{};
    const json::value jv = json::value_from(c);
    CHECK(jv.at("scope") == json::array{});
    CHECK(jv.at("roleDivisions") == json::array{});

    SUBCASE("and they decode back as present and empty")
    {
        const auto back = json::value_to<genesys::token_info>(json::value_from(t));
        REQUIRE(back.authorized_scope.has_value());
        CHECK(back.authorized_scope->empty());
        CHECK(back == t);
    }
}

TEST_CASE("Round trip: value_to(value_from(m)) == m")
{
    SUBCASE("token_info with every field")
    {
        const auto t = full_token_info();
        const json::value jv = json::value_from(t);
        CHECK(jv.at("OAuthClient").at("dateToDelete") == "1969-12-31T23:59:59.999Z");
        CHECK(json::value_to<genesys::token_info>(jv) == t);
    }
    SUBCASE("token_info with only some fields")
    {
        genesys::token_info t;
        t.authorized_scope = std::vector<std::string>{"a"};
        t.date_token_idles = at(2000, 2, 29, 0, 0, 0, 1);
        CHECK(json::value_to<genesys::token_info>(json::value_from(t)) == t);
        CHECK(json::value_to<genesys::token_info>(json::value_from(genesys::token_info{})) == genesys::token_info{});
    }
    SUBCASE("idle_token_timeout")
    {
        const auto t = full_idle_token_timeout();
        CHECK(json::value_to<genesys::idle_token_timeout>(json::value_from(t)) == t);
    }
    SUBCASE("error_body with nested errors")
    {
        const auto e = full_error_body();
        const auto back = json::value_to<genesys::error_body>(json::value_from(e));
        CHECK(back == e);
        REQUIRE(back.errors.has_value());
        REQUIRE((*back.errors)[0].errors.has_value());
        CHECK((*(*back.errors)[0].errors)[0].message == "innermost");
    }
    SUBCASE("through serialized text, as a request body would travel")
    {
        const auto t = full_token_info();
        const std::string text = json::serialize(json::value_from(t));
        CHECK(text.find("\"OAuthClient\"") != std::string::npos);
        CHECK(decode_ok<genesys::token_info>(text) == t);
        const auto e = full_error_body();
        CHECK(decode_ok<genesys::error_body>(json::serialize(json::value_from(e))) == e);
    }
}

TEST_CASE("Round trip: a decoded document, encoded, decodes equal")
{
    SUBCASE("the realistic TokenInfo re-encodes to the very same document")
    {
        const json::value original = json::parse(fixtures::token_info_json);
        const auto info = json::value_to<genesys::token_info>(original);
        const json::value again = json::value_from(info);
        CHECK(again == original);
        CHECK(json::value_to<genesys::token_info>(again) == info);
    }
    SUBCASE("the 2018 TokenInfo")
    {
        const auto info = json::value_to<genesys::token_info>(json::parse(fixtures::token_info_2018_json));
        CHECK(json::value_to<genesys::token_info>(json::value_from(info)) == info);
    }
    SUBCASE("a document with unknown keys loses only the unknown keys")
    {
        const auto info = decode_ok<genesys::token_info>(
            R"({"organization":{"id":"o","name":"n","x":1},"future":[1],"OAuthClient":{"name":"c","authorizedGrantType":"NEW","y":{}}})");
        const json::value again = json::value_from(info);
        CHECK(again == json::parse(R"({"organization":{"id":"o","name":"n"},"OAuthClient":{"name":"c","authorizedGrantType":"NEW"}})"));
        CHECK(json::value_to<genesys::token_info>(again) == info);
    }
    SUBCASE("the 429 ErrorBody re-encodes to the very same document")
    {
        const json::value original = json::parse(fixtures::rate_limit_body);
        const auto e = json::value_to<genesys::error_body>(original);
        CHECK(json::value_from(e) == original);
        CHECK(json::value_to<genesys::error_body>(json::value_from(e)) == e);
    }
    SUBCASE("the IdleTokenTimeout fixture re-encodes to the very same document")
    {
        const json::value original = json::parse(fixtures::idle_timeout_json);
        const auto t = json::value_to<genesys::idle_token_timeout>(original);
        CHECK(json::value_from(t) == original);
        CHECK(json::value_to<genesys::idle_token_timeout>(json::value_from(t)) == t);
    }
    SUBCASE("dates in other spellings come back canonical and equal")
    {
        const auto info = decode_ok<genesys::token_info>(R"({"dateTokenIdles":"2026-11-27T23:15:30.250999+01:00"})");
        const json::value again = json::value_from(info);
        CHECK(again == json::parse(R"({"dateTokenIdles":"2026-11-27T22:15:30.250Z"})"));
        CHECK(json::value_to<genesys::token_info>(again) == info);
    }
}
