#!/usr/bin/python3
"""Run izin's send-filter benchmark and print one table (`make bench`).

In one run, on the same generated data (N consents of one brand, look-ups
half present):
  1. a fresh store with an account, a brand and an API key (the izin CLI),
     filled with the consents by bench_index;
  2. bench_index: the index's rebuild time, bytes a consent and look-up rate
     on one core, then the SQLite and Redis baselines (a private
     redis-server on a free loopback port, no persistence, stopped at the
     end);
  3. end to end: `izin serve` on that store and N recipients posted as
     text/plain to /v1/brands/{b}/check with curl (the domain layer's
     stream judge: normalized, packed and looked up a batch at a time).
Every step has a time limit, and everything it started is stopped and the
temporary directory removed (unless --keep), also on failure or Ctrl-C.
"""
import argparse
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BRAND = 700001

# The targets of the issue.
T_RATE = 25e6        # look-ups a second, one core
T_BYTES = 32.0       # index bytes a consent
T_BUILD = 5.0        # rebuild of 10M at start-up, seconds
T_E2E = 1.5          # 10M recipients over HTTP, seconds (issue: the domain layer)
E2E_BEFORE = 2.70    # the same figure before the batched look-up ran in production


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc, timeout=20):
    """Stop a child we started: SIGTERM, then SIGKILL if it lingers."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def izin(args, data, binary):
    r = subprocess.run([binary] + args + ["--data", data], capture_output=True, text=True,
                       timeout=60)
    if r.returncode != 0:
        raise SystemExit("bench: izin %s failed: %s" % (" ".join(args), r.stderr.strip()))
    return r.stdout.strip()


def start_redis(workdir):
    """A private redis-server on a free port; retried if the port was taken
    between choosing it and binding it."""
    rdir = os.path.join(workdir, "redis")
    os.makedirs(rdir, exist_ok=True)
    for _ in range(5):
        port = free_port()
        proc = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
             "--appendonly", "no", "--dir", rdir, "--daemonize", "no",
             "--logfile", os.path.join(rdir, "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline and proc.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return proc, port
            except OSError:
                time.sleep(0.05)
        stop(proc)
    raise SystemExit("bench: redis-server did not start")


def run_bench_index(args, data, check_file, redis_port):
    cmd = [args.bench_bin, "--data", data, "--brand-code", str(BRAND), "--n", str(args.n),
           "--lookups", str(args.lookups), "--sqlite-lookups", str(args.sqlite_lookups),
           "--redis-lookups", str(args.redis_lookups), "--check-file", check_file]
    if redis_port:
        cmd += ["--redis", "127.0.0.1:%d" % redis_port]
    log("running " + " ".join(cmd))
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=args.step_timeout)
    if r.returncode != 0:
        raise SystemExit("bench: bench_index failed: " + r.stderr.strip())
    res = {}
    for line in r.stdout.splitlines():
        k, _, v = line.partition(" ")
        res[k] = float(v)
    return res


def read_port(proc, timeout, pattern=rb"serving on http://127\.0\.0\.1:(\d+)"):
    """The port a server prints once it listens: by default `izin serve`'s
    (its start-up includes building the index)."""
    deadline = time.time() + timeout
    buf = b""
    while time.time() < deadline:
        if proc.poll() is not None:
            return None
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            chunk = os.read(proc.stdout.fileno(), 4096)
            buf += chunk
            m = re.search(pattern, buf)
            if m:
                return int(m.group(1))
    return None


def end_to_end(args, workdir, data, key, check_file, expected_allowed):
    res = {}
    errlog = open(os.path.join(workdir, "serve.stderr"), "wb")
    t0 = time.time()
    proc = subprocess.Popen([args.izin, "serve", "--listen", "127.0.0.1:0", "--data", data],
                            stdout=subprocess.PIPE, stderr=errlog)
    try:
        port = read_port(proc, args.step_timeout)
        if port is None:
            res["e2e_error"] = "server did not start"
            return res
        res["serve_start_s"] = time.time() - t0
        url = "http://127.0.0.1:%d/v1/brands/%d/check?type=MESAJ" % (port, BRAND)
        out = os.path.join(workdir, "allowed.txt")
        hdr = os.path.join(workdir, "headers.txt")
        log("posting %d recipients as text/plain (limit %d s)" % (args.lookups, args.e2e_timeout))
        t0 = time.time()
        r = subprocess.run(["curl", "-sS", "--max-time", str(args.e2e_timeout), "-o", out,
                            "-D", hdr, "-w", "%{http_code}", "-H", "Authorization: Bearer " + key,
                            "-H", "Content-Type: text/plain", "--data-binary", "@" + check_file,
                            url], capture_output=True, text=True, timeout=args.e2e_timeout + 30)
        res["e2e_s"] = time.time() - t0
        if r.returncode == 28:
            res["e2e_error"] = "gave up after %d s" % args.e2e_timeout
            return res
        if r.returncode != 0:
            res["e2e_error"] = "curl: " + (r.stderr.strip() or "exit %d" % r.returncode)
            return res
        if r.stdout.strip() != "200":
            body = open(out, "rb").read(300).decode("utf-8", "replace")
            res["e2e_error"] = "HTTP %s %s" % (r.stdout.strip(), body)
            return res
        with open(out, "rb") as f:
            lines = sum(buf.count(b"\n") for buf in iter(lambda: f.read(1 << 20), b""))
        res["e2e_allowed"] = lines
        if lines != expected_allowed:
            res["e2e_error"] = "%d allowed, expected %d" % (lines, expected_allowed)
        return res
    finally:
        stop(proc)
        errlog.close()


def fmt_rate(r):
    return "%.2f M/s" % (r / 1e6)


def verdict(ok):
    return "PASS" if ok else "FAIL"


def table(args, r, e):
    rows = []
    ok_all = True

    def row(name, value, target, ok):
        nonlocal ok_all
        if ok is not None:
            ok_all = ok_all and ok
        rows.append((name, value, target, "" if ok is None else verdict(ok)))

    bad = int(r.get("izin_mismatch", 1) + r.get("izin_text_mismatch", 0))
    row("izin index look-ups, 1 core (%d, batched)" % r["izin_lookups"],
        fmt_rate(r["izin_rate"]), ">= 25 M/s", r["izin_rate"] >= T_RATE and bad == 0)
    row("  same, from E.164 text (packing included)", fmt_rate(r["izin_text_rate"]), "", None)
    if "izin_single_rate" in r:
        row("  one key a call, from text (the path before)", fmt_rate(r["izin_single_rate"]),
            "baseline", r.get("izin_single_mismatch", 1) == 0)
        row("  batched text / one at a time", "%.1fx" % (r["izin_text_rate"] / r["izin_single_rate"]),
            "", None)
    if "sqlite_rate" in r:
        row("SQLite indexed table, prepared stmt (%d)" % r["sqlite_lookups"],
            fmt_rate(r["sqlite_rate"]), "baseline", r.get("sqlite_mismatch", 1) == 0)
        row("  izin / SQLite", "%.0fx" % (r["izin_rate"] / r["sqlite_rate"]), "", None)
    if "redis_rate" in r:
        row("Redis HMGET, pipelined 1000 a batch (%d)" % r["redis_lookups"],
            fmt_rate(r["redis_rate"]), "baseline", r.get("redis_mismatch", 1) == 0)
        row("  izin / Redis", "%.0fx" % (r["izin_rate"] / r["redis_rate"]), "", None)
    row("index bytes a consent (empty slots included)", "%.2f" % r["izin_bytes_per_consent"],
        "<= 32", r["izin_bytes_per_consent"] <= T_BYTES)
    if "redis_bytes_per_consent" in r:
        row("  Redis used_memory a consent", "%.2f" % r["redis_bytes_per_consent"], "", None)
    row("index rebuild from the store (%d consents)" % r["izin_count"],
        "%.2f s" % r["izin_build_s"], "<= 5 s", r["izin_build_s"] <= T_BUILD)
    if e is not None:
        if "serve_start_s" in e:
            row("  izin serve start-up (store open + build)", "%.2f s" % e["serve_start_s"], "",
                None)
        if "e2e_error" in e:
            shown = ("%.2f s: " % e["e2e_s"] if "e2e_s" in e else "") + e["e2e_error"]
            row("HTTP check, %d recipients text/plain" % args.lookups, shown[:60], "<= 1.5 s",
                False)
        else:
            row("HTTP check, %d recipients text/plain" % args.lookups, "%.2f s" % e["e2e_s"],
                "<= 1.5 s", e["e2e_s"] <= T_E2E)
            if args.lookups == 10_000_000:
                row("  before the batched look-up ran in production", "%.2f s" % E2E_BEFORE,
                    "", None)
                row("  now / before", "%.2fx" % (e["e2e_s"] / E2E_BEFORE), "", None)
    w0 = max(len(x[0]) for x in rows)
    w1 = max(len(x[1]) for x in rows)
    print()
    print("izin send filter, %d consents of one brand, look-ups half present" % r["n"])
    print("%-*s  %-*s  %-9s  %s" % (w0, "figure", w1, "value", "target", "result"))
    print("-" * (w0 + w1 + 24))
    for name, value, target, res in rows:
        print("%-*s  %-*s  %-9s  %s" % (w0, name, w1, value, target, res))
    print()
    if r.get("store_load_s"):
        print("(bench data written into the store in %.1f s; Redis loaded in %.1f s)"
              % (r["store_load_s"], r.get("redis_load_s", 0)))
    print("overall: " + verdict(ok_all))
    return ok_all


def on_sigterm(signum, frame):
    """A SIGTERM (a CI time limit) unwinds through the finally blocks as
    Ctrl-C does, so the servers are stopped and the files removed."""
    raise KeyboardInterrupt()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--izin", default="build/rel/izin")
    ap.add_argument("--bench-bin", default="build/rel/bench/bench_index")
    ap.add_argument("--n", type=int, default=10_000_000, help="consents")
    ap.add_argument("--lookups", type=int, default=None, help="look-ups (default: n)")
    ap.add_argument("--sqlite-lookups", type=int, default=500_000)
    ap.add_argument("--redis-lookups", type=int, default=2_000_000)
    ap.add_argument("--no-redis", action="store_true")
    ap.add_argument("--no-http", action="store_true")
    ap.add_argument("--e2e-timeout", type=int, default=30,
                    help="seconds before the HTTP check is given up")
    ap.add_argument("--step-timeout", type=int, default=300)
    ap.add_argument("--keep", metavar="DIR",
                    help="work in DIR and keep it (a store filled there is reused)")
    args = ap.parse_args()
    if args.lookups is None:
        args.lookups = args.n
    for tool in ("curl",) + (() if args.no_redis else ("redis-server",)):
        if not shutil.which(tool):
            raise SystemExit("bench: %s is missing (sh scripts/deps.sh redis-server curl)" % tool)

    if args.keep:
        workdir = os.path.abspath(args.keep)
        os.makedirs(workdir, exist_ok=True)
    else:
        workdir = tempfile.mkdtemp(prefix="izin-bench-")
    redis = None
    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        data = os.path.join(workdir, "data")
        keyfile = os.path.join(workdir, "apikey")
        if not os.path.exists(keyfile):
            izin(["init"], data, args.izin)
            izin(["account", "add", "--name", "bench", "--iys-code", str(BRAND)], data, args.izin)
            izin(["brand", "add", "--account", "bench", "--code", str(BRAND), "--name", "Bench"],
                 data, args.izin)
            with open(keyfile, "w") as f:
                f.write(izin(["key", "add", "--account", "bench"], data, args.izin))
        key = open(keyfile).read().strip()
        port = None
        if not args.no_redis:
            redis, port = start_redis(workdir)
        check_file = os.path.join(workdir, "recipients.txt")
        r = run_bench_index(args, data, check_file, port)
        stop(redis)
        redis = None
        e = None
        if not args.no_http:
            e = end_to_end(args, workdir, data, key, check_file, int(r["expected_allowed"]))
        ok = table(args, r, e)
    except KeyboardInterrupt:
        log("interrupted")
        ok = False
    finally:
        stop(redis)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
