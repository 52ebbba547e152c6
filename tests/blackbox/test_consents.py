"""POST/GET /v1/brands/{b}/consents: validation with İYS's H-codes, the state
rules, idempotency, history, tenant isolation and hostile input."""
import json
import socket

import pytest
import requests

from conftest import fresh_phone, tr_now


def consent(recipient=None, **kw):
    body = {"recipient": recipient or fresh_phone(), "type": "MESAJ", "status": "ONAY",
            "source": "HS_WEB", "consentDate": tr_now(-3600)}
    body.update(kw)
    return {k: v for k, v in body.items() if v is not ...}


def codes(resp):
    return [e["code"] for e in resp.json()["errors"]]


def test_add_normalizes_and_reports_the_stored_change(env):
    r = env.api.post_consent(consent("0532 111 22 33", consentDate="2026-01-05 10:00:00"))
    assert r.status_code == 201, r.text
    j = r.json()
    assert j["recipient"] == "+905321112233"
    assert j["type"] == "MESAJ" and j["status"] == "ONAY" and j["source"] == "HS_WEB"
    assert j["recipientType"] == "BIREYSEL"
    assert j["consentDate"] == "2026-01-05 10:00:00"
    assert j["origin"] == "API"
    assert j["iys"]["state"] == "LOCAL"  # no İYS configured for this account
    assert isinstance(j["id"], int) and len(j["creationDate"]) == 19
    assert "warnings" not in j


@pytest.mark.parametrize("written", [
    "05321234500", "5321234500", "+90 532 123 45 00", "0090 532 123 45 00",
    "(0532) 123-4500", "905321234500", "+9005321234500", "0532.123.45.00"])
def test_every_common_way_of_writing_a_number_is_the_same_address(env, written):
    r = env.api.post_consent(consent(written, consentDate="2026-01-05 10:00:00"))
    assert r.status_code in (200, 201), r.text
    assert r.json()["recipient"] == "+905321234500"


def test_exact_repeat_is_idempotent(env):
    body = consent()
    a = env.api.post_consent(body)
    b = env.api.post_consent(body)
    assert a.status_code == 201 and b.status_code == 200
    assert a.json()["id"] == b.json()["id"]
    h = env.api.get_consent(a.json()["recipient"]).json()["history"]
    assert len(h) == 1


def test_state_rules(env):
    p = fresh_phone()
    assert env.api.post_consent(consent(p, consentDate=tr_now(-7200))).status_code == 201
    # same status again with a new date: H174, 400
    r = env.api.post_consent(consent(p, consentDate=tr_now(-3600)))
    assert r.status_code == 400 and codes(r) == ["H174"]
    # RET dated before the stored ONAY: H178
    r = env.api.post_consent(consent(p, status="RET", consentDate=tr_now(-9000)))
    assert r.status_code == 400 and codes(r) == ["H178"]
    r = env.api.post_consent(consent(p, status="RET", consentDate=tr_now(-60)))
    assert r.status_code == 201 and r.json()["status"] == "RET"
    g = env.api.get_consent(p).json()
    assert g["status"] == "RET"
    assert [c["status"] for c in g["history"]] == ["RET", "ONAY"]


def test_first_ret_is_kept_locally_with_a_warning(env):
    p = fresh_phone()
    r = env.api.post_consent(consent(p, status="RET"))
    assert r.status_code == 201, r.text
    j = r.json()
    assert j["iys"]["state"] == "LOCAL"
    assert [w["code"] for w in j["warnings"]] == ["H175"]
    c = env.api.check({"type": "MESAJ", "recipients": [p]}).json()
    assert c["blocked"] == [{"recipient": p, "reason": "RET"}]


def test_hs_karar(env):
    p = fresh_phone()
    r = env.api.post_consent(consent(p, source="HS_KARAR", status="ONAY"))
    assert r.status_code == 422 and "H408" in codes(r)
    # A first RET from HS_KARAR is an opt-out like any other: kept LOCAL,
    # with İYS's H175 as a warning, and it blocks sending.
    first = fresh_phone()
    r = env.api.post_consent(consent(first, source="HS_KARAR", status="RET"))
    assert r.status_code == 201, r.text
    j = r.json()
    assert j["iys"]["state"] == "LOCAL" and j["source"] == "HS_KARAR"
    assert [w["code"] for w in j["warnings"]] == ["H175"]
    c = env.api.check({"type": "MESAJ", "recipients": [first]}).json()
    assert c["blocked"] == [{"recipient": first, "reason": "RET"}]
    env.api.post_consent(consent(p, consentDate=tr_now(-7200)))
    r = env.api.post_consent(consent(p, source="HS_KARAR", status="RET"))
    assert r.status_code == 201, r.text
    assert r.json()["iys"]["state"] in ("PENDING", "SENT", "ACCEPTED", "LOCAL")


def test_hs_2015(env):
    r = env.api.post_consent(consent(source="HS_2015", consentDate="2015-05-01 00:00:01"))
    assert r.status_code == 422 and codes(r) == ["H155"]
    r = env.api.post_consent(consent(source="HS_2015", consentDate="2015-05-01 00:00:00"))
    assert r.status_code == 201


def test_tacir_first_record_may_omit_source_and_date(env):
    p = fresh_phone()
    r = env.api.post_consent(consent(p, recipientType="TACIR", source=..., consentDate=...))
    assert r.status_code == 201, r.text
    assert "source" not in r.json() and "consentDate" not in r.json()
    r = env.api.post_consent(consent(p, recipientType="TACIR", status="RET", consentDate=...))
    assert r.status_code == 400 and codes(r) == ["H462"]
    r = env.api.post_consent(consent(p, recipientType="TACIR", status="RET", source=...))
    assert r.status_code == 400 and codes(r) == ["H463"]
    # TACIR and BIREYSEL records are independent
    assert env.api.get_consent(p).status_code == 404
    assert env.api.get_consent(p, rtype="TACIR").json()["status"] == "ONAY"


BAD = [
    # (field changes, expected codes in order, status)
    ({"status": ...}, ["H110"], 422),
    ({"status": None}, ["H110"], 422),
    ({"status": ""}, ["H110"], 422),
    ({"status": "EVET"}, ["H115"], 422),
    ({"status": 1}, ["H115"], 422),
    ({"type": ...}, ["H111", ], 422),
    ({"type": "SMS"}, ["H117"], 422),
    ({"consentDate": ...}, ["H112"], 422),
    ({"consentDate": "2026-01-05"}, ["H158"], 422),
    ({"consentDate": "05.01.2026 10:00:00"}, ["H158"], 422),
    ({"consentDate": "2026-02-30 10:00:00"}, ["H157"], 422),
    ({"consentDate": "2015-04-30 23:59:59"}, ["H156"], 422),
    ({"consentDate": "2099-01-01 00:00:00"}, ["H162"], 422),
    ({"source": ...}, ["H113"], 422),
    ({"source": "HS_FAX"}, ["H119"], 422),
    ({"source": "IYS_WEB"}, ["H119"], 422),
    ({"recipient": ...}, ["H114"], 422),
    ({"recipient": ""}, ["H114"], 422),
    ({"recipient": "05321"}, ["H121"], 422),
    ({"recipient": "ali@example.com"}, ["H464"], 422),
    ({"recipient": "+90532123456789012"}, ["H160"], 422),
    ({"recipient": "0532123456a"}, ["H121"], 422),
    ({"type": "EPOSTA", "recipient": "05321234567"}, ["H464"], 422),
    ({"type": "EPOSTA", "recipient": "ali@"}, ["H120"], 422),
    ({"type": "EPOSTA", "recipient": "çağrı@örnek.com"}, ["H120"], 422),
    ({"recipientType": "KURUM"}, ["H116"], 422),
    ({"recipientType": None}, ["H170"], 422),
    ({"retailerCode": 5}, ["H180"], 403),  # a code of no retailer (test_retailers.py)
    ({"retailerCode": None}, ["H266"], 400),
    ({"foo": "bar"}, ["H118"], 422),
]


@pytest.mark.parametrize("change,expected,status", BAD)
def test_every_field_wrong_in_every_way_gets_its_h_code(env, change, expected, status):
    p = fresh_phone()
    body = consent(p)
    body.update(change)
    body = {k: v for k, v in body.items() if v is not ...}
    r = env.api.post_consent(body)
    assert r.status_code == status, r.text
    got = codes(r)
    for c in expected:
        assert c in got, (c, got)
    for e in r.json()["errors"]:
        assert e["message"]
    # nothing was stored for that address
    assert env.api.get_consent(p).status_code == 404


def test_errors_name_the_field_and_value(env):
    r = env.api.post_consent(consent("05321", status="EVET"))
    errs = r.json()["errors"]
    assert errs[0] == {"code": "H121", "message": errs[0]["message"], "location": ["recipient"],
                       "value": "05321"}
    assert errs[1]["code"] == "H115" and errs[1]["location"] == ["status"]


def test_messages_in_english_on_request(env):
    r = requests.post(env.api.url(f"/v1/brands/{env.acme.brand}/consents"),
                      json=consent(status="EVET"),
                      headers={**env.acme.headers, "Accept-Language": "en"})
    assert "ONAY" in r.json()["errors"][0]["message"]
    tr = env.api.post_consent(consent(status="EVET")).json()["errors"][0]["message"]
    assert tr != r.json()["errors"][0]["message"]


def test_email_consent_is_lower_cased(env):
    r = env.api.post_consent(consent("Ali.Veli+kampanya@Example.COM", type="EPOSTA"))
    assert r.status_code == 201, r.text
    assert r.json()["recipient"] == "ali.veli+kampanya@example.com"
    g = env.api.get_consent("ALI.VELI+KAMPANYA@EXAMPLE.COM".replace("+", "%2B"), type="EPOSTA")
    assert g.status_code == 200 and g.json()["type"] == "EPOSTA"


def test_get_unknown_is_404_and_bad_query_is_422(env):
    assert env.api.get_consent(fresh_phone()).status_code == 404
    r = env.api.get_consent(fresh_phone(), type="FAX")
    assert r.status_code == 422 and codes(r) == ["H117"]
    r = requests.get(env.api.url(f"/v1/brands/{env.acme.brand}/consents/05321234567"),
                     headers=env.acme.headers)
    assert r.status_code == 422 and codes(r) == ["H111"]


# ---- auth and tenant isolation -------------------------------------------

def test_no_key_or_bad_key_is_401(env):
    url = env.api.url(f"/v1/brands/{env.acme.brand}/consents")
    assert requests.post(url, json=consent()).status_code == 401
    r = requests.post(url, json=consent(), headers={"Authorization": "Bearer izk_nope"})
    assert r.status_code == 401 and codes(r) == ["IZ401"]
    r = requests.post(url, json=consent(), headers={"Authorization": "Basic abc"})
    assert r.status_code == 401


def test_another_accounts_brand_is_404(env):
    p = fresh_phone()
    assert env.api.post_consent(consent(p)).status_code == 201
    # the other tenant cannot write to or read acme's brand
    r = env.api_other.post_consent(consent(p), brand=env.acme.brand)
    assert r.status_code == 404
    assert env.api_other.get_consent(p, brand=env.acme.brand).status_code == 404
    assert env.api_other.check({"type": "MESAJ", "recipients": [p]},
                               brand=env.acme.brand).status_code == 404
    # and an unknown brand looks the same
    assert env.api.post_consent(consent(p), brand=999999).status_code == 404
    assert env.api.post_consent(consent(p), brand="abc").status_code == 404


# ---- hostile bodies --------------------------------------------------------

def raw_post(env, body, ctype="application/json", headers=None):
    h = {**env.acme.headers, "Content-Type": ctype, **(headers or {})}
    return requests.post(env.api.url(f"/v1/brands/{env.acme.brand}/consents"), data=body,
                         headers=h, timeout=30)


def test_malformed_truncated_non_utf8_bodies_are_400(env):
    for body in [b"{", b'{"recipient": "0532', b"not json", b"", b'["a"]',
                 b'{"recipient":"\xff\xfe","type":"MESAJ"}',
                 b'{"status":"ONAY","status":"RET"}']:
        r = raw_post(env, body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["errors"][0]["code"] in ("H014", "H085")


def test_wrong_content_type_is_415(env):
    r = raw_post(env, json.dumps(consent()), ctype="text/plain")
    assert r.status_code == 415


def test_oversized_body_is_413(env):
    big = json.dumps(consent(pad="x" * (2 << 20)))
    r = raw_post(env, big)
    assert r.status_code == 413


def test_chunked_body_growing_past_the_limit_is_413(env):
    def gen():
        yield b'{"recipient":"'
        for _ in range(40):
            yield b"9" * 65536
        yield b'"}'
    r = requests.post(env.api.url(f"/v1/brands/{env.acme.brand}/consents"), data=gen(),
                      headers={**env.acme.headers, "Content-Type": "application/json"})
    assert r.status_code == 413


def test_huge_headers_are_413(env):
    r = raw_post(env, json.dumps(consent()), headers={"X-Pad": "a" * 20000})
    assert r.status_code == 413


def test_server_survives_garbage_and_stays_healthy(env):
    host, port = env.server.base.split("//")[1].split(":")
    for junk in [b"\x00\x01\x02garbage\r\n\r\n", b"GET / HTTP/1.1\r\n" + b"A" * 70000,
                 b"POST /v1/brands/700001/consents HTTP/1.1\r\nContent-Length: 10\r\n\r\n{"]:
        s = socket.create_connection((host, int(port)), timeout=5)
        try:
            s.sendall(junk)
            s.shutdown(socket.SHUT_WR)
            s.recv(4096)
        except OSError:
            pass
        finally:
            s.close()
    assert requests.get(env.server.base + "/healthz").json()["status"] == "ok"


def test_unknown_path_404_wrong_method_405(env):
    assert requests.get(env.server.base + "/nope").status_code == 404
    r = requests.delete(env.api.url(f"/v1/brands/{env.acme.brand}/consents"),
                        headers=env.acme.headers)
    assert r.status_code == 405
