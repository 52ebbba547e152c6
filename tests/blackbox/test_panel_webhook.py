"""The panel's webhook page (issue 14 item 2): set with PUT's checks and
Turkish reasons, the secret never shown back; a batch the receiver refuses
becomes a dead letter on the page and "Yeniden gönder" delivers it once the
receiver answers 200; removal after a confirmation step; another account's
brand or dead letter unreachable; every POST needs the CSRF field."""
import re

import pytest
import requests

from conftest import Api, Server, izin, make_store, wait_for
from test_panel import csrf_of, login
from test_webhooks import Receiver, consent

PW = "dogru-parola-123"
SECRET = "panel-gizli-0123456789-XYZ"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    data = tmp_path_factory.mktemp("panel_webhook") / "d"
    acme, other = make_store(data)
    for acct, email in (("acme", "ayse@acme.example"), ("other", "oz@other.example")):
        izin("user", "add", "--account", acct, "--email", email, "--password-stdin",
             data=data, input=PW + "\n")
    rec = Receiver()
    srv = Server(["serve", "--listen", "127.0.0.1:0", "--data", str(data),
                  "--allow-private-webhooks", "--webhook-give-up", "2"], data).start()
    yield srv, acme, other, rec
    srv.stop()
    rec.close()


def page(s, srv, path="/panel/webhook"):
    r = s.get(srv.base + path, allow_redirects=False, timeout=10)
    assert r.status_code == 200, (path, r.status_code, r.text)
    return r.text


def post(s, srv, path, data):
    return s.post(srv.base + path, data=data, allow_redirects=False, timeout=10)


def hook_api(srv, t, tail=""):
    return requests.get(srv.base + f"/v1/brands/{t.brand}/webhook{tail}", headers=t.headers,
                        timeout=10)


def with_hook(srv, rec):
    """acme's user logged in, the webhook set to rec from the page: (session, csrf)."""
    s, _ = login(srv, "ayse@acme.example", PW)
    csrf = csrf_of(page(s, srv))
    assert post(s, srv, "/panel/webhook",
                {"csrf": csrf, "url": rec.url, "secret": SECRET}).status_code == 303
    return s, csrf


def test_set_refusals_and_secret_never_shown(env):
    srv, acme, _, rec = env
    s, _ = login(srv, "ayse@acme.example", PW)
    html = page(s, srv)
    assert "Webhook tanımla" in html and "webhook'u yok" in html
    assert 'style="' not in html and "<script" not in html
    csrf = csrf_of(html)
    # no CSRF field: refused, nothing set
    r = post(s, srv, "/panel/webhook", {"url": rec.url, "secret": SECRET})
    assert r.status_code == 403
    assert hook_api(srv, acme).status_code == 404
    # PUT's checks with its Turkish reasons; the secret never comes back
    bad = [({"url": "ftp://example.com/h", "secret": SECRET}, "https:// ile başlamalıdır"),
           ({"url": "http://u:p@127.0.0.1/h", "secret": SECRET}, "kullanıcı adı ya da parola"),
           ({"url": "", "secret": SECRET}, "Adres boş."),
           ({"url": "http://127.0.0.1:1/" + "a" * 2100, "secret": SECRET}, "2048 bayttan uzun"),
           ({"url": rec.url, "secret": "kisa"}, "16 ile 256 bayt"),
           ({"url": rec.url, "secret": "bosluk var 0123456789"}, "boşluksuz")]
    for form, msg in bad:
        r = post(s, srv, "/panel/webhook", {"csrf": csrf, **form})
        assert r.status_code == 422, (form, r.text)
        assert msg in r.text, (msg, r.text)
        assert form["secret"] not in r.text
        if form["url"] and len(form["url"]) < 2048:
            assert f'value="{form["url"]}"' in r.text.replace("&amp;", "&")
    assert hook_api(srv, acme).status_code == 404
    r = post(s, srv, "/panel/webhook", {"csrf": csrf, "url": rec.url, "secret": SECRET})
    assert r.status_code == 303 and r.headers["Location"] == "/panel/webhook"
    api = hook_api(srv, acme)
    assert api.status_code == 200 and api.json()["url"] == rec.url
    html = page(s, srv)
    assert rec.url in html and "Webhook'u değiştir" in html and SECRET not in html
    assert "Teslimatlar düzgün gidiyor" in html
    # a refused replacement keeps the old one and still hides the secret
    r = post(s, srv, "/panel/webhook", {"csrf": csrf, "url": rec.url, "secret": SECRET + " x"})
    assert r.status_code == 422 and SECRET not in r.text
    assert hook_api(srv, acme).json()["url"] == rec.url


def test_dead_letter_retried_from_the_page(env):
    srv, acme, other, rec = env
    s, csrf = with_hook(srv, rec)
    api = Api(srv, acme)
    rec.status = 500
    assert api.post_consent(consent()).status_code == 201
    dead = wait_for(lambda: hook_api(srv, acme, "/dead-letters").json()["list"], timeout=20)
    assert dead, "no dead letter"
    d = dead[0]
    html = page(s, srv)
    assert "Teslim edilemeyen gönderimler" in html
    row = re.search(r"<tr><td>%d<form[^>]*>.*?</tr>" % d["id"], html, re.S)
    assert row, html
    assert "Yeniden gönder" in row.group(0) and "HTTP 500" in row.group(0)
    # another account cannot see or retry it
    so, _ = login(srv, "oz@other.example", PW)
    ohtml = page(so, srv)
    assert "Teslim edilemeyen gönderim yok" in ohtml
    r = post(so, srv, "/panel/webhook/retry", {"csrf": csrf_of(ohtml), "id": d["id"]})
    assert r.status_code == 404
    r = so.get(srv.base + f"/panel/webhook?brand={acme.brand}", timeout=10)
    assert r.status_code == 404
    # without the CSRF field: refused, still dead
    r = post(s, srv, "/panel/webhook/retry", {"id": d["id"]})
    assert r.status_code == 403
    assert hook_api(srv, acme, "/dead-letters").json()["list"][0]["id"] == d["id"]
    # the receiver answers 200 again: "Yeniden gönder" delivers it
    rec.status = 200
    n0 = rec.delivered_ids().count(d["firstChangeId"])
    assert n0 == 0
    r = post(s, srv, "/panel/webhook/retry", {"csrf": csrf, "id": d["id"]})
    assert r.status_code == 303 and r.headers["Location"] == "/panel/webhook"
    assert wait_for(lambda: not hook_api(srv, acme, "/dead-letters").json()["list"], timeout=10)
    assert rec.delivered_ids().count(d["firstChangeId"]) == 1
    assert "Teslim edilemeyen gönderim yok" in page(s, srv)
    # an unknown id, a malformed id
    assert post(s, srv, "/panel/webhook/retry", {"csrf": csrf, "id": 999}).status_code == 404
    assert post(s, srv, "/panel/webhook/retry", {"csrf": csrf, "id": "x"}).status_code == 400


def test_backlog_shown_while_retrying(env):
    srv, acme, _, rec = env
    s, csrf = with_hook(srv, rec)
    api = Api(srv, acme)
    rec.status = 200
    rec.delay = 1.5  # the first batch holds the worker; the next changes wait
    try:
        c1, c2, c3 = consent(), consent(), consent()
        for c in (c1, c2, c3):
            assert api.post_consent(c).status_code == 201
        html = wait_for(lambda: (lambda h: "Henüz teslim edilmemiş" in h and h)(page(s, srv)),
                        timeout=5)
        assert html, "no backlog shown"
        assert c3["recipient"] in html
    finally:
        rec.delay = 0
    assert wait_for(lambda: "Teslim edilmeyi bekleyen değişiklik yok" in page(s, srv),
                    timeout=15)


def test_remove_needs_confirmation(env):
    srv, acme, other, rec = env
    s, csrf = with_hook(srv, rec)
    html = page(s, srv)
    m = re.search(r'action="/panel/webhook/delete"[^>]*>.*?name="id" value="(\d+)"', html, re.S)
    assert m, html
    wid = m.group(1)
    r = post(s, srv, "/panel/webhook/delete", {"csrf": csrf, "id": wid})
    assert r.status_code == 200 and "Evet, webhook&#39;u kaldır" in r.text
    assert hook_api(srv, acme).status_code == 200
    r = post(s, srv, "/panel/webhook/delete", {"id": wid, "confirm": "1"})
    assert r.status_code == 403
    # another account: its own brand has no such webhook
    so, _ = login(srv, "oz@other.example", PW)
    r = post(so, srv, "/panel/webhook/delete",
             {"csrf": csrf_of(page(so, srv)), "id": wid, "confirm": "1"})
    assert r.status_code == 404
    assert hook_api(srv, acme).status_code == 200
    r = post(s, srv, "/panel/webhook/delete", {"csrf": csrf, "id": wid, "confirm": "1"})
    assert r.status_code == 303
    assert hook_api(srv, acme).status_code == 404
    assert "webhook'u yok" in page(s, srv)
    r = post(s, srv, "/panel/webhook/delete", {"csrf": csrf, "id": wid, "confirm": "1"})
    assert r.status_code == 404


def test_needs_login(env):
    srv = env[0]
    r = requests.get(srv.base + "/panel/webhook", allow_redirects=False, timeout=10)
    assert r.status_code == 303 and r.headers["Location"] == "/panel/login"
