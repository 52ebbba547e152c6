"""Black-box tests of the İYS emulator's accounts (`izin iys-sim`): the JWT
tokens and their claims, the brand listing, the subscription queries of
providers and integrators, the HS subscription's states and consent limit on
every consent write, integrators acting for the providers that authorized
them (and refused elsewhere), the integrators' brand listings, the /_sim/
administration of all of it, and its persistence across a restart.
"""
import base64
import hashlib
import hmac
import itertools
import json
import sqlite3
import time

import pytest
import requests

from conftest import tr_now
from simutil import Integrator, Provider, consent, integrator_codes, put_sub, start_sim

_phone = itertools.count(1)


def phone():
    return "+90534%07d" % next(_phone)


def codes(r):
    return [e["code"] for e in r.json()["errors"]]


def b64d(part):
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def b64e(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwt_parts(tok):
    h, p, s = tok.split(".")
    return json.loads(b64d(h)), json.loads(b64d(p)), b64d(s)


def sim_key(sim):
    """The emulator's signing key, read from its store as an operator could."""
    con = sqlite3.connect(f"file:{sim.data}/iys-sim.db?mode=ro", uri=True)
    (hexkey,) = con.execute("select value from meta where key = 'jwt_key'").fetchone()
    con.close()
    return bytes.fromhex(hexkey)


def sign(key, header, payload):
    head = b64e(json.dumps(header).encode()) + "." + b64e(json.dumps(payload).encode())
    sig = hmac.new(key, head.encode(), hashlib.sha256).digest()
    return head + "." + b64e(sig)


def query(recipient, type="MESAJ"):
    return {"recipient": recipient, "recipientType": "BIREYSEL", "type": type}


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    s = start_sim(tmp_path_factory.mktemp("sim"))
    yield s
    s.stop()


# ---- tokens --------------------------------------------------------------------


def test_provider_token_is_a_signed_jwt_with_claims(sim):
    p = Provider(sim)
    t = p.tokens
    assert t["token_type"] == "bearer"
    assert t["expires_in"] == 7200 and t["refresh_expires_in"] == 14400
    header, claims, sig = jwt_parts(t["access_token"])
    assert header == {"alg": "HS256", "typ": "JWT"}
    assert claims["exp"] - claims["iat"] == t["expires_in"]
    assert abs(claims["iat"] - time.time()) < 60
    assert claims["typ"] == "Bearer"
    assert claims["preferred_username"] == p.username
    assert claims["sub"] == f"sp-{p.iys_code}"
    assert claims["serviceProvider"] == {"title": f"Sağlayıcı {p.iys_code}",
                                         "iysCode": str(p.iys_code)}
    assert claims["brands"] == [{"brandCode": str(p.brand), "name": f"Marka {p.iys_code}"}]
    assert claims["brandCount"] == 1
    assert "API_USER" in claims["realm_access"]["roles"]
    # signed with the emulator's key, kept in its store
    key = sim_key(sim)
    head = t["access_token"].rsplit(".", 1)[0]
    assert hmac.compare_digest(sig, hmac.new(key, head.encode(), hashlib.sha256).digest())
    rh, rclaims, _ = jwt_parts(t["refresh_token"])
    assert rh["alg"] == "HS256" and rclaims["typ"] == "Refresh"
    assert rclaims["exp"] - rclaims["iat"] == t["refresh_expires_in"]
    # the refresh grant rotates the pair; the old refresh token is spent
    r = requests.post(sim.base + "/oauth2/token", timeout=10,
                      json={"grant_type": "refresh_token", "refresh_token": t["refresh_token"]})
    assert r.status_code == 200, r.text
    assert jwt_parts(r.json()["access_token"])[1]["serviceProvider"]["iysCode"] == str(p.iys_code)
    r = requests.post(sim.base + "/oauth2/token", timeout=10,
                      json={"grant_type": "refresh_token", "refresh_token": t["refresh_token"]})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    # an access token is no refresh token
    r = requests.post(sim.base + "/oauth2/token", timeout=10,
                      json={"grant_type": "refresh_token", "refresh_token": t["access_token"]})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_tokens_are_checked_against_the_store(sim):
    p = Provider(sim)
    other = Provider(sim)
    key = sim_key(sim)
    header, claims, _ = jwt_parts(p.token)
    # a changed claim breaks the signature
    forged = dict(claims, serviceProvider={"title": "x", "iysCode": str(other.iys_code)})
    parts = p.token.split(".")
    tampered = parts[0] + "." + b64e(json.dumps(forged).encode()) + "." + parts[2]
    r = requests.post(other.url("/consents/status"), json=query(phone()), timeout=10,
                      headers={"Authorization": "Bearer " + tampered})
    assert r.status_code == 401 and codes(r) == ["H351"]
    # even rightly signed, a token the emulator did not issue (or revoked) is refused
    minted = sign(key, header, dict(claims, jti="x" * 32))
    r = requests.post(p.url("/consents/status"), json=query(phone()), timeout=10,
                      headers={"Authorization": "Bearer " + minted})
    assert r.status_code == 401 and codes(r) == ["H351"]
    # alg none
    none = b64e(b'{"alg":"none","typ":"JWT"}') + "." + parts[1] + "."
    r = requests.post(p.url("/consents/status"), json=query(phone()), timeout=10,
                      headers={"Authorization": "Bearer " + none})
    assert r.status_code == 401 and codes(r) == ["H351"]
    # an expired token (its row is dropped from the store) is refused
    con = sqlite3.connect(f"{sim.data}/iys-sim.db")
    con.execute("update tokens set expires = 1 where hash = ?",
                (hashlib.sha256(p.token.encode()).hexdigest(),))
    con.commit()
    con.close()
    r = p.post("/consents/status", query(phone()))
    assert r.status_code == 401 and codes(r) == ["H351"]
    p.login()
    r = p.post("/consents/status", query(phone()))
    assert r.status_code == 404, r.text


def test_integrator_token_claims(sim):
    io = Integrator(sim)
    header, claims, _ = jwt_parts(io.tokens["access_token"])
    assert header["alg"] == "HS256"
    assert claims["userType"] == "integrator"
    assert claims["preferred_username"] == io.username
    assert claims["integrator"] == {"title": f"İş Ortağı {io.code}",
                                    "integratorCode": str(io.code)}
    assert claims["sub"] == f"integrator-{io.code}"
    assert "serviceProvider" not in claims
    assert claims["exp"] - claims["iat"] == 7200


# ---- GET /sps/{iysCode}/brands -------------------------------------------------------


def test_brand_listing(sim):
    p = Provider(sim)
    sub = p.iys_code * 10 + 1
    r = requests.patch(f"{sim.base}/_sim/providers/{p.iys_code}",
                       json={"brands": [{"brandCode": sub, "name": "Alt Marka"}]}, timeout=10)
    assert r.status_code == 200, r.text
    a, b = phone(), phone()
    assert p.post("/consents", consent(a)).status_code == 200
    assert p.post("/consents", consent(b)).status_code == 200
    assert p.post("/consents", consent(b, "RET", date=tr_now(-60))).status_code == 200
    assert p.post("/consents", consent(a, type="ARAMA"), brand=sub).status_code == 200
    r = p.session.get(f"{sim.base}/sps/{p.iys_code}/brands", timeout=10)
    assert r.status_code == 200, r.text
    assert r.json() == [
        {"brandCode": p.brand, "name": f"Marka {p.iys_code}", "master": True,
         "stats": {"consents": {"approval": 1, "rejection": 1, "total": 2},
                   "retailers": {"total": 0}}},
        {"brandCode": sub, "name": "Alt Marka", "master": False,
         "stats": {"consents": {"approval": 1, "rejection": 0, "total": 1},
                   "retailers": {"total": 0}}}]
    # the documented errors
    r = requests.get(f"{sim.base}/sps/{p.iys_code}/brands", timeout=10)
    assert r.status_code == 401 and codes(r) == ["H351"]
    other = Provider(sim)
    r = p.session.get(f"{sim.base}/sps/{other.iys_code}/brands", timeout=10)
    assert r.status_code == 403 and codes(r) == ["H353"]
    assert r.json()["errors"][0]["message"].startswith("iysCode,")
    # a code no provider has: 404 H001, as the call's example
    r = p.session.get(f"{sim.base}/sps/999999999/brands", timeout=10)
    assert r.status_code == 404 and codes(r) == ["H001"]
    assert r.json()["errors"][0]["message"] == "Hizmet Sağlayıcı:999999999 bulunamadı."
    # the retailers under each brand are counted
    rbody = {"title": "XYZ Ticaret", "name": "Adım Soyadım", "tckn": "10000000146",
             "tin": "10000000146", "city": {"code": "34", "name": "İstanbul"},
             "town": {"code": "01", "name": "Kadıköy"}}
    r = p.session.post(f"{sim.base}/sps/{p.iys_code}/brands/{sub}/retailers", json=rbody,
                       timeout=10)
    assert r.status_code == 201, r.text
    r = p.session.get(f"{sim.base}/sps/{p.iys_code}/brands", timeout=10)
    assert [b["stats"]["retailers"]["total"] for b in r.json()] == [0, 1]
    r = p.session.get(f"{sim.base}/sps/abc/brands", timeout=10)
    assert r.status_code == 422 and codes(r) == ["H190"]
    for status, http, code in [("PAUSED", 403, "H520"), ("CLOSED", 403, "H521"),
                               ("NONE", 403, "H524")]:
        put_sub(sim, p, status=status)
        r = p.session.get(f"{sim.base}/sps/{p.iys_code}/brands", timeout=10)
        assert r.status_code == http and codes(r) == [code], (status, r.text)
    put_sub(sim, p, status="ACTIVE", apiAccess=False)
    r = p.session.get(f"{sim.base}/sps/{p.iys_code}/brands", timeout=10)
    assert r.status_code == 403 and codes(r) == ["H586"]
    assert r.json()["errors"][0]["message"] == "Aboneliğiniz API kullanımını içermemektedir."


# ---- GET /sps/{iysCode}/subscription ---------------------------------------------------


def test_provider_subscription_query(sim):
    p = Provider(sim, quota=5)
    assert p.post("/consents", consent(phone())).status_code == 200
    url = f"{sim.base}/sps/{p.iys_code}/subscription"
    r = p.session.get(url, timeout=10)
    assert r.status_code == 200, r.text
    j = r.json()
    assert j["status"] == "ACTIVE" and j["consentLimit"] == 5
    assert j["usedConsentLimit"] == 1 and j["consentLimitExceed"] is False
    assert j["subscriptionId"] and j["subscriptionPackageName"]
    assert j["startDate"] < j["expirationDate"]
    assert "viaSubscriptionPackage" not in j
    # the whole subscription, ViA and ViA PASS included
    out = put_sub(sim, p, status="ACTIVE", consentLimit=250001, consentLimitExceed=True,
                  subscriptionId="3461d2f-c83f", packageName="İleti+",
                  startDate="2025-05-30 00:00:00", expirationDate="2099-05-29 23:59:59",
                  via={"status": "ACTIVE", "credit": 4305, "subscriptionId": "95dff02",
                       "packageName": "ViA-5", "startDate": "2025-01-19 00:00:00",
                       "expirationDate": "2099-01-18 23:59:59"},
                  viaPass={"status": "PAUSED", "credit": -1})
    assert out["apiAccess"] is True
    j = p.session.get(url, timeout=10).json()
    assert {k: j[k] for k in ("subscriptionId", "startDate", "expirationDate",
                              "subscriptionPackageName", "status", "consentLimit",
                              "consentLimitExceed", "usedConsentLimit")} == {
        "subscriptionId": "3461d2f-c83f", "startDate": "2025-05-30 00:00:00",
        "expirationDate": "2099-05-29 23:59:59", "subscriptionPackageName": "İleti+",
        "status": "ACTIVE", "consentLimit": 250001, "consentLimitExceed": True,
        "usedConsentLimit": 1}
    assert j["viaSubscriptionPackage"] == {
        "startDate": "2025-01-19 00:00:00", "expirationDate": "2099-01-18 23:59:59",
        "viaCredit": 4305, "viaSubscriptionId": "95dff02",
        "viaSubscriptionPackageName": "ViA-5", "status": "ACTIVE"}
    vp = j["viaPassSubscriptionPackage"]
    assert vp["status"] == "PAUSED" and vp["viaPassCredit"] == -1
    assert vp["viaPassSubscriptionPackageName"] and vp["viaPassSubscriptionId"]
    # the consent limit is the provider's quota: one number, seen from both sides
    prov = [x for x in requests.get(sim.base + "/_sim/providers", timeout=10).json()["list"]
            if x["iysCode"] == p.iys_code][0]
    assert prov["quota"] == 250001 and prov["subscriptionDetail"]["consentLimit"] == 250001
    r = requests.patch(f"{sim.base}/_sim/providers/{p.iys_code}", json={"quota": 3}, timeout=10)
    assert r.status_code == 200
    assert p.session.get(url, timeout=10).json()["consentLimit"] == 3
    # the query answers in every state; no subscription is 404 H437
    for status in ("PAUSED", "EXPIRED", "CLOSED"):
        put_sub(sim, p, status=status)
        r = p.session.get(url, timeout=10)
        assert r.status_code == 200 and r.json()["status"] == status, r.text
    put_sub(sim, p, status="NONE")
    r = p.session.get(url, timeout=10)
    assert r.status_code == 404 and codes(r) == ["H437"]
    assert r.json()["errors"][0]["message"] == f"IYS numarası:{p.iys_code} ile abonelik bulunamadı."
    # another provider's, no token
    other = Provider(sim)
    r = p.session.get(f"{sim.base}/sps/{other.iys_code}/subscription", timeout=10)
    assert r.status_code == 403 and codes(r) == ["H353"]
    r = requests.get(url, timeout=10)
    assert r.status_code == 401 and codes(r) == ["H351"]
    put_sub(sim, p, status="ACTIVE", apiAccess=False)
    r = p.session.get(url, timeout=10)
    assert r.status_code == 403 and codes(r) == ["H586"]


def test_subscription_expires_at_its_date(sim):
    p = Provider(sim)
    put_sub(sim, p, status="ACTIVE", startDate="2024-01-01 00:00:00",
            expirationDate="2024-12-31 23:59:59")
    j = p.session.get(f"{sim.base}/sps/{p.iys_code}/subscription", timeout=10).json()
    assert j["status"] == "EXPIRED"
    r = p.post("/consents", consent(phone()))
    assert r.status_code == 403 and codes(r) == ["H520"]
    assert "EXPIRED" in r.json()["errors"][0]["message"]


# ---- the subscription's states on every consent write ---------------------------------


@pytest.mark.parametrize("status,code", [("PAUSED", "H520"), ("EXPIRED", "H520"),
                                         ("CLOSED", "H521"), ("NONE", "H524")])
def test_states_refuse_consent_writes(sim, status, code):
    p = Provider(sim)
    put_sub(sim, p, status=status)
    writes = [p.post("/consents", consent(phone())),
              p.post("/consents", consent(phone()), v2=True),
              p.post("/consents/request", [consent(phone())]),
              p.post("/consents/request", [consent(phone())], v2=True)]
    for r in writes:
        assert r.status_code == 403 and codes(r) == [code], r.text
    msg = writes[0].json()["errors"][0]["message"]
    if code == "H520":
        assert msg == (f"Abonelik durumu {status} iken sadece HS abonelik sorgulama servisine "
                       "istek atılabilir.")
    if code == "H524":
        assert msg == f"{p.iys_code} için ait abonelik kaydı bulunamadı."
    # İYS's H520 says only the subscription query is left: the other reads
    # are refused too, and that query still answers
    r = p.post("/consents/status", query(phone()))
    assert r.status_code == 403 and codes(r) == [code]
    r = p.session.get(f"{sim.base}/sps/{p.iys_code}/subscription", timeout=10)
    assert r.status_code == (404 if status == "NONE" else 200), r.text
    # ACTIVE again: writes and reads work
    put_sub(sim, p, status="ACTIVE")
    assert p.post("/consents", consent(phone())).status_code == 200


def test_consent_limit_on_single_and_bulk_adds(sim):
    p = Provider(sim)
    put_sub(sim, p, status="ACTIVE", consentLimit=2)
    a = phone()
    assert p.post("/consents", consent(a)).status_code == 200
    assert p.post("/consents", consent(phone()), v2=True).status_code == 200
    r = p.post("/consents", consent(phone()))
    assert r.status_code == 422 and codes(r) == ["H525"]
    r = p.post("/consents", consent(phone()), v2=True)
    assert r.status_code == 422 and codes(r) == ["H525"]
    # a known record may still change
    assert p.post("/consents", consent(a, "RET", date=tr_now(-60))).status_code == 200
    # a bulk request with a new record over the limit is refused whole, at
    # once (İYS's 422 H525); one of known records only goes through
    r = p.post("/consents/request", [consent(phone()), consent(a, "ONAY", date=tr_now(-30))],
               v2=True)
    assert r.status_code == 422 and codes(r) == ["H525"], r.text
    r = p.post("/consents/request", [consent(a, "ONAY", date=tr_now(-30))], v2=True)
    assert r.status_code == 202, r.text
    items = wait_items(p, r.json()["requestId"], v2=True)
    assert items[0]["status"] == "success"
    j = p.session.get(f"{sim.base}/sps/{p.iys_code}/subscription", timeout=10).json()
    assert j["usedConsentLimit"] == 2 and j["consentLimit"] == 2
    # consentLimitExceed: the limit may be passed
    put_sub(sim, p, status="ACTIVE", consentLimit=2, consentLimitExceed=True)
    assert p.post("/consents", consent(phone())).status_code == 200
    r = p.post("/consents/request", [consent(phone())], v2=True)
    assert r.status_code == 202, r.text
    assert wait_items(p, r.json()["requestId"], v2=True)[0]["status"] == "success"
    assert p.session.get(f"{sim.base}/sps/{p.iys_code}/subscription",
                         timeout=10).json()["usedConsentLimit"] == 4


def wait_items(p, rid, v2=False, via=None, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = (via or p.session).get(p.url(f"/consents/request/{rid}", v2=v2), timeout=10)
        assert r.status_code == 200, r.text
        items = r.json()
        if items and all(i["status"] != "enqueue" for i in items):
            return items
        time.sleep(0.1)
    raise AssertionError("bulk request not processed")


def test_bulk_items_judged_by_the_state_when_applied(tmp_path):
    s = start_sim(tmp_path / "sim", bulk_delay=2)
    try:
        p = Provider(s)
        r = p.post("/consents/request", [consent(phone()), consent(phone())])
        assert r.status_code == 202, r.text
        rid = r.json()["requestId"]
        put_sub(s, p, status="PAUSED")
        time.sleep(3)
        put_sub(s, p, status="ACTIVE")
        items = wait_items(p, rid)
        assert [(i["status"], i["error"]["code"]) for i in items] == [("failure", "H520")] * 2
    finally:
        s.stop()


# ---- integrators ---------------------------------------------------------------------


def test_integrator_acts_within_its_rights(sim):
    a, b = Provider(sim), Provider(sim)
    a2 = a.iys_code * 10 + 2
    r = requests.patch(f"{sim.base}/_sim/providers/{a.iys_code}",
                       json={"brands": [{"brandCode": a2, "name": "A Alt"}]}, timeout=10)
    assert r.status_code == 200
    io = Integrator(sim)
    out = io.grant(a.iys_code, a.brand, MESAJ="write", ARAMA="read",
                   agreementControl=True).json()["list"]
    assert out == [{"brandCode": a.brand, "name": f"Marka {a.iys_code}", "master": True,
                    "title": f"Sağlayıcı {a.iys_code}", "iysCode": a.iys_code,
                    "agreementControl": True, "MESAJ": "write", "ARAMA": "read",
                    "EPOSTA": None, "viaControl": False, "integratorCode": io.code}]
    # MESAJ write: single v1/v2 and bulk adds, seen by the provider itself
    m = phone()
    r = io.add(a, consent(m))
    assert r.status_code == 200, r.text
    assert io.add(a, consent(phone()), v2=True).status_code == 200
    r = a.post("/consents/status", query(m))
    assert r.status_code == 200 and r.json()["status"] == "ONAY"
    r = io.session.post(a.url("/consents/request", v2=True), json=[consent(phone())], timeout=30)
    assert r.status_code == 202, r.text
    items = wait_items(a, r.json()["requestId"], v2=True, via=io.session)
    assert items[0]["status"] == "success"
    r = io.session.post(a.url("/consents/status"), json=query(m), timeout=10)
    assert r.status_code == 200 and r.json()["recipient"] == m
    # ARAMA read only: it reads, it does not write
    r = io.add(a, consent(phone(), type="ARAMA"))
    assert r.status_code == 403 and codes(r) == ["H353"]
    assert r.json()["errors"][0]["message"] == "type, kullanıcı izinleriyle eşleştirilemiyor"
    r = io.session.post(a.url("/consents/request"),
                        json=[consent(phone()), consent(phone(), type="ARAMA")], timeout=30)
    assert r.status_code == 403 and codes(r) == ["H353"]
    r = io.session.post(a.url("/consents/status"), json=query(phone(), "ARAMA"), timeout=10)
    assert r.status_code == 404, r.text
    # EPOSTA none: not even reads
    r = io.session.post(a.url("/consents/status"),
                        json={"recipient": "x@ornek.com.tr", "recipientType": "BIREYSEL",
                              "type": "EPOSTA"}, timeout=10)
    assert r.status_code == 403 and codes(r) == ["H353"]
    r = io.session.post(a.url("/consents/BIREYSEL/status/EPOSTA"),
                        json={"recipients": ["x@ornek.com.tr"]}, timeout=10)
    assert r.status_code == 403 and codes(r) == ["H353"]
    # a brand of A it was not authorized for, a provider that did not authorize it
    r = io.add(a, consent(phone()), brand=a2)
    assert r.status_code == 403 and codes(r) == ["H353"]
    assert r.json()["errors"][0]["message"].startswith("brandCode,")
    r = io.add(b, consent(phone()))
    assert r.status_code == 403 and codes(r) == ["H353"]
    assert r.json()["errors"][0]["message"].startswith("iysCode,")
    r = io.session.get(f"{sim.base}/sps/{b.iys_code}/subscription", timeout=10)
    assert r.status_code == 403 and codes(r) == ["H353"]
    # the provider's own token keeps working
    assert a.post("/consents", consent(phone(), type="ARAMA")).status_code == 200
    # the provider's subscription, as an integrator sees it: no limits or credits
    put_sub(sim, a, status="ACTIVE", consentLimit=100, via={"status": "ACTIVE", "credit": 7})
    j = io.session.get(f"{sim.base}/sps/{a.iys_code}/subscription", timeout=10).json()
    assert j["status"] == "ACTIVE" and j["subscriptionId"]
    for k in ("consentLimit", "consentLimitExceed", "usedConsentLimit"):
        assert k not in j
    assert "viaCredit" not in j["viaSubscriptionPackage"]
    # the brand listing shows it the authorized brands only
    r = io.session.get(f"{sim.base}/sps/{a.iys_code}/brands", timeout=10)
    assert r.status_code == 200 and [x["brandCode"] for x in r.json()] == [a.brand]
    # the provider's state applies to the integrator acting for it
    put_sub(sim, a, status="PAUSED")
    r = io.add(a, consent(phone()))
    assert r.status_code == 403 and codes(r) == ["H520"]
    put_sub(sim, a, status="ACTIVE")
    # a withdrawn authorization holds at once
    assert io.revoke(a.iys_code, a.brand).status_code == 204
    r = io.add(a, consent(phone()))
    assert r.status_code == 403 and codes(r) == ["H353"]
    r = io.revoke(a.iys_code, a.brand)
    assert r.status_code == 404


def test_authorization_in_api_md_form(sim):
    """API.md's /_sim/ contract: {iysCode, brandCodes?, types, rights} to give,
    DELETE with the same body to withdraw."""
    a = Provider(sim)
    io = Integrator(sim)
    url = f"{sim.base}/_sim/integrators/{io.code}/authorizations"
    body = {"iysCode": a.iys_code, "brandCodes": [a.brand], "types": ["MESAJ"],
            "rights": ["READ", "WRITE", "RECONCILE"]}
    # all brands or none: an unknown brand after a good one grants nothing
    r = requests.post(url, json={**body, "brandCodes": [a.brand, 999999]}, timeout=10)
    assert r.status_code == 404 and codes(r) == ["H018"], r.text
    r = io.add(a, consent(phone()))
    assert r.status_code == 403 and codes(r) == ["H353"]
    r = requests.post(url, json=body, timeout=10)
    assert r.status_code == 201, r.text
    g = r.json()["list"][0]
    assert (g["MESAJ"], g["ARAMA"], g["agreementControl"]) == ("write", None, True)
    assert io.add(a, consent(phone())).status_code == 200
    r = io.add(a, consent(phone(), type="ARAMA"))
    assert r.status_code == 403 and codes(r) == ["H353"]
    # a bad right or type is refused, nothing changes
    r = requests.post(url, json={**body, "rights": ["ADMIN"]}, timeout=10)
    assert r.status_code == 422, r.text
    r = requests.post(url, json={**body, "types": ["FAKS"]}, timeout=10)
    assert r.status_code == 422, r.text
    assert io.add(a, consent(phone())).status_code == 200
    # withdrawn with the same body (here without brandCodes: every brand)
    r = requests.delete(url, json={"iysCode": a.iys_code, "types": ["MESAJ"],
                                   "rights": ["READ", "WRITE"]}, timeout=10)
    assert r.status_code == 200, r.text
    r = io.add(a, consent(phone()))
    assert r.status_code == 403 and codes(r) == ["H353"]


def test_integrator_change_pull_shows_readable_types(sim):
    a = Provider(sim)
    io = Integrator(sim)
    io.grant(a.iys_code, a.brand, MESAJ="read")
    assert a.post("/consents", consent(phone())).status_code == 200
    assert a.post("/consents", consent(phone(), type="ARAMA")).status_code == 200
    r = io.session.get(a.url("/consents/changes"), params={"source": "HS"}, timeout=10)
    assert r.status_code == 200, r.text
    assert [c["type"] for c in r.json()["list"]] == ["MESAJ"]
    r = a.get("/consents/changes", params={"source": "HS"})
    assert sorted(c["type"] for c in r.json()["list"]) == ["ARAMA", "MESAJ"]


def test_integrator_brand_listings(sim):
    a, b, c = Provider(sim), Provider(sim), Provider(sim)
    io = Integrator(sim)
    io.grant(a.iys_code, MESAJ="write", ARAMA="write", EPOSTA="write", viaControl=True)
    io.grant(b.iys_code, b.brand, EPOSTA="read")
    base = f"/integrator/{io.code}/sps"
    r = io.call("GET", base)
    assert r.status_code == 200, r.text
    j = r.json()
    assert j["pagination"] == {"offset": 0, "pageSize": 2, "totalCount": 2}
    assert [(x["iysCode"], x["brandCode"]) for x in j["list"]] == [(a.iys_code, a.brand),
                                                                  (b.iys_code, b.brand)]
    assert j["list"][0]["viaControl"] is True and j["list"][0]["EPOSTA"] == "write"
    assert j["list"][1]["MESAJ"] is None and j["list"][1]["EPOSTA"] == "read"
    assert j["list"][1]["title"] == f"Sağlayıcı {b.iys_code}" and j["list"][1]["master"] is True
    r = io.call("GET", base, params={"offset": 1, "limit": 1})
    assert r.json()["pagination"] == {"offset": 1, "pageSize": 1, "totalCount": 2}
    assert r.json()["list"][0]["iysCode"] == b.iys_code
    r = io.call("GET", f"{base}/{b.iys_code}")
    assert r.status_code == 200 and [x["iysCode"] for x in r.json()["list"]] == [b.iys_code]
    r = io.call("GET", f"{base}/{c.iys_code}")
    assert r.status_code == 403 and codes(r) == ["H353"]
    # pagination errors, both at once when both are bad
    r = io.call("GET", base, params={"offset": "x", "limit": "-1"})
    assert r.status_code == 422 and codes(r) == ["H182", "H183"]
    assert r.json()["errors"][0]["location"] == ["offset"]
    r = io.call("GET", base, params={"limit": 0})
    assert r.status_code == 422 and codes(r) == ["H187"]
    r = io.call("GET", base, params={"limit": 101})
    assert r.status_code == 422 and codes(r) == ["H186"]
    # a provider's token, another integrator's code, no token
    r = a.session.get(sim.base + base, timeout=10)
    assert r.status_code == 400 and codes(r) == ["H363"]
    other = Integrator(sim)
    r = other.call("GET", base)
    assert r.status_code == 403 and codes(r) == ["H353"]
    assert r.json()["errors"][0]["message"].startswith("integratorIysCode,")
    r = requests.get(sim.base + base, timeout=10)
    assert r.status_code == 401 and codes(r) == ["H351"]


def test_integrator_subscription_and_states(sim):
    a = Provider(sim)
    io = Integrator(sim)
    io.grant(a.iys_code, a.brand, MESAJ="write")
    url = f"/integrator/{io.code}/subscription"
    r = io.call("GET", url)
    assert r.status_code == 200, r.text
    j = r.json()
    assert j["iysCode"] == io.code and j["status"] == "ACTIVE"
    assert j["subscriptionPackageName"] == "IO - API Kullanım Lisansı"
    assert j["subscriptionId"] and j["startDate"] < j["expirationDate"]
    out = io.set_subscription(status="ACTIVE", subscriptionId="12345879",
                              packageName="IO - API Kullanım Lisansı",
                              startDate="2020-06-21 12:24:55", expirationDate="2099-06-21 12:24:55")
    assert out["subscription"]["subscriptionId"] == "12345879"
    assert io.call("GET", url).json() == {
        "startDate": "2020-06-21 12:24:55", "expirationDate": "2099-06-21 12:24:55",
        "subscriptionPackageName": "IO - API Kullanım Lisansı", "subscriptionId": "12345879",
        "status": "ACTIVE", "iysCode": io.code}
    # only an integrator's own
    r = a.session.get(sim.base + url, timeout=10)
    assert r.status_code == 400 and codes(r) == ["H522"]
    r = Integrator(sim).call("GET", url)
    assert r.status_code == 403 and codes(r) == ["H353"]
    # its own state: the subscription query still answers, nothing else does
    for status, code in [("PAUSED", "H520"), ("EXPIRED", "H520"), ("CLOSED", "H521"),
                         ("NONE", "H524")]:
        io.set_subscription(status=status)
        r = io.call("GET", url)
        if status == "NONE":
            assert r.status_code == 404 and codes(r) == ["H437"]
        else:
            assert r.status_code == 200 and r.json()["status"] == status
        for r in (io.add(a, consent(phone())), io.call("GET", f"/integrator/{io.code}/sps"),
                  io.call("GET", f"/sps/{a.iys_code}/subscription")):
            assert r.status_code == 403 and codes(r) == [code], (status, r.text)
        if code == "H520":
            assert r.json()["errors"][0]["message"] == (
                f"Abonelik durumu {status} iken sadece Entegratör abonelik sorgulama servisine "
                "istek atılabilir.")
    io.set_subscription(status="ACTIVE")
    assert io.add(a, consent(phone())).status_code == 200


# ---- administration ---------------------------------------------------------------


def test_admin_integrators(sim):
    p = Provider(sim)
    io = Integrator(sim)
    post = lambda body: requests.post(sim.base + "/_sim/integrators", json=body, timeout=10)
    good = {"integratorCode": next(integrator_codes), "name": "Ortak", "username": "ortak-x1",
            "password": "uzun-bir-sifre"}
    r = post(dict(good, integratorCode=io.code))
    assert r.status_code == 409 and r.json()["errors"][0]["location"] == ["integratorCode"]
    r = post(dict(good, username=io.username))
    assert r.status_code == 409 and r.json()["errors"][0]["location"] == ["username"]
    # a username is one login: a provider's cannot be taken, nor the other way round
    r = post(dict(good, username=p.username))
    assert r.status_code == 409 and r.json()["errors"][0]["location"] == ["username"]
    r = requests.post(sim.base + "/_sim/providers", timeout=10,
                      json={"iysCode": 899990, "name": "P", "username": io.username,
                            "password": "uzun-bir-sifre", "brands": [{"brandCode": 899990,
                                                                      "name": "M"}]})
    assert r.status_code == 409 and r.json()["errors"][0]["location"] == ["username"]
    for bad, field in [({"integratorCode": 0}, "integratorCode"), ({"name": ""}, "name"),
                       ({"password": "short"}, "password"), ({"subscription": "X"}, "subscription"),
                       ({"extra": 1}, "extra")]:
        r = post(dict(good, **bad))
        assert r.status_code == 422 and r.json()["errors"][0]["location"] == [field], bad
    # authorizations: unknown integrator, provider, brand, a bad right
    url = f"{sim.base}/_sim/integrators/{io.code}/authorizations"
    r = requests.post(f"{sim.base}/_sim/integrators/1/authorizations",
                      json={"iysCode": p.iys_code}, timeout=10)
    assert r.status_code == 404 and codes(r) == ["H129"]
    r = requests.post(url, json={"iysCode": 899999}, timeout=10)
    assert r.status_code == 404 and codes(r) == ["H001"]
    r = requests.post(url, json={"iysCode": p.iys_code, "brandCode": 899999}, timeout=10)
    assert r.status_code == 404 and codes(r) == ["H018"]
    r = requests.post(url, json={"iysCode": p.iys_code, "MESAJ": "admin"}, timeout=10)
    assert r.status_code == 422 and r.json()["errors"][0]["location"] == ["MESAJ"]
    io.grant(p.iys_code, p.brand, MESAJ="read")
    # the admin views
    lst = requests.get(sim.base + "/_sim/integrators", timeout=10).json()["list"]
    mine = [x for x in lst if x["integratorCode"] == io.code][0]
    assert mine["username"] == io.username and "password" not in mine
    assert mine["subscription"]["status"] == "ACTIVE"
    assert [(g["iysCode"], g["MESAJ"]) for g in mine["authorizations"]] == [(p.iys_code, "read")]
    prov = [x for x in requests.get(sim.base + "/_sim/providers", timeout=10).json()["list"]
            if x["iysCode"] == p.iys_code][0]
    assert [g["integratorCode"] for g in prov["integrators"]] == [io.code]
    assert prov["subscriptionDetail"]["status"] == "ACTIVE"
    # subscription bodies
    r = requests.put(f"{sim.base}/_sim/providers/{p.iys_code}/subscription",
                     json={"consentLimit": 5}, timeout=10)
    assert r.status_code == 422 and r.json()["errors"][0]["location"] == ["status"]
    r = requests.put(f"{sim.base}/_sim/providers/{p.iys_code}/subscription",
                     json={"status": "ACTIVE", "startDate": "2025-13-01 00:00:00"}, timeout=10)
    assert r.status_code == 422 and r.json()["errors"][0]["location"] == ["startDate"]
    r = requests.put(f"{sim.base}/_sim/providers/{p.iys_code}/subscription",
                     json={"status": "ACTIVE", "via": {"status": "NONE"}}, timeout=10)
    assert r.status_code == 422 and r.json()["errors"][0]["location"] == ["via.status"]
    r = requests.put(f"{sim.base}/_sim/providers/899999/subscription",
                     json={"status": "ACTIVE"}, timeout=10)
    assert r.status_code == 404 and codes(r) == ["H001"]
    r = requests.put(f"{sim.base}/_sim/integrators/1/subscription",
                     json={"status": "ACTIVE"}, timeout=10)
    assert r.status_code == 404 and codes(r) == ["H129"]


def test_accounts_persist_across_a_restart(tmp_path):
    s = start_sim(tmp_path / "sim")
    try:
        a = Provider(s)
        io = Integrator(s)
        io.grant(a.iys_code, a.brand, MESAJ="write")
        put_sub(s, a, status="ACTIVE", consentLimit=9, via={"status": "ACTIVE", "credit": 3})
        token = io.tokens["access_token"]
    finally:
        s.stop()
    s = start_sim(tmp_path / "sim")
    try:
        # the token issued before the restart still holds (same key, same store)
        io.sim = s
        io.session.headers["Authorization"] = "Bearer " + token
        a.sim = s
        assert io.add(a, consent(phone())).status_code == 200
        j = a.session.get(f"{s.base}/sps/{a.iys_code}/subscription", timeout=10).json()
        assert j["consentLimit"] == 9 and j["viaSubscriptionPackage"]["viaCredit"] == 3
        assert j["usedConsentLimit"] == 1
        r = io.call("GET", f"/integrator/{io.code}/sps")
        assert r.status_code == 200 and r.json()["pagination"]["totalCount"] == 1
    finally:
        s.stop()
