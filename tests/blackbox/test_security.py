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
ROUTE_RE = re.compile(r'\{"(GET|POST|PUT|PATCH|DELETE)",\s*"([^"]+)",\s*(\w+),\s*([^,]+?),'
                      r'\s*"(\w+)"\}', re.S)


def route_table(src):
    """(method, pattern, flags, name) of every entry of the routes[] of src."""
    with open(os.path.join(ROOT, src), encoding="utf-8") as f:
        text = f.read()
    table = text[text.index("routes[] = {"):]
    table = table[:table.index("\n};")]
    out = [(m, p, fl, n) for m, p, _, fl, n in ROUTE_RE.findall(table)]
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
