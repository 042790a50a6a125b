// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DETAIL_OUTCOME_HPP
#define GENESYS_DETAIL_OUTCOME_HPP

// What the call path passes between its steps: a value or a `genesys::error`, reachable by
// reference. `boost::system::result::error()` returns a copy in Boost 1.81, and an error holds the
// response's headers and raw body, so the steps use this and convert to `result` once, by moving.

#include <genesys/error.hpp>
#include <genesys/result.hpp>

#include <utility>
#include <variant>

namespace genesys::detail {

template <class T>
class outcome {
public:
    outcome(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    outcome(error e) : v_(std::in_place_index<1>, std::move(e)) {}

    explicit operator bool() const noexcept { return v_.index() == 0; }

    T& operator*() noexcept { return *std::get_if<0>(&v_); }
    T* operator->() noexcept { return std::get_if<0>(&v_); }
    /// The error; only when `!*this`.
    error& failure() noexcept { return *std::get_if<1>(&v_); }
    const error& failure() const noexcept { return *std::get_if<1>(&v_); }

    /// The public form, moving the value or the error into it.
    result<T> to_result() &&
    {
        if (v_.index() == 0)
            return result<T>(boost::system::in_place_value, std::move(**this));
        return result<T>(boost::system::in_place_error, std::move(failure()));
    }

private:
    std::variant<T, error> v_;
};

/// The value of `o`, or throws its error.
template <class T>
T take(outcome<T>&& o)
{
    if (!o)
        throw_error(std::move(o.failure()));
    return std::move(*o);
}

} // namespace genesys::detail

#endif
