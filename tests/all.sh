#!/usr/bin/env bash
# Every test CI runs: the engine (unit, integration, CLI), the app's commands (tauri::test mock
# runtime), then the end-to-end suite: the real app in a real webview under Xvfb. Needs the
# Debian packages libwebkit2gtk-4.1-dev, xvfb, xauth and webkit2gtk-driver, and Node.js with
# npm (README: Set-up). `cargo test` alone runs the engine's tests without any of them.
# Prints each part's time at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

TIMES=()
part() {
  local name="$1" start=$SECONDS
  shift
  echo "--- $name"
  "$@"
  TIMES+=("$(printf '%5d s  %s' $((SECONDS - start)) "$name")")
}
trap 'echo "--- tests/all.sh part times"; printf "  %s\n" "${TIMES[@]}"' EXIT

# Every build here selects the whole workspace: cargo unifies dependency features over the
# packages selected, so a build of one package (`-p`, `cargo run -p`) recompiles ~50
# dependencies with other features (5-6 minutes of CI, measured 2026-12-07).
part "cargo test --workspace" cargo test --locked --workspace
# The real app in a real webview (its build is the one above: nothing is compiled again).
part "end-to-end" tests/e2e/run.sh
# Hostile inputs: a generated corpus (cut, empty, random, mislabelled files, decompression
# bombs, odd codings, hostile EXIF, odd names, symlink loops, unreadable files) scanned by the
# binary as child processes; fails on any crash, hang, unrecorded or unexpected outcome. The
# binaries are those the builds above made (PRECIOUS_BIN: else the bench would rebuild
# `precious` with `-p precious-engine`, and ~50 dependencies with it).
PRECIOUS_BIN="$PWD/target/debug/precious" \
  part "hostile inputs" target/debug/precious-bench reliability --only hostile \
  --write target/reliability/ci.md
# The optional ONNX Runtime backbone: parity with tract and the fallback (PyPI wheel's library).
# The optional ONNX Runtime training backend (`ort-training`, which includes `ort`): its fallback
# where the runtime has no training API (PyPI's 1.32), and the backend executed on
# onnxruntime-training 1.19.2 inside an embedded CPython, against the native solver. Last: the
# feature rebuilds the engine and what links it.
part "fetch ONNX Runtime" tests/tools/fetch_onnxruntime
part "fetch ONNX Runtime training" tests/tools/fetch_onnxruntime_training
part "ONNX Runtime tests" cargo test --locked --workspace --features precious-engine/ort-training \
  --test it -- ort_backend:: backbone:: ort_training head_training
