// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_IMPL_TOKEN_SOURCE_IPP
#define GENESYS_IMPL_TOKEN_SOURCE_IPP

#include <genesys/detail/failure.hpp>
#include <genesys/error_code.hpp>
#include <genesys/token_source.hpp>

#include <boost/system/errc.hpp>

#include <algorithm>
#include <exception>
#include <new>
#include <string>
#include <utility>

namespace genesys {

namespace detail {

/// Why `token` cannot be sent as `Authorization: Bearer <token>`, or empty. Never quotes it.
constexpr std::string_view bearer_token_problem(std::string_view token) noexcept
{
    if (token.empty())
        return "is empty";
    for (char c : token) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f)
            return "has a space, a control character or a non-ASCII byte";
    }
    return {};
}

} // namespace detail

struct token_source::fetch_guard {
    token_source& self;
    bool done = false;
    ~fetch_guard()
    {
        if (!done)
            self.finish_fetch(self.out_of_memory_, std::nullopt, {});
    }
};

GENESYS_DECL token_source::token_source(fetch_function fetch, token_source_options options)
    : fetch_(std::move(fetch)), options_(std::move(options)), out_of_memory_(make_out_of_memory())
{
}

GENESYS_DECL token_source::token_source(async_fetch_function fetch, token_source_options options)
    : async_fetch_(std::move(fetch)), options_(std::move(options)), out_of_memory_(make_out_of_memory())
{
}

GENESYS_DECL token_source::token_source(async_fetch_function fetch, oauth_token initial,
                                        token_source_options options)
    : token_source(std::move(fetch), std::move(options))
{
    refresh_token_ = initial.refresh_token.value_or("");
    if (detail::bearer_token_problem(initial.access_token).empty())
        cached_ = make_cached(std::move(initial.access_token), initial.expires_in, now());
}

GENESYS_DECL token_source::token_source(fetch_function fetch, oauth_token initial, token_source_options options)
    : token_source(std::move(fetch), std::move(options))
{
    refresh_token_ = initial.refresh_token.value_or("");
    if (detail::bearer_token_problem(initial.access_token).empty())
        cached_ = make_cached(std::move(initial.access_token), initial.expires_in, now());
}

GENESYS_DECL token_source::~token_source()
{
    detail::wipe(refresh_token_);
}

GENESYS_DECL result<std::string> token_source::try_token()
{
    std::unique_lock lock(mutex_);
    const auto started = now();
    if (cached_ && is_fresh(*cached_, started))
        return cached_->value;
    if (fetching_)
        return wait_for_fetch(lock, generation_);
    fetching_ = true;
    ++fetches_;
    if (!fetch_ && async_fetch_) { // an asynchronous grant: start it and wait like the others
        const std::uint64_t seen = generation_;
        lock.unlock();
        start_async_fetch(started);
        lock.lock();
        return wait_for_fetch(lock, seen);
    }
    lock.unlock();

    // Everything that may throw happens before the lock is taken again; an exception
    // (out of memory) ends the fetch through the guard, so waiters are never left hanging.
    fetch_guard guard{*this};
    std::optional<std::int64_t> expires_in;
    auto outcome = std::make_shared<const result<std::string>>(fetch(expires_in));
    guard.done = true;
    finish_fetch(outcome, expires_in, started);
    return *outcome;
}

GENESYS_DECL std::optional<std::string> token_source::fresh_token() const
{
    std::lock_guard lock(mutex_);
    if (cached_ && is_fresh(*cached_, now()))
        return cached_->value;
    return std::nullopt;
}

GENESYS_DECL bool token_source::wait_async(std::shared_ptr<detail::token_waiter> waiter)
{
    std::unique_lock lock(mutex_);
    if (waiter->answered_)
        return false; // withdrawn before it got here (its timer or its cancellation): answered already
    const auto started = now();
    if (cached_ && is_fresh(*cached_, started)) {
        const result<std::string> token = cached_->value;
        waiter->answered_ = true;
        lock.unlock();
        waiter->deliver(token);
        return false;
    }
    if (fetching_) {
        waiter->counted_ = true;
        ++waiting_;
        waiters_.push_back(std::move(waiter));
        return true;
    }
    if (!async_fetch_) {
        waiter->answered_ = true;
        lock.unlock();
        waiter->deliver(detail::invalid_argument(
            detail::request_token_operation,
            "this token source has only a blocking grant, which never runs for an asynchronous caller: make "
            "it with an asynchronous grant (an oauth_client over an asynchronous transport)"));
        return false;
    }
    fetching_ = true;
    ++fetches_;
    waiters_.push_back(std::move(waiter));
    lock.unlock();
    start_async_fetch(started);
    return false;
}

GENESYS_DECL bool token_source::withdraw(detail::token_waiter& waiter)
{
    std::lock_guard lock(mutex_);
    if (waiter.answered_)
        return false;
    waiter.answered_ = true;
    if (waiter.counted_)
        --waiting_;
    std::erase_if(waiters_, [&](const auto& p) { return p.get() == &waiter; });
    return true;
}

GENESYS_DECL error token_source::wait_timed_out() const
{
    return detail::network_failure(detail::request_token_operation,
                                   boost::system::errc::make_error_code(boost::system::errc::timed_out),
                                   "waited " + std::to_string(options_.wait_timeout.count()) +
                                       " ms for the token refresh another call started",
                                   {});
}

GENESYS_DECL std::string token_source::token()
{
    return try_token().value();
}

GENESYS_DECL void token_source::invalidate(std::string_view rejected_token)
{
    std::lock_guard lock(mutex_);
    if (cached_ && cached_->value == rejected_token)
        cached_.reset();
}

GENESYS_DECL void token_source::clear()
{
    std::lock_guard lock(mutex_);
    cached_.reset();
}

GENESYS_DECL bool token_source::has_fresh_token() const
{
    std::lock_guard lock(mutex_);
    return cached_ && is_fresh(*cached_, now());
}

GENESYS_DECL std::optional<token_source::clock_type::time_point> token_source::expires_at() const
{
    std::lock_guard lock(mutex_);
    if (!cached_)
        return std::nullopt;
    return cached_->expires_at;
}

GENESYS_DECL std::uint64_t token_source::fetch_count() const
{
    std::lock_guard lock(mutex_);
    return fetches_;
}

GENESYS_DECL std::size_t token_source::waiting() const
{
    std::lock_guard lock(mutex_);
    return waiting_;
}

GENESYS_DECL std::shared_ptr<const result<std::string>> token_source::make_out_of_memory()
{
    error e;
    e.kind = error_kind::network;
    e.code = make_error_code(errc::transport_exception);
    e.operation = std::string(detail::request_token_operation);
    e.message = e.operation + " failed: out of memory while fetching a token";
    return std::make_shared<const result<std::string>>(std::move(e));
}

GENESYS_DECL token_source::clock_type::time_point token_source::now() const
{
    return options_.clock ? options_.clock() : clock_type::now();
}

GENESYS_DECL std::optional<token_source::clock_type::time_point> token_source::wait_deadline() const
{
    using std::chrono::milliseconds;
    const auto start = clock_type::now();
    const milliseconds timeout = std::max(options_.wait_timeout, milliseconds(0));
    const auto headroom = std::chrono::duration_cast<milliseconds>(clock_type::time_point::max() - start);
    if (timeout >= headroom - milliseconds(1))
        return std::nullopt;
    return start + timeout;
}

GENESYS_DECL bool token_source::is_fresh(const cached_token& t, clock_type::time_point at) noexcept
{
    return !t.refresh_at || at < *t.refresh_at;
}

GENESYS_DECL token_source::cached_token token_source::make_cached(std::string value,
                                                             std::optional<std::int64_t> expires_in,
                                                             clock_type::time_point started) const
{
    cached_token t{std::move(value), std::nullopt, std::nullopt};
    if (!expires_in || *expires_in <= 0)
        return t; // no usable lifetime: kept until the API rejects it, not fetched on every call
    using std::chrono::seconds;
    constexpr std::int64_t ten_years = std::int64_t{10} * 366 * 24 * 3600;
    const seconds lifetime{std::clamp<std::int64_t>(*expires_in, 0, ten_years)};
    const seconds margin = std::min(std::max(options_.refresh_margin, seconds(0)), lifetime / 2);
    t.expires_at = started + lifetime;
    t.refresh_at = started + lifetime - margin;
    return t;
}

GENESYS_DECL result<std::string> token_source::fetch(std::optional<std::int64_t>& expires_in)
{
    const std::string_view op = detail::request_token_operation;
    if (!fetch_)
        return detail::invalid_argument(op, "the token source has no grant to fetch a token with");
    try {
        return accept(fetch_(), expires_in);
    } catch (const std::bad_alloc&) {
        throw;
    } catch (const exception& e) {
        return e.info();
    } catch (const std::exception& e) {
        return detail::network_failure(op, make_error_code(errc::transport_exception),
                                       std::string("the grant threw: ") + e.what(), {});
    } catch (...) {
        return detail::network_failure(op, make_error_code(errc::transport_exception),
                                       "the grant threw a non-standard exception", {});
    }
}

GENESYS_DECL std::optional<error> token_source::keep_refresh_token(const api_response<oauth_token>& answer)
{
    const auto& rotated = answer.data.refresh_token;
    if (!rotated || rotated->empty() || *rotated == refresh_token_)
        return std::nullopt;
    refresh_token_ = *rotated; // the one the grant will use next, whatever the callback does
    if (!options_.on_refresh_token)
        return std::nullopt;
    std::string why;
    try {
        options_.on_refresh_token(std::string_view(refresh_token_));
        return std::nullopt;
    } catch (const std::bad_alloc&) {
        throw;
    } catch (const std::exception& e) {
        why = e.what();
    } catch (...) {
        why = "a non-standard exception";
    }
    error e;
    e.kind = error_kind::network;
    e.code = make_error_code(errc::transport_exception);
    e.operation = std::string(detail::request_token_operation);
    e.correlation_id = std::string(answer.correlation_id());
    detail::redact(why, answer.data.access_token);
    e.message = e.operation + " failed: on_refresh_token threw, so the new token is not used (the next fetch "
                              "renews it and calls on_refresh_token again): ";
    detail::append_one_line(e.message, why, refresh_token_);
    return e;
}

GENESYS_DECL result<std::string> token_source::accept(result<api_response<oauth_token>>&& r,
                                                     std::optional<std::int64_t>& expires_in)
{
    const std::string_view op = detail::request_token_operation;
    {
        if (!r)
            return r.error();
        if (auto failed = keep_refresh_token(*r))
            return std::move(*failed); // never cached: the application could not keep its refresh token
        if (auto why = detail::bearer_token_problem(r->data.access_token); !why.empty()) {
            error e;
            e.kind = error_kind::decode;
            e.code = make_error_code(errc::decode_failed);
            e.operation = std::string(op);
            e.status = r->status;
            e.message = e.operation + " failed: the token response has an access_token that " + std::string(why);
            return e; // never cached: the next call fetches again
        }
        expires_in = r->data.expires_in;
        return std::move(r->data.access_token);
    }
}

GENESYS_DECL result<std::string> token_source::wait_for_fetch(std::unique_lock<std::mutex>& lock,
                                                             std::uint64_t seen)
{
    ++waiting_;
    const auto fetched = [&] { return generation_ != seen; };
    bool done = true;
    if (const auto deadline = wait_deadline())
        done = cv_.wait_until(lock, *deadline, fetched);
    else
        cv_.wait(lock, fetched); // a timeout too long to represent: no timeout
    --waiting_;
    if (!done) {
        lock.unlock();
        return wait_timed_out();
    }
    const auto outcome = outcome_; // the fetch this call waited for, or a later one
    lock.unlock();
    return *outcome;
}

GENESYS_DECL void token_source::start_async_fetch(clock_type::time_point started)
{
    auto keep = weak_from_this().lock();
    auto done = [this, keep, started](result<api_response<oauth_token>> r) {
        std::optional<std::int64_t> expires_in;
        std::shared_ptr<const result<std::string>> outcome;
        try {
            outcome = std::make_shared<const result<std::string>>(accept(std::move(r), expires_in));
        } catch (...) {
            outcome = out_of_memory_;
        }
        finish_fetch(outcome, expires_in, started);
    };
    try {
        async_fetch_(std::move(done));
    } catch (...) { // it did not start: nothing will call `done`
        std::shared_ptr<const result<std::string>> outcome = out_of_memory_;
        try {
            outcome = std::make_shared<const result<std::string>>(detail::network_failure(
                detail::request_token_operation, make_error_code(errc::transport_exception),
                "the asynchronous grant threw instead of starting", {}));
        } catch (...) {
        }
        finish_fetch(outcome, std::nullopt, started);
    }
}

GENESYS_DECL void token_source::finish_fetch(std::shared_ptr<const result<std::string>> outcome,
                                            std::optional<std::int64_t> expires_in,
                                            clock_type::time_point started) noexcept
{
    std::optional<cached_token> fresh;
    std::vector<std::shared_ptr<detail::token_waiter>> answered;
    try {
        if (*outcome)
            fresh = make_cached(**outcome, expires_in, started);
    } catch (...) {
        fresh.reset(); // out of memory: not cached, the waiters still get the token
    }
    {
        std::lock_guard lock(mutex_);
        if (fresh)
            cached_ = std::move(*fresh);
        outcome_ = outcome;
        fetching_ = false;
        ++generation_;
        answered.swap(waiters_);
        for (auto& w : answered) {
            w->answered_ = true;
            if (w->counted_)
                --waiting_;
        }
    }
    cv_.notify_all();
    for (auto& w : answered)
        w->deliver(*outcome);
}

} // namespace genesys

#endif
