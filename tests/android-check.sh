#!/usr/bin/env bash
# Mobile readiness: type-checks the engine and the app for Android (aarch64-linux-android).
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
cargo check --locked --target "$TARGET" -p precious-app
echo "android check: the engine and the app type-check for $TARGET (not linked: no NDK)"
