#!/bin/sh
# Compiles the bundles the C API test needs with `kiln compile`, runs the test (a C program
# linked only to libkiln_rt), and checks that neither the library nor the program needs LLVM.
# Usage: run.sh KILN C_API_TEST LIBKILN_RT SOURCE_DIR
set -eu
kiln=$1 test=$2 library=$3 source=$4
work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-c-api.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$kiln" bundle keygen "$work/key" > /dev/null
"$kiln" bundle keygen "$work/other" > /dev/null
"$kiln" compile "$source/functions.kir" --func affine --func scale -o "$work/plain.kbundle" > /dev/null
"$kiln" compile "$source/functions.kir" --func affine --func scale --sign "$work/key.key" -o "$work/signed.kbundle" > /dev/null
"$kiln" compile "$source/functions.kir" --func scale --target vulkan -o "$work/vulkan.kbundle" > /dev/null
"$kiln" compile "$source/huge.kir" --no-fuse --target x86-64-v3 -o "$work/huge.kbundle" > /dev/null
for binary in "$library" "$test"; do
  if ldd "$binary" | grep -i llvm; then
    echo "[c_api] $binary needs LLVM; the runtime must not" >&2
    exit 1
  fi
done
"$test" "$work"
