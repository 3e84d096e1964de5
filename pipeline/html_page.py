"""The HTML page a report notebook becomes: code hidden, one self-contained file, nothing fetched.

nbconvert's stock templates load require.js and MathJax from the internet; the office's machines
may be offline and a circulated report must not phone home. The template here keeps nbconvert's
cell markup (lab) but replaces the whole <head> with inline CSS, drops stderr output (warnings go to
the build log, not the circular), and `strip_remote` removes any remote script, stylesheet, or
url() an output might still carry, so the check in `remote_references` finds nothing.
"""

from __future__ import annotations

import re
import threading

import jinja2
import nbformat
from nbconvert import HTMLExporter

from pipeline.config import CACHE_DIR
from pipeline.config import REPORT_PAGE_KEY as PAGE_KEY
from pipeline.fonts import CSS_FONT_STACK

TEMPLATE_NAME = "report.html.j2"
TEMPLATE_CACHE = CACHE_DIR / "templates"
TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head -%}
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{{ nb.metadata.get('title', '') | escape_html_keep_quotes }}</title>
<style type="text/css">
{{ resources.report_css }}
</style>
{%- endblock html_head -%}
{% block stream_stderr %}{% endblock stream_stderr %}
{% block error %}<pre class="report-error">{{ output.ename | escape_html }}: {{ output.evalue | escape_html }}</pre>{% endblock error %}
"""

CSS = """
:root { --ink: #1f2933; --rule: #c9d2dc; --band: #f3f6f9; --accent: #1f5f99; }
html { font-family: FONT_STACK; color: var(--ink); font-size: 14px; }
body { margin: 0; background: #fff; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 48px; }
h1.report-title { font-size: 26px; text-align: center; margin: 8px 0 2px; color: #8b1a1a; letter-spacing: 2px; }
p.report-issuer { text-align: center; margin: 0 0 18px; color: #555; }
h1, h2, h3 { line-height: 1.35; }
h2 { font-size: 19px; border-bottom: 2px solid var(--accent); padding-bottom: 4px; margin-top: 28px; }
h3 { font-size: 16px; margin: 18px 0 8px; color: var(--accent); }
a.anchor-link { display: none; }
.jp-Cell { margin: 0; padding: 0; }
.jp-OutputArea-output { overflow-x: auto; }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 13px; }
table th, table td { border: 1px solid var(--rule); padding: 4px 8px; text-align: left; vertical-align: top; }
table thead th { background: var(--band); font-weight: 600; white-space: nowrap; }
table tr.highlight td { background: #fff4d6; }
table.ranking td:nth-child(1), table.ranking td:nth-child(3) { font-weight: 600; }
table.meta th { background: var(--band); width: 11em; }
.summary { border-left: 4px solid var(--accent); background: #f7fafc; padding: 6px 16px; margin: 8px 0 16px; }
.summary p { text-indent: 2em; line-height: 1.9; margin: 6px 0; font-size: 15px; }
p.note { color: #555; font-size: 12.5px; }
p.empty { color: #777; }
figure.chart { margin: 10px 0; }
figure.chart svg { max-width: 100%; height: auto; display: block; }
details summary { cursor: pointer; color: var(--accent); margin: 6px 0; }
pre.report-error { color: #8b1a1a; white-space: pre-wrap; }
.print-only { display: none; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  html { font-size: 10.5px; }
  main { max-width: none; padding: 0; }
  table { font-size: 9px; }
  table th, table td { padding: 2px 4px; }
  h2 { break-after: avoid; }
  figure.chart, tr { break-inside: avoid; }
}
""".replace("FONT_STACK", CSS_FONT_STACK)

# A remote reference: http(s):// or protocol-relative //host, in <script src>, <link href>,
# url(...) (also inside @font-face) or @import.
_REMOTE = r"""(?:https?:)?//"""
_SCRIPT = re.compile(r"""<script\b[^>]*\bsrc\s*=\s*["']?\s*""" + _REMOTE + r"""[^>]*>\s*</script\s*>""", re.I | re.S)
_LINK = re.compile(r"""<link\b[^>]*\bhref\s*=\s*["']?\s*""" + _REMOTE + r"""[^>]*>""", re.I | re.S)
_URL = re.compile(r"""url\(\s*["']?\s*""" + _REMOTE + r"""[^)]*\)""", re.I)
_IMPORT = re.compile(r"""@import\s+(?:url\()?\s*["']?\s*""" + _REMOTE + r"""[^;]*;""", re.I)
_SCRIPT_SRC = re.compile(r"""<script\b[^>]*\bsrc\s*=\s*["']?\s*(""" + _REMOTE + r"""[^"'\s>]*)""", re.I | re.S)
_LINK_HREF = re.compile(r"""<link\b[^>]*\bhref\s*=\s*["']?\s*(""" + _REMOTE + r"""[^"'\s>]*)""", re.I | re.S)


def remote_references(page: str) -> list[str]:
    """Every remote script, stylesheet, font or import the page would fetch (empty = offline-safe)."""
    found = [m.group(1) for m in _SCRIPT_SRC.finditer(page)]
    found += [m.group(1) for m in _LINK_HREF.finditer(page)]
    found += [m.group(0) for m in _URL.finditer(page)]
    found += [m.group(0) for m in _IMPORT.finditer(page)]
    return found


def strip_remote(page: str) -> str:
    """Remove remote scripts, stylesheet links, imports and url()s (a fetch that would fail offline)."""
    page = _SCRIPT.sub("", page)
    page = _LINK.sub("", page)
    page = _IMPORT.sub("", page)
    return _URL.sub("none", page)


class ReportExporter(HTMLExporter):
    """nbconvert's HTML exporter without its closing BeautifulSoup pass.

    HTMLExporter re-parses the finished page with BeautifulSoup only to add placeholder alt text to
    images and tabindex to the cells of its interactive view; on a circular with long tables that
    pass costs about a second, more than the rest of the conversion. A report has no interactive
    cells and its charts carry their own labels (role="img", aria-label), so this exporter registers
    the same filters and renders the same template, and stops there."""

    def from_notebook_node(self, nb, resources=None, **kw):
        from nbconvert.exporters.templateexporter import TemplateExporter
        from nbconvert.filters.highlight import Highlight2HTML
        from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

        language = nb.metadata.get("language_info", {})
        lexer = language.get("pygments_lexer", language.get("name", None))
        self.register_filter("highlight_code", self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
        resources = self._init_resources(resources)
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self,
                                                                       resources=resources))
        return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    def _create_environment(self):
        # Compiled templates kept on disk (Jinja's bytecode cache, keyed by each template's source):
        # nbconvert's lab templates cost about 0.3 s to compile in every new process otherwise.
        # A project folder that cannot be written to just goes without.
        environment = super()._create_environment()
        try:
            TEMPLATE_CACHE.mkdir(parents=True, exist_ok=True)
        except OSError:
            return environment
        environment.bytecode_cache = _TemplateCache(str(TEMPLATE_CACHE))
        return environment


class _TemplateCache(jinja2.FileSystemBytecodeCache):
    """Jinja's cache of compiled templates on disk, which a folder that cannot be written to (a
    read-only copy of the project, a full disk) only makes slower, never stops."""

    def dump_bytecode(self, bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


_EXPORTER: list[HTMLExporter] = []
_LOCK = threading.RLock()  # an exporter registers filters on itself per conversion: one at a time


def exporter() -> HTMLExporter:
    """The HTML exporter with inputs and prompts hidden and the offline template; one per process,
    kept so its template is compiled once (use it under `_LOCK`)."""
    with _LOCK:
        if not _EXPORTER:
            _EXPORTER.append(_new_exporter())
        return _EXPORTER[0]


def warm() -> None:
    """Compile the template now (the report driver does this while the notebooks run)."""
    notebook_to_html(nbformat.v4.new_notebook(), "")


def _new_exporter() -> HTMLExporter:
    loader = jinja2.DictLoader({TEMPLATE_NAME: TEMPLATE})
    return ReportExporter(
        extra_loaders=[loader],
        template_name="lab",
        template_file=TEMPLATE_NAME,
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
        # The notebook is checked against the schema once, after nbconvert's preprocessors, not
        # after each of them (each check walks the whole notebook; a month's scorecards are 20).
        optimistic_validation=True,
        language_code="zh",  # ISO 639-1 (nbconvert refuses zh-CN)
    )


def notebook_to_html(notebook: nbformat.NotebookNode, title: str) -> str:
    """The executed notebook as an offline HTML page titled `title`."""
    notebook = nbformat.from_dict(notebook)
    notebook.metadata["title"] = title
    with _LOCK:
        body, _ = exporter().from_notebook_node(notebook, resources={"report_css": CSS})
    return strip_remote(body)


def page_outputs(notebook: nbformat.NotebookNode, key: str = PAGE_KEY) -> dict[str, list]:
    """Outputs the notebook marked as separate pages (output metadata `key` = the page's name, as
    `report_helpers.show_pages` writes them), in order, by page name."""
    pages: dict[str, list] = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get(key)
            if name is not None:
                pages.setdefault(str(name), []).append(output)
    return pages


def pages_to_html(notebook: nbformat.NotebookNode, titles: dict[str, str], key: str = PAGE_KEY) -> dict[str, str]:
    """One offline HTML page per marked page of an executed notebook (see `page_outputs`), each the
    same document `notebook_to_html` makes of a notebook holding only that page's outputs.
    Raises KeyError naming a page in `titles` the notebook did not produce."""
    found = page_outputs(notebook, key)
    missing = [name for name in titles if name not in found]
    if missing:
        raise KeyError(", ".join(missing))
    pages = {}
    for name, title in titles.items():
        single = nbformat.v4.new_notebook(metadata=dict(notebook.metadata))
        cell = nbformat.v4.new_code_cell(source="")
        cell.outputs = found[name]
        single.cells.append(cell)
        pages[name] = notebook_to_html(single, title)
    return pages
