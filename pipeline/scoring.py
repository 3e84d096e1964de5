"""The scoring stages in order, for the runner: clean tables -> monthly_scores, deductions,
annual_assessment. No I/O; deterministic (sorted outputs, seeded robustness).

`rulebook` is one Rulebook for every year, or a mapping year -> Rulebook (e.g. built with
pipeline.rulebook.rulebook_for_year for each year in the data). With a mapping, each month is
scored with its calendar year's rulebook and each assessment year with its own; a year missing
from the mapping uses the latest earlier year's, else the earliest (as rulebook_for_year does).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from pipeline.assess import assess_year
from pipeline import cores
from pipeline.frames import THREAD_ROWS, ensure, release_memory
from pipeline.periods import data_month_range
from pipeline.rank import rank_change
from pipeline.rulebook import Rulebook
from pipeline.score import finish_deductions, score_months_and_counts


def rulebook_of(rulebook: Rulebook | Mapping[int, Rulebook], year: int) -> Rulebook:
    if isinstance(rulebook, Rulebook):
        return rulebook
    earlier = [y for y in rulebook if y <= year]
    return rulebook[max(earlier) if earlier else min(rulebook)]


def score_all(clean: Mapping[str, pd.DataFrame | None], registry: pd.DataFrame,
              rulebook: Rulebook | Mapping[int, Rulebook]) -> dict[str, pd.DataFrame]:
    """{"monthly_scores", "deductions", "annual_assessment"} for every calendar year with data.

    `clean` holds the clean tables by name (accidents, enforcement, hazards, annual_review; a
    missing one counts as empty). annual_assessment.attrs["warnings"] lists data warnings such as
    a missing annual review."""
    accidents = ensure(clean.get("accidents"), "accidents")
    enforcement = ensure(clean.get("enforcement"), "enforcement")
    hazards = ensure(clean.get("hazards"), "hazards")
    review = clean.get("annual_review")
    span = data_month_range(enforcement["inspected_at"], hazards["found_at"], accidents["occurred_at"])
    years = [] if span is None else list(range(int(span[0][:4]), int(span[1][:4]) + 1))
    if isinstance(rulebook, Rulebook) or not years:
        book = rulebook_of(rulebook, years[0] if years else 0)
        monthly, lost, counts = score_months_and_counts(accidents, enforcement, hazards, registry, book,
                                                        deductions_later=True)
        lost_parts = [lost]
    else:
        parts = [score_months_and_counts(accidents, enforcement, hazards, registry, rulebook_of(rulebook, y),
                                         months=(max(span[0], f"{y}-01"), min(span[1], f"{y}-12")),
                                         deductions_later=True)
                 for y in years]
        monthly = pd.concat([p[0] for p in parts], ignore_index=True)
        lost_parts = [p[1] for p in parts]
        grids = [p[2] for p in parts if p[2] is not None]
        counts = pd.concat(grids, ignore_index=True) if grids else None
        monthly["rank_change"] = rank_change(monthly)  # across the year boundary too
        del parts
    # The months' events are gone: their memory goes back to the system before the year's are
    # made (Arrow's allocator would otherwise hold it, and the peak would stack them).
    release_memory()

    def finished() -> pd.DataFrame:
        tables = [finish_deductions(lost) for lost in lost_parts]
        return tables[0] if len(tables) == 1 else pd.concat(tables, ignore_index=True)

    def assessed() -> list[pd.DataFrame]:  # (each year's hazard counts are its months' added up)
        return [assess_year(y, monthly, accidents, hazards, review, registry, rulebook_of(rulebook, y), counts=counts)
                for y in years]

    # The deductions are put in order while the years are assessed (neither needs the other).
    rows = sum(len(part) for lost in lost_parts for part in lost)
    deductions, annual = cores.each(lambda piece: piece(), [finished, assessed], rows >= THREAD_ROWS)
    warnings = [w for frame in annual for w in frame.attrs.get("warnings", [])]
    if annual:
        assessment = pd.concat(annual, ignore_index=True)
    else:
        # Same columns and dtypes as a real assessment: assess a year nobody has data for.
        assessment = assess_year(2000, monthly, accidents, hazards, None, registry.head(0),
                                 rulebook_of(rulebook, 2000)).head(0)
    assessment.attrs["warnings"] = warnings
    return {"monthly_scores": monthly, "deductions": deductions, "annual_assessment": assessment}
