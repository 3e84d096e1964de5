"""Deterministic sample data: a realistic, messy 2019-2020 for the units registry, and large
synthetic inputs for benchmarks (SPEC "Interface", last bullet).

    python -m pipeline.generate --out data/raw [--seed 2020]
    python -m pipeline.generate --size 5000000 --format csv|parquet --out DIR [--seed 2020]

Sample mode reads the registry from `<out>/units.csv` (copying the project's registry there first
if the folder has none; an existing one is never overwritten) and writes one workbook per unit and
month, plus a year-end review workbook per year, with every quirk of SPEC "Raw data" and a few
planted problems for SPEC "Cleaning". `plan()` says what is planted without writing anything;
`write_sample()` writes it and returns the same plan. The same seed gives the same bytes.

How it is built (one module per concern, each layer using only the ones above it):
  sample_base       seeded random draws, months, units, the submission calendar
  sample_names      enterprise names and credit codes; fake people data (names, IDs, mobiles)
  sample_accidents  ordinary accidents and the planted special cases
  sample_data       inspections, hazards, year-end review items: the clean "truth"
  sample_style      each unit's writing habits and the cell renderer applying them
  sample_layout     sheets as units lay them out, with duplicates, warnings and bad rows planted
  sample_files      sheets grouped into files and named as units name them; the year-end review
  sample_writers    the document model and the xlsx / BIFF xls / HTML xls / CSV writers
  sample_xlsx       the small, fast, reproducible .xlsx writer
  sample_large      vectorised benchmark files (CSV or Parquet)
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from pipeline.config import INGEST_RULES, RAW_DIR, REGISTRY_NAME
from pipeline.errors import InputError
from pipeline.registry import load_registry
from pipeline.sample_base import MONTHS
from pipeline.sample_data import KEY_WORK_CAP, Truth, draw_truth
from pipeline.sample_files import build_files
from pipeline.sample_large import LargeFile, write_large_files
from pipeline.sample_style import load_aliases
from pipeline.sample_writers import FileDoc, cell_text, render

BONUS_CAP = 5.0


@dataclass(frozen=True)
class PlannedFile:
    name: str
    fmt: str  # xlsx | xls-biff | xls-html | csv
    unit_id: str | None  # None for the year-end review workbooks
    month: str | None
    encoding: str | None
    sheets: tuple[tuple[str, str], ...]  # (sheet name, table)


@dataclass(frozen=True)
class PlantedRow:
    """A row planted on purpose, where the analyst would find it (1-based row as in Excel)."""

    file: str
    sheet: str
    row: int
    table: str
    expect: str  # quarantine | warning | duplicate | info
    reason: str
    column: str | None
    raw_value: str  # the cell as written ("" when empty; dates in Excel cells as 2020/3/5)
    detail: str | None


@dataclass(frozen=True)
class AccidentSummary:
    accident_id: str
    unit_id: str
    department_id: str | None
    report_month: str
    occurred_at: datetime
    reported_at: datetime
    deaths: int
    serious_injuries: int
    direct_loss_wan: float
    level_submitted: str
    level: str  # by the 条例 thresholds
    late_report: bool
    concealed: bool
    concealed_found_at: date | None
    case: str  # the planted special case, "" for an ordinary accident


@dataclass(frozen=True)
class SamplePlan:
    """What the sample holds and what was planted in it, so tests can check the pipeline found it."""

    seed: int
    months: tuple[str, ...]
    files: tuple[PlannedFile, ...]
    missing_submissions: tuple[tuple[str, str, str], ...]  # (unit_id, table, month) never received
    missing_unit_months: tuple[tuple[str, str], ...]  # (unit_id, month) with no file at all
    late_submissions: tuple[tuple[str, str, date], ...]  # (unit_id, month, 填报日期 after the 5th)
    no_inspection_months: tuple[tuple[str, str], ...]  # enforcement sheet sent with no rows
    bad_rows: dict[str, int]  # reason -> rows the cleaning stage should quarantine
    warnings: dict[str, int]  # reason -> rows kept with a warning
    duplicates: dict[str, int]  # table -> rows that repeat a record submitted elsewhere
    planted: tuple[PlantedRow, ...]
    accidents: tuple[AccidentSummary, ...]
    concealed_accidents: tuple[str, ...]
    late_report_accidents: tuple[str, ...]
    level_disagreements: tuple[str, ...]
    larger_accidents: tuple[str, ...]  # 较大 by the computed level
    rows_written: dict[str, int]  # table -> data rows in the files (duplicates and bad rows included)
    expected_records: dict[str, int]  # table -> distinct valid records the clean table should hold
    quirks: dict[str, tuple[str, ...]]  # quirk -> "file / sheet" where it appears
    header_variants: dict[str, tuple[str, ...]]  # "table.column" -> header texts used
    inspections_per_10_enterprises: dict[str, float]  # unit_id -> monthly mean (target 2.0)
    hazard_counts: dict[str, int]  # 重大, 挂牌督办, rectified late, still open past the deadline at 2020-12-31
    annual_review_missing: tuple[tuple[int, str], ...]
    key_work_over_cap: tuple[tuple[int, str, float], ...]  # (year, unit_id, sum > 15)
    bonus_over_cap: tuple[tuple[int, str, float], ...]  # (year, unit_id, sum > 5)

    def summary(self) -> str:
        lines = [
            f"seed {self.seed}: {len(self.files)} files, months {self.months[0]}..{self.months[-1]}",
            f"rows written {self.rows_written}; expected clean records {self.expected_records}",
            f"missing unit-months {list(self.missing_unit_months)}",
            f"missing sheets {[m for m in self.missing_submissions if m[:1] + m[2:] not in self.missing_unit_months]}",
            f"late submissions {[(u, m, d.isoformat()) for u, m, d in self.late_submissions]}",
            f"no inspections {list(self.no_inspection_months)}",
            f"bad rows {self.bad_rows}; warnings {self.warnings}; duplicates {self.duplicates}",
            f"较大 {list(self.larger_accidents)}; level disagreements {list(self.level_disagreements)}",
            f"late reports {list(self.late_report_accidents)}; concealed {list(self.concealed_accidents)}",
            f"quirks: {len(self.quirks)} kinds",
        ]
        return "\n".join(lines)


# ------------------------------------------------------------------------------------- plan
def summarise(truth: Truth, files: list[FileDoc], seed: int) -> SamplePlan:
    """Read the plan off the documents themselves, so it cannot drift from what is written."""
    planted, quirks, headers = [], {}, {}
    rows_written, records = Counter(), {}
    aliases = load_aliases(INGEST_RULES)
    for doc in files:
        for quirk in doc.quirks:
            quirks.setdefault(quirk, set()).add(doc.name)
        for sheet in doc.sheets:
            for quirk in sheet.quirks:
                quirks.setdefault(quirk, set()).add(f"{doc.name} / {sheet.name}")
            for column, text in zip(sheet.columns, sheet.header):
                if column in aliases[sheet.source]:
                    headers.setdefault(f"{sheet.source}.{column}", set()).add(text)
            for i, row in enumerate(sheet.body):
                if row.kind != "data":
                    continue
                rows_written[sheet.source] += 1
                if row.record is not None:
                    records.setdefault(sheet.source, set()).add(row.record)
                for note in row.notes:
                    cell = row.cells[sheet.columns.index(note.column)] if note.column in sheet.columns else None
                    planted.append(PlantedRow(doc.name, sheet.name, sheet.first_body_row() + i, sheet.source, note.expect,
                                              note.reason, note.column, cell_text(cell), note.detail))

    def count(expect: str, key) -> dict[str, int]:
        return dict(sorted(Counter(key(p) for p in planted if p.expect == expect).items()))

    calendar, units = truth.calendar, {unit.unit_id: unit for unit in truth.units}
    missing = {(uid, source, month) for uid, month in calendar.missing_unit_months for source in units[uid].sources}
    special = {accident_id: case for case, accident_id in truth.special_accidents.items()}
    accidents = tuple(
        AccidentSummary(a.accident_id, a.unit_id, a.department_id, a.report_month, a.occurred_at, a.reported_at,
                        a.deaths, a.serious_injuries, a.direct_loss_wan, a.level_submitted, a.level, a.late,
                        a.concealed, a.concealed_found_at, special.get(a.accident_id, ""))
        for a in truth.accidents)
    intensity = {}
    for unit in truth.units:
        months = [len(v) for (uid, _), v in truth.inspections.items() if uid == unit.unit_id]
        intensity[unit.unit_id] = round(sum(months) / max(len(months), 1) / (unit.enterprises / 10), 2)
    review = Counter()
    for item in truth.reviews:
        review[(item.year, item.unit_id, item.category)] += item.score
    return SamplePlan(
        seed=seed,
        months=MONTHS,
        files=tuple(PlannedFile(d.name, d.fmt, d.unit_id, d.month, d.encoding, tuple((s.name, s.source) for s in d.sheets))
                    for d in files),
        missing_submissions=tuple(sorted(missing | set(calendar.missing_sheets))),
        missing_unit_months=calendar.missing_unit_months,
        late_submissions=calendar.late,
        no_inspection_months=calendar.no_inspections,
        bad_rows=count("quarantine", lambda p: p.reason),
        warnings=count("warning", lambda p: p.reason),
        duplicates=count("duplicate", lambda p: p.table),
        planted=tuple(planted),
        accidents=accidents,
        concealed_accidents=tuple(a.accident_id for a in accidents if a.concealed),
        late_report_accidents=tuple(a.accident_id for a in accidents if a.late_report),
        level_disagreements=tuple(a.accident_id for a in accidents if a.level != a.level_submitted),
        larger_accidents=tuple(a.accident_id for a in accidents if a.level == "较大"),
        rows_written=dict(sorted(rows_written.items())),
        expected_records={table: len(keys) for table, keys in sorted(records.items())},
        quirks={quirk: tuple(sorted(places)) for quirk, places in sorted(quirks.items())},
        header_variants={key: tuple(sorted(texts)) for key, texts in sorted(headers.items())},
        inspections_per_10_enterprises=intensity,
        hazard_counts=hazard_counts(truth),
        annual_review_missing=tuple(truth.reviews_missing),
        key_work_over_cap=tuple((y, u, s) for (y, u, c), s in sorted(review.items()) if c == "重点工作" and s > KEY_WORK_CAP),
        bonus_over_cap=tuple((y, u, s) for (y, u, c), s in sorted(review.items()) if c == "加分" and s > BONUS_CAP),
    )


def hazard_counts(truth: Truth) -> dict[str, int]:
    """Hazards as the files finally show them: a fix is visible once a later sheet was filed after
    it (see `sample_layout.hazard_entries`)."""
    end = date(int(MONTHS[-1][:4]), 12, 31)
    last_filing: dict[str, date] = {}
    for uid, month in truth.hazards:
        last_filing[uid] = max(last_filing.get(uid, date.min), truth.calendar.filed_on[(uid, month)])
    counts = Counter()
    for (uid, _), hazards in truth.hazards.items():
        for h in hazards:
            fixed = h.rectified_at if h.rectified_at and h.rectified_at <= last_filing[uid] else None
            counts["total"] += 1
            counts["major"] += h.level == "重大"
            counts["supervised"] += h.supervised
            counts["rectified_late"] += bool(fixed and fixed > h.deadline)
            if fixed is None and h.deadline <= end:
                counts["open_past_deadline"] += 1
                counts["open_major_past_deadline"] += h.level == "重大"
                counts["open_supervised_past_deadline"] += h.supervised
    return dict(sorted(counts.items()))


def build(registry: pd.DataFrame, seed: int = 2020) -> tuple[list[FileDoc], SamplePlan]:
    truth = draw_truth(registry, seed)
    files, _ = build_files(truth, INGEST_RULES, seed)
    return files, summarise(truth, files, seed)


def plan(registry: pd.DataFrame, seed: int = 2020) -> SamplePlan:
    """What `write_sample` would write for this registry and seed, without writing anything."""
    return build(registry, seed)[1]


# ------------------------------------------------------------------------------------ write
def ensure_registry(out: Path, registry_path: Path | None = None) -> pd.DataFrame:
    """The registry in `out` (copied from `registry_path` or the project's when absent; never
    overwritten), loaded and checked."""
    out.mkdir(parents=True, exist_ok=True)
    target = out / REGISTRY_NAME
    if not target.exists():
        shutil.copyfile(registry_path or RAW_DIR / REGISTRY_NAME, target)
    return load_registry(target)


def write_sample(out: Path, seed: int = 2020, registry_path: Path | None = None) -> SamplePlan:
    """Write the sample for the registry in `out` into `out`; returns its plan."""
    out = Path(out)
    files, sample_plan = build(ensure_registry(out, registry_path), seed)
    for doc in files:
        (out / doc.name).write_bytes(render(doc))
    _set_arrival_times(out, sample_plan)
    return sample_plan


def _set_arrival_times(out: Path, sample_plan: SamplePlan) -> None:
    """Give each file the modification time it would have on arrival, not the time it was written.

    Submission tracking falls back to the file time when a file states no 填报日期 (web-system
    exports), so the sample must look as if units sent their files on time: the 3rd of the
    following month, or the planted late date. Times are office-local (Asia/Shanghai) at 09:00.
    """
    late = {(unit, month): day for unit, month, day in sample_plan.late_submissions}
    for planned in sample_plan.files:
        if planned.month:
            month = pd.Period(planned.month, "M")
            day = late.get((planned.unit_id, planned.month), (month + 1).start_time.date().replace(day=3))
        else:  # the year-end review workbook of a year: early in January after it
            year = int(re.search(r"(?:19|20)\d{2}", planned.name).group(0))
            day = date(year + 1, 1, 10)
        stamp = pd.Timestamp(day).replace(hour=9).tz_localize("Asia/Shanghai").timestamp()
        os.utime(out / planned.name, (stamp, stamp))


def write_large(out: Path, n_records: int, fmt: str = "csv", seed: int = 2020,
                registry_path: Path | None = None) -> list[LargeFile]:
    """Benchmark inputs: n_records enforcement and hazard rows (about 60/40) in a few big files."""
    out = Path(out)
    return write_large_files(out, ensure_registry(out, registry_path), n_records, fmt, seed)


# -------------------------------------------------------------------------------------- CLI
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.generate", description="生成示例数据 (sample data generator)")
    parser.add_argument("--out", type=Path, required=True, help="folder to write into (its units.csv is the registry)")
    parser.add_argument("--seed", type=int, default=2020, help="the same seed gives the same bytes (default 2020)")
    parser.add_argument("--size", type=int, help="benchmark mode: number of records to write")
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv", help="benchmark file format")
    parser.add_argument("--registry", type=Path, help="registry to copy into --out when it has none")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        if args.size is not None:
            if args.size < 0:
                parser.error("--size must be >= 0")
            written = write_large(args.out, args.size, args.format, args.seed, args.registry)
            for item in written:
                print(f"{item.path}  {item.source}  {item.rows} 行")
            print(f"共 {sum(f.rows for f in written)} 行, 用时 {time.perf_counter() - started:.1f} 秒")
        else:
            result = write_sample(args.out, args.seed, args.registry)
            print(result.summary())
            print(f"已写入 {len(result.files)} 个文件到 {args.out}, 用时 {time.perf_counter() - started:.1f} 秒")
    except InputError as error:
        print(f"错误: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # an output folder that cannot be written, a full disk
        print(f"错误: 无法写入 {args.out}(cannot write): {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
