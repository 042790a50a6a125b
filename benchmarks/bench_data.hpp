// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_BENCH_DATA_HPP
#define GENESYS_BENCH_DATA_HPP

// Data the benchmarks share, shaped as the platform sends it (platform-facts.md).

#include <string_view>

namespace bench {

/// A TokenInfo of 767 bytes: an OAuth client's token, every field the platform sends today.
inline constexpr std::string_view token_info_body =
    R"({"organization":{"id":"6f0b3c4e-8d2a-4a51-9c3e-2f1d0b7a9e55","name":"Acme Contact Centre"},)"
    R"("homeOrganization":{"id":"6f0b3c4e-8d2a-4a51-9c3e-2f1d0b7a9e55","name":"Acme Contact Centre"},)"
    R"("authorizedScope":["users:readonly","analytics","oauth:token:delete"],)"
    R"("dateTokenIdles":"2026-11-27T22:15:30.250Z",)"
    R"("OAuthClient":{"id":"9c2e4f61-3a5b-4c7d-8e9f-0a1b2c3d4e5f","name":"Agent Desktop Integration",)"
    R"("dateCreated":"2023-01-01T00:00:00.000Z","createdBy":{"id":"2b5d8e1f-4a6c-4f9e-b0d1-7c3e5a9f1b2d"},)"
    R"("authorizedGrantType":"CLIENT-CREDENTIALS","scope":["users:readonly","analytics"],)"
    R"("roleDivisions":[{"roleId":"4c1d7e2a-9b3f-4e6d-8a5c-1f2e3d4c5b6a","divisionId":"*"}],"state":"active",)"
    R"("organization":{"id":"6f0b3c4e-8d2a-4a51-9c3e-2f1d0b7a9e55","name":"Acme Contact Centre"}}})";

} // namespace bench

#endif
