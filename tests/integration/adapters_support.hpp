// SPDX-License-Identifier: BSL-1.0
// Helpers shared by the adapters' tests: environment variables set for one test, and the core's
// rule for which network errors are never retried.

#ifndef GENESYS_TESTS_ADAPTERS_SUPPORT_HPP
#define GENESYS_TESTS_ADAPTERS_SUPPORT_HPP

#include <boost/system/errc.hpp>
#include <boost/system/error_code.hpp>

#include <cstdlib>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace genesys_adapters_test {

/** Sets and unsets environment variables for one scope; restores every one it touched.

    Not thread-safe (setenv never is): use it before starting the transport under test.
*/
class env_guard {
public:
    env_guard() = default;
    env_guard(const env_guard&) = delete;
    env_guard& operator=(const env_guard&) = delete;
    ~env_guard()
    {
        for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
            if (it->second)
                ::setenv(it->first.c_str(), it->second->c_str(), 1);
            else
                ::unsetenv(it->first.c_str());
        }
    }

    env_guard& set(const std::string& name, const std::string& value)
    {
        save(name);
        ::setenv(name.c_str(), value.c_str(), 1);
        return *this;
    }

    env_guard& unset(const std::string& name)
    {
        save(name);
        ::unsetenv(name.c_str());
        return *this;
    }

    /// Points every proxy variable libcurl (or anything else) reads at `proxy_url`, and clears `no_proxy`.
    /// No proxy variable at all.
    env_guard& clear_proxies()
    {
        for (const char* name : {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
                                 "no_proxy", "NO_PROXY"})
            unset(name);
        return *this;
    }

    env_guard& proxy_everything_through(const std::string& proxy_url)
    {
        for (const char* name : {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"})
            set(name, proxy_url);
        unset("no_proxy");
        unset("NO_PROXY");
        return *this;
    }

private:
    void save(const std::string& name)
    {
        const char* old = std::getenv(name.c_str());
        saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
    }

    std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

/// The core's rule: a network error that cannot succeed on a second try is never retried.
inline bool never_retried(const boost::system::error_code& ec)
{
    namespace errc = boost::system::errc;
    for (const auto c : {errc::invalid_argument, errc::message_size, errc::operation_canceled,
                         errc::protocol_not_supported, errc::not_enough_memory, errc::protocol_error,
                         errc::permission_denied})
        if (ec == c)
            return true;
    return std::string_view(ec.category().name()) == "asio.ssl";
}

/// What a TLS certificate or host name verification failure must compare as.
inline bool is_tls_verification_class(const boost::system::error_code& ec)
{
    return ec == boost::system::errc::protocol_error || std::string_view(ec.category().name()) == "asio.ssl";
}

} // namespace genesys_adapters_test

#endif
