"""Many small files are read by two worker processes (runner._read_inputs): the tables, the files
table and the per-file summary must be exactly what reading them one by one gives, and the
workers must never be forked from a process running other threads."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import threading

import pandas as pd
from helpers_raw import HAZARD_HEADER, REGISTRY, copy_registry, hazard, submission, write_sheet

from pipeline import config, runner

TABLES = ["hazards", "quarantine", "files", "warnings"]


def _month_of_files(raw, count: int = 40) -> None:
    """`count` small hazard workbooks (one unit each, a bad date in one), a corrupt one, an empty file."""
    copy_registry(raw)
    with open(REGISTRY, encoding="utf-8") as handle:
        names = [row["name"] for row in csv.DictReader(handle)]
    for n in range(count):
        rows = [hazard(隐患编号=f"G-{n}-{k}", 属地单位=names[n % len(names)], 企业名称=f"企业{n}-{k}") for k in range(3)]
        if n == 7:
            rows.append(hazard(隐患编号="G-7-bad", 发现日期="二〇二〇年十三月"))
        grid, _ = submission("2020年3月隐患排查治理台账", HAZARD_HEADER, rows)
        write_sheet(raw / f"{n:02d}_隐患.xlsx", grid)
    whole = (raw / "00_隐患.xlsx").read_bytes()
    (raw / "损坏.xlsx").write_bytes(whole[: len(whole) // 2])
    (raw / "空.csv").write_bytes(b"")


def test_files_read_by_workers_give_exactly_what_reading_one_by_one_gives(tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    _month_of_files(raw)
    # The command line, in a process of its own (no other thread): the workers read the files.
    script = ("import sys; from pathlib import Path; from pipeline import runner\n"
              "forked = []\n"
              "get = runner.mp.get_context\n"
              "runner.mp.get_context = lambda method: forked.append(method) or get(method)\n"
              f"runner.process(Path({str(raw)!r}), Path({str(tmp_path / 'workers')!r}), score=False)\n"
              "print('forked', forked)\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=config.PROJECT_ROOT, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(config.PROJECT_ROOT)})
    assert result.returncode == 0, result.stderr
    assert "forked ['fork']" in result.stdout
    # Here, one by one.
    monkeypatch.setattr(runner, "POOL_MIN_FILES", 10**9)
    lines: list[str] = []
    runner.process(raw, tmp_path / "serial", score=False, progress=lines.append)
    for table in TABLES:
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "workers" / f"{table}.parquet"),
                                      pd.read_parquet(tmp_path / "serial" / f"{table}.parquet"), check_exact=True)
    summary = [line for line in lines if line.startswith("  ✓") or line.startswith("  ✗") or line.startswith("  ?")]
    assert len(summary) == 42 and all(line in result.stdout for line in summary)
    assert any("损坏.xlsx" in line and "(corrupt or unreadable workbook" in line for line in summary)
    hazards = pd.read_parquet(tmp_path / "serial" / "hazards.parquet")
    assert len(hazards) == 120  # 40 files x 3 rows; the bad date's row is quarantined
    quarantine = pd.read_parquet(tmp_path / "serial" / "quarantine.parquet")
    assert set(quarantine["source_file"]) == {"07_隐患.xlsx"}


def test_workers_only_from_a_single_thread_and_for_many_small_files(tmp_path, monkeypatch):
    files = []
    for n in range(runner.POOL_MIN_FILES + 1):
        files.append(tmp_path / f"{n}.csv")
        files[-1].write_bytes(b"a,b\n1,2\n")
    monkeypatch.setattr(runner.threading, "active_count", lambda: 1)
    assert runner._pooled(files) == list(range(len(files)))
    assert runner._pooled(files[:runner.POOL_MIN_FILES - 1]) == []  # too few to pay for the workers
    monkeypatch.setattr(runner, "POOL_FILE_BYTES", 4)  # every file now "big": read here
    assert runner._pooled(files) == []
    monkeypatch.undo()
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert runner._pooled(files) == []  # never fork while another thread runs
    finally:
        stop.set()
        other.join()
