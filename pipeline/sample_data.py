"""Sample data, layer 1: what "really happened" in the district in 2019 and 2020.

The sample generator works in two layers so that each stays simple:
  * this module (with sample_base, sample_names and sample_accidents) draws the events —
    inspections, hazards, accidents, year-end review items — and the submission calendar, all
    clean and typed;
  * `pipeline.sample_layout` decides how each unit wrote those events down (headers, date styles,
    totals, typos, bad rows), i.e. the mess that cleaning has to undo.
Keeping the truth clean is what lets the plan say exactly what the pipeline should find.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

import pandas as pd

from pipeline.sample_accidents import Accident, draw_accidents
from pipeline.sample_base import MONTHS, YEARS, Calendar, Rng, Unit, draw_calendar, pick, random_day, rng_for, units_from_registry
from pipeline.sample_names import Enterprise, draw_enterprises

# Rulebook defaults (SPEC "Scoring"); here they only shape the sample so that some units score
# above target and some below.
INSPECTIONS_PER_10_TARGET = 2.0
HAZARDS_PER_10_TARGET = 1.0
# Units are small offices: however many enterprises they supervise, they do not manage more than
# about this many inspections a month on average (SPEC brief: ~8-40 per unit-month).
MAX_MEAN_INSPECTIONS = 34.0
MAX_MEAN_HAZARDS = 20.0


# ---------------------------------------------------------------------------------- inspections
MODES = ("双随机", "计划", "专项", "举报核查", "交叉执法", "其他")


@dataclass(frozen=True)
class Inspection:
    record_id: str
    unit_id: str
    month: str
    inspected_at: date
    enterprise: Enterprise
    mode: str
    hazards_found: int
    case_filed: bool
    penalized: bool
    fine_wan: float | None
    suspended: bool
    transferred: bool
    publicized: bool
    recorded: bool
    legal_review: bool | None
    file_review_score: float | None
    overturned: bool | None


@dataclass(frozen=True)
class Habits:
    """How diligent a unit is: drawn once per unit, so its scores have a recognisable profile."""

    inspection_factor: float  # share of the inspection target the unit aims at
    hazard_factor: float
    random_share: float  # 双随机 share
    filing_rate: float
    hazards_per_inspection: float
    publicized_rate: float
    recorded_rate: float
    legal_review_rate: float


def draw_habits(unit: Unit, seed: int) -> Habits:
    rng = rng_for(seed, "habits", unit.unit_id)
    return Habits(
        inspection_factor=float(rng.uniform(0.55, 1.65)),
        hazard_factor=float(rng.uniform(0.4, 1.3)),
        random_share=float(rng.uniform(0.25, 0.7)),
        filing_rate=float(rng.uniform(0.04, 0.16)),
        hazards_per_inspection=float(rng.uniform(0.5, 1.6)),
        publicized_rate=float(rng.uniform(0.75, 0.99)),
        recorded_rate=float(rng.uniform(0.8, 0.99)),
        legal_review_rate=float(rng.uniform(0.6, 1.0)),
    )


def season(month: str) -> float:
    """Spring Festival dips every February; February-March 2020 was the COVID lockdown."""
    return {"2020-02": 0.3, "2020-03": 0.7}.get(month, 0.65 if month.endswith("-02") else 1.0)


def mean_inspections(unit: Unit, habits: Habits) -> float:
    target = INSPECTIONS_PER_10_TARGET * unit.enterprises / 10
    return max(6.0, min(target * habits.inspection_factor, MAX_MEAN_INSPECTIONS))


def document_number(unit: Unit, month: str, seq: int) -> str:
    """执法文书编号 in the usual 〔year〕 form, e.g. 南湖办检〔2020〕03012号."""
    return f"{unit.short_name}检〔{month[:4]}〕{month[5:]}{seq:03d}号"


def draw_inspection(rng: Rng, unit: Unit, month: str, seq: int, enterprise: Enterprise,
                    day: date, habits: Habits) -> Inspection:
    """One inspection; fines and legal review follow the 重大执法决定 rule (fine >= 5 万元 etc.)."""
    mode = "双随机" if rng.random() < habits.random_share else pick(rng, MODES[1:], p=[0.45, 0.25, 0.12, 0.08, 0.1])
    filed = bool(rng.random() < habits.filing_rate)
    penalized = filed and bool(rng.random() < 0.85)
    fine = round(min(max(rng.lognormal(0.3, 0.8), 0.1), 20.0), 1) if penalized else None
    suspended = filed and bool(rng.random() < 0.12)
    transferred = filed and bool(rng.random() < 0.04)
    major = (fine or 0) >= 5 or suspended or transferred
    legal_review = bool(rng.random() < habits.legal_review_rate) if major else (True if filed else None)
    reviewed = filed and rng.random() < 0.4
    return Inspection(
        record_id=document_number(unit, month, seq),
        unit_id=unit.unit_id,
        month=month,
        inspected_at=day,
        enterprise=enterprise,
        mode=mode,
        hazards_found=int(rng.poisson(habits.hazards_per_inspection)),
        case_filed=filed,
        penalized=penalized,
        fine_wan=fine,
        suspended=suspended,
        transferred=transferred,
        publicized=bool(rng.random() < habits.publicized_rate),
        recorded=bool(rng.random() < habits.recorded_rate),
        legal_review=legal_review,
        file_review_score=float(min(max(round(rng.normal(82, 8)), 55), 98)) if reviewed else None,
        overturned=(bool(rng.random() < 0.03) if filed else None),
    )


def draw_inspections(unit: Unit, month: str, pool, habits: Habits, seed: int) -> list[Inspection]:
    """The unit's inspections of one month; never the same enterprise twice on one day (the
    natural key of a record without a document number)."""
    rng = rng_for(seed, "inspections", unit.unit_id, month)
    count = int(rng.poisson(mean_inspections(unit, habits) * season(month)))
    seen: set[tuple[str, date]] = set()
    rows = []
    while len(rows) < count:
        enterprise, day = pick(rng, pool), random_day(rng, month, weekdays_only=True)
        if (enterprise.name, day) in seen:
            continue
        seen.add((enterprise.name, day))
        rows.append(draw_inspection(rng, unit, month, len(rows) + 1, enterprise, day, habits))
    rows.sort(key=lambda r: (r.inspected_at, r.record_id))
    # Document numbers are issued in date order.
    return [replace(r, record_id=document_number(unit, month, i + 1)) for i, r in enumerate(rows)]


# -------------------------------------------------------------------------------------- hazards
HAZARD_TEXTS = (
    "消防通道堵塞", "灭火器过期未更换", "安全出口指示灯损坏", "电气线路私拉乱接", "特种作业人员无证上岗",
    "危险化学品储存不规范", "未按规定开展安全教育培训", "有限空间作业未审批", "脚手架搭设不规范",
    "燃气管道锈蚀", "应急预案未组织演练", "安全警示标志缺失", "机械设备防护罩缺失", "临边防护缺失",
)
MAJOR_HAZARD_TEXTS = (
    "重大危险源监控系统失效", "液氨储罐区未设置泄漏报警装置", "深基坑支护变形未停止作业",
    "人员密集场所疏散通道全部封堵", "涉爆粉尘作业场所除尘系统失效",
)


@dataclass(frozen=True)
class Hazard:
    hazard_id: str
    unit_id: str
    month: str
    enterprise: Enterprise
    description: str
    found_at: date
    deadline: date
    rectified_at: date | None
    level: str
    supervised: bool
    source: str


def draw_hazard(rng: Rng, unit: Unit, month: str, seq: int, enterprise: Enterprise,
                major: bool | None = None) -> Hazard:
    """Most hazards are fixed before their deadline, usually within days (一般) or weeks (重大);
    some late, a few never (the overdue ones)."""
    major = bool(rng.random() < 0.04) if major is None else major
    found = random_day(rng, month)
    allowed = int(rng.integers(30, 91) if major else rng.integers(3, 31))
    deadline = found + timedelta(days=allowed)
    outcome = rng.random()
    if outcome < (0.82 if major else 0.925):
        days = rng.integers(0, allowed + 1) if major else min(allowed, rng.geometric(0.3) - 1)
        rectified = found + timedelta(days=int(days))
    elif outcome < (0.95 if major else 0.995):
        rectified = deadline + timedelta(days=int(rng.integers(1, 41)))
    else:
        rectified = None
    return Hazard(
        hazard_id=f"YH-{unit.unit_id}-{month.replace('-', '')}-{seq:03d}",
        unit_id=unit.unit_id,
        month=month,
        enterprise=enterprise,
        description=pick(rng, MAJOR_HAZARD_TEXTS if major else HAZARD_TEXTS),
        found_at=found,
        deadline=deadline,
        rectified_at=rectified,
        level="重大" if major else "一般",
        supervised=bool(rng.random() < (0.7 if major else 0.01)),
        source=pick(rng, ("企业自查", "部门检查", "举报"), p=[0.3, 0.62, 0.08]),
    )


def draw_hazards(unit: Unit, month: str, pool, habits: Habits, seed: int) -> list[Hazard]:
    rng = rng_for(seed, "hazards", unit.unit_id, month)
    mean = min(max(3.0, HAZARDS_PER_10_TARGET * unit.enterprises / 10 * habits.hazard_factor), MAX_MEAN_HAZARDS)
    count = int(rng.poisson(mean * season(month)))
    rows, keys = [], set()
    while len(rows) < count:
        hazard = draw_hazard(rng, unit, month, len(rows) + 1, pick(rng, pool))
        key = (hazard.enterprise.name, hazard.found_at, hazard.level, hazard.deadline)
        if key not in keys:  # the natural key must identify a hazard when there is no 隐患编号
            keys.add(key)
            rows.append(hazard)
    rows.sort(key=lambda h: (h.found_at, h.hazard_id))
    return [replace(h, hazard_id=f"YH-{unit.unit_id}-{month.replace('-', '')}-{i + 1:03d}") for i, h in enumerate(rows)]


# ------------------------------------------------------------------------------- annual review
KEY_WORK_ITEMS = (("预案演练", 4.0), ("值班值守", 4.0), ("宣传培训", 4.0), ("标准化建设", 4.0))
EXTRA_KEY_WORK = ("专项整治", 3.0)
BONUS_ITEMS = (("上级表彰", 3.0), ("创新工作", 2.0), ("信息报送", 2.0))
KEY_WORK_CAP = 15.0


@dataclass(frozen=True)
class ReviewItem:
    year: int
    unit_id: str
    item: str
    category: str  # 重点工作 | 加分
    score: float


def half_points(rng: Rng, maximum: float, low: float) -> float:
    return round(maximum * rng.uniform(low, 1.0) * 2) / 2


def draw_reviews(units: list[Unit], seed: int) -> tuple[list[ReviewItem], list[tuple[int, str]]]:
    """重点工作 items (about 10-19 points per unit: a few exceed the cap of 15) and 加分 items
    (one unit above the 5-point bonus cap). One unit is missing from the 2019 review."""
    items: list[ReviewItem] = []
    missing = []
    for year in YEARS:
        rng = rng_for(seed, "review", year)
        skipped = pick(rng, units).unit_id if year == 2019 else None
        generous = [unit.unit_id for unit in units][int(rng.integers(0, len(units)))]
        over_cap = {unit.unit_id for unit in rng.sample(units, min(3, len(units)))}
        for unit in units:
            if unit.unit_id == skipped:
                missing.append((year, unit.unit_id))
                continue
            scores = [(item, half_points(rng, top, 0.55)) for item, top in KEY_WORK_ITEMS]
            if unit.unit_id in over_cap:
                scores = [(item, top) for item, top in KEY_WORK_ITEMS] + [(EXTRA_KEY_WORK[0], half_points(rng, 3.0, 0.5))]
            elif rng.random() < 0.3:
                scores.append((EXTRA_KEY_WORK[0], half_points(rng, 2.0, 0.5)))
            items += [ReviewItem(year, unit.unit_id, item, "重点工作", score) for item, score in scores]
            for item, top in BONUS_ITEMS:
                if unit.unit_id == generous or rng.random() < 0.25:
                    score = top if unit.unit_id == generous else half_points(rng, top, 0.25)
                    items.append(ReviewItem(year, unit.unit_id, item, "加分", score))
    return items, missing


# ---------------------------------------------------------------------------------------- truth
@dataclass
class Truth:
    units: list[Unit]
    calendar: Calendar
    habits: dict[str, Habits]
    pools: dict[str, tuple[Enterprise, ...]]
    inspections: dict[tuple[str, str], list[Inspection]]  # (unit_id, month), submitted sheets only
    hazards: dict[tuple[str, str], list[Hazard]]
    accidents: list[Accident]
    special_accidents: dict[str, str]  # planted case -> accident_id
    reviews: list[ReviewItem]
    reviews_missing: list[tuple[int, str]]


def draw_truth(registry: pd.DataFrame, seed: int) -> Truth:
    units = units_from_registry(registry)
    calendar = draw_calendar(units, seed)
    habits = {unit.unit_id: draw_habits(unit, seed) for unit in units}
    pools = draw_enterprises(units, seed)
    inspections, hazards = {}, {}
    for unit in units:
        for month in MONTHS:
            key = (unit.unit_id, month)
            if calendar.has_sheet(unit, "enforcement", month):
                empty = key in calendar.no_inspections
                inspections[key] = [] if empty else draw_inspections(unit, month, pools[unit.unit_id], habits[unit.unit_id], seed)
            if calendar.has_sheet(unit, "hazards", month):
                hazards[key] = draw_hazards(unit, month, pools[unit.unit_id], habits[unit.unit_id], seed)
    accidents, special = draw_accidents(units, calendar, seed)
    reviews, reviews_missing = draw_reviews(units, seed)
    return Truth(units, calendar, habits, pools, inspections, hazards, accidents, special, reviews, reviews_missing)
