// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DETAIL_JSON_CODEC_HPP
#define GENESYS_DETAIL_JSON_CODEC_HPP

// Table-driven JSON encoding and tolerant decoding of the models.
//
// Each model lists its fields once, as `{json key, member pointer}` pairs in a `model_traits`
// specialization (<genesys/detail/model_fields.hpp>); encoding and decoding walk that table.
// Decoding ignores unknown keys, treats a missing key or `null` as "absent", and on a type
// mismatch either reports where it happened (`$.OAuthClient.scope[2]`, the strict mode) or leaves
// that value out (the lenient mode, in which the Tokens API's responses are read).

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

/** How decoding treats a value it cannot read.

    `strict` (`boost::json::value_to`, the OAuth bodies): the whole decoding fails and says where
    (`$.OAuthClient.scope[2]: expected string, got number`). `lenient` (the Tokens API's response
    bodies and error bodies, read as the official SDKs read them): only a top-level value that is
    not an object fails; any other value that cannot be read is left out (an optional field
    absent, a required one at its default, an array element dropped, a `null` element skipped)
    and noted in `decode_context::skipped()`, and scalars are converted where the meaning is
    clear: a number or a bool where a string is expected is kept as its JSON text (`42`,
    `true`), a string holding a clean integer (`"900"`, `"-5"`: an optional `-` and digits, in
    range) where an integer is expected is that integer, `"true"`/`"false"` where a bool is
    expected is that bool. Both modes read the date forms `parse_date_time` reads.
*/
enum class decode_mode { strict, lenient };

/// Where and why decoding stopped, and in the lenient mode what it left out. Costs a pointer per
/// level until a value cannot be read.
class decode_context {
    struct segment_t {
        const segment_t* parent;
        std::string_view key; // data() null: an index
        std::size_t index;
    };

public:
    explicit decode_context(decode_mode mode = decode_mode::strict) noexcept : mode_(mode) {}

    bool lenient() const noexcept { return mode_ == decode_mode::lenient; }

    bool fail(std::string_view expected, const boost::json::value& got)
    {
        std::string reason = "expected ";
        reason += expected;
        reason += ", got ";
        reason += kind_name(got.kind());
        return fail_reason(std::move(reason));
    }

    bool fail_reason(std::string reason)
    {
        reason_ = std::move(reason);
        where_ = path();
        return false;
    }

    /// One level deeper (an object's key or an array's index) for its lifetime.
    class step {
    public:
        step(decode_context& ctx, std::string_view key) noexcept : ctx_(ctx), segment_{ctx.here_, key, 0}
        {
            ctx_.here_ = &segment_;
        }
        step(decode_context& ctx, std::size_t index) noexcept : ctx_(ctx), segment_{ctx.here_, {}, index}
        {
            ctx_.here_ = &segment_;
        }
        ~step() { ctx_.here_ = segment_.parent; }
        step(const step&) = delete;
        step& operator=(const step&) = delete;

    private:
        decode_context& ctx_;
        segment_t segment_;
    };

    /// Notes the last failure as a value left out (the lenient mode).
    void skip() { skipped_.push_back(describe()); }

    /// What the lenient mode left out, in the order of the models' fields: `"$.dateTokenIdles:
    /// not an ISO-8601 date-time: \"yesterday\""` (a `null` left out is not noted).
    const std::vector<std::string>& skipped() const noexcept { return skipped_; }

    /// `"$.a.b[2]: expected string, got number"`: the last failure.
    std::string describe() const { return where_ + ": " + reason_; }

private:
    std::string path() const
    {
        std::vector<const segment_t*> chain; // innermost first
        for (const segment_t* s = here_; s; s = s->parent)
            chain.push_back(s);
        std::string out = "$";
        for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
            const segment_t& s = **it;
            if (s.key.data()) {
                out += '.';
                out += s.key;
            } else {
                // Into a buffer: g++ 12 at -O2 and above warns (-Wrestrict, a false positive) on
                // "[" + std::to_string(i) + "]".
                char buf[2 + std::numeric_limits<std::size_t>::digits10 + 1];
                buf[0] = '[';
                char* end = std::to_chars(buf + 1, buf + sizeof buf - 1, s.index).ptr;
                *end++ = ']';
                out.append(buf, end);
            }
        }
        return out;
    }

    decode_mode mode_;
    const segment_t* here_ = nullptr;
    std::string reason_;
    std::string where_ = "$";
    std::vector<std::string> skipped_;
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
    if (const auto* s = v.if_string()) {
        out = std::string(s->data(), s->size()); // constructing is quicker than assign() into an empty string
        return true;
    }
    if (ctx.lenient()) { // a scalar: its JSON text
        if (const auto* b = v.if_bool()) {
            out = *b ? "true" : "false";
            return true;
        }
        if (v.is_number()) {
            char buf[32];
            std::to_chars_result r{};
            if (const auto* i = v.if_int64())
                r = std::to_chars(buf, buf + sizeof buf, *i);
            else if (const auto* u = v.if_uint64())
                r = std::to_chars(buf, buf + sizeof buf, *u);
            else
                r = std::to_chars(buf, buf + sizeof buf, v.get_double()); // shortest form: 4.5, 1e+300
            if (r.ec == std::errc{}) {
                out.assign(buf, r.ptr);
                return true;
            }
        }
    }
    return ctx.fail("string", v);
}

inline bool decode(const boost::json::value& v, bool& out, decode_context& ctx)
{
    if (const auto* b = v.if_bool()) {
        out = *b;
        return true;
    }
    if (const auto* s = v.if_string(); s && ctx.lenient() && (*s == "true" || *s == "false")) {
        out = *s == "true";
        return true;
    }
    return ctx.fail("bool", v);
}

/// A clean integer: an optional `-` and one or more digits, nothing else, within int64.
inline bool parse_clean_integer(std::string_view s, std::int64_t& out) noexcept
{
    const std::size_t first_digit = !s.empty() && s.front() == '-' ? 1 : 0;
    if (s.size() == first_digit)
        return false;
    for (std::size_t i = first_digit; i < s.size(); ++i)
        if (s[i] < '0' || s[i] > '9')
            return false;
    std::int64_t v = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc{} || r.ptr != s.data() + s.size())
        return false;
    out = v;
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
    if (const auto* s = v.if_string(); s && ctx.lenient()) {
        if (parse_clean_integer(std::string_view(s->data(), s->size()), out))
            return true;
        return ctx.fail_reason("expected integer, got a string that is not one");
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
        const boost::json::value& item = (*a)[i];
        if (item.is_null() && ctx.lenient())
            continue; // skipped, as a null field is absent
        decode_context::step in(ctx, i);
        if (!decode(item, out.emplace_back(), ctx)) {
            if (!ctx.lenient())
                return false;
            out.pop_back();
            ctx.skip();
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
    decode_context::step in(ctx, f.key);
    M& member = out.*f.member;
    if constexpr (is_optional_v<M>) {
        if (decode(*p, member.emplace(), ctx))
            return true;
        member.reset();
    } else {
        if (decode(*p, member, ctx))
            return true;
        member = M{};
    }
    if (!ctx.lenient())
        return false;
    ctx.skip();
    return true;
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

/// Parses a 2xx body into `out`, in `mode`; on failure says why in `why`. JSON nested deeper
/// than `max_depth` is refused by the parser before it builds anything deeper.
template <class T>
bool decode_body(std::string_view body, T& out, std::string& why, std::size_t max_depth = 32,
                 decode_mode mode = decode_mode::strict)
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
    decode_context ctx(mode);
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
    wrong type fails with `genesys::errc::decode_failed` (the strict mode: the clients read
    their responses leniently, see `detail::decode_mode`).
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
