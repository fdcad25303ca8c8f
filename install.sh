#!/bin/sh
# Skyclaw installer. Short on purpose: read it before you pipe it into a shell.
#
#   curl -fsSL <release>/install.sh | sh     download the binary for this machine, verify its
#                                            SHA-256 against SHA256SUMS, install it
#   sh install.sh                            from a source checkout: build from source instead
#                                            (installs the pinned Bun from npm when missing)
#
# SKYCLAW_INSTALL        install root (default: $HOME/.skyclaw); the binary goes to $SKYCLAW_INSTALL/bin
# SKYCLAW_DOWNLOAD_URL   where releases live (a folder holding skyclaw-<os>-<arch> and SHA256SUMS)
set -eu

install_root=${SKYCLAW_INSTALL:-$HOME/.skyclaw}
bin_dir=$install_root/bin
download_url=${SKYCLAW_DOWNLOAD_URL:-}

fail() { echo "skyclaw install: $*" >&2; exit 1; }
say() { echo "skyclaw install: $*" >&2; }

# --- from a source checkout: build it -------------------------------------------------------
script_dir=$(cd "$(dirname "$0")" 2>/dev/null && pwd || echo "")
if [ -n "$script_dir" ] && [ -f "$script_dir/package.json" ] && [ -f "$script_dir/src/cli/main.ts" ]; then
  cd "$script_dir"
  bun_version=$(sed -n 's/.*"packageManager": *"bun@\([0-9.]*\)".*/\1/p' package.json)
  [ -n "$bun_version" ] || fail "package.json does not pin a Bun version (packageManager)"
  if ! command -v bun >/dev/null 2>&1 || [ "$(bun --version)" != "$bun_version" ]; then
    command -v npm >/dev/null 2>&1 || fail "Bun $bun_version is needed to build from source, and npm to install it"
    say "installing Bun $bun_version from npm into $install_root/tools"
    npm install --silent --no-fund --no-audit --prefix "$install_root/tools" "bun@$bun_version" >&2 \
      || fail "npm could not install bun@$bun_version"
    PATH=$install_root/tools/node_modules/.bin:$PATH
    export PATH
  fi
  bun install --frozen-lockfile >&2
  bun run build >&2
  mkdir -p "$bin_dir"
  cp dist/skyclaw "$bin_dir/skyclaw.tmp" && mv "$bin_dir/skyclaw.tmp" "$bin_dir/skyclaw"
  say "built and installed $bin_dir/skyclaw ($("$bin_dir/skyclaw" --version))"
  case ":$PATH:" in *":$bin_dir:"*) ;; *) say "add it to your PATH:  export PATH=\"$bin_dir:\$PATH\"" ;; esac
  exit 0
fi

# --- from a release: download, verify, install ----------------------------------------------
[ -n "$download_url" ] || fail "set SKYCLAW_DOWNLOAD_URL to the release folder (there is no public release location yet), or run install.sh from a source checkout"
os=$(uname -s)
arch=$(uname -m)
case "$os" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  MINGW* | MSYS* | CYGWIN*) fail "on Windows, download skyclaw-windows-x64.exe from $download_url" ;;
  *) fail "unsupported operating system: $os" ;;
esac
case "$arch" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) fail "unsupported CPU architecture: $arch" ;;
esac
# An x64 shell under Rosetta on Apple silicon: the native binary is the right one.
if [ "$os" = darwin ] && [ "$arch" = x64 ] && [ "$(sysctl -n sysctl.proc_translated 2>/dev/null || echo 0)" = 1 ]; then
  arch=arm64
fi
target=$os-$arch
if [ "$os" = linux ] && [ "$arch" = x64 ]; then
  if [ -f /etc/alpine-release ] || (ldd --version 2>&1 || true) | grep -qi musl; then
    target=linux-x64-musl
  elif ! grep -qw avx2 /proc/cpuinfo 2>/dev/null; then
    target=linux-x64-baseline
  fi
fi
asset=skyclaw-$target

command -v curl >/dev/null 2>&1 || fail "curl is needed"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
say "downloading $asset from $download_url"
curl -fsSL "$download_url/$asset" -o "$tmp/$asset" || fail "could not download $download_url/$asset"
curl -fsSL "$download_url/SHA256SUMS" -o "$tmp/SHA256SUMS" || fail "could not download $download_url/SHA256SUMS"

expected=$(awk -v name="$asset" '$2 == name || $2 == "*" name { print $1 }' "$tmp/SHA256SUMS")
[ -n "$expected" ] || fail "SHA256SUMS has no entry for $asset"
if command -v sha256sum >/dev/null 2>&1; then
  actual=$(sha256sum "$tmp/$asset" | awk '{ print $1 }')
else
  actual=$(shasum -a 256 "$tmp/$asset" | awk '{ print $1 }')
fi
[ "$expected" = "$actual" ] || fail "checksum mismatch for $asset (expected $expected, got $actual); nothing was installed"

mkdir -p "$bin_dir"
chmod 755 "$tmp/$asset"
mv "$tmp/$asset" "$bin_dir/skyclaw"
say "installed $bin_dir/skyclaw ($("$bin_dir/skyclaw" --version))"
case ":$PATH:" in *":$bin_dir:"*) ;; *) say "add it to your PATH:  export PATH=\"$bin_dir:\$PATH\"" ;; esac
