"""Text operations on whole columns with pyarrow.compute, giving exactly Python's results.

pandas runs regex `str.replace`, `str.normalize` and `str.casefold` on its pyarrow strings one
element at a time in Python; on millions of cells that dominates cleaning. These helpers do the
same work in Arrow's C++ kernels and keep Python's semantics where the two differ:
- `\\s` and `str.split()` mean Python's whitespace (`str.isspace`), spelled out for RE2;
- `casefold` uses Arrow's lowercasing except on the rare values holding a character whose
  Python case-folding differs from it (ß, ς, Cherokee …), which are folded by Python;
- a Python regex with look-arounds (RE2 has none) runs only on the values an RE2 pattern that
  matches a superset of them selects (`sub_where`).
NFKC is Arrow's utf8proc; it agrees with Python's unicodedata on every character both know.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# Python's whitespace: what `\s`, str.split() and str.isspace() mean (none lies above U+3000).
WHITESPACE = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())
WHITESPACE_CLASS = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in WHITESPACE) + "]"
# Characters whose str.casefold() differs from Arrow's utf8_lower (tests/test_arrow_text.py
# recomputes this over every code point).
CASEFOLD_SPECIAL = (
    "[\\x{b5}\\x{df}\\x{130}\\x{149}\\x{17f}\\x{1f0}\\x{345}\\x{390}\\x{3b0}\\x{3c2}\\x{3d0}-\\x{3d1}"
    "\\x{3d5}-\\x{3d6}\\x{3f0}-\\x{3f1}\\x{3f5}\\x{587}\\x{13a0}-\\x{13f5}\\x{13f8}-\\x{13fd}\\x{1c80}-\\x{1c89}"
    "\\x{1e96}-\\x{1e9b}\\x{1e9e}\\x{1f50}\\x{1f52}\\x{1f54}\\x{1f56}\\x{1f80}-\\x{1faf}\\x{1fb2}-\\x{1fb4}"
    "\\x{1fb6}-\\x{1fb7}\\x{1fbc}\\x{1fbe}\\x{1fc2}-\\x{1fc4}\\x{1fc6}-\\x{1fc7}\\x{1fcc}\\x{1fd2}-\\x{1fd3}"
    "\\x{1fd6}-\\x{1fd7}\\x{1fe2}-\\x{1fe4}\\x{1fe6}-\\x{1fe7}\\x{1ff2}-\\x{1ff4}\\x{1ff6}-\\x{1ff7}\\x{1ffc}"
    "\\x{a7cb}-\\x{a7cc}\\x{a7ce}\\x{a7d2}\\x{a7d4}\\x{a7da}\\x{a7dc}-\\x{a7dd}\\x{a7e2}\\x{ab6c}-\\x{ab6d}"
    "\\x{ab70}-\\x{abbf}\\x{fb00}-\\x{fb06}\\x{fb13}-\\x{fb17}\\x{10d50}-\\x{10d65}\\x{16ea0}-\\x{16eb8}"
    "\\x{1df40}\\x{1df48}\\x{1df4a}\\x{1df4d}\\x{1df51}\\x{1df68}\\x{1df6a}\\x{1df6c}\\x{1df6e}\\x{1df72}"
    "\\x{1df74}\\x{1df76}\\x{1df78}\\x{1df7a}\\x{1df7c}\\x{1df7e}]"
)
# Python's `\d` in a str pattern is any decimal digit (category Nd), as RE2's \p{Nd}.
DIGIT = "\\p{Nd}"


def arrow(series: pd.Series) -> pa.ChunkedArray:
    """The column as Arrow text (large_string), without copying a pyarrow-backed `str` column."""
    array = series.array
    if isinstance(array, pd.arrays.ArrowStringArray) or isinstance(getattr(array, "dtype", None), pd.ArrowDtype):
        data = array.__arrow_array__()
        if pa.types.is_large_string(data.type) or pa.types.is_string(data.type):
            return data if isinstance(data, pa.ChunkedArray) else pa.chunked_array([data])
    values = pd.array(np.asarray(series, dtype=object), dtype="str")
    return arrow(pd.Series(values))


def series(data: pa.Array | pa.ChunkedArray, index: pd.Index) -> pd.Series:
    """Arrow text back as a pandas `str` column with the given index."""
    return pd.Series(pd.array(data, dtype="str"), index=index, copy=False)


def normalise(data: pa.ChunkedArray) -> pa.ChunkedArray:
    """NFKC, every run of whitespace one space, ends trimmed (pipeline.parse.normalise_text)."""
    text = pc.utf8_normalize(pc.fill_null(data, ""), "NFKC")
    text = _where(text, pc.match_substring_regex(text, WHITESPACE_CLASS),
                  lambda values: pc.replace_substring_regex(values, WHITESPACE_CLASS + "+", " "))
    return pc.utf8_trim_whitespace(text)


def without_whitespace(data: pa.ChunkedArray) -> pa.ChunkedArray:
    """Every whitespace character removed (`"".join(text.split())`)."""
    return _where(data, pc.match_substring_regex(data, WHITESPACE_CLASS),
                  lambda values: pc.replace_substring_regex(values, WHITESPACE_CLASS, ""))


def casefold(data: pa.ChunkedArray) -> pa.ChunkedArray:
    """str.casefold() of every value (NA stays NA)."""
    lowered = pc.utf8_lower(data)
    if pc.all(pc.fill_null(pc.string_is_ascii(data), True)).as_py():
        return lowered
    special = pc.fill_null(pc.match_substring_regex(data, CASEFOLD_SPECIAL), False)
    if not pc.any(special).as_py():
        return lowered
    return _replace_where(lowered, special, [v.casefold() for v in pc.filter(data, special).to_pylist()])


def sub_where(data: pa.ChunkedArray, prefilter: str, patterns, replacement: str) -> pa.ChunkedArray:
    """`pattern.sub(replacement, value)` for every value (each pattern in turn, when several),
    running Python's regex only on the values matching the RE2 `prefilter`, which must match every
    value any of the patterns can match."""
    patterns = [patterns] if isinstance(patterns, re.Pattern) else list(patterns)
    candidates = pc.fill_null(pc.match_substring_regex(data, prefilter), False)
    if not pc.any(candidates).as_py():
        return data
    changed = []
    for value in pc.filter(data, candidates).to_pylist():
        for pattern in patterns:
            value = pattern.sub(replacement, value)
        changed.append(value)
    return _replace_where(data, candidates, changed)


def where_not_ascii(data: pa.ChunkedArray, function) -> pa.ChunkedArray:
    """`function` (Arrow text -> Arrow text) applied to the non-ASCII values only, for functions
    that leave ASCII text as it is (NFKC): ids, dates and numbers skip the work."""
    return _where(data, pc.invert(pc.string_is_ascii(data)), function)


def _where(data: pa.ChunkedArray, mask, function) -> pa.ChunkedArray:
    """`function` (Arrow text -> Arrow text) applied to the values where `mask` is true only
    (matching regexes cost less than rewriting every value); NA in the mask counts as false."""
    mask = pc.fill_null(mask, False)
    if not pc.any(mask).as_py():
        return data
    return _replace_where(data, mask, function(pc.filter(data, mask)))


def _replace_where(data: pa.ChunkedArray, mask: pa.ChunkedArray, values) -> pa.ChunkedArray:
    combined = data.combine_chunks() if isinstance(data, pa.ChunkedArray) else data
    mask = mask.combine_chunks() if isinstance(mask, pa.ChunkedArray) else mask
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    elif not isinstance(values, pa.Array):
        values = pa.array(values, type=combined.type)
    return pa.chunked_array([pc.replace_with_mask(combined, mask, values.cast(combined.type))])


def is_in(data: pa.ChunkedArray, values) -> np.ndarray:
    """Boolean numpy mask: value in `values` (NA is not)."""
    found = pc.is_in(data, value_set=pa.array(sorted(values), type=data.type))
    return pc.fill_null(found, False).to_numpy(zero_copy_only=False)
