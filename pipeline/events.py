"""Scoring events: the clean records a deduction or veto can point at, one row per (unit, event).

Three event tables, named in the rulebook's `on = "..."`:
- inspections: enforcement rows, yes/no columns with NA read as 否 (SPEC: NA -> False), and
  `major_decision` recomputed from the rulebook's definitions.major_decision_fine_wan so that a
  rulebook change is honoured even if the clean table was built under another threshold.
- overdue_hazards: one row per hazard per period at whose end it is overdue (deadline on or before
  the period's last day and not rectified by that day), so it is deducted in every month it stays
  overdue (SPEC "Exact meanings").
- accidents: one row per accident per charged unit: the territorial unit (role 属地) and, when
  there is one, the member department supervising the industry (role 行业监管) — SPEC C is
  "charged both". `late_report` is recomputed from reported_at and definitions.late_report_hours
  (NA when reported_at is missing falls back to the clean flag, NA = not late).
Every event keeps record_id, source_file, source_sheet and source_row; `describe` writes the short
`detail` text of a deduction row, only for the events that lose points (millions of events do not).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pipeline.frames import combined_codes
from pipeline.periods import UNIT, assign_period, labels_at, period_codes

if TYPE_CHECKING:  # the rulebook's checks import the indicators, which import this module
    from pipeline.rulebook import Rulebook, Where

SOURCE = ["record_id", "source_file", "source_sheet", "source_row"]
INSPECTION_FLAGS = ["case_filed", "penalized", "publicized", "recorded", "legal_review",
                    "overturned", "suspended", "transferred"]
TERRITORIAL, SUPERVISING = "属地", "行业监管"


def _flag(series: pd.Series) -> pd.Series:
    return series.fillna(False).astype(bool)


def matches(events: pd.DataFrame, where: Where) -> np.ndarray:
    """Rows meeting every (column, value) condition; a tuple value means any of; a yes/no value
    compares the column with NA read as 否."""
    mask = np.ones(len(events), dtype=bool)
    for column, value in where:
        series = events[column]
        if isinstance(value, bool):
            hit = _flag(series) == value
        elif isinstance(value, tuple):
            hit = series.isin(list(value))
        else:
            hit = series == value
        mask &= hit.fillna(False).to_numpy(dtype=bool)
    return mask


def inspection_events(enforcement: pd.DataFrame, rulebook: Rulebook) -> pd.DataFrame:
    """Enforcement rows ready to count: yes/no flags as bool, hazards_found NA -> 0, major_decision."""
    frame = enforcement.copy(deep=False)  # copy-on-write: the clean table itself is never changed
    for column in INSPECTION_FLAGS:
        frame[column] = _flag(frame[column])
    frame["hazards_found"] = frame["hazards_found"].fillna(0).astype("int64")
    fine = frame["fine_wan"].astype("Float64").fillna(0.0).astype(float)
    frame["major_decision"] = (
        (fine >= rulebook.major_decision_fine_wan) | frame["suspended"] | frame["transferred"]
    )
    return frame


def overdue_hazard_events(hazards: pd.DataFrame, periods: pd.DataFrame,
                          rulebook: Rulebook | None = None) -> pd.DataFrame:
    """One row per (hazard, period) at whose end the hazard is overdue, with column `period`.

    Overdue at a period whose (exclusive) end is E: deadline day < E and (not rectified, or
    rectified day >= E). With the periods sorted by end, those are the index range [lo, hi).
    With a rulebook, an event has only the columns a deduction row or a rule of the rulebook
    reads (a hazard overdue for months is not copied whole for each of them)."""
    ordered = periods.sort_values("end").reset_index(drop=True)
    ends = ordered["end"].to_numpy(dtype=UNIT)
    deadline = hazards["deadline"].dt.normalize().astype(UNIT).to_numpy()
    rectified = hazards["rectified_at"].dt.normalize().astype(UNIT).to_numpy()
    lo = np.searchsorted(ends, deadline, side="right")
    open_ = np.isnat(rectified)
    hi = np.where(open_, len(ends), np.searchsorted(ends, np.where(open_, ends[:1], rectified),
                                                    side="right")) if len(ends) else lo
    counts = np.clip(hi - lo, 0, None)
    rows = np.repeat(np.arange(len(hazards)), counts)
    offsets = np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
    if rulebook is not None:
        wanted = [*SOURCE[1:], "hazard_id", "unit_id", "supervised", *DETAILS["overdue_hazards"][0],
                  *rule_columns(rulebook, "overdue_hazards")]
        hazards = hazards[[c for c in hazards.columns if c in wanted]]
    frame = hazards.iloc[rows].reset_index(drop=True)
    frame["period"] = labels_at(ordered["period"].to_numpy(dtype=object), lo[rows] + offsets)
    frame["record_id"] = frame["hazard_id"]
    frame["supervised"] = _flag(frame["supervised"])
    return frame


def rule_columns(rulebook: Rulebook, on: str) -> list[str]:
    """The event columns the rulebook's rules on event table `on` read (where, per)."""
    components = [*rulebook.components, rulebook.annual.accidents]
    rules = [r for c in components for r in (*c.deductions, *c.zeroing)]
    rules += [*rulebook.annual.veto, *rulebook.annual.yellow_card]
    columns = [column for rule in rules if rule.on == on for column, _ in rule.where]
    columns += [rule.per for rule in rules if rule.on == on and rule.per]
    return list(dict.fromkeys(columns))


def late_reports(accidents: pd.DataFrame, rulebook: Rulebook) -> pd.Series:
    """迟报: reported_at - occurred_at > definitions.late_report_hours; unknown -> not late."""
    delay = accidents["reported_at"] - accidents["occurred_at"]
    late = delay > pd.Timedelta(hours=rulebook.late_report_hours)
    known = accidents["reported_at"].notna()
    return late.where(known, _flag(accidents["late_report"])).astype(bool)


def charged_accidents(accidents: pd.DataFrame, rulebook: Rulebook) -> pd.DataFrame:
    """One row per (accident, charged unit): the territorial unit and the supervising department."""
    frame = accidents.copy()
    frame["late_report"] = late_reports(frame, rulebook)
    frame["concealed"] = _flag(frame["concealed"])
    frame["deaths"] = frame["deaths"].fillna(0).astype("int64")
    frame["record_id"] = frame["accident_id"]
    territorial = frame.assign(role=TERRITORIAL)
    department = frame["department_id"]
    supervising = frame.loc[department.notna() & (department != frame["unit_id"]).fillna(False)]
    supervising = supervising.assign(unit_id=supervising["department_id"], role=SUPERVISING)
    charged = pd.concat([territorial, supervising], ignore_index=True)
    charged["role"] = charged["role"].astype("string")
    return charged


def accidents_by_month(charged: pd.DataFrame, periods: pd.DataFrame) -> pd.DataFrame:
    """Charged accidents with the period of their occurrence (SPEC: occurred_at within the month).
    A concealment verified later therefore changes the month the accident occurred in when the
    months are scored again; the year-end veto counts it in the year it was uncovered too."""
    frame = charged.assign(period=assign_period(charged["occurred_at"], periods))
    return frame.loc[frame["period"].notna()].reset_index(drop=True)


def inspections_by_period(inspections: pd.DataFrame, periods: pd.DataFrame,
                          coded: tuple[np.ndarray, np.ndarray] | None = None) -> pd.DataFrame:
    """The inspections with the label of their period (`period`), those outside every period
    left out. `coded`: their `periods.period_codes`, when the caller has them already."""
    codes, labels = coded if coded is not None else period_codes(inspections["inspected_at"], periods)
    frame = inspections.assign(period=labels_at(labels, codes, inspections.index))
    return _kept(frame, codes >= 0)


def rows_within(frame: pd.DataFrame, column: str, periods: pd.DataFrame,
                coded: tuple[np.ndarray, np.ndarray] | None = None) -> pd.DataFrame:
    """The rows of `frame` whose `column` lies in one of `periods`, indexed 0..n-1 (no copy of
    the data when every row does). `coded`: the column's `periods.period_codes`, if known."""
    return _kept(frame, (coded if coded is not None else period_codes(frame[column], periods))[0] >= 0)


def _kept(frame: pd.DataFrame, inside: np.ndarray) -> pd.DataFrame:
    """The rows where `inside`, indexed 0..n-1; the frame's own data when that is every row."""
    return frame.reset_index(drop=True) if inside.all() else frame.take(np.flatnonzero(inside)).reset_index(drop=True)


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    return frame[column].astype("string").fillna("")


DETAILS = {
    "inspections": (["enterprise"], lambda f: "被检查单位:" + _text(f, "enterprise")),
    "overdue_hazards": (["deadline", "level"], lambda f: "整改期限" + f["deadline"].dt.strftime(
        "%Y-%m-%d").astype("string").fillna("") + ";" + _text(f, "level") + "隐患"),
    "accidents": (["role", "level", "deaths"], lambda f: _text(f, "role") + ";" + _text(f, "level")
                  + "事故;死亡" + _text(f, "deaths") + "人"),
}


def describe(on: str, frame: pd.DataFrame) -> pd.Series:
    """Short text for deduction rows taken from event table `on` (e.g. '属地;一般事故;死亡1人').

    Written once per distinct combination of the columns it reads, then spread to the rows: a
    hazard overdue for months, or an enterprise inspected thousands of times, is one text (the
    dates' formatting and the joining cost per text, and hundreds of thousands of rows repeat a
    few thousand)."""
    columns, write = DETAILS[on]
    if not set(columns) <= set(frame.columns):
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    if len(frame) < 2:
        return write(frame)
    coded = [pd.factorize(frame[column], use_na_sentinel=False) for column in columns]  # (NA: a value)
    codes, uniques = pd.factorize(combined_codes([(codes, len(uniques)) for codes, uniques in coded]))
    one = np.empty(len(uniques), dtype=np.int64)
    one[codes] = np.arange(len(frame))  # a row of each combination (any: they write one text)
    text = write(frame.iloc[one])
    return pd.Series(text.array.take(codes), index=frame.index, dtype=text.dtype, name=text.name)
