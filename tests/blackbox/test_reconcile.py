"""The daily reconciliation with İYS (issue 12, item 6) against the
emulator: izin downloads the brand's change file of the day, repairs what a
lost pull left out, records the agreement when it agrees with İYS, keeps
İYS's timestamp, and reports what it cannot repair."""
import base64
import datetime
import json
import time

import requests

from conftest import fresh_phone, izin, store_exec, tr_now, wait_for
from simutil import Provider, start_sim
from test_sim_recon import citizen, day_end
from test_sync import Module


def today():
    return tr_now()[:10]


def reconcile(m, *args):
    """Run `izin iys reconcile --json` on the module's store; (exit code,
    the one brand's result)."""
    p = izin("iys", "reconcile", "--json", *args, data=m.data, check=False)
    assert p.returncode in (0, 1, 3), p.stderr
    out = json.loads(p.stdout)
    res = [x for x in out["results"] if x["brandCode"] == m.brand]
    assert len(res) == 1, out
    return p.returncode, res[0]


def accepted(m, phone, type="MESAJ"):
    """Wait until izin has İYS's answer for the phone's last change."""
    return wait_for(lambda: m.get(phone, type).json()["iys"]["state"] == "ACCEPTED", timeout=10)


def wait_first_pulls(m):
    """The engine pulls at start; wait until both sources were asked."""
    def pulled():
        return m.metrics().get('izin_iys_requests_total{kind="pull"}', 0) >= 2
    assert wait_for(pulled, timeout=10), "the first pulls did not run"


def test_a_lost_pull_is_repaired(tmp_path):
    sim = start_sim(tmp_path / "sim")
    p = Provider(sim)
    # A pull interval of a day: after the first pulls at start, İYS-side
    # changes are never pulled; only the reconciliation can find them.
    m = Module(tmp_path, sim, p, "--iys-pull-interval", "86400")
    try:
        wait_first_pulls(m)
        own, lost = fresh_phone(), fresh_phone()
        assert m.post(own).status_code == 201
        assert accepted(m, own)
        # The citizen withdraws on İYS's side (the pull that would bring it
        # never comes), and gives a new consent for another number.
        citizen(sim, p, own, "RET")
        citizen(sim, p, lost, "ONAY", source="IYS_WEB")
        time.sleep(1.5)
        assert m.get(own).json()["status"] == "ONAY"
        assert m.get(lost).status_code == 404
        date = today()
        day_end(sim, date)

        code, r = reconcile(m, "--date", date)
        assert code == 0, json.dumps(r, indent=1)
        assert r["status"] == "REPAIRED", r
        assert r["rows"] == 3 and r["matched"] == 1 and r["repaired"] == 2, r
        assert r["mismatched"] == 0 and r["mismatches"] == []
        assert r["agreed"] is True and r["timestamp"], r

        # The repairs are İYS-side changes, marked as repairs in their evidence.
        c = m.get(own).json()
        assert c["status"] == "RET" and c["origin"] == "IYS", c
        assert c["history"][0]["evidence"]["repair"] == "reconciliation"
        assert c["history"][0]["evidence"]["reportDate"] == date
        c = m.get(lost, "MESAJ").json()
        assert c["status"] == "ONAY" and c["source"] == "IYS_WEB" and c["origin"] == "IYS"
        # The running server's send filter sees the repairs another process
        # made within a second.
        def filtered():
            chk = m.check([own, lost])
            return chk["allowed"] == [lost] and chk["blocked"][0]["reason"] == "RET"
        assert wait_for(filtered, timeout=3), m.check([own, lost])

        # İYS has the agreement, and the hash izin computed is İYS's.
        ag = p.get(f"/agreements/{date}")
        assert ag.status_code == 200 and ag.json()["agreementStatus"] is True, ag.text
        assert ag.json()["hashValue"] == r["hashValue"]
        # The kept timestamp is İYS's own reply for the file.
        ts = p.get(f"/agreements/{date}/timestamp")
        assert base64.b64decode(r["timestamp"]) == ts.content

        # Run again: everything is there now; nothing is applied twice.
        code, r2 = reconcile(m, "--date", date)
        assert code == 0 and r2["status"] == "MATCHED" and r2["repaired"] == 0, r2
        assert r2["matched"] == 3
        assert len(m.get(own).json()["history"]) == 2
    finally:
        m.srv.stop()
        sim.stop()


def test_a_matching_day_is_agreed_and_shown(tmp_path):
    sim = start_sim(tmp_path / "sim")
    p = Provider(sim)
    m = Module(tmp_path, sim, p)
    try:
        phones = [fresh_phone() for _ in range(3)]
        for ph in phones:
            assert m.post(ph).status_code == 201
        r = m.post(phones[0], "RET", date=tr_now(-60))
        assert r.status_code == 201, r.text
        for ph in phones:
            assert accepted(m, ph)
        citizen(sim, p, phones[1], "RET")
        # The pull (every second here) brings the citizen's change.
        assert wait_for(lambda: m.get(phones[1]).json()["status"] == "RET", timeout=10)
        date = today()
        files = day_end(sim, date)
        assert files["files"], files

        code, r = reconcile(m, "--date", date)
        assert code == 0, json.dumps(r, indent=1)
        assert r["status"] == "MATCHED" and r["rows"] == 5 and r["matched"] == 5, r
        assert r["repaired"] == 0 and r["mismatched"] == 0
        assert r["agreed"] is True and r["agreedAt"], r
        ag = p.get(f"/agreements/{date}").json()
        assert ag["agreementStatus"] is True and ag["hashValue"] == r["hashValue"]

        # The API's read-out.
        url = m.srv.base + f"/v1/brands/{m.brand}/iys/reconciliations"
        got = m.s.get(url, params={"date": date}, timeout=10)
        assert got.status_code == 200, got.text
        lst = got.json()["list"]
        assert len(lst) == 1 and lst[0]["status"] == "MATCHED" and lst[0]["date"] == date
        assert lst[0]["timestamp"] == r["timestamp"] and lst[0]["hashValue"] == r["hashValue"]
        assert m.s.get(url, params={"date": "2024-13-01"}, timeout=10).status_code == 422
        other = m.s.get(m.srv.base + "/v1/brands/999999/iys/reconciliations", timeout=10)
        assert other.status_code == 404
        # The server ran yesterday's reconciliation by itself (Turkey time is
        # past 02:00 unless the test runs between midnight and 02:00).
        yesterday = (datetime.date.fromisoformat(date) - datetime.timedelta(days=1)).isoformat()
        if int(tr_now()[11:13]) >= 2:
            def ran():
                days = [x["date"] for x in m.s.get(url, timeout=10).json()["list"]]
                return yesterday in days
            assert wait_for(ran, timeout=10)
            met = m.metrics()
            assert met['izin_iys_reconcile_total{result="MATCHED"}'] >= 1
            assert met['izin_iys_reconciled_days{result="MATCHED"}'] == 2
            assert met['izin_iys_requests_total{kind="recon"}'] >= 1

        # A day with no change at İYS (a week ago) has no file: nothing to
        # agree on, and izin has nothing İYS accepted that day either.
        week = (datetime.date.fromisoformat(date) - datetime.timedelta(days=6)).isoformat()
        code, r = reconcile(m, "--date", week)
        assert code == 0 and r["status"] == "MATCHED" and r["rows"] == 0, r
        assert r["hashValue"] is None and r["agreed"] is False
        # Before İYS's 7-day window: İYS refuses (H502), the run FAILED.
        old = (datetime.date.fromisoformat(date) - datetime.timedelta(days=9)).isoformat()
        code, r = reconcile(m, "--date", old)
        assert code == 1 and r["status"] == "FAILED" and "H502" in r["error"], r
    finally:
        m.srv.stop()
        sim.stop()


def test_a_change_missing_from_the_file_is_a_mismatch(tmp_path):
    sim = start_sim(tmp_path / "sim")
    p = Provider(sim)
    m = Module(tmp_path, sim, p)
    try:
        good, bad = fresh_phone(), fresh_phone()
        assert m.post(good).status_code == 201
        assert m.post(bad).status_code == 201
        assert accepted(m, good) and accepted(m, bad)
        m.srv.stop()
        # izin believes İYS accepted `bad` under a transactionId İYS never
        # gave: İYS's file cannot hold that change.
        n = store_exec(m.data, "UPDATE consent_log SET iys_txid = 'made-up-0001'"
                               " WHERE recipient = ?", (bad,))
        assert n == 1
        date = today()
        day_end(sim, date)

        code, r = reconcile(m, "--date", date)
        assert code == 3, json.dumps(r, indent=1)
        assert r["status"] == "MISMATCH" and r["mismatched"] == 1, r
        (mm,) = r["mismatches"]
        assert mm["kind"] == "MISSING" and mm["transactionId"] == "made-up-0001"
        assert mm["recipient"] == bad
        # Never agreed while a mismatch stands.
        assert r["agreed"] is False and r["timestamp"] is None
        assert p.get(f"/agreements/{date}").json()["agreementStatus"] is False
        # The text output names it too.
        out = izin("iys", "reconcile", "--date", date, data=m.data, check=False)
        assert out.returncode == 3
        assert "MISMATCH" in out.stdout and "MISSING" in out.stdout and bad in out.stdout
    finally:
        m.srv.stop()
        sim.stop()

