"""Black-box tests of the İYS emulator's retailers (bayi): creating,
listing, reading and deleting a brand's retailers; giving, replacing,
listing and taking away their access to consents; the retailerCode and
retailerAccess fields of the single (v1, v2) and bulk consent adds; and
all of it surviving a restart. Each call's documented codes are checked
with the status İYS gives them (docs/IYS-EMULATOR.md, "Retailers").
"""
import itertools
import random
import time

import pytest
import requests

from conftest import tr_now
from simutil import Provider, consent, start_sim

_n = itertools.count(1)


def phone():
    return "+90534%07d" % next(_n)


def email():
    return f"bayi-alici{next(_n)}@ornek.com.tr"


def codes(r):
    return [e["code"] for e in r.json()["errors"]]


def tckn():
    """A valid, unique TCKN (its two check digits computed)."""
    d = [random.randint(1, 9)] + [random.randint(0, 9) for _ in range(8)]
    d.append(((d[0] + d[2] + d[4] + d[6] + d[8]) * 7 - (d[1] + d[3] + d[5] + d[7])) % 10)
    d.append(sum(d) % 10)
    return "".join(map(str, d))


def vkn():
    """A valid 10-digit tax number (VKN)."""
    d = [random.randint(0, 9) for _ in range(9)]
    total = 0
    for i in range(9):
        t = (d[i] + 9 - i) % 10
        v = (t * 2 ** (9 - i)) % 9
        total += 9 if t and not v else v
    return "".join(map(str, d)) + str((10 - total % 10) % 10)


def mersis():
    return "0" + "".join(str(random.randint(0, 9)) for _ in range(15))


def retailer_body(**kw):
    body = {"title": "XYZ Ticaret", "mersis": mersis(), "alias": "Şişli Mağazası",
            "name": "Adım Soyadım", "tckn": tckn(), "mobile": "+905325001111", "tin": vkn(),
            "city": {"code": "34", "name": "İstanbul"}, "town": {"code": "01", "name": "Kadıköy"},
            "status": "active"}
    body.update(kw)
    return {k: v for k, v in body.items() if v is not None}


def create(p, brand=None, **kw):
    r = p.post("/retailers", retailer_body(**kw), brand=brand)
    assert r.status_code == 201, r.text
    return r.json()["retailerCode"]


def add_consent(p, recipient, type="MESAJ", **kw):
    r = p.post("/consents", consent(recipient, type=type, **kw))
    assert r.status_code == 200, r.text
    return r.json()


def sim_access(p, recipient, type="MESAJ", rtype="BIREYSEL", brand=None):
    r = requests.get(p.sim.base + "/_sim/retailers/access", timeout=10,
                     params={"iysCode": p.iys_code, "brandCode": brand or p.brand,
                             "recipientType": rtype, "type": type, "recipient": recipient})
    return r


def access_of(p, recipient, type="MESAJ"):
    r = sim_access(p, recipient, type)
    assert r.status_code == 200, r.text
    return r.json()


def status_of(p, recipient, type="MESAJ"):
    r = p.post("/consents/status", {"recipient": recipient, "recipientType": "BIREYSEL",
                                    "type": type})
    assert r.status_code == 200, r.text
    return r.json()


def put(p, path, body):
    return p.session.put(p.url(path), json=body, timeout=30)


def key(recipient, type="MESAJ"):
    return {"type": type, "recipientType": "BIREYSEL", "recipient": recipient}


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    s = start_sim(tmp_path_factory.mktemp("sim"))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def prov(sim):
    return Provider(sim)


# ---- createRetailer, searchSingleRetailer, searchRetailers -----------------------

def test_create_and_get(sim, prov):
    body = retailer_body()
    r = prov.post("/retailers", body)
    assert r.status_code == 201, r.text
    code = r.json()["retailerCode"]
    assert isinstance(code, int) and 10000000 <= code <= 99999999
    r = prov.get(f"/retailers/{code}")
    assert r.status_code == 200, r.text
    got = r.json()
    assert got == {"title": "XYZ Ticaret", "mersis": body["mersis"], "alias": "Şişli Mağazası",
                   "name": "Adım Soyadım", "tckn": body["tckn"], "mobile": "+905325001111",
                   "tin": body["tin"], "city": {"code": "34", "name": "İstanbul"},
                   "town": {"code": "01", "name": "Kadıköy"}, "status": "active",
                   "retailerAccessCount": 0}


def test_create_optional_fields_and_numbers(sim, prov):
    # mersis, alias, mobile and status are optional (status defaults to
    # active); tckn, tin and the place codes may come as numbers.
    t = tckn()
    v = vkn()
    while v[0] == "0":  # a number drops a leading 0: one in ten VKNs would be 9 digits
        v = vkn()
    code = create(prov, mersis=None, alias=None, mobile=None, status=None, tckn=int(t),
                  tin=int(v), city={"code": 6, "name": "Ankara"})
    got = prov.get(f"/retailers/{code}").json()
    assert got["status"] == "active" and got["tckn"] == t and got["city"]["code"] == "6"
    assert "mersis" not in got and "alias" not in got and "mobile" not in got
    # an 11-digit tin is a TCKN
    create(prov, tin=tckn())


@pytest.mark.parametrize("change,code", [
    ({"title": None}, "H214"), ({"title": "  "}, "H214"), ({"name": ""}, "H215"),
    ({"tckn": None}, "H216"), ({"tckn": "1234567890"}, "H226"),
    ({"tckn": "12345678901"}, "H225"), ({"tckn": "1234567890a"}, "H225"),
    ({"mersis": "12345678901234ab"}, "H227"), ({"mersis": "56518556720"}, "H228"),
    ({"mobile": "05325001111"}, "H224"), ({"mobile": "+90532500111122"}, "H224"),
    ({"tin": None}, "H288"), ({"tin": "84505254x0"}, "H243"), ({"tin": "845052547"}, "H244"),
    ({"tin": "8450525471"}, "H243"),
    ({"city": None}, "H217"), ({"city": {"name": "İstanbul"}}, "H218"),
    ({"city": {"code": "34"}}, "H219"), ({"town": None}, "H220"),
    ({"town": {"name": "Kadıköy", "code": ""}}, "H221"), ({"town": {"code": "01"}}, "H222"),
    ({"status": "deleted"}, "H201"), ({"title": "XYZ <Ticaret>"}, "H229"),
    ({"alias": "Şişli@Mağaza"}, "H229"), ({"title": "x" * 256}, "H017"),
    ({"city": "ISTANBUL"}, "H016"), ({"title": 12}, "H016"), ({"retailerCode": 1}, "H016"),
])
def test_create_validation(sim, prov, change, code):
    r = prov.post("/retailers", retailer_body(**change))
    assert r.status_code == 400, r.text
    assert codes(r) == [code]


def test_create_messages_name_the_field(sim, prov):
    r = prov.post("/retailers", retailer_body(alias="a#b"))
    assert r.json()["errors"][0]["message"] == "alias alfanümerik olmalıdır."
    r = prov.post("/retailers", retailer_body(name="n" * 300))
    assert r.json()["errors"][0]["message"] == \
        "name sahası için 255 karakter üst sınırına ulaşıldı!"


def test_create_body_errors(sim, prov):
    r = prov.session.post(prov.url("/retailers"), data="{", timeout=10,
                          headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and codes(r) == ["H014"]
    r = prov.post("/retailers", [retailer_body()])
    assert r.status_code == 400 and codes(r) == ["H016"]


def test_create_unique_mersis_and_tckn(sim):
    p = Provider(sim)
    m, t = mersis(), tckn()
    create(p, mersis=m, tckn=t)
    r = p.post("/retailers", retailer_body(mersis=m))
    assert r.status_code == 400 and codes(r) == ["H230"]
    r = p.post("/retailers", retailer_body(tckn=t))
    assert r.status_code == 400 and codes(r) == ["H231"]
    m2, t2 = mersis(), tckn()
    create(p, mersis=m2, tckn=t2, status="passive")
    r = p.post("/retailers", retailer_body(mersis=m2))
    assert r.status_code == 400 and codes(r) == ["H253"]
    assert "mersis" in r.json()["errors"][0]["message"]
    r = p.post("/retailers", retailer_body(tckn=t2))
    assert r.status_code == 400 and codes(r) == ["H253"]
    assert "kimlik" in r.json()["errors"][0]["message"]
    # unique within a provider only
    create(Provider(sim), mersis=m, tckn=t)


def test_create_authorization(sim, prov):
    r = requests.post(prov.url("/retailers"), json=retailer_body(), timeout=10)
    assert r.status_code == 401 and codes(r) == ["H351"]
    r = prov.post("/retailers", retailer_body(), brand=999999991)
    assert r.status_code == 404 and codes(r) == ["H018"]


def test_list_full_short_and_paging(sim):
    p = Provider(sim)
    made = [create(p, title=f"Bayi {i}") for i in range(5)]
    r = p.get("/retailers")
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["pagination"] == {"offset": 0, "pageSize": 100, "totalCount": 5, "currentPage": 1}
    assert [x["retailerCode"] for x in page["list"]] == made
    assert page["list"][0]["title"] == "Bayi 0" and "tckn" in page["list"][0]
    assert page["list"][0]["retailerAccessCount"] == 0
    r = p.get("/retailers", params={"offset": 2, "limit": 2, "short": "true"})
    page = r.json()
    assert page["pagination"] == {"offset": 2, "pageSize": 2, "totalCount": 5, "currentPage": 2}
    assert page["list"] == [
        {"title": f"Bayi {i}", "city": {"code": "34", "name": "İstanbul"},
         "retailerAccessCount": 0, "retailerCode": made[i], "status": "active"} for i in (2, 3)]
    # all=true lists every field even with short
    r = p.get("/retailers", params={"short": "true", "all": "true", "limit": 1})
    assert "tckn" in r.json()["list"][0]
    # another brand's list is its own
    assert p.get("/retailers", brand=p.brand).json()["pagination"]["totalCount"] == 5
    assert Provider(sim).get("/retailers").json()["list"] == []


@pytest.mark.parametrize("params,code", [
    ({"limit": "x"}, "H183"), ({"limit": 0}, "H187"), ({"limit": 101}, "H186"),
    ({"offset": -1}, "H182"), ({"short": "maybe"}, "IZ400"),
])
def test_list_paging_errors(sim, prov, params, code):
    r = prov.get("/retailers", params=params)
    assert r.json()["errors"][0]["code"] == code
    assert r.status_code == (400 if code == "IZ400" else 422)


def test_get_errors(sim, prov):
    r = prov.get("/retailers/12345678")
    assert r.status_code == 404 and codes(r) == ["H058"]
    assert r.json()["errors"][0]["message"] == "Bayi:12345678 bulunamadı."
    r = prov.get("/retailers/abc")
    assert r.status_code == 404 and codes(r) == ["H058"]
    other = create(Provider(sim))
    r = prov.get(f"/retailers/{other}")
    assert r.status_code == 403 and codes(r) == ["H353"]


# ---- deleteRetailer ----------------------------------------------------------

def test_delete(sim, prov):
    code = create(prov)
    r = prov.session.delete(prov.url(f"/retailers/{code}"), timeout=10)
    assert r.status_code == 200 and r.text == "Başarı"
    assert prov.get(f"/retailers/{code}").status_code == 404
    r = prov.session.delete(prov.url(f"/retailers/{code}"), timeout=10)
    assert r.status_code == 404 and codes(r) == ["H058"]
    other = create(Provider(sim))
    r = prov.session.delete(prov.url(f"/retailers/{other}"), timeout=10)
    assert r.status_code == 403 and codes(r) == ["H353"]


def test_delete_refused_while_related(sim, prov):
    a, b = create(prov), create(prov)
    rcp = phone()
    add_consent(prov, rcp)
    assert prov.post("/consents/retailers/access",
                     {**key(rcp), "retailerAccess": [a]}).status_code == 200
    r = prov.session.delete(prov.url(f"/retailers/{a}"), timeout=10)
    assert r.status_code == 400 and codes(r) == ["IZ400"]
    # a mediator (retailerCode of a consent) is related too
    rcp2 = phone()
    add_consent(prov, rcp2, retailerCode=b)
    r = prov.post("/consents/retailers/access/remove/all",
                  {"type": "MESAJ", "recipientType": "BIREYSEL", "recipients": [rcp2]})
    assert r.status_code == 202, r.text
    assert access_of(prov, rcp2) == {"retailerCode": b, "retailerAccess": []}
    r = prov.session.delete(prov.url(f"/retailers/{b}"), timeout=10)
    assert r.status_code == 400
    # once its access is gone, a is free to go
    r = prov.post("/consents/retailers/access/remove/all",
                  {"type": "MESAJ", "recipientType": "BIREYSEL", "recipients": [rcp]})
    assert r.status_code == 202
    r = prov.session.delete(prov.url(f"/retailers/{a}"), timeout=10)
    assert r.status_code == 200, r.text


# ---- addRetailers ------------------------------------------------------------

def test_add_access(sim, prov):
    a, b = create(prov), create(prov)
    rcp = phone()
    add_consent(prov, rcp)
    r = prov.post("/consents/retailers/access", {**key(rcp), "retailerAccess": [a]})
    assert r.status_code == 200, r.text
    assert len(r.json()["transactionId"]) == 36 and len(r.json()["creationDate"]) == 19
    r = prov.post("/consents/retailers/access", {**key(rcp), "retailerAccess": [b, a]})
    assert r.status_code == 200, r.text
    assert access_of(prov, rcp) == {"retailerCode": None, "retailerAccess": sorted([a, b])}
    assert status_of(prov, rcp)["retailerAccessCount"] == 2
    assert prov.get(f"/retailers/{a}").json()["retailerAccessCount"] == 1


def test_add_access_errors(sim, prov):
    a = create(prov)
    other = create(Provider(sim))
    rcp = phone()
    add_consent(prov, rcp)
    # no such consent
    r = prov.post("/consents/retailers/access", {**key(phone()), "retailerAccess": [a]})
    assert r.status_code == 400 and codes(r) == ["H401"]
    # no such retailer: 403 H180 at its place in the list
    r = prov.post("/consents/retailers/access", {**key(rcp), "retailerAccess": [a, 73064462]})
    assert r.status_code == 403, r.text
    e = r.json()["errors"][0]
    assert e["code"] == "H180" and e["location"] == ["retailerAccess", 1]
    assert e["value"] == 73064462
    r = prov.post("/consents/retailers/access", {**key(rcp), "retailerAccess": [other]})
    assert r.status_code == 403 and codes(r) == ["H353"]
    assert access_of(prov, rcp)["retailerAccess"] == []
    r = prov.post("/consents/retailers/access", [1])
    assert r.status_code == 400 and codes(r) == ["H090"]
    r = prov.post("/consents/retailers/access", {**key(rcp), "retailerAccess": [a], "x": 1})
    assert r.status_code == 400 and codes(r) == ["H090"]


@pytest.mark.parametrize("body,code,location", [
    ({"recipientType": "BIREYSEL", "recipient": "+905320000001", "retailerAccess": [1]},
     "H111", ["type"]),
    ({"type": "EPOSTAA", "recipientType": "BIREYSEL", "recipient": "a@b.com",
      "retailerAccess": [1]}, "H117", ["type"]),
    ({"type": "MESAJ", "recipient": "+905320000001", "retailerAccess": [1]},
     "H170", ["recipientType"]),
    ({"type": "MESAJ", "recipientType": "TACIRR", "recipient": "+905320000001",
      "retailerAccess": [1]}, "H116", ["recipientType"]),
    ({"type": "MESAJ", "recipientType": "BIREYSEL", "retailerAccess": [1]},
     "H114", ["recipient"]),
    ({"type": "MESAJ", "recipientType": "BIREYSEL", "recipient": "905546789898",
      "retailerAccess": [1]}, "H121", ["recipient"]),
    ({"type": "EPOSTA", "recipientType": "BIREYSEL", "recipient": "ornekadiniz.com",
      "retailerAccess": [1]}, "H120", ["recipient"]),
    ({"type": "MESAJ", "recipientType": "BIREYSEL", "recipient": "+905320000001"},
     "H169", ["retailerAccess"]),
    ({"type": "MESAJ", "recipientType": "BIREYSEL", "recipient": "+905320000001",
      "retailerAccess": []}, "H163", ["retailerAccess"]),
    ({"type": "MESAJ", "recipientType": "BIREYSEL", "recipient": "+905320000001",
      "retailerAccess": list(range(1, 102))}, "H126", ["retailerAccess"]),
])
def test_add_access_validation(sim, prov, body, code, location):
    r = prov.post("/consents/retailers/access", body)
    assert r.status_code == 422, r.text
    e = r.json()["errors"][0]
    assert (e["code"], e["location"]) == (code, location)


# ---- overrideRetailers, the list, remove, remove all ---------------------------

def test_override(sim, prov):
    a, b, c = create(prov), create(prov), create(prov)
    r1, r2 = phone(), phone()
    add_consent(prov, r1, retailerCode=a, retailerAccess=[b])
    add_consent(prov, r2)
    r = put(prov, "/consents/retailers/access",
            {"type": "MESAJ", "recipientType": "BIREYSEL", "recipients": [r1, r1, r2, phone()],
             "retailerAccess": [c]})
    assert r.status_code == 202, r.text
    assert r.json() == 2  # the consents found
    # the mediator's access goes too; it stays the consent's retailerCode
    assert access_of(prov, r1) == {"retailerCode": a, "retailerAccess": [c]}
    assert access_of(prov, r2)["retailerAccess"] == [c]
    st = status_of(prov, r1)
    assert st["retailerCode"] == a and st["retailerAccessCount"] == 1


@pytest.mark.parametrize("change,status,code,location", [
    ({"recipients": None}, 422, "H168", ["recipients"]),
    ({"recipients": []}, 422, "H164", ["recipients"]),
    ({"recipients": ["+905320000001"] * 101}, 422, "H127", ["recipients"]),
    ({"recipients": ["+905320000001", "905546789898"]}, 422, "H121", ["recipients", 1]),
    ({"retailerAccess": None}, 422, "H169", ["retailerAccess"]),
    ({"retailerAccess": []}, 422, "H163", ["retailerAccess"]),
    ({"retailerAccess": list(range(1, 102))}, 422, "H126", ["retailerAccess"]),
    ({"type": None}, 422, "H111", ["type"]),
    ({"recipientType": "X"}, 422, "H116", ["recipientType"]),
    ({"retailerAccess": [12786531]}, 403, "H180", ["retailerAccess", 0]),
])
def test_override_errors(sim, prov, change, status, code, location):
    body = {"type": "MESAJ", "recipientType": "BIREYSEL", "recipients": ["+905320000001"],
            "retailerAccess": [1]}
    body.update(change)
    body = {k: v for k, v in body.items() if v is not None}
    r = put(prov, "/consents/retailers/access", body)
    assert r.status_code == status, r.text
    e = r.json()["errors"][0]
    assert (e["code"], e["location"]) == (code, location)


def test_override_bad_body(sim, prov):
    r = put(prov, "/consents/retailers/access", ["x"])
    assert r.status_code == 400 and codes(r) == ["H171"]


def test_list_of_one_consent(sim, prov):
    made = sorted(create(prov, title=f"Liste {i}") for i in range(3))
    rcp = email()
    add_consent(prov, rcp, type="EPOSTA", retailerAccess=made)
    r = prov.post("/consent/retailers/access/list", key(rcp, "EPOSTA"))
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["pagination"] == {"offset": 0, "pageSize": 100, "totalCount": 3}
    assert [x["retailerCode"] for x in page["list"]] == made
    first = page["list"][0]
    assert set(first) == {"title", "mersis", "alias", "name", "tckn", "mobile", "city", "town",
                          "retailerCode"}
    r = prov.post("/consent/retailers/access/list?offset=1&limit=1", key(rcp, "EPOSTA"))
    assert [x["retailerCode"] for x in r.json()["list"]] == [made[1]]
    assert r.json()["pagination"] == {"offset": 1, "pageSize": 1, "totalCount": 3}
    # a consent with no retailer, or none at all: an empty page
    r = prov.post("/consent/retailers/access/list", key(email(), "EPOSTA"))
    assert r.status_code == 200 and r.json()["list"] == []
    # the plural path is not İYS's
    r = prov.post("/consents/retailers/access/list", key(rcp, "EPOSTA"))
    assert r.status_code in (404, 405)


@pytest.mark.parametrize("query,body,status,code", [
    ("", [1], 400, "H173"),
    ("", {"recipientType": "BIREYSEL", "recipient": "a@b.com"}, 422, "H111"),
    ("", {"type": "EPOSTAA", "recipientType": "BIREYSEL", "recipient": "a@b.com"}, 422, "H117"),
    ("", {"type": "EPOSTA", "recipientType": "BIREYSEL"}, 422, "H114"),
    ("", {"type": "MESAJ", "recipientType": "BIREYSEL", "recipient": "905543213232"}, 422,
     "H121"),
    ("", {"type": "MESAJ", "recipientType": "TACIRR", "recipient": "+905543213232"}, 422,
     "H116"),
    ("", {"type": "EPOSTA", "recipientType": "BIREYSEL", "recipient": "ornek"}, 422, "H120"),
    ("", {"type": "MESAJ", "recipientType": "BIREYSEL", "recipient": "+905543213232213232"},
     422, "H166"),
    ("?limit=101", {"type": "EPOSTA", "recipientType": "BIREYSEL", "recipient": "a@b.com"},
     422, "H186"),
    ("?offset=-1", {"type": "EPOSTA", "recipientType": "BIREYSEL", "recipient": "a@b.com"},
     422, "H182"),
    ("?limit=0", {"type": "EPOSTA", "recipientType": "BIREYSEL", "recipient": "a@b.com"},
     422, "H187"),
])
def test_list_of_one_consent_errors(sim, prov, query, body, status, code):
    r = prov.post("/consent/retailers/access/list" + query, body)
    assert r.status_code == status, r.text
    assert codes(r)[0] == code


def test_remove_and_remove_all(sim, prov):
    a, b = create(prov), create(prov)
    r1, r2 = phone(), phone()
    add_consent(prov, r1, retailerAccess=[a, b])
    add_consent(prov, r2, retailerAccess=[a, b])
    r = prov.post("/consents/retailers/access/remove",
                  {"type": "MESAJ", "recipientType": "BIREYSEL", "recipients": [r1, r2],
                   "retailerAccess": [a]})
    assert r.status_code == 202 and r.json() == 2
    assert access_of(prov, r1)["retailerAccess"] == [b]
    assert access_of(prov, r2)["retailerAccess"] == [b]
    r = prov.post("/consents/retailers/access/remove/all",
                  {"type": "MESAJ", "recipientType": "BIREYSEL", "recipients": [r1]})
    assert r.status_code == 202 and r.json() == 1
    assert access_of(prov, r1)["retailerAccess"] == []
    assert access_of(prov, r2)["retailerAccess"] == [b]
    assert status_of(prov, r2)["retailerAccessCount"] == 1
    assert "retailerAccessCount" not in status_of(prov, r1)


def test_remove_errors(sim, prov):
    base = {"type": "MESAJ", "recipientType": "BIREYSEL", "recipients": ["+905320000001"]}
    r = prov.post("/consents/retailers/access/remove", {**base, "retailerAccess": [12389900]})
    assert r.status_code == 404 and codes(r) == ["H058"]
    assert r.json()["errors"][0]["location"] == ["retailerAccess", 0]
    r = prov.post("/consents/retailers/access/remove", [1])
    assert r.status_code == 400 and codes(r) == ["H172"]
    r = prov.post("/consents/retailers/access/remove", base)
    assert r.status_code == 422 and codes(r) == ["H169"]
    r = prov.post("/consents/retailers/access/remove", {**base, "recipients": []})
    assert r.status_code == 422 and "H164" in codes(r)
    r = prov.post("/consents/retailers/access/remove/all", [1])
    assert r.status_code == 400 and codes(r) == ["H172"]
    r = prov.post("/consents/retailers/access/remove/all", {**base, "retailerAccess": [1]})
    assert r.status_code == 400 and codes(r) == ["H172"]
    r = prov.post("/consents/retailers/access/remove/all",
                  {**base, "recipients": ["ornekmail.com"], "type": "EPOSTA"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["location"] == ["recipients", 0]
    r = prov.post("/consents/retailers/access/remove/all", {**base, "type": "X"})
    assert r.status_code == 422 and codes(r) == ["H117"]


# ---- the retailer fields of the consent adds --------------------------------------

@pytest.mark.parametrize("v2", [False, True])
def test_single_add_with_retailers(sim, prov, v2):
    a, b, c = create(prov, title="Aracı Bayi"), create(prov), create(prov)
    rcp = phone()
    r = prov.post("/consents", consent(rcp, retailerCode=a, retailerAccess=[b, c]), v2=v2)
    assert r.status_code == 200, r.text
    assert access_of(prov, rcp) == {"retailerCode": a, "retailerAccess": sorted([a, b, c])}
    st = status_of(prov, rcp)
    assert st["retailerCode"] == a and st["retailerTitle"] == "Aracı Bayi"
    assert st["retailerAccessCount"] == 3
    # a later change adds its retailers; a string of digits names one too
    d = create(prov)
    r = prov.post("/consents", consent(rcp, status="RET", date=tr_now(-60),
                                       retailerAccess=[str(d)]), v2=v2)
    assert r.status_code == 200, r.text
    assert access_of(prov, rcp)["retailerAccess"] == sorted([a, b, c, d])
    # the history and the change answers show no retailer fields (nor does İYS's)
    h = prov.post("/consents/history", key(rcp)).json()["list"]
    assert len(h) == 2 and all("retailerCode" not in x for x in h)


def test_single_add_v2_repeat_adds_access(sim, prov):
    a, b = create(prov), create(prov)
    rcp = phone()
    body = consent(rcp, retailerAccess=[a])
    first = prov.post("/consents", body, v2=True).json()
    again = prov.post("/consents", {**body, "retailerAccess": [b]}, v2=True)
    assert again.status_code == 200 and again.json() == first
    assert access_of(prov, rcp)["retailerAccess"] == sorted([a, b])


@pytest.mark.parametrize("v2", [False, True])
def test_single_add_h180_h353(sim, prov, v2):
    a = create(prov)
    other = create(Provider(sim))
    rcp = phone()
    r = prov.post("/consents", consent(rcp, retailerAccess=[a, 12786531]), v2=v2)
    assert r.status_code == 403, r.text
    assert r.json()["errors"] == [{
        "code": "H180", "location": ["retailerAccess", 1], "value": 12786531,
        "message": "İstek gövdesinde yer alan bayi İYS numarasıyla (retailerCode) herhangi bir "
                   "bayi bulunamadı."}]
    r = prov.post("/consents", consent(rcp, retailerCode=55550127), v2=v2)
    assert r.status_code == 403
    e = r.json()["errors"][0]
    assert (e["code"], e["location"], e["value"]) == ("H180", ["retailerCode"], 55550127)
    r = prov.post("/consents", consent(rcp, retailerCode="abc"), v2=v2)
    assert r.status_code == 403 and codes(r) == ["H180"]
    r = prov.post("/consents", consent(rcp, retailerAccess=[other]), v2=v2)
    assert r.status_code == 403 and codes(r) == ["H353"]
    # nothing was recorded
    r = prov.post("/consents/status", key(rcp))
    assert r.status_code == 404


@pytest.mark.parametrize("v2", [False, True])
@pytest.mark.parametrize("fields,status,code", [
    ({"retailerAccess": []}, 422, "H163"),
    ({"retailerAccess": list(range(1, 102))}, 422, "H126"),
    ({"retailerCode": ""}, 400, "H267"),
    ({"retailerCode": None}, 400, "H266"),
    ({"retailerAccess": "1,2"}, 400, "H085"),
])
def test_single_add_retailer_field_errors(sim, prov, v2, fields, status, code):
    r = prov.post("/consents", consent(phone(), **fields), v2=v2)
    assert r.status_code == status, r.text
    e = r.json()["errors"][0]
    assert e["code"] == code and e["location"] == [next(iter(fields))]


def test_single_add_h267_message(sim, prov):
    r = prov.post("/consents", consent(phone(), retailerCode=""))
    assert r.json()["errors"][0]["message"] == "retailerCode değeri boş string olmamalıdır!"


def wait_processed(p, rid, v2=False, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        items = p.get(f"/consents/request/{rid}", v2=v2).json()
        if items and all(i["status"] != "enqueue" for i in items):
            return items
        time.sleep(0.1)
    raise AssertionError("bulk request not processed")


@pytest.mark.parametrize("v2", [False, True])
def test_bulk_add_with_retailers(sim, prov, v2):
    a, b = create(prov), create(prov)
    r1, r2, r3 = phone(), email(), phone()
    items = [consent(r1, retailerAccess=[a, b]),
             consent(r2, type="EPOSTA", retailerCode=a),
             consent(r3)]
    r = prov.post("/consents/request", items, v2=v2)
    assert r.status_code == 202, r.text
    # the answer echoes the consent fields, as İYS's example does
    assert all("retailerAccess" not in s for s in r.json()["subRequests"])
    res = wait_processed(prov, r.json()["requestId"], v2=v2)
    assert [i["status"] for i in res] == ["success"] * 3
    assert access_of(prov, r1) == {"retailerCode": None, "retailerAccess": sorted([a, b])}
    assert access_of(prov, r2, "EPOSTA") == {"retailerCode": a, "retailerAccess": [a]}
    assert access_of(prov, r3)["retailerAccess"] == []


def test_bulk_add_h180_h353_at_once(sim, prov):
    a = create(prov)
    other = create(Provider(sim))
    items = [consent(phone(), retailerAccess=[a]),
             consent(phone(), retailerAccess=[a, 73064462]),
             consent(phone(), retailerCode=12786531),
             consent(phone(), retailerCode=other)]
    r = prov.post("/consents/request", items)
    assert r.status_code == 403, r.text
    errs = r.json()["errors"]
    assert [(e["index"], e["code"], e["location"], e["value"]) for e in errs] == [
        (1, "H180", ["retailerAccess", 1], 73064462),
        (2, "H180", ["retailerCode"], 12786531),
        (3, "H353", ["retailerCode"], other)]


@pytest.mark.parametrize("fields,status,code", [
    ({"retailerAccess": []}, 422, "H163"),
    ({"retailerAccess": list(range(1, 102))}, 422, "H126"),
    # the error table's 400 (addBatchConsent's example answers H266 with 400)
    ({"retailerCode": ""}, 400, "H267"),
    ({"retailerCode": None}, 400, "H266"),
])
def test_bulk_add_retailer_field_errors(sim, prov, fields, status, code):
    r = prov.post("/consents/request", [consent(phone()), consent(phone(), **fields)])
    assert r.status_code == status, r.text
    e = r.json()["errors"][0]
    assert (e["index"], e["code"], e["location"]) == (1, code, [next(iter(fields))])


def test_bulk_item_fails_when_retailer_went_away(tmp_path):
    """A retailer deleted between the request and its processing: the
    item fails with H180 and the others go through."""
    s = start_sim(tmp_path, bulk_delay=2)
    try:
        p = Provider(s)
        a, b = create(p), create(p)
        r1, r2 = phone(), phone()
        r = p.post("/consents/request", [consent(r1, retailerAccess=[a]),
                                         consent(r2, retailerAccess=[b])])
        assert r.status_code == 202, r.text
        assert p.session.delete(p.url(f"/retailers/{a}"), timeout=10).status_code == 200
        res = wait_processed(p, r.json()["requestId"])
        assert res[0]["status"] == "failure" and res[0]["error"]["code"] == "H180"
        assert res[1]["status"] == "success"
        assert sim_access(p, r1).status_code == 404
        assert access_of(p, r2)["retailerAccess"] == [b]
    finally:
        s.stop()


def test_sim_access_errors(sim, prov):
    r = requests.get(sim.base + "/_sim/retailers/access", timeout=10,
                     params={"iysCode": prov.iys_code})
    assert r.status_code == 400 and codes(r) == ["IZ400"]
    r = sim_access(prov, phone())
    assert r.status_code == 404 and codes(r) == ["IZ404"]


# ---- restart --------------------------------------------------------------------

def test_restart_keeps_retailers_and_access(tmp_path):
    s = start_sim(tmp_path)
    p = Provider(s)
    a, b = create(p, title="Kalıcı Bayi"), create(p)
    rcp = phone()
    add_consent(p, rcp, retailerCode=a, retailerAccess=[b])
    before = p.get("/retailers").json()
    s.stop()
    s = start_sim(tmp_path)
    try:
        p.sim = s
        assert p.get("/retailers").json() == before
        assert access_of(p, rcp) == {"retailerCode": a, "retailerAccess": sorted([a, b])}
        st = status_of(p, rcp)
        assert st["retailerTitle"] == "Kalıcı Bayi" and st["retailerAccessCount"] == 2
        # uniqueness and relations hold after the restart too
        r = p.session.delete(p.url(f"/retailers/{b}"), timeout=10)
        assert r.status_code == 400
    finally:
        s.stop()
