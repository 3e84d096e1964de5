"""Find where the table starts in a raw sheet, and what it is.

A unit's sheet usually has a merged title row, a `填报单位:… 填报日期:…` line, then a header of one
or two rows (a group cell such as 处罚情况 merged over 是否立案/是否处罚/罚款金额). The header is the
row (or pair of rows) among the first rows of the sheet whose cells match the most canonical
columns of one source; that source is the sheet's type. A file or sheet name only breaks ties.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from pipeline.ingest_rules import IngestRules
from pipeline.parse import normalise_label
from pipeline.read import RawSheet

SCAN_ROWS = 30
UNIT_LINE = re.compile(r"(?:填报|报送)单位\s*(?:\([^)]*\)\s*)?:\s*(?P<unit>[^\s:]+?)(?=\s|填报|报送|日期|$)")  # `填报单位(盖章):…`
DATE_LINE = re.compile(r"(?:填报|报送)日期\s*:\s*(?P<date>\d[\d年月日\-/.: ]*[\d日])")
TITLE_MONTH = re.compile(r"(?P<year>(?:19|20)\d{2})\s*[年\-_.]\s*(?P<month>\d{1,2})\s*月?(?!\d)")
TITLE_YEAR = re.compile(r"(?P<year>(?:19|20)\d{2})\s*年")


@dataclass
class Layout:
    """What a sheet holds and where: the header rows, the column map, and what sits around them."""

    source: str | None
    header_start: int = 0          # index into the sheet's row list (preamble + table rows)
    header_span: int = 0
    columns: dict[int, str] = field(default_factory=dict)       # table column -> canonical name
    labels: dict[int, str] = field(default_factory=dict)        # table column -> header text
    personal: list[str] = field(default_factory=list)           # dropped personal-data headers
    unknown: list[str] = field(default_factory=list)            # headers matching nothing
    duplicated: list[tuple[str, list[str]]] = field(default_factory=list)
    missing_required: list[str] = field(default_factory=list)
    score: int = 0


def sheet_rows(sheet: RawSheet, limit: int) -> list[list[str]]:
    """The first `limit` rows of a sheet (preamble included) as lists of text."""
    rows = [list(map(str, r)) for r in sheet.preamble][:limit]
    take = max(0, limit - len(rows))
    if sheet.head is not None and (len(sheet.head) >= take or len(sheet.head) == sheet.rows):
        return rows + [list(row) for row in sheet.head[:take]]
    top = sheet.table().iloc[:take].to_numpy(dtype=object).tolist()
    rows += [["" if cell is None or cell != cell else str(cell) for cell in row] for row in top]  # NaN != NaN
    return rows


def _candidates(rows: list[list[str]], r: int, span: int) -> list[list[str]]:
    """Per column, the header texts to try, best first."""
    upper = rows[r]
    if span == 1:
        return [[cell] for cell in upper]
    lower = rows[r + 1]
    # The lower row names the leaf columns; the upper row names columns merged vertically over
    # both rows (their lower cell is empty) and group cells, which match nothing and so do no harm.
    return [[lo, up, up + lo] for lo, up in zip(lower, upper)]


_ALIASES: dict[int, dict[str, dict[str, str]]] = {}


def source_aliases(rules: IngestRules) -> dict[str, dict[str, str]]:
    """source -> {normalised alias -> canonical column}, built once per rules object."""
    key = id(rules)
    if key not in _ALIASES:
        table: dict[str, dict[str, str]] = {name: {} for name in rules.sources}
        for alias, hits in rules.alias_index().items():
            for source, column in hits:
                table[source].setdefault(alias, column)
        _ALIASES[key] = table
    return _ALIASES[key]


def detect_layout(sheet: RawSheet, rules: IngestRules, file_name: str, top: list[list[str]] | None = None) -> Layout:
    """`top`: the sheet's first SCAN_ROWS rows, when the caller already has them."""
    rows = [list(r) for r in (top if top is not None else sheet_rows(sheet, SCAN_ROWS))]
    if not rows:
        return Layout(source=None)
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    aliases = source_aliases(rules)
    every_alias = set().union(*aliases.values())
    normal = [[normalise_label(cell) if cell else "" for cell in row] for row in rows]
    useful = [any(cell in every_alias for cell in row) for row in normal]

    best: tuple | None = None
    hint_text = f"{file_name} {sheet.name}"
    for r in range(len(rows)):
        for span in (1, 2):
            if r + span > len(rows) or not any(useful[r:r + span]):
                continue
            candidates = _candidates(normal, r, span)
            for source in rules.sources.values():
                matched = _match(candidates, aliases[source.name])
                distinct = set(matched.values())
                if not distinct:
                    continue
                complete = all(c in distinct for c in source.required)
                hinted = any(h in hint_text for h in source.file_hints)
                key = (complete, len(distinct), hinted, -span, -r)
                if best is None or key > best[0]:
                    best = (key, r, span, source.name, matched)
    if best is None or best[0][1] < 2:
        return Layout(source=None)
    (complete, score, *_), r, span, source_name, matched = best
    candidates = _candidates(rows, r, span)
    source = rules.sources[source_name]
    layout = Layout(source=source_name, header_start=r, header_span=span, score=score)
    seen: dict[str, list[str]] = {}
    for c, canonical in sorted(matched.items()):
        label = _label(candidates[c])
        seen.setdefault(canonical, []).append(label)
        layout.columns[c] = canonical
        layout.labels[c] = label
    layout.duplicated = [(name, labels) for name, labels in seen.items() if len(labels) > 1]
    fragments = [normalise_label(f) for f in rules.personal_headers]
    for c, options in enumerate(candidates):
        label = _label(options)
        if c in matched or not label:
            continue
        if any(fragment in normalise_label(label) for fragment in fragments):
            layout.personal.append(label)
        else:
            layout.unknown.append(label)
    layout.missing_required = [c for c in source.required if c not in seen]
    return layout


def _label(options: list[str]) -> str:
    for option in options:
        if option.strip():
            return " ".join(option.split())
    return ""


def _match(candidates: list[list[str]], aliases: dict[str, str]) -> dict[int, str]:
    """Column -> canonical name, for the columns whose (normalised) header text is an alias."""
    matched = {}
    for c, options in enumerate(candidates):
        for option in options:
            if option in aliases:
                matched[c] = aliases[option]
                break
    return matched


@dataclass
class SheetMeta:
    """What the lines around the table say: who reported, when, and for which month."""

    reporting_unit: str | None = None
    report_date: str | None = None
    title_period: str | None = None
    title_year: int | None = None


def read_meta(texts: list[str], file_name: str) -> SheetMeta:
    """Scan title/sub-title/footer lines (and the file name) for 填报单位, 填报日期 and the month.

    Lines are NFKC-normalised first, so the patterns only need ASCII colons, brackets and digits.
    """
    meta = SheetMeta()
    for text in texts:
        # NFKC first: units type full-width colons and digits (`填报单位：…`, `２０２０年`).
        normal = unicodedata.normalize("NFKC", text)
        if meta.reporting_unit is None and (m := UNIT_LINE.search(normal)):
            meta.reporting_unit = m.group("unit")
        if meta.report_date is None and (m := DATE_LINE.search(normal)):
            meta.report_date = m.group("date").strip()
        if DATE_LINE.search(normal):  # the month a sheet is about is never its reporting date
            continue
        if meta.title_period is None and (m := TITLE_MONTH.search(normal)):
            if 1 <= int(m.group("month")) <= 12:
                meta.title_period = f"{m.group('year')}-{int(m.group('month')):02d}"
        if meta.title_year is None and (m := TITLE_YEAR.search(normal)):
            meta.title_year = int(m.group("year"))
    if meta.title_period is None and (m := TITLE_MONTH.search(file_name)) and 1 <= int(m.group("month")) <= 12:
        meta.title_period = f"{m.group('year')}-{int(m.group('month')):02d}"
    if meta.title_year is None:
        if meta.title_period:
            meta.title_year = int(meta.title_period[:4])
        elif m := re.search(r"(?:19|20)\d{2}", file_name):
            meta.title_year = int(m.group(0))
    return meta


def row_texts(rows: list[list[str]]) -> list[str]:
    """Each row's non-empty cells joined with a space (for footer/meta recognition).

    Only the few rows around a table pass through here (titles, 填报 lines, footers), never the
    data rows, so plain Python is the cheap choice.
    """
    return [" ".join(" ".join("" if cell is None else str(cell) for cell in row).split()) for row in rows]
