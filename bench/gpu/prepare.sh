#!/usr/bin/env bash
# Prepares, on the build machine, everything bench/gpu/run.sh needs on a GPU machine that has no
# LLVM, no Debian packages and no network: kiln-vulkan-bench (the runtime alone) with the
# shared libraries it loads, this machine's dynamic loader (so the binary runs whatever C
# library the GPU machine has), the Vulkan loader, and W1-W5 compiled for kiln's portable
# Vulkan profile plus the hand-written GLSL kernels. A few MiB in all.
#   usage: bench/gpu/prepare.sh [BUILD_DIR] [PAYLOAD_DIR]   (defaults: build, BUILD_DIR/gpu-payload)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
payload=${2:-$build/gpu-payload}
cmake --build "$build" --target kiln-vulkan-bench kiln_bench_write_workloads >/dev/null
rm -rf "$payload"
mkdir -p "$payload/lib"
strip -o "$payload/kiln-vulkan-bench" "$build/bench/kiln-vulkan-bench"
# Compiling for the portable profile needs no device.
KILN_NO_DISK_CACHE=1 "$build/bench/kiln_bench_write_workloads" "$payload/data" --vulkan >/dev/null
ldd "$build/bench/kiln-vulkan-bench" | awk '/=> \// {print $3} /^[ \t]*\/lib/ {print $1}' |
  while read -r lib; do cp -L "$lib" "$payload/lib/"; done
cp -L /usr/lib/x86_64-linux-gnu/libvulkan.so.1 "$payload/lib/"
du -sh "$payload"
