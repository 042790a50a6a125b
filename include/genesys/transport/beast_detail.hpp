#ifndef GENESYS_TRANSPORT_BEAST_DETAIL_HPP
#define GENESYS_TRANSPORT_BEAST_DETAIL_HPP

/// @file
/// What the Boost.Beast transports share: URL splitting, the request and response conversions,
/// the refusal of framing fields, the TLS context and per-connection TLS checks (SNI, chain and
/// host name), the size limits and the classification of failures. Used by
/// `<genesys/transport/beast.hpp>` (synchronous) and `<genesys/transport/beast_async.hpp>`
/// (asynchronous, pooled); nothing here is public API.

#include <genesys/detail/ascii.hpp>
#include <genesys/detail/url.hpp>
#include <genesys/http.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/verify_mode.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/system/errc.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>
#include <boost/system/system_error.hpp>

#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

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

/// Runs `f` on the TLS stream when `tls` holds one, else on the plain stream: a connection is one
/// or the other.
template <class Tls, class Plain, class F>
void beast_visit_stream(Tls& tls, Plain& plain, F& f)
{
    if (tls)
        f(*tls);
    else
        f(*plain);
}

/// The Beast verb of a method.
constexpr boost::beast::http::verb beast_verb(http_method m) noexcept
{
    using boost::beast::http::verb;
    switch (m) {
    case http_method::get: return verb::get;
    case http_method::head: return verb::head;
    case http_method::put: return verb::put;
    case http_method::post: return verb::post;
    case http_method::delete_: return verb::delete_;
    case http_method::patch: return verb::patch;
    }
    return verb::get;
}

/// The code a failure is returned as: a response over `max_response_bytes` or `max_header_size` is
/// `errc::message_size` (Beast's `body_limit` and `header_limit` compare equal to no portable
/// condition, and a second try would fail the same way); any other code is returned as is.
inline boost::system::error_code beast_reported_error(const boost::system::error_code& ec) noexcept
{
    namespace http = boost::beast::http;
    if (ec == http::error::body_limit || ec == http::error::header_limit)
        return boost::system::errc::make_error_code(boost::system::errc::message_size);
    return ec;
}

/// True for the errors a server's closing of an idle keep-alive connection shows up as.
inline bool beast_stale_connection_error(const boost::system::error_code& ec) noexcept
{
    namespace asio = boost::asio;
    return ec == asio::error::eof || ec == asio::error::connection_reset || ec == asio::error::connection_aborted ||
           ec == asio::error::broken_pipe || ec == boost::beast::http::error::end_of_stream ||
           ec == asio::ssl::error::stream_truncated;
}


/// The request a Beast transport writes.
using beast_request = boost::beast::http::request<boost::beast::http::string_body>;

/// The parser a Beast transport reads a response head (then its body) with.
using beast_response_parser = boost::beast::http::response_parser<boost::beast::http::string_body>;

/// `from + d`, or no deadline (`time_point::max()`) when `d` is zero or less.
inline std::chrono::steady_clock::time_point beast_deadline_after(std::chrono::steady_clock::time_point from,
                                                                  std::chrono::milliseconds d) noexcept
{
    return d.count() > 0 ? from + d : std::chrono::steady_clock::time_point::max();
}

/** Builds the Beast request for `request`, sent to `url`.

    Sends exactly the request's method, target, fields and body, plus `Host`, `Connection: close`
    when `keep_alive` is false, and the body with its `Content-Length` as `detail::sends_body` says. Fails with `errc::invalid_argument`, `why` saying which, for a field name or value
    that is not valid, for a field the transport owns (`detail::is_framing_header`) and for a field
    or target too long for Beast; nothing is sent then.
*/
inline boost::system::error_code beast_build_request(const http_request& request, const beast_url& url,
                                                     bool keep_alive, beast_request& out, std::string& why)
{
    namespace http = boost::beast::http;
    const auto invalid = boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
    try {
        out.version(11);
        out.method(beast_verb(request.method));
        out.target(url.target);
        out.insert(http::field::host, beast_host_field(url));
        for (const auto& h : request.headers) {
            switch (request_header_problem(h)) {
            case header_problem::none: break;
            case header_problem::name: why = "a request header field has an invalid name"; return invalid;
            case header_problem::value:
                why = "request header field " + h.name + " has an invalid value";
                return invalid;
            case header_problem::framing:
                why = "request header field " + h.name +
                      " is not allowed: the transport sets the framing, connection and Host fields itself";
                return invalid;
            }
            out.insert(h.name, h.value);
        }
        if (!keep_alive)
            out.insert(http::field::connection, "close");
        if (sends_body(request.method, request.body)) {
            out.content_length(request.body.size());
            out.body() = request.body;
        }
    } catch (const std::length_error&) {
        // Beast's limit on a field (64 KiB): the request can never be sent.
        why = "a request header field or the target is too long";
        return invalid;
    }
    return {};
}

/** Makes the client TLS context: TLS 1.2 or later, and with `verify_peer` the chain verified
    against `ca_file` and `ca_path` (either or both), or the system's default trust store when
    both are empty. On failure returns the code and says in `why` what was being done.
*/
inline boost::system::error_code beast_make_tls_context(bool verify_peer, const std::string& ca_file,
                                                        const std::string& ca_path,
                                                        std::optional<boost::asio::ssl::context>& out,
                                                        std::string& why)
{
    namespace ssl = boost::asio::ssl;
    boost::system::error_code ec;
    try {
        ssl::context ctx(ssl::context::tls_client);
        if (::SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION) != 1) {
            why = "cannot require TLS 1.2";
            return {static_cast<int>(::ERR_get_error()), boost::asio::error::get_ssl_category()};
        }
        if (!verify_peer) {
            ctx.set_verify_mode(ssl::verify_none, ec);
        } else {
            ctx.set_verify_mode(ssl::verify_peer, ec);
            if (!ec && ca_file.empty() && ca_path.empty()) {
                ctx.set_default_verify_paths(ec);
                why = "loading the default CA certificates";
            }
            if (!ec && !ca_file.empty()) {
                ctx.load_verify_file(ca_file, ec);
                why = "loading ca_file " + ca_file;
            }
            if (!ec && !ca_path.empty()) {
                ctx.add_verify_path(ca_path, ec);
                why = "loading ca_path " + ca_path;
            }
        }
        if (ec)
            return ec;
        out.emplace(std::move(ctx));
    } catch (const boost::system::system_error& e) {
        why = "creating the TLS context";
        return e.code();
    }
    why.clear();
    return {};
}

/** Prepares a new TLS connection to `url` before its handshake: SNI with the host name (never an
    address, RFC 6066 section 3), and with `verify_peer` the RFC 6125 check that the certificate
    names the host (or IP address), done by OpenSSL during chain verification so that a mismatch
    is reported as such ("hostname mismatch"). On failure returns an `asio.ssl` code and says in
    `what` which step failed.
*/
inline boost::system::error_code beast_prepare_tls(SSL* ssl, const beast_url& url, bool verify_peer,
                                                   std::string_view& what) noexcept
{
    // This is the expansion of SSL_set_tlsext_host_name, without its C-style cast (for users'
    // -Wold-style-cast).
    if (!url.ip_literal && ::SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                                      const_cast<char*>(url.host.c_str())) != 1) {
        what = "set TLS server name for";
        return {static_cast<int>(::ERR_get_error()), boost::asio::error::get_ssl_category()};
    }
    if (verify_peer) {
        X509_VERIFY_PARAM* param = ::SSL_get0_param(ssl);
        const int set = url.ip_literal ? ::X509_VERIFY_PARAM_set1_ip_asc(param, url.host.c_str())
                                       : ::X509_VERIFY_PARAM_set1_host(param, url.host.c_str(), url.host.size());
        if (set != 1) {
            what = "set TLS host name check for";
            return {static_cast<int>(::ERR_get_error()), boost::asio::error::get_ssl_category()};
        }
        ::X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    }
    return {};
}

/// After a failed handshake: what certificate verification said (e.g. `"certificate: hostname
/// mismatch"`), or empty when it did not fail (or was off).
inline std::string beast_tls_handshake_detail(SSL* ssl, bool verify_peer)
{
    const long verify = ::SSL_get_verify_result(ssl);
    if (verify_peer && verify != X509_V_OK)
        return std::string("certificate: ") + ::X509_verify_cert_error_string(verify);
    return {};
}

/** True when an idle kept-alive connection may be reused: nothing is buffered, and a
    non-blocking peek finds nothing to read (bytes on a TLS connection are allowed: a record such
    as a session ticket may come unasked; HTTP bytes may not). End of stream or an error: false.
*/
inline bool beast_idle_connection_usable(boost::asio::ip::tcp::socket& socket,
                                         const boost::beast::flat_buffer& buffer, bool tls) noexcept
{
    if (buffer.size() != 0)
        return false;
    boost::system::error_code ec;
    char byte = 0;
    std::size_t n = 0;
#if defined(MSG_DONTWAIT) && defined(MSG_PEEK)
    // One system call: no switching the socket's blocking mode off and on around the peek.
    const auto got = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (got < 0)
        ec = boost::system::error_code(errno, boost::asio::error::get_system_category());
    else
        n = static_cast<std::size_t>(got);
#else
    socket.non_blocking(true, ec);
    if (ec)
        return false;
    n = socket.receive(boost::asio::buffer(&byte, 1), boost::asio::ip::tcp::socket::message_peek, ec);
    boost::system::error_code ignored;
    socket.non_blocking(false, ignored);
#endif
    if (ec == boost::asio::error::would_block || ec == boost::asio::error::try_again)
        return true; // nothing to read: the server has not closed it
    if (!ec && n > 0)
        return tls;
    return false; // end of stream or an error
}

/// A new parser for the response to a `method` request, with the size limits: a HEAD response
/// has no body whatever its fields say.
inline void beast_init_parser(std::optional<beast_response_parser>& parser, http_method method,
                              std::uint32_t max_header_size, std::size_t max_response_bytes)
{
    parser.emplace();
    parser->header_limit(max_header_size);
    parser->body_limit(std::uint64_t{max_response_bytes});
    if (method == http_method::head)
        parser->skip(true);
}

/// True for an interim (1xx) response to skip, e.g. 100 Continue; 101 is final.
constexpr bool beast_interim_status(unsigned status) noexcept { return status / 100 == 1 && status != 101; }

/// The status and fields of a parsed response head. Read before the body: a chunked body's
/// trailer fields, read with the body, are added to the parser's fields and must not pass for
/// the response's headers.
inline http_response beast_response_head(const beast_response_parser& parser)
{
    http_response response;
    response.status = static_cast<int>(parser.get().result_int());
    for (const auto& field : parser.get())
        response.headers.add(std::string(field.name_string()), std::string(field.value()));
    return response;
}

/// True when the connection may carry the next request: keep-alive wanted by the options, the
/// request and the response, nothing read past the response, and no protocol switch.
inline bool beast_keep_connection(bool keep_alive, const beast_request& request, const beast_response_parser& parser,
                                  const boost::beast::flat_buffer& buffer, int status) noexcept
{
    return keep_alive && request.keep_alive() && parser.keep_alive() && buffer.size() == 0 && status != 101;
}

} // namespace genesys::detail

#endif
