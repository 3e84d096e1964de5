"""Submission templates: the validation rules are really in the workbook, and a template filled in
with valid values carries headers and values of the forms the reader accepts (rules/ingest.toml)."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from openpyxl.utils.datetime import to_excel

from pipeline.config import INGEST_RULES, RAW_DIR, REGISTRY_NAME
from pipeline.errors import InputError
from pipeline.registry import load_registry, normalise_name
from pipeline.templates import DATA_ROWS, FIRST_DATA_ROW, fill_template, template_name, write_templates

PERIOD = "2020-03"
LAST_ROW = FIRST_DATA_ROW + DATA_ROWS - 1
CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


@pytest.fixture(scope="module")
def rules() -> dict:
    with INGEST_RULES.open("rb") as handle:
        return tomllib.load(handle)


@pytest.fixture(scope="module")
def registry() -> pd.DataFrame:
    return load_registry(RAW_DIR / REGISTRY_NAME)


@pytest.fixture(scope="module")
def templates(rules, registry, tmp_path_factory) -> dict[str, Path]:
    paths = write_templates(PERIOD, registry, rules, tmp_path_factory.mktemp("templates"))
    return {path.name.split("_")[1]: path for path in paths}


def label(header: str) -> str:
    """A header as the reader compares it: NFKC, no spaces, case-folded, trailing '*' stripped."""
    return normalise_name(header).rstrip("*")


def columns_by_canonical(ws, rules: dict, source: str) -> dict[str, int]:
    """canonical -> 1-based column, through each header's alias (so the test checks the aliases too)."""
    aliases = {label(a): name for name, spec in rules["sources"][source]["columns"].items() for a in spec["aliases"]}
    return {aliases[label(cell.value)]: cell.column for cell in ws[FIRST_DATA_ROW - 1] if cell.value}


def validation_at(ws, row: int, column: int):
    coordinate = f"{openpyxl.utils.get_column_letter(column)}{row}"
    found = [dv for dv in ws.data_validations.dataValidation if coordinate in dv.sqref]
    assert len(found) <= 1, coordinate
    return found[0] if found else None


def list_values(workbook, dv) -> list[str]:
    formula = dv.formula1
    if formula.startswith('"'):
        return formula.strip('"').split(",")
    sheet, cells = formula.lstrip("=").split("!")
    return [c.value for (c,) in workbook[sheet.strip("'")][cells.replace("$", "")]]


def satisfies(workbook, dv, value) -> bool:
    """Would Excel accept `value` under this validation? (the subset of rules templates use)"""
    if dv is None or value is None:
        return True
    if dv.type == "list":
        return value in list_values(workbook, dv)
    if dv.type == "textLength":
        return len(str(value)) == int(dv.formula1)
    if dv.type == "date":
        if not isinstance(value, dt.date):
            return False
        number = to_excel(value)
    elif dv.type in ("whole", "decimal"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if dv.type == "whole" and value != int(value):
            return False
        number = value
    else:
        raise AssertionError(f"unexpected validation type {dv.type}")
    low = float(dv.formula1)
    if dv.operator == "greaterThanOrEqual":
        return number >= low
    assert dv.operator in (None, "between")
    return low <= number <= float(dv.formula2)


def credit_code(body: str) -> str:
    """Append the GB 32100-2015 check character to 17 characters."""
    total = sum(CREDIT_CHARS.index(ch) * w for ch, w in zip(body, CREDIT_WEIGHTS))
    return body + CREDIT_CHARS[(31 - total % 31) % 31]


VALID = {
    "事故": [{
        "accident_id": "SG-2020-001", "occurred_at": dt.datetime(2020, 3, 5, 14, 30),
        "reported_at": dt.datetime(2020, 3, 5, 15, 0), "unit": "南湖办事处", "industry": "建筑施工",
        "accident_type": "高处坠落", "enterprise": "某建筑工程有限公司", "deaths": 1, "serious_injuries": 0,
        "injuries": 2, "direct_loss_wan": 120.5, "level": "一般", "concealed": "否", "closed": "是",
        "closed_at": dt.date(2020, 3, 28),
    }],
    "执法检查": [
        {"record_id": "001", "inspected_at": dt.date(2020, 3, 10), "enterprise": "某化工有限公司",
         "credit_code": credit_code("91350100M000100Y4"), "mode": "双随机", "hazards_found": 3, "case_filed": "是",
         "penalized": "是", "fine_wan": 0.5, "suspended": "否", "transferred": "否", "publicized": "是",
         "recorded": "是", "legal_review": "否", "file_review_score": 92.5, "overturned": "否"},
        {"unit": "南湖办事处", "inspected_at": dt.date(2020, 3, 11), "enterprise": "某商场", "mode": "专项"},
    ],
    "隐患排查": [{
        "hazard_id": "YH-7", "enterprise": "某物流公司", "found_at": dt.date(2020, 3, 2),
        "deadline": dt.date(2020, 3, 31), "rectified_at": dt.date(2020, 3, 20), "level": "重大",
        "supervised": "是", "source": "部门检查",
    }],
}


def test_one_workbook_per_unit_with_its_sheets(templates, registry):
    assert set(templates) == set(registry["name"])
    for name, path in templates.items():
        assert path.name == template_name(PERIOD, name) == f"{PERIOD}_{name}_报送模板.xlsx"
        assert path.parent.name == PERIOD
    assert openpyxl.load_workbook(templates["南湖办事处"]).sheetnames == ["填报说明", "事故", "执法检查", "隐患排查"]
    assert openpyxl.load_workbook(templates["区应急管理局"]).sheetnames == ["填报说明", "执法检查", "隐患排查"]


def test_title_unit_line_and_headers(templates, rules):
    workbook = openpyxl.load_workbook(templates["南湖办事处"])
    for source, sheet in (("accidents", "事故"), ("enforcement", "执法检查"), ("hazards", "隐患排查")):
        ws = workbook[sheet]
        assert ws["A1"].value == f"2020年3月{sheet}统计表"
        assert ws["A2"].value == "填报单位:南湖办事处" and ws["D2"].value == "填报日期:"
        assert not ws["E2"].protection.locked and ws["E2"].number_format == "yyyy-mm-dd"
        assert validation_at(ws, 2, 5).type == "date"
        spec = rules["sources"][source]["columns"]
        headers = [c.value for c in ws[FIRST_DATA_ROW - 1]]
        expected = [s["aliases"][0] + ("*" if s.get("required") else "") for s in spec.values()]
        assert headers == expected
        assert set(columns_by_canonical(ws, rules, source)) == set(spec)
        personal = rules["personal_data"]["headers"]
        assert not any(fragment in header for header in headers for fragment in personal)


def test_validations_are_in_the_workbook(templates, rules, registry):
    workbook = openpyxl.load_workbook(templates["南湖办事处"])
    ws = workbook["执法检查"]
    col = columns_by_canonical(ws, rules, "enforcement")
    at = {name: validation_at(ws, FIRST_DATA_ROW, c) for name, c in col.items()}
    assert list_values(workbook, at["mode"]) == list(rules["enums"]["mode"])
    assert all(list_values(workbook, at[b]) == ["是", "否"] for b in ("case_filed", "penalized", "legal_review"))
    assert (at["hazards_found"].type, at["hazards_found"].operator, at["hazards_found"].formula1) == ("whole", "greaterThanOrEqual", "0")
    assert (at["fine_wan"].type, at["fine_wan"].operator, at["fine_wan"].formula1) == ("decimal", "greaterThanOrEqual", "0")
    assert (at["file_review_score"].type, at["file_review_score"].formula1, at["file_review_score"].formula2) == ("decimal", "0", "100")
    date = at["inspected_at"]
    assert date.type == "date" and float(date.formula1) == to_excel(dt.date(2000, 1, 1))
    assert float(date.formula2) == to_excel(dt.date(2099, 12, 31))
    assert at["credit_code"].type == "textLength" and at["credit_code"].formula1 == "18"
    assert at["enterprise"] is None and at["unit"] is None  # free text; pre-filled
    assert all(dv.showErrorMessage and dv.errorStyle in (None, "stop") for dv in ws.data_validations.dataValidation)
    assert validation_at(ws, LAST_ROW, col["mode"]) is at["mode"] and validation_at(ws, LAST_ROW + 1, col["mode"]) is None

    accidents = workbook["事故"]
    col = columns_by_canonical(accidents, rules, "accidents")
    industries = list_values(workbook, validation_at(accidents, FIRST_DATA_ROW, col["industry"]))
    assert industries[-1] == "其他" and {"建筑施工", "城镇燃气", "医疗机构"} <= set(industries)
    assert list_values(workbook, validation_at(accidents, FIRST_DATA_ROW, col["level"])) == list(rules["enums"]["accident_level"])
    occurred = validation_at(accidents, FIRST_DATA_ROW, col["occurred_at"])
    assert occurred.type == "date" and float(occurred.formula2) > to_excel(dt.date(2099, 12, 31))  # time of day allowed
    assert accidents.cell(FIRST_DATA_ROW, col["occurred_at"]).number_format == "yyyy-mm-dd hh:mm"
    assert accidents.cell(FIRST_DATA_ROW, col["closed_at"]).number_format == "yyyy-mm-dd"

    hazards = workbook["隐患排查"]
    col = columns_by_canonical(hazards, rules, "hazards")
    assert list_values(workbook, validation_at(hazards, FIRST_DATA_ROW, col["level"])) == list(rules["enums"]["hazard_level"])
    assert list_values(workbook, validation_at(hazards, FIRST_DATA_ROW, col["source"])) == list(rules["enums"]["hazard_source"])


def test_unit_cells_locked_data_cells_open_headers_frozen(templates, rules):
    workbook = openpyxl.load_workbook(templates["南湖办事处"])
    for source, sheet, prefilled in (("enforcement", "执法检查", "unit"), ("hazards", "隐患排查", "unit"),
                                     ("accidents", "事故", "unit")):
        ws = workbook[sheet]
        assert ws.protection.sheet is True and ws.freeze_panes == f"A{FIRST_DATA_ROW}"
        col = columns_by_canonical(ws, rules, source)
        for row in (FIRST_DATA_ROW, LAST_ROW):
            unit = ws.cell(row, col[prefilled])
            assert unit.value == "南湖办事处" and unit.protection.locked
            for name, c in col.items():
                if name != prefilled:
                    assert ws.cell(row, c).protection.locked is False, (sheet, name)
        assert ws.cell(LAST_ROW + 1, col[prefilled]).value is None
        assert ws["A1"].protection.locked and ws["A3"].protection.locked  # title and header stay put
        widths = [ws.column_dimensions[openpyxl.utils.get_column_letter(c)].width for c in col.values()]
        assert all(8 <= w <= 40 for w in widths)


def test_member_department_picks_the_territory(templates, rules, registry):
    workbook = openpyxl.load_workbook(templates["区住房和城乡建设局"])
    hazards = workbook["隐患排查"]
    col = columns_by_canonical(hazards, rules, "hazards")
    cell = hazards.cell(FIRST_DATA_ROW, col["unit"])
    assert cell.value is None and cell.protection.locked is False
    territories = registry.loc[registry["group"] != "成员单位", "name"].tolist()
    assert list_values(workbook, validation_at(hazards, FIRST_DATA_ROW, col["unit"])) == territories
    enforcement = workbook["执法检查"]
    unit = enforcement.cell(FIRST_DATA_ROW, columns_by_canonical(enforcement, rules, "enforcement")["unit"])
    assert unit.value == "区住房和城乡建设局" and unit.protection.locked


def test_long_lists_go_to_a_hidden_sheet(rules, registry, tmp_path):
    many = registry[registry["unit_id"].eq("T01") | registry["group"].eq("成员单位")].copy()
    members = many["group"] == "成员单位"
    many.loc[members, "industries"] = [";".join(f"{uid}行业{i:02d}类别" for i in range(6)) for uid in many.loc[members, "unit_id"]]
    [path] = write_templates(PERIOD, many, rules, tmp_path, sources_by_group={"办事处": ("accidents",)})
    workbook = openpyxl.load_workbook(path)
    assert workbook["_lists"].sheet_state == "hidden"
    accidents = workbook["事故"]
    dv = validation_at(accidents, FIRST_DATA_ROW, columns_by_canonical(accidents, rules, "accidents")["industry"])
    assert dv.formula1.startswith("'_lists'!")
    values = list_values(workbook, dv)
    assert len(values) == 13 * 6 + 1 and values[0] == "D01行业00类别" and values[-1] == "其他"


def test_guide_sheet_explains_every_column(templates, rules):
    ws = openpyxl.load_workbook(templates["南湖办事处"])["填报说明"]
    rows = list(ws.iter_rows(values_only=True))
    top = next(i for i, r in enumerate(rows) if r[0] == "报表")
    assert rows[top] == ("报表", "表名", "中文表头", "字段名", "含义", "可选值", "格式", "必填")
    table = {(r[1], r[3]): r for r in rows[top + 1:] if r[0]}
    for source in ("accidents", "enforcement", "hazards"):
        for name, spec in rules["sources"][source]["columns"].items():
            row = table[(source, name)]
            assert row[2] == spec["aliases"][0] and row[4]
            assert row[7] == ("是" if spec.get("required") else "否")
    assert table[("enforcement", "mode")][5] == "、".join(rules["enums"]["mode"])
    assert "南湖办事处" in table[("enforcement", "unit")][5]
    # Only the header and name columns may read as headers, or the reader would take this sheet for data.
    every_alias = {label(a) for s in rules["sources"].values() for n, c in s["columns"].items() for a in (n, *c["aliases"])}
    assert not any(label(str(v)) in every_alias for r in rows for i, v in enumerate(r) if v and i not in (2, 3))


def test_bytes_are_deterministic_and_period_checked(rules, registry, tmp_path):
    first = write_templates(PERIOD, registry.head(2), rules, tmp_path / "a")
    second = write_templates(PERIOD, registry.head(2), rules, tmp_path / "b")
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    with pytest.raises(InputError, match="2020-3"):
        write_templates("2020-3", registry, rules, tmp_path)


def test_filled_template_has_reader_headers_and_valid_values(templates, rules, tmp_path):
    path = fill_template(templates["南湖办事处"], VALID, report_date=dt.date(2020, 4, 3), out=tmp_path / "filled.xlsx")
    workbook = openpyxl.load_workbook(path)
    tokens = rules["tokens"]
    for sheet, source in (("事故", "accidents"), ("执法检查", "enforcement"), ("隐患排查", "hazards")):
        ws = workbook[sheet]
        assert ws["E2"].value == dt.datetime(2020, 4, 3)
        col = columns_by_canonical(ws, rules, source)  # every header is an alias of the rulebook
        specs = rules["sources"][source]["columns"]
        for offset, record in enumerate(VALID[sheet]):
            row = FIRST_DATA_ROW + offset
            for name, c in col.items():
                value = ws.cell(row, c).value
                assert satisfies(workbook, validation_at(ws, row, c), value), (sheet, name, value)
                kind = specs[name]["type"]
                if value is None:
                    assert not specs[name].get("required"), (sheet, name)
                elif kind == "bool":
                    assert value in tokens["true"] + tokens["false"]
                elif kind.startswith("enum:"):
                    assert value in rules["enums"][kind[5:]]
                elif kind in ("date", "datetime"):
                    assert isinstance(value, dt.datetime)
                elif kind == "count":
                    assert isinstance(value, int) and value >= 0
                elif kind in ("text", "credit_code"):
                    assert isinstance(value, str) and value == record.get(name, value)
    # Excel's own rules reject what the cleaner would quarantine.
    ws = workbook["执法检查"]
    col = columns_by_canonical(ws, rules, "enforcement")
    for name, bad in (("hazards_found", -1), ("hazards_found", 2.5), ("fine_wan", -0.1), ("case_filed", "可能"),
                      ("mode", "突击"), ("inspected_at", dt.date(1999, 12, 31)), ("file_review_score", 101),
                      ("credit_code", "123")):
        assert not satisfies(workbook, validation_at(ws, FIRST_DATA_ROW, col[name]), bad), name


def test_filled_template_reads_as_a_table(templates, tmp_path):
    path = fill_template(templates["南湖办事处"], VALID, out=tmp_path / "filled.xlsx")
    frame = pd.read_excel(path, sheet_name="执法检查", header=2, engine="calamine", dtype=str)
    assert frame.columns[1] == "执法单位*" and frame.iloc[0]["检查编号"] == "001"
    assert frame.iloc[0]["被检查单位*"] == "某化工有限公司" and frame.iloc[1]["检查方式"] == "专项"


def test_fill_refuses_to_overwrite_locked_cells_or_overflow(templates, tmp_path):
    with pytest.raises(ValueError, match="pre-filled"):
        fill_template(templates["南湖办事处"], {"enforcement": [{"unit": "东湖办事处"}]}, out=tmp_path / "x.xlsx")
    with pytest.raises(ValueError, match="do not fit"):
        fill_template(templates["南湖办事处"], {"hazards": [{}] * (DATA_ROWS + 1)}, out=tmp_path / "x.xlsx")
