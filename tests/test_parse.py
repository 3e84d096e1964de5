"""Cell parsers (pipeline.parse): every spelling the units use, and what must be an error."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from pipeline import arrow_text, parse
from pipeline.config import INGEST_RULES
from pipeline.ingest_rules import load_ingest_rules
from pipeline.read import _cell_text

from helpers_raw import credit_code

RULES = load_ingest_rules(INGEST_RULES)
NULLS = RULES.null_tokens


def text(*cells: str) -> pd.Series:
    """Cells as the cleaner hands them to a parser: NFKC-normalised and stripped."""
    return parse.normalise_text(pd.Series(list(cells), dtype="str"))


def one(result: parse.Parsed):
    assert len(result.values) == 1
    return result.values.iloc[0], result.errors.iloc[0]


# --- dates -------------------------------------------------------------------------------------------

MARCH_5 = pd.Timestamp("2020-03-05")


@pytest.mark.parametrize("cell", [
    "2020-03-05", "2020/3/5", "2020.3.5", "2020年3月5日", "2020年03月05日", "20200305", "43895",
    "２０２０年３月５日", "２０２０－０３－０５", " 2020-3-5 ",
])
def test_every_date_form(cell):
    value, error = one(parse.parse_datetime(text(cell), NULLS, keep_time=False))
    assert pd.isna(error)
    assert value == MARCH_5


@pytest.mark.parametrize("cell, expected", [
    ("2020-03-05 14:30", "2020-03-05 14:30"),
    ("2020/3/5 14:30:15", "2020-03-05 14:30:15"),
    ("2020年3月5日14时30分", "2020-03-05 14:30"),
    ("2020年3月5日 14:30", "2020-03-05 14:30"),
    ("2020-03-05T08:05:00", "2020-03-05 08:05"),
    ("43895.5", "2020-03-05 12:00"),          # Excel serial with a fraction of a day
    ("43895.75", "2020-03-05 18:00"),
    ("２０２０－０３－０５　１４：３０", "2020-03-05 14:30"),
])
def test_datetime_keeps_its_time(cell, expected):
    value, error = one(parse.parse_datetime(text(cell), NULLS, keep_time=True))
    assert pd.isna(error)
    assert value == pd.Timestamp(expected)


def test_date_columns_drop_the_time():
    result = parse.parse_datetime(text("2020-03-05 14:30", "43895.9"), NULLS, keep_time=False)
    assert result.values.tolist() == [MARCH_5, MARCH_5]


def test_real_excel_datetime_cells_become_parseable_text():
    """calamine hands back date/datetime objects for date-formatted cells; read.py turns them into text."""
    cells = [_cell_text(dt.date(2020, 3, 5)), _cell_text(dt.datetime(2020, 3, 5)), _cell_text(dt.datetime(2020, 3, 5, 14, 30)),
             _cell_text(43895.0), _cell_text(43895.5)]
    assert cells[:4] == ["2020-03-05", "2020-03-05", "2020-03-05 14:30:00", "43895"]
    result = parse.parse_datetime(text(*cells), NULLS, keep_time=True)
    assert result.errors.isna().all()
    assert result.values.tolist() == [MARCH_5, MARCH_5, pd.Timestamp("2020-03-05 14:30"), MARCH_5, pd.Timestamp("2020-03-05 12:00")]


@pytest.mark.parametrize("cell", ["2020-02-30", "1900-01-00", "2019-02-29", "2020-13-01", "2020/4/31"])
def test_impossible_dates_are_errors_not_rolled_over(cell):
    value, error = one(parse.parse_datetime(text(cell), NULLS, keep_time=False))
    assert pd.isna(value)
    assert "日期不存在" in error and "(no such date)" in error


@pytest.mark.parametrize("cell", ["2020-03-05 25:00", "2020-03-05 10:61"])
def test_impossible_times_are_errors(cell):
    value, error = one(parse.parse_datetime(text(cell), NULLS, keep_time=True))
    assert pd.isna(value) and "(no such time)" in error


@pytest.mark.parametrize("cell", ["三月五日", "abc", "2020-03", "0", "-5"])
def test_garbage_dates_are_errors(cell):
    value, error = one(parse.parse_datetime(text(cell), NULLS, keep_time=False))
    assert pd.isna(value) and "(unrecognised date)" in error


@pytest.mark.parametrize("cell", ["", "-", "——", "/", "不详", "暂无"])
def test_empty_dates_are_missing_not_errors(cell):
    value, error = one(parse.parse_datetime(text(cell), NULLS, keep_time=False))
    assert pd.isna(value) and pd.isna(error)


# --- counts and money -----------------------------------------------------------------------------


@pytest.mark.parametrize("cell, expected", [("3", 3), ("3人", 3), ("３项", 3), ("3 人", 3), ("0", 0), ("1,234", 1234), ("2起", 2)])
def test_counts_with_units(cell, expected):
    value, error = one(parse.parse_count(text(cell), NULLS))
    assert pd.isna(error) and value == expected


@pytest.mark.parametrize("cell, reason", [
    ("-1", "(negative count)"), ("-3人", "(negative count)"), ("1e9", "(absurdly large count)"),
    ("3.5", "(count must be a whole number)"), ("三人", "(not a number)"), ("3元", "(not a number)"),
])
def test_bad_counts(cell, reason):
    value, error = one(parse.parse_count(text(cell), NULLS))
    assert pd.isna(value) and reason in error


@pytest.mark.parametrize("cell, expected", [
    ("12.5", 12.5), ("12.5万元", 12.5), ("１２．５万元", 12.5), ("12.5 万元", 12.5), ("0.5万", 0.5),
    ("5000元", 0.5), ("1亿", 10000.0), ("1.5亿元", 15000.0), ("0", 0.0),
])
def test_money_in_wan_with_unit_conversion(cell, expected):
    value, error = one(parse.parse_money_wan(text(cell), NULLS))
    assert pd.isna(error)
    assert value == pytest.approx(expected)


@pytest.mark.parametrize("cell, reason", [
    ("-3", "(negative amount)"), ("-500元", "(negative amount)"), ("1e12", "(absurdly large amount)"),
    ("五万", "(not an amount)"), ("12.5美元", "(not an amount)"),
])
def test_bad_money(cell, reason):
    value, error = one(parse.parse_money_wan(text(cell), NULLS))
    assert pd.isna(value) and reason in error


# --- booleans and enumerations ----------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["是", "√", "有", "Y", "y", "1", "yes", "已立案"])
def test_true_spellings(cell):
    value, error = one(parse.parse_bool(text(cell), NULLS, RULES.true_tokens, RULES.false_tokens))
    assert pd.isna(error) and value == True  # noqa: E712 (a numpy/pandas boolean scalar)


@pytest.mark.parametrize("cell", ["否", "×", "无", "N", "n", "0", "x", "未处罚"])
def test_false_spellings(cell):
    value, error = one(parse.parse_bool(text(cell), NULLS, RULES.true_tokens, RULES.false_tokens))
    assert pd.isna(error) and value == False  # noqa: E712


def test_bool_blank_is_missing_and_garbage_is_an_error():
    result = parse.parse_bool(text("", "也许"), NULLS, RULES.true_tokens, RULES.false_tokens)
    assert result.values.isna().all()
    assert pd.isna(result.errors.iloc[0]) and "(not a yes/no value)" in result.errors.iloc[1]


@pytest.mark.parametrize("enum, cell, expected", [
    ("hazard_level", "一般隐患", "一般"),
    ("hazard_level", "重大隐患", "重大"),
    ("accident_level", "较大事故", "较大"),
    ("accident_level", "特别重大事故", "特别重大"),   # the longest spelling wins, not 重大
    ("accident_level", "重大事故", "重大"),
    ("accident_level", "一般事故", "一般"),
    ("mode", "双随机抽查", "双随机"),
    ("mode", "专项检查", "专项"),
    ("mode", "举报核查", "举报核查"),
])
def test_lenient_enums(enum, cell, expected):
    value, error = one(parse.parse_enum(text(cell), NULLS, RULES.enums[enum], "等级"))
    assert pd.isna(error) and value == expected


def test_unknown_enum_value_is_an_error_listing_the_allowed_values():
    value, error = one(parse.parse_enum(text("小事故"), NULLS, RULES.enums["accident_level"], "事故级别"))
    assert pd.isna(value)
    assert error.startswith("事故级别应为 特别重大/重大/较大/一般") and error.endswith("(unknown value)")


# --- GB 32100-2015 credit codes --------------------------------------------------------------------------


def test_credit_code_checksum():
    valid = credit_code("91350100M000100Y4")
    assert valid == "91350100M000100Y43"  # a published example code
    other = credit_code("91330106MA27XY2K0")
    wrong_check = other[:-1] + ("0" if other[-1] != "0" else "1")
    codes = pd.Series([valid, other, other.lower(), wrong_check, "9135010", "91350100M000100I43", None], dtype="str")
    assert parse.credit_code_valid(codes).tolist() == [True, True, True, False, False, False, pd.NA]
    nothing = parse.credit_code_valid(pd.Series([None, None], dtype="str"))  # a column no sheet has
    assert nothing.dtype == "boolean" and nothing.isna().all()


# --- per_unique --------------------------------------------------------------------------------------

def test_per_unique_gives_an_unchanged_column_back_and_spreads_a_changed_one():
    """A function that leaves every distinct value as it was gives the column itself back (no
    copy); one value changed, or an NA among the distinct values, and the result is spread."""
    column = pd.Series(["甲公司", "乙公司", "甲公司", "丙公司"] * 3, dtype="str", index=range(10, 22))
    same = parse.per_unique(column, lambda values: values.copy(), parse.distinct_values(column))
    pd.testing.assert_series_equal(same, column)
    assert arrow_text.arrow(same).chunks[0].buffers()[2].address == arrow_text.arrow(column).chunks[0].buffers()[2].address
    changed = parse.per_unique(column, lambda values: values.replace("乙公司", "乙有限公司"), parse.distinct_values(column))
    assert changed.tolist() == ["甲公司", "乙有限公司", "甲公司", "丙公司"] * 3
    assert list(changed.index) == list(column.index)
    with_na = pd.Series(["甲", None, "甲"], dtype="str")
    spread = parse.per_unique(with_na, lambda values: values.fillna("空"), parse.distinct_values(with_na))
    assert spread.tolist() == ["甲", "空", "甲"]
    kept = parse.per_unique(with_na, lambda values: values.copy(), parse.distinct_values(with_na))
    assert kept.iloc[0] == "甲" and pd.isna(kept.iloc[1])
    # Distinct values taken before the NA was filled (as the cleaner may hand them): the result
    # is spread from them, not the filled column given back.
    filled = with_na.fillna("")
    spread = parse.per_unique(filled, lambda values: values.copy(), parse.distinct_values(with_na))
    assert spread.iloc[0] == "甲" and pd.isna(spread.iloc[1])


def test_per_unique_on_values_that_barely_repeat_gives_the_whole_columns_result_slice_by_slice(monkeypatch):
    """Values that barely repeat are worked on a slice of rows at a time, the slices on two
    threads: the result (values and the frame of several columns) is the function's on the
    whole column, in its order and with its index."""
    from pipeline import cores

    monkeypatch.setattr(cores, "LIMIT", 2)
    monkeypatch.setattr(parse, "SLICE_ROWS", 7)
    column = pd.Series([f"id-{i}" if i % 9 else None for i in range(100)], dtype="str", index=range(500, 600))

    def both(values: pd.Series) -> pd.DataFrame:
        return pd.DataFrame({"upper": values.str.upper(), "long": values.str.len().gt(4)}, index=values.index)

    pd.testing.assert_frame_equal(parse.per_unique(column, both, (None, column)), both(column), check_exact=True)
    upper = parse.per_unique(column, lambda values: values.str.upper(), (None, column))
    pd.testing.assert_series_equal(upper, column.str.upper(), check_exact=True)


def test_blank_text_is_empty_strings():
    blank = parse.blank_text(pd.RangeIndex(3, 6))
    assert blank.tolist() == ["", "", ""] and str(blank.dtype) == "str" and list(blank.index) == [3, 4, 5]


def test_a_text_is_missing_when_empty_or_a_null_token_once_case_folded_however_long():
    """Only texts no longer than the longest token are folded and compared (folding never
    shortens a text): the outcome is Python's casefold compared with every token."""
    tokens = frozenset({"无", "null", "n/a", "-", "ss", "j\u030c"})  # ("\u01f0" folds to "j\u030c": longer)
    values = ["", "无", "NULL", "Null ", "\u00df", "SS", "abc", None, "N/A", "\u01f0", "j", "x" * 50, "-", "—",
              "NULLS", "\u1e9e"]
    expected = [v is not None and (v == "" or v.casefold() in tokens) for v in values]
    assert expected.count(True) == 9
    for rows in (values, values * 3, [v for v in values if v is None or len(v) <= 4]):
        got = parse.is_missing(pd.Series(rows, dtype="str"), tokens)
        assert got.tolist() == [v is not None and (v == "" or v.casefold() in tokens) for v in rows]


def test_the_first_reason_of_two_columns_is_fillna_whichever_is_empty():
    index = pd.RangeIndex(4)
    none = parse.no_text(index)
    some = pd.Series(["a", None, "b", None], dtype="str")
    other = pd.Series([None, "c", "d", None], dtype="str")
    full = pd.Series(["e", "f", "g", "h"], dtype="str")
    for first in (none, some, full):
        for then in (none, other, full):
            pd.testing.assert_series_equal(parse.first_reason(first, then), first.fillna(then), check_exact=True)
