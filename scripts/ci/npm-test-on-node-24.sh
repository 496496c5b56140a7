#!/usr/bin/env bash
# Runs the README's test command (`npm test`) on Node 24 LTS, whatever Node the machine has. Node 24 comes
# from npm as the per-platform package node-<os>-<cpu>: a tarball holding bin/node, with no install script.
set -euo pipefail
cd "$(dirname "$0")/../.."

line=24
package="node-$(node -p 'process.platform + "-" + process.arch')"
prefix="${NODE_24_PREFIX:-${TMPDIR:-/tmp}/apikeys-ci-node-$line}"
npm install --no-save --no-package-lock --no-audit --no-fund --prefix "$prefix" "$package@$line" >/dev/null
bin="$prefix/node_modules/$package/bin"

version=$("$bin/node" --version)
if [[ $version != "v$line."* ]]; then
  echo "$package@$line installed Node $version, not Node $line" >&2
  exit 1
fi
# npm, vitest and its test processes all start the first `node` on PATH.
if [[ $(PATH="$bin:$PATH" npm exec --offline -- node --version) != "$version" ]]; then
  echo "npm scripts would not run on $bin/node" >&2
  exit 1
fi
echo "npm test on Node $version"
PATH="$bin:$PATH" npm test
