// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_CLI_SECRET_FILE_HPP
#define GENESYS_CLI_SECRET_FILE_HPP

// Tokens and client secrets in files: read with checks, written atomically with mode 0600.
// No message ever holds the secret itself, only where it came from.

#include <cstddef>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace genesys_cli {

/// The longest token or client secret accepted (a real access token is well under 2 KiB).
inline constexpr std::size_t max_secret_bytes = 16 * 1024;

/// A secret, or the file it is in, that cannot be used: the user must fix something (exit 2).
struct secret_problem : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/** Reads a secret (`what` names it: "token", "client secret") from `path`, or from standard
    input when `path` is `-`. One trailing "\n" or "\r\n" is removed; an empty secret, one over
    `max_secret_bytes`, or one with another line or a control character is a `secret_problem`, as
    is a file that cannot be read (the message names the file and gives the reason). A missing
    file gives `std::nullopt` when `missing_ok`. Warns on stderr when the file is accessible by
    group or others. */
std::optional<std::string> read_secret_file(const std::string& path, std::string_view what, bool missing_ok);

/// Checks a secret that did not come from a file; `source` says where it came from ("--token").
void check_secret(std::string_view secret, std::string_view source);

/** Gets `target` ready to receive a secret before anything is asked of the server: creates its
    missing parent directories (mode 0700), and refuses a target that is a symbolic link or not a
    regular file (`secret_problem`). */
void prepare_secret_file(const std::filesystem::path& target, std::string_view what);

/** Replaces `target` with `content` atomically: a new file in the same directory (O_CREAT |
    O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode 0600 whatever the umask), written in full, fsync'ed and
    renamed over `target`. A symbolic link at `target` is refused, never followed. Every step is
    checked; on failure (`std::runtime_error`) the temporary file is removed. */
void write_secret_file(const std::filesystem::path& target, std::string_view what, std::string_view content);

} // namespace genesys_cli

#endif
