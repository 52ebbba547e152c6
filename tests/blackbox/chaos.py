"""Crash consistency under every writer at once (issue 16, part 2).

One izin serve takes consents through all its ways in at the same time -
API writes, bulk uploads, inbound SMS, the consent page - while its İYS sync
sends to the emulator, its SMS queue sends replies and codes to a JSON
gateway and its webhook dispatcher posts every change to a receiver. A
killer SIGKILLs izin at random moments and starts it again, `kills` times;
once during the run it kills the emulator too (restarted on its port a
second later) and once it takes the SMS gateway away for a second.

After each restart the consent log's hash chain verifies (`izin verify`).
At the end, with the writers stopped and izin left to drain:
  - every acknowledged change is in the store exactly once (a 201 consent,
    an APPLIED inbound SMS, a "Tercihiniz kaydedildi" page; every row of a
    202 bulk job), and every acknowledged job is DONE - none stuck;
  - İYS (the emulator) holds every change izin sent once, no recipient
    twice, and nothing izin does not have;
  - the webhook receiver got every change of the brand's feed;
  - the SMS gateway got no message id twice, and no SMS is left queued.

run() is shared by tests/blackbox/test_chaos.py (a short run in make test)
and bench/chaos.py (100 kills or more, in make bench).
"""
import http.server
import json
import random
import re
import signal
import subprocess
import threading
import time

import requests

from conftest import IZIN, Server, izin, store_argv, store_env, store_rows, segment_recipients
from simutil import Provider, sim_counts, start_sim

GW_TOKEN = "gw-token-0123456789abcdef"
HOOK_SECRET = "whsec-0123456789-abcdefXYZ"
BULK_ROWS = 300


class Sink:
    """A loopback HTTP receiver (the SMS gateway or the webhook receiver)
    that keeps every JSON body it answered 200 and can go away and come
    back on the same port."""

    def __init__(self):
        self.got = []
        self.lock = threading.Lock()
        self.httpd = None
        self.port = 0
        self.up()
        self.url = "http://127.0.0.1:%d/in" % self.port

    def up(self):
        sink = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with sink.lock:
                    sink.got.append(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), H)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def down(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def bodies(self):
        with self.lock:
            return list(self.got)


class World:
    def __init__(self, tmp, seed):
        self.tmp = tmp
        self.rnd = random.Random(seed)
        self.sim_dir = tmp / "sim"
        self.sim = start_sim(self.sim_dir)
        self.sim_port = int(self.sim.base.rsplit(":", 1)[1])
        self.p = Provider(self.sim, login=False)
        self.gw = Sink()
        self.hooks = Sink()
        self.data = tmp / "module"
        d = self.data
        izin("init", data=d)
        izin("account", "add", "--name", "acme", "--iys-code", str(self.p.iys_code),
             "--iys-url", self.sim.base, "--iys-user", self.p.username,
             "--iys-password", self.p.password, data=d)
        izin("brand", "add", "--account", "acme", "--code", str(self.p.brand), "--name", "ACME",
             data=d)
        info = tmp / "info.txt"
        info.write_text("Kişisel verileriniz 6698 sayılı KVKK uyarınca işlenir.", encoding="utf-8")
        izin("brand", "set", "--code", str(self.p.brand), "--keyword", "ACME", "--short-number",
             "4607", "--slug", "acme", "--info-text", str(info), data=d)
        self.key = izin("key", "add", "--account", "acme", data=d).stdout.strip()
        self.h = {"Authorization": "Bearer " + self.key}
        self.brand = self.p.brand
        self.srv = None
        self.base = None
        self.lock = threading.Lock()
        self.stop = threading.Event()
        # what izin acknowledged
        self.api, self.inbound, self.page, self.jobs = [], [], [], []
        self.restarts = []  # seconds from SIGKILL to healthy again
        self.start()
        r = requests.put(self.base + f"/v1/brands/{self.brand}/webhook", headers=self.h,
                         json={"url": self.hooks.url, "secret": HOOK_SECRET}, timeout=10)
        assert r.status_code in (200, 201), r.text

    def start(self):
        srv = Server(["serve", "--listen", "127.0.0.1:0", "--data", str(self.data),
                      "--iys-pull-interval", "1", "--iys-bulk-poll", "0",
                      "--iys-retry-max", "2", "--gateway-token", GW_TOKEN,
                      "--sms-gateway", "json:" + self.gw.url, "--allow-private-webhooks",
                      "--webhook-give-up", "600"], self.data).start()
        with self.lock:
            self.srv, self.base = srv, srv.base

    def kill(self):
        with self.lock:
            srv, self.base = self.srv, None
        srv.proc.send_signal(signal.SIGKILL)
        srv.proc.wait()
        srv.stop()
        t0 = time.time()
        self.start()
        self.restarts.append(time.time() - t0)
        v = subprocess.run([IZIN, "verify", *store_argv(["--data", str(self.data)])],
                           capture_output=True, text=True, env=store_env(), timeout=120)
        assert v.returncode == 0, (v.stdout, v.stderr)

    def kill_sim(self):
        self.sim.proc.send_signal(signal.SIGKILL)
        self.sim.proc.wait()
        self.sim.stop()
        time.sleep(1)
        self.sim = Server(["iys-sim", "--listen", f"127.0.0.1:{self.sim_port}", "--data",
                           str(self.sim_dir), "--pull-lag", "0", "--bulk-delay", "0", "--rate",
                           "0", "--token-limit", "0", "--allow-http-push"],
                          self.sim_dir).start()

    def gateway_gap(self):
        self.gw.down()
        time.sleep(1)
        self.gw.up()

    def now_base(self):
        with self.lock:
            return self.base


def _phone(prefix, i):
    return "+90%s%07d" % (prefix, i)


def writer(w, attempt, pause=0.0):
    """Call attempt(base, i) again and again with i = 0, 1, ... against the
    server of the moment until the run stops; attempt records what izin
    acknowledged. A refused connection (izin being killed) just moves on."""
    i = 0
    while not w.stop.is_set():
        base = w.now_base()
        if not base:
            time.sleep(0.02)
            continue
        try:
            attempt(base, i)
        except requests.RequestException:
            pass
        i += 1
        if pause:
            w.stop.wait(pause)


def _acked(w, into, item):
    with w.lock:
        into.append(item)


def api_attempt(w, n0):
    s = requests.Session()
    s.headers.update(w.h)

    def attempt(base, i):
        ph = _phone("531", n0 + i)
        r = s.post(base + f"/v1/brands/{w.brand}/consents", timeout=10,
                   json={"recipient": ph, "type": "MESAJ", "status": "ONAY",
                         "source": "HS_WEB", "consentDate": "2026-01-05 10:00:00"})
        if r.status_code == 201:
            _acked(w, w.api, ph)
    return attempt


def bulk_attempt(w):
    def attempt(base, j):
        rows = [_phone("532", j * BULK_ROWS + k) for k in range(BULK_ROWS)]
        body = "recipient,type,status,source,consentDate\n" + "".join(
            f"{ph},MESAJ,ONAY,HS_WEB,2026-01-05 10:00:00\n" for ph in rows)
        r = requests.post(base + f"/v1/brands/{w.brand}/consents/bulk", data=body.encode(),
                          headers={**w.h, "Content-Type": "text/csv"}, timeout=30)
        if r.status_code == 202:
            _acked(w, w.jobs, (r.json()["jobId"], rows))
    return attempt


def inbound_attempt(w):
    def attempt(base, i):
        ph = _phone("533", i)
        r = requests.post(base + "/v1/sms/inbound", timeout=10,
                          headers={"X-Izin-Token": GW_TOKEN},
                          json={"id": f"mo-{i}", "from": ph, "to": "4607", "text": "RET ACME"})
        if r.status_code == 200 and r.json().get("outcome") == "APPLIED":
            _acked(w, w.inbound, ph)
    return attempt


def _csrf(html):
    m = re.search(r'name="csrf" value="([0-9a-f]{48})"', html)
    return m.group(1) if m else None


def page_attempt(w):
    """A person on the consent page: the form, the code by SMS (read at the
    gateway), the code form."""
    def attempt(base, i):
        ph = _phone("534", i)
        s = requests.Session()
        r = s.get(base + "/c/acme", timeout=10)
        form = {"csrf": _csrf(r.text), "phone": ph, "email": "", "status": "ONAY",
                "types": ["MESAJ"]}
        otp = s.post(base + "/c/acme/otp", data=form, timeout=10)
        if otp.status_code != 200:
            return
        code, deadline = None, time.time() + 3
        while code is None and time.time() < deadline:
            for m in w.gw.bodies():
                if m.get("to") == ph:
                    c = re.search(r"\b(\d{6})\b", m.get("text", ""))
                    code = c.group(1) if c else None
            time.sleep(0.05)
        if code is None:
            return
        fields = dict(re.findall(
            r'<input type="hidden" name="(phone|email|status)" value="([^"]*)"', otp.text))
        types = re.findall(r'<input type="hidden" name="types" value="([A-Z]+)"', otp.text)
        v = s.post(base + "/c/acme/verify", timeout=10,
                   data={**fields, "types": types, "csrf": _csrf(otp.text), "code": code})
        if v.status_code == 200 and "Tercihiniz kaydedildi" in v.text:
            _acked(w, w.page, ph)
    return attempt


def metrics(base):
    out = {}
    for line in requests.get(base + "/metrics", timeout=10).text.splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
    return out


def _wait(fn, timeout, step=0.25):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(step)
    return fn()


def feed_ids(w):
    ids, after = [], None
    while True:
        params = {"limit": 10000, **({"after": after} if after else {})}
        r = requests.get(w.base + f"/v1/brands/{w.brand}/changes", params=params, headers=w.h,
                         timeout=30).json()
        if not r["list"]:
            return ids
        ids += [c["id"] for c in r["list"]]
        after = r["after"]


def run(tmp, kills, seed=1, log=print):
    """Run the writers, kill izin `kills` times at random moments, then
    check every promise. Returns the figures."""
    w = World(tmp, seed)
    plan = [(api_attempt(w, 0), 0), (api_attempt(w, 1000000), 0), (bulk_attempt(w), 0.5),
            (inbound_attempt(w), 0.05), (page_attempt(w), 0)]
    threads = [threading.Thread(target=writer, args=(w, a, pause)) for a, pause in plan]
    t0 = time.time()
    try:
        for t in threads:
            t.start()
        for k in range(kills):
            time.sleep(w.rnd.uniform(0.2, 1.0))
            w.kill()
            if k == kills // 3:
                w.kill_sim()
            if k == (2 * kills) // 3:
                w.gateway_gap()
        time.sleep(1)
    finally:
        w.stop.set()
        for t in threads:
            t.join()
    run_s = time.time() - t0
    try:
        return check(w, kills, run_s, log)
    finally:
        # (each stopped whatever the one before did: a failed stop must not
        # leave the emulator running)
        try:
            w.srv.stop()
        finally:
            try:
                w.sim.stop()
            finally:
                w.gw.down()
                w.hooks.down()


def check(w, kills, run_s, log):
    h = w.h
    # every acknowledged job finishes (none stuck), every row once
    for job_id, rows in w.jobs:
        j = _wait(lambda: (lambda x: x if x.get("state") in ("DONE", "FAILED") else None)(
            requests.get(w.base + f"/v1/jobs/{job_id}", headers=h, timeout=10).json()), 120)
        assert j and j["state"] == "DONE" and j["processed"] == BULK_ROWS, (job_id, j)
    # izin has drained: İYS has everything, the SMS queue is empty
    assert _wait(lambda: metrics(w.base)["izin_outbox_changes"] == 0, 240), metrics(w.base)
    changes = {}
    for rcpt, n in store_rows(w.data, "select recipient, count(*) from consent_log"
                                      " where type = 'MESAJ' group by recipient"):
        changes[rcpt] = n
    for rcpt in segment_recipients(w.data):
        changes[rcpt] = changes.get(rcpt, 0) + 1
    bulk_rows = [ph for _, rows in w.jobs for ph in rows]
    acked = w.api + w.inbound + w.page + bulk_rows
    assert len(set(acked)) == len(acked)
    missing = [ph for ph in acked if ph not in changes]
    twice = {ph: changes[ph] for ph in acked if changes.get(ph, 0) > 1}
    assert not missing, missing[:20]
    assert not twice, list(twice.items())[:20]
    assert not {ph: n for ph, n in changes.items() if n != 1}  # nothing unacked twice either
    # İYS: no duplicate, nothing izin does not have, everything sent
    at_iys = sim_counts(w.sim_dir)
    assert all(n == 1 for n in at_iys.values()), {k: v for k, v in at_iys.items() if v != 1}
    assert set(at_iys) <= set(changes), sorted(set(at_iys) - set(changes))[:20]
    # (a first RET by SMS is kept locally: İYS answers H175 for a number it has no record of)
    sent = w.api + w.page + bulk_rows
    assert [ph for ph in sent if at_iys.get(ph) != 1] == []
    # the webhook receiver got every change of the feed
    feed = feed_ids(w)
    got = lambda: {it["id"] for b in w.hooks.bodies() for it in b["list"]}
    assert _wait(lambda: set(feed) <= got(), 120), len(set(feed) - got())
    # the SMS gateway: no message twice; nothing left queued
    ids = [m["id"] for m in w.gw.bodies()]
    assert len(ids) == len(set(ids))
    assert _wait(lambda: (lambda m: m["izin_sms_queued"] == 0 and m['izin_sms_in_flight{state="running"}'] == 0)(
        metrics(w.base)), 60), metrics(w.base)
    figures = {
        "kills": kills, "seconds": round(run_s, 1),
        "api": len(w.api), "bulk_jobs": len(w.jobs), "bulk_rows": len(bulk_rows),
        "inbound": len(w.inbound), "page": len(w.page), "at_iys": len(at_iys),
        "webhook_changes": len(feed), "sms_sent": len(ids),
        "restart_s_max": round(max(w.restarts), 2),
        "restart_s_mean": round(sum(w.restarts) / len(w.restarts), 2),
    }
    log("chaos: " + json.dumps(figures))
    return figures
