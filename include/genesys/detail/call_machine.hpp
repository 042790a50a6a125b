// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DETAIL_CALL_MACHINE_HPP
#define GENESYS_DETAIL_CALL_MACHINE_HPP

// One call of the API, as a resumable step machine without I/O (the model is Boost.MySQL's
// sans-I/O algorithms). It asks its driver to get a token, to send the request, or to wait, and
// says when it is done; the blocking driver (`run_blocking`, below) answers with `send` and a
// sleep, the asynchronous one (<genesys/async.hpp>) with `async_send` and a timer. Everything a
// call decides (the token from the source, the 401-refresh-once rule, retry decisions and waits,
// the deadline, logging, error mapping) is decided here, once, for both.

#include <genesys/detail/failure.hpp>
#include <genesys/detail/log_attempt.hpp>
#include <genesys/detail/outcome.hpp>
#include <genesys/detail/retry_decision.hpp>
#include <genesys/error.hpp>
#include <genesys/error_code.hpp>
#include <genesys/http.hpp>
#include <genesys/logging.hpp>
#include <genesys/result.hpp>
#include <genesys/retry.hpp>
#include <genesys/shared_token_cache.hpp>
#include <genesys/token_source.hpp>

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace genesys::detail {

/// How one kind of call turns what its transport returned into a response or an error: the
/// Tokens client's rules are `api_rules`; the OAuth client has its own (its secrets, its bodies).
class attempt_rules {
public:
    /// Removes secrets from the transport's error text before it is logged or kept.
    virtual void scrub(std::string& text) const = 0;
    /// The 2xx response, or the error this attempt makes. `secret` is the token the request carried.
    virtual outcome<http_response> judge(std::string_view op, boost::system::result<http_response>&& sent,
                                         std::string_view what, std::string_view secret) const = 0;

protected:
    ~attempt_rules() = default;
};

/// The Tokens API's rules: a network failure, or any non-2xx status as an `api_error`.
class api_rules final : public attempt_rules {
public:
    explicit api_rules(response_limits limits) noexcept : limits_(limits) {}

    void scrub(std::string&) const override {} // the token is redacted where the text is used

    outcome<http_response> judge(std::string_view op, boost::system::result<http_response>&& sent,
                                 std::string_view what, std::string_view secret) const override
    {
        if (!sent)
            return network_failure(op, sent.error(), what, secret);
        // Any 2xx is a success, as in the official SDKs; `route::success` documents the spec's.
        if (sent->status < 200 || sent->status > 299)
            return api_failure(op, std::move(*sent), secret, limits_);
        return std::move(*sent);
    }

private:
    response_limits limits_;
};

/// What a call asks its driver to do next.
enum class call_action {
    get_token, ///< get a token from `token_source()` and hand it to `on_token`
    send,      ///< send `request()` and hand the outcome to `on_response`
    wait,      ///< wait `wait_time()`, then call `on_waited`
    done,      ///< `take_outcome()` holds the 2xx response or the error
};

/// What a call needs to know that is not in its request.
struct call_settings {
    std::string_view operation;            ///< the operationId, named by errors and log events
    const attempt_rules* rules = nullptr;  ///< never null
    const retry_policy* retry = nullptr;   ///< never null
    bool retry_allowed = false;            ///< the request is idempotent (or the caller allows it)
    bool retry_unprocessed = false;        ///< else, a 429 (refused before it was processed) may be retried
    const logger* log = nullptr;           ///< may point to an empty logger
    const std::vector<std::string>* logged_headers = nullptr; ///< allowed besides the defaults; may be null
    token_source* source = nullptr;        ///< null: the request carries `secret`'s token already
    std::string_view secret{};             ///< the fixed token, when there is no source
    bool revokes_own_token = false;        ///< `deleteTokensMe`: drops its token, and no 401 refresh
    shared_token_cache* revoke_through = nullptr; ///< `deleteTokensMe` with `client_config::shared_cache`
    std::string_view base_url{};           ///< the normalized base URL, with `revoke_through`
    std::chrono::milliseconds timeout{0};  ///< the call's deadline from its start; zero: none
};

/** One call, from its first token to its outcome, without I/O.

    Drive it with `start()` and then, for each action it returns, the matching `on_*` call, until
    it says `done`. `request` must outlive the machine; its `Authorization` header is set here
    when a token source is used.
*/
class call_machine {
public:
    using clock = std::chrono::steady_clock;

    call_machine(const call_settings& settings, http_request& request) noexcept
        : s_(settings), req_(&request)
    {
    }

    /// The first action.
    call_action start()
    {
        if (s_.timeout.count() > 0)
            deadline_ = now() + s_.timeout;
        return s_.source ? call_action::get_token : begin_attempts();
    }

    /// The source a `get_token` action asks for.
    genesys::token_source& token_source() const noexcept { return *s_.source; }

    /// The request a `send` action asks to send.
    const http_request& request() const noexcept { return *req_; }

    /// How long a `wait` action asks to wait.
    std::chrono::milliseconds wait_time() const noexcept { return wait_; }

    /// When the call's deadline passes (its `timeout` from `start()`), if it has one.
    std::optional<clock::time_point> deadline() const noexcept { return deadline_; }

    /// The token the current request carries: what errors and log events must not show.
    std::string_view secret() const noexcept { return s_.source ? std::string_view(token_) : s_.secret; }

    /// The token a `get_token` action asked for, or the error of getting one.
    call_action on_token(result<std::string>&& token)
    {
        if (!token) {
            error e = token.error();
            e.message = std::string(s_.operation) + " could not get a token: " + e.message;
            return finish(std::move(e));
        }
        token_ = std::move(*token); // checked by the source: fit for a Bearer header
        req_->headers.set("Authorization", "Bearer " + token_);
        return begin_attempts();
    }

    /// What the transport returned for a `send` action; `what` is its own text about a failure.
    call_action on_response(boost::system::result<http_response>&& sent, std::string what)
    {
        s_.rules->scrub(what);
        std::string log_error;
        if (*s_.log && !sent)
            log_error = network_log_text(sent.error(), what, secret());
        auto judged = s_.rules->judge(s_.operation, std::move(sent), what, secret());
        if (judged) {
            log(&judged->headers, judged->status, log_error, {});
            if (s_.source && s_.revokes_own_token)
                s_.source->invalidate(token_);
            if (s_.revokes_own_token && s_.revoke_through)
                revoke_shared();
            outcome_.emplace(std::move(judged));
            return call_action::done;
        }
        error& e = judged.failure();
        std::string note; // what the retry policy did, for the log event and the message
        if (s_.retry_allowed || s_.retry_unprocessed) {
            const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now() - first_started_);
            const attempt_outcome outcome = retry_outcome(*s_.retry, e, !s_.retry_allowed);
            retry_decision decision = decide_retry(*s_.retry, attempt_ + 1, outcome, elapsed);
            if (decision.wait && deadline_ && now() + *decision.wait >= *deadline_) {
                decision.why_not = "the next wait, " + format_wait(*decision.wait) + ", would end past call_timeout " +
                                   format_wait(s_.timeout);
                decision.wait.reset();
            }
            if (decision.wait) {
                log(e.kind == error_kind::api ? &e.headers : nullptr, e.status, log_error,
                    "retrying in " + format_wait(*decision.wait));
                wait_ = *decision.wait;
                return call_action::wait;
            }
            if (attempt_ > 1)
                note = "gave up after " + std::to_string(attempt_) + " attempts: " + decision.why_not;
            else if (outcome.retryable) // a first attempt the policy would retry, but its limits did not let it
                note = "not retried: " + decision.why_not;
            e.attempts = attempt_;
            if (!note.empty())
                e.message += " (" + note + ")";
        }
        log(e.kind == error_kind::api ? &e.headers : nullptr, e.status, log_error, note);
        // On a 401, drop the source's token and send once more with a fresh one.
        if (s_.source && e.kind == error_kind::api && e.status == 401) {
            s_.source->invalidate(token_);
            if (pass_ == 1 && !s_.revokes_own_token) {
                pass_ = 2;
                return call_action::get_token;
            }
        }
        outcome_.emplace(std::move(judged));
        return call_action::done;
    }

    /// A `wait` action has ended.
    call_action on_waited()
    {
        ++attempt_;
        return next_send();
    }

    /// Ends the call early: the driver's deadline passed, or it was cancelled. Either is a
    /// network error that is not retried.
    call_action abort(boost::system::error_code ec, std::string_view why)
    {
        return finish(network_failure(s_.operation, ec, why, secret()));
    }

    /// The error of a call whose deadline passed.
    call_action abort_deadline()
    {
        // The code's own text says what happened ("the call did not finish within its timeout"):
        // the detail gives the number only.
        return abort(make_error_code(errc::deadline_exceeded),
                     "call_timeout is " + std::to_string(s_.timeout.count()) + " ms");
    }

    /// The outcome, once `done`.
    outcome<http_response> take_outcome() noexcept { return std::move(*outcome_); }

private:
    /// The token `deleteTokensMe` revoked is revoked in the fleet's shared cache too, under both
    /// `preserveIdleTTL` flags (the key names it). Never makes the call fail.
    void revoke_shared() const noexcept
    {
        try {
            for (const bool preserve : {true, false})
                s_.revoke_through->revoke(s_.revoke_through->key_of(s_.base_url, preserve, secret()));
        } catch (...) {
        }
    }

    clock::time_point now() const { return s_.retry->clock ? s_.retry->clock() : clock::now(); }

    /// Hands the attempt's event to the logger, if any: `headers` of the response (null: none, or
    /// not kept), its `status` (0: none), the network failure's text, what the retry policy did.
    void log(const http_headers* headers, int status, std::string_view error_text, std::string_view retry_note) const
    {
        if (*s_.log)
            log_attempt(*s_.log, s_.operation, *req_, s_.logged_headers, attempt_, attempt_started_, status, headers,
                        error_text, retry_note);
    }

    call_action begin_attempts()
    {
        attempt_ = 1;
        if (s_.retry_allowed || s_.retry_unprocessed || deadline_)
            first_started_ = now();
        return next_send();
    }

    call_action next_send()
    {
        if (deadline_ && now() >= *deadline_)
            return abort_deadline();
        if (*s_.log)
            attempt_started_ = clock::now();
        return call_action::send;
    }

    call_action finish(error e)
    {
        outcome_.emplace(std::move(e));
        return call_action::done;
    }

    call_settings s_;
    http_request* req_;
    std::string token_;
    int pass_ = 1;
    int attempt_ = 1;
    std::chrono::milliseconds wait_{0};
    clock::time_point first_started_{};
    clock::time_point attempt_started_{};
    std::optional<clock::time_point> deadline_;
    std::optional<outcome<http_response>> outcome_;
};

/** Runs `m` to its end, blocking: tokens from the source's `try_token`, sends through `send`
    (which returns a `boost::system::result<http_response>` and fills its `what`), waits with
    the retry policy's `sleep`. */
template <class Send>
outcome<http_response> run_blocking(call_machine& m, const retry_policy& policy, Send&& send)
{
    for (call_action a = m.start();;) {
        switch (a) {
        case call_action::get_token: a = m.on_token(m.token_source().try_token()); break;
        case call_action::send: {
            std::string what;
            auto sent = send(m.request(), what);
            a = m.on_response(std::move(sent), std::move(what));
            break;
        }
        case call_action::wait:
            if (policy.sleep)
                policy.sleep(m.wait_time());
            else
                std::this_thread::sleep_for(m.wait_time());
            a = m.on_waited();
            break;
        case call_action::done: return m.take_outcome();
        }
    }
}

} // namespace genesys::detail

#endif
