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


def test_tables_keep_header_rows_highlights_and_spans():
    (table,) = pdf.blocks(page(
        "<table class='report-table ranking'><thead><tr><th>排名</th><th>单位</th><th>得分</th></tr></thead>"
        "<tbody><tr class='highlight'><td rowspan='2'>1</td><td>南湖办事处</td><td>90.5</td></tr>"
        "<tr><td>东湖办事处</td><td>90.5</td></tr><tr><td colspan='3'>合计</td></tr><tr></tr></tbody></table>"))
    assert (table["class"], table["columns"], table["header_rows"]) == ("ranking", 3, 1)
    assert [row["highlight"] for row in table["rows"]] == [False, True, False, False]  # the empty row dropped
    assert [c["header"] for c in table["rows"][0]["cells"]] == [True, True, True]
    first = table["rows"][1]["cells"][0]
    assert (first["runs"], first["rowspan"], first["colspan"]) == ([{"t": "1"}], 2, 1)
    assert [c["runs"][0]["t"] for c in table["rows"][2]["cells"]] == ["东湖办事处", "90.5"]
    assert table["rows"][3]["cells"][0]["colspan"] == 3


def test_a_span_from_above_widens_the_grid():
    (table,) = pdf.blocks(page("<table><tr><td rowspan='2'>甲</td><td>乙</td></tr><tr><td>丙</td><td>丁</td></tr></table>"))
    assert table["columns"] == 3  # 丙 and 丁 sit right of 甲's second row
    assert pdf.blocks(page("<table><tr><td rowspan='9'>甲</td></tr></table>"))[0]["rows"][0]["cells"][0]["rowspan"] == 1


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
