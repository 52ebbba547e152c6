"""Black-box tests of the İYS emulator's push: registration (validated, a
test payload sent first) and the delivery of IYS_* changes to a loopback
receiver with HTTP Basic auth, retried until it answers 2xx.
"""
import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from simutil import Provider, consent, start_sim

_n = [0]


def phone():
    _n[0] += 1
    return "+90534%07d" % _n[0]


class Receiver:
    """A loopback HTTP server recording POSTed JSON bodies with their
    Authorization header; `fail` makes it answer 500."""

    def __init__(self):
        self.posts = []
        self.codes = []  # the status each post was answered with
        self.fail = False
        rec = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(n) or b"null")
                code = 500 if rec.fail else 200
                rec.posts.append((self.path, self.headers.get("Authorization"), body))
                rec.codes.append(code)
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def lists(self, path):
        return [b["list"] for p, _, b in self.posts if p == path]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    s = start_sim(tmp_path_factory.mktemp("sim"), "--push-interval-ms", "100")
    yield s
    s.stop()


@pytest.fixture()
def rx():
    r = Receiver()
    yield r
    r.close()


def citizen(sim, p, recipient, status, type="MESAJ", source="IYS_MOBIL"):
    r = requests.post(sim.base + "/_sim/citizen/consents", timeout=10,
                      json={"iysCode": p.iys_code, "brandCode": p.brand, "recipient": recipient,
                            "type": type, "status": status, "source": source})
    if r.status_code == 404:
        pytest.skip("/_sim/citizen/consents is not available in this build")
    assert r.status_code == 201, r.text
    return r.json()["transactionId"]


def wait_for(pred, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return False


def test_register_sends_test_payload_and_delivers(sim, rx):
    p = Provider(sim)
    conn = {"url": rx.url + "/mesaj", "type": "MESAJ", "username": "hook", "password": "s3cret"}
    r = p.post("/push/registration", {"connection": [
        conn, dict(conn, url=rx.url + "/eposta", type="EPOSTA")]})
    assert r.status_code == 200, r.text
    assert r.json() == {"message": "Bağlantı oluşturuldu"}
    # the test payload reached both connections with Basic auth
    auth = "Basic " + base64.b64encode(b"hook:s3cret").decode()
    assert [(path, a) for path, a, _ in rx.posts] == [("/mesaj", auth), ("/eposta", auth)]
    assert rx.posts[0][2]["list"][0]["transactionId"]

    a = phone()
    assert p.post("/consents", consent(a)).status_code == 200  # HS_*: never pushed
    tx = citizen(sim, p, a, "RET", source="IYS_MOBIL")
    tx2 = citizen(sim, p, "kisi.push@ornek.com.tr", "ONAY", type="EPOSTA", source="IYS_WEB")
    assert wait_for(lambda: len(rx.lists("/mesaj")) >= 2 and len(rx.lists("/eposta")) >= 2)
    time.sleep(0.3)
    mesaj = rx.lists("/mesaj")[1:]
    assert len(mesaj) == 1 and len(mesaj[0]) == 1
    item = mesaj[0][0]
    assert item["transactionId"] == tx and item["source"] == "IYS_MOBIL"
    assert item["recipient"] == a and item["status"] == "RET" and item["type"] == "MESAJ"
    assert item["iysCode"] == p.iys_code and item["brandCode"] == p.brand
    assert item["creationDate"] and item["recipientType"] == "BIREYSEL"
    eposta = rx.lists("/eposta")[1:]
    assert [[i["transactionId"] for i in lst] for lst in eposta] == [[tx2]]
    assert all(a == auth for _, a, _ in rx.posts)


def test_delivery_retried_until_2xx(sim, rx):
    p = Provider(sim)
    r = p.post("/push/registration", {"connection": [
        {"url": rx.url + "/x", "type": "MESAJ", "username": "u", "password": "p"}]})
    assert r.status_code == 200, r.text
    rx.fail = True
    tx = citizen(sim, p, phone(), "ONAY", source="IYS_KISAMESAJ")
    assert wait_for(lambda: len(rx.lists("/x")) >= 3)  # test payload + two failed tries
    rx.fail = False
    assert wait_for(lambda: rx.codes[1:].count(200) >= 1)
    time.sleep(0.4)
    lists = rx.lists("/x")[1:]
    assert all([i["transactionId"] for i in lst] == [tx] for lst in lists)
    # after the first 2xx nothing more is sent
    assert rx.codes[1:].count(200) == 1 and rx.codes[-1] == 200


def test_register_refuses_unreachable_and_error_answers(sim, rx):
    p = Provider(sim)
    rx.fail = True
    r = p.post("/push/registration", {"connection": [
        {"url": rx.url, "type": "MESAJ", "username": "u", "password": "p"}]})
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "H530"
    r = p.post("/push/registration", {"connection": [
        {"url": "http://127.0.0.1:9/", "type": "MESAJ", "username": "u", "password": "p"}]})
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "H530"


@pytest.mark.parametrize("conn,code,loc", [
    ({"type": "MESAJ", "username": "u", "password": "p"}, "H531", "url"),
    ({"url": "ftp://x", "type": "MESAJ", "username": "u", "password": "p"}, "H531", "url"),
    ({"url": "https://x", "username": "u", "password": "p"}, "H111", "type"),
    ({"url": "https://x", "type": "FAKS", "username": "u", "password": "p"}, "H117", "type"),
    ({"url": "https://x", "type": "MESAJ", "password": "p"}, "H093", "username"),
    ({"url": "https://x", "type": "MESAJ", "username": "u", "password": ""}, "H093", "password"),
])
def test_register_validation(sim, conn, code, loc):
    p = Provider(sim)
    r = p.post("/push/registration", {"connection": [conn]})
    assert r.status_code == 422, r.text
    e = r.json()["errors"][0]
    assert e["code"] == code and e["location"] == [loc] and e["index"] == 0


def test_register_limits(sim, rx):
    p = Provider(sim)
    for body in [{}, {"connection": []}, {"connection": "x"}]:
        r = p.post("/push/registration", body)
        assert r.status_code == 422 and r.json()["errors"][0]["code"] == "H530"
    conns = [{"url": f"{rx.url}/{i}", "type": "ARAMA", "username": "u", "password": "p"}
             for i in range(3)]
    r = p.post("/push/registration", {"connection": conns})
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "H530"
    assert rx.posts == []
    r = requests.post(p.url("/push/registration"), json={"connection": conns[:1]}, timeout=10)
    assert r.status_code == 401


def test_list_and_unregister(sim, rx):
    p = Provider(sim)
    assert p.get("/push/registration").json() == []
    conn = {"url": rx.url + "/m", "type": "MESAJ", "username": "u", "password": "p1"}
    assert p.post("/push/registration", {"connection": [conn]}).status_code == 200
    rx.fail = True
    bad = dict(conn, url=rx.url + "/e", type="EPOSTA")
    assert p.post("/push/registration", {"connection": [bad]}).status_code == 422
    rx.fail = False
    lst = p.get("/push/registration")
    assert lst.status_code == 200
    got = {(c["url"], c["type"]): c for c in lst.json()}
    assert set(got) == {(conn["url"], "MESAJ"), (bad["url"], "EPOSTA")}
    assert got[(conn["url"], "MESAJ")]["status"] == "Bağlantı Oluşturuldu"
    assert got[(bad["url"], "EPOSTA")]["status"] == "Bağlantı Oluşturulamadı"
    assert all(set(c) == {"url", "type", "status", "registerTime"} for c in lst.json())
    assert all(len(c["registerTime"]) == 19 for c in lst.json())  # "YYYY-MM-DD HH:MM:SS"
    assert "password" not in lst.text

    # the wrong credentials name no connection
    r = p.post("/push/unregistration", dict(conn, password="other"))
    assert r.status_code == 422 and r.json()["errors"][0] == {
        "code": "H530", "message": "Bağlantı kaldırılamadı."}
    r = p.post("/push/unregistration", conn)
    assert r.status_code == 200 and r.json() == {"message": "Bağlantı Kaldırıldı"}
    got = {(c["url"], c["type"]): c["status"] for c in p.get("/push/registration").json()}
    assert got[(conn["url"], "MESAJ")] == "Bağlantı Kaldırıldı"
    # removed twice: there is nothing left to remove
    assert p.post("/push/unregistration", conn).status_code == 422
    # nothing is delivered to a removed connection
    n = len(rx.posts)
    citizen(sim, p, phone(), "ONAY")
    time.sleep(0.5)
    assert len(rx.posts) == n
    # registered again, it is active again
    assert p.post("/push/registration", {"connection": [conn]}).status_code == 200
    got = {(c["url"], c["type"]): c["status"] for c in p.get("/push/registration").json()}
    assert got[(conn["url"], "MESAJ")] == "Bağlantı Oluşturuldu"


@pytest.mark.parametrize("body,code,loc", [
    ({"type": "MESAJ", "username": "u", "password": "p"}, "H531", "url"),
    ({"url": "https://x", "username": "u", "password": "p"}, "H111", "type"),
    ({"url": "https://x", "type": "EPOSTAa", "username": "u", "password": "p"}, "H117", "type"),
    ({"url": "https://x", "type": "MESAJ", "password": "p"}, "H093", "username"),
    ({"url": "https://x", "type": "MESAJ", "username": "u"}, "H093", "password"),
])
def test_unregister_validation(sim, body, code, loc):
    p = Provider(sim)
    r = p.post("/push/unregistration", body)
    assert r.status_code == 422, r.text
    e = r.json()["errors"][0]
    assert e["code"] == code and e["location"] == [loc]


def test_push_calls_need_a_token(sim):
    p = Provider(sim)
    assert requests.get(p.url("/push/registration"), timeout=10).status_code == 401
    assert requests.post(p.url("/push/unregistration"), json={}, timeout=10).status_code == 401
    other = Provider(sim)
    r = other.session.get(p.url("/push/registration"), timeout=10)
    assert r.status_code == 403 and r.json()["errors"][0]["code"] == "H353"


def test_https_only_without_the_test_flag(tmp_path, rx):
    s = start_sim(tmp_path, allow_http_push=False)
    try:
        p = Provider(s)
        conn = {"url": rx.url + "/m", "type": "MESAJ", "username": "u", "password": "p"}
        r = p.post("/push/registration", {"connection": [conn]})
        assert r.status_code == 422, r.text
        e = r.json()["errors"][0]
        assert e["code"] == "H531" and e["location"] == ["url"]
        assert e["message"] == "Bağlantı linki (url) https ile başlamalıdır."
        assert rx.posts == []  # refused before anything was sent
        assert p.post("/push/unregistration", conn).json()["errors"][0]["code"] == "H531"
        # https is taken (the loopback port speaks no TLS: the test POST fails)
        r = p.post("/push/registration", {"connection": [dict(conn, url="https://127.0.0.1:9/")]})
        assert r.status_code == 422 and r.json()["errors"][0]["code"] == "H530"
    finally:
        s.stop()
