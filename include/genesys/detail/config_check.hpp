// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DETAIL_CONFIG_CHECK_HPP
#define GENESYS_DETAIL_CONFIG_CHECK_HPP

// Checks a client_config once, when a client is made from it.

#include <genesys/client_config.hpp>
#include <genesys/detail/ascii.hpp>
#include <genesys/detail/percent_encode.hpp>
#include <genesys/detail/retry_decision.hpp>
#include <genesys/detail/url.hpp>
#include <genesys/retry.hpp>

#include <string>
#include <string_view>

namespace genesys::detail {

/// True for a host that never leaves the machine: `localhost`, 127.0.0.0/8, `[::1]`.
constexpr bool is_loopback_host(std::string_view host) noexcept
{
    if (iequals(host, "localhost") || host == "[::1]")
        return true;
    if (!host.starts_with("127."))
        return false;
    int dots = 0, digits = 0;
    for (char c : host) {
        if (c == '.') {
            if (digits == 0 || digits > 3)
                return false;
            ++dots;
            digits = 0;
        } else if (c >= '0' && c <= '9') {
            ++digits;
        } else {
            return false;
        }
    }
    return dots == 3 && digits > 0 && digits <= 3;
}

/// Why `url` is not a usable API base URL, or an empty string. On success `normalized`
/// holds it without trailing slashes. `http://` is refused unless the host is loopback or
/// `allow_insecure_http` is set.
inline std::string base_url_problem(std::string_view url, std::string& normalized, bool allow_insecure_http = false)
{
    if (!http_scheme_tls(url))
        return "base_url must start with https:// or http://";
    if (url.find_first_of("?#") != std::string_view::npos)
        return "base_url must not have a query or a fragment";
    url_parts parts;
    if (auto why = split_url(url, parts); !why.empty())
        return "base_url " + std::string(why);
    const std::string_view host = parts.host;
    std::string_view path = parts.rest;
    if (host.empty() || host == "[]")
        return "base_url has no host";
    if (!parts.tls && !allow_insecure_http && !is_loopback_host(host))
        return "base_url uses http:// to a host that is not loopback: use https://, or set allow_insecure_http";
    // Brackets and colons only as an IPv6 literal's ("[::1]"): a name or IPv4 address has none.
    const bool ipv6 = host.front() == '[';
    for (char c : host)
        if (!is_unreserved(c) && !(ipv6 && (c == '[' || c == ']' || c == ':')))
            return "base_url host contains a character not allowed in a host name";
    if (parts.port && !parse_port(*parts.port))
        return "base_url has an invalid port";
    constexpr std::string_view path_extra = "/%!$&'()*+,;=:@";
    for (char c : path)
        if (!is_unreserved(c) && path_extra.find(c) == std::string_view::npos)
            return "base_url path contains a character that must be percent-encoded";
    while (!path.empty() && path.back() == '/')
        path.remove_suffix(1);
    normalized.assign(url.substr(0, url.size() - parts.rest.size()));
    normalized.append(path);
    return {};
}

/// Why `cfg` cannot be used, or an empty string. Never quotes the access token. With
/// `token_from_source`, the token comes per call from a token source and `access_token` must be empty.
inline std::string config_problem(const client_config& cfg, std::string& normalized_base, bool token_from_source = false)
{
    if (auto why = base_url_problem(cfg.base_url, normalized_base, cfg.allow_insecure_http); !why.empty())
        return why;
    if (token_from_source) {
        if (!cfg.access_token.empty())
            return "set access_token or token_source, not both";
    } else if (cfg.access_token.empty()) {
        return "access_token is empty";
    } else if (!is_header_value(cfg.access_token) || cfg.access_token.find(' ') != std::string::npos) {
        return "access_token contains a space or a control character";
    }
    if (auto why = retry_policy_problem(cfg.retry); !why.empty())
        return why;
    if (cfg.call_timeout.count() < 0)
        return "call_timeout must not be negative (zero: no limit)";
    if (!is_header_value(cfg.user_agent))
        return "user_agent contains a control character";
    for (const auto& h : cfg.default_headers) {
        switch (request_header_problem(h)) {
        case header_problem::none: break;
        case header_problem::name:
            return "default header name \"" + h.name.substr(0, 64) + "\" is not a valid HTTP token";
        case header_problem::framing:
            return "default_headers must not set " + h.name +
                   ": the transport frames the message and manages the connection";
        case header_problem::value: return "default header \"" + h.name + "\" has a control character in its value";
        }
        if (iequals(h.name, "Authorization"))
            return "default_headers must not set Authorization: use access_token";
    }
    return {};
}

} // namespace genesys::detail

#endif
