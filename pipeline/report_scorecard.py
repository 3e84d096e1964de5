"""Sections of a unit's scorecard (单位成绩单, SPEC "Reports" 3), one call per notebook cell:
its indicators against targets, its place in its group, and every deduction with the rule and the
source record it came from (file and row as the analyst sees them in the workbook).
"""

from __future__ import annotations

import pandas as pd

from pipeline import charts
from pipeline import report_helpers as rh
from pipeline import report_monthly as monthly
from pipeline import report_tables as rt
from pipeline.report_helpers import Html, ReportData


def page(data: ReportData, unit_id: str, period: str, processed_dir: str, rulebook: str) -> list[Html]:
    """One unit's scorecard, section by section (notebooks/unit_scorecard.py shows one per unit)."""
    return [
        title(data, unit_id, period),
        rh.heading("一、本月成绩", 2),
        overview(data, unit_id, period),
        rh.heading("二、指标与目标", 2),
        indicators(data, unit_id, period),
        rh.heading("三、组内位置", 2),
        position(data, unit_id, period),
        trend_chart(data, unit_id, period),
        rh.heading("四、扣分明细（每项扣分的规则与来源记录）", 2),
        deductions(data, unit_id, period),
        rh.provenance(data, {"UNIT_ID": unit_id, "PERIOD": period, "PROCESSED_DIR": processed_dir,
                             "RULEBOOK": rulebook}, rulebook),
    ]


def unit_name(data: ReportData, unit_id: str) -> str:
    return rt.name_map(data.units).get(unit_id, unit_id)


def title(data: ReportData, unit_id: str, period: str) -> Html:
    return rh.title("考评成绩单", period, unit_name=f"{unit_name(data, unit_id)}（{unit_id}）")


def overview(data: ReportData, unit_id: str, period: str) -> Html:
    """Score, place in the group, change, and the three components against their full marks."""
    rows = monthly.ranking_rows(data, period)
    mine = rows.loc[rows["单位编号"] == unit_id]
    if mine.empty:
        return rh.note(f"{rt.month_label(period)}没有该单位的得分数据。")
    row = mine.iloc[0]
    size = int((rows["排名组"] == row["排名组"]).sum())
    facts = pd.DataFrame([
        ("综合得分", f"{row['综合得分']:.2f}（满分100）"),
        ("组内排名", f"{row['排名组']} 第{row['排名']}名 / 共{size}个单位"),
        ("排名变化", row["排名变化"]),
        ("表扬/通报", row["表扬/通报"] or "—"),
        ("执法质量(A)", f"{row['执法质量(A)']:.2f} / 40"),
        ("隐患排查治理(B)", f"{row['隐患排查治理(B)']:.2f} / 30"),
        ("事故控制(C)", f"{row['事故控制(C)']:.2f} / 30"),
        ("未评项目", row["未评项目"] or "—"),
        ("标记", row["标记"] or "—"),
    ], columns=["项目", "内容"])
    return rh.table(facts, classes="report-table meta")


def indicators(data: ReportData, unit_id: str, period: str) -> Html:
    """Each scored indicator: actual value, target, points earned and available. Uses the long
    `indicators` table (unit_id, period, component, item, actual, target, points, max_points) when
    scoring writes one; otherwise the components only, and says so."""
    table = data.get("indicators")
    if table is not None and not table.empty:
        parts = _period_indicators(data, period)
        shown = parts.get(unit_id, parts[None])
        short = None
        if {"得分", "满分"} <= set(shown.columns):
            short = shown["得分"].astype("float64") < shown["满分"].astype("float64") - 1e-9
        return rh.table(shown, highlight=short)
    row = _period_scores(data, period).get(unit_id)
    if row is None:
        return rh.note("没有该单位本月的得分数据。")
    shown = pd.DataFrame([
        {"分项": f"{label}({key})", "得分": float(row[key]), "满分": points, "得分率": f"{float(row[key]) / points:.1%}"}
        for key, (label, points) in rt.COMPONENTS.items()
    ])
    return rh.table(shown) + rh.note("分项指标明细（实际值、目标值）未提供：处理后数据中没有 indicators 数据表。")


def _period_indicators(data: ReportData, period: str) -> dict[str | None, pd.DataFrame]:
    """The month's indicator rows as the scorecard shows them, per unit (None: an empty one),
    split once for every scorecard of the month."""
    def make() -> dict[str | None, pd.DataFrame]:
        table = data.get("indicators")
        month = table.loc[table["period"].astype("str") == period]
        if "label" in month.columns:  # the rulebook's Chinese name of the indicator, not its key
            month = month.assign(item=month["label"].where(month["label"].notna(), month["item"]))
        labels = {"component": "分项", "item": "指标", "actual": "实际值", "target": "目标值",
                  "points": "得分", "max_points": "满分", "note": "说明"}
        shown = month[[c for c in labels if c in month.columns]].rename(columns=labels)
        units = month["unit_id"].astype("str").to_numpy()
        parts = {unit: shown.loc[units == unit].reset_index(drop=True) for unit in dict.fromkeys(units)}
        return {**parts, None: shown.head(0).reset_index(drop=True)}

    return data.memo(("unit_indicators", period), make)


def _period_scores(data: ReportData, period: str) -> dict[str, pd.Series]:
    """Each unit's monthly_scores row for the month (its first, should there be two)."""
    def make() -> dict[str, pd.Series]:
        rows = data.monthly_scores
        month = rows.loc[rows["period"] == period].dropna(subset=["unit_id"]).drop_duplicates("unit_id")
        return {str(unit): month.iloc[position] for position, unit in enumerate(month["unit_id"])}

    return data.memo(("unit_scores", period), make)


def position(data: ReportData, unit_id: str, period: str) -> Html:
    """The unit's ranking group for the month, the unit's row highlighted."""
    rows = monthly.ranking_rows(data, period)
    mine = rows.loc[rows["单位编号"] == unit_id]
    if mine.empty:
        return Html("")
    group = rows.loc[rows["排名组"] == mine.iloc[0]["排名组"]].drop(columns=["排名组"]).reset_index(drop=True)
    return rh.table(group, highlight=group["单位编号"] == unit_id, classes="report-table ranking")


def trend_chart(data: ReportData, unit_id: str, period: str, months: int = 6) -> Html:
    history = data.memo(("rank_history", period, months), lambda: rt.rank_history(data.monthly_scores, period, months))
    own_group = history.loc[history["unit_id"] == unit_id, "ranking_group"]
    if len(own_group):
        history = history.loc[history["ranking_group"] == own_group.iloc[0]]
    title = f"{unit_name(data, unit_id)} 所在组近{months}个月排名"
    return rh.figure(charts.rank_trends(history, title, highlight=unit_id), alt="排名走势")


# The clean table a component's deduction records come from (SPEC "Scoring": A enforcement,
# B hazards, C accidents).
RECORD_TABLE = {"A": "enforcement", "B": "hazards", "C": "accidents"}


def record_summaries(data: ReportData, view: pd.DataFrame) -> list[str]:
    """For each deduction row (deduction_view), a one-line description of the clean record at its
    source place (file, sheet, row) in its component's table; empty when it has no record."""

    def day(value) -> str:
        return "" if pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")

    def text(value) -> str:
        return "" if value is None or pd.isna(value) else str(value)

    def yes(value) -> bool:
        return value is not None and not pd.isna(value) and bool(value)

    describe = {
        "enforcement": lambda r: f"执法检查 {day(r.inspected_at)} {text(getattr(r, 'enterprise', None))}",
        "hazards": lambda r: f"{r.level}隐患 {text(getattr(r, 'hazard_id', None))} 期限{day(r.deadline)}，"
                             + (f"{day(r.rectified_at)}整改" if not pd.isna(r.rectified_at) else "未整改"),
        "accidents": lambda r: f"{r.level}事故 {day(r.occurred_at)} 死亡{r.deaths}人"
                               + ("，迟报" if yes(getattr(r, "late_report", None)) else ""),
    }
    # The (file, row) places the deductions name, per table: only those records are described
    # (a month's few hundred, not the thousands sharing a file or a row number with one).
    rows = pd.to_numeric(view["来源行"], errors="coerce")
    places: dict[str, set[tuple[str, int]]] = {}
    for component, file, row in zip(view["分项"], view["来源文件"], rows):
        if RECORD_TABLE.get(str(component)) and not pd.isna(file) and not pd.isna(row):
            places.setdefault(RECORD_TABLE[str(component)], set()).add((str(file), int(row)))
    found: dict[tuple, str] = {}
    for table, explain in describe.items():
        frame = data.get(table)
        if frame is None or frame.empty or table not in places:
            continue
        keys = pd.MultiIndex.from_arrays([frame["source_file"].astype("str"),
                                          pd.to_numeric(frame["source_row"], errors="coerce")])
        frame = frame.loc[keys.isin(list(places[table]))]
        for row in frame.itertuples(index=False):
            sheet = text(getattr(row, "source_sheet", None))
            place = (table, str(row.source_file), int(row.source_row))
            found[place + (sheet,)] = found[place + ("",)] = explain(row)
    out = []
    for component, file, sheet, row in view[["分项", "来源文件", "来源工作表", "来源行"]].itertuples(index=False):
        table = RECORD_TABLE.get(str(component))
        if table is None or pd.isna(file) or pd.isna(row):
            out.append("")
            continue
        out.append(found.get((table, str(file), int(row), text(sheet)), ""))
    return out


def period_deductions(data: ReportData, period: str) -> pd.DataFrame:
    """Every unit's deductions of the month (deduction_view) with 记录内容, worked out once for all
    the month's scorecards."""
    def make() -> pd.DataFrame:
        view = rt.deduction_view(data.deductions, data.units, [period])
        view["记录内容"] = record_summaries(data, view) if not view.empty else pd.Series(dtype="object")
        return view

    return data.memo(("period_deductions", period), make)


def deductions(data: ReportData, unit_id: str, period: str) -> Html:
    """Every point the unit lost this month: component, why, rule, points, and the source record
    (file, row, and what the clean record at that place says)."""
    view = _unit_deductions(data, period).get(unit_id)
    if view is None:
        return rh.note("本月无失分。")
    totals = view.groupby("分项")["失分"].sum()
    mine = _period_scores(data, period).get(unit_id)
    parts = []
    for component, lost in totals.items():
        text = f"{component} 共失分 {lost:.2f}"
        if component in rt.COMPONENTS and mine is not None:
            text += f"（满分 {rt.COMPONENTS[component][1]:.0f}，本月得分 {float(mine[component]):.2f}）"
        parts.append(text)
    return rh.table(view) + rh.note("；".join(parts))


def _unit_deductions(data: ReportData, period: str) -> dict[str, pd.DataFrame]:
    """The month's deductions per unit as its scorecard lists them, split once for the month."""
    def make() -> dict[str, pd.DataFrame]:
        view = period_deductions(data, period)
        units = view["单位编号"].astype("str").to_numpy()
        known = view["单位编号"].notna().to_numpy()
        shown = view.drop(columns=["月份", "单位编号", "单位"])
        return {unit: shown.loc[known & (units == unit)].reset_index(drop=True) for unit in dict.fromkeys(units[known])}

    return data.memo(("unit_deductions", period), make)
