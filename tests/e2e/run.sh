#!/usr/bin/env bash
# End-to-end tests of the real app: builds it, installs tauri-driver (npm, prebuilt), and
# runs tests/e2e/run.mjs under Xvfb. Needs the Debian packages libwebkit2gtk-4.1-dev, xvfb,
# xauth and webkit2gtk-driver (.ci/run installs them). Screenshots and figures land in
# target/e2e/. The last line printed is `e2e: N passed, M failed`.
set -euo pipefail
cd "$(dirname "$0")/../.."

# The feature set of `cargo test --workspace` (tests/all.sh), so nothing is built twice.
cargo build --locked --workspace --tests
(cd tests/e2e && npm install --no-audit --no-fund --loglevel=error)
xvfb-run --auto-servernum --server-args="-screen 0 1280x1024x24" \
  node tests/e2e/run.mjs
