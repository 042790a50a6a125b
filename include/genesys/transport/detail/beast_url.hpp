// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_TRANSPORT_DETAIL_BEAST_URL_HPP
#define GENESYS_TRANSPORT_DETAIL_BEAST_URL_HPP

// The Boost.Beast transports' view of a URL: host, port, target and whether the host is an
// address, on top of the library's one URL splitter (<genesys/detail/url.hpp>).

#include <genesys/detail/ascii.hpp>
#include <genesys/detail/url.hpp>

#include <boost/asio/ip/address.hpp>
#include <boost/system/errc.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace genesys::detail {

/// The parts of an absolute `http://` or `https://` URL that a connection and a request line need.
struct beast_url {
    /// True for `https`.
    bool tls = false;
    /// The host, lower-cased; an IPv6 literal without its brackets.
    std::string host{};
    /// The explicit port, or the scheme's default (80, 443).
    std::uint16_t port = 0;
    /// The request target: path and query, at least `"/"`. A fragment is dropped.
    std::string target{};
    /// True when `host` is an IPv4 or IPv6 address rather than a name.
    bool ip_literal = false;

    friend bool operator==(const beast_url&, const beast_url&) = default;
};

/// The scheme's default port.
constexpr std::uint16_t beast_default_port(bool tls) noexcept { return tls ? 443 : 80; }

/// `host[:port]` as the `Host` field spells it: an IPv6 literal in brackets, no port when it is the default.
inline std::string beast_host_field(const beast_url& u)
{
    std::string s = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
    if (u.port != beast_default_port(u.tls))
        s += ":" + std::to_string(u.port);
    return s;
}

/** Splits an absolute URL into scheme, host, port and target.

    Accepts `http://` and `https://` (any case), a host name (letters, digits, `-`, `.`, `_`), an
    IPv4 address or a bracketed IPv6 address, an optional port (1 to 65535; empty means the
    default) and a path and query of printable ASCII. User-info, a zone id, an empty host, a bad
    port, and spaces or control characters anywhere fail with `errc::invalid_argument`.
*/
inline boost::system::result<beast_url> parse_beast_url(std::string_view url)
{
    const auto bad = [] { return boost::system::errc::make_error_code(boost::system::errc::invalid_argument); };
    beast_url u;
    url_parts parts;
    if (!split_url(url, parts).empty())
        return bad();
    u.tls = parts.tls;
    std::string_view host = parts.host;
    std::string_view tail = parts.rest;
    if (!host.empty() && host.front() == '[') {
        host = host.substr(1, host.size() - 2);
        if (host.empty() || host.find('%') != std::string_view::npos)
            return bad();
        boost::system::error_code ec;
        boost::asio::ip::make_address_v6(std::string(host), ec);
        if (ec)
            return bad();
        u.ip_literal = true;
    } else {
        if (host.empty())
            return bad();
        for (char c : host) {
            const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                            c == '.' || c == '_';
            if (!ok)
                return bad();
        }
    }
    u.host.reserve(host.size());
    for (char c : host)
        u.host.push_back(ascii_lower(c));
    if (!u.ip_literal) {
        boost::system::error_code ec;
        boost::asio::ip::make_address_v4(u.host, ec);
        u.ip_literal = !ec;
    }

    if (!parts.port || parts.port->empty()) {
        u.port = beast_default_port(u.tls);
    } else if (auto port = parse_port(*parts.port)) {
        u.port = *port;
    } else {
        return bad();
    }

    tail = tail.substr(0, tail.find('#'));
    for (char c : tail) {
        const auto b = static_cast<unsigned char>(c);
        if (b <= 0x20 || b >= 0x7f)
            return bad();
    }
    if (tail.empty() || tail.front() == '?')
        u.target = "/";
    u.target.append(tail);
    return u;
}

} // namespace genesys::detail

#endif
