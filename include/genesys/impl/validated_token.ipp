// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_IMPL_VALIDATED_TOKEN_IPP
#define GENESYS_IMPL_VALIDATED_TOKEN_IPP

#include <genesys/date_time.hpp>
#include <genesys/validated_token.hpp>

#include <ostream>

namespace genesys {

GENESYS_DECL std::ostream& operator<<(std::ostream& os, const validated_token& v)
{
    const token_info& i = v.info();
    os << "validated_token{organization " << (i.organization ? i.organization->id.value_or("?") : "?")
       << ", client " << (i.oauth_client ? i.oauth_client->id.value_or("?") : "?") << ", trusted until "
       << format_date_time(v.trusted_until())
       << (v.stale() ? ", stale" : "") << '}';
    return os;
}

} // namespace genesys

#endif
