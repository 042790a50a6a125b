// SPDX-License-Identifier: BSL-1.0
// libFuzzer target: tolerant decoding of the models, and their JSON round trip.
//
// Input: the first byte picks a model (token_info, idle_token_timeout, error_body,
// org_oauth_client, oauth_token); the rest is a response body for detail::decode_body, decoded
// in both modes (strict, as value_to and the OAuth bodies; lenient, as the Tokens API's answers).
//
// Invariants (a violation traps):
// - decode_body either succeeds, or fails and says why (a non-empty reason);
// - the lenient mode fails only for a body that is not a JSON object (not JSON, nested deeper
//   than 32 levels, or another JSON value); what the strict mode decodes, the lenient mode
//   decodes to an equal object;
// - when either succeeds, boost::json::value_from of the result is an object that
//   boost::json::try_value_to (strict) decodes again, to an object equal to the first;
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

/// A JSON object nested at most 32 levels deep: what the lenient mode always decodes.
bool json_object(std::string_view body)
{
    boost::json::parse_options options;
    options.max_depth = 32;
    boost::system::error_code ec;
    const boost::json::value jv = boost::json::parse(body, ec, {}, options);
    return !ec && jv.is_object();
}

template <class T>
void check_encoding(const T& decoded)
{
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

template <class T>
void round_trip(std::string_view body)
{
    T strict{};
    std::string why;
    const bool strict_ok = genesys::detail::decode_body(body, strict, why);
    if (strict_ok)
        check_encoding(strict);
    else
        FUZZ_CHECK(!why.empty());

    T lenient{};
    std::string lenient_why;
    const bool lenient_ok =
        genesys::detail::decode_body(body, lenient, lenient_why, 32, genesys::detail::decode_mode::lenient);
    if (!lenient_ok) {
        FUZZ_CHECK(!lenient_why.empty());
        FUZZ_CHECK(!strict_ok);
        if (json_object(body))
            std::fprintf(stderr, "fuzz_models: the lenient mode rejects a JSON object: %s\n", lenient_why.c_str());
        FUZZ_CHECK(!json_object(body));
        return;
    }
    if (strict_ok)
        FUZZ_CHECK(lenient == strict);
    check_encoding(lenient);
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
