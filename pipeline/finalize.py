"""Batch-level cleaning: checks that need every file at once, then the clean tables.

In order, each step taking rows out of the data and putting them in exactly one other place:
1. dates far outside the data's period  -> quarantine;
2. the same record submitted twice      -> kept once (the latest submission wins), the others
   counted as duplicates and listed in `warnings`;
3. schema validation (pandera, lazy)    -> quarantine;
then the status columns that need the whole batch (a hazard's `overdue`) are computed.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from pipeline.clean import ISSUE_COLUMNS, SCRUBBED, SheetResult, empty_issues, scrub
from pipeline.ingest_rules import IngestRules
from pipeline.schemas import CLEAN_MODELS, columns_of

DATE_TYPES = ("date", "datetime")
PRIMARY_DATE = {"accidents": "occurred_at", "enforcement": "inspected_at", "hazards": "found_at"}
ROW_KEY = ["source_file", "source_sheet", "source_row"]


def data_period(results: list[SheetResult], tables: dict[str, pd.DataFrame]) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The months the batch is about: from the months its titles state, else from its dates.

    Titles (`2020年3月执法检查情况统计表`, or a file named `2020-03_…`) are the most reliable
    statement of what a submission covers; when no sheet states one, the 1st-99th percentile of
    the primary dates is used, so a few absurd dates cannot stretch the period.
    """
    months = sorted({period for r in results if r.source in PRIMARY_DATE for period in r.title_periods})
    if months:
        return pd.Timestamp(months[0] + "-01"), pd.Timestamp(months[-1] + "-01") + pd.offsets.MonthEnd(0)
    dates = pd.concat([tables[t][c] for t, c in PRIMARY_DATE.items() if t in tables and not tables[t].empty], ignore_index=True) if tables else pd.Series(dtype="datetime64[us]")
    dates = dates.dropna() if len(dates) else dates
    if dates.empty:
        return None
    return dates.quantile(0.01).to_period("M").to_timestamp(), dates.quantile(0.99).to_period("M").to_timestamp() + pd.offsets.MonthEnd(0)


def _move(frame: pd.DataFrame, mask: pd.Series, table: str, column: str, raw: pd.Series, reason) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Take the masked rows out of `frame` and return them as issue rows."""
    mask = mask.fillna(False).astype(bool)
    moved = frame[mask]
    issues = pd.DataFrame({
        "source_file": moved["source_file"], "source_sheet": moved["source_sheet"], "source_row": moved["source_row"],
        "table": table, "column": column, "raw_value": scrub(raw[mask].astype("str")),
        "reason": reason[mask] if isinstance(reason, pd.Series) else reason,
    }).astype({c: "str" for c in ISSUE_COLUMNS if c != "source_row"})
    issues["raw_record"] = pd.Series(pd.NA, index=issues.index, dtype="str")
    return frame[~mask], issues


def check_period(table: str, frame: pd.DataFrame, rules: IngestRules, period) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """Quarantine rows with any date more than `period_margin_years` outside the data period."""
    if period is None or frame.empty:
        return frame, []
    margin = pd.DateOffset(years=rules.period_margin_years)
    low, high = period[0] - margin, period[1] + margin + pd.Timedelta(days=1)
    label = f"{period[0]:%Y-%m}至{period[1]:%Y-%m}"
    issues = []
    for column, spec in rules.sources[table].columns.items():
        if spec.type not in DATE_TYPES or column not in frame:
            continue
        values = frame[column]
        outside = values.notna() & ((values < low) | (values >= high))
        if outside.any():
            shown = values.dt.strftime("%Y-%m-%d %H:%M").str.replace(" 00:00", "", regex=False)
            reason = f"日期超出数据期间({label})前后{rules.period_margin_years}年(date far outside the data period)"
            frame, moved = _move(frame, outside, table, f"{spec.header} ({column})", shown, reason)
            issues.append(moved)
    return frame, issues


def drop_duplicates(table: str, frame: pd.DataFrame, rules: IngestRules) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep each record once; the latest submission wins ("以最新报送为准").

    The same record: equal ids (anywhere), or an equal natural key in two different sheets (two
    units reporting one accident; a hazard carried into next month's file; a workbook's 汇总 sheet
    repeating its monthly sheets), or an identical row within one sheet. Within one sheet, equal
    natural keys are kept: one inspection can find two hazards at one enterprise on one day. Order
    of submissions: the month a file states, then file name, sheet and row. Keys are compared
    through 64-bit row hashes (vectorised).
    """
    spec = rules.sources[table]
    if frame.empty:
        return frame, empty_issues()
    order = frame.sort_values(["_title_period", *ROW_KEY], kind="stable")
    keep = pd.Series(True, index=order.index)
    reasons = pd.Series(pd.NA, index=order.index, dtype="str")
    where = order["source_file"] + " " + order["source_sheet"] + " 第" + order["source_row"].astype("str") + "行"

    def mark(columns: list[str], usable: pd.Series, reason: str, across_sheets: bool) -> None:
        rows = order.index[(usable & keep).to_numpy()]
        if len(rows) < 2:
            return
        keys = pd.util.hash_pandas_object(order.loc[rows, columns], index=False)
        if across_sheets:  # the rows of the key's last sheet win; earlier sheets' rows are duplicates
            sheets = order.loc[rows, "source_file"] + "\x1f" + order.loc[rows, "source_sheet"]
            losing = (sheets != sheets.groupby(keys.to_numpy()).transform("last")).to_numpy()
        else:
            losing = keys.duplicated(keep="last").to_numpy()
        if not losing.any():
            return
        winners = pd.Series(rows[~losing], index=keys[~losing].to_numpy())
        winners = winners[~winners.index.duplicated(keep="first" if across_sheets else "last")]
        losers = rows[losing]
        keep.loc[losers] = False
        reasons.loc[losers] = reason + ",保留 " + where.loc[winners.loc[keys[losing].to_numpy()].to_numpy()].to_numpy()

    if spec.id_column and spec.id_column in order:
        ids = order[spec.id_column].str.upper().str.replace(" ", "", regex=False)
        order = order.assign(_id=ids)
        # An id scrubbed as personal data ("[已脱敏]") no longer identifies anything.
        usable = ids.notna() & ~ids.str.contains(SCRUBBED, regex=False).fillna(False).astype(bool)
        mark(["_id"], usable, f"重复提交:{spec.columns[spec.id_column].header}相同(duplicate id)", across_sheets=False)
    natural = [c for c in spec.natural_key if c in order]
    if natural:
        label = "、".join(spec.columns[c].header for c in natural)
        mark(natural, order[natural].notna().all(axis=1), f"重复提交:{label}相同(same record in another file or sheet)", across_sheets=True)
    content = ["source_file", "source_sheet", *[c for c in spec.columns if c in order]]
    mark(content, pd.Series(True, index=order.index), "重复行:与同一表中另一行完全相同(identical row)", across_sheets=False)

    dropped = order[~keep]
    issues = pd.DataFrame({
        "source_file": dropped["source_file"], "source_sheet": dropped["source_sheet"], "source_row": dropped["source_row"],
        "table": table, "column": pd.NA, "raw_value": pd.NA, "reason": reasons[~keep],
    }).astype({c: "str" for c in ISSUE_COLUMNS if c != "source_row"})
    issues["raw_record"] = pd.Series(pd.NA, index=issues.index, dtype="str")
    return frame.loc[keep[keep].index.sort_values()], issues


def validate(table: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """pandera validation, lazily: every failing row goes to quarantine with the failed check."""
    model = CLEAN_MODELS[table]
    frame = frame[columns_of(model)].reset_index(drop=True)
    try:
        model.validate(frame, lazy=True)
        return frame, empty_issues()
    except pa.errors.SchemaErrors as error:
        cases = error.failure_cases
        rows = cases.dropna(subset=["index"])
        if len(rows) < len(cases):  # a table-level failure (dtype, missing column) is a bug, not bad input
            raise
        bad = frame.loc[rows["index"].astype(int)]
        issues = pd.DataFrame({
            "source_file": bad["source_file"].to_numpy(), "source_sheet": bad["source_sheet"].to_numpy(),
            "source_row": bad["source_row"].to_numpy(), "table": table, "column": rows["column"].astype("str").to_numpy(),
            "raw_value": scrub(rows["failure_case"].astype("str")).to_numpy(),
            "reason": ("未通过校验(schema check failed): " + rows["check"].astype("str")).to_numpy(),
        }).astype({c: "str" for c in ISSUE_COLUMNS if c != "source_row"})
        issues["source_row"] = issues["source_row"].astype("Int64")
        issues["raw_record"] = pd.Series(pd.NA, index=issues.index, dtype="str")
        keep = ~frame.index.isin(rows["index"].astype(int))
        return frame[keep].reset_index(drop=True), issues


def mark_overdue(hazards: pd.DataFrame, as_of: pd.Timestamp | None) -> pd.DataFrame:
    """`overdue`: rectified after its deadline, or still open at the end of `as_of` (the last day
    of the latest month with data) with a deadline on or before that day (SPEC "Exact meanings":
    deadline <= the last day and not rectified by it)."""
    hazards = hazards.copy()
    late = hazards["rectified_at"].notna() & (hazards["rectified_at"] > hazards["deadline"])
    still_open = hazards["rectified_at"].isna() & (hazards["deadline"] <= as_of if as_of is not None else False)
    hazards["overdue"] = (late | still_open).astype("boolean")
    return hazards


def latest_month_end(tables: dict[str, pd.DataFrame]) -> pd.Timestamp | None:
    dates = [tables[t][c].max() for t, c in PRIMARY_DATE.items() if t in tables and not tables[t].empty]
    dates = [d for d in dates if pd.notna(d)]
    return (max(dates).to_period("M").to_timestamp() + pd.offsets.MonthEnd(0)) if dates else None


def empty_clean(table: str) -> pd.DataFrame:
    """A clean table with no rows but the schema's columns and dtypes (so Parquet keeps types)."""
    schema = CLEAN_MODELS[table].to_schema()
    return pd.DataFrame({name: pd.Series(dtype=str(column.dtype)) for name, column in schema.columns.items()})


def finalize(results: list[SheetResult], rules: IngestRules) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, pd.DataFrame]:
    """Clean tables, the quarantine and the warnings of a whole batch."""
    quarantine = [r.quarantine for r in results]
    warnings = [r.warnings for r in results]
    tables = {}
    for table in CLEAN_MODELS:
        parts = [r.data for r in results if r.source == table and not r.data.empty]
        tables[table] = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    period = data_period(results, {t: f for t, f in tables.items() if not f.empty})
    for table, frame in list(tables.items()):
        if frame.empty:
            continue
        frame, moved = check_period(table, frame, rules, period)
        quarantine += moved
        frame, dups = drop_duplicates(table, frame, rules)
        warnings.append(dups.assign(kind="重复"))
        tables[table] = frame
    as_of = latest_month_end({t: f for t, f in tables.items() if not f.empty})
    if not tables["hazards"].empty:
        tables["hazards"] = mark_overdue(tables["hazards"], as_of)
    for table, frame in list(tables.items()):
        if frame.empty:
            tables[table] = empty_clean(table)
            continue
        frame, failed = validate(table, frame)
        quarantine.append(failed)
        tables[table] = frame.sort_values(ROW_KEY, kind="stable").reset_index(drop=True)
    quarantine_frame = pd.concat([q for q in quarantine if not q.empty] or [empty_issues()], ignore_index=True)
    warning_parts = [w if "kind" in w else w.assign(kind="警告") for w in warnings if not w.empty]
    warning_frame = pd.concat(warning_parts or [empty_issues().assign(kind=pd.Series(dtype="str"))], ignore_index=True)
    for frame in (quarantine_frame, warning_frame):
        frame["source_row"] = frame["source_row"].astype("Int64")
    quarantine_frame = quarantine_frame.sort_values(ROW_KEY + ["column"], kind="stable").reset_index(drop=True)
    warning_frame = warning_frame.sort_values(ROW_KEY + ["column"], kind="stable").reset_index(drop=True)
    return tables, quarantine_frame, warning_frame
