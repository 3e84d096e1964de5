"""Shared inputs of the reliability tests: one month of the generated sample, plus planted rows.

The raw folder holds the deterministic sample's December 2020 files of a few units, chosen to
cover every format units send (xlsx, BIFF .xls, HTML .xls, GBK CSV), and the 2020 year-end
review, so every processed table is made, scores and the year-end assessment included. Beside them a unit's accident sheet plants what must never be published as
is: enterprise names that are markup or formulas, and personal data in its own columns (names,
ID numbers, mobiles with and without separators) and inside free text.

Built once per test session (the raw folder is only ever read). `baseline()` is one `process`
run of it in this process, which the determinism, concurrency and report-safety tests compare
with or build on.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from helpers_raw import ACCIDENT_HEADER, record, submission, write_sheet
from pipeline import config

MONTH = "2020-12"
UNITS = {"T01", "T02", "T03", "D01", "D02", "D07", "D09"}  # 3 办事处 (xlsx); HTML .xls, xlsx, CSV, BIFF .xls
YEAR = "2020"
SCRIPT_NAME = "<script>alert(1)</script>"
FORMULA_NAME = '=HYPERLINK("http://x","y")'
PEOPLE = ["王小五", "赵小六"]          # values of the 姓名 column: never in any output
ID_NUMBERS = ["110101199003071234", "44030419851231002X"]
MOBILES = ["13812345678", "138-1234-5678", "139 8765 4321", "+86 150.1111.2222"]
PLANTED = "附件_南湖办事处_2020年12月事故补报.xlsx"

_MEMO: dict[str, Path] = {}


def planted_accidents(path: Path) -> None:
    header = ACCIDENT_HEADER + ["事故类型", "姓名", "身份证号", "联系电话"]
    rows = [
        record(header, 事故编号="RL-1", 发生时间="2020-12-05 10:00", 报告时间="2020-12-05 10:20", 属地单位="南湖办事处",
               所属行业="建筑施工", 事故发生单位=SCRIPT_NAME, 死亡人数="0", 重伤人数="0", 直接经济损失="3",
               事故类型=f"物体打击,现场联系人{MOBILES[1]}", 姓名=PEOPLE[0], 身份证号=ID_NUMBERS[0], 联系电话=MOBILES[2]),
        record(header, 事故编号="RL-2", 发生时间="2020-12-09 15:00", 报告时间="2020-12-09 15:30", 属地单位="南湖办事处",
               所属行业="建筑施工", 事故发生单位=FORMULA_NAME, 死亡人数="1", 重伤人数="0", 直接经济损失="20",
               事故类型=f"高处坠落,死者身份证{ID_NUMBERS[1]},家属电话{MOBILES[3]}", 姓名=PEOPLE[1], 身份证号=ID_NUMBERS[1],
               联系电话=MOBILES[0]),
    ]
    grid, _ = submission("2020年12月生产安全事故统计表", header, rows,
                         unit_line=f"填报单位:南湖办事处 填报人:{PEOPLE[0]} 联系电话:{MOBILES[0]} 填报日期:2021年1月4日",
                         footer=[f"审核人:{PEOPLE[1]} 手机:{MOBILES[1]}"])
    write_sheet(path, grid)


def sample_raw(root: Path) -> Path:
    """The shared raw folder (made under `root` on first use; later calls return the same one)."""
    if "raw" not in _MEMO:
        from pipeline import generate
        from pipeline.registry import load_registry
        from pipeline.sample_writers import render

        raw = root / "raw"
        raw.mkdir(parents=True)
        shutil.copyfile(config.RAW_DIR / config.REGISTRY_NAME, raw / config.REGISTRY_NAME)
        documents, _ = generate.build(load_registry(raw / config.REGISTRY_NAME))
        for doc in documents:
            if (doc.month == MONTH and doc.unit_id in UNITS) or (doc.month is None and YEAR in doc.name):
                (raw / doc.name).write_bytes(render(doc))
        planted_accidents(raw / PLANTED)
        _MEMO["raw"] = raw
    return _MEMO["raw"]


def baseline(tmp_path_factory) -> tuple[Path, Path]:
    """(raw, processed) of one forced, scored `process` run of the shared raw folder."""
    if "processed" not in _MEMO:
        from pipeline.runner import process

        root = tmp_path_factory.mktemp("reliability")
        raw = sample_raw(root)
        processed = root / "processed"
        process(raw, processed, progress=lambda _: None, force=True)
        _MEMO["processed"] = processed
    return _MEMO["raw"], _MEMO["processed"]


def parquet_bytes(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.glob("*.parquet"))}
