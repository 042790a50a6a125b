// SPDX-License-Identifier: BSL-1.0
// token_validator::async_validate is defined in <genesys/async_token_validator.hpp>: calling it
// with <genesys/token_validator.hpp> alone must be a static_assert that names that header, not an
// "incomplete type" error. The control includes the header and compiles.
#include <genesys/token_validator.hpp>
#ifdef GENESYS_COMPILE_FAIL_CONTROL
#include <genesys/async_token_validator.hpp>
#endif

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>

// An asynchronous transport that never answers: enough for the call to be compiled.
struct silent_async_transport {
    boost::asio::any_io_executor ex;
    boost::asio::any_io_executor get_executor() const { return ex; }
    template <class CompletionToken>
    auto async_send(const genesys::http_request&, CompletionToken&& token)
    {
        return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code, genesys::http_response)>(
            [](auto) {}, token);
    }
};

void use(genesys::token_validator<silent_async_transport>& v)
{
    v.async_validate("a-token", [](genesys::result<genesys::validated_token>) {});
    (void)v.async_validate("a-token"); // the default completion token
}
