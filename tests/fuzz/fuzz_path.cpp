// SPDX-License-Identifier: BSL-1.0
// libFuzzer target: a hostile user id through tokens_api::try_delete_token.
//
// Input: the user id, as is (any bytes).
//
// Invariants (a violation traps):
// - the id is rejected before sending (an invalid_argument error, nothing recorded by the
//   fake transport) exactly when it is empty, "." or "..", longer than 1024 bytes, or "me"
//   (which would address deleteTokensMe);
// - otherwise exactly one DELETE is sent, to base + "/api/v2/tokens/" + one segment made of
//   RFC 3986 unreserved characters and %XX escapes only, that percent-decodes back to the id,
//   and is never "." , ".." or "me"; the call then succeeds with the fake's 204;
// - an error message is one line (no CR, LF or other control character) and never contains
//   the access token.

#include "fuzz_check.hpp"

#include <genesys/genesys.hpp>
#include <genesys/testing/fake_transport.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>


namespace {

using fuzz::contains;
using fuzz::one_line;

constexpr std::string_view base = "https://api.mypurecloud.com";
constexpr std::string_view prefix = "/api/v2/tokens/";
constexpr std::string_view access_token = "SECRET-TOKEN-5f0c2d1e9a7b";

bool unreserved(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/// The segment percent-decoded, or nullopt when it holds anything but unreserved characters and %XX.
std::optional<std::string> decode_segment(std::string_view seg)
{
    std::string out;
    for (std::size_t i = 0; i < seg.size(); ++i) {
        if (unreserved(seg[i])) {
            out.push_back(seg[i]);
            continue;
        }
        if (seg[i] != '%' || i + 2 >= seg.size() || hex_value(seg[i + 1]) < 0 || hex_value(seg[i + 2]) < 0)
            return std::nullopt;
        out.push_back(static_cast<char>(hex_value(seg[i + 1]) * 16 + hex_value(seg[i + 2])));
        i += 2;
    }
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view id(reinterpret_cast<const char*>(data), size);
    const bool must_reject = id.empty() || id == "." || id == ".." || id.size() > 1024 || id == "me";

    genesys::testing::fake_transport fake;
    fake.respond_by_default({204, {{"ININ-Correlation-Id", "corr-1"}}, {}});
    genesys::client_config cfg;
    cfg.base_url = std::string(base);
    cfg.access_token = std::string(access_token);
    genesys::tokens_api<genesys::testing::fake_transport> api{fake, cfg};

    const auto r = api.try_delete_token(id);

    if (fake.request_count() == 0) {
        FUZZ_CHECK(!r);
        FUZZ_CHECK(r.error().kind == genesys::error_kind::invalid_argument);
        FUZZ_CHECK(r.error().code == genesys::errc::invalid_argument);
        FUZZ_CHECK(r.error().operation == "deleteToken");
        FUZZ_CHECK(one_line(r.error().message));
        FUZZ_CHECK(r.error().message.find(access_token) == std::string::npos);
        FUZZ_CHECK(must_reject);
        return 0;
    }

    FUZZ_CHECK(!must_reject);
    FUZZ_CHECK(fake.request_count() == 1);
    const genesys::http_request req = *fake.last_request();
    FUZZ_CHECK(req.method == genesys::http_method::delete_);
    FUZZ_CHECK(req.body.empty());

    const std::string_view url = req.url;
    FUZZ_CHECK(url.size() > base.size() + prefix.size());
    FUZZ_CHECK(url.substr(0, base.size()) == base);
    FUZZ_CHECK(url.substr(base.size(), prefix.size()) == prefix);
    const std::string_view segment = url.substr(base.size() + prefix.size());
    FUZZ_CHECK(segment != "." && segment != ".." && segment != "me");
    const auto decoded = decode_segment(segment);
    if (!decoded || *decoded != id)
        std::fprintf(stderr, "fuzz_path: id does not survive: %s\n", std::string(url).c_str());
    FUZZ_CHECK(decoded.has_value());
    FUZZ_CHECK(*decoded == id);

    FUZZ_CHECK(r.has_value());
    FUZZ_CHECK(r->status == 204);
    return 0;
}
