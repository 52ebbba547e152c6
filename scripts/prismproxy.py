"""Stoplight Prism as a validating proxy, shared by scripts/prism-check.py
(the İYS emulator against İYS's document, `make conformance`) and
tests/blackbox/test_openapi.py (izin serve against data/openapi.json,
`make test`).

Prism is pinned in tests/openapi/package.json and package-lock.json and
installed from the npm registry with `npm ci` (scripts/deps.sh does it for
`make test`; ensure_prism() does it when it is missing). `prism proxy SPEC
UPSTREAM` forwards every request to UPSTREAM and, with `--errors false`,
passes the answer on unchanged, adding a `sl-violations` header (JSON) that
lists where the request or the answer departs from SPEC.

Processes started here are stopped by their PID only (Procs.stop_all).
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRISM_DIR = os.path.join(ROOT, "tests", "openapi")


def prism_bin(prism_dir=PRISM_DIR):
    return os.path.join(prism_dir, "node_modules", ".bin", "prism")


def ensure_prism(prism_dir=PRISM_DIR):
    """The prism executable, installed with `npm ci` (the lock file's exact
    versions) when it is not there yet. Raises RuntimeError when it cannot
    be installed."""
    binp = prism_bin(prism_dir)
    if os.path.exists(binp):
        return binp
    npm = shutil.which("npm")
    if not npm:
        raise RuntimeError("npm is missing (apt-get install npm; scripts/deps.sh --openapi)")
    r = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=prism_dir, timeout=600)
    if r.returncode != 0 or not os.path.exists(binp):
        raise RuntimeError(f"npm ci in {prism_dir} failed")
    return binp


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not come up within {timeout} s")


class Procs:
    """The processes a caller started, stopped by PID only."""

    def __init__(self):
        self.procs = []

    def start(self, argv, log):
        f = open(log, "w")
        p = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.procs.append((p, f))
        return p

    def stop_all(self):
        for p, f in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.kill(p.pid, signal.SIGTERM)
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.kill(p.pid, signal.SIGKILL)
                    p.wait(timeout=10)
                except ProcessLookupError:
                    pass
            f.close()
        self.procs = []


def start_proxy(procs, binp, spec, upstream, log, timeout=180):
    """Start `prism proxy spec upstream` on a free loopback port (with
    procs, so that it is stopped with them); returns its base URL once it
    listens."""
    port = free_port()
    procs.start([binp, "proxy", "-h", "127.0.0.1", "-p", str(port), "--errors", "false",
                 spec, upstream], log)

    def up():
        try:
            with open(log, encoding="utf-8", errors="replace") as f:
                return "Prism is listening" in f.read()
        except OSError:
            return False
    wait_for(up, timeout, "Prism")
    return f"http://127.0.0.1:{port}"


def violations(resp):
    """Prism's findings on one exchange: (request violations, response
    violations), each a list of {location, severity, code, message}."""
    raw = resp.headers.get("sl-violations")
    if not raw:
        return [], []
    try:
        vs = json.loads(raw)
    except ValueError:
        return [{"message": raw}], []
    req = [v for v in vs if (v.get("location") or [""])[0] == "request"]
    res = [v for v in vs if (v.get("location") or [""])[0] != "request"]
    return req, res
