"""Monthly scores A (执法质量), B (隐患排查治理), C (事故控制) and the points lost, SPEC "Scoring".

One engine scores every component (rulebook [monthly.components.*], and the year-end accident part):
1. items (if any): item points x min(1, actual / target) — or x actual without a target; an item
   with no data follows its `if_no_data`; when items are not assessed, each assessed item's
   points are multiplied by (component points / sum of assessed items' points);
   without items the component starts at `start`;
2. deductions: per matching event, points (x `per` column) — applied after redistribution;
3. zeroing: any matching event sets the component to 0; otherwise it is kept within [0, points].

Points lost (`deductions` table). Sign convention: `points` > 0 is a point lost. Rows are
- kind shortfall: an item below its (redistributed) points, rule = item key, no record;
- kind deduction: one row per rule per source record (overdue hazard, overturned decision …);
- kind zeroing: the points still left when a zeroing event set the component to 0 (the record
  is the first such event of the period; `detail` says how many there were);
- kind floor: a NEGATIVE row giving back what deductions took below 0 (the component is floored);
- kind start / not_assessed: a start below the component's points; no item assessed at all.
So for every unit, period and component: component points - sum(points) == component score.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline import cores
from pipeline.arrow_text import arrow
from pipeline.events import (
    DETAILS, accidents_by_month, charged_accidents, describe, inspection_events,
    inspections_by_period, matches, overdue_hazard_events, rows_within,
)
from pipeline.frames import (
    DEDUCTION_COLUMNS, THREAD_ROWS, coded, ensure, finish_lost_points, fixed, lost_points_frame,
    release_memory, string_join,
)
from pipeline.indicators import INDICATORS, KEYS, counts_grid, hazard_counts, indicator_values, inspection_counts
from pipeline.periods import data_month_range, month_periods, period_codes
from pipeline.rank import rank_months
from pipeline.rulebook import Component, Rulebook

SCORE_COLUMNS = ["unit_id", "period", "group", "A", "B", "C", "score", "rank", "rank_change",
                 "not_assessed", "flags"]
EXTRA_COLUMNS = ["name", "ranking_group", "tie_break", "honour", "deaths", "inspections",
                 "rulebook_version"]
NO_DATA_SCORE = {"zero": 0.0, "full": 1.0}
NO_EVENTS = pd.DataFrame({c: pd.Series(dtype="Int64" if c == "source_row" else "string") for c in
                          KEYS + ["record_id", "source_file", "source_sheet", "source_row", "detail"]})


def _item_scores(component: Component, grid: pd.DataFrame, values: pd.DataFrame):
    """Earned fraction per item (NaN = not assessed) -> earned points, redistributed points."""
    fractions = []
    for item in component.items:
        actual = values[item.indicator].to_numpy(dtype=float)
        if item.target is None:
            fraction = np.clip(actual, 0.0, 1.0)
        else:
            months = grid["months"].to_numpy(dtype=float) if INDICATORS[item.indicator].per_month else 1.0
            fraction = np.minimum(1.0, actual / (item.target * months))
        fractions.append(np.where(np.isnan(actual), NO_DATA_SCORE.get(item.if_no_data, np.nan), fraction))
    fraction = np.column_stack(fractions)
    assessed = ~np.isnan(fraction)
    points = np.array([item.points for item in component.items])
    assessed_points = (assessed * points).sum(axis=1)
    factor = np.divide(component.points, assessed_points, out=np.zeros(len(grid)),
                       where=assessed_points > 0)
    effective = assessed * points * factor[:, None]
    earned = np.where(assessed, fraction, 0.0) * effective
    return earned, effective, assessed


def _shortfalls(component: Component, grid: pd.DataFrame, values: pd.DataFrame,
                earned: np.ndarray, effective: np.ndarray) -> pd.DataFrame:
    """One row per (unit, period, item) earning less than its (redistributed) points; detail
    '实际0.80;目标2.00;本项分值6.67' gives the actual, the month-scaled target and the points."""
    items = component.items
    row, col = np.nonzero(effective - earned > 0)
    actual = np.column_stack([values[i.indicator].to_numpy(dtype=float) for i in items])[row, col]
    target = np.array([np.nan if i.target is None else i.target for i in items])[col]
    per_month = np.array([INDICATORS[i.indicator].per_month for i in items])[col]
    target = target * np.where(per_month, grid["months"].to_numpy(dtype=float)[row], 1.0)
    detail = ("实际" + fixed(actual) + np.where(np.isnan(target), "", ";目标" + fixed(target))
              + ";本项分值" + fixed(effective[row, col]))
    return lost_points_frame(grid[KEYS].iloc[row], component.key, coded([i.key for i in items], col),
                             coded([i.label for i in items], col), (effective - earned)[row, col],
                             "shortfall", detail)


def _hits(rules, events: dict[str, pd.DataFrame]):
    """Per event table the rules read, in the order first named: (table name, its frame, matching
    rows, which rule (position in `rules`) each row matched, points lost per row)."""
    for on in dict.fromkeys(rule.on for rule in rules):
        frame = events[on]
        rows, which, points = [], [], []
        for i, rule in enumerate(rules):
            if rule.on != on:
                continue
            hit = np.flatnonzero(matches(frame, rule.where))
            per = frame[rule.per].to_numpy(dtype=float)[hit] if rule.per else 1.0
            rows.append(hit)
            which.append(np.full(len(hit), i))
            points.append(rule.points * np.ones(len(hit)) * per)
        yield on, frame, np.concatenate(rows), np.concatenate(which), np.concatenate(points)


def _rule_rows(component: Component, rules, events: dict[str, pd.DataFrame], kind: str) -> pd.DataFrame:
    """One row per (rule, matching event) with the points lost (0 for zeroing triggers).
    Rules on the same event table are gathered into one take of that table."""
    parts = []
    keys, labels = [rule.key for rule in rules], [rule.label for rule in rules]
    for on, frame, rows, which, points in _hits(rules, events):
        wanted = [c for c in [*NO_EVENTS.columns, *DETAILS[on][0]] if c in frame.columns]
        taken = frame[wanted].iloc[rows]  # only the columns the rows need
        parts.append(lost_points_frame(taken, component.key, coded(keys, which), coded(labels, which),
                                       points, kind, describe(on, taken)))
    rows = pd.concat(parts, ignore_index=True) if parts else lost_points_frame(
        NO_EVENTS, component.key, "", "", 0.0, kind)
    return rows.loc[(rows["points"] != 0) | (kind == "zeroing")]


def _rule_points(rules, events: dict[str, pd.DataFrame], keys: pd.DataFrame) -> np.ndarray:
    """Points the rules' events take from each row of `keys`: what the rows of `_rule_rows` add
    up to (the same events, summed in the same order; an event whose `per` value is missing
    takes nothing, as its row, with NA points, is not kept there), without a row per event."""
    positions, weights = [], []
    for _, frame, rows, _, points in _hits(rules, events):
        position = _locate(keys, frame[KEYS].iloc[rows])
        counted = (position >= 0) & ~np.isnan(points)
        positions.append(position[counted])
        weights.append(points[counted])
    if not positions:
        return np.zeros(len(keys))
    return np.bincount(np.concatenate(positions), weights=np.concatenate(weights), minlength=len(keys))


def _locate(keys: pd.DataFrame, frame: pd.DataFrame) -> np.ndarray:
    """Row of `keys` (unique unit_id, period pairs) of each row of `frame`; -1 when absent."""
    units, periods = pd.Index(keys["unit_id"].unique()), pd.Index(keys["period"].unique())
    slots = np.full(len(units) * len(periods), -1)
    if slots.size == 0:
        return np.full(len(frame), -1)
    slots[_index_in(keys["unit_id"], units) * len(periods) + _index_in(keys["period"], periods)] = \
        np.arange(len(keys))
    unit, period = _index_in(frame["unit_id"], units), _index_in(frame["period"], periods)
    known = (unit >= 0) & (period >= 0)
    return np.where(known, slots[np.where(known, unit * len(periods) + period, 0)], -1)


def _index_in(values: pd.Series, labels: pd.Index) -> np.ndarray:
    """`labels.get_indexer(values)` for text (-1 where absent; NA finds NA), by an Arrow lookup:
    no Python string is made for each of hundreds of thousands of event rows."""
    value_set = pa.array(labels.to_numpy(dtype=object, na_value=None), type=pa.large_string())
    found = pc.index_in(arrow(values.astype("string")).cast(pa.large_string()), value_set=value_set)
    return pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)


def _zeroing(component: Component, keys: pd.DataFrame, events, raw: np.ndarray):
    """(zeroed_by label per row or None, rows taking what was left when a zeroing event hit)."""
    triggers = _rule_rows(component, component.zeroing, events, "zeroing")
    triggers = triggers.assign(_pos=_locate(keys, triggers))
    triggers = triggers.loc[triggers["_pos"] >= 0].sort_values(
        ["_pos", "source_file", "source_row", "record_id"], kind="mergesort")
    count = np.bincount(triggers["_pos"], minlength=len(keys))
    first = triggers.drop_duplicates("_pos")
    position = first["_pos"].to_numpy()
    zeroed_by = np.full(len(keys), None, dtype=object)
    zeroed_by[position] = first["label"].to_numpy(dtype=object)
    left = raw[position]
    detail = ("本期触发" + count[position].astype(str).astype(object) + "起;"
              + first["detail"].fillna("").to_numpy(dtype=object))
    first = first.assign(points=pd.array(left, dtype="Float64"), detail=pd.array(detail, dtype="string"))
    return zeroed_by, first.loc[left > 0].drop(columns="_pos")


def score_component(component: Component, grid: pd.DataFrame, values: pd.DataFrame,
                    events: dict[str, pd.DataFrame], *, details: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score one component on every (unit_id, period) row of `grid`.

    Returns (scores: KEYS, <item>_points/_max/_actual, not_assessed, zeroed_by, score;
    lost: rows of the deductions table, dtypes not yet fixed). `values` holds the indicator
    columns aligned with grid; `events` the event tables named by the rules' `on`.
    `details=False`: the same scores, without the shortfall and deduction rows among those lost
    (a caller that needs only the scores, as the year-end assessment does, has no row written
    for each of hundreds of thousands of overdue hazards)."""
    keys = grid[KEYS].reset_index(drop=True)
    columns: dict[str, object] = {key: keys[key].array for key in KEYS}
    lost = []
    if component.items:
        earned, effective, assessed = _item_scores(component, grid, values)
        base = earned.sum(axis=1)
        for j, item in enumerate(component.items):
            columns[f"{item.key}_points"] = earned[:, j]
            columns[f"{item.key}_max"] = effective[:, j]
            columns[f"{item.key}_actual"] = values[item.indicator].to_numpy(dtype=float)
        if details:
            lost.append(_shortfalls(component, grid, values, earned, effective))
        columns["not_assessed"] = string_join(
            [np.where(~assessed[:, j], item.key, "") for j, item in enumerate(component.items)])
        none = ~assessed.any(axis=1)
        lost.append(lost_points_frame(keys.loc[none], component.key, "not_assessed",
                                      "全部项目均无数据,未考核", component.points, "not_assessed"))
    else:
        base = np.full(len(keys), component.start)
        columns["not_assessed"] = np.full(len(keys), "", dtype=object)
        if component.start < component.points:
            lost.append(lost_points_frame(keys, component.key, "start", "起评分低于满分",
                                          component.points - component.start, "start"))
    if details:
        deducted = _rule_rows(component, component.deductions, events, "deduction")
        position = _locate(keys, deducted)
        deducted = deducted.loc[position >= 0]
        raw = base - np.bincount(position[position >= 0], weights=deducted["points"].to_numpy(dtype=float),
                                 minlength=len(keys))
        lost.append(deducted)
    else:
        raw = base - _rule_points(component.deductions, events, keys)
    zeroed_by, zero_rows = _zeroing(component, keys, events, raw)
    columns["zeroed_by"] = zeroed_by
    columns["score"] = np.where(pd.notna(zeroed_by), 0.0, np.clip(raw, 0.0, component.points))
    floor = raw < 0
    lost += [zero_rows,
             lost_points_frame(keys.loc[floor], component.key, "floor_at_zero",
                               "扣分超过本部分分值,按0分计(退回超扣部分)", raw[floor], "floor")]
    return pd.DataFrame(columns), pd.concat(lost, ignore_index=True)


def _empty_result() -> tuple[pd.DataFrame, pd.DataFrame]:
    scores = pd.DataFrame({c: pd.Series(dtype="string") for c in SCORE_COLUMNS + EXTRA_COLUMNS})
    for column in ("A", "B", "C", "score"):
        scores[column] = scores[column].astype("Float64")
    for column in ("rank", "deaths", "inspections"):
        scores[column] = scores[column].astype("Int64")
    return scores, finish_lost_points(pd.DataFrame(columns=DEDUCTION_COLUMNS))


def _released(result: object) -> object:
    """`result`, once the memory freed in making it has gone back to the system (release_memory)."""
    release_memory()
    return result


def score_months(accidents: pd.DataFrame | None, enforcement: pd.DataFrame | None,
                 hazards: pd.DataFrame | None, registry: pd.DataFrame, rulebook: Rulebook,
                 *, months: tuple[str, str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(monthly_scores, deductions): see score_months_and_counts."""
    scores, lost, _ = score_months_and_counts(accidents, enforcement, hazards, registry, rulebook, months=months)
    return scores, lost


def score_months_and_counts(accidents: pd.DataFrame | None, enforcement: pd.DataFrame | None,
                            hazards: pd.DataFrame | None, registry: pd.DataFrame, rulebook: Rulebook,
                            *, months: tuple[str, str] | None = None, deductions_later: bool = False
                            ) -> tuple[pd.DataFrame, pd.DataFrame | list[pd.DataFrame], pd.DataFrame | None]:
    """Monthly scores and points lost for every registry unit and every month from the first to the
    last month with any record (inspected_at, found_at, occurred_at), or the `months` range given.

    monthly_scores: SCORE_COLUMNS, then name, ranking_group, tie_break, honour, deaths,
    inspections, rulebook_version and per item <key>_points (earned), <key>_max (its points after
    redistribution; 0 = not assessed) and <key>_actual (indicator value). score is unrounded.
    not_assessed: item keys (';'-joined) whose points were redistributed. flags (';'-joined):
    无执法检查 (A's 比力度 scored 0), 名册无监管企业数 (per-enterprise rates not measurable),
    <component>清零:<rule label> (a zeroing event, e.g. a 较大 accident), 未列入排名组.
    The third value is the months' counts (`indicators.period_counts`; None without months or units).
    `deductions_later`: the deductions come as their unsorted parts, for `finish_deductions`
    (a caller can then put them in order while it works on something else)."""
    accidents, enforcement, hazards = (ensure(accidents, "accidents"),
                                       ensure(enforcement, "enforcement"), ensure(hazards, "hazards"))
    span = months or data_month_range(enforcement["inspected_at"], hazards["found_at"],
                                      accidents["occurred_at"])
    if span is None or registry.empty:
        scores, lost = _empty_result()
        return scores, ([lost] if deductions_later else lost), None
    periods = month_periods(*span)
    # Only the inspections of these months count (by inspected_at): a year scored on its own
    # works on its own rows, not on every year's (cost linear in the years, not their square).
    # The inspections' months, worked out once for the choice of rows, the counts and the events.
    codes, labels = period_codes(enforcement["inspected_at"], periods)
    inspections = inspection_events(rows_within(enforcement, "inspected_at", periods, (codes, labels)), rulebook)
    inside = codes >= 0
    coded = (codes if inside.all() else codes[inside], labels)  # (the rows of `inspections`)
    # The counts and the events, each from the clean rows alone: on the free cores (`cores`).
    big = len(enforcement) + len(hazards) >= THREAD_ROWS
    # The counts in two parts (inspections, hazards), so that both cores stay at work until the
    # events are made too, when both are free (5·10^6 records, scoring alone: 1.4 -> 1.0 s for
    # this step; in `process` a Parquet writer often holds the other core by then).
    # Every piece may start while an earlier one runs (a window of all five: their results are
    # all kept anyway, and two run at once at most).
    pieces = [lambda: _released(inspection_counts(inspections, periods, coded)),  # (their per-row temporaries)
              lambda: overdue_hazard_events(hazards, periods, rulebook),
              lambda: _released(hazard_counts(hazards, periods)),
              lambda: inspections_by_period(inspections, periods, coded),
              lambda: accidents_by_month(charged_accidents(accidents, rulebook), periods)]
    events: dict[str, pd.DataFrame] = {}
    inspection_part, events["overdue_hazards"], hazard_part, events["inspections"], events["accidents"] = [
        result for _, result in cores.spread(lambda make: make(), pieces, big, window=len(pieces))]
    counted = counts_grid(registry, periods, [inspection_part, hazard_part])
    values = indicator_values(counted, sorted({i.indicator for c in rulebook.components for i in c.items}))
    grid, values = counted.reset_index(drop=True), values.reset_index(drop=True)
    del counted
    columns = {c: grid[c].array for c in KEYS + ["group", "name", "inspections"]}
    lost, flags, not_assessed, items = [], [], [], []
    # One component at a time: side by side, their copies of event rows would raise the peak
    # (5·10^6 rows: by 170 MiB, to 3.0 times the input's Arrow size) for 0.4 s.
    for component in rulebook.components:
        release_memory()  # each component's copies of event rows start from a clean slate
        scores, rows = score_component(component, grid, values, events)
        columns[component.key] = scores["score"].to_numpy()
        lost.append(rows)
        not_assessed.append(scores["not_assessed"].to_numpy(dtype=object))
        zeroed_by = scores["zeroed_by"].to_numpy(dtype=object)
        flags.append(np.where(pd.notna(zeroed_by), f"{component.key}清零:" + zeroed_by.astype(str), ""))
        items.append(scores.drop(columns=KEYS + ["score", "not_assessed", "zeroed_by"]))
    columns["score"] = sum(columns[c.key] for c in rulebook.components)
    columns["not_assessed"] = string_join(not_assessed)
    charged = events["accidents"]
    position = _locate(grid, charged)
    columns["deaths"] = np.bincount(position[position >= 0], minlength=len(grid),
                                    weights=charged["deaths"].to_numpy(dtype=float)[position >= 0])
    no_enterprises = grid["enterprises"].fillna(0).to_numpy() <= 0
    columns["flags"] = string_join([np.where(grid["inspections"] == 0, "无执法检查", ""),
                                    np.where(no_enterprises, "名册无监管企业数", ""), *flags])
    columns["rulebook_version"] = np.full(len(grid), rulebook.version, dtype=object)
    table = pd.concat([pd.DataFrame(columns), *items], axis=1)
    ranked = rank_months(table, rulebook)
    ranked["flags"] = string_join([ranked["flags"].to_numpy(dtype=object),
                                   np.where(ranked["ranking_group"].isna(), "未列入排名组", "")])
    # The events (copies of clean rows) go before the deductions are sorted, a copy of their own.
    del events, charged, inspections
    release_memory()
    return _finish(ranked, rulebook), (lost if deductions_later else _finish_lost(lost)), grid


def _finish(frame: pd.DataFrame, rulebook: Rulebook) -> pd.DataFrame:
    order = {g.name: i for i, g in enumerate(rulebook.ranking_groups)}
    frame = frame.assign(_g=frame["ranking_group"].map(order).fillna(len(order)))
    frame = frame.sort_values(["period", "_g", "rank", "unit_id"], kind="mergesort", na_position="last")
    for column in ("unit_id", "period", "group", "rank_change", "not_assessed", "flags", "name",
                   "ranking_group", "tie_break", "honour", "rulebook_version"):
        frame[column] = frame[column].astype("string")
    for column in ("A", "B", "C", "score"):
        frame[column] = frame[column].astype("Float64")
    frame["rank"] = frame["rank"].astype("Int64")
    for column in ("deaths", "inspections"):
        frame[column] = frame[column].astype("Int64")
    items = [c for c in frame.columns if c.endswith(("_points", "_max", "_actual"))]
    return frame[SCORE_COLUMNS + EXTRA_COLUMNS + items].reset_index(drop=True)


def finish_deductions(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The deductions table from the parts `score_months_and_counts(..., deductions_later=True)` gave."""
    return _finish_lost(parts)


def _finish_lost(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The deductions table: the rows of `parts` (emptied here: each row is then held once)
    in their order. Each column is sorted in turn and its unsorted rows let go."""
    kinds = {"shortfall": 0, "not_assessed": 1, "start": 2, "deduction": 3, "zeroing": 4, "floor": 5}
    lost = finish_lost_points(pd.concat(parts, ignore_index=True))
    parts.clear()
    keys = ["period", "unit_id", "component", "_k", "rule", "source_file", "source_row", "record_id"]
    # = sort_values(keys, kind="mergesort", na_position="first"), on each key's sorted factorize
    # codes (NA = -1, first): comparing integers instead of text, a stable lexsort. The last key,
    # record_id (hundreds of thousands of distinct texts), can only order rows equal on all the
    # others; it is coded and sorted on only when there are such rows.
    # The keys' codes, then the sorted columns, on the free cores (`cores`).
    threads = len(lost) >= THREAD_ROWS

    def key_codes(key: str) -> tuple[np.ndarray, pd.Index | None]:
        if key == "_k":
            return lost["kind"].map(kinds).astype("int64").to_numpy(), None
        key_codes, uniques = pd.factorize(lost[key], sort=True)
        return key_codes.astype(np.int32), uniques

    found = cores.each(key_codes, keys[:-1], threads)
    codes = [key_codes for key_codes, _ in found]
    coded = {key: found_codes for key, found_codes in zip(keys[:-1], found) if found_codes[1] is not None}
    del found
    order = np.lexsort(codes[::-1])
    if _ties(codes, order):
        order = np.lexsort([pd.factorize(lost[keys[-1]], sort=True)[0], *codes[::-1]])
    del codes

    def in_order(item: tuple[str, pd.Series]) -> pd.Series:
        column, values = item
        if column in FEW_VALUES:
            # A text of few distinct values is put in order as its codes, then looked up among
            # them: a take from a small array (in the cache) instead of one across all the text.
            column_codes, uniques = coded.pop(column, None) or pd.factorize(values)
            return pd.Series(uniques.array.take(column_codes[order], allow_fill=True), dtype=values.dtype)
        return values.take(order).reset_index(drop=True)

    columns = {}
    # (each column is let go of as soon as it is sorted: taken from `lost` when its sorting starts)
    for (column, _), values in cores.spread(in_order, ((c, lost.pop(c)) for c in DEDUCTION_COLUMNS), threads):
        columns[column] = values
        release_memory()  # the unsorted column's memory, for the next column's sorted copy
    return pd.DataFrame(columns)


# Deduction columns whose texts repeat (units, months, rules, files, the details of hazards …),
# unlike record_id.
FEW_VALUES = {"unit_id", "period", "component", "rule", "source_file", "label", "kind", "detail", "source_sheet"}


def _ties(codes: list[np.ndarray], order: np.ndarray) -> bool:
    """Whether two rows next to each other in `order` are equal on every column of codes."""
    equal = np.ones(max(len(order) - 1, 0), dtype=bool)
    for column in codes:
        ordered = column[order]
        equal &= ordered[1:] == ordered[:-1]
    return bool(equal.any())


def item_table(monthly_scores: pd.DataFrame, rulebook: Rulebook) -> pd.DataFrame:
    """Long view of the item columns of monthly_scores, for the heatmap and the scorecard:
    unit_id, period, component, item, label, actual, target, points, max_points (the item's
    points after redistribution; 0 when not assessed). target is per month x months (= 1)."""
    parts = []
    for component in rulebook.components:
        for item in component.items:
            if f"{item.key}_points" not in monthly_scores:
                continue
            parts.append(pd.DataFrame({
                "unit_id": monthly_scores["unit_id"], "period": monthly_scores["period"],
                "component": component.key, "item": item.key, "label": item.label,
                "actual": monthly_scores[f"{item.key}_actual"].astype("Float64"),
                "target": pd.Series(item.target, index=monthly_scores.index, dtype="Float64"),
                "points": monthly_scores[f"{item.key}_points"].astype("Float64"),
                "max_points": monthly_scores[f"{item.key}_max"].astype("Float64"),
            }))
    if not parts:
        return pd.DataFrame(columns=["unit_id", "period", "component", "item", "label", "actual",
                                     "target", "points", "max_points"])
    table = pd.concat(parts, ignore_index=True)
    for column in ("component", "item", "label"):
        table[column] = table[column].astype("string")
    return table
