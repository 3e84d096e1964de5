"""The reports' charts: frames in, matplotlib Figures out, no I/O.

Figures are built with `matplotlib.figure.Figure` (not pyplot), so nothing is shown or kept
globally, and every one is set in the project's CJK font (pipeline.fonts).
Frames must already carry `name` and `ranking_group` (pipeline.report_tables.with_names).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from pipeline import fonts
from pipeline import report_tables as rt

COMPONENT_COLOURS = {"A": "#2f6fae", "B": "#e3a21a", "C": "#3c9a5f"}
ANNUAL_COLOURS = {
    "enforcement": "#2f6fae",
    "hazards": "#e3a21a",
    "accidents": "#3c9a5f",
    "key_work": "#8e5ea2",
    "bonus": "#c8553d",
}
NON_ROBUST = "#c0392b"


def _figure(width: float, height: float) -> Figure:
    fonts.setup_matplotlib()
    return Figure(figsize=(width, height), dpi=110, layout="constrained")


def _empty(message: str) -> Figure:
    fig = _figure(6, 1.2)
    ax = fig.add_subplot()
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=12)
    return fig


def _groups(frame: pd.DataFrame) -> list[str]:
    return rt.group_sequence(frame["ranking_group"])


def component_bars(monthly_scores: pd.DataFrame, period: str) -> Figure:
    """Stacked bars A + B + C per unit, one panel per ranking group, best unit on top."""
    rows = rt.ranked(monthly_scores, period)
    if rows.empty:
        return _empty(f"{rt.month_label(period)}无得分数据")
    groups = _groups(rows)
    sizes = [int((rows["ranking_group"] == g).sum()) for g in groups]
    fig = _figure(9, 1.2 + 0.32 * sum(sizes) + 0.6 * len(groups))
    axes = fig.subplots(len(groups), 1, squeeze=False, height_ratios=[max(s, 2) for s in sizes])[:, 0]
    for ax, group in zip(axes, groups):
        part = rows.loc[rows["ranking_group"] == group].iloc[::-1]
        left = np.zeros(len(part))
        for key, (label, points) in rt.COMPONENTS.items():
            values = part[key].astype("float64").fillna(0).to_numpy()
            ax.barh(part["name"], values, left=left, color=COMPONENT_COLOURS[key], label=f"{label}（{points:.0f}分）")
            left += values
        for y, total in enumerate(part["score"].astype("float64")):
            ax.text(total + 0.8, y, f"{total:.2f}", va="center", fontsize=8)
        ax.set_xlim(0, 108)
        ax.set_title(f"{group}", loc="left", fontsize=11)
        ax.grid(axis="x", alpha=0.3)
        ax.tick_params(axis="y", labelsize=9)
    axes[0].legend(loc="lower right", fontsize=8, ncols=3, bbox_to_anchor=(1, 1.02), frameon=False)
    axes[-1].set_xlabel("得分")
    fig.suptitle(f"{rt.month_label(period)} 分项得分", fontsize=13)
    return fig


def indicator_heatmap(matrix: pd.DataFrame, title: str = "单位 × 指标得分率") -> Figure:
    """Heatmap of a unit × indicator frame of achievement rates (0–1), annotated in percent;
    blank cells are items not assessed."""
    if matrix.empty:
        return _empty("无指标数据")
    values = matrix.to_numpy(dtype="float64")
    fig = _figure(max(6.0, 1.1 * matrix.shape[1] + 2.5), 1.3 + 0.32 * matrix.shape[0])
    ax = fig.add_subplot()
    image = ax.imshow(np.ma.masked_invalid(values), cmap="RdYlGn", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(matrix.shape[1]), [str(c) for c in matrix.columns], rotation=30, ha="right", fontsize=9)
    ax.set_yticks(range(matrix.shape[0]), [str(i) for i in matrix.index], fontsize=9)
    for (i, j), value in np.ndenumerate(values):
        text = "未评" if np.isnan(value) else f"{value:.0%}"
        ax.text(j, i, text, ha="center", va="center", fontsize=7, color="black")
    fig.colorbar(image, ax=ax, fraction=0.04, format=lambda v, _: f"{v:.0%}")
    ax.set_title(title, fontsize=12)
    return fig


def rank_trends(history: pd.DataFrame, title: str = "近6个月排名走势", highlight: str | None = None) -> Figure:
    """Rank by month per unit (rt.rank_history), one panel per ranking group; rank 1 at the top,
    each line labelled with the unit's name at its last point. With `highlight` (a unit_id), that
    unit's line is drawn bold and the others faded."""
    if history.empty:
        return _empty("无排名数据")
    groups = _groups(history)
    periods = sorted(history["period"].astype("str").unique())
    fig = _figure(10, 3.6 * len(groups))
    axes = fig.subplots(len(groups), 1, squeeze=False)[:, 0]
    colours = [f"C{k}" for k in range(10)]
    for ax, group in zip(axes, groups):
        part = history.loc[history["ranking_group"] == group]
        for k, (unit_id, line) in enumerate(part.groupby("unit_id", sort=True)):
            line = line.sort_values("period")
            x = [periods.index(p) for p in line["period"].astype("str")]
            style = "-" if k < 10 else "--"
            strong = highlight is None or unit_id == highlight
            colour = colours[k % 10] if highlight is None else ("#c0392b" if strong else "#9aa5b1")
            ax.plot(x, line["rank"].astype("float64"), style, marker="o", markersize=3 if strong else 2,
                    color=colour, linewidth=(2.6 if highlight else 1.4) if strong else 0.9,
                    alpha=1.0 if strong else 0.6, zorder=3 if strong else 2)
            ax.annotate(str(line["name"].iloc[-1]), (x[-1], float(line["rank"].iloc[-1])),
                        xytext=(6, 0), textcoords="offset points", va="center",
                        color=colour, fontsize=9.5 if highlight and strong else 8)
        ranks = part["rank"].dropna().astype("float64")
        top = int(ranks.max()) if len(ranks) else 1
        ax.set_ylim(top + 0.5, 0.5)
        ax.set_yticks(range(1, top + 1))
        ax.set_xticks(range(len(periods)), periods, fontsize=9)
        ax.set_xlim(-0.3, len(periods) - 1 + 1.6)
        ax.set_ylabel("名次")
        ax.set_title(group, loc="left", fontsize=11)
        ax.grid(alpha=0.3)
    fig.suptitle(title, fontsize=13)
    return fig


def annual_breakdown(annual: pd.DataFrame, year: int | str) -> Figure:
    """Stacked year-end components per unit (执法质量 30, 隐患 25, 事故 30, 重点工作 15, 加分 5), one panel
    per ranking group, units in rank order; a vetoed unit's label says 一票否决."""
    if annual.empty:
        return _empty(f"{year}年无年度考核数据")
    groups = _groups(annual)
    sizes = [int((annual["ranking_group"] == g).sum()) for g in groups]
    fig = _figure(9.5, 1.3 + 0.34 * sum(sizes) + 0.6 * len(groups))
    axes = fig.subplots(len(groups), 1, squeeze=False, height_ratios=[max(s, 2) for s in sizes])[:, 0]
    for ax, group in zip(axes, groups):
        part = annual.loc[annual["ranking_group"] == group].sort_values(["rank", "unit_id"]).iloc[::-1]
        labels = [f"{n}（一票否决）" if bool(v) else str(n) for n, v in zip(part["name"], part["veto"].fillna(False))]
        left = np.zeros(len(part))
        for key, (label, points) in rt.ANNUAL_COMPONENTS.items():
            values = part[key].astype("float64").fillna(0).to_numpy()
            ax.barh(labels, values, left=left, color=ANNUAL_COLOURS[key], label=f"{label}（{points:.0f}）")
            left += values
        for y, total in enumerate(part["total"].astype("float64")):
            ax.text(total + 0.8, y, f"{total:.2f}", va="center", fontsize=8)
        ax.set_xlim(0, 114)
        ax.set_title(group, loc="left", fontsize=11)
        ax.grid(axis="x", alpha=0.3)
        ax.tick_params(axis="y", labelsize=9)
    axes[0].legend(loc="lower right", fontsize=8, ncols=5, bbox_to_anchor=(1, 1.02), frameon=False)
    axes[-1].set_xlabel("得分")
    fig.suptitle(f"{year}年度考核 分项得分", fontsize=13)
    return fig


def robustness_intervals(annual: pd.DataFrame, year: int | str) -> Figure:
    """Each unit's rank with its 5th–95th percentile interval under perturbed weights; units whose
    place is not robust (column `non_robust`) are drawn in red."""
    if annual.empty:
        return _empty(f"{year}年无年度考核数据")
    groups = _groups(annual)
    sizes = [int((annual["ranking_group"] == g).sum()) for g in groups]
    fig = _figure(8, 1.3 + 0.32 * sum(sizes) + 0.6 * len(groups))
    axes = fig.subplots(len(groups), 1, squeeze=False, height_ratios=[max(s, 2) for s in sizes])[:, 0]
    for ax, group in zip(axes, groups):
        part = annual.loc[annual["ranking_group"] == group].sort_values(["rank", "unit_id"]).iloc[::-1]
        flagged = part["non_robust"].fillna(False).astype(bool) if "non_robust" in part else pd.Series(False, index=part.index)
        for y, (_, row) in enumerate(part.iterrows()):
            colour = NON_ROBUST if flagged.loc[row.name] else "#34495e"
            ax.hlines(y, float(row["rank_p05"]), float(row["rank_p95"]), color=colour, linewidth=3, alpha=0.6)
            ax.plot(float(row["rank"]), y, "o", color=colour, markersize=5)
        ax.set_yticks(range(len(part)), [f"{n}（不稳健）" if f else str(n) for n, f in zip(part["name"], flagged)], fontsize=9)
        ax.set_xlim(0.5, len(part) + 0.5)
        ax.set_xticks(range(1, len(part) + 1))
        ax.invert_xaxis()
        ax.set_title(group, loc="left", fontsize=11)
        ax.grid(axis="x", alpha=0.3)
    axes[-1].set_xlabel("名次（点：实际名次；线：权重扰动下5%–95%区间；红色：名次不稳健）")
    fig.suptitle(f"{year}年度 名次稳健性", fontsize=13)
    return fig
