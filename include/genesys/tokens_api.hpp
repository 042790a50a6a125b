#ifndef GENESYS_TOKENS_API_HPP
#define GENESYS_TOKENS_API_HPP

/// @file
/// `tokens_api<Transport>`: the operations of the Tokens resource.

#include <genesys/client_config.hpp>
#include <genesys/detail/config_check.hpp>
#include <genesys/detail/failure.hpp>
#include <genesys/detail/log_attempt.hpp>
#include <genesys/detail/outcome.hpp>
#include <genesys/error.hpp>
#include <genesys/http.hpp>
#include <genesys/logging.hpp>
#include <genesys/models/idle_token_timeout.hpp>
#include <genesys/models/token_info.hpp>
#include <genesys/result.hpp>
#include <genesys/retry.hpp>
#include <genesys/routes.hpp>
#include <genesys/token_source.hpp>
#include <genesys/transport.hpp>

#include <boost/json.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <concepts>
#include <exception>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

namespace genesys {

namespace detail {

/// Sends through any transport and returns a result: exceptions thrown by a transport that
/// returns a plain `http_response` become error codes, their text kept in `what`; so does a
/// thrown object that is not a `std::exception`. Only `std::bad_alloc` propagates.
template <class Transport>
boost::system::result<http_response> send_through(Transport& t, const http_request& req, std::string& what)
{
    try {
        boost::system::result<http_response> r = t.send(req);
        if constexpr (transport_with_error_detail<Transport>) {
            if (!r)
                what = std::string(t.last_error_message());
        }
        return r;
    } catch (const std::bad_alloc&) {
        throw;
    } catch (const boost::system::system_error& e) {
        what = e.what();
        return e.code();
    } catch (const std::system_error& e) {
        what = e.what();
        return boost::system::error_code(e.code());
    } catch (const std::exception& e) {
        what = e.what();
        return make_error_code(errc::transport_exception);
    } catch (...) {
        what = "the transport threw an object that is not a std::exception";
        return make_error_code(errc::transport_exception);
    }
}

/** The request a client reuses from one call to the next, so that steady calls build theirs in
    buffers already allocated.

    A call takes the slot when it is free and gives it back when done; a call that finds it taken
    (by another thread, or by a call made from inside a transport or logger) uses a request of its
    own. The slot keeps the request headers between calls, so a copy or an assignment empties it:
    a client copied or assigned from another builds its headers anew, from its own configuration.
*/
class request_slot {
public:
    request_slot() = default;
    request_slot(const request_slot&) noexcept {}
    /// Forgets the request kept for the client assigned over; assigning a client while one of its
    /// calls is under way is a data race, as for any object.
    request_slot& operator=(const request_slot&) noexcept
    {
        request_ = http_request{};
        return *this;
    }

    /// The slot's request for the time of one call, or a request of the call's own.
    class lease {
    public:
        explicit lease(request_slot& slot) noexcept
            : slot_(slot.busy_.test_and_set(std::memory_order_acquire) ? nullptr : &slot)
        {
        }
        ~lease()
        {
            if (slot_)
                slot_->busy_.clear(std::memory_order_release);
        }
        lease(const lease&) = delete;
        lease& operator=(const lease&) = delete;

        http_request& request() noexcept { return slot_ ? slot_->request_ : own_; }

    private:
        request_slot* slot_;
        http_request own_;
    };

private:
    std::atomic_flag busy_; // clear
    http_request request_;
};

/// The arguments `get_tokens_me` takes for `preserveIdleTTL`: a `bool`, a `std::optional<bool>`
/// or `std::nullopt`; nothing that merely converts to `bool` (a string literal would be `true`).
template <class T>
concept is_preserve_idle_ttl_argument =
    std::same_as<std::remove_cvref_t<T>, bool> || std::same_as<std::remove_cvref_t<T>, std::optional<bool>> ||
    std::same_as<std::remove_cvref_t<T>, std::nullopt_t>;

} // namespace detail

/** The Tokens resource of the Genesys Cloud Platform API, called through `Transport`.

    Each operation comes in two forms: a throwing one (`get_tokens_me`) that returns
    the data and throws `api_error`, `network_error`, `decode_error` or
    `invalid_argument_error`; and a non-throwing one (`try_get_tokens_me`) that returns
    `result<api_response<T>>`, which holds the data with the status, headers and
    correlation id, or the `genesys::error`.

    Bad input and a bad configuration are reported before anything is sent.

    @code
    genesys::tokens_api api{my_transport{}, {.access_token = token}};
    if (api.verify_token())
        std::cout << api.get_tokens_me().organization->name.value_or("?") << '\n';
    @endcode
*/
template <transport Transport>
class tokens_api {
public:
    /// The transport type the client sends through.
    using transport_type = Transport;

    /// Makes a client. A bad `config` is not thrown here: every call then returns or throws it.
    tokens_api(Transport transport, client_config config)
        : transport_(std::move(transport)), config_(std::move(config))
    {
        std::string problem = detail::config_problem(config_, base_url_, config_.token_source != nullptr);
        if (!problem.empty()) {
            config_problem_ = "invalid client_config: " + problem;
            return;
        }
        headers_.reserve(4 + config_.default_headers.size());
        // With a token source the value is filled in per call, in this same position.
        headers_.add("Authorization", config_.token_source ? std::string() : "Bearer " + config_.access_token);
        headers_.add("Accept", "application/json");
        headers_.add("Content-Type", "application/json");
        headers_.add("User-Agent", config_.user_agent);
        for (const auto& h : config_.default_headers)
            headers_.set(h.name, h.value);
    }

    /// The transport the client sends through.
    Transport& transport() noexcept { return transport_; }
    /// The transport the client sends through.
    const Transport& transport() const noexcept { return transport_; }
    /// The configuration the client was made with.
    const client_config& config() const noexcept { return config_; }

    /** `DELETE /api/v2/tokens/{userId}`: deletes all auth tokens of a user.

        `user_id` is sent percent-encoded as one path segment. An empty id, `.`, `..`,
        an id over 1024 bytes, or `me` (which would address `deleteTokensMe`) is
        rejected before sending. Requires the `oauth:token:delete` permission.
    */
    [[nodiscard]] result<api_response<void>> try_delete_token(std::string_view user_id)
    {
        return call(routes::delete_token, {}, {}, user_id).to_result();
    }
    /// Throwing form of `try_delete_token`.
    void delete_token(std::string_view user_id) { detail::take(call(routes::delete_token, {}, {}, user_id)); }

    /** `DELETE /api/v2/tokens/me`: deletes the token used to make the request.

        Through a token source, success also drops that token from the source (the next call
        gets a new one); a 401 drops it too, and is not retried with a fresh token (which this
        call would only delete).
    */
    [[nodiscard]] result<api_response<void>> try_delete_tokens_me()
    {
        return call(routes::delete_tokens_me, {}, {}).to_result();
    }
    /// Throwing form of `try_delete_tokens_me`.
    void delete_tokens_me() { detail::take(call(routes::delete_tokens_me, {}, {})); }

    /** `GET /api/v2/tokens/me`: information about the current token.

        @param preserve_idle_ttl `true` keeps the token's idle timer as it is; unset or
        `false` resets it. Sent as `?preserveIdleTTL=true|false`, omitted when unset. Only a
        `bool`, `std::optional<bool>` or `std::nullopt` is accepted: `get_tokens_me("false")`
        does not compile (a string would convert to `true`).
    */
    [[nodiscard]] result<api_response<token_info>> try_get_tokens_me(std::optional<bool> preserve_idle_ttl = {})
    {
        return get_me(preserve_idle_ttl).to_result();
    }
    /// Throwing form of `try_get_tokens_me`.
    token_info get_tokens_me(std::optional<bool> preserve_idle_ttl = {})
    {
        return std::move(detail::take(get_me(preserve_idle_ttl)).data);
    }
    /// Not callable: anything but a `bool`, `std::optional<bool>` or `std::nullopt`.
    template <class T>
        requires(!detail::is_preserve_idle_ttl_argument<T>)
    void try_get_tokens_me(T&&) = delete;
    /// Not callable: anything but a `bool`, `std::optional<bool>` or `std::nullopt`.
    template <class T>
        requires(!detail::is_preserve_idle_ttl_argument<T>)
    void get_tokens_me(T&&) = delete;

    /// `HEAD /api/v2/tokens/me`: succeeds when the token is valid; a 401 is an `api_error`.
    [[nodiscard]] result<api_response<void>> try_head_tokens_me()
    {
        return call(routes::head_tokens_me, {}, {}).to_result();
    }
    /// Throwing form of `try_head_tokens_me`.
    void head_tokens_me() { detail::take(call(routes::head_tokens_me, {}, {})); }

    /** Verifies the token with `HEAD /api/v2/tokens/me`.

        `data` is true on any 2xx and false when the API answers that request 401. Any other
        failure is an error, a refused login of the token source included (that says nothing
        about a token: none was sent).
    */
    [[nodiscard]] result<api_response<bool>> try_verify_token() { return verify().to_result(); }
    /// True when the token is valid (2xx), false when it is not (401); throws on anything else.
    bool verify_token() { return detail::take(verify()).data; }

    /// `GET /api/v2/tokens/timeout`: the organization's idle-token timeout settings.
    [[nodiscard]] result<api_response<idle_token_timeout>> try_get_tokens_timeout()
    {
        return call(routes::get_tokens_timeout, {}, {}).to_result();
    }
    /// Throwing form of `try_get_tokens_timeout`.
    idle_token_timeout get_tokens_timeout()
    {
        return std::move(detail::take(call(routes::get_tokens_timeout, {}, {})).data);
    }

    /** `PUT /api/v2/tokens/timeout`: updates the idle-token timeout; returns the stored settings.

        The body is the model's JSON, absent fields omitted. Requires the
        `directory:organization:admin` permission.
    */
    [[nodiscard]] result<api_response<idle_token_timeout>> try_put_tokens_timeout(const idle_token_timeout& settings)
    {
        return put_timeout(settings).to_result();
    }
    /// Throwing form of `try_put_tokens_timeout`.
    idle_token_timeout put_tokens_timeout(const idle_token_timeout& settings)
    {
        return std::move(detail::take(put_timeout(settings)).data);
    }

private:
    template <class T>
    using outcome = detail::outcome<T>;

    outcome<api_response<token_info>> get_me(std::optional<bool> preserve_idle_ttl)
    {
        static_assert(routes::get_tokens_me.query[0] == "preserveIdleTTL");
        std::string_view query;
        if (preserve_idle_ttl)
            query = *preserve_idle_ttl ? "preserveIdleTTL=true" : "preserveIdleTTL=false";
        return call(routes::get_tokens_me, query, {});
    }

    outcome<api_response<idle_token_timeout>> put_timeout(const idle_token_timeout& settings)
    {
        static_assert(std::is_same_v<decltype(routes::put_tokens_timeout)::request_type, idle_token_timeout>);
        return call(routes::put_tokens_timeout, {}, boost::json::serialize(boost::json::value_from(settings)));
    }

    outcome<api_response<bool>> verify()
    {
        auto r = call(routes::head_tokens_me, {}, {});
        if (r)
            return api_response<bool>{{r->status, std::move(r->headers)}, true};
        error& e = r.failure();
        // Only the API's own answer to this HEAD is a verdict; `no_token` errors name requestToken.
        if (e.kind == error_kind::api && e.status == 401 && e.operation == routes::head_tokens_me.operation_id)
            return api_response<bool>{{e.status, std::move(e.headers)}, false};
        return std::move(e);
    }

    template <class Route, class... Params>
    outcome<api_response<typename Route::response_type>> call(const Route& route, std::string_view query,
                                                              std::string body, const Params&... params)
    {
        const std::string_view op = route.operation_id;
        if (!config_problem_.empty())
            return detail::invalid_argument(op, config_problem_, config_.access_token);

        const std::array<std::string_view, sizeof...(Params)> values{std::string_view(params)...};
        for (std::size_t i = 0; i < values.size(); ++i) {
            if (auto why = detail::path_segment_problem(values[i]); !why.empty())
                return detail::invalid_argument(op, std::string(route.path.param_name(i)) + " " + std::string(why),
                                                config_.access_token);
        }

        detail::request_slot::lease lease(slot_);
        http_request& req = lease.request();
        if (req.headers.empty())
            req.headers = headers_; // kept from call to call in the slot
        req.method = route.method;
        req.body = std::move(body);
        req.url.assign(base_url_);
        route.path.append_to(req.url, params...);
        if constexpr (sizeof...(Params) > 0) {
            std::string_view path = std::string_view(req.url).substr(base_url_.size());
            if (const auto* other = detail::shadowing_route(op, route.method, path))
                return detail::invalid_argument(op,
                                                std::string(route.path.param_name(0)) + " would address " +
                                                    std::string(other->operation_id) + " (" +
                                                    std::string(other->path) + "), not this operation",
                                                config_.access_token);
        }
        if (!query.empty()) {
            req.url += '?';
            req.url += query;
        }

        std::string source_token;
        auto sent = exchange(op, req, source_token);
        const std::string_view secret = config_.token_source ? std::string_view(source_token) : config_.access_token;
        if (!sent)
            return std::move(sent.failure());
        return to_api_response<typename Route::response_type>(op, std::move(*sent), secret);
    }

    /// Sends `req`, with a token from the token source when there is one (kept in `token`): the
    /// 2xx response, or the error. Not a template of the operation: one copy serves them all.
    outcome<http_response> exchange(std::string_view op, http_request& req, std::string& token)
    {
        if (!config_.token_source)
            return send(op, req, config_.access_token);

        // On a 401, drop the token and send once more with a fresh one.
        token_source& source = *config_.token_source;
        const bool revokes_own_token = op == routes::delete_tokens_me.operation_id;
        for (int pass = 1;; ++pass) {
            auto fresh = source.try_token();
            if (!fresh)
                return no_token(op, fresh.error());
            token = std::move(*fresh); // checked by the source: fit for a Bearer header
            req.headers.set("Authorization", "Bearer " + token);
            auto r = send(op, req, token);
            if (r) {
                if (revokes_own_token)
                    source.invalidate(token);
                return r;
            }
            if (const error& e = r.failure(); e.kind != error_kind::api || e.status != 401)
                return r;
            source.invalidate(token);
            if (pass == 2 || revokes_own_token)
                return r;
        }
    }

    /// The error of a call that could not get a token: the grant's error, named as this call's.
    static error no_token(std::string_view op, error e)
    {
        e.message = std::string(op) + " could not get a token: " + e.message;
        return e;
    }

    /// The attempts of one request, as the retry policy allows; `secret` is the token it carries.
    outcome<http_response> send(std::string_view op, const http_request& req, std::string_view secret)
    {
        return detail::with_retries(config_.retry, is_idempotent(req.method),
                                    [&](int attempt) { return attempt_once(op, req, attempt, secret); });
    }

    /// One send: the 2xx response, or the error it makes.
    outcome<http_response> attempt_once(std::string_view op, const http_request& req, int attempt,
                                        std::string_view secret)
    {
        std::chrono::steady_clock::time_point started{};
        if (config_.logger)
            started = std::chrono::steady_clock::now();
        std::string what;
        auto sent = detail::send_through(transport_, req, what);
        if (config_.logger)
            detail::log_attempt(config_.logger, op, req, attempt, started, sent, what, secret);
        if (!sent)
            return detail::network_failure(op, sent.error(), what, secret);
        // Any 2xx is a success, as in the official SDKs; `route::success` documents the spec's.
        if (sent->status < 200 || sent->status > 299)
            return detail::api_failure(op, std::move(*sent), secret, limits());
        return std::move(*sent);
    }

    /// The operation's result from a 2xx response: its body decoded as `Response`.
    template <class Response>
    outcome<api_response<Response>> to_api_response(std::string_view op, http_response&& res,
                                                    std::string_view secret) const
    {
        if constexpr (std::is_void_v<Response>) {
            return api_response<void>{{res.status, std::move(res.headers)}};
        } else {
            // Decoded in place, and every path returns `out`, so the model is never moved.
            const auto name = detail::model_traits<Response>::name;
            const detail::response_limits lim = limits();
            outcome<api_response<Response>> out{api_response<Response>{}};
            std::string why;
            if (res.body.size() > lim.max_bytes)
                out = detail::decode_failure(op, name,
                                             "the body is " + std::to_string(res.body.size()) +
                                                 " bytes, over the limit of " + std::to_string(lim.max_bytes),
                                             std::move(res), secret, errc::response_too_large);
            else if (!detail::decode_body(res.body, out->data, why, lim.max_depth))
                out = detail::decode_failure(op, name, why, std::move(res), secret);
            else {
                out->status = res.status;
                out->headers = std::move(res.headers);
            }
            return out;
        }
    }

    detail::response_limits limits() const noexcept
    {
        return {config_.max_response_bytes, config_.max_json_depth};
    }

    Transport transport_;
    client_config config_;
    std::string base_url_;
    std::string config_problem_;
    http_headers headers_;
    detail::request_slot slot_;
};

} // namespace genesys

#endif
