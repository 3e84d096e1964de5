"""Sections of the monthly circular (月度排名通报, SPEC "Reports" 1), one call per notebook cell.

Each function takes the loaded tables (report_helpers.ReportData) and the period and returns Html.
"""

from __future__ import annotations

import pandas as pd

from pipeline import charts, narrative
from pipeline import report_helpers as rh
from pipeline import report_tables as rt
from pipeline.report_helpers import Html, ReportData

QUARANTINE_DETAIL_ROWS = 500


def summary(data: ReportData, period: str) -> Html:
    """The auto-written summary, ready to paste into the circular."""
    texts = narrative.circular_summary(period, data.monthly_scores, data.accidents, data.hazards,
                                       registry=data.units, submissions=data.submissions)
    return rh.paragraphs(texts)


def ranking_rows(data: ReportData, period: str) -> pd.DataFrame:
    """The period's ranking in circular order with Chinese headers (also the Excel 排名 sheet)."""
    return data.memo(("ranking_rows", period), lambda: _ranking_rows(data, period))


def _ranking_rows(data: ReportData, period: str) -> pd.DataFrame:
    rows = rt.ranked(data.monthly_scores, period, rt.deaths_by_unit(data.accidents, period))
    # Scoring's own label wins; where it is absent or numeric, the label is derived from the ranks.
    change = rows["rank_move"].map(rt.rank_change_label)
    if "rank_change" in rows and not pd.api.types.is_numeric_dtype(rows["rank_change"]):
        given = rows["rank_change"].astype("string")
        change = given.where(given.notna() & (given != ""), change)
    return pd.DataFrame({
        "排名组": rows["ranking_group"],
        "排名": rows["rank"].astype("Int64"),
        "单位编号": rows["unit_id"],
        "单位": rows["name"],
        "综合得分": rows["score"].astype("float64").round(2),
        "执法质量(A)": rows["A"].astype("float64"),
        "隐患排查治理(B)": rows["B"].astype("float64"),
        "事故控制(C)": rows["C"].astype("float64"),
        "排名变化": change.astype("object"),
        "表扬/通报": _roles(rows),
        "同分排序": rows["tie_break"] if "tie_break" in rows else "",
        "未评项目": _labelled(rows["not_assessed"], data.item_labels) if "not_assessed" in rows else "",
        "标记": rows["flags"] if "flags" in rows else "",
    })


def _labelled(items: pd.Series, labels: dict[str, str]) -> pd.Series:
    """`file_review;penalty_rate` -> `案卷评查、处罚率` (rulebook labels; unknown keys kept)."""
    def label(cell: object) -> object:
        if not isinstance(cell, str) or not cell:
            return cell
        return "、".join(labels.get(key.strip(), key.strip()) for key in cell.replace("；", ";").split(";") if key.strip())
    return items.astype("object").map(label)


def _roles(rows: pd.DataFrame) -> pd.Series:
    """表扬 for the top 3 and 通报 for the bottom 3 of each group (rows in ranking order)."""
    role = pd.Series("", index=rows.index, dtype="object")
    for group in rows["ranking_group"].unique():
        top, bottom = rt.commended_and_named(rows.loc[rows["ranking_group"] == group])
        role[top.index] = "表扬"
        role[bottom.index] = "通报"
    return role


def ranking_tables(data: ReportData, period: str) -> Html:
    """One table per ranking group; the top 3 and bottom 3 are marked as in the summary."""
    rows = ranking_rows(data, period)
    if rows.empty:
        return rh.note(f"{rt.month_label(period)}没有得分数据。")
    return rh.group_tables(rows) + rh.note("排名按综合得分（保留两位小数）竞争排名；同分依次比较执法质量、隐患排查治理、死亡人数、单位编号。")


def component_chart(data: ReportData, period: str) -> Html:
    return rh.figure(charts.component_bars(data.monthly_scores, period), alt="分项得分")


def heatmap(data: ReportData, period: str) -> Html:
    matrix = rt.indicator_matrix(data.monthly_scores, period, data.get("indicators"))
    return rh.figure(charts.indicator_heatmap(matrix, f"{rt.month_label(period)} 单位 × 指标得分率"), alt="指标热力图")


def rank_trend_chart(data: ReportData, period: str, months: int = 6) -> Html:
    history = rt.rank_history(data.monthly_scores, period, months)
    return rh.figure(charts.rank_trends(history, f"近{months}个月排名走势"), alt="排名走势")


def accident_list(data: ReportData, period: str) -> Html:
    """The month's accidents, without personal data: only the columns named here are shown."""
    month = rt.accidents_in(data.accidents, period)
    if month.empty:
        return rh.note(f"{rt.month_label(period)}未发生生产安全事故。")
    names = rt.name_map(data.units)
    shown = pd.DataFrame({
        "事故编号": month["accident_id"],
        "发生时间": month["occurred_at"],
        "属地单位": month["unit_id"].map(names).fillna(month.get("unit")),
        "行业": month["industry"],
        "监管部门": month["department_id"].map(names) if "department_id" in month else "",
        "事故类型": month.get("accident_type", ""),
        "事故发生单位": month.get("enterprise", ""),
        "死亡(含失踪)": month["deaths"],
        "重伤": month.get("serious_injuries", ""),
        "受伤": month.get("injuries", ""),
        "直接经济损失(万元)": month.get("direct_loss_wan", ""),
        "等级": month["level"],
        "迟报": month.get("late_report", ""),
        "瞒报谎报": month.get("concealed", ""),
    })
    serious = month["level"] != "一般"
    return rh.table(shown.reset_index(drop=True), highlight=serious.reset_index(drop=True))


def overdue_hazard_list(data: ReportData, period: str) -> Html:
    """Hazards overdue at the month's end, 重大 first, with days past the deadline."""
    end = rt.period_end(period)
    overdue = rt.overdue_hazards(data.hazards, end)
    if overdue.empty:
        return rh.note(f"截至{rt.day_label(end)}，无逾期未整改隐患。")
    overdue = overdue.assign(_major=overdue["level"] != "重大").sort_values(["_major", "deadline", "unit_id"])
    names = rt.name_map(data.units)
    shown = pd.DataFrame({
        "隐患编号": overdue["hazard_id"],
        "单位": overdue["unit_id"].map(names),
        "企业": overdue.get("enterprise", ""),
        "等级": overdue["level"],
        "发现日期": overdue["found_at"],
        "整改期限": overdue["deadline"],
        "逾期天数": (end.normalize() - overdue["deadline"].dt.normalize()).dt.days,
        "挂牌督办": overdue.get("supervised", ""),
        "来源": overdue["source_file"].astype("string") + " 第" + overdue["source_row"].astype("string") + "行",
    }).reset_index(drop=True)
    return rh.table(shown, highlight=(shown["等级"] == "重大"))


def missing_submissions(data: ReportData, period: str) -> Html:
    """Per unit, the state of every table it owes for the month (按时报送 / 迟报 / 未报送 from the
    runner's submissions table; 有数据 / 无数据 when only the data's dates can tell)."""
    submissions = data.submissions
    month = submissions.loc[submissions["period"].astype("str") == period]
    units = data.units
    shown = pd.DataFrame({"单位编号": units["unit_id"], "单位": units["name"], "排名组": units["ranking_group"]})
    if month.empty:
        return rh.note(f"没有{rt.month_label(period)}的报送记录。")
    if "status" in month:
        state = month["status"].astype("str")
    else:
        state = month["submitted"].map({True: "有数据", False: "无数据"}).astype("str")
        if "rows" in month:
            state = state.where(~month["submitted"], "有数据（" + month["rows"].astype("str") + "行）")
    labels = month["source"].astype("str").map(lambda s: rt.SOURCE_LABELS.get(s, s))
    wide = pd.DataFrame({"unit_id": month["unit_id"].astype("str"), "source": labels, "state": state}) \
        .pivot_table(index="unit_id", columns="source", values="state", aggfunc="first")
    for source in wide.columns:
        shown[source] = units["unit_id"].map(wide[source]).fillna("—（不需报送）")
    missing = rt.missing_submissions(period, units, submissions)
    late = set(month.loc[state == "迟报", "unit_id"].astype("str"))
    flagged = units["unit_id"].isin(set(missing["unit_id"]) | late)
    basis = "" if data.get("submissions") is not None else "（处理后数据中没有 submissions 表，依据各单位执法检查、隐患记录的日期判断）"
    return rh.table(shown, highlight=flagged) + rh.note(f"{len(missing)} 个单位有报表未收到{basis}。")


def _scope(data: ReportData, frame: pd.DataFrame | None, period: str) -> tuple[pd.DataFrame | None, str]:
    """The rows of the month's files (rt.rows_of_period) and how to say so."""
    scoped = rt.rows_of_period(frame, data.files, period)
    where = f"（{rt.month_label(period)}报送的文件）" if "title_period" in data.files else "（全部文件）"
    return scoped, where


def quarantine_summary(data: ReportData, period: str) -> Html:
    """Quarantined rows of the month's files, counted by file, table and reason."""
    quarantine, where = _scope(data, data.quarantine, period)
    if quarantine.empty:
        return rh.note(f"没有隔离的数据行{where}。")
    counts = (quarantine.groupby(["source_file", "table", "reason"], dropna=False).size()
              .rename("行数").reset_index().sort_values(["source_file", "行数"], ascending=[True, False]))
    counts.columns = ["文件", "数据表", "原因", "行数"]
    return rh.table(counts.reset_index(drop=True)) + rh.note(f"共 {len(quarantine)} 个问题{where}。")


def quarantine_detail(data: ReportData, period: str, limit: int = QUARANTINE_DETAIL_ROWS) -> Html:
    """Every quarantined row of the month's files (file, sheet, row, column, raw value, reason),
    the first `limit` shown; on screen only (the PDF keeps the summary)."""
    quarantine, _ = _scope(data, data.quarantine, period)
    if quarantine.empty:
        return Html("")
    shown = quarantine.rename(columns={"source_file": "文件", "source_sheet": "工作表", "source_row": "行号",
                                       "table": "数据表", "column": "列", "raw_value": "原始值", "reason": "原因"})
    shown = shown[["文件", "工作表", "行号", "数据表", "列", "原始值", "原因"]]
    more = rh.note(f"仅列出前 {limit} 行，共 {len(shown)} 行；完整清单见 Excel 附件“隔离数据”表。") if len(shown) > limit else Html("")
    return rh.screen_only(rh.table(shown.head(limit).reset_index(drop=True)) + more, "逐行明细见 HTML 版或 Excel 附件。")


def warnings_list(data: ReportData, period: str, limit: int = QUARANTINE_DETAIL_ROWS) -> Html:
    """Warnings on rows that were kept (duplicates dropped, submitted level differs, fine without
    penalty …): counts by table and kind, then the rows (on screen only)."""
    warnings, where = _scope(data, data.get("warnings"), period)
    if warnings is None or warnings.empty:
        return rh.note(f"没有警告{where}。")
    key = "kind" if "kind" in warnings else "reason"
    counts = warnings.groupby(["table", key], dropna=False).size().rename("条数").reset_index()
    counts.columns = ["数据表", "类别" if key == "kind" else "原因", "条数"]
    labels = {"source_file": "文件", "source_sheet": "工作表", "source_row": "行号", "table": "数据表",
              "column": "列", "raw_value": "原始值", "reason": "原因", "kind": "类别"}
    detail = warnings[[c for c in labels if c in warnings.columns]].rename(columns=labels)
    more = rh.note(f"仅列出前 {limit} 条，共 {len(detail)} 条。") if len(detail) > limit else Html("")
    return (rh.table(counts.sort_values("条数", ascending=False).reset_index(drop=True))
            + rh.note(f"共 {len(warnings)} 条警告{where}。")
            + rh.screen_only(rh.table(detail.head(limit).reset_index(drop=True)) + more))


def files_summary(data: ReportData, period: str) -> Html:
    """The month's input files: type, rows read, clean, quarantined, non-data, duplicates, status.
    Files that could not be read are listed first; the full list is on screen only."""
    files, where = _scope(data, data.files, period)
    if files.empty:
        return rh.note(f"没有文件清单{where}。")
    shown = pd.DataFrame({
        "文件": files["source_file"], "类型": files["source_type"], "工作表": rh.column(files, "source_sheet", "sheet"),
        "读取行数": files["rows_read"], "有效行": files["clean"], "隔离行": files["quarantined"],
        "非数据行": files["nondata"], "重复": files["duplicates"], "状态": files["status"],
        "说明": files["message"], "SHA-256": files["sha256"].astype("string").str[:16],
    })
    failed = (files["status"].astype("string") != "ok").fillna(True).to_numpy()
    shown = pd.concat([shown.loc[failed], shown.loc[~failed]]).reset_index(drop=True)
    flagged = pd.Series([True] * int(failed.sum()) + [False] * int((~failed).sum()))
    totals = (f"共 {files['source_file'].nunique()} 个文件、{len(files)} 个工作表{where}；"
              f"读取 {int(files['rows_read'].fillna(0).sum())} 行，有效 {int(files['clean'].fillna(0).sum())} 行，"
              f"隔离 {int(files['quarantined'].fillna(0).sum())} 行，无法读取 {int(failed.sum())} 个。")
    unreadable = rh.table(shown.loc[flagged.to_numpy()].reset_index(drop=True)) if failed.any() else Html("")
    return rh.note(totals) + unreadable + rh.screen_only(
        Html(f"<details><summary>文件清单（{len(shown)} 行）</summary>{rh.table(shown, highlight=flagged)}</details>"))
