// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_TRANSPORT_DETAIL_BEAST_MESSAGE_HPP
#define GENESYS_TRANSPORT_DETAIL_BEAST_MESSAGE_HPP

// The Boost.Beast transports' HTTP messages: the request written for an `http_request` (with the
// refusal of invalid and framing fields), as a Beast message or straight into its wire bytes, and
// its wiping; the response parser and its limits, the response head read back as an
// `http_response` (or, for the asynchronous transport, read straight into one), and whether the
// connection may carry the next request.

#include <genesys/detail/ascii.hpp>
#include <genesys/http.hpp>
#include <genesys/transport/detail/beast_url.hpp>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/optional/optional.hpp>
#include <boost/system/errc.hpp>
#include <boost/system/error_code.hpp>

#include <openssl/crypto.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace genesys::detail {

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

/// The request a Beast transport writes.
using beast_request = boost::beast::http::request<boost::beast::http::string_body>;

/// The parser a Beast transport reads a response head (then its body) with.
using beast_response_parser = boost::beast::http::response_parser<boost::beast::http::string_body>;

/// The longest field name or value Beast's fields container takes (`std::length_error` past it).
inline constexpr std::size_t beast_max_field_size = 65535 - 2;

/** Checks `h` as a field of a request a Beast transport writes: an invalid name or value, a field
    the transport owns (`detail::is_framing_header`) or a name or value too long for Beast is
    refused with `errc::invalid_argument`, `why` saying which (the field's name, never its value).
*/
inline boost::system::error_code beast_check_request_header(const http_header& h, std::string& why)
{
    const auto invalid = boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
    switch (request_header_problem(h)) {
    case header_problem::none: break;
    case header_problem::name: why = "a request header field has an invalid name"; return invalid;
    case header_problem::value: why = "request header field " + h.name + " has an invalid value"; return invalid;
    case header_problem::framing:
        why = "request header field " + h.name +
              " is not allowed: the transport sets the framing, connection and Host fields itself";
        return invalid;
    }
    if (h.name.size() > beast_max_field_size || h.value.size() > beast_max_field_size) {
        why = "a request header field or the target is too long";
        return invalid;
    }
    return {};
}

/** Builds the Beast request for `request`, sent to `url`.

    Sends exactly the request's method, target, fields and body, plus `Host`, `Connection: close`
    when `keep_alive` is false, and the body with its `Content-Length` as `detail::sends_body`
    says. Fails with `errc::invalid_argument`, `why` saying which, for a field name or value that
    is not valid, for a field the transport owns (`detail::is_framing_header`) and for a field or
    target too long for Beast; nothing is sent then.
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
            if (auto ec = beast_check_request_header(h, why))
                return ec;
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

/** Writes the request for `request`, sent to `url`, as it goes on the wire into `out`, without
    building Beast's message: the bytes `beast_build_request` then `beast_serialize_request`
    write (after `beast_to_absolute_form` with `absolute_form`), with the same refusals (nothing
    is written then). In one buffer, sized first and allocated once: a token the request carries
    is in no other buffer, and no reallocation leaves a copy of it in freed memory.

    @param request The request.
    @param url Its parsed URL.
    @param keep_alive False to send `Connection: close`.
    @param absolute_form True for a plain http request through a proxy: the target in absolute
    form (`http://host[:port]/path`).
    @param proxy_authorization With `absolute_form`, the proxy's `Proxy-Authorization` value, or
    empty; when not empty, it replaces any `Proxy-Authorization` field of the request.
    @param out Where the bytes go (replaced).
    @param why The reason of a refusal.
    @return `errc::invalid_argument` for an invalid field or one the transport owns, else success.
*/
inline boost::system::error_code beast_write_request(const http_request& request, const beast_url& url,
                                                     bool keep_alive, bool absolute_form,
                                                     std::string_view proxy_authorization, std::string& out,
                                                     std::string& why)
{
    constexpr std::string_view version = " HTTP/1.1\r\n";
    constexpr std::string_view scheme = "http://";
    constexpr std::string_view proxy_field = "Proxy-Authorization";
    const bool replace_proxy_field = absolute_form && !proxy_authorization.empty();
    const std::string host = beast_host_field(url);
    const bool body = sends_body(request.method, request.body);
    const std::string length = body ? std::to_string(request.body.size()) : std::string();
    const auto method = to_string(request.method);
    auto field_size = [](std::string_view name, std::string_view value) { return name.size() + 2 + value.size() + 2; };

    std::size_t size = method.size() + 1 + (absolute_form ? scheme.size() + host.size() : 0) + url.target.size() +
                       version.size() + field_size("Host", host) + 2;
    if (host.size() > beast_max_field_size || proxy_authorization.size() > beast_max_field_size) {
        why = "a request header field or the target is too long";
        return boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
    }
    for (const auto& h : request.headers) {
        if (auto ec = beast_check_request_header(h, why))
            return ec;
        if (!(replace_proxy_field && iequals(h.name, proxy_field)))
            size += field_size(h.name, h.value);
    }
    if (!keep_alive)
        size += field_size("Connection", "close");
    if (body)
        size += field_size("Content-Length", length) + request.body.size();
    if (replace_proxy_field)
        size += field_size(proxy_field, proxy_authorization);

    auto field = [&out](std::string_view name, std::string_view value) {
        out.append(name).append(": ").append(value).append("\r\n");
    };
    out.clear();
    out.reserve(size);
    out.append(method).append(" ");
    if (absolute_form)
        out.append(scheme).append(host);
    out.append(url.target).append(version);
    field("Host", host);
    for (const auto& h : request.headers)
        if (!(replace_proxy_field && iequals(h.name, proxy_field)))
            field(h.name, h.value);
    if (!keep_alive)
        field("Connection", "close");
    if (body)
        field("Content-Length", length);
    if (replace_proxy_field)
        field(proxy_field, proxy_authorization);
    out.append("\r\n");
    if (body)
        out.append(request.body);
    return {};
}

/** Writes `request` as it goes on the wire (request line, fields, blank line, body) into `out`,
    in one buffer allocated once. Written as one buffer, a request is never copied on its way:
    over TLS, Beast's `ssl_stream` copies a sequence of small buffers (what Beast's serializer
    makes of a message) into a buffer of its own, kept by the connection and freed unzeroed,
    with any token the request carries.
*/
inline void beast_serialize_request(const beast_request& request, std::string& out)
{
    constexpr std::string_view version = " HTTP/1.1\r\n";
    const auto method = request.method_string();
    const auto target = request.target();
    std::size_t size = method.size() + 1 + target.size() + version.size() + 2 + request.body().size();
    for (const auto& field : request)
        size += field.name_string().size() + 2 + field.value().size() + 2;
    out.clear();
    out.reserve(size);
    out.append(method).append(" ").append(target).append(version);
    for (const auto& field : request)
        out.append(field.name_string()).append(": ").append(field.value()).append("\r\n");
    out.append("\r\n").append(request.body());
}

/// Overwrites `text`'s characters with zeros, as `detail::wipe` does, with OpenSSL's
/// `OPENSSL_cleanse` (a `memset` the compiler may not drop): a request is a few hundred bytes,
/// zeroed on every call, where a byte-by-byte volatile loop costs more than the rest of its end.
inline void beast_wipe(std::string& text) noexcept
{
    if (!text.empty())
        ::OPENSSL_cleanse(text.data(), text.size());
}

/** Overwrites with zeros the text of `request`'s field values, its target and its body, where
    Beast keeps them (each field is one allocation of the fields container): a token or secret
    the request carried does not outlive it in freed memory. Called before the request is
    destroyed; it is not sent after. Never fails.
*/
inline void beast_wipe_request(beast_request& request) noexcept
{
    // The views are into storage the request owns and allocated writable: only their constness
    // is Beast's.
    auto zero = [](std::string_view text) noexcept {
        volatile char* p = const_cast<char*>(text.data());
        for (std::size_t i = 0; i < text.size(); ++i)
            p[i] = 0;
    };
    for (const auto& field : request)
        zero(field.value());
    zero(request.target());
    zero(request.body());
}

/// A new parser for the response to a `method` request, with the size limits: a HEAD response
/// has no body whatever its fields say.
template <class Parser>
void beast_init_parser(std::optional<Parser>& parser, http_method method, std::uint32_t max_header_size,
                       std::size_t max_response_bytes)
{
    parser.emplace();
    parser->header_limit(max_header_size);
    parser->body_limit(std::uint64_t{max_response_bytes});
    if (method == http_method::head)
        parser->skip(true);
}

/** The parser the asynchronous Beast transport reads a response with: Beast's (its framing,
    limits, `keep_alive()`, `skip` for HEAD) writing the status, the head's fields and the body
    straight into an `http_response`, with no Beast fields container nor body in between. The
    fields of a chunked body's trailer are dropped: the response's headers are the head's, as
    `beast_response_head` reads them from `beast_response_parser`.
*/
class beast_response_reader final : public boost::beast::http::basic_parser<false> {
public:
    beast_response_reader() = default;

    /// The status code (0 before the status line).
    int status() const noexcept { return response_.status; }

    /// The response read so far: status and fields once the head is done, the body once done.
    http_response& response() noexcept { return response_; }

private:
    using error_code = boost::system::error_code;
    using string_view = boost::beast::string_view;

    void on_request_impl(boost::beast::http::verb, string_view, string_view, int, error_code&) override {}

    void on_response_impl(int code, string_view, int, error_code&) override
    {
        response_.status = code;
        response_.headers.reserve(16); // a typical head's fields, without growing one by one
    }

    void on_field_impl(boost::beast::http::field, string_view name, string_view value, error_code&) override
    {
        if (!head_done_) // else a trailer field
            response_.headers.push_back(http_header{std::string(name), std::string(value)});
    }

    void on_header_impl(error_code&) override { head_done_ = true; }

    void on_body_init_impl(const boost::optional<std::uint64_t>& content_length, error_code& ec) override
    {
        // Within the body limit (Beast refused a larger Content-Length already), as string_body does.
        if (!content_length)
            return;
        if (*content_length > response_.body.max_size()) {
            ec = boost::beast::http::error::buffer_overflow;
            return;
        }
        response_.body.reserve(static_cast<std::size_t>(*content_length));
    }

    std::size_t on_body_impl(string_view body, error_code&) override
    {
        response_.body.append(body.data(), body.size());
        return body.size();
    }

    void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}

    std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code&) override
    {
        response_.body.append(body.data(), body.size());
        return body.size();
    }

    void on_finish_impl(error_code&) override {}

    http_response response_{};
    bool head_done_ = false;
};

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

/// The same for a request written by `beast_write_request`, whose keep-alive is `keep_alive`'s
/// (it has no `Connection` field but the transport's own).
inline bool beast_keep_connection(bool keep_alive, const boost::beast::http::basic_parser<false>& parser,
                                  const boost::beast::flat_buffer& buffer, int status) noexcept
{
    return keep_alive && parser.keep_alive() && buffer.size() == 0 && status != 101;
}

} // namespace genesys::detail

#endif
