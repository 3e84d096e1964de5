"""Indicators per unit and period, computed in code and keyed by the names the rulebook's items use.

`period_counts` counts, for every registry unit and period (a full grid, zeros where nothing
happened), the quantities SPEC "Exact meanings" defines:
- inspections: enforcement rows of the unit with inspected_at in the period;
  filed = case_filed; penalized_filed = penalized among filed; random = mode 双随机;
  reviewed / review_sum = rows with a file_review_score and their sum; hazards_found (NA -> 0);
  quality_ok = publicized and recorded and (legal_review where the decision is 重大).
- hazards: found = found_at in the period; due = deadline in the period; on_time = due and
  rectified on or before the deadline day; the same for level 重大 (major_due, major_on_time).
`INDICATORS` turns counts into rates. A rate is NA ("no data") when its denominator is 0; the
rulebook item's `if_no_data` then decides (not assessed / zero / full). `per_month` marks
count-per-enterprise indicators, whose targets scale with the period's number of months.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.events import inspections_by_period
from pipeline.periods import UNIT, assign_period

KEYS = ["unit_id", "period"]
COUNTS = ["inspections", "filed", "penalized_filed", "random", "cross", "reviewed", "review_sum",
          "hazards_found", "quality_ok", "publicized", "recorded", "major", "major_reviewed",
          "found", "due", "on_time", "major_due", "major_on_time"]


def _ratio(numerator: pd.Series, denominator: pd.Series) -> np.ndarray:
    """numerator / denominator as float, NaN where the denominator is 0 or missing."""
    den = denominator.to_numpy(dtype=float, na_value=np.nan)
    num = numerator.to_numpy(dtype=float, na_value=np.nan)
    return np.divide(num, den, out=np.full(len(den), np.nan), where=den > 0)


@dataclass(frozen=True)
class Indicator:
    label: str
    per_month: bool
    compute: Callable[[pd.DataFrame], np.ndarray]


INDICATORS: dict[str, Indicator] = {
    "inspections_per_10_enterprises": Indicator(
        "每10家监管企业检查次数", True, lambda c: _ratio(10 * c["inspections"], c["enterprises"])),
    "filed_share": Indicator("立案率", False, lambda c: _ratio(c["filed"], c["inspections"])),
    "random_share": Indicator("双随机检查占比", False, lambda c: _ratio(c["random"], c["inspections"])),
    "cross_share": Indicator("交叉执法占比", False, lambda c: _ratio(c["cross"], c["inspections"])),
    "file_review_mean": Indicator(
        "案卷评查平均得分/100", False, lambda c: _ratio(c["review_sum"] / 100, c["reviewed"])),
    "quality_share": Indicator(
        "三项制度落实率", False, lambda c: _ratio(c["quality_ok"], c["inspections"])),
    "publicized_share": Indicator(
        "执法公示率", False, lambda c: _ratio(c["publicized"], c["inspections"])),
    "recorded_share": Indicator(
        "全过程记录率", False, lambda c: _ratio(c["recorded"], c["inspections"])),
    "legal_review_share": Indicator(
        "重大执法决定法制审核率", False, lambda c: _ratio(c["major_reviewed"], c["major"])),
    "hazards_per_inspection": Indicator(
        "每次检查发现隐患数", False, lambda c: _ratio(c["hazards_found"], c["inspections"])),
    "penalized_per_filed": Indicator(
        "处罚率(处罚/立案)", False, lambda c: _ratio(c["penalized_filed"], c["filed"])),
    "on_time_rate": Indicator("到期隐患按期整改率", False, lambda c: _ratio(c["on_time"], c["due"])),
    "major_on_time_rate": Indicator(
        "到期重大隐患按期整改率", False, lambda c: _ratio(c["major_on_time"], c["major_due"])),
    "hazards_found_per_10_enterprises": Indicator(
        "每10家监管企业发现隐患数", True, lambda c: _ratio(10 * c["found"], c["enterprises"])),
}


def period_grid(registry: pd.DataFrame, periods: pd.DataFrame) -> pd.DataFrame:
    """Every registry unit x every period (SPEC: every unit gets a row for every month)."""
    units = registry[["unit_id", "name", "group", "enterprises"]].copy()
    for column in ("unit_id", "name", "group"):
        units[column] = units[column].astype("string")
    units["enterprises"] = units["enterprises"].astype("Int64")
    grid = units.merge(periods[["period", "months"]], how="cross")
    return grid[["unit_id", "period", "name", "group", "enterprises", "months"]]


def _inspection_counts(inspections: pd.DataFrame, periods: pd.DataFrame) -> pd.DataFrame:
    frame = inspections_by_period(inspections, periods)
    reviewed = frame["file_review_score"].notna()
    legal_ok = frame["legal_review"] | ~frame["major_decision"]
    counted = pd.DataFrame({
        "unit_id": frame["unit_id"].astype("string"),
        "period": frame["period"],
        "inspections": 1,
        "filed": frame["case_filed"].astype(int),
        "penalized_filed": (frame["penalized"] & frame["case_filed"]).astype(int),
        "random": (frame["mode"] == "双随机").fillna(False).astype(int),
        "cross": (frame["mode"] == "交叉执法").fillna(False).astype(int),
        "reviewed": reviewed.astype(int),
        "review_sum": frame["file_review_score"].astype("Float64").fillna(0.0).astype(float),
        "hazards_found": frame["hazards_found"],
        "quality_ok": (frame["publicized"] & frame["recorded"] & legal_ok).astype(int),
        "publicized": frame["publicized"].astype(int),
        "recorded": frame["recorded"].astype(int),
        "major": frame["major_decision"].astype(int),
        "major_reviewed": (frame["major_decision"] & frame["legal_review"]).astype(int),
    })
    return counted.groupby(KEYS, sort=False).sum().reset_index()


def _hazard_counts(hazards: pd.DataFrame, periods: pd.DataFrame) -> pd.DataFrame:
    deadline = hazards["deadline"].dt.normalize().astype(UNIT)
    rectified = hazards["rectified_at"].dt.normalize().astype(UNIT)
    on_time = (rectified.notna() & (rectified <= deadline)).astype(int)
    major = (hazards["level"] == "重大").fillna(False).astype(int)
    unit = hazards["unit_id"].astype("string")
    found = pd.DataFrame({"unit_id": unit, "period": assign_period(hazards["found_at"], periods),
                          "found": 1})
    due = pd.DataFrame({"unit_id": unit, "period": assign_period(deadline, periods), "due": 1,
                        "on_time": on_time, "major_due": major, "major_on_time": major * on_time})
    parts = [part.dropna(subset=["period"]).groupby(KEYS, sort=False).sum() for part in (found, due)]
    return pd.concat(parts, axis=1).reset_index()


def period_counts(inspections: pd.DataFrame, hazards: pd.DataFrame, registry: pd.DataFrame,
                  periods: pd.DataFrame) -> pd.DataFrame:
    """The grid of units x periods with every count of COUNTS (0 where nothing happened).

    `inspections` is pipeline.events.inspection_events(enforcement); `hazards` the clean table."""
    grid = period_grid(registry, periods)
    for part in (_inspection_counts(inspections, periods), _hazard_counts(hazards, periods)):
        grid = grid.merge(part, on=KEYS, how="left")
    for column in COUNTS:
        if column not in grid:
            grid[column] = 0
        grid[column] = grid[column].fillna(0).astype(float)
    return grid


def indicator_values(counts: pd.DataFrame, names: list[str] | None = None) -> pd.DataFrame:
    """One float column per indicator (NaN = no data), aligned with `counts`."""
    chosen = names if names is not None else list(INDICATORS)
    return pd.DataFrame({name: INDICATORS[name].compute(counts) for name in chosen},
                        index=counts.index, dtype=np.float64)
