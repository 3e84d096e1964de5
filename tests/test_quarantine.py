"""Quarantine rows say where (file, sheet, Excel row, column), what (raw value) and why (中文(English));
domain checks of SPEC "Cleaning" quarantine or warn as stated."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers_raw import (ACCIDENT_HEADER, ENFORCEMENT_HEADER, HAZARD_HEADER, accident, assert_conserved, hazard,
                         inspection, run_process, submission, write_sheet)

HAZARDS = "2020年3月隐患排查_检查.xlsx"
ENFORCEMENT = "2020年3月执法检查_质量.csv"
ACCIDENTS = "2020年3月事故_核对.xls"
REASON = r"^[^()]*[\u4e00-\u9fff][^()]*\(.+\)"  # Chinese, then English in brackets

# Hazards sheet layout: title row 1 (merged), 填报 line row 2, blank row 3, header row 4, data from row 5.
HAZARD_ROWS = {
    5: hazard(隐患编号="H-ok"),
    6: hazard(隐患编号="H-rect", 发现日期="2020-03-10", 整改期限="2020-03-31", 整改完成日期="2020-03-05"),
    7: hazard(隐患编号="H-dead", 发现日期="2020-03-10", 整改期限="2020-03-01", 整改完成日期=""),
    8: hazard(隐患编号="H-old", 发现日期="2019-02-28", 整改期限="2019-03-15", 整改完成日期="2019-03-10"),
    9: hazard(隐患编号="H-old-ok", 发现日期="2019-03-01", 整改期限="2019-03-15", 整改完成日期="2019-03-10"),
    10: hazard(隐患编号="H-far", 整改期限="2021-04-01", 整改完成日期=""),
    11: hazard(隐患编号="H-far-ok", 整改期限="2021-03-31", 整改完成日期=""),
    12: hazard(隐患编号="H-nodate", 发现日期="2020-02-30"),
    13: hazard(隐患编号="H-nounit", 属地单位=""),
    14: hazard(隐患编号="H-level", 隐患等级="很大"),
    15: hazard(隐患编号="H-due-today", 整改期限="2020-03-31", 整改完成日期=""),
    16: hazard(隐患编号="H-late", 整改期限="2020-03-10", 整改完成日期="2020-03-12"),
}
# Enforcement CSV: title row 1, header row 2, data from row 3.
ENFORCEMENT_ROWS = {
    3: inspection(检查编号="E-ok", 是否立案="是", 是否处罚="是", 罚款金额="1万元"),
    4: inspection(检查编号="E-neg-count", 发现隐患数="-2"),
    5: inspection(检查编号="E-neg-fine", 是否立案="是", 是否处罚="是", 罚款金额="-0.5万元"),
    6: inspection(检查编号="E-fine-not-penalized", 是否立案="是", 是否处罚="否", 罚款金额="0.2"),
    7: inspection(检查编号="E-bad-bool", 全过程记录="大概"),
}
# Accidents (BIFF .xls): title row 1, header row 2, data from row 3.
ACCIDENT_ROWS = {
    3: accident(事故编号="A-level", 死亡人数="3", 事故级别="一般事故"),
    4: accident(事故编号="A-neg-deaths", 死亡人数="-1"),
    5: accident(事故编号="A-neg-loss", 直接经济损失="-20万元"),
    6: accident(事故编号="A-level-ok", 死亡人数="1", 事故级别="一般"),
}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    raw = tmp_path_factory.mktemp("quarantine") / "raw"
    grid, first = submission("2020年3月隐患排查治理台账", HAZARD_HEADER, list(HAZARD_ROWS.values()))
    grid.insert(2, [])  # a blank row between the 填报 line and the header
    assert first + 1 == min(HAZARD_ROWS)
    write_sheet(raw / HAZARDS, grid, merges=[(0, 0, 0, 8)], sheet="隐患台账")
    grid, first = submission("2020年3月执法检查情况", ENFORCEMENT_HEADER, list(ENFORCEMENT_ROWS.values()), unit_line=None)
    assert first == min(ENFORCEMENT_ROWS)
    write_sheet(raw / ENFORCEMENT, grid, encoding="gb18030")
    grid, first = submission("2020年3月生产安全事故", ACCIDENT_HEADER, list(ACCIDENT_ROWS.values()), unit_line=None)
    assert first == min(ACCIDENT_ROWS)
    write_sheet(raw / ACCIDENTS, grid, sheet="三月")
    result = run_process(raw, raw.parent / "processed")
    assert_conserved(result["files"])
    return result


def issue(run, file_name: str, row: int) -> pd.DataFrame:
    q = run["quarantine"]
    return q[q["source_file"].eq(file_name) & q["source_row"].eq(row)].reset_index(drop=True)


def test_every_quarantine_row_says_where_what_and_why(run):
    q = run["quarantine"]
    assert len(q) >= 10
    for column in ("source_file", "source_sheet", "source_row", "table", "column", "reason"):
        assert q[column].notna().all(), column
    assert q["reason"].str.match(REASON).all(), q["reason"].tolist()
    assert q["source_sheet"].isin(["隐患台账", "2020年3月执法检查_质量", "三月"]).all()


def test_row_numbers_are_the_excel_rows_title_rows_counted(run):
    q = run["quarantine"]
    assert sorted(q.loc[q["source_file"].eq(HAZARDS), "source_row"].unique()) == [6, 7, 8, 10, 12, 13, 14]
    assert sorted(q.loc[q["source_file"].eq(ENFORCEMENT), "source_row"].unique()) == [4, 5, 7]
    assert sorted(q.loc[q["source_file"].eq(ACCIDENTS), "source_row"].unique()) == [4, 5]
    clean = run["hazards"].set_index("hazard_id")["source_row"]
    assert clean.to_dict() == {"H-ok": 5, "H-old-ok": 9, "H-far-ok": 11, "H-due-today": 15, "H-late": 16}


def test_rectified_before_found(run):
    row = issue(run, HAZARDS, 6).iloc[0]
    assert row["source_sheet"] == "隐患台账" and row["table"] == "hazards"
    assert row["column"] == "F列 整改完成日期 (rectified_at)"
    assert row["raw_value"] == "2020-03-05"
    assert row["reason"] == "整改完成日期早于发现日期(rectified before found)"


def test_deadline_before_found(run):
    row = issue(run, HAZARDS, 7).iloc[0]
    assert row["column"] == "E列 整改期限 (deadline)" and row["raw_value"] == "2020-03-01"
    assert "(deadline before found)" in row["reason"]


def test_dates_outside_the_period_plus_one_year(run):
    old = issue(run, HAZARDS, 8)
    assert "found_at" in old["column"].iloc[0] and old["raw_value"].iloc[0] == "2019-02-28"
    assert "2020-03" in old["reason"].iloc[0] and "(date far outside the data period)" in old["reason"].iloc[0]
    far = issue(run, HAZARDS, 10)
    assert "deadline" in far["column"].iloc[0] and far["raw_value"].iloc[0] == "2021-04-01"


def test_unparseable_and_missing_values(run):
    nodate = issue(run, HAZARDS, 12).iloc[0]
    assert nodate["column"] == "D列 发现日期 (found_at)" and nodate["raw_value"] == "2020-02-30"
    assert nodate["reason"] == "日期不存在(no such date)"
    nounit = issue(run, HAZARDS, 13).iloc[0]
    assert nounit["column"] == "B列 属地单位 (unit)" and "(required value missing)" in nounit["reason"]
    level = issue(run, HAZARDS, 14).iloc[0]
    assert level["raw_value"] == "很大" and "(unknown value)" in level["reason"]
    bad_bool = issue(run, ENFORCEMENT, 7).iloc[0]
    assert bad_bool["column"] == "L列 全过程记录 (recorded)" and bad_bool["raw_value"] == "大概"


def test_quarantine_keeps_the_whole_raw_row(run):
    record = issue(run, HAZARDS, 6)["raw_record"].iloc[0]
    assert '"hazard_id": "H-rect"' in record and '"found_at": "2020-03-10"' in record


def test_negative_counts_and_money(run):
    count = issue(run, ENFORCEMENT, 4).iloc[0]
    assert count["column"] == "G列 发现隐患数 (hazards_found)" and count["raw_value"] == "-2"
    assert "(negative count)" in count["reason"]
    fine = issue(run, ENFORCEMENT, 5).iloc[0]
    assert "fine_wan" in fine["column"] and fine["raw_value"] == "-0.5万元" and "(negative amount)" in fine["reason"]
    deaths = issue(run, ACCIDENTS, 4).iloc[0]
    assert deaths["column"] == "G列 死亡人数 (deaths)" and deaths["source_sheet"] == "三月"
    loss = issue(run, ACCIDENTS, 5).iloc[0]
    assert "direct_loss_wan" in loss["column"] and loss["raw_value"] == "-20万元"


def test_fine_without_penalty_is_a_warning_and_the_row_stays_clean(run):
    clean = run["enforcement"].set_index("record_id")
    assert clean.loc["E-fine-not-penalized", "fine_wan"] == pytest.approx(0.2)
    assert clean.loc["E-fine-not-penalized", "source_row"] == 6
    warnings = run["warnings"]
    warning = warnings[warnings["source_file"].eq(ENFORCEMENT) & warnings["source_row"].eq(6)]
    assert len(warning) == 1 and warning["kind"].iloc[0] == "警告"
    assert warning["column"].iloc[0] == "J列 罚款金额 (fine_wan)" and warning["raw_value"].iloc[0] == "0.2"
    assert warning["reason"].str.match(REASON).all()
    assert issue(run, ENFORCEMENT, 6).empty


def test_submitted_level_that_disagrees_is_a_warning_and_the_computed_level_is_used(run):
    clean = run["accidents"].set_index("accident_id")
    assert clean.loc["A-level", "level"] == "较大" and clean.loc["A-level", "level_submitted"] == "一般"
    assert clean.loc["A-level-ok", "level"] == "一般"
    warnings = run["warnings"]
    level = warnings[warnings["source_file"].eq(ACCIDENTS) & warnings["column"].str.contains("(level)", regex=False)]
    assert level["source_row"].tolist() == [3]
    assert level["raw_value"].iloc[0] == "一般事故" and "“较大”" in level["reason"].iloc[0]
    assert level["reason"].str.match(REASON).all()


def test_hazard_overdue_status_at_the_end_of_the_data(run):
    """Latest month with data: 2020-03. Overdue = rectified after the deadline, or open with a deadline
    on or before 2020-03-31 (SPEC "Exact meanings")."""
    overdue = run["hazards"].set_index("hazard_id")["overdue"].to_dict()
    assert overdue == {"H-ok": False, "H-old-ok": False, "H-far-ok": False, "H-due-today": True, "H-late": True}
