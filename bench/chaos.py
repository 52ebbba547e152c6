#!/usr/bin/python3
"""Crash consistency at length (issue 16): the black-box chaos run
(tests/blackbox/chaos.py) with 100 SIGKILLs or more - every writer at once,
izin killed at random moments and restarted, the emulator killed and the SMS
gateway gone for a second - then every promise checked. Prints the figures:
what was acknowledged through each way in, and the restart times.

    bench/chaos.py --izin build/rel/izin [--kills 100] [--seed N]
"""
import argparse
import os
import sys
import tempfile
import pathlib

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--izin", required=True)
    ap.add_argument("--kills", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    os.environ["IZIN_BIN"] = os.path.abspath(a.izin)
    sys.path.insert(0, os.path.join(HERE, "..", "tests", "blackbox"))
    import chaos
    with tempfile.TemporaryDirectory(prefix="izin-chaos-") as d:
        f = chaos.run(pathlib.Path(d), a.kills, seed=a.seed, log=lambda s: None)
    print(f"chaos ({a.kills} SIGKILLs, seed {a.seed}, {f['seconds']} s): every promise held")
    print(f"  acknowledged: {f['api']} API writes, {f['bulk_jobs']} bulk jobs "
          f"({f['bulk_rows']} rows), {f['inbound']} inbound SMS, {f['page']} consent pages")
    print(f"  İYS holds {f['at_iys']} records, each once; {f['webhook_changes']} changes "
          f"reached the webhook; {f['sms_sent']} SMS, none twice")
    print(f"  restart after SIGKILL to healthy: mean {f['restart_s_mean']} s, "
          f"max {f['restart_s_max']} s")


if __name__ == "__main__":
    main()
