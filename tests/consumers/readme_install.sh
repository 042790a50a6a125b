#!/usr/bin/env bash
# SPDX-License-Identifier: BSL-1.0
# Runs the README's install command exactly as it is written (only the prefix is a temporary
# directory instead of /opt/genesys), in a fresh copy of the source tree with no build in it,
# then builds the consumer app against the installed package with find_package; and runs the
# README's plain g++ line on the first program (the compiler is the one given).
#   readme_install.sh SOURCE_DIR WORK_DIR CXX
set -euo pipefail
src=$1 work=$2 cxx=$3
rm -rf "$work"
mkdir -p "$work/source"

# The command, as the README spells it: "**Installed** (`...`)".
command=$(grep -o '^\*\*Installed\*\* (`[^`]*`)' "$src/README.md" | sed 's/^\*\*Installed\*\* (`//; s/`)$//')
[[ -n $command ]] || { echo "README.md: no **Installed** (\`...\`) command found" >&2; exit 1; }
[[ $command == *"--prefix /opt/genesys"* ]] || { echo "README.md: the install command no longer uses --prefix /opt/genesys: $command" >&2; exit 1; }
echo "README: $command"

# A fresh tree: the tracked files when this is a git checkout, else everything but build outputs.
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$src" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$work/source")
else
    (cd "$src" && tar --exclude=./build --exclude='./build-*' -cf - .) | (cd "$work/source" && tar -xf -)
fi

prefix="$work/prefix"
(cd "$work/source" && CXX=$cxx eval "${command//\/opt\/genesys/$prefix}")

for f in include/genesys/genesys.hpp include/genesys/tokens.hpp include/genesys/transport/curl.hpp \
         share/cmake/genesys_tokens/genesys_tokensConfig.cmake share/pkgconfig/genesys_tokens.pc \
         share/genesys_tokens/single_include/genesys/tokens.hpp; do
    [[ -f $prefix/$f ]] || { echo "not installed: $f" >&2; exit 1; }
done

# The README's plain compiler line, as written, from a directory holding the checkout as
# genesys-tokens-cpp/ and the first program beside it.
line=$(grep -m1 '^g++ -std=c++20 -I genesys-tokens-cpp/include ' "$src/README.md" || true)
[[ -n $line ]] || { echo "README.md: no plain g++ line found" >&2; exit 1; }
echo "README: $line"
mkdir -p "$work/plain"
ln -s "$work/source" "$work/plain/genesys-tokens-cpp"
cp "$work/source/examples/first_call.cpp" "$work/plain/"
(cd "$work/plain" && eval "${line/#g++/$cxx}")
[[ -x $work/plain/first_call ]] || { echo "the plain g++ line made no program" >&2; exit 1; }

cmake -S "$src/tests/consumers/app" -B "$work/app" -DGENESYS_MODE=find_package \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_CXX_COMPILER="$cxx" >/dev/null
cmake --build "$work/app" >/dev/null
"$work/app/consumer"
echo "readme install: ok"
