"""Year-end assessment (年度考核, 100 + up to 5 bonus), SPEC "Year-end assessment", rulebook [annual].

For the assessment year (annual.window_start: calendar year, or 1 Dec - 30 Nov named by the year
it ends in) every registry unit gets:
- enforcement = mean of A over the year's months in monthly_scores / A's points x its points;
- hazards = B computed with the year as one period (hazards due in it, overdue at its end,
  per-month targets x its months) / B's points x its points. The period is the year's months
  that have data (year to date when run before the year is over). Only hazard records feed it:
  an indicator of enforcement put into B scores as if there were no inspections;
- accidents = annual.accidents start - deductions (floored at 0; zeroing rules apply), over the
  year's accidents charged to the territorial unit and the supervising department. The year's
  accidents are those that occurred in the window plus concealed ones from earlier years whose
  concealment was uncovered (concealed_found_at) in the window (SPEC: they count this year);
- key_work / bonus = sum of the unit's annual_review items of that category for the year, capped
  at annual.key_work.points / annual.bonus.points. No review for the year: 0 and a warning
  (column `notes`, and frame.attrs["warnings"]);
- veto (一票否决) / yellow_card (黄牌警告) when a rule's count of matching accidents reaches
  min_count; a vetoed unit gets no yellow card (it is already 不合格);
- rank within the ranking group on the total (rounded), vetoed units after all others, ties broken
  by the rulebook's tie_breaks mapped to the annual parts (A -> enforcement, B -> hazards,
  C -> accidents, deaths); grade by pipeline/grading.py; robustness by pipeline/robustness.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.events import charged_accidents, inspection_events, matches, overdue_hazard_events
from pipeline.frames import ensure, string_join
from pipeline.grading import grade
from pipeline.indicators import indicator_values, period_counts, summed_counts
from pipeline.periods import assessment_window, months_in_window, span_period
from pipeline.rank import competition_rank, honours
from pipeline.robustness import rank_robustness
from pipeline.rulebook import Rule, Rulebook
from pipeline.score import score_component

ANNUAL_COLUMNS = ["unit_id", "year", "enforcement", "hazards", "accidents", "key_work", "bonus",
                  "total", "grade", "veto", "yellow_card", "rank", "rank_p05", "rank_p95"]
EXTRA_COLUMNS = ["name", "group", "ranking_group", "months", "deaths", "larger_accidents",
                 "veto_reason", "yellow_card_reason", "tie_break", "honour", "grade_share",
                 "grade_robust", "place_robust", "robust_flag", "notes", "rulebook_version"]


def year_accidents(accidents: pd.DataFrame, year: int, rulebook: Rulebook) -> pd.DataFrame:
    """Charged accidents counted in the assessment year, with period = str(year)."""
    start, end = assessment_window(year, rulebook.annual.window_start)
    charged = charged_accidents(ensure(accidents, "accidents"), rulebook)
    occurred = (charged["occurred_at"] >= start) & (charged["occurred_at"] < end)
    found = charged["concealed_found_at"]
    uncovered = charged["concealed"] & (found >= start).fillna(False) & (found < end).fillna(False) \
        & (charged["occurred_at"] < start)
    chosen = charged.loc[(occurred | uncovered).to_numpy(dtype=bool)]
    return chosen.assign(period=pd.Series(str(year), index=chosen.index, dtype="string"))


def _count_rules(units: pd.DataFrame, events: pd.DataFrame, rules: tuple[Rule, ...]):
    """(fired: bool array, reasons: '、'-joined labels) of count rules per unit."""
    fired = np.zeros(len(units), dtype=bool)
    reasons = []
    for rule in rules:
        counts = events.loc[matches(events, rule.where)].groupby("unit_id").size()
        hit = units["unit_id"].map(counts).fillna(0).to_numpy() >= rule.min_count
        fired |= hit
        reasons.append(np.where(hit, rule.label, ""))
    return fired, string_join(reasons, "、") if reasons else np.full(len(units), "", dtype=object)


def _review_points(units: pd.DataFrame, review: pd.DataFrame | None, year: int, rulebook: Rulebook):
    """(key_work, bonus, notes, warnings) from the year's annual_review rows."""
    settings = rulebook.annual
    rows = None if review is None else review.loc[(review["year"] == year).fillna(False)]
    if rows is None or rows.empty:
        warning = f"缺少{year}年度考评表,各单位重点工作、加分计0分(annual review for {year} missing)"
        zero = np.zeros(len(units))
        return zero, zero, np.full(len(units), "缺少年度考评表,重点工作计0分", dtype=object), [warning]
    sums = rows.groupby(["unit_id", "category"])["score"].sum().astype(float)

    def part(name: str) -> np.ndarray:
        category = getattr(settings, name)["category"]
        values = sums.xs(category, level="category") if category in sums.index.get_level_values(1) \
            else pd.Series(dtype=float)
        return np.minimum(units["unit_id"].map(values).fillna(0.0).to_numpy(dtype=float),
                          settings.points_of(name))

    missing = ~units["unit_id"].isin(rows["unit_id"]).to_numpy()
    notes = np.where(missing, "年度考评表中无该单位,重点工作计0分", "")
    warnings = [f"{year}年度考评表缺少单位:{'、'.join(units.loc[missing, 'unit_id'])}"] if missing.any() else []
    return part("key_work"), part("bonus"), notes, warnings


def assess_year(year: int, monthly_scores: pd.DataFrame, accidents: pd.DataFrame | None,
                hazards: pd.DataFrame | None, annual_review: pd.DataFrame | None,
                registry: pd.DataFrame, rulebook: Rulebook, *, counts: pd.DataFrame | None = None) -> pd.DataFrame:
    """The year-end assessment of every registry unit: ANNUAL_COLUMNS then EXTRA_COLUMNS.

    `counts`: the months' `period_counts` (pipeline.score.score_months_and_counts), whose hazard
    counts add up to the year's; without them (or lacking a month) the year's hazards are counted
    from the records."""
    settings = rulebook.annual
    start, end = assessment_window(year, settings.window_start)
    months = months_in_window(monthly_scores["period"], start, end)
    units = registry[["unit_id", "name", "group"]].astype("string").reset_index(drop=True)
    table = units.copy()
    table["year"] = year
    table["months"] = len(months)

    a_key = settings.enforcement["from_component"]
    in_year = monthly_scores.loc[monthly_scores["period"].isin(months)]
    mean_a = in_year.groupby("unit_id")[a_key].mean().astype(float)
    table["enforcement"] = (units["unit_id"].map(mean_a).astype(float).fillna(0.0).to_numpy()
                            / rulebook.component(a_key).points * settings.points_of("enforcement"))

    period = span_period(str(year), months, start, end)
    hazard_table = ensure(hazards, "hazards")
    no_inspections = inspection_events(ensure(None, "enforcement"), rulebook)
    grid = summed_counts(counts, months, registry, period) if counts is not None and months else None
    if grid is None:
        grid = period_counts(no_inspections, hazard_table, registry, period)
    b_component = rulebook.component(settings.hazards["from_component"])
    events = {"inspections": no_inspections.assign(period=pd.Series(dtype="string")),
              "overdue_hazards": overdue_hazard_events(hazard_table, period, rulebook),
              "accidents": year_accidents(accidents, year, rulebook)}
    b_scores, _ = score_component(b_component, grid, indicator_values(grid), events, details=False)
    table["hazards"] = (units[["unit_id"]].merge(b_scores[["unit_id", "score"]], on="unit_id", how="left")
                        ["score"].fillna(0.0).to_numpy() / b_component.points * settings.points_of("hazards"))
    c_scores, _ = score_component(settings.accidents, grid, indicator_values(grid), events, details=False)
    table["accidents"] = units[["unit_id"]].merge(c_scores[["unit_id", "score"]], on="unit_id",
                                                  how="left")["score"].fillna(0.0).to_numpy()
    key_work, bonus, notes, warnings = _review_points(units, annual_review, year, rulebook)
    table["key_work"], table["bonus"] = key_work, bonus
    table["total"] = table[["enforcement", "hazards", "accidents", "key_work", "bonus"]].sum(axis=1)

    year_events = events["accidents"]
    table["deaths"] = units["unit_id"].map(year_events.groupby("unit_id")["deaths"].sum()).fillna(0) \
        .astype("int64").to_numpy()
    table["larger_accidents"] = units["unit_id"].map(
        year_events.loc[year_events["level"] == "较大"].groupby("unit_id").size()).fillna(0) \
        .astype("int64").to_numpy()
    table["veto"], table["veto_reason"] = _count_rules(units, year_events, settings.veto)
    yellow, yellow_reason = _count_rules(units, year_events, settings.yellow_card)
    table["yellow_card"] = yellow & ~table["veto"].to_numpy()
    table["yellow_card_reason"] = np.where(table["yellow_card"], yellow_reason, "")

    table["ranking_group"] = table["group"].map(rulebook.ranking_group_of()).astype("string")
    parts = {settings.enforcement["from_component"]: "enforcement",
             settings.hazards["from_component"]: "hazards", "C": "accidents", "deaths": "deaths"}
    tie_breaks = [(parts[k], k != "deaths") for k in rulebook.tie_breaks if k in parts]
    table = table.join(competition_rank(table, "total", tie_breaks, ["ranking_group"],
                                        rulebook.decimals, first="veto"))
    table["honour"] = honours(table, rulebook.top_n, rulebook.bottom_n)
    excluded = [units["unit_id"].isin(year_events.loc[matches(year_events, band.without), "unit_id"])
                .to_numpy() if band.without else np.zeros(len(units), dtype=bool)
                for band in settings.grades]
    table["grade"] = grade(table["total"], table["rank"].to_numpy(dtype=float, na_value=np.nan),
                           table["group_size"].to_numpy(dtype=float, na_value=np.nan),
                           table["veto"], excluded, settings.grades, settings.fail_grade,
                           rulebook.decimals)
    table = table.join(rank_robustness(table, excluded, rulebook))
    table["notes"] = notes
    table["rulebook_version"] = rulebook.version
    result = _finish(table, rulebook)
    result.attrs["warnings"] = warnings
    return result


def _finish(table: pd.DataFrame, rulebook: Rulebook) -> pd.DataFrame:
    order = {g.name: i for i, g in enumerate(rulebook.ranking_groups)}
    table = table.assign(_g=table["ranking_group"].map(order).fillna(len(order)))
    table = table.sort_values(["_g", "rank", "unit_id"], kind="mergesort", na_position="last")
    for column in ("enforcement", "hazards", "accidents", "key_work", "bonus", "total"):
        table[column] = table[column].astype("Float64")
    for column in ("grade", "veto_reason", "yellow_card_reason", "notes", "rulebook_version"):
        table[column] = table[column].astype("string")
    table["year"] = table["year"].astype("Int64")
    table["veto"] = table["veto"].astype("boolean")
    table["yellow_card"] = table["yellow_card"].astype("boolean")
    return table[ANNUAL_COLUMNS + EXTRA_COLUMNS].reset_index(drop=True)
