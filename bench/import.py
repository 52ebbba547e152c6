#!/usr/bin/python3
"""Bulk import figures (issue 10), one run, side by side:

  1. the baseline: sqlite3's own `.import` of the CSV into a bare table with
     no key, in a fresh database;
  2. `izin import --brand B FILE` of the same CSV into a fresh local store:
     every row validated and judged like a single consent, stored with its
     log, state and İYS queue entry (the account has an İYS URL, so every
     change waits for İYS; http://127.0.0.1:9/ is never reached, nothing
     here sends); rows/s, peak RSS, the ratio to the baseline;
  3. the same for an XLSX workbook of --xlsx-n rows as Excel writes one
     (shared strings for the text, the phone numbers as numbers, the dates
     as serial numbers);
  4. the same CSV over HTTP: `izin serve` on 127.0.0.1 with a fresh store,
     the file POSTed to /v1/brands/{code}/consents/bulk (streamed from disk),
     GET /v1/jobs/{id} polled until DONE; the rate counts the upload and the
     job.

The files are generated (distinct Turkish mobile numbers, MESAJ/ONAY/HS_WEB)
in a temporary directory that is removed at the end. Every step has a time
limit (--limit seconds): an import that does not end in time is stopped and
its partial rate (from the job's committed progress) is reported.
Targets: CSV >= 0.75x the bare .import rate with peak RSS <= 512 MB; XLSX
>= 150,000 rows/s; HTTP >= 0.5x the bare rate.
"""
import argparse
import datetime
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import zipfile

import requests

T_RATIO = 0.75
T_HTTP_RATIO = 0.5
T_XLSX = 150_000
T_RSS_MB = 512
BRAND = "700900"
IYS_URL = "http://127.0.0.1:9/"  # the discard port: an İYS that is never reached
DATE = "2026-01-05 10:00:00"


def log(msg):
    print("import-bench: " + msg, file=sys.stderr, flush=True)


def gen_csv(path, n):
    with open(path, "w") as f:
        f.write("recipient,type,status,source,consentDate\n")
        for start in range(0, n, 100_000):
            f.write("".join(f"+90533{i:07d},MESAJ,ONAY,HS_WEB,{DATE}\n"
                            for i in range(start, min(n, start + 100_000))))


XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
NS_R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'


def gen_xlsx(path, n):
    """A workbook as Excel saves one: the text in shared strings, the phone
    numbers as numbers (5330000000: Excel drops the leading 0), the dates as
    serial numbers."""
    strings = ["recipient", "type", "status", "source", "consentDate", "MESAJ", "ONAY", "HS_WEB"]
    d = datetime.datetime.strptime(DATE, "%Y-%m-%d %H:%M:%S")
    serial = (d - datetime.datetime(1899, 12, 30)).total_seconds() / 86400
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("[Content_Types].xml", XML + '<Types xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/content-types"/>')
        z.writestr("xl/workbook.xml", XML + f'<workbook {NS} {NS_R}><sheets><sheet name="Sheet1"'
                   ' sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", XML + '<Relationships xmlns="http://schemas.'
                   'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
                   'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                   'worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
        z.writestr("xl/sharedStrings.xml", XML + f'<sst {NS} count="{len(strings)}" uniqueCount='
                   f'"{len(strings)}">' + "".join(f"<si><t>{s}</t></si>" for s in strings)
                   + "</sst>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as w:
            w.write((XML + f"<worksheet {NS}><sheetData>"
                     + '<row r="1">' + "".join(f'<c r="{c}1" t="s"><v>{i}</v></c>'
                                               for i, c in enumerate("ABCDE")) + "</row>"
                     ).encode())
            for start in range(0, n, 50_000):
                w.write("".join(
                    f'<row r="{i + 2}"><c r="A{i + 2}"><v>{5330000000 + i}</v></c>'
                    f'<c r="B{i + 2}" t="s"><v>5</v></c><c r="C{i + 2}" t="s"><v>6</v></c>'
                    f'<c r="D{i + 2}" t="s"><v>7</v></c><c r="E{i + 2}"><v>{serial}</v></c></row>'
                    for i in range(start, min(n, start + 50_000))).encode())
            w.write(b"</sheetData></worksheet>")


def sqlite_import(csv, db):
    con = sqlite3.connect(db)
    con.execute("create table t(recipient text, type text, status text, source text,"
                " consentDate text)")
    con.commit()
    con.close()
    os.sync()  # every step starts with no other step's writes still in flight
    t0 = time.time()
    subprocess.run(["sqlite3", db, ".mode csv", ".import --skip 1 %s t" % csv], check=True,
                   timeout=600)
    return time.time() - t0


def fresh_store(izin, data):
    """A store with account acme (an İYS URL: changes are queued for İYS)
    and its brand; returns an API key of the account."""
    for args in (["init"],
                 ["account", "add", "--name", "acme", "--iys-code", BRAND, "--iys-url", IYS_URL],
                 ["brand", "add", "--account", "acme", "--code", BRAND, "--name", "ACME"]):
        subprocess.run([izin, *args, "--data", data], check=True, capture_output=True)
    return subprocess.run([izin, "key", "add", "--account", "acme", "--data", data], check=True,
                          capture_output=True, text=True).stdout.strip()


def job_processed(data):
    con = sqlite3.connect(f"file:{data}/izin.db?mode=ro", uri=True)
    try:
        return con.execute("select coalesce(max(processed), 0) from jobs").fetchone()[0]
    finally:
        con.close()


def run_import(izin, data, path, limit):
    """`izin import` in a child; (rows done, seconds, finished, the child's
    peak RSS in MB, from wait4)."""
    os.sync()  # every step starts with no other step's writes still in flight
    t0 = time.time()
    p = subprocess.Popen([izin, "import", "--brand", BRAND, "--data", data, path],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    finished = True
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        if time.time() - t0 > limit:
            p.kill()
            pid, status, ru = os.wait4(p.pid, 0)
            finished = False
            break
        time.sleep(0.05)
    secs = time.time() - t0
    p.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    finished = finished and p.returncode in (0, 3)
    return job_processed(data), secs, finished, ru.ru_maxrss / 1024


def peak_rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            m = re.search(r"VmHWM:\s+(\d+) kB", f.read())
        return int(m.group(1)) / 1024 if m else 0
    except OSError:
        return 0


def run_http(izin, data, key, path, limit):
    """`izin serve` on a fresh store, the file POSTed and the job followed;
    (rows done, upload seconds, total seconds, finished, server's peak RSS
    MB, İYS queue)."""
    errf = open(os.path.join(data, "serve.log"), "w")
    srv = subprocess.Popen([izin, "serve", "--listen", "127.0.0.1:0", "--data", data,
                            "--iys-pull-interval", "3600"],
                           stdout=subprocess.PIPE, stderr=errf, text=True)
    base = None
    try:
        deadline = time.time() + 30
        while time.time() < deadline and not base:
            line = srv.stdout.readline()
            if not line and srv.poll() is not None:
                raise RuntimeError("izin serve exited")
            m = re.search(r"http://127\.0\.0\.1:(\d+)", line or "")
            if m:
                base = f"http://127.0.0.1:{m.group(1)}"
        if not base:
            raise RuntimeError("izin serve did not report its port")
        auth = {"Authorization": "Bearer " + key}
        os.sync()  # every step starts with no other step's writes still in flight
        t0 = time.time()
        with open(path, "rb") as f:  # a file object: requests streams it
            r = requests.post(f"{base}/v1/brands/{BRAND}/consents/bulk", data=f,
                              headers={**auth, "Content-Type": "text/csv"}, timeout=limit)
        upload = time.time() - t0
        if r.status_code != 202:
            raise RuntimeError(f"upload answered {r.status_code}: {r.text[:200]}")
        job_id = r.json()["jobId"]
        job, finished = {}, False
        while time.time() - t0 < limit:
            job = requests.get(f"{base}/v1/jobs/{job_id}", headers=auth, timeout=30).json()
            if job.get("state") in ("DONE", "FAILED"):
                finished = job["state"] == "DONE"
                break
            time.sleep(0.2)
        secs = time.time() - t0
        rss = peak_rss_mb(srv.pid)
        queue = None
        m = re.search(r"^izin_outbox_changes (\d+)",
                      requests.get(base + "/metrics", timeout=30).text, re.M)
        if m:
            queue = int(m.group(1))
        return job.get("processed", 0), upload, secs, finished, rss, queue
    finally:
        srv.send_signal(signal.SIGTERM)
        try:
            srv.wait(timeout=60)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.wait()
        errf.close()


def row(figure, value, target="", baseline="", ratio="", result=""):
    print(f"{figure:44} {value:>12} {target:>12} {baseline:>12} {ratio:>7}  {result}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--izin", default="build/rel/izin")
    ap.add_argument("--n", type=int, default=10_000_000, help="CSV rows")
    ap.add_argument("--xlsx-n", type=int, default=1_000_000, help="XLSX rows (0: skip)")
    ap.add_argument("--limit", type=float, default=300.0, help="seconds a step may take")
    ap.add_argument("--no-http", action="store_true", help="skip the HTTP upload")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    if not shutil.which("sqlite3"):
        log("sqlite3 (Debian package sqlite3) is not installed: no baseline")
        return 2
    izin = os.path.abspath(a.izin)
    tmp = tempfile.mkdtemp(prefix="izin-import-bench-")
    try:
        csv = os.path.join(tmp, "consents.csv")
        log(f"writing {a.n} rows to {csv}")
        gen_csv(csv, a.n)
        bare = sqlite_import(csv, os.path.join(tmp, "bare.db"))
        os.unlink(os.path.join(tmp, "bare.db"))
        bare_rate = a.n / bare
        log(f"sqlite3 .import, bare table: {bare:.1f} s")

        data = os.path.join(tmp, "store")
        fresh_store(izin, data)
        log("izin import (CSV)")
        done, secs, finished, rss_mb = run_import(izin, data, csv, a.limit)
        shutil.rmtree(data, ignore_errors=True)

        xlsx = None
        if a.xlsx_n > 0:
            xpath = os.path.join(tmp, "consents.xlsx")
            log(f"writing {a.xlsx_n} rows to {xpath}")
            gen_xlsx(xpath, a.xlsx_n)
            xdata = os.path.join(tmp, "xstore")
            fresh_store(izin, xdata)
            log("izin import (XLSX)")
            xlsx = run_import(izin, xdata, xpath, a.limit)
            shutil.rmtree(xdata, ignore_errors=True)
            os.unlink(xpath)

        http = None
        if not a.no_http:
            hdata = os.path.join(tmp, "hstore")
            key = fresh_store(izin, hdata)
            log("izin serve: the CSV over HTTP")
            try:
                http = run_http(izin, hdata, key, csv, a.limit)
            except (RuntimeError, requests.RequestException) as e:
                log(f"HTTP step failed: {e}")
                http = (0, 0.0, 0.0, False, 0.0, None)
            shutil.rmtree(hdata, ignore_errors=True)

        rate = done / secs if secs else 0
        ratio = rate / bare_rate if bare_rate else 0
        print()
        print(f"izin import: {a.n:,} CSV rows into a fresh local store (validation, rules, log, "
              "state, İYS queue)")
        row("figure", "value", "target", "baseline", "ratio", "result")
        print("-" * 100)
        row("rows a second" + ("" if finished else " (partial: stopped)"), f"{rate:,.0f}",
            f">= {T_RATIO}x", f"{bare_rate:,.0f}", f"{ratio:.2f}x",
            "PASS" if finished and ratio >= T_RATIO else "FAIL")
        row("  rows done", f"{done:,}", f"{a.n:,}")
        row("  seconds", f"{secs:.1f}", "", f"{bare:.1f}")
        row("peak RSS, MB", f"{rss_mb:.0f}", f"<= {T_RSS_MB}", "", "",
            "PASS" if rss_mb <= T_RSS_MB else "FAIL")
        if xlsx:
            xdone, xsecs, xfin, xrss = xlsx
            xrate = xdone / xsecs if xsecs else 0
            row(f"XLSX rows a second ({a.xlsx_n:,} rows)"
                + ("" if xfin else " (partial)"), f"{xrate:,.0f}", f">= {T_XLSX:,}",
                f"{bare_rate:,.0f}", f"{xrate / bare_rate:.2f}x",
                "PASS" if xfin and xrate >= T_XLSX else "FAIL")
            row("  seconds", f"{xsecs:.1f}")
        if http:
            hdone, hup, hsecs, hfin, hrss, queue = http
            hrate = hdone / hsecs if hsecs else 0
            hratio = hrate / bare_rate if bare_rate else 0
            row("HTTP upload + job, rows a second" + ("" if hfin else " (partial)"),
                f"{hrate:,.0f}", f">= {T_HTTP_RATIO}x", f"{bare_rate:,.0f}", f"{hratio:.2f}x",
                "PASS" if hfin and hratio >= T_HTTP_RATIO else "FAIL")
            row("  upload seconds", f"{hup:.1f}")
            row("  upload + job seconds", f"{hsecs:.1f}")
            row("  server's peak RSS, MB", f"{hrss:.0f}")
            if queue is not None:
                row("  İYS queue after the job", f"{queue:,}", f"{hdone:,}")
        return 0
    finally:
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
