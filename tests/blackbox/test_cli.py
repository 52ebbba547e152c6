"""The admin commands: init, account add, brand add, key add."""
import json
import os
import re
import subprocess

from conftest import IZIN, PG, izin, store_argv, store_dump, store_rows


def test_init_is_idempotent(tmp_path):
    a = izin("init", "--json", data=tmp_path)
    b = izin("init", "--json", data=tmp_path)
    assert json.loads(a.stdout) == json.loads(b.stdout)
    assert json.loads(a.stdout)["schemaVersion"] >= 1
    if PG:
        # the store is the PostgreSQL database; the folder holds no SQLite file
        assert not (tmp_path / "izin.db").exists()
    else:
        assert (tmp_path / "izin.db").exists()
    assert store_rows(tmp_path, "select value from meta where key = 'schema_version'") == \
        [(str(json.loads(a.stdout)["schemaVersion"]),)]


def test_db_url_and_environment(tmp_path):
    db = tmp_path / "x.db"
    izin("init", "--db", f"sqlite:{db}")
    assert db.exists()
    p = izin("account", "add", "--name", "e", "--iys-code", "5", "--json",
             env={"IZIN_DATA": str(tmp_path / "envdata")})
    assert json.loads(p.stdout)["name"] == "e"
    assert (tmp_path / "envdata" / "izin.db").exists()
    p = izin("init", "--db", "postgres://localhost/izin", check=False)
    assert p.returncode != 0 and "PostgreSQL" in p.stderr


def test_account_brand_key(tmp_path):
    izin("init", data=tmp_path)
    p = izin("account", "add", "--name", "acme", "--iys-code", "123456", "--activation-date",
             "2024-03-01", "--iys-url", "https://api.sandbox.iys.org.tr", "--iys-user", "u",
             "--iys-password", "secret-pw", "--json", data=tmp_path)
    j = json.loads(p.stdout)
    assert j["name"] == "acme" and j["iysCode"] == 123456 and j["activationDate"] == "2024-03-01"
    assert "secret-pw" not in p.stdout
    dup = izin("account", "add", "--name", "acme", "--iys-code", "1", check=False, data=tmp_path)
    assert dup.returncode == 1 and "already exists" in dup.stderr
    assert dup.stderr.count("\n") == 1

    p = izin("brand", "add", "--account", "acme", "--code", "123456", "--name", "ACME A.Ş.",
             "--keyword", "acme", "--short-number", "4607", "--slug", "acme", "--json",
             data=tmp_path)
    j = json.loads(p.stdout)
    assert j["code"] == 123456 and j["name"] == "ACME A.Ş." and j["keyword"] == "ACME"
    dup = izin("brand", "add", "--account", "acme", "--code", "123456", "--name", "x",
               check=False, data=tmp_path)
    assert dup.returncode == 1
    missing = izin("brand", "add", "--account", "nobody", "--code", "1", "--name", "x",
                   check=False, data=tmp_path)
    assert missing.returncode == 1 and "nobody" in missing.stderr

    key = izin("key", "add", "--account", "acme", data=tmp_path).stdout
    assert re.fullmatch(r"izk_[0-9a-f]{48}\n", key)
    kj = json.loads(izin("key", "add", "--account", "acme", "--json", data=tmp_path).stdout)
    assert kj["account"] == "acme" and kj["key"].startswith("izk_")
    # only hashes are stored: neither key appears anywhere in the store
    raw = store_dump(tmp_path)
    assert b"ACME A.\xc5\x9e." in raw  # the dump holds what was stored
    assert key.strip().encode() not in raw and kj["key"].encode() not in raw
    hashes = [r[0] for r in store_rows(tmp_path, "select hash from api_keys")]
    assert len(hashes) == 2 and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes)


def test_bad_arguments(tmp_path):
    izin("init", data=tmp_path)
    for args in [["account", "add", "--name", "x", "--iys-code", "abc"],
                 ["account", "add", "--name", "x", "--iys-code", "1", "--activation-date",
                  "2024-02-30"],
                 ["account", "add", "--iys-code", "1"],
                 ["account", "add", "--name", "x", "--iys-code", "1", "--iys-url", "ftp://x"],
                 ["account", "add", "--name", "x" * 500, "--iys-code", "1"],
                 ["account", "add", "--bogus"],
                 ["brand", "add", "--account", "x", "--code", "-5", "--name", "n"],
                 ["brand", "add", "--account", "x", "--code", "5", "--name", "n",
                  "--short-number", "46"],
                 ["brand", "add", "--account", "x", "--code", "5", "--name", "n",
                  "--subscriber-number", "05321234567"],
                 ["brand", "add", "--account", "x", "--code", "5", "--name", "n",
                  "--slug", "Bad Slug"],
                 ["account", "remove"], ["nosuchcommand"]]:
        p = izin(*args, check=False, data=tmp_path)
        assert p.returncode != 0, args
        assert p.stderr.strip(), args


def test_every_command_answers_help():
    # Every command lists its options and their defaults, and exits 0.
    for cmd, wants in [(["serve"], ["--listen ADDR", "default: 127.0.0.1:8080", "--iys-rate N",
                                    "default: 10", "--log-level"]),
                       (["demo"], ["--iys-listen ADDR", "default: 127.0.0.1:8090"]),
                       (["iys-sim"], ["--bulk-delay S", "default: 2", "--pull-lag S"]),
                       (["init"], ["--data DIR", "default: ./izin-data"]),
                       (["account", "add"], ["--iys-code N", "--activation-date YYYY-MM-DD"]),
                       (["brand", "add"], ["--keyword KW", "--short-number 46XX"]),
                       (["key", "add"], ["--account NAME"]),
                       (["check"], ["--recipient-type R", "default: BIREYSEL", "--blocked"])]:
        for flag in ("--help", "-h"):
            p = izin(*cmd, flag, check=False)
            assert p.returncode == 0, (cmd, p.stderr)
            assert p.stdout.startswith("usage: izin " + " ".join(cmd)), p.stdout
            for w in wants:
                assert w in p.stdout, (cmd, w)
    top = izin("--help")
    assert "--help" in top.stdout and "serve" in top.stdout


def test_settings_that_would_do_nothing_are_refused(tmp_path):
    izin("init", data=tmp_path)
    cfg = tmp_path / "izin.conf"
    # --allow-private-webhooks works since the webhooks (test_webhooks.py); a
    # bad --webhook-give-up is refused in each of the three forms
    cfg.write_text("webhook-give-up = 0\n")
    for args, env in [(["--webhook-give-up", "0"], None),
                      ([], {"IZIN_WEBHOOK_GIVE_UP": "-5"}),
                      (["--config", str(cfg)], None)]:
        p = izin("serve", "--listen", "127.0.0.1:0", *args, data=tmp_path, env=env, check=False)
        assert p.returncode == 2, (args, p.stderr)
        assert "--webhook-give-up" in p.stderr
    p = izin("serve", "--log-level", "loud", data=tmp_path, check=False)
    assert p.returncode == 2 and "--log-level" in p.stderr
    # --public-url exists since the consent page; a bad one is refused
    p = izin("serve", "--listen", "127.0.0.1:0", data=tmp_path, check=False,
             env={"IZIN_PUBLIC_URL": "ftp://izin.example"})
    assert p.returncode == 2 and "--public-url" in p.stderr
    # the only lock on inbound SMS must not be guessable, and is never echoed
    p = izin("serve", "--listen", "127.0.0.1:0", "--gateway-token", "s3cret", data=tmp_path,
             check=False)
    assert p.returncode == 1 and "--gateway-token" in p.stderr and "s3cret" not in p.stderr


def test_store_locations_are_parsed_in_one_place(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for loc in ["postgresql:/x", "mysql://h/db", "c:/data"]:
        p = izin("init", "--db", loc, check=False)
        assert p.returncode == 1 and "store location" in p.stderr, (loc, p.stderr)
    assert not any(tmp_path.iterdir()), list(tmp_path.iterdir())  # no folder made
    izin("init", "--data", "./a:b")
    if PG:
        # --data beside a postgresql:// --db names the node's folder only
        assert not (tmp_path / "a:b" / "izin.db").exists()
    else:
        assert (tmp_path / "a:b" / "izin.db").exists()  # a folder named a:b, not a URL
    assert store_rows(tmp_path / "a:b", "select count(*) from accounts") == [(0,)]


def test_iys_passwords_are_sealed_at_rest(tmp_path):
    izin("init", data=tmp_path)
    izin("account", "add", "--name", "acme", "--iys-code", "1", "--iys-user", "u",
         "--iys-password", "çok-gizli-parola", data=tmp_path)
    raw = store_dump(tmp_path)
    assert b"acme" in raw  # the dump holds what was stored
    assert "çok-gizli-parola".encode() not in raw
    (pw,) = store_rows(tmp_path, "select iys_password from accounts")[0]
    assert pw.startswith("sb1:")
    # another key does not open the store
    wrong = izin("init", data=tmp_path, env={"IZIN_SECRET_KEY": "ab" * 32}, check=False)
    assert wrong.returncode == 1 and "key" in wrong.stderr
    if PG:
        # no key file beside a PostgreSQL database: without IZIN_SECRET_KEY
        # the command is refused, naming it, and nothing is left in the folder
        e = {k: v for k, v in os.environ.items() if k not in ("IZIN_SECRET_KEY", "IZIN_DATA")}
        before = sorted(os.listdir(tmp_path))
        p = subprocess.run([IZIN, *store_argv(["init", "--data", str(tmp_path)])],
                           capture_output=True, text=True, env=e, timeout=60)
        assert p.returncode != 0 and "IZIN_SECRET_KEY" in p.stderr, p.stderr
        assert sorted(os.listdir(tmp_path)) == before
        assert not (tmp_path / "izin.db.key").exists()
        return
    # the right one in the environment does
    key = tmp_path / "izin.db.key"
    assert key.exists() and (key.stat().st_mode & 0o777) == 0o600
    right = izin("init", data=tmp_path, env={"IZIN_SECRET_KEY": key.read_text().strip()})
    assert right.returncode == 0
    # without its key file the store is refused, and no new key is left behind
    key.rename(tmp_path / "moved.key")
    p = izin("init", data=tmp_path, check=False)
    assert p.returncode == 1 and "missing" in p.stderr
    assert not key.exists()


def test_verify_names_the_first_changed_row(tmp_path):
    """izin verify walks the consent log's hash chain: intact after real
    changes; a row edited in the database behind izin's back is named."""
    import requests
    from conftest import Server, make_store, store_exec
    acme, _ = make_store(tmp_path)
    f = tmp_path / "in.csv"
    f.write_text("recipient,type,status,source,consentDate\n" + "".join(
        f"+9053300000{i:02d},MESAJ,ONAY,HS_WEB,2026-01-05 10:00:00\n" for i in range(20)))
    izin("import", "--brand", str(acme.brand), str(f), data=tmp_path)  # a bulk segment
    srv = Server(["serve", "--listen", "127.0.0.1:0", "--data", str(tmp_path)], tmp_path).start()
    try:
        for i in range(5):  # and changes of the log's own
            r = requests.post(srv.base + f"/v1/brands/{acme.brand}/consents", timeout=10,
                              headers=acme.headers,
                              json={"recipient": f"+9053310000{i:02d}", "type": "MESAJ",
                                    "status": "ONAY", "source": "HS_WEB",
                                    "consentDate": "2026-01-05 10:00:00"})
            assert r.status_code == 201, r.text
    finally:
        srv.stop()
    ok = izin("verify", "--json", data=tmp_path)
    assert json.loads(ok.stdout) == {"ok": True}
    assert izin("verify", data=tmp_path).stdout.strip() == "log intact"
    row = store_rows(tmp_path, "select min(id) + 2 from consent_log")[0][0]
    # (someone with the database's keys: the append-only guard first)
    store_exec(tmp_path, "drop trigger consent_log_no_update" + (" on consent_log" if PG else ""))
    store_exec(tmp_path, "update consent_log set status = 'RET' where id = ?", (row,))
    bad = izin("verify", "--json", data=tmp_path, check=False)
    assert bad.returncode == 3, bad.stderr
    assert json.loads(bad.stdout) == {"ok": False, "firstBrokenId": row}
    assert f"log broken at change {row}" in izin("verify", data=tmp_path, check=False).stdout
    if not PG:  # (the PostgreSQL pass makes a fresh database for every folder)
        # no store: refused, and none is made
        miss = izin("verify", data=tmp_path / "none", check=False)
        assert miss.returncode == 1 and "no store at" in miss.stderr
        ex = izin("export", "--brand", "1", data=tmp_path / "none", check=False)
        assert ex.returncode == 1 and "no store at" in ex.stderr  # as izin export
        assert not (tmp_path / "none").exists()
