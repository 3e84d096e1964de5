"""The circular as an A4 PDF, typeset by Typst in the project's CJK font.

The PDF is the rendered HTML page's content, printed: screen-only blocks (long lists that stay in
the HTML and the Excel attachment) are left out, `print-only` notes are kept, and the rest is read
into plain data (`blocks`: headings, paragraphs, tables, charts, lists, boxes) that a fixed Typst
layout (`print.typ`) sets on A4 pages. Text travels as JSON strings and is shown as text, never
parsed as Typst markup or HTML, so no character in a name can change the layout.

Why Typst and not an HTML-to-PDF engine: WeasyPrint took about 3.7 s for a 7-page circular (its CSS
cascade, table layout and SVG drawing in Python), on the critical path of every `make report`;
Typst (a compiled typesetter shipped as a PyPI wheel, fonts given by path, nothing installed
system-wide) sets the same content in about 0.1 s. The price: the print layout is this module and
print.typ, not the page's CSS — an element the reader does not know is printed as its text.

Charts are printed from their SVG, with the outlined text swapped back to text
(`svg.outlines_to_text`), so the PDF's text layer includes the charts' labels.
"""

from __future__ import annotations

import base64
import copy
import html
import json
import re
import threading
from pathlib import Path

from pipeline import fonts
from pipeline.svg import outlines_to_text

TEMPLATE = Path(__file__).resolve().parent / "print.typ"
# Elements whose content is never shown, and interactive or navigation bits of the page.
_SKIPPED = {"head", "script", "style", "template", "title", "noscript", "button", "input", "select", "colgroup"}
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 3, "h5": 3, "h6": 3}
_BLOCKS = {"p", "div", "section", "article", "main", "header", "footer", "figure", "figcaption", "table",
           "ul", "ol", "li", "pre", "blockquote", "details", "summary", "svg", "hr", "dl", "dt", "dd", "caption",
           "nav", "aside", "address", *_HEADINGS}
_BOLD, _ITALIC, _CODE = {"strong", "b", "th"}, {"em", "i"}, {"code", "kbd", "samp", "tt"}
_PAR_CLASSES = ("report-issuer", "note")  # styled in print.typ; others print as plain paragraphs
_BOX_CLASSES = ("summary",)
# lxml's HTML parser lowercases names; SVG needs these spelled as SVG spells them.
_SVG_CAMEL = {name.lower(): name for name in (
    "viewBox", "preserveAspectRatio", "textLength", "lengthAdjust", "gradientTransform", "gradientUnits",
    "patternUnits", "patternTransform", "patternContentUnits", "markerWidth", "markerHeight", "markerUnits",
    "refX", "refY", "clipPathUnits", "maskUnits", "maskContentUnits", "filterUnits", "primitiveUnits",
    "stdDeviation", "pathLength", "startOffset", "spreadMethod", "baseFrequency", "numOctaves",
    "kernelMatrix", "surfaceScale", "specularExponent", "stitchTiles", "tableValues", "xChannelSelector",
    "yChannelSelector", "attributeName", "repeatCount", "keyTimes", "keySplines", "calcMode")}
_SVG_ELEMENTS = {name.lower(): name for name in (
    "linearGradient", "radialGradient", "clipPath", "textPath", "foreignObject", "feGaussianBlur",
    "feOffset", "feBlend", "feColorMatrix", "feComposite", "feFlood", "feMerge", "feMergeNode",
    "feMorphology", "feTurbulence", "feDropShadow", "feImage", "feTile", "animateTransform")}
_SVG_NS = "http://www.w3.org/2000/svg"
_SPACE = re.compile(r"[ \t\n\r\f]+")  # HTML white space; no-break and ideographic spaces stay
_BREAK = "\x00"  # a <br> while runs are gathered (never in the text: see _XML_INVALID)
# Characters XML (and so lxml) refuses; never visible on the page either.
_XML_INVALID = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_LONG_RUN = re.compile(r"[!-~]{30,}")  # a Latin run this long (a path, a checksum) may need breaking
_MAX_COLSPAN = 100

_COMPILER: list = []
_COMPILER_LOCK = threading.Lock()


class PdfError(RuntimeError):
    """The page could not be printed (a message the report driver prints as it is)."""


def pdf_bytes(page: str) -> bytes:
    """A rendered report page as an A4 PDF, text set in the project's CJK font, long screen-only
    lists left out."""
    import typst

    try:
        title, content = document(page)
    except Exception as error:  # a page lxml or the block reader cannot take: say so, as the PDF's
        raise PdfError(f"PDF 排版失败，页面无法读取(the page could not be read for the PDF): "
                       f"{type(error).__name__}: {error}") from None
    data = json.dumps({"title": title, "font": fonts.FONT_FAMILY, "blocks": content}, ensure_ascii=False)
    with _COMPILER_LOCK:
        compiler = _compiler()
    try:
        return compiler.compile(sys_inputs={"blocks": data})
    except typst.TypstError as error:
        raise PdfError(f"PDF 排版失败(Typst could not set the PDF): {error.message}") from None


def _compiler():
    """One Typst compiler per process, with the template and the fonts loaded once (call with the
    lock). The project's font comes first by name (print.typ); the system's fonts stay as
    fallbacks for a character it lacks (a rare character in a name), as a browser would use them."""
    if not _COMPILER:
        import typst

        _COMPILER.append(typst.Compiler(TEMPLATE, root=TEMPLATE.parent, font_paths=[str(fonts.font_path().parent)]))
    return _COMPILER[0]


def warm() -> None:
    """Load Typst, the template and the fonts now, ahead of the first PDF (a one-line page)."""
    pdf_bytes("<html><body><p>预热</p></body></html>")


def blocks(page: str) -> list[dict]:
    """The page's printed content as blocks (see print.typ for how each kind is set):
    heading {level, class, runs}, par {class, runs}, table {class, columns, header_rows, cells},
    figure {svg, label}, list {ordered, items}, box {class, blocks}. A run is {t, b, i, code, sup, sub}."""
    return document(page)[1]


def document(page: str) -> tuple[str, list[dict]]:
    """(the page's title, its blocks)."""
    import lxml.html

    tree = lxml.html.document_fromstring(_XML_INVALID.sub("", page) or "<html></html>")
    for element in tree.xpath('//*[contains(concat(" ", normalize-space(@class), " "), " screen-only ")]'
                              ' | //a[contains(concat(" ", normalize-space(@class), " "), " anchor-link ")]'):
        if element.getparent() is None:  # the whole page is screen-only
            return "", []
        element.drop_tree()  # keeps the element's tail text
    outlines_to_text(tree)
    title = _SPACE.sub(" ", tree.findtext("head/title") or "").strip()
    body = tree.find("body")
    return title, _children(body if body is not None else tree, "")


def _classes(element) -> set[str]:
    return set((element.get("class") or "").split())


def _children(element, context: str) -> list[dict]:
    """Blocks of an element's content: its block children in order, with the inline content
    between them gathered into paragraphs. `context`: a box class the paragraphs take ("summary")."""
    out: list[dict] = []
    pending: list[dict] = []

    def flush() -> None:
        runs = _tidy(pending)
        if runs:
            out.append({"kind": "par", "class": context, "runs": runs})
        pending.clear()

    if element.text:
        pending.append(_run(element.text))
    for child in element:
        if not isinstance(child.tag, str) or child.tag in _SKIPPED:
            pass
        elif child.tag in _BLOCKS:
            flush()
            out.extend(_block(child, context))
        elif child.tag == "img" and (figure := _image(child)) is not None:
            flush()
            out.append(figure)
        else:
            pending.extend(_inline(child, {}))
        if child.tail:
            pending.append(_run(child.tail))
    flush()
    return out


def _block(element, context: str) -> list[dict]:
    tag, classes = element.tag, _classes(element)
    if tag in _HEADINGS:
        runs = _tidy(_inline_content(element))
        klass = "report-title" if "report-title" in classes else ""
        return [{"kind": "heading", "level": _HEADINGS[tag], "class": klass, "runs": runs}] if runs else []
    if tag in ("p", "dt", "dd", "summary", "figcaption", "caption"):
        runs = _tidy(_inline_content(element))
        klass = next((c for c in _PAR_CLASSES if c in classes), "note" if tag in ("figcaption", "caption") else context)
        return [{"kind": "par", "class": klass, "runs": runs}] if runs else []
    if tag == "table":
        caption = [b for c in element if isinstance(c.tag, str) and c.tag == "caption" for b in _block(c, context)]
        return caption + _table(element)
    if tag == "svg":
        return [_figure(element)]
    if tag in ("ul", "ol"):
        items = [_tidy(_inline_content(li)) for li in element if isinstance(li.tag, str)]
        items = [item for item in items if item]
        stray = _tidy([_run(element.text or "")] + [_run(li.tail or "") for li in element])
        return ([{"kind": "list", "ordered": tag == "ol", "items": items}] if items else []) + \
            ([{"kind": "par", "class": context, "runs": stray}] if stray else [])
    if tag == "pre":
        text = element.text_content().strip("\n")
        return [{"kind": "par", "class": "", "runs": [{"t": text, "code": True}]}] if text.strip() else []
    if tag == "hr":
        return []
    box = next((c for c in _BOX_CLASSES if c in classes), None)
    if box:
        inner = _children(element, box)
        return [{"kind": "box", "class": box, "blocks": inner}] if inner else []
    return _children(element, context)


def _table(table) -> list[dict]:
    """Every cell at its place in the grid (x: column, y: row), as a browser places it: rows in
    the order thead, tbody and bare rows, tfoot; a cell skips the places spans from above hold; a
    colspan that would run into such a place stops before it; a rowspan ends with its section (the
    header) or the table. `column` is the cell's position in its row (what CSS nth-child counts)."""
    head = table.xpath("./thead/tr")
    rows = head + table.xpath("./tbody/tr | ./tr") + table.xpath("./tfoot/tr")
    header_rows = len(head)
    cells, occupied = [], set()
    for r, row in enumerate(rows):
        column = 0
        for position, cell in enumerate(c for c in row if isinstance(c.tag, str) and c.tag in ("td", "th")):
            while (r, column) in occupied:
                column += 1
            colspan, rowspan = min(_span(cell.get("colspan")), _MAX_COLSPAN), _span(cell.get("rowspan"))
            rowspan = min(rowspan, (header_rows if r < header_rows else len(rows)) - r)
            width = 1
            while width < colspan and (r, column + width) not in occupied:
                width += 1
            occupied.update((r + dr, column + dc) for dr in range(rowspan) for dc in range(width))
            cells.append({"runs": _tidy(_inline_content(cell)), "header": cell.tag == "th", "x": column, "y": r,
                          "colspan": width, "rowspan": rowspan, "column": position,
                          "highlight": "highlight" in _classes(row)})
            column += width
    if not cells:
        return []
    klass = "ranking" if "ranking" in _classes(table) else ""
    return [{"kind": "table", "class": klass, "columns": 1 + max(c for _, c in occupied),
             "header_rows": header_rows, "cells": cells}]


def _span(value: str | None) -> int:
    """A colspan/rowspan as a browser reads it: the number's integer part, at least 1."""
    match = re.match(r"\s*(\d+)", value or "")
    return max(1, int(match.group(1))) if match else 1


def _figure(svg) -> dict:
    """A chart as standalone SVG markup, element and attribute names as SVG spells them."""
    from lxml import etree

    svg = copy.deepcopy(svg)  # safe to rename in
    for element in svg.iter():
        if not isinstance(element.tag, str):
            continue
        if "}" not in element.tag and element.tag in _SVG_ELEMENTS:
            element.tag = _SVG_ELEMENTS[element.tag]
        for name in [n for n in element.attrib if n in _SVG_CAMEL]:
            element.attrib[_SVG_CAMEL[name]] = element.attrib.pop(name)
        for name in [n for n in element.attrib if n.startswith("xlink:")]:  # SVG 2 reads plain href
            value = element.attrib.pop(name)
            if element.get(name[6:]) is None:
                element.set(name[6:], value)
    svg.set("xmlns", _SVG_NS)
    markup = etree.tostring(svg, encoding="unicode")
    try:
        etree.fromstring(markup)
    except etree.XMLSyntaxError:  # not a drawing Typst could read: its description instead
        label = svg.get("aria-label") or svg.findtext("title") or ""
        return {"kind": "par", "class": "note", "runs": [{"t": f"［图：{label}］" if label else "［图］"}]}
    return {"kind": "figure", "svg": markup, "label": svg.get("aria-label") or ""}


def _image(img) -> dict | None:
    """An embedded PNG/JPEG/GIF/SVG image (a data: URI, as a notebook's own figure) as a figure:
    wrapped in an SVG that holds it. None for any other image (nothing is fetched)."""
    src = (img.get("src") or "").strip()
    match = re.match(r"data:image/(png|jpeg|gif|svg\+xml)(;base64)?,", src)
    if match is None:
        return None
    width, height = (_pixels(img.get(name)) for name in ("width", "height"))
    if not (width and height) and match.group(1) == "png" and match.group(2):
        width, height = _png_size(src[match.end():])
    if not (width and height):
        width, height = 600, 400
    wrapper = (f'<svg xmlns="{_SVG_NS}" viewBox="0 0 {width} {height}" width="{width}" height="{height}">'
               f'<image href="{html.escape(src, quote=True)}" width="{width}" height="{height}"/></svg>')
    return {"kind": "figure", "svg": wrapper, "label": img.get("alt") or ""}


def _pixels(value: str | None) -> int | None:
    match = re.fullmatch(r"\s*(\d+)(?:px)?\s*", value or "")
    return int(match.group(1)) if match and int(match.group(1)) > 0 else None


def _png_size(data: str) -> tuple[int | None, int | None]:
    try:
        head = base64.b64decode(data[:48] + "=" * (-len(data[:48]) % 4))
    except ValueError:
        return None, None
    if head[:8] != b"\x89PNG\r\n\x1a\n" or len(head) < 24:
        return None, None
    return int.from_bytes(head[16:20], "big") or None, int.from_bytes(head[20:24], "big") or None


def _run(text: str, style: dict | None = None) -> dict:
    return {"t": text, **(style or {})}


def _inline_content(element, style: dict | None = None) -> list[dict]:
    """Runs of an element's whole content (its own text, children and their tails; not its tail)."""
    style = style or {}
    runs = [_run(element.text, style)] if element.text else []
    for child in element:
        runs.extend(_inline(child, style))
        if child.tail:
            runs.append(_run(child.tail, style))
    return runs


def _inline(element, style: dict) -> list[dict]:
    """Runs of an element inside a paragraph or a cell (without its tail). Blocks met there (two
    paragraphs in a cell, a nested list or table) start on a line of their own."""
    tag = element.tag
    if not isinstance(tag, str) or tag in _SKIPPED or tag == "svg":
        return []
    if tag == "br":
        return [_run(_BREAK)]
    if tag == "img":
        return [_run(element.get("alt") or "", style)]
    style = dict(style)
    for flag, tags in (("b", _BOLD), ("i", _ITALIC), ("code", _CODE), ("sup", {"sup"}), ("sub", {"sub"})):
        if tag in tags:
            style[flag] = True
    runs = _inline_content(element, style)
    if tag in _BLOCKS or tag == "tr":
        runs = [_run(_BREAK), *runs, _run(_BREAK)]
    elif tag in ("td", "th"):
        runs = [*runs, _run(" ")]
    return runs


def _tidy(runs: list[dict]) -> list[dict]:
    """White space as HTML shows it: each run of it one space, also across a change of style;
    none at the ends or around a line break; neighbouring runs of one style merged; a long Latin
    run (a path, a checksum) given places to break. Nothing when nothing would show."""
    merged: list[dict] = []
    for run in runs:
        text = _SPACE.sub(" ", run["t"])
        style = {k: v for k, v in run.items() if k != "t"}
        if merged and {k: v for k, v in merged[-1].items() if k != "t"} == style:
            merged[-1]["t"] += text
        else:
            merged.append({"t": text, **style})
    for before, after in zip(merged, merged[1:]):
        if before["t"].endswith((" ", _BREAK)) and after["t"].startswith(" "):
            after["t"] = after["t"][1:]
        elif before["t"].endswith(" ") and after["t"].startswith(_BREAK):
            before["t"] = before["t"][:-1]
    if not any(run["t"].replace(_BREAK, "").strip(" ") for run in merged):
        return []
    # The ends: spaces and line breaks before the first and after the last visible character go.
    while merged and not merged[0]["t"].strip(" " + _BREAK):
        merged.pop(0)
    while merged and not merged[-1]["t"].strip(" " + _BREAK):
        merged.pop()
    merged[0]["t"] = merged[0]["t"].lstrip(" " + _BREAK)
    merged[-1]["t"] = merged[-1]["t"].rstrip(" " + _BREAK)
    for run in merged:
        run["t"] = _LONG_RUN.sub(_breakable, re.sub(f" ?{_BREAK}+ ?", "\n", run["t"]))
    return [run for run in merged if run["t"]]


def _breakable(match: re.Match) -> str:
    """A zero-width space after each / _ - . and every 20 characters without one, so a long path
    or checksum wraps in its cell instead of running over the next (Typst breaks Latin text only
    at spaces)."""
    out, since = [], 0
    for ch in match.group(0):
        out.append(ch)
        since += 1
        if ch in "/_-.\\" or since >= 20:
            out.append("\u200b")
            since = 0
    return "".join(out).rstrip("\u200b")
