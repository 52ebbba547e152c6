"""The panel's voice campaigns, SMS numbers and keywords, and consent page
settings (issue 14 item 2): each does what its API does through the same
code (POST /v1/brands/{b}/voice/campaigns, GET /v1/voice/campaigns/{id}/
numbers?format=csv, PATCH /v1/brands/{b}); every POST needs the CSRF field;
another account's campaign is not reachable; a refusal has the API's code
and a Turkish message."""
import re

import pytest
import requests

from conftest import Server, izin, make_store, tr_now
from test_panel_ops import PW, csrf_of, login, post_mp  # the same login and forms

TOKEN = "gw-token-0123456789abcdef"
PUBLIC = "http://izin.example.com.tr"  # http: the test client sends no Secure cookie


@pytest.fixture(scope="module")
def panel(tmp_path_factory):
    data = tmp_path_factory.mktemp("panelbrand") / "d"
    acme, other = make_store(data)
    izin("brand", "set", "--code", "700001", "--short-number", "4607", "--slug", "acme", data=data)
    izin("brand", "set", "--code", "700002", "--keyword", "ÇİÇEK", "--short-number", "4607",
         "--slug", "oteki", data=data)
    for acc, mail in (("acme", "ayse@acme.example"), ("other", "veli@oteki.example")):
        izin("user", "add", "--account", acc, "--email", mail, "--password-stdin", data=data,
             input=PW + "\n")
    srv = Server(["serve", "--listen", "127.0.0.1:0", "--data", str(data), "--gateway-token",
                  TOKEN, "--public-url", PUBLIC], data).start()
    yield srv, acme, other
    srv.stop()


def post_form(s, srv, path, fields):
    page = s.get(srv.base + path, timeout=10)
    assert page.status_code == 200
    return s.post(srv.base + path, data={"csrf": csrf_of(page.text), **fields},
                  allow_redirects=False, timeout=30)


def brand_api(srv, tenant):
    r = requests.get(srv.base + f"/v1/brands/{tenant.brand}", headers=tenant.headers, timeout=10)
    assert r.status_code == 200
    return r.json()


# ---- voice campaigns --------------------------------------------------------------

def test_voice_campaign_made_listed_and_downloaded_as_the_api(panel):
    srv, acme, other = panel
    for phone, status in (("05321119001", "ONAY"), ("05321119002", "RET")):
        r = requests.post(srv.base + "/v1/brands/700001/consents", headers=acme.headers,
                          json={"recipient": phone, "type": "ARAMA", "status": status,
                                "source": "HS_WEB", "consentDate": tr_now(-3600)}, timeout=10)
        assert r.status_code == 201, r.text
    s = login(srv)
    r = post_mp(s, srv, "/panel/voice",
                {"name": "Bahar <araması>", "commercial": "1", "recipientType": "BIREYSEL",
                 "recipients": "05321119001\n\n 05321119002 \nnumara-değil\n"},
                {"file": ("liste.txt", b"05321119003\r\n+905321119001\r\n", "text/plain")})
    assert r.status_code == 303, r.text
    loc = r.headers["Location"]
    m = re.fullmatch(r"/panel/voice/(\d+)", loc)
    assert m, loc
    cid = m.group(1)
    page = s.get(srv.base + loc, timeout=10)
    assert page.status_code == 200
    assert "Bahar &lt;araması&gt;" in page.text and "<araması>" not in page.text
    assert re.search(r'id="allowed">1<', page.text) and re.search(r'id="blocked">3<', page.text)
    assert "İzin geri alınmış" in page.text and "İzin yok" in page.text
    assert "numara-değil" in page.text
    # the list shows it with its counts and a download link
    lst = s.get(srv.base + "/panel/voice", timeout=10).text
    assert "Bahar &lt;araması&gt;" in lst and f"/panel/voice/{cid}/numbers.csv" in lst
    # the dialer's CSV: the API's bytes
    csv = s.get(srv.base + f"/panel/voice/{cid}/numbers.csv", timeout=10)
    assert csv.status_code == 200 and csv.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in csv.headers["Content-Disposition"]
    api = requests.get(srv.base + f"/v1/voice/campaigns/{cid}/numbers", params={"format": "csv"},
                       headers=acme.headers, timeout=10)
    assert api.status_code == 200 and csv.text == api.text == "recipient\n+905321119001\n"
    # judged again when downloaded: a withdrawal since is not dialled
    r = requests.post(srv.base + "/v1/brands/700001/consents", headers=acme.headers,
                      json={"recipient": "05321119001", "type": "ARAMA", "status": "RET",
                            "source": "HS_WEB", "consentDate": tr_now(-60)}, timeout=10)
    assert r.status_code == 201, r.text
    assert s.get(srv.base + f"/panel/voice/{cid}/numbers.csv", timeout=10).text == "recipient\n"
    # another account's user: 404, and not listed
    o = login(srv, "veli@oteki.example")
    assert o.get(srv.base + loc, timeout=10).status_code == 404
    assert o.get(srv.base + f"/panel/voice/{cid}/numbers.csv", timeout=10).status_code == 404
    assert "Bahar" not in o.get(srv.base + "/panel/voice", timeout=10).text


def test_voice_refusals(panel):
    srv, _, _ = panel
    s = login(srv)
    r = post_mp(s, srv, "/panel/voice", {"name": "Boş", "commercial": "1", "recipients": "\n \n"})
    assert r.status_code == 422 and "Numara listesi boş" in r.text
    r = post_mp(s, srv, "/panel/voice", {"name": "", "commercial": "1",
                                         "recipients": "05321119001"})
    assert r.status_code == 422 and "Kampanya adı gerekli" in r.text
    assert "05321119001" in r.text  # what was typed comes back
    r = post_mp(s, srv, "/panel/voice", {"name": "x", "commercial": "2",
                                         "recipients": "05321119001"})
    assert r.status_code == 422
    # without the CSRF field: refused, nothing made
    before = s.get(srv.base + "/panel/voice", timeout=10).text.count("/numbers.csv")
    r = s.post(srv.base + "/panel/voice", files=[("name", (None, "csrfsiz")),
                                                 ("recipients", (None, "05321119001"))],
               allow_redirects=False, timeout=10)
    assert r.status_code == 403
    after = s.get(srv.base + "/panel/voice", timeout=10).text
    assert after.count("/numbers.csv") == before and "csrfsiz" not in after
    assert s.get(srv.base + "/panel/voice/999999", timeout=10).status_code == 404
    assert s.get(srv.base + "/panel/voice/abc/numbers.csv", timeout=10).status_code == 404


# ---- SMS numbers and keywords --------------------------------------------------------

NUMBERS = {"keywords": "ACME\r\nakme", "shortNumber": "4607", "subscriberNumber": "08501230000",
           "replyOnay": "", "replyRet": "{brand}: izniniz\r\nkaldırıldı.", "replyHelp": "",
           "tradeName": "ACME Ticaret A.Ş.", "mersis": "0123456789012345", "tradesman": "",
           "contact": "0212 555 01 23"}


def test_numbers_saved_as_patch_and_inbound_listed(panel):
    srv, acme, _ = panel
    s = login(srv)
    r = post_form(s, srv, "/panel/numbers", NUMBERS)
    assert r.status_code == 303, r.text
    assert r.headers["Location"] == "/panel/numbers?saved=1"
    b = brand_api(srv, acme)
    assert b["keywords"] == ["ACME", "AKME"] and b["shortNumber"] == "4607"
    assert b["subscriberNumber"] == "08501230000"
    assert b["replies"]["ret"] == "{brand}: izniniz\nkaldırıldı."  # CRLF kept as LF
    assert b["tradeName"] == "ACME Ticaret A.Ş." and b["mersis"] == "0123456789012345"
    assert b["contact"] == "0212 555 01 23"
    page = s.get(srv.base + "/panel/numbers?saved=1", timeout=10).text
    assert "Ayarlar kaydedildi." in page and "ACME Ticaret A.Ş." in page
    # an inbound SMS routed by the new keyword shows with its outcome and reply
    r = requests.post(srv.base + "/v1/sms/inbound", headers={"X-Izin-Token": TOKEN},
                      json={"id": "pb-1", "from": "05321118888", "to": "4607",
                            "text": "RET AKME <b>"}, timeout=10)
    assert r.status_code == 200 and r.json()["outcome"] == "APPLIED", r.text
    page = s.get(srv.base + "/panel/numbers", timeout=10).text
    assert "RET AKME &lt;b&gt;" in page and "Uygulandı" in page
    assert "ACME: izniniz" in page


def test_numbers_refusals(panel):
    srv, acme, _ = panel
    s = login(srv)
    before = brand_api(srv, acme)
    # another brand's keyword on the same short number: the API's IZ409
    r = post_form(s, srv, "/panel/numbers", {**NUMBERS, "keywords": "ACME\r\nçiçek"})
    assert r.status_code == 409, r.text
    assert "IZ409" in r.text
    assert "Bu anahtar kelime aynı kısa numarada başka bir markanın." in r.text
    assert "çiçek" in r.text  # the form comes back as typed
    api = requests.patch(srv.base + "/v1/brands/700001", headers=acme.headers,
                         json={"keywords": ["ACME", "çiçek"]}, timeout=10)
    assert api.status_code == 409 and api.json()["errors"][0]["code"] == "IZ409"
    # a short number that is not 4 digits, a command word: IZ422
    r = post_form(s, srv, "/panel/numbers", {**NUMBERS, "shortNumber": "46071"})
    assert r.status_code == 422 and "IZ422" in r.text and "Kısa numara" in r.text
    r = post_form(s, srv, "/panel/numbers", {**NUMBERS, "keywords": "RET"})
    assert r.status_code == 422 and "komut kelimeleri" in r.text
    r = post_form(s, srv, "/panel/numbers", {**NUMBERS, "mersis": "123"})
    assert r.status_code == 422 and "MERSİS" in r.text
    r = post_form(s, srv, "/panel/numbers", {**NUMBERS, "contact": "x" * 161})
    assert r.status_code == 422
    assert brand_api(srv, acme) == before  # nothing of the refused forms was kept
    # without the CSRF field
    r = s.post(srv.base + "/panel/numbers", data={**NUMBERS, "shortNumber": "4608"},
               allow_redirects=False, timeout=10)
    assert r.status_code == 403
    assert brand_api(srv, acme)["shortNumber"] == before["shortNumber"]


# ---- the consent page ---------------------------------------------------------------

def test_consent_page_link_qr_and_settings(panel):
    srv, acme, _ = panel
    s = login(srv)
    page = s.get(srv.base + "/panel/page", timeout=10)
    assert page.status_code == 200
    assert f'href="{PUBLIC}/c/acme"' in page.text and 'src="/c/acme/qr.svg"' in page.text
    qr = s.get(srv.base + "/c/acme/qr.svg", timeout=10)
    assert qr.status_code == 200 and qr.headers["Content-Type"].startswith("image/svg+xml")
    info = "ACME olarak kişisel verilerinizi\r\nKVKK kapsamında işleriz <script>."
    r = post_form(s, srv, "/panel/page", {"slug": "acme-kampanya", "infoText": info,
                                          "pageMode": "LOCAL", "pageOtpTemplate": "",
                                          "pageVkn": ""})
    assert r.status_code == 303, r.text
    b = brand_api(srv, acme)
    assert b["slug"] == "acme-kampanya" and b["pageMode"] == "LOCAL"
    assert b["infoText"] == info.replace("\r\n", "\n")
    page = s.get(srv.base + "/panel/page", timeout=10).text
    assert f"{PUBLIC}/c/acme-kampanya" in page and "<script>." not in page
    assert "&lt;script&gt;." in page
    pub = requests.get(srv.base + "/c/acme-kampanya", timeout=10)
    assert pub.status_code == 200 and "KVKK kapsamında" in pub.text
    # IYS mode with its template and VKN
    r = post_form(s, srv, "/panel/page", {"slug": "acme-kampanya", "infoText": info,
                                          "pageMode": "IYS", "pageOtpTemplate": "tpl-1",
                                          "pageVkn": "1234567890"})
    assert r.status_code == 303
    b = brand_api(srv, acme)
    assert b["pageMode"] == "IYS" and b["pageOtpTemplate"] == "tpl-1" and b["pageVkn"] == "1234567890"


def test_consent_page_refusals(panel):
    srv, acme, _ = panel
    s = login(srv)
    before = brand_api(srv, acme)
    # IYS mode without a template: the API's IZ422
    r = post_form(s, srv, "/panel/page", {"slug": before["slug"], "pageMode": "IYS",
                                          "pageOtpTemplate": "", "pageVkn": ""})
    assert r.status_code == 422 and "IZ422" in r.text and "pageOtpTemplate" in r.text
    # another brand's slug: IZ409
    r = post_form(s, srv, "/panel/page", {"slug": "oteki"})
    assert r.status_code == 409 and "Bu slug başka bir markanın." in r.text
    api = requests.patch(srv.base + "/v1/brands/700001", headers=acme.headers,
                         json={"slug": "oteki"}, timeout=10)
    assert api.status_code == 409 and api.json()["errors"][0]["code"] == "IZ409"
    r = post_form(s, srv, "/panel/page", {"slug": "Büyük Harf"})
    assert r.status_code == 422 and "a-z, 0-9" in r.text
    r = post_form(s, srv, "/panel/page", {"pageMode": "HERIKI"})
    assert r.status_code == 422 and "IYS ya da LOCAL" in r.text
    assert brand_api(srv, acme) == before
    r = s.post(srv.base + "/panel/page", data={"slug": "csrfsiz"}, allow_redirects=False,
               timeout=10)
    assert r.status_code == 403
    assert brand_api(srv, acme)["slug"] == before["slug"]
    # another account's brand by ?brand=: 404
    assert s.get(srv.base + "/panel/page?brand=700002", timeout=10).status_code == 404
    assert s.get(srv.base + "/panel/numbers?brand=700002", timeout=10).status_code == 404
