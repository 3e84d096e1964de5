"""Frame shaping for the reports: ordering, labels, the overdue rule at a month's end, robustness."""

from __future__ import annotations

import pandas as pd
import report_fixtures as fx

from pipeline import report_tables as rt


def test_rank_change_labels():
    assert [rt.rank_change_label(v) for v in (2, -1, 0, pd.NA)] == ["↑2", "↓1", "持平", "新"]


def test_ranked_orders_groups_and_ties():
    rows = rt.ranked(fx.monthly_scores(), "2020-01")
    assert list(rows["ranking_group"].unique()) == ["属地单位", "成员单位"]
    members = rows.loc[rows["ranking_group"] == "成员单位"]
    # D02 and D03 tie on 85.00 (rank 1 each); A decides the order: D03 (35) before D02 (32).
    assert list(members["unit_id"]) == ["D03", "D02", "D01"]
    assert list(members["rank"]) == [1, 1, 3]


def test_overdue_boundaries():
    hazards = pd.DataFrame({
        "unit_id": ["U"] * 4, "level": ["重大"] * 4,
        "found_at": pd.to_datetime(["2020-03-01"] * 4),
        "deadline": pd.to_datetime(["2020-03-31", "2020-04-01", "2020-03-10", "2020-03-10"]),
        "rectified_at": pd.to_datetime([None, None, "2020-03-31", "2020-04-01"]),
    })
    overdue = rt.overdue_hazards(hazards, rt.period_end("2020-03"))
    # due on the last day and open: overdue; due next month: not; rectified by the end: not; after: yes
    assert list(overdue.index) == [3, 0]


def test_robustness_fallback_marks_crossed_lines():
    annual = pd.DataFrame({
        "unit_id": ["a", "b", "c", "d", "e", "f", "g"], "ranking_group": ["G"] * 7,
        "rank": [1, 2, 3, 4, 5, 6, 7], "rank_p05": [1, 1, 2, 4, 4, 6, 7], "rank_p95": [1, 4, 3, 4, 5, 7, 7],
        "grade": ["优秀", "优秀", "良好", "良好", "合格", "合格", "合格"],
    })
    marks = rt.robustness_marks(annual).set_index("unit_id")
    assert list(marks.index[marks["non_robust"].astype(bool)]) == ["b", "e"]  # f stays in the bottom 3
    assert "前3名不稳健" in marks.loc["b", "robust_note"] and "优秀" in marks.loc["b", "robust_note"]


def test_deduction_view_keeps_sign_and_labels():
    view = rt.deduction_view(fx.deductions(), rt.units_frame(fx.monthly_scores()), ["2020-03"], "T03")
    assert set(view["类别"]) == {"扣分", "未达目标"}
    assert view["失分"].sum() == 2.0
    assert "实际1.50;目标2.00" in " ".join(view["说明"])
