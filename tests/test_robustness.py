"""Rank robustness under perturbed annual weights: seeded, renormalised, flags what is not robust."""

from __future__ import annotations

import numpy as np
import pandas as pd

import factories as make
from pipeline.robustness import perturbed_weights, rank_robustness

BOOK = make.rulebook()
NO_EXCLUSIONS = [np.zeros(5, dtype=bool)] * 3


def group(veto=(False,) * 5) -> pd.DataFrame:
    """Five units of one group (components: 执法质量 30, 隐患 25, 事故 30, 重点工作 15)."""
    frame = pd.DataFrame({
        "unit_id": ["U1", "U2", "U3", "U4", "U5"],
        # U1 full marks everywhere: 100 whatever the weights.
        # U2 80.2, almost nothing on 重点工作: weights moving can drop it under 80.
        # U3 65.0 strong on 执法质量, U4 64.9 strong on 隐患: they swap places 3 and 4.
        # U5 far behind.
        "enforcement": [30, 30, 30, 10, 0], "hazards": [25, 25, 5, 25, 0],
        "accidents": [30, 25, 20, 20, 10], "key_work": [15, 0.2, 10, 9.9, 0],
        "bonus": [0.0] * 5, "veto": list(veto), "ranking_group": "属地单位", "group_size": 5,
        "grade": ["优秀", "良好", "合格", "合格", "不合格"], "rank": [1, 2, 3, 4, 5],
        "honour": ["表扬", "表扬", "表扬", "通报", "通报"],
    })
    frame["ranking_group"] = frame["ranking_group"].astype("string")
    return frame


def test_weights_are_seeded_and_renormalised():
    base = np.array([30.0, 25.0, 30.0, 15.0])
    first = perturbed_weights(base, 0.25, 500, seed=1)
    assert first.shape == (500, 4)
    np.testing.assert_allclose(first.sum(axis=1), 100.0)
    np.testing.assert_array_equal(first, perturbed_weights(base, 0.25, 500, seed=1))
    assert not np.array_equal(first, perturbed_weights(base, 0.25, 500, seed=2))
    # Before renormalising each weight moves at most 25%, so a ratio of two weights at most 1.25/0.75.
    ratio = (first[:, 0] / first[:, 3]) / (base[0] / base[3])
    assert ratio.min() >= 0.75 / 1.25 - 1e-12 and ratio.max() <= 1.25 / 0.75 + 1e-12
    np.testing.assert_allclose(perturbed_weights(base, 0.0, 3, seed=1), np.tile(base, (3, 1)))


def test_rank_intervals_and_flags():
    result = rank_robustness(group(), NO_EXCLUSIONS, BOOK).assign(unit_id=group()["unit_id"]).set_index("unit_id")
    assert (result.loc["U1", "rank_p05"], result.loc["U1", "rank_p95"]) == (1, 1)
    assert result.loc["U1", "grade_robust"] and result.loc["U1", "robust_flag"] == ""
    # U3 and U4 swap places: both intervals span 3..4, U3's 表扬 and U4's 通报 are not robust.
    assert (result.loc["U3", "rank_p05"], result.loc["U3", "rank_p95"]) == (3, 4)
    assert (result.loc["U4", "rank_p05"], result.loc["U4", "rank_p95"]) == (3, 4)
    assert not result.loc["U3", "place_robust"] and "“表扬”名次不稳健" in result.loc["U3", "robust_flag"]
    assert not result.loc["U4", "place_robust"] and "“通报”名次不稳健" in result.loc["U4", "robust_flag"]
    # U2's 80.2 falls under 80 (良好 -> 合格) in many draws.
    assert not result.loc["U2", "grade_robust"] and "等级不稳健" in result.loc["U2", "robust_flag"]
    assert result.loc["U5", "place_robust"] and (result.loc["U5", "rank_p05"], result.loc["U5", "rank_p95"]) == (5, 5)


def test_no_perturbation_gives_the_baseline_ranks():
    book = make.edited_rulebook(("perturbation = 0.25", "perturbation = 0.0"))
    result = rank_robustness(group(), NO_EXCLUSIONS, book)
    assert result["rank_p05"].tolist() == [1, 2, 3, 4, 5] == result["rank_p95"].tolist()
    assert result["grade_robust"].all() and result["place_robust"].all()


def test_vetoed_units_stay_behind_every_draw():
    result = rank_robustness(group(veto=(True, False, False, False, False)), NO_EXCLUSIONS, BOOK)
    assert (result["rank_p05"].iloc[0], result["rank_p95"].iloc[0]) == (5, 5)


def test_same_seed_same_result():
    pd.testing.assert_frame_equal(rank_robustness(group(), NO_EXCLUSIONS, BOOK),
                                  rank_robustness(group(), NO_EXCLUSIONS, BOOK))
