"""`izin import --server URL --key KEY`: the upload and the job watch, against a small stand-in
for the izin server that answers API.md's bulk contract (POST .../consents/bulk -> 202 {jobId};
GET /v1/jobs/{id} moving one step a poll)."""
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import izin

KEY = "izk_test_remote_key"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def job(state, processed=0, total=None, accepted=0, rejected=0, **extra):
    j = {"state": state, "total": total, "processed": processed, "accepted": accepted,
         "rejected": rejected, "rowsPerSecond": 0.0, "etaSeconds": None, "warnings": [],
         "errors": []}
    j.update(extra)
    return j


ERRORS = [{"line": 2 + i, "code": "H121", "message": f"Alıcı hatalı ({i})"} for i in range(7)]

# What each brand's upload becomes: the job's answers, one a poll (the last one repeats).
SCRIPTS = {
    700001: [job("QUEUED"), job("RUNNING", 1), job("RUNNING", 2, 3, 2),
             job("DONE", 3, 3, 3, warnings=["extra column 'not' ignored"])],
    700003: [job("RUNNING", 4, 10, 2, 2),
             job("DONE", 10, 10, 3, 7, errors=ERRORS)],
    700004: [job("RUNNING", 0), job("FAILED", 0, error="the header has no recipient column \x1b[31m")],
    # answers 503 to the first polls: a server restarting
    700005: ["503", "503", job("RUNNING", 1, 2, 1), job("DONE", 2, 2, 2)],
}


class Fake:
    """The stand-in server: records uploads and polls, answers from SCRIPTS."""

    def __init__(self):
        self.lock = threading.Lock()
        self.uploads = []  # (brand, headers, body)
        self.polls = {}  # job id -> [times]
        self.jobs = {}  # job id -> (brand, polls so far)
        self.next = 0
        fake = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def answer(self, status, obj):
                body = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def read_body(self):
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    out = b""
                    while True:
                        size = int(self.rfile.readline().strip(), 16)
                        chunk = self.rfile.read(size + 2)[:size]
                        if size == 0:
                            return out
                        out += chunk
                return self.rfile.read(int(self.headers.get("Content-Length", "0")))

            def do_POST(self):
                m = re.fullmatch(r"/v1/brands/(\d+)/consents/bulk", self.path)
                body = self.read_body()
                if self.headers.get("Authorization") != "Bearer " + KEY:
                    return self.answer(401, {"errors": [{"code": "IZ401",
                                                         "message": "no or bad key"}]})
                brand = int(m.group(1)) if m else 0
                if brand not in SCRIPTS:
                    return self.answer(404, {"errors": [{"code": "IZ404",
                                                         "message": "no such brand"}]})
                with fake.lock:
                    fake.next += 1
                    jid = fake.next if brand == 700003 else f"job-{fake.next}"
                    fake.uploads.append((brand, dict(self.headers), body))
                    fake.jobs[str(jid)] = [brand, 0]
                self.answer(202, {"jobId": jid})

            def do_GET(self):
                m = re.fullmatch(r"/v1/jobs/([^/]+)", self.path)
                if self.headers.get("Authorization") != "Bearer " + KEY:
                    return self.answer(401, {"errors": [{"code": "IZ401", "message": "bad key"}]})
                with fake.lock:
                    entry = fake.jobs.get(m.group(1)) if m else None
                    if not entry:
                        return self.answer(404, {"errors": [{"code": "IZ404", "message": "?"}]})
                    fake.polls.setdefault(m.group(1), []).append(time.monotonic())
                    script = SCRIPTS[entry[0]]
                    step = script[min(entry[1], len(script) - 1)]
                    entry[1] += 1
                if step == "503":
                    return self.answer(503, {"errors": [{"code": "IZ503", "message": "later"}]})
                self.answer(200, dict(step, jobId=m.group(1)))

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def last_upload(self):
        with self.lock:
            return self.uploads[-1]


@pytest.fixture(scope="module")
def fake():
    f = Fake()
    yield f
    f.httpd.shutdown()


def run(fake, brand, path, *extra, key=KEY, input=None, env=None):
    args = ["import", "--brand", str(brand), str(path), "--server", fake.url + "/", *extra]
    if key:
        args += ["--key", key]
    return izin(*args, check=False, input=input, env=env)


CSV = ("recipient,type,status,source,consentDate,recipientType,not\n"
       "05321112233,MESAJ,ONAY,HS_WEB,2026-01-05 10:00:00,BIREYSEL,x\n"
       "\"0532 111 22 44\",ARAMA,ONAY,HS_WEB,2026-01-05 10:00:00,,\n"
       "ali@example.com,EPOSTA,RET,HS_WEB,2026-01-05 10:00:00,BIREYSEL,\n")


def test_every_row_accepted(fake, tmp_path):
    f = tmp_path / "consents.csv"
    f.write_text(CSV)
    r = run(fake, 700001, f)
    assert r.returncode == 0, r.stderr
    brand, headers, body = fake.last_upload()
    assert brand == 700001 and body == f.read_bytes()  # the file, byte for byte
    assert headers["Content-Type"] == "text/csv"
    assert headers["Authorization"] == "Bearer " + KEY
    assert headers["Content-Length"] == str(len(body))
    jid = re.search(r"job (job-\d+)", r.stderr).group(1)
    assert f"{fake.url}/v1/jobs/{jid}" in r.stderr  # the job's address, said at once
    # polled until DONE, every half second (start to start: the times the
    # server sees also carry each request's own delay, which a loaded
    # machine makes uneven, so a gap may look shorter than the period)
    times = fake.polls[jid]
    assert len(times) == 4
    assert all(0.25 <= b - a < 1.5 for a, b in zip(times, times[1:])), times
    # not a terminal: plain progress lines, the last one the final counts
    last = [l for l in r.stderr.splitlines() if l.startswith("processed=")][-1]
    assert re.fullmatch(r"processed=3 total=3 accepted=3 rejected=0 rows_per_s=\d+ eta_s=0", last)
    assert "\r" not in r.stderr
    assert r.stdout == (f"warning: extra column 'not' ignored\n"
                        f"job {jid} done: 3 rows, 3 accepted, 0 rejected\n")


def test_rejected_rows_exit_3(fake, tmp_path):
    f = tmp_path / "some-bad.csv"
    f.write_text(CSV)
    r = run(fake, 700003, f)
    assert r.returncode == 3, r.stderr
    jid = str(fake.next)  # this brand's job ids are integers
    lines = r.stdout.splitlines()
    assert lines[0] == f"job {jid} done: 10 rows, 3 accepted, 7 rejected"
    assert lines[1] == f"rejected rows, every one: {fake.url}/v1/jobs/{jid}/errors.csv"
    assert lines[2:7] == [f"  line {2 + i}: H121 Alıcı hatalı ({i})" for i in range(5)]
    assert lines[7] == "  ... and 2 more in errors.csv"

    # --json: the finished job as one object, with where errors.csv is
    r = run(fake, 700003, f, "--json")
    assert r.returncode == 3
    out = json.loads(r.stdout)
    assert out["state"] == "DONE" and out["rejected"] == 7 and len(out["errors"]) == 7
    assert out["errorsUrl"] == f"{fake.url}/v1/jobs/{fake.next}/errors.csv"


def test_failed_job_exit_1(fake, tmp_path):
    f = tmp_path / "no-header.csv"
    f.write_text("05321112233,MESAJ\n")
    r = run(fake, 700004, f)
    assert r.returncode == 1
    assert "import failed" in r.stderr
    # the server's text, with its control bytes made harmless
    assert "the header has no recipient column ?[31m" in r.stderr
    assert "\x1b" not in r.stderr and r.stdout == ""
    r = run(fake, 700004, f, "--json")
    assert r.returncode == 1 and json.loads(r.stdout)["state"] == "FAILED"


def test_server_briefly_away(fake, tmp_path):
    f = tmp_path / "c.csv"
    f.write_text(CSV)
    r = run(fake, 700005, f)
    assert r.returncode == 0, r.stderr
    assert "2 rows, 2 accepted, 0 rejected" in r.stdout


def test_content_types(fake, tmp_path):
    cases = [
        ("list.json", b'[{"recipient":"05321112233"}]', "application/json"),
        ("book.xlsx", b"PK\x03\x04" + bytes(range(256)) * 40, XLSX),
        ("export.data", b"PK\x03\x04rest", XLSX),  # a ZIP whatever its name
        ("noext", b"\xef\xbb\xbf \n[ {}]", "application/json"),
        ("noext2", CSV.encode(), "text/csv"),
        ("LIST.CSV", b"[not json, a csv named so]", "text/csv"),
    ]
    for name, data, ctype in cases:
        f = tmp_path / name
        f.write_bytes(data)
        r = run(fake, 700001, f)
        assert r.returncode == 0, (name, r.stderr)
        _, headers, body = fake.last_upload()
        assert headers["Content-Type"] == ctype, name
        assert body == data, name
    # an Excel 97-2003 file is refused before anything is sent
    n = len(fake.uploads)
    f = tmp_path / "old.xls"
    f.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    r = run(fake, 700001, f)
    assert r.returncode == 1 and ".xls" in r.stderr and len(fake.uploads) == n


def test_large_file_and_pipe(fake, tmp_path):
    # a few MB, streamed from disk with its length
    rows = "".join(f"0532{i:07d},MESAJ,ONAY,HS_WEB,2026-01-05 10:00:00,BIREYSEL\n"
                   for i in range(60000))
    f = tmp_path / "big.csv"
    f.write_text("recipient,type,status,source,consentDate,recipientType\n" + rows)
    r = run(fake, 700001, f)
    assert r.returncode == 0, r.stderr
    _, headers, body = fake.last_upload()
    assert body == f.read_bytes() and headers["Content-Length"] == str(len(body))
    # from a pipe: no length known beforehand, sent chunked, the type from its first bytes
    r = run(fake, 700001, "/dev/stdin", input=CSV)
    assert r.returncode == 0, r.stderr
    _, headers, body = fake.last_upload()
    assert body == CSV.encode() and headers.get("Transfer-Encoding") == "chunked"
    assert headers["Content-Type"] == "text/csv"


def test_failures(fake, tmp_path):
    f = tmp_path / "c.csv"
    f.write_text(CSV)
    n = len(fake.uploads)
    # no such brand, a wrong key: exit 1, the server's reason
    r = run(fake, 700099, f)
    assert r.returncode == 1 and "no brand 700099" in r.stderr and "no such brand" in r.stderr
    r = run(fake, 700001, f, key="izk_wrong")
    assert r.returncode == 1 and "refused the key" in r.stderr
    # the key from the environment
    r = run(fake, 700001, f, key=None, env={"IZIN_KEY": KEY})
    assert r.returncode == 0, r.stderr
    assert len(fake.uploads) == n + 1
    # a file that cannot be read, a folder
    for path in [tmp_path / "missing.csv", tmp_path]:
        r = run(fake, 700001, path)
        assert r.returncode == 1 and "cannot read" in r.stderr, path
    # nobody listening
    r = izin("import", "--brand", "700001", str(f), "--server", "http://127.0.0.1:9",
             "--key", KEY, check=False)
    assert r.returncode == 1 and "cannot reach http://127.0.0.1:9" in r.stderr
    # usage errors: exit 2
    for args in [["--brand", "700001", str(f), "--server", fake.url],  # no key
                 ["--brand", "x", str(f), "--server", fake.url, "--key", KEY],
                 ["--brand", "700001", str(f), "--server", "ftp://x", "--key", KEY],
                 ["--brand", "700001", str(f), "--server", fake.url, "--key", KEY,
                  "--data", str(tmp_path)],
                 ["--brand", "700001", "--server", fake.url, "--key", KEY],  # no file
                 ["--brand", "700001", str(f), str(f), "--server", fake.url, "--key", KEY]]:
        r = izin("import", *args, check=False, env={"IZIN_KEY": ""})
        assert r.returncode == 2 and r.stderr.strip(), args
    assert len(fake.uploads) == n + 1
    assert izin("import", "--help").stdout.startswith("usage: izin import")


def test_local_mode_needs_a_store_with_the_brand(tmp_path):
    f = tmp_path / "c.csv"
    f.write_text(CSV)
    izin("init", data=tmp_path / "data")
    r = izin("import", "--brand", "700001", str(f), data=tmp_path / "data", check=False)
    assert r.returncode == 1 and "700001" in r.stderr