// SPDX-License-Identifier: BSL-1.0
// <genesys/transport/detail/beast_message.hpp>: the request the Beast adapters write for an
// `http_request`, and its wiping before it is freed. No I/O.
#include <genesys/transport/detail/beast_message.hpp>

#include <doctest/doctest.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

TEST_CASE("beast_message: beast_wipe_request zeroes the field values, the target and the body in place")
{
    using namespace genesys::detail;
    auto url = parse_beast_url("https://api.example.com/oauth/token?code=secret-code");
    REQUIRE(url.has_value());
    const std::string token(100, 't');
    const genesys::http_request request{genesys::http_method::post,
                                        "https://api.example.com/oauth/token?code=secret-code",
                                        {{"Authorization", "Bearer " + token}, {"X-Custom", "value"}},
                                        "grant_type=refresh_token&refresh_token=secret-refresh"};
    beast_request out;
    std::string why;
    REQUIRE_FALSE(beast_build_request(request, *url, true, out, why));

    // Where Beast keeps the text: the views stay valid (nothing is reallocated), and read zeros.
    const auto authorization = out[boost::beast::http::field::authorization];
    REQUIRE(authorization == "Bearer " + token);
    const auto target = out.target();
    const std::string_view body = out.body();
    REQUIRE(target.find("secret-code") != std::string_view::npos);
    REQUIRE(body.find("secret-refresh") != std::string_view::npos);

    beast_wipe_request(out);
    auto all_zero = [](std::string_view text) {
        return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c == '\0'; });
    };
    CHECK(all_zero(authorization));
    CHECK(all_zero(target));
    CHECK(all_zero(body));
    for (const auto& field : out)
        CHECK(all_zero(field.value()));
}

TEST_CASE("beast_message: beast_serialize_request writes, in one buffer, what Beast's serializer writes")
{
    using namespace genesys::detail;
    for (const auto method : {genesys::http_method::get, genesys::http_method::post, genesys::http_method::delete_}) {
        CAPTURE(to_string(method));
        auto url = parse_beast_url("http://127.0.0.1:8080/api/v2/tokens/me?preserveIdleTTL=true");
        REQUIRE(url.has_value());
        const genesys::http_request request{method, "http://127.0.0.1:8080/api/v2/tokens/me?preserveIdleTTL=true",
                                            {{"Authorization", "Bearer abc"}, {"x-lower-case", "v"}, {"Accept", "*/*"}},
                                            method == genesys::http_method::post ? "a=b" : ""};
        for (const bool keep_alive : {true, false}) {
            beast_request out;
            std::string why;
            REQUIRE_FALSE(beast_build_request(request, *url, keep_alive, out, why));
            std::ostringstream beast;
            beast << out;
            std::string mine;
            beast_serialize_request(out, mine);
            CHECK(mine == beast.str());
        }
    }
}

TEST_CASE("beast_message: beast_write_request writes what beast_build_request and beast_serialize_request write")
{
    using namespace genesys::detail;
    const std::string url_text = "http://127.0.0.1:8080/api/v2/tokens/me?preserveIdleTTL=true";
    auto url = parse_beast_url(url_text);
    REQUIRE(url.has_value());
    for (const auto method : {genesys::http_method::get, genesys::http_method::head, genesys::http_method::put,
                              genesys::http_method::post, genesys::http_method::delete_, genesys::http_method::patch}) {
        for (const std::string body : {"", "a=b&c=d"}) {
            for (const bool keep_alive : {true, false}) {
                CAPTURE(to_string(method));
                CAPTURE(body);
                CAPTURE(keep_alive);
                const genesys::http_request request{
                    method,
                    url_text,
                    {{"Authorization", "Bearer abc"}, {"x-lower-case", "v"}, {"Accept", "*/*"}},
                    body};
                beast_request built;
                std::string why;
                REQUIRE_FALSE(beast_build_request(request, *url, keep_alive, built, why));
                std::string expected;
                beast_serialize_request(built, expected);
                std::string written = "left over";
                REQUIRE_FALSE(beast_write_request(request, *url, keep_alive, false, {}, written, why));
                CHECK(written == expected);
                // One allocation, sized first: no reallocation left a copy behind.
                CHECK(written.capacity() - written.size() < 16);
            }
        }
    }
}

TEST_CASE("beast_message: beast_write_request refuses what beast_build_request refuses, with the same reason")
{
    using namespace genesys::detail;
    auto url = parse_beast_url("https://api.example.com/x");
    REQUIRE(url.has_value());
    const genesys::http_headers refused[] = {
        {{"Bad Name", "v"}},
        {{"X-Ok", "v"}, {"X-Value", "a\r\nInjected: 1"}},
        {{"Content-Length", "5"}},
        {{"connection", "close"}},
        {{"Host", "elsewhere"}},
        {{"X-Long", std::string(70000, 'a')}},
        {{std::string(70000, 'n'), "v"}},
    };
    for (const auto& headers : refused) {
        const genesys::http_request request{genesys::http_method::get, "https://api.example.com/x", headers, {}};
        beast_request built;
        std::string why_built;
        const auto built_ec = beast_build_request(request, *url, true, built, why_built);
        std::string written;
        std::string why_written;
        const auto written_ec = beast_write_request(request, *url, true, false, {}, written, why_written);
        CHECK(built_ec == boost::system::errc::invalid_argument);
        CHECK(written_ec == built_ec);
        CHECK(why_written == why_built);
        CHECK(written.empty());
    }
    // At Beast's limit exactly: accepted by both.
    const genesys::http_request longest{genesys::http_method::get,
                                        "https://api.example.com/x",
                                        {{"X-Long", std::string(beast_max_field_size, 'a')}},
                                        {}};
    beast_request built;
    std::string why;
    CHECK_FALSE(beast_build_request(longest, *url, true, built, why));
    std::string written;
    CHECK_FALSE(beast_write_request(longest, *url, true, false, {}, written, why));
}

TEST_CASE("beast_message: beast_wipe zeroes a string's characters in place")
{
    std::string secret = "GET / HTTP/1.1\r\nAuthorization: Bearer secret-token-value\r\n\r\n";
    const char* data = secret.data();
    const auto size = secret.size();
    genesys::detail::beast_wipe(secret);
    CHECK(secret.data() == data);
    CHECK(secret.size() == size);
    CHECK(std::all_of(secret.begin(), secret.end(), [](char c) { return c == '\0'; }));
    std::string empty;
    genesys::detail::beast_wipe(empty); // nothing to do, no failure
    CHECK(empty.empty());
}

TEST_CASE("beast_message: beast_response_reader reads what beast_response_parser and beast_response_head read")
{
    using namespace genesys::detail;
    const std::string responses[] = {
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\nX-A: 1\r\nX-A: 2\r\n\r\n{\"a\":1}",
        "HTTP/1.1 204 No Content\r\nDate: Mon, 07 Dec 2026 16:00:00 GMT\r\n\r\n",
        "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\nConnection: close\r\nContent-Length: 2\r\n\r\nno",
        // Chunked, with a trailer: its fields are not the response's headers.
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Trailer\r\n\r\n"
        "3\r\nabc\r\n4\r\ndefg\r\n0\r\nX-Trailer: late\r\n\r\n",
        "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
    };
    for (const auto& raw : responses) {
        CAPTURE(raw);
        boost::system::error_code ec;
        std::optional<beast_response_parser> beast;
        beast_init_parser(beast, genesys::http_method::get, 8192, 1024);
        // The head first, read before the body as the transports read it; then the body.
        const auto head_size = beast->put(boost::asio::buffer(raw), ec);
        REQUIRE_FALSE(ec);
        REQUIRE(beast->is_header_done());
        auto expected = beast_response_head(*beast);
        beast->eager(true);
        if (!beast->is_done())
            REQUIRE(beast->put(boost::asio::buffer(raw.data() + head_size, raw.size() - head_size), ec) ==
                    raw.size() - head_size);
        REQUIRE_FALSE(ec);
        REQUIRE(beast->is_done());
        expected.body = beast->get().body();

        std::optional<beast_response_reader> reader;
        beast_init_parser(reader, genesys::http_method::get, 8192, 1024);
        reader->eager(true);
        REQUIRE(reader->put(boost::asio::buffer(raw), ec) == raw.size());
        REQUIRE_FALSE(ec);
        REQUIRE(reader->is_done());
        CHECK(reader->status() == expected.status);
        CHECK(reader->response().status == expected.status);
        CHECK(reader->response().headers == expected.headers);
        CHECK(reader->response().body == expected.body);
        CHECK(reader->keep_alive() == beast->keep_alive());
        CHECK_FALSE(reader->response().headers.contains("X-Trailer"));
    }
}

TEST_CASE("beast_message: beast_response_reader keeps the limits, and a HEAD response has no body")
{
    using namespace genesys::detail;
    boost::system::error_code ec;
    std::optional<beast_response_reader> reader;
    // Over max_response_bytes, by its Content-Length or as chunks.
    beast_init_parser(reader, genesys::http_method::get, 8192, 4);
    const std::string big = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabcde";
    reader->put(boost::asio::buffer(big), ec);
    CHECK(ec == boost::beast::http::error::body_limit);
    beast_init_parser(reader, genesys::http_method::get, 8192, 4);
    const std::string chunks = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n";
    reader->eager(true);
    ec = {};
    reader->put(boost::asio::buffer(chunks), ec);
    CHECK(ec == boost::beast::http::error::body_limit);
    // Over max_header_size.
    beast_init_parser(reader, genesys::http_method::get, 32, 1024);
    const std::string head = "HTTP/1.1 200 OK\r\nX-Long: " + std::string(100, 'v') + "\r\n\r\n";
    ec = {};
    reader->put(boost::asio::buffer(head), ec);
    CHECK(ec == boost::beast::http::error::header_limit);
    // HEAD: the Content-Length is the resource's, not a body to wait for.
    beast_init_parser(reader, genesys::http_method::head, 8192, 1024);
    const std::string headers_only = "HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n";
    ec = {};
    reader->put(boost::asio::buffer(headers_only), ec);
    CHECK_FALSE(ec);
    CHECK(reader->is_done());
    CHECK(reader->response().body.empty());
    CHECK(reader->response().headers.get("Content-Length") == "500");
}
