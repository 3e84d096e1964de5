"""A tiny, hand-made data/processed folder for the report tests (SPEC "Processed tables" columns).

Nine units in two ranking groups over 2020-01..2020-03. The March facts the tests check:
- accidents: 2 in March (1 death; one 迟报), 1 in February (0 deaths), none in January;
- 属地单位 March order T01 南湖, T02 东湖, T03 城北, T04 凤凰, T05 青山, T06 高新; biggest move up T04 (↑2),
  down T05 (↓2);
- 成员单位 March order D01, D02, D03 with no change since February; D03 sent no March data;
- overdue 重大隐患 at 2020-03-31: T02 (1) and T05 (1, 挂牌督办);
- text that must be escaped or neutralised: a quarantined `<script>` value, a record_id `=1+2`,
  a rule starting with `+`, an enterprise starting with `=HYPERLINK(`.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

UNITS = pd.DataFrame(
    [
        ("T01", "南湖办事处", "办事处"),
        ("T02", "东湖办事处", "办事处"),
        ("T03", "城北办事处", "办事处"),
        ("T04", "凤凰办事处", "办事处"),
        ("T05", "青山办事处", "办事处"),
        ("T06", "高新区管理处", "管理处"),
        ("D01", "区应急管理局", "成员单位"),
        ("D02", "区住房和城乡建设局", "成员单位"),
        ("D03", "区交通运输局", "成员单位"),
    ],
    columns=["unit_id", "name", "group"],
)
PERIODS = ["2020-01", "2020-02", "2020-03"]

# unit -> period -> (A, B, C)
COMPONENTS = {
    "T01": {"2020-01": (36, 28, 30), "2020-02": (34, 27, 30), "2020-03": (35, 27, 30)},
    "T02": {"2020-01": (35, 27, 30), "2020-02": (36, 28, 30), "2020-03": (34, 26, 30)},
    "T03": {"2020-01": (33, 27, 30), "2020-02": (28, 24, 30), "2020-03": (30, 25, 30)},
    "T04": {"2020-01": (32, 26, 30), "2020-02": (25, 20, 30), "2020-03": (32, 26, 25)},
    "T05": {"2020-01": (31, 25, 30), "2020-02": (31, 25, 27), "2020-03": (28, 19, 30)},
    "T06": {"2020-01": (30, 24, 30), "2020-02": (29, 22, 30), "2020-03": (25, 22, 22)},
    "D01": {"2020-01": (30, 20, 30), "2020-02": (36, 27, 27), "2020-03": (36, 27, 30)},
    "D02": {"2020-01": (32, 23, 30), "2020-02": (33, 24, 30), "2020-03": (30, 24, 17)},
    "D03": {"2020-01": (35, 20, 30), "2020-02": (30, 25, 30), "2020-03": (0, 25, 30)},
}


def _ranking_group(group: str) -> str:
    return "成员单位" if group == "成员单位" else "属地单位"


def monthly_scores() -> pd.DataFrame:
    rows = []
    for unit_id, name, group in UNITS.itertuples(index=False):
        for period in PERIODS:
            a, b, c = COMPONENTS[unit_id][period]
            rows.append(dict(unit_id=unit_id, period=period, group=group, A=float(a), B=float(b),
                             C=float(c), score=float(a + b + c), name=name, ranking_group=_ranking_group(group)))
    frame = pd.DataFrame(rows)
    frame["rounded"] = frame["score"].round(2)
    frame["rank"] = frame.groupby(["period", "ranking_group"])["rounded"].rank(method="min", ascending=False)
    frame = frame.sort_values(["period", "ranking_group", "rank", "A", "B", "unit_id"],
                              ascending=[True, True, True, False, False, True])
    previous = {(u, p): r for u, p, r in frame[["unit_id", "period", "rank"]].itertuples(index=False)}

    def change(unit_id: str, period: str, rank: float) -> str:
        before = previous.get((unit_id, str(pd.Period(period, "M") - 1)))
        if before is None:
            return "新"
        move = int(before - rank)
        return f"↑{move}" if move > 0 else f"↓{-move}" if move < 0 else "持平"

    frame["rank_change"] = [change(u, p, r) for u, p, r in frame[["unit_id", "period", "rank"]].itertuples(index=False)]
    tied = frame.duplicated(["period", "ranking_group", "rounded"], keep=False)
    frame["tie_break"] = ["同分，按执法质量得分排序" if t else "" for t in tied]
    frame["not_assessed"] = ["案卷评查" if u == "T03" else "" for u in frame["unit_id"]]
    frame["flags"] = ["无执法检查" if (u, p) == ("D03", "2020-03") else "" for u, p in frame[["unit_id", "period"]].itertuples(index=False)]
    frame["rank"] = frame["rank"].astype("Int64")
    # As scoring writes it (rulebook top_n = bottom_n = 3): 表扬 rank <= 3; 通报 among the last 3.
    size = frame.groupby(["period", "ranking_group"])["unit_id"].transform("count")
    from_bottom = size - frame["rank"] + 1
    frame["honour"] = pd.Series(pd.NA, index=frame.index, dtype="string")
    frame.loc[from_bottom <= 3, "honour"] = "通报"
    frame.loc[frame["rank"] <= 3, "honour"] = "表扬"
    columns = ["unit_id", "period", "group", "A", "B", "C", "score", "rank", "rank_change", "not_assessed",
               "flags", "name", "ranking_group", "tie_break", "honour"]
    return _typed(frame[columns].reset_index(drop=True))


def deductions() -> pd.DataFrame:
    rows = [
        ("T04", "2020-03", "C", "一般事故 每起扣3分", 3.0, "SG-2020-003", "凤凰办事处_2020年3月事故.xlsx", 5),
        ("T04", "2020-03", "C", "事故死亡 每人扣2分", 2.0, "SG-2020-003", "凤凰办事处_2020年3月事故.xlsx", 5),
        ("T06", "2020-03", "C", "一般事故 每起扣3分", 3.0, "SG-2020-004", "高新区管理处_2020年3月事故.xlsx", 4),
        ("T06", "2020-03", "C", "迟报 每起扣5分", 5.0, "SG-2020-004", "高新区管理处_2020年3月事故.xlsx", 4),
        ("T02", "2020-03", "B", "逾期重大隐患 每项扣3分", 3.0, "YH-T02-007", "东湖办事处_隐患台账.xlsx", 9),
        ("T05", "2020-03", "B", "逾期重大隐患 每项扣3分", 3.0, "YH-T05-002", "青山办事处_隐患台账.xlsx", 6),
        ("T05", "2020-03", "B", "+挂牌督办 再扣5分", 5.0, "YH-T05-002", "青山办事处_隐患台账.xlsx", 6),
        ("T03", "2020-03", "A", "无全过程记录 每宗扣0.5分", 0.5, "=1+2", "城北办事处_执法检查.xlsx", 7),
        ("T05", "2020-02", "C", "一般事故 每起扣3分", 3.0, "SG-2020-002", "青山办事处_2020年2月事故.xlsx", 5),
    ]
    frame = pd.DataFrame(rows, columns=["unit_id", "period", "component", "label", "points", "record_id",
                                        "source_file", "source_row"])
    frame["rule"] = [f"rule_{k}" for k in range(len(frame))]
    frame["kind"] = "deduction"
    frame["detail"] = ""
    frame["source_sheet"] = frame["component"].map({"A": "检查", "B": "隐患", "C": "Sheet1"})
    shortfall = pd.DataFrame([{"unit_id": "T03", "period": "2020-03", "component": "A", "label": "每10家企业检查次数",
                               "points": 1.5, "record_id": None, "source_file": None, "source_row": None,
                               "rule": "inspections_per_10_enterprises", "kind": "shortfall",
                               "detail": "实际1.50;目标2.00;本项分值6.00", "source_sheet": None}])
    frame = pd.concat([frame, shortfall], ignore_index=True)
    frame["source_row"] = frame["source_row"].astype("Int64")
    frame["points"] = frame["points"].astype("Float64")
    columns = ["unit_id", "period", "component", "rule", "points", "record_id", "source_file", "source_row",
               "label", "kind", "detail", "source_sheet"]
    return _typed(frame[columns])


def annual_assessment() -> pd.DataFrame:
    rows = [
        # unit, enforcement, hazards, accidents, key_work, bonus, grade, veto, yellow, rank, p05, p95
        ("T01", 26.2, 22.0, 30.0, 14.0, 3.0, "优秀", False, False, 1, 1, 2),
        ("T02", 26.0, 21.5, 30.0, 13.0, 2.0, "良好", False, False, 2, 1, 4),
        ("T03", 23.5, 20.5, 30.0, 12.0, 1.0, "良好", False, False, 3, 2, 3),
        ("T04", 22.0, 19.0, 25.0, 12.0, 0.0, "良好", False, False, 4, 4, 5),
        ("T05", 22.5, 17.0, 27.0, 11.0, 0.0, "不合格", True, False, 5, 5, 6),
        ("T06", 20.5, 18.0, 22.0, 10.0, 0.0, "合格", False, True, 6, 5, 6),
        ("D01", 24.5, 20.0, 27.0, 13.0, 2.0, "良好", False, False, 1, 1, 1),
        ("D02", 23.6, 19.5, 17.0, 12.0, 1.0, "合格", False, False, 2, 2, 3),
        ("D03", 16.3, 20.8, 30.0, 12.0, 0.0, "合格", False, False, 3, 2, 3),
    ]
    frame = pd.DataFrame(rows, columns=["unit_id", "enforcement", "hazards", "accidents", "key_work", "bonus",
                                        "grade", "veto", "yellow_card", "rank", "rank_p05", "rank_p95"])
    frame.insert(1, "year", 2020)
    frame.insert(7, "total", frame[["enforcement", "hazards", "accidents", "key_work", "bonus"]].sum(axis=1))
    for column in ("year", "rank", "rank_p05", "rank_p95"):
        frame[column] = frame[column].astype("Int64")
    for column in ("veto", "yellow_card"):
        frame[column] = frame[column].astype("boolean")
    frame = frame.merge(UNITS, on="unit_id", how="left")
    frame["ranking_group"] = frame["group"].map(_ranking_group)
    frame["veto_reason"] = ["瞒报谎报事故1起" if v else None for v in frame["veto"]]
    frame["yellow_card_reason"] = ["较大事故2起" if y else None for y in frame["yellow_card"]]
    # The assessment's robustness verdict: T02's 表扬 place holds in too few weight draws.
    frame["grade_robust"] = pd.array([True] * len(frame), dtype="boolean")
    frame["place_robust"] = pd.array([u != "T02" for u in frame["unit_id"]], dtype="boolean")
    frame["robust_flag"] = ["“表扬”名次不稳健(61%的抽样保持)" if u == "T02" else "" for u in frame["unit_id"]]
    return _typed(frame)


def accidents() -> pd.DataFrame:
    rows = [
        ("SG-2020-002", "2020-02-14 09:30", "2020-02-14 10:00", "青山办事处", "T05", "危险化学品", "D01", "中毒和窒息",
         "青山化工有限公司", 0, 1, 0, 12.5, "一般", False, "青山办事处_2020年2月事故.xlsx", 5),
        ("SG-2020-003", "2020-03-05 14:00", "2020-03-05 14:40", "凤凰办事处", "T04", "建筑施工", "D02", "高处坠落",
         "=HYPERLINK(\"x\",\"凤凰建设\")", 1, 0, 0, 130.0, "一般", False, "凤凰办事处_2020年3月事故.xlsx", 5),
        ("SG-2020-004", "2020-03-20 08:10", "2020-03-20 11:30", "高新区管理处", "T06", "城镇燃气", "D02", "其他爆炸",
         "高新燃气有限公司", 0, 0, 2, 40.0, "一般", True, "高新区管理处_2020年3月事故.xlsx", 4),
    ]
    frame = pd.DataFrame(rows, columns=["accident_id", "occurred_at", "reported_at", "unit", "unit_id", "industry",
                                        "department_id", "accident_type", "enterprise", "deaths", "serious_injuries",
                                        "injuries", "direct_loss_wan", "level", "late_report", "source_file",
                                        "source_row"])
    for column in ("occurred_at", "reported_at"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
    for column in ("deaths", "serious_injuries", "injuries", "source_row"):
        frame[column] = frame[column].astype("Int64")
    frame["direct_loss_wan"] = frame["direct_loss_wan"].astype("Float64")
    frame["late_report"] = frame["late_report"].astype("boolean")
    frame["concealed"] = pd.array([False, False, False], dtype="boolean")
    frame["level_submitted"] = pd.array([None, "一般", None], dtype="string")
    frame["source_sheet"] = "Sheet1"
    return _typed(frame)


def hazards() -> pd.DataFrame:
    rows = [
        # id, unit_id, level, found, deadline, rectified, supervised, file, row
        ("YH-T01-001", "T01", "一般", "2020-01-05", "2020-01-20", "2020-01-18", False, "南湖办事处_隐患台账.xlsx", 4),
        ("YH-T01-002", "T01", "一般", "2020-03-02", "2020-03-25", None, False, "南湖办事处_隐患台账.xlsx", 5),
        ("YH-T02-007", "T02", "重大", "2020-02-10", "2020-03-10", None, False, "东湖办事处_隐患台账.xlsx", 9),
        ("YH-T02-008", "T02", "一般", "2020-03-03", "2020-04-30", None, False, "东湖办事处_隐患台账.xlsx", 10),
        ("YH-T03-001", "T03", "重大", "2020-01-10", "2020-02-28", "2020-02-20", True, "城北办事处_隐患台账.xlsx", 4),
        ("YH-T03-002", "T03", "一般", "2020-03-09", "2020-03-30", "2020-03-28", False, "城北办事处_隐患台账.xlsx", 5),
        ("YH-T04-001", "T04", "一般", "2020-02-11", "2020-03-11", "2020-03-15", False, "凤凰办事处_隐患台账.xlsx", 4),
        ("YH-T04-002", "T04", "一般", "2020-03-12", "2020-04-12", None, False, "凤凰办事处_隐患台账.xlsx", 5),
        ("YH-T05-002", "T05", "重大", "2020-01-15", "2020-02-20", None, True, "青山办事处_隐患台账.xlsx", 6),
        ("YH-T05-003", "T05", "一般", "2020-03-01", "2020-03-31", "2020-03-30", False, "青山办事处_隐患台账.xlsx", 7),
        ("YH-T06-001", "T06", "一般", "2020-03-04", "2020-03-24", "2020-03-20", False, "高新区管理处_隐患台账.xlsx", 4),
        ("YH-D01-001", "D01", "一般", "2020-03-06", "2020-03-26", "2020-03-26", False, "应急局_隐患台账.xlsx", 4),
        ("YH-D02-001", "D02", "一般", "2020-03-07", "2020-04-07", None, False, "住建局_隐患台账.xlsx", 4),
        ("YH-D03-001", "D03", "一般", "2020-02-07", "2020-02-27", "2020-02-25", False, "交通局_隐患台账.xlsx", 4),
    ]
    frame = pd.DataFrame(rows, columns=["hazard_id", "unit_id", "level", "found_at", "deadline", "rectified_at",
                                        "supervised", "source_file", "source_row"])
    for column in ("found_at", "deadline", "rectified_at"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
    frame["supervised"] = frame["supervised"].astype("boolean")
    frame["source_row"] = frame["source_row"].astype("Int64")
    frame["unit"] = frame["unit_id"].map(dict(zip(UNITS["unit_id"], UNITS["name"])))
    frame["enterprise"] = "某某有限公司"
    frame["source"] = "部门检查"
    frame["source_sheet"] = "隐患"
    end = pd.Timestamp("2020-03-31 23:59:59")
    frame["overdue"] = ((frame["deadline"] <= end) & (frame["rectified_at"].isna() | (frame["rectified_at"] > frame["deadline"]))).astype("boolean")
    return _typed(frame)


def enforcement() -> pd.DataFrame:
    rows = []
    for unit_id in UNITS["unit_id"]:
        for period in PERIODS:
            if (unit_id, period) == ("D03", "2020-03"):
                continue  # D03 sent nothing for March
            for k in range(2):
                rows.append(dict(record_id=f"E-{unit_id}-{period[-2:]}{k}", unit_id=unit_id,
                                 inspected_at=pd.Timestamp(f"{period}-{10 + k}"), enterprise=f"企业{k}",
                                 mode="双随机" if k == 0 else "计划", hazards_found=k + 1, case_filed=k == 1,
                                 penalized=k == 1, source_file=f"{unit_id}_执法检查.xlsx", source_row=4 + k))
    frame = pd.DataFrame(rows)
    frame["inspected_at"] = frame["inspected_at"].astype("datetime64[us]")
    frame["unit"] = frame["unit_id"].map(dict(zip(UNITS["unit_id"], UNITS["name"])))
    frame["hazards_found"] = frame["hazards_found"].astype("Int64")
    frame["source_row"] = frame["source_row"].astype("Int64")
    for column in ("case_filed", "penalized"):
        frame[column] = frame[column].astype("boolean")
    frame["source_sheet"] = "检查"
    return _typed(frame)


def quarantine() -> pd.DataFrame:
    rows = [
        ("南湖办事处_隐患台账.xlsx", "隐患", 12, "hazards", "unit", "南湖街道办",
         "未知单位，最接近：南湖办事处(unknown unit; closest: 南湖办事处)"),
        ("东湖办事处_隐患台账.xlsx", "隐患", 15, "hazards", "rectified_at", "2019/12/1",
         "整改完成日期早于发现日期(rectified before found)"),
        ("城北办事处_执法检查.xlsx", "检查", 9, "enforcement", "fine_wan", "<script>alert(1)</script>",
         "罚款金额无法识别(fine not a number)"),
    ]
    frame = pd.DataFrame(rows, columns=["source_file", "source_sheet", "source_row", "table", "column",
                                        "raw_value", "reason"])
    frame["source_row"] = frame["source_row"].astype("Int64")
    return _typed(frame)


def warnings() -> pd.DataFrame:
    frame = pd.DataFrame({
        "source_file": ["凤凰办事处_2020年3月事故.xlsx"], "source_sheet": ["Sheet1"], "source_row": [5],
        "table": ["accidents"], "column": ["level"], "raw_value": ["较大"],
        "reason": ["填报等级“较大”与计算等级“一般”不一致，采用计算等级(submitted level disagrees)"],
    })
    frame["source_row"] = frame["source_row"].astype("Int64")
    return _typed(frame)


def files() -> pd.DataFrame:
    names = ["南湖办事处_隐患台账.xlsx", "东湖办事处_隐患台账.xlsx", "凤凰办事处_2020年3月事故.xlsx", "坏文件.xls"]
    frame = pd.DataFrame({
        "source_file": names,
        "source_type": ["hazards", "hazards", "accidents", None],
        "source_sheet": ["隐患", "隐患", "Sheet1", None],
        "rows_read": [14, 12, 6, 0],
        "clean": [2, 2, 1, 0],
        "quarantined": [1, 1, 0, 0],
        "nondata": [4, 4, 4, 0],
        "duplicates": [0, 0, 1, 0],
        "sha256": [hashlib.sha256(n.encode()).hexdigest() for n in names],
        "status": ["ok", "ok", "ok", "error"],
        "message": ["", "", "", "文件无法读取：不是有效的 Excel 文件(not a workbook)"],
        "title_period": ["2020-03", "2020-03", "2020-03", None],
    })
    for column in ("rows_read", "clean", "quarantined", "nondata", "duplicates"):
        frame[column] = frame[column].astype("Int64")
    return _typed(frame)


def submissions() -> pd.DataFrame:
    """As the runner's submission tracking writes it: every owed (unit, source, month)."""
    rows = []
    for unit_id, name, group in UNITS.itertuples(index=False):
        sources = ["enforcement", "hazards"] if group == "成员单位" else ["accidents", "enforcement", "hazards"]
        for period in PERIODS:
            for source in sources:
                status = "按时报送"
                if (unit_id, period) == ("D03", "2020-03"):
                    status = "未报送"
                elif (unit_id, period, source) == ("T06", "2020-03", "accidents"):
                    status = "迟报"
                month = pd.Period(period, "M")
                arrived = None if status == "未报送" else (month + 1).start_time + pd.Timedelta(days=2 if status == "按时报送" else 9)
                rows.append(dict(unit_id=unit_id, name=name, source=source, period=period,
                                 submitted=status != "未报送",
                                 source_file=None if status == "未报送" else f"{name}_{period}_{source}.xlsx",
                                 arrived_at=arrived, arrived_from="填报日期",
                                 deadline=(month + 1).start_time + pd.Timedelta(days=4),
                                 on_time=None if status == "未报送" else status == "按时报送", status=status))
    frame = pd.DataFrame(rows)
    for column in ("arrived_at", "deadline"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
    frame["on_time"] = frame["on_time"].astype("boolean")
    return _typed(frame)


def annual_review() -> pd.DataFrame:
    frame = pd.DataFrame({"unit_id": ["T01", "T01"], "unit": ["南湖办事处"] * 2, "item": ["预案演练", "宣传培训"],
                          "category": ["重点工作", "加分"], "score": [5.0, 2.0], "year": [2020, 2020],
                          "source_file": ["年度考评.xlsx"] * 2, "source_sheet": ["考评"] * 2, "source_row": [3, 4]})
    frame["year"] = frame["year"].astype("Int64")
    frame["source_row"] = frame["source_row"].astype("Int64")
    return _typed(frame)


TABLES = {
    "monthly_scores": monthly_scores,
    "deductions": deductions,
    "annual_assessment": annual_assessment,
    "accidents": accidents,
    "hazards": hazards,
    "enforcement": enforcement,
    "quarantine": quarantine,
    "warnings": warnings,
    "files": files,
    "submissions": submissions,
    "annual_review": annual_review,
}

RULEBOOK = 'version = "2020.1-test"\n\n[monthly]\npoints = 100\n'


def write_processed(folder: Path) -> Path:
    """Write every fixture table as <folder>/<name>.parquet and a rulebook beside the folder.
    Returns the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, make in TABLES.items():
        make().to_parquet(folder / f"{name}.parquet", index=False)
    return folder


def write_rulebook(path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(RULEBOOK, encoding="utf-8")
    return path


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns as pandas' string dtype, like the real processed tables."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or str(out[column].dtype) == "str":
            out[column] = out[column].astype("string")
    return out


# ------------------------------------------------------------------------- one rendered month, shared
# Rendering runs real notebooks (a kernel each), so the render and browser tests share one run:
# the circular (HTML, PDF, Excel) and one unit's scorecard. Imported into several test modules,
# a session fixture would run once per module, hence the module-level memo.
_RENDERED: dict = {}


@pytest.fixture(scope="session")
def rendered_month(tmp_path_factory):
    if not _RENDERED:
        from pipeline.reports import build_reports

        root = tmp_path_factory.mktemp("rendered")
        processed = write_processed(root / "processed")
        rulebook = write_rulebook(root / "rules.toml")
        log: list[str] = []
        start = time.perf_counter()
        outputs = build_reports("monthly", "2020-03", processed, root / "reports", rulebook, units=["T05"],
                                echo=log.append)
        _RENDERED.update(root=root, processed=processed, rulebook=rulebook, reports=root / "reports",
                         outputs=outputs, log=log, seconds=time.perf_counter() - start)
    return SimpleNamespace(**_RENDERED)
