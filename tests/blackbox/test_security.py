"""Security across the whole server (issue 16, part 5): every route of the
route tables walked with another tenant's key, no key and a bad key; the
gateway's and İYS push's own locks; oversized and malformed requests; and
no secret in clear in the log or the store.

The route tables are read from the sources (src/api/app.c and
src/web/panel.c, `routes[]`), so a route added there without a case here
fails test_every_route_is_covered."""
import base64
import json
import os
import re
import socket
import time

import pytest
import requests

from conftest import Server, izin, make_store, store_dump, wait_for
from test_panel import csrf_of, login

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
GATEWAY_TOKEN = "gw-token-5f3a9c1e7b2d4a60"
PUSH_USER, PUSH_PASSWORD = "iys-push-user", "push-pw-8c1d2e3f4a5b6c7d"
PW = "dogru-parola-123"
ROUTE_RE = re.compile(r'\{"(GET|POST|PUT|PATCH|DELETE)",\s*((?:[A-Z0-9_]+\s*)?"[^"]*"),\s*(\w+),'
                      r'\s*([^,]+?),\s*"(\w+)"\}', re.S)


def route_table(src):
    """(method, pattern, flags, name) of every entry of the routes[] of src."""
    with open(os.path.join(ROOT, src), encoding="utf-8") as f:
        text = f.read()
    table = text[text.index("routes[] = {"):]
    table = table[:table.index("\n};")]
    macros = dict(re.findall(r'#define (\w+) "([^"]*)"', text))

    def path(expr):  # SPS "/consents": a macro's string and a literal, joined
        m = re.fullmatch(r'(?:(\w+)\s*)?"([^"]*)"', expr)
        return (macros[m.group(1)] if m.group(1) else "") + m.group(2)

    out = [(m, path(p), fl, n) for m, p, _, fl, n in ROUTE_RE.findall(table)]
    assert len(out) == table.count("{\""), "a routes[] entry the test cannot read"
    return out


API_ROUTES = route_table("src/api/app.c")
PANEL_ROUTES = route_table("src/web/panel.c")

# Routes without a bearer key, each with why, and the lock it has instead.
PUBLIC = {
    "healthz": "load balancers probe it; says only whether the store answers",
    "metrics": "Prometheus scrapes it; counts only, no account's data (bind it to a private "
               "address)",
    "openapi": "the API's public description",
    "docs": "the API's public description, rendered",
    "cpage": "the citizen's consent page: public by design (CSRF and rate limits)",
    "cpage_qr": "the consent page's address as a QR code",
    "cpage_otp": "the consent page's form (CSRF-protected, tested in test_panel_security)",
    "cpage_verify": "the consent page's form (CSRF-protected, tested in test_panel_security)",
    "iys_push": "İYS pushes changes with HTTP Basic (--iys-push-user/--iys-push-password)",
    "sms_dlr": "Kannel's delivery reports: the gateway token",
    "sms_inbound_kannel": "inbound SMS: the gateway token",
    "sms_inbound": "inbound SMS: the gateway token",
    "sms_inbound_jasmin": "inbound SMS: the gateway token",
}
GATEWAY_ROUTES = {"sms_dlr", "sms_inbound_kannel", "sms_inbound", "sms_inbound_jasmin"}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    data = tmp_path_factory.mktemp("security") / "d"
    acme, other = make_store(data)
    izin("user", "add", "--account", "acme", "--email", "ayse@acme.example",
         "--password-stdin", data=data, input=PW + "\n")
    izin("user", "add", "--account", "other", "--email", "omer@oteki.example",
         "--password-stdin", data=data, input=PW + "\n")
    srv = Server(["serve", "--listen", "127.0.0.1:0", "--data", str(data),
                  "--gateway-token", GATEWAY_TOKEN, "--iys-push-user", PUSH_USER,
                  "--iys-push-password", PUSH_PASSWORD, "--allow-private-webhooks",
                  "--access-log"], data).start()
    w = type("World", (), {})()
    w.srv, w.data, w.acme, w.other = srv, data, acme, other
    w.ids = acme_resources(srv, acme)
    yield w
    srv.stop()


def acme_resources(srv, acme):
    """Make one of each of acme's resources that a path names by id."""
    b, h = srv.base + f"/v1/brands/{acme.brand}", acme.headers
    r = requests.post(b + "/consents", headers=h, timeout=10, json={
        "recipient": "05321234567", "type": "MESAJ", "status": "ONAY", "source": "HS_WEB",
        "consentDate": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() + 3 * 3600 - 60))})
    assert r.status_code == 201, r.text
    r = requests.post(b + "/consents/bulk", headers={**h, "Content-Type": "text/csv"},
                      data="recipient,type,status,source,consentDate\nbozuk,MESAJ,ONAY,HS_WEB,x\n",
                      timeout=10)
    assert r.status_code == 202, r.text
    job = r.json()["jobId"]
    r = requests.post(b + "/sms/send", headers=h, timeout=10,
                      json={"commercial": False, "from": "ACME", "text": "merhaba",
                            "to": ["05321234567"]})
    assert r.status_code == 202, r.text
    send = r.json()["id"]
    r = requests.post(b + "/voice/campaigns", headers=h, timeout=10,
                      json={"name": "gizli kampanya", "commercial": False,
                            "recipients": ["05321234567"]})
    assert r.status_code == 201, r.text
    camp = r.json()["campaignId"]
    r = requests.put(b + "/webhook", headers=h, timeout=10,
                     json={"url": "http://127.0.0.1:9/acme-hook", "secret": "acme-hook-secret-1"})
    assert r.status_code in (200, 201), r.text
    return {"jobId": job, "id": send, "campaignId": camp, "recipient": "05321234567",
            "retailerCode": "1"}


def fill(pattern, values):
    return re.sub(r"{(\w+)}", lambda m: str(values[m.group(1)]), pattern)


def call(srv, method, path, headers=None):
    hdrs = dict(headers or {})
    kw = {}
    if method in ("POST", "PUT", "PATCH"):
        hdrs.setdefault("Content-Type", "application/json")
        kw["data"] = b"{}"
    return requests.request(method, srv.base + path, headers=hdrs, timeout=10,
                            allow_redirects=False, **kw)


def error_code(r):
    assert r.headers.get("Content-Type", "").startswith("application/json"), (r.status_code,
                                                                              r.text)
    errs = r.json()["errors"]
    assert isinstance(errs, list) and errs and errs[0]["message"], r.text
    return errs[0]["code"]


def auth_routes():
    return [rt for rt in API_ROUTES if "IZ_ROUTE_AUTH" in rt[2]]


def test_every_route_is_covered():
    """Each route is either behind the bearer key (walked below) or public
    for a reason written in PUBLIC; a new route must be placed."""
    for method, pattern, flags, name in API_ROUTES:
        assert ("IZ_ROUTE_AUTH" in flags) != (name in PUBLIC), \
            f"{method} {pattern} ({name}): neither behind a key nor listed as public"
    assert set(PUBLIC) <= {rt[3] for rt in API_ROUTES}, "PUBLIC names a route that is gone"
    for method, pattern, _, name in PANEL_ROUTES:
        assert name in PANEL_PUBLIC or pattern.startswith("/panel"), (method, pattern)
    assert len(auth_routes()) >= 25


@pytest.mark.parametrize("route", auth_routes(), ids=lambda rt: rt[3])
def test_no_key_and_a_bad_key_are_401(world, route):
    method, pattern, _, name = route
    path = fill(pattern, {**world.ids, "brandCode": world.acme.brand})
    for headers in ({}, {"Authorization": "Bearer not-a-key-of-anyone"},
                    {"Authorization": "Bearer "}, {"Authorization": "Basic " + world.acme.key},
                    {"Authorization": "Bearer " + world.acme.key + "x"},
                    {"Authorization": "Bearer " + "a" * 300}):
        r = call(world.srv, method, path, headers)
        assert r.status_code == 401, (name, headers, r.status_code, r.text)
        assert error_code(r) == "IZ401"
        assert r.headers.get("WWW-Authenticate") == "Bearer"
        assert "ACME" not in r.text and "05321234567" not in r.text


def others_view(world, method, pattern):
    """What the other tenant gets at pattern filled with acme's brand and
    ids, and at the same pattern filled with ids that exist nowhere."""
    mine = fill(pattern, {**world.ids, "brandCode": world.acme.brand})
    nowhere = fill(pattern, {**{k: "987654321" for k in world.ids}, "recipient": "05321234567",
                             "retailerCode": "1", "brandCode": 987654})
    return (call(world.srv, method, mine, world.other.headers),
            call(world.srv, method, nowhere, world.other.headers))


@pytest.mark.parametrize("route", auth_routes(), ids=lambda rt: rt[3])
def test_another_tenants_key_finds_nothing(world, route):
    """Another account's brand, job, send or campaign answers exactly as one
    that does not exist (404 IZ404), never with its data; the owner's own
    key does reach it (so the 404 is the isolation, not a typo)."""
    method, pattern, _, name = route
    if "{" not in pattern:
        # the key's own account: it must say nothing of acme
        r = call(world.srv, method, pattern, world.other.headers)
        assert r.status_code == 200, (name, r.text)
        assert "acme" not in r.text.lower() and "700001" not in r.text, (name, r.text)
        return
    theirs, nowhere = others_view(world, method, pattern)
    assert theirs.status_code == 404, (name, theirs.status_code, theirs.text)
    assert error_code(theirs) == "IZ404"
    assert theirs.text == nowhere.text, name
    for secret in ("ACME", "05321234567", "+905321234567", "gizli kampanya", "acme-hook"):
        assert secret not in theirs.text, (name, secret)
    own = call(world.srv, method, fill(pattern, {**world.ids, "brandCode": world.acme.brand}),
               world.acme.headers)
    assert own.status_code != 401, (name, own.text)
    if own.status_code == 404:
        # only a thing below the brand that this walk did not make
        assert name in ("retailer_delete", "webhook_retry"), (name, own.text)
        assert own.text != theirs.text, name


@pytest.mark.parametrize("name", sorted(GATEWAY_ROUTES))
def test_gateway_routes_want_the_token(world, name):
    method, pattern, _, _ = next(rt for rt in API_ROUTES if rt[3] == name)
    bad = ("", "?token=", "?token=wrong-token-000000000", "?token=" + GATEWAY_TOKEN[:-1],
           "?token=" + GATEWAY_TOKEN + "0")
    for q in bad:
        r = call(world.srv, method, pattern + q)
        assert r.status_code == 401, (name, q, r.text)
        assert error_code(r) == "IZ401"
        assert GATEWAY_TOKEN not in r.text
    r = call(world.srv, method, pattern, {"X-Izin-Token": "wrong-token-000000000"})
    assert r.status_code == 401
    # the right token passes the lock (what follows is the handler's own check)
    r = call(world.srv, method, pattern + "?token=" + GATEWAY_TOKEN)
    assert r.status_code != 401, (name, r.text)
    r = call(world.srv, method, pattern, {"X-Izin-Token": GATEWAY_TOKEN})
    assert r.status_code != 401, (name, r.text)


def test_iys_push_wants_its_basic_credentials(world):
    path = f"/v1/iys/push/700001/{world.acme.brand}"

    def basic(u, p):
        return {"Authorization": "Basic " + base64.b64encode(f"{u}:{p}".encode()).decode()}

    for h in ({}, basic(PUSH_USER, "wrong"), basic("x", PUSH_PASSWORD),
              basic(PUSH_USER, PUSH_PASSWORD + "x"), {"Authorization": "Basic !!!!"},
              {"Authorization": "Bearer " + world.acme.key}):
        r = call(world.srv, "POST", path, h)
        assert r.status_code == 401, (h, r.text)
        assert error_code(r) == "IZ401"
    r = call(world.srv, "POST", path, basic(PUSH_USER, PUSH_PASSWORD))
    assert r.status_code == 422, r.text  # {} has no list: past the lock


# ------------------------------------------------------------------- panel --

PANEL_PUBLIC = {
    "panel_root": "redirects to /panel",
    "panel_login": "the login form",
    "panel_login_post": "the login itself (CSRF and lockout: test_panel)",
}


@pytest.mark.parametrize("route", [rt for rt in PANEL_ROUTES if rt[3] not in PANEL_PUBLIC],
                         ids=lambda rt: rt[3])
def test_panel_without_a_session_shows_nothing(world, route):
    method, pattern, _, name = route
    path = fill(pattern, {"jobId": world.ids["jobId"], "sendId": world.ids["id"],
                          "campaignId": world.ids["campaignId"], "checkId": "1",
                          "file": "allowed.txt"})
    for cookie in (None, "izin_session=" + "0" * 64):
        h = {"Cookie": cookie} if cookie else {}
        r = call(world.srv, method, path, h)
        if method == "GET":
            assert r.status_code == 303 and r.headers["Location"] == "/panel/login", \
                (name, r.status_code)
        else:
            assert r.status_code in (303, 403), (name, r.status_code)
        assert "ACME" not in r.text and "05321234567" not in r.text, name


def test_panel_pages_of_another_account_are_404(world):
    srv = world.srv
    s, r = login(srv, "omer@oteki.example", PW)
    assert r.status_code == 303
    for path in (f"/panel/bulk/{world.ids['jobId']}",
                 f"/panel/bulk/{world.ids['jobId']}/errors.csv",
                 f"/panel/sms/{world.ids['id']}",
                 f"/panel/voice/{world.ids['campaignId']}",
                 f"/panel/voice/{world.ids['campaignId']}/numbers.csv"):
        r = s.get(srv.base + path, timeout=10, allow_redirects=False)
        assert r.status_code == 404, (path, r.status_code)
        assert "05321234567" not in r.text and "gizli kampanya" not in r.text, path
    for page in [rt[1] for rt in PANEL_ROUTES if rt[0] == "GET" and "{" not in rt[1]
                 and rt[3] not in PANEL_PUBLIC]:
        r = s.get(srv.base + page + f"?brand={world.acme.brand}", timeout=10,
                  allow_redirects=False)
        assert r.status_code == 404, (page, r.status_code)
        assert "ACME" not in r.text, page


# ------------------------------------------------- malformed and oversized --

def raw(srv, request, timeout=10):
    """Send raw bytes on a new connection; (status, headers, body) of the
    answer, status 0 when the server closed without one."""
    host, port = srv.base[len("http://"):].split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        try:
            s.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass
        got = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            got += chunk
    if not got:
        return 0, b"", b""
    head, _, body = got.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), head, body


def post_raw(srv, path, headers, body, key=None):
    lines = [f"POST {path} HTTP/1.1", "Host: x", "Connection: close"]
    if key:
        lines.append("Authorization: Bearer " + key)
    lines += headers
    return raw(srv, ("\r\n".join(lines) + "\r\n\r\n").encode() + body)


def assert_alive(world):
    assert world.srv.proc.poll() is None, "the server died"
    assert requests.get(world.srv.base + "/healthz", timeout=5).status_code == 200


OVERSIZED = [
    ("one 200 KB header", b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 +
     b"\r\nConnection: close\r\n\r\n"),
    ("5000 headers", b"GET /healthz HTTP/1.1\r\nHost: x\r\n" +
     b"".join(b"X-H%d: v\r\n" % i for i in range(5000)) + b"Connection: close\r\n\r\n"),
    ("a 100 KB path", b"GET /v1/brands/" + b"9" * 100_000 +
     b"/consents HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    ("a 100 KB cookie", b"GET /panel HTTP/1.1\r\nHost: x\r\nCookie: s=" + b"c" * 100_000 +
     b"\r\nConnection: close\r\n\r\n"),
]


@pytest.mark.parametrize("what,request_bytes", OVERSIZED, ids=[c[0] for c in OVERSIZED])
def test_oversized_headers_are_refused_with_4xx(world, what, request_bytes):
    status, _, body = raw(world.srv, request_bytes)
    assert 400 <= status < 500, (what, status, body[:200])
    assert_alive(world)


FRAMING = [
    ("Content-Length not a number", ["Content-Length: abc"], b"{}"),
    ("negative Content-Length", ["Content-Length: -1"], b"{}"),
    ("two Content-Lengths that differ", ["Content-Length: 2", "Content-Length: 5"], b"{}"),
    ("Content-Length of 2^64", ["Content-Length: 18446744073709551616"], b"{}"),
    ("chunk size not hex", ["Transfer-Encoding: chunked"], b"zz\r\n{}\r\n0\r\n\r\n"),
    ("chunk size past 2^64", ["Transfer-Encoding: chunked"],
     b"fffffffffffffffffffff\r\n{}\r\n0\r\n\r\n"),
    ("chunk without its CRLF", ["Transfer-Encoding: chunked"], b"2\r\n{}XX0\r\n\r\n"),
    ("unknown transfer coding", ["Transfer-Encoding: gzip, chunked"], b"2\r\n{}\r\n0\r\n\r\n"),
]


@pytest.mark.parametrize("what,headers,body", FRAMING, ids=[c[0] for c in FRAMING])
def test_bad_framing_is_400(world, what, headers, body):
    status, _, answer = post_raw(world.srv, f"/v1/brands/{world.acme.brand}/consents",
                                 ["Content-Type: application/json"] + headers, body,
                                 world.acme.key)
    assert 400 <= status < 500 and status != 404, (what, status, answer[:300])
    assert_alive(world)


def test_a_body_shorter_than_its_length_does_not_hang_a_thread(world):
    # the client announces 1000 bytes, sends 2 and goes away
    host, port = world.srv.base[len("http://"):].split(":")
    for _ in range(20):
        s = socket.create_connection((host, int(port)), timeout=5)
        s.sendall(b"POST /v1/brands/%d/consents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s"
                  b"\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{}"
                  % (world.acme.brand, world.acme.key.encode()))
        s.close()
    t0 = time.monotonic()
    assert_alive(world)
    assert time.monotonic() - t0 < 1


def consent_json(recipient="05321234568"):
    return {"recipient": recipient, "type": "MESAJ", "status": "ONAY", "source": "HS_WEB",
            "consentDate": "2024-01-02 10:00:00"}


MALFORMED = [
    ("invalid UTF-8 in a string", b'{"recipient":"0532\xff\xfe","type":"MESAJ"}', (400,)),
    ("overlong UTF-8", b'{"recipient":"\xc0\xaf05321234568","type":"MESAJ"}', (400,)),
    ("a raw NUL byte", b'{"recipient":"0532\x001234568","type":"MESAJ"}', (400,)),
    ("an escaped NUL", json.dumps({**consent_json(), "source": "HS_WEB\u0000x"}).encode(),
     (400, 422)),
    ("an escaped NUL in the recipient", json.dumps(consent_json("0532123\u00004568")).encode(),
     (400, 422)),
    ("a lone surrogate", b'{"recipient":"\\ud800","type":"MESAJ"}', (400, 422)),
    ("nested 100,000 deep", b"[" * 100_000 + b"]" * 100_000, (400, 422)),
    ("nested objects 50,000 deep", b'{"a":' * 50_000 + b"1" + b"}" * 50_000, (400, 422)),
    ("not JSON", b"recipient=05321234568", (400,)),
    ("a number past 2^64", b'{"recipient":1' + b"0" * 400 + b'}', (400, 422)),
    ("trailing garbage", json.dumps(consent_json()).encode() + b" {}", (400,)),
]


@pytest.mark.parametrize("what,body,statuses", MALFORMED, ids=[c[0] for c in MALFORMED])
def test_malformed_json_gets_a_clear_4xx(world, what, body, statuses):
    r = requests.post(world.srv.base + f"/v1/brands/{world.acme.brand}/consents", data=body,
                      headers={**world.acme.headers, "Content-Type": "application/json"},
                      timeout=10)
    assert r.status_code in statuses, (what, r.status_code, r.text[:300])
    code = error_code(r)
    assert re.fullmatch(r"IZ\d{3}|H\d{3,4}", code), code
    assert_alive(world)


@pytest.mark.parametrize("path", [
    "/v1/brands/700001/consents/%FF%FE?type=MESAJ",
    "/v1/brands/700001/consents/%C0%AF?type=MESAJ",
    "/v1/brands/700001/check/05321234567?type=%FF",
    "/v1/brands/%FF/changes",
    "/v1/jobs/%E2%82",
    "/c/%FF%FE",
    "/panel/bulk/%FF",
])
def test_invalid_utf8_in_the_path_is_refused_not_crashed(world, path):
    r = requests.get(world.srv.base + path, headers=world.acme.headers, timeout=10,
                     allow_redirects=False)
    assert r.status_code in (303, 400, 404, 422), (path, r.status_code, r.text[:300])
    assert r.status_code != 500
    assert_alive(world)


def test_invalid_utf8_and_nul_in_forms_are_refused(world):
    srv = world.srv
    s = requests.Session()
    tok = csrf_of(s.get(srv.base + "/panel/login", timeout=10).text)
    for body in (b"email=a%FF%FE@x&password=x&csrf=" + tok.encode(),
                 b"email=a%00b@x&password=x&csrf=" + tok.encode(),
                 b"email=\xff\xfe&password=x&csrf=" + tok.encode(),
                 b"%ZZ=1&csrf=" + tok.encode()):
        r = s.post(srv.base + "/panel/login", data=body, timeout=10, allow_redirects=False,
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert 400 <= r.status_code < 500, (body, r.status_code)
        assert "\x00" not in r.text
    assert_alive(world)


# ------------------------------------------------------------------ secrets --

def test_no_secret_in_clear_in_the_log_or_the_store(tmp_path):
    """A session that uses every kind of secret izin holds; then no log line,
    no byte of the store (SQLite's files, every page; on PostgreSQL every
    value) and no other file of the data folder has any of them in clear:
    API keys and passwords only hashed, the rest sealed."""
    data = tmp_path / "d"
    acme, other = make_store(data)
    secrets = {
        "iys password": "iys-pw-Q7w8e9r0t1y2",
        "integrator password": "integ-pw-Z1x2c3v4b5n6",
        "gateway token": "gw-tok-A1s2d3f4g5h6j7k8",
        "kannel password": "kannel-pw-L9k8j7h6g5",
        "push password": "push-pw-P0o9i8u7y6t5",
        "webhook secret": "hook-secret-M1n2b3v4c5x6",
        "panel password": "panel-pw-R4e3w2q1a0s9",
        "wrong panel password": "wrong-pw-T5r4e3w2q1z0",
        "acme key": acme.key,
        "other key": other.key,
    }
    izin("account", "add", "--name", "third", "--iys-code", "700009", "--iys-url",
         "http://127.0.0.1:9", "--iys-user", "third-user", "--iys-password",
         secrets["iys password"], data=data)
    izin("account", "add", "--name", "partnered", "--iys-code", "700010",
         "--iys-integrator", "990001", data=data)
    izin("brand", "add", "--account", "third", "--code", "700009", "--name", "Üçüncü",
         data=data)
    third_key = izin("key", "add", "--account", "third", data=data).stdout.strip()
    secrets["third key"] = third_key
    izin("user", "add", "--account", "acme", "--email", "sir@acme.example", "--password-stdin",
         data=data, input=secrets["panel password"] + "\n")
    srv = Server(["serve", "--listen", "127.0.0.1:0", "--data", str(data), "--access-log",
                  "--log-level", "debug",
                  "--gateway-token", secrets["gateway token"],
                  "--iys-push-user", "push", "--iys-push-password", secrets["push password"],
                  "--iys-integrator-user", "integ",
                  "--iys-integrator-password", secrets["integrator password"],
                  "--sms-gateway", "kannel:http://127.0.0.1:9/cgi-bin/sendsms?username=k&password="
                  + secrets["kannel password"],
                  "--allow-private-webhooks"], data).start()
    try:
        b = srv.base
        for t, brand in ((acme, acme.brand), (other, other.brand)):
            r = requests.get(b + f"/v1/brands/{brand}", headers=t.headers, timeout=10)
            assert r.status_code == 200
        # keys in the wrong places: a query, a bad bearer with the key in it
        requests.get(b + f"/v1/account?key={acme.key}", headers=acme.headers, timeout=10)
        requests.get(b + "/v1/account", timeout=10,
                     headers={"Authorization": "Bearer " + acme.key + "-x"})
        r = requests.post(b + "/v1/brands/700009/consents", timeout=10,
                          headers={"Authorization": "Bearer " + third_key},
                          json={"recipient": "05321234567", "type": "MESAJ", "status": "ONAY",
                                "source": "HS_WEB", "consentDate": "2024-01-02 10:00:00"})
        assert r.status_code == 201, r.text  # queued for İYS, which is down: tries and logs
        r = requests.put(b + f"/v1/brands/{acme.brand}/webhook", headers=acme.headers,
                         timeout=10, json={"url": "http://127.0.0.1:9/hook",
                                           "secret": secrets["webhook secret"]})
        assert r.status_code in (200, 201), r.text
        r = requests.post(b + f"/v1/brands/{acme.brand}/consents", headers=acme.headers,
                          timeout=10, json={"recipient": "05321234569", "type": "MESAJ",
                                            "status": "ONAY", "source": "HS_WEB",
                                            "consentDate": "2024-01-02 10:00:00"})
        assert r.status_code == 201, r.text  # for the webhook (down)
        requests.get(b + f"/v1/sms/inbound?from=905321234567&to=ACME&text=x&id=1&token="
                     + secrets["gateway token"], timeout=10)
        requests.get(b + "/v1/sms/dlr?id=1&status=1&token=" + secrets["gateway token"] + "x",
                     timeout=10)
        requests.post(b + "/v1/iys/push/700001/700001", json={"list": []}, timeout=10,
                      headers={"Authorization": "Basic " + base64.b64encode(
                          b"push:" + secrets["push password"].encode()).decode()})
        requests.post(b + f"/v1/brands/{acme.brand}/sms/send", headers=acme.headers, timeout=10,
                      json={"commercial": False, "from": "ACME", "text": "x",
                            "to": ["05321234567"]})
        _, r = login(srv, "sir@acme.example", secrets["wrong panel password"])
        assert r.status_code in (401, 422), r.status_code
        s, r = login(srv, "sir@acme.example", secrets["panel password"])
        assert r.status_code == 303
        # let the workers try İYS, the webhook and Kannel (all down) and log it
        wait_for(lambda: srv.stderr().count("comp=httpc msg=exchange method=POST") >= 1,
                 timeout=8)
    finally:
        srv.stop()
    logs = srv.stderr()
    assert "level=debug" in logs
    dump = store_dump(data)
    # the session reached the store and the log (so their silence counts)
    assert b"sir@acme.example" in dump and b"127.0.0.1:9/hook" in dump
    assert logs.count("comp=httpc msg=exchange") >= 3, logs[-3000:]
    files = b""
    for root, _, names in os.walk(str(data)):
        for n in names:
            if n != "izin.db.key" and not n.startswith("izin.db"):
                with open(os.path.join(root, n), "rb") as f:
                    files += f.read()
    for what, secret in secrets.items():
        assert secret not in logs, f"{what} in the log"
        assert secret.encode() not in dump, f"{what} in clear in the store"
        assert secret.encode() not in files, f"{what} in a file of the data folder"
