"""What the report notebooks call: load the processed tables, show where the numbers came from,
and turn frames and figures into escaped, self-contained HTML.

Every function returns an `Html` block (displayed by Jupyter through `_repr_html_`), so a notebook
cell is one call. Text from the data (unit names, enterprises, quarantined raw values) is always
HTML-escaped; charts are inline SVG (pipeline.charts), so a report opens offline as a single file.
"""

from __future__ import annotations

import functools
import hashlib
import html
import tomllib
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from pipeline import report_tables as rt
from pipeline.config import OFFICE_TIMEZONE, office_name
from pipeline.svg import Svg

# Tables the reports read (SPEC "Processed tables"); an absent one is an empty frame with these
# columns, so a report on partial data still renders and says what is missing.
EXPECTED = {
    "monthly_scores": ["unit_id", "period", "group", "A", "B", "C", "score", "rank", "rank_change",
                       "not_assessed", "flags"],
    "deductions": ["unit_id", "period", "component", "rule", "points", "record_id", "source_file", "source_row"],
    "annual_assessment": ["unit_id", "year", "enforcement", "hazards", "accidents", "key_work", "bonus", "total",
                          "grade", "veto", "yellow_card", "rank", "rank_p05", "rank_p95"],
    "accidents": ["accident_id", "occurred_at", "reported_at", "unit", "unit_id", "industry", "department_id",
                  "accident_type", "enterprise", "deaths", "serious_injuries", "injuries", "direct_loss_wan",
                  "level", "late_report", "concealed", "source_file", "source_row"],
    "enforcement": ["record_id", "unit", "unit_id", "inspected_at", "enterprise", "source_file", "source_row"],
    "hazards": ["hazard_id", "unit", "unit_id", "enterprise", "found_at", "deadline", "rectified_at", "level",
                "supervised", "source", "overdue", "source_file", "source_row"],
    "annual_review": ["unit_id", "item", "category", "score", "year"],
    "quarantine": ["source_file", "source_sheet", "source_row", "table", "column", "raw_value", "reason"],
    "files": ["source_file", "source_type", "source_sheet", "rows_read", "clean", "quarantined", "nondata",
              "duplicates", "sha256", "status", "message"],
}
SEQUENCES = (list, tuple, set, np.ndarray)
DATETIME_COLUMNS = {"occurred_at", "reported_at", "inspected_at", "found_at", "deadline", "rectified_at"}


class Html:
    """A block of HTML that Jupyter displays as such (and `str()` returns)."""

    def __init__(self, markup: str):
        self.markup = markup

    def _repr_html_(self) -> str:
        return self.markup

    def __str__(self) -> str:
        return self.markup

    def __add__(self, other: Html) -> Html:
        return Html(self.markup + str(other))


def column(frame: pd.DataFrame, *names: str) -> pd.Series:
    """The first of `names` the frame has (tables from different writers name a column differently),
    else an empty column."""
    for name in names:
        if name in frame.columns:
            return frame[name]
    return pd.Series(pd.NA, index=frame.index, dtype="object")


def esc(value: object) -> str:
    """HTML-escape anything (NA -> empty)."""
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return ""
    return html.escape(str(value), quote=True)


# --------------------------------------------------------------------------------------- loading
class ReportData:
    """The processed tables of one folder, each read on first use (a scorecard needs few of them).
    `data.accidents` etc.; a table the folder lacks is an empty frame with its expected columns,
    and `data.get(name)` is None for it. `monthly_scores` and `annual_assessment` gain `name` and
    `ranking_group`; `indicators` is derived from monthly_scores' item columns and the rulebook
    when the folder has no such table."""

    def __init__(self, processed_dir: Path, rulebook_path: Path | None = None):
        self.processed_dir = Path(processed_dir)
        self.rulebook_path = Path(rulebook_path) if rulebook_path else None
        self.paths = {p.stem: p for p in sorted(self.processed_dir.glob("*.parquet"))}
        self.present = sorted(self.paths)
        self.tables: dict[str, pd.DataFrame | None] = {}
        self.derived: dict[tuple, object] = {}

    def memo(self, key: tuple, make):
        """`make()`, computed once per ReportData: one kernel renders every unit's scorecard, and
        what does not depend on the unit (the period's ranking, the data files' checksums) is
        worked out for the first and reused. Callers must not modify what they get."""
        if key not in self.derived:
            self.derived[key] = make()
        return self.derived[key]

    def _load(self, name: str) -> pd.DataFrame | None:
        if name in self.paths:
            frame = pd.read_parquet(self.paths[name])
        elif name == "indicators":
            return item_table(self.monthly_scores, self.rulebook_path) if self.rulebook_path else None
        elif name in EXPECTED:
            frame = pd.DataFrame({c: pd.Series(dtype="datetime64[us]" if c in DATETIME_COLUMNS else "object")
                                  for c in EXPECTED[name]})
        else:
            return None
        if name in ("monthly_scores", "annual_assessment"):
            frame = rt.with_names(frame, self.units)
        return frame

    def get(self, name: str) -> pd.DataFrame | None:
        """A table the folder has (or, for `indicators`, one derived from monthly_scores), else None."""
        if name not in self.tables:
            self.tables[name] = self._load(name)
        if name in self.paths or name == "indicators":
            return self.tables[name]
        return None

    def __getattr__(self, name: str) -> pd.DataFrame:
        if name.startswith("_") or name not in {*EXPECTED, *self.__dict__.get("paths", {}), "indicators"}:
            raise AttributeError(name)
        if name not in self.tables:
            self.tables[name] = self._load(name)
        return self.tables[name]

    def rows(self, name: str) -> int:
        """Rows of a processed table, from the Parquet footer (no need to read it)."""
        import pyarrow.parquet as pq

        return pq.ParquetFile(self.paths[name]).metadata.num_rows

    @functools.cached_property
    def units(self) -> pd.DataFrame:
        scores = pd.read_parquet(self.paths["monthly_scores"]) if "monthly_scores" in self.paths else \
            pd.DataFrame({c: pd.Series(dtype="object") for c in EXPECTED["monthly_scores"]})
        registry = pd.read_parquet(self.paths["units"]) if "units" in self.paths else None
        return rt.units_frame(scores, registry)

    @property
    def item_labels(self) -> dict[str, str]:
        """Rulebook item key -> its Chinese label (from the indicator table), for `not_assessed`."""
        items = self.get("indicators")
        if items is None or not {"item", "label"} <= set(items.columns):
            return {}
        pairs = items[["item", "label"]].drop_duplicates("item")
        return dict(zip(pairs["item"].astype("str"), pairs["label"].astype("str")))

    @property
    def submissions(self) -> pd.DataFrame:
        """Who sent data for which month: the `submissions` table when the runner writes one, else
        derived from the dates of the enforcement and hazard rows each unit sent."""
        table = self.get("submissions")
        if table is not None:
            return table
        return rt.submissions_from_data(self.enforcement, self.hazards, self.units)


def item_table(monthly_scores: pd.DataFrame, rulebook_path: str | Path) -> pd.DataFrame | None:
    """The long indicator table (unit_id, period, component, item, label, actual, target, points,
    max_points) from monthly_scores' item columns and the rulebook's items (pipeline.score), or None
    when the scores carry no item columns."""
    if not any(str(c).endswith("_points") for c in monthly_scores.columns) or not Path(rulebook_path).is_file():
        return None
    from pipeline.rulebook import load_rulebook
    from pipeline.score import item_table as items_of

    table = items_of(monthly_scores, load_rulebook(rulebook_path))
    return table if not table.empty else None


def read_table(processed_dir: str | Path, name: str) -> pd.DataFrame:
    """One processed table (data/processed/<name>.parquet)."""
    path = Path(processed_dir) / f"{name}.parquet"
    if not path.exists():
        raise FileNotFoundError(f"没有数据表 {path}(no such processed table); "
                                f"有(present): {', '.join(sorted(p.stem for p in path.parent.glob('*.parquet')))}")
    return pd.read_parquet(path)


def load_tables(processed_dir: str | Path, rulebook_path: str | Path | None = None) -> ReportData:
    """The processed tables of the folder (read on first use); with the rulebook, also the long
    indicator table."""
    return ReportData(Path(processed_dir), Path(rulebook_path) if rulebook_path else None)


# ------------------------------------------------------------------------------------ provenance
def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def rulebook_identity(path: str | Path) -> tuple[str, str]:
    """(version, sha256) of a rulebook TOML: `version` at top level or under [meta]/[rulebook]."""
    path = Path(path)
    if not path.is_file():
        return "（未找到规则文件）", ""
    raw = path.read_bytes()
    try:
        book = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        book = {}
    version = book.get("version") or book.get("meta", {}).get("version") or book.get("rulebook", {}).get("version")
    return str(version or "（未标注版本）"), hashlib.sha256(raw).hexdigest()


def title(kind: str, subject: str, unit_name: str | None = None) -> Html:
    """The report's heading: 2020年3月 安全生产月度排名通报 / 2020年度 考核报告 / <单位> 成绩单."""
    if len(subject) == 7:
        when = rt.month_label(subject)
    else:
        when = f"{subject}年度"
    heading = f"{esc(unit_name)} {when} {esc(kind)}" if unit_name else f"{when} {esc(kind)}"
    return Html(f'<h1 class="report-title">{heading}</h1>'
                f'<p class="report-issuer">{esc(office_name())}</p>')


def provenance(data: ReportData, parameters: Mapping[str, object], rulebook_path: str | Path) -> Html:
    """Parameters, the data files read (name, rows, checksum), the rulebook version and hash, and
    when the report was made (SPEC "Reports")."""
    version, digest = data.memo(("rulebook", str(rulebook_path)), lambda: rulebook_identity(rulebook_path))
    made = datetime.now(ZoneInfo(OFFICE_TIMEZONE)).strftime("%Y-%m-%d %H:%M:%S（北京时间）")
    params = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in parameters.items())
    meta = (f'<table class="meta"><tr><th>规则版本</th><td>{esc(version)}</td></tr>'
            f'<tr><th>规则文件 SHA-256</th><td><code>{esc(digest[:16])}</code>（{esc(Path(rulebook_path).name)}）</td></tr>'
            f'<tr><th>生成时间</th><td>{esc(made)}</td></tr>{params}</table>')
    return Html(f'<section class="provenance"><h2>报告信息</h2>{meta}{data.memo(("sources",), lambda: _sources(data))}</section>')


def _sources(data: ReportData) -> str:
    """The processed tables read (rows, checksum) and the raw files behind them (screen only)."""
    tables = []
    for name in data.present:
        path = data.processed_dir / f"{name}.parquet"
        tables.append({"数据表": f"{name}.parquet", "行数": data.rows(name), "SHA-256": file_sha256(path)[:16]})
    raw = data.files
    raw_rows = pd.DataFrame({
        "原始文件": raw["source_file"], "类型": raw["source_type"], "工作表": column(raw, "source_sheet", "sheet"),
        "读取行数": raw["rows_read"], "SHA-256": raw["sha256"].astype("string").str[:16], "状态": raw["status"],
    })
    raw_list = screen_only(
        Html(f"<details><summary>原始报送文件 {len(raw_rows)} 个</summary>{table(raw_rows)}</details>"),
        f"原始报送文件 {len(raw_rows)} 个（清单见 HTML 版）")
    return f"<h3>读取的数据表</h3>{table(pd.DataFrame(tables))}{raw_list}"


# ---------------------------------------------------------------------------------- html pieces
def table(frame: pd.DataFrame, *, highlight: pd.Series | None = None, classes: str = "report-table",
          empty: str = "（无）") -> Html:
    """An escaped HTML table of a frame whose column labels are already the headers to show.
    Floats print with 2 decimals, datetimes as dates (with time when they have one), flags as 是/否;
    rows where `highlight` is true are marked."""
    if frame.empty:
        return Html(f'<p class="empty">{esc(empty)}</p>')
    head = "".join(f"<th>{esc(c)}</th>" for c in frame.columns)
    columns = [[esc(v) for v in _display(frame.iloc[:, j])] for j in range(frame.shape[1])]
    marks = list(highlight.fillna(False).astype(bool)) if highlight is not None else [False] * len(frame)
    body = []
    for mark, values in zip(marks, zip(*columns)):
        cells = "".join(f"<td>{v}</td>" for v in values)
        body.append(f'<tr class="highlight">{cells}</tr>' if mark else f"<tr>{cells}</tr>")
    return Html(f'<table class="{esc(classes)}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>')


def _display(column: pd.Series) -> list:
    """A column's cells as shown: lists as "a、b", flags 是/否, dates (with the time when any cell has
    one), floats with 2 decimals, missing as empty."""
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return ["" if v is None or v is pd.NA else ("是" if v else "否") for v in column.tolist()]
    if pd.api.types.is_datetime64_any_dtype(dtype):
        has_time = bool(((column - column.dt.normalize()).dt.total_seconds().fillna(0) != 0).any())
        text = column.dt.strftime("%Y-%m-%d %H:%M" if has_time else "%Y-%m-%d")
        return ["" if pd.isna(v) else v for v in text.tolist()]
    if pd.api.types.is_float_dtype(dtype):
        return ["" if v is None or v is pd.NA or v != v else f"{v:.2f}" for v in column.tolist()]
    out = []
    for v in column.tolist():
        if isinstance(v, SEQUENCES):
            v = "、".join(map(str, v))
        elif v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v):
            v = ""
        out.append(v)
    return out


def figure(chart: Svg, alt: str = "") -> Html:
    """A chart (pipeline.svg) inline in the page: no file beside the report, nothing fetched."""
    return Html(f'<figure class="chart" aria-label="{esc(alt)}">{chart}</figure>')


def paragraphs(texts: list[str], classes: str = "summary") -> Html:
    return Html(f'<div class="{esc(classes)}">' + "".join(f"<p>{esc(t)}</p>" for t in texts) + "</div>")


def note(text: str) -> Html:
    return Html(f'<p class="note">{esc(text)}</p>')


def screen_only(block: Html, printed_note: str = "") -> Html:
    """A block shown on screen but left out of the PDF (long lists), with an optional line the PDF
    shows in its place."""
    note_html = f'<p class="note print-only">{esc(printed_note)}</p>' if printed_note else ""
    return Html(f'<div class="screen-only">{block}</div>{note_html}')


def group_tables(frame: pd.DataFrame, highlight=None) -> Html:
    """One ranking table per ranking group (column 排名组, in the usual group order), each under a
    heading naming the group and its number of units; `highlight(part)` marks rows."""
    out = Html("")
    for group in rt.group_sequence(frame["排名组"]):
        part = frame.loc[frame["排名组"] == group].drop(columns=["排名组"]).reset_index(drop=True)
        marks = highlight(part) if highlight is not None else None
        out += heading(f"{group}（{len(part)}个单位）") + table(part, highlight=marks, classes="report-table ranking")
    return out


def heading(text: str, level: int = 3) -> Html:
    return Html(f"<h{level}>{esc(text)}</h{level}>")


# ------------------------------------------------------------------------------ many pages, one run
class PageError(RuntimeError):
    """A page of a many-page run failed: the message names the page (e.g. the unit)."""


def show_pages(names: list[str], make, what: str = "单位") -> None:
    """Display `make(name)` (a list of Html blocks) for each name as one output marked with the page
    name, so the driver writes one HTML file per page (html_page.pages_to_html) from a single kernel:
    every unit's scorecard costs one kernel start, not one each. A failing page stops the run with
    its name in the message."""
    from IPython.display import display

    from pipeline.config import REPORT_PAGE_KEY

    for name in names:
        try:
            blocks = make(name)
        except Exception as error:
            raise PageError(f"{what} {name}: {type(error).__name__}: {error}") from error
        display({"text/html": "".join(str(block) for block in blocks)}, raw=True, metadata={REPORT_PAGE_KEY: name})
