"""Reruns are identical, and runs started together do not corrupt each other.

- Two `process` runs of the same raw folder and rules give byte-identical Parquet tables, every
  one of them (clean tables, quarantine, files with its file_mtime, scores, deductions, the
  year-end assessment, submissions), even from a process with another hash seed, time zone and
  locale: no timestamps, no dict or set order, no hash order leaks into the outputs. The Excel
  attachments made from either are byte-identical as well.
- Two `python -m pipeline process --force` started at the same moment on one processed folder
  take turns (a lock on processed/.lock): both exit 0 and the tables are those of a single run
  (of a smaller raw folder, one unit's workbook and the year-end review, to keep the test quick).

The three command-line runs start together in one fixture (they take turns only where they
share a folder), so the module costs about one run of wall time.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from types import SimpleNamespace

import pandas as pd
import pytest

from pipeline import config
from pipeline.runner import process
from reliability_data import MONTH, YEAR, baseline, parquet_bytes

TABLES = {"accidents", "enforcement", "hazards", "annual_review", "quarantine", "warnings", "files",
          "monthly_scores", "deductions", "annual_assessment", "submissions"}


def start(raw, processed, **env):
    return subprocess.Popen([sys.executable, "-m", "pipeline", "process", "--raw", str(raw), "--processed", str(processed), "--force"],
                            cwd=config.PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(config.PROJECT_ROOT), **env})


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    raw, first = baseline(tmp_path_factory)
    root = tmp_path_factory.mktemp("reruns")
    small = root / "small"
    small.mkdir()
    for name in (config.REGISTRY_NAME, "南湖办12月报表.xlsx", f"{YEAR}年度考评结果.xlsx"):
        shutil.copy2(raw / name, small / name)
    other = start(raw, root / "other", PYTHONHASHSEED="4242", TZ="America/Los_Angeles", LC_ALL="C.UTF-8", LANG="C.UTF-8")
    together = [start(small, root / "shared", PYTHONHASHSEED=str(seed)) for seed in (1, 2)]
    process(small, root / "single", progress=lambda _: None, force=True)
    results = [(proc.wait(timeout=300), *proc.communicate()) for proc in (other, *together)]
    return SimpleNamespace(raw=raw, first=first, other=root / "other", shared=root / "shared", single=root / "single",
                           results=results)


def test_every_command_line_run_succeeded(runs):
    for status, out, err in runs.results:
        assert status == 0, err
        assert "Traceback" not in out + err and err == ""


def test_two_runs_give_byte_identical_tables(runs):
    first, second = parquet_bytes(runs.first), parquet_bytes(runs.other)
    assert {name.removesuffix(".parquet") for name in first} == TABLES
    different = [name for name in first if first[name] != second.get(name)]
    assert not different, f"tables differ between two runs: {different}"
    manifest = [json.loads((folder / "_manifest.json").read_text("utf-8")) for folder in (runs.first, runs.other)]
    assert manifest[0] == manifest[1]


def test_file_times_are_the_files_own(runs):
    """files.file_mtime is the raw file's modification time, not the time of the run."""
    files = pd.read_parquet(runs.first / "files.parquet").drop_duplicates("source_file")
    for name, mtime in files[["source_file", "file_mtime"]].itertuples(index=False):
        stamp = pd.Timestamp((runs.raw / name).stat().st_mtime, unit="s", tz="UTC").tz_convert(config.OFFICE_TIMEZONE)
        assert mtime == stamp.tz_localize(None).floor("s"), name


def test_runs_started_together_take_turns_and_match_a_single_run(runs):
    assert set(parquet_bytes(runs.shared)) == {f"{name}.parquet" for name in TABLES}
    assert parquet_bytes(runs.shared) == parquet_bytes(runs.single)
    leftovers = [p.name for p in runs.shared.iterdir() if p.name.endswith(".tmp")]
    assert not leftovers
    for path in runs.shared.glob("*.parquet"):
        pd.read_parquet(path)


def test_excel_attachments_are_byte_identical_across_runs(runs, tmp_path):
    from pipeline import export
    from pipeline import report_helpers as rh
    from pipeline.rulebook import rulebook_for_year

    rulebook = rulebook_for_year(config.RULES_DIR, int(YEAR))
    made = {}
    for label, folder in (("first", runs.first), ("other", runs.other)):
        tables = rh.load_tables(folder)
        monthly = export.write_monthly_workbook(tmp_path / f"{label}-m.xlsx", tables, MONTH, rulebook).read_bytes()
        annual = export.write_annual_workbook(tmp_path / f"{label}-y.xlsx", tables, YEAR, rulebook).read_bytes()
        made[label] = (monthly, annual)
    assert made["first"] == made["other"]


def test_two_report_builds_into_one_folder_take_turns(tmp_path, monkeypatch, capsys):
    """`report`/`annual`/`all` hold reports/.reports.lock while they build: two runs at once would
    otherwise execute the same notebooks into the same build files. (The builds are stand-ins
    here; rendering real notebooks twice would cost half a minute.)"""
    import threading
    import time

    from pipeline import commands, reports, runner

    spans = []

    def build(*args, **kwargs):
        started = time.monotonic()
        time.sleep(0.3)
        spans.append((started, time.monotonic()))
        return []

    monkeypatch.setattr(reports, "build_reports", build)
    monkeypatch.setattr(runner, "process", lambda raw, processed: None)
    threads = [threading.Thread(target=commands.make_reports, args=("report", MONTH, tmp_path / "raw", tmp_path / "processed", tmp_path / "reports"))
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    (first_start, first_end), (second_start, _) = sorted(spans)
    assert len(spans) == 2 and second_start >= first_end
