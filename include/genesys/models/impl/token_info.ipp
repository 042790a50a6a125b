// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_MODELS_IMPL_TOKEN_INFO_IPP
#define GENESYS_MODELS_IMPL_TOKEN_INFO_IPP

#include <genesys/models/token_info.hpp>

namespace genesys {

GENESYS_DECL token_info::token_info() noexcept = default;
GENESYS_DECL token_info::token_info(const token_info&) = default;
GENESYS_DECL token_info::token_info(token_info&&) noexcept = default;
GENESYS_DECL token_info& token_info::operator=(const token_info&) = default;
GENESYS_DECL token_info& token_info::operator=(token_info&&) noexcept = default;
GENESYS_DECL token_info::~token_info() = default;

} // namespace genesys

#endif
