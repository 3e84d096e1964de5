"""Which reports a run makes, and where they go (SPEC "Reports", "Interface").

`build_reports` is what `python -m pipeline report|annual` and `make report|annual|all` call:
- monthly, for YYYY-MM: reports/<YYYY-MM>/月度排名通报_<YYYY-MM>.html, .pdf and .xlsx, and every
  unit's scorecard reports/<YYYY-MM>/单位成绩单/<unit_id>_<name>.html;
- annual, for YYYY: reports/<YYYY>/年度考核报告_<YYYY>.html and .xlsx;
- all: every month with scores, then every year with an assessment, in one pool.
Nothing is redone whose outputs are newer than its inputs (the processed tables, the notebook, the
rulebook and the report code).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from pipeline import render
from pipeline.config import NOTEBOOKS_DIR, OFFICE_RULES, office_name
from pipeline.errors import InputError

PACKAGE_DIR = Path(__file__).resolve().parent
# Library modules whose change changes a report's content.
REPORT_CODE = ["charts.py", "config.py", "export.py", "fonts.py", "html_page.py", "narrative.py", "pdf.py", "print.typ", "report_annual.py", "svg.py",
               "report_helpers.py", "report_monthly.py", "report_scorecard.py", "report_tables.py"]
BUILD_DIR_NAME = ".build"


def safe_filename(text: str) -> str:
    """A unit name usable as a file name on Windows and Linux alike."""
    cleaned = re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", str(text)).strip().strip(".")
    return re.sub(r"\s+", "", cleaned) or "_"


def monthly_paths(reports: Path, period: str) -> dict[str, Path]:
    folder = Path(reports) / period
    stem = f"月度排名通报_{period}"
    return {"html": folder / f"{stem}.html", "pdf": folder / f"{stem}.pdf", "xlsx": folder / f"{stem}.xlsx",
            "scorecards": folder / "单位成绩单"}


def annual_paths(reports: Path, year: str) -> dict[str, Path]:
    folder = Path(reports) / str(year)
    stem = f"年度考核报告_{year}"
    return {"html": folder / f"{stem}.html", "xlsx": folder / f"{stem}.xlsx"}


def _inputs(processed: Path, rulebook_path: Path) -> list[Path]:
    return [*sorted(Path(processed).glob("*.parquet")), Path(rulebook_path), OFFICE_RULES,
            *[PACKAGE_DIR / name for name in REPORT_CODE]]


def read_columns(processed: Path, table: str, needed: list[str], optional: tuple[str, ...] = ()) -> dict[str, list]:
    """The columns a plan needs of a processed table, as lists of text (None where missing). Read
    with pyarrow alone (its ParquetFile: read_table goes through pyarrow.dataset, which loads
    pandas): the driver plans the reports without pandas, the kernels do the work. A table that
    is missing, damaged or lacks a needed column is an InputError saying to process again."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(processed) / f"{table}.parquet"
    if not path.exists():
        raise InputError(f"缺少处理后数据表 {path.name}，请先运行 `python -m pipeline process`"
                         f"(processed table missing: {path})")
    try:
        file = pq.ParquetFile(path)
        present = set(file.schema_arrow.names)
        missing = [c for c in needed if c not in present]
        columns = None if missing else file.read(columns=[*needed, *[c for c in optional if c in present]])
    except (pa.ArrowException, OSError) as error:
        raise InputError(f"处理后数据表 {path.name} 无法读取，请重新运行 `python -m pipeline process --force`"
                         f"(processed table unreadable: {error})") from None
    if missing:
        raise InputError(f"处理后数据表 {path.name} 缺少列 {', '.join(missing)}，请重新运行 `python -m pipeline process --force`"
                         f"(processed table lacks columns)")
    return {name: [None if v is None else str(v) for v in columns.column(name).to_pylist()]
            for name in columns.column_names}


def _monthly_plan(period: str, processed: Path, reports: Path, rulebook_path: Path,
                  units: list[str] | None, scores: dict[str, list]) -> list[render.Job]:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period):
        raise InputError(f"月份格式应为 YYYY-MM，收到 {period!r}(period must be YYYY-MM)")
    month = [i for i, p in enumerate(scores["period"]) if p == period]
    if not month:
        known = sorted({p for p in scores["period"] if p is not None})
        span = f"{known[0]} 至 {known[-1]}" if known else "无"
        raise InputError(f"没有 {period} 的得分数据（已有月份：{span}）(no scores for {period})")
    ids, labels = scores["unit_id"], scores.get("name", scores["unit_id"])
    names = {ids[i]: labels[i] or ids[i] for i in month if ids[i] is not None}  # a unit without a name: its id
    if units:
        unknown = [u for u in units if u not in names]
        if unknown:
            raise InputError(f"单位编号不存在：{', '.join(unknown)}(unknown unit_id)")
    chosen = list(dict.fromkeys(units)) if units is not None else sorted(names)  # a unit named twice: once
    paths = monthly_paths(reports, period)
    inputs = _inputs(processed, rulebook_path)
    common = {"PROCESSED_DIR": str(Path(processed).resolve()), "RULEBOOK": str(Path(rulebook_path).resolve())}
    jobs = [render.Job(NOTEBOOKS_DIR / "monthly_circular.py", {"PERIOD": period, **common}, paths["html"],
                       f"月度排名通报 {period}", inputs, pdf=paths["pdf"], files={"EXCEL_PATH": paths["xlsx"]})]
    if chosen:  # every unit's scorecard from one kernel, one HTML file each
        pages = {unit_id: (paths["scorecards"] / f"{safe_filename(unit_id)}_{safe_filename(names[unit_id])}.html",
                           f"单位成绩单 {unit_id} {names[unit_id]} {period}") for unit_id in chosen}
        jobs.append(render.Job(NOTEBOOKS_DIR / "unit_scorecard.py", {"UNIT_IDS": chosen, "PERIOD": period, **common},
                               paths["scorecards"], f"单位成绩单 {period}（{len(chosen)} 个单位）", inputs, pages=pages))
    return jobs


def _annual_plan(year: str, processed: Path, reports: Path, rulebook_path: Path,
                 annual: dict[str, list]) -> list[render.Job]:
    if not re.fullmatch(r"\d{4}", str(year)):
        raise InputError(f"年份格式应为 YYYY，收到 {year!r}(year must be YYYY)")
    if str(year) not in annual["year"]:
        known = sorted({y for y in annual["year"] if y is not None})
        raise InputError(f"没有 {year} 年的年度考核数据（已有：{', '.join(known) or '无'}）(no assessment for {year})")
    paths = annual_paths(reports, year)
    inputs = _inputs(processed, rulebook_path)
    params = {"YEAR": str(year), "PROCESSED_DIR": str(Path(processed).resolve()),
              "RULEBOOK": str(Path(rulebook_path).resolve())}
    return [render.Job(NOTEBOOKS_DIR / "annual_assessment.py", params, paths["html"], f"年度考核报告 {year}", inputs,
                       files={"EXCEL_PATH": paths["xlsx"]})]


def plan_reports(kind: str, period_or_year: str | None, processed: Path, reports: Path, rulebook_path: Path,
                 units: list[str] | None = None) -> list[render.Job]:
    """The notebook runs that make the reports of one month ("monthly", "YYYY-MM"), one year
    ("annual", "YYYY") or everything ("all", None); `period_or_year` None: the latest month / year
    with data. `units` limits the monthly scorecards (None: every unit; []: none). Long jobs
    (circulars with their PDF, annual reports) come first, so no worker idles at the end.
    Reads only the processed tables' period, year, unit and name columns, with pyarrow.
    Raises InputError with one clear message."""
    processed, reports, rulebook_path = Path(processed), Path(reports), Path(rulebook_path)
    office_name()  # a broken rules/office.toml stops here, with its message, before any notebook
    if not rulebook_path.is_file():
        raise InputError(f"找不到规则文件 {rulebook_path}(rulebook not found)")
    if kind not in ("monthly", "annual", "all"):
        raise InputError(f"未知的报告类型 {kind!r}(kind must be monthly, annual or all)")
    jobs: list[render.Job] = []
    if kind in ("monthly", "all"):
        scores = read_columns(processed, "monthly_scores", ["period", "unit_id"], optional=("name",))
        known = sorted({p for p in scores["period"] if p is not None})
        if kind == "monthly" and period_or_year is None and not known:
            raise InputError("没有任何月份的得分数据(monthly_scores is empty)")
        # SPEC "Interface": the default period is the latest month with data.
        periods = known if kind == "all" else [period_or_year or known[-1]]
        for period in periods:
            jobs += _monthly_plan(str(period), processed, reports, rulebook_path, units, scores)
    if kind in ("annual", "all"):
        annual = read_columns(processed, "annual_assessment", ["year"])
        known_years = sorted({y for y in annual["year"] if y is not None})
        if kind == "annual" and period_or_year is None and not known_years:
            raise InputError("没有任何年度考核数据(annual_assessment is empty)")
        years = known_years if kind == "all" else [str(period_or_year or known_years[-1])]
        for year in years:
            jobs += _annual_plan(str(year), processed, reports, rulebook_path, annual)
    return sorted(jobs, key=lambda job: job.notebook.name == "unit_scorecard.py")


def build_reports(kind: str, period_or_year: str | None, processed: Path, reports: Path, rulebook_path: Path,
                  units: list[str] | None = None, *, workers: int = 2, force: bool = False,
                  echo: Callable[[str], None] = print, kernels: render.Kernels | None = None) -> list[Path]:
    """Build the reports `plan_reports` plans (same arguments). Returns the paths of every output
    (made now or already up to date). `kernels`: kernels started ahead by the caller
    (render.Kernels), else each notebook starts one. Raises InputError (ReportError for a failing
    notebook) with one clear message."""
    jobs = plan_reports(kind, period_or_year, processed, reports, rulebook_path, units)

    def meanwhile() -> None:
        """The driver's share while the kernels compute (they write the Excel attachments too):
        getting the HTML template and the PDF engine ready for when the notebooks finish."""
        from pipeline import html_page

        html_page.warm()
        if any(job.pdf is not None for job in jobs):
            from pipeline import pdf

            pdf.warm()

    return render.run_jobs(jobs, Path(reports) / BUILD_DIR_NAME, workers=workers, force=force, echo=echo,
                           kernels=kernels, meanwhile=meanwhile)
