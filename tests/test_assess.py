"""Year-end assessment: components, caps, veto and yellow card, the window, grades (SPEC "Year-end")."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import factories as make
from pipeline.assess import ANNUAL_COLUMNS, assess_year
from pipeline.grading import grade

BOOK = make.rulebook()
UNITS = make.registry(*[(f"T0{i}", "办事处", 10) for i in range(1, 8)],
                      ("D01", "成员单位", 10), ("D02", "成员单位", 10))
# With A = 40 every month, no hazards and no accidents, a unit has
#   enforcement 40/40 x 30 = 30; hazards: nothing due (on-time not assessed), no 重大 due (10),
#   none found (0) -> (10 + 0) x 30/15 = 20 -> 20/30 x 25 = 16.667; accidents 30.
BASE = 30 + 20 / 30 * 25 + 30


def monthly(a: float = 40.0, first: str = "2020-01", last: str = "2020-12", **by_unit) -> pd.DataFrame:
    """monthly_scores with A per unit and month; by_unit: unit -> {period: A} overrides."""
    periods = [str(p) for p in pd.period_range(first, last, freq="M")]
    frame = pd.DataFrame([(u, p) for u in UNITS["unit_id"] for p in periods], columns=["unit_id", "period"])
    frame["A"] = a
    for unit, values in by_unit.items():
        for period, value in values.items():
            frame.loc[(frame["unit_id"] == unit) & (frame["period"] == period), "A"] = value
    return frame


def review(**points: tuple[float, float]) -> pd.DataFrame:
    """unit -> (重点工作, 加分); every unit not named gets (0, 0)."""
    rows = []
    for unit in UNITS["unit_id"]:
        work, bonus = points.get(unit, (0.0, 0.0))
        rows += [{"unit_id": unit, "item": "预案演练", "score": work},
                 {"unit_id": unit, "item": "宣传表彰", "category": "加分", "score": bonus}]
    return make.annual_review(*rows)


def assess(acc=(), haz=(), reviewed=None, scores=None, book=BOOK, year=2020) -> pd.DataFrame:
    result = assess_year(year, monthly() if scores is None else scores, make.accidents(*acc),
                         make.hazards(*haz), review() if reviewed is None else reviewed, UNITS, book)
    return result


def at(result: pd.DataFrame, unit: str) -> pd.Series:
    return result.set_index("unit_id").loc[unit]


def test_columns_and_the_plain_case():
    result = assess()
    assert list(result.columns[:len(ANNUAL_COLUMNS)]) == ANNUAL_COLUMNS
    plain = at(result, "T07")
    assert plain["enforcement"] == 30 and plain["accidents"] == 30
    assert plain["hazards"] == pytest.approx(20 / 30 * 25)
    assert plain["total"] == pytest.approx(BASE) and plain["grade"] == "合格"  # 76.67


def test_enforcement_is_the_mean_monthly_a_scaled_and_review_points_are_capped():
    scores = monthly(T01={f"2020-{m:02d}": 20.0 for m in range(7, 13)})
    result = assess(scores=scores, reviewed=make.annual_review(
        {"unit_id": "T01", "item": "预案演练", "score": 10.0},
        {"unit_id": "T01", "item": "值班值守", "score": 8.0},                     # 18 -> cap 15
        {"unit_id": "T01", "item": "表彰", "category": "加分", "score": 3.0},
        {"unit_id": "T01", "item": "创新", "category": "加分", "score": 4.0},      # 7 -> cap 5
        {"unit_id": "T01", "item": "预案演练", "score": 9.0, "year": 2019},       # other year
    ))
    t01 = at(result, "T01")
    # mean A = (6 x 40 + 6 x 20) / 12 = 30 -> 30 / 40 x 30 = 22.5
    assert t01["enforcement"] == 22.5
    assert (t01["key_work"], t01["bonus"]) == (15, 5)
    assert t01["total"] == pytest.approx(22.5 + 20 / 30 * 25 + 30 + 15 + 5)
    assert "年度考评表中无该单位" in at(result, "T02")["notes"]


def test_missing_annual_review_scores_key_work_zero_with_a_warning():
    result = assess_year(2020, monthly(), make.accidents(), make.hazards(), None, UNITS, BOOK)
    assert (result["key_work"] == 0).all() and (result["bonus"] == 0).all()
    assert "缺少年度考评表" in result["notes"].iloc[0]
    assert any("annual review for 2020 missing" in w for w in result.attrs["warnings"])


def test_hazards_use_the_year_as_the_period():
    result = assess(haz=[
        {"found_at": "2020-03-01", "deadline": "2020-03-10", "rectified_at": "2020-03-09"},  # on time
        {"level": "重大", "found_at": "2020-05-01", "deadline": "2020-05-20",
         "rectified_at": "2020-06-01"},                                                     # late
        {"found_at": "2020-12-01", "deadline": "2020-12-20"},        # due, open at year end: -1
        {"found_at": "2019-11-01", "deadline": "2019-12-01"},        # earlier, still open: -1
    ])
    # found in 2020: 3 per 10 enterprises vs 1.0 x 12 months -> 3/12 x 5 = 1.25
    # due in 2020: 3, on time 1 -> 15/3 = 5; 重大 due 1, on time 0 -> 0
    # B = 5 + 0 + 1.25 - 2 = 4.25 -> 4.25 / 30 x 25
    assert at(result, "T01")["hazards"] == pytest.approx(4.25 / 30 * 25)


def test_accidents_component_counts_both_charged_units():
    result = assess(acc=[
        {"unit_id": "T01", "department_id": "D01", "deaths": 1, "occurred_at": "2020-02-01"},
        {"unit_id": "T01", "occurred_at": "2020-04-01", "reported_at": "2020-04-01 02:00"},
        {"unit_id": "T02", "level": "较大", "deaths": 3},
        {"unit_id": "T03", "occurred_at": "2019-12-31"},  # last year: not counted
    ])
    # T01: 2 一般 (-6), 1 death (-2), 1 迟报 (-5) = 17; D01 only the first: 30 - 3 - 2 = 25
    assert at(result, "T01")["accidents"] == 17 and at(result, "D01")["accidents"] == 25
    assert at(result, "T02")["accidents"] == 15  # 较大 -15
    assert at(result, "T03")["accidents"] == 30
    assert at(result, "T01")["deaths"] == 1 and at(result, "T02")["larger_accidents"] == 1


def test_veto_and_yellow_card_rules():
    larger = {"level": "较大", "deaths": 3}
    result = assess(acc=[
        {"unit_id": "T02", **larger},                                   # 1 较大: neither
        {"unit_id": "T03", **larger}, {"unit_id": "T03", **larger},      # 2 较大: yellow card
        *[{"unit_id": "T04", **larger}] * 3,                             # 3 较大: veto
        {"unit_id": "T05", "level": "重大", "deaths": 10},                # 重大: veto
        {"unit_id": "T06", "concealed": True},                           # 瞒报: veto
    ], reviewed=review(T05=(15, 5)))
    flags = {u: (at(result, u)["veto"], at(result, u)["yellow_card"]) for u in ("T02", "T03", "T04", "T05", "T06")}
    assert flags == {"T02": (False, False), "T03": (False, True), "T04": (True, False),
                     "T05": (True, False), "T06": (True, False)}
    assert at(result, "T03")["accidents"] == 0           # 30 - 2 x 15
    assert at(result, "T05")["accidents"] == 0           # zeroing rule for 重大
    assert at(result, "T05")["veto_reason"] == "发生重大及以上生产安全事故"
    assert at(result, "T04")["veto_reason"] == "发生3起及以上较大事故"
    # Vetoed: 不合格 whatever the score, and ranked after every unit not vetoed.
    assert set(result.loc[result["veto"], "grade"]) == {"不合格"}
    group = result.loc[result["ranking_group"] == "属地单位"]
    assert group.loc[group["veto"], "rank"].min() > group.loc[~group["veto"], "rank"].max()


def test_concealment_uncovered_this_year_counts_this_year():
    result = assess(acc=[
        {"unit_id": "T01", "occurred_at": "2019-06-01", "concealed": True, "concealed_found_at": "2020-03-01"},
        {"unit_id": "T02", "occurred_at": "2019-06-01", "concealed": True, "concealed_found_at": "2021-02-01"},
    ])
    assert at(result, "T01")["veto"] and at(result, "T01")["veto_reason"] == "事故瞒报谎报"
    assert not at(result, "T02")["veto"]


def test_december_to_november_assessment_year():
    book = make.edited_rulebook(('window_start = "01-01"', 'window_start = "12-01"'))
    scores = monthly(first="2019-12", last="2020-12", T01={"2020-12": 0.0})
    accidents = [{"unit_id": "T01", "occurred_at": "2019-12-15"},   # in 2020's Dec-Nov year
                 {"unit_id": "T02", "occurred_at": "2020-12-05"}]   # in 2021's
    provincial = assess(acc=accidents, scores=scores, book=book)
    # Dec 2019 - Nov 2020: twelve months of A = 40 -> 30; one 一般 accident -> 27
    assert at(provincial, "T01")["enforcement"] == 30 and at(provincial, "T01")["accidents"] == 27
    assert at(provincial, "T02")["accidents"] == 30
    calendar = assess(acc=accidents, scores=scores)
    # Jan - Dec 2020: eleven months of 40 and December's 0 -> 440 / 12 / 40 x 30 = 27.5
    assert at(calendar, "T01")["enforcement"] == 27.5 and at(calendar, "T01")["accidents"] == 30
    assert at(calendar, "T02")["accidents"] == 27


def test_excellent_needs_the_top_30_percent_of_the_group_ties_included():
    result = assess(reviewed=review(T01=(15, 5), T02=(15, 4), T03=(15, 4), T04=(15, 3),
                                    T05=(10, 0), T06=(5, 0), D01=(15, 5)))
    # 属地单位 has 7 units: top 30% = rank <= floor(2.1) = 2.
    # T01 96.67 rank 1; T02 = T03 = 95.67 share rank 2; T04 94.67 rank 4 -> 良好 despite >= 90.
    got = {u: (at(result, u)["rank"], at(result, u)["grade"]) for u in ("T01", "T02", "T03", "T04", "T05", "T06", "T07")}
    assert got == {"T01": (1, "优秀"), "T02": (2, "优秀"), "T03": (2, "优秀"), "T04": (4, "良好"),
                   "T05": (5, "良好"), "T06": (6, "良好"), "T07": (7, "合格")}
    # 成员单位 has 2 units: floor(0.6) = 0 places, but the best unit can still qualify.
    assert at(result, "D01")["grade"] == "优秀" and at(result, "D02")["grade"] == "合格"
    assert (result["rank_p05"] <= result["rank"]).all() and (result["rank"] <= result["rank_p95"]).all()


def test_grade_bands_boundaries_and_the_no_larger_accident_condition():
    bands, fail = BOOK.annual.grades, BOOK.annual.fail_grade
    total = np.array([89.995, 89.994, 80.0, 79.994, 60.0, 59.99, 95.0, 95.0])
    larger = np.array([False] * 6 + [True, False])  # unit 7 had a 较大 accident
    veto = np.array([False] * 7 + [True])
    got = grade(total, np.ones(8), np.full(8, 7), veto, [larger, np.zeros(8, bool), np.zeros(8, bool)],
                bands, fail)
    # 89.995 shows as 90.00 -> 优秀; 89.994 -> 89.99 良好; 79.994 -> 合格; 59.99 -> 不合格;
    # 95 with a 较大 -> 良好; 95 vetoed -> 不合格
    assert got.tolist() == ["优秀", "良好", "良好", "合格", "合格", "不合格", "良好", "不合格"]


def test_assessment_is_deterministic():
    accidents = [{"unit_id": "T03", "level": "较大"}, {"unit_id": "T01", "deaths": 2}]
    reviewed = review(T01=(12, 1), T02=(14, 2), T03=(15, 5), T04=(13, 0))
    pd.testing.assert_frame_equal(assess(acc=accidents, reviewed=reviewed),
                                  assess(acc=accidents, reviewed=reviewed))


def test_score_all_returns_the_three_tables_for_every_year_deterministically():
    from pipeline.scoring import score_all

    clean = {"accidents": make.accidents({"unit_id": "T01", "occurred_at": "2019-11-03"}),
             "enforcement": make.enforcement({"unit_id": "T02", "inspected_at": "2020-02-10"}),
             "hazards": make.hazards({"unit_id": "T03"})}
    first = score_all(clean, UNITS, BOOK)
    assert set(first) == {"monthly_scores", "deductions", "annual_assessment"}
    assert sorted(first["annual_assessment"]["year"].unique()) == [2019, 2020]
    assert first["monthly_scores"]["period"].min() == "2019-11"
    assert first["monthly_scores"]["period"].max() == "2020-02"
    # No annual review given: a warning for each year.
    assert len(first["annual_assessment"].attrs["warnings"]) == 2
    again = score_all(clean, UNITS, {2019: BOOK, 2020: BOOK})  # one rulebook per year
    for name, frame in first.items():
        pd.testing.assert_frame_equal(frame, again[name])


def test_a_years_hazards_counted_from_its_months_counts_as_from_its_records():
    """score_all hands the months' counts to assess_year (no second pass over the records): the
    assessment is the same as counting the year's hazards from the records."""
    from pipeline.score import score_months_and_counts

    haz = [{"unit_id": u, "found_at": f, "deadline": d, "rectified_at": r, "level": lv}
           for u, f, d, r, lv in [("T02", "2020-01-05", "2020-01-20", "2020-01-10", "重大"),
                                  ("T01", "2020-02-03", "2020-02-20", "2020-02-25", "一般"),
                                  ("T01", "2020-05-01", "2020-05-09", None, "重大"),
                                  ("T02", "2020-06-11", "2020-07-01", "2020-06-30", "一般"),
                                  ("D01", "2020-11-20", "2020-12-15", None, "一般")]]
    enf = [{"unit_id": "T03", "inspected_at": "2020-01-06"}, {"unit_id": "T03", "inspected_at": "2020-12-06"}]
    scores, _, counts = score_months_and_counts(make.accidents(), make.enforcement(*enf), make.hazards(*haz), UNITS, BOOK)
    args = (2020, scores, make.accidents(), make.hazards(*haz), review(), UNITS, BOOK)
    summed = assess_year(*args, counts=counts)
    pd.testing.assert_frame_equal(summed, assess_year(*args), check_exact=True)
    assert summed["hazards"].nunique() > 1  # the hazards told the units apart


def test_years_scored_apart_or_together_agree_and_so_do_their_hazard_counts():
    """Two years of inspections and hazards: scored with one rulebook for both, or one per year
    (each year's months on their own, the other year's inspections outside them), the tables are
    the same; and each year's assessment is the one counted from the records."""
    from pipeline.scoring import score_all

    enf = [{"unit_id": u, "inspected_at": d} for u, d in
           [("T01", "2019-12-03"), ("T02", "2019-12-20"), ("T01", "2020-01-08"), ("T03", "2020-02-11")]]
    haz = [{"unit_id": u, "found_at": f, "deadline": d, "rectified_at": r} for u, f, d, r in
           [("T01", "2019-12-02", "2019-12-10", None), ("T02", "2019-12-05", "2020-01-10", "2020-01-09"),
            ("T03", "2020-01-15", "2020-02-01", "2020-02-05"), ("T01", "2020-02-02", "2020-02-20", None)]]
    clean = {"accidents": make.accidents(), "enforcement": make.enforcement(*enf), "hazards": make.hazards(*haz)}
    together = score_all(clean, UNITS, BOOK)
    apart = score_all(clean, UNITS, {2019: BOOK, 2020: BOOK})
    for name, frame in together.items():
        pd.testing.assert_frame_equal(frame, apart[name], check_exact=True, obj=name)
    annual = together["annual_assessment"]
    for year in (2019, 2020):
        counted = assess_year(year, together["monthly_scores"], clean["accidents"], clean["hazards"], None, UNITS, BOOK)
        pd.testing.assert_frame_equal(annual.loc[annual["year"] == year].reset_index(drop=True), counted,
                                      check_exact=True, obj=str(year))
    assert annual.groupby("year")["hazards"].nunique().min() > 1  # the hazards told units apart


def test_a_year_without_data_between_two_with_data_is_scored_by_its_own_rulebook(tmp_path):
    """score_tables loads a rulebook for every year from the first date to the last: the months
    of a year with no record at all (scored as every month between is) use that year's rulebook
    when the office has one, as every other month does; later years carry the latest forward."""
    import re

    from pipeline import config
    from pipeline.runner import FILES_COLUMNS, score_tables

    text = (config.RULES_DIR / "rulebook-2020.toml").read_text("utf-8")
    for year, version in ((2019, "2019.1"), (2020, "2020.9")):
        (tmp_path / f"rulebook-{year}.toml").write_text(
            re.sub(r'(?m)^version = ".*"$', f'version = "{version}"', text), "utf-8")
    enforcement = make.enforcement({"unit_id": "T01", "inspected_at": "2019-12-02"},
                                   {"unit_id": "T02", "inspected_at": "2021-01-05"})
    tables = {"accidents": make.accidents(), "enforcement": enforcement, "hazards": make.hazards(),
              "annual_review": make.annual_review()}
    files = pd.DataFrame({c: pd.Series(dtype="str") for c in FILES_COLUMNS})  # (no file rows needed)
    for column in ("file_mtime", "report_date"):
        files[column] = files[column].astype("datetime64[us]")
    scored = score_tables(tables, files, UNITS, rules_dir=tmp_path)
    monthly = scored["monthly_scores"]
    version = monthly.groupby(monthly["period"].str.slice(0, 4))["rulebook_version"].unique()
    assert {year: list(v) for year, v in version.items()} == {"2019": ["2019.1"], "2020": ["2020.9"], "2021": ["2020.9"]}
    annual = scored["annual_assessment"].drop_duplicates("year").set_index("year")["rulebook_version"]
    assert annual.to_dict() == {2019: "2019.1", 2020: "2020.9", 2021: "2020.9"}
