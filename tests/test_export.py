"""The Excel attachments: safe to open, frozen headers, identical bytes for identical data."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest
import report_fixtures as fx

from pipeline import export
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


def test_component_sheet_gives_each_items_points_under_its_chinese_name(tmp_path):
    folder = fx.write_processed(tmp_path / "processed")
    units = fx.UNITS["unit_id"].tolist()
    pd.DataFrame({
        "unit_id": units * 2, "period": ["2020-03"] * (2 * len(units)),
        "component": ["A"] * len(units) + ["B"] * len(units),
        "item": ["file_review"] * len(units) + ["on_time_rectification"] * len(units),
        "label": ["案卷评查平均得分"] * len(units) + [" "] * len(units),  # an item without a label keeps its key
        "points": [float(n) for n in range(len(units))] + [2.5] * len(units),
    }).to_parquet(folder / "indicators.parquet", index=False)
    rows = export.component_rows(rh.load_tables(folder), "2020-03")
    assert "A·案卷评查平均得分 (file_review)" in rows.columns and "on_time_rectification" in rows.columns
    by_unit = dict(zip(rows["单位编号"], rows["A·案卷评查平均得分 (file_review)"]))
    assert by_unit[units[0]] == 0.0 and by_unit[units[3]] == 3.0  # each unit's own points, not the row order's
    assert set(rows["on_time_rectification"]) == {2.5}
