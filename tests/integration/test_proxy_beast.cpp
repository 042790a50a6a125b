// SPDX-License-Identifier: BSL-1.0
// beast_transport and beast_async_transport through a real proxy (tinyproxy, started by the test
// on a loopback port with Basic authentication) in front of the emulator.

#include <genesys/transport/beast.hpp>

#include "proxy_process.hpp"

#include <genesys/genesys.hpp>
#include <genesys/transport/beast_async.hpp>

#include <doctest/doctest.h>

