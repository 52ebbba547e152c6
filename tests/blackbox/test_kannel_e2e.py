"""End to end with a real Kannel (Debian's kannel 1.4.5; `make test` installs
it): bearerbox and smsbox on loopback ports, a fake SMSC this test connects
to as the mobile network, izin between Kannel and the İYS emulator.

1. "RET ACME" from a phone reaches izin through Kannel's sms-service get-url;
   the Turkish reply comes back out of Kannel to that phone with its letters
   intact (UCS-2), the RET blocks the number at the check endpoint and
   reaches the İYS emulator.
2. A commercial campaign through izin's Kannel gateway, read at the fake
   SMSC: only consented recipients, the opt-out footer appended, Turkish
   letters intact, the part counts Kannel's splitter makes, and Kannel's
   delivery reports back at izin (DELIVERED).
"""
import time

import pytest
import requests

from conftest import Server, fresh_phone, izin, tr_now, wait_for
from kannelutil import Kannel, free_port, installed
from simutil import Provider, start_sim

TOKEN = "kannel-e2e-token-0123456789"
OPTOUT = "Ret için RET ACME yazıp 4607 numarasına gönderin."


class World:
    """The emulator, Kannel and izin between them."""

    def __init__(self, tmp):
        if not installed():
            pytest.fail("Kannel is not installed (apt-get install kannel; make test does it)")
        self.sim = start_sim(tmp / "sim")
        self.provider = Provider(self.sim)
        self.brand = self.provider.brand
        self.data = tmp / "izin"
        izin("init", data=self.data)
        izin("account", "add", "--name", "acme", "--iys-code", str(self.provider.iys_code),
             "--iys-url", self.sim.base, "--iys-user", self.provider.username,
             "--iys-password", self.provider.password, data=self.data)
        izin("brand", "add", "--account", "acme", "--code", str(self.brand), "--name", "ACME",
             "--keyword", "ACME", "--short-number", "4607", "--trade-name", "ACME Ticaret A.Ş.",
             "--mersis", "0123456789012345", "--contact", "0212 555 01 23", data=self.data)
        self.key = izin("key", "add", "--account", "acme", data=self.data).stdout.strip()
        self.h = {"Authorization": "Bearer " + self.key}
        port = free_port()
        self.kannel = Kannel(tmp / "kannel", izin_port=port, gateway_token=TOKEN).start()
        self.srv = Server(["serve", "--listen", f"127.0.0.1:{port}", "--data", str(self.data),
                           "--sms-gateway", "kannel:" + self.kannel.sendsms_url,
                           "--sms-max-parts", "10", "--gateway-token", TOKEN,
                           "--iys-pull-interval", "1", "--iys-bulk-poll", "0"],
                          self.data).start()

    def stop(self):
        try:
            self.srv.stop()
        finally:
            self.kannel.stop()
            self.sim.stop()

    def consent(self, phone, status="ONAY", type="MESAJ", date=None):
        r = requests.post(self.srv.base + f"/v1/brands/{self.brand}/consents", headers=self.h,
                          timeout=10, json={"recipient": phone, "type": type, "status": status,
                                            "source": "HS_WEB",
                                            "consentDate": date or tr_now(-3600)})
        assert r.status_code == 201, r.text
        return r.json()

    def record(self, phone, type="MESAJ"):
        return requests.get(self.srv.base + f"/v1/brands/{self.brand}/consents/{phone}",
                            params={"type": type}, headers=self.h, timeout=10).json()

    def send(self, body):
        return requests.post(self.srv.base + f"/v1/brands/{self.brand}/sms/send", json=body,
                             headers=self.h, timeout=30)

    def status(self, send_id):
        return requests.get(self.srv.base + f"/v1/sms/sends/{send_id}", headers=self.h,
                            timeout=10).json()

    def delivered(self, send_id, n):
        s = self.status(send_id)
        return s if s["counts"]["DELIVERED"] == n else None

    def mt(self, n, timeout=15):
        """The next n messages Kannel sent to the network."""
        got, lines = [], []

        def more():
            lines.extend(self.kannel.take_lines())
            msgs, _ = self.kannel.messages(lines)
            got[:] = msgs
            return len(msgs) >= n
        wait_for(more, timeout)
        return got


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    w = World(tmp_path_factory.mktemp("kannel-e2e"))
    yield w
    w.stop()
    assert TOKEN not in w.srv.stderr() and w.kannel.password not in w.srv.stderr()


def test_ret_by_sms_through_kannel(world):
    phone = fresh_phone()
    # an ONAY İYS has, so that the RET goes to İYS (a first RET stays LOCAL)
    world.consent(phone)
    assert wait_for(lambda: world.record(phone)["iys"]["state"] == "ACCEPTED", 15)
    world.kannel.take_lines()

    world.kannel.mo(phone, "4607", "RET ACME")
    msgs = world.mt(1)
    assert len(msgs) == 1, msgs
    m = msgs[0]
    assert m.sender == "4607" and m.receiver == phone
    assert m.coding == "ucs-2"  # Kannel's GSM-7 would turn ı and ş into '?'
    assert m.text == ("ACME için SMS ve arama izniniz kaldırıldı. Yeniden izin vermek için "
                      "ONAY ACME yazıp 4607 numarasına gönderin.")

    rec = world.record(phone)
    assert rec["status"] == "RET" and rec["origin"] == "SMS" and rec["source"] == "HS_MESAJ"
    ev = rec["history"][0]["evidence"]
    assert ev["gateway"] == "kannel" and ev["text"] == "RET ACME" and ev["smsc"] == "fake"
    chk = requests.post(world.srv.base + f"/v1/brands/{world.brand}/check", headers=world.h,
                        json={"type": "MESAJ", "recipients": [phone]}, timeout=10).json()
    assert chk["blocked"] == [{"recipient": phone, "reason": "RET"}]
    # İYS has the RET
    assert wait_for(lambda: world.record(phone)["iys"]["state"] == "ACCEPTED", 15)
    r = world.provider.post("/consents/status", {"recipient": phone, "recipientType": "BIREYSEL",
                                                 "type": "MESAJ"})
    assert r.status_code == 200 and r.json()["status"] == "RET", r.text

    # Turkish capitals from the phone survive Kannel (mo-recode): a first RET
    # on calls only, kept LOCAL
    other = fresh_phone()
    world.kannel.mo(other, "4607", "İPTAL ACME ARAMA")
    m = world.mt(1)[0]
    assert m.receiver == other and m.text.startswith("ACME için arama izniniz kaldırıldı.")
    rec = world.record(other, type="ARAMA")
    assert rec["status"] == "RET" and rec["iys"]["state"] == "LOCAL"
    assert rec["history"][0]["evidence"]["text"] == "İPTAL ACME ARAMA"


def test_campaign_through_kannel(world):
    yes1, yes2, none, ret = fresh_phone(), fresh_phone(), fresh_phone(), fresh_phone()
    world.consent(yes1)
    world.consent(yes2)
    world.consent(ret, date=tr_now(-7200))
    world.consent(ret, status="RET")
    world.kannel.take_lines()
    text = "Kış indirimi başladı: çanta, şal ve ğ ı İ Ş Ö Ü harfleriyle %20!"
    r = world.send({"from": "ACME", "text": text, "to": [yes1, none, ret, yes2]})
    assert r.status_code == 202, r.text
    j = r.json()
    assert j["accepted"] == 2 and j["encoding"] == "UCS2" and j["optOutAppended"] is True
    assert sorted(x["recipient"] for x in j["sent"]) == sorted([yes1, yes2])
    assert {b["recipient"]: b["reason"] for b in j["blocked"]} == {none: "NO_CONSENT",
                                                                   ret: "RET"}
    final = (text + " ACME Ticaret A.Ş., MERSİS: 0123456789012345. İletişim: 0212 555 01 23. "
             + OPTOUT)
    assert j["text"] == final
    msgs = world.mt(2)
    assert sorted(m.receiver for m in msgs) == sorted([yes1, yes2])  # only the consented
    for m in msgs:
        assert m.sender == "ACME" and m.coding == "ucs-2"
        assert m.text == final                  # Turkish letters and the footer intact
        assert m.parts == j["parts"] == 3       # izin counts as Kannel splits
    time.sleep(0.3)
    assert world.kannel.take_lines() == []       # nothing else went out
    # Kannel's delivery reports (the fake SMSC delivers) come back to izin
    s = wait_for(lambda: world.delivered(j["id"], 2), 15)
    assert s, world.status(j["id"])
    assert {x["recipient"]: x["state"] for x in s["recipients"]} == {
        yes1: "DELIVERED", none: "NO_CONSENT", ret: "RET", yes2: "DELIVERED"}
    assert all(x["report"]["status"] == 1 for x in s["recipients"] if "messageId" in x)


def test_part_count_matches_kannels_splitter(world):
    """Kannel 1.4.5 cuts UCS-2 every 67 units, an emoji's surrogate pair on the
    boundary included: 134 units are 2 parts there (3 if split by characters)."""
    p = fresh_phone()
    world.kannel.take_lines()
    text = "ş" * 66 + "😀" + "ş" * 66
    j = world.send({"commercial": False, "from": "ACME", "text": text, "to": [p]}).json()
    assert j["encoding"] == "UCS2" and j["parts"] == 2
    m = world.mt(1)[0]
    assert m.parts == 2 and m.text == text       # the halves join again on the phone
    # GSM-7: an escaped character is never cut (Kannel and izin alike)
    text = "a" * 152 + "{" + "a" * 152
    j = world.send({"commercial": False, "from": "ACME", "text": text, "to": [p]}).json()
    assert j["encoding"] == "GSM7" and j["parts"] == 3
    assert world.mt(1)[0].parts == 3


def test_a_job_through_kannel(world):
    phones = [fresh_phone() for _ in range(30)]
    for p in phones:
        world.consent(p)
    world.kannel.take_lines()
    r = world.send({"from": "ACME", "text": "Yılbaşı fırsatı", "to": phones})
    assert r.status_code == 202
    j = r.json()
    assert j["state"] == "QUEUED" and j["accepted"] == 30
    msgs = world.mt(30)
    assert sorted(m.receiver for m in msgs) == sorted(phones)  # each once
    s = wait_for(lambda: world.delivered(j["id"], 30), 15)
    assert s, world.status(j["id"])["counts"]
    time.sleep(0.3)
    assert world.kannel.take_lines() == []
