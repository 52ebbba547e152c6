"""The voice / IVR filter: campaigns filtered on ARAMA, the dialer's number
list (CSV, JSON), and the IVR's opt-out key recorded as RET on ARAMA."""
import time

import pytest
import requests

from conftest import Server, fresh_phone, izin, store_rows, tr_now
from simutil import Provider, start_sim


class Voice:
    def __init__(self, env):
        self.env = env
        self.base = env.server.base

    def consent(self, phone, status="ONAY", type="ARAMA", rtype=None, date=None):
        body = {"recipient": phone, "type": type, "status": status, "source": "HS_WEB",
                "consentDate": date or tr_now(-3600)}
        if rtype:
            body["recipientType"] = rtype
        r = self.env.api.post_consent(body)
        assert r.status_code == 201, r.text

    def campaign(self, body, tenant=None, brand=None):
        t = tenant or self.env.acme
        b = brand or self.env.acme.brand
        return requests.post(self.base + f"/v1/brands/{b}/voice/campaigns", json=body,
                             headers=t.headers, timeout=30)

    def numbers(self, cid, fmt=None, tenant=None, headers=None):
        t = tenant or self.env.acme
        params = {"format": fmt} if fmt else {}
        return requests.get(self.base + f"/v1/voice/campaigns/{cid}/numbers", params=params,
                            headers={**t.headers, **(headers or {})}, timeout=30)

    def optout(self, body, tenant=None, brand=None):
        t = tenant or self.env.acme
        b = brand or self.env.acme.brand
        return requests.post(self.base + f"/v1/brands/{b}/voice/optout", json=body,
                             headers=t.headers, timeout=10)

    def check_one(self, phone, rtype=None):
        params = {"type": "ARAMA"}
        if rtype:
            params["recipientType"] = rtype
        return requests.get(self.base + f"/v1/brands/{self.env.acme.brand}/check/{phone}",
                            params=params, headers=self.env.acme.headers, timeout=10).json()


@pytest.fixture(scope="module")
def v(env):
    return Voice(env)


def test_campaign_filters_on_arama(v):
    yes, ret, none, sms_only = fresh_phone(), fresh_phone(), fresh_phone(), fresh_phone()
    v.consent(yes)
    v.consent(ret, date=tr_now(-7200))
    v.consent(ret, status="RET")
    v.consent(sms_only, type="MESAJ")
    r = v.campaign({"name": "Kış kampanyası", "recipients": [
        yes.replace("+90", "0"), ret, none, sms_only, "12ab", None, yes]})
    assert r.status_code == 201, r.text
    j = r.json()
    assert j["allowed"] == 1 and j["blocked"] == 5
    assert j["name"] == "Kış kampanyası" and j["commercial"] is True
    assert j["recipientType"] == "BIREYSEL"
    assert sorted(j["blockedRecipients"], key=str) == sorted([
        {"recipient": ret, "reason": "RET"}, {"recipient": none, "reason": "NO_CONSENT"},
        {"recipient": sms_only, "reason": "NO_CONSENT"},
        {"recipient": "12ab", "reason": "INVALID"}, {"recipient": None, "reason": "INVALID"}],
        key=str)
    cid = j["campaignId"]
    n = v.numbers(cid, "json")
    assert n.status_code == 200
    assert n.json() == {"campaignId": cid, "name": "Kış kampanyası", "numbers": [yes]}
    # JSON is the default
    assert v.numbers(cid).json()["numbers"] == [yes]
    c = v.numbers(cid, "csv")
    assert c.status_code == 200 and c.headers["Content-Type"].startswith("text/csv")
    assert c.text == f"recipient\n{yes}\n"
    c = v.numbers(cid, headers={"Accept": "text/csv"})
    assert c.text == f"recipient\n{yes}\n"
    r = v.numbers(cid, "xml")
    assert r.status_code == 422 and r.json()["errors"][0]["location"] == ["format"]


def test_numbers_are_judged_again_when_fetched(v):
    a, b = fresh_phone(), fresh_phone()
    v.consent(a, date=tr_now(-7200))
    v.consent(b)
    cid = v.campaign({"name": "Geri arama", "recipients": [a, b]}).json()["campaignId"]
    assert v.numbers(cid).json()["numbers"] == [a, b]
    # a withdrawal a moment ago: not dialled, and the last look says so
    v.consent(a, status="RET", date=tr_now(-1))
    assert v.numbers(cid).json()["numbers"] == [b]
    assert v.numbers(cid, "csv").text == f"recipient\n{b}\n"
    assert v.check_one(a) == {"recipient": a, "allowed": False, "reason": "RET"}
    assert v.check_one(b) == {"recipient": b, "allowed": True}


def test_informational_and_tacir_campaigns(v):
    t, none = fresh_phone(), fresh_phone()
    v.consent(t, rtype="TACIR")
    j = v.campaign({"name": "Bilgi", "commercial": False,
                    "recipients": [none, t, "x"]}).json()
    assert j["allowed"] == 2 and j["blocked"] == 1
    assert v.numbers(j["campaignId"]).json()["numbers"] == [none, t]
    j = v.campaign({"name": "Bayi", "recipientType": "TACIR", "recipients": [t, none]}).json()
    assert j["allowed"] == 1
    assert j["blockedRecipients"] == [{"recipient": none, "reason": "NO_CONSENT"}]
    assert v.numbers(j["campaignId"]).json()["numbers"] == [t]
    j = v.campaign({"name": "Bireysel", "recipients": [t]}).json()
    assert j["allowed"] == 0
    assert v.numbers(j["campaignId"]).json()["numbers"] == []
    assert v.numbers(j["campaignId"], "csv").text == "recipient\n"


def test_campaigns_belong_to_their_account(v):
    p = fresh_phone()
    v.consent(p)
    cid = v.campaign({"name": "Gizli", "recipients": [p]}).json()["campaignId"]
    other = v.env.other
    r = v.numbers(cid, tenant=other)
    assert r.status_code == 404 and r.json()["errors"][0]["code"] == "IZ404"
    assert v.numbers(cid, "csv", tenant=other).status_code == 404
    assert v.numbers(999999999).status_code == 404
    assert v.numbers("abc").status_code == 404
    assert v.numbers(-1).status_code == 404
    r = requests.get(v.base + f"/v1/voice/campaigns/{cid}/numbers", timeout=10)
    assert r.status_code == 401
    # another account's brand does not exist for this key
    r = v.campaign({"name": "x", "recipients": [p]}, tenant=other)
    assert r.status_code == 404
    r = v.campaign({"name": "x", "recipients": [p]}, brand=other.brand)
    assert r.status_code == 404
    r = v.optout({"recipient": p, "callId": "c1"}, tenant=other)
    assert r.status_code == 404
    assert v.check_one(p)["allowed"] is True


def test_bad_campaigns(v):
    cases = [
        ({"recipients": []}, 422, "IZ422", "name"),
        ({"name": "", "recipients": []}, 422, "IZ422", "name"),
        ({"name": "a" * 128, "recipients": []}, 422, "IZ422", "name"),
        ({"name": "a\nb", "recipients": []}, 422, "IZ422", "name"),
        ({"name": 5, "recipients": []}, 422, "IZ422", "name"),
        ({"name": "x"}, 422, "H168", "recipients"),
        ({"name": "x", "recipients": "0532"}, 422, "H478", "recipients"),
        ({"name": "x", "recipients": [1] * 100001}, 422, "IZ422", "recipients"),
        ({"name": "x", "recipients": [], "commercial": 1}, 422, "IZ422", "commercial"),
        ({"name": "x", "recipients": [], "recipientType": "X"}, 422, "H116", "recipientType"),
        ({"name": "x", "recipients": [], "type": "MESAJ"}, 422, "IZ422", "type"),
    ]
    for body, status, code, field in cases:
        r = v.campaign(body)
        assert r.status_code == status, (body, r.text)
        e = r.json()["errors"][0]
        assert e["code"] == code and e["location"] == [field], (body, e)
    # the longest name and an empty list are fine
    r = v.campaign({"name": "a" * 127, "recipients": []})
    assert r.status_code == 201 and r.json()["allowed"] == 0


def evidence_of(data, change_id):
    return store_rows(data, "select evidence from consent_log where id = ?", (change_id,))[0][0]


def test_optout_records_ret_on_arama(v):
    p = fresh_phone()
    v.consent(p, date=tr_now(-7200))
    v.consent(p, type="MESAJ")
    assert v.check_one(p)["allowed"] is True
    r = v.optout({"recipient": p.replace("+90", "0"), "callId": "ivr-2026-0001"})
    assert r.status_code == 201, r.text
    j = r.json()
    assert j["recipient"] == p and j["type"] == "ARAMA" and j["status"] == "RET"
    assert j["recipientType"] == "BIREYSEL"
    assert j["source"] == "HS_CAGRI_MERKEZI" and j["origin"] == "API"
    assert j["iys"]["state"] == "LOCAL"  # this account has no İYS configured
    assert "warnings" not in j
    # dated now (Turkey time)
    assert abs(time.mktime(time.strptime(j["consentDate"], "%Y-%m-%d %H:%M:%S")) -
               time.mktime(time.strptime(tr_now(), "%Y-%m-%d %H:%M:%S"))) < 5
    ev = evidence_of(v.env.data, j["id"])
    assert '"callId":"ivr-2026-0001"' in ev and '"ip":"127.0.0.1"' in ev
    # the next look blocks the call, the record shows it, MESAJ is untouched
    assert v.check_one(p) == {"recipient": p, "allowed": False, "reason": "RET"}
    g = v.env.api.get_consent(p, type="ARAMA").json()
    assert g["status"] == "RET" and g["history"][0]["id"] == j["id"]
    assert v.env.api.get_consent(p, type="MESAJ").json()["status"] == "ONAY"
    # pressing the key again changes nothing
    r = v.optout({"recipient": p, "callId": "ivr-2026-0002"})
    assert r.status_code == 200 and r.json()["id"] == j["id"]
    assert len(v.env.api.get_consent(p, type="ARAMA").json()["history"]) == 2


def test_first_optout_is_kept_local_with_h175(v):
    p = fresh_phone()
    r = v.optout({"recipient": p, "callId": 4711})
    assert r.status_code == 201, r.text
    j = r.json()
    assert j["status"] == "RET" and j["iys"]["state"] == "LOCAL"
    assert j["warnings"][0]["code"] == "H175"
    assert '"callId":"4711"' in evidence_of(v.env.data, j["id"])
    assert v.check_one(p)["reason"] == "RET"


def test_tacir_optout(v):
    p = fresh_phone()
    v.consent(p, rtype="TACIR")
    assert v.check_one(p, "TACIR")["allowed"] is True
    r = v.optout({"recipient": p, "callId": "t1", "recipientType": "TACIR"})
    assert r.status_code == 201 and r.json()["recipientType"] == "TACIR"
    assert v.check_one(p, "TACIR")["reason"] == "RET"


def test_bad_optouts(v):
    p = fresh_phone()
    cases = [
        ({"recipient": p}, "IZ422", "callId"),
        ({"recipient": p, "callId": ""}, "IZ422", "callId"),
        ({"recipient": p, "callId": "x" * 129}, "IZ422", "callId"),
        ({"recipient": p, "callId": "a\tb"}, "IZ422", "callId"),
        ({"recipient": p, "callId": ["x"]}, "IZ422", "callId"),
        ({"recipient": p, "callId": "c", "type": "MESAJ"}, "IZ422", "type"),
        ({"recipient": p, "callId": "c", "status": "ONAY"}, "IZ422", "status"),
        ({"recipient": "12ab", "callId": "c"}, "H121", "recipient"),
        ({"recipient": "ali@example.com", "callId": "c"}, "H464", "recipient"),
        ({"callId": "c"}, None, "recipient"),
        ({"recipient": p, "callId": "c", "recipientType": "X"}, "H116", "recipientType"),
    ]
    for body, code, field in cases:
        r = v.optout(body)
        assert r.status_code in (400, 422), (body, r.text)
        e = r.json()["errors"][0]
        if code:
            assert e["code"] == code, (body, e)
        assert e["location"] == [field], (body, e)
    assert v.env.api.get_consent(p, type="ARAMA").status_code == 404


def test_optout_reaches_iys_at_once(tmp_path):
    sim = start_sim(tmp_path / "sim")
    prov = Provider(sim)
    data = tmp_path / "module"
    izin("init", data=data)
    izin("account", "add", "--name", "acme", "--iys-code", str(prov.iys_code), "--iys-url",
         sim.base, "--iys-user", prov.username, "--iys-password", prov.password, data=data)
    izin("brand", "add", "--account", "acme", "--code", str(prov.brand), "--name", "ACME",
         data=data)
    key = izin("key", "add", "--account", "acme", data=data).stdout.strip()
    srv = Server(["serve", "--listen", "127.0.0.1:0", "--data", str(data),
                  "--iys-pull-interval", "1"], data).start()
    h = {"Authorization": "Bearer " + key}
    base = srv.base + f"/v1/brands/{prov.brand}"
    try:
        p = fresh_phone()
        r = requests.post(base + "/consents", headers=h, timeout=10, json={
            "recipient": p, "type": "ARAMA", "status": "ONAY", "source": "HS_WEB",
            "consentDate": tr_now(-3600)})
        assert r.status_code == 201
        deadline = time.time() + 10
        while time.time() < deadline:
            g = requests.get(base + f"/consents/{p}", params={"type": "ARAMA"}, headers=h,
                             timeout=10).json()
            if g["iys"]["state"] == "ACCEPTED":
                break
            time.sleep(0.05)
        assert g["iys"]["state"] == "ACCEPTED"
        t0 = time.time()
        r = requests.post(base + "/voice/optout", headers=h, timeout=10,
                          json={"recipient": p, "callId": "call-77"})
        assert r.status_code == 201, r.text
        assert r.json()["iys"]["state"] == "PENDING"
        st = None
        while time.time() - t0 < 5:
            st = prov.post("/consents/status", {"recipient": p, "recipientType": "BIREYSEL",
                                                "type": "ARAMA"})
            if st.status_code == 200 and st.json()["status"] == "RET":
                break
            time.sleep(0.05)
        assert st.status_code == 200 and st.json()["status"] == "RET", st.text
        assert st.json()["source"] == "HS_CAGRI_MERKEZI"
        assert time.time() - t0 < 3
        # a first RET of another address stays local (İYS would refuse it)
        q = fresh_phone()
        r = requests.post(base + "/voice/optout", headers=h, timeout=10,
                          json={"recipient": q, "callId": "call-78"})
        assert r.status_code == 201 and r.json()["iys"]["state"] == "LOCAL"
        assert r.json()["warnings"][0]["code"] == "H175"
    finally:
        srv.stop()
        sim.stop()
