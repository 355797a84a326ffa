#!/usr/bin/env bash
# Runs one build at a time on this machine (2 cores): every developer and helper builds
# through this, e.g. scripts/build-locked.sh ninja -C build kiln_ir_tests
exec flock /tmp/kiln-build.lock "$@"
