"""The project's CJK font: found, registered with matplotlib, and named to fontconfig."""

from __future__ import annotations

import io
import warnings

from matplotlib.figure import Figure

from pipeline import fonts


def _render_chinese_chart() -> bytes:
    fig = Figure(figsize=(4, 2))
    ax = fig.add_subplot()
    ax.bar(["南湖办事处", "区住房和城乡建设局"], [92.5, 71.0])
    ax.set_title("2020年3月 综合得分（执法质量、隐患排查治理、事故控制）")
    ax.set_ylabel("得分 −1")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def test_font_file_is_packaged():
    path = fonts.font_path()
    assert path.is_file() and path.suffix.lower() in {".otf", ".ttf", ".ttc"}


def test_chinese_chart_has_no_missing_glyphs():
    family = fonts.setup_matplotlib()
    assert family == fonts.FONT_FAMILY
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph … missing from font(s)" becomes a failure
        png = _render_chinese_chart()
    assert png.startswith(b"\x89PNG")


def test_setup_is_idempotent():
    from matplotlib import font_manager

    fonts.setup_matplotlib()
    fonts.setup_matplotlib()
    path = str(fonts.font_path())
    assert sum(entry.fname == path for entry in font_manager.fontManager.ttflist) == 1


def test_fontconfig_file_names_the_font_folder(tmp_path):
    conf = fonts.fontconfig_file(tmp_path)
    text = conf.read_text(encoding="utf-8")
    assert f"<dir>{fonts.font_path().parent}</dir>" in text
    assert "/etc/fonts/fonts.conf" in text
    before = conf.stat().st_mtime_ns
    assert fonts.fontconfig_file(tmp_path) == conf and conf.stat().st_mtime_ns == before  # unchanged: not rewritten
