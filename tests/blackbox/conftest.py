"""Black-box test harness: starts the real `izin` binary on loopback ports.

Every server runs on 127.0.0.1 with port 0 and reports the port it bound;
every store lives in a pytest temporary directory.

The PostgreSQL pass (`make test-pg`, issue 15): with IZIN_TEST_PG naming a
PostgreSQL server (a superuser's URL; the Makefile starts a private one),
every izin command given `--data DIR` - but the emulator's and the demo's,
which keep SQLite - is given `--db` a fresh database of DIR's own on that
server as well (DIR stays the node's folder: upload spool, SMS log), and
the secret key in IZIN_SECRET_KEY. Tests read the store through
store_rows(), which speaks to either engine.
"""
import hashlib
import json
import os
import re
import signal
import subprocess
import time

import pytest
import requests

IZIN = os.environ.get("IZIN_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "bin", "izin")

PG = os.environ.get("IZIN_TEST_PG") or None
PG_KEY = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
_pg_made = set()


def _pg_parts():
    import urllib.parse
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(PG).query)
    return q.get("host", [""])[0], q.get("user", [""])[0]


def pg_url(data):
    """The PostgreSQL database of the store whose folder is data (made on
    first use), on the PostgreSQL pass."""
    name = "b_" + hashlib.sha1(os.path.abspath(str(data)).encode()).hexdigest()[:24]
    if name not in _pg_made:
        import psycopg2
        con = psycopg2.connect(PG)
        con.autocommit = True
        try:
            with con.cursor() as cur:
                # fresh for this run (a folder's path may come again in
                # another run on the same server)
                cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                cur.execute(f"CREATE DATABASE {name}")
        finally:
            con.close()
        _pg_made.add(name)
    host, user = _pg_parts()
    return f"postgresql:///{name}?host={host}&user={user}"


def store_argv(args):
    """args with `--db` a PostgreSQL database beside every `--data DIR` on
    the PostgreSQL pass (not for the emulator or the demo, nor when the
    test gives --db itself); args as they are otherwise."""
    args = [str(a) for a in args]
    if not PG or (args and args[0] in ("iys-sim", "demo")) or \
            any(a == "--db" or a.startswith("--db=") for a in args):
        return args
    out, i = [], 0
    while i < len(args):
        a = args[i]
        out.append(a)
        if a == "--data" and i + 1 < len(args):
            out += [args[i + 1], "--db", pg_url(args[i + 1])]
            i += 2
            continue
        if a.startswith("--data="):
            out += ["--db", pg_url(a[len("--data="):])]
        i += 1
    return out


def store_env(env=None):
    """The environment of an izin process: the secret key on the
    PostgreSQL pass (its store has no key file)."""
    e = dict(os.environ if env is None else env)
    if PG:
        e.setdefault("IZIN_SECRET_KEY", PG_KEY)
    return e


def store_rows(data, sql, params=()):
    """Every row of a query (with ? parameters) on the store of folder
    data, as tuples (a bytea or BLOB as bytes), through a connection of the
    test's own: SQLite's file, or the PostgreSQL pass's database."""
    if PG:
        import psycopg2
        con = psycopg2.connect(pg_url(data))
        try:
            with con.cursor() as cur:
                cur.execute(sql.replace("%", "%%").replace("?", "%s"), tuple(params))
                rows = cur.fetchall() if cur.description else []
            con.commit()
        finally:
            con.close()
        return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in rows]
    import sqlite3
    con = sqlite3.connect(f"file:{data}/izin.db?mode=ro", uri=True)
    try:
        return list(con.execute(sql, params))
    finally:
        con.close()


def store_exec(data, sql, params=()):
    """Run a writing statement on the store of folder data, as an operator
    with access to the database would (SQLite's file or the PostgreSQL
    pass's database); the number of rows it changed."""
    if PG:
        import psycopg2
        con = psycopg2.connect(pg_url(data))
        try:
            with con.cursor() as cur:
                cur.execute(sql.replace("%", "%%").replace("?", "%s"), tuple(params))
                n = cur.rowcount
            con.commit()
        finally:
            con.close()
        return n
    import sqlite3
    con = sqlite3.connect(f"{data}/izin.db")
    try:
        n = con.execute(sql, params).rowcount
        con.commit()
    finally:
        con.close()
    return n


def store_dump(data):
    """Everything the store of folder data holds, as bytes, for checks that
    something (a key, a password, a token) is nowhere in it in clear:
    SQLite's database file with its journal and WAL (every page, free ones
    too; not the key file), or on the PostgreSQL pass every value of every
    table of its database (text as UTF-8, bytea as it is), one a line."""
    if not PG:
        out = b""
        for name in sorted(os.listdir(str(data))):
            if name.startswith("izin.db") and name != "izin.db.key":
                with open(os.path.join(str(data), name), "rb") as f:
                    out += f.read()
        return out
    tables = [t for (t,) in store_rows(
        data, "select table_name from information_schema.tables"
              " where table_schema = 'public' and table_type = 'BASE TABLE'")]
    out = []
    for t in tables:
        for row in store_rows(data, f'select * from "{t}"'):
            for v in row:
                if v is None:
                    continue
                out.append(v if isinstance(v, bytes) else str(v).encode())
    return b"\n".join(out)


def izin(*args, data=None, check=True, env=None, input=None):
    """Run an izin command; returns CompletedProcess (text)."""
    argv = list(args)
    if data is not None:
        argv += ["--data", str(data)]
    argv = [IZIN, *store_argv(argv)]
    e = dict(os.environ)
    e.pop("IZIN_DATA", None)
    e.pop("IZIN_DB", None)
    if env:
        e.update(env)
    e = store_env(e)
    p = subprocess.run(argv, capture_output=True, text=True, env=e, input=input, timeout=60)
    if check and p.returncode != 0:
        raise AssertionError(f"izin {' '.join(args)} failed ({p.returncode}): {p.stderr}")
    return p


class Server:
    """A running `izin serve` (or demo) process."""

    def __init__(self, args, data):
        self.args = args
        self.data = data
        self.proc = None
        self.base = None
        self.stdout_lines = []

    def start(self, timeout=20):
        # stderr goes to a file: a pipe nobody reads could fill and block the server
        os.makedirs(str(self.data), exist_ok=True)
        self.errpath = os.path.join(str(self.data), f"stderr-{time.time_ns()}.log")
        self.errfile = open(self.errpath, "w")
        self.proc = subprocess.Popen(
            [IZIN, *store_argv(self.args)], stdout=subprocess.PIPE, stderr=self.errfile,
            text=True, env=store_env())
        deadline = time.time() + timeout
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                if self.proc.poll() is not None:
                    raise AssertionError("server exited: " + self.stderr())
                continue
            self.stdout_lines.append(line)
            m = re.search(r"http://127\.0\.0\.1:(\d+)", line)
            if m:
                self.base = f"http://127.0.0.1:{m.group(1)}"
                break
        assert self.base, "server did not report its port"
        for _ in range(200):
            try:
                if requests.get(self.base + "/healthz", timeout=2).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        raise AssertionError("server did not become healthy")

    def read_banner(self, until, timeout=10):
        """Read stdout lines until one contains `until` (demo banner)."""
        deadline = time.time() + timeout
        while time.time() < deadline and not any(until in l for l in self.stdout_lines):
            line = self.proc.stdout.readline()
            if not line:
                break
            self.stdout_lines.append(line)
        return "".join(self.stdout_lines)

    def stderr(self):
        with open(self.errpath, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM):
        """Stop the server; a clean stop must exit 0 with no sanitizer report."""
        graceful = self.proc and self.proc.poll() is None
        if graceful:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("server did not stop on " + str(sig))
        if self.proc:
            self.proc.stdout.close()
            self.errfile.close()
            err = self.stderr()
            assert "Sanitizer" not in err and "runtime error" not in err, err
            if graceful and sig == signal.SIGTERM:
                assert self.proc.returncode == 0, err


class Tenant:
    def __init__(self, name, key, brand):
        self.name, self.key, self.brand = name, key, brand
        self.headers = {"Authorization": "Bearer " + key}


def make_store(data, activation=None):
    """An initialized store with two accounts (acme, other), one brand each."""
    izin("init", data=data)
    extra = ["--activation-date", activation] if activation else []
    izin("account", "add", "--name", "acme", "--iys-code", "700001", *extra, data=data)
    izin("account", "add", "--name", "other", "--iys-code", "700002", data=data)
    izin("brand", "add", "--account", "acme", "--code", "700001", "--name", "ACME",
         "--keyword", "ACME", data=data)
    izin("brand", "add", "--account", "other", "--code", "700002", "--name", "Öteki", data=data)
    k1 = izin("key", "add", "--account", "acme", data=data).stdout.strip()
    k2 = izin("key", "add", "--account", "other", data=data).stdout.strip()
    return Tenant("acme", k1, 700001), Tenant("other", k2, 700002)


class Api:
    """A small client bound to one server and tenant."""

    def __init__(self, server, tenant):
        self.s, self.t = server, tenant

    def url(self, path):
        return self.s.base + path

    def post_consent(self, body, brand=None, **kw):
        b = brand or self.t.brand
        return requests.post(self.url(f"/v1/brands/{b}/consents"), json=body,
                             headers=self.t.headers, timeout=10, **kw)

    def get_consent(self, recipient, type="MESAJ", rtype=None, brand=None):
        b = brand or self.t.brand
        params = {"type": type}
        if rtype:
            params["recipientType"] = rtype
        return requests.get(self.url(f"/v1/brands/{b}/consents/{recipient}"), params=params,
                            headers=self.t.headers, timeout=10)

    def check(self, body, brand=None):
        b = brand or self.t.brand
        return requests.post(self.url(f"/v1/brands/{b}/check"), json=body,
                             headers=self.t.headers, timeout=30)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """A server with two tenants, shared by the tests of one module."""
    data = tmp_path_factory.mktemp("data")
    acme, other = make_store(data)
    srv = Server(["serve", "--listen", "127.0.0.1:0", "--data", str(data)], data).start()
    yield type("Env", (), {"server": srv, "acme": acme, "other": other,
                           "api": Api(srv, acme), "api_other": Api(srv, other), "data": data})
    srv.stop()


def wait_for(fn, timeout=10.0, step=0.05):
    """Call fn until it returns something true (returned), at most timeout
    seconds; then its last value."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(step)
    return last


def tr_now(offset_seconds=0):
    """Turkey time (UTC+3) as İYS writes it."""
    t = time.gmtime(time.time() + 3 * 3600 + offset_seconds)
    return time.strftime("%Y-%m-%d %H:%M:%S", t)


_counter = [0]


def fresh_phone():
    """A mobile number no other test uses (per process)."""
    _counter[0] += 1
    return "+90532%07d" % (os.getpid() % 1000 * 10000 + _counter[0])


def segment_recipients(data):
    """Every recipient a bulk load stored in the store's log segments
    (src/store/segment.h, format 1), in log order, read from the store."""
    out = []
    for count, blob in store_rows(data, "select count, data from log_segments order by first_id"):
        p = 0
        for _ in range(count):
            n = blob[p + 16]
            out.append(blob[p + 17:p + 17 + n].decode())
            p += 17 + n
        assert p == len(blob)
    return out


def bulk_changes(data):
    """(changes, distinct recipients) of origin BULK: log rows and segment
    entries together."""
    rows = [r[0] for r in store_rows(
        data, "select recipient from consent_log where origin = 'BULK'")]
    rows += segment_recipients(data)
    return len(rows), len(set(rows))
