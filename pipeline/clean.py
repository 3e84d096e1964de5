"""Clean one raw sheet: classify rows, parse values, resolve units, apply the row-level checks.

Every row of a recognised sheet ends in exactly one bucket: non-data (title, header, blank,
total, footer, repeated header), quarantine (with file, sheet, row, column, raw value, reason),
or parsed data that goes on to the batch-level checks in `finalize`. Nothing is dropped silently.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import fuzz, process

from pipeline import arrow_text, cores, parse
from pipeline.frames import big_blocks_in_effect, release_memory, two_at_a_time
from pipeline.ingest_rules import IngestRules, SourceSpec
from pipeline.layout import SCAN_ROWS, Layout, SheetMeta, detect_layout, read_meta, row_texts, sheet_rows, source_aliases
from pipeline.read import DICTIONARY_TEXT, EXCEL_ERRORS, UNSAVED_FORMULA, RawSheet, column_letter, text_of
from pipeline.registry import industry_index, name_index, normalise_name, split_list

ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
# A mobile number also when written in groups (138-1234-5678, 138 1234 5678), with +86, or in
# full-width digits (raw values reported back are not NFKC-normalised; `\d` is any digit).
PHONE_SEPARATOR = "[-. \t\u00a0\u3000\u2010-\u2015\uff0d]"
MOBILE_START = "[1\uff11][3-9\uff13-\uff19]"
MOBILE = re.compile(rf"(?<!\d)(?:\+?86{PHONE_SEPARATOR}?)?{MOBILE_START}\d{PHONE_SEPARATOR}?\d{{4}}{PHONE_SEPARATOR}?\d{{4}}(?!\d)")
LANDLINE = re.compile(rf"(?<!\d)[0\uff10]\d{{2,3}}[-\uff0d]\d{{7,8}}(?!\d)")
SCRUBBED = "[已脱敏]"
ISSUE_COLUMNS = ["source_file", "source_sheet", "source_row", "table", "column", "raw_value", "reason"]
NONDATA_KINDS = ("标题", "表头", "空行", "预留行", "合计", "页脚", "重复表头")
SCRUBBED_TYPES = ("text", "industry", "credit_code")  # the column types whose values `scrub` may change


# RE2 patterns matching wherever each personal-number pattern matches (RE2 has no look-arounds):
# Python's regex then runs only on the few cells that hold such a number.
# Each look-around becomes "start/end or a character it forbids", exact for whether a match exists.
_D = arrow_text.DIGIT
PERSONAL_PATTERNS = (
    (ID_NUMBER, f"(?:^|[^0-9A-Za-z]){_D}{{17}}[{_D}Xx](?:[^0-9A-Za-z]|$)"),
    (MOBILE, f"(?:^|[^{_D}])(?:\\+?86{PHONE_SEPARATOR}?)?{MOBILE_START}{_D}{PHONE_SEPARATOR}?{_D}{{4}}{PHONE_SEPARATOR}?{_D}{{4}}(?:[^{_D}]|$)"),
    (LANDLINE, f"(?:^|[^{_D}])[0\uff10]{_D}{{2,3}}[-\uff0d]{_D}{{7,8}}(?:[^{_D}]|$)"),
)


def scrub(text: pd.Series) -> pd.Series:
    """Replace ID-card, mobile and landline numbers in free text (personal data stays in data/raw)."""
    data = arrow_text.arrow(text)
    data = arrow_text.sub_where(data, "|".join(prefilter for _, prefilter in PERSONAL_PATTERNS),
                                [pattern for pattern, _ in PERSONAL_PATTERNS], SCRUBBED)
    out = arrow_text.series(data, text.index)
    return out if out.dtype == text.dtype else out.astype(text.dtype)


@dataclass
class Registry:
    """The registry in the shapes the cleaner needs: name lookup, suggestions, industry map."""

    frame: pd.DataFrame
    by_name: dict[str, str] = field(init=False)
    names: dict[str, str] = field(init=False)
    groups: dict[str, str] = field(init=False)
    industries: dict[str, str] = field(init=False)
    spellings: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.by_name = name_index(self.frame)
        self.names = dict(zip(self.frame["unit_id"], self.frame["name"]))
        self.groups = dict(zip(self.frame["unit_id"], self.frame["group"]))
        self.industries = industry_index(self.frame)
        self.spellings = [s for n, a in zip(self.frame["name"], self.frame["aliases"]) for s in [n, *split_list(a)]]

    def resolve(self, text: str) -> str | None:
        return self.by_name.get(normalise_name(text))

    def suggest(self, text: str, limit: int = 3) -> list[str]:
        """The registry names closest to an unknown spelling (aliases count, names are shown)."""
        found = process.extract(text, self.spellings, scorer=fuzz.WRatio, limit=limit * 3)
        names: list[str] = []
        for spelling, _score, _ in found:
            name = self.names[self.by_name[normalise_name(spelling)]]
            if name not in names:
                names.append(name)
        return names[:limit]


@dataclass
class SheetResult:
    """What a batch (or one sheet) yielded for one source; `summary` is a sheet's `files` row."""

    source: str | None
    data: pd.DataFrame
    quarantine: pd.DataFrame
    warnings: pd.DataFrame
    summary: dict | None = None
    meta: SheetMeta | None = None
    title_periods: list[str] = field(default_factory=list)


@dataclass
class SheetPart:
    """One sheet after the cheap per-sheet step: its layout and its body rows, not yet parsed.

    `cells` holds the body's cells column by column as Arrow text chunks ("" for an empty cell),
    keyed `_c<j>` (j = the sheet's column); `rows` each body row's number as the analyst sees it.
    Plain arrays, not a frame: a month's hundreds of sheets are stacked per source without
    pandas' per-frame and per-column costs, and come back from a worker process cheaply.
    """

    source: str | None
    summary: dict
    meta: SheetMeta
    layout: Layout | None = None
    cells: dict[str, list[pa.Array]] | None = None
    rows: np.ndarray | None = None
    counts: dict = field(default_factory=dict)
    head_texts: list[str] = field(default_factory=list)


def empty_issues() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="str") for c in ISSUE_COLUMNS + ["raw_record"]})
    frame["source_row"] = frame["source_row"].astype("Int64")
    return frame


def prepare_sheet(sheet: RawSheet, file_name: str, rules: IngestRules) -> SheetPart:
    """Recognise a sheet and cut out its body; everything per row happens later, in a batch."""
    top = sheet_rows(sheet, SCAN_ROWS)
    layout = detect_layout(sheet, rules, file_name, top)
    total_rows = len(sheet.preamble) + sheet.rows
    summary = {"source_file": file_name, "source_sheet": sheet.name, "source_type": layout.source, "rows_read": 0,
               "clean": 0, "quarantined": 0, "nondata": 0, "duplicates": 0, "rows_unread": 0,
               "nondata_detail": "", "status": "ok", "message": ""}
    head_texts = row_texts(top[: layout.header_start if layout.source else 12])
    meta = read_meta(head_texts, file_name)
    part = SheetPart(layout.source, summary, meta, head_texts=head_texts)
    if sheet.name.strip() in rules.skip_sheets or sheet.name.startswith("_"):
        summary.update(source_type=None, status="skipped", message="说明类工作表,不含数据(instructions sheet, skipped)")
        part.source = None
        return part
    if layout.source is None:
        nonempty = bool(total_rows) and bool((sheet.table().astype("str") != "").to_numpy().any())
        summary.update(status="unrecognised" if nonempty else "empty", rows_unread=total_rows if nonempty else 0,
                       message="无法识别为事故、执法检查、隐患或年度考评表:找不到表头(no recognisable header)" if nonempty else "空工作表(empty sheet)")
        return part
    source = rules.sources[layout.source]
    problems = []
    if layout.missing_required:
        headers = "、".join(source.columns[c].header for c in layout.missing_required)
        problems.append(f"缺少必填列:{headers}(missing required column)")
    for name, labels in layout.duplicated:
        problems.append(f"列“{source.columns[name].header}”出现{len(labels)}次({'、'.join(labels)}),无法确定以哪列为准(duplicated column)")
    if problems:
        summary.update(status="error", rows_unread=total_rows, message=";".join(problems))
        part.source = None
        return part

    body_start = layout.header_start + layout.header_span - len(sheet.preamble)
    above = top[: layout.header_start]
    counts = {k: 0 for k in NONDATA_KINDS}
    counts["空行"] += sum(1 for r in above if not "".join(r).strip())
    counts["标题"] += sum(1 for r in above if "".join(r).strip())
    counts["表头"] += layout.header_span
    summary["rows_read"] = total_rows
    part.layout, part.counts = layout, counts
    start = max(body_start, 0)
    if sheet.columns is not None and not _merged_down(sheet, body_start):  # (no frame needed)
        part.cells = {f"_c{j}": [_filled_text(chunk) for chunk in _chunks(column.slice(start))]
                      for j, column in enumerate(sheet.columns)}
    else:
        body = _fill_merged(sheet.table().iloc[start:], sheet, body_start)
        part.cells = {f"_c{j}": [_filled_text(chunk) for chunk in arrow_text.arrow(column).chunks]
                      for j, (_, column) in enumerate(body.items())}
    part.rows = sheet.first_row + len(sheet.preamble) + np.arange(start, sheet.rows, dtype=np.int64)
    notes = []
    if layout.personal:
        notes.append(f"已删除个人信息列(personal data dropped):{'、'.join(layout.personal)}")
    if layout.unknown:
        notes.append(f"未识别的列已忽略(unknown columns ignored):{'、'.join(layout.unknown[:8])}")
    summary["message"] = ";".join(notes)
    return part


TWO_AT_A_TIME = True  # clean_batch: sources cleaned two at a time (False: one after the other)
TWO_AT_A_TIME_ROWS = 1_000_000  # ... at any size where big blocks go back to the system, else up to this


def clean_batch(parts: list[SheetPart], rules: IngestRules, registry: Registry) -> list[SheetResult]:
    """Classify, parse and check the rows of many sheets at once, one pass per source.

    Per-sheet work is only layout detection; the per-row work runs once per source over all
    sheets, so a year of several hundred small workbooks costs little more than one big one.
    Each part's `summary` and `meta` are completed in place (each part belongs to one source).
    Two sources are cleaned at a time on threads (beyond TWO_AT_A_TIME_ROWS body rows only
    where `frames.big_blocks_returned` has taken effect); either way a source's columns are
    parsed on whichever core is free (`cores`).
    """
    jobs = [(members, spec) for name, spec in rules.sources.items()
            if (members := [p for p in parts if p.source == name and p.cells is not None])]
    rows = sum(len(p.rows) for members, _ in jobs for p in members)
    if len(jobs) > 1 and TWO_AT_A_TIME and cores.LIMIT >= 2 and (rows <= TWO_AT_A_TIME_ROWS or big_blocks_in_effect()):
        # Two sources at a time, on both cores (their work is mostly per-column, and pandas and
        # Arrow let go of the GIL for much of it): 5·10^6 rows 5.8 -> 5.1 s, at no cost in peak
        # memory once big blocks go back to the system when freed (frames.big_blocks_returned;
        # without it, millions of rows are cleaned one source at a time, for the peak's sake).
        # When one source is done, its core helps parse the other's columns (`cores`).
        # Results in the sources' order: the outcome is that of one after the other.
        return cores.each(lambda job: _clean_source(*job, rules, registry), jobs)
    results = []
    for members, spec in jobs:  # one source at a time, its columns parsed on both cores
        results.append(_clean_source(members, spec, rules, registry))
        release_memory()  # this source's raw cells: back to the system
    return results


def _batch(members: list[SheetPart], spec: SourceSpec):
    """The body rows of a source's sheets in one frame (cell columns, `_row`, `_sheet`, canonical
    columns), its cell columns, and every column's distinct values (`_canonical_columns`)."""
    known: dict[str, tuple[np.ndarray, pd.Series]] = {}
    batch = _stacked([part.cells for part in members], [part.rows for part in members], known)
    for part in members:  # the batch holds the cells now; the raw ones can go as soon as it does
        part.cells = None
    cell_columns = [c for c in batch.columns if c.startswith("_c")]  # (in column order: `_stacked`'s)
    canonical, distinct = _canonical_columns(batch, cell_columns, members, spec, known)
    return pd.concat([batch, canonical], axis=1), cell_columns, distinct


SMALL_CHUNK_ROWS = 1 << 16  # a column whose chunks average fewer rows is made one array ...
COMBINE_BYTES = 64 << 20  # ... when it is no bigger than this


def _stacked(cells: list[dict[str, list[pa.Array]]], rows: list[np.ndarray],
             known: dict[str, tuple[np.ndarray, pd.Series]] | None = None) -> pd.DataFrame:
    """The sheets' cells (`SheetPart.cells`) one sheet under another: every cell column (a cell a
    sheet does not have is ""), then `_row` and `_sheet` (the sheet's position in the lists).
    A column that comes as dictionary chunks in every sheet (Parquet) stays a dictionary column
    (decoded only where its text is read row by row: `_text`, `arrow_text.arrow`), and its
    (codes, distinct values) go in `known`: its dictionaries, joined, are its distinct values."""
    known = {} if known is None else known
    lengths = [len(numbers) for numbers in rows]
    index = pd.RangeIndex(sum(lengths))
    names = sorted({name for found in cells for name in found}, key=lambda c: int(c[2:]))
    columns = {}
    for name in names:
        chunks = []
        for found, length in zip(cells, lengths):
            if name in found:
                chunks += found.pop(name)  # (the sheet's own reference goes: one column copied at a time)
            elif length:
                chunks.append(arrow_text.blanks(length))
        if chunks and all(chunk.type == DICTIONARY_TEXT for chunk in chunks):
            column, known[name] = _unified(pa.chunked_array(chunks, DICTIONARY_TEXT))
            columns[name] = pd.Series(pd.arrays.ArrowExtensionArray(column), index=index, copy=False)
            continue
        # (dictionary chunks beside plain ones, a Parquet export and a workbook: all decoded)
        column = pa.chunked_array([text_of(chunk) for chunk in chunks], pa.large_string())
        if 1 < column.num_chunks and len(column) < SMALL_CHUNK_ROWS * column.num_chunks and column.nbytes <= COMBINE_BYTES:
            # hundreds of small sheets' chunks: one array, as every later step pays per chunk;
            # the byte cap bounds the copy (alive with the chunks until this column is done)
            column = pa.chunked_array([column.combine_chunks()])
        columns[name] = arrow_text.series(column, index)
    columns["_row"] = pd.Series(np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64), index=index)
    columns["_sheet"] = pd.Series(np.repeat(np.arange(len(rows)), lengths), index=index)
    return pd.DataFrame(columns, index=index, copy=False)


def _unified(column: pa.ChunkedArray) -> tuple[pa.ChunkedArray, tuple[np.ndarray, pd.Series]]:
    """A column of dictionary chunks over one dictionary, and its (codes, distinct values) as
    `parse.distinct_values` gives them (values in the dictionary's order, which may hold a few no
    row uses: per-value work does not depend on either). Nothing is decoded: most such columns
    (dates, units, 是/否) are parsed through their distinct values and never read row by row, and
    decoding them took 1 to 1.5 CPU-s on 5·10^6 Parquet records."""
    column = column.unify_dictionaries()
    uniques = column.chunk(0).dictionary
    codes = np.concatenate([chunk.indices.to_numpy() for chunk in column.chunks])
    return column, (parse.narrow_codes(codes, len(uniques)), arrow_text.series(uniques, pd.RangeIndex(len(uniques))))


def _is_dictionary(column: pd.Series) -> bool:
    return isinstance(column.dtype, pd.ArrowDtype) and pa.types.is_dictionary(column.dtype.pyarrow_dtype)


def _text(column: pd.Series) -> pd.Series:
    """A cell column as `str` text (a dictionary column, `_stacked`'s, decoded)."""
    return arrow_text.series(arrow_text.arrow(column), column.index) if _is_dictionary(column) else column


def _cells(column: pd.Series) -> pa.ChunkedArray:
    """A cell column's Arrow array as it is held (dictionary or text): to take a few rows from."""
    return column.array.__arrow_array__() if _is_dictionary(column) else arrow_text.arrow(column)


def _chunks(column: pa.Array | pa.ChunkedArray) -> list[pa.Array]:
    return column.chunks if isinstance(column, pa.ChunkedArray) else [column]


def _filled_text(chunk: pa.Array) -> pa.Array:
    """A chunk of cells as large_string, "" for an empty cell; dictionary chunks of a Parquet
    sheet (`read._parquet_text`: large_string values, no empty cell) as they are."""
    if chunk.type == DICTIONARY_TEXT:
        return chunk
    if chunk.type != pa.large_string():
        chunk = chunk.cast(pa.large_string())
    return pc.fill_null(chunk, "") if chunk.null_count else chunk


def _distinct_columns(columns: dict[str, pd.Series]) -> dict[str, tuple[np.ndarray | None, pd.Series]]:
    """`parse.distinct_values` of each column, two at a time: Arrow's hashing releases the GIL,
    so the two cores factorize two columns at once. The result does not depend on the threads."""
    rows = len(next(iter(columns.values()))) if columns else 0
    return dict(zip(columns, two_at_a_time(parse.distinct_values, list(columns.values()), rows, THREAD_ROWS)))


def _canonical_columns(batch: pd.DataFrame, cell_columns: list[str], members: list[SheetPart], spec: SourceSpec,
                       known: dict | None = None):
    """Each canonical column's raw cells, picked per row from the cell column its sheet maps to it
    (the cell column itself when every sheet maps the same one, dictionary-encoded or not; else
    text, `_text`); and the distinct values (`parse.distinct_values`) of every cell and canonical column, each
    worked out once (`known`: those of cell columns known already): a canonical column every
    sheet maps to one cell column shares that column's."""
    keys = batch["_sheet"].to_numpy()
    out = {}
    known = known or {}
    distinct = {**_distinct_columns({c: batch[c] for c in cell_columns if c not in known}), **known}
    present = np.flatnonzero(np.bincount(keys, minlength=len(members)))  # the sheets with rows
    blank = None
    for name in spec.columns:
        sheet_column = np.array([next((c for c, n in p.layout.columns.items() if n == name), -1) for p in members])
        mapped = sheet_column[present]  # (per sheet: no per-row array unless the sheets differ)
        if len(mapped) and (mapped == mapped[0]).all() and mapped[0] >= 0:  # every sheet maps one cell column
            out[name] = batch[f"_c{mapped[0]}"]
            distinct[name] = distinct[f"_c{mapped[0]}"]
            continue
        where = sheet_column[keys]
        if blank is None:  # one "" column for every such column (Arrow arrays are immutable)
            blank = parse.blank_text(batch.index)
        column = blank
        for j in np.unique(where[where >= 0]):
            column = column.mask(where == j, _text(batch[f"_c{j}"]))
        out[name] = column
        if not (where >= 0).any():  # no sheet has the column: every cell is empty
            distinct[name] = (np.zeros(len(column), dtype=np.int8), pd.Series([""], dtype="str"))
        else:
            distinct[name] = parse.distinct_values(column)
    return pd.DataFrame(out, index=batch.index), distinct


def _clean_source(members, spec: SourceSpec, rules, registry) -> SheetResult:
    """One source's sheets cleaned together (its columns parsed on the free cores: `cores`)."""
    source = spec.name
    batch, cell_columns, distinct = _batch(members, spec)
    kind = _classify(batch, cell_columns, distinct, members, spec, rules)
    # Rows of each kind per sheet: one count per (sheet, kind) pair of codes, no table of labels.
    per_sheet = np.bincount(batch["_sheet"].to_numpy(dtype=np.int64) * len(KINDS) + kind,
                            minlength=len(members) * len(KINDS)).reshape(len(members), len(KINDS))
    data_rows = per_sheet[:, KINDS.index("")]
    footer_at = np.flatnonzero(kind == KINDS.index("页脚"))
    footer_cells = [arrow_text.take(_cells(batch[c]), footer_at).to_pylist() for c in cell_columns]
    footers: dict[int, list[list[str]]] = {}
    for key, *cells in zip(batch["_sheet"].to_numpy()[footer_at].tolist(), *footer_cells):  # a few per sheet
        footers.setdefault(key, []).append(cells)
    for key, part in enumerate(members):
        for name, n in zip(KINDS, per_sheet[key]):
            if name and n:
                part.counts[name] += int(n)
        if key in footers:
            part.meta = read_meta(part.head_texts + row_texts(footers[key]), part.summary["source_file"])
        part.summary["nondata"] = sum(part.counts.values())
        part.summary["nondata_detail"] = " ".join(f"{k}{v}" for k, v in part.counts.items() if v)
        if not data_rows[key]:  # a header alone: say so, it may be a mistake
            part.summary["message"] = ";".join(filter(None, [part.summary["message"], "表中没有数据行(no data rows)"]))

    # Only the columns parsing needs, and no copy when every row is data (the usual case).
    is_data = kind == KINDS.index("")
    rows = batch[[*spec.columns, "_sheet", "_row"]]
    del batch  # (the cell columns no canonical column uses go now)
    rows = (rows if is_data.all() else rows[is_data]).reset_index(drop=True)
    distinct = {name: distinct[name] if is_data.all() or distinct[name][0] is None else (distinct[name][0][is_data], distinct[name][1])
                for name in spec.columns}
    keys = rows["_sheet"].to_numpy()
    row_numbers = rows["_row"].to_numpy()
    texts = {name: rows[name] for name in spec.columns}
    del rows  # `_parse_columns` lets each column's text go once it is parsed
    title_years = None
    if any(column.type == "year" for column in spec.columns.values()):
        title_years = pd.Series(pd.Series([p.meta.title_year for p in members], dtype="Int64").to_numpy()[keys], dtype="Int64")
    parsed, errors, raw, extra = _parse_columns(texts, distinct, spec, rules, registry, title_years)
    del distinct, texts
    release_memory()  # the parsing's copies of the text: back to the system
    where = {"file": _per_sheet_text([p.summary["source_file"] for p in members], keys),
             "sheet": _per_sheet_text([p.summary["source_sheet"] for p in members], keys),
             "row": pd.Series(row_numbers, dtype="Int64"),
             "labels": {name: _PerSheet(np.array([_column_label(p.layout, spec, name) for p in members], dtype=object), keys) for name in spec.columns}}
    _row_checks(source, parsed, errors, rules)
    parsed["unit_id"] = parsed["unit"]
    parsed["unit"] = extra["unit_name"]

    bad = _any_reason(errors)
    quarantine = _issues(errors[bad], raw.frame(bad.to_numpy()), where, bad, source)
    warnings = _row_warnings(source, parsed, raw, where, spec, registry, extra)
    good = (lambda column: column[~bad]) if bad.any() else (lambda column: column)  # no copies when all are good
    data = good(parsed).copy(deep=False)
    data["source_file"] = good(where["file"])
    data["source_sheet"] = good(where["sheet"])
    data["source_row"] = good(where["row"])
    data["_title_period"] = good(_per_sheet_text([p.meta.title_period or "" for p in members], keys))
    if not warnings.empty and bad.any():  # findings on rows that went to quarantine are not kept
        location = ["source_file", "source_sheet", "source_row"]
        quarantined = pd.MultiIndex.from_arrays([where["file"][bad], where["sheet"][bad], where["row"][bad]], names=location)
        warnings = warnings[~pd.MultiIndex.from_frame(warnings[location]).isin(quarantined)]
    bad_per_sheet = np.bincount(keys[bad.to_numpy()], minlength=len(members))
    for key, part in enumerate(members):
        part.summary["quarantined"] = int(bad_per_sheet[key])
    return SheetResult(source, data.reset_index(drop=True), quarantine, warnings,
                       title_periods=[p.meta.title_period for p in members if p.meta.title_period])


def _any_reason(errors: pd.DataFrame) -> pd.Series:
    """errors.notna().any(axis=1): whether a row has a reason in any column. A column without any
    (most of them: the one shared all-NA array, `parse.no_text`) is not gone through row by row."""
    bad = np.zeros(len(errors), dtype=bool)
    for column in errors.columns:
        reasons = errors[column]
        if reasons.isna().all():
            continue
        bad |= reasons.notna().to_numpy()
    return pd.Series(bad, index=errors.index)


def _per_sheet_text(values: list[str], keys: np.ndarray) -> pd.Series:
    """values[keys] as a `str` column, built by an Arrow take (no Python object per row)."""
    return arrow_text.series(pa.array(values, type=pa.large_string()).take(pa.array(keys)), pd.RangeIndex(len(keys)))


class _PerSheet:
    """A per-row value that depends only on the row's sheet, expanded only for the rows asked for."""

    def __init__(self, values: np.ndarray, keys: np.ndarray):
        self.values, self.keys = values, keys

    def __getitem__(self, mask) -> np.ndarray:
        return self.values[self.keys[np.asarray(mask)]]


def clean_sheet(sheet: RawSheet, file_name: str, rules: IngestRules, registry: Registry) -> SheetResult:
    """One sheet through both steps (tests and small tools; the runner batches)."""
    part = prepare_sheet(sheet, file_name, rules)
    results = clean_batch([part], rules, registry)
    if not results:
        return SheetResult(part.source, pd.DataFrame(), empty_issues(), empty_issues(), part.summary, part.meta)
    result = results[0]
    result.summary, result.meta = part.summary, part.meta
    return result


def _merged_down(sheet: RawSheet, body_start: int) -> list:
    """The merged ranges that reach down over data rows."""
    return [((r0, c0), (r1, c1)) for (r0, c0), (r1, c1) in sheet.merged if r1 > r0 and r0 >= body_start]


def _fill_merged(body: pd.DataFrame, sheet: RawSheet, body_start: int) -> pd.DataFrame:
    """A cell merged down over data rows holds its value for every row it covers, as in Excel."""
    ranges = _merged_down(sheet, body_start)
    if not ranges:
        return body
    body = body.copy()
    grid = sheet.table()
    for (r0, c0), (r1, c1) in ranges:
        value = grid.iat[r0, c0]
        for r in range(r0, min(r1, len(grid) - 1) + 1):
            for c in range(c0, min(c1, grid.shape[1] - 1) + 1):
                if body.loc[r, c] == "":
                    body.loc[r, c] = value
    return body


KINDS = ["", "空行", "预留行", "重复表头", "合计", "页脚"]  # a body row's kind ("": data), as `_classify` says it


def _classify(batch: pd.DataFrame, cell_columns: list[str], distinct: dict, members: list[SheetPart], spec: SourceSpec, rules: IngestRules) -> np.ndarray:
    """Non-data kind of each body row, as its position in KINDS (int8; 0, "", for data): 空行,
    预留行, 合计, 页脚, 重复表头.

    预留行: a template's padding row, where only the pre-filled unit name is present.
    `distinct`: (codes, distinct values) of every cell and canonical column (`_canonical_columns`).
    """
    if batch.empty:
        return np.zeros(0, dtype=np.int8)
    # Each column was factorized once; every per-value check runs on its distinct values and is
    # spread back by the codes (barely repeating columns, such as ids, are checked value by value).
    def distinct_of(column: str):
        return distinct[column]

    def per_row(column: str, check) -> np.ndarray:
        """check(values) -> numpy array, evaluated on the column's distinct values, one per row."""
        codes, uniques = distinct_of(column)
        result = np.asarray(check(uniques))
        if codes is None:
            return result
        if result.dtype == bool and result.ndim == 1 and (result.all() or not result.any()):
            return np.full(len(codes), bool(result.all()))  # (the same for every row: no gather)
        return result[codes]

    squeezed = lambda values: parse.squeeze_text(parse.strip_text(values))  # noqa: E731
    total_markers = tuple(rules.total_markers)
    footer_markers = tuple(parse.normalise_label(m) for m in rules.footer_markers) + tuple(rules.footer_markers)

    def starts(values: pd.Series, markers: tuple) -> np.ndarray:
        return values.str.startswith(markers).fillna(False).to_numpy(dtype=bool)

    filled = pd.DataFrame({c: per_row(c, parse.nonblank) for c in cell_columns}, index=batch.index)
    filled_count = np.zeros(len(batch), dtype=np.int64)
    for column in cell_columns:
        filled_count += filled[column].to_numpy(dtype=bool)
    # Each rule decides only the rows no earlier rule took.
    kind = np.where(filled_count == 0, KINDS.index("空行"), 0).astype(np.int8)
    unit_columns = [name for name, column in spec.columns.items() if column.type == "unit"]
    if unit_columns:
        units_filled = sum(per_row(name, parse.nonblank).astype(int) for name in unit_columns)
        kind[(kind == 0) & (units_filled > 0) & (filled_count == units_filled)] = KINDS.index("预留行")
    # The row's first filled cell, squeezed, starts with a total or footer marker: for rows whose
    # first cell is filled (nearly all) that is a property of the first column's value.
    # Squeezing keeps ASCII text ASCII, and ASCII text cannot start with (or be) a marker holding
    # another character: with no ASCII marker, only the non-ASCII values (none in an id column of
    # millions of rows) are squeezed and compared.
    ascii_markers = any(m.isascii() for m in total_markers + footer_markers)

    def marks(values: pd.Series) -> np.ndarray:  # [starts with a total marker, a footer marker, is a total marker]
        found = np.zeros((len(values), 3), dtype=bool)
        rows = np.arange(len(values)) if ascii_markers else np.flatnonzero(~arrow_text.ascii_mask(arrow_text.arrow(values)))
        if len(rows):
            text = squeezed(values.iloc[rows])
            found[rows] = np.column_stack([starts(text, total_markers), starts(text, footer_markers),
                                           text.isin(list(total_markers)).to_numpy(dtype=bool)])
        return found

    first_column = cell_columns[0]
    first_marks = per_row(first_column, marks)
    total, footer = first_marks[:, 0].copy(), first_marks[:, 1].copy()
    others = np.flatnonzero(~filled[first_column].to_numpy(dtype=bool))
    if len(others):
        sub = pd.DataFrame({c: _text(batch[c].iloc[others]) for c in cell_columns})
        first = squeezed(_first_filled(sub.apply(parse.strip_text), filled.iloc[others]))
        total[others], footer[others] = starts(first, total_markers), starts(first, footer_markers)
    total |= first_marks[:, 2]
    for column in cell_columns[1:3]:
        total |= per_row(column, lambda u: squeezed(u).isin(list(total_markers)).to_numpy(dtype=bool))
    # A repeated header (a page break in a long export) or a second header row (the canonical
    # English names under the Chinese ones): most mapped cells are their column's header or alias.
    keys = batch["_sheet"].to_numpy()
    same = np.zeros(len(batch), dtype=np.int64)
    mapped = pd.Series([len(p.layout.labels) for p in members]).to_numpy()[keys]
    need = np.maximum(2, mapped // 2)
    alias_of = source_aliases(rules)[spec.name]
    deferred = []
    for name in spec.columns:
        labels = [next((parse.normalise_label(l) for c, l in p.layout.labels.items() if p.layout.columns[c] == name), "\x00") for p in members]
        aliases = [a for a, n in alias_of.items() if n == name]
        codes, uniques = distinct_of(name)
        if codes is None:  # barely repeating values (ids): checked below, only where they could decide
            deferred.append((name, labels, aliases))
            continue
        same += _is_header(codes, uniques, labels, keys, aliases)
    # A row short of `need` matches even if every deferred column matched cannot be a header.
    rows = np.flatnonzero(same + len(deferred) >= need) if deferred else []
    for name, labels, aliases in deferred:
        if len(rows):
            cells = _text(batch[name].iloc[rows]).reset_index(drop=True)
            same[rows] += _is_header(np.arange(len(rows)), cells, labels, keys[rows], aliases)
    for rule, rows in (("重复表头", same >= need), ("合计", total), ("页脚", footer)):
        kind[(kind == 0) & rows] = KINDS.index(rule)
    return kind


def _is_header(codes: np.ndarray, uniques: pd.Series, sheet_labels: list[str], keys: np.ndarray, aliases: list[str]) -> np.ndarray:
    """Per row (1/0): the cell `uniques[codes]`, read as a header (`normalise_labels`), is its own
    sheet's header of this column (`sheet_labels[keys]`) or one of the column's aliases. Worked out
    once per distinct cell value and spread back by the codes (no per-row text is built)."""
    folded = parse.normalise_labels(uniques)
    alias = folded.isin(aliases).to_numpy(dtype=bool)
    distinct, label_of_sheet = np.unique(np.array(sheet_labels, dtype=object), return_inverse=True)
    equal = np.stack([folded.eq(label).fillna(False).to_numpy(dtype=bool) for label in distinct])
    if not (alias.any() or equal.any()):  # no value reads as a header (the usual case): nothing to spread
        return np.zeros(len(codes), dtype=np.int64)
    return (alias[codes] | equal[label_of_sheet[keys], codes]).astype(np.int64)


def _first_filled(cells: pd.DataFrame, filled: pd.DataFrame) -> pd.Series:
    """Each row's first non-empty cell ("" when none). Almost every row starts with a filled cell
    (its record's first column, "" when empty), so only the others are searched column by column."""
    if cells.shape[1] == 0:
        return pd.Series("", index=cells.index, dtype="str")
    first = cells.iloc[:, 0]
    others = np.flatnonzero(~filled.iloc[:, 0].to_numpy(dtype=bool))
    if len(others) and cells.shape[1] > 1:
        sub, sub_filled = cells.iloc[others], filled.iloc[others]
        picked = pd.Series("", index=sub.index, dtype="str")
        for column in reversed(cells.columns):
            picked = picked.mask(sub_filled[column], sub[column])
        first = first.copy()
        first.iloc[others] = picked.to_numpy()
    return first


class _RawText:
    """The raw text of the parsed columns, read back only for the rows that are reported (the
    quarantined and warned ones): a factorized column is kept as its codes and distinct values,
    so the millions of cells of text can go as soon as the column is parsed."""

    def __init__(self) -> None:
        self.columns: dict[str, tuple[np.ndarray | None, pd.Series]] = {}

    def add(self, name: str, text: pd.Series, distinct: tuple[np.ndarray | None, pd.Series] | None) -> None:
        self.columns[name] = distinct if distinct is not None and distinct[0] is not None else (None, text)

    def column(self, name: str, rows: np.ndarray) -> pd.Series:
        """The text of the given row positions (indexed by them), as `str`."""
        codes, values = self.columns[name]
        taken = arrow_text.take(arrow_text.arrow(values), codes[rows] if codes is not None else rows)
        return arrow_text.series(taken, pd.Index(rows))

    def frame(self, mask: np.ndarray) -> pd.DataFrame:
        """Every column at the masked rows (index = their positions)."""
        rows = np.flatnonzero(mask)
        return pd.DataFrame({name: self.column(name, rows) for name in self.columns}, index=pd.Index(rows), dtype="str")


def _parse_columns(texts: dict[str, pd.Series], distinct: dict, spec: SourceSpec, rules: IngestRules, registry: Registry,
                   title_years: pd.Series | None):
    """Typed values, error reasons and raw text (`_RawText`) for every canonical column of the
    source, and `extra`: the unit names (`unit_name`) and, per free-text column, whether `scrub`
    changed the value (`scrubbed:<column>`, numpy bool), both worked out on distinct values like
    the parsing. `texts` holds each column's cells (emptied here, column by column, so that their
    memory goes as parsing goes), `distinct` their (codes, distinct values) (`parse.distinct_values`);
    `title_years` (for a `year` column) the year each row's title states. From THREAD_ROWS rows
    the columns are parsed on the free cores (`cores.spread`: the work is mostly Arrow's and
    numpy's, which let go of the GIL); the result is the same either way."""
    parsed, errors, extra = {}, {}, {}
    raw = _RawText()
    n = len(next(iter(texts.values()))) if texts else 0

    def parse_column(name: str, column, raw_text: pd.Series):
        def parse_distinct(distinct: pd.Series) -> pd.DataFrame:
            text = parse.normalise_text(distinct)
            result = _parse_one(column.type, text, rules, registry, column.header)
            out = {"values": result.values, "errors": parse.first_reason(_excel_errors(text), result.errors)}
            if column.type == "unit":
                out["unit_name"] = result.values.map(registry.names).astype("str")
            if column.type in SCRUBBED_TYPES:
                out["scrubbed"] = (arrow_text.contains(arrow_text.arrow(result.values), SCRUBBED)
                                   & ~arrow_text.contains(arrow_text.arrow(distinct), SCRUBBED))
            return pd.DataFrame(out, index=distinct.index)

        result = parse.per_unique(raw_text, parse_distinct, distinct.get(name)) if n else parse_distinct(raw_text)
        values, problem, more = result["values"], result["errors"], {}
        if "unit_name" in result:
            more["unit_name"] = result["unit_name"].reset_index(drop=True)
        if "scrubbed" in result:
            more[f"scrubbed:{name}"] = result["scrubbed"].to_numpy(dtype=bool)
        if column.type == "year":
            values = values.fillna(title_years.astype(values.dtype))
        if column.required:
            problem = problem.mask(values.isna() & problem.isna(), "必填项为空(required value missing)")
        return values.reset_index(drop=True), problem.reset_index(drop=True), more

    # Each column's text is taken from `texts` only as its parsing starts (lazily, below).
    jobs = ((name, column, _unparsed(texts.pop(name), distinct.get(name))) for name, column in spec.columns.items())
    for (name, _, raw_text), (values, problem, more) in cores.spread(lambda job: parse_column(*job), jobs, n >= THREAD_ROWS, PARSE_WINDOW):
        parsed[name], errors[name] = values, problem
        extra.update(more)
        raw.add(name, raw_text, distinct.get(name))
        del raw_text
    # copy=False: a frame built from a dict copies every column by default (millions of rows each)
    return pd.DataFrame(parsed, copy=False), pd.DataFrame(errors, dtype="str", copy=False), raw, extra


def _unparsed(text: pd.Series, distinct: tuple[np.ndarray | None, pd.Series] | None) -> pd.Series:
    """A column's cells as parsing takes them: `str`, "" for an empty cell. A dictionary column
    with its codes stays as it is: it is parsed through its distinct values (`parse.per_unique`
    spreads the results by the codes) and its text is never read row by row."""
    if _is_dictionary(text) and distinct is not None and distinct[0] is not None and len(text):
        return text.reset_index(drop=True)
    return _text(text).fillna("").astype("str").reset_index(drop=True)


# Columns held at once while parsing (running, or parsed and not yet taken in order): four, so
# that the other core goes on with the next columns while an id column of millions of distinct
# values is parsed; the columns' text is held only that far ahead.
PARSE_WINDOW = 4
THREAD_ROWS = 100_000  # a source's columns are parsed on threads from this many rows (below: not worth a thread)


def _excel_errors(text: pd.Series) -> pd.Series:
    """A cell showing an Excel error value (#N/A, #DIV/0!, in a workbook or a CSV saved from one) or
    a formula saved without its result (`pipeline.read` marks those): its value is unknown, in a
    text column too, so the row is quarantined rather than read as empty or as the error's text."""
    data = arrow_text.arrow(text)
    error = arrow_text.is_in(data, EXCEL_ERRORS)
    unsaved = pc.fill_null(pc.starts_with(data, UNSAVED_FORMULA), False).to_numpy(zero_copy_only=False)
    reasons = parse.no_text(text.index)  # (no new column of millions of NAs when no cell has one)
    if error.any():
        reasons = reasons.mask(error, "单元格是 Excel 错误值,请修正公式后重新报送(Excel error value)")
    if unsaved.any():
        reasons = reasons.mask(unsaved, "公式没有保存计算结果,请用 Excel 打开并保存后重新报送(formula saved without its result)")
    return reasons


def _parse_one(kind: str, text: pd.Series, rules: IngestRules, registry: Registry, header: str) -> parse.Parsed:
    nulls = rules.null_tokens
    if kind == "text":
        result = parse.parse_text(text, nulls)
        return parse.Parsed(scrub(result.values), result.errors)
    if kind == "datetime":
        return parse.parse_datetime(text, nulls, keep_time=True)
    if kind == "date":
        return parse.parse_datetime(text, nulls, keep_time=False)
    if kind == "count":
        return parse.parse_count(text, nulls)
    if kind == "money_wan":
        return parse.parse_money_wan(text, nulls)
    if kind == "score":
        return parse.parse_score(text, nulls)
    if kind == "year":
        return parse.parse_year(text, nulls)
    if kind == "bool":
        return parse.parse_bool(text, nulls, rules.true_tokens, rules.false_tokens)
    if kind.startswith("enum:"):
        return parse.parse_enum(text, nulls, rules.enums[kind[5:]], header)
    if kind == "credit_code":
        values = parse.parse_text(text, nulls).values.str.upper().str.replace(" ", "", regex=False)
        # A code failing GB 32100 may be an owner's ID-card number (个体户): never let that through.
        invalid = ~parse.credit_code_valid(values).fillna(True).astype(bool)
        values = values.mask(invalid, scrub(values))
        return parse.Parsed(values, parse.no_text(text.index))
    if kind == "industry":
        return _parse_industry(text, nulls, registry)
    if kind == "unit":
        return _parse_unit(text, nulls, registry)
    raise ValueError(f"unknown column type {kind}")


def _parse_unit(text: pd.Series, nulls, registry: Registry) -> parse.Parsed:
    """Registry name or alias -> unit_id; an unknown name is an error naming the closest units."""
    values = parse.parse_text(text, nulls).values
    ids = values.map({v: registry.resolve(v) for v in values.dropna().unique()})
    unknown = values.notna() & ids.isna()
    reasons = {}
    for name in values[unknown].unique():
        hint = "、".join(registry.suggest(name))
        shown = scrub(pd.Series([name], dtype="str")).iloc[0]  # the reason is stored unscrubbed
        reasons[name] = f"单位“{shown}”不在单位名册中,是否为:{hint}?(unknown unit; closest registry names)"
    errors = pd.Series(pd.NA, index=text.index, dtype="str").mask(unknown, values.map(reasons))
    return parse.Parsed(ids.astype("str"), errors)


def _parse_industry(text: pd.Series, nulls, registry: Registry) -> parse.Parsed:
    """Free-text industry mapped to the registry's industry names (`建筑施工业` -> 建筑施工).

    A cell maps to the longest registry industry it contains (or that starts with it, for
    abbreviations of two or more characters). An industry no department lists keeps its own text:
    the accident is charged to its territory only, and a warning says so (SPEC "Units"). Like
    all free text, it is scrubbed of ID-card and phone numbers.
    """
    values = parse.parse_text(text, nulls).values
    known = sorted(registry.industries, key=len, reverse=True)

    def match(value: str) -> str:
        folded = value.replace(" ", "")
        for industry in known:
            if industry in folded or (len(folded) >= 2 and industry.startswith(folded)):
                return industry
        return value

    mapping = {v: match(v) for v in values.dropna().unique()}
    return parse.Parsed(scrub(values.map(mapping).astype("str")), pd.Series(pd.NA, index=text.index, dtype="str"))


def accident_level(deaths: pd.Series, serious: pd.Series, loss: pd.Series, thresholds: tuple[dict, ...]) -> pd.Series:
    """Level by the 条例 thresholds: the highest level any criterion reaches wins."""
    level = pd.Series("一般", index=deaths.index, dtype="str")
    for rule in sorted(thresholds, key=lambda r: r["deaths"]):  # lowest first, higher overwrite
        reached = (deaths.fillna(0) >= rule["deaths"]) | (serious.fillna(0) >= rule["serious_injuries"]) | (loss.fillna(0) >= rule["direct_loss_wan"])
        level = level.mask(reached.astype(bool), rule["level"])
    return level


def _row_checks(source: str, data: pd.DataFrame, errors: pd.DataFrame, rules: IngestRules) -> None:
    """Row-level domain checks that quarantine (SPEC "Cleaning"); computed columns added in place."""
    def flag(column: str, mask: pd.Series, reason: str) -> None:
        mask = mask.fillna(False).astype(bool) & errors[column].isna()
        errors[column] = errors[column].mask(mask, reason)

    if source == "accidents":
        # A report time written as a date only (00:00) says the day, not the hour: it is before
        # the accident only when its day is, and late only when even its first minute is late.
        date_only = data["reported_at"].notna() & data["reported_at"].eq(data["reported_at"].dt.floor("D"))
        before = data["reported_at"] < data["occurred_at"].where(~date_only, data["occurred_at"].dt.floor("D"))
        flag("reported_at", before, "报告时间早于发生时间(reported before it occurred)")
        day = data["occurred_at"].dt.floor("D")
        flag("closed_at", data["closed_at"] < day, "结案日期早于事故发生(closed before it occurred)")
        flag("concealed_found_at", data["concealed_found_at"] < day, "查实日期早于事故发生(concealment found before the accident)")
        for column in ("deaths", "serious_injuries", "injuries"):
            data[column] = data[column].fillna(0)
        data["direct_loss_wan"] = data["direct_loss_wan"].fillna(0.0)
        data["level_submitted"] = data["level"]
        data["level"] = accident_level(data["deaths"], data["serious_injuries"], data["direct_loss_wan"], rules.accident_levels)
        delay = data["reported_at"] - data["occurred_at"]
        late = (delay > pd.Timedelta(hours=rules.late_report_hours)).astype("boolean")
        undecidable = date_only & ~late.fillna(False).astype(bool)
        data["late_report"] = late.mask(data["reported_at"].isna() | undecidable, pd.NA)
    elif source == "hazards":
        flag("rectified_at", data["rectified_at"] < data["found_at"], "整改完成日期早于发现日期(rectified before found)")
        flag("deadline", data["deadline"] < data["found_at"], "整改期限早于发现日期(deadline before found)")
    elif source == "enforcement":
        fine = data["fine_wan"].fillna(0) >= rules.major_decision_fine_wan
        data["major_decision"] = (fine | data["suspended"].fillna(False) | data["transferred"].fillna(False)).astype("boolean")
    elif source == "annual_review":
        bonus = data["item"].fillna("").str.contains("加分", regex=False)
        data["category"] = data["category"].fillna(pd.Series(np.where(bonus, "加分", "重点工作"), index=data.index, dtype="str"))
        errors["year"] = errors["year"].mask(data["year"].isna() & errors["year"].isna(), "无法确定年度:表中无“年度”列,标题和文件名也未写明(year unknown)")


def _row_warnings(source, data, raw, where, spec, registry, extra) -> pd.DataFrame:
    """Findings on rows that stay clean (SPEC: 'warning'). `extra` from `_parse_columns`."""
    found = []

    def warn(column: str, mask: pd.Series, reason) -> None:
        mask = mask.fillna(False).astype(bool)
        if mask.any():
            reasons = reason[mask] if isinstance(reason, pd.Series) else reason
            found.append(_frame(where, mask, source, column, raw.column(column, np.flatnonzero(mask.to_numpy())), reasons))

    if source == "accidents":
        differs = data["level_submitted"].notna() & data["level_submitted"].ne(data["level"])
        warn("level", differs, "上报事故级别与按条例计算的“" + data["level"].astype(str) + "”不一致,以计算结果为准(submitted level differs; computed level used)")
        orphan = data["industry"].notna() & ~data["industry"].isin(list(registry.industries))
        warn("industry", orphan, "该行业未列入任何成员单位的监管行业,事故仅计入属地单位(no supervising department; charged to territory only)")
        data["department_id"] = data["industry"].map(registry.industries, na_action="ignore").astype("str")
    elif source == "enforcement":
        warn("fine_wan", (data["fine_wan"].fillna(0) > 0) & data["penalized"].eq(False), "有罚款金额但“是否处罚”为否(fine recorded but not penalised)")
        bad_code = ~parse.credit_code_valid(data["credit_code"]).fillna(True).astype(bool)
        warn("credit_code", bad_code, "统一社会信用代码校验位不正确(credit code fails GB 32100 checksum)")
    for column, cspec in spec.columns.items():
        if cspec.type in SCRUBBED_TYPES:  # the columns `scrub` may have changed
            scrubbed = pd.Series(extra[f"scrubbed:{column}"], index=data.index)
            if scrubbed.any():
                found.append(_frame(where, scrubbed, source, column, pd.Series(SCRUBBED, index=scrubbed[scrubbed].index, dtype="str"),
                                    "文本中含身份证号或电话号码,已脱敏(personal numbers removed from text)"))
    return pd.concat(found, ignore_index=True) if found else empty_issues()


def _column_label(layout: Layout, spec: SourceSpec, column: str) -> str:
    for c, canonical in layout.columns.items():
        if canonical == column:
            return f"{column_letter(c)}列 {layout.labels[c]} ({column})"
    return f"{spec.columns[column].header} ({column})"


def _frame(where: dict, mask: pd.Series, table: str, column: str, raw_values, reasons) -> pd.DataFrame:
    """Issue rows for the masked rows of a batch, located by `where` (file, sheet, row, labels)."""
    mask = mask.to_numpy()
    frame = pd.DataFrame({
        "source_file": where["file"][mask].to_numpy(), "source_sheet": where["sheet"][mask].to_numpy(),
        "source_row": pd.array(where["row"][mask].to_numpy(), dtype="Int64"), "table": table,
        "column": where["labels"][column][mask], "raw_value": scrub(pd.Series(raw_values, dtype="str")).to_numpy(),
        "reason": reasons.to_numpy() if isinstance(reasons, pd.Series) else reasons,
    })
    frame["raw_record"] = pd.Series(pd.NA, index=frame.index, dtype="str")
    return frame.astype({c: "str" for c in ISSUE_COLUMNS if c != "source_row"})


def _issues(errors: pd.DataFrame, raw: pd.DataFrame, where: dict, bad: pd.Series, table: str) -> pd.DataFrame:
    """One quarantine row per problem cell, each carrying the whole raw row (scrubbed) as JSON."""
    if errors.empty:
        return empty_issues()
    records = scrub(pd.Series([json.dumps({k: v for k, v in r.items() if v}, ensure_ascii=False) for r in raw.to_dict("records")], index=raw.index, dtype="str"))
    frames = []
    for column in errors.columns:
        problem = errors[column].notna()
        if not problem.any():
            continue
        mask = pd.Series(False, index=bad.index)
        mask[problem[problem].index] = True
        frame = _frame(where, mask, table, column, raw.loc[problem, column], errors.loc[problem, column])
        frame["raw_record"] = records[problem].to_numpy()
        frames.append(frame)
    return pd.concat(frames, ignore_index=True).sort_values(["source_file", "source_sheet", "source_row", "column"], kind="stable").reset_index(drop=True)
