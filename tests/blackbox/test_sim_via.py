"""Black-box tests of the İYS emulator's ViA (İYS collects a consent for a
brand: /via/sps/..., the ViA Frame widget, e-mail opt-out links) and OTP
management (ViA Pass: /otp-management/api/v1/...), with the /_sim/ calls
that set them up and show the messages İYS "sent".

What a user of the API checks: each call's success shape, the documented
error codes, a consent a completed process recorded showing in the status
call and the change pull, wrong and expired codes, the person's short-link
page, and persistence across a restart.
"""
import io
import re
import time
import uuid
import zipfile

import pytest
import requests

from simutil import Provider, consent, start_sim

_n = [0]


def phone():
    _n[0] += 1
    return "+90534%07d" % _n[0]


def email():
    _n[0] += 1
    return f"via{_n[0]}@ornek.com.tr"


def err(r):
    """The first error's code of a ViA answer."""
    return r.json()["errors"][0]["code"]


def sub_err(r):
    """The sub-system's H-code of a ViA Pass answer."""
    return r.json()["subSystemErrorInfo"]["errors"][0]["code"]


class Via:
    """A provider set up for ViA and ViA Pass: a subscription, forms and
    templates, created through /_sim/."""

    def __init__(self, sim, credit=1000, brands=None, quota=None):
        self.sim = sim
        self.p = Provider(sim, brands=brands, quota=quota)
        self.iys = self.p.iys_code
        self.brand = self.p.brand
        self.s = self.p.session
        if credit is not None:
            self.subscribe(credit)
        for fid, method in (("otp", "OTP"), ("link", "SHORTURL"), ("appr", "APPROVALURL")):
            self.form(f"{self.iys}-{fid}", method)
        self.template(f"{self.iys}-sms", "SMS", "OTP",
                      consent={"brandCode": self.brand, "types": ["MESAJ"],
                               "recipientType": "BIREYSEL"})
        self.template(f"{self.iys}-mail", "EPOSTA", "OTP")
        self.template(f"{self.iys}-smslink", "SMS", "SHORTURL",
                      consent={"brandCode": self.brand, "types": ["MESAJ", "ARAMA"],
                               "recipientType": "BIREYSEL"})
        self.template(f"{self.iys}-maillink", "EPOSTA", "SHORTURL")

    def subscribe(self, credit, status="ACTIVE"):
        r = requests.put(f"{self.sim.base}/_sim/via/subscriptions/{self.iys}",
                         json={"credit": credit, "status": status}, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()

    def form(self, fid, method, published=True, iys=None):
        r = requests.post(self.sim.base + "/_sim/via/forms", timeout=10,
                          json={"iysCode": iys or self.iys, "formId": fid, "method": method,
                                "text": "Kişisel verileriniz kampanya bildirimleri için "
                                        "işlenecektir.", "published": published})
        assert r.status_code == 201, r.text

    def template(self, tid, channel, method, consent=None, text=None):
        body = {"iysCode": self.iys, "templateId": tid, "channel": channel, "method": method}
        if consent:
            body["consent"] = consent
        if text:
            body["text"] = text
        r = requests.post(self.sim.base + "/_sim/otp/templates", json=body, timeout=10)
        assert r.status_code == 201, r.text

    # ViA
    def via(self, path):
        return f"{self.sim.base}/via/sps/{self.iys}{path}"

    def start(self, recipient, v="SMS_OTP", etk=("MESAJ", "ARAMA"), kvk=None, form=None,
              brands=None, **extra):
        types = []
        if etk:
            types.append({"title": "ETK", "brandCodes": brands or [self.brand],
                          "types": list(etk), "recipientType": "BIREYSEL"})
        if kvk:
            types.append({"title": "KVK", "types": list(kvk),
                          "personData": {"name": "Aslı Can", "recipientIdNumber": "11111111110",
                                         "address": "Çankaya Ankara"}})
        body = {"formId": form or f"{self.iys}-{'otp' if v.endswith('_OTP') else 'link'}",
                "recipient": recipient, "verificationType": v, "consentTypes": types}
        body.update(extra)
        return self.s.post(self.via("/consent"), json=body, timeout=10)

    def started(self, recipient, **kw):
        r = self.start(recipient, **kw)
        assert r.status_code == 200, r.text
        assert r.json()["code"] == "OK"
        return r.json()["message"]["requestId"]

    def confirm(self, rid, codes, v="SMS_OTP"):
        return self.s.post(self.via("/confirmation"), timeout=10,
                           json={"requestId": rid, "verificationType": v,
                                 "consentTypes": [{"title": t, "otpCode": c}
                                                  for t, c in codes.items()]})

    def request(self, rid):
        r = self.s.get(self.via(f"/consent/request/{rid}"), timeout=10)
        assert r.status_code == 200, r.text
        return r.json()["message"]

    # ViA Pass
    def otp(self, path):
        return f"{self.sim.base}/otp-management/api/v1{path}"

    def otp_start(self, to, channel="sms", link=False, template=None, vkn="1234567890"):
        field = "phoneNumber" if channel == "sms" else "email"
        tid = template or f"{self.iys}-{'sms' if channel == 'sms' else 'mail'}{'link' if link else ''}"
        return self.s.post(self.otp(f"/{self.iys}/{channel}/start{'/short-url' if link else ''}"),
                           json={field: to, "templateId": tid, "vkn": vkn}, timeout=10)

    def otp_complete(self, rid, code, channel="sms"):
        return self.s.post(self.otp(f"/{channel}/complete"), timeout=10,
                           json={"requestId": rid, "otpCode": code})

    def status(self, recipient, type="MESAJ", brand=None):
        return self.p.post("/consents/status", {"recipient": recipient, "type": type,
                                                "recipientType": "BIREYSEL"}, brand=brand)

    def changes(self, brand=None):
        r = self.p.get("/consents/changes?source=IYS&limit=1000", brand=brand)
        assert r.status_code in (200, 204), r.text
        return r.json()["list"] if r.status_code == 200 else []


def sent(sim, recipient):
    r = requests.get(sim.base + "/_sim/otp", params={"recipient": recipient}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def codes_of(sim, recipient, rid):
    """{title: code} of the messages sent for one process."""
    return {m["title"]: m["code"] for m in sent(sim, recipient)["messages"]
            if m["requestId"] == rid and "code" in m}


def wrong(code):
    return "%06d" % ((int(code) + 1) % 1000000)


def csrf_of(page):
    m = re.search(r'name="csrf" value="([0-9a-f]{48})"', page)
    assert m, page
    return m.group(1)


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    s = start_sim(tmp_path_factory.mktemp("via"))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def via(sim):
    return Via(sim)


# ---- ViA: OTP --------------------------------------------------------------------


def test_via_otp_flow_records_etk_and_kvk(sim, via):
    to = phone()
    rid = via.started(to, kvk=["ACIK_RIZA_METNI", "AYDINLATMA_METNI"])
    msgs = sent(sim, to)["messages"]
    assert {m["title"] for m in msgs} == {"ETK", "KVK"}
    assert all(re.fullmatch(r"\d{6}", m["code"]) and m["code"] in m["text"] for m in msgs)
    assert all(m["channel"] == "SMS" for m in msgs)

    st = via.request(rid)
    assert st["lastStatus"] == {"stage": "CONSENT_REQUESTED", "status": "PENDING"}
    assert st["consentSource"] == "SMS_OTP" and st["recipient"] == to

    r = via.confirm(rid, codes_of(sim, to, rid))
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["code"] == "OK"
    etk = [x for x in out["message"] if "brandCode" in x]
    assert sorted(x["type"] for x in etk) == ["ARAMA", "MESAJ"]
    assert all(x["brandCode"] == str(via.brand) and len(x["transactionId"]) == 64 for x in etk)
    assert sorted(x["type"] for x in out["message"] if "brandCode" not in x) == \
        ["ACIK_RIZA_METNI", "AYDINLATMA_METNI"]

    # the consent is the brand's, with İYS's SMS source: status call and change pull
    for t in ("MESAJ", "ARAMA"):
        s = via.status(to, t)
        assert s.status_code == 200, s.text
        assert s.json()["status"] == "ONAY" and s.json()["source"] == "IYS_KISAMESAJ"
    pulled = [c for c in via.changes() if c["recipient"] == to]
    assert sorted(c["type"] for c in pulled) == ["ARAMA", "MESAJ"]
    assert all(c["source"] == "IYS_KISAMESAJ" and c["status"] == "ONAY" for c in pulled)

    st = via.request(rid)
    assert st["lastStatus"] == {"stage": "COMPLETED", "status": "SUCCESS"}
    assert st["recipientName"] == "Aslı Can" and st["iysCode"] == str(via.iys)
    assert all(d["operationStatusMessage"] == "Onay verildi" for d in st["requestDetails"])
    assert len(st["requestDetails"]) == 4

    # KVK: by request, and searched by recipient and type
    r = via.s.get(via.via(f"/consent/{rid}"), timeout=10)
    assert r.status_code == 200, r.text
    kvk = r.json()["message"]
    assert {k["type"] for k in kvk} == {"ACIK_RIZA_METNI", "AYDINLATMA_METNI"}
    assert all(k["status"] == "ONAY" and k["recipientName"] == "Aslı Can"
               and k["consentDate"].isdigit() for k in kvk)
    r = via.s.post(via.via("/consent/status"), json={"type": "ACIK_RIZA_METNI", "recipient": to},
                   timeout=10)
    assert r.status_code == 200 and r.json() == {"message": [rid], "code": "OK"}
    r = via.s.post(via.via("/consent/status"),
                   json={"type": "YURTDISI_AKTARIM", "recipient": to}, timeout=10)
    assert r.json()["message"] == []

    # the summary file
    r = via.s.get(via.via(f"/via/clarification/{rid}/file"), timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/zip"
    z = zipfile.ZipFile(io.BytesIO(r.content))
    text = z.read(f"{rid}.txt").decode("utf-8")
    assert rid in text and to in text and "İşlem Tipi: SMS_OTP" in text
    assert not any(c in text for c in codes_of(sim, to, rid).values())

    # done once
    r = via.confirm(rid, codes_of(sim, to, rid))
    assert r.status_code == 400 and err(r) == "H1032"


def test_via_onay_again_updates_source_and_date(sim, via):
    """An address already ONAY (an HS consent) gets ViA's source and date."""
    to = phone()
    r = via.p.post("/consents", consent(to, source="HS_WEB"))
    assert r.status_code == 200, r.text
    rid = via.started(to, etk=["MESAJ"])
    assert via.confirm(rid, codes_of(sim, to, rid)).status_code == 200
    s = via.status(to).json()
    assert s["status"] == "ONAY" and s["source"] == "IYS_KISAMESAJ"


def test_via_email_otp(sim, via):
    to = email()
    rid = via.started(to, v="EPOSTA_OTP", etk=["EPOSTA"])
    assert sent(sim, to)["messages"][0]["channel"] == "EPOSTA"
    r = via.confirm(rid, codes_of(sim, to, rid), v="EPOSTA_OTP")
    assert r.status_code == 200, r.text
    s = via.status(to, "EPOSTA").json()
    assert s["status"] == "ONAY" and s["source"] == "IYS_EPOSTA"


def test_via_wrong_code_five_times(sim, via):
    to = phone()
    rid = via.started(to, etk=["MESAJ"])
    code = codes_of(sim, to, rid)["ETK"]
    for i in range(3):
        r = via.confirm(rid, {"ETK": wrong(code)})
        assert r.status_code == 400 and err(r) == "H1052", r.text
        assert r.json()["errors"][0]["value"] == wrong(code)
    st = via.request(rid)["lastStatus"]
    assert st == {"stage": "COMPLETED", "status": "OTP_CODE_INCORRECT"}
    # the 4th and 5th are refused, the right code too
    for c in (wrong(code), code):
        r = via.confirm(rid, {"ETK": c})
        assert r.status_code == 400 and err(r) == "H1050", r.text
    assert via.status(to).status_code == 404  # nothing recorded


def test_via_two_wrong_then_right(sim, via):
    to = phone()
    rid = via.started(to, etk=["MESAJ"])
    code = codes_of(sim, to, rid)["ETK"]
    for _ in range(2):
        assert err(via.confirm(rid, {"ETK": wrong(code)})) == "H1052"
    assert via.request(rid)["lastStatus"] == {"stage": "CONSENT_REQUESTED",
                                              "status": "OTP_CODE_INCORRECT"}
    assert via.confirm(rid, {"ETK": code}).status_code == 200


def test_via_credit_is_taken_per_message(sim):
    v = Via(sim, credit=3)
    rid = v.started(phone(), kvk=["ACIK_RIZA_METNI"])  # two codes: two messages
    assert rid
    r = v.start(phone(), kvk=["ACIK_RIZA_METNI"])
    assert r.status_code == 400 and err(r) == "H1015"
    v.started(phone())  # one message fits


def test_via_quota(sim):
    v = Via(sim, quota=1)
    to = phone()
    rid = v.started(to)  # MESAJ and ARAMA: two new records over a quota of one
    r = v.confirm(rid, codes_of(sim, to, rid))
    assert r.status_code == 400 and err(r) == "H1031"
    assert v.status(to).status_code == 404  # neither was kept


START_ERRORS = [
    (lambda v: {"formId": None}, "H1057"),
    (lambda v: {"recipient": ""}, "H1057"),
    (lambda v: {"verificationType": None}, "H1057"),
    (lambda v: {"verificationType": "SMS_FAX"}, "H1012"),
    (lambda v: {"recipient": "05321234567"}, "H1026"),
    (lambda v: {"recipient": "not-an-address", "verificationType": "EPOSTA_OTP"}, "H1027"),
    (lambda v: {"consentTypes": [{"title": "SADAKAT", "types": ["ONAYLIYORUM"]}]}, "H1013"),
    (lambda v: {"consentTypes": [{"brandCodes": [v.brand], "types": ["MESAJ"]}]}, "H1005"),
    (lambda v: {"consentTypes": [{"title": "ETK", "types": ["MESAJ"],
                                  "recipientType": "BIREYSEL"}]}, "H1005"),
    (lambda v: {"consentTypes": [{"title": "ETK", "brandCodes": ["x"], "types": ["MESAJ"],
                                  "recipientType": "BIREYSEL"}]}, "H1029"),
    (lambda v: {"consentTypes": [{"title": "ETK", "brandCodes": [999999999], "types": ["MESAJ"],
                                  "recipientType": "BIREYSEL"}]}, "H1014"),
    (lambda v: {"consentTypes": [{"title": "ETK", "brandCodes": [v.brand], "types": ["FAKS"],
                                  "recipientType": "BIREYSEL"}]}, "H1085"),
    (lambda v: {"consentTypes": [{"title": "ETK", "brandCodes": [v.brand],
                                  "types": ["MESAJ", "MESAJ"],
                                  "recipientType": "BIREYSEL"}]}, "H1061"),
    (lambda v: {"consentTypes": [{"title": "ETK", "brandCodes": [v.brand], "types": ["EPOSTA"],
                                  "recipientType": "BIREYSEL"}]}, "H1086"),
    (lambda v: {"recipient": email(), "verificationType": "EPOSTA_OTP",
                "consentTypes": [{"title": "ETK", "brandCodes": [v.brand],
                                  "types": ["EPOSTA", "MESAJ"],
                                  "recipientType": "BIREYSEL"}]}, "H1066"),
    (lambda v: {"consentTypes": [{"title": "ETK", "brandCodes": [v.brand], "types": ["MESAJ"],
                                  "recipientType": "KURUMSAL"}]}, "H1063"),
    (lambda v: {"consentTypes": [{"title": "ETK", "brandCodes": [v.brand], "types": ["MESAJ"]}]},
     "H1057"),
    (lambda v: {"consentTypes": [{"title": "KVK", "types": ["ACIK_RIZA_METNI"],
                                  "personData": {"recipientIdNumber": "11111111110"}}]}, "H1057"),
    (lambda v: {"consentTypes": [{"title": "KVK", "types": ["ACIK_RIZA_METNI"],
                                  "personData": {"name": "Aslı Can",
                                                 "recipientIdNumber": "0123"}}]}, "H1096"),
    (lambda v: {"consentTypes": [{"title": "KVK", "types": ["ACIK_RIZA_METNI"],
                                  "personData": {"name": "A"}},
                                 {"title": "KVK", "types": ["AYDINLATMA_METNI"],
                                  "personData": {"name": "A"}}]}, "H1060"),
    (lambda v: {"consentTypes": []}, "H1057"),
    (lambda v: {"consentTypes": "ETK"}, "H1029"),
    (lambda v: {"formId": "yok-boyle-form"}, "H1055"),
    (lambda v: {"verificationType": "SMS_SHORTURL"}, "H1065"),
    (lambda v: {"titel": "ETK"}, "H1025"),
]


@pytest.mark.parametrize("make,code", START_ERRORS)
def test_via_start_errors(sim, via, make, code):
    body = {"formId": f"{via.iys}-otp", "recipient": phone(), "verificationType": "SMS_OTP",
            "consentTypes": [{"title": "ETK", "brandCodes": [via.brand], "types": ["MESAJ"],
                              "recipientType": "BIREYSEL"}]}
    body.update(make(via))
    r = via.s.post(via.via("/consent"), json=body, timeout=10)
    assert r.status_code == 400, r.text
    assert err(r) == code, r.text


def test_via_start_refusals(sim, via):
    good = {"formId": f"{via.iys}-otp", "recipient": phone(), "verificationType": "SMS_OTP",
            "consentTypes": [{"title": "ETK", "brandCodes": [via.brand], "types": ["MESAJ"],
                              "recipientType": "BIREYSEL"}]}
    # token and iysCode
    r = requests.post(via.via("/consent"), json=good, timeout=10)
    assert r.status_code == 401 and err(r) == "H1038"  # no token: "Token eksik!"
    r = requests.post(via.via("/consent"), json=good, timeout=10,
                      headers={"Authorization": "Bearer " + "0" * 40})
    assert r.status_code == 401 and err(r) == "H1045"
    r = via.s.post(f"{sim.base}/via/sps/{via.iys + 1}/consent", json=good, timeout=10)
    assert r.status_code == 403 and err(r) == "H1040"
    # body
    r = via.s.post(via.via("/consent"), data="{", timeout=10,
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and err(r) == "H1016"
    r = via.s.post(via.via("/consent"), data="", timeout=10,
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and err(r) == "H1042"
    # forms: another provider's, unpublished
    other = Via(sim)
    r = via.s.post(via.via("/consent"), json=dict(good, formId=f"{other.iys}-otp"), timeout=10)
    assert err(r) == "H1062"
    via.form(f"{via.iys}-draft", "OTP", published=False)
    r = via.s.post(via.via("/consent"), json=dict(good, formId=f"{via.iys}-draft"), timeout=10)
    assert err(r) == "H1000"
    # subscription: none, passive
    v = Via(sim, credit=None)
    r = v.start(phone())
    assert r.status_code == 400 and err(r) == "H1093"
    v.subscribe(10, status="PASSIVE")
    assert err(v.start(phone())) == "H1092"
    v.subscribe(10)
    assert v.start(phone()).status_code == 200


def test_via_confirmation_errors(sim, via):
    to = phone()
    rid = via.started(to, etk=["MESAJ"])
    code = codes_of(sim, to, rid)["ETK"]
    r = via.confirm(str(uuid.uuid4()), {"ETK": code})
    assert r.status_code == 400 and err(r) == "H1030"
    assert err(via.confirm(rid, {"ETK": code}, v="EPOSTA_OTP")) == "H1064"
    assert err(via.confirm(rid, {"KVK": code})) == "H1054"
    assert err(via.confirm(rid, {})) == "H1057"
    r = via.s.post(via.via("/confirmation"), json={"verificationType": "SMS_OTP"}, timeout=10)
    assert err(r) == "H1057"
    r = via.s.post(via.via("/confirmation"), timeout=10,
                   json={"requestId": rid, "verificationType": "SMS_OTP",
                         "consentTypes": [{"title": "ETK"}]})
    assert err(r) == "H1057"
    # another provider cannot complete it
    other = Via(sim)
    r = other.s.post(other.via("/confirmation"), timeout=10,
                     json={"requestId": rid, "verificationType": "SMS_OTP",
                           "consentTypes": [{"title": "ETK", "otpCode": code}]})
    assert err(r) == "H1030"
    assert via.confirm(rid, {"ETK": code}).status_code == 200


def test_via_reads_errors(sim, via):
    rid = str(uuid.uuid4())
    r = via.s.get(via.via(f"/consent/request/{rid}"), timeout=10)
    assert r.status_code == 400 and err(r) == "H1030"
    r = via.s.get(via.via(f"/consent/{rid}"), timeout=10)
    assert r.status_code == 400 and err(r) == "H1030"
    r = via.s.get(via.via(f"/via/clarification/{rid}/file"), timeout=10)
    assert r.status_code == 400 and err(r) == "H1072"
    # a pending process has no KVK consent and no file yet
    to = phone()
    rid = via.started(to, etk=None, kvk=["ACIK_RIZA_METNI"])
    assert err(via.s.get(via.via(f"/consent/{rid}"), timeout=10)) == "H1076"
    assert err(via.s.get(via.via(f"/via/clarification/{rid}/file"), timeout=10)) == "H1072"
    # search
    for body, code in (({"recipient": to}, "H1057"),
                       ({"type": "ETK", "recipient": to}, "H1085"),
                       ({"type": "ACIK_RIZA_METNI", "recipient": "05321"}, "H1026"),
                       ({"type": "ACIK_RIZA_METNI", "recipient": "a@b"}, "H1027")):
        r = via.s.post(via.via("/consent/status"), json=body, timeout=10)
        assert r.status_code == 400 and err(r) == code, (body, r.text)
    r = requests.get(via.via(f"/consent/request/{rid}"), timeout=10)
    assert r.status_code == 401 and err(r) == "H1038"
    # getKVKConsent answers with the consent calls' codes, as its examples
    r = requests.get(via.via(f"/consent/{rid}"), timeout=10)
    assert r.status_code == 401 and err(r) == "H351"
    r = via.s.get(f"{sim.base}/via/sps/{via.iys + 1}/consent/{rid}", timeout=10)
    assert r.status_code == 403 and err(r) == "H353"


# ---- ViA: short link -----------------------------------------------------------------


def test_via_short_link_flow(sim, via):
    to = phone()
    rid = via.started(to, v="SMS_SHORTURL", kvk=["AYDINLATMA_METNI"])
    out = sent(sim, to)
    link = out["shortUrl"]
    assert link.startswith(sim.base + "/s/") and link in out["messages"][0]["text"]
    # not confirmed yet: the provider cannot complete it
    r = via.s.post(via.via("/confirmation"), json={"requestId": rid,
                                                   "verificationType": "SMS_SHORTURL"},
                   timeout=10)
    assert r.status_code == 400 and err(r) == "H1033"

    person = requests.Session()
    page = person.get(link, timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert "Onay isteği" in page.text and "Onaylıyorum" in page.text
    assert f"Marka {via.iys}" in page.text and "Aydınlatma metnini okudum" in page.text
    assert via.request(rid)["lastStatus"] == {"stage": "REQUEST_OPENED", "status": "PENDING"}

    csrf = csrf_of(page.text)
    r = person.post(link, data={"csrf": csrf}, timeout=10)  # nothing chosen
    assert r.status_code == 422 and "en az bir seçim" in r.text
    r = person.post(link, data=[("csrf", csrf), ("secim", "MESAJ"),
                                ("secim", "AYDINLATMA_METNI")], timeout=10)
    assert r.status_code == 200 and "Onayınız kaydedildi" in r.text, r.text

    assert via.status(to).json()["status"] == "ONAY"
    assert via.status(to, "ARAMA").status_code == 404  # not chosen
    st = via.request(rid)
    assert st["lastStatus"] == {"stage": "COMPLETED", "status": "SUCCESS"}
    given = {d["consentTypeChoice"]: d["operationStatusMessage"] for d in st["requestDetails"]}
    assert given == {"MESAJ": "Onay verildi", "ARAMA": "Onay verilmedi",
                     "AYDINLATMA_METNI": "Onay verildi"}
    # used once
    r = person.post(link, data={"csrf": csrf, "secim": "ARAMA"}, timeout=10)
    assert r.status_code == 409
    assert person.get(link, timeout=10).status_code == 409
    r = via.s.post(via.via("/confirmation"), json={"requestId": rid,
                                                   "verificationType": "SMS_SHORTURL"},
                   timeout=10)
    assert err(r) == "H1032"
    assert requests.get(sim.base + "/s/AAAAAA", timeout=10).status_code == 404
    # the page's POST needs its CSRF token
    rid2 = via.started(phone(), v="SMS_SHORTURL")
    assert rid2
    link2 = [m for m in sent(sim, via_last_recipient(sim, via, rid2))["messages"]][0]["shortUrl"]
    r = requests.post(link2, data={"secim": "MESAJ"}, timeout=10)
    assert r.status_code == 403


def via_last_recipient(sim, via, rid):
    return via.request(rid)["recipient"]


def test_via_approval_url_is_a_link(sim, via):
    to = email()
    rid = via.started(to, v="EPOSTA_APPROVALURL", etk=["EPOSTA"], form=f"{via.iys}-appr")
    person = requests.Session()
    link = sent(sim, to)["shortUrl"]
    page = person.get(link, timeout=10)
    r = person.post(link, data={"csrf": csrf_of(page.text), "secim": "EPOSTA"}, timeout=10)
    assert r.status_code == 200
    assert via.status(to, "EPOSTA").json()["source"] == "IYS_EPOSTA"
    assert via.request(rid)["lastStatus"]["status"] == "SUCCESS"


# ---- ViA Frame widget ------------------------------------------------------------------


def test_widget_flow(sim, via):
    r = requests.post(sim.base + "/_sim/via/widgets", timeout=10,
                      json={"iysCode": via.iys, "formId": f"{via.iys}-otp",
                            "brandCodes": [via.brand], "domain": "www.ornek.com.tr"})
    assert r.status_code == 201, r.text
    w = r.json()["widgetUUID"]
    base = sim.base + "/widget"
    r = requests.get(f"{base}/load-widgetloader/{w}", timeout=10)
    assert r.status_code == 200 and "javascript" in r.headers["Content-Type"]
    assert w in r.text and "/widget/publicKey/" in r.text
    assert requests.get(f"{base}/load-widgetloader/{uuid.uuid4()}", timeout=10).status_code == 404

    key = requests.get(f"{base}/publicKey/{w}", timeout=10).json()
    assert key["status"] == "SUCCESS"
    nonce, domain = key["message"][0].split("|")
    assert domain == "www.ornek.com.tr" and len(nonce) == 64
    r = requests.get(f"{base}/load-widget/{w}", params={"apinoncekey": "0" * 64}, timeout=10)
    assert r.status_code == 401 and err(r) == "H1045"
    loaded = requests.get(f"{base}/load-widget/{w}", params={"apinoncekey": nonce},
                          timeout=10).json()
    csrf = loaded["message"]["csrfToken"]
    assert csrf in loaded["js"] and nonce in loaded["js"] and loaded["css"]

    to = phone()
    body = {"etkTypes": ["MESAJ"], "kvkTypes": ["AYDINLATMA_METNI"], "recipient": to,
            "verificationType": "SMS_OTP", "recipientType": "BIREYSEL", "cookieKey": "kurabiye",
            "csrfToken": csrf, "widgetUUID": w, "nonceKey": nonce, "citizenName": "Zeliha Bektaş"}
    r = requests.post(f"{base}/process/start/{w}", json=dict(body, csrfToken="1" * 64), timeout=10)
    assert r.status_code == 401 and err(r) == "H1045"
    r = requests.post(f"{base}/process/start/{w}", json=dict(body, recipient="0532"), timeout=10)
    assert r.status_code == 400 and err(r) == "H1026"
    r = requests.post(f"{base}/process/start/{w}", json=body, timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "SUCCESS"
    rid = r.json()["message"]["requestId"]
    code = codes_of(sim, to, rid)["ALL"]  # one code for the widget's process

    done = {"requestId": rid, "otpCode": code, "verificationType": "SMS_OTP",
            "cookieKey": "kurabiye", "csrfToken": csrf, "nonceKey": nonce,
            "consentType": "ETK_KVK"}
    r = requests.post(f"{base}/process/complete/{w}", json=dict(done, cookieKey="baska"),
                      timeout=10)
    assert r.status_code == 400 and err(r) == "H1030"  # another browser's process
    r = requests.post(f"{base}/process/complete/{w}", json=dict(done, consentType="ETK"),
                      timeout=10)
    assert err(r) == "H1054"
    r = requests.post(f"{base}/process/complete/{w}", json=dict(done, otpCode=wrong(code)),
                      timeout=10)
    assert err(r) == "H1052"
    r = requests.post(f"{base}/process/complete/{w}", json=done, timeout=10)
    assert r.status_code == 200 and r.json()["status"] == "SUCCESS", r.text
    r = requests.post(f"{base}/process/complete/{w}", json=done, timeout=10)
    assert r.status_code == 409 and err(r) == "H1032"
    s = via.status(to).json()
    assert s["status"] == "ONAY" and s["source"] == "IYS_FRAME_SMS"
    st = via.request(rid)
    assert st["source"] == "IYS_FRAME_SMS" and st["recipientName"] == "Zeliha Bektaş"


# ---- e-mail opt-out links --------------------------------------------------------------


def test_hash_links_and_ret_page(sim, via):
    to, other = email(), email()
    assert via.p.post("/consents", consent(to, type="EPOSTA")).status_code == 200
    r = via.p.post("/via-hash-links", {"recipients": [
        {"recipient": to, "recipientType": "BIREYSEL"},
        {"recipient": other, "recipientType": "BIREYSEL"}]})
    assert r.status_code == 200, r.text
    first, second = r.json()
    assert first["recipient"] == to and re.fullmatch(sim.base + r"/RET/[0-9a-f]{64}", first["url"])
    assert second == {"recipient": other, "code": "H568",
                      "message": "Sadece ONAY durumunda olan izinler için link üretilmelidir."}

    person = requests.Session()
    page = person.get(first["url"], timeout=10)
    assert page.status_code == 200 and "E-posta almak istemiyorum" in page.text
    r = person.post(first["url"], data={"csrf": csrf_of(page.text)}, timeout=10)
    assert r.status_code == 200 and "Onayınız geri alındı" in r.text
    s = via.status(to, "EPOSTA").json()
    assert s["status"] == "RET" and s["source"] == "IYS_EPOSTA"
    assert any(c["recipient"] == to and c["status"] == "RET" for c in via.changes())
    assert person.post(first["url"], data={"csrf": csrf_of(page.text)},
                       timeout=10).status_code == 409
    assert requests.get(sim.base + "/RET/" + "0" * 64, timeout=10).status_code == 404


@pytest.mark.parametrize("body,code", [
    ({}, "H168"),
    ({"recipients": "x"}, "H478"),
    ({"recipients": []}, "H164"),
    ({"recipients": [{"recipient": "a@b.com", "recipientType": "BIREYSEL"}] * 101}, "H127"),
    ({"recipients": [{"recipientType": "BIREYSEL"}]}, "H114"),
    ({"recipients": [{"recipient": "+905321234567", "recipientType": "BIREYSEL"}]}, "H120"),
    ({"recipients": [{"recipient": "a@ornek.com"}]}, "H170"),
    ({"recipients": [{"recipient": "a@ornek.com", "recipientType": "asd"}]}, "H116"),
])
def test_hash_links_errors(sim, via, body, code):
    r = via.p.post("/via-hash-links", body)
    assert r.status_code == 422 and err(r) == code, r.text


def test_hash_links_auth(sim, via):
    r = requests.post(via.p.url("/via-hash-links"), json={"recipients": []}, timeout=10)
    assert r.status_code == 401 and err(r) == "H351"


# ---- OTP management (ViA Pass) -----------------------------------------------------------


def test_otp_sms_flow_records_consent(sim, via):
    to = phone()
    before = via.s.get(via.otp(f"/subscription/{via.iys}"), timeout=10).json()
    r = via.otp_start(to)
    assert r.status_code == 200, r.text
    assert r.headers.get("trace_id")
    assert r.json()["message"] == "SMS OTP doğrulama süreci başarıyla başlatıldı."
    rid = r.json()["data"]["requestId"]
    out = sent(sim, to)
    assert out["code"] == out["messages"][0]["code"] and out["messages"][0]["requestId"] == rid

    r = via.otp_complete(rid, out["code"])
    assert r.status_code == 200, r.text
    assert r.json() == {"message": "SMS OTP işlemi başarıyla tamamlandı."}
    # the template's consent: the brand's MESAJ, with İYS's SMS source
    s = via.status(to).json()
    assert s["status"] == "ONAY" and s["source"] == "IYS_KISAMESAJ"
    assert any(c["recipient"] == to and c["type"] == "MESAJ" for c in via.changes())

    r = via.otp_complete(rid, out["code"])
    assert r.status_code == 400 and sub_err(r) == "H1110"

    h = via.s.post(via.otp("/request-history"), json={"requestId": rid}, timeout=10)
    assert h.status_code == 200, h.text
    items = h.json()["content"]
    assert items[0] == dict(items[0], requestType="SMS", status="OTP Generation")
    assert items[-1]["description"] == "OTP Completed" and items[-1]["status"] == "SUCCESS"
    assert h.json()["pagination"]["totalItems"] == len(items)
    page = via.s.post(via.otp("/request-history?page=2&pageSize=1"), json={"requestId": rid},
                      timeout=10).json()
    assert page["content"] == [items[1]] and page["pagination"]["currentPage"] == 2

    f = via.s.get(via.otp(f"/get-clarification-file/{via.iys}/{rid}"), timeout=10)
    assert f.status_code == 200 and f.headers["Content-Type"] == "application/zip"
    text = zipfile.ZipFile(io.BytesIO(f.content)).read(f"{rid}.txt").decode()
    assert "ViA Pass" in text and to in text

    after = via.s.get(via.otp(f"/subscription/{via.iys}"), timeout=10).json()
    assert after["message"] == "Abonelik bilgileri başarıyla getirildi."
    assert after["data"][0]["viaCredit"] == before["data"][0]["viaCredit"] - 1
    assert after["data"][0]["viaSubscriptionPackage"]["status"] == "ACTIVE"


def test_otp_email_flow_without_consent(sim, via):
    to = email()
    r = via.otp_start(to, channel="email")
    assert r.status_code == 200, r.text
    assert r.json()["message"] == "Email OTP doğrulama süreci başarıyla başlatıldı."
    rid = r.json()["data"]["requestId"]
    code = sent(sim, to)["code"]
    assert via.otp_complete(rid, code, channel="sms").status_code == 404  # an e-mail process
    r = via.otp_complete(rid, code, channel="email")
    assert r.status_code == 200 and r.json()["message"] == "Email OTP işlemi başarıyla tamamlandı."
    assert via.status(to, "EPOSTA").status_code == 404  # the template names no consent


def test_otp_wrong_code_five_times(sim, via):
    to = phone()
    rid = via.otp_start(to).json()["data"]["requestId"]
    code = sent(sim, to)["code"]
    for _ in range(3):
        r = via.otp_complete(rid, wrong(code))
        assert r.status_code == 400 and sub_err(r) == "H1052", r.text
        assert r.json()["errorCode"] == "ERR-SYS-0007"
        assert r.json()["subSystemErrorInfo"]["errors"][0]["value"] == wrong(code)
    for c in (wrong(code), code):
        r = via.otp_complete(rid, c)
        assert r.status_code == 400 and sub_err(r) == "H1050", r.text
    assert via.status(to).status_code == 404
    h = via.s.post(via.otp("/request-history"), json={"requestId": rid}, timeout=10).json()
    assert [i["status"] for i in h["content"]].count("FAILURE") == 3


def test_otp_short_link_flow(sim, via):
    to = phone()
    r = via.otp_start(to, link=True)
    assert r.status_code == 200, r.text
    item = r.json()["data"][0]
    rid, short = item["requestId"], item["shortUrl"]
    assert re.fullmatch(r"[A-Za-z0-9]{6}", short)
    link = sent(sim, to)["shortUrl"]
    assert link == f"{sim.base}/s/{short}"
    assert sub_err(via.otp_complete(rid, "123456")) == "H1056"

    person = requests.Session()
    page = person.get(link, timeout=10)
    assert page.status_code == 200 and "Doğruluyorum" in page.text and to in page.text
    r = person.post(link, data={"csrf": csrf_of(page.text)}, timeout=10)
    assert r.status_code == 200 and "doğrulandı" in r.text
    s = via.status(to, "ARAMA").json()  # the template records MESAJ and ARAMA
    assert s["status"] == "ONAY" and s["source"] == "IYS_KISAMESAJ"
    h = via.s.post(via.otp("/request-history"), json={"requestId": rid}, timeout=10).json()
    assert h["content"][0]["requestType"] == "SMS SHORT URL"
    assert "Kısa link açıldı" in [i["description"] for i in h["content"]]
    assert via.s.get(via.otp(f"/get-clarification-file/{via.iys}/{rid}"),
                     timeout=10).status_code == 200


def test_otp_email_short_link(sim, via):
    to = email()
    r = via.otp_start(to, channel="email", link=True)
    assert r.status_code == 200, r.text
    assert r.json()["message"] == "Email OTP doğrulama süreci başarıyla başlatıldı."
    assert sent(sim, to)["messages"][0]["channel"] == "EPOSTA"


def test_otp_start_errors(sim, via):
    r = via.otp_start("05321234567", vkn="0123")
    assert r.status_code == 400
    body = r.json()
    assert body["errorCode"] == "ERR-VLD-001" and body["errorMessage"] == "validasyon hatası"
    assert {d["field"] for d in body["data"]} == {"phoneNumber", "vkn"}
    r = via.s.post(via.otp(f"/{via.iys}/sms/start"), json={"vkn": "1234567890"}, timeout=10)
    assert {d["field"] for d in r.json()["data"]} == {"phoneNumber", "templateId"}
    assert "Girilen değer: 'null'" in r.json()["data"][0]["message"]
    # templates: unknown, another channel's, another method's
    for kw in ({"template": "yok"}, {"template": f"{via.iys}-mail"},
               {"template": f"{via.iys}-smslink"}):
        r = via.otp_start(phone(), **kw)
        assert r.status_code == 404 and sub_err(r) == "H1107", r.text
        assert r.json()["subSystemErrorInfo"]["status"] == 404
    # token, iysCode
    r = requests.post(via.otp(f"/{via.iys}/sms/start"), timeout=10,
                      json={"phoneNumber": phone(), "templateId": "x", "vkn": "1234567890"})
    assert r.status_code == 401 and r.json()["errorCode"] == "ERR-SYS-0006"
    r = via.s.post(via.otp(f"/{via.iys + 1}/sms/start"), timeout=10,
                   json={"phoneNumber": phone(), "templateId": "x", "vkn": "1234567890"})
    assert r.status_code == 403 and r.json()["errorCode"] == "ERR-SYS-0005"
    # subscription: none, passive, out of credit
    v = Via(sim, credit=None)
    assert sub_err(v.otp_start(phone())) == "H1093"
    r = v.s.get(v.otp(f"/subscription/{v.iys}"), timeout=10)
    assert r.status_code == 400 and sub_err(r) == "H1093"
    v.subscribe(0, status="PASSIVE")
    assert sub_err(v.otp_start(phone())) == "H1092"
    v.subscribe(0)
    assert sub_err(v.otp_start(phone())) == "H1015"


def test_otp_other_errors(sim, via):
    r = via.otp_complete(str(uuid.uuid4()), "123456")
    assert r.status_code == 404 and r.json()["errorCode"] == "OTP-ERROR-001"
    r = via.s.post(via.otp("/sms/complete"), json={"otpCode": "1"}, timeout=10)
    assert r.status_code == 400 and r.json()["data"][0]["field"] == "requestId"
    # another provider's process is not found
    rid = via.otp_start(phone()).json()["data"]["requestId"]
    other = Via(sim)
    assert other.otp_complete(rid, "123456").status_code == 404
    r = via.s.post(via.otp("/request-history"), json={}, timeout=10)
    assert r.status_code == 400 and r.json()["errorCode"] == "ERR-SYS-0009"
    r = via.s.post(via.otp("/request-history"), json={"requestId": str(uuid.uuid4())}, timeout=10)
    assert r.status_code == 404 and r.json()["errorCode"] == "OTP-ERROR-002"
    r = via.s.post(via.otp("/request-history?page=0"), json={"requestId": rid}, timeout=10)
    assert sub_err(r) == "H1088"
    r = via.s.post(via.otp("/request-history?pageSize=0"), json={"requestId": rid}, timeout=10)
    assert sub_err(r) == "H1089"
    r = via.s.get(via.otp(f"/get-clarification-file/{via.iys}/{rid}"), timeout=10)
    assert r.status_code == 400 and sub_err(r) == "H1072"  # not completed
    r = via.s.get(via.otp(f"/subscription/{other.iys}"), timeout=10)
    assert r.status_code == 403 and sub_err(r) == "H1040"


# ---- time and restarts ------------------------------------------------------------------------


def test_expired_codes_and_links(tmp_path):
    s = start_sim(tmp_path / "sim", "--otp-ttl", "1", "--link-ttl", "1")
    try:
        v = Via(s)
        to, to2, to3 = phone(), phone(), phone()
        rid = v.started(to, etk=["MESAJ"])
        prid = v.otp_start(to2).json()["data"]["requestId"]
        v.started(to3, v="SMS_SHORTURL")
        link = sent(s, to3)["shortUrl"]
        time.sleep(2.1)
        r = v.confirm(rid, codes_of(s, to, rid))
        assert r.status_code == 400 and err(r) == "H1051"
        assert v.request(rid)["lastStatus"] == {"stage": "COMPLETED", "status": "OTP_CODE_EXPIRED"}
        r = v.otp_complete(prid, sent(s, to2)["code"])
        assert r.status_code == 400 and sub_err(r) == "H1051"
        assert requests.get(link, timeout=10).status_code == 410
        assert v.status(to).status_code == 404 and v.status(to2).status_code == 404
    finally:
        s.stop()


def test_processes_survive_a_restart(tmp_path):
    data = tmp_path / "sim"
    s = start_sim(data)
    try:
        v = Via(s, credit=10)
        to, to2 = phone(), phone()
        rid = v.started(to, etk=["MESAJ"])
        prid = v.otp_start(to2).json()["data"]["requestId"]
        codes, pcode = codes_of(s, to, rid), sent(s, to2)["code"]
    finally:
        s.stop()
    s = start_sim(data)
    try:
        v.sim = s
        v.p.sim = s
        v.p.login()  # tokens persist too, but log in against the new port
        assert sent(s, to2)["code"] == pcode
        assert v.confirm(rid, codes).status_code == 200
        assert v.otp_complete(prid, pcode).status_code == 200
        assert v.status(to).json()["status"] == "ONAY" and v.status(to2).json()["status"] == "ONAY"
        sub = v.s.get(v.otp(f"/subscription/{v.iys}"), timeout=10).json()
        assert sub["data"][0]["viaCredit"] == 8
    finally:
        s.stop()
