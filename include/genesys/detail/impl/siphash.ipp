// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DETAIL_IMPL_SIPHASH_IPP
#define GENESYS_DETAIL_IMPL_SIPHASH_IPP

#include <genesys/detail/siphash.hpp>

#include <cstdint>
#include <random>

namespace genesys::detail {

GENESYS_DECL siphash_key siphash_key::random()
{
    std::random_device rd;
    auto word = [&] { return (std::uint64_t(rd()) << 32) ^ std::uint64_t(rd()); };
    siphash_key k;
    k.k0 = word();
    k.k1 = word();
    return k;
}

} // namespace genesys::detail

#endif
