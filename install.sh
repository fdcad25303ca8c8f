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

# --- run as a file from a source checkout: build it -----------------------------------------
# Piped into sh, $0 is the shell's name ("sh"), not this file: only a real *.sh file counts,
# so `curl … | sh` inside a checkout still downloads.
script_dir=
case "$0" in
  *.sh) [ -f "$0" ] && script_dir=$(cd "$(dirname "$0")" && pwd) ;;
esac
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
  bun install --frozen-lockfile >&2 || fail "bun install failed in $script_dir"
  bun run build >&2 || fail "bun run build failed in $script_dir"
  mkdir -p "$bin_dir"
  cp dist/skyclaw "$bin_dir/skyclaw.tmp" && mv "$bin_dir/skyclaw.tmp" "$bin_dir/skyclaw" \
    || fail "could not write $bin_dir/skyclaw"
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
if [ "$os" = linux ]; then
  musl=no
  if [ -f /etc/alpine-release ] || { ldd --version 2>&1 || true; } 2>/dev/null | grep -qi musl; then musl=yes; fi
  # The default x64 build needs AVX2 (Haswell or newer); baseline runs on any x64 CPU.
  avx2=yes
  grep -qw avx2 /proc/cpuinfo 2>/dev/null || avx2=no
  case "$arch-$musl-$avx2" in
    x64-no-no) target=linux-x64-baseline ;;
    x64-yes-yes) target=linux-x64-musl ;;
    x64-yes-no) fail "there is no musl build for x64 CPUs without AVX2; build from a source checkout instead" ;;
    arm64-yes-*) fail "there is no musl build for arm64; build from a source checkout instead" ;;
  esac
fi
asset=skyclaw-$target

command -v curl >/dev/null 2>&1 || fail "curl is needed"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
say "downloading $asset from $download_url"
curl -fsSL "$download_url/$asset" -o "$tmp/$asset" || fail "could not download $download_url/$asset"
curl -fsSL "$download_url/SHA256SUMS" -o "$tmp/SHA256SUMS" || fail "could not download $download_url/SHA256SUMS"

expected=$(awk -v name="$asset" '$2 == name || $2 == "*" name { print $1 }' "$tmp/SHA256SUMS")
[ -n "$expected" ] || fail "SHA256SUMS has no entry for $asset"
if command -v sha256sum >/dev/null 2>&1; then
  actual=$(sha256sum "$tmp/$asset" | awk '{ print $1 }')
elif command -v shasum >/dev/null 2>&1; then
  actual=$(shasum -a 256 "$tmp/$asset" | awk '{ print $1 }')
else
  fail "sha256sum or shasum is needed to verify the download"
fi
[ "$expected" = "$actual" ] || fail "checksum mismatch for $asset (expected $expected, got $actual); nothing was installed"

# Copied beside the old binary and tried there (/tmp may be noexec), then renamed over it:
# bin/skyclaw is never a half-copied or non-running file.
mkdir -p "$bin_dir"
new=$bin_dir/.skyclaw.new
cp "$tmp/$asset" "$new" && chmod 755 "$new" || fail "could not write $new"
version=$("$new" --version </dev/null) || { rm -f "$new"; fail "the downloaded $asset does not run on this machine; nothing was installed"; }
mv "$new" "$bin_dir/skyclaw" || fail "could not write $bin_dir/skyclaw"
say "installed $bin_dir/skyclaw ($version)"
case ":$PATH:" in *":$bin_dir:"*) ;; *) say "add it to your PATH:  export PATH=\"$bin_dir:\$PATH\"" ;; esac
