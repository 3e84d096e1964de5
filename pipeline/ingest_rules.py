"""Load rules/ingest.toml into typed, checked objects (see that file for what each key means)."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import InputError
from pipeline.parse import normalise_label

COLUMN_TYPES = {"text", "unit", "industry", "datetime", "date", "count", "money_wan", "bool", "score", "credit_code", "year"}
TOP_KEYS = {"version", "tokens", "nondata", "personal_data", "enums", "sources", "checks"}


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: str
    required: bool
    aliases: tuple[str, ...]

    @property
    def header(self) -> str:
        """The Chinese header templates and messages use for this column."""
        return self.aliases[0] if self.aliases else self.name


@dataclass(frozen=True)
class SourceSpec:
    name: str
    label: str
    file_hints: tuple[str, ...]
    natural_key: tuple[str, ...]
    id_column: str
    columns: dict[str, ColumnSpec]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns.values() if c.required]


@dataclass(frozen=True)
class IngestRules:
    version: str
    sha256: str
    null_tokens: frozenset[str]
    true_tokens: frozenset[str]
    false_tokens: frozenset[str]
    total_markers: tuple[str, ...]
    footer_markers: tuple[str, ...]
    personal_headers: tuple[str, ...]
    skip_sheets: frozenset[str]
    enums: dict[str, dict[str, list[str]]]
    sources: dict[str, SourceSpec]
    accident_levels: tuple[dict, ...]
    late_report_hours: float
    major_decision_fine_wan: float
    period_margin_years: int

    def alias_index(self) -> dict[str, list[tuple[str, str]]]:
        """Normalised header -> [(source, canonical column)], canonical names included as aliases."""
        index: dict[str, list[tuple[str, str]]] = {}
        for source in self.sources.values():
            for column in source.columns.values():
                for alias in {column.name, *column.aliases}:
                    index.setdefault(normalise_label(alias), []).append((source.name, column.name))
        return index


def _need(mapping: dict, key: str, where: str):
    if key not in mapping:
        raise InputError(f"规则文件缺少 {where}{key}(missing key in ingest rules)")
    return mapping[key]


def newest_rulebook(rules_dir: Path) -> Path | None:
    books = sorted(rules_dir.glob("rulebook-*.toml"))
    return books[-1] if books else None


def load_ingest_rules(path: Path, rulebook_path: Path | None = None) -> IngestRules:
    """The ingest rules, with the two thresholds that define clean-table flags (迟报 hours and the
    重大执法决定 fine) taken from the scoring rulebook's `[definitions]`, so they live in one place.
    By default that is the newest `rulebook-*.toml` beside the ingest rules; scoring re-applies each
    year's own rulebook."""
    try:
        data_bytes = path.read_bytes()
        data = tomllib.loads(data_bytes.decode("utf-8"))
    except FileNotFoundError:
        raise InputError(f"找不到规则文件 {path}(ingest rules not found)") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"规则文件 {path.name} 格式错误(invalid TOML): {error}") from None
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise InputError(f"规则文件 {path.name} 有未知的键 {sorted(unknown)[0]}(unknown key)")
    tokens = _need(data, "tokens", "")
    enums = {name: {value: list(spellings) for value, spellings in values.items()} for name, values in _need(data, "enums", "").items()}
    sources = {}
    for name, spec in _need(data, "sources", "").items():
        columns = {}
        for column, cspec in _need(spec, "columns", f"sources.{name}.").items():
            ctype = _need(cspec, "type", f"sources.{name}.columns.{column}.")
            base = ctype.split(":", 1)[0]
            if base == "enum":
                if ctype.split(":", 1)[1] not in enums:
                    raise InputError(f"规则文件: sources.{name}.columns.{column} 引用了未定义的枚举 {ctype}(unknown enum)")
            elif ctype not in COLUMN_TYPES:
                raise InputError(f"规则文件: sources.{name}.columns.{column}.type = {ctype} 不是已知类型(unknown column type)")
            extra = set(cspec) - {"type", "required", "aliases"}
            if extra:
                raise InputError(f"规则文件: sources.{name}.columns.{column} 有未知的键 {sorted(extra)[0]}(unknown key)")
            columns[column] = ColumnSpec(column, ctype, bool(cspec.get("required", False)), tuple(cspec.get("aliases", [])))
        sources[name] = SourceSpec(
            name=name,
            label=_need(spec, "label", f"sources.{name}."),
            file_hints=tuple(spec.get("file_hints", [])),
            natural_key=tuple(spec.get("natural_key", [])),
            id_column=spec.get("id_column", ""),
            columns=columns,
        )
    checks = _need(data, "checks", "")
    book_path = rulebook_path or newest_rulebook(path.parent)
    if book_path is None:
        raise InputError(f"{path.parent} 中没有考评规则文件 rulebook-YYYY.toml(no scoring rulebook found)")
    try:
        definitions = tomllib.loads(book_path.read_text("utf-8"))["definitions"]
    except (OSError, tomllib.TOMLDecodeError, KeyError, UnicodeDecodeError) as error:
        raise InputError(f"考评规则文件 {book_path.name} 无法读取 [definitions](cannot read definitions: {error})") from None
    fold = lambda values: frozenset(str(v).casefold() for v in values)  # noqa: E731
    return IngestRules(
        version=str(_need(data, "version", "")),
        sha256=hashlib.sha256(data_bytes).hexdigest(),
        null_tokens=fold(tokens.get("null", [])),
        true_tokens=fold(tokens.get("true", [])),
        false_tokens=fold(tokens.get("false", [])),
        total_markers=tuple(data.get("nondata", {}).get("total", [])),
        footer_markers=tuple(data.get("nondata", {}).get("footer", [])),
        personal_headers=tuple(data.get("personal_data", {}).get("headers", [])),
        skip_sheets=frozenset(data.get("nondata", {}).get("skip_sheets", [])),
        enums=enums,
        sources=sources,
        accident_levels=tuple(_need(checks, "accident_levels", "checks.")),
        late_report_hours=float(_need(definitions, "late_report_hours", f"{book_path.name} definitions.")),
        major_decision_fine_wan=float(_need(definitions, "major_decision_fine_wan", f"{book_path.name} definitions.")),
        period_margin_years=int(checks.get("period_margin_years", 1)),
    )
