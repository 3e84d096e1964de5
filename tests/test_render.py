"""The report driver end to end on the tiny fixture: one circular (HTML, PDF, Excel) and one scorecard
rendered once (report_fixtures.rendered_month); then skip-when-fresh and fail-atomically."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess

import pytest
import report_fixtures as fx
from report_fixtures import rendered_month  # noqa: F401  (shared session fixture)

from pipeline import html_page, render
from pipeline.reports import build_reports

CIRCULAR = "2020-03/月度排名通报_2020-03"
SCORECARD = "2020-03/单位成绩单/T05_青山办事处.html"


def test_outputs_named_as_the_office_files_them(rendered_month):
    reports = rendered_month.reports
    expected = [reports / f"{CIRCULAR}.html", reports / f"{CIRCULAR}.pdf", reports / f"{CIRCULAR}.xlsx",
                reports / SCORECARD]
    assert rendered_month.outputs == expected
    assert all(path.is_file() and path.stat().st_size > 0 for path in expected)
    assert any(line.startswith("[2/2]") for line in rendered_month.log)  # one progress line per notebook


def test_circular_shows_the_data_hides_the_code(rendered_month):
    page = (rendered_month.reports / f"{CIRCULAR}.html").read_text(encoding="utf-8")
    assert "2020年3月 安全生产月度排名通报" in page and '<html lang="zh">' in page
    assert "jp-InputArea-editor" not in page and "load_tables(" not in page  # code cells hidden
    for name in fx.UNITS["name"]:
        assert name in page
    assert "全区共发生生产安全事故2起、死亡1人" in page
    assert "2020.1-test" in page  # rulebook version
    rulebook_hash = hashlib.sha256(rendered_month.rulebook.read_bytes()).hexdigest()[:16]
    assert rulebook_hash in page
    assert "monthly_scores.parquet" in page and "生成时间" in page
    assert page.count("<svg ") >= 3 and "<img" not in page  # charts inline, nothing beside the page
    # free text from the data is escaped, never markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page


def test_reports_open_offline(rendered_month):
    for path in [rendered_month.reports / f"{CIRCULAR}.html", rendered_month.reports / SCORECARD]:
        page = path.read_text(encoding="utf-8")
        assert html_page.remote_references(page) == []
        remote = re.compile(r"^\s*(https?:)?//", re.I)
        for src in re.findall(r"<script\b[^>]*\bsrc\s*=\s*[\"']?([^\"'\s>]+)", page, re.I):
            assert not remote.match(src), src
        for href in re.findall(r"<link\b[^>]*\bhref\s*=\s*[\"']?([^\"'\s>]+)", page, re.I):
            assert not remote.match(href), href
        for url in re.findall(r"url\(\s*[\"']?([^)\"']+)", page, re.I):
            assert not remote.match(url), url
        assert "require.js" not in page and "MathJax.js" not in page


def test_strip_remote_removes_what_the_stock_template_adds():
    page = ('<script src="https://cdnjs.example/require.min.js"></script><link rel="stylesheet" '
            'href="//fonts.example/css"><style>@font-face{src:url("https://x.example/f.woff")}</style>')
    assert html_page.remote_references(page)
    assert html_page.remote_references(html_page.strip_remote(page)) == []


def test_the_compiled_page_template_is_kept_and_gives_the_same_page(tmp_path, monkeypatch):
    import jinja2
    import nbformat

    monkeypatch.setattr(html_page, "TEMPLATE_CACHE", tmp_path / "templates")
    monkeypatch.setattr(html_page, "_EXPORTER", [])
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [nbformat.v4.new_output("display_data", {"text/html": "<p>南湖办事处 第1名</p>"})]
    notebook.cells.append(cell)
    first = html_page.notebook_to_html(notebook, "通报")
    assert list((tmp_path / "templates").iterdir())  # the compiled templates, kept
    compiled = []
    original = jinja2.Environment._compile
    monkeypatch.setattr(jinja2.Environment, "_compile", lambda self, *a: compiled.append(a) or original(self, *a))
    html_page._EXPORTER.clear()  # a new process: a new exporter
    assert html_page.notebook_to_html(notebook, "通报") == first
    assert compiled == []  # nothing compiled again
    assert "南湖办事处 第1名" in first and "<title>通报</title>" in first


def test_a_template_cache_that_cannot_be_written_only_costs_time(tmp_path, monkeypatch):
    import jinja2
    import nbformat

    def refuse(self, bucket):  # what a read-only folder or a full disk does to Jinja's writer
        raise PermissionError(13, "Permission denied", str(tmp_path / "templates"))

    monkeypatch.setattr(html_page, "TEMPLATE_CACHE", tmp_path / "templates")
    monkeypatch.setattr(html_page, "_EXPORTER", [])
    monkeypatch.setattr(jinja2.FileSystemBytecodeCache, "dump_bytecode", refuse)
    page = html_page.notebook_to_html(nbformat.v4.new_notebook(), "通报")
    assert "<title>通报</title>" in page


def test_scorecard_traces_every_lost_point(rendered_month):
    page = (rendered_month.reports / SCORECARD).read_text(encoding="utf-8")
    assert "青山办事处" in page
    assert "+挂牌督办 再扣5分" in page and "逾期重大隐患 每项扣3分" in page
    assert "青山办事处_隐患台账.xlsx" in page  # source file of the record
    assert "重大隐患 YH-T05-002" in page  # what the record says
    assert "第5名 / 共6个单位" in page


def test_pdf_is_set_in_the_cjk_font(rendered_month):
    pdf = rendered_month.reports / f"{CIRCULAR}.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdffonts") is None:
        pytest.skip("pdffonts (poppler-utils) not installed")
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "Noto-Sans-SC" in fonts or "NotoSansSC" in fonts


def test_rerun_with_nothing_changed_does_nothing(rendered_month):
    before = {p: p.stat().st_mtime_ns for p in rendered_month.outputs}
    log: list[str] = []
    outputs = build_reports("monthly", "2020-03", rendered_month.processed, rendered_month.reports,
                            rendered_month.rulebook, units=["T05"], echo=log.append)
    assert outputs == rendered_month.outputs
    assert {p: p.stat().st_mtime_ns for p in outputs} == before
    assert not any(line.startswith("[") for line in log) and any("跳过" in line for line in log)


def test_a_changed_input_makes_a_job_stale(rendered_month, tmp_path):
    html = rendered_month.reports / f"{CIRCULAR}.html"
    newer = tmp_path / "table.parquet"
    newer.write_bytes(b"x")
    assert render.is_fresh([html], [rendered_month.rulebook])
    assert not render.is_fresh([html], [rendered_month.rulebook, newer])


def test_a_failing_notebook_names_the_cell_and_keeps_the_old_report(tmp_path):
    notebook = tmp_path / "broken.py"
    notebook.write_text('# %% tags=["parameters"]\nDIVISOR = 1\n\n# %%\nx = 1\n\n# %%\n1 / (DIVISOR - 1)\n',
                        encoding="utf-8")
    output = tmp_path / "out" / "broken.html"
    output.parent.mkdir()
    output.write_text("previous report", encoding="utf-8")
    job = render.Job(notebook, {"DIVISOR": 1}, output, "broken", inputs=[])
    log: list[str] = []
    with pytest.raises(render.ReportError) as failure:
        render.run_jobs([job], tmp_path / "build", force=True, echo=log.append)
    message = str(failure.value)
    assert "broken.py" in message and "ZeroDivisionError" in message
    assert "1 / (DIVISOR - 1)" in message and "cell" in message
    assert "Traceback" not in message
    assert output.read_text(encoding="utf-8") == "previous report"
    assert not list(output.parent.glob(".*tmp"))


def test_every_units_scorecard_comes_from_one_kernel(rendered_month, tmp_path):
    from pipeline.config import NOTEBOOKS_DIR

    pages = {unit: (tmp_path / "cards" / f"{unit}.html", f"单位成绩单 {unit}") for unit in ["T01", "T05"]}
    job = render.Job(NOTEBOOKS_DIR / "unit_scorecard.py",
                     {"UNIT_IDS": ["T01", "T05"], "PERIOD": "2020-03", "PROCESSED_DIR": str(rendered_month.processed),
                      "RULEBOOK": str(rendered_month.rulebook)}, tmp_path / "cards", "单位成绩单 2020-03", pages=pages)
    log: list[str] = []
    assert render.run_jobs([job], tmp_path / "build", echo=log.append) == [path for path, _ in pages.values()]
    assert sum(line.startswith("[1/1]") for line in log) == 1  # one notebook run made both pages
    first, fifth = (path.read_text(encoding="utf-8") for path, _ in pages.values())
    assert "南湖办事处（T01）" in first and "青山办事处（T05）" not in first
    assert "青山办事处（T05）" in fifth and "南湖办事处（T01）" not in fifth
    assert "<title>单位成绩单 T05</title>" in fifth and "第5名 / 共6个单位" in fifth
    assert html_page.remote_references(fifth) == []


def _pages_notebook(tmp_path, body: str):
    notebook = tmp_path / "pages.py"
    notebook.write_text('# %% tags=["parameters"]\nNAMES = ["A"]\n\n# %%\nfrom pipeline import report_helpers as rh\n\n'
                        f"# %%\n{body}\n", encoding="utf-8")
    pages = {name: (tmp_path / "out" / f"{name}.html", name) for name in ["A", "B"]}
    return render.Job(notebook, {"NAMES": ["A", "B"]}, tmp_path / "out", "pages", pages=pages)


def test_a_failing_page_names_it_and_writes_no_page(tmp_path):
    job = _pages_notebook(tmp_path, 'rh.show_pages(NAMES, lambda name: [rh.note(name)] if name == "A" else 1 / 0)')
    with pytest.raises(render.ReportError) as failure:
        render.run_jobs([job], tmp_path / "build", echo=lambda line: None)
    message = str(failure.value)
    assert "PageError" in message and "单位 B" in message and "ZeroDivisionError" in message
    assert "Traceback" not in message
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())  # all pages or none


def test_a_page_the_notebook_did_not_make_is_an_error(tmp_path):
    job = _pages_notebook(tmp_path, 'rh.show_pages(["A"], lambda name: [rh.note(name)])')
    with pytest.raises(render.ReportError) as failure:
        render.run_jobs([job], tmp_path / "build", echo=lambda line: None)
    assert "pages missing" in str(failure.value) and "B" in str(failure.value)
    assert not (tmp_path / "out" / "A.html").exists()


def _file_notebook(tmp_path, body: str) -> render.Job:
    """A notebook that writes a file of its own (Job.files), e.g. the Excel attachment."""
    notebook = tmp_path / "writes.py"
    notebook.write_text(f'# %% tags=["parameters"]\nOUT = None\n\n# %%\nprint("page")\n\n# %%\n{body}\n', encoding="utf-8")
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "writes.html").write_text("previous report", encoding="utf-8")
    (folder / "writes.xlsx").write_bytes(b"previous attachment")
    return render.Job(notebook, {}, folder / "writes.html", "writes", files={"OUT": folder / "writes.xlsx"})


def test_a_file_the_notebook_writes_is_moved_into_place_with_its_page(tmp_path):
    job = _file_notebook(tmp_path, 'open(OUT, "wb").write(b"made by the kernel")')
    assert render.run_jobs([job], tmp_path / "build", echo=lambda line: None) == [job.output, tmp_path / "out" / "writes.xlsx"]
    assert (tmp_path / "out" / "writes.xlsx").read_bytes() == b"made by the kernel"
    assert "page" in job.output.read_text(encoding="utf-8")
    assert not list((tmp_path / "build" / "staged").iterdir())  # nothing left where the kernel wrote it


@pytest.mark.parametrize("body, reason", [
    ('pass', "没有写出 writes.xlsx"),  # the notebook never wrote its file
    ('open(OUT, "wb").write(b"half")\n1 / 0', "ZeroDivisionError"),  # it wrote it, then failed
])
def test_a_notebook_that_fails_its_file_changes_neither_page_nor_file(tmp_path, body, reason):
    job = _file_notebook(tmp_path, body)
    (tmp_path / "build" / "staged").mkdir(parents=True)  # a file an earlier run left is not taken for this run's
    render._staged_path(tmp_path / "build", tmp_path / "out" / "writes.xlsx").write_bytes(b"stale")
    with pytest.raises(render.ReportError) as failure:
        render.run_jobs([job], tmp_path / "build", echo=lambda line: None)
    assert reason in str(failure.value)
    assert job.output.read_text(encoding="utf-8") == "previous report"
    assert (tmp_path / "out" / "writes.xlsx").read_bytes() == b"previous attachment"


def _alive(pid: int) -> bool:
    import os

    try:
        os.waitpid(pid, os.WNOHANG)  # reap it if it is our exited child
        os.kill(pid, 0)
    except (ChildProcessError, ProcessLookupError):
        return False
    return True


def test_kernels_started_ahead_run_with_the_report_modules_loaded_and_never_outlive_the_run(tmp_path):
    notebook = tmp_path / "preloaded.py"
    notebook.write_text('# %% tags=["parameters"]\nX = 1\n\n# %%\nimport sys\n'
                        'print("preloaded" if "pipeline.report_monthly" in sys.modules else "cold")\n', encoding="utf-8")
    output = tmp_path / "out" / "preloaded.html"
    with render.Kernels(2).launched() as kernels:
        pids = [manager.provisioner.process.pid for manager in kernels._ready]
        assert all(_alive(pid) for pid in pids)
        render.run_jobs([render.Job(notebook, {"X": 2}, output, "preloaded")], tmp_path / "build", echo=lambda line: None,
                        kernels=kernels)
        assert not _alive(pids[0])  # the one that ran the notebook is shut down after it
        assert _alive(pids[1])
    assert not _alive(pids[1])  # the unused one is shut down with the pool
    assert "preloaded" in output.read_text(encoding="utf-8")


def test_ctrl_c_stops_the_notebooks_at_once_and_writes_nothing(tmp_path):
    import os
    import signal
    import sys
    import time

    notebook = tmp_path / "slow.py"
    notebook.write_text('# %% tags=["parameters"]\nX = 1\n\n# %%\nimport time\ntime.sleep(60)\n', encoding="utf-8")
    output = tmp_path / "out" / "slow.html"
    code = ("from pathlib import Path; from pipeline import render\n"
            "try:\n"
            f"    render.run_jobs([render.Job(Path({str(notebook)!r}), {{'X': 2}}, Path({str(output)!r}), 'slow')], "
            f"Path({str(tmp_path / 'build')!r}), echo=print)\n"
            "except KeyboardInterrupt:\n    print('interrupted', flush=True)\n")
    from pipeline.config import PROJECT_ROOT

    child = subprocess.Popen([sys.executable, "-c", code], cwd=str(tmp_path), stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
    time.sleep(8)  # the kernel is running the 60 s cell
    started = time.perf_counter()
    child.send_signal(signal.SIGINT)
    out, _ = child.communicate(timeout=30)
    assert time.perf_counter() - started < 15  # not the 60 s the cell would take
    assert "interrupted" in out
    assert not output.exists()


def test_a_converted_notebook_is_shared_by_every_reports_folder(tmp_path, monkeypatch):
    import sys

    import nbformat

    monkeypatch.setattr(render, "NOTEBOOK_CACHE", tmp_path / "cache")
    source = tmp_path / "nb.py"
    source.write_text("# %% tags=['parameters']\nPERIOD = '2020-03'\n\n# %%\nprint(PERIOD)\n", "utf-8")
    first = render.build_notebook(source, tmp_path / "a")
    notebook = nbformat.read(first, as_version=4)
    assert notebook.metadata["kernelspec"]["name"] == render.KERNELSPEC["name"]
    assert [c.source for c in notebook.cells] == ["PERIOD = '2020-03'", "print(PERIOD)"]
    # A second folder gets the same notebook without converting again (jupytext cannot even load).
    monkeypatch.setitem(sys.modules, "jupytext", None)
    second = render.build_notebook(source, tmp_path / "b")
    assert second.read_bytes() == first.read_bytes()
    # A changed source is converted afresh, not served from the cache.
    source.write_text("# %%\nprint('changed')\n", "utf-8")
    with pytest.raises(ImportError):
        render.build_notebook(source, tmp_path / "c")


def test_a_new_conversion_is_not_served_the_old_way(tmp_path, monkeypatch):
    monkeypatch.setattr(render, "NOTEBOOK_CACHE", tmp_path / "cache")
    source = tmp_path / "nb.py"
    source.write_text("# %%\nprint(1)\n", "utf-8")
    render.build_notebook(source, tmp_path / "a")
    monkeypatch.setattr(render, "NOTEBOOK_FORMAT", render.NOTEBOOK_FORMAT + 1)
    render.build_notebook(source, tmp_path / "b")
    assert len(list((tmp_path / "cache").iterdir())) == 2  # converted afresh under a new key
