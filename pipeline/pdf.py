"""The circular as an A4 PDF (WeasyPrint), set in the project's CJK font.

The PDF is the rendered HTML page printed: screen-only blocks (long lists that stay in the HTML and
the Excel attachment) are removed, and every table gets its column widths measured from its text
(`fix_table_widths`). WeasyPrint and the font are loaded once per process (`warm`); the report
driver does that while the notebooks run.
"""

from __future__ import annotations

import atexit
import re
import threading

from pipeline import fonts
from pipeline.svg import outlines_to_text, text_width

PRINT_CSS = """
@page { size: A4; margin: 14mm 11mm 16mm; @bottom-center { content: counter(page) " / " counter(pages); font-size: 8pt; color: #666; } }
html { font-size: 9.5pt; }
main { max-width: none !important; padding: 0 !important; }
table { font-size: 7.6pt; }
table th, table td { padding: 1.5pt 3pt; overflow-wrap: anywhere; }
.summary p { font-size: 10pt; }
.screen-only { display: none; }
.print-only { display: block; }
"""
# Printed widths (PRINT_CSS): A4 less the margins is about 530 pt; table text is 7.6 pt (headers
# bold, a little wider); a cell's padding and borders take about 10 pt.
PRINT_WIDTH_PT = 530.0
TABLE_FONT_PT = 7.6
CELL_PADDING_PT = 10.0
WIDEST_CELL_PT = 150.0  # a longer cell wraps rather than widening its column
# Runs that cannot be broken across lines: letters, digits and their punctuation (ids, file names,
# numbers). Chinese breaks between any two characters.
_UNBREAKABLE = re.compile(r"[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]+")

_SETUP: list = []
_SETUP_LOCK = threading.Lock()


def pdf_bytes(page: str) -> bytes:
    """A rendered report page as an A4 PDF, text set in the project's CJK font, long screen-only
    lists left out."""
    from weasyprint import HTML

    css, font_config = _setup()
    document = HTML(string=printable(page)).render(stylesheets=[css], font_config=font_config)
    return document.write_pdf()


def _setup():
    """WeasyPrint's font configuration and the print stylesheet, made once per process (importing
    WeasyPrint and loading the font is about a second)."""
    with _SETUP_LOCK:
        if not _SETUP:
            fonts.use_fontconfig()  # Pango finds the font through fontconfig
            from weasyprint import CSS
            from weasyprint.text.fonts import FontConfiguration

            font_config = FontConfiguration()
            face = f'@font-face {{ font-family: "{fonts.FONT_FAMILY}"; src: url("{fonts.font_path().as_uri()}"); }}'
            _SETUP.extend([CSS(string=face + PRINT_CSS, font_config=font_config), font_config])
            # Let go of them before the interpreter tears its modules down (FontConfiguration's
            # finaliser needs them).
            atexit.register(_SETUP.clear)
        return _SETUP


def warm() -> None:
    """Import WeasyPrint and load the print set-up now, ahead of the first PDF."""
    _setup()


def printable(page: str) -> str:
    """The page as printed: screen-only blocks (long lists) removed — WeasyPrint styles every
    element, even hidden ones —, every table given its column widths (`fix_table_widths`), and the
    charts' outlined text set as text (`svg.outlines_to_text`)."""
    import lxml.html

    tree = lxml.html.document_fromstring(page)
    for element in tree.xpath('//*[contains(concat(" ", normalize-space(@class), " "), " screen-only ")]'):
        element.drop_tree()
    for table in tree.iter("table"):
        fix_table_widths(table)
    outlines_to_text(tree)  # charts' text as text: WeasyPrint has the font, and paths cost it more
    return lxml.html.tostring(tree, encoding="unicode", doctype="<!DOCTYPE html>")


def fix_table_widths(table) -> None:
    """Fixed layout with explicit column widths measured from the text with the font's own advance
    widths: each column as wide as its widest cell (up to WIDEST_CELL_PT, longer text wraps) and
    never narrower than its longest unbreakable run (an id, a file name, a number); when the
    table is wider than the page, only the part of each column above that minimum shrinks. A table
    whose minimums do not fit, or with merged cells, keeps WeasyPrint's automatic layout.
    Why: automatic layout measures every cell's minimum and maximum content width before laying
    anything out, a third of a circular's PDF time; this takes the same measure once, from the text."""
    rows = table.xpath("./thead/tr | ./tbody/tr | ./tr")
    if not rows or table.xpath(".//td[@colspan or @rowspan] | .//th[@colspan or @rowspan]"):
        return
    natural: list[float] = []
    least: list[float] = []
    for row in rows:
        for j, cell in enumerate(row.xpath("./td | ./th")):
            text = cell.text_content().strip()
            size = TABLE_FONT_PT * (1.06 if cell.tag == "th" else 1.0)  # bold headers
            whole = min(text_width(text, size), WIDEST_CELL_PT)
            word = max((text_width(run, size) for run in _UNBREAKABLE.findall(text)), default=0.0)
            if _UNBREAKABLE.sub("", text).strip():  # some Chinese: at least one character per line
                word = max(word, size)
            if j == len(natural):
                natural.append(0.0)
                least.append(0.0)
            natural[j] = max(natural[j], whole + CELL_PADDING_PT)
            least[j] = max(least[j], word + CELL_PADDING_PT)
    natural = [max(n, m) for n, m in zip(natural, least)]
    if sum(least) > PRINT_WIDTH_PT:
        return
    if sum(natural) > PRINT_WIDTH_PT:
        share = (PRINT_WIDTH_PT - sum(least)) / (sum(natural) - sum(least))
        natural = [m + (n - m) * share for n, m in zip(natural, least)]
    group = table.makeelement("colgroup", {})
    for width in natural:
        group.append(table.makeelement("col", {"style": f"width: {width:.1f}pt"}))
    table.insert(0, group)
    table.set("style", f"table-layout: fixed; width: {sum(natural):.1f}pt")
