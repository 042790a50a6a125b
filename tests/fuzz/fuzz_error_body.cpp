// SPDX-License-Identifier: BSL-1.0
// libFuzzer target: an error response's body, with a secret planted in it.
//
// Input: two bytes (big-endian) give the position at which the fixed secret is inserted into
// the body (modulo the body's length + 1); one byte of flags picks the status and the
// correlation-id header; the rest is the body.
//
// Invariants (a violation traps):
// - detail::parse_error_body returns a value only for a body whose first character after any
//   JSON whitespace is '{' and that has a message, code or status; and it returns one for every
//   JSON object (nested at most 32 levels) with a string message or code, whatever its other
//   fields hold (they are read leniently);
// - detail::api_failure(op, response, secret) makes an api error with the response's status and
//   correlation id (any secret in it redacted), whose message starts "<op> failed: HTTP <status>" and is one line (no CR, LF
//   or other control character), whose raw_body is the body with the secret replaced by
//   [REDACTED], and whose parsed body is parse_error_body(raw_body);
// - neither error.message nor error.raw_body contains the secret.

#include "fuzz_check.hpp"

#include <genesys/genesys.hpp>

#include <boost/json.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>


namespace {

using fuzz::contains;
using fuzz::one_line;

constexpr std::string_view secret = "SECRET-TOKEN-5f0c2d1e9a7b";
constexpr std::string_view operation = "getTokensMe";
constexpr std::array<int, 16> statuses{400, 401, 403, 404, 408, 409, 413, 415, 429, 500, 503, 504, 0, 199, 302, 999};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 3)
        return 0;
    const std::size_t where = (static_cast<std::size_t>(data[0]) << 8) | data[1];
    const std::uint8_t flags = data[2];
    const std::string_view input(reinterpret_cast<const char*>(data) + 3, size - 3);
    const std::size_t pos = where % (input.size() + 1);

    std::string body;
    body.reserve(input.size() + secret.size());
    body.append(input.substr(0, pos));
    body.append(secret);
    body.append(input.substr(pos));

    // parse_error_body on its own.
    const auto parsed = genesys::detail::parse_error_body(body);
    const auto first = body.find_first_not_of(" \t\r\n");
    if (parsed) {
        FUZZ_CHECK(first != std::string::npos && body[first] == '{');
        FUZZ_CHECK(parsed->message || parsed->code || parsed->status);
    }
    {
        boost::json::parse_options options;
        options.max_depth = 32;
        boost::system::error_code ec;
        const boost::json::value jv = boost::json::parse(body, ec, {}, options);
        if (!ec && jv.is_object()) {
            const auto& o = jv.get_object();
            const auto* message = o.if_contains("message");
            const auto* code = o.if_contains("code");
            if ((message && message->is_string()) || (code && code->is_string()))
                FUZZ_CHECK(parsed.has_value());
        }
    }

    // api_failure, as every operation builds it for a non-2xx response.
    const int status = statuses[flags & 0x0f];
    genesys::http_response res{status, {{"Content-Type", "application/json"}}, body};
    std::string correlation;
    if (flags & 0x10) {
        correlation = (flags & 0x20) ? "corr-" + std::string(secret) : std::string("corr-429");
        res.headers.add((flags & 0x40) ? "inin-correlation-id" : "ININ-Correlation-Id", correlation);
    }

    const genesys::error e = genesys::detail::api_failure(operation, std::move(res), secret);

    FUZZ_CHECK(e.kind == genesys::error_kind::api);
    FUZZ_CHECK(e.code == genesys::http_status_code(e.status));
    FUZZ_CHECK(e.operation == operation);
    FUZZ_CHECK(e.status == status);
    // The correlation id is kept, with a secret a server might echo into it redacted.
    std::string expected_correlation = correlation;
    genesys::detail::redact(expected_correlation, secret);
    FUZZ_CHECK(e.correlation_id == expected_correlation);
    FUZZ_CHECK(!contains(e.correlation_id, secret));
    FUZZ_CHECK(e.message.rfind(std::string(operation) + " failed: HTTP " + std::to_string(status), 0) == 0);
    FUZZ_CHECK(one_line(e.message));
    FUZZ_CHECK(!contains(e.message, secret));
    FUZZ_CHECK(!contains(e.raw_body, secret));

    std::string expected_raw = body;
    genesys::detail::redact(expected_raw, secret);
    FUZZ_CHECK(e.raw_body == expected_raw);
    FUZZ_CHECK(e.body == genesys::detail::parse_error_body(e.raw_body));
    return 0;
}
