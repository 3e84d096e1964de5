"""The shape a scoring rulebook (rules/rulebook-<year>.toml) must have, and the checks on it.

`structure_errors` walks the parsed TOML against KEYS and reports every unknown key (a typo such as
`weigth` must not be silently ignored), missing required key and wrongly typed value, each named by
its full key path (`monthly.components.A.items[2].weigth`). `meaning_errors` then checks what the
numbers mean: items' points add up to their component, grade bands exist, indicators are known.
Both return lists of messages; pipeline/rulebook.py turns them into one InputError.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.indicators import INDICATORS

TOLERANCE = 1e-9
IF_NO_DATA = ("not_assessed", "zero", "full")
TIE_BREAK_KEYS = ("A", "B", "C", "deaths")
COMPONENTS = ("A", "B", "C")  # the monthly_scores columns of the public contract
ITEMS, GROUPS, PARTS = ("各项分值", "items' points"), ("各组分值", "groups' points"), \
    ("各部分分值", "parts' points")



@functools.cache
def event_columns() -> dict[str, set[str]]:
    """Columns a `where` condition or `per` may name, per event table (pipeline/events.py): the
    fields of the clean tables' models in pipeline/schemas.py, read from its source. Importing the
    models would load pandera (half a second) in every report kernel that reads a rulebook; the
    test pins these sets to the models' own columns."""
    fields = model_fields(Path(__file__).with_name("schemas.py"))
    return {
        "inspections": set(fields["Enforcement"]),
        "overdue_hazards": set(fields["Hazards"]),
        "accidents": set(fields["Accidents"]) | {"role"},
    }


def model_fields(source: Path) -> dict[str, list[str]]:
    """Each class's annotated fields in a module's source, its base classes' first."""
    tree = ast.parse(source.read_text(encoding="utf-8"))
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}

    def fields(name: str) -> list[str]:
        node = classes[name]
        inherited = [f for base in node.bases if isinstance(base, ast.Name) and base.id in classes for f in fields(base.id)]
        own = [item.target.id for item in node.body if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)]
        return inherited + own

    return {name: fields(name) for name in classes}
COUNT_COLUMNS = {"deaths", "serious_injuries", "injuries", "direct_loss_wan", "hazards_found"}


@dataclass(frozen=True)
class Key:
    """One allowed key: its kind, whether it is required, and the keys inside it (for tables)."""

    kind: str  # str | num | int | bool | where | strs | nums | num_map | table | tables | table_map
    required: bool = True
    inner: dict[str, Key] | None = None


RULE = {
    "key": Key("str"), "label": Key("str"), "on": Key("str"), "where": Key("where", False),
    "points": Key("num"), "per": Key("str", False), "group": Key("str", False),
}
ZEROING = {"key": Key("str"), "label": Key("str"), "on": Key("str"), "where": Key("where")}
ITEM = {
    "key": Key("str"), "label": Key("str"), "indicator": Key("str"), "points": Key("num"),
    "target": Key("num", False), "group": Key("str", False), "if_no_data": Key("str", False),
}
COMPONENT = {
    "label": Key("str"), "points": Key("num"), "start": Key("num", False),
    "groups": Key("num_map", False), "items": Key("tables", False, ITEM),
    "deductions": Key("tables", False, RULE), "zeroing": Key("tables", False, ZEROING),
}
COUNT_RULE = {"key": Key("str"), "label": Key("str"), "where": Key("where"), "min_count": Key("int", False)}
GRADE = {
    "grade": Key("str"), "min_total": Key("num"), "top_share": Key("num", False),
    "without": Key("where", False),
}
SCALED = {"label": Key("str"), "points": Key("num"), "from_component": Key("str")}
REVIEWED = {"label": Key("str"), "points": Key("num"), "category": Key("str")}
KEYS: dict[str, Key] = {
    "version": Key("str"),
    "title": Key("str", False),
    "definitions": Key("table", True, {
        "major_decision_fine_wan": Key("num"), "late_report_hours": Key("num")}),
    "monthly": Key("table", True, {
        "total_points": Key("num"), "components": Key("table_map", True, COMPONENT)}),
    "ranking": Key("table", True, {
        "decimals": Key("int"), "top_n": Key("int"), "bottom_n": Key("int"),
        "tie_breaks": Key("strs"),
        "groups": Key("tables", True, {"name": Key("str"), "members": Key("strs")})}),
    "annual": Key("table", True, {
        "total_points": Key("num"), "window_start": Key("str", False), "fail_grade": Key("str"),
        "enforcement": Key("table", True, SCALED), "hazards": Key("table", True, SCALED),
        "accidents": Key("table", True, COMPONENT), "key_work": Key("table", True, REVIEWED),
        "bonus": Key("table", True, REVIEWED), "veto": Key("tables", False, COUNT_RULE),
        "yellow_card": Key("tables", False, COUNT_RULE), "grades": Key("tables", True, GRADE)}),
    "submissions": Key("table", False, {
        "deadline_day": Key("int", False), "expected_sources": Key("strs_map", False)}),
    "robustness": Key("table", True, {
        "perturbation": Key("num"), "draws": Key("int"), "seed": Key("int"),
        "quantiles": Key("nums"), "min_share": Key("num")}),
}

KIND_WORDS = {
    "str": ("文本", "text"), "num": ("数值", "a number"), "int": ("整数", "an integer"),
    "where": ("条件表 { 列 = 值 }", "a condition table"), "strs": ("文本列表", "a list of text"),
    "nums": ("数值列表", "a list of numbers"), "num_map": ("名称 = 数值 的表", "a table of numbers"),
    "table": ("表", "a table"), "tables": ("表数组 [[...]]", "an array of tables"),
    "table_map": ("表", "a table of tables"),
    "strs_map": ("名称 = [文本…] 的表", "a table of text lists"),
}


def _is_num(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _type_ok(kind: str, value: Any) -> bool:
    checks = {
        "str": lambda v: isinstance(v, str),
        "num": _is_num,
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "strs": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
        "nums": lambda v: isinstance(v, list) and all(_is_num(x) for x in v),
        "num_map": lambda v: isinstance(v, dict) and all(_is_num(x) for x in v.values()),
        "where": lambda v: isinstance(v, dict) and all(
            isinstance(x, (str, bool)) or (isinstance(x, list) and all(isinstance(y, str) for y in x))
            for x in v.values()),
        "table": lambda v: isinstance(v, dict),
        "strs_map": lambda v: isinstance(v, dict) and all(isinstance(x, list) and all(isinstance(y, str) for y in x) for x in v.values()),
        "table_map": lambda v: isinstance(v, dict) and all(isinstance(x, dict) for x in v.values()),
        "tables": lambda v: isinstance(v, list) and all(isinstance(x, dict) for x in v),
    }
    return checks[kind](value)


def structure_errors(table: dict[str, Any], keys: dict[str, Key] = KEYS, path: str = "") -> list[str]:
    """Every unknown, missing or wrongly typed key, named by its full path."""
    errors: list[str] = []
    for name in table:
        if name not in keys:
            where = f"{path}{name}"
            errors.append(f"未知键“{where}”,请检查拼写(unknown key `{where}`)")
    for name, key in keys.items():
        where = f"{path}{name}"
        if name not in table:
            if key.required:
                errors.append(f"缺少必填键“{where}”(missing required key `{where}`)")
            continue
        value = table[name]
        if not _type_ok(key.kind, value):
            zh, en = KIND_WORDS.get(key.kind, (key.kind, key.kind))
            errors.append(f"键“{where}”应为{zh},实际为 {value!r}(`{where}` should be {en})")
            continue
        if key.kind == "table" and key.inner:
            errors += structure_errors(value, key.inner, f"{where}.")
        elif key.kind == "tables" and key.inner:
            for i, entry in enumerate(value):
                errors += structure_errors(entry, key.inner, f"{where}[{i}].")
        elif key.kind == "table_map" and key.inner:
            for sub, entry in value.items():
                errors += structure_errors(entry, key.inner, f"{where}.{sub}.")
    return errors


def _sum_error(path: str, total: float, parts: float, what: tuple[str, str]) -> list[str]:
    if abs(total - parts) <= TOLERANCE:
        return []
    return [f"“{path}”的{what[0]}合计 {parts:g} 分,不等于其分值 {total:g} 分"
            f"(`{path}`: {what[1]} add up to {parts:g}, not {total:g})"]


def _rule_errors(rules: list[dict], path: str, default_on: str | None = None) -> list[str]:
    errors = []
    for i, rule in enumerate(rules):
        where = f"{path}[{i}]"
        on = rule.get("on", default_on)
        if on not in event_columns():
            errors.append(f"“{where}.on”= {on!r} 不是已知事件表 {sorted(event_columns())}"
                          f"(unknown event table)")
            continue
        for column in list(rule.get("where", {})) + ([rule["per"]] if "per" in rule else []):
            if column not in event_columns()[on]:
                errors.append(f"“{where}”引用了 {on} 中不存在的列“{column}”(unknown column `{column}`)")
        if "per" in rule and rule["per"] not in COUNT_COLUMNS:
            errors.append(f"“{where}.per”应为计数列 {sorted(COUNT_COLUMNS)}(per must be a count)")
        if rule.get("min_count", 1) < 1:
            errors.append(f"“{where}.min_count”至少为1(min_count must be >= 1)")
        if rule.get("points", 0) < 0:
            errors.append(f"“{where}.points”不能为负数(deduction points must be >= 0)")
    return errors


def component_errors(comp: dict[str, Any], path: str) -> list[str]:
    """Items add up to the component, groups add up, indicators exist, rules name real columns."""
    errors: list[str] = []
    items = comp.get("items", [])
    if items:
        errors += _sum_error(path, comp["points"], sum(i["points"] for i in items), ITEMS)
    elif "start" not in comp:
        errors.append(f"“{path}”既无 items 也无 start(component needs items or a start score)")
    elif not 0 <= comp["start"] <= comp["points"]:
        errors.append(f"“{path}.start”应在 0 与 points 之间(start must be within [0, points])")
    groups = comp.get("groups", {})
    if groups:
        errors += _sum_error(f"{path}.groups", comp["points"], sum(groups.values()), GROUPS)
    for i, item in enumerate(items):
        where = f"{path}.items[{i}]"
        if item["indicator"] not in INDICATORS:
            errors.append(f"“{where}.indicator”= “{item['indicator']}” 不是已知指标,可用:"
                          f"{', '.join(sorted(INDICATORS))}(unknown indicator)")
        if item.get("if_no_data", "not_assessed") not in IF_NO_DATA:
            errors.append(f"“{where}.if_no_data”应为 {' | '.join(IF_NO_DATA)}(invalid if_no_data)")
        if "target" in item and item["target"] <= 0:
            errors.append(f"“{where}.target”必须大于0(target must be > 0)")
        if item["points"] < 0:
            errors.append(f"“{where}.points”不能为负数(points must be >= 0)")
        if groups and item.get("group") not in groups:
            errors.append(f"“{where}.group”= {item.get('group')!r} 不在 {path}.groups 中(unknown group)")
    for label, points in groups.items():
        in_group = sum(i["points"] for i in items if i.get("group") == label)
        errors += _sum_error(f"{path}.groups.{label}", points, in_group, ITEMS)
    errors += _rule_errors(comp.get("deductions", []), f"{path}.deductions")
    errors += _rule_errors(comp.get("zeroing", []), f"{path}.zeroing")
    return errors


def meaning_errors(book: dict[str, Any]) -> list[str]:
    """What the numbers mean: sums, bands, names, ranges. Assumes structure_errors found nothing."""
    errors: list[str] = []
    monthly = book["monthly"]
    comps = monthly["components"]
    if sorted(comps) != list(COMPONENTS):
        return [f"“monthly.components”应恰好包含 A、B、C 三部分,实际为 {sorted(comps)}"
                f"(monthly components must be exactly A, B, C)"]
    for key, comp in comps.items():
        errors += component_errors(comp, f"monthly.components.{key}")
    errors += _sum_error("monthly", monthly["total_points"],
                         sum(c["points"] for c in comps.values()), PARTS)
    keys = [i["key"] for c in comps.values() for i in c.get("items", [])]
    if len(keys) != len(set(keys)):
        errors.append("monthly 各项 key 有重复(item keys must be unique)")
    ranking = book["ranking"]
    for name in ranking["tie_breaks"]:
        if name not in TIE_BREAK_KEYS or (name != "deaths" and name not in comps):
            errors.append(f"“ranking.tie_breaks”中的“{name}”不可用,应为 {TIE_BREAK_KEYS}(unknown tie-break)")
    for key in ("decimals", "top_n", "bottom_n"):
        if ranking[key] < 0:
            errors.append(f"“ranking.{key}”不能为负数(ranking.{key} must be >= 0)")
    members = [m for g in ranking["groups"] for m in g["members"]]
    if len(members) != len(set(members)):
        errors.append("“ranking.groups”中同一单位类别出现在两个排名组(a group belongs to two ranking groups)")
    annual = book["annual"]
    for part in ("enforcement", "hazards"):
        if annual[part]["from_component"] not in comps:
            errors.append(f"“annual.{part}.from_component”不是月度考核的部分(unknown component)")
    errors += component_errors(annual["accidents"], "annual.accidents")
    scored = sum(annual[p]["points"] for p in ("enforcement", "hazards", "accidents", "key_work"))
    errors += _sum_error("annual", annual["total_points"], scored, PARTS)
    for part in ("veto", "yellow_card"):
        errors += _rule_errors(annual.get(part, []), f"annual.{part}", default_on="accidents")
    grades = annual["grades"]
    if not grades:
        errors.append("“annual.grades”没有等级档次(grade bands missing)")
    bounds = [g["min_total"] for g in grades]
    if bounds != sorted(bounds, reverse=True):
        errors.append("“annual.grades”应按 min_total 从高到低排列(grade bands must be best first)")
    for i, grade in enumerate(grades):
        if not 0 < grade.get("top_share", 1) <= 1:
            errors.append(f"“annual.grades[{i}].top_share”应在 (0, 1] 内(top_share must be in (0, 1])")
        errors += _rule_errors([{"where": grade.get("without", {})}], f"annual.grades[{i}]", "accidents")
    start = annual.get("window_start", "01-01")
    if len(start) != 5 or start[2] != "-" or not start[:2].isdigit() or not 1 <= int(start[:2]) <= 12 \
            or start[3:] != "01":
        errors.append(f"“annual.window_start”= “{start}” 应为 MM-01(如 01-01 或 12-01)"
                      f"(window_start must be the first day of a month, MM-01)")
    robust = book["robustness"]
    if not 0 <= robust["perturbation"] < 1:
        errors.append("“robustness.perturbation”应在 [0, 1) 内(perturbation must be in [0, 1))")
    if robust["draws"] < 1:
        errors.append("“robustness.draws”至少为1(draws must be >= 1)")
    if len(robust["quantiles"]) != 2 or not 0 <= robust["quantiles"][0] < robust["quantiles"][1] <= 1:
        errors.append("“robustness.quantiles”应为两个递增的 [0,1] 数(two increasing numbers in [0, 1])")
    if not 0 < robust["min_share"] <= 1:
        errors.append("“robustness.min_share”应在 (0, 1] 内(min_share must be in (0, 1])")
    return errors
