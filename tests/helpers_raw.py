"""Build tiny raw submissions in a temporary folder and run the whole `process` on them.

`write_sheet` writes one grid of cells in any format the units send: xlsx (xlsxwriter or
openpyxl), real BIFF .xls (xlwt), an HTML table disguised as .xls, or CSV in any encoding.
Merged ranges are real merges in workbooks, colspan/rowspan in HTML, and blank cells in CSV
(which is how Excel saves a merged range as CSV).
`run_process` copies the registry into the raw folder, runs `pipeline.runner.process` with a
list-collecting progress callback and returns every table read back from Parquet.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline import config
from pipeline.runner import process

REGISTRY = config.RAW_DIR / config.REGISTRY_NAME

# Headers as units write them (SPEC "Raw data": canonical columns and their Chinese aliases).
ACCIDENT_HEADER = ["事故编号", "发生时间", "报告时间", "属地单位", "所属行业", "事故发生单位",
                   "死亡人数", "重伤人数", "直接经济损失", "事故级别"]
ENFORCEMENT_HEADER = ["检查编号", "执法单位", "检查日期", "被检查单位", "统一社会信用代码", "检查方式",
                      "发现隐患数", "是否立案", "是否处罚", "罚款金额", "执法公示", "全过程记录", "法制审核"]
HAZARD_HEADER = ["隐患编号", "属地单位", "企业名称", "发现日期", "整改期限", "整改完成日期", "隐患等级", "挂牌督办", "来源"]

Cell = object  # str | int | float | bool | datetime | date | None
Merge = tuple[int, int, int, int]  # first row, first column, last row, last column (0-based, inclusive)


def record(header: list[str], **cells: Cell) -> list[Cell]:
    """One data row in `header` order from header=value pairs (headers as keyword names)."""
    unknown = set(cells) - set(header)
    assert not unknown, f"not in header: {unknown}"
    return [cells.get(name, "") for name in header]


def accident(**cells: Cell) -> list[Cell]:
    base = dict(事故编号="SG-1", 发生时间="2020-03-05 10:00", 报告时间="2020-03-05 10:30", 属地单位="南湖办事处",
                所属行业="建筑施工", 事故发生单位="甲建筑公司", 死亡人数="0", 重伤人数="0")
    return record(ACCIDENT_HEADER, **{**base, **cells})


def inspection(**cells: Cell) -> list[Cell]:
    base = dict(检查编号="ZF-1", 执法单位="区应急管理局", 检查日期="2020-03-05", 被检查单位="甲化工公司",
                检查方式="双随机", 发现隐患数="2", 是否立案="否", 是否处罚="否", 执法公示="是", 全过程记录="是")
    return record(ENFORCEMENT_HEADER, **{**base, **cells})


def hazard(**cells: Cell) -> list[Cell]:
    base = dict(隐患编号="YH-1", 属地单位="南湖办事处", 企业名称="甲公司", 发现日期="2020-03-02",
                整改期限="2020-03-20", 整改完成日期="2020-03-15", 隐患等级="一般", 挂牌督办="否", 来源="部门检查")
    return record(HAZARD_HEADER, **{**base, **cells})


def submission(title: str, header: list[str] | list[list[str]], rows: list[list[Cell]],
               unit_line: str | None = "填报单位:南湖办事处 填报日期:2020年4月2日",
               footer: list[Cell] | None = None) -> tuple[list[list[Cell]], int]:
    """A realistic sheet: title row, 填报 line, header (one or two rows), rows, footer.

    Returns the rows and the 1-based Excel row number of the first data row.
    """
    headers = header if header and isinstance(header[0], list) else [header]
    grid: list[list[Cell]] = [[title]]
    if unit_line is not None:
        grid.append([unit_line])
    grid += headers
    first = len(grid) + 1
    grid += rows
    if footer is not None:
        grid.append(footer)
    return grid, first


# --- writers ---------------------------------------------------------------------------------------


def _fmt_of(path: Path, fmt: str | None) -> str:
    if fmt:
        return fmt
    return {".xlsx": "xlsx", ".xls": "xls", ".csv": "csv", ".html": "html", ".htm": "html"}[path.suffix.lower()]


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S") if (value.hour or value.minute or value.second) else value.strftime("%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    return str(value)


def _covered(merges: list[Merge]) -> set[tuple[int, int]]:
    """Cells hidden under a merge (every cell of the range but its top-left one)."""
    return {(r, c) for r0, c0, r1, c1 in merges for r in range(r0, r1 + 1) for c in range(c0, c1 + 1) if (r, c) != (r0, c0)}


def write_sheet(path: Path, rows: list[list[Cell]], fmt: str | None = None, merges: list[Merge] = (),
                sheet: str = "Sheet1", encoding: str = "utf-8", charset: str | None = None) -> Path:
    """Write one sheet. fmt: xlsx | openpyxl | xls | html | csv (default from the suffix).

    `encoding` is the byte encoding of csv/html; `charset` the HTML meta charset (default: encoding).
    """
    return write_workbook(path, {sheet: (rows, list(merges))}, fmt=fmt, encoding=encoding, charset=charset)


def write_workbook(path: Path, sheets: dict[str, tuple[list[list[Cell]], list[Merge]] | list[list[Cell]]],
                   fmt: str | None = None, encoding: str = "utf-8", charset: str | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    kind = _fmt_of(path, fmt)
    normal = {name: (value if isinstance(value, tuple) else (value, [])) for name, value in sheets.items()}
    if kind == "xlsx":
        _write_xlsxwriter(path, normal)
    elif kind == "openpyxl":
        _write_openpyxl(path, normal)
    elif kind == "xls":
        _write_xlwt(path, normal)
    elif kind == "html":
        path.write_bytes(_html(normal, encoding, charset or encoding))
    elif kind == "csv":
        (rows, _merges), = normal.values()
        path.write_bytes(_csv(rows).encode(encoding))
    else:
        raise ValueError(kind)
    return path


def _write_xlsxwriter(path: Path, sheets) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    time_format = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    for name, (rows, merges) in sheets.items():
        ws = book.add_worksheet(name)
        hidden = _covered(merges)
        starts = {(r0, c0): (r1, c1) for r0, c0, r1, c1 in merges}
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if (r, c) in hidden or value is None or value == "":
                    continue
                if (r, c) in starts:
                    continue
                if isinstance(value, bool):
                    ws.write_boolean(r, c, value)
                elif isinstance(value, (int, float)):
                    ws.write_number(r, c, value)
                elif isinstance(value, dt.datetime):
                    ws.write_datetime(r, c, value, time_format if (value.hour or value.minute) else date_format)
                elif isinstance(value, dt.date):
                    ws.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date_format)
                else:
                    ws.write_string(r, c, str(value))
        for (r0, c0), (r1, c1) in starts.items():
            ws.merge_range(r0, c0, r1, c1, _text(rows[r0][c0]) if c0 < len(rows[r0]) else "")
    book.close()


def _write_openpyxl(path: Path, sheets) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, (rows, merges) in sheets.items():
        ws = book.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None and value != "":
                    ws.cell(r, c, value)
        for r0, c0, r1, c1 in merges:
            ws.merge_cells(start_row=r0 + 1, start_column=c0 + 1, end_row=r1 + 1, end_column=c1 + 1)
    book.save(path)


def _write_xlwt(path: Path, sheets) -> None:
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    time_style = xlwt.easyxf(num_format_str="YYYY-MM-DD HH:MM")
    for name, (rows, merges) in sheets.items():
        ws = book.add_sheet(name)
        hidden = _covered(merges)
        starts = {(r0, c0) for r0, c0, _, _ in merges}
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if (r, c) in hidden or (r, c) in starts or value is None or value == "":
                    continue
                if isinstance(value, dt.datetime):
                    ws.write(r, c, value, time_style if (value.hour or value.minute) else date_style)
                elif isinstance(value, dt.date):
                    ws.write(r, c, value, date_style)
                else:
                    ws.write(r, c, value)
        for r0, c0, r1, c1 in merges:
            ws.write_merge(r0, r1, c0, c1, rows[r0][c0] if c0 < len(rows[r0]) else "")
    book.save(str(path))


def _html(sheets, encoding: str, charset: str) -> bytes:
    tables = []
    for rows, merges in sheets.values():
        hidden = _covered(merges)
        spans = {(r0, c0): (r1 - r0 + 1, c1 - c0 + 1) for r0, c0, r1, c1 in merges}
        lines = []
        for r, row in enumerate(rows):
            cells = []
            for c, value in enumerate(row):
                if (r, c) in hidden:
                    continue
                rowspan, colspan = spans.get((r, c), (1, 1))
                attrs = (f' rowspan="{rowspan}"' if rowspan > 1 else "") + (f' colspan="{colspan}"' if colspan > 1 else "")
                cells.append(f"<td{attrs}>{html.escape(_text(value))}</td>")
            lines.append("<tr>" + "".join(cells) + "</tr>")
        tables.append("<table border=\"1\">\n" + "\n".join(lines) + "\n</table>")
    page = (f'<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}"></head>\n'
            f"<body>\n{''.join(tables)}\n</body></html>\n")
    return page.encode(encoding)


def _csv(rows: list[list[Cell]]) -> str:
    import csv
    import io

    width = max((len(r) for r in rows), default=0)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([_text(v) for v in row] + [""] * (width - len(row)))
    return out.getvalue()


# --- running the pipeline --------------------------------------------------------------------------


TABLES = ("accidents", "enforcement", "hazards", "annual_review", "quarantine", "warnings", "files")


@dataclass
class Run:
    """The tables one `process` run wrote (read back from Parquet) and the progress messages."""

    tables: dict[str, pd.DataFrame]
    messages: list[str] = field(default_factory=list)
    raw: Path | None = None  # the raw folder, when a test wants to run it again

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    @property
    def text(self) -> str:
        return "\n".join(self.messages)

    def clean_rows(self, file_name: str) -> dict[str, set[int]]:
        """Per table, the source rows of `file_name` that ended in it."""
        return {t: set(self[t].loc[self[t]["source_file"].eq(file_name), "source_row"].astype(int))
                for t in ("accidents", "enforcement", "hazards", "annual_review")}


def copy_registry(raw: Path) -> None:
    raw.mkdir(parents=True, exist_ok=True)
    if not (raw / config.REGISTRY_NAME).exists():
        shutil.copyfile(REGISTRY, raw / config.REGISTRY_NAME)


def run_process(raw: Path, processed: Path, registry: bool = True, **kwargs) -> Run:
    """Copy the registry into `raw` (unless told not to), run `process`, read every table back."""
    if registry:
        copy_registry(raw)
    messages: list[str] = []
    kwargs.setdefault("score", False)  # the scoring stage is other modules' business
    kwargs.setdefault("force", True)
    process(Path(raw), Path(processed), progress=messages.append, **kwargs)
    tables = {name: pd.read_parquet(Path(processed) / f"{name}.parquet") for name in TABLES}
    return Run(tables, messages)


def assert_conserved(files: pd.DataFrame) -> None:
    """Per (file, sheet) read: rows_read == clean + quarantined + non-data + duplicates."""
    ok = files[files["status"].eq("ok")]
    balance = ok["clean"] + ok["quarantined"] + ok["nondata"] + ok["duplicates"]
    broken = ok[ok["rows_read"] != balance]
    assert broken.empty, broken[["source_file", "source_sheet", "rows_read", "clean", "quarantined", "nondata", "duplicates"]].to_string()


def snapshot(folder: Path) -> dict[str, tuple[int, int, str]]:
    """Every file and folder under a folder with its mtime, size and content hash (to prove nothing
    wrote there: tests run as root, for whom read-only permissions stop nothing)."""
    found = {"": (folder.stat().st_mtime_ns, 0, "")}
    for p in sorted(folder.rglob("*")):
        stat = p.lstat()
        content = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() and not p.is_symlink() else ""
        found[p.relative_to(folder).as_posix()] = (stat.st_mtime_ns, stat.st_size, content)
    return found


def read_only(folder: Path) -> list[Path]:
    """Take the write bits off a folder and everything in it; returns the paths, for `writable`."""
    paths = [folder, *folder.rglob("*")]
    for path in paths:
        mode = path.stat().st_mode
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    return paths


def writable(paths: list[Path]) -> None:
    for path in paths:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)


def credit_code(body17: str) -> str:
    """A GB 32100-2015 code: the 17 given characters plus the computed check character."""
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    total = sum(chars.index(ch) * w for ch, w in zip(body17, weights))
    return body17 + chars[(31 - total % 31) % 31]
