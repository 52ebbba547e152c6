"""Black-box tests of the İYS emulator's citizen side: İYS-side changes
through /_sim/citizen/consents and the /vatandas page (CSRF, escaping,
security headers, the per-IP POST limit), and complaints with the consent
state that held at the message's time, in JSON and on the authority's page.

Every page fetched here goes through page_ok(): the page kit's headers, a
CSP naming the page's one <style> block by its SHA-256, and no script or
style attribute anywhere (the CSP would block them).
"""
import base64
import hashlib
import html
import re
import time
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from conftest import tr_now
from simutil import Provider, consent, start_sim

_n = [0]


def phone():
    _n[0] += 1
    return "+90534%07d" % _n[0]


def local(e164):
    """The way a person types it: 0532 123 45 67."""
    d = e164[3:]
    return f"0{d[:3]} {d[3:6]} {d[6:8]} {d[8:]}"


def codes(r):
    return [e["code"] for e in r.json()["errors"]]


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    s = start_sim(tmp_path_factory.mktemp("simcitizen"))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def prov(sim):
    return Provider(sim)


def citizen(sim, p, recipient, status, source="IYS_MOBIL", type="MESAJ", **kw):
    body = {"iysCode": p.iys_code, "brandCode": p.brand, "recipient": recipient,
            "type": type, "status": status, "source": source}
    body.update(kw)
    return requests.post(sim.base + "/_sim/citizen/consents", json=body, timeout=10)


def records(sim, recipient):
    r = requests.get(sim.base + "/_sim/citizen/consents", params={"recipient": recipient},
                     timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["list"]


def tick():
    """Two changes of one address need distinct consentDate seconds (H178)."""
    time.sleep(1.05)


# ---- JSON ------------------------------------------------------------------------

def test_citizen_change_is_an_iys_side_change(sim, prov):
    rcp = phone()
    r = prov.post("/consents", consent(rcp, "ONAY", source="HS_WEB", date=tr_now(-120)))
    assert r.status_code == 200, r.text
    r = citizen(sim, prov, local(rcp), "RET", citizenName="Ayşe Yılmaz")
    assert r.status_code == 201, r.text
    j = r.json()
    assert re.fullmatch(r"[0-9a-f]{64}", j["transactionId"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", j["creationDate"])
    recs = records(sim, local(rcp))
    assert len(recs) == 1
    rec = recs[0]
    assert rec["status"] == "RET" and rec["source"] == "IYS_MOBIL" and rec["type"] == "MESAJ"
    assert rec["recipient"] == rcp and rec["brandCode"] == prov.brand
    assert rec["providerName"] == f"Sağlayıcı {prov.iys_code}"
    assert rec["brandName"] == f"Marka {prov.iys_code}"
    assert rec["transactionId"] == j["transactionId"]
    # the provider pulls it as an İYS-side change
    r = prov.get("/consents/changes", params={"source": "IYS"})
    assert r.status_code == 200, r.text
    mine = [c for c in r.json()["list"] if c["recipient"] == rcp]
    assert mine and mine[-1]["status"] == "RET" and mine[-1]["source"] == "IYS_MOBIL"
    assert mine[-1]["transactionId"] == j["transactionId"]


def test_citizen_change_rules(sim, prov):
    rcp = phone()
    r = citizen(sim, prov, rcp, "ONAY", source="HS_WEB")
    assert r.status_code == 422 and codes(r) == ["H119"]
    r = citizen(sim, prov, rcp, "RET")
    assert r.status_code == 400 and codes(r) == ["H175"]
    assert citizen(sim, prov, rcp, "ONAY").status_code == 201
    r = citizen(sim, prov, rcp, "ONAY")
    assert r.status_code == 400 and codes(r) == ["H174"]
    r = citizen(sim, prov, "0532", "ONAY")
    assert r.status_code == 422 and codes(r) == ["H121"]
    r = citizen(sim, prov, rcp, "ONAY", type="EPOSTA")
    assert r.status_code == 422 and codes(r)[0] in ("H464", "H120")
    r = citizen(sim, prov, rcp, "ONAY", extra=1)
    assert r.status_code == 422 and "H118" in codes(r)
    r = requests.post(sim.base + "/_sim/citizen/consents", timeout=10,
                      json={"iysCode": 7999999, "brandCode": 1, "recipient": rcp,
                            "type": "MESAJ", "status": "ONAY", "source": "IYS_WEB"})
    assert r.status_code == 404 and codes(r) == ["H001"]
    r = requests.post(sim.base + "/_sim/citizen/consents", timeout=10,
                      json={"iysCode": prov.iys_code, "brandCode": 1, "recipient": rcp,
                            "type": "MESAJ", "status": "ONAY", "source": "IYS_WEB"})
    assert r.status_code == 404 and codes(r) == ["H018"]
    r = requests.post(sim.base + "/_sim/citizen/consents", timeout=10,
                      json={"iysCode": "x", "brandCode": 1, "recipient": rcp})
    assert r.status_code == 422 and codes(r) == ["H190"]
    r = requests.get(sim.base + "/_sim/citizen/consents", params={"recipient": "nope"},
                     timeout=10)
    assert r.status_code == 422 and codes(r) == ["H122"]


def test_citizen_records_across_brands_and_channels(sim):
    p1 = Provider(sim)
    p2 = Provider(sim)
    mail = f"kisi{_n[0]}@ornek.com.tr"
    rcp = phone()
    assert citizen(sim, p1, rcp, "ONAY", source="IYS_WEB").status_code == 201
    assert citizen(sim, p2, rcp, "ONAY", type="ARAMA", source="IYS_CM").status_code == 201
    assert citizen(sim, p2, mail.upper(), "ONAY", type="EPOSTA").status_code == 201
    recs = records(sim, rcp)
    assert sorted((r["iysCode"], r["type"]) for r in recs) == sorted(
        [(p1.iys_code, "MESAJ"), (p2.iys_code, "ARAMA")])
    recs = records(sim, mail)
    assert [(r["recipient"], r["type"]) for r in recs] == [(mail, "EPOSTA")]


# ---- the page ------------------------------------------------------------------------

def page_ok(r):
    """The page kit's promises about one answer; returns it."""
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    styles = re.findall(r"<style>(.*?)</style>", r.text, re.S)
    assert len(styles) == 1, r.text
    digest = base64.b64encode(hashlib.sha256(styles[0].encode()).digest()).decode()
    assert r.headers["Content-Security-Policy"] == (
        f"default-src 'none'; style-src 'sha256-{digest}'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    assert "unsafe-inline" not in r.headers["Content-Security-Policy"]
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Cache-Control"] == "no-store"
    t = r.text
    assert t.startswith("<!DOCTYPE html>") and '<html lang="tr">' in t
    assert "<script" not in t.lower() and " style=" not in t.lower()
    assert not re.search(r"<[^>]*\son[a-z]+=", t, re.I), "an event handler attribute"
    assert "http://" not in t and "https://" not in t
    return r


def csrf_of(page):
    m = re.search(r'name="csrf" value="([0-9a-f]{48})"', page)
    assert m, page
    return m.group(1)


def page_forms(page):
    """The hidden fields of each change form on the page."""
    out = []
    for form in re.findall(r'<form method="post" action="/vatandas">(.*?)</form>', page):
        out.append(dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">',
                                   form)))
    return out


def test_page_renders_in_turkish_with_headers(sim):
    r = page_ok(requests.get(sim.base + "/vatandas", timeout=10))
    assert r.status_code == 200
    # the lookup form has no POST: no CSRF cookie is needed yet
    assert "Set-Cookie" not in r.headers
    t = r.text
    assert "İzinlerimi göster" in t and "ticari ileti" in t
    assert '<label for="alici">' in t and '<main id="main"' in t
    assert '<a class="skip" href="#main">' in t
    assert "İYS emülatörü" in t and "gerçek İYS değildir" in t
    r = page_ok(requests.get(sim.base + "/vatandas", params={"alici": "abc"}, timeout=10))
    assert r.status_code == 422 and "geçerli bir cep telefonu" in r.text
    assert 'role="alert"' in r.text


def test_every_page_carries_the_kit(sim, prov):
    rcp = phone()
    assert citizen(sim, prov, rcp, "ONAY").status_code == 201
    s = requests.Session()
    r = page_ok(s.get(sim.base + "/vatandas", params={"alici": rcp}, timeout=10))
    cookie = r.headers["Set-Cookie"]
    assert re.fullmatch(r"iz_csrf=[0-9a-f]{48}; Path=/; HttpOnly; SameSite=Strict", cookie)
    page_ok(s.get(sim.base + "/vatandas/sikayet", timeout=10))
    page_ok(s.get(sim.base + "/vatandas/sikayet", params={"tamam": "1"}, timeout=10))
    page_ok(s.get(sim.base + "/yetkili/sikayetler", timeout=10))
    r = page_ok(s.post(sim.base + "/vatandas", data={"csrf": "x"}, timeout=10))
    assert r.status_code == 403


def test_page_lists_and_changes_with_csrf(sim, prov):
    rcp = phone()
    assert prov.post("/consents", consent(rcp, "ONAY", date=tr_now(-300))).status_code == 200
    s = requests.Session()
    r = s.get(sim.base + "/vatandas", params={"alici": local(rcp)}, timeout=10)
    assert r.status_code == 200
    t = r.text
    assert "<h2>SMS</h2>" in t and f"Marka {prov.iys_code}" in t
    assert "İzin var" in t and "Firma: web sitesi" in t and "İzni geri al (RET)" in t
    forms = page_forms(t)
    assert len(forms) == 1
    f = forms[0]
    assert f["status"] == "RET" and f["alici"] == rcp and f["type"] == "MESAJ"
    assert f["csrf"] == s.cookies["iz_csrf"]
    r = s.post(sim.base + "/vatandas", data=f, timeout=10, allow_redirects=False)
    assert r.status_code == 303, r.text
    loc = urlparse(r.headers["Location"])
    assert loc.path == "/vatandas"
    assert parse_qs(loc.query) == {"alici": [rcp], "sonuc": ["ret"]}
    r = s.get(sim.base + r.headers["Location"], timeout=10)
    assert "İzniniz geri alındı" in r.text and "İzin yok" in r.text
    assert "İYS web sitesi" in r.text and "İzin ver (ONAY)" in r.text
    rec = records(sim, rcp)[0]
    assert rec["status"] == "RET" and rec["source"] == "IYS_WEB"
    # and back to ONAY
    tick()
    f = page_forms(r.text)[0]
    assert f["status"] == "ONAY"
    r = s.post(sim.base + "/vatandas", data=f, timeout=10)
    assert r.status_code == 200 and "İzniniz kaydedildi" in r.text
    assert records(sim, rcp)[0]["status"] == "ONAY"
    # the same form again: İYS's H174, shown in Turkish, nothing changed
    tick()
    r = s.post(sim.base + "/vatandas", data=f, timeout=10)
    assert r.status_code == 400 and "H174" in r.text and "zaten" in r.text


def test_page_csrf_refusals_change_nothing(sim, prov):
    rcp = phone()
    assert citizen(sim, prov, rcp, "ONAY").status_code == 201
    tick()
    s = requests.Session()
    f = page_forms(s.get(sim.base + "/vatandas", params={"alici": rcp}, timeout=10).text)[0]
    good = f["csrf"]
    attempts = []
    # no cookie at all
    attempts.append(requests.post(sim.base + "/vatandas", data=f, timeout=10))
    # cookie, but no field
    attempts.append(s.post(sim.base + "/vatandas", timeout=10,
                           data={k: v for k, v in f.items() if k != "csrf"}))
    # cookie, and a different (well-formed) token in the field
    bad = dict(f, csrf=("0" if good[0] != "0" else "1") + good[1:])
    attempts.append(s.post(sim.base + "/vatandas", data=bad, timeout=10))
    # another browser's cookie with this token
    other = requests.Session()
    other.get(sim.base + "/vatandas", timeout=10)
    attempts.append(other.post(sim.base + "/vatandas", data=f, timeout=10))
    # JSON instead of a form
    attempts.append(s.post(sim.base + "/vatandas", json=f, timeout=10))
    # a browser says the form came from another site: refused, token or not
    attempts.append(s.post(sim.base + "/vatandas", data=f, timeout=10,
                           headers={"Sec-Fetch-Site": "cross-site"}))
    # a second, planted cookie of the same name makes the token ambiguous
    attempts.append(requests.post(sim.base + "/vatandas", data=f, timeout=10,
                                  headers={"Cookie": f"iz_csrf={good}; iz_csrf={good}"}))
    # a malformed cookie value
    attempts.append(requests.post(sim.base + "/vatandas", data=f, timeout=10,
                                  headers={"Cookie": f'iz_csrf="{good}"'}))
    for r in attempts:
        assert r.status_code == 403, r.text
        page_ok(r)
        assert "Güvenlik doğrulaması başarısız" in r.text
        assert "Hiçbir değişiklik yapılmadı" in r.text
    assert records(sim, rcp)[0]["status"] == "ONAY"
    # the right token still works, also when the browser says it is this site's form
    r = s.post(sim.base + "/vatandas", data=f, timeout=10, allow_redirects=False,
               headers={"Sec-Fetch-Site": "same-origin"})
    assert r.status_code == 303
    page_ok(r)


def test_page_escapes_names(sim):
    evil = "<script>alert('x')</script> & \"Şirket\""
    code = 8400001
    r = requests.post(sim.base + "/_sim/providers", timeout=10, json={
        "iysCode": code, "name": evil, "username": "kotu8400001", "password": "parola-123",
        "brands": [{"brandCode": code, "name": "<img src=x onerror=alert(1)>"}]})
    assert r.status_code == 201, r.text
    rcp = phone()
    r = requests.post(sim.base + "/_sim/citizen/consents", timeout=10, json={
        "iysCode": code, "brandCode": code, "recipient": rcp, "type": "MESAJ",
        "status": "ONAY", "source": "IYS_WEB"})
    assert r.status_code == 201, r.text
    t = page_ok(requests.get(sim.base + "/vatandas", params={"alici": rcp}, timeout=10)).text
    assert "<script>" not in t and "<img" not in t
    assert html.escape(evil, quote=True).replace("&#x27;", "&#39;") in t
    # the looked-up value is escaped in the form too
    t = requests.get(sim.base + "/vatandas", params={"alici": '"><b>x'}, timeout=10).text
    assert '"><b>x' not in t and "&quot;&gt;&lt;b&gt;x" in t


# ---- complaints ---------------------------------------------------------------------

def complain(sim, p, recipient, when, type="MESAJ", text="İzinsiz kampanya SMS'i"):
    return requests.post(sim.base + "/_sim/complaints", timeout=10, json={
        "recipient": recipient, "iysCode": p.iys_code, "brandCode": p.brand, "type": type,
        "messageTime": when, "text": text})


def test_complaints_with_consent_at_message_time(sim, prov):
    rcp = phone()
    before_any = tr_now(-3000)
    assert prov.post("/consents", consent(rcp, "ONAY", date=tr_now(-600))).status_code == 200
    while_onay = tr_now(-300)
    assert citizen(sim, prov, rcp, "RET").status_code == 201
    tick()
    after_ret = tr_now()
    ids = []
    for when in (before_any, while_onay, after_ret):
        r = complain(sim, prov, local(rcp), when, text=f"ileti {when}")
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    r = requests.get(sim.base + "/_sim/complaints", timeout=10)
    assert r.status_code == 200
    mine = {c["id"]: c for c in r.json()["list"] if c["recipient"] == rcp}
    listed = [c["id"] for c in r.json()["list"] if c["recipient"] == rcp]
    assert listed == sorted(ids, reverse=True)  # newest first
    none, held, withdrawn = (mine[i] for i in ids)
    assert none["state"] == "NO_CONSENT" and none["consentHeld"] is False
    assert none["consentAtMessageTime"] is None
    assert held["state"] == "ONAY" and held["consentHeld"] is True
    assert held["consentAtMessageTime"]["source"] == "HS_WEB"
    assert withdrawn["state"] == "RET" and withdrawn["consentHeld"] is False
    assert withdrawn["consentAtMessageTime"]["source"] == "IYS_MOBIL"
    assert withdrawn["messageTime"] == after_ret and withdrawn["type"] == "MESAJ"
    assert withdrawn["brandName"] == f"Marka {prov.iys_code}"
    # filter by provider
    r = requests.get(sim.base + "/_sim/complaints", params={"iysCode": 1}, timeout=10)
    assert r.status_code == 200 and r.json()["list"] == []


def test_complaint_validation(sim, prov):
    rcp = phone()
    cases = [
        (dict(messageTime="2025/01/01 10:00"), 422, "H158"),
        (dict(messageTime="2025-02-30 10:00:00"), 422, "H157"),
        (dict(messageTime=tr_now(3600)), 422, "H162"),
        (dict(type="FAX"), 422, "H117"),
        (dict(recipient="kimse"), 422, "H121"),
        (dict(text=""), 422, "IZ422"),
        (dict(text="x" * 1001), 422, "IZ422"),
        (dict(brandCode=1), 404, "H018"),
        (dict(iysCode=7999998), 404, "H001"),
        (dict(iysCode="7"), 422, "H190"),
        (dict(extra=1), 422, "IZ422"),
    ]
    for change, status, code in cases:
        body = {"recipient": rcp, "iysCode": prov.iys_code, "brandCode": prov.brand,
                "type": "MESAJ", "messageTime": tr_now(-60), "text": "metin"}
        body.update(change)
        r = requests.post(sim.base + "/_sim/complaints", json=body, timeout=10)
        assert r.status_code == status and codes(r) == [code], (change, r.text)


def test_complaint_form_and_authority_page(sim, prov):
    rcp = phone()
    s = requests.Session()
    r = s.get(sim.base + "/vatandas/sikayet", timeout=10,
              params={"alici": rcp, "iysCode": prov.iys_code, "brandCode": prov.brand,
                      "type": "ARAMA"})
    assert r.status_code == 200 and "İzinsiz ileti şikâyeti" in r.text
    assert r.headers["X-Frame-Options"] == "DENY"
    assert '<option value="ARAMA" selected>' in r.text
    token = csrf_of(r.text)
    form = {"csrf": token, "alici": local(rcp), "iysCode": str(prov.iys_code),
            "brandCode": str(prov.brand), "type": "MESAJ",
            "messageTime": tr_now(-120).replace(" ", "T")[:16],
            "text": "Kampanya <b>SMS</b> geldi"}
    # without the token nothing is filed
    r = requests.post(sim.base + "/vatandas/sikayet", data=form, timeout=10)
    assert r.status_code == 403 and "Güvenlik doğrulaması başarısız" in r.text
    r = s.post(sim.base + "/vatandas/sikayet", data=dict(form, messageTime="dün"), timeout=10)
    assert r.status_code == 422 and "İleti zamanı" in r.text
    # the refused form keeps what was typed, escaped
    page_ok(r)
    assert "Kampanya &lt;b&gt;SMS&lt;/b&gt; geldi</textarea>" in r.text
    r = s.post(sim.base + "/vatandas/sikayet", data=form, timeout=10, allow_redirects=False)
    assert r.status_code == 303, r.text
    assert r.headers["Location"].startswith("/vatandas/sikayet?tamam=")
    cid = int(r.headers["Location"].split("=")[1])
    r = page_ok(s.get(sim.base + r.headers["Location"], timeout=10))
    assert "Şikâyetiniz alındı" in r.text and f"<b>{cid}</b>" in r.text
    mine = [c for c in requests.get(sim.base + "/_sim/complaints", timeout=10).json()["list"]
            if c["id"] == cid]
    assert len(mine) == 1 and mine[0]["recipient"] == rcp and mine[0]["state"] == "NO_CONSENT"
    assert mine[0]["messageTime"].endswith(":00")
    r = page_ok(requests.get(sim.base + "/yetkili/sikayetler", timeout=10))
    assert r.status_code == 200
    t = r.text
    assert f"Şikâyet no. {cid}" in t and "kayıt yok (NO_CONSENT)" in t
    assert "Kampanya &lt;b&gt;SMS&lt;/b&gt; geldi" in t and "<b>SMS</b>" not in t
    assert r.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_page_posts_are_limited_per_address(tmp_path):
    """At most 60 page POSTs a minute from one address, refused ones
    included; the 61st gets the Turkish 429 page with Retry-After, and the
    JSON and GET side is not limited."""
    s = start_sim(tmp_path)
    try:
        sess = requests.Session()
        f = csrf_of(sess.get(s.base + "/vatandas/sikayet", timeout=10).text)
        got = [sess.post(s.base + "/vatandas/sikayet", data={"csrf": f}, timeout=10).status_code
               for _ in range(60)]
        assert got == [422] * 60
        r = sess.post(s.base + "/vatandas/sikayet", data={"csrf": f}, timeout=10)
        assert r.status_code == 429
        page_ok(r)
        assert "Çok fazla istek" in r.text and "saniye sonra tekrar deneyin" in r.text
        assert 1 <= int(r.headers["Retry-After"]) <= 60
        # the limit is per address over all the pages' POSTs
        r = sess.post(s.base + "/vatandas", data={"csrf": f}, timeout=10)
        assert r.status_code == 429
        assert page_ok(sess.get(s.base + "/vatandas", timeout=10)).status_code == 200
        assert requests.get(s.base + "/_sim/complaints", timeout=10).status_code == 200
    finally:
        s.stop()
