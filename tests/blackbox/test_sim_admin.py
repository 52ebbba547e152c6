"""Black-box tests of the İYS emulator's operations side: /_sim/providers,
injected faults, İYS's rate limits (per second H124, one budget per client
address whatever the provider or token; tokens H084 with the restart rule,
status H086, history H089), the statistics and the 70% success-rate watch.
"""
import http.client
import json
import time
from types import SimpleNamespace
from urllib.parse import urlparse

import pytest
import requests

from simutil import Provider, start_sim


def codes(r):
    return [e["code"] for e in r.json()["errors"]]


def stats(s):
    """GET /_sim/stats. Counting happens when an answer has been sent, which
    may be a moment after the client has it: let the last one land."""
    time.sleep(0.2)
    r = requests.get(s.base + "/_sim/stats", timeout=10)
    assert r.status_code == 200
    return r.json()


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    s = start_sim(tmp_path_factory.mktemp("simadmin"))
    yield s
    s.stop()


@pytest.fixture
def fresh(tmp_path):
    """A sim of its own (faults and counters are global to a sim)."""
    started = []

    def make(**kw):
        extra = kw.pop("extra", ())
        d = tmp_path / f"d{len(started)}"
        d.mkdir()
        s = start_sim(d, *extra, **kw)
        started.append(s)
        return s

    yield make
    for s in started:
        s.stop()


def provider_body(code, **kw):
    body = {"iysCode": code, "name": f"Sağlayıcı {code}", "username": f"u{code}",
            "password": "çok-gizli-parola", "brands": [{"brandCode": code, "name": "Marka Ç"}]}
    body.update(kw)
    return body


def post_provider(sim, body, **kw):
    return requests.post(sim.base + "/_sim/providers", json=body, timeout=10, **kw)


# ---- providers ---------------------------------------------------------------

def test_provider_create_never_echoes_password(sim):
    r = post_provider(sim, provider_body(800001, quota=5, brands=[
        {"brandCode": 800001, "name": "Ana Marka"}, {"brandCode": 800002, "name": "İkinci"}]))
    assert r.status_code == 201, r.text
    j = r.json()
    assert j["iysCode"] == 800001 and j["username"] == "u800001"
    assert j["subscription"] == "ACTIVE" and j["quota"] == 5
    assert [b["brandCode"] for b in j["brands"]] == [800001, 800002]
    assert "çok-gizli-parola" not in r.text and "password" not in r.text
    lst = requests.get(sim.base + "/_sim/providers", timeout=10)
    assert lst.status_code == 200
    assert "çok-gizli-parola" not in lst.text and "password" not in lst.text
    mine = [p for p in lst.json()["list"] if p["iysCode"] == 800001]
    assert mine and mine[0]["name"] == "Sağlayıcı 800001"


@pytest.mark.parametrize("change,field", [
    ({"iysCode": None}, "iysCode"),
    ({"iysCode": "800010"}, "iysCode"),
    ({"iysCode": -3}, "iysCode"),
    ({"name": ""}, "name"),
    ({"name": "x" * 200}, "name"),
    ({"username": "a b"}, "username"),
    ({"password": "kısa"}, "password"),
    ({"password": "p" * 300}, "password"),
    ({"brands": []}, "brands"),
    ({"brands": [{"brandCode": 1, "name": "A"}, {"brandCode": 1, "name": "B"}]}, "brands"),
    ({"brands": [{"brandCode": "x", "name": "A"}]}, "brands"),
    ({"quota": -1}, "quota"),
    ({"subscription": "OPEN"}, "subscription"),
    ({"extra": 1}, "extra"),
])
def test_provider_validation(sim, change, field):
    body = provider_body(800010)
    for k, v in change.items():
        if v is None:
            body.pop(k)
        else:
            body[k] = v
    r = post_provider(sim, body)
    assert r.status_code == 422, r.text
    e = r.json()["errors"][0]
    assert e["code"] == "IZ422" and e["location"] == [field]


def test_provider_malformed_bodies(sim):
    r = requests.post(sim.base + "/_sim/providers", data="{nope", timeout=10,
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and codes(r) == ["H014"]
    r = post_provider(sim, [1, 2])
    assert r.status_code == 400 and codes(r) == ["IZ400"]
    r = requests.post(sim.base + "/_sim/providers", data="a=1", timeout=10,
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415


def test_provider_duplicates(sim):
    assert post_provider(sim, provider_body(800020)).status_code == 201
    r = post_provider(sim, provider_body(800020, username="another800020"))
    assert r.status_code == 409 and codes(r) == ["IZ409"]
    assert r.json()["errors"][0]["location"] == ["iysCode"]
    r = post_provider(sim, provider_body(800021, username="u800020"))
    assert r.status_code == 409 and codes(r) == ["IZ409"]
    assert r.json()["errors"][0]["location"] == ["username"]
    # nothing half-made: 800021 does not exist
    codes_listed = [p["iysCode"] for p in requests.get(sim.base + "/_sim/providers",
                                                       timeout=10).json()["list"]]
    assert 800021 not in codes_listed


def test_provider_patch(sim):
    p = Provider(sim, iys_code=800030)
    url = sim.base + "/_sim/providers/800030"
    r = requests.patch(url, json={"subscription": "PAUSED", "quota": 7}, timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["subscription"] == "PAUSED" and r.json()["quota"] == 7
    # the İYS API now refuses the paused provider
    q = p.post("/consents/status", {"recipient": "+905320000001", "recipientType": "BIREYSEL",
                                    "type": "MESAJ"})
    assert q.status_code == 403 and codes(q) == ["H520"]
    r = requests.patch(url, json={"subscription": "ACTIVE",
                                  "brands": [{"brandCode": 800031, "name": "Yeni Marka"}]},
                       timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["brandsAdded"] == [{"brandCode": 800031, "name": "Yeni Marka"}]
    q = p.post("/consents/status", {"recipient": "+905320000001", "recipientType": "BIREYSEL",
                                    "type": "MESAJ"}, brand=800031)
    assert q.status_code in (200, 404), q.text
    assert q.status_code != 404 or codes(q) != ["H018"]
    # a brand it already has
    r = requests.patch(url, json={"brands": [{"brandCode": 800031, "name": "Tekrar"}]},
                       timeout=10)
    assert r.status_code == 409 and codes(r) == ["IZ409"]
    r = requests.patch(url, json={"subscription": "KAPALI"}, timeout=10)
    assert r.status_code == 422 and r.json()["errors"][0]["location"] == ["subscription"]
    r = requests.patch(sim.base + "/_sim/providers/899999", json={"quota": 1}, timeout=10)
    assert r.status_code == 404 and codes(r) == ["H001"]
    r = requests.patch(sim.base + "/_sim/providers/abc", json={"quota": 1}, timeout=10)
    assert r.status_code == 422 and codes(r) == ["H190"]


# ---- faults ---------------------------------------------------------------------

def put_faults(s, body):
    r = requests.put(s.base + "/_sim/faults", json=body, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def token(s, p):
    return requests.post(s.base + "/oauth2/token", timeout=30,
                         json={"username": p.username, "password": p.password,
                               "grant_type": "password"})


def test_faults_latency_and_clear(fresh):
    s = fresh()
    p = Provider(s, login=False)
    put_faults(s, {"latencyMs": 400})
    t0 = time.monotonic()
    assert token(s, p).status_code == 200
    assert time.monotonic() - t0 >= 0.38
    t0 = time.monotonic()
    assert requests.get(s.base + "/_sim/stats", timeout=10).status_code == 200
    assert time.monotonic() - t0 < 0.3  # /_sim/ is not slowed
    assert put_faults(s, {}) == {"latencyMs": 0, "errorRate": 0.0, "status429Seconds": 0,
                                 "outageSeconds": 0}
    t0 = time.monotonic()
    assert token(s, p).status_code == 200
    assert time.monotonic() - t0 < 0.3


def test_faults_error_rate(fresh):
    s = fresh()
    p = Provider(s, login=False)
    put_faults(s, {"errorRate": 1.0})
    seen = set()
    for _ in range(6):
        r = token(s, p)
        assert r.status_code in (500, 503), r.text
        seen.add((r.status_code, codes(r)[0]))
    assert seen == {(500, "H015"), (503, "H192")}
    # administration and pages are unaffected
    assert requests.get(s.base + "/healthz", timeout=10).status_code == 200
    assert requests.get(s.base + "/vatandas", timeout=10).status_code == 200
    put_faults(s, {"errorRate": 0.5})
    got = [token(s, p).status_code for _ in range(10)]
    assert got.count(200) == 5
    st = stats(s)
    assert st["injected"]["500"] + st["injected"]["503"] == 11
    assert st["faults"]["errorRate"] == 0.5
    put_faults(s, {})
    assert token(s, p).status_code == 200


def test_faults_429_window_and_outage(fresh):
    s = fresh()
    p = Provider(s, login=False)
    j = put_faults(s, {"status429Seconds": 2})
    assert j["status429Seconds"] in (1, 2)
    r = token(s, p)
    assert r.status_code == 429 and codes(r) == ["H124"]
    assert int(r.headers["Retry-After"]) >= 1
    assert requests.get(s.base + "/_sim/providers", timeout=10).status_code == 200
    time.sleep(2.1)
    assert token(s, p).status_code == 200
    put_faults(s, {"outageSeconds": 2})
    r = token(s, p)
    assert r.status_code == 503 and codes(r) == ["H192"]
    assert requests.get(s.base + "/healthz", timeout=10).status_code == 200
    put_faults(s, {})  # {} ends the outage at once
    assert token(s, p).status_code == 200


def test_faults_validation(sim):
    for body in ({"errorRate": 1.5}, {"errorRate": "x"}, {"latencyMs": -1},
                 {"latencyMs": 999999}, {"outageSeconds": 1.5}, {"status429Seconds": "2"},
                 {"nope": 1}):
        r = requests.put(sim.base + "/_sim/faults", json=body, timeout=10)
        assert r.status_code == 422, (body, r.text)
        assert codes(r) == ["IZ422"]


# ---- rate limits ---------------------------------------------------------------

def test_rate_limit_per_second(fresh):
    s = fresh(rate=10)
    p = Provider(s, login=False)
    sess = requests.Session()
    time.sleep(1.0)  # the provider's own requests are in an earlier second
    got = []
    for _ in range(30):
        r = sess.post(s.base + "/oauth2/token", timeout=10,
                      json={"username": p.username, "password": p.password,
                            "grant_type": "password"})
        got.append(r.status_code)
        if r.status_code == 429:
            assert codes(r) == ["H124"]
    assert got.count(429) > 0
    assert got.count(200) >= 10
    time.sleep(1.1)
    assert token(s, p).status_code == 200
    # /_sim/ is not limited
    for _ in range(15):
        assert sess.get(s.base + "/_sim/providers", timeout=10).status_code == 200
    st = stats(s)
    assert st["rateLimitHits"]["H124"] == got.count(429)
    assert st["endpoints"]["token"]["429"] == got.count(429)


def at_second_start():
    """Sleep until just after the clock enters a new second: a burst sent
    now falls in one second of the per-second limit (its window is the
    second of an address's first request in it)."""
    time.sleep(1 - time.time() % 1 + 0.005)


def burst(calls, refused):
    """Send the calls (functions returning a response) within one second;
    returns their status codes, or None when the burst crossed into the
    next second (the caller tries again). Every 429 is counted in
    refused[0]."""
    at_second_start()
    second = int(time.time())
    got = []
    for call in calls:
        r = call()
        if r.status_code == 429:
            assert codes(r) == ["H124"] and int(r.headers["Retry-After"]) >= 1
            refused[0] += 1
        got.append(r.status_code)
    return got if int(time.time()) == second else None


def until_one_second(calls, refused):
    for _ in range(5):
        got = burst(calls, refused)
        if got is not None:
            return got
    raise AssertionError("no burst fitted in one second")


def from_address(source, url, token, body):
    """POST from another loopback source address (127.0.0.2): another client
    to the emulator. The answer has a response's status_code, headers and
    json()."""
    u = urlparse(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10, source_address=(source, 0))
    try:
        c.request("POST", u.path, body=json.dumps(body),
                  headers={"Authorization": "Bearer " + token,
                           "Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        return SimpleNamespace(status_code=r.status, headers=dict(r.getheaders()),
                               json=lambda: json.loads(data))
    finally:
        c.close()


def test_rate_limit_one_budget_per_address(fresh):
    """İYS allows 10 requests a second per client IP: every provider and
    every token from that address share the one budget. Two providers under
    it alone go over it together (H124), while another address keeps its
    own."""
    s = fresh(rate=10)
    a, b = Provider(s), Provider(s)
    r = token(s, a)  # a second token of provider a, used beside the first
    assert r.status_code == 200
    a2 = requests.Session()
    a2.headers["Authorization"] = "Bearer " + r.json()["access_token"]
    q = {"recipients": ["+905320000001"]}
    path = "/consents/BIREYSEL/status/MESAJ"
    refused = [0]

    def call(p, session=None):
        return lambda: (session or p.session).post(p.url(path), json=q, timeout=10)

    # each alone, 6 in a second: under the limit
    assert until_one_second([call(a)] * 6, refused) == [200] * 6
    assert until_one_second([call(b)] * 6, refused) == [200] * 6
    assert refused[0] == 0
    # together, 12 in a second from one address: the 11th and 12th are refused,
    # whichever provider or token sends them
    got = until_one_second([call(a), call(b), call(a, a2)] * 4, refused)
    assert got == [200] * 10 + [429] * 2, got
    # another address has a budget of its own, in the same second as well
    got = None
    for _ in range(5):
        got = burst([call(a), call(b)] * 5 + [
            lambda: from_address("127.0.0.2", a.url(path), a.token, q),
            call(b)], refused)
        if got is not None:
            break
    assert got == [200] * 11 + [429], got
    st = stats(s)
    assert st["rateLimitHits"]["H124"] == refused[0]
    assert st["endpoints"]["multi_status"]["429"] == refused[0]
    assert set(st["clients"]) == {"127.0.0.1", "127.0.0.2"}


def test_token_limit_and_restart_rule(fresh):
    s = fresh(token_limit=3)
    p = Provider(s, login=False)
    for _ in range(3):
        assert token(s, p).status_code == 200
    r = token(s, p)
    assert r.status_code == 429 and codes(r) == ["H084"]
    assert int(r.headers["Retry-After"]) > 3500
    st = stats(s)
    first = st["clients"]["127.0.0.1"]["blockedUntil"]["token"]
    assert first
    time.sleep(1.1)
    # a request inside the blocked hour starts the hour again
    r = token(s, p)
    assert r.status_code == 429 and codes(r) == ["H084"]
    st = stats(s)
    second = st["clients"]["127.0.0.1"]["blockedUntil"]["token"]
    assert second > first
    assert st["rateLimitHits"]["H084"] == 2
    # other İYS calls are not blocked by the token limit
    r = requests.post(p.url("/consents/status"), json={}, timeout=10)
    assert r.status_code != 429


def test_status_and_history_limits(fresh):
    s = fresh(extra=("--status-limit", "2", "--history-limit", "3"))
    p = Provider(s)
    q = {"recipient": "+905320000002", "recipientType": "BIREYSEL", "type": "MESAJ"}
    for _ in range(2):
        assert p.post("/consents/status", q).status_code != 429
    r = p.post("/consents/status", q)
    assert r.status_code == 429 and codes(r) == ["H086"]
    for _ in range(3):
        assert p.post("/consents/history", q).status_code != 429
    r = p.post("/consents/history", q)
    assert r.status_code == 429 and codes(r) == ["H089"]
    # the status limit is for single queries only
    r = p.post("/consents/BIREYSEL/status/MESAJ", {"recipients": ["+905320000002"]})
    assert r.status_code != 429
    st = stats(s)
    assert st["rateLimitHits"]["H086"] == 1 and st["rateLimitHits"]["H089"] == 1
    bu = st["clients"]["127.0.0.1"]["blockedUntil"]
    assert bu["status"] and bu["history"] and bu["token"] is None


# ---- statistics and the 70% watch ---------------------------------------------------

def test_stats_and_watch(fresh):
    s = fresh(extra=("--watch-min", "20"))
    p = Provider(s)
    bad = {"username": p.username, "password": "yanlış-parola", "grant_type": "password"}
    for _ in range(12):
        r = requests.post(s.base + "/oauth2/token", json=bad, timeout=10)
        assert r.status_code == 400
    st = stats(s)
    c = st["clients"]["127.0.0.1"]
    assert c["requests24h"] == 13 and c["failures24h"] == 12
    assert c["warning"] is False  # fewer than --watch-min requests: not judged yet
    for _ in range(10):
        requests.post(s.base + "/oauth2/token", json=bad, timeout=10)
    st = stats(s)
    c = st["clients"]["127.0.0.1"]
    assert c["requests24h"] == 23 and c["failures24h"] == 22
    assert c["successRate"] < 0.7
    assert c["warning"] is True and c["hoursBelow"] == 0 and c["wouldBeRemoved"] is False
    assert "belowSince" in c
    assert st["endpoints"]["token"]["400"] == 22 and st["endpoints"]["token"]["200"] == 1
    assert st["endpoints"]["_sim"]["201"] >= 1
    assert st["watch"] == {"minRequests": 20, "minSuccessPercent": 70, "removeAfterHours": 96}
    # /_sim/ and page requests are not judged
    for _ in range(5):
        requests.get(s.base + "/vatandas", timeout=10)
    st2 = stats(s)
    assert st2["clients"]["127.0.0.1"]["requests24h"] == 23
    # a wrong path under İYS's API is a client error İYS counts
    requests.get(s.base + "/sps/1/nope", timeout=10)
    st3 = stats(s)
    assert st3["clients"]["127.0.0.1"]["failures24h"] == 23
    assert st3["endpoints"]["unrouted"]["404"] >= 1
    # the flip was reported once on stderr
    assert s.stderr().count("below 70% success") == 1
