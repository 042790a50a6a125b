// SPDX-License-Identifier: BSL-1.0
#include "config.hpp"

#include <genesys/detail/ascii.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cstddef>
#include <fstream>
#include <iterator>
#include <sstream>
#include <variant>

namespace genesys_authz {

namespace {

namespace json = boost::json;

/// Where a value is in the document: object keys and array indexes from the root.
using json_path = std::vector<std::variant<std::string, std::size_t>>;

/// Finds the byte offset of the value at `path` in `text`, valid JSON. A small scanner: the DOM
/// keeps no positions, and the line of the value at fault is what a person needs.
class locator {
public:
    explicit locator(std::string_view text) : text_(text) {}

    std::size_t find(const json_path& path)
    {
        pos_ = 0;
        skip_ws();
        for (const auto& step : path) {
            if (pos_ >= text_.size())
                return pos_;
            if (const auto* key = std::get_if<std::string>(&step)) {
                if (text_[pos_] != '{' || !enter_key(*key))
                    return pos_;
            } else if (text_[pos_] != '[' || !enter_index(std::get<std::size_t>(step))) {
                return pos_;
            }
        }
        return pos_;
    }

private:
    void skip_ws()
    {
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
            ++pos_;
    }

    std::string read_string() // at '"'; keys are compared with their escapes as written
    {
        std::string out;
        ++pos_;
        while (pos_ < text_.size() && text_[pos_] != '"') {
            if (text_[pos_] == '\\' && pos_ + 1 < text_.size())
                out.push_back(text_[pos_++]);
            out.push_back(text_[pos_++]);
        }
        ++pos_;
        return out;
    }

    void skip_value()
    {
        if (pos_ >= text_.size())
            return;
        const char c = text_[pos_];
        if (c == '"') {
            read_string();
        } else if (c == '{' || c == '[') {
            int depth = 0;
            while (pos_ < text_.size()) {
                const char d = text_[pos_];
                if (d == '"') {
                    read_string();
                    continue;
                }
                if (d == '{' || d == '[')
                    ++depth;
                else if ((d == '}' || d == ']') && --depth == 0) {
                    ++pos_;
                    return;
                }
                ++pos_;
            }
        } else {
            while (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '}' && text_[pos_] != ']' &&
                   text_[pos_] != ' ' && text_[pos_] != '\n' && text_[pos_] != '\r' && text_[pos_] != '\t')
                ++pos_;
        }
    }

    bool enter_key(const std::string& key)
    {
        ++pos_; // '{'
        for (;;) {
            skip_ws();
            if (pos_ >= text_.size() || text_[pos_] != '"')
                return false;
            const std::string k = read_string();
            skip_ws();
            ++pos_; // ':'
            skip_ws();
            if (k == key)
                return true;
            skip_value();
            skip_ws();
            if (pos_ >= text_.size() || text_[pos_] != ',')
                return false;
            ++pos_;
        }
    }

    bool enter_index(std::size_t index)
    {
        ++pos_; // '['
        for (std::size_t i = 0;; ++i) {
            skip_ws();
            if (pos_ >= text_.size() || text_[pos_] == ']')
                return false;
            if (i == index)
                return true;
            skip_value();
            skip_ws();
            if (pos_ >= text_.size() || text_[pos_] != ',')
                return false;
            ++pos_;
        }
    }

    std::string_view text_;
    std::size_t pos_ = 0;
};

std::size_t line_at(std::string_view text, std::size_t offset)
{
    offset = std::min(offset, text.size());
    return 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
}

std::string describe(const json_path& path)
{
    std::string out;
    for (const auto& step : path) {
        if (const auto* key = std::get_if<std::string>(&step))
            out.append(out.empty() ? "" : ".").append(*key);
        else
            out.append("[").append(std::to_string(std::get<std::size_t>(step))).append("]");
    }
    return out.empty() ? "the document" : out;
}

/// Semantic checks, each failure thrown with the path of the value at fault.
class reader {
public:
    reader(std::string_view text, std::string_view name) : text_(text), name_(name) {}

    [[noreturn]] void fail(const json_path& path, const std::string& reason) const
    {
        locator l(text_);
        const std::size_t line = line_at(text_, l.find(path));
        throw config_error(std::string(name_) + ":" + std::to_string(line) + ": " + describe(path) + ": " + reason);
    }

    const json::object& object(const json::value& v, const json_path& path) const
    {
        if (!v.is_object())
            fail(path, "must be an object");
        return v.get_object();
    }

    std::string string(const json::value& v, const json_path& path, bool non_empty = true) const
    {
        if (!v.is_string())
            fail(path, "must be a string");
        if (non_empty && v.get_string().empty())
            fail(path, "must not be empty");
        return std::string(v.get_string());
    }

    std::vector<std::string> strings(const json::value& v, const json_path& path) const
    {
        if (!v.is_array())
            fail(path, "must be an array of strings");
        std::vector<std::string> out;
        std::size_t i = 0;
        for (const auto& item : v.get_array()) {
            json_path p = path;
            p.emplace_back(i++);
            out.push_back(string(item, p));
        }
        return out;
    }

    void only_keys(const json::object& o, const json_path& path, std::initializer_list<std::string_view> keys) const
    {
        for (const auto& kv : o) {
            if (std::find(keys.begin(), keys.end(), kv.key()) == keys.end()) {
                json_path p = path;
                p.emplace_back(std::string(kv.key()));
                std::string known;
                for (auto k : keys)
                    known.append(known.empty() ? "" : ", ").append(k);
                fail(p, "unknown key (known here: " + known + ")");
            }
        }
    }

    policy read_policy(const json::object& o, const json_path& path) const
    {
        policy p;
        auto list = [&](std::string_view key, std::optional<std::vector<std::string>>& into) {
            if (const auto* v = o.if_contains(key)) {
                json_path at = path;
                at.emplace_back(std::string(key));
                into = strings(*v, at);
            }
        };
        list("organizations", p.organizations);
        list("home_organizations", p.home_organizations);
        list("clients", p.clients);
        list("scopes", p.scopes);
        return p;
    }

    /// A policy that names no organization, home organization nor client lets every Genesys
    /// Cloud customer's tokens in: refused, unless the file says so on purpose.
    void check_restricted(const policy& effective, const json::object& o, const json_path& path) const
    {
        bool any = false;
        if (const auto* v = o.if_contains("any_organization")) {
            json_path at = path;
            at.emplace_back(std::string("any_organization"));
            if (!v->is_bool())
                fail(at, "must be true or false");
            any = v->get_bool();
        }
        if (any)
            return;
        auto empty = [](const std::optional<std::vector<std::string>>& l) { return !l || l->empty(); };
        if (empty(effective.organizations) && empty(effective.home_organizations) && empty(effective.clients))
            fail(path, "names no organization, home organization nor client: any Genesys Cloud organization's "
                       "tokens would pass (set \"any_organization\": true if that is meant)");
    }

private:
    std::string_view text_;
    std::string_view name_;
};

void check_header_name(const reader& r, const std::string& name, const json_path& path)
{
    const bool ok = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    });
    if (!ok)
        r.fail(path, "must be a header name (letters, digits, '-', '_')");
}

void check_path(const reader& r, const std::string& p, const json_path& path)
{
    if (p.empty() || p.front() != '/' || !is_plain_path(p))
        r.fail(path, "must be a path starting with '/', without '.', '..' or empty segments nor percent-encoding");
}

void apply_default(std::optional<std::vector<std::string>>& into, const std::optional<std::vector<std::string>>& dflt)
{
    if (!into)
        into = dflt ? *dflt : std::vector<std::string>{};
}

bool segment_prefix(std::string_view path, std::string_view prefix)
{
    if (!path.starts_with(prefix))
        return false;
    return path.size() == prefix.size() || prefix.ends_with('/') || path[prefix.size()] == '/';
}

} // namespace

file_config parse_config(std::string_view text, std::string_view name)
{
    // Syntax first: the parser stops where the text goes wrong, and that offset gives the line.
    json::stream_parser parser;
    boost::system::error_code ec;
    const std::size_t used = parser.write_some(text.data(), text.size(), ec);
    if (!ec)
        parser.finish(ec);
    if (ec)
        throw config_error(std::string(name) + ":" + std::to_string(line_at(text, used)) + ": not valid JSON: " +
                           ec.message());
    const json::value doc = parser.release();

    reader r(text, name);
    file_config c;
    const auto& root = r.object(doc, {});
    r.only_keys(root, {},
                {"token_header", "uri_header", "method_header", "auth_path", "envoy_prefix", "default", "routes",
                 "redis"});
    auto header = [&](std::string_view key, std::string& into) {
        if (const auto* v = root.if_contains(key)) {
            into = r.string(*v, {std::string(key)});
            check_header_name(r, into, {std::string(key)});
        }
    };
    header("token_header", c.token_header);
    header("uri_header", c.uri_header);
    header("method_header", c.method_header);
    if (const auto* v = root.if_contains("auth_path")) {
        c.auth_path = r.string(*v, {"auth_path"});
        check_path(r, c.auth_path, {"auth_path"});
    }
    if (const auto* v = root.if_contains("envoy_prefix")) {
        c.envoy_prefix = r.string(*v, {"envoy_prefix"});
        check_path(r, c.envoy_prefix, {"envoy_prefix"});
        if (c.envoy_prefix.ends_with('/') || segment_prefix(c.auth_path, c.envoy_prefix))
            r.fail({"envoy_prefix"}, "must not end with '/' nor contain auth_path");
    }
    if (const auto* v = root.if_contains("redis")) {
        redis_file_settings rs;
        if (v->is_string()) {
            rs.url = r.string(*v, {"redis"});
        } else if (v->is_object()) {
            const auto& o = v->get_object();
            r.only_keys(o, {"redis"}, {"url", "user", "password_file", "ca_file", "fleet_key_file"});
            auto field = [&](std::string_view key, std::string& into) {
                if (const auto* f = o.if_contains(key))
                    into = r.string(*f, {std::string("redis"), std::string(key)});
            };
            field("url", rs.url);
            field("user", rs.user);
            field("password_file", rs.password_file);
            field("ca_file", rs.ca_file);
            field("fleet_key_file", rs.fleet_key_file);
            if (rs.url.empty())
                r.fail({"redis"}, "needs a \"url\" (redis://host:port[/db] or rediss://...)");
        } else {
            r.fail({"redis"}, "must be a URL or an object (url, user, password_file, ca_file, fleet_key_file)");
        }
        c.redis = std::move(rs);
    }

    const auto* dflt = root.if_contains("default");
    if (!dflt)
        r.fail({}, "needs a \"default\" policy (organizations, home_organizations, clients, scopes)");
    const auto& d = r.object(*dflt, {"default"});
    r.only_keys(d, {"default"}, {"organizations", "home_organizations", "clients", "scopes", "any_organization"});
    c.default_policy = r.read_policy(d, {"default"});
    apply_default(c.default_policy.organizations, std::nullopt);
    apply_default(c.default_policy.home_organizations, std::nullopt);
    apply_default(c.default_policy.clients, std::nullopt);
    apply_default(c.default_policy.scopes, std::nullopt);
    r.check_restricted(c.default_policy, d, {"default"});

    if (const auto* v = root.if_contains("routes")) {
        if (!v->is_array())
            r.fail({"routes"}, "must be an array of routes");
        std::size_t i = 0;
        for (const auto& item : v->get_array()) {
            const json_path at{std::string("routes"), i++};
            const auto& o = r.object(item, at);
            r.only_keys(o, at,
                        {"prefix", "methods", "organizations", "home_organizations", "clients", "scopes",
                         "any_organization"});
            route rt;
            const auto* prefix = o.if_contains("prefix");
            if (!prefix)
                r.fail(at, "needs a \"prefix\"");
            json_path prefix_at = at;
            prefix_at.emplace_back(std::string("prefix"));
            rt.prefix = r.string(*prefix, prefix_at);
            check_path(r, rt.prefix, prefix_at);
            if (const auto* m = o.if_contains("methods")) {
                json_path methods_at = at;
                methods_at.emplace_back(std::string("methods"));
                rt.methods = r.strings(*m, methods_at);
                for (auto& method : rt.methods)
                    if (!std::all_of(method.begin(), method.end(), [](char ch) { return ch >= 'A' && ch <= 'Z'; }))
                        r.fail(methods_at, "methods are upper-case names (GET, POST, ...)");
            }
            rt.rules = r.read_policy(o, at);
            policy effective = rt.rules;
            apply_default(effective.organizations, c.default_policy.organizations);
            apply_default(effective.home_organizations, c.default_policy.home_organizations);
            apply_default(effective.clients, c.default_policy.clients);
            r.check_restricted(effective, o, at);
            c.routes.push_back(std::move(rt));
        }
    }
    // Longest prefix first; at one prefix, routes naming methods before those that do not.
    std::stable_sort(c.routes.begin(), c.routes.end(), [](const route& a, const route& b) {
        if (a.prefix.size() != b.prefix.size())
            return a.prefix.size() > b.prefix.size();
        return !a.methods.empty() && b.methods.empty();
    });
    return c;
}

file_config load_config(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw config_error(path + ": cannot be read");
    std::ostringstream os;
    os << in.rdbuf();
    if (in.bad())
        throw config_error(path + ": cannot be read");
    return parse_config(os.str(), path);
}

decision_rules select_route(const file_config& c, std::string_view path, std::string_view method)
{
    decision_rules out;
    for (const auto& rt : c.routes) {
        if (!segment_prefix(path, rt.prefix))
            continue;
        if (!rt.methods.empty() && std::find(rt.methods.begin(), rt.methods.end(), method) == rt.methods.end())
            continue;
        out.matched = &rt;
        break;
    }
    out.rules = out.matched ? out.matched->rules : c.default_policy;
    apply_default(out.rules.organizations, c.default_policy.organizations);
    apply_default(out.rules.home_organizations, c.default_policy.home_organizations);
    apply_default(out.rules.clients, c.default_policy.clients);
    apply_default(out.rules.scopes, c.default_policy.scopes);
    return out;
}

verdict check_policy(const policy& p, const genesys::token_info& info)
{
    auto one_of = [](const std::optional<std::vector<std::string>>& allowed, const std::optional<std::string>& id) {
        if (!allowed || allowed->empty())
            return true;
        return id && std::find(allowed->begin(), allowed->end(), *id) != allowed->end();
    };
    verdict v;
    if (!one_of(p.organizations, info.organization ? info.organization->id : std::nullopt))
        v.reason = "organization";
    else if (!one_of(p.home_organizations, info.home_organization ? info.home_organization->id : std::nullopt))
        v.reason = "home_organization";
    else if (!one_of(p.clients, info.oauth_client ? info.oauth_client->id : std::nullopt))
        v.reason = "client";
    if (!v.reason.empty()) {
        v.ok = false;
        return v;
    }
    if (p.scopes)
        for (const auto& s : *p.scopes) {
            const auto& granted = info.authorized_scope;
            if (!granted || std::find(granted->begin(), granted->end(), s) == granted->end())
                v.missing.push_back(s);
        }
    if (!v.missing.empty()) {
        v.ok = false;
        v.reason = "scope";
    }
    return v;
}

bool is_b64token(std::string_view token)
{
    if (token.empty() || token.size() > 8192)
        return false;
    const auto end = token.find_last_not_of('=');
    if (end == std::string_view::npos)
        return false;
    return std::all_of(token.begin(), token.begin() + static_cast<std::ptrdiff_t>(end) + 1, [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               std::string_view("-._~+/").find(c) != std::string_view::npos;
    });
}

bool is_plain_path(std::string_view path)
{
    if (path.empty() || path.front() != '/')
        return false;
    for (std::size_t i = 0; i < path.size(); ++i) {
        const char c = path[i];
        if (c == '\\' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            return false;
        if (c == '%' && i + 2 < path.size()) {
            const std::string_view enc = path.substr(i + 1, 2);
            for (std::string_view bad : {"2f", "2F", "2e", "2E", "5c", "5C"})
                if (enc == bad)
                    return false;
        }
    }
    // Segments: none empty (but a trailing '/'), none "." or "..".
    std::size_t start = 1;
    while (start <= path.size()) {
        const std::size_t slash = path.find('/', start);
        const std::string_view seg = path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
        if (seg == "." || seg == "..")
            return false;
        if (seg.empty() && slash != std::string_view::npos)
            return false;
        if (slash == std::string_view::npos)
            break;
        start = slash + 1;
    }
    return true;
}

std::optional<std::string> normalize_path(std::string_view raw)
{
    std::string out;
    out.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
        char c = raw[i];
        if (c == '%') {
            if (i + 2 >= raw.size())
                return std::nullopt;
            const int hi = genesys::detail::hex_digit_value(raw[i + 1]), lo = genesys::detail::hex_digit_value(raw[i + 2]);
            if (hi < 0 || lo < 0)
                return std::nullopt;
            c = static_cast<char>(hi * 16 + lo);
            if (c == '/' || c == '\\' || c == '%')
                return std::nullopt;
            i += 2;
        }
        out.push_back(c);
    }
    if (!is_plain_path(out))
        return std::nullopt;
    return out;
}

std::string header_safe(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (const char c : s)
        if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f)
            out.push_back(c);
    return out;
}

} // namespace genesys_authz
