// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DETAIL_LOG_ATTEMPT_HPP
#define GENESYS_DETAIL_LOG_ATTEMPT_HPP

// The one place a `log_event` is made from an attempt: the Tokens client and the OAuth client
// both report through it, so both redact the same way.

#include <genesys/detail/ascii.hpp>
#include <genesys/detail/failure.hpp>
#include <genesys/http.hpp>
#include <genesys/logging.hpp>

#include <boost/system/result.hpp>

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

/// Hands `logger` the event of one attempt: request headers not allowed (`logged_header`) read
/// `[REDACTED]`, and `secret` is removed from the transport's error text before it is cut to one
/// line. A throwing logger is ignored.
inline void log_attempt(const logger& log, std::string_view op, const http_request& req,
                        const std::vector<std::string>* logged_headers, int attempt,
                        std::chrono::steady_clock::time_point started,
                        const boost::system::result<http_response>& sent, std::string_view what,
                        std::string_view secret) noexcept
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
        std::string error_text;
        if (sent) {
            e.status = sent->status;
            e.correlation_id = sent->headers.get(correlation_id_header).value_or("");
            e.ratelimit_count = sent->headers.get("inin-ratelimit-count").value_or("");
            e.ratelimit_allowed = sent->headers.get("inin-ratelimit-allowed").value_or("");
            e.ratelimit_reset = sent->headers.get("inin-ratelimit-reset").value_or("");
        } else {
            error_text = sent.error().message();
            if (!what.empty()) {
                error_text += ": ";
                append_one_line(error_text, what, secret); // redacts `what`; the code's message holds no secret
            }
            e.error = error_text;
        }
        log(e);
    } catch (...) {
        // A logger must not change the outcome of a call (nor may building its event).
    }
}

} // namespace genesys::detail

#endif
