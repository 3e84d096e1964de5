"""Sample data: each unit's habits of writing things down, and the cell renderer that applies them.

A unit keeps its habits from month to month (its template, its date style, its way of writing
是/否), the way real offices do; across units every habit listed in SPEC "Raw data" is used at
least once. Habits are dealt out in rotation over a seeded order of the units, so coverage never
depends on luck, and the header texts are always aliases taken from rules/ingest.toml.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from pipeline.sample_base import Rng, Unit, pick, rng_for

DATE_STYLES = ("iso", "slash", "dot", "chinese", "excel_serial", "excel_cell")
TEXT_DATE_STYLES = DATE_STYLES[:4]  # CSV and HTML hold text only
BOOL_STYLES = (("是", "否"), ("√", "×"), ("有", "无"), ("Y", "N"), ("1", "0"))
FULLWIDTH = str.maketrans("0123456789.", "０１２３４５６７８９．")
EXCEL_EPOCH = datetime(1899, 12, 30)

# Lenient enumeration spellings a unit may use (all match rules/ingest.toml [enums]).
SPELLINGS = {
    "mode": {"双随机": ("双随机", "双随机抽查", "随机抽查"), "计划": ("计划", "日常检查", "计划检查"),
             "专项": ("专项", "专项检查"), "举报核查": ("举报核查", "投诉举报"), "交叉执法": ("交叉执法", "交叉检查"),
             "其他": ("其他", "其它")},
    "hazard_level": {"一般": ("一般", "一般隐患"), "重大": ("重大", "重大隐患")},
    "accident_level": {"一般": ("一般", "一般事故"), "较大": ("较大事故",), "重大": ("重大事故",),
                       "特别重大": ("特别重大事故",)},
    "hazard_source": {"企业自查": ("企业自查", "自查"), "部门检查": ("部门检查", "执法检查", "监督检查"),
                      "举报": ("举报", "群众举报")},
    "review_category": {"重点工作": ("重点工作",), "加分": ("加分", "加分项")},
}

# Columns a unit's template may lack (the required ones, and those the scores hinge on, never).
OPTIONAL_COLUMNS = {
    "enforcement": ("record_id", "credit_code", "suspended", "transferred", "file_review_score", "overturned", "remark"),
    "hazards": ("hazard_id", "description", "source", "remark"),
    "accidents": ("accident_type", "closed", "closed_at", "story", "victim_address"),
}
# Columns that are not in the rulebook: the reader must ignore (or, for personal data, drop) them.
EXTRA_HEADERS = {
    "seq": ("序号",), "remark": ("备注",), "description": ("隐患描述", "隐患内容", "存在问题"),
    "story": ("事故简要经过",), "victim_name": ("伤亡人员姓名", "姓名"), "victim_id": ("身份证号", "身份证号码"),
    "victim_phone": ("联系电话", "手机号码"), "victim_address": ("家庭住址",),
}


def load_aliases(path: Path) -> dict[str, dict[str, tuple[str, tuple[str, ...], bool]]]:
    """source -> column -> (type, aliases, required), read from the ingest rulebook."""
    with path.open("rb") as handle:
        rules = tomllib.load(handle)
    return {
        source: {name: (spec["type"], tuple(spec.get("aliases", ())), bool(spec.get("required", False)))
                 for name, spec in body["columns"].items()}
        for source, body in rules["sources"].items()
    }


@dataclass(frozen=True)
class Style:
    fmt: str  # xlsx | xls-biff | xls-html | csv
    date_style: str
    bools: tuple[str, str]
    two_row_header: bool
    odd_headers: bool  # full-width brackets and stray spaces in headers
    required_marker: bool  # "*" after required headers
    naming: str  # standard | short | long
    row_names: str  # name | alias | mixed: how the unit column is filled
    meta_alias: bool  # the 填报单位 line uses an alias
    totals: str  # total | subtotal | none
    footer: bool
    blank_rows: bool
    fullwidth: bool
    units_in_numbers: bool  # 3项, 3人, 12.5万元
    fine_in_yuan: bool  # 5000元 in the 万元 column
    seq_column: bool
    generic_sheet_names: bool
    merge_meta: bool
    omitted: frozenset[str]
    headers: dict  # (source, column) -> header text
    spellings: dict  # (enum, canonical) -> spelling


def header_variant(text: str, style_odd: bool, required: bool, star: bool, rng) -> str:
    """Brackets go full-width and a space may creep in (`罚款金额（万元）`, `发现 隐患数`); both vanish
    under NFKC + space removal, which is how the reader matches headers."""
    if style_odd:
        text = text.replace("(", "（").replace(")", "）")
        if len(text) >= 4 and "（" not in text and rng.random() < 0.08:
            text = text[:2] + " " + text[2:]
    return text + "*" if star and required else text


def choose_headers(aliases, style_odd: bool, star: bool, rng) -> dict:
    """One header per column; the first alias is the usual one, the others appear too."""
    chosen = {}
    for source, columns in aliases.items():
        for column, (_, options, required) in columns.items():
            text = options[0] if rng.random() < 0.45 else pick(rng, options)
            chosen[(source, column)] = header_variant(text, style_odd, required, star, rng)
        for extra, options in EXTRA_HEADERS.items():
            chosen[(source, extra)] = pick(rng, options)
    if style_odd:  # the classic stray space of SPEC "Raw data"
        chosen[("enforcement", "hazards_found")] = "发现 隐患数"
    return chosen


def assign_styles(units: list[Unit], aliases, seed: int) -> dict[str, Style]:
    """Deal habits out in rotation over a seeded order of units (every habit is used)."""
    rng = rng_for(seed, "styles")
    order = rng.sample(units, len(units))
    members = [unit for unit in order if not unit.territorial]
    formats = {unit.unit_id: fmt for unit, fmt in zip(members, ("xls-html", "csv", "xls-biff"))}
    styles = {}
    for k, unit in enumerate(order):
        urng = rng_for(seed, "style", unit.unit_id)
        fmt = formats.get(unit.unit_id, "xlsx")
        date_style = DATE_STYLES[k % len(DATE_STYLES)]
        if fmt in ("csv", "xls-html") and date_style not in TEXT_DATE_STYLES:
            date_style = TEXT_DATE_STYLES[k % len(TEXT_DATE_STYLES)]
        odd, star = k % 2 == 1, k % 7 == 2
        omitted = frozenset(c for cols in OPTIONAL_COLUMNS.values() for c in cols if urng.random() < 0.2)
        styles[unit.unit_id] = Style(
            fmt=fmt,
            date_style=date_style,
            bools=BOOL_STYLES[(k + 2) % len(BOOL_STYLES)],
            two_row_header=k % 3 == 0,
            odd_headers=odd,
            required_marker=star,
            naming=("standard", "standard", "short", "standard", "long")[k % 5],
            row_names=("name", "alias", "name", "mixed")[(k + 1) % 4] if unit.aliases else "name",
            meta_alias=k % 3 == 1 and bool(unit.aliases),
            totals=("total", "subtotal", "total", "none")[(k + 3) % 4],
            footer=k % 5 != 4,
            blank_rows=k % 3 == 1,
            fullwidth=k % 5 == 0,
            units_in_numbers=k % 4 == 1,
            fine_in_yuan=k % 6 == 3,
            seq_column=k % 7 != 6,
            generic_sheet_names=k % 9 == 4,
            merge_meta=k % 2 == 0,
            omitted=omitted,
            headers=choose_headers(aliases, odd, star, urng),
            spellings={(enum, canonical): pick(urng, options)
                       for enum, table in SPELLINGS.items() for canonical, options in table.items()},
        )
    return styles


def text_encoding(fmt: str, month: str) -> str | None:
    """CSV files come in GBK, UTF-8 with BOM and GB18030 by turns; HTML exports declare UTF-8 or GBK."""
    index = int(month[:4]) * 12 + int(month[5:7])
    if fmt == "csv":
        return ("gbk", "utf-8-sig", "gb18030")[index % 3]
    if fmt == "xls-html":
        return ("utf-8", "gbk")[index % 2]
    return None


# --------------------------------------------------------------------------------- cell values
def excel_serial(value: date) -> float:
    moment = value if isinstance(value, datetime) else datetime.combine(value, time())
    return (moment - EXCEL_EPOCH).total_seconds() / 86400


def date_text(value: date, style: str) -> object:
    """A date in one of the forms units type: 2020-03-05, 2020/3/5, 2020.3.5, 2020年3月5日, an Excel
    serial number stored as a plain number, or a real Excel date cell."""
    if style == "excel_serial":
        return int(excel_serial(value))
    if style == "excel_cell":
        return value
    return {
        "iso": f"{value:%Y-%m-%d}",
        "slash": f"{value.year}/{value.month}/{value.day}",
        "dot": f"{value.year}.{value.month}.{value.day}",
        "chinese": f"{value.year}年{value.month}月{value.day}日",
    }[style]


def datetime_text(value: datetime, style: str) -> object:
    if style == "excel_serial":
        return round(excel_serial(value), 10)
    if style == "excel_cell":
        return value
    if style == "chinese":
        return f"{value.year}年{value.month}月{value.day}日{value.hour}时{value.minute:02d}分"
    return f"{date_text(value.date(), style)} {value:%H:%M}"


def number_text(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e6 else f"{value:.0f}"


class CellRenderer:
    """Renders typed values the way one unit writes them, and notes which quirks it produced."""

    def __init__(self, style: Style, rng: Rng, quirks: set[str]):
        self.style = style
        self.rng = rng
        self.quirks = quirks
        self.date_styles = DATE_STYLES if style.fmt in ("xlsx", "xls-biff") else TEXT_DATE_STYLES

    def _date_style(self) -> str:
        """Mostly the unit's habit; now and then a colleague types a date differently."""
        if self.rng.random() < 0.08:
            return pick(self.rng, self.date_styles)
        return self.style.date_style

    def date(self, value: date | None) -> object:
        if value is None:
            return None
        style = self._date_style()
        self.quirks.add(f"date_{style}")
        return self._digits(date_text(value, style), 0.03)

    def datetime(self, value: datetime | None) -> object:
        if value is None:
            return None
        style = self._date_style()
        self.quirks.add("datetime_excel_cell" if style == "excel_cell" else f"datetime_{style}")
        return datetime_text(value, style)

    def flag(self, value: bool | None) -> object:
        if value is None:
            if self.rng.random() < 0.15:
                self.quirks.add("null_tokens")
                return pick(self.rng, ("/", "—", "-"))
            return None
        true, false = self.style.bools
        self.quirks.add(f"bool_{true}{false}")
        return true if value else false

    def count(self, value: int | None, unit: str) -> object:
        if value is None:
            return None
        text = str(value)
        if self.style.units_in_numbers and self.rng.random() < 0.4:
            self.quirks.add("numbers_with_units")
            text += unit
        text = self._digits(text, 0.3)
        return value if text == str(value) and self.style.fmt in ("xlsx", "xls-biff") else text

    def money(self, value: float | None, yuan_ok: bool = False) -> object:
        if value is None:
            return None
        if yuan_ok and self.style.fine_in_yuan and self.rng.random() < 0.35:
            self.quirks.add("fine_in_yuan")
            return self._digits(f"{round(value * 10000)}元", 0.2)
        if self.style.units_in_numbers and self.rng.random() < 0.4:
            self.quirks.add("numbers_with_units")
            return self._digits(f"{number_text(value)}万元", 0.2)
        text = self._digits(number_text(value), 0.3)
        return value if self.style.fmt in ("xlsx", "xls-biff") and text == number_text(value) else text

    def unit(self, unit: Unit) -> str:
        """The unit's registry name, an alias (`南湖办`), or either, as the unit's habit goes."""
        if self.style.row_names == "alias" and unit.aliases:
            spelling = unit.aliases[0]
        elif self.style.row_names == "mixed":
            spelling = pick(self.rng, (unit.name, *unit.aliases))
        else:
            spelling = unit.name
        if spelling != unit.name:
            self.quirks.add("alias_unit_name")
        return spelling

    def spelled(self, enum: str, value: str | None) -> str | None:
        if value is None:
            return None
        spelling = self.style.spellings[(enum, value)]
        if spelling != value:
            self.quirks.add("enum_variants")
        return spelling

    def _digits(self, value: object, share: float) -> object:
        """Full-width digits (`３`), typed with a Chinese input method left in full-width mode."""
        if isinstance(value, str) and self.style.fullwidth and self.rng.random() < share:
            converted = value.translate(FULLWIDTH)
            if converted != value:
                self.quirks.add("fullwidth_digits")
            return converted
        return value
