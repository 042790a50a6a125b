// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DETAIL_CONFIG_CHECK_HPP
#define GENESYS_DETAIL_CONFIG_CHECK_HPP

// The checks of a configuration, made once, when a client is made from it: of URLs and retry
// policies here, and the error a bad configuration gives; of a whole `client_config` in
// <genesys/client_config.hpp> (`check`), of an `oauth_config` in <genesys/oauth_config.hpp>.

#include <genesys/detail/ascii.hpp>
#include <genesys/detail/percent_encode.hpp>
#include <genesys/detail/retry_decision.hpp>
#include <genesys/detail/url.hpp>
#include <genesys/error.hpp>
#include <genesys/error_code.hpp>
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

/** The `invalid_argument` error of a configuration of type `type` (e.g. `"client_config"`)
    that cannot be used because of `problem` (which never quotes a secret): its operation is
    `type`, its message `"invalid <type>: <problem>"` (control characters shown as spaces). */
inline error config_error(std::string_view type, std::string_view problem)
{
    error e;
    e.kind = error_kind::invalid_argument;
    e.code = make_error_code(errc::invalid_argument);
    e.operation = std::string(type);
    e.message = "invalid " + e.operation + ": ";
    for (char c : problem)
        e.message.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? ' ' : c);
    return e;
}

} // namespace genesys::detail

#endif
