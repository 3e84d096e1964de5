"""The scoring rulebook (rules/rulebook-<year>.toml) as a frozen, validated object.

`load_rulebook(path)` parses the TOML, refuses it with one InputError listing every problem
(unknown or missing keys by full path, points that do not add up, unknown indicators, missing grade
bands; see pipeline/rulebook_check.py), and returns a `Rulebook` carrying the file's `version` and
the SHA-256 of its bytes, which every report prints. `rulebook_for_year` names the file for a year.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import InputError

Where = tuple[tuple[str, Any], ...]  # (column, value) pairs; a value may be a tuple = "any of"


def _where(table: dict[str, Any] | None) -> Where:
    return tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in (table or {}).items())


@dataclass(frozen=True)
class Item:
    """An item a unit earns points on: points x min(1, actual / target), or points x actual."""

    key: str
    label: str
    indicator: str
    points: float
    target: float | None = None
    group: str | None = None
    if_no_data: str = "not_assessed"


@dataclass(frozen=True)
class Rule:
    """Points lost per matching event (`per`: times a count column), or a zeroing/count trigger."""

    key: str
    label: str
    on: str
    where: Where
    points: float = 0.0
    per: str | None = None
    min_count: int = 1


@dataclass(frozen=True)
class Component:
    """A scored part: items (or a start score), then deductions, then zeroing, kept in [0, points]."""

    key: str
    label: str
    points: float
    items: tuple[Item, ...] = ()
    start: float | None = None
    deductions: tuple[Rule, ...] = ()
    zeroing: tuple[Rule, ...] = ()


@dataclass(frozen=True)
class RankingGroup:
    name: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class GradeBand:
    grade: str
    min_total: float
    top_share: float | None = None
    without: Where = ()


@dataclass(frozen=True)
class Annual:
    """Year-end assessment settings (rulebook [annual])."""

    total_points: float
    window_start: str
    fail_grade: str
    enforcement: dict[str, Any]
    hazards: dict[str, Any]
    accidents: Component
    key_work: dict[str, Any]
    bonus: dict[str, Any]
    veto: tuple[Rule, ...]
    yellow_card: tuple[Rule, ...]
    grades: tuple[GradeBand, ...]

    def points_of(self, part: str) -> float:
        """Weight of an annual part: enforcement | hazards | accidents | key_work | bonus."""
        value = getattr(self, part)
        return float(value.points if isinstance(value, Component) else value["points"])


@dataclass(frozen=True)
class Robustness:
    perturbation: float
    draws: int
    seed: int
    quantiles: tuple[float, float]
    min_share: float


@dataclass(frozen=True)
class Rulebook:
    version: str
    title: str
    file_name: str
    sha256: str
    major_decision_fine_wan: float
    late_report_hours: float
    components: tuple[Component, ...]
    decimals: int
    top_n: int
    bottom_n: int
    tie_breaks: tuple[str, ...]
    ranking_groups: tuple[RankingGroup, ...]
    annual: Annual
    robustness: Robustness

    def component(self, key: str) -> Component:
        return next(c for c in self.components if c.key == key)

    def ranking_group_of(self) -> dict[str, str]:
        """Registry group (办事处 …) -> ranking group name (属地单位 …)."""
        return {m: g.name for g in self.ranking_groups for m in g.members}


def _rules(entries: list[dict[str, Any]], default_on: str = "accidents") -> tuple[Rule, ...]:
    return tuple(
        Rule(e["key"], e["label"], e.get("on", default_on), _where(e.get("where")),
             float(e.get("points", 0.0)), e.get("per"), int(e.get("min_count", 1)))
        for e in entries
    )


def _component(key: str, table: dict[str, Any]) -> Component:
    items = tuple(
        Item(i["key"], i["label"], i["indicator"], float(i["points"]),
             None if "target" not in i else float(i["target"]), i.get("group"),
             i.get("if_no_data", "not_assessed"))
        for i in table.get("items", [])
    )
    start = table.get("start")
    return Component(key, table["label"], float(table["points"]), items,
                     None if start is None else float(start),
                     _rules(table.get("deductions", [])), _rules(table.get("zeroing", [])))


def _build(book: dict[str, Any], file_name: str, digest: str) -> Rulebook:
    annual, ranking, robust = book["annual"], book["ranking"], book["robustness"]
    return Rulebook(
        version=book["version"],
        title=book.get("title", ""),
        file_name=file_name,
        sha256=digest,
        major_decision_fine_wan=float(book["definitions"]["major_decision_fine_wan"]),
        late_report_hours=float(book["definitions"]["late_report_hours"]),
        components=tuple(_component(k, v) for k, v in book["monthly"]["components"].items()),
        decimals=ranking["decimals"],
        top_n=ranking["top_n"],
        bottom_n=ranking["bottom_n"],
        tie_breaks=tuple(ranking["tie_breaks"]),
        ranking_groups=tuple(RankingGroup(g["name"], tuple(g["members"])) for g in ranking["groups"]),
        annual=Annual(
            total_points=float(annual["total_points"]),
            window_start=annual.get("window_start", "01-01"),
            fail_grade=annual["fail_grade"],
            enforcement=dict(annual["enforcement"]),
            hazards=dict(annual["hazards"]),
            accidents=_component("accidents", annual["accidents"]),
            key_work=dict(annual["key_work"]),
            bonus=dict(annual["bonus"]),
            veto=_rules(annual.get("veto", [])),
            yellow_card=_rules(annual.get("yellow_card", [])),
            grades=tuple(GradeBand(g["grade"], float(g["min_total"]), g.get("top_share"),
                                   _where(g.get("without"))) for g in annual["grades"]),
        ),
        robustness=Robustness(float(robust["perturbation"]), robust["draws"], robust["seed"],
                              (float(robust["quantiles"][0]), float(robust["quantiles"][1])),
                              float(robust["min_share"])),
    )


def parse_rulebook(data: bytes, file_name: str = "rulebook.toml") -> Rulebook:
    """Validate and build a Rulebook from the bytes of a TOML file (no file access)."""
    # Here, not at the top: the checks load the indicators (pandas), which choosing a rulebook's
    # file by year (rulebook_for_year, the report command's driver) does not need.
    from pipeline.rulebook_check import meaning_errors, structure_errors

    try:
        book = tomllib.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise InputError(f"规则文件 {file_name} 不是有效的 UTF-8 TOML:{error}(invalid TOML)") from error
    errors = structure_errors(book)
    if not errors:
        errors = meaning_errors(book)
    if errors:
        raise InputError(f"规则文件 {file_name} 有误(invalid rulebook):" + ";".join(errors))
    return _build(book, file_name, hashlib.sha256(data).hexdigest())


def load_rulebook(path: str | Path) -> Rulebook:
    """Read, validate and return the rulebook at `path`; InputError naming the problem if unusable."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"找不到规则文件 {path.name}(rulebook not found: {path})")
    return parse_rulebook(path.read_bytes(), path.name)


_NAME = re.compile(r"^rulebook-(\d{4})\.toml$")


def rulebook_for_year(rules_dir: str | Path, year: int) -> Path:
    """The rulebook file for `year`: rulebook-<year>.toml if present, else the latest earlier year's
    (rules carry forward until the office issues new ones), else the earliest later one (data older
    than any rulebook is scored by the first rules written). InputError when there is none."""
    found = {int(m.group(1)): p for p in Path(rules_dir).glob("rulebook-*.toml")
             if (m := _NAME.match(p.name))}
    if not found:
        raise InputError(f"{rules_dir} 中没有 rulebook-<年份>.toml 规则文件(no rulebook found)")
    earlier = [y for y in found if y <= year]
    return found[max(earlier)] if earlier else found[min(found)]
