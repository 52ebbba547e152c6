#!/usr/bin/python3
"""Bulk import figures (issue 10), one run, side by side:

  1. the baseline: sqlite3's own `.import` of the same CSV into a bare
     table with no key (and into a keyed one), in a fresh database;
  2. `izin import --brand B FILE` into a fresh local store: every row
     validated and judged like a single consent, stored with its log row,
     state and İYS queue row; rows/s, peak RSS, the ratio to the baseline.

The file is generated (distinct Turkish mobile numbers, MESAJ/ONAY/HS_WEB);
nothing large is kept. Every step has a time limit: an import that does not
end in --limit seconds is stopped and its partial rate (from the job's
committed progress) is reported. Targets: >= 0.75x the bare .import rate,
peak RSS <= 512 MB.
"""
import argparse
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

T_RATIO = 0.75
T_RSS_MB = 512


def log(msg):
    print("import-bench: " + msg, file=sys.stderr, flush=True)


def gen(path, n):
    with open(path, "w") as f:
        f.write("recipient,type,status,source,consentDate\n")
        for i in range(n):
            f.write(f"+90533{i:07d},MESAJ,ONAY,HS_WEB,2026-01-05 10:00:00\n")


def sqlite_import(csv, db, keyed):
    con = sqlite3.connect(db)
    con.execute("create table t(recipient text %s, type text, status text, source text,"
                " consentDate text)" % ("primary key" if keyed else ""))
    con.commit()
    con.close()
    t0 = time.time()
    subprocess.run(["sqlite3", db, ".mode csv", ".import --skip 1 %s t" % csv], check=True,
                   timeout=600)
    return time.time() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--izin", default="build/rel/izin")
    ap.add_argument("--n", type=int, default=10_000_000)
    ap.add_argument("--limit", type=float, default=300.0)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    if not shutil.which("sqlite3"):
        log("sqlite3 (Debian package sqlite3) is not installed: no baseline")
        return 2
    tmp = tempfile.mkdtemp(prefix="izin-import-bench-")
    try:
        csv = os.path.join(tmp, "consents.csv")
        log(f"writing {a.n} rows to {csv}")
        gen(csv, a.n)
        bare = sqlite_import(csv, os.path.join(tmp, "bare.db"), False)
        log(f"sqlite3 .import, bare table: {bare:.1f} s")
        data = os.path.join(tmp, "store")
        izin = os.path.abspath(a.izin)
        for args in (["init"], ["account", "add", "--name", "acme", "--iys-code", "700900"],
                     ["brand", "add", "--account", "acme", "--code", "700900", "--name", "ACME"]):
            subprocess.run([izin, *args, "--data", data], check=True, capture_output=True)
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        t0 = time.time()
        p = subprocess.Popen([izin, "import", "--brand", "700900", "--data", data, csv],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            p.wait(timeout=a.limit)
            finished = True
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            finished = False
        secs = time.time() - t0
        rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if rss_mb < before / 1024:
            rss_mb = before / 1024
        con = sqlite3.connect(f"file:{data}/izin.db?mode=ro", uri=True)
        done = con.execute("select coalesce(max(processed), 0) from jobs").fetchone()[0]
        con.close()
        rate = done / secs if secs else 0
        bare_rate = a.n / bare
        ratio = rate / bare_rate if bare_rate else 0
        print()
        print(f"izin import: {a.n} CSV rows into a fresh local store (validation, rules, log, "
              "state, İYS queue)")
        print(f"{'figure':44} {'value':>12} {'target':>12} {'baseline':>12} {'ratio':>7}  result")
        print("-" * 100)
        print(f"{'rows a second' + ('' if finished else ' (partial: stopped)'):44} "
              f"{rate:>12,.0f} {'>= 0.75x':>12} {bare_rate:>12,.0f} {ratio:>6.2f}x  "
              f"{'PASS' if finished and ratio >= T_RATIO else 'FAIL'}")
        print(f"{'  rows done':44} {done:>12,} {a.n:>12,}")
        print(f"{'  seconds':44} {secs:>12.1f} {'':>12} {bare:>12.1f}")
        print(f"{'peak RSS, MB':44} {rss_mb:>12.0f} {'<= 512':>12} {'':>12} {'':>7}  "
              f"{'PASS' if rss_mb <= T_RSS_MB else 'FAIL'}")
        return 0
    finally:
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
