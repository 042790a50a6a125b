// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_REDIS_ERROR_HPP
#define GENESYS_REDIS_ERROR_HPP

/// @file
/// `redis_errc`: the failures of a `redis_connection` of its own (network failures keep Asio's
/// codes), in the category `"genesys.redis"`.

#include <boost/system/errc.hpp>
#include <boost/system/error_category.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/error_condition.hpp>

#include <string>
#include <type_traits>

namespace genesys {

/// The failures of a `redis_connection` of its own (category `"genesys.redis"`).
enum class redis_errc {
    /// A command on a connection that is not connected (never connected, or closed by a failure
    /// or `close()`): connect again (`async_connect`).
    not_connected = 1,
    /// `connect_timeout` or `command_timeout` passed; the connection is closed. Compares equal
    /// to `boost::system::errc::timed_out` (and so matches `genesys::condition::timeout`).
    timeout,
    /// The server refused `AUTH` (wrong user or password, or a password the server does not want);
    /// `redis_connection::last_error()` has the server's words, never the password.
    auth_failed,
    /// The server refused `SELECT` of `redis_options::database`.
    select_failed,
    /// The server's bytes are not the Redis protocol (RESP), or a reply came that nothing asked for.
    protocol_error,
    /// A reply larger than `redis_options::max_reply_bytes`.
    reply_too_large,
    /// `async_connect` on a connection already connected or connecting.
    already_connected,
    /// `async_subscribe` on a connection already subscribed.
    already_subscribed,
    /// The server refused `SUBSCRIBE` (`-NOPERM`: the ACL user may not use the channel); the
    /// connection is closed.
    subscribe_refused,
};

namespace detail {

class redis_category_impl final : public boost::system::error_category {
public:
    constexpr redis_category_impl() noexcept : boost::system::error_category(0x6e5c1d2a7b3f4ea1ULL) {}

    const char* name() const noexcept override { return "genesys.redis"; }

    std::string message(int ev) const override
    {
        switch (static_cast<redis_errc>(ev)) {
        case redis_errc::not_connected: return "not connected to Redis";
        case redis_errc::timeout: return "Redis did not answer in time";
        case redis_errc::auth_failed: return "Redis refused the authentication";
        case redis_errc::select_failed: return "Redis refused to select the database";
        case redis_errc::protocol_error: return "Redis protocol error";
        case redis_errc::reply_too_large: return "a Redis reply is larger than the limit";
        case redis_errc::already_connected: return "the Redis connection is already connected or connecting";
        case redis_errc::already_subscribed: return "the Redis connection is already subscribed";
        case redis_errc::subscribe_refused: return "Redis refused the subscription";
        }
        return "unknown genesys.redis error";
    }

    boost::system::error_condition default_error_condition(int ev) const noexcept override
    {
        if (static_cast<redis_errc>(ev) == redis_errc::timeout)
            return boost::system::errc::make_error_condition(boost::system::errc::timed_out);
        return {ev, *this};
    }
};

} // namespace detail

/// The category of `redis_errc`, named `"genesys.redis"`.
inline const boost::system::error_category& redis_category() noexcept
{
    static constexpr detail::redis_category_impl instance;
    return instance;
}

/// Makes an `error_code` from a `redis_errc`, so `ec == genesys::redis_errc::timeout` works.
inline boost::system::error_code make_error_code(redis_errc e) noexcept
{
    return {static_cast<int>(e), redis_category()};
}

} // namespace genesys

/// @cond
template <>
struct boost::system::is_error_code_enum<genesys::redis_errc> : std::true_type {};
/// @endcond

#endif
