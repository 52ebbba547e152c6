"""Partner mode and subscription awareness (izin serve beside izin iys-sim).

An account added with --iys-integrator sends with the partner's (iş
ortağı's) one token; izin reads the brands that authorized the partner and
each account's İYS subscription, and holds an account's changes - PENDING,
nothing lost, nothing sent only to fail - while the partner may not act for
it, the subscription is not ACTIVE or the consent limit is full; sending
resumes by itself when İYS allows it again.
"""
import json
import sqlite3
import time
import types

import pytest
import requests

from conftest import fresh_phone, izin, tr_now, wait_for
from simutil import Integrator, Provider, put_sub, start_sim
from test_bulk import HEADER, upload
from test_sync import Module, iys_status


class PartnerModule(Module):
    """izin serve with one account per provider, each sending through the
    partner io; the first account's key and brand are in use (use())."""

    def __init__(self, tmp, sim, io, providers, *extra, creds="flags", interval=1):
        self.data = tmp / "module"
        izin("init", data=self.data)
        self.tenants = []
        for i, p in enumerate(providers):
            name = f"acct{i}"
            izin("account", "add", "--name", name, "--iys-code", str(p.iys_code),
                 "--iys-url", sim.base, "--iys-integrator", str(io.code), data=self.data)
            for code in getattr(p, "brand_codes", [p.brand]):
                izin("brand", "add", "--account", name, "--code", str(code), "--name",
                     f"Marka {code}", data=self.data)
            key = izin("key", "add", "--account", name, data=self.data).stdout.strip()
            self.tenants.append((key, p.brand))
        settings = ()
        if creds == "flags":
            settings = ("--iys-integrator-user", io.username,
                        "--iys-integrator-password", io.password)
        elif creds == "config":
            cfg = tmp / "izin.conf"
            cfg.write_text(f"iys-integrator-user = {io.username}\n"
                           f"iys-integrator-password = {io.password}\n")
            settings = ("--config", str(cfg))
        self.extra = (*settings, "--iys-standing-interval", str(interval), *extra)
        self.srv = None
        self.key, self.brand = self.tenants[0]
        self.h = {"Authorization": "Bearer " + self.key}
        self.start()

    def use(self, i, brand=None):
        self.key, self.brand = self.tenants[i]
        if brand:
            self.brand = brand
        self.h = {"Authorization": "Bearer " + self.key}
        self.s.headers.update(self.h)
        return self


@pytest.fixture
def sim(tmp_path, request):
    """The emulator; a test may give start_sim's options by indirect
    parametrization."""
    s = start_sim(tmp_path / "sim", **getattr(request, "param", {}))
    yield s
    s.stop()


@pytest.fixture
def run(sim):
    """run(module): the module is stopped after the test, before the emulator."""
    started = []
    yield lambda m: started.append(m) or m
    for m in started:
        m.srv.stop()


def standing(m):
    r = m.s.get(m.srv.base + "/v1/iys/status", timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def wait_standing(m, pred, timeout=15):
    got = wait_for(lambda: pred(standing(m)), timeout=timeout, step=0.2)
    assert got, standing(m)
    return standing(m)


def state(m, recipient, type="MESAJ"):
    """The change's İYS state, None before it is recorded (a bulk job)."""
    r = m.get(recipient, type)
    return r.json()["iys"]["state"] if r.status_code == 200 else None


def sim_stats(sim):
    return requests.get(sim.base + "/_sim/stats", timeout=10).json()


def answers(sim, status):
    """How many answers of an HTTP status the emulator gave, all endpoints."""
    return sum(int(c) for ep in sim_stats(sim)["endpoints"].values() for st, c in ep.items()
               if st == str(status))


def sim_tokens(sim, code):
    """Access tokens the emulator issued to the user with this code."""
    con = sqlite3.connect(f"file:{sim.data}/iys-sim.db?mode=ro", uri=True)
    (n,) = con.execute("select count(*) from tokens where kind = 'access' and iys_code = ?",
                       (code,)).fetchone()
    con.close()
    return n


def account_list(m):
    out = izin("account", "list", "--json", data=m.data).stdout
    return {a["name"]: a for a in json.loads(out)["list"]}


# ---- partner mode -----------------------------------------------------------------


def test_partner_accounts_send_with_the_partners_one_token(tmp_path, sim, run):
    io = Integrator(sim, login=False)
    a, b = Provider(sim, login=False), Provider(sim, login=False)
    io.grant(a.iys_code, a.brand, MESAJ="write")
    io.grant(b.iys_code, b.brand, MESAJ="write", ARAMA="read")
    # the credentials from the --config file, as an operator would keep them
    m = run(PartnerModule(tmp_path, sim, io, [a, b], creds="config"))
    x, y = fresh_phone(), fresh_phone()
    r = m.use(0).post(x)
    assert r.status_code == 201 and r.json()["iys"]["state"] == "PENDING"
    assert wait_for(lambda: state(m, x) == "ACCEPTED")
    a.login()
    got = iys_status(a, x).json()
    assert got["status"] == "ONAY" and got["transactionId"] == m.get(x).json()["iys"][
        "transactionId"]
    assert m.use(1).post(y).status_code == 201
    assert wait_for(lambda: state(m, y) == "ACCEPTED")
    # one token, the partner's, for both accounts; none of their own
    assert sim_tokens(sim, io.code) == 1
    assert sim_tokens(sim, a.iys_code) == 1 and sim_tokens(sim, b.iys_code) == 0  # a.login()
    assert m.metrics()['izin_iys_requests_total{kind="token"}'] == 1
    # where the account stands: the partner's rights on its brand
    st = wait_standing(m, lambda s: s["partner"]["listed"] and s["subscription"])
    assert st["account"] == "acct1" and st["mode"] == "partner"
    assert st["integratorCode"] == io.code and st["iysCode"] == b.iys_code
    assert st["sending"] is True and "reason" not in st
    assert st["subscription"]["status"] == "ACTIVE"
    assert st["subscription"]["consentLimit"] is None  # İYS shows a partner no figures
    assert st["partner"]["subscription"] == {"status": "ACTIVE"}
    assert st["partner"]["brands"] == [
        {"brandCode": b.brand, "authorized": True, "MESAJ": "write", "ARAMA": "read",
         "EPOSTA": None, "agreementControl": False}]
    assert st["partner"]["problems"] == [] and st["waiting"] == 0
    lst = account_list(m)
    assert lst["acct0"]["mode"] == "partner" and lst["acct0"]["integratorCode"] == io.code
    assert lst["acct0"]["iys"]["sending"] is True
    assert m.metrics()['izin_iys_account_sending{account="acct0"}'] == 1
    # the token outlives a restart: no new one is asked for
    m.srv.stop()
    m.start()
    z = fresh_phone()
    assert m.use(0).post(z).status_code == 201
    assert wait_for(lambda: state(m, z) == "ACCEPTED")
    assert m.metrics()['izin_iys_requests_total{kind="token"}'] == 0
    assert sim_tokens(sim, io.code) == 1


def test_a_provider_that_did_not_authorize_the_partner(tmp_path, sim, run):
    io = Integrator(sim, login=False)
    a = Provider(sim)
    m = run(PartnerModule(tmp_path, sim, io, [a]))
    x = fresh_phone()
    assert m.post(x).status_code == 201
    st = wait_standing(m, lambda s: s.get("reason") == "NOT_AUTHORIZED")
    refused = answers(sim, 403)
    assert st["sending"] is False and st["waiting"] == 1
    assert str(a.iys_code) in st["detail"] and str(io.code) in st["detail"]
    assert st["partner"]["brands"][0]["authorized"] is False
    met = m.metrics()
    assert met['izin_iys_account_blocked{account="acct0",reason="NOT_AUTHORIZED"}'] == 1
    assert met['izin_iys_account_sending{account="acct0"}'] == 0
    out = izin("account", "list", data=m.data).stdout
    assert "acct0" in out and "waiting: NOT_AUTHORIZED" in out
    time.sleep(1.5)
    # it waits, nothing was sent only to be refused
    assert state(m, x) == "PENDING"
    assert iys_status(a, x).status_code == 404
    assert answers(sim, 403) == refused == 0
    # the provider authorizes the partner: the change goes by itself
    io.grant(a.iys_code, a.brand, MESAJ="write")
    assert wait_for(lambda: state(m, x) == "ACCEPTED", timeout=10)
    assert iys_status(a, x).json()["status"] == "ONAY"
    assert standing(m)["sending"] is True
    # withdrawn: new changes wait again; authorized again: they go
    assert io.revoke(a.iys_code, a.brand).status_code == 204
    wait_standing(m, lambda s: s.get("reason") == "NOT_AUTHORIZED")
    y = fresh_phone()
    assert m.post(y).status_code == 201
    time.sleep(1.5)
    assert state(m, y) == "PENDING"
    io.grant(a.iys_code, a.brand, MESAJ="write")
    assert wait_for(lambda: state(m, y) == "ACCEPTED", timeout=10)
    assert 'izin_iys_account_blocked{account="acct0",reason="NOT_AUTHORIZED"}' not in (
        m.metrics())


def test_missing_brand_and_type_rights_hold_only_those_changes(tmp_path, sim, run):
    io = Integrator(sim, login=False)
    a = Provider(sim)
    second = a.iys_code * 10 + 1
    r = requests.patch(f"{sim.base}/_sim/providers/{a.iys_code}",
                       json={"brands": [{"brandCode": second, "name": "İkinci"}]}, timeout=10)
    assert r.status_code == 200, r.text
    a.brand_codes = [a.brand, second]
    io.grant(a.iys_code, a.brand, MESAJ="write", ARAMA="read")
    m = run(PartnerModule(tmp_path, sim, io, [a]))
    wait_standing(m, lambda s: s["partner"]["listed"])
    refused = answers(sim, 403)
    x, y, z = fresh_phone(), fresh_phone(), fresh_phone()
    assert m.post(x).status_code == 201
    assert m.post(y, type="ARAMA").status_code == 201
    assert m.use(0, brand=second).post(z).status_code == 201
    m.use(0)
    assert wait_for(lambda: state(m, x) == "ACCEPTED")
    st = wait_standing(m, lambda s: len(s["partner"]["problems"]) == 2)
    assert st["sending"] is True  # the rest of the account goes
    assert sorted(st["partner"]["problems"], key=lambda p: p["brandCode"]) == [
        {"brandCode": a.brand, "type": "ARAMA", "problem": "NO_WRITE"},
        {"brandCode": second, "problem": "BRAND_NOT_AUTHORIZED"}]
    met = m.metrics()
    assert met['izin_iys_partner_problems{account="acct0",brand="%d",type="ARAMA",'
               'problem="NO_WRITE"}' % a.brand] == 1
    assert met['izin_iys_partner_problems{account="acct0",brand="%d",type="",'
               'problem="BRAND_NOT_AUTHORIZED"}' % second] == 1
    time.sleep(1.5)
    assert state(m, y, "ARAMA") == "PENDING"
    assert m.use(0, brand=second).get(z).json()["iys"]["state"] == "PENDING"
    assert answers(sim, 403) == refused == 0
    # the rights come: both changes go by themselves
    io.grant(a.iys_code, a.brand, MESAJ="write", ARAMA="write")
    io.grant(a.iys_code, second, MESAJ="write")
    assert wait_for(lambda: m.use(0, brand=second).get(z).json()["iys"]["state"] ==
                    "ACCEPTED", timeout=10)
    m.use(0)
    assert wait_for(lambda: state(m, y, "ARAMA") == "ACCEPTED", timeout=10)
    assert wait_standing(m, lambda s: s["partner"]["problems"] == [])


def test_without_partner_credentials_the_changes_wait(tmp_path, sim, run):
    io = Integrator(sim, login=False)
    a = Provider(sim)
    io.grant(a.iys_code, a.brand, MESAJ="write")
    m = run(PartnerModule(tmp_path, sim, io, [a], creds=None))
    x = fresh_phone()
    assert m.post(x).status_code == 201
    st = wait_standing(m, lambda s: s.get("reason") == "NO_PARTNER_CREDENTIALS")
    assert st["sending"] is False and "--iys-integrator-user" in st["detail"]
    time.sleep(1)
    assert state(m, x) == "PENDING"
    assert sum(sim_stats(sim)["endpoints"].get("POST /oauth2/token", {}).values()) == 0


def test_the_partners_own_subscription_and_its_consent_limit(tmp_path, sim, run):
    io = Integrator(sim, login=False)
    a = Provider(sim)
    io.grant(a.iys_code, a.brand, MESAJ="write")
    put_sub(sim, a, status="ACTIVE", consentLimit=1)
    m = run(PartnerModule(tmp_path, sim, io, [a], interval=3))
    x, y, z = fresh_phone(), fresh_phone(), fresh_phone()
    assert m.post(x).status_code == 201
    assert wait_for(lambda: state(m, x) == "ACCEPTED")
    # the partner is shown no figures: İYS's H525 holds new consents
    assert m.post(y).status_code == 201
    st = wait_standing(m, lambda s: s.get("reason") == "CONSENT_LIMIT_FULL")
    assert st["subscription"]["used"] is None and state(m, y) == "PENDING"
    assert answers(sim, 422) == 1
    put_sub(sim, a, status="ACTIVE", consentLimit=10)
    # until the next regular read, then it goes
    assert wait_for(lambda: state(m, y) == "ACCEPTED", timeout=15)
    assert answers(sim, 422) == 1
    # the partner's own subscription paused: all its accounts wait
    io.set_subscription(status="PAUSED")
    st = wait_standing(m, lambda s: s.get("reason") == "PARTNER_SUBSCRIPTION_PAUSED" and
                       s["partner"]["subscription"] == {"status": "PAUSED"})
    assert st["sending"] is False
    time.sleep(0.5)
    refused = answers(sim, 403)
    assert m.post(z).status_code == 201
    time.sleep(2)
    assert state(m, z) == "PENDING" and answers(sim, 403) == refused
    io.set_subscription(status="ACTIVE")
    assert wait_for(lambda: state(m, z) == "ACCEPTED", timeout=15)


def test_account_add_refuses_a_partner_with_a_user_of_its_own(tmp_path):
    izin("init", data=tmp_path)
    p = izin("account", "add", "--name", "x", "--iys-code", "1", "--iys-integrator", "9",
             "--iys-user", "u", "--iys-password", "p", data=tmp_path, check=False)
    assert p.returncode == 2 and "exclude each other" in p.stderr
    p = izin("account", "add", "--name", "x", "--iys-code", "1", "--iys-integrator", "x9",
             data=tmp_path, check=False)
    assert p.returncode == 2 and "--iys-integrator" in p.stderr
    out = json.loads(izin("account", "add", "--name", "x", "--iys-code", "1",
                          "--iys-integrator", "9", "--json", data=tmp_path).stdout)
    assert out["integratorCode"] == 9
    lst = json.loads(izin("account", "list", "--json", data=tmp_path).stdout)["list"]
    assert lst == [{"id": out["id"], "name": "x", "iysCode": 1, "mode": "partner",
                    "integratorCode": 9, "iys": None, "plan": None, "limit": None, "used": 0}]
    p = izin("serve", "--listen", "127.0.0.1:0", "--iys-integrator-user", "u", data=tmp_path,
             check=False)
    assert p.returncode == 2 and "go together" in p.stderr


# ---- subscriptions ----------------------------------------------------------------


def test_a_paused_subscription_holds_sending_until_active(tmp_path, sim, run):
    p = Provider(sim)
    m = run(Module(tmp_path, sim, p, "--iys-standing-interval", "1"))
    put_sub(sim, p, status="PAUSED")
    # a pull may meet the pause (İYS's H-code holds the account) before the
    # next read of the subscription shows it: wait for both
    st = wait_standing(m, lambda s: s.get("reason") == "SUBSCRIPTION_PAUSED" and
                       (s.get("subscription") or {}).get("status") == "PAUSED")
    assert st["sending"] is False
    # a pull between the pause and the next read may have met it; since
    # then nothing goes
    time.sleep(0.5)
    refused = answers(sim, 403)
    x = fresh_phone()
    assert m.post(x).status_code == 201
    time.sleep(2)
    g = m.get(x).json()
    assert g["iys"]["state"] == "PENDING" and "error" not in g["iys"]
    assert answers(sim, 403) == refused  # nothing was sent only to be refused
    met = m.metrics()
    assert met['izin_iys_account_blocked{account="acme",reason="SUBSCRIPTION_PAUSED"}'] == 1
    assert met['izin_iys_account_sending{account="acme"}'] == 0
    assert met['izin_iys_queue{account="acme",origin="API"}'] == 1
    assert standing(m)["waiting"] == 1
    # ACTIVE again: the change goes by itself
    put_sub(sim, p, status="ACTIVE")
    assert wait_for(lambda: state(m, x) == "ACCEPTED", timeout=10)
    assert iys_status(p, x).json()["status"] == "ONAY"
    st = standing(m)
    assert st["sending"] is True and st["subscription"]["status"] == "ACTIVE"
    assert "izin_iys_account_blocked" not in " ".join(m.metrics())
    # the other states hold as well, each with its reason
    for status, reason in [("EXPIRED", "SUBSCRIPTION_EXPIRED"),
                           ("CLOSED", "SUBSCRIPTION_CLOSED"), ("NONE", "NO_SUBSCRIPTION")]:
        put_sub(sim, p, status=status)
        wait_standing(m, lambda s: s.get("reason") == reason)
    put_sub(sim, p, status="ACTIVE")
    wait_standing(m, lambda s: s["sending"])


def test_an_h520_answer_holds_the_change_pending(tmp_path, sim, run):
    p = Provider(sim)
    # regular reads every 60 s: the hold below comes from İYS's answer to the send
    m = run(Module(tmp_path, sim, p, "--iys-standing-interval", "60"))
    wait_standing(m, lambda s: s["subscription"] and s["subscription"]["status"] == "ACTIVE")
    put_sub(sim, p, status="PAUSED")
    x = fresh_phone()
    assert m.post(x).status_code == 201
    st = wait_standing(m, lambda s: s.get("reason") == "SUBSCRIPTION_PAUSED")
    assert st["sending"] is False
    time.sleep(1)
    assert state(m, x) == "PENDING"  # not REJECTED
    assert answers(sim, 403) == 1   # the one send, then nothing more
    # held, the account is read every tenth of the interval: ACTIVE brings it back
    put_sub(sim, p, status="ACTIVE")
    assert wait_for(lambda: state(m, x) == "ACCEPTED", timeout=15)
    assert m.metrics()['izin_iys_changes_total{result="rejected"}'] == 0


def test_a_full_consent_limit_holds_new_consents(tmp_path, sim, run):
    p = Provider(sim)
    put_sub(sim, p, status="ACTIVE", consentLimit=1)
    m = run(Module(tmp_path, sim, p, "--iys-standing-interval", "20"))
    a, b = fresh_phone(), fresh_phone()
    assert m.post(a).status_code == 201
    assert wait_for(lambda: state(m, a) == "ACCEPTED")
    # İYS's H525 to the next new record: held, not rejected
    assert m.post(b).status_code == 201
    st = wait_standing(m, lambda s: s.get("reason") == "CONSENT_LIMIT_FULL")
    assert st["sending"] is False
    st = wait_standing(m, lambda s: s["subscription"]["used"] == 1)
    assert st["subscription"]["consentLimit"] == 1
    assert st["subscription"]["consentLimitExceed"] is False
    assert "RETs still go" in st["detail"]
    time.sleep(1)
    assert state(m, b) == "PENDING"
    assert answers(sim, 422) == 1
    met = m.metrics()
    assert met['izin_iys_account_blocked{account="acme",reason="CONSENT_LIMIT_FULL"}'] == 1
    assert met['izin_iys_subscription_consents{account="acme",figure="used"}'] == 1
    assert met['izin_iys_subscription_consents{account="acme",figure="limit"}'] == 1
    # a RET changes a record İYS has: it still goes
    assert m.post(a, "RET", date=tr_now(-60)).status_code == 201
    assert wait_for(lambda: iys_status(p, a).json().get("status") == "RET", timeout=10)
    assert state(m, b) == "PENDING"
    # a bigger package: the new consent goes by itself
    put_sub(sim, p, status="ACTIVE", consentLimit=5)
    assert wait_for(lambda: state(m, b) == "ACCEPTED", timeout=10)
    assert standing(m)["sending"] is True
    assert answers(sim, 422) == 1


@pytest.mark.parametrize("sim", [{"bulk_delay": 2}], indirect=True)
def test_bulk_items_failing_for_the_subscription_wait(tmp_path, sim, run):
    # İYS takes the bulk request while ACTIVE and applies it after a pause:
    # its items fail with H520, and wait instead of being rejected
    p = Provider(sim)
    m = run(Module(tmp_path, sim, p, "--iys-standing-interval", "60"))
    wait_standing(m, lambda s: s["subscription"] and s["subscription"]["status"] == "ACTIVE")
    x, y = fresh_phone(), fresh_phone()
    body = f"{HEADER}\n" + "".join(f"{r},MESAJ,ONAY,HS_WEB,{tr_now(-3600)}\n" for r in (x, y))
    tenant = types.SimpleNamespace(headers=m.h, brand=m.brand)
    assert upload(m.srv, tenant, body).status_code == 202
    assert wait_for(lambda: state(m, x) == "SENT", timeout=15)
    put_sub(sim, p, status="PAUSED")
    wait_standing(m, lambda s: s.get("reason") == "SUBSCRIPTION_PAUSED")
    # İYS applies the request meanwhile (its items fail H520); izin does not
    # poll a held account (İYS would refuse that too): the changes wait
    time.sleep(3)
    assert state(m, x) in ("SENT", "PENDING") and state(m, y) in ("SENT", "PENDING")
    assert m.metrics()['izin_iys_changes_total{result="rejected"}'] == 0
    put_sub(sim, p, status="ACTIVE")
    assert wait_for(lambda: state(m, x) == "ACCEPTED" and state(m, y) == "ACCEPTED",
                    timeout=30)
    assert iys_status(p, y).json()["status"] == "ONAY"
    assert m.metrics()['izin_iys_changes_total{result="rejected"}'] == 0
