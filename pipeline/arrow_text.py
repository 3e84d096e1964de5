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

from pipeline import cores

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
    """The column as Arrow text (large_string), without copying a pyarrow-backed `str` column;
    a column of dictionary-encoded text (a Parquet sheet's repeating text) decoded."""
    array = series.array
    if isinstance(array, pd.arrays.ArrowStringArray) or isinstance(getattr(array, "dtype", None), pd.ArrowDtype):
        data = array.__arrow_array__()
        if pa.types.is_dictionary(data.type) and _is_text(data.type.value_type):
            data = data.cast(pa.large_string())
        if _is_text(data.type):
            return data if isinstance(data, pa.ChunkedArray) else pa.chunked_array([data])
    values = pd.array(np.asarray(series, dtype=object), dtype="str")
    return arrow(pd.Series(values))


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_large_string(kind) or pa.types.is_string(kind)


def series(data: pa.Array | pa.ChunkedArray, index: pd.Index) -> pd.Series:
    """Arrow text back as a pandas `str` column with the given index."""
    return pd.Series(pd.array(data, dtype="str"), index=index, copy=False)


def take(data: pa.ChunkedArray, rows: np.ndarray) -> pa.ChunkedArray:
    """data.take(rows), chunk by chunk. Arrow's take of a chunked column first joins its chunks into
    one array, a copy of every text (8 ms per 3·10^6 short texts) however few rows are taken: the
    footer rows and quarantined rows of millions of body rows cost a third of a second that way."""
    rows = np.asarray(rows, dtype=np.int64)
    if data.num_chunks <= 1:
        return data.take(pa.array(rows))
    starts = np.cumsum([0, *(len(chunk) for chunk in data.chunks)])
    which = np.searchsorted(starts, rows, side="right") - 1  # each row's chunk
    order = np.argsort(which, kind="stable")  # the rows grouped by chunk (in order within each)
    grouped, bounds = which[order], np.flatnonzero(np.diff(which[order])) + 1
    pieces = [data.chunk(int(grouped[a])).take(pa.array(rows[order[a:b]] - starts[grouped[a]]))
              for a, b in zip([0, *bounds], [*bounds, len(rows)]) if b > a]
    joined = pa.concat_arrays(pieces) if pieces else pa.array([], data.type)
    if len(order) and (np.diff(order) < 0).any():  # back to the order asked for
        inverse = np.empty_like(order)
        inverse[order] = np.arange(len(order))
        joined = joined.take(pa.array(inverse))
    return pa.chunked_array([joined], data.type)


def blanks(length: int) -> pa.Array:
    """`length` empty strings (large_string): an offsets buffer of zeros and no text."""
    return pa.repeat(pa.scalar("", pa.large_string()), length)


def normalise(data: pa.ChunkedArray) -> pa.ChunkedArray:
    """NFKC, every run of whitespace one space, ends trimmed (pipeline.parse.normalise_text).

    Each step runs only on the values it can change (ASCII text is its own NFKC form, and
    Arrow's trimming removes only characters Python counts as whitespace): a column of ids,
    dates or numbers comes back as it is, no copy of its millions of values made."""
    text = nfkc(pc.fill_null(data, ""))
    return _where(text, pa.array(_may_hold_whitespace(text)), lambda values: pc.utf8_trim_whitespace(
        pc.replace_substring_regex(values, WHITESPACE_CLASS + "+", " ")))


def without_whitespace(data: pa.ChunkedArray) -> pa.ChunkedArray:
    """Every whitespace character removed (`"".join(text.split())`)."""
    return _where(data, pa.array(_may_hold_whitespace(data)),
                  lambda values: pc.replace_substring_regex(values, WHITESPACE_CLASS, ""))


# The first UTF-8 byte of every whitespace character: ASCII ones up to _WHITESPACE_ASCII, the
# others between the two lead bytes of _WHITESPACE_LEADS (continuation bytes lie below both).
_FIRST_BYTES = sorted({c.encode()[0] for c in WHITESPACE})
_WHITESPACE_ASCII = max(b for b in _FIRST_BYTES if b < 0x80)
_WHITESPACE_LEADS = (min(b for b in _FIRST_BYTES if b >= 0x80), max(_FIRST_BYTES))


def nonblank(data: pa.ChunkedArray) -> np.ndarray:
    """Boolean numpy mask: the value is not empty once `utf8_trim_whitespace` trims it (NA counts
    as not empty). Only the values holding a whitespace byte are trimmed."""
    found = pc.fill_null(pc.greater(pc.binary_length(data), 0), True).to_numpy(zero_copy_only=False)
    spaced = np.flatnonzero(found & _may_hold_whitespace(data))
    if len(spaced):
        trimmed = pc.utf8_trim_whitespace(data.take(pa.array(spaced)))
        found[spaced] = pc.fill_null(pc.not_equal(trimmed, ""), True).to_numpy(zero_copy_only=False)
    return found


def _may_hold_whitespace(data: pa.ChunkedArray) -> np.ndarray:
    """A boolean mask true on every value holding a whitespace character (and on a few others): the
    values the whitespace regex needs to run on. A byte comparison over the text buffer costs
    a tenth of the regex's search, and ids, dates and numbers hold no such byte at all."""
    low, high = _WHITESPACE_LEADS
    return _byte_hits(data, lambda raw: (raw <= _WHITESPACE_ASCII) | ((raw >= low) & (raw <= high)))


def upper_without_spaces(data: pa.ChunkedArray) -> pa.ChunkedArray:
    """Every value upper-cased (Arrow's `utf8_upper`) and without spaces, worked out only for the
    values that can change: those holding a space, a lowercase ASCII letter or any non-ASCII
    character."""
    changeable = _byte_hits(data, lambda raw: ((raw >= ord("a")) & (raw <= ord("z"))) | (raw == ord(" ")) | (raw >= 0x80))
    return _where(data, pa.array(changeable), lambda values: pc.replace_substring(pc.utf8_upper(values), " ", ""))


_MIX = np.uint64(0x9E3779B97F4A7C15)  # (2^64 / golden ratio: a multiplier that spreads the bits)
FINGERPRINT_ROWS = 1 << 16  # values whose bytes are gathered at a time


def fingerprints(data: pa.ChunkedArray) -> np.ndarray:
    """A 64-bit number per value (uint64; 0 for NA), equal for equal values: values with different
    numbers differ, and only values sharing one need comparing. Hashing millions of barely
    repeating texts (ids) by their bytes, 8 at a time, costs a tenth of a dictionary encoding."""
    parts = []
    for chunk in data.chunks:
        found = np.zeros(len(chunk), dtype=np.uint64)
        buffers = _text_buffers(chunk)
        if buffers is not None:
            offsets, raw = buffers
            offsets = offsets.astype(np.int64)
            lengths = np.diff(offsets)
            counts = np.bincount(lengths)
            if np.count_nonzero(counts) == 1:  # one length (ids): the buffer is a values x bytes matrix
                matrix = raw[offsets[0]:offsets[-1]].reshape(len(chunk), int(lengths[0]))
                for first in range(0, len(chunk), FINGERPRINT_ROWS):
                    found[first:first + FINGERPRINT_ROWS] = _fingerprint_block(matrix[first:first + FINGERPRINT_ROWS])
            else:
                order, start = np.argsort(lengths, kind="stable"), 0
                for length in np.flatnonzero(counts):  # the values of one length together
                    rows = order[start:start + counts[length]]
                    start += counts[length]
                    for first in range(0, len(rows), FINGERPRINT_ROWS):
                        block = rows[first:first + FINGERPRINT_ROWS]
                        found[block] = _fingerprint_block(raw[offsets[block][:, None] + np.arange(length)])
            found[~pc.is_valid(chunk).to_numpy(zero_copy_only=False)] = 0
        parts.append(found)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint64)


def _fingerprint_block(values: np.ndarray) -> np.ndarray:
    """Fingerprints of values of one length, given as a values x bytes matrix (uint8)."""
    count, length = values.shape
    padded = np.zeros((count, (length + 7) // 8 * 8), dtype=np.uint8)
    padded[:, :length] = values
    words = padded.view(np.uint64)
    mixed = np.full(count, length, dtype=np.uint64) * _MIX
    for column in range(words.shape[1]):
        mixed ^= words[:, column]
        mixed *= _MIX
        mixed ^= mixed >> np.uint64(29)
    return mixed


BYTE_BLOCK = 1 << 20  # bytes tested at a time (_byte_hits): its temporaries stay small


def _text_buffers(chunk: pa.Array) -> tuple[np.ndarray, np.ndarray] | None:
    """A string chunk's value offsets (len + 1, into the bytes) and its UTF-8 bytes (uint8), as
    numpy views without copying; None when the chunk holds no bytes at all."""
    _, offsets, text = chunk.buffers()
    if not len(chunk) or text is None:
        return None
    width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    return (np.frombuffer(offsets, dtype=width)[chunk.offset:chunk.offset + len(chunk) + 1],
            np.frombuffer(text, dtype=np.uint8))


def _byte_hits(data: pa.ChunkedArray, test) -> np.ndarray:
    """Boolean numpy mask: some byte of the value passes `test` (uint8 array -> bool array)."""
    masks = []
    for chunk in data.chunks:
        found = np.zeros(len(chunk), dtype=bool)
        buffers = _text_buffers(chunk)
        if buffers is not None:
            offsets, raw = buffers
            for start in range(int(offsets[0]), int(offsets[-1]), BYTE_BLOCK):
                hits = np.flatnonzero(test(raw[start:min(start + BYTE_BLOCK, int(offsets[-1]))])) + start
                found[np.searchsorted(offsets, hits, side="right") - 1] = True
        masks.append(found)
    return np.concatenate(masks) if masks else np.zeros(0, dtype=bool)


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
    candidates = pc.fill_null(match_regex(data, prefilter), False)
    if not pc.any(candidates).as_py():
        return data
    changed = []
    for value in pc.filter(data, candidates).to_pylist():
        for pattern in patterns:
            value = pattern.sub(replacement, value)
        changed.append(value)
    return _replace_where(data, candidates, changed)


def ascii_mask(data: pa.ChunkedArray) -> np.ndarray:
    """Boolean numpy mask: the value is ASCII text (NA counts as ASCII: it holds no character)."""
    return pc.fill_null(pc.string_is_ascii(data), True).to_numpy(zero_copy_only=False)


def contains(data: pa.ChunkedArray, literal: str) -> np.ndarray:
    """Boolean numpy mask: the value holds `literal` (NA does not). A literal that is not ASCII is
    looked for in the values that are not ASCII only (ids, dates and numbers are skipped)."""
    if literal.isascii():
        return pc.fill_null(pc.match_substring(data, literal), False).to_numpy(zero_copy_only=False)
    found = ~ascii_mask(data)
    if found.any():
        rows = np.flatnonzero(found)
        found[rows] = pc.fill_null(pc.match_substring(data.take(rows), literal), False).to_numpy(zero_copy_only=False)
    return found


PARALLEL_FROM = 100_000  # values from which match_regex searches on two threads


def match_regex(data: pa.ChunkedArray, pattern: str) -> pa.ChunkedArray:
    """`pc.match_substring_regex`, a long column's two halves searched on the free cores. RE2's
    search is the costliest step over a column of ids (each value is searched, none repeats),
    and Arrow's kernels release the GIL; the threads make only the bit-packed result, so they
    leave no memory of theirs behind."""
    if len(data) < PARALLEL_FROM:
        return pc.match_substring_regex(data, pattern)
    half = len(data) // 2
    parts = cores.each(lambda part: pc.match_substring_regex(part, pattern), [data[:half], data[half:]])
    return pa.chunked_array([*parts[0].chunks, *parts[1].chunks], type=pa.bool_())


def nfkc(data: pa.ChunkedArray) -> pa.ChunkedArray:
    """Unicode NFKC of the values; ASCII text is its own NFKC form and is left as it is."""
    return where_not_ascii(data, lambda values: pc.utf8_normalize(values, "NFKC"))


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
