"""H467: after the account's İYS activation date a consentDate more than 3
business days old is refused; before activation (upload period) it is not."""
import requests

from conftest import Server, fresh_phone, make_store, tr_now


def post(srv, tenant, date):
    return requests.post(srv.base + f"/v1/brands/{tenant.brand}/consents", headers=tenant.headers,
                         json={"recipient": fresh_phone(), "type": "MESAJ", "status": "ONAY",
                               "source": "HS_FIZIKSEL_ORTAM", "consentDate": date})


def test_three_business_days_after_activation(tmp_path):
    acme, other = make_store(tmp_path, activation="2024-01-01")
    srv = Server(["serve", "--listen", "127.0.0.1:0", "--data", str(tmp_path)], tmp_path).start()
    try:
        r = post(srv, acme, tr_now(-30 * 86400))
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["code"] == "H467"
        assert r.json()["errors"][0]["location"] == ["consentDate"]
        assert post(srv, acme, tr_now(-60)).status_code == 201
        # the other account has no activation date: its upload period accepts old consents
        assert post(srv, other, tr_now(-30 * 86400)).status_code == 201
        assert post(srv, other, "2016-03-01 12:00:00").status_code == 201
    finally:
        srv.stop()
