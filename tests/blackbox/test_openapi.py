"""The API document (data/openapi.json, served at /openapi.json) against
the running server.

1. /openapi.json is an OpenAPI 3.1 document, the file in the tree, each
   operation with a unique operationId, a summary, responses and its path
   parameters declared. (That its paths and methods are exactly the
   server's route table is tests/unit/api/test_openapi.c's check, on the
   route table itself; here, every documented operation is exercised below
   and answers as the case expects, so none is missing from the server.)
2. Stoplight Prism (tests/openapi/, pinned) as a validating proxy in front
   of `izin serve` (with the İYS emulator, for retailers): every operation
   is exercised with valid requests and typical bad ones; Prism must report
   no response violation at all, and no request violation for a request
   meant to be valid. Each exchange is also checked for the status it was
   meant to get, so a case cannot pass by testing something else.
3. /metrics counts a request under its route and status class.
"""
import io
import json
import os
import re
import sys
import zipfile

import pytest
import requests

from conftest import fresh_phone, tr_now
from simutil import Provider, start_sim
from test_sync import Module

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import prismproxy  # noqa: E402

DOC = os.path.join(ROOT, "data", "openapi.json")
TOKEN = "gateway-token-for-openapi-test"
PUSH_USER, PUSH_PASSWORD = "iys-push", "push-secret-for-test"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def documented(doc):
    return sorted((m.upper(), p) for p, item in doc["paths"].items() for m in item
                  if m in METHODS)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("openapi")
    sim = start_sim(tmp / "sim")
    p = Provider(sim)
    m = Module(tmp, sim, p, "--gateway-token", TOKEN, "--iys-push-user", PUSH_USER,
               "--iys-push-password", PUSH_PASSWORD, "--allow-private-webhooks")
    yield sim, p, m
    m.srv.stop()
    sim.stop()


def test_the_document_is_openapi_3_1_and_matches_the_route_table(world):
    _, _, m = world
    r = requests.get(m.srv.base + "/openapi.json", timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    doc = r.json()
    with open(DOC, encoding="utf-8") as f:
        assert doc == json.load(f), "the served document is not data/openapi.json"
    assert re.fullmatch(r"3\.1\.\d+", doc["openapi"])
    assert doc["info"]["title"] and doc["info"]["version"]
    assert len(documented(doc)) >= 30
    ids = set()
    for path, item in doc["paths"].items():
        params = set(re.findall(r"{(\w+)}", path))
        for method, op in item.items():
            if method not in METHODS:
                continue
            where = f"{method.upper()} {path}"
            assert op.get("summary") and op.get("operationId"), where
            assert op["operationId"] not in ids, where
            ids.add(op["operationId"])
            assert op.get("responses"), where
            declared = {q["name"] for q in op.get("parameters", []) + item.get("parameters", [])
                        if "$ref" not in q and q["in"] == "path"}
            declared |= {doc["components"]["parameters"][q["$ref"].rsplit("/", 1)[1]]["name"]
                         for q in op.get("parameters", []) + item.get("parameters", [])
                         if "$ref" in q and doc["components"]["parameters"][
                             q["$ref"].rsplit("/", 1)[1]]["in"] == "path"}
            assert declared == params, where
            assert "security" in op or "security" in doc, where


# ------------------------------------------------------------- through Prism --

SCHEMA_BLIND = None  # a bad request the document's schemas cannot tell (bad JSON, a coding)


class Ex:
    """One exchange: the request, the status it must get, and whether the
    request is meant to be valid: True, Prism may report nothing about it;
    False, Prism must report it (the document describes what is wrong);
    SCHEMA_BLIND, the server refuses what no schema can tell."""

    def __init__(self, name, method, path, status, valid=True, **kw):
        self.name, self.method, self.path, self.status, self.valid = \
            name, method, path, status, valid
        self.kw = kw


def xlsx():
    """A one-sheet workbook, as small as a reader accepts."""
    buf = io.BytesIO()
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("xl/workbook.xml",
                   f'<workbook xmlns="{ns}" xmlns:r="http://schemas.openxmlformats.org/'
                   'officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" '
                   'r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels",
                   '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                   'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats'
                   '.org/officeDocument/2006/relationships/worksheet" Target="worksheets/'
                   'sheet1.xml"/></Relationships>')
        cells = ["recipient", "type", "status", "source", "consentDate"]
        row = "".join(f'<c r="{c}1" t="inlineStr"><is><t>{v}</t></is></c>'
                      for c, v in zip("ABCDE", cells))
        z.writestr("xl/worksheets/sheet1.xml",
                   f'<worksheet xmlns="{ns}"><sheetData><row r="1">{row}</row></sheetData>'
                   '</worksheet>')
    return buf.getvalue()


def exchanges(m, p, send):
    """Every operation, valid and bad requests, in an order where later
    ones use what earlier ones made. send(ex) returns the answer."""
    b = f"/v1/brands/{m.brand}"
    auth = {"Authorization": "Bearer " + m.key}
    tok = {"X-Izin-Token": TOKEN}

    def j(name, method, path, status, valid=True, headers=None, **kw):
        return send(Ex(name, method, path, status, valid,
                       headers={**auth, **(headers or {})}, **kw))

    # operations
    send(Ex("healthz", "GET", "/healthz", 200))
    send(Ex("openapi", "GET", "/openapi.json", 200))
    send(Ex("docs", "GET", "/docs", 200))
    send(Ex("metrics", "GET", "/metrics", 200))
    # brand settings
    j("brand_patch", "PATCH", b, 200, json={
        "keywords": ["ACME"], "shortNumber": "4607", "slug": "acme",
        "infoText": "ACME A.Ş. kampanya ve duyurularını SMS ile gönderir."})
    j("brand_patch bad slug", "PATCH", b, 422, False, json={"slug": "A B"})
    j("brand_patch unknown field", "PATCH", b, 422, False, json={"colour": "red"})
    j("brand", "GET", b, 200)
    send(Ex("brand no key", "GET", b, 401, False))
    j("brand bad key", "GET", b, 401, headers={"Authorization": "Bearer " + "0" * 40})
    j("brand unknown", "GET", "/v1/brands/999999", 404)
    # consents
    who, ret_who = fresh_phone(), fresh_phone()
    body = {"recipient": who, "type": "MESAJ", "status": "ONAY", "source": "HS_WEB",
            "consentDate": tr_now(-3600)}
    j("consent_add", "POST", b + "/consents", 201, json=body)
    j("consent_add repeat", "POST", b + "/consents", 200, json=body)
    j("consent_add same status", "POST", b + "/consents", 400,
      json={**body, "consentDate": tr_now(-1800)})
    j("consent_add first RET", "POST", b + "/consents", 201,
      json={**body, "recipient": ret_who, "status": "RET"})
    j("consent_add bad recipient", "POST", b + "/consents", 422,
      json={**body, "recipient": "abc"})
    j("consent_add missing type", "POST", b + "/consents", 422, False,
      json={k: v for k, v in body.items() if k != "type"})
    j("consent_add bad JSON", "POST", b + "/consents", 400, SCHEMA_BLIND, data=b"{",
      headers={"Content-Type": "application/json"})
    j("consent_add not an object", "POST", b + "/consents", 400, False, json=[body])
    j("consent_add text/plain", "POST", b + "/consents", 415, False, data=b"x",
      headers={"Content-Type": "text/plain"})
    j("consent_add other brand", "POST", "/v1/brands/999999/consents", 404, json=body)
    j("consent_get", "GET", b + "/consents/" + who, 200, params={"type": "MESAJ"})
    j("consent_get none", "GET", b + "/consents/" + fresh_phone(), 404,
      params={"type": "ARAMA"})
    j("consent_get bad type", "GET", b + "/consents/" + who, 422, False,
      params={"type": "FAX"})
    j("consent_get no type", "GET", b + "/consents/" + who, 422, False)
    # send filter
    j("check", "POST", b + "/check", 200,
      json={"type": "MESAJ", "recipients": [who, ret_who, "05321234567", "abc"]})
    j("check text", "POST", b + "/check", 200, params={"type": "MESAJ"},
      data=f"{who}\n{ret_who}\nabc\n".encode(), headers={"Content-Type": "text/plain"})
    j("check text blocked", "POST", b + "/check", 200, params={"type": "MESAJ", "blocked": "1"},
      data=f"{who}\n{ret_who}\nabc\n".encode(), headers={"Content-Type": "text/plain"})
    j("check no type", "POST", b + "/check", 422, False, json={"recipients": [who]})
    j("check_one", "GET", b + "/check/" + who, 200, params={"type": "MESAJ"})
    j("check_one invalid", "GET", b + "/check/abc", 200, params={"type": "MESAJ"})
    # feeds
    j("changes", "GET", b + "/changes", 200, params={"limit": "10"})
    j("changes bad limit", "GET", b + "/changes", 422, False, params={"limit": "0"})
    j("quarantine", "GET", b + "/iys/quarantine", 200)
    j("reconciliations", "GET", b + "/iys/reconciliations", 200)
    j("reconciliations bad date", "GET", b + "/iys/reconciliations", 422, False,
      params={"date": "yesterday"})
    j("iys_status", "GET", "/v1/iys/status", 200)
    j("account", "GET", "/v1/account", 200)
    send(Ex("account no key", "GET", "/v1/account", 401, False))
    # webhooks (to a closed loopback port: deliveries fail and are retried)
    hook = {"url": "http://127.0.0.1:9/hook", "secret": "0123456789abcdef-secret"}
    j("webhook none", "GET", b + "/webhook", 404)
    j("webhook_put", "PUT", b + "/webhook", 201, json=hook)
    j("webhook_put again", "PUT", b + "/webhook", 200, json=hook)
    j("webhook_put short secret", "PUT", b + "/webhook", 422, False,
      json={**hook, "secret": "short"})
    j("webhook_put ftp", "PUT", b + "/webhook", 422, False, json={**hook, "url": "ftp://x/y"})
    j("webhook_put unknown field", "PUT", b + "/webhook", 422, False, json={**hook, "x": 1})
    j("webhook", "GET", b + "/webhook", 200)
    j("webhook_dead_letters", "GET", b + "/webhook/dead-letters", 200)
    j("webhook_retry unknown", "POST", b + "/webhook/dead-letters/999/retry", 404)
    j("webhook_delete", "DELETE", b + "/webhook", 204)
    j("webhook_delete none", "DELETE", b + "/webhook", 404)
    j("webhook_retry no webhook", "POST", b + "/webhook/dead-letters/999/retry", 404)
    push = f"/v1/iys/push/{p.iys_code}/{p.brand}"
    send(Ex("iys_push", "POST", push, 200, auth=(PUSH_USER, PUSH_PASSWORD),
            json={"list": [{"recipient": fresh_phone(), "recipientType": "BIREYSEL",
                            "type": "MESAJ", "status": "ONAY", "source": "IYS_MOBIL",
                            "consentDate": tr_now(-60), "creationDate": tr_now(-30),
                            "transactionId": "8d5a1c5e9a3b4f2e", "iysCode": p.iys_code,
                            "brandCode": p.brand}]}))
    send(Ex("iys_push no credentials", "POST", push, 401, False, json={"list": []}))
    # SMS out
    sms = {"commercial": True, "from": "ACME", "text": "Yeni sezon ürünlerinde %20 indirim.",
           "to": [who, ret_who, "abc"]}
    j("sms_send no identity", "POST", b + "/sms/send", 422, SCHEMA_BLIND, json=sms)
    j("brand_patch identity", "PATCH", b, 200, json={
        "tradeName": "ACME Ticaret A.Ş.", "mersis": "0123456789012345",
        "contact": "0212 555 00 00"})
    j("sms_send informational", "POST", b + "/sms/send", 202,
      json={**sms, "commercial": False, "text": "Bayramınız kutlu olsun! %20 indirim."})
    s1 = j("sms_send", "POST", b + "/sms/send", 202, json=sms,
           headers={"Idempotency-Key": "openapi-test-1"})
    j("sms_send replayed", "POST", b + "/sms/send", 202, json=sms,
      headers={"Idempotency-Key": "openapi-test-1"})
    j("sms_send no from", "POST", b + "/sms/send", 422, False,
      json={k: v for k, v in sms.items() if k != "from"})
    sid = s1.json()["id"]
    mid = s1.json()["messageIds"][0]
    j("sms_send_get", "GET", f"/v1/sms/sends/{sid}", 200)
    j("sms_send_get unknown", "GET", "/v1/sms/sends/999999", 404)
    send(Ex("sms_dlr", "GET", "/v1/sms/dlr", 200,
            params={"id": mid, "status": "1", "token": TOKEN}))
    send(Ex("sms_dlr bad token", "GET", "/v1/sms/dlr", 401,
            params={"id": mid, "status": "1", "token": "wrong-token-wrong-token"}))
    send(Ex("sms_dlr bad status", "GET", "/v1/sms/dlr", 422, False,
            params={"id": mid, "status": "3", "token": TOKEN}))
    # SMS in
    mo = {"from": fresh_phone(), "to": "4607", "text": "ACME", "id": "mo-1"}
    send(Ex("sms_inbound_kannel", "GET", "/v1/sms/inbound", 200,
            params={**mo, "token": TOKEN}))
    send(Ex("sms_inbound_kannel no token", "GET", "/v1/sms/inbound", 401, False, params=mo))
    send(Ex("sms_inbound", "POST", "/v1/sms/inbound", 200, headers=tok,
            json={**mo, "id": "mo-2", "text": "RET ACME", "receivedAt": tr_now(-5)}))
    send(Ex("sms_inbound bad body", "POST", "/v1/sms/inbound", 400, False, headers=tok,
            json={**mo, "text": 7}))
    send(Ex("sms_inbound_jasmin", "POST", "/v1/sms/inbound/jasmin", 200, headers=tok,
            data={"id": "mo-3", "from": fresh_phone(), "to": "4607", "content": "ACME",
                  "coding": "0"}))
    send(Ex("sms_inbound_jasmin bad coding", "POST", "/v1/sms/inbound/jasmin", 400, SCHEMA_BLIND,
            headers=tok, data={"id": "mo-4", "from": fresh_phone(), "to": "4607",
                               "content": "ACME", "coding": "99"}))
    # voice
    v = j("voice_campaign", "POST", b + "/voice/campaigns", 201,
          json={"name": "Bahar kampanyası", "commercial": True,
                "recipients": [who, ret_who, "abc"]})
    j("voice_campaign no name", "POST", b + "/voice/campaigns", 422, False,
      json={"recipients": [who]})
    cid = v.json()["campaignId"]
    j("voice_numbers", "GET", f"/v1/voice/campaigns/{cid}/numbers", 200)
    j("voice_numbers csv", "GET", f"/v1/voice/campaigns/{cid}/numbers", 200,
      params={"format": "csv"})
    j("voice_numbers bad format", "GET", f"/v1/voice/campaigns/{cid}/numbers", 422, False,
      params={"format": "xml"})
    j("voice_numbers unknown", "GET", "/v1/voice/campaigns/999999/numbers", 404)
    caller = fresh_phone()
    j("consent_add ARAMA", "POST", b + "/consents", 201,
      json={**body, "recipient": caller, "type": "ARAMA"})
    j("voice_optout", "POST", b + "/voice/optout", 201,
      json={"recipient": caller, "callId": "call-20250101-0001"})
    j("voice_optout again", "POST", b + "/voice/optout", 200,
      json={"recipient": caller, "callId": "call-20250101-0002"})
    j("voice_optout no callId", "POST", b + "/voice/optout", 422, False,
      json={"recipient": caller})
    # bulk
    d = tr_now(-3600)
    csv = f"recipient,type,status,source,consentDate\n{fresh_phone()},MESAJ,ONAY,HS_WEB,{d}\n" \
          f"abc,MESAJ,ONAY,HS_WEB,{d}\n"
    up = j("bulk_upload csv", "POST", b + "/consents/bulk", 202, data=csv.encode(),
           headers={"Content-Type": "text/csv"})
    rows = [{"recipient": fresh_phone(), "type": "EPOSTA", "status": "ONAY", "source": "HS_WEB",
             "consentDate": d}]
    j("bulk_upload json", "POST", b + "/consents/bulk", 202, json=rows)
    j("bulk_upload xlsx", "POST", b + "/consents/bulk", 202, data=xlsx(), headers={
        "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"})
    j("bulk_upload empty", "POST", b + "/consents/bulk", 422, False, data=b"",
      headers={"Content-Type": "text/csv"})
    job = up.json()["jobId"]
    for _ in range(100):
        if requests.get(m.srv.base + f"/v1/jobs/{job}", headers=auth,
                        timeout=10).json()["state"] in ("DONE", "FAILED"):
            break
    j("job", "GET", f"/v1/jobs/{job}", 200)
    j("job_errors", "GET", f"/v1/jobs/{job}/errors.csv", 200)
    j("job unknown", "GET", "/v1/jobs/" + "0" * len(job), 404)
    # retailers, at İYS (the emulator)
    j("retailers", "GET", b + "/retailers", 200)
    j("retailers cached", "GET", b + "/retailers", 200, params={"cached": "true"})
    j("retailers bad cached", "GET", b + "/retailers", 422, False, params={"cached": "maybe"})
    rt = j("retailer_add", "POST", b + "/retailers", 201, json={
        "title": "Bayi Ticaret", "name": "Ayşe Yılmaz", "tckn": "10000000146",
        "tin": "1234567890", "cityCode": 34, "townCode": "437"})
    j("retailer_add bad city", "POST", b + "/retailers", 422, json={
        "title": "Bayi Ticaret", "name": "Ayşe Yılmaz", "tckn": "10000000146",
        "tin": "1234567890", "cityCode": 99, "townCode": "1"})
    code = rt.json()["retailerCode"]
    j("retailer_delete", "DELETE", f"{b}/retailers/{code}", 200)
    j("retailer_delete bad code", "DELETE", f"{b}/retailers/x", 404)
    # the consent page
    send(Ex("cpage", "GET", "/c/acme", 200))
    send(Ex("cpage unknown", "GET", "/c/no-such-page", 404))
    send(Ex("cpage_qr", "GET", "/c/acme/qr.svg", 200))
    send(Ex("cpage_otp no csrf", "POST", "/c/acme/otp", 403, False,
            data={"phone": who, "types": "MESAJ", "status": "ONAY"}))
    send(Ex("cpage_verify no csrf", "POST", "/c/acme/verify", 403, False,
            data={"phone": who, "types": "MESAJ", "status": "ONAY", "code": "123456"}))


def test_every_operation_through_prism(world, tmp_path):
    sim, p, m = world
    try:
        binp = prismproxy.ensure_prism()
    except RuntimeError as e:
        pytest.fail(f"Prism is not installed: {e} (scripts/deps.sh --openapi)")
    procs = prismproxy.Procs()
    log = str(tmp_path / "prism.log")
    seen, problems = set(), []
    try:
        base = prismproxy.start_proxy(procs, binp, DOC, m.srv.base, log, timeout=60)

        def send(ex):
            r = requests.request(ex.method, base + ex.path, timeout=30, **ex.kw)
            req, res = prismproxy.violations(r)
            seen.add(ex.name.split(" ")[0])
            if r.status_code != ex.status:
                problems.append(f"{ex.name}: {r.status_code}, not {ex.status}: {r.text[:300]}")
            for v in res:
                problems.append(f"{ex.name}: response violation {v}")
            if ex.valid and req:
                problems.append(f"{ex.name}: request violation {req}")
            if ex.valid is False and not req:
                problems.append(f"{ex.name}: a bad request Prism did not report: the document "
                                "does not describe what the server refuses")
            if os.environ.get("IZIN_OPENAPI_TRACE"):
                print("TRACE", ex.name, r.status_code, "req:", [v.get("message") for v in req],
                      "res:", [v.get("message") for v in res], file=sys.stderr)
            return r
        exchanges(m, p, send)
    finally:
        procs.stop_all()
    assert not problems, "\n".join(problems)
    # every operation was exercised: the names are the route table's tags
    with open(DOC, encoding="utf-8") as f:
        doc = json.load(f)
    ops = {op["operationId"] for item in doc["paths"].values() for k, op in item.items()
           if k in METHODS}
    assert ops - seen == set()


def test_a_request_is_counted_under_its_route(world):
    _, _, m = world

    def series():
        text = requests.get(m.srv.base + "/metrics", timeout=10).text
        out = {}
        for line in text.splitlines():
            if line.startswith("izin_http_"):
                k, val = line.rsplit(" ", 1)
                out[k] = float(val)
        return out
    before = series()
    h = {"Authorization": "Bearer " + m.key}
    assert requests.get(m.srv.base + f"/v1/brands/{m.brand}", headers=h,
                        timeout=10).status_code == 200
    assert requests.get(m.srv.base + "/v1/brands/999999", headers=h,
                        timeout=10).status_code == 404
    assert requests.get(m.srv.base + "/no/such/path", timeout=10).status_code == 404
    after = series()

    def grew(key, by=1):
        return after.get(key, 0) - before.get(key, 0) == by
    assert grew('izin_http_requests_total{route="brand",code="2xx"}')
    assert grew('izin_http_requests_total{route="brand",code="4xx"}')
    assert grew('izin_http_requests_total{route="unmatched",code="4xx"}')
    assert grew('izin_http_request_duration_seconds_count{route="brand"}', 2)
    assert grew('izin_http_request_duration_seconds_bucket{route="brand",le="+Inf"}', 2)
    assert grew('izin_http_request_duration_seconds_count{route="unmatched"}')
    assert after['izin_http_request_duration_seconds_sum{route="brand"}'] > \
        before.get('izin_http_request_duration_seconds_sum{route="brand"}', 0)
    # the metrics request before this one was counted too
    assert after['izin_http_requests_total{route="metrics",code="2xx"}'] >= 1
