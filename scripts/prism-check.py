#!/usr/bin/python3
"""Conformance of the İYS emulator (`izin iys-sim`) with the official OpenAPI
document, measured through Stoplight Prism's validating proxy.

What it does, all on 127.0.0.1 and within a time limit:
  1. installs Prism with `npm ci` into tests/openapi/ (its lock file pins
     it) when it is not there yet (the only step that needs the network:
     the npm registry); scripts/prismproxy.py runs it;
  2. starts the emulator on a free loopback port with a fresh data directory,
     and `prism proxy SPEC http://127.0.0.1:PORT` in front of it;
  3. walks the spec: every operation, every documented response status and
     every H-code its examples show (an error example may carry several).
     Each (operation, status, code) is a "triple"; a status whose examples
     carry no code is one triple with code None;
  4. builds a request for each triple: the spec's request example for a 2xx
     (with fresh recipients, local URLs, real request ids), no or a bad token
     for 401, another provider's or a closed subscription's code for 403, the
     example error's own location and value put into the request for 400/422
     (a field left out when the example gives no value), known scenarios for
     the rules (first RET, same status, older date, quota, 3 business days,
     duplicates, 1001 items ...), the emulator's fault injection for 429 and
     500. A triple none of this can provoke is "not attempted";
  5. sends each through Prism and compares the answer's status and codes;
  6. prints a table (operations served, triples reproduced, answered
     differently, not attempted, Prism's request and response violations)
     and writes the details as JSON (--json FILE).

Processes it starts (the emulator, Prism, a local push receiver thread) are
stopped by PID when it ends, whatever happens. It is not part of `make test`:
`make conformance` runs it.
"""
import argparse
import copy
import datetime
import http.server
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from urllib.parse import quote, urlencode

import requests

from prismproxy import Procs, ensure_prism, free_port, start_proxy, violations, wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SPEC = os.path.join(os.path.dirname(ROOT), "shared", "reference", "iys-openapi.json")
METHODS = ("get", "post", "put", "delete", "patch")
MISSING = object()

# Codes whose example has no location: how to provoke them. Each names a
# scenario that build_case() knows.
SCENARIOS = {
    "H014": "bad_json", "H1016": "bad_json", "H1041": "bad_json", "H1043": "bad_json",
    "H1042": "empty_body",
    "H085": "wrong_body_type", "H092": "wrong_body_type", "H097": "wrong_body_type",
    "H090": "wrong_body_type", "H171": "wrong_body_type", "H172": "wrong_body_type",
    "H173": "wrong_body_type",
    "H351": "no_token", "H1038": "no_token", "H1045": "bad_token", "H251": "bad_token",
    "H353": "other_provider", "H1040": "other_provider",
    "H521": "sub_closed", "H524": "sub_none", "H520": "sub_paused",
    "H001": "unknown_provider", "H018": "unknown_brand",
    "H124": "fault_429", "H015": "fault_500",
    "H174": "same_status", "H175": "first_ret", "H178": "older_date",
    "H462": "tacir_no_date", "H463": "tacir_no_source",
    "H467": "three_days", "H525": "quota", "H091": "too_many", "H194": "duplicate_item",
    "H193": "duplicate_recipient", "H464": "type_mismatch", "H127": "too_many_recipients",
    "H267": "retailer_empty", "H266": "retailer_null",
    "H191": "push_timeout",
    "H586": "no_api", "H437": "no_subscription", "H363": "provider_token",
    "H522": "provider_token",
    "invalid_request": "bad_password", "invalid_grant": "bad_refresh",
}


# Triples where İYS's document contradicts itself and the emulator keeps a
# choice written down in docs/IYS-EMULATOR.md ("Spec contradictions"): an
# answer that differs only so is counted as "spec contradiction", not as a
# difference. Key: (operationId or "*", status, code) -> the reason.
CONTRADICTIONS = {
    ("*", "401", "H251"): "H351 and H251 documented for the same 401 with no rule telling "
                          "them apart; H251 is about login credentials, which these calls do "
                          "not take: the emulator answers H351 (error table)",
    ("addConsent", "400", "H467"): "documented as 400 and as 422; the error table says 422",
    ("addConsentV2", "400", "H467"): "documented as 400 and as 422; the error table says 422",
    ("addRetailers", "422", "H168"): "addRetailers takes one recipient; H168 is about a "
                                     "recipients list it does not have",
    ("addRetailers", "422", "H127"): "addRetailers takes one recipient; H127 is about a "
                                     "recipients list it does not have",
    ("removeRelationBetweenRetailer", "200", None): "documented as 200 and as 202; the "
                                                    "emulator answers 202 as the other "
                                                    "access calls",
    ("integratorList", "422", "H182"): "the example swaps H182 and H183; the emulator "
                                       "follows the error table (H182 offset, H183 limit)",
    ("integratorList", "422", "H183"): "the example swaps H182 and H183; the emulator "
                                       "follows the error table (H182 offset, H183 limit)",
    ("integratorListByiysCode", "422", "H182"): "as integratorList",
    ("integratorListByiysCode", "422", "H183"): "as integratorList",
    ("startViaRequest", "400", "H1041"): "three codes (H1016, H1041, H1043) for a body that "
                                         "is not JSON; the emulator answers H1016",
    ("startViaRequest", "400", "H1043"): "as H1041",
    ("VIA İşlem Tamamlama", "400", "H1041"): "as startViaRequest",
    ("VIA İşlem Tamamlama", "400", "H1043"): "as startViaRequest",
    ("via-hash-links", "422", "H160"): "the call makes e-mail links only (its description); "
                                       "a phone number is H120",
    ("via-hash-links", "422", "H121"): "as H160",
    ("getKVKConsent", "403", "H1040"): "H353 and H1040 documented for the same 403; the "
                                       "emulator answers H353 as the call's other examples",
    ("load-widget-js", "200", None): "the path '...apinoncekey={{apiNonceKey}}_copy' is a "
                                     "copy of load-widget-js with '_copy' glued to the nonce",
}

# Prism's response violations that are the document's own contradictions
# (schema against examples; docs/IYS-EMULATOR.md): (operationId or None,
# regex on "location: message", reason). Counted apart from the others.
CONTRADICTION_VIOLATIONS = [
    (None, r'must match format "date(-time)?"',
     'dates: format date/date-time, written "YYYY-MM-DD HH:MM:SS" in every example (H158)'),
    (None, r"\.errors: Response body property errors must be object",
     "errors: some schemas say object, every example is a list"),
    (None, r"errors\.\d+\.value: .*must be string", "value: given as sent (a list, an object)"),
    (None, r"isAddConsentV2Service must be boolean", 'the v2 status example gives "true"'),
    (None, r'received media type "" does not match', "a 204 the document gives a JSON body"),
    ("PullPerBrandCode", r"^response\.body: Response body must be object", "204: no body"),
    ("agreementDatePut", r"^response\.body: Response body must be object", "204: no body"),
    ("getBrandsDetails", r"Response body must be object", "the example is a list of brands"),
    ("searchRetailers", r"list: .*must be object", "the example's list is a list"),
    ("searchSingleRetailer", r"(city|town)\.code: .*must be integer",
     "the example gives place codes as strings"),
    ("deleteRetailer", r"Response body must be object", 'text/plain "Başarı" in the example'),
    ("get-subscription", r"required property 'subsciprtionId'",
     "the id is spelled three ways; the newest examples say subscriptionId"),
    ("getIntegratorSubscription", r"iysCode: .*must be string", "the example gives a number"),
    ("startViaRequest", r"required property 'consentTypes'",
     "the 200's schema is the request's; the examples give {message: {requestId}, code}"),
    (("get-sps-iysCode-via-clarification-requestId-file", "getClarificationFile"),
     r"application/zip|must be object", "a zip file, as the description says (the example "
     "is JSON)"),
    ("getKVKConsent", r"message: .*must be object", "the example's message is a list"),
    ("getRequestAudit", r"exactly one schema in oneOf",
     "oneOf of two schemas that both fit {errorCode, errorMessage}: the example fails it too"),
    (("smsStart", "emailStart"), r"data: .*must be array", "the example's data is an object"),
]


def contradiction_of(op_id, status, code):
    return CONTRADICTIONS.get((op_id, status, code)) or CONTRADICTIONS.get(("*", status, code))


def violation_contradiction(op_id, text):
    for op, rx, why in CONTRADICTION_VIOLATIONS:
        ops = op if isinstance(op, tuple) else (op,)
        if (op is None or op_id in ops) and re.search(rx, text):
            return why
    return None


def now_tr(offset=0):
    """Turkey's local time (UTC+3, no DST) as İYS writes it."""
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=3, seconds=offset)
    return t.strftime("%Y-%m-%d %H:%M:%S")


def tckn():
    """A valid TCKN (its two check digits computed), random."""
    d = [random.randint(1, 9)] + [random.randint(0, 9) for _ in range(8)]
    d.append(((d[0] + d[2] + d[4] + d[6] + d[8]) * 7 - (d[1] + d[3] + d[5] + d[7])) % 10)
    d.append(sum(d) % 10)
    return "".join(map(str, d))


def codes_in(v):
    """Every error code an example or an answer body carries (İYS's
    `errors[].code`, the OAuth `error`; the spec's typo "code:" too)."""
    out = []

    def walk(o):
        if isinstance(o, dict):
            for k, x in o.items():
                if k.strip(": ") == "code" and isinstance(x, str) and x:
                    out.append(x)
                elif k == "error" and isinstance(x, str) and x:
                    out.append(x)
                else:
                    walk(x)
        elif isinstance(o, list):
            for x in o:
                walk(x)
    walk(v)
    return out


def error_entries(v):
    """The error objects of an example or answer ({"errors": [...]})."""
    if isinstance(v, dict) and isinstance(v.get("errors"), list):
        return [e for e in v["errors"] if isinstance(e, dict)]
    if isinstance(v, dict) and ("code" in v or "error" in v):
        return [v]
    return []


def entry_code(e):
    for k, x in e.items():
        if k.strip(": ") == "code" or k == "error":
            return x
    return None


# ---------------------------------------------------------------- the spec ---

class Op:
    def __init__(self, spec, path, method, op):
        self.spec = spec
        self.path = path
        self.method = method.upper()
        self.op = op
        self.id = op.get("operationId") or f"{self.method} {path}"
        self.key = f"{self.method} {path}"  # operationIds repeat in the spec
        self.params = {}
        for p in op.get("parameters", []):
            p = self.deref(p)
            # the confirmation documents iysCode twice (query and path): the
            # path's is the one the URL needs
            if p.get("in") == "path" or p.get("name") not in self.params:
                self.params[p.get("name")] = p
        self.body_examples = []
        self.body_schema = None
        self.content_type = None
        rb = op.get("requestBody")
        if rb:
            for ct, c in rb.get("content", {}).items():
                if self.content_type is None or ct == "application/json":
                    if self.content_type == "application/json":
                        continue
                    self.content_type = ct
                    self.body_schema = c.get("schema")
                    self.body_examples = [e.get("value") for e in (c.get("examples") or {}).values()
                                          if isinstance(e, dict) and "value" in e]
                    if "example" in c:
                        self.body_examples.insert(0, c["example"])

    def deref(self, o):
        while isinstance(o, dict) and "$ref" in o:
            node = self.spec
            for part in o["$ref"].lstrip("#/").split("/"):
                node = node[part]
            o = node
        return o

    def in_of(self, name):
        p = self.params.get(name)
        return p.get("in") if p else None

    def is_consent_add(self):
        return self.method == "POST" and re.search(r"/consents(/request)?$", self.path) is not None

    def is_bulk(self):
        return self.path.endswith("/consents/request") and self.method == "POST"

    def needs_auth(self):
        return self.path != "/oauth2/token"


def load_ops(spec):
    ops = []
    for path, item in spec["paths"].items():
        for m, op in item.items():
            if m in METHODS:
                ops.append(Op(spec, path, m, op))
    return ops


def triples_of(ops):
    """[(op, status, code, example)]: one per operation, documented status and
    code; example is the first example body that carries the code."""
    out = []
    for op in ops:
        for status, resp in op.op.get("responses", {}).items():
            resp = op.deref(resp)
            seen = {}
            for ct, c in (resp.get("content") or {}).items():
                exs = [e.get("value") for e in (c.get("examples") or {}).values()
                       if isinstance(e, dict)]
                if "example" in c:
                    exs.append(c["example"])
                for v in exs:
                    if status.startswith("2"):
                        continue
                    for code in codes_in(v):
                        seen.setdefault(code, v)
            if not seen:
                out.append((op, status, None, None))
            for code, ex in seen.items():
                out.append((op, status, code, ex))
    return out


def sample(op, schema, depth=0):
    """A value for a JSON schema: its example, default, first enum value or a
    plain value of its type."""
    schema = op.deref(schema or {})
    if depth > 6:
        return None
    for k in ("example", "default"):
        if k in schema:
            return copy.deepcopy(schema[k])
    if schema.get("enum"):
        return schema["enum"][0]
    for k in ("allOf", "oneOf", "anyOf"):
        if schema.get(k):
            if k == "allOf":
                out = {}
                for s in schema[k]:
                    v = sample(op, s, depth + 1)
                    if isinstance(v, dict):
                        out.update(v)
                return out
            return sample(op, schema[k][0], depth + 1)
    t = schema.get("type")
    if t == "object" or "properties" in schema:
        return {k: sample(op, s, depth + 1) for k, s in (schema.get("properties") or {}).items()}
    if t == "array":
        return [sample(op, schema.get("items"), depth + 1)]
    if t == "integer":
        return 1
    if t == "number":
        return 1.0
    if t == "boolean":
        return True
    if schema.get("format") == "date-time":
        return now_tr(-3600)
    return "ornek"


# ------------------------------------------------------------- processes ---

class PushReceiver:
    """A loopback HTTP server that answers 200 to every POST: the push URL
    the emulator tests when a connection is registered (İYS sends a test
    payload); the spec's example URLs are never called."""

    def __init__(self):
        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(min(n, 1 << 20))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass
        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}/push"
        self.t = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.t.start()

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


# ---------------------------------------------------------------- fixtures ---

class Provider:
    def __init__(self, code, brand, username, password, token=None, refresh=None):
        self.code, self.brand = code, brand
        self.username, self.password = username, password
        self.token, self.refresh = token, refresh


class Fixtures:
    """Providers in every state a triple needs, made through /_sim/."""

    def __init__(self, sim, via):
        self.sim, self.via = sim, via
        self.p = {}
        self.n = 0
        self.serial = 0

    def make(self, key, **extra):
        self.n += 1
        code = 780000 + self.n * 10
        body = {"iysCode": code, "name": f"Uyum {key}", "username": f"uyum{code}",
                "password": f"uyum-{code}-parola",
                "brands": [{"brandCode": code, "name": f"Marka {code}"},
                           {"brandCode": code + 1, "name": f"Boş marka {code}"}]}
        body.update(extra)
        r = requests.post(self.sim + "/_sim/providers", json=body, timeout=10)
        if r.status_code != 201:
            raise RuntimeError(f"/_sim/providers: {r.status_code} {r.text}")
        p = Provider(code, code, body["username"], body["password"])
        r = requests.post(self.sim + "/oauth2/token", timeout=10,
                          json={"username": p.username, "password": p.password,
                                "grant_type": "password"})
        if r.status_code == 200:
            p.token = r.json().get("access_token")
            p.refresh = r.json().get("refresh_token")
        self.p[key] = p
        return p

    def patch(self, key, **fields):
        requests.patch(f"{self.sim}/_sim/providers/{self.p[key].code}", json=fields, timeout=10)

    def recipient(self, type_="EPOSTA"):
        self.serial += 1
        if type_ == "EPOSTA":
            return f"uyum{self.serial}@ornek.com.tr"
        return f"+90532{self.serial:07d}"

    def add(self, key, c):
        """Add a consent directly at the emulator (setup, not measured)."""
        p = self.p[key]
        return requests.post(f"{self.sim}/sps/{p.code}/brands/{p.brand}/consents", json=c,
                             headers={"Authorization": "Bearer " + (p.token or "")}, timeout=10)

    def faults(self, **f):
        requests.put(self.sim + "/_sim/faults", json=f, timeout=10)

    def auth(self, key="A"):
        return {"Authorization": "Bearer " + (self.p[key].token or "")}

    def integrator(self, key, state=None):
        """An integrator (iş ortağı) authorized for every brand of A with
        every right, its own subscription in `state` (None: ACTIVE)."""
        self.n += 1
        code = 790000 + self.n
        body = {"integratorCode": code, "name": f"Uyum İş Ortağı {code}",
                "username": f"uyumio{code}", "password": f"uyumio-{code}-parola"}
        r = requests.post(self.sim + "/_sim/integrators", json=body, timeout=10)
        if r.status_code != 201:
            raise RuntimeError(f"/_sim/integrators: {r.status_code} {r.text}")
        a = self.p["A"]
        requests.post(f"{self.sim}/_sim/integrators/{code}/authorizations", timeout=10,
                      json={"iysCode": a.code, "MESAJ": "write", "ARAMA": "write",
                            "EPOSTA": "write", "agreementControl": True, "viaControl": True})
        p = Provider(code, a.brand, body["username"], body["password"])
        r = requests.post(self.sim + "/oauth2/token", timeout=10,
                          json={"username": p.username, "password": p.password,
                                "grant_type": "password"})
        if r.status_code == 200:
            p.token = r.json().get("access_token")
        if state:
            requests.put(f"{self.sim}/_sim/integrators/{code}/subscription",
                         json={"status": state}, timeout=10)
        self.p[key] = p
        return p

    def retailer(self):
        """A new retailer of A's brand: its code, or None."""
        a = self.p["A"]
        t = tckn()
        body = {"title": "Uyum Bayi", "name": "Adım Soyadım", "tckn": t, "tin": t,
                "city": {"code": "34", "name": "İstanbul"},
                "town": {"code": "01", "name": "Kadıköy"}}
        r = requests.post(f"{self.sim}/sps/{a.code}/brands/{a.brand}/retailers", json=body,
                          headers=self.auth(), timeout=10)
        return r.json().get("retailerCode") if r.status_code == 201 else None

    def sent_codes(self, recipient, rid):
        """{title: code} of the messages İYS "sent" for one process (ViA:
        ETK, KVK; a widget: ALL; OTP management: its one code as "")."""
        r = requests.get(self.sim + "/_sim/otp", params={"recipient": recipient}, timeout=10)
        return {m.get("title", ""): m["code"] for m in r.json().get("messages", [])
                if m.get("requestId") == rid and "code" in m}

    def via_process(self, kvk=True):
        """A started SMS_OTP ViA process of A: (requestId, {title: code})."""
        a = self.p["A"]
        to = self.recipient("MESAJ")
        types = [{"title": "ETK", "brandCodes": [a.brand], "types": ["MESAJ"],
                  "recipientType": "BIREYSEL"}]
        if kvk:
            types.append({"title": "KVK", "types": ["AYDINLATMA_METNI"],
                          "personData": {"name": "Aslı Can", "recipientIdNumber": "11111111110",
                                         "address": "Çankaya Ankara"}})
        r = requests.post(f"{self.sim}/via/sps/{a.code}/consent", headers=self.auth(), timeout=10,
                          json={"formId": "uyum-OTP", "recipient": to,
                                "verificationType": "SMS_OTP", "consentTypes": types})
        rid = r.json().get("message", {}).get("requestId") if r.status_code == 200 else None
        return rid, self.sent_codes(to, rid)

    def otp_process(self, channel="sms"):
        """A started OTP management (ViA PASS) verification: (requestId, code)."""
        a = self.p["A"]
        to = self.recipient("MESAJ" if channel == "sms" else "EPOSTA")
        field = "phoneNumber" if channel == "sms" else "email"
        tid = f"uyum-{'SMS' if channel == 'sms' else 'EPOSTA'}-OTP"
        r = requests.post(f"{self.sim}/otp-management/api/v1/{a.code}/{channel}/start",
                          headers=self.auth(), timeout=10,
                          json={field: to, "templateId": tid, "vkn": "1234567890"})
        rid = (r.json().get("data") or {}).get("requestId") if r.status_code == 200 else None
        codes = self.sent_codes(to, rid)
        return rid, next(iter(codes.values()), None)

    def widget_keys(self, w):
        """A nonce (publicKey) and the CSRF token bound to it (load-widget)."""
        key = requests.get(f"{self.sim}/widget/publicKey/{w}", timeout=10).json()
        nonce = key["message"][0].split("|")[0]
        loaded = requests.get(f"{self.sim}/widget/load-widget/{w}", params={"apinoncekey": nonce},
                              timeout=10).json()
        return nonce, loaded["message"]["csrfToken"]

    def via_setup(self, ctx):
        """ViA and OTP management of A: the subscription with credit, a
        published form of each method, a template of each channel and
        method, a widget, one completed ViA process (ETK and KVK) and one
        completed OTP verification."""
        a = self.p["A"]
        requests.put(f"{self.sim}/_sim/via/subscriptions/{a.code}", timeout=10,
                     json={"credit": 100000, "status": "ACTIVE"})
        for m in ("OTP", "SHORTURL", "APPROVALURL"):
            requests.post(self.sim + "/_sim/via/forms", timeout=10,
                          json={"iysCode": a.code, "formId": f"uyum-{m}", "method": m,
                                "text": "Kişisel verileriniz kampanya bildirimleri için "
                                        "işlenecektir.", "published": True})
        for ch in ("SMS", "EPOSTA"):
            for m in ("OTP", "SHORTURL"):
                requests.post(self.sim + "/_sim/otp/templates", timeout=10,
                              json={"iysCode": a.code, "templateId": f"uyum-{ch}-{m}",
                                    "channel": ch, "method": m})
        # another provider's form (H1062), an unpublished one (H1000), a
        # provider whose ViA credit is used up (H1015)
        self.make("VIA0")
        v0 = self.p["VIA0"]
        requests.put(f"{self.sim}/_sim/via/subscriptions/{v0.code}", timeout=10,
                     json={"credit": 0, "status": "ACTIVE"})
        for iys, fid, pub in ((self.p["B"].code, "uyum-B-OTP", True),
                              (a.code, "uyum-UNPUBLISHED", False),
                              (v0.code, "uyum-VIA0-OTP", True)):
            requests.post(self.sim + "/_sim/via/forms", timeout=10,
                          json={"iysCode": iys, "formId": fid, "method": "OTP",
                                "text": "Kişisel verileriniz işlenecektir.", "published": pub})
        r = requests.post(self.sim + "/_sim/via/widgets", timeout=10,
                          json={"iysCode": a.code, "formId": "uyum-OTP", "brandCodes": [a.brand],
                                "domain": "www.ornek.com.tr"})
        if r.status_code == 201:
            ctx["widget_uuid"] = r.json()["widgetUUID"]
        rid, codes = self.via_process()
        if rid:
            requests.post(f"{self.sim}/via/sps/{a.code}/confirmation", headers=self.auth(),
                          timeout=10, json={"requestId": rid, "verificationType": "SMS_OTP",
                                            "consentTypes": [{"title": t, "otpCode": c}
                                                             for t, c in codes.items()]})
            ctx["via_request_id"] = rid
        rid, code = self.otp_process()
        if rid:
            requests.post(f"{self.sim}/otp-management/api/v1/sms/complete", headers=self.auth(),
                          timeout=10, json={"requestId": rid, "otpCode": code})
            ctx["otp_request_id"] = rid


# ------------------------------------------------------------------ cases ---

class Case:
    def __init__(self, op, fx):
        self.op = op
        self.provider = "A"
        self.token = "provider"  # provider | none | bad
        self.path = {}
        self.query = {}
        self.body = MISSING
        self.raw = None  # bytes sent as is (bad JSON)
        self.pre = []  # callables run before the request
        self.faults = None  # fault injection around the request
        self.repeat_until = None  # resend (at most 3) until this status
        self.direct = False  # Prism answers bad JSON itself: go round it
        self.note = ""


def localize(v, fx):
    """Replace URLs in a request body with the local push receiver."""
    if isinstance(v, dict):
        return {k: localize(x, fx) for k, x in v.items()}
    if isinstance(v, list):
        return [localize(x, fx) for x in v]
    if isinstance(v, str) and re.match(r"https?://", v):
        return fx.push_url
    return v


def fresh_consent(c, fx, keep_retailer=False):
    """A consent object of the spec's example with a recipient no other
    request used and a recent consentDate, without retailer fields (no
    retailers exist)."""
    c = dict(c)
    t = c.get("type") or "EPOSTA"
    if "recipient" in c:
        c["recipient"] = fx.recipient(t)
    if "consentDate" in c:
        c["consentDate"] = now_tr(-3600)
    if not keep_retailer:
        c.pop("retailerCode", None)
        c.pop("retailerAccess", None)
    return c


def base_case(op, fx, ctx):
    case = Case(op, fx)
    p = fx.p["A"]
    tomorrow_less = (datetime.date.today() - datetime.timedelta(days=1)).isoformat()
    for name, prm in op.params.items():
        if prm.get("in") != "path" and not prm.get("required"):
            continue
        where = case.path if prm.get("in") == "path" else case.query
        if name == "iysCode":
            where[name] = p.code
        elif name == "brandCode":
            where[name] = p.brand
        elif name == "requestId":
            kind = "otp_request_id" if "/otp-management/" in op.path else \
                "via_request_id" if "/via/" in op.path else "bulk_request_id"
            where[name] = ctx.get(kind) or str(uuid.uuid4())
        elif name == "recipientType":
            where[name] = "BIREYSEL"
        elif name == "type":
            where[name] = "EPOSTA"
        elif name == "reportDate":
            where[name] = tomorrow_less
        elif name == "retailerCode":
            where[name] = ctx.get("retailer_code") or 12345678
        elif name == "integratorCode":
            where[name] = ctx.get("integrator_code") or p.code
        elif name == "widgetUUID":
            where[name] = ctx.get("widget_uuid") or str(uuid.uuid4())
        elif name == "apiNonceKey":
            where[name] = "nonce"
        elif name == "code":
            where[name] = 34
        else:
            s = op.deref(prm.get("schema") or {})
            where[name] = prm.get("example", sample(op, s))
    if op.id == "PullPerBrandCode":
        case.query["source"] = "HS"  # the provider's own changes (IYS is the default)
    if op.path == "/oauth2/token":
        case.body = {"username": p.username, "password": p.password, "grant_type": "password"}
        case.token = "none"
    elif op.body_examples or op.body_schema:
        body = copy.deepcopy(op.body_examples[0]) if op.body_examples else sample(op, op.body_schema)
        body = localize(body, fx)
        if op.is_consent_add():
            body = [fresh_consent(c, fx) for c in body] if isinstance(body, list) else \
                fresh_consent(body, fx)
        case.body = body
        if "type" in case.path and isinstance(body, dict) and isinstance(body.get("recipients"), list):
            phones = all(isinstance(x, str) and x.startswith("+") for x in body["recipients"])
            case.path["type"] = "MESAJ" if phones else "EPOSTA"
    own_fixtures(case, fx, ctx)
    return case


def with_retailer(v, code):
    """The spec's made-up retailer codes replaced by a real retailer of A."""
    if isinstance(v, list):
        return [with_retailer(x, code) for x in v]
    if isinstance(v, dict):
        return {k: ([code] if k == "retailerAccess" and isinstance(x, list) else
                    with_retailer(x, code)) for k, x in v.items()}
    return v


OTP_START = {"smsStart": ("phoneNumber", "SMS-OTP"), "emailStart": ("email", "EPOSTA-OTP"),
             "smsShortUrlStart": ("phoneNumber", "SMS-SHORTURL"),
             "emailShortUrlStart": ("email", "EPOSTA-SHORTURL")}


def own_fixtures(case, fx, ctx):
    """The names the spec's examples make up (integrator, retailer, ViA
    form, template, widget codes) replaced by the fixtures' own, so that a
    request reaches the rule it is about."""
    op, a = case.op, fx.p["A"]
    if op.path.startswith("/integrator/") and "IG" in fx.p:
        case.provider = "IG"
        case.path["integratorCode"] = fx.p["IG"].code
    if ctx.get("retailer_code") and case.body is not MISSING and not op.is_consent_add():
        case.body = with_retailer(case.body, ctx["retailer_code"])
    b = case.body
    if op.id == "startViaRequest" and isinstance(b, dict):
        v = b.get("verificationType") or "SMS_OTP"
        method = "OTP" if v.endswith("_OTP") else "APPROVALURL" if "APPROVAL" in v else "SHORTURL"
        b["formId"] = f"uyum-{method}"
        b["recipient"] = fx.recipient("MESAJ" if v.startswith("SMS") else "EPOSTA")
        for t in b.get("consentTypes") or []:
            if isinstance(t, dict) and "brandCodes" in t:
                t["brandCodes"] = [a.brand]
    if op.id in OTP_START:
        field, tid = OTP_START[op.id]
        case.body = {field: fx.recipient("MESAJ" if field == "phoneNumber" else "EPOSTA"),
                     "templateId": f"uyum-{tid}", "vkn": "1234567890"}
    if op.id == "getRequestAudit":
        case.body = {"requestId": ctx.get("otp_request_id") or str(uuid.uuid4())}
    if op.id == "load-widget-js" and ctx.get("widget_uuid"):
        def nonce(case=case):
            case.path["apiNonceKey"] = fx.widget_keys(ctx["widget_uuid"])[0]
        case.pre.append(nonce)


def fill_success(case, fx, ctx):
    """Before a 2xx request: the live state it needs (a process to confirm
    with its codes, a widget's nonce and CSRF token, a day's file, a
    retailer to delete). Only for 2xx: an error's request keeps what the
    example put into it."""
    op, a, b = case.op, fx.p["A"], case.body
    if op.id == "VIA İşlem Tamamlama":
        def confirm():
            rid, codes = fx.via_process(kvk=False)
            case.body = {"requestId": rid, "verificationType": "SMS_OTP",
                         "consentTypes": [{"title": t, "otpCode": c} for t, c in codes.items()]}
        case.pre.append(confirm)
    elif op.id in ("smsComplete", "emailComplete"):
        def complete():
            rid, code = fx.otp_process("sms" if op.id == "smsComplete" else "email")
            case.body = {"requestId": rid, "otpCode": code}
        case.pre.append(complete)
    elif op.id in ("start-widget-process", "complete-widget-process") and ctx.get("widget_uuid"):
        w = ctx["widget_uuid"]

        def widget():
            nonce, csrf = fx.widget_keys(w)
            to = fx.recipient("MESAJ")
            start = {"etkTypes": ["MESAJ"], "kvkTypes": ["AYDINLATMA_METNI"], "recipient": to,
                     "verificationType": "SMS_OTP", "recipientType": "BIREYSEL",
                     "cookieKey": "uyum-kurabiye", "csrfToken": csrf, "widgetUUID": w,
                     "nonceKey": nonce, "citizenName": "Zeliha Bektaş"}
            if op.id == "start-widget-process":
                case.body = start
                return
            r = requests.post(f"{fx.sim}/widget/process/start/{w}", json=start, timeout=10)
            rid = r.json().get("message", {}).get("requestId")
            case.body = {"requestId": rid, "otpCode": fx.sent_codes(to, rid).get("ALL"),
                         "verificationType": "SMS_OTP", "cookieKey": "uyum-kurabiye",
                         "csrfToken": csrf, "nonceKey": nonce, "consentType": "ETK_KVK"}
        case.pre.append(widget)
    elif op.id == "getClarificationFile":
        case.path["requestId"] = ctx.get("otp_request_id") or case.path.get("requestId")
    elif "reportDate" in case.path and case.path.get("brandCode") == a.brand and \
            op.id != "changeSummary":
        # today's file of A's brand (its changes so far), written at once
        today = now_tr()[:10]
        case.path["reportDate"] = today
        case.pre.append(lambda: requests.post(fx.sim + "/_sim/end-of-day", json={"date": today},
                                              timeout=30))
    elif op.id == "createRetailer" and isinstance(b, dict):
        # a MERSİS number has 16 digits (H228); the example's has 11 (listed
        # in docs/IYS-EMULATOR.md); tckn and tin unique and valid
        t = tckn()
        b.update(mersis="0" + "".join(random.choice("0123456789") for _ in range(15)),
                 tckn=t, tin=t)
    elif op.id == "addRetailers":
        existing_consent_for(case, fx)  # access is added to a recorded consent
    elif op.id == "deleteRetailer":
        def fresh_retailer():
            case.path["retailerCode"] = fx.retailer()
        case.pre.append(fresh_retailer)


def existing_consent_for(case, fx, key="A"):
    """Before the request: the consent its body names exists (status and
    history queries answer 200 for a known key)."""
    b = case.body
    if not isinstance(b, dict) or "recipient" not in b:
        return
    t = b.get("type") or "EPOSTA"
    b["recipient"] = fx.recipient(t)
    c = {"recipient": b["recipient"], "type": t, "recipientType": b.get("recipientType", "BIREYSEL"),
         "status": "ONAY", "source": "HS_WEB", "consentDate": now_tr(-7200)}
    case.pre.append(lambda: fx.add(key, c))


def set_at(body, loc, value, index):
    """Put value (MISSING: remove) at location loc (a list of keys and list
    indexes) of body; for a list body, in its item `index`."""
    target = body
    if isinstance(target, list):
        i = index or 0
        while len(target) <= i:
            target.append(copy.deepcopy(target[0]) if target else {})
        target = target[i]
    for k in loc[:-1]:
        if isinstance(k, int):
            if not isinstance(target, list):
                return False
            while len(target) <= k:
                target.append(copy.deepcopy(target[0]) if target else None)
            if not isinstance(target[k], (dict, list)):
                target[k] = {}
            target = target[k]
        else:
            if not isinstance(target, dict):
                return False
            if not isinstance(target.get(k), (dict, list)):
                target[k] = {}
            target = target[k]
    last = loc[-1]
    if isinstance(last, int):
        if not isinstance(target, list):
            return False
        while len(target) <= last:
            target.append(copy.deepcopy(target[0]) if target else None)
        if value is MISSING:
            del target[last]
        else:
            target[last] = value
        return True
    if not isinstance(target, dict):
        return False
    if value is MISSING:
        target.pop(last, None)
    else:
        target[last] = value
    return True


def expand(value):
    """The spec shortens long lists as [0, 1, ..., "..."] or
    ["x", "....."]: make them longer than any limit (3001 items)."""
    if isinstance(value, list) and value and isinstance(value[-1], str) and set(value[-1]) == {"."}:
        first = value[0]
        if isinstance(first, int):
            return list(range(10000000, 10000000 + 3001))
        return [f"uzun{i}@ornek.com.tr" for i in range(3001)]
    return value


# What a code implies beyond its example's location and value: the type a
# recipient is judged for (an e-mail error needs EPOSTA, a phone error MESAJ)
# and the source a date or status rule is about.
IMPLIED = {"H120": {"type": "EPOSTA"}, "H121": {"type": "MESAJ"}, "H160": {"type": "MESAJ"},
           "H166": {"type": "MESAJ"}, "H155": {"source": "HS_2015"},
           "H408": {"source": "HS_KARAR"}}


def implied_fields(case, code, index):
    """Set the fields IMPLIED by code in the object the error is about; a
    field removed from a consent item makes it BIREYSEL (a TACIR record may
    leave source and consentDate out)."""
    b = case.body
    target = b[index or 0] if isinstance(b, list) and b else b
    if not isinstance(target, dict):
        return
    for k, v in IMPLIED.get(code, {}).items():
        if k in target or (k == "source" and case.op.is_consent_add()):
            target[k] = v
        elif k == "type" and "type" in case.path:
            case.path["type"] = v


def apply_location(case, entry):
    """Build the request an error example describes from its location and
    value. False when the example has no usable location."""
    loc = entry.get("location")
    if not isinstance(loc, list) or not loc:
        return False
    value = expand(entry["value"]) if "value" in entry else MISSING
    name = loc[0]
    where = case.op.in_of(name) if isinstance(name, str) else None
    if where == "query":
        if value is MISSING:
            case.query.pop(name, None)
        else:
            case.query[name] = value
        return True
    if where == "path":
        case.path[name] = value if value is not MISSING else ""
        return True
    if case.body is MISSING and case.op.method == "GET" and isinstance(name, str):
        # a GET has no body: the example's location is a query argument the
        # operation does not list (integratorListByiysCode's offset, limit)
        if value is not MISSING:
            case.query[name] = value
        return True
    if case.body is MISSING or case.body is None:
        return False
    implied_fields(case, entry_code(entry), entry.get("index"))
    if value is MISSING and case.op.is_consent_add():
        b = case.body
        t = b[entry.get("index") or 0] if isinstance(b, list) and b else b
        if isinstance(t, dict) and "recipientType" in t:
            t["recipientType"] = "BIREYSEL"
    if isinstance(name, str) and isinstance(case.body, dict) and name not in case.body:
        # a field of the objects in the body's one list (push connections)
        lists = [v for v in case.body.values()
                 if isinstance(v, list) and v and isinstance(v[0], dict)]
        if len(lists) == 1 and name in lists[0][0]:
            return set_at(lists[0][0], loc, value, None)
    if name == "recipient" and isinstance(case.body, dict) and "recipient" not in case.body \
            and isinstance(case.body.get("recipients"), list):
        # a list query reports the item under "recipient"
        case.body["recipients"] = [value if value is not MISSING else None]
        return True
    return set_at(case.body, loc, value, entry.get("index"))


# createRetailer's codes: the example body made valid, then one field
# broken the way the code's rule says (docs/IYS-EMULATOR.md, Retailers).
RETAILER_FIELDS = {
    "H214": {"title": ""}, "H016": {"title": 12}, "H017": {"title": "x" * 256},
    "H229": {"title": "XYZ <Ticaret>"}, "H215": {"name": ""}, "H216": {"tckn": None},
    "H226": {"tckn": "1234567890"}, "H225": {"tckn": "12345678901"},
    "H227": {"mersis": "12345678901234ab"}, "H228": {"mersis": "56518556720"},
    "H224": {"mobile": "05325001111"}, "H288": {"tin": None}, "H243": {"tin": "84505254x0"},
    "H244": {"tin": "845052547"}, "H217": {"city": None}, "H218": {"city": {"name": "İstanbul"}},
    "H219": {"city": {"code": "34"}}, "H220": {"town": None},
    "H221": {"town": {"name": "Kadıköy", "code": ""}}, "H222": {"town": {"code": "01"}},
    "H201": {"status": "deleted"},
}


def valid_retailer(body):
    t = tckn()
    b = dict(body, mersis="0" + "".join(random.choice("0123456789") for _ in range(15)),
             tckn=t, tin=t)
    return b


def retailer_case(case, code, fx):
    if not isinstance(case.body, dict):
        return None
    b = valid_retailer(case.body)
    if code in RETAILER_FIELDS:
        for k, v in RETAILER_FIELDS[code].items():
            if v is None:
                b.pop(k, None)
            else:
                b[k] = v
    elif code in ("H230", "H231", "H253"):
        # a second retailer with the first one's mersis (H230) or tckn (H231);
        # H253: the holder of the tckn is passive
        a = fx.p["A"]
        first = valid_retailer(case.body)
        if code == "H253":
            first["status"] = "passive"
        case.pre.append(lambda: requests.post(
            f"{fx.sim}/sps/{a.code}/brands/{a.brand}/retailers", json=first,
            headers=fx.auth(), timeout=10))
        if code == "H230":
            b["mersis"] = first["mersis"]
        else:
            b["tckn"] = first["tckn"]
    else:
        return None
    case.body = b
    return case


def via_start_case(case, code, fx):
    """startViaRequest's codes (its examples carry no location): the
    fixture's valid request with the one thing the code's rule is about."""
    b = case.body
    if not isinstance(b, dict) or not b.get("consentTypes"):
        return None
    b.update(formId="uyum-OTP", verificationType="SMS_OTP", recipient=fx.recipient("MESAJ"))
    ct = b["consentTypes"][0]
    ct.update(types=["MESAJ"])
    mail = dict(formId="uyum-OTP", verificationType="EPOSTA_OTP", recipient=fx.recipient())
    edits = {
        "H1062": lambda: b.update(formId="uyum-B-OTP"),
        "H1000": lambda: b.update(formId="uyum-UNPUBLISHED"),
        "H1065": lambda: b.update(verificationType="SMS_SHORTURL"),
        "H1013": lambda: ct.update(title="XYZ"),
        "H1026": lambda: b.update(recipient="05321234567"),
        "H1027": lambda: (b.update(mail, recipient="adres"), ct.update(types=["EPOSTA"])),
        "H1012": lambda: b.update(verificationType="SMS_XYZ"),
        "H1014": lambda: ct.update(brandCodes=[fx.p["B"].brand]),
        "H1005": lambda: ct.pop("brandCodes", None),
        "H1057": lambda: b.update(formId=None),
        "H1025": lambda: b.update(fazlaAlan=1),
        "H1029": lambda: ct.update(brandCodes="abc"),
        "H1063": lambda: ct.update(recipientType="XYZ"),
        "H1066": lambda: (b.update(mail), ct.update(types=["EPOSTA", "MESAJ"])),
        "H1085": lambda: ct.update(types=["FAKS"]),
        "H1086": lambda: ct.update(types=["EPOSTA"]),
        "H1060": lambda: b.update(consentTypes=[ct, dict(ct)]),
        "H1061": lambda: ct.update(types=["MESAJ", "MESAJ"]),
    }
    if code == "H1015" and "VIA0" in fx.p:
        p = fx.p["VIA0"]
        case.provider = "VIA0"
        case.path["iysCode"] = p.code
        b["formId"] = "uyum-VIA0-OTP"
        ct["brandCodes"] = [p.brand]
        return case
    if code not in edits:
        return None
    edits[code]()
    return case


def via_confirm_case(case, code, fx):
    """The confirmation's codes about a live process: one is started before
    the request and the body built from its codes, then broken."""
    if code == "H1030":
        case.body = {"requestId": str(uuid.uuid4()), "verificationType": "SMS_OTP",
                     "consentTypes": [{"title": "ETK", "otpCode": "123456"}]}
        return case
    edits = {
        "H1052": lambda b, c: b["consentTypes"][0].update(otpCode=wrong(c)),
        "H1012": lambda b, c: b.update(verificationType="SMS_XYZ"),
        "H1064": lambda b, c: b.update(verificationType="EPOSTA_OTP"),
        "H1057": lambda b, c: b.update(requestId=None),
        "H1025": lambda b, c: b.update(fazlaAlan=1),
        "H1060": lambda b, c: b.update(consentTypes=b["consentTypes"] * 2),
        "H1005": lambda b, c: b["consentTypes"][0].pop("title"),
    }
    if code not in edits and code not in ("H1032", "H1050"):
        return None
    url = f"{fx.sim}/via/sps/{fx.p['A'].code}/confirmation"

    def live():
        rid, codes = fx.via_process(kvk=False)
        c = codes.get("ETK")
        body = {"requestId": rid, "verificationType": "SMS_OTP",
                "consentTypes": [{"title": "ETK", "otpCode": c}]}
        if code == "H1032":  # completed already
            requests.post(url, json=body, headers=fx.auth(), timeout=10)
        elif code == "H1050":  # three wrong codes end the process
            bad = copy.deepcopy(body)
            bad["consentTypes"][0]["otpCode"] = wrong(c)
            for _ in range(3):
                requests.post(url, json=bad, headers=fx.auth(), timeout=10)
        else:
            edits[code](body, c)
        case.body = body
    case.pre.append(live)
    return case


def wrong(code):
    return "%06d" % ((int(code or 0) + 1) % 1000000)


def special_case(case, status, code, fx, ctx):
    """Cases built per operation for codes whose examples have no location.
    None when the operation has none for the code."""
    op = case.op
    if op.id == "createRetailer":
        return retailer_case(case, code, fx)
    if op.id == "startViaRequest":
        return via_start_case(case, code, fx)
    if op.id == "VIA İşlem Tamamlama":
        return via_confirm_case(case, code, fx)
    if code == "H1030" and "requestId" in case.path:
        case.path["requestId"] = str(uuid.uuid4())
        return case
    if op.id == "searchKVKConsent" and isinstance(case.body, dict):
        bodies = {"H1057": {"recipient": "+905321234567"},
                  "H1026": {"type": "ACIK_RIZA_METNI", "recipient": "05321"},
                  "H1027": {"type": "ACIK_RIZA_METNI", "recipient": "a@b"}}
        if code in bodies:
            case.body = bodies[code]
            return case
    if "/otp-management/" in op.path:
        if code == "H1107" and isinstance(case.body, dict):
            case.body["templateId"] = "uyum-yok"
            return case
        if status == "403" and code is None and "iysCode" in case.path:
            case.path["iysCode"] = fx.p["B"].code
            return case
        if status == "404" and code is None and isinstance(case.body, dict):
            case.body = {"requestId": str(uuid.uuid4()), "otpCode": "123456"}
            return case
        if status == "400" and code is None and op.id == "getRequestAudit":
            case.body = {}
            return case
    return None


def build_case(op, status, code, example, fx, ctx):
    """The request that should produce (status, code), or None."""
    case = base_case(op, fx, ctx)
    if status.startswith("2"):
        if op.id in ("consentDetail", "consentsHistory"):
            existing_consent_for(case, fx)
        if status != "204":
            fill_success(case, fx, ctx)
        if status == "204":
            if "brandCode" in case.path:
                case.path["brandCode"] = fx.p["A"].brand + 1  # a brand with nothing in it
            elif "code" in case.path:
                case.path["code"] = 999  # no city or town has it
            else:
                return None
        return case
    special = special_case(case, status, code, fx, ctx)
    if special is not None:
        return special
    if code is None:
        if status == "401":
            case.token = "none"
            return case
        if status == "500":
            case.faults = {"errorRate": 1.0}
            case.repeat_until = 500
            return case
        return None
    entry = next((e for e in error_entries(example) if entry_code(e) == code), {})
    scen = SCENARIOS.get(code)
    if scen is None and apply_location(case, entry):
        return case
    fresh = fx.recipient
    if scen in ("bad_json",):
        if not op.content_type:
            return None
        case.raw = b'{"recipient": '
        case.direct = True
        return case
    if scen == "empty_body":
        case.raw = b""
        case.direct = True
        return case
    if scen == "wrong_body_type":
        if case.body is MISSING:
            return None
        case.body = {"x": 1} if isinstance(case.body, list) else ["x"]
        return case
    if scen == "no_token":
        case.token = "none"
        return case
    if scen == "bad_token":
        case.token = "bad"
        return case
    if scen == "other_provider":
        if "iysCode" not in case.path:
            return None
        case.path["iysCode"] = fx.p["B"].code
        if "brandCode" in case.path:
            case.path["brandCode"] = fx.p["B"].brand
        return case
    if scen in ("sub_closed", "sub_none", "sub_paused"):
        key = {"sub_closed": "CLOSED", "sub_none": "NONE", "sub_paused": "PAUSED"}[scen]
        if op.path.startswith("/integrator/") and "IG_" + key in fx.p:
            # the integrator's own subscription in that state
            case.provider = "IG_" + key
            case.path["integratorCode"] = fx.p[case.provider].code
            return case
        p = fx.p[key]
        case.provider = key
        if "iysCode" in case.path:
            case.path["iysCode"] = p.code
        if "brandCode" in case.path:
            case.path["brandCode"] = p.brand
        return case
    if scen == "no_api" and "iysCode" in case.path and "NOAPI" in fx.p:
        # a package without API use (the provider's, not an integrator's)
        case.provider = "NOAPI"
        case.path["iysCode"] = fx.p["NOAPI"].code
        if "brandCode" in case.path:
            case.path["brandCode"] = fx.p["NOAPI"].brand
        return case
    if scen == "no_subscription":
        if op.path.startswith("/integrator/"):
            case.provider = "IG_NONE"
            case.path["integratorCode"] = fx.p["IG_NONE"].code
        elif "iysCode" in case.path:
            case.provider = "NONE"
            case.path["iysCode"] = fx.p["NONE"].code
        else:
            return None
        return case
    if scen == "provider_token":
        if not op.path.startswith("/integrator/"):
            return None
        case.provider = "A"
        return case
    if scen == "unknown_provider":
        if "iysCode" not in case.path:
            return None
        case.path["iysCode"] = 999999999
        return case
    if scen == "unknown_brand":
        if "brandCode" not in case.path:
            return None
        case.path["brandCode"] = 999999999
        return case
    if scen == "fault_429":
        case.faults = {"status429Seconds": 30}
        return case
    if scen == "fault_500":
        case.faults = {"errorRate": 1.0}
        case.repeat_until = 500
        return case
    if scen == "bad_password":
        if op.path != "/oauth2/token":
            return None
        case.body["password"] = "yanlis-parola"
        return case
    if scen == "bad_refresh":
        if op.path != "/oauth2/token":
            return None
        case.body = {"grant_type": "refresh_token", "refresh_token": "0" * 64}
        return case
    if not op.is_consent_add():
        if scen == "duplicate_recipient" and isinstance(case.body, dict) and \
                isinstance(case.body.get("recipients"), list):
            r = fresh("MESAJ")
            case.path["type"] = "MESAJ"
            case.body["recipients"] = [r, fresh("MESAJ"), fresh("MESAJ"), r]
            return case
        if scen == "type_mismatch" and isinstance(case.body, dict) and "recipients" in case.body:
            case.path["type"] = "MESAJ"
            case.body["recipients"] = [fresh("EPOSTA")]
            return case
        if scen == "too_many_recipients" and isinstance(case.body, dict):
            case.body["recipients"] = [fresh("EPOSTA") for _ in range(1001)]
            return case
        if scen == "push_timeout" and op.id.startswith("push") and isinstance(case.body, dict):
            return None  # a receiver that never answers: not provoked here
        if apply_location(case, entry):
            return case
        return None
    # consent add (single, v2, bulk, bulk v2)
    bulk = op.is_bulk()
    item = case.body[0] if bulk else case.body
    items = case.body if bulk else [case.body]
    if scen == "first_ret":
        item["status"] = "RET"
        return case
    if scen in ("same_status", "older_date", "tacir_no_date", "tacir_no_source"):
        if scen.startswith("tacir"):
            item["recipientType"] = "TACIR"
        first = dict(item, consentDate=now_tr(-7200))
        case.pre.append(lambda first=first: fx.add("A", first))
        if scen == "same_status":
            item["consentDate"] = now_tr(-3600)
        elif scen == "older_date":
            item["status"] = "RET"
            item["consentDate"] = now_tr(-9000)
        else:
            item["status"] = "RET"
            item.pop("consentDate" if scen == "tacir_no_date" else "source", None)
        return case
    if scen == "three_days":
        case.provider = "ACTIVATED"
        case.path["iysCode"] = fx.p["ACTIVATED"].code
        case.path["brandCode"] = fx.p["ACTIVATED"].brand
        item["consentDate"] = entry.get("value") or "2020-01-13 13:35:13"
        return case
    if scen == "quota":
        case.provider = "QUOTA"
        case.path["iysCode"] = fx.p["QUOTA"].code
        case.path["brandCode"] = fx.p["QUOTA"].brand
        return case
    if scen == "too_many":
        if not bulk:
            return None
        case.body = [fresh_consent(items[0], fx) for _ in range(1001)]
        return case
    if scen == "duplicate_item":
        if not bulk:
            return None
        case.body = [items[0], dict(items[0])]
        return case
    if scen == "retailer_empty":
        item["retailerCode"] = ""
        return case
    if scen == "retailer_null":
        item["retailerCode"] = None
        return case
    if apply_location(case, entry):
        return case
    return None


# ---------------------------------------------------------------- running ---

def url_of(base, case):
    path = case.op.path
    for k, v in case.path.items():
        s = quote(str(v), safe="")
        path = path.replace("{{" + k + "}}", s).replace("{" + k + "}", s)
    q = urlencode({k: v for k, v in case.query.items()})
    if q:
        path += ("&" if "?" in path else "?") + q
    return base + path


def send(base, case, fx):
    headers = {}
    p = fx.p.get(case.provider) or fx.p["A"]
    if case.op.needs_auth() and case.token == "provider":
        headers["Authorization"] = "Bearer " + (p.token or "")
    elif case.token == "bad":
        headers["Authorization"] = "Bearer " + "0" * 40
    data = None
    if case.raw is not None:
        data = case.raw
        headers["Content-Type"] = "application/json"
    elif case.body is not MISSING:
        data = json.dumps(case.body, ensure_ascii=False).encode()
        headers["Content-Type"] = "application/json"
    return requests.request(case.op.method, url_of(base, case), data=data, headers=headers,
                            timeout=60)


def router_miss(status, body):
    """The emulator's router has no such path (IZ404 "Kayıt bulunamadı.") or
    no such method on it (IZ405): the operation is not served."""
    errs = error_entries(body)
    if status == 405 and any(entry_code(e) == "IZ405" for e in errs):
        return True
    return status == 404 and any(entry_code(e) == "IZ404" and e.get("message") == "Kayıt bulunamadı."
                                 for e in errs)


def shape_diff(example, body, code):
    """Where the answer's error with `code` differs from the example's:
    its location and index (the fields a client reads)."""
    ex = next((e for e in error_entries(example) if entry_code(e) == code), None)
    got = next((e for e in error_entries(body) if entry_code(e) == code), None)
    if not ex or not got:
        return None
    diffs = []
    for k in ("location", "index"):
        if (k in ex) != (k in got) or (k in ex and ex[k] != got[k]):
            diffs.append(f"{k}: spec {ex.get(k, '-')} got {got.get(k, '-')}")
    return "; ".join(diffs) or None


def setup(fx, direct, ctx):
    fx.make("A")
    fx.make("B")
    fx.make("CLOSED")
    fx.make("NONE")
    fx.make("PAUSED")
    fx.make("QUOTA", quota=1)
    fx.make("ACTIVATED")
    for key, sub in (("CLOSED", "CLOSED"), ("NONE", "NONE"), ("PAUSED", "PAUSED")):
        fx.patch(key, subscription=sub)
    fx.patch("ACTIVATED", activationDate=datetime.date.today().isoformat())
    # the quota is full: one consent of a quota of one
    fx.add("QUOTA", {"recipient": fx.recipient(), "type": "EPOSTA", "status": "ONAY",
                     "source": "HS_WEB", "consentDate": now_tr(-3600)})
    a = fx.p["A"]
    r = requests.post(f"{direct}/sps/{a.code}/brands/{a.brand}/consents/request", timeout=10,
                      headers={"Authorization": "Bearer " + (a.token or "")},
                      json=[{"recipient": fx.recipient(), "type": "EPOSTA", "status": "ONAY",
                             "source": "HS_WEB", "consentDate": now_tr(-3600)}])
    if r.status_code == 202:
        ctx["bulk_request_id"] = r.json().get("requestId")
    fx.make("NOAPI")
    requests.put(f"{direct}/_sim/providers/{fx.p['NOAPI'].code}/subscription", timeout=10,
                 json={"status": "ACTIVE", "apiAccess": False})
    fx.integrator("IG")
    for state in ("CLOSED", "NONE", "PAUSED"):
        fx.integrator("IG_" + state, state)
    ctx["retailer_code"] = fx.retailer()
    fx.via_setup(ctx)


def run(args):
    spec = json.load(open(args.spec, encoding="utf-8"))
    ops = load_ops(spec)
    triples = triples_of(ops)
    if args.only:
        triples = [t for t in triples if re.search(args.only, t[0].id)]
    deadline = time.time() + args.timeout
    procs = Procs()
    tmp = tempfile.mkdtemp(prefix="prism-check-")
    push = None
    results = []
    try:
        prism_bin = None if args.no_prism else ensure_prism()
        data = os.path.join(tmp, "sim")
        os.makedirs(data)
        sim_port = free_port()
        argv = [args.bin, "iys-sim", "--listen", f"127.0.0.1:{sim_port}", "--data", data,
                "--rate", "0", "--token-limit", "0", "--status-limit", "0", "--history-limit", "0",
                "--bulk-delay", "0", "--pull-lag", "0", "--min-poll", "0",
                "--push-interval-ms", "200", "--allow-http-push"]
        procs.start(argv, os.path.join(tmp, "sim.log"))
        direct = f"http://127.0.0.1:{sim_port}"

        def sim_up():
            try:
                return requests.get(direct + "/healthz", timeout=1).status_code == 200
            except requests.RequestException:
                return False
        wait_for(sim_up, 30, "the emulator")
        base = direct
        if prism_bin:
            base = start_proxy(procs, prism_bin, args.spec, direct,
                               os.path.join(tmp, "prism.log"))
        push = PushReceiver()
        fx = Fixtures(direct, base)
        fx.push_url = push.url
        ctx = {}
        setup(fx, direct, ctx)

        cases = []
        for op, status, code, ex in triples:
            try:
                case = build_case(op, status, code, ex, fx, ctx)
            except Exception as e:  # a spec shape the builder does not know
                case = None
                print(f"prism-check: {op.id} {status} {code}: {e}", file=sys.stderr)
            cases.append((op, status, code, ex, case))
        # fault cases last: their windows would spoil the others
        cases.sort(key=lambda c: 1 if (c[4] and c[4].faults) else 0)
        for op, status, code, ex, case in cases:
            res = {"operation": op.id, "method": op.method, "path": op.path, "status": status,
                   "code": code}
            if case is None:
                res["result"] = "not attempted"
                results.append(res)
                continue
            if time.time() > deadline:
                res["result"] = "not attempted"
                res["why"] = "time limit"
                results.append(res)
                continue
            try:
                for f in case.pre:
                    f()
                if case.faults:
                    fx.faults(**case.faults)
                for _ in range(3):
                    r = send(direct if case.direct else base, case, fx)
                    if case.repeat_until is None or r.status_code == case.repeat_until:
                        break
            except requests.RequestException as e:
                res["result"] = "answered differently"
                res["got_status"] = None
                res["why"] = str(e)[:200]
                results.append(res)
                continue
            finally:
                if case.faults:
                    fx.faults()
            try:
                body = r.json()
            except ValueError:
                body = None
            got = codes_in(body) if body is not None else []
            req_v, res_v = violations(r)
            if case.direct:
                res["direct"] = True  # not through Prism: no violations measured
            res["got_status"] = r.status_code
            res["got_codes"] = got[:8]
            res["served"] = not router_miss(r.status_code, body)
            ok = r.status_code == int(status) and (code is None or code in got)
            res["result"] = "reproduced" if ok else "answered differently"
            why = None if ok else contradiction_of(op.id, status, code)
            if why:
                res["result"] = "spec contradiction"
                res["why"] = why
            if ok and ex is not None and code:
                d = shape_diff(ex, body, code)
                if d:
                    res["shape"] = d
            if req_v:
                res["request_violations"] = [v.get("message") for v in req_v][:5]
            texts = [f"{'.'.join(map(str, v.get('location', [])))}: {v.get('message')}"
                     for v in res_v]
            known = [t for t in texts if violation_contradiction(op.id, t)]
            other = [t for t in texts if not violation_contradiction(op.id, t)]
            if other:
                res["response_violations"] = other[:5]
            if known:
                res["response_violations_contradiction"] = known[:5]
            results.append(res)
    finally:
        if push:
            push.stop()
        procs.stop_all()
        if args.keep:
            print(f"prism-check: logs kept in {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return ops, results


def summarize(ops, results):
    by_op = {}
    for r in results:
        by_op.setdefault(r["method"] + " " + r["path"], []).append(r)
    served = [o.key for o in ops if any(x.get("served") for x in by_op.get(o.key, []))]
    count = {k: sum(1 for r in results if r["result"] == k)
             for k in ("reproduced", "answered differently", "not attempted",
                       "spec contradiction")}
    reqv = sum(len(r.get("request_violations", [])) for r in results)
    resv = sum(len(r.get("response_violations", [])) for r in results)
    resc = sum(len(r.get("response_violations_contradiction", [])) for r in results)
    shape = sum(1 for r in results if r.get("shape"))
    per_op = []
    for o in ops:
        rs = by_op.get(o.key, [])
        per_op.append({
            "operation": o.id, "method": o.method, "path": o.path,
            "served": o.key in served,
            "triples": len(rs),
            "reproduced": sum(1 for r in rs if r["result"] == "reproduced"),
            "different": sum(1 for r in rs if r["result"] == "answered differently"),
            "contradiction": sum(1 for r in rs if r["result"] == "spec contradiction"),
            "not_attempted": sum(1 for r in rs if r["result"] == "not attempted"),
            "response_violations": sum(len(r.get("response_violations", [])) for r in rs),
        })
    return {
        "operations": len(ops), "operations_served": len(served),
        "triples": len(results), "reproduced": count["reproduced"],
        "answered_differently": count["answered differently"],
        "not_attempted": count["not attempted"],
        "spec_contradictions": count["spec contradiction"],
        "request_violations": reqv, "response_violations": resv,
        "response_violations_contradiction": resc,
        "error_shape_differences": shape,
        "per_operation": per_op, "triples_detail": results,
    }


def print_table(s, verbose):
    print(f"{'operation':<44} {'srv':>3} {'trip':>4} {'ok':>4} {'diff':>4} {'spec':>4} "
          f"{'n/a':>4} {'resV':>4}")
    for o in s["per_operation"]:
        print(f"{o['operation'][:44]:<44} {'yes' if o['served'] else 'no':>3} {o['triples']:>4} "
              f"{o['reproduced']:>4} {o['different']:>4} {o['contradiction']:>4} "
              f"{o['not_attempted']:>4} {o['response_violations']:>4}")
    print()
    rows = [("operations served", f"{s['operations_served']} of {s['operations']}"),
            ("triples (operation, status, code)", s["triples"]),
            ("reproduced", s["reproduced"]),
            ("answered differently", s["answered_differently"]),
            ("spec contradiction (reason in the script)", s["spec_contradictions"]),
            ("not attempted", s["not_attempted"]),
            ("Prism request violations", s["request_violations"]),
            ("Prism response violations", s["response_violations"]),
            ("  and of the spec's contradictions", s["response_violations_contradiction"]),
            ("error shape differences (location/index)", s["error_shape_differences"])]
    for k, v in rows:
        print(f"{k:<44} {v}")
    if verbose:
        print()
        for r in s["triples_detail"]:
            if r["result"] in ("answered differently", "spec contradiction") or \
                    r.get("shape") or r.get("response_violations"):
                print(f"{r['operation']} {r['status']} {r['code']}: {r['result']} "
                      f"got {r.get('got_status')} {r.get('got_codes')} {r.get('shape') or ''} "
                      f"{r.get('response_violations') or ''}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "rel", "izin"))
    ap.add_argument("--spec", default=DEFAULT_SPEC)
    ap.add_argument("--json", metavar="FILE", help="write the summary and every triple as JSON")
    ap.add_argument("--timeout", type=int, default=900, help="seconds for the whole run")
    ap.add_argument("--only", help="only operations whose operationId matches this regex")
    ap.add_argument("--no-prism", action="store_true",
                    help="talk to the emulator directly (no violations are measured)")
    ap.add_argument("--keep", action="store_true", help="keep the logs' directory")
    ap.add_argument("-v", "--verbose", action="store_true", help="list each differing triple")
    args = ap.parse_args()
    if not os.path.exists(args.bin):
        sys.exit(f"prism-check: {args.bin} is missing (make)")

    # a stop by signal still stops what was started (run()'s finally)
    def stop(sig, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, stop)
    ops, results = run(args)
    s = summarize(ops, results)
    print_table(s, args.verbose)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(s, f, ensure_ascii=False, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
