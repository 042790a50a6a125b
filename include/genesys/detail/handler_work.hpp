// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DETAIL_HANDLER_WORK_HPP
#define GENESYS_DETAIL_HANDLER_WORK_HPP

// The outstanding work an asynchronous operation keeps on its handler's executor until the
// handler is called (or posted), as Asio's own operations do (`handler_work`).
//
// Not `executor_work_guard`: in Asio 1.26 it does not compile for a strand of `any_io_executor`
// (`make_strand(socket.get_executor())`: the strand's legacy `on_work_started` asks its inner
// executor for a member `any_io_executor` lacks), and such a strand bound through an
// `any_io_executor` allocates a new executor for every guard. Here a standard executor is kept
// busy by a copy of it that tracks work (`prefer(ex, outstanding_work.tracked)`; a strand's
// forwards to its inner executor, allocating nothing), and only a legacy executor by a guard.

#include <boost/asio/execution/executor.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/prefer.hpp>

#include <new>
#include <type_traits>
#include <utility>

namespace genesys::detail {

template <class Executor, bool Standard = boost::asio::execution::is_executor<Executor>::value>
struct work_of {
    using type = boost::asio::executor_work_guard<Executor>;
    static type make(const Executor& ex) { return type(ex); }
};

template <class Executor>
struct work_of<Executor, true> {
    using type = std::decay_t<decltype(boost::asio::prefer(std::declval<const Executor&>(),
                                                            boost::asio::execution::outstanding_work.tracked))>;
    static type make(const Executor& ex) { return boost::asio::prefer(ex, boost::asio::execution::outstanding_work.tracked); }
};

/// `Executor` (a handler's associated executor) and the work kept on it until `reset` (or the
/// destruction). Movable: the moved-from keeps none. (The work in raw storage with a flag, as
/// `executor_work_guard` keeps it: g++ 12 at -O3 warns of a maybe-uninitialized
/// `any_completion_executor` inside a moved `std::optional`.)
template <class Executor>
class handler_work {
    using work_type = typename work_of<Executor>::type;

public:
    explicit handler_work(const Executor& ex) : ex_(ex)
    {
        ::new (static_cast<void*>(storage_)) work_type(work_of<Executor>::make(ex));
        owns_ = true;
    }

    handler_work(handler_work&& other) noexcept : ex_(std::move(other.ex_))
    {
        if (other.owns_) {
            ::new (static_cast<void*>(storage_)) work_type(std::move(*other.work()));
            owns_ = true;
            other.reset();
        }
    }
    handler_work& operator=(handler_work&&) = delete;

    ~handler_work() { reset(); }

    /// The executor (as given: not the copy that tracks work).
    const Executor& get_executor() const noexcept { return ex_; }

    /// Stops keeping work (once; then a no-op).
    void reset() noexcept
    {
        if (owns_) {
            work()->~work_type();
            owns_ = false;
        }
    }

private:
    work_type* work() noexcept { return std::launder(reinterpret_cast<work_type*>(storage_)); }

    Executor ex_;
    alignas(work_type) unsigned char storage_[sizeof(work_type)];
    bool owns_ = false;
};

} // namespace genesys::detail

#endif
