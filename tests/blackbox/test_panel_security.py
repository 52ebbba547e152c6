"""Security review of the customer's panel (issue 14: each test of that
part failed before the fix it names), and XSS and CSRF on every page
(issue 16: the panel's, the consent page's, the emulator's citizen pages)."""
import pytest

from conftest import Server, izin, make_store
from test_panel import csrf_of, login

PW = "dogru-parola-123"


@pytest.fixture(scope="module")
def panel(tmp_path_factory):
    data = tmp_path_factory.mktemp("panel_security") / "d"
    make_store(data)
    srv = Server(["serve", "--listen", "127.0.0.1:0", "--data", str(data)], data).start()
    yield srv, data
    srv.stop()


def add_user(data, email, pw=PW):
    izin("user", "add", "--account", "acme", "--email", email, "--password-stdin", data=data,
         input=pw + "\n")


def test_password_change_guesses_count_towards_the_lock(panel):
    """The password page checks the current password: without a count, a
    session left open let anyone guess it without end (60 posts a minute)
    and so take the account over."""
    srv, data = panel
    add_user(data, "tahmin@acme.example")
    s, r = login(srv, "tahmin@acme.example", PW)
    assert r.status_code == 303
    tok = csrf_of(s.get(srv.base + "/panel/password", timeout=10).text)
    for i in range(5):
        r = s.post(srv.base + "/panel/password",
                   data={"csrf": tok, "current": f"yanlis-{i}-parola", "new": "yeni-parola-456",
                         "new2": "yeni-parola-456"}, allow_redirects=False, timeout=30)
        assert r.status_code in (422, 429), r.status_code
    assert r.status_code == 429 and "dakika sonra tekrar deneyin" in r.text
    # locked: the right current password is refused too, and the password stays
    r = s.post(srv.base + "/panel/password",
               data={"csrf": tok, "current": PW, "new": "yeni-parola-456",
                     "new2": "yeni-parola-456"}, allow_redirects=False, timeout=30)
    assert r.status_code == 429
    # the same lock as the login page's
    _, r = login(srv, "tahmin@acme.example", PW)
    assert r.status_code == 429


# ---- XSS and CSRF on every page (issue 16) -------------------------------------
#
# Every page of the panel (its route table read from src/web/panel.c), the
# consent page and the emulator's citizen pages is fetched with a script
# payload in everything it shows back (a brand's name, a campaign's name, an
# SMS text, a rejected bulk row, a recipient, a query, every form field); the
# payload must come back escaped. Every POST route must refuse a form without
# its CSRF token and one with another session's token.

import html as htmlmod  # noqa: E402
import re  # noqa: E402
import urllib.parse  # noqa: E402

import requests  # noqa: E402
from requests.adapters import HTTPAdapter  # noqa: E402

from simutil import start_sim  # noqa: E402
from test_security import PANEL_ROUTES, fill, route_table  # noqa: E402

XSS = "\"'><script>alert(1)</script><img src=x onerror=alert(2)>"
ESCAPED = htmlmod.escape("<script>alert(1)</script>", quote=True)


class FromAddress(HTTPAdapter):
    """Connections from another loopback address: the panel limits form
    posts and logins per address, and this walk posts more than a person."""

    def __init__(self, addr):
        self.addr = addr
        super().__init__()

    def init_poolmanager(self, *args, **kw):
        kw["source_address"] = (self.addr, 0)
        super().init_poolmanager(*args, **kw)


_addr = [20]


def client():
    """A session of its own loopback address."""
    _addr[0] += 1
    s = requests.Session()
    s.mount("http://", FromAddress(f"127.0.0.{_addr[0]}"))
    return s


def assert_escaped(r, where):
    """No markup of the payload's in an answer a browser could render (a CSV
    or plain-text download is data, and nosniff keeps it so)."""
    ctype = r.headers.get("Content-Type", "")
    if ctype.startswith(("text/csv", "text/plain")):
        assert r.headers["X-Content-Type-Options"] == "nosniff", where
        return
    low = r.text.lower()
    assert "<script" not in low and "<img src=x" not in low, where
    if ctype.startswith("text/html"):
        assert "script-src" not in r.headers["Content-Security-Policy"], where


@pytest.fixture(scope="module")
def xss(tmp_path_factory):
    data = tmp_path_factory.mktemp("xss") / "d"
    acme, _ = make_store(data)
    izin("brand", "add", "--account", "acme", "--code", "700005", "--name", "Marka " + XSS,
         "--slug", "xss", data=data)
    add_user(data, "xss@acme.example")
    srv = Server(["serve", "--listen", "127.0.0.1:0", "--data", str(data)], data).start()
    b, h = srv.base + "/v1/brands/700005", acme.headers
    r = requests.post(b + "/consents/bulk", headers={**h, "Content-Type": "text/csv"},
                      data=f"recipient,type,status,source,consentDate\n{XSS},MESAJ,ONAY,HS_WEB,x\n"
                      .encode(), timeout=10)
    assert r.status_code == 202, r.text
    ids = {"jobId": r.json()["jobId"]}
    r = requests.post(b + "/sms/send", headers=h, timeout=10, json={
        "commercial": False, "from": "ACME", "text": "Metin " + XSS, "to": ["05321234567", XSS]})
    assert r.status_code == 202, r.text
    ids["sendId"] = r.json()["id"]
    r = requests.post(b + "/voice/campaigns", headers=h, timeout=10, json={
        "name": "Kampanya " + XSS, "commercial": False, "recipients": ["05321234567", XSS]})
    assert r.status_code == 201, r.text
    ids["campaignId"] = r.json()["campaignId"]
    ids.update(checkId="0" * 32, file="allowed.csv")
    yield srv, data, ids
    srv.stop()


def test_every_panel_page_escapes_what_it_shows(xss):
    srv, _, ids = xss
    s, r = login(srv, "xss@acme.example", PW, client())
    assert r.status_code == 303
    q = urllib.parse.quote(XSS)
    shown = 0
    for method, pattern, _, name in PANEL_ROUTES:
        if method != "GET" or name in ("panel_root", "panel_login"):
            continue
        path = fill(pattern, ids)
        for query in (f"?brand=700005&q={q}&recipient={q}&type={q}&page={q}",
                      f"?brand={q}"):
            r = s.get(srv.base + path + query, timeout=10, allow_redirects=False)
            assert r.status_code < 500, (name, r.status_code)
            assert_escaped(r, name)
            shown += ESCAPED in r.text
    assert shown >= 10, "the payload was shown (escaped) on too few pages to prove anything"


def forms_of(html):
    """(action, {field: value}) of every POST form of a page."""
    out = []
    for m in re.finditer(r'<form[^>]*method="post"[^>]*action="([^"]*)"[^>]*>(.*?)</form>|'
                         r'<form[^>]*action="([^"]*)"[^>]*method="post"[^>]*>(.*?)</form>',
                         html, re.S | re.I):
        action = htmlmod.unescape(m.group(1) or m.group(3))
        body = m.group(2) or m.group(4)
        fields = {}
        for f in re.finditer(r'<(?:input|textarea|select)[^>]*name="([^"]+)"[^>]*>', body):
            tag = f.group(0)
            v = re.search(r'value="([^"]*)"', tag)
            fields[f.group(1)] = htmlmod.unescape(v.group(1)) if v else ""
        out.append((action, fields))
    return out


def test_every_panel_form_echoes_the_payload_escaped(xss):
    """Each form of each page posted with the payload in every field but its
    CSRF token (logout, deletions and the password change are left out: they
    would end the walk or lock it out)."""
    srv, _, ids = xss
    s, _ = login(srv, "xss@acme.example", PW, client())
    posted = set()
    for method, pattern, _, name in PANEL_ROUTES:
        if method != "GET" or "{" in pattern or name in ("panel_root", "panel_login"):
            continue
        page = s.get(srv.base + pattern + "?brand=700005", timeout=10)
        for action, fields in forms_of(page.text):
            path = action.split("?")[0]
            if path in ("/panel/logout", "/panel/users/delete", "/panel/keys/revoke",
                        "/panel/password") or (path, tuple(fields)) in posted:
                continue
            posted.add((path, tuple(fields)))
            data = {k: (v if k in ("csrf", "brand") else XSS) for k, v in fields.items()}
            r = s.post(srv.base + action, data=data, timeout=30, allow_redirects=False)
            assert r.status_code < 500, (action, r.status_code, r.text[:300])
            assert_escaped(r, action)
    assert len(posted) >= 8, posted


PANEL_POSTS = [rt for rt in PANEL_ROUTES if rt[0] == "POST"]


@pytest.mark.parametrize("route", PANEL_POSTS, ids=lambda rt: rt[3])
def test_every_panel_post_wants_its_csrf_token(xss, route):
    srv, _, ids = xss
    _, pattern, flags, name = route
    s, _ = login(srv, "xss@acme.example", PW, client())
    other, _ = login(srv, "xss@acme.example", PW, client())
    theirs = csrf_of(other.get(srv.base + "/panel/keys", timeout=10).text)
    mine = csrf_of(s.get(srv.base + "/panel/keys", timeout=10).text)
    assert theirs != mine
    url = srv.base + fill(pattern, ids) + "?brand=700005"
    for token in (None, "", theirs, mine[:-1] + ("0" if mine[-1] != "0" else "1")):
        fields = {"email": "xss@acme.example", "password": PW, "name": "x"}
        if token is not None:
            fields["csrf"] = token
        if "IZ_ROUTE_STREAM" in flags:
            r = s.post(url, files={k: (None, v) for k, v in fields.items()}, timeout=10,
                       allow_redirects=False)
        else:
            r = s.post(url, data=fields, timeout=10, allow_redirects=False)
        assert r.status_code == 403, (name, token, r.status_code)
        assert "text/html" in r.headers["Content-Type"]
    # the session still works: nothing was done with it
    assert s.get(srv.base + "/panel", timeout=10, allow_redirects=False).status_code == 200


def test_consent_page_escapes_and_wants_csrf(xss):
    srv, _, _ = xss
    s = requests.Session()
    r = s.get(srv.base + "/c/xss", timeout=10)
    assert r.status_code == 200
    assert_escaped(r, "/c/xss")
    assert ESCAPED in r.text
    tok = csrf_of(r.text)
    for path in ("/c/xss/otp", "/c/xss/verify"):
        fields = {"phone": XSS, "email": XSS, "types": XSS, "status": XSS, "code": XSS}
        r = s.post(srv.base + path, data={**fields, "csrf": tok}, timeout=10)
        assert 400 <= r.status_code < 500, (path, r.status_code)
        assert_escaped(r, path)
        for bad in (None, "0" * 48):
            d = dict(fields)
            if bad:
                d["csrf"] = bad
            r = s.post(srv.base + path, data=d, timeout=10)
            assert r.status_code == 403, (path, bad, r.status_code)
        # another visitor's token with this visitor's cookie
        t2 = csrf_of(requests.get(srv.base + "/c/xss", timeout=10).text)
        r = s.post(srv.base + path, data={**fields, "csrf": t2}, timeout=10)
        assert r.status_code == 403
    q = urllib.parse.quote(XSS)
    for path in (f"/c/{q}", f"/c/xss?phone={q}&types={q}", f"/c/{q}/qr.svg"):
        r = requests.get(srv.base + path, timeout=10)
        assert r.status_code < 500
        assert_escaped(r, path)


SIM_PAGES = [rt for rt in route_table("src/sim/sim.c") if rt[3] == "web"]


def test_emulator_citizen_pages_escape_and_want_csrf(tmp_path):
    sim = start_sim(tmp_path / "sim")
    try:
        r = requests.post(sim.base + "/_sim/providers", timeout=10, json={
            "iysCode": 765432, "name": "Sağlayıcı " + XSS, "username": "xssuser",
            "password": "xss-user-password-1",
            "brands": [{"brandCode": 765432, "name": "Marka " + XSS}]})
        assert r.status_code == 201, r.text
        rcp = "+905329876543"
        r = requests.post(sim.base + "/_sim/citizen/consents", timeout=10, json={
            "iysCode": 765432, "brandCode": 765432, "recipient": rcp, "type": "MESAJ",
            "status": "ONAY", "source": "IYS_MOBIL"})
        assert r.status_code == 201, r.text
        r = requests.post(sim.base + "/_sim/complaints", timeout=10, json={
            "recipient": rcp, "iysCode": 765432, "brandCode": 765432, "type": "MESAJ",
            "messageTime": "2024-01-02 10:00:00", "text": "Şikayet " + XSS})
        assert r.status_code == 201, r.text
        q = urllib.parse.quote(XSS)
        seen = 0
        for method, pattern, _, _ in SIM_PAGES:
            path = fill(pattern, {"code": q, "hash": q})
            s = requests.Session()
            for query in (f"?alici={urllib.parse.quote(rcp)}", f"?alici={q}&iysCode={q}"):
                r = s.get(sim.base + path + query, timeout=10)
                assert r.status_code < 500, (path, r.status_code)
                assert_escaped(r, path)
                seen += ESCAPED in r.text
            if method == "POST":
                page = s.get(sim.base + path, timeout=10).text
                tok = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
                fields = {"alici": XSS, "recipient": XSS, "text": XSS, "iysCode": "765432",
                          "brandCode": "765432", "type": "MESAJ", "status": "RET", "code": XSS}
                if tok:
                    r = s.post(sim.base + path, data={**fields, "csrf": tok.group(1)},
                               timeout=10)
                    assert r.status_code < 500, (path, r.status_code)
                    assert_escaped(r, path)
                for bad in (None, "0" * len(tok.group(1)) if tok else "0" * 48):
                    d = dict(fields)
                    if bad:
                        d["csrf"] = bad
                    r = s.post(sim.base + path, data=d, timeout=10)
                    assert r.status_code in (403, 404), (path, bad, r.status_code)
        assert seen >= 2, "the emulator's pages showed none of the payload"
    finally:
        sim.stop()
