// SPDX-License-Identifier: BSL-1.0
// <genesys/detail/siphash.hpp>: SipHash-2-4-128, the keyed hash of the token validator's cache.
#include <genesys/detail/siphash.hpp>

#include <doctest/doctest.h>

#include <array>
#include <cstddef>
#include <string_view>

using genesys::detail::hash128;
using genesys::detail::siphash128;
using genesys::detail::siphash_key;

namespace {

// The reference implementation's vectors (veorq/SipHash, vectors.h, vectors_sip128): the hash of
// the bytes 00, 01, ..., n-1 for n = 0 to 63 under the key 00..0f, as {first eight bytes, last
// eight bytes} little-endian. Every tail length with zero to seven whole blocks before it.
constexpr hash128 reference[64] = {
    {0xe6a825ba047f81a3ULL, 0x930255c71472f66dULL}, {0x44af996bd8c187daULL, 0x45fc229b11597634ULL},
    {0xc75da4a48d227781ULL, 0xe4ff0af6de8ba3fcULL}, {0x4ea967520cb6709cULL, 0x51ed8529b0b6335fULL},
    {0xaf8f9c2dc16481f8ULL, 0x7955cd7b7c6e0f7dULL}, {0x886f778059876813ULL, 0x27960e69077a5254ULL},
    {0x1386208b33caee14ULL, 0x5ea1d78f30a05e48ULL}, {0x53c1dbd8beebf1a1ULL, 0x3982f01fa64ab8c0ULL},
    {0x61f55862baa9623bULL, 0xb49714f364e2830fULL}, {0xabbad90a06994426ULL, 0xed716dbb028b7fc4ULL},
    {0x56691478c30d1100ULL, 0xbafbd0f3d34754c9ULL}, {0x77666b3868c55101ULL, 0x18dce5816fdcb4a2ULL},
    {0x58f35e9066b226d6ULL, 0x25c13285f64d6382ULL}, {0x108bc0e947e26998ULL, 0xf752b9c44f9329d0ULL},
    {0x9cded766aceffc31ULL, 0x024949e45f48c77eULL}, {0x11a8b03399e99354ULL, 0xd9c3cf970fec087eULL},
    {0xbb54b067caa4e26eULL, 0x77052385bf1533fdULL}, {0x98b88d73e8063d47ULL, 0x4077e47ac466c054ULL},
    {0x8548bf23e4e526a4ULL, 0x23f7aefe81a44d29ULL}, {0xb0fa65cf31770178ULL, 0xb12e51528920d574ULL},
    {0x7390223f83fc259eULL, 0xeb3938e8a544933eULL}, {0x215a52be5a498e56ULL, 0x121d073ecd14228aULL},
    {0x9a6bd15245b5294aULL, 0xae0aff8e52109c46ULL}, {0xe0f5a9d5dd84d1c9ULL, 0x1c69bf9a9ae28ccfULL},
    {0xd850bd78ae79b42dULL, 0xad32618a178a2a88ULL}, {0x7b445e2d045fce8eULL, 0x6f8f8dcbeab95150ULL},
    {0xe807c3b3b4530b9cULL, 0x661f147886e0ae7eULL}, {0xe4eaa669af48f2abULL, 0x94eb9e122febd3bfULL},
    {0x884b576816da6406ULL, 0xf4ae587302f335b9ULL}, {0xe97d33bfc49d4baaULL, 0xb76a7c463cfdd40cULL},
    {0xde6baf1f477f5ceaULL, 0x87226d68d4d71a2bULL}, {0xfcfa233218b03929ULL, 0x353dc4524fde2317ULL},
    {0x3efcea5eca56397cULL, 0x68eb4665559d3e36ULL}, {0x321cf0467107c677ULL, 0xcfffa94e5f9db6b6ULL},
    {0xdf7e84b86c98a637ULL, 0xde549b30f1f02509ULL}, {0xf9a8a99de6f005a7ULL, 0xc88c3c922e1a2407ULL},
    {0x4648c4291f7dc43dULL, 0x11674f90ed769e1eULL}, {0x1a0efce601bf620dULL, 0x2b69d3c551473c0dULL},
    {0x9e667cca8b46038cULL, 0xb5e7be4b085efde4ULL}, {0x9c2caf3bb95b8a52ULL, 0xd92bd2d0e5cc7344ULL},
    {0xad5dc9951e306adfULL, 0xd83b91c6c80cae97ULL}, {0x397f852c90891180ULL, 0xdbb6705e289135e7ULL},
    {0xbb31c2c96a3417e6ULL, 0x5b0ccacc34ae5036ULL}, {0xaa21b7ef3734d927ULL, 0x89df5aecdc211840ULL},
    {0x785e9ced9d7d2389ULL, 0x4273cc66b1c9b1d8ULL}, {0x657d5ebf91806d4aULL, 0x4cb150a294fa8911ULL},
    {0x89aee75560f9330eULL, 0x022949cf3d0efc3fULL}, {0xd1190b722b431ce6ULL, 0x1b1563dc4bd8c88eULL},
    {0xcf82f749f5aee5f7ULL, 0x169b2608a6559037ULL}, {0x4fa5b7d00f038d43ULL, 0x03641a20adf237a8ULL},
    {0xe304bf4feed390a5ULL, 0x3f4286f2270d7e24ULL}, {0xc493fe72a1c1e25fULL, 0x38f5f9ae7cd35cb1ULL},
    {0x6eb306bd5c32972cULL, 0x7c013a8bd03d13b2ULL}, {0x94ca6b7a2214c892ULL, 0x9ed32a009f65f09fULL},
    {0x8c32d80b1150e8dcULL, 0x871d91d64108d5fbULL}, {0x1279dac78449f167ULL, 0xda832592b52be348ULL},
    {0xe94ed572cff23819ULL, 0x362a1da96f16947eULL}, {0xfe49ed46961e4874ULL, 0x8e6904163024620fULL},
    {0xd8d6a998dea5fc57ULL, 0x1d8a3d58d0386400ULL}, {0xbe1cdcef1cdeec9fULL, 0x595357d9743676d4ULL},
    {0x53f128eb000c04e3ULL, 0x40e772d8cb73ca66ULL}, {0xfe1d836a9a009776ULL, 0x7a0f6793591ca9ccULL},
    {0xa067f52123545358ULL, 0xbd5947f0a447d505ULL}, {0x4a83502f77d15051ULL, 0x7cbd3f979a063e50ULL},
};



} // namespace

TEST_CASE("siphash128: the reference vectors, for every length from 0 to 63 bytes")
{
    const siphash_key key{0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
    std::array<char, 64> bytes{};
    for (std::size_t i = 0; i < bytes.size(); ++i)
        bytes[i] = static_cast<char>(i);
    for (std::size_t n = 0; n < 64; ++n) {
        CAPTURE(n);
        CHECK(siphash128(key, std::string_view(bytes.data(), n)) == reference[n]);
    }
}

TEST_CASE("siphash128: a function of the key and the data, the random key fresh each time")
{
    const auto k1 = siphash_key::random();
    const auto k2 = siphash_key::random();
    CHECK_FALSE((k1.k0 == k2.k0 && k1.k1 == k2.k1));
    CHECK(siphash128(k1, "token") == siphash128(k1, "token"));
    CHECK_FALSE(siphash128(k1, "token") == siphash128(k1, "tokem"));
    CHECK_FALSE(siphash128(k1, "token") == siphash128(k2, "token"));
}
