"""Read any submitted file into raw sheets: grids of text exactly as the analyst sees them.

Formats are recognised from the file's bytes, never trusted from its name: a ".xls" exported by a
provincial web system is often an HTML table, and a ".csv" may be UTF-8, UTF-8 with BOM, GBK or
GB18030. Every cell becomes text here (the cleaner parses values later, with one rule for every
format), and every sheet keeps the analyst's row numbering so quarantine rows can point at it.
"""

from __future__ import annotations

import csv
import datetime as dt
import mmap
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
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
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# The directory entry (UTF-16 name) of the stream holding an encrypted OOXML workbook.
ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
# Excel's error values, and the text standing for a formula saved without its result (see
# `_restore_unsaved_cells`): the cleaner quarantines them rather than reading the cell as empty.
EXCEL_ERRORS = ("#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!", "#GETTING_DATA")
UNSAVED_FORMULA = "#公式无保存结果"
DELIMITERS = ",\t;|"
# calamine picks its reader from a path's suffix; these suffixes agree with the sniffed bytes.
WORKBOOK_SUFFIXES = {"xlsx": {".xlsx", ".xlsm", ".xlsb", ".ods"}, "ole": {".xls"}}
# Text files from this size on are read with pyarrow's CSV reader when their shape allows.
ARROW_CSV_BYTES = 1 << 20
SUPPORTED_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods", ".csv", ".txt", ".htm", ".html", ".parquet"}


HEAD_ROWS = 64  # RawSheet.head: enough for layout.SCAN_ROWS


@dataclass
class RawSheet:
    """One sheet as text: `table()` has integer column labels and one row per sheet row.

    `preamble` holds rows that logically sit above the table (a Parquet file's column names), so
    the analyst's 1-based row number of table position i is `first_row + len(preamble) + i`.
    `merged` lists merged ranges ((r0, c0), (r1, c1)) in table coordinates, inclusive.

    A workbook's sheet, a Parquet export of text and a big CSV read by pyarrow come as `columns`
    (each column's cells as Arrow text, "" for an empty cell; a Parquet column's repeating text
    as dictionary chunks, `text_of` gives it plain) and `head` (its first HEAD_ROWS
    rows as lists of text), the frame `grid` being built only when something asks for it:
    recognising a sheet and cutting out its body need neither, and a frame per sheet costs
    milliseconds (seconds for a month's hundreds of workbooks), a frame of millions of rows a
    copy of every number column. Other readers give `grid` itself. Read the sheet through `table()` and `rows`, never `grid`
    (None until built); whoever changes the table sets `grid` and drops the rest.
    """

    name: str
    grid: pd.DataFrame | None = None
    preamble: list[list[str]] = field(default_factory=list)
    first_row: int = 1
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)
    head: list[list[str]] | None = None
    columns: list[pa.Array | pa.ChunkedArray] | None = None
    height: int = 0  # rows, when the sheet comes as `columns` (a sheet of empty rows has none)

    def table(self) -> pd.DataFrame:
        """The sheet as a frame of text (built once from `columns` when it came as those)."""
        if self.grid is None:
            index = pd.RangeIndex(self.height)
            self.grid = pd.DataFrame({j: pd.Series(pd.array(text_of(column), dtype="str"), index=index)
                                      for j, column in enumerate(self.columns or [])}, index=index)
        return self.grid

    @property
    def rows(self) -> int:
        return len(self.grid) if self.grid is not None else self.height


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
        if path.is_symlink():
            raise InputError(f"{path.name}: 快捷方式(链接)指向的文件不存在(broken link: its target does not exist)") from None
        raise InputError(f"{path.name}: 文件在读取前已不存在(file disappeared before it could be read)") from None
    except OSError as error:
        if path.is_symlink():
            raise InputError(f"{path.name}: 快捷方式(链接)无法打开,可能指向自身形成循环(link cannot be followed: {error.strerror})") from None
        raise InputError(f"{path.name}: 无法打开文件(cannot open file: {error.strerror})") from None
    if not head or (len(head) < 4096 and not head.removeprefix(b"\xef\xbb\xbf").strip()):  # nothing, or a BOM and blank lines
        raise InputError(f"{path.name}: 文件为空(empty file)")
    if head.startswith(UTF16_BOMS):  # Excel's "Unicode text" (tab-separated UTF-16), not binary
        return _read_csv(path)
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
        # An encrypted .xlsx is an OLE container; calamine only says so when the suffix is .xlsx.
        if type(error).__name__ == "PasswordError" or "password" in text.lower() or (kind == "ole" and _is_encrypted_ooxml(path)):
            raise InputError(f"{path.name}: 工作簿已加密或受密码保护,请另存为无密码文件(encrypted or password-protected workbook)") from None
        raise InputError(f"{path.name}: 工作簿已损坏或格式不正确,无法读取(corrupt or unreadable workbook: {text[:120]})") from None
    sheets = []
    hidden = []
    try:
        for info in workbook.sheets_metadata:
            # Hidden sheets hold drop-down lists and helper tables, never a unit's data.
            if str(info.visible).rsplit(".", 1)[-1] != "Visible" or str(info.typ).rsplit(".", 1)[-1] != "WorkSheet":
                hidden.append(info.name)
                continue
            name = info.name
            sheet = workbook.get_sheet_by_name(name)
            rows = sheet.to_python(skip_empty_area=False)
            width = max((len(row) for row in rows), default=0)
            texts = [[_cell_text(v) for v in row] + [""] * (width - len(row)) for row in rows]
            merged = [tuple(map(tuple, r)) for r in (sheet.merged_cell_ranges or [])]
            columns = [pa.array(column, type=pa.large_string()) for column in zip(*texts)]
            sheets.append(RawSheet(name=name, merged=merged, head=texts[:HEAD_ROWS], columns=columns, height=len(texts)))
        if kind == "xlsx" and sheets:
            _restore_unsaved_cells(path, sheets)
    except InputError:
        raise
    except Exception as error:
        raise InputError(f"{path.name}: 工作簿内容损坏,无法读取(corrupt workbook content: {str(error)[:120]})") from None
    finally:
        workbook.close()
    if not sheets and hidden:
        names = "、".join(hidden[:5])
        raise InputError(f"{path.name}: 所有工作表都已隐藏({names}),未读取;如含数据请取消隐藏后重新报送(every sheet is hidden)")
    return sheets


def _is_encrypted_ooxml(path: Path) -> bool:
    """An OLE file holding an `EncryptedPackage` stream: a password-protected .xlsx. The stream's
    name is in the container's directory, whose first sector the header gives (MS-CFB 2.2)."""
    try:
        with path.open("rb") as handle:
            header = handle.read(512)
            shift = int.from_bytes(header[0x1E:0x20], "little")
            first_directory_sector = int.from_bytes(header[0x30:0x34], "little")
            if 7 <= shift <= 16 and first_directory_sector < 0xFFFFFFFA:
                handle.seek((first_directory_sector + 1) << shift)
                if ENCRYPTED_PACKAGE in handle.read(1 << 16):
                    return True
            handle.seek(0)
            return ENCRYPTED_PACKAGE in handle.read(1 << 20)
    except OSError:
        return False


XLSX_CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
XLSX_MARKERS = (b"<f", b't="e"')  # a formula, an error value
XLSX_REF = re.compile(rb'\br="([A-Z]+)(\d+)"')
XLSX_VALUE = re.compile(rb"<v>([^<]*)</v>")


def _restore_unsaved_cells(path: Path, sheets: list[RawSheet]) -> None:
    """Put back what calamine reads as an empty cell although the cell is not empty.

    An Excel error value (#N/A from a failed VLOOKUP, #DIV/0!) and a formula saved without its
    result (workbooks written by scripts and web systems are never calculated) both read as "".
    Taken for empty, an optional value would vanish silently; written back as text (the error
    value, or `UNSAVED_FORMULA`), the cleaner quarantines the row and says why. Only sheets
    whose XML has a formula or an error cell are scanned.
    """
    import html
    import zipfile

    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        workbook = archive.read("xl/workbook.xml").decode("utf-8", "replace")
        rels = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace") if "xl/_rels/workbook.xml.rels" in names else ""
        targets = {m.group(1): m.group(2) for m in re.finditer(r'<Relationship\b[^>]*?Id="([^"]+)"[^>]*?Target="([^"]+)"', rels)}
        targets |= {m.group(2): m.group(1) for m in re.finditer(r'<Relationship\b[^>]*?Target="([^"]+)"[^>]*?Id="([^"]+)"', rels)}
        members = {}
        for m in re.finditer(r"<(?:\w+:)?sheet\b([^>]*)/?>", workbook):
            name = re.search(r'\bname="([^"]*)"', m.group(1))
            rid = re.search(r'\br:id="([^"]*)"', m.group(1))
            if name and rid and rid.group(1) in targets:
                target = targets[rid.group(1)]
                members[html.unescape(name.group(1))] = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        for sheet in sheets:
            member = members.get(sheet.name)
            if member not in names:
                continue
            data = archive.read(member)
            found = {}
            for cell in _marked_cells(data):
                attrs, body = cell.group(1), cell.group(2) or b""
                value = XLSX_VALUE.search(body)
                if b't="e"' in attrs and value:
                    text = value.group(1).decode("utf-8", "replace")
                elif b"<f" in body and not (value and value.group(1)) and b't="str"' not in attrs:
                    formula = re.search(rb"<f[^>]*>([^<]*)</f>", body)
                    text = f"{UNSAVED_FORMULA}(={html.unescape(formula.group(1).decode('utf-8', 'replace'))})" if formula else UNSAVED_FORMULA
                else:
                    continue
                ref = XLSX_REF.search(attrs)
                if ref:
                    found[(int(ref.group(2)) - 1, _column_index(ref.group(1).decode()))] = text
            if found:
                _write_cells(sheet, found)


def _marked_cells(data: bytes):
    """The `<c>` elements of a sheet's XML holding a formula or an error value, found from those
    markers (a big sheet with one SUM row is not parsed cell by cell)."""
    starts = set()
    for marker in XLSX_MARKERS:
        position = data.find(marker)
        while position >= 0:
            start = max(data.rfind(b"<c ", 0, position), data.rfind(b"<c>", 0, position))
            if start >= 0:
                starts.add(start)
            end = data.find(b"</c>", position)
            position = data.find(marker, end if end > position else position + 1)
    for start in sorted(starts):
        cell = XLSX_CELL.match(data, start)
        if cell:
            yield cell


def column_letter(index: int) -> str:
    """0 -> "A", 25 -> "Z", 26 -> "AA": a column as the analyst sees it in Excel."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


def _write_cells(sheet: RawSheet, cells: dict[tuple[int, int], str]) -> None:
    """Set table cells that calamine left empty, growing the table when a cell lies beyond it."""
    rows = max(r for r, _ in cells) + 1
    width = max(c for _, c in cells) + 1
    grid = sheet.table()
    if rows > len(grid) or width > grid.shape[1]:
        grid = grid.reindex(index=range(max(rows, len(grid))), columns=range(max(width, grid.shape[1])), fill_value="")
        grid = grid.fillna("").astype("str")
    for (r, c), text in cells.items():
        if grid.iat[r, c] == "":
            grid.iat[r, c] = text
    sheet.grid, sheet.head, sheet.columns, sheet.height = grid, None, None, len(grid)


# --- Parquet (large exports, benchmarks) ---------------------------------------------------------


def _head(columns: list[pa.ChunkedArray]) -> list[list[str]]:
    """RawSheet.head of a sheet given as Arrow columns: its first HEAD_ROWS rows as lists of text."""
    return [list(row) for row in zip(*(column.slice(0, HEAD_ROWS).to_pylist() for column in columns))]


def _read_parquet(path: Path) -> list[RawSheet]:
    try:
        schema = pq.read_schema(path)
        text = all(pa.types.is_string(t) or pa.types.is_large_string(t) for t in schema.types)
        # Repeating text read as dictionaries (the file's own dictionary pages: the cleaner's
        # distinct values without hashing any text, `clean._stacked`); the rest as it is.
        table = pq.read_table(path, read_dictionary=_repeating(pq.ParquetFile(path).metadata) if text else None)
    except Exception as error:
        raise InputError(f"{path.name}: Parquet 文件损坏(corrupt Parquet file: {str(error)[:120]})") from None
    names = [str(c) for c in table.column_names]
    if text and table.num_rows:
        # Arrow columns, as a workbook's sheet comes (RawSheet.columns): no frame of the table.
        columns = [_parquet_text(column) for column in table.columns]
        return [RawSheet(name=path.stem, preamble=[names], head=_head(columns), columns=columns, height=table.num_rows)]
    frame = table.to_pandas(types_mapper=lambda _: pd.StringDtype("pyarrow")) if table.num_rows else pd.DataFrame(columns=table.column_names)
    grid = frame.astype("str").fillna("")
    grid.columns = range(len(names))
    return [RawSheet(name=path.stem, grid=grid, preamble=[names])]


DICTIONARY_BYTES_PER_VALUE = 4  # `_repeating`: at most this many bytes per value, uncompressed
DICTIONARY_TEXT = pa.dictionary(pa.int32(), pa.large_string())  # a Parquet column's repeating text


def _repeating(metadata: pq.FileMetaData) -> list[str]:
    """The columns stored as dictionaries in every row group, at few bytes per value (a small
    dictionary and narrow codes). Ids are not: a dictionary as long as its data, given up half
    way (Parquet writers fall back to plain pages), and asking for one makes Arrow hash every id."""
    chosen = []
    for j in range(metadata.num_columns):
        chunks = [metadata.row_group(i).column(j) for i in range(metadata.num_row_groups)]
        if all(c.has_dictionary_page and c.total_uncompressed_size <= DICTIONARY_BYTES_PER_VALUE * c.num_values for c in chunks):
            chosen.append(metadata.schema.column(j).path)
    return chosen


def _parquet_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A Parquet text column as RawSheet.columns holds it: dictionary chunks of large_string
    values when read as dictionaries (`_repeating`) and no cell is empty and no chunk's values
    barely repeat; else large_string, "" for an empty cell."""
    if pa.types.is_dictionary(column.type):
        chunks = [chunk.cast(DICTIONARY_TEXT) for chunk in column.chunks]
        if not column.null_count and all(2 * len(chunk.dictionary) <= len(chunk) for chunk in chunks):
            return pa.chunked_array(chunks, DICTIONARY_TEXT)
    column = column.cast(pa.large_string())
    return pc.fill_null(column, "") if column.null_count else column


def text_of(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """A column of `RawSheet.columns` as plain large_string (dictionaries decoded)."""
    return column.cast(pa.large_string()) if pa.types.is_dictionary(column.type) else column


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
    if sample.startswith(UTF16_BOMS):
        return "utf-16"
    if more:
        sample = sample[: sample.rfind(b"\n") + 1] or sample
    try:
        encoding = detect_encoding(sample)
    except UnicodeDecodeError:
        with path.open("rb") as handle:
            problem = _encoding_problem(path.name, handle)
        raise InputError(problem or f"{path.name}: 文本编码无法识别(既非 UTF-8 也非 GBK/GB18030)(unknown text encoding)") from None
    # GB18030 decodes most byte strings, UTF-8 lines included (as mojibake): look for them.
    if encoding == "gb18030" and (problem := _encoding_problem(path.name, sample.splitlines(keepends=True))):
        raise InputError(problem)
    return encoding


CJK = re.compile(r"[\u3400-\u9fff\U00020000-\U0003134f]")


def _line_encoding(line: bytes) -> str | None:
    """"UTF-8" or "GBK" when only that one fits the line, "" when both do (ASCII, or a short GBK
    line that happens to be valid UTF-8: taken for UTF-8 only with two or more CJK characters),
    None when neither does."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    try:
        line.decode("gb18030")
        gbk = True
    except UnicodeDecodeError:
        gbk = False
    if text is not None and (not gbk or len(CJK.findall(text)) >= 2):
        return "UTF-8"
    if gbk:
        return "GBK" if text is None else ""
    return None


def _encoding_problem(name: str, lines) -> str | None:
    """Why no single encoding reads a text file, naming the row: a line neither UTF-8 nor GB18030
    decodes, or UTF-8 and GBK lines mixed in one file (two files pasted together). Decoding the
    whole file with either would turn the other part into mojibake silently. None: every line
    fits one encoding."""
    first = None
    for number, line in enumerate(lines, start=1):
        if line.isascii():
            continue
        kind = _line_encoding(line)
        if kind is None:
            return f"{name}: 第{number}行的文本编码无法识别(既非 UTF-8 也非 GBK/GB18030)(unknown text encoding at row {number})"
        if not kind:
            continue
        if first is None:
            first = kind
        elif kind != first:
            return (f"{name}: 第{number}行起为 {kind} 编码,之前为 {first} 编码,文件混用了两种文本编码;"
                    f"请统一另存为 UTF-8 后重新报送(mixed text encodings from row {number})")
    return None


def _read_csv(path: Path) -> list[RawSheet]:
    encoding = _sample_encoding(path)
    with path.open("r", encoding=encoding, newline="") as handle:
        head = [line for _, line in zip(range(64), handle)]
    delimiter = _delimiter(head[:20])
    width = max((len(row) for row in csv.reader(head, delimiter=delimiter)), default=1)
    fast = _read_csv_arrow(path, encoding, delimiter, head) if path.stat().st_size >= ARROW_CSV_BYTES else None
    if fast is not None:
        return [fast]
    try:
        grid = pd.read_csv(
            path, header=None, names=range(width), dtype="str", keep_default_na=False, na_filter=False,
            encoding=encoding, sep=delimiter, skip_blank_lines=False, engine="c",
        )
    except UnicodeDecodeError:  # the first MiB decoded, a later part does not
        with path.open("rb") as handle:
            problem = _encoding_problem(path.name, handle)
        if problem:
            raise InputError(problem) from None
        grid = _read_csv_fallback(path, "gb18030", delimiter)
    except pd.errors.ParserError as error:
        # A quote opened and never closed swallows every later line into one cell.
        if unclosed := re.search(r"EOF inside string starting at row (\d+)", str(error)):
            row = int(unclosed.group(1)) + 1
            raise InputError(f"{path.name}: 第{row}行有未配对的引号,其后各行无法可靠读取(unclosed quote at row {row})") from None
        # Rows wider than the first 64 lines: read ragged with the csv module instead.
        grid = _read_csv_fallback(path, encoding, delimiter)
    except pd.errors.EmptyDataError:
        raise InputError(f"{path.name}: 文件为空(empty file)") from None
    return [RawSheet(name=path.stem, grid=grid.fillna(""))]


def _read_csv_arrow(path: Path, encoding: str, delimiter: str, head: list[str]) -> RawSheet | None:
    """A big UTF-8 CSV read by pyarrow's multi-threaded reader: the sheet `pd.read_csv`'s grid
    would give, as Arrow columns (RawSheet.columns; no frame of millions of rows is built).

    The lines above the table (title, 填报单位 line) are parsed from `head`; pyarrow reads from the
    first line of the block of equally wide rows that runs to the end of `head`. None (and the
    caller's general reader runs) when the file is not UTF-8, a head line opens a quoted field it
    does not close, or any later row differs in width (a blank line, a footer, a ragged row):
    every row keeps its place, so row numbers stay the analyst's.
    """
    if encoding != "utf-8-sig" or not head or any(line.count('"') % 2 for line in head):
        return None
    rows = [next(csv.reader([line], delimiter=delimiter), []) for line in head]
    width = max(len(row) for row in rows)
    start = len(rows)
    while start > 0 and len(rows[start - 1]) == width:
        start -= 1
    if width < 2 or start == len(rows):
        return None
    with path.open("rb") as handle:
        offset = (3 if handle.read(3) == b"\xef\xbb\xbf" else 0) + sum(len(line.encode("utf-8")) for line in head[:start])
    names = [str(c) for c in range(width)]
    try:
        with pa.memory_map(str(path)) as source:
            # A line break inside a value needs a quote; without any, pyarrow may split the file
            # at every line end and parse the pieces in parallel.
            with mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_READ) as view:
                quoted = view.find(b'"', offset) >= 0
            source.seek(offset)
            table = pcsv.read_csv(
                source, read_options=pcsv.ReadOptions(column_names=names, block_size=16 << 20),
                parse_options=pcsv.ParseOptions(delimiter=delimiter, newlines_in_values=quoted, ignore_empty_lines=False),
                # large_string, as pandas' `str` holds text: the columns become the grid uncopied.
                convert_options=pcsv.ConvertOptions(column_types={n: pa.large_string() for n in names}, strings_can_be_null=False))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    top = [row + [""] * (width - len(row)) for row in rows[:start]]  # (the lines above the block)
    columns = [pa.chunked_array([pa.array([row[j] for row in top], pa.large_string()), *table.column(j).chunks],
                                pa.large_string()) for j in range(width)]
    return RawSheet(name=path.stem, head=_head(columns), columns=columns, height=start + table.num_rows)


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


def readable_name(name: str) -> str:
    """A file name as the analyst would read it. A name that is not UTF-8 on disk (a zip made on
    Chinese Windows stores GBK names) arrives with undecodable bytes, which no table or terminal can
    hold; it is decoded as GB18030 when that works, else shown with replacement characters.
    Each part of a relative path is decoded on its own (a UTF-8 folder may hold a GBK file)."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        pass
    parts = []
    for part in name.split("/"):
        data = part.encode("utf-8", "surrogateescape")
        try:
            parts.append(data.decode("utf-8"))
        except UnicodeDecodeError:
            try:
                parts.append(data.decode("gb18030"))
            except UnicodeDecodeError:
                parts.append(data.decode("utf-8", "replace"))
    return "/".join(parts)
