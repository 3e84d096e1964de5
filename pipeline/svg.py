"""A small SVG canvas for the reports' charts: shapes and text in, one `<svg>` element out.

Why not matplotlib: a report month draws 20+ charts, and matplotlib spends ~0.2–0.4 s on each (text
layout with an 8 MB CJK font, PNG encoding) — more than the rest of a scorecard together. These
charts are bars, cells, lines and labels, which SVG states directly; the result is sharp at any
zoom, its text can be searched and copied, it is set in the page's own font (the CSS font stack in
browsers, the bundled Noto Sans SC in the PDF), and it costs milliseconds.

Everything that comes from data is escaped; nothing is fetched; no element ids are used, so any
number of charts can share one page.
"""

from __future__ import annotations

import html
import math
import unicodedata
from collections.abc import Iterable, Sequence

from pipeline.fonts import CSS_FONT_STACK

# matplotlib's "tab10", the line colours analysts know from Excel-like tools.
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
# ColorBrewer RdYlGn (11 classes): red = 0, green = 1.
RED_YELLOW_GREEN = ["#a50026", "#d73027", "#f46d43", "#fdae61", "#fee08b", "#ffffbf",
                    "#d9ef8b", "#a6d96a", "#66bd63", "#1a9850", "#006837"]
INK = "#1f2933"
GRID = "#d9dee4"


class Svg:
    """A finished chart: the `<svg>` markup (Jupyter displays it; `str()` returns it)."""

    def __init__(self, markup: str, title: str = ""):
        self.markup = markup
        self.title = title

    def _repr_html_(self) -> str:
        return self.markup

    def __str__(self) -> str:
        return self.markup


def text_width(text: str, size: float) -> float:
    """Estimated width in px of `text` at font size `size`: CJK and full-width characters one em,
    others about 0.6 em (close enough to size label columns; nothing is clipped if it is off)."""
    return sum(size if unicodedata.east_asian_width(ch) in "WF" else 0.6 * size for ch in str(text))


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def _attrs(attributes: dict[str, object]) -> str:
    parts = []
    for key, value in attributes.items():
        if value is None:
            continue
        name = key.rstrip("_").replace("_", "-")
        shown = _num(value) if isinstance(value, float) else str(value)
        parts.append(f'{name}="{html.escape(shown, quote=True)}"')
    return (" " + " ".join(parts)) if parts else ""


def colour_scale(value: float, colours: Sequence[str] = RED_YELLOW_GREEN) -> str:
    """The colour for `value` in [0, 1] interpolated along `colours` (clipped at the ends)."""
    value = min(max(float(value), 0.0), 1.0) * (len(colours) - 1)
    low = int(value)
    high = min(low + 1, len(colours) - 1)
    share = value - low
    a = [int(colours[low][k:k + 2], 16) for k in (1, 3, 5)]
    b = [int(colours[high][k:k + 2], 16) for k in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * share):02x}" for x, y in zip(a, b))


def ink_on(fill: str) -> str:
    """Black or white text, whichever reads better on `fill`."""
    r, g, b = (int(fill[k:k + 2], 16) for k in (1, 3, 5))
    return "#ffffff" if 0.299 * r + 0.587 * g + 0.114 * b < 110 else INK


class Canvas:
    """Collects shapes in px; `finish()` wraps them in an `<svg>` sized width × height that scales
    down with its container (viewBox, max-width 100%)."""

    def __init__(self, width: float, height: float, label: str = ""):
        self.width, self.height, self.label = float(width), float(height), label
        self.parts: list[str] = []

    def group(self, cls: str, **data: str) -> None:
        """Open a `<g class=…>` (closed by `end()`); data-* attributes help tests and readers."""
        self.parts.append(f"<g{_attrs({'class': cls, **{f'data_{k}': v for k, v in data.items()}})}>")

    def end(self) -> None:
        self.parts.append("</g>")

    def rect(self, x: float, y: float, width: float, height: float, fill: str, **attrs) -> None:
        self.parts.append(f"<rect{_attrs({'x': x, 'y': y, 'width': max(width, 0.0), 'height': max(height, 0.0), 'fill': fill, **attrs})}/>")

    def line(self, x1: float, y1: float, x2: float, y2: float, stroke: str = GRID, width: float = 1.0, **attrs) -> None:
        self.parts.append(f"<line{_attrs({'x1': x1, 'y1': y1, 'x2': x2, 'y2': y2, 'stroke': stroke, 'stroke_width': width, **attrs})}/>")

    def polyline(self, points: Iterable[tuple[float, float]], stroke: str, width: float = 1.5, **attrs) -> None:
        path = " ".join(f"{_num(round(x, 1))},{_num(round(y, 1))}" for x, y in points)
        self.parts.append(f"<polyline{_attrs({'points': path, 'fill': 'none', 'stroke': stroke, 'stroke_width': width, **attrs})}/>")

    def circle(self, x: float, y: float, r: float, fill: str, **attrs) -> None:
        self.parts.append(f"<circle{_attrs({'cx': x, 'cy': y, 'r': r, 'fill': fill, **attrs})}/>")

    def text(self, x: float, y: float, content: object, size: float = 12, anchor: str = "start",
             fill: str = INK, weight: str | None = None, cls: str | None = None, rotate: float | None = None) -> None:
        """Text whose vertical middle is at y (dominant-baseline is not honoured everywhere, so the
        baseline is placed a third of the size below y)."""
        base = y + size * 0.35
        transform = f"rotate({_num(rotate)} {_num(round(x, 1))} {_num(round(base, 1))})" if rotate else None
        attrs = {"x": round(x, 1), "y": round(base, 1), "font_size": size, "text_anchor": anchor, "fill": fill,
                 "font_weight": weight, "class": cls, "transform": transform}
        self.parts.append(f"<text{_attrs(attrs)}>{html.escape(str(content), quote=False)}</text>")

    def finish(self) -> Svg:
        w, h = _num(round(self.width)), _num(round(self.height))
        head = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
                f'role="img" aria-label="{html.escape(self.label, quote=True)}" class="chart-svg" '
                f'font-family="{html.escape(CSS_FONT_STACK, quote=True)}">')
        title = f"<title>{html.escape(self.label, quote=False)}</title>" if self.label else ""
        return Svg(head + title + "".join(self.parts) + "</svg>", self.label)


def ticks(low: float, high: float, count: int = 6) -> list[float]:
    """Round tick values covering [low, high] (steps of 1, 2, 2.5 or 5 × 10^k)."""
    span = max(high - low, 1e-9)
    raw = span / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = int(low / step) * step
    values, value = [], first
    while value <= high + 1e-9:
        if value >= low - 1e-9:
            values.append(round(value, 10))
        value += step
    return values
