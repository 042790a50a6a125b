// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_IMPL_LOGGING_IPP
#define GENESYS_IMPL_LOGGING_IPP

#include <genesys/logging.hpp>

#include <string>

namespace genesys {

GENESYS_DECL std::string to_string(const log_event& e)
{
    std::string out;
    out.reserve(160 + e.url.size());
    out += e.operation;
    out += ' ';
    out += to_string(e.method);
    out += ' ';
    out += e.url;
    out += " -> ";
    out += e.status ? std::to_string(e.status) : std::string("no response");
    const auto tenths = e.duration.count() / 100;
    out += " in " + std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " ms (attempt " +
           std::to_string(e.attempt);
    if (!e.correlation_id.empty()) {
        out += ", correlation id ";
        out += e.correlation_id;
    }
    if (!e.ratelimit_count.empty() || !e.ratelimit_allowed.empty()) {
        out += ", rate limit ";
        out += e.ratelimit_count;
        out += '/';
        out += e.ratelimit_allowed;
        if (!e.ratelimit_reset.empty()) {
            out += ", reset ";
            out += e.ratelimit_reset;
            out += " s";
        }
    }
    out += ')';
    if (!e.error.empty()) {
        out += ": ";
        out += e.error;
    }
    if (!e.retry.empty()) {
        out += ": ";
        out += e.retry;
    }
    return out;
}

} // namespace genesys

#endif
