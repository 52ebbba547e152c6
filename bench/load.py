#!/usr/bin/python3
"""The load figures of issue 16 on one `izin serve` (SQLite), with wrk
(Debian's) on loopback, each for a fixed time, beside the targets and the
store's own group-commit ceiling measured in the same run:

  - durable consent writes: POST /v1/brands/{b}/consents, a new recipient
    each, every 201 only once on disk (target >= 10,000/s, p99 < 20 ms);
  - single checks: GET /v1/brands/{b}/check/{recipient} (target >= 100,000/s),
    one request at a time on each connection, then 8 pipelined;
  - JSON checks of 1000 recipients: POST /v1/brands/{b}/check (recipients a
    second through it);
  - mixed: 9 single checks to 1 write on every connection;
  - the ceiling: bench_writes (the domain layer's durable writes from 32
    threads, no HTTP) - what the HTTP write figure can at best approach;
  - the checks' ceiling: the same wrk against bench/null_http (a server that
    only writes a fixed answer), right after each checks run - what any
    server reaches on this machine with wrk beside it (pipelined too).

The checks ask for recipients of the first write run (written first),
some there and some not. Each figure is run --runs times, the figures in
turn, and the median run is shown with every run's rate beside it (this
machine's speed varies from minute to minute), with the CPU time a request
took in izin's process and in wrk's: on one machine both share the cores.

    bench/load.py --izin build/rel/izin --bench-writes build/rel/bench/bench_writes
                  [--null-http build/rel/bench/null_http]
                  [--seconds 5] [--connections 32] [--runs 3] [--threads N]
"""
import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster import CHECK_LUA, WRITE_LUA, Node, run, setup_store, wrk_all  # noqa: E402

JSON_CHECK_LUA = r"""
local token = os.getenv("IZ_KEY")
local brand = os.getenv("IZ_BRAND")
local parts = {}
for i = 1, 1000 do
  parts[i] = string.format('"+9053%02d%06d"', (i - 1) % 4, (i * 7) % 2000 + 1)
end
local body = '{"type":"MESAJ","recipients":[' .. table.concat(parts, ",") .. ']}'
request = function()
  return wrk.format("POST", "/v1/brands/" .. brand .. "/check",
                    {["Authorization"] = "Bearer " .. token,
                     ["Content-Type"] = "application/json"}, body)
end
done = function(summary, latency, requests)
  io.write(string.format("P99_US %d\n", latency:percentile(99)))
end
"""

# The same single checks, 8 requests written at once on each connection
# (HTTP/1.1 pipelining: a filter that checks a campaign's recipients one
# by one can do so on its keep-alive connections). izin answers each as
# it would alone - one request parsed, judged and answered at a time - but
# wrk spends a third of the CPU a request, which on this machine it takes
# from the same two cores.
PIPE_CHECK_LUA = CHECK_LUA + r"""
local one = request
request = function()
  local parts = {}
  for i = 1, 8 do
    parts[i] = one()
  end
  return table.concat(parts)
end
"""

MIXED_LUA = r"""
local token = os.getenv("IZ_KEY")
local brand = os.getenv("IZ_BRAND")
local base = tonumber(os.getenv("IZ_BASE"))
local n = 0
local id = 0
setup = function(thread)
  thread:set("id", base + __next_id)
  __next_id = __next_id + 1
end
__next_id = 0
request = function()
  n = n + 1
  if n % 10 == 0 then
    local r = string.format("+9054%02d%06d", id % 100, n)
    local body = '{"recipient":"' .. r .. '","type":"MESAJ","status":"ONAY",' ..
                 '"source":"HS_WEB","consentDate":"2026-01-05 10:00:00"}'
    return wrk.format("POST", "/v1/brands/" .. brand .. "/consents",
                      {["Authorization"] = "Bearer " .. token,
                       ["Content-Type"] = "application/json"}, body)
  end
  local r = string.format("+9053%02d%06d", math.random(0, 3), math.random(1, 2000))
  return wrk.format("GET", "/v1/brands/" .. brand .. "/check/" .. r .. "?type=MESAJ",
                    {["Authorization"] = "Bearer " .. token})
end
done = function(summary, latency, requests)
  io.write(string.format("P99_US %d\n", latency:percentile(99)))
end
"""


def cpu_s(pid):
    """User + system CPU seconds of process pid so far (all its threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu_s():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def measured(node, lua, a, key, tmp, base=0):
    """One wrk run: (a second, p99 ms, non-2xx, izin CPU us a request, wrk
    CPU us a request)."""
    i0, w0 = cpu_s(node.proc.pid), children_cpu_s()
    rps, p99, bad = wrk_all([node], lua, a.seconds, a.connections, key, tmp, base)
    i1, w1 = cpu_s(node.proc.pid), children_cpu_s()
    n = max(1.0, rps * a.seconds)
    return rps, p99, bad, (i1 - i0) / n * 1e6, (w1 - w0) / n * 1e6


class NullNode:
    """bench/null_http: the machine's ceiling for the checks' wrk."""

    def __init__(self, path):
        self.proc = subprocess.Popen([path, "--seconds", "600"], stdout=subprocess.PIPE,
                                     text=True)
        port = int(self.proc.stdout.readline().split()[1])
        self.base = f"http://127.0.0.1:{port}"

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def median_run(runs):
    """The run with the median rate (its own p99 and CPU figures), and the
    non-2xx answers of all runs."""
    order = sorted(runs, key=lambda r: r[0])
    m = order[len(order) // 2]
    return (m[0], m[1], sum(r[2] for r in runs), m[3], m[4], [r[0] for r in runs])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--izin", default="build/rel/izin")
    ap.add_argument("--bench-writes", default="build/rel/bench/bench_writes")
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--null-http", default="build/rel/bench/null_http")
    ap.add_argument("--threads", type=int, default=0,
                    help="izin serve --threads (default: izin's own, 32)")
    a = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench/load.py needs wrk (apt-get install wrk)")
    izin = os.path.abspath(a.izin)
    tmp = tempfile.mkdtemp(prefix="izin-load-bench-")
    try:
        data = os.path.join(tmp, "d")
        key = setup_store(izin, ["--data", data])
        node = Node(izin, ["--data", data] + (["--threads", str(a.threads)] if a.threads else []),
                    data)
        try:
            # Each figure a.runs times, the figures in turn (a slow spell of
            # the machine spreads over all of them); each write run new
            # recipients (a repeat is no write).
            # The ceiling (null_http) right after each run of the checks:
            # the machine's speed then is the same.
            null = NullNode(os.path.abspath(a.null_http)) if os.path.exists(a.null_http) else None
            runs = {"w": [], "c": [], "n": [], "p": [], "q": [], "j": [], "m": []}
            try:
                for r in range(a.runs):
                    runs["w"].append(measured(node, WRITE_LUA, a, key, tmp, base=16 * r))
                    runs["c"].append(measured(node, CHECK_LUA, a, key, tmp))
                    if null:
                        runs["n"].append(measured(null, CHECK_LUA, a, key, tmp))
                    runs["p"].append(measured(node, PIPE_CHECK_LUA, a, key, tmp))
                    if null:
                        runs["q"].append(measured(null, PIPE_CHECK_LUA, a, key, tmp))
                    runs["j"].append(measured(node, JSON_CHECK_LUA, a, key, tmp))
                    runs["m"].append(measured(node, MIXED_LUA, a, key, tmp, base=16 * r))
            finally:
                if null:
                    null.stop()
        finally:
            node.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    w, c, p, j, m = (median_run(runs[k]) for k in "wcpjm")
    ceil = median_run(runs["n"]) if runs["n"] else None
    pceil = median_run(runs["q"]) if runs["q"] else None
    ceiling = None
    if os.path.exists(a.bench_writes):
        out = run([a.bench_writes], check=False).stdout  # (exit 1: its own target missed)
        mm = re.search(r"best of the above\s+(\d+)", out)
        ceiling = float(mm.group(1)) if mm else None
    threads = f", {a.threads} server threads" if a.threads else ""
    print(f"\nload on one izin serve (SQLite){threads},"
          f" wrk with {a.connections} connections on loopback,"
          f" {a.seconds} s a run, the median of {a.runs} runs a figure,"
          f" {os.cpu_count()} cores for izin and wrk together")
    print(f"{'figure':<34} {'a second':>9} {'p99 ms':>7} {'non-2xx':>7} {'izin us':>8}"
          f" {'wrk us':>7} {'target':>10} {'x target':>8}  runs")

    def line(name, r, target):
        ratio = f"{r[0] / target:.2f}" if target else ""
        tgt = f">= {target}" if target else ""
        each = " / ".join(f"{x:.0f}" for x in r[5])
        print(f"{name:<34} {r[0]:>9.0f} {r[1]:>7.1f} {r[2]:>7} {r[3]:>8.1f} {r[4]:>7.1f}"
              f" {tgt:>10} {ratio:>8}  {each}")
    line("durable consent writes", w, 10000)
    line("single checks", c, 100000)
    if ceil:
        line("  a server that only answers", ceil, None)
    line("single checks, 8 pipelined", p, 100000)
    if pceil:
        line("  a server that only answers", pceil, None)
    line("JSON checks of 1000 (requests)", j, None)
    print(f"{'JSON checks of 1000 (recipients)':<34} {j[0] * 1000:>9.0f}")
    line("mixed: 9 checks to 1 write", m, None)
    if ceiling:
        print(f"{'store ceiling: domain writes, 32 th':<34} {ceiling:>9.0f}")
        print(f"HTTP writes reach {w[0] / ceiling:.2f} of the store's own group-commit ceiling")
    if ceil:
        print(f"single checks reach {c[0] / ceil[0]:.2f} of what this machine can do under this"
              " wrk at all (bench/null_http.c: a fixed answer to each request, nothing else;"
              " its 'izin us' is its own CPU)")
    if pceil:
        print(f"single checks 8 pipelined reach {p[0] / pceil[0]:.2f} of the same ceiling"
              " pipelined")
    print("izin us / wrk us: CPU time a request of izin's process and of wrk's, both on the"
          " same cores")


if __name__ == "__main__":
    main()
