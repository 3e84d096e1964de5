"""The integer keys the batch-level duplicate check compares (pipeline.finalize)."""

import numpy as np
import pandas as pd
import pytest

from pipeline import config, finalize
from pipeline.frames import combined_codes
from pipeline.ingest_rules import load_ingest_rules

RULES = load_ingest_rules(config.INGEST_RULES)


def test_repeated_keys_are_found_whatever_their_range():
    rng = np.random.default_rng(1)
    for high in (10, 1_000, 2**40, 2**62):
        keys = rng.integers(0, high, 5_000, dtype=np.int64)
        keys[:50] = keys[50:100]  # some certain repeats
        expected = pd.Series(keys).duplicated(keep=False).to_numpy()
        assert (finalize._repeated(keys) == expected).all()
    distinct = rng.choice(2**40, 5_000, replace=False).astype(np.uint64)
    assert not finalize._repeated(distinct).any()  # all different (fingerprints of ids): settled by the sort


def test_combined_keys_are_equal_exactly_when_every_part_is():
    rng = np.random.default_rng(2)
    parts = [(rng.integers(0, size, 2_000), size) for size in (3, 2**31, 2**31, 7)]
    key = combined_codes(parts)
    pairs = pd.DataFrame({i: codes for i, (codes, _) in enumerate(parts)})
    assert (pd.Series(key).duplicated(keep=False).to_numpy() == pairs.duplicated(keep=False).to_numpy()).all()


def test_sort_codes_follow_sort_values_with_na_last():
    text = pd.Series(["b"] * 40 + [None] * 20 + ["a"] * 40, dtype="str")  # long runs: coded per run
    rows = pd.Series([3, 1, 2] * 33 + [0], dtype="Int64")
    for column in (text, rows, text.sample(frac=1, random_state=0).reset_index(drop=True)):
        codes = finalize._sort_codes(column)
        assert (np.argsort(codes, kind="stable") == column.sort_values(kind="stable").index.to_numpy()).all()


def hazards(ids: list[str | None], sheets: list[str]) -> pd.DataFrame:
    n = len(ids)
    return pd.DataFrame({
        "hazard_id": pd.Series(ids, dtype="str"), "unit": "东湖办事处", "enterprise": pd.Series([f"企业{i}" for i in range(n)], dtype="str"),
        "found_at": pd.Timestamp("2020-01-02"), "deadline": pd.Timestamp("2020-01-20"), "rectified_at": pd.NaT,
        "level": "一般", "supervised": pd.array([False] * n, dtype="boolean"), "source": "部门检查", "unit_id": "T01",
        "source_file": pd.Series(sheets, dtype="str"), "source_sheet": "Sheet1",
        "source_row": pd.Series(range(4, 4 + n), dtype="Int64"), "_title_period": "",
    }).astype({"unit": "str", "level": "str", "source": "str", "unit_id": "str", "source_sheet": "str", "_title_period": "str"})


@pytest.mark.parametrize("colliding", [False, True])
def test_ids_equal_once_upper_cased_without_spaces_are_one_record_the_latest_wins(monkeypatch, colliding):
    if colliding:  # ids whose fingerprints collide are told apart by their text
        monkeypatch.setattr(finalize.arrow_text, "fingerprints", lambda data: np.zeros(len(data), dtype=np.uint64))
    frame = hazards(["yh-1", "YH-2", "YH- 1", "[已脱敏]", "[已脱敏]", None, "YH-2"],
                    ["a.xlsx", "a.xlsx", "b.xlsx", "a.xlsx", "b.xlsx", "b.xlsx", "c.xlsx"])
    kept, issues = finalize.drop_duplicates("hazards", frame, RULES)
    assert kept["hazard_id"].tolist()[:3] == ["YH- 1", "[已脱敏]", "[已脱敏]"]  # scrubbed ids identify nothing
    assert issues["source_file"].tolist() == ["a.xlsx", "a.xlsx"]
    assert issues["reason"].str.endswith(("保留 b.xlsx Sheet1 第6行", "保留 c.xlsx Sheet1 第10行")).all()


def test_each_losing_row_keeps_its_own_reason_whichever_check_found_it():
    """Rows lost to the id check come after rows lost to the natural-key check in the frame, and
    the reverse in the order the checks run: each issue row carries the reason of its own check."""
    frame = hazards([None, None, "YH-7", "YH-8", "YH-7"], ["a.xlsx", "b.xlsx", "a.xlsx", "a.xlsx", "c.xlsx"])
    frame["enterprise"] = pd.Series(["同一企业", "同一企业", "企业2", "企业3", "企业4"], dtype="str")
    kept, issues = finalize.drop_duplicates("hazards", frame, RULES)
    assert kept["source_row"].tolist() == [5, 7, 8]
    assert issues["source_row"].tolist() == [4, 6]
    first, second = issues["reason"].tolist()
    assert "(same record in another file or sheet)" in first and first.endswith("保留 b.xlsx Sheet1 第5行")
    assert "(duplicate id)" in second and second.endswith("保留 c.xlsx Sheet1 第8行")


def test_codes_are_narrow_and_na_is_a_code_of_its_own():
    codes, missing, size = finalize._codes(pd.Series(["b", None, "a", "b", None], dtype="str"))
    assert codes.dtype == np.int32 and size == 3
    assert codes.tolist() == [0, 2, 1, 0, 2] and missing.tolist() == [False, True, False, False, True]
    assert finalize._narrowest(2**31 - 1) is np.int32 and finalize._narrowest(2**31) is np.int64


def test_a_row_failing_the_schema_is_quarantined_and_the_frame_checked_in_place_is_unchanged():
    frame = hazards(["H1", "H2", "H3"], ["a.xlsx"] * 3)
    frame["overdue"] = pd.array([False, True, False], dtype="boolean")
    frame["level"] = pd.Series(["一般", "特大", "重大"], dtype="str")  # 特大: not a hazard level
    before = frame.copy()
    kept, issues = finalize.validate("hazards", frame)
    columns = finalize.columns_of(finalize.CLEAN_MODELS["hazards"])
    # the rows that pass come out as they went in (pandera checked them where they are)
    pd.testing.assert_frame_equal(kept, before[columns].iloc[[0, 2]].reset_index(drop=True), check_exact=True)
    assert issues[["source_file", "source_row", "table"]].values.tolist() == [["a.xlsx", 5, "hazards"]]
    assert issues["column"].tolist() == ["level"] and issues["raw_value"].tolist() == ["特大"]
    assert issues["reason"].iloc[0].startswith("未通过校验(schema check failed): isin")
    ok, none = finalize.validate("hazards", frame.loc[frame["level"] != "特大"])
    assert len(ok) == 2 and none.empty


def test_the_same_record_in_several_files_is_kept_from_the_last_file_it_is_in():
    """Random hazards without ids in three files, natural keys repeating within and across
    files: exactly the rows of each key outside the key's last file (in submission order) go."""
    rng = np.random.default_rng(11)
    n = 600
    files = np.sort(rng.choice(["a.xlsx", "b.xlsx", "c.xlsx"], n))  # submission order: by file
    frame = hazards([None] * n, list(files))
    frame["enterprise"] = pd.Series([f"企业{i}" for i in rng.integers(0, 40, n)], dtype="str")
    frame["found_at"] = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 3, n), unit="D")
    frame["rectified_at"] = pd.Timestamp("2020-02-01") + pd.to_timedelta(np.arange(n), unit="min")  # no identical rows
    kept, issues = finalize.drop_duplicates("hazards", frame, RULES)
    key = frame["enterprise"] + frame["found_at"].astype("str")
    last_file = pd.Series(files).groupby(key.to_numpy()).transform("last").to_numpy()
    expected_lost = frame.loc[files != last_file, "source_row"].tolist()
    assert sorted(issues["source_row"].tolist()) == expected_lost and 0 < len(expected_lost) < n
    assert len(kept) + len(issues) == n
    # each names the key's first row in that last file as the one kept
    rows = frame.assign(_key=key.to_numpy(), _last=last_file)
    winner = rows.loc[rows["source_file"] == rows["_last"]].groupby("_key")[["source_file", "source_row"]].first()
    lost = rows.set_index("source_row").loc[issues["source_row"].tolist(), "_key"]
    expected = ("重复提交:属地单位、企业名称、发现日期、隐患等级、整改期限相同(same record in another file or sheet),保留 "
                + winner.loc[lost, "source_file"] + " Sheet1 第" + winner.loc[lost, "source_row"].astype(str) + "行")
    assert issues["reason"].tolist() == expected.tolist()


def test_stable_order_is_numpys_stable_argsort_on_either_side_of_the_packing_limit():
    """Keys and positions are packed into one int64 (key << bits | position) only while the key
    stays below 2**(63 - bits); wider or negative keys take numpy's argsort."""
    rng = np.random.default_rng(5)
    n = 5_000  # positions take 13 bits: keys below 2**50 are packed
    assert max(n - 1, 1).bit_length() == 13
    for low, high in ((0, 7), (0, 2**50 - 1), (0, 2**50), (-3, 4), (0, 2**62)):
        keys = rng.integers(low, high, n, dtype=np.int64, endpoint=True)
        keys[:40] = keys[40:80]  # ties, kept in row order
        keys[-1] = high  # the widest key of the range is there
        assert (finalize._stable_order(keys) == np.argsort(keys, kind="stable")).all()
    assert finalize._packable(np.array([2**50 - 1] * n)) and not finalize._packable(np.array([2**50] * n))
    assert not finalize._packable(np.array([-1, 0])) and not finalize._packable(np.array([], dtype=np.int64))


def test_the_schema_checking_in_place_is_the_models_made_strict():
    import warnings

    from pipeline.schemas import CLEAN_MODELS, checking_schema

    for model in CLEAN_MODELS.values():
        strict, own = checking_schema(model), model.to_schema()
        assert strict.strict is True and own.strict == "filter"
        assert list(strict.columns) == list(own.columns)
        assert [repr(c) for c in strict.columns.values()] == [repr(c) for c in own.columns.values()]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (strict="filter" in place would warn: deprecated)
        frame = hazards(["H1"], ["a.xlsx"]).assign(overdue=pd.array([False], dtype="boolean"))
        assert finalize.validate("hazards", frame)[1].empty


def test_a_table_validated_in_halves_or_without_overdue_gives_what_checking_it_whole_gives(monkeypatch):
    """Big tables are validated in two halves of rows (VALIDATE_HALVES_ROWS); hazards are
    validated without `overdue`, which is marked after (finalize): both give the rows and
    quarantine that validating the whole marked table gives, bad rows in either half."""
    from pipeline import cores

    monkeypatch.setattr(cores, "LIMIT", 2)
    n = 40
    frame = hazards([f"H{i}" for i in range(n)], ["a.xlsx"] * n)
    frame["deadline"] = pd.Timestamp("2020-01-10") + pd.to_timedelta(np.arange(n) % 30, unit="D")
    frame["rectified_at"] = frame["deadline"] + pd.to_timedelta(np.arange(n) % 5 - 2, unit="D")
    levels = np.array(["一般", "重大", "特大", "一般"] * 10, dtype=object)  # 特大: not a hazard level
    levels[[1, 37]] = "特大"
    frame["level"] = pd.Series(levels, dtype="str")
    as_of = pd.Timestamp("2020-01-31")
    whole = finalize.validate("hazards", finalize.mark_overdue(frame, as_of))
    assert len(whole[1]) == 12 and whole[1]["source_row"].min() < n // 2 + 4 < whole[1]["source_row"].max()
    monkeypatch.setattr(finalize, "VALIDATE_HALVES_ROWS", 1)
    halves = finalize.validate("hazards", finalize.mark_overdue(frame, as_of))
    kept, issues = finalize.validate("hazards", frame, ("overdue",))
    assert "overdue" not in kept
    later = (finalize.mark_overdue(kept, as_of), issues)
    for kept, issues in (halves, later):
        pd.testing.assert_frame_equal(kept, whole[0], check_exact=True)
        pd.testing.assert_frame_equal(issues, whole[1], check_exact=True)


def test_the_latest_month_is_settled_once_the_tables_not_done_cannot_go_past_it():
    """Hazards are marked `overdue` as of the end of every table's latest month: as soon as the
    tables done give that month and each other table's bound (its latest date before duplicates
    go) lies within it; not while a bound is missing or later."""
    dated = {"hazards", "enforcement"}
    done = {"hazards": pd.Timestamp("2020-12-03")}
    december = pd.Timestamp("2020-12-31")
    settled = finalize._settled_month_end
    assert settled(done, {"enforcement": pd.Timestamp("2020-12-31 18:00")}, dated) == (december,)
    assert settled(done, {"enforcement": pd.Timestamp("2021-01-01")}, dated) is None
    assert settled(done, {}, dated) is None  # (enforcement not period-checked yet)
    assert settled(done, {"enforcement": pd.NaT}, dated) == (december,)  # (no dates at all)
    assert settled({"hazards": pd.NaT}, {"enforcement": pd.Timestamp("2020-01-01")}, dated) is None
    assert settled({"hazards": pd.NaT, "enforcement": pd.NaT}, {}, dated) == (None,)
    assert settled({**done, "enforcement": pd.Timestamp("2021-02-01")}, {}, dated) == (pd.Timestamp("2021-02-28"),)


def _batch_results(hazard_deadline: str, inspected: str):
    from pipeline.clean import SheetResult, empty_issues
    from tests import factories

    n = 30
    found = hazards([f"H{i}" for i in range(n)], ["h.xlsx"] * n)
    found["deadline"] = pd.Timestamp(hazard_deadline)
    checks = factories.enforcement(*({"inspected_at": inspected} for _ in range(2 * n))).assign(_title_period="")
    checks["_title_period"] = checks["_title_period"].astype("str")
    return [SheetResult(source, data, empty_issues(), empty_issues()) for source, data in (("hazards", found), ("enforcement", checks))]


@pytest.mark.parametrize("inspected, overdue", [("2020-01-15", False), ("2020-02-15", True)])
def test_each_clean_table_is_published_once_as_returned_hazards_as_of_every_tables_latest_month(monkeypatch, inspected, overdue):
    """A hazard due on 10 February and still open is overdue only if some table has data in
    February (its inspections here); the frames published are the ones returned."""
    from pipeline import cores

    monkeypatch.setattr(cores, "LIMIT", 2)
    monkeypatch.setattr(finalize, "THREAD_ROWS", 1)
    published = []
    tables, _, _ = finalize.finalize(_batch_results("2020-02-10", inspected), RULES, lambda *pair: published.append(pair))
    assert sorted(name for name, _ in published) == sorted(tables)
    assert all(frame is tables[name] for name, frame in published)
    assert len(tables["hazards"]) == 30 and len(tables["enforcement"]) == 60
    assert tables["hazards"]["overdue"].eq(overdue).all()


@pytest.mark.parametrize("emptied", ["hazards", "enforcement"])
def test_a_table_that_loses_every_row_in_the_checks_is_published_once_as_an_empty_clean_table(monkeypatch, emptied):
    from pipeline import cores

    monkeypatch.setattr(cores, "LIMIT", 2)
    monkeypatch.setattr(finalize, "THREAD_ROWS", 1)
    results = _batch_results("2020-01-20", "2020-01-15")
    data = results[0 if emptied == "hazards" else 1].data
    data[data.columns.intersection(["level", "mode"])[0]] = "无此项"  # (not one of the allowed values)
    published = []
    tables, quarantine, _ = finalize.finalize(results, RULES, lambda *pair: published.append(pair))
    assert sorted(name for name, _ in published) == sorted(tables)  # (each once)
    pd.testing.assert_frame_equal(tables[emptied], finalize.empty_clean(emptied))
    assert len(quarantine) == len(data) and len(tables["hazards" if emptied == "enforcement" else "enforcement"])


@pytest.mark.parametrize("inspected, early", [("2020-01-15", True), ("2020-02-15", False)])
def test_hazards_are_published_early_only_when_no_table_left_can_change_their_month(monkeypatch, inspected, early):
    """Enforcement's checks wait for hazards to be published (up to 10 s when they can be, 1 s
    when they must not be): by the thread that finished them when enforcement's period-checked
    dates lie in the hazards' month; after enforcement is done, and overdue as of February's end,
    when they reach February."""
    import threading

    from pipeline import cores

    monkeypatch.setattr(cores, "LIMIT", 2)
    monkeypatch.setattr(finalize, "THREAD_ROWS", 1)
    out, posted, waited = threading.Event(), threading.Event(), []
    validate, drop_duplicates = finalize.validate, finalize.drop_duplicates

    def noted_drop_duplicates(table, frame, rules):
        if table == "enforcement":
            posted.set()  # (its bound is posted by now)
        return drop_duplicates(table, frame, rules)

    def slow_validate(table, frame, without=()):
        if table == "hazards":
            posted.wait(10)
        if table == "enforcement":
            waited.append(out.wait(10 if early else 1))
        return validate(table, frame, without)

    monkeypatch.setattr(finalize, "drop_duplicates", noted_drop_duplicates)
    monkeypatch.setattr(finalize, "validate", slow_validate)

    def publish(name, frame):
        if name == "hazards":
            out.set()

    tables, _, _ = finalize.finalize(_batch_results("2020-02-10", inspected), RULES, publish)
    assert waited == [early] and out.is_set()
    assert tables["hazards"]["overdue"].eq(not early).all()
