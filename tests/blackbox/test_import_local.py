"""`izin import` on the local store (issue 10): the same job as an upload, run
in the command with its progress; exit 0 all rows in, 3 some rejected, 1
failed; and what `izin export` writes, `izin import` reads back unchanged."""
from conftest import bulk_changes, izin, make_store, store_argv, store_env, store_rows, tr_now


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
    errs = tmp_path / "errors.csv"
    r = izin("import", "--brand", str(acme.brand), "--json", "--errors", str(errs), str(bad),
             data=tmp_path / "a", check=False)
    assert r.returncode == 3
    assert '"accepted":1' in r.stdout and '"rejected":1' in r.stdout
    # every rejected row, as the server's errors.csv has it
    assert errs.read_text().splitlines() == [
        "line,code,message,raw",
        errs.read_text().splitlines()[1]]
    line = errs.read_text().splitlines()[1]
    assert line.startswith("3,H121,") and line.endswith(f",\"nope,MESAJ,ONAY,HS_WEB,{d}\"")

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


def _job(data):
    rows = store_rows(data, "select id, state, processed, accepted, owner from jobs")
    return rows[0] if rows else None


def _bulk_rows(data):
    return bulk_changes(data)


def test_a_server_leaves_a_running_import_alone_and_takes_over_a_dead_one(tmp_path):
    import signal
    import subprocess
    from conftest import IZIN, Server
    from test_sync import wait_for
    acme, _ = make_store(tmp_path / "d")
    data = tmp_path / "d"
    n = 150000
    f = tmp_path / "big.csv"
    d = tr_now(-3600)
    f.write_text("recipient,type,status,source,consentDate\n"
                 + "".join(f"+90534{i:07d},MESAJ,ONAY,HS_WEB,{d}\n" for i in range(n)))
    imp = subprocess.Popen([IZIN, *store_argv(["import", "--brand", str(acme.brand), "--data",
                                               str(data), str(f)])],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=store_env())
    # the import runs; a server started on the same store must not run it too
    assert wait_for(lambda: (_job(data) or (0, 0, 0))[2] > 0, timeout=60, step=0.02)
    srv = Server(["serve", "--listen", "127.0.0.1:0", "--data", str(data)], data).start()
    try:
        assert imp.wait(timeout=120) == 0, imp.stderr.read()
        _, state, processed, accepted, _ = _job(data)
        assert (state, processed, accepted) == ("DONE", n, n)
        assert _bulk_rows(data) == (n, n)
    finally:
        srv.stop()

    # an import killed midway is finished by the next server, from its last batch
    g = tmp_path / "big2.csv"
    g.write_text("recipient,type,status,source,consentDate\n"
                 + "".join(f"+90535{i:07d},MESAJ,ONAY,HS_WEB,{d}\n" for i in range(n)))
    imp = subprocess.Popen([IZIN, *store_argv(["import", "--brand", str(acme.brand), "--data",
                                               str(data), str(g)])],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=store_env())

    def second():
        rows = store_rows(data, "select processed from jobs where path like '%big2.csv'")
        return rows[0] if rows else None
    assert wait_for(lambda: (second() or (0,))[0] > 0, timeout=60, step=0.02)
    imp.send_signal(signal.SIGKILL)
    imp.wait()
    assert 0 < second()[0] < n
    srv = Server(["serve", "--listen", "127.0.0.1:0", "--data", str(data)], data).start()
    try:
        assert wait_for(lambda: second()[0] == n, timeout=120, step=0.2)
        assert _bulk_rows(data) == (2 * n, 2 * n)
    finally:
        srv.stop()


def test_repeats_across_a_large_file_keep_the_later_date(tmp_path):
    """Pass 1 sizes its table of addresses from the first 131,072 rows (here
    from 262,144 slots to about 370,000): the repeats found before that
    (their slots move with the table) and after it are all settled by date,
    the later line on a tie."""
    import csv
    acme, _ = make_store(tmp_path / "a")
    early, mid, late = tr_now(-7200), tr_now(-3600), tr_now(-60)
    n = 250000
    rows, want = [], {}  # want: losing line -> the line kept
    for i in range(n):
        rows.append(f"+90536{i:07d},MESAJ,ONAY,HS_WEB,{mid}")
        if i % 1000 == 10:  # row i - 10 again, before and after the table is sized
            j, line, k = i - 10, len(rows) + 2, i // 1000
            if k % 3 == 0:    # the later row has the later date: the first loses
                rows.append(f"+90536{j:07d},MESAJ,ONAY,HS_WEB,{late}")
                want[j + 2 + k] = line
            elif k % 3 == 1:  # the later row has the earlier date: it loses
                rows.append(f"+90536{j:07d},MESAJ,ONAY,HS_WEB,{early}")
                want[line] = j + 2 + k
            else:             # a tie: the later line is kept
                rows.append(f"+90536{j:07d},MESAJ,ONAY,HS_WEB,{mid}")
                want[j + 2 + k] = line
    # another type or recipientType is another address: no repeat
    rows.append(f"+905360000000,ARAMA,ONAY,HS_WEB,{mid}")
    f = tmp_path / "big.csv"
    f.write_text("recipient,type,status,source,consentDate\n" + "\n".join(rows) + "\n")
    errs = tmp_path / "errors.csv"
    r = izin("import", "--brand", str(acme.brand), "--errors", str(errs), str(f),
             data=tmp_path / "a", check=False)
    assert r.returncode == 3, r.stderr
    assert f"{len(rows)} rows, {len(rows) - len(want)} accepted, {len(want)} rejected" in r.stdout
    with open(errs, newline="") as fh:
        got = list(csv.reader(fh))[1:]
    assert len(got) == len(want)
    for line, code, message, raw in got:
        assert code == "H194"
        assert f" {want[int(line)]}. satırda" in " " + message, (line, message)
