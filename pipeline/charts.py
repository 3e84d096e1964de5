"""The reports' charts: frames in, SVG out (pipeline.svg), no I/O.

Each chart is one `<svg>` with a title, a legend where colours mean something, and one panel per
ranking group (属地单位 / 成员单位) where units are compared. Text is set in the page's font.
Frames must already carry `name` and `ranking_group` (pipeline.report_tables.with_names).
Panels are `<g class="panel" data-group=…>`; unit labels are `<text class="label">` top to bottom.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from pipeline import report_tables as rt
from pipeline.svg import GRID, INK, PALETTE, Canvas, Svg, colour_scale, fit, ink_on, text_width, ticks

COMPONENT_COLOURS = {"A": "#2f6fae", "B": "#e3a21a", "C": "#3c9a5f"}
ANNUAL_COLOURS = {
    "enforcement": "#2f6fae",
    "hazards": "#e3a21a",
    "accidents": "#3c9a5f",
    "key_work": "#8e5ea2",
    "bonus": "#c8553d",
}
NON_ROBUST = "#c0392b"
STEADY = "#34495e"
HIGHLIGHT = "#c0392b"
FADED = "#9aa5b1"

WIDTH = 900
MARGIN = 16
TITLE_SIZE = 16
LABEL_SIZE = 12
SMALL = 11
ROW = 24  # px per unit row in bar and interval panels


def _empty(message: str) -> Svg:
    canvas = Canvas(WIDTH * 0.7, 60, message)
    canvas.text(WIDTH * 0.35, 30, message, size=14, anchor="middle", cls="message")
    return canvas.finish()


def _groups(frame: pd.DataFrame) -> list[str]:
    return rt.group_sequence(frame["ranking_group"])


def _title(canvas: Canvas, title: str) -> float:
    canvas.text(canvas.width / 2, MARGIN + TITLE_SIZE / 2, title, size=TITLE_SIZE, anchor="middle", weight="600", cls="title")
    return MARGIN + TITLE_SIZE + 10


def _legend(canvas: Canvas, y: float, entries: Sequence[tuple[str, str]], right: float) -> None:
    """Colour swatches and labels, right-aligned at `right`, on one line at height y."""
    widths = [14 + 4 + text_width(label, SMALL) + 14 for _, label in entries]
    x = right - sum(widths)
    canvas.group("legend")
    for (colour, label), width in zip(entries, widths):
        canvas.rect(x, y - 6, 14, 12, colour)
        canvas.text(x + 18, y, label, size=SMALL)
        x += width
    canvas.end()


LONGEST_LABEL = WIDTH * 0.3  # a longer name is shortened with "…" (svg.fit)


def _label_width(labels: Sequence[str], size: float = LABEL_SIZE) -> float:
    return min(max((text_width(label, size) for label in labels), default=0.0), LONGEST_LABEL) + 10


def _x_axis(canvas: Canvas, left: float, right: float, top: float, bottom: float, low: float, high: float,
            values: Sequence[float], labels: bool, caption: str = "") -> None:
    scale = (right - left) / (high - low)
    for value in values:
        x = left + (value - low) * scale
        canvas.line(x, top, x, bottom, GRID)
        if labels:
            canvas.text(x, bottom + 10, f"{value:g}", size=SMALL, anchor="middle", fill="#52606d")
    if labels and caption:
        canvas.text((left + right) / 2, bottom + 28, caption, size=SMALL, anchor="middle", fill="#52606d")


def stacked_bars(frame: pd.DataFrame, components: dict[str, tuple[str, float]], colours: dict[str, str],
                 total: str, labels: pd.Series, limit: float, title: str) -> Svg:
    """Horizontal bars stacked from `components` (key -> (label, points)) per unit, one panel per
    ranking group in `frame` (rows already in display order within each group, top first); the
    total printed at each bar's end."""
    groups = _groups(frame)
    label_width = _label_width(list(labels.astype("str")))
    left, right = MARGIN + label_width, WIDTH - MARGIN - 48
    panel_heads = 26
    height = MARGIN + TITLE_SIZE + 10 + 22 + sum(panel_heads + ROW * int((frame["ranking_group"] == g).sum()) + 12
                                                 for g in groups) + 40
    canvas = Canvas(WIDTH, height, title)
    y = _title(canvas, title)
    _legend(canvas, y + 4, [(colours[key], f"{label}（{points:g}分）") for key, (label, points) in components.items()], right)
    y += 22
    scale = (right - left) / limit
    grid = [v for v in ticks(0, limit - limit % 10, 6) if v <= limit]
    for number, group in enumerate(groups, 1):
        part = frame.loc[frame["ranking_group"] == group]
        canvas.group("panel", group=group)
        canvas.text(MARGIN, y + 10, group, size=13, weight="600", fill="#1f5f99", cls="group")
        top = y + panel_heads
        bottom = top + ROW * len(part)
        _x_axis(canvas, left, right, top, bottom, 0, limit, grid, labels=number == len(groups), caption="得分")
        for k, (index, row) in enumerate(part.iterrows()):
            middle = top + ROW * k + ROW / 2
            canvas.text(left - 6, middle, fit(labels.loc[index], LABEL_SIZE, LONGEST_LABEL), size=LABEL_SIZE,
                        anchor="end", cls="label")
            start = left
            for key in components:
                value = float(row[key]) if pd.notna(row[key]) else 0.0
                canvas.rect(start, middle - 8, max(value, 0.0) * scale, 16, colours[key])
                start += max(value, 0.0) * scale
            points = float(row[total]) if pd.notna(row[total]) else math.nan
            if not math.isnan(points):
                canvas.text(start + 4, middle, f"{points:.2f}", size=SMALL, cls="value")
        canvas.line(left, top, left, bottom, INK)
        canvas.end()
        y = bottom + 12 + (28 if number == len(groups) else 0)
    return canvas.finish()


def component_bars(monthly_scores: pd.DataFrame, period: str) -> Svg:
    """Stacked bars A + B + C per unit, one panel per ranking group, best unit on top."""
    rows = rt.ranked(monthly_scores, period)
    if rows.empty:
        return _empty(f"{rt.month_label(period)}无得分数据")
    return stacked_bars(rows, rt.COMPONENTS, COMPONENT_COLOURS, "score", rows["name"].astype("str"), 100, f"{rt.month_label(period)} 分项得分")


def annual_breakdown(annual: pd.DataFrame, year: int | str) -> Svg:
    """Stacked year-end components per unit (执法质量 30, 隐患 25, 事故 30, 重点工作 15, 加分 5), one panel
    per ranking group, units in rank order; a vetoed unit's label says 一票否决."""
    if annual.empty:
        return _empty(f"{year}年无年度考核数据")
    rows = annual.sort_values(["rank", "unit_id"], na_position="last")
    labels = pd.Series([f"{n}（一票否决）" if bool(v) else str(n) for n, v in zip(rows["name"], rows["veto"].fillna(False))],
                       index=rows.index)
    return stacked_bars(rows, rt.ANNUAL_COMPONENTS, ANNUAL_COLOURS, "total", labels, 105,
                        f"{year}年度考核 分项得分")


def indicator_heatmap(matrix: pd.DataFrame, title: str = "单位 × 指标得分率") -> Svg:
    """Heatmap of a unit × indicator frame of achievement rates (0–1), annotated in percent;
    blank cells are items not assessed (未评)."""
    if matrix.empty:
        return _empty("无指标数据")
    rows = [str(i) for i in matrix.index]
    columns = [str(c) for c in matrix.columns]
    label_width = _label_width(rows, SMALL)
    cell_w = max(54.0, min(90.0, (WIDTH - 2 * MARGIN - label_width - 90) / max(len(columns), 1)))
    cell_h = 20.0
    head = max(text_width(c, SMALL) for c in columns) * 0.6 + 16  # labels rotated by -35°
    width = MARGIN * 2 + label_width + cell_w * len(columns) + 90
    height = MARGIN + TITLE_SIZE + 10 + head + cell_h * len(rows) + MARGIN
    canvas = Canvas(width, height, title)
    top = _title(canvas, title) + head
    left = MARGIN + label_width
    canvas.group("columns")
    for j, name in enumerate(columns):
        canvas.text(left + cell_w * (j + 0.5), top - 8, name, size=SMALL, rotate=-35, cls="column")
    canvas.end()
    values = matrix.to_numpy(dtype="float64")
    canvas.group("cells")
    for i, name in enumerate(rows):
        y = top + cell_h * i
        canvas.text(left - 6, y + cell_h / 2, fit(name, SMALL, LONGEST_LABEL), size=SMALL, anchor="end", cls="label")
        for j in range(len(columns)):
            value = values[i, j]
            fill = "#eeeeee" if np.isnan(value) else colour_scale(value)
            canvas.rect(left + cell_w * j, y, cell_w - 1, cell_h - 1, fill)
            text = "未评" if np.isnan(value) else f"{value:.0%}"
            canvas.text(left + cell_w * (j + 0.5), y + cell_h / 2, text, size=10, anchor="middle",
                        fill="#777777" if np.isnan(value) else ink_on(fill))
    canvas.end()
    # The colour key: 20 steps from 0 % (red) to 100 % (green), top = 100 %.
    key_x, key_h = left + cell_w * len(columns) + 18, min(cell_h * len(rows), 220)
    canvas.group("key")
    for step in range(20):
        canvas.rect(key_x, top + key_h * step / 20, 12, key_h / 20 + 0.5, colour_scale(1 - (step + 0.5) / 20))
    for share in (0, 0.5, 1):
        canvas.text(key_x + 16, top + key_h * (1 - share), f"{share:.0%}", size=10)
    canvas.end()
    return canvas.finish()


def rank_trends(history: pd.DataFrame, title: str = "近6个月排名走势", highlight: str | None = None) -> Svg:
    """Rank by month per unit (rt.rank_history), one panel per ranking group; rank 1 at the top,
    each line labelled with the unit's name at its last point. With `highlight` (a unit_id), that
    unit's line is drawn bold in red and the others faded."""
    if history.empty:
        return _empty("无排名数据")
    groups = _groups(history)
    periods = sorted(history["period"].astype("str").unique())
    names = history["name"].astype("str")
    right_labels = _label_width(list(names), SMALL)
    left, right = MARGIN + 40, WIDTH - MARGIN - right_labels
    step_x = (right - left) / max(len(periods) - 1, 1)
    panels = []
    for group in groups:
        ranks = history.loc[history["ranking_group"] == group, "rank"].dropna().astype("float64")
        panels.append((group, int(ranks.max()) if len(ranks) else 1))
    height = MARGIN + TITLE_SIZE + 10 + sum(26 + max(top, 4) * 22 + 30 for _, top in panels) + 10
    canvas = Canvas(WIDTH, height, title)
    y = _title(canvas, title)
    for group, lowest in panels:
        part = history.loc[history["ranking_group"] == group]
        canvas.group("panel", group=group)
        canvas.text(MARGIN, y + 10, group, size=13, weight="600", fill="#1f5f99", cls="group")
        top = y + 26 + 8
        pitch = max(lowest, 4) * 22 / max(lowest, 1)
        bottom = top + pitch * (lowest - 1)

        def place(rank: float) -> float:
            return top + pitch * (rank - 1)

        for rank in range(1, lowest + 1):
            canvas.line(left, place(rank), right, place(rank), GRID)
            canvas.text(left - 8, place(rank), rank, size=SMALL, anchor="end", fill="#52606d")
        for k, period in enumerate(periods):
            canvas.line(left + k * step_x, top - 6, left + k * step_x, bottom + 6, GRID)
            canvas.text(left + k * step_x, bottom + 18, period, size=SMALL, anchor="middle", fill="#52606d")
        canvas.text(MARGIN, (top + bottom) / 2, "名次", size=SMALL, fill="#52606d", rotate=-90)
        part = part.dropna(subset=["rank"]).sort_values(["unit_id", "period"])
        ids = part["unit_id"].astype("str").to_numpy()
        months = part["period"].astype("str").to_numpy()
        ranks = part["rank"].astype("float64").to_numpy()
        labels = part["name"].astype("str").to_numpy()
        units = sorted(set(ids))
        for k, unit_id in sorted(enumerate(units), key=lambda item: item[1] == highlight):  # highlight drawn last, on top
            rows = np.flatnonzero(ids == unit_id)
            strong = highlight is None or unit_id == highlight
            colour = PALETTE[k % 10] if highlight is None else (HIGHLIGHT if strong else FADED)
            points = [(left + periods.index(months[i]) * step_x, place(ranks[i])) for i in rows]
            dash = "5 3" if k >= 10 and highlight is None else None
            canvas.group("series", unit=unit_id)
            canvas.polyline(points, colour, width=(2.6 if highlight else 1.6) if strong else 1.0,
                            stroke_dasharray=dash, opacity=None if strong else 0.7)
            for x, y_point in points:
                canvas.circle(x, y_point, 3.2 if strong else 2.2, colour)
            canvas.text(points[-1][0] + 8, points[-1][1], fit(labels[rows[-1]], SMALL, LONGEST_LABEL),
                        size=12 if highlight and strong else SMALL,
                        fill=colour, weight="600" if highlight and strong else None, cls="label")
            canvas.end()
        canvas.end()
        y = bottom + 30 + 10
    return canvas.finish()


def robustness_intervals(annual: pd.DataFrame, year: int | str) -> Svg:
    """Each unit's rank with its 5th–95th percentile interval under perturbed weights, one panel per
    ranking group, units in rank order and rank 1 on the left; units whose place is not robust
    (column `non_robust`) are drawn in red."""
    if annual.empty:
        return _empty(f"{year}年无年度考核数据")
    groups = _groups(annual)
    flagged_all = annual["non_robust"].fillna(False).astype(bool) if "non_robust" in annual else pd.Series(False, index=annual.index)
    labels = pd.Series([f"{n}（不稳健）" if f else str(n) for n, f in zip(annual["name"], flagged_all)], index=annual.index)
    label_width = _label_width(list(labels))
    left, right = MARGIN + label_width + 10, WIDTH - MARGIN - 20
    title = f"{year}年度 名次稳健性"
    height = MARGIN + TITLE_SIZE + 10 + sum(26 + ROW * int((annual["ranking_group"] == g).sum()) + 30 for g in groups) + 40
    canvas = Canvas(WIDTH, height, title)
    y = _title(canvas, title)
    for group in groups:
        part = annual.loc[annual["ranking_group"] == group].sort_values(["rank", "unit_id"])
        size = len(part)
        canvas.group("panel", group=group)
        canvas.text(MARGIN, y + 10, group, size=13, weight="600", fill="#1f5f99", cls="group")
        top = y + 26
        bottom = top + ROW * size
        scale = (right - left) / max(size, 1)

        def place(rank: float) -> float:
            return left + (rank - 0.5) * scale

        for rank in range(1, size + 1):
            canvas.line(place(rank), top, place(rank), bottom, GRID)
            canvas.text(place(rank), bottom + 10, rank, size=SMALL, anchor="middle", fill="#52606d")
        for k, (index, row) in enumerate(part.iterrows()):
            middle = top + ROW * k + ROW / 2
            colour = NON_ROBUST if flagged_all.loc[index] else STEADY
            canvas.text(left - 8, middle, fit(labels.loc[index], LABEL_SIZE, LONGEST_LABEL), size=LABEL_SIZE, anchor="end",
                        fill=NON_ROBUST if flagged_all.loc[index] else INK, cls="label")
            if pd.notna(row["rank_p05"]) and pd.notna(row["rank_p95"]):
                canvas.line(place(float(row["rank_p05"])), middle, place(float(row["rank_p95"])), middle, colour, 4,
                            opacity=0.6, stroke_linecap="round")
            if pd.notna(row["rank"]):
                canvas.circle(place(float(row["rank"])), middle, 4.5, colour)
        canvas.end()
        y = bottom + 30
    canvas.text(WIDTH / 2, y + 6, "名次（点：实际名次；线：权重扰动下5%–95%区间；红色：名次不稳健）", size=SMALL,
                anchor="middle", fill="#52606d")
    return canvas.finish()
