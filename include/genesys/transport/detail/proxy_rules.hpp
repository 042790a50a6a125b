// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_TRANSPORT_DETAIL_PROXY_RULES_HPP
#define GENESYS_TRANSPORT_DETAIL_PROXY_RULES_HPP

// The proxy settings of the transports that implement proxies themselves (the Boost.Beast ones):
// the proxy URL split and checked once (credentials percent-decoded, a form without them for
// messages), the `no_proxy` list matched as libcurl matches it, the conventional environment
// variables, and the loopback rule. No I/O.

#include <genesys/detail/ascii.hpp>
#include <genesys/detail/base64.hpp>
#include <genesys/detail/config_check.hpp>
#include <genesys/detail/url.hpp>
#include <genesys/error.hpp>
#include <genesys/error_code.hpp>

#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace genesys::detail {

/// A proxy to send through: where it is, how it is named in messages, and the credential sent to it.
struct proxy_endpoint {
    /// The host, lower-cased; an IPv6 literal without its brackets.
    std::string host{};
    /// The port: the URL's, or libcurl's default for a proxy, 1080.
    std::uint16_t port = 1080;
    /// True when `host` is an IPv4 or IPv6 address rather than a name.
    bool ip_literal = false;
    /// `http://host:port`: the proxy as messages name it, never with its credentials.
    std::string display{};
    /// The `Proxy-Authorization` value, `Basic base64(user:password)`, or empty without
    /// credentials. A secret: zeroed when the endpoint is destroyed.
    std::string authorization{};

    proxy_endpoint() = default;
    proxy_endpoint(const proxy_endpoint&) = default;
    proxy_endpoint& operator=(const proxy_endpoint&) = default;
    /// Copies, then zeroes the source's credential (a moved short string would leave its
    /// characters behind).
    proxy_endpoint(proxy_endpoint&& other) : proxy_endpoint(std::as_const(other)) { wipe(other.authorization); }
    proxy_endpoint& operator=(proxy_endpoint&& other)
    {
        if (this != &other) {
            wipe(authorization);
            *this = std::as_const(other);
            wipe(other.authorization);
        }
        return *this;
    }
    ~proxy_endpoint() { wipe(authorization); }
};

/// The proxy's port when its URL has none: libcurl's.
inline constexpr std::uint16_t default_proxy_port = 1080;

/// True for an IPv4 address in dotted-decimal form (four numbers of 0 to 255).
constexpr bool is_ipv4_literal(std::string_view s) noexcept
{
    int parts = 0, digits = 0, value = 0;
    for (char c : s) {
        if (c == '.') {
            if (digits == 0)
                return false;
            ++parts;
            digits = value = 0;
        } else if (c >= '0' && c <= '9') {
            if (++digits > 3)
                return false;
            value = value * 10 + (c - '0');
            if (value > 255)
                return false;
        } else {
            return false;
        }
    }
    return parts == 3 && digits > 0;
}

/// True for what can only be an IPv6 literal (without brackets): hex digits, colons and dots, with a colon.
constexpr bool looks_like_ipv6(std::string_view s) noexcept
{
    if (s.find(':') == std::string_view::npos)
        return false;
    for (char c : s) {
        const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (!hex && c != ':' && c != '.')
            return false;
    }
    return true;
}

/** True when `host` never leaves the machine: `localhost` and the names under it (`*.localhost`),
    127.0.0.0/8, `::1` (with or without brackets) and IPv4-mapped `::ffff:127.x.y.z`; a final dot
    is ignored, and so is case.

    @param host A URL's host, as written or without an IPv6 literal's brackets.
*/
constexpr bool is_loopback_proxy_target(std::string_view host) noexcept
{
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    if (host.size() > 1 && host.back() == '.')
        host.remove_suffix(1);
    constexpr std::string_view mapped = "::ffff:";
    if (host.size() > mapped.size() && iequals(host.substr(0, mapped.size()), mapped))
        host = host.substr(mapped.size());
    constexpr std::string_view under_localhost = ".localhost";
    return host == "::1" || is_loopback_host(host) ||
           (host.size() > under_localhost.size() &&
            iequals(host.substr(host.size() - under_localhost.size()), under_localhost));
}

/** True when `host` is in `no_proxy`, as libcurl reads that list: entries separated by commas,
    spaces and tabs around them ignored, case ignored; `*` matches every host; an IP address
    matches that address only; a host name matches itself and the names under it (`example.com`
    and `.example.com` both match `example.com` and `api.example.com`, not `badexample.com`). An
    IPv6 entry may be written with or without brackets. A final dot is ignored on either side.

    @param no_proxy The list.
    @param host The URL's host; an IPv6 literal with or without its brackets.
*/
constexpr bool no_proxy_matches(std::string_view no_proxy, std::string_view host) noexcept
{
    const auto strip = [](std::string_view s) {
        while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
            s.remove_prefix(1);
        while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
            s.remove_suffix(1);
        if (s.size() >= 2 && s.front() == '[' && s.back() == ']')
            s = s.substr(1, s.size() - 2);
        if (s.size() > 1 && s.back() == '.')
            s.remove_suffix(1);
        return s;
    };
    host = strip(host);
    if (host.empty())
        return false;
    const bool address = is_ipv4_literal(host) || looks_like_ipv6(host);
    while (!no_proxy.empty()) {
        const auto comma = no_proxy.find(',');
        std::string_view entry = strip(no_proxy.substr(0, comma));
        no_proxy = comma == std::string_view::npos ? std::string_view{} : no_proxy.substr(comma + 1);
        if (entry == "*")
            return true;
        if (!address) {
            while (!entry.empty() && entry.front() == '.')
                entry.remove_prefix(1);
        }
        if (entry.empty())
            continue;
        if (iequals(entry, host))
            return true;
        if (!address && host.size() > entry.size() && host[host.size() - entry.size() - 1] == '.' &&
            iequals(host.substr(host.size() - entry.size()), entry))
            return true;
    }
    return false;
}

/** `url` with the user-info (`user:password@`) removed, for a message about a proxy URL that may
    not even parse: everything between `://` (or the start) and the last `@` goes.
*/
inline std::string proxy_url_for_message(std::string_view url)
{
    const auto scheme_end = url.find("://");
    const std::size_t from = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
    const auto at = url.rfind('@');
    std::string out(url.substr(0, from));
    out.append(at == std::string_view::npos || at < from ? url.substr(from) : url.substr(at + 1));
    return out;
}

/// Decodes `%XX` escapes of `in` into `out`; false for a bad escape.
inline bool proxy_percent_decode(std::string_view in, std::string& out)
{
    out.clear();
    out.reserve(in.size()); // one allocation: no partial copy of a secret left in a freed block
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '%') {
            out.push_back(in[i]);
            continue;
        }
        const int hi = i + 1 < in.size() ? hex_digit_value(in[i + 1]) : -1;
        const int lo = i + 2 < in.size() ? hex_digit_value(in[i + 2]) : -1;
        if (hi < 0 || lo < 0)
            return false;
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
    }
    return true;
}

/// True when `s` holds a control character (below 0x20, or DEL).
constexpr bool has_control_character(std::string_view s) noexcept
{
    for (char c : s)
        if (static_cast<unsigned char>(c) < 0x20 || c == '\x7f')
            return true;
    return false;
}

/** Splits and checks a proxy URL: `http://[user[:password]@]host[:port][/]`, or the same without
    `http://` (a URL without a scheme is an http proxy, as libcurl takes it). The user-info is
    percent-decoded. `username` and `password`, each when not empty, replace the URL's user and
    password (the settings take precedence). A user name with `:` (Basic cannot carry it), a
    control character in either setting, a password without a user name: refused.

    @return Why the URL is not usable, as a phrase that names the URL without its credentials,
    or an empty string (and `out` filled in).
*/
inline std::string parse_proxy_url(std::string_view url, std::string_view username, std::string_view password,
                                   proxy_endpoint& out)
{
    if (has_control_character(url))
        return "the proxy URL contains a control character";
    if (has_control_character(username))
        return "proxy_username contains a control character";
    if (has_control_character(password))
        return "proxy_password contains a control character";
    if (username.find(':') != std::string_view::npos)
        return "proxy_username contains ':', which Basic authentication cannot carry";
    const std::string shown = "'" + proxy_url_for_message(url) + "'";
    std::string_view rest = url;
    if (const auto scheme_end = rest.find("://"); scheme_end != std::string_view::npos) {
        if (!iequals(rest.substr(0, scheme_end), "http"))
            return "the proxy URL " + shown +
                   " is not an http:// URL (the Beast transports speak plain HTTP to a proxy: no TLS to the "
                   "proxy, no SOCKS)";
        rest.remove_prefix(scheme_end + 3);
    }
    const auto authority_end = rest.find_first_of("/?#");
    const std::string_view tail = authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
    std::string_view authority = rest.substr(0, authority_end);
    if (!tail.empty() && tail != "/")
        return "the proxy URL " + shown + " has a path, a query or a fragment (or an unencoded '/' in its credentials)";

    std::string user, pass;
    bool has_userinfo = false;
    if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
        has_userinfo = true;
        const std::string_view info = authority.substr(0, at);
        authority.remove_prefix(at + 1);
        const auto colon = info.find(':');
        const bool ok = proxy_percent_decode(info.substr(0, colon), user) &&
                        (colon == std::string_view::npos || proxy_percent_decode(info.substr(colon + 1), pass));
        if (!ok) {
            wipe(user);
            wipe(pass);
            return "the proxy URL " + shown + " has a bad percent-encoding in its credentials";
        }
    }

    std::string_view host = authority;
    std::optional<std::string_view> port;
    if (!host.empty() && host.front() == '[') {
        const auto close = host.find(']');
        if (close == std::string_view::npos)
            return "the proxy URL " + shown + " has an unterminated IPv6 address";
        const std::string_view after = host.substr(close + 1);
        host = host.substr(1, close - 1);
        if (!looks_like_ipv6(host))
            return "the proxy URL " + shown + " has an invalid IPv6 address";
        if (!after.empty()) {
            if (after.front() != ':')
                return "the proxy URL " + shown + " has an invalid port";
            port = after.substr(1);
        }
        out.ip_literal = true;
    } else {
        if (const auto colon = host.rfind(':'); colon != std::string_view::npos) {
            port = host.substr(colon + 1);
            host = host.substr(0, colon);
        }
        if (host.empty())
            return "the proxy URL " + shown + " has no host";
        for (char c : host) {
            const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                            c == '.' || c == '_';
            if (!ok)
                return "the proxy URL " + shown + " has a character not allowed in a host name";
        }
        out.ip_literal = is_ipv4_literal(host);
    }
    out.port = default_proxy_port;
    if (port && !port->empty()) {
        const auto p = parse_port(*port);
        if (!p)
            return "the proxy URL " + shown + " has an invalid port";
        out.port = *p;
    }
    out.host.clear();
    for (char c : host)
        out.host.push_back(ascii_lower(c));
    out.display = "http://" + (out.host.find(':') != std::string::npos ? "[" + out.host + "]" : out.host) + ":" +
                  std::to_string(out.port);

    if (!username.empty()) {
        wipe(user);
        user.assign(username);
        has_userinfo = true;
    }
    if (!password.empty()) {
        wipe(pass);
        pass.assign(password);
        has_userinfo = true;
    }
    if (has_userinfo && user.empty() && !pass.empty()) {
        wipe(pass);
        return "proxy_password is set (or the proxy URL has a password) without a user name";
    }
    if (user.find(':') != std::string::npos) {
        wipe(user);
        wipe(pass);
        return "the proxy URL's user name contains ':' (percent-encoded), which Basic authentication cannot carry";
    }
    wipe(out.authorization);
    out.authorization.clear();
    if (has_userinfo && !(user.empty() && pass.empty())) {
        // Each buffer allocated once and zeroed before it is freed: no copy of the secret left behind.
        std::string credentials;
        credentials.reserve(user.size() + 1 + pass.size());
        credentials.append(user).append(":").append(pass);
        std::string encoded = base64_encode(credentials);
        out.authorization.reserve(6 + encoded.size());
        out.authorization.append("Basic ").append(encoded);
        wipe(encoded);
        wipe(credentials);
    }
    wipe(user);
    wipe(pass);
    return {};
}

/// Reads an environment variable; a test seam (the default is `proxy_getenv`).
using proxy_getenv_fn = const char* (*)(const char*);

/// `std::getenv`.
inline const char* proxy_getenv(const char* name) { return std::getenv(name); }

/// The first of `names` set to a non-empty value in the environment, and its name; or nothing.
inline std::optional<std::pair<std::string, std::string>> proxy_env_lookup(proxy_getenv_fn getenv,
                                                                           std::initializer_list<const char*> names)
{
    for (const char* name : names)
        if (const char* value = getenv(name); value != nullptr && *value != '\0')
            return std::pair<std::string, std::string>{name, value};
    return std::nullopt;
}

/// The settings a transport's proxy rules are made from (the fields of `beast_options` of the same names).
struct proxy_settings {
    std::string_view proxy{};
    std::string_view username{};
    std::string_view password{};
    std::string_view no_proxy{};
    bool from_environment = false;
    bool loopback = false;
};

/** Which proxy, if any, a transport sends each URL through: made once, when the transport is
    made, then read only (any thread).
*/
class proxy_rules {
public:
    proxy_rules() = default;

    /** Makes the rules from `s`, reading the environment through `getenv` when
        `s.from_environment`: for https URLs `https_proxy`, then `HTTPS_PROXY`; for http URLs
        `http_proxy` only (never `HTTP_PROXY`, as libcurl, for CGI programs); then `all_proxy`,
        `ALL_PROXY`; and when `s.no_proxy` is empty, `no_proxy` then `NO_PROXY`. `s.proxy`, when
        not empty, is used for both schemes and no proxy variable is read.

        @param who The transport, named first in a message, e.g. `"beast_transport"`.
        @throws invalid_argument_error for a proxy URL (set or from the environment) that is not
        usable: the message names the URL without its credentials, and the variable it came from.
    */
    proxy_rules(const proxy_settings& s, std::string_view who, proxy_getenv_fn getenv = &proxy_getenv)
        : loopback_(s.loopback)
    {
        if (!s.proxy.empty()) {
            https_ = make(s.proxy, s, who, "proxy");
            http_ = https_;
        } else if (s.from_environment) {
            if (auto v = proxy_env_lookup(getenv, {"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"}))
                https_ = make(v->second, s, who, "the environment variable " + v->first);
            if (auto v = proxy_env_lookup(getenv, {"http_proxy", "all_proxy", "ALL_PROXY"}))
                http_ = make(v->second, s, who, "the environment variable " + v->first);
        }
        if (has_control_character(s.no_proxy))
            fail(who, "no_proxy contains a control character", s.password);
        no_proxy_ = std::string(s.no_proxy);
        if (no_proxy_.empty() && s.from_environment) {
            if (auto v = proxy_env_lookup(getenv, {"no_proxy", "NO_PROXY"}))
                no_proxy_ = std::move(v->second);
        }
    }

    /** The proxy to reach `host` through for an https (`tls`) or http URL, or null: none set for
        the scheme, `host` in `no_proxy`, or `host` loopback (`is_loopback_proxy_target`) and
        `proxy_loopback` false.
    */
    const proxy_endpoint* for_url(bool tls, std::string_view host) const noexcept
    {
        const auto& p = tls ? https_ : http_;
        if (!p)
            return nullptr;
        if (!loopback_ && is_loopback_proxy_target(host))
            return nullptr;
        if (no_proxy_matches(no_proxy_, host))
            return nullptr;
        return &*p;
    }

    /// True when some URL may go through a proxy.
    bool any() const noexcept { return https_.has_value() || http_.has_value(); }

    /// The `no_proxy` list in use (the setting's, or the environment's).
    const std::string& no_proxy() const noexcept { return no_proxy_; }

private:
    static proxy_endpoint make(std::string_view url, const proxy_settings& s, std::string_view who,
                               const std::string& source)
    {
        proxy_endpoint e;
        std::string why = parse_proxy_url(url, s.username, s.password, e);
        if (why.empty())
            return e;
        fail(who, source + ": " + why, s.password);
    }

    [[noreturn]] static void fail(std::string_view who, std::string why, std::string_view password)
    {
        redact(why, password);
        error err;
        err.kind = error_kind::invalid_argument;
        err.code = make_error_code(errc::invalid_argument);
        err.operation = std::string(who);
        err.message = std::string(who) + ": " + why;
        throw invalid_argument_error(std::move(err));
    }

    std::optional<proxy_endpoint> https_{};
    std::optional<proxy_endpoint> http_{};
    std::string no_proxy_{};
    bool loopback_ = false;
};

} // namespace genesys::detail

#endif
