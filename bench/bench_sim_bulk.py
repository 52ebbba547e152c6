#!/usr/bin/python3
"""How fast the İYS emulator applies async bulk requests (`make bench`).

The real path, end to end: `izin iys-sim --rate 0 --bulk-delay 0
--min-poll 0` on a loopback port with a fresh store; a provider made through
POST /_sim/providers; a token from /oauth2/token; then R bulk requests of N
distinct consents each (v1 POST /sps/{iysCode}/brands/{brandCode}/consents/
request) posted one after another, and the clock runs from the first POST
until every request's status (GET .../consents/request/{id}) shows no
"enqueue" item. Every item must have succeeded; the emulator is then
stopped and its hash-chained log checked (`izin iys-sim verify`).

The figure is consents a second over that span; the target is 20,000 (issue
9, item 7). BEFORE is the figure measured with this script on the same
machine before the worker applied a request in one transaction (then every
item was a transaction, so an fsync, of its own and its result another, and
the quota check counted the provider's keys for every item): the median of
three runs, 560 to 790 a second. It cannot be measured again in the same
run, as that code is gone.

Only the standard library: run with /usr/bin/python3.
"""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from run import read_port, stop  # bench/run.py's

IYS_CODE = 790001
TARGET = 20000.0  # consents a second (issue 9, item 7)
BEFORE = 710.0    # consents a second before (see above)


def log(msg):
    print("bench_sim_bulk: " + msg, file=sys.stderr, flush=True)


def cpu_seconds(pid):
    """User and system CPU seconds a process has used so far (Linux)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def call(method, url, body=None, token=None, timeout=60):
    """One HTTP call; returns (status, parsed JSON body or None)."""
    data = None if body is None else (body if isinstance(body, bytes) else
                                      json.dumps(body).encode())
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
            return r.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw[:300]


def tr_now(offset):
    """Turkey time (UTC+3) as İYS writes it."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() + 3 * 3600 + offset))


def bodies(nreq, nitems, sequential=False):
    """nreq request bodies of nitems distinct ONAY consents each, encoded
    before the clock starts. The numbers are drawn at random (a fixed seed),
    as a real list's are: consecutive ones would keep every insert at the
    right edge of the store's b-trees and flatter the figure."""
    date = tr_now(-3600)
    n = nreq * nitems
    nums = range(n) if sequential else random.Random(20260105).sample(range(10 ** 7), n)
    out = []
    for r in range(nreq):
        items = [{"recipient": "+90532%07d" % nums[r * nitems + i], "type": "MESAJ",
                  "status": "ONAY", "source": "HS_WEB", "consentDate": date}
                 for i in range(nitems)]
        out.append(json.dumps(items).encode())
    return out


def run(args, workdir):
    data = os.path.join(workdir, "sim")
    errlog = open(os.path.join(workdir, "sim.stderr"), "wb")
    proc = subprocess.Popen([args.izin, "iys-sim", "--listen", "127.0.0.1:0", "--data", data,
                             "--rate", "0", "--bulk-delay", "0", "--min-poll", "0",
                             "--token-limit", "0"],
                            stdout=subprocess.PIPE, stderr=errlog)
    try:
        port = read_port(proc, 30, rb"on http://127\.0\.0\.1:(\d+)")
        if port is None:
            raise SystemExit("bench_sim_bulk: the emulator did not start: " +
                             open(errlog.name, errors="replace").read()[-500:])
        base = "http://127.0.0.1:%d" % port
        st, out = call("POST", base + "/_sim/providers",
                       {"iysCode": IYS_CODE, "name": "Bench", "username": "bench",
                        "password": "bench-secret",
                        "brands": [{"brandCode": IYS_CODE, "name": "Bench"}]})
        if st != 201:
            raise SystemExit("bench_sim_bulk: provider: %s %s" % (st, out))
        st, out = call("POST", base + "/oauth2/token",
                       {"username": "bench", "password": "bench-secret",
                        "grant_type": "password"})
        if st != 200:
            raise SystemExit("bench_sim_bulk: token: %s %s" % (st, out))
        token = out["access_token"]
        url = "%s/sps/%d/brands/%d/consents/request" % (base, IYS_CODE, IYS_CODE)
        payloads = bodies(args.requests, args.items, args.sequential)

        log("posting %d bulk requests of %d consents" % (args.requests, args.items))
        load = os.getloadavg()[0]  # the machine is shared: say how busy it was
        cpu0 = cpu_seconds(proc.pid)
        t0 = time.time()
        ids = []
        for p in payloads:
            st, out = call("POST", url, p, token)
            if st != 202:
                raise SystemExit("bench_sim_bulk: bulk add: %s %s" % (st, out))
            ids.append(out["requestId"])
        posted = time.time() - t0
        # The worker takes requests in the order they were made: wait for
        # each in turn, so a finished one is not asked again.
        pending = list(ids)
        failures = 0
        deadline = t0 + args.timeout
        while pending:
            st, items = call("GET", url + "/" + pending[0], None, token)
            if st != 200:
                raise SystemExit("bench_sim_bulk: status: %s %s" % (st, items))
            if items and all(i["status"] != "enqueue" for i in items):
                failures += sum(1 for i in items if i["status"] != "success")
                pending.pop(0)
                continue
            if time.time() > deadline:
                raise SystemExit("bench_sim_bulk: %d requests still enqueue after %d s"
                                 % (len(pending), args.timeout))
            time.sleep(args.poll)
        elapsed = time.time() - t0
        cpu = cpu_seconds(proc.pid) - cpu0
    finally:
        stop(proc)
        errlog.close()
    if proc.returncode != 0:
        raise SystemExit("bench_sim_bulk: the emulator exited %s" % proc.returncode)
    v = subprocess.run([args.izin, "iys-sim", "verify", "--data", data, "--json"],
                       capture_output=True, text=True, timeout=600)
    return {"n": args.requests * args.items, "elapsed": elapsed, "posted": posted, "cpu": cpu,
            "load": load,
            "failures": failures, "verify_ok": v.returncode == 0, "verify": v.stdout.strip()}


def table(args, r):
    rate = r["n"] / r["elapsed"]
    ok = rate >= TARGET and r["failures"] == 0 and r["verify_ok"]
    rows = [("emulator bulk, %d requests x %d consents" % (args.requests, args.items),
             "%.0f /s" % rate, ">= %.0f /s" % TARGET, "PASS" if ok else "FAIL"),
            ("  of which posting the requests", "%.2f s" % r["posted"], "", ""),
            ("  all %d processed after" % r["n"], "%.2f s" % r["elapsed"], "", ""),
            ("  emulator CPU a consent (all its threads)", "%.1f us" % (r["cpu"] / r["n"] * 1e6),
             "", ""),
            ("  items failed", "%d" % r["failures"], "0", ""),
            ("  hash chain (iys-sim verify)", "intact" if r["verify_ok"] else "BROKEN", "intact",
             "")]
    if (args.requests, args.items, args.sequential) == (30, 1000, False):
        rows.append(("  before: a transaction an item, one a result", "%.0f /s" % BEFORE,
                     "baseline", ""))
        rows.append(("  now / before", "%.1fx" % (rate / BEFORE), "", ""))
        rows.append(("  target / before", "%.1fx" % (TARGET / BEFORE), "", ""))
    w0 = max(len(x[0]) for x in rows)
    w1 = max(len(x[1]) for x in rows)
    print()
    print("izin iys-sim async bulk processing (--rate 0 --bulk-delay 0 --min-poll 0), %s numbers,"
          " load average %.2f at the start" % ("consecutive" if args.sequential else "random",
                                               r["load"]))
    print("%-*s  %-*s  %-11s  %s" % (w0, "figure", w1, "value", "target", "result"))
    print("-" * (w0 + w1 + 26))
    for name, value, target, res in rows:
        print("%-*s  %-*s  %-11s  %s" % (w0, name, w1, value, target, res))
    if not r["verify_ok"]:
        print("verify: " + r["verify"])
    print("overall: " + ("PASS" if ok else "FAIL"))
    return ok


def on_sigterm(signum, frame):
    raise KeyboardInterrupt()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--izin", default="build/rel/izin")
    ap.add_argument("--requests", type=int, default=30, help="bulk requests")
    ap.add_argument("--items", type=int, default=1000, help="consents a request (at most 1000)")
    ap.add_argument("--sequential", action="store_true",
                    help="consecutive numbers instead of random ones")
    ap.add_argument("--poll", type=float, default=0.05, help="seconds between status polls")
    ap.add_argument("--timeout", type=int, default=600, help="seconds before giving up")
    ap.add_argument("--keep", metavar="DIR", help="work in DIR and keep it")
    args = ap.parse_args()
    if not 1 <= args.items <= 1000:
        raise SystemExit("bench_sim_bulk: --items must be 1 to 1000")
    if args.keep:
        workdir = os.path.abspath(args.keep)
        os.makedirs(workdir, exist_ok=True)
    else:
        workdir = tempfile.mkdtemp(prefix="izin-bench-sim-")
    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        ok = table(args, run(args, workdir))
    except KeyboardInterrupt:
        log("interrupted")
        ok = False
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
