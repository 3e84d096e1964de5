"""Sections of the year-end assessment report (年度考核报告, SPEC "Reports" 2), one call per cell.

Scores, grades, vetoes and robustness intervals are the annual_assessment table as the assessment
stage wrote it; this module only selects, orders and labels.
"""

from __future__ import annotations

import pandas as pd

from pipeline import charts
from pipeline import report_helpers as rh
from pipeline import report_tables as rt
from pipeline.report_helpers import Html, ReportData

GRADES = ["优秀", "良好", "合格", "不合格"]


def year_rows(data: ReportData, year: str | int) -> pd.DataFrame:
    """The year's assessment in report order (group, then rank), with robustness marks."""
    annual = data.annual_assessment
    rows = annual.loc[annual["year"].astype("string") == str(year)]
    rows = rt.robustness_marks(rt.with_names(rows, data.units))
    order = {g: i for i, g in enumerate(rt.group_sequence(rows["ranking_group"]))}
    return rows.assign(_g=rows["ranking_group"].map(order)).sort_values(["_g", "rank", "unit_id"]).drop(columns="_g")


def assessment_rows(data: ReportData, year: str | int) -> pd.DataFrame:
    """The assessment table with Chinese headers (also the Excel 年度考核 sheet)."""
    rows = year_rows(data, year)
    table = pd.DataFrame({"排名组": rows["ranking_group"], "排名": rows["rank"].astype("Int64"),
                          "单位编号": rows["unit_id"], "单位": rows["name"]})
    for key, (label, _) in rt.ANNUAL_COMPONENTS.items():
        table[label] = rows[key].astype("float64")
    table["总分"] = rows["total"].astype("float64")
    table["等级"] = rows["grade"]
    table["一票否决"] = rows["veto"].astype("boolean")
    table["黄牌警告"] = rows["yellow_card"].astype("boolean")
    table["最好名次(P05)"] = rows["rank_p05"].astype("Int64")
    table["最差名次(P95)"] = rows["rank_p95"].astype("Int64")
    table["名次稳健性"] = rows["robust_note"].where(rows["robust_note"] != "", "稳健")
    return table.reset_index(drop=True)


def overview(data: ReportData, year: str | int) -> Html:
    """Counts by grade, vetoes and yellow cards, and the year's accidents against last year's."""
    rows = year_rows(data, year)
    if rows.empty:
        return rh.note(f"{year}年没有年度考核数据。")
    grades = rows["grade"].value_counts()
    counted = "、".join(f"{g}{int(grades.get(g, 0))}个" for g in GRADES)
    text = [f"{year}年度共考核{len(rows)}个单位：{counted}。"]
    vetoed = rows.loc[rows["veto"].fillna(False).astype(bool), "name"]
    yellow = rows.loc[rows["yellow_card"].fillna(False).astype(bool), "name"]
    text.append(f"一票否决{len(vetoed)}个" + (f"（{'、'.join(vetoed)}）" if len(vetoed) else "")
                + f"，黄牌警告{len(yellow)}个" + (f"（{'、'.join(yellow)}）" if len(yellow) else "") + "。")
    shaky = rows.loc[rows["non_robust"].fillna(False).astype(bool), "name"]
    if len(shaky):
        text.append(f"权重扰动检验中名次不稳健的单位：{'、'.join(shaky)}，其排名和等级宜审慎表述。")
    text.append(_accidents_year_on_year(data, int(year)))
    return rh.paragraphs(text)


def _accidents_year_on_year(data: ReportData, year: int) -> str:
    accidents = data.accidents
    covered = set(data.monthly_scores["period"].astype("str"))

    def totals(y: int) -> tuple[int, int]:
        part = accidents.loc[accidents["occurred_at"].dt.year == y] if len(accidents) else accidents
        return len(part), int(part["deaths"].fillna(0).sum()) if len(part) else 0

    count, deaths = totals(year)
    text = f"全年共发生生产安全事故{count}起、死亡{deaths}人"
    if not any(p.startswith(f"{year - 1}-") for p in covered):
        return text + f"；{year - 1}年无数据，不作同比。"
    before, before_deaths = totals(year - 1)
    return text + f"；{year - 1}年为{before}起、死亡{before_deaths}人。"


def assessment_tables(data: ReportData, year: str | int) -> Html:
    """One table per ranking group; vetoed, yellow-carded and non-robust rows highlighted."""
    table = assessment_rows(data, year)
    if table.empty:
        return rh.note(f"{year}年没有年度考核数据。")
    out = rh.group_tables(table, lambda part: part["一票否决"].fillna(False) | part["黄牌警告"].fillna(False)
                          | (part["名次稳健性"] != "稳健"))
    return out + rh.note("满分：执法质量30、隐患排查治理25、事故控制30、重点工作15，另加分不超过5。"
                         "名次区间为权重扰动下名次的5%–95%分位；区间跨越前3名、后3名或优秀等级界线的标为不稳健。")


def vetoes(data: ReportData, year: str | int) -> Html:
    """Units vetoed (一票否决) or warned (黄牌), with the accidents behind it (charged to the unit
    as territory or as supervising department)."""
    rows = year_rows(data, year)
    flagged = rows.loc[rows["veto"].fillna(False).astype(bool) | rows["yellow_card"].fillna(False).astype(bool)]
    if flagged.empty:
        return rh.note("本年度无一票否决、黄牌警告单位。")
    accidents = data.accidents
    in_year = accidents.loc[accidents["occurred_at"].dt.year == int(year)] if len(accidents) else accidents
    records = []
    for _, row in flagged.iterrows():
        mine = in_year.loc[(in_year["unit_id"] == row["unit_id"]) | (in_year.get("department_id") == row["unit_id"])] if len(in_year) else in_year
        levels = mine["level"].value_counts() if len(mine) else pd.Series(dtype="int64")
        facts = "、".join(f"{lvl}{int(levels[lvl])}起" for lvl in ["特别重大", "重大", "较大", "一般"] if levels.get(lvl, 0))
        concealed = int(mine["concealed"].fillna(False).sum()) if "concealed" in mine and len(mine) else 0
        if concealed:
            facts += f"{'、' if facts else ''}瞒报谎报{concealed}起"
        records.append({
            "单位": row["name"], "结果": "一票否决" if row["veto"] else "黄牌警告", "等级": row["grade"],
            "原因": _text(row.get("veto_reason") if row["veto"] else row.get("yellow_card_reason")),
            "本年事故": facts or "（无）",
        })
    return rh.table(pd.DataFrame(records))


def _text(value: object) -> str:
    return "" if value is None or pd.isna(value) else str(value)


def breakdown_chart(data: ReportData, year: str | int) -> Html:
    return rh.figure(charts.annual_breakdown(year_rows(data, year), year), alt="年度分项得分")


def trajectory_chart(data: ReportData, year: str | int) -> Html:
    history = rt.rank_history(data.monthly_scores, f"{year}-12", 12)
    return rh.figure(charts.rank_trends(history, f"{year}年 各月排名"), alt="月度排名轨迹")


def robustness_chart(data: ReportData, year: str | int) -> Html:
    return rh.figure(charts.robustness_intervals(year_rows(data, year), year), alt="名次稳健性")


def year_on_year(data: ReportData, year: str | int) -> Html:
    """This year against last year, where last year's assessment exists."""
    now = year_rows(data, year)
    before = year_rows(data, int(year) - 1)
    if before.empty:
        return rh.note(f"没有{int(year) - 1}年的年度考核数据，不作同比。")
    before = before.set_index("unit_id")
    table = pd.DataFrame({
        "单位": now["name"],
        f"{int(year) - 1}年总分": now["unit_id"].map(before["total"]).astype("float64"),
        f"{year}年总分": now["total"].astype("float64"),
    })
    table["变化"] = table.iloc[:, 2] - table.iloc[:, 1]
    table[f"{int(year) - 1}年排名"] = now["unit_id"].map(before["rank"]).astype("Int64")
    table[f"{year}年排名"] = now["rank"].astype("Int64")
    table[f"{int(year) - 1}年等级"] = now["unit_id"].map(before["grade"])
    table[f"{year}年等级"] = now["grade"]
    return rh.table(table.reset_index(drop=True))
