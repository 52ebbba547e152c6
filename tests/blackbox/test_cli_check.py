"""`izin check`: the send filter for files and pipes."""
from conftest import fresh_phone, izin, tr_now


def test_check_file_and_pipe(env, tmp_path):
    yes, ret, none = fresh_phone(), fresh_phone(), fresh_phone()
    for p, st in [(yes, "ONAY"), (ret, "ONAY")]:
        env.api.post_consent({"recipient": p, "type": "MESAJ", "status": st, "source": "HS_WEB",
                              "consentDate": tr_now(-7200)})
    env.api.post_consent({"recipient": ret, "type": "MESAJ", "status": "RET", "source": "HS_WEB",
                          "consentDate": tr_now(-60)})
    f = tmp_path / "list.txt"
    f.write_text(f"{yes.replace('+90', '0')}\n\n{ret}\r\n{none}\nbozuk,numara\n")
    out = izin("check", "--brand", str(env.acme.brand), "--type", "MESAJ", str(f), data=env.data)
    assert out.stdout == yes + "\n"
    out = izin("check", "--brand", str(env.acme.brand), "--type", "MESAJ", "--blocked",
               data=env.data, input=f.read_text())
    assert out.stdout.splitlines() == [f"{ret},RET", f"{none},NO_CONSENT",
                                       '"bozuk,numara",INVALID']
    out = izin("check", "--brand", str(env.acme.brand), "--type", "MESAJ", "--informational",
               str(f), data=env.data)
    assert out.stdout.splitlines() == [yes, ret, none]
    # TACIR records are separate
    out = izin("check", "--brand", str(env.acme.brand), "--type", "MESAJ", "--recipient-type",
               "TACIR", str(f), data=env.data)
    assert out.stdout == ""


def test_check_errors(env, tmp_path):
    for args in [["--type", "MESAJ"], ["--brand", "x", "--type", "MESAJ"],
                 ["--brand", str(env.acme.brand), "--type", "FAX"],
                 ["--brand", "424242", "--type", "MESAJ"],
                 ["--brand", str(env.acme.brand), "--type", "MESAJ", "--account", "nobody"],
                 ["--brand", str(env.acme.brand), "--type", "MESAJ", str(tmp_path / "none")]]:
        p = izin("check", *args, data=env.data, check=False, input="")
        assert p.returncode != 0 and p.stderr.strip(), args
