"""Sample data, layer 2: how each unit wrote its month down, mess included.

Turns the clean events of `pipeline.sample_data` into the files units send (`FileDoc`s): one
workbook per unit and month (one file per table for units whose systems export CSV or HTML), plus a
year-end review workbook per year. Along the way it plants what SPEC "Raw data" and "Cleaning"
promise to handle: the same hazard resubmitted once rectified, accidents re-reported by the
supervising department, a few rows with a warning, and a few genuinely bad rows. Every planted row
carries a `Note`, which is how the sample plan can say where each one is.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from pipeline.registry import normalise_name
from pipeline.sample_accidents import draw_accident, industry_departments
from pipeline.sample_base import MONTHS, Unit, pick, random_day, rng_for
from pipeline.sample_data import Truth, draw_hazard, draw_inspection
from pipeline.sample_names import PLACES, mobile, person
from pipeline.sample_style import CellRenderer, Style, date_text, text_encoding
from pipeline.sample_writers import Note, Row, Sheet

# Column order of each table as units lay it out; the second item is the merged group cell above
# the column in a two-row header.
CATALOG = {
    "enforcement": (
        ("seq", None), ("record_id", None), ("unit", None), ("enterprise", None), ("credit_code", None),
        ("inspected_at", None), ("mode", None), ("hazards_found", None), ("case_filed", "处罚情况"),
        ("penalized", "处罚情况"), ("fine_wan", "处罚情况"), ("suspended", None), ("transferred", None),
        ("publicized", "执法规范"), ("recorded", "执法规范"), ("legal_review", "执法规范"),
        ("file_review_score", None), ("overturned", None), ("remark", None),
    ),
    "hazards": (
        ("seq", None), ("hazard_id", None), ("unit", None), ("enterprise", None), ("description", None),
        ("level", None), ("source", None), ("found_at", None), ("deadline", "整改情况"),
        ("rectified_at", "整改情况"), ("supervised", None), ("remark", None),
    ),
    "accidents": (
        ("seq", None), ("accident_id", None), ("occurred_at", None), ("reported_at", None), ("unit", None),
        ("enterprise", None), ("industry", None), ("accident_type", None), ("deaths", "伤亡情况"),
        ("serious_injuries", "伤亡情况"), ("injuries", "伤亡情况"), ("direct_loss_wan", None), ("level", None),
        ("concealed", None), ("concealed_found_at", None), ("closed", None), ("closed_at", None),
        ("victim_name", "伤亡人员信息"), ("victim_id", "伤亡人员信息"), ("victim_phone", "伤亡人员信息"),
        ("victim_address", "伤亡人员信息"), ("story", None),
    ),
}
PERSONAL = ("victim_name", "victim_id", "victim_phone", "victim_address")
EXTRA_TYPES = {"seq": "seq", "remark": "text", "description": "text", "story": "text", **{k: "text" for k in PERSONAL}}
TITLES = {"enforcement": "执法检查情况统计表", "hazards": "隐患排查治理情况统计表", "accidents": "生产安全事故情况统计表"}
SHEET_NAMES = {"accidents": ("事故", "事故情况"), "enforcement": ("执法检查", "执法检查情况"), "hazards": ("隐患排查", "隐患排查治理")}
SUBTOTAL_BY = {"enforcement": "mode", "hazards": "level"}
UNKNOWN_UNIT = "经开区管委会"  # a body that is not in the registry at all
RARE_NAME = "刘䶮"  # 䶮 (CJK Ext-A) exists in GB18030 but not in GBK
# One-character slips a typist makes in unit names (homophones picked by the input method).
CONFUSABLE = dict(zip("湖东城北凤青山港口物流园应急管理住房建设交通运输市场监督消防救援公安商务教育农业文化旅游水利卫健委",
                      "胡冬成背风清三巷扣务留元映及馆里驻防健社郊同云书是厂检都销房就原工按尚物较玉浓叶闻华侣油氺力为建萎"))


class Raw(str):
    """A cell written verbatim (a bad value planted on purpose), bypassing the unit's habits."""


@dataclass
class Entry:
    """One row to be written: typed values by column, what real record it is, and any notes."""

    values: dict
    record: tuple | None
    notes: tuple[Note, ...] = ()


# ----------------------------------------------------------------------------- record -> values
def inspection_values(record, unit: Unit) -> dict:
    values = {key: getattr(record, key) for key in (
        "record_id", "inspected_at", "mode", "hazards_found", "case_filed", "penalized", "fine_wan", "suspended",
        "transferred", "publicized", "recorded", "legal_review", "file_review_score", "overturned")}
    return values | {"unit": unit, "enterprise": record.enterprise.name, "credit_code": record.enterprise.credit_code,
                     "remark": "立案查处" if record.case_filed else None}


def hazard_values(hazard, unit: Unit, rectified_at: date | None) -> dict:
    values = {key: getattr(hazard, key) for key in ("hazard_id", "description", "level", "source", "found_at", "deadline", "supervised")}
    return values | {"unit": unit, "enterprise": hazard.enterprise.name, "rectified_at": rectified_at,
                     "remark": "已整改销号" if rectified_at else None}


def accident_values(accident, territory: Unit) -> dict:
    values = {key: getattr(accident, key) for key in (
        "accident_id", "occurred_at", "reported_at", "industry", "accident_type", "enterprise", "deaths",
        "serious_injuries", "injuries", "direct_loss_wan", "concealed", "concealed_found_at", "closed", "closed_at")}
    victim = accident.victim
    story = f"{accident.enterprise}发生一起{accident.accident_type}事故,造成{accident.deaths}人死亡、{accident.serious_injuries}人重伤。"
    return values | {
        "unit": territory, "level": accident.level_submitted, "story": story,
        "victim_name": victim and victim.name, "victim_id": victim and victim.id_card,
        "victim_phone": victim and victim.phone,
        "victim_address": victim and f"{PLACES[int(victim.id_card[6:10]) % len(PLACES)]}路{int(victim.id_card[14:17]) % 200 + 1}号",
    }


def accident_notes(accident) -> tuple[Note, ...]:
    notes = []
    if accident.level_submitted != accident.level:
        notes.append(Note("warning", "level_disagreement", "level", f"computed {accident.level}"))
    if accident.late:
        notes.append(Note("warning", "late_report", "reported_at", f"{accident.reported_at - accident.occurred_at} after occurring"))
    if accident.department_id is None:
        notes.append(Note("warning", "industry_not_supervised", "industry", "no department lists this industry"))
    if accident.concealed:
        notes.append(Note("info", "concealed", "concealed", f"found {accident.concealed_found_at}"))
    return tuple(notes)


# --------------------------------------------------------------------------------- cell writing
def render_cell(key: str, kind: str, value, renderer: CellRenderer):
    """The cell for a typed value in a column of `kind` (a column type of rules/ingest.toml)."""
    if isinstance(value, Raw):
        return str(value)
    if kind == "unit" and isinstance(value, Unit):
        return renderer.unit(value)
    if kind == "date":
        return renderer.date(value)
    if kind == "datetime":
        return renderer.datetime(value)
    if kind == "bool":
        return renderer.flag(value)
    if kind == "count":
        return renderer.count(value, "项" if key == "hazards_found" else "人")
    if kind == "money_wan":
        return renderer.money(value, yuan_ok=key == "fine_wan")
    if kind.startswith("enum:"):
        return renderer.spelled(kind[5:], value)
    if kind == "score" and value is not None:
        return int(value) if float(value).is_integer() else value
    return value


def column_spans(columns: list[str], source: str) -> list[tuple[int, int, str]]:
    """Merged group cells of a two-row header: runs of adjacent columns sharing a group label."""
    labels = dict(CATALOG[source])
    spans: list[tuple[int, int, str]] = []
    for c, column in enumerate(columns):
        label = labels.get(column)
        if label and spans and spans[-1][2] == label and spans[-1][1] == c - 1:
            spans[-1] = (spans[-1][0], c, label)
        elif label:
            spans.append((c, c, label))
    return spans


def sum_row(label: str, columns: list[str], kinds: dict, entries: list[Entry]) -> list:
    """合计/小计: the label in the first cell, sums under count and money columns."""
    cells: list = [label] + [None] * (len(columns) - 1)
    for c, column in enumerate(columns):
        if kinds[column] in ("count", "money_wan"):
            numbers = [e.values.get(column) for e in entries]
            total = sum(v for v in numbers if isinstance(v, (int, float)) and not isinstance(v, (bool, Raw)))
            cells[c] = round(total, 2) if isinstance(total, float) else total
    return cells


class SheetBuilder:
    """Lays out one table the way one unit does it."""

    def __init__(self, truth: Truth, styles: dict[str, Style], types: dict, seed: int):
        self.truth, self.styles, self.types, self.seed = truth, styles, types, seed

    def build(self, source: str, unit: Unit, month: str, entries: list[Entry], omit: frozenset = frozenset()) -> Sheet:
        style = self.styles[unit.unit_id]
        rng = rng_for(self.seed, "sheet", unit.unit_id, month, source)
        quirks: set[str] = set()
        renderer = CellRenderer(style, rng, quirks)
        columns = [
            key for key, _ in CATALOG[source]
            if key not in style.omitted and key not in omit and (key != "seq" or style.seq_column)
            and (key not in PERSONAL or unit.territorial)
        ]
        kinds = {key: self.types[source].get(key, EXTRA_TYPES.get(key, "text")) for key in columns}
        header = [style.headers[(source, key)] for key in columns]
        if any("（" in text or " " in text for text in header):
            quirks.add("header_brackets_spaces")
        if any(text.endswith("*") for text in header):
            quirks.add("required_marker")
        if any(key in PERSONAL for key in columns) and any(e.values.get("victim_id") for e in entries):
            quirks.add("personal_data_columns")

        body = self._body(source, style, columns, kinds, entries, renderer, rng, quirks)
        html = style.fmt == "xls-html"
        sheet = Sheet(
            name=self._sheet_name(source, style),
            source=source,
            columns=columns,
            header=header,
            groups=column_spans(columns, source) if style.two_row_header else [],
            title=f"{month[:4]}年{int(month[5:])}月{TITLES[source]}",
            meta=None if html else self._meta(unit, month, style),
            merge_meta=style.merge_meta,
            body=body,
            footer=[] if html or not (style.footer or style.fmt == "csv") else self._footer(rng, style, month),
            quirks=quirks,
        )
        quirks.update({"merged_title_row" if style.fmt != "csv" else "title_row"})
        quirks.update({"meta_line"} if sheet.meta else set())
        quirks.update({"two_row_header"} if sheet.groups else set())
        quirks.update({"footer_rows"} if sheet.footer else set())
        quirks.update({"generic_sheet_name"} if sheet.name.startswith("Sheet") else set())
        quirks.update({"empty_sheet"} if not entries else set())
        return sheet

    def _body(self, source, style, columns, kinds, entries, renderer, rng, quirks) -> list[Row]:
        html = style.fmt == "xls-html"
        group_by = SUBTOTAL_BY.get(source) if style.totals == "subtotal" and not html else None
        if group_by:
            entries = sorted(entries, key=lambda e: str(e.values.get(group_by)))
        rows: list[Row] = []
        for i, entry in enumerate(entries):
            values = entry.values | {"seq": i + 1}
            cells = [render_cell(key, kinds[key], values.get(key), renderer) for key in columns]
            rows.append(Row("data", cells, entry.notes, entry.record))
            following = entries[i + 1].values.get(group_by) if group_by and i + 1 < len(entries) else None
            if group_by and following != entry.values.get(group_by):
                group = [e for e in entries if e.values.get(group_by) == entry.values.get(group_by)]
                rows.append(Row("subtotal", sum_row("小计", columns, kinds, group)))
                quirks.add("subtotal_row")
        if style.blank_rows and len(rows) > 3 and not html:
            rows.insert(int(rng.integers(1, len(rows))), Row("blank", [None] * len(columns)))
            quirks.add("blank_rows")
        if style.totals != "none" and not html:
            rows.append(Row("total", sum_row("合计", columns, kinds, entries)))
            quirks.add("total_row")
        if style.blank_rows and style.footer and not html:
            rows.append(Row("blank", [None] * len(columns)))
        return rows

    def _sheet_name(self, source: str, style: Style) -> str:
        if style.generic_sheet_names:
            return f"Sheet{('accidents', 'enforcement', 'hazards').index(source) + 1}"
        return SHEET_NAMES[source][int(style.odd_headers)]

    def _meta(self, unit: Unit, month: str, style: Style) -> str:
        filed = self.truth.calendar.filed_on[(unit.unit_id, month)]
        name = unit.aliases[0] if style.meta_alias else unit.name
        colon = ":" if style.merge_meta else "："  # some templates type the full-width colon
        shown = date_text(filed, style.date_style if style.date_style in ("iso", "slash", "dot", "chinese") else "iso")
        return f"填报单位{colon}{name}    填报日期{colon}{shown}"

    def _footer(self, rng, style: Style, month: str) -> list[str]:
        # A rare character only GB18030 can encode, so that reading GB18030 as GBK visibly fails.
        writer = RARE_NAME if text_encoding(style.fmt, month) == "gb18030" else person(rng)
        lines = [f"填报人:{writer}  审核人:{person(rng)}  联系电话:{mobile(rng)}"]
        if style.two_row_header:
            lines.append("注:本表于次月5日前报区安委办,数据须与台账一致。")
        return lines


# ------------------------------------------------------------------------------ entries by sheet
def hazard_entries(unit: Unit, truth: Truth) -> dict[str, list[Entry]]:
    """A hazard is reported in the month it is found; rectified_at is filled only when the fix
    happened before the 填报日期. Hazards fixed later are reported again in the next submitted
    month with rectified_at filled in (整改销号): the same hazard in two months' files."""
    calendar, out, pending = truth.calendar, {}, []
    for month in MONTHS:
        if (unit.unit_id, month) not in truth.hazards:
            continue
        filed = calendar.filed_on[(unit.unit_id, month)]
        entries, carried, still_pending = [], [], []
        for hazard in pending:
            if hazard.rectified_at <= filed:
                note = Note("duplicate", "hazard_resubmitted", "rectified_at", f"{hazard.hazard_id} first reported for {hazard.month}")
                carried.append(Entry(hazard_values(hazard, unit, hazard.rectified_at), ("hazards", hazard.hazard_id), (note,)))
            else:
                still_pending.append(hazard)
        for hazard in truth.hazards[(unit.unit_id, month)]:
            shown = hazard.rectified_at if hazard.rectified_at and hazard.rectified_at <= filed else None
            entries.append(Entry(hazard_values(hazard, unit, shown), ("hazards", hazard.hazard_id)))
            if hazard.rectified_at and shown is None:
                still_pending.append(hazard)
        out[month], pending = entries + carried, still_pending
    return out


def initial_entries(truth: Truth) -> dict[tuple[str, str, str], list[Entry]]:
    """(unit_id, month, source) -> rows, for every sheet that was submitted."""
    units = {unit.unit_id: unit for unit in truth.units}
    entries: dict[tuple[str, str, str], list[Entry]] = {}
    for (uid, month), records in truth.inspections.items():
        entries[(uid, month, "enforcement")] = [
            Entry(inspection_values(r, units[uid]), ("enforcement", r.record_id)) for r in records]
    for unit in truth.units:
        for month, rows in hazard_entries(unit, truth).items():
            entries[(unit.unit_id, month, "hazards")] = rows
        for month in MONTHS:
            if truth.calendar.has_sheet(unit, "accidents", month):
                entries[(unit.unit_id, month, "accidents")] = []
    for accident in truth.accidents:
        entries[(accident.unit_id, accident.report_month, "accidents")].append(
            Entry(accident_values(accident, units[accident.unit_id]), ("accidents", accident.accident_id), accident_notes(accident)))
    return entries


def add_department_reports(entries, truth: Truth, seed: int) -> dict[tuple[str, str], bool]:
    """Departments re-report some accidents in their industry (管行业必须管安全): the same accident
    submitted twice. Alternate sheets carry the 事故编号 (match on id) or not (match on time,
    territory and enterprise). Returns (dept, month) -> whether the sheet has the 事故编号 column."""
    rng = rng_for(seed, "department-reports")
    units = {unit.unit_id: unit for unit in truth.units}
    with_id: dict[tuple[str, str], bool] = {}
    for accident in truth.accidents:
        dept = accident.department_id
        if dept is None or accident.concealed or not truth.calendar.submitted(dept, accident.report_month):
            continue
        if rng.random() > 0.35:
            continue
        key = (dept, accident.report_month)
        with_id.setdefault(key, len(with_id) % 2 == 0)
        note = Note("duplicate", "accident_rereported", "accident_id" if with_id[key] else "occurred_at",
                    f"{accident.accident_id}, also reported by {accident.unit_id}")
        entries.setdefault((dept, accident.report_month, "accidents"), []).append(
            Entry(accident_values(accident, units[accident.unit_id]), ("accidents", accident.accident_id), (note,)))
    return with_id


# ---------------------------------------------------------------------------------- bad rows
# (table, reason, column, raw value or None when derived, year the sheet must be in)
BAD_ROWS = (
    ("enforcement", "negative_count", "hazards_found", "-2", 2019),
    ("enforcement", "negative_money", "fine_wan", "-0.5", 2020),
    ("enforcement", "unparseable_date", "inspected_at", "2020-02-30", 2020),
    ("hazards", "unparseable_date", "found_at", "2019-02-29", 2019),
    ("enforcement", "date_out_of_period", "inspected_at", "1900-01-01", 2019),
    ("hazards", "date_out_of_period", "deadline", "2099-12-31", 2020),
    ("hazards", "rectified_before_found", "rectified_at", None, 2019),
    ("hazards", "rectified_before_found", "rectified_at", None, 2020),
    ("hazards", "deadline_before_found", "deadline", None, 2020),
    ("accidents", "reported_before_occurred", "reported_at", None, 2020),
    ("enforcement", "unknown_unit", "unit", UNKNOWN_UNIT, 2020),
    ("hazards", "misspelt_unit", "unit", None, 2019),
    ("enforcement", "misspelt_unit", "unit", None, 2020),
    ("enforcement", "missing_required", "enterprise", "", 2019),
    ("enforcement", "invalid_score", "file_review_score", "105", 2020),
)


def misspell(name: str, taken: set[str], rng) -> str:
    """A one-character slip (a homophone, else two characters swapped) that is nobody's name."""
    positions = [i for i, ch in enumerate(name) if ch in CONFUSABLE]
    rng.shuffle(positions)
    for i in positions:
        typo = name[:i] + CONFUSABLE[name[i]] + name[i + 1:]
        if normalise_name(typo) not in taken:
            return typo
    return name[1] + name[0] + name[2:]


def bad_entry(table: str, reason: str, column: str, raw: str | None, unit: Unit, month: str, truth: Truth, rng, taken) -> Entry:
    """A plausible row of `unit` for `month` with exactly one defect."""
    pool = truth.pools[unit.unit_id]
    seq = 900 + int(rng.integers(0, 99))
    if table == "enforcement":
        record = draw_inspection(rng, unit, month, seq, pick(rng, pool), random_day(rng, month, True), truth.habits[unit.unit_id])
        if reason in ("negative_money", "invalid_score"):
            record = replace(record, case_filed=True, penalized=True, fine_wan=1.0, suspended=False, transferred=False, legal_review=True)
        values = inspection_values(record, unit)
    elif table == "hazards":
        hazard = draw_hazard(rng, unit, month, seq, pick(rng, pool), major=False)
        values = hazard_values(hazard, unit, hazard.rectified_at)
        if reason == "rectified_before_found":
            values["rectified_at"] = hazard.found_at - timedelta(days=int(rng.integers(3, 10)))
        elif reason == "deadline_before_found":
            values |= {"deadline": hazard.found_at - timedelta(days=3), "rectified_at": None}
    else:
        accident = draw_accident(rng, unit, month, industry_departments(truth.units), truth.calendar)
        accident = replace(accident, accident_id=f"SG{month[:4]}-9{seq:02d}")
        values = accident_values(accident, unit)
        values["reported_at"] = accident.occurred_at - timedelta(hours=2)
    if reason == "misspelt_unit":
        raw = misspell(unit.name, taken, rng)
    if raw is not None:
        values[column] = Raw(raw) if raw else None
    detail = f"suggest {unit.name}" if reason == "misspelt_unit" else None
    return Entry(values, None, (Note("quarantine", reason, column, detail),))


def plant_bad_rows(entries, truth: Truth, styles: dict[str, Style], seed: int) -> None:
    """Insert each BAD_ROWS defect into a random sheet of its table and year, at a random place."""
    rng = rng_for(seed, "bad-rows")
    units = {unit.unit_id: unit for unit in truth.units}
    taken = {normalise_name(s) for unit in truth.units for s in (unit.name, *unit.aliases)}
    for table, reason, column, raw, year in BAD_ROWS:
        candidates = sorted(key for key, rows in entries.items()
                            if key[2] == table and key[1].startswith(str(year)) and (len(rows) >= 3 or table == "accidents")
                            and (table != "accidents" or units[key[0]].territorial)
                            and column not in styles[key[0]].omitted)
        if not candidates:  # a registry too small to hold this case: the plan simply omits it
            continue
        uid, month, _ = pick(rng, candidates)
        rows = entries[(uid, month, table)]
        rows.insert(int(rng.integers(0, len(rows) + 1)), bad_entry(table, reason, column, raw, units[uid], month, truth, rng, taken))


def plant_warnings(entries, styles: dict[str, Style], seed: int) -> None:
    """Rows kept with a warning: a fine with 是否处罚 = 否, a credit code failing its checksum."""
    rng = rng_for(seed, "warnings")
    filed = sorted((key, i) for key, rows in entries.items() if key[2] == "enforcement"
                   for i, e in enumerate(rows) if e.record and e.values.get("fine_wan"))
    coded = sorted((key, i) for key, rows in entries.items() if key[2] == "enforcement"
                   and "credit_code" not in styles[key[0]].omitted for i, e in enumerate(rows) if e.record)
    for reason, pool in (("fine_without_penalty", filed), ("invalid_credit_code", coded)):
        for key, i in rng.sample(pool, min(2, len(pool))):
            entry = entries[key][i]
            if reason == "fine_without_penalty":
                entry.values["penalized"] = False
                note = Note("warning", reason, "penalized", f"fine {entry.values['fine_wan']} 万元")
            else:
                code = entry.values["credit_code"]
                entry.values["credit_code"] = code[:-1] + ("0" if code[-1] != "0" else "1")
                note = Note("warning", reason, "credit_code", "check character does not match")
            entry.notes = entry.notes + (note,)
