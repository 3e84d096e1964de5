"""Files that cannot be used give one clear message naming the file and why; the others still run.

Also the command line's exit status (SPEC "Interface") and the read-only raw folder.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys

import pytest

from helpers_raw import (HAZARD_HEADER, REGISTRY, assert_conserved, hazard, run_process, snapshot, submission,
                         write_sheet, write_workbook)
from pipeline import config
from pipeline.__main__ import main
from pipeline.errors import InputError
from pipeline.runner import process

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4


def good_file(raw, name="好.xlsx"):
    grid, _ = submission("2020年3月隐患排查治理台账", HAZARD_HEADER, [hazard(隐患编号="G-1"), hazard(隐患编号="G-2")])
    return write_sheet(raw / name, grid)


def corrupt_xlsx(raw, name="损坏.xlsx"):
    """A real workbook cut in half, as an interrupted download or e-mail leaves it."""
    whole = good_file(raw, "_whole.xlsx")
    data = whole.read_bytes()
    whole.unlink()
    (raw / name).write_bytes(data[: len(data) // 2])


BAD_FILES = {  # file name -> (how to make it, a fragment of the reason)
    "损坏.xlsx": (corrupt_xlsx, "(corrupt or unreadable workbook"),
    "空文件.xlsx": (lambda raw, name: (raw / name).write_bytes(b""), "(empty file)"),
    "图片.xlsx": (lambda raw, name: (raw / name).write_bytes(PNG), "(binary content"),
    "乱表头.xlsx": (lambda raw, name: write_sheet(raw / name, [["序号", "甲项", "乙项"], ["1", "x", "y"], ["2", "z", "w"]]),
                  "(no recognisable header)"),
    "缺列.csv": (lambda raw, name: write_sheet(raw / name, [["2020年3月隐患"], [c for c in HAZARD_HEADER if c != "整改期限"],
                                                            ["H1", "南湖办事处", "甲", "2020-03-01", "", "一般", "否", "企业自查"]]),
               "整改期限(missing required column)"),
}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    raw = tmp_path_factory.mktemp("bad") / "raw"
    raw.mkdir()
    for name, (make, _) in BAD_FILES.items():
        make(raw, name)
    good_file(raw)
    return run_process(raw, raw.parent / "processed")


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_one_clear_message_naming_the_file_and_why(run, name):
    reason = BAD_FILES[name][1]
    lines = [line for line in run.messages if name in line]
    assert len(lines) == 1, lines
    assert reason in lines[0]
    assert "Traceback" not in run.text
    files = run["files"]
    row = files[files["source_file"].eq(name)]
    assert len(row) == 1 and row["status"].iloc[0] in ("error", "unrecognised")
    assert reason in row["message"].iloc[0]


def test_the_other_files_still_produce_clean_rows(run):
    hazards = run["hazards"]
    assert hazards["hazard_id"].tolist() == ["G-1", "G-2"] and set(hazards["source_file"]) == {"好.xlsx"}
    assert_conserved(run["files"])
    summary = [line for line in run.messages if "好.xlsx" in line]
    assert len(summary) == 1 and "清洁2" in summary[0]


def test_a_bad_sheet_in_a_good_workbook_is_named_in_the_files_line(tmp_path):
    raw = tmp_path / "raw"
    grid, _ = submission("2020年3月隐患", HAZARD_HEADER, [hazard()])
    write_workbook(raw / "两表.xlsx", {"隐患": grid, "其他": [[c for c in HAZARD_HEADER if c != "发现日期"], hazard()[:1]]})
    run = run_process(raw, tmp_path / "processed")
    lines = [line for line in run.messages if "两表.xlsx" in line]
    assert len(lines) == 1
    assert "工作表“其他”" in lines[0] and "发现日期(missing required column)" in lines[0]


def test_nothing_readable_is_one_input_error_naming_the_file(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copyfile(REGISTRY, raw / config.REGISTRY_NAME)
    corrupt_xlsx(raw)
    with pytest.raises(InputError) as error:
        process(raw, tmp_path / "processed", progress=lambda _: None, score=False)
    assert "损坏.xlsx" in str(error.value) and "(corrupt or unreadable workbook" in str(error.value)
    assert not (tmp_path / "processed" / "files.parquet").exists()


def test_a_folder_of_year_end_reviews_alone_is_processed_without_a_period(tmp_path):
    """Year-end review files and no dated records (no accident, inspection or hazard): nothing to
    take a data period from, so none is used; the reviews are clean rows and the scores empty."""
    raw = tmp_path / "raw"
    raw.mkdir()
    rows = [[1, "南湖办事处", "预案演练", "重点工作", 3.5], [2, "东湖办事处", "预案演练", "重点工作", 3],
            [3, "东湖办事处", "值班值守", "加分", 1]]
    grid, _ = submission("2020年度安全生产目标责任考评结果", ["序号", "单位", "考评项目", "类别", "得分"], rows)
    write_sheet(raw / "2020年度考评结果.xlsx", grid)
    run = run_process(raw, tmp_path / "processed", score=True)
    assert len(run["annual_review"]) == 3 and run["enforcement"].empty and run["hazards"].empty
    assert_conserved(run["files"])


def test_the_raw_folder_is_never_written_and_an_unchanged_rerun_does_no_work(tmp_path):
    raw = tmp_path / "raw"
    good_file(raw)
    corrupt_xlsx(raw)
    shutil.copyfile(REGISTRY, raw / config.REGISTRY_NAME)
    before = snapshot(raw)
    paths = [raw, *raw.rglob("*")]
    for path in paths:
        path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH | (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH if path.is_dir() else 0))
    try:
        run = run_process(raw, tmp_path / "processed", registry=False)
        rerun = run_process(raw, tmp_path / "processed", registry=False, force=False)
        (tmp_path / "processed" / "hazards.parquet").unlink()  # a table gone: the next run must rebuild it
        rebuilt = run_process(raw, tmp_path / "processed", registry=False, force=False)
    finally:
        for path in paths:
            path.chmod(0o755 if path.is_dir() else 0o644)
    assert snapshot(raw) == before
    assert len(run["hazards"]) == 2
    assert rerun.messages == ["数据、规则和代码均未变化,跳过处理(nothing changed; processing skipped)"]
    assert len(rebuilt["hazards"]) == 2 and "跳过" not in rebuilt.text


# --- the command line ---------------------------------------------------------------------------------------


def _start(raw, processed):
    """`python -m pipeline process` in its own process (several run at once to keep the suite quick)."""
    return subprocess.Popen([sys.executable, "-m", "pipeline", "process", "--raw", str(raw), "--processed", str(processed)],
                            cwd=config.PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(config.PROJECT_ROOT)})


def test_command_line_exit_status(tmp_path):
    cases = {}
    # 0: at least one file was read (a corrupt one beside it is a finding, not a failure)
    cases["some"] = tmp_path / "some"
    good_file(cases["some"])
    corrupt_xlsx(cases["some"])
    # non-zero: only a corrupt file
    cases["corrupt"] = tmp_path / "corrupt"
    cases["corrupt"].mkdir()
    corrupt_xlsx(cases["corrupt"])
    for raw in cases.values():
        shutil.copyfile(REGISTRY, raw / config.REGISTRY_NAME)
    running = {name: _start(raw, tmp_path / f"processed_{name}") for name, raw in cases.items()}
    results = {name: (proc.wait(timeout=120), *proc.communicate()) for name, proc in running.items()}

    status, out, err = results["some"]
    assert status == 0, err
    assert "Traceback" not in out + err
    assert "损坏.xlsx" in out and "✓ 好.xlsx" in out
    assert (tmp_path / "processed_some" / "hazards.parquet").exists()

    status, out, err = results["corrupt"]
    assert status != 0
    assert "Traceback" not in out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "损坏.xlsx" in lines[0] and "(corrupt or unreadable workbook" in lines[0], err


@pytest.mark.parametrize("case, fragment", [("no_files", "(no data files"), ("no_folder", "(raw folder not found)"),
                                            ("no_registry", "(units registry not found"), ("bad_registry", "(registry is empty)")])
def test_command_line_fails_with_one_message(tmp_path, capsys, case, fragment):
    """The same `main` as above, in this process (a subprocess per case would only add start-up time)."""
    raw = tmp_path / "raw"
    if case != "no_folder":
        raw.mkdir()
        shutil.copyfile(REGISTRY, raw / config.REGISTRY_NAME)
    if case == "bad_registry":
        (raw / config.REGISTRY_NAME).write_bytes(b"")
    if case == "no_registry":
        (raw / config.REGISTRY_NAME).unlink()
    if case in ("bad_registry", "no_registry"):
        good_file(raw)
    status = main(["process", "--raw", str(raw), "--processed", str(tmp_path / "processed")])
    out, err = capsys.readouterr()
    assert status != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and "Traceback" not in out + err
