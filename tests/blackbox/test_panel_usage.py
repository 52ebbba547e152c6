"""The panel's usage page (issue 14 item 2, F9): the account's plan, limit,
used and left, the share as a <meter>, the yearly price before and with 20%
VAT in Turkish money, the plans file's tiers with the account's own marked,
the warnings at 80% and at the limit (where new records are refused with
IZ4031); an account without a plan is unlimited and has no price."""
import html as htmllib
import re

import pytest
import requests

from conftest import Server, fresh_phone, izin, make_store, tr_now
from test_panel import login

PW = "dogru-parola-123"
PLANS = """# a tiny plans file for the panel's test
mini | Mini    | 5     | 1500
big  | Büyük   | 1.000 | 2400.5
zero | Deneme  | 10    | 0
call | Kurumsal <Özel> | - | -
"""


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("panel_usage")
    data = root / "d"
    plans = root / "plans.conf"
    plans.write_text(PLANS, encoding="utf-8")
    acme, other = make_store(data)
    izin("account", "set", "--name", "acme", "--plan", "mini", "--plans", str(plans), data=data)
    for acct, email in (("acme", "ayse@acme.example"), ("other", "oz@other.example")):
        izin("user", "add", "--account", acct, "--email", email, "--password-stdin",
             data=data, input=PW + "\n")
    srv = Server(["serve", "--listen", "127.0.0.1:0", "--data", str(data), "--plans",
                  str(plans)], data).start()
    yield srv, acme, other
    srv.stop()


def usage(s, srv):
    r = s.get(srv.base + "/panel/usage", allow_redirects=False, timeout=10)
    assert r.status_code == 200, r.text
    assert 'style="' not in r.text and "<script" not in r.text
    return r.text


def consent(t, status="ONAY"):
    return requests.post(f"{t.base}/v1/brands/{t.t.brand}/consents", headers=t.t.headers,
                         json={"recipient": fresh_phone(), "type": "MESAJ", "status": status,
                               "source": "HS_WEB", "consentDate": tr_now(-3600)}, timeout=10)


class T:
    def __init__(self, srv, t):
        self.base, self.t = srv.base, t


def dd(html, term):
    m = re.search(r"<dt>%s</dt><dd>(.*?)</dd>" % re.escape(term), html, re.S)
    assert m, (term, html)
    return m.group(1)


def test_plan_usage_price_tiers_and_warnings(env):
    srv, acme, _ = env
    s, _ = login(srv, "ayse@acme.example", PW)
    html = usage(s, srv)
    assert "Kullanım ve plan" in html
    assert "<strong>Mini</strong>" in dd(html, "Plan") and "(mini)" in dd(html, "Plan")
    assert dd(html, "Sınır") == "5 kayıt" and dd(html, "Kullanılan") == "0 kayıt"
    assert dd(html, "Kalan") == "5 kayıt"
    # 1500 TL + 20% VAT = 1.800,00 TL, and the price before VAT
    price = dd(html, "Yıllık ücret")
    assert "1.800,00 TL" in price and "KDV dahil" in price and "1.500,00 TL" in price
    assert re.search(r'<meter id="share" min="0" max="5" [^>]*value="0"', html)
    assert "Planınızın" not in html  # no warning yet
    # the tiers: name, limit, price with VAT; the own one marked; no price: "Bizi arayın"
    rows = re.findall(r"<tr( class=\"mine\"[^>]*)?><td>(.*?)</td><td class=\"n\">(.*?)</td>"
                      r"<td class=\"n\">(.*?)</td></tr>", html)
    assert [(bool(m), n.split(" <strong>")[0], lim, p) for m, n, lim, p in rows] == [
        (True, "Mini", "5", "1.800,00 TL"),
        (False, "Büyük", "1.000", "2.880,60 TL"),
        (False, "Deneme", "10", "Ücretsiz"),
        (False, "Kurumsal &lt;Özel&gt;", "Sınırsız", "Bizi arayın"),
    ]
    assert "(planınız)" in rows[0][1]
    t = T(srv, acme)
    for _ in range(4):
        assert consent(t).status_code == 201
    html = usage(s, srv)
    assert dd(html, "Kullanılan") == "4 kayıt" and dd(html, "Kalan") == "1 kayıt"
    assert "<strong>%80</strong>" in html
    assert "Planınızın %80'ini kullandınız" in htmllib.unescape(html)
    assert "sınırına ulaştınız" not in html
    assert consent(t).status_code == 201
    r = consent(t)
    assert r.status_code == 403 and r.json()["errors"][0]["code"] == "IZ4031"
    assert consent(t, "RET").status_code == 201  # a withdrawal is always recorded
    html = usage(s, srv)
    assert "Planınızın sınırına ulaştınız" in html and "IZ4031" in html
    assert "Geri çekmeler (RET)" in html and dd(html, "Kalan") == "0 kayıt"
    assert "<strong>%120</strong>" in html  # 5 ONAY records and the RET's: 6 of 5


def test_account_without_plan_is_unlimited(env):
    srv, _, other = env
    s, _ = login(srv, "oz@other.example", PW)
    html = usage(s, srv)
    assert "Plan yok" in dd(html, "Plan") and dd(html, "Sınır") == "Sınırsız"
    assert dd(html, "Yıllık ücret") == "Yok" and "<meter" not in html
    assert 'class="mine"' not in html  # no tier is its own


def test_refusals(env):
    srv, acme, _ = env
    r = requests.get(srv.base + "/panel/usage", allow_redirects=False, timeout=10)
    assert r.status_code == 303 and r.headers["Location"] == "/panel/login"
    s, _ = login(srv, "oz@other.example", PW)
    r = s.get(srv.base + f"/panel/usage?brand={acme.brand}", timeout=10)
    assert r.status_code == 404
