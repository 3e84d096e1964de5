"""Nothing lost: every row read ends in exactly one place (SPEC "Cleaning").

rows_read == clean + quarantined + non-data + duplicates for every (file, sheet) read, and every
input data row can be found in exactly one of: a clean table, the quarantine, the duplicates.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers_raw import (ACCIDENT_HEADER, ENFORCEMENT_HEADER, HAZARD_HEADER, accident, assert_conserved, hazard,
                         inspection, run_process, submission, write_sheet, write_workbook)

CLEAN_TABLES = ("accidents", "enforcement", "hazards", "annual_review")


def test_conservation_per_file_and_sheet(tmp_path):
    raw = tmp_path / "raw"
    enforcement = [inspection(检查编号="C-1"), inspection(检查编号="C-2", 检查日期="2020-02-30"), [],
                   inspection(检查编号="C-1"), ["合计", "", "", "", "", "", "4"], ["审核人:王五"]]
    hazards = [hazard(隐患编号="CH-1"), hazard(隐患编号="CH-2", 属地单位="不存在的办事处"), hazard(隐患编号="CH-1")]
    grid_e, _ = submission("2020年3月执法检查", ENFORCEMENT_HEADER, enforcement)
    grid_h, _ = submission("2020年3月隐患排查", HAZARD_HEADER, hazards, unit_line=None)
    write_workbook(raw / "两张表.xlsx", {"执法": grid_e, "隐患": grid_h, "备忘": [["本工作簿由南湖办事处填报"]]})
    grid_a, _ = submission("2020年3月事故", ACCIDENT_HEADER, [accident(事故编号="CA-1"), accident(事故编号="CA-1")], unit_line=None)
    write_sheet(raw / "事故.csv", grid_a, encoding="gbk")
    (raw / "坏文件.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    export = pd.DataFrame([dict(zip(HAZARD_HEADER, hazard(隐患编号=f"PQ-{i}", 企业名称=f"导出{i}"))) for i in range(3)])
    export.loc[1, "发现日期"] = "2020-02-30"
    export.to_parquet(raw / "系统导出.parquet")  # large exports come as Parquet: row 1 is the header

    run = run_process(raw, tmp_path / "processed")
    files = run["files"].set_index(["source_file", "source_sheet"])
    assert_conserved(run["files"])
    counts = ["rows_read", "clean", "quarantined", "nondata", "duplicates"]
    assert files.loc[("两张表.xlsx", "执法"), counts].tolist() == [9, 1, 1, 6, 1]
    assert files.loc[("两张表.xlsx", "隐患"), counts].tolist() == [5, 1, 1, 2, 1]
    assert files.loc[("事故.csv", "事故"), counts].tolist() == [4, 1, 0, 2, 1]
    assert files.loc[("系统导出.parquet", "系统导出"), counts].tolist() == [4, 2, 1, 1, 0]
    assert sorted(run["hazards"].loc[run["hazards"]["source_file"].eq("系统导出.parquet"), "source_row"]) == [2, 4]
    assert files.loc[("两张表.xlsx", "备忘"), "status"] == "unrecognised"
    assert files.loc[("两张表.xlsx", "备忘"), "rows_unread"] == 1
    assert files.loc[("坏文件.xlsx", ""), "status"] == "error"
    # Totals over the whole batch agree with the tables themselves.
    ok = run["files"][run["files"]["status"].eq("ok")]
    assert ok["clean"].sum() == sum(len(run[t]) for t in CLEAN_TABLES)
    assert ok["quarantined"].sum() == run["quarantine"].drop_duplicates(["source_file", "source_sheet", "source_row"]).shape[0]
    assert ok["duplicates"].sum() == run["warnings"]["kind"].eq("重复").sum()


# --- property: messy sheets in any format ------------------------------------------------------------------

SOURCES = {
    "hazards": (HAZARD_HEADER, "隐患排查治理台账", "hazard_id"),
    "enforcement": (ENFORCEMENT_HEADER, "执法检查情况统计表", "record_id"),
    "accidents": (ACCIDENT_HEADER, "生产安全事故统计表", "accident_id"),
}
DATE_FORMS = ["2020-03-{d:02d}", "2020/3/{d}", "2020.3.{d}", "2020年3月{d}日", "２０２０年３月{d}日"]


def valid_row(source: str, i: int, form: int) -> list:
    day = 1 + i % 20
    date = DATE_FORMS[form % len(DATE_FORMS)].format(d=day)
    if source == "hazards":
        return hazard(隐患编号=f"P{i}", 企业名称=f"企业{i}", 发现日期=date, 整改期限="2020-03-28", 整改完成日期="")
    if source == "enforcement":
        return inspection(检查编号=f"P{i}", 被检查单位=f"企业{i}", 检查日期=date, 发现隐患数=f"{i % 4}项")
    return accident(事故编号=f"P{i}", 事故发生单位=f"企业{i}", 发生时间=f"{date} 08:00",
                    报告时间="", 死亡人数=str(i % 3))


BAD = {
    "hazards": {"date": dict(发现日期="2020-02-30"), "unit": dict(属地单位="不存在的单位"), "empty": dict(隐患等级=""),
                "order": dict(整改期限="2020-03-01", 发现日期="2020-03-05")},
    "enforcement": {"date": dict(检查日期="三月五日"), "unit": dict(执法单位="区不存在局"), "empty": dict(被检查单位=""),
                    "negative": dict(发现隐患数="-3"), "money": dict(罚款金额="-1万元")},
    "accidents": {"date": dict(发生时间="2020-13-01"), "unit": dict(属地单位="南湖镇"), "empty": dict(所属行业=""),
                  "negative": dict(死亡人数="-1人")},
}


def bad_row(source: str, i: int, kind: str) -> list:
    header = SOURCES[source][0]
    row = valid_row(source, i, 0)
    for name, value in BAD[source][kind].items():
        row[header.index(name)] = value
    return row


KINDS = st.sampled_from(["valid", "valid", "valid", "bad", "blank", "total", "footer", "dup"])


@st.composite
def messy_sheets(draw):
    source = draw(st.sampled_from(sorted(SOURCES)))
    header, title, _ = SOURCES[source]
    fmt = draw(st.sampled_from(["xlsx", "csv-gbk", "html"]))
    titles = draw(st.lists(st.sampled_from(["title", "unit_line", "blank"]), max_size=3))
    kinds = draw(st.lists(KINDS, min_size=1, max_size=10))
    grid: list[list] = []
    nondata = 0
    for kind in titles:
        grid.append({"title": [f"2020年3月{title}"], "unit_line": ["填报单位:南湖办事处 填报日期:2020年4月2日"], "blank": []}[kind])
        nondata += 1
    grid.append(list(header))
    nondata += 1
    placed: list[tuple[int, str, tuple]] = []  # (excel row, expected fate, content key)
    written: list[list] = []
    for i, kind in enumerate(kinds):
        if kind == "dup" and written:
            row = list(draw(st.sampled_from(written)))
        elif kind in ("valid", "dup"):
            row = valid_row(source, i, draw(st.integers(0, 4)))
        elif kind == "bad":
            row = bad_row(source, i, draw(st.sampled_from(sorted(BAD[source]))))
        else:
            row = {"blank": [], "total": ["合计", "", "", "", "", "", str(i)], "footer": ["填报人:张三", "", "审核人:李四"]}[kind]
        grid.append(row)
        if kind in ("blank", "total", "footer"):
            nondata += 1
        else:
            written.append(row)
            placed.append((len(grid), "data", tuple(row)))
    while grid and not any(str(c) for c in grid[-1]):  # Excel does not store trailing blank rows
        grid.pop()
        nondata -= 1
    return source, fmt, grid, nondata, placed


def expected_fates(source: str, placed: list[tuple[int, str, tuple]]) -> dict[int, str]:
    """bad rows -> quarantine; of identical valid rows the last is clean and the others duplicates."""
    header = SOURCES[source][0]
    fates = {}
    last_of = {key: row for row, _, key in placed}
    for row, _, key in placed:
        cells = dict(zip(header, key))
        bad = any(all(cells.get(k) == v for k, v in change.items()) for change in BAD[source].values())
        fates[row] = "quarantine" if bad else ("clean" if last_of[key] == row else "duplicate")
    return fates


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(messy_sheets())
def test_every_row_of_any_messy_sheet_is_accounted_for(sheet):
    source, fmt, grid, nondata, placed = sheet
    with tempfile.TemporaryDirectory() as folder:
        raw = Path(folder) / "raw"
        suffix, kwargs = {"xlsx": (".xlsx", {}), "csv-gbk": (".csv", {"encoding": "gbk"}), "html": (".xls", {"fmt": "html", "charset": "gbk", "encoding": "gbk"})}[fmt]
        name = f"sheet{suffix}"
        write_sheet(raw / name, grid, **kwargs)
        run = run_process(raw, Path(folder) / "processed")

    files = run["files"]
    assert files["status"].tolist() == ["ok"], files[["status", "message"]].to_string()
    assert_conserved(files)
    row = files.iloc[0]
    assert row["rows_read"] == len(grid)
    assert row["nondata"] == nondata

    clean = set(run[source].loc[run[source]["source_file"].eq(name), "source_row"].astype(int))
    quarantined = set(run["quarantine"]["source_row"].astype(int))
    warnings = run["warnings"]
    duplicates = set(warnings.loc[warnings["kind"].eq("重复"), "source_row"].astype(int))
    fates = expected_fates(source, placed)
    for excel_row, fate in fates.items():
        found = [where for where, rows in (("clean", clean), ("quarantine", quarantined), ("duplicate", duplicates)) if excel_row in rows]
        assert found == [fate], (excel_row, found, fate, grid[excel_row - 1])
    assert clean | quarantined | duplicates == set(fates)


def test_clean_rows_per_sheet_counted_from_runs_as_value_counts_counts_them():
    """runner._sheet_counts finds each sheet's rows as runs of equal neighbours: in any row order,
    with a sheet split over several runs and tables, and rows missing a key not counted."""
    from pipeline.runner import _sheet_counts

    one = pd.DataFrame({"source_file": ["a.xlsx", "a.xlsx", "b.csv", "a.xlsx", None, "b.csv"],
                        "source_sheet": ["表1", "表1", "b", "表2", "表1", "b"], "x": range(6)}, dtype="str")
    other = pd.DataFrame({"source_file": ["b.csv", "a.xlsx"], "source_sheet": ["b", "表1"], "x": ["1", "2"]}, dtype="str")
    key = ["source_file", "source_sheet"]
    counted = _sheet_counts([one, other], key)
    expected = pd.concat([one[key], other[key]]).value_counts()
    assert counted.sort_index().to_dict() == expected.sort_index().to_dict() == {
        ("a.xlsx", "表1"): 3, ("a.xlsx", "表2"): 1, ("b.csv", "b"): 3}
    assert _sheet_counts([one.iloc[:1]], key).to_dict() == {("a.xlsx", "表1"): 1}
    assert _sheet_counts([], key).empty
