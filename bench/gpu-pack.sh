#!/usr/bin/env bash
# Prepares what bench/gpu-check.sh needs on a GPU machine without Node.js: an xz-compressed copy
# of this machine's Node binary and the production dependencies (npm ls --omit=dev), in
# .cache/gpu-carry/ (ignored by git; about 30 MiB). Run from any folder; needs node, npm, xz, tar.
set -euo pipefail
cd "$(dirname "$0")/.."
CARRY=.cache/gpu-carry
mkdir -p "$CARRY"
NODE=$(command -v node)
if [ ! -f "$CARRY/node.xz" ] || [ "$NODE" -nt "$CARRY/node.xz" ]; then
  echo "compressing $NODE ($("$NODE" --version)) ..." >&2
  xz -T2 -c "$NODE" > "$CARRY/node.xz.tmp" && mv "$CARRY/node.xz.tmp" "$CARRY/node.xz"
fi
# Production packages only, as paths relative to the repository (node_modules/...).
npm ls --omit=dev --all --parseable 2>/dev/null | tail -n +2 | sed "s|^$PWD/||" | sort -u > "$CARRY/packages.txt"
grep -q '^node_modules/tsx$' "$CARRY/packages.txt" || { echo "gpu-pack: tsx is not a production dependency here" >&2; exit 1; }
tar -cf - -T "$CARRY/packages.txt" | xz -T2 -c > "$CARRY/node_modules.tar.xz.tmp"
mv "$CARRY/node_modules.tar.xz.tmp" "$CARRY/node_modules.tar.xz"
ls -l "$CARRY" >&2
echo "carry $CARRY with the repository (e.g. the device runner's carry: [\"$CARRY\"]), then run bench/gpu-check.sh" >&2
