#!/usr/bin/python3
"""SMS figures (issue 11), one run, side by side with their baselines:

  1. a commercial campaign of --n recipients (100,000, each with ONAY)
     through POST /v1/brands/{b}/sms/send: filtered and durably queued, the
     seconds until the 202 (target <= 2 s); the send's rows are then counted
     in the store (read-only). Baseline: the same list through the streamed
     text/plain POST .../check, the filter alone with nothing stored, in the
     same run.
  2. that campaign handed to a real Kannel on loopback (bearerbox and
     smsbox, a fake SMSC that this bench reads as the mobile network): SMS a
     second from the 202 until the fake SMSC got every message (target >=
     2,000/s). Baseline: Kannel alone, its sendsms called straight with as
     many requests in flight as izin keeps (curl --parallel).
  3. a second campaign the same way with Kannel's delivery reports on (as
     izin runs by default with a gateway token: dlr-mask 27, dlr-url to
     izin): SMS a second to the fake SMSC and until every message is
     DELIVERED at izin. Baseline: Kannel alone with the same reports asked
     for. Kannel's smsbox makes an HTTP request per report, so this is
     Kannel's rate more than izin's.
  4. inbound messages through the JSON interface (POST /v1/sms/inbound, "RET
     ACME" from a new number each: two consent changes, the message and its
     reply stored), each answered only once it is on disk: messages a second
     with 64 concurrent clients (wrk, target >= 2,000/s), beside one client
     making one request at a time (the single-thread durable write rate) in
     the same run. The stored messages are counted afterwards: at least
     every one that was answered 200.

Every step has a time limit (--limit); a step cut short reports its partial
rate. `--strict` exits 1 when a target is missed. Needs Kannel and wrk
(`make bench` installs them).
"""
import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "blackbox"))
from kannelutil import Kannel, end, free_port, installed  # noqa: E402

T_QUEUE_S = 2.0
T_HANDOFF = 2000.0
T_INBOUND = 2000.0
TOKEN = "bench-gateway-token-0123456789"
BRAND = 700001


def log(msg):
    print("sms-bench: " + msg, file=sys.stderr, flush=True)


def run(izin, *args, data):
    p = subprocess.run([izin, *args, "--data", data], capture_output=True, text=True,
                       timeout=600)
    if p.returncode not in (0, 3):
        raise SystemExit(f"izin {' '.join(args)}: {p.stderr}")
    return p.stdout


def phone(i):
    return "+90532%07d" % i


def start_izin(izin, data, port, kannel, conc, dlr=True, threads=16):
    errf = open(os.path.join(data, "serve.log"), "w")
    p = subprocess.Popen([izin, "serve", "--listen", f"127.0.0.1:{port}", "--data", data,
                          "--sms-gateway", "kannel:" + kannel.sendsms_url,
                          "--sms-max-parts", "10", "--gateway-token", TOKEN,
                          "--sms-concurrency", str(conc), "--threads", str(threads),
                          "--max-conns-per-ip", "1024",
                          *([] if dlr else ["--sms-dlr-url", "none"])],
                         stdout=subprocess.DEVNULL, stderr=errf)
    base = f"http://127.0.0.1:{port}"
    for _ in range(400):
        try:
            if requests.get(base + "/healthz", timeout=1).status_code == 200:
                return p, base, errf
        except requests.ConnectionError:
            pass
        time.sleep(0.05)
    raise SystemExit("izin did not start")


def unknown_reports(base):
    """Delivery reports izin got for messages it does not have (/metrics)."""
    m = re.search(r'izin_sms_delivery_reports_total\{result="unknown_message"\} (\d+)',
                  requests.get(base + "/metrics", timeout=10).text)
    return int(m.group(1)) if m else 0


def kannel_direct(kannel, n, par, limit, tmp, dlr=None):
    """Kannel alone: n sendsms requests, par at a time, as izin makes them
    (with dlr: the delivery reports izin asks for, sent to that URL: izin's,
    which counts those of messages it does not have). Returns the rate to
    the SMSC, whether it finished, and with dlr the rate until every report
    (two a message from the fake SMSC: 8 and 1) was back."""
    cfg = os.path.join(tmp, "curl.cfg")
    text = "Kampanya! Ret için RET ACME yazıp 4607 numarasına gönderin."
    with open(cfg, "w") as f:
        for i in range(n):
            q = {"from": "ACME", "to": phone(8000000 + i), "text": text, "charset": "UTF-8",
                 "coding": "2"}
            if dlr:
                q["dlr-mask"] = "27"
                q["dlr-url"] = f"{dlr}?id=direct-{i}&status=%d&token={TOKEN}"
            q = urllib.parse.urlencode(q)
            f.write(f'url = "{kannel.sendsms_url}&{q}"\noutput = "/dev/null"\n')
    before = kannel.count
    base = dlr.rsplit("/v1/", 1)[0] if dlr else None
    reports0 = unknown_reports(base) if dlr else 0
    t0 = time.time()
    subprocess.run(["curl", "-s", "--parallel", "--parallel-max", str(par), "-K", cfg],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=limit)
    ok = kannel.wait_lines(before + n, timeout=limit)
    secs = time.time() - t0
    back = None
    if dlr:
        deadline = t0 + limit
        got = 0
        while time.time() < deadline:
            got = unknown_reports(base) - reports0
            if got >= 2 * n:
                break
            time.sleep(0.2)
        back = (got / 2) / (time.time() - t0)
    return (kannel.count - before) / secs, ok, back


WRK_LUA = r"""
-- tid is a global each thread's state gets from setup (a local here would
-- hide it): ids and numbers differ between threads
local n = 0
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
request = function()
  n = n + 1
  local id = string.format("%s-%d-%d", PREFIX, tid, n)
  local from = string.format("+9053%d%07d", 1 + tid % 9, n)
  local body = '{"id":"' .. id .. '","from":"' .. from .. '","to":"4607","text":"RET ACME"}'
  return wrk.format("POST", "/v1/sms/inbound",
    {["Content-Type"] = "application/json", ["X-Izin-Token"] = TOKEN}, body)
end
"""


def wrk(base, threads, conns, secs, prefix, tmp):
    lua = os.path.join(tmp, f"inbound-{prefix}.lua")
    with open(lua, "w") as f:
        f.write(f'PREFIX = "{prefix}"\nTOKEN = "{TOKEN}"\n' + WRK_LUA)
    p = subprocess.run(["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{secs}s",
                        "--timeout", "10s", "-s", lua, base], capture_output=True, text=True,
                       timeout=secs + 60)
    out = p.stdout
    reqs = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = re.search(r"Latency\s+(\S+)\s+(\S+)\s+(\S+)", out)
    bad = int(non2xx.group(1)) if non2xx else 0
    return {"requests": reqs, "ok": reqs - bad, "bad": bad, "rate": rate,
            "errors": errors.group(1) if errors else "", "latency": lat.group(1) if lat else "?"}


def campaign(base, h, kannel, data, to, limit, reports):
    """One campaign to every number of to: the seconds to the 202, the rows
    on disk then, the hand-off to the fake SMSC, and the delivery reports."""
    n = len(to)
    before = kannel.count
    body = {"from": "ACME", "text": "Kampanya!", "to": to}
    t0 = time.time()
    r = requests.post(base + f"/v1/brands/{BRAND}/sms/send", headers=h, json=body,
                      timeout=limit)
    queue_s = time.time() - t0
    t_queued = time.time()
    assert r.status_code == 202, r.text[:300]
    j = r.json()
    assert j["accepted"] == n and j["parts"] == 1, {k: j[k] for k in ("accepted", "parts")}
    con = sqlite3.connect(f"file:{data}/izin.db?mode=ro", uri=True)
    rows = con.execute("select count(*) from sms_recipients where message_id = ?",
                       (j["id"],)).fetchone()[0]
    con.close()
    done = kannel.wait_lines(before + n, timeout=limit)
    handoff_s = time.time() - t_queued
    handoff = (kannel.count - before) / handoff_s
    delivered = 0
    deadline = time.time() + limit
    while reports and time.time() < deadline:
        s = requests.get(base + f"/v1/sms/sends/{j['id']}", headers=h, params={"limit": 1},
                         timeout=30).json()
        delivered = s["counts"]["DELIVERED"]
        if delivered >= n:
            break
        time.sleep(0.5)
    dlr_s = time.time() - t_queued
    s = requests.get(base + f"/v1/sms/sends/{j['id']}", headers=h, params={"limit": 1},
                     timeout=30).json()
    return {"queue_s": queue_s, "rows": rows, "done": done, "handoff": handoff,
            "handoff_s": handoff_s, "delivered": delivered, "dlr_s": dlr_s,
            "counts": s["counts"]}


def stored_inbound(db, prefix):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute("select count(*) from sms_inbound where msg_id like ?",
                           (prefix + "-%",)).fetchone()[0]
    finally:
        con.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--izin", default="build/rel/izin")
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--limit", type=float, default=120.0, help="seconds a step may take")
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--inbound-seconds", type=int, default=10)
    ap.add_argument("--threads", type=int, default=16, help="izin's HTTP threads")
    ap.add_argument("--strict", action="store_true")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    if not installed():
        raise SystemExit("sms-bench: Kannel is not installed (apt-get install kannel)")
    if not shutil.which("wrk"):
        raise SystemExit("sms-bench: wrk is not installed (apt-get install wrk)")
    tmp = tempfile.mkdtemp(prefix="izin-sms-bench-")
    data = os.path.join(tmp, "data")
    procs = []
    kannel = None
    results = []
    try:
        run(a.izin, "init", data=data)
        run(a.izin, "account", "add", "--name", "bench", "--iys-code", str(BRAND), data=data)
        run(a.izin, "brand", "add", "--account", "bench", "--code", str(BRAND), "--name", "ACME",
            "--keyword", "ACME", "--short-number", "4607", "--trade-name", "ACME Ticaret A.Ş.",
            "--mersis", "0123456789012345", "--contact", "0212 555 01 23", data=data)
        key = run(a.izin, "key", "add", "--account", "bench", data=data).strip()
        h = {"Authorization": "Bearer " + key}
        csv = os.path.join(tmp, "consents.csv")
        with open(csv, "w") as f:
            f.write("recipient,type,status,source,consentDate\n")
            for i in range(a.n):
                f.write(f"{phone(i)},MESAJ,ONAY,HS_WEB,2026-01-05 10:00:00\n")
        log(f"importing {a.n} consents")
        run(a.izin, "import", "--brand", str(BRAND), csv, data=data)
        os.unlink(csv)

        port = free_port()
        kannel = Kannel(os.path.join(tmp, "kannel"), izin_port=port, gateway_token=TOKEN,
                        count_only=True).start()
        to = [phone(i) for i in range(a.n)]
        direct_n = min(a.n, 20000)

        # izin without delivery reports: the hand-off alone
        p, base, errf = start_izin(a.izin, data, port, kannel, a.concurrency, dlr=False,
                                   threads=a.threads)
        procs.append((p, errf))
        log("the filter alone (the queueing baseline)")
        t0 = time.time()
        r = requests.post(base + f"/v1/brands/{BRAND}/check", params={"type": "MESAJ"},
                          headers={**h, "Content-Type": "text/plain"}, timeout=a.limit,
                          data="\n".join(to).encode())
        check_s = time.time() - t0
        assert r.status_code == 200 and int(r.headers["X-Izin-Allowed"]) == a.n, r.text[:200]
        log("Kannel alone (the hand-off baseline)")
        direct, direct_ok, _ = kannel_direct(kannel, direct_n, a.concurrency, a.limit, tmp)
        log(f"campaign of {a.n}, no delivery reports")
        c1 = campaign(base, h, kannel, data, to, a.limit, reports=False)
        end(p, errf, timeout=30)
        procs.remove((p, errf))

        # izin with Kannel's delivery reports, as it runs by default
        p, base, errf = start_izin(a.izin, data, port, kannel, a.concurrency, dlr=True,
                                   threads=a.threads)
        procs.append((p, errf))
        log("Kannel alone with delivery reports to izin (the baseline)")
        direct_r, direct_r_ok, direct_back = kannel_direct(kannel, direct_n, a.concurrency,
                                                           a.limit, tmp,
                                                           dlr=f"{base}/v1/sms/dlr")
        log(f"campaign of {a.n}, with delivery reports")
        c2 = campaign(base, h, kannel, data, to, a.limit, reports=True)

        log("inbound: one client, one request at a time (baseline)")
        single = wrk(base, 1, 1, max(3, a.inbound_seconds // 2), "one", tmp)
        log("inbound: concurrent clients")
        many = wrk(base, 2, 64, a.inbound_seconds, "many", tmp)
        stored_one = stored_inbound(f"{data}/izin.db", "one")
        stored_many = stored_inbound(f"{data}/izin.db", "many")

        print()
        print(f"SMS: a campaign of {a.n:,} commercial recipients (all with ONAY) and inbound "
              f"messages, izin on loopback with Kannel 1.4.5 and a fake SMSC")
        print(f"{'figure':46} {'value':>12} {'target':>12} {'baseline':>12} {'ratio':>7}  result")
        print("-" * 100)

        def line(name, value, target, baseline, ratio, ok):
            print(f"{name:46} {value:>12} {target:>12} {baseline:>12} {ratio:>7}  "
                  f"{'' if ok is None else ('PASS' if ok else 'FAIL')}")

        q_ok = c1["queue_s"] <= T_QUEUE_S and c1["rows"] == a.n
        results.append(q_ok)
        line("campaign filtered and queued (202), s", f"{c1['queue_s']:.2f}",
             f"<= {T_QUEUE_S:g}", f"{check_s:.2f}", f"{c1['queue_s'] / check_s:.1f}x", q_ok)
        line("  rows on disk at the 202", f"{c1['rows']:,}", f"{a.n:,}", "", "", None)
        line("  same, the second campaign (reports on)", f"{c2['queue_s']:.2f}", "", "", "",
             None)
        h_ok = c1["done"] and c1["handoff"] >= T_HANDOFF
        results.append(h_ok)
        line("handed to Kannel, SMS/s" + ("" if c1["done"] else " (partial)"),
             f"{c1['handoff']:,.0f}", f">= {T_HANDOFF:,.0f}", f"{direct:,.0f}",
             f"{c1['handoff'] / direct:.2f}x", h_ok)
        line("  seconds from the 202 to the last at the SMSC", f"{c1['handoff_s']:.1f}", "", "",
             "", None)
        line("  FAILED / UNKNOWN", f"{c1['counts']['FAILED']} / {c1['counts']['UNKNOWN']}",
             "0 / 0", "", "", None)
        line("with delivery reports: to the SMSC, SMS/s" + ("" if c2["done"] else " (partial)"),
             f"{c2['handoff']:,.0f}", "", f"{direct_r:,.0f}",
             f"{c2['handoff'] / direct_r:.2f}x", None)
        back = a.n / c2["dlr_s"] if c2["delivered"] >= a.n else c2["delivered"] / c2["dlr_s"]
        line("  every report back, SMS/s" + ("" if c2["delivered"] >= a.n else " (partial)"),
             f"{back:,.0f}", "", f"{direct_back:,.0f}", f"{back / direct_back:.2f}x", None)
        line("  DELIVERED by Kannel's reports", f"{c2['delivered']:,}", f"{a.n:,}", "", "", None)
        line("  seconds from the 202 to the last report", f"{c2['dlr_s']:.1f}", "", "", "", None)
        line("  FAILED / UNKNOWN", f"{c2['counts']['FAILED']} / {c2['counts']['UNKNOWN']}",
             "0 / 0", "", "", None)
        i_ok = many["rate"] >= T_INBOUND and stored_many >= many["ok"] and many["bad"] == 0
        results.append(i_ok)
        line("inbound JSON, messages/s (64 clients)", f"{many['rate']:,.0f}",
             f">= {T_INBOUND:,.0f}", f"{single['rate']:,.0f}",
             f"{many['rate'] / single['rate']:.1f}x", i_ok)
        line("  answered 200 / stored", f"{many['ok']:,} / {stored_many:,}", "all stored", "",
             "", None)
        line("  not 200, socket errors", f"{many['bad']}", "0", "", "", None)
        if many["errors"]:
            print(f"    wrk socket errors: {many['errors']}")
        line("  mean latency (64 clients / one)", many["latency"], "", single["latency"], "",
             None)
        line("  one client: answered 200 / stored", f"{single['ok']:,} / {stored_one:,}", "",
             "", "", None)
        if not (direct_ok and direct_r_ok):
            print("  (Kannel alone did not finish within the limit: its rate is partial)")
        print()
    finally:
        for p, f in procs:
            end(p, f, timeout=30)
        if kannel:
            kannel.stop()
        if a.keep:
            log("kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if a.strict and not all(results):
        sys.exit(1)


if __name__ == "__main__":
    main()
