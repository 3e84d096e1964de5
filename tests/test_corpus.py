"""The bad-input corpus (tests/corpus.py) through the command line's `process`, in one run.

For every malformed input: one clear message naming the file (and the row, where there is one),
no traceback anywhere in the output, the other files still read, and for every sheet read
rows_read == clean + quarantined + non-data + duplicates.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from types import SimpleNamespace

import pandas as pd
import pytest

from corpus import CASES, VANISHING, build_corpus
from helpers_raw import assert_conserved, copy_registry
from pipeline import bench, config, runner
from pipeline.__main__ import main

CLEAN_TABLES = ("accidents", "enforcement", "hazards", "annual_review")
BY_NAME = {case.name: case for case in CASES}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    raw, processed = root / "raw", root / "processed"
    build_corpus(raw)
    copy_registry(raw)
    listed = runner.list_input_files

    def list_then_lose_one(folder, registry_name):
        """The raw folder as listed, then one file deleted before it is read (a unit's resend
        replacing it, a sync tool): deterministic, unlike a real race."""
        files = listed(folder, registry_name)
        (folder / VANISHING).unlink()
        return files

    out, err = io.StringIO(), io.StringIO()
    started = time.perf_counter()
    with pytest.MonkeyPatch.context() as patch, redirect_stdout(out), redirect_stderr(err):
        patch.setattr(runner, "list_input_files", list_then_lose_one)
        status = main(["process", "--raw", str(raw), "--processed", str(processed), "--force"])
    tables = {path.stem: pd.read_parquet(path) for path in processed.glob("*.parquet")}
    return SimpleNamespace(status=status, out=out.getvalue(), err=err.getvalue(), tables=tables,
                           seconds=time.perf_counter() - started)


def summary_lines(run, name: str) -> list[str]:
    """The lines of `process`'s per-file summary about one file."""
    return [line for line in run.out.splitlines() if re.match(rf"\s*[✓✗?] {re.escape(name)}(?::| \[)", line)]


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 40 and len(BY_NAME) == len(CASES)


def test_it_runs_to_the_end_without_a_traceback(run):
    assert run.status == 0, run.err
    assert "Traceback" not in run.out + run.err
    assert run.err == ""
    assert "合计:" in run.out
    # the run's own account of its stages, each named once, the stages adding up to about its time
    said = bench.stage_seconds(run.out)
    assert list(said) == ["process", *runner.STAGES]
    assert abs(sum(said.values()) - 2 * said["process"]) <= 0.1 * len(runner.STAGES)


@pytest.mark.parametrize("name", list(BY_NAME))
def test_each_bad_input_gets_one_clear_message(run, name):
    case = BY_NAME[name]
    files = run.tables["files"]
    mine = files[files["source_file"].eq(name)]
    lines = summary_lines(run, name)
    if case.outcome == "ignored":
        assert files[files["source_file"].str.startswith(name)].empty
        assert name not in run.out
        return
    assert len(lines) == 1, (name, lines)
    assert len(mine) >= 1
    if case.outcome in ("error", "unrecognised", "empty"):
        assert mine["status"].eq(case.outcome).all(), mine[["status", "message"]]
        assert case.message in lines[0] and lines[0].lstrip()[0] in "✗?"
        message = " ".join(mine["message"])
        assert case.message in message and name in message + lines[0]
        if case.row is not None:
            assert f"第{case.row}行" in message
        return
    assert mine["status"].eq("ok").all() and lines[0].lstrip().startswith("✓"), mine[["status", "message"]]
    if case.outcome == "note":
        assert case.message in " ".join(mine["message"])
    elif case.outcome == "quarantine":
        quarantine = run.tables["quarantine"]
        at_row = quarantine[quarantine["source_file"].eq(name) & quarantine["source_row"].eq(case.row)]
        assert at_row["reason"].str.contains(case.message, regex=False).any(), at_row[["column", "raw_value", "reason"]]
    elif case.outcome == "clean":
        rows = set().union(*(set(run.tables[t].loc[run.tables[t]["source_file"].eq(name), "source_row"]) for t in CLEAN_TABLES))
        assert case.row in rows
        quarantine = run.tables["quarantine"]
        assert not (quarantine["source_file"].eq(name) & quarantine["source_row"].eq(case.row)).any()
    if case.check is not None:
        case.check(run.tables, case)


def test_every_row_read_ends_in_exactly_one_place(run):
    files = run.tables["files"]
    assert_conserved(files)
    ok = files[files["status"].eq("ok")]
    assert ok["clean"].sum() == sum(len(run.tables[t]) for t in CLEAN_TABLES)
    quarantined = run.tables["quarantine"].drop_duplicates(["source_file", "source_sheet", "source_row"])
    assert ok["quarantined"].sum() == len(quarantined)


def test_names_in_the_tables_are_readable_text(run):
    """A file name that is not UTF-8 on disk is shown decoded (GBK), never as escape bytes."""
    names = set(run.tables["files"]["source_file"])
    assert "南湖办隐患_GBK文件名.csv" in names
    assert all(name.encode("utf-8") for name in names)


def test_the_corpus_runs_quickly(run):
    assert run.seconds < 60, f"the corpus took {run.seconds:.0f} s"


# The nastiest inputs once more, through a real `python -m pipeline process`: what reaches the
# terminal from every layer (C libraries included) is checked, not only Python's own output.
IN_ITS_OWN_PROCESS = ["加密.xlsx", "截断的工作簿.xlsx", "循环链接.xlsx", "南湖办隐患_GBK文件名.csv", "混合编码_先GBK.csv",
                      "UTF16文本.csv", "公式无保存结果.xlsx", "生僻字和表情.xls", "所有工作表都隐藏.xlsx"]


def test_the_command_line_in_its_own_process(tmp_path):
    raw = tmp_path / "raw"
    build_corpus(raw, [BY_NAME[name] for name in IN_ITS_OWN_PROCESS])
    copy_registry(raw)
    done = subprocess.run([sys.executable, "-m", "pipeline", "process", "--raw", str(raw), "--processed", str(tmp_path / "processed")],
                          cwd=config.PROJECT_ROOT, capture_output=True, encoding="utf-8", timeout=300,
                          env={**os.environ, "PYTHONPATH": str(config.PROJECT_ROOT)})
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr and done.stderr == ""
    shown = SimpleNamespace(out=done.stdout)
    for name in IN_ITS_OWN_PROCESS:
        lines = summary_lines(shown, name)
        readable = BY_NAME[name].outcome in ("quarantine", "clean")
        assert len(lines) == 1 and (lines[0].lstrip().startswith("✓") if readable else BY_NAME[name].message in lines[0]), (name, lines)


def test_the_command_line_ends_with_its_status_and_its_words_flushed(tmp_path):
    """`process` ends its own process as soon as it is done (no interpreter teardown): the exit
    status is the command's and nothing it printed is lost, through a pipe (block-buffered)."""
    done = subprocess.run([sys.executable, "-m", "pipeline", "process", "--raw", str(tmp_path / "不存在"),
                           "--processed", str(tmp_path / "processed")],
                          cwd=config.PROJECT_ROOT, capture_output=True, encoding="utf-8", timeout=120,
                          env={**os.environ, "PYTHONPATH": str(config.PROJECT_ROOT)})
    assert done.returncode == 2 and "找不到原始数据文件夹" in done.stderr and "Traceback" not in done.stderr
