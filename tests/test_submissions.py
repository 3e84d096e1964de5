"""Submission tracking: hand-built `files` tables (one row per file and sheet, as the reader makes
them) against the expected submissions table."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.errors import InputError
from pipeline.submissions import (
    SubmissionRules, deadline_of, submission_annex, track_submissions,
)

REGISTRY = pd.DataFrame({
    "unit_id": ["T01", "T06", "D01"],
    "name": ["南湖办事处", "高新区管理处", "区应急管理局"],
    "group": ["办事处", "管理处", "成员单位"],
    "aliases": ["南湖办", "", "应急局"],
    "enterprises": [620, 350, 380],
    "employees": [41, 22, 46],
    "industries": ["", "", "危险化学品"],
}).astype({"unit_id": "str", "name": "str", "group": "str"})
RULES = SubmissionRules()


def files_table(*rows: dict) -> pd.DataFrame:
    """A `files` table with the reader's columns; each row overrides a plain ok sheet."""
    base = {
        "source_file": "x.xlsx", "source_sheet": "Sheet1", "source_type": "enforcement", "status": "ok",
        "reporting_unit_id": "T01", "title_period": "2020-03", "report_date": None,
        "file_mtime": "2020-04-01 09:00", "rows_read": 5, "clean": 3, "quarantined": 0, "nondata": 2,
        "duplicates": 0,
    }
    frame = pd.DataFrame([{**base, **row} for row in rows], columns=list(base))
    for column in ("source_file", "source_sheet", "source_type", "status", "reporting_unit_id", "title_period"):
        frame[column] = frame[column].astype("str")
    for column in ("report_date", "file_mtime"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
    for column in ("rows_read", "clean", "quarantined", "nondata", "duplicates"):
        frame[column] = frame[column].astype("Int64")
    return frame


def one(table: pd.DataFrame, unit_id="T01", source="enforcement", period="2020-03") -> pd.Series:
    match = table[(table["unit_id"] == unit_id) & (table["source"] == source) & (table["period"] == period)]
    assert len(match) == 1
    return match.iloc[0]


def test_expected_rows_follow_the_group():
    table = track_submissions(files_table(), REGISTRY, ["2020-03", "2020-04"], RULES)
    owed = set(zip(table["unit_id"], table["source"], table["period"]))
    assert len(table) == len(owed) == 2 * (3 + 3 + 2)
    assert ("D01", "accidents", "2020-03") not in owed
    assert ("T06", "accidents", "2020-04") in owed
    assert list(table.columns) == ["unit_id", "name", "source", "period", "submitted", "source_file",
                                   "arrived_at", "arrived_from", "deadline", "on_time", "status"]
    assert str(table["arrived_at"].dtype) == "datetime64[us]" and str(table["deadline"].dtype) == "datetime64[us]"
    assert str(table["on_time"].dtype) == "boolean" and table["submitted"].dtype == bool


def test_report_date_on_the_deadline_day_is_on_time():
    files = files_table({"report_date": "2020-04-05", "file_mtime": "2020-04-09 10:00"})
    row = one(track_submissions(files, REGISTRY, ["2020-03"], RULES))
    assert row["submitted"] and row["on_time"] and row["status"] == "按时报送"
    assert row["arrived_at"] == pd.Timestamp("2020-04-05") and row["arrived_from"] == "填报日期"
    assert row["deadline"] == pd.Timestamp("2020-04-05") and row["source_file"] == "x.xlsx"


def test_report_date_the_day_after_is_late():
    files = files_table({"report_date": "2020-04-06", "file_mtime": "2020-04-01 10:00"})
    row = one(track_submissions(files, REGISTRY, ["2020-03"], RULES))
    assert row["submitted"] and not row["on_time"]
    assert row["status"] == "迟报"


def test_nothing_received_is_missing():
    table = track_submissions(files_table(), REGISTRY, ["2020-03"], RULES)
    row = one(table, "T01", "hazards")
    assert not row["submitted"] and row["status"] == "未报送"
    assert pd.isna(row["on_time"]) and pd.isna(row["source_file"]) and pd.isna(row["arrived_at"])
    assert pd.isna(row["arrived_from"])


def test_file_time_is_the_fallback_through_the_whole_deadline_day():
    files = files_table(
        {"file_mtime": "2020-04-05 23:59", "source_type": "enforcement"},
        {"file_mtime": "2020-04-06 00:01", "source_type": "hazards", "source_file": "y.xlsx"},
    )
    table = track_submissions(files, REGISTRY, ["2020-03"], RULES)
    on_time, late = one(table, source="enforcement"), one(table, source="hazards")
    assert on_time["status"] == "按时报送" and on_time["arrived_from"] == "文件修改时间"
    assert on_time["arrived_at"] == pd.Timestamp("2020-04-05 23:59")
    assert late["status"] == "迟报" and late["arrived_from"] == "文件修改时间"


def test_several_files_for_one_unit_month_earliest_counts_all_listed():
    files = files_table(
        {"source_file": "a.xlsx", "report_date": "2020-04-08"},
        {"source_file": "b.xlsx", "report_date": "2020-04-03", "source_sheet": "执法1"},
        {"source_file": "b.xlsx", "report_date": "2020-04-03", "source_sheet": "执法2"},
    )
    row = one(track_submissions(files, REGISTRY, ["2020-03"], RULES))
    assert row["source_file"] == "b.xlsx;a.xlsx"
    assert row["arrived_at"] == pd.Timestamp("2020-04-03") and row["status"] == "按时报送"


def test_unreadable_unattributed_or_unexpected_sheets_submit_nothing():
    files = files_table(
        {"status": "error"},
        {"status": "unrecognised", "source_type": None, "source_file": "u.xlsx"},
        {"reporting_unit_id": None, "source_file": "who.xlsx", "source_type": "hazards"},
        {"reporting_unit_id": "D01", "source_type": "accidents"},  # a department owes no accidents
    )
    table = track_submissions(files, REGISTRY, ["2020-03"], RULES)
    assert not table["submitted"].any()
    assert ("D01", "accidents") not in set(zip(table["unit_id"], table["source"]))


def test_period_from_title_else_from_data_when_given():
    undated = files_table({"title_period": None})
    assert not one(track_submissions(undated, REGISTRY, ["2020-03"], RULES))["submitted"]
    with_data = undated.assign(data_period=pd.Series(["2020-03"], dtype="str"))
    assert one(track_submissions(with_data, REGISTRY, ["2020-03"], RULES))["submitted"]
    titled = files_table({"title_period": "2020-04"}).assign(data_period=pd.Series(["2020-03"], dtype="str"))
    table = track_submissions(titled, REGISTRY, ["2020-03", "2020-04"], RULES)
    assert one(table, period="2020-04")["submitted"] and not one(table, period="2020-03")["submitted"]


def test_december_is_due_in_january_and_deadline_day_comes_from_the_rules():
    assert deadline_of("2020-12", 5) == pd.Timestamp("2021-01-05")
    rules = SubmissionRules.from_mapping({"deadline_day": 10, "expected_sources": {"成员单位": ["enforcement"]}})
    files = files_table({"reporting_unit_id": "D01", "report_date": "2020-04-10"})
    table = track_submissions(files, REGISTRY, ["2020-03"], rules)
    assert list(table["unit_id"]) == ["D01"] and table["status"].tolist() == ["按时报送"]


def test_input_is_not_modified():
    files = files_table({"report_date": "2020-04-06"})
    before = files.copy()
    track_submissions(files, REGISTRY, ["2020-03"], RULES)
    pd.testing.assert_frame_equal(files, before)


@pytest.mark.parametrize("mapping, named", [
    ({"deadline": 5}, "deadline"),
    ({"deadline_day": 5, "grace_days": 2}, "grace_days"),
    ({"expected_sources": {"街道": ["hazards"]}}, "街道"),
    ({"expected_sources": {"办事处": ["accident"]}}, "accident"),
    ({"expected_sources": {"办事处": "hazards"}}, "hazards"),
    ({"deadline_day": 31}, "31"),
    ({"deadline_day": "5"}, "5"),
])
def test_bad_rules_are_refused_naming_the_key(mapping, named):
    with pytest.raises(InputError, match=named):
        SubmissionRules.from_mapping(mapping)


def test_defaults_when_the_section_is_absent():
    assert SubmissionRules.from_mapping(None) == SubmissionRules()
    assert SubmissionRules().expected_sources["成员单位"] == ("enforcement", "hazards")


def test_bad_period_is_refused():
    with pytest.raises(InputError, match="2020-3"):
        track_submissions(files_table(), REGISTRY, ["2020-3"], RULES)


def test_annex_lists_missing_and_late_in_chinese():
    files = files_table(
        {"report_date": "2020-04-07"},
        {"source_type": "hazards", "report_date": "2020-04-02"},
    )
    table = track_submissions(files, REGISTRY, ["2020-03"], RULES)
    annex = submission_annex(table, {"enforcement": "执法检查"})
    assert list(annex.columns) == ["报送期", "单位编号", "单位", "报表", "报送情况", "截止日期", "报送时间",
                                   "时间依据", "逾期天数", "文件"]
    assert "按时报送" not in set(annex["报送情况"])
    late = annex[annex["报送情况"] == "迟报"].iloc[0]
    assert late["单位"] == "南湖办事处" and late["报表"] == "执法检查" and late["逾期天数"] == 2
    assert late["截止日期"] == "2020-04-05" and late["时间依据"] == "填报日期"
    missing = annex[annex["报送情况"] == "未报送"]
    assert len(missing) == len(table) - 2 and missing["逾期天数"].isna().all()
    assert annex["报送情况"].iloc[0] == "未报送"  # missing first: the more serious finding
