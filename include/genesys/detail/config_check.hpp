#ifndef GENESYS_DETAIL_CONFIG_CHECK_HPP
#define GENESYS_DETAIL_CONFIG_CHECK_HPP

// Checks a client_config once, when a client is made from it.

#include <genesys/client_config.hpp>
#include <genesys/detail/ascii.hpp>
#include <genesys/detail/percent_encode.hpp>
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
    std::size_t scheme_len = 0;
    if (url.size() >= 8 && iequals(url.substr(0, 8), "https://"))
        scheme_len = 8;
    else if (url.size() >= 7 && iequals(url.substr(0, 7), "http://"))
        scheme_len = 7;
    else
        return "base_url must start with https:// or http://";
    if (url.find_first_of("?#") != std::string_view::npos)
        return "base_url must not have a query or a fragment";
    std::string_view rest = url.substr(scheme_len);
    std::string_view authority = rest.substr(0, rest.find('/'));
    std::string_view path = rest.substr(authority.size());
    if (authority.find('@') != std::string_view::npos)
        return "base_url must not contain user-info (user:password@host)";
    std::string_view host = authority;
    std::string_view port;
    if (!host.empty() && host.front() == '[') {
        auto close = host.find(']');
        if (close == std::string_view::npos)
            return "base_url has an unterminated IPv6 address";
        port = host.substr(close + 1);
        host = host.substr(0, close + 1);
        if (!port.empty() && port.front() != ':')
            return "base_url has an invalid port";
    } else if (auto colon = host.find(':'); colon != std::string_view::npos) {
        port = host.substr(colon);
        host = host.substr(0, colon);
    }
    if (host.empty() || host == "[]")
        return "base_url has no host";
    if (scheme_len == 7 && !allow_insecure_http && !is_loopback_host(host))
        return "base_url uses http:// to a host that is not loopback: use https://, or set allow_insecure_http";
    for (char c : host)
        if (!is_unreserved(c) && c != '[' && c != ']' && c != ':')
            return "base_url host contains a character not allowed in a host name";
    if (!port.empty()) {
        port.remove_prefix(1);
        if (port.empty() || port.size() > 5)
            return "base_url has an invalid port";
        unsigned value = 0;
        for (char c : port) {
            if (c < '0' || c > '9')
                return "base_url has an invalid port";
            value = value * 10 + static_cast<unsigned>(c - '0');
        }
        if (value == 0 || value > 65535)
            return "base_url has an invalid port";
    }
    constexpr std::string_view path_extra = "/%!$&'()*+,;=:@";
    for (char c : path)
        if (!is_unreserved(c) && path_extra.find(c) == std::string_view::npos)
            return "base_url path contains a character that must be percent-encoded";
    while (!path.empty() && path.back() == '/')
        path.remove_suffix(1);
    normalized.assign(url.substr(0, scheme_len + authority.size()));
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
        if (!is_header_name(h.name))
            return "default header name \"" + h.name.substr(0, 64) + "\" is not a valid HTTP token";
        if (iequals(h.name, "Authorization"))
            return "default_headers must not set Authorization: use access_token";
        if (is_framing_header(h.name))
            return "default_headers must not set " + h.name +
                   ": the transport frames the message and manages the connection";
        if (!is_header_value(h.value))
            return "default header \"" + h.name + "\" has a control character in its value";
    }
    return {};
}

} // namespace genesys::detail

#endif
