"""What the office circulates besides the HTML: Excel workbooks and the circular as PDF.

Excel (xlsxwriter), safe to open: SPEC "Reports" asks that no cell be one a spreadsheet would run
as a formula. Every value is written with an explicit type (write_string / write_number, with
`strings_to_formulas`, `strings_to_urls` and `strings_to_numbers` off), and, because a text cell
still turns into a formula when someone edits it, re-saves it as CSV or copies it with a script,
text beginning with = + - @ (or a tab / carriage return) is stored with a leading apostrophe `'`
(the OWASP "CSV injection" defence). The apostrophe is visible and says "this was text"; the
workbook's 说明 sheet explains it. Bytes are deterministic: the workbook's created time is fixed
to the end of the reported period and xlsxwriter stamps its zip entries 1980-01-01.
(The circular's PDF is made by pipeline/pdf.py.)
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

from pipeline.fonts import display_width
from pipeline.config import office_name
from pipeline import report_helpers as rh
from pipeline import report_monthly as monthly
from pipeline import report_tables as rt
from pipeline.render import atomic_write_bytes

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# English in brackets after the Chinese header, where it helps a reader outside the office.
ENGLISH = {
    "排名组": "ranking group", "排名": "rank", "单位编号": "unit_id", "单位": "unit", "综合得分": "score",
    "执法质量(A)": "A enforcement", "隐患排查治理(B)": "B hazards", "事故控制(C)": "C accidents",
    "排名变化": "rank change", "表扬/通报": "commended/named", "同分排序": "tie-break",
    "未评项目": "not assessed", "标记": "flags", "A得分率": "A rate", "B得分率": "B rate", "C得分率": "C rate",
    "月份": "period", "分项": "component", "类别": "kind", "规则": "rule", "失分": "points lost",
    "说明": "detail", "记录编号": "record_id",
    "来源文件": "source_file", "来源工作表": "source_sheet", "来源行": "source_row", "文件": "file", "工作表": "sheet", "行号": "row",
    "数据表": "table", "列": "column", "原始值": "raw value", "原因": "reason",
    "执法质量": "enforcement", "隐患排查治理": "hazards", "事故控制": "accidents", "重点工作": "key work",
    "加分": "bonus", "总分": "total", "等级": "grade", "一票否决": "veto", "黄牌警告": "yellow card",
    "最差名次(P95)": "rank p95", "最好名次(P05)": "rank p05", "名次稳健性": "robustness",
    "项目": "item", "内容": "value",
}


def safe_text(text: str) -> str:
    """Text a spreadsheet could take for a formula gets a leading apostrophe; other text is as is."""
    if text.startswith(FORMULA_TRIGGERS) or text.lstrip().startswith(FORMULA_TRIGGERS[:4]):
        return "'" + text
    return text


def header(label: str) -> str:
    english = ENGLISH.get(label)
    return f"{label} ({english})" if english else label


# ------------------------------------------------------------------------------------- workbook
def workbook_bytes(sheets: dict[str, pd.DataFrame], created: datetime, title: str = "") -> bytes:
    """An .xlsx of the frames, one sheet each: header row bold and frozen, filters on, columns sized
    to their content, every value explicitly typed and text neutralised (see module doc)."""
    import io

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {
        "in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
        "strings_to_numbers": False, "nan_inf_to_errors": False,
    })
    book.set_properties({"title": title, "author": office_name(), "created": created,
                         "comments": "由安全生产考评分析流水线生成"})
    styles = {
        "header": book.add_format({"bold": True, "bg_color": "#DCE6F1", "border": 1, "text_wrap": True,
                                   "valign": "vcenter"}),
        "text": book.add_format({"valign": "top"}),
        "int": book.add_format({"num_format": "0"}),
        "float": book.add_format({"num_format": "0.00"}),
        "rate": book.add_format({"num_format": "0.0%"}),
        "date": book.add_format({"num_format": "yyyy-mm-dd"}),
        "datetime": book.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
    }
    for name, frame in sheets.items():
        _write_sheet(book.add_worksheet(name), frame, styles)
    book.close()
    return buffer.getvalue()


def _write_sheet(sheet, frame: pd.DataFrame, styles: dict) -> None:
    headers = [header(str(c)) for c in frame.columns]
    widths = [display_width(h) for h in headers]
    for col, label in enumerate(headers):
        sheet.write_string(0, col, label, styles["header"])
    for col, column in enumerate(frame.columns):
        values = frame[column]
        kind = _kind(values, str(column))
        for row, value in enumerate(values.tolist(), start=1):
            width = _write_cell(sheet, row, col, value, kind, styles)
            widths[col] = max(widths[col], width)
    for col, width in enumerate(widths):
        sheet.set_column(col, col, min(max(width + 2, 6), 60))
    sheet.set_row(0, 30)
    sheet.freeze_panes(1, 0)
    if len(frame.columns):
        sheet.autofilter(0, 0, max(len(frame), 1), len(frame.columns) - 1)


def _kind(values: pd.Series, label: str) -> str:
    if pd.api.types.is_bool_dtype(values):
        return "bool"
    if pd.api.types.is_datetime64_any_dtype(values):
        has_time = bool(((values - values.dt.normalize()).dt.total_seconds().fillna(0) != 0).any())
        return "datetime" if has_time else "date"
    if pd.api.types.is_integer_dtype(values):
        return "int"
    if pd.api.types.is_float_dtype(values):
        return "rate" if label.endswith("得分率") else "float"
    return "text"


def _write_cell(sheet, row: int, col: int, value: object, kind: str, styles: dict) -> int:
    """Write one typed value; returns its display width."""
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        sheet.write_blank(row, col, None)
        return 0
    if kind == "bool" or isinstance(value, (bool, np.bool_)):
        text = "是" if value else "否"
        sheet.write_string(row, col, text, styles["text"])
        return 2
    if kind in ("date", "datetime") and isinstance(value, (pd.Timestamp, datetime)):
        sheet.write_datetime(row, col, pd.Timestamp(value).to_pydatetime(), styles[kind])
        return 16 if kind == "datetime" else 10
    if kind in ("int", "float", "rate") and isinstance(value, (int, float, np.integer, np.floating)):
        sheet.write_number(row, col, float(value), styles[kind])
        return len(f"{value:.2f}") if kind != "int" else len(str(value))
    if isinstance(value, (list, tuple, set, np.ndarray)):
        value = "、".join(map(str, value))
    text = safe_text(str(value))
    sheet.write_string(row, col, text, styles["text"])
    return display_width(text)


def write_workbook(path: Path, sheets: dict[str, pd.DataFrame], created: datetime, title: str = "") -> Path:
    """Write the workbook atomically."""
    atomic_write_bytes(Path(path), workbook_bytes(sheets, created, title))
    return Path(path)


# ---------------------------------------------------------------------------------------- sheets
def about_sheet(report: str, subject: str, data: rh.ReportData, rulebook_path: Path) -> pd.DataFrame:
    """说明: what the workbook is, the rulebook and the data it came from (no generation time, so
    identical data gives an identical file)."""
    version, digest = rh.rulebook_identity(rulebook_path)
    rows = [("报告", report), ("期间", subject), ("规则版本", version), ("规则文件 SHA-256", digest),
            ("编制单位", office_name()),
            ("说明", "以 ' 开头的单元格：原文以 = + - @ 开头，已加 ' 前缀，防止被电子表格当作公式执行。")]
    for name in data.present:
        rows.append((f"数据表 {name}.parquet", f"{data.rows(name)} 行, SHA-256 "
                     f"{rh.file_sha256(data.processed_dir / f'{name}.parquet')}"))
    return pd.DataFrame(rows, columns=["项目", "内容"])


def deduction_rows(data: rh.ReportData, periods: list[str]) -> pd.DataFrame:
    return rt.deduction_view(data.deductions, data.units, periods)


def component_rows(data: rh.ReportData, period: str) -> pd.DataFrame:
    rows = rt.ranked(data.monthly_scores, period)
    shown = pd.DataFrame({"排名组": rows["ranking_group"], "单位编号": rows["unit_id"], "单位": rows["name"]})
    for key, (label, points) in rt.COMPONENTS.items():
        shown[f"{label}({key})"] = rows[key].astype("float64")
        shown[f"{key}得分率"] = rows[key].astype("float64") / points
    shown["综合得分"] = rows["score"].astype("float64")
    indicators = data.get("indicators")
    if indicators is not None and {"item", "points"} <= set(indicators):
        month = indicators.loc[indicators["period"].astype("str") == period]
        wide = month.pivot_table(index="unit_id", columns="item", values="points", aggfunc="first", sort=False)
        # Each item's points under its Chinese name (the rulebook's label), its key in brackets.
        names = {}
        if {"label", "component"} <= set(month):
            pairs = month.drop_duplicates("item")
            names = {item: f"{component}·{label.strip()}" for item, component, label
                     in zip(pairs["item"], pairs["component"], pairs["label"])
                     if isinstance(component, str) and component and isinstance(label, str) and label.strip()}
        for item in wide.columns:
            header = f"{names[item]} ({item})" if item in names else str(item)
            shown[header] = rows["unit_id"].map(wide[item]).astype("float64").to_numpy()
    shown["未评项目"] = rows["not_assessed"] if "not_assessed" in rows else ""
    shown["标记"] = rows["flags"] if "flags" in rows else ""
    return shown.reset_index(drop=True)


def quarantine_rows(data: rh.ReportData) -> pd.DataFrame:
    return data.quarantine.rename(columns={
        "source_file": "文件", "source_sheet": "工作表", "source_row": "行号", "table": "数据表",
        "column": "列", "raw_value": "原始值", "reason": "原因"})


def monthly_sheets(data: rh.ReportData, period: str, rulebook_path: Path) -> dict[str, pd.DataFrame]:
    return {
        "排名": monthly.ranking_rows(data, period),
        "分项得分": component_rows(data, period),
        "扣分明细": deduction_rows(data, [period]),
        "隔离数据": quarantine_rows(data),
        "说明": about_sheet("月度排名通报", period, data, rulebook_path),
    }


def write_monthly_workbook(path: Path, data: rh.ReportData, period: str, rulebook_path: Path) -> Path:
    created = rt.period_end(period).normalize().to_pydatetime()
    return write_workbook(path, monthly_sheets(data, period, rulebook_path), created,
                          f"{rt.month_label(period)} 安全生产月度排名通报")


def annual_sheets(data: rh.ReportData, year: str, rulebook_path: Path) -> dict[str, pd.DataFrame]:
    from pipeline import report_annual as annual

    months = [f"{year}-{m:02d}" for m in range(1, 13)]
    ranks = data.monthly_scores.loc[data.monthly_scores["period"].astype("str").isin(months)]
    wide = ranks.pivot_table(index="unit_id", columns="period", values="rank", aggfunc="first")
    units = data.units.set_index("unit_id")
    trajectory = pd.DataFrame({"排名组": units["ranking_group"], "单位编号": units.index, "单位": units["name"]})
    for period in wide.columns:
        trajectory[f"{period} 排名"] = trajectory["单位编号"].map(wide[period]).astype("Int64")
    return {
        "年度考核": annual.assessment_rows(data, year),
        "月度排名": trajectory.reset_index(drop=True),
        "扣分明细": deduction_rows(data, months),
        "说明": about_sheet("年度考核报告", f"{year}年度", data, rulebook_path),
    }


def write_annual_workbook(path: Path, data: rh.ReportData, year: str, rulebook_path: Path) -> Path:
    return write_workbook(path, annual_sheets(data, str(year), rulebook_path), datetime(int(year), 12, 31),
                          f"{year}年度 安全生产考核")
