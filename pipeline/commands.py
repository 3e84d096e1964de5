"""The command line's verbs beyond `process`: thin I/O wrappers around the library.

A report command whose data has not changed never loads pandas here (the notebooks' kernels do the
work): `make_reports` asks pipeline.freshness whether anything needs processing and plans the
reports from the processed tables' few columns it needs, read with pyarrow.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import config
from pipeline.errors import InputError

if TYPE_CHECKING:
    from pipeline.submissions import SubmissionRules


def submission_rules(rules_dir: Path = config.RULES_DIR) -> SubmissionRules:
    """The `[submissions]` section of the newest scoring rulebook (defaults when it has none)."""
    from pipeline.submissions import SubmissionRules

    books = sorted(rules_dir.glob("rulebook-*.toml"))
    section = tomllib.loads(books[-1].read_text("utf-8")).get("submissions") if books else None
    return SubmissionRules.from_mapping(section)


def latest_period(processed: Path) -> str | None:
    """The latest month with scored data, from monthly_scores (None before anything was processed)."""
    from pipeline.reports import read_columns

    if not (Path(processed) / "monthly_scores.parquet").exists():
        return None
    periods = [p for p in read_columns(processed, "monthly_scores", ["period"])["period"] if p is not None]
    return max(periods) if periods else None


def make_templates(period: str | None, raw: Path, processed: Path, reports: Path) -> list[Path]:
    import pandas as pd

    from pipeline.registry import load_registry
    from pipeline.templates import write_templates

    if period is None:
        latest = latest_period(processed)
        period = (pd.Period(latest, "M") + 1).strftime("%Y-%m") if latest else pd.Timestamp.now().strftime("%Y-%m")
    try:
        pd.Period(period, "M")
    except ValueError:
        raise InputError(f"月份“{period}”格式不对,应为 YYYY-MM(period must be YYYY-MM)") from None
    rules = submission_rules()
    ingest = tomllib.loads(config.INGEST_RULES.read_text("utf-8"))
    paths = write_templates(period, load_registry(raw / config.REGISTRY_NAME), ingest, reports / "templates",
                            sources_by_group=rules.expected_sources, deadline_day=rules.deadline_day)
    print(f"已生成 {len(paths)} 个报送模板 → {reports / 'templates' / period}(templates written)")
    return paths


def make_reports(command: str, which: str | None, raw: Path, processed: Path, reports: Path,
                 units: list[str] | None = None, force: bool = False, kernels=None) -> list[Path]:
    """Process the raw folder (skipped when nothing changed), then build the reports.

    `report`: the month's circular (HTML, PDF, Excel) and every unit's scorecard; `annual`: the
    year-end assessment; `all`: every month and every year, notebooks on both cores.
    Two builds into one reports folder take turns (reports/.reports.lock): run together they
    would execute the same notebooks into the same build files.
    `kernels`: kernels the caller started ahead (render.Kernels; the command line starts them
    before it loads anything else), else started here.
    """
    from filelock import FileLock

    from pipeline.render import Kernels

    Path(reports).mkdir(parents=True, exist_ok=True)
    with FileLock(str(Path(reports) / ".reports.lock")):
        if kernels is not None:
            return _make_reports_locked(command, which, raw, processed, reports, units, force, kernels)
        # The kernels boot (and import the report modules) while the data is checked and the
        # reports planned; those left unused are shut down at the end.
        with Kernels(1 if command == "annual" else 2) as kernels:
            return _make_reports_locked(command, which, raw, processed, reports, units, force, kernels)


def _make_reports_locked(command, which, raw, processed, reports, units, force, kernels) -> list[Path]:
    from pipeline.freshness import UNCHANGED, is_current
    from pipeline.reports import build_reports
    from pipeline.rulebook import rulebook_for_year

    if is_current(raw, processed):
        print(UNCHANGED)
    else:
        from pipeline.runner import process

        process(raw, processed)
    if which is not None:
        pattern = r"\d{4}-\d{2}" if command == "report" else r"\d{4}"
        if not re.fullmatch(pattern, which):
            raise InputError(f"“{which}”格式不对,应为 {'YYYY-MM' if command == 'report' else 'YYYY'}(bad period)")
    kind = {"report": "monthly", "annual": "annual", "all": "all"}[command]
    year = int(which[:4]) if which else int((latest_period(processed) or f"{dt.date.today().year}")[:4])
    rulebook = rulebook_for_year(config.RULES_DIR, year)
    outputs = build_reports(kind, which, processed, reports, rulebook, units=units, force=force, kernels=kernels)
    print(f"报告已生成(reports written): {len(outputs)} 个文件 → {reports}")
    return outputs
