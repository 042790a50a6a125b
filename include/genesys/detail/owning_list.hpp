// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DETAIL_OWNING_LIST_HPP
#define GENESYS_DETAIL_OWNING_LIST_HPP

// An intrusive doubly linked list that owns its nodes: for the operations under way that are
// linked and unlinked on every call (the shared cache's lookups, the validator's registry of
// them), in constant time and without allocating, where a map by id or address cost a node and a
// hash each time.

#include <memory>
#include <utility>

namespace genesys::detail {

template <class T>
class owning_list;

/// The links of a node of `owning_list<T>` (`T` derives from it), and the list's reference to it.
template <class T>
class owning_list_node {
public:
    /// Whether a list holds this node now.
    bool linked() const noexcept { return owner_ != nullptr; }

protected:
    owning_list_node() = default;
    ~owning_list_node() = default;

private:
    friend class owning_list<T>;
    T* prev_ = nullptr;
    T* next_ = nullptr;
    std::shared_ptr<T> owner_{};
};

/** A list of `T`s (each an `owning_list_node<T>`), holding a reference to each while it is
    linked. Not thread-safe: its owner's lock or strand guards it. A node is in one list at most. */
template <class T>
class owning_list {
public:
    owning_list() = default;
    owning_list(const owning_list&) = delete;
    owning_list& operator=(const owning_list&) = delete;
    /// Takes over `other`'s nodes; `other` is left empty.
    owning_list(owning_list&& other) noexcept : head_(std::exchange(other.head_, nullptr)) {}
    owning_list& operator=(owning_list&&) = delete;
    /// Drops the references it holds (nodes still linked are freed unless held elsewhere).
    ~owning_list()
    {
        while (head_ != nullptr)
            (void)erase(*head_);
    }

    /// The first node, or null.
    T* front() const noexcept { return head_; }

    /// Links `p` first (not linked elsewhere), holding it until `erase`.
    void push_front(std::shared_ptr<T> p) noexcept
    {
        T* n = p.get();
        owning_list_node<T>& links = *n;
        links.owner_ = std::move(p);
        links.prev_ = nullptr;
        links.next_ = head_;
        if (head_ != nullptr)
            static_cast<owning_list_node<T>&>(*head_).prev_ = n;
        head_ = n;
    }

    /// Unlinks `n` and returns the list's reference to it: empty when `n` was not linked.
    std::shared_ptr<T> erase(T& n) noexcept
    {
        owning_list_node<T>& links = n;
        if (!links.owner_)
            return {};
        if (links.prev_ != nullptr)
            static_cast<owning_list_node<T>&>(*links.prev_).next_ = links.next_;
        else
            head_ = links.next_;
        if (links.next_ != nullptr)
            static_cast<owning_list_node<T>&>(*links.next_).prev_ = links.prev_;
        links.prev_ = links.next_ = nullptr;
        return std::move(links.owner_);
    }

private:
    T* head_ = nullptr;
};

} // namespace genesys::detail

#endif
