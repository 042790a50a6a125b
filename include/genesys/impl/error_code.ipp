// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_IMPL_ERROR_CODE_IPP
#define GENESYS_IMPL_ERROR_CODE_IPP

#include <genesys/error_code.hpp>

#include <boost/system/errc.hpp>

#include <string>
#include <string_view>

namespace genesys {

namespace detail {

class error_category_impl final : public boost::system::error_category {
public:
    constexpr error_category_impl() noexcept : boost::system::error_category(0x6e5c1d2a7b3f4e91ULL) {}

    const char* name() const noexcept override { return "genesys.tokens"; }

    std::string message(int ev) const override
    {
        switch (static_cast<errc>(ev)) {
        case errc::decode_failed: return "the response body could not be decoded";
        case errc::invalid_argument: return "invalid argument or configuration";
        case errc::transport_exception: return "the transport threw an exception";
        case errc::response_too_large: return "the response body is larger than the limit";
        case errc::deadline_exceeded: return "the call did not finish within its timeout";
        case errc::policy_mismatch: return "the token does not meet the validator's policy";
        case errc::proxy_authentication_required: return "the proxy requires authentication (HTTP 407)";
        case errc::proxy_tunnel_failed: return "the proxy refused to open a tunnel to the host";
        case errc::validator_overloaded: return "the token validator has too many checks in flight";
        }
        return "unknown genesys.tokens error";
    }
};

/// The HTTP statuses, of the API (`login` false) or of the login host: the value is the status.
class status_category_impl final : public boost::system::error_category {
public:
    constexpr explicit status_category_impl(bool login) noexcept
        : boost::system::error_category(login ? 0x6e5c1d2a7b3f4e93ULL : 0x6e5c1d2a7b3f4e92ULL), login_(login)
    {
    }

    const char* name() const noexcept override { return login_ ? "genesys.login" : "genesys.http"; }

    std::string message(int ev) const override
    {
        return (login_ ? "the login host answered HTTP " : "HTTP ") + std::to_string(ev);
    }

    bool failed(int) const noexcept override { return true; } // a status of 0 is a failure too

private:
    bool login_;
};

/// A code of one of the transports' own categories, by name: Asio's (`asio.netdb`,
/// `asio.addrinfo`, `asio.misc`, `asio.ssl`, `asio.ssl.stream`), Beast's (`boost.beast`,
/// `beast.http`) and the libcurl adapter's. By name, so that no transport's header is needed here.
inline bool is_transport_category(const boost::system::error_category& cat) noexcept
{
    const std::string_view name = cat.name();
    return name.starts_with("asio.") || name == "boost.beast" || name.starts_with("beast.") || name == "libcurl";
}

inline bool is_timeout_code(const boost::system::error_code& code) noexcept
{
    if (code == errc::deadline_exceeded || code == boost::system::errc::timed_out)
        return true;
    // boost::beast::error::timeout, which compares equal to Beast's condition, not to timed_out.
    return std::string_view(code.category().name()) == "boost.beast" && code.value() == 1;
}

inline bool is_network_code(const boost::system::error_code& code) noexcept
{
    if (!code || code == boost::system::errc::operation_canceled)
        return false;
    const auto& cat = code.category();
    if (cat == tokens_category())
        return code == errc::transport_exception || code == errc::deadline_exceeded ||
               code == errc::proxy_authentication_required || code == errc::proxy_tunnel_failed ||
               code == errc::validator_overloaded;
    if (cat == http_status_category() || cat == login_status_category())
        return false;
    return cat == boost::system::system_category() || cat == boost::system::generic_category() ||
           code.default_error_condition().category() == boost::system::generic_category() ||
           is_transport_category(cat);
}

class condition_category_impl final : public boost::system::error_category {
public:
    constexpr condition_category_impl() noexcept : boost::system::error_category(0x6e5c1d2a7b3f4e94ULL) {}

    const char* name() const noexcept override { return "genesys.condition"; }

    std::string message(int ev) const override
    {
        switch (static_cast<condition>(ev)) {
        case condition::unauthorized: return "unauthorized";
        case condition::forbidden: return "forbidden";
        case condition::not_found: return "not found";
        case condition::rate_limited: return "rate limited";
        case condition::server_error: return "server error";
        case condition::login_failed: return "login failed";
        case condition::network: return "network";
        case condition::timeout: return "timeout";
        case condition::invalid_argument: return "invalid argument";
        case condition::policy: return "policy";
        }
        return "unknown genesys.condition";
    }

    bool equivalent(const boost::system::error_code& code, int ev) const noexcept override
    {
        const auto& cat = code.category();
        const int v = code.value();
        const bool api = cat == http_status_category();
        const bool login = cat == login_status_category();
        switch (static_cast<condition>(ev)) {
        case condition::unauthorized: return api && v == 401;
        case condition::forbidden: return api && v == 403;
        case condition::not_found: return api && v == 404;
        case condition::rate_limited: return (api || login) && v == 429;
        case condition::server_error: return (api || login) && v >= 500 && v <= 599;
        case condition::login_failed: return login && v >= 400 && v <= 499 && v != 429;
        case condition::network: return is_network_code(code);
        case condition::timeout: return is_timeout_code(code);
        case condition::invalid_argument: return code == errc::invalid_argument;
        case condition::policy: return code == errc::policy_mismatch;
        }
        return false;
    }
};

} // namespace detail

GENESYS_DECL const boost::system::error_category& tokens_category() noexcept
{
    static const detail::error_category_impl instance;
    return instance;
}

GENESYS_DECL const boost::system::error_category& http_status_category() noexcept
{
    static const detail::status_category_impl instance(false);
    return instance;
}

GENESYS_DECL const boost::system::error_category& login_status_category() noexcept
{
    static const detail::status_category_impl instance(true);
    return instance;
}

GENESYS_DECL const boost::system::error_category& condition_category() noexcept
{
    static const detail::condition_category_impl instance;
    return instance;
}

} // namespace genesys

#endif
