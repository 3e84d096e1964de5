"""Monthly components A, B, C and the points-lost table, with hand-computed expectations."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
import pytest

import factories as make
from pipeline.frames import DEDUCTION_COLUMNS
from pipeline.events import matches
from pipeline.score import SCORE_COLUMNS, item_table, score_months

BOOK = make.rulebook()
UNITS = make.registry(("T01", "办事处", 10), ("T02", "办事处", 10), ("D01", "成员单位", 10))
# An inspection that meets every A item: filed and penalized, 双随机, file score 100,
# publicized and recorded, one hazard found. Two of them for 10 enterprises = the 2.0 target.
FULL = {"case_filed": True, "penalized": True, "mode": "双随机", "file_review_score": 100.0,
        "publicized": True, "recorded": True, "hazards_found": 1}


def score(enf=(), haz=(), acc=(), units=UNITS, book=BOOK):
    return score_months(make.accidents(*acc), make.enforcement(*enf), make.hazards(*haz), units, book)


def row(scores: pd.DataFrame, unit: str = "T01", period: str = "2020-01") -> pd.Series:
    return scores.set_index(["unit_id", "period"]).loc[(unit, period)]


def lost(deductions: pd.DataFrame, unit: str = "T01", period: str = "2020-01", component: str | None = None):
    chosen = deductions.loc[(deductions["unit_id"] == unit) & (deductions["period"] == period)]
    if component:
        chosen = chosen.loc[chosen["component"] == component]
    return chosen.groupby("rule", sort=False)["points"].sum().astype(float).to_dict()


def test_public_columns_come_first_and_unchanged():
    scores, deductions = score(enf=[FULL])
    assert list(scores.columns[:len(SCORE_COLUMNS)]) == [
        "unit_id", "period", "group", "A", "B", "C", "score", "rank", "rank_change",
        "not_assessed", "flags"]
    assert list(deductions.columns[:8]) == [
        "unit_id", "period", "component", "rule", "points", "record_id", "source_file", "source_row"]
    assert list(deductions.columns) == DEDUCTION_COLUMNS
    assert scores["period"].tolist() == ["2020-01"] * 3


def test_a_unit_meeting_every_a_item_scores_40():
    scores, deductions = score(enf=[FULL, FULL])
    assert row(scores)["A"] == 40
    assert lost(deductions, component="A") == {}


# One unit per case, scored together (one run instead of fourteen): unit -> (rows, item, fraction)
A_CASES = {
    # 检查频次: inspections per 10 enterprises vs 2.0 (10 enterprises here)
    "F1": ([FULL, FULL], "inspection_frequency", 1.0),                  # 2 / 2.0, at target
    "F2": ([FULL, FULL, FULL], "inspection_frequency", 1.0),            # 3 / 2.0, capped
    "F3": ([FULL], "inspection_frequency", 0.5),                        # 1 / 2.0
    # 立案率 vs 0.10: 1 filed of 10 is at target; 1 of 11 = 0.0909 / 0.10 = 0.909…
    "L1": ([FULL] + [{**FULL, "case_filed": False}] * 9, "case_filing", 1.0),
    "L2": ([FULL] + [{**FULL, "case_filed": False}] * 10, "case_filing", 10 / 11),
    # 双随机 share vs 0.5: 2 of 4 at target, 1 of 4 = 0.25 / 0.5
    "R1": ([FULL, FULL, {**FULL, "mode": "计划"}, {**FULL, "mode": "计划"}], "random_inspection", 1.0),
    "R2": ([FULL, {**FULL, "mode": "计划"}, {**FULL, "mode": "专项"}, {**FULL, "mode": pd.NA}],
           "random_inspection", 0.5),
    # 案卷评查: mean score / 100 over reviewed files only: (80 + 90) / 2 / 100
    "V1": ([{**FULL, "file_review_score": 80.0}, {**FULL, "file_review_score": 90.0},
            {**FULL, "file_review_score": pd.NA}], "file_review", 0.85),
    # 三项制度: 1 of 2 lacks 公示
    "Q1": ([FULL, {**FULL, "publicized": False}], "three_systems", 0.5),
    # 隐患发现 per inspection vs 1.0: 2 / 2 at target, 3 / 2 capped, 1 / 2
    "H1": ([FULL, FULL], "hazard_discovery", 1.0),
    "H2": ([FULL, {**FULL, "hazards_found": 2}], "hazard_discovery", 1.0),
    "H3": ([FULL, {**FULL, "hazards_found": pd.NA}], "hazard_discovery", 0.5),
    # 处罚率 penalized / filed vs 1.0: 2 of 2, then 1 of 2 (a penalty without filing not counted)
    "P1": ([FULL, FULL], "penalty_rate", 1.0),
    "P2": ([FULL, {**FULL, "penalized": False}, {**FULL, "case_filed": False}], "penalty_rate", 0.5),
}


@lru_cache(maxsize=1)
def a_case_scores() -> pd.DataFrame:
    units = make.registry(*[(unit, "办事处", 10) for unit in A_CASES])
    rows = [{**r, "unit_id": unit} for unit, (case, _, _) in A_CASES.items() for r in case]
    return score(enf=rows, units=units)[0]


@pytest.mark.parametrize("unit", list(A_CASES))
def test_each_a_item_at_and_past_its_target(unit):
    _, item, expected = A_CASES[unit]
    r = row(a_case_scores(), unit)
    assert r[f"{item}_points"] / r[f"{item}_max"] == pytest.approx(expected, abs=1e-12)


def test_not_assessed_items_are_redistributed_pro_rata_and_deductions_come_after():
    # 2 inspections, both 双随机 + 公示 + 全过程记录, 1 hazard each; nothing filed, no file reviewed.
    plain = {"mode": "双随机", "publicized": True, "recorded": True, "hazards_found": 1}
    scores, deductions = score(enf=[plain, {**plain, "overturned": True}])
    r = row(scores)
    # Not assessed: file_review (8) and penalty_rate (6). Assessed points 40 - 14 = 26.
    # Earned: frequency 6 + filing 0 (0 / 0.10) + random 3 + three systems 8 + discovery 6 = 23.
    # A = 23 x 40 / 26 - 2 (overturned) = 33.3846…
    assert r["A"] == pytest.approx(23 * 40 / 26 - 2, abs=1e-12)
    assert r["not_assessed"] == "file_review;penalty_rate;on_time_rectification"
    assert r["case_filing_max"] == pytest.approx(3 * 40 / 26)
    assert lost(deductions, component="A") == pytest.approx(
        {"case_filing": 3 * 40 / 26, "decision_overturned": 2.0})


def test_each_a_deduction_points_at_its_record():
    scores, deductions = score(enf=[
        {**FULL, "record_id": "R1", "overturned": True},                     # -2
        {**FULL, "record_id": "R2", "fine_wan": 6.0, "legal_review": False},  # 重大 unreviewed -1
        {**FULL, "record_id": "R3", "recorded": pd.NA},                       # NA = not recorded -0.5
        {**FULL, "record_id": "R4", "fine_wan": 6.0, "legal_review": True},   # reviewed: nothing
    ])
    rows = deductions.loc[deductions["kind"] == "deduction"]
    assert sorted(zip(rows["rule"], rows["record_id"], rows["points"].astype(float))) == [
        ("decision_overturned", "R1", 2.0), ("major_decision_unreviewed", "R2", 1.0),
        ("not_recorded", "R3", 0.5)]
    assert rows["source_file"].eq("enforcement.xlsx").all()
    assert sorted(rows["source_row"].tolist()) == [3, 4, 5]


def test_no_inspections_scores_zero_a_and_is_flagged():
    scores, deductions = score(haz=[{}])
    r = row(scores)
    assert r["A"] == 0 and "无执法检查" in r["flags"]
    assert r["not_assessed"].startswith("file_review;three_systems;hazard_discovery;penalty_rate")
    # 比力度 carries all 40 points (12 x 40 / 12) and scores 0 on each: 20 + 10 + 10 lost.
    assert lost(deductions, component="A") == {"inspection_frequency": 20.0, "case_filing": 10.0,
                                               "random_inspection": 10.0}


def test_b_items_deductions_and_months_overdue():
    scores, deductions = score(
        enf=[{"unit_id": "T02", "inspected_at": "2020-03-02"}],  # makes March a month with data
        haz=[
            {"hazard_id": "H1", "found_at": "2020-01-05", "deadline": "2020-01-20",
             "rectified_at": "2020-01-20 18:00"},                                   # on time
            {"hazard_id": "H2", "level": "重大", "found_at": "2020-01-06", "deadline": "2020-01-25",
             "rectified_at": "2020-02-03"},                                         # late 重大
            {"hazard_id": "H3", "found_at": "2020-02-10", "deadline": "2020-03-10"},  # never
        ])
    # Jan: on-time 1/2 x 15 = 7.5; 重大 0/1 x 10 = 0; found 2 per 10 enterprises >= 1 -> 5;
    #      H2 overdue at 31 Jan: -3.                                    B = 12.5 - 3 = 9.5
    # Feb: nothing due -> on-time not assessed; no 重大 due -> 10; found 1 -> 5;
    #      redistributed (10 + 5) x 30 / 15; H2 rectified 3 Feb.        B = 30
    # Mar: H3 due, not rectified -> 0; no 重大 due -> 10; found 0 -> 0; H3 overdue -1.  B = 9
    assert [row(scores, "T01", p)["B"] for p in ("2020-01", "2020-02", "2020-03")] == [9.5, 30, 9]
    assert lost(deductions, "T01", "2020-01", "B") == {
        "on_time_rectification": 7.5, "major_rectification": 10.0, "overdue_major": 3.0}
    assert lost(deductions, "T01", "2020-03", "B") == {
        "on_time_rectification": 15.0, "hazard_reporting": 5.0, "overdue_general": 1.0}


def test_supervised_major_hazard_overdue_and_the_floor_row():
    scores, deductions = score(haz=[{"level": "重大", "supervised": True, "deadline": "2020-01-10"}])
    # 0 + 0 + 5 (found) - 3 (重大) - 5 (挂牌督办) = -3 -> B = 0; the floor row gives back 3.
    assert row(scores)["B"] == 0
    assert lost(deductions, component="B") == {
        "on_time_rectification": 15.0, "major_rectification": 10.0, "overdue_major": 3.0,
        "overdue_supervised": 5.0, "floor_at_zero": -3.0}


# Territorial unit -> (its accident, C, points lost); each charged also to the department "D" + unit.
C_CASES = {
    # 一般, 1 death, reported in 30 min: 30 - 3 - 2 = 25
    "K1": ({"deaths": 1, "reported_at": "2020-01-10 00:30"}, 25,
           {"general_accident": 3, "general_accident_deaths": 2}),
    # 一般, 2 deaths, reported 2 h later: 30 - 3 - 4 - 5 = 18
    "K2": ({"deaths": 2, "reported_at": "2020-01-10 02:00"}, 18,
           {"general_accident": 3, "general_accident_deaths": 4, "late_report": 5}),
    # 较大: C = 0; the zeroing row takes all 30
    "K3": ({"level": "较大", "deaths": 3}, 0, {"larger_accident": 30}),
    # 较大 reported late: late 5, then zeroing takes the remaining 25
    "K4": ({"level": "较大", "deaths": 3, "reported_at": "2020-01-10 03:00"}, 0,
           {"late_report": 5, "larger_accident": 25}),
    # 重大: C = 0 (and a veto for the year, see test_assess)
    "K5": ({"level": "重大", "deaths": 12}, 0, {"larger_accident": 30}),
    # 瞒报 一般 accident: -3, then zeroed
    "K6": ({"concealed": True}, 0, {"general_accident": 3, "concealed_accident": 27}),
}


@lru_cache(maxsize=1)
def c_case_results() -> tuple[pd.DataFrame, pd.DataFrame]:
    units = make.registry(("T02", "办事处", 10), *[(u, "办事处", 10) for u in C_CASES],
                          *[("D" + u, "成员单位", 10) for u in C_CASES])
    rows = [{**accident, "unit_id": u, "department_id": "D" + u} for u, (accident, _, _) in C_CASES.items()]
    return score(acc=rows, units=units)


@pytest.mark.parametrize("unit", list(C_CASES))
def test_c_deductions_and_zeroing(unit):
    _, expected_c, expected_lost = C_CASES[unit]
    scores, deductions = c_case_results()
    for charged in (unit, "D" + unit):  # the territory and the supervising department
        assert row(scores, charged)["C"] == expected_c
        assert lost(deductions, charged, component="C") == expected_lost
    assert row(scores, "T02")["C"] == 30


def test_c_is_floored_at_zero_with_a_negative_row():
    scores, deductions = score(acc=[{}] * 11)  # 11 x 3 = 33 > 30
    assert row(scores)["C"] == 0
    assert lost(deductions, component="C") == {"general_accident": 33.0, "floor_at_zero": -3.0}
    assert "较大" not in row(scores)["flags"]


def test_every_registry_unit_gets_every_month_between_first_and_last_data():
    scores, _ = score(enf=[{"inspected_at": "2020-01-15"}], acc=[{"occurred_at": "2020-04-02"}])
    assert len(scores) == 3 * 4
    assert set(scores["period"]) == {"2020-01", "2020-02", "2020-03", "2020-04"}
    quiet = row(scores, "T02", "2020-02")
    # No data at all: A 0; B (10 重大 full + 0 found) x 30 / 15 = 20; C 30.
    assert (quiet["A"], quiet["B"], quiet["C"], quiet["score"]) == (0, 20, 30, 50)


def random_sample(seed: int = 7):
    rng = np.random.default_rng(seed)
    units = ["T01", "T02", "D01"]
    day = lambda n: [f"2020-0{m}-{d:02d}" for m, d in zip(rng.integers(1, 5, n), rng.integers(1, 29, n))]
    yes = lambda: rng.choice([True, False, pd.NA])
    enf = [{"unit_id": rng.choice(units), "inspected_at": d, "case_filed": yes(), "penalized": yes(),
            "mode": rng.choice(["双随机", "计划", pd.NA]), "hazards_found": int(rng.integers(0, 3)),
            "publicized": yes(), "recorded": yes(), "legal_review": yes(), "overturned": yes(),
            "fine_wan": float(rng.choice([0.0, 6.0])),
            "file_review_score": float(rng.choice([np.nan, 70.0, 95.0]))} for d in day(60)]
    haz = []
    for found in day(30):
        deadline = pd.Timestamp(found) + pd.Timedelta(days=int(rng.integers(0, 40)))
        fixed = deadline + pd.Timedelta(days=int(rng.integers(-5, 40)))
        haz.append({"unit_id": rng.choice(units), "found_at": found, "deadline": str(deadline.date()),
                    "rectified_at": str(max(fixed, pd.Timestamp(found)).date()) if rng.random() < .7 else pd.NA,
                    "level": rng.choice(["一般", "重大"], p=[.8, .2]), "supervised": bool(rng.random() < .3)})
    acc = [{"unit_id": rng.choice(["T01", "T02"]), "department_id": rng.choice(["D01", pd.NA]),
            "occurred_at": d, "reported_at": str(pd.Timestamp(d) + pd.Timedelta(minutes=int(rng.integers(0, 180)))),
            "deaths": int(rng.integers(0, 3)), "level": rng.choice(["一般", "较大"], p=[.85, .15]),
            "concealed": bool(rng.random() < .1)} for d in day(12)]
    return enf, haz, acc


def test_points_lost_reconcile_with_every_component_score():
    enf, haz, acc = random_sample()
    scores, deductions = score(enf, haz, acc)
    totals = deductions.groupby(["unit_id", "period", "component"])["points"].sum().astype(float)
    for component, full in (("A", 40), ("B", 30), ("C", 30)):
        got = scores.set_index(["unit_id", "period"])[component].astype(float)
        taken = totals.xs(component, level="component").reindex(got.index, fill_value=0.0)
        np.testing.assert_allclose(full - taken, got, atol=1e-9, rtol=0)
    np.testing.assert_allclose(scores["score"], scores[["A", "B", "C"]].sum(axis=1), atol=1e-12)
    assert (deductions.loc[deductions["kind"] != "floor", "points"] > 0).all()
    assert (deductions.loc[deductions["kind"] == "floor", "points"] < 0).all()
    assert len(scores) == 3 * 4


def test_same_inputs_give_identical_frames():
    first, second = score(*random_sample()), score(*random_sample())
    pd.testing.assert_frame_equal(first[0], second[0])
    pd.testing.assert_frame_equal(first[1], second[1])


def test_the_analyst_can_replace_a_items_without_code():
    text = make.RULEBOOK_2020.read_text(encoding="utf-8")
    start = text.index("[monthly.components.A.groups]")
    end = text.index("[[monthly.components.A.deductions]]")
    items = """[[monthly.components.A.items]]
key = "cross_enforcement"
label = "交叉执法占比"
indicator = "cross_share"
points = 20
target = 0.2

[[monthly.components.A.items]]
key = "recording"
label = "全过程记录率"
indicator = "recorded_share"
points = 20

"""
    book = make.parse_rulebook((text[:start] + items + text[end:]).encode(), "rulebook-alt.toml")
    scores, deductions = score(enf=[{"mode": "交叉执法", "recorded": True}, {}], book=book)
    # cross 1/2 = 0.5 >= 0.2 -> 20; recorded 1/2 -> 10; the unrecorded inspection -0.5. A = 29.5
    assert row(scores)["A"] == 29.5
    assert lost(deductions, component="A") == {"recording": 10.0, "not_recorded": 0.5}


def test_item_table_is_the_long_view_of_item_columns():
    scores, _ = score(enf=[FULL])
    table = item_table(scores, BOOK)
    first = table.loc[(table["unit_id"] == "T01") & (table["item"] == "inspection_frequency")].iloc[0]
    assert (first["actual"], first["target"], first["points"], first["max_points"]) == (1.0, 2.0, 3.0, 6.0)
    assert len(table) == 3 * 10  # 3 units x (7 A items + 3 B items)


@pytest.mark.parametrize("tied", [False, True])
def test_points_lost_sorted_as_sort_values_whether_or_not_record_ids_decide(tied):
    """The deductions' order is sort_values on its keys; record_id, coded only when rows equal on
    every other key need it, orders those rows."""
    from pipeline.frames import lost_points_frame
    from pipeline.score import _finish_lost

    rng = np.random.default_rng(7)
    n = 60
    source = pd.DataFrame({
        "unit_id": rng.choice(["T02", "T01", "D01"], n), "period": rng.choice(["2020-02", "2020-01"], n),
        "record_id": [f"R{i:03d}" for i in rng.permutation(n)],
        "source_file": rng.choice(["b.xlsx", "a.xlsx", None], n), "source_sheet": "Sheet1",
        "source_row": rng.choice([5, 3, 4], n) if tied else np.arange(n),
    })
    detail = rng.choice(["一般隐患", "重大隐患", None], n)
    parts = [lost_points_frame(source.iloc[: n // 2], "B", "overdue", "逾期", 1.0, "deduction", detail[: n // 2]),
             lost_points_frame(source.iloc[n // 2:], "A", "late", "迟报", 2.0, "deduction", detail[n // 2:])]
    expected = pd.concat(parts, ignore_index=True).sort_values(
        ["period", "unit_id", "component", "rule", "source_file", "source_row", "record_id"],
        kind="mergesort", na_position="first").reset_index(drop=True)
    result = _finish_lost(parts)
    assert result["record_id"].tolist() == expected["record_id"].tolist()
    # every column, NA included (texts of few values are put in order as codes)
    pd.testing.assert_frame_equal(result, expected, check_exact=True)


def test_index_in_is_get_indexer_for_text():
    from pipeline.score import _index_in

    labels = pd.Index(pd.array(["T01", "T02", None], dtype="string"))
    for values in (pd.Series(["T02", "X", None, "T01"], dtype="string"), pd.Series(["T02", "X", "T01"], dtype=object),
                   pd.Series([], dtype="string")):
        assert _index_in(values, labels).tolist() == labels.get_indexer(values).tolist()


def _month_inputs(book=BOOK):
    """A random sample's months: grid of counts, indicator values and event tables, as
    score_months builds them."""
    from pipeline.events import (accidents_by_month, charged_accidents, inspection_events,
                                 inspections_by_period, overdue_hazard_events)
    from pipeline.indicators import indicator_values, period_counts
    from pipeline.periods import month_periods

    enf, haz, acc = random_sample()
    hazards = make.hazards(*haz)
    periods = month_periods("2020-01", "2020-04")
    inspections = inspection_events(make.enforcement(*enf), book)
    grid = period_counts(inspections, hazards, UNITS, periods)
    events = {"inspections": inspections_by_period(inspections, periods),
              "overdue_hazards": overdue_hazard_events(hazards, periods, book),
              "accidents": accidents_by_month(charged_accidents(make.accidents(*acc), book), periods)}
    return grid, indicator_values(grid), events, hazards


def test_scores_without_details_are_the_scores_with_them():
    """score_component(details=False) (the year-end assessment's) gives the same scores without
    a shortfall or deduction row; the detailed run has both, so the sums were not trivial."""
    from pipeline.score import score_component

    grid, values, events, _ = _month_inputs()
    kinds = set()
    for component in BOOK.components:
        full, full_lost = score_component(component, grid, values, events)
        quick, quick_lost = score_component(component, grid, values, events, details=False)
        pd.testing.assert_frame_equal(quick, full, check_exact=True)
        assert not quick_lost["kind"].isin(["shortfall", "deduction"]).any()
        kinds |= set(full_lost["kind"])
    assert {"shortfall", "deduction"} <= kinds


def test_a_years_hazard_counts_are_its_months_counts_added_up():
    from pipeline.events import inspection_events
    from pipeline.frames import ensure
    from pipeline.indicators import COUNTS, period_counts, summed_counts
    from pipeline.periods import span_period

    grid, _, _, hazards = _month_inputs()
    months = ["2020-02", "2020-03", "2020-04"]
    period = span_period("2020", months, pd.Timestamp("2020-01-01"), pd.Timestamp("2021-01-01"))
    direct = period_counts(inspection_events(ensure(None, "enforcement"), BOOK), hazards, UNITS, period)
    summed = summed_counts(grid, months, UNITS, period)
    assert sorted(summed.columns) == sorted(direct.columns)
    pd.testing.assert_frame_equal(summed[direct.columns], direct, check_exact=True)
    assert (summed[["found", "due", "on_time", "major_due"]].sum() > 0).all()  # not all zeros
    assert (summed[[c for c in COUNTS if c not in ("found", "due", "on_time", "major_due", "major_on_time")]] == 0).all().all()
    assert summed_counts(grid, ["2020-04", "2020-05"], UNITS, period) is None  # a month it lacks


def test_deduction_details_written_per_distinct_combination_are_those_written_per_row():
    from pipeline.events import DETAILS, describe

    rng = np.random.default_rng(3)
    n = 200
    frame = pd.DataFrame({
        "deadline": pd.Series(pd.to_datetime(rng.choice(["2020-01-05", "2020-02-29", None], n)), dtype="datetime64[us]"),
        "level": pd.Series(rng.choice(["一般", "重大", None], n), dtype="str"),
        "enterprise": pd.Series(rng.choice(["甲厂", "乙厂", None], n), dtype="str"),
        "role": pd.Series(rng.choice(["属地", "行业监管"], n), dtype="string"),
        "deaths": pd.array(rng.choice([0, 1, 3], n), dtype="Int64"),
    }).set_axis(pd.RangeIndex(1000, 1000 + n))  # (an index of its own: the rows keep theirs)
    frame.loc[frame.index[::7], "deaths"] = pd.NA
    for on, (_, write) in DETAILS.items():
        pd.testing.assert_series_equal(describe(on, frame), write(frame))
    assert describe("overdue_hazards", frame).nunique() == 9 and describe("accidents", frame).nunique() == 24


def test_an_event_whose_per_value_is_missing_takes_nothing_with_or_without_details():
    """A deduction `per` a column (C's per death) on an event whose value is missing: its row's
    points are NA and it is not kept, so it takes nothing; the score without details agrees."""
    from pipeline.score import score_component

    grid, values, events, _ = _month_inputs()
    component = next(c for c in [*BOOK.components, BOOK.annual.accidents] if any(r.per for r in c.deductions))
    rule = next(r for r in component.deductions if r.per)
    table = events[rule.on]
    hit = np.flatnonzero(matches(table, rule.where))
    assert len(hit), "the sample needs an event of the rule"
    events = dict(events, **{rule.on: table.assign(**{rule.per: table[rule.per].astype("Float64")})})
    events[rule.on].loc[hit[0], rule.per] = pd.NA
    full, lost = score_component(component, grid, values, events)
    quick, _ = score_component(component, grid, values, events, details=False)
    pd.testing.assert_frame_equal(quick, full, check_exact=True)
    assert full["score"].notna().all()
