"""The consent page (issue 13, API.md "Consent page"): a brand's short URL
/c/{slug} where a person gives or withdraws consent, proven by a 6-digit
code sent by SMS (read here from the log sink, DATA/sms.log); the change is
recorded with origin URL, source HS_WEB and its evidence, shown in the
consent's history."""
import hashlib
import json
import os
import re
import time

import pytest
import requests

from conftest import Server, fresh_phone, izin, make_store

INFO = "Kişisel verileriniz 6698 sayılı KVKK uyarınca işlenir.\nİkinci paragraf."


def start(tmp_path, *extra, info=INFO, name=None):
    data = tmp_path / "d"
    acme, other = make_store(data)
    f = tmp_path / "info.txt"
    f.write_text(info, encoding="utf-8")
    args = ["--code", "700001", "--slug", "acme", "--info-text", str(f)]
    if name:
        args += ["--name", name]
    izin("brand", "set", *args, data=data)
    srv = Server(["serve", "--listen", "127.0.0.1:0", "--data", str(data), *extra], data).start()
    return srv, acme


@pytest.fixture
def page(tmp_path):
    srv, acme = start(tmp_path)
    yield srv, acme
    srv.stop()


def csrf_of(html):
    m = re.search(r'name="csrf" value="([0-9a-f]{48})"', html)
    assert m, html
    return m.group(1)


def codes(srv):
    """(to, text, id) of every SMS the log sink wrote."""
    path = os.path.join(str(srv.data), "sms.log")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def code_for(srv, phone, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        mine = [m for m in codes(srv) if m["to"] == phone]
        if mine:
            m = re.search(r"\b(\d{6})\b", mine[-1]["text"])
            return m.group(1), mine[-1]
        time.sleep(0.05)
    raise AssertionError("no code SMS to " + phone)


def ask_code(srv, s, phone, types=("MESAJ",), status="ONAY", email=""):
    r = s.get(srv.base + "/c/acme", timeout=10)
    assert r.status_code == 200
    form = {"csrf": csrf_of(r.text), "phone": phone, "email": email, "status": status,
            "types": list(types)}
    return s.post(srv.base + "/c/acme/otp", data=form, timeout=10)


def verify(srv, s, otp_page, code):
    """Post the code form as the browser would: its hidden fields and the code."""
    fields = dict(re.findall(r'<input type="hidden" name="(phone|email|status)" value="([^"]*)"',
                             otp_page))
    types = re.findall(r'<input type="hidden" name="types" value="([A-Z]+)"', otp_page)
    form = {**fields, "types": types, "csrf": csrf_of(otp_page), "code": code}
    return s.post(srv.base + "/c/acme/verify", data=form, timeout=10)


def history(srv, acme, recipient, type):
    r = requests.get(srv.base + f"/v1/brands/{acme.brand}/consents/{recipient}",
                     params={"type": type}, headers=acme.headers, timeout=10)
    return r


def test_page_shows_brand_info_and_security_headers(page):
    srv, _ = page
    r = requests.get(srv.base + "/c/acme", timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "script-src" not in csp and "unsafe-inline" not in csp
    assert r.headers["X-Frame-Options"] == "DENY"
    html = r.text
    assert '<html lang="tr">' in html
    assert "Kişisel verileriniz 6698 sayılı KVKK uyarınca işlenir." in html
    assert "Aydınlatma metni" in html and "Doğrulama kodu gönder" in html
    for name in ("phone", "email", "types", "status", "csrf"):
        assert f'name="{name}"' in html
    assert "<script" not in html
    # every link and asset is this host's: no http(s):// but the page's own link
    assert set(re.findall(r'(?:src|href|action)="(https?://[^"]*)"', html)) == {srv.base + "/c/acme"}
    assert 'src="/c/acme/qr.svg"' in html
    # the QR code of the link, made by izin
    q = requests.get(srv.base + "/c/acme/qr.svg", timeout=10)
    assert q.status_code == 200 and q.headers["Content-Type"] == "image/svg+xml"
    assert q.text.startswith("<svg") and "<script" not in q.text
    assert requests.get(srv.base + "/c/nope", timeout=10).status_code == 404
    assert requests.get(srv.base + "/c/ACME", timeout=10).status_code == 404


def test_public_url_names_the_links(tmp_path):
    srv, _ = start(tmp_path, "--public-url", "https://iz.example.com.tr/")
    try:
        html = requests.get(srv.base + "/c/acme", timeout=10).text
        assert 'href="https://iz.example.com.tr/c/acme"' in html
        # over https the CSRF cookie is Secure with the __Host- prefix
        r = requests.get(srv.base + "/c/acme", timeout=10)
        assert "__Host-" in r.headers["Set-Cookie"] and "Secure" in r.headers["Set-Cookie"]
    finally:
        srv.stop()
    bad = izin("serve", "--listen", "127.0.0.1:0", "--public-url", "javascript:alert(1)",
               data=tmp_path / "d", check=False)
    assert bad.returncode == 2 and "--public-url" in bad.stderr


def test_give_and_withdraw_with_evidence(page):
    srv, acme = page
    s = requests.Session()
    phone = fresh_phone()
    email = "ali.veli@example.com"
    r = ask_code(srv, s, "0" + phone[3:], types=("MESAJ", "ARAMA", "EPOSTA"), email=email)
    assert r.status_code == 200, r.text
    assert "6 haneli bir kod gönderdik" in r.text and phone not in r.text.split("<form")[0]
    code, sms = code_for(srv, phone)
    name = requests.get(srv.base + f"/v1/brands/{acme.brand}", headers=acme.headers,
                        timeout=10).json()["name"]
    assert sms["text"].startswith(name + " izin doğrulama kodunuz: " + code)
    r = verify(srv, s, r.text, code)
    assert r.status_code == 200, r.text
    assert "Tercihiniz kaydedildi" in r.text
    for rcpt, type in ((phone, "MESAJ"), (phone, "ARAMA"), (email, "EPOSTA")):
        h = history(srv, acme, rcpt, type)
        assert h.status_code == 200, h.text
        j = h.json()
        assert j["status"] == "ONAY" and j["source"] == "HS_WEB" and j["origin"] == "URL"
        ev = j["history"][0]["evidence"]
        assert ev["ip"] == "127.0.0.1" and ev["userAgent"].startswith("python-requests")
        assert ev["otpMessageId"] == sms["id"]
        assert ev["infoTextSha256"] == hashlib.sha256(INFO.encode()).hexdigest()
        assert re.fullmatch(r"[0-9a-f]{64}", ev["pageSha256"])
        assert ev["page"] == srv.base + "/c/acme" and ev["method"] == "SMS_OTP"
    # a second code to the same number within the minute is refused
    r = ask_code(srv, requests.Session(), phone, types=("MESAJ",), status="RET")
    assert r.status_code == 429 and '<html lang="tr">' in r.text


def test_withdraw_and_code_once(page):
    srv, acme = page
    s = requests.Session()
    phone = fresh_phone()
    r = ask_code(srv, s, phone, types=("ARAMA",), status="RET")
    assert r.status_code == 200
    code, _ = code_for(srv, phone)
    page_html = r.text
    r = verify(srv, s, page_html, code)
    assert r.status_code == 200 and "izniniz geri alındı" in r.text
    j = history(srv, acme, phone, "ARAMA").json()
    assert j["status"] == "RET" and j["source"] == "HS_WEB"
    # the same code again: void once used
    r = verify(srv, s, page_html, code)
    assert r.status_code == 410 and "Yeni bir kod isteyin" in r.text


def test_csrf_refused(page):
    srv, acme = page
    s = requests.Session()
    phone = fresh_phone()
    s.get(srv.base + "/c/acme", timeout=10)
    form = {"csrf": "0" * 48, "phone": phone, "status": "ONAY", "types": "MESAJ"}
    r = s.post(srv.base + "/c/acme/otp", data=form, timeout=10)
    assert r.status_code == 403 and "<h1>" in r.text
    # no cookie at all
    r = requests.post(srv.base + "/c/acme/otp", data=form, timeout=10)
    assert r.status_code == 403
    # another site's form (a browser says so)
    g = s.get(srv.base + "/c/acme", timeout=10)
    form["csrf"] = csrf_of(g.text)
    r = s.post(srv.base + "/c/acme/otp", data=form, headers={"Sec-Fetch-Site": "cross-site"},
               timeout=10)
    assert r.status_code == 403
    assert not [m for m in codes(srv) if m["to"] == phone]


def test_five_wrong_codes(page):
    srv, acme = page
    s = requests.Session()
    phone = fresh_phone()
    r = ask_code(srv, s, phone)
    code, _ = code_for(srv, phone)
    wrong = "%06d" % ((int(code) + 1) % 1000000)
    left = [4, 3, 2, 1]
    for n in left:
        x = verify(srv, s, r.text, wrong)
        assert x.status_code == 422 and f"{n} deneme hakkınız kaldı" in x.text
    x = verify(srv, s, r.text, wrong)
    assert x.status_code == 422 and "5 kez yanlış" in x.text
    # the right code no longer works
    x = verify(srv, s, r.text, code)
    assert x.status_code == 410
    assert history(srv, acme, phone, "MESAJ").status_code == 404
    # a code bound to other choices: changing a hidden field makes it wrong
    phone2 = fresh_phone()
    r = ask_code(srv, s, phone2, types=("MESAJ",), status="RET")
    code2, _ = code_for(srv, phone2)
    x = verify(srv, s, r.text.replace('value="RET"', 'value="ONAY"'), code2)
    assert x.status_code == 422 and "Kod yanlış" in x.text
    x = verify(srv, s, r.text, "12a456")
    assert x.status_code == 422 and "6 rakam" in x.text


def test_expired_code(tmp_path):
    srv, acme = start(tmp_path, "--page-code-ttl", "1")
    try:
        s = requests.Session()
        phone = fresh_phone()
        r = ask_code(srv, s, phone)
        code, _ = code_for(srv, phone)
        time.sleep(2.2)
        x = verify(srv, s, r.text, code)
        assert x.status_code == 410 and "süresi dolmuş" in x.text
        assert history(srv, acme, phone, "MESAJ").status_code == 404
    finally:
        srv.stop()


def test_rate_limits(page):
    srv, _ = page
    s = requests.Session()
    phone = fresh_phone()
    assert ask_code(srv, s, phone).status_code == 200
    r = ask_code(srv, s, phone)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert '<html lang="tr">' in r.text
    # the code goes out on the SMS worker, after the answer: wait for the first,
    # then the refused ask must not have sent a second
    code_for(srv, phone)
    time.sleep(0.5)
    assert len([m for m in codes(srv) if m["to"] == phone]) == 1
    # 10 codes asked an hour from one address (the refused one above counts)
    for _ in range(8):
        assert ask_code(srv, s, fresh_phone()).status_code == 200
    r = ask_code(srv, s, fresh_phone())
    assert r.status_code == 429


def test_invalid_input_refused_with_page(page):
    srv, _ = page
    s = requests.Session()
    r = ask_code(srv, s, "12345")
    assert r.status_code == 422 and "0532 123 45 67 gibi" in r.text
    r = ask_code(srv, s, fresh_phone(), types=())
    assert r.status_code == 422 and "En az bir kanal" in r.text
    r = ask_code(srv, s, fresh_phone(), types=("EPOSTA",), email="yok")
    assert r.status_code == 422 and "e-posta adresi" in r.text
    r = ask_code(srv, s, fresh_phone(), types=("FAKS",))
    assert r.status_code == 422


def test_hostile_brand_name_and_info_escaped(tmp_path):
    evil = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    srv, acme = start(tmp_path, info=evil + "\n&amp;", name='Kötü <b>"Marka"</b> & Co')
    try:
        s = requests.Session()
        r = s.get(srv.base + "/c/acme", timeout=10)
        html = r.text
        assert "<script" not in html and "<img src=x" not in html and "<b>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;" in html
        assert "Kötü &lt;b&gt;&quot;Marka&quot;&lt;/b&gt; &amp; Co" in html
        assert "&amp;amp;" in html
        phone = fresh_phone()
        r = ask_code(srv, s, phone + '"><x', types=("MESAJ",))
        assert r.status_code == 422 and '"><x' not in r.text
        r = ask_code(srv, s, phone)
        assert r.status_code == 200 and "<b>" not in r.text
        _, sms = code_for(srv, phone)
        assert sms["text"].startswith('Kötü <b>"Marka"</b> & Co')  # an SMS is plain text
    finally:
        srv.stop()


def test_info_text_by_api(page):
    srv, acme = page
    r = requests.patch(srv.base + f"/v1/brands/{acme.brand}", json={"infoText": "Yeni metin"},
                       headers=acme.headers, timeout=10)
    assert r.status_code == 200 and r.json()["infoText"] == "Yeni metin"
    assert "Yeni metin" in requests.get(srv.base + "/c/acme", timeout=10).text
    r = requests.patch(srv.base + f"/v1/brands/{acme.brand}", json={"infoText": "x" * 20000},
                       headers=acme.headers, timeout=10)
    assert r.status_code == 422
