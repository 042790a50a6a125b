// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_TESTS_PROXY_CHECKS_HPP
#define GENESYS_TESTS_PROXY_CHECKS_HPP

// What the adapters' proxy tests share: options through a proxy for the emulator on 127.0.0.1
// (the same field names in curl_options and beast_options), the request they send, what the
// proxy's log says, and the checks that no secret shows.

#include "emulator_process.hpp"
#include "proxy_process.hpp"

#include <genesys/genesys.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

namespace proxytest {

using testproc::proxy_process;

inline constexpr std::string_view agent_token = "emulator-agent-token-3e9a";
inline constexpr std::string_view wrong_password = "Wr0ng-pa55word-91d2";

/// The emulator over https (`tls`) or plain http, one of each for the whole test program.
inline testproc::emulator_process& emulator(bool tls)
{
    return testproc::shared_emulator(tls);
}

inline bool contains(std::string_view text, std::string_view part)
{
    return text.find(part) != std::string_view::npos;
}

/// `Options` (`curl_options` or `beast_options`) through `proxy_url` for the emulator on
/// 127.0.0.1: loopback URLs through the proxy, nothing from the environment, the emulator's
/// certificate trusted.
template <class Options>
Options via(std::string proxy_url)
{
    using namespace std::chrono_literals;
    Options o;
    o.connect_timeout = 5'000ms;
    o.timeout = 10'000ms;
    o.ca_file = testproc::tls_material::get().cert;
    o.proxy = std::move(proxy_url);
    o.proxy_from_environment = false;
    o.proxy_loopback = true;
    return o;
}

template <class Options>
Options with_credentials(Options o, std::string_view user, std::string_view password)
{
    o.proxy_username = std::string(user);
    o.proxy_password = std::string(password);
    return o;
}

inline genesys::http_request tokens_me(std::string_view base_url)
{
    return {genesys::http_method::get, std::string(base_url) + "/api/v2/tokens/me",
            {{"Authorization", "Bearer " + std::string(agent_token)}, {"Accept", "application/json"}}, {}};
}

inline genesys::http_request tokens_me(const testproc::emulator_process& emu)
{
    return tokens_me(emu.base_url());
}

/// How many `CONNECT` requests to the emulator the proxy logged.
inline std::size_t connects(const proxy_process& proxy, const testproc::emulator_process& emu)
{
    return proxy.requests_containing("CONNECT 127.0.0.1:" + std::to_string(emu.port()) + " ");
}

/// How many absolute-form requests to the (plain http) emulator the proxy logged.
inline std::size_t absolute_requests(const proxy_process& proxy, const testproc::emulator_process& emu)
{
    return proxy.requests_containing("GET http://127.0.0.1:" + std::to_string(emu.port()) + "/");
}

/// Every request the proxy logged, to anywhere.
inline std::size_t all_requests(const proxy_process& proxy)
{
    return proxy.requests_containing("");
}

/// The proxy's log holds neither the bearer token nor a password.
inline void check_log_clean(const proxy_process& proxy)
{
    const std::string log = proxy.log();
    CHECK_FALSE(contains(log, agent_token));
    CHECK_FALSE(contains(log, proxy_process::password));
    CHECK_FALSE(contains(log, wrong_password));
}

/// A text about a failure names the proxy as `http://127.0.0.1:PORT` and holds no password.
inline void check_names_proxy(std::string_view text, const proxy_process& proxy)
{
    INFO("text: " << text);
    CHECK(contains(text, proxy.url()));
    CHECK_FALSE(contains(text, proxy_process::password));
    CHECK_FALSE(contains(text, wrong_password));
    CHECK_FALSE(contains(text, "@127.0.0.1"));
}

/// A retry policy of `attempts` attempts that does not sleep.
inline genesys::retry_policy quick_retries(int attempts)
{
    auto p = genesys::retry_policy::standard(attempts);
    p.sleep = [](std::chrono::milliseconds) {};
    return p;
}

} // namespace proxytest

#endif
