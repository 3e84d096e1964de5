"""Sample data, layer 3: the document model of a submitted file, and its four writers.

A `Sheet` is a table as a unit laid it out (title, 填报单位 line, one- or two-row header, body rows,
footer); a `FileDoc` is one submitted file. The writers turn a FileDoc into the bytes a real office
would have sent: .xlsx (pipeline.sample_xlsx), BIFF .xls (xlwt), an HTML table saved as .xls (what provincial
web systems export) and CSV in GBK / UTF-8-BOM / GB18030.

Every writer lays rows out in the order of `Sheet.grid()`, so the 1-based row number the analyst
sees is the same in every format, and the sample plan can point at a planted row before any file
exists. Output is byte-for-byte reproducible: no clock, no dict-order dependence.
"""

from __future__ import annotations

import csv
import html
import io
from dataclasses import dataclass, field
from datetime import date, datetime

import xlwt

from pipeline import sample_xlsx

# The workbook property a real Excel file carries; fixed so two runs give identical bytes.
FIXED_CREATED = datetime(2021, 1, 15, 9, 0, 0)


@dataclass(frozen=True)
class Note:
    """What a planted row is for: the cleaning stage should quarantine it, warn about it, or drop
    it as a duplicate of a record submitted elsewhere."""

    expect: str  # quarantine | warning | duplicate | info
    reason: str
    column: str | None = None  # the column at fault (its cell text goes into the plan)
    detail: str | None = None


@dataclass
class Row:
    kind: str  # data | subtotal | total | blank
    cells: list
    notes: tuple[Note, ...] = ()
    record: tuple | None = None  # identity of the real record a data row carries (None: planted bad row)


@dataclass
class Sheet:
    name: str
    source: str  # accidents | enforcement | hazards | annual_review
    columns: list[str]  # canonical (or extra) column key under each header cell
    header: list[str]
    groups: list[tuple[int, int, str]] = field(default_factory=list)  # merged group cells (first, last, label)
    title: str | None = None
    meta: str | None = None
    merge_meta: bool = False
    body: list[Row] = field(default_factory=list)
    footer: list[str] = field(default_factory=list)
    quirks: set[str] = field(default_factory=set)

    @property
    def width(self) -> int:
        return len(self.header)

    def grid(self) -> list[tuple[str, list]]:
        """Every row as (kind, cells), in layout order: row number = position + 1."""
        pad = [None] * (self.width - 1)
        rows: list[tuple[str, list]] = []
        if self.title:
            rows.append(("title", [self.title, *pad]))
        if self.meta:
            rows.append(("meta", [self.meta, *pad]))
        if self.groups:
            # Top row: group labels over their first column, other headers (merged down); bottom
            # row: the leaf headers under the groups.
            grouped = {c: (first, label) for first, last, label in self.groups for c in range(first, last + 1)}
            top, bottom = [], []
            for c, text in enumerate(self.header):
                if c not in grouped:
                    top.append(text)
                    bottom.append(None)
                else:
                    first, label = grouped[c]
                    top.append(label if c == first else None)
                    bottom.append(text)
            rows += [("header_top", top), ("header", bottom)]
        else:
            rows.append(("header", list(self.header)))
        rows += [(row.kind, row.cells) for row in self.body]
        rows += [("footer", [text, *pad]) for text in self.footer]
        return rows

    def first_body_row(self) -> int:
        """1-based row number of body[0]."""
        return 1 + bool(self.title) + bool(self.meta) + (2 if self.groups else 1)


@dataclass
class FileDoc:
    name: str
    fmt: str  # xlsx | xls-biff | xls-html | csv
    sheets: list[Sheet]
    unit_id: str | None = None
    month: str | None = None
    encoding: str | None = None  # csv and html only
    quirks: set[str] = field(default_factory=set)


# ------------------------------------------------------------------------------------ as text
def cell_text(value: object) -> str:
    """How Excel shows a value when it saves CSV or a web system prints it into HTML."""
    if value is None:
        return ""
    if isinstance(value, bool):
        raise TypeError("booleans are written as the unit's tokens, never as True/False")
    if isinstance(value, datetime):
        return f"{value.year}/{value.month}/{value.day} {value:%H:%M}"
    if isinstance(value, date):
        return f"{value.year}/{value.month}/{value.day}"
    if isinstance(value, float):
        return format(value, ".10g")
    return str(value)


def merged_ranges(sheet: Sheet, header_row: int) -> list[tuple[int, int, int, int, str]]:
    """(first_row, first_col, last_row, last_col, text) of the header merges, 0-based rows."""
    if not sheet.groups:
        return []
    grouped = {c for first, last, _ in sheet.groups for c in range(first, last + 1)}
    merges = [(header_row, c, header_row + 1, c, text) for c, text in enumerate(sheet.header) if c not in grouped]
    merges += [(header_row, first, header_row, last, label) for first, last, label in sheet.groups if last > first]
    return merges


# ------------------------------------------------------------------------------------ writers
def write_xlsx(doc: FileDoc) -> bytes:
    """.xlsx through the small writer in `pipeline.sample_xlsx` (see there why not xlsxwriter)."""
    strings = sample_xlsx.Strings()
    parts = []
    for sheet in doc.sheets:
        grid = sheet.grid()
        header_row = next(r for r, (kind, _) in enumerate(grid) if kind in ("header_top", "header"))
        merges = [(r1, c1, r2, c2) for r1, c1, r2, c2, _ in merged_ranges(sheet, header_row)]
        rows = []
        for r, (kind, cells) in enumerate(grid):
            if (kind == "title" or (kind == "meta" and sheet.merge_meta)) and sheet.width > 1:
                merges.insert(0, (r, 0, r, sheet.width - 1))
            rows.append((cells, XLSX_STYLE.get(kind, sample_xlsx.PLAIN)))
        parts.append((sheet.name, sample_xlsx.sheet_xml(rows, sorted(merges), sheet.width, strings)))
    return sample_xlsx.package(parts, strings, FIXED_CREATED)


XLSX_STYLE = {"title": sample_xlsx.TITLE, "header_top": sample_xlsx.HEADER, "header": sample_xlsx.HEADER,
              "data": sample_xlsx.BORDERED, "subtotal": sample_xlsx.BORDERED, "total": sample_xlsx.BORDERED}


def write_biff(doc: FileDoc) -> bytes:
    """Excel 97-2003 .xls, as units still on old Office send it."""
    book = xlwt.Workbook(encoding="utf-8")
    title = xlwt.easyxf("font: bold on, height 280; align: horiz center")
    head = xlwt.easyxf("font: bold on; align: horiz center, vert center, wrap on; borders: left thin, right thin, top thin, bottom thin")
    plain = xlwt.easyxf("borders: left thin, right thin, top thin, bottom thin")
    day = xlwt.easyxf("borders: left thin, right thin, top thin, bottom thin", num_format_str="yyyy-mm-dd")
    moment = xlwt.easyxf("borders: left thin, right thin, top thin, bottom thin", num_format_str="yyyy-mm-dd hh:mm")
    for sheet in doc.sheets:
        ws = book.add_sheet(sheet.name)
        grid = sheet.grid()
        header_row = next(r for r, (kind, _) in enumerate(grid) if kind in ("header_top", "header"))
        merged = {(r, c) for r1, c1, r2, c2, _ in merged_ranges(sheet, header_row)
                  for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)}
        for r1, c1, r2, c2, text in merged_ranges(sheet, header_row):
            ws.write_merge(r1, r2, c1, c2, text, head)
        for r, (kind, cells) in enumerate(grid):
            if kind == "title" and sheet.width > 1:
                ws.write_merge(r, r, 0, sheet.width - 1, cells[0], title)
                continue
            for c, value in enumerate(cells):
                if value is None or (r, c) in merged:
                    continue
                if kind in ("header_top", "header"):
                    ws.write(r, c, value, head)
                elif isinstance(value, datetime):
                    ws.write(r, c, value, moment)
                elif isinstance(value, date):
                    ws.write(r, c, value, day)
                else:
                    ws.write(r, c, value, plain if kind in ("data", "subtotal", "total") else xlwt.Style.default_style)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write_html(doc: FileDoc) -> bytes:
    """One <table> per file, charset declared in a meta tag, as provincial systems export '.xls'."""
    (sheet,) = doc.sheets
    grid = sheet.grid()
    grouped = {c: (first, last) for first, last, _ in sheet.groups for c in range(first, last + 1)}
    lines = [
        "<html>",
        f'<head><meta http-equiv="Content-Type" content="text/html; charset={doc.encoding}"></head>',
        "<body>",
        '<table border="1" cellspacing="0">',
    ]
    for kind, cells in grid:
        if kind in ("title", "meta", "footer"):
            lines.append(f'<tr><td colspan="{sheet.width}">{html.escape(cells[0])}</td></tr>')
        elif kind == "header_top":
            tds = []
            for c, value in enumerate(cells):
                if c not in grouped:
                    tds.append(f'<td rowspan="2">{html.escape(value)}</td>')
                elif grouped[c][0] == c:
                    tds.append(f'<td colspan="{grouped[c][1] - c + 1}">{html.escape(value)}</td>')
            lines.append("<tr>" + "".join(tds) + "</tr>")
        elif kind == "header" and sheet.groups:
            lines.append("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in cells if v is not None) + "</tr>")
        else:
            lines.append("<tr>" + "".join(f"<td>{html.escape(cell_text(v))}</td>" for v in cells) + "</tr>")
    lines += ["</table>", "</body>", "</html>", ""]
    return "\r\n".join(lines).encode(doc.encoding)


def write_csv(doc: FileDoc) -> bytes:
    """What 'Save as CSV' in Chinese Excel/WPS produces: merged cells become one value and blanks."""
    (sheet,) = doc.sheets
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\r\n")
    for _, cells in sheet.grid():
        out.writerow([cell_text(v) for v in cells])
    return buffer.getvalue().encode(doc.encoding)


WRITERS = {"xlsx": write_xlsx, "xls-biff": write_biff, "xls-html": write_html, "csv": write_csv}


def render(doc: FileDoc) -> bytes:
    return WRITERS[doc.fmt](doc)
