"""The panel's API keys and users pages (issue 14 item 2): a key made in the
panel opens the API and is shown once, a revoked key is refused at once,
another account's key cannot be revoked; a user added in the panel logs in
with the one-time password and must change it, a deleted user's session
ends, nobody deletes themself; every POST needs the CSRF field."""
import re

import pytest
import requests

from conftest import Server, izin, make_store
from test_panel import csrf_of, login

PW = "dogru-parola-123"


@pytest.fixture(scope="module")
def panel(tmp_path_factory):
    data = tmp_path_factory.mktemp("panel_admin") / "d"
    acme, other = make_store(data)
    izin("user", "add", "--account", "acme", "--email", "ayse@acme.example",
         "--password-stdin", data=data, input=PW + "\n")
    izin("user", "add", "--account", "other", "--email", "oz@other.example",
         "--password-stdin", data=data, input=PW + "\n")
    srv = Server(["serve", "--listen", "127.0.0.1:0", "--data", str(data)], data).start()
    yield srv, acme, other
    srv.stop()


def brand_get(srv, key, brand):
    return requests.get(f"{srv.base}/v1/brands/{brand}",
                        headers={"Authorization": "Bearer " + key}, timeout=10)


def page(s, srv, path):
    r = s.get(srv.base + path, allow_redirects=False, timeout=10)
    assert r.status_code == 200, (path, r.status_code, r.text)
    return r


def key_ids(html):
    return [int(x) for x in re.findall(r'name="id" value="(\d+)"', html)]


def test_key_created_shown_once_and_revoked(panel):
    srv, acme, _ = panel
    s, _ = login(srv, "ayse@acme.example", PW)
    r = page(s, srv, "/panel/keys")
    assert "API anahtarları" in r.text and "Yeni anahtar oluştur" in r.text
    before = key_ids(r.text)
    assert len(before) == 1  # make_store's key of acme, live
    # without the CSRF field: refused, no key made
    r2 = s.post(srv.base + "/panel/keys/new", data={}, allow_redirects=False, timeout=10)
    assert r2.status_code == 403
    assert key_ids(page(s, srv, "/panel/keys").text) == before
    r = s.post(srv.base + "/panel/keys/new", data={"csrf": csrf_of(r.text)}, timeout=10)
    assert r.status_code == 200
    assert "no-store" in r.headers.get("Cache-Control", "")
    m = re.search(r'id="newkey">(izk_[0-9a-f]{48})<', r.text)
    assert m, r.text
    key = m.group(1)
    assert "bir daha gösterilmeyecek" in r.text
    assert brand_get(srv, key, acme.brand).status_code == 200
    # the list names it by its prefix only, never the whole key
    r = page(s, srv, "/panel/keys")
    assert key not in r.text and key[:8] + "…" in r.text
    ids = key_ids(r.text)
    new_id = max(set(ids) - set(before))
    csrf = csrf_of(r.text)
    # the first POST asks for confirmation and revokes nothing
    r = s.post(srv.base + "/panel/keys/revoke", data={"csrf": csrf, "id": new_id}, timeout=10)
    assert r.status_code == 200 and "Evet, anahtarı iptal et" in r.text
    assert brand_get(srv, key, acme.brand).status_code == 200
    # without CSRF: refused, the key still works
    r = s.post(srv.base + "/panel/keys/revoke", data={"id": new_id, "confirm": "1"},
               allow_redirects=False, timeout=10)
    assert r.status_code == 403
    assert brand_get(srv, key, acme.brand).status_code == 200
    r = s.post(srv.base + "/panel/keys/revoke",
               data={"csrf": csrf, "id": new_id, "confirm": "1"}, allow_redirects=False,
               timeout=10)
    assert r.status_code == 303 and r.headers["Location"] == "/panel/keys"
    r = brand_get(srv, key, acme.brand)
    assert r.status_code == 401, r.text  # at once
    # the list shows it revoked; the old key of make_store still works
    r = page(s, srv, "/panel/keys")
    assert "İptal edildi" in r.text and new_id not in key_ids(r.text)
    assert brand_get(srv, acme.key, acme.brand).status_code == 200
    # revoking it again: not a live key of the account
    r = s.post(srv.base + "/panel/keys/revoke",
               data={"csrf": csrf, "id": new_id, "confirm": "1"}, timeout=10)
    assert r.status_code == 404


def test_other_accounts_key_not_revocable(panel):
    srv, acme, other = panel
    # other's key id, as other's own page shows it
    so, _ = login(srv, "oz@other.example", PW)
    other_ids = key_ids(page(so, srv, "/panel/keys").text)
    assert other_ids
    s, _ = login(srv, "ayse@acme.example", PW)
    r = page(s, srv, "/panel/keys")
    assert not set(other_ids) & set(key_ids(r.text))  # not listed to acme
    csrf = csrf_of(r.text)
    for confirm in ({}, {"confirm": "1"}):
        r = s.post(srv.base + "/panel/keys/revoke",
                   data={"csrf": csrf, "id": other_ids[0], **confirm}, timeout=10)
        assert r.status_code == 404 and "Anahtar bulunamadı" in r.text
    assert brand_get(srv, other.key, other.brand).status_code == 200
    # a malformed id
    r = s.post(srv.base + "/panel/keys/revoke", data={"csrf": csrf, "id": "1x"}, timeout=10)
    assert r.status_code == 400


def test_users_add_login_change_delete(panel):
    srv, _, _ = panel
    s, _ = login(srv, "ayse@acme.example", PW)
    r = page(s, srv, "/panel/users")
    assert "Kullanıcılar" in r.text and "ayse@acme.example" in r.text
    assert "oz@other.example" not in r.text  # another account's users are not shown
    csrf = csrf_of(r.text)
    # bounded and checked input
    for bad in ["not-an-email", "a@" + "b" * 250 + ".tr", "<x>@y.example"]:
        r = s.post(srv.base + "/panel/users/new", data={"csrf": csrf, "email": bad}, timeout=10)
        assert r.status_code == 422 and "Geçerli bir e-posta adresi" in r.text
        assert "<x>" not in r.text  # escaped in the field it is kept in
    r = s.post(srv.base + "/panel/users/new", data={"email": "yeni@acme.example"},
               allow_redirects=False, timeout=10)
    assert r.status_code == 403
    r = s.post(srv.base + "/panel/users/new", data={"csrf": csrf, "email": "yeni@acme.example"},
               timeout=10)
    assert r.status_code == 200 and "bir daha gösterilmeyecek" in r.text
    m = re.search(r'id="newpw">([^<]+)<', r.text)
    assert m, r.text
    one_time = m.group(1)
    # the same e-mail again (in another case): refused
    r = s.post(srv.base + "/panel/users/new", data={"csrf": csrf, "email": "YENI@acme.example"},
               timeout=10)
    assert r.status_code == 409 and "zaten var" in r.text
    r = page(s, srv, "/panel/users")
    assert "yeni@acme.example" in r.text and "Değiştirmesi bekleniyor" in r.text
    # the new user logs in with the one-time password and must change it
    n, r = login(srv, "yeni@acme.example", one_time)
    assert r.status_code == 303 and r.headers["Location"] == "/panel/password"
    r = n.get(srv.base + "/panel/keys", allow_redirects=False, timeout=10)
    assert r.status_code == 303 and r.headers["Location"] == "/panel/password"
    r = page(n, srv, "/panel/password")
    r = n.post(srv.base + "/panel/password",
               data={"csrf": csrf_of(r.text), "current": one_time, "new": "yeni-parola-456",
                     "new2": "yeni-parola-456"}, allow_redirects=False, timeout=30)
    assert r.status_code == 303
    r = page(n, srv, "/panel/users")
    assert "<strong>(siz)</strong>" in r.text
    # each sees the other's delete button, not their own
    ayse_id, = key_ids(r.text)
    yeni_id, = key_ids(page(s, srv, "/panel/users").text)
    assert ayse_id != yeni_id
    # the new user cannot delete themself
    r = n.post(srv.base + "/panel/users/delete",
               data={"csrf": csrf_of(r.text), "id": yeni_id, "confirm": "1"}, timeout=10)
    assert r.status_code == 409 and "Kendi kullanıcınızı silemezsiniz" in r.text
    # ayse deletes them: a confirmation first, then the deletion
    r = s.post(srv.base + "/panel/users/delete", data={"csrf": csrf, "id": yeni_id}, timeout=10)
    assert r.status_code == 200 and "Evet, kullanıcıyı sil" in r.text
    assert page(n, srv, "/panel").status_code == 200  # not yet deleted
    r = s.post(srv.base + "/panel/users/delete", data={"id": yeni_id, "confirm": "1"},
               allow_redirects=False, timeout=10)
    assert r.status_code == 403
    r = s.post(srv.base + "/panel/users/delete",
               data={"csrf": csrf, "id": yeni_id, "confirm": "1"}, allow_redirects=False,
               timeout=10)
    assert r.status_code == 303 and r.headers["Location"] == "/panel/users"
    # their session is over: the next page goes to the login
    r = n.get(srv.base + "/panel", allow_redirects=False, timeout=10)
    assert r.status_code == 303 and r.headers["Location"] == "/panel/login"
    assert "yeni@acme.example" not in page(s, srv, "/panel/users").text
    _, r = login(srv, "yeni@acme.example", "yeni-parola-456")
    assert r.status_code == 401


def test_self_and_other_accounts_user_not_deletable(panel):
    srv, _, _ = panel
    so, _ = login(srv, "oz@other.example", PW)
    s, _ = login(srv, "ayse@acme.example", PW)
    r = page(s, srv, "/panel/users")
    csrf = csrf_of(r.text)
    # ayse's own id is not on her page: try the small ids the store gives;
    # each is hers (refused), oz's of the other account or unknown (404)
    refused_self = False
    for uid in range(1, 12):
        r = s.post(srv.base + "/panel/users/delete",
                   data={"csrf": csrf, "id": uid, "confirm": "1"}, allow_redirects=False,
                   timeout=10)
        if r.status_code == 409:
            assert "Kendinizi silemezsiniz" in r.text
            refused_self = True
        else:
            assert r.status_code == 404, (uid, r.status_code)  # oz's id among them
    assert refused_self
    # both still log in
    assert page(s, srv, "/panel/users").status_code == 200
    assert page(so, srv, "/panel").status_code == 200
