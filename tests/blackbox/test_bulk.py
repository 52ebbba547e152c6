"""Bulk upload (issue 10): POST .../consents/bulk answers 202 at once, the job
runs in the background with its progress, every row is judged like a single
consent, errors.csv has every rejected row, and a job killed midway resumes
with no row stored twice."""
import csv
import io
import signal
import sqlite3
import time
import zipfile

import requests

from conftest import Server, bulk_changes, izin, make_store, store_rows, tr_now
from simutil import Provider, start_sim
from test_sync import wait_for

HEADER = "recipient,type,status,source,consentDate"


def upload(srv, tenant, body, content_type="text/csv", brand=None):
    r = requests.post(srv.base + f"/v1/brands/{brand or tenant.brand}/consents/bulk",
                      data=body, headers={**tenant.headers, "Content-Type": content_type},
                      timeout=60)
    return r


def wait_job(srv, tenant, job_id, timeout=60):
    def done():
        j = requests.get(srv.base + f"/v1/jobs/{job_id}", headers=tenant.headers,
                         timeout=10).json()
        return j if j["state"] in ("DONE", "FAILED") else None
    j = wait_for(done, timeout=timeout, step=0.1)
    assert j, "the job did not end"
    return j


def errors_csv(srv, tenant, job_id):
    r = requests.get(srv.base + f"/v1/jobs/{job_id}/errors.csv", headers=tenant.headers,
                     timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    lines = r.text.splitlines()
    assert lines[0] == "line,code,message,raw"
    return [ln.split(",", 3) for ln in lines[1:]]


def test_a_messy_csv_is_judged_row_by_row(tmp_path):
    acme, other = make_store(tmp_path / "d")
    srv = Server(["serve", "--listen", "127.0.0.1:0", "--data", str(tmp_path / "d")],
                 tmp_path / "d").start()
    try:
        d = tr_now(-3600)
        later = tr_now(-60)
        rows = [
            "\ufeffalıcı;tip;durum;kaynak;tarih;not",             # 1 BOM, Turkish, extra column
            f"0532 100 00 01;MESAJ;ONAY;HS_WEB;{d};a",             # 2 ok
            "",                                                    # 3 empty: skipped
            f"05321000002;MESAJ;ONAY;HS_WEB;{d};b",                # 4 repeated on 7, later date
            "bad-number;MESAJ;ONAY;HS_WEB;{d};c".format(d=d),      # 5 H121
            f"05321000003;FAX;ONAY;HS_WEB;{d};d",                  # 6 bad type
            f"05321000002;MESAJ;ONAY;HS_WEB;{later};e",            # 7 kept
            "05321000004;MESAJ",                                   # 8 wrong column count
            f"\"0532;1000005\";MESAJ;ONAY;HS_WEB;{d};f",          # 9 quoted separator: bad number
            f"05321000006;MESAJ;RET;HS_WEB;{d};\"çok\nsatırlı\"",  # 10-11 first RET: LOCAL
            f"05321000007;MESAJ;ONAY;HS_WEB;2099-01-01 10:00:00;g",  # 12 future date
        ]
        body = "\r\n".join(rows).encode("utf-8")
        r = upload(srv, acme, body)
        assert r.status_code == 202, r.text
        job = wait_job(srv, acme, r.json()["jobId"])
        assert job["state"] == "DONE"
        assert job["total"] == 9 and job["processed"] == 9
        assert job["accepted"] == 3 and job["rejected"] == 6
        assert any("not" in w for w in job["warnings"])
        errs = errors_csv(srv, acme, job["jobId"])
        codes = {int(e[0]): e[1] for e in errs}
        assert codes[4] == "H194" and "7. satırda" in [e for e in errs if e[0] == "4"][0][2]
        assert codes[5] == "H121"
        assert codes[6] not in ("", None) and 6 in codes
        assert codes[8] == "IZ400"
        assert codes[9] in ("H121", "H160")
        assert 12 in codes
        assert 3 not in codes
        assert [e["line"] for e in job["errors"]] == sorted(codes)
        api = requests.Session()
        api.headers.update(acme.headers)
        g = api.get(srv.base + f"/v1/brands/{acme.brand}/consents/+905321000002",
                    params={"type": "MESAJ"}, timeout=10).json()
        assert g["origin"] == "BULK" and g["consentDate"] == later
        assert len(g["history"]) == 1
        # the proof kept with a bulk change: its job and line
        assert g["history"][0]["evidence"] == {"job": job["jobId"], "line": 7}
        ret = api.get(srv.base + f"/v1/brands/{acme.brand}/consents/+905321000006",
                      params={"type": "MESAJ"}, timeout=10).json()
        assert ret["status"] == "RET" and ret["iys"]["state"] == "LOCAL"
        # another account sees neither the job nor its errors
        assert requests.get(srv.base + f"/v1/jobs/{job['jobId']}", headers=other.headers,
                            timeout=10).status_code == 404
        assert requests.get(srv.base + f"/v1/jobs/{job['jobId']}/errors.csv",
                            headers=other.headers, timeout=10).status_code == 404
        # nor can it upload to a brand that is not its own
        assert upload(srv, other, body, brand=acme.brand).status_code == 404
    finally:
        srv.stop()


def test_errors_csv_cannot_carry_a_formula(tmp_path):
    """A refused row is written back in errors.csv as it came; a field a
    spreadsheet would run (=, @, +/- not a number, a tab) is guarded with a
    single quote (CSV injection), a phone number is not."""
    acme, _ = make_store(tmp_path / "d")
    srv = Server(["serve", "--listen", "127.0.0.1:0", "--data", str(tmp_path / "d")],
                 tmp_path / "d").start()
    try:
        d = tr_now(-3600)
        evil = [
            "=cmd|' /C calc'!A0",
            "@SUM(1+1)*cmd|' /C calc'!A0",
            "+1+cmd|' /C calc'!A0",
            "-2+3+cmd|' /C calc'!A0",
            "\t=1+1",
        ]
        rows = ["alıcı,tip,durum,kaynak,tarih"]
        rows += [f"{e},MESAJ,ONAY,HS_WEB,{d}" for e in evil]
        rows.append(f"+90 532 300 00 01,MESAJ,ONAY,HS_WEB,{d}")
        rows.append(f"+905323000002,FAX,ONAY,HS_WEB,{d}")
        r = upload(srv, acme, "\r\n".join(rows).encode("utf-8"))
        assert r.status_code == 202, r.text
        job = wait_job(srv, acme, r.json()["jobId"])
        assert job["state"] == "DONE" and job["accepted"] == 1
        g = requests.get(srv.base + f"/v1/jobs/{job['jobId']}/errors.csv",
                         headers=acme.headers, timeout=30)
        assert g.status_code == 200
        got = list(csv.reader(io.StringIO(g.text)))
        assert got[0] == ["line", "code", "message", "raw"]
        raws = {int(x[0]): x[3] for x in got[1:]}
        assert sorted(raws) == [2, 3, 4, 5, 6, 8]
        for line, e in enumerate(evil, start=2):
            # the whole refused line, guarded because it begins as a formula
            assert raws[line].startswith("'" + e), (line, raws[line])
        # so is a refused line that begins with a phone number: the whole
        # line is no number (a number alone is written as it is: unit test)
        assert raws[8].startswith("'+905323000002,FAX")
        for x in got[1:]:
            for field in x:
                assert field[:1] not in ("=", "@", "+", "-", "\t", "\r"), field
    finally:
        srv.stop()


def test_windows_1254_json_and_xlsx(tmp_path):
    acme, _ = make_store(tmp_path / "d")
    srv = Server(["serve", "--listen", "127.0.0.1:0", "--data", str(tmp_path / "d")],
                 tmp_path / "d").start()
    try:
        d = tr_now(-3600)
        text = f"alıcı,tip,durum,kaynak,tarih\n05322000001,MESAJ,ONAY,HS_FİZİKSEL_ORTAM,{d}\n"
        # Windows-1254 has no "FİZİKSEL" source: the letters still decode
        j = wait_job(srv, acme, upload(srv, acme, text.encode("cp1254")).json()["jobId"])
        assert j["state"] == "DONE" and j["total"] == 1
        assert any("1254" in w for w in j["warnings"])

        body = ('[{"recipient":"05322000002","type":"MESAJ","status":"ONAY",'
                f'"source":"HS_WEB","consentDate":"{d}"}}, 7]')
        j = wait_job(srv, acme, upload(srv, acme, body.encode(), "application/json").json()["jobId"])
        assert j["state"] == "DONE" and j["accepted"] == 1 and j["rejected"] == 1

        # A workbook as Excel writes it: shared strings, the phone number
        # as a number (its leading 0 lost), the date as a serial number.
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
            z.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>')
            z.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
            strings = ["recipient", "type", "status", "source", "consentDate", "MESAJ", "ONAY", "HS_WEB"]
            z.writestr("xl/sharedStrings.xml", '<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' + "".join(f"<si><t>{s}</t></si>" for s in strings) + "</sst>")
            row1 = "".join(f'<c r="{c}1" t="s"><v>{i}</v></c>' for i, c in enumerate("ABCDE"))
            # 46023.5 = 2026-01-01 12:00:00
            row2 = ('<c r="A2"><v>5322000003</v></c><c r="B2" t="s"><v>5</v></c>'
                    '<c r="C2" t="s"><v>6</v></c><c r="D2" t="s"><v>7</v></c><c r="E2"><v>46023.5</v></c>')
            z.writestr("xl/worksheets/sheet1.xml", '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>' f'<row r="1">{row1}</row><row r="2">{row2}</row></sheetData></worksheet>')
        j = wait_job(srv, acme, upload(srv, acme, buf.getvalue(),
                                       "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet").json()["jobId"])
        assert j["state"] == "DONE" and j["accepted"] == 1, j
        g = requests.get(srv.base + f"/v1/brands/{acme.brand}/consents/+905322000003",
                         params={"type": "MESAJ"}, headers=acme.headers, timeout=10).json()
        assert g["consentDate"] == "2026-01-01 12:00:00"
    finally:
        srv.stop()


def test_a_header_without_a_required_column_fails_at_once(tmp_path):
    acme, _ = make_store(tmp_path / "d")
    srv = Server(["serve", "--listen", "127.0.0.1:0", "--data", str(tmp_path / "d")],
                 tmp_path / "d").start()
    try:
        body = "recipient,type,source,consentDate\n05323000001,MESAJ,HS_WEB,2026-01-01 10:00:00\n"
        j = wait_job(srv, acme, upload(srv, acme, body.encode()).json()["jobId"])
        assert j["state"] == "FAILED" and "status" in j["error"]
        assert j["processed"] == 0
        r = requests.get(srv.base + f"/v1/brands/{acme.brand}/consents/+905323000001",
                         params={"type": "MESAJ"}, headers=acme.headers, timeout=10)
        assert r.status_code == 404
        assert upload(srv, acme, b"").status_code == 422
    finally:
        srv.stop()


def test_a_file_reaches_iys_and_errors_are_listed(tmp_path):
    sim = start_sim(tmp_path / "sim")
    p = Provider(sim, login=False)
    data = tmp_path / "mod"
    izin("init", data=data)
    izin("account", "add", "--name", "acme", "--iys-code", str(p.iys_code), "--iys-url", sim.base,
         "--iys-user", p.username, "--iys-password", p.password, data=data)
    izin("brand", "add", "--account", "acme", "--code", str(p.brand), "--name", "ACME", data=data)
    key = izin("key", "add", "--account", "acme", data=data).stdout.strip()
    tenant = type("T", (), {"brand": p.brand, "headers": {"Authorization": "Bearer " + key}})
    srv = Server(["serve", "--listen", "127.0.0.1:0", "--data", str(data), "--iys-bulk-poll", "0",
                  "--iys-pull-interval", "3600"], data).start()
    try:
        d = tr_now(-3600)
        lines = [HEADER] + [
            (f"0532400{i:04d},MESAJ,ONAY,HS_WEB,{d}" if i % 10 else f"x{i},MESAJ,ONAY,HS_WEB,{d}")
            for i in range(1000)]
        j = wait_job(srv, tenant, upload(srv, tenant, "\n".join(lines).encode()).json()["jobId"])
        assert j["state"] == "DONE" and j["accepted"] == 900 and j["rejected"] == 100
        errs = errors_csv(srv, tenant, j["jobId"])
        assert len(errs) == 100 and all(e[1] == "H121" for e in errs)
        assert [int(e[0]) for e in errs] == [i + 2 for i in range(0, 1000, 10)]

        def at_iys():
            con = sqlite3.connect(f"file:{tmp_path}/sim/iys-sim.db?mode=ro", uri=True)
            try:
                return con.execute("select count(*), count(distinct recipient) from consent_log"
                                   ).fetchone()
            finally:
                con.close()
        assert wait_for(lambda: at_iys() == (900, 900), timeout=60, step=0.5)
        m = requests.get(srv.base + "/metrics", timeout=10).text
        assert 'izin_iys_requests_total{kind="bulk"} 1' in m
    finally:
        srv.stop()
        sim.stop()


def test_kill_9_midway_resumes_without_a_row_twice(tmp_path):
    acme, _ = make_store(tmp_path / "d")
    data = tmp_path / "d"
    n = 200000
    d = tr_now(-3600)
    body = ("\n".join([HEADER] + [f"+90533{i:07d},MESAJ,ONAY,HS_WEB,{d}" for i in range(n)])
            + "\n").encode()
    srv = Server(["serve", "--listen", "127.0.0.1:0", "--data", str(data)], data).start()
    job_id = upload(srv, acme, body).json()["jobId"]

    def progress():
        return requests.get(srv.base + f"/v1/jobs/{job_id}", headers=acme.headers,
                            timeout=10).json()
    assert wait_for(lambda: progress()["processed"] > 2000, timeout=60, step=0.02)
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait()
    done_at_kill = store_rows(data, "select processed from jobs where id = ?", (job_id,))[0][0]
    assert 0 < done_at_kill < n, done_at_kill  # killed in the middle
    srv.proc.wait()
    srv.stop()
    srv = Server(["serve", "--listen", "127.0.0.1:0", "--data", str(data)], data).start()
    try:
        j = wait_job(srv, acme, job_id, timeout=120)
        assert j["state"] == "DONE" and j["processed"] == n
        assert j["accepted"] == n and j["rejected"] == 0
        rows, distinct = bulk_changes(data)
        assert rows == n and distinct == n
    finally:
        srv.stop()


# Each row: the fields that differ from a valid row (recipient filled in per
# row), and the changes the same key had before (posted to both brands).
BASE = {"recipientType": "BIREYSEL", "type": "MESAJ", "status": "ONAY", "source": "HS_WEB"}
CASES = [
    ({}, []),
    ({"status": ""}, []),
    ({"status": "EVET"}, []),
    ({"type": ""}, []),
    ({"type": "SMS"}, []),
    ({"consentDate": ""}, []),
    ({"consentDate": "2026-01-05"}, []),
    ({"consentDate": "05.01.2026 10:00:00"}, []),
    ({"consentDate": "2026-02-30 10:00:00"}, []),
    ({"consentDate": "2015-04-30 23:59:59"}, []),
    ({"consentDate": "2099-01-01 00:00:00"}, []),
    ({"consentDate": "old"}, []),                      # before activation's 3 days: H467
    ({"source": ""}, []),
    ({"source": "HS_FAX"}, []),
    ({"source": "IYS_WEB"}, []),
    ({"source": "HS_KARAR"}, []),
    ({"source": "HS_2015", "consentDate": "2015-05-01 00:00:01"}, []),
    ({"recipient": ""}, []),
    ({"recipient": "05321"}, []),
    ({"recipient": "ali@example.com"}, []),
    ({"recipient": "+90532123456789012"}, []),
    ({"recipient": "0532123456a"}, []),
    ({"type": "EPOSTA", "recipient": "ali@"}, []),
    ({"type": "EPOSTA", "recipient": "ayşe@örnek.com"}, []),
    ({"type": "EPOSTA", "recipient": "ayse.{n}@example.com"}, []),
    ({"recipientType": "KURUM"}, []),
    ({"recipientType": ""}, []),                       # an empty cell: BIREYSEL, as omitted
    ({"status": "RET"}, []),                           # a first RET: LOCAL, H175
    ({"status": "RET", "source": "HS_KARAR"}, []),
    ({"recipientType": "TACIR", "source": "", "consentDate": ""}, []),
    ({"consentDate": "now"}, [{"consentDate": "earlier"}]),              # H174
    ({"status": "RET", "consentDate": "before"}, [{"consentDate": "earlier"}]),  # H178
    ({"status": "RET"}, [{"consentDate": "earlier"}]),                    # accepted
    ({}, [{}]),                                                         # an exact repeat
    ({"recipientType": "TACIR", "status": "RET", "consentDate": ""},
     [{"recipientType": "TACIR"}]),                                     # H462
    ({"recipientType": "TACIR", "status": "RET", "source": ""},
     [{"recipientType": "TACIR"}]),                                     # H463
]


def test_every_row_is_judged_like_the_same_consent_posted_alone(tmp_path):
    """One file with a row for every field error and state rule, uploaded to
    one brand, and each of its rows posted alone to another brand of the
    same account (İYS activation in the past, so H467 applies): the codes
    in errors.csv are the API's, row by row, and the accepted rows are
    stored alike."""
    data = tmp_path / "d"
    acme, _ = make_store(data, activation="2020-01-01")
    izin("brand", "add", "--account", "acme", "--code", "700003", "--name", "ACME 2", data=data)
    dates = {"now": tr_now(-60), "earlier": tr_now(-7200), "before": tr_now(-9000),
             "old": tr_now(-40 * 86400)}
    srv = Server(["serve", "--listen", "127.0.0.1:0", "--data", str(data)], data).start()
    try:
        api = requests.Session()
        api.headers.update(acme.headers)

        def post(brand, fields):
            body = {k: v for k, v in fields.items() if v != ""}
            return api.post(srv.base + f"/v1/brands/{brand}/consents", json=body, timeout=10)

        rows, single = [], {}
        for i, (diff, before) in enumerate(CASES):
            row = dict(BASE, recipient=f"0532{2000000 + i:07d}", consentDate=tr_now(-3600))
            row.update(diff)
            row["recipient"] = row["recipient"].replace("{n}", str(i))
            row["consentDate"] = dates.get(row["consentDate"], row["consentDate"])
            for b in before:
                prior = dict(BASE, recipient=row["recipient"], consentDate=tr_now(-3600))
                prior.update(b)
                prior["consentDate"] = dates.get(prior["consentDate"], prior["consentDate"])
                for brand in (acme.brand, 700003):
                    assert post(brand, prior).status_code in (200, 201)
            r = post(700003, row)
            errs = r.json().get("errors") or []
            single[i + 2] = errs[0]["code"] if r.status_code >= 400 else None
            rows.append(row)
        cols = ["recipient", "recipientType", "type", "status", "source", "consentDate"]
        body = "\n".join([",".join(cols)] + [",".join(r[c] for c in cols) for r in rows])
        r = upload(srv, acme, body.encode())
        assert r.status_code == 202, r.text
        job = wait_job(srv, acme, r.json()["jobId"])
        assert job["state"] == "DONE" and job["processed"] == len(CASES)
        got = {int(e[0]): e[1] for e in errors_csv(srv, acme, job["jobId"])}
        for line, code in single.items():
            assert got.get(line) == code, (line, rows[line - 2], code, got.get(line))
        assert job["rejected"] == sum(1 for c in single.values() if c)
        assert {"H110", "H115", "H111", "H117", "H112", "H158", "H157", "H156", "H162", "H467",
                "H113", "H119", "H408", "H155", "H114", "H121", "H464", "H160", "H120", "H116",
                "H174", "H178", "H462", "H463"} <= set(single.values()), single
        # the accepted rows are stored as the single ones were
        for i, row in enumerate(rows):
            if single[i + 2]:
                continue
            params = {k: row[f] for k, f in (("type", "type"), ("recipientType", "recipientType"))
                      if row[f]}
            a = api.get(srv.base + f"/v1/brands/{acme.brand}/consents/{row['recipient']}",
                        params=params, timeout=10).json()
            b = api.get(srv.base + f"/v1/brands/700003/consents/{row['recipient']}",
                        params=params, timeout=10).json()
            assert "history" in a and "history" in b, (row, a, b)
            for k in ("recipient", "status", "source", "consentDate", "recipientType"):
                assert a.get(k) == b.get(k), (k, a, b)
            assert (a.get("iys") or {}).get("state") == (b.get("iys") or {}).get("state")
            assert [h["status"] for h in a["history"]] == [h["status"] for h in b["history"]], (row, a, b)
    finally:
        srv.stop()
