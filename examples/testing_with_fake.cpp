// SPDX-License-Identifier: BSL-1.0
// Testing your own code with genesys::testing::fake_transport: canned answers in, the requests
// your code sent out, and failures on demand. (Use your test framework's checks instead of
// `expect` below.)

#include <genesys/genesys.hpp>
#include <genesys/testing/fake_transport.hpp>

#include <iostream>
#include <string>

namespace {

// The code under test: logs an agent out everywhere, unless their token is already gone.
template <class Transport>
bool sign_out_everywhere(genesys::tokens_api<Transport>& api, const std::string& user_id)
{
    if (!api.verify_token())
        return false;
    api.delete_token(user_id);
    return true;
}

int failures = 0;
void expect(bool ok, const char* what)
{
    std::cout << (ok ? "ok:   " : "FAIL: ") << what << '\n';
    failures += ok ? 0 : 1;
}

} // namespace

int main()
{
    genesys::testing::fake_transport fake;
    genesys::tokens_api api{fake, {.access_token = "test-token"}};

    fake.respond(200).respond(204);
    expect(sign_out_everywhere(api, "user 1"), "a valid token signs the user out");
    expect(fake.requests().at(1).url == "https://api.mypurecloud.com/api/v2/tokens/user%201",
           "the user id is sent percent-encoded");

    fake.respond(401);
    expect(!sign_out_everywhere(api, "user 1"), "an invalid token signs nobody out");
    expect(fake.request_count() == 3, "nothing is deleted after a 401");

    fake.respond(200).respond(403, R"({"code":"missing.any.permissions","status":403})");
    try {
        sign_out_everywhere(api, "user 2");
        expect(false, "a 403 is an api_error");
    } catch (const genesys::api_error& e) {
        expect(e.status() == 403 && e.body()->code == "missing.any.permissions", "a 403 is an api_error");
    }

    fake.fail_on(fake.request_count() + 1, boost::system::errc::make_error_code(boost::system::errc::timed_out));
    try {
        sign_out_everywhere(api, "user 3");
        expect(false, "a network failure is a network_error");
    } catch (const genesys::network_error&) {
        expect(true, "a network failure is a network_error");
    }
    return failures == 0 ? 0 : 1;
}
