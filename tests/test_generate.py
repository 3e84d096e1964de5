"""Tests of the sample-data generator (pipeline.generate and its sample_* modules).

The full sample is generated twice per session, in parallel: once through the command line in a
subprocess with a different PYTHONHASHSEED (so set/dict-order leaks would show), once in-process.
Both must give identical bytes; every other test inspects the in-process copy and its plan, and
checks the plan against the bytes actually written.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest
import python_calamine
import xlrd

from pipeline import sample_large
from pipeline.config import PROJECT_ROOT, RAW_DIR
from pipeline.generate import plan, write_large, write_sample
from pipeline.registry import load_registry, split_list
from pipeline.sample_base import rng_for
from pipeline.sample_names import credit_code, id_card, mobile

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
BOM = b"\xef\xbb\xbf"

REQUIRED_QUIRKS = {
    "merged_title_row", "title_row", "meta_line", "two_row_header", "total_row", "subtotal_row", "footer_rows",
    "blank_rows", "fullwidth_digits", "header_brackets_spaces", "numbers_with_units", "fine_in_yuan",
    "date_iso", "date_slash", "date_dot", "date_chinese", "date_excel_serial", "date_excel_cell",
    "datetime_iso", "bool_是否", "bool_√×", "bool_有无", "bool_YN", "bool_10", "enum_variants",
    "xls_html_utf8", "xls_html_gbk", "xls_biff", "csv_gbk", "csv_utf8_bom", "csv_gb18030",
    "alias_unit_name", "personal_data_columns", "empty_sheet",
}
BAD_REASONS = {
    "rectified_before_found", "negative_count", "reported_before_occurred", "unparseable_date",
    "date_out_of_period", "unknown_unit", "misspelt_unit", "invalid_score",
}


# ------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="session")
def samples(tmp_path_factory):
    """(in-process folder, its plan, command-line folder), generated concurrently."""
    cli_dir, own_dir = tmp_path_factory.mktemp("cli"), tmp_path_factory.mktemp("sample")
    for folder in (cli_dir, own_dir):
        shutil.copyfile(RAW_DIR / "units.csv", folder / "units.csv")
    env = {**os.environ, "PYTHONHASHSEED": "4242", "PYTHONPATH": str(PROJECT_ROOT)}
    cli = subprocess.Popen([sys.executable, "-m", "pipeline.generate", "--out", str(cli_dir), "--seed", "2020"],
                           cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    own_plan = write_sample(own_dir, seed=2020)
    out, err = cli.communicate(timeout=120)
    assert cli.returncode == 0, err.decode()
    assert "已写入" in out.decode()
    return own_dir, own_plan, cli_dir


@pytest.fixture(scope="session")
def sample(samples):
    return samples[0], samples[1]


# ------------------------------------------------------------------------------------ readers
class _Table(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag == "td":
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "td" and self.cell is not None:
            self.rows[-1].append("".join(self.cell))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def read_sheet(path: Path, sheet: str) -> list[list]:
    """The sheet's rows (index 0 = Excel row 1) as the readers of any format return them."""
    data = path.read_bytes()
    if data.startswith(b"PK\x03\x04"):
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        return book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    if data.startswith(OLE_MAGIC):
        book = xlrd.open_workbook(file_contents=data)
        ws = book.sheet_by_name(sheet)
        return [[xlrd.xldate_as_datetime(c.value, book.datemode) if c.ctype == xlrd.XL_CELL_DATE else c.value
                 for c in ws.row(r)] for r in range(ws.nrows)]
    if data.lstrip(BOM).startswith(b"<"):
        charset = re.search(rb"charset=([\w-]+)", data).group(1).decode()
        parser = _Table()
        parser.feed(data.decode(charset))
        return parser.rows
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return list(csv.reader(io.StringIO(data.decode(encoding))))
        except UnicodeDecodeError:
            continue
    raise AssertionError(f"cannot decode {path.name}")


def texts(row: list) -> set[str]:
    """Every way a cell of the row can be written as text (dates as 2020/3/5 and with time)."""
    out = set()
    for value in row:
        if isinstance(value, datetime):
            out |= {f"{value.year}/{value.month}/{value.day}", f"{value.year}/{value.month}/{value.day} {value:%H:%M}"}
        elif isinstance(value, date):
            out.add(f"{value.year}/{value.month}/{value.day}")
        elif isinstance(value, float):
            out.add(format(value, ".10g"))
        elif value is not None:
            out.add(str(value))
    return out


def nfkc(value) -> str:
    return unicodedata.normalize("NFKC", str(value))


def id_card_valid(number: str) -> bool:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return (len(number) == 18 and number[:17].isdigit()
            and "10X98765432"[sum(int(c) * w for c, w in zip(number, weights)) % 11] == number[17])


def credit_code_valid(code: str) -> bool:
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    if len(code) != 18 or any(c not in chars for c in code):
        return False
    return chars[(31 - sum(chars.index(c) * w for c, w in zip(code, weights)) % 31) % 31] == code[17]


# ----------------------------------------------------------------------------- determinism
def test_same_seed_gives_identical_bytes_across_processes(samples):
    own_dir, _, cli_dir = samples
    own = sorted(p.name for p in own_dir.iterdir())
    assert own == sorted(p.name for p in cli_dir.iterdir())
    different = [name for name in own if (own_dir / name).read_bytes() != (cli_dir / name).read_bytes()]
    assert different == []


def test_files_on_disk_are_the_planned_ones(sample):
    out, sample_plan = sample
    assert sorted(p.name for p in out.iterdir()) == sorted([f.name for f in sample_plan.files] + ["units.csv"])
    assert (out / "units.csv").read_bytes() == (RAW_DIR / "units.csv").read_bytes()


SMALL_REGISTRY = """unit_id,name,group,aliases,enterprises,employees,industries
A1,甲山办事处,办事处,甲山办;甲山街道,200,20,
A2,乙水管理处,管理处,乙水处,150,15,
B1,区丙建设局,成员单位,丙建局,120,20,建筑施工;城镇燃气
B2,区丁交通局,成员单位,丁交局,90,12,道路运输
B3,区戊消防队,成员单位,戊消队,60,10,消防
"""


def test_plan_writes_nothing_matches_write_sample_and_uses_registry_names(tmp_path):
    """On an analyst's own (small, renamed) registry: plan() writes nothing and says exactly what
    write_sample() then writes; units.csv is left alone; no unit name is invented."""
    registry = tmp_path / "units.csv"
    registry.write_text(SMALL_REGISTRY, encoding="utf-8")
    before = registry.read_bytes()
    planned = plan(load_registry(registry), seed=7)
    assert [p.name for p in tmp_path.iterdir()] == ["units.csv"]
    written = write_sample(tmp_path, seed=7)
    assert written == planned
    assert registry.read_bytes() == before
    units = load_registry(registry)
    spellings = {s for row in units.itertuples() for s in (row.name, *split_list(row.aliases))}
    monthly = [f for f in written.files if f.unit_id]
    assert monthly and all(any(s in f.name for s in spellings) for f in monthly)
    default_names = set(load_registry(RAW_DIR / "units.csv")["name"])
    for f in written.files:
        if f.fmt in ("csv", "xls-html"):
            text = (tmp_path / f.name).read_bytes().decode(f.encoding)
            assert not any(name in text for name in default_names), f.name


# ------------------------------------------------------------------------------ the plan holds
def test_missing_submissions_really_have_no_file(sample):
    _, sample_plan = sample
    unit_months = {(f.unit_id, f.month) for f in sample_plan.files}
    assert len(sample_plan.missing_unit_months) >= 3
    for unit_month in sample_plan.missing_unit_months:
        assert unit_month not in unit_months
    singles = [m for m in sample_plan.missing_submissions if (m[0], m[2]) not in sample_plan.missing_unit_months]
    assert singles, "some workbooks lack just one sheet"
    for unit_id, table, month in sample_plan.missing_submissions:
        sent = {t for f in sample_plan.files if (f.unit_id, f.month) == (unit_id, month) for _, t in f.sheets}
        assert table not in sent
    for unit_id, month in sample_plan.no_inspection_months:
        sent = [t for f in sample_plan.files if (f.unit_id, f.month) == (unit_id, month) for _, t in f.sheets]
        assert "enforcement" in sent


def test_late_submissions_show_their_filing_date(sample):
    out, sample_plan = sample
    assert 3 <= len(sample_plan.late_submissions)
    for unit_id, month, filed in sample_plan.late_submissions:
        assert 8 <= filed.day <= 15 and filed > date(int(month[:4]), int(month[5:]), 28)
        for f in sample_plan.files:
            if (f.unit_id, f.month) == (unit_id, month) and f.fmt != "xls-html":  # web exports carry no 填报 line
                meta = nfkc(read_sheet(out / f.name, f.sheets[0][0])[1][0])
                assert meta.startswith("填报单位")
                assert [int(n) for n in re.findall(r"\d+", meta.split("填报日期")[1])] == [filed.year, filed.month, filed.day]


def test_planted_rows_are_where_the_plan_says(sample):
    out, sample_plan = sample
    assert BAD_REASONS <= set(sample_plan.bad_rows)
    checked = 0
    for row in sample_plan.planted:
        if row.expect not in ("quarantine", "warning") or not row.raw_value:
            continue
        cells = read_sheet(out / row.file, row.sheet)[row.row - 1]
        assert row.raw_value in texts(cells), (row, cells)
        checked += 1
    assert checked >= sum(sample_plan.bad_rows.values()) - 1  # missing_required is an empty cell
    misspelt = [r for r in sample_plan.planted if r.reason == "misspelt_unit"]
    for row in misspelt:
        suggestion = row.detail.removeprefix("suggest ")
        assert len(row.raw_value) == len(suggestion)
        assert sum(a != b for a, b in zip(row.raw_value, suggestion)) in (1, 2)
    assert any(r.raw_value == "130" for r in sample_plan.planted if r.table == "annual_review")


def test_expected_records_account_for_duplicates_and_bad_rows(sample):
    _, p = sample
    for table in ("accidents", "enforcement", "hazards", "annual_review"):
        bad = sum(1 for r in p.planted if r.table == table and r.expect == "quarantine")
        assert p.rows_written[table] == p.expected_records[table] + p.duplicates.get(table, 0) + bad
    assert p.duplicates["accidents"] >= 2 and p.duplicates["hazards"] >= 2


def test_accident_cases(sample):
    _, p = sample
    by_id = {a.accident_id: a for a in p.accidents}
    for year in (2019, 2020):
        of_year = [a for a in p.accidents if a.occurred_at.year == year]
        assert any(a.level == "较大" for a in of_year)
        assert any(a.level != a.level_submitted for a in of_year)
        assert any(a.late_report for a in of_year)
    assert len(p.larger_accidents) >= 3
    assert {by_id[i].occurred_at > by_id[i].reported_at for i in by_id} == {False}
    assert sum(a.late_report for a in p.accidents) < 0.25 * len(p.accidents)  # most report within the hour
    uncovered = [by_id[i] for i in p.concealed_accidents]
    assert any(a.occurred_at.year == 2019 and a.concealed_found_at.year == 2020 for a in uncovered)
    assert any(a.concealed_found_at.year == a.occurred_at.year for a in uncovered)
    assert any(r.raw_value == "较大事故" for r in p.planted if r.reason == "level_disagreement")
    larger_2020 = [by_id[i].unit_id for i in p.larger_accidents if by_id[i].occurred_at.year == 2020]
    assert max(larger_2020.count(u) for u in larger_2020) == 2  # a yellow card (黄牌), no veto by count


def test_volumes_and_targets(sample):
    _, p = sample
    sheets = {t: sum(1 for f in p.files for _, s in f.sheets if s == t) for t in ("enforcement", "hazards")}
    assert 8 <= p.rows_written["enforcement"] / sheets["enforcement"] <= 40
    assert 3 <= p.rows_written["hazards"] / sheets["hazards"] <= 25
    intensity = p.inspections_per_10_enterprises.values()
    assert min(intensity) < 2.0 < max(intensity)  # some units above the 2-per-10 target, some below
    assert p.hazard_counts["major"] > 0 and p.hazard_counts["supervised"] > 0
    assert p.hazard_counts["open_major_past_deadline"] > 0 and p.hazard_counts["rectified_late"] > 0
    assert {y for y, _, _ in p.key_work_over_cap} == {2019, 2020} and p.bonus_over_cap
    assert p.annual_review_missing


# ------------------------------------------------------------------------------ quirks in bytes
def test_every_quirk_is_planted(sample):
    _, p = sample
    missing = sorted(q for q in REQUIRED_QUIRKS if not p.quirks.get(q))
    assert missing == []
    assert len(p.header_variants["enforcement.fine_wan"]) >= 3  # several aliases for one column


def _cells(rows) -> list:
    return [c for row in rows for c in row if c not in (None, "")]


def _is_serial(value, whole: bool) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 43000 < value < 44600 \
        and float(value).is_integer() == whole


EVIDENCE = {
    "fullwidth_digits": lambda rows: any(re.search("[０-９]", str(c)) for c in _cells(rows)),
    "numbers_with_units": lambda rows: any(re.fullmatch(r"[0-9０-９.．]+(项|人|万元)", str(c)) for c in _cells(rows)),
    "fine_in_yuan": lambda rows: any(re.fullmatch(r"[0-9０-９]+元", str(c)) for c in _cells(rows)),
    "date_iso": lambda rows: any(re.fullmatch(r"\d{4}-\d\d-\d\d", nfkc(c)) for c in _cells(rows)),
    "date_slash": lambda rows: any(re.fullmatch(r"\d{4}/\d{1,2}/\d{1,2}", nfkc(c)) for c in _cells(rows)),
    "date_dot": lambda rows: any(re.fullmatch(r"\d{4}\.\d{1,2}\.\d{1,2}", nfkc(c)) for c in _cells(rows)),
    "date_chinese": lambda rows: any(re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", nfkc(c)) for c in _cells(rows)),
    "date_excel_serial": lambda rows: any(_is_serial(c, True) for c in _cells(rows)),
    "date_excel_cell": lambda rows: any(isinstance(c, (date, datetime)) for c in _cells(rows)),
    "datetime_iso": lambda rows: any(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", str(c)) for c in _cells(rows)),
    "datetime_chinese": lambda rows: any(re.fullmatch(r"\d{4}年\d+月\d+日\d+时\d+分", str(c)) for c in _cells(rows)),
    "datetime_excel_serial": lambda rows: any(_is_serial(c, False) for c in _cells(rows)),
    "bool_是否": lambda rows: {"是", "否"} & set(map(str, _cells(rows))),
    "bool_√×": lambda rows: {"√", "×"} & set(map(str, _cells(rows))),
    "bool_有无": lambda rows: {"有", "无"} & set(map(str, _cells(rows))),
    "bool_YN": lambda rows: {"Y", "N"} & set(map(str, _cells(rows))),
    "bool_10": lambda rows: {"1", "0"} & {c for c in _cells(rows) if isinstance(c, str)},
    "null_tokens": lambda rows: {"/", "—", "-"} & set(map(str, _cells(rows))),
    "total_row": lambda rows: "合计" in map(str, _cells(rows)),
    "subtotal_row": lambda rows: "小计" in map(str, _cells(rows)),
    "footer_rows": lambda rows: any(str(c).startswith(("填报人", "注:", "制表人")) for c in _cells(rows)),
    "meta_line": lambda rows: nfkc(rows[1][0]).startswith("填报单位") and "填报日期" in nfkc(rows[1][0]),
    "merged_title_row": lambda rows: str(rows[0][0]).endswith(("统计表", "结果")) and not _cells([rows[0][1:]]),
    "title_row": lambda rows: str(rows[0][0]).endswith("统计表") and not _cells([rows[0][1:]]),
    "two_row_header": lambda rows: {"处罚情况", "执法规范", "整改情况", "伤亡情况", "伤亡人员信息"} & set(map(str, _cells(rows[:4]))),
    "header_brackets_spaces": lambda rows: any(("（" in str(c) or " " in str(c)) and not str(c).startswith("填报")
                                               for c in _cells(rows[:4])),
    "required_marker": lambda rows: any(str(c).endswith("*") for c in _cells(rows[:4])),
    "blank_rows": lambda rows: any(not _cells([row]) for row in rows[3:-1]),
    "enum_variants": lambda rows: {"双随机抽查", "随机抽查", "日常检查", "计划检查", "专项检查", "投诉举报", "交叉检查", "其它",
                                   "一般隐患", "重大隐患", "一般事故", "较大事故", "自查", "执法检查", "监督检查", "群众举报",
                                   "加分项"} & set(map(str, _cells(rows[3:]))),
    "personal_data_columns": lambda rows: any(id_card_valid(str(c)) for c in _cells(rows))
                                          and any(re.fullmatch(r"1[3-9]\d{9}", str(c)) for c in _cells(rows)),
    "empty_sheet": lambda rows: len(rows) <= 8 and not any(isinstance(row[0], (int, float)) or str(row[0]).isdigit()
                                                          for row in rows if row),
}


@pytest.mark.parametrize("quirk", sorted(EVIDENCE))
def test_quirk_is_in_the_written_bytes(sample, quirk):
    """Open up to five of the sheets the plan lists for the quirk: the evidence must be there."""
    out, p = sample
    places = [place.split(" / ") for place in p.quirks.get(quirk, ()) if " / " in place]
    assert places, f"{quirk} is not planted"
    assert any(EVIDENCE[quirk](read_sheet(out / name, sheet)) for name, sheet in places[:5]), places[:5]


def test_xlsx_merges_and_generic_sheet_names(sample):
    out, p = sample
    name, sheet = next(place.split(" / ") for place in p.quirks["two_row_header"] if place.endswith(".xlsx / 执法检查")
                       or ".xlsx / " in place)
    ws = openpyxl.load_workbook(out / name)[sheet]
    spans = [(r.min_row, r.max_row, r.min_col, r.max_col) for r in ws.merged_cells.ranges]
    assert any(r1 == r2 == 1 and c2 > c1 for r1, r2, c1, c2 in spans)  # merged title
    assert any(r2 == r1 + 1 and c1 == c2 for r1, r2, c1, c2 in spans)  # a header merged over two rows
    assert any(r1 == r2 and c2 > c1 and r1 > 2 for r1, r2, c1, c2 in spans)  # a group cell such as 处罚情况
    generic = [place.split(" / ")[1] for place in p.quirks["generic_sheet_name"]]
    assert generic and all(s.startswith("Sheet") for s in generic)


def test_file_formats_are_what_their_bytes_say(sample):
    out, p = sample
    seen = set()
    for f in p.files:
        data = (out / f.name).read_bytes()
        if f.fmt == "xlsx":
            assert data.startswith(b"PK\x03\x04")
        elif f.fmt == "xls-biff":
            assert f.name.endswith(".xls") and data.startswith(OLE_MAGIC)
        elif f.fmt == "xls-html":
            assert f.name.endswith(".xls") and data.lstrip(BOM)[:6].lower() in (b"<html>", b"<table")
            declared = re.search(rb'charset=([\w-]+)', data).group(1).decode()
            assert declared == f.encoding
            data.decode(declared)
            if declared == "gbk":
                with pytest.raises(UnicodeDecodeError):
                    data.decode("utf-8")
        else:
            assert f.name.endswith(".csv")
            if f.encoding == "gbk":
                with pytest.raises(UnicodeDecodeError):
                    data.decode("utf-8")
                data.decode("gbk")
            elif f.encoding == "utf-8-sig":
                assert data.startswith(BOM)
                data.decode("utf-8-sig")
            else:
                with pytest.raises(UnicodeDecodeError):
                    data.decode("gbk")  # a character only GB18030 has
                data.decode("gb18030")
        seen.add((f.fmt, f.encoding))
    assert {("xls-html", "utf-8"), ("xls-html", "gbk"), ("xls-biff", None), ("csv", "gbk"), ("csv", "utf-8-sig"),
            ("csv", "gb18030"), ("xlsx", None)} <= seen
    biff = next(f for f in p.files if f.fmt == "xls-biff")
    assert xlrd.open_workbook(out / biff.name).nsheets == len(biff.sheets)


def test_identifiers_are_well_formed():
    rng = rng_for(1, "identifiers")
    assert all(credit_code_valid(credit_code(rng)) for _ in range(300))
    assert all(id_card_valid(id_card(rng)) for _ in range(300))
    assert all(re.fullmatch(r"1[3-9]\d{9}", mobile(rng)) for _ in range(300))


# ---------------------------------------------------------------------------------- size mode
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_write_large_writes_the_requested_records(tmp_path, monkeypatch, fmt):
    monkeypatch.setattr(sample_large, "ROWS_PER_FILE", 2500)
    monkeypatch.setattr(sample_large, "CHUNK_ROWS", 1000)
    written = write_large(tmp_path / "a", 10_001, fmt, seed=5)
    assert sum(f.rows for f in written) == 10_001
    assert {s: sum(f.rows for f in written if f.source == s) for s in ("enforcement", "hazards")} == \
        {"enforcement": 6001, "hazards": 4000}
    assert len(written) == 5 and (tmp_path / "a" / "units.csv").exists()
    frames = []
    for f in written:
        if fmt == "csv":
            assert f.path.read_bytes().startswith(BOM + "2020年".encode())
            frame = pd.read_csv(f.path, skiprows=2, encoding="utf-8-sig", dtype=str, keep_default_na=False)
        else:
            assert pq.ParquetFile(f.path).metadata.num_rows == f.rows
            frame = pd.read_parquet(f.path)
        assert len(frame) == f.rows
        frames.append(frame)
    enforcement = pd.concat([fr for fr, f in zip(frames, written) if f.source == "enforcement"])
    assert {"检查编号", "执法单位", "检查日期", "发现隐患数", "罚款金额(万元)"} <= set(enforcement.columns)
    assert enforcement["检查编号"].is_unique
    assert enforcement["发现隐患数"].str.contains("[０-９项]").any()
    assert enforcement["检查日期"].str.contains("年").any() and enforcement["检查日期"].str.contains("-").any()
    again = write_large(tmp_path / "b", 10_001, fmt, seed=5)
    assert [f.path.read_bytes() for f in written] == [f.path.read_bytes() for f in again]
