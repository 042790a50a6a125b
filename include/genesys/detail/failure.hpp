// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DETAIL_FAILURE_HPP
#define GENESYS_DETAIL_FAILURE_HPP

// Building `genesys::error` values: one place decides what a failure says and what it keeps.

#include <genesys/detail/ascii.hpp>
#include <genesys/detail/body_codec.hpp>
#include <genesys/error.hpp>
#include <genesys/error_code.hpp>
#include <genesys/http.hpp>
#include <genesys/models/error_body.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace genesys::detail {

/** Appends `text` on one line: `secret` is redacted first (so a cut never leaves part of it),
    control characters become spaces, and at most `limit` bytes are kept, cut at a UTF-8 character
    boundary and followed by `...` only when something was cut. */
inline void append_one_line(std::string& out, std::string_view text, std::string_view secret,
                            std::size_t limit = 300)
{
    std::string redacted;
    if (secret.size() >= 8 && text.find(secret) != std::string_view::npos) {
        redacted.assign(text);
        redact(redacted, secret);
        text = redacted;
    }
    std::size_t keep = text.size();
    const bool cut = keep > limit;
    if (cut) {
        keep = limit;
        while (keep > 0 && (static_cast<unsigned char>(text[keep]) & 0xC0) == 0x80)
            --keep; // text[keep] continues a character that starts before the cut: drop it whole
    }
    for (char c : text.substr(0, keep)) {
        auto u = static_cast<unsigned char>(c);
        out.push_back((u < 0x20 || u == 0x7f) ? ' ' : c);
    }
    if (cut)
        out += "...";
}

/// The platform's ErrorBody in `body`, if it is one: a JSON object (after any JSON whitespace)
/// that has a `message`, `code` or `status`. Read leniently: a field that cannot be read (a
/// `status` beyond int32, a `details` that is not an array) is left out, the others are kept.
inline std::optional<error_body> parse_error_body(std::string_view body, std::size_t max_depth = 32)
{
    const auto first = body.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos || body[first] != '{')
        return std::nullopt;
    error_body out;
    std::string why;
    if (!decode_model(body, out, why, max_depth) || (!out.message && !out.code && !out.status))
        return std::nullopt;
    return out;
}

inline void append_correlation(std::string& msg, std::string_view correlation_id, std::string_view secret)
{
    if (correlation_id.empty())
        return;
    msg += " (correlation id: ";
    append_one_line(msg, correlation_id, secret, 100);
    msg += ')';
}

/// Applies `scrub` (a `void(std::string&)`) to every text `e` keeps: the one list of them, used by
/// every redaction of an error (the Tokens client's token, the OAuth client's secrets).
template <class Scrub>
void scrub_error(error& e, Scrub&& scrub)
{
    scrub(e.message);
    scrub(e.raw_body);
    scrub(e.correlation_id);
    for (auto& h : e.headers) // a server that echoes the secret back
        scrub(h.value);
    if (e.body) {
        for (auto* text : {&e.body->message, &e.body->code, &e.body->message_with_params})
            if (*text)
                scrub(**text);
    }
}

/// Removes the secret from everything the error keeps as text.
inline error finish(error e, std::string_view secret)
{
    if (secret.size() >= 8) // what `redact` would search for
        scrub_error(e, [secret](std::string& text) { redact(text, secret); });
    return e;
}

inline error invalid_argument(std::string_view operation, std::string_view what, std::string_view secret = {})
{
    error e;
    e.kind = error_kind::invalid_argument;
    e.code = make_error_code(errc::invalid_argument);
    e.operation = std::string(operation);
    e.message = e.operation + " rejected before sending: ";
    append_one_line(e.message, what, secret);
    return finish(std::move(e), secret);
}

inline error network_failure(std::string_view operation, boost::system::error_code ec, std::string_view detail_text,
                             std::string_view secret)
{
    error e;
    e.kind = error_kind::network;
    e.code = ec;
    e.operation = std::string(operation);
    e.message = e.operation + " failed: network error: " + ec.message() + " [" + ec.to_string() + "]";
    if (!detail_text.empty()) {
        e.message += ": ";
        append_one_line(e.message, detail_text, secret);
    }
    return finish(std::move(e), secret);
}

/// The part every failure with a response shares: status, correlation id, headers, the raw body
/// (secret removed) and a message that starts `"<operation> failed: HTTP <status>"` (`"<operation>
/// failed: the login host answered HTTP <status>"` with `from_login`).
inline error response_failure(error_kind kind, boost::system::error_code code, std::string_view operation,
                              http_response&& res, std::string_view secret, bool from_login = false)
{
    error e;
    e.kind = kind;
    e.code = code;
    e.operation = std::string(operation);
    e.status = res.status;
    e.correlation_id = std::string(res.headers.get(correlation_id_header).value_or(""));
    e.raw_body = std::move(res.body);
    redact(e.raw_body, secret);
    e.headers = std::move(res.headers);
    e.message = e.operation + (from_login ? " failed: the login host answered HTTP " : " failed: HTTP ") +
                std::to_string(e.status);
    return e;
}

/// Limits on what is parsed out of a response.
struct response_limits {
    std::size_t max_bytes = static_cast<std::size_t>(-1);
    std::size_t max_depth = 32;
};

/// A non-2xx response: keeps status, headers, correlation id, raw body and the parsed ErrorBody
/// (not parsed when the body is over the size limit). Its code is the status: `http_status_code`,
/// or `login_status_code` for the login host's answer to a token request (`from_login`).
inline error api_failure(std::string_view operation, http_response&& res, std::string_view secret,
                         response_limits limits = {}, bool from_login = false)
{
    const bool too_large = res.body.size() > limits.max_bytes;
    const int status = res.status;
    error e = response_failure(error_kind::api, from_login ? login_status_code(status) : http_status_code(status),
                               operation, std::move(res), secret, from_login);
    if (too_large)
        e.message += " (body of " + std::to_string(e.raw_body.size()) + " bytes, over the limit: not parsed)";
    else
        e.body = parse_error_body(e.raw_body, limits.max_depth);
    if (e.body && e.body->code) {
        e.message += ' ';
        append_one_line(e.message, *e.body->code, secret, 100);
    }
    if (e.body && e.body->message) {
        e.message += ": ";
        append_one_line(e.message, *e.body->message, secret);
    }
    append_correlation(e.message, e.correlation_id, secret);
    return finish(std::move(e), secret);
}

/// A 2xx response whose body is not `model_name`.
inline error decode_failure(std::string_view operation, std::string_view model_name, std::string_view why,
                            http_response&& res, std::string_view secret, errc code = errc::decode_failed)
{
    error e = response_failure(error_kind::decode, make_error_code(code), operation, std::move(res), secret);
    e.message += " response is not a valid ";
    e.message += model_name;
    e.message += ": ";
    append_one_line(e.message, why, secret);
    append_correlation(e.message, e.correlation_id, secret);
    return finish(std::move(e), secret);
}

/** Decodes the body of a 2xx response `res` as `model_name`: the one path of the Tokens client and
    the OAuth client from a success to its model. `decode(body, why)` fills the caller's model and
    says why it cannot.

    @return the error, or nothing: a body over `limits.max_bytes` is `errc::response_too_large`
    (not parsed), one `decode` refuses is `errc::decode_failed`. With `keep_body` false the error
    keeps no body (a token response's body holds a secret).
*/
template <class Decode>
std::optional<error> decode_success(std::string_view op, std::string_view model_name, http_response& res,
                                    response_limits limits, std::string_view secret, bool keep_body, Decode&& decode)
{
    std::string why;
    errc code = errc::decode_failed;
    if (const auto size = res.body.size(); size > limits.max_bytes) {
        why = "the body is " + std::to_string(size) + " bytes, over the limit of " + std::to_string(limits.max_bytes);
        code = errc::response_too_large;
    } else if (decode(std::string_view(res.body), why)) {
        return std::nullopt;
    }
    if (!keep_body)
        res.body.clear();
    return decode_failure(op, model_name, why, std::move(res), secret, code);
}

} // namespace genesys::detail

#endif
