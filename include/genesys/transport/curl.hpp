// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_TRANSPORT_CURL_HPP
#define GENESYS_TRANSPORT_CURL_HPP

/// @file
/// `curl_transport`: a `genesys::transport` over one libcurl easy handle. Link with `-lcurl`.
///
/// This header is not included by `<genesys/genesys.hpp>`: the rest of the library
/// builds without libcurl.

#include <genesys/detail/ascii.hpp>
#include <genesys/detail/config_check.hpp>
#include <genesys/error.hpp>
#include <genesys/error_code.hpp>
#include <genesys/http.hpp>
#include <genesys/tls_client_certificate.hpp>
#include <genesys/transport.hpp>

#include <curl/curl.h>

#include <boost/system/errc.hpp>
#include <boost/system/error_category.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/error_condition.hpp>
#include <boost/system/result.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#if !defined(_WIN32)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

#if LIBCURL_VERSION_NUM < 0x074400
#error "<genesys/transport/curl.hpp> needs libcurl 7.68 or later"
#endif

namespace genesys {

/** Settings of a `curl_transport`, fixed for its life.

    Every member has a default, so designated initializers can name only what changes.

    @code
    genesys::curl_transport t{{.timeout = std::chrono::seconds(30), .ca_file = "/etc/ssl/my-ca.pem"}};
    @endcode
*/
struct curl_options {
    /// Longest time to establish a connection (TCP and TLS). Zero: libcurl's default, 300 s.
    std::chrono::milliseconds connect_timeout{10'000};

    /// Longest time for a whole request, connection included, as the official SDKs. Zero: no limit.
    std::chrono::milliseconds timeout{16'000};

    /// Verify the server's certificate chain against the CA store. Turn off only for testing.
    bool verify_peer = true;

    /// Verify that the server's certificate matches the host name. Turn off only for testing.
    bool verify_host = true;

    /// A PEM file of CA certificates to trust instead of libcurl's default bundle; empty: the default.
    std::string ca_file{};

    /// A directory of hashed CA certificates (`c_rehash`) to trust; empty: libcurl's default.
    std::string ca_path{};

    /** A client certificate chain and private key to present to servers that ask for one (mutual
        TLS), to the API and the login host alike; empty (the default): none. Files are read by
        libcurl at each new connection; in-memory PEM (`cert_pem`, `key_pem`) needs libcurl 7.71.

        Checked when the transport is made, which throws `invalid_argument_error` naming the file
        (or `cert_pem`/`key_pem`) and the reason when a file cannot be read, the key is encrypted
        and no passphrase was given, the passphrase is wrong, or the key does not match the
        certificate. The check is libcurl's own loading of the certificate and key, done by
        starting a connection to a loopback socket the constructor opens and stopping it before
        any byte of TLS is sent (with a TLS backend that has `CURLOPT_SSL_CTX_FUNCTION`, e.g.
        OpenSSL; with another, or when no loopback socket can be opened, only the files' being
        readable and the passphrase's presence are checked before the first handshake). See
        `tls_client_certificate`.
    */
    tls_client_certificate client_certificate{};

    /** The proxy, as a URL: `"http://proxy.example:3128"`, optionally with credentials in it
        (`"http://user:password@proxy.example:3128"`, percent-encoded). Any scheme libcurl takes for
        a proxy: `http` (also when none is given), `https`, `socks4`, `socks4a`, `socks5`,
        `socks5h`. Empty (the default): no proxy, unless `proxy_from_environment`.

        An `https` URL goes through the proxy in a `CONNECT host:port` tunnel: the proxy sees the
        host and port, and the credentials meant for it, never the request's headers nor its body.
        A plain `http` URL is sent to the proxy in absolute form (`GET http://host/path`), headers
        (`Authorization` included) and body: the client (`client_config`) refuses such a URL for a
        non-loopback host unless `allow_insecure_http` is set, so that happens only for a URL
        explicitly allowed to travel in clear text.

        Refused when the transport is made (`invalid_argument_error`, naming the proxy without its
        credentials): a control character (CR, LF, ...), a URL libcurl cannot parse, a scheme it
        does not take for a proxy, a control character in the URL's user name or password.
    */
    std::string proxy{};

    /** The user name for the proxy; takes precedence over one in the proxy's URL (`proxy`, or the
        environment's). When credentials are set, from here or from the URL, libcurl negotiates the
        scheme the proxy asks for (`CURLAUTH_ANY`: Basic, Digest, NTLM, Negotiate): the first
        request on each new connection to the proxy goes without them and learns the scheme from
        the proxy's 407. Refused when the transport is made if it holds a control character or a
        `:` (Basic authentication cannot carry one). A user name without a password is sent with
        an empty password.
    */
    std::string proxy_username{};

    /** The password for the proxy; takes precedence over one in the proxy's URL. A secret, as is
        the password in a URL: never in an error message, `last_error_message()` or exception; the
        transport wipes its copies when it dies. Refused when the transport is made if it holds a
        control character, or when there is no user name for it (`proxy_username`, or the user
        in `proxy`'s URL).
    */
    std::string proxy_password{};

    /** Hosts reached without the proxy, comma-separated, as libcurl reads them: `"*"` (every
        host), a host name (itself and its subdomains; a leading dot is allowed, e.g.
        `".internal.example"`), an IP address; spaces around entries are ignored, names compare
        case-insensitively. Empty: the environment's `no_proxy` (then `NO_PROXY`) when
        `proxy_from_environment`, else none. Refused when the transport is made if it holds a
        control character.
    */
    std::string no_proxy{};

    /** When `proxy` is empty, take the proxy from the environment at each send, as libcurl does
        (true, the default, which was the only behaviour before this setting): for an `https` URL
        `https_proxy`, then `HTTPS_PROXY`; for an `http` URL `http_proxy` (lower case only, as
        libcurl, because CGI programs get `HTTP_PROXY` from a request header); then `all_proxy`,
        then `ALL_PROXY`; a variable that is set but empty means no proxy. And, when `no_proxy` is
        empty, `no_proxy`, then `NO_PROXY`. Credentials in the variable's URL are used unless
        `proxy_username` or `proxy_password` are set, and are never shown either. False: an empty
        `proxy` means no proxy at all, an empty `no_proxy` no exception.
    */
    bool proxy_from_environment = true;

    /** Let loopback URLs (`localhost`, `*.localhost`, 127.0.0.0/8, `[::1]`) go through the proxy
        too, still subject to `no_proxy`: a local debugging proxy, or a test in front of a local
        server. False (the default): a loopback URL never goes through a proxy, whatever `proxy`
        and the environment say.
    */
    bool proxy_loopback = false;

    /// Largest response body accepted, in bytes; a larger one fails with `CURLE_FILESIZE_EXCEEDED`
    /// (equivalent to `errc::message_size`). Zero: no limit. The default is Boost.Beast's body limit.
    std::size_t max_response_bytes = 8 * 1024 * 1024;
};

namespace detail {

class curl_category_impl final : public boost::system::error_category {
public:
    constexpr curl_category_impl() noexcept : boost::system::error_category(0x8a3c5e71d2f94b06ULL) {}

    const char* name() const noexcept override { return "libcurl"; }

    std::string message(int ev) const override { return curl_easy_strerror(static_cast<CURLcode>(ev)); }

    boost::system::error_condition default_error_condition(int ev) const noexcept override
    {
        namespace errc = boost::system::errc;
        switch (static_cast<CURLcode>(ev)) {
        case CURLE_COULDNT_CONNECT: return errc::make_error_condition(errc::connection_refused);
        case CURLE_OPERATION_TIMEDOUT: return errc::make_error_condition(errc::timed_out);
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY: return errc::make_error_condition(errc::host_unreachable);
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR: return errc::make_error_condition(errc::connection_reset);
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE: return errc::make_error_condition(errc::connection_aborted);
        // TLS: handshake, certificate verification, CA store and client certificate failures.
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_SSL_ENGINE_NOTFOUND:
        case CURLE_SSL_ENGINE_SETFAILED:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_ENGINE_INITFAILED:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_SHUTDOWN_FAILED:
        case CURLE_SSL_CRL_BADFILE:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_INVALIDCERTSTATUS:
#if LIBCURL_VERSION_NUM >= 0x074d00
        case CURLE_SSL_CLIENTCERT:
#endif
        // The peer spoke something other than the expected protocol.
        case CURLE_WEIRD_SERVER_REPLY:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
        case CURLE_HTTP3:
#if LIBCURL_VERSION_NUM >= 0x074900
        case CURLE_PROXY:
#endif
            return errc::make_error_condition(errc::protocol_error);
        case CURLE_UNSUPPORTED_PROTOCOL: return errc::make_error_condition(errc::protocol_not_supported);
        case CURLE_URL_MALFORMAT:
        case CURLE_BAD_FUNCTION_ARGUMENT: return errc::make_error_condition(errc::invalid_argument);
        case CURLE_OUT_OF_MEMORY: return errc::make_error_condition(errc::not_enough_memory);
        case CURLE_FILESIZE_EXCEEDED: return errc::make_error_condition(errc::message_size);
        case CURLE_ABORTED_BY_CALLBACK: return errc::make_error_condition(errc::operation_canceled);
        case CURLE_WRITE_ERROR:
        case CURLE_READ_ERROR: return errc::make_error_condition(errc::io_error);
        default: return {ev, *this};
        }
    }
};

/// Calls `curl_global_init` once per program, thread-safely; returns its result.
/// `curl_global_cleanup` is never called: other code may still use libcurl at exit.
inline CURLcode curl_global_init_once() noexcept
{
    static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    return rc;
}

/// Frees a header list after overwriting its strings (best effort: it holds `Authorization`).
struct curl_slist_deleter {
    void operator()(curl_slist* list) const noexcept
    {
        for (curl_slist* p = list; p != nullptr; p = p->next)
            if (p->data != nullptr)
                std::memset(p->data, 0, std::strlen(p->data));
        curl_slist_free_all(list);
    }
};

using curl_slist_ptr = std::unique_ptr<curl_slist, curl_slist_deleter>;

constexpr std::string_view trim_ows(std::string_view s) noexcept
{
    constexpr auto ows = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!s.empty() && ows(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && ows(s.back()))
        s.remove_suffix(1);
    return s;
}

/// True when libcurl would connect to a loopback address for `url`: its host (as libcurl's URL
/// parser normalises it, e.g. `127.1` is `127.0.0.1`) is `localhost` or a name under it (which
/// libcurl resolves to loopback itself), 127.0.0.0/8, `[::1]` or `[::ffff:127.x.y.z]`, with or
/// without a final dot. False when the URL does not parse.
inline bool curl_loopback_url(const std::string& url) noexcept
{
    CURLU* parsed = curl_url();
    if (parsed == nullptr)
        return false;
    char* raw = nullptr;
    bool loopback = false;
    if (curl_url_set(parsed, CURLUPART_URL, url.c_str(), CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
        curl_url_get(parsed, CURLUPART_HOST, &raw, 0) == CURLUE_OK && raw != nullptr) {
        std::string_view host(raw);
        if (host.size() > 1 && host.back() == '.')
            host.remove_suffix(1);
        constexpr std::string_view mapped = "[::ffff:";
        if (host.size() > mapped.size() + 1 && iequals(host.substr(0, mapped.size()), mapped) && host.back() == ']')
            host = host.substr(mapped.size(), host.size() - mapped.size() - 1);
        constexpr std::string_view under_localhost = ".localhost";
        loopback = is_loopback_host(host) ||
                   (host.size() > under_localhost.size() &&
                    iequals(host.substr(host.size() - under_localhost.size()), under_localhost));
    }
    curl_free(raw);
    curl_url_cleanup(parsed);
    return loopback;
}

/// True when `s` holds a control character (C0, including CR, LF and NUL, or DEL).
constexpr bool curl_has_control(std::string_view s) noexcept
{
    return std::any_of(s.begin(), s.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u < 0x20 || u == 0x7f;
    });
}

/// True for the schemes libcurl takes for a proxy (lower case).
constexpr bool curl_proxy_scheme(std::string_view scheme) noexcept
{
    for (std::string_view known : {"http", "https", "socks", "socks4", "socks4a", "socks5", "socks5h"})
        if (scheme == known)
            return true;
    return false;
}

/** A proxy URL as libcurl parses it (`CURLU_NON_SUPPORT_SCHEME | CURLU_GUESS_SCHEME`, as its own
    proxy parser): the URL to give libcurl without its user information, the name to show in
    messages, and the credentials it held (percent-decoded). The password is wiped when it dies.
*/
struct curl_proxy_url {
    bool parsed = false;  ///< false: libcurl cannot parse it, the other members are empty
    std::string url;      ///< the URL without user information
    std::string display;  ///< `scheme://host[:port]`, for messages
    std::string scheme;   ///< lower case; `http` when the URL had none
    std::string user;     ///< percent-decoded; empty when none
    std::string password; ///< percent-decoded; empty when none; a secret

    curl_proxy_url() = default;
    curl_proxy_url(const curl_proxy_url&) = default;
    curl_proxy_url(curl_proxy_url&&) = default;
    curl_proxy_url& operator=(const curl_proxy_url&) = default;
    curl_proxy_url& operator=(curl_proxy_url&& other) noexcept
    {
        wipe_secret(password);
        parsed = other.parsed;
        url = std::move(other.url);
        display = std::move(other.display);
        scheme = std::move(other.scheme);
        user = std::move(other.user);
        password = std::move(other.password);
        wipe_secret(other.password);
        return *this;
    }
    ~curl_proxy_url() { wipe_secret(password); }
};

/// Parses a proxy URL as libcurl does (see `curl_proxy_url`); `parsed` is false when it cannot.
inline curl_proxy_url curl_parse_proxy(const std::string& text)
{
    curl_proxy_url out;
    if (text.find('\0') != std::string::npos)
        return out;
    CURLU* u = curl_url();
    if (u == nullptr)
        return out;
    struct cleanup_on_exit {
        CURLU* u;
        ~cleanup_on_exit() { curl_url_cleanup(u); }
    } cleanup{u};
    if (curl_url_set(u, CURLUPART_URL, text.c_str(), CURLU_NON_SUPPORT_SCHEME | CURLU_GUESS_SCHEME) != CURLUE_OK)
        return out;
    // Copies a part, then wipes and frees libcurl's string (it may be the password).
    auto get = [u](CURLUPart part, unsigned int flags, std::string& into) {
        char* raw = nullptr;
        const CURLUcode rc = curl_url_get(u, part, &raw, flags);
        if (rc == CURLUE_OK && raw != nullptr) {
            into.assign(raw);
            std::memset(raw, 0, std::strlen(raw));
        }
        curl_free(raw);
        return rc == CURLUE_OK;
    };
    std::string host, port;
    if (!get(CURLUPART_SCHEME, 0, out.scheme) || !get(CURLUPART_HOST, 0, host))
        return {};
    static_cast<void>(get(CURLUPART_PORT, 0, port));
    static_cast<void>(get(CURLUPART_USER, CURLU_URLDECODE, out.user));
    static_cast<void>(get(CURLUPART_PASSWORD, CURLU_URLDECODE, out.password));
    for (char& c : out.scheme)
        c = ascii_lower(c);
    if (curl_url_set(u, CURLUPART_USER, nullptr, 0) != CURLUE_OK ||
        curl_url_set(u, CURLUPART_PASSWORD, nullptr, 0) != CURLUE_OK ||
        curl_url_set(u, CURLUPART_OPTIONS, nullptr, 0) != CURLUE_OK || !get(CURLUPART_URL, 0, out.url))
        return {};
    out.display = out.scheme + "://" + host;
    if (!port.empty())
        out.display += ":" + port;
    out.parsed = true;
    return out;
}

/** How a proxy URL is named in messages: `scheme://host[:port]`, without user information, path or
    query (`http://user:pw@127.0.0.1:4711/x` is `http://127.0.0.1:4711`; `proxy.example:3128`, with
    libcurl's default scheme, `http://proxy.example:3128`). A text libcurl cannot parse loses
    everything from the authority's start to its last `@`, and its control characters become `?`.
*/
inline std::string curl_proxy_display(std::string_view url)
{
    if (!curl_has_control(url)) {
        const curl_proxy_url parsed = curl_parse_proxy(std::string(url));
        if (parsed.parsed)
            return parsed.display;
    }
    std::string s(url);
    const std::size_t separator = s.find("://");
    const std::size_t start = separator == std::string::npos ? 0 : separator + 3;
    const std::size_t at = s.rfind('@');
    if (at != std::string::npos && at >= start)
        s.erase(start, at + 1 - start);
    const std::size_t end = s.find_first_of("/?#", start);
    if (end != std::string::npos)
        s.erase(end);
    for (char& c : s)
        if (curl_has_control(std::string_view(&c, 1)))
            c = '?';
    return s;
}

/** Removes the user information from every URL in a free text (a libcurl message): after each
    `://`, up to the last `@` before the authority ends (`/`, `?`, `#`, a quote, a space or the
    text's end). `"proxy 'ftp://u:pw@proxy:21'"` becomes `"proxy 'ftp://proxy:21'"`.
*/
inline std::string curl_redact_userinfo(std::string text)
{
    std::size_t pos = 0;
    while ((pos = text.find("://", pos)) != std::string::npos) {
        const std::size_t start = pos + 3;
        std::size_t end = text.find_first_of("/?#'\" \t\r\n", start);
        if (end == std::string::npos)
            end = text.size();
        if (end > start) {
            const std::size_t at = text.find_last_of('@', end - 1);
            if (at != std::string::npos && at >= start)
                text.erase(start, at + 1 - start);
        }
        pos = start;
    }
    return text;
}

/// Replaces every occurrence of `secret` (when not empty) in `text` with `replacement`.
inline void curl_redact_secret(std::string& text, std::string_view secret, std::string_view replacement = "***")
{
    if (secret.empty())
        return;
    std::size_t pos = 0;
    while ((pos = text.find(secret, pos)) != std::string::npos) {
        text.replace(pos, secret.size(), replacement);
        pos += replacement.size();
    }
}

/// `host:port` of an http or https URL (the port libcurl would use), for messages; the URL itself
/// when libcurl cannot parse it.
inline std::string curl_url_authority(const std::string& url)
{
    std::string out = curl_redact_userinfo(url);
    CURLU* u = curl_url();
    if (u == nullptr)
        return out;
    char* host = nullptr;
    char* port = nullptr;
    if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
        out = std::string(host) + ":" + port;
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return out;
}

/// Throws `invalid_argument_error` for a refused proxy setting; `message` names no secret.
[[noreturn]] inline void throw_proxy_setting_error(std::string message)
{
    error e;
    e.kind = error_kind::invalid_argument;
    e.code = make_error_code(errc::invalid_argument);
    e.operation = "curl_transport";
    e.message = "curl_transport: " + std::move(message);
    throw invalid_argument_error(std::move(e));
}

/** Checks the proxy settings of `o` (see `curl_options::proxy` and the members after it) and
    returns `o.proxy` parsed (`parsed` false when it is empty).

    @throws invalid_argument_error naming the setting and the proxy without its credentials.
*/
inline curl_proxy_url curl_check_proxy_settings(const curl_options& o)
{
    curl_proxy_url proxy;
    if (!o.proxy.empty()) {
        if (curl_has_control(o.proxy))
            throw_proxy_setting_error("the proxy URL " + curl_proxy_display(o.proxy) +
                                      " holds a control character (CR, LF, ...)");
        proxy = curl_parse_proxy(o.proxy);
        if (!proxy.parsed)
            throw_proxy_setting_error("the proxy " + curl_proxy_display(o.proxy) + " is not a URL libcurl can parse");
        if (!curl_proxy_scheme(proxy.scheme))
            throw_proxy_setting_error("the proxy " + proxy.display +
                                      " has a scheme libcurl does not take for a proxy (http, https, socks4, "
                                      "socks4a, socks5, socks5h)");
        if (curl_has_control(proxy.user) || curl_has_control(proxy.password))
            throw_proxy_setting_error("the user name or password in the proxy URL " + proxy.display +
                                      " holds a control character");
    }
    if (curl_has_control(o.proxy_username))
        throw_proxy_setting_error("proxy_username holds a control character");
    if (o.proxy_username.find(':') != std::string::npos)
        throw_proxy_setting_error("proxy_username holds a ':', which Basic authentication cannot carry");
    if (curl_has_control(o.proxy_password))
        throw_proxy_setting_error("proxy_password holds a control character");
    if (!o.proxy_password.empty() && o.proxy_username.empty() && proxy.user.empty())
        throw_proxy_setting_error("proxy_password is set without a user name (proxy_username, or the user in the "
                                  "proxy URL)");
    if (curl_has_control(o.no_proxy))
        throw_proxy_setting_error("no_proxy holds a control character");
    return proxy;
}

/// What the libcurl callbacks of one call fill in.
struct curl_receive_state {
    http_response response{};
    std::size_t max_body = 0;
    bool body_too_large = false;
    bool head_complete = false; // the blank line ending the last header block arrived
    std::exception_ptr exception{};

    void header_line(std::string_view raw)
    {
        auto& fields = response.headers;
        // After the head, libcurl passes a chunked body's trailer section here too: trailer fields
        // are not the response's headers (they could forge a Retry-After or a correlation id), so
        // everything up to the next status line is dropped.
        if (head_complete && !raw.starts_with("HTTP/"))
            return;
        if (!raw.empty() && (raw.front() == ' ' || raw.front() == '\t')) {
            // Obsolete line folding: the line continues the previous field's value.
            const std::string_view more = trim_ows(raw);
            if (!more.empty() && !fields.empty()) {
                std::string& value = std::prev(fields.end())->value;
                if (!value.empty())
                    value += ' ';
                value += more;
            }
            return;
        }
        const std::string_view line = trim_ows(raw);
        if (line.starts_with("HTTP/")) {
            // A new status line (after a 1xx, a proxy's CONNECT answer, ...): only the last block counts.
            fields.clear();
            head_complete = false;
            return;
        }
        if (line.empty()) {
            head_complete = true;
            return;
        }
        const auto colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0)
            return; // the blank line ending a block, or not a field
        if (fields.empty())
            fields.reserve(16); // a platform response has about a dozen fields: grow once
        fields.add(std::string(trim_ows(line.substr(0, colon))), std::string(trim_ows(line.substr(colon + 1))));
    }

    static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) noexcept
    {
        auto& self = *static_cast<curl_receive_state*>(user);
        const std::size_t n = size * count;
        try {
            self.header_line(std::string_view(data, n));
        } catch (...) {
            self.exception = std::current_exception();
            return 0; // aborts the transfer with CURLE_WRITE_ERROR
        }
        return n;
    }

    static std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) noexcept
    {
        auto& self = *static_cast<curl_receive_state*>(user);
        const std::size_t n = size * count;
        std::string& body = self.response.body;
        if (self.max_body != 0 && n > self.max_body - std::min(self.max_body, body.size())) {
            self.body_too_large = true;
            return 0;
        }
        try {
            body.append(data, n);
        } catch (...) {
            self.exception = std::current_exception();
            return 0;
        }
        return n;
    }
};

inline long curl_millis(std::chrono::milliseconds d) noexcept
{
    const auto count = d.count();
    if (count <= 0)
        return 0;
    return static_cast<long>(std::min<decltype(d.count())>(count, std::numeric_limits<long>::max()));
}

/** True when libcurl's message for a failed read or write says the server sent a fatal TLS alert,
    e.g. "OpenSSL SSL_read: ... SSL routines::tlsv13 alert certificate required": with TLS 1.3 a
    server refuses a client certificate (or its absence) after the client's side of the handshake
    is done, so libcurl reports it as a read failure (`CURLE_RECV_ERROR`, a reset connection).
*/
inline bool curl_tls_alert(std::string_view message) noexcept
{
    return message.find("SSL routines") != std::string_view::npos && message.find(" alert ") != std::string_view::npos;
}

/// What a fatal TLS alert on a read or write is reported as: a TLS failure (`errc::protocol_error`).
constexpr CURLcode curl_tls_alert_code() noexcept
{
#if LIBCURL_VERSION_NUM >= 0x074d00
    return CURLE_SSL_CLIENTCERT;
#else
    return CURLE_SSL_CONNECT_ERROR;
#endif
}

/// True when the PEM text of a key says it is encrypted (PKCS#8 or traditional).
inline bool curl_pem_key_encrypted(std::string_view pem) noexcept
{
    return pem.find("-----BEGIN ENCRYPTED PRIVATE KEY-----") != std::string_view::npos ||
           pem.find("Proc-Type: 4,ENCRYPTED") != std::string_view::npos;
}

/// The text of a PEM file (its first MiB), or empty when it cannot be read (the caller checked it
/// can be). It may hold a key: the caller wipes it; the buffer it was read through is wiped here.
inline std::string curl_read_small_file(const std::string& path)
{
    std::string text;
    if (std::FILE* f = std::fopen(path.c_str(), "rb")) {
        text.reserve(16 * 1024);
        char buffer[4096];
        std::size_t n = 0;
        while (text.size() < (1u << 20) && (n = std::fread(buffer, 1, sizeof buffer, f)) > 0)
            text.append(buffer, n);
        std::memset(buffer, 0, sizeof buffer);
        std::fclose(f);
    }
    return text;
}

/** Sets the client certificate options of `c` (not empty) with `set`. libcurl copies the strings
    and blobs. The passphrase is always set (empty when none was given), so that an encrypted key
    never makes OpenSSL ask for one on the terminal.
*/
template <class Set>
void curl_set_client_certificate(Set& set, const tls_client_certificate& c)
{
    if (!c.cert_file.empty()) {
        set(CURLOPT_SSLCERT, c.cert_file.c_str());
    } else {
#if LIBCURL_VERSION_NUM >= 0x074700
        curl_blob blob{const_cast<char*>(c.cert_pem.data()), c.cert_pem.size(), CURL_BLOB_COPY};
        set(CURLOPT_SSLCERT_BLOB, &blob);
#else
        set(CURLOPT_SSLCERT, static_cast<const char*>(nullptr));
#endif
    }
    set(CURLOPT_SSLCERTTYPE, "PEM");
    if (!c.key_file.empty()) {
        set(CURLOPT_SSLKEY, c.key_file.c_str());
    } else if (!c.key_pem.empty() || !c.cert_pem.empty()) {
#if LIBCURL_VERSION_NUM >= 0x074700
        const std::string& pem = c.key_pem.empty() ? c.cert_pem : c.key_pem;
        curl_blob blob{const_cast<char*>(pem.data()), pem.size(), CURL_BLOB_COPY};
        set(CURLOPT_SSLKEY_BLOB, &blob);
#endif
    } else {
        set(CURLOPT_SSLKEY, c.cert_file.c_str());
    }
    set(CURLOPT_SSLKEYTYPE, "PEM");
    set(CURLOPT_KEYPASSWD, c.key_passphrase.c_str());
}

/// The dry run's `CURLOPT_SSL_CTX_FUNCTION`: called once libcurl has loaded the client certificate
/// and key into the TLS context, before the handshake; stops the transfer there.
inline CURLcode curl_stop_before_handshake(CURL*, void*, void*) noexcept
{
    return CURLE_ABORTED_BY_CALLBACK;
}

/** Checks a client certificate as libcurl will load it (see `curl_options::client_certificate`).

    @throws invalid_argument_error naming the file and the reason; never the passphrase nor the key.
*/
inline void curl_check_client_certificate(const tls_client_certificate& c)
{
    constexpr std::string_view who = "curl_transport";
    check_client_certificate_sources(c, who);
#if LIBCURL_VERSION_NUM < 0x074700
    if (!c.cert_pem.empty() || !c.key_pem.empty())
        throw_client_certificate_error(who, "cert_pem and key_pem need libcurl 7.71 or later (use cert_file and key_file)");
#endif
    const std::string key_source = client_certificate_source(c, true);
    std::string key_text = !c.key_pem.empty()    ? c.key_pem
                           : !c.key_file.empty() ? curl_read_small_file(c.key_file)
                           : !c.cert_pem.empty() ? c.cert_pem
                                                 : curl_read_small_file(c.cert_file);
    const bool encrypted = curl_pem_key_encrypted(key_text);
    const bool has_key = key_text.find("PRIVATE KEY-----") != std::string::npos;
    wipe_secret(key_text);
    if (encrypted && c.key_passphrase.empty())
        throw_client_certificate_error(who, "the private key in " + key_source +
                                                " is encrypted and no key_passphrase was given");
#if !defined(_WIN32)
    // A loopback socket that listens and never accepts: the kernel completes the TCP handshake,
    // libcurl starts TLS, loads the certificate and key, and the callback stops it.
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    struct close_on_exit {
        int fd;
        ~close_on_exit() { ::close(fd); }
    } closer{fd};
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof address;
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 || ::listen(fd, 1) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0)
        return;
    CURL* handle = curl_easy_init();
    if (handle == nullptr)
        return;
    struct cleanup_on_exit {
        CURL* handle;
        ~cleanup_on_exit() { curl_easy_cleanup(handle); }
    } cleanup{handle};
    char error_buffer[CURL_ERROR_SIZE] = {};
    CURLcode rc = CURLE_OK;
    auto set = [&](CURLoption option, auto value) {
        if (rc == CURLE_OK)
            rc = curl_easy_setopt(handle, option, value);
    };
    const std::string url = "https://127.0.0.1:" + std::to_string(ntohs(address.sin_port)) + "/";
    set(CURLOPT_NOSIGNAL, 1L);
    set(CURLOPT_URL, url.c_str());
    set(CURLOPT_PROXY, "");
    set(CURLOPT_NOPROXY, "*");
    set(CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    set(CURLOPT_TIMEOUT_MS, 5000L);
    set(CURLOPT_SSL_VERIFYPEER, 0L);
    set(CURLOPT_SSL_VERIFYHOST, 0L);
    set(CURLOPT_ERRORBUFFER, static_cast<char*>(error_buffer));
    curl_set_client_certificate(set, c);
    if (rc != CURLE_OK)
        throw_client_certificate_error(who, std::string("libcurl refused it: ") + curl_easy_strerror(rc));
    // A TLS backend without this callback cannot stop before the handshake: no dry run.
    if (curl_easy_setopt(handle, CURLOPT_SSL_CTX_FUNCTION, &curl_stop_before_handshake) != CURLE_OK)
        return;
    rc = curl_easy_perform(handle);
    if (rc != CURLE_SSL_CERTPROBLEM)
        return; // loaded (or stopped for another reason, left to the real handshake)
    // libcurl's message names the file (never the passphrase, which it does not print), not
    // OpenSSL's reason: a key that OpenSSL cannot set is a wrong passphrase for an encrypted one,
    // else one that does not match the certificate (OpenSSL checks it when setting the key).
    const std::string reason = error_buffer[0] != '\0' ? std::string(error_buffer) : curl_easy_strerror(rc);
    const std::string cert_source = client_certificate_source(c, false);
    const bool key_failed = reason.find("private key") != std::string::npos;
    if (key_failed && encrypted)
        throw_client_certificate_error(who, "cannot use the private key in " + key_source +
                                                ": wrong key_passphrase, or the key does not match the certificate in " +
                                                cert_source + " (libcurl: " + reason + ")");
    if ((key_failed && has_key) || reason.find("does not match") != std::string::npos)
        throw_client_certificate_error(who, "the private key in " + key_source + " does not match the certificate in " +
                                                cert_source + " (libcurl: " + reason + ")");
    throw_client_certificate_error(who, "libcurl cannot load " + (key_failed ? key_source : cert_source) + ": " +
                                            reason);
#endif
}

} // namespace detail

/** The category of libcurl's `CURLcode`, named `"libcurl"`; messages are `curl_easy_strerror`'s.

    Common codes map to portable conditions, so `ec == boost::system::errc::timed_out` works:

    | `CURLcode` | condition |
    |---|---|
    | `CURLE_COULDNT_CONNECT` | `connection_refused` |
    | `CURLE_OPERATION_TIMEDOUT` | `timed_out` |
    | `CURLE_COULDNT_RESOLVE_HOST`, `CURLE_COULDNT_RESOLVE_PROXY` | `host_unreachable` |
    | `CURLE_SEND_ERROR`, `CURLE_RECV_ERROR` | `connection_reset` |
    | `CURLE_GOT_NOTHING`, `CURLE_PARTIAL_FILE` | `connection_aborted` |
    | TLS failures (`CURLE_SSL_*`, `CURLE_PEER_FAILED_VERIFICATION`) | `protocol_error` |
    | `CURLE_WEIRD_SERVER_REPLY`, `CURLE_HTTP2`, `CURLE_HTTP2_STREAM`, `CURLE_HTTP3`, `CURLE_PROXY` | `protocol_error` |
    | `CURLE_ABORTED_BY_CALLBACK` | `operation_canceled` |
    | `CURLE_WRITE_ERROR`, `CURLE_READ_ERROR` | `io_error` |
    | `CURLE_UNSUPPORTED_PROTOCOL` | `protocol_not_supported` |
    | `CURLE_URL_MALFORMAT`, `CURLE_BAD_FUNCTION_ARGUMENT` | `invalid_argument` |
    | `CURLE_OUT_OF_MEMORY` | `not_enough_memory` |
    | `CURLE_FILESIZE_EXCEEDED` | `message_size` |

    `curl_transport` reports a fatal TLS alert the server sends on a read or write (TLS 1.3's
    refusal of a client certificate, or of its absence) as `CURLE_SSL_CLIENTCERT`, a TLS failure,
    where libcurl says `CURLE_RECV_ERROR`.
*/
inline const boost::system::error_category& curl_category() noexcept
{
    static const detail::curl_category_impl instance;
    return instance;
}

/// Makes an `error_code` of `curl_category()` from a `CURLcode`.
inline boost::system::error_code make_curl_error_code(CURLcode code) noexcept
{
    return {static_cast<int>(code), curl_category()};
}

/** A `genesys::transport` that sends each request with libcurl.

    It owns one easy handle, reused for every call, so connections (and TLS sessions and
    DNS answers) are kept alive from one call to the next. Not thread-safe: use one per
    thread. Move-only: a moved-from transport may be destroyed or assigned to; sending with
    it opens a new handle, with unspecified options.

    `send` sends exactly the request's method, URL and headers, plus what HTTP requires
    (`Host`, and `Content-Length` when there is a body or the method is PUT, POST or PATCH);
    the headers libcurl would add on its own (a catch-all `Accept`, `Expect: 100-continue`,
    a form `Content-Type`) are suppressed, and the URL's path is sent as is (no `..` squashing).
    A request carrying a field the transport owns (`Host`, `Content-Length`, `Transfer-Encoding`,
    `Trailer`, `Connection`, `Keep-Alive`, `Proxy-Connection`, `TE`, `Upgrade`, `Expect`) is
    refused. Only `http` and `https` URLs are fetched; a HEAD request's body, if any, is not sent.
    Redirects are not followed: a 3xx is returned like any response. The response's status,
    headers (those of the final response only, in order, trimmed; a chunked body's trailer fields
    are dropped) and body are returned as received; a `Content-Encoding` is not decoded.

    The proxy is `curl_options::proxy`, or the environment's (`curl_options::proxy_from_environment`),
    except for the `no_proxy` hosts and, unless `curl_options::proxy_loopback`, loopback URLs: an
    `https` URL through a `CONNECT` tunnel, a plain `http` one in absolute form (only for a URL the
    client was explicitly allowed to use in clear text). Credentials for the proxy come from
    `proxy_username`/`proxy_password` or the proxy's URL; libcurl negotiates the scheme.

    A network failure is returned as an `error_code` of `curl_category()` and libcurl's
    detailed message is kept until the next call (`last_error_message()`), except a proxy's
    refusal, which is one of `genesys::errc` (see `send`) with the transport's own message naming
    the proxy. Requests and their headers are never logged nor kept after the call; the proxy's
    password appears in no message (user information is cut out of any URL libcurl quotes, and
    the known passwords are replaced with `***`).

    A send under way can be aborted from another thread with `cancel()` (it is a
    `genesys::cancellable_transport`): `genesys::threaded_transport` uses it to stop the transfer
    of a cancelled asynchronous send.

    @code
    genesys::tokens_api api{genesys::curl_transport{}, {.access_token = token}};
    if (api.verify_token())
        std::cout << "token is valid\n";
    @endcode
*/
class curl_transport {
public:
    /** Creates the easy handle (calling `curl_global_init` first, once per program).

        @throws invalid_argument_error when `options.client_certificate` is unusable (see
        `curl_options::client_certificate`): the message names the file and the reason; or when a
        proxy setting is refused (see `curl_options::proxy`, `proxy_username`, `proxy_password`,
        `no_proxy`): the message names the setting, and the proxy without its credentials.
    */
    explicit curl_transport(curl_options options = {}) : options_(std::move(options))
    {
        try {
            proxy_ = detail::curl_check_proxy_settings(options_);
            if (detail::curl_global_init_once() == CURLE_OK) {
                if (has_client_certificate())
                    detail::curl_check_client_certificate(options_.client_certificate);
                handle_ = curl_easy_init();
            }
        } catch (...) {
            wipe_secrets();
            throw;
        }
    }

    curl_transport(const curl_transport&) = delete;
    curl_transport& operator=(const curl_transport&) = delete;

    /// Takes the handle and its live connections; `other` is left without a handle.
    curl_transport(curl_transport&& other) noexcept
        : handle_(std::exchange(other.handle_, nullptr)), configured_(std::exchange(other.configured_, false)),
          options_(std::move(other.options_)), last_error_(std::move(other.last_error_)),
          proxy_(std::move(other.proxy_)), environment_proxy_text_(std::move(other.environment_proxy_text_)),
          environment_proxy_(std::move(other.environment_proxy_)),
          environment_generation_(other.environment_generation_),
          applied_credentials_(std::exchange(other.applied_credentials_, 0))
    {
        other.wipe_secrets();
        adopt_handle();
    }

    /// Closes this transport's connections and takes `other`'s.
    curl_transport& operator=(curl_transport&& other) noexcept
    {
        if (this != &other) {
            if (handle_ != nullptr)
                curl_easy_cleanup(handle_);
            handle_ = std::exchange(other.handle_, nullptr);
            configured_ = std::exchange(other.configured_, false);
            wipe_secrets();
            options_ = std::move(other.options_);
            last_error_ = std::move(other.last_error_);
            proxy_ = std::move(other.proxy_);
            environment_proxy_text_ = std::move(other.environment_proxy_text_);
            environment_proxy_ = std::move(other.environment_proxy_);
            environment_generation_ = other.environment_generation_;
            applied_credentials_ = std::exchange(other.applied_credentials_, 0);
            other.wipe_secrets();
            adopt_handle();
        }
        return *this;
    }

    /// Closes the connections and frees the handle; wipes the transport's copies of the key
    /// passphrase, the key and the proxy's credentials (libcurl's own copies are freed unwiped).
    ~curl_transport()
    {
        if (handle_ != nullptr)
            curl_easy_cleanup(handle_);
        wipe_secrets();
    }

    /** Sends a request and waits for the whole response.

        @param request Sent as it is, its header fields checked first.
        @return the response (any status, 3xx and errors included, a 407 excepted), or an
        `error_code` of `curl_category()` when no complete response was received: refused, timed
        out, TLS failure, body over `max_response_bytes`, ... A proxy's refusal is one of
        `genesys::errc` instead, with `last_error_message()` naming the proxy (without its
        credentials): `errc::proxy_authentication_required` (not retried by the client) when it
        answers 407 (to a `CONNECT`, or to a plain-http request: never returned as a response) or
        401 to a `CONNECT` (tinyproxy's answer to wrong credentials), e.g. "curl_transport: the
        proxy http://127.0.0.1:4711 refused the credentials (407 Proxy Authentication Required)";
        `errc::proxy_tunnel_failed` (retried) when it answers its `CONNECT` with another status
        (a 403 of its rules, a 5xx when it cannot reach the host). A header with an invalid name or
        value, a field the transport owns (`Host`, `Content-Length`, `Transfer-Encoding`,
        `Trailer`, `Connection`, `Keep-Alive`, `Proxy-Connection`, `TE`, `Upgrade`, `Expect`),
        or a URL holding a NUL, is `boost::system::errc::invalid_argument` and nothing is sent.

        What a failure compares equal to tells whether trying again can help: a TLS failure
        (certificate or host name verification included, and a fatal TLS alert from the server on
        a read or write, such as TLS 1.3's "alert certificate required" when it refuses the client
        certificate or its absence: `CURLE_SSL_CLIENTCERT`, not libcurl's `CURLE_RECV_ERROR`) is
        `errc::protocol_error`, a body over
        `max_response_bytes` is `errc::message_size`, an invalid request `errc::invalid_argument`,
        an unsupported scheme `errc::protocol_not_supported`; refused, reset, closed and timed-out
        connections are `connection_refused`, `connection_reset`, `connection_aborted` and
        `timed_out` (see `curl_category()`). A send aborted by `cancel()` is
        `CURLE_ABORTED_BY_CALLBACK`, which compares equal to `errc::operation_canceled`.

        @throws std::bad_alloc when memory runs out while receiving.
    */
    boost::system::result<http_response> send(const http_request& request)
    {
        // From here to the return, cancel() aborts this send (and only this one).
        cancel_state_.store(sending, std::memory_order_relaxed);
        struct idle_on_exit {
            std::atomic<unsigned char>& state;
            ~idle_on_exit() { state.store(idle, std::memory_order_relaxed); }
        } idle_again{cancel_state_};
        last_error_.clear();
        if (const CURLcode rc = detail::curl_global_init_once(); rc != CURLE_OK)
            return fail(rc, "curl_global_init failed");
        if (handle_ == nullptr) {
            handle_ = curl_easy_init();
            if (handle_ == nullptr)
                return fail(CURLE_FAILED_INIT, "curl_easy_init failed");
        }
        if (request.url.find('\0') != std::string::npos)
            return fail_invalid("curl_transport: the URL holds a NUL character");

        const bool sends_body = detail::sends_body(request.method, request.body);

        // The header list, built for this call only and wiped when it ends.
        detail::curl_slist_ptr headers;
        std::size_t index = 0;
        for (const auto& field : request.headers) {
            ++index;
            switch (detail::request_header_problem(field)) {
            case detail::header_problem::none: break;
            case detail::header_problem::name:
                return fail_invalid("curl_transport: request header #" + std::to_string(index) +
                                    " has an invalid name");
            case detail::header_problem::value:
                return fail_invalid("curl_transport: the value of request header '" + field.name +
                                    "' holds a control character");
            case detail::header_problem::framing:
                return fail_invalid("curl_transport: request header '" + field.name +
                                    "' is not allowed: the transport sets the framing, connection and "
                                    "Host fields itself");
            }
            // "Name:" would tell libcurl to remove the header; "Name;" sends it with an empty value.
            std::string line = field.name;
            if (field.value.empty()) {
                line += ';';
            } else {
                line += ": ";
                line += field.value;
            }
            const bool appended = append(headers, line.c_str());
            std::fill(line.begin(), line.end(), '\0'); // best effort: the line may hold a secret
            if (!appended)
                return fail(CURLE_OUT_OF_MEMORY, "curl_slist_append failed");
        }
        // Headers libcurl would add on its own: "Name:" removes them.
        if (!request.headers.contains("Accept") && !append(headers, "Accept:"))
            return fail(CURLE_OUT_OF_MEMORY, "curl_slist_append failed");
        if (!append(headers, "Expect:"))
            return fail(CURLE_OUT_OF_MEMORY, "curl_slist_append failed");
        if (sends_body && !request.headers.contains("Content-Type") && !append(headers, "Content-Type:"))
            return fail(CURLE_OUT_OF_MEMORY, "curl_slist_append failed");

        detail::curl_receive_state state;
        state.max_body = options_.max_response_bytes;
        char error_buffer[CURL_ERROR_SIZE] = {};

        // The options that never change are set once per handle (after a curl_easy_reset(),
        // which keeps the live connections, TLS sessions and DNS cache); the method, URL,
        // headers, body and buffers are set on every call, from a plain GET; and the options
        // that point into this call's memory are cleared when it ends, so the handle never
        // holds a pointer to a request, header list or buffer that is gone.
        CURLcode rc = CURLE_OK;
        auto set = [&](CURLoption option, auto value) {
            if (rc == CURLE_OK)
                rc = curl_easy_setopt(handle_, option, value);
        };
        if (!configured_) {
            curl_easy_reset(handle_);
            applied_credentials_ = 0; // none, after the reset
            set_fixed_options(set);
            if (rc != CURLE_OK)
                return fail(rc, {}); // libcurl's text for the code
            configured_ = true;
        }
        struct release_on_exit {
            CURL* handle;
            ~release_on_exit()
            {
                curl_easy_setopt(handle, CURLOPT_HTTPHEADER, static_cast<curl_slist*>(nullptr));
                curl_easy_setopt(handle, CURLOPT_POSTFIELDS, static_cast<const void*>(nullptr));
                curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, static_cast<char*>(nullptr));
                curl_easy_setopt(handle, CURLOPT_HEADERDATA, static_cast<void*>(nullptr));
                curl_easy_setopt(handle, CURLOPT_WRITEDATA, static_cast<void*>(nullptr));
            }
        } release{handle_};

        set(CURLOPT_ERRORBUFFER, static_cast<char*>(error_buffer));
        set(CURLOPT_URL, request.url.c_str());
        set(CURLOPT_HTTPHEADER, headers.get());
        set(CURLOPT_HTTPGET, 1L); // a plain GET, whatever the last call was: no body, no HEAD
        set(CURLOPT_CUSTOMREQUEST, static_cast<const char*>(nullptr));
        switch (request.method) {
        case http_method::get: break;
        case http_method::head: set(CURLOPT_NOBODY, 1L); break;
        case http_method::post: break;
        case http_method::put:
        case http_method::delete_:
        case http_method::patch: set(CURLOPT_CUSTOMREQUEST, to_string(request.method).data()); break;
        }
        if (sends_body) {
            if (request.method == http_method::get)
                set(CURLOPT_CUSTOMREQUEST, "GET");
            // The size first: it must not be taken with strlen(), the body may hold NULs.
            set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
            set(CURLOPT_POSTFIELDS, static_cast<const void*>(request.body.data()));
        }
        set(CURLOPT_HEADERDATA, static_cast<void*>(&state));
        set(CURLOPT_WRITEDATA, static_cast<void*>(&state));
        // The proxy is chosen per call, as the handle is reused for any URL, and passed to libcurl
        // explicitly (without its user information), so that libcurl never reads the environment:
        // "" turns every proxy off.
        const detail::curl_proxy_url* proxy = proxy_for(request.url);
        std::string no_proxy;
        if (proxy == nullptr) {
            set(CURLOPT_PROXY, "");
            set(CURLOPT_NOPROXY, "*");
        } else {
            set(CURLOPT_PROXY, proxy->parsed ? proxy->url.c_str() : environment_proxy_text_.c_str());
            if (!options_.no_proxy.empty()) {
                set(CURLOPT_NOPROXY, options_.no_proxy.c_str());
            } else {
                if (options_.proxy_from_environment) {
                    const char* from_environment = std::getenv("no_proxy");
                    if (from_environment == nullptr)
                        from_environment = std::getenv("NO_PROXY");
                    if (from_environment != nullptr)
                        no_proxy = from_environment;
                }
                set(CURLOPT_NOPROXY, no_proxy.c_str());
            }
        }
        const bool credentials = proxy != nullptr && set_proxy_credentials(set, *proxy);

        if (rc != CURLE_OK)
            return fail(rc, error_buffer);

        rc = curl_easy_perform(handle_);
        if (state.exception)
            std::rethrow_exception(state.exception);
        if (state.body_too_large)
            return fail(CURLE_FILESIZE_EXCEEDED, "curl_transport: the response body is larger than max_response_bytes");
        if (rc == CURLE_ABORTED_BY_CALLBACK)
            return fail(rc, "curl_transport: the send was cancelled");
        if (rc != CURLE_OK && proxy != nullptr) {
            // The proxy's answer to CONNECT (libcurl 7.88 fails with CURLE_RECV_ERROR, 8.x with
            // CURLE_COULDNT_CONNECT; both keep the status).
            long connect_code = 0;
            if (curl_easy_getinfo(handle_, CURLINFO_HTTP_CONNECTCODE, &connect_code) == CURLE_OK &&
                connect_code != 0 && connect_code / 100 != 2)
                return fail_proxy(connect_code, proxy, credentials, request.url);
        }
        if ((rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR) && detail::curl_tls_alert(error_buffer))
            rc = detail::curl_tls_alert_code(); // the server ended TLS with an alert: not a reset
        if (rc != CURLE_OK)
            return fail(rc, error_buffer);
        // libcurl accepts a response whose head was cut off by the connection closing.
        if (!state.head_complete)
            return fail(CURLE_PARTIAL_FILE, "curl_transport: the connection closed inside the response head");

        long status = 0;
        if (curl_easy_getinfo(handle_, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK || status <= 0)
            return fail(CURLE_WEIRD_SERVER_REPLY, "curl_transport: no HTTP status was received");
        // Only a proxy sends 407 (RFC 9110, 15.5.8): the one before the server, in absolute form.
        if (status == 407)
            return fail_proxy(status, proxy, credentials, request.url);
        state.response.status = static_cast<int>(status);
        return std::move(state.response);
    }

    /// @return libcurl's message about the last call's failure (e.g. "Failed to connect to
    /// 127.0.0.1 port 1 after 0 ms: Connection refused"), or the transport's own (a proxy's
    /// refusal: "curl_transport: the proxy http://127.0.0.1:4711 asked for credentials and none
    /// were set (407 Proxy Authentication Required)"); never a proxy's password nor the user
    /// information of a URL libcurl quotes. Empty after a success.
    std::string_view last_error_message() const noexcept { return last_error_; }

    /// The options given at construction.
    const curl_options& options() const noexcept { return options_; }

    /** Aborts the send under way, if there is one, from any thread.

        The transfer stops at libcurl's next progress check (at once while data flows, within
        about a second while it waits for the server), and that `send` returns
        `CURLE_ABORTED_BY_CALLBACK`, which compares equal to `errc::operation_canceled`; its
        connection is closed, the next send opens a new one. When no send is under way, `cancel()`
        does nothing: it never aborts a send that starts after it (a cancel that comes just before
        a send starts is lost).

        Thread safety: may be called from any thread while another thread is in `send`; the
        transport must not be moved or destroyed meanwhile.
    */
    void cancel() noexcept
    {
        unsigned char expected = sending;
        cancel_state_.compare_exchange_strong(expected, cancelled, std::memory_order_relaxed);
    }

private:
    static constexpr unsigned char idle = 0, sending = 1, cancelled = 2;

    /// libcurl's progress callback: a non-zero return aborts the transfer.
    static int on_progress(void* self, curl_off_t, curl_off_t, curl_off_t, curl_off_t) noexcept
    {
        return static_cast<const curl_transport*>(self)->cancel_state_.load(std::memory_order_relaxed) == cancelled;
    }

    /// After a move: the progress callback's data points at this transport, not at the moved-from one.
    void adopt_handle() noexcept
    {
        if (handle_ != nullptr && configured_)
            curl_easy_setopt(handle_, CURLOPT_XFERINFODATA, static_cast<void*>(this));
    }

    /// Sets the options that are the same for every call of this transport.
    template <class Set>
    void set_fixed_options(Set& set)
    {
        set(CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
        set(CURLOPT_PROTOCOLS_STR, "http,https");
#else
        set(CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
        set(CURLOPT_PATH_AS_IS, 1L);
        set(CURLOPT_FOLLOWLOCATION, 0L);
        // The request's headers go to the server only, never to a proxy in its CONNECT request.
        set(CURLOPT_HEADEROPT, static_cast<long>(CURLHEADER_SEPARATE));
        set(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
        if (const long ms = detail::curl_millis(options_.connect_timeout); ms != 0)
            set(CURLOPT_CONNECTTIMEOUT_MS, ms);
        if (const long ms = detail::curl_millis(options_.timeout); ms != 0)
            set(CURLOPT_TIMEOUT_MS, ms);
        set(CURLOPT_SSL_VERIFYPEER, options_.verify_peer ? 1L : 0L);
        set(CURLOPT_SSL_VERIFYHOST, options_.verify_host ? 2L : 0L);
        if (!options_.ca_file.empty())
            set(CURLOPT_CAINFO, options_.ca_file.c_str());
        if (!options_.ca_path.empty())
            set(CURLOPT_CAPATH, options_.ca_path.c_str());
        if (has_client_certificate())
            detail::curl_set_client_certificate(set, options_.client_certificate);
        set(CURLOPT_HEADERFUNCTION, static_cast<curl_write_callback>(&detail::curl_receive_state::on_header));
        set(CURLOPT_WRITEFUNCTION, static_cast<curl_write_callback>(&detail::curl_receive_state::on_body));
        // cancel(): the progress callback checks the flag (moves repoint the data, see adopt_handle).
        set(CURLOPT_XFERINFOFUNCTION, static_cast<curl_xferinfo_callback>(&curl_transport::on_progress));
        set(CURLOPT_XFERINFODATA, static_cast<void*>(this));
        set(CURLOPT_NOPROGRESS, 0L);
    }

    bool has_client_certificate() const noexcept
    {
        const auto& c = options_.client_certificate;
        return !c.empty() || !c.key_file.empty() || !c.key_pem.empty();
    }

    static bool append(detail::curl_slist_ptr& list, const char* line) noexcept
    {
        curl_slist* grown = curl_slist_append(list.get(), line);
        if (grown == nullptr)
            return false;
        static_cast<void>(list.release());
        list.reset(grown);
        return true;
    }

    boost::system::error_code fail(CURLcode code, std::string_view message)
    {
        last_error_ = message.empty() ? std::string_view(curl_easy_strerror(code)) : message;
        redact(last_error_);
        return make_curl_error_code(code);
    }

    /// A proxy's refusal: its answer `status` to CONNECT, or a 407 response.
    boost::system::error_code fail_proxy(long status, const detail::curl_proxy_url* proxy, bool credentials,
                                         const std::string& url)
    {
        std::string who = "a proxy";
        if (proxy != nullptr)
            who = "the proxy " +
                  (proxy->parsed ? proxy->display : detail::curl_proxy_display(environment_proxy_text_));
        const std::string answer = status == 407   ? "407 Proxy Authentication Required"
                                   : status == 401 ? "401 Unauthorized"
                                                   : std::to_string(status);
        if (status == 407 || status == 401) {
            if (proxy == nullptr)
                last_error_ = "curl_transport: no proxy is set and the server answered " + answer;
            else
                last_error_ = "curl_transport: " + who +
                              (credentials ? " refused the credentials ("
                                           : " asked for credentials and none were set (") +
                              answer + ")";
            redact(last_error_);
            return make_error_code(errc::proxy_authentication_required);
        }
        last_error_ = "curl_transport: " + who + " would not open a tunnel to " + detail::curl_url_authority(url) +
                      " (CONNECT answered " + answer + ")";
        redact(last_error_);
        return make_error_code(errc::proxy_tunnel_failed);
    }

    /// Removes from a message any user information of a URL and the known proxy passwords.
    void redact(std::string& message) const
    {
        // libcurl quotes a proxy it cannot use ("Unsupported proxy syntax in '...'") as given: one
        // that may hold credentials is named without them.
        for (const std::string* given : {&options_.proxy, &environment_proxy_text_})
            if (given->find('@') != std::string::npos)
                detail::curl_redact_secret(message, *given, detail::curl_proxy_display(*given));
        message = detail::curl_redact_userinfo(std::move(message));
        detail::curl_redact_secret(message, options_.proxy_password);
        detail::curl_redact_secret(message, proxy_.password);
        detail::curl_redact_secret(message, environment_proxy_.password);
    }

    /** The proxy for a call to `url`, null for none: `options_.proxy`, else the environment's when
        `proxy_from_environment` (read now, as libcurl would; parsed again only when it changed).
        A loopback URL has none unless `proxy_loopback`. */
    const detail::curl_proxy_url* proxy_for(const std::string& url)
    {
        if (!options_.proxy_loopback && is_loopback(url))
            return nullptr;
        if (!options_.proxy.empty())
            return &proxy_;
        if (!options_.proxy_from_environment)
            return nullptr;
        const char* value = nullptr;
        auto look = [&value](const char* name) {
            if (value == nullptr)
                value = std::getenv(name);
        };
        if (url.size() >= 5 && detail::iequals(std::string_view(url).substr(0, 5), "http:")) {
            look("http_proxy"); // not HTTP_PROXY, as libcurl: a CGI program's comes from a request header
        } else {
            look("https_proxy");
            look("HTTPS_PROXY");
        }
        look("all_proxy");
        look("ALL_PROXY");
        if (value == nullptr || *value == '\0')
            return nullptr;
        if (environment_proxy_text_ != value) {
            detail::wipe_secret(environment_proxy_text_);
            environment_proxy_text_ = value;
            environment_proxy_ = detail::curl_parse_proxy(environment_proxy_text_);
            ++environment_generation_;
        }
        return &environment_proxy_;
    }

    /** Sets the proxy credentials for `proxy` (the settings', else its URL's) when they are not
        the ones the handle has; returns true when there are some. With credentials, libcurl
        negotiates the scheme (`CURLAUTH_ANY`); without, its default. */
    template <class Set>
    bool set_proxy_credentials(Set& set, const detail::curl_proxy_url& proxy)
    {
        const std::string& user = options_.proxy_username.empty() ? proxy.user : options_.proxy_username;
        const std::string& password = options_.proxy_password.empty() ? proxy.password : options_.proxy_password;
        const bool any = !user.empty() || !password.empty();
        // Which credentials these are: none, the options', or the environment's of a generation.
        const std::uint64_t which = !any ? 0 : &proxy == &proxy_ ? 1 : 2 + environment_generation_;
        if (which != applied_credentials_) {
            set(CURLOPT_PROXYUSERNAME, any ? user.c_str() : static_cast<const char*>(nullptr));
            set(CURLOPT_PROXYPASSWORD, any ? password.c_str() : static_cast<const char*>(nullptr));
            set(CURLOPT_PROXYAUTH, static_cast<unsigned long>(any ? CURLAUTH_ANY : CURLAUTH_BASIC));
            applied_credentials_ = which;
        }
        return any;
    }

    /// Wipes the transport's copies of its secrets (moved-from and destroyed transports).
    void wipe_secrets() noexcept
    {
        detail::wipe_secret(options_.client_certificate.key_passphrase);
        detail::wipe_secret(options_.client_certificate.key_pem);
        detail::wipe_secret(options_.proxy_password);
        detail::wipe_secret(options_.proxy); // may hold a password
        detail::wipe_secret(proxy_.password);
        detail::wipe_secret(environment_proxy_text_);
        detail::wipe_secret(environment_proxy_.password);
    }

    /// `detail::curl_loopback_url(url)`, parsed again only when the scheme and authority differ
    /// from the last call's (a client calls one host: steady calls compare a prefix).
    bool is_loopback(const std::string& url)
    {
        const auto scheme_end = url.find("://");
        const auto origin_end =
            scheme_end == std::string::npos ? url.size() : url.find_first_of("/?#", scheme_end + 3);
        const std::string_view origin = std::string_view(url).substr(0, origin_end);
        if (origin != loopback_origin_) {
            loopback_origin_.assign(origin);
            origin_is_loopback_ = detail::curl_loopback_url(url);
        }
        return origin_is_loopback_;
    }

    boost::system::error_code fail_invalid(std::string message)
    {
        last_error_ = std::move(message);
        return boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
    }

    CURL* handle_ = nullptr;
    bool configured_ = false; // the handle has the fixed options
    curl_options options_;
    std::string last_error_;
    detail::curl_proxy_url proxy_;              // options_.proxy, parsed (when not empty)
    std::string environment_proxy_text_;        // the environment's proxy last read (a secret: may hold a password)
    detail::curl_proxy_url environment_proxy_;  // ... parsed
    std::uint64_t environment_generation_ = 0;  // bumped when environment_proxy_ changes
    std::uint64_t applied_credentials_ = 0;     // which credentials the handle has (see set_proxy_credentials)
    std::string loopback_origin_;     // the scheme and authority `origin_is_loopback_` is for
    bool origin_is_loopback_ = false;
    std::atomic<unsigned char> cancel_state_{idle}; // idle, sending, or cancelled (see cancel())
};

static_assert(transport<curl_transport>);
static_assert(transport_with_error_detail<curl_transport>);
static_assert(cancellable_transport<curl_transport>);

} // namespace genesys

#endif
