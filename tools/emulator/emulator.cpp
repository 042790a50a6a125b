// SPDX-License-Identifier: BSL-1.0
#include "emulator.hpp"

#include <genesys/detail/ascii.hpp>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <stdexcept>

namespace genesys_emulator {

namespace {

constexpr std::string_view builtin_seed = R"({
  "organizations": [
    {"id": "6f0b3c4e-8d2a-4a51-9c3e-2f1d0b7a9e55", "name": "Acme Contact Centre",
     "idleTokenTimeout": {"idleTokenTimeoutSeconds": 900, "enableIdleTokenTimeout": true}}
  ],
  "users": [
    {"id": "8a1c5e2f-0b3d-4e6a-9c7f-1d2e3f4a5b6c", "name": "Ada Admin",
     "organization": "6f0b3c4e-8d2a-4a51-9c3e-2f1d0b7a9e55",
     "permissions": ["oauth:token:delete", "directory:organization:admin"]},
    {"id": "0d6f2a31-5b7c-4e8d-9f10-1a2b3c4d5e6f", "name": "Alan Agent",
     "organization": "6f0b3c4e-8d2a-4a51-9c3e-2f1d0b7a9e55", "permissions": []}
  ],
  "clients": [
    {"id": "client-service", "secret": "service-secret-5b2d", "name": "Token Service",
     "organization": "6f0b3c4e-8d2a-4a51-9c3e-2f1d0b7a9e55", "authorizedGrantType": "CLIENT-CREDENTIALS",
     "scope": ["oauth", "organization"], "permissions": ["oauth:token:delete", "directory:organization:admin"]},
    {"id": "client-readonly", "secret": "readonly-secret-8e4a", "name": "Read-only Reporter",
     "organization": "6f0b3c4e-8d2a-4a51-9c3e-2f1d0b7a9e55", "authorizedGrantType": "CLIENT-CREDENTIALS",
     "scope": ["users:readonly"], "permissions": []},
    {"id": "client-desktop", "name": "Agent Desktop", "organization": "6f0b3c4e-8d2a-4a51-9c3e-2f1d0b7a9e55",
     "authorizedGrantType": "CODE", "scope": ["users", "oauth"], "redirectUris": ["http://localhost:8085/callback"]},
    {"id": "client-saml", "secret": "saml-secret-2c7e", "name": "SSO Bridge",
     "organization": "6f0b3c4e-8d2a-4a51-9c3e-2f1d0b7a9e55", "authorizedGrantType": "SAML2-BEARER",
     "scope": ["users", "oauth"]}
  ],
  "tokens": [
    {"token": "emulator-admin-token-7c1f", "user": "8a1c5e2f-0b3d-4e6a-9c7f-1d2e3f4a5b6c", "client": "client-desktop"},
    {"token": "emulator-agent-token-3e9a", "user": "0d6f2a31-5b7c-4e8d-9f10-1a2b3c4d5e6f", "client": "client-desktop"}
  ]
})";

constexpr auto token_lifetime = std::chrono::seconds(86399);
constexpr auto code_lifetime = std::chrono::minutes(10);

std::string get_string(const boost::json::object& o, std::string_view key)
{
    if (const auto* v = o.if_contains(key); v && v->is_string())
        return std::string(v->get_string());
    return {};
}

std::set<std::string> get_string_set(const boost::json::object& o, std::string_view key)
{
    std::set<std::string> out;
    if (const auto* v = o.if_contains(key); v && v->is_array())
        for (const auto& item : v->get_array())
            if (item.is_string())
                out.insert(std::string(item.get_string()));
    return out;
}

using genesys::detail::hex_digit_value;

std::string percent_decode(std::string_view s, bool plus_is_space)
{
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && hex_digit_value(s[i + 1]) >= 0 && hex_digit_value(s[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hex_digit_value(s[i + 1]) * 16 + hex_digit_value(s[i + 2])));
            i += 2;
        } else if (plus_is_space && s[i] == '+') {
            out.push_back(' ');
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

std::map<std::string, std::string> parse_form(std::string_view body)
{
    std::map<std::string, std::string> out;
    while (!body.empty()) {
        auto amp = body.find('&');
        std::string_view pair = body.substr(0, amp);
        auto eq = pair.find('=');
        out[percent_decode(pair.substr(0, eq), true)] =
            eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1), true);
        if (amp == std::string_view::npos)
            break;
        body.remove_prefix(amp + 1);
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view in)
{
    std::string out;
    unsigned buffer = 0;
    int bits = 0;
    for (char c : in) {
        int v;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '+' || c == '-') // both alphabets (RFC 4648 sections 4 and 5)
            v = 62;
        else if (c == '/' || c == '_')
            v = 63;
        else if (c == '=')
            break;
        else if (c == '\r' || c == '\n') // line-wrapped base64, as SAML tools write it
            continue;
        else
            return std::nullopt;
        buffer = (buffer << 6) | static_cast<unsigned>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((buffer >> bits) & 0xff));
        }
    }
    return out;
}

std::optional<std::string_view> query_param(std::string_view query, std::string_view name)
{
    while (!query.empty()) {
        auto amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        auto eq = pair.find('=');
        if (pair.substr(0, eq) == name)
            return eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
        if (amp == std::string_view::npos)
            break;
        query.remove_prefix(amp + 1);
    }
    return std::nullopt;
}

genesys::date_time to_date_time(clock::time_point t)
{
    return std::chrono::time_point_cast<std::chrono::milliseconds>(t);
}

/// True when the Content-Type's media type (parameters ignored, any case) is `type`.
bool media_type_is(std::string_view content_type, std::string_view type)
{
    std::string_view media = content_type.substr(0, content_type.find(';'));
    while (!media.empty() && (media.back() == ' ' || media.back() == '\t'))
        media.remove_suffix(1);
    return genesys::detail::iequals(media, type);
}

std::optional<int> parse_int(std::string_view s)
{
    int value = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || end != s.data() + s.size())
        return std::nullopt;
    return value;
}

/// The methods a known path takes, as an `Allow` header lists them; empty for an unknown path.
std::string_view allowed_methods(std::string_view path)
{
    constexpr std::string_view prefix = "/api/v2/tokens/";
    if (path == "/oauth/token")
        return "POST";
    if (path == "/api/v2/tokens/me")
        return "GET, HEAD, DELETE";
    if (path == "/api/v2/tokens/timeout")
        return "GET, PUT";
    if (path.starts_with(prefix) && path.size() > prefix.size() &&
        path.substr(prefix.size()).find('/') == std::string_view::npos)
        return "DELETE"; // /api/v2/tokens/{userId}
    return {};
}

bool method_listed(std::string_view allow, genesys::http_method m)
{
    const std::string_view name = genesys::to_string(m);
    while (!allow.empty()) {
        auto comma = allow.find(',');
        std::string_view item = allow.substr(0, comma);
        while (!item.empty() && item.front() == ' ')
            item.remove_prefix(1);
        if (item == name)
            return true;
        if (comma == std::string_view::npos)
            break;
        allow.remove_prefix(comma + 1);
    }
    return false;
}

/// The text of the first NameID element of a SAML assertion (any namespace prefix), trimmed.
std::optional<std::string> saml_name_id(std::string_view xml)
{
    for (std::size_t at = xml.find("NameID"); at != std::string_view::npos; at = xml.find("NameID", at + 6)) {
        // A start tag: `<NameID` or `<prefix:NameID`, then a space, '>' or '/'.
        std::size_t open = at;
        while (open > 0 && xml[open - 1] != '<' && xml[open - 1] != '>' && xml[open - 1] != ' ')
            --open;
        if (open == 0 || xml[open - 1] != '<')
            continue;
        const std::string_view name = xml.substr(open, at + 6 - open);
        if (name != "NameID" && (name.size() < 8 || name[name.size() - 7] != ':'))
            continue;
        if (at + 6 >= xml.size() || (xml[at + 6] != ' ' && xml[at + 6] != '>'))
            continue;
        auto end_of_tag = xml.find('>', at);
        if (end_of_tag == std::string_view::npos || xml[end_of_tag - 1] == '/')
            return std::nullopt;
        auto close = xml.find('<', end_of_tag);
        if (close == std::string_view::npos)
            return std::nullopt;
        std::string_view text = xml.substr(end_of_tag + 1, close - end_of_tag - 1);
        while (!text.empty() && (text.front() == ' ' || text.front() == '\n' || text.front() == '\r' || text.front() == '\t'))
            text.remove_prefix(1);
        while (!text.empty() && (text.back() == ' ' || text.back() == '\n' || text.back() == '\r' || text.back() == '\t'))
            text.remove_suffix(1);
        return std::string(text);
    }
    return std::nullopt;
}

std::string normalize_mode(std::string_view s)
{
    std::string out(s);
    std::replace(out.begin(), out.end(), '-', '_');
    return out;
}

} // namespace

std::string_view default_seed() { return builtin_seed; }

namespace {

std::string joined(const boost::json::object& o, std::string_view key, std::string_view none = "none")
{
    std::string out;
    if (const auto* v = o.if_contains(key); v && v->is_array())
        for (const auto& item : v->get_array())
            if (item.is_string())
                out.append(out.empty() ? "" : ", ").append(item.get_string());
    return out.empty() ? std::string(none) : out;
}

const boost::json::array& list_of(const boost::json::object& root, std::string_view key)
{
    static const boost::json::array empty;
    const auto* v = root.if_contains(key);
    return v && v->is_array() ? v->get_array() : empty;
}

/// The `name` of the entry of `list` whose `id` is `id`, else `id` itself.
std::string name_of(const boost::json::array& list, std::string_view id)
{
    for (const auto& item : list)
        if (item.is_object() && get_string(item.get_object(), "id") == id)
            return get_string(item.get_object(), "name");
    return std::string(id);
}

} // namespace

std::string describe_seed(std::string_view json)
{
    const auto doc = boost::json::parse(json);
    const auto& root = doc.as_object();
    const auto& orgs = list_of(root, "organizations");
    const auto& users = list_of(root, "users");
    const auto& clients = list_of(root, "clients");
    std::string out;

    out += "Organizations\n";
    for (const auto& v : orgs) {
        const auto& o = v.as_object();
        out += "  " + get_string(o, "id").insert(0, get_string(o, "name") + " (") + ")\n";
        genesys::idle_token_timeout t;
        if (const auto* timeout = o.if_contains("idleTokenTimeout"))
            t = boost::json::value_to<genesys::idle_token_timeout>(*timeout);
        const auto seconds = std::to_string(t.idle_token_timeout_seconds.value_or(0)) + " s";
        out += t.enable_idle_token_timeout.value_or(false) ? "    idle-token timeout: " + seconds + "\n"
                                                           : "    idle-token timeout: off (" + seconds + " when enabled)\n";
    }

    out += "Users\n";
    for (const auto& v : users) {
        const auto& o = v.as_object();
        out += "  " + get_string(o, "name") + " (" + get_string(o, "id") + ")\n";
        out += "    organization: " + name_of(orgs, get_string(o, "organization")) + "\n";
        out += "    permissions: " + joined(o, "permissions") + "\n";
    }

    out += "OAuth clients\n";
    for (const auto& v : clients) {
        const auto& o = v.as_object();
        const auto grant = get_string(o, "authorizedGrantType");
        const auto secret = get_string(o, "secret");
        out += "  " + get_string(o, "id") + ": " + get_string(o, "name") + " (" +
               name_of(orgs, get_string(o, "organization")) + ")\n";
        if (grant == "CLIENT-CREDENTIALS")
            out += "    grant: client credentials\n";
        else if (grant == "CODE")
            out += secret.empty() ? "    grant: authorization code, PKCE (S256) required\n"
                                  : "    grant: authorization code, PKCE (S256) optional\n";
        else if (grant == "SAML2-BEARER")
            out += "    grant: SAML2 bearer (orgName and an assertion naming a user)\n";
        else
            out += "    grant: " + grant + "\n";
        out += secret.empty() ? "    secret: none (public: client_id in the token request's form)\n"
                              : "    secret: " + secret + "\n";
        if (grant == "CODE")
            out += "    redirect URIs: " + joined(o, "redirectUris", "any") + "\n";
        out += "    scope: " + joined(o, "scope") + "\n";
        out += "    permissions: " + joined(o, "permissions") + "\n";
    }

    out += "Tokens (expire 24 h after the start or a reset; idle out as their organization says)\n";
    for (const auto& v : list_of(root, "tokens")) {
        const auto& o = v.as_object();
        const auto user = get_string(o, "user"), client = get_string(o, "client");
        out += "  " + get_string(o, "token") + "\n";
        out += user.empty() ? "    user: none, a token of client " + client + "\n"
                            : "    user: " + name_of(users, user) + ", through " + client + "\n";
        // What it may do: the user's permissions, or for a client's own token the client's.
        std::set<std::string> permissions;
        for (const auto& who : user.empty() ? clients : users)
            if (who.is_object() && get_string(who.get_object(), "id") == (user.empty() ? client : user))
                permissions = get_string_set(who.get_object(), "permissions");
        out += "    may: read and revoke itself, read the idle-token timeout\n";
        std::string more;
        if (permissions.contains("oauth:token:delete"))
            more += "revoke every token of a user (oauth:token:delete)";
        if (permissions.contains("directory:organization:admin"))
            more += (more.empty() ? "" : ", ") + std::string("set the idle-token timeout (directory:organization:admin)");
        if (!more.empty())
            out += "    may also: " + more + "\n";
    }
    return out;
}

std::optional<fault> parse_fault(std::string_view text)
{
    static const std::map<std::string, fault_mode, std::less<>> modes{
        {"none", fault_mode::none},
        {"delay", fault_mode::delay},
        {"close_before", fault_mode::close_before},
        {"close_mid", fault_mode::close_mid},
        {"truncate", fault_mode::truncate},
        {"invalid_json", fault_mode::invalid_json},
        {"wrong_content_type", fault_mode::wrong_content_type},
        {"server_error", fault_mode::server_error},
        {"rate_limited", fault_mode::rate_limited},
    };
    fault f;
    auto semi = text.find(';');
    auto it = modes.find(normalize_mode(text.substr(0, semi)));
    if (it == modes.end())
        return std::nullopt;
    f.mode = it->second;
    std::string_view rest = semi == std::string_view::npos ? std::string_view() : text.substr(semi + 1);
    while (!rest.empty()) {
        auto next = rest.find(';');
        std::string_view kv = rest.substr(0, next);
        auto eq = kv.find('=');
        if (eq == std::string_view::npos)
            return std::nullopt;
        std::string_view key = kv.substr(0, eq);
        auto value = parse_int(kv.substr(eq + 1));
        if (!value)
            return std::nullopt;
        if (key == "ms")
            f.ms = *value;
        else if (key == "count")
            f.count = *value;
        else
            return std::nullopt;
        if (next == std::string_view::npos)
            break;
        rest.remove_prefix(next + 1);
    }
    return f;
}

service::service(options opts) : initial_(opts), opts_(std::move(opts)), rng_(std::random_device{}())
{
    load_seed(opts_.seed_json.empty() ? builtin_seed : std::string_view(opts_.seed_json));
}

void service::load_seed(std::string_view json)
{
    auto doc = boost::json::parse(json);
    const auto& root = doc.as_object();
    orgs_.clear();
    users_.clear();
    clients_.clear();
    tokens_.clear();
    codes_.clear();
    refresh_tokens_.clear();
    client_windows_.clear();
    anonymous_window_ = {};
    const auto start = now();
    if (const auto* list = root.if_contains("organizations"))
        for (const auto& v : list->as_array()) {
            const auto& o = v.as_object();
            org entry{get_string(o, "id"), get_string(o, "name"), {}};
            if (const auto* t = o.if_contains("idleTokenTimeout"))
                entry.timeout = boost::json::value_to<genesys::idle_token_timeout>(*t);
            orgs_[entry.id] = entry;
        }
    if (const auto* list = root.if_contains("users"))
        for (const auto& v : list->as_array()) {
            const auto& o = v.as_object();
            users_[get_string(o, "id")] = {get_string(o, "id"), get_string(o, "name"), get_string(o, "organization"),
                                           get_string_set(o, "permissions")};
        }
    if (const auto* list = root.if_contains("clients"))
        for (const auto& v : list->as_array()) {
            const auto& o = v.as_object();
            auto scope = get_string_set(o, "scope");
            auto redirects = get_string_set(o, "redirectUris");
            clients_[get_string(o, "id")] = {get_string(o, "id"),
                                             get_string(o, "secret"),
                                             get_string(o, "name"),
                                             get_string(o, "organization"),
                                             get_string(o, "authorizedGrantType"),
                                             {scope.begin(), scope.end()},
                                             get_string_set(o, "permissions"),
                                             *genesys::parse_date_time("2024-03-01T09:30:00.000Z"),
                                             {redirects.begin(), redirects.end()}};
        }
    if (const auto* list = root.if_contains("tokens"))
        for (const auto& v : list->as_array()) {
            const auto& o = v.as_object();
            token t;
            t.user = get_string(o, "user");
            t.client = get_string(o, "client");
            t.expires = start + token_lifetime;
            reset_idle(t);
            tokens_[get_string(o, "token")] = t;
        }
}

std::string service::new_correlation_id()
{
    std::uniform_int_distribution<unsigned> hex(0, 15);
    std::string id = "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx";
    for (char& c : id) {
        if (c == 'x')
            c = "0123456789abcdef"[hex(rng_)];
        else if (c == 'y')
            c = "89ab"[hex(rng_) % 4];
    }
    return id;
}

std::string service::new_token_value()
{
    std::uniform_int_distribution<unsigned> pick(0, 63);
    constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string t;
    for (int i = 0; i < 48; ++i)
        t.push_back(alphabet[pick(rng_)]);
    return t;
}

const service::org* service::org_of(const token& t) const
{
    std::string org_id;
    if (auto u = users_.find(t.user); u != users_.end())
        org_id = u->second.org;
    else if (auto c = clients_.find(t.client); c != clients_.end())
        org_id = c->second.org;
    auto o = orgs_.find(org_id);
    return o == orgs_.end() ? nullptr : &o->second;
}

std::set<std::string> service::permissions_of(const token& t) const
{
    if (auto u = users_.find(t.user); u != users_.end())
        return u->second.permissions;
    if (auto c = clients_.find(t.client); c != clients_.end())
        return c->second.permissions;
    return {};
}

void service::reset_idle(token& t)
{
    const org* o = org_of(t);
    auto seconds = o ? o->timeout.idle_token_timeout_seconds.value_or(0) : 0;
    t.idles = now() + std::chrono::seconds(seconds);
}

genesys::http_response service::json_response(int status, const boost::json::value& body)
{
    return {status, {{"Content-Type", "application/json"}}, boost::json::serialize(body)};
}

genesys::http_response service::error_response(int status, std::string_view code, std::string_view message,
                                               const std::string& correlation_id)
{
    genesys::error_body body;
    body.message = std::string(message);
    body.code = std::string(code);
    body.status = status;
    body.context_id = correlation_id;
    body.details = std::vector<genesys::error_detail>{};
    body.errors = std::vector<genesys::error_body>{};
    return json_response(status, boost::json::value_from(body));
}

void service::count_in(rate_window& w)
{
    if (now() - w.start >= std::chrono::seconds(opts_.rate_window_seconds)) {
        w.start = now();
        w.count = 0;
    }
    ++w.count;
}

void service::add_limit_headers(genesys::http_headers& h, rate_window& w)
{
    if (h.contains("inin-ratelimit-count"))
        return;
    if (now() - w.start >= std::chrono::seconds(opts_.rate_window_seconds))
        w = {0, now()};
    // Rounded up: the reset is the least a client must wait.
    const auto left_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             w.start + std::chrono::seconds(opts_.rate_window_seconds) - now())
                             .count();
    const std::int64_t reset_in = std::max<std::int64_t>(1, (left_ms + 999) / 1000);
    h.add("inin-ratelimit-count", std::to_string(std::min(w.count, opts_.rate_limit)));
    h.add("inin-ratelimit-allowed", std::to_string(opts_.rate_limit));
    h.add("inin-ratelimit-reset", std::to_string(reset_in));
}

reply service::handle(const genesys::http_request& request)
{
    std::lock_guard lock(mutex_);
    const std::string cid = new_correlation_id();
    reply r = handle_locked(request, cid);
    // Every response has the rate-limit headers: a token's or an OAuth client's window when the
    // request was counted in one, the shared window of unauthenticated requests otherwise
    // (control requests are reported, not counted).
    if (!request.url.starts_with("/__emulator/") && !r.response.headers.contains("inin-ratelimit-count"))
        count_in(anonymous_window_);
    add_limit_headers(r.response.headers, anonymous_window_);
    r.response.headers.set("ININ-Correlation-Id", cid);
    return r;
}

reply service::handle_other_method(std::string_view target)
{
    std::lock_guard lock(mutex_);
    const std::string cid = new_correlation_id();
    const std::string_view path = target.substr(0, target.find('?'));
    ++requests_;
    reply r;
    if (auto allow = allowed_methods(path); !allow.empty()) {
        r.response = error_response(405, "method.not.allowed", "HTTP 405 Method Not Allowed", cid);
        r.response.headers.add("Allow", std::string(allow));
    } else {
        r.response = error_response(404, "not.found", "The requested resource was not found.", cid);
    }
    count_in(anonymous_window_);
    add_limit_headers(r.response.headers, anonymous_window_);
    r.response.headers.set("ININ-Correlation-Id", cid);
    return r;
}

genesys::http_response service::front_end_error(int status, std::string_view code, std::string_view message)
{
    std::lock_guard lock(mutex_);
    const std::string cid = new_correlation_id();
    auto res = error_response(status, code, message, cid);
    count_in(anonymous_window_);
    add_limit_headers(res.headers, anonymous_window_);
    res.headers.set("ININ-Correlation-Id", cid);
    return res;
}

reply service::handle_locked(const genesys::http_request& request, const std::string& cid)
{
    std::string_view target = request.url;
    auto qpos = target.find('?');
    std::string_view path = target.substr(0, qpos);
    std::string_view query = qpos == std::string_view::npos ? std::string_view() : target.substr(qpos + 1);

    if (path.starts_with("/__emulator/"))
        return handle_control(request, path, cid);
    ++requests_;

    std::optional<fault> f;
    if (auto header = request.headers.get("X-Emulator-Fault")) {
        f = parse_fault(*header);
        if (!f)
            return {error_response(400, "bad.request", "unknown X-Emulator-Fault", cid)};
    } else if (!scheduled_.empty()) {
        f = scheduled_.front();
        if (--scheduled_.front().count <= 0)
            scheduled_.erase(scheduled_.begin());
    } else if (opts_.run_fault) {
        f = opts_.run_fault;
    }
    if (f) {
        if (auto r = apply_fault(*f, cid))
            return *r;
    }

    // Routing: a known path with a method it does not take is 405, before authentication.
    if (auto allow = allowed_methods(path); !allow.empty() && !method_listed(allow, request.method)) {
        reply r{error_response(405, "method.not.allowed", "HTTP 405 Method Not Allowed", cid)};
        r.response.headers.add("Allow", std::string(allow));
        return r;
    }

    reply r = path == "/oauth/token" ? handle_oauth(request, cid) : handle_api(request, path, query, cid);
    if (f && (f->mode == fault_mode::delay || f->mode == fault_mode::close_before || f->mode == fault_mode::close_mid ||
              f->mode == fault_mode::truncate)) {
        r.transport_fault = f->mode;
        r.delay_ms = f->ms;
    }
    return r;
}

std::optional<reply> service::apply_fault(const fault& f, const std::string& cid)
{
    switch (f.mode) {
    case fault_mode::invalid_json:
        return reply{{200, {{"Content-Type", "application/json"}}, R"({"organization": {"id": "6f0b3c4e", "na)"}};
    case fault_mode::wrong_content_type:
        return reply{{200, {{"Content-Type", "text/html"}}, "<html><body>Maintenance</body></html>"}};
    case fault_mode::server_error:
        return reply{error_response(503, "service.unavailable", "The service is currently unavailable.", cid)};
    case fault_mode::rate_limited: {
        int seconds = std::max(1, (f.ms + 999) / 1000);
        reply r{error_response(429, "too.many.requests.retry.after",
                               "Rate limit exceeded the maximum. Retry the request in [" + std::to_string(seconds) +
                                   "] seconds",
                               cid)};
        r.response.headers.add("Retry-After", std::to_string(seconds));
        return r;
    }
    default: return std::nullopt;
    }
}

reply service::handle_control(const genesys::http_request& request, std::string_view path, const std::string& cid)
{
    using genesys::http_method;
    boost::system::error_code ec;
    boost::json::value body = request.body.empty() ? boost::json::value(boost::json::object())
                                                    : boost::json::parse(request.body, ec);
    if (ec || !body.is_object())
        return {error_response(400, "bad.request", "control body must be a JSON object", cid)};
    const auto& o = body.as_object();
    auto integer = [&](std::string_view key, std::int64_t fallback) -> std::int64_t {
        const auto* v = o.if_contains(key);
        return v && v->is_int64() ? v->get_int64() : fallback;
    };

    if (path == "/__emulator/faults" && request.method == http_method::post) {
        auto f = parse_fault(get_string(o, "mode"));
        if (!f)
            return {error_response(400, "bad.request", "unknown fault mode", cid)};
        f->ms = static_cast<int>(integer("ms", f->ms)); // the body's fields win over the mode string's
        f->count = static_cast<int>(integer("count", f->count));
        if (f->count > 0)
            scheduled_.push_back(*f);
        return {{204, {}, {}}};
    }
    if (path == "/__emulator/faults" && request.method == http_method::delete_) {
        scheduled_.clear();
        return {{204, {}, {}}};
    }
    if (path == "/__emulator/clock" && request.method == http_method::post) {
        offset_ += std::chrono::seconds(integer("advanceSeconds", 0));
        return {json_response(200, {{"now", genesys::format_date_time(to_date_time(now()))}})};
    }
    if (path == "/__emulator/config" && request.method == http_method::post) {
        opts_.rate_limit = static_cast<int>(integer("rateLimit", opts_.rate_limit));
        opts_.rate_window_seconds = static_cast<int>(integer("rateWindowSeconds", opts_.rate_window_seconds));
        return {{204, {}, {}}};
    }
    if (path == "/__emulator/tokens" && request.method == http_method::post) {
        token t;
        t.user = get_string(o, "user");
        t.client = get_string(o, "client");
        if (t.client.empty() || !clients_.contains(t.client) || (!t.user.empty() && !users_.contains(t.user)))
            return {error_response(400, "bad.request", "unknown user or client", cid)};
        t.expires = now() + token_lifetime;
        reset_idle(t);
        std::string value = new_token_value();
        tokens_[value] = t;
        return {json_response(200, {{"access_token", value}})};
    }
    if (path == "/__emulator/authorize" && request.method == http_method::post)
        return handle_authorize(o, cid);
    if (path == "/__emulator/stats" && request.method == http_method::get) {
        std::int64_t live = std::count_if(tokens_.begin(), tokens_.end(), [](const auto& kv) { return !kv.second.revoked; });
        return {json_response(200,
                              {{"connections", connections_.load()}, {"requests", requests_}, {"liveTokens", live}})};
    }
    if (path == "/__emulator/reset" && request.method == http_method::post) {
        offset_ = {};
        scheduled_.clear();
        requests_ = 0;
        opts_ = initial_;
        load_seed(opts_.seed_json.empty() ? builtin_seed : std::string_view(opts_.seed_json));
        return {{204, {}, {}}};
    }
    return {error_response(404, "not.found", "no such emulator control", cid)};
}

namespace {

reply oauth_error(int status, std::string_view error, std::string_view description)
{
    boost::json::object body{{"error", error}, {"description", description}, {"error_description", description}};
    return {{status, {{"Content-Type", "application/json"}}, boost::json::serialize(body)}};
}

} // namespace

reply service::handle_oauth(const genesys::http_request& request, const std::string&)
{
    const client* who = nullptr;
    reply r = handle_grant(request, who);
    if (who) { // the token endpoint's rate limit is per OAuth client
        auto& w = client_windows_[who->id];
        count_in(w);
        add_limit_headers(r.response.headers, w);
    }
    return r;
}

reply service::handle_grant(const genesys::http_request& request, const client*& who)
{
    auto content_type = request.headers.get("Content-Type").value_or("");
    if (!media_type_is(content_type, "application/x-www-form-urlencoded"))
        return oauth_error(400, "invalid_request", "expected application/x-www-form-urlencoded");
    auto form = parse_form(request.body);

    // Client authentication: Basic base64(id:secret) for a confidential client, as the platform
    // takes it (platform-facts.md: no percent-decoding); or, without an Authorization header,
    // client_id in the form for a public client (one without a secret).
    const client* c = nullptr;
    if (auto auth = request.headers.get("Authorization")) {
        std::optional<std::string> credentials;
        if (auth->size() > 6 && genesys::detail::iequals(auth->substr(0, 6), "Basic "))
            credentials = base64_decode(auth->substr(6));
        auto colon = credentials ? credentials->find(':') : std::string::npos;
        if (colon == std::string::npos)
            return oauth_error(401, "invalid_client", "authentication failed");
        auto it = clients_.find(credentials->substr(0, colon));
        if (it == clients_.end() || it->second.secret.empty() || it->second.secret != credentials->substr(colon + 1))
            return oauth_error(401, "invalid_client", "authentication failed");
        c = &it->second;
    } else {
        auto it = clients_.find(form["client_id"]);
        if (it == clients_.end() || !it->second.secret.empty())
            return oauth_error(401, "invalid_client", "authentication failed");
        c = &it->second;
    }
    who = c;
    const bool confidential = !c->secret.empty();
    const std::string& grant = form["grant_type"];

    if (grant == "client_credentials") {
        if (!confidential)
            return oauth_error(401, "invalid_client", "authentication failed");
        if (c->grant_type != "CLIENT-CREDENTIALS")
            return oauth_error(400, "unauthorized_client", "client is not allowed to use this grant");
        token t;
        t.client = c->id;
        t.expires = now() + token_lifetime;
        reset_idle(t);
        std::string value = new_token_value();
        tokens_[value] = t;
        boost::json::object body{{"access_token", value},
                                 {"token_type", "bearer"},
                                 {"expires_in", std::chrono::duration_cast<std::chrono::seconds>(token_lifetime).count()}};
        return {json_response(200, body)};
    }

    if (grant == "authorization_code") {
        if (c->grant_type != "CODE")
            return oauth_error(400, "unauthorized_client", "client is not allowed to use this grant");
        auto it = codes_.find(form["code"]);
        if (it == codes_.end() || it->second.client != c->id)
            return oauth_error(400, "invalid_grant", "authorization code is invalid or was already used");
        const auth_code code = it->second;
        codes_.erase(it); // one-time: spent by any redemption of its client, even a refused one
        if (now() > code.expires)
            return oauth_error(400, "invalid_grant", "authorization code expired");
        if (form["redirect_uri"] != code.redirect_uri)
            return oauth_error(400, "invalid_grant", "redirect_uri does not match the authorization request");
        const std::string& verifier = form["code_verifier"];
        if (code.challenge.empty()) {
            if (!verifier.empty())
                return oauth_error(400, "invalid_grant", "the authorization request had no code_challenge");
        } else {
            if (verifier.empty())
                return oauth_error(400, "invalid_grant", "code_verifier is required");
            const auto digest = genesys::detail::sha256_digest(verifier);
            const auto s256 = genesys::base64url_encode(
                std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
            if (!genesys::detail::code_verifier_problem(verifier).empty() || s256 != code.challenge)
                return oauth_error(400, "invalid_grant", "code_verifier does not match the code_challenge");
        }
        return issue_user_token(*c, code.user);
    }

    if (grant == "refresh_token") {
        auto it = refresh_tokens_.find(form["refresh_token"]);
        if (it == refresh_tokens_.end() || it->second.client != c->id)
            return oauth_error(400, "invalid_grant", "refresh token is invalid, expired or revoked");
        const std::string user = it->second.user;
        refresh_tokens_.erase(it); // rotation: a refresh token is good for one refresh
        return issue_user_token(*c, user);
    }

    if (grant == "urn:ietf:params:oauth:grant-type:saml2-bearer") {
        if (!confidential)
            return oauth_error(401, "invalid_client", "authentication failed");
        if (c->grant_type != "SAML2-BEARER")
            return oauth_error(400, "unauthorized_client", "client is not allowed to use this grant");
        const std::string& org_name = form["orgName"];
        auto o = std::find_if(orgs_.begin(), orgs_.end(), [&](const auto& kv) { return kv.second.name == org_name; });
        if (org_name.empty() || o == orgs_.end() || o->second.id != c->org)
            return oauth_error(400, "invalid_grant", "unknown organization");
        auto xml = base64_decode(form["assertion"]);
        auto name_id = xml ? saml_name_id(*xml) : std::nullopt;
        auto u = name_id ? users_.find(*name_id) : users_.end();
        if (u == users_.end() || u->second.org != o->second.id)
            return oauth_error(400, "invalid_grant", "the assertion names no user of the organization");
        return issue_user_token(*c, u->first);
    }

    return oauth_error(400, "unsupported_grant_type", "grant type not supported");
}

reply service::issue_user_token(const client& c, const std::string& user)
{
    token t;
    t.user = user;
    t.client = c.id;
    t.expires = now() + token_lifetime;
    reset_idle(t);
    std::string value = new_token_value();
    tokens_[value] = t;
    std::string refresh = new_token_value();
    refresh_tokens_[refresh] = {c.id, user};
    boost::json::object body{{"access_token", value},
                             {"token_type", "bearer"},
                             {"expires_in", std::chrono::duration_cast<std::chrono::seconds>(token_lifetime).count()},
                             {"refresh_token", refresh}};
    return {json_response(200, body)};
}

reply service::handle_authorize(const boost::json::object& o, const std::string& cid)
{
    auto bad = [&](std::string_view why) { return reply{error_response(400, "bad.request", why, cid)}; };
    auto c = clients_.find(get_string(o, "client_id"));
    if (c == clients_.end() || c->second.grant_type != "CODE")
        return bad("client_id names no authorization-code client");
    const std::string redirect = get_string(o, "redirect_uri");
    const auto& allowed = c->second.redirect_uris;
    if (redirect.empty() || (!allowed.empty() && std::find(allowed.begin(), allowed.end(), redirect) == allowed.end()))
        return bad("redirect_uri is not registered for the client");
    auto u = users_.find(get_string(o, "user"));
    if (u == users_.end() || u->second.org != c->second.org)
        return bad("user names no user of the client's organization");
    const std::string challenge = get_string(o, "code_challenge");
    const std::string method = get_string(o, "code_challenge_method");
    if (challenge.empty()) {
        if (!method.empty())
            return bad("code_challenge_method without code_challenge");
        if (c->second.secret.empty())
            return bad("a public client must use PKCE: code_challenge and code_challenge_method=S256");
    } else {
        if (method != "S256")
            return bad("code_challenge_method must be S256");
        const bool base64url = std::all_of(challenge.begin(), challenge.end(), [](char ch) {
            return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
                   ch == '_';
        });
        if (challenge.size() != 43 || !base64url)
            return bad("code_challenge must be base64url(SHA-256(code_verifier)) without padding: 43 characters");
    }
    std::string code = new_token_value();
    codes_[code] = {c->first, u->first, redirect, challenge, now() + code_lifetime};
    std::string location = redirect + (redirect.find('?') == std::string::npos ? "?" : "&") + "code=" + code;
    if (auto state = get_string(o, "state"); !state.empty())
        location += "&state=" + genesys::detail::percent_encode(state);
    return {json_response(200, {{"code", code}, {"redirect", location}})};
}

reply service::handle_api(const genesys::http_request& request, std::string_view path, std::string_view query,
                          const std::string& cid)
{
    using genesys::http_method;
    constexpr std::string_view prefix = "/api/v2/tokens/";
    if (!path.starts_with(prefix) || path.size() == prefix.size() ||
        path.substr(prefix.size()).find('/') != std::string_view::npos)
        return {error_response(404, "not.found", "The requested resource was not found.", cid)};
    const std::string_view segment = path.substr(prefix.size());

    // Authentication.
    auto auth = request.headers.get("Authorization").value_or("");
    if (auth.size() <= 7 || !genesys::detail::iequals(auth.substr(0, 7), "Bearer "))
        return {error_response(401, "authentication.required",
                               "No authentication bearer token specified in authorization header.", cid)};
    auto it = tokens_.find(std::string(auth.substr(7)));
    const org* o = it == tokens_.end() ? nullptr : org_of(it->second);
    const bool idle_expired = o && o->timeout.enable_idle_token_timeout.value_or(false) && now() > it->second.idles;
    if (it == tokens_.end() || it->second.revoked || now() > it->second.expires || idle_expired)
        return {error_response(401, "bad.credentials", "Invalid login credentials.", cid)};
    token& tok = it->second;

    // Rate limit, per token.
    count_in(tok.window);
    // Rounded up: Retry-After is the least a client must wait.
    const auto left_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             tok.window.start + std::chrono::seconds(opts_.rate_window_seconds) - now())
                             .count();
    const std::int64_t reset_in = std::max<std::int64_t>(1, (left_ms + 999) / 1000);
    auto with_limits = [&](genesys::http_response res) {
        add_limit_headers(res.headers, tok.window);
        return reply{std::move(res)};
    };
    if (tok.window.count > opts_.rate_limit) {
        auto res = error_response(429, "too.many.requests.retry.after",
                                  "Rate limit exceeded the maximum. Retry the request in [" + std::to_string(reset_in) +
                                      "] seconds",
                                  cid);
        res.headers.add("Retry-After", std::to_string(reset_in));
        return with_limits(std::move(res));
    }

    auto forbidden = [&](std::string_view permission) {
        return with_limits(error_response(
            403, "missing.any.permissions",
            "Unable to perform the requested action. You are missing the following permission(s): [" +
                std::string(permission) + "]",
            cid));
    };
    auto not_found = [&] {
        return with_limits(error_response(404, "not.found", "The requested resource was not found.", cid));
    };

    if (segment == "me") {
        switch (request.method) {
        case http_method::get: {
            if (query_param(query, "preserveIdleTTL") != "true")
                reset_idle(tok);
            const client* c = clients_.contains(tok.client) ? &clients_.at(tok.client) : nullptr;
            genesys::token_info info;
            if (o) {
                info.organization = genesys::named_entity{o->id, o->name};
                info.home_organization = info.organization;
                if (o->timeout.enable_idle_token_timeout.value_or(false))
                    info.date_token_idles = to_date_time(tok.idles);
            }
            if (c) {
                info.authorized_scope = c->scope;
                genesys::org_oauth_client oc;
                oc.id = c->id;
                oc.name = c->name;
                oc.date_created = c->created;
                oc.authorized_grant_type = c->grant_type;
                oc.scope = c->scope;
                oc.state = "active";
                if (o)
                    oc.organization = genesys::named_entity{o->id, o->name};
                info.oauth_client = oc;
            }
            return with_limits(json_response(200, boost::json::value_from(info)));
        }
        case http_method::head: reset_idle(tok); return with_limits({200, {{"Content-Type", "application/json"}}, {}});
        case http_method::delete_: tok.revoked = true; return with_limits({200, {}, {}});
        default: return not_found();
        }
    }

    if (segment == "timeout") {
        if (!o)
            return not_found();
        org& settings = orgs_.at(o->id);
        if (request.method == http_method::get) {
            reset_idle(tok);
            return with_limits(json_response(200, boost::json::value_from(settings.timeout)));
        }
        if (request.method != http_method::put)
            return not_found();
        if (!permissions_of(tok).contains("directory:organization:admin"))
            return forbidden("directory:organization:admin");
        if (!media_type_is(request.headers.get("Content-Type").value_or(""), "application/json"))
            return with_limits(error_response(415, "unsupported.media.type", "Unsupported Media Type", cid));
        boost::system::error_code ec;
        auto jv = boost::json::parse(request.body, ec);
        auto wanted = ec ? boost::system::result<genesys::idle_token_timeout>(ec)
                         : boost::json::try_value_to<genesys::idle_token_timeout>(jv);
        if (!wanted)
            return with_limits(error_response(
                400, "bad.request", "The request could not be understood by the server due to malformed syntax.", cid));
        // The definition: "at least 5 minutes and 8 hours or less" (15 minutes or less with HIPAA
        // compliance, which the emulator does not model).
        if (auto s = wanted->idle_token_timeout_seconds; s && (*s < 300 || *s > 28800))
            return with_limits(error_response(
                400, "invalid.value", "idleTokenTimeoutSeconds must be between 300 and 28800", cid));
        // inactivityTimeoutUnit is an enum of the definition, Minutes or Hours (case-sensitive): any
        // other value does not deserialize, as a mistyped field does not.
        auto unit_ok = [](const std::optional<std::string>& unit) {
            return !unit || *unit == "Minutes" || *unit == "Hours";
        };
        bool units_ok = unit_ok(wanted->inactivity_timeout_unit);
        if (wanted->inactivity_timeout_group_bundles)
            for (const auto& b : *wanted->inactivity_timeout_group_bundles)
                units_ok = units_ok && unit_ok(b.inactivity_timeout_unit);
        if (!units_ok)
            return with_limits(error_response(
                400, "bad.request", "The request could not be understood by the server due to malformed syntax.", cid));
        auto& t = settings.timeout;
        if (wanted->idle_token_timeout_seconds)
            t.idle_token_timeout_seconds = wanted->idle_token_timeout_seconds;
        if (wanted->enable_idle_token_timeout)
            t.enable_idle_token_timeout = wanted->enable_idle_token_timeout;
        if (wanted->inactivity_timeout_unit)
            t.inactivity_timeout_unit = wanted->inactivity_timeout_unit;
        if (wanted->inactivity_timeout_groups_enabled)
            t.inactivity_timeout_groups_enabled = wanted->inactivity_timeout_groups_enabled;
        if (wanted->inactivity_timeout_group_bundles)
            t.inactivity_timeout_group_bundles = wanted->inactivity_timeout_group_bundles;
        reset_idle(tok);
        return with_limits(json_response(200, boost::json::value_from(t)));
    }

    // DELETE /api/v2/tokens/{userId}
    if (request.method != http_method::delete_)
        return not_found();
    if (!permissions_of(tok).contains("oauth:token:delete"))
        return forbidden("oauth:token:delete");
    reset_idle(tok);
    const std::string user_id = percent_decode(segment, false);
    if (!users_.contains(user_id))
        return with_limits(error_response(404, "not.found", "User " + user_id.substr(0, 64) + " was not found.", cid));
    for (auto& [value, t] : tokens_)
        if (t.user == user_id)
            t.revoked = true;
    std::erase_if(refresh_tokens_, [&](const auto& kv) { return kv.second.user == user_id; });
    std::erase_if(codes_, [&](const auto& kv) { return kv.second.user == user_id; });
    return with_limits({204, {}, {}});
}

} // namespace genesys_emulator
