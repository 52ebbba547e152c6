"""The customer's panel (issue 14, API.md "Panel and operations"): login by
e-mail and password with users made by `izin user add`, sessions in cookies,
CSRF on every POST, the lockout, tenant isolation through ?brand=, and the
way from / to /panel."""
import json
import re

import pytest
import requests

from conftest import Server, izin, make_store, store_dump


def csrf_of(html):
    m = re.search(r'name="csrf" value="([0-9a-f]{48})"', html)
    assert m, html
    return m.group(1)


@pytest.fixture(scope="module")
def panel(tmp_path_factory):
    data = tmp_path_factory.mktemp("panel") / "d"
    make_store(data)
    # a second brand for acme, so that the brand selector appears
    izin("brand", "add", "--account", "acme", "--code", "700003", "--name", "ACME Outlet",
         data=data)
    izin("user", "add", "--account", "acme", "--email", "ayse@acme.example",
         "--password-stdin", data=data, input="dogru-parola-123\n")
    srv = Server(["serve", "--listen", "127.0.0.1:0", "--data", str(data)], data).start()
    yield srv, data
    srv.stop()


def login(srv, email, password, session=None):
    s = session or requests.Session()
    r = s.get(srv.base + "/panel/login", timeout=10)
    assert r.status_code == 200
    r = s.post(srv.base + "/panel/login",
               data={"email": email, "password": password, "csrf": csrf_of(r.text)},
               allow_redirects=False, timeout=30)
    return s, r


def test_root_and_panel_redirect_to_login(panel):
    srv, _ = panel
    r = requests.get(srv.base + "/", allow_redirects=False, timeout=10)
    assert r.status_code == 303 and r.headers["Location"] == "/panel"
    r = requests.get(srv.base + "/panel", allow_redirects=False, timeout=10)
    assert r.status_code == 303 and r.headers["Location"] == "/panel/login"
    r = requests.get(srv.base + "/panel/login", timeout=10)
    assert r.status_code == 200 and "Panele giriş" in r.text
    assert "script-src" not in r.headers["Content-Security-Policy"]
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]


def test_login_ok_cookie_flags_and_logout(panel):
    srv, _ = panel
    s, r = login(srv, "AYSE@acme.example", "dogru-parola-123")  # e-mail in any case
    assert r.status_code == 303 and r.headers["Location"] == "/panel"
    # requests joins the headers; read the raw ones
    raw = r.raw.headers.getlist("Set-Cookie")
    sess = [c for c in raw if c.startswith("izin_session=")]
    assert len(sess) == 1, raw
    c = sess[0]
    token = c.split(";")[0].split("=", 1)[1]
    assert re.fullmatch(r"[0-9a-f]{64}", token)  # 256 random bits
    assert "HttpOnly" in c and "SameSite=Strict" in c and "Path=/" in c
    assert "Secure" not in c  # plain http here; see test_https_cookie
    r = s.get(srv.base + "/panel", timeout=10)
    assert r.status_code == 200
    assert "Gösterge paneli" in r.text and "acme" in r.text and "ayse@acme.example" in r.text
    # every page of the navigation is named
    for label in ["Alıcı ara", "Toplu yükleme", "İYS tarafı değişiklikler", "Gönderim kontrolü",
                  "SMS kampanyası", "Sesli kampanyalar", "SMS numaraları ve anahtar kelimeler",
                  "İzin sayfası", "Webhook", "API anahtarları", "Kullanıcılar",
                  "Kullanım ve plan", "Çıkış"]:
        assert label in r.text, label
    # a brand selector: acme has two brands
    assert 'name="brand"' in r.text and "ACME Outlet" in r.text
    # logout needs the CSRF token too
    r2 = s.post(srv.base + "/panel/logout", data={}, allow_redirects=False, timeout=10)
    assert r2.status_code == 403
    r2 = s.post(srv.base + "/panel/logout", data={"csrf": csrf_of(r.text)},
                allow_redirects=False, timeout=10)
    assert r2.status_code == 303 and r2.headers["Location"] == "/panel/login"
    # the old token opens nothing any more, even when sent again by hand
    r3 = requests.get(srv.base + "/panel", cookies={"izin_session": token},
                      allow_redirects=False, timeout=10)
    assert r3.status_code == 303 and r3.headers["Location"] == "/panel/login"


def test_session_rotated_at_login(panel):
    srv, _ = panel
    s, r = login(srv, "ayse@acme.example", "dogru-parola-123")
    first = s.cookies.get("izin_session")
    s, r = login(srv, "ayse@acme.example", "dogru-parola-123", session=s)
    second = s.cookies.get("izin_session")
    assert first and second and first != second
    r = requests.get(srv.base + "/panel", cookies={"izin_session": first},
                     allow_redirects=False, timeout=10)
    assert r.status_code == 303  # the session the browser had before is over


def test_wrong_password_and_unknown_email_alike(panel):
    srv, _ = panel
    _, r1 = login(srv, "ayse@acme.example", "yanlis-parola-999")
    _, r2 = login(srv, "kimse@acme.example", "yanlis-parola-999")
    assert r1.status_code == r2.status_code == 401
    msg = "Giriş yapılamadı: e-posta adresi ya da parola hatalı."
    assert msg in r1.text and msg in r2.text
    assert "izin_session" not in r1.headers.get("Set-Cookie", "")


def test_login_post_without_csrf_is_refused(panel):
    srv, _ = panel
    r = requests.post(srv.base + "/panel/login",
                      data={"email": "ayse@acme.example", "password": "dogru-parola-123"},
                      allow_redirects=False, timeout=10)
    assert r.status_code == 403
    assert "izin_session" not in r.headers.get("Set-Cookie", "")
    # nor from another site, whatever it carries
    s = requests.Session()
    tok = csrf_of(s.get(srv.base + "/panel/login", timeout=10).text)
    r = s.post(srv.base + "/panel/login", headers={"Sec-Fetch-Site": "cross-site"},
               data={"email": "ayse@acme.example", "password": "dogru-parola-123", "csrf": tok},
               allow_redirects=False, timeout=10)
    assert r.status_code == 403


def test_lockout(panel):
    srv, data = panel
    izin("user", "add", "--account", "acme", "--email", "kilit@acme.example",
         "--password-stdin", data=data, input="kilit-parola-123\n")
    for i in range(5):
        _, r = login(srv, "kilit@acme.example", f"yanlis-{i}-parola")
        assert r.status_code in (401, 429), r.status_code
    assert r.status_code == 429  # the fifth failure locks the e-mail
    assert "dakika sonra tekrar deneyin" in r.text
    assert int(r.headers["Retry-After"]) > 800
    # locked: the right password is refused too, with the same message
    _, r = login(srv, "kilit@acme.example", "kilit-parola-123")
    assert r.status_code == 429
    assert "Giriş yapılamadı: e-posta adresi ya da parola hatalı." in r.text
    # an unknown e-mail locks alike: the lock tells nothing about who exists
    for i in range(5):
        _, r = login(srv, "yok@acme.example", f"yanlis-{i}-parola")
    assert r.status_code == 429
    # another e-mail is not locked
    _, r = login(srv, "ayse@acme.example", "dogru-parola-123")
    assert r.status_code == 303
    log = srv.stderr()
    assert "login failed" in log and "kilit@acme.example" in log
    assert "yanlis-0-parola" not in log and "kilit-parola-123" not in log


def test_other_accounts_brand_not_reachable(panel):
    srv, _ = panel
    s, _ = login(srv, "ayse@acme.example", "dogru-parola-123")
    r = s.get(srv.base + "/panel?brand=700003", timeout=10)
    assert r.status_code == 200 and "ACME Outlet" in r.text
    # the brand is kept on the navigation's links
    assert 'href="/panel?brand=700003"' in r.text
    r = s.get(srv.base + "/panel?brand=700002", timeout=10)  # other's brand
    assert r.status_code == 404 and "Öteki" not in r.text
    r = s.get(srv.base + "/panel?brand=x", timeout=10)
    assert r.status_code == 404


def test_generated_password_must_be_changed(panel):
    srv, data = panel
    out = izin("user", "add", "--account", "acme", "--email", "yeni@acme.example", "--json",
               data=data).stdout
    j = json.loads(out)
    assert j["account"] == "acme" and j["email"] == "yeni@acme.example"
    pw = j["password"]
    assert len(pw) >= 16
    s, r = login(srv, "yeni@acme.example", pw)
    assert r.status_code == 303 and r.headers["Location"] == "/panel/password"
    # nothing else opens before the change
    r = s.get(srv.base + "/panel", allow_redirects=False, timeout=10)
    assert r.status_code == 303 and r.headers["Location"] == "/panel/password"
    r = s.get(srv.base + "/panel/password", timeout=10)
    assert r.status_code == 200 and "tek kullanımlık" in r.text
    tok = csrf_of(r.text)
    r = s.post(srv.base + "/panel/password", data={"csrf": tok, "current": pw, "new": "kisa",
                                                    "new2": "kisa"}, timeout=30)
    assert r.status_code == 422 and "en az 12 karakter" in r.text
    r = s.post(srv.base + "/panel/password",
               data={"csrf": tok, "current": pw, "new": "benim-parolam-2026",
                     "new2": "benim-parolam-2026"}, allow_redirects=False, timeout=30)
    assert r.status_code == 303
    r = s.get(srv.base + "/panel", allow_redirects=False, timeout=10)
    assert r.status_code == 200
    # the one-time password no longer works, the new one does
    _, r = login(srv, "yeni@acme.example", pw)
    assert r.status_code == 401
    _, r = login(srv, "yeni@acme.example", "benim-parolam-2026")
    assert r.status_code == 303 and r.headers["Location"] == "/panel"


def test_user_cli(panel):
    srv, data = panel
    p = izin("user", "add", "--account", "acme", "--email", "silinecek@acme.example", data=data)
    pw = p.stdout.strip()
    assert re.fullmatch(r"[A-Za-z0-9]{20}", pw)
    p = izin("user", "add", "--account", "acme", "--email", "SILINECEK@acme.example", data=data,
             check=False)
    assert p.returncode != 0 and "exists" in p.stderr
    p = izin("user", "add", "--account", "acme", "--email", "k@acme.example",
             "--password-stdin", data=data, input="kisa\n", check=False)
    assert p.returncode != 0 and "12" in p.stderr
    p = izin("user", "add", "--account", "nope", "--email", "k@acme.example", data=data,
             check=False)
    assert p.returncode != 0
    lst = json.loads(izin("user", "list", "--account", "acme", "--json", data=data).stdout)
    emails = [u["email"] for u in lst["users"]]
    assert "silinecek@acme.example" in emails and "ayse@acme.example" in emails
    s, r = login(srv, "silinecek@acme.example", pw)
    assert r.status_code == 303
    izin("user", "delete", "--email", "silinecek@acme.example", data=data)
    r = s.get(srv.base + "/panel/password", allow_redirects=False, timeout=10)
    assert r.status_code == 303 and r.headers["Location"] == "/panel/login"
    # the store holds no password, only argon2id hashes
    raw = store_dump(data)
    assert b"ayse@acme.example" in raw and pw.encode() not in raw


def test_https_cookie(tmp_path):
    data = tmp_path / "d"
    make_store(data)
    izin("user", "add", "--account", "acme", "--email", "a@acme.example", "--password-stdin",
         data=data, input="dogru-parola-123\n")
    srv = Server(["serve", "--listen", "127.0.0.1:0", "--data", str(data), "--public-url",
                  "https://izin.example.com"], data).start()
    try:
        s = requests.Session()
        r = s.get(srv.base + "/panel/login", timeout=10)
        csrf_cookie = [c for c in r.raw.headers.getlist("Set-Cookie")]
        assert all(c.startswith("__Host-") and "Secure" in c for c in csrf_cookie)
        tok = csrf_of(r.text)
        name = csrf_cookie[0].split("=", 1)[0]
        r = requests.post(srv.base + "/panel/login", cookies={name: tok},
                          data={"email": "a@acme.example", "password": "dogru-parola-123",
                                "csrf": tok}, allow_redirects=False, timeout=30)
        assert r.status_code == 303, r.text
        sess = [c for c in r.raw.headers.getlist("Set-Cookie") if "izin_session" in c]
        assert len(sess) == 1 and sess[0].startswith("__Host-izin_session=")
        assert "Secure" in sess[0] and "HttpOnly" in sess[0]
    finally:
        srv.stop()


def test_demo_prints_panel_login(tmp_path):
    data = tmp_path / "d"
    srv = Server(["demo", "--listen", "127.0.0.1:0", "--data", str(data)], tmp_path).start()
    try:
        banner = srv.read_banner("check")
        m = re.search(r"panel\s+(http://127\.0\.0\.1:\d+/panel)\s+\(e-mail (\S+), password "
                      r"([A-Za-z0-9]{20})\)", banner)
        assert m, banner
        assert m.group(1) == srv.base + "/panel" and m.group(2) == "demo@izin.local"
        s, r = login(srv, m.group(2), m.group(3))
        assert r.status_code == 303 and r.headers["Location"] == "/panel"
        r = s.get(srv.base + "/panel", timeout=10)
        assert r.status_code == 200 and "Demo Mağazası" in r.text
    finally:
        srv.stop()


def test_dashboard_search_and_iys_pages(panel):
    srv, data = panel
    key = izin("key", "add", "--account", "acme", data=data).stdout.strip()
    h = {"Authorization": "Bearer " + key}
    for rcp, st in [("0532 111 22 33", "ONAY"), ("05321112244", "ONAY")]:
        r = requests.post(srv.base + "/v1/brands/700001/consents", headers=h, timeout=10,
                          json={"recipient": rcp, "type": "MESAJ", "status": st,
                                "source": "HS_WEB", "consentDate": "2026-01-05 10:00:00"})
        assert r.status_code == 201, r.text
    r = requests.post(srv.base + "/v1/brands/700001/consents", headers=h, timeout=10,
                      json={"recipient": "+90 532 111 22 33", "type": "MESAJ", "status": "RET",
                            "source": "HS_WEB", "consentDate": "2026-01-06 10:00:00"})
    assert r.status_code == 201, r.text
    s, _ = login(srv, "ayse@acme.example", "dogru-parola-123")
    r = s.get(srv.base + "/panel", timeout=10)
    assert r.status_code == 200
    html = r.text
    assert html.count("<svg") >= 4 and 'role="img"' in html and "<title id=" in html
    # two records now: one ONAY, one RET (the upsert moved one between groups)
    assert re.search(r"MESAJ onay</th><td class=\"n\">1<", html), html
    assert re.search(r"MESAJ ret</th><td class=\"n\">1<", html)
    assert re.search(r"<th scope=\"row\">API</th><td class=\"n\">3<", html)
    assert "Karantinayı gör" in html and "RET bildirim süreleri" in html
    # search: any Turkish way of writing the number, the history newest first
    r = s.get(srv.base + "/panel/recipients", params={"q": "(0532) 111-2233"}, timeout=10)
    assert r.status_code == 200
    assert "+905321112233" in r.text and "şu an <strong>RET</strong>" in r.text
    assert r.text.index("2026-01-06") < r.text.index("2026-01-05")
    assert "&quot;ip&quot;" in r.text  # the evidence, escaped
    r = s.get(srv.base + "/panel/recipients", params={"q": "<script>x</script>"}, timeout=10)
    assert r.status_code == 422 and "<script>x" not in r.text
    r = s.get(srv.base + "/panel/recipients", params={"q": "05329999999"}, timeout=10)
    assert "izin kaydı yok" in r.text
    # the other brand of the account has none of them
    r = s.get(srv.base + "/panel/recipients", params={"q": "05321112233", "brand": "700003"},
              timeout=10)
    assert "izin kaydı yok" in r.text
    r = s.get(srv.base + "/panel/iys", timeout=10)
    assert r.status_code == 200 and "Karantina" in r.text
