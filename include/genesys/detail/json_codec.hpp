#ifndef GENESYS_DETAIL_JSON_CODEC_HPP
#define GENESYS_DETAIL_JSON_CODEC_HPP

// Table-driven JSON encoding and tolerant decoding of the models.
//
// Each model lists its fields once, as `{json key, member pointer}` pairs in a `model_traits`
// specialization (<genesys/detail/model_fields.hpp>); encoding and decoding walk that table.
// Decoding ignores unknown keys, treats a missing key or `null` as "absent", and on a type
// mismatch reports where it happened (`$.OAuthClient.scope[2]`).

#include <genesys/date_time.hpp>
#include <genesys/detail/model_fields.hpp>
#include <genesys/error_code.hpp>

#include <boost/json.hpp>

#if defined(GENESYS_TOKENS_BOOST_JSON_IMPLEMENTATION)
#include <boost/json/src.hpp>
#endif

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace genesys::detail {

constexpr std::string_view kind_name(boost::json::kind k) noexcept
{
    switch (k) {
    case boost::json::kind::null: return "null";
    case boost::json::kind::bool_: return "bool";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_: return "number";
    case boost::json::kind::string: return "string";
    case boost::json::kind::array: return "array";
    case boost::json::kind::object: return "object";
    }
    return "value";
}

/// Where and why decoding stopped. Costs nothing until a failure.
class decode_context {
public:
    bool fail(std::string_view expected, const boost::json::value& got)
    {
        reason_ = "expected ";
        reason_ += expected;
        reason_ += ", got ";
        reason_ += kind_name(got.kind());
        return false;
    }

    bool fail_reason(std::string reason)
    {
        reason_ = std::move(reason);
        return false;
    }

    void push_key(std::string_view key)
    {
        std::string seg = ".";
        seg += key;
        path_.push_back(std::move(seg));
    }

    void push_index(std::size_t i)
    {
        // Into a buffer: g++ 12 at -O2 and above warns (-Wrestrict, a false positive) on
        // "[" + std::to_string(i) + "]".
        char buf[2 + std::numeric_limits<std::size_t>::digits10 + 1];
        buf[0] = '[';
        char* end = std::to_chars(buf + 1, buf + sizeof buf - 1, i).ptr;
        *end++ = ']';
        path_.emplace_back(buf, end);
    }

    /// `"$.a.b[2]: expected string, got number"`.
    std::string describe() const
    {
        std::string out = "$";
        for (auto it = path_.rbegin(); it != path_.rend(); ++it)
            out += *it;
        out += ": ";
        out += reason_;
        return out;
    }

private:
    std::string reason_;
    std::vector<std::string> path_; // innermost first
};

// ---- decoding: every overload is declared before any template uses it ----

bool decode(const boost::json::value& v, std::string& out, decode_context& ctx);
bool decode(const boost::json::value& v, bool& out, decode_context& ctx);
bool decode(const boost::json::value& v, std::int64_t& out, decode_context& ctx);
bool decode(const boost::json::value& v, int& out, decode_context& ctx);
bool decode(const boost::json::value& v, date_time& out, decode_context& ctx);
bool decode(const boost::json::value& v, std::map<std::string, std::string>& out, decode_context& ctx);
template <class T>
bool decode(const boost::json::value& v, std::vector<T>& out, decode_context& ctx);
template <model T>
bool decode(const boost::json::value& v, T& out, decode_context& ctx);

inline bool decode(const boost::json::value& v, std::string& out, decode_context& ctx)
{
    const auto* s = v.if_string();
    if (!s)
        return ctx.fail("string", v);
    out = std::string(s->data(), s->size()); // constructing is quicker than assign() into an empty string
    return true;
}

inline bool decode(const boost::json::value& v, bool& out, decode_context& ctx)
{
    const auto* b = v.if_bool();
    if (!b)
        return ctx.fail("bool", v);
    out = *b;
    return true;
}

inline bool decode(const boost::json::value& v, std::int64_t& out, decode_context& ctx)
{
    if (const auto* i = v.if_int64()) {
        out = *i;
        return true;
    }
    if (const auto* u = v.if_uint64()) {
        if (*u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            return ctx.fail_reason("integer out of range");
        out = static_cast<std::int64_t>(*u);
        return true;
    }
    if (const auto* d = v.if_double()) {
        // 42.0 is an integer written by a lenient serializer; 42.5 is not.
        if (std::trunc(*d) != *d || !(std::fabs(*d) < 9.2e18))
            return ctx.fail_reason("expected integer, got fractional or out-of-range number");
        out = static_cast<std::int64_t>(*d);
        return true;
    }
    return ctx.fail("integer", v);
}

inline bool decode(const boost::json::value& v, int& out, decode_context& ctx)
{
    std::int64_t wide = 0;
    if (!decode(v, wide, ctx))
        return false;
    if (wide < std::numeric_limits<int>::min() || wide > std::numeric_limits<int>::max())
        return ctx.fail_reason("integer out of range");
    out = static_cast<int>(wide);
    return true;
}

inline bool decode(const boost::json::value& v, date_time& out, decode_context& ctx)
{
    const auto* s = v.if_string();
    if (!s)
        return ctx.fail("date-time string", v);
    auto t = parse_date_time(std::string_view(s->data(), s->size()));
    if (!t)
        return ctx.fail_reason("not an ISO-8601 date-time: \"" + std::string(s->data(), std::min<std::size_t>(s->size(), 64)) + "\"");
    out = *t;
    return true;
}

// Message parameters are documented as string to string; other scalars are kept as their JSON text
// rather than failing the whole error body.
inline bool decode(const boost::json::value& v, std::map<std::string, std::string>& out, decode_context& ctx)
{
    const auto* o = v.if_object();
    if (!o)
        return ctx.fail("object", v);
    out.clear();
    for (const auto& kv : *o) {
        std::string key(kv.key());
        if (const auto* s = kv.value().if_string())
            out[std::move(key)] = std::string(s->data(), s->size());
        else
            out[std::move(key)] = boost::json::serialize(kv.value());
    }
    return true;
}

template <class T>
bool decode(const boost::json::value& v, std::vector<T>& out, decode_context& ctx)
{
    const auto* a = v.if_array();
    if (!a)
        return ctx.fail("array", v);
    out.clear();
    out.reserve(a->size());
    for (std::size_t i = 0; i < a->size(); ++i) {
        if (!decode((*a)[i], out.emplace_back(), ctx)) {
            ctx.push_index(i);
            return false;
        }
    }
    return true;
}

template <class C, class M>
bool decode_field(const boost::json::object& o, C& out, const field_t<C, M>& f, decode_context& ctx)
{
    const boost::json::value* p = o.if_contains(f.key);
    if (!p || p->is_null())
        return true; // absent: optional members stay empty, required ones keep their default
    M& member = out.*f.member;
    bool ok = false;
    if constexpr (is_optional_v<M>) {
        ok = decode(*p, member.emplace(), ctx);
        if (!ok)
            member.reset();
    } else {
        ok = decode(*p, member, ctx);
    }
    if (!ok)
        ctx.push_key(f.key);
    return ok;
}

template <model T>
bool decode(const boost::json::value& v, T& out, decode_context& ctx)
{
    const auto* o = v.if_object();
    if (!o)
        return ctx.fail("object", v);
    return std::apply([&](const auto&... f) { return (decode_field(*o, out, f, ctx) && ...); },
                      model_traits<T>::fields);
}

// ---- encoding ----

inline void encode(boost::json::value& jv, const std::string& s) { jv.emplace_string() = s; }
inline void encode(boost::json::value& jv, bool b) { jv = b; }
inline void encode(boost::json::value& jv, std::int64_t i) { jv = i; }
inline void encode(boost::json::value& jv, int i) { jv = static_cast<std::int64_t>(i); }
inline void encode(boost::json::value& jv, date_time t) { jv.emplace_string() = format_date_time(t); }
inline void encode(boost::json::value& jv, const std::map<std::string, std::string>& m)
{
    auto& o = jv.emplace_object();
    for (const auto& [k, val] : m)
        o[k] = val;
}
template <class T>
void encode(boost::json::value& jv, const std::vector<T>& items);
template <model T>
void encode(boost::json::value& jv, const T& m);

template <class T>
void encode(boost::json::value& jv, const std::vector<T>& items)
{
    auto& a = jv.emplace_array();
    a.reserve(items.size());
    for (const auto& item : items)
        encode(a.emplace_back(nullptr), item);
}

template <class C, class M>
void encode_field(boost::json::object& o, const C& m, const field_t<C, M>& f)
{
    const M& member = m.*f.member;
    if constexpr (is_optional_v<M>) {
        if (member)
            encode(o[f.key], *member);
    } else {
        encode(o[f.key], member);
    }
}

template <model T>
void encode(boost::json::value& jv, const T& m)
{
    auto& o = jv.emplace_object();
    std::apply([&](const auto&... f) { (encode_field(o, m, f), ...); }, model_traits<T>::fields);
}

// ---- whole bodies ----

/// Parses a 2xx body into `out`; on failure says why in `why`. JSON nested deeper than
/// `max_depth` is refused by the parser before it builds anything deeper.
template <class T>
bool decode_body(std::string_view body, T& out, std::string& why, std::size_t max_depth = 32)
{
    if (body.empty()) {
        why = "the body is empty";
        return false;
    }
    unsigned char buffer[4096];
    boost::json::monotonic_resource scratch(buffer, sizeof buffer);
    boost::json::parse_options options;
    options.max_depth = max_depth;
    boost::system::error_code ec;
    boost::json::value jv = boost::json::parse(body, ec, &scratch, options);
    if (ec == boost::json::error::too_deep) {
        why = "the JSON is nested deeper than " + std::to_string(max_depth) + " levels";
        return false;
    }
    if (ec) {
        why = "the body is not valid JSON (" + ec.message() + ")";
        return false;
    }
    decode_context ctx;
    if (!decode(jv, out, ctx)) {
        why = ctx.describe();
        return false;
    }
    return true;
}

} // namespace genesys::detail

namespace genesys {

/// Enables `boost::json::value_from(m)` for every model; absent optional fields are omitted.
template <detail::model T>
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const T& m)
{
    detail::encode(jv, m);
}

/** Enables `boost::json::value_to<T>(jv)` and `try_value_to<T>(jv)` for every model.

    Unknown keys are ignored and missing or `null` fields stay absent; a value of the
    wrong type fails with `genesys::errc::decode_failed`.
*/
template <detail::model T>
boost::system::result<T> tag_invoke(const boost::json::try_value_to_tag<T>&, const boost::json::value& jv)
{
    T out{};
    detail::decode_context ctx;
    if (!detail::decode(jv, out, ctx))
        return make_error_code(errc::decode_failed);
    return out;
}

} // namespace genesys

#endif
