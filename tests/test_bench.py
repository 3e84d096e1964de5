"""The benchmark's correctness check on a small input: the pipeline's per-unit-month aggregates
equal an independent DuckDB computation from the same raw files (no timing is asserted)."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline import bench, config
from pipeline.generate import write_large
from pipeline.runner import process

pytest.importorskip("duckdb", reason="benchmark-only dependency (the `bench` extra)")


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_pipeline_and_duckdb_agree_on_unit_month_aggregates(tmp_path, fmt):
    raw, processed = tmp_path / "raw", tmp_path / "processed"
    raw.mkdir()
    write_large(raw, 20_000, fmt, seed=7, registry_path=config.RAW_DIR / config.REGISTRY_NAME)
    process(raw, processed, progress=lambda _: None, score=False)
    ours = bench.pipeline_aggregates(processed, raw / config.REGISTRY_NAME)
    reference = bench.duckdb_aggregates(raw)
    assert bench.compare_aggregates(ours, reference) == len(ours) * len(bench.AGGREGATES)
    assert ours["inspections"].sum() == 12_000 and ours["found"].sum() == 8_000


def test_a_disagreement_fails_loudly():
    ours = pd.DataFrame({"unit_id": ["T01"], "period": ["2020-01"], **{c: [1] for c in bench.AGGREGATES}})
    theirs = ours.assign(due=2)
    with pytest.raises(bench.BenchmarkError, match="disagree"):
        bench.compare_aggregates(ours, theirs)
    with pytest.raises(bench.BenchmarkError, match="lacks"):
        bench.compare_aggregates(ours, theirs.assign(unit_id="T02"))


def test_a_size_measured_several_times_is_its_median_run_and_its_highest_peak():
    from pipeline.bench import Measure, typical

    assert typical([Measure(21.0, 2000), Measure(17.5, 2100), Measure(19.0, 1900)]) == Measure(19.0, 2100)
    assert typical([Measure(3.0, 10), Measure(2.0, 30)]) == Measure(2.0, 30)  # even: the lower middle run
    assert typical([Measure(5.0, 7)]) == Measure(5.0, 7)


def test_the_median_run_keeps_its_own_stages():
    from pipeline.bench import Measure, typical

    runs = [Measure(21.0, 2000, {"read": 1.0}), Measure(17.5, 2100, {"read": 2.0}), Measure(19.0, 1900, {"read": 3.0})]
    assert typical(runs) == Measure(19.0, 2100, {"read": 3.0})


def test_stage_seconds_are_read_back_from_process_s_own_summary_line():
    from pipeline import runner

    files = pd.DataFrame({"source_file": ["a.csv"], "source_type": ["hazards"], "status": ["ok"], "message": [""],
                          **{c: [1] for c in runner.SUMMED}})
    printed = []
    stages = {"read": 3.61, "clean": 3.84, "check": 2.93, "score": 3.98, "write": 0.04}
    runner._print_summary(files, printed.append, 14.52, stages)
    said = bench.stage_seconds("\n".join(["早先一行 用时 1.0 秒(读取 0.5)", *printed]))  # the last summary counts
    assert said == {"process": 14.5, "read": 3.6, "clean": 3.8, "check": 2.9, "score": 4.0, "write": 0.0}
    assert bench.stage_seconds("没有汇总行") == {}
    row = bench.Row(5_000_000, "csv", 582, 741, bench.Measure(15.0, 2000, said), bench.Measure(5.2, 600), 1440)
    table = bench.stage_lines([row])
    assert table[-1] == "| csv | 0.5 | 3.6 | 3.8 | 2.9 | 4.0 | 0.0 | 15.0 | 5.2 |"  # start = 15.0 - 14.5


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_duckdb_full_pass_types_the_cells_and_keeps_the_rows_process_keeps(tmp_path, fmt):
    import shutil

    raw, processed, out = tmp_path / "raw", tmp_path / "processed", tmp_path / "full"
    raw.mkdir()
    write_large(raw, 4_000, fmt, seed=3, registry_path=config.RAW_DIR / config.REGISTRY_NAME)
    first = next(p for p in bench.data_files(raw) if "执法" in p.name)
    shutil.copy(first, first.with_name(f"{first.stem}_重报{first.suffix}"))  # every inspection's id twice
    process(raw, processed, progress=lambda _: None, score=False)
    assert bench.duckdb_full_pass(raw, out) == {"enforcement": 2_400, "hazards": 1_600}
    bench.same_rows(processed, out)
    hazards = pd.read_parquet(out / "hazards.parquet")
    import pyarrow as pa
    import pyarrow.parquet as pq

    assert pq.read_schema(out / "hazards.parquet").field("发现日期").type == pa.date32()
    assert hazards["发现日期"].notna().all() and hazards["挂牌督办"].isin([True, False]).all()
    assert set(hazards["属地单位"]) <= set(pd.read_csv(raw / config.REGISTRY_NAME)["unit_id"])
    (out / "rows.json").write_text('{"hazards": 1599}', "utf-8")
    with pytest.raises(bench.BenchmarkError, match="not the same job"):
        bench.same_rows(processed, out)
