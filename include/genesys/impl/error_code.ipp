// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_IMPL_ERROR_CODE_IPP
#define GENESYS_IMPL_ERROR_CODE_IPP

#include <genesys/error_code.hpp>

#include <string>

namespace genesys {

namespace detail {

class error_category_impl final : public boost::system::error_category {
public:
    constexpr error_category_impl() noexcept : boost::system::error_category(0x6e5c1d2a7b3f4e91ULL) {}

    const char* name() const noexcept override { return "genesys.tokens"; }

    std::string message(int ev) const override
    {
        switch (static_cast<errc>(ev)) {
        case errc::http_status: return "the server answered with an error status";
        case errc::decode_failed: return "the response body could not be decoded";
        case errc::invalid_argument: return "invalid argument or configuration";
        case errc::transport_exception: return "the transport threw an exception";
        case errc::response_too_large: return "the response body is larger than the limit";
        case errc::deadline_exceeded: return "the call did not finish within its timeout";
        case errc::policy_mismatch: return "the token does not meet the validator's policy";
        }
        return "unknown genesys.tokens error";
    }
};

} // namespace detail

GENESYS_DECL const boost::system::error_category& tokens_category() noexcept
{
    static const detail::error_category_impl instance;
    return instance;
}

} // namespace genesys

#endif
