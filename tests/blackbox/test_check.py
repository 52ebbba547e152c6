"""POST /v1/brands/{b}/check and GET .../check/{recipient}: who may receive a
commercial message."""
import requests

from conftest import fresh_phone, tr_now


def add(env, p, status="ONAY", type="MESAJ", rtype=None, date=None):
    body = {"recipient": p, "type": type, "status": status, "source": "HS_WEB",
            "consentDate": date or tr_now(-3600)}
    if rtype:
        body["recipientType"] = rtype
    r = env.api.post_consent(body)
    assert r.status_code == 201, r.text


def test_reasons(env):
    yes, ret, none = fresh_phone(), fresh_phone(), fresh_phone()
    add(env, yes)
    add(env, ret, date=tr_now(-7200))
    add(env, ret, status="RET")
    r = env.api.check({"type": "MESAJ", "recipients": [
        yes.replace("+90", "0"), ret, none, "12ab", 42, yes]})
    assert r.status_code == 200, r.text
    j = r.json()
    assert j["allowed"] == [yes]  # normalized, and the repeat dropped
    assert {"recipient": ret, "reason": "RET"} in j["blocked"]
    assert {"recipient": none, "reason": "NO_CONSENT"} in j["blocked"]
    assert {"recipient": "12ab", "reason": "INVALID"} in j["blocked"]
    assert {"recipient": 42, "reason": "INVALID"} in j["blocked"]
    assert j["counts"] == {"allowed": 1, "blocked": 4}


def test_informational_allows_every_valid_recipient(env):
    none = fresh_phone()
    j = env.api.check({"type": "MESAJ", "commercial": False,
                       "recipients": [none, "nope"]}).json()
    assert j["allowed"] == [none]
    assert j["blocked"] == [{"recipient": "nope", "reason": "INVALID"}]


def test_channel_and_recipient_type_are_separate(env):
    p = fresh_phone()
    add(env, p, type="ARAMA")
    assert env.api.check({"type": "ARAMA", "recipients": [p]}).json()["allowed"] == [p]
    assert env.api.check({"type": "MESAJ", "recipients": [p]}).json()["allowed"] == []
    j = env.api.check({"type": "ARAMA", "recipientType": "TACIR", "recipients": [p]}).json()
    assert j["blocked"] == [{"recipient": p, "reason": "NO_CONSENT"}]
    t = fresh_phone()
    add(env, t, rtype="TACIR")
    j = env.api.check({"type": "MESAJ", "recipientType": "TACIR", "recipients": [t]}).json()
    assert j["allowed"] == [t]
    j = env.api.check({"type": "MESAJ", "recipients": [t]}).json()
    assert j["blocked"][0]["reason"] == "NO_CONSENT"


def test_withdrawal_blocks_on_the_next_check(env):
    p = fresh_phone()
    add(env, p, date=tr_now(-7200))
    assert env.api.check({"type": "MESAJ", "recipients": [p]}).json()["allowed"] == [p]
    add(env, p, status="RET", date=tr_now(-1))
    assert env.api.check({"type": "MESAJ", "recipients": [p]}).json()["allowed"] == []


def test_email_check(env):
    add(env, "Ayse@Example.com", type="EPOSTA")
    j = env.api.check({"type": "EPOSTA", "recipients": ["ayse@example.com", "05321234567"]})
    j = j.json()
    assert j["allowed"] == ["ayse@example.com"]
    assert j["blocked"] == [{"recipient": "05321234567", "reason": "INVALID"}]


def test_bad_check_requests(env):
    cases = [({"recipients": []}, "H111"), ({"type": "X", "recipients": []}, "H117"),
             ({"type": "MESAJ"}, "H168"), ({"type": "MESAJ", "recipients": "0532"}, "H478"),
             ({"type": "MESAJ", "recipientType": "X", "recipients": []}, "H116")]
    for body, code in cases:
        r = env.api.check(body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["errors"][0]["code"] == code


def test_single_check_for_dialers(env):
    p = fresh_phone()
    add(env, p, type="ARAMA")
    url = env.api.url(f"/v1/brands/{env.acme.brand}/check/")
    h = env.acme.headers
    assert requests.get(url + p.replace("+90", "0"), params={"type": "ARAMA"},
                        headers=h).json() == {"recipient": p, "allowed": True}
    assert requests.get(url + p, params={"type": "MESAJ"}, headers=h).json() == {
        "recipient": p, "allowed": False, "reason": "NO_CONSENT"}
    assert requests.get(url + "123", params={"type": "ARAMA"}, headers=h).json() == {
        "recipient": "123", "allowed": False, "reason": "INVALID"}
