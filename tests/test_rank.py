"""Competition ranking, tie-breaks, rank change and the 表扬/通报 lists (SPEC "Ranking")."""

from __future__ import annotations

import pandas as pd

import factories as make
from pipeline.rank import honour_lists, rank_months

BOOK = make.rulebook()


def scores(rows: list[tuple], period: str = "2020-03") -> pd.DataFrame:
    """rows: (unit_id, score, A, B, deaths[, group])."""
    return pd.DataFrame({
        "unit_id": [r[0] for r in rows], "period": period, "name": [f"单位{r[0]}" for r in rows],
        "group": [r[5] if len(r) > 5 else "办事处" for r in rows],
        "score": [r[1] for r in rows], "A": [r[2] for r in rows], "B": [r[3] for r in rows],
        "deaths": [r[4] for r in rows],
    })


def ranks(frame: pd.DataFrame) -> dict[str, int]:
    ranked = rank_months(frame, BOOK)
    return dict(zip(ranked["unit_id"], ranked["rank"]))


def test_competition_ranking_with_a_full_tie_is_1_2_2_4():
    ranked = rank_months(scores([("T01", 90, 30, 30, 0), ("T02", 80, 30, 20, 0),
                                 ("T03", 80, 30, 20, 0), ("T04", 70, 20, 20, 0)]), BOOK)
    assert dict(zip(ranked["unit_id"], ranked["rank"])) == {"T01": 1, "T02": 2, "T03": 2, "T04": 4}
    notes = dict(zip(ranked["unit_id"], ranked["tie_break"]))
    assert pd.isna(notes["T01"]) and pd.isna(notes["T04"])
    assert notes["T02"] == "同分(80.00):T02、T03;各项相同,并列第2名,按单位编号列示"


def test_scores_are_compared_rounded_to_two_decimals():
    # 80.004 and 79.996 both show as 80.00: tied (A and B equal too).
    assert ranks(scores([("T01", 80.004, 30, 20, 0), ("T02", 79.996, 30, 20, 0),
                         ("T03", 79.994, 30, 20, 0)])) == {"T01": 1, "T02": 1, "T03": 3}


def test_tie_broken_by_a_then_b_then_fewer_deaths():
    ranked = rank_months(scores([
        ("T01", 80, 25, 25, 0),  # A 25 beats A 20 at the same score
        ("T02", 80, 20, 30, 0),  # same A as T03, higher B
        ("T03", 80, 20, 28, 0),  # same A and B as T04 (B rounded), fewer deaths
        ("T04", 80, 20, 28.001, 1),
        ("T05", 80, 20, 28, 0),  # identical to T03: shares its rank, listed after it
    ]), BOOK)
    assert dict(zip(ranked["unit_id"], ranked["rank"])) == {"T01": 1, "T02": 2, "T03": 3, "T05": 3, "T04": 5}
    notes = dict(zip(ranked["unit_id"], ranked["tie_break"]))
    assert notes["T01"].endswith("按执法质量得分(A)高者在前区分")
    assert notes["T02"].endswith("按隐患排查治理得分(B)高者在前区分")
    assert notes["T04"].endswith("按死亡人数少者在前区分")
    assert notes["T03"].endswith("各项相同,并列第3名,按单位编号列示")
    assert notes["T01"].startswith("同分(80.00):T01、T02、T03、T05、T04")


def test_groups_are_ranked_separately():
    got = ranks(scores([("T01", 70, 0, 0, 0), ("T06", 60, 0, 0, 0, "管理处"),
                        ("D01", 50, 0, 0, 0, "成员单位"), ("D02", 40, 0, 0, 0, "成员单位")]))
    assert got == {"T01": 1, "T06": 2, "D01": 1, "D02": 2}


def test_rank_change_up_down_same_and_new():
    before = scores([("T01", 90, 0, 0, 0), ("T02", 80, 0, 0, 0), ("T03", 70, 0, 0, 0)], "2020-02")
    now = scores([("T03", 95, 0, 0, 0), ("T01", 85, 0, 0, 0), ("T02", 75, 0, 0, 0),
                  ("T04", 60, 0, 0, 0)], "2020-03")  # T04 is new this month
    ranked = rank_months(pd.concat([before, now], ignore_index=True), BOOK)
    march = ranked.loc[ranked["period"] == "2020-03"]
    # T03: 3 -> 1 = ↑2; T01: 1 -> 2 = ↓1; T02: 2 -> 3 = ↓1; T04 no rank in February = 新
    assert dict(zip(march["unit_id"], march["rank_change"])) == {"T03": "↑2", "T01": "↓1", "T02": "↓1", "T04": "新"}
    february = ranked.loc[ranked["period"] == "2020-02"]
    assert set(february["rank_change"]) == {"新"}  # the first month of the data
    steady = rank_months(pd.concat([before, before.assign(period="2020-03")]), BOOK)
    assert set(steady.loc[steady["period"] == "2020-03", "rank_change"]) == {"持平"}


def test_top_three_commended_bottom_three_named_ties_included():
    rows = [(f"T0{i}", s, 0, 0, 0) for i, s in enumerate([95, 90, 85, 85, 70, 60, 55, 50], start=1)]
    ranked = rank_months(scores(rows), BOOK)
    honours = dict(zip(ranked["unit_id"], ranked["honour"].fillna("")))
    # ranks 1, 2, 3, 3, 5, 6, 7, 8: the tie at 3 puts four units in the top list
    assert [u for u, h in honours.items() if h == "表扬"] == ["T01", "T02", "T03", "T04"]
    assert [u for u, h in honours.items() if h == "通报"] == ["T06", "T07", "T08"]
    assert honours["T05"] == ""
    lists = honour_lists(ranked)
    assert lists["honour"].tolist() == ["表扬"] * 4 + ["通报"] * 3
    assert lists.columns[:5].tolist() == ["period", "ranking_group", "honour", "rank", "unit_id"]


def test_a_small_group_never_names_a_commended_unit():
    ranked = rank_months(scores([("T01", 90, 0, 0, 0), ("T02", 80, 0, 0, 0), ("T03", 70, 0, 0, 0),
                                 ("T04", 60, 0, 0, 0)]), BOOK)
    assert ranked["honour"].tolist() == ["表扬", "表扬", "表扬", "通报"]
