#!/usr/bin/python3
"""Measure izin's İYS delivery against the emulator and print one table (`make bench`).

Issue 9's figures, on loopback against `izin iys-sim --rate 10 --min-poll 0`
(İYS's live limit: 10 requests a second per client address, up to 1000
consents a bulk request, so a ceiling of 10,000 consents a second). Each
phase runs a fresh izin store with 3 accounts (three İYS provider codes, one
izin, one client address) and `izin serve --iys-bulk-poll 2
--iys-pull-interval 3600`:
  1. the baseline, first: the same with `--iys-bulk-after 1000000` (one v2
     single add per change, the path before bulk delivery; no flag when the
     binary has none), --baseline-n changes over the 3 accounts, then the
     lone changes of 3.;
  2. drain: the 3 accounts queue N API changes each while İYS is down; İYS
     comes back at t0 and the figure is consents a second from t0 until
     izin's outbox is empty (target >= 4,000/s at N = 10,000), with the 429
     answers İYS gave from t0 to the end of the phase (target 0); then every
     change is checked at İYS (the emulator's store, read-only) and in izin;
  3. lone change: with the queue empty, one change from its POST until izin
     shows it ACCEPTED by İYS, 5 times (target: the worst <= 1 s).
The outage is the emulator's fault injection (PUT /_sim/faults
outageSeconds: 503 H192 to every İYS call), renewed in short windows while
the changes are posted so that its Retry-After never announces an end the
harness does not keep, and ended with `{}` at the moment the harness
chooses (t0). Every step has a time limit (a slow izin gives a partial drain
rate, marked so); everything started is stopped and the temporary directory
removed (unless --keep), also on failure, Ctrl-C or SIGTERM.

Exit 0 when the run completed (a missed target prints FAIL; --strict makes
it exit 1), 2 when the harness itself could not run.
"""
import argparse
import http.client
import json
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from run import on_sigterm, stop  # bench/run.py: SIGTERM unwinds as Ctrl-C; stop a child

ACCOUNTS = 3
IYS_CODE0 = 810001         # the accounts' İYS codes (= their brand codes): 810001..810003
N_ISSUE = 10_000           # changes an account, as the issue sets the target
T_RATE = 4000.0            # consents a second, the drain target
T_429 = 0                  # 429 answers after recovery
T_LONE = 1.0               # seconds, the worst lone change
CEILING = 10_000           # İYS's ceiling: 10 requests/s x 1000 a bulk request
LONE_SAMPLES = 5
BASELINE_BULK_AFTER = 1_000_000

# Recipient ranges (+90 53X YYY YYYY, 7 digits after the operator code): the
# digit after 532 names the use, so that no two phases share an address.
MAIN_DIGIT = 0             # 0..2: the main drain, one digit an account
LONE_DIGIT = 3
BASE_DIGIT = 4             # 4..6: the baseline's drain
BASE_LONE_DIGIT = 7


class HarnessError(Exception):
    pass


def log(msg):
    print("delivery: " + msg, file=sys.stderr, flush=True)


def tr_time(offset_s=0):
    """Turkey's time (UTC+3, no DST) as İYS writes it."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() + 3 * 3600 + offset_s))


def phone(digit, i):
    return "+90532%d%06d" % (digit, i)


# ---------------------------------------------------------------- processes

class Proc:
    """A child (izin serve or izin iys-sim) with stdout and stderr in files;
    its base URL is read from the banner it prints on stdout."""

    def __init__(self, name, argv, workdir):
        self.name, self.argv = name, argv
        self.out_path = os.path.join(workdir, name + ".stdout")
        self.err_path = os.path.join(workdir, name + ".stderr")
        self.proc = None
        self.base = None

    def start(self, timeout=30):
        with open(self.out_path, "ab") as out, open(self.err_path, "ab") as err:
            self.proc = subprocess.Popen(self.argv, stdout=out, stderr=err,
                                         stdin=subprocess.DEVNULL)
        deadline = time.time() + timeout
        pos = os.path.getsize(self.out_path) if os.path.exists(self.out_path) else 0
        while time.time() < deadline:
            with open(self.out_path, "rb") as f:
                f.seek(pos)
                m = re.search(rb"http://127\.0\.0\.1:(\d+)", f.read())
            if m:
                self.base = "http://127.0.0.1:%d" % int(m.group(1))
                break
            if self.proc.poll() is not None:
                raise HarnessError("%s exited (%d): %s" % (self.name, self.proc.returncode,
                                                           self.stderr_tail()))
            time.sleep(0.05)
        if not self.base:
            raise HarnessError("%s did not report its address within %d s" % (self.name, timeout))
        c = Client(self.base)
        try:
            while time.time() < deadline:
                try:
                    if c.request("GET", "/healthz")[0] == 200:
                        return self
                except OSError:
                    pass
                time.sleep(0.05)
        finally:
            c.close()
        raise HarnessError("%s did not become healthy" % self.name)

    def stderr_tail(self, n=600):
        try:
            with open(self.err_path, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace").strip()
        except OSError:
            return ""

    def stop(self):
        stop(self.proc)


def izin_cmd(binary, data, *args):
    r = subprocess.run([binary, *args, "--data", data], capture_output=True, text=True,
                       timeout=60, stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        raise HarnessError("izin %s failed: %s" % (" ".join(args), r.stderr.strip()))
    return r.stdout.strip()


# ---------------------------------------------------------------- HTTP

class Client:
    """One keep-alive HTTP/1.1 connection to a loopback server; reconnects
    once when the server closed it."""

    def __init__(self, base, headers=None, timeout=10):
        m = re.match(r"http://([^:/]+):(\d+)$", base)
        self.host, self.port = m.group(1), int(m.group(2))
        self.headers = dict(headers or {})
        self.timeout = timeout
        self.conn = None

    def request(self, method, path, body=None):
        data = None
        hdr = dict(self.headers)
        if body is not None:
            data = json.dumps(body).encode()
            hdr["Content-Type"] = "application/json"
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=data, headers=hdr)
                resp = self.conn.getresponse()
                raw = resp.read()
                if resp.getheader("Connection", "").lower() == "close":
                    self.close()
                return resp.status, raw
            except (http.client.HTTPException, OSError):
                self.close()
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    def json(self, method, path, body=None):
        status, raw = self.request(method, path, body)
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode("utf-8", "replace")

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def parse_metrics(text):
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, _, v = line.rpartition(" ")
            try:
                out[k] = float(v)
            except ValueError:
                pass
    return out


class Izin:
    """A running `izin serve` and the clients the harness talks to it with."""

    def __init__(self, proc, keys):
        self.proc = proc
        self.base = proc.base
        self.keys = keys                      # account index -> API key
        self.mc = Client(self.base, timeout=5)

    def metrics(self):
        status, raw = self.mc.request("GET", "/metrics")
        if status != 200:
            raise HarnessError("GET /metrics answered %d" % status)
        return parse_metrics(raw.decode("utf-8", "replace"))

    def outbox(self):
        return int(self.metrics().get("izin_outbox_changes", -1))

    def client(self, acct):
        return Client(self.base, {"Authorization": "Bearer " + self.keys[acct]})

    def close(self):
        self.mc.close()


def consent_body(recipient, date):
    return {"recipient": recipient, "type": "MESAJ", "status": "ONAY", "source": "HS_WEB",
            "consentDate": date}


def brand_of(acct):
    return IYS_CODE0 + acct


def sim_stats(sim_client):
    status, j = sim_client.json("GET", "/_sim/stats")
    if status != 200 or not isinstance(j, dict):
        raise HarnessError("GET /_sim/stats answered %d" % status)
    return j


def count_status(stats, code):
    """Answers with HTTP status `code` over every İYS API endpoint."""
    return sum(int(by.get(str(code), 0)) for tag, by in stats.get("endpoints", {}).items()
               if tag != "_sim" and tag != "web")


def h124(stats):
    """İYS's per-second limit hits (429 H124)."""
    return int(stats.get("rateLimitHits", {}).get("H124", 0))


def requests_by_tag(before, after):
    """API requests answered between two stats snapshots, by endpoint tag."""
    out = {}
    for tag, by in after.get("endpoints", {}).items():
        if tag in ("_sim", "web"):
            continue
        b = before.get("endpoints", {}).get(tag, {})
        n = sum(int(v) for v in by.values()) - sum(int(v) for v in b.values())
        if n:
            out[tag] = n
    return out


def set_faults(sim_client, body):
    status, j = sim_client.json("PUT", "/_sim/faults", body)
    if status != 200:
        raise HarnessError("PUT /_sim/faults %s answered %d: %s" % (json.dumps(body), status, j))


# ---------------------------------------------------------------- steps

class Outage:
    """İYS down: 503 to every API call from start() until end(). The window
    is renewed every second for `window` seconds more, so a client reading
    Retry-After is never told of an end further away than that."""

    def __init__(self, sim_base, window):
        self.sim = Client(sim_base, timeout=5)
        self.window = window
        self.stop_evt = threading.Event()
        self.th = None
        self.error = None

    def start(self):
        set_faults(self.sim, {"outageSeconds": self.window})
        self.th = threading.Thread(target=self._renew, daemon=True)
        self.th.start()

    def _renew(self):
        while not self.stop_evt.wait(1.0):
            try:
                set_faults(self.sim, {"outageSeconds": self.window})
            except (HarnessError, OSError) as e:
                self.error = str(e)

    def end(self):
        """Clear every fault; returns the moment İYS answers again (t0)."""
        self.stop_evt.set()
        if self.th:
            self.th.join(10)
        set_faults(self.sim, {})
        t0 = time.time()
        self.sim.close()
        return t0


def fill(izin, items, threads, limit_s):
    """POST every (account, recipient) to izin's API from `threads` threads,
    each with its own keep-alive connection per account. Returns (posted,
    failures, first failure, seconds)."""
    date = tr_time(-3600)
    lock = threading.Lock()
    res = {"ok": 0, "bad": 0, "first": None}
    deadline = time.time() + limit_s

    def work(k):
        clients = {}
        ok = bad = 0
        first = None
        try:
            for idx in range(k, len(items), threads):
                if time.time() > deadline:
                    break
                acct, rcp = items[idx]
                c = clients.get(acct)
                if c is None:
                    c = clients[acct] = izin.client(acct)
                try:
                    status, raw = c.request("POST", "/v1/brands/%d/consents" % brand_of(acct),
                                            consent_body(rcp, date))
                except OSError as e:
                    status, raw = 0, str(e).encode()
                if status in (200, 201):
                    ok += 1
                else:
                    bad += 1
                    if first is None:
                        first = "HTTP %d %s" % (status, raw[:200].decode("utf-8", "replace"))
        finally:
            for c in clients.values():
                c.close()
            with lock:
                res["ok"] += ok
                res["bad"] += bad
                if res["first"] is None:
                    res["first"] = first

    t = time.time()
    ths = [threading.Thread(target=work, args=(k,), daemon=True) for k in range(threads)]
    for th in ths:
        th.start()
    for th in ths:
        th.join(max(0.0, deadline - time.time()) + 15)
    return res["ok"], res["bad"], res["first"], time.time() - t


def drain(izin, t0, queued, limit_s):
    """Poll izin's outbox every 100 ms from t0 until it is empty or the limit
    passes. Returns dict: empty (bool), t_first, t_end, left."""
    deadline = t0 + limit_s
    t_first = None
    left = queued
    while True:
        start = time.time()
        try:
            left = izin.outbox()
        except OSError:
            pass  # a missed poll: keep the last figure
        now = time.time()
        if t_first is None and left < queued:
            t_first = now
        if left == 0:
            return {"empty": True, "t_first": t_first, "t_end": now, "left": 0}
        if now >= deadline:
            return {"empty": False, "t_first": t_first, "t_end": now, "left": left}
        time.sleep(max(0.0, 0.1 - (time.time() - start)))


def wait_empty(izin, limit_s):
    deadline = time.time() + limit_s
    while time.time() < deadline:
        try:
            if izin.outbox() == 0:
                return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def lone_changes(izin, digit, samples, limit_s):
    """`samples` single changes, each posted with the queue empty; seconds
    from the POST until izin shows iys.state ACCEPTED (None when it did not
    within limit_s). Returns (list of latencies, note)."""
    out = []
    note = None
    date = tr_time(-3600)
    for j in range(samples):
        acct = j % ACCOUNTS
        if not wait_empty(izin, 10):
            note = "the queue did not empty before sample %d" % (j + 1)
            break
        c = izin.client(acct)
        try:
            rcp = phone(digit, j)
            path = "/v1/brands/%d/consents" % brand_of(acct)
            t = time.time()
            status, j1 = c.json("POST", path, consent_body(rcp, date))
            if status not in (200, 201):
                raise HarnessError("lone change: HTTP %d %s" % (status, j1))
            got = None
            deadline = t + limit_s
            while time.time() < deadline:
                status, j2 = c.json("GET", path + "/" + rcp + "?type=MESAJ")
                state = (j2 or {}).get("iys", {}).get("state") if status == 200 else None
                if state == "ACCEPTED":
                    got = time.time() - t
                    break
                if state == "REJECTED":
                    note = "sample %d REJECTED by İYS: %s" % (j + 1, j2.get("iys"))
                    break
                time.sleep(0.02)
            out.append(got)
        finally:
            c.close()
        time.sleep(0.2)
    return out, note


def sim_count(sim_dir, digits):
    """From the emulator's own store (read-only): for each account, consent
    states and consent-log rows of its range. None when the store cannot be
    read so (another schema)."""
    path = os.path.join(sim_dir, "iys-sim.db")
    try:
        con = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=10)
    except sqlite3.Error:
        return None
    try:
        states = logs = 0
        for acct, digit in enumerate(digits):
            like = "+90532%d%%" % digit
            code = IYS_CODE0 + acct
            states += con.execute("SELECT count(*) FROM consent_state WHERE iys_code = ? AND "
                                  "brand_code = ? AND recipient LIKE ? AND status = 'ONAY'",
                                  (code, code, like)).fetchone()[0]
            logs += con.execute("SELECT count(*) FROM consent_log WHERE iys_code = ? AND "
                                "brand_code = ? AND recipient LIKE ?",
                                (code, code, like)).fetchone()[0]
        return states, logs
    except sqlite3.Error:
        return None
    finally:
        con.close()


def sample_accepted(izin, digits, n, k=100):
    """izin's own view of k changes spread over the range: how many are
    ACCEPTED by İYS."""
    ok = 0
    total = 0
    step = max(1, (n * len(digits)) // k)
    clients = {}
    try:
        for x in range(0, n * len(digits), step):
            acct, i = x % len(digits), x // len(digits)
            c = clients.get(acct) or clients.setdefault(acct, izin.client(acct))
            rcp = phone(digits[acct], i)
            status, j = c.json("GET", "/v1/brands/%d/consents/%s?type=MESAJ" % (brand_of(acct), rcp))
            total += 1
            if status == 200 and (j or {}).get("iys", {}).get("state") == "ACCEPTED":
                ok += 1
            if total >= k:
                break
    finally:
        for c in clients.values():
            c.close()
    return ok, total


def phase(name, args, izin, sim_base, sim_dir, digits, n_each, lone_digit, limit_fn):
    """One measured phase: queue n_each changes on each account during an
    outage, end it, time the drain (limit_fn() seconds at most, asked at
    t0), check the result, then the lone changes."""
    r = {"name": name, "queued_target": n_each * len(digits)}
    simc = Client(sim_base, timeout=10)
    try:
        if not wait_empty(izin, 30):
            raise HarnessError("%s: izin's outbox is not empty before the phase" % name)
        m_pre = izin.metrics()
        items = [(a, phone(digits[a], i)) for i in range(n_each) for a in range(len(digits))]
        outage = Outage(sim_base, args.outage_window)
        outage.start()
        try:
            log("%s: İYS down; posting %d changes (%d accounts, %d threads, limit %d s)"
                % (name, len(items), len(digits), args.threads, args.fill_limit))
            ok, bad, first, secs = fill(izin, items, args.threads, args.fill_limit)
            r.update(posted=ok, post_failures=bad, first_failure=first, fill_s=secs)
            log("%s: %d posted in %.1f s (%.0f/s), %d failed%s" % (
                name, ok, secs, ok / secs if secs else 0, bad, (": " + first) if first else ""))
            if outage.error:
                r["outage_error"] = outage.error
            m_before = izin.metrics()
            s_before = sim_stats(simc)
        finally:
            t0 = outage.end()
        r["t0"] = t0
        drain_limit = limit_fn()
        r["outbox_at_t0"] = int(m_before.get("izin_outbox_changes", -1))
        acc_key = 'izin_iys_changes_total{result="accepted"}'
        r["leaked"] = int(m_before.get(acc_key, 0) - m_pre.get(acc_key, 0))
        log("%s: İYS back (t0); outbox %d; draining (limit %d s)"
            % (name, r["outbox_at_t0"], drain_limit))
        d = drain(izin, t0, r["outbox_at_t0"], drain_limit)
        r.update(d)
        elapsed = d["t_end"] - t0
        r["drain_s"] = elapsed
        done = r["outbox_at_t0"] - d["left"]
        r["delivered"] = done
        r["rate"] = (ok if d["empty"] else done) / elapsed if elapsed > 0 else 0.0
        if d["t_first"] is not None:
            r["first_s"] = d["t_first"] - t0
            if d["t_end"] > d["t_first"]:
                r["rate_after_first"] = done / (d["t_end"] - d["t_first"])
        s_drained = sim_stats(simc)
        m_drained = izin.metrics()
        r["requests"] = requests_by_tag(s_before, s_drained)
        log("%s: %s after %.1f s: %.0f consents/s; İYS requests %s" % (
            name, "drained" if d["empty"] else "gave up with %d left" % d["left"], elapsed,
            r["rate"], json.dumps(r["requests"], sort_keys=True)))
        r["accepted"] = int(m_drained.get(acc_key, 0) - m_before.get(acc_key, 0))
        rej_key = 'izin_iys_changes_total{result="rejected"}'
        r["rejected"] = int(m_drained.get(rej_key, 0) - m_before.get(rej_key, 0))
        if d["empty"]:
            r["sim_count"] = sim_count(sim_dir, digits)
            r["sample"] = sample_accepted(izin, digits, n_each)
            lat, note = lone_changes(izin, lone_digit, LONE_SAMPLES, args.lone_limit)
            r["lone"] = lat
            r["lone_note"] = note
        else:
            r["lone"] = []
            r["lone_note"] = "not measured: the queue did not empty"
        s_after = sim_stats(simc)
        m_after = izin.metrics()
        r["429"] = count_status(s_after, 429) - count_status(s_before, 429)
        r["h124"] = h124(s_after) - h124(s_before)
        rl_key = 'izin_iys_answers_total{class="rate_limited"}'
        r["rate_limited"] = int(m_after.get(rl_key, 0) - m_before.get(rl_key, 0))
        return r
    finally:
        simc.close()


# ---------------------------------------------------------------- report

def fmt_s(x):
    return "-" if x is None else "%.3f s" % x


def lone_figures(lat):
    """(worst, median) of the samples; a sample that never arrived counts
    as infinite."""
    if not lat:
        return None, None
    vals = [x if x is not None else float("inf") for x in lat]
    return max(vals), statistics.median(vals)


def table(args, main, base, notes):
    rows = []
    ok_all = True

    def row(name, value, target="", baseline="", ratio="", ok=None):
        nonlocal ok_all
        if ok is not None:
            ok_all = ok_all and ok
        rows.append((name, value, target, baseline, ratio,
                     "" if ok is None else ("PASS" if ok else "FAIL")))

    def rate_text(r):
        if r is None:
            return "-"
        t = "%.0f/s" % r["rate"]
        return t if r["empty"] else t + " (partial)"

    main_ok = main["empty"] and main["rate"] >= T_RATE
    ratio = ""
    if base and base["rate"] > 0:
        ratio = "%.1fx" % (main["rate"] / base["rate"])
    star = "*" if args.n != N_ISSUE else ""
    row("drain after an outage, %d x %d API changes" % (ACCOUNTS, args.n), rate_text(main),
        ">= %d/s%s" % (T_RATE, star), rate_text(base), ratio, main_ok)
    row("  seconds from İYS back to queue empty", "%.1f s" % main["drain_s"]
        + ("" if main["empty"] else ", %d left" % main["left"]), "", 
        "-" if not base else "%.1f s" % base["drain_s"] + ("" if base["empty"] else ", %d left" % base["left"]))
    row("  first change done after İYS was back", fmt_s(main.get("first_s")), "",
        fmt_s(base.get("first_s")) if base else "-")
    if main.get("rate_after_first") is not None:
        row("  rate from the first change done", "%.0f/s" % main["rate_after_first"], "",
            "%.0f/s" % base["rate_after_first"] if base and base.get("rate_after_first") else "-")
    row("  share of İYS's ceiling (10,000/s)", "%.2f%%" % (100.0 * main["rate"] / CEILING), "",
        "%.2f%%" % (100.0 * base["rate"] / CEILING) if base else "-")

    def reqs(r):
        q = r["requests"]
        return "%d" % sum(q.values())
    row("  İYS requests in the drain", reqs(main), "", reqs(base) if base else "-")
    row("429 answers from İYS after recovery", "%d" % main["429"], "%d" % T_429,
        "%d" % base["429"] if base else "-", "", main["429"] <= T_429)
    row("  of them H124, the per-second limit", "%d" % main["h124"], "",
        "%d" % base["h124"] if base else "-")
    row("  izin's rate_limited answers", "%d" % main["rate_limited"], "",
        "%d" % base["rate_limited"] if base else "-")

    def verified(r):
        """(text, ok) of: every change posted, none leaked before t0, all at
        İYS exactly once, none rejected."""
        if not r["empty"]:
            return "-", None
        problems = []
        if r["posted"] != r["queued_target"]:
            problems.append("posted %d" % r["posted"])
        if r["rejected"]:
            problems.append("%d rejected" % r["rejected"])
        if r["accepted"] + r["leaked"] != r["posted"]:
            problems.append("%d accepted" % (r["accepted"] + r["leaked"]))
        sc = r.get("sim_count")
        if sc is not None:
            states, logs = sc
            if states != r["posted"]:
                problems.append("İYS has %d" % states)
            if logs != states:
                problems.append("İYS logged %d" % logs)
        s_ok, s_n = r["sample"]
        if s_ok != s_n:
            problems.append("sample %d/%d ACCEPTED" % (s_ok, s_n))
        if problems:
            return ", ".join(problems)[:40], False
        return "%d%s" % (r["posted"], "" if sc is not None else " (izin)"), True

    v_text, v_ok = verified(main)
    b_text = verified(base)[0] if base else "-"
    row("  at İYS once each, none rejected", v_text, "all", b_text, "", v_ok)

    worst, med = lone_figures(main["lone"])
    bworst, bmed = lone_figures(base["lone"]) if base else (None, None)

    def lat_text(x):
        if x is None:
            return "-"
        return "> %g s" % args.lone_limit if x == float("inf") else "%.3f s" % x

    lone_ok = worst is not None and len(main["lone"]) == LONE_SAMPLES and worst <= T_LONE
    row("lone change to ACCEPTED, worst of %d" % LONE_SAMPLES, lat_text(worst),
        "<= %g s" % T_LONE, lat_text(bworst),
        "%.2fx" % (worst / bworst) if worst and bworst and worst != float("inf")
        and bworst != float("inf") else "", lone_ok)
    row("  median", lat_text(med), "", lat_text(bmed))

    heads = ("figure", "value", "target", "baseline", "ratio", "result")
    w = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(heads)]
    print()
    print("izin İYS delivery: %d accounts x %d API changes queued during an outage, "
          "iys-sim --rate %d --min-poll 0, loopback" % (ACCOUNTS, args.n, args.sim_rate))
    if base:
        print("baseline, measured first: a fresh izin with %s, %d changes over the same %d "
              "accounts" % (base["flag"], base["queued_target"], ACCOUNTS))
    print("  ".join(h.ljust(w[i]) for i, h in enumerate(heads)).rstrip())
    print("-" * (sum(w) + 2 * (len(w) - 1)))
    for r in rows:
        print("  ".join(c.ljust(w[i]) for i, c in enumerate(r)).rstrip())
    print()
    if star:
        notes.append("* the rate target is set for --n %d; with fewer changes the fixed "
                     "delays (bulk processing, status polls, recovery) weigh more" % N_ISSUE)
    for r in (main, base):
        if r is None:
            continue
        if r.get("lone_note"):
            notes.append("%s lone changes: %s" % (r["name"], r["lone_note"]))
        if r["posted"] + r["post_failures"] < r["queued_target"]:
            notes.append("%s: %d of %d changes posted within --fill-limit %d s"
                         % (r["name"], r["posted"], r["queued_target"], args.fill_limit))
        if r["outbox_at_t0"] != r["posted"] - r["leaked"]:
            notes.append("%s: izin's outbox held %d changes at t0, %d were posted"
                         % (r["name"], r["outbox_at_t0"], r["posted"]))
        if r["leaked"]:
            notes.append("%s: %d changes reached İYS before t0 (the outage let them through)"
                         % (r["name"], r["leaked"]))
        if r.get("outage_error"):
            notes.append("%s: renewing the outage failed: %s" % (r["name"], r["outage_error"]))
        if r["post_failures"]:
            notes.append("%s: %d posts failed (%s)" % (r["name"], r["post_failures"],
                                                        r["first_failure"]))
        notes.append("%s: %d posted in %.1f s (%.0f/s); İYS requests in the drain by endpoint: %s"
                     % (r["name"], r["posted"], r["fill_s"],
                        r["posted"] / r["fill_s"] if r["fill_s"] else 0,
                        ", ".join("%s %d" % kv for kv in sorted(r["requests"].items())) or "none"))
        if r.get("sim_count") is None and r["empty"]:
            notes.append("%s: the emulator's store could not be counted; checked through izin "
                         "(accepted counter and a sample of 100)" % r["name"])
    for n in notes:
        print("note: " + n)
    print("overall: " + ("PASS" if ok_all else "FAIL"))
    return ok_all


# ---------------------------------------------------------------- main

def serve_argv(args, data, extra):
    return [args.izin, "serve", "--listen", "127.0.0.1:0", "--data", data,
            "--iys-bulk-poll", "2", "--iys-pull-interval", "3600", *extra]


def make_store(args, data, sim_base):
    """A fresh izin store with the 3 accounts (their İYS the emulator), a
    brand and an API key each. Returns the keys by account index."""
    izin_cmd(args.izin, data, "init")
    keys = {}
    for a in range(ACCOUNTS):
        code = IYS_CODE0 + a
        name = "bench%d" % (a + 1)
        izin_cmd(args.izin, data, "account", "add", "--name", name, "--iys-code", str(code),
                 "--iys-url", sim_base, "--iys-user", "bench%d" % code,
                 "--iys-password", "bench-%d-secret" % code)
        izin_cmd(args.izin, data, "brand", "add", "--account", name, "--code", str(code),
                 "--name", "Bench %d" % (a + 1))
        keys[a] = izin_cmd(args.izin, data, "key", "add", "--account", name).splitlines()[-1]
    return keys


def run_phase(args, workdir, procs, sim, name, extra, digits, n_each, lone_digit, limit_fn):
    """A fresh store and `izin serve` on it, one phase, the server stopped."""
    data = os.path.join(workdir, "izin-" + name)
    keys = make_store(args, data, sim.base)
    srv = Proc("serve-" + name, serve_argv(args, data, extra), workdir)
    procs.append(srv)
    srv.start()
    log("%s: izin on %s %s" % (name, srv.base, " ".join(extra)))
    iz = Izin(srv, keys)
    try:
        return phase(name, args, iz, sim.base, os.path.join(workdir, "sim"), digits, n_each,
                     lone_digit, limit_fn)
    finally:
        iz.close()
        srv.stop()


def run(args, workdir, procs, notes):
    t_start = time.time()
    help_text = subprocess.run([args.izin, "serve", "--help"], capture_output=True, text=True,
                               timeout=30, stdin=subprocess.DEVNULL)
    has_bulk_after = "--iys-bulk-after" in (help_text.stdout + help_text.stderr)

    sim_dir = os.path.join(workdir, "sim")
    os.makedirs(sim_dir)
    sim = Proc("iys-sim", [args.izin, "iys-sim", "--listen", "127.0.0.1:0", "--data", sim_dir,
                           "--rate", str(args.sim_rate), "--min-poll", "0", "--pull-lag", "0"],
               workdir)
    procs.append(sim)
    sim.start()
    log("emulator on %s" % sim.base)
    simc = Client(sim.base)
    try:
        for a in range(ACCOUNTS):
            code = IYS_CODE0 + a
            status, j = simc.json("POST", "/_sim/providers", {
                "iysCode": code, "name": "Bench Sağlayıcı %d" % (a + 1),
                "username": "bench%d" % code, "password": "bench-%d-secret" % code,
                "brands": [{"brandCode": code, "name": "Bench Marka %d" % (a + 1)}]})
            if status != 201:
                raise HarnessError("POST /_sim/providers answered %d: %s" % (status, j))
    finally:
        simc.close()

    if not has_bulk_after:
        notes.append("this izin has no --iys-bulk-after (it sends one request per change): "
                     "the main phase and the baseline run the same engine")

    # The baseline first: small and bounded, so that a slow main phase
    # cannot squeeze it out of the time budget.
    base = None
    if args.baseline_n > 0:
        extra = ["--iys-bulk-after", str(BASELINE_BULK_AFTER)] if has_bulk_after else []
        base = run_phase(args, workdir, procs, sim, "baseline", extra,
                         [BASE_DIGIT + a for a in range(ACCOUNTS)],
                         max(1, args.baseline_n // ACCOUNTS), BASE_LONE_DIGIT,
                         lambda: args.baseline_drain_limit)
        base["flag"] = " ".join(extra) or "no flag"

    # The main phase: the engine's own choice (or --bulk-after when given).
    extra = []
    if args.bulk_after is not None:
        if has_bulk_after:
            extra = ["--iys-bulk-after", str(args.bulk_after)]
        else:
            notes.append("--bulk-after ignored: this izin has no --iys-bulk-after")
    main_r = run_phase(args, workdir, procs, sim, "main", extra,
                       [MAIN_DIGIT + a for a in range(ACCOUNTS)], args.n, LONE_DIGIT,
                       lambda: main_drain_limit(args, t_start, notes))
    return main_r, base


def main_drain_limit(args, t_start, notes):
    """The main drain's limit: --drain-limit, less when the run would
    otherwise pass its time budget (the lone changes kept)."""
    left = args.time_budget - (time.time() - t_start) - LONE_SAMPLES * args.lone_limit
    limit = max(10, min(args.drain_limit, int(left)))
    if limit < args.drain_limit:
        notes.append("main drain limited to %d s to keep the run within --time-budget %d s"
                     % (limit, args.time_budget))
    return limit


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--izin", default="build/rel/izin", help="the izin binary")
    ap.add_argument("--n", type=int, default=N_ISSUE, help="changes queued an account (3 accounts)")
    ap.add_argument("--baseline-n", type=int, default=300,
                    help="changes of the one-request-per-change baseline, over the 3 accounts "
                         "(0: no baseline)")
    ap.add_argument("--bulk-after", type=int, default=None,
                    help="give the main phase --iys-bulk-after N (default: izin's own)")
    ap.add_argument("--threads", type=int, default=8, help="threads posting the changes")
    ap.add_argument("--sim-rate", type=int, default=10,
                    help="the emulator's requests a second per address (İYS: 10)")
    ap.add_argument("--outage-window", type=int, default=3,
                    help="seconds the outage is renewed for, every second, while posting")
    ap.add_argument("--fill-limit", type=int, default=120, help="seconds for posting the changes")
    ap.add_argument("--drain-limit", type=int, default=120, help="seconds for the main drain")
    ap.add_argument("--baseline-drain-limit", type=int, default=60,
                    help="seconds for the baseline's drain")
    ap.add_argument("--lone-limit", type=float, default=3.0,
                    help="seconds a lone change is waited for")
    ap.add_argument("--time-budget", type=int, default=330,
                    help="seconds the whole run aims to stay within (the main drain's limit "
                         "shrinks when the steps before it ran long)")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    ap.add_argument("--keep", metavar="DIR",
                    help="work in DIR (new or empty) and keep it: stores and logs")
    args = ap.parse_args()
    if not 1 <= args.n <= 999_999:
        ap.error("--n must be 1..999999")
    if not 0 <= args.baseline_n <= 2_999_997:
        ap.error("--baseline-n must be 0..2999997")
    if not os.access(args.izin, os.X_OK):
        log("error: %s is not an executable (run make first)" % args.izin)
        sys.exit(2)
    args.izin = os.path.abspath(args.izin)

    if args.keep:
        workdir = os.path.abspath(args.keep)
        os.makedirs(workdir, exist_ok=True)
        if os.listdir(workdir):
            log("error: --keep %s: the directory is not empty" % workdir)
            sys.exit(2)
    else:
        workdir = tempfile.mkdtemp(prefix="izin-delivery-")
    signal.signal(signal.SIGTERM, on_sigterm)
    procs = []
    notes = []
    rc = 0
    try:
        main_r, base_r = run(args, workdir, procs, notes)
        ok = table(args, main_r, base_r, notes)
        rc = 0 if ok or not args.strict else 1
    except HarnessError as e:
        log("error: %s" % e)
        for p in procs:
            tail = p.stderr_tail()
            if tail and p.proc and p.proc.poll() is not None:
                log("%s stderr: %s" % (p.name, tail))
        rc = 2
    except (OSError, http.client.HTTPException) as e:
        log("error: %s: %s" % (type(e).__name__, e))
        rc = 2
    except KeyboardInterrupt:
        log("interrupted")
        rc = 2
    finally:
        for p in reversed(procs):
            p.stop()
        if args.keep:
            log("kept %s" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    sys.exit(rc)


if __name__ == "__main__":
    main()
