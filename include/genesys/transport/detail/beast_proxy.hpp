// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_TRANSPORT_DETAIL_BEAST_PROXY_HPP
#define GENESYS_TRANSPORT_DETAIL_BEAST_PROXY_HPP

// The Boost.Beast transports' HTTP proxy: the rules made from `beast_options` (and the wiping of
// the options' copies of the credentials), the `CONNECT` request of a tunnel and the reading of
// its answer, the absolute-form request of a plain http URL, and the texts of a proxy's refusal.

#include <genesys/error_code.hpp>
#include <genesys/transport/beast_options.hpp>
#include <genesys/transport/detail/beast_message.hpp>
#include <genesys/transport/detail/beast_url.hpp>
#include <genesys/transport/detail/proxy_rules.hpp>

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

namespace genesys::detail {

/** For a transport's constructor: makes the proxy rules from `o` (see `proxy_rules`), then
    wipes the transport's copies of `proxy` (which may hold credentials) and `proxy_password`,
    whether it threw or not; when it throws, the client certificate's key and passphrase are
    wiped too (the transport is not made).

    @throws invalid_argument_error for an unusable proxy URL, never quoting the password.
*/
inline proxy_rules beast_load_proxy(beast_options& o, std::string_view who)
{
    struct wipe_on_exit {
        beast_options& o;
        int uncaught = std::uncaught_exceptions();
        ~wipe_on_exit()
        {
            wipe_secret(o.proxy);
            wipe_secret(o.proxy_password);
            if (std::uncaught_exceptions() > uncaught) {
                wipe_secret(o.client_certificate.key_pem);
                wipe_secret(o.client_certificate.key_passphrase);
            }
        }
    } wipe{o};
    return proxy_rules({.proxy = o.proxy,
                        .username = o.proxy_username,
                        .password = o.proxy_password,
                        .no_proxy = o.no_proxy,
                        .from_environment = o.proxy_from_environment,
                        .loopback = o.proxy_loopback},
                       who);
}

/// The proxy as a connection's target: its host and port (the rest unused).
inline beast_url beast_proxy_target(const proxy_endpoint& p)
{
    beast_url u;
    u.host = p.host;
    u.port = p.port;
    u.target = "/";
    u.ip_literal = p.ip_literal;
    return u;
}

/// `host:port` of `url`, always with the port, an IPv6 literal in brackets: a `CONNECT` target.
inline std::string beast_authority(const beast_url& url)
{
    std::string s = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
    return s + ":" + std::to_string(url.port);
}

/** The `CONNECT` request that opens a tunnel to `url`'s host and port through `p`: the request
    line, `Host`, `Proxy-Authorization` when `p` has credentials; nothing of the request that will
    go through the tunnel. Holds the credential: wipe it (`wipe`) before it is freed.
*/
inline std::string beast_connect_request(const beast_url& url, const proxy_endpoint& p)
{
    const std::string authority = beast_authority(url);
    std::string out;
    out.reserve(64 + 2 * authority.size() + p.authorization.size());
    out.append("CONNECT ").append(authority).append(" HTTP/1.1\r\nHost: ").append(authority).append("\r\n");
    if (!p.authorization.empty())
        out.append("Proxy-Authorization: ").append(p.authorization).append("\r\n");
    out.append("\r\n");
    return out;
}

/// The parser of the proxy's answer to a `CONNECT`: its head only (a 2xx has no body, another
/// answer ends the connection), at most `max_header_size` bytes.
using beast_connect_parser = boost::beast::http::response_parser<boost::beast::http::empty_body>;

/// A new parser for a `CONNECT`'s answer, its head limited to `max_header_size`.
inline void beast_init_connect_parser(std::optional<beast_connect_parser>& parser, std::uint32_t max_header_size)
{
    parser.emplace();
    parser->header_limit(max_header_size);
    parser->skip(true); // no body: a 2xx opens the tunnel, anything else is read no further
}

/// The text of a proxy's 407 (or, to a `CONNECT`, 401): whether it refused the credentials
/// sent or wanted some.
inline std::string beast_proxy_407_text(const proxy_endpoint& p, unsigned status = 407)
{
    return "the proxy " + p.display +
           (p.authorization.empty() ? " asked for credentials and none were set" : " refused the credentials") +
           (status == 401 ? " (401 Unauthorized)" : " (407 Proxy Authentication Required)");
}

/** What the proxy's answer to a `CONNECT` to `url` means: success for a 2xx with nothing after
    its head (`extra_bytes` zero); `errc::proxy_authentication_required` for a 407, and for a
    401 (only the proxy can answer a `CONNECT`, and some, tinyproxy 1.11 among them, answer
    wrong credentials with 401); `errc::proxy_tunnel_failed` for anything else. `text` then says
    so, naming the proxy without its credentials.
*/
inline boost::system::error_code beast_connect_outcome(unsigned status, std::size_t extra_bytes,
                                                       const proxy_endpoint& p, const beast_url& url,
                                                       std::string& text)
{
    if (status == 407 || status == 401) {
        text = beast_proxy_407_text(p, status);
        return make_error_code(errc::proxy_authentication_required);
    }
    const std::string status_text =
        std::to_string(status) + " " +
        std::string(boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status)));
    if (status / 100 != 2) {
        text = "the proxy " + p.display + " refused the tunnel to " + beast_authority(url) + " (" + status_text + ")";
        return make_error_code(errc::proxy_tunnel_failed);
    }
    if (extra_bytes != 0) {
        text = "the proxy " + p.display + " sent data after its answer to CONNECT " + beast_authority(url) + " (" +
               status_text + ")";
        return make_error_code(errc::proxy_tunnel_failed);
    }
    text.clear();
    return {};
}

/** Makes `request`, built for `url`, a request to the proxy `p`: the absolute-form target
    (`http://host[:port]/path`) and `Proxy-Authorization` when `p` has credentials.
*/
inline void beast_to_absolute_form(beast_request& request, const beast_url& url, const proxy_endpoint& p)
{
    request.target("http://" + beast_host_field(url) + url.target);
    if (!p.authorization.empty())
        request.set(boost::beast::http::field::proxy_authorization, p.authorization);
}

} // namespace genesys::detail

#endif
