"""Retailers (İYS's bayi) through izin, against the emulator: a brand's
retailers made, listed and deleted at İYS from the CLI and the API; a
consent's retailerCode and retailerAccess through the consent API, bulk
files and the sync engine; an unknown retailer refused with H180 once izin
knows the brand's retailers; bad values refused with İYS's codes."""
import hashlib
import json
import random

import pytest
import requests

from conftest import fresh_phone, izin, store_rows, tr_now, wait_for
from simutil import Provider, start_sim
from test_sync import Module


def tckn():
    """A valid TCKN (its two check digits computed)."""
    d = [random.randint(1, 9)] + [random.randint(0, 9) for _ in range(8)]
    d.append(((d[0] + d[2] + d[4] + d[6] + d[8]) * 7 - (d[1] + d[3] + d[5] + d[7])) % 10)
    d.append(sum(d) % 10)
    return "".join(map(str, d))


def codes(r):
    return [e["code"] for e in r.json()["errors"]]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("retailers")
    sim = start_sim(tmp / "sim")
    p = Provider(sim)
    m = Module(tmp, sim, p)
    yield sim, p, m
    m.srv.stop()
    sim.stop()


def cli_add(m, title="Bayi Ticaret", **extra):
    args = ["retailer", "add", "--brand", str(m.brand), "--title", title, "--name", "Ali Veli",
            "--tckn", tckn(), "--tin", tckn(), "--city-code", "1", "--town-code", "1", "--json"]
    for k, v in extra.items():
        args += ["--" + k.replace("_", "-"), v]
    return json.loads(izin(*args, data=m.data).stdout)


def api_add(m, title="Bayi API", **extra):
    body = {"title": title, "name": "Ayşe Yılmaz", "tckn": tckn(), "tin": tckn(),
            "cityCode": 34, "townCode": "437", **extra}
    return m.s.post(m.srv.base + f"/v1/brands/{m.brand}/retailers", json=body, timeout=30)


def sim_access(sim, p, recipient, type="MESAJ"):
    r = requests.get(sim.base + "/_sim/retailers/access", timeout=10,
                     params={"iysCode": p.iys_code, "brandCode": p.brand, "type": type,
                             "recipientType": "BIREYSEL", "recipient": recipient})
    return r.json() if r.status_code == 200 else None


def post(m, **fields):
    body = {"recipient": fresh_phone(), "type": "MESAJ", "status": "ONAY", "source": "HS_WEB",
            "consentDate": tr_now(-3600), **fields}
    return m.s.post(m.srv.base + f"/v1/brands/{m.brand}/consents", json=body, timeout=10)


def test_a_retailer_made_through_izin_is_at_iys(world):
    sim, p, m = world
    made = cli_add(m, title="Seyhan Bayi", alias="Merkez")
    code = made["retailerCode"]
    assert 10000000 <= code <= 99999999
    assert made["city"] == {"code": "1", "name": "Adana"}
    assert made["town"]["code"] == "1" and made["town"]["name"] == "Seyhan"
    at_iys = p.get(f"/retailers/{code}")
    assert at_iys.status_code == 200, at_iys.text
    assert at_iys.json()["title"] == "Seyhan Bayi" and at_iys.json()["alias"] == "Merkez"
    assert at_iys.json()["city"]["name"] == "Adana"
    # the API makes one too; the list (CLI and API) has both, as İYS has them
    r = api_add(m)
    assert r.status_code == 201, r.text
    code2 = r.json()["retailerCode"]
    assert r.json()["city"] == {"code": "34", "name": "İstanbul"}
    assert p.get(f"/retailers/{code2}").status_code == 200
    listed = json.loads(izin("retailer", "list", "--brand", str(m.brand), "--json",
                             data=m.data).stdout)
    assert {code, code2} <= {x["retailerCode"] for x in listed["list"]}
    assert listed["syncedAt"]
    g = m.s.get(m.srv.base + f"/v1/brands/{m.brand}/retailers", timeout=30)
    assert g.status_code == 200
    assert {code, code2} <= {x["retailerCode"] for x in g.json()["list"]}
    text = izin("retailer", "list", "--brand", str(m.brand), "--cached", data=m.data).stdout
    assert f"{code}\tSeyhan Bayi\tAdana\tSeyhan\tactive\t0" in text


def test_a_retailer_izin_cannot_name_a_place_for_is_refused_before_iys(world):
    sim, p, m = world
    r = api_add(m, cityCode=1, townCode=437)  # town 437 is not in Adana
    assert r.status_code == 422 and r.json()["errors"][0]["location"] == ["townCode"]
    r = api_add(m, cityCode=99)
    assert r.status_code == 422 and r.json()["errors"][0]["location"] == ["cityCode"]
    r = api_add(m, colour="red")
    assert r.status_code == 422 and codes(r) == ["IZ422"]
    bad = izin("retailer", "add", "--brand", str(m.brand), "--title", "X", "--city-code", "82",
               "--town-code", "1", data=m.data, check=False)
    assert bad.returncode == 2 and "city" in bad.stderr


def test_iys_refusals_of_a_retailer_come_back_with_their_codes(world):
    sim, p, m = world
    r = api_add(m, tckn="12345678901")  # a wrong check digit: İYS's H225
    assert r.status_code == 400 and codes(r) == ["H225"], r.text
    bad = izin("retailer", "add", "--brand", str(m.brand), "--title", "T", "--name", "N",
               "--tckn", tckn(), "--city-code", "1", "--town-code", "1", data=m.data, check=False)
    assert bad.returncode == 1 and "H288" in bad.stderr  # no tin


def test_a_consent_with_retailers_reaches_iys_with_them(world):
    sim, p, m = world
    a = cli_add(m)["retailerCode"]
    b = api_add(m).json()["retailerCode"]
    c = api_add(m).json()["retailerCode"]
    r = post(m, retailerCode=a, retailerAccess=[b, str(c)])
    assert r.status_code == 201, r.text
    got = r.json()
    assert got["retailerCode"] == a and got["retailerAccess"] == [b, c]
    phone = got["recipient"]
    seen = wait_for(lambda: sim_access(sim, p, phone), timeout=10)
    assert seen and seen["retailerCode"] == a
    assert sorted(seen["retailerAccess"]) == sorted([a, b, c])
    st = p.post("/consents/status", {"recipient": phone, "recipientType": "BIREYSEL",
                                     "type": "MESAJ"}).json()
    assert st["retailerCode"] == a and st["retailerAccessCount"] == 3
    assert wait_for(lambda: m.get(phone).json()["iys"]["state"] == "ACCEPTED")
    g = m.get(phone).json()
    assert g["retailerCode"] == a and g["retailerAccess"] == [b, c]
    assert g["history"][0]["retailerAccess"] == [b, c]
    # an exact repeat (retailers included) is the same change; other retailers are another
    again = m.s.post(m.srv.base + f"/v1/brands/{m.brand}/consents", timeout=10,
                     json={"recipient": phone, "type": "MESAJ", "status": "ONAY",
                           "source": "HS_WEB", "consentDate": g["consentDate"],
                           "retailerCode": a, "retailerAccess": [b, c]})
    assert again.status_code == 200 and again.json()["id"] == got["id"]
    other = m.s.post(m.srv.base + f"/v1/brands/{m.brand}/consents", timeout=10,
                     json={"recipient": phone, "type": "MESAJ", "status": "ONAY",
                           "source": "HS_WEB", "consentDate": g["consentDate"],
                           "retailerAccess": [b]})
    assert other.status_code == 400 and codes(other) == ["H174"]
    # the log's hash chain covers the retailer fields (store.h): recomputed here
    assert chain_ok(m.data)


def chain_ok(data):
    """Walk the module's consent log and check every row's hash as store.h
    defines it, the retailer fields included."""
    prev = ""
    rows = store_rows(data, "select id, brand_id, recipient, rtype, type, status, source,"
                            " consent_date, creation_ms, origin, evidence, retailer_code,"
                            " retailer_access, prev_hash, hash from consent_log order by id")
    n = 0
    for row in rows:
        f = ["" if v is None else str(v) for v in row[:11]]
        if row[11] is not None or row[12] is not None:
            f.append(("" if row[11] is None else str(row[11])) + "/" + (row[12] or ""))
        if row[13] != prev:
            return False
        h = hashlib.sha256("|".join([prev] + f).encode()).hexdigest()
        if h != row[14]:
            return False
        prev, n = h, n + 1
    return n > 0


def test_an_unknown_retailer_is_refused_with_h180_once_izin_knows_the_list(world):
    sim, p, m = world
    known = api_add(m).json()["retailerCode"]
    izin("retailer", "list", "--brand", str(m.brand), data=m.data)
    taken = {x["retailerCode"] for x in json.loads(
        izin("retailer", "list", "--brand", str(m.brand), "--cached", "--json",
             data=m.data).stdout)["list"]}
    unknown = next(c for c in range(12345678, 99999999, 7777) if c not in taken)
    r = post(m, retailerCode=unknown)
    assert r.status_code == 403 and codes(r) == ["H180"], r.text
    assert r.json()["errors"][0]["location"] == ["retailerCode"]
    r = post(m, retailerCode=known, retailerAccess=[known, unknown])
    assert r.status_code == 403 and codes(r) == ["H180"]
    assert r.json()["errors"][0]["location"] == ["retailerAccess"]
    # a retailer deleted through izin is unknown from then on
    gone = api_add(m).json()["retailerCode"]
    d = m.s.delete(m.srv.base + f"/v1/brands/{m.brand}/retailers/{gone}", timeout=30)
    assert d.status_code == 200 and d.json() == {"retailerCode": gone, "deleted": True}
    assert p.get(f"/retailers/{gone}").status_code == 404
    assert codes(post(m, retailerCode=gone)) == ["H180"]
    # İYS refuses to delete a retailer a consent names; izin says so and keeps it
    used = api_add(m).json()["retailerCode"]
    r = post(m, retailerCode=used)
    assert r.status_code == 201
    assert wait_for(lambda: m.get(r.json()["recipient"]).json()["iys"]["state"] == "ACCEPTED")
    d = izin("retailer", "delete", "--brand", str(m.brand), "--code", str(used), data=m.data,
             check=False)
    assert d.returncode == 1 and "IZ400" in d.stderr
    assert post(m, retailerAccess=[used]).status_code == 201
    # deleting a code İYS does not have: its H058
    d = m.s.delete(m.srv.base + f"/v1/brands/{m.brand}/retailers/{unknown}", timeout=30)
    assert d.status_code == 404 and codes(d) == ["H058"]


def test_before_izin_knows_the_list_iys_judges(tmp_path):
    sim = start_sim(tmp_path / "sim")
    p = Provider(sim)
    m = Module(tmp_path, sim, p)
    try:
        r = post(m, retailerCode=12345678)  # izin has never read this brand's list
        assert r.status_code == 201, r.text
        phone = r.json()["recipient"]
        g = wait_for(lambda: m.get(phone).json()["iys"] if m.get(phone).json()["iys"]["state"]
                     == "REJECTED" else None, timeout=10)
        assert g and g["error"] == "H180"
    finally:
        m.srv.stop()
        sim.stop()


@pytest.mark.parametrize("fields,status,code,where", [
    ({"retailerCode": None}, 400, "H266", "retailerCode"),
    ({"retailerCode": ""}, 400, "H267", "retailerCode"),
    ({"retailerCode": True}, 400, "H085", "retailerCode"),
    ({"retailerCode": "abc"}, 403, "H180", "retailerCode"),
    ({"retailerCode": 1234567}, 403, "H180", "retailerCode"),
    ({"retailerAccess": None}, 422, "H169", "retailerAccess"),
    ({"retailerAccess": []}, 422, "H163", "retailerAccess"),
    ({"retailerAccess": list(range(10000000, 10000101))}, 422, "H126", "retailerAccess"),
    ({"retailerAccess": "12345678"}, 400, "H085", "retailerAccess"),
    ({"retailerAccess": [12345678, "x"]}, 403, "H180", "retailerAccess"),
])
def test_bad_retailer_values_get_iys_codes(world, fields, status, code, where):
    sim, p, m = world
    r = post(m, **fields)
    assert r.status_code == status, r.text
    assert codes(r) == [code] and r.json()["errors"][0]["location"] == [where]


def test_a_format_error_comes_with_the_other_field_errors_and_h180_only_alone(world):
    sim, p, m = world
    r = post(m, type="FAX", retailerCode=None)
    assert r.status_code == 422 and codes(r) == ["H117", "H266"]
    r = post(m, type="FAX", retailerCode="abc")  # a malformed code is judged only after
    assert codes(r) == ["H117"]


def wait_job(m, job_id):
    def done():
        j = m.s.get(m.srv.base + f"/v1/jobs/{job_id}", timeout=10).json()
        return j if j["state"] in ("DONE", "FAILED") else None
    return wait_for(done, timeout=30)


def test_a_bulk_file_with_retailer_columns_reaches_iys(world):
    sim, p, m = world
    a = api_add(m).json()["retailerCode"]
    b = api_add(m).json()["retailerCode"]
    izin("retailer", "list", "--brand", str(m.brand), data=m.data)
    p1, p2, p3, p4 = (fresh_phone() for _ in range(4))
    d = tr_now(-3600)
    csv = ("alici,tip,durum,kaynak,tarih,bayi_kodu,bayi_erisim\n"
           f"{p1},MESAJ,ONAY,HS_WEB,{d},{a},{b}|{a}\n"
           f"{p2},MESAJ,ONAY,HS_WEB,{d},,{b} {a}\n"
           f"{p3},MESAJ,ONAY,HS_WEB,{d},{a},\n"
           f"{p4},MESAJ,ONAY,HS_WEB,{d},12345,\n")
    r = m.s.post(m.srv.base + f"/v1/brands/{m.brand}/consents/bulk", data=csv.encode(),
                 headers={"Content-Type": "text/csv"}, timeout=30)
    assert r.status_code == 202, r.text
    job = wait_job(m, r.json()["jobId"])
    assert job["state"] == "DONE" and job["accepted"] == 3 and job["rejected"] == 1
    assert [(e["line"], e["code"]) for e in job["errors"]] == [(5, "H180")]
    for phone, code, access in ((p1, a, [a, b]), (p2, None, [a, b]), (p3, a, [a])):
        seen = wait_for(lambda: sim_access(sim, p, phone), timeout=15)
        assert seen, phone
        assert seen["retailerCode"] == code and sorted(seen["retailerAccess"]) == sorted(access)
    assert m.get(p1).json()["retailerAccess"] == [b, a]

    # a JSON file takes the fields as the API does
    q1, q2 = fresh_phone(), fresh_phone()
    body = [{"recipient": q1, "type": "MESAJ", "status": "ONAY", "source": "HS_WEB",
             "consentDate": d, "retailerCode": a, "retailerAccess": [b]},
            {"recipient": q2, "type": "MESAJ", "status": "ONAY", "source": "HS_WEB",
             "consentDate": d, "retailerAccess": []}]
    r = m.s.post(m.srv.base + f"/v1/brands/{m.brand}/consents/bulk", json=body, timeout=30)
    job = wait_job(m, r.json()["jobId"])
    assert job["accepted"] == 1 and [e["code"] for e in job["errors"]] == ["H163"]
    seen = wait_for(lambda: sim_access(sim, p, q1), timeout=15)
    assert seen["retailerCode"] == a and sorted(seen["retailerAccess"]) == sorted([a, b])


def test_retailers_of_another_accounts_brand_are_not_found(world):
    sim, p, m = world
    izin("account", "add", "--name", "rival", "--iys-code", "880001", data=m.data)
    izin("brand", "add", "--account", "rival", "--code", "880001", "--name", "R", data=m.data)
    for call in (m.s.get, m.s.post):
        r = call(m.srv.base + "/v1/brands/880001/retailers", timeout=10, json={})
        assert r.status_code == 404
    r = m.s.delete(m.srv.base + "/v1/brands/880001/retailers/12345678", timeout=10)
    assert r.status_code == 404
    assert requests.get(m.srv.base + f"/v1/brands/{m.brand}/retailers",
                        timeout=10).status_code == 401
