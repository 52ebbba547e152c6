"""İYS tokens outlive `izin serve`: a restart, even a crash loop, goes on with
the stored pair instead of spending one of İYS's hourly token requests
(H084); the pair is stored sealed, never in clear."""
import hashlib
import os
import re
import signal
import sqlite3

import requests

from conftest import fresh_phone, store_dump, store_exec, store_rows
from simutil import Provider, sim_counts, start_sim
from test_sync import Module, wait_for

RESTARTS = 10


def token_requests(sim):
    """The emulator's answers to POST /oauth2/token, by HTTP status."""
    return requests.get(sim.base + "/_sim/stats", timeout=10).json()["endpoints"].get("token", {})


def deliver(m):
    """Record a new consent and wait until İYS has it."""
    phone = fresh_phone()
    assert m.post(phone).status_code == 201
    assert wait_for(lambda: m.get(phone).json()["iys"]["state"] == "ACCEPTED", timeout=15), \
        m.srv.stderr()
    return phone


def restart(m, sig):
    m.srv.stop(sig)
    m.start()


def test_a_crash_loop_spends_no_token_requests(tmp_path):
    # İYS's limit is 100 token requests an hour; 3 here, so that logging in
    # again at every start would stop delivery after the third.
    sim = start_sim(tmp_path / "sim", token_limit=3)
    p = Provider(sim, login=False)
    m = Module(tmp_path, sim, p)
    try:
        phones = [deliver(m)]
        assert token_requests(sim) == {"200": 1}
        for i in range(RESTARTS):
            restart(m, signal.SIGKILL if i % 2 == 0 else signal.SIGTERM)
            phones.append(deliver(m))
        # one login for eleven starts, and no H084
        assert token_requests(sim) == {"200": 1}
        rows = sim_counts(tmp_path / "sim")
        assert all(rows.get(ph) == 1 for ph in phones), {ph: rows.get(ph) for ph in phones}
        assert m.metrics()['izin_iys_answers_total{class="rate_limited"}'] == 0
    finally:
        m.srv.stop()
        sim.stop()


def token_candidates(data):
    """Every JWT-shaped string (three base64url parts; the emulator's
    tokens are JWTs) and every 64-hex-digit window of every run of hex
    digits in data."""
    for run in re.finditer(rb"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", data):
        yield run.group(0)
    for run in re.finditer(rb"[0-9a-fA-F]{64,}", data):
        s = run.group(0)
        for i in range(len(s) - 63):
            yield s[i:i + 64].lower()


def clear_tokens_in(folder, hashes):
    """The files under folder holding one of the tokens whose SHA-256 (hex)
    is in hashes, in clear."""
    found = []
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                data = f.read()
            if any(hashlib.sha256(w).hexdigest() in hashes for w in token_candidates(data)):
                found.append(path)
    return found


def clear_tokens_in_store(data, hashes):
    """Whether the store of folder data holds one of those tokens in clear
    (on SQLite its files, which clear_tokens_in reads too; on PostgreSQL
    every value of its database)."""
    dump = store_dump(data)
    assert dump  # the check reads something
    return any(hashlib.sha256(w).hexdigest() in hashes for w in token_candidates(dump))


def test_the_stored_tokens_are_sealed(tmp_path):
    sim = start_sim(tmp_path / "sim")
    p = Provider(sim, login=False)
    m = Module(tmp_path, sim, p)
    try:
        deliver(m)
        # the emulator keeps the SHA-256 of every token it issued
        con = sqlite3.connect(f"file:{tmp_path / 'sim'}/iys-sim.db?mode=ro", uri=True)
        hashes = {h for (h,) in con.execute("select hash from tokens")}
        con.close()
        assert len(hashes) == 2  # one access and one refresh token
        rows = store_rows(m.data, "select base_url, username, access, refresh, access_exp,"
                                  " refresh_exp from iys_tokens")
        assert len(rows) == 1
        base_url, username, access, refresh, access_exp, refresh_exp = rows[0]
        assert (base_url, username) == (sim.base, p.username)
        assert access.startswith("sb1:") and refresh.startswith("sb1:")
        assert 0 < access_exp < refresh_exp
        # nowhere in clear: not in the database, its WAL or the logs, while
        # izin runs and after a kill
        assert clear_tokens_in(m.data, hashes) == []
        assert not clear_tokens_in_store(m.data, hashes)
        m.srv.proc.send_signal(signal.SIGKILL)
        m.srv.proc.wait()
        assert clear_tokens_in(m.data, hashes) == []
        assert not clear_tokens_in_store(m.data, hashes)
        # the check finds a token when one is there
        (tmp_path / "probe").mkdir()
        (tmp_path / "probe" / "x").write_text("a token: " + p.login()["access_token"])
        assert clear_tokens_in(tmp_path / "probe", {hashlib.sha256(
            p.tokens["access_token"].encode()).hexdigest()}) == [str(tmp_path / "probe" / "x")]
        # and in the store (a token written there by hand)
        store_exec(m.data, "update iys_tokens set username = ?",
                   ("a token: " + p.tokens["access_token"] + "\n",))
        assert clear_tokens_in_store(m.data, {hashlib.sha256(
            p.tokens["access_token"].encode()).hexdigest()})
    finally:
        m.srv.stop()
        sim.stop()


def test_a_pair_is_not_used_for_another_iys_url(tmp_path):
    sim = start_sim(tmp_path / "sim")
    p = Provider(sim, login=False)
    m = Module(tmp_path, sim, p)
    port = sim.base.rsplit(":", 1)[1]

    def set_url(url):
        assert store_exec(m.data, "update accounts set iys_url = ?", (url,)) == 1
    try:
        deliver(m)
        assert token_requests(sim) == {"200": 1}
        # the same İYS, written with a trailing slash: the pair goes on
        m.srv.stop()
        set_url(sim.base + "/")
        m.start()
        deliver(m)
        assert token_requests(sim) == {"200": 1}
        # the account moved to another URL: that pair is not offered there
        m.srv.stop()
        set_url(f"http://localhost:{port}")
        m.start()
        deliver(m)
        assert token_requests(sim) == {"200": 2}
        # and the new one goes on after a restart
        restart(m, signal.SIGKILL)
        deliver(m)
        assert token_requests(sim) == {"200": 2}
    finally:
        m.srv.stop()
        sim.stop()
