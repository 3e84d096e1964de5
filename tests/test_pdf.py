"""The circular's PDF: the page's content read into blocks, set by Typst (pipeline/pdf.py, print.typ)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from pipeline import pdf


def page(body: str) -> str:
    return f"<!DOCTYPE html><html><head><title>通报</title><style>p {{ color: red }}</style></head><body>{body}</body></html>"


def pdf_text(data: bytes, tmp_path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed: the PDF's text cannot be read back")
    path = tmp_path / "x.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True).stdout.decode()


def test_screen_only_blocks_and_anchor_links_are_left_out_print_only_notes_kept():
    blocks = pdf.blocks(page('<h2 id="a">一、排名<a class="anchor-link" href="#a">¶</a></h2><p>排名</p>'
                             '<div class="note screen-only"><table><tr><td>长清单</td></tr></table></div>'
                             '<p class="note print-only">清单见 HTML 版</p>'))
    assert blocks == [{"kind": "heading", "level": 2, "class": "", "runs": [{"t": "一、排名"}]},
                      {"kind": "par", "class": "", "runs": [{"t": "排名"}]},
                      {"kind": "par", "class": "note", "runs": [{"t": "清单见 HTML 版"}]}]


def test_white_space_and_inline_styles_as_the_page_shows_them():
    (block,) = pdf.blocks(page("<p>\n  共 <strong>3</strong> 起,\n <em>死亡</em><br/>\n 2 人 <code>T01</code>\n</p>"))
    assert block["runs"] == [{"t": "共 "}, {"t": "3", "b": True}, {"t": " 起, "}, {"t": "死亡", "i": True},
                             {"t": "\n2 人 "}, {"t": "T01", "code": True}]


def test_inline_content_between_blocks_becomes_paragraphs_and_unknown_elements_print_as_text():
    blocks = pdf.blocks(page("<div>前言<custom-box>自定义元素的文字</custom-box><p>正文</p>尾注</div>"
                             "<div class='summary'><p>总体情况一</p><p>总体情况二</p></div>"))
    assert [(b["kind"], b.get("class"), "".join(r["t"] for r in b.get("runs", []))) for b in blocks[:3]] == [
        ("par", "", "前言自定义元素的文字"), ("par", "", "正文"), ("par", "", "尾注")]
    assert blocks[3] == {"kind": "box", "class": "summary", "blocks": [
        {"kind": "par", "class": "summary", "runs": [{"t": "总体情况一"}]},
        {"kind": "par", "class": "summary", "runs": [{"t": "总体情况二"}]}]}


def cells_of(table: dict) -> dict[tuple[int, int], tuple[str, int, int]]:
    """(x, y) -> (text, colspan, rowspan)."""
    return {(c["x"], c["y"]): ("".join(r["t"] for r in c["runs"]), c["colspan"], c["rowspan"]) for c in table["cells"]}


def test_tables_keep_header_rows_highlights_and_spans():
    (table,) = pdf.blocks(page(
        "<table class='report-table ranking'><thead><tr><th>排名</th><th>单位</th><th>得分</th></tr></thead>"
        "<tbody><tr class='highlight'><td rowspan='2'>1</td><td>南湖办事处</td><td>90.5</td></tr>"
        "<tr><td>东湖办事处</td><td>90.5</td></tr><tr><td colspan='3'>合计</td></tr></tbody></table>"))
    assert (table["class"], table["columns"], table["header_rows"]) == ("ranking", 3, 1)
    assert cells_of(table) == {(0, 0): ("排名", 1, 1), (1, 0): ("单位", 1, 1), (2, 0): ("得分", 1, 1),
                               (0, 1): ("1", 1, 2), (1, 1): ("南湖办事处", 1, 1), (2, 1): ("90.5", 1, 1),
                               (1, 2): ("东湖办事处", 1, 1), (2, 2): ("90.5", 1, 1), (0, 3): ("合计", 3, 1)}
    assert [c["highlight"] for c in table["cells"] if c["y"] == 1] == [True, True, True]
    assert [c["header"] for c in table["cells"] if c["y"] == 0] == [True, True, True]
    assert [c["column"] for c in table["cells"] if c["y"] == 2] == [0, 1]  # as CSS nth-child counts


def test_a_short_row_never_pulls_up_the_next_rows_cells(tmp_path):
    (table,) = pdf.blocks(page("<table><tr><td>a1</td><td>b1</td><td>c1</td></tr><tr><td>d2</td></tr>"
                               "<tr><td>e3</td><td>f3</td><td>g3</td></tr></table>"))
    assert cells_of(table)[(0, 2)] == ("e3", 1, 1) and (1, 1) not in cells_of(table)
    lines = [line.split() for line in pdf_text(pdf.pdf_bytes(page(
        "<table><tr><td>a1</td><td>b1</td><td>c1</td></tr><tr><td>d2</td></tr>"
        "<tr><td>e3</td><td>f3</td><td>g3</td></tr></table>")), tmp_path).splitlines() if line.strip()]
    assert ["d2"] in lines and ["e3", "f3", "g3"] in lines


def test_spans_are_placed_as_a_browser_places_them():
    (table,) = pdf.blocks(page("<table><tr><td rowspan='2'>甲</td><td>乙</td></tr><tr><td>丙</td><td>丁</td></tr></table>"))
    assert table["columns"] == 3 and cells_of(table)[(1, 1)] == ("丙", 1, 1)  # 丙 sits right of 甲's second row
    (table,) = pdf.blocks(page("<table><tr><td rowspan='9'>甲</td></tr></table>"))
    assert cells_of(table) == {(0, 0): ("甲", 1, 1)}  # a rowspan ends with the table
    # A colspan that would run into a place held from above stops before it.
    (table,) = pdf.blocks(page("<table><tr><td>a</td><td rowspan='2'>b</td></tr><tr><td colspan='2.5'>c</td></tr></table>"))
    assert cells_of(table)[(0, 1)] == ("c", 1, 1)
    # A header rowspan ends with the header.
    (table,) = pdf.blocks(page("<table><thead><tr><th rowspan='3'>H</th><th>I</th></tr></thead>"
                               "<tbody><tr><td>x</td><td>y</td></tr></tbody></table>"))
    assert cells_of(table)[(0, 0)] == ("H", 1, 1) and cells_of(table)[(0, 1)] == ("x", 1, 1)
    assert table["header_rows"] == 1


def test_irregular_tables_still_print():
    for body in ["<table><tr><td>a</td><td>b</td></tr><tr><td>d</td></tr><tr><td colspan=3>e</td></tr></table>",
                 "<table><tr><td>a</td><td rowspan=2>b</td></tr><tr><td colspan=2>c</td></tr></table>",
                 "<table><thead><tr></tr><tr><th>H</th></tr></thead><tr><td>x</td></tr></table>",
                 "<table><tfoot><tr><td>脚</td></tr></tfoot><tbody><tr><td>身</td></tr></tbody></table>",
                 "<table><tr><td colspan=1000 rowspan=1000>大</td></tr></table>", "<table></table>"]:
        assert pdf.pdf_bytes(page(body)).startswith(b"%PDF"), body
    (table,) = pdf.blocks(page("<table><tfoot><tr><td>脚</td></tr></tfoot><tbody><tr><td>身</td></tr></tbody></table>"))
    assert cells_of(table) == {(0, 0): ("身", 1, 1), (0, 1): ("脚", 1, 1)}  # the foot prints last


def test_blocks_inside_a_cell_or_list_item_start_new_lines():
    (table,) = pdf.blocks(page("<table><tr><td><p>第一段</p><p>第二段</p></td><td>x<sup>3</sup></td></tr></table>"))
    assert cells_of(table)[(0, 0)][0] == "第一段\n第二段"
    assert [c["runs"] for c in table["cells"]][1] == [{"t": "x"}, {"t": "3", "sup": True}]
    (items,) = pdf.blocks(page("<ul><li>父<ul><li>子一</li><li>子二</li></ul></li></ul>"))
    assert ["".join(r["t"] for r in item) for item in items["items"]] == ["父\n子一\n子二"]


def test_captions_and_embedded_images_are_printed(tmp_path):
    import base64
    import io

    from PIL import Image

    png = io.BytesIO()
    Image.new("RGB", (30, 20), "red").save(png, format="PNG")
    uri = "data:image/png;base64," + base64.b64encode(png.getvalue()).decode()
    caption, _, figure, text = pdf.blocks(page(f"<table><caption>表一 说明</caption><tr><td>x</td></tr></table>"
                                               f"<div><img src='{uri}' alt='自画图'></div><p><img src='https://x.example/a.png' alt='远程图'></p>"))
    assert caption == {"kind": "par", "class": "note", "runs": [{"t": "表一 说明"}]}
    assert figure["kind"] == "figure" and 'viewBox="0 0 30 20"' in figure["svg"] and figure["label"] == "自画图"
    assert text["runs"] == [{"t": "远程图"}]  # nothing is fetched: its alt text instead
    assert pdf.pdf_bytes(page(f"<img src='{uri}'>")).startswith(b"%PDF")


def test_the_pdf_holds_every_text_and_no_character_is_read_as_markup(tmp_path):
    tricky = '#set page(width: 1cm) *粗* _斜_ $x$ [未闭合 \\ "引号" <b> @ref = 标题 // 注释 /* 块'
    data = pdf.pdf_bytes(page(
        f"<h1 class='report-title'>2020年12月 安全生产月度排名通报</h1><p class='report-issuer'>南湖新区安委办</p>"
        f"<p>{tricky.replace('<', '&lt;').replace('>', '&gt;')}</p>"
        "<table><thead><tr><th>单位</th><th>隐患编号</th></tr></thead>"
        "<tbody><tr><td>港口物流园管理处</td><td>YH-T07-202012-003</td></tr></tbody></table>"
        "<ul><li>第一项</li><li>第二项</li></ul>"))
    assert data.startswith(b"%PDF")
    text = re.sub(r"\s+", "", pdf_text(data, tmp_path))
    for expected in ["2020年12月安全生产月度排名通报", "南湖新区安委办", re.sub(r"\s+", "", tricky), "港口物流园管理处",
                     "YH-T07-202012-003", "第一项", "第二项"]:
        assert expected in text


def test_an_empty_page_is_a_one_page_pdf():
    data = pdf.pdf_bytes(page(""))
    assert data.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page(?![s\w])", data)) == 1
    assert pdf.blocks(page("  \n ")) == []


def test_white_space_follows_html_rules():
    (block,) = pdf.blocks(page("<p> <b> 首</b>  甲 <b> 乙</b>\u3000\u3000缩进&nbsp;&nbsp;x</p>"))
    assert "".join(r["t"] for r in block["runs"]) == "首 甲 乙\u3000\u3000缩进\u00a0\u00a0x"


def test_control_characters_and_odd_markup_give_a_pdf_not_a_traceback():
    for body in ['<p><a class="anchor-link">¶</a>\x0btail</p>', '<div class="screen-only">x</div>\x01tail',
                 '<svg width="10" height="10"><use xlink:href="#p"/></svg>', "\u2028行\u2029"]:
        assert pdf.pdf_bytes(page(body)).startswith(b"%PDF"), repr(body)
    assert pdf.blocks('<html class="screen-only"><body><p>x</p></body></html>') == []


def test_a_long_path_or_checksum_can_wrap_and_keeps_its_characters():
    path = "/tmp/perf6/wd/reports_sample/processed/" + "f" * 64
    (block,) = pdf.blocks(page(f"<p>{path}</p>"))
    text = block["runs"][0]["t"]
    assert text.replace("\u200b", "") == path and "\u200b" in text
    assert max(len(part) for part in text.split("\u200b")) <= 20
    (short,) = pdf.blocks(page("<p>110101199003071234</p>"))  # an id-length number is left whole
    assert short["runs"][0]["t"] == "110101199003071234"


def test_headings_are_bookmarks_and_the_title_is_the_pages(tmp_path):
    data = pdf.pdf_bytes("<html><head><title>A &amp; B</title></head><body><h2>一、总体情况</h2><p>x</p></body></html>")
    assert b"/Outlines" in data
    assert pdf.document("<html><head><title>A &amp; B</title></head><body><svg><title>图</title></svg></body></html>")[0] == "A & B"
