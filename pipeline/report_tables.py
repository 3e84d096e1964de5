"""Frame shaping shared by the reports: the circular's text, its charts, its tables and the Excel export.

Pure functions over the processed tables (SPEC "Processed tables"); no I/O, inputs never mutated.
They select and order what the scoring stages computed; they never score anything themselves.
The one rule restated here is "overdue at period end" (SPEC "Exact meanings"), because a report for
an earlier month must count the hazards overdue at *that* month's end, while the hazards table's
`overdue` column is the status at the end of the data.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

import pandas as pd

# SPEC "Ranking": 属地单位 = 办事处 + 管理处, and 成员单位 (default; scoring may say otherwise
# in a `ranking_group` column, which then wins).
RANKING_GROUP_OF = {"办事处": "属地单位", "管理处": "属地单位", "成员单位": "成员单位"}
GROUP_ORDER = ["属地单位", "成员单位"]
COMMENDED, NAMED = "表扬", "通报"
SOURCE_LABELS = {"accidents": "事故", "enforcement": "执法检查", "hazards": "隐患排查", "annual_review": "年度考评"}
COMPONENTS = {"A": ("执法质量", 40.0), "B": ("隐患排查治理", 30.0), "C": ("事故控制", 30.0)}
ANNUAL_COMPONENTS = {
    "enforcement": ("执法质量", 30.0),
    "hazards": ("隐患排查治理", 25.0),
    "accidents": ("事故控制", 30.0),
    "key_work": ("重点工作", 15.0),
    "bonus": ("加分", 5.0),
}


# ---------------------------------------------------------------------------------------- periods
def period_start(period: str) -> pd.Timestamp:
    return pd.Period(period, freq="M").start_time


def period_end(period: str) -> pd.Timestamp:
    """Last day of the month at 23:59:59.999999 (so a time on that day still falls inside)."""
    return pd.Period(period, freq="M").end_time


def shift_period(period: str, months: int) -> str:
    return str(pd.Period(period, freq="M") + months)


def month_label(period: str) -> str:
    """`2020-03` -> `2020年3月`."""
    p = pd.Period(period, freq="M")
    return f"{p.year}年{p.month}月"


def day_label(moment: pd.Timestamp) -> str:
    return f"{moment.year}年{moment.month}月{moment.day}日"


def trailing_periods(period: str, months: int) -> list[str]:
    """The `months` periods ending with `period`, oldest first."""
    return [shift_period(period, -k) for k in range(months - 1, -1, -1)]


def in_period(moments: pd.Series, period: str) -> pd.Series:
    """Mask of datetimes within the month (NA -> False)."""
    mask = (moments >= period_start(period)) & (moments <= period_end(period))
    return mask.fillna(False).astype(bool)


# ------------------------------------------------------------------------------------------ units
def ranking_group_of(frame: pd.DataFrame) -> pd.Series:
    """The ranking group of each row: its `ranking_group` column, else derived from `group`."""
    if "ranking_group" in frame.columns:
        return frame["ranking_group"].astype("str")
    return frame["group"].map(RANKING_GROUP_OF).fillna(frame["group"]).astype("str")


def group_sequence(groups: Iterable[str]) -> list[str]:
    """Ranking groups in the office's order (属地单位 first), unknown ones after, alphabetically."""
    present = list(dict.fromkeys(groups))
    return [g for g in GROUP_ORDER if g in present] + sorted(g for g in present if g not in GROUP_ORDER)


def units_frame(monthly_scores: pd.DataFrame, registry: pd.DataFrame | None = None) -> pd.DataFrame:
    """unit_id, name, group, ranking_group for every unit: the registry when given, else the units
    seen in monthly_scores (which holds every registry unit for every month, SPEC "Exact meanings")."""
    if registry is not None and not registry.empty:
        units = registry[["unit_id", "name", "group"]].copy()
        if "ranking_group" in registry.columns:
            units["ranking_group"] = registry["ranking_group"]
    else:
        columns = [c for c in ("unit_id", "name", "group", "ranking_group") if c in monthly_scores]
        units = monthly_scores[columns].drop_duplicates("unit_id", keep="last").copy()
        if "name" not in units:
            units["name"] = units["unit_id"]
    units["ranking_group"] = ranking_group_of(units)
    units["unit_id"] = units["unit_id"].astype("str")
    units["name"] = units["name"].astype("str")
    return units.sort_values("unit_id").reset_index(drop=True)


def name_map(units: pd.DataFrame) -> dict[str, str]:
    return dict(zip(units["unit_id"], units["name"]))


# ---------------------------------------------------------------------------------------- ranking
def with_names(frame: pd.DataFrame, units: pd.DataFrame) -> pd.DataFrame:
    """Add `name` and `ranking_group` (from the units frame) where the frame lacks them."""
    out = frame.copy()
    lookup = units.set_index("unit_id")
    if "name" not in out:
        out["name"] = out["unit_id"].map(lookup["name"]).fillna(out["unit_id"])
    if "ranking_group" not in out:
        if "group" in out:
            out["ranking_group"] = ranking_group_of(out)
        else:
            out["ranking_group"] = out["unit_id"].map(lookup["ranking_group"])
    return out


def ranked(monthly_scores: pd.DataFrame, period: str, deaths: pd.Series | None = None) -> pd.DataFrame:
    """The period's rows in circular order: by ranking group, then rank, then the SPEC tie-break
    (A, then B, higher first; fewer deaths; unit_id). Adds `ranking_group`, `previous_rank` and
    `rank_move` (previous rank − rank: positive = moved up; NA when the unit is new)."""
    rows = monthly_scores.loc[monthly_scores["period"] == period].copy()
    rows["ranking_group"] = ranking_group_of(rows)
    rows["deaths"] = rows["unit_id"].map(deaths).fillna(0) if deaths is not None else 0
    previous = monthly_scores.loc[monthly_scores["period"] == shift_period(period, -1)]
    rows["previous_rank"] = rows["unit_id"].map(previous.set_index("unit_id")["rank"]).astype("Int64")
    rows["rank_move"] = (rows["previous_rank"] - rows["rank"].astype("Int64")).astype("Int64")
    rows["_group_order"] = rows["ranking_group"].map(
        {g: i for i, g in enumerate(group_sequence(rows["ranking_group"]))}
    )
    rows = rows.sort_values(
        ["_group_order", "rank", "A", "B", "deaths", "unit_id"],
        ascending=[True, True, False, False, True, True],
    )
    return rows.drop(columns=["_group_order"]).reset_index(drop=True)


def rank_change_label(move: object) -> str:
    """SPEC "Ranking": ↑2, ↓1, 持平, 新."""
    if move is None or move is pd.NA or (isinstance(move, float) and pd.isna(move)):
        return "新"
    move = int(move)
    return f"↑{move}" if move > 0 else f"↓{-move}" if move < 0 else "持平"


def commended_and_named(group_rows: pd.DataFrame, count: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The 表扬 and 通报 units of one group (rows in ranking order). Scoring's `honour` column
    (rulebook top_n / bottom_n) decides when present. Without it: the top and bottom `count`, and a
    group of fewer than 2 × count units is halved (5 units: top 2, bottom 2) so no unit is both."""
    if "honour" in group_rows:
        honour = group_rows["honour"].astype("string")
        return group_rows.loc[(honour == COMMENDED).fillna(False)], group_rows.loc[(honour == NAMED).fillna(False)]
    size = min(count, len(group_rows) // 2)
    if size == 0:
        return group_rows.head(len(group_rows)), group_rows.iloc[0:0]
    return group_rows.head(size), group_rows.tail(size)


def rank_history(monthly_scores: pd.DataFrame, period: str, months: int = 6) -> pd.DataFrame:
    """Long frame unit_id, name, ranking_group, period, rank over the `months` months to `period`."""
    periods = trailing_periods(period, months)
    rows = monthly_scores.loc[monthly_scores["period"].isin(periods)].copy()
    rows["ranking_group"] = ranking_group_of(rows)
    if "name" not in rows:
        rows["name"] = rows["unit_id"]
    return rows[["unit_id", "name", "ranking_group", "period", "rank"]].sort_values(["period", "unit_id"])


# -------------------------------------------------------------------------------- accidents, hazards
def accidents_in(accidents: pd.DataFrame, period: str) -> pd.DataFrame:
    """Accidents that occurred in the month (SPEC "Exact meanings")."""
    if accidents is None or accidents.empty:
        return pd.DataFrame(columns=["occurred_at", "deaths", "level"])
    return accidents.loc[in_period(accidents["occurred_at"], period)].sort_values("occurred_at")


def deaths_by_unit(accidents: pd.DataFrame, period: str) -> pd.Series:
    """Deaths charged to each unit in the month: to the territory and to the supervising
    department (SPEC scoring C) — used only for the tie-break order."""
    month = accidents_in(accidents, period)
    if month.empty:
        return pd.Series(dtype="float64")
    charged = [month[["unit_id", "deaths"]]]
    if "department_id" in month:
        charged.append(month[["department_id", "deaths"]].rename(columns={"department_id": "unit_id"}))
    both = pd.concat(charged).dropna(subset=["unit_id"])
    return both.groupby("unit_id")["deaths"].sum().astype("float64")


def overdue_hazards(hazards: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Hazards overdue at `as_of` (SPEC "Exact meanings": deadline ≤ that day and not rectified by
    it), among those found by then. Sorted by deadline."""
    if hazards is None or hazards.empty:
        return pd.DataFrame(columns=["unit_id", "level", "deadline", "supervised"])
    found = hazards["found_at"] <= as_of
    due = hazards["deadline"] <= as_of
    open_then = hazards["rectified_at"].isna() | (hazards["rectified_at"] > as_of)
    mask = (found & due & open_then).fillna(False).astype(bool)
    return hazards.loc[mask].sort_values(["deadline", "unit_id"])


# -------------------------------------------------------------------------------------- submissions
def submissions_from_data(enforcement: pd.DataFrame | None, hazards: pd.DataFrame | None,
                          units: pd.DataFrame | None = None) -> pd.DataFrame:
    """A stand-in for the runner's `submissions` table when the folder has none: for every unit,
    month and source (enforcement, hazards), `submitted` = the unit sent rows dated in that month
    (inspected_at / found_at). Columns unit_id, period, source, submitted, rows."""
    parts = []
    for source, frame, column in (("enforcement", enforcement, "inspected_at"), ("hazards", hazards, "found_at")):
        if frame is None or frame.empty:
            continue
        months = frame[column].dt.to_period("M").astype("str")
        counted = pd.DataFrame({"unit_id": frame["unit_id"].astype("str"), "period": months})
        counted = counted.groupby(["unit_id", "period"]).size().rename("rows").reset_index()
        counted["source"] = source
        parts.append(counted)
    if not parts:
        return pd.DataFrame(columns=["unit_id", "period", "source", "submitted", "rows"])
    seen = pd.concat(parts, ignore_index=True)
    ids = units["unit_id"].astype("str") if units is not None else seen["unit_id"].drop_duplicates()
    grid = pd.MultiIndex.from_product([sorted(set(ids)), sorted(seen["period"].unique()), ["enforcement", "hazards"]],
                                      names=["unit_id", "period", "source"]).to_frame(index=False)
    table = grid.merge(seen, on=["unit_id", "period", "source"], how="left")
    table["rows"] = table["rows"].fillna(0).astype("int64")
    table["submitted"] = table["rows"] > 0
    return table


def missing_submissions(period: str, units: pd.DataFrame, submissions: pd.DataFrame) -> pd.DataFrame:
    """Units that owe a table for the period and did not send it: unit_id, name, ranking_group and
    `sources` (Chinese names of the missing tables, 、-joined; empty when the table has no per-source
    rows). With a `submitted` column, a row is owed and `submitted` says whether it arrived;
    without one, a row means something arrived."""
    month = submissions.loc[submissions["period"].astype("str") == period]
    if "submitted" in month:
        missing = month.loc[~month["submitted"].fillna(False).astype(bool)]
        if "source" in missing:
            labels = missing["source"].astype("str").map(lambda s: SOURCE_LABELS.get(s, s))
            sources = labels.groupby(missing["unit_id"].astype("str")).agg("、".join)
        else:
            sources = pd.Series("", index=missing["unit_id"].astype("str").unique())
        out = units.loc[units["unit_id"].isin(sources.index), ["unit_id", "name", "ranking_group"]].copy()
        out["sources"] = out["unit_id"].map(sources)
        return out.reset_index(drop=True)
    sent = set(month["unit_id"].astype("str"))
    out = units.loc[~units["unit_id"].isin(sent), ["unit_id", "name", "ranking_group"]].copy()
    out["sources"] = ""
    return out.reset_index(drop=True)


# ------------------------------------------------------------------------------------ data quality
def other_months_files(files: pd.DataFrame, period: str) -> set[str]:
    """Source files known to belong to another month (their `title_period`, from the title or file
    name, is set and differs). A month's annex leaves out only these: rows of files stating this
    month, stating none (an unreadable file) or not in the files table stay in."""
    if files is None or "title_period" not in files:
        return set()
    stated = files["title_period"].astype("string")
    this = files.loc[(stated == period).fillna(False), "source_file"].astype("str")
    other = files.loc[(stated != period).fillna(False), "source_file"].astype("str")
    return set(other) - set(this)  # a file with sheets of several months stays


def rows_of_period(frame: pd.DataFrame | None, files: pd.DataFrame, period: str) -> pd.DataFrame | None:
    if frame is None or frame.empty:
        return frame
    excluded = other_months_files(files, period)
    return frame.loc[~frame["source_file"].astype("str").isin(excluded)]


# -------------------------------------------------------------------------------------- deductions
# The deductions table's `kind` (pipeline/score.py): why the points were lost.
DEDUCTION_KINDS = {"shortfall": "未达目标", "not_assessed": "未评", "start": "起始扣减", "deduction": "扣分",
                   "zeroing": "清零", "floor": "保底返还"}


def deduction_view(deductions: pd.DataFrame, units: pd.DataFrame, periods: list[str] | None = None,
                   unit_id: str | None = None) -> pd.DataFrame:
    """Points lost, with Chinese headers: 月份, 单位编号, 单位, 分项, 类别, 规则, 失分, 说明, 记录编号,
    来源文件, 来源工作表, 来源行. `失分` keeps the table's sign (> 0 lost; a 保底返还 row gives points back), so
    per component: full points − sum(失分) = score."""
    rows = deductions
    if periods is not None:
        rows = rows.loc[rows["period"].astype("str").isin(periods)]
    if unit_id is not None:
        rows = rows.loc[rows["unit_id"].astype("str") == unit_id]
    names = name_map(units)

    def text(column: str) -> pd.Series:
        return rows[column].astype("object") if column in rows else pd.Series("", index=rows.index, dtype="object")

    rule = rows["label"].astype("object").where(rows["label"].notna(), rows["rule"]) if "label" in rows else rows["rule"]
    view = pd.DataFrame({
        "月份": rows["period"].astype("str"),
        "单位编号": rows["unit_id"].astype("str"),
        "单位": rows["unit_id"].astype("str").map(names),
        "分项": rows["component"],
        "类别": text("kind").map(lambda k: DEDUCTION_KINDS.get(k, k) if isinstance(k, str) else ""),
        "规则": rule,
        "失分": rows["points"].astype("float64"),
        "说明": text("detail"),
        "记录编号": rows["record_id"],
        "来源文件": rows["source_file"],
        "来源工作表": text("source_sheet"),
        "来源行": rows["source_row"].astype("Int64"),
    })
    return view.sort_values(["月份", "单位编号", "分项"], kind="stable").reset_index(drop=True)


# ------------------------------------------------------------------------------------- indicators
def indicator_matrix(monthly_scores: pd.DataFrame, period: str, indicators: pd.DataFrame | None = None) -> pd.DataFrame:
    """Unit × indicator achievement (points earned / points available, 0–1), rows = unit names in
    ranking order. Uses the long `indicators` table (unit_id, period, item, points, max_points)
    when scoring provides it, else the three components A/40, B/30, C/30."""
    rows = ranked(monthly_scores, period)
    order = list(rows["unit_id"])
    names = dict(zip(rows["unit_id"], rows.get("name", rows["unit_id"])))
    if indicators is not None and not indicators.empty and {"item", "points", "max_points"} <= set(indicators):
        month = indicators.loc[indicators["period"].astype("str") == period].copy()
        points = month["points"].astype("float64")
        available = month["max_points"].astype("float64")
        month["rate"] = points / available.where(available > 0)  # NaN: not assessed
        # Short column names: the rulebook label without its parenthetical definition.
        labels = month["label"] if "label" in month else month["item"]
        month["column"] = labels.astype("str").str.replace(r"[(（].*$", "", regex=True).str.strip()
        matrix = month.pivot_table(index="unit_id", columns="column", values="rate", aggfunc="first",
                                   sort=False, dropna=False)
    else:
        matrix = pd.DataFrame(
            {label: (rows[key] / points).astype("float64").to_numpy() for key, (label, points) in COMPONENTS.items()},
            index=rows["unit_id"],
        )
    matrix = matrix.reindex(order)
    matrix.index = [names.get(u, u) for u in matrix.index]
    return matrix


# ------------------------------------------------------------------------------------- year end
def robustness_marks(annual: pd.DataFrame) -> pd.DataFrame:
    """Add `non_robust` and `robust_note` (SPEC "Year-end assessment", robustness).

    The assessment's own verdict wins: `grade_robust` / `place_robust` / `robust_flag` (rulebook
    [robustness]: a grade or top/bottom place held in at least min_share of the weight draws).
    Without those columns, a place is marked when the unit's rank interval rank_p05..rank_p95
    crosses a line that matters: the top 3 / bottom 3 of its group, or, for 优秀, the top 30%."""
    out = annual.copy()
    if out.empty:
        out["non_robust"] = pd.Series(dtype="boolean")
        out["robust_note"] = pd.Series(dtype="object")
        return out
    if {"grade_robust", "place_robust"} <= set(out.columns):
        robust = out["grade_robust"].fillna(True).astype(bool) & out["place_robust"].fillna(True).astype(bool)
        flag = out["robust_flag"] if "robust_flag" in out else pd.Series("", index=out.index)
        out["non_robust"] = pd.array(~robust.to_numpy(), dtype="boolean")
        out["robust_note"] = flag.astype("string").fillna("").where(~robust, "").astype("object")
        return out
    if "ranking_group" not in out:
        out["ranking_group"] = ranking_group_of(out)
    size = out.groupby("ranking_group")["unit_id"].transform("count").astype("float64")
    best = out["rank_p05"].astype("float64")
    worst = out["rank_p95"].astype("float64")
    notes: list[list[str]] = [[] for _ in range(len(out))]
    for label, line in (("前3名", pd.Series(3.0, index=out.index)), ("后3名", size - 3.0)):
        crosses = ((best <= line) & (worst > line)).fillna(False).to_numpy()
        for k in np.flatnonzero(crosses):
            notes[k].append(f"{label}不稳健")
    excellent = (out["grade"].astype("string") == "优秀").fillna(False) if "grade" in out else pd.Series(False, index=out.index)
    outside = (worst > np.floor(0.3 * size)).fillna(False)
    for k in np.flatnonzero((excellent & outside).to_numpy()):
        notes[k].append("优秀等级不稳健（可能不在前30%）")
    out["non_robust"] = pd.array([bool(n) for n in notes], dtype="boolean")
    out["robust_note"] = ["；".join(n) for n in notes]
    return out
