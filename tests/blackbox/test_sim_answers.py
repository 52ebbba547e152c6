"""Black-box tests of the İYS emulator's answers where they follow the
OpenAPI document's examples: a bulk request with a late (H467) item or over
the quota (H525) refused whole, the "+9005..." wrong form stored as sent,
v2's bulk status with isAddConsentV2Service and originalRequestInformation,
and the error codes and locations of the consent calls.
"""
import datetime
import itertools

import pytest
import requests

from conftest import tr_now
from simutil import Provider, consent, start_sim, wait_processed

_serial = itertools.count(1)
phone = lambda: "+90534%07d" % next(_serial)  # noqa: E731 (unique within the run)
email = lambda: f"yanit{next(_serial)}@ornek.com.tr"  # noqa: E731
errors = lambda r: r.json()["errors"]  # noqa: E731


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    s = start_sim(tmp_path_factory.mktemp("answers"))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def prov(sim):
    return Provider(sim)


def patch(sim, p, **fields):
    r = requests.patch(f"{sim.base}/_sim/providers/{p.iys_code}", json=fields, timeout=10)
    assert r.status_code == 200, r.text


def status_of(p, recipient, type="MESAJ"):
    return p.post("/consents/status", {"recipient": recipient, "recipientType": "BIREYSEL",
                                       "type": type})


# ---- 1. a bulk request with an H467 or H525 item is refused whole -----------

@pytest.mark.parametrize("v2", [False, True])
def test_bulk_with_a_late_consent_is_refused_whole(sim, v2):
    p = Provider(sim)
    patch(sim, p, activationDate=datetime.date.today().isoformat())
    ok, late = phone(), phone()
    body = [consent(ok), consent(late, date="2020-01-13 13:35:13")]
    r = p.post("/consents/request", body, v2=v2)
    assert r.status_code == 422, r.text
    assert errors(r) == [{"index": 1, "code": "H467", "location": ["consentDate"],
                          "value": "2020-01-13 13:35:13",
                          "message": "Üç iş günü öncesinde alınan izinler kaydedilemez."}]
    # nothing of the request was taken, not even its good item
    assert status_of(p, ok).status_code == 404


def test_bulk_late_consent_before_activation_is_taken(sim):
    """Before the account's activation date it uploads its old consents."""
    p = Provider(sim)
    r = p.post("/consents/request", [consent(phone(), date="2020-01-13 13:35:13")])
    assert r.status_code == 202, r.text


@pytest.mark.parametrize("v2", [False, True])
def test_bulk_over_the_quota_is_refused_whole(sim, v2):
    p = Provider(sim, quota=3)
    kept = phone()
    assert p.post("/consents", consent(kept)).status_code == 200
    fresh = [phone(), phone(), phone()]
    r = p.post("/consents/request", [consent(x) for x in fresh], v2=v2)
    assert r.status_code == 422, r.text
    assert errors(r) == [{"code": "H525", "message": "Kullanılan izin sayısı maksimum sayıya "
                                                     "ulaştığı için yeni izin eklenememektedir."}]
    assert all(status_of(p, x).status_code == 404 for x in fresh)
    # what fits is taken: two new records, and a change of a kept one is no
    # new record
    r = p.post("/consents/request", [consent(fresh[0]), consent(fresh[1]),
                                     consent(kept, status="RET", date=tr_now(-60))], v2=v2)
    assert r.status_code == 202, r.text
    items = wait_processed(p, r.json()["requestId"], v2=v2)
    assert [i["status"] for i in items] == ["success"] * 3


# ---- 2. "+9005..." is stored as İYS stores it ----------------------------------

def test_wrong_form_phone_is_stored_as_sent(sim, prov):
    wrong, right = "+9005341110001", "+905341110001"
    r = prov.post("/consents", consent(wrong))
    assert r.status_code == 200, r.text
    # a query in the right form does not find it (İYS's note: no SMS can be sent)
    assert status_of(prov, right).status_code == 404
    r = prov.post("/consents/BIREYSEL/status/MESAJ", {"recipients": [right]})
    assert r.status_code == 200 and r.json()["list"] == []
    # the citizen does not see it
    r = requests.get(sim.base + "/_sim/citizen/consents", params={"recipient": right}, timeout=10)
    assert r.status_code == 200 and r.json()["list"] == []
    # the number as sent finds it, written as sent
    r = status_of(prov, wrong)
    assert r.status_code == 200 and r.json()["recipient"] == wrong
    r = prov.post("/consents/BIREYSEL/status/MESAJ", {"recipients": [wrong]})
    assert r.json()["list"] == [wrong]


def test_wrong_form_phone_in_bulk_and_after_restart(tmp_path):
    s = start_sim(tmp_path)
    try:
        p = Provider(s)
        r = p.post("/consents/request", [consent("+9005341110002")])
        assert r.status_code == 202, r.text
        assert r.json()["subRequests"][0]["recipient"] == "+9005341110002"
        assert wait_processed(p, r.json()["requestId"])[0]["status"] == "success"
    finally:
        s.stop()
    s = start_sim(tmp_path)
    try:
        p.sim = s
        p.login()
        assert status_of(p, "+9005341110002").json()["recipient"] == "+9005341110002"
    finally:
        s.stop()


def test_other_wrong_forms_are_still_refused(sim, prov):
    for bad in ("05341110003", "905341110003", "+90005341110003", "+9004341110003"):
        r = prov.post("/consents", consent(bad))
        assert r.status_code == 422 and errors(r)[0]["code"] == "H121", (bad, r.text)


# ---- 3. v2 bulk status -----------------------------------------------------------

def test_v2_bulk_status_names_the_original(sim, prov):
    a, b = consent(email(), type="EPOSTA"), consent(email(), type="EPOSTA")
    first = prov.post("/consents/request", [a], v2=True).json()
    items = wait_processed(prov, first["requestId"], v2=True)
    assert items[0]["isAddConsentV2Service"] == "true"
    assert "originalRequestInformation" not in items[0]  # it is the original
    single = prov.post("/consents", b, v2=True).json()

    again = prov.post("/consents/request", [a, b], v2=True).json()
    items = wait_processed(prov, again["requestId"], v2=True)
    assert [i["status"] for i in items] == ["success", "success"]
    assert items[0]["requestId"] == again["requestId"]
    assert items[0]["isAddConsentV2Service"] == "true"
    assert items[0]["originalRequestInformation"] == {
        "requestId": first["requestId"], "subRequestId": first["subRequests"][0]["subRequestId"]}
    # the original of b was a single add: there is no request to name
    assert items[1]["transactionId"] == single["transactionId"]
    assert items[1]["isAddConsentV2Service"] == "true"
    assert "originalRequestInformation" not in items[1]
    # v1's status has neither field; a v1 request reads "false" on v2's
    items = wait_processed(prov, again["requestId"])
    assert "isAddConsentV2Service" not in items[0]
    v1 = prov.post("/consents/request", [consent(email(), type="EPOSTA")]).json()
    items = wait_processed(prov, v1["requestId"], v2=True)
    assert items[0]["isAddConsentV2Service"] == "false"


# ---- 4. codes and locations of the consent calls --------------------------------

@pytest.mark.parametrize("body,expect", [
    # a recipient of the other type's form
    (consent("kisi@ornek.com.tr", type="MESAJ"),
     [{"code": "H121", "location": ["recipient"], "value": "kisi@ornek.com.tr"}]),
    (consent("+905341110010", type="EPOSTA"),
     [{"code": "H120", "location": ["recipient"], "value": "+905341110010"}]),
    # İYS's example OneConsentRequestInvalidPhoneNumber: both codes
    (consent("9055436100000000"),
     [{"code": "H160", "location": ["recipient"], "value": "9055436100000000"},
      {"code": "H121", "location": ["recipient"], "value": "9055436100000000"}]),
    # HS_KARAR_statusError: about the status
    (consent("+905341110011", source="HS_KARAR"),
     [{"code": "H408", "location": ["status"], "value": "ONAY"}]),
    (consent("+905341110012", type="EPOSTAa"),
     [{"code": "H117", "location": ["type"], "value": "EPOSTAa"}]),
    (consent("+905341110013", recipientType="TACIRR"),
     [{"code": "H116", "location": ["recipientType"], "value": "TACIRR"}]),
    (consent("+905341110014", unacceptableProperty="unacceptableValue"),
     [{"code": "H118", "location": ["unacceptableProperty"], "value": "unacceptableValue"}]),
])
@pytest.mark.parametrize("v2", [False, True])
def test_single_add_errors_as_the_examples(sim, prov, body, expect, v2):
    r = prov.post("/consents", body, v2=v2)
    assert r.status_code == 422, r.text
    got = [{k: e[k] for k in ("code", "location", "value") if k in e} for e in errors(r)]
    assert got == expect
    assert all("index" not in e for e in errors(r))


def test_single_add_late_consent_names_its_date(sim):
    p = Provider(sim)
    patch(sim, p, activationDate=datetime.date.today().isoformat())
    r = p.post("/consents", consent(phone(), date="2020-01-13 13:35:13"))
    assert r.status_code == 422, r.text
    assert errors(r) == [{"code": "H467", "location": ["consentDate"],
                          "value": "2020-01-13 13:35:13",
                          "message": "Üç iş günü öncesinde alınan izinler kaydedilemez."}]


def test_bulk_errors_as_the_examples(sim, prov):
    a = phone()
    body = [consent(a), consent(a), consent(phone(), type="EPOSTAA"),
            consent("9053133344559999999")]
    r = prov.post("/consents/request", body)
    assert r.status_code == 422, r.text
    errs = errors(r)
    # statusOrderError: the index alone
    assert {"code": "H194", "index": 1} == {k: errs[0][k] for k in errs[0] if k != "message"}
    assert errs[1] == {"index": 2, "code": "H117", "location": ["type"], "value": "EPOSTAA",
                       "message": errs[1]["message"]}
    assert [(e["code"], e["index"], e["location"]) for e in errs[2:]] == [
        ("H160", 3, ["recipient"]), ("H121", 3, ["recipient"])]


def test_list_query_mismatch_names_the_type(sim, prov):
    r = prov.post("/consents/BIREYSEL/status/MESAJ", {"recipients": ["test@gmail.com"]})
    assert r.status_code == 422
    assert errors(r) == [{"code": "H464", "location": ["recipient"], "value": "test@gmail.com",
                          "message": "İzin tipi (type) MESAJ için, alıcı (recipient) telefon "
                                     "formatında olmalıdır."}]
    r = prov.post("/consents/BIREYSEL/status/EPOSTA", {"recipients": ["+905312560714"]})
    assert errors(r)[0]["message"] == ("İzin tipi (type) EPOSTA için, alıcı (recipient) e-posta "
                                       "formatında olmalıdır.")


def test_key_queries_mismatch_is_the_type_code(sim, prov):
    """consentsHistory's examples: a phone for EPOSTA is H120, an e-mail
    address for MESAJ H121; the status query has the same body."""
    for path in ("/consents/history", "/consents/status"):
        r = prov.post(path, {"recipient": "+905320000000", "recipientType": "BIREYSEL",
                             "type": "EPOSTA"})
        assert r.status_code == 422 and errors(r)[0]["code"] == "H120"
        assert errors(r)[0]["location"] == ["recipient"]
        r = prov.post(path, {"recipient": "example@iys.com", "recipientType": "BIREYSEL",
                             "type": "MESAJ"})
        assert r.status_code == 422 and errors(r)[0]["code"] == "H121"


def test_history_paging_codes_as_its_examples(sim, prov):
    q = {"recipient": phone(), "recipientType": "BIREYSEL", "type": "MESAJ"}
    r = prov.post("/consents/history", q, params={"limit": -1})
    assert errors(r) == [{"code": "H182", "location": ["limit"], "value": "-1",
                          "message": "limit değeri geçerli olmalıdır."}]
    r = prov.post("/consents/history", q, params={"offset": -1})
    assert errors(r) == [{"code": "H183", "location": ["offset"], "value": "-1",
                          "message": "offset değeri geçerli olmalıdır."}]
