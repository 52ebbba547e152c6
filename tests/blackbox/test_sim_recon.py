"""Black-box tests of the İYS emulator's reconciliation (mutabakat): the
daily change file of a brand (CSV, 7 days), its SHA-384 and agreement, the
day's change summary and the file's RFC 3161 timestamp, as a provider
would use them: it builds its own file of the day from what İYS answered
it, hashes it, and records agreement only when the hashes match.
"""
import csv
import datetime
import hashlib
import io
import shutil
import subprocess

import pytest
import requests

from conftest import tr_now
from simutil import Provider, consent, sim, start_sim  # noqa: F401 (sim: a fixture)

HEADER = ("creationDate,transactionId,recipient,recipientType,type,status,consentDate,"
          "source")
_n = [0]


def phone():
    _n[0] += 1
    return "+90535%07d" % _n[0]


def day(offset=0):
    """Turkey's date `offset` days from today, as İYS writes it."""
    d = datetime.date.fromisoformat(tr_now()[:10]) + datetime.timedelta(days=offset)
    return d.isoformat()


def day_end(sim, date):
    r = requests.post(sim.base + "/_sim/end-of-day", json={"date": date}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def citizen(sim, p, recipient, status, type="MESAJ", source="IYS_MOBIL"):
    r = requests.post(sim.base + "/_sim/citizen/consents", timeout=10,
                      json={"iysCode": p.iys_code, "brandCode": p.brand, "recipient": recipient,
                            "type": type, "status": status, "source": source})
    assert r.status_code == 201, r.text
    return r.json()["transactionId"]


class Ledger:
    """What a provider keeps of its own day: every change as İYS
    acknowledged it, in the order it happened, written as İYS's file."""

    def __init__(self, p):
        self.p = p
        self.rows = []

    def add(self, body):
        r = self.p.post("/consents", body)
        assert r.status_code == 200, r.text
        a = r.json()
        self.rows.append([a["creationDate"], a["transactionId"], body["recipient"],
                          body.get("recipientType", "BIREYSEL"), body["type"], body["status"],
                          body.get("consentDate", ""), body.get("source", "")])
        return a

    def pull_citizens(self):
        """The recipients' own changes, as the change pull brings them."""
        r = self.p.get("/consents/changes", params={"source": "IYS"})
        assert r.status_code == 200, r.text
        for c in r.json()["list"]:
            self.rows.append([c["creationDate"], c["transactionId"], c["recipient"],
                              c["recipientType"], c["type"], c["status"], c["consentDate"],
                              c["source"]])

    def text(self):
        return "".join(",".join(r) + "\n" for r in [HEADER.split(",")] + self.rows)

    def sha384(self):
        return hashlib.sha384(self.text().encode()).hexdigest()


def put(p, date, body):
    return p.session.put(p.url(f"/agreements/{date}"), json=body, timeout=30)


def test_reconciliation_agreed_when_the_hashes_match(sim):
    p = Provider(sim)
    mine = Ledger(p)
    today = day()
    a, b = phone(), phone()
    # before the day's file exists there is nothing to reconcile
    for path in (f"/changes/{today}/file", f"/agreements/{today}",
                 f"/agreements/{today}/timestamp"):
        r = p.get(path)
        assert r.status_code == 204 and r.content == b"", (path, r.text)
    assert put(p, today, {"agreementStatus": True}).status_code == 204

    mine.add(consent(a))
    mine.add(consent(b, type="ARAMA"))
    mine.add({"recipient": "tacir.mutabakat@ornek.com.tr", "type": "EPOSTA", "status": "ONAY",
              "recipientType": "TACIR"})  # no consentDate, no source: empty fields
    mine.add(consent(b, status="RET", type="ARAMA", date=tr_now(-60)))
    citizen(sim, p, a, "RET")
    mine.pull_citizens()
    assert len(mine.rows) == 5

    files = day_end(sim, today)
    assert files["date"] == today and files["final"] is False
    ours = [f for f in files["files"] if f["brandCode"] == p.brand]
    assert ours == [{"iysCode": p.iys_code, "brandCode": p.brand, "rows": 5,
                     "hashValue": mine.sha384()}]

    f = p.get(f"/changes/{today}/file")
    assert f.status_code == 200, f.text
    assert f.headers["Content-Type"].startswith("text/csv")
    assert f.text == mine.text() and f.text.endswith("\n")
    rows = list(csv.reader(io.StringIO(f.text)))
    assert rows[0] == HEADER.split(",")
    tacir = [r for r in rows if r[3] == "TACIR"][0]
    assert tacir[6] == "" and tacir[7] == ""
    assert [r[7] for r in rows[1:]][-1] == "IYS_MOBIL"

    g = p.get(f"/agreements/{today}")
    assert g.status_code == 200
    assert g.json() == {"processStatus": "completed", "hashValue": mine.sha384(),
                        "hashMethod": "SHA-384", "agreementStatus": False}
    assert hashlib.sha384(f.content).hexdigest() == g.json()["hashValue"]

    r = put(p, today, {"agreementStatus": True, "hashValue": mine.sha384()})
    assert r.status_code == 200 and r.json() == {"agreementCaptured": True}
    assert p.get(f"/agreements/{today}").json()["agreementStatus"] is True
    # recording it again changes nothing
    assert put(p, today, {"agreementStatus": True}).json() == {"agreementCaptured": True}


def test_a_wrong_hash_is_not_agreed(sim):
    p = Provider(sim)
    mine = Ledger(p)
    today = day()
    mine.add(consent(phone()))
    mine.add(consent(phone(), type="ARAMA"))
    day_end(sim, today)
    # the provider lost a row: its file hashes differently
    missing = Ledger(p)
    missing.rows = mine.rows[:1]
    assert missing.sha384() != mine.sha384()
    r = put(p, today, {"agreementStatus": True, "hashValue": missing.sha384()})
    assert r.status_code == 422, r.text
    e = r.json()["errors"][0]
    assert e["code"] == "H512" and e["location"] == ["hashValue"]
    assert e["value"] == missing.sha384()
    g = p.get(f"/agreements/{today}").json()
    assert g["agreementStatus"] is False and g["hashValue"] == mine.sha384()
    # the upper-case spelling of the right hash is not İYS's (lower case only)
    r = put(p, today, {"agreementStatus": True, "hashValue": mine.sha384().upper()})
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "H512"
    assert p.get(f"/agreements/{today}").json()["agreementStatus"] is False


@pytest.mark.parametrize("body,loc", [
    ({"agreementStatus": False}, "agreementStatus"),
    ({}, "agreementStatus"),
    ({"agreementStatus": "true"}, "agreementStatus"),
    ({"agreementStatus": True, "hashValue": "abc"}, "hashValue"),
    ({"agreementStatus": True, "note": "x"}, "note"),
])
def test_put_body_is_checked(sim, body, loc):
    p = Provider(sim)
    r = put(p, day(), body)
    assert r.status_code == 422, r.text
    e = r.json()["errors"][0]
    assert e["code"] == "H512" and e["location"] == [loc]
    if body == {"agreementStatus": False}:
        assert e["message"] == "false kabul edilemedi. İzin verilen değerler: true"
    r = p.session.put(p.url(f"/agreements/{day()}"), data="{", timeout=10,
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "H014"


def test_a_new_content_drops_the_agreement(sim):
    p = Provider(sim)
    mine = Ledger(p)
    today = day()
    mine.add(consent(phone()))
    day_end(sim, today)
    assert put(p, today, {"agreementStatus": True, "hashValue": mine.sha384()}).status_code == 200
    # the same day ended again with nothing new: the agreement stays
    day_end(sim, today)
    assert p.get(f"/agreements/{today}").json()["agreementStatus"] is True
    # a change later that day makes another file: agreed is no longer true
    mine.add(consent(phone(), type="ARAMA"))
    day_end(sim, today)
    g = p.get(f"/agreements/{today}").json()
    assert g["hashValue"] == mine.sha384() and g["agreementStatus"] is False
    # an answer about the old text does not agree with the new one
    old = Ledger(p)
    old.rows = mine.rows[:1]
    r = put(p, today, {"agreementStatus": True, "hashValue": old.sha384()})
    assert r.status_code == 422
    assert p.get(f"/agreements/{today}").json()["agreementStatus"] is False


def test_change_summary(sim):
    p = Provider(sim)
    today = day()
    a, b, c = phone(), phone(), phone()
    assert p.post("/consents", consent(a)).status_code == 200                 # approval
    assert p.post("/consents", consent(b)).status_code == 200                 # approval
    assert p.post("/consents", consent(b, status="RET", date=tr_now(-5))).status_code == 200
    assert p.post("/consents", consent(c, type="ARAMA")).status_code == 200  # approval
    citizen(sim, p, a, "RET")                                                # IYS rejection
    citizen(sim, p, phone(), "ONAY")                                         # IYS approval
    assert p.post("/consents", consent("tacir.ozet@ornek.com.tr", type="EPOSTA",
                                       recipientType="TACIR")).status_code == 200
    r = p.get(f"/changes/{today}/recipients/BIREYSEL")
    assert r.status_code == 200, r.text
    stats = {s["type"]: {c["source"]: c for c in s["consents"]} for s in r.json()["changeStats"]}
    assert [s["type"] for s in r.json()["changeStats"]] == ["ARAMA", "MESAJ", "EPOSTA"]
    assert stats["MESAJ"]["HS"] == {"source": "HS", "approval": 2, "rejection": 1, "pending": 0,
                                    "total": 3}
    assert stats["MESAJ"]["IYS"] == {"source": "IYS", "approval": 1, "rejection": 1,
                                     "pending": 0, "total": 2}
    assert stats["ARAMA"] == {"HS": {"source": "HS", "approval": 1, "rejection": 0,
                                     "pending": 0, "total": 1}}
    assert stats["EPOSTA"]["HS"]["total"] == 0  # the TACIR one is not BIREYSEL
    t = p.get(f"/changes/{today}/recipients/TACIR").json()["changeStats"]
    assert [s["consents"][0]["approval"] for s in t] == [0, 0, 1]
    # another day: nothing
    y = p.get(f"/changes/{day(-1)}/recipients/BIREYSEL").json()["changeStats"]
    assert all(c["total"] == 0 for s in y for c in s["consents"])


def test_summary_counts_bulk_items_still_pending(tmp_path):
    s = start_sim(tmp_path, bulk_delay=3600)
    try:
        p = Provider(s)
        items = [consent(phone()) for _ in range(3)] + [consent(phone(), type="ARAMA")]
        r = p.post("/consents/request", items)
        assert r.status_code in (200, 202), r.text
        stats = p.get(f"/changes/{day()}/recipients/BIREYSEL").json()["changeStats"]
        hs = {x["type"]: x["consents"][0] for x in stats}
        assert hs["MESAJ"]["pending"] == 3 and hs["MESAJ"]["total"] == 3
        assert hs["ARAMA"]["pending"] == 1 and hs["EPOSTA"]["pending"] == 0
    finally:
        s.stop()


ALL = ["/changes/{d}/file", "/agreements/{d}", "/agreements/{d}/timestamp",
       "/changes/{d}/recipients/BIREYSEL"]


def test_the_seven_day_window(sim):
    p = Provider(sim)
    for path in ALL:
        # 7 days back is in the window (no file: 204; the summary is empty)
        r = p.get(path.format(d=day(-7)))
        assert r.status_code == (200 if "recipients" in path else 204), (path, r.text)
        # 8 days back is not
        r = p.get(path.format(d=day(-8)))
        assert r.status_code == 422, (path, r.text)
        e = r.json()["errors"][0]
        assert e == {"code": "H502", "message": "reportDate alanı en fazla 7 gün önce olabilir.",
                     "location": ["reportDate"], "value": day(-8)}
        # a day to come has no file
        if "recipients" not in path:
            assert p.get(path.format(d=day(1))).status_code == 204
    r = put(p, day(-8), {"agreementStatus": True})
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "H502"


@pytest.mark.parametrize("bad", ["06.07.2020", "2020-7-6", "2020-02-30", "dün"])
def test_bad_dates(sim, bad):
    p = Provider(sim)
    for path in ALL:
        r = p.get(path.format(d=bad))
        assert r.status_code == 422, (path, r.text)
        e = r.json()["errors"][0]
        assert e["code"] == "H501" and e["location"] == ["reportDate"] and e["value"] == bad
        assert e["message"] == "Tarih formatı yyyy-aa-gg şeklinde olmalıdır."
    assert put(p, bad, {"agreementStatus": True}).json()["errors"][0]["code"] == "H501"


def test_summary_recipient_type(sim):
    p = Provider(sim)
    r = p.get(f"/changes/{day()}/recipients/TACIRR")
    assert r.status_code == 422
    e = r.json()["errors"][0]
    assert e["code"] == "H116" and e["location"] == ["recipientType"] and e["value"] == "TACIRR"


def test_authorization(sim):
    p = Provider(sim)
    other = Provider(sim)
    for path in ALL:
        u = p.url(path.format(d=day()))
        r = requests.get(u, timeout=10)
        assert r.status_code == 401 and r.json()["errors"][0]["code"] == "H351"
        r = other.session.get(u, timeout=10)  # another provider's iysCode
        assert r.status_code == 403 and r.json()["errors"][0]["code"] == "H353"
    r = requests.put(p.url(f"/agreements/{day()}"), json={"agreementStatus": True}, timeout=10)
    assert r.status_code == 401


def test_day_end_admin_checks(sim):
    for body in [{}, {"date": "yarın"}, {"date": day(1)}]:
        r = requests.post(sim.base + "/_sim/end-of-day", json=body, timeout=10)
        assert r.status_code == 422 and r.json()["errors"][0]["location"] == ["date"], body


@pytest.mark.skipif(not shutil.which("openssl"), reason="no openssl command")
def test_timestamp_proves_the_file(sim, tmp_path):
    p = Provider(sim)
    today = day()
    assert p.post("/consents", consent(phone())).status_code == 200
    day_end(sim, today)
    f = p.get(f"/changes/{today}/file").content
    t = p.get(f"/agreements/{today}/timestamp")
    assert t.status_code == 200 and len(t.content) > 100
    (tmp_path / "day.csv").write_bytes(f)
    (tmp_path / "day.tsr").write_bytes(t.content)
    (tmp_path / "tsa.pem").write_text(requests.get(sim.base + "/_sim/tsa-certificate",
                                                   timeout=10).text)
    text = subprocess.run(["openssl", "ts", "-reply", "-in", str(tmp_path / "day.tsr"), "-text"],
                          capture_output=True, text=True, check=True).stdout
    assert "Status: Granted." in text and "Hash Algorithm: sha384" in text
    ok = subprocess.run(["openssl", "ts", "-verify", "-data", str(tmp_path / "day.csv"),
                         "-in", str(tmp_path / "day.tsr"), "-CAfile", str(tmp_path / "tsa.pem")],
                        capture_output=True, text=True)
    assert ok.returncode == 0 and "Verification: OK" in ok.stdout, ok.stderr
    # another text does not verify against the stamp
    (tmp_path / "other.csv").write_bytes(f + b"x")
    bad = subprocess.run(["openssl", "ts", "-verify", "-data", str(tmp_path / "other.csv"),
                          "-in", str(tmp_path / "day.tsr"), "-CAfile", str(tmp_path / "tsa.pem")],
                         capture_output=True, text=True)
    assert bad.returncode != 0


def test_files_and_agreements_survive_a_restart(tmp_path):
    s = start_sim(tmp_path)
    try:
        p = Provider(s)
        mine = Ledger(p)
        today = day()
        mine.add(consent(phone()))
        mine.add(consent("kisi.kalici@ornek.com.tr", type="EPOSTA"))
        day_end(s, today)
        assert put(p, today, {"agreementStatus": True}).status_code == 200
        before = [p.get(x.format(d=today)).content for x in ALL[:3]]
    finally:
        s.stop()
    s = start_sim(tmp_path)
    try:
        p.sim = s
        p.login()
        after = [p.get(x.format(d=today)).content for x in ALL[:3]]
        assert after == before
        g = p.get(f"/agreements/{today}").json()
        assert g["agreementStatus"] is True and g["hashValue"] == mine.sha384()
        assert p.get(f"/changes/{today}/file").text == mine.text()
    finally:
        s.stop()
