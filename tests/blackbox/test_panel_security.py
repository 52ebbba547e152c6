"""Security review of the customer's panel (issue 14): each test here
failed before the fix it names."""
import pytest

from conftest import Server, izin, make_store
from test_panel import csrf_of, login

PW = "dogru-parola-123"


@pytest.fixture(scope="module")
def panel(tmp_path_factory):
    data = tmp_path_factory.mktemp("panel_security") / "d"
    make_store(data)
    srv = Server(["serve", "--listen", "127.0.0.1:0", "--data", str(data)], data).start()
    yield srv, data
    srv.stop()


def add_user(data, email, pw=PW):
    izin("user", "add", "--account", "acme", "--email", email, "--password-stdin", data=data,
         input=pw + "\n")


def test_password_change_guesses_count_towards_the_lock(panel):
    """The password page checks the current password: without a count, a
    session left open let anyone guess it without end (60 posts a minute)
    and so take the account over."""
    srv, data = panel
    add_user(data, "tahmin@acme.example")
    s, r = login(srv, "tahmin@acme.example", PW)
    assert r.status_code == 303
    tok = csrf_of(s.get(srv.base + "/panel/password", timeout=10).text)
    for i in range(5):
        r = s.post(srv.base + "/panel/password",
                   data={"csrf": tok, "current": f"yanlis-{i}-parola", "new": "yeni-parola-456",
                         "new2": "yeni-parola-456"}, allow_redirects=False, timeout=30)
        assert r.status_code in (422, 429), r.status_code
    assert r.status_code == 429 and "dakika sonra tekrar deneyin" in r.text
    # locked: the right current password is refused too, and the password stays
    r = s.post(srv.base + "/panel/password",
               data={"csrf": tok, "current": PW, "new": "yeni-parola-456",
                     "new2": "yeni-parola-456"}, allow_redirects=False, timeout=30)
    assert r.status_code == 429
    # the same lock as the login page's
    _, r = login(srv, "tahmin@acme.example", PW)
    assert r.status_code == 429
