#!/usr/bin/env bash
# The locked dependencies install on platforms other than this machine's (macOS arm64, Linux arm64): in a
# scratch copy of the manifests and the lockfile, npm installs with its platform checks run as on the
# target (simulate-platform.cjs), and must neither fail, nor change the lockfile, nor install a package
# built for another platform.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

copy_manifests() {
  local dir=$1 workspace
  cp package.json package-lock.json "$dir/"
  # Workspace packages are part of the install: their manifests come along.
  for workspace in $(node -p '(require("./package.json").workspaces ?? []).join("\n")'); do
    for path in $workspace; do
      mkdir -p "$dir/$path"
      cp "$path/package.json" "$dir/$path/"
    done
  done
}

for target in darwin-arm64 linux-arm64; do
  os=${target%-*}
  cpu=${target#*-}
  dir="$scratch/$target"
  mkdir -p "$dir"
  copy_manifests "$dir"
  echo "npm install as on $target"
  if ! (cd "$dir" && SIMULATED_PLATFORM=$os SIMULATED_ARCH=$cpu \
    NODE_OPTIONS="--require $root/scripts/ci/simulate-platform.cjs" \
    npm install --os="$os" --cpu="$cpu" --ignore-scripts --prefer-offline --no-audit --no-fund --loglevel=error >"$dir.log" 2>&1); then
    cat "$dir.log" >&2
    echo "npm install fails on $target" >&2
    exit 1
  fi
  if ! cmp -s package-lock.json "$dir/package-lock.json"; then
    diff package-lock.json "$dir/package-lock.json" | head -40 >&2
    echo "npm install on $target changes the lockfile" >&2
    exit 1
  fi
  if [ -e "$dir/node_modules/@jongodb/memory-server-bin-linux-x64-gnu" ]; then
    echo "npm install on $target installed the linux-x64 MongoDB-wire server" >&2
    exit 1
  fi
done
echo "installs on darwin-arm64 and linux-arm64: ok"
