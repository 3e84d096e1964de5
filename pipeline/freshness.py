"""Whether `process` has anything to do: the processed folder's manifest against a fingerprint of the
raw folder, the rules and the pipeline's code.

Kept apart from pipeline.runner, and free of pandas, so that a report command whose data has not
changed (the analyst's usual rerun) answers the question in milliseconds and starts its notebooks
without loading the processing stack; `runner.process` asks the same question with these functions.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pipeline import config

MANIFEST = "_manifest.json"
UNCHANGED = "数据、规则和代码均未变化,跳过处理(nothing changed; processing skipped)"
# Files beside the data that are never data (notes, configuration, code).
NOT_DATA_SUFFIXES = {".md", ".toml", ".json", ".py", ".gitkeep"}


def list_input_files(raw: Path, registry_name: str) -> list[Path]:
    """Every file under the raw folder the pipeline should try, sorted by name for determinism.

    Hidden files, Office lock files (~$…) and the registry itself are skipped; files with other
    suffixes are still tried, since the format is recognised from the bytes. A link that leads
    nowhere (its target gone, or a loop) is listed, so that reading it says so.
    """
    files = []
    for path in sorted(raw.rglob("*")):
        broken_link = path.is_symlink() and not path.exists()
        if not (path.is_file() or broken_link) or path.name.startswith((".", "~$")) or path.name == registry_name:
            continue
        if path.suffix.lower() in NOT_DATA_SUFFIXES:
            continue
        files.append(path)
    return files


def rules_files(rules_path: Path) -> list[Path]:
    """The rule files a run depends on: the ingest rules given and every rulebook in rules/."""
    return [Path(rules_path), *sorted(config.RULES_DIR.glob("*.toml"))]


def fingerprint(raw: Path, inputs: list[Path], rules_paths: list[Path]) -> str:
    """Changes when any input file, rule file or pipeline source file changes."""
    digest = hashlib.sha256()
    for path in [raw / config.REGISTRY_NAME, *inputs]:
        if path.exists():
            stat = path.stat()
            digest.update(f"{path.relative_to(raw)}|{stat.st_size}|{stat.st_mtime_ns}\n".encode("utf-8", "surrogateescape"))
    code = [p for p in sorted(Path(__file__).parent.glob("*.py")) if p.name != "bench.py"]  # the benchmark is no input
    for path in [*rules_paths, *code]:
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def up_to_date(processed: Path, stamp: str, score: bool) -> bool:
    """The last run had these inputs, rules and code, scored as now asked, and its tables are all there."""
    try:
        manifest = json.loads((processed / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return False
    tables = manifest.get("tables") or []
    return (manifest.get("fingerprint") == stamp and manifest.get("scored", True) == score and bool(tables)
            and all((processed / f"{name}.parquet").exists() for name in tables))


def is_current(raw: Path, processed: Path, rules_path: Path = config.INGEST_RULES, score: bool = True) -> bool:
    """True when `process(raw, processed)` would find nothing changed. Asked under the processed
    folder's lock, as `process` asks it: a run writing the tables (even with nothing changed, as
    `--force`) is waited for. A raw folder without data files is not current (`process` then
    says what is wrong)."""
    from filelock import FileLock

    raw, processed = Path(raw), Path(processed)
    if not raw.is_dir() or not processed.is_dir():
        return False
    inputs = list_input_files(raw, config.REGISTRY_NAME)
    if not inputs:
        return False
    stamp = fingerprint(raw, inputs, rules_files(rules_path))
    try:
        with FileLock(str(processed / ".lock")):
            return up_to_date(processed, stamp, score)
    except OSError:  # a folder that holds no lock file and cannot take one (read-only): ask without
        return up_to_date(processed, stamp, score)
