"""A short concurrent run of bench/load_test.py in CI: the production server must answer every request.

The full run (1, 10 and 50 users, 3,000 requests each) is a benchmark; this
keeps its claim, zero errors under concurrency, checked on every change, and
keeps the script itself from rotting (it learns the callbacks from the app,
so a page whose callbacks a browser cannot replay fails here).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "load_test.py"


def _load_test_module():
    spec = importlib.util.spec_from_file_location("armsdash_bench_load_test", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_ten_concurrent_readers_get_every_answer(real_db, tmp_path):
    lt = _load_test_module()
    server = lt.Server(real_db, workers=2, threads=2, log=tmp_path / "gunicorn.log")
    try:
        workload = lt.Workload.learn(server.port, real_db)
        assert {"/", "/country", "/weapons", "/deals", "/flows"} <= set(workload.pages)
        result = lt.run_level(server.port, workload, users=10, max_requests=200, max_seconds=20)
        log_errors = server.error_lines()
    finally:
        server.stop()
    assert len(result.latencies) >= 150, "too few requests in 20 s to say anything"
    assert result.errors == [] and log_errors == [], (result.errors[:5], log_errors[:5])
    assert set(result.statuses) <= {200, 204}
    # the heavy callbacks really ran (not just the cheap URL sync)
    assert {"ov-message", "deals-grid"} <= set(result.by_label), sorted(result.by_label)
