"""The panel's operations pages (issue 14 item 2; API.md "Panel and
operations"): bulk upload with its live job page and errors.csv, the send
check, the SMS campaign (preview, send, the send's page), voice campaigns.
Each page does what its API does through the same code; every POST needs the
CSRF field; another account's job, check or campaign is not reachable."""
import re
import time

import pytest
import requests

from conftest import Server, izin, make_store, tr_now

PW = "dogru-parola-123"


def csrf_of(html):
    m = re.search(r'name="csrf" value="([0-9a-f]{48})"', html)
    assert m, html
    return m.group(1)


@pytest.fixture(scope="module")
def panel(tmp_path_factory):
    data = tmp_path_factory.mktemp("panelops") / "d"
    acme, other = make_store(data)
    izin("brand", "set", "--account", "acme", "--code", "700001", "--short-number", "4607",
         "--trade-name", "ACME Ticaret A.Ş.", "--mersis", "0123456789012345",
         "--contact", "0212 555 01 23", data=data)
    for acc, mail in (("acme", "ayse@acme.example"), ("other", "veli@oteki.example")):
        izin("user", "add", "--account", acc, "--email", mail, "--password-stdin", data=data,
             input=PW + "\n")
    srv = Server(["serve", "--listen", "127.0.0.1:0", "--data", str(data)], data).start()
    yield srv, data, acme, other
    srv.stop()


def login(srv, email="ayse@acme.example"):
    s = requests.Session()
    r = s.get(srv.base + "/panel/login", timeout=10)
    r = s.post(srv.base + "/panel/login",
               data={"email": email, "password": PW, "csrf": csrf_of(r.text)},
               allow_redirects=False, timeout=30)
    assert r.status_code == 303, r.text
    return s


def post_mp(s, srv, path, fields, files=None):
    """A multipart form post as a browser sends it: the CSRF field first."""
    page = s.get(srv.base + path, timeout=10)
    assert page.status_code == 200
    parts = [("csrf", (None, csrf_of(page.text)))]
    parts += [(k, (None, v)) for k, v in fields.items()]
    for k, (name, content, ctype) in (files or {}).items():
        parts.append((k, (name, content, ctype)))
    return s.post(srv.base + path, files=parts, allow_redirects=False, timeout=30)


# ---- bulk ----------------------------------------------------------------------

def wait_done(s, srv, location):
    for _ in range(100):
        r = s.get(srv.base + location, timeout=10)
        assert r.status_code == 200
        if "Tamamlandı" in r.text or "Başarısız" in r.text:
            return r
        assert 'http-equiv="refresh" content="1"' in r.text  # live while it runs
        time.sleep(0.2)
    raise AssertionError("job did not finish")


def test_bulk_upload_job_page_and_errors_csv(panel):
    srv, data, acme, _ = panel
    s = login(srv)
    now = tr_now(-60)
    csv = ("recipient,type,status,source,consentDate\n"
           f"05321110001,MESAJ,ONAY,HS_WEB,{now}\n"
           f"05321110002,ARAMA,ONAY,HS_WEB,{now}\n"
           f"not-a-number,MESAJ,ONAY,HS_WEB,{now}\n")
    r = post_mp(s, srv, "/panel/bulk", {}, {"file": ("izinler.csv", csv.encode(), "text/csv")})
    assert r.status_code == 303, r.text
    loc = r.headers["Location"]
    assert re.fullmatch(r"/panel/bulk/[0-9a-f]{32}", loc)
    page = wait_done(s, srv, loc)
    assert "Tamamlandı" in page.text and "refresh" not in page.text
    assert re.search(r'id="processed">3 / 3<', page.text)
    assert re.search(r'id="accepted">2<', page.text)
    assert re.search(r'id="rejected">1<', page.text)
    # the same job as the API's: the consents are there, origin BULK
    r = requests.get(srv.base + "/v1/brands/700001/consents/+905321110001",
                     params={"type": "MESAJ"}, headers=acme.headers, timeout=10)
    assert r.status_code == 200 and r.json()["status"] == "ONAY"
    # errors.csv: the same content as the API's
    m = re.search(r'href="(/panel/bulk/[0-9a-f]{32}/errors\.csv)"', page.text)
    assert m, page.text
    e = s.get(srv.base + m.group(1), timeout=10)
    assert e.status_code == 200 and e.headers["Content-Type"].startswith("text/csv")
    assert "not-a-number" in e.text
    job = loc.rsplit("/", 1)[1]
    api = requests.get(srv.base + f"/v1/jobs/{job}/errors.csv", headers=acme.headers, timeout=10)
    assert api.text == e.text
    # the list of recent jobs links it
    assert loc in s.get(srv.base + "/panel/bulk", timeout=10).text
    # another account's user cannot see it
    o = login(srv, "veli@oteki.example")
    assert o.get(srv.base + loc, timeout=10).status_code == 404
    assert o.get(srv.base + loc + "/errors.csv", timeout=10).status_code == 404
    assert loc not in o.get(srv.base + "/panel/bulk", timeout=10).text


def test_bulk_refusals(panel):
    srv, data, _, _ = panel
    s = login(srv)
    # an empty file
    r = post_mp(s, srv, "/panel/bulk", {}, {"file": ("bos.csv", b"", "text/csv")})
    assert r.status_code == 422 and "Dosya boş" in r.text
    # no CSRF field: refused, nothing made
    uploads = data / "uploads"
    before = sorted(p.name for p in uploads.iterdir()) if uploads.exists() else []
    r = s.post(srv.base + "/panel/bulk", allow_redirects=False, timeout=10,
               files=[("file", ("a.csv", b"recipient\n", "text/csv"))])
    assert r.status_code == 403
    r = s.post(srv.base + "/panel/bulk", allow_redirects=False, timeout=10,
               files=[("csrf", (None, "0" * 48)), ("file", ("a.csv", b"recipient\n", "text/csv"))])
    assert r.status_code == 403
    # an urlencoded post has no file: refused the same way
    r = s.post(srv.base + "/panel/bulk", data={"csrf": "x"}, allow_redirects=False, timeout=10)
    assert r.status_code == 403
    after = sorted(p.name for p in uploads.iterdir()) if uploads.exists() else []
    # a refused upload leaves no file behind (an earlier test's job may
    # finish meanwhile and take its own file away: only new ones count)
    assert set(after) - set(before) == set()
    # logged out: to the login page
    r = requests.get(srv.base + "/panel/bulk", allow_redirects=False, timeout=10)
    assert r.status_code == 303 and r.headers["Location"] == "/panel/login"


# ---- send check ------------------------------------------------------------------

def test_check_paste_and_file_downloads(panel):
    srv, data, acme, _ = panel
    s = login(srv)
    ok = "+905321110101"
    r = requests.post(srv.base + "/v1/brands/700001/consents", headers=acme.headers, timeout=10,
                      json={"recipient": ok, "type": "MESAJ", "status": "ONAY",
                            "source": "HS_WEB", "consentDate": tr_now(-60)})
    assert r.status_code in (200, 201), r.text
    pasted = f"{ok}\n05321110102\n"
    r = post_mp(s, srv, "/panel/check",
                {"recipients": pasted, "type": "MESAJ", "recipientType": "BIREYSEL",
                 "commercial": "1"},
                {"file": ("liste.txt", b"nonsense\n\n", "text/plain")})
    assert r.status_code == 200, r.text
    assert re.search(r'id="allowed">1<', r.text) and re.search(r'id="blocked">2<', r.text)
    links = re.findall(r'href="(/panel/check/[0-9a-f]{32}/(?:allowed|blocked)\.csv)"', r.text)
    assert len(links) == 2
    a = s.get(srv.base + links[0], timeout=10)
    b = s.get(srv.base + links[1], timeout=10)
    assert a.status_code == 200 and a.text == f"recipient\n{ok}\n"
    assert b.text == "recipient,reason\n+905321110102,NO_CONSENT\nnonsense,INVALID\n"
    # the same verdicts as the API's text/plain check
    api = requests.post(srv.base + "/v1/brands/700001/check?type=MESAJ&blocked=1",
                        data=pasted + "nonsense\n", timeout=10,
                        headers={**acme.headers, "Content-Type": "text/plain"})
    assert api.text == b.text.split("\n", 1)[1]
    # informational: everyone valid may receive it
    r = post_mp(s, srv, "/panel/check", {"recipients": pasted, "type": "MESAJ",
                                         "commercial": "0"})
    assert re.search(r'id="allowed">2<', r.text)
    # another account cannot download it
    o = login(srv, "veli@oteki.example")
    assert o.get(srv.base + links[0], timeout=10).status_code == 404
    assert s.get(srv.base + "/panel/check/" + "0" * 32 + "/allowed.csv",
                 timeout=10).status_code == 404


def test_check_refusals(panel):
    srv, _, _, _ = panel
    s = login(srv)
    # over the limit of lines
    many = "\n".join("0532%07d" % i for i in range(50001))
    r = post_mp(s, srv, "/panel/check", {"recipients": many, "type": "MESAJ"})
    assert r.status_code == 413 and "50.000" in r.text
    # over the limit of bytes
    r = post_mp(s, srv, "/panel/check", {"recipients": "x" * (1 << 20), "type": "MESAJ"})
    assert r.status_code == 413 and "Liste çok büyük" in r.text
    r = post_mp(s, srv, "/panel/check", {"recipients": "", "type": "MESAJ"})
    assert r.status_code == 422 and "Liste boş" in r.text
    r = post_mp(s, srv, "/panel/check", {"recipients": "05321234567", "type": "FAKS"})
    assert r.status_code == 422
    r = s.post(srv.base + "/panel/check", files=[("recipients", (None, "05321234567")),
                                                 ("type", (None, "MESAJ"))],
               allow_redirects=False, timeout=10)
    assert r.status_code == 403


# ---- SMS campaign ------------------------------------------------------------------

WARN_TEXT = "Bayramınız kutlu olsun! Tüm ürünlerde %20 indirim"


def test_sms_preview_warning_and_footer(panel):
    srv, _, _, _ = panel
    s = login(srv)
    r = post_mp(s, srv, "/panel/sms", {"from": "ACME", "text": WARN_TEXT, "commercial": "0",
                                       "recipientType": "BIREYSEL", "recipients": "",
                                       "action": "preview"})
    assert r.status_code == 200, r.text
    assert 'id="warning"' in r.text and "IZ4223" in r.text and "indirim" in r.text
    # informational: unchanged, no footer
    assert re.search(r'id="preview">Bayramınız kutlu olsun! Tüm ürünlerde %20 indirim<', r.text)
    assert "UCS-2" in r.text or "GSM-7" in r.text
    # commercial: the footer the content rules add, the same as the API's
    r = post_mp(s, srv, "/panel/sms", {"from": "ACME", "text": "Yeni sezon geldi.",
                                       "commercial": "1", "action": "preview"})
    assert r.status_code == 200
    assert "MERSİS: 0123456789012345" in r.text and "RET ACME" in r.text and "4607" in r.text
    assert 'id="warning"' not in r.text
    # a bad sender: the API's own message, the form kept
    r = post_mp(s, srv, "/panel/sms", {"from": "ÇOK UZUN BAŞLIK 123", "text": "Merhaba",
                                       "commercial": "1", "action": "preview"})
    assert r.status_code == 422 and "Gönderen (from)" in r.text and "Merhaba" in r.text


def test_sms_send_and_its_page(panel):
    srv, data, acme, other = panel
    s = login(srv)
    ok = "+905321110201"
    r = requests.post(srv.base + "/v1/brands/700001/consents", headers=acme.headers, timeout=10,
                      json={"recipient": ok, "type": "MESAJ", "status": "ONAY",
                            "source": "HS_WEB", "consentDate": tr_now(-60)})
    assert r.status_code in (200, 201), r.text
    r = post_mp(s, srv, "/panel/sms", {"from": "ACME", "text": "Yeni sezon geldi.",
                                       "commercial": "1", "recipientType": "BIREYSEL",
                                       "recipients": f"{ok}\n05321110202\n{ok}\n",
                                       "action": "send"})
    assert r.status_code == 303, r.text
    loc = r.headers["Location"]
    assert re.fullmatch(r"/panel/sms/\d+", loc)
    send_id = loc.rsplit("/", 1)[1]
    # the API sees the same send: one allowed, one blocked, a repeat sent once
    api = requests.get(srv.base + f"/v1/sms/sends/{send_id}", headers=acme.headers, timeout=10)
    assert api.status_code == 200
    j = api.json()
    assert j["accepted"] == 1 and j["blocked"] == 1 and j["optOutAppended"] is True
    assert "MERSİS" in j["text"]
    page = s.get(srv.base + loc, timeout=10)
    assert page.status_code == 200 and ok in page.text and "İzin yok" in page.text
    # another account's user and key cannot see it
    o = login(srv, "veli@oteki.example")
    assert o.get(srv.base + loc, timeout=10).status_code == 404
    # a send without recipients, or without CSRF, is refused
    r = post_mp(s, srv, "/panel/sms", {"from": "ACME", "text": "x", "commercial": "1",
                                       "recipients": "", "action": "send"})
    assert r.status_code == 422 and "Alıcı listesi boş" in r.text
    r = s.post(srv.base + "/panel/sms", files=[("from", (None, "ACME")), ("text", (None, "x")),
                                                ("recipients", (None, ok)),
                                                ("action", (None, "send"))],
               allow_redirects=False, timeout=10)
    assert r.status_code == 403
