"""`izin demo` serves, prints its key and examples, and the README's curl
examples work as printed."""
import json
import os
import re
import shutil
import subprocess
import time

import requests

import pytest

from conftest import Server

README = os.path.join(os.path.dirname(__file__), "..", "..", "README.md")


def readme_examples():
    text = open(README, encoding="utf-8").read()
    block = text.split("<!-- demo-examples -->")[1].split("<!-- /demo-examples -->")[0]
    script = block.split("```sh\n")[1].split("```")[0]
    # one command per curl, joining continued lines
    cmds, cur = [], ""
    for line in script.splitlines():
        if line.startswith("#") or line.startswith("export ") or not line.strip():
            continue
        cur += line.rstrip("\\").rstrip() + " "
        if not line.endswith("\\"):
            cmds.append(cur.strip())
            cur = ""
    return cmds


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is installed by scripts/deps.sh")
def test_demo_and_readme_examples(tmp_path):
    srv = Server(["demo", "--listen", "127.0.0.1:0", "--data", str(tmp_path / "d")],
                 tmp_path).start()
    try:
        banner = srv.read_banner("check")
        key = re.search(r"API key\s+(izk_[0-9a-f]{48})", banner).group(1)
        assert "600000" in banner and "curl" in banner
        cmds = readme_examples()
        assert len(cmds) == 3
        outs = []
        for c in cmds:
            c = c.replace("http://127.0.0.1:8080", srv.base)
            p = subprocess.run(["sh", "-c", c], capture_output=True, text=True,
                               env={**os.environ, "KEY": key}, timeout=30)
            assert p.returncode == 0, p.stderr
            outs.append(json.loads(p.stdout))
        assert outs[0]["recipient"] == "+905321234567" and outs[0]["iys"]["state"] == "PENDING"
        assert outs[1]["status"] == "ONAY" and len(outs[1]["history"]) == 1
        assert outs[2]["allowed"] == ["+905321234567"]
        assert outs[2]["blocked"] == [{"recipient": "+905329998877", "reason": "NO_CONSENT"}]
        # running the first example again is idempotent: the same id
        c = cmds[0].replace("http://127.0.0.1:8080", srv.base)
        again = subprocess.run(["sh", "-c", c], capture_output=True, text=True,
                               env={**os.environ, "KEY": key}, timeout=30)
        assert json.loads(again.stdout)["id"] == outs[0]["id"]
        # the built-in emulator got it: İYS's transactionId comes back within seconds
        sim = re.search(r"İYS\s+the built-in emulator on (http://127\.0\.0\.1:\d+)", banner).group(1)
        deadline = time.time() + 10
        while time.time() < deadline:
            g = requests.get(srv.base + "/v1/brands/600000/consents/+905321234567",
                             params={"type": "MESAJ"}, headers={"Authorization": "Bearer " + key})
            if g.json()["iys"]["state"] == "ACCEPTED":
                break
            time.sleep(0.2)
        assert g.json()["iys"]["state"] == "ACCEPTED", g.text
        assert len(g.json()["iys"]["transactionId"]) == 64
        recs = requests.get(sim + "/_sim/citizen/consents",
                            params={"recipient": "+905321234567"}).json()
        assert "ONAY" in json.dumps(recs) and "600000" in json.dumps(recs)
    finally:
        srv.stop()
