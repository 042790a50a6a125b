// SPDX-License-Identifier: BSL-1.0
// The baseline of the compile-cost measurement: a unit that includes only <boost/json.hpp> and
// uses it a little.
#include <boost/json.hpp>

int main()
{
    boost::json::value jv = boost::json::parse(R"({"organization":{"name":"Acme"}})");
    return jv.at("organization").at("name").as_string().empty() ? 1 : 0;
}
