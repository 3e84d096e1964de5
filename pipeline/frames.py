"""Small frame helpers shared by the stages: empty clean tables, the deductions layout, joining
per-row labels; and the process-level helpers of the big runs: a map spread over both cores from
a size on (`pipeline.cores`), memory handed back to the system (between stages, and big blocks as
soon as they are freed)."""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa

from pipeline import cores

# SPEC "Processed tables" deductions columns first, then this product's extras.
DEDUCTION_COLUMNS = ["unit_id", "period", "component", "rule", "points", "record_id",
                     "source_file", "source_row", "label", "kind", "detail", "source_sheet"]
TEXT = ["unit_id", "period", "component", "rule", "record_id", "source_file", "label", "kind",
        "detail", "source_sheet"]


@lru_cache(maxsize=None)
def _empty_clean(table: str) -> pd.DataFrame:
    from pipeline.schemas import CLEAN_MODELS  # here, not at the top: it loads pandera (half a second)

    schema = CLEAN_MODELS[table].to_schema()
    columns = {}
    for name, column in schema.columns.items():
        dtype = column.dtype.type
        if str(dtype).startswith("datetime64"):
            dtype = "datetime64[us]"
        columns[name] = pd.Series(dtype=dtype)
    return pd.DataFrame(columns)


def empty_clean(table: str) -> pd.DataFrame:
    """An empty clean table with the schema's columns and dtypes (datetimes as datetime64[us])."""
    return _empty_clean(table).copy()


def ensure(frame: pd.DataFrame | None, table: str) -> pd.DataFrame:
    """The frame, or an empty clean table when the source is missing altogether."""
    return empty_clean(table) if frame is None else frame


def coded(values: Sequence[str], codes: np.ndarray) -> pd.Categorical:
    """values[codes] as a Categorical (values may repeat): one label per row, cheaply."""
    unique = list(dict.fromkeys(values))
    remap = np.array([unique.index(v) for v in values], dtype=np.int64)
    return pd.Categorical.from_codes(remap[np.asarray(codes, dtype=np.int64)], unique)


def text_column(values: object, n: int) -> pd.api.extensions.ExtensionArray:
    """A `string` array of length n from None (all NA), one text, a Categorical (built with a
    pyarrow take: millions of repeated labels cost no Python objects), or any array of text."""
    if values is None:
        return pd.array(pa.nulls(n, pa.large_string()), dtype="string")
    if isinstance(values, str):
        values = pd.Categorical.from_codes(np.zeros(n, dtype=np.int64), [values])
    if isinstance(values, pd.Categorical):
        labels = pa.array(values.categories.to_numpy(dtype=object), type=pa.large_string())
        return pd.array(labels.take(pa.array(values.codes.astype(np.int64))), dtype="string")
    return pd.array(values, dtype="string") if not isinstance(values, pd.Series) \
        else values.astype("string").array


def lost_points_frame(source: pd.DataFrame, component: str, rule: object, label: object,
                      points: float | np.ndarray, kind: str, detail: object = None) -> pd.DataFrame:
    """Rows of the deductions table, one per row of `source` (which has unit_id, period and, for
    record-level rows, record_id/source_file/source_sheet/source_row). `rule`, `label`, `detail`:
    one text, a Categorical or an array (see text_column)."""
    n = len(source)

    def taken(column: str) -> object:
        return source[column].reset_index(drop=True) if column in source.columns else None

    data = {
        "unit_id": text_column(taken("unit_id"), n), "period": text_column(taken("period"), n),
        "component": text_column(component, n), "rule": text_column(rule, n),
        "points": pd.array(np.broadcast_to(np.asarray(points, dtype=float), (n,)), dtype="Float64"),
        "record_id": text_column(taken("record_id"), n),
        "source_file": text_column(taken("source_file"), n),
        "source_row": (taken("source_row").astype("Int64").array if "source_row" in source.columns
                       else pd.array([pd.NA] * n, dtype="Int64")),
        "label": text_column(label, n), "kind": text_column(kind, n),
        "detail": text_column(detail if detail is not None else taken("detail"), n),
        "source_sheet": text_column(taken("source_sheet"), n),
    }
    return pd.DataFrame(data)


def finish_lost_points(frame: pd.DataFrame) -> pd.DataFrame:
    """The deductions layout with its dtypes (a no-op for frames from lost_points_frame)."""
    frame = frame.copy(deep=False)  # copy-on-write: the caller's frame is never changed
    for column in DEDUCTION_COLUMNS:
        if column not in frame.columns:
            frame[column] = pd.NA
    for column in TEXT:
        frame[column] = frame[column].astype("string")
    frame["source_row"] = frame["source_row"].astype("Int64")
    frame["points"] = frame["points"].astype("Float64")
    return frame[DEDUCTION_COLUMNS]


def string_join(parts: Sequence[np.ndarray], sep: str = ";") -> np.ndarray:
    """Element-wise join of equally long label arrays, skipping empty labels."""
    if not parts:
        return np.array([], dtype=object)
    joined = np.asarray(parts[0], dtype=object).copy()
    for part in parts[1:]:
        part = np.asarray(part, dtype=object)
        both = (joined != "") & (part != "")
        joined = np.where(both, joined + sep + part, np.where(joined == "", part, joined))
    return joined


def fixed(values: np.ndarray | pd.Series, decimals: int = 2, missing: str = "无数据") -> np.ndarray:
    """Numbers as fixed-point text ('0.80'), `missing` for NaN (labels, not computation)."""
    values = np.asarray(values, dtype=float)
    text = np.char.mod(f"%.{decimals}f", np.nan_to_num(values)).astype(object)
    return np.where(np.isnan(values), missing, text)


def combined_codes(parts: list[tuple[np.ndarray, int]]) -> np.ndarray:
    """One int64 per row, equal exactly when every part's code is equal (parts: (codes in
    [0, size), size)); refactorized whenever the product of sizes would overflow."""
    key, size = parts[0][0].astype(np.int64), max(parts[0][1], 1)
    for codes, count in parts[1:]:
        count = max(count, 1)
        if size * count >= 2**62:
            key, uniques = pd.factorize(key)
            size = max(len(uniques), 1)
        key = key * count + codes
        size *= count
    return key


THREAD_ROWS = 100_000  # `two_at_a_time`: work on fewer rows than this is not worth a thread


def two_at_a_time(function: Callable, items: Sequence, rows: int, least: int | None = None) -> list:
    """[function(item) for item in items], spread over both cores (`cores.each`) when the work
    covers at least `least` rows (`rows`; default THREAD_ROWS): whole-column work (sorting,
    hashing, taking, comparing), for which numpy, pandas and Arrow let go of the GIL. In the
    items' order; the outcome does not depend on the threads as long as each call changes
    nothing it shares."""
    threads = len(items) >= 2 and rows >= (THREAD_ROWS if least is None else least)
    return cores.each(function, items, threads)


try:
    _LIBC = ctypes.CDLL("libc.so.6") if sys.platform.startswith("linux") else None
    _LIBC.malloc_trim  # glibc only (not musl)
except (OSError, AttributeError):
    _LIBC = None


M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
MMAP_THRESHOLD = 4 << 20


_BIG_BLOCKS: list[bool] = []  # whether big_blocks_returned took effect in this process


def big_blocks_returned() -> bool:
    """Have the C allocator (numpy's) map each block of MMAP_THRESHOLD bytes or more on its own,
    and so give it back to the system as soon as it is freed. glibc otherwise raises that
    threshold whenever such a block is freed (up to 32 MiB), after which the arrays of a few
    million rows (12-24 MB) come from its heaps and stay in them when freed; with two threads at
    work, each with a heap of its own, the process's resident peak holds both heaps' high-water
    marks. 5·10^6 rows: peak 2130 -> 2048 MiB, no measurable cost in time.
    Process-wide and lasting: `runner.process` calls it at the start of each run, in whatever
    process runs it (the command line's, the report command's, a test's). True when in effect
    (glibc took the setting); False on other C libraries, where nothing changes."""
    if not _BIG_BLOCKS:
        _BIG_BLOCKS.append(bool(_LIBC is not None and hasattr(_LIBC, "mallopt")
                                and _LIBC.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1))
    return _BIG_BLOCKS[0]


def big_blocks_in_effect() -> bool:
    """Whether big_blocks_returned has taken effect in this process (it changes nothing itself)."""
    return bool(_BIG_BLOCKS and _BIG_BLOCKS[0])


_ARROW_POOL: list[str] = []  # the allocator arrow_allocator chose in this process


def arrow_allocator() -> str:
    """Have Arrow allocate from jemalloc (in pyarrow's Linux and macOS wheels) instead of its
    default, mimalloc, and name the allocator in effect. On Linux jemalloc is also set (in
    pipeline/__init__.py) never to leave freed pages "muzzy" (MADV_FREE: still counted as
    resident until the kernel wants them) but to hand them back outright. Measured on 5·10^6
    records (`process`, alternating runs): Parquet about 0.5 s faster, the kernel's time
    5.4 -> 3.5 CPU-s, peak about 100 MiB lower; CSV about 0.4 s faster, peak about 80 MiB lower.
    Process-wide and lasting, like big_blocks_returned (`runner.process` calls both); an
    ARROW_DEFAULT_MEMORY_POOL the user set wins; without jemalloc, Arrow's default stays."""
    if not _ARROW_POOL:
        if "ARROW_DEFAULT_MEMORY_POOL" not in os.environ:
            try:
                pa.set_memory_pool(pa.jemalloc_memory_pool())
            except NotImplementedError:  # (a build without jemalloc)
                pass
        _ARROW_POOL.append(pa.default_memory_pool().backend_name)
    return _ARROW_POOL[0]


def release_memory() -> None:
    """Hand the memory Arrow's allocator keeps after a stage back to the system. The allocator
    holds freed pages for reuse, so each stage would otherwise start on top of the last one's
    peak; the benchmark's measure is the process's peak resident memory (issue "Performance")."""
    pa.default_memory_pool().release_unused()
    if _LIBC is not None:  # numpy's memory comes from the C allocator, which keeps freed pages too
        _LIBC.malloc_trim(0)
