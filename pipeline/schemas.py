"""Schemas of the processed tables: the public contract of data/processed/ (SPEC "Processed tables").

One pandera DataFrameModel per table, linked by inheritance (every clean table carries its source
location). `validate_lazily` turns every failure into a quarantine row instead of a traceback.
Dtypes: text is pandas' `str` (pyarrow-backed), counts `Int64`, money and scores `Float64`,
flags `boolean` (NA = not stated), datetimes `datetime64[us]`.
"""

from __future__ import annotations

import copy
from functools import lru_cache

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

DATETIME = np.dtype("datetime64[us]")

ACCIDENT_LEVELS = ["一般", "较大", "重大", "特别重大"]
HAZARD_LEVELS = ["一般", "重大"]
MODES = ["双随机", "计划", "专项", "举报核查", "交叉执法", "其他"]
HAZARD_SOURCES = ["企业自查", "部门检查", "举报"]
REVIEW_CATEGORIES = ["重点工作", "加分"]


class Sourced(pa.DataFrameModel):
    """Where a clean row came from: file name, sheet, and the 1-based row the analyst sees in Excel."""

    source_file: Series[pd.StringDtype]
    source_sheet: Series[pd.StringDtype]
    source_row: Series[pd.Int64Dtype] = pa.Field(ge=1)

    class Config:
        strict = "filter"
        coerce = False


class Accidents(Sourced):
    accident_id: Series[pd.StringDtype] = pa.Field(nullable=True)
    occurred_at: Series[DATETIME]
    reported_at: Series[DATETIME] = pa.Field(nullable=True)
    unit: Series[pd.StringDtype]
    unit_id: Series[pd.StringDtype]
    industry: Series[pd.StringDtype]
    # Member department supervising the industry (registry `industries` column); NA when none lists it.
    department_id: Series[pd.StringDtype] = pa.Field(nullable=True)
    accident_type: Series[pd.StringDtype] = pa.Field(nullable=True)
    enterprise: Series[pd.StringDtype] = pa.Field(nullable=True)
    deaths: Series[pd.Int64Dtype] = pa.Field(ge=0)
    serious_injuries: Series[pd.Int64Dtype] = pa.Field(ge=0)
    injuries: Series[pd.Int64Dtype] = pa.Field(ge=0)
    direct_loss_wan: Series[pd.Float64Dtype] = pa.Field(ge=0)
    level_submitted: Series[pd.StringDtype] = pa.Field(nullable=True, isin=ACCIDENT_LEVELS)
    level: Series[pd.StringDtype] = pa.Field(isin=ACCIDENT_LEVELS)
    late_report: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    concealed: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    concealed_found_at: Series[DATETIME] = pa.Field(nullable=True)
    closed: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    closed_at: Series[DATETIME] = pa.Field(nullable=True)


class Enforcement(Sourced):
    record_id: Series[pd.StringDtype] = pa.Field(nullable=True)
    unit: Series[pd.StringDtype]
    unit_id: Series[pd.StringDtype]
    inspected_at: Series[DATETIME]
    enterprise: Series[pd.StringDtype]
    credit_code: Series[pd.StringDtype] = pa.Field(nullable=True)
    mode: Series[pd.StringDtype] = pa.Field(nullable=True, isin=MODES)
    hazards_found: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
    case_filed: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    penalized: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    fine_wan: Series[pd.Float64Dtype] = pa.Field(nullable=True, ge=0)
    suspended: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    transferred: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    publicized: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    recorded: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    legal_review: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    file_review_score: Series[pd.Float64Dtype] = pa.Field(nullable=True, ge=0, le=100)
    overturned: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    # 重大执法决定: fine >= threshold, or suspension, or transfer (threshold in the rulebook).
    major_decision: Series[pd.BooleanDtype]


class Hazards(Sourced):
    hazard_id: Series[pd.StringDtype] = pa.Field(nullable=True)
    unit: Series[pd.StringDtype]
    unit_id: Series[pd.StringDtype]
    enterprise: Series[pd.StringDtype] = pa.Field(nullable=True)
    found_at: Series[DATETIME]
    deadline: Series[DATETIME]
    rectified_at: Series[DATETIME] = pa.Field(nullable=True)
    level: Series[pd.StringDtype] = pa.Field(isin=HAZARD_LEVELS)
    supervised: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    source: Series[pd.StringDtype] = pa.Field(nullable=True, isin=HAZARD_SOURCES)
    # Status at the end of the data (last day of the latest month with data): rectified after
    # its deadline, or still open past it.
    overdue: Series[pd.BooleanDtype]


class AnnualReview(Sourced):
    year: Series[pd.Int64Dtype] = pa.Field(ge=1990, le=2100)
    unit: Series[pd.StringDtype]
    unit_id: Series[pd.StringDtype]
    item: Series[pd.StringDtype]
    category: Series[pd.StringDtype] = pa.Field(isin=REVIEW_CATEGORIES)
    score: Series[pd.Float64Dtype] = pa.Field(ge=0, le=100)


class Quarantine(pa.DataFrameModel):
    """One row per problem found in a quarantined input row (a row may have several problems)."""

    source_file: Series[pd.StringDtype]
    source_sheet: Series[pd.StringDtype]
    source_row: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    table: Series[pd.StringDtype]
    column: Series[pd.StringDtype] = pa.Field(nullable=True)
    raw_value: Series[pd.StringDtype] = pa.Field(nullable=True)
    reason: Series[pd.StringDtype]

    class Config:
        strict = "filter"


CLEAN_MODELS: dict[str, type[Sourced]] = {
    "accidents": Accidents,
    "enforcement": Enforcement,
    "hazards": Hazards,
    "annual_review": AnnualReview,
}


def columns_of(model: type[pa.DataFrameModel]) -> list[str]:
    """Column names of a model, in declaration order (parents first)."""
    return list(model.to_schema().columns)


@lru_cache(maxsize=None)
def checking_schema(model: type[pa.DataFrameModel], without: tuple[str, ...] = ()) -> pa.DataFrameSchema:
    """The model's schema for checking a frame of exactly its columns where it is: strict (a
    column too many is an error, not dropped), so that pandera validates it in place. Otherwise
    pandera validates a copy (strict="filter" in place is deprecated), and a copy of millions of
    rows costs time and a few hundred MB at the peak. `without`: columns left out of it."""
    schema = copy.deepcopy(model.to_schema()).remove_columns(list(without))
    schema.strict = True
    return schema
