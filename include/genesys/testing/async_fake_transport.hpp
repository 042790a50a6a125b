// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_TESTING_ASYNC_FAKE_TRANSPORT_HPP
#define GENESYS_TESTING_ASYNC_FAKE_TRANSPORT_HPP

/// @file
/// `testing::async_fake_transport`: the fake transport for the asynchronous API.

#include <genesys/detail/handler_work.hpp>
#include <genesys/http.hpp>
#include <genesys/testing/fake_transport.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

namespace genesys::testing {

/** An asynchronous transport that answers from the same queue of canned responses as
    `testing::fake_transport` (it is one inside), and records every request.

    Each send takes its answer when it starts, and completes with it:
    - at once (the default): posted to the executor, never inline;
    - after a delay (`complete_after`): on a timer, so it can be cancelled while it waits;
    - when the test says (`manual`): it waits until `complete_next()`, keeping work on the
      executor (and on the handler's), as any Asio operation: `io_context::run()` does not
      return while a send waits (use `poll()`, or complete or cancel it first). Destroy the
      fake, its copies and what holds them before the execution context.

    A send waiting on its delay or in manual mode honours terminal cancellation of its handler's
    cancellation slot: it completes with `boost::asio::error::operation_aborted`.

    Copies share one state, as those of `fake_transport` do. Thread-safe.

    @code
    boost::asio::io_context ioc;
    genesys::testing::async_fake_transport fake{ioc.get_executor()};
    fake.respond(200, R"({"organization":{"name":"Acme"}})");
    genesys::async_tokens_api api{fake, {.access_token = "test-token"}};
    api.async_get_tokens_me([](auto r) { assert(r->data.organization->name == "Acme"); });
    ioc.run();
    @endcode
*/
class async_fake_transport {
public:
    /// The executor sends run on.
    using executor_type = boost::asio::any_io_executor;

    /// A fake whose sends complete on `ex`.
    explicit async_fake_transport(executor_type ex) : ex_(std::move(ex)), state_(std::make_shared<state>()) {}

    /// The executor sends run on.
    executor_type get_executor() const { return ex_; }

    /// The synchronous fake holding the queue and the request log (shared with this one).
    fake_transport& queue() noexcept { return fake_; }

    /** The canned answers, as in `fake_transport`: queue a response or a failure, fail the
        `n`-th send, or answer every send when the queue is empty.
        @{ */
    async_fake_transport& respond(http_response response)
    {
        fake_.respond(std::move(response));
        return *this;
    }
    async_fake_transport& respond(int status, std::string body = {}, http_headers headers = {})
    {
        fake_.respond(status, std::move(body), std::move(headers));
        return *this;
    }
    async_fake_transport& fail(boost::system::error_code ec)
    {
        fake_.fail(ec);
        return *this;
    }
    async_fake_transport& fail_on(std::size_t n, boost::system::error_code ec)
    {
        fake_.fail_on(n, ec);
        return *this;
    }
    async_fake_transport& respond_by_default(http_response response)
    {
        fake_.respond_by_default(std::move(response));
        return *this;
    }
    /// @}

    /// Every request sent so far, oldest first.
    std::vector<http_request> requests() const { return fake_.requests(); }
    /// The number of requests sent so far.
    std::size_t request_count() const { return fake_.request_count(); }
    /// The most recent request; `std::nullopt` before the first.
    std::optional<http_request> last_request() const { return fake_.last_request(); }
    /// The number of canned responses and failures not yet used.
    std::size_t pending() const { return fake_.pending(); }

    /// Sends complete `delay` after they start (zero: at once).
    async_fake_transport& complete_after(std::chrono::milliseconds delay)
    {
        std::lock_guard lock(state_->mutex);
        state_->delay = delay;
        return *this;
    }

    /// In manual mode, a send waits until `complete_next()` completes it.
    async_fake_transport& manual(bool on = true)
    {
        std::lock_guard lock(state_->mutex);
        state_->manual = on;
        return *this;
    }

    /// The number of sends waiting in manual mode.
    std::size_t waiting() const
    {
        std::lock_guard lock(state_->mutex);
        return state_->waiting.size();
    }

    /// Completes the oldest send waiting in manual mode with its answer (posted to its
    /// executor); false when none waits.
    bool complete_next()
    {
        std::unique_lock lock(state_->mutex);
        if (state_->waiting.empty())
            return false;
        waiting_send w = std::move(state_->waiting.front());
        state_->waiting.pop_front();
        lock.unlock();
        w.complete(std::move(w.answer));
        return true;
    }

    /// Forgets the queue, the log, the failures, the default response, the mode, and the sends
    /// waiting in manual mode (which never complete).
    void reset()
    {
        fake_.reset();
        std::list<waiting_send> dropped;
        {
            std::lock_guard lock(state_->mutex);
            dropped.swap(state_->waiting);
            state_->delay = {};
            state_->manual = false;
        }
    }

    /// Records `request`, takes its answer, and completes as the mode says.
    template <class CompletionToken>
    auto async_send(const http_request& request, CompletionToken&& token)
    {
        return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code, http_response)>(
            [](auto handler, async_fake_transport* self, const http_request* req) {
                self->start(std::move(handler), *req);
            },
            token, this, &request);
    }

private:
    using answer_type = boost::system::result<http_response>;

    struct waiting_send {
        std::uint64_t id = 0;
        answer_type answer;
        std::function<void(answer_type)> complete;
    };

    struct state {
        std::mutex mutex;
        std::chrono::milliseconds delay{0};
        bool manual = false;
        std::uint64_t next_id = 0;
        std::list<waiting_send> waiting; // a list: cancelling one never moves the others
    };

    template <class Handler>
    static void finish(const executor_type& ex, Handler&& handler, answer_type answer)
    {
        boost::system::error_code ec;
        http_response res;
        if (answer)
            res = std::move(*answer);
        else
            ec = answer.error();
        boost::asio::post(ex, boost::asio::append(std::forward<Handler>(handler), ec, std::move(res)));
    }

    template <class Handler>
    void start(Handler handler, const http_request& req)
    {
        answer_type answer = fake_.send(req);
        std::unique_lock lock(state_->mutex);
        if (state_->manual) {
            auto slot = boost::asio::get_associated_cancellation_slot(handler);
            const std::uint64_t id = ++state_->next_id;
            // The send keeps work on its executor and the handler's, as an Asio operation does:
            // `run()` does not return while it waits.
            struct pending {
                Handler handler;
                detail::handler_work<executor_type> io_work;
                detail::handler_work<boost::asio::associated_executor_t<Handler, executor_type>> work;
            };
            auto handler_ex = boost::asio::get_associated_executor(handler, ex_);
            auto shared = std::make_shared<std::optional<pending>>(
                pending{std::move(handler), detail::handler_work<executor_type>(ex_),
                        detail::handler_work<decltype(handler_ex)>(handler_ex)});
            state_->waiting.push_back({id, std::move(answer), [ex = ex_, shared](answer_type a) mutable {
                                           std::optional<pending>& p = *shared;
                                           finish(ex, std::move(p->handler), std::move(a));
                                           p.reset(); // after the post, which keeps the contexts busy
                                       }});
            if (slot.is_connected()) {
                slot.assign([st = std::weak_ptr<state>(state_), id](boost::asio::cancellation_type) {
                    auto s = st.lock();
                    if (!s)
                        return;
                    std::unique_lock l(s->mutex);
                    for (auto it = s->waiting.begin(); it != s->waiting.end(); ++it) {
                        if (it->id == id) {
                            waiting_send w = std::move(*it);
                            s->waiting.erase(it);
                            l.unlock();
                            w.complete(boost::system::error_code(boost::asio::error::operation_aborted));
                            return;
                        }
                    }
                });
            }
            return;
        }
        const auto delay = state_->delay;
        lock.unlock();
        if (delay.count() <= 0) {
            finish(ex_, std::move(handler), std::move(answer));
            return;
        }
        auto timer = std::make_shared<boost::asio::steady_timer>(ex_, delay);
        auto slot = boost::asio::get_associated_cancellation_slot(handler);
        auto handler_ex = boost::asio::get_associated_executor(handler, ex_);
        timer->async_wait(boost::asio::bind_cancellation_slot(
            slot, boost::asio::bind_executor(handler_ex, [h = std::move(handler), answer = std::move(answer), timer,
                                                          slot, ex = ex_](boost::system::error_code ec) mutable {
                // The timer's cancellation handler stays in the slot after its wait completes and
                // refers to the timer, which goes with this function: cleared here (where the
                // handler's executor runs it, so never during an emit) before it can be called.
                if (slot.is_connected())
                    slot.clear();
                if (ec)
                    answer = ec;
                finish(ex, std::move(h), std::move(answer));
            })));
    }

    executor_type ex_;
    fake_transport fake_;
    std::shared_ptr<state> state_;
};

} // namespace genesys::testing

#endif
