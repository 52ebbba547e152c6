#!/usr/bin/python3
"""Durable consent writes and single checks a second over HTTP, SQLite and
PostgreSQL side by side on the same work, and 1, 2 and 3 `izin serve` nodes
on one PostgreSQL (issue 15; figures in docs/SCALING.md).

Every configuration gets a fresh store with one account and brand; wrk
(Debian's) drives it on loopback for a fixed time: first POST
/v1/brands/{b}/consents with a new recipient each (each answered 201 only
once durable), then GET /v1/brands/{b}/check/{recipient} over the written
recipients. With several nodes one wrk runs against each node at once and
the figures are summed (the latency is the worst node's). A private
PostgreSQL is started for the run (scripts/pg.sh, a unix socket in a
temporary folder) and stopped at the end.

    bench/cluster.py --izin build/rel/izin [--seconds 5] [--connections 32]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import requests

KEY = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
BRAND = 700001

WRITE_LUA = r"""
local n = 0
local id = 0
local token = os.getenv("IZ_KEY")
local brand = os.getenv("IZ_BRAND")
local base = tonumber(os.getenv("IZ_BASE"))
setup = function(thread)
  thread:set("id", base + __next_id)
  __next_id = __next_id + 1
end
__next_id = 0
request = function()
  n = n + 1
  local r = string.format("+9053%02d%06d", id % 100, n)
  local body = '{"recipient":"' .. r .. '","type":"MESAJ","status":"ONAY",' ..
               '"source":"HS_WEB","consentDate":"2026-01-05 10:00:00"}'
  return wrk.format("POST", "/v1/brands/" .. brand .. "/consents",
                    {["Authorization"] = "Bearer " .. token,
                     ["Content-Type"] = "application/json"}, body)
end
response = function(status, headers, body)
  if status ~= 201 then bad = (bad or 0) + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("P99_US %d\n", latency:percentile(99)))
end
"""

CHECK_LUA = r"""
local token = os.getenv("IZ_KEY")
local brand = os.getenv("IZ_BRAND")
local seed = tonumber(os.getenv("IZ_BASE"))
math.randomseed(seed)
request = function()
  local r = string.format("+9053%02d%06d", math.random(0, 3), math.random(1, 2000))
  return wrk.format("GET", "/v1/brands/" .. brand .. "/check/" .. r .. "?type=MESAJ",
                    {["Authorization"] = "Bearer " .. token})
end
done = function(summary, latency, requests)
  io.write(string.format("P99_US %d\n", latency:percentile(99)))
end
"""


def run(cmd, env=None, check=True):
    e = dict(os.environ)
    if env:
        e.update(env)
    p = subprocess.run(cmd, capture_output=True, text=True, env=e)
    if check and p.returncode != 0:
        sys.exit(f"{' '.join(cmd)}: {p.stderr}")
    return p


def psql(url, sql):
    run(["psql", "-q", url, "-c", sql])


class Node:
    def __init__(self, izin, args, data):
        os.makedirs(data, exist_ok=True)
        self.err = open(os.path.join(data, "stderr.log"), "w")
        self.proc = subprocess.Popen([izin, "serve", "--listen", "127.0.0.1:0", *args],
                                     stdout=subprocess.PIPE, stderr=self.err, text=True,
                                     env={**os.environ, "IZIN_SECRET_KEY": KEY})
        self.base = None
        deadline = time.time() + 30
        while time.time() < deadline and not self.base:
            line = self.proc.stdout.readline()
            m = re.search(r"http://127\.0\.0\.1:(\d+)", line or "")
            if m:
                self.base = f"http://127.0.0.1:{m.group(1)}"
        if not self.base:
            sys.exit("a node did not start: see " + data)
        for _ in range(200):
            try:
                if requests.get(self.base + "/healthz", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.05)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.err.close()


def wrk_all(nodes, lua, seconds, conns, key, tmp, base=0):
    """One wrk a node at once: (requests a second summed, worst p99 ms,
    non-2xx answers). base moves the writers' recipients (IZ_BASE): a
    later run with another base writes new ones."""
    script = os.path.join(tmp, "s.lua")
    with open(script, "w") as f:
        f.write(lua)
    per = max(1, conns // len(nodes))
    procs = []
    for i, nd in enumerate(nodes):
        env = {**os.environ, "IZ_KEY": key, "IZ_BRAND": str(BRAND), "IZ_BASE": str(base + i * 8)}
        procs.append(subprocess.Popen(
            ["wrk", "-t", "2", "-c", str(per), "-d", f"{seconds}s", "-s", script, nd.base],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env))
    rps, p99, bad = 0.0, 0.0, 0
    for p in procs:
        out, err = p.communicate(timeout=seconds + 60)
        m = re.search(r"Requests/sec:\s+([\d.]+)", out)
        if not m:
            sys.exit("wrk: " + out + err)
        rps += float(m.group(1))
        m = re.search(r"P99_US (\d+)", out)
        p99 = max(p99, int(m.group(1)) / 1000.0 if m else 0)
        m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        bad += int(m.group(1)) if m else 0
    return rps, p99, bad


def setup_store(izin, loc_args):
    env = {"IZIN_SECRET_KEY": KEY}
    run([izin, "init", *loc_args], env)
    run([izin, "account", "add", "--name", "acme", "--iys-code", "700001", *loc_args], env)
    run([izin, "brand", "add", "--account", "acme", "--code", str(BRAND), "--name", "ACME",
         *loc_args], env)
    return run([izin, "key", "add", "--account", "acme", *loc_args], env).stdout.strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--izin", default="build/rel/izin")
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=32)
    a = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench/cluster.py needs wrk (apt-get install wrk)")
    izin = os.path.abspath(a.izin)
    tmp = tempfile.mkdtemp(prefix="izin-cluster-bench-")
    pgdir = tempfile.mkdtemp(prefix="izpg-", dir="/tmp")
    url = run(["sh", "scripts/pg.sh", "start", pgdir]).stdout.strip().splitlines()[-1]
    rows = []
    try:
        configs = [("SQLite", 1), ("PostgreSQL", 1), ("PostgreSQL", 2), ("PostgreSQL", 3)]
        for k, (engine, n) in enumerate(configs):
            if engine == "SQLite":
                data = os.path.join(tmp, f"c{k}")
                loc = ["--data", data]
                nodes_args = [["--data", data]]
            else:
                db = f"bench{k}"
                psql(url, f"CREATE DATABASE {db}")
                dburl = url.replace("/izin?", f"/{db}?")
                loc = ["--db", dburl, "--data", os.path.join(tmp, f"c{k}-setup")]
                nodes_args = [["--db", dburl, "--data", os.path.join(tmp, f"c{k}-n{i}")]
                              for i in range(n)]
            key = setup_store(izin, loc)
            nodes = [Node(izin, args, args[-1]) for args in nodes_args]
            try:
                w = wrk_all(nodes, WRITE_LUA, a.seconds, a.connections, key, tmp)
                c = wrk_all(nodes, CHECK_LUA, a.seconds, a.connections, key, tmp)
            finally:
                for nd in nodes:
                    nd.stop()
            rows.append((engine, n, w, c))
            print(f"  {engine} x{n}: writes {w[0]:.0f}/s p99 {w[1]:.1f} ms (bad {w[2]}),"
                  f" checks {c[0]:.0f}/s p99 {c[1]:.1f} ms (bad {c[2]})", flush=True)
    finally:
        run(["sh", "scripts/pg.sh", "stop", pgdir], check=False)
        shutil.rmtree(pgdir, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
    base_w, base_c = rows[0][2][0], rows[0][3][0]
    print(f"\nHTTP over loopback, {a.connections} connections in all, {a.seconds} s a figure,"
          f" {os.cpu_count()} cores for everything (nodes, PostgreSQL, wrk)")
    print(f"{'store':<12} {'nodes':>5} {'writes/s':>10} {'p99 ms':>8} {'x SQLite':>9}"
          f" {'checks/s':>10} {'p99 ms':>8} {'x SQLite':>9}")
    for engine, n, w, c in rows:
        print(f"{engine:<12} {n:>5} {w[0]:>10.0f} {w[1]:>8.1f} {w[0] / base_w:>9.2f}"
              f" {c[0]:>10.0f} {c[1]:>8.1f} {c[0] / base_c:>9.2f}")
    if any(w[2] or c[2] for _, _, w, c in rows):
        sys.exit("some requests were not answered 2xx")


if __name__ == "__main__":
    main()
