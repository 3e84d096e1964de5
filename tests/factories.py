"""Tiny, valid clean frames for the scoring tests, with the schema's columns and dtypes.

Each maker takes a list of dicts holding only the columns that matter to a test; every other
column gets a harmless default (a 一般 accident with no casualties, an inspection with every
yes/no column NA, a 一般 hazard, …). Dates may be given as 'YYYY-MM-DD' strings.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

from pipeline.frames import empty_clean
from pipeline.rulebook import Rulebook, load_rulebook, parse_rulebook

RULEBOOK_2020 = Path(__file__).resolve().parent.parent / "rules" / "rulebook-2020.toml"

ACCIDENT_DEFAULTS = {
    "occurred_at": "2020-01-10", "unit": "南湖办事处", "unit_id": "T01", "industry": "冶金工贸",
    "deaths": 0, "serious_injuries": 0, "injuries": 0, "direct_loss_wan": 0.0, "level": "一般",
}
ENFORCEMENT_DEFAULTS = {
    "unit": "南湖办事处", "unit_id": "T01", "inspected_at": "2020-01-10", "enterprise": "某企业",
    "major_decision": False,
}
HAZARD_DEFAULTS = {
    "unit": "南湖办事处", "unit_id": "T01", "found_at": "2020-01-05", "deadline": "2020-01-20",
    "level": "一般", "overdue": False,
}
REVIEW_DEFAULTS = {"year": 2020, "unit": "南湖办事处", "unit_id": "T01", "item": "预案演练",
                   "category": "重点工作", "score": 0.0}


def _make(table: str, rows: list[dict], defaults: dict, id_column: str | None) -> pd.DataFrame:
    empty = empty_clean(table)
    records = []
    for i, row in enumerate(rows, start=1):
        record = {"source_file": f"{table}.xlsx", "source_sheet": "Sheet1", "source_row": i + 2}
        if id_column:
            record[id_column] = f"{table[:3].upper()}{i:03d}"
        records.append({**record, **defaults, **row})
    frame = pd.DataFrame(records, columns=list(empty.columns))
    for column in empty.columns:
        dtype = empty[column].dtype
        if str(dtype).startswith("datetime64"):
            frame[column] = pd.to_datetime(frame[column], format="ISO8601").astype("datetime64[us]")
        else:
            frame[column] = frame[column].astype(dtype)
    return frame


def accidents(*rows: dict) -> pd.DataFrame:
    return _make("accidents", list(rows), ACCIDENT_DEFAULTS, "accident_id")


def enforcement(*rows: dict) -> pd.DataFrame:
    return _make("enforcement", list(rows), ENFORCEMENT_DEFAULTS, "record_id")


def hazards(*rows: dict) -> pd.DataFrame:
    return _make("hazards", list(rows), HAZARD_DEFAULTS, "hazard_id")


def annual_review(*rows: dict) -> pd.DataFrame:
    return _make("annual_review", list(rows), REVIEW_DEFAULTS, None)


def registry(*units: tuple[str, str, int]) -> pd.DataFrame:
    """Units as (unit_id, group, enterprises); names are 'unit <id>'."""
    frame = pd.DataFrame({
        "unit_id": [u[0] for u in units], "name": [f"单位{u[0]}" for u in units],
        "group": [u[1] for u in units], "aliases": "", "enterprises": [u[2] for u in units],
        "employees": 10, "industries": "",
    })
    for column in ("unit_id", "name", "group", "aliases", "industries"):
        frame[column] = frame[column].astype("str")
    frame["enterprises"] = frame["enterprises"].astype("Int64")
    frame["employees"] = frame["employees"].astype("Int64")
    return frame


@lru_cache(maxsize=1)
def rulebook() -> Rulebook:
    """The project's 2020 rulebook (loaded once; it is immutable)."""
    return load_rulebook(RULEBOOK_2020)


def edited_rulebook(*edits: tuple[str, str]) -> Rulebook:
    """The 2020 rulebook with (old, new) text edits applied; each old text must occur."""
    text = RULEBOOK_2020.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    return parse_rulebook(text.encode("utf-8"), "rulebook-test.toml")
