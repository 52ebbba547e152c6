"""Customer webhooks (API.md "Changes (F8)"): a loopback receiver gets every
change of a brand once, in order, signed; failures are retried with the same
batch; a restart loses nothing; a batch that keeps failing becomes a dead
letter that a retry delivers; the secret is never shown, logged or stored in
clear."""
import hashlib
import hmac
import http.server
import json
import signal
import threading
import time

import pytest
import requests

from conftest import Api, Server, fresh_phone, make_store, tr_now, wait_for

SECRET = "whsec-0123456789-abcdefXYZ"


class Receiver:
    """A webhook receiver on 127.0.0.1: answers `status` (500 while failing),
    after `delay` seconds, and keeps every request it got."""

    def __init__(self):
        self.status = 200
        self.delay = 0.0
        self.got = []  # (headers dict, raw body, parsed body, answered status)
        self.started = 0  # requests received (answered or not yet)
        self.lock = threading.Lock()
        rec = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with rec.lock:
                    rec.started += 1
                if rec.delay:
                    time.sleep(rec.delay)
                st = rec.status
                with rec.lock:
                    rec.got.append((dict(self.headers), body, json.loads(body), st))
                self.send_response(st)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d/hook" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def ok(self):
        with self.lock:
            return [g for g in self.got if 200 <= g[3] < 300]

    def delivered_ids(self):
        return [it["id"] for g in self.ok() for it in g[2]["list"]]

    def close(self):
        self.httpd.shutdown()


def consent():
    return {"recipient": fresh_phone(), "type": "MESAJ", "status": "ONAY",
            "source": "HS_WEB", "consentDate": tr_now(-60)}


def put_hook(api, url, secret=SECRET, brand=None):
    b = brand or api.t.brand
    return requests.put(api.url(f"/v1/brands/{b}/webhook"), json={"url": url, "secret": secret},
                        headers=api.t.headers, timeout=10)


def feed_ids(api):
    r = requests.get(api.url(f"/v1/brands/{api.t.brand}/changes"), headers=api.t.headers,
                     timeout=10)
    return [c["id"] for c in r.json()["list"]]


def feed_items(api):
    r = requests.get(api.url(f"/v1/brands/{api.t.brand}/changes"), headers=api.t.headers,
                     timeout=10)
    return {c["id"]: c for c in r.json()["list"]}


def check_signed(got, secret=SECRET):
    """Every request: the signature verifies, the timestamps agree and are fresh."""
    for headers, raw, body, _ in got:
        want = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["X-Izin-Signature"], want)
        assert headers["Content-Type"] == "application/json"
        assert int(headers["X-Izin-Timestamp"]) == body["timestamp"]
        assert abs(time.time() - body["timestamp"]) < 120
        ids = [it["id"] for it in body["list"]]
        assert headers["X-Izin-Delivery"] == "%d-%d" % (ids[0], ids[-1])
        assert ids == sorted(ids)


@pytest.fixture
def stack(tmp_path):
    """A store, a receiver, and a way to (re)start izin serve on it."""
    data = tmp_path / "data"
    acme, other = make_store(data)
    rec = Receiver()
    servers = []

    def start(give_up=60, private=True):
        args = ["serve", "--listen", "127.0.0.1:0", "--data", str(data),
                "--webhook-give-up", str(give_up)]
        if private:
            args.append("--allow-private-webhooks")
        srv = Server(args, data).start()
        servers.append(srv)
        return srv

    yield type("Stack", (), {"data": data, "acme": acme, "other": other, "rec": rec,
                             "start": start})
    for s in servers:
        s.stop(signal.SIGKILL if s.proc.poll() is None else signal.SIGTERM)
    rec.close()


def test_put_checks_and_tenancy(stack):
    srv = stack.start(private=False)
    api, other = Api(srv, stack.acme), Api(srv, stack.other)
    hook = api.url(f"/v1/brands/{api.t.brand}/webhook")
    assert requests.get(hook, headers=api.t.headers).status_code == 404
    for url in ["http://example.com/h", "https://127.0.0.1/h", "https://10.1.2.3/h",
                "https://[::1]/h", "https://169.254.169.254/latest", "https://localhost/h",
                "ftp://example.com/", "https://user:pw@example.com/h", "https://a b/",
                "https://" + "a" * 2050 + ".com/"]:
        r = put_hook(api, url)
        assert r.status_code == 422, (url, r.text)
        e = r.json()["errors"][0]
        assert e["code"] == "IZ422" and e["location"] == ["url"], r.text
        assert SECRET not in r.text
    for secret in [None, "", "short", "x" * 257, "has space 0123456789", "ü" * 10]:
        body = {"url": "https://example.com/h"}
        if secret is not None:
            body["secret"] = secret
        r = requests.put(hook, json=body, headers=api.t.headers)
        assert r.status_code == 422, (secret, r.text)
        assert r.json()["errors"][0]["location"] == ["secret"]
        assert "value" not in r.json()["errors"][0]
    r = requests.put(hook, json={"url": "https://example.com/h", "secret": SECRET, "x": 1},
                     headers=api.t.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["location"] == ["x"]
    # another account's brand is not found, whatever is asked
    ob = f"/v1/brands/{stack.acme.brand}/webhook"
    assert requests.put(other.url(ob), json={"url": stack.rec.url, "secret": SECRET},
                        headers=other.t.headers).status_code == 404
    assert requests.get(other.url(ob), headers=other.t.headers).status_code == 404
    assert requests.delete(other.url(ob), headers=other.t.headers).status_code == 404
    assert requests.get(other.url(ob + "/dead-letters"),
                        headers=other.t.headers).status_code == 404
    assert requests.post(other.url(ob + "/dead-letters/1/retry"),
                         headers=other.t.headers).status_code == 404
    assert requests.put(hook, json={}, headers={}).status_code == 401


def test_every_change_once_in_order_signed_through_failures(stack):
    srv = stack.start(give_up=120)
    api, rec = Api(srv, stack.acme), stack.rec
    # history before the webhook is the feed's, not the webhook's
    assert api.post_consent(consent()).status_code == 201
    before = feed_ids(api)
    r = put_hook(api, rec.url)
    assert r.status_code == 201, r.text
    assert "secret" not in r.json() and SECRET not in r.text
    assert r.json()["url"] == rec.url
    r = put_hook(api, rec.url)  # set again: replaced, 200
    assert r.status_code == 200 and SECRET not in r.text
    g = requests.get(api.url(f"/v1/brands/{api.t.brand}/webhook"), headers=api.t.headers)
    assert g.status_code == 200 and SECRET not in g.text and "secret" not in g.json()

    rec.status = 500
    for _ in range(25):
        assert api.post_consent(consent()).status_code == 201
    assert wait_for(lambda: len(rec.got) >= 2, timeout=15)  # a retry came, within 5 s
    failed = [g for g in rec.got if g[3] == 500]
    # a retry sends the same batch again
    assert [it["id"] for it in failed[0][2]["list"]] == [it["id"] for it in failed[1][2]["list"]]
    g = requests.get(api.url(f"/v1/brands/{api.t.brand}/webhook"), headers=api.t.headers).json()
    assert g["retrying"]["attempts"] >= 1 and g["retrying"]["lastStatus"] == 500
    rec.status = 200
    for _ in range(5):
        assert api.post_consent(consent()).status_code == 201
    want = [i for i in feed_ids(api) if i not in before]
    assert len(want) == 30
    assert wait_for(lambda: len(rec.delivered_ids()) >= 30, timeout=30), rec.delivered_ids()
    time.sleep(0.5)
    assert rec.delivered_ids() == want  # every change once, in commit order
    # the first successful delivery is the batch that failed
    assert rec.ok()[0][2]["list"] == failed[0][2]["list"]
    check_signed(rec.got)
    items = feed_items(api)
    for g in rec.ok():
        for it in g[2]["list"]:
            assert it == items[it["id"]]  # exactly the feed's item
    m = requests.get(srv.base + "/metrics").text
    assert 'izin_webhook_backlog{account="acme",brand="700001"} 0' in m
    assert 'izin_webhook_deliveries_total{result="fail"}' in m


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_a_restart_in_the_middle_of_a_backlog_loses_nothing(stack, sig):
    srv = stack.start(give_up=120)
    api, rec = Api(srv, stack.acme), stack.rec
    assert put_hook(api, rec.url).status_code == 201
    rec.status = 500
    for _ in range(40):
        assert api.post_consent(consent()).status_code == 201
    want = feed_ids(api)
    assert wait_for(lambda: rec.started >= 1, timeout=10)
    if sig == signal.SIGKILL:
        # the receiver takes the next attempt but answers after izin is gone
        rec.status, rec.delay = 200, 1.5
        n = rec.started
        assert wait_for(lambda: rec.started > n, timeout=15)
    srv.stop(sig)
    assert not rec.ok() or sig == signal.SIGKILL
    rec.status, rec.delay = 200, 0
    srv2 = stack.start(give_up=120)
    assert wait_for(lambda: set(rec.delivered_ids()) >= set(want), timeout=30)
    time.sleep(2)  # the answer to the killed izin is recorded 1.5 s after it came
    got = rec.delivered_ids()
    dedup = []
    for i in got:
        if i not in dedup:
            dedup.append(i)
    assert dedup == want  # nothing lost, in order
    dups = {i for i in got if got.count(i) > 1}
    if sig == signal.SIGTERM:
        assert not dups, dups
    else:
        # only the batch in flight at the kill comes twice
        twice = {g[0]["X-Izin-Delivery"] for g in rec.ok()
                 if any(it["id"] in dups for it in g[2]["list"])}
        assert len(twice) == 1, twice
    check_signed(rec.got)
    srv2.stop()


def test_dead_letter_then_retry_and_delete(stack):
    srv = stack.start(give_up=2)
    api, rec = Api(srv, stack.acme), stack.rec
    base = api.url(f"/v1/brands/{api.t.brand}/webhook")
    assert put_hook(api, rec.url).status_code == 201
    rec.status = 503
    assert api.post_consent(consent()).status_code == 201
    dead = wait_for(lambda: requests.get(base + "/dead-letters",
                                         headers=api.t.headers).json()["list"], timeout=20)
    assert dead, "no dead letter"
    d = dead[0]
    assert d["count"] == 1 and d["firstChangeId"] == d["lastChangeId"]
    assert d["attempts"] >= 2 and d["lastStatus"] == 503 and "503" in d["lastError"]
    assert d["createdAt"] and d["deadAt"]
    m = requests.get(srv.base + "/metrics").text
    assert 'izin_webhook_dead_letters{account="acme",brand="700001"} 1' in m
    # delivery goes on after it: the next change gets through once the receiver is back
    rec.status = 200
    assert api.post_consent(consent()).status_code == 201
    assert wait_for(lambda: rec.ok(), timeout=10)
    assert d["firstChangeId"] not in rec.delivered_ids()
    # a retry while the receiver fails keeps it, with the new error
    rec.status = 502
    r = requests.post(base + f"/dead-letters/{d['id']}/retry", headers=api.t.headers)
    assert r.status_code == 202, r.text
    assert wait_for(lambda: requests.get(base + "/dead-letters", headers=api.t.headers)
                    .json()["list"][0]["lastStatus"] == 502, timeout=10)
    rec.status = 200
    r = requests.post(base + f"/dead-letters/{d['id']}/retry", headers=api.t.headers)
    assert r.status_code == 202
    assert wait_for(lambda: not requests.get(base + "/dead-letters", headers=api.t.headers)
                    .json()["list"], timeout=10)
    assert rec.delivered_ids().count(d["firstChangeId"]) == 1
    assert requests.post(base + "/dead-letters/999/retry",
                         headers=api.t.headers).status_code == 404
    check_signed(rec.got)
    # DELETE: 204, then none; dead letters stay listed, pending deliveries stop
    rec.status = 500
    assert api.post_consent(consent()).status_code == 201
    assert wait_for(lambda: requests.get(base + "/dead-letters", headers=api.t.headers)
                    .json()["list"], timeout=20)
    assert requests.delete(base, headers=api.t.headers).status_code == 204
    assert requests.get(base, headers=api.t.headers).status_code == 404
    assert requests.delete(base, headers=api.t.headers).status_code == 404
    n = len(rec.got)
    assert api.post_consent(consent()).status_code == 201
    time.sleep(3)
    assert len(rec.got) == n
    left = requests.get(base + "/dead-letters", headers=api.t.headers).json()["list"]
    assert len(left) == 1
    r = requests.post(base + f"/dead-letters/{left[0]['id']}/retry", headers=api.t.headers)
    assert r.status_code == 409  # no webhook to send it to
    srv.stop()
    # the secret is nowhere in clear: not in the store's files, not in the log
    for f in stack.data.iterdir():
        if f.is_file():
            assert SECRET.encode() not in f.read_bytes(), f
    assert SECRET not in srv.stderr()


def test_a_replaced_webhook_gets_no_further_batch(stack):
    """A PUT with another URL while a worker is delivering a backlog to the
    old one: the batch in flight may end there, no later batch goes to it."""
    srv = stack.start(give_up=120)
    api, old = Api(srv, stack.acme), stack.rec
    new = Receiver()
    try:
        assert put_hook(api, old.url).status_code == 201
        old.status = 500
        job = requests.post(api.url(f"/v1/brands/{api.t.brand}/consents/bulk"),
                            json=[consent() for _ in range(1300)], headers=api.t.headers,
                            timeout=30)
        assert job.status_code == 202
        jid = job.json()["jobId"]
        assert wait_for(lambda: requests.get(api.url(f"/v1/jobs/{jid}"), headers=api.t.headers,
                                             timeout=10).json()["state"] == "DONE", timeout=30)
        want, after = [], 0
        while True:
            r = requests.get(api.url(f"/v1/brands/{api.t.brand}/changes?after={after}&limit=1000"),
                             headers=api.t.headers, timeout=10).json()["list"]
            if not r:
                break
            want += [c["id"] for c in r]
            after = want[-1]
        assert len(want) >= 1300
        old.status, old.delay = 200, 1.5
        n = len(old.ok())
        assert wait_for(lambda: old.started > len(old.got), timeout=20)  # one in flight
        assert put_hook(api, new.url).status_code == 200
        after_put = old.started
        assert wait_for(lambda: set(old.delivered_ids()) | set(new.delivered_ids()) >= set(want),
                        timeout=40)
        time.sleep(2)
        assert old.started == after_put  # nothing more went to the replaced URL
        assert len(old.ok()) <= n + 1
        got = old.delivered_ids() + new.delivered_ids()
        assert sorted(set(got)) == sorted(want)
    finally:
        new.close()
        srv.stop()
