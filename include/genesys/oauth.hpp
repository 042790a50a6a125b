#ifndef GENESYS_OAUTH_HPP
#define GENESYS_OAUTH_HPP

/// @file
/// Getting an access token: the OAuth client-credentials grant against the login host.

#include <genesys/detail/failure.hpp>
#include <genesys/detail/json_codec.hpp>
#include <genesys/detail/percent_encode.hpp>
#include <genesys/error.hpp>
#include <genesys/http.hpp>
#include <genesys/result.hpp>
#include <genesys/tokens_api.hpp>
#include <genesys/transport.hpp>
#include <genesys/version.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

namespace genesys {

/// A token response of the login host.
struct oauth_token {
    std::string access_token{};
    std::string token_type{};
    /// Lifetime in seconds from when the response was sent.
    std::optional<std::int64_t> expires_in{};
    std::optional<std::string> refresh_token{};

    friend bool operator==(const oauth_token&, const oauth_token&) = default;
};

/// The login host's error body: `{"error": "invalid_client", "error_description": "..."}`.
struct oauth_error_body {
    std::optional<std::string> error{};
    std::optional<std::string> description{};
    std::optional<std::string> error_description{};

    friend bool operator==(const oauth_error_body&, const oauth_error_body&) = default;
};

namespace detail {

template <>
struct model_traits<oauth_token> {
    static constexpr std::string_view name = "OAuth token response";
    static constexpr auto fields = std::tuple{
        field("access_token", &oauth_token::access_token), field("token_type", &oauth_token::token_type),
        field("expires_in", &oauth_token::expires_in), field("refresh_token", &oauth_token::refresh_token)};
};

template <>
struct model_traits<oauth_error_body> {
    static constexpr std::string_view name = "OAuth error";
    static constexpr auto fields = std::tuple{field("error", &oauth_error_body::error),
                                              field("description", &oauth_error_body::description),
                                              field("error_description", &oauth_error_body::error_description)};
};

inline std::string base64_encode(std::string_view in)
{
    constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                     static_cast<unsigned char>(in[i + 2]);
        out += {alphabet[(v >> 18) & 63], alphabet[(v >> 12) & 63], alphabet[(v >> 6) & 63], alphabet[v & 63]};
    }
    if (i + 1 == in.size()) {
        unsigned v = static_cast<unsigned char>(in[i]) << 16;
        out += {alphabet[(v >> 18) & 63], alphabet[(v >> 12) & 63], '=', '='};
    } else if (i + 2 == in.size()) {
        unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
        out += {alphabet[(v >> 18) & 63], alphabet[(v >> 12) & 63], alphabet[(v >> 6) & 63], '='};
    }
    return out;
}

} // namespace detail

/** The login base URL that goes with an API base URL.

    `https://api.<host>` becomes `https://login.<host>` for every region; any other base
    (a gateway, a loopback emulator) is its own login base.
*/
inline std::string login_url_for(std::string_view api_base_url)
{
    std::string url(api_base_url);
    for (std::string_view scheme : {"https://api.", "http://api."}) {
        if (url.size() > scheme.size() && detail::iequals(std::string_view(url).substr(0, scheme.size()), scheme)) {
            url.replace(scheme.size() - 4, 3, "login");
            break;
        }
    }
    while (!url.empty() && url.back() == '/')
        url.pop_back();
    return url;
}

/// Where and as whom to ask for tokens.
struct oauth_config {
    /// The login base URL, e.g. `login_base_url(region::eu_west_1)` or `login_url_for(api_base)`.
    std::string login_url = "https://login.mypurecloud.com";
    std::string client_id{};
    /// Sent only in the `Authorization: Basic` header; never logged or shown.
    std::string client_secret{};
    std::string user_agent = std::string(default_user_agent);
};

/** An OAuth client of the login host, over any `genesys::transport`.

    @code
    genesys::oauth_client login{transport, {.login_url = genesys::login_base_url(genesys::region::eu_west_1),
                                            .client_id = id, .client_secret = secret}};
    genesys::oauth_token token = login.client_credentials();
    @endcode
*/
template <transport Transport>
class oauth_client {
public:
    oauth_client(Transport transport, oauth_config config)
        : transport_(std::move(transport)), config_(std::move(config))
    {
    }

    Transport& transport() noexcept { return transport_; }
    const oauth_config& config() const noexcept { return config_; }

    /** `POST /oauth/token` with `grant_type=client_credentials`.

        A non-2xx answer is an `api_error` whose `body()` carries the OAuth `error` as
        `code` and its `error_description` as `message`.
    */
    result<api_response<oauth_token>> try_client_credentials()
    {
        return request_token("grant_type=client_credentials");
    }
    /// Throwing form of `try_client_credentials`.
    oauth_token client_credentials()
    {
        auto r = try_client_credentials();
        return std::move(r.value().data);
    }

private:
    result<api_response<oauth_token>> request_token(std::string form)
    {
        constexpr std::string_view op = "requestToken";
        const std::string_view secret = config_.client_secret;
        std::string base;
        if (auto why = detail::base_url_problem(config_.login_url, base); !why.empty())
            return detail::invalid_argument(op, "login_url: " + why, secret);
        if (config_.client_id.empty() || config_.client_secret.empty())
            return detail::invalid_argument(op, "client_id and client_secret are required", secret);
        const std::string basic = detail::base64_encode(config_.client_id + ":" + config_.client_secret);
        http_request req{http_method::post,
                         base + "/oauth/token",
                         {{"Authorization", "Basic " + basic},
                          {"Content-Type", "application/x-www-form-urlencoded"},
                          {"Accept", "application/json"},
                          {"User-Agent", config_.user_agent}},
                         std::move(form)};
        for (const auto& h : req.headers)
            if (!detail::is_header_value(h.value))
                return detail::invalid_argument(op, h.name + " would contain a control character", secret);

        std::string what;
        auto sent = detail::send_through(transport_, req, what);
        if (!sent)
            return detail::network_failure(op, sent.error(), what, secret);
        http_response& res = *sent;
        if (res.status < 200 || res.status > 299) {
            error e = detail::api_failure(op, http_response(res), secret);
            oauth_error_body oauth;
            std::string ignored;
            if (!e.body && detail::decode_body(e.raw_body, oauth, ignored) && oauth.error) {
                error_body body;
                body.code = oauth.error;
                body.message = oauth.error_description ? oauth.error_description : oauth.description;
                body.status = res.status;
                e.body = body;
                e.message = std::string(op) + " failed: HTTP " + std::to_string(res.status) + " " + *oauth.error;
                if (body.message) {
                    e.message += ": ";
                    detail::append_one_line(e.message, *body.message);
                }
                detail::redact(e.message, secret);
            }
            return e;
        }
        api_response<oauth_token> out{{res.status, {}}, {}};
        std::string why;
        if (!detail::decode_body(res.body, out.data, why) || out.data.access_token.empty()) {
            if (why.empty())
                why = "access_token is missing";
            res.body.clear(); // it may hold a token: never keep it in an error
            return detail::decode_failure(op, detail::model_traits<oauth_token>::name, why, std::move(res), secret);
        }
        out.headers = std::move(res.headers);
        return out;
    }

    Transport transport_;
    oauth_config config_;
};

} // namespace genesys

#endif
