"""The circular as an A4 PDF (WeasyPrint), set in the project's CJK font.

The PDF is the rendered HTML page printed: screen-only blocks (long lists that stay in the HTML and
the Excel attachment) are removed, and every table gets its column widths measured from its text
(`fix_table_widths`). WeasyPrint and the font are loaded once per process (`warm`); the report
driver does that while the notebooks run.
"""

from __future__ import annotations

import atexit
import threading
from pathlib import Path

from pipeline import fonts

PRINT_CSS = """
@page { size: A4; margin: 14mm 11mm 16mm; @bottom-center { content: counter(page) " / " counter(pages); font-size: 8pt; color: #666; } }
html { font-size: 9.5pt; }
main { max-width: none !important; padding: 0 !important; }
table { font-size: 7.6pt; }
table th, table td { padding: 1.5pt 3pt; }
.summary p { font-size: 10pt; }
.screen-only { display: none; }
.print-only { display: block; }
"""
# Printed widths (PRINT_CSS): A4 less the margins is about 530 pt; table text is 7.6 pt, so a CJK
# character is ~7.6 pt and other characters ~3.8 pt wide; a cell's padding and border ~10 pt.
PRINT_WIDTH_PT = 530.0
HALF_EM_PT = 3.8
CELL_PADDING_PT = 10.0
WIDEST_CELL_UNITS = 40  # a longer cell wraps rather than widening its column

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


def write_pdf(html_path: Path, pdf_path: Path) -> Path:
    """The rendered HTML file as a PDF, written atomically."""
    from pipeline.render import atomic_write_bytes

    atomic_write_bytes(Path(pdf_path), pdf_bytes(Path(html_path).read_text(encoding="utf-8")))
    return Path(pdf_path)


def printable(page: str) -> str:
    """The page as printed: screen-only blocks (long lists) removed — WeasyPrint styles every
    element, even hidden ones — and every table given its column widths (`fix_table_widths`)."""
    import lxml.html

    tree = lxml.html.document_fromstring(page)
    for element in tree.xpath('//*[contains(concat(" ", normalize-space(@class), " "), " screen-only ")]'):
        element.drop_tree()
    for table in tree.iter("table"):
        fix_table_widths(table)
    return lxml.html.tostring(tree, encoding="unicode", doctype="<!DOCTYPE html>")


def fix_table_widths(table) -> None:
    """Fixed layout with explicit column widths, each column as wide as its widest cell (capped at
    WIDEST_CELL_UNITS, longer text wraps), the table as wide as that or the page, whichever is less.
    WeasyPrint's automatic layout measures every cell's minimum and maximum content width before it
    lays anything out, a third of a circular's PDF time; this is the same measure taken once, from
    the text, and the printed tables look the same."""
    rows = table.xpath("./thead/tr | ./tbody/tr | ./tr")
    if not rows or table.xpath(".//td[@colspan or @rowspan] | .//th[@colspan or @rowspan]"):
        return  # merged cells: leave it to WeasyPrint
    widths: list[int] = []
    for row in rows:
        for j, cell in enumerate(row.xpath("./td | ./th")):
            units = min(fonts.display_width(cell.text_content().strip()), WIDEST_CELL_UNITS)
            if j == len(widths):
                widths.append(2)
            widths[j] = max(widths[j], units)
    points = [units * HALF_EM_PT + CELL_PADDING_PT for units in widths]
    scale = min(1.0, PRINT_WIDTH_PT / sum(points))
    group = table.makeelement("colgroup", {})
    for width in points:
        group.append(table.makeelement("col", {"style": f"width: {width * scale:.1f}pt"}))
    table.insert(0, group)
    table.set("style", f"table-layout: fixed; width: {sum(points) * scale:.1f}pt")
