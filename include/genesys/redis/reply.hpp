// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_REDIS_REPLY_HPP
#define GENESYS_REDIS_REPLY_HPP

/// @file
/// `redis_reply`: one reply of Redis to one command (RESP2), and `redis_command`, one command.

#include <cstdint>
#include <string>
#include <vector>

namespace genesys {

/// One command: its name and arguments, each sent as a binary-safe bulk string.
using redis_command = std::vector<std::string>;

/// What a reply is (RESP2's types).
enum class redis_reply_kind {
    nil,     ///< a null bulk string or array (`GET` of a missing key, `SET NX` that did not set)
    status,  ///< a simple string (`+OK`): `text`
    error,   ///< an error reply (`-WRONGTYPE ...`): `text` is the server's message
    integer, ///< an integer (`:1`): `integer`
    string,  ///< a bulk string: `text`, binary-safe
    array,   ///< an array: `elements`
};

/// One reply of Redis to one command. A Redis error reply is a reply of kind `error` (the
/// command failed, the connection is fine), not a failure of the pipeline.
struct redis_reply {
    /// What the reply is.
    redis_reply_kind kind = redis_reply_kind::nil;
    /// A bulk string's bytes, a status' text or an error's message.
    std::string text{};
    /// An integer reply's value.
    std::int64_t integer = 0;
    /// An array's elements.
    std::vector<redis_reply> elements{};

    /// True for a null reply (a missing key).
    bool is_nil() const noexcept { return kind == redis_reply_kind::nil; }
    /// True for an error reply.
    bool is_error() const noexcept { return kind == redis_reply_kind::error; }
};

} // namespace genesys

#endif
