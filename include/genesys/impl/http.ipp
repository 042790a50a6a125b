// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_IMPL_HTTP_IPP
#define GENESYS_IMPL_HTTP_IPP

#include <genesys/http.hpp>

#include <algorithm>
#include <utility>

namespace genesys {

GENESYS_DECL http_headers::http_headers(const http_headers&) = default;
GENESYS_DECL http_headers::http_headers(http_headers&&) noexcept = default;
GENESYS_DECL http_headers& http_headers::operator=(const http_headers&) = default;
GENESYS_DECL http_headers& http_headers::operator=(http_headers&&) noexcept = default;
GENESYS_DECL http_headers::~http_headers() = default;

GENESYS_DECL const http_header* http_headers::find(std::string_view name) const noexcept
{
    for (const auto& f : fields_)
        if (detail::iequals(f.name, name))
            return &f;
    return nullptr;
}

GENESYS_DECL std::optional<std::string_view> http_headers::get(std::string_view name) const noexcept
{
    if (const auto* f = find(name))
        return std::string_view(f->value);
    return std::nullopt;
}

GENESYS_DECL void http_headers::set(std::string_view name, std::string value)
{
    const auto named = [&](const http_header& f) { return detail::iequals(f.name, name); };
    auto first = std::find_if(fields_.begin(), fields_.end(), named);
    if (first == fields_.end()) {
        fields_.push_back({std::string(name), std::move(value)});
        return;
    }
    first->value = std::move(value);
    fields_.erase(std::remove_if(first + 1, fields_.end(), named), fields_.end());
}

GENESYS_DECL http_headers::size_type http_headers::erase(std::string_view name)
{
    return std::erase_if(fields_, [&](const http_header& f) { return detail::iequals(f.name, name); });
}

} // namespace genesys

#endif
