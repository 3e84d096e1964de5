"""Accident level by the 《生产安全事故报告和调查处理条例》 thresholds, and 迟报 (rules/ingest.toml [checks])."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.clean import accident_level
from pipeline.config import INGEST_RULES
from pipeline.ingest_rules import load_ingest_rules

from helpers_raw import ACCIDENT_HEADER, accident, run_process, submission, write_sheet

THRESHOLDS = load_ingest_rules(INGEST_RULES).accident_levels


def level(deaths=0, serious=0, loss=0.0) -> str:
    frame = pd.DataFrame({"d": pd.array([deaths], dtype="Int64"), "s": pd.array([serious], dtype="Int64"),
                          "l": pd.array([loss], dtype="Float64")})
    return accident_level(frame["d"], frame["s"], frame["l"], THRESHOLDS).iloc[0]


@pytest.mark.parametrize("deaths, expected", [(0, "一般"), (2, "一般"), (3, "较大"), (9, "较大"), (10, "重大"), (29, "重大"), (30, "特别重大")])
def test_deaths_thresholds(deaths, expected):
    assert level(deaths=deaths) == expected


@pytest.mark.parametrize("serious, expected", [(9, "一般"), (10, "较大"), (49, "较大"), (50, "重大"), (99, "重大"), (100, "特别重大")])
def test_serious_injury_thresholds(serious, expected):
    assert level(serious=serious) == expected


@pytest.mark.parametrize("loss, expected", [
    (999.99, "一般"), (1000, "较大"), (4999.99, "较大"), (5000, "重大"), (9999.99, "重大"), (10000, "特别重大"),
])
def test_direct_loss_thresholds(loss, expected):
    assert level(loss=loss) == expected


@pytest.mark.parametrize("deaths, serious, loss, expected", [
    (3, 0, 5000, "重大"),         # loss reaches 重大, deaths only 较大
    (30, 0, 0, "特别重大"),
    (2, 10, 0, "较大"),
    (9, 0, 10000, "特别重大"),
    (0, 50, 999.99, "重大"),
    (12, 120, 0, "特别重大"),
])
def test_the_highest_criterion_wins(deaths, serious, loss, expected):
    assert level(deaths, serious, loss) == expected


def test_missing_counts_are_zero_and_the_input_is_not_changed():
    deaths = pd.Series([pd.NA, 3], dtype="Int64")
    serious = pd.Series([pd.NA, pd.NA], dtype="Int64")
    loss = pd.Series([pd.NA, pd.NA], dtype="Float64")
    assert accident_level(deaths, serious, loss, THRESHOLDS).tolist() == ["一般", "较大"]
    assert deaths.isna().iloc[0]


def test_thresholds_come_from_the_rule_file_in_any_order():
    assert accident_level(pd.Series([3]), pd.Series([0]), pd.Series([0.0]), tuple(reversed(THRESHOLDS))).iloc[0] == "较大"


# --- through the whole pipeline ------------------------------------------------------------------------


def test_levels_and_late_reports_through_process(tmp_path):
    rows = [
        accident(事故编号="SG-01", 死亡人数="2人", 直接经济损失="999.99"),                                   # 一般
        accident(事故编号="SG-02", 死亡人数="3人", 直接经济损失="5000万元", 事故级别="较大事故"),           # 重大, level differs
        accident(事故编号="SG-03", 重伤人数="10", 直接经济损失="9999.99"),                                # 重大
        accident(事故编号="SG-04", 直接经济损失="1亿元"),                                                  # 特别重大
        accident(事故编号="SG-05", 发生时间="2020-03-06 08:00", 报告时间="2020-03-06 09:00"),                # 60 min: on time
        accident(事故编号="SG-06", 发生时间="2020-03-06 08:00", 报告时间="2020-03-06 09:01"),                # 61 min: 迟报
        accident(事故编号="SG-07", 发生时间="2020-03-06 08:00", 报告时间="2020-03-06 07:59"),                # before: quarantine
        accident(事故编号="SG-08", 发生时间="2020-03-07 08:00", 报告时间=""),                               # unknown
    ]
    grid, first = submission("2020年3月生产安全事故统计表", ACCIDENT_HEADER, rows)
    write_sheet(tmp_path / "raw" / "南湖办事处_2020年3月事故.xlsx", grid)
    run = run_process(tmp_path / "raw", tmp_path / "processed")

    accidents = run["accidents"].set_index("accident_id")
    assert accidents.loc[["SG-01", "SG-02", "SG-03", "SG-04"], "level"].tolist() == ["一般", "重大", "重大", "特别重大"]
    assert accidents.loc["SG-02", "level_submitted"] == "较大"
    assert accidents.loc["SG-04", "direct_loss_wan"] == 10000.0
    assert accidents.loc["SG-05", "late_report"] == False  # noqa: E712
    assert accidents.loc["SG-06", "late_report"] == True  # noqa: E712
    assert pd.isna(accidents.loc["SG-08", "late_report"])
    assert "SG-07" not in accidents.index

    warning = run["warnings"]
    level_warnings = warning[warning["column"].str.contains("level", regex=False)]
    assert level_warnings["source_row"].tolist() == [first + 1]
    assert "“重大”" in level_warnings["reason"].iloc[0]

    quarantine = run["quarantine"]
    assert quarantine["source_row"].tolist() == [first + 6]
    assert "reported_at" in quarantine["column"].iloc[0]
    assert quarantine["raw_value"].iloc[0] == "2020-03-06 07:59"
    assert "(reported before it occurred)" in quarantine["reason"].iloc[0]


def test_report_time_written_as_a_date_only():
    """`报告时间 2020-03-05` (no hour) for an accident at 10:00 that day is not 'before' it and its
    lateness is unknown; the next day's date is late whatever the hour (more than 1 hour after)."""
    import pandas as pd

    from pipeline.clean import _row_checks
    from pipeline.config import INGEST_RULES
    from pipeline.ingest_rules import load_ingest_rules

    rules = load_ingest_rules(INGEST_RULES)
    data = pd.DataFrame({
        "occurred_at": pd.to_datetime(["2020-03-05 10:00", "2020-03-05 10:00", "2020-03-05 10:00"]).astype("datetime64[us]"),
        "reported_at": pd.to_datetime(["2020-03-05", "2020-03-06", "2020-03-04"]).astype("datetime64[us]"),
        "closed_at": pd.Series([pd.NaT] * 3, dtype="datetime64[us]"),
        "concealed_found_at": pd.Series([pd.NaT] * 3, dtype="datetime64[us]"),
        "deaths": pd.array([0, 0, 0], dtype="Int64"), "serious_injuries": pd.array([0, 0, 0], dtype="Int64"),
        "injuries": pd.array([0, 0, 0], dtype="Int64"), "direct_loss_wan": pd.array([0.0, 0.0, 0.0], dtype="Float64"),
        "level": pd.Series([pd.NA] * 3, dtype="str"),
    })
    errors = pd.DataFrame({c: pd.Series([pd.NA] * 3, dtype="str") for c in ("reported_at", "closed_at", "concealed_found_at")})
    _row_checks("accidents", data, errors, rules)
    assert errors["reported_at"].isna().tolist() == [True, True, False]
    assert data["late_report"].iloc[0] is pd.NA and bool(data["late_report"].iloc[1]) is True
