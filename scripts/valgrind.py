#!/usr/bin/python3
"""`make valgrind`: a short black-box scenario with `izin serve` under
valgrind's memcheck (issue 16). The store is made with the plain binary;
then the server runs under valgrind while this script calls the API (a
consent written and read, a check, a bulk job, the panel's login, a
consent page, errors), and is stopped with SIGTERM. Exit 0 only when
valgrind reported no error (--error-exitcode) and no definite leak.

Usage: scripts/valgrind.py --bin build/rel/izin [--keep DIR]
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import requests

VALGRIND = ["valgrind", "--tool=memcheck", "--error-exitcode=99", "--leak-check=full",
            "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite",
            "--track-origins=yes", "--num-callers=30", "--trace-children=no"]


def run(izin, *args, data, stdin=None):
    p = subprocess.run([izin, *args, "--data", data], capture_output=True, text=True,
                       input=stdin, timeout=120)
    if p.returncode != 0:
        sys.exit(f"izin {' '.join(args)}: {p.stderr}")
    return p.stdout.strip()


def scenario(base, key):
    h = {"Authorization": "Bearer " + key}
    b = base + "/v1/brands/700001"
    body = {"recipient": "05321234567", "type": "MESAJ", "status": "ONAY", "source": "HS_WEB",
            "consentDate": "2024-01-02 10:00:00"}
    steps = [
        ("POST consent", lambda: requests.post(b + "/consents", json=body, headers=h,
                                                timeout=120), (201,)),
        ("POST consent again", lambda: requests.post(b + "/consents", json=body, headers=h,
                                                      timeout=120), (200,)),
        ("GET consent", lambda: requests.get(b + "/consents/05321234567?type=MESAJ", headers=h,
                                             timeout=120), (200,)),
        ("POST check", lambda: requests.post(b + "/check", headers=h, timeout=120, json={
            "type": "MESAJ", "recipients": ["05321234567", "bozuk", "05329999999"]}), (200,)),
        ("GET check one", lambda: requests.get(b + "/check/05321234567?type=MESAJ", headers=h,
                                               timeout=120), (200,)),
        ("POST bulk", lambda: requests.post(
            b + "/consents/bulk", headers={**h, "Content-Type": "text/csv"}, timeout=120,
            data="recipient,type,status,source,consentDate\n"
                 "05321234568,MESAJ,ONAY,HS_WEB,2024-01-02 10:00:00\nbozuk,MESAJ,ONAY,HS_WEB,x\n"),
         (202,)),
        ("GET changes", lambda: requests.get(b + "/changes", headers=h, timeout=120), (200,)),
        ("no key", lambda: requests.get(b + "/changes", timeout=120), (401,)),
        ("bad JSON", lambda: requests.post(b + "/consents", data="{", headers={
            **h, "Content-Type": "application/json"}, timeout=120), (400,)),
        ("other brand", lambda: requests.get(base + "/v1/brands/700002/changes", headers=h,
                                             timeout=120), (404,)),
        ("panel login", lambda: requests.get(base + "/panel/login", timeout=120), (200,)),
        ("consent page", lambda: requests.get(base + "/c/acme", timeout=120), (200,)),
        ("metrics", lambda: requests.get(base + "/metrics", timeout=120), (200,)),
    ]
    for name, fn, want in steps:
        r = fn()
        print(f"  {name}: {r.status_code}")
        if r.status_code not in want:
            sys.exit(f"{name}: {r.status_code} {r.text[:300]}")
    time.sleep(3)  # the bulk job and the İYS-less sync do their work under valgrind too


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--keep", help="keep the store and valgrind's log in this folder")
    a = ap.parse_args()
    izin = os.path.abspath(a.bin)
    tmp = a.keep or tempfile.mkdtemp(prefix="izin-valgrind-")
    data = os.path.join(tmp, "d")
    run(izin, "init", data=data)
    run(izin, "account", "add", "--name", "acme", "--iys-code", "700001", data=data)
    run(izin, "account", "add", "--name", "other", "--iys-code", "700002", data=data)
    run(izin, "brand", "add", "--account", "acme", "--code", "700001", "--name", "ACME",
        "--slug", "acme", data=data)
    run(izin, "brand", "add", "--account", "other", "--code", "700002", "--name", "Öteki",
        data=data)
    key = run(izin, "key", "add", "--account", "acme", data=data)
    log = os.path.join(tmp, "valgrind.log")
    err = open(os.path.join(tmp, "stderr.log"), "w")
    p = subprocess.Popen(VALGRIND + ["--log-file=" + log, izin, "serve", "--listen",
                                     "127.0.0.1:0", "--data", data, "--threads", "4"],
                         stdout=subprocess.PIPE, stderr=err, text=True)
    base = None
    try:
        deadline = time.time() + 180
        while time.time() < deadline and not base:
            line = p.stdout.readline()
            if not line and p.poll() is not None:
                sys.exit("izin serve exited under valgrind; see " + log)
            m = re.search(r"http://127\.0\.0\.1:(\d+)", line or "")
            if m:
                base = f"http://127.0.0.1:{m.group(1)}"
        if not base:
            sys.exit("izin serve did not start under valgrind within 180 s")
        while time.time() < deadline:
            try:
                if requests.get(base + "/healthz", timeout=30).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.5)
        print("izin serve under valgrind at " + base)
        scenario(base, key)
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=180)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        err.close()
    with open(log, encoding="utf-8", errors="replace") as f:
        report = f.read()
    summary = re.search(r"ERROR SUMMARY: (\d+) errors", report)
    definite = re.search(r"definitely lost: ([\d,]+) bytes", report)
    print(f"valgrind: exit {p.returncode}, "
          f"{summary.group(1) if summary else '?'} errors, "
          f"definitely lost {definite.group(1) if definite else '0'} bytes")
    if p.returncode != 0 or not summary or summary.group(1) != "0":
        print(report[-20000:])
        sys.exit(f"valgrind found errors (log: {log})")
    if not a.keep:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
