"""Batch-level cleaning: checks that need every file at once, then the clean tables.

In order, each step taking rows out of the data and putting them in exactly one other place:
1. dates far outside the data's period  -> quarantine;
2. the same record submitted twice      -> kept once (the latest submission wins), the others
   counted as duplicates and listed in `warnings`;
3. schema validation (pandera, lazy)    -> quarantine;
then the status columns that need the whole batch (a hazard's `overdue`) are computed.
"""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pandera.pandas as pandera
import pyarrow as pa
import pyarrow.compute as pc

from pipeline import arrow_text, cores
from pipeline.arrow_text import arrow
from pipeline.clean import ISSUE_COLUMNS, SCRUBBED, SheetResult, empty_issues, scrub
from pipeline.frames import THREAD_ROWS, combined_codes
from pipeline.ingest_rules import IngestRules
from pipeline.schemas import CLEAN_MODELS, checking_schema, columns_of

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
    # (no dated table with rows, as in a folder of year-end reviews alone: no period)
    columns = [tables[t][c] for t, c in PRIMARY_DATE.items() if t in tables and not tables[t].empty]
    dates = pd.concat(columns, ignore_index=True).dropna() if columns else None
    if dates is None or dates.empty:
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
    of submissions: the month a file states, then file name, sheet and row. Keys are compared as
    integers: each key column is factorized once, and the codes of several columns are combined
    into one int64 per row; only rows whose key occurs more than once are looked at further.
    """
    spec = rules.sources[table]
    if frame.empty:
        return frame, empty_issues()
    # Positions, not labels, throughout: label look-ups on millions of rows cost seconds. Every
    # array below is in submission order (`perm`: submission position -> frame position); the
    # frame itself is never reordered, and its other columns are read only for the few rows whose
    # whole content needs comparing.
    ordering = ["_title_period", *ROW_KEY]
    sort_codes = [_sort_codes(frame[c]) for c in ordering]
    perm = None if _lexsorted(sort_codes) else np.lexsort(sort_codes[::-1])  # stable, as sort_values
    n = len(frame)

    def ordered(values: np.ndarray) -> np.ndarray:
        return values if perm is None else values[perm]

    def positions(rows: np.ndarray) -> np.ndarray:
        return rows if perm is None else perm[rows]

    natural = [c for c in spec.natural_key if c in frame]
    id_column = spec.id_column if spec.id_column and spec.id_column in frame else None
    keep = np.ones(n, dtype=bool)
    reasons: list[tuple[np.ndarray, np.ndarray]] = []  # (rows, why), for the losing rows only
    # (codes, how many): sort codes are codes too; NA is a code of its own (NA equal to NA).
    codes: dict[str, tuple[np.ndarray, int]] = {c: (ordered(v), int(v.max()) + 1 if len(v) else 0)
                                                for c, v in zip(ordering[1:3], sort_codes[1:3])}
    del sort_codes
    sheet_keys = combined_codes([codes["source_file"], codes["source_sheet"]])

    def where(rows: np.ndarray) -> pd.Series:
        taken = frame[["source_file", "source_sheet", "source_row"]].take(positions(rows))
        return taken["source_file"] + " " + taken["source_sheet"] + " 第" + taken["source_row"].astype("str") + "行"

    def mark(key: np.ndarray, usable: np.ndarray, reason: str, across_sheets: bool) -> None:
        """`key`: one int64 per row in submission order (equal for the same record)."""
        rows = np.flatnonzero(usable & keep)
        if len(rows) < 2:
            return
        # The rows grouped by key, each group in submission order (one stable sort): a key met
        # once neither loses nor wins against another row, and is let go of at once.
        order, first, last = _key_groups(key[rows])
        shared = ~(first & last)
        if not shared.any():
            return
        rows, first, last = rows[order[shared]], first[shared], last[shared]
        del order, shared
        group = np.cumsum(first) - 1  # each sorted row's group (its key), numbered in order
        if across_sheets:  # the rows of the key's last sheet win; earlier sheets' rows are duplicates
            sheets = sheet_keys[rows]
            losing = sheets != sheets[last][group]
            staying = np.flatnonzero(~losing)  # (each group's last row is among them)
            winner = rows[staying[np.concatenate(([True], group[staying][1:] != group[staying][:-1]))]]
        else:  # the key's last row wins
            losing = ~last
            winner = rows[last]
        if not losing.any():
            return
        losers = rows[losing]
        keep[losers] = False
        reasons.append((losers, (reason + ",保留 " + where(winner[group[losing]])).to_numpy()))

    usable = np.zeros(n, dtype=bool)
    if id_column:
        id_codes, usable = _id_codes(frame[id_column])
        id_codes, usable = ordered(id_codes), ordered(usable)
        if (id_codes[usable] >= n).any():  # (else every usable id is its own row's: none repeats)
            mark(id_codes, usable, f"重复提交:{spec.columns[spec.id_column].header}相同(duplicate id)", across_sheets=False)
        del id_codes
    present = np.ones(n, dtype=bool)
    for column in natural:
        column_codes, missing, size = _codes(frame[column])
        codes[column] = (ordered(column_codes), size)
        present &= ~ordered(missing)
    if natural:
        label = "、".join(spec.columns[c].header for c in natural)
        mark(combined_codes([codes[c] for c in natural]), present,
             f"重复提交:{label}相同(same record in another file or sheet)", across_sheets=True)
    # Identical rows share their sheet and natural key, and (as rows with one usable id were
    # settled above) lack a usable id: only rows like that need their whole content compared.
    candidates = keep & ~usable
    if natural and candidates.any():
        first_cut = np.flatnonzero(candidates)
        shared = _repeated(combined_codes([(c[first_cut], size) for c, size in
                                      (codes[k] for k in ["source_file", "source_sheet", *natural])]))
        candidates[:] = False
        candidates[first_cut[shared]] = True
    rows = np.flatnonzero(candidates)
    if len(rows) >= 2:
        content = ["source_file", "source_sheet", *[c for c in spec.columns if c in frame]]
        subset = frame[content].take(positions(rows))
        content_key = np.zeros(n, dtype=np.int64)
        content_key[rows] = combined_codes([(codes, size) for codes, _, size in (_codes(subset[c]) for c in content)])
        mark(content_key, candidates, "重复行:与同一表中另一行完全相同(identical row)", across_sheets=False)

    lost = np.flatnonzero(~keep)
    # each row loses at most once (only kept rows are looked at): sorted by row, the reasons are lost's
    losers = np.concatenate([rows for rows, _ in reasons]) if reasons else np.zeros(0, dtype=np.int64)
    why = np.concatenate([texts for _, texts in reasons]) if reasons else np.zeros(0, dtype=object)
    why = why[np.argsort(losers, kind="stable")]
    dropped = frame[["source_file", "source_sheet", "source_row"]].take(positions(lost)).set_axis(pd.Index(lost))
    issues = pd.DataFrame({
        "source_file": dropped["source_file"], "source_sheet": dropped["source_sheet"], "source_row": dropped["source_row"],
        "table": table, "column": pd.NA, "raw_value": pd.NA, "reason": pd.Series(why, index=dropped.index, dtype="str"),
    }).astype({c: "str" for c in ISSUE_COLUMNS if c != "source_row"})
    issues["raw_record"] = pd.Series(pd.NA, index=issues.index, dtype="str")
    if not len(lost):
        return frame, issues
    kept = np.zeros(n, dtype=bool)
    kept[positions(np.flatnonzero(keep))] = True
    result = frame[kept]
    return (result if result.index.is_monotonic_increasing else result.sort_index()), issues


def _codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray, int]:
    """Integer codes of a column's values, NA coded as one past the last value (NA equal to NA):
    (codes, NA mask, how many codes)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    missing = codes < 0
    coded = np.where(missing, len(uniques), codes).astype(_narrowest(len(uniques) + 1), copy=False)
    return coded, missing, len(uniques) + int(missing.any())


def _narrowest(size: int) -> type:
    """int32 for codes below 2**31 (half the memory of int64 for a column of millions)"""
    return np.int32 if size < 2**31 else np.int64


def _repeated(keys: np.ndarray) -> np.ndarray:
    """Whether each key occurs more than once. Found on the sorted keys (numpy's vectorised sort
    of millions of integers costs a fraction of hashing them), so that keys all different (ids,
    the usual case) are settled by one sort. Otherwise the rows are put in key order
    (`_stable_order`) and the flags found there put back; keys too wide for that (fingerprints)
    are looked up among the few repeated ones."""
    if len(keys) < 2:
        return np.zeros(len(keys), dtype=bool)
    ordered = np.sort(keys)
    same = ordered[1:] == ordered[:-1]
    if not same.any():
        return np.zeros(len(keys), dtype=bool)
    if _packable(keys):
        del ordered, same
        order, first, last = _key_groups(keys)
        repeated = np.zeros(len(keys), dtype=bool)
        repeated[order[~(first & last)]] = True
        return repeated
    shared = ordered[1:][same]  # sorted: each repeated key once is where it changes
    shared = shared[np.concatenate(([True], shared[1:] != shared[:-1]))]
    del ordered, same
    return pd.Series(keys).isin(shared).to_numpy()


def _key_groups(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows grouped by key, each group in row order (`_stable_order`): (that order; whether
    each row so ordered is its group's first; whether it is its group's last)."""
    order = _stable_order(keys)
    ordered = keys[order]
    change = ordered[1:] != ordered[:-1]
    return order, np.concatenate(([True], change)), np.concatenate((change, [True]))


def _packable(keys: np.ndarray) -> bool:
    """Whether `_stable_order` can pack each key with its position into one int64."""
    if not len(keys):
        return False
    shift = max(len(keys) - 1, 1).bit_length()
    return int(keys.min()) >= 0 and int(keys.max()) < 1 << (63 - shift)


def _stable_order(keys: np.ndarray) -> np.ndarray:
    """np.argsort(keys, kind="stable") for integer keys. Keys from 0 below 2**(63 - bits of the
    row count) are packed with their position (key << bits | position) and sorted as plain
    integers, which numpy does several times faster than an argsort (3·10^6 keys: 0.1 s
    instead of 0.5 s); the positions read back are the stable order, ties kept in row order."""
    if not _packable(keys):
        return np.argsort(keys, kind="stable")
    shift = max(len(keys) - 1, 1).bit_length()
    packed = (keys.astype(np.int64) << shift) | np.arange(len(keys), dtype=np.int64)
    packed.sort()
    return packed & ((1 << shift) - 1)


def _id_codes(ids: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(codes equal for ids equal once upper-cased and without spaces, -1 for NA; usable: present
    and not scrubbed as personal data ("[已脱敏]" no longer identifies anything)).

    Ids are mostly all different, and hashing millions of distinct texts at once costs seconds
    and holds several times their size; so each id is first given a fingerprint of its bytes
    (`arrow_text.fingerprints`: equal ids, equal fingerprints). An id whose fingerprint no other
    id shares is unique and its code is its row (below the row count); only the others are
    dictionary-encoded, their codes counted on from the row count."""
    data = arrow_text.upper_without_spaces(arrow(ids))
    n = len(data)
    present = pc.is_valid(data).to_numpy(zero_copy_only=False)
    usable = present & ~arrow_text.contains(data, SCRUBBED)
    codes = np.where(present, np.arange(n, dtype=np.int64), -1)
    rows = np.flatnonzero(present)
    shared = rows[_repeated(arrow_text.fingerprints(data)[rows])]
    if len(shared):
        encoded = data.take(pa.array(shared)).combine_chunks().dictionary_encode()
        codes[shared] = n + encoded.indices.to_numpy().astype(np.int64)
    return codes, usable


VALIDATE_HALVES_ROWS = 200_000  # validate: a table of this many rows is checked in two halves


def validate(table: str, frame: pd.DataFrame, without: tuple[str, ...] = ()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """pandera validation, lazily: every failing row goes to quarantine with the failed check.
    `without`: columns of the model not checked (nor kept), for a caller that adds them later.

    Every check is of one row at a time, so a big table is checked in two halves of its rows on
    the free cores (`cores.each`); the failures are those of checking it whole."""
    model = CLEAN_MODELS[table]
    frame = frame[[c for c in columns_of(model) if c not in without]].reset_index(drop=True)
    schema = checking_schema(model, without)
    middle = len(frame) // 2
    parts = [frame.iloc[:middle], frame.iloc[middle:]] if len(frame) >= VALIDATE_HALVES_ROWS else [frame]
    found = [cases for cases in cores.each(lambda part: _failure_cases(schema, part), parts, len(parts) > 1)
             if cases is not None]
    if not found:
        return frame, empty_issues()
    rows = pd.concat(found, ignore_index=True)
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


def _failure_cases(schema: pandera.DataFrameSchema, frame: pd.DataFrame) -> pd.DataFrame | None:
    """pandera's failure cases of the frame's rows (None when every row passes)."""
    try:
        schema.validate(frame, lazy=True, inplace=True)  # (it changes nothing)
        return None
    except pandera.errors.SchemaErrors as error:
        cases = error.failure_cases
        if cases["index"].isna().any():  # a table-level failure (dtype, missing column) is a bug, not bad input
            raise
        return cases


def _sorted_by(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """frame.sort_values(columns, kind="stable"), without copying a frame that is sorted already
    (files are read in name order, rows in sheet order: the usual case)."""
    codes = [_sort_codes(frame[c]) for c in columns]
    if not _lexsorted(codes):
        return frame.sort_values(columns, kind="stable")
    return frame


def _sort_codes(values: pd.Series) -> np.ndarray:
    """Integers in the order sort_values puts the values (NA last); equal values, equal codes.
    Whole numbers without NA are their own codes (no hashing of a million row numbers); text in
    long runs (a file's name on each of its rows) is coded once per run."""
    if pd.api.types.is_integer_dtype(values.dtype) and not values.hasnans:
        return values.to_numpy(dtype=np.int64)
    if isinstance(values.array, pd.arrays.ArrowStringArray) and len(values):
        runs = pc.run_end_encode(arrow(values)).chunks
        if sum(len(r.values) for r in runs) <= len(values) // 8:
            lengths = np.concatenate([np.diff(r.run_ends.to_numpy(), prepend=0) for r in runs])
            texts = pd.Series(pd.array(pa.chunked_array([r.values for r in runs]), dtype="str"))
            codes = pd.factorize(texts, sort=True, use_na_sentinel=False)[0]
            return np.repeat(codes.astype(_narrowest(len(codes))), lengths)
    codes, uniques = pd.factorize(values, sort=True, use_na_sentinel=False)
    return codes.astype(_narrowest(len(uniques)), copy=False)


def _lexsorted(codes: list[np.ndarray]) -> bool:
    """Whether rows are in ascending lexicographic order of the given per-column sort codes."""
    if len(codes[0]) < 2:
        return True
    undecided = np.ones(len(codes[0]) - 1, dtype=bool)  # pairs (i, i+1) equal on the columns so far
    for column in codes:
        step = np.diff(column)
        if (undecided & (step < 0)).any():
            return False
        undecided &= step == 0
    return True


def mark_overdue(hazards: pd.DataFrame, as_of: pd.Timestamp | None) -> pd.DataFrame:
    """`overdue`: rectified after its deadline, or still open at the end of `as_of` (the last day
    of the latest month with data) with a deadline on or before that day (SPEC "Exact meanings":
    deadline <= the last day and not rectified by it)."""
    hazards = hazards.copy(deep=False)  # copy-on-write: the caller's frame is never changed
    late = hazards["rectified_at"].notna() & (hazards["rectified_at"] > hazards["deadline"])
    still_open = hazards["rectified_at"].isna() & (hazards["deadline"] <= as_of if as_of is not None else False)
    hazards["overdue"] = (late | still_open).astype("boolean")
    return hazards


def _month_end(dates: list) -> pd.Timestamp | None:
    """The last day of the latest date's month (None without dates)."""
    dates = [d for d in dates if pd.notna(d)]
    return (max(dates).to_period("M").to_timestamp() + pd.offsets.MonthEnd(0)) if dates else None


def _settled_month_end(latest: dict, bounds: dict, dated: set) -> tuple[pd.Timestamp | None] | None:
    """(`_month_end` of every dated table's latest date,) as soon as the tables done (`latest`)
    settle it: each table not done yet has posted a bound on its latest date (`bounds`) within
    the done tables' latest month. None while that is not known yet."""
    end = _month_end(list(latest.values()))
    for table in dated - latest.keys():
        bound = bounds.get(table, pd.Timestamp.max)  # (not posted yet: any date)
        if pd.notna(bound) and (end is None or _month_end([bound]) > end):
            return None
    return (end,)


def empty_clean(table: str) -> pd.DataFrame:
    """A clean table with no rows but the schema's columns and dtypes (so Parquet keeps types)."""
    schema = CLEAN_MODELS[table].to_schema()
    return pd.DataFrame({name: pd.Series(dtype=str(column.dtype)) for name, column in schema.columns.items()})


def _each_table(function, tables: dict[str, pd.DataFrame]):
    """(table, function(table, frame)) for the tables with rows, smallest first (so that results
    come out about as they are done), each as soon as it and those before it are; two tables at
    a time (`frames.THREAD_ROWS`, `cores`; each call sees only its own table, and each table's
    frame is let go once its result is out)."""
    chosen = {table: frame for table, frame in tables.items() if not frame.empty}
    order = sorted(chosen, key=lambda table: len(chosen[table]))
    threads = len(chosen) >= 2 and sum(map(len, chosen.values())) >= THREAD_ROWS
    for table, result in cores.spread(lambda name: function(name, chosen[name]), order, threads):
        del chosen[table]
        yield table, result


def finalize(results: list[SheetResult], rules: IngestRules, publish=None) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, pd.DataFrame]:
    """Clean tables, the quarantine and the warnings of a whole batch.

    `publish(table, frame)`, when given, is called once for each clean table as soon as it is
    final, with the frame returned for it (the runner writes it while the rest is worked out):
    hazards once every table's latest date is known (`overdue`), the others when their checks are
    done."""
    quarantine = [r.quarantine for r in results]
    warnings = [r.warnings for r in results]
    tables = {}
    for table in CLEAN_MODELS:
        parts = [r.data for r in results if r.source == table and not r.data.empty]
        tables[table] = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    period = data_period(results, {t: f for t, f in tables.items() if not f.empty})
    publish = publish or (lambda table, frame: None)
    dated = {table for table, frame in tables.items() if table in PRIMARY_DATE and not frame.empty}
    bounds = {}  # a dated table's latest date once period-checked: its final latest date or later
    latest, unmarked, lock = {}, ["hazards"], threading.Lock()  # (hazards: checked, not yet marked)

    def finished(table: str, frame: pd.DataFrame):
        """The table's own checks, one after the other; a hazard's `overdue` needs every table's
        latest date once checked, so hazards are validated without it and get it after. The
        table is published from here, on the thread that finished it, as are hazards once the
        tables done settle their latest month (`_settled_month_end`)."""
        frame, moved = check_period(table, frame, rules, period)
        if table in PRIMARY_DATE:
            bounds[table] = frame[PRIMARY_DATE[table]].max()  # (dropping duplicates only lowers it)
        frame, dups = drop_duplicates(table, frame, rules)
        last = frame[PRIMARY_DATE[table]].max() if table in PRIMARY_DATE else pd.NaT
        frame, failed = validate(table, frame, ("overdue",) if table == "hazards" else ())
        frame = _sorted_by(frame, ROW_KEY).reset_index(drop=True)
        with lock:  # (the checked table replaces the raw one: that one goes now)
            tables[table], latest[table] = empty_clean(table) if frame.empty else frame, last
            final = [] if table == "hazards" else [table]
            if unmarked and "hazards" in latest and (as_of := _settled_month_end(latest, bounds, dated)) is not None:
                # (the overdue status as of the end of the latest month with data, checked but not yet validated)
                if len(tables["hazards"]):  # (every hazard gone in the checks: the empty table as it is)
                    tables["hazards"] = mark_overdue(tables["hazards"], as_of[0])
                final.append(unmarked.pop())
            final = [(name, tables[name]) for name in final]
        for name, ready in final:
            publish(name, ready)
        return moved + [failed], dups

    for moved, dups in (result for _, result in _each_table(finished, tables)):
        quarantine += moved
        warnings.append(dups.assign(kind="重复"))
    for table in tables:
        if table not in latest:  # (a table without rows: no checks ran, nothing was published)
            tables[table] = empty_clean(table)
            publish(table, tables[table])
    quarantine_frame = pd.concat([q for q in quarantine if not q.empty] or [empty_issues()], ignore_index=True)
    warning_parts = [w if "kind" in w else w.assign(kind="警告") for w in warnings if not w.empty]
    warning_frame = pd.concat(warning_parts or [empty_issues().assign(kind=pd.Series(dtype="str"))], ignore_index=True)
    for frame in (quarantine_frame, warning_frame):
        frame["source_row"] = frame["source_row"].astype("Int64")
    quarantine_frame = quarantine_frame.sort_values(ROW_KEY + ["column"], kind="stable").reset_index(drop=True)
    warning_frame = warning_frame.sort_values(ROW_KEY + ["column"], kind="stable").reset_index(drop=True)
    return tables, quarantine_frame, warning_frame
