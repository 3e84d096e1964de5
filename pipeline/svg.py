"""A small SVG canvas for the reports' charts: shapes and text in, one `<svg>` element out.

Why not matplotlib: a report month draws 20+ charts, and matplotlib spends ~0.2–0.4 s on each (text
layout with an 8 MB CJK font, PNG encoding) — more than the rest of a scorecard together. These
charts are bars, cells, lines and labels, which SVG states directly; the result is sharp at any
zoom and costs milliseconds.

Text is drawn as the outlines of the project's own CJK font (pipeline.fonts, Noto Sans SC), read
with fontTools: each character used is one `<path>` in the chart's `<defs>`, placed by `<use>` at
the font's advance widths. A chart therefore looks the same on any machine, with or without a
Chinese font installed, in a browser and in the PDF (SPEC: "a CJK font the project installs
itself; no missing-glyph boxes"), and label widths are measured, not guessed. Each text group
carries its string in `aria-label` (and `data-text`) for readers and tests. A character the font
lacks falls back to an SVG `<text>` for its whole string.

Everything that comes from data is escaped; nothing is fetched; glyph ids carry a per-chart prefix,
so any number of charts can share one page.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import itertools
import math
import os
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

from pipeline.config import CACHE_DIR
from pipeline.fonts import CSS_FONT_STACK, font_path

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


class Outlines:
    """The CJK font's advance widths and glyphs as SVG path data (font units, y up), loaded once per
    process; each glyph drawn once. Reading the font's character map and metrics costs about 0.3 s
    and opening its outlines about as much again, so both the metrics and every glyph drawn are
    kept in `cache_dir` (default: the project's .cache/fonts) between runs: a report run whose
    characters were all drawn before does not open the font at all."""

    def __init__(self, path, cache_dir: Path | None = None):
        self.font_file = Path(path)
        self._cache = _FontCache(self.font_file, cache_dir)
        metrics = self._cache.read("metrics")
        if metrics is None:
            metrics = _read_metrics(self.font_file)
            self._cache.write("metrics", metrics)
        self.units, self.glyph_names, self.widths = metrics
        self.paths: dict[str, str] = self._cache.read("glyphs") or {}
        self._saved = len(self.paths)
        self.lock = threading.Lock()
        self._glyph_set = None

    def has(self, text: str) -> bool:
        return all(ord(ch) in self.glyph_names for ch in text)

    def advance(self, ch: str) -> int:
        return self.widths[ord(ch)]

    def path(self, ch: str) -> str:
        with self.lock:
            if ch not in self.paths:
                from fontTools.pens.svgPathPen import SVGPathPen

                if self._glyph_set is None:
                    from fontTools.ttLib import TTFont

                    self._glyph_set = TTFont(str(self.font_file), lazy=True).getGlyphSet()
                pen = SVGPathPen(self._glyph_set)
                self._glyph_set[self.glyph_names[ord(ch)]].draw(pen)
                self.paths[ch] = pen.getCommands()
            return self.paths[ch]

    def save(self) -> None:
        """Keep the glyphs drawn since the last save, added to those kept by other processes (the
        two report kernels draw at the same time: the file is locked while it is merged)."""
        with self.lock:
            if len(self.paths) == self._saved:
                return
            with self._cache.locked() as held:
                if held:
                    self.paths = {**(self._cache.read("glyphs") or {}), **self.paths}
                    self._cache.write("glyphs", self.paths)
                    self._saved = len(self.paths)


def _read_metrics(path: Path) -> tuple[int, dict[int, str], dict[int, int]]:
    """(units per em, glyph name by code point, advance width by code point), from the font."""
    from fontTools.ttLib import TTFont

    font = TTFont(str(path), lazy=True)
    names = font.getBestCmap()
    metrics = font["hmtx"].metrics
    return font["head"].unitsPerEm, dict(names), {code: metrics[name][0] for code, name in names.items()}


class _FontCache:
    """Entries kept for one font file, named after its path, size and modification time and the
    fontTools version (a changed font or reader starts afresh). Each is written whole under a
    temporary name and moved into place, so a reader sees an old entry or a new one, never half;
    one that does not load as what was written for this font is ignored. A folder that cannot be
    written to goes without."""

    FORMAT = 1  # bump when what an entry holds changes

    def __init__(self, font: Path, cache_dir: Path | None):
        import fontTools

        stat = font.stat()
        self.key = f"{font.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{fontTools.version}|{self.FORMAT}"
        self.folder = Path(cache_dir) if cache_dir is not None else CACHE_DIR / "fonts"
        self.stem = f"{font.stem}-{hashlib.sha256(self.key.encode('utf-8')).hexdigest()[:16]}"

    def read(self, kind: str):
        import marshal

        try:
            key, payload = marshal.loads((self.folder / f"{self.stem}.{kind}").read_bytes())
        except (OSError, EOFError, ValueError, TypeError):
            return None
        return payload if key == self.key and _well_formed(kind, payload) else None

    @contextlib.contextmanager
    def locked(self, seconds: float = 10):
        """Hold the cache's lock file while inside (yields False, and nothing should be written,
        when the folder cannot hold one or another process keeps it longer than `seconds`)."""
        from filelock import FileLock, Timeout

        lock = FileLock(str(self.folder / f"{self.stem}.lock"))
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            lock.acquire(timeout=seconds)
        except (OSError, Timeout):
            lock = None
        try:
            yield lock is not None
        finally:
            if lock is not None:
                lock.release()

    def write(self, kind: str, payload) -> None:
        import marshal

        entry = self.folder / f"{self.stem}.{kind}"
        temporary = entry.with_name(f".{entry.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            temporary.write_bytes(marshal.dumps((self.key, payload)))
            os.replace(temporary, entry)
        except OSError:
            try:
                temporary.unlink(missing_ok=True)
            except OSError:  # the folder is not there to hold it
                pass


def _well_formed(kind: str, payload) -> bool:
    if kind == "metrics":
        return (isinstance(payload, tuple) and len(payload) == 3 and isinstance(payload[0], int)
                and isinstance(payload[1], dict) and isinstance(payload[2], dict))
    return isinstance(payload, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in payload.items())


@cache
def outlines() -> Outlines:
    return Outlines(font_path())


@cache
def units_per_em() -> int:
    """The font's design units per em: from the kept metrics when there (the report kernels keep
    them), else from the font's head table alone (cmap and outlines stay unread: the PDF's driver
    needs only this number)."""
    font = font_path()
    metrics = _FontCache(font, None).read("metrics")
    if metrics is not None:
        return metrics[0]
    from fontTools.ttLib import TTFont

    return TTFont(str(font), lazy=True)["head"].unitsPerEm


def text_width(text: str, size: float) -> float:
    """Width in px of `text` at font size `size`, from the font's advance widths (an estimate, one
    em for wide characters and 0.6 em for others, where the font lacks a character)."""
    text = str(text)
    font = outlines()
    if font.has(text):
        return sum(font.advance(ch) for ch in text) * size / font.units
    return sum(size if unicodedata.east_asian_width(ch) in "WF" else 0.6 * size for ch in text)


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(text: object) -> str:
    """Text as SVG (XML) may carry it: control characters, which data can hold and XML cannot,
    become nothing; tabs and line breaks a space."""
    return _CONTROL.sub("", str(text)).replace("\t", " ").replace("\r", " ").replace("\n", " ")


def fit(text: object, size: float, width: float) -> str:
    """`text` shortened with "…" to fit `width` px at `size` (a very long unit name must not push the
    plot off its chart)."""
    text = clean_text(text)
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


def _attrs(attributes: dict[str, object]) -> str:
    parts = []
    for key, value in attributes.items():
        if value is None:
            continue
        name = key.rstrip("_").replace("_", "-")
        shown = _num(value) if isinstance(value, float) else clean_text(value)
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

    _numbers = itertools.count(1)

    def __init__(self, width: float, height: float, label: str = ""):
        self.width, self.height, self.label = float(width), float(height), label
        self.parts: list[str] = []
        self.prefix = f"c{next(Canvas._numbers)}"  # glyph ids unique among the charts of a page
        self.glyphs: dict[str, str] = {}  # character -> its id in this chart's <defs>

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
        """Text whose vertical middle is at y, anchored at x (start, middle or end), optionally
        rotated about its anchor; drawn as the font's outlines (bold: outlined in its own colour)."""
        content = clean_text(content)
        base = y + size * 0.35
        turn = f"rotate({_num(rotate)} {_num(round(x, 1))} {_num(round(base, 1))})" if rotate else None
        font = outlines()
        if not content or not font.has(content):
            attrs = {"x": round(x, 1), "y": round(base, 1), "font_size": size, "text_anchor": anchor, "fill": fill,
                     "font_weight": weight, "class": cls, "transform": turn}
            self.parts.append(f"<text{_attrs(attrs)}>{html.escape(content, quote=False)}</text>")
            return
        width = text_width(content, size)
        left = x - {"start": 0.0, "middle": width / 2, "end": width}.get(anchor, 0.0)
        scale = size / font.units
        place = f"translate({_num(round(left, 2))} {_num(round(base, 2))}) scale({scale:.5f} {-scale:.5f})"
        stroke = {"stroke": fill, "stroke_width": round(0.04 * font.units, 1)} if weight else {}
        attrs = {"class": cls, "aria_label": content, "data_text": content, "fill": fill,
                 "transform": f"{turn} {place}" if turn else place, **stroke}
        uses, pen = [], 0
        for ch in content:
            if ch not in self.glyphs:
                self.glyphs[ch] = f"{self.prefix}-{len(self.glyphs)}"
            uses.append(f'<use href="#{self.glyphs[ch]}" x="{pen}"/>')
            pen += font.advance(ch)
        self.parts.append(f"<g{_attrs(attrs)}>{''.join(uses)}</g>")

    def finish(self) -> Svg:
        w, h = _num(round(self.width)), _num(round(self.height))
        head = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
                f'role="img" aria-label="{html.escape(self.label, quote=True)}" class="chart-svg" '
                f'font-family="{html.escape(CSS_FONT_STACK, quote=True)}">')
        title = f"<title>{html.escape(self.label, quote=False)}</title>" if self.label else ""
        font = outlines()
        defs = "".join(f'<path id="{ident}" d="{font.path(ch)}"/>' for ch, ident in self.glyphs.items())
        font.save()
        defs = f"<defs>{defs}</defs>" if defs else ""
        return Svg(head + title + defs + "".join(self.parts) + "</svg>", self.label)


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


_PLACE = re.compile(r"(?:rotate\((?P<turn>[-\d.]+ [-\d.]+ [-\d.]+)\) )?"
                    r"translate\((?P<x>[-\d.]+) (?P<y>[-\d.]+)\) scale\((?P<scale>[-\d.]+) [-\d.]+\)")


def outlines_to_text(root) -> None:
    """Swap every outlined text of the charts under `root` (an lxml tree) for an SVG `<text>` at the
    same place, size and colour, and drop the glyph definitions. For printing where the project's
    font is at hand (the PDF: Typst is given its folder), so the PDF's text layer holds the charts'
    labels too (searchable, and scanned for personal data like the rest)."""
    for defs in root.xpath("//svg[.//g[@data-text]]/defs"):  # the glyphs of this module's charts only
        defs.getparent().remove(defs)
    units = units_per_em()
    for group in root.xpath("//svg//g[@data-text]"):
        place = _PLACE.fullmatch(group.get("transform", ""))
        if place is None:
            continue
        attributes = {"x": place["x"], "y": place["y"], "font-size": f"{float(place['scale']) * units:.2f}",
                      "fill": group.get("fill", INK)}
        if place["turn"]:
            attributes["transform"] = f"rotate({place['turn']})"
        if group.get("stroke"):
            attributes["font-weight"] = "bold"
        if group.get("class"):
            attributes["class"] = group.get("class")
        text = group.makeelement("text", attributes)
        text.text = group.get("data-text")
        text.tail = group.tail
        group.getparent().replace(group, text)
