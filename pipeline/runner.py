"""The one module that does I/O for `process`: raw files in, Parquet tables out.

It reads every file under the raw folder (never writing there), cleans each sheet, finishes the
batch, scores it when the scoring stage is available, and writes each table to a temporary name
before moving it into place, so a run killed midway leaves the previous tables intact.
A fingerprint of the inputs, rules and code makes a rerun with nothing changed do no work.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow.compute as pc
from filelock import FileLock

from pipeline import arrow_text, config, cores
from pipeline.clean import Registry, SheetPart, clean_batch, prepare_sheet
from pipeline.errors import InputError
from pipeline.frames import arrow_allocator, big_blocks_returned, release_memory
from pipeline.freshness import MANIFEST, UNCHANGED, fingerprint, list_input_files, rules_files, up_to_date
from pipeline.ingest_rules import IngestRules, load_ingest_rules
from pipeline.parse import normalise_text, parse_datetime
from pipeline.read import read_file, readable_name
from pipeline.registry import load_registry, normalise_name

FILES_COLUMNS = ["source_file", "source_sheet", "source_type", "status", "message", "rows_read", "clean",
                 "quarantined", "nondata", "duplicates", "rows_unread", "nondata_detail", "sha256", "size_bytes",
                 "file_mtime", "reporting_unit_id", "title_period", "report_date"]


@dataclass
class ProcessResult:
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    files: pd.DataFrame = field(default_factory=pd.DataFrame)
    skipped: bool = False

    @property
    def files_read(self) -> int:
        if self.files.empty:
            return 0
        return int(self.files.loc[self.files["status"].eq("ok"), "source_file"].nunique())


def sha256_of(path: Path, stopped: Callable[[], bool] = lambda: False) -> str:
    """The file's SHA-256 (hex); "" if `stopped()` turns true while it is read."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            if stopped():
                return ""
            digest.update(block)
    return digest.hexdigest()


HASH_ASIDE_BYTES = 32 << 20  # a file at least this big is hashed on a thread while it is read


class _HashAside:
    """sha256_of(path) on a thread of its own, for a big file: hashlib lets go of the GIL, so the
    hash costs no wall time while the file is read (hundreds of MB: 0.1 s per 100 MB saved).
    `stop()` ends it (at the next MiB) and joins it: called once the file's reading is over, in
    every case, so no thread outlives it and a file that cannot be read is not hashed to the end."""

    def __init__(self, path: Path):
        self.digest = ""
        self.error: BaseException | None = None
        self._stopped = False
        self._thread = threading.Thread(target=self._run, args=(path,), name="sha256", daemon=True)
        self._thread.start()

    def _run(self, path: Path) -> None:
        try:
            self.digest = sha256_of(path, lambda: self._stopped)
        except BaseException as error:  # noqa: BLE001 - raised again by result(), in the reading thread
            self.error = error

    def result(self) -> str:
        self._thread.join()
        if self.error is not None:
            raise self.error
        return self.digest

    def stop(self) -> None:
        self._stopped = True
        self._thread.join()


def _temporary_name(target: Path) -> Path:
    return target.with_name(f".{target.stem}.{os.getpid()}.tmp")


def _stage_parquet(frame: pd.DataFrame, target: Path) -> None:
    """Write a table beside its target under its hidden temporary name (`_temporary_name`, made
    with the usual permissions, unlike mkstemp's owner-only ones)."""
    temporary = _temporary_name(target)
    # Min/max statistics for every column but text ones: nothing here reads those of text, and
    # working them out for millions of texts is a fifth of the writing (2.0 -> 1.65 s for the
    # 3·10^6 inspections of the benchmark).
    with_statistics = [str(c) for c, dtype in frame.dtypes.items() if not isinstance(dtype, pd.StringDtype)]
    try:
        with cores.at_work():  # (a core taken: no helper is started for it meanwhile)
            frame.to_parquet(temporary, index=False, write_statistics=with_statistics)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


class TablePublisher:
    """Tables written as soon as each is final, all moved into place at the end, the manifest last.

    `write` starts a table's Parquet file under a hidden temporary name on one of two writer
    threads (encoding and compression release the GIL), so the big clean tables are written while
    the run goes on to check the others and score them (`write` may be called from any thread).
    `commit` waits for every writer, then moves the files into
    place. The manifest is removed before the first move and written after the last, so a run
    killed in between leaves no manifest: the folder is then known to be incomplete and the next
    run redoes the work. Leaving the `with` block without `commit` (an error, Ctrl-C) waits for
    the running writers and removes every temporary file: the previous tables stay as they were.
    """

    def __init__(self, processed: Path):
        self.processed = processed
        self._staged: dict[str, Path] = {}
        self._futures: list = []
        self._pool = ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1), thread_name_prefix="parquet")
        self._lock = threading.Lock()  # (`write` may be called from the threads finishing tables)

    def __enter__(self) -> "TablePublisher":
        return self

    def write(self, name: str, frame: pd.DataFrame) -> None:
        target = self.processed / f"{name}.parquet"
        with self._lock:
            if name in self._staged:
                raise ValueError(f"table {name} written twice")
            # The name is known before the file exists (the rule of _stage_parquet), so whatever
            # happens none is left. The writer gets its own shallow copy: a later change to the
            # caller's frame (copy-on-write) never reaches a file being written.
            self._staged[name] = _temporary_name(target)
            self._futures.append(self._pool.submit(_stage_parquet, frame.copy(deep=False), target))

    def wait(self) -> None:
        """Until every table given so far is written (its temporary file complete)."""
        for future in self._futures:
            future.result()  # the first failure, if any (Ctrl-C lands here, while the writers run)

    def commit(self, manifest: dict) -> None:
        self.wait()
        (self.processed / MANIFEST).unlink(missing_ok=True)
        for name in list(self._staged):
            os.replace(self._staged[name], self.processed / f"{name}.parquet")
            del self._staged[name]
        tmp = self.processed / f".{MANIFEST}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), "utf-8")
        os.replace(tmp, self.processed / MANIFEST)

    def __exit__(self, *exc) -> None:
        try:  # also on Ctrl-C: the running writers finish before their files are removed below
            self._pool.shutdown(wait=True, cancel_futures=True)
        finally:
            for temporary in self._staged.values():
                temporary.unlink(missing_ok=True)


def local_time(epoch_seconds: float) -> pd.Timestamp:
    """A file time as the office's wall clock reads it (deadlines are local calendar days)."""
    stamp = pd.Timestamp(epoch_seconds, unit="s", tz="UTC").tz_convert(config.OFFICE_TIMEZONE)
    return stamp.tz_localize(None).floor("s")


def _reporting_unit(meta_unit: str | None, file_name: str, registry: Registry) -> str | None:
    """The submitting unit: the 填报单位 line when it names a registry unit, else a name in the file name."""
    if meta_unit and (unit_id := registry.resolve(meta_unit)):
        return unit_id
    folded = normalise_name(file_name)
    for spelling in sorted(registry.spellings, key=len, reverse=True):
        if normalise_name(spelling) in folded:
            return registry.resolve(spelling)
    return None


def _sheet_row(path: Path, rel: str, sha: str, result: SheetPart | None, registry: Registry, rules: IngestRules, error: str = "") -> dict:
    try:
        stat = path.stat()
    except OSError:  # gone since it was listed, or a link leading nowhere
        stat = None
    row = {column: None for column in FILES_COLUMNS}
    row.update(source_file=rel, sha256=sha, size_bytes=stat.st_size if stat else None,
               file_mtime=local_time(stat.st_mtime) if stat else None)
    if result is None:
        row.update(source_sheet="", status="error", message=error, rows_read=0, clean=0, quarantined=0,
                   nondata=0, duplicates=0, rows_unread=0, nondata_detail="")
        return row
    row.update(result.summary)
    meta = result.meta
    row["reporting_unit_id"] = _reporting_unit(meta.reporting_unit, rel, registry)
    row["title_period"] = meta.title_period
    row["report_date"] = meta.report_date  # text here; parsed for all sheets at once in files_table
    return row


def files_table(rows: list[dict], tables: dict[str, pd.DataFrame], quarantine: pd.DataFrame, warnings: pd.DataFrame) -> pd.DataFrame:
    """One row per (file, sheet) with the conservation counts filled from the final tables."""
    files = pd.DataFrame(rows, columns=FILES_COLUMNS)
    key = ["source_file", "source_sheet"]
    clean = _sheet_counts([t for t in tables.values() if not t.empty], key)
    quarantined = quarantine.drop_duplicates(key + ["source_row"])[key].value_counts() if not quarantine.empty else pd.Series(dtype=int)
    duplicates = warnings.loc[warnings["kind"].eq("重复"), key].value_counts() if not warnings.empty else pd.Series(dtype=int)
    index = pd.MultiIndex.from_frame(files[key])
    files["clean"] = clean.reindex(index, fill_value=0).to_numpy()
    files["quarantined"] = quarantined.reindex(index, fill_value=0).to_numpy()
    files["duplicates"] = duplicates.reindex(index, fill_value=0).to_numpy()
    for column in ("rows_read", "clean", "quarantined", "nondata", "duplicates", "rows_unread", "size_bytes"):
        files[column] = pd.to_numeric(files[column]).astype("Int64")
    dates = files["report_date"].astype("str").fillna("")
    files["report_date"] = parse_datetime(normalise_text(dates), frozenset({""}), keep_time=False).values
    for column in ("file_mtime", "report_date"):
        files[column] = pd.to_datetime(files[column]).astype("datetime64[us]")
    for column in ("source_file", "source_sheet", "source_type", "status", "message", "nondata_detail", "sha256", "reporting_unit_id", "title_period"):
        files[column] = files[column].astype("str")
    return files.sort_values(key, kind="stable").reset_index(drop=True)


def _sheet_counts(tables: list[pd.DataFrame], key: list[str]) -> pd.Series:
    """Rows per (file, sheet) of the tables, as `pd.concat(...)[key].value_counts()` gives them
    (rows missing either key not counted). A table holds each sheet's rows as one run (it is in
    submission order), so the runs are found by comparing neighbours and only their first rows'
    labels are counted: no hashing of millions of file names. (Correct in any order: a sheet
    met in several runs has its runs added up.)"""
    heads, lengths = [], []
    for table in tables:
        columns = [arrow_text.arrow(table[c].astype("str")) for c in key]
        n = len(table)
        change = np.ones(n, dtype=bool)  # a row is a run's first when some key differs from the row above
        if n > 1:
            change[1:] = ~np.logical_and.reduce([pc.fill_null(pc.equal(c.slice(1), c.slice(0, n - 1)), False)
                                                 .to_numpy(zero_copy_only=False) for c in columns])
        starts = np.flatnonzero(change)
        heads.append(table[key].iloc[starts].reset_index(drop=True))
        lengths.append(np.diff(np.append(starts, n)))
    if not heads:
        return pd.DataFrame(columns=key).value_counts()
    runs = pd.concat(heads, ignore_index=True).assign(count=np.concatenate(lengths))
    return runs.dropna(subset=key).groupby(key, sort=False)["count"].sum()


def process(raw: Path, processed: Path, rules_path: Path = config.INGEST_RULES, progress: Callable[[str], None] = print,
            score: bool = True, force: bool = False, workers: bool = False) -> ProcessResult:
    """raw folder -> every processed table. Raises InputError when nothing at all can be used.
    `workers`: read many small files in two forked worker processes; only from a process running
    no other thread (the command line's `process`)."""
    if not raw.is_dir():
        raise InputError(f"找不到原始数据文件夹 {raw}(raw folder not found)")
    rules = load_ingest_rules(rules_path)
    registry = Registry(load_registry(raw / config.REGISTRY_NAME))
    inputs = list_input_files(raw, config.REGISTRY_NAME)
    if not inputs:
        raise InputError(f"{raw} 中没有可读取的数据文件(no data files in the raw folder)")
    processed.mkdir(parents=True, exist_ok=True)
    with FileLock(str(processed / ".lock")):
        for leftover in processed.glob(".*.tmp"):  # from a run that was killed (we hold the lock)
            leftover.unlink(missing_ok=True)
        stamp = fingerprint(raw, inputs, rules_files(rules_path))
        if not force and up_to_date(processed, stamp, score):
            progress(UNCHANGED)
            return ProcessResult(skipped=True)
        return _process_locked(raw, processed, rules, registry, inputs, stamp, progress, score, workers)


# A month's submissions are hundreds of small workbooks, and reading and recognising each is
# Python work: with `workers`, those files are read on both cores by forked worker processes.
# Forking is safe only from a process running no other thread, so only the command line's
# `process` asks for it (the report command's kernels run threads: it reads in-process). Only
# small files go (a big one would be copied back whole), and not for too few to pay for the
# workers. Whatever a worker cannot bring back (a crash, an error of any kind, a worker killed)
# is read again here, one by one, so the outcome is always that of reading one by one.
POOL_MIN_FILES = 32
POOL_FILE_BYTES = 8 << 20
_RULES: list[IngestRules] = []  # the ingest rules, in a worker (set before it is forked)


def _read_one(path: Path, rel: str, rules: IngestRules) -> tuple[str, list[SheetPart] | str]:
    """(sha256, the file's sheets prepared) or ("", why the file cannot be used)."""
    try:
        size = path.stat().st_size if path.is_file() else 0
    except OSError:
        size = 0  # (read_file explains it)
    hashing = _HashAside(path) if size >= HASH_ASIDE_BYTES else None
    try:
        sheets = read_file(path)  # its error first: it explains a missing file or a broken link
        sha = hashing.result() if hashing is not None else sha256_of(path)
    except InputError as error:
        return "", str(error).replace(path.name, readable_name(path.name))
    except OSError as error:
        return "", f"{rel}: 文件在读取时不可用(file vanished or unreadable: {error.strerror})"
    finally:
        if hashing is not None:
            hashing.stop()
    if not sheets:
        return "", f"{rel}: 文件中没有工作表(no sheets)"
    prepared = []
    for sheet in sheets:
        sheet.name = readable_name(sheet.name)  # a CSV's sheet is named after its file
        prepared.append(prepare_sheet(sheet, rel, rules))
    return sha, prepared


def _read_in_worker(path: Path, rel: str) -> tuple[str, list[SheetPart] | str] | None:
    """`_read_one` in a worker; None (read it again in the command) for anything else it raises."""
    try:
        return _read_one(path, rel, _RULES[0])
    except BaseException:  # noqa: BLE001 - the command reads the file itself and reports as usual
        return None


def _start_worker() -> None:
    """Ctrl-C reaches the workers too: the command stops them and says so once, without each
    worker printing its own traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _pooled(inputs: list[Path]) -> list[int]:
    """Positions of the inputs worth reading in worker processes (none when it would not pay)."""
    # fork on Linux only (macOS's system libraries are not safe to fork; Windows has no fork).
    if (os.cpu_count() or 1) < 2 or not sys.platform.startswith("linux"):
        return []
    small = []
    for position, path in enumerate(inputs):
        try:
            if path.is_file() and path.stat().st_size <= POOL_FILE_BYTES:
                small.append(position)
        except OSError:  # read here, where the reason is worded
            pass
    return small if len(small) >= POOL_MIN_FILES else []


def _read_inputs(inputs: list[Path], raw: Path, rules: IngestRules, workers: bool = False,
                 forked: Callable[[], None] = lambda: None):
    """(path, name as shown, (sha256, sheets prepared) or ("", why not)) for every input, in
    input order, as each is read. `workers`: small files read by two forked worker processes.
    `forked()` is called before the first file is read, once the workers (if any) are forked."""
    names = [readable_name(path.relative_to(raw).as_posix()) for path in inputs]
    pending: dict[int, Future] = {}
    pool = None
    if workers and (pooled := _pooled(inputs)):
        _RULES[:] = [rules]  # inherited by the forked workers
        pool = ProcessPoolExecutor(2, mp_context=mp.get_context("fork"), initializer=_start_worker)
        # (a fork-context pool forks all its workers at the first submit)
        pending = {i: pool.submit(_read_in_worker, inputs[i], names[i]) for i in pooled}
    try:
        forked()
        for position, (path, name) in enumerate(zip(inputs, names)):
            outcome = None
            if position in pending:
                try:
                    outcome = pending.pop(position).result()
                except Exception:  # a worker that died or a result that could not come back
                    outcome = None
            yield path, name, outcome if outcome is not None else _read_one(path, name, rules)
    finally:
        _RULES.clear()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


# Imported on a thread while the files are read (pandera, which a run with nothing to do never
# needs, takes 0.4 s): reading is mostly Arrow's parser, which lets go of the GIL, and the
# reading thread waits for it. 5·10^6 CSV records: 0.5 s less.
LATER_MODULES = ("pipeline.finalize", "pipeline.scoring", "pipeline.submissions", "pipeline.commands")


def _import_aside(modules: tuple[str, ...]) -> threading.Thread:
    """A thread importing `modules`. Not started before worker processes are forked: a fork while
    a thread holds a module's import lock would leave that lock held in the worker. An import that
    fails here fails again, with its message, where the module is used."""
    def run() -> None:
        for module in modules:
            try:
                importlib.import_module(module)
            except BaseException:  # noqa: BLE001 - raised again by the import where it is used
                return

    thread = threading.Thread(target=run, name="imports", daemon=True)
    thread.start()
    return thread


# The stages of a run, as its summary line names them with their seconds (the manifest holds no
# times: two runs of the same inputs leave the same manifest).
STAGES = {"read": "读取", "clean": "清洗", "check": "校验", "score": "评分", "write": "写出"}


def _process_locked(raw, processed, rules, registry, inputs, stamp, progress, score, workers) -> ProcessResult:
    started = time.perf_counter()
    stage_seconds: dict[str, float] = {}

    def stage_done(stage: str) -> None:  # (each stage from the end of the one before)
        stage_seconds[stage] = round(time.perf_counter() - started - sum(stage_seconds.values()), 3)

    big_blocks_returned()
    arrow_allocator()
    parts: list[tuple[Path, str, str, SheetPart]] = []
    rows: list[dict] = []
    importing = []  # (started once the worker processes, if any, are forked)
    reading = _read_inputs(inputs, raw, rules, workers, lambda: importing.append(_import_aside(LATER_MODULES)))
    for number, (path, rel, (sha, read)) in enumerate(reading, start=1):
        if isinstance(read, str):  # why the file could not be used
            rows.append(_sheet_row(path, rel, "", None, registry, rules, read))
        else:  # the parts hold the body cells; the cleaner lets them go source by source
            parts.extend((path, rel, sha, part) for part in read)
        if number % 100 == 0:
            progress(f"  已读取 {number}/{len(inputs)} 个文件…")
    progress(f"  已读取 {len(inputs)} 个文件,清洗中…(cleaning)")
    stage_done("read")
    release_memory()
    results = clean_batch([part for *_, part in parts], rules, registry)
    for thread in importing:
        thread.join()
    stage_done("clean")
    from pipeline.finalize import finalize  # (imported aside by now)
    release_memory()
    rows += [_sheet_row(path, rel, sha, part, registry, rules) for path, rel, sha, part in parts]
    with TablePublisher(processed) as publisher:
        # Each clean table is written as soon as it is final (`finalize`'s publish), on a core
        # the other tables' checks leave free, while the run goes on to score them.
        tables, quarantine, warnings = finalize(results, rules, publisher.write)
        del results
        release_memory()
        files = files_table(rows, tables, quarantine, warnings)
        if files.loc[files["status"].eq("ok")].empty:
            reasons = ";".join(_file_problems(name, group) for name, group in files.groupby("source_file", sort=True))
            raise InputError(f"没有任何文件能够读取(no file could be read):{reasons}")
        outputs = dict(tables, quarantine=quarantine, warnings=warnings, files=files)
        for name in ("quarantine", "warnings", "files"):
            publisher.write(name, outputs[name])
        stage_done("check")
        if score:
            scored = score_tables(tables, files, registry.frame)
            for name, frame in scored.items():
                publisher.write(name, frame)
            outputs.update(scored)
        stage_done("score")
        publisher.wait()  # (the tables still being written: most were written while the run went on)
        stage_done("write")
        manifest = {"fingerprint": stamp, "scored": score, "tables": sorted(outputs),
                    "ingest_rules_version": rules.version, "ingest_rules_sha256": rules.sha256}
        publisher.commit(manifest)
    release_memory()
    _print_summary(files, progress, time.perf_counter() - started, stage_seconds)
    return ProcessResult(tables=outputs, files=files)


def score_tables(tables: dict[str, pd.DataFrame], files: pd.DataFrame, registry: pd.DataFrame,
                 rules_dir: Path = config.RULES_DIR) -> dict[str, pd.DataFrame]:
    """Scores, ranks, the year-end assessment and the submissions table, each year by its rulebook."""
    from pipeline.commands import submission_rules
    from pipeline.rulebook import load_rulebook, rulebook_for_year
    from pipeline.scoring import score_all
    from pipeline.submissions import track_submissions

    # Every year from the first date to the last (score_all scores each of them), each date
    # column's ends on their own (no concatenated column of millions of dates).
    dates = [tables[t][c] for t, c in (("accidents", "occurred_at"), ("enforcement", "inspected_at"), ("hazards", "found_at"))]
    ends = [e for d in dates for e in (d.min(), d.max()) if pd.notna(e)]
    years = list(range(min(ends).year, max(ends).year + 1)) if ends else [pd.Timestamp.now().year]
    books = {year: load_rulebook(rulebook_for_year(rules_dir, year)) for year in years}
    scored = score_all(tables, registry, books)
    periods = sorted(scored["monthly_scores"]["period"].astype(str).unique())
    scored["submissions"] = track_submissions(files, registry, periods, submission_rules(rules_dir))
    return scored


def _file_problems(name: str, sheets: pd.DataFrame) -> str:
    """Why a file's sheets could not be used, naming the file (and the sheet, in a workbook of several)."""
    problems = []
    bad = sheets[sheets["status"].isin(["error", "unrecognised"])]
    for sheet, message in bad[["source_sheet", "message"]].itertuples(index=False):
        message = message.removeprefix(f"{name}: ").removeprefix(f"{Path(name).name}: ") or "无法读取(unreadable)"
        problems.append(f"工作表“{sheet}”:{message}" if sheet and len(sheets) > 1 else message)
    if not problems:  # nothing wrong, nothing usable: empty or instruction sheets only
        problems = [m for m in sheets["message"] if m] or ["没有数据(no data)"]
    return f"{name}: {';'.join(problems)}"


SUMMED = ["rows_read", "clean", "quarantined", "nondata", "duplicates"]  # the summary's counts per file


def _print_summary(files: pd.DataFrame, progress: Callable[[str], None], seconds: float,
                   stage_seconds: dict[str, float] | None = None) -> None:
    """One line per file; a file or sheet that could not be used is named there with the reason."""
    progress("文件处理汇总(per file: 读入 rows = 清洁 clean + 隔离 quarantined + 非数据 non-data + 重复 duplicates)")
    # Plain lists, not a frame per file: a month's hundreds of files cost pandas' per-call
    # overhead hundreds of times (2 s for the sample's 527 files).
    status, kinds = files["status"].tolist(), files["source_type"].tolist()
    numbers = {c: files[c].tolist() for c in SUMMED}
    for name, rows in sorted(files.groupby("source_file").indices.items()):
        ok = [i for i in rows if status[i] == "ok"]
        if not ok:
            mark = "✗" if any(status[i] == "error" for i in rows) else "?"
            progress(f"  {mark} {_file_problems(name, files.iloc[rows])}")
            continue
        counts = {c: sum(v for v in (numbers[c][i] for i in ok) if not pd.isna(v)) for c in SUMMED}
        types = "/".join(sorted({kinds[i] for i in ok if isinstance(kinds[i], str)}))
        line = (f"  ✓ {name} [{types}] 读入{counts['rows_read']} 清洁{counts['clean']} "
                f"隔离{counts['quarantined']} 非数据{counts['nondata']} 重复{counts['duplicates']}")
        if any(status[i] in ("error", "unrecognised") for i in rows):
            line += "  注:" + _file_problems(name, files.iloc[rows]).removeprefix(f"{name}: ")
        progress(line)
    totals = files[SUMMED].sum()
    unread = int(files["status"].isin(["error", "unrecognised"]).sum())
    progress(f"合计:读入{totals['rows_read']} 清洁{totals['clean']} 隔离{totals['quarantined']} 非数据{totals['nondata']} "
             f"重复{totals['duplicates']};无法读取或未识别的文件/工作表 {unread} 个;用时 {seconds:.1f} 秒"
             + (f"({'、'.join(f'{STAGES[s]} {t:.1f}' for s, t in stage_seconds.items())})" if stage_seconds else ""))
