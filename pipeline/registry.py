"""The units registry (data/raw/units.csv): who is assessed, under which names, supervising what.

Columns: unit_id, name, group (办事处 | 管理处 | 成员单位), aliases (`;`-separated other spellings),
enterprises (supervised enterprises: the denominator of intensity indicators), employees,
industries (for 成员单位: the industries it supervises, `;`-separated; this column IS the
industry -> department map used to charge accidents, SPEC "Units").
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pandas as pd

from pipeline.errors import InputError

GROUPS = ("办事处", "管理处", "成员单位")
REQUIRED = ("unit_id", "name", "group", "aliases", "enterprises", "employees", "industries")


def normalise_name(text: str) -> str:
    """NFKC, no whitespace, case-folded: the form in which names and headers are compared."""
    return "".join(unicodedata.normalize("NFKC", str(text)).split()).casefold()


def split_list(cell: object) -> list[str]:
    """`a;b；c` -> ["a", "b", "c"] (full-width semicolons and commas accepted)."""
    if cell is None or (isinstance(cell, float) and pd.isna(cell)) or cell is pd.NA:
        return []
    text = unicodedata.normalize("NFKC", str(cell)).replace(",", ";").replace("、", ";")
    return [part.strip() for part in text.split(";") if part.strip()]


def load_registry(path: Path) -> pd.DataFrame:
    """Read and check the registry. Raises InputError (one clear Chinese message) when unusable."""
    if not path.exists():
        raise InputError(f"找不到单位名册 {path.name}(units registry not found: {path})")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
            break
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError:
            raise InputError(f"单位名册 {path.name} 是空文件(registry is empty)") from None
        except pd.errors.ParserError as error:
            raise InputError(f"单位名册 {path.name} 不是有效的 CSV(registry is not valid CSV: {str(error)[:80]})") from None
    else:
        raise InputError(f"单位名册 {path.name} 编码无法识别(registry encoding not recognised)")
    frame.columns = [c.strip() for c in frame.columns]
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise InputError(f"单位名册 {path.name} 缺少列 {', '.join(missing)}(registry lacks columns)")
    frame = frame[list(REQUIRED)].copy()
    for column in ("unit_id", "name", "group"):
        frame[column] = frame[column].str.strip()
    bad_group = frame.loc[~frame["group"].isin(GROUPS)]
    if not bad_group.empty:
        row = bad_group.index[0] + 2
        raise InputError(
            f"单位名册 {path.name} 第{row}行 group 为“{bad_group['group'].iloc[0]}”,应为 "
            f"{' | '.join(GROUPS)}(unknown group)"
        )
    duplicated = frame.loc[frame["unit_id"].duplicated(), "unit_id"]
    if not duplicated.empty:
        raise InputError(f"单位名册 {path.name} unit_id 重复: {duplicated.iloc[0]}(duplicate unit_id)")
    for column in ("enterprises", "employees"):
        numbers = pd.to_numeric(frame[column].str.strip().replace("", None), errors="coerce")
        if numbers.isna().any() or (numbers < 0).any():
            row = int(numbers.isna().idxmax() if numbers.isna().any() else (numbers < 0).idxmax()) + 2
            raise InputError(f"单位名册 {path.name} 第{row}行 {column} 不是非负整数(not a count)")
        frame[column] = numbers.astype("Int64")
    frame["unit_id"] = frame["unit_id"].astype("str")
    return frame.reset_index(drop=True)


def name_index(registry: pd.DataFrame) -> dict[str, str]:
    """Normalised name or alias -> unit_id. An alias claimed by two units is ambiguous and refused."""
    index: dict[str, str] = {}
    for unit_id, name, aliases in registry[["unit_id", "name", "aliases"]].itertuples(index=False):
        for spelling in [name, *split_list(aliases)]:
            key = normalise_name(spelling)
            if key in index and index[key] != unit_id:
                raise InputError(
                    f"单位名册中“{spelling}”同时属于 {index[key]} 和 {unit_id}(ambiguous alias)"
                )
            index[key] = unit_id
    return index


def industry_index(registry: pd.DataFrame) -> dict[str, str]:
    """Industry -> unit_id of the member department that supervises it (管行业必须管安全)."""
    index: dict[str, str] = {}
    members = registry.loc[registry["group"] == "成员单位"]
    for unit_id, industries in members[["unit_id", "industries"]].itertuples(index=False):
        for industry in split_list(industries):
            index.setdefault(industry, unit_id)
    return index
