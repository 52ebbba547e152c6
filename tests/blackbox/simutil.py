"""Helpers for black-box tests of the İYS emulator (`izin iys-sim`).

start_sim() runs the real binary on a loopback port with test-friendly
limits; Provider wraps one service provider's API user.
"""
import itertools
import time

import pytest
import requests

from conftest import Server

_codes = itertools.count(710000)
integrator_codes = itertools.count(960000)


def start_sim(data, *extra, pull_lag=0, bulk_delay=0, rate=0, token_limit=0,
              allow_http_push=True):
    """Start an emulator with its store in `data`. Limits are off unless a
    test turns them on (rate=10 etc.); pull lag and bulk delay are 0. Push
    URLs may be http:// (the tests' receivers listen on loopback without
    TLS) unless allow_http_push is False: then https only, as in İYS."""
    args = ["iys-sim", "--listen", "127.0.0.1:0", "--data", str(data),
            "--pull-lag", str(pull_lag), "--bulk-delay", str(bulk_delay),
            "--rate", str(rate), "--token-limit", str(token_limit),
            *(["--allow-http-push"] if allow_http_push else []), *extra]
    return Server(args, data).start()


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    """One emulator for a test module (import it by name: `from simutil
    import sim`)."""
    s = start_sim(tmp_path_factory.mktemp("sim"))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def prov(sim):
    """One provider of the module's emulator."""
    return Provider(sim)


def sim_counts(sim_dir):
    """How many records the emulator (its store in sim_dir) holds of each
    recipient: {recipient: count}."""
    import sqlite3
    con = sqlite3.connect(f"file:{sim_dir}/iys-sim.db?mode=ro", uri=True)
    try:
        return dict(con.execute(
            "select recipient, count(*) from consent_log group by recipient").fetchall())
    finally:
        con.close()


def api_login(user):
    """Log an API user (a Provider or an Integrator) in with its password:
    its session then carries the access token."""
    r = requests.post(user.sim.base + "/oauth2/token", timeout=10,
                      json={"username": user.username, "password": user.password,
                            "grant_type": "password"})
    assert r.status_code == 200, r.text
    user.tokens = r.json()
    user.token = user.tokens["access_token"]
    user.session.headers["Authorization"] = "Bearer " + user.token
    return user.tokens


class Provider:
    """A service provider created through /_sim/providers, with a token."""

    def __init__(self, sim, iys_code=None, brands=None, quota=None, login=True):
        self.sim = sim
        self.iys_code = iys_code or next(_codes)
        self.brand = self.iys_code  # as in İYS's sandbox: the main brand's code is the iysCode
        self.username = f"user{self.iys_code}"
        self.password = f"pw-{self.iys_code}-secret"
        body = {"iysCode": self.iys_code, "name": f"Sağlayıcı {self.iys_code}",
                "username": self.username, "password": self.password,
                "brands": brands or [{"brandCode": self.brand, "name": f"Marka {self.iys_code}"}]}
        if quota is not None:
            body["quota"] = quota
        r = requests.post(sim.base + "/_sim/providers", json=body, timeout=10)
        assert r.status_code == 201, r.text
        self.session = requests.Session()
        self.token = None
        if login:
            self.login()

    def login(self):
        return api_login(self)

    def url(self, path, brand=None, v2=False):
        b = brand or self.brand
        return f"{self.sim.base}{'/v2' if v2 else ''}/sps/{self.iys_code}/brands/{b}{path}"

    def post(self, path, body, **kw):
        return self.session.post(self.url(path, kw.pop("brand", None), kw.pop("v2", False)),
                                 json=body, timeout=30, **kw)

    def get(self, path, **kw):
        return self.session.get(self.url(path, kw.pop("brand", None), kw.pop("v2", False)),
                                timeout=30, **kw)


def consent(recipient, status="ONAY", type="MESAJ", source="HS_WEB", date=None, **kw):
    from conftest import tr_now
    body = {"recipient": recipient, "type": type, "status": status, "source": source,
            "consentDate": date or tr_now(-3600)}
    body.update(kw)
    return body


def wait_processed(p, rid, v2=False, timeout=30):
    """Poll a bulk request until no item is "enqueue"; returns the items."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = p.get(f"/consents/request/{rid}", v2=v2)
        assert r.status_code == 200, r.text
        items = r.json()
        if items and all(i["status"] != "enqueue" for i in items):
            return items
        time.sleep(0.1)
    raise AssertionError("bulk request not processed")


class Integrator:
    """An integrator created through /_sim/integrators, with a token."""

    def __init__(self, sim, subscription=None, login=True):
        self.sim = sim
        self.code = next(integrator_codes)
        self.username = f"io{self.code}"
        self.password = f"io-{self.code}-secret"
        body = {"integratorCode": self.code, "name": f"İş Ortağı {self.code}",
                "username": self.username, "password": self.password}
        if subscription:
            body["subscription"] = subscription
        r = requests.post(sim.base + "/_sim/integrators", json=body, timeout=10)
        assert r.status_code == 201, r.text
        self.session = requests.Session()
        if login:
            self.login()

    def login(self):
        return api_login(self)

    def grant(self, iys, brand=None, expect=201, **rights):
        body = {"iysCode": iys, **rights}
        if brand is not None:
            body["brandCode"] = brand
        r = requests.post(f"{self.sim.base}/_sim/integrators/{self.code}/authorizations",
                          json=body, timeout=10)
        assert r.status_code == expect, r.text
        return r

    def revoke(self, iys, brand):
        return requests.delete(
            f"{self.sim.base}/_sim/integrators/{self.code}/authorizations/{iys}/{brand}",
            timeout=10)

    def call(self, method, path, body=None, **kw):
        return self.session.request(method, self.sim.base + path, json=body, timeout=30, **kw)

    def add(self, p, body, brand=None, v2=False):
        return self.session.post(p.url("/consents", brand, v2), json=body, timeout=30)

    def set_subscription(self, **body):
        r = requests.put(f"{self.sim.base}/_sim/integrators/{self.code}/subscription",
                         json=body, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()


def put_sub(sim, p, **body):
    r = requests.put(f"{sim.base}/_sim/providers/{p.iys_code}/subscription", json=body,
                     timeout=10)
    assert r.status_code == 200, r.text
    return r.json()
