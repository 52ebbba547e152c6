"""Plans (F9): izin serve --plans FILE, an account's plan bounding its consent
records from every origin (API single and bulk rows, inbound SMS keywords),
withdrawals and changes of existing records never refused, the usage in
GET /v1/account, izin account list and /metrics; izin account add/set
checking the plan; serve refusing a bad plans file with the line number."""
import time

import requests

from conftest import Server, fresh_phone, izin, make_store, tr_now

TOKEN = "gateway-token-0123456789"
TINY = """# a tiny plan for tests
mini  | Mini   | 3     | 100.05
big   | Büyük  | 1.000 | 2400
free  | Sınırsız | -   | -
"""


def post(srv, t, phone, status="ONAY", type="MESAJ", ago=3600):
    return requests.post(srv.base + f"/v1/brands/{t.brand}/consents", headers=t.headers,
                         json={"recipient": phone, "type": type, "status": status,
                               "source": "HS_WEB", "consentDate": tr_now(-ago)}, timeout=10)


def test_plan_bounds_new_records_from_every_origin(tmp_path):
    data = tmp_path / "d"
    plans = tmp_path / "plans.conf"
    plans.write_text(TINY, encoding="utf-8")
    acme, other = make_store(data)
    # an unknown plan is refused, naming the known ones
    bad = izin("account", "set", "--name", "acme", "--plan", "gold", "--plans", str(plans),
               data=data, check=False)
    assert bad.returncode != 0 and "mini, big, free" in bad.stderr
    bad = izin("account", "add", "--name", "x", "--iys-code", "1", "--plan", "gold",
               "--plans", str(plans), data=data, check=False)
    assert bad.returncode != 0 and "gold" in bad.stderr
    izin("account", "set", "--name", "acme", "--plan", "mini", "--plans", str(plans), data=data)
    izin("brand", "set", "--code", "700001", "--keyword", "ACME", "--short-number", "4607",
         data=data)
    srv = Server(["serve", "--listen", "127.0.0.1:0", "--data", str(data), "--plans", str(plans),
                  "--gateway-token", TOKEN], data).start()
    try:
        phones = [fresh_phone() for _ in range(3)]
        for p in phones:
            assert post(srv, acme, p).status_code == 201
        # the 4th new record is refused
        r = post(srv, acme, fresh_phone())
        assert r.status_code == 403, r.text
        e = r.json()["errors"][0]
        assert e["code"] == "IZ4031" and "sınır" in e["message"]
        # a RET for a new address is still taken (kept LOCAL, as a first RET)
        r = post(srv, acme, fresh_phone(), status="RET")
        assert r.status_code == 201 and r.json()["iys"]["state"] == "LOCAL"
        # an existing record's change is still taken
        r = post(srv, acme, phones[0], status="RET", ago=60)
        assert r.status_code == 201, r.text
        # a bulk row making a new record is rejected with the code; the job goes on
        csv = ("recipient,type,status,source,consentDate\n"
               f"{fresh_phone()},MESAJ,ONAY,HS_WEB,{tr_now(-3600)}\n"
               f"{phones[1]},MESAJ,RET,HS_WEB,{tr_now(-60)}\n")
        r = requests.post(srv.base + f"/v1/brands/{acme.brand}/consents/bulk", data=csv.encode(),
                          headers={**acme.headers, "Content-Type": "text/csv"}, timeout=10)
        assert r.status_code == 202, r.text
        job = r.json()["jobId"]
        for _ in range(200):
            j = requests.get(srv.base + f"/v1/jobs/{job}", headers=acme.headers, timeout=10).json()
            if j["state"] in ("DONE", "FAILED"):
                break
            time.sleep(0.05)
        assert j["state"] == "DONE" and j["accepted"] == 1 and j["rejected"] == 1, j
        errs = requests.get(srv.base + f"/v1/jobs/{job}/errors.csv", headers=acme.headers,
                            timeout=10).text.splitlines()
        assert errs[0] == "line,code,message,raw" and errs[1].startswith("2,IZ4031,")
        # an SMS keyword from a new number cannot be recorded; the reply says so
        r = requests.post(srv.base + "/v1/sms/inbound", headers={"X-Izin-Token": TOKEN},
                          json={"id": "q-1", "from": fresh_phone(), "to": "4607",
                                "text": "ONAY ACME"}, timeout=10)
        assert r.status_code == 200 and r.json()["outcome"] == "REFUSED", r.text
        assert r.json()["reply"]
        # usage: 3 ONAY records and the first RET's record; another account is not bounded
        u = requests.get(srv.base + "/v1/account", headers=acme.headers, timeout=10).json()
        assert u == {"account": "acme", "plan": {"code": "mini", "name": "Mini"}, "limit": 3,
                     "used": 4, "price": {"beforeVat": "100.05", "withVat": "120.06",
                                          "vatPercent": 20, "currency": "TRY",
                                          "period": "YEAR"}}
        assert post(srv, other, fresh_phone()).status_code == 201
        u = requests.get(srv.base + "/v1/account", headers=other.headers, timeout=10).json()
        assert u["plan"] is None and u["limit"] is None and u["used"] == 1
        m = requests.get(srv.base + "/metrics", timeout=10).text
        assert 'izin_plan_limit{account="acme"} 3' in m
        assert 'izin_plan_used{account="acme"} 4' in m
        assert 'izin_plan_used{account="other"} 1' in m
        # a bigger plan lets it grow again (seen within a second)
        izin("account", "set", "--name", "acme", "--plan", "big", "--plans", str(plans),
             data=data)
        time.sleep(1.1)
        assert post(srv, acme, fresh_phone()).status_code == 201
    finally:
        srv.stop()
    out = izin("account", "list", "--plans", str(plans), "--json", data=data).stdout
    assert '"plan": "big"' in out or '"plan":"big"' in out
    assert '"used": 5' in out or '"used":5' in out


def test_serve_refuses_a_bad_plans_file(tmp_path):
    data = tmp_path / "d"
    make_store(data)
    plans = tmp_path / "plans.conf"
    plans.write_text("ok | Tamam | 10 | 1\n\n# yorum\nbad | Kötü | on | 1\n", encoding="utf-8")
    p = izin("serve", "--listen", "127.0.0.1:0", "--data", str(data), "--plans", str(plans),
             data=None, check=False)
    assert p.returncode != 0 and "line 4" in p.stderr and "limit" in p.stderr
    # an account whose plan the file does not have stops serve too
    plans.write_text("ok | Tamam | 10 | 1\n", encoding="utf-8")
    izin("account", "set", "--name", "acme", "--plan", "ok", "--plans", str(plans), data=data)
    plans.write_text("other | Başka | 10 | 1\n", encoding="utf-8")
    p = izin("serve", "--listen", "127.0.0.1:0", "--data", str(data), "--plans", str(plans),
             data=None, check=False)
    assert p.returncode != 0 and "acme" in p.stderr and "'ok'" in p.stderr


def test_consent_page_refuses_a_new_address_over_the_plan(tmp_path):
    """The consent page passes the same domain check: a new number's ONAY
    over the plan answers a Turkish refusal page and records nothing; a
    withdrawal by a new number is still recorded."""
    from test_consent_page import ask_code, code_for, verify
    data = tmp_path / "d"
    plans = tmp_path / "plans.conf"
    plans.write_text("one | Tek | 1 | 10\n", encoding="utf-8")
    acme, _ = make_store(data)
    izin("account", "set", "--name", "acme", "--plan", "one", "--plans", str(plans), data=data)
    izin("brand", "set", "--code", "700001", "--slug", "acme", data=data)
    srv = Server(["serve", "--listen", "127.0.0.1:0", "--data", str(data), "--plans", str(plans)],
                 data).start()
    try:
        assert post(srv, acme, fresh_phone()).status_code == 201  # the plan is full now
        who = fresh_phone()
        s = requests.Session()
        otp = ask_code(srv, s, who)
        assert otp.status_code == 200, otp.text
        code, _ = code_for(srv, who)
        r = verify(srv, s, otp.text, code)
        assert r.status_code == 403, r.text
        assert "text/html" in r.headers["Content-Type"]
        assert "yeni izin kaydı alamıyor" in r.text, r.text
        h = requests.get(srv.base + f"/v1/brands/{acme.brand}/consents/{who}",
                         params={"type": "MESAJ"}, headers=acme.headers, timeout=10)
        assert h.status_code == 404
        # a withdrawal by another new number goes (kept LOCAL, as a first RET)
        who2 = fresh_phone()
        s2 = requests.Session()
        otp = ask_code(srv, s2, who2, status="RET")
        code, _ = code_for(srv, who2)
        r = verify(srv, s2, otp.text, code)
        assert r.status_code == 200, r.text
        h = requests.get(srv.base + f"/v1/brands/{acme.brand}/consents/{who2}",
                         params={"type": "MESAJ"}, headers=acme.headers, timeout=10)
        assert h.status_code == 200 and h.json()["status"] == "RET"
    finally:
        srv.stop()
