"""Submission templates (报送模板): one workbook per unit and month, so messy input is fixed at its source.

Each data sheet has the layout real submissions have, which the reader already understands:
row 1 the title (`2020年3月执法检查统计表`), row 2 `填报单位:<name>` with a `填报日期:` label and a
date cell beside it, row 3 the header (first alias of each canonical column, `*` on required ones),
then `data_rows` rows for data. Excel itself refuses what the cleaner would quarantine: drop-downs for
enumerations, 是/否 and registry names; date, whole-number and decimal limits elsewhere. The unit's
own name is pre-filled and locked (sheet protection without a password: it prevents accidents, it is
not security). A 填报说明 sheet, generated from the ingest rulebook, explains every column.

Bytes are deterministic (fixed created time, xlsxwriter's fixed zip times), so re-running a month
rewrites identical files.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from pathlib import Path

import openpyxl
import pandas as pd
import xlsxwriter

from pipeline.errors import InputError
from pipeline.registry import normalise_name
from pipeline.template_layout import (
    DEFAULT_SOURCES_BY_GROUP, INSTRUCTION_HEADER, SheetSpec, instruction_rows,
    parse_period, sheet_specs,
)

TITLE_ROW, UNIT_ROW, HEADER_ROW, FIRST_DATA_ROW = 1, 2, 3, 4  # 1-based, as the analyst sees them
DATA_ROWS = 200
GUIDE_SHEET = "填报说明"
LISTS_SHEET = "_lists"
REPORT_DATE_LABEL = "填报日期:"
INLINE_LIST_LIMIT = 255  # Excel's limit on an inline drop-down list ("a,b,c")
DATE_MIN, DATE_MAX = dt.date(2000, 1, 1), dt.date(2099, 12, 31)
NUM_FORMATS = {
    "date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm", "count": "0", "money_wan": "0.00##",
    "score": "0.##", "year": "0",
}
# Validation (xlsxwriter options) and the Chinese prompt per column kind; lists are added per column.
CHECKS: dict[str, tuple[dict, str]] = {
    "date": ({"validate": "date", "criteria": "between", "minimum": DATE_MIN, "maximum": DATE_MAX},
             "请输入2000-01-01至2099-12-31之间的日期,如 2020-03-05"),
    "datetime": ({"validate": "date", "criteria": "between", "minimum": dt.datetime(2000, 1, 1),
                  "maximum": dt.datetime(2099, 12, 31, 23, 59)},
                 "请输入日期和时间,如 2020-03-05 14:30"),
    "count": ({"validate": "integer", "criteria": ">=", "value": 0}, "请输入不小于0的整数"),
    "money_wan": ({"validate": "decimal", "criteria": ">=", "value": 0}, "请输入不小于0的金额,单位万元"),
    "score": ({"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 100},
              "请输入0到100之间的分数"),
    "year": ({"validate": "integer", "criteria": "between", "minimum": 2000, "maximum": 2099},
             "请输入四位年份,如 2020"),
    "credit_code": ({"validate": "length", "criteria": "==", "value": 18}, "统一社会信用代码应为18位"),
}
UNSAFE_FILENAME = re.compile(r'[\\/:*?"<>|\s]+')


def template_name(period: str, unit_name: str) -> str:
    """`2020-03_南湖办事处_报送模板.xlsx`: period and registry name first, so the reader finds both."""
    return f"{period}_{UNSAFE_FILENAME.sub('_', unit_name)}_报送模板.xlsx"


def write_templates(period: str, registry: pd.DataFrame, ingest_rules: dict, out_dir: Path, *,
                    sources_by_group: Mapping[str, tuple[str, ...]] | None = None,
                    data_rows: int = DATA_ROWS, deadline_day: int | None = None) -> list[Path]:
    """Write `out_dir/<period>/<period>_<name>_报送模板.xlsx` for every registry unit; return the paths.

    `sources_by_group` (default DEFAULT_SOURCES_BY_GROUP; pass the submission rules'
    expected_sources to keep both in step) says which sheets each registry group gets; a group with
    none gets no template. `deadline_day`, when given, is stated in 填报说明.
    """
    year, month = parse_period(period)
    if data_rows < 1:
        raise InputError(f"模板数据行数应为正整数,而不是 {data_rows}(data_rows must be >= 1)")
    by_group = dict(sources_by_group or DEFAULT_SOURCES_BY_GROUP)
    folder = Path(out_dir) / period
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for _, unit in registry.iterrows():
        sources = tuple(by_group.get(unit["group"], ()))
        if not sources:
            continue
        sheets = sheet_specs(period, unit, registry, ingest_rules, sources)
        path = folder / template_name(period, unit["name"])
        notes = _notes(year, month, unit["name"], ingest_rules, data_rows, deadline_day)
        _write_workbook(path, sheets, instruction_rows(sheets), notes, data_rows, dt.datetime(year, month, 1))
        paths.append(path)
    return paths


def _notes(year: int, month: int, name: str, ingest_rules: dict, data_rows: int,
           deadline_day: int | None) -> list[str]:
    due_year, due_month = (year + 1, 1) if month == 12 else (year, month + 1)
    notes = [
        f"本模板供{name}报送{year}年{month}月数据,由区安委办按单位名册和数据标准"
        f"(ingest 规则版本 {ingest_rules.get('version', '未标注')})生成。",
        "带 * 的列为必填;灰色单元格已预填,不可修改。请勿增删列、修改表头或合并单元格。",
        "一行填写一条记录。是/否、等级、方式、行业、属地等请从下拉列表中选择;日期按 2020-03-05 格式填写。",
        "本月没有相应事项的,该工作表保持空白并照常报送(零报告)。",
        "请勿填写人员姓名、身份证号、联系电话、住址等个人信息。",
        f"每张表预留 {data_rows} 行;不够时请另用一份同名模板续填,文件名保持“期别_单位名称”开头。",
        "填写完成后在各表“填报日期”处填写报送当天的日期。",
    ]
    if deadline_day:
        notes.append(f"报送截止日期:{due_year}年{due_month}月{deadline_day}日(含当日)。")
    return notes


def _write_workbook(path: Path, sheets: list[SheetSpec], guide_rows: list[tuple[str, ...]],
                    notes: list[str], data_rows: int, created: dt.datetime) -> None:
    # strings_to_*: a name or value is always written as text, never as a formula or a link.
    # Written under a temporary name and moved into place, so a killed run leaves no half file.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    workbook = xlsxwriter.Workbook(str(temporary), {
        "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
    })
    workbook.set_properties({"title": path.stem, "author": "区安委办", "created": created})
    styles = _Styles(workbook)
    lists: dict[tuple[str, ...], str] = {}  # drop-down values -> range on the hidden _lists sheet
    _write_guide(workbook.add_worksheet(GUIDE_SHEET), styles, guide_rows, notes)
    for sheet in sheets:
        _write_sheet(workbook.add_worksheet(sheet.name), sheet, styles, lists, data_rows)
    if lists:
        hidden = workbook.add_worksheet(LISTS_SHEET)
        for column, values in enumerate(lists):
            hidden.write_column(0, column, values)
        hidden.protect()
        hidden.hide()
    try:
        workbook.close()
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


class _Styles:
    """The handful of cell formats a template uses, created once per workbook."""

    def __init__(self, workbook: xlsxwriter.Workbook):
        self.workbook = workbook
        self.title = workbook.add_format({"bold": True, "font_size": 14, "align": "center", "valign": "vcenter"})
        self.plain = workbook.add_format({"valign": "vcenter"})
        self.label = workbook.add_format({"align": "right", "valign": "vcenter"})
        header = {"bold": True, "border": 1, "bg_color": "#D9E1F2", "text_wrap": True,
                  "align": "center", "valign": "vcenter"}
        self.header = workbook.add_format(header)
        self.required = workbook.add_format({**header, "font_color": "#C00000"})
        self.wrap = workbook.add_format({"text_wrap": True, "valign": "top", "border": 1})
        self.report_date = workbook.add_format({"locked": False, "num_format": "yyyy-mm-dd", "bottom": 1})
        self.prefill = workbook.add_format({"num_format": "@", "bg_color": "#EDEDED", "border": 1, "border_color": "#BFBFBF"})
        self._data: dict[str, object] = {}

    def data(self, kind: str):
        """Unlocked input cell of a column kind; text-like kinds are Excel text so `001` stays `001`."""
        if kind not in self._data:
            self._data[kind] = self.workbook.add_format({
                "locked": False, "border": 1, "border_color": "#BFBFBF",
                "num_format": NUM_FORMATS.get(kind, "@"),
            })
        return self._data[kind]


def _write_guide(ws, styles: _Styles, rows: list[tuple[str, ...]], notes: list[str]) -> None:
    ws.write(0, 0, GUIDE_SHEET, styles.title)
    for offset, note in enumerate(notes, start=1):
        ws.write(offset, 0, f"{offset}. {note}", styles.plain)
    top = len(notes) + 2
    ws.write_row(top, 0, INSTRUCTION_HEADER, styles.header)
    for offset, row in enumerate(rows, start=1):
        ws.write_row(top + offset, 0, row, styles.wrap)
    for column, width in enumerate((10, 13, 20, 18, 46, 40, 24, 6)):
        ws.set_column(column, column, width)
    ws.freeze_panes(top + 1, 0)
    ws.protect("", {"format_columns": True, "format_rows": True})


def _write_sheet(ws, sheet: SheetSpec, styles: _Styles, lists: dict, data_rows: int) -> None:
    last_col = len(sheet.columns) - 1
    first, last = FIRST_DATA_ROW - 1, FIRST_DATA_ROW - 2 + data_rows  # 0-based data row span
    ws.merge_range(TITLE_ROW - 1, 0, TITLE_ROW - 1, last_col, sheet.title, styles.title)
    ws.set_row(TITLE_ROW - 1, 28)
    # 填报单位 on the left (locked), the report date in an unlocked date cell after its label.
    ws.merge_range(UNIT_ROW - 1, 0, UNIT_ROW - 1, 2, f"填报单位:{sheet.unit_name}", styles.plain)
    ws.write(UNIT_ROW - 1, 3, REPORT_DATE_LABEL, styles.label)
    ws.write_blank(UNIT_ROW - 1, 4, None, styles.report_date)
    ws.data_validation(UNIT_ROW - 1, 4, UNIT_ROW - 1, 4, _validation("date", None, "填报日期", lists))
    ws.set_row(HEADER_ROW - 1, 30)
    for col, column in enumerate(sheet.columns):
        ws.write(HEADER_ROW - 1, col, column.header, styles.required if column.required else styles.header)
        ws.set_column(col, col, column.width)
        for row in range(first, last + 1):
            if column.prefill:
                ws.write_string(row, col, column.prefill, styles.prefill)
            else:
                ws.write_blank(row, col, None, styles.data(column.kind))
        if not column.prefill:
            options = _validation(column.kind, column.choices, column.header.rstrip("*"), lists)
            if options:
                ws.data_validation(first, col, last, col, options)
    ws.freeze_panes(HEADER_ROW, 0)
    ws.protect("", {"format_columns": True, "format_rows": True})


def _validation(kind: str, choices: tuple[str, ...] | None, title: str, lists: dict) -> dict | None:
    """xlsxwriter data-validation options for a column, or None for free text.

    A drop-down whose inline form ("a,b,c") would pass Excel's 255-character limit, or whose
    values contain a comma or quote, refers to a column of the hidden _lists sheet instead.
    """
    prompt = {"input_title": title[:32], "error_title": "输入不符合要求", "error_type": "stop"}
    if choices:
        inline = ",".join(choices)
        fits = len(inline.encode("utf-16-le")) // 2 <= INLINE_LIST_LIMIT
        if fits and not any("," in choice or '"' in choice for choice in choices):
            source: object = list(choices)
        else:
            column = lists.setdefault(choices, xlsxwriter.utility.xl_col_to_name(len(lists)))
            source = f"='{LISTS_SHEET}'!${column}$1:${column}${len(choices)}"
        shown = "、".join(choices)
        message = f"请从下拉列表中选择:{shown}" if len(shown) <= 200 else "请从下拉列表中选择"
        return {"validate": "list", "source": source, **prompt,
                "input_message": message, "error_message": "只能从下拉列表中选择,请勿自行输入"}
    if kind not in CHECKS:
        return None
    options, message = CHECKS[kind]
    return {**options, **prompt, "input_message": message, "error_message": message}


# --- Filling a template programmatically (tests, and the lead's round-trip test) ------------------


def fill_template(path: Path, rows: Mapping[str, list[dict]], *, report_date: dt.date | None = None,
                  out: Path | None = None) -> Path:
    """Type `rows` into a template as a unit would and save it (to `out`, else in place).

    `rows` maps a sheet (its Chinese name, `执法检查`, or its source, `enforcement`) to records
    of canonical column -> value. Columns are found through the 填报说明 sheet, so this works on
    any template this module wrote. A value for a pre-filled (locked) cell must equal it.
    """
    path = Path(path)
    workbook = openpyxl.load_workbook(path)
    guide = _read_guide(workbook)
    for key, records in rows.items():
        match = next((pair for pair in guide if key in pair), None)
        if match is None:
            raise KeyError(f"template {path.name} has no sheet {key!r}")
        sheet_name = match[0]
        ws = workbook[sheet_name]
        headers = {normalise_name(c.value).rstrip("*"): c.column for c in ws[HEADER_ROW] if c.value}
        columns = {canonical: headers[normalise_name(header)] for canonical, header in guide[match].items()}
        capacity = ws.max_row - HEADER_ROW
        if len(records) > capacity:
            raise ValueError(f"{sheet_name}: {len(records)} rows do not fit the template's {capacity}")
        for offset, record in enumerate(records):
            for canonical, value in record.items():
                cell = ws.cell(FIRST_DATA_ROW + offset, columns[canonical])
                if cell.protection.locked:
                    if value != cell.value:
                        raise ValueError(f"{sheet_name}!{cell.coordinate} is pre-filled with {cell.value!r}")
                    continue
                cell.value = value
    if report_date is not None:
        for name, _ in guide:
            label = next(c for c in workbook[name][UNIT_ROW] if c.value == REPORT_DATE_LABEL)
            workbook[name].cell(UNIT_ROW, label.column + 1).value = report_date
    target = Path(out) if out is not None else path
    workbook.save(target)
    return target


def _read_guide(workbook) -> dict[tuple[str, str], dict[str, str]]:
    """(sheet name, source) -> {canonical: header} from the 填报说明 table."""
    guide: dict[tuple[str, str], dict[str, str]] = {}
    in_table = False
    for values in workbook[GUIDE_SHEET].iter_rows(values_only=True):
        if tuple(values[: len(INSTRUCTION_HEADER)]) == INSTRUCTION_HEADER:
            in_table = True
        elif in_table and values[0]:
            sheet, source, header, canonical = values[:4]
            guide.setdefault((sheet, source), {})[canonical] = header
    return guide
