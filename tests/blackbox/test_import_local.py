"""`izin import` on the local store (issue 10): the same job as an upload, run
in the command with its progress; exit 0 all rows in, 3 some rejected, 1
failed; and what `izin export` writes, `izin import` reads back unchanged."""
from conftest import izin, make_store, tr_now


def test_import_exit_codes_and_the_round_trip(tmp_path):
    acme, _ = make_store(tmp_path / "a")
    d = tr_now(-3600)
    good = tmp_path / "good.csv"
    good.write_text("alici;tip;durum;kaynak;tarih\n"
                    + "".join(f"0532500{i:04d};MESAJ;ONAY;HS_WEB;{d}\n" for i in range(300))
                    + f"05325009999;ARAMA;RET;HS_CAGRI_MERKEZI;{d}\n")
    r = izin("import", "--brand", str(acme.brand), str(good), data=tmp_path / "a", check=False)
    assert r.returncode == 0, r.stderr
    assert "301 rows, 301 accepted, 0 rejected" in r.stdout
    # plain progress lines when stderr is not a terminal
    assert "processed=301 total=301" in r.stderr

    bad = tmp_path / "bad.csv"
    bad.write_text(f"recipient,type,status,source,consentDate\n05325001000,MESAJ,ONAY,HS_WEB,{d}\n"
                   f"nope,MESAJ,ONAY,HS_WEB,{d}\n")
    r = izin("import", "--brand", str(acme.brand), "--json", str(bad), data=tmp_path / "a",
             check=False)
    assert r.returncode == 3
    assert '"accepted":1' in r.stdout and '"rejected":1' in r.stdout

    broken = tmp_path / "broken.csv"
    broken.write_text("recipient,type\n05325001001,MESAJ\n")
    r = izin("import", "--brand", str(acme.brand), str(broken), data=tmp_path / "a", check=False)
    assert r.returncode == 1 and "status" in r.stderr

    r = izin("import", "--brand", "999999", str(good), data=tmp_path / "a", check=False)
    assert r.returncode == 1

    out = izin("export", "--brand", str(acme.brand), data=tmp_path / "a").stdout
    assert out.count("\n") == 1 + 302
    copy = tmp_path / "export.csv"
    copy.write_text(out)
    make_store(tmp_path / "b")
    r = izin("import", "--brand", str(acme.brand), str(copy), data=tmp_path / "b", check=False)
    assert r.returncode == 0, r.stderr
    assert izin("export", "--brand", str(acme.brand), data=tmp_path / "b").stdout == out
