"""Year-end grades from the rulebook's bands (rulebook [[annual.grades]], annual.fail_grade).

A unit gets the first band, best first, whose conditions it meets, else the fail grade; a vetoed
unit (一票否决) gets the fail grade whatever its score. Band conditions:
- min_total: the total, rounded to ranking.decimals as shown in the report, is at least this;
- top_share: rank within its ranking group <= max(1, floor(top_share x group size)), i.e.
  rank / size <= top_share ("within the top 30%"); tied units share the better rank, so all
  units tied at the boundary are within; at least the best-ranked unit can qualify even in a
  group too small for 30% to make one place;
- without: no accident of the year matching the condition (优秀: no 较大 accident).
Works element-wise on arrays of any shape (one unit per column, one draw per row), so the
robustness stage grades thousands of perturbed draws the same way.
"""

from __future__ import annotations

import numpy as np

from pipeline.rulebook import GradeBand


def top_places(group_size: np.ndarray, share: float) -> np.ndarray:
    """How many rank places count as 'the top share' of a group of this size (at least 1)."""
    size = np.asarray(group_size, dtype=float)
    return np.maximum(1, np.floor(share * size + 1e-9))


def grade(total: np.ndarray, rank: np.ndarray, group_size: np.ndarray, veto: np.ndarray,
          excluded: list[np.ndarray], bands: tuple[GradeBand, ...], fail_grade: str,
          decimals: int = 2) -> np.ndarray:
    """Grade per element. `excluded[i]`: the unit had an accident matching band i's `without`."""
    total = np.round(np.asarray(total, dtype=float), decimals)
    rank = np.asarray(rank, dtype=float)  # NaN (unranked) never meets a top_share condition
    conditions = []
    for band, hit in zip(bands, excluded):
        meets = total >= band.min_total
        if band.top_share is not None:
            meets = meets & (rank <= top_places(group_size, band.top_share))
        conditions.append(meets & ~np.asarray(hit, dtype=bool))
    shape = np.broadcast_shapes(total.shape, rank.shape, np.shape(veto))
    chosen = np.select([np.broadcast_to(c, shape) for c in conditions],
                       [band.grade for band in bands], default=fail_grade)
    return np.where(np.broadcast_to(np.asarray(veto, dtype=bool), shape), fail_grade, chosen)
