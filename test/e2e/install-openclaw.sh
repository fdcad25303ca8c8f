#!/usr/bin/env bash
# Installs the real OpenClaw CLI for the end-to-end tests, outside the repo, and prints the path
# of a wrapper executable that runs it (stdout holds only that path; progress goes to stderr).
#
# OpenClaw needs Node >= 24.16 (or >= 26.1) while CI machines may have an older Node, so Node 26
# comes from npm too (the node-<os>-<arch> package ships the binary). Both are pinned so every
# run tests the same CLI; override with SKYCLAW_E2E_OPENCLAW_VERSION / SKYCLAW_E2E_NODE_VERSION.
# Idempotent: a second run finds the wrapper of the same versions and only prints its path.
#
#   SKYCLAW_E2E_CACHE   where to install (default ~/.cache/skyclaw-e2e)
set -euo pipefail

openclaw_version=${SKYCLAW_E2E_OPENCLAW_VERSION:-2026.9.6}
node_version=${SKYCLAW_E2E_NODE_VERSION:-26.10.0}
cache=${SKYCLAW_E2E_CACHE:-$HOME/.cache/skyclaw-e2e}

fail() {
  echo "install-openclaw: $*" >&2
  exit 1
}

case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  *) fail "no Node package for $(uname -s); only Linux and macOS are supported" ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) fail "no Node package for CPU $(uname -m); only x64 and arm64 are supported" ;;
esac

node_dir="$cache/node-$node_version"
node_bin="$node_dir/node_modules/node-$os-$arch/bin/node"
openclaw_dir="$cache/openclaw-$openclaw_version"
openclaw_entry="$openclaw_dir/node_modules/openclaw/openclaw.mjs"
wrapper="$cache/bin/openclaw-$openclaw_version-node-$node_version"

# The wrapper is written last, so its presence means both installs completed.
if [ -x "$wrapper" ] && [ -x "$node_bin" ] && [ -f "$openclaw_entry" ]; then
  echo "$wrapper"
  exit 0
fi

command -v npm >/dev/null 2>&1 || fail "npm is not installed; it is needed to fetch node-$os-$arch@$node_version and openclaw@$openclaw_version"
mkdir -p "$cache/bin"

# Two test runs may install at once; the second waits for the first.
exec 9>"$cache/install.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi
if [ -x "$wrapper" ]; then
  echo "$wrapper"
  exit 0
fi

npm_install() {
  local prefix=$1 spec=$2
  echo "install-openclaw: npm install $spec into $prefix" >&2
  mkdir -p "$prefix"
  # Run from the prefix so a folder named like the package in the caller's directory is never
  # taken for a local package.
  (cd "$prefix" && npm install --no-fund --no-audit --no-save --prefix "$prefix" "$spec" >&2) ||
    fail "npm install $spec failed (see npm's output above)"
}

[ -x "$node_bin" ] || npm_install "$node_dir" "node-$os-$arch@$node_version"
[ -x "$node_bin" ] || fail "node-$os-$arch@$node_version installed but $node_bin is missing"
"$node_bin" --version >/dev/null 2>&1 || fail "$node_bin does not run on this machine"

# OpenClaw's install scripts refuse an old Node, and they run the `node` first on PATH.
if [ ! -f "$openclaw_entry" ]; then
  PATH="$(dirname "$node_bin"):$PATH" npm_install "$openclaw_dir" "openclaw@$openclaw_version"
fi
[ -f "$openclaw_entry" ] || fail "openclaw@$openclaw_version installed but $openclaw_entry is missing"

quote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
tmp="$wrapper.tmp.$$"
{
  echo '#!/bin/sh'
  echo "# OpenClaw $openclaw_version under Node $node_version, written by test/e2e/install-openclaw.sh."
  echo "exec $(quote "$node_bin") $(quote "$openclaw_entry") \"\$@\""
} >"$tmp"
chmod +x "$tmp"
"$tmp" --version >&2 || { rm -f "$tmp"; fail "the installed OpenClaw CLI does not start: $tmp --version failed"; }
mv "$tmp" "$wrapper"
echo "$wrapper"
