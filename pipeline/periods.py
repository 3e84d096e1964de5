"""Assessment periods: calendar months ('YYYY-MM') and assessment years, and which records fall in them.

A period is a half-open interval [start, end) of whole days with a label and a number of months
(the factor by which per-month targets scale, SPEC "Exact meanings"). Dates are compared at day
precision where SPEC speaks of days (deadlines, rectification), otherwise as given.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa

PERIOD_COLUMNS = ["period", "start", "end", "months"]
UNIT = "datetime64[us]"


def month_index(labels: Iterable[str]) -> np.ndarray:
    """'2020-03' -> 2020 * 12 + 2: consecutive months differ by one."""
    text = pd.Series(list(labels), dtype="string")
    return (text.str.slice(0, 4).astype(int) * 12 + text.str.slice(5, 7).astype(int) - 1).to_numpy()


def month_label(index: np.ndarray) -> list[str]:
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in np.asarray(index, dtype=int)]


def month_periods(first: str, last: str) -> pd.DataFrame:
    """Every calendar month from `first` to `last` inclusive (labels 'YYYY-MM')."""
    lo, hi = month_index([first, last])
    labels = month_label(np.arange(lo, hi + 1))
    start = pd.to_datetime(pd.Series(labels, dtype="string") + "-01").astype(UNIT)
    frame = pd.DataFrame({"period": pd.Series(labels, dtype="string"), "start": start})
    frame["end"] = (frame["start"] + pd.offsets.MonthBegin(1)).astype(UNIT)
    frame["months"] = 1
    return frame


def data_month_range(*dates: pd.Series) -> tuple[str, str] | None:
    """First and last month in which any of the given date columns has a value (None: no data)."""
    values = [d.dropna() for d in dates if d is not None and d.notna().any()]
    if not values:
        return None
    lo = min(v.min() for v in values)
    hi = max(v.max() for v in values)
    return f"{lo.year:04d}-{lo.month:02d}", f"{hi.year:04d}-{hi.month:02d}"


def assessment_window(year: int, window_start: str = "01-01") -> tuple[pd.Timestamp, pd.Timestamp]:
    """[start, end) of assessment year `year` (rulebook annual.window_start, 'MM-01').

    The year is named by the calendar year it ends in: '12-01' gives 1 Dec (year-1) to 30 Nov
    (year), the provincial practice; '01-01' gives the calendar year."""
    month = int(window_start[:2])
    start = pd.Timestamp(year=year if month == 1 else year - 1, month=month, day=1)
    return start, start + pd.DateOffset(years=1)


def months_in_window(labels: Iterable[str], start: pd.Timestamp, end: pd.Timestamp) -> list[str]:
    """The given month labels that lie inside [start, end), sorted."""
    lo = start.year * 12 + start.month - 1
    hi = end.year * 12 + end.month - 1
    unique = sorted(set(labels))
    idx = month_index(unique) if unique else np.array([], dtype=int)
    return [label for label, i in zip(unique, idx) if lo <= i < hi]


def span_period(label: str, months: list[str], start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """One period labelled `label`: the given (consecutive) months if any, else [start, end).

    Used for the year-end B "with the year as the period": restricted to the months that have
    data, so a run in June assesses the year to date rather than penalising months still to come.
    """
    if months:
        first = month_periods(months[0], months[-1])
        start, end, count = first["start"].iloc[0], first["end"].iloc[-1], len(first)
    else:
        count = (end.year - start.year) * 12 + end.month - start.month
    return pd.DataFrame({
        "period": pd.Series([label], dtype="string"),
        "start": pd.Series([start]).astype(UNIT),
        "end": pd.Series([end]).astype(UNIT),
        "months": [count],
    })


def assign_period(dates: pd.Series, periods: pd.DataFrame) -> pd.Series:
    """Label of the period containing each date (NA outside every period or when the date is NA).

    `periods` must not overlap; they need not be contiguous."""
    if periods.empty or len(dates) == 0:
        return pd.Series(pd.NA, index=dates.index, dtype="string")
    codes, labels = period_codes(dates, periods)
    return labels_at(labels, codes, dates.index)


def labels_at(labels: np.ndarray, codes: np.ndarray, index: pd.Index | None = None) -> pd.Series:
    """`labels[code]` for each code (NA where the code is -1), a pandas string column. An Arrow
    take of the few labels: no Python string is made per row."""
    taken = pa.array(labels, type=pa.large_string()).take(pa.array(np.maximum(codes, 0), mask=codes < 0))
    return pd.Series(pd.array(taken, dtype="string"), index=index)


def period_codes(dates: pd.Series, periods: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """`assign_period` as integers: (per date, the position of its period in `labels`, -1 outside
    every period or for NA; the periods' labels, object array). Counting by period needs no text.
    `periods` must not overlap (months, or one span: every caller's)."""
    if periods.empty:
        return np.full(len(dates), -1, dtype=np.int64), np.array([], dtype=object)
    ordered = periods.sort_values("start")
    labels = ordered["period"].to_numpy(dtype=object)
    starts = ordered["start"].to_numpy(dtype=UNIT)
    ends = ordered["end"].to_numpy(dtype=UNIT)
    values = pd.Series(dates).astype(UNIT).to_numpy()
    by_day = _by_day(starts, ends)
    if by_day is not None:  # (months, years: periods of whole days)
        first, table = by_day
        offset = (values.astype("datetime64[D]") - first).view(np.int64)  # NaT: far below 0
        inside = (offset >= 0) & (offset < len(table))
        return np.where(inside, table[np.where(inside, offset, 0)], -1), labels
    known = ~np.isnat(values)
    # NaT would sort anywhere; search with the first start instead and mask the result out.
    position = np.searchsorted(starts, np.where(known, values, starts[0]), side="right") - 1
    safe = np.clip(position, 0, len(starts) - 1)
    inside = known & (position >= 0) & (values < ends[safe])
    return np.where(inside, safe, -1).astype(np.int64), labels


DAY_TABLE_DAYS = 40_000  # `_by_day`: periods spanning up to about a century


def _by_day(starts: np.ndarray, ends: np.ndarray) -> tuple[np.datetime64, np.ndarray] | None:
    """For periods that start and end at midnight: (their first day, the position of the period
    holding each day from it on, -1 for none), so that a date's period is a look-up by its day
    (a date's time cannot move it across a midnight boundary), not a binary search of millions of
    dates. None for other periods, or when they span more than DAY_TABLE_DAYS days."""
    day = np.int64(86_400_000_000)  # microseconds (UNIT)
    if not ((starts.view(np.int64) % day == 0).all() and (ends.view(np.int64) % day == 0).all()):
        return None
    first = starts.min().astype("datetime64[D]")
    span = int((ends.max().astype("datetime64[D]") - first).astype(np.int64))
    if span > DAY_TABLE_DAYS:
        return None
    table = np.full(span, -1, dtype=np.int64)
    for position, (start, end) in enumerate(zip(starts.astype("datetime64[D]"), ends.astype("datetime64[D]"))):
        table[int((start - first).astype(np.int64)):int((end - first).astype(np.int64))] = position
    return first, table
