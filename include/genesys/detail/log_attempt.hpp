// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DETAIL_LOG_ATTEMPT_HPP
#define GENESYS_DETAIL_LOG_ATTEMPT_HPP

// The one place a `log_event` is made from an attempt: the Tokens client and the OAuth client
// both report through it, so both redact the same way.

#include <genesys/detail/ascii.hpp>
#include <genesys/detail/failure.hpp>
#include <genesys/http.hpp>
#include <genesys/logging.hpp>

#include <boost/system/error_code.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace genesys::detail {

/// Whether a log event shows the value of request header `name`: an allow-list, never `Authorization`.
inline bool logged_header(std::string_view name, const std::vector<std::string>* also) noexcept
{
    if (iequals(name, "Authorization"))
        return false;
    for (std::string_view allowed : default_logged_headers)
        if (iequals(name, allowed))
            return true;
    if (also)
        for (const auto& allowed : *also)
            if (iequals(name, allowed))
                return true;
    return false;
}

/// The text a log event shows for a network failure: the code's message, then the transport's
/// own text `what` with `secret` removed, on one line.
inline std::string network_log_text(const boost::system::error_code& ec, std::string_view what,
                                    std::string_view secret)
{
    std::string text = ec.message();
    if (!what.empty()) {
        text += ": ";
        append_one_line(text, what, secret); // redacts `what`; the code's message holds no secret
    }
    return text;
}

/// Hands `logger` the event of one attempt: request headers not allowed (`logged_header`) read
/// `[REDACTED]`. `status` and `headers` are the response's (0 and null when none came),
/// `error_text` the network failure's (`network_log_text`), `retry_note` what the retry policy did
/// after the attempt. A throwing logger is ignored.
inline void log_attempt(const logger& log, std::string_view op, const http_request& req,
                        const std::vector<std::string>* logged_headers, int attempt,
                        std::chrono::steady_clock::time_point started, int status, const http_headers* headers,
                        std::string_view error_text, std::string_view retry_note) noexcept
{
    try {
        log_event e;
        e.operation = op;
        e.method = req.method;
        e.url = req.url;
        e.request_headers.reserve(req.headers.size());
        for (const auto& h : req.headers)
            e.request_headers.add(h.name, logged_header(h.name, logged_headers) ? h.value : "[REDACTED]");
        e.attempt = attempt;
        e.duration =
            std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
        e.status = status;
        if (headers) {
            e.correlation_id = headers->get(correlation_id_header).value_or("");
            e.ratelimit_count = headers->get("inin-ratelimit-count").value_or("");
            e.ratelimit_allowed = headers->get("inin-ratelimit-allowed").value_or("");
            e.ratelimit_reset = headers->get("inin-ratelimit-reset").value_or("");
        }
        e.error = error_text;
        e.retry = retry_note;
        log(e);
    } catch (...) {
        // A logger must not change the outcome of a call (nor may building its event).
    }
}

} // namespace genesys::detail

#endif
