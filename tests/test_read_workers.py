"""Many small files are read by two worker processes (runner._read_inputs, `process(workers=True)`,
which the command line's `process` asks for): the tables, the files table and the per-file
summary must be exactly what reading them one by one gives, also when a worker fails or dies."""

from __future__ import annotations

import csv
import hashlib
import os
import subprocess
import sys
import threading
import time

import pandas as pd
from helpers_raw import HAZARD_HEADER, REGISTRY, copy_registry, hazard, submission, write_sheet

from pipeline import config, runner
from pipeline.ingest_rules import load_ingest_rules

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


def _serial(raw, processed, monkeypatch) -> list[str]:
    """process() reading one by one, here; its per-file summary lines."""
    lines: list[str] = []
    runner.process(raw, processed, score=False, progress=lines.append)
    return [line for line in lines if line.startswith(("  ✓", "  ✗", "  ?"))]


def _in_a_process_of_its_own(tmp_path, raw, processed, patch: str = "") -> subprocess.CompletedProcess:
    """runner.process(..., workers=True) as the command line runs it: in a process of its own,
    running no other thread. `patch`: code run first (after `from pipeline import runner`)."""
    script = ("import sys; from pathlib import Path; from pipeline import runner\n"
              "forked = []\n"
              "get = runner.mp.get_context\n"
              "runner.mp.get_context = lambda method: forked.append(method) or get(method)\n"
              f"{patch}\n"
              f"runner.process(Path({str(raw)!r}), Path({str(processed)!r}), score=False, workers=True)\n"
              "print('forked', forked)\n")
    return subprocess.run([sys.executable, "-c", script], cwd=config.PROJECT_ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(config.PROJECT_ROOT)})


def _same_tables(one, other) -> None:
    for table in TABLES:
        pd.testing.assert_frame_equal(pd.read_parquet(one / f"{table}.parquet"), pd.read_parquet(other / f"{table}.parquet"),
                                      check_exact=True)


def test_files_read_by_workers_give_exactly_what_reading_one_by_one_gives(tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    _month_of_files(raw)
    result = _in_a_process_of_its_own(tmp_path, raw, tmp_path / "workers")
    assert result.returncode == 0, result.stderr
    assert "forked ['fork']" in result.stdout
    summary = _serial(raw, tmp_path / "serial", monkeypatch)
    _same_tables(tmp_path / "workers", tmp_path / "serial")
    assert len(summary) == 42 and all(line in result.stdout for line in summary)
    assert any("损坏.xlsx" in line and "(corrupt or unreadable workbook" in line for line in summary)
    hazards = pd.read_parquet(tmp_path / "serial" / "hazards.parquet")
    assert len(hazards) == 120  # 40 files x 3 rows; the bad date's row is quarantined
    quarantine = pd.read_parquet(tmp_path / "serial" / "quarantine.parquet")
    assert set(quarantine["source_file"]) == {"07_隐患.xlsx"}


def test_what_a_worker_cannot_bring_back_is_read_again_by_the_command(tmp_path, monkeypatch):
    """A worker killed (the out-of-memory killer), or failing in a way no file error explains (a
    reader library's panic): the command reads those files itself, with the usual outcome, and
    prints no traceback."""
    raw = tmp_path / "raw"
    _month_of_files(raw)
    patch = ("import os\n"
             "parent, read = os.getpid(), runner.read_file\n"
             "class Panic(BaseException): pass\n"
             "def flaky(path):\n"
             "    if os.getpid() != parent and path.name == '03_隐患.xlsx': raise Panic('reader panicked')\n"
             "    if os.getpid() != parent and path.name == '20_隐患.xlsx': os._exit(9)\n"
             "    return read(path)\n"
             "runner.read_file = flaky")
    result = _in_a_process_of_its_own(tmp_path, raw, tmp_path / "workers", patch)
    assert result.returncode == 0, result.stderr
    assert "forked ['fork']" in result.stdout and "Traceback" not in result.stderr + result.stdout
    _serial(raw, tmp_path / "serial", monkeypatch)
    _same_tables(tmp_path / "workers", tmp_path / "serial")


def test_workers_only_for_many_small_files(tmp_path, monkeypatch):
    files = []
    for n in range(runner.POOL_MIN_FILES + 1):
        files.append(tmp_path / f"{n}.csv")
        files[-1].write_bytes(b"a,b\n1,2\n")
    assert runner._pooled(files) == list(range(len(files)))
    assert runner._pooled(files[:runner.POOL_MIN_FILES - 1]) == []  # too few to pay for the workers
    (tmp_path / "gone.csv").unlink(missing_ok=True)
    assert runner._pooled([*files, tmp_path / "gone.csv"]) == list(range(len(files)))  # read here, with its reason
    monkeypatch.setattr(runner, "POOL_FILE_BYTES", 4)  # every file now "big": read here
    assert runner._pooled(files) == []


def test_a_big_file_hashed_while_it_is_read_gives_the_same_row_as_one_hashed_after(tmp_path, monkeypatch):
    """runner.HASH_ASIDE_BYTES: a file at least that big is hashed on a thread while it is read;
    one byte smaller, after. The sha256, the sheets and a vanished file's message are the same."""
    raw = tmp_path / "raw"
    raw.mkdir()
    path = raw / "隐患.csv"
    path.write_text("隐患编号,发现日期\nG-1,2020-03-01\nG-2,2020-03-02\n", encoding="utf-8")
    expected = hashlib.sha256(path.read_bytes()).hexdigest()
    size = path.stat().st_size
    outcomes = []
    for threshold in (size, size + 1):  # hashed aside, then inline
        monkeypatch.setattr(runner, "HASH_ASIDE_BYTES", threshold)
        started = threading.active_count()
        sha, sheets = runner._read_one(path, path.name, load_ingest_rules(config.INGEST_RULES))
        assert threading.active_count() == started  # the hashing thread never outlives the read
        assert sha == expected
        outcomes.append([(part.source, part.summary["rows_read"]) for part in sheets])
    assert outcomes[0] == outcomes[1]
    monkeypatch.setattr(runner, "HASH_ASIDE_BYTES", 1)
    sha, why = runner._read_one(raw / "gone.csv", "gone.csv", load_ingest_rules(config.INGEST_RULES))
    assert sha == "" and "gone.csv" in why


def test_a_big_file_that_cannot_be_read_stops_its_hashing(tmp_path, monkeypatch):
    """A file hashed aside that turns out unreadable (binary content): its reason is given, the
    hashing thread is stopped rather than left to hash the rest, and joined."""
    path = tmp_path / "坏.csv"
    path.write_bytes(b"\x00\x01binary" * (1 << 18))  # 2 MiB: two blocks to hash
    monkeypatch.setattr(runner, "HASH_ASIDE_BYTES", 1)
    hashed = []
    sha256_of = runner.sha256_of

    def watched(file, stopped=lambda: False):
        def after_the_reading():  # each block waits (at most 5 s) for the reading to be over
            deadline = time.monotonic() + 5
            while not stopped() and time.monotonic() < deadline:
                time.sleep(0.001)
            return stopped()
        hashed.append(sha256_of(file, after_the_reading))
        return hashed[-1]

    monkeypatch.setattr(runner, "sha256_of", watched)
    started = threading.active_count()
    sha, why = runner._read_one(path, path.name, load_ingest_rules(config.INGEST_RULES))
    assert threading.active_count() == started
    assert sha == "" and "binary" in why
    assert hashed == [""]  # stopped at its first block: no digest
    assert sha256_of(path) == hashlib.sha256(path.read_bytes()).hexdigest()


def test_later_modules_are_imported_aside_only_after_the_workers_are_forked(tmp_path):
    """process() imports the modules its later stages need on a thread while the files are read
    (runner.LATER_MODULES), but no such thread runs while a worker process is forked (its module
    locks would stay held in the worker); the tables are those of reading one by one."""
    raw = tmp_path / "raw"
    _month_of_files(raw)
    patch = ("import os, threading\n"
             "at_fork = []\n"
             "os.register_at_fork(before=lambda: at_fork.append(sorted(t.name for t in threading.enumerate())))\n"
             "aside, calls = runner._import_aside, []\n"
             "runner._import_aside = lambda modules: calls.append(len(at_fork)) or aside(modules)\n"
             "import atexit\n"
             "atexit.register(lambda: print('at fork', at_fork, 'imports after forks', calls))")
    result = _in_a_process_of_its_own(tmp_path, raw, tmp_path / "workers", patch)
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("at fork"))
    forks, imports = line.split(" imports after forks ")
    assert forks.count("MainThread") == 2 and "imports" not in forks  # two workers, no import thread then
    assert imports == "[2]"  # once, after both forks
    assert set(runner.LATER_MODULES) >= {"pipeline.finalize", "pipeline.scoring"}
