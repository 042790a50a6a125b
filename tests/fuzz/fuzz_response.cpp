// SPDX-License-Identifier: BSL-1.0
// libFuzzer target: whatever a server answers, through every operation.
//
// Input (read with FuzzedDataProvider): a status (any int, biased to 100..599), up to four
// headers, whether and where to plant the access token or the OAuth client secret in the body,
// and the body. A genesys::testing::fake_transport answers every request with that response;
// each operation of tokens_api (try_delete_token, try_delete_tokens_me, try_get_tokens_me,
// try_head_tokens_me, try_get_tokens_timeout, try_put_tokens_timeout), try_verify_token and
// oauth_client::try_client_credentials is called through its non-throwing form.
//
// Invariants (a violation traps):
// - no exception escapes a non-throwing call;
// - a 2xx result is a success, or (for operations with a response model) a decode error,
//   never an api error; a success carries the response's status and headers; the Tokens API's
//   models are read leniently, so a 2xx JSON object (nested at most 32 levels) always decodes;
// - a non-2xx result is an api error with that status, never a success; except
//   try_verify_token, for which 401 is a success holding false (and 2xx one holding true);
// - the access token (tokens_api) and the client secret (oauth_client) never appear in an
//   error's message or raw_body; every error message is one line (no CR, LF or other
//   control character);
// - a decode error of the token request keeps no body (it may hold a token);
//   a client_credentials success has a non-empty access_token.

#include "fuzz_check.hpp"

#include <genesys/genesys.hpp>
#include <genesys/testing/fake_transport.hpp>

#include <boost/json.hpp>
#include <fuzzer/FuzzedDataProvider.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>


namespace {

using fuzz::contains;
using fuzz::one_line;

constexpr std::string_view access_token = "SECRET-TOKEN-5f0c2d1e9a7b";
constexpr std::string_view client_secret = "CLIENT-SECRET-8c1d2e3f4a5b";
constexpr std::array<std::string_view, 6> header_names{"ININ-Correlation-Id", "inin-correlation-id", "Retry-After",
                                                      "Content-Type", "inin-ratelimit-count", "X-Fuzz"};

void report(std::string_view what, const genesys::error& e)
{
    std::fprintf(stderr, "fuzz_response: %.*s: kind=%d status=%d message=%s\n", static_cast<int>(what.size()),
                 what.data(), static_cast<int>(e.kind), e.status, e.message.c_str());
}

/// The invariants every error shares, whoever made it.
void check_error(std::string_view what, const genesys::error& e, std::string_view secret)
{
    if (contains(e.message, secret) || contains(e.raw_body, secret) || !one_line(e.message))
        report(what, e);
    FUZZ_CHECK(!contains(e.message, secret));
    FUZZ_CHECK(!contains(e.raw_body, secret));
    FUZZ_CHECK(one_line(e.message));
}

/// A JSON object nested at most 32 levels deep (the default `max_json_depth`).
bool json_object(std::string_view body)
{
    boost::json::parse_options options;
    options.max_depth = 32;
    boost::system::error_code ec;
    const boost::json::value jv = boost::json::parse(body, ec, {}, options);
    return !ec && jv.is_object();
}

/// The invariants of an operation's result for `res` (`has_model`: a 2xx body must decode).
template <class R>
void check_result(std::string_view what, const R& r, const genesys::http_response& res, bool has_model,
                  std::string_view secret)
{
    const bool ok_status = res.status >= 200 && res.status <= 299;
    if (r) {
        FUZZ_CHECK(ok_status);
        FUZZ_CHECK(r->status == res.status);
        FUZZ_CHECK(r->headers == res.headers);
        return;
    }
    const genesys::error& e = r.error();
    check_error(what, e, secret);
    if (ok_status) {
        if (!has_model || e.kind != genesys::error_kind::decode)
            report(what, e);
        FUZZ_CHECK(has_model);
        FUZZ_CHECK(e.kind == genesys::error_kind::decode);
    } else {
        if (e.kind != genesys::error_kind::api)
            report(what, e);
        FUZZ_CHECK(e.kind == genesys::error_kind::api);
        // The login host's refusals have their own category, so a refused grant is never taken
        // for a refused API call (condition::login_failed).
        FUZZ_CHECK(e.code == (what == "requestToken" ? genesys::login_status_code(e.status)
                                                     : genesys::http_status_code(e.status)));
    }
    FUZZ_CHECK(e.status == res.status);
}

void run(const genesys::http_response& res)
{
    using genesys::testing::fake_transport;
    const bool ok_status = res.status >= 200 && res.status <= 299;

    fake_transport fake;
    fake.respond_by_default(res);
    genesys::client_config cfg;
    cfg.access_token = std::string(access_token);
    genesys::tokens_api<fake_transport> api{fake, cfg};

    check_result("deleteToken", api.try_delete_token("0d6f2a31-5b7c-4e8d-9f10-1a2b3c4d5e6f"), res, false,
                 access_token);
    check_result("deleteTokensMe", api.try_delete_tokens_me(), res, false, access_token);
    const auto me = api.try_get_tokens_me();
    check_result("getTokensMe", me, res, true, access_token);
    check_result("getTokensMe(preserveIdleTTL)", api.try_get_tokens_me(true), res, true, access_token);
    check_result("headTokensMe", api.try_head_tokens_me(), res, false, access_token);
    const auto timeout = api.try_get_tokens_timeout();
    check_result("getTokensTimeout", timeout, res, true, access_token);
    if (ok_status && json_object(res.body)) {
        if (!me)
            report("getTokensMe of a JSON object", me.error());
        if (!timeout)
            report("getTokensTimeout of a JSON object", timeout.error());
        FUZZ_CHECK(me.has_value() && timeout.has_value());
    }
    genesys::idle_token_timeout settings;
    settings.enable_idle_token_timeout = true;
    settings.idle_token_timeout_seconds = 900;
    check_result("putTokensTimeout", api.try_put_tokens_timeout(settings), res, true, access_token);
    FUZZ_CHECK(fake.request_count() == 7);

    const auto verified = api.try_verify_token();
    if (ok_status) {
        FUZZ_CHECK(verified && verified->data);
    } else if (res.status == 401) {
        FUZZ_CHECK(verified && !verified->data);
    } else {
        FUZZ_CHECK(!verified);
        check_error("verifyToken", verified.error(), access_token);
        FUZZ_CHECK(verified.error().kind == genesys::error_kind::api);
        FUZZ_CHECK(verified.error().status == res.status);
    }
    if (verified) {
        FUZZ_CHECK(verified->status == res.status);
        // A 401 verdict comes from the error, whose header values have the token redacted.
        genesys::http_headers expected = res.headers;
        if (res.status == 401)
            for (auto& h : expected)
                genesys::detail::redact(h.value, access_token);
        FUZZ_CHECK(verified->headers == expected);
    }

    genesys::oauth_config login_cfg;
    login_cfg.client_id = "9c2e4f61-3a5b-4c7d-8e9f-0a1b2c3d4e5f";
    login_cfg.client_secret = std::string(client_secret);
    genesys::oauth_client<fake_transport> login{fake, login_cfg};
    const auto token = login.try_client_credentials();
    check_result("requestToken", token, res, true, client_secret);
    if (token)
        FUZZ_CHECK(!token->data.access_token.empty());
    else if (token.error().kind == genesys::error_kind::decode)
        FUZZ_CHECK(token.error().raw_body.empty());
    FUZZ_CHECK(fake.request_count() == 9);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    FuzzedDataProvider in(data, size);
    genesys::http_response res;
    res.status = in.ConsumeBool() ? in.ConsumeIntegralInRange<int>(100, 599) : in.ConsumeIntegral<int>();
    const int header_count = in.ConsumeIntegralInRange<int>(0, 4);
    for (int i = 0; i < header_count; ++i) {
        std::string name(header_names[in.ConsumeIntegralInRange<std::size_t>(0, header_names.size() - 1)]);
        std::string value = in.ConsumeRandomLengthString(64);
        switch (in.ConsumeIntegralInRange<int>(0, 2)) {
        case 1: value += access_token; break;
        case 2: value += client_secret; break;
        default: break;
        }
        res.headers.add(std::move(name), std::move(value));
    }
    const int plant = in.ConsumeIntegralInRange<int>(0, 2);
    const auto where = in.ConsumeIntegral<std::uint16_t>();
    res.body = in.ConsumeRemainingBytesAsString();
    if (plant != 0)
        res.body.insert(where % (res.body.size() + 1), std::string(plant == 1 ? access_token : client_secret));

    try {
        run(res);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "fuzz_response: exception escaped a non-throwing call: %s\n", e.what());
        __builtin_trap();
    } catch (...) {
        std::fprintf(stderr, "fuzz_response: exception escaped a non-throwing call\n");
        __builtin_trap();
    }
    return 0;
}
