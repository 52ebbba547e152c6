"""What a commercial SMS carries (the regulation's art. 9): the sender's
identity and contact from the brand's settings (izin brand add/set
--trade-name --mersis --tradesman --contact, PATCH /v1/brands/{b}), and the
opt-out; sms/send's answer says what its footer added. A text marked
informational that reads as commercial still goes, with a warning (IZ4223)
naming its words.

The server uses its default log sink (DATA/sms.log): what went out is read
there.
"""
import json
import os

import pytest
import requests

from conftest import Server, fresh_phone, izin, make_store, tr_now

BRAND = 700031   # keyword + short number, identity and contact set
ESNAF = 700032   # a tradesman, subscriber number
BARE = 700033    # opt-out number only: no identity, no contact

IDENT = "ACME Ticaret A.Ş., MERSİS: 0123456789012345."
CONTACT = "İletişim: www.acme.com.tr."
OPTOUT = "Ret için RET ACME yazıp 4607 numarasına gönderin."


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    data = tmp_path_factory.mktemp("content")
    acme, other = make_store(data)
    izin("brand", "add", "--account", "acme", "--code", str(BRAND), "--name", "ACME Mağaza",
         "--keyword", "ACME", "--short-number", "4607", "--trade-name", "ACME Ticaret A.Ş.",
         "--mersis", "0123456789012345", "--contact", "www.acme.com.tr", data=data)
    izin("brand", "add", "--account", "acme", "--code", str(ESNAF), "--name", "Simitçi",
         "--subscriber-number", "08501234567", "--tradesman", "Ayşe Yılmaz",
         "--contact", "0532 111 22 33", data=data)
    izin("brand", "add", "--account", "acme", "--code", str(BARE), "--name", "Yalın",
         "--keyword", "YALIN", "--short-number", "4607", data=data)
    srv = Server(["serve", "--listen", "127.0.0.1:0", "--data", str(data)], data).start()
    e = type("Env", (), {"srv": srv, "acme": acme, "data": data})
    yield e
    srv.stop()


def consent(env, phone, brand):
    r = requests.post(env.srv.base + f"/v1/brands/{brand}/consents", headers=env.acme.headers,
                      json={"recipient": phone, "type": "MESAJ", "status": "ONAY",
                            "source": "HS_WEB", "consentDate": tr_now(-3600)}, timeout=10)
    assert r.status_code == 201, r.text


def send(env, brand, text, to, commercial=True, lang=None):
    h = dict(env.acme.headers)
    if lang:
        h["Accept-Language"] = lang
    return requests.post(env.srv.base + f"/v1/brands/{brand}/sms/send", headers=h, timeout=30,
                         json={"commercial": commercial, "from": "ACME", "text": text, "to": to})


def logged(env, msg_ids):
    with open(os.path.join(str(env.data), "sms.log"), encoding="utf-8") as f:
        lines = [json.loads(x) for x in f]
    return {x["id"]: x["text"] for x in lines if x["id"] in msg_ids}


def test_footer_adds_what_the_text_lacks_in_order(env):
    p = fresh_phone()
    consent(env, p, BRAND)
    r = send(env, BRAND, "Yaz indirimi başladı!", [p])
    assert r.status_code == 202, r.text
    j = r.json()
    final = f"Yaz indirimi başladı! {IDENT} {CONTACT} {OPTOUT}"
    assert j["text"] == final
    assert j["added"] == ["identity", "contact", "optout"]
    assert j["optOutAppended"] is True
    assert "warnings" not in j  # a commercial text is not warned about
    assert j["encoding"] == "GSM7_TR" and j["parts"] == 1
    # what went out is that text
    assert list(logged(env, j["messageIds"]).values()) == [final]

    # a text with the company's name, MERSİS number and web site gets only
    # the opt-out
    text = "ACME Ticaret A.Ş. (MERSİS 0123456789012345) yaz indirimi: www.acme.com.tr"
    j = send(env, BRAND, text, [p]).json()
    assert j["added"] == ["optout"] and j["text"] == text + " " + OPTOUT
    # the name without the MERSİS number is not the identity (the regulation
    # wants both): the footer carries them
    text = "ACME Ticaret A.Ş.'den yaz indirimi: www.acme.com.tr"
    j = send(env, BRAND, text, [p]).json()
    assert j["added"] == ["identity", "optout"]
    assert j["text"] == text + " " + IDENT + " " + OPTOUT
    # nor the number without the name; the opt-out as written counts
    text = "MERSİS 0123456789012345 - indirim. RET ACME yazıp 4607'ye gönderin."
    j = send(env, BRAND, text, [p]).json()
    assert j["added"] == ["identity", "contact"] and j["optOutAppended"] is False
    assert j["text"] == text + " " + IDENT + " " + CONTACT


def test_tradesman(env):
    p = fresh_phone()
    consent(env, p, ESNAF)
    j = send(env, ESNAF, "Taze simit geldi", [p]).json()
    assert j["text"] == ("Taze simit geldi Ayşe Yılmaz. İletişim: 0532 111 22 33. "
                         "Ret için RET yazıp 08501234567 numarasına gönderin.")
    assert j["added"] == ["identity", "contact", "optout"]
    # the contact written another way is still the contact
    j = send(env, ESNAF, "AYŞE YILMAZ: taze simit, sipariş 0 (532) 111-2233", [p]).json()
    assert j["added"] == ["optout"]


def test_brand_without_identity_or_contact_cannot_send_commercial(env):
    p = fresh_phone()
    consent(env, p, BARE)
    r = send(env, BARE, "Yeni sezon", [p])
    assert r.status_code == 422
    e = r.json()["errors"][0]
    assert e["code"] == "IZ4221" and e["location"] == ["brand.tradeName"]
    assert "MERSİS" in e["message"] and "tradesman" in e["message"]
    r = send(env, BARE, "Yeni sezon", [p], lang="en")
    assert "trade name" in r.json()["errors"][0]["message"]
    # a trade name without the MERSİS number is no identity either
    h = env.acme.headers
    url = env.srv.base + f"/v1/brands/{BARE}"
    r = requests.patch(url, headers=h, json={"tradeName": "Yalın Gıda Ltd. Şti."}, timeout=10)
    assert r.status_code == 200, r.text
    assert send(env, BARE, "Yeni sezon", [p]).json()["errors"][0]["code"] == "IZ4221"
    r = requests.patch(url, headers=h, json={"mersis": "0987654321098765"}, timeout=10)
    assert r.status_code == 200
    r = send(env, BARE, "Yeni sezon", [p])
    assert r.status_code == 422
    e = r.json()["errors"][0]
    assert e["code"] == "IZ4222" and e["location"] == ["brand.contact"]
    # informational messages need none of it
    r = send(env, BARE, "Kargonuz yola çıktı.", [p], commercial=False)
    assert r.status_code == 202 and r.json()["added"] == []
    # with a contact it goes
    r = requests.patch(url, headers=h, json={"contact": "info@yalin.example"}, timeout=10)
    j = r.json()
    assert (j["tradeName"], j["mersis"], j["tradesman"], j["contact"]) == (
        "Yalın Gıda Ltd. Şti.", "0987654321098765", "", "info@yalin.example")
    assert requests.get(url, headers=h, timeout=10).json()["contact"] == "info@yalin.example"
    j = send(env, BARE, "Yeni sezon", [p]).json()
    assert j["text"] == ("Yeni sezon Yalın Gıda Ltd. Şti., MERSİS: 0987654321098765. İletişim: "
                         "info@yalin.example. Ret için RET YALIN yazıp 4607 numarasına gönderin.")
    assert j["accepted"] == 1


def test_brand_identity_settings_are_checked(env):
    h = env.acme.headers
    url = env.srv.base + f"/v1/brands/{ESNAF}"
    for body, loc in [({"mersis": "12345"}, "mersis"), ({"mersis": "012345678901234x"}, "mersis"),
                      ({"tradeName": "a\nb"}, "tradeName"), ({"contact": 5}, "contact"),
                      ({"tradesman": "x" * 101}, "tradesman")]:
        r = requests.patch(url, headers=h, json=body, timeout=10)
        assert r.status_code == 422, body
        e = r.json()["errors"][0]
        assert e["code"] == "IZ422" and e["location"] == [loc], (body, e)
    assert requests.get(url, headers=h, timeout=10).json()["tradesman"] == "Ayşe Yılmaz"
    # the command line checks the same
    bad = izin("brand", "set", "--code", str(ESNAF), "--mersis", "123", data=env.data,
               check=False)
    assert bad.returncode != 0 and "MERSİS" in bad.stderr
    # another account's brand is not found
    r = requests.patch(env.srv.base + f"/v1/brands/{BRAND}", json={"contact": "x"},
                       headers={"Authorization": "Bearer " + make_other_key(env)}, timeout=10)
    assert r.status_code == 404


def make_other_key(env):
    return izin("key", "add", "--account", "other", data=env.data).stdout.strip()


def test_informational_text_that_reads_as_commercial_is_warned_and_sent(env):
    p = fresh_phone()
    r = send(env, BRAND, "Bayramınız kutlu olsun, %20 indirim", [p], commercial=False)
    assert r.status_code == 202, r.text
    j = r.json()
    assert j["accepted"] == 1 and j["added"] == []  # sent, unchanged: the sender decides
    assert j["text"] == "Bayramınız kutlu olsun, %20 indirim"
    w = j["warnings"]
    assert len(w) == 1 and w[0]["code"] == "IZ4223" and w[0]["location"] == ["commercial"]
    assert w[0]["words"] == ["Bayramınız", "kutlu", "%20", "indirim"]
    assert "ticari" in w[0]["message"]
    j = send(env, BRAND, "KAMPANYAMIZ başladı: indirimli ürünler", [p], commercial=False,
             lang="en").json()
    assert j["warnings"][0]["words"] == ["KAMPANYAMIZ", "indirimli"]
    assert "commercial" in j["warnings"][0]["message"]
    # a plain informational text: no warning
    for text in ["Sayın müşterimiz, 1.250,00 TL tutarlı Mart faturanızın son ödeme tarihi "
                 "15.04.2026'dır.", "Faturanız %20 KDV dahil 1.200 TL'dir.",
                 "Siparişiniz kargoya verildi. Takip no: 123456789"]:
        j = send(env, BRAND, text, [p], commercial=False).json()
        assert "warnings" not in j and j["added"] == [] and j["text"] == text, text
