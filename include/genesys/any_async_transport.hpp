// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_ANY_ASYNC_TRANSPORT_HPP
#define GENESYS_ANY_ASYNC_TRANSPORT_HPP

/// @file
/// `genesys::any_async_transport`: any `genesys::async_transport`, type-erased, so that code using
/// the asynchronous client need not be a template; and `genesys::any_async_tokens_api`, the
/// client over it.
///
/// Needs Boost.Asio, as the asynchronous client does (the CMake target `genesys::tokens_async`);
/// not included by <genesys/async.hpp>.

#include <genesys/async.hpp>
#include <genesys/async_transport.hpp>
#include <genesys/detail/async_post.hpp>
#include <genesys/http.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/system/errc.hpp>
#include <boost/system/error_code.hpp>

#include <concepts>
#include <memory>
#include <type_traits>
#include <utility>

namespace genesys {

namespace detail {

/// One object per type, whose address identifies the type without RTTI.
template <class T>
inline constexpr char any_async_transport_type_tag = 0;

} // namespace detail

/** Any `genesys::async_transport` whose executor converts to `boost::asio::any_io_executor`,
    type-erased and owned: itself an `async_transport`.

    A function can then take `async_tokens_api<any_async_transport>&` (`any_async_tokens_api&`)
    and be called with a client over any asynchronous transport (`beast_async_transport`,
    `threaded_transport`, the fake), instead of being a template:

    @code
    #include <genesys/any_async_transport.hpp>
    #include <genesys/testing/async_fake_transport.hpp>

    #include <boost/asio/io_context.hpp>

    #include <cassert>

    // Business code, compiled once, whatever the transport.
    void check(genesys::any_async_tokens_api& api, bool& valid)
    {
        api.async_verify_token([&valid](auto r) { valid = r && r->data; });
    }

    int main()
    {
        boost::asio::io_context ioc;
        genesys::testing::async_fake_transport fake{ioc.get_executor()};
        fake.respond(200);
        genesys::any_async_tokens_api api{fake, {.access_token = "test-token"}};
        bool valid = false;
        check(api, valid);
        ioc.run();
        assert(valid);
    }
    @endcode

    `async_send(request, token)` accepts any completion token, as the transport's does. Its
    handler is erased into a `boost::asio::any_completion_handler` (one allocation per send,
    through the handler's associated allocator) and handed to the transport's `async_send`,
    which therefore sees the handler's associated executor (as an
    `boost::asio::any_completion_executor`), cancellation slot and allocator: the handler runs
    where it would without the erasure, exactly once, and cancelling it cancels the transport's
    send. Completions, errors, and the failure text in the response's body are the transport's.
    The erased transport is a concrete type to the client: a transport's executor that is a
    strand is seen as an `any_io_executor`, so a call with a `call_timeout` makes its own strand
    (see `async_tokens_api`) even when the transport's executor is one.

    @par Ownership, copies and moves
    Move-only, as `std::move_only_function`: the transport is moved (or copied) in when the
    `any_async_transport` is made, and is destroyed with it. Moving an `any_async_transport` moves
    the pointer to the transport, never the transport itself. A transport whose copies share state
    (`testing::async_fake_transport`, `beast_async_transport`) can be erased from a copy.
    `target<T>()` gives the transport back.

    @par The moved-from state
    A moved-from `any_async_transport` holds no transport (`operator bool` is `false`) but keeps
    the executor: `get_executor()` still works, and `async_send` completes (never inline, through
    that executor and then the handler's) with `boost::system::errc::operation_not_permitted`,
    which the library does not retry, as the library's own transports do when moved from.
    Assigning to it makes it usable again. There is no default constructor: an asynchronous
    transport has an executor.

    @par Thread safety
    That of the erased transport: `async_send` may be called concurrently exactly when the
    transport's may. `get_executor` may be called concurrently. Assigning to an
    `any_async_transport` while `async_send` is being called is a data race; sends already
    started are the transport's and are not affected by destroying or assigning to the
    `any_async_transport` beyond what destroying the transport does.
*/
class any_async_transport {
public:
    /// The executor sends run on: the transport's, type-erased.
    using executor_type = boost::asio::any_io_executor;

    /// The type the handlers of sends are erased into before they reach the transport.
    using completion_handler_type = boost::asio::any_completion_handler<void(boost::system::error_code, http_response)>;

    /** Erases `t`: moves (or copies) it into storage of its own.

        Implicit, so that a client over an `any_async_transport` is made from any asynchronous
        transport.
        @param t The transport; any `genesys::async_transport` whose `get_executor()` converts to
        `boost::asio::any_io_executor`, except an `any_async_transport` (which is moved).
        @throws std::bad_alloc, and what constructing the transport throws.
    */
    template <class T>
        requires(!std::same_as<std::remove_cvref_t<T>, any_async_transport> && async_transport<std::remove_cvref_t<T>> &&
                 std::constructible_from<std::remove_cvref_t<T>, T> &&
                 std::convertible_to<decltype(std::declval<std::remove_cvref_t<T>&>().get_executor()), executor_type>)
    any_async_transport(T&& t) // NOLINT(google-explicit-constructor): converting, as std::function's
        : impl_(std::make_unique<model<std::remove_cvref_t<T>>>(std::forward<T>(t))), ex_(impl_->get_executor())
    {
    }

    /** Makes a `T` from `args` in the storage of the `any_async_transport`.
        @throws std::bad_alloc, and what `T`'s constructor throws.
    */
    template <async_transport T, class... Args>
        requires std::constructible_from<T, Args...> &&
                 std::convertible_to<decltype(std::declval<T&>().get_executor()), executor_type>
    explicit any_async_transport(std::in_place_type_t<T>, Args&&... args)
        : impl_(std::make_unique<model<T>>(std::forward<Args>(args)...)), ex_(impl_->get_executor())
    {
    }

    /// Takes `other`'s transport; `other` keeps only its executor.
    any_async_transport(any_async_transport&& other) noexcept : impl_(std::move(other.impl_)), ex_(other.ex_) {}

    /// Destroys this one's transport and takes `other`'s; `other` keeps only its executor.
    any_async_transport& operator=(any_async_transport&& other) noexcept
    {
        impl_ = std::move(other.impl_);
        ex_ = other.ex_;
        return *this;
    }

    any_async_transport(const any_async_transport&) = delete;
    any_async_transport& operator=(const any_async_transport&) = delete;
    ~any_async_transport() = default;

    /// The transport's executor, as it was when the transport was erased (kept when moved from).
    executor_type get_executor() const noexcept { return ex_; }

    /** Starts sending `request` through the erased transport.

        @param request Must stay valid until the operation completes (as for any
        `async_transport`).
        @param token The completion token, for the signature
        `void(boost::system::error_code, http_response)`.
        @return What `token` makes of the operation (nothing for a callback).
        @throws std::bad_alloc, and what the transport's `async_send` throws.
    */
    template <class CompletionToken>
    auto async_send(const http_request& request, CompletionToken&& token)
    {
        return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code, http_response)>(
            initiate_send{this}, token, &request);
    }

    /// Whether it holds a transport (it was not moved from).
    explicit operator bool() const noexcept { return impl_ != nullptr; }

    /** The erased transport, when it is a `T`.
        @return A pointer to it, or `nullptr` when moved from or when it is not exactly a `T`.
        @{
    */
    template <class T>
    T* target() noexcept
    {
        return impl_ && impl_->type() == &detail::any_async_transport_type_tag<T> ? static_cast<T*>(impl_->object())
                                                                                   : nullptr;
    }
    template <class T>
    const T* target() const noexcept
    {
        return impl_ && impl_->type() == &detail::any_async_transport_type_tag<T>
                   ? static_cast<const T*>(impl_->object())
                   : nullptr;
    }
    /// @}

private:
    struct concept_base {
        virtual ~concept_base() = default;
        virtual void async_send(const http_request& request, completion_handler_type&& handler) = 0;
        virtual executor_type get_executor() = 0;
        virtual const void* type() const noexcept = 0;
        virtual void* object() noexcept = 0;
    };

    template <class T>
    struct model final : concept_base {
        template <class... Args>
        explicit model(Args&&... args) : transport(std::forward<Args>(args)...)
        {
        }

        void async_send(const http_request& request, completion_handler_type&& handler) override
        {
            // Moved, never assigned: a move-assigned any_completion_handler crashes in Asio 1.26.
            transport.async_send(request, std::move(handler));
        }

        executor_type get_executor() override { return transport.get_executor(); }
        const void* type() const noexcept override { return &detail::any_async_transport_type_tag<T>; }
        void* object() noexcept override { return std::addressof(transport); }

        T transport;
    };

    struct initiate_send {
        any_async_transport* self;

        template <class Handler>
        void operator()(Handler handler, const http_request* request) const
        {
            if (!self->impl_)
                return fail_moved_from(self->ex_, std::move(handler));
            // Move-constructed from the handler (an any_completion_handler is moved, not wrapped).
            self->impl_->async_send(*request, completion_handler_type(std::move(handler)));
        }
    };

    template <class Handler>
    static void fail_moved_from(const executor_type& ex, Handler handler)
    {
        auto handler_ex = boost::asio::get_associated_executor(handler, ex);
        detail::post_to_handler(ex, handler_ex, [h = std::move(handler)]() mutable {
            http_response text;
            text.body = "the transport was moved from";
            std::move(h)(boost::system::errc::make_error_code(boost::system::errc::operation_not_permitted),
                         std::move(text));
        });
    }

    std::unique_ptr<concept_base> impl_;
    executor_type ex_;
};

static_assert(async_transport<any_async_transport>);

/// The asynchronous Tokens client over any asynchronous transport: a function taking
/// `any_async_tokens_api&` need not be a template. Its operations are `async_tokens_api`'s,
/// `call_options` included (copied when the operation is initiated).
using any_async_tokens_api = async_tokens_api<any_async_transport>;

} // namespace genesys

#endif
