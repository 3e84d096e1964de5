"""How robust the year-end ranks and grades are to the component weights (rulebook [robustness]).

Each draw scales every annual component weight (执法质量, 隐患排查治理, 事故控制, 重点工作) by an
independent U(1 - perturbation, 1 + perturbation) factor and renormalises the weights to their
original total, so only the balance between components changes, not the scale the grade bands
are read on (SPEC: "component weights are perturbed, for example ±25%"). A unit's perturbed total
is sum(component / its weight x perturbed weight) + its bonus. Ranks per draw: competition
ranking within the ranking group on the total rounded to ranking.decimals, vetoed units after all
others (as in the baseline; the baseline's finer tie-breaks are not replayed — exact ties are rare
once weights move). Grades per draw use pipeline/grading.py.

Output per unit: rank_p05 / rank_p95 (the rulebook's quantiles of the rank over the draws),
grade_share (share of draws giving the baseline grade), and `place_robust` / `grade_robust`:
a grade, or a top/bottom-N place, is robust when it holds in at least min_share of the draws.
Seeded (numpy default_rng(seed)), so the same inputs give the same numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.frames import string_join
from pipeline.grading import grade
from pipeline.rulebook import Rulebook

PARTS = ("enforcement", "hazards", "accidents", "key_work")


def perturbed_weights(base: np.ndarray, perturbation: float, draws: int, seed: int) -> np.ndarray:
    """draws x parts weights, each row scaled by U(1-p, 1+p) and renormalised to base.sum()."""
    rng = np.random.default_rng(seed)
    weights = base * rng.uniform(1 - perturbation, 1 + perturbation, size=(draws, len(base)))
    return weights * (base.sum() / weights.sum(axis=1, keepdims=True))


def _group_ranks(totals: np.ndarray, veto: np.ndarray, groups: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Competition rank from the top and from the bottom, per draw, within each ranking group."""
    key = totals - np.where(veto, 1e9, 0.0)  # vetoed units rank after every other unit
    top = np.full(totals.shape, np.nan)
    bottom = np.full(totals.shape, np.nan)
    for name in groups.dropna().unique():
        cols = np.flatnonzero((groups == name).to_numpy(dtype=bool))
        frame = pd.DataFrame(key[:, cols])
        top[:, cols] = frame.rank(axis=1, method="min", ascending=False).to_numpy()
        bottom[:, cols] = frame.rank(axis=1, method="min", ascending=True).to_numpy()
    return top, bottom


def rank_robustness(annual: pd.DataFrame, excluded: list[np.ndarray], rulebook: Rulebook) -> pd.DataFrame:
    """rank_p05, rank_p95, grade_share, grade_robust, place_robust, robust_flag per row of `annual`.

    `annual` needs PARTS, bonus, veto, ranking_group, group_size, grade and honour columns
    (pipeline/assess.py); `excluded` as for grading.grade."""
    settings, robust = rulebook.annual, rulebook.robustness
    base = np.array([settings.points_of(part) for part in PARTS])
    weights = perturbed_weights(base, robust.perturbation, robust.draws, robust.seed)
    shares = annual[list(PARTS)].to_numpy(dtype=float) / base
    totals = np.round(weights @ shares.T + annual["bonus"].to_numpy(dtype=float), rulebook.decimals)
    veto = annual["veto"].to_numpy(dtype=bool)
    top, bottom = _group_ranks(totals, veto, annual["ranking_group"])
    ranked = annual["ranking_group"].notna().to_numpy()
    low, high = np.full(len(annual), np.nan), np.full(len(annual), np.nan)
    if ranked.any():
        low[ranked], high[ranked] = np.quantile(top[:, ranked], robust.quantiles, axis=0,
                                                method="inverted_cdf")
    size = annual["group_size"].to_numpy(dtype=float, na_value=np.nan)
    grades = grade(totals, top, size, veto, excluded, settings.grades, settings.fail_grade,
                   rulebook.decimals)
    grade_share = (grades == annual["grade"].to_numpy(dtype=object)).mean(axis=0)
    honour = annual["honour"].fillna("").to_numpy(dtype=object)
    in_top = (top <= rulebook.top_n).mean(axis=0)
    in_bottom = ((bottom <= rulebook.bottom_n) & (top > rulebook.top_n)).mean(axis=0)
    place_share = np.where(honour == "表扬", in_top, np.where(honour == "通报", in_bottom, np.nan))
    grade_robust = grade_share >= robust.min_share
    place_robust = np.where(np.isnan(place_share), True, place_share >= robust.min_share)
    percent = np.char.mod("%.0f%%", 100 * np.nan_to_num(place_share)).astype(object)
    flags = string_join([
        np.where(grade_robust, "", "等级不稳健(" + np.char.mod("%.0f%%", 100 * grade_share)
                 .astype(object) + "的抽样保持原等级)"),
        np.where(place_robust, "", "“" + honour + "”名次不稳健(" + percent + "的抽样保持)"),
    ])
    return pd.DataFrame({
        "rank_p05": pd.array(np.where(ranked, low, np.nan), dtype="Float64").astype("Int64"),
        "rank_p95": pd.array(np.where(ranked, high, np.nan), dtype="Float64").astype("Int64"),
        "grade_share": pd.array(grade_share, dtype="Float64"),
        "grade_robust": pd.array(grade_robust, dtype="boolean"),
        "place_robust": pd.array(place_robust, dtype="boolean"),
        "robust_flag": pd.array(flags, dtype="string"),
    }, index=annual.index)
