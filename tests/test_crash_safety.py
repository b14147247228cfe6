"""A load killed with SIGKILL at any point leaves the previous data exactly as it was."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import time

import duckdb
import pytest

from tests.conftest import ARMSDASH, ROWS, run_cli, write_register

# Spread over a full-register load (about 3.5 s here): imports, reading, typing,
# the copy of the database, the transaction, the checkpoint and the rename.
KILL_AFTER = (0.4, 1.8, 2.6, 3.1, 3.6)


def state(db):
    with duckdb.connect(str(db), read_only=True) as con:
        return (con.execute("SELECT count(*), sum(tiv_delivered) FROM current_deals").fetchone(),
                con.execute("SELECT count(*) FROM snapshots").fetchone()[0])


@pytest.mark.parametrize("delay", KILL_AFTER)
def test_sigkill_during_a_full_load_keeps_the_previous_data(tmp_path, db, real_register, delay):
    assert run_cli("load", write_register(tmp_path / "small.csv"), "--db", db).returncode == 0
    before_bytes = hashlib.sha256(db.read_bytes()).hexdigest()
    before = state(db)
    proc = subprocess.Popen([str(ARMSDASH), "load", str(real_register), "--db", str(db)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    finished = proc.poll() is not None
    if not finished:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    if finished or hashlib.sha256(db.read_bytes()).hexdigest() != before_bytes:
        # the load won the race (exited, or was killed after its rename, while it
        # cleaned up or printed the summary): the database must then be the whole new load
        assert state(db) == ((29_515, pytest.approx(2_092_211.45)), 2)
        return
    assert state(db) == before and before[0][0] == len(ROWS)
    # the next load cleans what the killed one left and succeeds
    done = run_cli("load", real_register, "--db", db)
    assert done.returncode == 0, done.stderr.decode()
    assert state(db)[0][0] == 29_515
    assert [p.name for p in db.parent.iterdir() if ".loading" in p.name] == []
