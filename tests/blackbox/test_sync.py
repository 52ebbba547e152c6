"""The İYS sync engine against the emulator: every change reaches İYS once,
every İYS-side change comes back."""
import os
import signal
import threading
import time

import requests

from conftest import Server, fresh_phone, izin, tr_now, wait_for
from simutil import Provider, start_sim, sim_counts


class Module:
    """izin serve with one account whose İYS is the emulator."""

    def __init__(self, tmp, sim, provider, *extra):
        self.data = tmp / "module"
        izin("init", data=self.data)
        izin("account", "add", "--name", "acme", "--iys-code", str(provider.iys_code),
             "--iys-url", sim.base, "--iys-user", provider.username,
             "--iys-password", provider.password, data=self.data)
        izin("brand", "add", "--account", "acme", "--code", str(provider.brand),
             "--name", "ACME", data=self.data)
        self.key = izin("key", "add", "--account", "acme", data=self.data).stdout.strip()
        self.brand = provider.brand
        self.h = {"Authorization": "Bearer " + self.key}
        self.extra = extra
        self.srv = None
        self.start()

    def start(self):
        self.srv = Server(["serve", "--listen", "127.0.0.1:0", "--data", str(self.data),
                           "--iys-pull-interval", "1", "--iys-bulk-poll", "0", "--iys-retry-max", "2",
                           *self.extra],
                          self.data).start()
        self.s = requests.Session()
        self.s.headers.update(self.h)

    def post(self, recipient, status="ONAY", date=None, type="MESAJ"):
        return self.s.post(self.srv.base + f"/v1/brands/{self.brand}/consents", timeout=10,
                           json={"recipient": recipient, "type": type, "status": status,
                                 "source": "HS_WEB", "consentDate": date or tr_now(-3600)})

    def get(self, recipient, type="MESAJ"):
        return self.s.get(self.srv.base + f"/v1/brands/{self.brand}/consents/{recipient}",
                          params={"type": type}, timeout=10)

    def check(self, recipients, type="MESAJ"):
        return self.s.post(self.srv.base + f"/v1/brands/{self.brand}/check", timeout=30,
                           json={"type": type, "recipients": recipients}).json()

    def metrics(self):
        text = requests.get(self.srv.base + "/metrics", timeout=10).text
        out = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                k, v = line.rsplit(" ", 1)
                out[k] = float(v)
        return out


def iys_status(provider, recipient, type="MESAJ"):
    r = provider.post("/consents/status",
                      {"recipient": recipient, "recipientType": "BIREYSEL", "type": type})
    return r


def test_a_consent_reaches_iys_within_two_seconds(tmp_path):
    sim = start_sim(tmp_path / "sim")
    p = Provider(sim)
    m = Module(tmp_path, sim, p)
    try:
        phone = fresh_phone()
        t0 = time.time()
        r = m.post(phone)
        assert r.status_code == 201 and r.json()["iys"]["state"] == "PENDING"
        st = wait_for(lambda: iys_status(p, phone).status_code == 200, timeout=2.0)
        assert st, "not in İYS within 2 s"
        assert time.time() - t0 < 2.5
        got = iys_status(p, phone).json()
        assert got["status"] == "ONAY" and got["recipient"] == phone
        # the module records İYS's transactionId
        g = wait_for(lambda: m.get(phone).json()["iys"].get("transactionId"))
        assert g == got["transactionId"]
        assert m.get(phone).json()["iys"]["state"] == "ACCEPTED"
    finally:
        m.srv.stop()
        sim.stop()


def test_citizen_withdrawal_blocks_after_the_next_pull(tmp_path):
    sim = start_sim(tmp_path / "sim")
    p = Provider(sim)
    m = Module(tmp_path, sim, p)
    try:
        phone = fresh_phone()
        m.post(phone)
        assert wait_for(lambda: m.get(phone).json()["iys"]["state"] == "ACCEPTED")
        assert m.check([phone])["allowed"] == [phone]
        r = requests.post(sim.base + "/_sim/citizen/consents",
                          json={"iysCode": p.iys_code, "brandCode": p.brand, "recipient": phone,
                                "type": "MESAJ", "status": "RET", "source": "IYS_MOBIL"})
        assert r.status_code == 201, r.text
        blocked = wait_for(lambda: m.check([phone])["blocked"], timeout=5)
        assert blocked == [{"recipient": phone, "reason": "RET"}]
        g = m.get(phone).json()
        assert g["status"] == "RET" and g["origin"] == "IYS" and g["source"] == "IYS_MOBIL"
        assert g["iys"]["transactionId"] == r.json()["transactionId"]
        # the changes feed has both, in commit order
        feed = m.s.get(m.srv.base + f"/v1/brands/{m.brand}/changes").json()
        mine = [c for c in feed["list"] if c["recipient"] == phone]
        assert [(c["status"], c["origin"]) for c in mine] == [("ONAY", "API"), ("RET", "IYS")]
        # our own change, seen again through the HS pull, is not applied twice
        time.sleep(1.5)
        assert len(m.get(phone).json()["history"]) == 2
    finally:
        m.srv.stop()
        sim.stop()


def test_outage_then_recovery_delivers_each_change_exactly_once(tmp_path):
    sim = start_sim(tmp_path / "sim")
    p = Provider(sim)
    m = Module(tmp_path, sim, p)
    try:
        # (an outage that ends when the test says: under load the posts
        # alone took longer than a 3-second one)
        assert requests.put(sim.base + "/_sim/faults", json={"outageSeconds": 120}).ok
        phones = [fresh_phone() for _ in range(40)]
        for ph in phones:
            assert m.post(ph).status_code == 201
        time.sleep(1)
        assert all(m.get(ph).json()["iys"]["state"] == "PENDING" for ph in phones)
        assert requests.put(sim.base + "/_sim/faults", json={}).ok
        done = wait_for(lambda: all(m.get(ph).json()["iys"]["state"] == "ACCEPTED"
                                    for ph in phones), timeout=30, step=0.3)
        assert done
        rows = sim_counts(tmp_path / "sim")
        assert all(rows.get(ph) == 1 for ph in phones), {ph: rows.get(ph) for ph in phones}
    finally:
        m.srv.stop()
        sim.stop()


def test_429_windows_are_respected(tmp_path):
    sim = start_sim(tmp_path / "sim")
    p = Provider(sim)
    m = Module(tmp_path, sim, p)
    try:
        requests.put(sim.base + "/_sim/faults", json={"status429Seconds": 3})
        before = requests.get(sim.base + "/_sim/stats").json()
        phones = [fresh_phone() for _ in range(20)]
        for ph in phones:
            m.post(ph)
        time.sleep(3)
        during = requests.get(sim.base + "/_sim/stats").json()
        assert wait_for(lambda: all(m.get(ph).json()["iys"]["state"] == "ACCEPTED"
                                    for ph in phones), timeout=30, step=0.3)

        def n429(stats):
            return sum(int(c) for ep in stats["endpoints"].values()
                       for st, c in ep.items() if st == "429")
        # backing off: a handful of tries in a 3 s window, not one per change
        assert n429(during) - n429(before) <= 8, during["endpoints"]
        assert m.metrics()['izin_iys_answers_total{class="rate_limited"}'] >= 1
    finally:
        m.srv.stop()
        sim.stop()


def test_permanent_errors_are_rejected_with_the_h_code(tmp_path):
    sim = start_sim(tmp_path / "sim")
    p = Provider(sim)
    # İYS has the provider active for years; izin's account is still in its
    # upload period, so izin takes an old consent that İYS refuses (H467).
    # (A refusal about the account - H525, H520... - holds the change
    # instead: test_partner.py.)
    r = requests.patch(f"{sim.base}/_sim/providers/{p.iys_code}",
                       json={"activationDate": "2020-01-01"}, timeout=10)
    assert r.status_code == 200, r.text
    m = Module(tmp_path, sim, p)
    try:
        a, b = fresh_phone(), fresh_phone()
        m.post(a)
        assert wait_for(lambda: m.get(a).json()["iys"]["state"] == "ACCEPTED")
        m.post(b, date=tr_now(-30 * 86400))  # H467 at İYS, never retried
        g = wait_for(lambda: m.get(b).json()["iys"]["state"] == "REJECTED" and m.get(b).json())
        assert g and g["iys"]["error"] == "H467"
        time.sleep(1)
        stats = requests.get(sim.base + "/_sim/stats").json()
        fails = sum(int(c) for ep in stats["endpoints"].values() for st, c in ep.items()
                    if st == "422")
        assert fails == 1  # tried once
        # the change stays in izin: it is the customer's record of what they were told
        assert m.get(b).json()["status"] == "ONAY"
        assert m.metrics()["izin_outbox_changes"] == 0
    finally:
        m.srv.stop()
        sim.stop()


def test_ret_deadlines_are_tracked(tmp_path):
    sim = start_sim(tmp_path / "sim")
    p = Provider(sim)
    m = Module(tmp_path, sim, p)
    try:
        requests.put(sim.base + "/_sim/faults", json={"outageSeconds": 30})
        ph = fresh_phone()
        m.post(ph, date=tr_now(-7200))
        m.post(ph, status="RET", date=tr_now(-60))
        mt = wait_for(lambda: (lambda x: x if x['izin_ret_deadlines{state="pending"}'] >= 1
                               else None)(m.metrics()), timeout=10)
        assert mt, m.metrics()
        assert mt['izin_ret_deadlines{state="missed"}'] == 0
        requests.put(sim.base + "/_sim/faults", json={})
        assert wait_for(lambda: m.get(ph).json()["iys"]["state"] == "ACCEPTED", timeout=30)
        assert wait_for(lambda: m.metrics()['izin_ret_deadlines{state="pending"}'] == 0,
                        timeout=10)
    finally:
        m.srv.stop()
        sim.stop()


def test_kill_9_during_a_10000_change_backlog(tmp_path):
    sim = start_sim(tmp_path / "sim")
    p = Provider(sim)
    m = Module(tmp_path, sim, p, "--iys-rate", "1000")
    n = 10000
    try:
        requests.put(sim.base + "/_sim/faults", json={"outageSeconds": 600})
        phones = ["+90535%07d" % i for i in range(n)]

        def writer(part):
            s = requests.Session()
            s.headers.update(m.h)
            for ph in part:
                r = s.post(m.srv.base + f"/v1/brands/{m.brand}/consents", timeout=30,
                           json={"recipient": ph, "type": "MESAJ", "status": "ONAY",
                                 "source": "HS_WEB", "consentDate": "2026-01-05 10:00:00"})
                assert r.status_code == 201, r.text
        ts = [threading.Thread(target=writer, args=(phones[i::4],)) for i in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert m.metrics()["izin_outbox_changes"] == n
        requests.put(sim.base + "/_sim/faults", json={})
        # let the drain start, then kill the module without warning
        assert wait_for(lambda: m.metrics()["izin_outbox_changes"] < n - 500, timeout=60)
        m.srv.proc.send_signal(signal.SIGKILL)
        m.srv.proc.wait()
        m.srv.stop()
        m.start()
        assert wait_for(lambda: m.metrics()["izin_outbox_changes"] == 0, timeout=240, step=0.5)
        rows = sim_counts(tmp_path / "sim")
        assert len([ph for ph in phones if rows.get(ph) == 1]) == n
        # nothing was sent twice in a way İYS counts as a failure
        stats = requests.get(sim.base + "/_sim/stats").json()
        # the backlog went in bulk requests (İYS's idempotent v2 bulk add):
        # the kill came in the middle of bulk sending
        assert sum(stats["endpoints"].get("bulk_add_v2", {}).values()) >= 3
        bad = {ep: {st: c for st, c in v.items() if st.startswith("4") and st != "429"}
               for ep, v in stats["endpoints"].items() if ep.startswith("consent_add")}
        assert all(not v for v in bad.values()), bad
        mt = m.metrics()
        assert mt['izin_iys_changes_total{result="rejected"}'] == 0
    finally:
        m.srv.stop()
        sim.stop()


def test_iys_push_reaches_the_module_before_any_pull(tmp_path):
    sim = start_sim(tmp_path / "sim")
    p = Provider(sim)
    m = Module(tmp_path, sim, p, "--iys-pull-interval", "3600", "--iys-push-user", "pushuser",
               "--iys-push-password", "push-secret-1")
    try:
        phone = fresh_phone()
        m.post(phone)
        assert wait_for(lambda: m.get(phone).json()["iys"]["state"] == "ACCEPTED")
        push_url = f"{m.srv.base}/v1/iys/push/{p.iys_code}/{p.brand}"
        # wrong credentials are refused and change nothing
        r = requests.post(push_url, auth=("pushuser", "nope"), json={"list": []})
        assert r.status_code == 401
        r = requests.post(push_url, json={"list": []})
        assert r.status_code == 401
        # registration at İYS: its test payload (another brand's sample) is acknowledged only
        reg = p.post("/push/registration", {"connection": [
            {"url": push_url, "type": "MESAJ", "username": "pushuser",
             "password": "push-secret-1"}]})
        assert reg.status_code == 200, reg.text
        feed = m.s.get(m.srv.base + f"/v1/brands/{m.brand}/changes").json()
        assert all(c["recipient"] != "pushtest@iys.org.tr" for c in feed["list"])
        # the citizen withdraws; the push brings it within seconds, with no pull for an hour
        r = requests.post(sim.base + "/_sim/citizen/consents",
                          json={"iysCode": p.iys_code, "brandCode": p.brand, "recipient": phone,
                                "type": "MESAJ", "status": "RET", "source": "IYS_KISAMESAJ"})
        assert r.status_code == 201, r.text
        blocked = wait_for(lambda: m.check([phone])["blocked"], timeout=10)
        assert blocked == [{"recipient": phone, "reason": "RET"}]
        g = m.get(phone).json()
        assert g["origin"] == "IYS" and g["iys"]["transactionId"] == r.json()["transactionId"]
        # a push delivered twice is applied once
        item = {"recipient": phone, "type": "MESAJ", "status": "RET", "recipientType": "BIREYSEL",
                "source": "IYS_KISAMESAJ", "consentDate": g["consentDate"],
                "transactionId": g["iys"]["transactionId"], "iysCode": p.iys_code,
                "brandCode": p.brand}
        again = requests.post(push_url, auth=("pushuser", "push-secret-1"), json={"list": [item]})
        assert again.status_code == 200 and again.json() == {"applied": 0, "quarantined": 0}
        assert len(m.get(phone).json()["history"]) == 2
        # what cannot be applied is kept, never skipped: listed with its raw JSON
        bad = [{**item, "recipientType": "KURUM", "transactionId": "t1"},
               {**item, "status": "BELKI", "transactionId": "t2"},
               {**item, "consentDate": "dün", "transactionId": "t3"},
               "not an object"]
        r = requests.post(push_url, auth=("pushuser", "push-secret-1"), json={"list": bad})
        assert r.status_code == 200 and r.json() == {"applied": 0, "quarantined": 4}, r.text
        # the same items again (İYS retries) are kept once
        r = requests.post(push_url, auth=("pushuser", "push-secret-1"), json={"list": bad})
        assert r.status_code == 200, r.text
        q = m.s.get(m.srv.base + f"/v1/brands/{m.brand}/iys/quarantine").json()
        assert [x["raw"] for x in q["list"]] == bad
        assert [x["via"] for x in q["list"]] == ["push"] * 4
        assert "recipientType" in q["list"][0]["reason"]
        assert "status" in q["list"][1]["reason"]
        assert "consentDate" in q["list"][2]["reason"]
        page = m.s.get(m.srv.base + f"/v1/brands/{m.brand}/iys/quarantine",
                       params={"after": q["list"][1]["id"], "limit": 1}).json()
        assert [x["raw"] for x in page["list"]] == [bad[2]]
        metrics = requests.get(m.srv.base + "/metrics").text
        assert "izin_iys_quarantine 4" in metrics
        # nothing of it changed the consent
        assert m.check([phone])["blocked"] == [{"recipient": phone, "reason": "RET"}]
    finally:
        m.srv.stop()
        sim.stop()


def _holidays():
    path = os.path.join(os.path.dirname(__file__), "..", "..", "data", "tr-holidays.csv")
    import csv
    with open(path, encoding="utf-8") as f:
        return {row["date"] for row in csv.DictReader(f) if row["kind"] == "full"}


def _business(day, hol):
    return day.weekday() < 5 and day.isoformat() not in hol


def _deadline_day(day, hol):
    """The day of a change's deadline: the 3rd business day after it."""
    import datetime
    n = 0
    while n < 3:
        day += datetime.timedelta(days=1)
        if _business(day, hol):
            n += 1
    return day


def test_ret_at_risk_and_missed(tmp_path):
    import datetime
    hol = _holidays()
    today = (datetime.datetime.utcnow() + datetime.timedelta(hours=3)).date()
    # a day whose RET deadline has passed, and (on a business day) one whose deadline is today
    missed_day = today - datetime.timedelta(days=12)
    risk_day = None
    d = today
    for _ in range(10):
        d -= datetime.timedelta(days=1)
        if _deadline_day(d, hol) == today:
            risk_day = d
            break
    sim = start_sim(tmp_path / "sim")
    p = Provider(sim)
    m = Module(tmp_path, sim, p)
    try:
        requests.put(sim.base + "/_sim/faults", json={"outageSeconds": 60})
        a, b = fresh_phone(), fresh_phone()
        m.post(a, date=f"{missed_day - datetime.timedelta(days=1)} 09:00:00")
        m.post(a, status="RET", date=f"{missed_day} 10:00:00")
        if risk_day:
            m.post(b, date=f"{risk_day - datetime.timedelta(days=1)} 09:00:00")
            m.post(b, status="RET", date=f"{risk_day} 10:00:00")
        # The RET figures are refreshed every few seconds: wait for every one this
        # test expects, not only the first (a refresh can fall between the posts).
        def ready(x):
            return x if x['izin_ret_deadlines{state="missed"}'] >= 1 and (
                not risk_day or x['izin_ret_deadlines{state="at_risk"}'] >= 1) else None
        mt = wait_for(lambda: ready(m.metrics()), timeout=15)
        assert mt and mt['izin_ret_deadlines{state="missed"}'] == 1
        if risk_day:
            assert mt['izin_ret_deadlines{state="at_risk"}'] == 1
            assert mt['izin_ret_deadlines{state="pending"}'] == 1
            assert "has not reached İYS" in m.srv.stderr()
    finally:
        m.srv.stop()
        sim.stop()
