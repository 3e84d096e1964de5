"""Large synthetic inputs for benchmarks: millions of enforcement and hazard rows, vectorised.

Rows are drawn as integer codes with numpy and turned into text by `take` from small lookup tables
(every date of the period in every written form, every count with and without `项`, ...), so no
Python code runs per row and memory stays at one chunk. About 60% of the records are inspections
and 40% hazards, spread over the registry's units and the twelve months of 2020, written to a
handful of files (at most `ROWS_PER_FILE` rows each). A small share of values is messy (full-width
digits, `3项`, `1.5万元`, dates in mixed forms, Excel serials) so cleaning has work to do.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from pipeline.sample_base import units_from_registry
from pipeline.sample_names import BRANDS, ENTERPRISE_KINDS, GENERIC_KINDS
from pipeline.sample_style import FULLWIDTH, excel_serial

ROWS_PER_FILE = 1_000_000
CHUNK_ROWS = 250_000
FIRST_DAY = date(2020, 1, 1)
DAYS = 366 + 90  # 2020 plus room for deadlines and rectification into 2021
YEAR_DAYS = 366
# Written forms of a date and how often each appears.
DATE_FORMS = ("iso", "slash", "dot", "chinese", "fullwidth", "serial")
DATE_FORM_P = (0.85, 0.05, 0.02, 0.04, 0.01, 0.03)
NAMES_PER_UNIT = 400

# Canonical Chinese headers (the first alias of each column in rules/ingest.toml).
ENFORCEMENT_HEADERS = {
    "record_id": "检查编号", "unit": "执法单位", "inspected_at": "检查日期", "enterprise": "被检查单位",
    "mode": "检查方式", "hazards_found": "发现隐患数", "case_filed": "是否立案", "penalized": "是否处罚",
    "fine_wan": "罚款金额(万元)", "publicized": "执法公示", "recorded": "全过程记录", "legal_review": "法制审核",
    "file_review_score": "案卷评查得分",
}
HAZARD_HEADERS = {
    "hazard_id": "隐患编号", "unit": "属地单位", "enterprise": "企业名称", "found_at": "发现日期",
    "deadline": "整改期限", "rectified_at": "整改完成日期", "level": "隐患等级", "supervised": "挂牌督办",
    "source": "来源",
}
MODES = ("双随机", "双随机抽查", "计划", "日常检查", "专项", "举报核查", "交叉执法", "其他")
MODE_P = (0.3, 0.15, 0.2, 0.1, 0.12, 0.05, 0.04, 0.04)
BOOL_TOKENS = (("是", "否"), ("√", "×"), ("Y", "N"), ("1", "0"))
BOOL_P = (0.92, 0.04, 0.02, 0.02)


@dataclass(frozen=True)
class LargeFile:
    path: Path
    source: str
    rows: int


def rng_for(seed: int, *keys: object) -> np.random.Generator:
    """A numpy generator per (seed, purpose, part, chunk): chunks are reproducible on their own."""
    return np.random.default_rng([seed, *(zlib.crc32(str(key).encode("utf-8")) for key in keys)])


# ------------------------------------------------------------------------------ lookup tables
def date_table() -> pa.Array:
    """Every day of the period in every form, form-major: index = form * DAYS + day."""
    days = [FIRST_DAY + timedelta(days=i) for i in range(DAYS)]
    texts = []
    for form in DATE_FORMS:
        for d in days:
            if form == "iso":
                texts.append(f"{d:%Y-%m-%d}")
            elif form == "slash":
                texts.append(f"{d.year}/{d.month}/{d.day}")
            elif form == "dot":
                texts.append(f"{d.year}.{d.month}.{d.day}")
            elif form == "chinese":
                texts.append(f"{d.year}年{d.month}月{d.day}日")
            elif form == "fullwidth":
                texts.append(f"{d.year}年{d.month}月{d.day}日".translate(FULLWIDTH))
            else:
                texts.append(str(int(excel_serial(d))))
    return pa.array(texts, pa.string())


def count_table() -> pa.Array:
    """0-9 plain, full-width, and with 项: index = form * 10 + count."""
    return pa.array([str(n) for n in range(10)] + [str(n).translate(FULLWIDTH) for n in range(10)]
                    + [f"{n}项" for n in range(10)])


def fine_table() -> pa.Array:
    """0.1 .. 10.0 万元 as 1.5, 1.5万元 or 15000元: index = form * 101 + tenths (0 = empty)."""
    plain = [""] + [f"{t / 10:g}" for t in range(1, 101)]
    wan = [""] + [f"{t / 10:g}万元" for t in range(1, 101)]
    yuan = [""] + [f"{t * 1000}元" for t in range(1, 101)]
    return pa.array(plain + wan + yuan)


def enterprise_names(seed: int, n_units: int) -> pa.Array:
    """NAMES_PER_UNIT distinct enterprise names per unit (unit u owns block u)."""
    kinds = sorted({k for ks in ENTERPRISE_KINDS.values() for k in ks if k.endswith("公司")} | set(GENERIC_KINDS))
    rng = rng_for(seed, "large-names")
    names = [f"{b}{k}" for b in BRANDS for k in kinds]
    rng.shuffle(names)
    needed = n_units * NAMES_PER_UNIT
    numbered = [f"{names[i % len(names)]}{'' if i < len(names) else f'第{i // len(names)}分公司'}" for i in range(needed)]
    return pa.array(numbered)


class Tables:
    def __init__(self, registry: pd.DataFrame, seed: int):
        units = units_from_registry(registry)
        self.names = pa.array([u.name for u in units])
        weights = np.array([max(u.enterprises, 1) for u in units], dtype=float)
        self.unit_p = weights / weights.sum()
        self.dates = date_table()
        self.counts = count_table()
        self.fines = fine_table()
        self.enterprises = enterprise_names(seed, len(units))
        self.modes = pa.array(MODES)
        self.bools = pa.array([t for pair in BOOL_TOKENS for t in pair])  # index = 2 * form + (0 true | 1 false)


# ---------------------------------------------------------------------------------- columns
def dated(tables: Tables, rng, day: np.ndarray) -> pa.Array:
    form = rng.choice(len(DATE_FORMS), size=day.size, p=DATE_FORM_P)
    return pc.take(tables.dates, form * DAYS + day)


def flags(tables: Tables, rng, value: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    form = rng.choice(len(BOOL_TOKENS), size=value.size, p=BOOL_P)
    text = pc.take(tables.bools, 2 * form + (~value).astype(np.int64))
    return text if mask is None else pc.if_else(pa.array(mask), text, pa.scalar(None, pa.string()))


def numbered(prefix: str, start: int, n: int) -> pa.Array:
    digits = pc.utf8_lpad(pc.cast(pa.array(np.arange(start, start + n)), pa.string()), 9, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def units_and_enterprises(tables: Tables, rng, n: int) -> tuple[pa.Array, pa.Array]:
    unit = rng.choice(len(tables.unit_p), size=n, p=tables.unit_p)
    enterprise = unit * NAMES_PER_UNIT + rng.integers(0, NAMES_PER_UNIT, size=n)
    return pc.take(tables.names, unit), pc.take(tables.enterprises, enterprise)


def enforcement_chunk(tables: Tables, rng, start: int, n: int, days: tuple[int, int] = (0, YEAR_DAYS)) -> pa.Table:
    unit, enterprise = units_and_enterprises(tables, rng, n)
    filed = rng.random(n) < 0.1
    penalized = filed & (rng.random(n) < 0.85)
    tenths = np.where(penalized, rng.integers(1, 101, size=n), 0)
    fine_form = rng.choice(3, size=n, p=(0.9, 0.06, 0.04))
    count_form = rng.choice(3, size=n, p=(0.94, 0.03, 0.03))
    scored = filed & (rng.random(n) < 0.4)
    scores = pc.cast(pa.array(rng.integers(55, 99, size=n)), pa.string())
    columns = {
        "record_id": numbered("JC2020-", start, n),
        "unit": unit,
        "inspected_at": dated(tables, rng, rng.integers(*days, size=n)),
        "enterprise": enterprise,
        "mode": pc.take(tables.modes, rng.choice(len(MODES), size=n, p=MODE_P)),
        "hazards_found": pc.take(tables.counts, count_form * 10 + np.minimum(rng.poisson(1.0, size=n), 9)),
        "case_filed": flags(tables, rng, filed),
        "penalized": flags(tables, rng, penalized),
        "fine_wan": pc.take(tables.fines, fine_form * 101 + tenths),
        "publicized": flags(tables, rng, rng.random(n) < 0.9),
        "recorded": flags(tables, rng, rng.random(n) < 0.93),
        "legal_review": flags(tables, rng, rng.random(n) < 0.8, mask=filed),
        "file_review_score": pc.if_else(pa.array(scored), scores, pa.scalar(None, pa.string())),
    }
    return pa.table({ENFORCEMENT_HEADERS[k]: v for k, v in columns.items()})


def hazards_chunk(tables: Tables, rng, start: int, n: int, days: tuple[int, int] = (0, YEAR_DAYS)) -> pa.Table:
    unit, enterprise = units_and_enterprises(tables, rng, n)
    found = rng.integers(*days, size=n)
    major = rng.random(n) < 0.04
    allowed = np.where(major, rng.integers(30, 91, size=n), rng.integers(3, 31, size=n))
    outcome = rng.random(n)
    fix_day = np.where(outcome < 0.9, found + (rng.random(n) * (allowed + 1)).astype(np.int64),
                       found + allowed + rng.integers(1, 41, size=n))
    fixed = (outcome < 0.97) & (fix_day < DAYS)
    level_text = pa.array(["一般", "一般隐患", "重大", "重大隐患"])
    columns = {
        "hazard_id": numbered("YH2020-", start, n),
        "unit": unit,
        "enterprise": enterprise,
        "found_at": dated(tables, rng, found),
        "deadline": dated(tables, rng, found + allowed),
        "rectified_at": pc.if_else(pa.array(fixed), dated(tables, rng, np.minimum(fix_day, DAYS - 1)),
                                   pa.scalar(None, pa.string())),
        "level": pc.take(level_text, 2 * major.astype(np.int64) + rng.integers(0, 2, size=n)),
        "supervised": flags(tables, rng, major & (rng.random(n) < 0.7)),
        "source": pc.take(pa.array(["企业自查", "部门检查", "举报"]), rng.choice(3, size=n, p=(0.3, 0.62, 0.08))),
    }
    return pa.table({HAZARD_HEADERS[k]: v for k, v in columns.items()})


# ------------------------------------------------------------------------------------ files
CHUNKERS = {"enforcement": enforcement_chunk, "hazards": hazards_chunk}
TITLES = {"enforcement": "执法检查情况汇总表", "hazards": "隐患排查治理情况汇总表"}
FILE_LABELS = {"enforcement": "执法检查", "hazards": "隐患排查"}


def write_large_files(out: Path, registry: pd.DataFrame, n_records: int, fmt: str, seed: int) -> list[LargeFile]:
    """Write n_records rows (60% inspections, 40% hazards) as CSV or Parquet; returns what it wrote."""
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"format must be csv or parquet, not {fmt!r}")
    tables = Tables(registry, seed)
    n_enforcement = round(n_records * 0.6)
    written = []
    for source, total in (("enforcement", n_enforcement), ("hazards", n_records - n_enforcement)):
        parts = max(1, math.ceil(total / ROWS_PER_FILE))
        for part in range(parts):
            first, last = part * total // parts, (part + 1) * total // parts
            # Each file covers its own stretch of the year, as a big export split by period: the
            # same inspection (unit, enterprise, day) never appears in two files, which the
            # cleaner would rightly drop as a resubmission.
            days = (part * YEAR_DAYS // parts, (part + 1) * YEAR_DAYS // parts)
            path = out / f"benchmark_2020_{FILE_LABELS[source]}_{part + 1:02d}.{fmt}"
            written.append(LargeFile(path, source, last - first))
            chunks = (
                CHUNKERS[source](tables, rng_for(seed, "large", source, part, start), start, min(CHUNK_ROWS, last - start), days)
                for start in range(first, last, CHUNK_ROWS)
            )
            title = f"2020年{TITLES[source]}(第{part + 1}部分)"
            (write_csv if fmt == "csv" else write_parquet)(path, chunks, title, source)
    return written


def schema_of(source: str) -> pa.Schema:
    headers = ENFORCEMENT_HEADERS if source == "enforcement" else HAZARD_HEADERS
    return pa.schema([(h, pa.string()) for h in headers.values()])


# Like Excel, quote nothing: no value holds a comma, quote or line break (pyarrow raises if one did).
CSV_OPTIONS = pcsv.WriteOptions(batch_size=65536, eol="\r\n", quoting_style="none", quoting_header="none")


def write_csv(path: Path, chunks, title: str, source: str) -> None:
    """UTF-8 with BOM, as Excel saves it; a title line and a 填报单位 line above the header."""
    with path.open("wb") as handle:
        handle.write(f"\ufeff{title}\r\n填报单位:区安委办汇总    填报日期:2021-01-05\r\n".encode("utf-8"))
        with pcsv.CSVWriter(handle, schema_of(source), write_options=CSV_OPTIONS) as writer:
            for chunk in chunks:
                writer.write_table(chunk)


def write_parquet(path: Path, chunks, title: str, source: str) -> None:
    with pq.ParquetWriter(path, schema_of(source)) as writer:
        for chunk in chunks:
            writer.write_table(chunk)
