#!/usr/bin/python3
"""The load figures of issue 16 on one `izin serve` (SQLite), with wrk
(Debian's) on loopback, each for a fixed time, beside the targets and the
store's own group-commit ceiling measured in the same run:

  - durable consent writes: POST /v1/brands/{b}/consents, a new recipient
    each, every 201 only once on disk (target >= 10,000/s, p99 < 20 ms);
  - single checks: GET /v1/brands/{b}/check/{recipient} (target >= 100,000/s);
  - JSON checks of 1000 recipients: POST /v1/brands/{b}/check (recipients a
    second through it);
  - mixed: 9 single checks to 1 write on every connection;
  - the ceiling: bench_writes (the domain layer's durable writes from 32
    threads, no HTTP) - what the HTTP write figure can at best approach.

The checks ask for recipients of the write figure's run (written first),
some there and some not.

    bench/load.py --izin build/rel/izin --bench-writes build/rel/bench/bench_writes
                  [--seconds 5] [--connections 32]
"""
import argparse
import os
import re
import shutil
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--izin", default="build/rel/izin")
    ap.add_argument("--bench-writes", default="build/rel/bench/bench_writes")
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=32)
    a = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench/load.py needs wrk (apt-get install wrk)")
    izin = os.path.abspath(a.izin)
    tmp = tempfile.mkdtemp(prefix="izin-load-bench-")
    try:
        data = os.path.join(tmp, "d")
        key = setup_store(izin, ["--data", data])
        node = Node(izin, ["--data", data], data)
        try:
            w = wrk_all([node], WRITE_LUA, a.seconds, a.connections, key, tmp)
            c = wrk_all([node], CHECK_LUA, a.seconds, a.connections, key, tmp)
            j = wrk_all([node], JSON_CHECK_LUA, a.seconds, a.connections, key, tmp)
            m = wrk_all([node], MIXED_LUA, a.seconds, a.connections, key, tmp)
        finally:
            node.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    ceiling = None
    if os.path.exists(a.bench_writes):
        out = run([a.bench_writes], check=False).stdout  # (exit 1: its own target missed)
        mm = re.search(r"best of the above\s+(\d+)", out)
        ceiling = float(mm.group(1)) if mm else None
    print(f"\nload on one izin serve (SQLite), wrk with {a.connections} connections on loopback,"
          f" {a.seconds} s a figure, {os.cpu_count()} cores for izin and wrk together")
    print(f"{'figure':<40} {'a second':>10} {'p99 ms':>8} {'non-2xx':>8} {'target':>10}"
          f" {'x target':>9}")

    def line(name, r, target):
        ratio = f"{r[0] / target:.2f}" if target else ""
        tgt = f">= {target}" if target else ""
        print(f"{name:<40} {r[0]:>10.0f} {r[1]:>8.1f} {r[2]:>8} {tgt:>10} {ratio:>9}")
    line("durable consent writes", w, 10000)
    line("single checks", c, 100000)
    line("JSON checks of 1000 (requests)", j, None)
    print(f"{'JSON checks of 1000 (recipients)':<40} {j[0] * 1000:>10.0f}")
    line("mixed: 9 checks to 1 write", m, None)
    if ceiling:
        print(f"{'store ceiling: domain writes, 32 threads':<40} {ceiling:>10.0f}"
              f" {'':>8} {'':>8} {'':>10} {'':>9}")
        print(f"HTTP writes reach {w[0] / ceiling:.2f} of the store's own group-commit ceiling")


if __name__ == "__main__":
    main()
