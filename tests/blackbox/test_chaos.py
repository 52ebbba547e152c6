"""Crash consistency (issue 16): every writer at once, izin SIGKILLed at
random moments and started again, the emulator killed and the SMS gateway
gone for a second during the run; then every promise checked (chaos.py).
make bench runs the same with 100 kills (bench/chaos.py)."""
import os

from chaos import run


def test_every_writer_at_once_through_random_kills(tmp_path):
    kills = int(os.environ.get("IZIN_CHAOS_KILLS", "6"))
    f = run(tmp_path, kills, seed=int.from_bytes(os.urandom(2), "big"))
    # the run did reach every way in
    assert f["api"] > 0 and f["bulk_jobs"] > 0 and f["inbound"] > 0 and f["page"] > 0, f
