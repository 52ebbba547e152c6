#!/bin/sh
# A private PostgreSQL for the tests and CI: one cluster in a folder of its
# own, reachable ONLY through a unix socket in that folder (no TCP at all),
# so that tests running side by side never meet and nothing listens on the
# machine's ports.
#
#   pg.sh start DIR   initdb into DIR/data (DIR is created when missing, made
#                     0700; an existing cluster is started again as it is),
#                     start the server with its socket in DIR, create the
#                     database izin when missing and print its libpq URL
#   pg.sh url DIR     print that URL again:  postgresql:///izin?host=DIR&user=izin
#   pg.sh stop DIR    stop the server by the PID in DIR/data/postmaster.pid
#                     (fast shutdown, then SIGKILL when it hangs); DIR stays,
#                     the caller removes it
#
# Access: the socket's folder is 0700 and its owner's, and local connections
# are trusted (no password): whoever can enter DIR may connect, as the
# superuser izin. PostgreSQL refuses to run as root, so under root the
# server runs as Debian's `postgres` system user (runuser) and DIR is made
# theirs; root still enters it. fsync stays on: durability is what the
# tests check (only initdb's own final sync is skipped, --no-sync: a cluster
# made for a test run is remade, never recovered).
#
# The binaries are Debian's, found under /usr/lib/postgresql/*/bin (the
# newest), or $PG_BIN when set. scripts/deps.sh installs `postgresql`.
set -eu

usage() {
    echo "usage: pg.sh start|stop|url DIR" >&2
    exit 2
}
[ "$#" -eq 2 ] || usage
cmd=$1
dir=$2
case "$dir" in /*) ;; *) dir="$(pwd)/$dir" ;; esac
# The socket's path (DIR/.s.PGSQL.5432) must fit a sockaddr_un (107 bytes).
[ "${#dir}" -le 90 ] || { echo "pg.sh: $dir is too long for a unix socket path" >&2; exit 2; }
data="$dir/data"
url="postgresql:///izin?host=$dir&user=izin"

# Run a command as the server's user: ourselves, or `postgres` under root.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

find_bin() {
    if [ -n "${PG_BIN:-}" ]; then
        echo "$PG_BIN"
        return
    fi
    b=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$b" ] && [ -x "$b/initdb" ] || {
        echo "pg.sh: no PostgreSQL under /usr/lib/postgresql/*/bin (scripts/deps.sh installs it)" >&2
        exit 1
    }
    echo "$b"
}

case "$cmd" in
url)
    echo "$url"
    ;;
start)
    bin=$(find_bin)
    if [ -f "$data/postmaster.pid" ]; then
        echo "pg.sh: a server already runs in $dir (stop it first)" >&2
        exit 1
    fi
    mkdir -p "$dir"
    chmod 0700 "$dir"
    [ "$(id -u)" -ne 0 ] || chown postgres:postgres "$dir"
    if [ ! -f "$data/PG_VERSION" ]; then
        as_owner "$bin/initdb" -D "$data" -U izin --auth-local=trust --auth-host=reject \
            --encoding=UTF8 --locale=C.UTF-8 --no-sync --no-instructions >"$dir/initdb.log" 2>&1 || {
            cat "$dir/initdb.log" >&2
            exit 1
        }
    fi
    # -w waits until the server accepts connections. listen_addresses=''
    # turns TCP off; the socket lives in DIR alone.
    as_owner "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 30 -s \
        -o "-c listen_addresses='' -c unix_socket_directories='$dir' -c fsync=on -c synchronous_commit=on -c full_page_writes=on -c max_connections=40 -c shared_buffers=16MB" \
        start || {
        cat "$dir/server.log" >&2
        exit 1
    }
    # (a restart finds the database there)
    "$bin/psql" -h "$dir" -U izin -d izin -Atc "SELECT 1" >/dev/null 2>&1 ||
        "$bin/createdb" -h "$dir" -U izin izin
    echo "$url"
    ;;
stop)
    pidfile="$data/postmaster.pid"
    [ -f "$pidfile" ] || exit 0
    pid=$(head -n 1 "$pidfile")
    case "$pid" in '' | *[!0-9]*) echo "pg.sh: bad PID in $pidfile" >&2; exit 1 ;; esac
    # SIGINT is the fast shutdown: clients are cut off, the data is written.
    kill -INT "$pid" 2>/dev/null || exit 0
    i=0
    while kill -0 "$pid" 2>/dev/null; do
        i=$((i + 1))
        if [ "$i" -gt 150 ]; then
            echo "pg.sh: server $pid did not stop in 15 s; killed" >&2
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.1
    done
    ;;
*)
    usage
    ;;
esac
