"""What the office publishes is safe to open, and data/raw is never written.

The command line on the reliability sample (tests/reliability_data.py: generated units' files
plus an accident sheet with markup and formula enterprise names and personal data), processed
once (shared with test_reruns), then with the raw folder made read-only: `report` (which
processes first, here finding nothing changed) for the month with one unit's scorecard,
`annual`, and `templates`. (`process` itself on a read-only raw folder: test_bad_files.) Then:
- the raw folder is byte for byte, time for time what it was;
- markup from the data is escaped in every HTML page (the circular lists the `<script>` enterprise);
- no cell of any workbook made is a formula, and no text starts with = + - @ un-neutralised;
- no personal data (the 姓名 column's values, 18-digit ID numbers, mobiles, also written
  138-1234-5678) is in any processed table, page, workbook, executed notebook or PDF text.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from contextlib import redirect_stderr, redirect_stdout
from types import SimpleNamespace

import openpyxl
import pandas as pd
import pytest

from helpers_raw import read_only, snapshot, writable
from pipeline.__main__ import main
from reliability_data import FORMULA_NAME, ID_NUMBERS, MOBILES, MONTH, PEOPLE, SCRIPT_NAME, YEAR, baseline

# Digits inside a longer token (a checksum, a decimal fraction) are not a person's number.
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z.])\d{17}[\dXx](?![0-9A-Za-z])")
MOBILE = re.compile(r"(?<![0-9A-Za-z.])(?:\+?86[-. ]?)?1[3-9]\d[-. ]?\d{4}[-. ]?\d{4}(?![0-9A-Za-z])")
EMBEDDED_IMAGE = re.compile(r"data:image/[a-z+]+;base64,[A-Za-z0-9+/=\s]+")
FORMULA_START = ("=", "+", "-", "@")


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    raw, processed = baseline(tmp_path_factory)
    root = tmp_path_factory.mktemp("published")
    folders = ["--raw", str(raw), "--processed", str(processed), "--reports", str(root / "reports")]
    before = snapshot(raw)
    paths = read_only(raw)
    out, err = io.StringIO(), io.StringIO()
    try:
        with redirect_stdout(out), redirect_stderr(err):
            statuses = [main(["report", "--period", MONTH, "--unit", "T01", *folders]),
                        main(["annual", "--year", YEAR, *folders]),
                        main(["templates", "--period", "2021-01", *folders])]
    finally:
        writable(paths)
    return SimpleNamespace(raw=raw, processed=processed, reports=root / "reports", before=before,
                           after=snapshot(raw), statuses=statuses, out=out.getvalue(), err=err.getvalue())


def files(folder, *suffixes):
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in suffixes)


def test_the_commands_ran(published):
    assert published.statuses == [0, 0, 0], published.err
    assert "Traceback" not in published.out + published.err
    assert files(published.reports, ".html") and files(published.reports, ".xlsx") and files(published.reports, ".pdf")


def test_the_raw_folder_is_never_written(published):
    assert published.after == published.before


def test_markup_from_the_data_is_escaped_in_every_page(published):
    pages = files(published.reports, ".html")
    circular = next(p for p in pages if p.name == f"月度排名通报_{MONTH}.html").read_text("utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in circular  # the accident list shows the enterprise
    for page in pages:
        text = page.read_text("utf-8")
        assert SCRIPT_NAME not in text and "<script>alert" not in text, page.name


def cell_texts(path):
    book = openpyxl.load_workbook(path)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                yield sheet.title, cell


def test_no_workbook_cell_can_run_as_a_formula(published):
    books = files(published.reports, ".xlsx")
    assert any(p.name == f"月度排名通报_{MONTH}.xlsx" for p in books) and any(p.name == f"年度考核报告_{YEAR}.xlsx" for p in books)
    for book in books:
        for sheet, cell in cell_texts(book):
            where = f"{book.name} {sheet}!{cell.coordinate}"
            assert cell.data_type != "f", where
            if isinstance(cell.value, str):
                assert not cell.value.startswith(FORMULA_START), (where, cell.value)
                assert FORMULA_NAME not in cell.value or cell.value.startswith("'"), (where, cell.value)


def personal_data_in(text: str) -> list[str]:
    found = [name for name in PEOPLE if name in text]
    found += ID_NUMBER.findall(text) + MOBILE.findall(text)
    return found


def test_no_personal_data_in_any_processed_table(published):
    for path in sorted(published.processed.glob("*.parquet")):
        frame = pd.read_parquet(path)
        for column in frame.columns:
            if pd.api.types.is_numeric_dtype(frame[column]) or pd.api.types.is_datetime64_any_dtype(frame[column]):
                continue
            values = frame[column].dropna().astype(str)
            hits = [v for v in values.unique() if personal_data_in(v)]
            assert not hits, (path.name, column, hits[:3])


def test_no_personal_data_in_any_page_notebook_or_workbook(published):
    checked = 0
    for path in files(published.reports, ".html", ".ipynb", ".json", ".csv"):
        text = EMBEDDED_IMAGE.sub("", path.read_text("utf-8"))
        assert not personal_data_in(text), (path.relative_to(published.reports), personal_data_in(text)[:3])
        checked += 1
    for path in files(published.reports, ".xlsx"):
        values = [cell.value for _, cell in cell_texts(path) if isinstance(cell.value, str)]
        hits = [v for v in values if personal_data_in(v)]
        assert not hits, (path.relative_to(published.reports), hits[:3])
        checked += 1
    assert checked >= 5


def test_no_personal_data_in_the_pdf_text(published):
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed: the PDF's text is not scanned")
    for pdf in files(published.reports, ".pdf"):
        text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True).stdout.decode("utf-8")
        text = text.replace("\u200b", "")  # the break points the PDF gives long Latin runs (pipeline.pdf)
        assert "南湖办事处" in text  # the text layer is there, so the scan means something
        assert not personal_data_in(text), (pdf.name, personal_data_in(text)[:3])
        squeezed = re.sub(r"\s+", "", text)  # a number broken over two lines
        for value in [*ID_NUMBERS, *(re.sub(r"\D", "", m)[-11:] for m in MOBILES)]:
            assert value not in squeezed, (pdf.name, value)
