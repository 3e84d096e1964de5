"""Vectorised parsers from cell text to typed values, one per column type of rules/ingest.toml.

Every parser takes a Series of normalised text (NFKC, stripped; "" = empty) and returns a
`Parsed`: the typed values and, for each cell that holds something but cannot be read, the reason
(Chinese, English in brackets). Empty cells and null tokens are missing values, not errors;
whether a missing value is allowed is the cleaner's decision (`required`).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline import arrow_text, cores

# Excel's day 0 for serial dates (the 1900 leap-year bug makes 1899-12-30 the working origin).
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
SERIAL_MIN, SERIAL_MAX = 1, 2958465  # 1900-01-01 .. 9999-12-31

DATE_PATTERN = (
    r"^(?P<year>\d{4})\s*[-/.年]\s*(?P<month>\d{1,2})\s*[-/.月]\s*(?P<day>\d{1,2})\s*[日号]?"
    r"(?:\s*T?\s*(?P<hour>\d{1,2})\s*[:时点]\s*(?P<minute>\d{1,2})?\s*分?"
    r"(?:\s*:?\s*(?P<second>\d{1,2})(?:\.\d+)?\s*秒?)?)?$"
)
COMPACT_DATE = r"^(?P<year>(?:19|20)\d{2})(?P<month>\d{2})(?P<day>\d{2})$"
NUMBER_PATTERN = r"^(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(?P<unit>[^\d\s.+-][^\d]*)?$"

COUNT_UNITS = {"人", "名", "项", "处", "个", "起", "次", "家", "条", "份", "件", "宗"}
# Multipliers into 万元 for the money columns (all money columns are in 万元).
MONEY_UNITS = {None: 1.0, "万元": 1.0, "万": 1.0, "元": 1e-4, "亿元": 1e4, "亿": 1e4, "千元": 1e-1}
CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28])


@dataclass
class Parsed:
    """Typed values plus an error reason per cell (NA where the cell was fine or empty)."""

    values: pd.Series
    errors: pd.Series


def normalise_text(series: pd.Series) -> pd.Series:
    """NFKC (full-width digits and brackets become ASCII), whitespace collapsed, ends stripped."""
    return arrow_text.series(arrow_text.normalise(arrow_text.arrow(series.astype("str"))), series.index)


def normalise_label(text: str) -> str:
    """A header as it is compared with aliases: NFKC, no spaces, no trailing '*', case-folded."""
    folded = "".join(unicodedata.normalize("NFKC", str(text)).split()).casefold()
    return folded.rstrip("*")


SLICE_ROWS = 500_000  # per_unique on values that barely repeat: rows per slice


def per_unique(text: pd.Series, function, distinct: tuple[np.ndarray | None, pd.Series] | None = None) -> pd.Series:
    """Apply a Series -> Series function to the distinct values only, then spread the result back.

    Submitted columns repeat a few values (units, dates, 是/否, enumerations) millions of times;
    working on the distinct values makes cleaning cost grow with the variety, not the row count.
    `distinct`: the column's `distinct_values`, when the caller has them already.
    """
    codes, uniques = distinct if distinct is not None else distinct_values(text)
    if codes is None:  # values barely repeat (ids): apply to every value directly, a slice at a
        # time (the function works value by value) so that its copies of the text stay small;
        # the slices on the free cores (`cores.each`: a thread with nothing to do takes some)
        starts = range(0, len(text), SLICE_ROWS)
        slices = cores.each(lambda start: function(text.iloc[start:start + SLICE_ROWS]), starts, len(starts) > 1)
        result = pd.concat(slices) if len(slices) > 1 else slices[0] if slices else function(text)
        result.index = text.index
        return result
    result = function(uniques)
    codes = codes.astype(np.intp)  # (once: a take converts its positions to these)

    def spread(values: pd.Series) -> pd.Series:
        if _unchanged(values, uniques, text):  # (names, codes: already clean) the column itself
            return text.rename(values.name)
        return _spread(values, codes, text.index)

    if isinstance(result, pd.DataFrame):
        return pd.DataFrame({column: spread(result[column]) for column in result.columns}, index=text.index)
    return spread(result)


def _unchanged(values: pd.Series, uniques: pd.Series, text: pd.Series) -> bool:
    """Whether the function gave every distinct value back as it was, so that spreading its
    result would rebuild `text` (millions of strings copied for nothing: a column of names
    already written cleanly). Only for text without NA, whose distinct values are its own."""
    if not (values.dtype == uniques.dtype == text.dtype == "str") or uniques.hasnans or len(values) != len(uniques):
        return False
    return arrow_text.arrow(values).equals(arrow_text.arrow(uniques))


def _spread(values: pd.Series, codes: np.ndarray, index: pd.Index) -> pd.Series:
    """values[codes] with the given index; an all-NA text column (a column's error reasons, the
    usual case) is the one shared null array instead of a new one per column. The array is
    taken, not the Series: that would also build an index of millions of labels, then dropped."""
    if values.dtype == "str":
        if not values.notna().any():
            return no_text(index)
        # Arrow's own take: pandas' checks and conversions around it cost four times the take
        spread = arrow_text.series(arrow_text.arrow(values).combine_chunks().take(pa.array(codes)), index)
        spread.name = values.name
        return spread
    return pd.Series(values.array.take(codes), index=index, name=values.name, dtype=values.dtype, copy=False)


_NULL_TEXT: dict[int, pa.Array] = {}


def no_text(index: pd.Index) -> pd.Series:
    """An all-NA `str` column. Arrow arrays are immutable, so every such column of one length
    shares one array (millions of rows of error reasons that are all empty cost nothing more)."""
    nulls = _NULL_TEXT.get(len(index))
    if nulls is None:  # (read once: cleaning threads may share the cache)
        if len(_NULL_TEXT) >= 8:
            _NULL_TEXT.clear()
        nulls = _NULL_TEXT[len(index)] = pa.nulls(len(index), pa.large_string())
    return arrow_text.series(nulls, index)


def blank_text(index: pd.Index) -> pd.Series:
    """A `str` column of "" (Arrow's repeat: a fifth of what pandas takes to broadcast a scalar)."""
    return arrow_text.series(arrow_text.blanks(len(index)), index)


def distinct_values(text: pd.Series, sample: int = 50_000) -> tuple[np.ndarray | None, pd.Series]:
    """(codes, distinct values) of a column, so that values[codes] is the column; or (None, the
    column itself) when a sample of its values shows they barely repeat (record ids), where
    factorizing would cost more than it saves (hashing millions of distinct strings)."""
    if len(text) > 4 * sample:
        head = text.iloc[:sample]
        if pd.unique(head.to_numpy() if head.dtype == object else head.array).size > sample // 2:
            return None, text
    codes, uniques = pd.factorize(text, use_na_sentinel=False)
    return narrow_codes(codes, len(uniques)), pd.Series(uniques, dtype=text.dtype)


def narrow_codes(codes: np.ndarray, size: int) -> np.ndarray:
    """Codes of `size` distinct values in the narrowest integer type (a yes/no column's fit a
    byte): an eighth of int64 for most columns of millions of rows, all held until the whole
    source is parsed."""
    narrow = next((t for t in (np.int8, np.int16, np.int32) if size <= np.iinfo(t).max), None)
    return codes.astype(narrow) if narrow else codes


def strip_text(text: pd.Series) -> pd.Series:
    """`text.str.strip()` (the same Arrow kernel) without the pandas round trip."""
    return arrow_text.series(pc.utf8_trim_whitespace(arrow_text.arrow(text)), text.index)


def nonblank(text: pd.Series) -> np.ndarray:
    """`strip_text(text).ne("")` as a numpy mask (NA counts as filled, as that comparison has it).
    Only the values holding a whitespace byte are stripped: the others are filled when not empty."""
    return arrow_text.nonblank(arrow_text.arrow(text))


def squeeze_text(text: pd.Series) -> pd.Series:
    """NFKC with the spaces removed: how total and footer markers are compared. (ASCII text is
    its own NFKC form, so only the other values go through the normaliser.)"""
    data = arrow_text.arrow(text)
    return arrow_text.series(pc.replace_substring(arrow_text.nfkc(data), " ", ""), text.index)


def normalise_labels(text: pd.Series) -> pd.Series:
    """`normalise_label` for a whole column, vectorised."""
    data = arrow_text.nfkc(pc.fill_null(arrow_text.arrow(text.astype("str")), ""))
    folded = arrow_text.casefold(arrow_text.without_whitespace(data))
    return arrow_text.series(pc.utf8_rtrim(folded, characters="*"), text.index)


def is_missing(text: pd.Series, null_tokens: frozenset[str]) -> pd.Series:
    """Empty, or a null token once case-folded (`null_tokens` are folded already)."""
    data = arrow_text.arrow(text)
    empty = pc.fill_null(pc.equal(data, ""), False).to_numpy(zero_copy_only=False)
    # Case folding never makes a text shorter (each character folds to one to three), so a text
    # longer than every token cannot fold into one: only the short texts are folded and compared
    # (none, in a column of ids).
    longest = max((len(token) for token in null_tokens), default=-1)
    short = pc.fill_null(pc.less_equal(pc.utf8_length(data), longest), False).to_numpy(zero_copy_only=False)
    token = np.zeros(len(data), dtype=bool)
    if short.all():
        token = arrow_text.is_in(arrow_text.casefold(data), null_tokens)
    elif short.any():
        rows = np.flatnonzero(short)
        token[rows] = arrow_text.is_in(arrow_text.casefold(arrow_text.take(data, rows)), null_tokens)
    return pd.Series(empty | token, index=text.index)


def _folded(text: pd.Series):
    """Case-folded, spaces removed: the form in which yes/no tokens and enum spellings match."""
    return pc.replace_substring(arrow_text.casefold(arrow_text.arrow(text)), " ", "")


def first_reason(first: pd.Series, then: pd.Series) -> pd.Series:
    """first.fillna(then) for two columns of reasons (`str`, NA = none) on one index; a column
    without any reason (the usual case) is not gone through row by row: filling millions of NAs
    from millions of NAs costs a fifth of a second."""
    if not first.hasnans or then.isna().all():
        return first
    if first.isna().all():
        return then
    return first.fillna(then)


def _no_errors(index: pd.Index) -> pd.Series:
    return no_text(index)


def _errors_where(mask: pd.Series, reason: str) -> pd.Series:
    errors = _no_errors(mask.index)
    return errors.mask(mask.fillna(False).astype(bool), reason)


def parse_text(text: pd.Series, null_tokens: frozenset[str]) -> Parsed:
    missing = is_missing(text, null_tokens)
    values = (text.mask(missing) if missing.any() else text).astype("str")  # (no copy of a full column)
    return Parsed(values, _no_errors(text.index))


def _number_parts(text: pd.Series) -> pd.DataFrame:
    cleaned = text.str.replace(",", "", regex=False).str.replace(" ", "", regex=False)
    return cleaned.str.extract(NUMBER_PATTERN)


def parse_count(text: pd.Series, null_tokens: frozenset[str]) -> Parsed:
    """Whole numbers >= 0, optionally with a counting unit: `3`, `３人`, `3项`."""
    missing = is_missing(text, null_tokens)
    parts = _number_parts(text)
    number = pd.to_numeric(parts["number"], errors="coerce")
    unit_ok = parts["unit"].isna() | parts["unit"].isin(COUNT_UNITS)
    readable = number.notna() & unit_ok & np.isfinite(number.fillna(0))
    errors = _errors_where(~missing & ~readable, "不是数字(not a number)")
    whole = readable & (number.fillna(0) % 1 == 0)
    errors = errors.mask(~missing & readable & ~whole, "人数/数量应为整数(count must be a whole number)")
    negative = readable & (number < 0)
    errors = errors.mask(~missing & negative, "数量不能为负(negative count)")
    huge = readable & (number.abs() > 1e5)
    errors = errors.mask(~missing & huge, "数值大得不合理(absurdly large count)")
    ok = readable & whole & ~negative & ~huge & ~missing
    values = pd.Series(pd.NA, index=text.index, dtype="Int64")
    values = values.mask(ok, number.where(ok).round().astype("Int64"))
    return Parsed(values, errors)


def parse_money_wan(text: pd.Series, null_tokens: frozenset[str]) -> Parsed:
    """Amounts in 万元 >= 0; a cell written in 元 or 亿 is converted (`5000元` -> 0.5)."""
    missing = is_missing(text, null_tokens)
    parts = _number_parts(text)
    number = pd.to_numeric(parts["number"], errors="coerce")
    factor = parts["unit"].map(MONEY_UNITS, na_action="ignore").astype("Float64")
    factor = factor.mask(parts["unit"].isna(), 1.0)
    amount = (number * factor).astype("Float64")
    readable = amount.notna() & np.isfinite(amount.fillna(0).astype(float))
    errors = _errors_where(~missing & ~readable, "不是金额(not an amount)")
    negative = readable & (amount < 0)
    errors = errors.mask(~missing & negative, "金额不能为负(negative amount)")
    # 10^8 万元 is a trillion yuan: beyond any district's fine or loss.
    huge = readable & (amount.abs() > 1e8)
    errors = errors.mask(~missing & huge, "金额大得不合理(absurdly large amount)")
    ok = readable & ~negative & ~huge & ~missing
    return Parsed(amount.where(ok).astype("Float64"), errors)


def parse_score(text: pd.Series, null_tokens: frozenset[str]) -> Parsed:
    """Scores 0-100 (`85`, `85分`)."""
    missing = is_missing(text, null_tokens)
    parts = _number_parts(text)
    number = pd.to_numeric(parts["number"], errors="coerce")
    readable = number.notna() & (parts["unit"].isna() | parts["unit"].eq("分"))
    errors = _errors_where(~missing & ~readable, "不是分数(not a score)")
    out_of_range = readable & ((number < 0) | (number > 100))
    errors = errors.mask(~missing & out_of_range, "分数应在0–100之间(score outside 0-100)")
    ok = readable & ~out_of_range & ~missing
    return Parsed(number.where(ok).astype("Float64"), errors)


def parse_year(text: pd.Series, null_tokens: frozenset[str]) -> Parsed:
    missing = is_missing(text, null_tokens)
    year = pd.to_numeric(text.str.extract(r"^((?:19|20)\d{2})\s*(?:年度?)?$")[0], errors="coerce")
    errors = _errors_where(~missing & year.isna(), "不是年度(not a year)")
    return Parsed(year.astype("Int64"), errors)


def parse_bool(text: pd.Series, null_tokens: frozenset[str], true_tokens: frozenset[str], false_tokens: frozenset[str]) -> Parsed:
    """是/否/√/×/有/无/Y/N/1/0 and the other spellings in rules/ingest.toml [tokens]."""
    folded = _folded(text)
    is_true = pd.Series(arrow_text.is_in(folded, true_tokens), index=text.index)
    is_false = pd.Series(arrow_text.is_in(folded, false_tokens), index=text.index)
    missing = (text.eq("") | arrow_text.is_in(folded, null_tokens)) & ~is_true & ~is_false
    values = pd.Series(pd.NA, index=text.index, dtype="boolean").mask(is_true, True).mask(is_false, False)
    errors = _errors_where(~missing & ~is_true & ~is_false, "不是“是/否”(not a yes/no value)")
    return Parsed(values, errors)


def parse_enum(text: pd.Series, null_tokens: frozenset[str], spellings: dict[str, list[str]], label: str) -> Parsed:
    """Lenient match: a cell containing a spelling takes its value; the longest spelling wins."""
    missing = is_missing(text, null_tokens)
    folded = _folded(text)
    ranked = sorted(((s.casefold(), value) for value, ss in spellings.items() for s in ss), key=lambda p: -len(p[0]))
    values = pd.Series(pd.NA, index=text.index, dtype="str")
    for spelling, value in ranked:
        contains = pc.fill_null(pc.match_substring(folded, spelling), False).to_numpy(zero_copy_only=False)
        values = values.mask(values.isna() & contains, value)
    allowed = "/".join(spellings)
    errors = _errors_where(~missing & values.isna(), f"{label}应为 {allowed}(unknown value)")
    return Parsed(values.where(~missing), errors)


def parse_datetime(text: pd.Series, null_tokens: frozenset[str], keep_time: bool) -> Parsed:
    """Dates in every form seen in submissions.

    `2020-03-05`, `2020/3/5`, `2020.3.5`, `2020年3月5日`, `20200305`, with or without a time
    (`2020-03-05 14:30`, `2020年3月5日14时30分`), and Excel serial numbers (`43895`, `43895.6`).
    A date that does not exist (2020-02-30, 1900-01-00) is an error, never rolled over.
    """
    missing = is_missing(text, null_tokens)
    parts = text.str.extract(DATE_PATTERN)
    compact = text.str.extract(COMPACT_DATE)
    for column in ("year", "month", "day"):
        parts[column] = parts[column].fillna(compact[column])
    numbers = {c: pd.to_numeric(parts[c], errors="coerce") for c in ("year", "month", "day", "hour", "minute", "second")}
    has_date = numbers["year"].notna() & numbers["month"].notna() & numbers["day"].notna()
    stamp = pd.to_datetime(
        pd.DataFrame({
            "year": numbers["year"].fillna(2000), "month": numbers["month"].fillna(1), "day": numbers["day"].fillna(1),
            "hour": numbers["hour"].fillna(0), "minute": numbers["minute"].fillna(0), "second": numbers["second"].fillna(0),
        }),
        errors="coerce",
    ).where(has_date)

    serial = pd.to_numeric(text.where(text.str.fullmatch(r"\d+(?:\.\d+)?")), errors="coerce")
    is_serial = ~has_date & serial.between(SERIAL_MIN, SERIAL_MAX)
    from_serial = EXCEL_EPOCH + pd.to_timedelta(serial.where(is_serial).round(6), unit="D")
    stamp = stamp.where(~is_serial, from_serial).astype("datetime64[us]")
    if not keep_time:
        stamp = stamp.dt.floor("D")

    errors = _errors_where(~missing & ~has_date & ~is_serial, "不是可识别的日期(unrecognised date)")
    errors = errors.mask(~missing & has_date & stamp.isna(), "日期不存在(no such date)")
    time_bad = has_date & ((numbers["hour"] > 23) | (numbers["minute"] > 59) | (numbers["second"] > 59)).fillna(False)
    errors = errors.mask(~missing & time_bad, "时间不存在(no such time)")
    ok = ~missing & errors.isna()
    return Parsed(stamp.where(ok), errors)


def credit_code_valid(codes: pd.Series) -> pd.Series:
    """GB 32100-2015 check: 18 characters from the code set, the last one a weighted mod-31 check.

    Returns a boolean Series (NA where the code is missing).
    """
    if not codes.notna().any():  # (a column no sheet has: millions of NAs, nothing to check)
        return pd.Series(pd.NA, index=codes.index, dtype="boolean")
    upper = codes.str.upper()
    shaped = upper.str.fullmatch(r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}").fillna(False).astype(bool)
    result = pd.Series(False, index=codes.index, dtype="boolean").mask(codes.isna(), pd.NA)
    if shaped.any():
        table = np.full(128, -1, dtype=np.int64)
        for value, char in enumerate(CREDIT_CODE_CHARS):
            table[ord(char)] = value
        raw = np.frombuffer("".join(upper[shaped].tolist()).encode("ascii"), dtype=np.uint8).reshape(-1, 18)
        digits = table[raw]
        check = (31 - (digits[:, :17] * CREDIT_CODE_WEIGHTS).sum(axis=1) % 31) % 31
        result[shaped[shaped].index] = check == digits[:, 17]
    return result
