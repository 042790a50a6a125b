// SPDX-License-Identifier: BSL-1.0
// <genesys/validated_token.hpp>: what the validator answers for a valid token, and how it prints.
#include <genesys/validated_token.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <sstream>
#include <string>

TEST_CASE("validated_token: its accessors read the cache's entry, and it prints without the token")
{
    auto entry = std::make_shared<genesys::detail::validator_entry>();
    entry->info.organization = genesys::named_entity{.id = "org-1"};
    entry->info.oauth_client.emplace();
    entry->info.oauth_client->id = "client-1";
    entry->fetched_at = std::chrono::system_clock::time_point(std::chrono::seconds(1'780'000'000));
    entry->trusted_until = entry->fetched_at + std::chrono::seconds(60) + std::chrono::microseconds(250'999);
    const genesys::validated_token fresh(entry, false);
    const genesys::validated_token stale(entry, true);
    CHECK(fresh.info().organization->id == "org-1");
    CHECK(fresh.fetched_at() == entry->fetched_at);
    CHECK(fresh.trusted_until() == entry->trusted_until);
    CHECK_FALSE(fresh.stale());
    CHECK(stale.stale());

    std::ostringstream os;
    os << fresh;
    CHECK(os.str() == "validated_token{organization org-1, client client-1, trusted until 2026-05-28T20:27:40.250Z}");
    std::ostringstream os2;
    os2 << stale;
    CHECK(os2.str().ends_with(", stale}"));
}
