#!/usr/bin/env bash
# GPU device check: tunes gemm 1024 and yolo-C9 briefly on an NVIDIA GPU and prints GFLOP/s and,
# where PyTorch is installed, the ratio to torch.matmul and cuDNN's conv2d timed in the same run.
#
# The GPU machine needs nvcc and a driver; it need not have Node.js: run bench/gpu-pack.sh on a
# machine that has it (same architecture, x86-64 Linux), and carry .cache/gpu-carry/ along. Then:
#   bench/gpu-check.sh [--trials N] [--explorer NAME] [--gpu-index N] [--out DIR] [--python CMD]
#   bench/gpu-check.sh --dry-run          # no GPU needed: render, nvcc-compile, anchor script
#   bench/gpu-check.sh --use-carry ...    # use the carried Node even where one is installed
set -euo pipefail
cd "$(dirname "$0")/.."
CARRY=.cache/gpu-carry
USE_CARRY=0
ARGS=()
for arg in "$@"; do
  if [ "$arg" = "--use-carry" ]; then USE_CARRY=1; else ARGS+=("$arg"); fi
done

# xz, or Python's lzma where xz is missing.
unxz_to() { # unxz_to FILE.xz DEST
  if command -v xz >/dev/null 2>&1; then xz -dc "$1" > "$2"
  else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"; fi
}

NODE=""
if [ "$USE_CARRY" = 0 ] && command -v node >/dev/null 2>&1; then NODE=$(command -v node); fi
if [ -z "$NODE" ]; then
  if [ ! -f "$CARRY/node.xz" ]; then
    echo "gpu-check: no Node.js here and no $CARRY/node.xz: run bench/gpu-pack.sh where Node is installed and carry $CARRY along" >&2
    exit 1
  fi
  NODE="$CARRY/bin/node"
  if [ ! -x "$NODE" ] || [ "$CARRY/node.xz" -nt "$NODE" ]; then
    mkdir -p "$CARRY/bin"
    unxz_to "$CARRY/node.xz" "$NODE.tmp" && chmod +x "$NODE.tmp" && mv "$NODE.tmp" "$NODE"
  fi
fi

if [ ! -f node_modules/tsx/package.json ]; then
  if [ ! -f "$CARRY/node_modules.tar.xz" ]; then
    echo "gpu-check: node_modules missing and no $CARRY/node_modules.tar.xz: run bench/gpu-pack.sh and carry $CARRY along" >&2
    exit 1
  fi
  if command -v xz >/dev/null 2>&1; then tar -xJf "$CARRY/node_modules.tar.xz"
  else python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1], "r:xz").extractall(".")' "$CARRY/node_modules.tar.xz"; fi
fi

echo "gpu-check: $("$NODE" --version) ($NODE)" >&2
exec "$NODE" --import tsx bench/gpu-check.ts "${ARGS[@]}"
