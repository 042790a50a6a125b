// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DETAIL_URL_HPP
#define GENESYS_DETAIL_URL_HPP

// The one splitter of absolute http(s) URLs: the configuration check of a base URL and the Beast
// adapters both use it, each then applying its own rules to the parts. Hand-written rather than
// Boost.URL: the core depends on Boost.JSON and Boost.System only, and these URLs are simple
// (a scheme, a host, a port, a path and query; never user-info).

#include <genesys/detail/ascii.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

namespace genesys::detail {

/// The parts of an absolute `http://` or `https://` URL, as views into it.
struct url_parts {
    bool tls = false;                     ///< `https`
    std::string_view host{};              ///< as written; an IPv6 literal with its brackets
    std::optional<std::string_view> port; ///< the text after the host's `:`, when there is one (may be empty)
    std::string_view rest{};              ///< from the first `/`, `?` or `#` after the host on
};

/// True for a URL that starts `https://`, false for `http://` (in any case), nothing for another.
constexpr std::optional<bool> http_scheme_tls(std::string_view url) noexcept
{
    if (url.size() >= 8 && iequals(url.substr(0, 8), "https://"))
        return true;
    if (url.size() >= 7 && iequals(url.substr(0, 7), "http://"))
        return false;
    return std::nullopt;
}

/** Splits `url` into scheme, host, port and the rest. The host and port are not checked further
    (what is allowed in them depends on who asks).

    @return why `url` cannot be split, as a phrase to follow "the URL" (`must start with https://
    or http://`, `must not contain user-info (user:password@host)`, `has an unterminated IPv6
    address`, `has an invalid port`), or an empty view.
*/
constexpr std::string_view split_url(std::string_view url, url_parts& out) noexcept
{
    const auto tls = http_scheme_tls(url);
    if (!tls)
        return "must start with https:// or http://";
    out.tls = *tls;
    const std::string_view rest = url.substr(*tls ? 8 : 7);
    const auto authority_end = rest.find_first_of("/?#");
    const std::string_view authority = rest.substr(0, authority_end);
    out.rest = authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
    if (authority.find('@') != std::string_view::npos)
        return "must not contain user-info (user:password@host)";
    out.port.reset();
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos)
            return "has an unterminated IPv6 address";
        out.host = authority.substr(0, close + 1);
        const std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':')
                return "has an invalid port";
            out.port = after.substr(1);
        }
    } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
        out.host = authority.substr(0, colon);
        out.port = authority.substr(colon + 1);
    } else {
        out.host = authority;
    }
    return {};
}

/// The port number `digits` spell: 1 to 65535, in at most five digits; otherwise nothing.
constexpr std::optional<std::uint16_t> parse_port(std::string_view digits) noexcept
{
    if (digits.empty() || digits.size() > 5)
        return std::nullopt;
    unsigned value = 0;
    for (char c : digits) {
        if (c < '0' || c > '9')
            return std::nullopt;
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535)
        return std::nullopt;
    return static_cast<std::uint16_t>(value);
}

} // namespace genesys::detail

#endif
