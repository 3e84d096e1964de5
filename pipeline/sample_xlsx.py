"""A small, fast, reproducible .xlsx writer for the sample data.

Why not xlsxwriter: on this project's machines it needs ~25 µs per cell and ~30 ms per workbook,
i.e. most of the sample's generation time (hundreds of workbooks, ~300,000 cells) and too slow for
the test suite. The sample only needs strings, numbers, date cells, a few cell styles and merged
ranges, so this module writes exactly the OOXML parts Excel and xlsxwriter write for that (shared
strings, styles with date number formats, merge cells, document properties) with plain string
building. Timestamps (zip entries and document properties) are fixed: same input, same bytes.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from xml.sax.saxutils import escape

from pipeline.read import column_letter

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
EXCEL_EPOCH = datetime(1899, 12, 30)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)

# Cell style ids (indexes into cellXfs below).
PLAIN, TITLE, HEADER, BORDERED, DATE, DATETIME = range(6)
STYLES = f"""{XML_HEAD}<styleSheet xmlns="{MAIN_NS}">\
<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd"/><numFmt numFmtId="165" formatCode="yyyy\\-mm\\-dd\\ hh:mm"/></numFmts>\
<fonts count="3"><font><sz val="11"/><name val="宋体"/><family val="2"/><charset val="134"/></font>\
<font><b/><sz val="11"/><name val="宋体"/><family val="2"/><charset val="134"/></font>\
<font><b/><sz val="14"/><name val="宋体"/><family val="2"/><charset val="134"/></font></fonts>\
<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>\
<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>\
<border><left style="thin"><color auto="1"/></left><right style="thin"><color auto="1"/></right>\
<top style="thin"><color auto="1"/></top><bottom style="thin"><color auto="1"/></bottom><diagonal/></border></borders>\
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
<cellXfs count="6"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1" applyAlignment="1"><alignment horizontal="center" vertical="center"/></xf>\
<xf numFmtId="0" fontId="1" fillId="0" borderId="1" xfId="0" applyFont="1" applyBorder="1" applyAlignment="1"><alignment horizontal="center" vertical="center" wrapText="1"/></xf>\
<xf numFmtId="0" fontId="0" fillId="0" borderId="1" xfId="0" applyBorder="1"/>\
<xf numFmtId="164" fontId="0" fillId="0" borderId="1" xfId="0" applyNumberFormat="1" applyBorder="1"/>\
<xf numFmtId="165" fontId="0" fillId="0" borderId="1" xfId="0" applyNumberFormat="1" applyBorder="1"/></cellXfs>\
<cellStyles count="1"><cellStyle name="常规" xfId="0" builtinId="0"/></cellStyles></styleSheet>"""


COLUMNS = [column_letter(i) for i in range(64)]


class Strings:
    """The shared-strings table: each distinct text stored once, cells refer to it by index."""

    def __init__(self):
        self.index: dict[str, int] = {}
        self.count = 0

    def ref(self, text: str) -> int:
        self.count += 1
        return self.index.setdefault(text, len(self.index))

    def xml(self) -> str:
        items = "".join(
            f'<si><t xml:space="preserve">{escape(t)}</t></si>' if t != t.strip() else f"<si><t>{escape(t)}</t></si>"
            for t in self.index)
        return f'{XML_HEAD}<sst xmlns="{MAIN_NS}" count="{self.count}" uniqueCount="{len(self.index)}">{items}</sst>'


def serial(value: date) -> float:
    moment = value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
    return (moment - EXCEL_EPOCH).total_seconds() / 86400


def cell_xml(ref: str, value: object, style: int, strings: Strings) -> str:
    if isinstance(value, str):
        return f'<c r="{ref}" s="{style}" t="s"><v>{strings.ref(value)}</v></c>'
    if isinstance(value, datetime):
        return f'<c r="{ref}" s="{DATETIME}"><v>{serial(value)!r}</v></c>'
    if isinstance(value, date):
        return f'<c r="{ref}" s="{DATE}"><v>{int(serial(value))}</v></c>'
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"cannot write {value!r} to a cell")
    return f'<c r="{ref}" s="{style}"><v>{value!r}</v></c>'


def sheet_xml(rows: list[tuple[list, int]], merges: list[tuple[int, int, int, int]], width: int, strings: Strings) -> str:
    """rows: (cells, style for the row's non-date cells); merges: (r1, c1, r2, c2), 0-based."""
    body = []
    for r, (cells, style) in enumerate(rows, start=1):
        xml = "".join(cell_xml(f"{COLUMNS[c]}{r}", v, style, strings) for c, v in enumerate(cells) if v is not None)
        body.append(f'<row r="{r}">{xml}</row>' if xml else f'<row r="{r}"/>')
    merged = "".join(f'<mergeCell ref="{COLUMNS[c1]}{r1 + 1}:{COLUMNS[c2]}{r2 + 1}"/>' for r1, c1, r2, c2 in merges)
    last = f"{COLUMNS[max(width, 1) - 1]}{max(len(rows), 1)}"
    return (
        f'{XML_HEAD}<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><dimension ref="A1:{last}"/>'
        f'<sheetFormatPr defaultRowHeight="14.25"/><cols><col min="1" max="{max(width, 1)}" width="13.7" customWidth="1"/></cols>'
        f'<sheetData>{"".join(body)}</sheetData>'
        + (f'<mergeCells count="{len(merges)}">{merged}</mergeCells>' if merges else "")
        + '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>'
    )


def package(sheets: list[tuple[str, str]], strings: Strings, created: datetime) -> bytes:
    """Zip the parts: sheets are (name, worksheet xml)."""
    n = len(sheets)
    stamp = f"{created:%Y-%m-%dT%H:%M:%SZ}"
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, n + 1))
    parts = {
        "[Content_Types].xml": (
            f'{XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
            '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            f'{overrides}<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'{XML_HEAD}<Relationships xmlns="{PKG_REL_NS}">'
            f'<Relationship Id="rId3" Type="{REL_NS}/extended-properties" Target="docProps/app.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>'
            f'<Relationship Id="rId1" Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "docProps/app.xml": (
            f'{XML_HEAD}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
            "<Application>Microsoft Excel</Application><DocSecurity>0</DocSecurity><ScaleCrop>false</ScaleCrop></Properties>"
        ),
        "docProps/core.xml": (
            f'{XML_HEAD}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:creator></dc:creator>'
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified></cp:coreProperties>'
        ),
        "xl/workbook.xml": (
            f'{XML_HEAD}<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><bookViews><workbookView/></bookViews><sheets>'
            + "".join(f'<sheet name="{escape(name, {chr(34): "&quot;"})}" sheetId="{i}" r:id="rId{i}"/>'
                      for i, (name, _) in enumerate(sheets, start=1))
            + "</sheets></workbook>"
        ),
        "xl/_rels/workbook.xml.rels": (
            f'{XML_HEAD}<Relationships xmlns="{PKG_REL_NS}">'
            + "".join(f'<Relationship Id="rId{i}" Type="{REL_NS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                      for i in range(1, n + 1))
            + f'<Relationship Id="rId{n + 1}" Type="{REL_NS}/styles" Target="styles.xml"/>'
            f'<Relationship Id="rId{n + 2}" Type="{REL_NS}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
        ),
        "xl/styles.xml": STYLES,
    }
    for i, (_, xml) in enumerate(sheets, start=1):
        parts[f"xl/worksheets/sheet{i}.xml"] = xml
    parts["xl/sharedStrings.xml"] = strings.xml()  # complete: the callers built the sheet xml first
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text.encode("utf-8"))
    return buffer.getvalue()
