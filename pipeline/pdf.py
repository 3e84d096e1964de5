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
           "ul", "ol", "li", "pre", "blockquote", "details", "summary", "svg", "hr", "dl", "dt", "dd", *_HEADINGS}
_BOLD, _ITALIC, _CODE = {"strong", "b", "th"}, {"em", "i"}, {"code", "kbd", "samp", "tt"}
_PAR_CLASSES = ("report-issuer", "note")  # styled in print.typ; others print as plain paragraphs
_BOX_CLASSES = ("summary",)
# lxml's HTML parser lowercases attribute names; SVG needs these spelled as SVG spells them.
_SVG_CAMEL = {name.lower(): name for name in (
    "viewBox", "preserveAspectRatio", "textLength", "lengthAdjust", "gradientTransform", "gradientUnits",
    "patternUnits", "patternTransform", "markerWidth", "markerHeight", "refX", "refY", "clipPathUnits")}
_SPACE = re.compile(r"\s+")
_BREAK = "\u2028"  # a <br> while runs are gathered (HTML white space, newlines too, is one space)

_COMPILER: list = []
_COMPILER_LOCK = threading.Lock()


class PdfError(RuntimeError):
    """Typst could not set the page (a message the report driver prints as it is)."""


def pdf_bytes(page: str) -> bytes:
    """A rendered report page as an A4 PDF, text set in the project's CJK font, long screen-only
    lists left out."""
    import typst

    document = {"title": _title(page), "font": fonts.FONT_FAMILY, "blocks": blocks(page)}
    with _COMPILER_LOCK:
        compiler = _compiler()
        try:
            return compiler.compile(sys_inputs={"blocks": json.dumps(document, ensure_ascii=False)})
        except typst.TypstError as error:
            raise PdfError(f"PDF 排版失败(Typst could not set the PDF): {error.message}") from None


def _compiler():
    """One Typst compiler per process, with the template and the font loaded once (call with the lock)."""
    if not _COMPILER:
        import typst

        font = fonts.font_path()
        _COMPILER.append(typst.Compiler(TEMPLATE, root=TEMPLATE.parent, font_paths=[str(font.parent)],
                                        ignore_system_fonts=True))
    return _COMPILER[0]


def warm() -> None:
    """Load Typst, the template and the font now, ahead of the first PDF (a one-line page)."""
    pdf_bytes("<html><body><p>预热</p></body></html>")


def _title(page: str) -> str:
    match = re.search(r"<title>(.*?)</title>", page, re.S)
    return _SPACE.sub(" ", match.group(1)).strip() if match else ""


def blocks(page: str) -> list[dict]:
    """The page's printed content as blocks (see print.typ for how each kind is set):
    heading {level, class, runs}, par {class, runs}, table {class, columns, header_rows, rows},
    figure {svg, label}, list {ordered, items}, box {class, blocks}. A run is {t, b, i, code}."""
    import lxml.html

    tree = lxml.html.document_fromstring(page)
    for element in tree.xpath('//*[contains(concat(" ", normalize-space(@class), " "), " screen-only ")]'
                              ' | //a[contains(concat(" ", normalize-space(@class), " "), " anchor-link ")]'):
        element.drop_tree()  # keeps the element's tail text
    outlines_to_text(tree)
    body = tree.find("body")
    return _children(body if body is not None else tree, "")


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
        else:
            pending.extend(_inline(child, False, False, False))
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
    if tag == "p":
        runs = _tidy(_inline_content(element))
        klass = next((c for c in _PAR_CLASSES if c in classes), context)
        return [{"kind": "par", "class": klass, "runs": runs}] if runs else []
    if tag == "table":
        return _table(element)
    if tag == "svg":
        return [_figure(element)]
    if tag in ("ul", "ol"):
        items = [_tidy(_inline_content(li)) for li in element if isinstance(li.tag, str) and li.tag == "li"]
        items = [item for item in items if item]
        return [{"kind": "list", "ordered": tag == "ol", "items": items}] if items else []
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
    """Rows in document order (thead, tbody, bare rows, tfoot); the header rows are the thead's.
    `columns`: the grid's width, counting cells that spans from rows above occupy."""
    rows = table.xpath("./thead/tr | ./tbody/tr | ./tr | ./tfoot/tr")
    header_rows = len(table.xpath("./thead/tr"))
    printed, occupied = [], {}
    for r, row in enumerate(rows):
        cells, column = [], 0
        for position, cell in enumerate(c for c in row if isinstance(c.tag, str) and c.tag in ("td", "th")):
            while occupied.get((r, column)):
                column += 1
            colspan, rowspan = _span(cell.get("colspan")), _span(cell.get("rowspan"))
            for dr in range(rowspan):
                for dc in range(colspan):
                    occupied[(r + dr, column + dc)] = True
            cells.append({"runs": _tidy(_inline_content(cell, bold=False)), "header": cell.tag == "th",
                          "colspan": colspan, "rowspan": min(rowspan, len(rows) - r), "column": position})
            column += colspan
        if cells:
            printed.append({"highlight": "highlight" in _classes(row), "cells": cells})
    if not printed:
        return []
    width = 1 + max(column for (row, column) in occupied if row < len(rows))
    classes = _classes(table)
    klass = "ranking" if "ranking" in classes else ""
    return [{"kind": "table", "class": klass, "columns": width, "header_rows": min(header_rows, len(printed)),
             "rows": printed}]


def _span(value: str | None) -> int:
    try:
        return max(1, min(int(value), 1000))
    except (TypeError, ValueError):
        return 1


def _figure(svg) -> dict:
    """A chart as standalone SVG markup, attribute names as SVG spells them."""
    from lxml import etree

    svg = etree.fromstring(etree.tostring(svg))  # a copy, safe to rename in
    for element in svg.iter():
        if not isinstance(element.tag, str):
            continue
        for name in [n for n in element.attrib if n in _SVG_CAMEL]:
            element.attrib[_SVG_CAMEL[name]] = element.attrib.pop(name)
    if svg.get("xmlns") is None and not svg.tag.startswith("{"):
        svg.set("xmlns", "http://www.w3.org/2000/svg")
    return {"kind": "figure", "svg": etree.tostring(svg, encoding="unicode"), "label": svg.get("aria-label") or ""}


def _run(text: str, bold: bool = False, italic: bool = False, code: bool = False) -> dict:
    run = {"t": text}
    if bold:
        run["b"] = True
    if italic:
        run["i"] = True
    if code:
        run["code"] = True
    return run


def _inline_content(element, bold: bool = False) -> list[dict]:
    """Runs of an element's whole content (its own text, children and their tails; not its tail)."""
    runs = [_run(element.text, bold)] if element.text else []
    for child in element:
        runs.extend(_inline(child, bold, False, False))
        if child.tail:
            runs.append(_run(child.tail, bold))
    return runs


def _inline(element, bold: bool, italic: bool, code: bool) -> list[dict]:
    """Runs of an inline element (without its tail)."""
    if not isinstance(element.tag, str) or element.tag in _SKIPPED or element.tag == "svg":
        return []
    if element.tag == "br":
        return [_run(_BREAK)]
    if element.tag == "img":
        return [_run(element.get("alt") or "", bold, italic, code)]
    bold, italic, code = bold or element.tag in _BOLD, italic or element.tag in _ITALIC, code or element.tag in _CODE
    runs = [_run(element.text, bold, italic, code)] if element.text else []
    for child in element:
        runs.extend(_inline(child, bold, italic, code))
        if child.tail:
            runs.append(_run(child.tail, bold, italic, code))
    return runs


def _tidy(runs: list[dict]) -> list[dict]:
    """White space as HTML shows it (runs of it one space; none at the ends or around a line break),
    neighbouring runs of one style merged, empty runs dropped; nothing when nothing would show."""
    merged: list[dict] = []
    for run in runs:
        text = _BREAK.join(_SPACE.sub(" ", part) for part in run["t"].split(_BREAK))
        style = {k: v for k, v in run.items() if k != "t"}
        if merged and {k: v for k, v in merged[-1].items() if k != "t"} == style:
            merged[-1]["t"] += text
        else:
            merged.append({"t": text, **style})
    if merged:
        merged[0]["t"] = merged[0]["t"].lstrip(" ")
        merged[-1]["t"] = merged[-1]["t"].rstrip(" ")
    for run in merged:
        run["t"] = re.sub(f" ?{_BREAK} ?", "\n", run["t"])
    merged = [run for run in merged if run["t"]]
    return merged if any(run["t"].strip() for run in merged) else []
