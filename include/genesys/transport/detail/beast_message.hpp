// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_TRANSPORT_DETAIL_BEAST_MESSAGE_HPP
#define GENESYS_TRANSPORT_DETAIL_BEAST_MESSAGE_HPP

// The Boost.Beast transports' HTTP messages: the request written for an `http_request` (with the
// refusal of invalid and framing fields) and its wiping, the response parser and its limits, the response head
// read back as an `http_response`, and whether the connection may carry the next request.

#include <genesys/http.hpp>
#include <genesys/transport/detail/beast_url.hpp>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/system/errc.hpp>
#include <boost/system/error_code.hpp>

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
