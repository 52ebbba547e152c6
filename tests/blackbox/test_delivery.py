"""İYS delivery at İYS's ceiling (issue 9): bulk requests when an account's
queue grows, single adds when it is short, one rate budget for every account
behind the process's address, and per address order throughout."""
import sqlite3
import threading
import time

import requests

from conftest import Server, izin
from simutil import Provider, start_sim, sim_counts
from test_sync import wait_for


def sim_log(sim_dir, recipient):
    con = sqlite3.connect(f"file:{sim_dir}/iys-sim.db?mode=ro", uri=True)
    try:
        return [r[0] for r in con.execute(
            "select status from consent_log where recipient = ? order by id", (recipient,))]
    finally:
        con.close()


class Node:
    """izin serve with one account per emulator provider, all on one İYS URL."""

    def __init__(self, tmp, sim, providers, *extra):
        self.data = tmp / "module"
        izin("init", data=self.data)
        self.keys, self.brands = [], []
        for i, p in enumerate(providers):
            izin("account", "add", "--name", f"acct{i}", "--iys-code", str(p.iys_code),
                 "--iys-url", sim.base, "--iys-user", p.username, "--iys-password", p.password,
                 data=self.data)
            izin("brand", "add", "--account", f"acct{i}", "--code", str(p.brand),
                 "--name", f"Marka {i}", data=self.data)
            self.keys.append(izin("key", "add", "--account", f"acct{i}",
                                  data=self.data).stdout.strip())
            self.brands.append(p.brand)
        self.srv = Server(["serve", "--listen", "127.0.0.1:0", "--data", str(self.data),
                           "--iys-pull-interval", "3600", "--iys-bulk-poll", "1", *extra],
                          self.data).start()

    def session(self, i):
        s = requests.Session()
        s.headers["Authorization"] = "Bearer " + self.keys[i]
        return s

    def post(self, s, i, recipient, status="ONAY", date="2026-01-05 10:00:00"):
        r = s.post(self.srv.base + f"/v1/brands/{self.brands[i]}/consents", timeout=30,
                   json={"recipient": recipient, "type": "MESAJ", "status": status,
                         "source": "HS_WEB", "consentDate": date})
        assert r.status_code in (200, 201), r.text
        return r.json()

    def metrics(self):
        out = {}
        for line in requests.get(self.srv.base + "/metrics", timeout=10).text.splitlines():
            if line and not line.startswith("#"):
                k, v = line.rsplit(" ", 1)
                out[k] = float(v)
        return out

    def stop(self):
        self.srv.stop()


def test_order_per_address_across_bulk_and_single_adds(tmp_path):
    sim = start_sim(tmp_path / "sim", bulk_delay=1)
    p = Provider(sim, login=False)
    node = Node(tmp_path, sim, [p], "--iys-bulk-after", "20")
    try:
        s = node.session(0)
        # queued during an outage: 300 addresses with one change each, and
        # one address that changes its mind eight times in between
        assert requests.put(sim.base + "/_sim/faults", json={"outageSeconds": 600}).ok
        flip = "+905449990001"
        statuses = ["ONAY", "RET"] * 4
        k = 0
        for i in range(300):
            node.post(s, 0, "+90544%07d" % i)
            if i % 40 == 0 and k < len(statuses):
                node.post(s, 0, flip, statuses[k], date="2026-01-05 10:%02d:00" % k)
                k += 1
        while k < len(statuses):
            node.post(s, 0, flip, statuses[k], date="2026-01-05 10:%02d:00" % k)
            k += 1
        assert node.metrics()["izin_outbox_changes"] == 308
        assert requests.put(sim.base + "/_sim/faults", json={}).ok
        assert wait_for(lambda: node.metrics()["izin_outbox_changes"] == 0, timeout=90, step=0.2)
        m = node.metrics()
        # the backlog went in bulk requests, the tail of one address alone
        assert m['izin_iys_requests_total{kind="bulk"}'] >= 1
        assert m['izin_iys_requests_total{kind="single"}'] >= 1
        assert m['izin_iys_changes_total{result="rejected"}'] == 0
        # İYS got the address's changes exactly in the order they were made
        assert sim_log(tmp_path / "sim", flip) == statuses
        counts = sim_counts(tmp_path / "sim")
        assert all(counts.get("+90544%07d" % i) == 1 for i in range(300))
        g = s.get(node.srv.base + f"/v1/brands/{p.brand}/consents/{flip}",
                  params={"type": "MESAJ"}, timeout=10).json()
        assert [h["iys"]["state"] for h in g["history"]] == ["ACCEPTED"] * 8
    finally:
        node.stop()
        sim.stop()


def test_three_accounts_share_one_budget_without_a_429(tmp_path):
    sim = start_sim(tmp_path / "sim", rate=10, bulk_delay=1)
    provs = [Provider(sim, login=False) for _ in range(3)]
    node = Node(tmp_path, sim, provs)
    n = 400
    try:
        assert requests.put(sim.base + "/_sim/faults", json={"outageSeconds": 600}).ok

        def fill(i):
            s = node.session(i)
            for j in range(n):
                node.post(s, i, "+9054%d%07d" % (5 + i, j))
        ts = [threading.Thread(target=fill, args=(i,)) for i in range(3)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert node.metrics()["izin_outbox_changes"] == 3 * n
        before = requests.get(sim.base + "/_sim/stats", timeout=10).json()["rateLimitHits"]["H124"]
        assert requests.put(sim.base + "/_sim/faults", json={}).ok
        assert wait_for(lambda: node.metrics()["izin_outbox_changes"] == 0, timeout=90, step=0.2)
        stats = requests.get(sim.base + "/_sim/stats", timeout=10).json()
        # every account's changes went, in bulk, and İYS never said 429
        assert stats["rateLimitHits"]["H124"] == before
        m = node.metrics()
        assert m["izin_iys_429_total"] == 0
        assert m['izin_iys_requests_total{kind="bulk"}'] >= 3
        # no token requests were spent on İYS while it did not answer: one
        # login an account once it is back (and the odd one in flight when
        # the outage began)
        assert m['izin_iys_requests_total{kind="token"}'] <= 6
        counts = sim_counts(tmp_path / "sim")
        for i in range(3):
            assert all(counts.get("+9054%d%07d" % (5 + i, j)) == 1 for j in range(n))
        # the queue metrics are back to nothing, and the figures are there
        assert not any(k.startswith("izin_iys_queue{") and v for k, v in m.items())
        assert m["izin_iys_oldest_queued_seconds"] == 0
        assert m['izin_iys_seconds_to_iys{quantile="0.99"}'] > 0
    finally:
        node.stop()
        sim.stop()


def test_a_lone_change_goes_at_once_and_recovery_is_probed(tmp_path):
    sim = start_sim(tmp_path / "sim")
    p = Provider(sim, login=False)
    node = Node(tmp_path, sim, [p], "--iys-retry-max", "60")
    try:
        s = node.session(0)
        t0 = time.time()
        node.post(s, 0, "+905460000001")
        assert wait_for(lambda: sim_counts(tmp_path / "sim").get("+905460000001") == 1,
                        timeout=1.0, step=0.02)
        assert time.time() - t0 < 1.0
        # an outage long enough to push the backoff to its longest; İYS is
        # back: the changes arrive within seconds, not after the backoff
        assert requests.put(sim.base + "/_sim/faults", json={"outageSeconds": 600}).ok
        for i in range(5):
            node.post(s, 0, "+90546000001%d" % i)
        time.sleep(8)
        assert node.metrics()["izin_iys_urls_down"] == 1
        assert node.metrics()["izin_iys_queue{account=\"acct0\",origin=\"API\"}"] == 5
        assert requests.put(sim.base + "/_sim/faults", json={}).ok
        t0 = time.time()
        assert wait_for(lambda: node.metrics()["izin_outbox_changes"] == 0, timeout=5, step=0.1)
        assert time.time() - t0 < 3.0
        assert node.metrics()["izin_iys_urls_down"] == 0
    finally:
        node.stop()
        sim.stop()
