"""A consent change recorded from the panel (origin PANEL): the recipient
page's form goes through the domain like an API change (the same H-codes,
the same İYS queue), keeps the panel user and address as evidence, and needs
the CSRF field; another account's brand cannot be written."""
import re

import pytest
import requests

from conftest import Server, fresh_phone, izin, make_store, tr_now
from test_panel import csrf_of, login

PW = "dogru-parola-123"


@pytest.fixture(scope="module")
def panel(tmp_path_factory):
    data = tmp_path_factory.mktemp("panel_record") / "d"
    acme, other = make_store(data)
    izin("user", "add", "--account", "acme", "--email", "ayse@acme.example",
         "--password-stdin", data=data, input=PW + "\n")
    srv = Server(["serve", "--listen", "127.0.0.1:0", "--data", str(data)], data).start()
    yield srv, acme, other
    srv.stop()


def form_of(s, srv, who):
    r = s.get(srv.base + "/panel/recipients", params={"q": who}, timeout=10)
    assert r.status_code == 200 and "Değişiklik kaydet" in r.text, r.text
    return r


def test_a_change_from_the_panel_is_recorded_with_its_evidence(panel):
    srv, acme, _ = panel
    s, _ = login(srv, "ayse@acme.example", PW)
    who = fresh_phone()
    r = form_of(s, srv, who)
    assert f'name="recipient" value="{who}"' in r.text
    form = {"csrf": csrf_of(r.text), "recipient": who, "type": "ARAMA",
            "recipientType": "BIREYSEL", "status": "ONAY", "source": "HS_CAGRI_MERKEZI",
            "consentDate": tr_now(-600)}
    # without the CSRF field: refused, nothing recorded
    bad = s.post(srv.base + "/panel/recipients", data={**form, "csrf": ""},
                 allow_redirects=False, timeout=10)
    assert bad.status_code == 403
    g = requests.get(srv.base + f"/v1/brands/{acme.brand}/consents/{who}",
                     params={"type": "ARAMA"}, headers=acme.headers, timeout=10)
    assert g.status_code == 404
    r = s.post(srv.base + "/panel/recipients", data=form, allow_redirects=False, timeout=10)
    assert r.status_code == 303, r.text
    r = s.get(srv.base + r.headers["Location"], timeout=10)
    assert "Değişiklik kaydedildi" in r.text and "PANEL" in r.text
    g = requests.get(srv.base + f"/v1/brands/{acme.brand}/consents/{who}",
                     params={"type": "ARAMA"}, headers=acme.headers, timeout=10)
    assert g.status_code == 200, g.text
    c = g.json()
    assert c["status"] == "ONAY" and c["origin"] == "PANEL" and c["source"] == "HS_CAGRI_MERKEZI"
    ev = c["history"][0]["evidence"]
    assert ev["panelUser"] == "ayse@acme.example" and ev["ip"] == "127.0.0.1"
    assert c["iys"]["state"] in ("PENDING", "LOCAL", "SENT", "ACCEPTED")
    # the same status again: İYS's rule, H174, shown as a refusal page
    r = s.post(srv.base + "/panel/recipients", data={**form, "consentDate": tr_now(-60)},
               allow_redirects=False, timeout=10)
    assert r.status_code == 400 and "H174" in r.text, r.text
    # a first RET for a new number is kept (LOCAL), like the API's
    who2 = fresh_phone()
    r = form_of(s, srv, who2)
    r = s.post(srv.base + "/panel/recipients",
               data={**form, "csrf": csrf_of(r.text), "recipient": who2, "status": "RET"},
               allow_redirects=False, timeout=10)
    assert r.status_code == 303
    g = requests.get(srv.base + f"/v1/brands/{acme.brand}/consents/{who2}",
                     params={"type": "ARAMA"}, headers=acme.headers, timeout=10).json()
    assert g["status"] == "RET" and g["iys"]["state"] == "LOCAL"


def test_bad_fields_answer_their_h_codes(panel):
    srv, _, _ = panel
    s, _ = login(srv, "ayse@acme.example", PW)
    r = form_of(s, srv, fresh_phone())
    form = {"csrf": csrf_of(r.text), "recipient": "abc", "type": "FAX",
            "recipientType": "BIREYSEL", "status": "ONAY", "source": "HS_WEB",
            "consentDate": "yarın"}
    r = s.post(srv.base + "/panel/recipients", data=form, allow_redirects=False, timeout=10)
    assert r.status_code == 422
    for code in ("H122", "H117", "H158"):  # recipient, type, date
        assert code in r.text, r.text
    assert "<script" not in r.text


def test_another_accounts_brand_cannot_be_written(panel):
    srv, _, other = panel
    s, _ = login(srv, "ayse@acme.example", PW)
    r = form_of(s, srv, fresh_phone())
    who = fresh_phone()
    r = s.post(srv.base + f"/panel/recipients?brand={other.brand}",
               data={"csrf": csrf_of(r.text), "recipient": who, "type": "MESAJ",
                     "recipientType": "BIREYSEL", "status": "ONAY", "source": "HS_WEB",
                     "consentDate": tr_now(-600)}, allow_redirects=False, timeout=10)
    assert r.status_code == 404
    g = requests.get(srv.base + f"/v1/brands/{other.brand}/consents/{who}",
                     params={"type": "MESAJ"}, headers=other.headers, timeout=10)
    assert g.status_code == 404
