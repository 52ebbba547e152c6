#!/bin/sh
# Install the Debian packages izin needs to build and test, only those that
# are missing. Called by the Makefile targets that need them; safe to run
# again. Needs root (or sudo) only when something is missing.
set -eu

pkgs="build-essential pkg-config libmicrohttpd-dev libjansson-dev libcurl4-openssl-dev
libsqlite3-dev libssl-dev libsodium-dev libcmocka-dev python3-pytest python3-requests clang
libclang-rt-14-dev curl ca-certificates"
[ "$#" -gt 0 ] && pkgs="$*"

missing=""
for p in $pkgs; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in *" installed") ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0

echo "deps: installing$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
