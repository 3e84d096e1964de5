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

from pipeline.periods import UNIT, period_codes

KEYS = ["unit_id", "period"]
COUNTS = ["inspections", "filed", "penalized_filed", "random", "cross", "reviewed", "review_sum",
          "hazards_found", "quality_ok", "publicized", "recorded", "major", "major_reviewed",
          "found", "due", "on_time", "major_due", "major_on_time"]
HAZARD_COUNTS = ("found", "due", "on_time", "major_due", "major_on_time")  # (from hazard records alone)


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


def _coded(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(codes, -1 for NA; labels, object array) of a column, factorized once for all its counts."""
    codes, labels = pd.factorize(values, use_na_sentinel=True)
    return codes.astype(np.int64, copy=False), np.asarray(labels, dtype=object)


def _group_sums(unit: tuple[np.ndarray, np.ndarray], period: tuple[np.ndarray, np.ndarray],
                counts: dict[str, np.ndarray], sums: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """Per (unit_id, period) pair that has rows (neither missing): the sum of each column.

    `unit`, `period`: (codes, -1 for missing; labels), from `_coded` and `periods.period_codes`.
    Whole-number `counts` are summed with np.bincount on one integer key per pair (exact, and
    no frame of millions of rows is built); `sums` (fractional values) by pandas' groupby on the
    same key, so that they are added in the same order and way as a groupby on the labels."""
    (unit_all, unit_labels), (period_all, period_labels) = unit, period
    known = (unit_all >= 0) & (period_all >= 0)
    # One key per (unit, period) pair straight from the codes (a few units x a few periods: no
    # factorizing of millions of codes); the pairs with rows come out in key order.
    width = max(len(period_labels), 1)
    key = unit_all[known].astype(np.int64) * width + period_all[known]
    size = len(unit_labels) * width
    rows = np.bincount(key, minlength=size)
    present = np.flatnonzero(rows)
    out = {"unit_id": pd.array(np.asarray(unit_labels, dtype=object)[present // width], dtype="string"),
           "period": pd.array(np.asarray(period_labels, dtype=object)[present % width], dtype="string")}
    # Every row's key, the rows not counted in a slot of their own past the pairs': a yes/no
    # count is the bincount of its true rows' keys (whole numbers, exact as floats), any other
    # a weighted bincount of the whole column.
    every = np.full(len(known), size, dtype=np.int64)
    every[known] = key
    for name, values in counts.items():
        values = np.asarray(values)
        summed = np.bincount(every[values], minlength=size + 1) if values.dtype == bool \
            else np.bincount(every, weights=values.astype(np.float64, copy=False), minlength=size + 1)
        out[name] = summed[present].astype(np.float64)
    for name, values in (sums or {}).items():
        out[name] = pd.Series(np.asarray(values, dtype=np.float64)[known]).groupby(key).sum() \
            .reindex(present).to_numpy()
    return pd.DataFrame(out)


def inspection_counts(inspections: pd.DataFrame, periods: pd.DataFrame,
                      coded: tuple[np.ndarray, np.ndarray] | None = None) -> pd.DataFrame:
    """The inspections' counts per (unit_id, period) with any: a part of `period_counts` (a caller
    may count the inspections and the hazards on two cores, then `counts_grid`)."""
    frame = inspections  # no copy of the table: every count is a numpy column summed per key

    def flag(column: str) -> np.ndarray:
        return frame[column].to_numpy(dtype=bool)

    reviewed = frame["file_review_score"].notna().to_numpy()
    legal_ok = flag("legal_review") | ~flag("major_decision")
    mode = frame["mode"]
    period = coded if coded is not None else period_codes(frame["inspected_at"], periods)
    return _group_sums(_coded(frame["unit_id"].astype("string")), period, {
        "inspections": np.ones(len(frame)),
        "filed": flag("case_filed"),
        "penalized_filed": flag("penalized") & flag("case_filed"),
        "random": (mode == "双随机").fillna(False).to_numpy(dtype=bool),
        "cross": (mode == "交叉执法").fillna(False).to_numpy(dtype=bool),
        "reviewed": reviewed,
        "hazards_found": frame["hazards_found"].to_numpy(dtype=np.float64),
        "quality_ok": flag("publicized") & flag("recorded") & legal_ok,
        "publicized": flag("publicized"),
        "recorded": flag("recorded"),
        "major": flag("major_decision"),
        "major_reviewed": flag("major_decision") & flag("legal_review"),
    }, {"review_sum": frame["file_review_score"].astype("Float64").fillna(0.0).to_numpy(dtype=np.float64)})


def hazard_counts(hazards: pd.DataFrame, periods: pd.DataFrame) -> pd.DataFrame:
    """The hazards' counts per (unit_id, period) with any: the other part of `period_counts`."""
    deadline = hazards["deadline"].dt.normalize().astype(UNIT)
    rectified = hazards["rectified_at"].dt.normalize().astype(UNIT)
    on_time = (rectified.notna() & (rectified <= deadline)).to_numpy(dtype=bool)
    major = (hazards["level"] == "重大").fillna(False).to_numpy(dtype=bool)
    unit = _coded(hazards["unit_id"].astype("string"))
    found = _group_sums(unit, period_codes(hazards["found_at"], periods), {"found": np.ones(len(hazards))})
    due = _group_sums(unit, period_codes(deadline, periods), {
        "due": np.ones(len(hazards)), "on_time": on_time, "major_due": major, "major_on_time": major & on_time})
    return found.merge(due, on=KEYS, how="outer")


def period_counts(inspections: pd.DataFrame, hazards: pd.DataFrame, registry: pd.DataFrame,
                  periods: pd.DataFrame, coded: tuple[np.ndarray, np.ndarray] | None = None) -> pd.DataFrame:
    """The grid of units x periods with every count of COUNTS (0 where nothing happened).

    `inspections` is pipeline.events.inspection_events(enforcement); `hazards` the clean table;
    `coded`: the inspections' `periods.period_codes`, when the caller has them already."""
    return counts_grid(registry, periods, [inspection_counts(inspections, periods, coded),
                                           hazard_counts(hazards, periods)])


def counts_grid(registry: pd.DataFrame, periods: pd.DataFrame, parts: list[pd.DataFrame]) -> pd.DataFrame:
    """`period_counts` from its parts (`inspection_counts`, `hazard_counts`)."""
    grid = period_grid(registry, periods)
    for part in parts:
        grid = grid.merge(part, on=KEYS, how="left")
    for column in COUNTS:
        if column not in grid:
            grid[column] = 0
        grid[column] = grid[column].fillna(0).astype(float)
    return grid


def summed_counts(counts: pd.DataFrame, months: list[str], registry: pd.DataFrame,
                  period: pd.DataFrame, columns: tuple[str, ...] = HAZARD_COUNTS) -> pd.DataFrame | None:
    """`period_counts` for one period made of whole months, from the months' own counts (the
    rows of `period_counts` over months, `counts`): `columns` summed over `months`, every other
    count 0 (as when no record of that kind is given). Counts are whole numbers, so the sums are
    exact; the year-end assessment counts its year this way instead of going through millions of
    records again. None when `counts` lacks one of the months."""
    chosen = counts.loc[counts["period"].isin(months)]
    if set(chosen["period"].unique()) != set(months):
        return None
    grid = period_grid(registry, period)
    sums = chosen.groupby("unit_id")[list(columns)].sum()
    for column in COUNTS:
        grid[column] = grid["unit_id"].map(sums[column]).fillna(0).astype(float) if column in columns else 0.0
    return grid


def indicator_values(counts: pd.DataFrame, names: list[str] | None = None) -> pd.DataFrame:
    """One float column per indicator (NaN = no data), aligned with `counts`."""
    chosen = names if names is not None else list(INDICATORS)
    return pd.DataFrame({name: INDICATORS[name].compute(counts) for name in chosen},
                        index=counts.index, dtype=np.float64)
