#!/usr/bin/env bash
# Installs a built kiln into a temporary prefix and uses it as another project would: the CMake
# package (examples/installed, built and run against the prefix alone), pkg-config (kiln.pc, a
# program built with its flags and run), and, where the build has it, the C runtime
# (kiln-runtime.pc, <kiln/runtime.h>). Also checks that the installed headers are complete and
# need no SDK the package does not ship. Copies files only: kiln itself is not rebuilt.
#
# Usage: check_package.sh BUILD_DIR SOURCE_DIR LIBDIR HAS_RUNTIME CXX CC [FLAGS]
#   LIBDIR       CMAKE_INSTALL_LIBDIR of the build (lib)
#   HAS_RUNTIME  1 when the build has the C runtime (kiln_rt), else 0
#   FLAGS        compile and link flags the consumers need too (the sanitizers)
set -euo pipefail

if [ $# -lt 6 ]; then
  sed -n '2,13p' "$0" >&2
  exit 2
fi
build=$1 source=$2 libdir=$3 has_runtime=$4 cxx=$5 cc=$6 flags=${7:-}

fail() {
  echo "[install] $*" >&2
  exit 1
}
# Runs a step quietly; on failure prints its output and a one-line reason.
step() {
  local what=$1
  shift
  if ! "$@" >"$tmp/step.log" 2>&1; then
    cat "$tmp/step.log" >&2
    fail "$what failed: $*"
  fi
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kiln-install-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
unset DESTDIR
# The example compiles kernels: keep them out of the user's ~/.cache/kiln.
export KILN_CACHE_DIR=$tmp/cache

step "installing $build (is it fully built?)" cmake --install "$build" --prefix "$prefix"

for file in bin/kiln bin/kiln-plan "$libdir/libkiln.so" include/kiln/kiln.h \
    include/kiln/frontend/kiln.h "$libdir/cmake/kiln/kilnConfig.cmake" \
    "$libdir/cmake/kiln/kilnConfigVersion.cmake" "$libdir/pkgconfig/kiln.pc"; do
  [ -e "$prefix/$file" ] || fail "cmake --install did not install $file"
done
step "running the installed kiln" "$prefix/bin/kiln" --version
step "running the installed kiln-plan" "$prefix/bin/kiln-plan" --help

# Every installed header compiles with what the package ships: no LLVM, Vulkan or SPIR-V header,
# and every header it includes installed too.
headers=$prefix/include/kiln
while IFS= read -r header; do
  name=${header#"$headers"/}
  if grep -Eq '^[[:space:]]*#[[:space:]]*include[[:space:]]*<(llvm|vulkan|spirv)/' "$header"; then
    fail "include/kiln/$name includes an SDK header the package does not ship (packaging/install_headers.cmake should leave it out)"
  fi
  while IFS= read -r included; do
    [ -e "$headers/$included" ] || [ -e "$(dirname "$header")/$included" ] ||
      fail "include/kiln/$name includes \"$included\", which is not installed"
  done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$header")
done < <(find "$headers" -name '*.h')

# The exported targets name nothing of kiln's private build dependencies.
if grep -Eq 'LLVM|SPIRV|Vulkan' "$prefix/$libdir"/cmake/kiln/kilnTargets*.cmake; then
  fail "the CMake package names LLVM, SPIRV-Tools or Vulkan; consumers would need their development files"
fi

# The CMake package, from the prefix alone.
example=$tmp/example
step "configuring examples/installed against $prefix" \
  cmake -S "$source/examples/installed" -B "$example" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags"
found=$(sed -n 's/^kiln_DIR:PATH=//p' "$example/CMakeCache.txt")
[ "$found" = "$prefix/$libdir/cmake/kiln" ] ||
  fail "examples/installed found kiln in '$found', not in the prefix $prefix"
step "building examples/installed" cmake --build "$example"
if ! "$example/kiln_installed_example" >"$tmp/example.log" 2>&1; then
  cat "$tmp/example.log" >&2
  fail "examples/installed built against the installed package gave wrong results or failed"
fi
cat "$tmp/example.log"
grep -q '^ok$' "$tmp/example.log" || fail "examples/installed did not print ok"

# pkg-config: the flags resolve into the prefix, and a program built with them alone runs.
export PKG_CONFIG_PATH=$prefix/$libdir/pkgconfig
step "pkg-config --cflags --libs kiln" pkg-config --cflags --libs kiln
read -r -a kiln_flags < <(pkg-config --cflags --libs kiln)
cat >"$tmp/probe.cpp" <<'CPP'
#include <kiln/ir/parser.h>
#include <kiln/ir/printer.h>
#include <kiln/runtime/thread_pool.h>

#include <iostream>

int main() {
  kiln::ir::Module module = kiln::ir::parse_module(
      "func @f(%x: f32[3]) -> f32[3] {\n  %0 = neg %x : f32[3]\n  return %0\n}\n");
  std::cout << kiln::ir::print(module);
}
CPP
# shellcheck disable=SC2086  # flags are words
step "building a program with pkg-config's flags for kiln" \
  "$cxx" -std=c++20 $flags "$tmp/probe.cpp" "${kiln_flags[@]}" -o "$tmp/probe"
LD_LIBRARY_PATH=$prefix/$libdir "$tmp/probe" >"$tmp/probe.log" 2>&1 ||
  { cat "$tmp/probe.log" >&2; fail "the program built with pkg-config's flags failed"; }
grep -q 'neg %x' "$tmp/probe.log" || fail "the program built with pkg-config's flags printed the wrong function"

# The C runtime, where the build has one.
runtime_pc=$prefix/$libdir/pkgconfig/kiln-runtime.pc
if [ "$has_runtime" = 1 ]; then
  [ -e "$runtime_pc" ] || fail "the build has kiln_rt but kiln-runtime.pc was not installed"
  [ -e "$headers/runtime.h" ] || fail "the build has kiln_rt but include/kiln/runtime.h was not installed"
  read -r -a runtime_flags < <(pkg-config --cflags --libs kiln-runtime)
  # examples/run_bundle.c, built with pkg-config's flags alone, runs a bundle the installed
  # kiln compiles, and neither it nor libkiln_rt needs LLVM.
  step "building examples/run_bundle.c with pkg-config's flags for kiln-runtime" \
    "$cc" -std=c11 $flags "$source/examples/run_bundle.c" "${runtime_flags[@]}" -lm -o "$tmp/run_bundle"
  printf 'func @f(%%x: f32[3]) -> f32[3] {\n  %%0 = mul %%x, %%x : f32[3]\n  return %%0\n}\n' >"$tmp/square.kir"
  step "compiling a bundle with the installed kiln" \
    "$prefix/bin/kiln" compile "$tmp/square.kir" -o "$tmp/square.kbundle"
  env LD_LIBRARY_PATH="$prefix/$libdir" "$tmp/run_bundle" "$tmp/square.kbundle" >"$tmp/run_bundle.log" 2>&1 ||
    { cat "$tmp/run_bundle.log" >&2; fail "examples/run_bundle.c failed on the installed runtime"; }
  # x = sin(0.7 i) for i = 0, 1, 2, squared: 0, 0.415, 0.971.
  grep -q 'result0: 0 0.415016 0.971111' "$tmp/run_bundle.log" ||
    { cat "$tmp/run_bundle.log" >&2; fail "examples/run_bundle.c printed the wrong results"; }
  for binary in "$tmp/run_bundle" "$prefix/$libdir/libkiln_rt.so"; do
    if env LD_LIBRARY_PATH="$prefix/$libdir" ldd "$binary" | grep -qi llvm; then
      fail "$binary needs LLVM; the C runtime must not"
    fi
  done
elif [ -e "$runtime_pc" ]; then
  fail "kiln-runtime.pc was installed by a build without kiln_rt"
fi

echo "[install] ok: installed into a temporary prefix, built and ran examples/installed and pkg-config programs"
