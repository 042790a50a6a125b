// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DETAIL_BINARY_CODEC_HPP
#define GENESYS_DETAIL_BINARY_CODEC_HPP

// A compact binary form of the models, for the shared cache's entries (<genesys/detail/
// shared_entry.hpp>): read on every shared hit, where parsing the platform's JSON into a tree and
// decoding the tree cost more than the rest of the hit together.
//
// It walks the same field tables as the JSON codec (<genesys/detail/model_fields.hpp>), so a field
// added to a model is carried without a line here. Each value, in its field's order:
//   std::string                 length (LEB128) + bytes
//   bool                        1 byte, 0 or 1
//   std::int64_t, int           8 bytes, big-endian, two's complement
//   date_time                   its milliseconds since the Unix epoch, as std::int64_t
//   std::map<string, string>    count (LEB128) + key, value for each
//   std::optional<T>            1 byte, 0 (absent) or 1 (present, then T)
//   std::vector<T>              count (LEB128) + each T
//   a model                     its fields, in its table's order, without their names
// There are no names and no tags, so both sides must agree on the tables: `binary_schema<T>()` is
// a fingerprint of them (names, order and types), written beside the value and checked first.
// Reading never trusts a length or a count beyond the bytes left, and fails (never throws) on
// anything out of place.

#include <genesys/date_time.hpp>
#include <genesys/detail/model_fields.hpp>
#include <genesys/detail/model_traits.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

namespace genesys::detail::binary {

template <class T>
inline constexpr bool is_vector_v = false;
template <class T>
inline constexpr bool is_vector_v<std::vector<T>> = true;

/// FNV-1a (64 bits) over the tables' names and type codes; each piece ends with a separator.
struct schema_hasher {
    std::uint64_t h = 14695981039346656037ull;

    constexpr void add(std::string_view s) noexcept
    {
        for (const char c : s) {
            h ^= static_cast<unsigned char>(c);
            h *= 1099511628211ull;
        }
        h ^= 0xffu;
        h *= 1099511628211ull;
    }
};

template <class T>
constexpr void add_schema(schema_hasher& h) noexcept;

template <class C, class M>
constexpr void add_field_schema(schema_hasher& h, const field_t<C, M>& f) noexcept
{
    h.add(f.key);
    add_schema<M>(h);
}

template <class T>
constexpr void add_schema(schema_hasher& h) noexcept
{
    if constexpr (std::is_same_v<T, std::string>)
        h.add("s");
    else if constexpr (std::is_same_v<T, bool>)
        h.add("b");
    else if constexpr (std::is_same_v<T, std::int64_t>)
        h.add("i");
    else if constexpr (std::is_same_v<T, int>)
        h.add("n");
    else if constexpr (std::is_same_v<T, date_time>)
        h.add("t");
    else if constexpr (std::is_same_v<T, std::map<std::string, std::string>>)
        h.add("m");
    else if constexpr (is_optional_v<T>) {
        h.add("?");
        add_schema<typename T::value_type>(h);
    } else if constexpr (is_vector_v<T>) {
        h.add("[");
        add_schema<typename T::value_type>(h);
    } else {
        static_assert(model<T>, "binary codec: a member type without a form");
        h.add("{");
        h.add(model_traits<T>::name);
        std::apply([&](const auto&... f) { (add_field_schema(h, f), ...); }, model_traits<T>::fields);
        h.add("}");
    }
}

/// The fingerprint of `T`'s binary form: it changes when a field is added, removed, renamed,
/// reordered or changes type, anywhere in `T`.
template <class T>
constexpr std::uint64_t schema() noexcept
{
    schema_hasher h;
    h.add("genesys-binary-1");
    add_schema<T>(h);
    return h.h;
}

// ---- writing ----

inline void put_varint(std::string& out, std::uint64_t v)
{
    while (v >= 0x80) {
        out += static_cast<char>(static_cast<unsigned char>(v | 0x80));
        v >>= 7;
    }
    out += static_cast<char>(static_cast<unsigned char>(v));
}

inline void put_u64(std::string& out, std::uint64_t v)
{
    for (int i = 7; i >= 0; --i)
        out += static_cast<char>(static_cast<unsigned char>(v >> (i * 8)));
}

inline void put(std::string& out, const std::string& s)
{
    put_varint(out, s.size());
    out += s;
}
inline void put(std::string& out, bool b) { out += b ? '\1' : '\0'; }
inline void put(std::string& out, std::int64_t i) { put_u64(out, static_cast<std::uint64_t>(i)); }
inline void put(std::string& out, int i) { put(out, static_cast<std::int64_t>(i)); }
inline void put(std::string& out, date_time t) { put(out, static_cast<std::int64_t>(t.time_since_epoch().count())); }
inline void put(std::string& out, const std::map<std::string, std::string>& m)
{
    put_varint(out, m.size());
    for (const auto& [k, v] : m) {
        put(out, k);
        put(out, v);
    }
}
template <class T>
void put(std::string& out, const std::optional<T>& o);
template <class T>
void put(std::string& out, const std::vector<T>& v);
template <model T>
void put(std::string& out, const T& m);

template <class T>
void put(std::string& out, const std::optional<T>& o)
{
    put(out, o.has_value());
    if (o)
        put(out, *o);
}

template <class T>
void put(std::string& out, const std::vector<T>& v)
{
    put_varint(out, v.size());
    for (const auto& item : v)
        put(out, item);
}

template <model T>
void put(std::string& out, const T& m)
{
    std::apply([&](const auto&... f) { (put(out, m.*(f.member)), ...); }, model_traits<T>::fields);
}

// ---- reading ----

/// The bytes left to read; every `get` returns false on anything out of place.
struct reader {
    const char* p;
    const char* end;

    std::size_t left() const noexcept { return static_cast<std::size_t>(end - p); }
};

inline bool get_varint(reader& r, std::uint64_t& v) noexcept
{
    v = 0;
    for (int shift = 0; shift < 64 && r.p != r.end; shift += 7) {
        const auto b = static_cast<unsigned char>(*r.p++);
        v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
        if ((b & 0x80) == 0)
            return true;
    }
    return false;
}

/// A count of items of at least one byte each: never more than the bytes left.
inline bool get_count(reader& r, std::size_t& n) noexcept
{
    std::uint64_t v = 0;
    if (!get_varint(r, v) || v > r.left())
        return false;
    n = static_cast<std::size_t>(v);
    return true;
}

inline bool get_u64(reader& r, std::uint64_t& v) noexcept
{
    if (r.left() < 8)
        return false;
    v = 0;
    for (int i = 0; i < 8; ++i)
        v = (v << 8) | static_cast<unsigned char>(*r.p++);
    return true;
}

/// The next string's bytes (a view into the input), for the callers to construct or assign from.
inline bool get_bytes(reader& r, std::string_view& bytes) noexcept
{
    std::size_t n = 0;
    if (!get_count(r, n))
        return false;
    bytes = std::string_view(r.p, n);
    r.p += n;
    return true;
}
inline bool get(reader& r, std::string& s)
{
    std::string_view bytes;
    if (!get_bytes(r, bytes))
        return false;
    s.assign(bytes);
    return true;
}
inline bool get(reader& r, bool& b) noexcept
{
    if (r.p == r.end || static_cast<unsigned char>(*r.p) > 1)
        return false;
    b = *r.p++ == '\1';
    return true;
}
inline bool get(reader& r, std::int64_t& i) noexcept
{
    std::uint64_t u = 0;
    if (!get_u64(r, u))
        return false;
    i = static_cast<std::int64_t>(u);
    return true;
}
inline bool get(reader& r, int& i) noexcept
{
    std::int64_t wide = 0;
    if (!get(r, wide) || wide < std::numeric_limits<int>::min() || wide > std::numeric_limits<int>::max())
        return false;
    i = static_cast<int>(wide);
    return true;
}
inline bool get(reader& r, date_time& t) noexcept
{
    std::int64_t ms = 0;
    if (!get(r, ms))
        return false;
    t = date_time(std::chrono::milliseconds(ms));
    return true;
}
inline bool get(reader& r, std::map<std::string, std::string>& m)
{
    std::size_t n = 0;
    if (!get_count(r, n))
        return false;
    m.clear();
    for (std::size_t i = 0; i < n; ++i) {
        std::string k, v;
        if (!get(r, k) || !get(r, v))
            return false;
        m.insert_or_assign(std::move(k), std::move(v));
    }
    return true;
}
template <class T>
bool get(reader& r, std::optional<T>& o);
template <class T>
bool get(reader& r, std::vector<T>& v);
template <model T>
bool get(reader& r, T& m);

/// Reads the next `T` into the element `emplace` makes: a string constructed from its bytes
/// (`emplace(bytes)`, not made empty and then assigned: this runs for every string of an entry),
/// anything else default-made (`emplace()`) and then read.
template <class T, class Emplace>
bool get_emplaced(reader& r, Emplace&& emplace)
{
    if constexpr (std::is_same_v<T, std::string>) {
        std::string_view bytes;
        if (!get_bytes(r, bytes))
            return false;
        emplace(bytes);
        return true;
    } else {
        return get(r, emplace());
    }
}

template <class T>
bool get(reader& r, std::optional<T>& o)
{
    bool present = false;
    if (!get(r, present))
        return false;
    if (!present) {
        o.reset();
        return true;
    }
    return get_emplaced<T>(r, [&](const auto&... bytes) -> T& { return o.emplace(bytes...); });
}

template <class T>
bool get(reader& r, std::vector<T>& v)
{
    std::size_t n = 0;
    if (!get_count(r, n))
        return false;
    v.clear();
    v.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
        if (!get_emplaced<T>(r, [&](const auto&... bytes) -> T& { return v.emplace_back(bytes...); }))
            return false;
    return true;
}

template <model T>
bool get(reader& r, T& m)
{
    return std::apply([&](const auto&... f) { return (get(r, m.*(f.member)) && ...); }, model_traits<T>::fields);
}

/// Appends `value`'s binary form to `out`.
template <model T>
void encode(std::string& out, const T& value)
{
    put(out, value);
}

/** Reads a `T` that fills `in` exactly.

    @return false when `in` is cut short, has bytes left over, or holds anything out of place;
    `out` is then unspecified.
*/
template <model T>
bool decode(std::string_view in, T& out)
{
    reader r{in.data(), in.data() + in.size()};
    return get(r, out) && r.p == r.end;
}

} // namespace genesys::detail::binary

#endif
