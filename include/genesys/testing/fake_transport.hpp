// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_TESTING_FAKE_TRANSPORT_HPP
#define GENESYS_TESTING_FAKE_TRANSPORT_HPP

/// @file
/// `testing::fake_transport`: canned responses and a request log, for testing code that uses the library.

#include <genesys/http.hpp>

#include <boost/system/errc.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace genesys::testing {

/** A transport that answers from a queue of canned responses and records every request.

    Copies share one state, so a test can keep a copy and hand another to `tokens_api`.
    Thread-safe. When the queue is empty and no default response is set, `send`
    fails with `boost::system::errc::no_message_available`.

    @code
    #include <genesys/testing/fake_transport.hpp>
    #include <genesys/tokens.hpp>

    #include <cassert>

    int main()
    {
        genesys::testing::fake_transport fake;
        fake.respond(200, R"({"organization":{"name":"Acme"}})");
        genesys::tokens_api api{fake, {.access_token = "test-token"}};
        assert(api.get_tokens_me().organization->name == "Acme");
        assert(fake.last_request()->url == "https://api.mypurecloud.com/api/v2/tokens/me");
    }
    @endcode
*/
class fake_transport {
public:
    fake_transport() : state_(std::make_shared<state>()) {}

    /// Queues a response.
    fake_transport& respond(http_response response)
    {
        std::lock_guard lock(state_->mutex);
        state_->queue.emplace_back(std::move(response));
        return *this;
    }

    /// Queues a response with `status`, `body` and `headers`.
    fake_transport& respond(int status, std::string body = {}, http_headers headers = {})
    {
        return respond(http_response{status, std::move(headers), std::move(body)});
    }

    /// Queues a network failure.
    fake_transport& fail(boost::system::error_code ec)
    {
        std::lock_guard lock(state_->mutex);
        state_->queue.emplace_back(ec);
        return *this;
    }

    /// Makes the `n`-th call of `send` (counting from 1 over the fake's life) fail with `ec`,
    /// without taking anything from the queue.
    fake_transport& fail_on(std::size_t n, boost::system::error_code ec)
    {
        std::lock_guard lock(state_->mutex);
        state_->fail_on[n] = ec;
        return *this;
    }

    /// The response given when the queue is empty; without one, an empty queue is an error.
    fake_transport& respond_by_default(http_response response)
    {
        std::lock_guard lock(state_->mutex);
        state_->fallback = std::move(response);
        return *this;
    }

    /// Records `request` and answers with the next canned response or failure.
    boost::system::result<http_response> send(const http_request& request)
    {
        std::lock_guard lock(state_->mutex);
        state_->log.push_back(request);
        if (auto it = state_->fail_on.find(state_->log.size()); it != state_->fail_on.end())
            return it->second;
        if (state_->queue.empty()) {
            if (state_->fallback)
                return *state_->fallback;
            return boost::system::errc::make_error_code(boost::system::errc::no_message_available);
        }
        auto next = std::move(state_->queue.front());
        state_->queue.pop_front();
        if (auto* ec = std::get_if<boost::system::error_code>(&next))
            return *ec;
        return std::move(std::get<http_response>(next));
    }

    /// Every request sent so far, oldest first.
    std::vector<http_request> requests() const
    {
        std::lock_guard lock(state_->mutex);
        return state_->log;
    }

    /// The number of requests sent so far.
    std::size_t request_count() const
    {
        std::lock_guard lock(state_->mutex);
        return state_->log.size();
    }

    /// The most recent request; `std::nullopt` before the first.
    std::optional<http_request> last_request() const
    {
        std::lock_guard lock(state_->mutex);
        if (state_->log.empty())
            return std::nullopt;
        return state_->log.back();
    }

    /// The number of canned responses and failures not yet used.
    std::size_t pending() const
    {
        std::lock_guard lock(state_->mutex);
        return state_->queue.size();
    }

    /// Forgets the queue, the log, the failures and the default response.
    void reset()
    {
        std::lock_guard lock(state_->mutex);
        *state_ = {};
    }

private:
    struct state {
        std::mutex mutex;
        std::deque<std::variant<http_response, boost::system::error_code>> queue;
        std::vector<http_request> log;
        std::map<std::size_t, boost::system::error_code> fail_on;
        std::optional<http_response> fallback;

        state() = default;
        state& operator=(state&& other) noexcept
        {
            queue = std::move(other.queue);
            log = std::move(other.log);
            fail_on = std::move(other.fail_on);
            fallback = std::move(other.fallback);
            return *this;
        }
    };
    std::shared_ptr<state> state_;
};

} // namespace genesys::testing

#endif
