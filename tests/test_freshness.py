"""Whether processing is needed (pipeline.freshness), and the report command's driver planning
its reports without pandas.

`is_current` must answer exactly as `process` decides: any doubt means "not current", so the
report command then calls `process`, which checks again under its lock."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers_raw import HAZARD_HEADER, copy_registry, hazard, submission, write_sheet
from report_fixtures import write_processed, write_rulebook

from pipeline import config
from pipeline.errors import InputError
from pipeline.freshness import MANIFEST, UNCHANGED, is_current
from pipeline.reports import plan_reports
from pipeline.runner import process


def _raw(tmp_path):
    raw = tmp_path / "raw"
    copy_registry(raw)
    grid, _ = submission("2020年3月隐患排查治理台账", HAZARD_HEADER, [hazard(隐患编号="G-1")])
    write_sheet(raw / "南湖.xlsx", grid)
    return raw


def _process(raw, processed) -> list[str]:
    messages: list[str] = []
    process(raw, processed, progress=messages.append)
    return messages


def test_current_exactly_when_process_would_skip(tmp_path):
    raw, processed = _raw(tmp_path), tmp_path / "processed"
    assert not is_current(raw, processed)  # never processed
    _process(raw, processed)
    assert is_current(raw, processed)
    assert _process(raw, processed) == [UNCHANGED]

    data = raw / "南湖.xlsx"
    os.utime(data, ns=(data.stat().st_atime_ns, data.stat().st_mtime_ns + 1_000_000))  # re-saved, same bytes
    assert not is_current(raw, processed)
    assert UNCHANGED not in _process(raw, processed)
    assert is_current(raw, processed)

    (raw / "新单位.xlsx").write_bytes(data.read_bytes())  # a new file
    assert not is_current(raw, processed)
    _process(raw, processed)
    (processed / "hazards.parquet").unlink()  # a table gone
    assert not is_current(raw, processed)
    _process(raw, processed)
    manifest = json.loads((processed / MANIFEST).read_text("utf-8"))
    (processed / MANIFEST).write_text(json.dumps({**manifest, "scored": False}), "utf-8")  # made without scores
    assert not is_current(raw, processed)
    (processed / MANIFEST).write_text("{half a manifest", "utf-8")
    assert not is_current(raw, processed)


def test_a_changed_rule_file_or_no_data_is_not_current(tmp_path):
    raw, processed = _raw(tmp_path), tmp_path / "processed"
    (tmp_path / "rules").mkdir()
    for book in config.RULES_DIR.glob("rulebook-*.toml"):  # the ingest rules name the newest rulebook beside them
        (tmp_path / "rules" / book.name).write_bytes(book.read_bytes())
    rules = tmp_path / "rules" / "ingest.toml"
    rules.write_bytes(config.INGEST_RULES.read_bytes())
    process(raw, processed, rules_path=rules, progress=lambda line: None)
    assert is_current(raw, processed, rules_path=rules)
    rules.write_bytes(config.INGEST_RULES.read_bytes() + b"\n# a comment is a change too\n")
    assert not is_current(raw, processed, rules_path=rules)
    assert not is_current(tmp_path / "no such folder", processed)
    empty = tmp_path / "empty"
    copy_registry(empty)
    assert not is_current(empty, processed)  # process then says there is nothing to read


def test_the_report_driver_checks_and_plans_without_loading_pandas(tmp_path):
    """A rerun of `python -m pipeline report` on unchanged data: the driver decides that nothing
    needs processing and plans the month's notebooks in a process that never imports pandas
    (the kernels load it; the driver's copy would cost ~0.6 s of the run's two cores)."""
    raw, processed = _raw(tmp_path), tmp_path / "processed"
    _process(raw, processed)
    tables = write_processed(tmp_path / "tables")
    rulebook = write_rulebook(tmp_path / "rules.toml")
    script = f"""
import sys
from pathlib import Path
from pipeline import commands, reports
from pipeline.freshness import is_current
from pipeline.rulebook import rulebook_for_year
from pipeline.__main__ import main
from pipeline import html_page, pdf, render  # what the driver runs the notebooks and sets the PDF with
import papermill, nbconvert
assert is_current(Path({str(raw)!r}), Path({str(processed)!r}))
period = commands.latest_period(Path({str(tables)!r}))
jobs = reports.plan_reports("all", None, Path({str(tables)!r}), Path({str(tmp_path / 'reports')!r}), Path({str(rulebook)!r}))
rulebook_for_year(Path({str(config.RULES_DIR)!r}), 2020)
print(period, len(jobs), sorted(m for m in ("pandas", "pyarrow.dataset") if m in sys.modules))
"""
    result = subprocess.run([sys.executable, "-c", script], cwd=config.PROJECT_ROOT, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(config.PROJECT_ROOT)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["2020-03", "7", "[]"]  # 3 months x (circular + scorecards) + 1 year


def test_a_damaged_or_incomplete_processed_table_is_one_clear_message(tmp_path):
    tables = write_processed(tmp_path / "tables")
    rulebook = write_rulebook(tmp_path / "rules.toml")
    scores = tables / "monthly_scores.parquet"
    scores.write_bytes(scores.read_bytes()[: len(scores.read_bytes()) // 2])  # cut short, as a full disk leaves it
    with pytest.raises(InputError) as error:
        plan_reports("monthly", None, tables, tmp_path / "reports", rulebook)
    assert "monthly_scores.parquet 无法读取" in str(error.value) and "process --force" in str(error.value)
    pq.write_table(pa.table({"unit_id": ["T01"]}), scores)  # written by something else: no period column
    with pytest.raises(InputError) as error:
        plan_reports("monthly", None, tables, tmp_path / "reports", rulebook)
    assert "缺少列 period" in str(error.value)


def test_a_processed_folder_that_cannot_take_a_lock_is_still_checked(tmp_path, monkeypatch):
    import filelock

    raw, processed = _raw(tmp_path), tmp_path / "processed"
    _process(raw, processed)

    def refuse(self, *args, **kwargs):  # a read-only folder without its lock file yet
        raise PermissionError(13, "Permission denied", str(processed / ".lock"))

    monkeypatch.setattr(filelock.FileLock, "acquire", refuse)
    assert is_current(raw, processed)
