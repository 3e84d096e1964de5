"""The circular's summary (月度排名通报 导语), written from the tables, never typed in.

SPEC "Reports" 1: accidents and deaths this month with the change against last month and the same
month last year; per ranking group who leads (top 3, 表扬), who trails (bottom 3, 通报) and who moved
most; the overdue 重大隐患; the units whose data did not arrive. Every number in the text comes from
the frames passed in, so the text and the tables below it cannot disagree.
"""

from __future__ import annotations

import pandas as pd

from pipeline import report_tables as rt


def circular_summary(
    period: str,
    monthly_scores: pd.DataFrame,
    accidents: pd.DataFrame,
    hazards: pd.DataFrame,
    registry: pd.DataFrame | None = None,
    submissions: pd.DataFrame | None = None,
    *,
    top_count: int = 3,
) -> list[str]:
    """Paragraphs of the summary, ready to paste.

    `submissions` (unit_id, period) says who sent data for which month; without it the sentence on
    missing data is left out. Months outside monthly_scores' range count as "no data" for the
    comparisons, not as zero accidents.
    """
    units = rt.units_frame(monthly_scores, registry)
    paragraphs = [accident_sentence(period, accidents, covered=set(monthly_scores["period"].astype("str")))]
    deaths = rt.deaths_by_unit(accidents, period)
    rows = rt.ranked(rt.with_names(monthly_scores, units), period, deaths)
    for group in rt.group_sequence(rows["ranking_group"]):
        paragraphs.append(group_sentence(group, rows.loc[rows["ranking_group"] == group], top_count))
    paragraphs.append(hazard_sentence(period, hazards, rt.name_map(units)))
    if submissions is not None:
        missing = rt.missing_submissions(period, units, submissions)
        paragraphs.append(submission_sentence(period, missing))
    return paragraphs


def accident_sentence(period: str, accidents: pd.DataFrame, covered: set[str]) -> str:
    """Accidents and deaths in the month; change vs last month (环比) and vs last year (同比)."""
    month = rt.accidents_in(accidents, period)
    count, deaths = len(month), int(month["deaths"].fillna(0).sum()) if len(month) else 0
    label = rt.month_label(period)
    if count == 0:
        text = f"{label}，全区未发生生产安全事故。"
    else:
        text = f"{label}，全区共发生生产安全事故{count}起、死亡{deaths}人"
        details = []
        levels = month["level"].value_counts()
        for level in ("特别重大", "重大", "较大"):
            if levels.get(level, 0):
                details.append(f"{level}事故{int(levels[level])}起")
        if "late_report" in month and int(month["late_report"].fillna(False).sum()):
            details.append(f"迟报{int(month['late_report'].fillna(False).sum())}起")
        if "concealed" in month and int(month["concealed"].fillna(False).sum()):
            details.append(f"瞒报谎报{int(month['concealed'].fillna(False).sum())}起")
        text += f"（其中{'，'.join(details)}）。" if details else "。"
    comparisons = []
    for name, other in (("上月", rt.shift_period(period, -1)), ("去年同月", rt.shift_period(period, -12))):
        if other not in covered:
            comparisons.append(f"{name}（{rt.month_label(other)}）无数据，不作比较")
            continue
        before = rt.accidents_in(accidents, other)
        before_deaths = int(before["deaths"].fillna(0).sum()) if len(before) else 0
        comparisons.append(
            f"与{name}（{len(before)}起、死亡{before_deaths}人）相比，事故起数{_change(count, len(before), '起')}，"
            f"死亡人数{_change(deaths, before_deaths, '人')}"
        )
    return text + "；".join(comparisons) + "。"


def group_sentence(group: str, rows: pd.DataFrame, top_count: int = 3) -> str:
    """Top and bottom of one ranking group (rows in ranking order), and the biggest movers."""
    if rows.empty:
        return f"【{group}】本月无排名数据。"
    top, bottom = rt.commended_and_named(rows, top_count)
    leaders = f"前{len(top)}名为" if len(top) > 1 else "第1名为"
    text = f"【{group}】本月综合得分{leaders}：{_scored_names(top)}，予以表扬"
    if len(bottom):
        trailers = f"后{len(bottom)}名为" if len(bottom) > 1 else "末位为"
        text += f"；{trailers}：{_scored_names(bottom)}，予以通报"
    text += "。"
    moves = rows.dropna(subset=["rank_move"])
    if moves.empty:
        return text + "本月为首次排名，无排名变化。"
    up = moves.loc[moves["rank_move"] == moves["rank_move"].max()]
    down = moves.loc[moves["rank_move"] == moves["rank_move"].min()]
    parts = []
    if int(up["rank_move"].iloc[0]) > 0:
        parts.append(f"排名上升最多的是{'、'.join(up['name'])}（上升{int(up['rank_move'].iloc[0])}位）")
    if int(down["rank_move"].iloc[0]) < 0:
        parts.append(f"下降最多的是{'、'.join(down['name'])}（下降{-int(down['rank_move'].iloc[0])}位）")
    if not parts:
        return text + "与上月相比，各单位排名均持平。"
    return text + "与上月相比，" + "，".join(parts) + "。"


def hazard_sentence(period: str, hazards: pd.DataFrame, names: dict[str, str]) -> str:
    """Overdue 重大隐患 at the month's end, with the units that hold them."""
    end = rt.period_end(period)
    overdue = rt.overdue_hazards(hazards, end)
    major = overdue.loc[overdue["level"] == "重大"] if len(overdue) else overdue
    when = f"截至{rt.day_label(end)}"
    if major.empty:
        return f"{when}，全区无逾期未整改重大隐患。"
    per_unit = major.groupby("unit_id").size().sort_values(ascending=False, kind="stable")
    holders = "、".join(f"{names.get(u, u)}（{n}项）" for u, n in per_unit.items())
    text = f"{when}，全区逾期未整改重大隐患{len(major)}项，涉及{holders}"
    supervised = int(major["supervised"].fillna(False).sum()) if "supervised" in major else 0
    if supervised:
        text += f"，其中挂牌督办{supervised}项"
    return text + "，请相关单位立即整改到位。"


def submission_sentence(period: str, missing: pd.DataFrame) -> str:
    """Units whose owed tables for the month did not arrive (rt.missing_submissions)."""
    label = rt.month_label(period)
    if missing.empty:
        return f"{label}各单位报表均已收到。"
    named = "、".join(f"{name}（{sources}）" if sources else str(name)
                     for name, sources in zip(missing["name"], missing["sources"].fillna("")))
    return f"{label}未收到以下{len(missing)}个单位的报表：{named}，请督促报送。"


def _scored_names(rows: pd.DataFrame) -> str:
    return "、".join(f"{name}（{score:.2f}分）" for name, score in zip(rows["name"], rows["score"].astype("float64")))


def _change(now: int, before: int, unit: str) -> str:
    """增加2起（上升50.0%） / 减少1人（下降100.0%） / 持平."""
    diff = now - before
    if diff == 0:
        return "持平"
    word, trend = ("增加", "上升") if diff > 0 else ("减少", "下降")
    share = f"（{trend}{abs(diff) / before:.1%}）" if before else ""
    return f"{word}{abs(diff)}{unit}{share}"
