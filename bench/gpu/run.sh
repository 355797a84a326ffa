#!/usr/bin/env bash
# Runs kiln's Vulkan workloads and their limits on this machine's GPU, from the payload
# bench/gpu/prepare.sh made (default build/gpu-payload), in well under 5 minutes. Prints the
# GPU (nvidia-smi), the Vulkan driver and the table kiln-vulkan-bench measures: per workload
# kiln's median GPU time (timestamps around the run) and wall time per run(), the copy kernel
# over the same footprint, the hand-written GLSL W1, and W4's GFLOP/s. Copies the output to
# $OUT/gpu-bench.txt when $OUT is set. Tested on lavapipe first:
#   VK_DRIVER_FILES=/usr/share/vulkan/icd.d/lvp_icd.x86_64.json bench/gpu/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
payload=${1:-build/gpu-payload}
repeat=${REPEAT:-20}
[ -x "$payload/kiln-vulkan-bench" ] || { echo "[gpu] no payload at $payload: run bench/gpu/prepare.sh" >&2; exit 1; }
log=$(mktemp)
{
  date -u +"date: %Y-%m-%dT%H:%M:%SZ"
  if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem,power.limit,ecc.mode.current --format=csv
  fi
  # Headless machines often lack the NVIDIA Vulkan ICD manifest even where the driver is
  # installed: write one naming the driver's EGL library (GLX's where there is no EGL).
  if [ -z "${VK_DRIVER_FILES:-}" ] && command -v nvidia-smi >/dev/null; then
    found=""
    for dir in /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/share/vulkan/icd.d; do
      [ -f "$dir/nvidia_icd.json" ] && found="$dir/nvidia_icd.json"
    done
    if [ -z "$found" ]; then
      for lib in libEGL_nvidia.so.0 libGLX_nvidia.so.0; do
        if ldconfig -p 2>/dev/null | grep -q "$lib"; then
          found=$(mktemp --suffix=.json)
          printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.3.0"}}\n' "$lib" >"$found"
          break
        fi
      done
    fi
    [ -n "$found" ] && export VK_DRIVER_FILES="$found" && echo "icd: $found"
  fi
  # The carried dynamic loader and libraries, whatever C library this machine has.
  timeout 280 "$payload/lib/ld-linux-x86-64.so.2" --library-path "$payload/lib" \
    "$payload/kiln-vulkan-bench" "$payload/data" --repeat "$repeat"
} 2>&1 | tee "$log"
if [ -n "${OUT:-}" ]; then cp "$log" "$OUT/gpu-bench.txt"; fi
rm -f "$log"
