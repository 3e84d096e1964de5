"""Benchmark: `python -m pipeline.bench [--sizes 100000 500000 5000000] [--quick]` (issue "Performance and scale").

For each size, the sample generator's size mode writes enforcement + hazard records (CSV and Parquet);
then, each in a child process whose wall time and peak memory (max RSS, from os.wait4) are measured:
- `python -m pipeline process` on those files (every processed table, scoring included);
- a DuckDB reference that reads the same files and computes the per-unit-month aggregates the
  scoring starts from (inspections, filed cases, hazards found on inspections; hazards found, due
  and rectified on time). The pipeline's own aggregates (`indicators.period_counts` on the
  processed tables) must equal DuckDB's, or the benchmark fails;
- for context (not a goal), DuckDB doing the bulk of `process`'s work on the same files
  (`duckdb_full_pass`), which must keep as many rows of each table as `process` does.
Then one month's reports (`python -m pipeline report`, the `make report` path) on the sample data
against one empty notebook executed and rendered through the same toolchain, and a no-op
`make report`. The table is printed and written to docs/benchmarks.md.

DuckDB is a benchmark-only dependency (the optional `bench` extra); the pipeline never imports it.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline import config

DEFAULT_SIZES = (100_000, 500_000, 5_000_000)
QUICK_SIZES = (100_000,)
FORMATS = ("csv", "parquet")
SEED = 2020
AGGREGATES = ["inspections", "filed", "hazards_found", "found", "due", "on_time"]
GOALS = {"vs_duckdb": 3.0, "memory_vs_arrow": 3.0, "linear": 11.0, "report_vs_empty": 3.0, "noop_seconds": 1.0}


class BenchmarkError(RuntimeError):
    """The pipeline and the reference disagree, or a measured command failed."""


@dataclass
class Measure:
    seconds: float
    peak_mib: float
    # `process`'s own account (its summary line): seconds inside `process` in all ("process"),
    # then each stage's (runner.STAGES)
    stages: dict[str, float] = field(default_factory=dict)


def run_measured(command: list[str], cwd: Path | None = None, env: dict | None = None, quiet: bool = True,
                 stages: bool = False) -> Measure:
    """Run a child process; its wall time and its own peak RSS (os.wait4: this child only, not the
    maximum over every child so far as RUSAGE_CHILDREN would give). `stages`: the child is
    `python -m pipeline process`, whose summary line gives its stages' seconds."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as errors, tempfile.TemporaryFile() as output:
        out = output if stages else subprocess.DEVNULL if quiet else None
        child = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=errors)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        if child.returncode != 0:
            errors.seek(0)
            tail = errors.read().decode("utf-8", "replace")[-3000:]
            raise BenchmarkError(f"command failed ({child.returncode}): {' '.join(map(str, command))}\n{tail}")
        output.seek(0)
        said = stage_seconds(output.read().decode("utf-8", "replace")) if stages else {}
    return Measure(seconds, usage.ru_maxrss / 1024, said)  # ru_maxrss is in KiB on Linux


def stage_seconds(summary: str) -> dict[str, float]:
    """{"process": seconds, <stage>: seconds …} from the last "用时 N 秒(读取 N、…)" that
    `process` printed; {} when there is none."""
    from pipeline.runner import STAGES

    found = re.findall(r"用时 ([0-9.]+) 秒\((.*?)\)", summary)
    if not found:
        return {}
    total, parts = found[-1]
    named = {label: stage for stage, label in STAGES.items()}
    seconds = {"process": float(total)}
    for part in parts.split("、"):
        label, _, value = part.partition(" ")
        seconds[named[label]] = float(value)
    return seconds


# ------------------------------------------------------------------------------------ inputs
def make_inputs(folder: Path, n_records: int, fmt: str) -> bool:
    """The generator's benchmark files (and the registry) in `folder`, written once (by a child
    process, like every heavy step here: see `child`)."""
    done = folder / ".written"
    if done.exists():
        return False
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    child(["-m", "pipeline.generate", "--out", str(folder), "--size", str(n_records), "--format", fmt,
           "--seed", str(SEED), "--registry", str(config.RAW_DIR / config.REGISTRY_NAME)])
    done.write_text("ok")
    return True


def child(arguments: list[str]) -> str:
    """Run `python <arguments>` and return its output. The heavy steps (generating, reading inputs,
    comparing) run in children so that this process stays small: a child's max RSS counts the
    memory of the process it was forked from, which would otherwise inflate every measurement."""
    done = subprocess.run([sys.executable, *arguments], cwd=config.PROJECT_ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise BenchmarkError(f"python {' '.join(arguments)} failed:\n{(done.stderr or done.stdout)[-3000:]}")
    return done.stdout


def data_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.startswith("benchmark_") and p.suffix in (".csv", ".parquet"))


def header_line(path: Path) -> int:
    """0-based line of a generated CSV's header row: the first line with several separators
    (the title and the 填报单位 line above it have none)."""
    with path.open("r", encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle):
            if line.count(",") >= 3:
                return number
    raise BenchmarkError(f"{path.name}: no header row")


def arrow_input_bytes(folder: Path) -> int:
    """In-memory size of the inputs as pyarrow Tables (every column text, as the pipeline reads them)."""
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    total = 0
    for path in data_files(folder):
        if path.suffix == ".parquet":
            table = pq.read_table(path)
        else:
            read = pcsv.ReadOptions(skip_rows=header_line(path))
            table = pcsv.read_csv(path, read_options=read,
                                  convert_options=pcsv.ConvertOptions(column_types=_all_text(path, read)))
        total += table.nbytes
    return total


def _all_text(path: Path, read) -> dict:
    import pyarrow as pa
    import pyarrow.csv as pcsv

    with pcsv.open_csv(path, read_options=read) as reader:
        return {name: pa.string() for name in reader.schema.names}


# -------------------------------------------------------------------------- DuckDB reference
ENFORCEMENT = {"unit": "执法单位", "date": "检查日期", "filed": "是否立案", "hazards": "发现隐患数"}
HAZARDS = {"unit": "属地单位", "found": "发现日期", "deadline": "整改期限", "rectified": "整改完成日期"}
FULLWIDTH_FROM, FULLWIDTH_TO = "０１２３４５６７８９．", "0123456789."


def _sql_text(column: str) -> str:
    """The cell as the pipeline compares it: full-width digits to ASCII, spaces trimmed (translate
    only where there is something to translate: it is slow)."""
    quoted = f'"{column}"'
    return (f"trim(CASE WHEN regexp_matches({quoted}, '[{FULLWIDTH_FROM}]') "
            f"THEN translate({quoted}, '{FULLWIDTH_FROM}', '{FULLWIDTH_TO}') ELSE {quoted} END)")


def _sql_date(text: str) -> str:
    """A date in the forms of pipeline.parse.parse_datetime (Y-M-D with -/.年, compact YYYYMMDD,
    Excel serial numbers) from the normalised text column `text`, as a DATE; NULL when empty or
    unreadable."""
    ymd = r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})"
    return f"""(CASE
        WHEN regexp_matches({text}, '{ymd}') THEN try_cast(make_date(
            CAST(regexp_extract({text}, '{ymd}', 1) AS INTEGER), CAST(regexp_extract({text}, '{ymd}', 2) AS INTEGER),
            CAST(regexp_extract({text}, '{ymd}', 3) AS INTEGER)) AS DATE)
        WHEN regexp_full_match({text}, '(19|20)\\d{{6}}') THEN try_strptime({text}, '%Y%m%d')::DATE
        WHEN regexp_full_match({text}, '\\d+(\\.\\d+)?') AND CAST({text} AS DOUBLE) BETWEEN 1 AND 2958465
            THEN (DATE '1899-12-30' + CAST(floor(CAST({text} AS DOUBLE)) AS INTEGER))
        END)"""


def _no_rows(columns) -> str:
    return "SELECT " + ", ".join(f'NULL AS "{c}"' for c in columns) + " WHERE false"


def _connect(folder: Path, rules):
    """A DuckDB connection on every core, with the registry's spellings of unit names (`names`:
    spelling, unit_id) and the ingest rules' yes tokens (`truth`: token) as tables."""
    import duckdb

    from pipeline.registry import load_registry, name_index

    con = duckdb.connect()
    con.execute(f"SET threads = {os.cpu_count() or 1}")
    con.register("names", pd.DataFrame(list(name_index(load_registry(folder / config.REGISTRY_NAME)).items()),
                                       columns=["spelling", "unit_id"]))
    con.register("truth", pd.DataFrame({"token": sorted(rules.true_tokens)}))
    return con


def _scans(folder: Path, options: str = "") -> dict[str, list[str]]:
    """DuckDB's scan of each data file, by source (enforcement, hazards), every cell as text;
    `options` added to each scan's (", filename=true")."""
    scans: dict[str, list[str]] = {}
    for path in data_files(folder):
        kind = "enforcement" if "执法" in path.name else "hazards"
        scans.setdefault(kind, []).append(
            f"read_csv('{path}', skip={header_line(path)}, header=true, all_varchar=true, delim=',', quote='', "
            f"escape='', strict_mode=false{options})" if path.suffix == ".csv" else f"read_parquet('{path}'{options})")
    return scans


def _date_and_unit_lookups(con, dates: str, units: str) -> None:
    """Temp tables dates (raw, day) and units (raw, unit_id) of the distinct texts the queries
    `dates` and `units` give (each a column `raw`): every distinct text parsed once, then joined
    (hash joins against a few thousand rows cost little per row; the regexes per row much more)."""
    con.execute(f"""CREATE TEMP TABLE dates AS SELECT raw, {_sql_date(_sql_text('raw'))} AS day
        FROM (SELECT DISTINCT raw FROM ({dates}) WHERE raw IS NOT NULL)""")
    con.execute(f"""CREATE TEMP TABLE units AS SELECT raw, n.unit_id FROM (SELECT raw,
        lower(replace({_sql_text('raw')}, ' ', '')) AS spelling FROM (SELECT DISTINCT raw FROM ({units})))
        JOIN names n USING (spelling)""")


def duckdb_aggregates(folder: Path, rules_path: Path = config.INGEST_RULES) -> pd.DataFrame:
    """Per unit and month, from the raw files with DuckDB: inspections, filed, hazards_found (by
    inspected_at), found (by found_at), due and on_time (by deadline; on time = rectified on or
    before the deadline day). Months: first to last month of inspected_at / found_at, as the
    pipeline's periods."""
    from pipeline.ingest_rules import load_ingest_rules

    con = _connect(folder, load_ingest_rules(rules_path))
    sources = {kind: [f"SELECT * FROM {scan}" for scan in scans] for kind, scans in _scans(folder).items()}
    e, h = ENFORCEMENT, HAZARDS
    empty = {kind: [_no_rows(columns.values())] for kind, columns in (("enforcement", e), ("hazards", h))}
    tables = {}
    for kind, columns in (("enforcement", e), ("hazards", h)):
        union = " UNION ALL ".join(sources.get(kind, empty[kind]))
        needed = ", ".join(f'"{c}"' for c in columns.values())
        # Text files are parsed once into a table of the needed columns; Parquet is scanned as is.
        if any(".csv'" in part for part in sources.get(kind, [])):
            con.execute(f"CREATE TEMP TABLE {kind}_raw AS SELECT {needed} FROM ({union})")
            tables[kind] = f"{kind}_raw"
        else:
            tables[kind] = f"(SELECT {needed} FROM ({union}))"
    enforcement, hazards = tables["enforcement"], tables["hazards"]
    _date_and_unit_lookups(
        con, f"""SELECT "{e['date']}" AS raw FROM {enforcement} UNION ALL SELECT "{h['found']}" FROM {hazards}
                 UNION ALL SELECT "{h['deadline']}" FROM {hazards} UNION ALL SELECT "{h['rectified']}" FROM {hazards}""",
        f"""SELECT "{e['unit']}" AS raw FROM {enforcement} UNION ALL SELECT "{h['unit']}" FROM {hazards}""")
    con.execute(f"""CREATE TEMP TABLE cells AS SELECT raw,
        lower(replace({_sql_text('raw')}, ' ', '')) IN (SELECT token FROM truth) AS yes,
        coalesce(TRY_CAST(regexp_extract({_sql_text('raw')}, '^(\\d+)', 1) AS INTEGER), 0) AS number
        FROM (SELECT DISTINCT raw FROM (SELECT "{e['filed']}" AS raw FROM {enforcement}
              UNION ALL SELECT "{e['hazards']}" FROM {enforcement}) WHERE raw IS NOT NULL)""")
    con.execute(f"""CREATE TEMP VIEW enforcement AS
        SELECT u.unit_id, d.day, coalesce(f.yes, false) AS filed, coalesce(c.number, 0) AS hazards_found
        FROM {enforcement} r JOIN units u ON u.raw = r."{e['unit']}" LEFT JOIN dates d ON d.raw = r."{e['date']}"
        LEFT JOIN cells f ON f.raw = r."{e['filed']}" LEFT JOIN cells c ON c.raw = r."{e['hazards']}" """)
    con.execute(f"""CREATE TEMP VIEW hazards AS
        SELECT u.unit_id, f.day AS found, d.day AS deadline, x.day AS rectified
        FROM {hazards} r JOIN units u ON u.raw = r."{h['unit']}" LEFT JOIN dates f ON f.raw = r."{h['found']}"
        LEFT JOIN dates d ON d.raw = r."{h['deadline']}" LEFT JOIN dates x ON x.raw = r."{h['rectified']}" """)
    rows = con.sql("""
        WITH e AS MATERIALIZED (SELECT * FROM enforcement WHERE day IS NOT NULL),
             h AS MATERIALIZED (SELECT * FROM hazards WHERE found IS NOT NULL AND deadline IS NOT NULL),
             span AS (SELECT min(m) AS lo, max(m) AS hi FROM (
                 SELECT date_trunc('month', day) AS m FROM e UNION ALL SELECT date_trunc('month', found) FROM h)),
             inspections AS (SELECT unit_id, date_trunc('month', day) AS m, count(*) AS inspections,
                                    count(*) FILTER (WHERE filed) AS filed, sum(hazards_found) AS hazards_found
                             FROM e GROUP BY ALL),
             found AS (SELECT unit_id, date_trunc('month', found) AS m, count(*) AS found FROM h GROUP BY ALL),
             due AS (SELECT unit_id, date_trunc('month', deadline) AS m, count(*) AS due,
                            count(*) FILTER (WHERE rectified <= deadline) AS on_time FROM h GROUP BY ALL),
             keys AS (SELECT unit_id, m FROM inspections UNION SELECT unit_id, m FROM found
                      UNION SELECT unit_id, m FROM due)
        SELECT k.unit_id, strftime(k.m, '%Y-%m') AS period,
               coalesce(i.inspections, 0) AS inspections, coalesce(i.filed, 0) AS filed,
               coalesce(i.hazards_found, 0) AS hazards_found, coalesce(f.found, 0) AS found,
               coalesce(d.due, 0) AS due, coalesce(d.on_time, 0) AS on_time
        FROM keys k CROSS JOIN span
        LEFT JOIN inspections i USING (unit_id, m) LEFT JOIN found f USING (unit_id, m)
        LEFT JOIN due d USING (unit_id, m)
        WHERE k.m BETWEEN span.lo AND span.hi
        ORDER BY 1, 2""").to_arrow_table()
    con.close()
    return rows.to_pandas()


def pipeline_aggregates(processed: Path, registry_path: Path) -> pd.DataFrame:
    """The same aggregates as the scoring stage counts them (`indicators.period_counts`) from the
    processed tables."""
    from pipeline.events import inspection_events
    from pipeline.indicators import period_counts
    from pipeline.periods import data_month_range, month_periods
    from pipeline.registry import load_registry
    from pipeline.rulebook import load_rulebook, rulebook_for_year

    enforcement = pd.read_parquet(processed / "enforcement.parquet")
    hazards = pd.read_parquet(processed / "hazards.parquet")
    accidents = pd.read_parquet(processed / "accidents.parquet")
    span = data_month_range(enforcement["inspected_at"], hazards["found_at"], accidents["occurred_at"])
    rulebook = load_rulebook(rulebook_for_year(config.RULES_DIR, int(span[0][:4])))
    counts = period_counts(inspection_events(enforcement, rulebook), hazards, load_registry(registry_path),
                           month_periods(*span))
    return counts[["unit_id", "period", *AGGREGATES]]


def compare_aggregates(ours: pd.DataFrame, reference: pd.DataFrame) -> int:
    """Raise BenchmarkError unless every (unit, month) count agrees; returns the cells compared."""
    key = ["unit_id", "period"]
    ours = ours.astype({"unit_id": "str", "period": "str"}).set_index(key)[AGGREGATES].astype("int64")
    theirs = reference.astype({"unit_id": "str", "period": "str"}).set_index(key)[AGGREGATES].astype("int64")
    extra = theirs.index.difference(ours.index)
    if len(extra):
        raise BenchmarkError(f"DuckDB has unit-months the pipeline lacks: {list(extra[:5])}")
    theirs = theirs.reindex(ours.index, fill_value=0)
    differ = ours.ne(theirs)
    if differ.to_numpy().any():
        where = differ.any(axis=1)
        both = ours[where].join(theirs[where], suffixes=("_pipeline", "_duckdb"))
        raise BenchmarkError(f"pipeline and DuckDB disagree on {int(where.sum())} unit-months:\n{both.head(10)}")
    if int(ours.to_numpy().sum()) == 0:
        raise BenchmarkError("nothing was counted: the comparison would prove nothing")
    return int(ours.size)


# Column types of the ingest rules, as the full pass types them (every other column is text).
FULL_PASS_TYPES = {"date": "date", "datetime": "date", "unit": "unit", "bool": "bool", "count": "number",
                   "money_wan": "number", "score": "number"}


def duckdb_full_pass(folder: Path, out: Path, rules_path: Path = config.INGEST_RULES) -> dict[str, int]:
    """Context for the goal, not the goal's reference: DuckDB doing the bulk of what `process`
    does to the same files, to set the pipeline's time beside a comparable job.

    Every column is read; text is trimmed; every date, unit, yes/no and number cell is typed
    through lookup tables of the distinct values (the aggregate reference's expressions); each id
    is kept once (the last file's row); the two clean tables are written to Parquet in `out`.
    Left out, so that DuckDB's side is the lighter one: row numbers, non-data rows, full-width
    forms in text, personal numbers, reasons for bad cells, duplicates by natural key, schema
    validation, scoring. Returns the rows written per table (also in out/rows.json)."""
    import json

    from pipeline.ingest_rules import load_ingest_rules

    rules = load_ingest_rules(rules_path)
    out.mkdir(parents=True, exist_ok=True)
    con = _connect(folder, rules)
    scans = _scans(folder, ", filename=true")
    kinds: dict[str, dict[str, str]] = {}  # table -> column -> date | unit | bool | number | text
    for table, files in scans.items():
        union = " UNION ALL ".join(f"SELECT * FROM {scan}" for scan in files)
        # Text files parsed once into a table; Parquet scanned as it is (as the aggregate reference).
        what = "TABLE" if ".csv'" in files[0] else "VIEW"
        con.execute(f"CREATE TEMP {what} {table}_raw AS {union}")
        aliases = {alias: spec for spec in rules.sources[table].columns.values() for alias in (spec.name, *spec.aliases)}
        kinds[table] = {column: FULL_PASS_TYPES.get(aliases[column].type, "text") if column in aliases else "text"
                        for (column,) in con.execute(f"SELECT column_name FROM (DESCRIBE {table}_raw)").fetchall()
                        if column != "filename"}

    def distinct(kind: str) -> str:
        return " UNION ALL ".join(f'SELECT "{c}" AS raw FROM {t}_raw' for t in kinds for c, k in kinds[t].items()
                                  if k == kind or (kind == "cell" and k in ("bool", "number"))) or "SELECT NULL AS raw"

    _date_and_unit_lookups(con, distinct("date"), distinct("unit"))
    con.execute(f"""CREATE TEMP TABLE cells AS SELECT raw,
        lower(replace({_sql_text('raw')}, ' ', '')) IN (SELECT token FROM truth) AS yes,
        TRY_CAST(regexp_extract({_sql_text('raw')}, '^(\\d+(\\.\\d+)?)', 1) AS DOUBLE) AS number
        FROM (SELECT DISTINCT raw FROM ({distinct('cell')}) WHERE raw IS NOT NULL)""")
    lookup = {"date": ("dates", "day"), "unit": ("units", "unit_id"), "bool": ("cells", "yes"), "number": ("cells", "number")}
    written = {}
    for table, columns in kinds.items():
        selected, joins = ["r.filename AS source_file"], []
        for position, (column, kind) in enumerate(columns.items()):
            if kind == "text":
                selected.append(f'trim(r."{column}") AS "{column}"')
                continue
            name, value = lookup[kind]
            joins.append(f'LEFT JOIN {name} j{position} ON j{position}.raw = r."{column}"')
            selected.append(f'j{position}.{value} AS "{column}"' + (f', r."{column}" AS "{column}_name"' if kind == "unit" else ""))
        query = f"SELECT {', '.join(selected)} FROM {table}_raw r {' '.join(joins)}"
        id_spec = rules.sources[table].columns.get(rules.sources[table].id_column)
        id_column = next((c for c in columns if id_spec and c in (id_spec.name, *id_spec.aliases)), None)
        if id_column:
            query = (f"SELECT * FROM ({query}) QUALIFY row_number() OVER (PARTITION BY "
                     f"""upper(replace("{id_column}", ' ', '')) ORDER BY source_file DESC) = 1""")
        con.execute(f"COPY ({query}) TO '{out / f'{table}.parquet'}' (FORMAT parquet)")
        written[table] = con.execute(f"SELECT count(*) FROM read_parquet('{out / f'{table}.parquet'}')").fetchall()[0][0]
    con.close()
    (out / "rows.json").write_text(json.dumps(written), "utf-8")
    return written


def reference_main(folder: Path, out: Path) -> int:
    """Child-process entry of the DuckDB reference: aggregates to a Parquet file."""
    duckdb_aggregates(folder).to_parquet(out, index=False)
    return 0


# ---------------------------------------------------------------------------------- reports
EMPTY_NOTEBOOK = """# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% tags=["parameters"]
PERIOD = ""

# %%
"""


def _empty_notebook_command(folder: Path) -> list[str]:
    """One empty notebook through the reports' own toolchain (pipeline.render: papermill, then the
    HTML page the reports are written as), in a fresh process like `make report`. Its kernel does
    not preload the report modules (an empty notebook needs none): the kernel start-up measured is
    the bare one, so the reports' own imports count against the reports."""
    source = folder / "empty_notebook.py"
    source.write_text(EMPTY_NOTEBOOK, "utf-8")
    code = ("import sys; from pathlib import Path; from pipeline import render; "
            f"render.run_jobs([render.Job(Path({str(source)!r}), {{'PERIOD': '2020-12'}}, Path({str(folder / 'empty.html')!r}), 'empty')], "
            f"Path({str(folder / '.build')!r}), force=True, echo=lambda s: None, kernels=render.Kernels(preload=''))")
    return [sys.executable, "-c", code]


def _report_command(raw: Path, processed: Path, reports: Path, period: str) -> list[str]:
    """`python -m pipeline report`, or the library call it wraps while the command is not wired."""
    probe = subprocess.run([sys.executable, "-m", "pipeline", "report", "--help"], cwd=config.PROJECT_ROOT,
                           capture_output=True, text=True)
    if probe.returncode == 0:
        return [sys.executable, "-m", "pipeline", "report", "--period", period, "--raw", str(raw),
                "--processed", str(processed), "--reports", str(reports)]
    code = ("from pathlib import Path; from pipeline.reports import build_reports; from pipeline.rulebook import rulebook_for_year; "
            f"from pipeline import config; build_reports('monthly', {period!r}, Path({str(processed)!r}), Path({str(reports)!r}), "
            f"rulebook_for_year(config.RULES_DIR, {int(period[:4])}), echo=lambda s: None)")
    return [sys.executable, "-c", code]


def _median_of_three(command: list[str], before=lambda: None) -> tuple[Measure, str]:
    """The median of three runs of `command` (`before` runs ahead of each), and the three times."""
    runs = []
    for _ in range(3):
        before()
        runs.append(run_measured(command, cwd=config.PROJECT_ROOT))
    return sorted(runs, key=lambda m: m.seconds)[1], "3 runs: " + ", ".join(f"{m.seconds:.1f}" for m in runs)


def measure_reports(folder: Path, echo) -> dict:
    """One month's reports on the sample data: the full build, the same command again with nothing
    changed, `make report` with nothing changed, and one empty notebook through the same toolchain."""
    raw, processed, reports = folder / "raw", folder / "processed", folder / "reports"
    for path in (raw, processed, reports):
        shutil.rmtree(path, ignore_errors=True)
    raw.mkdir(parents=True)
    child(["-m", "pipeline.generate", "--out", str(raw), "--seed", str(SEED), "--registry", str(config.RAW_DIR / config.REGISTRY_NAME)])
    result = {"sample_process": run_measured([sys.executable, "-m", "pipeline", "process", "--raw", str(raw),
                                              "--processed", str(processed)], cwd=config.PROJECT_ROOT)}
    period = str(pd.read_parquet(processed / "monthly_scores.parquet", columns=["period"])["period"].max())
    result["period"] = period
    echo(f"  样例数据处理 sample process: {result['sample_process'].seconds:.1f} s; 报告月份 period {period}")
    command = _report_command(raw, processed, reports, period)
    result["wired"] = command[2:4] == ["pipeline", "report"]
    # Medians of three runs: one kernel start is noisy on a busy machine. Each full build starts
    # from an empty reports folder.
    result["empty"], runs = _median_of_three(_empty_notebook_command(folder))
    echo(f"  空笔记本 empty notebook: {result['empty'].seconds:.1f} s ({runs})")
    result["report"], runs = _median_of_three(command, before=lambda: shutil.rmtree(reports, ignore_errors=True))
    echo(f"  月报全量 full monthly report: {result['report'].seconds:.1f} s ({runs})")
    result["report_again"] = run_measured(command, cwd=config.PROJECT_ROOT)
    # `make report` with the sample's folders; a stamp newer than pyproject.toml stands in for the
    # environment's, so make never tries to rebuild the environment being measured.
    stamp = folder / "venv.stamp"
    stamp.touch()
    oldest = max(config.PROJECT_ROOT.joinpath(name).stat().st_mtime for name in ("pyproject.toml", "requirements.lock")
                 if config.PROJECT_ROOT.joinpath(name).exists()) + 1
    os.utime(stamp, (oldest, oldest))  # newer than what it depends on, older than the tables
    make = ["make", "--no-print-directory", "-C", str(config.PROJECT_ROOT), "report", f"PERIOD={period}",
            f"RAW={raw}", f"PROCESSED={processed}", f"REPORTS={reports}", f"VENV_STAMP={stamp}", f"PY={sys.executable}"]
    try:
        run_measured(make, cwd=config.PROJECT_ROOT)  # brings make's own stamps up to date
        result["make_noop"] = run_measured(make, cwd=config.PROJECT_ROOT)
    except (BenchmarkError, FileNotFoundError) as error:
        result["make_error"] = str(error).splitlines()[0]
    return result


# ------------------------------------------------------------------------------------ driver
@dataclass
class Row:
    records: int
    fmt: str
    file_mib: float
    arrow_mib: float
    process: Measure
    duckdb: Measure
    cells: int
    process_runs: list[float] = field(default_factory=list)  # every run's seconds, in order
    duckdb_runs: list[float] = field(default_factory=list)
    full: Measure | None = None  # DuckDB's full pass (`duckdb_full_pass`), for context
    full_runs: list[float] = field(default_factory=list)


def machine() -> dict:
    import importlib.metadata as metadata

    import pyarrow

    info = {"cores": os.cpu_count(), "python": platform.python_version(), "pandas": pd.__version__,
            "pyarrow": pyarrow.__version__, "platform": platform.platform()}
    try:
        info["duckdb"] = metadata.version("duckdb")
    except metadata.PackageNotFoundError:
        info["duckdb"] = "not installed"
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        info["cpu"] = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")), "?")
        meminfo = Path("/proc/meminfo").read_text()
        kib = int(next(line.split()[1] for line in meminfo.splitlines() if line.startswith("MemTotal")))
        info["memory_gib"] = round(kib / 1024 ** 2, 1)
    except OSError:
        info["cpu"], info["memory_gib"] = platform.processor() or "?", None
    return info


def run_size(work: Path, records: int, fmt: str, echo, repeat: int = 1) -> Row:
    """`process` and the DuckDB reference on one size and format, each `repeat` times (`typical`)."""
    folder = work / f"inputs_{records}_{fmt}"
    started = time.perf_counter()
    if make_inputs(folder, records, fmt):
        echo(f"  生成 {records} 条 {fmt} 输入 (inputs written) {time.perf_counter() - started:.1f} s")
    files = data_files(folder)
    file_mib = sum(p.stat().st_size for p in files) / 2 ** 20
    arrow_mib = int(child(["-m", "pipeline.bench", "--arrow-bytes", str(folder)]).split()[-1]) / 2 ** 20
    processed = work / f"processed_{records}_{fmt}"
    reference = work / f"duckdb_{records}_{fmt}.parquet"
    full_pass = work / f"duckdb_full_{records}_{fmt}"
    runs: list[Measure] = []
    references: list[Measure] = []
    fulls: list[Measure] = []
    for _ in range(repeat):  # taking turns, so that the machine's ups and downs fall on both alike
        shutil.rmtree(processed, ignore_errors=True)
        runs.append(run_measured([sys.executable, "-m", "pipeline", "process", "--raw", str(folder), "--processed",
                                  str(processed), "--force"], cwd=config.PROJECT_ROOT, stages=True))
        echo(f"  process {records} {fmt}: {runs[-1].seconds:.1f} s, 峰值内存 peak {runs[-1].peak_mib:.0f} MiB")
        references.append(run_measured([sys.executable, "-m", "pipeline.bench", "--reference", str(folder), str(reference)],
                                       cwd=config.PROJECT_ROOT))
        echo(f"  DuckDB  {records} {fmt}: {references[-1].seconds:.1f} s, peak {references[-1].peak_mib:.0f} MiB")
        fulls.append(run_measured([sys.executable, "-m", "pipeline.bench", "--full-pass", str(folder), str(full_pass)],
                                  cwd=config.PROJECT_ROOT))
        echo(f"  DuckDB full pass {records} {fmt}: {fulls[-1].seconds:.1f} s, peak {fulls[-1].peak_mib:.0f} MiB")
    process, duck = typical(runs), typical(references)
    cells = int(child(["-m", "pipeline.bench", "--check", str(folder), str(processed), str(reference)]).split()[-1])
    echo(f"  一致 agree: {cells} unit-month counts")
    same_rows(processed, full_pass)
    shutil.rmtree(processed, ignore_errors=True)
    shutil.rmtree(full_pass, ignore_errors=True)
    return Row(records, fmt, file_mib, arrow_mib, process, duck, cells,
               [m.seconds for m in runs], [m.seconds for m in references], typical(fulls), [m.seconds for m in fulls])


def same_rows(processed: Path, full_pass: Path) -> None:
    """The full pass kept as many rows of each table as `process` did (else it is no comparable job)."""
    import json

    import pyarrow.parquet as pq

    theirs = json.loads((full_pass / "rows.json").read_text("utf-8"))
    for table, rows in theirs.items():
        ours = pq.ParquetFile(processed / f"{table}.parquet").metadata.num_rows
        if ours != rows:
            raise BenchmarkError(f"DuckDB's full pass kept {rows} {table} rows, process {ours}: not the same job")


def typical(runs: list[Measure]) -> Measure:
    """The runs' median time (the lower middle one of an even number), with that run's stages,
    and their highest peak: a time is a typical run's, a peak the worst seen."""
    ordered = sorted(runs, key=lambda m: m.seconds)
    median = ordered[(len(ordered) - 1) // 2]
    return Measure(median.seconds, max(m.peak_mib for m in runs), median.stages)


def render_markdown(rows: list[Row], reports: dict | None, info: dict, command: str) -> str:
    lines = ["# 性能基准 (benchmarks)", "",
             f"Made by `{command}` on {time.strftime('%Y-%m-%d')}; rerun it to refresh this page.", "",
             "## Machine", "",
             f"- CPU: {info['cpu']}, {info['cores']} cores; memory {info['memory_gib']} GiB; {info['platform']}",
             f"- Python {info['python']}, pandas {info['pandas']}, pyarrow {info['pyarrow']}, duckdb {info['duckdb']}", "",
             "## `process` against a DuckDB reference", "",
             "Inputs from `python -m pipeline.generate --size N --format F` (60% inspections, 40% hazards; files of at "
             "most 10^6 rows). `process` = `python -m pipeline process --force` (every table, scoring included), "
             "in a child process; peak = that process's max RSS. DuckDB reads the same files and computes the "
             "per-unit-month aggregates (inspections, filed cases, hazards found; hazards found, due, rectified on "
             "time); the pipeline's aggregates (`indicators.period_counts` on its tables) must equal them, and did. "
             "Arrow = the inputs' in-memory size as pyarrow Tables of text. Each size ran `process` and "
             "DuckDB in turn as often as the runs column says: the seconds are the median run's, the peak the "
             "highest of the runs.", "",
             "| records | format | files MiB | Arrow MiB | process s | peak MiB | DuckDB s | DuckDB peak MiB | time ÷ DuckDB | peak ÷ Arrow | agreeing counts | runs (process / DuckDB s) |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        lines.append(f"| {r.records:,} | {r.fmt} | {r.file_mib:.0f} | {r.arrow_mib:.0f} | {r.process.seconds:.1f} | "
                     f"{r.process.peak_mib:.0f} | {r.duckdb.seconds:.1f} | {r.duckdb.peak_mib:.0f} | "
                     f"{r.process.seconds / r.duckdb.seconds:.2f} | {r.process.peak_mib / r.arrow_mib:.2f} | {r.cells:,} | "
                     f"{', '.join(f'{x:.1f}' for x in r.process_runs)} / {', '.join(f'{x:.1f}' for x in r.duckdb_runs)} |")
    lines += stage_lines(rows)
    lines += full_pass_lines(rows)
    lines += ["", "## Goals", "", "| goal | measured | met |", "|---|---|---|"]
    for goal, measured, met in goal_rows(rows, reports):
        lines.append(f"| {goal} | {measured} | {'yes' if met else '**no**'} |")
    if reports:
        lines += ["", "## Reports (sample data)", "",
                  f"Month {reports['period']} of the deterministic sample (`python -m pipeline.generate`). "
                  + ("" if reports["wired"] else "`python -m pipeline report` was not wired when this ran: the "
                     "library call it wraps (`pipeline.reports.build_reports('monthly', …)`) was timed instead. "),
                  "", "| step | seconds | peak MiB |", "|---|---:|---:|",
                  f"| process the sample (527 files) | {reports['sample_process'].seconds:.1f} | {reports['sample_process'].peak_mib:.0f} |",
                  f"| one empty notebook, papermill + HTML (`pipeline.render`, bare kernel), median of 3 | {reports['empty'].seconds:.1f} | {reports['empty'].peak_mib:.0f} |",
                  f"| one month's reports, full (circular + PDF + Excel + every scorecard), median of 3 | {reports['report'].seconds:.1f} | {reports['report'].peak_mib:.0f} |",
                  f"| the same command again, nothing changed | {reports['report_again'].seconds:.2f} | {reports['report_again'].peak_mib:.0f} |"]
        if "make_noop" in reports:
            lines.append(f"| `make report` again, nothing changed | {reports['make_noop'].seconds:.2f} | {reports['make_noop'].peak_mib:.0f} |")
        else:
            lines.append(f"| `make report` again, nothing changed | failed: {reports.get('make_error', '?')} | |")
        lines += ["", "The sample's processing reads its small workbooks in two worker processes; the peak is "
                  "the command's own process (each worker peaks at about 100 MiB on the sample).",
                  "", "The full report is `python -m pipeline report` in a fresh process. It launches its two "
                  "kernels first (they import the report modules and the chart font while they boot), then checks "
                  "that the data is unchanged and plans the reports without loading pandas; the circular (which "
                  "also writes the Excel attachment) and every unit's scorecard run from one kernel each on the "
                  "two cores, then Typst sets the circular's PDF. Its progress lines give each notebook's split "
                  "(执行 / HTML / PDF). The empty notebook's kernel preloads nothing, so the reports' own imports "
                  "count against the reports. Kept between runs in .cache/, for every reports folder: the "
                  "notebooks converted from their .py source (jupytext), nbconvert's compiled templates, and the "
                  "chart font's metrics and drawn characters. On a fresh machine the first of the three runs "
                  "fills them (the empty notebook's its own, the report's the rest), so each median is a run "
                  "with them in place, as an analyst's reruns have."]
    return "\n".join(lines) + "\n"


def stage_lines(rows: list[Row]) -> list[str]:
    """Where the median run of the biggest size spent its time, by `process`'s own account."""
    from pipeline.runner import STAGES

    biggest = [r for r in rows if r.records == max(x.records for x in rows) and r.process.stages]
    if not biggest:
        return []
    lines = ["", f"### Where the time goes ({biggest[0].records:,} records, the median run)", "",
             "By `process`'s summary line. Start = the rest of the wall time: Python, the imports, the lock "
             "and the look at what changed. Read = reading and recognising the files; clean = every cell "
             "parsed and checked; check = the period, duplicate and schema checks across files (the big "
             "clean tables are written meanwhile); score = scores, ranks, deductions, year-end assessment "
             "and submissions; write = waiting for the last tables to be written.", "",
             "| format | start | " + " | ".join(STAGES) + " | process s | DuckDB s |",
             "|---|" + "---:|" * (len(STAGES) + 3)]
    for r in biggest:
        stages = r.process.stages
        start = r.process.seconds - stages.get("process", r.process.seconds)
        lines.append(f"| {r.fmt} | {start:.1f} | " + " | ".join(f"{stages.get(s, float('nan')):.1f}" for s in STAGES)
                     + f" | {r.process.seconds:.1f} | {r.duckdb.seconds:.1f} |")
    return lines


def full_pass_lines(rows: list[Row]) -> list[str]:
    """`process` beside DuckDB's full pass (`duckdb_full_pass`): context, not a goal."""
    measured = [r for r in rows if r.full is not None]
    if not measured:
        return []
    lines = ["", "### Context: DuckDB doing comparable work (not a goal)", "",
             "The goal's reference above only counts a few columns. Beside it, `duckdb_full_pass` in "
             "pipeline/bench.py has DuckDB do the bulk of what `process` does to the same files: read every "
             "column, trim text, type every date, unit, yes/no and number cell (through lookup tables of the "
             "distinct values, as the reference does), keep each id once (the last file's row) and write the "
             "two clean tables to Parquet. It leaves out row numbers, non-data rows, full-width forms in text, "
             "enumerations, personal numbers, reasons for bad cells, duplicates by natural key, schema "
             "validation and scoring, so its side is the lighter one. The run checks that it kept as many "
             "rows of each table as `process` did.", "",
             "| records | format | process s | DuckDB full pass s | full pass peak MiB | process ÷ full pass | runs (full pass s) |",
             "|---:|---|---:|---:|---:|---:|---|"]
    for r in measured:
        lines.append(f"| {r.records:,} | {r.fmt} | {r.process.seconds:.1f} | {r.full.seconds:.1f} | "
                     f"{r.full.peak_mib:.0f} | {r.process.seconds / r.full.seconds:.2f} | "
                     f"{', '.join(f'{x:.1f}' for x in r.full_runs)} |")
    return lines


def goal_rows(rows: list[Row], reports: dict | None) -> list[tuple[str, str, bool]]:
    goals = []
    for fmt in FORMATS:
        by_size = {r.records: r for r in rows if r.fmt == fmt}
        if not by_size:
            continue
        top = by_size[max(by_size)]
        ratio = top.process.seconds / top.duckdb.seconds
        goals.append((f"process {top.records:,} {fmt} within {GOALS['vs_duckdb']:g}× DuckDB", f"{ratio:.2f}×", ratio <= GOALS["vs_duckdb"]))
        memory = top.process.peak_mib / top.arrow_mib
        goals.append((f"peak memory {top.records:,} {fmt} within {GOALS['memory_vs_arrow']:g}× Arrow input",
                      f"{memory:.2f}×", memory <= GOALS["memory_vs_arrow"]))
        if 5_000_000 in by_size and 500_000 in by_size:
            linear = by_size[5_000_000].process.seconds / by_size[500_000].process.seconds
            goals.append((f"{fmt}: time at 5·10^6 within {GOALS['linear']:g}× time at 5·10^5", f"{linear:.2f}×", linear <= GOALS["linear"]))
    if reports:
        ratio = reports["report"].seconds / reports["empty"].seconds
        goals.append((f"one month's full report within {GOALS['report_vs_empty']:g}× one empty notebook", f"{ratio:.2f}×",
                      ratio <= GOALS["report_vs_empty"]))
        if "make_noop" in reports:
            goals.append((f"no-op `make report` under {GOALS['noop_seconds']:g} s", f"{reports['make_noop'].seconds:.2f} s",
                          reports["make_noop"].seconds < GOALS["noop_seconds"]))
    return goals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.bench", description="性能基准 (benchmark)")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES), help="records per run")
    parser.add_argument("--formats", nargs="+", choices=FORMATS, default=list(FORMATS))
    parser.add_argument("--repeat", type=int, default=3, help="runs of process and DuckDB per size (median time, highest peak)")
    parser.add_argument("--quick", action="store_true", help="10^5 records only, no reports, nothing written (smoke check)")
    parser.add_argument("--no-reports", action="store_true", help="skip the report timings")
    parser.add_argument("--reports-only", action="store_true", help="only the report timings (no record sizes)")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "safety-bench",
                        help="inputs are generated here once and reused")
    parser.add_argument("--output", type=Path, default=config.PROJECT_ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--reference", nargs=2, type=Path, metavar=("RAW", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--full-pass", nargs=2, type=Path, metavar=("RAW", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--arrow-bytes", type=Path, metavar="RAW", help=argparse.SUPPRESS)
    parser.add_argument("--check", nargs=3, type=Path, metavar=("RAW", "PROCESSED", "REFERENCE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.reference:
        return reference_main(*args.reference)
    if args.full_pass:
        duckdb_full_pass(*args.full_pass)
        return 0
    if args.arrow_bytes:
        print(arrow_input_bytes(args.arrow_bytes))
        return 0
    if args.check:
        raw, processed, reference = args.check
        print(compare_aggregates(pipeline_aggregates(processed, raw / config.REGISTRY_NAME), pd.read_parquet(reference)))
        return 0
    sizes = [] if args.reports_only else list(QUICK_SIZES) if args.quick else args.sizes
    args.workdir.mkdir(parents=True, exist_ok=True)
    echo = lambda text: print(text, flush=True)  # noqa: E731
    rows = []
    for records in sizes:
        for fmt in args.formats:
            echo(f"{records:,} 条 {fmt}:")
            rows.append(run_size(args.workdir, records, fmt, echo, 1 if args.quick else max(args.repeat, 1)))
    reports = None
    if not (args.quick or args.no_reports):
        echo("报告 (reports):")
        reports = measure_reports(args.workdir / "reports_sample", echo)
    command = "python -m pipeline.bench" + ("" if argv is None else " " + " ".join(argv))
    if argv is None and len(sys.argv) > 1:
        command = "python -m pipeline.bench " + " ".join(sys.argv[1:])
    page = render_markdown(rows, reports, machine(), command)
    print(page)
    if not args.quick:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(page, "utf-8")
        echo(f"已写入 (written) {args.output}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchmarkError as error:
        print(f"基准测试失败(benchmark failed): {error}", file=sys.stderr)
        sys.exit(1)
