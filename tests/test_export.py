"""The Excel attachments: safe to open, frozen headers, identical bytes for identical data."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest
import report_fixtures as fx

from pipeline import export, pdf
from pipeline import report_helpers as rh


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("processed")
    fx.write_processed(folder)
    rulebook = fx.write_rulebook(folder.parent / "rules.toml")
    return rh.load_tables(folder), rulebook


@pytest.mark.parametrize("text, safe", [
    ("=1+2", "'=1+2"), ("+SUM(A1)", "'+SUM(A1)"), ("-2+3", "'-2+3"), ("@cmd", "'@cmd"),
    ("\t=1", "'\t=1"), ("  =HYPERLINK(1)", "'  =HYPERLINK(1)"),
    ("南湖办事处", "南湖办事处"), ("a=b", "a=b"), ("", ""),
])
def test_safe_text(text, safe):
    assert export.safe_text(text) == safe


def test_no_cell_is_a_formula(tmp_path, data):
    tables, rulebook = data
    path = export.write_monthly_workbook(tmp_path / "m.xlsx", tables, "2020-03", rulebook)
    book = openpyxl.load_workbook(path)
    texts = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula"
                if isinstance(cell.value, str):
                    texts.append(cell.value)
                    assert not cell.value.startswith(("=", "+", "-", "@")), f"{sheet.title}!{cell.coordinate}"
    assert "'=1+2" in texts  # the record_id "=1+2" kept, neutralised
    assert "'+挂牌督办 再扣5分" in texts


def test_sheets_headers_frozen_and_sized(tmp_path, data):
    tables, rulebook = data
    book = openpyxl.load_workbook(export.write_monthly_workbook(tmp_path / "m.xlsx", tables, "2020-03", rulebook))
    assert book.sheetnames[:3] == ["排名", "分项得分", "扣分明细"]
    ranking = book["排名"]
    assert ranking.freeze_panes == "A2"
    headers = [c.value for c in ranking[1]]
    assert "排名 (rank)" in headers and "单位 (unit)" in headers
    names = {row[headers.index("单位 (unit)")] for row in ranking.iter_rows(min_row=2, values_only=True)}
    assert names == set(fx.UNITS["name"])
    assert ranking.column_dimensions["D"].width >= 10  # the unit-name column is widened to its content
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"


def test_numbers_stay_numbers(tmp_path, data):
    tables, rulebook = data
    book = openpyxl.load_workbook(export.write_monthly_workbook(tmp_path / "m.xlsx", tables, "2020-03", rulebook))
    row = next(book["排名"].iter_rows(min_row=2, max_row=2, values_only=True))
    headers = [c.value for c in book["排名"][1]]
    assert row[headers.index("综合得分 (score)")] == 92.0
    assert row[headers.index("排名 (rank)")] == 1


def test_deterministic_bytes(tmp_path, data):
    tables, rulebook = data
    first = export.write_monthly_workbook(tmp_path / "a.xlsx", tables, "2020-03", rulebook).read_bytes()
    second = export.write_monthly_workbook(tmp_path / "b.xlsx", tables, "2020-03", rulebook).read_bytes()
    assert first == second
    one = export.write_annual_workbook(tmp_path / "y1.xlsx", tables, "2020", rulebook).read_bytes()
    two = export.write_annual_workbook(tmp_path / "y2.xlsx", tables, "2020", rulebook).read_bytes()
    assert one == two


def test_annual_workbook(tmp_path, data):
    tables, rulebook = data
    book = openpyxl.load_workbook(export.write_annual_workbook(tmp_path / "y.xlsx", tables, "2020", rulebook))
    assert book.sheetnames == ["年度考核", "月度排名", "扣分明细", "说明"]
    frame = pd.DataFrame(book["年度考核"].values)
    frame.columns = frame.iloc[0]
    body = frame.iloc[1:]
    assert set(body["单位 (unit)"]) == set(fx.UNITS["name"])
    assert list(body.loc[body["单位 (unit)"] == "青山办事处", "一票否决 (veto)"]) == ["是"]


def test_pdf_source_leaves_out_screen_only_lists():
    page = ('<html><body><p>排名</p><div class="note screen-only"><table><tr><td>长清单</td></tr></table></div>'
            '<p class="print-only">清单见 HTML 版</p></body></html>')
    printable = pdf.printable(page)
    assert "长清单" not in printable and "排名" in printable and "清单见 HTML 版" in printable


def test_printed_tables_get_column_widths_from_their_text():
    import lxml.html

    from pipeline.svg import text_width

    size = pdf.TABLE_FONT_PT
    page = ("<html><body><table><thead><tr><th>单位</th><th>得分</th></tr></thead>"
            "<tbody><tr><td>港口物流园管理处</td><td>79.08</td></tr></tbody></table>"
            f"<table><tr><td>{'很长的说明' * 20}</td><td>SG2020-0123456789</td>{('<td>' + '另一段很长的说明' * 20 + '</td>') * 3}</tr></table>"
            f"<table><tr><td>{'X' * 200}</td><td>{'Y' * 200}</td></tr></table>"
            "<table><tr><td colspan='2'>合并</td></tr></table></body></html>")
    narrow, wide, unfit, merged = lxml.html.document_fromstring(pdf.printable(page)).iter("table")

    def widths(table):
        return [float(col.get("style").split(":")[1].rstrip("pt")) for col in table.iter("col")]

    # Each column as wide as its widest cell, measured with the font, plus the cell's padding.
    assert widths(narrow) == [pytest.approx(text_width("港口物流园管理处", size) + pdf.CELL_PADDING_PT, abs=0.1),
                              pytest.approx(max(text_width("79.08", size), text_width("得分", size * 1.06))
                                            + pdf.CELL_PADDING_PT, abs=0.1)]
    assert "table-layout: fixed" in narrow.get("style")
    # Too wide for the page: the long Chinese cells shrink, but never below the longest unbreakable
    # run (the id must not spill into the next column).
    first, ident, *_ = widths(wide)
    assert sum(widths(wide)) == pytest.approx(pdf.PRINT_WIDTH_PT, abs=0.5)
    assert ident >= text_width("SG2020-0123456789", size) + pdf.CELL_PADDING_PT - 0.1
    assert first < pdf.WIDEST_CELL_PT + pdf.CELL_PADDING_PT
    # Runs that cannot fit side by side: WeasyPrint's own layout; merged cells: left alone.
    assert unfit.find("colgroup") is None and unfit.get("style") is None
    assert merged.find("colgroup") is None and merged.get("style") is None
