"""The emulator's 3-business-day rule (H467, after a provider's activation
date) and its tamper-evident log (`izin iys-sim verify`)."""
import sqlite3

import requests

from conftest import izin, tr_now
from simutil import Provider, consent, start_sim


def test_h467_after_the_activation_date(tmp_path):
    sim = start_sim(tmp_path / "sim")
    try:
        p = Provider(sim)
        old = tr_now(-30 * 86400)
        # in the upload period (no activation date) an old consent is accepted
        r = p.post("/consents", consent("+905330000001", date=old))
        assert r.status_code == 200, r.text
        r = requests.patch(f"{sim.base}/_sim/providers/{p.iys_code}",
                           json={"activationDate": "2024-01-01"})
        assert r.status_code == 200 and r.json()["activationDate"] == "2024-01-01"
        r = p.post("/consents", consent("+905330000002", date=old))
        assert r.status_code == 422 and r.json()["errors"][0]["code"] == "H467"
        assert p.post("/consents", consent("+905330000003", date=tr_now(-60))).status_code == 200
        # the same rule in an async bulk request: İYS's example refuses the
        # whole request at once (422, the late item's index), nothing taken
        r = p.post("/consents/request", [consent("+905330000004", date=old),
                                          consent("+905330000005")])
        assert r.status_code == 422, r.text
        assert [(e["code"], e["index"]) for e in r.json()["errors"]] == [("H467", 0)]
        q = {"recipient": "+905330000005", "recipientType": "BIREYSEL", "type": "MESAJ"}
        assert p.post("/consents/status", q).status_code == 404
        bad = requests.patch(f"{sim.base}/_sim/providers/{p.iys_code}",
                             json={"activationDate": "2024-02-30"})
        assert bad.status_code in (400, 422)
    finally:
        sim.stop()


def test_verify_reports_the_first_broken_link(tmp_path):
    data = tmp_path / "sim"
    sim = start_sim(data)
    try:
        p = Provider(sim)
        for i in range(5):
            assert p.post("/consents", consent("+90533000010%d" % i)).status_code == 200
    finally:
        sim.stop()
    ok = izin("iys-sim", "verify", "--data", str(data))
    assert ok.stdout.strip() == "log intact"
    assert izin("iys-sim", "verify", "--data", str(data), "--json").stdout.strip() == \
        '{"ok":true}'
    # tamper with the third change behind the emulator's back
    con = sqlite3.connect(data / "iys-sim.db")
    triggers = [r[0] for r in con.execute("select name from sqlite_master where type='trigger'")]
    for t in triggers:
        con.execute(f"drop trigger {t}")
    ids = [r[0] for r in con.execute("select id from consent_log order by id")]
    con.execute("update consent_log set status = 'RET' where id = ?", (ids[2],))
    con.commit()
    con.close()
    bad = izin("iys-sim", "verify", "--data", str(data), check=False)
    assert bad.returncode == 3
    assert bad.stdout.strip() == f"log broken at change {ids[2]}"
    j = izin("iys-sim", "verify", "--data", str(data), "--json", check=False)
    assert j.returncode == 3 and f'"firstBrokenId":{ids[2]}' in j.stdout
    # a missing directory is an error, not an empty intact log
    missing = izin("iys-sim", "verify", "--data", str(tmp_path / "nope"), check=False)
    assert missing.returncode == 1 and "no emulator data" in missing.stderr
