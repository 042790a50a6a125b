// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_TESTS_FORGETFUL_ASYNC_TRANSPORT_HPP
#define GENESYS_TESTS_FORGETFUL_ASYNC_TRANSPORT_HPP

// An asynchronous transport that keeps nothing of a request (unlike the async fake, which logs
// them): what a test scanning the heap for a token needs.

#include "fixtures.hpp"

#include <genesys/async_transport.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/error_code.hpp>

#include <string>
#include <utility>

namespace fixtures {

/// Answers every request with a 200 and `body`, posted to its executor.
struct forgetful_async_transport {
    using executor_type = boost::asio::any_io_executor;
    executor_type ex;
    std::string body;
    executor_type get_executor() const { return ex; }
    template <class CompletionToken>
    auto async_send(const genesys::http_request&, CompletionToken&& token)
    {
        return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code, genesys::http_response)>(
            [this](auto handler) {
                boost::asio::post(ex, [h = std::move(handler), r = json_response(200, body)]() mutable {
                    std::move(h)(boost::system::error_code{}, std::move(r));
                });
            },
            token);
    }
};

} // namespace fixtures

#endif
