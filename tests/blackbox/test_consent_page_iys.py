"""The consent page's İYS-verified mode (issue 13 item 5), against the
emulator: the brand's page asks İYS's OTP management (ViA Pass) to send and
check the code, so İYS holds the proof; izin records the change (HS_WEB,
origin URL) with İYS's requestId in its evidence and sends it to İYS. A
wrong code is answered with İYS's refusal; İYS unreachable is a 503 page
and nothing is recorded."""
import hashlib
import os

import pytest
import requests

from conftest import fresh_phone, wait_for
from simutil import Provider, start_sim
from test_consent_page import csrf_of, verify
from test_sync import Module

TEMPLATE = "izin-sayfa"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    sim, p, m = make_world(tmp_path_factory.mktemp("cpage_iys"))
    yield sim, p, m
    m.srv.stop()
    sim.stop()


def make_world(tmp, *serve_args):
    """An emulator provider with ViA Pass credit and a verify-only OTP
    template, and izin serve (with serve_args) whose brand acme is
    İYS-verified."""
    sim = start_sim(tmp / "sim")
    p = Provider(sim)
    r = requests.put(f"{sim.base}/_sim/via/subscriptions/{p.iys_code}",
                     json={"credit": 1000, "status": "ACTIVE"}, timeout=10)
    assert r.status_code == 200, r.text
    # a verify-only template, as İYS's ViA Pass templates are (DECISIONS.md)
    r = requests.post(sim.base + "/_sim/otp/templates", timeout=10,
                      json={"iysCode": p.iys_code, "templateId": TEMPLATE, "channel": "SMS",
                            "method": "OTP",
                            "text": "ACME izin doğrulama kodunuz: {{otp}}"})
    assert r.status_code == 201, r.text
    m = Module(tmp, sim, p, *serve_args)
    r = m.s.patch(m.srv.base + f"/v1/brands/{m.brand}", timeout=10,
                  json={"slug": "acme", "pageMode": "IYS", "pageOtpTemplate": TEMPLATE,
                        "pageVkn": "1234567890"})
    assert r.status_code == 200, r.text
    assert r.json()["pageMode"] == "IYS" and r.json()["pageOtpTemplate"] == TEMPLATE
    return sim, p, m


def iys_code_for(sim, phone):
    r = requests.get(sim.base + "/_sim/otp", params={"recipient": phone}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["code"], r.json()["messages"][0]["requestId"]


def ask(m, s, phone, types=("MESAJ",), status="ONAY"):
    r = s.get(m.srv.base + "/c/acme", timeout=10)
    assert r.status_code == 200
    return s.post(m.srv.base + "/c/acme/otp", timeout=10,
                  data={"csrf": csrf_of(r.text), "phone": phone, "email": "", "status": status,
                        "types": list(types)})


def started(sim, m):
    """A fresh number's code asked on the page: (session, phone, code page, İYS's code)."""
    phone = fresh_phone()
    s = requests.Session()
    page = ask(m, s, phone).text
    return s, phone, page, iys_code_for(sim, phone)[0]


def post_code(m, s, page, code):
    class Srv:
        base = m.srv.base
    return verify(Srv, s, page, code)


def local(phone):
    return "+9" + phone if phone.startswith("0") else phone


def izin_sms(m):
    path = os.path.join(str(m.data), "sms.log")
    return open(path, encoding="utf-8").read() if os.path.exists(path) else ""


def test_patch_refuses_iys_mode_without_its_settings(world):
    _, _, m = world
    r = m.s.patch(m.srv.base + f"/v1/brands/{m.brand}", json={"pageVkn": "0123"}, timeout=10)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["location"] == ["pageVkn"]
    r = m.s.patch(m.srv.base + f"/v1/brands/{m.brand}", json={"pageMode": "SOMETIMES"},
                  timeout=10)
    assert r.status_code == 422 and r.json()["errors"][0]["location"] == ["pageMode"]
    assert m.s.get(m.srv.base + f"/v1/brands/{m.brand}", timeout=10).json()["pageMode"] == "IYS"


def test_iys_verified_give_and_withdraw(world):
    sim, p, m = world
    phone = fresh_phone()
    s = requests.Session()
    r = ask(m, s, phone, types=("MESAJ", "ARAMA"))
    assert r.status_code == 200, r.text
    assert "İleti Yönetim Sistemi (İYS)" in r.text and "kod gönderdi" in r.text
    code, rid = iys_code_for(sim, phone)
    assert phone not in izin_sms(m)  # İYS sent the code, izin none
    r = post_code(m, s, r.text, code)
    assert r.status_code == 200, r.text
    assert "Tercihiniz kaydedildi" in r.text
    for t in ("MESAJ", "ARAMA"):
        h = m.get(phone, t)
        assert h.status_code == 200, h.text
        cur = h.json()
        assert cur["status"] == "ONAY" and cur["source"] == "HS_WEB" and cur["origin"] == "URL"
        ev = cur["history"][0]["evidence"]
        assert ev["method"] == "IYS_SMS_OTP" and ev["iysRequestId"] == rid
        assert ev["iysOtpTemplate"] == TEMPLATE and len(ev["pageSha256"]) == 64
        assert ev["page"] == m.srv.base + "/c/acme" and ev["otpRecipient"] == phone
        assert ev["ip"] == "127.0.0.1" and ev["userAgent"].startswith("python-requests")
        # İYS has it too: izin sent it, with izin's source
        wait_for(lambda: p.post("/consents/status", {"recipient": phone, "type": t,
                                                     "recipientType": "BIREYSEL"}
                                ).json().get("status") == "ONAY", timeout=20)
        at = p.post("/consents/status", {"recipient": phone, "type": t,
                                         "recipientType": "BIREYSEL"}).json()
        assert at["source"] == "HS_WEB"
    # the process is İYS's and completed there: its request history says so
    r = p.session.post(f"{sim.base}/otp-management/api/v1/request-history",
                       json={"requestId": rid}, timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["content"][-1]["description"] == "OTP Completed"
    # the local mode's per-number limit holds: a second code within the minute is refused
    # before İYS is asked
    r = ask(m, requests.Session(), phone, types=("ARAMA",), status="RET")
    assert r.status_code == 429 and "Çok fazla istek" in r.text
    assert iys_code_for(sim, phone)[1] == rid


def test_evidence_too_long_keeps_the_user_agent_as_its_hash(tmp_path):
    """İYS's evidence is the longest: with a long public URL (140 bytes at
    most) and a 256-byte user agent of quotes (512 bytes escaped) it passes
    the 1 KiB a change's evidence may hold. The change is still recorded,
    the user agent kept as its SHA-256."""
    url = "http://izin.ornek-saglayici-hizmetleri.com.tr/" + "k" * 80
    assert len(url) <= 140
    sim, _, m = make_world(tmp_path, "--public-url", url)
    try:
        ua = '"' * 256
        s = requests.Session()
        s.headers["User-Agent"] = ua
        phone = fresh_phone()
        page = ask(m, s, phone).text
        code, rid = iys_code_for(sim, phone)
        r = post_code(m, s, page, code)
        assert r.status_code == 200 and "Tercihiniz kaydedildi" in r.text, r.text
        ev = m.get(phone, "MESAJ").json()["history"][0]["evidence"]
        assert ev["iysRequestId"] == rid and ev["page"] == url.rstrip("/") + "/c/acme"
        assert "userAgent" not in ev
        assert ev["userAgentSha256"] == hashlib.sha256(ua.encode()).hexdigest()
    finally:
        m.srv.stop()
        sim.stop()


def test_iys_verified_withdraw(world):
    sim, _, m = world
    phone = fresh_phone()
    s = requests.Session()
    r = ask(m, s, phone, types=("ARAMA",), status="RET")
    assert r.status_code == 200, r.text
    code, rid = iys_code_for(sim, phone)
    r = post_code(m, s, r.text, code)
    assert r.status_code == 200 and "izniniz geri alındı" in r.text, r.text
    cur = m.get(phone, "ARAMA").json()
    assert cur["status"] == "RET" and cur["history"][0]["evidence"]["iysRequestId"] == rid


def test_iys_wrong_code(world):
    sim, _, m = world
    s, phone, page, code = started(sim, m)
    bad = "%06d" % ((int(code) + 1) % 1000000)
    r = post_code(m, s, page, bad)
    assert r.status_code == 422, r.text
    assert "İYS kodu doğrulamadı: kod yanlış. 2 deneme hakkınız kaldı." in r.text
    r = post_code(m, s, page, bad)
    assert "1 deneme hakkınız kaldı" in r.text
    r = post_code(m, s, page, bad)
    assert r.status_code == 410 and "İYS bu doğrulamayı kapattı" in r.text
    # the right code is no use now, and nothing was recorded
    r = post_code(m, s, page, code)
    assert r.status_code == 410
    assert m.get(phone).status_code == 404


def test_iys_unreachable_records_nothing(world):
    sim, _, m = world
    s, phone, page, code = started(sim, m)
    assert requests.put(sim.base + "/_sim/faults", json={"outageSeconds": 600}).ok
    try:
        r = post_code(m, s, page, code)
        assert r.status_code == 503, r.text
        assert "İYS&#39;ye şu an ulaşılamıyor" in r.text or "İYS'ye şu an ulaşılamıyor" in r.text
        assert m.get(phone).status_code == 404
        other = fresh_phone()
        r = ask(m, requests.Session(), other)
        assert r.status_code == 503 and "ulaşılamıyor" in r.text
    finally:
        assert requests.put(sim.base + "/_sim/faults", json={}).ok
    assert m.get(phone).status_code == 404
    # İYS back: the same code completes the process, once
    r = post_code(m, s, page, code)
    assert r.status_code == 200, r.text
    assert m.get(phone).json()["status"] == "ONAY"
