// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_IMPL_ERROR_IPP
#define GENESYS_IMPL_ERROR_IPP

#include <genesys/error.hpp>

#include <memory>
#include <ostream>
#include <utility>

namespace genesys {

GENESYS_DECL error::error() noexcept = default;
GENESYS_DECL error::error(const error&) = default;
GENESYS_DECL error::error(error&&) noexcept = default;
GENESYS_DECL error& error::operator=(const error&) = default;
GENESYS_DECL error& error::operator=(error&&) noexcept = default;
GENESYS_DECL error::~error() = default;

GENESYS_DECL std::ostream& operator<<(std::ostream& os, const error& e) { return os << e.message; }

GENESYS_DECL exception::exception(error e)
    : std::runtime_error(e.message), info_(std::make_shared<const error>(std::move(e)))
{
}

namespace detail {

GENESYS_DECL void throw_error(error&& e)
{
    switch (e.kind) {
    case error_kind::api: throw api_error(std::move(e));
    case error_kind::network: throw network_error(std::move(e));
    case error_kind::decode: throw decode_error(std::move(e));
    case error_kind::policy: throw policy_error(std::move(e));
    case error_kind::invalid_argument: break;
    }
    throw invalid_argument_error(std::move(e));
}

} // namespace detail

GENESYS_DECL void throw_exception_from_error(const error& e, const boost::source_location&)
{
    detail::throw_error(error(e));
}

} // namespace genesys

#endif
