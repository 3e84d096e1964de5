"""Ranking within ranking groups, tie-break notes, rank change and the 表扬/通报 lists (SPEC "Ranking").

Rank = competition ranking (1, 2, 2, 4) within each period and ranking group (rulebook
[[ranking.groups]]: 属地单位 = 办事处 + 管理处, 成员单位) on the score rounded to
ranking.decimals. Equal rounded scores are separated, in the order of ranking.tie_breaks, by
higher A, then higher B (also rounded), then fewer deaths. Units equal on all of these keep the
same rank and are listed by unit_id — an identifier is an ordering, not a merit, so it does not
split a rank. `tie_break` says, for each unit with an equal rounded score, which key decided.
Top list (表扬): rank <= ranking.top_n. Bottom list (通报): rank counted from the bottom <=
ranking.bottom_n and not already commended. Ties at a boundary are all included.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.frames import fixed
from pipeline.periods import month_index
from pipeline.rulebook import Rulebook

TIE_BREAK_LABELS = {
    "A": "执法质量得分(A)高者在前", "B": "隐患排查治理得分(B)高者在前",
    "C": "事故控制得分(C)高者在前", "deaths": "死亡人数少者在前",
    "enforcement": "执法质量得分高者在前", "hazards": "隐患排查治理得分高者在前",
    "accidents": "事故控制得分高者在前",
}
COMMENDED, NAMED = "表扬", "通报"


def _key(values: pd.Series, higher_is_better: bool, decimals: int) -> pd.Series:
    rounded = values.astype(float).round(decimals)
    return (-rounded if higher_is_better else rounded) + 0.0  # + 0.0 turns -0.0 into 0.0


def competition_rank(frame: pd.DataFrame, score: str, tie_breaks: list[tuple[str, bool]],
                     within: list[str], decimals: int, first: str | None = None) -> pd.DataFrame:
    """rank, rank_from_bottom, group_size and tie_break for each row of `frame` (same index).

    `tie_breaks`: (column, higher_is_better) pairs. `first`: a yes/no column that puts the rows
    where it is true after all others (year-end veto). Rows with a missing `within` value are
    not ranked (NA)."""
    result = pd.DataFrame(index=frame.index, columns=["rank", "rank_from_bottom", "group_size"],
                          dtype="Int64")
    result["tie_break"] = pd.Series(pd.NA, index=frame.index, dtype="string")
    work = frame.loc[frame[within].notna().all(axis=1), within + ["unit_id"]].copy()
    if work.empty:
        return result
    lead = ["_veto"] if first else []
    if first:
        work["_veto"] = frame.loc[work.index, first].astype(bool).astype(int)
    work["_score"] = _key(frame.loc[work.index, score], True, decimals)
    breaks = [f"_t{i}" for i in range(len(tie_breaks))]
    for name, (column, higher) in zip(breaks, tie_breaks):
        work[name] = _key(frame.loc[work.index, column], higher, decimals)
    work = work.sort_values(within + lead + ["_score"] + breaks + ["unit_id"], kind="mergesort")
    work["_pos"] = work.groupby(within, sort=False).cumcount() + 1
    tied = work.groupby(within + lead + ["_score"] + breaks, sort=False)["_pos"]
    size = work.groupby(within, sort=False)["_pos"].transform("max")
    result.loc[work.index, "rank"] = tied.transform("min").astype("Int64")
    result.loc[work.index, "rank_from_bottom"] = (size - tied.transform("max") + 1).astype("Int64")
    result.loc[work.index, "group_size"] = size.astype("Int64")
    labels = [TIE_BREAK_LABELS.get(column, column) for column, _ in tie_breaks]
    result.loc[work.index, "tie_break"] = _tie_notes(work, within + lead + ["_score"], breaks,
                                                     labels, result.loc[work.index, "rank"])
    return result


def _tie_notes(work: pd.DataFrame, cluster_keys: list[str], breaks: list[str], labels: list[str],
               rank: pd.Series) -> pd.Series:
    """For rows sharing a rounded score: '同分(85.00):T01、T02;按…区分' or '…各项相同,并列'."""
    cluster = work.groupby(cluster_keys, sort=False).ngroup().to_numpy()
    size = pd.Series(cluster).map(pd.Series(cluster).value_counts()).to_numpy()
    depth = len(breaks)

    def level(shift: int) -> tuple[np.ndarray, np.ndarray]:
        same = cluster == np.roll(cluster, shift)
        if shift > 0:
            same[:shift] = False
        else:
            same[shift:] = False
        first_diff = np.full(len(work), depth)
        for i in reversed(range(depth)):
            values = work[breaks[i]].to_numpy()
            first_diff = np.where(values != np.roll(values, shift), i, first_diff)
        return same, first_diff

    prev_same, prev_level = level(1)
    next_same, next_level = level(-1)
    decisive = np.maximum(np.where(prev_same, prev_level, -1), np.where(next_same, next_level, -1))
    members = work.groupby(cluster, sort=False)["unit_id"].agg("、".join)
    names = pd.Series(cluster).map(members).to_numpy(dtype=object)
    score_text = fixed(-work["_score"].to_numpy(dtype=float))
    how = np.array(labels + ["各项相同,并列"], dtype=object)[np.clip(decisive, 0, depth)]
    how = np.where(decisive >= depth, "各项相同,并列第" + rank.astype("string").to_numpy(
        dtype=object) + "名,按单位编号列示", "按" + how + "区分")
    note = "同分(" + score_text + "):" + names + ";" + how
    return pd.Series(np.where(size > 1, note, None), index=work.index, dtype="string")


def rank_change(frame: pd.DataFrame) -> pd.Series:
    """Against the unit's rank in the calendar month before: ↑n (better), ↓n, 持平, or 新 (no
    rank last month: first month of the data, or the unit was not ranked then)."""
    index = month_index(frame["period"])
    current = pd.DataFrame({"unit_id": frame["unit_id"].to_numpy(), "_m": index})
    before = pd.DataFrame({"unit_id": frame["unit_id"].to_numpy(), "_m": index + 1,
                           "_prev": frame["rank"].astype("Int64").to_numpy()})
    before = before.dropna(subset=["_prev"])
    prev = current.merge(before, on=["unit_id", "_m"], how="left")["_prev"].astype("Int64")
    change = (prev - frame["rank"].astype("Int64").to_numpy()).to_numpy(dtype=float, na_value=np.nan)
    text = np.where(np.isnan(change), "新", np.where(change > 0, "↑", np.where(change < 0, "↓", "持平")))
    magnitude = np.where(np.isnan(change) | (change == 0), "",
                         np.abs(np.nan_to_num(change)).astype(int).astype(str))
    result = pd.Series(text.astype(object) + magnitude.astype(object), index=frame.index, dtype="string")
    return result.where(frame["rank"].notna().to_numpy(), pd.NA)


def honours(ranked: pd.DataFrame, top_n: int, bottom_n: int) -> pd.Series:
    """表扬 for rank <= top_n, 通报 for rank-from-bottom <= bottom_n (never both)."""
    top = (ranked["rank"] <= top_n).fillna(False).to_numpy(dtype=bool)
    bottom = (ranked["rank_from_bottom"] <= bottom_n).fillna(False).to_numpy(dtype=bool) & ~top
    return pd.Series(np.where(top, COMMENDED, np.where(bottom, NAMED, None)), index=ranked.index,
                     dtype="string")


def rank_months(scores: pd.DataFrame, rulebook: Rulebook) -> pd.DataFrame:
    """Adds ranking_group, rank, rank_from_bottom, group_size, tie_break, rank_change and honour."""
    frame = scores.reset_index(drop=True)
    frame["ranking_group"] = frame["group"].map(rulebook.ranking_group_of()).astype("string")
    tie_breaks = [(column, column != "deaths") for column in rulebook.tie_breaks]
    ranked = competition_rank(frame, "score", tie_breaks, ["period", "ranking_group"], rulebook.decimals)
    frame = frame.join(ranked)
    frame["rank_change"] = rank_change(frame)
    frame["honour"] = honours(frame, rulebook.top_n, rulebook.bottom_n)
    return frame


def honour_lists(monthly_scores: pd.DataFrame, period: str | None = None) -> pd.DataFrame:
    """The circular's 表扬 and 通报 lists for `period` (default: the latest), best first."""
    if monthly_scores.empty:
        return monthly_scores.head(0)
    period = period or monthly_scores["period"].max()
    chosen = monthly_scores.loc[(monthly_scores["period"] == period) & monthly_scores["honour"].notna()]
    columns = ["period", "ranking_group", "honour", "rank", "unit_id", "name", "score", "rank_change"]
    return chosen.sort_values(["ranking_group", "rank", "unit_id"], kind="mergesort")[columns] \
        .reset_index(drop=True)
