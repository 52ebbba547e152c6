"""Inbound SMS (issue 11): a person's "RET ACME" to a shared short number or
anything to a brand's own 0850 number, through the three gateway interfaces
(Kannel get-url, JSON, Jasmin), with the gateway token; routed by number and
keyword, recorded with origin SMS, source HS_MESAJ and the message as
evidence, applied once per message id, answered with a Turkish reply."""
import json
import os
import time

import requests

from conftest import Server, izin, make_store

TOKEN = "gw-token-0123456789abcdef"


def start(tmp_path, token=TOKEN):
    data = tmp_path / "d"
    acme, other = make_store(data)
    izin("brand", "set", "--code", "700001", "--keyword", "ACME,AKME", "--short-number", "4607",
         data=data)
    izin("brand", "set", "--code", "700002", "--keyword", "ÇİÇEK", "--short-number", "4607",
         "--subscriber-number", "08501112233", "--reply-ret", "{brand}: tamamdır, {channels}.",
         data=data)
    args = ["serve", "--listen", "127.0.0.1:0", "--data", str(data)]
    if token:
        args += ["--gateway-token", token]
    return Server(args, data).start(), acme, other


def mo(srv, text, id, frm="05321234567", to="4607", token=TOKEN, **extra):
    body = {"id": id, "from": frm, "to": to, "text": text, **extra}
    return requests.post(srv.base + "/v1/sms/inbound", json=body,
                         headers={"X-Izin-Token": token} if token else {}, timeout=10)


def consent(srv, tenant, phone, type="MESAJ"):
    return requests.get(srv.base + f"/v1/brands/{tenant.brand}/consents/{phone}",
                        params={"type": type}, headers=tenant.headers, timeout=10)


def test_ret_and_onay_by_keyword_on_a_shared_number(tmp_path):
    srv, acme, other = start(tmp_path)
    try:
        r = mo(srv, "  Ret   Acme. ", "m-1")
        assert r.status_code == 200, r.text
        j = r.json()
        assert j["outcome"] == "APPLIED"
        assert j["reply"].startswith("ACME için SMS ve arama izniniz kaldırıldı.")
        assert "ONAY ACME yazıp 4607 numarasına" in j["reply"]
        for t in ("MESAJ", "ARAMA"):
            c = consent(srv, acme, "+905321234567", t).json()
            assert c["status"] == "RET" and c["origin"] == "SMS" and c["source"] == "HS_MESAJ"
            assert c["iys"]["state"] == "LOCAL"          # a first RET: H175, kept locally
            ev = c["history"][0]["evidence"]
            assert ev["messageId"] == "m-1" and ev["to"] == "4607" and ev["text"] == "  Ret   Acme. "
        chk = requests.post(srv.base + f"/v1/brands/{acme.brand}/check", headers=acme.headers,
                            json={"type": "MESAJ", "recipients": ["05321234567"]}, timeout=10)
        assert chk.json()["blocked"] == [{"recipient": "+905321234567", "reason": "RET"}]
        # the other brand on the same number is untouched
        assert consent(srv, other, "+905321234567").status_code == 404

        # the same message id again: nothing changes, the same reply
        again = mo(srv, "  Ret   Acme. ", "m-1")
        assert again.json() == j
        assert len(consent(srv, acme, "+905321234567").json()["history"]) == 1

        # an opt-in for one channel, keyword last and the brand's second keyword
        r = mo(srv, "akme EVET sms", "m-2", frm="+905321230001")
        assert r.json()["outcome"] == "APPLIED"
        assert r.json()["reply"].startswith("ACME için SMS izniniz kaydedildi.")
        assert consent(srv, acme, "+905321230001").json()["status"] == "ONAY"
        assert consent(srv, acme, "+905321230001", "ARAMA").status_code == 404
        # what people write: a case ending on the keyword, a confirming verb
        r = mo(srv, "ACME’ye onay veriyorum.", "m-2b", frm="+905321230002")
        assert r.json()["outcome"] == "APPLIED", r.json()
        assert consent(srv, acme, "+905321230002", "ARAMA").json()["status"] == "ONAY"
        # Turkish letters folded: the other brand's keyword without its dots
        r = mo(srv, "iptal cicek", "m-3", frm="+905321230001")
        assert r.json()["reply"] == "Öteki: tamamdır, SMS ve arama."
        assert consent(srv, other, "+905321230001").json()["status"] == "RET"
    finally:
        srv.stop()


def test_help_changes_nothing(tmp_path):
    srv, acme, _ = start(tmp_path)
    try:
        cases = [("RET FOO", "NO_BRAND", "Marka bulunamadı"),
                 ("RET ONAY ACME", "HELP", "ONAY ACME"),
                 ("onay vermiyorum ACME", "HELP", "RET ACME"),   # consent must be clear
                 ("ACME", "HELP", "RET ACME yazıp 4607"),
                 ("RET ACME ÇİÇEK", "NO_BRAND", "Marka bulunamadı"),
                 ("", "NO_BRAND", "Marka bulunamadı")]
        for i, (text, outcome, says) in enumerate(cases):
            r = mo(srv, text, f"h-{i}")
            assert r.status_code == 200, r.text
            assert r.json()["outcome"] == outcome, (text, r.json())
            assert says in r.json()["reply"], (text, r.json())
        assert consent(srv, acme, "+905321234567").status_code == 404
        # a number no brand has: stored, no reply
        r = mo(srv, "RET ACME", "h-x", to="4999")
        assert r.json() == {"reply": "", "outcome": "NO_NUMBER"}
        mo(srv, "RET ACME", "h-x", to="4999")
        m = requests.get(srv.base + "/metrics", timeout=10).text
        assert 'izin_sms_inbound_total{outcome="NO_BRAND"} 3' in m
        assert 'izin_sms_inbound_total{outcome="HELP"} 3' in m
        assert 'izin_sms_inbound_total{outcome="NO_NUMBER"} 1' in m
        assert 'izin_sms_inbound_total{outcome="REPLAYED"} 1' in m
    finally:
        srv.stop()


def test_own_0850_number_needs_no_keyword(tmp_path):
    srv, _, other = start(tmp_path)
    try:
        r = mo(srv, "evet", "o-1", to="+90 850 111 22 33")
        assert r.json()["outcome"] == "APPLIED", r.json()
        assert r.json()["reply"].startswith("Öteki için SMS ve arama izniniz kaydedildi.")
        assert consent(srv, other, "+905321234567").json()["status"] == "ONAY"
    finally:
        srv.stop()


def test_kannel_and_jasmin_interfaces(tmp_path):
    srv, acme, _ = start(tmp_path)
    try:
        q = {"from": "+905321234567", "to": "4607", "text": "İPTAL ACME", "id": "k-1",
             "smsc": "fake", "time": "1764600000", "token": TOKEN}
        r = requests.get(srv.base + "/v1/sms/inbound", params=q, timeout=10)
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain")
        assert r.headers.get("X-Kannel-Coding") == "2"
        assert r.text.startswith("ACME için SMS ve arama izniniz kaldırıldı.")
        c = consent(srv, acme, "+905321234567").json()
        assert c["consentDate"] == "2025-12-01 17:40:00"   # the received time, Turkey
        assert c["history"][0]["evidence"]["smsc"] == "fake"

        # Jasmin: UCS-2 content; the answer is exactly ACK/Jasmin, the reply goes out
        content = "onay acme".encode("utf-16-be")
        r = requests.post(srv.base + "/v1/sms/inbound/jasmin?token=" + TOKEN,
                          data={"id": "j-1", "from": "905321239999", "to": "4607",
                                "coding": "8", "content": content,
                                "origin-connector": "smpp1"}, timeout=10)
        assert r.status_code == 200 and r.text == "ACK/Jasmin"
        assert consent(srv, acme, "+905321239999").json()["status"] == "ONAY"
        # the reply goes out through the outbound queue, once
        log = ""
        for _ in range(100):
            with open(os.path.join(str(tmp_path / "d"), "sms.log"), encoding="utf-8") as f:
                log = f.read()
            if "+905321239999" in log:
                break
            time.sleep(0.05)
        assert "+905321239999" in log and "ACME için SMS ve arama izniniz kaydedildi." in log
        line = json.loads(log.strip().splitlines()[-1])
        assert line["from"] == "4607" and line["to"] == "+905321239999"
        # Jasmin delivering it again: acknowledged, no second reply
        r = requests.post(srv.base + "/v1/sms/inbound/jasmin?token=" + TOKEN,
                          data={"id": "j-1", "from": "905321239999", "to": "4607",
                                "coding": "8", "content": content,
                                "origin-connector": "smpp1"}, timeout=10)
        assert r.text == "ACK/Jasmin"
        time.sleep(0.3)
        with open(os.path.join(str(tmp_path / "d"), "sms.log"), encoding="utf-8") as f:
            assert f.read().count("+905321239999") == 1
    finally:
        srv.stop()


def test_the_gateway_token_is_required(tmp_path):
    srv, acme, _ = start(tmp_path)
    try:
        assert mo(srv, "RET ACME", "t-1", token=None).status_code == 401
        assert mo(srv, "RET ACME", "t-2", token=TOKEN + "x").status_code == 401
        r = requests.get(srv.base + "/v1/sms/inbound", params={
            "from": "+905321234567", "to": "4607", "text": "RET ACME", "id": "t-3",
            "token": "wrong"}, timeout=10)
        assert r.status_code == 401
        assert consent(srv, acme, "+905321234567").status_code == 404
        bad = requests.post(srv.base + "/v1/sms/inbound", json={"id": "t-4", "to": "4607"},
                            headers={"X-Izin-Token": TOKEN}, timeout=10)
        assert bad.status_code == 400
    finally:
        srv.stop()
    srv, _, _ = start(tmp_path / "no-token", token=None)
    try:
        assert mo(srv, "RET ACME", "t-5").status_code == 503
    finally:
        srv.stop()


def test_a_brand_s_sms_settings_over_the_api(tmp_path):
    srv, acme, other = start(tmp_path)
    try:
        url = srv.base + f"/v1/brands/{acme.brand}"
        g = requests.get(url, headers=acme.headers, timeout=10).json()
        assert g["keywords"] == ["ACME", "AKME"] and g["shortNumber"] == "4607"
        p = requests.patch(url, headers=acme.headers, timeout=10, json={
            "keywords": ["acme", "şimşek"], "replies": {"onay": "{brand}: {channels} tamam."}})
        assert p.status_code == 200, p.text
        assert p.json()["keywords"] == ["ACME", "ŞİMŞEK"]
        r = mo(srv, "onay simsek", "api-1")
        assert r.json()["reply"] == "ACME: SMS ve arama tamam."
        # the other brand's keyword on the same short number: 409, nothing changed
        p = requests.patch(url, headers=acme.headers, timeout=10, json={"keywords": ["çiçek"]})
        assert p.status_code == 409 and p.json()["errors"][0]["code"] == "IZ409"
        p = requests.patch(url, headers=acme.headers, timeout=10,
                           json={"subscriberNumber": "08501112233"})
        assert p.status_code == 409
        for bad in ({"keywords": ["ret"]}, {"keywords": ["a b c d e"]}, {"shortNumber": "46071"},
                    {"subscriberNumber": "05321112233"}, {"color": "red"},
                    {"replies": {"bye": "x"}}, {"name": ""}):
            p = requests.patch(url, headers=acme.headers, timeout=10, json=bad)
            assert p.status_code == 422, (bad, p.text)
        g = requests.get(url, headers=acme.headers, timeout=10).json()
        assert g["keywords"] == ["ACME", "ŞİMŞEK"] and g["subscriberNumber"] == ""
        # another account's key does not see the brand
        assert requests.get(url, headers=other.headers, timeout=10).status_code == 404
        assert requests.patch(url, headers=other.headers, json={"name": "x"},
                              timeout=10).status_code == 404
    finally:
        srv.stop()
