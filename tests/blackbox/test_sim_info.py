"""Black-box tests of the İYS emulator's reference lists: /info/city and
/info/town with İYS's codes and Turkish spellings, 204 for a code that
names nothing, 401 without a token.
"""
import pytest
import requests

from simutil import prov as p  # noqa: F401 (fixtures)
from simutil import sim  # noqa: F401


def get(p, path):
    return p.session.get(p.sim.base + path, timeout=10)


def test_cities(p):
    r = get(p, "/info/city")
    assert r.status_code == 200
    cities = r.json()
    assert [c["code"] for c in cities] == list(range(1, 82))
    names = {c["code"]: c["name"] for c in cities}
    assert names[1] == "Adana" and names[6] == "Ankara" and names[34] == "İstanbul"
    assert names[35] == "İzmir" and names[63] == "Şanlıurfa" and names[76] == "Iğdır"
    assert names[81] == "Düzce" and names[33] == "Mersin" and names[46] == "Kahramanmaraş"
    assert all(set(c) == {"code", "name"} for c in cities)


@pytest.mark.parametrize("code,name", [(1, "Adana"), (34, "İstanbul"), (81, "Düzce"),
                                       (18, "Çankırı")])
def test_one_city(p, code, name):
    r = get(p, f"/info/city/{code}")
    assert r.status_code == 200 and r.json() == {"code": code, "name": name}


@pytest.mark.parametrize("code", ["0", "82", "999", "abc", "-1"])
def test_unknown_city(p, code):
    r = get(p, f"/info/city/{code}")
    assert r.status_code == 204 and r.content == b""


def test_towns(p):
    r = get(p, "/info/town")
    assert r.status_code == 200
    towns = r.json()
    assert len(towns) == 970
    assert [t["code"] for t in towns] == list(range(1, 971))
    assert all(set(t) == {"name", "code", "city_code"} for t in towns)
    assert {t["city_code"] for t in towns} == set(range(1, 82))  # every city has its towns
    by_city = {}
    for t in towns:
        by_city.setdefault(t["city_code"], []).append(t["name"])
    assert len(by_city[34]) == 39 and "Kadıköy" in by_city[34] and "Üsküdar" in by_city[34]
    assert len(by_city[35]) == 30 and "Karşıyaka" in by_city[35]
    assert "Çankaya" in by_city[6] and "Gölbaşı / Ankara" in by_city[6]
    assert "Adıyaman Merkez" in by_city[2] and "Gölbaşı / Adıyaman" in by_city[2]
    # a name is never written twice: two cities' towns of one name carry the city
    names = [t["name"] for t in towns]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("code,name,city", [(1, "Seyhan", 1), (16, "Adıyaman Merkez", 2),
                                            (970, "Kaynaşlı", 81)])
def test_one_town(p, code, name, city):
    r = get(p, f"/info/town/{code}")
    assert r.status_code == 200
    assert r.json() == {"code": code, "name": name, "city_code": city}


@pytest.mark.parametrize("code", ["0", "971", "x"])
def test_unknown_town(p, code):
    r = get(p, f"/info/town/{code}")
    assert r.status_code == 204 and r.content == b""


@pytest.mark.parametrize("path", ["/info/city", "/info/city/34", "/info/town", "/info/town/1"])
def test_a_token_is_needed(sim, path):
    r = requests.get(sim.base + path, timeout=10)
    assert r.status_code == 401 and r.json()["errors"][0]["code"] == "H351"
    r = requests.get(sim.base + path, headers={"Authorization": "Bearer nope"}, timeout=10)
    assert r.status_code == 401 and r.json()["errors"][0]["code"] == "H351"
