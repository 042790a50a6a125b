// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DETAIL_TOKENS_CORE_HPP
#define GENESYS_DETAIL_TOKENS_CORE_HPP

// What `tokens_api<Transport>` is without its transport: the operations as plain functions that
// take the transport as a `send_ref`. The template is a thin shell over this class, so the call path
// (request building, the step machine, retries, decoding, error mapping) is compiled once, and in
// the compiled mode only in <genesys/src.hpp>; this header does not need Boost.JSON.

#include <genesys/call_options.hpp>
#include <genesys/client_config.hpp>
#include <genesys/detail/config.hpp>
#include <genesys/detail/send_through.hpp>
#include <genesys/http.hpp>
#include <genesys/models/idle_token_timeout.hpp>
#include <genesys/models/token_info.hpp>
#include <genesys/result.hpp>

#include <atomic>
#include <concepts>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace genesys::detail {

/// The arguments `get_tokens_me` (and `async_get_tokens_me`) take for `preserveIdleTTL`: a `bool`,
/// a `std::optional<bool>` or `std::nullopt`; nothing that merely converts to `bool` (a string
/// literal would be `true`).
template <class T>
concept is_preserve_idle_ttl_argument =
    std::same_as<std::remove_cvref_t<T>, bool> || std::same_as<std::remove_cvref_t<T>, std::optional<bool>> ||
    std::same_as<std::remove_cvref_t<T>, std::nullopt_t>;

class client_core; // <genesys/detail/client_core.hpp>

/** The request a client reuses from one call to the next, so that steady calls build theirs in
    buffers already allocated.

    A call takes the slot when it is free and gives it back when done; a call that finds it taken
    (by another thread, or by a call made from inside a transport or logger), or that has headers
    of its own (`call_options::headers`, which the next call must not send), uses a request of its
    own. The slot keeps the request headers between calls, so a copy or an assignment empties it:
    a client copied or assigned from another builds its headers anew, from its own configuration.
*/
class request_slot {
public:
    request_slot() = default;
    request_slot(const request_slot&) noexcept {}
    /// Forgets the request kept for the client assigned over; assigning a client while one of its
    /// calls is under way is a data race, as for any object.
    request_slot& operator=(const request_slot&) noexcept
    {
        request_ = http_request{};
        return *this;
    }

    /// The slot's request for the time of one call, or a request of the call's own.
    class lease {
    public:
        /// With `use_slot` false, the call's own request, whatever the slot's state.
        explicit lease(request_slot& slot, bool use_slot = true) noexcept
            : slot_(!use_slot || slot.busy_.test_and_set(std::memory_order_acquire) ? nullptr : &slot)
        {
        }
        ~lease()
        {
            if (slot_)
                slot_->busy_.clear(std::memory_order_release);
        }
        lease(const lease&) = delete;
        lease& operator=(const lease&) = delete;

        http_request& request() noexcept { return slot_ ? slot_->request_ : own_; }

    private:
        request_slot* slot_;
        http_request own_;
    };

private:
    std::atomic_flag busy_; // clear
    http_request request_;
};

template <class T>
class outcome; // <genesys/detail/outcome.hpp>

/** The Tokens client's state and operations, transport aside.

    Each operation is here in both of its public forms, `try_x` returning the `result` and `x`
    returning the data or throwing, so that `tokens_api<Transport>` only forwards: a unit that calls
    the client instantiates nothing of the call path, not even the conversion of its outcome.

    The checked configuration and the headers made from it are immutable once made, and shared by
    copies; each copy has its own request slot.
*/
class tokens_core {
public:
    /// Checks `config`; a problem is returned by every call, before sending.
    GENESYS_DECL explicit tokens_core(client_config config);

    // Copies share the checked configuration. No move operations: moving copies, so that a
    // moved-from client still has its configuration (and `core_` is never null).
    tokens_core(const tokens_core&) = default;
    tokens_core& operator=(const tokens_core&) = default;
    GENESYS_DECL ~tokens_core(); // compiled with the rest: the unit only calls it

    GENESYS_DECL const client_config& config() const noexcept;

    GENESYS_DECL result<api_response<void>> try_delete_token(std::string_view user_id, send_ref send,
                                                             const call_options& options);
    GENESYS_DECL void delete_token(std::string_view user_id, send_ref send, const call_options& options);
    GENESYS_DECL result<api_response<void>> try_delete_tokens_me(send_ref send, const call_options& options);
    GENESYS_DECL void delete_tokens_me(send_ref send, const call_options& options);
    GENESYS_DECL result<api_response<token_info>> try_get_tokens_me(std::optional<bool> preserve_idle_ttl,
                                                                    send_ref send, const call_options& options);
    GENESYS_DECL token_info get_tokens_me(std::optional<bool> preserve_idle_ttl, send_ref send,
                                          const call_options& options);
    GENESYS_DECL result<api_response<void>> try_head_tokens_me(send_ref send, const call_options& options);
    GENESYS_DECL void head_tokens_me(send_ref send, const call_options& options);
    GENESYS_DECL result<api_response<bool>> try_verify_token(send_ref send, const call_options& options);
    GENESYS_DECL bool verify_token(send_ref send, const call_options& options);
    GENESYS_DECL result<api_response<idle_token_timeout>> try_get_tokens_timeout(send_ref send,
                                                                                 const call_options& options);
    GENESYS_DECL idle_token_timeout get_tokens_timeout(send_ref send, const call_options& options);
    GENESYS_DECL result<api_response<idle_token_timeout>> try_put_tokens_timeout(const idle_token_timeout& settings,
                                                                                 send_ref send,
                                                                                 const call_options& options);
    GENESYS_DECL idle_token_timeout put_tokens_timeout(const idle_token_timeout& settings, send_ref send,
                                                       const call_options& options);

private:
    // Defined in <genesys/detail/impl/tokens_core.ipp> only: the one call path of every operation.
    template <class Route, class... Params>
    outcome<api_response<typename Route::response_type>> call(send_ref send, const call_options& options,
                                                              const Route& route, std::string_view query,
                                                              std::string body, const Params&... params);
    GENESYS_DECL outcome<api_response<void>> call_delete_token(std::string_view user_id, send_ref send,
                                                               const call_options& options);
    GENESYS_DECL outcome<api_response<void>> call_delete_tokens_me(send_ref send, const call_options& options);
    GENESYS_DECL outcome<api_response<token_info>> call_get_tokens_me(std::optional<bool> preserve_idle_ttl,
                                                                      send_ref send, const call_options& options);
    GENESYS_DECL outcome<api_response<void>> call_head_tokens_me(send_ref send, const call_options& options);
    GENESYS_DECL outcome<api_response<bool>> call_verify_token(send_ref send, const call_options& options);
    GENESYS_DECL outcome<api_response<idle_token_timeout>> call_get_tokens_timeout(send_ref send,
                                                                                   const call_options& options);
    GENESYS_DECL outcome<api_response<idle_token_timeout>> call_put_tokens_timeout(const idle_token_timeout& settings,
                                                                                   send_ref send,
                                                                                   const call_options& options);

    std::shared_ptr<const client_core> core_; // never null
    request_slot slot_;
};

} // namespace genesys::detail

#if !defined(GENESYS_TOKENS_SEPARATE_COMPILATION)
#include <genesys/detail/impl/tokens_core.ipp>
#endif

#endif
