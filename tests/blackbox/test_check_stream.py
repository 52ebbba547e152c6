"""The streaming check: POST /v1/brands/{b}/check with text/plain, one
recipient a line in, the allowed (or blocked) ones a line out."""
import requests

from conftest import fresh_phone, tr_now


def add(env, p, status="ONAY", date=None, type="MESAJ"):
    r = env.api.post_consent({"recipient": p, "type": type, "status": status, "source": "HS_WEB",
                              "consentDate": date or tr_now(-3600)})
    assert r.status_code == 201, r.text


def stream(env, body, brand=None, **params):
    params.setdefault("type", "MESAJ")
    return requests.post(env.api.url(f"/v1/brands/{brand or env.acme.brand}/check"),
                         params=params, data=body, timeout=120,
                         headers={**env.acme.headers, "Content-Type": "text/plain"})


def test_allowed_and_blocked_lines(env):
    yes, ret, none = fresh_phone(), fresh_phone(), fresh_phone()
    add(env, yes)
    add(env, ret, date=tr_now(-7200))
    add(env, ret, status="RET")
    body = "\n".join([yes.replace("+90", "0"), "", ret + "\r", "  " + none + "  ",
                      "12,ab", "x" * 5000, "(0" + yes[3:6] + ") " + yes[6:]]) + "\n"
    r = stream(env, body)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain")
    assert r.text == f"{yes}\n{yes}\n"
    assert r.headers["X-Izin-Allowed"] == "2" and r.headers["X-Izin-Blocked"] == "4"
    b = stream(env, body, blocked="1")
    lines = b.text.splitlines()
    assert lines[0] == f"{ret},RET"
    assert lines[1] == f"{none},NO_CONSENT"
    assert lines[2] == '"12,ab",INVALID'
    assert lines[3].endswith("...,INVALID") and len(lines[3]) < 100
    assert len(lines) == 4


def test_informational_and_no_trailing_newline(env):
    none = fresh_phone()
    r = stream(env, none, commercial="false")
    assert r.text == none + "\n"
    assert stream(env, "").text == ""


def test_bad_requests(env):
    assert stream(env, "x", type="FAX").status_code == 422
    assert stream(env, "x", commercial="maybe").status_code == 422
    r = requests.post(env.api.url(f"/v1/brands/{env.acme.brand}/check"), data="x",
                      params={"type": "MESAJ"}, headers={"Content-Type": "text/plain"})
    assert r.status_code == 401
    assert stream(env, "x", brand=env.other.brand).status_code == 404
    # any other content type still goes the JSON way
    r = requests.post(env.api.url(f"/v1/brands/{env.acme.brand}/check"), data="{",
                      headers={**env.acme.headers, "Content-Type": "application/json"})
    assert r.status_code == 400


def _hwm_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def test_large_chunked_list_keeps_memory_flat(env):
    yes = fresh_phone()
    add(env, yes)
    n = 300000

    def gen():
        chunk = []
        for i in range(n):
            chunk.append(yes if i % 2 == 0 else "+90544%07d" % i)
            if len(chunk) == 10000:
                yield ("\n".join(chunk) + "\n").encode()
                chunk = []
        if chunk:
            yield ("\n".join(chunk) + "\n").encode()

    pid = env.server.proc.pid
    before = _hwm_kb(pid)
    r = stream(env, gen())
    assert r.status_code == 200
    assert r.text.count("\n") == n // 2
    assert r.headers["X-Izin-Allowed"] == str(n // 2)
    grown_mb = (_hwm_kb(pid) - before) / 1024
    assert grown_mb < 40, f"server grew by {grown_mb:.0f} MB for a {n}-line list"
