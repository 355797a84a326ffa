#!/usr/bin/env bash
# One entry point for a new machine: installs the dependencies, builds, and then
#   demo  runs the demo (traces a small model, prints its IR, runs it)
#   test  runs the whole test suite
#   build only builds
# Environment: BUILD_DIR (default build), KILN_SANITIZE=1 for an ASan+UBSan build.
set -euo pipefail
cd "$(dirname "$0")/.."

what=${1:-test}
build_dir=${BUILD_DIR:-build}
jobs=$(nproc)

bash scripts/install-deps.sh

cmake_args=(-S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKILN_WERROR=ON)
if [ "${KILN_SANITIZE:-0}" = 1 ]; then
  cmake_args+=(-DKILN_SANITIZE=ON)
  # lavapipe allocates and frees as it runs workgroups: under ASan's default quarantine the
  # 2M-workgroup test grew past 20 GiB and was killed; with a small one it passes in 14 s.
  export ASAN_OPTIONS="quarantine_size_mb=16:thread_local_quarantine_size_kb=64${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
  # The Vulkan driver's own allocations live until the process ends (tests/lsan.supp).
  export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
fi
cmake "${cmake_args[@]}" >/dev/null
cmake --build "$build_dir" -j "$jobs"

case "$what" in
  demo) "$build_dir/examples/kiln_demo" ;;
  test) ctest --test-dir "$build_dir" --output-on-failure -j "$jobs" ;;
  build) ;;
  *) echo "usage: scripts/dev.sh demo|test|build" >&2; exit 2 ;;
esac
