"""A run that dies midway leaves the previous outputs intact (every table and report is written
under a temporary name and moved into place), and the next run cleans up after it.

A real `python -m pipeline process --force` on 2·10^5 generated rows (some seconds of work) is
killed with SIGKILL twice: once while it reads and cleans, once the moment it starts writing
its tables. Both times every Parquet file must open and equal what the previous run wrote, the
manifest must be the previous one, and no temporary file may be visible as a table.
"""

from __future__ import annotations

import os
import signal
import shutil
import subprocess
import sys
import time

import pandas as pd
import pytest

from helpers_raw import HAZARD_HEADER, copy_registry, hazard, submission, write_sheet
from pipeline import config, runner
from pipeline.generate import write_large
from pipeline.runner import MANIFEST, process

BIG_ROWS = 200_000


def outputs(folder):
    """What a reader of the folder sees: the visible files and their bytes."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file() and not p.name.startswith(".")}


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("atomic")
    small = root / "small"
    grid, _ = submission("2020年3月隐患排查治理台账", HAZARD_HEADER, [hazard(隐患编号="A-1"), hazard(隐患编号="A-2", 企业名称="乙公司")])
    write_sheet(small / "隐患.xlsx", grid)
    copy_registry(small)
    previous = root / "previous"
    process(small, previous, progress=lambda _: None, force=True)
    big = root / "big"
    write_large(big, BIG_ROWS, "csv")
    return root, small, previous, big


def start(raw, processed):
    return subprocess.Popen([sys.executable, "-m", "pipeline", "process", "--raw", str(raw), "--processed", str(processed), "--force"],
                            cwd=config.PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(config.PROJECT_ROOT)})


@pytest.fixture(scope="module")
def killed(folders):
    """Two runs over the previous outputs, both started now: one killed after a fixed delay (while
    reading), one killed as soon as its first temporary table appears (while writing)."""
    root, _, previous, big = folders
    reading, writing = root / "killed_reading", root / "killed_writing"
    for folder in (reading, writing):
        shutil.copytree(previous, folder)
    runs = {"reading": start(big, reading), "writing": start(big, writing)}
    started = time.monotonic()
    seen_temporary = False
    while runs["writing"].poll() is None and time.monotonic() - started < 240:
        if runs["reading"].poll() is None and time.monotonic() - started > 3.0:
            runs["reading"].send_signal(signal.SIGKILL)
        if any(entry.name.endswith(".tmp") for entry in os.scandir(writing)):
            seen_temporary = True
            runs["writing"].send_signal(signal.SIGKILL)
            break
        time.sleep(0.002)
    for proc in runs.values():
        if proc.poll() is None and proc is runs["reading"]:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    return {"reading": (reading, runs["reading"].returncode, True), "writing": (writing, runs["writing"].returncode, seen_temporary)}


@pytest.mark.parametrize("when", ["reading", "writing"])
def test_a_killed_run_leaves_the_previous_tables_intact(folders, killed, when):
    _, _, previous, _ = folders
    folder, status, caught = killed[when]
    assert caught and status == -signal.SIGKILL, f"the run was not killed while {when} (exit {status})"
    assert outputs(folder) == outputs(previous)
    for path in folder.glob("*.parquet"):
        pd.read_parquet(path)
    assert not [p.name for p in folder.iterdir() if p.suffix == ".parquet" and p.name.startswith(".")]


def test_the_next_run_removes_what_a_killed_run_left(folders, killed):
    _, small, _, _ = folders
    folder = killed["writing"][0]
    assert any(p.name.endswith(".tmp") for p in folder.iterdir())  # the killed run's half-written tables
    process(small, folder, progress=lambda _: None)  # skipped (nothing changed since the previous run) or not
    assert not [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_a_run_dying_while_moving_tables_into_place_leaves_no_manifest(folders, tmp_path, monkeypatch):
    """Between the first and the last move the folder mixes two runs: without a manifest it is
    known to be incomplete, and the next run redoes the work instead of skipping it."""
    _, small, previous, _ = folders
    folder = tmp_path / "processed"
    shutil.copytree(previous, folder)
    real_replace, moves = os.replace, []

    def dies_on_the_third_move(source, target):
        moves.append(target)
        if len(moves) == 3:
            raise OSError(28, "No space left on device")
        real_replace(source, target)

    monkeypatch.setattr(runner.os, "replace", dies_on_the_third_move)
    with pytest.raises(OSError):
        process(small, folder, progress=lambda _: None, force=True)
    monkeypatch.undo()
    assert not (folder / MANIFEST).exists()
    assert not [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]
    for path in folder.glob("*.parquet"):
        pd.read_parquet(path)
    messages = []
    process(small, folder, progress=messages.append)
    assert not any("跳过" in m for m in messages)
    tables = lambda outputs: {name: data for name, data in outputs.items() if name.endswith(".parquet")}  # noqa: E731
    assert tables(outputs(folder)) == tables(outputs(previous)) and (folder / MANIFEST).exists()


def test_tables_are_readable_by_others(folders):
    """Tables are made with the usual permissions (the umask), not a temporary file's owner-only ones."""
    _, _, previous, _ = folders
    umask = os.umask(0)
    os.umask(umask)
    for path in previous.glob("*.parquet"):
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask, path.name


def test_ctrl_c_while_the_tables_are_written_leaves_no_temporary_file(tmp_path, monkeypatch):
    import _thread
    import threading
    import time

    import pandas as pd

    from pipeline import runner

    write = runner._stage_parquet

    def slow(frame, target):
        time.sleep(0.6)
        return write(frame, target)

    monkeypatch.setattr(runner, "_stage_parquet", slow)
    threading.Timer(0.2, _thread.interrupt_main).start()  # Ctrl-C while both writer threads run
    with pytest.raises(KeyboardInterrupt), runner.TablePublisher(tmp_path) as publisher:
        for i in range(3):
            publisher.write(f"t{i}", pd.DataFrame({"a": [i]}))
        publisher.commit({"x": 1})
    time.sleep(1.0)  # a writer still running would create its file now
    assert list(tmp_path.iterdir()) == []


def test_a_run_failing_while_it_scores_leaves_the_previous_tables_and_no_temporary_file(folders, tmp_path, monkeypatch):
    """The clean tables are being written while the scoring runs (runner.TablePublisher): a scoring
    that fails then leaves the folder exactly as it was."""
    _, small, previous, _ = folders
    folder = tmp_path / "processed"
    shutil.copytree(previous, folder)
    seen = []

    def fails(*args, **kwargs):
        deadline = time.monotonic() + 10
        while not any(p.name.endswith(".tmp") for p in folder.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.005)
        seen.append(sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp")))
        raise RuntimeError("scoring failed")

    monkeypatch.setattr(runner, "score_tables", fails)
    with pytest.raises(RuntimeError, match="scoring failed"):
        process(small, folder, progress=lambda _: None, force=True)
    assert seen and seen[0], "no table was being written while the scoring ran"
    assert outputs(folder) == outputs(previous)
    assert not [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]
