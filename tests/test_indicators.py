"""Counts, indicators and scoring events on tiny hand-built frames (SPEC "Exact meanings")."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import factories as make
from pipeline.events import charged_accidents, inspection_events, overdue_hazard_events
from pipeline.indicators import INDICATORS, indicator_values, period_counts
from pipeline.periods import assessment_window, assign_period, month_periods, span_period

BOOK = make.rulebook()
UNITS = make.registry(("T01", "办事处", 10), ("T02", "办事处", 0))
JAN_MAR = month_periods("2020-01", "2020-03")


def counts(enforcement=None, hazards=None, periods=JAN_MAR) -> pd.DataFrame:
    enforcement = make.enforcement() if enforcement is None else enforcement
    hazards = make.hazards() if hazards is None else hazards
    grid = period_counts(inspection_events(enforcement, BOOK), hazards, UNITS, periods)
    return grid.join(indicator_values(grid)).set_index(["unit_id", "period"])


def test_periods_are_half_open_months_and_assessment_windows():
    assert list(JAN_MAR["period"]) == ["2020-01", "2020-02", "2020-03"]
    dates = pd.Series(pd.to_datetime(["2020-01-31 23:59", "2020-02-01", None, "2019-12-31"], format="ISO8601"))
    assert assign_period(dates, JAN_MAR).tolist() == ["2020-01", "2020-02", pd.NA, pd.NA]
    assert assessment_window(2020, "01-01") == (pd.Timestamp("2020-01-01"), pd.Timestamp("2021-01-01"))
    # Provincial practice: 1 Dec of the previous year to 30 Nov, named by the year it ends in.
    assert assessment_window(2020, "12-01") == (pd.Timestamp("2019-12-01"), pd.Timestamp("2020-12-01"))
    year = span_period("2020", ["2020-03", "2020-04"], *assessment_window(2020))
    assert (year["start"].iloc[0], year["end"].iloc[0], year["months"].iloc[0]) == (
        pd.Timestamp("2020-03-01"), pd.Timestamp("2020-05-01"), 2)


def test_enforcement_counts_follow_the_exact_meanings():
    c = counts(make.enforcement(
        # filed + penalized, 双随机, reviewed 80, publicized + recorded, not 重大: quality ok
        {"case_filed": True, "penalized": True, "mode": "双随机", "file_review_score": 80.0,
         "publicized": True, "recorded": True, "hazards_found": 2},
        # penalized but not filed: not in penalized-among-filed; fine 5 万 = 重大 without review
        {"case_filed": False, "penalized": True, "fine_wan": 5.0, "publicized": True,
         "recorded": True, "legal_review": False, "hazards_found": pd.NA},
        # filed, not penalized; 重大 by suspension WITH legal review: quality ok; reviewed 90
        {"case_filed": True, "suspended": True, "legal_review": True, "publicized": True,
         "recorded": True, "file_review_score": 90.0, "hazards_found": 1},
        # all NA: counts as an inspection, nothing else
        {},
        # another unit and another month: not counted for T01 in January
        {"unit_id": "T02"}, {"inspected_at": "2020-02-01"},
    )).loc[("T01", "2020-01")]
    assert c["inspections"] == 4 and c["filed"] == 2 and c["penalized_filed"] == 1
    assert c["random"] == 1 and c["reviewed"] == 2 and c["review_sum"] == 170
    assert c["hazards_found"] == 3  # 2 + NA(->0) + 1 + NA
    assert c["quality_ok"] == 2 and c["major"] == 2 and c["major_reviewed"] == 1
    assert c["inspections_per_10_enterprises"] == 4.0          # 4 / 10 enterprises x 10
    assert c["filed_share"] == 0.5 and c["random_share"] == 0.25
    assert c["file_review_mean"] == 0.85                       # (80 + 90) / 2 / 100
    assert c["quality_share"] == 0.5 and c["hazards_per_inspection"] == 0.75
    assert c["penalized_per_filed"] == 0.5


def test_major_decision_uses_the_rulebook_threshold():
    frame = inspection_events(make.enforcement(
        {"fine_wan": 5.0}, {"fine_wan": 4.99}, {"suspended": True}, {"transferred": True}, {}), BOOK)
    assert frame["major_decision"].tolist() == [True, False, True, True, False]
    lower = make.edited_rulebook(("major_decision_fine_wan = 5.0", "major_decision_fine_wan = 4.0"))
    assert inspection_events(make.enforcement({"fine_wan": 4.99}), lower)["major_decision"].tolist() == [True]


def test_rates_are_missing_when_their_denominator_is_zero():
    c = counts().loc[("T01", "2020-01")]
    assert c["inspections"] == 0 and c["inspections_per_10_enterprises"] == 0.0
    for name in ("filed_share", "file_review_mean", "quality_share", "penalized_per_filed",
                 "on_time_rate", "major_on_time_rate"):
        assert np.isnan(c[name]), name
    # T02 has 0 supervised enterprises in the registry: per-enterprise rates cannot be measured.
    assert np.isnan(counts().loc[("T02", "2020-01")]["inspections_per_10_enterprises"])
    assert {n for n, i in INDICATORS.items() if i.per_month} == {
        "inspections_per_10_enterprises", "hazards_found_per_10_enterprises"}


def test_hazards_due_on_time_and_found_by_day():
    c = counts(hazards=make.hazards(
        # due 20 Jan, rectified that evening: on time (compared by day)
        {"deadline": "2020-01-20", "rectified_at": "2020-01-20 18:00"},
        # 重大 due 25 Jan, rectified 26 Jan: due, late
        {"level": "重大", "deadline": "2020-01-25", "rectified_at": "2020-01-26"},
        # found in January, due in February, never rectified
        {"deadline": "2020-02-03"},
    ))
    jan, feb = c.loc[("T01", "2020-01")], c.loc[("T01", "2020-02")]
    assert (jan["found"], jan["due"], jan["on_time"], jan["major_due"], jan["major_on_time"]) == (3, 2, 1, 1, 0)
    assert jan["on_time_rate"] == 0.5 and jan["major_on_time_rate"] == 0.0
    assert jan["hazards_found_per_10_enterprises"] == 3.0
    assert (feb["found"], feb["due"], feb["on_time"]) == (0, 1, 0)
    assert np.isnan(feb["major_on_time_rate"])


def test_overdue_hazards_are_charged_in_every_month_they_stay_overdue():
    events = overdue_hazard_events(make.hazards(
        {"hazard_id": "late", "deadline": "2020-01-20", "rectified_at": "2020-03-05"},
        {"hazard_id": "open", "deadline": "2020-02-10"},
        {"hazard_id": "on-time", "deadline": "2020-01-20", "rectified_at": "2020-01-20"},
        # deadline on the month's last day, rectified the next day: overdue at January's end
        {"hazard_id": "last-day", "deadline": "2020-01-31", "rectified_at": "2020-02-01"},
        # rectified late but within the same month: not overdue at any month end
        {"hazard_id": "same-month", "deadline": "2020-01-10", "rectified_at": "2020-01-30"},
    ), JAN_MAR)
    got = events.groupby("record_id")["period"].apply(list).to_dict()
    assert got == {"late": ["2020-01", "2020-02"], "open": ["2020-02", "2020-03"],
                   "last-day": ["2020-01"]}


def test_accidents_are_charged_to_territory_and_supervising_department():
    frame = charged_accidents(make.accidents(
        {"accident_id": "a1", "department_id": "D01"},
        {"accident_id": "a2", "department_id": pd.NA},
        {"accident_id": "a3", "department_id": "T01"},  # same unit: charged once
    ), BOOK)
    got = sorted(zip(frame["record_id"], frame["unit_id"], frame["role"]))
    assert got == [("a1", "D01", "行业监管"), ("a1", "T01", "属地"), ("a2", "T01", "属地"),
                   ("a3", "T01", "属地")]


def test_late_report_is_more_than_the_rulebook_hours():
    frame = charged_accidents(make.accidents(
        {"occurred_at": "2020-01-10 08:00", "reported_at": "2020-01-10 09:00"},   # exactly 1 h
        {"occurred_at": "2020-01-10 08:00", "reported_at": "2020-01-10 09:01"},   # 1 h 1 min
        {"occurred_at": "2020-01-10 08:00", "late_report": pd.NA},                # unknown
        {"occurred_at": "2020-01-10 08:00", "late_report": True},                 # flag only
    ), BOOK)
    assert frame["late_report"].tolist() == [False, True, False, True]


def test_group_sums_equal_a_groupby_on_the_labels():
    """The per-(unit, period) sums used by period_counts (bincount on integer keys) give what a
    pandas groupby on the labels gives, rows with a missing unit or period left out."""
    from pipeline.indicators import _coded, _group_sums

    unit = pd.Series(["u2", "u1", None, "u2", "u1", "u2"], dtype="string")
    period = pd.Series(["2020-02", "2020-01", "2020-01", "2020-02", None, "2020-01"], dtype="string")
    counts = np.array([1, 2, 3, 4, 5, 6])
    scores = np.array([0.1, 0.2, 0.3, 0.7, 0.5, 85.3])
    flags = np.array([True, True, True, False, True, True])
    ours = _group_sums(_coded(unit), _coded(period), {"n": counts, "f": flags}, {"s": scores}).set_index(["unit_id", "period"]).sort_index()
    frame = pd.DataFrame({"unit_id": unit, "period": period, "n": counts, "f": flags, "s": scores})
    theirs = frame.groupby(["unit_id", "period"]).sum().sort_index()
    assert list(ours.index) == list(theirs.index) == [("u1", "2020-01"), ("u2", "2020-01"), ("u2", "2020-02")]
    assert ours["n"].tolist() == theirs["n"].astype(float).tolist()
    assert ours["f"].tolist() == theirs["f"].astype(float).tolist() == [1.0, 1.0, 1.0]  # yes/no: counted
    assert ours["s"].tolist() == theirs["s"].tolist()  # same additions, in the same order


def test_period_codes_are_assign_period_as_positions():
    from pipeline.periods import period_codes

    dates = pd.Series(pd.to_datetime(["2020-02-10 00:00", "2020-01-31 23:00", None, "2020-04-01 00:00", "2019-12-31 00:00"]))
    codes, labels = period_codes(dates, JAN_MAR)
    assert [labels[c] if c >= 0 else pd.NA for c in codes] == assign_period(dates, JAN_MAR).tolist()
    assert period_codes(dates, JAN_MAR.head(0))[0].tolist() == [-1] * 5


def test_a_years_scoring_works_on_that_years_inspections_only():
    from pipeline.events import rows_within

    table = make.enforcement({"inspected_at": pd.Timestamp("2019-12-31 23:59")}, {"inspected_at": pd.Timestamp("2020-01-01")},
                             {"inspected_at": pd.Timestamp("2020-03-31 18:00")}, {"inspected_at": pd.Timestamp("2020-04-01")},
                             {"inspected_at": pd.NaT})
    inside = rows_within(table, "inspected_at", JAN_MAR)
    assert list(inside["inspected_at"]) == [pd.Timestamp("2020-01-01"), pd.Timestamp("2020-03-31 18:00")]
    assert list(inside.index) == [0, 1]
    again = rows_within(inside, "inspected_at", JAN_MAR)  # nothing to drop: the same data, not a copy
    assert np.shares_memory(again["inspected_at"].to_numpy(), inside["inspected_at"].to_numpy())
    # Counting the year's rows alone gives the counts of the whole table.
    pd.testing.assert_frame_equal(counts(inside), counts(table))


def test_periods_of_whole_days_are_looked_up_by_day_as_searched():
    """period_codes looks a date's period up by its day when every period starts and ends at
    midnight; the binary search (other periods, or a span past DAY_TABLE_DAYS) gives the same."""
    from pipeline import periods

    rng = np.random.default_rng(5)
    micro = rng.integers(0, 500 * 86_400_000_000, 20_000)
    micro[:4] = [0, 86_400_000_000 - 1, 12 * 86_400_000_000, 12 * 86_400_000_000 - 1]  # either side of midnight
    dates = pd.Series(pd.Timestamp("2019-12-20") + pd.to_timedelta(micro, unit="us")).astype("datetime64[us]")
    dates[::50] = pd.NaT
    gaps = pd.concat([month_periods("2020-01", "2020-02"), month_periods("2020-05", "2020-05")], ignore_index=True)
    year = span_period("2020", [], pd.Timestamp("2020-01-01"), pd.Timestamp("2021-01-01"))
    odd = gaps.assign(end=gaps["end"] - pd.Timedelta(hours=1))  # not at midnight: searched
    for chosen in (month_periods("2020-01", "2020-12"), gaps, year, odd):
        looked_up = periods.period_codes(dates, chosen)[0]
        assert (periods._by_day(chosen["start"].to_numpy(), chosen["end"].to_numpy()) is None) == (chosen is odd)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(periods, "DAY_TABLE_DAYS", 0)  # (every span too long: searched)
            searched = periods.period_codes(dates, chosen)[0]
        assert (looked_up == searched).all() and (looked_up >= 0).any() and (looked_up < 0).any()
