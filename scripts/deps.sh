#!/bin/sh
# Install the Debian packages izin needs to build and test, only those that
# are missing. Called by the Makefile targets that need them; safe to run
# again. Needs root (or sudo) only when something is missing.
#
#   deps.sh              the build and the unit, fuzz-replay and black-box tests (Kannel
#                        for the end-to-end SMS test: Debian's package also installs its
#                        init script, which starts a bearerbox on the default ports on a
#                        booted system; the tests start their own on free loopback ports;
#                        PostgreSQL and libpq for the PostgreSQL driver and its tests:
#                        Debian's package starts a cluster of its own on a booted system,
#                        the tests start a private one with scripts/pg.sh)
#   deps.sh PKG...       these Debian packages (make bench)
#   deps.sh --browser    the browser tests: Debian's Chromium, Node.js and npm
#                        when there is no node at all, and playwright-core from
#                        the npm registry into tests/browser/node_modules, as
#                        tests/browser/package-lock.json pins it (no browser is
#                        downloaded: the tests drive /usr/bin/chromium)
#   deps.sh --fuzz       `make fuzz`: clang and its libFuzzer and sanitizer runtimes
#                        (libclang-rt-14-dev); the corpus replay of `make test` needs
#                        neither
#   deps.sh --openapi    the API document's check (tests/blackbox/test_openapi.py):
#                        Node.js and npm when there is no node at all, and Stoplight
#                        Prism from the npm registry into tests/openapi/node_modules,
#                        as tests/openapi/package-lock.json pins it
set -eu

pkgs="build-essential pkg-config libmicrohttpd-dev libjansson-dev libcurl4-openssl-dev
libsqlite3-dev libssl-dev libsodium-dev libzip-dev libexpat1-dev libcmocka-dev python3-pytest python3-requests python3-psycopg2
libpq-dev postgresql
curl ca-certificates kannel"
node_dir=""
if [ "${1:-}" = "--browser" ] || [ "${1:-}" = "--openapi" ]; then
    pkgs=""
    if [ "$1" = "--browser" ]; then
        pkgs="chromium"
        node_dir=browser
    else
        node_dir=openapi
    fi
    command -v node >/dev/null 2>&1 || pkgs="$pkgs nodejs"
    command -v npm >/dev/null 2>&1 || pkgs="$pkgs npm"
elif [ "${1:-}" = "--fuzz" ]; then
    pkgs="clang libclang-rt-14-dev"
elif [ "$#" -gt 0 ]; then
    pkgs="$*"
fi

missing=""
for p in $pkgs; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in *" installed") ;; *) missing="$missing $p" ;; esac
done
if [ -n "$missing" ]; then
    echo "deps: installing$missing" >&2
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -qq --no-install-recommends $missing
fi

[ -n "$node_dir" ] || exit 0
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)'; then
    echo "deps: tests/$node_dir needs Node.js 18 or later; found $(node --version)" >&2
    exit 1
fi
# npm ci installs exactly the lock file's versions; again only when the lock
# file is newer than what node_modules holds.
dir="$(cd "$(dirname "$0")/../tests/$node_dir" && pwd)"
stamp="$dir/node_modules/.package-lock.json"
if [ ! -f "$stamp" ] || [ "$dir/package-lock.json" -nt "$stamp" ]; then
    echo "deps: npm ci in tests/$node_dir" >&2
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
fi
