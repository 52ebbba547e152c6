"""Black-box test harness: starts the real `izin` binary on loopback ports.

Every server runs on 127.0.0.1 with port 0 and reports the port it bound;
every store lives in a pytest temporary directory.
"""
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


def izin(*args, data=None, check=True, env=None, input=None):
    """Run an izin command; returns CompletedProcess (text)."""
    argv = [IZIN, *args]
    if data is not None:
        argv += ["--data", str(data)]
    e = dict(os.environ)
    e.pop("IZIN_DATA", None)
    e.pop("IZIN_DB", None)
    if env:
        e.update(env)
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
            [IZIN, *self.args], stdout=subprocess.PIPE, stderr=self.errfile, text=True)
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
    (src/store/segment.h, format 1), in log order, read from the file."""
    import sqlite3
    out = []
    con = sqlite3.connect(f"file:{data}/izin.db?mode=ro", uri=True)
    try:
        for count, blob in con.execute("select count, data from log_segments order by first_id"):
            p = 0
            for _ in range(count):
                n = blob[p + 16]
                out.append(blob[p + 17:p + 17 + n].decode())
                p += 17 + n
            assert p == len(blob)
    finally:
        con.close()
    return out


def bulk_changes(data):
    """(changes, distinct recipients) of origin BULK: log rows and segment
    entries together."""
    import sqlite3
    con = sqlite3.connect(f"file:{data}/izin.db?mode=ro", uri=True)
    try:
        rows = [r[0] for r in con.execute(
            "select recipient from consent_log where origin = 'BULK'")]
    finally:
        con.close()
    rows += segment_recipients(data)
    return len(rows), len(set(rows))
