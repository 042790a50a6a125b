// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_ANY_TRANSPORT_HPP
#define GENESYS_ANY_TRANSPORT_HPP

/// @file
/// `genesys::any_transport`: any `genesys::transport`, type-erased, so that code using the client
/// need not be a template; and `genesys::any_tokens_api`, the client over it.

#include <genesys/http.hpp>
#include <genesys/tokens_api.hpp>
#include <genesys/transport.hpp>

#include <boost/system/errc.hpp>
#include <boost/system/result.hpp>

#include <concepts>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace genesys {

namespace detail {

/// One object per type, whose address identifies the type without RTTI.
template <class T>
inline constexpr char any_transport_type_tag = 0;

} // namespace detail

/** Any `genesys::transport`, type-erased and owned: itself a `transport`.

    A function can then take `tokens_api<any_transport>&` (`any_tokens_api&`) and be called with
    a client over any transport, the adapters and the fakes alike, instead of being a template:

    @code
    #include <genesys/any_transport.hpp>
    #include <genesys/testing/fake_transport.hpp>

    #include <cassert>
    #include <string>

    // Business code, compiled once, whatever the transport.
    std::string organization_of(genesys::any_tokens_api& api)
    {
        return api.get_tokens_me().organization->name.value_or("?");
    }

    int main()
    {
        genesys::testing::fake_transport fake;
        fake.respond(200, R"({"organization":{"name":"Acme"}})");
        genesys::any_tokens_api api{fake, {.access_token = "test-token"}};
        assert(organization_of(api) == "Acme");
    }
    @endcode

    `send` calls the erased transport's `send`: its answers, error codes and exceptions are those
    of the transport (a plain `http_response` is returned as a `result`), so a client over an
    `any_transport` reports every failure as it would over the transport itself.
    `last_error_message()` and `cancel()` forward to the transport's when it has them (a
    `transport_with_error_detail`, a `cancellable_transport`), and otherwise give an empty text
    and do nothing: through `threaded_transport`, a cancelled send of a transport that cannot be
    aborted then runs to its end, as it would unerased.

    The cost is one indirect call per send and one heap allocation when the transport is erased
    (none per send).

    @par Ownership, copies and moves
    Move-only, as `std::move_only_function`: the transport is moved (or copied) in when the
    `any_transport` is made, and is destroyed with it. Moving an `any_transport` moves the
    pointer to the transport, never the transport itself, and leaves the source empty. A
    transport whose copies share state (`testing::fake_transport`) can be erased from a copy, the
    test keeping the other. `target<T>()` gives the transport back.

    @par The empty state
    A default-constructed or moved-from `any_transport` holds no transport: `operator bool` is
    `false`, and `send` fails with `boost::system::errc::operation_not_permitted` (which the
    library does not retry), as the library's own transports do when moved from. Assigning to it
    makes it usable again.

    @par Thread safety
    That of the erased transport: `send` and `cancel` may be called concurrently exactly when the
    transport's may. Assigning to an `any_transport` while one of its sends runs is a data race.
*/
class any_transport {
public:
    /// An empty `any_transport`: every `send` fails with `errc::operation_not_permitted`.
    any_transport() noexcept = default;

    /** Erases `t`: moves (or copies) it into storage of its own.

        Implicit, so that a client over an `any_transport` is made from any transport.
        @param t The transport; any `genesys::transport` except an `any_transport` (which is moved).
        @throws std::bad_alloc, and what constructing the transport throws.
    */
    template <class T>
        requires(!std::same_as<std::remove_cvref_t<T>, any_transport> && transport<std::remove_cvref_t<T>> &&
                 std::constructible_from<std::remove_cvref_t<T>, T>)
    any_transport(T&& t) // NOLINT(google-explicit-constructor): converting, as std::function's
        : impl_(std::make_unique<model<std::remove_cvref_t<T>>>(std::forward<T>(t)))
    {
    }

    /** Makes a `T` from `args` in the storage of the `any_transport` (for a transport that cannot
        be moved cheaply).
        @throws std::bad_alloc, and what `T`'s constructor throws.
    */
    template <transport T, class... Args>
        requires std::constructible_from<T, Args...>
    explicit any_transport(std::in_place_type_t<T>, Args&&... args)
        : impl_(std::make_unique<model<T>>(std::forward<Args>(args)...))
    {
    }

    /// Takes `other`'s transport; `other` is left empty.
    any_transport(any_transport&& other) noexcept = default;
    /// Destroys this one's transport and takes `other`'s; `other` is left empty.
    any_transport& operator=(any_transport&& other) noexcept = default;
    any_transport(const any_transport&) = delete;
    any_transport& operator=(const any_transport&) = delete;
    ~any_transport() = default;

    /** Sends `request` through the erased transport.

        @return Its response, or its error code; `errc::operation_not_permitted` when empty.
        @throws What the transport's `send` throws (the library turns it into an error).
    */
    boost::system::result<http_response> send(const http_request& request)
    {
        if (!impl_)
            return boost::system::errc::make_error_code(boost::system::errc::operation_not_permitted);
        return impl_->send(request);
    }

    /// The transport's `last_error_message()` when it has one, else (and when empty) "". A copy:
    /// a transport may return its text by value.
    std::string last_error_message() const
    {
        return impl_ ? impl_->last_error_message() : std::string();
    }

    /// The transport's `cancel()` when it has one (see `genesys::cancellable_transport`); else,
    /// and when empty, nothing. May be called from any thread while another is in `send`.
    void cancel() noexcept
    {
        if (impl_)
            impl_->cancel();
    }

    /// Whether it holds a transport (not default-constructed nor moved from).
    explicit operator bool() const noexcept { return impl_ != nullptr; }

    /** The erased transport, when it is a `T`.
        @return A pointer to it, or `nullptr` when empty or when it is not exactly a `T`.
        @{
    */
    template <class T>
    T* target() noexcept
    {
        return impl_ && impl_->type() == &detail::any_transport_type_tag<T> ? static_cast<T*>(impl_->object())
                                                                             : nullptr;
    }
    template <class T>
    const T* target() const noexcept
    {
        return impl_ && impl_->type() == &detail::any_transport_type_tag<T> ? static_cast<const T*>(impl_->object())
                                                                             : nullptr;
    }
    /// @}

private:
    struct concept_base {
        virtual ~concept_base() = default;
        virtual boost::system::result<http_response> send(const http_request& request) = 0;
        virtual std::string last_error_message() const = 0;
        virtual void cancel() noexcept = 0;
        virtual const void* type() const noexcept = 0;
        virtual void* object() noexcept = 0;
    };

    template <class T>
    struct model final : concept_base {
        template <class... Args>
        explicit model(Args&&... args) : transport(std::forward<Args>(args)...)
        {
        }

        boost::system::result<http_response> send(const http_request& request) override
        {
            return transport.send(request); // a plain http_response converts
        }

        std::string last_error_message() const override
        {
            if constexpr (transport_with_error_detail<T>)
                return std::string(std::string_view(transport.last_error_message()));
            else
                return {};
        }

        void cancel() noexcept override
        {
            if constexpr (cancellable_transport<T>)
                transport.cancel();
        }

        const void* type() const noexcept override { return &detail::any_transport_type_tag<T>; }
        void* object() noexcept override { return std::addressof(transport); }

        T transport;
    };

    std::unique_ptr<concept_base> impl_;
};

static_assert(transport<any_transport>);
static_assert(transport_with_error_detail<any_transport>);
static_assert(cancellable_transport<any_transport>);

/// The Tokens client over any transport: a function taking `any_tokens_api&` need not be a template.
/// Its operations are `tokens_api`'s, `call_options` included: checked, sent and logged as over
/// the transport itself.
using any_tokens_api = tokens_api<any_transport>;

} // namespace genesys

#endif
