"""Sample data: the accidents of 2019-2020 — ordinary 一般 accidents plus the planted special
cases the scoring and veto rules hinge on (较大 by each criterion, submitted levels that disagree,
迟报, 瞒报 uncovered in the same or the next year, an industry no department supervises).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from pipeline.sample_base import MONTHS, Calendar, Rng, Unit, month_start, next_month, pick, random_day, rng_for
from pipeline.sample_names import UNLISTED_INDUSTRIES, enterprise_name, id_card, mobile, person

ACCIDENT_THRESHOLDS = (  # 《生产安全事故报告和调查处理条例》第三条: deaths, serious injuries, 万元
    ("特别重大", 30, 100, 10000.0),
    ("重大", 10, 50, 5000.0),
    ("较大", 3, 10, 1000.0),
)


def accident_level(deaths: int, serious_injuries: int, direct_loss_wan: float) -> str:
    """Level by the 条例 thresholds: the highest level any criterion reaches wins."""
    for level, min_deaths, min_serious, min_loss in ACCIDENT_THRESHOLDS:
        if deaths >= min_deaths or serious_injuries >= min_serious or direct_loss_wan >= min_loss:
            return level
    return "一般"


# GB 6441 accident types likely in each industry (others draw from OTHER_TYPES).
ACCIDENT_TYPES = {
    "道路运输": ("车辆伤害",), "道路交通": ("车辆伤害",), "建筑施工": ("高处坠落", "物体打击", "坍塌"),
    "水上交通": ("淹溺",), "渔业船舶": ("淹溺",), "城镇燃气": ("火灾", "其他爆炸"), "燃气管网": ("其他爆炸",),
    "危险化学品": ("中毒和窒息", "火灾", "容器爆炸"), "冶金工贸": ("机械伤害", "灼烫", "起重伤害"),
    "特种设备": ("起重伤害", "锅炉爆炸"), "消防": ("火灾",), "人员密集场所": ("火灾",),
}
OTHER_TYPES = ("机械伤害", "触电", "物体打击", "高处坠落", "其他伤害")


@dataclass(frozen=True)
class Victim:
    name: str
    id_card: str
    phone: str


@dataclass(frozen=True)
class Accident:
    accident_id: str
    unit_id: str  # territory (属地单位)
    report_month: str  # the month whose workbook carries it (the discovery month if concealed)
    occurred_at: datetime
    reported_at: datetime
    industry: str
    department_id: str | None  # member department listing the industry, None when no one does
    accident_type: str
    enterprise: str
    deaths: int
    serious_injuries: int
    injuries: int
    direct_loss_wan: float
    level_submitted: str
    concealed: bool
    concealed_found_at: date | None
    closed: bool
    closed_at: date | None
    victim: Victim | None

    @property
    def level(self) -> str:
        return accident_level(self.deaths, self.serious_injuries, self.direct_loss_wan)

    @property
    def late(self) -> bool:
        return self.reported_at - self.occurred_at > timedelta(hours=1)


def industry_departments(units: list[Unit]) -> dict[str, str]:
    index: dict[str, str] = {}
    for unit in units:
        for industry in unit.industries:
            index.setdefault(industry, unit.unit_id)
    return index


def draw_accident(rng: Rng, unit: Unit, month: str, industries: dict[str, str],
                  calendar: Calendar, **overrides) -> Accident:
    """An ordinary 一般 accident (no more than 2 deaths, 5 serious injuries, 600 万元), reported
    within the hour; `overrides` turns it into one of the planted special cases."""
    listed = sorted(industries)
    industry = pick(rng, UNLISTED_INDUSTRIES) if rng.random() < 0.08 or not listed else pick(rng, listed)
    industry = overrides.pop("industry", industry)
    day = random_day(rng, month)
    occurred = datetime(day.year, day.month, day.day, int(rng.integers(6, 22)), int(rng.integers(0, 60)))
    occurred = overrides.pop("occurred_at", occurred)
    deaths = int(pick(rng, (0, 1, 2), p=[0.45, 0.45, 0.1]))
    serious = int(rng.integers(0, 4))
    injuries = int(rng.integers(0, 5))
    victim = Victim(person(rng), id_card(rng), mobile(rng))  # drawn always: keeps the stream aligned
    filed = calendar.filed_on.get((unit.unit_id, month), month_start(next_month(month)))
    closed = deaths == 0 and rng.random() < 0.5
    accident = Accident(
        accident_id="",
        unit_id=unit.unit_id,
        report_month=month,
        occurred_at=occurred,
        reported_at=occurred + timedelta(minutes=int(rng.integers(8, 56))),
        industry=industry,
        department_id=industries.get(industry),
        accident_type=pick(rng, ACCIDENT_TYPES.get(industry, OTHER_TYPES)),
        enterprise=enterprise_name(rng, industry),
        deaths=deaths,
        serious_injuries=serious,
        injuries=injuries,
        direct_loss_wan=round(min(max(rng.lognormal(3.5, 1.0), 2.0), 600.0), 1),
        level_submitted="一般",
        concealed=False,
        concealed_found_at=None,
        closed=closed,
        closed_at=(filed - timedelta(days=int(rng.integers(1, 5)))) if closed else None,
        victim=victim,
    )
    accident = replace(accident, **overrides)
    if accident.deaths + accident.serious_injuries + accident.injuries == 0:
        accident = replace(accident, victim=None)
    return accident


# Planted cases (SPEC "Cleaning", "Scoring" C and the veto rules). Each is (key, year, changes).
SPECIAL_ACCIDENTS = (
    ("larger_by_deaths_2019", 2019, dict(deaths=3, level_submitted="较大")),
    ("larger_by_serious_submitted_general_2019", 2019, dict(deaths=0, serious_injuries=11)),
    ("late_report_2019", 2019, dict(report_delay=timedelta(hours=3, minutes=15))),
    ("concealed_2019_found_2020", 2019, dict(deaths=1, concealed=True, found="2020-05")),
    ("larger_by_deaths_2020", 2020, dict(deaths=4, level_submitted="较大")),
    ("larger_by_loss_submitted_general_2020", 2020, dict(deaths=0, direct_loss_wan=1260.0)),
    ("general_submitted_larger_2020", 2020, dict(deaths=2, serious_injuries=1, level_submitted="较大")),
    ("late_report_2020", 2020, dict(report_delay=timedelta(hours=26, minutes=40))),
    ("concealed_2020", 2020, dict(deaths=1, concealed=True, found="2020-07")),
    ("unlisted_industry_2020", 2020, dict(industry=UNLISTED_INDUSTRIES[0])),
)


def draw_accidents(units: list[Unit], calendar: Calendar, seed: int) -> tuple[list[Accident], dict[str, str]]:
    """Ordinary accidents (0-2 per territorial unit-month) plus the planted special cases.
    Returns the accidents (ids assigned in order of occurrence) and special key -> accident_id."""
    industries = industry_departments(units)
    territories = [unit for unit in units if unit.territorial]
    accidents: list[Accident] = []
    for unit in territories:
        for month in MONTHS:
            if not calendar.has_sheet(unit, "accidents", month):
                continue  # an unsubmitted month: whatever happened there never reached the office
            rng = rng_for(seed, "accidents", unit.unit_id, month)
            for _ in range(min(2, int(rng.poisson(0.25)))):
                accidents.append(draw_accident(rng, unit, month, industries, calendar))

    rng = rng_for(seed, "special-accidents")
    special: list[tuple[str, Accident]] = []
    if not territories:
        return [], {}
    # The two 2020 较大 accidents happen in the same territory: a 黄牌 (two 较大 in a year).
    yellow_card_unit = pick(rng, territories)
    for key, year, changes in SPECIAL_ACCIDENTS:
        changes = dict(changes)
        found_month = changes.pop("found", None)
        while True:  # a month (and unit) whose workbook was actually sent
            unit = yellow_card_unit if key.startswith("larger_by") and year == 2020 else pick(rng, territories)
            month = pick(rng, [m for m in MONTHS if m.startswith(str(year))])
            report_month = found_month or month
            if calendar.has_sheet(unit, "accidents", report_month) and month < (found_month or "9999"):
                break
        delay = changes.pop("report_delay", None)
        if changes.get("level_submitted") == "较大" or key.startswith("larger"):
            # 较大 cases in different industries where the registry allows, so no department
            # collects them all
            used = {a.industry for _, a in special if a.level != "一般"}
            listed = sorted(set(industries) - used) or sorted(industries) or list(UNLISTED_INDUSTRIES)
            changes.setdefault("industry", pick(rng, listed))
        accident = draw_accident(rng, unit, month, industries, calendar, **changes)
        accident = replace(accident, report_month=report_month)
        if delay is not None:
            accident = replace(accident, reported_at=accident.occurred_at + delay)
        if found_month:
            found = random_day(rng, found_month)
            reported = datetime(found.year, found.month, found.day, 10, 0)
            accident = replace(accident, concealed_found_at=found, reported_at=reported, closed=False, closed_at=None)
        if accident.level != "一般":
            accident = replace(accident, closed=False, closed_at=None)  # 较大 cases take months to close
        special.append((key, accident))

    accidents.extend(accident for _, accident in special)
    accidents.sort(key=lambda a: (a.occurred_at, a.unit_id))
    numbered, counters = [], {}
    for accident in accidents:
        year = accident.occurred_at.year
        counters[year] = counters.get(year, 0) + 1
        numbered.append(replace(accident, accident_id=f"SG{year}-{counters[year]:03d}"))
    # The special accidents are the very objects in `accidents`, so identity finds their numbers.
    ids = {id(a): n.accident_id for a, n in zip(accidents, numbered)}
    return numbered, {key: ids[id(accident)] for key, accident in special}
