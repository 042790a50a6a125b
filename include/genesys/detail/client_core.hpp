// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DETAIL_CLIENT_CORE_HPP
#define GENESYS_DETAIL_CLIENT_CORE_HPP

// What a Tokens client is besides its transport, shared by `tokens_api` and `async_tokens_api`:
// the configuration checked once, the request headers made from it, request building for a
// route, the step machine's settings, and the operation's result made from the final response.

#include <genesys/call_options.hpp>
#include <genesys/client_config.hpp>
#include <genesys/detail/ascii.hpp>
#include <genesys/detail/body_codec.hpp>
#include <genesys/detail/call_machine.hpp>
#include <genesys/detail/config_check.hpp>
#include <genesys/detail/failure.hpp>
#include <genesys/detail/model_fields.hpp>
#include <genesys/detail/outcome.hpp>
#include <genesys/error.hpp>
#include <genesys/http.hpp>
#include <genesys/models/idle_token_timeout.hpp>
#include <genesys/result.hpp>
#include <genesys/routes.hpp>
#include <genesys/token_source.hpp>

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace genesys::detail {

class client_core {
public:
    /// Checks `config` and makes the headers; throws the `invalid_argument_error` that
    /// `check(config)` returns for a bad one, so that both clients fail where they are made.
    explicit client_core(client_config config)
        : config_(std::move(config)), rules_({config_.max_response_bytes, config_.max_json_depth})
    {
        init(config_problem(config_, base_url_, config_.token_source != nullptr));
    }

    /// Selects the constructor of a client that sends, per call, a token it is given (the token
    /// validator: each check sends the token it checks): no `access_token`, no `token_source`.
    /// It throws as the other for a bad configuration (the validator checks its own first, to
    /// name it).
    struct token_per_call_t {
        explicit token_per_call_t() = default;
    };

    client_core(client_config config, token_per_call_t)
        : config_(std::move(config)), rules_({config_.max_response_bytes, config_.max_json_depth}), per_call_(true)
    {
        init(!config_.access_token.empty() || config_.token_source
                 ? std::string("each call sends the token it is given: leave access_token and token_source empty")
                 : config_problem(config_, base_url_, true));
    }

    client_core(const client_core& other) : client_core(other.rebuilt()) {}
    client_core& operator=(const client_core& other)
    {
        if (this != &other)
            *this = other.rebuilt();
        return *this;
    }
    client_core(client_core&& other) noexcept = default;
    client_core& operator=(client_core&&) noexcept = default;

    const client_config& config() const noexcept { return config_; }

    /// The configuration's base URL, normalized (what every request's URL starts with).
    const std::string& base_url() const noexcept { return base_url_; }

    response_limits limits() const noexcept { return {config_.max_response_bytes, config_.max_json_depth}; }

    /** Fills `req` for `route`, or returns why the call is rejected before sending.

        The headers are the client's, made once, then `options.headers` over them (each replacing
        the field of its name); the client's are copied only when `req` has no headers yet, so a
        request reused from call to call keeps them, and a request given per-call headers must
        not be reused. The one place a call's options are applied, for the blocking and the
        asynchronous clients alike: every attempt of the call then sends the same headers. */
    template <class Route, class... Params>
    std::optional<error> prepare(http_request& req, const Route& route, const call_options& options,
                                 std::string_view query, std::string body, const Params&... params) const
    {
        const std::string_view op = route.operation_id;

        // Checked as default_headers are (config_problem), with the call's words.
        if (auto why = extra_headers_problem(options.headers, "per-call header", "call_options::headers",
                                             "the client sends the token");
            !why.empty())
            return invalid_argument(op, why, config_.access_token);

        // The request body's bounds (the blocking and the asynchronous forms both come here).
        if constexpr (std::is_same_v<typename Route::request_type, idle_token_timeout>) {
            if (auto why = put_tokens_timeout_problem(body); !why.empty())
                return invalid_argument(op, why, config_.access_token);
        }

        const std::array<std::string_view, sizeof...(Params)> values{std::string_view(params)...};
        for (std::size_t i = 0; i < values.size(); ++i) {
            if (auto why = path_segment_problem(values[i]); !why.empty())
                return invalid_argument(op, std::string(route.path.param_name(i)) + " " + std::string(why),
                                        config_.access_token);
        }

        if (req.headers.empty())
            req.headers = headers_;
        for (const auto& h : options.headers)
            req.headers.set(h.name, h.value);
        req.method = route.method;
        req.body = std::move(body);
        req.url.assign(base_url_);
        route.path.append_to(req.url, params...);
        if constexpr (sizeof...(Params) > 0) {
            std::string_view path = std::string_view(req.url).substr(base_url_.size());
            if (const auto* other = shadowing_route(op, route.method, path))
                return invalid_argument(op,
                                        std::string(route.path.param_name(0)) + " would address " +
                                            std::string(other->operation_id) + " (" + std::string(other->path) +
                                            "), not this operation",
                                        config_.access_token);
        }
        if (!query.empty()) {
            req.url += '?';
            req.url += query;
        }
        return std::nullopt;
    }

    /// `prepare` for a call without options.
    template <class Route, class... Params>
    std::optional<error> prepare(http_request& req, const Route& route, std::string_view query, std::string body,
                                 const Params&... params) const
    {
        return prepare(req, route, call_options{}, query, std::move(body), params...);
    }

    /// Makes a call prepared by `prepare` send `token` (of a client made with `token_per_call_t`):
    /// in its Authorization header, and as the secret its errors and log events redact.
    static void use_token(http_request& req, call_settings& s, std::string_view token)
    {
        std::string value;
        value.reserve(7 + token.size());
        value.append("Bearer ").append(token);
        req.headers.set("Authorization", std::move(value));
        s.source = nullptr;
        s.secret = req.headers.get("Authorization")->substr(7); // lives as long as the request
    }

    /// Zeroes the token `use_token` put in `req` (before `req` is freed: the token lives only as
    /// long as the call).
    static void wipe_token(http_request& req) noexcept
    {
        for (auto& h : req.headers)
            if (iequals(h.name, "Authorization"))
                wipe(h.value);
    }

    /// The step machine's settings for a call of `route`.
    template <class Route>
    call_settings settings(const Route& route) const noexcept
    {
        call_settings s;
        s.operation = route.operation_id;
        s.rules = &rules_;
        s.retry = &config_.retry;
        s.retry_allowed = is_idempotent(route.method) && config_.retry.enabled();
        s.log = &config_.logger;
        s.logged_headers = &config_.logged_headers;
        s.source = config_.token_source.get();
        s.secret = config_.access_token;
        s.revokes_own_token = route.operation_id == routes::delete_tokens_me.operation_id;
        if (s.revokes_own_token && config_.shared_cache) {
            s.revoke_through = config_.shared_cache.get();
            s.base_url = base_url_;
        }
        s.timeout = config_.call_timeout;
        return s;
    }

private:
    client_core rebuilt() const
    {
        return per_call_ ? client_core(config_, token_per_call_t{}) : client_core(config_);
    }

    /// Throws the `invalid_argument_error` of `problem`, if any; else makes the headers.
    void init(const std::string& problem)
    {
        if (!problem.empty())
            throw_error(config_error("client_config", problem));
        headers_.reserve(4 + config_.default_headers.size());
        // With a token source (or a token per call) the value is filled in per call, in this
        // same position.
        headers_.add("Authorization", config_.access_token.empty() ? std::string() : "Bearer " + config_.access_token);
        headers_.add("Accept", "application/json");
        headers_.add("Content-Type", "application/json");
        headers_.add("User-Agent", config_.user_agent);
        for (const auto& h : config_.default_headers)
            headers_.set(h.name, h.value);
    }

    client_config config_;
    api_rules rules_;
    bool per_call_ = false;
    std::string base_url_;
    http_headers headers_;
};

/// The query of `getTokensMe` for `preserve_idle_ttl`.
inline std::string_view get_tokens_me_query(std::optional<bool> preserve_idle_ttl) noexcept
{
    static_assert(routes::get_tokens_me.query[0] == "preserveIdleTTL");
    if (!preserve_idle_ttl)
        return {};
    return *preserve_idle_ttl ? "preserveIdleTTL=true" : "preserveIdleTTL=false";
}

/// The body of `putTokensTimeout`.
inline std::string put_tokens_timeout_body(const idle_token_timeout& settings)
{
    static_assert(std::is_same_v<decltype(routes::put_tokens_timeout)::request_type, idle_token_timeout>);
    return encode_model(settings);
}

/// The operation's result from a call's final outcome: a 2xx body decoded as `Response`.
template <class Response>
outcome<api_response<Response>> to_api_response(std::string_view op, outcome<http_response>&& sent,
                                                std::string_view secret, response_limits lim)
{
    if (!sent)
        return std::move(sent.failure());
    http_response& res = *sent;
    if constexpr (std::is_void_v<Response>) {
        return api_response<void>{{res.status, std::move(res.headers)}};
    } else {
        // Decoded in place, and every path returns `out`, so the model is never moved.
        outcome<api_response<Response>> out{api_response<Response>{}};
        if (auto failed = decode_success(op, model_traits<Response>::name, res, lim, secret, true,
                                         [&](std::string_view body, std::string& why) {
                                             return decode_model(body, out->data, why, lim.max_depth);
                                         }))
            out = std::move(*failed);
        else {
            out->status = res.status;
            out->headers = std::move(res.headers);
        }
        return out;
    }
}

/// `verify_token`'s answer from `headTokensMe`'s: true on 2xx, false on the API's own 401 to it.
inline outcome<api_response<bool>> to_verdict(outcome<api_response<void>>&& r)
{
    if (r)
        return api_response<bool>{{r->status, std::move(r->headers)}, true};
    error& e = r.failure();
    // Only the API's own answer to this HEAD is a verdict; `no_token` errors name requestToken.
    if (e.kind == error_kind::api && e.status == 401 && e.operation == routes::head_tokens_me.operation_id)
        return api_response<bool>{{e.status, std::move(e.headers)}, false};
    return std::move(e);
}

} // namespace genesys::detail

#endif
