// SPDX-License-Identifier: BSL-1.0
// curl_transport through a real proxy (tinyproxy, started by the test on a loopback port with
// Basic authentication) in front of the emulator.

#include <genesys/transport/curl.hpp>

#include "proxy_process.hpp"

#include <genesys/genesys.hpp>

#include <doctest/doctest.h>

