"""Sample data: put the sheets into the files units actually send, named the way they name them.

Workbook units send one workbook a month holding all their sheets; units on a web system or on
CSV send one file per table. The office's assessment team sends one year-end review workbook per
year. File names vary the way they do in a real inbox (`2020-03_南湖办事处_月报.xlsx`,
`南湖办3月报表.xlsx`, ...): the reader must not rely on them.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.sample_base import MONTHS, YEARS, Unit, pick, rng_for
from pipeline.sample_data import Truth
from pipeline.sample_names import mobile, person
from pipeline.sample_layout import (
    SheetBuilder, add_department_reports, initial_entries, plant_bad_rows, plant_warnings,
)
from pipeline.sample_style import Style, assign_styles, load_aliases, text_encoding
from pipeline.sample_writers import FileDoc, Note, Row, Sheet

LABELS = {"accidents": "事故", "enforcement": "执法检查", "hazards": "隐患排查"}
SUFFIX = {"xlsx": ".xlsx", "xls-biff": ".xls", "xls-html": ".xls", "csv": ".csv"}
FORMAT_QUIRK = {
    ("xls-html", "utf-8"): "xls_html_utf8", ("xls-html", "gbk"): "xls_html_gbk", ("xls-biff", None): "xls_biff",
    ("csv", "gbk"): "csv_gbk", ("csv", "utf-8-sig"): "csv_utf8_bom", ("csv", "gb18030"): "csv_gb18030",
}


def file_name(unit: Unit, month: str, style: Style, source: str | None = None) -> str:
    year, m = month[:4], int(month[5:])
    if style.fmt == "csv":
        return f"{month}_{unit.name}_{LABELS[source]}.csv"
    if style.fmt == "xls-html":
        return f"{LABELS[source]}导出_{unit.short_name}_{month.replace('-', '')}.xls"
    suffix = SUFFIX[style.fmt]
    if style.naming == "short":  # this year's files carry no year at all
        return f"{unit.short_name}{m}月报表{suffix}" if year == "2020" else f"{unit.short_name}{year}年{m}月报表{suffix}"
    if style.naming == "long":
        return f"{unit.name}{year}年{m}月安全生产工作报表{suffix}"
    return f"{month}_{unit.name}_月报{suffix}"


def monthly_files(unit: Unit, month: str, style: Style, sheets: list[Sheet]) -> list[FileDoc]:
    encoding = text_encoding(style.fmt, month)
    if style.fmt in ("csv", "xls-html"):
        return [FileDoc(file_name(unit, month, style, s.source), style.fmt, [s], unit.unit_id, month, encoding,
                        {FORMAT_QUIRK[(style.fmt, encoding)]}) for s in sheets]
    if style.odd_headers:  # some units put the hazards sheet first
        sheets = sorted(sheets, key=lambda s: s.source != "hazards")
    quirks = {FORMAT_QUIRK[(style.fmt, None)]} if style.fmt == "xls-biff" else set()
    return [FileDoc(file_name(unit, month, style), style.fmt, sheets, unit.unit_id, month, None, quirks)]


# ------------------------------------------------------------------------------- annual review
def annual_file(year: int, truth: Truth, seed: int) -> FileDoc:
    """年度考评结果: one row per unit and item; 2020 has 小计 rows per unit and one impossible score."""
    rng = rng_for(seed, "annual-file", year)
    with_year = year == 2019  # one year states the year in a column, the other only in the title
    columns = ["seq", *(["year"] if with_year else []), "unit", "item", "category", "score", "remark"]
    header = ["序号", *(["考评年度"] if with_year else []), "单位", "考评项目", "类别", "得分", "备注"]
    aliased = {unit.unit_id for unit in rng.sample(truth.units, min(3, len(truth.units)))}
    quirks = {"merged_title_row", "meta_line", "footer_rows"}
    body: list[Row] = []
    bad_unit = pick(rng, truth.units).unit_id if year == 2020 else None
    for unit in truth.units:
        items = [item for item in truth.reviews if item.year == year and item.unit_id == unit.unit_id]
        if not items:
            continue
        name = unit.aliases[-1] if unit.unit_id in aliased and unit.aliases else unit.name
        quirks.update({"alias_unit_name"} if name != unit.name else set())
        rows = []
        for item in items:
            category = "加分项" if item.category == "加分" and year == 2020 else item.category
            quirks.update({"enum_variants"} if category != item.category else set())
            cells = {"year": year, "unit": name, "item": item.item, "category": category,
                     "score": int(item.score) if item.score.is_integer() else item.score, "remark": None}
            rows.append(Row("data", cells, (), ("annual_review", year, unit.unit_id, item.item)))
        if unit.unit_id == bad_unit:
            note = Note("quarantine", "invalid_score", "score", "score must be within 0-100")
            cells = {"year": year, "unit": name, "item": "安全文化建设", "category": "加分", "score": 130, "remark": None}
            rows.insert(1, Row("data", cells, (note,), None))
        body += rows
        if year == 2020:
            subtotal = sum(row.cells["score"] for row in rows if row.record)
            body.append(Row("subtotal", {"item": "小计", "score": subtotal}))
            quirks.add("subtotal_row")
    seq = 0
    for row in body:  # dict cells -> positional cells, numbering the data rows
        if row.kind == "data":
            seq += 1
            row.cells["seq"] = seq
        row.cells = [row.cells.get(column) for column in columns]
    sheet = Sheet(
        name=f"{year}年度考评", source="annual_review", columns=columns, header=header,
        title=f"{year}年度安全生产目标责任考评结果", meta=f"填报单位:区安委办考核组    填报日期:{year + 1}-01-10",
        merge_meta=True, body=body,
        footer=["注:重点工作满分15分,超过15分按15分计;加分项最高5分。", f"制表人:{person(rng)}  联系电话:{mobile(rng)}"],
        quirks=quirks,
    )
    return FileDoc(f"{year}年度考评结果.xlsx", "xlsx", [sheet])


# ---------------------------------------------------------------------------------------- all
def build_files(truth: Truth, rules_path: Path, seed: int) -> tuple[list[FileDoc], dict[str, Style]]:
    """Every file of the sample, in a fixed order (so the plan's file list is stable)."""
    aliases = load_aliases(rules_path)
    types = {source: {column: spec[0] for column, spec in columns.items()} for source, columns in aliases.items()}
    styles = assign_styles(truth.units, aliases, seed)
    entries = initial_entries(truth)
    with_id = add_department_reports(entries, truth, seed)
    plant_warnings(entries, styles, seed)  # before bad rows: it addresses rows by position
    plant_bad_rows(entries, truth, styles, seed)
    builder = SheetBuilder(truth, styles, types, seed)
    files: list[FileDoc] = []
    for unit in truth.units:
        for month in MONTHS:
            if not truth.calendar.submitted(unit.unit_id, month):
                continue
            sheets = []
            for source in ("accidents", "enforcement", "hazards"):
                rows = entries.get((unit.unit_id, month, source))
                if rows is None:
                    continue
                no_id = source == "accidents" and not unit.territorial and not with_id[(unit.unit_id, month)]
                sheets.append(builder.build(source, unit, month, rows, frozenset({"accident_id"}) if no_id else frozenset()))
            files += monthly_files(unit, month, styles[unit.unit_id], sheets)
    files += [annual_file(year, truth, seed) for year in YEARS]
    names = [doc.name for doc in files]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise AssertionError(f"sample file names collide: {duplicated[:3]}")
    return files, styles
