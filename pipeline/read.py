"""Read any submitted file into raw sheets: grids of text exactly as the analyst sees them.

Formats are recognised from the file's bytes, never trusted from its name: a ".xls" exported by a
provincial web system is often an HTML table, and a ".csv" may be UTF-8, UTF-8 with BOM, GBK or
GB18030. Every cell becomes text here (the cleaner parses values later, with one rule for every
format), and every sheet keeps the analyst's row numbering so quarantine rows can point at it.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import python_calamine

from pipeline.errors import InputError

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
PARQUET_MAGIC = b"PAR1"
HTML_START = re.compile(rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(!doctype|html|table|head|body|meta)", re.I | re.S)
XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
META_CHARSET = re.compile(rb"charset\s*=\s*[\"']?([A-Za-z0-9_\-]+)", re.I)
TEXT_ENCODINGS = ("utf-8-sig", "gb18030")
DELIMITERS = ",\t;|"
# calamine picks its reader from a path's suffix; these suffixes agree with the sniffed bytes.
WORKBOOK_SUFFIXES = {"xlsx": {".xlsx", ".xlsm", ".xlsb", ".ods"}, "ole": {".xls"}}
SUPPORTED_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods", ".csv", ".txt", ".htm", ".html", ".parquet"}


@dataclass
class RawSheet:
    """One sheet as text. `grid` has integer column labels and one row per sheet row.

    `preamble` holds rows that logically sit above `grid` (a Parquet file's column names), so the
    analyst's 1-based row number of grid position i is `first_row + len(preamble) + i`.
    `merged` lists merged ranges ((r0, c0), (r1, c1)) in grid coordinates, inclusive.
    """

    name: str
    grid: pd.DataFrame
    preamble: list[list[str]] = field(default_factory=list)
    first_row: int = 1
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)


def sniff_format(head: bytes) -> str:
    """xlsx | ole | html | parquet | text, from the first bytes of a file."""
    if head.startswith(ZIP_MAGIC):
        return "xlsx"
    if head.startswith(OLE_MAGIC):
        return "ole"
    if head.startswith(PARQUET_MAGIC):
        return "parquet"
    stripped = head.lstrip(b"\xef\xbb\xbf")
    if HTML_START.match(stripped):
        return "html"
    return "text"


def read_file(path: Path) -> list[RawSheet]:
    """All sheets of one file. Raises InputError with one clear message when it cannot be read."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except FileNotFoundError:
        raise InputError(f"{path.name}: 文件在读取前已不存在(file disappeared before it could be read)") from None
    except OSError as error:
        raise InputError(f"{path.name}: 无法打开文件(cannot open file: {error.strerror})") from None
    if not head:
        raise InputError(f"{path.name}: 文件为空(empty file)")
    kind = sniff_format(head)
    if kind in ("xlsx", "ole"):
        return _read_workbook(path, kind)
    if kind == "parquet":
        return _read_parquet(path)
    if kind == "html":
        return _read_html(path)
    if b"\x00" in head:
        raise InputError(f"{path.name}: 不是表格文件,内容为二进制数据(binary content, not a spreadsheet or CSV)")
    return _read_csv(path)


# --- Excel ---------------------------------------------------------------------------------------


def _cell_text(value: object) -> str:
    """One Excel cell as the text the cleaner parses. Integral floats lose their ".0" (3.0 -> "3")."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S") if (value.hour or value.minute or value.second) else value.strftime("%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S")
    return str(value)


def _read_workbook(path: Path, kind: str) -> list[RawSheet]:
    try:
        if path.suffix.lower() in WORKBOOK_SUFFIXES[kind]:
            workbook = python_calamine.CalamineWorkbook.from_path(str(path))
        else:  # renamed (an .xlsx saved as ".xls", or the reverse): calamine would trust the name
            with path.open("rb") as handle:
                workbook = python_calamine.CalamineWorkbook.from_filelike(handle)
    except Exception as error:  # calamine raises several private error types
        text = str(error)
        if kind == "ole" and ("encrypt" in text.lower() or "password" in text.lower() or "EncryptedPackage" in text or "stream" in text.lower()):
            raise InputError(f"{path.name}: 工作簿已加密或受密码保护,请另存为无密码文件(encrypted or password-protected workbook)") from None
        raise InputError(f"{path.name}: 工作簿已损坏或格式不正确,无法读取(corrupt or unreadable workbook: {text[:120]})") from None
    sheets = []
    try:
        for info in workbook.sheets_metadata:
            # Hidden sheets hold drop-down lists and helper tables, never a unit's data.
            if str(info.visible).rsplit(".", 1)[-1] != "Visible" or str(info.typ).rsplit(".", 1)[-1] != "WorkSheet":
                continue
            name = info.name
            sheet = workbook.get_sheet_by_name(name)
            rows = sheet.to_python(skip_empty_area=False)
            width = max((len(row) for row in rows), default=0)
            grid = pd.DataFrame([[_cell_text(v) for v in row] + [""] * (width - len(row)) for row in rows], dtype="str")
            merged = [tuple(map(tuple, r)) for r in (sheet.merged_cell_ranges or [])]
            sheets.append(RawSheet(name=name, grid=grid, merged=merged))
    except InputError:
        raise
    except Exception as error:
        raise InputError(f"{path.name}: 工作簿内容损坏,无法读取(corrupt workbook content: {str(error)[:120]})") from None
    finally:
        workbook.close()
    return sheets


# --- Parquet (large exports, benchmarks) ---------------------------------------------------------


def _read_parquet(path: Path) -> list[RawSheet]:
    try:
        table = pq.read_table(path)
    except Exception as error:
        raise InputError(f"{path.name}: Parquet 文件损坏(corrupt Parquet file: {str(error)[:120]})") from None
    frame = table.to_pandas(types_mapper=lambda _: pd.StringDtype("pyarrow")) if table.num_rows else pd.DataFrame(columns=table.column_names)
    names = [str(c) for c in frame.columns]
    grid = frame.astype("str").fillna("")
    grid.columns = range(len(names))
    return [RawSheet(name=path.stem, grid=grid, preamble=[names])]


# --- Text: CSV and HTML tables -------------------------------------------------------------------


def detect_encoding(data: bytes, declared: str | None = None) -> str:
    """UTF-8 (with or without BOM) when it decodes, else GB18030 (a superset of GBK and GB2312)."""
    candidates = ([declared] if declared else []) + list(TEXT_ENCODINGS)
    for encoding in candidates:
        try:
            data.decode(encoding)
            return "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
        except (UnicodeDecodeError, LookupError):
            continue
    raise UnicodeDecodeError("gb18030", data[:1], 0, 1, "no candidate encoding fits")


def _sample_encoding(path: Path) -> str:
    """Encoding from the first MiB (cut at a line end, so a character is never split)."""
    with path.open("rb") as handle:
        sample = handle.read(1 << 20)
        more = handle.read(1)
    if more:
        sample = sample[: sample.rfind(b"\n") + 1] or sample
    try:
        return detect_encoding(sample)
    except UnicodeDecodeError:
        raise InputError(f"{path.name}: 文本编码无法识别(既非 UTF-8 也非 GBK/GB18030)(unknown text encoding)") from None


def _read_csv(path: Path) -> list[RawSheet]:
    encoding = _sample_encoding(path)
    with path.open("r", encoding=encoding, newline="") as handle:
        head = [line for _, line in zip(range(64), handle)]
    delimiter = _delimiter(head[:20])
    width = max((len(row) for row in csv.reader(head, delimiter=delimiter)), default=1)
    try:
        grid = pd.read_csv(
            path, header=None, names=range(width), dtype="str", keep_default_na=False, na_filter=False,
            encoding=encoding, sep=delimiter, skip_blank_lines=False, engine="c",
        )
    except UnicodeDecodeError:
        try:
            grid = _read_csv_fallback(path, "gb18030", delimiter)
        except UnicodeDecodeError:
            raise InputError(f"{path.name}: 文件中混有多种文本编码,无法可靠读取(mixed text encodings)") from None
    except pd.errors.ParserError:
        # Rows wider than the first 64 lines: read ragged with the csv module instead.
        grid = _read_csv_fallback(path, encoding, delimiter)
    except pd.errors.EmptyDataError:
        raise InputError(f"{path.name}: 文件为空(empty file)") from None
    return [RawSheet(name=path.stem, grid=grid.fillna(""))]


def _delimiter(lines: list[str]) -> str:
    """The field separator: the csv sniffer's answer, else the candidate used most often.

    The sniffer gives up on a title line without separators above the table, which is how
    hand-made CSVs and the tab-separated ".xls" text that web systems export often start.
    """
    try:
        return csv.Sniffer().sniff("".join(lines), delimiters=DELIMITERS).delimiter
    except csv.Error:
        counts = {d: sum(line.count(d) for line in lines) for d in DELIMITERS}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def _read_csv_fallback(path: Path, encoding: str, delimiter: str) -> pd.DataFrame:
    with path.open("r", encoding=encoding, newline="") as handle:
        rows = list(csv.reader(handle, delimiter=delimiter))
    width = max((len(row) for row in rows), default=0)
    return pd.DataFrame([row + [""] * (width - len(row)) for row in rows], dtype="str")


def _read_html(path: Path) -> list[RawSheet]:
    from lxml import html as lxml_html

    data = path.read_bytes()
    declared = META_CHARSET.search(data[:4096])
    try:
        encoding = detect_encoding(data, declared.group(1).decode("ascii") if declared else None)
    except UnicodeDecodeError:
        raise InputError(f"{path.name}: 网页格式表格的编码无法识别(HTML table with unknown encoding)") from None
    # lxml refuses text that still declares an encoding (`<?xml … encoding="gb2312"?>`, as Excel's
    # "save as web page" writes); it has been decoded already.
    text = XML_DECLARATION.sub("", data.decode(encoding, errors="strict"), count=1)
    try:
        document = lxml_html.fromstring(text)
    except Exception as error:
        raise InputError(f"{path.name}: 网页格式表格无法解析(unparseable HTML table: {str(error)[:80]})") from None
    tables = document.xpath("//table")
    if not tables:
        raise InputError(f"{path.name}: 文件是网页但没有表格(HTML without a table)")
    sheets = []
    for number, table in enumerate(tables, start=1):
        grid, merged = _html_grid(table)
        sheets.append(RawSheet(name=f"table{number}" if len(tables) > 1 else path.stem, grid=grid, merged=merged))
    return sheets


def _html_grid(table) -> tuple[pd.DataFrame, list]:
    """Lay an HTML table out as Excel would: a spanned cell's text in its top-left slot only."""
    rows: list[dict[int, str]] = []
    taken: set[tuple[int, int]] = set()
    merged = []
    for r, tr in enumerate(table.xpath("./tr|./thead/tr|./tbody/tr|./tfoot/tr")):
        cells: dict[int, str] = {}
        c = 0
        for cell in tr.xpath("./td|./th"):
            while (r, c) in taken:
                c += 1
            rowspan = _span(cell.get("rowspan"))
            colspan = _span(cell.get("colspan"))
            cells[c] = " ".join(cell.text_content().split())
            for dr in range(rowspan):
                for dc in range(colspan):
                    taken.add((r + dr, c + dc))
            if rowspan > 1 or colspan > 1:
                merged.append(((r, c), (r + rowspan - 1, c + colspan - 1)))
            c += colspan
        rows.append(cells)
    width = max((max(row) + 1 for row in rows if row), default=0)
    width = max([width] + [c + 1 for (_, c) in taken])
    grid = pd.DataFrame([[row.get(c, "") for c in range(width)] for row in rows], dtype="str")
    return grid, merged


def _span(value: str | None) -> int:
    try:
        return max(1, min(int(value or 1), 1000))
    except ValueError:
        return 1


def list_input_files(raw: Path, registry_name: str) -> list[Path]:
    """Every file under the raw folder the pipeline should try, sorted by name for determinism.

    Hidden files, Office lock files (~$…) and the registry itself are skipped; files with other
    suffixes are still tried, since the format is recognised from the bytes.
    """
    files = []
    for path in sorted(raw.rglob("*")):
        if not path.is_file() or path.name.startswith((".", "~$")) or path.name == registry_name:
            continue
        if path.suffix.lower() in {".md", ".toml", ".json", ".py", ".gitkeep"}:
            continue
        files.append(path)
    return files
