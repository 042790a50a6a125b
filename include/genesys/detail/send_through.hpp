// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_DETAIL_SEND_THROUGH_HPP
#define GENESYS_DETAIL_SEND_THROUGH_HPP

// Sending through a user's transport, the one place its exceptions become error codes; and
// `send_ref`, the transport seen through a plain function pointer, so that the call path past it
// is compiled once for every transport.

#include <genesys/error_code.hpp>
#include <genesys/http.hpp>
#include <genesys/transport.hpp>

#include <boost/system/result.hpp>
#include <boost/system/system_error.hpp>

#include <exception>
#include <memory>
#include <new>
#include <string>
#include <system_error>

namespace genesys::detail {

/// Sends through any transport and returns a result: exceptions thrown by a transport that
/// returns a plain `http_response` become error codes, their text kept in `what`; so does a
/// thrown object that is not a `std::exception`. Only `std::bad_alloc` propagates.
template <class Transport>
boost::system::result<http_response> send_through(Transport& t, const http_request& req, std::string& what)
{
    try {
        boost::system::result<http_response> r = t.send(req);
        if constexpr (transport_with_error_detail<Transport>) {
            if (!r)
                what = std::string(t.last_error_message());
        }
        return r;
    } catch (const std::bad_alloc&) {
        throw;
    } catch (const boost::system::system_error& e) {
        what = e.what();
        return e.code();
    } catch (const std::system_error& e) {
        what = e.what();
        return boost::system::error_code(e.code());
    } catch (const std::exception& e) {
        what = e.what();
        return make_error_code(errc::transport_exception);
    } catch (...) {
        what = "the transport threw an object that is not a std::exception";
        return make_error_code(errc::transport_exception);
    }
}

/** A transport's `send`, type-erased at the boundary of the compiled code (as {fmt}'s `vformat`
    takes its arguments): an object pointer and one function per transport type. It refers to the
    transport, which must outlive it; it is made per call. */
class send_ref {
public:
    template <transport Transport>
    explicit send_ref(Transport& t) noexcept
        : object_(std::addressof(t)),
          send_(+[](void* object, const http_request& req, std::string& what) {
              return send_through(*static_cast<Transport*>(object), req, what);
          })
    {
    }

    /// Sends `req`; a failure's own text from the transport goes to `what`.
    boost::system::result<http_response> operator()(const http_request& req, std::string& what) const
    {
        return send_(object_, req, what);
    }

private:
    void* object_;
    boost::system::result<http_response> (*send_)(void*, const http_request&, std::string&);
};

} // namespace genesys::detail

#endif
