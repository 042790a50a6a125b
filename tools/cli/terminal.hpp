// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_CLI_TERMINAL_HPP
#define GENESYS_CLI_TERMINAL_HPP

// Text from the network (or anywhere else outside the program) made safe for a terminal.

#include <string>
#include <string_view>

namespace genesys_cli {

/** `text` with nothing a terminal would act on: every control character (C0 including ESC, CR,
    LF and TAB, DEL, and C1 U+0080..U+009F written as UTF-8) becomes a visible escape (`\x1b`,
    `\x7f`, `\u009b`), and every byte that is not part of valid UTF-8 becomes `\xNN`. Everything
    else, including printable non-ASCII text, is kept. */
std::string terminal_text(std::string_view text);

/** Serialized JSON made safe for a terminal without changing what it means: Boost.JSON already
    escapes C0 controls, so this escapes DEL and C1 controls as `\u007f`, `\u0080`..`\u009f`,
    and replaces bytes that are not valid UTF-8 with `\ufffd`. */
std::string terminal_json(std::string_view serialized);

} // namespace genesys_cli

#endif
