#!/usr/bin/python3
"""Conformance of the İYS emulator (`izin iys-sim`) with the official OpenAPI
document, measured through Stoplight Prism's validating proxy.

What it does, all on 127.0.0.1 and within a time limit:
  1. installs Prism with npm into build/prism/ when it is not there yet
     (the only step that needs the network: the npm registry);
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
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from urllib.parse import quote, urlencode

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SPEC = os.path.join(os.path.dirname(ROOT), "shared", "reference", "iys-openapi.json")
PRISM_PKG = "@stoplight/prism-cli@5.14.2"
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
    "invalid_request": "bad_password", "invalid_grant": "bad_refresh",
}


def now_tr(offset=0):
    """Turkey's local time (UTC+3, no DST) as İYS writes it."""
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=3, seconds=offset)
    return t.strftime("%Y-%m-%d %H:%M:%S")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
            self.params.setdefault(p.get("name"), p)
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

class Procs:
    """The processes this script started, stopped by PID only."""

    def __init__(self):
        self.procs = []

    def start(self, argv, log):
        f = open(log, "w")
        p = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.procs.append((p, f))
        return p

    def stop_all(self):
        for p, f in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.kill(p.pid, signal.SIGTERM)
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.kill(p.pid, signal.SIGKILL)
                    p.wait(timeout=10)
                except ProcessLookupError:
                    pass
            f.close()
        self.procs = []


def ensure_prism(prism_dir):
    binp = os.path.join(prism_dir, "node_modules", ".bin", "prism")
    if os.path.exists(binp):
        return binp
    npm = shutil.which("npm")
    if not npm:
        sys.exit("prism-check: npm is missing (apt-get install npm)")
    os.makedirs(prism_dir, exist_ok=True)
    print(f"prism-check: installing {PRISM_PKG} into {prism_dir}", file=sys.stderr)
    r = subprocess.run([npm, "install", "--prefix", prism_dir, "--no-audit", "--no-fund",
                        "--loglevel=error", PRISM_PKG], timeout=600)
    if r.returncode != 0 or not os.path.exists(binp):
        sys.exit("prism-check: npm install failed")
    return binp


def wait_for(pred, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not come up within {timeout} s")


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
            where[name] = ctx.get("via_request_id" if "/via/" in op.path or "otp" in op.path
                                  else "bulk_request_id") or str(uuid.uuid4())
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
    return case


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


def build_case(op, status, code, example, fx, ctx):
    """The request that should produce (status, code), or None."""
    case = base_case(op, fx, ctx)
    if status.startswith("2"):
        if op.id in ("consentDetail", "consentsHistory"):
            existing_consent_for(case, fx)
        if status == "204":
            if "brandCode" in case.path:
                case.path["brandCode"] = fx.p["A"].brand + 1  # a brand with nothing in it
            else:
                return None
        return case
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
        p = fx.p[key]
        case.provider = key
        if "iysCode" in case.path:
            case.path["iysCode"] = p.code
        if "brandCode" in case.path:
            case.path["brandCode"] = p.brand
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


def violations(resp):
    raw = resp.headers.get("sl-violations")
    if not raw:
        return [], []
    try:
        vs = json.loads(raw)
    except ValueError:
        return [{"message": raw}], []
    req = [v for v in vs if (v.get("location") or [""])[0] == "request"]
    res = [v for v in vs if (v.get("location") or [""])[0] != "request"]
    return req, res


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
        prism_bin = None if args.no_prism else ensure_prism(args.prism_dir)
        data = os.path.join(tmp, "sim")
        os.makedirs(data)
        sim_port = free_port()
        argv = [args.bin, "iys-sim", "--listen", f"127.0.0.1:{sim_port}", "--data", data,
                "--rate", "0", "--token-limit", "0", "--status-limit", "0", "--history-limit", "0",
                "--bulk-delay", "0", "--pull-lag", "0", "--min-poll", "0",
                "--push-interval-ms", "200"]
        procs.start(argv, os.path.join(tmp, "sim.log"))
        direct = f"http://127.0.0.1:{sim_port}"

        def sim_up():
            try:
                return requests.get(direct + "/healthz", timeout=1).status_code == 200
            except requests.RequestException:
                return False
        wait_for(sim_up, 30, "the emulator")
        base = direct
        prism_log = os.path.join(tmp, "prism.log")
        if prism_bin:
            pport = free_port()
            procs.start([prism_bin, "proxy", "-h", "127.0.0.1", "-p", str(pport), "--errors",
                         "false", args.spec, direct], prism_log)
            base = f"http://127.0.0.1:{pport}"

            def prism_up():
                try:
                    with open(prism_log, encoding="utf-8", errors="replace") as f:
                        return "Prism is listening" in f.read()
                except OSError:
                    return False
            wait_for(prism_up, 180, "Prism")
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
            if ok and ex is not None and code:
                d = shape_diff(ex, body, code)
                if d:
                    res["shape"] = d
            if req_v:
                res["request_violations"] = [v.get("message") for v in req_v][:5]
            if res_v:
                res["response_violations"] = [f"{'.'.join(map(str, v.get('location', [])))}: "
                                              f"{v.get('message')}" for v in res_v][:5]
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
             for k in ("reproduced", "answered differently", "not attempted")}
    reqv = sum(len(r.get("request_violations", [])) for r in results)
    resv = sum(len(r.get("response_violations", [])) for r in results)
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
            "not_attempted": sum(1 for r in rs if r["result"] == "not attempted"),
            "response_violations": sum(len(r.get("response_violations", [])) for r in rs),
        })
    return {
        "operations": len(ops), "operations_served": len(served),
        "triples": len(results), "reproduced": count["reproduced"],
        "answered_differently": count["answered differently"],
        "not_attempted": count["not attempted"],
        "request_violations": reqv, "response_violations": resv,
        "error_shape_differences": shape,
        "per_operation": per_op, "triples_detail": results,
    }


def print_table(s, verbose):
    print(f"{'operation':<44} {'srv':>3} {'trip':>4} {'ok':>4} {'diff':>4} {'n/a':>4} {'resV':>4}")
    for o in s["per_operation"]:
        print(f"{o['operation'][:44]:<44} {'yes' if o['served'] else 'no':>3} {o['triples']:>4} "
              f"{o['reproduced']:>4} {o['different']:>4} {o['not_attempted']:>4} "
              f"{o['response_violations']:>4}")
    print()
    rows = [("operations served", f"{s['operations_served']} of {s['operations']}"),
            ("triples (operation, status, code)", s["triples"]),
            ("reproduced", s["reproduced"]),
            ("answered differently", s["answered_differently"]),
            ("not attempted", s["not_attempted"]),
            ("Prism request violations", s["request_violations"]),
            ("Prism response violations", s["response_violations"]),
            ("error shape differences (location/index)", s["error_shape_differences"])]
    for k, v in rows:
        print(f"{k:<44} {v}")
    if verbose:
        print()
        for r in s["triples_detail"]:
            if r["result"] == "answered differently" or r.get("shape") or \
                    r.get("response_violations"):
                print(f"{r['operation']} {r['status']} {r['code']}: {r['result']} "
                      f"got {r.get('got_status')} {r.get('got_codes')} {r.get('shape') or ''} "
                      f"{r.get('response_violations') or ''}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "rel", "izin"))
    ap.add_argument("--spec", default=DEFAULT_SPEC)
    ap.add_argument("--prism-dir", default=os.path.join(ROOT, "build", "prism"))
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
