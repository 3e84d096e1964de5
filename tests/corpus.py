"""A corpus of malformed submissions, each with what the analyst should be told.

SPEC "Cleaning": every input row ends in exactly one place, and a file that cannot be read at all
gives one clear error naming the file and why, while the other files still run. Each `Case` below
writes one input into a raw folder and states its outcome:

- "error"        the file (or its only sheet) cannot be used: `files.status` is "error", and the
                 file's summary line and `files.message` hold `message` (and "第{row}行" if `row`);
- "unrecognised" read, but no table found in it; "empty": read, nothing in it; same checks;
- "note"         read, and `files.message` holds `message` (e.g. a header without data rows);
- "quarantine"   read; row `row` is in the quarantine with a reason holding `message`;
- "clean"        read; row `row` is in a clean table (`check` looks closer: a name kept intact);
- "ignored"      not a submission (an Office lock file, a folder): no `files` row, no message.

Inputs are generated here; the one binary committed is tests/data/encrypted.xlsx (a real
password-protected workbook, made once with msoffcrypto-tool, which the project does not need).
All cases share the month 2020-03 and each uses its own ids and enterprise names, so no two
cases are duplicates of each other.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd

from helpers_raw import ACCIDENT_HEADER, ENFORCEMENT_HEADER, HAZARD_HEADER, accident, hazard, inspection, submission, write_sheet

DATA = Path(__file__).parent / "data"
TITLE = "2020年3月隐患排查治理台账"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
# Names that must come out exactly as they went in: CJK Extension B (𠮷 U+20BB7, 𪚥 U+2A6A5),
# emoji with a skin tone and a ZWJ family sequence (several code points, one glyph).
RARE_NAMES = ["𠮷野家𪚥餐饮店", "😀开心👍🏽五金商行", "👨‍👩‍👧家庭农场(𡈽)"]
MARKUP = ["<script>alert(1)</script>", '=HYPERLINK("http://x","y")', "+SUM(A1:A9)", "@cmd|' /C calc'!A0", "-2+3"]
BIG_ROWS = 100_000


@dataclass(frozen=True)
class Case:
    name: str                      # the file as the analyst sees it, relative to the raw folder
    build: Callable[[Path, "Case"], None]
    outcome: str                   # error | unrecognised | empty | note | quarantine | clean | ignored
    message: str = ""              # a fragment of what the analyst reads
    row: int | None = None         # the row the message names (1-based, as in Excel)
    check: Callable[[dict[str, pd.DataFrame], "Case"], None] | None = None

    @property
    def tag(self) -> str:
        """A short id for this case's records (ids and enterprise names must not collide)."""
        return f"C{CASES.index(self):02d}"


# --- sheet helpers --------------------------------------------------------------------------------------


def hazard_rows(case: Case, n: int = 2, **cells) -> list[list]:
    return [hazard(隐患编号=f"{case.tag}-{i}", 企业名称=f"{case.tag}企业{i}", **cells) for i in range(n)]


def hazard_sheet(case: Case, rows: list[list] | None = None, title: str = TITLE) -> list[list]:
    grid, _ = submission(title, HAZARD_HEADER, rows if rows is not None else hazard_rows(case))
    return grid


def csv_text(grid: list[list]) -> str:
    return "".join(",".join(str(c) for c in row) + "\r\n" for row in grid)


def write_bytes(data: bytes) -> Callable[[Path, Case], None]:
    def build(raw: Path, case: Case) -> None:
        (raw / case.name).write_bytes(data)
    return build


def hazards_as(fmt: str | None = None, **kwargs) -> Callable[[Path, Case], None]:
    """A good hazard sheet, with `hazard(...)` overrides for its first row."""
    def build(raw: Path, case: Case) -> None:
        rows = hazard_rows(case)
        rows[0] = hazard(隐患编号=f"{case.tag}-0", 企业名称=f"{case.tag}企业0", **kwargs)
        write_sheet(raw / case.name, hazard_sheet(case, rows), fmt=fmt)
    return build


def inspections_as(fmt: str | None = None, **kwargs) -> Callable[[Path, Case], None]:
    def build(raw: Path, case: Case) -> None:
        rows = [inspection(检查编号=f"{case.tag}-{i}", 被检查单位=f"{case.tag}企业{i}") for i in range(2)]
        rows[0] = inspection(检查编号=f"{case.tag}-0", 被检查单位=f"{case.tag}企业0", **kwargs)
        grid, _ = submission("2020年3月执法检查情况统计表", ENFORCEMENT_HEADER, rows)
        write_sheet(raw / case.name, grid, fmt=fmt)
    return build


def accidents_as(**kwargs) -> Callable[[Path, Case], None]:
    def build(raw: Path, case: Case) -> None:
        rows = [accident(事故编号=f"{case.tag}-{i}", 事故发生单位=f"{case.tag}企业{i}", 发生时间=f"2020-03-0{i + 1} 10:00",
                         报告时间=f"2020-03-0{i + 1} 10:30") for i in range(2)]
        rows[0] = accident(事故编号=f"{case.tag}-0", 事故发生单位=f"{case.tag}企业0", **kwargs)
        grid, _ = submission("2020年3月生产安全事故统计表", ACCIDENT_HEADER, rows)
        write_sheet(raw / case.name, grid)
    return build


# --- builders that need more than a cell changed ----------------------------------------------------------


def truncated_xlsx(raw: Path, case: Case) -> None:
    whole = write_sheet(raw / f"_{case.tag}.xlsx", hazard_sheet(case))
    data = whole.read_bytes()
    whole.unlink()
    (raw / case.name).write_bytes(data[: len(data) // 2])


def truncated_xls(raw: Path, case: Case) -> None:
    whole = write_sheet(raw / f"_{case.tag}.xls", hazard_sheet(case), fmt="xls")
    data = whole.read_bytes()
    whole.unlink()
    (raw / case.name).write_bytes(data[:1536])  # the OLE header and a little more


def zip_without_workbook(raw: Path, case: Case) -> None:
    with zipfile.ZipFile(raw / case.name, "w") as archive:
        archive.writestr("说明.txt", "这是一个压缩包,不是工作簿")


def encrypted(raw: Path, case: Case) -> None:
    shutil.copyfile(DATA / "encrypted.xlsx", raw / case.name)


def mixed_encodings(first: str, then: str) -> Callable[[Path, Case], None]:
    """Two units' CSVs pasted together: rows 1-5 in one encoding, rows 6-7 in the other."""
    def build(raw: Path, case: Case) -> None:
        grid = hazard_sheet(case, hazard_rows(case, 4))
        (raw / case.name).write_bytes(csv_text(grid[:5]).encode(first) + csv_text(grid[5:]).encode(then))
    return build


def gbk_then_utf8(raw: Path, case: Case) -> None:
    """GBK rows 1-5, then a UTF-8 row 6 whose bytes GB18030 also decodes (as mojibake): read
    as GB18030, the file would go through without an error, row 6 garbled."""
    grid = hazard_sheet(case, hazard_rows(case, 2))
    utf8_row = f"{case.tag}-9,东湖,企业名称,2020-03-02,2020-03-20,,重大,,举报\r\n".encode("utf-8")
    utf8_row.decode("gb18030")  # the point of the case
    (raw / case.name).write_bytes(csv_text(grid).encode("gbk") + utf8_row)


def undecodable_row(raw: Path, case: Case) -> None:
    grid = hazard_sheet(case)
    data = csv_text(grid[:3]).encode("utf-8") + b"\xff\xfe\xfd broken,\x81\x30\r\n" + csv_text(grid[3:]).encode("utf-8")
    (raw / case.name).write_bytes(data)


def text_then_junk(raw: Path, case: Case) -> None:
    """A download cut off and padded with garbage, past the first 4 KiB the format is sniffed from."""
    text = csv_text(hazard_sheet(case, hazard_rows(case, 100))).encode("utf-8")
    assert len(text) > 4096
    (raw / case.name).write_bytes(text + bytes(range(256)) * 40)


def unclosed_quote(raw: Path, case: Case) -> None:
    grid = hazard_sheet(case, hazard_rows(case, 3))
    grid[3] = list(grid[3])
    grid[3][2] = '"' + grid[3][2]  # row 4: a quote opened and never closed swallows rows 5 and 6
    (raw / case.name).write_bytes(csv_text(grid).encode("utf-8"))


def utf16_text(raw: Path, case: Case) -> None:
    """Excel's "Unicode text" save: UTF-16 with a BOM, tab-separated."""
    text = "".join("\t".join(str(c) for c in row) + "\r\n" for row in hazard_sheet(case))
    (raw / case.name).write_bytes(text.encode("utf-16"))


def all_hidden(raw: Path, case: Case) -> None:
    """Every sheet hidden (Excel refuses to save that, other tools do not): data sheet and list sheet."""
    import openpyxl

    book = openpyxl.Workbook()
    for row in hazard_sheet(case):
        book.active.append(row)
    book.create_sheet("下拉选项").sheet_state = "veryHidden"
    book.save(raw / f"_{case.tag}.xlsx")
    with zipfile.ZipFile(raw / f"_{case.tag}.xlsx") as source, zipfile.ZipFile(raw / case.name, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/workbook.xml":
                data = data.replace(b'state="visible"', b'state="hidden"')
            target.writestr(item, data)
    (raw / f"_{case.tag}.xlsx").unlink()


def broken_link(raw: Path, case: Case) -> None:
    os.symlink("已删除的文件.xlsx", raw / case.name)


def link_loop(raw: Path, case: Case) -> None:
    os.symlink(case.name, raw / case.name)


def folder_link_loop(raw: Path, case: Case) -> None:
    (raw / case.name).parent.mkdir(parents=True, exist_ok=True)
    os.symlink("..", raw / case.name)


def missing_column(raw: Path, case: Case) -> None:
    header = [h for h in HAZARD_HEADER if h != "整改期限"]
    rows = [[c for h, c in zip(HAZARD_HEADER, row) if h != "整改期限"] for row in hazard_rows(case)]
    grid, _ = submission(TITLE, header, rows)
    write_sheet(raw / case.name, grid)


def duplicated_column(raw: Path, case: Case) -> None:
    header = HAZARD_HEADER + ["排查日期"]  # 排查日期 is another name of 发现日期
    rows = [row + ["2020-03-03"] for row in hazard_rows(case)]
    grid, _ = submission(TITLE, header, rows)
    write_sheet(raw / case.name, grid)


def no_header(raw: Path, case: Case) -> None:
    write_sheet(raw / case.name, [["序号", "甲项", "乙项"], ["1", "x", "y"], ["2", "z", "w"]])


def header_at(row: int) -> Callable[[Path, Case], None]:
    """The header on `row`, under a title and lines of instructions (data from row + 1)."""
    def build(raw: Path, case: Case) -> None:
        notes = [[f"填表说明{i}:请按要求如实填写,不得漏报。"] for i in range(1, row - 1)]
        grid = [[TITLE], *notes, HAZARD_HEADER, *hazard_rows(case)]
        assert grid.index(HAZARD_HEADER) == row - 1
        write_sheet(raw / case.name, grid)
    return build


def prose(raw: Path, case: Case) -> None:
    (raw / case.name).write_text("各办事处:\n请于每月5日前报送上月安全生产工作情况。\n区安委办\n", "utf-8")


def blank_workbook(raw: Path, case: Case) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(raw / case.name))
    book.add_worksheet("Sheet1")
    book.close()


def header_only(with_title: bool) -> Callable[[Path, Case], None]:
    def build(raw: Path, case: Case) -> None:
        grid = hazard_sheet(case, []) if with_title else [HAZARD_HEADER]
        write_sheet(raw / case.name, grid)
    return build


def merged_down(raw: Path, case: Case) -> None:
    """属地单位 merged over three data rows (rows 4-6), as units lay out one unit's records."""
    rows = hazard_rows(case, 3)
    for row in rows[1:]:
        row[1] = ""
    col = HAZARD_HEADER.index("属地单位")
    write_sheet(raw / case.name, hazard_sheet(case, rows), merges=[(3, col, 5, col), (0, 0, 0, 5)])


def formulas_cached(raw: Path, case: Case) -> None:
    import xlsxwriter

    grid, first = submission("2020年3月执法检查情况统计表", ENFORCEMENT_HEADER,
                             [inspection(检查编号=f"{case.tag}-0", 被检查单位=f"{case.tag}企业0")])
    book = xlsxwriter.Workbook(str(raw / case.name))
    sheet = book.add_worksheet("执法")
    for r, row in enumerate(grid):
        for c, value in enumerate(row):
            if value != "":
                sheet.write_string(r, c, str(value))
    sheet.write_formula(first - 1, ENFORCEMENT_HEADER.index("发现隐患数"), "=1+2", None, 3)
    book.close()


def formulas_uncached(raw: Path, case: Case) -> None:
    """Formulas saved by a script (openpyxl): no result stored, calamine reads them as empty."""
    import openpyxl

    rows = [inspection(检查编号=f"{case.tag}-{i}", 被检查单位=f"{case.tag}企业{i}") for i in range(3)]
    rows[0][ENFORCEMENT_HEADER.index("检查日期")] = "=DATE(2020,3,5)"   # required: row 4
    rows[1][ENFORCEMENT_HEADER.index("发现隐患数")] = "=1+2"            # optional: row 5
    grid, _ = submission("2020年3月执法检查情况统计表", ENFORCEMENT_HEADER, rows)
    book = openpyxl.Workbook()
    for row in grid:
        book.active.append(row)
    book.save(raw / case.name)


def error_values(raw: Path, case: Case) -> None:
    """#N/A (a failed VLOOKUP) in the optional 罚款金额 of row 4, stored as an error cell."""
    import openpyxl

    rows = [inspection(检查编号=f"{case.tag}-{i}", 被检查单位=f"{case.tag}企业{i}") for i in range(2)]
    grid, first = submission("2020年3月执法检查情况统计表", ENFORCEMENT_HEADER, rows)
    book = openpyxl.Workbook()
    for row in grid:
        book.active.append(row)
    cell = book.active.cell(first, ENFORCEMENT_HEADER.index("罚款金额") + 1)
    cell.value, cell.data_type = "#N/A", "e"
    book.save(raw / case.name)


def long_cell(column: str) -> Callable[[Path, Case], None]:
    def build(raw: Path, case: Case) -> None:
        rows = hazard_rows(case)
        rows[0][HAZARD_HEADER.index(column)] = "长" * 100_000
        write_sheet(raw / case.name, hazard_sheet(case, rows))
    return build


def rare_names(fmt: str, encoding: str = "utf-8") -> Callable[[Path, Case], None]:
    def build(raw: Path, case: Case) -> None:
        rows = [hazard(隐患编号=f"{case.tag}-{i}", 企业名称=name + case.tag) for i, name in enumerate(RARE_NAMES)]
        write_sheet(raw / case.name, hazard_sheet(case, rows), fmt=fmt, encoding=encoding)
    return build


def markup_names(raw: Path, case: Case) -> None:
    rows = [hazard(隐患编号=f"{case.tag}-{i}", 企业名称=name) for i, name in enumerate(MARKUP)]
    write_sheet(raw / case.name, hazard_sheet(case, rows))


def big_sheet(raw: Path, case: Case) -> None:
    head = csv_text(hazard_sheet(case, []))
    lines = [f"{case.tag}-{i},南湖办事处,{case.tag}企业{i},2020-03-{1 + i % 20:02d},2020-03-28,,一般,否,部门检查\r\n"
             for i in range(BIG_ROWS)]
    (raw / case.name).write_text(head + "".join(lines), "utf-8")


def ragged(raw: Path, case: Case) -> None:
    """70 rows; row 6 is short (its last cells missing), row 75 long (past pandas' look-ahead)."""
    rows = hazard_rows(case, 72)
    rows[2] = rows[2][:4]
    rows[71] = rows[71] + ["备注", "多出的一格"]
    (raw / case.name).write_text(csv_text(hazard_sheet(case, rows)), "utf-8")


def two_header_rows(raw: Path, case: Case) -> None:
    english = ["hazard_id", "unit", "enterprise", "found_at", "deadline", "rectified_at", "level", "supervised", "source"]
    grid, _ = submission(TITLE, [HAZARD_HEADER, english], hazard_rows(case))
    write_sheet(raw / case.name, grid)


def gbk_file_name(raw: Path, case: Case) -> None:
    """A file name stored in GBK bytes (a zip made on Chinese Windows, unpacked on Linux)."""
    path = os.fsencode(raw) + b"/" + case.name.encode("gbk")
    (raw / "_gbk.csv").write_text(csv_text(hazard_sheet(case)), "utf-8")
    os.rename(raw / "_gbk.csv", path)


def nested(raw: Path, case: Case) -> None:
    (raw / case.name).parent.mkdir(parents=True, exist_ok=True)
    (raw / case.name).write_text(csv_text(hazard_sheet(case)), "utf-8")


def lock_file(raw: Path, case: Case) -> None:
    (raw / case.name).write_bytes(b"\x06WangWu" + b"\x00" * 40 + "王五".encode("utf-16-le") + b"\x00" * 100)


def multiline_cell(raw: Path, case: Case) -> None:
    rows = hazard_rows(case)
    rows[0][2] = f"{case.tag}企业0\n(分厂)"
    import csv
    import io

    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(hazard_sheet(case, rows))
    (raw / case.name).write_text(out.getvalue(), "utf-8")


# --- checks on the clean rows -----------------------------------------------------------------------------


def clean_of(run: dict[str, pd.DataFrame], case: Case, table: str = "hazards") -> pd.DataFrame:
    frame = run[table]
    return frame[frame["source_file"].eq(case.name)].sort_values("source_row")


def names_intact(expected: list[str]) -> Callable[[dict, Case], None]:
    def check(run: dict, case: Case) -> None:
        assert clean_of(run, case)["enterprise"].tolist() == expected
    return check


def count_clean(n: int, table: str = "hazards") -> Callable[[dict, Case], None]:
    def check(run: dict, case: Case) -> None:
        assert len(clean_of(run, case, table)) == n
    return check


def value_is(table: str, column: str, expected) -> Callable[[dict, Case], None]:
    def check(run: dict, case: Case) -> None:
        assert clean_of(run, case, table)[column].iloc[0] == expected
    return check


def raw_value_kept(text: str) -> Callable[[dict, Case], None]:
    def check(run: dict, case: Case) -> None:
        quarantine = run["quarantine"]
        mine = quarantine[quarantine["source_file"].eq(case.name)]
        assert text in mine["raw_value"].tolist()
    return check


def merged_unit(run: dict, case: Case) -> None:
    rows = clean_of(run, case)
    assert rows["source_row"].tolist() == [4, 5, 6] and rows["unit"].eq("南湖办事处").all()


def english_header_is_not_data(run: dict, case: Case) -> None:
    files = run["files"]
    row = files[files["source_file"].eq(case.name)].iloc[0]
    assert row["quarantined"] == 0 and row["clean"] == 2 and "重复表头1" in row["nondata_detail"]


def ragged_rows(run: dict, case: Case) -> None:
    assert len(clean_of(run, case)) == 71
    quarantine = run["quarantine"]
    assert set(quarantine.loc[quarantine["source_file"].eq(case.name), "source_row"]) == {6}


def formulas_quarantined(run: dict, case: Case) -> None:
    quarantine = run["quarantine"]
    mine = quarantine[quarantine["source_file"].eq(case.name)]
    assert set(mine["source_row"]) == {4, 5}
    assert mine["raw_value"].str.contains("=1+2", regex=False).any()
    assert len(clean_of(run, case, "enforcement")) == 1


def amounts_converted(run: dict, case: Case) -> None:
    rows = clean_of(run, case, "enforcement")
    assert rows["hazards_found"].tolist() == [3, 2] and rows["fine_wan"].tolist()[0] == 12.5


def rare_names_intact(run: dict, case: Case) -> None:
    assert clean_of(run, case)["enterprise"].tolist() == [name + case.tag for name in RARE_NAMES]


def long_name_kept(run: dict, case: Case) -> None:
    assert clean_of(run, case)["enterprise"].tolist() == ["长" * 100_000, f"{case.tag}企业1"]


def dangerous_dates(run: dict, case: Case) -> None:
    quarantine = run["quarantine"]
    mine = quarantine[quarantine["source_file"].eq(case.name)]
    assert set(mine["source_row"]) == {4, 5} and mine["reason"].str.contains("(no such date)", regex=False).all()


CASES: list[Case] = [
    # --- the file cannot be used at all -------------------------------------------------------------
    Case("空文件.xlsx", write_bytes(b""), "error", "(empty file)"),
    Case("零字节.csv", write_bytes(b""), "error", "(empty file)"),
    Case("只有BOM.csv", write_bytes(b"\xef\xbb\xbf"), "error", "(empty file)"),
    Case("截断的工作簿.xlsx", truncated_xlsx, "error", "(corrupt or unreadable workbook"),
    Case("不是压缩包.xlsx", write_bytes(b"PK\x03\x04 this is not really a zip archive"), "error", "(corrupt or unreadable workbook"),
    Case("压缩包里没有工作簿.xlsx", zip_without_workbook, "error", "(corrupt or unreadable workbook"),
    Case("截断的旧版工作簿.xls", truncated_xls, "error", "(corrupt or unreadable workbook"),
    Case("图片改名.xlsx", write_bytes(PNG), "error", "(binary content"),
    Case("加密.xlsx", encrypted, "error", "(encrypted or password-protected workbook)"),
    Case("加密改名.xls", encrypted, "error", "(encrypted or password-protected workbook)"),
    Case("网页无表格.xls", write_bytes("<html><body><p>系统维护中,请稍后导出</p></body></html>".encode("utf-8")),
         "error", "(HTML without a table)"),
    Case("损坏.parquet", write_bytes(b"PAR1" + bytes(200) + b"PAR1"), "error", "(corrupt Parquet file"),
    Case("无法识别的编码.csv", undecodable_row, "error", "(unknown text encoding at row 4)", row=4),
    Case("混合编码.csv", mixed_encodings("utf-8", "gbk"), "error", "(mixed text encodings from row 6)", row=6),
    Case("混合编码_先GBK.csv", gbk_then_utf8, "error", "(mixed text encodings from row 6)", row=6),
    Case("文本后接乱码.csv", text_then_junk, "error", "(unknown text encoding at row 105)", row=105),
    Case("开头是二进制.csv", write_bytes(b"\x00\x01\x02binary" + bytes(range(256))), "error", "(binary content"),
    Case("引号不配对.csv", unclosed_quote, "error", "(unclosed quote at row 4)", row=4),
    Case("所有工作表都隐藏.xlsx", all_hidden, "error", "(every sheet is hidden)"),
    Case("断开的链接.xlsx", broken_link, "error", "(broken link"),
    Case("循环链接.xlsx", link_loop, "error", "(link cannot be followed"),
    Case("读取前被删除.xlsx", hazards_as(), "error", "(file disappeared before it could be read)"),  # see VANISHING
    Case("缺少必填列.xlsx", missing_column, "error", "整改期限(missing required column)"),
    Case("重复的列.xlsx", duplicated_column, "error", "(duplicated column)"),
    # --- read, but nothing to take from it ------------------------------------------------------------
    Case("没有表头.xlsx", no_header, "unrecognised", "(no recognisable header)"),
    Case("表头在第40行.xlsx", header_at(40), "unrecognised", "(no recognisable header)"),
    Case("说明文字.txt", prose, "unrecognised", "(no recognisable header)"),
    Case("空白工作簿.xlsx", blank_workbook, "empty", "(empty sheet)"),
    Case("BOM加空行.csv", write_bytes(b"\xef\xbb\xbf\r\n\r\n\r\n"), "error", "(empty file)"),
    Case("只有表头.csv", header_only(False), "note", "(no data rows)"),
    Case("只有标题和表头.xlsx", header_only(True), "note", "(no data rows)"),
    # --- rows the analyst must hear about -------------------------------------------------------------
    Case("公式无保存结果.xlsx", formulas_uncached, "quarantine", "(formula saved without its result)", row=4,
         check=formulas_quarantined),
    Case("错误值.xlsx", error_values, "quarantine", "(Excel error value)", row=4),
    Case("错误值.csv", inspections_as(发现隐患数="#DIV/0!"), "quarantine", "(Excel error value)", row=4),
    Case("数字写成汉字.csv", inspections_as(发现隐患数="三项"), "quarantine", "(not a number)", row=4),
    Case("负数.xlsx", accidents_as(死亡人数=-1), "quarantine", "(negative count)", row=4),
    Case("负金额.csv", accidents_as(直接经济损失="-5万元"), "quarantine", "(negative amount)", row=4),
    Case("十亿死亡.xlsx", accidents_as(死亡人数=10**9), "quarantine", "(absurdly large count)", row=4),
    Case("万亿罚款.xlsx", inspections_as(罚款金额=10**12), "quarantine", "(absurdly large amount)", row=4),
    Case("不存在的日期.csv", lambda raw, case: write_sheet(raw / case.name, hazard_sheet(case, [
        hazard(隐患编号=f"{case.tag}-0", 企业名称=f"{case.tag}企业0", 发现日期="2020-02-30"),
        hazard(隐患编号=f"{case.tag}-1", 企业名称=f"{case.tag}企业1", 发现日期="1900-01-00")])),
        "quarantine", "(no such date)", row=4, check=dangerous_dates),
    Case("远离期间的日期.xlsx", hazards_as(发现日期="2035-03-05", 整改期限="2035-03-20", 整改完成日期=""),
         "quarantine", "(date far outside the data period)", row=4),
    Case("是否无法识别.csv", hazards_as(挂牌督办="也许"), "quarantine", "(not a yes/no value)", row=4),
    Case("单位名是脚本.xlsx", hazards_as(属地单位=MARKUP[0]), "quarantine", "(unknown unit", row=4,
         check=raw_value_kept(MARKUP[0])),
    Case("单位名是公式.csv", hazards_as(属地单位=MARKUP[1]), "quarantine", "(unknown unit", row=4,
         check=raw_value_kept(MARKUP[1])),
    Case("超长日期.csv", long_cell("发现日期"), "quarantine", "(unrecognised date)", row=4),
    # --- rows that must come through intact --------------------------------------------------------------
    Case("UTF16文本.csv", utf16_text, "clean", row=4, check=count_clean(2)),
    Case("合并单元格跨数据行.xlsx", merged_down, "clean", row=4, check=merged_unit),
    Case("公式有保存结果.xlsx", formulas_cached, "clean", row=4, check=value_is("enforcement", "hazards_found", 3)),
    Case("数字带单位.csv", lambda raw, case: write_sheet(raw / case.name, submission("2020年3月执法检查情况统计表", ENFORCEMENT_HEADER, [
        inspection(检查编号=f"{case.tag}-0", 被检查单位=f"{case.tag}企业0", 发现隐患数="3项", 是否立案="是", 是否处罚="是", 罚款金额="12.5万元"),
        inspection(检查编号=f"{case.tag}-1", 被检查单位=f"{case.tag}企业1", 发现隐患数="2 项", 罚款金额="0元")])[0]),
        "clean", row=4, check=amounts_converted),
    Case("企业名含标记和公式.xlsx", markup_names, "clean", row=4, check=names_intact(MARKUP)),
    Case("超长企业名.csv", long_cell("企业名称"), "clean", row=4, check=long_name_kept),
    Case("生僻字和表情.xlsx", rare_names("xlsx"), "clean", row=4, check=rare_names_intact),
    Case("生僻字和表情.xls", rare_names("xls"), "clean", row=4, check=rare_names_intact),
    Case("生僻字和表情_网页.xls", rare_names("html"), "clean", row=4, check=rare_names_intact),
    Case("生僻字和表情_GB18030.csv", rare_names("csv", "gb18030"), "clean", row=4, check=rare_names_intact),
    Case("十万行.csv", big_sheet, "clean", row=4, check=count_clean(BIG_ROWS)),
    Case("参差不齐的行.csv", ragged, "quarantine", "(required value missing)", row=6, check=ragged_rows),
    Case("表头在第25行.xlsx", header_at(25), "clean", row=26, check=count_clean(2)),
    Case("两个表头候选.xlsx", two_header_rows, "clean", row=5, check=english_header_is_not_data),
    Case("单元格内换行.csv", multiline_cell, "clean", row=4, check=count_clean(2)),
    Case("南湖办隐患_GBK文件名.csv", gbk_file_name, "clean", row=4, check=count_clean(2)),
    Case("看似工作簿的文件夹.xlsx/内.csv", nested, "clean", row=4, check=count_clean(2)),
    # --- not submissions ------------------------------------------------------------------------------------
    Case("~$锁定文件.xlsx", lock_file, "ignored"),
    Case("回环文件夹/上一级", folder_link_loop, "ignored"),
]

# The case whose file is deleted after the raw folder was listed and before it is read.
VANISHING = "读取前被删除.xlsx"


def build_corpus(raw: Path, cases: list[Case] = CASES) -> None:
    raw.mkdir(parents=True, exist_ok=True)
    for case in cases:
        (raw / case.name).parent.mkdir(parents=True, exist_ok=True)
        case.build(raw, case)
