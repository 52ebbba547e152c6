"""`izin export`: a brand's current consents as CSV in the bulk upload's format."""
import csv
import io
import os
import stat
import subprocess
import sys

from conftest import (IZIN, fresh_phone, izin, make_store, store_argv, store_env, store_exec,
                      store_rows, tr_now)

HEADER = "recipient,type,status,source,consentDate,recipientType"


def post(env, body, api=None):
    r = (api or env.api).post_consent(body)
    assert r.status_code in (200, 201), r.text
    return r


def test_export_current_consents(env, tmp_path):
    p1, p2 = fresh_phone(), fresh_phone()
    mail = "zeynep.export@example.com"
    d1, d2, d3 = tr_now(-7200), tr_now(-3600), tr_now(-60)
    post(env, {"recipient": p1.replace("+90", "0"), "type": "MESAJ", "status": "ONAY",
               "source": "HS_WEB", "consentDate": d1})
    post(env, {"recipient": p1, "type": "ARAMA", "status": "ONAY",
               "source": "HS_CAGRI_MERKEZI", "consentDate": d2})
    post(env, {"recipient": p1, "recipientType": "TACIR", "type": "MESAJ", "status": "ONAY"})
    post(env, {"recipient": p2, "type": "MESAJ", "status": "ONAY", "source": "HS_WEB",
               "consentDate": d1})
    post(env, {"recipient": p2, "type": "MESAJ", "status": "RET", "source": "HS_MESAJ",
               "consentDate": d3})
    post(env, {"recipient": mail, "type": "EPOSTA", "status": "ONAY", "source": "HS_WEB",
               "consentDate": d2})
    # another account's brand stays out
    post(env, {"recipient": p1, "type": "MESAJ", "status": "ONAY", "source": "HS_WEB",
               "consentDate": d1}, api=env.api_other)

    out = izin("export", "--brand", str(env.acme.brand), data=env.data)
    assert out.stdout == "\n".join([
        HEADER,
        f"{p1},ARAMA,ONAY,HS_CAGRI_MERKEZI,{d2},BIREYSEL",
        f"{p1},MESAJ,ONAY,HS_WEB,{d1},BIREYSEL",
        f"{p1},MESAJ,ONAY,,,TACIR",
        f"{p2},MESAJ,RET,HS_MESAJ,{d3},BIREYSEL",
        f"{mail},EPOSTA,ONAY,HS_WEB,{d2},BIREYSEL",
    ]) + "\n"
    raw = subprocess.run([IZIN, *store_argv(["export", "--brand", str(env.acme.brand), "--data",
                                             str(env.data)])],
                         capture_output=True, check=True, env=store_env()).stdout
    assert not raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw  # no BOM, LF line ends
    assert raw.decode("utf-8") == out.stdout

    # one type
    out = izin("export", "--brand", str(env.acme.brand), "--type", "MESAJ", data=env.data)
    assert [l.split(",")[1] for l in out.stdout.splitlines()[1:]] == ["MESAJ"] * 3

    # What the file says is what the store holds: every row, sent back as one
    # consent the way an import reads it (empty = absent), is an exact repeat.
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    out_all = izin("export", "--brand", str(env.acme.brand), data=env.data).stdout
    for row in csv.DictReader(io.StringIO(out_all)):
        body = {k: v for k, v in row.items() if v != ""}
        r = env.api.post_consent(body)
        assert r.status_code == 200, (row, r.text)
    assert len(rows) == 3


def test_export_out_file_and_errors(env, tmp_path):
    p = fresh_phone()
    post(env, {"recipient": p, "type": "MESAJ", "status": "ONAY", "source": "HS_WEB",
               "consentDate": tr_now(-600)}, api=env.api_other)
    dest = tmp_path / "other.csv"
    dest.write_text("old contents\n")
    res = izin("export", "--brand", str(env.other.brand), "--account", "other", "--out",
               str(dest), data=env.data)
    assert res.stdout == ""
    assert "2 consents of brand 700002 written to" in res.stderr
    text = dest.read_text()
    assert text.startswith(HEADER + "\n") and f"{p},MESAJ,ONAY,HS_WEB," in text
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o600  # personal data
    assert sorted(os.listdir(tmp_path)) == ["other.csv"]  # no temporary file left

    # a brand with no consents: the header alone
    izin("brand", "add", "--account", "acme", "--code", "700009", "--name", "Boş", data=env.data)
    assert izin("export", "--brand", "700009", data=env.data).stdout == HEADER + "\n"

    # unknown brand: exit 1 with a message, and --out untouched
    r = izin("export", "--brand", "424242", "--out", str(dest), data=env.data, check=False)
    assert r.returncode == 1 and "no brand 424242" in r.stderr and r.stdout == ""
    assert dest.read_text() == text
    r = izin("export", "--brand", str(env.acme.brand), "--account", "nobody", data=env.data,
             check=False)
    assert r.returncode == 1 and "nobody" in r.stderr
    # usage errors: exit 2
    for args in [[], ["--brand", "x"], ["--brand", "700001", "--type", "FAX"],
                 ["--brand", "700001", "extra"]]:
        r = izin("export", *args, data=env.data, check=False)
        assert r.returncode == 2 and r.stderr.strip(), args
    # a folder that cannot be written: exit 1, nothing left behind
    r = izin("export", "--brand", "700001", "--out", str(tmp_path / "no" / "such.csv"),
             data=env.data, check=False)
    assert r.returncode == 1 and "cannot write" in r.stderr
    assert izin("export", "--help").stdout.startswith("usage: izin export")


def peak_rss_kb(args):
    """Run izin with args in a child of a fresh Python; its peak RSS in KiB."""
    code = ("import resource, subprocess, sys\n"
            "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    # Under ASan (make SANITIZE=...) freed memory waits in a quarantine and
    # counts in the RSS: without it the RSS is what the process holds.
    env = store_env()
    env["ASAN_OPTIONS"] = ":".join(x for x in (env.get("ASAN_OPTIONS"), "quarantine_size_mb=0")
                                   if x)
    out = subprocess.run([sys.executable, "-c", code, IZIN, *store_argv(args)],
                         capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    return int(out.stdout)


def test_export_large_brand_streams(tmp_path):
    """200,000 consents go out in the memory that 2,000 take."""
    data = tmp_path / "data"
    make_store(data)
    # The rows are put straight into the current state (the export reads
    # only that): recording 200,000 through the API would take minutes.
    # One statement per brand, the rows counted out by a recursive CTE
    # (both engines run it): +90532 then i in 7 digits, one second apart.
    for code, prefix, n, step in [(700001, "+90532", 200000, 1), (700002, "+90533", 2000, 0)]:
        (brand_id,) = store_rows(data, "SELECT id FROM brands WHERE code = ?", (code,))[0]
        store_exec(data, "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n"
                         " WHERE i < ?)"
                         " INSERT INTO consent_state(brand_id, recipient, rtype, type, log_id,"
                         " status, source, consent_date)"
                         " SELECT ?, ? || substr(CAST(10000000 + i AS TEXT), 2), 'BIREYSEL',"
                         " 'MESAJ', 1, 'ONAY', 'HS_WEB', 1767596400 + i * ? FROM n",
                   (n - 1, brand_id, prefix, step))

    big = tmp_path / "big.csv"
    izin("export", "--brand", "700001", "--out", str(big), data=data)
    with open(big, newline="") as f:
        lines = f.read().split("\n")
    assert lines[0] == HEADER and lines[-1] == "" and len(lines) == 200002
    assert lines[1] == "+905320000000,MESAJ,ONAY,HS_WEB,2026-01-05 10:00:00,BIREYSEL"
    assert lines[200000] == "+905320199999,MESAJ,ONAY,HS_WEB,2026-01-07 17:33:19,BIREYSEL"

    rss_big = peak_rss_kb(["export", "--brand", "700001", "--data", str(data)])
    rss_small = peak_rss_kb(["export", "--brand", "700002", "--data", str(data)])
    # 200,000 rows are about 12 MB of CSV; the export holds none of it
    assert rss_big - rss_small < 4 * 1024, (rss_big, rss_small)
