// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_TESTS_FIXTURES_HPP
#define GENESYS_TESTS_FIXTURES_HPP

// Shared test data: documents shaped as the platform sends them (platform-facts.md), and the
// whole blocking library with its fake. A unit test includes its own header first, then this one;
// against single_include/ both are the single header, so the same sources test it too.

#if defined(GENESYS_TEST_SINGLE_HEADER)
#include <genesys/tokens.hpp> // single_include/: the whole blocking library and its fake, in one file
#else
#include <genesys/genesys.hpp>
#include <genesys/testing/fake_transport.hpp>
#endif

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace fixtures {

/// A token whose appearance anywhere in output is a leak.
inline constexpr std::string_view secret_token = "SECRET-TOKEN-5f0c2d1e9a7b";

/// A realistic TokenInfo: every field the platform sends today.
inline constexpr std::string_view token_info_json = R"({
  "organization": {"id": "6f0b3c4e-8d2a-4a51-9c3e-2f1d0b7a9e55", "name": "Acme Contact Centre"},
  "homeOrganization": {"id": "6f0b3c4e-8d2a-4a51-9c3e-2f1d0b7a9e55", "name": "Acme Contact Centre"},
  "authorizedScope": ["users:readonly", "analytics", "oauth:token:delete"],
  "clonedUser": {"id": "0d6f2a31-5b7c-4e8d-9f10-1a2b3c4d5e6f", "organization": {"id": "a1b2c3d4-e5f6-4711-8899-aabbccddeeff"}},
  "dateTokenIdles": "2026-11-27T22:15:30.250Z",
  "OAuthClient": {
    "id": "9c2e4f61-3a5b-4c7d-8e9f-0a1b2c3d4e5f",
    "name": "Agent Desktop Integration",
    "dateCreated": "2023-01-01T00:00:00.000Z",
    "createdBy": {"id": "u-1", "selfUri": "/api/v2/users/u-1"},
    "authorizedGrantType": "CLIENT-CREDENTIALS",
    "scope": ["users:readonly", "analytics"],
    "roleDivisions": [{"roleId": "r-1", "divisionId": "d-1"}],
    "state": "active",
    "organization": {"id": "6f0b3c4e-8d2a-4a51-9c3e-2f1d0b7a9e55", "name": "Acme Contact Centre"}
  }
})";

/// TokenInfo as a 2018 platform sent it: three fields only.
inline constexpr std::string_view token_info_2018_json =
    R"({"organization":{"id":"o-1","name":"Acme"},"homeOrganization":{"id":"o-1","name":"Acme"},"OAuthClient":{"id":"c-1","name":"Old client","organization":{"id":"o-1"}}})";

/// The platform's 429 body and headers (platform-facts.md).
inline constexpr std::string_view rate_limit_body =
    R"({"message":"Rate limit exceeded the maximum. Retry the request in [42] seconds","code":"too.many.requests.retry.after","status":429,"contextId":"corr-429","details":[],"errors":[]})";

/// An IdleTokenTimeout with group bundles.
inline constexpr std::string_view idle_timeout_json =
    R"({"idleTokenTimeoutSeconds":900,"enableIdleTokenTimeout":true,"inactivityTimeoutUnit":"Minutes","inactivityTimeoutGroupsEnabled":true,"inactivityTimeoutGroupBundles":[{"priority":1,"timeoutSeconds":600,"inactivityTimeoutUnit":"Minutes","groups":["g-1","g-2"]}]})";

inline genesys::http_response json_response(int status, std::string_view body, std::string_view correlation_id = "corr-1")
{
    return {status,
            {{"Content-Type", "application/json"}, {"ININ-Correlation-Id", std::string(correlation_id)}},
            std::string(body)};
}

/// A wall clock (`token_validator_options::clock`) that moves only when the test says so; starts
/// at 2026-11-27T22:00:00Z. Its copies share the time.
struct manual_clock {
    using sys_clock = std::chrono::system_clock;

    std::shared_ptr<std::atomic<std::int64_t>> ms =
        std::make_shared<std::atomic<std::int64_t>>(std::int64_t(1'795'816'800) * 1000);

    void advance(std::chrono::milliseconds d) { *ms += d.count(); }
    sys_clock::time_point now() const
    {
        return sys_clock::time_point(std::chrono::duration_cast<sys_clock::duration>(std::chrono::milliseconds(ms->load())));
    }
    std::function<sys_clock::time_point()> fn() const
    {
        return [c = *this] { return c.now(); };
    }
};

} // namespace fixtures

#endif
