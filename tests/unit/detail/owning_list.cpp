// SPDX-License-Identifier: BSL-1.0
// <genesys/detail/owning_list.hpp>: the intrusive list that holds the operations under way (the
// shared cache's lookups, the validator's registry of them).
#include <genesys/detail/owning_list.hpp>

#include <doctest/doctest.h>

#include <memory>
#include <vector>

namespace {

struct node : genesys::detail::owning_list_node<node> {
    explicit node(int v) : value(v) {}
    int value;
};

/// The values from the front (walked by taking every node out and putting them back: the list
/// has no iteration of its own).
std::vector<int> values(genesys::detail::owning_list<node>& list)
{
    std::vector<int> out;
    std::vector<std::shared_ptr<node>> taken;
    while (auto* n = list.front()) {
        out.push_back(n->value);
        taken.push_back(list.erase(*n));
    }
    for (auto it = taken.rbegin(); it != taken.rend(); ++it)
        list.push_front(std::move(*it));
    return out;
}

} // namespace

TEST_CASE("owning_list: nodes linked first, erased from anywhere, each once, held while linked")
{
    genesys::detail::owning_list<node> list;
    CHECK(list.front() == nullptr);
    std::vector<std::weak_ptr<node>> watch;
    for (int i = 0; i < 5; ++i) {
        auto n = std::make_shared<node>(i);
        watch.push_back(n);
        list.push_front(std::move(n)); // the list's is the only reference
    }
    CHECK(values(list) == std::vector<int>{4, 3, 2, 1, 0});
    for (const auto& w : watch)
        CHECK_FALSE(w.expired());

    SUBCASE("erased in the middle, at the end, at the front")
    {
        for (const int i : {2, 0, 4}) {
            auto owned = list.erase(*watch[static_cast<std::size_t>(i)].lock());
            REQUIRE(owned);
            CHECK_FALSE(owned->linked());
        }
        CHECK(values(list) == std::vector<int>{3, 1});
        CHECK(watch[2].expired()); // its reference was handed back, then dropped
        CHECK(watch[0].expired());
        CHECK(watch[4].expired());
        CHECK(watch[3].lock()->linked());
    }
    SUBCASE("a node erased twice: the second time, nothing")
    {
        auto n = watch[1].lock();
        CHECK(list.erase(*n));
        CHECK_FALSE(list.erase(*n));
        CHECK(values(list) == std::vector<int>{4, 3, 2, 0});
    }
    SUBCASE("moved: the new list holds them all, the old one none")
    {
        genesys::detail::owning_list<node> other(std::move(list));
        CHECK(list.front() == nullptr);
        CHECK(values(other) == std::vector<int>{4, 3, 2, 1, 0});
    }
    SUBCASE("destroyed: its references are dropped")
    {
        {
            genesys::detail::owning_list<node> gone(std::move(list));
        }
        for (const auto& w : watch)
            CHECK(w.expired());
    }
}
