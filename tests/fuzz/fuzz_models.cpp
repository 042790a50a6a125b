// libFuzzer target: tolerant decoding of the models, and their JSON round trip.
//
// Input: the first byte picks a model (token_info, idle_token_timeout, error_body,
// org_oauth_client, oauth_token); the rest is a response body for detail::decode_body.
//
// Invariants (a violation traps):
// - decode_body either succeeds, or fails and says why (a non-empty reason);
// - when it succeeds, boost::json::value_from of the result is an object that
//   boost::json::try_value_to decodes again, to an object equal to the first;
// - the serialized value_from text goes through decode_body again, to an equal object, and
//   encoding is deterministic (the second encoding serializes to the same text).

#include "fuzz_check.hpp"

#include <genesys/genesys.hpp>

#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>


namespace {

template <class T>
void round_trip(std::string_view body)
{
    T decoded{};
    std::string why;
    if (!genesys::detail::decode_body(body, decoded, why)) {
        FUZZ_CHECK(!why.empty());
        return;
    }

    const boost::json::value encoded = boost::json::value_from(decoded);
    FUZZ_CHECK(encoded.is_object());

    const auto again = boost::json::try_value_to<T>(encoded);
    if (!again)
        std::fprintf(stderr, "fuzz_models: value_to rejects value_from's output: %s\n",
                     boost::json::serialize(encoded).c_str());
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(*again == decoded);

    const std::string text = boost::json::serialize(encoded);
    T reparsed{};
    std::string why_again;
    const bool reparsed_ok = genesys::detail::decode_body(text, reparsed, why_again);
    if (!reparsed_ok)
        std::fprintf(stderr, "fuzz_models: decode_body rejects %s: %s\n", text.c_str(), why_again.c_str());
    FUZZ_CHECK(reparsed_ok);
    FUZZ_CHECK(reparsed == decoded);
    FUZZ_CHECK(boost::json::serialize(boost::json::value_from(reparsed)) == text);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0)
        return 0;
    const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 5) {
    case 0: round_trip<genesys::token_info>(body); break;
    case 1: round_trip<genesys::idle_token_timeout>(body); break;
    case 2: round_trip<genesys::error_body>(body); break;
    case 3: round_trip<genesys::org_oauth_client>(body); break;
    case 4: round_trip<genesys::oauth_token>(body); break;
    }
    return 0;
}
