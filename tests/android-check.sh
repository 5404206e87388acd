#!/usr/bin/env bash
# Mobile readiness: type-checks the engine for Android (aarch64-linux-android), and with
# `--app` the app too (another ~3 minutes: Tauri's Android dependency tree; CI checks the
# engine only, to stay within its budget).
#
# What this proves and what it does not: every Rust line, with the Android cfgs, compiles.
# Nothing is linked: that needs the Android NDK, which cannot be installed here (docs/mobile.md).
# The C and assembly parts (bundled SQLite, tract's arm64 kernels) are built by build scripts
# even for `cargo check`; without the NDK's clang they are compiled by Debian's aarch64 GNU
# cross compiler as a stand-in (`gcc-aarch64-linux-gnu`, installed here if missing), so their
# objects are for glibc, not bionic. They are never linked or run.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=aarch64-linux-android
rustup target add "$TARGET" >/dev/null
if ! command -v aarch64-linux-gnu-gcc >/dev/null; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get install -y -qq --no-install-recommends gcc-aarch64-linux-gnu libc6-dev-arm64-cross
fi
export CC_aarch64_linux_android=aarch64-linux-gnu-gcc
export AR_aarch64_linux_android=aarch64-linux-gnu-ar
cargo check --locked --target "$TARGET" -p precious-engine --no-default-features
if [ "${1:-}" = "--app" ]; then
  cargo check --locked --target "$TARGET" -p precious-app
  echo "android check: the engine and the app type-check for $TARGET (not linked: no NDK)"
else
  echo "android check: the engine type-checks for $TARGET (not linked: no NDK; --app: the app too)"
fi
