#ifndef GENESYS_OAUTH_HPP
#define GENESYS_OAUTH_HPP

/// @file
/// Getting an access token: the OAuth grants of the login host, PKCE helpers, and token
/// sources that keep a token fresh.

#include <genesys/async_transport.hpp>
#include <genesys/detail/ascii.hpp>
#include <genesys/detail/call_machine.hpp>
#include <genesys/detail/config_check.hpp>
#include <genesys/detail/failure.hpp>
#include <genesys/detail/json_codec.hpp>
#include <genesys/detail/log_attempt.hpp>
#include <genesys/detail/outcome.hpp>
#include <genesys/detail/percent_encode.hpp>
#include <genesys/detail/send_through.hpp>
#include <genesys/detail/sha256.hpp>
#include <genesys/error.hpp>
#include <genesys/http.hpp>
#include <genesys/region.hpp>
#include <genesys/result.hpp>
#include <genesys/retry.hpp>
#include <genesys/token_source.hpp>
#include <genesys/transport.hpp>
#include <genesys/version.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace genesys {

/// The login host's error body: `{"error": "invalid_client", "description": "...", "error_description": "..."}`.
struct oauth_error_body {
    /// The OAuth error code: `invalid_client`, `invalid_grant`, `unsupported_grant_type`, ...
    std::optional<std::string> error{};
    /// What went wrong, as the Genesys login host words it.
    std::optional<std::string> description{};
    /// The RFC 6749 description (usually the same text as `description`).
    std::optional<std::string> error_description{};

    /// Field-by-field equality.
    friend bool operator==(const oauth_error_body&, const oauth_error_body&) = default;
};

namespace detail {

template <>
struct model_traits<oauth_error_body> {
    static constexpr std::string_view name = "OAuth error";
    static constexpr auto fields = std::tuple{field("error", &oauth_error_body::error),
                                              field("description", &oauth_error_body::description),
                                              field("error_description", &oauth_error_body::error_description)};
};

inline std::string base64_encode(std::string_view in, bool url_alphabet = false, bool pad = true)
{
    const char* alphabet = url_alphabet ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                                        : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
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
        out += {alphabet[(v >> 18) & 63], alphabet[(v >> 12) & 63]};
        if (pad)
            out += "==";
    } else if (i + 2 == in.size()) {
        unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
        out += {alphabet[(v >> 18) & 63], alphabet[(v >> 12) & 63], alphabet[(v >> 6) & 63]};
        if (pad)
            out += '=';
    }
    return out;
}

/// Appends `name=value` to a form body, both percent-encoded (every byte but the unreserved ones).
inline void append_form_field(std::string& form, std::string_view name, std::string_view value)
{
    if (!form.empty())
        form += '&';
    append_percent_encoded(form, name);
    form += '=';
    append_percent_encoded(form, value);
}

/// RFC 7636 section 4.1: 43 to 128 characters, each unreserved.
inline std::string_view code_verifier_problem(std::string_view verifier) noexcept
{
    if (verifier.size() < 43 || verifier.size() > 128)
        return "code_verifier must be 43 to 128 characters long";
    for (char c : verifier)
        if (!is_unreserved(c))
            return "code_verifier may hold only letters, digits, '-', '.', '_' and '~'";
    return {};
}

/// True when every character of `s` belongs to the base64 or base64url alphabet (with padding).
constexpr bool is_base64_text(std::string_view s) noexcept
{
    for (char c : s)
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
              c == '-' || c == '_' || c == '='))
            return false;
    return true;
}

} // namespace detail

/// Base64 (RFC 4648 section 4, padded): e.g. for a SAML assertion, which the grant takes encoded.
inline std::string base64_encode(std::string_view data) { return detail::base64_encode(data); }

/// Base64url without padding (RFC 4648 section 5, RFC 7636 appendix A).
inline std::string base64url_encode(std::string_view data) { return detail::base64_encode(data, true, false); }

/** A new PKCE code verifier: `length` characters drawn uniformly from the 66 unreserved
    characters by `std::random_device`. RFC 7636 allows 43 to 128; any other length throws
    `invalid_argument_error`. */
inline std::string make_code_verifier(std::size_t length = 64)
{
    if (length < 43 || length > 128)
        throw_exception_from_error(detail::invalid_argument(
            "makeCodeVerifier", "a code verifier is 43 to 128 characters long, not " + std::to_string(length)));
    constexpr std::string_view unreserved = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
    std::random_device device;
    std::uniform_int_distribution<std::size_t> pick(0, unreserved.size() - 1);
    std::string out(length, '\0');
    for (char& c : out)
        c = unreserved[pick(device)];
    return out;
}

/** The PKCE S256 code challenge of `verifier`: base64url(SHA-256(verifier)) without padding.
    A verifier that is not 43 to 128 unreserved characters throws `invalid_argument_error`.

    @code
    assert(genesys::code_challenge_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") ==
           "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"); // RFC 7636 appendix B
    @endcode
*/
inline std::string code_challenge_s256(std::string_view verifier)
{
    if (auto why = detail::code_verifier_problem(verifier); !why.empty())
        throw_exception_from_error(detail::invalid_argument("codeChallengeS256", why));
    const auto digest = detail::sha256_digest(verifier);
    return base64url_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

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
    /// The login base URL, e.g. `login_base_url(region::eu_west_1)`, `login_url_for(api_base)`, or
    /// a gateway's login prefix (`https://gw.example.com/login`).
    std::string login_url = "https://login.mypurecloud.com";
    /// The OAuth client's id.
    std::string client_id{};
    /// Sent only in the `Authorization: Basic` header; never logged or shown. May be empty for
    /// a public client (authorization code with PKCE, refresh token): `client_id` then goes in the form.
    std::string client_secret{};
    /// The `User-Agent` header; the default names this library and its version.
    std::string user_agent = std::string(default_user_agent);
    /// Allows `http://` to a host that is not loopback (see `client_config::allow_insecure_http`).
    bool allow_insecure_http = false;
    /// How token requests are retried, when `retry_token_requests` is set.
    retry_policy retry{};
    /// `POST /oauth/token` is not idempotent, so it is never retried unless this is set; then
    /// `retry` applies (429, 502, 503, 504 and network failures, within its budget).
    bool retry_token_requests = false;
    /// A response body larger than this is an error (default 4 MiB).
    std::size_t max_response_bytes = 4 * 1024 * 1024;
    /// JSON nested deeper than this is an error (default 32 levels).
    std::size_t max_json_depth = 32;
    /// Receives one event per attempt of a token request, as `client_config::logger` does;
    /// `Authorization` (the Basic credential) reads `[REDACTED]`. No cost when empty.
    genesys::logger logger{};

    /// The configuration for a region's login host.
    static oauth_config for_region(region r, std::string client_id, std::string client_secret)
    {
        oauth_config cfg;
        cfg.login_url = login_base_url(r);
        cfg.client_id = std::move(client_id);
        cfg.client_secret = std::move(client_secret);
        return cfg;
    }
};

/** The OAuth error of a failed token request: the login host's `error`, `description` and
    `error_description`, or `std::nullopt` when `e` is not one (another operation, a network
    failure, a body that is not an OAuth error). Secrets in the body read `[REDACTED]`.

    The same error is also in `e.body`: `code` is the OAuth `error`, `message` its description.
*/
inline std::optional<oauth_error_body> oauth_error_of(const error& e)
{
    if (e.kind != error_kind::api || e.operation != detail::request_token_operation || e.raw_body.empty())
        return std::nullopt;
    oauth_error_body out;
    std::string ignored;
    if (!detail::decode_body(e.raw_body, out, ignored) || !out.error)
        return std::nullopt;
    return out;
}

/// `oauth_error_of(ex.info())`.
inline std::optional<oauth_error_body> oauth_error_of(const exception& ex) { return oauth_error_of(ex.info()); }

namespace detail {

/// Everything a token request's errors must not show: the client secret, the Basic credential,
/// the grant's own secrets, each also as it looks percent-encoded.
struct oauth_secrets {
    std::vector<std::string> values;

    void add(std::string_view s)
    {
        if (s.empty())
            return;
        values.emplace_back(s);
        std::string encoded = percent_encode(s);
        if (encoded != s)
            values.push_back(std::move(encoded));
    }
    void scrub_text(std::string& text) const
    {
        for (const auto& s : values)
            redact(text, s);
    }
    error scrub(error e) const
    {
        scrub_text(e.message);
        scrub_text(e.raw_body);
        if (e.body) {
            if (e.body->message)
                scrub_text(*e.body->message);
            if (e.body->code)
                scrub_text(*e.body->code);
            if (e.body->message_with_params)
                scrub_text(*e.body->message_with_params);
        }
        return e;
    }
};

/// The login host's rules for one token request: its secrets scrubbed from everything, and a
/// refusal's OAuth error body read into the error.
class oauth_rules final : public attempt_rules {
public:
    oauth_rules(oauth_secrets secrets, response_limits limits) : secrets_(std::move(secrets)), limits_(limits) {}

    const oauth_secrets& secrets() const noexcept { return secrets_; }
    response_limits limits() const noexcept { return limits_; }

    void scrub(std::string& text) const override { secrets_.scrub_text(text); }

    outcome<http_response> judge(std::string_view op, boost::system::result<http_response>&& sent,
                                 std::string_view what, std::string_view) const override
    {
        if (!sent)
            return secrets_.scrub(network_failure(op, sent.error(), what, {}));
        http_response& res = *sent;
        if (res.status >= 200 && res.status <= 299)
            return std::move(res);
        const bool too_large = res.body.size() > limits_.max_bytes;
        secrets_.scrub_text(res.body); // before anything is parsed out of it
        error e = api_failure(op, std::move(res), {}, limits_);
        oauth_error_body oauth;
        std::string ignored;
        if (!too_large && decode_body(e.raw_body, oauth, ignored, limits_.max_depth) && oauth.error) {
            error_body body = e.body.value_or(error_body{});
            body.code = oauth.error;
            if (oauth.error_description || oauth.description)
                body.message = oauth.error_description ? oauth.error_description : oauth.description;
            body.status = e.status;
            e.body = std::move(body);
            e.message = std::string(op) + " failed: HTTP " + std::to_string(e.status) + " ";
            append_one_line(e.message, *oauth.error, {}, 100); // the body was scrubbed above
            if (e.body->message) {
                e.message += ": ";
                append_one_line(e.message, *e.body->message, {});
            }
            append_correlation(e.message, e.correlation_id, {});
        }
        return secrets_.scrub(std::move(e));
    }

private:
    oauth_secrets secrets_;
    response_limits limits_;
};

/// Runs an `oauth_client`'s token request asynchronously: defined by `<genesys/async.hpp>`.
template <class Client>
struct async_grant_runner;

/// A token request ready to run: the request, and the rules that judge its answer.
struct token_request {
    http_request request;
    oauth_rules rules;
};

/// The grant's result from a token request's final outcome: the 2xx body as an `oauth_token`.
inline result<api_response<oauth_token>> to_oauth_token(outcome<http_response>&& sent, const oauth_rules& rules)
{
    constexpr std::string_view op = request_token_operation;
    if (!sent)
        return std::move(sent.failure());
    http_response& res = *sent;
    const auto name = model_traits<oauth_token>::name;
    const response_limits limits = rules.limits();
    if (res.body.size() > limits.max_bytes) {
        const auto size = res.body.size();
        res.body.clear(); // it may hold a token: never keep it in an error
        return rules.secrets().scrub(decode_failure(op, name,
                                                    "the body is " + std::to_string(size) +
                                                        " bytes, over the limit of " + std::to_string(limits.max_bytes),
                                                    std::move(res), {}, errc::response_too_large));
    }
    api_response<oauth_token> out{{res.status, {}}, {}};
    std::string why;
    if (!decode_body(res.body, out.data, why, limits.max_depth) || out.data.access_token.empty()) {
        if (why.empty())
            why = "access_token is missing";
        res.body.clear(); // it may hold a token: never keep it in an error
        return rules.secrets().scrub(decode_failure(op, name, why, std::move(res), {}));
    }
    out.headers = std::move(res.headers);
    return out;
}

} // namespace detail

/** An OAuth client of the login host, over any `genesys::transport`.

    Every grant is `POST <login_url>/oauth/token` with `Content-Type:
    application/x-www-form-urlencoded`, every form value percent-encoded, and the client
    authenticated with `Authorization: Basic base64(client_id:client_secret)` (or, for a public
    client without a secret, `client_id` in the form). Each has a throwing form and a `try_`
    form returning `result<api_response<oauth_token>>`.

    A non-2xx answer is an `api_error` with the HTTP status whose `body()` carries the OAuth
    `error` as `code` and its `error_description` as `message`; `oauth_error_of(e)` gives the
    OAuth body itself. The secret, the Basic credential, refresh tokens, codes, verifiers and
    assertions never appear in an error.

    Not thread-safe by itself (its transport may not be); a `token_source` serializes its calls.

    @code
    genesys::oauth_client login{transport, genesys::oauth_config::for_region(genesys::region::eu_west_1, id, secret)};
    genesys::oauth_token token = login.client_credentials();
    @endcode
*/
template <class Transport>
    requires transport<Transport> || async_transport<Transport>
class oauth_client {
public:
    /// Makes a client. A bad `config` is not thrown here: every grant then returns or throws it.
    oauth_client(Transport transport, oauth_config config)
        : transport_(std::move(transport)), config_(std::move(config))
    {
    }

    /// The transport the client sends through.
    Transport& transport() noexcept { return transport_; }
    /// The configuration the client was made with.
    const oauth_config& config() const noexcept { return config_; }

    /** The client-credentials grant: `grant_type=client_credentials`. Needs `client_secret`.

        `async_client_credentials` (an asynchronous transport; include `<genesys/async.hpp>`)
        completes with `void(result<api_response<oauth_token>>)`; the client must outlive it.
        @{ */
    [[nodiscard]] result<api_response<oauth_token>> try_client_credentials() { return run(client_credentials_request()); }
    oauth_token client_credentials() { return take(try_client_credentials()); }
    template <class CompletionToken>
    auto async_client_credentials(CompletionToken&& token)
    {
        return async_run(client_credentials_request(), std::forward<CompletionToken>(token));
    }
    /// @}

    /** The refresh-token grant: `grant_type=refresh_token&refresh_token=...`.
        @{ */
    [[nodiscard]] result<api_response<oauth_token>> try_refresh_token(std::string_view refresh_token)
    {
        return run(refresh_token_request(refresh_token));
    }
    oauth_token refresh_token(std::string_view refresh_token) { return take(try_refresh_token(refresh_token)); }
    template <class CompletionToken>
    auto async_refresh_token(std::string_view refresh_token, CompletionToken&& token)
    {
        return async_run(refresh_token_request(refresh_token), std::forward<CompletionToken>(token));
    }
    /// @}

    /** The authorization-code grant: `grant_type=authorization_code&code=...&redirect_uri=...`,
        with `&code_verifier=...` for PKCE (a verifier from `make_code_verifier`, whose
        `code_challenge_s256` went into the authorize URL). Without a verifier the client must
        have a secret.
        @{ */
    [[nodiscard]] result<api_response<oauth_token>> try_authorization_code(std::string_view code,
                                                                           std::string_view redirect_uri,
                                                                           std::string_view code_verifier = {})
    {
        return run(authorization_code_request(code, redirect_uri, code_verifier));
    }
    oauth_token authorization_code(std::string_view code, std::string_view redirect_uri,
                                   std::string_view code_verifier = {})
    {
        return take(try_authorization_code(code, redirect_uri, code_verifier));
    }
    template <class CompletionToken>
    auto async_authorization_code(std::string_view code, std::string_view redirect_uri, std::string_view code_verifier,
                                  CompletionToken&& token)
    {
        return async_run(authorization_code_request(code, redirect_uri, code_verifier),
                         std::forward<CompletionToken>(token));
    }
    /// @}

    /** The SAML2 bearer grant: `grant_type=urn:ietf:params:oauth:grant-type:saml2-bearer`,
        `orgName` and `assertion`. As in the official SDKs, `assertion` is the SAML assertion
        already base64-encoded (`genesys::base64_encode(xml)` encodes one); anything outside the
        base64 alphabets is rejected before sending. Needs `client_secret`.
        @{ */
    [[nodiscard]] result<api_response<oauth_token>> try_saml2_bearer(std::string_view org_name, std::string_view assertion)
    {
        return run(saml2_bearer_request(org_name, assertion));
    }
    oauth_token saml2_bearer(std::string_view org_name, std::string_view assertion)
    {
        return take(try_saml2_bearer(org_name, assertion));
    }
    template <class CompletionToken>
    auto async_saml2_bearer(std::string_view org_name, std::string_view assertion, CompletionToken&& token)
    {
        return async_run(saml2_bearer_request(org_name, assertion), std::forward<CompletionToken>(token));
    }
    /// @}

    /// The `grant_type` of the SAML2 bearer grant (RFC 7522).
    static constexpr std::string_view saml2_bearer_grant_type = "urn:ietf:params:oauth:grant-type:saml2-bearer";

private:
    static constexpr std::string_view op = detail::request_token_operation;

    static oauth_token take(result<api_response<oauth_token>> r) { return std::move(r.value().data); }

    error reject(std::string_view why) const { return detail::invalid_argument(op, why, config_.client_secret); }

    using prepared_request = detail::outcome<detail::token_request>;

    prepared_request client_credentials_request() const
    {
        std::string form;
        detail::append_form_field(form, "grant_type", "client_credentials");
        return prepare(std::move(form), {}, true);
    }

    prepared_request refresh_token_request(std::string_view refresh_token) const
    {
        if (refresh_token.empty())
            return reject("refresh_token is empty");
        std::string form;
        detail::append_form_field(form, "grant_type", "refresh_token");
        detail::append_form_field(form, "refresh_token", refresh_token);
        return prepare(std::move(form), {refresh_token}, false);
    }

    prepared_request authorization_code_request(std::string_view code, std::string_view redirect_uri,
                                                std::string_view code_verifier) const
    {
        if (code.empty())
            return reject("code is empty");
        if (redirect_uri.empty())
            return reject("redirect_uri is empty");
        if (!code_verifier.empty()) {
            if (auto why = detail::code_verifier_problem(code_verifier); !why.empty())
                return reject(why);
        } else if (config_.client_secret.empty()) {
            return reject("without a code_verifier (PKCE) the authorization-code grant needs client_secret");
        }
        std::string form;
        detail::append_form_field(form, "grant_type", "authorization_code");
        detail::append_form_field(form, "code", code);
        detail::append_form_field(form, "redirect_uri", redirect_uri);
        if (!code_verifier.empty())
            detail::append_form_field(form, "code_verifier", code_verifier);
        return prepare(std::move(form), {code, code_verifier}, false);
    }

    prepared_request saml2_bearer_request(std::string_view org_name, std::string_view assertion) const
    {
        if (org_name.empty())
            return reject("org_name is empty");
        if (assertion.empty())
            return reject("assertion is empty");
        if (!detail::is_base64_text(assertion))
            return reject("assertion must be base64-encoded (genesys::base64_encode encodes a SAML assertion)");
        std::string form;
        detail::append_form_field(form, "grant_type", saml2_bearer_grant_type);
        detail::append_form_field(form, "orgName", org_name);
        detail::append_form_field(form, "assertion", assertion);
        return prepare(std::move(form), {assertion}, true);
    }

    /// Runs a prepared token request asynchronously (defined by `<genesys/async.hpp>`).
    template <class CompletionToken>
    auto async_run(prepared_request&& prepared, CompletionToken&& token)
    {
        return detail::async_grant_runner<oauth_client>::run(*this, std::move(prepared),
                                                             std::forward<CompletionToken>(token));
    }

    template <class>
    friend struct detail::async_grant_runner;

    /// The token request of a grant whose form is `form`, or why it is rejected before sending.
    detail::outcome<detail::token_request> prepare(std::string form, std::initializer_list<std::string_view> grant_secrets,
                                                   bool secret_required) const
    {
        detail::oauth_secrets hidden;
        hidden.add(config_.client_secret);
        for (auto s : grant_secrets)
            hidden.add(s);

        std::string base;
        if (auto why = detail::base_url_problem(config_.login_url, base, config_.allow_insecure_http); !why.empty())
            return hidden.scrub(detail::invalid_argument(op, "login_url: " + why));
        if (config_.client_id.empty() || (secret_required && config_.client_secret.empty()))
            return hidden.scrub(detail::invalid_argument(op, "client_id and client_secret are required"));
        if (config_.client_id.find(':') != std::string::npos)
            return hidden.scrub(detail::invalid_argument(op, "client_id must not contain ':'"));

        http_request req{http_method::post, base + "/oauth/token", {}, std::move(form)};
        req.headers.reserve(4);
        if (!config_.client_secret.empty()) {
            std::string basic = detail::base64_encode(config_.client_id + ":" + config_.client_secret);
            hidden.add(basic);
            req.headers.add("Authorization", "Basic " + basic);
        } else {
            detail::append_form_field(req.body, "client_id", config_.client_id);
        }
        req.headers.add("Content-Type", "application/x-www-form-urlencoded");
        req.headers.add("Accept", "application/json");
        req.headers.add("User-Agent", config_.user_agent);
        for (const auto& h : req.headers)
            if (!detail::is_header_value(h.value))
                return hidden.scrub(detail::invalid_argument(op, h.name + " would contain a control character"));

        if (config_.retry_token_requests)
            if (auto why = detail::retry_policy_problem(config_.retry); !why.empty())
                return hidden.scrub(detail::invalid_argument(op, why));

        return detail::token_request{std::move(req),
                                     detail::oauth_rules(std::move(hidden),
                                                         {config_.max_response_bytes, config_.max_json_depth})};
    }

    /// The step machine's settings for `prepared`.
    detail::call_settings settings(const detail::token_request& prepared) const noexcept
    {
        detail::call_settings s;
        s.operation = op;
        s.rules = &prepared.rules;
        s.retry = &config_.retry;
        s.retry_allowed = config_.retry_token_requests && config_.retry.enabled();
        s.log = &config_.logger;
        return s;
    }

    /// Runs a prepared token request, blocking.
    result<api_response<oauth_token>> run(detail::outcome<detail::token_request>&& prepared)
    {
        if (!prepared)
            return std::move(prepared.failure());
        const detail::call_settings s = settings(*prepared);
        detail::call_machine machine(s, prepared->request);
        auto sent = detail::run_blocking(machine, config_.retry, [this](const http_request& r, std::string& what) {
            return detail::send_through(transport_, r, what);
        });
        return detail::to_oauth_token(std::move(sent), prepared->rules);
    }

    Transport transport_;
    oauth_config config_;
};

/** A token source that gets its tokens with the client-credentials grant of `client`: the
    usual choice for a service.

    @code
    auto source = genesys::make_client_credentials_source(
        genesys::oauth_client{genesys::curl_transport{}, genesys::oauth_config::for_region(r, id, secret)},
        {.refresh_margin = std::chrono::minutes(5)});
    @endcode
*/
template <transport Transport>
std::shared_ptr<token_source> make_client_credentials_source(oauth_client<Transport> client,
                                                             token_source_options options = {})
{
    auto shared = std::make_shared<oauth_client<Transport>>(std::move(client));
    return std::make_shared<token_source>([shared] { return shared->try_client_credentials(); }, std::move(options));
}

/** A token source that starts with `initial` (e.g. from `authorization_code` or `saml2_bearer`)
    and renews it with the refresh-token grant of `client`, using the newest refresh token the
    login host sent. Without a refresh token, renewing fails with `invalid_argument`. */
template <transport Transport>
std::shared_ptr<token_source> make_refresh_token_source(oauth_client<Transport> client, oauth_token initial,
                                                        token_source_options options = {})
{
    struct state {
        oauth_client<Transport> client;
        std::string refresh_token;
    };
    auto shared = std::make_shared<state>(state{std::move(client), initial.refresh_token.value_or("")});
    auto fetch = [shared]() -> result<api_response<oauth_token>> {
        auto r = shared->client.try_refresh_token(shared->refresh_token);
        if (r && r->data.refresh_token && !r->data.refresh_token->empty())
            shared->refresh_token = *r->data.refresh_token;
        return r;
    };
    return std::make_shared<token_source>(std::move(fetch), std::move(initial), std::move(options));
}

/** The token sources of an `oauth_client` over an asynchronous transport: the same as above,
    with an asynchronous grant (include `<genesys/async.hpp>` where they are instantiated).
    Blocking callers wait for it on a condition variable; asynchronous ones (`async_token`,
    `async_tokens_api`) never block.
    @{ */
template <class Transport>
    requires async_transport<Transport>
std::shared_ptr<token_source> make_client_credentials_source(oauth_client<Transport> client,
                                                             token_source_options options = {})
{
    auto shared = std::make_shared<oauth_client<Transport>>(std::move(client));
    return std::make_shared<token_source>(
        token_source::async_fetch_function([shared](std::function<void(result<api_response<oauth_token>>)> done) {
            shared->async_client_credentials(std::move(done));
        }),
        std::move(options));
}

template <class Transport>
    requires async_transport<Transport>
std::shared_ptr<token_source> make_refresh_token_source(oauth_client<Transport> client, oauth_token initial,
                                                        token_source_options options = {})
{
    struct state {
        oauth_client<Transport> client;
        std::string refresh_token;
    };
    auto shared = std::make_shared<state>(state{std::move(client), initial.refresh_token.value_or("")});
    auto fetch = [shared](std::function<void(result<api_response<oauth_token>>)> done) {
        shared->client.async_refresh_token(shared->refresh_token,
                                           [shared, done = std::move(done)](result<api_response<oauth_token>> r) {
                                               if (r && r->data.refresh_token && !r->data.refresh_token->empty())
                                                   shared->refresh_token = *r->data.refresh_token;
                                               done(std::move(r));
                                           });
    };
    return std::make_shared<token_source>(token_source::async_fetch_function(std::move(fetch)), std::move(initial),
                                          std::move(options));
}
/// @}

} // namespace genesys

#endif
