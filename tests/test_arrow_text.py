"""The Arrow text helpers give exactly what the Python they stand for gives, on every path."""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from pipeline import arrow_text

SAMPLES = ["", "abc", "  a  b ", "a\tb", "x\u3000y", "\u00a0lead", "trail\u2028", "ＡＢＣ １２", "注：说明", "中文 名称",
           "mixed\u200bzero", "JC2020-000000001", "a\x1cb", "\u1680", "ß", None]


def chunked(values, size=3, type=pa.large_string()):
    """The values as a chunked array of small, sliced chunks (offsets not starting at 0)."""
    padded = pa.array(["pad", *values], type=type).slice(1)
    return pa.chunked_array([padded.slice(i, size) for i in range(0, len(values), size)], type=type)


@pytest.mark.parametrize("type", [pa.large_string(), pa.string()])
def test_normalise_is_python_nfkc_whitespace_collapsed_and_stripped(type):
    import unicodedata
    expected = [" ".join(unicodedata.normalize("NFKC", v or "").split()) for v in SAMPLES]
    assert arrow_text.normalise(chunked(SAMPLES, type=type)).to_pylist() == expected


def test_whitespace_mask_holds_every_value_with_whitespace():
    values = [f"a{chr(c)}b" for c in range(0x3001)] + ["plain", "中文", "企业名称"]
    mask = arrow_text._may_hold_whitespace(chunked(values, size=1000))
    spaced = np.array([any(c.isspace() for c in v) for v in values])
    assert mask[spaced].all()
    assert not mask[-3:].any()  # text without such a byte is left alone


def test_arrow_trims_only_what_python_counts_as_whitespace():
    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000]
    ends = pa.array([f"x{c}" for c in chars] + [f"{c}x" for c in chars], type=pa.large_string())
    changed = pc.not_equal(pc.utf8_trim_whitespace(ends), ends).to_numpy(zero_copy_only=False)
    assert all((chars * 2)[i].isspace() for i in np.flatnonzero(changed))


def test_contains_and_ascii_mask():
    data = chunked(["[已脱敏]x", "abc", None, "中[已脱敏]", "已脱敏", "xabcx"])
    assert arrow_text.contains(data, "[已脱敏]").tolist() == [True, False, False, True, False, False]
    assert arrow_text.contains(data, "abc").tolist() == [False, True, False, False, False, True]
    assert arrow_text.ascii_mask(data).tolist() == [False, True, True, False, False, True]


def test_match_regex_on_two_threads_equals_one_search(monkeypatch):
    data = chunked([f"id{i:05d}" if i % 7 else f"tel 1381234{i:04d}" for i in range(2000)], size=300)
    expected = pc.match_substring_regex(data, r"1[3-9]\d{9}").to_pylist()
    monkeypatch.setattr(arrow_text, "PARALLEL_FROM", 10)
    assert arrow_text.match_regex(data, r"1[3-9]\d{9}").to_pylist() == expected


def test_upper_without_spaces_equals_doing_it_to_every_value():
    data = chunked(["yh-1", "YH- 1", "YH-2", "ß x", "ǆ", "", None, "中文 ａ"])
    expected = pc.replace_substring(pc.utf8_upper(data), " ", "").to_pylist()
    assert arrow_text.upper_without_spaces(data).to_pylist() == expected
    assert expected[:3] == ["YH-1", "YH-1", "YH-2"]


@pytest.mark.parametrize("type", [pa.large_string(), pa.string()])
def test_fingerprints_are_equal_for_equal_values(monkeypatch, type):
    monkeypatch.setattr(arrow_text, "FINGERPRINT_ROWS", 4)  # several blocks per length
    values = [f"ID-{i % 37:06d}" for i in range(200)] + ["", "a", "ab", "中文", "中文", None, "a" * 9, "a" * 9 + "b"]
    prints = arrow_text.fingerprints(chunked(values, size=23, type=type))
    by_value: dict = {}
    for value, print_ in zip(values, prints.tolist()):
        by_value.setdefault(value, set()).add(print_)
    assert all(len(p) == 1 for p in by_value.values())  # equal values, one fingerprint
    distinct = [p.pop() for v, p in by_value.items() if v is not None]
    assert len(set(distinct)) == len(distinct)  # (no collision among these few)
    uniform = chunked([f"JC2020-{i:09d}" for i in range(100)], size=40, type=type)  # one length: the matrix path
    assert len(set(arrow_text.fingerprints(uniform).tolist())) == 100


def test_nonblank_is_strip_then_not_empty():
    import pandas as pd

    from pipeline import parse

    values = pd.Series(["", " ", "a", " a ", "\u3000", None, "\t\n", "x y", "中文", "\u00a0", "ＡＢ"], dtype="str")
    assert parse.nonblank(values).tolist() == parse.strip_text(values).ne("").to_numpy(dtype=bool).tolist()


def test_rows_taken_chunk_by_chunk_are_those_taken_from_the_joined_column():
    """arrow_text.take equals a take from the column joined into one array: empty chunks, nulls,
    repeated and unordered rows, no rows."""
    rng = np.random.default_rng(4)
    sizes = [0, 5, 1000, 0, 300, 1]
    chunks = [pa.array([f"x{j}-{i}" if i % 7 else None for i in range(n)], pa.large_string()) for j, n in enumerate(sizes)]
    data = pa.chunked_array(chunks, pa.large_string())
    whole = data.combine_chunks()
    n = len(data)
    for rows in ([], [0], [n - 1], list(range(n)), rng.integers(0, n, 500), np.sort(rng.integers(0, n, 50)),
                 [n - 1, 0, 4, 4, 1000]):
        rows = np.asarray(rows, dtype=np.int64)
        taken = arrow_text.take(data, rows)
        assert taken.type == pa.large_string() and taken.combine_chunks().equals(whole.take(pa.array(rows)))
    assert arrow_text.take(pa.chunked_array([whole]), np.array([3, 1])).to_pylist() == whole.take(pa.array([3, 1])).to_pylist()


def test_a_column_of_dictionary_encoded_text_is_read_as_its_text():
    """`arrow` of a column held as dictionary chunks (a Parquet sheet's repeating text, each chunk
    with its own dictionary) is the decoded text, chunk for chunk; plain text comes back uncopied."""
    import pandas as pd

    kind = pa.dictionary(pa.int32(), pa.large_string())
    chunks = [pa.array(["甲", "乙", "甲"]).dictionary_encode().cast(kind), pa.array(["丙", "甲"]).dictionary_encode().cast(kind)]
    column = pd.Series(pd.arrays.ArrowExtensionArray(pa.chunked_array(chunks, kind)))
    text = arrow_text.arrow(column)
    assert text.type == pa.large_string() and text.to_pylist() == ["甲", "乙", "甲", "丙", "甲"]
    plain = pd.Series(["a", "b"], dtype="str")
    assert arrow_text.arrow(plain).chunk(0).buffers()[2].address == plain.array.__arrow_array__().chunk(0).buffers()[2].address
