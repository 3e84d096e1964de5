"""What goes into a unit's submission template: sheets, columns, drop-down values, 填报说明 rows.

Pure functions from the ingest rulebook (rules/ingest.toml) and the units registry to plain
specifications; `pipeline.templates` turns them into workbooks. Keeping the layout here means the
template can never drift from what the reader accepts: every header is the first alias of a
canonical column, every drop-down holds the canonical enumeration values, and the registry is the
only source of unit and industry names.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import pandas as pd

from pipeline.errors import InputError
from pipeline.registry import normalise_name, split_list

TERRITORIAL_GROUPS = ("办事处", "管理处")
# Sources whose `unit` column is the territory (属地) where the event happened, not the submitter.
TERRITORIAL_UNIT_SOURCES = frozenset({"accidents", "hazards"})
# Default sheets per registry group. Accidents are reported by the territory (属地上报); a member
# department's accident sheet would only duplicate them, so it is left out unless asked for.
DEFAULT_SOURCES_BY_GROUP: dict[str, tuple[str, ...]] = {
    "办事处": ("accidents", "enforcement", "hazards"),
    "管理处": ("accidents", "enforcement", "hazards"),
    "成员单位": ("enforcement", "hazards"),
}
TEMPLATE_SOURCES = ("accidents", "enforcement", "hazards", "annual_review")
# An accident whose industry no department lists is still reportable: it is charged to the
# territory only (SPEC "Units"), so the drop-down offers this value besides the registry's.
OTHER_INDUSTRY = "其他"
PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")

# Chinese meaning of each canonical column for the 填报说明 sheet. A `description` key on the
# column in rules/ingest.toml overrides it, so the analyst can reword without touching code.
MEANINGS: dict[str, dict[str, str]] = {
    "accidents": {
        "accident_id": "单位内部事故编号,可不填",
        "occurred_at": "事故发生的日期和时间",
        "reported_at": "首次上报区安委办(应急值班)的日期和时间;晚于发生时间1小时即为迟报",
        "unit": "事故发生地所属的办事处或管理处",
        "industry": "事故单位所属行业,据此确定行业监管部门(管行业必须管安全)",
        "accident_type": "如 高处坠落、物体打击、触电、火灾、道路交通 等",
        "enterprise": "发生事故的企业或单位名称",
        "deaths": "死亡人数,含失踪人数",
        "serious_injuries": "重伤人数,含急性工业中毒人数",
        "injuries": "轻伤及其他受伤人数",
        "direct_loss_wan": "直接经济损失,单位万元",
        "level": "可不填:系统按《生产安全事故报告和调查处理条例》自动核定",
        "concealed": "经核查确认存在瞒报、谎报的填“是”",
        "concealed_found_at": "瞒报、谎报查实的日期",
        "closed": "事故调查处理是否已结案",
        "closed_at": "事故结案的日期",
    },
    "enforcement": {
        "record_id": "执法文书编号或单位内部检查编号",
        "unit": "实施检查的执法单位(已预填)",
        "inspected_at": "实施检查的日期",
        "enterprise": "被检查企业或单位的全称",
        "credit_code": "被检查单位的18位统一社会信用代码",
        "mode": "本次检查的方式",
        "hazards_found": "本次检查发现的隐患数量(项)",
        "case_filed": "是否立案查处",
        "penalized": "是否作出行政处罚",
        "fine_wan": "罚款金额,单位万元(如 5000元 填 0.5)",
        "suspended": "是否责令停产停业",
        "transferred": "是否移送司法机关",
        "publicized": "执法结果是否已公示",
        "recorded": "是否执法全过程记录",
        "legal_review": "重大执法决定(大额罚款、责令停产停业、移送司法)是否经法制审核",
        "file_review_score": "案卷评查得分(0–100),仅被评查的案卷填写",
        "overturned": "是否被行政复议或诉讼撤销、变更",
    },
    "hazards": {
        "hazard_id": "隐患编号,可不填",
        "unit": "隐患所在的办事处或管理处",
        "enterprise": "存在隐患的企业或单位名称",
        "found_at": "隐患被发现的日期",
        "deadline": "要求完成整改的最后日期",
        "rectified_at": "实际整改完成日期;尚未完成的留空",
        "level": "隐患的严重程度",
        "supervised": "是否挂牌督办",
        "source": "隐患的发现来源",
    },
    "annual_review": {
        "year": "考评所属的年度",
        "unit": "接受考评的单位",
        "item": "考评项目的名称",
        "category": "考评项目的类别",
        "score": "得分(0–100)",
    },
}

# Format text (填报说明) and minimum column width per column type.
FORMAT_TEXT = {
    "text": "文本", "unit": "单位名称", "industry": "从下拉列表选择",
    "datetime": "日期时间,如 2020-03-05 14:30", "date": "日期,如 2020-03-05",
    "count": "非负整数", "money_wan": "非负数,单位万元,如 12.5", "bool": "是/否(下拉选择)",
    "score": "0–100 之间的数", "credit_code": "18位代码(按文本填写)", "year": "四位年份,如 2020",
    "enum": "从下拉列表选择",
}
TYPE_WIDTH = {
    "text": 14, "unit": 20, "industry": 14, "datetime": 18, "date": 13, "count": 10,
    "money_wan": 12, "bool": 10, "score": 10, "credit_code": 22, "year": 8, "enum": 12,
}
WIDE_TEXT = {"enterprise": 28, "item": 28, "accident_type": 14}


@dataclass(frozen=True)
class ColumnSpec:
    """One template column. `choices` is set for drop-down columns, `prefill` for locked ones."""

    canonical: str
    header: str
    kind: str  # column type without the enum name: text, date, count, enum, ...
    required: bool
    meaning: str
    format_text: str
    width: float
    choices: tuple[str, ...] | None = None
    prefill: str | None = None


@dataclass(frozen=True)
class SheetSpec:
    source: str
    name: str  # the sheet name: the source's Chinese label
    title: str
    unit_name: str
    columns: tuple[ColumnSpec, ...]


def parse_period(period: str) -> tuple[int, int]:
    """`"2020-03"` -> (2020, 3); anything else is an InputError."""
    match = PERIOD.match(str(period))
    if not match:
        raise InputError(f"报送期“{period}”格式应为 YYYY-MM,如 2020-03(period must be YYYY-MM)")
    return int(match.group(1)), int(match.group(2))


def display_width(text: str) -> int:
    """Width in Excel character units: CJK and full-width characters count double."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def is_personal(header: str, ingest_rules: dict) -> bool:
    """True when a header holds personal data (rules/ingest.toml [personal_data]): never templated."""
    fragments = ingest_rules.get("personal_data", {}).get("headers", [])
    return any(fragment in header for fragment in fragments)


def territorial_names(registry: pd.DataFrame) -> tuple[str, ...]:
    return tuple(registry.loc[registry["group"].isin(TERRITORIAL_GROUPS), "name"])


def industry_choices(registry: pd.DataFrame) -> tuple[str, ...]:
    """Every industry a member department lists (registry order, no repeats), then 其他."""
    seen: dict[str, None] = {}
    for cell in registry.loc[registry["group"] == "成员单位", "industries"]:
        for industry in split_list(cell):
            seen.setdefault(industry, None)
    seen.setdefault(OTHER_INDUSTRY, None)
    return tuple(seen)


def _is_header(text: str, ingest_rules: dict) -> bool:
    """True when `text` matches some column's alias or canonical name, as the reader compares them."""
    key = normalise_name(text).rstrip("*")
    return any(
        key in {normalise_name(name).rstrip("*") for name in (canonical, *spec["aliases"])}
        for source in ingest_rules["sources"].values()
        for canonical, spec in source["columns"].items()
    )


def _column(source: str, canonical: str, spec: dict, unit: pd.Series, registry: pd.DataFrame,
            ingest_rules: dict) -> ColumnSpec:
    col_type = spec["type"]
    kind, _, enum_name = col_type.partition(":")
    header = spec["aliases"][0]
    required = bool(spec.get("required", False))
    choices: tuple[str, ...] | None = None
    prefill = None
    if kind == "enum":
        choices = tuple(ingest_rules["enums"][enum_name])
    elif kind == "bool":
        choices = ("是", "否")
    elif kind == "industry":
        choices = industry_choices(registry)
    elif kind == "unit":
        if source in TERRITORIAL_UNIT_SOURCES and unit["group"] not in TERRITORIAL_GROUPS:
            choices = territorial_names(registry)
        else:
            prefill = unit["name"]
    meaning = spec.get("description") or MEANINGS.get(source, {}).get(canonical, "")
    if _is_header(meaning, ingest_rules):
        # A meaning that reads as a header would make the reader take 填报说明 for a data sheet.
        meaning += "。"
    format_text = FORMAT_TEXT.get(kind, "文本")
    if kind == "unit":
        format_text = "已预填" if prefill else "从下拉列表选择"
    label = header + ("*" if required else "")
    width = max(display_width(label) + 2, TYPE_WIDTH.get(kind, 12), WIDE_TEXT.get(canonical, 0))
    if choices:
        width = max(width, max(display_width(c) for c in choices) + 4)
    return ColumnSpec(
        canonical=canonical, header=label, kind=kind, required=required,
        meaning=meaning, format_text=format_text,
        width=float(min(width, 40)), choices=choices, prefill=prefill,
    )


def sheet_specs(period: str, unit: pd.Series, registry: pd.DataFrame, ingest_rules: dict,
                sources: tuple[str, ...]) -> list[SheetSpec]:
    """The data sheets of one unit's template, in `sources` order.

    Columns are every canonical column of the source except personal-data ones, in rulebook
    order; the header is the first alias with a trailing `*` on required columns (the reader
    strips it).
    """
    year, month = parse_period(period)
    sheets = []
    for source in sources:
        if source not in ingest_rules["sources"] or source not in TEMPLATE_SOURCES:
            raise InputError(f"模板不支持报表类型“{source}”(no template for source {source!r})")
        rules = ingest_rules["sources"][source]
        columns = tuple(
            _column(source, canonical, spec, unit, registry, ingest_rules)
            for canonical, spec in rules["columns"].items()
            if not is_personal(spec["aliases"][0], ingest_rules)
        )
        label = rules["label"]
        sheets.append(SheetSpec(
            source=source, name=label, title=f"{year}年{month}月{label}统计表",
            unit_name=unit["name"], columns=columns,
        ))
    return sheets


INSTRUCTION_HEADER = ("报表", "表名", "中文表头", "字段名", "含义", "可选值", "格式", "必填")


def instruction_rows(sheets: list[SheetSpec]) -> list[tuple[str, ...]]:
    """One 填报说明 row per template column, in INSTRUCTION_HEADER order.

    The 表名/字段名 columns (source and canonical names) also let `fill_template` and the analyst
    map a header back to the processed tables' column names.
    """
    rows = []
    for sheet in sheets:
        for column in sheet.columns:
            if column.prefill:
                allowed = f"已预填“{column.prefill}”,不可修改"
            else:
                allowed = "、".join(column.choices) if column.choices else ""
            rows.append((
                sheet.name, sheet.source, column.header.rstrip("*"), column.canonical,
                column.meaning, allowed, column.format_text, "是" if column.required else "否",
            ))
    return rows
