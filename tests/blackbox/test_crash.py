"""Durability: SIGKILL in the middle of a stream of writes loses no change
that was answered 201."""
import signal
import threading

import requests

from conftest import Server, make_store


def test_sigkill_loses_no_acknowledged_change(tmp_path):
    data = tmp_path / "data"
    acme, _ = make_store(data)
    srv = Server(["serve", "--listen", "127.0.0.1:0", "--data", str(data)], data).start()
    acked = []
    lock = threading.Lock()
    stop = threading.Event()

    def writer(w):
        s = requests.Session()
        i = 0
        while not stop.is_set() and i < 5000:
            p = "+90533%03d%04d" % (w, i)
            i += 1
            try:
                r = s.post(srv.base + f"/v1/brands/{acme.brand}/consents", timeout=5,
                           headers=acme.headers,
                           json={"recipient": p, "type": "MESAJ", "status": "ONAY",
                                 "source": "HS_WEB", "consentDate": "2026-01-05 10:00:00"})
            except requests.RequestException:
                return
            if r.status_code == 201:
                with lock:
                    acked.append(p)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    # let some writes land, then kill the server without warning
    for _ in range(400):
        with lock:
            if len(acked) >= 200:
                break
        threading.Event().wait(0.01)
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait()
    stop.set()
    for t in threads:
        t.join()
    srv.stop()
    assert len(acked) >= 50

    srv2 = Server(["serve", "--listen", "127.0.0.1:0", "--data", str(data)], data).start()
    try:
        s = requests.Session()
        missing = [p for p in acked
                   if s.get(srv2.base + f"/v1/brands/{acme.brand}/consents/{p}",
                            params={"type": "MESAJ"}, headers=acme.headers).status_code != 200]
        assert missing == []
        # the store is still consistent: a check over everything answers
        r = s.post(srv2.base + f"/v1/brands/{acme.brand}/check", headers=acme.headers,
                   json={"type": "MESAJ", "recipients": acked})
        assert r.json()["counts"]["allowed"] == len(set(acked))
    finally:
        srv2.stop()
