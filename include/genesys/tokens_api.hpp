#ifndef GENESYS_TOKENS_API_HPP
#define GENESYS_TOKENS_API_HPP

/// @file
/// `tokens_api<Transport>`: the operations of the Tokens resource.

#include <genesys/client_config.hpp>
#include <genesys/detail/call_machine.hpp>
#include <genesys/detail/client_core.hpp>
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
        : transport_(std::move(transport)), core_(std::move(config))
    {
    }

    /// The transport the client sends through.
    Transport& transport() noexcept { return transport_; }
    /// The transport the client sends through.
    const Transport& transport() const noexcept { return transport_; }
    /// The configuration the client was made with.
    const client_config& config() const noexcept { return core_.config(); }

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
        return call(routes::get_tokens_me, detail::get_tokens_me_query(preserve_idle_ttl), {});
    }

    outcome<api_response<idle_token_timeout>> put_timeout(const idle_token_timeout& settings)
    {
        return call(routes::put_tokens_timeout, {}, detail::put_tokens_timeout_body(settings));
    }

    outcome<api_response<bool>> verify() { return detail::to_verdict(call(routes::head_tokens_me, {}, {})); }

    template <class Route, class... Params>
    outcome<api_response<typename Route::response_type>> call(const Route& route, std::string_view query,
                                                              std::string body, const Params&... params)
    {
        detail::request_slot::lease lease(slot_);
        http_request& req = lease.request();
        if (auto rejected = core_.prepare(req, route, query, std::move(body), params...))
            return std::move(*rejected);
        const detail::call_settings settings = core_.settings(route);
        detail::call_machine machine(settings, req);
        auto sent = detail::run_blocking(machine, core_.config().retry,
                                         [this](const http_request& r, std::string& what) {
                                             return detail::send_through(transport_, r, what);
                                         });
        return detail::to_api_response<typename Route::response_type>(route.operation_id, std::move(sent),
                                                                      machine.secret(), core_.limits());
    }

    Transport transport_;
    detail::client_core core_;
    detail::request_slot slot_;
};

} // namespace genesys

#endif
