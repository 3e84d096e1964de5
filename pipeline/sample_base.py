"""Sample data: the shared ground of the generator — random draws, months, units, and the
submission calendar (who reported which month, on what day, and what never arrived).

Every draw comes from a generator seeded by (seed, purpose, unit, ...), so adding a unit or a field
does not reshuffle everything else. Python's `hash()` is salted per process and is never used.
"""

from __future__ import annotations

import functools
import math
import random
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from pipeline.registry import split_list

YEARS = (2019, 2020)
MONTHS = tuple(f"{year}-{month:02d}" for year in YEARS for month in range(1, 13))
TERRITORIAL_GROUPS = ("办事处", "管理处")


class Rng(random.Random):
    """Scalar random draws with numpy-like names. The sample draws one number at a time, for which
    Python's Mersenne Twister is ~5-10x faster than a numpy Generator (size mode uses numpy)."""

    def integers(self, low: int, high: int | None = None) -> int:
        """Like numpy: [low, high), or [0, low) with one argument."""
        return self.randrange(low) if high is None else self.randrange(low, high)

    def poisson(self, lam: float) -> int:
        """Knuth's multiplication method; fine for the small means used here."""
        limit, k, product = math.exp(-lam), 0, self.random()
        while product > limit:
            k += 1
            product *= self.random()
        return k

    def geometric(self, p: float) -> int:
        """Trials up to the first success (>= 1), like numpy."""
        return 1 + int(math.log(1.0 - self.random()) / math.log(1.0 - p))

    def lognormal(self, mean: float, sigma: float) -> float:
        return self.lognormvariate(mean, sigma)

    def normal(self, mean: float, sigma: float) -> float:
        return self.normalvariate(mean, sigma)


def rng_for(seed: int, *keys: object) -> Rng:
    """A generator for one purpose, seeded by the run seed and the keys. String seeds are hashed
    with SHA-512 by `random`, so this is stable across processes (unlike `hash()`)."""
    return Rng("|".join([str(seed), *(str(key) for key in keys)]))


def pick(rng: Rng, options, p=None):
    """One element of a sequence, optionally weighted."""
    if p is None:
        return options[rng.randrange(len(options))]
    draw, cumulative = rng.random(), 0.0
    for option, weight in zip(options, p):
        cumulative += weight
        if draw < cumulative:
            return option
    return options[-1]


# --------------------------------------------------------------------------------------- months
def month_start(month: str) -> date:
    return date(int(month[:4]), int(month[5:7]), 1)


def month_length(month: str) -> int:
    start = month_start(month)
    return ((start + timedelta(days=32)).replace(day=1) - start).days


def next_month(month: str) -> str:
    start = month_start(month) + timedelta(days=32)
    return f"{start.year}-{start.month:02d}"


@functools.cache
def days_of(month: str, weekdays_only: bool) -> tuple[date, ...]:
    start = month_start(month)
    days = [start + timedelta(days=i) for i in range(month_length(month))]
    return tuple(day for day in days if day.weekday() < 5 or not weekdays_only)


def random_day(rng: Rng, month: str, weekdays_only: bool = False) -> date:
    """A day of the month; offices inspect on weekdays, so those draws skip weekends."""
    return pick(rng, days_of(month, weekdays_only))


# ---------------------------------------------------------------------------------------- units
@dataclass(frozen=True)
class Unit:
    unit_id: str
    name: str
    group: str
    aliases: tuple[str, ...]
    enterprises: int
    employees: int
    industries: tuple[str, ...]

    @property
    def territorial(self) -> bool:
        return self.group in TERRITORIAL_GROUPS

    @property
    def sources(self) -> tuple[str, ...]:
        """Sheets the unit owes every month: territories also report the accidents on their ground."""
        return ("accidents", "enforcement", "hazards") if self.territorial else ("enforcement", "hazards")

    @property
    def short_name(self) -> str:
        """The shortest alias, as people write it in file names and document numbers."""
        return min(self.aliases, key=len) if self.aliases else self.name


def units_from_registry(registry: pd.DataFrame) -> list[Unit]:
    return [
        Unit(
            unit_id=str(row.unit_id),
            name=str(row.name),
            group=str(row.group),
            aliases=tuple(split_list(row.aliases)),
            enterprises=int(row.enterprises),
            employees=int(row.employees),
            industries=tuple(split_list(row.industries)),
        )
        for row in registry.itertuples(index=False)
    ]


# ------------------------------------------------------------------------- submission calendar
@dataclass(frozen=True)
class Calendar:
    """Who submitted which month and on which day (填报日期); what is missing."""

    filed_on: dict[tuple[str, str], date]  # (unit_id, month) -> 填报日期, submitted unit-months only
    missing_unit_months: tuple[tuple[str, str], ...]
    missing_sheets: tuple[tuple[str, str, str], ...]  # (unit_id, source, month) left out of a workbook
    late: tuple[tuple[str, str, date], ...]  # (unit_id, month, 填报日期) filed after the 5th
    no_inspections: tuple[tuple[str, str], ...]  # enforcement sheet sent but empty

    def submitted(self, unit_id: str, month: str) -> bool:
        return (unit_id, month) in self.filed_on

    def has_sheet(self, unit: Unit, source: str, month: str) -> bool:
        return (
            self.submitted(unit.unit_id, month)
            and source in unit.sources
            and (unit.unit_id, source, month) not in self.missing_sheets
        )


def draw_calendar(units: list[Unit], seed: int) -> Calendar:
    """Most units file by the 5th of the next month; a few file late, a few months never arrive."""
    rng = rng_for(seed, "calendar")
    inner_months = MONTHS[1:-1]  # keep the first and last month complete so the period is clear
    ids = [unit.unit_id for unit in units]

    missing_units = rng.sample(ids, min(4, len(ids) - 1))
    missing = tuple(sorted((uid, pick(rng, inner_months)) for uid in missing_units))

    def free_pair(taken: set) -> tuple[str, str]:
        while True:
            pair = (pick(rng, ids), pick(rng, inner_months))
            if pair not in taken:
                taken.add(pair)
                return pair

    taken = set(missing)
    missing_sheets = []
    for source in ("hazards", "hazards", "enforcement"):
        uid, month = free_pair(taken)
        missing_sheets.append((uid, source, month))

    # Spring Festival 2020 was also the first COVID lockdown: two small units inspected nobody.
    low = sorted(units, key=lambda u: (u.enterprises, u.unit_id))
    lockdown = [(u.unit_id, "2020-02") for u in low if (u.unit_id, "2020-02") not in taken][:2]
    no_inspections = [*lockdown, free_pair(taken)]
    taken.update(no_inspections)

    filed_on: dict[tuple[str, str], date] = {}
    for uid in ids:
        for month in MONTHS:
            if (uid, month) not in missing:
                day = pick(rng, (1, 2, 3, 4, 5), p=(0.12, 0.25, 0.28, 0.2, 0.15))
                filed_on[(uid, month)] = month_start(next_month(month)).replace(day=day)
    late = []
    for _ in range(6):
        uid, month = free_pair(taken)
        filed = month_start(next_month(month)).replace(day=int(rng.integers(8, 16)))
        filed_on[(uid, month)] = filed
        late.append((uid, month, filed))
    return Calendar(
        filed_on=filed_on,
        missing_unit_months=missing,
        missing_sheets=tuple(sorted(missing_sheets)),
        late=tuple(sorted(late)),
        no_inspections=tuple(sorted(no_inspections)),
    )
